// SPDX-License-Identifier: MIT
/*
 * Guest tests of process identity from the kshare page: getppid, gettid,
 * the uid/gid family, getpgrp and getsid must give what the system calls
 * give, for the calling thread, in every hazard case of DESIGN.md; and
 * where the page vouches for a value, the value must come from the page.
 * Run on a kernel without kshare, these tests fail.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>

#include <kshare/kshare.h>

#include "deny.h"
#include "ktest.h"

#define PROC_BITS (KSHARE_PROC_VALID_PID | KSHARE_PROC_VALID_PPID | \
		   KSHARE_PROC_VALID_PGID | KSHARE_PROC_VALID_SID)
#define ALL_BITS (PROC_BITS | KSHARE_PROC_VALID_CREDS | KSHARE_PROC_VALID_TID_CACHE)

static long sys0(long nr)
{
	return syscall(nr);
}

/*
 * The process page of the area this process registered (ktest.h), as the
 * library registers at its first call; remembered, so that threads, vfork
 * and CLONE_VM children read the same page without asking.
 */
static const struct kshare_proc_page *page(void)
{
	return kt_proc_page();
}

static uint32_t page_valid(void)
{
	const struct kshare_proc_page *pp = page();

	return pp ? __atomic_load_n(&pp->valid, __ATOMIC_ACQUIRE) : 0;
}

/*
 * Every kshare call against its system call, for the calling thread; and
 * the page must vouch for at least @must. Safe in any thread and in a
 * CLONE_VM child: only syscall(), kshare and stack memory.
 */
static int check_ids(uint32_t must)
{
	uid_t k[3], s[3];

	KT_EXPECT(page(), "no kshare area");
	KT_EXPECT((page_valid() & must) == must, "valid %#x, expected at least %#x",
		  page_valid(), must);
	KT_EXPECT(kshare_getpid() == sys0(SYS_getpid), "pid %d/%ld", kshare_getpid(), sys0(SYS_getpid));
	KT_EXPECT(kshare_getppid() == sys0(SYS_getppid), "ppid %d/%ld", kshare_getppid(), sys0(SYS_getppid));
	KT_EXPECT(kshare_gettid() == sys0(SYS_gettid), "tid %d/%ld", kshare_gettid(), sys0(SYS_gettid));
	/* twice: the second read comes from the thread's cache */
	KT_EXPECT(kshare_gettid() == sys0(SYS_gettid), "cached tid %d/%ld", kshare_gettid(), sys0(SYS_gettid));
	KT_EXPECT(kshare_getpgrp() == syscall(SYS_getpgid, 0), "pgid %d", kshare_getpgrp());
	KT_EXPECT(kshare_getsid(0) == syscall(SYS_getsid, 0), "sid %d", kshare_getsid(0));
	KT_EXPECT(kshare_getsid(kshare_getpid()) == syscall(SYS_getsid, 0), "sid(pid)");
	KT_EXPECT(kshare_getuid() == (uid_t)sys0(SYS_getuid), "uid %u", kshare_getuid());
	KT_EXPECT(kshare_geteuid() == (uid_t)sys0(SYS_geteuid), "euid %u", kshare_geteuid());
	KT_EXPECT(kshare_getgid() == (gid_t)sys0(SYS_getgid), "gid %u", kshare_getgid());
	KT_EXPECT(kshare_getegid() == (gid_t)sys0(SYS_getegid), "egid %u", kshare_getegid());
	KT_EXPECT(kshare_getresuid(&k[0], &k[1], &k[2]) == 0, "getresuid");
	KT_EXPECT(syscall(SYS_getresuid, &s[0], &s[1], &s[2]) == 0, "sys getresuid");
	KT_EXPECT(k[0] == s[0] && k[1] == s[1] && k[2] == s[2], "resuid %u %u %u / %u %u %u",
		  k[0], k[1], k[2], s[0], s[1], s[2]);
	KT_EXPECT(kshare_getresgid(&k[0], &k[1], &k[2]) == 0, "getresgid");
	KT_EXPECT(syscall(SYS_getresgid, &s[0], &s[1], &s[2]) == 0, "sys getresgid");
	KT_EXPECT(k[0] == s[0] && k[1] == s[1] && k[2] == s[2], "resgid %u %u %u / %u %u %u",
		  k[0], k[1], k[2], s[0], s[1], s[2]);
	return KT_PASS;
}

/*
 * In a process of several threads the kernel withdraws the credentials
 * record at each change and republishes it from a work item, once for a
 * whole set*id() broadcast (series patch 3): wait for it, bounded, before
 * asking for the bit. A wrong value is never shown meanwhile: the library
 * makes the system call while the bit is clear.
 */
static int wait_creds_valid(void)
{
	int i;

	for (i = 0; i < 2000; i++) {
		if (page_valid() & KSHARE_PROC_VALID_CREDS)
			return 1;
		usleep(1000);
	}
	return 0;
}

static pid_t parent_pid;

static int child_checks(void)
{
	KT_EXPECT(kshare_getpid() != parent_pid, "child got its parent's pid");
	KT_EXPECT(kshare_getppid() == parent_pid, "ppid %d, parent %d", kshare_getppid(), parent_pid);
	return check_ids(ALL_BITS);
}

static int grandchild_checks(void)
{
	KT_EXPECT(child_checks() == KT_PASS, "child");
	parent_pid = sys0(SYS_getpid);
	return kt_in_child(child_checks);
}

static int ids_in_fork_child_and_grandchild(void)
{
	KT_EXPECT(check_ids(ALL_BITS) == KT_PASS, "parent");
	parent_pid = sys0(SYS_getpid);
	return kt_in_child(grandchild_checks);
}

