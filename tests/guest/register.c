// SPDX-License-Identifier: MIT
/*
 * Guest tests of the registration itself, prctl(PR_KSHARE, op, &map, 0, 0):
 * what PR_KSHARE_MAP, _GET, _MAP_TITLE and _UNMAP do, with and without
 * KSHARE_MAP_FIXED, across fork, exec and vfork; the requests the kernel
 * must refuse; and that processes that never register cost no kshare page.
 * Each test runs in a fork child of a parent that never registered, so it
 * starts unregistered. Run on a kernel without kshare, or with kshare
 * turned off, these tests fail: a test that expects an error first shows,
 * in a child, that a registration works here.
 *
 *   register                   the tests
 *   register --unregistered    exit 0 if this process is not registered
 *                              and has no [kshare] mapping (after exec)
 *   register --noreg           exit 0 at once: a process that never registers
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <kshare/kshare.h>

#include "ktest.h"

static const char *self_exe = "/proc/self/exe";

/* prctl(PR_KSHARE, @op) with a fresh request; the result in @map. */
static int request(int op, struct kshare_map *map)
{
	kt_map_init(map);
	return kt_kshare(op, map);
}

/* Whether a process here can register: in a child, so this one stays as it is. */
static int kshare_works(void)
{
	struct kshare_map map;
	pid_t pid = fork();

	if (pid == 0)
		_exit(request(PR_KSHARE_MAP, &map) == 0 && map.area ? 0 : 1);
	return pid > 0 && kt_wait(pid, "registering child") == 0;
}

#define EXPECT_KSHARE_WORKS() \
	KT_EXPECT(kshare_works(), "a child could not register: no kshare, or it is off")

/* This process is registered nowhere and maps nothing of kshare's. */
static int unregistered(void)
{
	struct kshare_map map;

	KT_EXPECT(request(PR_KSHARE_GET, &map) == -1 && errno == ENOENT, "GET: %s (area %#llx)",
		  strerror(errno), (unsigned long long)map.area);
	KT_EXPECT(kt_maps_count("[kshare]") == 0, "[kshare] mapped %d times",
		  kt_maps_count("[kshare]"));
	KT_EXPECT(kt_maps_count("[kshare_title]") == 0, "[kshare_title] mapped");
	return KT_PASS;
}

/* An address with @pages free pages at it (found, then given back). */
static char *free_address(size_t pages)
{
	void *p = mmap(NULL, pages * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p, pages * 4096);
	return p;
}

/* The start of the mapping named @name in /proc/self/maps, or 0. */
static uintptr_t mapped_at(const char *name)
{
	char line[512];
	unsigned long start = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strlen(line) >= strlen(name) &&
		    !strcmp(line + strlen(line) - strlen(name), name))
			sscanf(line, "%lx-", &start);
	}
	if (f)
		fclose(f);
	return start;
}

static int second_map_returns_the_same_area(void)
{
	struct kshare_map a, b;
	const struct kshare_sys_header *h;

	KT_EXPECT(request(PR_KSHARE_MAP, &a) == 0 && a.area, "MAP: %s", strerror(errno));
	KT_EXPECT(request(PR_KSHARE_MAP, &b) == 0, "second MAP: %s", strerror(errno));
	KT_EXPECT(a.area == b.area, "%#llx, then %#llx", (unsigned long long)a.area,
		  (unsigned long long)b.area);
	KT_EXPECT(!a.title && !b.title, "a title page without MAP_TITLE");
	KT_EXPECT(kt_maps_count("[kshare]") == 1, "[kshare] mapped %d times",
		  kt_maps_count("[kshare]"));
	KT_EXPECT(mapped_at("[kshare]") == a.area, "maps says %#lx",
		  (unsigned long)mapped_at("[kshare]"));
	h = (const void *)(uintptr_t)a.area;
	KT_EXPECT(h->magic == KSHARE_MAGIC && h->abi_version == KSHARE_ABI_VERSION,
		  "magic %#x abi %u", h->magic, h->abi_version);
	KT_EXPECT(a.features == h->features && b.features == h->features, "features");
	KT_EXPECT(!h->reserved, "reserved %u", h->reserved);
	/* The library registers too, and gets the same area. */
	KT_EXPECT(kshare_getpid() == (pid_t)syscall(SYS_getpid), "kshare_getpid");
	KT_EXPECT(kt_maps_count("[kshare]") == 1, "the library mapped another area");
	return KT_PASS;
}

