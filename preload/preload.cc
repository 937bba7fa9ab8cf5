// SPDX-License-Identifier: MIT
// libkshare-preload.so: LD_PRELOAD it and an unmodified, dynamically linked
// program gets its ids from the kshare page instead of a system call.
//
// Each interposer only forwards to the kshare_* function of the same name,
// which already has libc's signature and errno behaviour and makes the system
// call itself when the page cannot vouch for a value; no fallback goes
// through a libc name the shim itself defines. The id getters, gethostname,
// getdomainname, uname and get_nprocs are safe where libc's are: in vfork
// children and signal handlers, in threads, before any constructor has run
// (their slow paths use only secure_getenv() and syscall(), and keep no
// lock). sysconf() for other names and setproctitle() are what libc's and
// libbsd's are: not async-signal-safe.
//
// The shim registers the process for the [kshare] area as it loads (its
// constructor), unless KSHARE=off: the program's first getpid() is then
// already a read of the page, and a copy of libkshare the program carries
// itself gets the same area when it registers.
//
// libkshare is linked in statically with its symbols localised
// (--exclude-libs), and this file is compiled with hidden visibility: the
// only dynamic symbols are the libc names below and the shim's link in the
// detach chain, so the shim never interposes or clashes with a libkshare.so
// the program links itself.
#include <kshare/kshare.h>

#include "detail.hpp"
#include "internal.h"

#include <cstdarg>
#include <dlfcn.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

// One line per libc function: return type, name, parameter list, argument
// list (and its name in KSHARE_PRELOAD_INTERPOSED in CMakeLists.txt, which
// the export test checks). Defining the libc name in C++ fails to compile if the signature
// differs from the one glibc's headers declare.
#define KSHARE_INTERPOSE(ret, name, params, args)                         \
	extern "C" __attribute__((visibility("default"))) ret name params \
		noexcept                                                  \
	{                                                                 \
		return kshare_##name args;                                \
	}

KSHARE_INTERPOSE(pid_t, getpid, (void), ())
KSHARE_INTERPOSE(pid_t, getppid, (void), ())
KSHARE_INTERPOSE(pid_t, gettid, (void), ())
KSHARE_INTERPOSE(pid_t, getpgrp, (void), ())
KSHARE_INTERPOSE(pid_t, getsid, (pid_t pid), (pid))

// getpgid(0), as shells ask: the caller's own group from the page; any other
// process's from the kernel (syscall() sets errno as libc's would).
extern "C" __attribute__((visibility("default"))) pid_t getpgid(pid_t pid) noexcept
{
	if (pid == 0 || pid == kshare_getpid())
		return kshare_getpgrp();
	return static_cast<pid_t>(syscall(SYS_getpgid, pid));
}
KSHARE_INTERPOSE(uid_t, getuid, (void), ())
KSHARE_INTERPOSE(uid_t, geteuid, (void), ())
KSHARE_INTERPOSE(gid_t, getgid, (void), ())
KSHARE_INTERPOSE(gid_t, getegid, (void), ())
KSHARE_INTERPOSE(int, getresuid, (uid_t *ruid, uid_t *euid, uid_t *suid), (ruid, euid, suid))
KSHARE_INTERPOSE(int, getresgid, (gid_t *rgid, gid_t *egid, gid_t *sgid), (rgid, egid, sgid))
KSHARE_INTERPOSE(int, gethostname, (char *name, size_t len), (name, len))
KSHARE_INTERPOSE(int, getdomainname, (char *name, size_t len), (name, len))
KSHARE_INTERPOSE(int, uname, (struct utsname *buf), (buf))
KSHARE_INTERPOSE(int, get_nprocs, (void), ())

// The shim's link in the chain that carries a detach to every copy of the
// library in the process: a program's kshare_detach() or kshare_munmap()
// in libkshare.so reaches the shim's copy too (see kshare.cc).
extern "C" __attribute__((visibility("default"))) void kshare__detach_chain(void)
{
	kshare::detail::detach_chain();
}

// And its link in the chain that tells every copy where the title page is.
extern "C" __attribute__((visibility("default"))) void kshare__title_chain(void *title,
									size_t size)
{
	kshare::detail::title_chain(title, size);
}

// Register at load: prctl(PR_KSHARE, PR_KSHARE_MAP), once, with the same
// rules as any first call (KSHARE=off, the saved errno).
[[gnu::constructor]] static void register_at_load()
{
	(void)kshare__header();
}

// Tells the library's start-up code (title.cc) that it runs in the shim,
// which must not move the environment of every program it is loaded into.
extern "C" __attribute__((visibility("hidden"))) const char kshare__preload_shim = 1;

using sysconf_fn = long (*)(int);
static sysconf_fn next_sysconf;

// Resolved in a constructor where possible: dlsym() may allocate.
[[gnu::constructor]] static void resolve_sysconf()
{
	__atomic_store_n(&next_sysconf, reinterpret_cast<sysconf_fn>(dlsym(RTLD_NEXT, "sysconf")),
			 __ATOMIC_RELAXED);
}

// sysconf() answers many questions: only the online CPU count is ours.
extern "C" __attribute__((visibility("default"))) long sysconf(int name) noexcept
{
	if (name == _SC_NPROCESSORS_ONLN)
		return kshare_get_nprocs();
	// Before the constructor ran (another library's constructor asks):
	// resolve it now. A plain global, not a function-local static: its
	// guard would pull in libstdc++. Racing first calls store the same
	// pointer.
	sysconf_fn next = __atomic_load_n(&next_sysconf, __ATOMIC_RELAXED);
	if (!next) {
		next = reinterpret_cast<sysconf_fn>(dlsym(RTLD_NEXT, "sysconf"));
		__atomic_store_n(&next_sysconf, next, __ATOMIC_RELAXED);
	}
	return next ? next(name) : -1;
}

// libbsd's setproctitle(), for programs written against it: the same
// format rules as kshare_setproctitle().
extern "C" __attribute__((visibility("default"))) void setproctitle(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kshare_vsetproctitle(fmt, ap);
	va_end(ap);
}