/* vfork(): the child shares the page and must not get the parent's ids. */
static int ids_across_vfork(void)
{
	static volatile int child_result = -1;
	static volatile uint32_t child_valid;
	pid_t pid;

	KT_EXPECT(check_ids(ALL_BITS) == KT_PASS, "before");
	pid = vfork();
	if (pid == 0) {
		child_valid = page_valid();
		child_result = check_ids(0);
		_exit(0);
	}
	KT_EXPECT(pid > 0, "vfork: %s", strerror(errno));
	KT_EXPECT(kt_wait(pid, "vfork child") == 0, "child");
	KT_EXPECT(child_result == KT_PASS, "the vfork child got wrong ids");
	KT_EXPECT(!(child_valid & (PROC_BITS | KSHARE_PROC_VALID_CREDS |
				   KSHARE_PROC_VALID_TID_CACHE)),
		  "the page vouched for the parent in the child: %#x", child_valid);
	return check_ids(ALL_BITS);
}

static const char *self_exe = "/proc/self/exe";

static int ids_after_posix_spawn(void)
{
	char *argv[] = { (char *)self_exe, "--check-ids", NULL };
	pid_t pid;

	KT_EXPECT(check_ids(ALL_BITS) == KT_PASS, "before");
	KT_EXPECT(posix_spawn(&pid, self_exe, NULL, NULL, argv, environ) == 0, "posix_spawn");
	KT_EXPECT(kt_wait(pid, "spawned") == KT_PASS, "spawned child");
	return check_ids(ALL_BITS);
}

/*
 * clone(CLONE_VM) without CLONE_THREAD, both running at once: neither may
 * ever read the other's ids.
 */
#define RACE_ROUNDS 20000
static volatile int clone_vm_bad = -1;

static int clone_vm_child(void *arg)
{
	int bad = 0, i;

	(void)arg;
	for (i = 0; i < RACE_ROUNDS; i++)
		bad += kshare_getpid() != sys0(SYS_getpid) ||
		       kshare_getppid() != sys0(SYS_getppid) ||
		       kshare_gettid() != sys0(SYS_gettid);
	clone_vm_bad = bad;
	return 0;
}

static int ids_with_clone_vm_both_running(void)
{
	size_t stack_size = 256 * 1024;
	char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	int bad = 0, i;
	pid_t pid;

	KT_EXPECT(stack != MAP_FAILED, "mmap");
	KT_EXPECT(check_ids(ALL_BITS) == KT_PASS, "before");
	pid = clone(clone_vm_child, stack + stack_size, CLONE_VM | SIGCHLD, NULL);
	KT_EXPECT(pid > 0, "clone: %s", strerror(errno));
	for (i = 0; i < RACE_ROUNDS; i++)
		bad += kshare_getpid() != sys0(SYS_getpid) ||
		       kshare_getppid() != sys0(SYS_getppid) ||
		       kshare_gettid() != sys0(SYS_gettid);
	KT_EXPECT(kt_wait(pid, "clone child") == 0, "child");
	KT_EXPECT(bad == 0, "parent read %d wrong values", bad);
	KT_EXPECT(clone_vm_bad == 0, "child read %d wrong values", clone_vm_bad);
	return check_ids(ALL_BITS);
}

/*
 * Raw clone(CLONE_VM | CLONE_THREAD): without CLONE_SETTLS the new thread
 * shares its creator's TLS, and so the creator's cached tid.
 */
struct raw_thread {
	volatile int done;
	volatile pid_t kshare_tid, kshare_tid_again, sys_tid;
};

static int raw_thread_fn(void *arg)
{
	struct raw_thread *rt = arg;

	rt->kshare_tid = kshare_gettid();
	rt->kshare_tid_again = kshare_gettid();
	rt->sys_tid = sys0(SYS_gettid);
	__atomic_store_n(&rt->done, 1, __ATOMIC_RELEASE);
	syscall(SYS_exit, 0);
	return 0;
}

static int run_raw_thread(struct raw_thread *rt, int extra_flags, void *tls)
{
	const int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			  CLONE_THREAD | CLONE_SYSVSEM | extra_flags;
	size_t stack_size = 256 * 1024;
	char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	int i;

	KT_EXPECT(stack != MAP_FAILED, "mmap");
	KT_EXPECT(clone(raw_thread_fn, stack + stack_size, flags, rt, NULL, tls, NULL) > 0,
		  "clone: %s", strerror(errno));
	for (i = 0; i < 10000 && !__atomic_load_n(&rt->done, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	KT_EXPECT(rt->done, "the raw thread never finished");
	return KT_PASS;
}

static int tid_in_raw_clone_thread_sharing_tls(void)
{
	static struct raw_thread rt;

	/* Prime this thread's cache: the new thread will see it. */
	KT_EXPECT(check_ids(ALL_BITS) == KT_PASS, "before");
	KT_EXPECT(run_raw_thread(&rt, 0, NULL) == KT_PASS, "thread");
	KT_EXPECT(rt.kshare_tid == rt.sys_tid && rt.kshare_tid_again == rt.sys_tid,
		  "raw thread got tid %d/%d, it is %d (creator %ld)",
		  rt.kshare_tid, rt.kshare_tid_again, rt.sys_tid, sys0(SYS_gettid));
	KT_EXPECT(!(page_valid() & KSHARE_PROC_VALID_TID_CACHE),
		  "page still vouches for tid caches");
	return check_ids(PROC_BITS | KSHARE_PROC_VALID_CREDS);
}

#if defined(__x86_64__) || defined(__aarch64__)
/*
 * With CLONE_SETTLS the thread gets TLS of its own: here a zeroed block with
 * the thread pointer in its middle. On x86-64 the TLS lies below the thread
 * pointer (FS), which points at a TCB pointing at itself; on arm64 it lies
 * above a 16-byte TCB at the thread pointer (TPIDR_EL0), and zeroes will do.
 */
static int tid_in_raw_clone_thread_with_settls(void)
{
	static struct raw_thread rt;
	static char tls_block[64 * 1024] __attribute__((aligned(64)));
	void **tcb = (void **)(tls_block + sizeof(tls_block) / 2);

#ifdef __x86_64__
	tcb[0] = tcb;	/* tcbhead_t.tcb */
	tcb[2] = tcb;	/* tcbhead_t.self */
#endif
	KT_EXPECT(check_ids(ALL_BITS) == KT_PASS, "before");
	KT_EXPECT(run_raw_thread(&rt, CLONE_SETTLS, tcb) == KT_PASS, "thread");
	KT_EXPECT(rt.kshare_tid == rt.sys_tid && rt.kshare_tid_again == rt.sys_tid,
		  "raw thread got tid %d/%d, it is %d", rt.kshare_tid, rt.kshare_tid_again,
		  rt.sys_tid);
	KT_EXPECT(page_valid() & KSHARE_PROC_VALID_TID_CACHE,
		  "a thread with its own TLS must not disable tid caches");
	return check_ids(ALL_BITS);
}
#endif

/* pthreads: every thread its own tid, also after its creator has exited. */
static void *thread_check(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)check_ids(ALL_BITS);
}

static pthread_barrier_t orphan_barrier;
static int orphan_result = -1;

static void *orphan_thread(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&orphan_barrier); /* its creator has exited now */
	orphan_result = check_ids(ALL_BITS);
	return NULL;
}

