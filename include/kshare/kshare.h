/* SPDX-License-Identifier: MIT */
/*
 * kshare: read what the kernel knows about the calling process from pages
 * the kernel keeps up to date, with no system call.
 *
 * Every function has the signature and errno behaviour of the libc call it
 * replaces, and gives the same answer: when the page cannot vouch for a
 * value (no kshare in the running kernel, an address space shared with
 * another process, ...), the function makes the system call instead.
 *
 * The library's first call registers the process for the kernel's pages,
 * prctl(PR_KSHARE, PR_KSHARE_MAP), once per process (fork() children
 * inherit the registration; exec ends it); on a kernel without kshare, or
 * with kshare turned off, every call is the system call.
 *
 * The fast paths are inline; the fallbacks live in libkshare. This header
 * compiles as GNU C (GCC or Clang, C99 and later: it uses __thread, the
 * __atomic builtins and attributes) and as C++.
 *
 * The fast paths answer from the pages without entering the kernel, so a
 * seccomp filter (SECCOMP_RET_ERRNO, TRACE, USER_NOTIF), a ptrace-based
 * emulator or an LD_PRELOAD faker such as fakeroot does not see those
 * questions and cannot change the answers. KSHARE=off in the environment
 * (read with secure_getenv() at the library's first call) makes every call
 * the system call. See kshare(7).
 */
#ifndef KSHARE_KSHARE_H
#define KSHARE_KSHARE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <kshare/uapi.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * libkshare is built with hidden visibility. KSHARE_API marks its ABI (the
 * public kshare_* functions and the kshare__* internals the inline fast
 * paths use), exported from libkshare.so under the symbol version of
 * libkshare.map. In libkshare.a it stays hidden, so that a shared library
 * that links libkshare.a in does not export libkshare's symbols.
 */
#ifdef KSHARE_BUILD_SHARED
#define KSHARE_API __attribute__((visibility("default")))
#else
#define KSHARE_API
#endif

/*
 * The registration call, prctl(PR_KSHARE, op, &struct kshare_map, 0, 0) (see
 * <kshare/uapi.h>): the series' include/uapi/linux/prctl.h defines these,
 * and scripts/checkpatch checks that these are the same numbers. Fallbacks
 * for C libraries whose <linux/prctl.h> predates them; the one definition
 * in this tree.
 */
#ifndef PR_KSHARE
#define PR_KSHARE 0x4b534852 /* "KSHR" */
#endif
#ifndef PR_KSHARE_MAP
#define PR_KSHARE_MAP 1
#endif
#ifndef PR_KSHARE_GET
#define PR_KSHARE_GET 2
#endif
#ifndef PR_KSHARE_MAP_TITLE
#define PR_KSHARE_MAP_TITLE 3
#endif
#ifndef PR_KSHARE_UNMAP
#define PR_KSHARE_UNMAP 4
#endif

/*
 * libkshare compiles this header once with KSHARE_INLINE defined as
 * KSHARE_API, which gives every inline function an exported, out-of-line
 * twin, for dlsym() and other languages' foreign function interfaces (a C
 * or C++ program that takes the address gets its own inline copy's).
 */
#ifndef KSHARE_INLINE
#define KSHARE_INLINE static inline
#endif

/* How often a reader retries a record the kernel is rewriting. */
#define KSHARE_READ_TRIES 64

/*
 * Internal, used by the inline fast paths: the process page. Until the
 * library has looked for the real one it points at a page of zeroes, whose
 * validity bits send every reader to the slow path; so it is never NULL.
 */
extern KSHARE_API const struct kshare_proc_page *kshare__proc;

/* Internal: this thread's id, tagged with the address space it was read in. */
struct kshare__tid_cache {
	uint64_t mm_serial;
	pid_t tid;
};
extern KSHARE_API __thread struct kshare__tid_cache kshare__tid
	__attribute__((tls_model("initial-exec")));

/* Internal: the out-of-line slow paths. */
KSHARE_API pid_t kshare__getpid_slow(void);
KSHARE_API pid_t kshare__getppid_slow(void);
KSHARE_API pid_t kshare__getpgrp_slow(void);
KSHARE_API pid_t kshare__getsid_slow(pid_t pid);
KSHARE_API pid_t kshare__gettid_slow(void);
KSHARE_API uint32_t kshare__id_slow(unsigned int which);
KSHARE_API int kshare__getres_slow(unsigned int first, uint32_t *a, uint32_t *b, uint32_t *c);
KSHARE_API uint64_t kshare__mm_id_slow(void);
/*
 * Internal: this copy of the library's link in the chain that carries a
 * detach to every copy in the process (libkshare.so and the preload shim
 * export it; see kshare_detach(3)).
 */
