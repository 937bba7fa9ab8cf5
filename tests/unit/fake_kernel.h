// SPDX-License-Identifier: MIT
/*
 * A pretend kernel for the registration, on the host: a seccomp filter hands
 * every prctl(PR_KSHARE, ...) of the process to a thread of its own
 * (SECCOMP_RET_USER_NOTIF), which answers as the kernel would, with an area
 * built in ordinary memory (header, process page with the pid it is given)
 * and a title page of its own, or with the kernel's errors, and counts the calls.
 * It does not see munmap(): what it answers is what the calls told it.
 * Used by registration_test.c and, as a preloaded library, by the host runs
 * of tests/guest-dyn/copies-check (fake_kernel_preload.c).
 */
#ifndef KSHARE_TEST_FAKE_KERNEL_H
#define KSHARE_TEST_FAKE_KERNEL_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <kshare/kshare.h>

#define PAGE 4096
#define SIM_PID 424242

/* Each process's registration, by thread group id. */
struct fake_proc {
	pid_t tgid;
	int registered, title_mapped;
};

/* What the pretend kernel does, and what it was asked. */
struct fake {
	int listener;
	int map_error;	     /* PR_KSHARE_MAP: this errno, or 0: the area */
	int busy_calls;	     /* ... EBUSY for this many calls first */
	int title_error;     /* PR_KSHARE_MAP_TITLE: this errno, or 0 */
	int registered, title_mapped; /* of a process it has not met, whose parent it has not met */
	int calls[5];	     /* per operation; [0]: requests the library should not send */
	char *area, *title;
	struct fake_proc procs[256];
	int nprocs;
};

static struct fake fake;

/* "Tgid:" or "PPid:" of /proc/@tid/status, or 0. */
static pid_t fake_status(pid_t tid, const char *key)
{
	char path[64], line[128];
	pid_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = (pid_t)atoi(line + strlen(key));
	if (f)
		fclose(f);
	return v;
}

static struct fake_proc *fake_find(pid_t tgid)
{
	int i;

	for (i = 0; i < fake.nprocs; i++)
		if (fake.procs[i].tgid == tgid)
			return &fake.procs[i];
	return NULL;
}

/*
 * The registration of the caller's process. A process met for the first
 * time inherits its parent's, as a fork child does (the pretend kernel
 * does not see fork(), nor exec(): it is for programs that fork only).
 */
static struct fake_proc *fake_proc_of(pid_t tid)
{
	const pid_t tgid = fake_status(tid, "Tgid:");
	struct fake_proc *p = fake_find(tgid), *parent;

	if (p || fake.nprocs == (int)(sizeof(fake.procs) / sizeof(fake.procs[0])))
		return p ? p : &fake.procs[0];
	parent = fake_find(fake_status(tgid, "PPid:"));
	p = &fake.procs[fake.nprocs++];
	p->tgid = tgid;
	p->registered = parent ? parent->registered : fake.registered;
	p->title_mapped = parent ? parent->title_mapped : fake.title_mapped;
	return p;
}

/*
 * The caller's struct kshare_map, in or out: the caller may be this process
 * or a fork child of it (the filter and its listener are inherited, the
 * answering thread is not), so through process_vm_readv/writev. A child
 * has the area and the title page at the same addresses, copies of its own.
 */
static int fake_copy(pid_t pid, uint64_t addr, struct kshare_map *map, int out)
{
	struct iovec local = { map, sizeof(*map) };
	struct iovec remote = { (void *)(uintptr_t)addr, sizeof(*map) };
	ssize_t n = out ? process_vm_writev(pid, &local, 1, &remote, 1, 0)
			: process_vm_readv(pid, &local, 1, &remote, 1, 0);

	return n == (ssize_t)sizeof(*map) ? 0 : -1;
}

