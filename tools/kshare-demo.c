// SPDX-License-Identifier: MIT
/*
 * kshare-demo: getpid and friends through the system call, glibc and kshare,
 * side by side, in ns/op. A quick look for `make demo`, not a benchmark: kshare-bench
 * (Google Benchmark) is the measurement. Inside QEMU/TCG absolute numbers
 * mean little; compare the ratio.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <kshare/kshare.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Best of several rounds, so a preempted round does not count. */
#define MEASURE(result, iters, expr)                                       \
	do {                                                               \
		double best = 1e30;                                        \
		for (int round = 0; round < 5; round++) {                  \
			volatile pid_t sink;                               \
			double t0 = now_ns();                              \
			for (long i = 0; i < (iters); i++)                 \
				sink = (expr);                             \
			double per = (now_ns() - t0) / (iters);            \
			(void)sink;                                        \
			if (per < best)                                    \
				best = per;                                \
		}                                                          \
		(result) = best;                                           \
	} while (0)

static void row(const char *call, long value, double sys_ns, double libc_ns, double kshare_ns)
{
	printf("%-10s %8ld %14.1f %14.1f %14.1f %9.0fx\n", call, value, sys_ns, libc_ns,
	       kshare_ns, sys_ns / kshare_ns);
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 200000;
	long fast = iters * 20;
	double sys_ns, libc_ns, kshare_ns;
	int same = 1;

	printf("kshare %s on this kernel\n\n",
	       kshare_available(KSHARE_FEATURE_PROC_PID) ? "is available" : "is NOT available");
	printf("%-10s %8s %14s %14s %14s %10s\n", "call", "value", "syscall ns/op",
	       "glibc ns/op", "kshare ns/op", "speedup");

	MEASURE(sys_ns, iters, (pid_t)syscall(SYS_getpid));
	MEASURE(libc_ns, iters, getpid());
	MEASURE(kshare_ns, fast, kshare_getpid());
	row("getpid", kshare_getpid(), sys_ns, libc_ns, kshare_ns);
	same &= kshare_getpid() == syscall(SYS_getpid);

	MEASURE(sys_ns, iters, (pid_t)syscall(SYS_getppid));
	MEASURE(libc_ns, iters, getppid());
	MEASURE(kshare_ns, fast, kshare_getppid());
	row("getppid", kshare_getppid(), sys_ns, libc_ns, kshare_ns);
	same &= kshare_getppid() == syscall(SYS_getppid);

	MEASURE(sys_ns, iters, (pid_t)syscall(SYS_gettid));
	MEASURE(libc_ns, iters, gettid());
	MEASURE(kshare_ns, fast, kshare_gettid());
	row("gettid", kshare_gettid(), sys_ns, libc_ns, kshare_ns);
	same &= kshare_gettid() == syscall(SYS_gettid);

	MEASURE(sys_ns, iters, (pid_t)syscall(SYS_getuid));
	MEASURE(libc_ns, iters, (pid_t)getuid());
	MEASURE(kshare_ns, fast, (pid_t)kshare_getuid());
	row("getuid", kshare_getuid(), sys_ns, libc_ns, kshare_ns);
	same &= kshare_getuid() == (uid_t)syscall(SYS_getuid);

	printf("\nbest of 5 rounds of %ld calls (kshare: %ld); every value equals the syscall's: %s\n",
	       iters, fast, same ? "yes" : "NO");
	return same ? 0 : 1;
}
