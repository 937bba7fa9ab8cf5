// SPDX-License-Identifier: MIT
/*
 * Guest tests of what a process, or another process, can do to the kshare
 * area: unmap, move, overlay, protect and madvise it, fork after that, dump
 * core, and reach it through ptrace, /proc/PID/mem and process_vm_*. The
 * kernel must refuse what would break the pages' promises and survive the
 * rest, and the library must fall back to the system calls wherever the
 * pages are gone. Run on a kernel without kshare, these tests fail.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <sys/utsname.h>

#include <kshare/kshare.h>

#include "ktest.h"

/*
 * The area and the title page this process registered (ktest.h), each
 * asked for once and remembered, as the library remembers them: after the
 * tests below unmap or move them, these still say where they were. A test
 * that forks children to look at them asks for both first, so that the
 * children inherit them at the same addresses.
 */
static const struct kshare_sys_header *header(void)
{
	return kt_header();
}

static char *area(void)
{
	return (char *)header();
}

static const struct kshare_proc_page *proc_page_at(const char *base)
{
	return (const void *)(base + header()->proc_offset);
}

static char *title_page(void)
{
	return (char *)kt_title_page();
}

/* The title page's mapping: one page (title_size is its record's size). */
static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* Every library call against its system call: what a detached library owes. */
static int same_as_syscalls(void)
{
	struct utsname mine, theirs;
	uint32_t r[3], s[3];
	char host[HOST_NAME_MAX + 1];

	KT_EXPECT(kshare_getpid() == syscall(SYS_getpid), "getpid");
	KT_EXPECT(kshare_getppid() == syscall(SYS_getppid), "getppid");
	KT_EXPECT(kshare_gettid() == syscall(SYS_gettid), "gettid");
	KT_EXPECT(kshare_getpgrp() == syscall(SYS_getpgid, 0), "getpgrp");
	KT_EXPECT(kshare_getsid(0) == syscall(SYS_getsid, 0), "getsid");
	KT_EXPECT(kshare_getuid() == syscall(SYS_getuid), "getuid");
	KT_EXPECT(kshare_getegid() == syscall(SYS_getegid), "getegid");
	KT_EXPECT(kshare_getresuid(r, r + 1, r + 2) == 0 &&
		  syscall(SYS_getresuid, s, s + 1, s + 2) == 0 && !memcmp(r, s, sizeof(r)),
		  "getresuid");
	KT_EXPECT(kshare_uname(&mine) == 0 && syscall(SYS_uname, &theirs) == 0 &&
		  !memcmp(&mine, &theirs, sizeof(mine)), "uname");
	KT_EXPECT(kshare_gethostname(host, sizeof(host)) == 0 &&
		  !strcmp(host, theirs.nodename), "gethostname %s", host);
	KT_EXPECT(kshare_get_nprocs() == get_nprocs(), "get_nprocs %d", kshare_get_nprocs());
	return KT_PASS;
}

/* Is there a mapping named @name in /proc/self/maps? */
static int mapped(const char *name)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, name))
			found = 1;
	fclose(f);
	return found;
}