/* A child that execs this program to check that it is unregistered. */
static int exec_finds_no_registration(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl(self_exe, "register", "--unregistered", (char *)NULL);
		_exit(KT_FAIL);
	}
	KT_EXPECT(pid > 0, "fork: %s", strerror(errno));
	return kt_wait(pid, "exec'd child");
}

/* GET maps nothing: a process fresh from exec is registered nowhere. */
static int get_before_map_after_exec(void)
{
	EXPECT_KSHARE_WORKS();
	return exec_finds_no_registration();
}

static int fixed_at_a_free_address(void)
{
	char *want = free_address(16);
	struct kshare_map map;

	KT_EXPECT(want, "no free address");
	kt_map_init(&map);
	map.flags = KSHARE_MAP_FIXED;
	map.area = (uintptr_t)want;
	KT_EXPECT(kt_kshare(PR_KSHARE_MAP, &map) == 0, "MAP FIXED at %p: %s", want,
		  strerror(errno));
	KT_EXPECT(map.area == (uintptr_t)want, "mapped at %#llx, asked %p",
		  (unsigned long long)map.area, want);
	KT_EXPECT(mapped_at("[kshare]") == (uintptr_t)want, "maps says %#lx",
		  (unsigned long)mapped_at("[kshare]"));
	KT_EXPECT(((const struct kshare_sys_header *)want)->magic == KSHARE_MAGIC, "magic");
	KT_EXPECT(request(PR_KSHARE_GET, &map) == 0 && map.area == (uintptr_t)want, "GET");
	KT_EXPECT(kshare_getpid() == (pid_t)syscall(SYS_getpid), "kshare_getpid");
	return KT_PASS;
}

/* MAP_FIXED_NOREPLACE's rule: what is there stays, untouched. */
static int fixed_over_a_mapping_is_refused(void)
{
	char *mine = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	struct kshare_map map;
	size_t i;

	EXPECT_KSHARE_WORKS();
	KT_EXPECT(mine != MAP_FAILED, "mmap");
	memset(mine, 0x5a, 4 * 4096);
	kt_map_init(&map);
	map.flags = KSHARE_MAP_FIXED;
	map.area = (uintptr_t)mine;
	KT_EXPECT(kt_kshare(PR_KSHARE_MAP, &map) == -1 && errno == EEXIST, "MAP FIXED: %s",
		  strerror(errno));
	for (i = 0; i < 4 * 4096; i++)
		KT_EXPECT((unsigned char)mine[i] == 0x5a, "byte %zu changed", i);
	/* Partly over it, too: the area's second page on our first. */
	map.area = (uintptr_t)mine - 4096;
	map.flags = KSHARE_MAP_FIXED;
	map.size = sizeof(map);
	KT_EXPECT(kt_kshare(PR_KSHARE_MAP, &map) == -1 && errno == EEXIST,
		  "MAP FIXED a page before: %s", strerror(errno));
	KT_EXPECT(mine[0] == 0x5a && mine[4095] == 0x5a, "our first page changed");
	return unregistered();
}

static int fixed_elsewhere_when_registered_is_refused(void)
{
	struct kshare_map map, first;
	char *other;

	KT_EXPECT(request(PR_KSHARE_MAP, &first) == 0, "MAP: %s", strerror(errno));
	other = free_address(16);
	KT_EXPECT(other, "no free address");
	kt_map_init(&map);
	map.flags = KSHARE_MAP_FIXED;
	map.area = (uintptr_t)other;
	KT_EXPECT(kt_kshare(PR_KSHARE_MAP, &map) == -1 && errno == EBUSY, "MAP FIXED: %s",
		  strerror(errno));
	KT_EXPECT(request(PR_KSHARE_GET, &map) == 0 && map.area == first.area, "GET after");
	KT_EXPECT(kt_maps_count("[kshare]") == 1, "[kshare] mapped %d times",
		  kt_maps_count("[kshare]"));
	return KT_PASS;
}

