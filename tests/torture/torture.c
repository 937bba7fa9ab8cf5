// SPDX-License-Identifier: MIT
/*
 * Long runs in the guest, beyond what the test suite can afford on every
 * change (scripts/torture runs them; docs/reliability.md has the results):
 *
 *   torture storm READS   storms of sethostname, setresgid, setresuid,
 *                         reparenting and fork, with readers checking every
 *                         value the library returns, until READS reads
 *   torture leak CYCLES   fork/exec/exit cycles whose children use every
 *                         page; the kernel's memory, slab and kshare page
 *                         counters must come back to their baseline
 *   torture leak-control CYCLES
 *                         the same without requiring kshare: the control
 *                         run on a kernel booted with kshare=off
 *
 * Both print "# ..." lines with the counts and end with a TAP summary line,
 * "N passed, N failed, 0 skipped", like the guest tests.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include <kshare/kshare.h>

#include "../guest/ktest.h"

static long sys0(long nr)
{
	return syscall(nr);
}

/* Shared by every process of the storm. */
struct tally {
	long target;
	int stop;
	long reads, wrong;
	long host_writes, gid_writes, uid_writes, forks, reparents;
};
static struct tally *tally;

static void count(long *counter, long n)
{
	__atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
	if (counter == &tally->reads &&
	    __atomic_load_n(&tally->reads, __ATOMIC_RELAXED) >= tally->target)
		__atomic_store_n(&tally->stop, 1, __ATOMIC_RELAXED);
}

static int stopping(void)
{
	return __atomic_load_n(&tally->stop, __ATOMIC_RELAXED);
}

