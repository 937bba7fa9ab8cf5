/* SPDX-License-Identifier: MIT */
/*
 * A seccomp filter that makes the given system calls fail with EPERM: the
 * tests' proof that a value came from a kshare page and not from the kernel.
 */
#ifndef KSHARE_DENY_H
#define KSHARE_DENY_H

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KT_DENY_MAX 32

/* Install the filter for @n system call numbers; 0, or -1 with errno. */
static inline int kt_deny_syscalls(const int *nrs, size_t n)
{
	struct sock_filter insns[2 + 2 * KT_DENY_MAX];
	struct sock_fprog prog = { .filter = insns };
	size_t len = 0, i;

	if (n > KT_DENY_MAX)
		return -1;
	insns[len++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						    offsetof(struct seccomp_data, nr));
	for (i = 0; i < n; i++) {
		insns[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nrs[i], 0, 1);
		insns[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
							    SECCOMP_RET_ERRNO | EPERM);
	}
	insns[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)len;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) ? -1 : 0;
}

#endif /* KSHARE_DENY_H */