static void *creator_thread(void *arg)
{
	pthread_t *orphan = arg;

	(void)check_ids(ALL_BITS);
	if (pthread_create(orphan, NULL, orphan_thread, NULL) != 0)
		return (void *)1;
	return NULL;
}

static int tid_in_pthreads(void)
{
	pthread_t creator, orphan;
	void *ret;
	int i;

	KT_EXPECT(check_ids(ALL_BITS) == KT_PASS, "main");
	/* One after the other, so that glibc reuses stacks and TLS blocks. */
	for (i = 0; i < 50; i++) {
		pthread_t t;

		KT_EXPECT(pthread_create(&t, NULL, thread_check, NULL) == 0, "create");
		KT_EXPECT(pthread_join(t, &ret) == 0 && ret == (void *)KT_PASS, "thread %d", i);
	}
	pthread_barrier_init(&orphan_barrier, NULL, 2);
	KT_EXPECT(pthread_create(&creator, NULL, creator_thread, &orphan) == 0, "creator");
	KT_EXPECT(pthread_join(creator, &ret) == 0 && ret == NULL, "creator failed");
	pthread_barrier_wait(&orphan_barrier);
	KT_EXPECT(pthread_join(orphan, NULL) == 0, "join");
	KT_EXPECT(orphan_result == KT_PASS, "thread whose creator exited got wrong ids");
	return check_ids(ALL_BITS);
}

static void *exec_from_thread(void *arg)
{
	char pid[16];

	(void)arg;
	snprintf(pid, sizeof(pid), "%ld", sys0(SYS_getpid));
	execl(self_exe, self_exe, "--check-ids", pid, (char *)NULL);
	return NULL;
}

static int child_execs_from_a_thread(void)
{
	pthread_t t;

	KT_EXPECT(check_ids(ALL_BITS) == KT_PASS, "before");
	KT_EXPECT(pthread_create(&t, NULL, exec_from_thread, NULL) == 0, "create");
	pthread_join(t, NULL);
	return KT_FAIL; /* exec failed */
}

static int ids_after_exec_from_non_leader_thread(void)
{
	return kt_in_child(child_execs_from_a_thread);
}

/*
 * Reparenting: B forks C, then B exits; C watches its page, making no
 * system call, until the page names the new parent.
 */
static int wait_for_page_ppid_change(pid_t from)
{
	const struct kshare_proc_page *pp = page();
	struct timespec start, now;

	/* 20 s of the clock, not of loop turns, which TCG stretches. */
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		if (__atomic_load_n(&pp->ppid, __ATOMIC_RELAXED) != from)
			return 1;
		usleep(1000);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - start.tv_sec < 20);
	return 0;
}

/* A child's verdict, sent to the process that will have reaped it. */
static void __attribute__((noreturn)) send_status_and_exit(int fd, int status)
{
	if (write(fd, &status, sizeof(status)) != sizeof(status))
		_exit(1);
	_exit(0);
}

/* Exit, orphaning the children, once told to (a byte on @fd). */
static void __attribute__((noreturn)) exit_when_told(int fd)
{
	char r;

	if (read(fd, &r, 1) != 1)
		_exit(1);
	_exit(0);
}

static int reparented_child(int ready_fd, pid_t expect_ppid)
{
	pid_t old = kshare_getppid();

	KT_EXPECT(page_valid() & KSHARE_PROC_VALID_PPID, "ppid not valid");
	KT_EXPECT(old == sys0(SYS_getppid), "before: %d", old);
	KT_EXPECT(write(ready_fd, "r", 1) == 1, "ready");
	close(ready_fd);
	KT_EXPECT(wait_for_page_ppid_change(old), "the page never showed the new parent");
	KT_EXPECT(kshare_getppid() == expect_ppid, "ppid %d, expected %d", kshare_getppid(),
		  expect_ppid);
	return check_ids(ALL_BITS);
}