/* UNMAP ends the registration, title page and all; MAP starts a new one. */
static int unmap_then_map_again(void)
{
	struct kshare_map map;
	long areas_before = kt_debugfs_long("areas");

	KT_EXPECT(request(PR_KSHARE_MAP, &map) == 0, "MAP: %s", strerror(errno));
	KT_EXPECT(request(PR_KSHARE_MAP_TITLE, &map) == 0 && map.title, "MAP_TITLE: %s",
		  strerror(errno));
	KT_EXPECT(kt_debugfs_long("areas") == areas_before + 1, "debugfs areas %ld, was %ld",
		  kt_debugfs_long("areas"), areas_before);
	/* UNMAP takes no struct: prctl(PR_KSHARE, PR_KSHARE_UNMAP, 0, 0, 0). */
	KT_EXPECT(kt_kshare(PR_KSHARE_UNMAP, NULL) == 0, "UNMAP: %s", strerror(errno));
	KT_EXPECT(unregistered() == KT_PASS, "after UNMAP");
	KT_EXPECT(kt_debugfs_long("areas") == areas_before, "debugfs areas %ld, was %ld",
		  kt_debugfs_long("areas"), areas_before);
	KT_EXPECT(request(PR_KSHARE_MAP, &map) == 0 && map.area && !map.title, "MAP again: %s",
		  strerror(errno));
	KT_EXPECT(mapped_at("[kshare]") == map.area, "maps says %#lx",
		  (unsigned long)mapped_at("[kshare]"));
	KT_EXPECT(((const struct kshare_sys_header *)(uintptr_t)map.area)->magic == KSHARE_MAGIC,
		  "magic");
	return KT_PASS;
}

/*
 * munmap() of the area ends the registration, as UNMAP does. (What becomes
 * of a title page mapped beside it is not asserted here.)
 */
static int munmap_of_the_area_ends_the_registration(void)
{
	struct kshare_map map;
	const struct kshare_sys_header *h;

	KT_EXPECT(request(PR_KSHARE_MAP, &map) == 0, "MAP: %s", strerror(errno));
	h = (const void *)(uintptr_t)map.area;
	KT_EXPECT(munmap((void *)h, h->map_size) == 0, "munmap: %s", strerror(errno));
	KT_EXPECT(unregistered() == KT_PASS, "after munmap");
	KT_EXPECT(request(PR_KSHARE_MAP, &map) == 0 && map.area, "MAP again: %s",
		  strerror(errno));
	KT_EXPECT(((const struct kshare_sys_header *)(uintptr_t)map.area)->magic == KSHARE_MAGIC,
		  "magic");
	KT_EXPECT(kt_maps_count("[kshare]") == 1, "[kshare] mapped %d times",
		  kt_maps_count("[kshare]"));
	return KT_PASS;
}

/*
 * A fork child inherits the registration: the same addresses, its own
 * pages (its pid, another address space's id), without asking.
 */
static int fork_child_inherits_the_registration(void)
{
	struct kshare_map map;
	const struct kshare_proc_page *pp;
	uint64_t parent_serial;
	uint64_t area, title;
	int fds[2];
	pid_t pid;
	char why[160] = "";

	KT_EXPECT(request(PR_KSHARE_MAP, &map) == 0, "MAP: %s", strerror(errno));
	KT_EXPECT(request(PR_KSHARE_MAP_TITLE, &map) == 0 && map.title, "MAP_TITLE: %s",
		  strerror(errno));
	area = map.area;
	title = map.title;
	pp = (const void *)((const char *)(uintptr_t)area +
			    ((const struct kshare_sys_header *)(uintptr_t)area)->proc_offset);
	parent_serial = __atomic_load_n(&pp->mm_serial, __ATOMIC_RELAXED);
	KT_EXPECT(parent_serial != 0, "no mm_serial");
	KT_EXPECT(pipe(fds) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		uint64_t serial = __atomic_load_n(&pp->mm_serial, __ATOMIC_RELAXED);
		uint32_t valid = __atomic_load_n(&pp->valid, __ATOMIC_ACQUIRE);

		if (request(PR_KSHARE_GET, &map) || map.area != area || map.title != title)
			snprintf(why, sizeof(why), "GET: %s, area %#llx title %#llx",
				 strerror(errno), (unsigned long long)map.area,
				 (unsigned long long)map.title);
		else if (!(valid & KSHARE_PROC_VALID_PID) || pp->pid != (pid_t)syscall(SYS_getpid))
			snprintf(why, sizeof(why), "page pid %d valid %#x, getpid %ld", pp->pid,
				 valid, syscall(SYS_getpid));
		else if (!serial || serial == parent_serial)
			snprintf(why, sizeof(why), "mm_serial %llu, the parent's %llu",
				 (unsigned long long)serial, (unsigned long long)parent_serial);
		else if (kt_maps_count("[kshare]") != 1 || kt_maps_count("[kshare_title]") != 1)
			snprintf(why, sizeof(why), "maps");
		_exit(write(fds[1], why, sizeof(why)) == sizeof(why) && !why[0] ? 0 : 1);
	}
	KT_EXPECT(pid > 0, "fork: %s", strerror(errno));
	close(fds[1]);
	if (read(fds[0], why, sizeof(why)) != sizeof(why))
		snprintf(why, sizeof(why), "no report from the child");
	KT_EXPECT(kt_wait(pid, "fork child") == 0, "child: %s", why);
	KT_EXPECT(request(PR_KSHARE_GET, &map) == 0 && map.area == area && map.title == title,
		  "the parent's registration after the fork");
	return KT_PASS;
}

