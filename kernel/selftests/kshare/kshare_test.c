// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of kshare (CONFIG_KSHARE): the read-only [kshare] area that the
 * kernel maps at exec and announces as AT_KSHARE, with the system page
 * (header, uname names, CPU count) and the process page (ids), and the
 * writable [kshare_title] page that /proc/PID/cmdline shows.
 *
 * Only the uapi header is used, and the read protocols it documents. Every
 * test needs the area: on a kernel without kshare they all fail.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/auxvec.h>
#include <linux/kshare.h>

#include "../kselftest_harness.h"

/* Bound on the retries of a sequence-counted read in a quiet process. */
#define READ_TRIES	1000

static const char sysctl_enabled[] = "/proc/sys/kernel/kshare_enabled";

static unsigned long page_size(void)
{
	return (unsigned long)sysconf(_SC_PAGESIZE);
}

static __u32 load_acquire(const __u32 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/*
 * The fixture: the area from the auxiliary vector and its records, where
 * the header says they are. Setup fails on a kernel without kshare.
 */
FIXTURE(kshare)
{
	const struct kshare_sys_header *h;
	const struct kshare_proc_page *proc;
	const struct kshare_uts *uts;
	struct kshare_title *title;
};

FIXTURE_SETUP(kshare)
{
	unsigned long area = getauxval(AT_KSHARE);

	ASSERT_NE(0UL, area)
		TH_LOG("no AT_KSHARE in the auxiliary vector: is CONFIG_KSHARE=y?");
	self->h = (const void *)area;
	ASSERT_EQ(KSHARE_MAGIC, self->h->magic);
	ASSERT_EQ(KSHARE_ABI_VERSION, self->h->abi_version);
	self->proc = (const void *)(area + self->h->proc_offset);
	self->uts = (const void *)(area + self->h->uts_offset);
	self->title = (void *)(area + self->h->title_offset);
}

FIXTURE_TEARDOWN(kshare)
{
}

/* The /proc/self/maps line of the mapping that starts at @start. */
static int maps_line(unsigned long start, char *line, size_t size)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	if (!f)
		return 0;
	while (fgets(line, size, f)) {
		if (strtoul(line, NULL, 16) == start) {
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

/* Whether any mapping of this process is named [kshare] or [kshare_title]. */
static int maps_mention_kshare(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[kshare"))
			found = 1;
	fclose(f);
	return found;
}

TEST_F(kshare, header)
{
	const struct kshare_sys_header *h = self->h;
	unsigned long area = (unsigned long)h, ps = page_size();
	const __u64 want = KSHARE_FEATURE_PROC_PID | KSHARE_FEATURE_PROC_PPID |
			      KSHARE_FEATURE_PROC_PGID_SID | KSHARE_FEATURE_PROC_CREDS |
			      KSHARE_FEATURE_PROC_TID_CACHE | KSHARE_FEATURE_UTS |
			      KSHARE_FEATURE_NPROCS | KSHARE_FEATURE_TITLE;
	char line[512];

	ASSERT_EQ(0UL, area % ps);
	ASSERT_GE(h->header_size, sizeof(*h));
	/* the system page and the process page, at least */
	ASSERT_GE(h->map_size, 2 * ps);
	ASSERT_EQ(0UL, h->map_size % ps);
	EXPECT_EQ(want, h->features & want);

	/* every record inside the read-only area, after the header */
	ASSERT_GE(h->proc_offset, h->header_size);
	ASSERT_EQ(0, h->proc_offset % 8);
	ASSERT_GE(h->proc_size, sizeof(struct kshare_proc_page));
	ASSERT_LE(h->proc_size, h->map_size - h->proc_offset);
	ASSERT_GE(h->uts_offset, h->header_size);
	ASSERT_EQ(0, h->uts_offset % 8);
	ASSERT_GE(h->uts_size, sizeof(struct kshare_uts));
	ASSERT_LE(h->uts_size, h->map_size - h->uts_offset);

	/* the title page follows, in a page of its own */
	ASSERT_GE(h->title_offset, h->map_size);
	ASSERT_EQ(0, h->title_offset % ps);
	ASSERT_GT(h->title_size, sizeof(struct kshare_title));
	ASSERT_LE(h->title_size, ps);

	/* /proc/self/maps names both mappings, with their protections */
	ASSERT_TRUE(maps_line(area, line, sizeof(line)))
		TH_LOG("no mapping at the area's address %#lx", area);
	EXPECT_EQ(area + h->map_size, strtoul(strchr(line, '-') + 1, NULL, 16));
	EXPECT_NE(NULL, strstr(line, " r--p "))
		TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "[kshare]"))
		TH_LOG("%s", line);
	ASSERT_TRUE(maps_line(area + h->title_offset, line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, " rw-"))
		TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "[kshare_title]"))
		TH_LOG("%s", line);
}

