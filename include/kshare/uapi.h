/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef _UAPI_LINUX_KSHARE_H
#define _UAPI_LINUX_KSHARE_H

/*
 * kshare: pages the kernel keeps up to date for each process, so that it can
 * read its own identity without a system call.
 *
 * A process asks for them: prctl(PR_KSHARE, PR_KSHARE_MAP, &map, 0, 0) maps
 * one read-only area, named "[kshare]" in /proc/PID/maps, and returns its
 * start in map.area; asked again, it returns the same area, so that every
 * copy of a library in the process finds the one area. The area starts with
 * the system page, whose header describes where everything else is.
 * Readers must check the magic and ABI version, and must use the offsets and
 * sizes from the header rather than assume them: records grow at their end.
 * The writable title page is a separate request, PR_KSHARE_MAP_TITLE. A
 * child of fork() inherits the registration, with pages of its own;
 * execve() ends it.
 *
 * A value is only to be trusted while its validity bit is set. A clear bit
 * means "ask the kernel": the system call gives the answer. A page that
 * reads as all zeroes is therefore always safe.
 */

#include <linux/types.h>

#define KSHARE_MAGIC		0x5248534bU	/* "KSHR" in memory order */
#define KSHARE_ABI_VERSION	2

/* kshare_sys_header.features: what this kernel maintains. */
#define KSHARE_FEATURE_PROC_PID	(1ULL << 0)	/* kshare_proc_page.pid */
#define KSHARE_FEATURE_PROC_PPID (1ULL << 1)	/* ... .ppid */
#define KSHARE_FEATURE_PROC_PGID_SID (1ULL << 2) /* ... .pgid and .sid */
#define KSHARE_FEATURE_PROC_CREDS (1ULL << 3)	/* ... .cred_seq to .fsgid */
#define KSHARE_FEATURE_PROC_TID_CACHE (1ULL << 4) /* KSHARE_PROC_VALID_TID_CACHE */
#define KSHARE_FEATURE_UTS	(1ULL << 5)	/* struct kshare_uts names */
#define KSHARE_FEATURE_NPROCS	(1ULL << 6)	/* kshare_uts.nr_cpus_online */
#define KSHARE_FEATURE_TITLE	(1ULL << 7)	/* struct kshare_title */

/**
 * struct kshare_sys_header - start of the system page, and of the area
 * @magic:	KSHARE_MAGIC.
 * @abi_version: KSHARE_ABI_VERSION; incremented only for incompatible
 *		changes, which readers must refuse.
 * @header_size: sizeof(struct kshare_sys_header) as the kernel knows it.
 * @map_size:	size in bytes of the whole read-only area.
 * @features:	KSHARE_FEATURE_* bits for the records this kernel keeps.
 * @proc_offset: offset of struct kshare_proc_page from the area's start.
 * @proc_size:	sizeof(struct kshare_proc_page) as the kernel knows it.
 * @uts_offset:	offset of struct kshare_uts from the area's start.
 * @uts_size:	sizeof(struct kshare_uts) as the kernel knows it.
 * @reserved:	zero. The title page is not part of the area: it is a
 *		mapping of its own, "[kshare_title]", that the process may
 *		write, made by PR_KSHARE_MAP_TITLE at the address it returns.
 * @title_size:	sizeof(struct kshare_title) as the kernel knows it.
 */
struct kshare_sys_header {
	__u32 magic;
	__u32 abi_version;
	__u32 header_size;
	__u32 map_size;
	__u64 features;
	__u32 proc_offset;
	__u32 proc_size;
	__u32 uts_offset;
	__u32 uts_size;
	__u32 reserved;
	__u32 title_size;
};

/* kshare_map.flags */
#define KSHARE_MAP_FIXED	(1U << 0)	/* at @area or @title, or fail */

