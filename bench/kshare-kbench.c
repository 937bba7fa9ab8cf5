/* SPDX-License-Identifier: MIT */
/*
 * kshare-kbench: what kshare costs the kernel and what it saves ps(1),
 * measured inside the guest. scripts/bench-kernel boots the same kernel with
 * kshare on and with kshare=off (and the CONFIG_KSHARE=n build), runs this
 * in each, several rounds interleaved, and bench/kshare-kbench-report.py
 * reduces the samples to medians and on/off ratios.
 *
 *   kshare-kbench [--quick] [TEST...]
 *
 * TEST: fork (fork+exit, exit, fork+exec+exit), sethostname, setuid, setxid
 * (glibc's setresuid() in processes of 16 to 256 threads), uidmap (user
 * namespace map writes among 2000 processes), reparent, procs (memory per kind
 * of process, and what ps pays for their cmdline), live (exit with 1 to
 * 10^4 live processes, kernel memory with 10^4), toggle (the on/off A/B
 * again inside one boot, through kernel.kshare_enabled), scaling (reader
 * threads against a writer: needs real parallelism, so not under QEMU's
 * icount); default all. --quick shrinks every run for a smoke test.
 *
 * Output: one line per sample, "KBENCH TEST VARIANT UNIT VALUE", and
 * "KBENCH_INFO KEY VALUE" lines saying what ran where. Nothing is asserted:
 * a wrong title or a lost hostname is counted and printed, not failed.
 *
 * The main process never calls libkshare, so its pages stay untouched:
 * whatever must touch them (a reader, a title) runs in a child made for it,
 * and what children inherit from the main process is "never touched".
 */
#define _GNU_SOURCE
#include <kshare/kshare.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Sizes of the runs; --quick divides them for a smoke test. */
static int kshare_quick;
#define KB_N(full, quick) (kshare_quick ? (quick) : (full))

static char kshare_self[PATH_MAX];	/* this program, for exec */
static char kshare_true[PATH_MAX];	/* kshare-kbench-true, next to it */

/* A 64-byte title: what the setproctitle target is sized for. */
#define KB_TITLE_LEN 64
/* argv padding, so that the library's argv-overwrite fallback has room. */
static const char kshare_pad[] =
	"................................................................................";

/*
 * KB_COLD is KB_NONE measured before any process of the boot registered,
 * with the kernel's kshare_in_use static key still off.
 */
enum kb_kind { KB_NONE, KB_READ, KB_TITLE, KB_ARGV, KB_TRUE, KB_COLD };
static const char *const kb_kind_name[] = { "none", "read", "title", "argv", "true", "cold" };

static uint64_t kb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void kb_emit(const char *test, const char *variant, const char *unit, double v)
{
	printf("KBENCH %s %s %s %.6g\n", test, variant, unit, v);
	fflush(stdout);
}

