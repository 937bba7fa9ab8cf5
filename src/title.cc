// SPDX-License-Identifier: MIT
// setproctitle: into the kernel's title page where there is one, else by
// overwriting argv in place, as PostgreSQL and nginx do on Linux.

#include "detail.hpp"
#include "internal.h"

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>

#include <sched.h>
#include <unistd.h>

extern char **environ;

namespace kshare::detail {
namespace {

// argv as the program got it: glibc passes argc, argv and envp to the
// functions in .init_array, shared libraries and static programs alike.
int saved_argc;
char **saved_argv;

[[gnu::used]] void capture_argv(int argc, char **argv, char **)
{
	saved_argc = argc;
	saved_argv = argv;
}
[[gnu::section(".init_array"), gnu::used]] void (*const capture_argv_entry)(int, char **, char **) =
	capture_argv;

// The title page's writers take its sequence counter from even to odd as a
// lock. A process that scribbles on its own page may leave it odd: after a
// bounded wait we write anyway, so setproctitle() never hangs.
constexpr int lock_spins = 10000;

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
	seq |= 1;
	__atomic_store_n(&t->seq, seq, __ATOMIC_RELAXED);
	std::atomic_thread_fence(std::memory_order_seq_cst);
	return seq;
}

void unlock_title(kshare_title *t, std::uint32_t odd_seq)
{
	// Pairs with the kernel's smp_load_acquire() of ->seq: the title is
	// complete before the counter is even again.
	__atomic_store_n(&t->seq, odd_seq + 1, __ATOMIC_RELEASE);
}

// ---- the fallback: argv overwritten in place ----

struct argv_area {
	char *start = nullptr;
	std::size_t size = 0;	// argv strings, and the environment after them
	char *original = nullptr; // the original argv strings, NULs and all
	std::size_t original_size = 0;
};

// Claim the contiguous argv and environment strings, moving the
// environment to the heap first. Done once, on the first fallback call.
argv_area *claim_argv()
{
	static argv_area area;
	static std::atomic<int> state{0}; // 0 not yet, 1 claimed, 2 impossible

	if (state.load(std::memory_order_acquire) == 1)
		return &area;
	if (state.load(std::memory_order_acquire) == 2 || !saved_argv || saved_argc < 1 ||
	    !saved_argv[0])
		return nullptr;

	char *end = saved_argv[0];
	for (int i = 0; i < saved_argc && saved_argv[i] == end; i++)
		end = saved_argv[i] + std::strlen(saved_argv[i]) + 1;
	const std::size_t args = static_cast<std::size_t>(end - saved_argv[0]);
	for (int i = 0; environ && environ[i] && environ[i] == end; i++)
		end = environ[i] + std::strlen(environ[i]) + 1;

	char *original = static_cast<char *>(std::malloc(args));
	if (!original) {
		state.store(2, std::memory_order_release);
		return nullptr;
	}
	std::memcpy(original, saved_argv[0], args);
	if (end > saved_argv[0] + args) {
		// The title may run into the environment: keep a copy of it.
		int n = 0;
		while (environ[n])
			n++;
		char **env = static_cast<char **>(std::malloc((n + 1) * sizeof(char *)));
		if (!env) {
			end = saved_argv[0] + args;
		} else {
			for (int i = 0; i < n; i++)
				env[i] = strdup(environ[i]);
			env[n] = nullptr;
			environ = env;
		}
	}
	area.start = saved_argv[0];
	area.size = static_cast<std::size_t>(end - saved_argv[0]);
	area.original = original;
	area.original_size = args;
	state.store(1, std::memory_order_release);
	return &area;
}

// Serialises this process's argv writers and readers, so that
// kshare_getproctitle() never returns half of one title and half of the
// next. A bounded spin, as for the title page: a signal handler that
// interrupts a holder and sets the title itself cannot hang.
std::atomic<bool> argv_busy{false};

class argv_guard {
public:
	argv_guard()
	{
		for (int i = 0; i < lock_spins; i++) {
			if (!argv_busy.exchange(true, std::memory_order_acquire)) {
				held_ = true;
				return;
			}
			if (i > 100)
				sched_yield();
		}
	}
	~argv_guard()
	{
		if (held_)
			argv_busy.store(false, std::memory_order_release);
	}
	argv_guard(const argv_guard &) = delete;
	argv_guard &operator=(const argv_guard &) = delete;

private:
	bool held_ = false;
};

void set_argv_title(const char *title)
{
	argv_area *a = claim_argv();
	const argv_guard guard;

	if (!a)
		return;
	if (!title) {
		std::memset(a->start, 0, a->size);
		std::memcpy(a->start, a->original, a->original_size);
		return;
	}
	const std::size_t n = std::min(std::strlen(title), a->size - 1);
	std::memcpy(a->start, title, n);
	// NULs after it: /proc/PID/cmdline then ends the title there.
	std::memset(a->start + n, 0, a->size - n);
}

// A consistent copy of the title in @t into @buf (@size bytes), under the
// writers' lock. Return whether a title is set.
bool read_title(kshare_title *t, std::size_t capacity, char *buf, std::size_t size)
{
	const std::size_t cap = std::min(capacity, size);
	const std::uint32_t seq = lock_title(t);
	const bool set = t->flags & KSHARE_TITLE_SET;
	std::size_t len = 0;

	if (set) {
		len = strnlen(t->title, std::min<std::size_t>(t->len, cap - 1));
		std::memcpy(buf, t->title, len);
	}
	buf[len] = '\0';
	unlock_title(t, seq);
	return set;
}

} // namespace