KSHARE_API void kshare__detach_chain(void);
/*
 * Internal: the same chain's word on the title page, which one copy maps at
 * its first title: @title is where it is (@size bytes), so that every copy
 * can guard it; NULL says it is about to go away, so that each copy carries
 * its title over into argv and writes the page no more.
 */
KSHARE_API void kshare__title_chain(void *title, size_t size);

/**
 * kshare_available() - does the running kernel maintain @features?
 * @features: KSHARE_FEATURE_* bits (see <kshare/uapi.h>)
 *
 * Like any first call, the first registers the process.
 *
 * Return: 1 if every bit in @features is maintained, 0 otherwise (including
 * on a kernel without kshare or with kshare turned off, and after
 * kshare_detach(), where the library uses the system calls).
 */
KSHARE_API int kshare_available(uint64_t features);

static inline const struct kshare_proc_page *kshare__page(void)
{
	return __atomic_load_n(&kshare__proc, __ATOMIC_RELAXED);
}

/* Internal: the validity bits; acquire pairs with the kernel's release. */
static inline uint32_t kshare__valid(const struct kshare_proc_page *pp)
{
	return __atomic_load_n(&pp->valid, __ATOMIC_ACQUIRE);
}

/** kshare_getpid() - getpid(2) without a system call. Cannot fail. */
KSHARE_INLINE pid_t kshare_getpid(void)
{
	const struct kshare_proc_page *pp = kshare__page();

	if (__builtin_expect(kshare__valid(pp) & KSHARE_PROC_VALID_PID, 1))
		return __atomic_load_n(&pp->pid, __ATOMIC_RELAXED);
	return kshare__getpid_slow();
}

/** kshare_getppid() - getppid(2) without a system call. Cannot fail. */
KSHARE_INLINE pid_t kshare_getppid(void)
{
	const struct kshare_proc_page *pp = kshare__page();

	if (__builtin_expect(kshare__valid(pp) & KSHARE_PROC_VALID_PPID, 1))
		return __atomic_load_n(&pp->ppid, __ATOMIC_RELAXED);
	return kshare__getppid_slow();
}

/** kshare_getpgrp() - getpgrp(2) without a system call. Cannot fail. */
KSHARE_INLINE pid_t kshare_getpgrp(void)
{
	const struct kshare_proc_page *pp = kshare__page();

	if (__builtin_expect(kshare__valid(pp) & KSHARE_PROC_VALID_PGID, 1))
		return __atomic_load_n(&pp->pgid, __ATOMIC_RELAXED);
	return kshare__getpgrp_slow();
}

/**
 * kshare_getsid() - getsid(2); without a system call for the caller's own
 * session (@pid 0 or the caller's pid). Fails as getsid(2) does.
 */
KSHARE_INLINE pid_t kshare_getsid(pid_t pid)
{
	const struct kshare_proc_page *pp = kshare__page();
	uint32_t valid = kshare__valid(pp);
	const uint32_t need = KSHARE_PROC_VALID_SID | KSHARE_PROC_VALID_PID;

	/* getsid(0), the common case, needs only the session's bit. */
	if (pid == 0 ? __builtin_expect(valid & KSHARE_PROC_VALID_SID, 1)
		     : (valid & need) == need &&
			       pid == __atomic_load_n(&pp->pid, __ATOMIC_RELAXED))
		return __atomic_load_n(&pp->sid, __ATOMIC_RELAXED);
	return kshare__getsid_slow(pid);
}

/**
 * kshare_gettid() - gettid(2) without a system call once this thread has
 * asked once: the id is kept in thread-local storage, trusted only while
 * the page vouches for such caches in this very address space.
 */
KSHARE_INLINE pid_t kshare_gettid(void)
{
	const struct kshare_proc_page *pp = kshare__page();

	if (__builtin_expect((kshare__valid(pp) & KSHARE_PROC_VALID_TID_CACHE) &&
			     kshare__tid.mm_serial ==
				     __atomic_load_n(&pp->mm_serial, __ATOMIC_RELAXED), 1))
		return kshare__tid.tid;
	return kshare__gettid_slow();
}

/**
 * kshare_mm_id() - an id of the calling process's address space: equal
 * non-zero values mean the same address space, so a value that changed
 * tells a library that it now runs in a fork() child (or after exec). The
 * same in threads, vfork() children and CLONE_VM clones, which share the
 * address space. 0 where the kernel gives no id (no kshare, kshare=off,
 * after kshare_detach()): callers then need another way. No system call.
 */
KSHARE_INLINE uint64_t kshare_mm_id(void)
{
	const struct kshare_proc_page *pp = kshare__page();
	uint64_t id = __atomic_load_n(&pp->mm_serial, __ATOMIC_RELAXED);

	if (__builtin_expect(id != 0, 1))
		return id;
	return kshare__mm_id_slow();
}

