// SPDX-License-Identifier: MIT
/*
 * preload-check: an ordinary dynamically linked program that calls libc's
 * getpid() and friends, never kshare directly. Run with LD_PRELOAD of
 * libkshare-preload.so ("shim" mode) or without ("libc" mode), it checks
 * that every answer equals the system call's in the places the shim must
 * be safe (preinit, fork, vfork, threads, signal handlers), and that the
 * shim really takes effect: under a seccomp filter that makes these system
 * calls fail, the shim still answers from the kshare page, while libc alone
 * gets EPERM; and that libbsd's setproctitle(), by that name, sets a title
 * through the title page that ps never sees flicker.
 *
 *   preload-check shim|libc [--fallback-only]
 *
 * Tests named kshare_* need a kernel with kshare and fail without it; the
 * others must pass on any kernel (--fallback-only runs just those, for the
 * host, whose kernel has no kshare).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <kshare/kshare.h>

#include "../guest/deny.h"
#include "../guest/ktest.h"
#include "../guest/retitle.h"


static int shim_mode;

static long sys0(long nr)
{
	return syscall(nr);
}

/* Every libc call against its system call; safe in any thread, signal
 * handler or vfork child (stack and syscall() only). Returns 0 or the
 * number of the first call that differs. */
static int compare_all(void)
{
	uid_t a[3], b[3];

	if (getpid() != sys0(SYS_getpid))
		return 1;
	if (getppid() != sys0(SYS_getppid))
		return 2;
	if (gettid() != sys0(SYS_gettid) || gettid() != sys0(SYS_gettid))
		return 3;
	if (getpgrp() != syscall(SYS_getpgid, 0))
		return 4;
	if (getsid(0) != syscall(SYS_getsid, 0) || getsid(getpid()) != syscall(SYS_getsid, 0))
		return 5;
	if (getuid() != (uid_t)sys0(SYS_getuid) || geteuid() != (uid_t)sys0(SYS_geteuid))
		return 6;
	if (getgid() != (gid_t)sys0(SYS_getgid) || getegid() != (gid_t)sys0(SYS_getegid))
		return 7;
	if (getresuid(&a[0], &a[1], &a[2]) || syscall(SYS_getresuid, &b[0], &b[1], &b[2]) ||
	    a[0] != b[0] || a[1] != b[1] || a[2] != b[2])
		return 8;
	if (getresgid(&a[0], &a[1], &a[2]) || syscall(SYS_getresgid, &b[0], &b[1], &b[2]) ||
	    a[0] != b[0] || a[1] != b[1] || a[2] != b[2])
		return 9;
	/* errno behaviour: a pid that does not exist, as libc says */
	errno = 0;
	if (getsid(0x3fffffff) != -1 || errno != ESRCH)
		return 10;
	return 0;
}

/* Does the name getpid resolve to the shim, as the mode says it must? */
static int shim_is_loaded_as_expected(void)
{
	Dl_info info;
	void *sym = dlsym(RTLD_DEFAULT, "getpid");

	KT_EXPECT(sym && dladdr(sym, &info) && info.dli_fname, "dladdr(getpid)");
	kt_diag("getpid comes from %s", info.dli_fname);
	KT_EXPECT(!!strstr(info.dli_fname, "libkshare-preload") == shim_mode,
		  "getpid from %s in %s mode", info.dli_fname, shim_mode ? "shim" : "libc");
	return KT_PASS;
}

static int ids_match_syscalls(void)
{
	int r = compare_all();

	KT_EXPECT(r == 0, "call %d differs from its system call", r);
	return KT_PASS;
}

/* Before any constructor, libc's included, has run: .preinit_array. */
static pid_t pre_pid, pre_tid, pre_ppid;
static uid_t pre_uid;
static void before_constructors(void)
{
	pre_pid = getpid();
	pre_tid = gettid();
	pre_ppid = getppid();
	pre_uid = getuid();
}
__attribute__((section(".preinit_array"), used))
static void (*const preinit)(void) = before_constructors;

static int before_any_constructor(void)
{
	KT_EXPECT(pre_pid > 0, "preinit did not run");
	/* this test runs in a fork child of the process that ran preinit */
	KT_EXPECT(pre_pid == sys0(SYS_getppid), "pid %d, parent %ld", pre_pid, sys0(SYS_getppid));
	KT_EXPECT(pre_tid == pre_pid, "tid %d", pre_tid);
	KT_EXPECT(pre_uid == (uid_t)sys0(SYS_getuid), "uid %u", pre_uid);
	KT_EXPECT(pre_ppid > 0, "ppid %d", pre_ppid);
	return KT_PASS;
}

