// SPDX-License-Identifier: MIT
/*
 * Guest tests of the system page: hostname, domain name, uname and the
 * online CPU count, per UTS namespace, as the system calls give them and
 * from the page where it vouches for them. Run on a kernel without kshare,
 * these tests fail.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/personality.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>

#include <kshare/kshare.h>

#include "deny.h"
#include "ktest.h"

/* The area this process registered (ktest.h), as the library does. */
static const struct kshare_sys_header *header(void)
{
	return kt_header();
}

static const struct kshare_uts *uts_record(void)
{
	const struct kshare_sys_header *h = header();

	return h ? (const void *)((const char *)h + h->uts_offset) : NULL;
}

static uint32_t proc_valid(void)
{
	const struct kshare_sys_header *h = header();
	const struct kshare_proc_page *pp;

	if (!h)
		return 0;
	pp = (const void *)((const char *)h + h->proc_offset);
	return __atomic_load_n(&pp->valid, __ATOMIC_ACQUIRE);
}

static int sys_uname(struct utsname *u)
{
	return (int)syscall(SYS_uname, u);
}

/* The page vouches for the names, and every call agrees with the kernel. */
static int check_uts(int must_be_valid)
{
	struct utsname k, s;
	char a[KSHARE_UTS_LEN], b[KSHARE_UTS_LEN];

	KT_EXPECT(header(), "no kshare area");
	KT_EXPECT(header()->features & KSHARE_FEATURE_UTS, "no UTS feature");
	if (must_be_valid) {
		KT_EXPECT(proc_valid() & KSHARE_PROC_VALID_UTS, "page does not vouch: %#x",
			  proc_valid());
		KT_EXPECT(uts_record()->valid & KSHARE_UTS_VALID_NAMES, "names invalid");
	}
	KT_EXPECT(kshare_uname(&k) == 0 && sys_uname(&s) == 0, "uname");
	KT_EXPECT(memcmp(&k, &s, sizeof(k)) == 0, "uname: kshare %s %s %s, kernel %s %s %s",
		  k.nodename, k.release, k.machine, s.nodename, s.release, s.machine);
	KT_EXPECT(kshare_gethostname(a, sizeof(a)) == 0, "gethostname");
	KT_EXPECT(strcmp(a, s.nodename) == 0, "hostname %s / %s", a, s.nodename);
	KT_EXPECT(kshare_getdomainname(b, sizeof(b)) == 0, "getdomainname");
	KT_EXPECT(strcmp(b, s.domainname) == 0, "domainname %s / %s", b, s.domainname);
	KT_EXPECT(kshare_get_nprocs() == get_nprocs(), "nprocs %d / %d", kshare_get_nprocs(),
		  get_nprocs());
	return KT_PASS;
}

static int names_in_initial_namespace(void)
{
	KT_EXPECT(uts_record()->valid & KSHARE_UTS_VALID_NPROCS, "nprocs invalid");
	KT_EXPECT(uts_record()->nr_cpus_online == (uint32_t)get_nprocs(), "page %u, /sys %d",
		  uts_record()->nr_cpus_online, get_nprocs());
	return check_uts(1);
}

/* Restore the host name of the VM's initial namespace after a test. */
static char saved_host[KSHARE_UTS_LEN], saved_domain[KSHARE_UTS_LEN];

static void save_names(void)
{
	gethostname(saved_host, sizeof(saved_host));
	getdomainname(saved_domain, sizeof(saved_domain));
}

static void restore_names(void)
{
	sethostname(saved_host, strlen(saved_host));
	setdomainname(saved_domain, strlen(saved_domain));
}

