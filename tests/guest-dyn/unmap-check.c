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
 *   unmap-check plain|shim
 *
 * Every test is named kshare_*: each needs the area, and fails without it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <kshare/kshare.h>

#include "../guest/ktest.h"

static int shim_mode;

static char *area(void)
{
	return (char *)getauxval(AT_KSHARE);
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

	KT_EXPECT(area(), "no AT_KSHARE");
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
	KT_EXPECT(area(), "no AT_KSHARE");
	KT_EXPECT(both_copies_right() == KT_PASS, "before");
	KT_EXPECT(kshare_munmap(area(), area_size()) == 0, "kshare_munmap: %s", strerror(errno));
	return both_copies_right();
}

static int kshare_mprotect_through_the_twin(void)
{
	KT_EXPECT(area(), "no AT_KSHARE");
	KT_EXPECT(both_copies_right() == KT_PASS, "before");
	KT_EXPECT(kshare_mprotect(area(), area_size(), PROT_NONE) == 0, "kshare_mprotect: %s",
		  strerror(errno));
	return both_copies_right();
}

/* kshare_detach() in libkshare.so, then a raw munmap(): no copy faults. */
static int kshare_detach_reaches_every_copy(void)
{
	size_t size;

	KT_EXPECT(area(), "no AT_KSHARE");
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

	KT_EXPECT(area(), "no AT_KSHARE");
	size = area_size();
	KT_EXPECT(syscall(SYS_munmap, area(), size) == 0, "munmap: %s", strerror(errno));
	kshare_detach();
	KT_EXPECT(kshare_munmap(area(), size) == 0, "kshare_munmap: %s", strerror(errno));
	return both_copies_right();
}

static int kshare_unmapped_before_the_first_read(void)
{
	KT_EXPECT(area(), "no AT_KSHARE");
	KT_EXPECT(syscall(SYS_munmap, area(), area_size()) == 0, "munmap: %s", strerror(errno));
	return both_copies_right();
}

static int kshare_munmap_through_libc(void)
{
	KT_EXPECT(area(), "no AT_KSHARE");
	KT_EXPECT(both_copies_right() == KT_PASS, "before");
	KT_EXPECT(munmap(area(), area_size()) == 0, "munmap: %s", strerror(errno));
	return both_copies_right();
}

static int kshare_mremap_through_libc(void)
{
	size_t size;
	void *room, *to;

	KT_EXPECT(area(), "no AT_KSHARE");
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

	KT_EXPECT(area(), "no AT_KSHARE");
	size = area_size();
	p = mmap(area(), size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0);
	KT_EXPECT(p == area(), "mmap: %s", strerror(errno));
	memset(p, 0x5a, size);
	return both_copies_right();
}

static int kshare_prot_none_through_libc(void)
{
	KT_EXPECT(area(), "no AT_KSHARE");
	KT_EXPECT(mprotect(area(), area_size(), PROT_NONE) == 0, "mprotect: %s",
		  strerror(errno));
	return both_copies_right();
}

static int child_right(void)
{
	return both_copies_right();
}

static int kshare_dontfork_through_libc(void)
{
	KT_EXPECT(area(), "no AT_KSHARE");
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
	static const struct ktest tests[] = {
		KTEST(kshare_libc_names_resolve_here),
		KTEST(kshare_munmap_through_the_twin),
		KTEST(kshare_mprotect_through_the_twin),
		KTEST(kshare_detach_reaches_every_copy),
		KTEST(kshare_unmapped_before_the_first_call),
		KTEST(kshare_unmapped_before_the_first_read),
		/* Only the shim interposes libc's names. */
		KTEST(kshare_munmap_through_libc),
		KTEST(kshare_mremap_through_libc),
		KTEST(kshare_map_fixed_through_libc),
		KTEST(kshare_prot_none_through_libc),
		KTEST(kshare_dontfork_through_libc),
	};
	const size_t n = sizeof(tests) / sizeof(tests[0]);

	return kt_main(tests, shim_mode ? n : n - 5, 60);
}
