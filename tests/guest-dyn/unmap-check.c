// SPDX-License-Identifier: MIT
/*
 * A program linked with libkshare.so that changes the mapping of the kshare
 * area. Alone ("plain"), libkshare.so does not interpose libc's munmap(),
 * mremap(), mmap(), mprotect() and madvise() (they stay libc's), so the
 * program tells the library through the kshare_ twins or kshare_detach(),
 * and its readers fall back to the system calls instead of faulting. With
 * the LD_PRELOAD shim ("shim"), two copies of the library live in the
 * process, the shim's (getpid() and friends) and libkshare.so's
 * (kshare_getpid()): libc's names reach both through the shim, and so do
 * the twins and kshare_detach() through the detach chain.
 *
 * The title page, a mapping of its own that one copy maps at its first
 * title, is guarded by both: the copy that mapped it tells the other where it
 * is (kshare__title_chain), and losing it sends titles to argv without
 * losing the area.
 *
 *   unmap-check plain|shim
 *
 * Every test is named kshare_*: each needs the area, and fails without it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <kshare/kshare.h>

#include "../guest/ktest.h"

static int shim_mode;

/*
 * The area: in shim mode the shim registered it as the program loaded; this
 * asks the kernel once (PR_KSHARE_MAP gives every caller the one area) and
 * remembers, as the library does (ktest.h).
 */
static char *area(void)
{
	return (char *)kt_area();
}

/* The title page, if something mapped it (PR_KSHARE_GET), or NULL. */
static char *title_page_now(void)
{
	struct kshare_map map;

	kt_map_init(&map);
	return kt_kshare(PR_KSHARE_GET, &map) ? NULL : (char *)(uintptr_t)map.title;
}

