// SPDX-License-Identifier: MIT
// kshare for C++: the C API of <kshare/kshare.h> in namespace kshare.
//
// Header-only, C++20. Each function is an inline wrapper over the C call and
// gives the same answer. All are noexcept: none can fail in a way worth an
// exception (only the std::string overload of getproctitle() allocates).
// Getters are [[nodiscard]].
//
//   pid_t kshare::getpid(), getppid(), gettid(), getpgrp(), getsid(pid = 0)
//   uid_t kshare::getuid(), geteuid();  gid_t kshare::getgid(), getegid()
//   kshare::resids<uid_t> kshare::getresuid(); resids<gid_t> getresgid()
//   kshare::uts_string kshare::hostname(), domainname()
//   ::utsname kshare::uname();  int kshare::get_nprocs()
//   std::uint64_t kshare::uts_generation(), mm_id();  void kshare::detach()
//   kshare::setproctitle("-worker %d", n)  // printf format, checked at compile time
//   kshare::setproctitle(std::string_view title)  // verbatim, no "progname: "
//   kshare::setproctitle(nullptr)  // the original arguments again
//   kshare::vsetproctitle(fmt, ap)  // for printf-style wrappers
//   std::size_t kshare::getproctitle(std::span<char>); std::string getproctitle()
//   bool kshare::available(kshare::feature::uts | kshare::feature::nprocs)
#ifndef KSHARE_KSHARE_HPP
#define KSHARE_KSHARE_HPP

#include <kshare/kshare.h>

#include <algorithm>
#include <climits>
#include <compare>
#include <concepts>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <sys/utsname.h>

namespace kshare {

// ---- what the kernel maintains --------------------------------------------

enum class feature : std::uint64_t;
namespace detail {
constexpr std::uint64_t bits(feature f) noexcept { return static_cast<std::uint64_t>(f); }
} // namespace detail

/// The KSHARE_FEATURE_* bits of <kshare/uapi.h>; combine them with | and &.
enum class feature : std::uint64_t {
	none = 0,
	pid = KSHARE_FEATURE_PROC_PID,
	ppid = KSHARE_FEATURE_PROC_PPID,
	pgid_sid = KSHARE_FEATURE_PROC_PGID_SID,
	creds = KSHARE_FEATURE_PROC_CREDS,
	tid_cache = KSHARE_FEATURE_PROC_TID_CACHE,
	uts = KSHARE_FEATURE_UTS,
	nprocs = KSHARE_FEATURE_NPROCS,
	title = KSHARE_FEATURE_TITLE,
	/// Every bit above.
	all = KSHARE_FEATURE_PROC_PID | KSHARE_FEATURE_PROC_PPID | KSHARE_FEATURE_PROC_PGID_SID |
	      KSHARE_FEATURE_PROC_CREDS | KSHARE_FEATURE_PROC_TID_CACHE | KSHARE_FEATURE_UTS |
	      KSHARE_FEATURE_NPROCS | KSHARE_FEATURE_TITLE,
};

[[nodiscard]] constexpr feature operator|(feature a, feature b) noexcept
{
	return feature{detail::bits(a) | detail::bits(b)};
}
[[nodiscard]] constexpr feature operator&(feature a, feature b) noexcept
{
	return feature{detail::bits(a) & detail::bits(b)};
}
/// The complement within feature::all.
[[nodiscard]] constexpr feature operator~(feature a) noexcept
{
	return feature{~detail::bits(a) & detail::bits(feature::all)};
}
constexpr feature &operator|=(feature &a, feature b) noexcept { return a = a | b; }
constexpr feature &operator&=(feature &a, feature b) noexcept { return a = a & b; }

/// True if the running kernel maintains every feature in @p set (with
/// feature::none: if it has kshare at all). False on a kernel without
/// kshare, where every call is the system call.
[[nodiscard]] inline bool available(feature set) noexcept
{
	return ::kshare_available(detail::bits(set)) != 0;
}

// ---- the process page -----------------------------------------------------

[[nodiscard]] inline pid_t getpid() noexcept { return ::kshare_getpid(); }
[[nodiscard]] inline pid_t getppid() noexcept { return ::kshare_getppid(); }
[[nodiscard]] inline pid_t gettid() noexcept { return ::kshare_gettid(); }
[[nodiscard]] inline pid_t getpgrp() noexcept { return ::kshare_getpgrp(); }
/// getsid(2): -1 and errno for another process's @p pid that it may not see.
[[nodiscard]] inline pid_t getsid(pid_t pid = 0) noexcept { return ::kshare_getsid(pid); }
[[nodiscard]] inline uid_t getuid() noexcept { return ::kshare_getuid(); }
[[nodiscard]] inline uid_t geteuid() noexcept { return ::kshare_geteuid(); }
[[nodiscard]] inline gid_t getgid() noexcept { return ::kshare_getgid(); }
[[nodiscard]] inline gid_t getegid() noexcept { return ::kshare_getegid(); }

/// Real, effective and saved ids, from one consistent read.
template <class Id>
struct resids {
	Id real;
	Id effective;
	Id saved;