static int fork_child_and_grandchild(void)
{
	pid_t parent = getpid(), pid;
	int status;

	pid = fork();
	if (pid == 0) {
		if (getppid() != parent || compare_all())
			_exit(1);
		pid = fork();
		if (pid == 0)
			_exit(compare_all() ? 1 : 0);
		_exit(waitpid(pid, &status, 0) == pid && status == 0 ? 0 : 1);
	}
	KT_EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		  WEXITSTATUS(status) == 0, "child status %#x", status);
	KT_EXPECT(getpid() == parent && compare_all() == 0, "parent after fork");
	return KT_PASS;
}

/* vfork: the child shares the parent's memory, TLS included. */
static int vfork_child(void)
{
	pid_t parent = getpid();
	volatile pid_t child_pid = 0, child_tid = 0, child_ppid = 0;
	volatile int child_cmp = -1;
	pid_t pid;
	int status;

	(void)gettid(); /* fill the tid cache the child will share */
	pid = vfork();
	if (pid == 0) {
		child_pid = getpid();
		child_tid = gettid();
		child_ppid = getppid();
		child_cmp = compare_all();
		_exit(0);
	}
	KT_EXPECT(pid > 0 && waitpid(pid, &status, 0) == pid, "vfork");
	KT_EXPECT(child_pid == pid && child_tid == pid, "child got pid %d tid %d, is %d",
		  child_pid, child_tid, pid);
	KT_EXPECT(child_ppid == parent, "child's ppid %d", child_ppid);
	KT_EXPECT(child_cmp == 0, "in the child, call %d differs", child_cmp);
	KT_EXPECT(getpid() == parent && gettid() == parent, "parent after vfork: %d", getpid());
	KT_EXPECT(compare_all() == 0, "parent after vfork");
	return KT_PASS;
}

#define NTHREADS 8
static void *thread_main(void *arg)
{
	pid_t *out = arg;

	out[0] = gettid();
	out[1] = compare_all() == 0 && out[0] == sys0(SYS_gettid) && getpid() == sys0(SYS_getpid);
	return NULL;
}

static int threads_get_their_own_tid(void)
{
	pthread_t th[NTHREADS];
	pid_t res[NTHREADS][2];
	int i, j;

	for (i = 0; i < NTHREADS; i++)
		KT_EXPECT(pthread_create(&th[i], NULL, thread_main, res[i]) == 0, "pthread_create");
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < NTHREADS; i++) {
		KT_EXPECT(res[i][1], "thread %d: an answer differs from its system call", i);
		KT_EXPECT(res[i][0] != getpid(), "thread %d has the main thread's tid", i);
		for (j = 0; j < i; j++)
			KT_EXPECT(res[i][0] != res[j][0], "threads %d and %d share tid %d", i, j,
				  res[i][0]);
	}
	KT_EXPECT(gettid() == getpid() && compare_all() == 0, "main thread after threads");
	return KT_PASS;
}

static volatile int handler_result = -1;
static void handler(int sig)
{
	(void)sig;
	handler_result = compare_all();
}

/* A handler that runs on a fork child's first instructions, and in a thread. */
static int signal_handlers(void)
{
	struct sigaction sa = { .sa_handler = handler };
	pid_t pid;
	int status;

	sigaction(SIGUSR1, &sa, NULL);
	(void)gettid();
	pid = fork();
	if (pid == 0) {
		raise(SIGUSR1);
		_exit(handler_result == 0 ? 0 : 10 + handler_result);
	}
	KT_EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		  WEXITSTATUS(status) == 0, "handler in fork child: status %#x", status);
	handler_result = -1;
	KT_EXPECT(raise(SIGUSR1) == 0 && handler_result == 0, "handler: %d", handler_result);
	return KT_PASS;
}

/*
 * The area the shim registered as it loaded: found without registering
 * (PR_KSHARE_GET), so that a shim that did not register shows.
 */