static void wrong(const char *fmt, ...)
{
	va_list ap;

	if (__atomic_add_fetch(&tally->wrong, 1, __ATOMIC_RELAXED) > 10)
		return;
	printf("# WRONG: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* ---- host and domain names: never torn, never anything but what was set */

static const char *const names[2] = { "kshare-torture-a",
				      "kshare-torture-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" };

static void *host_writer(void *arg)
{
	long n;

	(void)arg;
	for (n = 0; !stopping(); n++) {
		const char *name = names[n & 1];

		if (sethostname(name, strlen(name)) || setdomainname(name, strlen(name)))
			wrong("sethostname: %s", strerror(errno));
		count(&tally->host_writes, 1);
	}
	return NULL;
}

static int one_of_names(const char *s)
{
	return !strcmp(s, names[0]) || !strcmp(s, names[1]);
}

static void *host_reader(void *arg)
{
	char host[HOST_NAME_MAX + 1];
	struct utsname u;
	long n;

	(void)arg;
	for (n = 0; !stopping(); n++) {
		if (kshare_gethostname(host, sizeof(host)) || !one_of_names(host))
			wrong("gethostname '%s'", host);
		if (kshare_uname(&u) || !one_of_names(u.nodename) || !one_of_names(u.domainname))
			wrong("uname '%s' '%s'", u.nodename, u.domainname);
		if ((n & 1023) == 1023)
			count(&tally->reads, 2 * 1024);
	}
	return NULL;
}

/* ---- credentials: monotonic changes, reads bracketed by system calls */

static void *gid_writer(void *arg)
{
	gid_t g;

	(void)arg;
	for (g = 100; !stopping(); g++) {
		if (setresgid(g, g, g))
			wrong("setresgid: %s", strerror(errno));
		count(&tally->gid_writes, 1);
	}
	return NULL;
}

static void *gid_reader(void *arg)
{
	long n;

	(void)arg;
	for (n = 0; !stopping(); n++) {
		gid_t g1 = sys0(SYS_getgid), r, e, s, g2;
		int rc = kshare_getresgid(&r, &e, &s);

		g2 = sys0(SYS_getgid);
		if (rc || r != e || e != s || r < g1 || r > g2)
			wrong("getresgid %u %u %u not in [%u, %u]", r, e, s, g1, g2);
		if ((n & 1023) == 1023)
			count(&tally->reads, 1024);
	}
	return NULL;
}

/*
 * The real uid moves up and up: root may set it to anything as long as the
 * effective uid stays 0 (which keeps the capabilities).
 */
static void *uid_writer(void *arg)
{
	uid_t u;

	(void)arg;
	for (u = 1000; !stopping(); u++) {
		if (setresuid(u, 0, 0))
			wrong("setresuid: %s", strerror(errno));
		count(&tally->uid_writes, 1);
	}
	return NULL;
}

static void *uid_reader(void *arg)
{
	long n;

	(void)arg;
	for (n = 0; !stopping(); n++) {
		uid_t r1 = sys0(SYS_getuid), r, e, s, r2;
		int rc = kshare_getresuid(&r, &e, &s);
		uid_t kr = kshare_getuid();

		r2 = sys0(SYS_getuid);
		if (rc || e != 0 || s != 0 || r < r1 || r > r2 || kr < r || kr > r2)
			wrong("getresuid %u %u %u, getuid %u, not in [%u, %u]", r, e, s, kr, r1,
			      r2);
		if ((n & 1023) == 1023)
			count(&tally->reads, 2 * 1024);
	}
	return NULL;
}

/* A process of a writer thread and two readers, until the storm ends. */
static void threads(void *(*writer)(void *), void *(*reader)(void *))
{
	pthread_t w, r1, r2;

	if (pthread_create(&w, NULL, writer, NULL) || pthread_create(&r1, NULL, reader, NULL) ||
	    pthread_create(&r2, NULL, reader, NULL)) {
		wrong("pthread_create");
		_exit(1);
	}
	pthread_join(w, NULL);
	pthread_join(r1, NULL);
	pthread_join(r2, NULL);
	_exit(0);
}

/* ---- reparenting: a grandchild reads its ppid while its parent exits */

static void grandchild_reads(pid_t parent, pid_t reaper)
{
	pid_t pid = sys0(SYS_getpid);
	long n;

	for (n = 0; n < 20000 && !stopping(); n++) {
		pid_t p1 = sys0(SYS_getppid), k = kshare_getppid(), p2 = sys0(SYS_getppid);

		if (kshare_getpid() != pid)
			wrong("getpid %d, not %d", kshare_getpid(), pid);
		if ((k != p1 && k != p2) || (k != parent && k != reaper))
			wrong("getppid %d, syscalls %d %d, parent %d reaper %d", k, p1, p2,
			      parent, reaper);
		if ((n & 1023) == 1023)
			count(&tally->reads, 2 * 1024);
	}
	_exit(0);
}

static void reparenting(void)
{
	pid_t self = sys0(SYS_getpid);

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	while (!stopping()) {
		pid_t c = fork();

		if (c == 0) {
			pid_t me = sys0(SYS_getpid);

			if (fork() == 0)
				grandchild_reads(me, self);
			usleep(2000); /* the grandchild reads with us as its parent */
			_exit(0);
		}
		if (c < 0)
			continue;
		waitpid(c, NULL, 0);
		count(&tally->reparents, 1);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	while (waitpid(-1, NULL, 0) > 0)
		;
	_exit(0);
}

/* ---- fork: every child's ids are its own from its first instruction */

static void forking(void)
{
	pid_t self = sys0(SYS_getpid);

	while (!stopping()) {
		pid_t c = fork();

		if (c == 0) {
			pid_t pid = sys0(SYS_getpid);
			int i;

			for (i = 0; i < 256; i++) {
				if (kshare_getpid() != pid || kshare_getppid() != self ||
				    kshare_gettid() != pid)
					wrong("fork child: pid %d ppid %d tid %d, want %d %d",
					      kshare_getpid(), kshare_getppid(), kshare_gettid(),
					      pid, self);
			}
			count(&tally->reads, 3 * 256);
			_exit(0);
		}
		if (c > 0) {
			waitpid(c, NULL, 0);
			count(&tally->forks, 1);
		}
	}
	_exit(0);
}

static int storm(long target)
{
	pid_t workers[5];
	int i, n = 0, failed = 0;

	tally = mmap(NULL, sizeof(*tally), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		     -1, 0);
	KT_EXPECT(tally != MAP_FAILED, "mmap");
	tally->target = target;
	/* Our own UTS namespace: the host name storm stays in it. */
	KT_EXPECT(unshare(CLONE_NEWUTS) == 0, "unshare: %s", strerror(errno));
	/*
	 * Registered while single-threaded (the library's first call), so
	 * that the workers inherit a registration with every validity bit:
	 * a process that registers with threads running gets no tid cache
	 * and no UTS names from the page.
	 */
	KT_EXPECT(kshare_available(KSHARE_FEATURE_PROC_PID), "no kshare process page");

	if ((workers[n++] = fork()) == 0)
		threads(host_writer, host_reader);
	if ((workers[n++] = fork()) == 0)
		threads(gid_writer, gid_reader);
	if ((workers[n++] = fork()) == 0)
		threads(uid_writer, uid_reader);
	if ((workers[n++] = fork()) == 0)
		reparenting();
	if ((workers[n++] = fork()) == 0)
		forking();
	for (i = 0; i < n; i++) {
		int status;

		if (workers[i] < 0 || waitpid(workers[i], &status, 0) != workers[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status)) {
			kt_diag("worker %d failed", i);
			failed = 1;
		}
	}
	kt_diag("storm: %ld reads, %ld wrong; %ld sethostname+setdomainname, %ld setresgid, "
		"%ld setresuid, %ld reparentings, %ld forks", tally->reads, tally->wrong,
		tally->host_writes, tally->gid_writes, tally->uid_writes, tally->reparents,
		tally->forks);
	KT_EXPECT(!failed, "a worker failed");
	KT_EXPECT(tally->reads >= target, "only %ld reads", tally->reads);
	KT_EXPECT(tally->wrong == 0, "%ld wrong values", tally->wrong);
	return KT_PASS;
}

/* ---- leaks */

struct counters {
	long mem_free, slab, unreclaimable, page_tables, kernel_stack, proc_pages, areas;
};

static long meminfo(const char *field)
{
	char line[128];
	size_t len = strlen(field);
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			kb = atol(line + len + 1);
	if (f)
		fclose(f);
	return kb;
}

static void read_counters(struct counters *c)
{
	sync();
	kt_write_file("/proc/sys/vm/drop_caches", "3");
	usleep(200000); /* let RCU free what exits left behind */
	c->mem_free = meminfo("MemFree");
	c->slab = meminfo("Slab");
	c->unreclaimable = meminfo("SUnreclaim");
	c->page_tables = meminfo("PageTables");
	c->kernel_stack = meminfo("KernelStack");
	/* kshare's own counts, in debugfs: pages allocated, areas registered. */
	c->proc_pages = kt_debugfs_long("proc_pages");
	c->areas = kt_debugfs_long("areas");
}

static const char *self_exe = "/proc/self/exe";

static int cycles(long n)
{
	long i;

	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			execl(self_exe, "torture", "child", (char *)NULL);
			_exit(127);
		}
		if (pid < 0 || kt_wait(pid, "child") != 0) {
			kt_diag("cycle %ld failed", i);
			return -1;
		}
	}
	return 0;
}

/*
 * @control: the same cycles on a kernel booted with kshare=off, to show
 * what the counters do without kshare; kshare is then not required.
 */
static int leak(long n, int control)
{
	struct counters before, after;
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);

	KT_EXPECT(control || kshare_available(KSHARE_FEATURE_PROC_PID), "no kshare process page");
	/* Caches and per-CPU slabs fill up first; then they must stay put. */
	KT_EXPECT(cycles(n / 10 + 100) == 0, "warm-up");
	read_counters(&before);
	KT_EXPECT(cycles(n) == 0, "cycles");
	read_counters(&after);
	kt_diag("leak: %ld fork/exec/exit cycles, each child touching the proc page, the title "
		"page and the system page", n);
	kt_diag("leak: kB before/after: MemFree %ld/%ld Slab %ld/%ld SUnreclaim %ld/%ld "
		"PageTables %ld/%ld KernelStack %ld/%ld; kshare proc_pages %ld/%ld, areas %ld/%ld",
		before.mem_free, after.mem_free, before.slab, after.slab, before.unreclaimable,
		after.unreclaimable, before.page_tables, after.page_tables, before.kernel_stack,
		after.kernel_stack, before.proc_pages, after.proc_pages, before.areas,
		after.areas);
	/*
	 * A leak of a page per cycle would be 400 MB over 10^5 cycles, of a
	 * 16-byte object 1.6 MB of slab. MemFree itself drifts by a few MB
	 * either way over such a run, with kshare off too (per-CPU page lists,
	 * caches that dropping cannot empty): its margin is 16 MB, and the
	 * exact checks of kshare's pages and registrations are debugfs's
	 * proc_pages and areas. The other margins are for per-CPU slabs and
	 * lazy-TLB mms.
	 */
	KT_EXPECT(control || (after.proc_pages >= 0 && after.proc_pages <= before.proc_pages + ncpus),
		  "kshare proc_pages %ld -> %ld", before.proc_pages, after.proc_pages);
	KT_EXPECT(control || (after.areas >= 0 && after.areas <= before.areas + ncpus),
		  "kshare areas %ld -> %ld", before.areas, after.areas);
	KT_EXPECT(after.unreclaimable - before.unreclaimable < 1024, "SUnreclaim grew %ld kB",
		  after.unreclaimable - before.unreclaimable);
	KT_EXPECT(after.slab - before.slab < 1024, "Slab grew %ld kB", after.slab - before.slab);
	KT_EXPECT(before.mem_free - after.mem_free < 16384, "MemFree fell %ld kB",
		  before.mem_free - after.mem_free);
	KT_EXPECT(after.page_tables - before.page_tables < 256 &&
		  after.kernel_stack - before.kernel_stack < 256, "page tables or stacks grew");
	return KT_PASS;
}

/* What each leak cycle's child does: every page, then exit. */
static int child(void)
{
	char host[HOST_NAME_MAX + 1];

	if (kshare_getpid() != sys0(SYS_getpid) || kshare_gethostname(host, sizeof(host)))
		return 1;
	kshare_setproctitle("-%s", "torture child");
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 0;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "child"))
		return child();
	if (argc != 3 || n <= 0 ||
	    (strcmp(argv[1], "storm") && strcmp(argv[1], "leak") && strcmp(argv[1], "leak-control"))) {
		fprintf(stderr, "usage: torture storm READS | torture leak|leak-control CYCLES\n");
		return 2;
	}
	printf("TAP version 13\n1..1\n");
	if (!strcmp(argv[1], "storm"))
		rc = storm(n);
	else
		rc = leak(n, !strcmp(argv[1], "leak-control"));
	printf("%sok 1 - %s %ld\n", rc == KT_PASS ? "" : "not ", argv[1], n);
	printf("%d passed, %d failed, 0 skipped\n", rc == KT_PASS, rc != KT_PASS);
	return rc == KT_PASS ? 0 : 1;
}