static void answer(struct seccomp_notif *req, struct seccomp_notif_resp *resp)
{
	const unsigned long op = req->data.args[1];
	const uint64_t addr = req->data.args[2];
	struct kshare_map map;
	struct fake_proc *proc;
	int err = 0;

	resp->id = req->id;
	/* As the kernel: PR_KSHARE_UNMAP takes no struct, the others one. */
	if (op == PR_KSHARE_UNMAP && !addr) {
		__atomic_fetch_add(&fake.calls[op], 1, __ATOMIC_RELAXED);
		proc = fake_proc_of((pid_t)req->pid);
		proc->registered = proc->title_mapped = 0;
		resp->error = 0;
		return;
	}
	if (op < 1 || op > 3 || !addr || fake_copy((pid_t)req->pid, addr, &map, 0) ||
	    map.size != sizeof(map) || map.flags) {
		__atomic_fetch_add(&fake.calls[0], 1, __ATOMIC_RELAXED);
		resp->error = -EINVAL;
		return;
	}
	__atomic_fetch_add(&fake.calls[op], 1, __ATOMIC_RELAXED);
	proc = fake_proc_of((pid_t)req->pid);
	switch (op) {
	case PR_KSHARE_MAP:
		if (fake.busy_calls > 0) {
			fake.busy_calls--;
			err = EBUSY;
		} else if (fake.map_error) {
			err = fake.map_error;
		} else {
			proc->registered = 1;
		}
		break;
	case PR_KSHARE_GET:
		err = proc->registered ? 0 : ENOENT;
		break;
	case PR_KSHARE_MAP_TITLE:
		if (!proc->registered)
			err = ENOENT;
		else if (fake.title_error)
			err = fake.title_error;
		else
			proc->title_mapped = 1;
		break;
	}
	if (!err) {
		/* The caller waits in its system call until we answer. */
		map.area = (uintptr_t)fake.area;
		map.title = proc->title_mapped ? (uintptr_t)fake.title : 0;
		map.features = ((struct kshare_sys_header *)fake.area)->features;
		if (fake_copy((pid_t)req->pid, addr, &map, 1))
			err = EFAULT;
	}
	resp->error = -err;
}

/*
 * Calls of @op so far (0: bad requests). The answering thread and the
 * caller are ordered by the system call, which TSan cannot see: the counts
 * are atomic, and what the pretend kernel is to do is set before it starts.
 */
static __attribute__((unused)) int fake_calls(int op)
{
	return __atomic_load_n(&fake.calls[op], __ATOMIC_RELAXED);
}

static void *pretend_kernel(void *arg)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;

	(void)arg;
	for (;;) {
		memset(&req, 0, sizeof(req));
		if (ioctl(fake.listener, SECCOMP_IOCTL_NOTIF_RECV, &req))
			return NULL;
		memset(&resp, 0, sizeof(resp));
		answer(&req, &resp);
		ioctl(fake.listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

/*
 * An area as the kernel lays it out (header, process page saying @pid) and a
 * title page of its own; then the filter and the thread that answers
 * PR_KSHARE.
 */
static int start_fake(pid_t pid)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prctl, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PR_KSHARE, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(insns) / sizeof(insns[0]), insns };
	struct kshare_sys_header *h;
	struct kshare_proc_page *pp;
	pthread_t thread;

	fake.area = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	fake.title = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			  0);
	if (fake.area == MAP_FAILED || fake.title == MAP_FAILED)
		return -1;
	h = (struct kshare_sys_header *)fake.area;
	h->magic = KSHARE_MAGIC;
	h->abi_version = KSHARE_ABI_VERSION;
	h->header_size = sizeof(*h);
	h->map_size = 2 * PAGE;
	h->features = KSHARE_FEATURE_PROC_PID | KSHARE_FEATURE_TITLE;
	h->proc_offset = PAGE;
	h->proc_size = sizeof(*pp);
	h->title_size = sizeof(struct kshare_title);
	pp = (struct kshare_proc_page *)(fake.area + PAGE);
	pp->pid = pid;
	pp->mm_serial = 7;
	pp->valid = KSHARE_PROC_VALID_PID;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	fake.listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				     SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fake.listener < 0)
		return -1;
	return pthread_create(&thread, NULL, pretend_kernel, NULL) ? -1 : 0;
}

#endif /* KSHARE_TEST_FAKE_KERNEL_H */