static int sethostname_updates_the_page(void)
{
	uint64_t gen;
	char buf[KSHARE_UTS_LEN];
	int r;

	save_names();
	KT_EXPECT(check_uts(1) == KT_PASS, "before");
	gen = kshare_uts_generation();
	KT_EXPECT(gen != 0, "no generation");
	KT_EXPECT(kshare_uts_generation() == gen, "generation moved with no change");
	KT_EXPECT(sethostname("kshare-renamed", 14) == 0, "sethostname: %s", strerror(errno));
	KT_EXPECT(kshare_uts_generation() != gen, "generation did not move");
	gen = kshare_uts_generation();
	KT_EXPECT(setdomainname("kshare.test", 11) == 0, "setdomainname");
	KT_EXPECT(kshare_uts_generation() != gen, "generation did not move");
	/* straight from the page */
	KT_EXPECT(strcmp(uts_record()->nodename, "kshare-renamed") == 0, "page %s",
		  uts_record()->nodename);
	KT_EXPECT(kshare_gethostname(buf, sizeof(buf)) == 0 && !strcmp(buf, "kshare-renamed"), "%s",
		  buf);
	r = check_uts(1);
	restore_names();
	return r;
}

static int proc_sys_hostname_write_updates_the_page(void)
{
	int fd, r;

	save_names();
	fd = open("/proc/sys/kernel/hostname", O_WRONLY);
	KT_EXPECT(fd >= 0, "open: %s", strerror(errno));
	KT_EXPECT(write(fd, "via-proc-sys", 12) == 12, "write");
	close(fd);
	KT_EXPECT(strcmp(uts_record()->nodename, "via-proc-sys") == 0, "page %s",
		  uts_record()->nodename);
	r = check_uts(1);
	restore_names();
	return r;
}

/* unshare(CLONE_NEWUTS): the same address shows the new namespace's page. */
static int unshare_switches_the_page(void)
{
	char outer[KSHARE_UTS_LEN];
	const void *before = uts_record();
	int pipefd[2];
	pid_t pid;

	KT_EXPECT(check_uts(1) == KT_PASS, "before");
	gethostname(outer, sizeof(outer));
	KT_EXPECT(unshare(CLONE_NEWUTS) == 0, "unshare: %s", strerror(errno));
	KT_EXPECT(check_uts(1) == KT_PASS, "right after unshare");
	KT_EXPECT(sethostname("inner", 5) == 0, "sethostname");
	KT_EXPECT(uts_record() == before, "the area moved");
	KT_EXPECT(strcmp(uts_record()->nodename, "inner") == 0, "page shows %s",
		  uts_record()->nodename);
	KT_EXPECT(check_uts(1) == KT_PASS, "inside");

	/* a process outside still sees the outer name from its own page */
	KT_EXPECT(pipe(pipefd) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		int fd = open("/proc/1/ns/uts", O_RDONLY);

		if (fd < 0 || setns(fd, CLONE_NEWUTS) != 0)
			_exit(KT_FAIL);
		_exit(check_uts(1) == KT_PASS && !strcmp(uts_record()->nodename, outer) ?
			      KT_PASS : KT_FAIL);
	}
	KT_EXPECT(pid > 0, "fork");
	KT_EXPECT(kt_wait(pid, "setns back to the initial namespace") == KT_PASS,
		  "after setns the page did not show the initial namespace");
	return check_uts(1);
}

/* setns() into another process's UTS namespace, and back, without exec. */
static int setns_switches_the_page(void)
{
	int ready[2], done[2], fd, home;
	char path[64], c;
	pid_t pid;

	KT_EXPECT(pipe(ready) == 0 && pipe(done) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWUTS) != 0 || sethostname("ns-a", 4) != 0)
			_exit(KT_FAIL);
		if (write(ready[1], "r", 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(KT_FAIL);
		_exit(KT_PASS);
	}
	KT_EXPECT(pid > 0, "fork");
	KT_EXPECT(read(ready[0], &c, 1) == 1, "child not ready");
	KT_EXPECT(check_uts(1) == KT_PASS, "before");
	home = open("/proc/self/ns/uts", O_RDONLY);
	snprintf(path, sizeof(path), "/proc/%d/ns/uts", pid);
	fd = open(path, O_RDONLY);
	KT_EXPECT(fd >= 0 && home >= 0, "open ns");
	KT_EXPECT(setns(fd, CLONE_NEWUTS) == 0, "setns: %s", strerror(errno));
	KT_EXPECT(strcmp(uts_record()->nodename, "ns-a") == 0, "page shows %s",
		  uts_record()->nodename);
	KT_EXPECT(check_uts(1) == KT_PASS, "in ns-a");
	KT_EXPECT(setns(home, CLONE_NEWUTS) == 0, "setns home");
	KT_EXPECT(strcmp(uts_record()->nodename, "ns-a") != 0, "page still shows ns-a");
	KT_EXPECT(check_uts(1) == KT_PASS, "back home");
	KT_EXPECT(write(done[1], "d", 1) == 1, "done");
	return kt_wait(pid, "ns-a holder");
}