/* A single-word field of the process page: its bit, then the value. */
static int proc_field(const struct kshare_proc_page *p, __u32 bit, const __s32 *field,
		      __s32 *out)
{
	if (!(load_acquire(&p->valid) & bit))
		return 0;
	*out = __atomic_load_n(field, __ATOMIC_RELAXED);
	return 1;
}

struct creds {
	__u32 uid, euid, suid, fsuid, gid, egid, sgid, fsgid;
};

/*
 * The credentials record under cred_seq: the counter (even), the record
 * with its validity bit, a read barrier, the counter again, unchanged.
 * 1 with @c filled, 0 if the record is not valid, -1 if never consistent.
 */
static int read_creds(const struct kshare_proc_page *p, struct creds *c)
{
	int i;

	for (i = 0; i < READ_TRIES; i++) {
		__u32 seq = load_acquire(&p->cred_seq), valid;

		if (seq & 1)
			continue;
		valid = __atomic_load_n(&p->valid, __ATOMIC_RELAXED);
		c->uid = __atomic_load_n(&p->uid, __ATOMIC_RELAXED);
		c->euid = __atomic_load_n(&p->euid, __ATOMIC_RELAXED);
		c->suid = __atomic_load_n(&p->suid, __ATOMIC_RELAXED);
		c->fsuid = __atomic_load_n(&p->fsuid, __ATOMIC_RELAXED);
		c->gid = __atomic_load_n(&p->gid, __ATOMIC_RELAXED);
		c->egid = __atomic_load_n(&p->egid, __ATOMIC_RELAXED);
		c->sgid = __atomic_load_n(&p->sgid, __ATOMIC_RELAXED);
		c->fsgid = __atomic_load_n(&p->fsgid, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&p->cred_seq, __ATOMIC_RELAXED) != seq)
			continue;
		return (valid & KSHARE_PROC_VALID_CREDS) ? 1 : 0;
	}
	return -1;
}

static void kernel_creds(struct creds *c)
{
	syscall(SYS_getresuid, &c->uid, &c->euid, &c->suid);
	syscall(SYS_getresgid, &c->gid, &c->egid, &c->sgid);
	/* an invalid id changes nothing and returns the current one */
	c->fsuid = (__u32)setfsuid(-1);
	c->fsgid = (__u32)setfsgid(-1);
}

/* A field of the process page against what its system call returns. */
static const char *field_mismatch(const struct kshare_proc_page *p, __u32 bit,
				  const __s32 *field, long sys, const char *name)
{
	static char why[128];
	__s32 v;

	if (!proc_field(p, bit, field, &v))
		snprintf(why, sizeof(why), "%s not valid", name);
	else if (v != sys)
		snprintf(why, sizeof(why), "%s %d, system call %ld", name, v, sys);
	else
		return NULL;
	return why;
}

/* NULL if every id the page holds equals the system call's; else the first miss. */
static const char *ids_mismatch(const struct kshare_proc_page *p)
{
	static char why[256];
	struct creds page, sys;
	const char *miss;

	miss = field_mismatch(p, KSHARE_PROC_VALID_PID, &p->pid, syscall(SYS_getpid), "pid");
	if (!miss)
		miss = field_mismatch(p, KSHARE_PROC_VALID_PPID, &p->ppid, syscall(SYS_getppid),
				      "ppid");
	if (!miss)
		miss = field_mismatch(p, KSHARE_PROC_VALID_PGID, &p->pgid, syscall(SYS_getpgid, 0),
				      "pgid");
	if (!miss)
		miss = field_mismatch(p, KSHARE_PROC_VALID_SID, &p->sid, syscall(SYS_getsid, 0),
				      "sid");
	if (miss)
		return miss;
	switch (read_creds(p, &page)) {
	case 0:
		return "credentials not valid";
	case -1:
		return "credentials: no consistent read";
	}
	kernel_creds(&sys);
	if (memcmp(&page, &sys, sizeof(page))) {
		snprintf(why, sizeof(why),
			 "ids %u %u %u %u / %u %u %u %u, kernel %u %u %u %u / %u %u %u %u",
			 page.uid, page.euid, page.suid, page.fsuid, page.gid, page.egid,
			 page.sgid, page.fsgid, sys.uid, sys.euid, sys.suid, sys.fsuid, sys.gid,
			 sys.egid, sys.sgid, sys.fsgid);
		return why;
	}
	return NULL;
}