static void kb_die(const char *what)
{
	fprintf(stderr, "kshare-kbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int kb_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t kb_median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), kb_cmp_u64);
	return n ? v[n / 2] : 0;
}

static int kb_reap(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* ---- /proc/meminfo ---- */

struct kb_mem {
	long free, slab, pagetables, kstack, anon;	/* kB */
	long proc_pages;	/* debugfs kshare/proc_pages, -1 without it */
};

static long kb_read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/*
 * Frees after exit are partly deferred (RCU for task structures, per-CPU
 * page lists), so give the kernel a moment before every sample.
 */
static void kb_mem_sample(struct kb_mem *m)
{
	char key[64];
	long v;
	FILE *f;

	usleep(300000);
	memset(m, 0, sizeof(*m));
	f = fopen("/proc/meminfo", "r");
	if (!f)
		kb_die("/proc/meminfo");
	while (fscanf(f, "%63[^:]: %ld kB\n", key, &v) == 2) {
		if (!strcmp(key, "MemFree"))
			m->free = v;
		else if (!strcmp(key, "Slab"))
			m->slab = v;
		else if (!strcmp(key, "PageTables"))
			m->pagetables = v;
		else if (!strcmp(key, "KernelStack"))
			m->kstack = v;
		else if (!strcmp(key, "AnonPages"))
			m->anon = v;
	}
	fclose(f);
	if (access("/sys/kernel/debug/kshare", F_OK) != 0)
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	m->proc_pages = kb_read_long("/sys/kernel/debug/kshare/proc_pages");
}

/*
 * Emit what @n processes cost between @base and @now, per process, in
 * 4 KiB pages; MemFree is everything, the others say where it went (kshare's
 * own pages are plain page allocations: they show only in MemFree and in
 * debugfs's kshare/proc_pages).
 */
static void kb_mem_emit(const char *test, const char *what, const struct kb_mem *base,
			const struct kb_mem *now, long n)
{
	char variant[96];
	const double per = 4.0 * (double)n;

	snprintf(variant, sizeof(variant), "%s:MemFree", what);
	kb_emit(test, variant, "pages/proc", (double)(base->free - now->free) / per);
	snprintf(variant, sizeof(variant), "%s:Slab", what);
	kb_emit(test, variant, "pages/proc", (double)(now->slab - base->slab) / per);
	snprintf(variant, sizeof(variant), "%s:PageTables", what);
	kb_emit(test, variant, "pages/proc", (double)(now->pagetables - base->pagetables) / per);
	snprintf(variant, sizeof(variant), "%s:KernelStack", what);
	kb_emit(test, variant, "pages/proc", (double)(now->kstack - base->kstack) / per);
	snprintf(variant, sizeof(variant), "%s:AnonPages", what);
	kb_emit(test, variant, "pages/proc", (double)(now->anon - base->anon) / per);
	if (base->proc_pages >= 0 && now->proc_pages >= 0) {
		snprintf(variant, sizeof(variant), "%s:kshare_proc_pages", what);
		kb_emit(test, variant, "pages/proc",
			(double)(now->proc_pages - base->proc_pages) / (double)n);
	}
}

/* ---- children that stay alive ---- */

static void kb_make_title(char *buf, int idx)
{
	int n = snprintf(buf, KB_TITLE_LEN + 1, "kbench worker %05d: idle, accepting connections",
			 idx % 100000);

	memset(buf + n, '.', KB_TITLE_LEN - n);
	buf[KB_TITLE_LEN] = '\0';
}

/* Do what a process of @kind does to kshare, then nothing else. */
static void kb_child_act(enum kb_kind kind, int idx)
{
	char buf[KB_TITLE_LEN + 1];

	switch (kind) {
	case KB_READ:
		/* A reader touches the process page and the system page. */
		if (kshare_getpid() <= 0 || kshare_gethostname(buf, sizeof(buf)) < 0)
			_exit(3);
		break;
	case KB_TITLE:
		kb_make_title(buf, idx);
		kshare_setproctitle("-%s", buf);
		break;
	default:
		break;
	}
}

static void __attribute__((noreturn)) kb_child_wait(int ready_fd)
{
	char c = 1;

	if (write(ready_fd, &c, 1) != 1)
		_exit(2);
	for (;;)
		pause();
}

/* Exec'd children: kshare-kbench again, told what to be by its environment. */
static int kb_child_main(const char *kind)
{
	const char *fd = getenv("KBENCH_READY"), *idx = getenv("KBENCH_IDX");
	int ready_fd = fd ? atoi(fd) : -1, index = idx ? atoi(idx) : 0;
	enum kb_kind k;

	/*
	 * Parsed before acting: the argv fallback of setproctitle writes over
	 * the environment strings these point into.
	 */
	for (k = KB_NONE; k <= KB_TRUE; k++)
		if (!strcmp(kind, kb_kind_name[k]))
			break;
	if (k == KB_TRUE)
		return 0;
	if (k >= KB_COLD || ready_fd < 0)
		return 2;
	kb_child_act(k, index);
	kb_child_wait(ready_fd);
}

struct kb_group {
	pid_t *pids;
	long n;
};

/*
 * Start @n processes of @kind, forked or forked and exec'd, and return once
 * every one of them has done its part and waits.
 */
static void kb_group_start(struct kb_group *g, long n, enum kb_kind kind, int do_exec)
{
	int ready[2];
	long i, got = 0;

	g->pids = calloc((size_t)n, sizeof(pid_t));
	g->n = 0;
	if (!g->pids || pipe(ready))
		kb_die("kb_group_start");
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			kb_die("fork (raise --mem?)");
		if (pid == 0) {
			char title[KB_TITLE_LEN + 1], env_kind[32], env_fd[32], env_idx[32];
			char *argv[3] = { "kshare-kbench", (char *)kshare_pad, NULL };
			char *envp[] = { env_kind, env_fd, env_idx, "PATH=/kshare:/bin", NULL };

			close(ready[0]);
			if (!do_exec) {
				kb_child_act(kind, (int)i);
				kb_child_wait(ready[1]);
			}
			snprintf(env_kind, sizeof(env_kind), "KBENCH_CHILD=%s", kb_kind_name[kind]);
			snprintf(env_fd, sizeof(env_fd), "KBENCH_READY=%d", ready[1]);
			snprintf(env_idx, sizeof(env_idx), "KBENCH_IDX=%ld", i);
			if (kind == KB_ARGV) {
				/* The title as the program's own argument, the classic way. */
				kb_make_title(title, (int)i);
				argv[0] = title;
				argv[1] = NULL;
			}
			execve(kshare_self, argv, envp);
			_exit(127);
		}
		g->pids[g->n++] = pid;
	}
	close(ready[1]);
	while (got < n) {
		struct pollfd pfd = { .fd = ready[0], .events = POLLIN };
		char buf[256];
		ssize_t r;

		/* A child that never gets ready must not hang the whole run. */
		if (poll(&pfd, 1, 120000) == 0) {
			fprintf(stderr, "kshare-kbench: %ld of %ld children ready after 120 s\n", got, n);
			break;
		}
		r = read(ready[0], buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "kshare-kbench: only %ld of %ld children ready\n", got, n);
			break;
		}
		got += r;
	}
	close(ready[0]);
}

static void kb_group_stop(struct kb_group *g)
{
	long i;

	for (i = 0; i < g->n; i++)
		kill(g->pids[i], SIGKILL);
	for (i = 0; i < g->n; i++)
		kb_reap(g->pids[i]);
	free(g->pids);
	g->pids = NULL;
	g->n = 0;
}

/* Run @fn(@arg) in a child process and wait for it. */
static void kb_in_child(void (*fn)(long), long arg)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		kb_die("fork");
	if (pid == 0) {
		fn(arg);
		fflush(stdout);
		_exit(0);
	}
	kb_reap(pid);
}

/* ---- fork+exit ---- */