/*
 * The generation a caller noted must not come back in another namespace: a
 * process that moves with unshare() or setns() must see "changed". Were each
 * namespace's page to count from zero of its own, a few sethostname() calls
 * in the new namespace would bring its count to the noted value.
 */
static int generation_is_never_reused_across_namespaces(void)
{
	uint64_t home_gen, gen = 0, inner;
	unsigned long i, n;
	char name[32];
	int home;

	KT_EXPECT(check_uts(1) == KT_PASS, "before");
	home_gen = kshare_uts_generation();
	KT_EXPECT(home_gen != 0, "no generation");
	home = open("/proc/self/ns/uts", O_RDONLY);
	KT_EXPECT(home >= 0, "open ns: %s", strerror(errno));
	KT_EXPECT(unshare(CLONE_NEWUTS) == 0, "unshare: %s", strerror(errno));
	/* As many changes as a count from zero needs to reach home_gen. */
	n = home_gen < 1000000 ? (unsigned long)home_gen : 1000000;
	for (i = 0; i <= n; i++) {
		if (i) {
			snprintf(name, sizeof(name), "gen-%lu", i);
			KT_EXPECT(sethostname(name, strlen(name)) == 0, "sethostname: %s",
				  strerror(errno));
		}
		gen = kshare_uts_generation();
		KT_EXPECT(gen != 0, "no generation in the new namespace");
		KT_EXPECT(gen != home_gen,
			  "after unshare and %lu sethostname calls the generation is %llu, "
			  "the one noted in the other namespace", i, (unsigned long long)gen);
	}
	KT_EXPECT(check_uts(1) == KT_PASS, "inside");
	inner = gen;
	KT_EXPECT(setns(home, CLONE_NEWUTS) == 0, "setns home: %s", strerror(errno));
	gen = kshare_uts_generation();
	KT_EXPECT(gen != inner, "back home, the generation %llu is the inner namespace's",
		  (unsigned long long)gen);
	/* Nothing changed at home in between. */
	KT_EXPECT(gen == home_gen, "home generation %llu, was %llu", (unsigned long long)gen,
		  (unsigned long long)home_gen);
	return check_uts(1);
}

/* One thread of several moves: the threads would need two pages. */
static void *unshare_thread(void *arg)
{
	(void)arg;
	if (unshare(CLONE_NEWUTS) != 0 || sethostname("thread-ns", 9) != 0)
		return (void *)1;
	return (void *)(intptr_t)check_uts(0);
}

static int threads_in_two_namespaces_fall_back(void)
{
	pthread_t t;
	void *r;

	KT_EXPECT(check_uts(1) == KT_PASS, "before");
	KT_EXPECT(pthread_create(&t, NULL, unshare_thread, NULL) == 0, "create");
	KT_EXPECT(pthread_join(t, &r) == 0 && r == (void *)KT_PASS, "thread got wrong names");
	KT_EXPECT(!(proc_valid() & KSHARE_PROC_VALID_UTS), "page still vouches");
	return check_uts(0);
}