static int reparent_test(pid_t expect_ppid)
{
	int ready[2], result[2], status = KT_FAIL;
	pid_t b;

	KT_EXPECT(pipe(ready) == 0 && pipe(result) == 0, "pipe");
	b = fork();
	if (b == 0) {
		if (fork() == 0) {
			close(ready[0]);
			close(result[0]);
			send_status_and_exit(result[1],
					     reparented_child(ready[1], expect_ppid ? expect_ppid : 1));
		}
		close(ready[1]);
		exit_when_told(ready[0]); /* C is orphaned then */
	}
	KT_EXPECT(b > 0, "fork");
	close(ready[0]);
	close(ready[1]);
	close(result[1]);
	KT_EXPECT(kt_wait(b, "B") == 0, "B");
	KT_EXPECT(read(result[0], &status, sizeof(status)) == sizeof(status), "no result from C");
	if (expect_ppid)
		while (waitpid(-1, NULL, 0) > 0) /* reap C, ours now */
			;
	return status;
}

static int ppid_after_reparenting_to_init(void)
{
	return reparent_test(0);
}

static int ppid_after_reparenting_to_subreaper(void)
{
	KT_EXPECT(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "PR_SET_CHILD_SUBREAPER");
	return reparent_test(sys0(SYS_getpid));
}

/*
 * Two reparentings: B exits and C goes to S, a subreaper that never had a
 * child with a registration of its own, then S exits and C comes to us. An
 * exit walks its children only if one of them ever registered (the parent's
 * kshare_children flag): C's first reparenting must have told S so, or S's
 * exit leaves C's page naming S while getppid() names us.
 */
static int reparented_twice(int ready_fd, int again_fd, pid_t s, pid_t t)
{
	KT_EXPECT(reparented_child(ready_fd, s) == KT_PASS, "after B's exit (S is %d)", s);
	return reparented_child(again_fd, t);
}

static int ppid_after_reparenting_twice(void)
{
	int ready[2], again[2], result[2], status = KT_FAIL;
	pid_t t = sys0(SYS_getpid), s;

	KT_EXPECT(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "PR_SET_CHILD_SUBREAPER");
	KT_EXPECT(pipe(ready) == 0 && pipe(again) == 0 && pipe(result) == 0, "pipe");
	/* Neither S nor B touches kshare: only C registers. */
	s = fork();
	if (s == 0) {
		pid_t b, me = sys0(SYS_getpid);

		if (prctl(PR_SET_CHILD_SUBREAPER, 1))
			_exit(1);
		b = fork();
		if (b == 0) {
			if (fork() == 0) {
				close(ready[0]);
				close(again[0]);
				close(result[0]);
				send_status_and_exit(result[1],
						     reparented_twice(ready[1], again[1], me, t));
			}
			close(ready[1]);
			exit_when_told(ready[0]); /* C goes to S then */
		}
		close(ready[0]);
		close(ready[1]);
		close(again[1]);
		if (b < 0 || waitpid(b, NULL, 0) != b)
			_exit(1);
		exit_when_told(again[0]); /* C comes to us then */
	}
	KT_EXPECT(s > 0, "fork");
	close(ready[0]);
	close(ready[1]);
	close(again[0]);
	close(again[1]);
	close(result[1]);
	KT_EXPECT(kt_wait(s, "S") == 0, "S");
	KT_EXPECT(read(result[0], &status, sizeof(status)) == sizeof(status), "no result from C");
	while (waitpid(-1, NULL, 0) > 0) /* reap C, ours now */
		;
	return status;
}

static int ppid_is_zero_across_pid_namespace(void)
{
	pid_t pid;

	KT_EXPECT(unshare(CLONE_NEWPID) == 0, "unshare: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		if (sys0(SYS_getpid) != 1 || sys0(SYS_getppid) != 0)
			_exit(KT_FAIL);
		if (kshare_getppid() != 0 || kshare_getpid() != 1)
			_exit(KT_FAIL);
		_exit(check_ids(ALL_BITS));
	}
	KT_EXPECT(pid > 0, "fork");
	return kt_wait(pid, "pid 1");
}

static int setsid_grandchild(void)
{
	/* not a group leader, so setsid() works */
	KT_EXPECT(setsid() == sys0(SYS_getpid), "setsid: %s", strerror(errno));
	KT_EXPECT(kshare_getsid(0) == kshare_getpid(), "sid %d", kshare_getsid(0));
	KT_EXPECT(kshare_getpgrp() == kshare_getpid(), "pgid %d", kshare_getpgrp());
	return check_ids(ALL_BITS);
}

static int setsid_child(void)
{
	KT_EXPECT(check_ids(ALL_BITS) == KT_PASS, "before");
	KT_EXPECT(setpgid(0, 0) == 0, "setpgid: %s", strerror(errno));
	KT_EXPECT(kshare_getpgrp() == kshare_getpid(), "pgid %d", kshare_getpgrp());
	KT_EXPECT(check_ids(ALL_BITS) == KT_PASS, "after setpgid");
	return kt_in_child(setsid_grandchild);
}

static int pgid_and_sid_after_setpgid_and_setsid(void)
{
	return kt_in_child(setsid_child);
}

/* setpgid() by the parent on its child: the child's page follows. */
static int pgid_set_by_parent(void)
{
	int go[2];
	pid_t pid;

	KT_EXPECT(pipe(go) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		char c;

		close(go[1]);
		(void)kshare_getpgrp(); /* touch the page before the change */
		if (read(go[0], &c, 1) != 1)
			_exit(KT_FAIL);
		if (kshare_getpgrp() != sys0(SYS_getpid))
			_exit(KT_FAIL);
		_exit(check_ids(ALL_BITS));
	}
	KT_EXPECT(pid > 0, "fork");
	close(go[0]);
	usleep(100000);
	KT_EXPECT(setpgid(pid, pid) == 0, "setpgid: %s", strerror(errno));
	KT_EXPECT(write(go[1], "g", 1) == 1, "go");
	return kt_wait(pid, "child");
}

