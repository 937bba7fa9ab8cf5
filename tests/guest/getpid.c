// SPDX-License-Identifier: MIT
/*
 * Guest tests of the kshare mapping and of kshare_getpid(): it must equal
 * getpid(2) wherever a process can be, and the value must really come from
 * the page. Each test registers its process (ktest.h's kt_area()), as the
 * library does at its first call. Run on a kernel without kshare, these
 * tests fail.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

#include <kshare/kshare.h>

#include "ktest.h"

static pid_t sys_getpid(void)
{
	return (pid_t)syscall(SYS_getpid);
}

/* The area this process registered (ktest.h): the pages the tests read. */
static const struct kshare_sys_header *header(void)
{
	return kt_header();
}

static const struct kshare_proc_page *proc_page(void)
{
	return kt_proc_page();
}

/* The page itself, not the library, vouches for @pid. */
static int page_says(pid_t pid)
{
	const struct kshare_proc_page *pp = proc_page();

	KT_EXPECT(pp, "no kshare area: %s", strerror(errno));
	KT_EXPECT(__atomic_load_n(&pp->valid, __ATOMIC_ACQUIRE) & KSHARE_PROC_VALID_PID,
		  "valid=%#x", pp->valid);
	KT_EXPECT(pp->pid == pid, "page pid %d, getpid %d", pp->pid, pid);
	return KT_PASS;
}

/* The whole check a process makes of itself. */
static int check_self(void)
{
	pid_t pid = sys_getpid();

	KT_EXPECT(kshare_getpid() == pid, "kshare %d, syscall %d", kshare_getpid(), pid);
	return page_says(pid);
}

static int registration_and_header(void)
{
	const struct kshare_sys_header *h = header();
	struct kshare_map map;

	KT_EXPECT(h, "prctl(PR_KSHARE, PR_KSHARE_MAP): %s", strerror(errno));
	kt_map_init(&map);
	KT_EXPECT(kt_kshare(PR_KSHARE_GET, &map) == 0, "PR_KSHARE_GET: %s", strerror(errno));
	KT_EXPECT(map.area == (uintptr_t)h, "GET says %#llx, MAP said %p",
		  (unsigned long long)map.area, (void *)h);
	KT_EXPECT(map.features == h->features, "features %#llx, header %#llx",
		  (unsigned long long)map.features, (unsigned long long)h->features);
	KT_EXPECT(((uintptr_t)h & (sysconf(_SC_PAGESIZE) - 1)) == 0, "%p", (void *)h);
	KT_EXPECT(h->magic == KSHARE_MAGIC, "magic %#x", h->magic);
	KT_EXPECT(h->abi_version == KSHARE_ABI_VERSION, "abi %u", h->abi_version);
	KT_EXPECT(h->header_size >= sizeof(*h), "%u", h->header_size);
	KT_EXPECT(h->proc_size >= sizeof(struct kshare_proc_page), "%u", h->proc_size);
	KT_EXPECT(h->proc_offset + h->proc_size <= h->map_size, "%u+%u > %u",
		  h->proc_offset, h->proc_size, h->map_size);
	KT_EXPECT(h->features & KSHARE_FEATURE_PROC_PID, "features %#llx",
		  (unsigned long long)h->features);
	KT_EXPECT(kshare_available(KSHARE_FEATURE_PROC_PID), "library disagrees");
	KT_EXPECT(proc_page()->mm_serial != 0, "serial 0");
	return KT_PASS;
}

static int named_in_proc_maps(void)
{
	uintptr_t base = (uintptr_t)header();
	char line[512];
	int found = 0;
	FILE *f;

	KT_EXPECT(base, "no kshare area");
	f = fopen("/proc/self/maps", "r");
	KT_EXPECT(f, "%s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		char perms[5];

		if (!strstr(line, "[kshare]"))
			continue;
		KT_EXPECT(sscanf(line, "%lx-%lx %4s", &start, &end, perms) == 3, "%s", line);
		KT_EXPECT(start == base, "maps %lx, registered %lx", start, (unsigned long)base);
		KT_EXPECT(end - start == header()->map_size, "%s", line);
		KT_EXPECT(strcmp(perms, "r--p") == 0, "%s", line);
		found++;
	}
	fclose(f);
	KT_EXPECT(found == 1, "[kshare] mapped %d times", found);
	return KT_PASS;
}

