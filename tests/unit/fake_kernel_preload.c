// SPDX-License-Identifier: MIT
/*
 * The pretend kernel of fake_kernel.h as a preloaded library, for host runs
 * of programs that expect a kshare kernel (tests/guest-dyn/copies-check):
 * LD_PRELOAD=libkshare-preload.so:libkshare-fake-kernel.so: glibc runs the
 * constructors of preloaded libraries last one first, so this one starts
 * before the shim's registers. Its process page
 * says the pid of the process it starts in.
 */
#define _GNU_SOURCE
#include <stdio.h>

#include "fake_kernel.h"

__attribute__((constructor)) static void fake_kernel_start(void)
{
	if (start_fake((pid_t)syscall(SYS_getpid))) {
		perror("libkshare-fake-kernel: seccomp user notification");
		_exit(99);
	}
}

/*
 * A fork child gets pages of its own from the kernel: here, its copy of the
 * area, which says the child's pid from now on.
 */
static void fake_kernel_forked(void)
{
	struct kshare_proc_page *pp = (struct kshare_proc_page *)(fake.area + PAGE);

	pp->pid = (pid_t)syscall(SYS_getpid);
	pp->mm_serial = (uint64_t)pp->pid;
}

__attribute__((constructor)) static void fake_kernel_atfork(void)
{
	pthread_atfork(NULL, NULL, fake_kernel_forked);
}