static int personalities_that_alter_uname_fall_back(void)
{
	struct utsname k;

	KT_EXPECT(check_uts(1) == KT_PASS, "before");
	KT_EXPECT(personality(PER_LINUX | UNAME26) != -1, "personality: %s", strerror(errno));
	KT_EXPECT(!(proc_valid() & KSHARE_PROC_VALID_UTS), "page vouches under UNAME26");
	KT_EXPECT(check_uts(0) == KT_PASS, "UNAME26");
	KT_EXPECT(kshare_uname(&k) == 0 && !strncmp(k.release, "2.6.", 4), "release %s", k.release);
	KT_EXPECT(personality(PER_LINUX32) != -1, "personality");
	KT_EXPECT(check_uts(0) == KT_PASS, "PER_LINUX32");
	KT_EXPECT(personality(PER_LINUX) != -1, "personality");
	return check_uts(1);
}

static int nprocs_follows_cpu_hotplug(void)
{
	const char *cpu1 = "/sys/devices/system/cpu/cpu1/online";
	int before = get_nprocs(), r;
	uint64_t gen = kshare_uts_generation();

	KT_EXPECT(before >= 2, "need 2 CPUs, have %d", before);
	KT_EXPECT(kshare_get_nprocs() == before, "before: %d", kshare_get_nprocs());
	KT_EXPECT(kt_write_file(cpu1, "0") == 0, "offline cpu1: %s", strerror(errno));
	r = check_uts(1);
	KT_EXPECT(kshare_get_nprocs() == before - 1 &&
		  uts_record()->nr_cpus_online == (uint32_t)before - 1,
		  "offline: %d, page %u", kshare_get_nprocs(), uts_record()->nr_cpus_online);
	KT_EXPECT(kshare_uts_generation() != gen, "generation did not move");
	KT_EXPECT(kt_write_file(cpu1, "1") == 0, "online cpu1: %s", strerror(errno));
	KT_EXPECT(kshare_get_nprocs() == before && uts_record()->nr_cpus_online == (uint32_t)before,
		  "online again: %d", kshare_get_nprocs());
	KT_EXPECT(r == KT_PASS, "while offline");
	return check_uts(1);
}

/*
 * CPU hotplug rewrites the CPU count in every system page while processes
 * create and free UTS namespaces, as any user can (unshare -Uu): no write
 * may land in a freed page. On the debug kernel KASAN reports such a write;
 * the kernel log is checked at the end.
 *
 * A write lands in a freed page when a namespace is freed between the
 * walk's look-up of its page and its write there. To make that likely, the
 * churner holds a batch of namespaces (an nsfs file each), enters the first
 * of them and watches its page: when its generation moves, a walk has begun
 * with it, and the churner closes the files from the last namespace to the
 * first while the walk, on the other CPU, goes from the first to the last,
 * so the two cross. The churner stays on cpu0; the walks that run beside it
 * are those of cpu1's own online state, on cpu1.
 */
#define HOTPLUG_SECONDS 30
#define BATCH 32

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Create and free UTS namespaces until killed; unprivileged if it can. */
static void churn_namespaces(unsigned long *count, int unprivileged)
{
	const struct kshare_uts *u = uts_record();
	int fd[BATCH], i;
	cpu_set_t cpu0;
	uint64_t gen;
	double end;

	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_setaffinity(0, sizeof(cpu0), &cpu0) != 0) {
		kt_diag("churner: affinity: %s", strerror(errno));
		_exit(KT_FAIL);
	}
	if (unprivileged &&
	    (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0 ||
	     unshare(CLONE_NEWUSER) != 0))
		_exit(3);
	for (;;) {
		for (i = 0; i < BATCH; i++) {
			fd[i] = unshare(CLONE_NEWUTS) ? -1 : open("/proc/self/ns/uts", O_RDONLY);
			if (fd[i] < 0) {
				kt_diag("churner: namespace %d: %s", i, strerror(errno));
				_exit(KT_FAIL);
			}
		}
		/* Our page is now the first namespace's: the walk writes it first. */
		if (setns(fd[0], CLONE_NEWUTS) != 0) {
			kt_diag("churner: setns: %s", strerror(errno));
			_exit(KT_FAIL);
		}
		gen = __atomic_load_n(&u->generation, __ATOMIC_RELAXED);
		end = now() + 1;
		while (__atomic_load_n(&u->generation, __ATOMIC_RELAXED) == gen && now() < end)
			;
		for (i = BATCH - 1; i >= 0; i--)
			close(fd[i]);
		__atomic_add_fetch(count, BATCH, __ATOMIC_RELAXED);
	}
}