static const struct kshare_proc_page *page(void)
{
	const struct kshare_sys_header *h;
	struct kshare_map map;

	kt_map_init(&map);
	if (kt_kshare(PR_KSHARE_GET, &map))
		return NULL;
	h = (const void *)(uintptr_t)map.area;
	if (!h || h->magic != KSHARE_MAGIC)
		return NULL;
	return (const void *)((const char *)h + h->proc_offset);
}

/* The kshare page itself says what getpid() said. */
static int kshare_page_agrees(void)
{
	const struct kshare_proc_page *pp = page();
	pid_t pid = getpid();

	KT_EXPECT(pp, "no kshare area registered by the shim: %s", strerror(errno));
	KT_EXPECT(__atomic_load_n(&pp->valid, __ATOMIC_ACQUIRE) & KSHARE_PROC_VALID_PID,
		  "pid not valid on the page");
	KT_EXPECT(pp->pid == pid && pid == sys0(SYS_getpid), "page %d, getpid %d", pp->pid, pid);
	KT_EXPECT(pp->ppid == getppid() && pp->uid == getuid(), "ppid/uid");
	return KT_PASS;
}

static int deny_id_syscalls(void)
{
	static const int nrs[] = {
		SYS_getpid, SYS_getppid, SYS_gettid, SYS_getuid, SYS_geteuid,
		SYS_getgid, SYS_getegid, SYS_getresuid, SYS_getresgid,
		SYS_getpgid, SYS_getsid,
#ifdef SYS_getpgrp
		SYS_getpgrp,
#endif
	};

	if (kt_deny_syscalls(nrs, sizeof(nrs) / sizeof(nrs[0])))
		return -1;
	return sys0(SYS_getpid) == -1 && errno == EPERM ? 0 : -1;
}

/*
 * Under a filter that makes the id system calls fail: the shim answers from
 * the page (shim mode); libc alone gets -1/EPERM (libc mode, the control
 * that shows the filter bites, so the shim mode's pass means something).
 */
static int under_seccomp(void)
{
	pid_t pid = sys0(SYS_getpid), ppid = sys0(SYS_getppid), tid = sys0(SYS_gettid);
	pid_t pgid = syscall(SYS_getpgid, 0), sid = syscall(SYS_getsid, 0);
	uid_t uid = sys0(SYS_getuid), gid = sys0(SYS_getgid), r, e, s;

	(void)gettid(); /* the tid comes from the thread's cache */
	KT_EXPECT(deny_id_syscalls() == 0, "seccomp filter not in place: %s", strerror(errno));
	if (!shim_mode) {
		/* glibc's getpid() never sets errno: the raw -EPERM is -1 */
		KT_EXPECT(getpid() == -1, "libc getpid gave %d", getpid());
		KT_EXPECT(getuid() == (uid_t)-1, "libc getuid gave %u", getuid());
		return KT_PASS;
	}
	KT_EXPECT(getpid() == pid, "pid %d, expected %d", getpid(), pid);
	KT_EXPECT(getppid() == ppid, "ppid %d", getppid());
	KT_EXPECT(gettid() == tid, "tid %d", gettid());
	KT_EXPECT(getpgrp() == pgid, "pgid %d", getpgrp());
	KT_EXPECT(getsid(0) == sid, "sid %d", getsid(0));
	KT_EXPECT(getuid() == uid && geteuid() == uid, "uid %u", getuid());
	KT_EXPECT(getgid() == gid && getegid() == gid, "gid %u", getgid());
	KT_EXPECT(getresuid(&r, &e, &s) == 0 && r == uid && e == uid && s == uid, "resuid");
	KT_EXPECT(getresgid(&r, &e, &s) == 0 && r == gid && e == gid && s == gid, "resgid");
	return KT_PASS;
}

/*
 * The escape hatch: KSHARE=off in the environment sends every call to the
 * kernel, where a seccomp filter (or a tracer, or fakeroot) sees it. Each
 * case runs in a fresh exec, since the library reads KSHARE at its first
 * call (the shim's: as it loads): "--escape-probe" exits 0 if getpid() went
 * to the kernel (the filter answered -1) and the shim registered nothing,
 * 3 if the page answered, 4 or 5 if the registration (PR_KSHARE_GET) says
 * otherwise than the answer.
 */
static char *self_path;

static int escape_probe(void)
{
	struct kshare_map map;
	int registered;

	kt_map_init(&map);
	registered = kt_kshare(PR_KSHARE_GET, &map) == 0;
	if (deny_id_syscalls())
		return 2;
	if (getpid() == -1)
		return registered ? 4 : 0;
	return registered ? 3 : 5;
}

