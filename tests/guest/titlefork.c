// SPDX-License-Identifier: MIT
/*
 * fork() of a process whose other thread keeps rewriting its title through
 * the title page: the kernel copies the title for the child at fork(),
 * reading the latch (the slot not being written, or the last title it read
 * whole), and the library makes fork() wait for a title being written, so
 * every child shows one of the parent's titles, never its arguments and
 * never half of one. Run on a kernel without kshare (titles then go to
 * argv, and the check of the title page fails), the test fails.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include <kshare/kshare.h>

#include "ktest.h"

#define TITLE_A "fork-title-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define TITLE_B "fork-title-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static atomic_int stop;

static void *rewrite(void *arg)
{
	(void)arg;
	for (long i = 0; !atomic_load_explicit(&stop, memory_order_relaxed); i++)
		kshare_setproctitle("-%s", i & 1 ? TITLE_A : TITLE_B);
	return NULL;
}

static int kshare_fork_children_inherit_a_whole_title(void)
{
	int bad = 0, i, ready[2];
	pthread_t writer;

	KT_EXPECT(kt_title_page(), "no title page");
	kshare_setproctitle("-%s", TITLE_A);
	KT_EXPECT(pthread_create(&writer, NULL, rewrite, NULL) == 0, "pthread_create");
	for (i = 0; i < 200; i++) {
		static char buf[4096];
		char c;
		ssize_t n;
		pid_t pid;

		if (pipe(ready))
			break;
		pid = fork();
		if (pid == 0) {
			/* Only this thread lives here: the title stays as inherited. */
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
		if (pid < 0)
			break;
		n = read(ready[0], &c, 1) == 1 ? kt_read_cmdline(pid, buf, sizeof(buf)) : -1;
		if (n <= 0 || (strcmp(buf, TITLE_A) && strcmp(buf, TITLE_B))) {
			if (bad++ < 3)
				kt_diag("child %d shows '%.40s' (%zd bytes)", i, n > 0 ? buf : "", n);
		}
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(ready[0]);
		close(ready[1]);
	}
	atomic_store(&stop, 1);
	pthread_join(writer, NULL);
	KT_EXPECT(i == 200, "fork failed at %d: %s", i, strerror(errno));
	KT_EXPECT(bad == 0, "%d of 200 children did not show a whole title of the parent", bad);
	return KT_PASS;
}

int main(void)
{
	static const struct ktest tests[] = {
		KTEST(kshare_fork_children_inherit_a_whole_title),
	};

	return kt_main(tests, sizeof(tests) / sizeof(tests[0]), 120);
}