/* Internal: word index of each id in the credentials record. */
enum {
	KSHARE__UID, KSHARE__EUID, KSHARE__SUID, KSHARE__FSUID,
	KSHARE__GID, KSHARE__EGID, KSHARE__SGID, KSHARE__FSGID,
};

/*
 * Internal: the id at word @first of the credentials record into @x, and
 * with @y and @z non-NULL the two after it, under the record's sequence
 * counter. Return 1 on success, 0 if the page does not vouch for them (or
 * the kernel kept rewriting them). Scalars, not an array: the compiler
 * merged an array's two 4-byte stores into one 8-byte load, which waits for
 * both stores (no store-to-load forwarding) and cost getresuid() 4x.
 */
static inline int kshare__read_ids(unsigned int first, uint32_t *x, uint32_t *y, uint32_t *z)
{
	const struct kshare_proc_page *pp = kshare__page();
	/* From the record's start: ids[] indexes uid to fsgid, one word each. */
	const uint32_t *ids = (const uint32_t *)((const char *)pp +
						 offsetof(struct kshare_proc_page, uid)) + first;
	int tries;

	for (tries = 0; tries < KSHARE_READ_TRIES; tries++) {
		uint32_t seq = __atomic_load_n(&pp->cred_seq, __ATOMIC_ACQUIRE);
		uint32_t valid;

		if (seq & 1)
			continue;
		valid = __atomic_load_n(&pp->valid, __ATOMIC_RELAXED);
		*x = __atomic_load_n(&ids[0], __ATOMIC_RELAXED);
		if (y && z) {
			*y = __atomic_load_n(&ids[1], __ATOMIC_RELAXED);
			*z = __atomic_load_n(&ids[2], __ATOMIC_RELAXED);
		}
		/* Pairs with the kernel's smp_wmb() before it ends a rewrite. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&pp->cred_seq, __ATOMIC_RELAXED) == seq)
			return (valid & KSHARE_PROC_VALID_CREDS) != 0;
	}
	return 0;
}

static inline uint32_t kshare__id(unsigned int which)
{
	uint32_t id;

	if (__builtin_expect(kshare__read_ids(which, &id, NULL, NULL), 1))
		return id;
	return kshare__id_slow(which);
}

/** kshare_getuid() - getuid(2) without a system call. Cannot fail. */
KSHARE_INLINE uid_t kshare_getuid(void) { return kshare__id(KSHARE__UID); }
/** kshare_geteuid() - geteuid(2) without a system call. Cannot fail. */
KSHARE_INLINE uid_t kshare_geteuid(void) { return kshare__id(KSHARE__EUID); }
/** kshare_getgid() - getgid(2) without a system call. Cannot fail. */
KSHARE_INLINE gid_t kshare_getgid(void) { return kshare__id(KSHARE__GID); }
/** kshare_getegid() - getegid(2) without a system call. Cannot fail. */
KSHARE_INLINE gid_t kshare_getegid(void) { return kshare__id(KSHARE__EGID); }

static inline int kshare__getres(unsigned int first, uint32_t *a, uint32_t *b, uint32_t *c)
{
	uint32_t x, y, z;

	/* NULL goes to the kernel, which answers EFAULT as for getresuid(2). */
	if (__builtin_expect(a && b && c && kshare__read_ids(first, &x, &y, &z), 1)) {
		*a = x;
		*b = y;
		*c = z;
		return 0;
	}
	return kshare__getres_slow(first, a, b, c);
}

/** kshare_getresuid() - getresuid(2) without a system call. */
KSHARE_INLINE int kshare_getresuid(uid_t *ruid, uid_t *euid, uid_t *suid)
{
	return kshare__getres(KSHARE__UID, ruid, euid, suid);
}

/** kshare_getresgid() - getresgid(2) without a system call. */
KSHARE_INLINE int kshare_getresgid(gid_t *rgid, gid_t *egid, gid_t *sgid)
{
	return kshare__getres(KSHARE__GID, rgid, egid, sgid);
}

struct utsname;

/*
 * The system page: one per UTS namespace. These are out of line: they copy
 * a record under its sequence counter.
 */

/** kshare_gethostname() - gethostname(2) as glibc does it, from the page. */
KSHARE_API int kshare_gethostname(char *name, size_t len);
/** kshare_getdomainname() - getdomainname(2) as glibc does it, from the page. */
KSHARE_API int kshare_getdomainname(char *name, size_t len);
/** kshare_uname() - uname(2) from the page. */
KSHARE_API int kshare_uname(struct utsname *buf);
/*
 * Internal: the UTS record of the system page, or a record of zeroes whose
 * validity bits send readers to the slow path; never NULL, as kshare__proc.
 */
extern KSHARE_API const struct kshare_uts *kshare__uts;
KSHARE_API int kshare__get_nprocs_slow(void);

/**
 * kshare_get_nprocs() - get_nprocs(3): online CPUs, from the page. A single
 * word under the record's sequence counter, inline.
 */
KSHARE_INLINE int kshare_get_nprocs(void)
{
	const struct kshare_uts *u = __atomic_load_n(&kshare__uts, __ATOMIC_RELAXED);
	/* The record is this thread's UTS namespace's (acquire: the kernel's release). */
	const uint32_t ours = kshare__valid(kshare__page()) & KSHARE_PROC_VALID_UTS;
	const uint32_t seq = __atomic_load_n(&u->seq, __ATOMIC_ACQUIRE);
	const uint32_t valid = __atomic_load_n(&u->valid, __ATOMIC_RELAXED);
	const uint32_t n = __atomic_load_n(&u->nr_cpus_online, __ATOMIC_RELAXED);

	/* Pairs with the kernel's smp_wmb() before it ends a rewrite. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__builtin_expect(ours && !(seq & 1) && (valid & KSHARE_UTS_VALID_NPROCS) && n &&
			     __atomic_load_n(&u->seq, __ATOMIC_RELAXED) == seq, 1))
		return (int)n;
	return kshare__get_nprocs_slow();
}
/**
 * kshare_uts_generation() - a number that changes whenever the hostname,
 * domain name or CPU count changes; 0 when the page cannot vouch for them.
 * Equal non-zero values mean nothing changed in between.
 */
KSHARE_API uint64_t kshare_uts_generation(void);

/*
 * The process title, as ps(1) and top(1) show it (/proc/PID/cmdline).
 */

/**
 * kshare_setproctitle() - setproctitle(3) of BSD and libbsd: set the title
 * to "progname: " and @fmt formatted, or without the prefix if @fmt starts
 * with '-'; @fmt NULL restores the original arguments. No system call
 * but the first, which asks for the title page (PR_KSHARE_MAP_TITLE): the
 * title goes to the kernel's title page, or, on a kernel without one, over
 * the original argv.
 */
KSHARE_API void kshare_setproctitle(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** kshare_vsetproctitle() - kshare_setproctitle() with a va_list. */
KSHARE_API void kshare_vsetproctitle(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));
/**
 * kshare_getproctitle() - the current title (the arguments joined by spaces
 * when none was set), NUL-terminated in @buf, truncated to @size - 1 bytes.
 * Return: the title's full length, as snprintf() returns it.
 */
KSHARE_API ssize_t kshare_getproctitle(char *buf, size_t size);

/*
 * The area itself. The library keeps the area's address, and the title
 * page's, so a program that unmaps, moves, overlays or protects them (a
 * checkpoint/restore tool, a sandbox that rebuilds its address space) must
 * let the library know first, by calling the kshare_ twins below instead of
 * munmap(), mremap(), mmap(), mprotect() and madvise(), or kshare_detach();
 * the library then makes the system calls, in this process and its fork()
 * children. (The title page alone only sends titles to argv.) This goes for
 * prctl(PR_KSHARE, PR_KSHARE_UNMAP) too, which unmaps both. libkshare does not
 * interpose libc's functions: only the preload shim, libkshare-preload.so,
 * does, for the whole process. A detach reaches every copy of the library
 * that the dynamic linker can see (libkshare.so, the shim), not copies
 * linked statically into another shared library. Raw system calls that pull
 * the area away from under the library make its readers fault, as they
 * would the vDSO's.
 */

/**
 * kshare_detach() - stop reading the pages, for good: every call is the
 * system call from now on. A title set through the title page is first
 * carried over into argv, so that ps keeps showing it. Cannot fail.
 */
KSHARE_API void kshare_detach(void);
/** kshare_munmap() - munmap(2), detaching first if the range touches the area. */
KSHARE_API int kshare_munmap(void *addr, size_t len);
/** kshare_mremap() - mremap(2), detaching first if either range touches the area. */
KSHARE_API void *kshare_mremap(void *old_addr, size_t old_size, size_t new_size, int flags, ...);
/** kshare_mmap() - mmap(2), detaching first if MAP_FIXED lands on the area. */
KSHARE_API void *kshare_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset);
/** kshare_mprotect() - mprotect(2), detaching first if it makes the area unreadable. */
KSHARE_API int kshare_mprotect(void *addr, size_t len, int prot);
/** kshare_madvise() - madvise(2), detaching first if fork() children would lose the area. */
KSHARE_API int kshare_madvise(void *addr, size_t len, int advice);

#ifdef __cplusplus
}
#endif

#endif /* KSHARE_KSHARE_H */