/* Threads share the address space, and so the registration. */
static void *get_in_thread(void *arg)
{
	struct kshare_map map;

	return request(PR_KSHARE_GET, &map) == 0 && map.area == *(uint64_t *)arg ? arg : NULL;
}

static int threads_share_the_registration(void)
{
	struct kshare_map map;
	pthread_t t;
	void *r = NULL;

	KT_EXPECT(request(PR_KSHARE_MAP, &map) == 0, "MAP: %s", strerror(errno));
	KT_EXPECT(pthread_create(&t, NULL, get_in_thread, &map.area) == 0, "pthread_create");
	pthread_join(t, &r);
	KT_EXPECT(r, "the thread's GET differs");
	return KT_PASS;
}

/* execve() ends it: the new program starts unregistered. */
static int exec_clears_the_registration(void)
{
	struct kshare_map map;

	KT_EXPECT(request(PR_KSHARE_MAP, &map) == 0, "MAP: %s", strerror(errno));
	KT_EXPECT(request(PR_KSHARE_MAP_TITLE, &map) == 0, "MAP_TITLE: %s", strerror(errno));
	return exec_finds_no_registration();
}

static int map_title_before_map_is_refused(void)
{
	struct kshare_map map;

	EXPECT_KSHARE_WORKS();
	KT_EXPECT(request(PR_KSHARE_MAP_TITLE, &map) == -1 && errno == ENOENT,
		  "MAP_TITLE: %s", strerror(errno));
	return unregistered();
}

static int map_title_twice_returns_the_same_page(void)
{
	struct kshare_map a, b, c;
	const struct kshare_sys_header *h;
	char title[64];

	KT_EXPECT(request(PR_KSHARE_MAP, &a) == 0, "MAP: %s", strerror(errno));
	h = (const void *)(uintptr_t)a.area;
	KT_EXPECT(request(PR_KSHARE_MAP_TITLE, &b) == 0 && b.title, "MAP_TITLE: %s",
		  strerror(errno));
	KT_EXPECT(request(PR_KSHARE_MAP_TITLE, &c) == 0, "second MAP_TITLE: %s", strerror(errno));
	KT_EXPECT(b.area == a.area && c.area == a.area, "MAP_TITLE gave another area");
	KT_EXPECT(b.title == c.title, "%#llx, then %#llx", (unsigned long long)b.title,
		  (unsigned long long)c.title);
	KT_EXPECT(kt_maps_count("[kshare_title]") == 1, "[kshare_title] mapped %d times",
		  kt_maps_count("[kshare_title]"));
	KT_EXPECT(mapped_at("[kshare_title]") == b.title, "maps says %#lx",
		  (unsigned long)mapped_at("[kshare_title]"));
	KT_EXPECT(b.title % 4096 == 0 && h->title_size == sizeof(struct kshare_title),
		  "title page %#llx, title_size %u", (unsigned long long)b.title, h->title_size);
	/* MAP and GET report it from now on. */
	KT_EXPECT(request(PR_KSHARE_MAP, &a) == 0 && a.title == b.title, "MAP's title");
	KT_EXPECT(request(PR_KSHARE_GET, &a) == 0 && a.title == b.title, "GET's title");
	/* The library's first title finds the same page. */
	kshare_setproctitle("-%s", "on the one page");
	KT_EXPECT(kt_maps_count("[kshare_title]") == 1, "the library mapped another");
	KT_EXPECT(kt_title_read((struct kshare_title *)(uintptr_t)b.title, title,
				sizeof(title)) == 15 && !strcmp(title, "on the one page"),
		  "the library's title is not on the page");
	return KT_PASS;
}

