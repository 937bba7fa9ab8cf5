// SPDX-License-Identifier: MIT
/*
 * copies-check: three copies of libkshare in one process, the preload
 * shim's (libc's getpid() and setproctitle()), libkshare.so's (kshare_*,
 * this program links it) and a static one inside a dlopen()ed library
 * (libkshare-copies-static.so, libkshare.a linked in): each registers, and
 * the kernel gives all of them the one area and the one title page.
 *
 *   copies-check shim|plain [--fallback-only]
 *
 * "shim": run with LD_PRELOAD of the shim, which registered as the program
 * loaded; "plain": without it, two copies. Tests named kshare_* need a
 * kernel with kshare; the other must pass on any kernel (--fallback-only
 * runs it alone, for the host).
 *
 * On the host the kshare_* tests also run against a pretend kernel
 * (tests/unit/fake_kernel.h, preloaded before the shim, with
 * KSHARE_TEST_FAKE_KERNEL=1 in the environment): its area is ordinary
 * memory, so /proc/self/maps names nothing and /proc/PID/cmdline never shows
 * its title page; those checks then read the page as the kernel would.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <kshare/kshare.h>

#include "../guest/deny.h"
#include "../guest/ktest.h"

static int shim_mode, fake_kernel;

/* The static copy's functions (copies-static.c). */
static const void *(*static_header)(void);
static pid_t (*static_getpid)(void);
static void (*static_setproctitle)(const char *);
static int (*static_munmap)(void *, size_t);

/* libbsd's setproctitle(), which the shim defines. */
static void (*shim_setproctitle)(const char *, ...);

static int load_static_copy(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	void *lib;

	if (n <= 0)
		return -1;
	dir[n] = '\0';
	snprintf(path, sizeof(path), "%s/libkshare-copies-static.so", dirname(dir));
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		kt_diag("dlopen: %s", dlerror());
		return -1;
	}
	static_header = (const void *(*)(void))dlsym(lib, "copies_static_header");
	static_getpid = (pid_t(*)(void))dlsym(lib, "copies_static_getpid");
	static_setproctitle = (void (*)(const char *))dlsym(lib, "copies_static_setproctitle");
	static_munmap = (int (*)(void *, size_t))dlsym(lib, "copies_static_munmap");
	shim_setproctitle = (void (*)(const char *, ...))dlsym(RTLD_DEFAULT, "setproctitle");
	return static_header && static_getpid && static_setproctitle && static_munmap ? 0 : -1;
}