/* glibc's set*id() change every thread: the page stays valid. */
static pthread_barrier_t cred_barrier;

static void *cred_thread(void *arg)
{
	intptr_t r;

	(void)arg;
	pthread_barrier_wait(&cred_barrier);	/* ids changed */
	r = wait_creds_valid() ? check_ids(ALL_BITS) : KT_FAIL;
	if (r == KT_PASS && (kshare_getuid() != 1000 || kshare_getegid() != 1001))
		r = KT_FAIL;
	return (void *)r;
}

static int creds_after_glibc_setid_in_threads(void)
{
	pthread_t t[3];
	void *r;
	int i;

	KT_EXPECT(check_ids(ALL_BITS) == KT_PASS, "before");
	pthread_barrier_init(&cred_barrier, NULL, 4);
	for (i = 0; i < 3; i++)
		KT_EXPECT(pthread_create(&t[i], NULL, cred_thread, NULL) == 0, "create");
	KT_EXPECT(setresgid(1001, 1001, 1001) == 0, "setresgid: %s", strerror(errno));
	KT_EXPECT(setresuid(1000, 1000, 1000) == 0, "setresuid: %s", strerror(errno));
	pthread_barrier_wait(&cred_barrier);
	for (i = 0; i < 3; i++) {
		KT_EXPECT(pthread_join(t[i], &r) == 0, "join");
		KT_EXPECT(r == (void *)KT_PASS, "thread %d got wrong ids", i);
	}
	KT_EXPECT(wait_creds_valid(), "credentials not republished after the broadcast");
	KT_EXPECT(kshare_getuid() == 1000 && kshare_getgid() == 1001, "main");
	return check_ids(ALL_BITS);
}

/* A raw set*id() system call changes one thread: threads then differ. */
static pthread_barrier_t raw_barrier;

static void *raw_setuid_thread(void *arg)
{
	intptr_t r = KT_FAIL;

	(void)arg;
	if (syscall(SYS_setresuid, 2000, 2000, 2000) == 0 &&
	    kshare_getuid() == 2000 && kshare_geteuid() == 2000)
		r = check_ids(PROC_BITS);
	pthread_barrier_wait(&raw_barrier);	/* main checks now */
	pthread_barrier_wait(&raw_barrier);	/* and has checked */
	if (r == KT_PASS)
		r = check_ids(PROC_BITS);
	return (void *)r;
}

static int creds_after_raw_setuid_on_one_thread(void)
{
	pthread_t t;
	void *r;

	KT_EXPECT(check_ids(ALL_BITS) == KT_PASS, "before");
	pthread_barrier_init(&raw_barrier, NULL, 2);
	KT_EXPECT(pthread_create(&t, NULL, raw_setuid_thread, NULL) == 0, "create");
	pthread_barrier_wait(&raw_barrier);
	KT_EXPECT(!(page_valid() & KSHARE_PROC_VALID_CREDS),
		  "page vouches for credentials that differ between threads");
	KT_EXPECT(kshare_getuid() == 0 && kshare_geteuid() == 0, "main got uid %u",
		  kshare_getuid());
	KT_EXPECT(check_ids(PROC_BITS) == KT_PASS, "main");
	pthread_barrier_wait(&raw_barrier);
	KT_EXPECT(pthread_join(t, &r) == 0 && r == (void *)KT_PASS, "thread got wrong ids");
	return KT_PASS;
}

static int userns_child(int ready_fd, int go_fd)
{
	uid_t r, e, s;
	char c;

	/* suid 3000 will have no mapping inside */
	KT_EXPECT(setresuid(0, 0, 3000) == 0, "setresuid");
	KT_EXPECT(check_ids(ALL_BITS) == KT_PASS, "before");
	KT_EXPECT(unshare(CLONE_NEWUSER) == 0, "unshare: %s", strerror(errno));
	/* no maps yet: everything reads as the overflow id */
	KT_EXPECT(kshare_getuid() == 65534, "unmapped uid %u", kshare_getuid());
	KT_EXPECT(!(page_valid() & KSHARE_PROC_VALID_CREDS), "valid before the maps");
	KT_EXPECT(check_ids(PROC_BITS) == KT_PASS, "before maps");
	KT_EXPECT(write(ready_fd, "r", 1) == 1, "ready");
	KT_EXPECT(read(go_fd, &c, 1) == 1, "go");
	/* maps written by the parent: uid 0 is 5 inside, gid 0 is 7 */
	KT_EXPECT(page_valid() & KSHARE_PROC_VALID_CREDS, "not valid after the maps");
	KT_EXPECT(kshare_getresuid(&r, &e, &s) == 0, "getresuid");
	KT_EXPECT(r == 5 && e == 5 && s == 65534, "resuid %u %u %u", r, e, s);
	KT_EXPECT(kshare_getgid() == 7, "gid %u", kshare_getgid());
	return check_ids(ALL_BITS);
}

/* Write @pid's uid_map and gid_map: 0, or -1 with errno. */
static int write_id_maps(pid_t pid, const char *uid_map, const char *gid_map)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	if (kt_write_file(path, uid_map))
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	return kt_write_file(path, gid_map);
}