	friend constexpr bool operator==(const resids &, const resids &) = default;
};

/// getresuid(2), getresgid(2): they cannot fail with valid storage.
[[nodiscard]] inline resids<uid_t> getresuid() noexcept
{
	resids<uid_t> r{};
	::kshare_getresuid(&r.real, &r.effective, &r.saved);
	return r;
}
[[nodiscard]] inline resids<gid_t> getresgid() noexcept
{
	resids<gid_t> r{};
	::kshare_getresgid(&r.real, &r.effective, &r.saved);
	return r;
}

// ---- the system page: one per UTS namespace -------------------------------

/// A host or domain name: at most KSHARE_UTS_LEN - 1 bytes, NUL-terminated,
/// held inline (no allocation). Converts to std::string_view.
class uts_string {
public:
	static constexpr std::size_t capacity = KSHARE_UTS_LEN - 1;

	constexpr uts_string() noexcept = default;
	/// The first capacity bytes of @p s, up to its first NUL.
	constexpr explicit uts_string(std::string_view s) noexcept
	{
		s = s.substr(0, std::min(s.find('\0'), capacity));
		s.copy(buf_, s.size());
		len_ = static_cast<std::uint8_t>(s.size());
	}

	[[nodiscard]] constexpr const char *c_str() const noexcept { return buf_; }
	[[nodiscard]] constexpr const char *data() const noexcept { return buf_; }
	[[nodiscard]] constexpr std::size_t size() const noexcept { return len_; }
	[[nodiscard]] constexpr bool empty() const noexcept { return len_ == 0; }
	[[nodiscard]] constexpr const char *begin() const noexcept { return buf_; }
	[[nodiscard]] constexpr const char *end() const noexcept { return buf_ + len_; }
	[[nodiscard]] constexpr std::string_view view() const noexcept { return {buf_, len_}; }
	constexpr operator std::string_view() const noexcept { return view(); }