TEST_F(kshare, ids_equal_syscalls)
{
	const char *miss = ids_mismatch(self->proc);

	ASSERT_EQ(NULL, miss)
		TH_LOG("%s", miss);
	EXPECT_NE(0, self->proc->mm_serial);
}

/*
 * In a child (the harness makes each test a process group leader, which
 * cannot call setsid()): the page follows setsid() and, as root, a change
 * of every id.
 */
TEST_F(kshare, ids_follow_changes)
{
	int status, pipefd[2];
	char why[256] = "";
	pid_t child;

	ASSERT_EQ(NULL, ids_mismatch(self->proc));
	ASSERT_EQ(0, pipe(pipefd));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		const char *miss = NULL;

		close(pipefd[0]);
		if (setsid() < 0)
			miss = "setsid() failed";
		else
			miss = ids_mismatch(self->proc);
		if (!miss && geteuid() == 0) {
			if (setresgid(11, 12, 13) || setresuid(21, 22, 23))
				miss = "setresgid()/setresuid() failed";
			else
				miss = ids_mismatch(self->proc);
		}
		if (miss)
			dprintf(pipefd[1], "%s", miss);
		_exit(miss ? 1 : 0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], why, sizeof(why) - 1) < 0)
		why[0] = '\0';
	close(pipefd[0]);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("after setsid() and setresuid(): %s", why);
	if (geteuid() != 0)
		SKIP(return, "not root: only setsid() tested");
}

static void *thread_tid(void *arg)
{
	const struct kshare_proc_page *p = arg;

	if (!(load_acquire(&p->valid) & KSHARE_PROC_VALID_TID_CACHE))
		return (void *)1;
	if (syscall(SYS_gettid) == syscall(SYS_getpid))
		return (void *)2;
	return NULL;
}

/*
 * The page has no thread id: it says when a thread may cache its own, and
 * the main thread's is the pid it holds.
 */
TEST_F(kshare, tid)
{
	pthread_t t;
	void *ret;
	__s32 pid;

	ASSERT_TRUE(self->h->features & KSHARE_FEATURE_PROC_TID_CACHE);
	ASSERT_TRUE(load_acquire(&self->proc->valid) & KSHARE_PROC_VALID_TID_CACHE);
	ASSERT_TRUE(proc_field(self->proc, KSHARE_PROC_VALID_PID, &self->proc->pid, &pid));
	ASSERT_EQ(syscall(SYS_gettid), pid);
	/* pthread_create() gives its thread TLS of its own: the bit stays */
	ASSERT_EQ(0, pthread_create(&t, NULL, thread_tid, (void *)self->proc));
	ASSERT_EQ(0, pthread_join(t, &ret));
	ASSERT_EQ(NULL, ret)
		TH_LOG("thread: %s", ret == (void *)1 ? "TID_CACHE bit clear" : "tid == pid");
	ASSERT_NE(0, load_acquire(&self->proc->valid) & KSHARE_PROC_VALID_TID_CACHE);
}