static int ids_in_user_namespace(void)
{
	int ready[2], go[2];
	char c;
	pid_t pid;

	KT_EXPECT(pipe(ready) == 0 && pipe(go) == 0, "pipe");
	pid = fork();
	if (pid == 0)
		_exit(userns_child(ready[1], go[0]));
	KT_EXPECT(pid > 0, "fork");
	KT_EXPECT(read(ready[0], &c, 1) == 1, "child not ready");
	KT_EXPECT(write_id_maps(pid, "5 0 1\n", "7 0 1\n") == 0, "maps: %s", strerror(errno));
	KT_EXPECT(write(go[1], "g", 1) == 1, "go");
	return kt_wait(pid, "userns child");
}

/*
 * A child in a user namespace of its own, without maps yet: answers each
 * 'q' on @cmd_fd with whether its credentials record is valid, and exits
 * on 'x' with its ids checked.
 */
static int waiting_userns_child(int reply_fd, int cmd_fd)
{
	char c;

	(void)kshare_getpid();
	KT_EXPECT(unshare(CLONE_NEWUSER) == 0, "unshare: %s", strerror(errno));
	KT_EXPECT(!(page_valid() & KSHARE_PROC_VALID_CREDS), "valid before the maps");
	KT_EXPECT(write(reply_fd, "r", 1) == 1, "ready");
	while (read(cmd_fd, &c, 1) == 1 && c == 'q') {
		c = page_valid() & KSHARE_PROC_VALID_CREDS ? '1' : '0';
		KT_EXPECT(write(reply_fd, &c, 1) == 1, "reply");
	}
	return check_ids(ALL_BITS);
}

/* Root inside mapped to root outside. */
#define ROOT_MAP "0 0 1\n"

static char ask_valid(int cmd_fd, int reply_fd)
{
	char c = '?';

	if (write(cmd_fd, "q", 1) != 1 || read(reply_fd, &c, 1) != 1)
		return '?';
	return c;
}

/*
 * A map write republishes the records that wait for a map of its own
 * namespace, and leaves those waiting for another's waiting (the kernel
 * keeps a list of them rather than walking every process).
 */
static int ids_in_two_user_namespaces(void)
{
	int reply[2][2], cmd[2][2], i;
	pid_t pid[2];
	char c;

	for (i = 0; i < 2; i++) {
		KT_EXPECT(pipe(reply[i]) == 0 && pipe(cmd[i]) == 0, "pipe");
		pid[i] = fork();
		if (pid[i] == 0)
			_exit(waiting_userns_child(reply[i][1], cmd[i][0]));
		KT_EXPECT(pid[i] > 0, "fork");
		KT_EXPECT(read(reply[i][0], &c, 1) == 1 && c == 'r', "child %d not ready", i);
	}
	KT_EXPECT(write_id_maps(pid[1], ROOT_MAP, ROOT_MAP) == 0, "maps of the second: %s",
		  strerror(errno));
	KT_EXPECT(ask_valid(cmd[1][1], reply[1][0]) == '1', "second not valid after its maps");
	KT_EXPECT(ask_valid(cmd[0][1], reply[0][0]) == '0', "first valid without maps");
	KT_EXPECT(write_id_maps(pid[0], ROOT_MAP, ROOT_MAP) == 0, "maps of the first: %s",
		  strerror(errno));
	KT_EXPECT(ask_valid(cmd[0][1], reply[0][0]) == '1', "first not valid after its maps");
	for (i = 0; i < 2; i++) {
		KT_EXPECT(write(cmd[i][1], "x", 1) == 1, "exit");
		KT_EXPECT(kt_wait(pid[i], "userns child") == 0, "child %d got wrong ids", i);
	}
	return KT_PASS;
}

/*
 * Stress for the list of records waiting for a map: children that
 * register, enter a user namespace of their own and exit at once, while
 * the parent writes their maps (racing the exits), and a long-lived waiter
 * whose namespace no write concerns. Run on the debug kernel (KASAN,
 * lockdep) by make check; here, that nothing goes wrong and the waiter
 * stays waiting until its own maps.
 */
#define MAP_STRESS_CHILDREN 300

static int stress_maps_racing_exits(void)
{
	int wreply[2], wcmd[2], i, racing = 0;
	pid_t waiter;
	char c;

	KT_EXPECT(pipe(wreply) == 0 && pipe(wcmd) == 0, "pipe");
	waiter = fork();
	if (waiter == 0)
		_exit(waiting_userns_child(wreply[1], wcmd[0]));
	KT_EXPECT(waiter > 0 && read(wreply[0], &c, 1) == 1 && c == 'r', "waiter not ready");
	for (i = 0; i < MAP_STRESS_CHILDREN; i++) {
		int ready[2];
		pid_t pid;

		KT_EXPECT(pipe(ready) == 0, "pipe");
		pid = fork();
		if (pid == 0) {
			(void)kshare_getuid();
			if (unshare(CLONE_NEWUSER) || write(ready[1], "r", 1) != 1)
				_exit(1);
			(void)kshare_getuid();
			_exit(0);
		}
		KT_EXPECT(pid > 0 && read(ready[0], &c, 1) == 1, "child %d", i);
		/* The child may be gone already: only the race matters. */
		racing += write_id_maps(pid, ROOT_MAP, ROOT_MAP) == 0;
		KT_EXPECT(kt_wait(pid, "map child") == 0, "child %d failed", i);
		close(ready[0]);
		close(ready[1]);
	}
	kt_diag("%d of %d children had their maps written before they exited", racing,
		MAP_STRESS_CHILDREN);
	KT_EXPECT(ask_valid(wcmd[1], wreply[0]) == '0', "waiter valid without maps");
	KT_EXPECT(write_id_maps(waiter, ROOT_MAP, ROOT_MAP) == 0, "waiter's maps: %s",
		  strerror(errno));
	KT_EXPECT(ask_valid(wcmd[1], wreply[0]) == '1', "waiter not valid after its maps");
	KT_EXPECT(write(wcmd[1], "x", 1) == 1, "exit");
	return kt_wait(waiter, "waiter") == 0 ? KT_PASS : KT_FAIL;
}

