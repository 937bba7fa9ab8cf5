// SPDX-License-Identifier: MIT
/*
 * kshare-demo: getpid through the system call and through kshare, side by
 * side, in ns/op. A quick look for `make demo`, not a benchmark: kshare-bench
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

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 200000;
	pid_t via_sys = (pid_t)syscall(SYS_getpid), via_kshare = kshare_getpid();
	double sys_ns, libc_ns, kshare_ns;

	MEASURE(sys_ns, iters, (pid_t)syscall(SYS_getpid));
	MEASURE(libc_ns, iters, getpid());
	MEASURE(kshare_ns, iters * 20, kshare_getpid());

	printf("kshare %s on this kernel\n",
	       kshare_available(KSHARE_FEATURE_PROC_PID) ? "is available" : "is NOT available");
	printf("%-24s %10s %12s\n", "getpid via", "value", "ns/op");
	printf("%-24s %10d %12.1f\n", "syscall(SYS_getpid)", via_sys, sys_ns);
	printf("%-24s %10d %12.1f\n", "glibc getpid()", getpid(), libc_ns);
	printf("%-24s %10d %12.1f\n", "kshare_getpid()", via_kshare, kshare_ns);
	printf("speedup over the syscall: %.0fx\n", sys_ns / kshare_ns);
	return via_sys == via_kshare ? 0 : 1;
}