/* /proc/PID/cmdline of @pid, up to its first NUL. */
static const char *cmdline_of(pid_t pid)
{
	static char buf[4200];
	ssize_t n = kt_read_cmdline(pid, buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return n < 0 ? "<unreadable>" : buf;
}

static int unmapped_area_falls_back(void)
{
	const struct kshare_sys_header *h = header();
	struct kshare_map map;

	KT_EXPECT(h, "no kshare area");
	kshare_setproctitle("-%s", "title before munmap");
	KT_EXPECT(kshare_available(KSHARE_FEATURE_PROC_PID), "attached before");
	KT_EXPECT(kshare_munmap(area(), h->map_size) == 0, "munmap: %s", strerror(errno));
	KT_EXPECT(mapped("[kshare]") == 0, "[kshare] still mapped");
	kt_map_init(&map);
	KT_EXPECT(kt_kshare(PR_KSHARE_GET, &map) == -1 && errno == ENOENT,
		  "still registered after munmap: %s", strerror(errno));
	KT_EXPECT(!kshare_available(0), "still attached after munmap");
	KT_EXPECT(same_as_syscalls() == KT_PASS, "after munmap");
	KT_EXPECT(!strcmp(cmdline_of(getpid()), "title before munmap"),
		  "the title was lost: '%s'", cmdline_of(getpid()));
	kshare_setproctitle("-%s", "title after munmap");
	KT_EXPECT(!strcmp(cmdline_of(getpid()), "title after munmap"),
		  "cmdline '%s'", cmdline_of(getpid()));
	return KT_PASS;
}

/*
 * The title page alone: the library carries the title over into argv and
 * keeps reading the area; the kernel shows argv again, and the area stays
 * registered without a title page.
 */
static int unmapped_title_page_falls_back_to_argv(void)
{
	const struct kshare_sys_header *h = header();
	struct kshare_map map;

	KT_EXPECT(h, "no kshare area");
	kshare_setproctitle("-%s", "title on the page");
	KT_EXPECT(title_page() && mapped("[kshare_title]") == 1, "no title page");
	KT_EXPECT(kshare_munmap(title_page(), page_size()) == 0, "munmap: %s",
		  strerror(errno));
	KT_EXPECT(mapped("[kshare_title]") == 0, "[kshare_title] still mapped");
	KT_EXPECT(mapped("[kshare]") == 1, "the area went with the title page");
	KT_EXPECT(kshare_available(KSHARE_FEATURE_PROC_PID), "detached from the area");
	KT_EXPECT(proc_page_at(area())->pid == getpid(), "the area after the title page");
	KT_EXPECT(same_as_syscalls() == KT_PASS, "after munmap of the title page");
	KT_EXPECT(!strcmp(cmdline_of(getpid()), "title on the page"),
		  "the title was lost: '%s'", cmdline_of(getpid()));
	kshare_setproctitle("-%s", "title in argv");
	KT_EXPECT(!strcmp(cmdline_of(getpid()), "title in argv"), "cmdline '%s'",
		  cmdline_of(getpid()));
	KT_EXPECT(mapped("[kshare_title]") == 0, "the library mapped a title page again");
	kt_map_init(&map);
	KT_EXPECT(kt_kshare(PR_KSHARE_GET, &map) == 0 && map.area == (uintptr_t)h && !map.title,
		  "GET: %s, area %#llx title %#llx", strerror(errno),
		  (unsigned long long)map.area, (unsigned long long)map.title);
	return KT_PASS;
}

/* A title page made read-only: titles go to argv, nothing faults. */
static int read_only_title_page_falls_back_to_argv(void)
{
	const struct kshare_sys_header *h = header();

	KT_EXPECT(h, "no kshare area");
	kshare_setproctitle("-%s", "title on the page");
	KT_EXPECT(title_page(), "no title page");
	KT_EXPECT(kshare_mprotect(title_page(), page_size(), PROT_READ) == 0, "mprotect: %s",
		  strerror(errno));
	KT_EXPECT(kshare_available(KSHARE_FEATURE_PROC_PID), "detached from the area");
	kshare_setproctitle("-%s", "title in argv");
	KT_EXPECT(!strcmp(cmdline_of(getpid()), "title in argv"), "cmdline '%s'",
		  cmdline_of(getpid()));
	return same_as_syscalls();
}

/* The kernel never splits the area: a partial munmap fails, nothing lost. */
static int partial_munmap_is_refused(void)
{
	const struct kshare_sys_header *h = header();

	KT_EXPECT(h, "no kshare area");
	KT_EXPECT(syscall(SYS_munmap, area() + 4096, 4096) == -1 && errno == EINVAL,
		  "partial munmap: %s", strerror(errno));
	KT_EXPECT(mapped("[kshare]") == 1, "[kshare] gone");
	KT_EXPECT(kshare_getpid() == syscall(SYS_getpid), "getpid");
	KT_EXPECT(kshare_available(KSHARE_FEATURE_PROC_PID), "detached for nothing");
	return KT_PASS;
}

/* Room for @len bytes nobody else uses, away from the area. */
static char *reserve(size_t len)
{
	void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * mremap moves the area: the library falls back, and the kernel serves the
 * pages at their new address (both the read-only area and the title page,
 * moved on its own, whose title /proc/PID/cmdline still shows).
 */
static int moved_area_falls_back_and_still_works(void)
{
	const struct kshare_sys_header *h = header();
	size_t size = h ? h->map_size : 0;
	char *to = reserve(size + 4096), *title, *old_title;
	const struct kshare_proc_page *moved_proc;
	struct kshare_title *t;
	void *moved;

	KT_EXPECT(h, "no kshare area");
	/* Where things are, read before the header moves away. */
	old_title = title_page();
	KT_EXPECT(old_title, "no title page");
	moved_proc = (const void *)(to + h->proc_offset);
	KT_EXPECT(to, "reserve");
	KT_EXPECT(syscall(SYS_mremap, area(), size, size + 4096, 0) == -1,
		  "the area grew");
	moved = kshare_mremap(area(), size, size, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	KT_EXPECT(moved == to, "mremap: %s", strerror(errno));
	KT_EXPECT(!kshare_available(0), "still attached after mremap");
	KT_EXPECT(same_as_syscalls() == KT_PASS, "after mremap");
	KT_EXPECT(moved_proc->pid == getpid(), "moved page says pid %d", moved_proc->pid);
	KT_EXPECT(((const struct kshare_sys_header *)to)->magic == KSHARE_MAGIC, "moved header");

	/* The title page on its own, written by hand at its new address. */
	title = kshare_mremap(old_title, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED,
			      to + size);
	KT_EXPECT(title == to + size, "mremap title: %s", strerror(errno));
	t = (struct kshare_title *)title;
	kt_title_write(t, "written after the move");
	KT_EXPECT(!strcmp(cmdline_of(getpid()), "written after the move"), "cmdline '%s'",
		  cmdline_of(getpid()));
	return KT_PASS;
}

/* MAP_FIXED over the area: the library must not read the new memory. */
static int overlaid_area_falls_back(void)
{
	const struct kshare_sys_header *h = header();
	size_t size = h ? h->map_size : 0;
	void *p;

	KT_EXPECT(h, "no kshare area");
	p = kshare_mmap(area(), size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	KT_EXPECT(p == area(), "mmap: %s", strerror(errno));
	memset(p, 0x5a, size); /* garbage where the pages were */
	KT_EXPECT(same_as_syscalls() == KT_PASS, "after MAP_FIXED");
	return KT_PASS;
}

static int unreadable_area_falls_back(void)
{
	const struct kshare_sys_header *h = header();
	size_t size = h ? h->map_size : 0;

	KT_EXPECT(h, "no kshare area");
	KT_EXPECT(kshare_mprotect(area(), size, PROT_NONE) == 0, "mprotect: %s",
		  strerror(errno));
	KT_EXPECT(same_as_syscalls() == KT_PASS, "after PROT_NONE");
	/* Readable again, never writable: VM_MAYWRITE was never there. */
	KT_EXPECT(mprotect(area(), size, PROT_READ) == 0, "back to PROT_READ");
	KT_EXPECT(mprotect(area(), size, PROT_READ | PROT_WRITE) == -1 && errno == EACCES,
		  "PROT_WRITE: %s", strerror(errno));
	KT_EXPECT(proc_page_at(area())->pid == getpid(), "page after PROT_NONE and back");
	return KT_PASS;
}

/* Advice that drops or ages pages: the kernel faults the same pages back. */
static int madvise_keeps_the_pages(void)
{
	static const int advice[] = { MADV_DONTNEED, MADV_COLD, MADV_PAGEOUT, MADV_WILLNEED,
				      MADV_FREE, MADV_REMOVE, MADV_DONTDUMP, MADV_DODUMP,
				      MADV_NOHUGEPAGE, MADV_RANDOM, MADV_NORMAL };
	const struct kshare_sys_header *h = header();
	size_t i;

	KT_EXPECT(h, "no kshare area");
	kshare_setproctitle("-%s", "kept through madvise");
	for (i = 0; i < sizeof(advice) / sizeof(advice[0]); i++) {
		/* Errors are fine (EINVAL for some); losing anything is not. */
		(void)kshare_madvise(area(), h->map_size, advice[i]);
		(void)kshare_madvise(title_page(), 4096, advice[i]);
		KT_EXPECT(kshare_available(KSHARE_FEATURE_PROC_PID), "detached by advice %d",
			  advice[i]);
		KT_EXPECT(proc_page_at(area())->pid == getpid(), "advice %d", advice[i]);
		KT_EXPECT(!strcmp(cmdline_of(getpid()), "kept through madvise"),
			  "advice %d: cmdline '%s'", advice[i], cmdline_of(getpid()));
		KT_EXPECT(same_as_syscalls() == KT_PASS, "advice %d", advice[i]);
	}
	return KT_PASS;
}

/* In a fork child: the area is gone, and the library knows it. */
static int child_without_the_area(void)
{
	KT_EXPECT(mapped("[kshare]") == 0, "the child has [kshare]");
	KT_EXPECT(same_as_syscalls() == KT_PASS, "in the child");
	kshare_setproctitle("-%s", "child title");
	KT_EXPECT(!strcmp(cmdline_of(getpid()), "child title"), "cmdline '%s'",
		  cmdline_of(getpid()));
	return KT_PASS;
}

static int fork_after_dontfork(void)
{
	const struct kshare_sys_header *h = header();

	KT_EXPECT(h, "no kshare area");
	KT_EXPECT(kshare_madvise(area(), h->map_size, MADV_DONTFORK) == 0, "madvise: %s",
		  strerror(errno));
	KT_EXPECT(kt_in_child(child_without_the_area) == KT_PASS, "child");
	KT_EXPECT(mapped("[kshare]") == 1, "the parent lost [kshare]");
	return same_as_syscalls();
}

/*
 * In a fork child of a parent whose mappings lost VM_WIPEONFORK, so that
 * fork() copied their PTEs: the child must read its own pages, and its
 * title must not reach its parent's.
 */
static int child_with_its_own_pages(void)
{
	pid_t seen = proc_page_at(area())->pid;

	KT_EXPECT(seen == getpid(), "the child's page says pid %d: its parent's", seen);
	KT_EXPECT(same_as_syscalls() == KT_PASS, "in the child");
	kshare_setproctitle("-%s", "child title");
	KT_EXPECT(!strcmp(cmdline_of(getpid()), "child title"), "cmdline '%s'",
		  cmdline_of(getpid()));
	KT_EXPECT(!strcmp(cmdline_of(getppid()), "parent title"),
		  "the child's title reached its parent: '%s'", cmdline_of(getppid()));
	return KT_PASS;
}

static int fork_after_keeponfork(void)
{
	const struct kshare_sys_header *h = header();

	KT_EXPECT(h, "no kshare area");
	kshare_setproctitle("-%s", "parent title");
	KT_EXPECT(title_page(), "no title page");
	/* Both pages faulted in, so that there are PTEs to copy. */
	KT_EXPECT(proc_page_at(area())->pid == getpid(), "parent's pid");
	KT_EXPECT(kshare_madvise(area(), h->map_size, MADV_KEEPONFORK) == 0,
		  "madvise(MADV_KEEPONFORK): %s", strerror(errno));
	KT_EXPECT(kshare_madvise(title_page(), page_size(), MADV_KEEPONFORK) == 0,
		  "madvise(MADV_KEEPONFORK) on the title page: %s", strerror(errno));
	KT_EXPECT(kt_in_child(child_with_its_own_pages) == KT_PASS, "child");
	KT_EXPECT(!strcmp(cmdline_of(getpid()), "parent title"), "parent cmdline '%s'",
		  cmdline_of(getpid()));
	return same_as_syscalls();
}

static int fork_after_munmap(void)
{
	const struct kshare_sys_header *h = header();
	size_t map_size;
	char *title;

	KT_EXPECT(h, "no kshare area");
	kshare_setproctitle("-%s", "parent title");
	/* Read before the area goes. */
	title = title_page();
	map_size = h->map_size;
	KT_EXPECT(title, "no title page");
	/* The area, then the title page: the library gives both up at the first. */
	KT_EXPECT(kshare_munmap(area(), map_size) == 0, "munmap: %s", strerror(errno));
	KT_EXPECT(kshare_munmap(title, page_size()) == 0, "munmap of the title page: %s",
		  strerror(errno));
	KT_EXPECT(mapped("[kshare_title]") == 0, "[kshare_title] still mapped");
	KT_EXPECT(kt_in_child(child_without_the_area) == KT_PASS, "child");
	KT_EXPECT(!strcmp(cmdline_of(getpid()), "parent title"), "parent cmdline '%s'",
		  cmdline_of(getpid()));
	return same_as_syscalls();
}

/* Read the ELF core at @path: is the proc page at @proc in it, saying @pid? */
static int core_holds_pid(const char *path, uintptr_t proc, pid_t pid)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd = open(path, O_RDONLY), i, found = 0;

	KT_EXPECT(fd >= 0, "%s: %s", path, strerror(errno));
	KT_EXPECT(pread(fd, &eh, sizeof(eh), 0) == sizeof(eh) && eh.e_type == ET_CORE,
		  "not an ELF core");
	for (i = 0; i < eh.e_phnum; i++) {
		pid_t seen;

		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) != sizeof(ph))
			break;
		if (ph.p_type != PT_LOAD || proc < ph.p_vaddr ||
		    proc + sizeof(pid_t) > ph.p_vaddr + ph.p_filesz)
			continue;
		/* The pid is the page's first field after the valid bits, wherever. */
		if (pread(fd, &seen, sizeof(seen), ph.p_offset + (proc - ph.p_vaddr) +
			  offsetof(struct kshare_proc_page, pid)) == sizeof(seen))
			found = seen == pid;
	}
	close(fd);
	KT_EXPECT(found, "no segment of the core holds the proc page with pid %d", pid);
	return KT_PASS;
}

static int core_dump_with_the_area(void)
{
	const struct kshare_sys_header *h = header();
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	char path[64];
	int status;
	pid_t pid;

	KT_EXPECT(h, "no kshare area");
	KT_EXPECT(kt_write_file("/proc/sys/kernel/core_pattern", "/tmp/kshare-core.%p") == 0,
		  "core_pattern: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &unlimited);
		kshare_setproctitle("-%s", "about to dump core");
		(void)kshare_getpid(); /* fault the proc page in */
		signal(SIGABRT, SIG_DFL);
		abort();
	}
	KT_EXPECT(pid > 0 && waitpid(pid, &status, 0) == pid, "waitpid");
	KT_EXPECT(WIFSIGNALED(status) && WCOREDUMP(status), "status %#x: no core", status);
	snprintf(path, sizeof(path), "/tmp/kshare-core.%d", pid);
	status = core_holds_pid(path, (uintptr_t)proc_page_at(area()), pid);
	unlink(path);
	return status;
}

/* A stopped, traced child of the caller; the same layout as the caller. */
static pid_t traced_child(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		kshare_setproctitle("-%s", "traced");
		(void)kshare_getpid();
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		raise(SIGSTOP);
		_exit(0);
	}
	if (pid > 0 && waitpid(pid, NULL, WUNTRACED) != pid)
		return -1;
	return pid;
}