static double kb_fork_exit_batch(int iters)
{
	uint64_t t0 = kb_now();
	int i;

	for (i = 0; i < iters; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(0);
		if (pid < 0)
			kb_die("fork");
		kb_reap(pid);
	}
	return (double)(kb_now() - t0) / iters / 1000.0;
}

/* ---- fork+exec+exit ---- */

static double kb_exec_batch(const char *path, int iters)
{
	char *argv[] = { "kshare-kbench", NULL };
	char *envp[] = { "KBENCH_CHILD=true", NULL };
	uint64_t t0 = kb_now();
	int i;

	for (i = 0; i < iters; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			execve(path, argv, envp);
			_exit(127);
		}
		if (pid < 0)
			kb_die("fork");
		/* A failed exec would time something else: stop instead. */
		if (kb_reap(pid)) {
			fprintf(stderr, "kshare-kbench: exec %s failed\n", path);
			exit(1);
		}
	}
	return (double)(kb_now() - t0) / iters / 1000.0;
}

/* ---- exit with 1 to 10^4 live processes; kernel memory with 10^4 ---- */

/*
 * Median time from a child's last user-space instruction (a timestamp in
 * shared memory just before _exit) to the parent's return from waitpid:
 * the exit path alone, without the fork.
 */
static double kb_exit_alone(int iters)
{
	uint64_t *stamp = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t *lat = calloc((size_t)iters, sizeof(*lat));
	double us;
	int i;

	if (stamp == MAP_FAILED || !lat)
		kb_die("kb_exit_alone");
	for (i = 0; i < iters; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			*(volatile uint64_t *)stamp = kb_now();
			_exit(0);
		}
		if (pid < 0)
			kb_die("fork");
		kb_reap(pid);
		lat[i] = kb_now() - *(volatile uint64_t *)stamp;
	}
	us = (double)kb_median(lat, (size_t)iters) / 1000.0;
	free(lat);
	munmap(stamp, 4096);
	return us;
}

/*
 * fork+exit, exit alone and fork+exec+exit, measured from a freshly exec'd
 * parent (KBENCH_CHILD=forker): address-space randomisation gives every
 * process its own layout, whose page tables make fork a few percent
 * cheaper or dearer (bimodal under icount), so the parent is a new process
 * for every batch rather than one process whose luck decides a whole boot.
 */
/*
 * Unmap the title VMA, or the whole area, without touching it: which of the
 * two mappings fork and exit pay for. Since the registration ABI (2) a
 * process has them only once it registered (PR_KSHARE_MAP, and
 * PR_KSHARE_MAP_TITLE for the title page); the kernel says where they are
 * (PR_KSHARE_GET), and a forker that never registered has neither, so that
 * these variants now measure what "none" does. Nothing is read, so no page
 * or page table comes into being.
 */
static void kb_unmap_area(int all)
{
	struct kshare_map map = { .size = sizeof(map) };
	long page = sysconf(_SC_PAGESIZE);

	if (syscall(SYS_prctl, PR_KSHARE, PR_KSHARE_GET, &map, 0, 0) != 0)
		return;
	if ((map.title && munmap((void *)(uintptr_t)map.title, (size_t)page)) ||
	    (all && munmap((void *)(uintptr_t)map.area, 2 * (size_t)page)))
		kb_die("munmap of the kshare area");
}

static int kb_forker_main(void)
{
	const char *prefix = getenv("KBENCH_PREFIX"), *tag = getenv("KBENCH_TAG");
	const char *kind = getenv("KBENCH_KIND"), *it = getenv("KBENCH_ITERS");
	int iters = it ? atoi(it) : 100, do_exec = getenv("KBENCH_EXEC") != NULL;
	char name[64];

	if (!prefix || !tag || !kind)
		return 2;
	if (!strcmp(kind, "read"))
		kb_child_act(KB_READ, 0);
	else if (!strcmp(kind, "title"))
		kb_child_act(KB_TITLE, 0);
	else if (!strncmp(kind, "unmap_", 6))
		kb_unmap_area(!strcmp(kind, "unmap_all"));
	kb_fork_exit_batch(iters / 4);	/* warm up */
	snprintf(name, sizeof(name), "%sfork_exit", prefix);
	kb_emit(name, tag, "us", kb_fork_exit_batch(iters));
	snprintf(name, sizeof(name), "%sexit", prefix);
	kb_emit(name, tag, "us", kb_exit_alone(iters));
	if (do_exec) {
		snprintf(name, sizeof(name), "%sexec_minimal", prefix);
		kb_emit(name, tag, "us", kb_exec_batch(kshare_true, iters * 2 / 3));
		snprintf(name, sizeof(name), "%sexec_static_libc", prefix);
		kb_emit(name, tag, "us", kb_exec_batch(kshare_self, iters * 2 / 3));
	}
	return 0;
}

static void kb_forker(const char *prefix, const char *tag, const char *kind, int iters, int do_exec)
{
	char env[5][64];
	char *argv[] = { "kshare-kbench", NULL };
	char *envp[] = { "KBENCH_CHILD=forker", env[0], env[1], env[2], env[3],
			 do_exec ? env[4] : NULL, NULL };
	pid_t pid;

	snprintf(env[0], sizeof(env[0]), "KBENCH_PREFIX=%s", prefix);
	snprintf(env[1], sizeof(env[1]), "KBENCH_TAG=%s", tag);
	snprintf(env[2], sizeof(env[2]), "KBENCH_KIND=%s", kind);
	snprintf(env[3], sizeof(env[3]), "KBENCH_ITERS=%d", iters);
	snprintf(env[4], sizeof(env[4]), "KBENCH_EXEC=1");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execve(kshare_self, argv, envp);
		_exit(127);
	}
	if (pid < 0)
		kb_die("fork");
	kb_reap(pid);
}

