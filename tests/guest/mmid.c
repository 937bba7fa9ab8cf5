// SPDX-License-Identifier: MIT
/*
 * Guest tests of kshare_mm_id(), the fork-detection id: equal non-zero
 * values mean the same address space. The same in threads, vfork()
 * children and CLONE_VM clones; new in fork() children and after exec.
 * Run on a kernel without kshare, where the id is 0, every test fails.
 *
 *   mmid              the tests
 *   mmid --print      print this process's id (after exec)
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>

#include <kshare/kshare.h>

#include "ktest.h"

/* Out of line: inlined next to vfork(), its locals would be "clobbered". */
static __attribute__((noinline)) uint64_t mm_id(void)
{
	return kshare_mm_id();
}

static int kshare_mm_id_is_nonzero_and_stable(void)
{
	uint64_t id = kshare_mm_id();

	KT_EXPECT(id != 0, "no id");
	KT_EXPECT(kshare_mm_id() == id, "changed between two calls");
	return KT_PASS;
}

static void *thread_id(void *arg)
{
	*(uint64_t *)arg = kshare_mm_id();
	return NULL;
}

static int kshare_mm_id_is_shared_by_threads(void)
{
	uint64_t id = kshare_mm_id(), other = 0;
	pthread_t t;

	KT_EXPECT(id != 0, "no id");
	KT_EXPECT(pthread_create(&t, NULL, thread_id, &other) == 0, "pthread_create");
	pthread_join(t, NULL);
	KT_EXPECT(other == id, "thread %" PRIu64 ", main %" PRIu64, other, id);
	return KT_PASS;
}

static int kshare_mm_id_is_new_in_a_fork_child(void)
{
	uint64_t id = kshare_mm_id();
	int fds[2];
	uint64_t child = 0;
	pid_t pid;

	KT_EXPECT(id != 0, "no id");
	KT_EXPECT(pipe(fds) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		uint64_t mine = kshare_mm_id();
		_exit(write(fds[1], &mine, sizeof(mine)) == sizeof(mine) ? 0 : 1);
	}
	KT_EXPECT(pid > 0, "fork");
	KT_EXPECT(read(fds[0], &child, sizeof(child)) == sizeof(child), "read");
	KT_EXPECT(kt_wait(pid, "child") == KT_PASS, "child");
	KT_EXPECT(child != 0 && child != id, "child %" PRIu64 ", parent %" PRIu64, child, id);
	KT_EXPECT(kshare_mm_id() == id, "the parent's changed");
	return KT_PASS;
}

static int kshare_mm_id_is_shared_with_a_vfork_child(void)
{
	uint64_t id = mm_id();
	volatile uint64_t child = 0;
	pid_t pid;

	KT_EXPECT(id != 0, "no id");
	pid = vfork();
	if (pid == 0) {
		child = mm_id();
		_exit(0);
	}
	KT_EXPECT(pid > 0, "vfork");
	KT_EXPECT(kt_wait(pid, "vfork child") == KT_PASS, "vfork child");
	KT_EXPECT(child == id, "vfork child %" PRIu64 ", parent %" PRIu64, child, id);
	return KT_PASS;
}

static volatile uint64_t clone_seen;

static int clone_fn(void *arg)
{
	(void)arg;
	clone_seen = kshare_mm_id();
	return 0;
}

static int kshare_mm_id_is_shared_with_a_clone_vm_child(void)
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	uint64_t id = kshare_mm_id();
	pid_t pid;

	KT_EXPECT(id != 0, "no id");
	clone_seen = 0;
	pid = clone(clone_fn, stack + sizeof(stack), CLONE_VM | SIGCHLD, NULL);
	KT_EXPECT(pid > 0, "clone: %s", strerror(errno));
	KT_EXPECT(kt_wait(pid, "CLONE_VM child") == KT_PASS, "CLONE_VM child");
	KT_EXPECT(clone_seen == id, "CLONE_VM child %" PRIu64 ", parent %" PRIu64,
		  (uint64_t)clone_seen, id);
	return KT_PASS;
}

/* exec replaces the address space: the new program gets a new id. */
static int kshare_mm_id_is_new_after_exec(void)
{
	uint64_t id = mm_id(), after = 0;
	char buf[64];
	int fds[2];
	ssize_t n;
	pid_t pid;

	KT_EXPECT(id != 0, "no id");
	KT_EXPECT(pipe(fds) == 0, "pipe");
	pid = vfork();
	if (pid == 0) {
		/* The vfork child still runs in this address space until exec. */
		dup2(fds[1], 1);
		execl("/proc/self/exe", "mmid", "--print", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	KT_EXPECT(pid > 0, "vfork");
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	KT_EXPECT(kt_wait(pid, "exec'ed child") == KT_PASS, "exec'ed child");
	KT_EXPECT(n > 0, "no output");
	buf[n] = '\0';
	after = strtoull(buf, NULL, 10);
	KT_EXPECT(after != 0 && after != id, "after exec %" PRIu64 ", before %" PRIu64, after, id);
	return KT_PASS;
}

/*
 * The id is random, not a counter that would show any process the rate of
 * fork() and exec() in the whole system (a container would see the host's).
 * Eight fork() children in a row: with a counter their ids are a few apart;
 * random ones are not (all within 2^40 of each other: probability 2^-160).
 */
static int kshare_mm_id_is_no_counter(void)
{
	uint64_t ids[8], lo = UINT64_MAX, hi = 0;
	int fds[2], i;

	KT_EXPECT(kshare_mm_id() != 0, "no id");
	KT_EXPECT(pipe(fds) == 0, "pipe");
	for (i = 0; i < 8; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			uint64_t mine = kshare_mm_id();
			_exit(write(fds[1], &mine, sizeof(mine)) == sizeof(mine) ? 0 : 1);
		}
		KT_EXPECT(pid > 0, "fork");
		KT_EXPECT(read(fds[0], &ids[i], sizeof(ids[i])) == sizeof(ids[i]), "read");
		KT_EXPECT(kt_wait(pid, "child") == KT_PASS, "child");
		KT_EXPECT(ids[i] != 0, "child %d has no id", i);
		lo = ids[i] < lo ? ids[i] : lo;
		hi = ids[i] > hi ? ids[i] : hi;
	}
	KT_EXPECT(hi - lo >= (1ULL << 40), "8 children's ids within %" PRIu64 " of each other: a counter",
		  hi - lo);
	return KT_PASS;
}

int main(int argc, char **argv)
{
	static const struct ktest tests[] = {
		KTEST(kshare_mm_id_is_nonzero_and_stable),
		KTEST(kshare_mm_id_is_shared_by_threads),
		KTEST(kshare_mm_id_is_new_in_a_fork_child),
		KTEST(kshare_mm_id_is_shared_with_a_vfork_child),
		KTEST(kshare_mm_id_is_shared_with_a_clone_vm_child),
		KTEST(kshare_mm_id_is_new_after_exec),
		KTEST(kshare_mm_id_is_no_counter),
	};

	if (argc > 1 && !strcmp(argv[1], "--print")) {
		printf("%" PRIu64 "\n", kshare_mm_id());
		return 0;
	}
	return kt_main(tests, sizeof(tests) / sizeof(tests[0]), 60);
}
