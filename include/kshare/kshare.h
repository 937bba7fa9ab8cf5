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
 * The fast paths are inline; the fallbacks live in libkshare. This header
 * compiles as C (C99 and later) and as C++.
 */
#ifndef KSHARE_KSHARE_H
#define KSHARE_KSHARE_H

#include <stdint.h>
#include <sys/types.h>

#include <kshare/uapi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The auxiliary vector entry holding the start of the [kshare] area. */
#ifndef AT_KSHARE
#define AT_KSHARE 52
#endif

/*
 * libkshare compiles this header once with KSHARE_INLINE defined empty, which
 * gives every inline function an exported, out-of-line twin (for dlsym(),
 * other languages, and code that takes the function's address).
 */
#ifndef KSHARE_INLINE
#define KSHARE_INLINE static inline
#endif

/*
 * Internal, used by the inline fast paths: the process page. Until the
 * library has looked for the real one it points at a page of zeroes, whose
 * validity bits send every reader to the slow path; so it is never NULL.
 */
extern const struct kshare_proc_page *kshare__proc;
pid_t kshare__getpid_slow(void);

/**
 * kshare_available() - does the running kernel maintain @features?
 * @features: KSHARE_FEATURE_* bits (see <kshare/uapi.h>)
 *
 * Return: 1 if every bit in @features is maintained, 0 otherwise (including
 * on a kernel without kshare, where the library uses the system calls).
 */
int kshare_available(uint64_t features);

/** kshare_getpid() - getpid(2) without a system call. Cannot fail. */
KSHARE_INLINE pid_t kshare_getpid(void)
{
	const struct kshare_proc_page *pp =
		__atomic_load_n(&kshare__proc, __ATOMIC_RELAXED);

	/* Pairs with the kernel's release store of ->valid. */
	if (__builtin_expect(__atomic_load_n(&pp->valid, __ATOMIC_ACQUIRE) &
			     KSHARE_PROC_VALID_PID, 1))
		return __atomic_load_n(&pp->pid, __ATOMIC_RELAXED);
	return kshare__getpid_slow();
}

#ifdef __cplusplus
}
#endif

#endif /* KSHARE_KSHARE_H */