/*
 * The parent's kind matters: a parent that set a title gives every child a
 * copy of its title page at fork.
 */
static void test_fork(void)
{
	static const enum kb_kind kinds[] = { KB_NONE, KB_READ, KB_TITLE };
	int b, batches = KB_N(5, 2), iters = KB_N(150, 30);
	size_t k;

	for (b = 0; b < batches; b++)
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			kb_forker("", kb_kind_name[kinds[k]], kb_kind_name[kinds[k]], iters,
				  kinds[k] == KB_NONE);
}

static void kb_exit_at(long live)
{
	int b, batches = KB_N(2, 1), iters = KB_N(150, 30);
	char variant[32];

	snprintf(variant, sizeof(variant), "N=%ld", live);
	for (b = 0; b < batches; b++)
		kb_emit("exit_live_fork_exit", variant, "us", kb_fork_exit_batch(iters));
	kb_emit("exit_live_exit", variant, "us", kb_exit_alone(iters));
}

static void kb_live(void)
{
	static const long levels[] = { 1, 10, 100, 1000, 10000 };
	long max = KB_N(10000, 1000);
	struct kb_group g = { NULL, 0 };
	struct kb_mem base, now;
	pid_t *all = calloc((size_t)max, sizeof(pid_t));
	long have = 1;	/* the measuring process itself */
	size_t l;

	if (!all)
		kb_die("calloc");
	kb_mem_sample(&base);
	for (l = 0; l < sizeof(levels) / sizeof(levels[0]) && levels[l] <= max; l++) {
		char what[32];

		/* Processes that never touch kshare, as most processes do. */
		kb_group_start(&g, levels[l] - have, KB_NONE, 0);
		memcpy(all + have - 1, g.pids, (size_t)g.n * sizeof(pid_t));
		free(g.pids);
		have = levels[l];
		if (have > 1) {
			kb_mem_sample(&now);
			snprintf(what, sizeof(what), "N=%ld", have);
			kb_mem_emit("live_mem", what, &base, &now, have - 1);
			kb_emit("live_mem_total", what, "MB",
				(double)(base.free - now.free) / 1024.0);
		}
		kb_exit_at(have);
	}
	g.pids = all;
	g.n = have - 1;
	kb_group_stop(&g);
}

/*
 * Run in a process exec'd without address-space randomisation: its 10^4
 * children copy its page tables, and a randomised layout moves their cost
 * by half a page per process from boot to boot, more than kshare's part.
 */
static void test_live(void)
{
	char *argv[] = { "kshare-kbench", NULL };
	char *envp[] = { "KBENCH_CHILD=live", kshare_quick ? "KBENCH_QUICK=1" : NULL, NULL };
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (personality(ADDR_NO_RANDOMIZE) < 0)
			_exit(126);
		execve(kshare_self, argv, envp);
		_exit(127);
	}
	if (pid < 0)
		kb_die("fork");
	if (kb_reap(pid))
		fprintf(stderr, "kshare-kbench: live test failed\n");
}

/* ---- reparenting 10^3 children ---- */

static void kb_reparent_as(long kind)
{
	long n = KB_N(1000, 200);
	/*
	 * The first round grows the task slabs and costs some 6 ns per child
	 * more than the next, in every kernel: run, not reported.
	 */
	int r, reps = KB_N(7, 2);
	size_t shared_size = 4096 + (size_t)n * sizeof(pid_t);
	char *shared;

	/* The children of the exiting parent come to us, not to init. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		kb_die("PR_SET_CHILD_SUBREAPER");
	shared = mmap(NULL, shared_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		kb_die("mmap");
	for (r = 0; r < reps; r++) {
		volatile uint64_t *t_exit = (uint64_t *)shared;
		pid_t *kids = (pid_t *)(shared + 4096);
		pid_t parent;
		uint64_t t1;
		long i, wrong = 0;

		parent = fork();
		if (parent < 0)
			kb_die("fork");
		if (parent == 0) {
			struct kb_group g;

			kb_group_start(&g, n, (enum kb_kind)kind, 0);
			memcpy(kids, g.pids, (size_t)n * sizeof(pid_t));
			*t_exit = kb_now();
			_exit(0);
		}
		kb_reap(parent);
		t1 = kb_now();
		if (r > 0) {
			kb_emit("reparent_all", kb_kind_name[kind], "us",
				(double)(t1 - *t_exit) / 1000.0);
			kb_emit("reparent_per_child", kb_kind_name[kind], "ns",
				(double)(t1 - *t_exit) / (double)n);
		}
		for (i = 0; i < n; i++) {
			/* Every child is ours now (not asserted, counted). */
			char path[64];
			FILE *f;
			int ppid = 0;

			snprintf(path, sizeof(path), "/proc/%d/stat", kids[i]);
			f = fopen(path, "r");
			if (f) {
				if (fscanf(f, "%*d %*s %*c %d", &ppid) != 1)
					ppid = 0;
				fclose(f);
			}
			wrong += ppid != getpid();
			kill(kids[i], SIGKILL);
		}
		for (i = 0; i < n; i++)
			kb_reap(kids[i]);
		kb_emit("reparent_not_ours", kb_kind_name[kind], "count", (double)wrong);
	}
	munmap(shared, shared_size);
}

