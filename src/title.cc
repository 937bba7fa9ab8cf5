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

// The page is a latch (<kshare/uapi.h>, the kernel's
// raw_write_seqcount_latch()): two slots and a counter whose lowest bit
// says which slot a reader takes. The writer makes the counter odd and
// writes slot 0 while readers take slot 1, then makes it even and writes
// slot 1 while readers take slot 0, with a release fence before and after
// each move of the counter. So a reader (the kernel's, for
// /proc/PID/cmdline, and kshare_getproctitle()) never waits for a writer
// and never copies a slot being written; it only tries again when the
// counter moved during its copy.
//
// The counter is also the lock between the writers of every copy of the
// library in the process (the preload shim's, libkshare.so's, static
// ones): this library's writers end a write by moving it on from even to
// the next multiple of 4, so that its value modulo 4, its phase, says
// whether a write is under way: 0 nobody writes; 1 slot 0 is being
// written; 2 slot 1 is. A writer takes the page by moving the counter from
// phase 0 to 1 with a CAS. The kernel looks at the lowest bit only.
constexpr std::uint32_t phase(std::uint32_t seq)
{
	return seq & 3;
}

// Bytes of title in one slot, its NUL included.
constexpr std::size_t title_capacity = KSHARE_TITLE_LEN;

// A counter that stays out of phase 0 (a writer that died in a raw clone()
// child, a program that scribbles on its own page, another copy's writer
// preempted for longer than the wait) is taken over after a bounded wait.
// It keeps no reader from a title meanwhile: readers take the slot nobody
// writes. The taker continues from where the counter is, always moving it
// forward (a counter that came back to a value a reader saw could make the
// reader keep a copy that a write overlapped), to the next value of the
// phase it is to write in. From phase 0, phase 1: slot 0 to write. From
// phase 1, phase 1 again: slot 0 to write, readers staying on slot 1,
// which is whole. From phase 2, phase 2 again: slot 1 to write first,
// readers staying on slot 0. From phase 3, which no writer of this library
// leaves, phase 1.
constexpr std::uint32_t claim_value(std::uint32_t seq)
{
	return seq + (phase(seq) == 0 ? 1 : phase(seq) == 3 ? 2 : 4);
}

constexpr int takeover_tries = 100;