static int pid_in_parent(void)
{
	return check_self();
}

static pid_t test_parent;

static int child_sees_itself(void)
{
	KT_EXPECT(kshare_getpid() != test_parent, "child got its parent's pid %d", test_parent);
	return check_self();
}

static int pid_in_fork_child(void)
{
	/* Fault the parent's page in first: the child must not inherit it. */
	KT_EXPECT(check_self() == KT_PASS, "parent");
	test_parent = sys_getpid();
	return kt_in_child(child_sees_itself);
}

static int grandchild_sees_itself(void)
{
	KT_EXPECT(check_self() == KT_PASS, "child");
	test_parent = sys_getpid();
	return kt_in_child(child_sees_itself);
}

static int pid_in_grandchild(void)
{
	KT_EXPECT(check_self() == KT_PASS, "parent");
	return kt_in_child(grandchild_sees_itself);
}

static const char *self_exe = "/proc/self/exe";

static int pid_after_exec(void)
{
	pid_t pid;

	KT_EXPECT(check_self() == KT_PASS, "before exec");
	pid = fork();
	if (pid == 0) {
		execl(self_exe, self_exe, "--check-self", (char *)NULL);
		_exit(KT_FAIL);
	}
	KT_EXPECT(pid > 0, "fork: %s", strerror(errno));
	return kt_wait(pid, "exec'd child");
}

static int pid_in_new_pid_namespace(void)
{
	pid_t pid;

	if (unshare(CLONE_NEWPID) != 0) {
		kt_diag("unshare(CLONE_NEWPID): %s", strerror(errno));
		return KT_FAIL;
	}
	/* unshare() moves only future children into the namespace. */
	KT_EXPECT(check_self() == KT_PASS, "after unshare");
	pid = fork();
	if (pid == 0) {
		if (sys_getpid() != 1)
			_exit(KT_FAIL);
		_exit(check_self());
	}
	KT_EXPECT(pid > 0, "fork: %s", strerror(errno));
	return kt_wait(pid, "pid 1 of the new namespace");
}

/*
 * vfork() shares the address space and so the process page: the child must
 * not get its parent's pid from it, and the parent must get the page back
 * once the child is gone.
 */
static int pid_across_vfork(void)
{
	static volatile pid_t child_kshare, child_sys;
	static volatile uint32_t child_valid = ~0u;
	pid_t pid;

	KT_EXPECT(check_self() == KT_PASS, "before vfork");
	pid = vfork();
	if (pid == 0) {
		child_valid = __atomic_load_n(&proc_page()->valid, __ATOMIC_ACQUIRE);
		child_kshare = kshare_getpid();
		child_sys = sys_getpid();
		_exit(0);
	}
	KT_EXPECT(pid > 0, "vfork: %s", strerror(errno));
	KT_EXPECT(kt_wait(pid, "vfork child") == 0, "child failed");
	KT_EXPECT(child_sys == pid, "child's getpid %d, vfork returned %d", child_sys, pid);
	KT_EXPECT(child_kshare == child_sys, "child: kshare %d, syscall %d (parent %d)",
		  child_kshare, child_sys, sys_getpid());
	KT_EXPECT(!(child_valid & KSHARE_PROC_VALID_PID), "page vouched for a pid in the child");
	return check_self();
}

/* vfork() then exec: the parent's page is valid again after the exec. */
static int pid_after_vfork_exec(void)
{
	pid_t pid;

	KT_EXPECT(check_self() == KT_PASS, "before vfork");
	pid = vfork();
	if (pid == 0) {
		execl(self_exe, self_exe, "--check-self", (char *)NULL);
		_exit(KT_FAIL);
	}
	KT_EXPECT(pid > 0, "vfork: %s", strerror(errno));
	KT_EXPECT(kt_wait(pid, "exec'd vfork child") == KT_PASS, "child failed");
	return check_self();
}

/*
 * exec_mmap() lets go of the old address space (kshare's release hook runs)
 * before it waits, killably, for that address space's mmap_lock. A SIGKILL
 * during that wait fails the exec and the task exits, still in the old
 * address space, which it then releases a second time. With two clone(CLONE_VM)
 * children A and B in our address space, A's failed exec must uncount A only
 * once: while B lives, the page must not vouch for our pid.
 */
#define MPROTECT_BYTES (64 << 20)

static volatile int hammer_stop;

