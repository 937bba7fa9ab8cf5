// SPDX-License-Identifier: MIT
/*
 * kshare-vm-exit STATUS: end the VM, handing STATUS (0-127) to the host.
 *
 * QEMU's isa-debug-exit device (iobase 0xf4) makes qemu exit with
 * (value << 1) | 1, so the host's scripts/vm-run gets the guest's status
 * back and tells it apart from a guest that powered off or panicked (0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>
#include <sys/reboot.h>
#include <unistd.h>

#define DEBUG_EXIT_PORT 0xf4

int main(int argc, char **argv)
{
	int status = argc > 1 ? atoi(argv[1]) : 1;

	if (status < 0 || status > 127)
		status = 127;
	sync();
	if (ioperm(DEBUG_EXIT_PORT, 4, 1) == 0)
		outl((unsigned int)status, DEBUG_EXIT_PORT);
	perror("kshare-vm-exit: isa-debug-exit");
	reboot(RB_POWER_OFF);
	return 1;
}