/*
 * Even a tracer cannot write the read-only pages, nor reach the title page
 * through ptrace or /proc/PID/mem (VM_IO): only the process itself writes
 * it, and other processes see it through /proc/PID/cmdline.
 */
static int tracer_cannot_write_or_reach_the_title(void)
{
	char *pid_field = (char *)&proc_page_at(area())->pid, mem[64], buf[8];
	char *title = title_page(); /* before the fork: the child's is at the same place */
	pid_t pid = traced_child();
	long word;
	int fd, rc = KT_FAIL;

	KT_EXPECT(header() && title, "no kshare area or title page");
	KT_EXPECT(pid > 0, "traced child");
	errno = 0;
	word = ptrace(PTRACE_PEEKDATA, pid, pid_field, NULL);
	if (errno || (pid_t)word != pid) {
		kt_diag("PEEKDATA of the proc page: %ld (%s)", word, strerror(errno));
		goto out;
	}
	if (ptrace(PTRACE_POKEDATA, pid, pid_field, (void *)1L) != -1) {
		kt_diag("POKEDATA wrote the proc page");
		goto out;
	}
	errno = 0;
	if (ptrace(PTRACE_PEEKDATA, pid, title, NULL) != -1 || errno != EIO) {
		kt_diag("PEEKDATA of the title page: %s", strerror(errno));
		goto out;
	}
	snprintf(mem, sizeof(mem), "/proc/%d/mem", pid);
	fd = open(mem, O_RDWR);
	if (fd < 0) {
		kt_diag("%s: %s", mem, strerror(errno));
		goto out;
	}
	if (pwrite(fd, "x", 1, (off_t)(uintptr_t)pid_field) != -1 ||
	    pwrite(fd, "x", 1, (off_t)(uintptr_t)title) != -1 ||
	    pread(fd, buf, 1, (off_t)(uintptr_t)title) != -1) {
		kt_diag("/proc/%d/mem reached the pages", pid);
		close(fd);
		goto out;
	}
	close(fd);
	if (strcmp(cmdline_of(pid), "traced")) {
		kt_diag("cmdline '%s'", cmdline_of(pid));
		goto out;
	}
	rc = KT_PASS;
out:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return rc;
}

