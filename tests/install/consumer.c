// SPDX-License-Identifier: MIT
/* A consumer of the installed package, built with pkg-config: every call
 * must give the system call's answer, whichever path it takes. */
#define _GNU_SOURCE
#include <kshare/kshare.h>

#include <dlfcn.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	uid_t r, e, s;
	int bad = 0;

	bad |= kshare_getpid() != syscall(SYS_getpid);
	bad |= kshare_getppid() != syscall(SYS_getppid);
	bad |= kshare_gettid() != syscall(SYS_gettid);
	bad |= kshare_getuid() != (uid_t)syscall(SYS_getuid);
	bad |= kshare_getsid(0) != syscall(SYS_getsid, 0);
	bad |= kshare_getresuid(&r, &e, &s) != 0 || r != (uid_t)syscall(SYS_getuid);
	/* the exported twin, as dlsym() and other languages' FFIs reach it */
	pid_t (*fn)(void) = (pid_t(*)(void))dlsym(RTLD_DEFAULT, "kshare_getpid");
	bad |= !fn || fn() != syscall(SYS_getpid);
	printf("consumer-c: kshare %s, answers %s\n",
	       kshare_available(KSHARE_FEATURE_PROC_PID) ? "available" : "not available (fallback)",
	       bad ? "WRONG" : "right");
	return bad;
}