static void test_reparent(void)
{
	kb_in_child(kb_reparent_as, KB_NONE);
	kb_in_child(kb_reparent_as, KB_READ);
}

/* ---- sethostname, setuid ---- */

static void kb_sethostname(const char *variant)
{
	static const char *const names[] = { "kbench-a", "kbench-b" };
	int b, i, batches = KB_N(7, 2), iters = KB_N(3000, 300);
	char saved[65] = "";

	gethostname(saved, sizeof(saved));
	for (b = 0; b < batches; b++) {
		uint64_t t0 = kb_now();

		for (i = 0; i < iters; i++)
			if (sethostname(names[i & 1], 8))
				kb_die("sethostname");
		kb_emit("sethostname", variant, "ns", (double)(kb_now() - t0) / iters);
	}
	sethostname(saved, strlen(saved));
}

static void test_sethostname(void)
{
	kb_sethostname("-");
}

/*
 * setresuid() as root, the effective id back and forth: every call commits
 * new credentials, which kshare republishes if the process has a page.
 * Each call also frees the old credentials through RCU, and a batch lands in
 * one of two allocator regimes some 300 instructions per call apart, in every
 * kernel, CONFIG_KSHARE=n too: many batches, so that the report can take the
 * path length from the low regime (bench/kshare-kbench-report.py).
 */
static void kb_setuid_as(long kind)
{
	int b, i, batches = KB_N(25, 2), iters = KB_N(1500, 150);

	kb_child_act((enum kb_kind)kind, 0);
	for (b = 0; b < batches; b++) {
		uint64_t t0 = kb_now();

		for (i = 0; i < iters; i++)
			if (setresuid(-1, 1000, -1) || setresuid(-1, 0, -1))
				kb_die("setresuid");
		kb_emit("setuid", kb_kind_name[kind], "ns", (double)(kb_now() - t0) / (2.0 * iters));
	}
}

static void test_setuid(void)
{
	kb_in_child(kb_setuid_as, KB_NONE);
	kb_in_child(kb_setuid_as, KB_READ);
}

/* ---- set*id() in a process of many threads ---- */

static void *kb_idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/*
 * glibc's setresuid() changes every thread of the process in turn (a
 * signal to each): a kernel that walks all threads at each change does
 * threads^2 visits per call. 16, 64 and 256 threads, the effective id back
 * and forth; per call, in us.
 */
static void kb_setxid_as(long kind)
{
	static const int sizes[] = { 16, 64, 256 };
	int s, b, i, have = 1, batches = KB_N(5, 2), iters = KB_N(20, 4);
	pthread_attr_t attr;
	pthread_t t;

	kb_child_act((enum kb_kind)kind, 0);
	if (pthread_attr_init(&attr) || pthread_attr_setstacksize(&attr, 64 * 1024))
		kb_die("pthread_attr");
	for (s = 0; s < (int)(sizeof(sizes) / sizeof(sizes[0])); s++) {
		char name[32];

		for (; have < sizes[s]; have++)
			if (pthread_create(&t, &attr, kb_idle_thread, NULL))
				kb_die("pthread_create");
		snprintf(name, sizeof(name), "setxid_%d_threads", sizes[s]);
		for (b = 0; b < batches; b++) {
			uint64_t t0 = kb_now();

			for (i = 0; i < iters; i++)
				if (setresuid(-1, 1000, -1) || setresuid(-1, 0, -1))
					kb_die("setresuid");
			kb_emit(name, kb_kind_name[kind], "us",
				(double)(kb_now() - t0) / (2000.0 * iters));
		}
	}
}

static void test_setxid(void)
{
	kb_in_child(kb_setxid_as, KB_NONE);
	kb_in_child(kb_setxid_as, KB_READ);
}

/* ---- user namespace maps among many processes ---- */

static void kb_write_map(pid_t pid, const char *map)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, map);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, "0 0 1\n", 6) != 6)
		kb_die(path);
	close(fd);
}

/*
 * The uid_map and gid_map writes for a new user namespace, whose only
 * process is of @kind, while 2000 other processes live: a kernel that
 * looks for the processes waiting for the map among all processes pays
 * for each of them, at every write any user makes. Per pair, in us.
 */
static void kb_uidmap_as(long kind)
{
	int b, i, batches = KB_N(5, 2), iters = KB_N(20, 4);
	struct kb_group g;

	kb_group_start(&g, KB_N(2000, 200), KB_NONE, 0);
	for (b = 0; b < batches; b++) {
		uint64_t total = 0;

		for (i = 0; i < iters; i++) {
			int ready[2], go[2];
			uint64_t t0;
			char c = 0;
			pid_t pid;

			if (pipe(ready) || pipe(go))
				kb_die("pipe");
			pid = fork();
			if (pid < 0)
				kb_die("fork");
			if (pid == 0) {
				kb_child_act((enum kb_kind)kind, 0);
				if (unshare(CLONE_NEWUSER) || write(ready[1], &c, 1) != 1 ||
				    read(go[0], &c, 1) != 1)
					_exit(1);
				_exit(0);
			}
			if (read(ready[0], &c, 1) != 1)
				kb_die("uidmap child");
			t0 = kb_now();
			kb_write_map(pid, "uid_map");
			kb_write_map(pid, "gid_map");
			total += kb_now() - t0;
			if (write(go[1], &c, 1) != 1)
				kb_die("go");
			kb_reap(pid);
			close(ready[0]);
			close(ready[1]);
			close(go[0]);
			close(go[1]);
		}
		kb_emit("uidmap_2000_procs", kb_kind_name[kind], "us", (double)total / (1000.0 * iters));
	}
	kb_group_stop(&g);
}