/* A fork child has pages of its own: its pid, its parent, a new serial. */
TEST_F(kshare, fork_child_sees_its_pid)
{
	__u64 serial = self->proc->mm_serial;
	pid_t parent = getpid(), child;
	__s32 v;
	int status;

	ASSERT_TRUE(proc_field(self->proc, KSHARE_PROC_VALID_PID, &self->proc->pid, &v));
	ASSERT_EQ(parent, v);
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		__s32 pid = 0, ppid = 0;

		if (!proc_field(self->proc, KSHARE_PROC_VALID_PID, &self->proc->pid, &pid) ||
		    pid != getpid() || pid == parent)
			_exit(1);
		if (!proc_field(self->proc, KSHARE_PROC_VALID_PPID, &self->proc->ppid, &ppid) ||
		    ppid != parent)
			_exit(2);
		if (self->proc->mm_serial == serial || self->proc->mm_serial == 0)
			_exit(3);
		_exit(ids_mismatch(self->proc) ? 4 : 0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("the child's %s", WEXITSTATUS(status) == 1 ? "pid" :
		       WEXITSTATUS(status) == 2 ? "ppid" :
		       WEXITSTATUS(status) == 3 ? "mm_serial" : "ids");
	/* and the parent's page still shows the parent */
	ASSERT_TRUE(proc_field(self->proc, KSHARE_PROC_VALID_PID, &self->proc->pid, &v));
	ASSERT_EQ(parent, v);
	ASSERT_EQ(serial, self->proc->mm_serial);
}

/* The UTS record under its seq: 1 with @u filled, -1 if never consistent. */
static int read_uts(const struct kshare_uts *s, struct kshare_uts *u)
{
	int i;

	for (i = 0; i < READ_TRIES; i++) {
		__u32 seq = load_acquire(&s->seq);

		if (seq & 1)
			continue;
		memcpy(u, (const void *)s, sizeof(*u));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) == seq)
			return 1;
	}
	return -1;
}

static const char *uts_mismatch(const struct kshare_proc_page *p, const struct kshare_uts *s)
{
	static char why[640];
	struct kshare_uts u;
	struct utsname k;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (!(load_acquire(&p->valid) & KSHARE_PROC_VALID_UTS))
		return "process page does not vouch for the system page";
	if (read_uts(s, &u) < 0)
		return "no consistent read of the UTS record";
	if ((u.valid & (KSHARE_UTS_VALID_NAMES | KSHARE_UTS_VALID_NPROCS)) !=
	    (KSHARE_UTS_VALID_NAMES | KSHARE_UTS_VALID_NPROCS))
		return "names or CPU count not valid";
	if (syscall(SYS_uname, &k))
		return "uname() failed";
	if (strcmp(u.sysname, k.sysname) || strcmp(u.release, k.release) ||
	    strcmp(u.version, k.version) || strcmp(u.machine, k.machine) ||
	    strcmp(u.nodename, k.nodename) || strcmp(u.domainname, k.domainname)) {
		snprintf(why, sizeof(why), "page %s %s %s %s, uname %s %s %s %s", u.nodename,
			 u.domainname, u.release, u.machine, k.nodename, k.domainname, k.release,
			 k.machine);
		return why;
	}
	if ((long)u.nr_cpus_online != cpus) {
		snprintf(why, sizeof(why), "CPUs: page %u, sysconf %ld", u.nr_cpus_online, cpus);
		return why;
	}
	return NULL;
}

/* The system page follows sethostname() in a UTS namespace of our own. */
TEST_F(kshare, uts_follows_sethostname)
{
	static const char host[] = "kshare-selftest", domain[] = "kshare.example";
	const char *miss = uts_mismatch(self->proc, self->uts);
	struct kshare_uts u;
	__u64 gen;

	ASSERT_EQ(NULL, miss)
		TH_LOG("%s", miss);
	/* as root a UTS namespace, else one in a user namespace of our own */
	if (unshare(CLONE_NEWUTS) && unshare(CLONE_NEWUSER | CLONE_NEWUTS))
		SKIP(return, "cannot unshare the UTS namespace: %s", strerror(errno));
	miss = uts_mismatch(self->proc, self->uts);
	ASSERT_EQ(NULL, miss)
		TH_LOG("after unshare(): %s", miss);
	ASSERT_EQ(1, read_uts(self->uts, &u));
	gen = u.generation;

	ASSERT_EQ(0, sethostname(host, strlen(host)));
	ASSERT_EQ(0, setdomainname(domain, strlen(domain)));
	ASSERT_EQ(1, read_uts(self->uts, &u));
	EXPECT_STREQ(host, u.nodename);
	EXPECT_STREQ(domain, u.domainname);
	EXPECT_NE(gen, u.generation);
	miss = uts_mismatch(self->proc, self->uts);
	ASSERT_EQ(NULL, miss)
		TH_LOG("after sethostname(): %s", miss);
}