static int hotplug_while_namespaces_churn(void)
{
	const char *cpu1 = "/sys/devices/system/cpu/cpu1/online";
	unsigned long *count, cycles = 0;
	int unprivileged = 1, status, splat;
	pid_t churner;
	double end;

	KT_EXPECT(check_uts(1) == KT_PASS, "before");
	KT_EXPECT(get_nprocs() >= 2, "need 2 CPUs, have %d", get_nprocs());
	count = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	KT_EXPECT(count != MAP_FAILED, "mmap: %s", strerror(errno));
again:
	churner = fork();
	if (churner == 0)
		churn_namespaces(count, unprivileged);
	KT_EXPECT(churner > 0, "fork: %s", strerror(errno));
	usleep(200000);
	if (waitpid(churner, &status, WNOHANG) == churner) {
		KT_EXPECT(unprivileged && WIFEXITED(status) && WEXITSTATUS(status) == 3,
			  "churner ended with status %#x", status);
		kt_diag("no unprivileged user namespaces here: the churner runs as root");
		unprivileged = 0;
		goto again;
	}

	end = now() + HOTPLUG_SECONDS;
	while (now() < end) {
		KT_EXPECT(kt_write_file(cpu1, "0") == 0, "offline cpu1: %s", strerror(errno));
		KT_EXPECT(kt_write_file(cpu1, "1") == 0, "online cpu1: %s", strerror(errno));
		cycles++;
	}
	kill(churner, SIGKILL);
	waitpid(churner, &status, 0);
	KT_EXPECT(WIFSIGNALED(status), "churner ended with status %#x", status);
	kt_diag("%lu hotplug cycles while %s process created and freed %lu UTS namespaces, "
		"%d at a time", cycles, unprivileged ? "an unprivileged" : "a root", *count, BATCH);
	KT_EXPECT(cycles > 0 && *count > 0, "nothing ran");
	splat = kt_kernel_splat();
	KT_EXPECT(splat == 0, "the kernel log %s", splat < 0 ? "cannot be read" : "shows a splat");
	return check_uts(1);
}

/* glibc's buffer semantics, now with the names served by the page. */
static int short_buffers_behave_as_glibc(void)
{
	size_t len;

	KT_EXPECT(unshare(CLONE_NEWUTS) == 0, "unshare");
	KT_EXPECT(sethostname("a-longer-hostname", 17) == 0, "sethostname");
	KT_EXPECT(setdomainname("dom.example", 11) == 0, "setdomainname");
	KT_EXPECT(check_uts(1) == KT_PASS, "before");
	for (len = 0; len <= KSHARE_UTS_LEN; len++) {
		char a[80], b[80];
		int ra, rb, ea, eb;

		memset(a, 'X', sizeof(a));
		memset(b, 'X', sizeof(b));
		errno = 0;
		ra = kshare_gethostname(a, len);
		ea = errno;
		errno = 0;
		rb = gethostname(b, len);
		eb = errno;
		KT_EXPECT(ra == rb && ea == eb && !memcmp(a, b, sizeof(a)), "gethostname len %zu", len);
		memset(a, 'X', sizeof(a));
		memset(b, 'X', sizeof(b));
		ra = kshare_getdomainname(a, len);
		rb = getdomainname(b, len);
		KT_EXPECT(ra == rb && !memcmp(a, b, sizeof(a)), "getdomainname len %zu", len);
	}
	return KT_PASS;
}