static void test_uidmap(void)
{
	kb_in_child(kb_uidmap_as, KB_NONE);
	kb_in_child(kb_uidmap_as, KB_READ);
}

/*
 * 1000 exec'd processes of each kind: what they cost in memory, and what
 * ps pays to read their /proc/PID/cmdline. On kshare=off the "title" kind
 * gets the library's fallback (argv overwritten in place); "argv" has its
 * title as its own argument on every kernel.
 */

static long kb_cmdline_pass(const struct kb_group *g, enum kb_kind kind, double *ns)
{
	uint64_t t0 = kb_now();
	long bad = 0, i;

	for (i = 0; i < g->n; i++) {
		char path[64], buf[4096], want[KB_TITLE_LEN + 1];
		ssize_t len;
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/cmdline", g->pids[i]);
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			bad++;
			continue;
		}
		len = read(fd, buf, sizeof(buf));
		close(fd);
		if (kind == KB_NONE || kind == KB_READ) {
			bad += len < 14 || memcmp(buf, "kshare-kbench", 14);
		} else {
			kb_make_title(want, (int)i);
			bad += len <= KB_TITLE_LEN || memcmp(buf, want, KB_TITLE_LEN + 1);
		}
	}
	*ns = (double)(kb_now() - t0) / (double)g->n;
	return bad;
}

static void kb_ps(const struct kb_group *g, enum kb_kind kind)
{
	uint64_t t0 = kb_now();
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		execl("/bin/ps", "ps", "-o", "pid,args", (char *)NULL);
		_exit(127);
	}
	kb_reap(pid);
	kb_emit("ps", kb_kind_name[kind], "us/proc", (double)(kb_now() - t0) / 1000.0 / (double)g->n);
}

static void test_procs(void)
{
	static const enum kb_kind kinds[] = { KB_NONE, KB_READ, KB_TITLE, KB_ARGV };
	long n = KB_N(1000, 200);
	int passes = KB_N(5, 2);
	struct kb_group warm;
	size_t k;

	/*
	 * The first processes after boot find memory still settling (the
	 * initramfs being freed, caches growing): one unmeasured group first.
	 */
	kb_group_start(&warm, n / 5, KB_NONE, 1);
	kb_group_stop(&warm);
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		const char *kind = kb_kind_name[kinds[k]];
		struct kb_mem base, now, after;
		struct kb_group g;
		long bad = 0;
		double ns;
		int p;

		kb_mem_sample(&base);
		kb_group_start(&g, n, kinds[k], 1);
		kb_mem_sample(&now);
		kb_mem_emit("pages", kind, &base, &now, n);
		for (p = 0; p < passes; p++) {
			bad += kb_cmdline_pass(&g, kinds[k], &ns);
			kb_emit("cmdline_read", kind, "ns/proc", ns);
		}
		kb_emit("cmdline_wrong", kind, "count", (double)bad);
		kb_ps(&g, kinds[k]);
		kb_ps(&g, kinds[k]);
		kb_group_stop(&g);
		kb_mem_sample(&after);
		/* Everything should come back; what does not is printed. */
		kb_emit("pages_left_after_exit", kind, "kB", (double)(base.free - after.free));
	}
}

/* ---- reader scaling under a concurrent writer ---- */

enum kb_reader { KB_R_HOST_KSHARE, KB_R_HOST_LIBC, KB_R_CMDLINE, KB_R_GETPROCTITLE };
static const char *const kb_reader_name[] = {
	"hostname_kshare", "hostname_syscall", "title_cmdline", "title_getproctitle"
};

struct kb_scale {
	enum kb_reader what;
	atomic_int start, stop;
	int cmdline_fd;
};

struct kb_reader_res {
	struct kb_scale *s;
	pthread_t thread;
	uint64_t reads, torn, fallback, ns, cpu_ns;
};

static uint64_t kb_thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char kb_title_a[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
static const char kb_title_b[] = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

/* A title is one letter repeated; mixed letters are a torn read. */
static void kb_check_title(struct kb_reader_res *r, const char *buf, ssize_t len)
{
	ssize_t i;

	if (len < KB_TITLE_LEN || (buf[0] != 'A' && buf[0] != 'B')) {
		r->fallback++;	/* the original arguments: no title could be read */
		return;
	}
	for (i = 1; i < KB_TITLE_LEN; i++)
		if (buf[i] != buf[0]) {
			r->torn++;
			return;
		}
}

static void *kb_reader(void *arg)
{
	struct kb_reader_res *r = arg;
	struct kb_scale *s = r->s;
	char buf[4096];
	uint64_t t0;

	uint64_t c0;

	while (!atomic_load(&s->start))
		;
	t0 = kb_now();
	c0 = kb_thread_cpu();
	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		ssize_t len;

		switch (s->what) {
		case KB_R_HOST_KSHARE:
		case KB_R_HOST_LIBC:
			if ((s->what == KB_R_HOST_KSHARE ? kshare_gethostname(buf, 65) :
							   gethostname(buf, 65)) ||
			    (strcmp(buf, "kbench-a") && strcmp(buf, "kbench-b")))
				r->torn++;
			break;
		case KB_R_CMDLINE:
			len = pread(s->cmdline_fd, buf, sizeof(buf), 0);
			kb_check_title(r, buf, len);
			break;
		case KB_R_GETPROCTITLE:
			len = kshare_getproctitle(buf, sizeof(buf));
			kb_check_title(r, buf, len);
			break;
		}
		r->reads++;
	}
	r->ns = kb_now() - t0;
	r->cpu_ns = kb_thread_cpu() - c0;
	return NULL;
}

