// SPDX-License-Identifier: MIT
/*
 * exec-as: run an unmodified program with chosen ids and, optionally, a
 * seccomp filter that makes the id system calls fail with EPERM; so a
 * Debian program's output tells whether its ids came from the kshare page
 * (through the LD_PRELOAD shim) or from the kernel.
 *
 *   exec-as [--resuid R,E,S] [--resgid R,E,S] [--deny-ids] -- PROG [ARGS]
 *
 * Static, so LD_PRELOAD in the environment reaches PROG and not this.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "../guest/deny.h"
#include <unistd.h>

static int parse3(const char *s, unsigned int v[3])
{
	return sscanf(s, "%u,%u,%u", &v[0], &v[1], &v[2]) == 3 ? 0 : -1;
}

static int deny_ids(void)
{
	static const int nrs[] = {
		SYS_getpid, SYS_getppid, SYS_gettid, SYS_getuid, SYS_geteuid,
		SYS_getgid, SYS_getegid, SYS_getresuid, SYS_getresgid,
		SYS_getpgid, SYS_getsid, SYS_uname,
#ifdef SYS_getpgrp
		SYS_getpgrp,
#endif
	};

	return kt_deny_syscalls(nrs, sizeof(nrs) / sizeof(nrs[0]));
}

int main(int argc, char **argv)
{
	unsigned int uids[3], gids[3];
	int set_uid = 0, set_gid = 0, deny = 0, i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--resuid") && i + 1 < argc && !parse3(argv[i + 1], uids))
			set_uid = 1, i++;
		else if (!strcmp(argv[i], "--resgid") && i + 1 < argc && !parse3(argv[i + 1], gids))
			set_gid = 1, i++;
		else if (!strcmp(argv[i], "--deny-ids"))
			deny = 1;
		else
			break;
	}
	if (i + 1 >= argc || strcmp(argv[i], "--")) {
		fprintf(stderr, "usage: exec-as [--resuid R,E,S] [--resgid R,E,S] [--deny-ids] -- PROG [ARGS]\n");
		return 2;
	}
	/* groups and gids first: after the uid change we may not set them */
	if (set_gid && (setgroups(1, &gids[0]) || setresgid(gids[0], gids[1], gids[2]))) {
		perror("exec-as: setresgid");
		return 127;
	}
	if (set_uid && setresuid(uids[0], uids[1], uids[2])) {
		perror("exec-as: setresuid");
		return 127;
	}
	if (deny && deny_ids()) {
		perror("exec-as: seccomp");
		return 127;
	}
	execv(argv[i + 1], argv + i + 1);
	perror("exec-as: exec");
	return 127;
}