/* /proc/self/cmdline up to its first NUL: what ps shows as our title. */
static const char *cmdline(void)
{
	static char buf[1024];
	ssize_t n = kt_read_cmdline(getpid(), buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* The shim's setproctitle() (libbsd's name), found at run time. */
static void shim_setproctitle(const char *title)
{
	void (*set)(const char *, ...) = (void (*)(const char *, ...))dlsym(RTLD_DEFAULT,
									       "setproctitle");

	if (set)
		set("-%s", title);
}

static size_t area_size(void)
{
	return ((const struct kshare_sys_header *)area())->map_size;
}

/* Both copies of the library against the system calls. */
static int both_copies_right(void)
{
	KT_EXPECT(kshare_getpid() == syscall(SYS_getpid), "kshare_getpid");
	KT_EXPECT(kshare_getppid() == syscall(SYS_getppid), "kshare_getppid");
	KT_EXPECT(kshare_getuid() == (uid_t)syscall(SYS_getuid), "kshare_getuid");
	KT_EXPECT(getpid() == syscall(SYS_getpid), "getpid");
	KT_EXPECT(getppid() == syscall(SYS_getppid), "getppid");
	KT_EXPECT(getuid() == (uid_t)syscall(SYS_getuid), "getuid");
	return KT_PASS;
}

/* Where does @name resolve, and is that where this mode says? */
static int resolves_to(const char *name, const char *want)
{
	Dl_info info;
	void *sym = dlsym(RTLD_DEFAULT, name);

	KT_EXPECT(sym && dladdr(sym, &info) && info.dli_fname, "dladdr(%s)", name);
	KT_EXPECT(strstr(info.dli_fname, want), "%s comes from %s, not %s", name,
		  info.dli_fname, want);
	return KT_PASS;
}

static int kshare_libc_names_resolve_here(void)
{
	const char *lib = shim_mode ? "libkshare-preload" : "libc.so";

	KT_EXPECT(area(), "no kshare area");
	KT_EXPECT(kshare_available(KSHARE_FEATURE_PROC_PID), "libkshare.so not attached");
	KT_EXPECT(resolves_to("munmap", lib) == KT_PASS, "munmap");
	KT_EXPECT(resolves_to("mremap", lib) == KT_PASS, "mremap");
	KT_EXPECT(resolves_to("mmap", lib) == KT_PASS, "mmap");
	KT_EXPECT(resolves_to("mprotect", lib) == KT_PASS, "mprotect");
	KT_EXPECT(resolves_to("madvise", lib) == KT_PASS, "madvise");
	return KT_PASS;
}

/* The twin in libkshare.so detaches every copy (the shim's too). */
static int kshare_munmap_through_the_twin(void)
{
	KT_EXPECT(area(), "no kshare area");
	KT_EXPECT(both_copies_right() == KT_PASS, "before");
	KT_EXPECT(kshare_munmap(area(), area_size()) == 0, "kshare_munmap: %s", strerror(errno));
	return both_copies_right();
}

static int kshare_mprotect_through_the_twin(void)
{
	KT_EXPECT(area(), "no kshare area");
	KT_EXPECT(both_copies_right() == KT_PASS, "before");
	KT_EXPECT(kshare_mprotect(area(), area_size(), PROT_NONE) == 0, "kshare_mprotect: %s",
		  strerror(errno));
	return both_copies_right();
}

/* kshare_detach() in libkshare.so, then a raw munmap(): no copy faults. */
static int kshare_detach_reaches_every_copy(void)
{
	size_t size;

	KT_EXPECT(area(), "no kshare area");
	size = area_size();
	KT_EXPECT(both_copies_right() == KT_PASS, "before");
	kshare_detach();
	KT_EXPECT(syscall(SYS_munmap, area(), size) == 0, "munmap: %s", strerror(errno));
	return both_copies_right();
}

/*
 * The area unmapped behind the library's back before its first call (a
 * checkpoint/restore tool, a static libc): detaching, the twins and the
 * first call must not read the dead address.
 */
static int kshare_unmapped_before_the_first_call(void)
{
	size_t size;

	KT_EXPECT(area(), "no kshare area");
	size = area_size();
	KT_EXPECT(syscall(SYS_munmap, area(), size) == 0, "munmap: %s", strerror(errno));
	kshare_detach();
	KT_EXPECT(kshare_munmap(area(), size) == 0, "kshare_munmap: %s", strerror(errno));
	return both_copies_right();
}

static int kshare_unmapped_before_the_first_read(void)
{
	KT_EXPECT(area(), "no kshare area");
	KT_EXPECT(syscall(SYS_munmap, area(), area_size()) == 0, "munmap: %s", strerror(errno));
	return both_copies_right();
}

static int kshare_munmap_through_libc(void)
{
	KT_EXPECT(area(), "no kshare area");
	KT_EXPECT(both_copies_right() == KT_PASS, "before");
	KT_EXPECT(munmap(area(), area_size()) == 0, "munmap: %s", strerror(errno));
	return both_copies_right();
}

static int kshare_mremap_through_libc(void)
{
	size_t size;
	void *room, *to;

	KT_EXPECT(area(), "no kshare area");
	size = area_size();
	room = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	KT_EXPECT(room != MAP_FAILED, "mmap: %s", strerror(errno));
	to = mremap(area(), size, size, MREMAP_MAYMOVE | MREMAP_FIXED, room);
	KT_EXPECT(to == room, "mremap: %s", strerror(errno));
	return both_copies_right();
}

static int kshare_map_fixed_through_libc(void)
{
	size_t size;
	void *p;

	KT_EXPECT(area(), "no kshare area");
	size = area_size();
	p = mmap(area(), size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0);
	KT_EXPECT(p == area(), "mmap: %s", strerror(errno));
	memset(p, 0x5a, size);
	return both_copies_right();
}

static int kshare_prot_none_through_libc(void)
{
	KT_EXPECT(area(), "no kshare area");
	KT_EXPECT(mprotect(area(), area_size(), PROT_NONE) == 0, "mprotect: %s",
		  strerror(errno));
	return both_copies_right();
}

/*
 * The title page, mapped by libkshare.so's first title, unmapped through
 * its twin: the title moves to argv, the area stays in use, and neither
 * copy writes the page again.
 */
static int kshare_title_page_munmap_through_the_twin(void)
{
	char *title;

	KT_EXPECT(area(), "no kshare area");
	kshare_setproctitle("-%s", "twin title");
	title = title_page_now();
	KT_EXPECT(title && kt_maps_count("[kshare_title]") == 1, "no title page");
	KT_EXPECT(!strcmp(cmdline(), "twin title"), "cmdline '%s'", cmdline());
	KT_EXPECT(kshare_munmap(title, 4096) == 0, "kshare_munmap: %s", strerror(errno));
	KT_EXPECT(kt_maps_count("[kshare_title]") == 0, "[kshare_title] still mapped");
	KT_EXPECT(!strcmp(cmdline(), "twin title"), "the title was lost: '%s'", cmdline());
	KT_EXPECT(kshare_available(KSHARE_FEATURE_PROC_PID), "libkshare.so lost the area");
	kshare_setproctitle("-%s", "after, from libkshare.so");
	KT_EXPECT(!strcmp(cmdline(), "after, from libkshare.so"), "cmdline '%s'", cmdline());
	if (shim_mode) {
		shim_setproctitle("after, from the shim");
		KT_EXPECT(!strcmp(cmdline(), "after, from the shim"), "cmdline '%s'", cmdline());
	}
	KT_EXPECT(kt_maps_count("[kshare_title]") == 0, "a title page was mapped again");
	return both_copies_right();
}

/* Mapped by the shim's first title, unmapped through libkshare.so's twin. */
static int kshare_title_page_of_the_shim_munmap_through_the_twin(void)
{
	char *title;

	KT_EXPECT(area(), "no kshare area");
	shim_setproctitle("shim title");
	title = title_page_now();
	KT_EXPECT(title, "the shim mapped no title page");
	KT_EXPECT(!strcmp(cmdline(), "shim title"), "cmdline '%s'", cmdline());
	KT_EXPECT(kshare_munmap(title, 4096) == 0, "kshare_munmap: %s", strerror(errno));
	KT_EXPECT(!strcmp(cmdline(), "shim title"), "the title was lost: '%s'", cmdline());
	shim_setproctitle("shim, after");
	KT_EXPECT(!strcmp(cmdline(), "shim, after"), "cmdline '%s'", cmdline());
	return both_copies_right();
}

/* Mapped by libkshare.so's first title, unmapped through libc (the shim). */
static int kshare_title_page_munmap_through_libc(void)
{
	char *title;

	KT_EXPECT(area(), "no kshare area");
	kshare_setproctitle("-%s", "libkshare.so title");
	title = title_page_now();
	KT_EXPECT(title, "no title page");
	KT_EXPECT(munmap(title, 4096) == 0, "munmap: %s", strerror(errno));
	KT_EXPECT(!strcmp(cmdline(), "libkshare.so title"), "the title was lost: '%s'",
		  cmdline());
	kshare_setproctitle("-%s", "after");
	KT_EXPECT(!strcmp(cmdline(), "after"), "cmdline '%s'", cmdline());
	return both_copies_right();
}

static int child_right(void)
{
	return both_copies_right();
}

static int kshare_dontfork_through_libc(void)
{
	KT_EXPECT(area(), "no kshare area");
	KT_EXPECT(madvise(area(), area_size(), MADV_DONTFORK) == 0, "madvise: %s",
		  strerror(errno));
	KT_EXPECT(kt_in_child(child_right) == KT_PASS, "fork child");
	return both_copies_right();
}

int main(int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "plain") && strcmp(argv[1], "shim"))) {
		fprintf(stderr, "usage: unmap-check plain|shim\n");
		return 2;
	}
	shim_mode = !strcmp(argv[1], "shim");
	/*
	 * PLAIN, SHIM: the modes a test runs in. Only the shim interposes
	 * libc's names. The shim registered as the program loaded and reads
	 * the area from then on, so a raw munmap() before its first read is
	 * the fault the twins exist to avoid; libkshare.so alone registers at
	 * its first call, after the munmap.
	 */
	enum { PLAIN = 1, SHIM = 2, BOTH = 3 };
	static const struct {
		struct ktest t;
		int modes;
	} all[] = {
		{ KTEST(kshare_libc_names_resolve_here), BOTH },
		{ KTEST(kshare_munmap_through_the_twin), BOTH },
		{ KTEST(kshare_mprotect_through_the_twin), BOTH },
		{ KTEST(kshare_detach_reaches_every_copy), BOTH },
		{ KTEST(kshare_unmapped_before_the_first_call), BOTH },
		{ KTEST(kshare_unmapped_before_the_first_read), PLAIN },
		{ KTEST(kshare_title_page_munmap_through_the_twin), BOTH },
		{ KTEST(kshare_title_page_of_the_shim_munmap_through_the_twin), SHIM },
		{ KTEST(kshare_munmap_through_libc), SHIM },
		{ KTEST(kshare_mremap_through_libc), SHIM },
		{ KTEST(kshare_map_fixed_through_libc), SHIM },
		{ KTEST(kshare_prot_none_through_libc), SHIM },
		{ KTEST(kshare_dontfork_through_libc), SHIM },
		{ KTEST(kshare_title_page_munmap_through_libc), SHIM },
	};
	struct ktest tests[sizeof(all) / sizeof(all[0])];
	size_t i, n = 0;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i].modes & (shim_mode ? SHIM : PLAIN))
			tests[n++] = all[i].t;
	return kt_main(tests, n, 60);
}