static void kb_scale_run(enum kb_reader what, int readers, int writer, int ms)
{
	struct kb_scale s = { .what = what };
	struct kb_reader_res r[2];
	uint64_t writes = 0, t0, wns;
	double rate = 0, cpu_rate = 0, torn = 0, fallback = 0, reads = 0;
	char variant[32];
	int i;

	memset(r, 0, sizeof(r));
	s.cmdline_fd = open("/proc/self/cmdline", O_RDONLY);
	for (i = 0; i < readers; i++) {
		r[i].s = &s;
		if (pthread_create(&r[i].thread, NULL, kb_reader, &r[i]))
			kb_die("pthread_create");
	}
	atomic_store(&s.start, 1);
	t0 = kb_now();
	/* This thread is the writer, or only keeps time. */
	while (kb_now() - t0 < (uint64_t)ms * 1000000u) {
		if (!writer) {
			usleep(10000);
			continue;
		}
		if (what == KB_R_HOST_KSHARE || what == KB_R_HOST_LIBC)
			sethostname(writes & 1 ? "kbench-b" : "kbench-a", 8);
		else
			kshare_setproctitle("-%s", writes & 1 ? kb_title_b : kb_title_a);
		writes++;
	}
	wns = kb_now() - t0;
	atomic_store(&s.stop, 1);
	for (i = 0; i < readers; i++) {
		pthread_join(r[i].thread, NULL);
		rate += (double)r[i].reads * 1e9 / (double)r[i].ns;
		/* Per CPU second too: 2 readers and a writer share 2 vCPUs. */
		cpu_rate += (double)r[i].reads * 1e9 / (double)(r[i].cpu_ns ? r[i].cpu_ns : 1);
		torn += (double)r[i].torn;
		fallback += (double)r[i].fallback;
		reads += (double)r[i].reads;
	}
	snprintf(variant, sizeof(variant), "r%d_w%d", readers, writer);
	kb_emit(kb_reader_name[what], variant, "reads/s/thread", rate / readers);
	kb_emit(kb_reader_name[what], variant, "reads/cpu-s/thread", cpu_rate / readers);
	if (writer)
		kb_emit(kb_reader_name[what], variant, "writes/s", (double)writes * 1e9 / (double)wns);
	kb_emit(kb_reader_name[what], variant, "torn_fraction", torn / reads);
	kb_emit(kb_reader_name[what], variant, "fallback_fraction", fallback / reads);
	close(s.cmdline_fd);
}

static void kb_scaling(long unused)
{
	int ms = KB_N(300, 100), rep, what, readers, writer;
	char saved[65] = "";

	(void)unused;
	gethostname(saved, sizeof(saved));
	sethostname("kbench-a", 8);
	kshare_setproctitle("-%s", kb_title_a);
	/* Repeated, every case in turn, so that a busy host spreads over all. */
	for (rep = 0; rep < KB_N(3, 1); rep++)
		for (what = KB_R_HOST_KSHARE; what <= KB_R_GETPROCTITLE; what++)
			for (writer = 0; writer <= 1; writer++)
				for (readers = 1; readers <= 2; readers++)
					kb_scale_run((enum kb_reader)what, readers, writer, ms);
	sethostname(saved, strlen(saved));
}

static void test_scaling(void)
{
	kb_in_child(kb_scaling, 0);
}

/*
 * The same A/B inside one boot, interleaved batch by batch: the sysctl
 * kernel.kshare_enabled decides whether the next registration (the
 * library's first call after exec) gets an area or ENODEV, so
 * exec batches and exec'd fork parents alternate between on and off with
 * everything else (kernel image, boot, memory layout) the same. Only on a
 * boot with kshare on, so that a kshare=off boot stays untouched.
 */
static int kb_set_enabled(int on)
{
	int fd = open("/proc/sys/kernel/kshare_enabled", O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, on ? "1\n" : "0\n", 2) == 2;
	close(fd);
	return ok ? 0 : -1;
}