/* The names really come from the page: uname(2) fails under seccomp. */
static int names_come_from_the_page_under_seccomp(void)
{
	static const int nrs[] = { SYS_uname };
	struct utsname before, k;
	char host[KSHARE_UTS_LEN];
	int nprocs = get_nprocs();

	KT_EXPECT(check_uts(1) == KT_PASS, "before");
	KT_EXPECT(sys_uname(&before) == 0, "uname");
	KT_EXPECT(kt_deny_syscalls(nrs, 1) == 0, "seccomp: %s", strerror(errno));
	KT_EXPECT(sys_uname(&k) == -1 && errno == EPERM, "the filter lets uname through");
	KT_EXPECT(kshare_uname(&k) == 0 && !memcmp(&k, &before, sizeof(k)), "kshare_uname");
	KT_EXPECT(kshare_gethostname(host, sizeof(host)) == 0 && !strcmp(host, before.nodename),
		  "gethostname");
	KT_EXPECT(kshare_get_nprocs() == nprocs, "nprocs");
	return KT_PASS;
}

/*
 * Stress: a writer alternates sethostname() between two names of different
 * lengths 10^5 times; a reader on the other vCPU must read exactly one of
 * them every time.
 */
#define STRESS_WRITES 100000
static const char short_name[] = "s";
static const char long_name[] = "a-rather-long-host-name-that-is-sixty-characters-long-xxxxx";
static volatile int writer_done;

static void *hostname_writer(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < STRESS_WRITES; i++) {
		const char *n = i % 2 ? long_name : short_name;

		if (sethostname(n, strlen(n)) != 0)
			break;
	}
	writer_done = 1;
	return NULL;
}

static int stress_hostname_writer_and_reader(void)
{
	long reads = 0, torn = 0, from_page;
	uint64_t gen0;
	pthread_t w;
	cpu_set_t cpus;

	KT_EXPECT(unshare(CLONE_NEWUTS) == 0, "unshare");
	KT_EXPECT(sethostname(short_name, 1) == 0, "sethostname");
	gen0 = kshare_uts_generation();
	KT_EXPECT(pthread_create(&w, NULL, hostname_writer, NULL) == 0, "writer");
	CPU_ZERO(&cpus);
	CPU_SET(1, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus); /* the reader on the other vCPU */
	while (!writer_done) {
		char buf[KSHARE_UTS_LEN];

		if (kshare_gethostname(buf, sizeof(buf)) != 0 ||
		    (strcmp(buf, short_name) && strcmp(buf, long_name)))
			torn++;
		reads++;
	}
	pthread_join(w, NULL);
	from_page = (long)(kshare_uts_generation() - gen0);
	kt_diag("stress: %ld reads during %d sethostname calls, %ld wrong; generation +%ld",
		reads, STRESS_WRITES, torn, from_page);
	KT_EXPECT(torn == 0, "%ld torn or wrong names", torn);
	KT_EXPECT(from_page == STRESS_WRITES, "generation moved %ld times", from_page);
	KT_EXPECT(reads > 1000, "only %ld reads", reads);
	return check_uts(1);
}

int main(void)
{
	static const struct ktest tests[] = {
		KTEST(names_in_initial_namespace),
		KTEST(sethostname_updates_the_page),
		KTEST(proc_sys_hostname_write_updates_the_page),
		KTEST(unshare_switches_the_page),
		KTEST(setns_switches_the_page),
		KTEST(threads_in_two_namespaces_fall_back),
		KTEST(personalities_that_alter_uname_fall_back),
		KTEST(generation_is_never_reused_across_namespaces),
		KTEST(nprocs_follows_cpu_hotplug),
		KTEST(hotplug_while_namespaces_churn),
		KTEST(short_buffers_behave_as_glibc),
		KTEST(names_come_from_the_page_under_seccomp),
		KTEST(stress_hostname_writer_and_reader),
	};

	return kt_main(tests, sizeof(tests) / sizeof(tests[0]), 120);
}
