/* SPDX-License-Identifier: MIT */
/*
 * kshare-apps-titles: the processes that scripts/bench-apps has procps ps
 * list, in the guest. Starts N processes that set a 64-byte title through
 * kshare (the title page), or N whose title is their own argv, the same
 * text, or N of each created alternately ("both"): this program exec'd
 * again; checks what /proc/PID/cmdline shows for each; writes the pid
 * lists; then waits for its standard input to close and ends them all.
 *
 *   kshare-apps-titles N DIR [kshare|argv|both]
 *
 * DIR/pids-kshare and DIR/pids-argv: comma-separated pids (procps ps -q
 * takes at most 255). Standard output: "titles KIND=N ready=N wrong=N" once
 * all are up, then "ready". Nothing is asserted: a wrong title is counted,
 * not failed.
 */
#define _GNU_SOURCE
#include <kshare/kshare.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TITLE_LEN 64

static void make_title(char *buf, int idx)
{
	int n = snprintf(buf, TITLE_LEN + 1, "app worker %05d: idle, accepting connections",
			 idx % 100000);

	memset(buf + n, '.', TITLE_LEN - n);
	buf[TITLE_LEN] = '\0';
}

/* An exec'd child: set the title if it is a kshare one, say so, wait. */
static int child(const char *kind)
{
	const char *fd = getenv("APPS_READY"), *idx = getenv("APPS_IDX");
	int ready = fd ? atoi(fd) : -1, i = idx ? atoi(idx) : 0;
	char title[TITLE_LEN + 1], c = 1;

	if (ready < 0)
		return 2;
	if (!strcmp(kind, "kshare")) {
		make_title(title, i);
		kshare_setproctitle("-%s", title);
	}
	if (write(ready, &c, 1) != 1)
		return 2;
	for (;;)
		pause();
}

/* /proc/PID/cmdline is exactly @want and its NUL. */
static int shows(pid_t pid, const char *want)
{
	char path[64], buf[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)strlen(want) + 1 && !memcmp(buf, want, (size_t)n);
}

int main(int argc, char **argv)
{
	const char *kind = getenv("APPS_CHILD"), *want = argc > 3 ? argv[3] : "both";
	char self[PATH_MAX], path[PATH_MAX + 32], title[TITLE_LEN + 1];
	int ready[2], n, i, got = 0, wrong = 0, step = 1, first = 0;
	FILE *lists[2];
	pid_t *pids;
	ssize_t len;

	if (kind)
		return child(kind);
	if (argc < 3 || argc > 4 || (n = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: kshare-apps-titles N DIR [kshare|argv|both]\n");
		return 2;
	}
	/* Process i is an argv one when i is odd: "both" takes every i. */
	if (!strcmp(want, "kshare") || !strcmp(want, "argv")) {
		step = 2;
		first = !strcmp(want, "argv");
	} else if (strcmp(want, "both")) {
		fprintf(stderr, "kshare-apps-titles: kshare, argv or both, not %s\n", want);
		return 2;
	}
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	pids = calloc(2 * (size_t)n, sizeof(*pids));
	if (len <= 0 || !pids || pipe(ready)) {
		perror("kshare-apps-titles");
		return 1;
	}
	self[len] = '\0';
	signal(SIGPIPE, SIG_IGN);
	for (i = first; i < 2 * n; i += step) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork (raise --mem?)");
			break;
		}
		if (pid == 0) {
			char env_kind[32], env_fd[32], env_idx[32];
			char *cargv[2] = { "kshare-apps-titles", NULL };
			char *envp[] = { env_kind, env_fd, env_idx, NULL };

			close(ready[0]);
			snprintf(env_kind, sizeof(env_kind), "APPS_CHILD=%s", i & 1 ? "argv" : "kshare");
			snprintf(env_fd, sizeof(env_fd), "APPS_READY=%d", ready[1]);
			snprintf(env_idx, sizeof(env_idx), "APPS_IDX=%d", i / 2);
			if (i & 1) {
				/* The title as the program's own argument, the classic way. */
				make_title(title, i / 2);
				cargv[0] = title;
			}
			execve(self, cargv, envp);
			_exit(127);
		}
		pids[i] = pid;
	}
	n = i < 2 * n ? i / 2 : n;
	close(ready[1]);
	while (got < 2 * n / step) {
		struct pollfd pfd = { .fd = ready[0], .events = POLLIN };
		char buf[256];
		ssize_t r;

		if (poll(&pfd, 1, 120000) == 0)
			break;
		r = read(ready[0], buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (int)r;
	}
	close(ready[0]);

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/pids-%s", argv[2], i ? "argv" : "kshare");
		lists[i] = fopen(path, "w");
		if (!lists[i]) {
			perror(path);
			return 1;
		}
	}
	for (i = first; i < 2 * n; i += step) {
		make_title(title, i / 2);
		wrong += !shows(pids[i], title);
		fprintf(lists[i & 1], "%s%d", i < 2 ? "" : ",", pids[i]);
	}
	fclose(lists[0]);
	fclose(lists[1]);
	printf("titles %s=%d ready=%d wrong=%d\nready\n", want, n, got, wrong);
	fflush(stdout);

	/* Until the driver closes our standard input. */
	while (read(0, title, sizeof(title)) > 0)
		;
	for (i = first; i < 2 * n; i += step)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	for (i = first; i < 2 * n; i += step)
		if (pids[i] > 0)
			waitpid(pids[i], NULL, 0);
	return 0;
}
