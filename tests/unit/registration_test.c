// SPDX-License-Identifier: MIT
/*
 * The library's side of the registration, prctl(PR_KSHARE, ...), on the
 * host, against a pretend kernel (fake_kernel.h: a seccomp user-notification
 * thread that answers as the kernel would, or with its errors). So the
 * tests see which calls the library makes and when: the first call
 * registers, EINVAL and ENODEV are final, EBUSY (a vfork() child) is not,
 * the title page is asked for at the first title only, KSHARE=off asks
 * nothing. Every test runs in a fresh fork child (ktest.h), whose library
 * has not looked yet. The kernel's own side is tested in the guest
 * (tests/guest/register.c).
 */
#define _GNU_SOURCE
#include "internal.h"

#include "../guest/ktest.h"

#include "fake_kernel.h"

/* What the pretend kernel is to do is set before it starts (its thread). */
#define START_FAKE() KT_EXPECT(start_fake(SIM_PID) == 0, "the pretend kernel: %s", strerror(errno))
#define EXPECT_CALLS(map, get, title)                                                     \
	KT_EXPECT(fake_calls(PR_KSHARE_MAP) == (map) && fake_calls(PR_KSHARE_GET) == (get) && \
			  fake_calls(PR_KSHARE_MAP_TITLE) == (title) && !fake_calls(0),       \
		  "calls: MAP %d GET %d MAP_TITLE %d, bad %d", fake_calls(PR_KSHARE_MAP),     \
		  fake_calls(PR_KSHARE_GET), fake_calls(PR_KSHARE_MAP_TITLE), fake_calls(0))