/* A signal handler that runs first thing after fork() or clone(CLONE_VM). */
static volatile int handler_result = -1;

static void check_in_handler(int sig)
{
	(void)sig;
	handler_result = check_ids(0);
}

static int handler_child(void *arg)
{
	(void)arg;
	raise(SIGUSR1);
	return handler_result == KT_PASS ? 0 : 1;
}

static int ids_in_signal_handler_after_fork_and_clone(void)
{
	static char stack[256 * 1024] __attribute__((aligned(16)));
	pid_t pid;

	KT_EXPECT(signal(SIGUSR1, check_in_handler) != SIG_ERR, "signal");
	KT_EXPECT(check_ids(ALL_BITS) == KT_PASS, "parent"); /* caches primed */
	pid = fork();
	if (pid == 0)
		_exit(handler_child(NULL));
	KT_EXPECT(kt_wait(pid, "fork child") == 0, "handler after fork got wrong ids");
	pid = clone(handler_child, stack + sizeof(stack), CLONE_VM | SIGCHLD, NULL);
	KT_EXPECT(pid > 0, "clone");
	KT_EXPECT(kt_wait(pid, "clone child") == 0, "handler after clone got wrong ids");
	return check_ids(ALL_BITS);
}

/*
 * The values really come from the page: with a seccomp filter that makes
 * these system calls fail, kshare still answers.
 */
static int values_come_from_the_page_under_seccomp(void)
{
	static const int nrs[] = {
		SYS_getpid, SYS_getppid, SYS_gettid, SYS_getuid, SYS_geteuid,
		SYS_getgid, SYS_getegid, SYS_getresuid, SYS_getresgid,
		SYS_getpgid, SYS_getsid,
#ifdef SYS_getpgrp
		SYS_getpgrp,
#endif
	};
	pid_t pid = sys0(SYS_getpid), ppid = sys0(SYS_getppid), tid = sys0(SYS_gettid);
	pid_t pgid = syscall(SYS_getpgid, 0), sid = syscall(SYS_getsid, 0);
	uid_t uid = sys0(SYS_getuid), gid = sys0(SYS_getgid), r, e, s;

	KT_EXPECT(check_ids(ALL_BITS) == KT_PASS, "before"); /* tid cached too */
	KT_EXPECT(kt_deny_syscalls(nrs, sizeof(nrs) / sizeof(nrs[0])) == 0,
		  "seccomp: %s", strerror(errno));
	KT_EXPECT(sys0(SYS_getpid) == -1 && errno == EPERM, "the filter lets getpid through");

	KT_EXPECT(kshare_getpid() == pid, "pid %d", kshare_getpid());
	KT_EXPECT(kshare_getppid() == ppid, "ppid %d", kshare_getppid());
	KT_EXPECT(kshare_gettid() == tid, "tid %d", kshare_gettid());
	KT_EXPECT(kshare_getpgrp() == pgid, "pgid %d", kshare_getpgrp());
	KT_EXPECT(kshare_getsid(0) == sid, "sid %d", kshare_getsid(0));
	KT_EXPECT(kshare_getuid() == uid && kshare_geteuid() == uid, "uid %u", kshare_getuid());
	KT_EXPECT(kshare_getgid() == gid && kshare_getegid() == gid, "gid %u", kshare_getgid());
	KT_EXPECT(kshare_getresuid(&r, &e, &s) == 0 && r == uid && s == uid, "resuid");
	KT_EXPECT(kshare_getresgid(&r, &e, &s) == 0 && r == gid && s == gid, "resgid");
	return KT_PASS;
}

/*
 * Stress: two threads read ids in a loop while a third changes the
 * process's gid (monotonically) and the parent exits, reparenting the
 * readers' process to this test's process. Each read is bracketed by
 * system calls: a kshare value must lie between what they returned.
 */
#define STRESS_ITERS 170000 /* x 3 reads x 2 threads > 10^6 reads */
static volatile int stress_stop;
static volatile long stress_wrong, stress_reads;

static void *stress_reader(void *arg)
{
	pid_t pid = sys0(SYS_getpid);
	long wrong = 0, i;

	(void)arg;
	for (i = 0; i < STRESS_ITERS; i++) {
		pid_t p1 = sys0(SYS_getppid);
		gid_t g1 = sys0(SYS_getgid);
		pid_t kp = kshare_getpid(), kpp = kshare_getppid();
		gid_t kg = kshare_getgid();
		pid_t p2 = sys0(SYS_getppid);
		gid_t g2 = sys0(SYS_getgid);

		if (kp != pid || (kpp != p1 && kpp != p2) || kg < g1 || kg > g2) {
			if (wrong++ < 5)
				kt_diag("wrong: pid %d/%d ppid %d in {%d,%d} gid %u in [%u,%u]",
					kp, pid, kpp, p1, p2, kg, g1, g2);
		}
	}
	__atomic_add_fetch(&stress_wrong, wrong, __ATOMIC_RELAXED);
	__atomic_add_fetch(&stress_reads, 3 * STRESS_ITERS, __ATOMIC_RELAXED);
	return NULL;
}

static void *stress_changer(void *arg)
{
	gid_t g;

	(void)arg;
	for (g = 1; !stress_stop; g++)
		if (setresgid(g, g, g) != 0)
			break;
	return NULL;
}