/* What ps shows as our title: /proc/self/cmdline up to its first NUL. */
static const char *cmdline(void)
{
	static char buf[1024];
	struct kshare_map map;
	ssize_t n;

	kt_map_init(&map);
	/* The kernel's choice: the title page's title while it is set. */
	if (fake_kernel && !kt_kshare(PR_KSHARE_GET, &map) && map.title &&
	    kt_title_read((const void *)(uintptr_t)map.title, buf, sizeof(buf)) >= 0)
		return buf;
	n = kt_read_cmdline(getpid(), buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* How many times /proc/self/maps names @name; @want under the pretend kernel. */
static int maps_count(const char *name, int want)
{
	return fake_kernel ? want : kt_maps_count(name);
}

/* Set @title through each copy in turn; each time, another process sees it. */
static int titles_through_every_copy(void)
{
	if (shim_mode) {
		KT_EXPECT(shim_setproctitle, "the shim defines no setproctitle");
		shim_setproctitle("-%s", "title from the shim");
		KT_EXPECT(!strcmp(cmdline(), "title from the shim"), "cmdline '%s'", cmdline());
	}
	kshare_setproctitle("-%s", "title from libkshare.so");
	KT_EXPECT(!strcmp(cmdline(), "title from libkshare.so"), "cmdline '%s'", cmdline());
	static_setproctitle("title from the static copy");
	KT_EXPECT(!strcmp(cmdline(), "title from the static copy"), "cmdline '%s'", cmdline());
	return KT_PASS;
}

/* Any kernel: every copy gives the system call's answers, and sets titles. */
static int copies_agree_with_the_system_calls(void)
{
	KT_EXPECT(load_static_copy() == 0, "the static copy");
	KT_EXPECT(getpid() == syscall(SYS_getpid), "getpid");
	KT_EXPECT(kshare_getpid() == syscall(SYS_getpid), "kshare_getpid");
	KT_EXPECT(static_getpid() == syscall(SYS_getpid), "the static copy's getpid");
	return titles_through_every_copy();
}

static int deny_getpid(void)
{
	static const int nrs[] = { SYS_getpid };

	return kt_deny_syscalls(nrs, 1);
}

/*
 * One area: the kernel's (PR_KSHARE_GET), libkshare.so's (its process
 * page pointer), the static copy's, the one [kshare] mapping; and every
 * copy answers getpid() from a page while the system call is denied.
 */
static int kshare_three_copies_one_area(void)
{
	const struct kshare_sys_header *h;
	struct kshare_map map;
	pid_t pid = (pid_t)syscall(SYS_getpid);

	KT_EXPECT(load_static_copy() == 0, "the static copy");
	kt_map_init(&map);
	if (shim_mode)
		KT_EXPECT(kt_kshare(PR_KSHARE_GET, &map) == 0 && map.area,
			  "the shim did not register at load: %s", strerror(errno));
	KT_EXPECT(kshare_getpid() == pid, "kshare_getpid");
	KT_EXPECT(kt_kshare(PR_KSHARE_GET, &map) == 0 && map.area, "GET: %s", strerror(errno));
	h = (const void *)(uintptr_t)map.area;
	KT_EXPECT((const char *)kshare__proc == (const char *)h + h->proc_offset,
		  "libkshare.so reads %p, the area is %p", (const void *)kshare__proc, (void *)h);
	KT_EXPECT(static_header() == h, "the static copy reads %p, the area is %p",
		  static_header(), (void *)h);
	KT_EXPECT(maps_count("[kshare]", 1) == 1, "[kshare] mapped %d times",
		  kt_maps_count("[kshare]"));
	KT_EXPECT(kt_kshare(PR_KSHARE_GET, &map) == 0 && map.area == (uintptr_t)h, "GET after");
	KT_EXPECT(deny_getpid() == 0 && syscall(SYS_getpid) == -1, "the filter: %s",
		  strerror(errno));
	KT_EXPECT(kshare_getpid() == pid, "libkshare.so: %d", kshare_getpid());
	KT_EXPECT(static_getpid() == pid, "the static copy: %d", static_getpid());
	if (shim_mode)
		KT_EXPECT(getpid() == pid, "the shim: %d", getpid());
	return KT_PASS;
}

/* One title page, mapped by the first copy to set a title, used by all. */
static int kshare_three_copies_one_title_page(void)
{
	struct kshare_map map;
	uint64_t title;
	char buf[64];

	KT_EXPECT(load_static_copy() == 0, "the static copy");
	KT_EXPECT(titles_through_every_copy() == KT_PASS, "titles");
	kt_map_init(&map);
	KT_EXPECT(kt_kshare(PR_KSHARE_GET, &map) == 0 && map.title, "no title page: %s",
		  strerror(errno));
	title = map.title;
	KT_EXPECT(maps_count("[kshare_title]", 1) == 1, "[kshare_title] mapped %d times",
		  kt_maps_count("[kshare_title]"));
	KT_EXPECT(kt_title_read((struct kshare_title *)(uintptr_t)title, buf, sizeof(buf)) >= 0 &&
			  !strcmp(buf, "title from the static copy"),
		  "the last title is not on the page");
	KT_EXPECT(titles_through_every_copy() == KT_PASS, "titles again");
	KT_EXPECT(kt_kshare(PR_KSHARE_GET, &map) == 0 && map.title == title, "another page");
	return KT_PASS;
}

/*
 * A detach in the static copy reaches the copies the dynamic linker sees
 * (it calls the head of their chain), so the area can go.
 */
static int kshare_detach_from_the_static_copy(void)
{
	const struct kshare_sys_header *h;

	KT_EXPECT(load_static_copy() == 0, "the static copy");
	kshare_setproctitle("-%s", "before the area went");
	h = static_header();
	KT_EXPECT(h && kshare_getpid() == syscall(SYS_getpid), "no area");
	KT_EXPECT(static_munmap((void *)h, h->map_size) == 0, "munmap: %s", strerror(errno));
	KT_EXPECT(maps_count("[kshare]", 0) == 0, "[kshare] still mapped");
	KT_EXPECT(!kshare_available(0), "libkshare.so still reads the area");
	KT_EXPECT(kshare_getpid() == syscall(SYS_getpid), "kshare_getpid");
	KT_EXPECT(static_getpid() == syscall(SYS_getpid), "the static copy's getpid");
	KT_EXPECT(getpid() == syscall(SYS_getpid), "getpid");
	KT_EXPECT(!strcmp(cmdline(), "before the area went"), "the title was lost: '%s'",
		  cmdline());
	return titles_through_every_copy();
}

int main(int argc, char **argv)
{
	struct ktest tests[8];
	size_t n = 0;

	if (argc < 2 || (strcmp(argv[1], "shim") && strcmp(argv[1], "plain"))) {
		fprintf(stderr, "usage: copies-check shim|plain [--fallback-only]\n");
		return 2;
	}
	shim_mode = !strcmp(argv[1], "shim");
	fake_kernel = getenv("KSHARE_TEST_FAKE_KERNEL") != NULL;
	tests[n++] = (struct ktest)KTEST(copies_agree_with_the_system_calls);
	if (argc < 3 || strcmp(argv[2], "--fallback-only")) {
		tests[n++] = (struct ktest)KTEST(kshare_three_copies_one_area);
		tests[n++] = (struct ktest)KTEST(kshare_three_copies_one_title_page);
		tests[n++] = (struct ktest)KTEST(kshare_detach_from_the_static_copy);
	}
	return kt_main(tests, n, 60);
}