/* A vfork() child shares its parent's address space: it may not register it. */
static int vfork_child_may_not_register(void)
{
	static volatile int child_rc, child_errno;
	struct kshare_map map;
	pid_t pid;

	EXPECT_KSHARE_WORKS();
	pid = vfork();
	if (pid == 0) {
		kt_map_init(&map);
		child_rc = kt_kshare(PR_KSHARE_MAP, &map);
		child_errno = errno;
		_exit(0);
	}
	KT_EXPECT(pid > 0 && kt_wait(pid, "vfork child") == 0, "vfork: %s", strerror(errno));
	KT_EXPECT(child_rc == -1 && child_errno == EBUSY, "the child's MAP: %d, %s", child_rc,
		  strerror(child_errno));
	return unregistered();
}

/* Requests the kernel must refuse with EINVAL, registering nothing. */
struct bad_request {
	int op;
	unsigned int size, flags;
};

static int all_refused(const struct bad_request *r, size_t n)
{
	struct kshare_map map;
	size_t i;

	EXPECT_KSHARE_WORKS();
	for (i = 0; i < n; i++) {
		kt_map_init(&map);
		map.size = r[i].size;
		map.flags = r[i].flags;
		KT_EXPECT(kt_kshare(r[i].op, &map) == -1 && errno == EINVAL,
			  "op %d, size %u, flags %#x: %s", r[i].op, r[i].size, r[i].flags,
			  strerror(errno));
	}
	return unregistered();
}

#define ALL_REFUSED(...)                                                   \
	do {                                                               \
		static const struct bad_request r_[] = { __VA_ARGS__ };    \
		return all_refused(r_, sizeof(r_) / sizeof(r_[0]));        \
	} while (0)

#define SIZE ((unsigned int)sizeof(struct kshare_map))

static int bad_size_is_refused(void)
{
	ALL_REFUSED({ PR_KSHARE_MAP, 0, 0 }, { PR_KSHARE_MAP, 8, 0 },
		    { PR_KSHARE_MAP, KSHARE_MAP_SIZE_VER0 - 8, 0 },
		    { PR_KSHARE_MAP, KSHARE_MAP_SIZE_VER0 - 1, 0 },
		    { PR_KSHARE_GET, KSHARE_MAP_SIZE_VER0 - 8, 0 });
}

static int unknown_flag_is_refused(void)
{
	ALL_REFUSED({ PR_KSHARE_MAP, SIZE, 1u << 1 }, { PR_KSHARE_MAP, SIZE, 1u << 31 },
		    { PR_KSHARE_MAP, SIZE, KSHARE_MAP_FIXED | (1u << 7) });
}

static int unknown_op_is_refused(void)
{
	ALL_REFUSED({ 0, SIZE, 0 }, { 5, SIZE, 0 }, { 99, SIZE, 0 }, { -1, SIZE, 0 });
}

/*
 * A newer caller's larger struct: bytes the kernel does not know must be
 * zero (E2BIG or EINVAL otherwise, as clone3() and others say); zero, the
 * request is what the known part says.
 */
static int larger_struct_needs_a_zero_tail(void)
{
	struct {
		struct kshare_map map;
		uint64_t tail;
	} big;
	const struct kshare_sys_header *h;

	EXPECT_KSHARE_WORKS();
	memset(&big, 0, sizeof(big));
	big.map.size = sizeof(big);
	big.tail = 1;
	KT_EXPECT(kt_kshare(PR_KSHARE_MAP, &big.map) == -1 && (errno == E2BIG || errno == EINVAL),
		  "a non-zero tail: %s", strerror(errno));
	KT_EXPECT(unregistered() == KT_PASS, "after the refused request");
	memset(&big, 0, sizeof(big));
	big.map.size = sizeof(big);
	KT_EXPECT(kt_kshare(PR_KSHARE_MAP, &big.map) == 0 && big.map.area, "a zero tail: %s",
		  strerror(errno));
	h = (const void *)(uintptr_t)big.map.area;
	KT_EXPECT(h->magic == KSHARE_MAGIC, "magic %#x", h->magic);
	KT_EXPECT(big.tail == 0, "the kernel wrote past what it knows");
	return KT_PASS;
}