/* Hold our mmap_lock for writing most of the time. */
static void *mmap_lock_hammer(void *arg)
{
	char *mem = arg;

	while (!hammer_stop) {
		mprotect(mem, MPROTECT_BYTES, PROT_READ);
		mprotect(mem, MPROTECT_BYTES, PROT_READ | PROT_WRITE);
	}
	return NULL;
}

static int sharer_waits(void *arg)
{
	(void)arg;
	/* ppoll(): arm64 has no pause system call. */
	for (;;)
		syscall(SYS_ppoll, NULL, 0, NULL, NULL, 0);
	return 0;
}

static int sharer_execs(void *arg)
{
	(void)arg;
	syscall(SYS_execve, self_exe, (char *const[]){ "getpid", "--check-self", NULL },
		(char *const[]){ NULL });
	syscall(SYS_exit, 0);
	return 0;
}

static int killed_exec_releases_the_page_once(void)
{
	static char stack_a[65536] __attribute__((aligned(16)));
	static char stack_b[65536] __attribute__((aligned(16)));
	const struct kshare_proc_page *pp = proc_page();
	int i, status, killed = 0, execd = 0, vouched = 0;
	pthread_t hammer;
	pid_t a, b;
	char *mem;

	KT_EXPECT(check_self() == KT_PASS, "before");
	mem = mmap(NULL, MPROTECT_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		   MAP_POPULATE, -1, 0);
	KT_EXPECT(mem != MAP_FAILED, "mmap: %s", strerror(errno));
	b = clone(sharer_waits, stack_b + sizeof(stack_b), CLONE_VM | SIGCHLD, NULL);
	KT_EXPECT(b > 0, "clone: %s", strerror(errno));
	KT_EXPECT(!(pp->valid & KSHARE_PROC_VALID_PID), "valid with B in the address space");
	KT_EXPECT(pthread_create(&hammer, NULL, mmap_lock_hammer, mem) == 0, "pthread_create");

	/*
	 * SIGKILL at a random point of the exec; the range adapts, so that
	 * some execs are killed and some finish whatever the machine's speed
	 * (on an idle host every exec finished within a fixed 3 ms).
	 */
	srand((unsigned int)time(NULL));
	for (i = 0; i < 1000 && !vouched; i++) {
		static long range_us = 3000;
		const long delay_ns = 1000L * (rand() % range_us);
		struct timespec t0, t;

		a = clone(sharer_execs, stack_a + sizeof(stack_a), CLONE_VM | SIGCHLD, NULL);
		if (a < 0)
			break;
		/* A spin, not nanosleep(): a tick-based kernel would round up. */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do
			clock_gettime(CLOCK_MONOTONIC, &t);
		while ((t.tv_sec - t0.tv_sec) * 1000000000L + t.tv_nsec - t0.tv_nsec < delay_ns);
		kill(a, SIGKILL);
		if (waitpid(a, &status, 0) != a)
			break;
		if (WIFSIGNALED(status)) {
			killed++;
			range_us = range_us * 5 / 4 + 1;
		} else {
			execd++;
			range_us = range_us * 3 / 4 + 1;
		}
		/* A is gone, both its releases done; B still shares the page. */
		vouched = __atomic_load_n(&pp->valid, __ATOMIC_ACQUIRE) & KSHARE_PROC_VALID_PID;
	}
	hammer_stop = 1;
	pthread_join(hammer, NULL);
	kt_diag("%d clone+exec+SIGKILL rounds: %d killed, %d exec'd and exited", i, killed, execd);
	KT_EXPECT(!vouched, "after round %d the page vouches for pid %d while B (%d) shares it",
		  i, pp->pid, b);
	KT_EXPECT(killed > 0, "no exec was killed");
	kill(b, SIGKILL);
	KT_EXPECT(waitpid(b, &status, 0) == b, "waitpid B");
	return check_self();
}

static int page_is_read_only(void)
{
	void *base = (void *)header();
	int fd;

	KT_EXPECT(base, "no kshare area");
	KT_EXPECT(mprotect(base, header()->map_size, PROT_READ | PROT_WRITE) == -1,
		  "mprotect made [kshare] writable");
	KT_EXPECT(errno == EACCES, "mprotect: %s", strerror(errno));

	fd = open("/proc/self/mem", O_RDWR);
	KT_EXPECT(fd >= 0, "/proc/self/mem: %s", strerror(errno));
	KT_EXPECT(pwrite(fd, "x", 1, (off_t)(uintptr_t)proc_page()) == -1,
		  "wrote the process page through /proc/self/mem");
	close(fd);
	return check_self();
}

