/* SPDX-License-Identifier: MIT */
/*
 * The argv fallback of kshare_setproctitle(), seen from a program that
 * links libkshare, as started by execve(): title_test.cc runs it with the
 * argv[0] and environment each case needs; and the title page's writer in
 * a process that never had a second thread. Exit status 0 means the case
 * held; a crash or 1 means it did not (the reason goes to stderr).
 *   title_probe CASE [ARGS...]
 */
#include "internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <unistd.h>

extern char **environ;

static int fail(const char *why)
{
	fprintf(stderr, "title_probe: %s\n", why);
	return 1;
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		exit(fail("out of memory"));
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/*
 * A 5000-byte argv[0] and a 6000-byte title, prefixed and bare. The callee's
 * frame lies below this one: a write past its buffer lands in @guard first.
 */
static int long_names(void)
{
	volatile unsigned char guard[32768];
	char *arg = repeat('b', 6000);
	char buf[16];

	for (size_t i = 0; i < sizeof(guard); i++)
		guard[i] = 0x5a;
	kshare_setproctitle("%s", arg);
	kshare_setproctitle("worker %s", arg);
	for (size_t i = 0; i < sizeof(guard); i++)
		if (guard[i] != 0x5a)
			return fail("kshare_setproctitle() wrote past its buffer");
	kshare_setproctitle("-%s", arg);
	kshare_setproctitle("-x %s", arg);
	free(arg);
	if (kshare_getproctitle(buf, sizeof(buf)) < 15)
		return fail("the title is missing");
	return strncmp(buf, "x bbb", 5) ? fail("wrong title") : 0;
}

/* A getenv() pointer taken before the first title still reads the value. */
static int getenv_survives(void)
{
	const char *v = getenv("KSHARE_PROBE");
	char *title = repeat('t', 3000);

	if (!v || strcmp(v, "still-here"))
		return fail("KSHARE_PROBE not set by the test");
	kshare_setproctitle("-%s", title);
	free(title);
	if (strcmp(v, "still-here"))
		return fail("the getenv() pointer now reads part of the title");
	v = getenv("KSHARE_PROBE");
	return v && !strcmp(v, "still-here") ? 0 : fail("the environment lost KSHARE_PROBE");
}

/* argv[0] pointed at a literal before the first title: left alone. */
static int argv0_reassigned(char **argv)
{
	static const char name[] = "a-literal-name";

	argv[0] = (char *)name;
	kshare_setproctitle("-%s", "a title longer than the literal it must not touch");
	return strcmp(argv[0], "a-literal-name") ? fail("argv[0]'s new string was overwritten")
						 : 0;
}

/* Before any title, and after NULL: the arguments joined by spaces. */
static int get_joined(int argc, char **argv)
{
	char expect[256] = "", buf[256];

	for (int i = 0; i < argc; i++)
		snprintf(expect + strlen(expect), sizeof(expect) - strlen(expect), "%s%s",
			 i ? " " : "", argv[i]);

	if (kshare_getproctitle(buf, sizeof(buf)) < 0 || strcmp(buf, expect)) {
		fprintf(stderr, "title_probe: before any title: '%s', expected '%s'\n", buf, expect);
		return 1;
	}
	kshare_setproctitle("-%s", "something else");
	kshare_setproctitle(NULL);
	if (kshare_getproctitle(buf, sizeof(buf)) < 0 || strcmp(buf, expect)) {
		fprintf(stderr, "title_probe: after NULL: '%s', expected '%s'\n", buf, expect);
		return 1;
	}
	return 0;
}

/* Reading the title claims nothing: environ is where start-up left it. */
static int get_leaves_environ(void)
{
	char **before = environ;
	char buf[64];

	kshare_getproctitle(buf, sizeof(buf));
	return environ == before ? 0 : fail("kshare_getproctitle() moved environ");
}

/* By the time main() runs, no environ entry lies after argv's strings. */
static int environ_moved_at_start(char **argv)
{
	const char *end = argv[0];

	for (int i = 0; argv[i] == end; i++)
		end = argv[i] + strlen(argv[i]) + 1;
	for (char **e = environ; *e; e++)
		if ((uintptr_t)*e >= (uintptr_t)end && (uintptr_t)*e < (uintptr_t)end + (4 << 20))
			return fail("environ still points at the strings after argv");
	return 0;
}

/* An area in ordinary memory, as the kernel lays it out, and its title page. */
static _Alignas(4096) unsigned char sim[3][4096];

static struct kshare_title *attach_simulated_area(void)
{
	struct kshare_sys_header *h = (struct kshare_sys_header *)sim[0];
	struct kshare_proc_page *pp = (struct kshare_proc_page *)sim[1];

	h->magic = KSHARE_MAGIC;
	h->abi_version = KSHARE_ABI_VERSION;
	h->header_size = sizeof(*h);
	h->map_size = 2 * 4096;
	h->features = KSHARE_FEATURE_PROC_PID | KSHARE_FEATURE_TITLE;
	h->proc_offset = 4096;
	h->proc_size = sizeof(*pp);
	h->title_size = sizeof(struct kshare_title);
	pp->pid = 424242;
	pp->valid = KSHARE_PROC_VALID_PID;
	return kshare__attach(h, sim[2]) ? NULL : (struct kshare_title *)sim[2];
}

static int slot_is(const struct kshare_title_slot *s, const char *title)
{
	return s->flags == KSHARE_TITLE_SET && s->len == strlen(title) &&
	       !strcmp(s->title, title);
}

static void *nothing(void *arg)
{
	return arg;
}

/*
 * A writer that died in the middle of a title left the counter in phase 1
 * (slot 0 half written, readers on slot 1), 2 (slot 1 half written, readers
 * on slot 0) or 3 (odd, which no writer of the library leaves): readers
 * still get a whole title, and the next title continues from the counter,
 * forward, ending in phase 0 with the title in both slots. "alone": in a
 * process that never had another thread (no wait, plain stores); "threads":
 * after one (the page's lock is taken over after a bounded wait).
 */
static int stuck_counter(const char *mode)
{
	struct kshare_title *t = attach_simulated_area();
	char buf[64], want[32];
	pthread_t thread;

	if (!t)
		return fail("kshare__attach");
	if (!strcmp(mode, "threads") &&
	    (pthread_create(&thread, NULL, nothing, NULL) || pthread_join(thread, NULL)))
		return fail("pthread_create");
	if (__libc_single_threaded != !strcmp(mode, "alone"))
		return fail("__libc_single_threaded is not what the mode needs");
	for (uint32_t phase = 1; phase < 4; phase++) {
		const uint32_t left = 1000 + phase;
		/* The slot readers take: the title before the dead writer's, or
		 * (phase 2) the one it had written whole in slot 0. */
		const char *shown = phase == 2 ? "the dead writer's" : "before";
		uint32_t seq;

		kshare_setproctitle("-%s", "before");
		__atomic_store_n(&t->seq, left, __ATOMIC_RELAXED);
		if (phase == 2) {
			strcpy(t->slot[0].title, "the dead writer's");
			t->slot[0].len = strlen("the dead writer's");
		}
		/* Half written: no NUL, a length past the slot. */
		memset(t->slot[phase == 2].title, 'X', 100);
		t->slot[phase == 2].len = 5000;
		if (kshare_getproctitle(buf, sizeof(buf)) < 0 || strcmp(buf, shown)) {
			fprintf(stderr, "title_probe: phase %u: read '%s', not '%s'\n", phase, buf,
				shown);
			return 1;
		}
		snprintf(want, sizeof(want), "after phase %u", phase);
		kshare_setproctitle("-%s", want);
		seq = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);
		if (seq <= left || seq % 4 || !slot_is(&t->slot[0], want) ||
		    !slot_is(&t->slot[1], want)) {
			fprintf(stderr, "title_probe: phase %u: counter %u, slots '%.20s' '%.20s'\n",
				phase, seq, t->slot[0].title, t->slot[1].title);
			return 1;
		}
		if (kshare_getproctitle(buf, sizeof(buf)) < 0 || strcmp(buf, want))
			return fail("the new title does not read back");
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return fail("usage: title_probe CASE [ARGS...]");
	if (!strcmp(argv[1], "long-names"))
		return long_names();
	if (!strcmp(argv[1], "getenv-survives"))
		return getenv_survives();
	if (!strcmp(argv[1], "argv0-reassigned"))
		return argv0_reassigned(argv);
	if (!strcmp(argv[1], "get-joined"))
		return get_joined(argc, argv);
	if (!strcmp(argv[1], "get-leaves-environ"))
		return get_leaves_environ();
	if (!strcmp(argv[1], "environ-moved-at-start"))
		return environ_moved_at_start(argv);
	if (!strcmp(argv[1], "stuck-counter") && argc == 3)
		return stuck_counter(argv[2]);
	return fail("unknown case");
}