/* Write @text (NULL: clear) to the title page with its writer protocol. */
static void write_title(struct kshare_title *t, size_t title_size, const char *text)
{
	__u32 seq = __atomic_load_n(&t->seq, __ATOMIC_RELAXED) & ~1U;
	size_t len = text ? strlen(text) : 0;

	if (len > title_size - sizeof(*t) - 1)
		len = title_size - sizeof(*t) - 1;
	/* odd: the kernel will not use what it reads now */
	__atomic_store_n(&t->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (text)
		memcpy(t->title, text, len);
	t->title[len] = '\0';
	t->len = len;
	t->flags = text ? KSHARE_TITLE_SET : 0;
	__atomic_store_n(&t->seq, seq + 2, __ATOMIC_RELEASE);
}

static ssize_t read_cmdline(char *buf, size_t size)
{
	int fd = open("/proc/self/cmdline", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size);
	close(fd);
	return n;
}

/* A title written to the page is what /proc/self/cmdline shows. */
TEST_F(kshare, title_shows_in_cmdline)
{
	static const char title[] = "kshare selftest: a title";
	char before[4096], buf[4096];
	ssize_t n0, n;

	n0 = read_cmdline(before, sizeof(before));
	ASSERT_LT(0, n0);
	write_title(self->title, self->h->title_size, title);
	n = read_cmdline(buf, sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(title), n)
		TH_LOG("cmdline '%.*s'", (int)(n > 0 ? n : 0), buf);
	ASSERT_EQ(0, memcmp(buf, title, sizeof(title)));

	/* cleared: the arguments again */
	write_title(self->title, self->h->title_size, NULL);
	n = read_cmdline(buf, sizeof(buf));
	ASSERT_EQ(n0, n);
	ASSERT_EQ(0, memcmp(buf, before, n));
}

/* The read-only area stays read-only. */
TEST_F(kshare, area_cannot_be_made_writable)
{
	void *area = (void *)self->h;
	size_t size = self->h->map_size;
	__u32 magic = self->h->magic;
	pid_t child;
	int status, fd;

	ASSERT_NE(0, mprotect(area, size, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	ASSERT_NE(0, mprotect(area, page_size(), PROT_WRITE));

	/* nor through /proc/self/mem, which may write read-only mappings */
	fd = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_NE((ssize_t)sizeof(magic), pwrite(fd, "XXXX", 4, (off_t)(uintptr_t)area));
	close(fd);
	ASSERT_EQ(KSHARE_MAGIC, self->h->magic);

	/* a plain store faults */
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		__atomic_store_n((__u32 *)area, 0, __ATOMIC_RELAXED);
		_exit(0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(SIGSEGV, WTERMSIG(status));
	ASSERT_EQ(magic, self->h->magic);
}

/* Exec ourselves; the child's exit status says whether it had the area. */
static int exec_child_has_area(void)
{
	pid_t child = fork();
	int status;

	if (child == 0) {
		execl("/proc/self/exe", "kshare_test", "--report-area", NULL);
		_exit(100);
	}
	if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int write_sysctl(const char *value)
{
	int fd = open(sysctl_enabled, O_WRONLY), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
	close(fd);
	return ok ? 0 : -1;
}

/*
 * kernel.kshare_enabled=0: a new exec gets no area, no AT_KSHARE, no
 * mappings; =1 gives it back. Needs root, and the sysctl, which a kernel
 * without kshare does not have.
 */
TEST_F(kshare, sysctl_disabled_gives_no_area)
{
	char old[8] = "1";
	int fd, off, on;

	fd = open(sysctl_enabled, O_RDONLY);
	ASSERT_LE(0, fd)
		TH_LOG("%s: %s", sysctl_enabled, strerror(errno));
	ASSERT_LT(0, read(fd, old, sizeof(old) - 1));
	close(fd);
	if (geteuid() != 0)
		SKIP(return, "not root: cannot write %s", sysctl_enabled);
	ASSERT_EQ(1, exec_child_has_area());

	ASSERT_EQ(0, write_sysctl("0"));
	off = exec_child_has_area();
	ASSERT_EQ(0, write_sysctl("1"));
	on = exec_child_has_area();
	write_sysctl(old);
	EXPECT_EQ(0, off)
		TH_LOG("with kshare_enabled=0 the exec'd child %s", off == 1 ? "had the area" :
		       off == 2 ? "had AT_KSHARE but no mapping" : "failed");
	EXPECT_EQ(1, on);
}

/* The exec'd child: 1 if it has the area, 0 if not, 2 if half of it. */
static int report_area(void)
{
	unsigned long area = getauxval(AT_KSHARE);
	int maps = maps_mention_kshare();

	if (area && maps == 1)
		return 1;
	if (!area && maps == 0)
		return 0;
	return 2;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--report-area"))
		return report_area();
	return test_harness_run(argc, argv);
}
