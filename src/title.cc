// SPDX-License-Identifier: MIT
// setproctitle: into the kernel's title page where there is one, else by
// overwriting argv in place, as PostgreSQL and nginx do on Linux.

#include "detail.hpp"
#include "internal.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <pthread.h>
#include <sys/single_threaded.h>
#include <sched.h>
#include <unistd.h>

extern char **environ;

// Defined (hidden) by the preload shim only: its copy of the library must
// not move the environment of every program it is preloaded into.
extern "C" [[gnu::weak, gnu::visibility("hidden")]] const char kshare__preload_shim;

namespace kshare::detail {
namespace {

// ---- the argv area, as the kernel handed it over ----

// Where the argv strings and the environment strings after them lay when the
// process started. Found once, before main() (see capture_argv()); the
// program's argv[] and environ[] arrays are never consulted again, so a
// program that points argv[0] at a string of its own, or lets getopt()
// permute argv[], does not move the area.
struct argv_area {
	char *start = nullptr;	   // the first argv string
	std::size_t args = 0;	   // bytes of argv strings, NULs included
	std::size_t with_env = 0; // args, and the environment strings after them
	// Set at the first title (under argv_guard):
	bool claimed = false;
	bool title_set = false;
	std::size_t size = 0;	   // bytes the title may use
	char *original = nullptr; // the argv strings as they were at the claim
};
argv_area area;

bool environ_points_into(const char *begin, const char *end)
{
	for (char **e = environ; e && *e; e++)
		if (*e >= begin && *e < end)
			return true;
	return false;
}

// Copy the environment to the heap, so that its original strings, which
// lie after argv's, can carry a long title. Done before main(), as libbsd
// and PostgreSQL do at start-up: nobody holds a getenv() pointer into the
// original strings yet, and no other thread can be reading environ. One
// block, the array and the strings, kept for the life of the process (and
// reachable from here, for leak checkers: setenv() may replace the array).
char *moved_environ;

void move_environ()
{
	std::size_t n = 0, bytes = 0;
	for (; environ[n]; n++)
		bytes += std::strlen(environ[n]) + 1;
	const std::size_t array = (n + 1) * sizeof(char *);
	moved_environ = static_cast<char *>(std::malloc(array + bytes));
	if (!moved_environ)
		return;
	char **env = reinterpret_cast<char **>(moved_environ);
	char *strings = moved_environ + array;
	for (std::size_t i = 0; i < n; i++) {
		const std::size_t len = std::strlen(environ[i]) + 1;
		env[i] = static_cast<char *>(std::memcpy(strings, environ[i], len));
		strings += len;
	}
	env[n] = nullptr;
	environ = env;
}

// glibc passes argc, argv and envp to the functions in .init_array, in shared
// libraries and static programs alike.
[[gnu::used]] void capture_argv(int argc, char **argv, char **envp)
{
	environment_ready.store(true, std::memory_order_relaxed);
	if (area.start || argc < 1 || !argv || !argv[0])
		return;
	char *end = argv[0];
	for (int i = 0; i < argc && argv[i] == end; i++)
		end = argv[i] + std::strlen(argv[i]) + 1;
	const std::size_t args = static_cast<std::size_t>(end - argv[0]);
	for (int i = 0; envp && envp[i] && envp[i] == end; i++)
		end = envp[i] + std::strlen(envp[i]) + 1;
	area.start = argv[0];
	area.args = args;
	area.with_env = static_cast<std::size_t>(end - argv[0]);
	// The shim leaves the environment where it is: the title then has the
	// argv strings only, unless the program (or libbsd) moves it itself.
	if (!&kshare__preload_shim && area.with_env > args &&
	    environ_points_into(argv[0] + args, end))
		move_environ();
}
// Not const: the constructor below shares the (writable) section.
[[gnu::section(".init_array"), gnu::used]] void (*capture_argv_entry)(int, char **, char **) =
	capture_argv;

// Serialises this copy of the library's argv writers and readers, so that
// kshare_getproctitle() never returns half of one title and half of the
// next, and fork() (see before_fork()) never copies half a title. A mutex:
// its holders are only this library's own short critical sections (and
// fork()), so a wait always ends; neither function is async-signal-safe.
pthread_mutex_t argv_lock = PTHREAD_MUTEX_INITIALIZER;

bool lock_argv()
{
	return pthread_mutex_lock(&argv_lock) == 0;
}

void unlock_argv()
{
	pthread_mutex_unlock(&argv_lock);
}

// The page's counter, which the program itself can write, is never waited
// for without a bound (see lock_title()).
constexpr int lock_spins = 10000;

class argv_guard {
public:
	argv_guard() : held_(lock_argv()) {}
	~argv_guard()
	{
		if (held_)
			unlock_argv();
	}
	argv_guard(const argv_guard &) = delete;
	argv_guard &operator=(const argv_guard &) = delete;

private:
	bool held_;
};

// At the first title: how much may it use, and what to restore. The
// environment's strings only if no environ entry points into them any more.
bool claim_argv()
{
	if (area.claimed)
		return area.original != nullptr;
	area.claimed = true;
	if (!area.start)
		return false;
	// What ps shows now (the program may have blanked a password in its
	// arguments: restore that, not what exec passed).
	area.original = static_cast<char *>(std::malloc(area.args));
	if (!area.original)
		return false;
	std::memcpy(area.original, area.start, area.args);
	// glibc's program_invocation_name and _short_name point into argv[0]
	// (err(3), error(3) and the title's own prefix print them): give them
	// copies before the title overwrites it, as libbsd does.
	const char *end = area.start + area.with_env;
	if (program_invocation_name >= area.start && program_invocation_name < end) {
		if (char *name = strdup(program_invocation_name)) {
			const char *slash = std::strrchr(name, '/');
			program_invocation_short_name = slash ? const_cast<char *>(slash + 1) : name;
			program_invocation_name = name;
		}
	}
	area.size = area.args;
	if (area.with_env > area.args &&
	    !environ_points_into(area.start + area.args, area.start + area.with_env))
		area.size = area.with_env;
	return true;
}

// Under argv_guard, after claim_argv().
void write_argv_title(const char *title)
{
	if (!title) {
		std::memcpy(area.start, area.original, area.args);
		std::memset(area.start + area.args, 0, area.size - area.args);
		area.title_set = false;
		return;
	}
	const std::size_t n = std::min(std::strlen(title), area.size - 1);
	std::memcpy(area.start, title, n);
	// NULs after it: /proc/PID/cmdline then ends the title there.
	std::memset(area.start + n, 0, area.size - n);
	area.title_set = true;
}

void set_argv_title(const char *title)
{
	const argv_guard guard;

	if (claim_argv())
		write_argv_title(title);
}

// The arguments as ps shows them when no title is set: the argv strings
// joined by spaces. Return the length, at most @size - 1, NUL-terminated.
std::size_t joined_arguments(char *buf, std::size_t size)
{
	std::size_t n = std::min(area.args, size - 1);

	std::memcpy(buf, area.start, n);
	while (n && buf[n - 1] == '\0')
		n--;
	std::replace(buf, buf + n, '\0', ' ');
	buf[n] = '\0';
	return n;
}

// ---- the title page ----

// The title page's writers take its sequence counter from even to odd as a
// lock shared by every copy of the library in the process (the preload
// shim's and libkshare.so's); the kernel's reader and kshare_getproctitle()
// only read it. A counter left odd (a writer that died in a raw clone()
// child, a program that scribbles on its own page) is taken over after a
// bounded wait, always by moving it forward: the kernel's reader compares
// counters, and one that went backwards could pair two different titles.
constexpr int takeover_tries = 100;

std::uint32_t lock_title(kshare_title *t)
{
	std::uint32_t seq = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);