/**
 * struct kshare_map - argument of prctl(PR_KSHARE, op, &map, 0, 0)
 * @area:	out: start of the [kshare] area. In, with KSHARE_MAP_FIXED and
 *		PR_KSHARE_MAP: where to map it; the call fails with EEXIST
 *		rather than replace a mapping there.
 * @title:	out: start of the [kshare_title] page, 0 if it is not mapped.
 *		In, with KSHARE_MAP_FIXED and PR_KSHARE_MAP_TITLE: where.
 * @size:	in: sizeof(struct kshare_map) as the caller knows it, at least
 *		KSHARE_MAP_SIZE_VER0. The kernel reads and writes no more, and
 *		refuses non-zero bytes it does not know.
 * @flags:	in: KSHARE_MAP_* bits.
 * @features:	out: KSHARE_FEATURE_* bits this kernel maintains.
 *
 * The operations, all per address space:
 * PR_KSHARE_MAP	map the area unless it is mapped; fill @area, @title,
 *			@features. A second call returns the same area (EBUSY
 *			if KSHARE_MAP_FIXED asks for another address).
 * PR_KSHARE_GET	the same, without mapping anything: ENOENT if none.
 * PR_KSHARE_MAP_TITLE	also map the title page, unless it is mapped.
 * PR_KSHARE_UNMAP	unmap both and end the registration. munmap() of the
 *			area ends it too; the title page, a mapping of its
 *			own, stays until it is unmapped.
 *
 * Errors: EINVAL for an unknown operation, flag or size (and from a kernel
 * without kshare, which knows no PR_KSHARE); ENODEV when kshare is turned
 * off (kshare=off, kernel.kshare_enabled); EBUSY for PR_KSHARE_MAP and
 * PR_KSHARE_MAP_TITLE in a vfork() child, whose parent's address space it
 * is not to map into.
 */
struct kshare_map {
	__u64 area;
	__u64 title;
	__u32 size;
	__u32 flags;
	__u64 features;
};

#define KSHARE_MAP_SIZE_VER0	32

#define KSHARE_UTS_LEN		65	/* __NEW_UTS_LEN + 1 */

/* kshare_uts.valid */
#define KSHARE_UTS_VALID_NAMES	(1U << 0)
#define KSHARE_UTS_VALID_NPROCS	(1U << 1)

/**
 * struct kshare_uts - what uname() returns, and the online CPU count
 * @seq:	sequence counter of the whole record: odd while the kernel
 *		rewrites it. Read it, then the record, then (after a read
 *		barrier) the counter again, and retry if it was odd or moved.
 * @valid:	KSHARE_UTS_VALID_* bits, part of the record. NPROCS is clear
 *		while a CPU is being brought up or taken down.
 * @generation:	changes whenever anything in the record changes, so that
 *		a caller can tell cheaply that its copy is still current.
 *		Never reused, not even by another namespace's page: a
 *		process that moves to another namespace sees it change.
 * @nr_cpus_online: number of online CPUs, what get_nprocs() counts.
 * @reserved:	zero.
 * @sysname:	as in struct new_utsname, NUL-terminated.
 * @nodename:	the hostname.
 * @release:	as in struct new_utsname.
 * @version:	as in struct new_utsname.
 * @machine:	as in struct new_utsname.
 * @domainname:	the NIS domain name.
 *
 * The system page is one per UTS namespace: the names are those of the
 * namespace the owner of the address space is in. Whether that is the
 * calling process's namespace, and whether uname() would show the names
 * unchanged (personalities such as UNAME26 or PER_LINUX32 alter them), is
 * told by KSHARE_PROC_VALID_UTS in the process page.
 */
struct kshare_uts {
	__u32 seq;
	__u32 valid;
	__u64 generation;
	__u32 nr_cpus_online;
	__u32 reserved;
	char sysname[KSHARE_UTS_LEN];
	char nodename[KSHARE_UTS_LEN];
	char release[KSHARE_UTS_LEN];
	char version[KSHARE_UTS_LEN];
	char machine[KSHARE_UTS_LEN];
	char domainname[KSHARE_UTS_LEN];
};

/* kshare_proc_page.valid: which fields hold the current answer. */
#define KSHARE_PROC_VALID_PID	(1U << 0)
#define KSHARE_PROC_VALID_PPID	(1U << 1)
#define KSHARE_PROC_VALID_PGID	(1U << 2)
#define KSHARE_PROC_VALID_SID	(1U << 3)
#define KSHARE_PROC_VALID_CREDS	(1U << 4)	/* read under @cred_seq */
#define KSHARE_PROC_VALID_TID_CACHE (1U << 5)
#define KSHARE_PROC_VALID_UTS	(1U << 6)	/* struct kshare_uts is ours */

