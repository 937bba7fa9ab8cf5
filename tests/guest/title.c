// SPDX-License-Identifier: MIT
/*
 * Guest tests of the title page: kshare_setproctitle() with no system call,
 * seen by other processes in /proc/PID/cmdline and by ps, never torn, and a
 * kernel that survives any bytes a process writes into its own page. Run on
 * a kernel without kshare, these tests fail.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>

#include <kshare/kshare.h>

#include "ktest.h"
#include "fuse_stall.h"
#include "retitle.h"

/*
 * The title page of this process (ktest.h): registered and mapped at the
 * first call (PR_KSHARE_MAP, PR_KSHARE_MAP_TITLE), where the library maps
 * it at its first title; fork children inherit it at the same address.
 */
static struct kshare_title *title_page(void)
{
	const struct kshare_sys_header *h = kt_header();

	if (!h || !(h->features & KSHARE_FEATURE_TITLE) ||
	    h->title_size < sizeof(struct kshare_title))
		return NULL;
	return kt_title_page();
}

/* Bytes of title a slot holds, its NUL included. */
static size_t capacity(void)
{
	return KSHARE_TITLE_LEN;
}

/* A child that runs @fn(@arg), tells us, and waits to be killed. */
static pid_t child_running(void (*fn)(const char *), const char *arg)
{
	int ready[2];
	pid_t pid;
	char c;

	if (pipe(ready))
		return -1;
	pid = fork();
	if (pid == 0) {
		fn(arg);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	if (read(ready[0], &c, 1) != 1)
		pid = -1;
	close(ready[0]);
	close(ready[1]);
	return pid;
}

static void set_title(const char *title)
{
	if (title)
		kshare_setproctitle("-%s", title);
}

/* A child that sets @title, tells us, and waits to be killed. */
static pid_t child_with_title(const char *title)
{
	return child_running(set_title, title);
}

static void end_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Another process sees exactly @title and its NUL. */
static int seen_as(pid_t pid, const char *title)
{
	static char buf[3 * 4096];
	ssize_t n = kt_read_cmdline(pid, buf, sizeof(buf));

	KT_EXPECT(n == (ssize_t)strlen(title) + 1, "cmdline has %zd bytes, expected %zu", n,
		  strlen(title) + 1);
	KT_EXPECT(memcmp(buf, title, n) == 0, "cmdline '%.60s', expected '%.60s'", buf, title);
	return KT_PASS;
}

static int title_is_visible_to_another_process(void)
{
	pid_t pid;
	int r;

	KT_EXPECT(title_page(), "no title page");
	pid = child_with_title("worker: idle");
	KT_EXPECT(pid > 0, "child");
	r = seen_as(pid, "worker: idle");
	end_child(pid);
	return r;
}

static int prefix_and_null_follow_bsd(void)
{
	char buf[256], self[64];
	ssize_t n;

	KT_EXPECT(title_page(), "no title page");
	kshare_setproctitle("serving %d clients", 3);
	snprintf(self, sizeof(self), "%s: serving 3 clients", program_invocation_short_name);
	KT_EXPECT(seen_as(getpid(), self) == KT_PASS, "prefixed title");
	KT_EXPECT(kshare_getproctitle(buf, sizeof(buf)) == (ssize_t)strlen(self) &&
		  !strcmp(buf, self), "getproctitle %s", buf);
	kshare_setproctitle(NULL); /* back to argv */
	n = kt_read_cmdline(getpid(), buf, sizeof(buf));
	KT_EXPECT(n > 0 && strstr(buf, "title") != NULL, "argv not restored: %.*s", (int)n, buf);
	return KT_PASS;
}

static int title_longer_than_argv(void)
{
	char title[2000];
	pid_t pid;
	int r;

	KT_EXPECT(title_page(), "no title page");
	memset(title, 'L', sizeof(title) - 1);
	title[sizeof(title) - 1] = '\0';
	pid = child_with_title(title);
	KT_EXPECT(pid > 0, "child");
	r = seen_as(pid, title);
	end_child(pid);
	return r;
}

static int empty_full_and_truncated_titles(void)
{
	size_t cap = capacity();
	char *title = malloc(cap + 64);
	pid_t pid;
	int r;

	KT_EXPECT(title_page() && title, "no title page");
	pid = child_with_title("");
	r = seen_as(pid, "");
	end_child(pid);
	KT_EXPECT(r == KT_PASS, "empty title");

	memset(title, 'F', cap - 1);	/* capacity minus one: fits exactly */
	title[cap - 1] = '\0';
	pid = child_with_title(title);
	r = seen_as(pid, title);
	end_child(pid);
	KT_EXPECT(r == KT_PASS, "title of %zu bytes", cap - 1);

	memset(title, 'T', cap + 10);	/* longer: truncated at capacity */
	title[cap + 10] = '\0';
	pid = child_with_title(title);
	title[cap - 1] = '\0';
	r = seen_as(pid, title);
	end_child(pid);
	KT_EXPECT(r == KT_PASS, "truncation at %zu", cap - 1);
	free(title);
	return KT_PASS;
}

static int utf8_title(void)
{
	const char *title = "caf\xc3\xa9 \xe2\x98\x95 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x80";
	pid_t pid = child_with_title(title);
	int r;

	KT_EXPECT(title_page(), "no title page");
	KT_EXPECT(pid > 0, "child");
	r = seen_as(pid, title);
	end_child(pid);
	return r;
}

static int inherited_by_fork_reset_by_exec(void)
{
	pid_t pid;
	int r;

	KT_EXPECT(title_page(), "no title page");
	kshare_setproctitle("-parent title");
	pid = fork();
	if (pid == 0) {
		char buf[64];

		if (kshare_getproctitle(buf, sizeof(buf)) < 0 || strcmp(buf, "parent title"))
			_exit(KT_FAIL);
		pause();
		_exit(0);
	}
	usleep(100000);
	r = seen_as(pid, "parent title");
	end_child(pid);
	KT_EXPECT(r == KT_PASS, "fork child did not inherit the title");

	pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", "title-exec-child", "--pause", (char *)NULL);
		_exit(KT_FAIL);
	}
	usleep(300000);
	{
		char buf[64];
		ssize_t n = kt_read_cmdline(pid, buf, sizeof(buf));

		r = n == 25 && !memcmp(buf, "title-exec-child\0--pause", 25) ? KT_PASS : KT_FAIL;
		if (r != KT_PASS)
			kt_diag("after exec: %zd bytes '%.*s'", n, (int)n, buf);
	}
	end_child(pid);
	return r;
}

