// SPDX-License-Identifier: MIT
/*
 * kshare-demo: what a user of kshare gains, seen from inside a kshare
 * kernel (make demo runs it in the VM).
 *
 * 1. Every call kshare answers (getpid ... getresgid, gethostname,
 *    getdomainname, uname, get_nprocs, setproctitle) through the raw system
 *    call, through glibc and through kshare, ns per call, and the speedup.
 * 2. A title set through the kshare page, as ps shows it, beside a process
 *    whose title is its argv.
 * 3. Reading /proc/PID/cmdline, as ps does, of a process with a kshare title
 *    and of one with an argv title, idle and while another thread of that
 *    process holds its mmap_lock for writing over and over (mprotect of a
 *    64 MiB region in a loop): latencies side by side, the reads 1 ms apart
 *    as ps's would be.
 *
 *   kshare-demo [MS]     MS: milliseconds per timing round (default 40)
 *
 * A quick look, not a benchmark: kshare-bench and scripts/bench-apps are the
 * measurements. Under QEMU/TCG absolute numbers mean little; compare the
 * ratios. Exit status 1 if a kshare value differed from the system call's.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kshare/kshare.h>

#define ROUNDS 5
#define TITLE_LEN 64
#define REGION (64UL << 20)
#define READS 200
#define GAP_NS 1000000

static double round_ns = 40e6;
static volatile long sink;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * ns per @stmt: batches of @batch until the round has run round_ns; the best
 * of ROUNDS rounds, so a round the host preempted does not count.
 */
#define MEASURE(result, batch, stmt)                                       \
	do {                                                               \
		double best_ = 1e30;                                       \
		for (int r_ = 0; r_ < ROUNDS; r_++) {                      \
			double t0_ = now_ns(), t_;                         \
			long n_ = 0;                                       \
			do {                                               \
				for (long i_ = 0; i_ < (batch); i_++) {    \
					stmt;                              \
				}                                          \
				n_ += (batch);                             \
				t_ = now_ns() - t0_;                       \
			} while (t_ < round_ns);                           \
			if (t_ / n_ < best_)                               \
				best_ = t_ / n_;                           \
		}                                                          \
		(result) = best_;                                          \
	} while (0)

static int all_same = 1;

static void cell(double ns)
{
	if (ns < 0)
		printf(" %12s", "-");
	else
		printf(" %12.1f", ns);
}

static void ratio(double a, double b)
{
	if (a < 0)
		printf(" %9s", "-");
	else
		printf(" %8.0fx", a / b);
}

/* One row; a negative time is a column that does not apply. */
static void row(const char *call, const char *value, double sys, double libc, double ks, int same)
{
	printf("%-14s %-10.10s", call, value);
	cell(sys);
	cell(libc);
	cell(ks);
	ratio(sys, ks);
	ratio(libc, ks);
	printf("%s\n", same ? "" : "  (kshare's value DIFFERS)");
	all_same &= same;
}

static void num_row(const char *call, long value, double sys, double libc, double ks, int same)
{
	char v[32];

	snprintf(v, sizeof(v), "%ld", value);
	row(call, v, sys, libc, ks, same);
}

/* The 64-byte title the setproctitle row writes. */
static void make_title(char *buf, const char *what)
{
	int n = snprintf(buf, TITLE_LEN + 1, "kshare-demo: %s, idle, accepting connections", what);

	memset(buf + n, '.', TITLE_LEN - n);
	buf[TITLE_LEN] = '\0';
}

/*
 * The children's titles: they start with the program's name, or busybox ps
 * would put "{kshare-demo}" in front of them.
 */
static void child_title(char *buf, const char *kind, int busy)
{
	snprintf(buf, TITLE_LEN + 1, "kshare-demo: worker, title %s%s",
		 !strcmp(kind, "kshare") ? "on the kshare page" : "in argv",
		 busy ? ", mmap_lock busy" : "");
}

static ssize_t read_cmdline(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size);
	close(fd);
	return n;
}