	friend constexpr bool operator==(const uts_string &a, const uts_string &b) noexcept
	{
		return a.view() == b.view();
	}
	friend constexpr std::strong_ordering operator<=>(const uts_string &a,
							   const uts_string &b) noexcept
	{
		return a.view() <=> b.view();
	}
	friend constexpr bool operator==(const uts_string &a, std::string_view b) noexcept
	{
		return a.view() == b;
	}
	friend constexpr std::strong_ordering operator<=>(const uts_string &a,
							   std::string_view b) noexcept
	{
		return a.view() <=> b;
	}

private:
	char buf_[KSHARE_UTS_LEN] = {};
	std::uint8_t len_ = 0;
};

namespace detail {
inline uts_string uts_name(int (*get)(char *, std::size_t)) noexcept
{
	char buf[KSHARE_UTS_LEN] = {};

	// With room for any name, only a failing uname(2) (a seccomp filter,
	// say) makes these fail: the name is then empty.
	if (get(buf, sizeof(buf)) != 0)
		return uts_string{};
	return uts_string{std::string_view{buf, ::strnlen(buf, sizeof(buf))}};
}
} // namespace detail

/// gethostname(2): the UTS namespace's host name.
[[nodiscard]] inline uts_string hostname() noexcept
{
	return detail::uts_name(::kshare_gethostname);
}
/// getdomainname(2): the UTS namespace's NIS domain name.
[[nodiscard]] inline uts_string domainname() noexcept
{
	return detail::uts_name(::kshare_getdomainname);
}

/// uname(2) as a value (all zeroes in the unlikely case uname(2) fails).
[[nodiscard]] inline ::utsname uname() noexcept
{
	::utsname u{};

	if (::kshare_uname(&u) != 0)
		u = ::utsname{};
	return u;
}

/// get_nprocs(3): the number of online CPUs.
[[nodiscard]] inline int get_nprocs() noexcept { return ::kshare_get_nprocs(); }

/// Changes whenever the host name, domain name or CPU count changes; 0 when
/// the page cannot vouch for them.
[[nodiscard]] inline std::uint64_t uts_generation() noexcept
{
	return ::kshare_uts_generation();
}

/// An id of this address space: equal non-zero values mean the same one, so
/// a change means a fork() child; 0 where the kernel gives none.
[[nodiscard]] inline std::uint64_t mm_id() noexcept { return ::kshare_mm_id(); }

/// Stop reading the pages, for good: every call is the system call from now.
inline void detach() noexcept { ::kshare_detach(); }

// ---- the process title ------------------------------------------------------

/// setproctitle() with a va_list, for printf-style wrappers of your own:
/// "progname: " and @p fmt formatted, without the prefix if @p fmt starts
/// with '-'; @p fmt NULL restores the original arguments.
__attribute__((format(printf, 1, 0))) inline void vsetproctitle(const char *fmt,
								 std::va_list ap) noexcept
{
	::kshare_vsetproctitle(fmt, ap);
}

namespace detail {

// What a printf conversion can be checked against.
enum class arg_kind : unsigned char {
	int_,	     // promotes to int or unsigned int (bool, char, short, enum ...)
	long_,	     // long, unsigned long
	llong,	     // long long, unsigned long long
	dbl,	     // float, double
	ldbl,	     // long double
	cstr,	     // pointer to char
	wstr,	     // pointer to wchar_t
	ptr,	     // any other pointer
	null,	     // std::nullptr_t
	string,	     // std::string, passed as c_str()
	string_view, // not NUL-terminated: refused
	other,
};

template <class A>
consteval arg_kind classify() noexcept
{
	using T = std::decay_t<A>;

	if constexpr (std::is_same_v<T, std::nullptr_t>) {
		return arg_kind::null;
	} else if constexpr (std::is_same_v<T, std::string>) {
		return arg_kind::string;
	} else if constexpr (std::is_same_v<T, std::string_view>) {
		return arg_kind::string_view;
	} else if constexpr (std::is_floating_point_v<T>) {
		return std::is_same_v<T, long double> ? arg_kind::ldbl : arg_kind::dbl;
	} else if constexpr (std::is_pointer_v<T>) {
		using P = std::remove_cv_t<std::remove_pointer_t<T>>;
		if constexpr (std::is_same_v<P, char>)
			return arg_kind::cstr;
		else if constexpr (std::is_same_v<P, wchar_t>)
			return arg_kind::wstr;
		else
			return arg_kind::ptr;
	} else if constexpr ((std::is_integral_v<T> || std::is_enum_v<T>) &&
			     requires(T v) { +v; }) {
		// Unary plus promotes as passing through "..." does; a scoped
		// enum has none and is refused.
		using P = std::make_signed_t<decltype(+std::declval<T>())>;
		if constexpr (std::is_same_v<P, int>)
			return arg_kind::int_;
		else if constexpr (std::is_same_v<P, long>)
			return arg_kind::long_;
		else if constexpr (std::is_same_v<P, long long>)
			return arg_kind::llong;
		else
			return arg_kind::other;
	} else {
		return arg_kind::other;
	}
}

// Not constexpr: calling it from the check below is the compile error, and
// the line of the call, shown with the error, says what is wrong.
inline void format_error(const char *) noexcept {}

consteval bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// The printf format @p f against the argument kinds @p kinds[0, n).
consteval void check_format(const char *f, const arg_kind *kinds, std::size_t n) noexcept
{
	std::size_t arg = 0;
	const auto next = [&]() {
		if (arg == n)
			format_error("kshare::setproctitle: too few arguments for the format");
		return kinds[arg++];
	};

	for (const char *p = f; *p; p++) {
		if (*p != '%')
			continue;
		if (*++p == '%')
			continue;
		while (*p == '-' || *p == '+' || *p == ' ' || *p == '#' || *p == '0' || *p == '\'')
			p++;
		if (*p == '*') {
			if (next() != arg_kind::int_)
				format_error("kshare::setproctitle: a '*' width takes an int");
			p++;
		}
		while (is_digit(*p))
			p++;
		if (*p == '$')
			format_error("kshare::setproctitle: positional arguments (%n$) are not supported");
		if (*p == '.') {
			if (*++p == '*') {
				if (next() != arg_kind::int_)
					format_error("kshare::setproctitle: a '*' precision takes an int");
				p++;
			}
			while (is_digit(*p))
				p++;
		}

		enum { none, hh, h, l, ll, j, z, t, L } len = none;
		switch (*p) {
		case 'h': len = p[1] == 'h' ? (p++, hh) : h; p++; break;
		case 'l': len = p[1] == 'l' ? (p++, ll) : l; p++; break;
		case 'q': len = ll; p++; break;
		case 'j': len = j; p++; break;
		case 'z': len = z; p++; break;
		case 't': len = t; p++; break;
		case 'L': len = L; p++; break;
		default: break;
		}

		switch (*p) {
		case 'd': case 'i': case 'o': case 'u': case 'x': case 'X': {
			arg_kind want = arg_kind::int_;
			if (len == l)
				want = arg_kind::long_;
			else if (len == ll)
				want = arg_kind::llong;
			else if (len == j)
				want = classify<std::intmax_t>();
			else if (len == z)
				want = classify<std::size_t>();
			else if (len == t)
				want = classify<std::ptrdiff_t>();
			else if (len == L)
				format_error("kshare::setproctitle: 'L' is for floating-point conversions");
			if (next() != want)
				format_error("kshare::setproctitle: the argument of an integer conversion is not an integer of its size (see its length modifier)");
			break;
		}
		case 'c':
			if ((len != none && len != l) || next() != arg_kind::int_)
				format_error("kshare::setproctitle: %c takes a character (an int)");
			break;
		case 's': {
			const arg_kind k = next();
			if (k == arg_kind::string_view)
				format_error("kshare::setproctitle: %s takes a NUL-terminated string; pass a std::string_view with %.*s, (int)sv.size(), sv.data()");
			if (len == l ? k != arg_kind::wstr
				     : len != none || (k != arg_kind::cstr && k != arg_kind::string))
				format_error("kshare::setproctitle: %s takes a const char * or a std::string (%ls a const wchar_t *)");
			break;
		}
		case 'p': {
			const arg_kind k = next();
			if (len != none || (k != arg_kind::ptr && k != arg_kind::cstr &&
					    k != arg_kind::wstr && k != arg_kind::null))
				format_error("kshare::setproctitle: %p takes a pointer");
			break;
		}
		case 'a': case 'A': case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
			if (next() != (len == L ? arg_kind::ldbl : arg_kind::dbl) ||
			    (len != none && len != l && len != L))
				format_error("kshare::setproctitle: a floating-point conversion takes a double (with L, a long double)");
			break;
		case 'm':
			break;
		case 'n':
			format_error("kshare::setproctitle: %n is not allowed");
			break;
		case '\0':
			format_error("kshare::setproctitle: the format ends inside a conversion");
			return;
		default:
			format_error("kshare::setproctitle: unknown conversion in the format");
		}
	}
	if (arg != n)
		format_error("kshare::setproctitle: more arguments than the format uses");
}

template <class... Args>
consteval void check_format(const char *f) noexcept
{
	constexpr arg_kind kinds[] = {classify<Args>()..., arg_kind::other};

	for (std::size_t i = 0; i < sizeof...(Args); i++)
		if (kinds[i] == arg_kind::other)
			format_error("kshare::setproctitle: an argument printf cannot take (a class, a scoped enum, ...)");
	check_format(f, kinds, sizeof...(Args));
}

// What goes through "...": std::string as its C string, the rest as is.
inline const char *printf_arg(const std::string &s) noexcept { return s.c_str(); }
template <class T>
constexpr const T &printf_arg(const T &v) noexcept
{
	return v;
}

__attribute__((format(printf, 1, 2))) inline void printf_title(const char *fmt, ...) noexcept
{
	std::va_list ap;

	va_start(ap, fmt);
	vsetproctitle(fmt, ap);
	va_end(ap);
}

} // namespace detail

/// A printf format string checked at compile time against the argument
/// types, as std::format_string is for std::format.
template <class... Args>
class basic_format_string {
public:
	consteval basic_format_string(const char *fmt) noexcept : fmt_(fmt)
	{
		detail::check_format<Args...>(fmt);
	}
	[[nodiscard]] constexpr const char *get() const noexcept { return fmt_; }

private:
	const char *fmt_;
};
template <class... Args>
using format_string = basic_format_string<std::type_identity_t<Args>...>;

/// setproctitle(3): "progname: " and the formatted title, or no prefix if
/// @p fmt starts with '-'. The format is printf's, checked at compile time:
/// a conversion that does not match its argument, too few or too many
/// arguments, %n, or a format that is not a constant do not compile.
/// Arguments: integers, floating point, pointers, const char * and
/// std::string for %s.
#pragma GCC diagnostic push
// The format is a constant, checked above; it just is not a literal here.
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"
template <class... Args>
inline void setproctitle(format_string<Args...> fmt, Args &&...args) noexcept
{
	detail::printf_title(fmt.get(), detail::printf_arg(args)...);
}
#pragma GCC diagnostic pop

/// The title exactly as given, up to a NUL in it: no "progname: " prefix, no
/// formatting. For std::string, std::string_view and the like (a string
/// literal or a const char * goes to the formatted overload).
template <class S>
	requires std::convertible_to<const S &, std::string_view> && (!std::is_array_v<S>) &&
		 (!std::is_pointer_v<S>)
inline void setproctitle(const S &title) noexcept
{
	const std::string_view t = title;

	::kshare_setproctitle("-%.*s", static_cast<int>(std::min<std::size_t>(t.size(), INT_MAX)),
			      t.data());
}

/// Back to the original arguments.
inline void setproctitle(std::nullptr_t) noexcept { ::kshare_setproctitle(nullptr); }

/// The current title (the arguments joined by spaces when none was set) in
/// @p buf, NUL-terminated and truncated to fit. Return: the title's full
/// length, as snprintf() returns it; a result >= buf.size() means truncated.
[[nodiscard]] inline std::size_t getproctitle(std::span<char> buf) noexcept
{
	return static_cast<std::size_t>(::kshare_getproctitle(buf.data(), buf.size()));
}

/// The current title, whole.
[[nodiscard]] inline std::string getproctitle()
{
	std::string title(255, '\0');

	// A title that grows between two calls takes another round.
	for (int round = 0;; round++) {
		// The buffer includes the string's own terminator.
		const std::size_t n = getproctitle(std::span<char>(title.data(), title.size() + 1));
		if (n <= title.size() || round == 8) {
			title.resize(std::min(n, title.size()));
			return title;
		}
		title.resize(n);
	}
}

} // namespace kshare

#endif // KSHARE_KSHARE_HPP