/* Whether the process was registered when main() began (the shim's constructor). */
static int registered_at_main;

static int kshare_shim_registers_at_load(void)
{
	KT_EXPECT(registered_at_main, "not registered when main() began");
	return KT_PASS;
}

/* Without the shim nothing in this program registers. */
static int nothing_registered_without_the_shim(void)
{
	struct kshare_map map;

	kt_map_init(&map);
	KT_EXPECT(!registered_at_main && kt_kshare(PR_KSHARE_GET, &map) == -1,
		  "registered: area %#llx", (unsigned long long)map.area);
	return KT_PASS;
}

static int run_escape_probe(int off)
{
	extern char **environ;
	char *argv[] = { self_path, "shim", "--escape-probe", NULL };
	int status;
	pid_t pid;

	if (off)
		setenv("KSHARE", "off", 1);
	else
		unsetenv("KSHARE");
	pid = fork();
	if (pid == 0) {
		execve(self_path, argv, environ);
		_exit(127);
	}
	unsetenv("KSHARE");
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int kshare_escape_hatch(void)
{
	int st = run_escape_probe(0);

	KT_EXPECT(st == 3, "without KSHARE=off the page should answer: status %d", st);
	st = run_escape_probe(1);
	KT_EXPECT(st == 0, "with KSHARE=off getpid() should reach the filter, and the shim "
		  "register nothing: status %d", st);
	return KT_PASS;
}

/*
 * libbsd's setproctitle(), which the shim defines and libc does not: a
 * program calling it by that name gets the title page. While a thread
 * retitles through it as fast as it can, ps never sees the arguments nor a
 * torn title (tests/guest/retitle.h).
 */
static int kshare_setproctitle_never_flickers(void)
{
	kt_setproctitle_fn set = (kt_setproctitle_fn)dlsym(RTLD_DEFAULT, "setproctitle");
	struct kshare_map map;

	KT_EXPECT(set, "no setproctitle() in the process: %s", dlerror());
	set("-%s", "first");
	kt_map_init(&map);
	KT_EXPECT(kt_kshare(PR_KSHARE_GET, &map) == 0 && map.title,
		  "setproctitle() mapped no title page: %s", strerror(errno));
	return kt_title_never_flickers(set, 100000);
}

int main(int argc, char **argv)
{
	struct ktest tests[16];
	struct kshare_map map;
	size_t n = 0;
	int fallback_only = argc > 2 && !strcmp(argv[2], "--fallback-only");

	kt_map_init(&map);
	registered_at_main = kt_kshare(PR_KSHARE_GET, &map) == 0;

	if (argc < 2 || (strcmp(argv[1], "shim") && strcmp(argv[1], "libc"))) {
		fprintf(stderr, "usage: preload-check shim|libc [--fallback-only]\n");
		return 2;
	}
	shim_mode = !strcmp(argv[1], "shim");
	self_path = argv[0];
	if (argc > 2 && !strcmp(argv[2], "--escape-probe"))
		return escape_probe();
	tests[n++] = (struct ktest)KTEST(shim_is_loaded_as_expected);
	tests[n++] = (struct ktest)KTEST(ids_match_syscalls);
	tests[n++] = (struct ktest)KTEST(before_any_constructor);
	tests[n++] = (struct ktest)KTEST(fork_child_and_grandchild);
	tests[n++] = (struct ktest)KTEST(vfork_child);
	tests[n++] = (struct ktest)KTEST(threads_get_their_own_tid);
	tests[n++] = (struct ktest)KTEST(signal_handlers);
	if (shim_mode && !fallback_only) {
		tests[n++] = (struct ktest)KTEST(kshare_shim_registers_at_load);
		tests[n++] = (struct ktest){ "kshare_page_agrees", kshare_page_agrees };
		tests[n++] = (struct ktest){ "kshare_values_under_seccomp", under_seccomp };
		tests[n++] = (struct ktest)KTEST(kshare_escape_hatch);
		tests[n++] = (struct ktest)KTEST(kshare_setproctitle_never_flickers);
	} else if (!shim_mode) {
		tests[n++] = (struct ktest){ "libc_fails_under_seccomp", under_seccomp };
		tests[n++] = (struct ktest)KTEST(nothing_registered_without_the_shim);
	}
	return kt_main(tests, n, 60);
}