static void test_toggle(void)
{
	int b, on, batches = KB_N(5, 2), iters = KB_N(150, 30);
	long n = KB_N(1000, 200);

	if (kb_read_long("/proc/sys/kernel/kshare_enabled") != 1) {
		printf("KBENCH_INFO toggle skipped: kshare not enabled at boot\n");
		return;
	}
	for (b = 0; b < batches; b++) {
		/* Alternate which goes first, so neither always follows the other. */
		for (on = b & 1; on >= 0 && on <= 1; on += (b & 1) ? -1 : 1) {
			kb_set_enabled(on);
			kb_forker("toggle_", on ? "on" : "off", "none", iters, 1);
		}
		/* Where the cost sits: without the title VMA, without both. */
		kb_set_enabled(1);
		kb_forker("toggle_", "on_no_title_vma", "unmap_title", iters, 0);
		kb_forker("toggle_", "on_no_area", "unmap_all", iters, 0);
	}
	for (on = 1; on >= 0; on--) {
		const char *tag = on ? "on" : "off";
		struct kb_mem base, now;
		struct kb_group g;

		kb_set_enabled(on);
		kb_mem_sample(&base);
		kb_group_start(&g, n, KB_NONE, 1);
		kb_mem_sample(&now);
		kb_mem_emit("toggle_pages", tag, &base, &now, n);
		kb_group_stop(&g);
	}
	kb_set_enabled(1);
}

/* ---- before anything registered ---- */

/*
 * Whether a process of this boot registered (debugfs kshare/in_use, the
 * state of the static key): 1, 0, or -1 on a kernel without it.
 */
static int kb_key_in_use(void)
{
	FILE *f = fopen("/sys/kernel/debug/kshare/in_use", "r");
	int c;

	if (!f)
		return -1;
	c = fgetc(f);
	fclose(f);
	return c == 'Y';
}

/*
 * fork, exec, exit, sethostname, setresuid and reparenting while no
 * process has registered: every kshare hook is a static branch not taken.
 * Run first in a boot, before any test registers; the info lines say
 * whether the key was indeed off throughout.
 */
static void test_cold(void)
{
	int b, batches = KB_N(5, 2), iters = KB_N(150, 30);

	printf("KBENCH_INFO key_in_use_before_cold %d\n", kb_key_in_use());
	for (b = 0; b < batches; b++)
		kb_forker("", kb_kind_name[KB_COLD], "none", iters, 1);
	kb_sethostname(kb_kind_name[KB_COLD]);
	kb_in_child(kb_setuid_as, KB_COLD);
	kb_in_child(kb_reparent_as, KB_COLD);
	printf("KBENCH_INFO key_in_use_after_cold %d\n", kb_key_in_use());
	fflush(stdout);
}

/* ---- main ---- */

static void kb_info(void)
{
	struct utsname u;
	char cmdline[512] = "";
	FILE *f = fopen("/proc/cmdline", "r");

	if (f) {
		if (!fgets(cmdline, sizeof(cmdline), f))
			cmdline[0] = '\0';
		cmdline[strcspn(cmdline, "\n")] = '\0';
		fclose(f);
	}
	uname(&u);
	printf("KBENCH_INFO release %s\n", u.release);
	printf("KBENCH_INFO version %s\n", u.version);
	printf("KBENCH_INFO cmdline %s\n", cmdline);
	printf("KBENCH_INFO kshare_enabled %ld\n", kb_read_long("/proc/sys/kernel/kshare_enabled"));
	printf("KBENCH_INFO cpus %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
	printf("KBENCH_INFO mem_total_kb %ld\n", sysconf(_SC_PHYS_PAGES) * (sysconf(_SC_PAGESIZE) / 1024));
	/* Not kshare_available(), which would register this process. */
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	printf("KBENCH_INFO key_in_use_at_start %d\n", kb_key_in_use());
	fflush(stdout);
}

static const struct {
	const char *name;
	void (*fn)(void);
} kb_tests[] = {
	{ "cold", test_cold },
	{ "fork", test_fork },
	{ "sethostname", test_sethostname },
	{ "setuid", test_setuid },
	{ "setxid", test_setxid },
	{ "uidmap", test_uidmap },
	{ "reparent", test_reparent },
	{ "procs", test_procs },
	{ "scaling", test_scaling },
	{ "live", test_live },
	{ "toggle", test_toggle },
};

int main(int argc, char **argv)
{
	const char *child = getenv("KBENCH_CHILD");
	size_t t, n = sizeof(kb_tests) / sizeof(kb_tests[0]);
	int i, any = 0;
	char *slash;
	ssize_t len;

	if (child && strcmp(child, "forker") && strcmp(child, "live"))
		return kb_child_main(child);

	len = readlink("/proc/self/exe", kshare_self, sizeof(kshare_self) - 1);
	if (len <= 0)
		kb_die("readlink /proc/self/exe");
	kshare_self[len] = '\0';
	snprintf(kshare_true, sizeof(kshare_true), "%s", kshare_self);
	slash = strrchr(kshare_true, '/');
	snprintf(slash + 1, sizeof(kshare_true) - (size_t)(slash + 1 - kshare_true),
		 "kshare-kbench-true");
	if (access(kshare_true, X_OK))
		kb_die(kshare_true);
	if (child && !strcmp(child, "live")) {
		kshare_quick = getenv("KBENCH_QUICK") != NULL;
		kb_live();
		return 0;
	}
	if (child)
		return kb_forker_main();

	/* Nothing here registers: the children's kinds decide who does. */
	kb_info();
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			kshare_quick = 1;
			continue;
		}
		for (t = 0; t < n; t++)
			if (!strcmp(argv[i], kb_tests[t].name))
				break;
		if (t == n) {
			fprintf(stderr, "kshare-kbench: unknown test %s\n", argv[i]);
			return 2;
		}
		kb_tests[t].fn();
		any = 1;
	}
	if (!any)
		for (t = 0; t < n; t++)
			kb_tests[t].fn();
	printf("KBENCH_DONE\n");
	return 0;
}
