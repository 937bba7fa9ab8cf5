// SPDX-License-Identifier: MIT
/*
 * kshare-vm-exit STATUS: end the VM, handing STATUS (0-127) to the host.
 *
 * QEMU exits with (STATUS << 1) | 1, so the host's scripts/vm-run gets the
 * guest's status back and tells it apart from a guest that powered off or
 * panicked (0):
 * - x86-64: the isa-debug-exit device (iobase 0xf4) exits with
 *   (value << 1) | 1;
 * - arm64: an Arm semihosting SYS_EXIT call (QEMU started with
 *   -semihosting-config enable=on,userspace=on) exits with the code given,
 *   here already (STATUS << 1) | 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/reboot.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <sys/io.h>

#define DEBUG_EXIT_PORT 0xf4

static void vm_exit(int status)
{
	if (ioperm(DEBUG_EXIT_PORT, 4, 1) == 0)
		outl((unsigned int)status, DEBUG_EXIT_PORT);
	perror("kshare-vm-exit: isa-debug-exit");
}
#elif defined(__aarch64__)
#define SEMIHOSTING_SYS_EXIT 0x18
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

static void vm_exit(int status)
{
	/* AArch64 SYS_EXIT takes a block: reason, then the exit code. */
	unsigned long block[2] = { ADP_STOPPED_APPLICATION_EXIT, (unsigned long)status << 1 | 1 };
	register unsigned long x0 __asm__("x0") = SEMIHOSTING_SYS_EXIT;
	register unsigned long x1 __asm__("x1") = (unsigned long)block;

	/* Without semihosting this traps: SIGILL, and the host sees no status. */
	__asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
	fprintf(stderr, "kshare-vm-exit: semihosting SYS_EXIT returned\n");
}
#else
#error "kshare-vm-exit: no way to hand a status to the host on this architecture"
#endif

int main(int argc, char **argv)
{
	int status = argc > 1 ? atoi(argv[1]) : 1;

	if (status < 0 || status > 127)
		status = 127;
	sync();
	vm_exit(status);
	reboot(RB_POWER_OFF);
	return 1;
}