static pid_t victim;

/* As another user: nothing beyond what ptrace rules allow, cmdline aside. */
static int as_other_user(void)
{
	struct iovec local, remote;
	char buf[16], mem[64];

	KT_EXPECT(setgid(1001) == 0 && setuid(1001) == 0, "setuid: %s", strerror(errno));
	local = (struct iovec){ buf, sizeof(buf) };
	remote = (struct iovec){ (void *)&proc_page_at(area())->pid, sizeof(pid_t) };
	KT_EXPECT(process_vm_readv(victim, &local, 1, &remote, 1, 0) == -1 && errno == EPERM,
		  "process_vm_readv of the proc page: %s", strerror(errno));
	remote.iov_base = title_page();
	KT_EXPECT(process_vm_readv(victim, &local, 1, &remote, 1, 0) == -1 && errno == EPERM,
		  "process_vm_readv of the title page: %s", strerror(errno));
	KT_EXPECT(process_vm_writev(victim, &local, 1, &remote, 1, 0) == -1 && errno == EPERM,
		  "process_vm_writev of the title page: %s", strerror(errno));
	snprintf(mem, sizeof(mem), "/proc/%d/mem", victim);
	KT_EXPECT(open(mem, O_RDONLY) == -1 && errno == EACCES, "%s: %s", mem, strerror(errno));
	KT_EXPECT(ptrace(PTRACE_ATTACH, victim, NULL, NULL) == -1 && errno == EPERM,
		  "PTRACE_ATTACH: %s", strerror(errno));
	KT_EXPECT(!strcmp(cmdline_of(victim), "victim title"), "cmdline '%s'",
		  cmdline_of(victim));
	return KT_PASS;
}