/* Several threads set titles at once: each title is seen whole. */
#define WRITERS 4
static volatile int writers_stop;

static void *title_writer(void *arg)
{
	int id = (int)(intptr_t)arg, i;

	for (i = 0; !writers_stop; i++)
		kshare_setproctitle("-writer-%d-iteration-%d%s", id, i, i % 2 ? "-long-tail" : "");
	return NULL;
}

static int well_formed(const char *buf, ssize_t n)
{
	int id, it, len = 0;

	if (n <= 0 || buf[n - 1] != '\0')
		return 0;
	if (sscanf(buf, "writer-%d-iteration-%d%n", &id, &it, &len) != 2)
		return 0;
	if (id < 0 || id >= WRITERS)
		return 0;
	return !strcmp(buf + len, it % 2 ? "-long-tail" : "");
}

static int concurrent_writers(void)
{
	pthread_t t[WRITERS];
	int i, bad = 0, reads;
	pid_t pid = getpid();

	KT_EXPECT(title_page(), "no title page");
	kshare_setproctitle("-writer-0-iteration-0");
	for (i = 0; i < WRITERS; i++)
		KT_EXPECT(pthread_create(&t[i], NULL, title_writer, (void *)(intptr_t)i) == 0,
			  "create");
	for (reads = 0; reads < 5000; reads++) {
		char buf[256];
		ssize_t n = kt_read_cmdline(pid, buf, sizeof(buf));

		if (!well_formed(buf, n) && !(n > 0 && strstr(buf, "title")) && bad++ < 3)
			kt_diag("torn: %zd '%.*s'", n, (int)n, buf);
	}
	writers_stop = 1;
	for (i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	KT_EXPECT(bad == 0, "%d of %d reads torn", bad, reads);
	return KT_PASS;
}

/* A reader in another process races a writer 10^5 times. */
static int reader_races_writer(void)
{
	const char *a = "short", *b = "a much longer title than the short one";
	long reads, torn = 0, seen_a = 0, seen_b = 0, argv_shown = 0;
	pid_t pid;

	KT_EXPECT(title_page(), "no title page");
	pid = fork();
	if (pid == 0) {
		for (unsigned i = 0;; i++)
			kshare_setproctitle("-%s", i % 2 ? b : a);
	}
	KT_EXPECT(pid > 0, "fork");
	usleep(10000);
	for (reads = 0; reads < 100000; reads++) {
		char buf[128];
		ssize_t n = kt_read_cmdline(pid, buf, sizeof(buf));

		if (n == (ssize_t)strlen(a) + 1 && !memcmp(buf, a, n))
			seen_a++;
		else if (n == (ssize_t)strlen(b) + 1 && !memcmp(buf, b, n))
			seen_b++;
		else if (n > 0 && strstr(buf, "title")) /* our argv */
			argv_shown++;
		else if (torn++ < 3)
			kt_diag("torn: %zd '%.*s'", n, (int)n, buf);
	}
	end_child(pid);
	/*
	 * A read that finds the writer mid-write on every one of its bounded
	 * tries shows the arguments instead: allowed, and counted.
	 */
	kt_diag("reader: %ld reads: %ld '%s', %ld long title, %ld argv, %ld torn", reads, seen_a,
		a, seen_b, argv_shown, torn);
	KT_EXPECT(torn == 0, "%ld reads were torn", torn);
	KT_EXPECT(seen_a > 0 && seen_b > 0, "never saw both titles");
	return KT_PASS;
}

/* ps and pidof read /proc/PID/cmdline: they show the title. */
static int busybox_ps_and_pidof_see_the_title(void)
{
	char line[512];
	int found = 0;
	pid_t pid = child_with_title("kshare-title-for-ps");
	FILE *ps;

	KT_EXPECT(title_page(), "no title page");
	KT_EXPECT(pid > 0, "child");
	ps = popen("ps", "r");
	KT_EXPECT(ps, "popen ps");
	while (fgets(line, sizeof(line), ps))
		if (strstr(line, "kshare-title-for-ps"))
			found++;
	pclose(ps);
	KT_EXPECT(found == 1, "ps showed the title %d times", found);
	/*
	 * Debian's static busybox has no pgrep; its pidof matches a process
	 * by the first word of /proc/PID/cmdline: the title.
	 */
	ps = popen("pidof kshare-title-for-ps", "r");
	KT_EXPECT(ps && fgets(line, sizeof(line), ps), "pidof found nothing");
	pclose(ps);
	end_child(pid);
	KT_EXPECT(atoi(line) == pid, "pidof found %d, not %d", atoi(line), pid);
	return KT_PASS;
}

/* glibc's pause() is ppoll() where there is no pause system call (arm64). */
#ifdef SYS_pause
#define KT_SYS_PAUSE SYS_pause
#else
#define KT_SYS_PAUSE SYS_ppoll
#endif

/* The title is written with no system call: under a filter denying every
 * system call but the few the test needs, setproctitle still works. */
static int setproctitle_makes_no_system_call(void)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit_group, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, KT_SYS_PAUSE, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = { .len = sizeof(insns) / sizeof(insns[0]), .filter = insns };
	int ready[2];
	pid_t pid;
	char c;
	int r;

	KT_EXPECT(title_page(), "no title page");
	/* The library has registered and mapped its title page (its first
	 * title asks the kernel): from then on a title is no system call. */
	kshare_setproctitle("-before the filter");
	KT_EXPECT(pipe(ready) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
			_exit(1);
		kshare_setproctitle("-set under seccomp");
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
	}
	KT_EXPECT(read(ready[0], &c, 1) == 1, "the child died setting its title");
	r = seen_as(pid, "set under seccomp");
	end_child(pid);
	return r;
}