/**
 * struct kshare_proc_page - one per address space, read-only
 * @valid:	KSHARE_PROC_VALID_* bits. The kernel publishes a field before
 *		setting its bit (release); readers load @valid with acquire
 *		semantics before reading the fields it covers.
 * @pid:	the thread group id of the process owning this address space,
 *		as its own pid namespace numbers it: what getpid() returns.
 *		Not valid while processes other than the owner share the
 *		address space (vfork, posix_spawn, clone(CLONE_VM) without
 *		CLONE_THREAD), since the page cannot tell them apart.
 * @mm_serial:	a random 64-bit id of this address space, chosen when it
 *		is created: never zero, never the id of the address space
 *		fork() copied it from, so that a reader can detect that its
 *		cache was made in another address space (the parent, before
 *		fork); two unrelated address spaces share an id with
 *		probability 2^-64. Not a counter: it tells nothing of other
 *		processes. Valid whenever the page is mapped.
 * @ppid:	what getppid() returns: the parent's thread group id in the
 *		owner's pid namespace, 0 if the parent is outside it. Follows
 *		reparenting to init or to a subreaper.
 * @pgid:	what getpgrp() returns.
 * @sid:	what getsid(0) returns.
 * @cred_seq:	sequence counter of the credentials record, @valid's
 *		KSHARE_PROC_VALID_CREDS bit included: odd while the kernel
 *		rewrites it. Readers read it, then the record, then (after a
 *		read barrier) the counter again, and retry if it was odd or
 *		moved.
 * @uid:	real user id, as getuid() returns it.
 * @euid:	effective user id.
 * @suid:	saved set-user-id.
 * @fsuid:	filesystem user id.
 * @gid:	real group id.
 * @egid:	effective group id.
 * @sgid:	saved set-group-id.
 * @fsgid:	filesystem group id.
 *
 * The ids are those of the owner's user namespace; unmapped ids read as the
 * overflow id, as the system calls return them. Linux credentials belong to
 * threads, and raw system calls can give the threads of one process
 * different ones: the credentials record is valid only while every thread
 * of the owner has the same credentials, and never while other processes
 * share the address space. In a process of several threads it is withdrawn
 * at each change and published again shortly after.
 *
 * KSHARE_PROC_VALID_UTS says that the system page mapped in this address
 * space shows the UTS namespace of the calling process, and that uname()
 * shows its names unchanged: no thread of the owner runs with a personality
 * that alters them, and the owner's threads all share one UTS namespace.
 *
 * KSHARE_PROC_VALID_TID_CACHE says that a thread may keep its own thread id
 * in thread-local storage, tagged with @mm_serial, and trust it while the
 * tag matches and the bit is set. The bit is clear while another process
 * shares the address space, and for good once a thread has been created
 * without CLONE_SETTLS, i.e. sharing its creator's thread-local storage.
 */
struct kshare_proc_page {
	__u32 valid;
	__s32 pid;
	__u64 mm_serial;
	__s32 ppid;
	__s32 pgid;
	__s32 sid;
	__u32 cred_seq;
	__u32 uid;
	__u32 euid;
	__u32 suid;
	__u32 fsuid;
	__u32 gid;
	__u32 egid;
	__u32 sgid;
	__u32 fsgid;
};

/* kshare_title_slot.flags */
#define KSHARE_TITLE_SET	(1U << 0)	/* show @title, not argv */

/* Bytes of title in one slot, its NUL included. */
#define KSHARE_TITLE_LEN	2036

/**
 * struct kshare_title_slot - one copy of the title
 * @len:	length of the title in bytes, its NUL excluded.
 * @flags:	KSHARE_TITLE_* bits.
 * @title:	the title, NUL-terminated.
 */
struct kshare_title_slot {
	__u32 len;
	__u32 flags;
	char title[KSHARE_TITLE_LEN];
};

/**
 * struct kshare_title - the process title, written by the process
 * @seq:	latch counter: its lowest bit says which slot the kernel reads.
 * @reserved:	zero.
 * @slot:	two copies of the title.
 *
 * The kernel shows the title in /proc/PID/cmdline, which ps and top read,
 * while KSHARE_TITLE_SET is set, and the original arguments otherwise.
 *
 * A latch, as raw_write_seqcount_latch() keeps one: the writer (one at a
 * time: the threads of a process serialise among themselves) increments
 * @seq, which makes it odd, and writes slot[0]; increments it again, even,
 * and writes slot[1]; with a release fence before and after each increment.
 * A reader loads @seq (acquire), copies slot[@seq & 1], which the writer is
 * not writing, and keeps the copy if @seq is unchanged after a read
 * barrier. So a reader never waits for a write to finish, and never sees a
 * torn title.
 *
 * The kernel trusts nothing written here: it tries a bounded number of
 * times, bounds the title by @len, by the first NUL and by the slot, and
 * if the counter never held still it shows the last title it read whole
 * from this page (the arguments if none). The title is inherited across
 * fork() and cleared by exec(), and lives as long as the page stays
 * mapped.
 */
struct kshare_title {
	__u32 seq;
	__u32 reserved;
	struct kshare_title_slot slot[2];
};

#endif /* _UAPI_LINUX_KSHARE_H */