/* debugfs kshare/proc_pages: the kernel's count of live process pages. */
static long proc_pages(void)
{
	return kt_debugfs_long("proc_pages");
}

static int child_touch_and_exit(void)
{
	return check_self();
}

/*
 * Many fork/exit cycles whose children touch their page: every page must be
 * freed with its address space. A dead child's mm can linger as some CPU's
 * lazy TLB mm until that CPU switches, so allow one per CPU.
 */
static int no_leak_over_fork_exit(void)
{
	const int n = 4000, slack = 4;
	long before, after;
	int i;

	before = proc_pages();
	KT_EXPECT(before >= 0, "kshare/proc_pages in debugfs: %ld", before);
	/* This process registers and reads its page: the count sees it. */
	KT_EXPECT(check_self() == KT_PASS, "self");
	KT_EXPECT(proc_pages() == before + 1, "%ld pages after registering and touching ours",
		  proc_pages());
	before++;
	for (i = 0; i < n; i++)
		KT_EXPECT(kt_in_child(child_touch_and_exit) == KT_PASS, "cycle %d", i);
	after = proc_pages();
	kt_diag("kshare process pages: %ld before %d fork/exit cycles, %ld after", before, n, after);
	KT_EXPECT(after - before <= slack, "%ld pages leaked", after - before);
	return KT_PASS;
}

/*
 * An address space's kshare state goes with its last user, not with its
 * last reference: /proc/PID/mem, for one, keeps a reference (mm_count) for
 * as long as it is open, and must not keep the exited process's pages (nor
 * its struct pid and UTS namespace) alive.
 */
static int child_touches_and_waits(int ready_fd)
{
	if (check_self() != KT_PASS || write(ready_fd, "r", 1) != 1)
		_exit(KT_FAIL);
	pause();
	_exit(0);
}

static int pages_go_with_the_last_user(void)
{
	int ready[2], mem;
	long before, during, after = -1;
	char path[64], c;
	pid_t pid;
	int i;

	KT_EXPECT(check_self() == KT_PASS, "self");
	KT_EXPECT(pipe(ready) == 0, "pipe");
	before = proc_pages();
	KT_EXPECT(before >= 0, "kshare/proc_pages in debugfs: %ld", before);
	pid = fork();
	if (pid == 0)
		child_touches_and_waits(ready[1]);
	KT_EXPECT(pid > 0, "fork: %s", strerror(errno));
	KT_EXPECT(read(ready[0], &c, 1) == 1, "child not ready");
	during = proc_pages();
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	mem = open(path, O_RDONLY);
	KT_EXPECT(mem >= 0, "%s: %s", path, strerror(errno));
	kill(pid, SIGKILL);
	KT_EXPECT(waitpid(pid, NULL, 0) == pid, "waitpid: %s", strerror(errno));
	/* A lazy TLB reference may outlive the exit for a moment. */
	for (i = 0; i < 100; i++) {
		after = proc_pages();
		if (after <= before)
			break;
		usleep(10000);
	}
	close(mem);
	kt_diag("process pages: %ld before the child, %ld with it, %ld after its exit "
		"with its /proc/PID/mem open", before, during, after);
	KT_EXPECT(during == before + 1, "the child's page was not counted");
	KT_EXPECT(after == before, "the exited child's page lives on with its /proc/PID/mem");
	return KT_PASS;
}

int main(int argc, char **argv)
{
	static const struct ktest tests[] = {
		KTEST(registration_and_header),
		KTEST(named_in_proc_maps),
		KTEST(pid_in_parent),
		KTEST(pid_in_fork_child),
		KTEST(pid_in_grandchild),
		KTEST(pid_after_exec),
		KTEST(pid_in_new_pid_namespace),
		KTEST(pid_across_vfork),
		KTEST(pid_after_vfork_exec),
		KTEST(killed_exec_releases_the_page_once),
		KTEST(page_is_read_only),
		KTEST(no_leak_over_fork_exit),
		KTEST(pages_go_with_the_last_user),
	};

	if (argc == 2 && strcmp(argv[1], "--check-self") == 0)
		return check_self();
	return kt_main(tests, sizeof(tests) / sizeof(tests[0]), 300);
}
