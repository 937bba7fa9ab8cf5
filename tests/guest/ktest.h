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
#include <sys/wait.h>
#include <unistd.h>

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