/* As the same user, allowed to ptrace: the title page is still out of reach. */
static int as_same_user(void)
{
	struct iovec local, remote;
	pid_t seen = 0;

	KT_EXPECT(setgid(1000) == 0 && setuid(1000) == 0, "setuid: %s", strerror(errno));
	local = (struct iovec){ &seen, sizeof(seen) };
	remote = (struct iovec){ (void *)&proc_page_at(area())->pid, sizeof(pid_t) };
	KT_EXPECT(process_vm_readv(victim, &local, 1, &remote, 1, 0) == sizeof(seen) &&
		  seen == victim, "process_vm_readv of the proc page: %s, pid %d",
		  strerror(errno), seen);
	KT_EXPECT(process_vm_writev(victim, &local, 1, &remote, 1, 0) == -1 && errno == EFAULT,
		  "process_vm_writev of the proc page: %s", strerror(errno));
	remote.iov_base = title_page();
	KT_EXPECT(process_vm_readv(victim, &local, 1, &remote, 1, 0) == -1 && errno == EFAULT,
		  "process_vm_readv of the title page: %s", strerror(errno));
	KT_EXPECT(process_vm_writev(victim, &local, 1, &remote, 1, 0) == -1 && errno == EFAULT,
		  "process_vm_writev of the title page: %s", strerror(errno));
	return KT_PASS;
}

