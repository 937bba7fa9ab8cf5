/* SPDX-License-Identifier: MIT */
/*
 * kshare-kbench-true: the smallest program exec() can start, for
 * kshare-kbench's fork+exec+exit latency. No libc, no startup code, one
 * system call: what is left of its run time is the kernel's fork, exec and
 * exit, which is where kshare adds work (the mapping at exec), so a change
 * there is not diluted by the C library's start-up.
 */

void _start(void) __attribute__((noreturn, used));

void _start(void)
{
#if defined(__x86_64__)
	__asm__ volatile("mov $231, %eax\n\t"	/* exit_group */
			 "xor %edi, %edi\n\t"
			 "syscall");
#elif defined(__aarch64__)
	__asm__ volatile("mov x8, #94\n\t"	/* exit_group */
			 "mov x0, #0\n\t"
			 "svc #0");
#else
#error "kshare-kbench-true: add exit_group for this architecture"
#endif
	__builtin_unreachable();
}