/*
 * A hostile writer: garbage straight into both slots of the page from
 * several threads (bogus lengths, lengths past the slot, no NUL, random
 * flags, the counter set at random and spun), while other processes read
 * /proc/PID/cmdline and run ps. Every read is quick and bounded: at most a
 * slot's title and its NUL, NUL-terminated.
 */
static int garbage_stop;
static long *garbage_writes; /* shared with the test: iterations run */

static void *garbage_writer(void *arg)
{
	struct kshare_title *t = title_page();
	unsigned int x = (unsigned int)(intptr_t)arg * 2654435761u + 1;
	size_t cap = capacity(), i;

	while (!__atomic_load_n(&garbage_stop, __ATOMIC_RELAXED)) {
		struct kshare_title_slot *s;

		x = x * 1103515245u + 12345u;
		s = &t->slot[(x >> 16) & 1];
		switch (x % 6) {
		case 0:	/* bogus length, a set flag, the counter anywhere */
			__atomic_store_n(&s->len, x, __ATOMIC_RELAXED);
			__atomic_store_n(&s->flags, KSHARE_TITLE_SET, __ATOMIC_RELAXED);
			__atomic_store_n(&t->seq, x >> 8, __ATOMIC_RELAXED);
			break;
		case 1:	/* no NUL anywhere in either slot, lengths past them */
			for (i = 0; i < 2; i++) {
				memset(t->slot[i].title, 'G', cap);
				__atomic_store_n(&t->slot[i].len, cap + (x & 0xff) + i,
						 __ATOMIC_RELAXED);
			}
			break;
		case 2:	/* the counter spun */
			for (i = 0; i < 1000; i++)
				__atomic_add_fetch(&t->seq, 1, __ATOMIC_RELAXED);
			break;
		case 3:	/* random bytes and flags */
			for (i = 0; i < 64; i++)
				s->title[(x + i * 31) % cap] = (char)(x >> (i % 24));
			__atomic_store_n(&s->flags, x, __ATOMIC_RELAXED);
			break;
		case 4: /* the largest length there is */
			__atomic_store_n(&s->len, 0xffffffffu, __ATOMIC_RELAXED);
			__atomic_store_n(&s->flags, KSHARE_TITLE_SET, __ATOMIC_RELAXED);
			break;
		default:
			__atomic_store_n(&t->seq, x, __ATOMIC_RELAXED);
			break;
		}
		__atomic_add_fetch(garbage_writes, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int garbage_in_the_page(void)
{
	long reads = 0, max_len = 0, unterminated = 0;
	double worst = 0, end;
	int ready[2], i;
	pid_t pid;
	char c;

	KT_EXPECT(title_page(), "no title page");
	KT_EXPECT(pipe(ready) == 0, "pipe");
	garbage_writes = mmap(NULL, sizeof(*garbage_writes), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	KT_EXPECT(garbage_writes != MAP_FAILED, "mmap");
	pid = fork();
	if (pid == 0) {
		pthread_t t[3];

		for (i = 0; i < 3; i++)
			pthread_create(&t[i], NULL, garbage_writer, (void *)(intptr_t)(i + 1));
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	KT_EXPECT(read(ready[0], &c, 1) == 1, "writer");
	end = now() + 5;
	while (now() < end) {
		static char buf[4 * 4096];
		double t0 = now(), took;
		ssize_t n = kt_read_cmdline(pid, buf, sizeof(buf));

		took = now() - t0;
		if (took > worst)
			worst = took;
		if (n > max_len)
			max_len = n;
		if (n > 0 && buf[n - 1] != '\0' && unterminated++ < 3)
			kt_diag("%zd bytes with no NUL at their end", n);
		reads++;
		if (reads % 500 == 0)
			KT_EXPECT(system("ps >/dev/null") == 0, "ps failed");
	}
	end_child(pid);
	kt_diag("garbage: %ld writes of garbage by 3 threads, %ld reads of /proc/PID/cmdline "
		"in 5 s (ps every 500), longest %ld bytes, slowest %.3f ms",
		__atomic_load_n(garbage_writes, __ATOMIC_RELAXED), reads, max_len, worst * 1e3);
	KT_EXPECT(max_len <= (long)capacity(), "output of %ld bytes", max_len);
	KT_EXPECT(unterminated == 0, "%ld reads not NUL-terminated", unterminated);
	KT_EXPECT(worst < 1.0, "a read took %.3f s", worst);
	return KT_PASS;
}

/*
 * Both slots of this process's title page full to the brim with no NUL,
 * lengths past them, set; then the counter even ("even": readers take
 * slot 0) or odd (slot 1).
 */
static void fill_both_slots(const char *parity)
{
	struct kshare_title *t = title_page();
	int i;

	for (i = 0; i < 2; i++) {
		memset(t->slot[i].title, 'G', KSHARE_TITLE_LEN);
		t->slot[i].len = i ? 0xffffffffu : KSHARE_TITLE_LEN + 100;
		t->slot[i].flags = KSHARE_TITLE_SET | 0xf0;
	}
	kt_title_seq(t, strcmp(parity, "even") ? 1001 : 1000);
}

/*
 * Lengths past the slot and no NUL, in the slot the kernel reads (slot 0,
 * the counter even; slot 1, odd, whose end is the page's): the kernel
 * shows the slot's title, cut at KSHARE_TITLE_LEN - 1 bytes, and its NUL.
 */
static int lengths_past_the_slot_are_cut(void)
{
	static const char *const parity[] = { "even", "odd" };
	static char buf[4 * 4096], want[KSHARE_TITLE_LEN];
	int i;

	KT_EXPECT(title_page(), "no title page");
	memset(want, 'G', KSHARE_TITLE_LEN - 1);
	for (i = 0; i < 2; i++) {
		pid_t pid = child_running(fill_both_slots, parity[i]);
		ssize_t n;

		KT_EXPECT(pid > 0, "child");
		n = kt_read_cmdline(pid, buf, sizeof(buf));
		end_child(pid);
		KT_EXPECT(n == KSHARE_TITLE_LEN && !memcmp(buf, want, KSHARE_TITLE_LEN - 1) &&
				  buf[n - 1] == '\0',
			  "slot %d: %zd bytes, ending %#x", i, n, n > 0 ? buf[n - 1] : 0);
	}
	return KT_PASS;
}

/*
 * A title, read whole by the kernel once, then the counter spun and nothing
 * else written: every read shows the title, whether the kernel copies a
 * slot whole (both hold the title) or, the counter having moved during each
 * of its tries, shows the last title it read whole. Never the arguments.
 */
static int spinning_counter_still_shows_the_title(void)
{
	int ready[2], go[2];
	long reads, other = 0;
	char c;
	pid_t pid;

	KT_EXPECT(title_page(), "no title page");
	KT_EXPECT(pipe(ready) == 0 && pipe(go) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		struct kshare_title *t = title_page();

		kshare_setproctitle("-%s", "spun title");
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		for (;;)
			__atomic_add_fetch(&t->seq, 1, __ATOMIC_RELAXED);
	}
	KT_EXPECT(pid > 0, "fork");
	if (read(ready[0], &c, 1) != 1 || seen_as(pid, "spun title") != KT_PASS ||
	    write(go[1], "g", 1) != 1) {
		end_child(pid);
		KT_EXPECT(0, "the child's title before the spinning");
	}
	for (reads = 0; reads < 20000; reads++) {
		char buf[256];
		ssize_t n = kt_read_cmdline(pid, buf, sizeof(buf));

		if ((n != 11 || memcmp(buf, "spun title", 11)) && other++ < 3)
			kt_diag("read %ld: %zd bytes '%.*s'", reads, n, n > 0 ? (int)n : 0, buf);
	}
	end_child(pid);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	KT_EXPECT(other == 0, "%ld of %ld reads did not show the title", other, reads);
	return KT_PASS;
}

/* kshare_setproctitle("kshare-%lu-%lu", n, n) in a loop: ps never sees argv. */
static int title_never_flickers(void)
{
	KT_EXPECT(title_page(), "no title page");
	return kt_title_never_flickers(kshare_setproctitle, 100000);
}

/*
 * kshare_getproctitle() while another thread retitles: always one whole
 * title that was set, never an older one after a newer, and, once the
 * writer stopped, the last one.
 */
static int getproctitle_while_another_thread_retitles(void)
{
	long reads, bad = 0, back = 0, last = -1;
	struct kt_retitler r;
	char buf[256], want[256];

	KT_EXPECT(title_page(), "no title page");
	KT_EXPECT(kt_retitler_start(&r, kshare_setproctitle) == 0, "pthread_create");
	for (reads = 0; reads < 100000; reads++) {
		ssize_t n = kshare_getproctitle(buf, sizeof(buf));
		long v = n >= 0 ? kt_retitled(buf, (size_t)n) : -1;

		if (v < 0 && bad++ < 3)
			kt_diag("read %ld: %zd '%s'", reads, n, buf);
		if (v >= 0 && v < last && back++ < 3)
			kt_diag("read %ld: title %ld after %ld", reads, v, last);
		if (v > last)
			last = v;
	}
	kt_retitler_stop(&r);
	kt_diag("%ld reads while %lu titles were set, the last read %ld", reads, r.last, last);
	KT_EXPECT(bad == 0, "%ld of %ld reads not a whole title that was set", bad, reads);
	KT_EXPECT(back == 0, "%ld reads went back to an older title", back);
	snprintf(want, sizeof(want), "%s: kshare-%lu-%lu", program_invocation_short_name, r.last,
		 r.last);
	KT_EXPECT(kshare_getproctitle(buf, sizeof(buf)) == (ssize_t)strlen(want) &&
			  !strcmp(buf, want),
		  "after the writer: '%s', not '%s'", buf, want);
	return seen_as(getpid(), want);
}

/*
 * Reading a title needs no memory: with every slab allocation of the reader
 * failing (failslab, on this task only), /proc/PID/cmdline still shows the
 * title. A read() that allocated a buffer failed there with ENOMEM.
 */
static int title_read_needs_no_memory(void)
{
	static const char *const setup[][2] = {
		{ "verbose", "0" }, { "task-filter", "Y" }, { "ignore-gfp-wait", "N" },
		{ "interval", "1" }, { "times", "-1" }, { "probability", "100" },
	};
	const char *title = "worker: short of memory";
	char buf[256], path[64];
	int fd, fail, e;
	ssize_t n;
	size_t i;
	pid_t pid;

	KT_EXPECT(title_page(), "no title page");
	if (access("/sys/kernel/debug/failslab", F_OK) != 0)
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	for (i = 0; i < sizeof(setup) / sizeof(setup[0]); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/failslab/%s", setup[i][0]);
		KT_EXPECT(kt_write_file(path, setup[i][1]) == 0, "%s: %s (CONFIG_FAILSLAB?)", path,
			  strerror(errno));
	}
	pid = child_with_title(title);
	KT_EXPECT(pid > 0, "child");
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY);
	fail = open("/proc/self/make-it-fail", O_WRONLY);
	KT_EXPECT(fd >= 0 && fail >= 0, "open: %s", strerror(errno));
	/* From here to the next write, every allocation of this task fails. */
	KT_EXPECT(write(fail, "1", 1) == 1, "make-it-fail: %s", strerror(errno));
	n = read(fd, buf, sizeof(buf));
	e = errno;
	KT_EXPECT(write(fail, "0", 1) == 1, "make-it-fail: %s", strerror(errno));
	kt_write_file("/sys/kernel/debug/failslab/probability", "0");
	close(fd);
	close(fail);
	end_child(pid);
	KT_EXPECT(n == (ssize_t)strlen(title) + 1 && !memcmp(buf, title, n),
		  "with allocations failing, cmdline read %zd bytes (%s): '%.*s'", n,
		  n < 0 ? strerror(e) : "", n > 0 ? (int)n : 0, buf);
	return KT_PASS;
}

/*
 * Turned off by the sysctl, a registration fails (ENODEV), and the same
 * library sets the title the classic way, over argv. This tests the
 * fallback, on a kernel that has kshare to turn off.
 */
static int sysctl_off_falls_back_to_argv(void)
{
	const char *sysctl = "/proc/sys/kernel/kshare_enabled";
	char fd[16], c;
	int ready[2], got;
	pid_t pid;
	int r;

	KT_EXPECT(title_page(), "kshare is not on this kernel: nothing to turn off");
	KT_EXPECT(pipe(ready) == 0, "pipe");
	KT_EXPECT(kt_write_file(sysctl, "0") == 0, "sysctl: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		snprintf(fd, sizeof(fd), "%d", ready[1]);
		execl("/proc/self/exe", "title-fallback-child-with-long-argv", "--fallback", fd,
		      NULL);
		_exit(1);
	}
	close(ready[1]);
	/*
	 * The child has tried to register and set its title (or died). A
	 * bounded wait: the sysctl goes back on whatever the child does, or
	 * every later test would find kshare off.
	 */
	{
		struct pollfd pfd = { .fd = ready[0], .events = POLLIN };

		got = poll(&pfd, 1, 10000) == 1 && read(ready[0], &c, 1) == 1;
	}
	close(ready[0]);
	KT_EXPECT(kt_write_file(sysctl, "1") == 0, "sysctl back on: %s", strerror(errno));
	KT_EXPECT(got, "the fallback child died: its registration did not fail with ENODEV?");
	{
		/* argv overwritten in place: the title, then NULs to argv's end */
		char buf[256];
		ssize_t n = kt_read_cmdline(pid, buf, sizeof(buf));

		r = n > 15 && !memcmp(buf, "fallback title", 15) ? KT_PASS : KT_FAIL;
		if (r != KT_PASS)
			kt_diag("fallback child shows %zd bytes '%.*s'", n, (int)n, buf);
	}
	end_child(pid);
	return r;
}

/*
 * The target of contended_mmap_lock: two threads parked on a pipe each, one
 * to fault @file's page in through /proc/self/mem (which holds the
 * mmap_lock for reading until the FUSE server answers), one to mprotect()
 * a page of its own (a writer queued behind that reader). Says the
 * writer's tid on @ready, then waits to be killed.
 */
struct stall_threads {
	int go_fault, go_mprotect;
	void *stall, *other;
	pid_t writer_tid;
};

static void *stall_fault(void *arg)
{
	struct stall_threads *t = arg;
	int mem = open("/proc/self/mem", O_RDONLY);
	char c;

	if (read(t->go_fault, &c, 1) == 1 && mem >= 0 &&
	    pread(mem, &c, 1, (off_t)(uintptr_t)t->stall) != 1)
		kt_diag("fault through /proc/self/mem: %s", strerror(errno));
	return NULL;
}

static void *stall_mprotect(void *arg)
{
	struct stall_threads *t = arg;
	char c;

	__atomic_store_n(&t->writer_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	if (read(t->go_mprotect, &c, 1) == 1)
		mprotect(t->other, 4096, PROT_READ);
	return NULL;
}

static void stall_target(const char *title, int file, int go_fault, int go_mprotect,
			 int ready)
{
	static struct stall_threads t;
	char path[64];
	pthread_t a, b;
	int fd;

	kshare_setproctitle(title ? "-%s" : NULL, title);
	snprintf(path, sizeof(path), FS_MOUNT "/%d", file);
	fd = open(path, O_RDONLY);
	t.stall = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	t.other = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t.go_fault = go_fault;
	t.go_mprotect = go_mprotect;
	if (fd < 0 || t.stall == MAP_FAILED || t.other == MAP_FAILED ||
	    pthread_create(&a, NULL, stall_fault, &t) || pthread_create(&b, NULL, stall_mprotect, &t))
		_exit(1);
	/* Both threads exist before the lock is taken: creating one maps its stack. */
	while (!__atomic_load_n(&t.writer_tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	if (write(ready, &t.writer_tid, sizeof(t.writer_tid)) != sizeof(t.writer_tid))
		_exit(1);
	for (;;)
		pause();
}

/* The state letter of /proc/PID/task/TID/stat ('D': waiting, uninterruptibly). */
static char task_state(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *paren;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' ? paren[2] : '?';
}

/* Wait, at most @ms, for @tid of @pid to be in state @want. */
static int wait_for_state(pid_t pid, pid_t tid, char want, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		if (task_state(pid, tid) == want)
			return 1;
		usleep(10000);
	}
	return 0;
}

/*
 * One round of contended_mmap_lock: a target titled @title (NULL: its
 * argv), its mmap_lock held for reading by a fault the FUSE server holds
 * and a writer queued behind it; then a reader of its /proc/PID/cmdline.
 * Returns 1 if the read finished while the lock was still contended
 * (@cmdline: what it read), 0 if it waited for the lock (and read
 * @cmdline once the lock was released), -1 if the round could not be set
 * up.
 */
static int cmdline_under_contention(struct fuse_stall *fs, const char *title, int file,
				    char *cmdline, size_t size, ssize_t *len)
{
	int go_fault[2], go_mprotect[2], ready[2], out[2], r = -1;
	pid_t target, reader = -1, writer_tid;
	struct pollfd p;

	*len = -1;
	if (pipe(go_fault) || pipe(go_mprotect) || pipe(ready) || pipe(out))
		return -1;
	target = fork();
	if (target == 0)
		stall_target(title, file, go_fault[0], go_mprotect[0], ready[1]);
	if (target < 0 || read(ready[0], &writer_tid, sizeof(writer_tid)) != sizeof(writer_tid)) {
		kt_diag("target did not start");
		goto out;
	}
	/* The fault: the FUSE server holds its read, the target its mmap_lock. */
	if (write(go_fault[1], "f", 1) != 1 || !fuse_stall_read_held(fs, 20000)) {
		kt_diag("the fault never reached the FUSE server");
		goto out;
	}
	/* The writer: queued behind the fault, it makes every new reader wait. */
	if (write(go_mprotect[1], "m", 1) != 1 || !wait_for_state(target, writer_tid, 'D', 20000)) {
		kt_diag("mprotect() did not wait for the mmap_lock (state %c)",
			task_state(target, writer_tid));
		goto out;
	}
	reader = fork();
	if (reader == 0) {
		static char buf[4096];
		ssize_t n = kt_read_cmdline(target, buf, sizeof(buf));

		if (n > 0 && write(out[1], buf, n) != n)
			_exit(1);
		_exit(0);
	}
	close(out[1]);
	out[1] = -1;
	p = (struct pollfd){ .fd = out[0], .events = POLLIN };
	if (title) {
		/* Seconds for a read that needs no lock: only a wait for it, which
		 * lasts until the release below, takes longer. */
		r = poll(&p, 1, 10000) == 1;
	} else {
		/* The reader must come to wait, and have read nothing. */
		r = wait_for_state(reader, reader, 'D', 20000) && poll(&p, 1, 0) == 0 ? 0 : -1;
		if (r < 0)
			kt_diag("the reader of argv did not wait for the mmap_lock (state %c)",
				task_state(reader, reader));
	}
	/* Still contended when the read finished: the writer still waits. */
	if (r == 1 && task_state(target, writer_tid) != 'D') {
		kt_diag("the writer stopped waiting before the read finished");
		r = -1;
	}
	fuse_stall_release(fs);
	*len = read(out[0], cmdline, size);
out:
	fuse_stall_release(fs);
	if (reader > 0)
		waitpid(reader, NULL, 0);
	if (target > 0) {
		kill(target, SIGKILL);
		waitpid(target, NULL, 0);
	}
	for (int i = 0; i < 2; i++) {
		close(go_fault[i]);
		close(go_mprotect[i]);
		close(ready[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	return r;
}

/*
 * A titled process's /proc/PID/cmdline comes from its title page, not from
 * its memory: a reader does not wait while the process's mmap_lock is
 * contended (held for reading by a fault that a FUSE server holds, with
 * mprotect() queued behind it), where a reader of the argv of a process in
 * the same state waits until the lock is released. No timing decides it:
 * the lock stays contended until the test releases it. (No title page
 * needed to start: without one the title goes over argv, and the first
 * round fails because its read waited.)
 */
static int contended_mmap_lock(void)
{
	const char *title = "worker: the mmap_lock is contended";
	static char own[4096], buf[4096];
	struct fuse_stall fs;
	ssize_t own_len, n;
	int titled, plain;

	own_len = kt_read_cmdline(getpid(), own, sizeof(own));
	KT_EXPECT(own_len > 0, "own cmdline");
	KT_EXPECT(fuse_stall_start(&fs) == 0, "FUSE file system");
	titled = cmdline_under_contention(&fs, title, 0, buf, sizeof(buf), &n);
	if (titled == 1 && (n != (ssize_t)strlen(title) + 1 || memcmp(buf, title, n))) {
		kt_diag("titled process's cmdline under contention: '%.*s'", (int)n, buf);
		titled = -1;
	}
	plain = cmdline_under_contention(&fs, NULL, 1, buf, sizeof(buf), &n);
	if (plain == 0 && (n != own_len || memcmp(buf, own, n))) {
		kt_diag("argv after the release: '%.*s'", (int)(n > 0 ? n : 0), buf);
		plain = -1;
	}
	fuse_stall_stop(&fs);
	KT_EXPECT(titled == 1, "the titled process's cmdline %s",
		  titled ? "could not be read" : "waited for its mmap_lock");
	KT_EXPECT(plain == 0, "the control (argv, which needs the mmap_lock) did not wait");
	kt_diag("mmap_lock held by a fault the FUSE server held, mprotect() queued: the title "
		"read at once; the argv reader waited (D) until the release");
	return KT_PASS;
}

int main(int argc, char **argv)
{
	static const struct ktest tests[] = {
		KTEST(title_is_visible_to_another_process),
		KTEST(prefix_and_null_follow_bsd),
		KTEST(title_longer_than_argv),
		KTEST(empty_full_and_truncated_titles),
		KTEST(utf8_title),
		KTEST(inherited_by_fork_reset_by_exec),
		KTEST(concurrent_writers),
		KTEST(reader_races_writer),
		KTEST(busybox_ps_and_pidof_see_the_title),
		KTEST(setproctitle_makes_no_system_call),
		KTEST(title_never_flickers),
		KTEST(getproctitle_while_another_thread_retitles),
		KTEST(garbage_in_the_page),
		KTEST(lengths_past_the_slot_are_cut),
		KTEST(spinning_counter_still_shows_the_title),
		KTEST(title_read_needs_no_memory),
		KTEST(contended_mmap_lock),
		KTEST(sysctl_off_falls_back_to_argv),
	};

	if (argc == 3 && !strcmp(argv[1], "--set")) {
		/* for other tools' tests (procps in tests/guest-dyn): the page */
		if (!title_page())
			return 1;
		kshare_setproctitle("-%s", argv[2]);
		pause();
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--pause")) {
		pause();
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--fallback")) {
		/* Before the title: the argv fallback writes over argv[2]. */
		int ready = atoi(argv[2]);
		struct kshare_map map;

		kt_map_init(&map);
		if (kt_kshare(PR_KSHARE_MAP, &map) == 0 || errno != ENODEV)
			return 1; /* kshare was meant to be off: ENODEV */
		kshare_setproctitle("-fallback title");
		if (write(ready, "r", 1) != 1)
			return 1;
		pause();
		return 0;
	}
	return kt_main(tests, sizeof(tests) / sizeof(tests[0]), 120);
}
