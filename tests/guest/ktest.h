/* SPDX-License-Identifier: MIT */
/*
 * A small TAP harness for the guest tests, in the spirit of the kernel's
 * kselftest_harness.h: every test runs in a child process of its own, with a
 * time limit, so a crash or a changed namespace stays inside one test. The
 * output is TAP, closed by the line "N passed, N failed, N skipped".
 */
#ifndef KSHARE_KTEST_H
#define KSHARE_KTEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kshare/kshare.h>

enum { KT_PASS = 0, KT_FAIL = 1, KT_SKIP = 4 };

struct ktest {
	const char *name;
	int (*fn)(void);
};

#define KTEST(fn) { #fn, fn }

static inline void kt_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* Fail the current test unless @cond holds, saying why. */
#define KT_EXPECT(cond, fmt, ...)                                             \
	do {                                                                  \
		if (!(cond)) {                                                \
			kt_diag("%s:%d: %s: " fmt, __FILE__, __LINE__, #cond, \
				##__VA_ARGS__);                               \
			return KT_FAIL;                                       \
		}                                                             \
	} while (0)

/* Wait for @pid and turn how it ended into KT_PASS/KT_FAIL/KT_SKIP. */
static inline int kt_wait(pid_t pid, const char *what)
{
	int status;

	if (waitpid(pid, &status, 0) != pid) {
		kt_diag("waitpid(%s): %s", what, strerror(errno));
		return KT_FAIL;
	}
	if (WIFSIGNALED(status)) {
		kt_diag("%s killed by signal %d", what, WTERMSIG(status));
		return KT_FAIL;
	}
	return WEXITSTATUS(status);
}

/* Run @fn in a fork child and pass its verdict on. */
static inline int kt_in_child(int (*fn)(void))
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	KT_EXPECT(pid > 0, "fork: %s", strerror(errno));
	return kt_wait(pid, "child");
}

/* Write @text to @path (sysfs, procfs); 0 or -1 with errno. */
static inline int kt_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -1;
}

/*
 * /proc/PID/cmdline of @pid into @buf, in one read(); returns its length, or
 * -1. One read() is one consistent copy; a title that changes between two
 * read() calls of the same open file can mix, as argv always could.
 */
static inline ssize_t kt_read_cmdline(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size);
	close(fd);
	return n;
}

/*
 * Whether the kernel log holds a splat (a KASAN report, a lockdep or
 * DEBUG_VM warning, an Oops): 1 if so, after printing its first lines; 0 if
 * not; -1 if the log cannot be read. A race test calls it at its end, so
 * that the report fails the test that provoked it.
 */
static inline int kt_kernel_splat(void)
{
	static const char *const marks[] = { "BUG:", "WARNING:", "Oops", "KASAN", "UBSAN",
					     "Call Trace:" };
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0), n, shown = 0;
	char *log, *line, *save;
	size_t i;

	if (size <= 0 || !(log = malloc((size_t)size + 1)))
		return -1;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, size);
	if (n < 0) {
		free(log);
		return -1;
	}
	log[n] = '\0';
	for (line = strtok_r(log, "\n", &save); line && shown < 20;
	     line = strtok_r(NULL, "\n", &save)) {
		/* From the first mark on, show what follows it. */
		for (i = 0; !shown && i < sizeof(marks) / sizeof(marks[0]); i++)
			if (strstr(line, marks[i]))
				shown = 1;
		if (shown) {
			kt_diag("kernel: %s", line);
			shown++;
		}
	}
	free(log);
	return shown > 0;
}

/*
 * kshare's registration, prctl(PR_KSHARE, @op, @map, 0, 0): 0, or -1 with
 * errno. kt_map_init() makes @map an empty request of this struct's size.
 */
static inline void kt_map_init(struct kshare_map *map)
{
	memset(map, 0, sizeof(*map));
	map->size = sizeof(*map);
}

static inline int kt_kshare(int op, struct kshare_map *map)
{
	return (int)syscall(SYS_prctl, PR_KSHARE, op, map, 0, 0);
}

/*
 * The [kshare] area of this process, registered (PR_KSHARE_MAP) at the first
 * call and remembered, as the library remembers it: fork children inherit
 * the registration and the address, exec ends both. NULL without kshare.
 * Not to be called first in a vfork() child (the kernel says EBUSY there).
 */
static inline void *kt_area(void)
{
	static void *area;
	struct kshare_map map;

	if (!area) {
		kt_map_init(&map);
		if (kt_kshare(PR_KSHARE_MAP, &map) == 0)
			area = (void *)(uintptr_t)map.area;
	}
	return area;
}

static inline const struct kshare_sys_header *kt_header(void)
{
	return (const struct kshare_sys_header *)kt_area();
}

static inline const struct kshare_proc_page *kt_proc_page(void)
{
	const struct kshare_sys_header *h = kt_header();

	return h ? (const void *)((const char *)h + h->proc_offset) : NULL;
}

/*
 * The title page, mapped (PR_KSHARE_MAP_TITLE) at the first call, after the
 * area, and remembered likewise; NULL without it.
 */
static inline struct kshare_title *kt_title_page(void)
{
	static struct kshare_title *title;
	struct kshare_map map;

	if (!title && kt_area()) {
		kt_map_init(&map);
		if (kt_kshare(PR_KSHARE_MAP_TITLE, &map) == 0)
			title = (struct kshare_title *)(uintptr_t)map.title;
	}
	return title;
}