static int stress_reader_process(int ready_fd)
{
	pthread_t r1, r2, c;
	uint32_t valid;

	(void)kshare_getpid();
	KT_EXPECT(pthread_create(&c, NULL, stress_changer, NULL) == 0, "changer");
	KT_EXPECT(pthread_create(&r1, NULL, stress_reader, NULL) == 0, "reader");
	KT_EXPECT(pthread_create(&r2, NULL, stress_reader, NULL) == 0, "reader");
	KT_EXPECT(write(ready_fd, "r", 1) == 1, "ready");
	pthread_join(r1, NULL);
	pthread_join(r2, NULL);
	stress_stop = 1;
	pthread_join(c, NULL);
	valid = page_valid();
	kt_diag("stress: %ld reads, %ld wrong; final gid %u; page valid %#x", stress_reads,
		stress_wrong, kshare_getgid(), valid);
	KT_EXPECT(stress_reads >= 1000000, "only %ld reads", stress_reads);
	KT_EXPECT(stress_wrong == 0, "%ld wrong values", stress_wrong);
	KT_EXPECT(wait_creds_valid(), "credentials not republished after the storm");
	return check_ids(ALL_BITS);
}

static int stress_reparenting_and_setgid(void)
{
	int ready[2], status;
	pid_t b;

	KT_EXPECT(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "subreaper");
	KT_EXPECT(pipe(ready) == 0, "pipe");
	b = fork();
	if (b == 0) {
		char c;
		pid_t r = fork();

		if (r == 0) {
			close(ready[0]);
			_exit(stress_reader_process(ready[1]));
		}
		if (read(ready[0], &c, 1) != 1)
			_exit(1);
		usleep(200000); /* let the readers run with B as their parent */
		_exit(0);
	}
	KT_EXPECT(b > 0, "fork");
	close(ready[0]);
	close(ready[1]);
	KT_EXPECT(kt_wait(b, "B") == 0, "B");
	/* the reader process is ours now */
	KT_EXPECT(waitpid(-1, &status, 0) > 0, "wait: %s", strerror(errno));
	KT_EXPECT(WIFEXITED(status), "reader process killed by signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

/*
 * io_uring's kernel threads (the SQPOLL thread, io-wq workers; vhost's too)
 * are threads of the process made without CLONE_SETTLS, keeping the
 * credentials and namespaces they were made with, and never run user code.
 * After io_uring use the page must keep vouching for the tid cache, for
 * credentials changed since, and for the names of a UTS namespace the
 * process moved to: every fast path stays.
 */
static int uts_valid(void)
{
	return !!(page_valid() & KSHARE_PROC_VALID_UTS);
}

static int fast_paths_survive_io_uring(void)
{
	struct io_uring_params p;
	int ring;

	KT_EXPECT(check_ids(ALL_BITS) == KT_PASS, "before");
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SQPOLL;
	p.sq_thread_idle = 10000;
	ring = (int)syscall(__NR_io_uring_setup, 4, &p);
	KT_EXPECT(ring >= 0, "io_uring_setup(SQPOLL): %s (CONFIG_IO_URING?)", strerror(errno));
	KT_EXPECT(check_ids(ALL_BITS) == KT_PASS, "with an SQPOLL thread");
	/* glibc's setresgid() reaches every user thread, not io_uring's */
	KT_EXPECT(setresgid(1234, 1234, 1234) == 0, "setresgid: %s", strerror(errno));
	KT_EXPECT(check_ids(ALL_BITS) == KT_PASS, "after setresgid");
	KT_EXPECT(uts_valid(), "names invalid before unshare");
	KT_EXPECT(unshare(CLONE_NEWUTS) == 0, "unshare: %s", strerror(errno));
	KT_EXPECT(uts_valid(), "names withdrawn after unshare(CLONE_NEWUTS)");
	close(ring);
	return check_ids(ALL_BITS);
}

static int check_ids_mode(int argc, char **argv)
{
	if (argc > 2 && atoi(argv[2]) != sys0(SYS_getpid))
		return KT_FAIL;
	if (argc > 2 && kshare_gettid() != sys0(SYS_getpid))
		return KT_FAIL; /* exec made the exec'ing thread the leader */
	return check_ids(ALL_BITS);
}

int main(int argc, char **argv)
{
	static const struct ktest tests[] = {
		KTEST(ids_in_fork_child_and_grandchild),
		KTEST(ids_across_vfork),
		KTEST(ids_after_posix_spawn),
		KTEST(ids_with_clone_vm_both_running),
		KTEST(tid_in_raw_clone_thread_sharing_tls),
#if defined(__x86_64__) || defined(__aarch64__)
		KTEST(tid_in_raw_clone_thread_with_settls),
#endif
		KTEST(tid_in_pthreads),
		KTEST(ids_after_exec_from_non_leader_thread),
		KTEST(ppid_after_reparenting_to_init),
		KTEST(ppid_after_reparenting_to_subreaper),
		KTEST(ppid_after_reparenting_twice),
		KTEST(ppid_is_zero_across_pid_namespace),
		KTEST(pgid_and_sid_after_setpgid_and_setsid),
		KTEST(pgid_set_by_parent),
		KTEST(creds_after_glibc_setid_in_threads),
		KTEST(creds_after_raw_setuid_on_one_thread),
		KTEST(ids_in_user_namespace),
		KTEST(ids_in_two_user_namespaces),
		KTEST(stress_maps_racing_exits),
		KTEST(ids_in_signal_handler_after_fork_and_clone),
		KTEST(values_come_from_the_page_under_seccomp),
		KTEST(fast_paths_survive_io_uring),
		KTEST(stress_reparenting_and_setgid),
	};

	if (argc >= 2 && strcmp(argv[1], "--check-ids") == 0)
		return check_ids_mode(argc, argv);
	return kt_main(tests, sizeof(tests) / sizeof(tests[0]), 120);
}