void carry_title_over(kshare_title *t, std::size_t capacity)
{
	char buf[4096];

	if (!read_title(t, capacity, buf, sizeof(buf)))
		return;
	// argv first, then the page: ps never falls back to the old argv.
	set_argv_title(buf);
	const std::uint32_t seq = lock_title(t);
	t->flags = 0;
	t->len = 0;
	unlock_title(t, seq);
}

} // namespace kshare::detail

using namespace kshare::detail;

extern "C" {

void kshare_setproctitle(const char *fmt, ...)
{
	char buf[4096];
	int n = 0;

	if (fmt) {
		const bool bare = fmt[0] == '-';
		const char *body = bare ? fmt + 1 : fmt;
		va_list ap;

		if (!bare)
			n = std::snprintf(buf, sizeof(buf), "%s: ", program_invocation_short_name);
		va_start(ap, fmt);
		if (std::strcmp(body, "%s") == 0) {
			// The common "-%s" and "%s": a copy, not a trip through printf.
			const char *arg = va_arg(ap, const char *);
			const std::size_t len = std::min(std::strlen(arg ? arg : "(null)"),
							 sizeof(buf) - n - 1);
			std::memcpy(buf + n, arg ? arg : "(null)", len);
			buf[n + len] = '\0';
		} else {
			std::vsnprintf(buf + n, sizeof(buf) - n, body, ap);
		}
		va_end(ap);
	}

	std::size_t cap;
	kshare_title *t = title_record(&cap);
	if (!t) {
		set_argv_title(fmt ? buf : nullptr);
		return;
	}
	const std::size_t len = fmt ? std::min(std::strlen(buf), cap - 1) : 0;
	const std::uint32_t seq = lock_title(t);
	if (fmt) {
		std::memcpy(t->title, buf, len);
		t->title[len] = '\0';
	}
	t->len = static_cast<std::uint32_t>(len);
	t->flags = fmt ? KSHARE_TITLE_SET : 0;
	unlock_title(t, seq);
}

ssize_t kshare_getproctitle(char *buf, size_t size)
{
	char title[4096];
	std::size_t len = 0;
	std::size_t cap;
	kshare_title *t = title_record(&cap);

	if (t) {
		if (read_title(t, cap, title, sizeof(title))) {
			len = std::strlen(title);
			goto out;
		}
	} else if (argv_area *a = claim_argv()) {
		const argv_guard guard;

		len = strnlen(a->start, std::min(a->size, sizeof(title) - 1));
		std::memcpy(title, a->start, len);
		goto out;
	}
	// No title set: the arguments, as ps shows them.
	for (int i = 0; i < saved_argc && saved_argv && len < sizeof(title) - 1; i++) {
		const int w = std::snprintf(title + len, sizeof(title) - len, "%s%s", i ? " " : "",
					    saved_argv[i]);
		len = std::min(len + static_cast<std::size_t>(w), sizeof(title) - 1);
	}
out:
	title[len] = '\0';
	if (size) {
		const std::size_t n = std::min(len, size - 1);
		std::memcpy(buf, title, n);
		buf[n] = '\0';
	}
	return static_cast<ssize_t>(len);
}

} // extern "C"