/*
 * Processes that never register make no kshare page and no registration:
 * 50 fork+exec'd programs that exit, and a child that moves to a UTS
 * namespace of its own and sets its hostname there. The test runner runs one
 * test at a time, so nothing else registers meanwhile.
 */
struct counts {
	long proc, uts, areas;
};

static void read_counts(struct counts *c)
{
	c->proc = kt_debugfs_long("proc_pages");
	c->uts = kt_debugfs_long("uts_pages");
	c->areas = kt_debugfs_long("areas");
}

/*
 * The counts once they hold still: the earlier tests' processes are gone,
 * but an exited address space may linger for a moment (a CPU's lazy TLB
 * reference), and its pages with it.
 */
static void settled_counts(struct counts *c)
{
	struct counts again;
	int i;

	read_counts(c);
	for (i = 0; i < 100; i++) {
		usleep(20000);
		read_counts(&again);
		if (!memcmp(c, &again, sizeof(again)))
			return;
		*c = again;
	}
}

static int unregistered_processes_cost_no_pages(void)
{
	struct counts before, after;
	pid_t pid;
	int i;

	settled_counts(&before);
	KT_EXPECT(before.proc >= 0 && before.uts >= 0 && before.areas >= 0,
		  "debugfs kshare/{proc_pages,uts_pages,areas}: %ld %ld %ld", before.proc,
		  before.uts, before.areas);
	for (i = 0; i < 50; i++) {
		pid = fork();
		if (pid == 0) {
			execl(self_exe, "register", "--noreg", (char *)NULL);
			_exit(KT_FAIL);
		}
		KT_EXPECT(pid > 0 && kt_wait(pid, "--noreg child") == 0, "child %d", i);
	}
	pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWUTS) || sethostname("kshare-noreg", 12))
			_exit(KT_FAIL);
		_exit(0);
	}
	KT_EXPECT(pid > 0 && kt_wait(pid, "unshare child") == 0, "unshare(CLONE_NEWUTS)");
	read_counts(&after);
	kt_diag("proc_pages %ld -> %ld, uts_pages %ld -> %ld, areas %ld -> %ld", before.proc,
		after.proc, before.uts, after.uts, before.areas, after.areas);
	KT_EXPECT(after.proc == before.proc && after.uts == before.uts &&
		  after.areas == before.areas, "unregistered processes changed kshare's counts");
	/* Last, so that its own pages are not counted: kshare is here and on. */
	EXPECT_KSHARE_WORKS();
	return KT_PASS;
}

int main(int argc, char **argv)
{
	static const struct ktest tests[] = {
		KTEST(second_map_returns_the_same_area),
		KTEST(get_before_map_after_exec),
		KTEST(fixed_at_a_free_address),
		KTEST(fixed_over_a_mapping_is_refused),
		KTEST(fixed_elsewhere_when_registered_is_refused),
		KTEST(unmap_then_map_again),
		KTEST(munmap_of_the_area_ends_the_registration),
		KTEST(fork_child_inherits_the_registration),
		KTEST(threads_share_the_registration),
		KTEST(exec_clears_the_registration),
		KTEST(map_title_before_map_is_refused),
		KTEST(map_title_twice_returns_the_same_page),
		KTEST(vfork_child_may_not_register),
		KTEST(bad_size_is_refused),
		KTEST(unknown_flag_is_refused),
		KTEST(unknown_op_is_refused),
		KTEST(larger_struct_needs_a_zero_tail),
		KTEST(unregistered_processes_cost_no_pages),
	};

	if (argc == 2 && !strcmp(argv[1], "--noreg"))
		return 0;
	if (argc == 2 && !strcmp(argv[1], "--unregistered"))
		return unregistered();
	return kt_main(tests, sizeof(tests) / sizeof(tests[0]), 120);
}
