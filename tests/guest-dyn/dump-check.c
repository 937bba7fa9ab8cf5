// SPDX-License-Identifier: MIT
/*
 * dump-check: kshare-dump's output against what the kernel says, for
 * kshare-dump's own process and for another one. The expected values come
 * from this program's system calls and from the child's own reading of its
 * page, never from kshare-dump, and every id is distinct, so a field
 * decoded from the wrong offset shows.
 *
 *   dump-check PATH-TO-KSHARE-DUMP
 *
 * Tests named kshare_* need a kernel with kshare.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#include <kshare/kshare.h>

#include "../guest/ktest.h"

static const char *dump_path;

#define NKEYS 48
struct dump {
	char key[NKEYS][24];
	unsigned long long val[NKEYS];
	int n, status;
	char text[8192];	/* the whole output */
	char lines[8192];	/* the same, cut into lines while parsing */
};

/* Run kshare-dump [@pid] in a child, after @setup(@arg) ran in the child. */
static int run_dump(struct dump *d, pid_t pid, pid_t *child, void (*setup)(void *), void *arg)
{
	int fds[2];
	char pidarg[16];
	size_t len = 0;
	ssize_t r;
	pid_t c;
	char *line, *save;

	memset(d, 0, sizeof(*d));
	if (pipe(fds))
		return -1;
	snprintf(pidarg, sizeof(pidarg), "%d", (int)pid);
	c = fork();
	if (c == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		if (setup)
			setup(arg);
		if (pid)
			execl(dump_path, dump_path, pidarg, (char *)NULL);
		else
			execl(dump_path, dump_path, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (len < sizeof(d->text) - 1 &&
	       (r = read(fds[0], d->text + len, sizeof(d->text) - 1 - len)) > 0)
		len += r;
	close(fds[0]);
	if (waitpid(c, &d->status, 0) != c)
		return -1;
	if (child)
		*child = c;
	/* "  name value ...": a field; anything else is prose. */
	memcpy(d->lines, d->text, sizeof(d->lines));
	for (line = strtok_r(d->lines, "\n", &save); line && d->n < NKEYS;
	     line = strtok_r(NULL, "\n", &save)) {
		char key[24], *end;
		unsigned long long v;
		char valstr[32];

		printf("# | %s\n", line);
		if (strncmp(line, "  ", 2) || sscanf(line, "%23s %31s", key, valstr) != 2)
			continue;
		/* Unsigned, as kshare-dump prints them: a random mm_serial has
		 * its top bit set half the time. */
		v = strtoull(valstr, &end, 0);
		if (*end)
			continue;
		strcpy(d->key[d->n], key);
		d->val[d->n++] = v;
	}
	return 0;
}

static int get(const struct dump *d, const char *key, unsigned long long *v)
{
	int i;

	for (i = 0; i < d->n; i++) {
		if (!strcmp(d->key[i], key)) {
			*v = d->val[i];
			return 1;
		}
	}
	kt_diag("no field %s in kshare-dump's output", key);
	return 0;
}

#define EXPECT_FIELD(d, key, want)                                                  \
	do {                                                                        \
		unsigned long long v_;                                              \
		KT_EXPECT(get(d, key, &v_), "missing");                             \
		KT_EXPECT(v_ == (unsigned long long)(want),                         \
			  "%s: dump says %llu, expected %llu", key, v_,             \
			  (unsigned long long)(want));                              \
	} while (0)

/* The header is the same for every process: compare with our own. */
static int check_header(const struct dump *d)
{
	const struct kshare_sys_header *h = kt_header();

	KT_EXPECT(h, "no kshare area in this process either");
	EXPECT_FIELD(d, "magic", KSHARE_MAGIC);
	EXPECT_FIELD(d, "abi_version", h->abi_version);
	EXPECT_FIELD(d, "header_size", h->header_size);
	EXPECT_FIELD(d, "map_size", h->map_size);
	EXPECT_FIELD(d, "features", h->features);
	EXPECT_FIELD(d, "proc_offset", h->proc_offset);
	EXPECT_FIELD(d, "proc_size", h->proc_size);
	return KT_PASS;
}

static const unsigned int ids_u[3] = { 1100, 1101, 1102 }, ids_g[3] = { 3300, 3301, 3302 };

static void become_ids(void *arg)
{
	(void)arg;
	if (setgroups(1, &ids_g[0]) || setresgid(ids_g[0], ids_g[1], ids_g[2]) ||
	    setresuid(ids_u[0], ids_u[1], ids_u[2]))
		_exit(126);
}

/* kshare-dump on itself, as root. */
static int kshare_dump_self(void)
{
	struct dump d;
	pid_t child;

	KT_EXPECT(run_dump(&d, 0, &child, NULL, NULL) == 0, "run");
	KT_EXPECT(WIFEXITED(d.status) && WEXITSTATUS(d.status) == 0, "status %#x", d.status);
	KT_EXPECT(check_header(&d) == KT_PASS, "header");
	EXPECT_FIELD(&d, "valid", KSHARE_PROC_VALID_PID | KSHARE_PROC_VALID_PPID |
				 KSHARE_PROC_VALID_PGID | KSHARE_PROC_VALID_SID |
				 KSHARE_PROC_VALID_CREDS | KSHARE_PROC_VALID_TID_CACHE |
				 KSHARE_PROC_VALID_UTS);
	EXPECT_FIELD(&d, "pid", child);
	EXPECT_FIELD(&d, "ppid", getpid());
	EXPECT_FIELD(&d, "pgid", getpgrp());
	EXPECT_FIELD(&d, "sid", getsid(0));
	EXPECT_FIELD(&d, "uid", getuid());
	EXPECT_FIELD(&d, "fsgid", getgid());
	if (kt_header()->features & KSHARE_FEATURE_UTS) {
		struct utsname u;
		char want[128];

		KT_EXPECT(uname(&u) == 0, "uname");
		snprintf(want, sizeof(want), "nodename      \"%s\"", u.nodename);
		KT_EXPECT(strstr(d.text, want), "no '%s'", want);
		snprintf(want, sizeof(want), "release       \"%s\"", u.release);
		KT_EXPECT(strstr(d.text, want), "no '%s'", want);
		EXPECT_FIELD(&d, "nr_cpus", get_nprocs());
	} else {
		kt_diag("this kernel has no UTS record: its decoding is tested on images only");
	}
	return KT_PASS;
}

/*
 * kshare-dump on itself with every id distinct: exec makes the saved ids
 * the effective ones, and the fs ids follow the effective ones.
 */
static int kshare_dump_self_distinct_ids(void)
{
	struct dump d;
	unsigned long long serial;
	const struct kshare_proc_page *own;

	KT_EXPECT(run_dump(&d, 0, NULL, become_ids, NULL) == 0, "run");
	KT_EXPECT(WIFEXITED(d.status) && WEXITSTATUS(d.status) == 0, "status %#x", d.status);
	EXPECT_FIELD(&d, "uid", ids_u[0]);
	EXPECT_FIELD(&d, "euid", ids_u[1]);
	EXPECT_FIELD(&d, "suid", ids_u[1]);
	EXPECT_FIELD(&d, "fsuid", ids_u[1]);
	EXPECT_FIELD(&d, "gid", ids_g[0]);
	EXPECT_FIELD(&d, "egid", ids_g[1]);
	EXPECT_FIELD(&d, "sgid", ids_g[1]);
	EXPECT_FIELD(&d, "fsgid", ids_g[1]);
	/* another address space: not ours */
	own = kt_proc_page();
	KT_EXPECT(own, "no kshare area in this process");
	KT_EXPECT(get(&d, "mm_serial", &serial) && serial != 0 &&
		  serial != own->mm_serial, "mm_serial %llu, ours %llu", serial,
		  (unsigned long long)own->mm_serial);
	return KT_PASS;
}

/*
 * kshare-dump PID on a child that has its own process group, distinct
 * real, effective and saved ids (set without exec, so all differ), and that
 * reports its own mm_serial from its page.
 */
static int kshare_dump_other_process(void)
{
	int fds[2];
	pid_t target;
	uint64_t serial = 0;
	struct dump d;

	KT_EXPECT(pipe(fds) == 0, "pipe");
	target = fork();
	if (target == 0) {
		const struct kshare_proc_page *pp;

		setpgid(0, 0);
		become_ids(NULL);
		pp = kt_proc_page(); /* registers: kshare-dump finds its [kshare] */
		serial = pp ? pp->mm_serial : 0;
		if (write(fds[1], &serial, sizeof(serial)) != sizeof(serial))
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	KT_EXPECT(read(fds[0], &serial, sizeof(serial)) == sizeof(serial), "child's report");
	KT_EXPECT(run_dump(&d, target, NULL, NULL, NULL) == 0, "run");
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);
	KT_EXPECT(WIFEXITED(d.status) && WEXITSTATUS(d.status) == 0, "status %#x", d.status);
	KT_EXPECT(check_header(&d) == KT_PASS, "header");
	KT_EXPECT(serial != 0, "the child found no page");
	EXPECT_FIELD(&d, "mm_serial", serial);
	EXPECT_FIELD(&d, "pid", target);
	EXPECT_FIELD(&d, "ppid", getpid());
	EXPECT_FIELD(&d, "pgid", target);
	EXPECT_FIELD(&d, "sid", getsid(0));
	EXPECT_FIELD(&d, "uid", ids_u[0]);
	EXPECT_FIELD(&d, "euid", ids_u[1]);
	EXPECT_FIELD(&d, "suid", ids_u[2]);
	EXPECT_FIELD(&d, "fsuid", ids_u[1]);
	EXPECT_FIELD(&d, "gid", ids_g[0]);
	EXPECT_FIELD(&d, "egid", ids_g[1]);
	EXPECT_FIELD(&d, "sgid", ids_g[2]);
	EXPECT_FIELD(&d, "fsgid", ids_g[1]);
	KT_EXPECT(!strstr(d.text, "MISMATCH") && !strstr(d.text, "not-valid"), "flagged fields");
	return KT_PASS;
}

/*
 * kshare-dump PID on a process in namespaces of its own: a user namespace
 * mapping its root to uid/gid 1200 outside, and a pid namespace where it is
 * pid 1 under a parent outside it. Its page holds what its own system calls
 * return (pid 1, ppid 0, pgid and sid 0, uid 0), and the /proc column must
 * say the same, from the process's namespaces, not the dumper's: no field
 * flagged.
 */
static int kshare_dump_process_in_own_namespaces(void)
{
	int ready[2], go[2], status;
	pid_t mid, inner = 0;
	char path[64], c;
	struct dump d;

	KT_EXPECT(pipe(ready) == 0 && pipe(go) == 0, "pipe");
	mid = fork();
	if (mid == 0) {
		pid_t child;

		if (unshare(CLONE_NEWUSER) || write(ready[1], "u", 1) != 1 ||
		    read(go[0], &c, 1) != 1 || unshare(CLONE_NEWPID))
			_exit(1);
		child = fork();
		if (child == 0) {
			if (setresgid(0, 0, 0) || setresuid(0, 0, 0) || !kt_proc_page())
				_exit(1);
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
		if (child < 0 || write(ready[1], &child, sizeof(child)) != sizeof(child))
			_exit(1);
		waitpid(child, NULL, 0);
		_exit(0);
	}
	/* Only the children write there: a child that fails closes it, and a
	 * read here ends instead of waiting. */
	close(ready[1]);
	close(go[0]);
	KT_EXPECT(mid > 0 && read(ready[0], &c, 1) == 1 && c == 'u', "user namespace");
	snprintf(path, sizeof(path), "/proc/%d/setgroups", mid);
	KT_EXPECT(kt_write_file(path, "deny") == 0, "setgroups");
	snprintf(path, sizeof(path), "/proc/%d/uid_map", mid);
	KT_EXPECT(kt_write_file(path, "0 1200 1") == 0, "uid_map");
	snprintf(path, sizeof(path), "/proc/%d/gid_map", mid);
	KT_EXPECT(kt_write_file(path, "0 1200 1") == 0, "gid_map");
	KT_EXPECT(write(go[1], "g", 1) == 1, "go");
	/* The inner pid, as we see it, then its "registered". */
	KT_EXPECT(read(ready[0], &inner, sizeof(inner)) == sizeof(inner) && inner > 0, "inner");
	KT_EXPECT(read(ready[0], &c, 1) == 1 && c == 'r', "inner registered");
	KT_EXPECT(run_dump(&d, inner, NULL, NULL, NULL) == 0, "run");
	kill(inner, SIGKILL);
	waitpid(mid, &status, 0);
	close(ready[0]);
	close(go[1]);
	KT_EXPECT(WIFEXITED(d.status) && WEXITSTATUS(d.status) == 0, "status %#x", d.status);
	EXPECT_FIELD(&d, "pid", 1);
	EXPECT_FIELD(&d, "ppid", 0);
	EXPECT_FIELD(&d, "pgid", 0);
	EXPECT_FIELD(&d, "sid", 0);
	EXPECT_FIELD(&d, "uid", 0);
	EXPECT_FIELD(&d, "fsgid", 0);
	KT_EXPECT(!strstr(d.text, "MISMATCH"), "fields flagged as differing from /proc");
	KT_EXPECT(!!strstr(d.text, "/proc: 1 ") || !!strstr(d.text, "/proc: 1\n"),
		  "/proc column does not say pid 1");
	return KT_PASS;
}

/*
 * A process that never registered has no area to dump: said so, status 1.
 * (On a kernel without kshare too: a control, not a kshare test.)
 */
static int dump_of_an_unregistered_process(void)
{
	pid_t target = fork();
	struct dump d;

	if (target == 0) {
		pause();
		_exit(0);
	}
	KT_EXPECT(target > 0, "fork");
	KT_EXPECT(run_dump(&d, target, NULL, NULL, NULL) == 0, "run");
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);
	KT_EXPECT(WIFEXITED(d.status) && WEXITSTATUS(d.status) == 1, "status %#x", d.status);
	KT_EXPECT(!!strstr(d.text, "no kshare area"), "no reason given");
	return KT_PASS;
}

/* An unprivileged user may not read init's memory: an error, no values. */
static int dump_refuses_without_permission(void)
{
	struct dump d;
	unsigned long long v;

	KT_EXPECT(run_dump(&d, 1, NULL, become_ids, NULL) == 0, "run");
	KT_EXPECT(WIFEXITED(d.status) && WEXITSTATUS(d.status) == 2, "status %#x", d.status);
	KT_EXPECT(d.n == 0 || !get(&d, "pid", &v), "values printed anyway");
	KT_EXPECT(!!strstr(d.text, "Permission denied"), "no reason given");
	return KT_PASS;
}

static int dump_refuses_missing_pid(void)
{
	struct dump d;

	KT_EXPECT(run_dump(&d, 0x3ffffff0, NULL, NULL, NULL) == 0, "run");
	KT_EXPECT(WIFEXITED(d.status) && WEXITSTATUS(d.status) == 2, "status %#x", d.status);
	return KT_PASS;
}

int main(int argc, char **argv)
{
	static const struct ktest tests[] = {
		KTEST(kshare_dump_self),
		KTEST(kshare_dump_self_distinct_ids),
		KTEST(kshare_dump_other_process),
		KTEST(kshare_dump_process_in_own_namespaces),
		KTEST(dump_of_an_unregistered_process),
		KTEST(dump_refuses_without_permission),
		KTEST(dump_refuses_missing_pid),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: dump-check PATH-TO-KSHARE-DUMP\n");
		return 2;
	}
	dump_path = argv[1];
	return kt_main(tests, sizeof(tests) / sizeof(tests[0]), 60);
}