// Take the page for a write (phase 0 to 1), waiting a bounded time for
// another copy's writer; then take it over (see claim_value()). Return the
// counter's new value, 0 if somebody keeps rewriting it: leave the title
// alone then. Acquire: the last writer's stores to the slots come before
// this one's; release: the fence the header asks for before the counter
// moves.
std::uint32_t lock_title(kshare_title *t)
{
	std::uint32_t seq = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);

	for (int i = 0; i < lock_spins; i++) {
		if (phase(seq) == 0 && __atomic_compare_exchange_n(&t->seq, &seq, seq + 1, false,
								   __ATOMIC_ACQ_REL,
								   __ATOMIC_RELAXED))
			return seq + 1;
		if (i > 100)
			sched_yield();
		seq = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);
	}
	for (int i = 0; i < takeover_tries; i++) {
		const std::uint32_t next = claim_value(seq);
		if (__atomic_compare_exchange_n(&t->seq, &seq, next, false, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			return next;
	}
	return 0;
}

// The title bytes are read while a writer may be storing them (another
// copy's, or a program's own): every access on both sides is a relaxed
// atomic, and the counter decides what counts. Stores go a word at a time
// where the slot is aligned: slot 0's title starts 8-byte aligned, slot
// 1's 4 bytes past that, so a 64-byte title is 8 stores in one slot and 9
// in the other, not 64.
template <typename T> void store_piece(char *dst, const char *src)
{
	T v;
	std::memcpy(&v, src, sizeof(v));
	__atomic_store_n(reinterpret_cast<T *>(dst), v, __ATOMIC_RELAXED);
}

void store_racy(char *dst, const char *src, std::size_t n)
{
	std::size_t i = 0;

	if (reinterpret_cast<std::uintptr_t>(dst) % 8 == 4 && n >= 4) {
		store_piece<std::uint32_t>(dst, src);
		i = 4;
	}
	for (; i < n && reinterpret_cast<std::uintptr_t>(dst + i) % 8; i++)
		store_piece<std::uint8_t>(dst + i, src + i);
	for (; i + 8 <= n; i += 8)
		store_piece<std::uint64_t>(dst + i, src + i);
	if (i + 4 <= n) {
		store_piece<std::uint32_t>(dst + i, src + i);
		i += 4;
	}
	for (; i < n; i++)
		store_piece<std::uint8_t>(dst + i, src + i);
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

// One slot: the title (cut at the slot's capacity), its NUL, its length and
// KSHARE_TITLE_SET; or, @title nullptr, no title (length 0, no flag).
void write_slot(kshare_title_slot &s, const title_pieces *title)
{
	std::size_t len = 0;

	if (title) {
		for (int i = 0; i < title->n && len < title_capacity - 1; i++) {
			const std::size_t n = std::min(title->len[i], title_capacity - 1 - len);
			store_racy(s.title + len, title->text[i], n);
			len += n;
		}
		__atomic_store_n(&s.title[len], '\0', __ATOMIC_RELAXED);
	}
	__atomic_store_n(&s.len, static_cast<std::uint32_t>(len), __ATOMIC_RELAXED);
	__atomic_store_n(&s.flags, title ? KSHARE_TITLE_SET : 0u, __ATOMIC_RELAXED);
}

// This copy of the library's writers, serialised here before they take the
// page's counter: so that the page's lock is only ever contended by
// another copy's writer, and so that fork() can wait for a title being
// written (see before_fork()). A mutex, as argv_lock.
pthread_mutex_t title_lock = PTHREAD_MUTEX_INITIALIZER;

bool lock_writers()
{
	return pthread_mutex_lock(&title_lock) == 0;
}

void unlock_writers()
{
	pthread_mutex_unlock(&title_lock);
}

// One write of the page. With one thread in the process no other writer
// can run (setproctitle() is not async-signal-safe, and fork() is not
// called from inside it), so plain stores move the counter, from wherever
// it is (see claim_value()), and an uncontended title costs no atomic
// read-modify-write; else this copy's lock, then the page's CAS lock, and
// every later move of the counter a CAS too: one that fails means another
// copy's writer took the page over (see lock_title()), and the rest of
// the write is its.
class title_write {
public:
	explicit title_write(kshare_title *t) : t_(t), alone_(__libc_single_threaded)
	{
		if (alone_) {
			seq_ = claim_value(__atomic_load_n(&t->seq, __ATOMIC_RELAXED));
			std::atomic_thread_fence(std::memory_order_release);
			__atomic_store_n(&t->seq, seq_, __ATOMIC_RELAXED);
		} else {
			writers_ = lock_writers();
			seq_ = lock_title(t);
		}
		// The counter moves before any byte of a slot: pairs with the
		// readers' acquire fence before their second read of ->seq.
		std::atomic_thread_fence(std::memory_order_release);
	}
	~title_write()
	{
		// Phase 2 to the next phase 0: the write is over. Release: the
		// slot is complete before the counter moves.
		if (seq_)
			move(seq_ + 2, false);
		if (writers_)
			unlock_writers();
	}
	title_write(const title_write &) = delete;
	title_write &operator=(const title_write &) = delete;

	// Whether the page is this write's.
	explicit operator bool() const { return seq_ != 0; }

	// Both slots, each while the readers take the other one.
	void write(const title_pieces *title)
	{
		kshare_title_slot *slot = t_->slot;

		if (phase(seq_) == 2) {
			// Taken over in phase 2: slot 1 may be half written.
			write_slot(slot[1], title);
			if (!move(seq_ + 3, true)) // phase 1: readers on slot 1
				return;
		}
		write_slot(slot[0], title);
		if (move(seq_ + 1, true)) // phase 2: readers on slot 0
			write_slot(slot[1], title);
	}

private:
	// The counter from seq_ to @to, with a release fence before it (the
	// slot written before, to readers that see @to) and, if @more is to
	// be written, after it (@to before the slot's bytes). False if
	// another copy's writer took the page over.
	bool move(std::uint32_t to, bool more)
	{
		std::uint32_t from = seq_;

		std::atomic_thread_fence(std::memory_order_release);
		if (alone_)
			__atomic_store_n(&t_->seq, to, __ATOMIC_RELAXED);
		else if (!__atomic_compare_exchange_n(&t_->seq, &from, to, false,
						      __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			to = 0;
		seq_ = to;
		if (more && to)
			std::atomic_thread_fence(std::memory_order_release);
		return to != 0;
	}

	kshare_title *t_;
	bool alone_;
	bool writers_ = false;
	std::uint32_t seq_ = 0;
};

void write_title_page(kshare_title *t, const title_pieces *title)
{
	if (title_write w{t})
		w.write(title);
}

void write_title_page(kshare_title *t, const char *title)
{
	const title_pieces one{{title}, {std::strlen(title)}, 1};
	write_title_page(t, &one);
}

// No title: /proc/PID/cmdline shows the arguments again.
void clear_title_page(kshare_title *t)
{
	write_title_page(t, static_cast<const title_pieces *>(nullptr));
}

// A consistent copy of the title in @t into @buf (@size bytes), read as the
// kernel reads it: the slot the counter points at, kept if the counter did
// not move meanwhile. Only reads the page, so that a busy reader never
// makes the kernel's reader try again. Return whether a title is set; -1 if
// no consistent copy could be had (a writer that never stops).
constexpr int read_tries = 1000;

int read_title_page(const kshare_title *t, char *buf, std::size_t size)
{
	const std::size_t cap = std::min(title_capacity, size);

	for (int i = 0; i < read_tries; i++) {
		// Pairs with the writer's release fence before it moved ->seq.
		const std::uint32_t seq = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE);
		const kshare_title_slot &s = t->slot[seq & 1];
		const bool set = __atomic_load_n(&s.flags, __ATOMIC_RELAXED) & KSHARE_TITLE_SET;
		const std::size_t len =
			std::min<std::size_t>(__atomic_load_n(&s.len, __ATOMIC_RELAXED), cap - 1);
		if (set)
			load_racy(buf, s.title, len);
		// Pairs with the writer's release fence after it moved ->seq.
		std::atomic_thread_fence(std::memory_order_acquire);
		if (__atomic_load_n(&t->seq, __ATOMIC_RELAXED) != seq)
			continue;
		const std::size_t n = set ? strnlen(buf, len) : 0;
		buf[n] = '\0';
		return set;
	}
	return -1;
}

// fork() while another thread writes the title: the kernel copies the
// child's title from the latch, whole whatever the writer is doing, but
// the child must not inherit this copy's locks held by a thread it does
// not have, nor the argv fallback's strings half written. The handlers
// make fork() wait for a write in progress, in this copy of the library,
// and hold off new ones until the child exists; the page's counter is in
// phase 0 at fork() (unless another copy writes), so that a child of a
// copy of the page in ordinary memory finds it whole too.
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

void carry_title_over(kshare_title *t)
{
	char buf[title_capacity];

	if (read_title_page(t, buf, sizeof(buf)) != 1)
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

	// The first title maps the title page; clearing one needs no page
	// unless a title is on it.
	if (kshare_title *t = title_record(fmt != nullptr)) {
		title_pieces pieces;
		if (!fmt)
			clear_title_page(t);
		else if (plain_title(fmt, ap, pieces))
			// The pieces go to the page as they are: a slot holds less
			// than a formatted title may.
			write_title_page(t, &pieces);
		else
			write_title_page(t, format_title(buf, sizeof(buf), fmt, ap));
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
	kshare_title *t = title_record(false);
	int set = 0;

	if (t) {
		set = read_title_page(t, title, sizeof(title));
		if (set < 0 && lock_writers()) {
			// A writer in a loop, whose every write moved the counter
			// during a copy: hold this copy's writers off and try
			// again. Only the mutex: the page's counter is never
			// written by a reader.
			set = read_title_page(t, title, sizeof(title));
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
