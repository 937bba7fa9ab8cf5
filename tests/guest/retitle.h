/* SPDX-License-Identifier: MIT */
/*
 * A thread that retitles its process as fast as it can, "kshare-N-N" with N
 * counting up, and the check that a title read meanwhile is one whole
 * title: for the title page's tests (title.c, through kshare_setproctitle())
 * and the preload shim's (preload-check.c, through libbsd's name
 * setproctitle()). Include after ktest.h, with _GNU_SOURCE.
 */
#ifndef KSHARE_RETITLE_H
#define KSHARE_RETITLE_H

#include <pthread.h>

#include "ktest.h"

typedef void (*kt_setproctitle_fn)(const char *fmt, ...);

struct kt_retitler {
	kt_setproctitle_fn set;
	pthread_t thread;
	int stop;		/* set by the reader: the writer ends */
	unsigned long last;	/* the last N set, once the writer ended */
};

static void *kt_retitle(void *arg)
{
	struct kt_retitler *r = arg;
	unsigned long n;

	for (n = 1; !__atomic_load_n(&r->stop, __ATOMIC_RELAXED); n++)
		r->set("kshare-%lu-%lu", n, n);
	r->last = n - 1;
	return NULL;
}

/* Title 0 set here, then the writer thread started: 0 if it runs. */
static inline int kt_retitler_start(struct kt_retitler *r, kt_setproctitle_fn set)
{
	r->set = set;
	r->stop = 0;
	r->last = 0;
	set("kshare-%lu-%lu", 0UL, 0UL);
	return pthread_create(&r->thread, NULL, kt_retitle, r);
}

static inline void kt_retitler_stop(struct kt_retitler *r)
{
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELAXED);
	pthread_join(r->thread, NULL);
}

/* A number of decimal digits at *@p, moving @p past them; -1 if none. */
static inline long kt_number(const char **p)
{
	long v = -1;

	for (; **p >= '0' && **p <= '9'; (*p)++)
		v = (v < 0 ? 0 : v * 10) + (**p - '0');
	return v;
}

/*
 * N, if the @len bytes at @buf (a NUL after them) are exactly the title
 * "progname: kshare-N-N" with the same N twice, as kshare_setproctitle()
 * shows "kshare-%lu-%lu"; -1 for anything else: a torn title (two
 * different numbers, bytes past the title), or another title.
 */
static inline long kt_retitled(const char *buf, size_t len)
{
	const char *name = program_invocation_short_name, *p;
	size_t n = strlen(name);
	long a, b;

	if (strlen(buf) != len || len < n + 2 || memcmp(buf, name, n) || memcmp(buf + n, ": ", 2))
		return -1;
	p = buf + n + 2;
	if (strncmp(p, "kshare-", 7))
		return -1;
	p += 7;
	a = kt_number(&p);
	if (*p++ != '-')
		return -1;
	b = kt_number(&p);
	return a >= 0 && a == b && *p == '\0' ? a : -1;
}

/*
 * The title never flickers: while a thread retitles through @set as fast
 * as it can, /proc/self/cmdline read @reads times shows one whole title
 * each time: never the arguments, never a torn title, nothing after the
 * title's NUL.
 */
static inline int kt_title_never_flickers(kt_setproctitle_fn set, long reads)
{
	static char args[4096], buf[4096];
	long i, argv_shown = 0, torn = 0, first = -1, last = -1;
	struct kt_retitler r;
	ssize_t nargs;

	nargs = kt_read_cmdline(getpid(), args, sizeof(args));
	KT_EXPECT(kt_retitler_start(&r, set) == 0, "pthread_create");
	for (i = 0; i < reads; i++) {
		int fd = open("/proc/self/cmdline", O_RDONLY);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
		long v = n > 0 && buf[n - 1] == '\0' ? kt_retitled(buf, (size_t)n - 1) : -1;

		if (fd >= 0)
			close(fd);
		if (v >= 0) {
			if (first < 0)
				first = v;
			last = v;
		} else if (n == nargs && !memcmp(buf, args, (size_t)n)) {
			if (argv_shown++ < 3)
				kt_diag("read %ld shows the arguments", i);
		} else if (torn++ < 3) {
			kt_diag("read %ld torn: %zd bytes '%.*s'", i, n, n > 0 ? (int)n : 0, buf);
		}
	}
	kt_retitler_stop(&r);
	kt_diag("%ld reads of /proc/self/cmdline while %lu titles were set: titles %ld to %ld, "
		"%ld argv, %ld torn", reads, r.last, first, last, argv_shown, torn);
	KT_EXPECT(argv_shown == 0, "%ld of %ld reads showed the arguments", argv_shown, reads);
	KT_EXPECT(torn == 0, "%ld of %ld reads were torn", torn, reads);
	KT_EXPECT(last > first, "the writer made no progress while the reads ran");
	return KT_PASS;
}

#endif