	for (int i = 0; i < lock_spins; i++) {
		if (!(seq & 1) && __atomic_compare_exchange_n(&t->seq, &seq, seq + 1, false,
							      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return seq + 1;
		if (i > 100)
			sched_yield();
		seq = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);
	}
	for (int i = 0; i < takeover_tries; i++) {
		const std::uint32_t next = seq + ((seq & 1) ? 2 : 1);
		if (__atomic_compare_exchange_n(&t->seq, &seq, next, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return next;
	}
	return 0; // somebody keeps rewriting it: leave the title alone
}

void unlock_title(kshare_title *t, std::uint32_t odd_seq)
{
	// Release pairs with the kernel's smp_load_acquire() of ->seq and with
	// the acquire in read_title_page(): the title is complete before the
	// counter is even again. A CAS, not a store: if a waiter took the lock
	// over meanwhile, the counter is its to end, and must not go back.
	__atomic_compare_exchange_n(&t->seq, &odd_seq, odd_seq + 1, false, __ATOMIC_RELEASE,
				    __ATOMIC_RELAXED);
}

// The title bytes are read while a writer may be storing them: every access
// on both sides is a relaxed atomic, and the counter decides what counts.
// Stores go a word at a time where the page is aligned (the title starts
// 8-byte aligned), so a 64-byte title is 8 stores, not 64.
void store_racy(char *dst, const char *src, std::size_t n)
{
	std::size_t i = 0;

	for (; i < n && reinterpret_cast<std::uintptr_t>(dst + i) % 8; i++)
		__atomic_store_n(&dst[i], src[i], __ATOMIC_RELAXED);
	for (; i + 8 <= n; i += 8) {
		std::uint64_t w;
		std::memcpy(&w, src + i, 8);
		__atomic_store_n(reinterpret_cast<std::uint64_t *>(dst + i), w, __ATOMIC_RELAXED);
	}
	for (; i < n; i++)
		__atomic_store_n(&dst[i], src[i], __ATOMIC_RELAXED);
}

void load_racy(char *dst, const char *src, std::size_t n)
{
	for (std::size_t i = 0; i < n; i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

// A title given as up to three pieces ("progname", ": ", the argument), so
// that the common "%s" and "-%s" forms go to the page without a copy.
struct title_pieces {
	const char *text[3];
	std::size_t len[3];
	int n;
};

// This copy of the library's writers, serialised here before they take the
// page's counter: so that fork() can wait for a title being written (see
// before_fork()) without holding the page's counter odd, which would make
// the kernel's copy of the title for the child fail. A mutex, as argv_lock.
pthread_mutex_t title_lock = PTHREAD_MUTEX_INITIALIZER;

bool lock_writers()
{
	return pthread_mutex_lock(&title_lock) == 0;
}

void unlock_writers()
{
	pthread_mutex_unlock(&title_lock);
}

// Take the writers' locks. With one thread in the process no other writer
// can run (setproctitle() is not async-signal-safe, and fork() is not
// called from inside it), so a plain store of the odd counter does, and an
// uncontended title costs no atomic read-modify-write; else this copy's
// lock, then the page's CAS lock. Return the odd counter, 0 if the page
// could not be had (see lock_title()).
struct title_write {
	bool alone = false;
	bool writers = false;
};

std::uint32_t begin_title_write(kshare_title *t, title_write &w)
{
	w.alone = __libc_single_threaded;
	if (w.alone) {
		const std::uint32_t seq = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);
		if (!(seq & 1)) {
			__atomic_store_n(&t->seq, seq + 1, __ATOMIC_RELAXED);
			// Pairs with the acquire of the kernel's and getproctitle()'s
			// second read of ->seq: the odd counter is seen before any
			// byte of the new title.
			std::atomic_thread_fence(std::memory_order_release);
			return seq + 1;
		}
		w.alone = false; // left odd: the bounded takeover below
	}
	w.writers = lock_writers();
	const std::uint32_t seq = lock_title(t);
	if (!seq && w.writers)
		unlock_writers();
	return seq;
}

void end_title_write(kshare_title *t, std::uint32_t seq, const title_write &w)
{
	if (w.alone) {
		// Release pairs with the readers' acquire of ->seq.
		__atomic_store_n(&t->seq, seq + 1, __ATOMIC_RELEASE);
		return;
	}
	unlock_title(t, seq);
	if (w.writers)
		unlock_writers();
}

void write_title_page(kshare_title *t, std::size_t capacity, const title_pieces *title)
{
	title_write w;
	const std::uint32_t seq = begin_title_write(t, w);

	if (!seq)
		return;
	std::size_t len = 0;
	if (title) {
		for (int i = 0; i < title->n && len < capacity - 1; i++) {
			const std::size_t n = std::min(title->len[i], capacity - 1 - len);
			store_racy(t->title + len, title->text[i], n);
			len += n;
		}
		__atomic_store_n(&t->title[len], '\0', __ATOMIC_RELAXED);
	}
	__atomic_store_n(&t->len, static_cast<std::uint32_t>(len), __ATOMIC_RELAXED);
	__atomic_store_n(&t->flags, title ? KSHARE_TITLE_SET : 0u, __ATOMIC_RELAXED);
	end_title_write(t, seq, w);
}

void write_title_page(kshare_title *t, std::size_t capacity, const char *title)
{
	const title_pieces one{{title}, {std::strlen(title)}, 1};
	write_title_page(t, capacity, &one);
}

// No title: /proc/PID/cmdline shows the arguments again.
void clear_title_page(kshare_title *t)
{
	write_title_page(t, 0, static_cast<const title_pieces *>(nullptr));
}

// A consistent copy of the title in @t into @buf (@size bytes), read under
// the sequence counter without writing to the page, so that a busy reader
// never makes the kernel's reader give up. Return whether a title is set;
// -1 if no consistent copy could be had (a writer that never stops).
constexpr int read_tries = 1000;

int read_title_page(const kshare_title *t, std::size_t capacity, char *buf, std::size_t size)
{
	const std::size_t cap = std::min(capacity, size);

	for (int i = 0; i < read_tries; i++) {
		const std::uint32_t seq = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE);
		if (seq & 1) {
			if (i > 100)
				sched_yield();
			continue;
		}
		const bool set = __atomic_load_n(&t->flags, __ATOMIC_RELAXED) & KSHARE_TITLE_SET;
		const std::size_t len =
			std::min<std::size_t>(__atomic_load_n(&t->len, __ATOMIC_RELAXED), cap - 1);
		if (set)
			load_racy(buf, t->title, len);
		// Pairs with the release in unlock_title().
		std::atomic_thread_fence(std::memory_order_acquire);
		if (__atomic_load_n(&t->seq, __ATOMIC_RELAXED) != seq)
			continue;
		const std::size_t n = set ? strnlen(buf, len) : 0;
		buf[n] = '\0';
		return set;
	}
	return -1;
}

// fork() while another thread writes the title: the kernel copies the title
// for the child only if the page is stable, and the argv fallback's strings
// are copied as they are. The handlers make fork() wait for a write in
// progress, in this copy of the library, and hold off new ones until the
// child exists; the page's counter stays even throughout.
bool fork_writers_locked;
bool fork_argv_locked;

void before_fork()
{
	fork_writers_locked = lock_writers();
	fork_argv_locked = lock_argv();
}

void after_fork()
{
	if (fork_argv_locked)
		unlock_argv();
	if (fork_writers_locked)
		unlock_writers();
}

[[gnu::constructor]] void register_fork_handlers()
{
	pthread_atfork(before_fork, after_fork, after_fork);
}

} // namespace

std::atomic<bool> environment_ready{false};

void carry_title_over(kshare_title *t, std::size_t capacity)
{
	char buf[4096];

	if (read_title_page(t, capacity, buf, sizeof(buf)) != 1)
		return;
	// argv first, then the page: ps never falls back to the old argv.
	set_argv_title(buf);
	clear_title_page(t);
}

// The common "%s" and "-%s" as up to three pieces ("progname", ": ", the
// argument), with no trip through printf: false for any other format. Takes
// the argument from @ap, which its caller does not use again (a va_copy()
// read the va_list just written by va_start() with a wider load than its
// stores: a forwarding stall that cost half of setproctitle()).
static bool plain_title(const char *fmt, va_list ap, title_pieces &pieces)
{
	const bool bare = fmt[0] == '-';
	const char *body = bare ? fmt + 1 : fmt;

	if (body[0] != '%' || body[1] != 's' || body[2] != '\0')
		return false;
	const char *arg = va_arg(ap, const char *);
	pieces = {};
	if (!bare) {
		pieces.text[pieces.n] = program_invocation_short_name;
		pieces.len[pieces.n++] = std::strlen(program_invocation_short_name);
		pieces.text[pieces.n] = ": ";
		pieces.len[pieces.n++] = 2;
	}
	pieces.text[pieces.n] = arg ? arg : "(null)";
	pieces.len[pieces.n] = std::strlen(pieces.text[pieces.n]);
	pieces.n++;
	return true;
}

// "progname: " and @fmt formatted, or @fmt alone if it starts with '-', into
// @buf (@size bytes, NUL-terminated).
static const char *format_title(char *buf, std::size_t size, const char *fmt, va_list ap)
{
	title_pieces pieces;
	std::size_t n = 0;

	if (plain_title(fmt, ap, pieces)) {
		for (int i = 0; i < pieces.n; i++) {
			const std::size_t len = std::min(pieces.len[i], size - 1 - n);
			std::memcpy(buf + n, pieces.text[i], len);
			n += len;
		}
		buf[n] = '\0';
		return buf;
	}
	if (fmt[0] != '-') {
		// snprintf() returns the length it wanted: a program name of
		// 4 KiB (exec -a) must not push the title off the end.
		const int prefix = std::snprintf(buf, size, "%s: ", program_invocation_short_name);
		n = prefix < 0 ? 0 : std::min<std::size_t>(prefix, size - 1);
	}
	std::vsnprintf(buf + n, size - n, fmt[0] == '-' ? fmt + 1 : fmt, ap);
	return buf;
}

} // namespace kshare::detail

using namespace kshare::detail;

extern "C" {

void kshare_vsetproctitle(const char *fmt, va_list ap)
{
	char buf[4096];
	std::size_t cap;

	// The first title maps the title page; clearing one needs no page
	// unless a title is on it.
	if (kshare_title *t = title_record(&cap, fmt != nullptr)) {
		title_pieces pieces;
		if (!fmt)
			clear_title_page(t);
		else if (plain_title(fmt, ap, pieces))
			// The pieces go to the page as they are, within what a
			// formatted title may hold.
			write_title_page(t, std::min(cap, sizeof(buf)), &pieces);
		else
			write_title_page(t, cap, format_title(buf, sizeof(buf), fmt, ap));
		return;
	}
	// The argv area is claimed before the title is formatted: the claim
	// moves the program's name, which the "progname: " prefix reads, out
	// of the strings the title is about to overwrite.
	const argv_guard guard;
	if (claim_argv())
		write_argv_title(fmt ? format_title(buf, sizeof(buf), fmt, ap) : nullptr);
}

void kshare_setproctitle(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kshare_vsetproctitle(fmt, ap);
	va_end(ap);
}

ssize_t kshare_getproctitle(char *buf, size_t size)
{
	char title[4096];
	std::size_t len = 0;
	std::size_t cap;
	kshare_title *t = title_record(&cap, false);
	int set = 0;

	if (t) {
		set = read_title_page(t, cap, title, sizeof(title));
		if (set < 0 && lock_writers()) {
			// A writer that never let go (preempted mid-title, or
			// writing in a loop): hold this copy's writers off and try
			// again. Never the page's counter: held odd, it would fail
			// this very read.
			set = read_title_page(t, cap, title, sizeof(title));
			unlock_writers();
		}
		len = set > 0 ? std::strlen(title) : 0;
	}
	if (set <= 0 && area.start) {
		const argv_guard guard;
		if (!t && area.title_set) {
			len = strnlen(area.start, std::min(area.size, sizeof(title) - 1));
			std::memcpy(title, area.start, len);
		} else {
			len = joined_arguments(title, sizeof(title));
		}
	}
	title[len] = '\0';
	if (size) {
		const std::size_t n = std::min(len, size - 1);
		std::memcpy(buf, title, n);
		buf[n] = '\0';
	}
	return static_cast<ssize_t>(len);
}

} // extern "C"