/* What another process sees as our title: /proc/self/cmdline up to its NUL. */
static const char *cmdline(void)
{
	static char buf[4096];
	ssize_t n = kt_read_cmdline(getpid(), buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* This machine's kernel has no kshare: EINVAL, and every call is the system call. */
static int host_kernel_has_no_kshare(void)
{
	struct kshare_map map;

	kt_map_init(&map);
	KT_EXPECT(kt_kshare(PR_KSHARE_GET, &map) == -1 && errno == EINVAL,
		  "PR_KSHARE_GET on the host: %s (a kshare kernel? then this test is moot)",
		  strerror(errno));
	errno = 4321;
	KT_EXPECT(kshare_getpid() == getpid(), "getpid");
	KT_EXPECT(errno == 4321, "the first call changed errno to %d", errno);
	KT_EXPECT(!kshare_available(0), "available");
	KT_EXPECT(kshare__header() == NULL, "header");
	return KT_PASS;
}

static int first_call_registers_once(void)
{
	int i;

	START_FAKE();
	EXPECT_CALLS(0, 0, 0);
	errno = 4321;
	KT_EXPECT(kshare_getpid() == SIM_PID, "getpid %d", kshare_getpid());
	KT_EXPECT(errno == 4321, "errno %d", errno);
	for (i = 0; i < 10; i++)
		KT_EXPECT(kshare_getpid() == SIM_PID && kshare_available(KSHARE_FEATURE_PROC_PID),
			  "call %d", i);
	KT_EXPECT(kshare__header() == (void *)fake.area, "another area");
	KT_EXPECT(kshare_mm_id() == 7, "mm id %llu", (unsigned long long)kshare_mm_id());
	EXPECT_CALLS(1, 0, 0);
	return KT_PASS;
}

static int final_errors_are_kept(int error)
{
	int i;

	fake.map_error = error;
	START_FAKE();
	errno = 4321;
	for (i = 0; i < 5; i++)
		KT_EXPECT(kshare_getpid() == getpid(), "call %d", i);
	KT_EXPECT(errno == 4321, "errno %d", errno);
	KT_EXPECT(!kshare_available(0), "available");
	kshare_setproctitle("-%s", "argv title");
	KT_EXPECT(!strcmp(cmdline(), "argv title"), "cmdline '%s'", cmdline());
	EXPECT_CALLS(1, 0, 0);
	return KT_PASS;
}

static int einval_is_final(void)
{
	return final_errors_are_kept(EINVAL);
}

static int enodev_is_final(void)
{
	return final_errors_are_kept(ENODEV);
}

/* EBUSY (a vfork() child) is not remembered: the next call asks again. */
static int ebusy_is_asked_again(void)
{
	fake.busy_calls = 2;
	START_FAKE();
	KT_EXPECT(kshare_getpid() == getpid(), "first");
	KT_EXPECT(kshare_getppid() == getppid(), "second");
	EXPECT_CALLS(2, 0, 0);
	KT_EXPECT(kshare_getpid() == SIM_PID, "third: %d", kshare_getpid());
	KT_EXPECT(kshare_getpid() == SIM_PID, "fourth");
	EXPECT_CALLS(3, 0, 0);
	return KT_PASS;
}

/*
 * The same with a real vfork() child making the first call. (Not under
 * TSan, whose vfork() is a fork(): the child writes its own copy.)
 */
static __attribute__((unused)) int vfork_child_leaves_the_parent_to_register(void)
{
	static volatile pid_t child_saw;
	pid_t pid;

	fake.busy_calls = 1;
	START_FAKE();
	pid = vfork();
	if (pid == 0) {
		child_saw = kshare_getpid();
		_exit(0);
	}
	KT_EXPECT(pid > 0 && kt_wait(pid, "vfork child") == 0, "vfork");
	KT_EXPECT(child_saw == pid, "the child got %d, is %d", child_saw, pid);
	KT_EXPECT(kshare_getpid() == SIM_PID, "the parent: %d", kshare_getpid());
	EXPECT_CALLS(2, 0, 0);
	return KT_PASS;
}

static int unknown_abi_is_not_read(void)
{
	START_FAKE();
	((struct kshare_sys_header *)fake.area)->abi_version = 1;
	KT_EXPECT(kshare_getpid() == getpid(), "getpid %d", kshare_getpid());
	KT_EXPECT(!kshare_available(0), "available");
	KT_EXPECT(kshare_getpid() == getpid(), "again");
	EXPECT_CALLS(1, 0, 0);
	return KT_PASS;
}

static int kshare_off_asks_nothing(void)
{
	START_FAKE();
	setenv("KSHARE", "off", 1);
	KT_EXPECT(kshare_getpid() == getpid(), "getpid");
	kshare_setproctitle("-%s", "off title");
	KT_EXPECT(!strcmp(cmdline(), "off title"), "cmdline '%s'", cmdline());
	KT_EXPECT(!kshare_available(0), "available");
	EXPECT_CALLS(0, 0, 0);
	return KT_PASS;
}

/*
 * The title page: reading the title does not map it (PR_KSHARE_GET finds
 * none); the first title does (PR_KSHARE_MAP_TITLE), once.
 */
static int first_title_maps_the_title_page(void)
{
	struct kshare_title *t = NULL;
	char buf[64], page[64];
	int i;

	START_FAKE();
	t = (struct kshare_title *)fake.title;
	KT_EXPECT(kshare_getpid() == SIM_PID, "getpid");
	kshare_getproctitle(buf, sizeof(buf));
	kshare_setproctitle(NULL);
	EXPECT_CALLS(1, 2, 0);
	kshare_setproctitle("-%s", "on the page");
	KT_EXPECT(kt_title_read(t, page, sizeof(page)) == 11 && !strcmp(page, "on the page"),
		  "page says '%s'", page);
	/* Both slots, and the counter where no write is under way. */
	for (i = 0; i < 2; i++)
		KT_EXPECT(t->slot[i].flags == KSHARE_TITLE_SET && t->slot[i].len == 11 &&
				  !strcmp(t->slot[i].title, "on the page"),
			  "slot %d says '%.20s' (%u bytes, flags %#x)", i, t->slot[i].title,
			  t->slot[i].len, t->slot[i].flags);
	KT_EXPECT(t->seq == 4, "counter %u after one write", t->seq);
	kshare_setproctitle("-%s", "again");
	KT_EXPECT(kshare_getproctitle(buf, sizeof(buf)) == 5 && !strcmp(buf, "again"),
		  "getproctitle '%s'", buf);
	KT_EXPECT(strcmp(cmdline(), "again"), "argv was written");
	EXPECT_CALLS(1, 2, 1);
	return KT_PASS;
}

/* Another copy of the library mapped the title page: a reader finds it. */
static int reader_finds_the_title_page_mapped_by_another_copy(void)
{
	struct kshare_title *t;
	char buf[64], page[64];

	fake.registered = fake.title_mapped = 1;
	START_FAKE();
	t = (struct kshare_title *)fake.title;
	kt_title_write(t, "another copy's title");
	KT_EXPECT(kshare_getproctitle(buf, sizeof(buf)) == 20 &&
		  !strcmp(buf, "another copy's title"), "getproctitle '%s'", buf);
	kshare_setproctitle("-%s", "mine");
	KT_EXPECT(kt_title_read(t, page, sizeof(page)) == 4 && !strcmp(page, "mine"),
		  "page says '%s'", page);
	EXPECT_CALLS(1, 1, 0);
	return KT_PASS;
}

static int title_page_refused_means_argv(void)
{
	char buf[64];

	fake.title_error = ENOMEM;
	START_FAKE();
	kshare_setproctitle("-%s", "argv one");
	KT_EXPECT(!strcmp(cmdline(), "argv one"), "cmdline '%s'", cmdline());
	kshare_setproctitle("-%s", "argv two");
	KT_EXPECT(!strcmp(cmdline(), "argv two"), "cmdline '%s'", cmdline());
	KT_EXPECT(kshare_getproctitle(buf, sizeof(buf)) == 8 && !strcmp(buf, "argv two"),
		  "getproctitle '%s'", buf);
	KT_EXPECT(kshare_getpid() == SIM_PID, "the area is still read");
	EXPECT_CALLS(1, 0, 1);
	return KT_PASS;
}

/*
 * kshare_munmap() of the area before this copy's first call: it asks where
 * the area is without registering (another copy may be reading it), and
 * detaches.
 */
static int guard_before_the_first_call_does_not_register(void)
{
	fake.registered = 1; /* by another copy */
	START_FAKE();
	KT_EXPECT(kshare_munmap(fake.area, 2 * PAGE) == 0, "munmap: %s", strerror(errno));
	EXPECT_CALLS(0, 1, 0);
	KT_EXPECT(kshare_getpid() == getpid(), "getpid %d", kshare_getpid());
	KT_EXPECT(!kshare_available(0), "available after the detach");
	EXPECT_CALLS(0, 1, 0);
	return KT_PASS;
}

/* The guards of a copy that looked ask the kernel nothing. */
static int guards_after_the_first_call_ask_nothing(void)
{
	void *p;

	START_FAKE();
	KT_EXPECT(kshare_getpid() == SIM_PID, "getpid");
	p = kshare_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	KT_EXPECT(p != MAP_FAILED && kshare_mprotect(p, PAGE, PROT_NONE) == 0 &&
		  kshare_munmap(p, PAGE) == 0, "%s", strerror(errno));
	KT_EXPECT(kshare_getpid() == SIM_PID, "detached for nothing");
	EXPECT_CALLS(1, 0, 0);
	return KT_PASS;
}

int main(void)
{
	static const struct ktest tests[] = {
		KTEST(host_kernel_has_no_kshare),
		KTEST(first_call_registers_once),
		KTEST(einval_is_final),
		KTEST(enodev_is_final),
		KTEST(ebusy_is_asked_again),
#ifndef __SANITIZE_THREAD__
		KTEST(vfork_child_leaves_the_parent_to_register),
#endif
		KTEST(unknown_abi_is_not_read),
		KTEST(kshare_off_asks_nothing),
		KTEST(first_title_maps_the_title_page),
		KTEST(reader_finds_the_title_page_mapped_by_another_copy),
		KTEST(title_page_refused_means_argv),
		KTEST(guard_before_the_first_call_does_not_register),
		KTEST(guards_after_the_first_call_ask_nothing),
	};

	return kt_main(tests, sizeof(tests) / sizeof(tests[0]), 30);
}