static void calls(void)
{
	double s, g, k;
	uid_t a, b, c, x, y, z;
	char n1[65], n2[65], v[64], title[TITLE_LEN + 1], seen[256];
	struct utsname u1, u2;

	printf("%-14s %-10s %12s %12s %12s %9s %9s\n", "call", "value", "syscall ns", "glibc ns",
	       "kshare ns", "vs sysc.", "vs glibc");

#define GETTER(name, sysno, libc)                                                  \
	do {                                                                       \
		MEASURE(s, 1000, sink = syscall(sysno));                           \
		MEASURE(g, 1000, sink = libc);                                     \
		MEASURE(k, 20000, sink = kshare_##name());                         \
		num_row(#name, (long)kshare_##name(), s, g, k,                     \
			(long)kshare_##name() == (long)syscall(sysno));            \
	} while (0)
	GETTER(getpid, SYS_getpid, getpid());
	GETTER(getppid, SYS_getppid, getppid());
	GETTER(gettid, SYS_gettid, gettid());
	/* getpgid(0): the system call arm64 has (it has no getpgrp). */
	MEASURE(s, 1000, sink = syscall(SYS_getpgid, 0));
	MEASURE(g, 1000, sink = getpgrp());
	MEASURE(k, 20000, sink = kshare_getpgrp());
	num_row("getpgrp", kshare_getpgrp(), s, g, k, kshare_getpgrp() == syscall(SYS_getpgid, 0));
	MEASURE(s, 1000, sink = syscall(SYS_getsid, 0));
	MEASURE(g, 1000, sink = getsid(0));
	MEASURE(k, 20000, sink = kshare_getsid(0));
	num_row("getsid", kshare_getsid(0), s, g, k, kshare_getsid(0) == syscall(SYS_getsid, 0));
	GETTER(getuid, SYS_getuid, getuid());
	GETTER(geteuid, SYS_geteuid, geteuid());
	GETTER(getgid, SYS_getgid, getgid());
	GETTER(getegid, SYS_getegid, getegid());
#undef GETTER

#define GETRES(name, sysno)                                                        \
	do {                                                                       \
		MEASURE(s, 1000, sink = syscall(sysno, &a, &b, &c));               \
		MEASURE(g, 1000, sink = name(&a, &b, &c));                         \
		MEASURE(k, 20000, sink = kshare_##name(&a, &b, &c));               \
		syscall(sysno, &x, &y, &z);                                        \
		kshare_##name(&a, &b, &c);                                         \
		snprintf(v, sizeof(v), "%u,%u,%u", a, b, c);                       \
		row(#name, v, s, g, k, a == x && b == y && c == z);                \
	} while (0)
	GETRES(getresuid, SYS_getresuid);
	GETRES(getresgid, SYS_getresgid);
#undef GETRES

	/* glibc's gethostname and getdomainname are uname(2) and a copy. */
	MEASURE(s, 1000, sink = syscall(SYS_uname, &u1));
	MEASURE(g, 1000, sink = gethostname(n1, sizeof(n1)));
	MEASURE(k, 10000, sink = kshare_gethostname(n2, sizeof(n2)));
	gethostname(n1, sizeof(n1));
	kshare_gethostname(n2, sizeof(n2));
	row("gethostname", n2, s, g, k, !strcmp(n1, n2));
	MEASURE(g, 1000, sink = getdomainname(n1, sizeof(n1)));
	MEASURE(k, 10000, sink = kshare_getdomainname(n2, sizeof(n2)));
	getdomainname(n1, sizeof(n1));
	kshare_getdomainname(n2, sizeof(n2));
	row("getdomainname", n2, s, g, k, !strcmp(n1, n2));
	MEASURE(g, 1000, sink = uname(&u1));
	MEASURE(k, 10000, sink = kshare_uname(&u2));
	uname(&u1);
	kshare_uname(&u2);
	row("uname", u2.release, s, g, k, !memcmp(&u1, &u2, sizeof(u1)));

	/* glibc reads /sys/devices/system/cpu/online: no one system call. */
	MEASURE(g, 100, sink = get_nprocs());
	MEASURE(k, 20000, sink = kshare_get_nprocs());
	num_row("get_nprocs", kshare_get_nprocs(), -1, g, k, kshare_get_nprocs() == get_nprocs());

	/*
	 * glibc has no setproctitle; the system call beside it is
	 * prctl(PR_SET_NAME), which sets only the 16-byte comm.
	 */
	make_title(title, "setproctitle row");
	MEASURE(s, 1000, sink = prctl(PR_SET_NAME, "kshare-demo"));
	MEASURE(k, 1000, kshare_setproctitle("-%s", title));
	row("setproctitle", "64 B", s, -1, k,
	    read_cmdline(getpid(), seen, sizeof(seen)) == TITLE_LEN + 1 && !strcmp(seen, title));

	printf("\nns per call, best of %d rounds of %.0f ms each; \"-\": no such call (glibc has no\n"
	       "setproctitle; its syscall column is prctl(PR_SET_NAME), 16 bytes of comm only;\n"
	       "get_nprocs in glibc reads sysfs). Every kshare value equals the system call's: %s\n",
	       ROUNDS, round_ns / 1e6, all_same ? "yes" : "NO");
}

/* ---- processes with a title, and a thread that takes their mmap_lock ---- */

static void *hammer(void *arg)
{
	char *p = arg;

	/* mprotect() holds the mmap_lock for writing while it walks 16384 PTEs. */
	for (;;) {
		mprotect(p, REGION, PROT_READ);
		mprotect(p, REGION, PROT_READ | PROT_WRITE);
	}
	return NULL;
}

/* An exec'd child: a title through kshare or as argv, maybe a hammer. */
static int child(const char *kind)
{
	const char *busy = getenv("KSHARE_DEMO_BUSY"), *fd = getenv("KSHARE_DEMO_READY");
	char title[TITLE_LEN + 1], c = 1;
	pthread_t t;

	if (!strcmp(kind, "kshare")) {
		child_title(title, kind, busy && *busy == '1');
		kshare_setproctitle("-%s", title);
	}
	if (busy && *busy == '1') {
		char *p = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

		if (p == MAP_FAILED || pthread_create(&t, NULL, hammer, p))
			return 2;
	}
	if (!fd || write(atoi(fd), &c, 1) != 1)
		return 2;
	for (;;)
		pause();
}

static char self[4096];

static pid_t start(const char *kind, int busy)
{
	char title[TITLE_LEN + 1], e_kind[64], e_busy[64], e_ready[64], c;
	char *argv[] = { "kshare-demo", NULL };
	char *envp[] = { e_kind, e_busy, e_ready, NULL };
	int ready[2];
	pid_t pid;

	if (pipe(ready))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		snprintf(e_kind, sizeof(e_kind), "KSHARE_DEMO_CHILD=%s", kind);
		snprintf(e_busy, sizeof(e_busy), "KSHARE_DEMO_BUSY=%d", busy);
		snprintf(e_ready, sizeof(e_ready), "KSHARE_DEMO_READY=%d", ready[1]);
		if (!strcmp(kind, "argv")) {
			/* The title as the program's own argument, the classic way. */
			child_title(title, kind, busy);
			argv[0] = title;
		}
		execve(self, argv, envp);
		_exit(127);
	}
	close(ready[1]);
	if (pid > 0 && read(ready[0], &c, 1) != 1)
		pid = -1;
	close(ready[0]);
	return pid;
}

static void stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

static void ps_shows(pid_t a, pid_t b)
{
	char line[512];
	FILE *ps = popen("ps -o pid,args", "r");
	int first = 1;

	printf("\n$ ps -o pid,args    (this process, a child titled through kshare, one with an argv title)\n");
	if (!ps) {
		printf("(no ps)\n");
		return;
	}
	while (fgets(line, sizeof(line), ps)) {
		int pid = atoi(line);

		if (first || pid == getpid() || pid == a || pid == b)
			fputs(line, stdout);
		first = 0;
	}
	pclose(ps);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * READS reads of @pid's cmdline, as ps does it (open, read, close), in µs,
 * 1 ms apart: ps reads each process once, the others in between. Back to
 * back, a reader would mostly slip in while the writer waits for the lock
 * (rwsem readers may take it from a waiting writer).
 */
static void latencies(pid_t pid, double *us, int *ok, const char *want)
{
	char buf[256];

	*ok = 1;
	for (int i = 0; i < READS; i++) {
		struct timespec gap = { 0, GAP_NS };
		double t0;
		ssize_t n;

		/* Asleep, not spinning: the host's cores are shared. */
		nanosleep(&gap, NULL);
		t0 = now_ns();
		n = read_cmdline(pid, buf, sizeof(buf));

		us[i] = (now_ns() - t0) / 1e3;
		if (n != (ssize_t)strlen(want) + 1 || memcmp(buf, want, (size_t)n))
			*ok = 0;
	}
	qsort(us, READS, sizeof(*us), cmp);
}

static double mean(const double *us)
{
	double sum = 0;

	for (int i = 0; i < READS; i++)
		sum += us[i];
	return sum / READS;
}

static void lat_row(const char *what, const double *us, int ok)
{
	printf("%-34s %8.1f %8.1f %8.1f %8.1f %8.1f%s\n", what, us[READS / 2], us[READS * 9 / 10],
	       us[READS * 99 / 100], us[READS - 1], mean(us), ok ? "" : "  (title NOT as set)");
}

static void titles(void)
{
	static double lat[4][READS];
	char want[4][TITLE_LEN + 1];
	int ok[4];
	pid_t k, a;
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (len <= 0)
		return;
	self[len] = '\0';
	child_title(want[0], "kshare", 0);
	child_title(want[1], "argv", 0);
	child_title(want[2], "kshare", 1);
	child_title(want[3], "argv", 1);

	/* This process keeps a title set through the page, as a daemon would. */
	kshare_setproctitle("-kshare-demo: this title is on the kshare page, set with no system call");
	k = start("kshare", 0);
	a = start("argv", 0);
	ps_shows(k, a);

	printf("\n/proc/PID/cmdline, read as ps reads it (open, read, close), %d reads each,\n"
	       "1 ms apart, latency in µs:\n", READS);
	printf("%-34s %8s %8s %8s %8s %8s\n", "title of the process read", "median", "90%", "99%",
	       "max", "mean");
	latencies(k, lat[0], &ok[0], want[0]);
	latencies(a, lat[1], &ok[1], want[1]);
	stop(k);
	stop(a);
	lat_row("kshare page, idle", lat[0], ok[0]);
	lat_row("argv, idle", lat[1], ok[1]);
	/* One contended process at a time: its thread keeps one vCPU busy. */
	k = start("kshare", 1);
	latencies(k, lat[2], &ok[2], want[2]);
	stop(k);
	a = start("argv", 1);
	latencies(a, lat[3], &ok[3], want[3]);
	stop(a);
	lat_row("kshare page, mmap_lock contended", lat[2], ok[2]);
	lat_row("argv, mmap_lock contended", lat[3], ok[3]);
	printf("\n\"contended\": another thread of the process read loops on mprotect() of a\n"
	       "64 MiB region, holding its mmap_lock for writing. An argv title is read from\n"
	       "the process's memory under that lock (access_remote_vm), so ps waits for the\n"
	       "writer; a kshare title is copied from the title page without it.\n"
	       "Contended: ps waits %.0fx longer for the argv title (median %.1f against\n"
	       "%.1f us; 90th percentile %.1f against %.1f us).\n",
	       lat[3][READS / 2] / lat[2][READS / 2], lat[3][READS / 2], lat[2][READS / 2],
	       lat[3][READS * 9 / 10], lat[2][READS * 9 / 10]);
	for (int i = 0; i < 4; i++)
		all_same &= ok[i];
}

int main(int argc, char **argv)
{
	const char *kind = getenv("KSHARE_DEMO_CHILD");

	if (kind)
		return child(kind);
	if (argc > 1 && atof(argv[1]) > 0)
		round_ns = atof(argv[1]) * 1e6;

	printf("kshare %s on this kernel\n\n",
	       kshare_available(KSHARE_FEATURE_PROC_PID) ? "is available" : "is NOT available");
	calls();
	titles();
	return all_same ? 0 : 1;
}