/*
 * The title on the title page @t as the kernel reads it for
 * /proc/PID/cmdline (<kshare/uapi.h>): slot seq & 1, which no writer is
 * writing, kept if the counter did not move meanwhile; cut at the slot, at
 * @size - 1 bytes and at its first NUL. Its length, -1 if no title is set,
 * -2 if the counter moved during each of 16 tries (where the kernel shows
 * the last title it read whole).
 */
static inline ssize_t kt_title_read(const struct kshare_title *t, char *buf, size_t size)
{
	int tries;

	for (tries = 0; tries < 16; tries++) {
		uint32_t seq = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE);
		const struct kshare_title_slot *s = &t->slot[seq & 1];
		uint32_t flags = __atomic_load_n(&s->flags, __ATOMIC_RELAXED);
		size_t len = __atomic_load_n(&s->len, __ATOMIC_RELAXED), i;

		if (len > KSHARE_TITLE_LEN - 1)
			len = KSHARE_TITLE_LEN - 1;
		if (len > size - 1)
			len = size - 1;
		for (i = 0; i < len; i++)
			buf[i] = __atomic_load_n(&s->title[i], __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&t->seq, __ATOMIC_RELAXED) != seq)
			continue;
		if (!(flags & KSHARE_TITLE_SET))
			return -1;
		len = strnlen(buf, len);
		buf[len] = '\0';
		return (ssize_t)len;
	}
	return -2;
}

/* One slot of a title page, by hand: @title, or no title if it is NULL. */
static inline void kt_title_slot_write(struct kshare_title_slot *s, const char *title)
{
	size_t len = title ? strlen(title) : 0, i;

	if (len > KSHARE_TITLE_LEN - 1)
		len = KSHARE_TITLE_LEN - 1;
	for (i = 0; i < len; i++)
		__atomic_store_n(&s->title[i], title[i], __ATOMIC_RELAXED);
	__atomic_store_n(&s->title[len], '\0', __ATOMIC_RELAXED);
	__atomic_store_n(&s->len, (uint32_t)len, __ATOMIC_RELAXED);
	__atomic_store_n(&s->flags, title ? KSHARE_TITLE_SET : 0, __ATOMIC_RELAXED);
}

/* The counter of @t to @seq, between release fences, as the latch moves it. */
static inline void kt_title_seq(struct kshare_title *t, uint32_t seq)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&t->seq, seq, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/*
 * Write @title (NULL: no title) on the title page @t by hand, as
 * <kshare/uapi.h> says a writer does: the counter odd, slot 0, the counter
 * even, slot 1; then, as libkshare ends a write, the counter on to the
 * next multiple of 4 (which tells the library that no write is under
 * way). For a page whose counter is a multiple of 4 and that nobody else
 * writes meanwhile.
 */
static inline void kt_title_write(struct kshare_title *t, const char *title)
{
	uint32_t seq = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);

	kt_title_seq(t, seq + 1);
	kt_title_slot_write(&t->slot[0], title);
	kt_title_seq(t, seq + 2);
	kt_title_slot_write(&t->slot[1], title);
	kt_title_seq(t, seq + 4);
}

/* How many lines of /proc/self/maps name @name ("[kshare]"); -1 on error. */
static inline int kt_maps_count(const char *name)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strlen(line) >= strlen(name) &&
		    !strcmp(line + strlen(line) - strlen(name), name))
			n++;
	}
	fclose(f);
	return n;
}

/*
 * A number from kshare's debugfs directory (/sys/kernel/debug/kshare/@name:
 * areas, proc_pages, uts_pages), mounting debugfs if need be; -1 if it
 * cannot be read.
 */
static inline long kt_debugfs_long(const char *name)
{
	char path[128];
	long n = -1;
	FILE *f;

	if (access("/sys/kernel/debug/kshare", F_OK) != 0)
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	snprintf(path, sizeof(path), "/sys/kernel/debug/kshare/%s", name);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

static inline int kt_main(const struct ktest *tests, size_t n, unsigned int timeout)
{
	unsigned int passed = 0, failed = 0, skipped = 0;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n1..%zu\n", n);
	for (i = 0; i < n; i++) {
		pid_t pid;
		int rc;

		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			rc = KT_FAIL;
			kt_diag("fork: %s", strerror(errno));
		} else if (pid == 0) {
			alarm(timeout);
			exit(tests[i].fn());
		} else {
			rc = kt_wait(pid, tests[i].name);
		}
		switch (rc) {
		case KT_PASS:
			passed++;
			printf("ok %zu - %s\n", i + 1, tests[i].name);
			break;
		case KT_SKIP:
			skipped++;
			printf("ok %zu - %s # SKIP\n", i + 1, tests[i].name);
			break;
		default:
			failed++;
			printf("not ok %zu - %s\n", i + 1, tests[i].name);
			break;
		}
	}
	printf("%u passed, %u failed, %u skipped\n", passed, failed, skipped);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#define KTEST_MAIN(timeout, ...)                                            \
	int main(void)                                                       \
	{                                                                    \
		static const struct ktest tests[] = { __VA_ARGS__ };         \
		return kt_main(tests, sizeof(tests) / sizeof(tests[0]), timeout); \
	}

#endif /* KSHARE_KTEST_H */