static int other_processes_follow_ptrace_rules(void)
{
	int ready[2], rc;
	char c;

	/* Both before the fork: the victim and the checkers share the layout. */
	KT_EXPECT(header() && title_page(), "no kshare area or title page");
	KT_EXPECT(pipe(ready) == 0, "pipe");
	victim = fork();
	if (victim == 0) {
		if (setgid(1000) || setuid(1000))
			_exit(1);
		/* setuid() made it undumpable: ptrace by its own user is allowed again. */
		prctl(PR_SET_DUMPABLE, 1);
		kshare_setproctitle("-%s", "victim title");
		(void)kshare_getpid();
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	KT_EXPECT(victim > 0 && read(ready[0], &c, 1) == 1, "victim");
	rc = kt_in_child(as_other_user);
	if (rc == KT_PASS)
		rc = kt_in_child(as_same_user);
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	return rc;
}

KTEST_MAIN(120,
	   KTEST(unmapped_area_falls_back),
	   KTEST(unmapped_title_page_falls_back_to_argv),
	   KTEST(read_only_title_page_falls_back_to_argv),
	   KTEST(partial_munmap_is_refused),
	   KTEST(moved_area_falls_back_and_still_works),
	   KTEST(overlaid_area_falls_back),
	   KTEST(unreadable_area_falls_back),
	   KTEST(madvise_keeps_the_pages),
	   KTEST(fork_after_dontfork),
	   KTEST(fork_after_keeponfork),
	   KTEST(fork_after_munmap),
	   KTEST(core_dump_with_the_area),
	   KTEST(tracer_cannot_write_or_reach_the_title),
	   KTEST(other_processes_follow_ptrace_rules))
