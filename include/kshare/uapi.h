/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef _UAPI_LINUX_KSHARE_H
#define _UAPI_LINUX_KSHARE_H

/*
 * kshare: pages the kernel keeps up to date for each process, so that it can
 * read its own identity without a system call.
 *
 * At exec the kernel maps one read-only area, named "[kshare]" in
 * /proc/PID/maps, at an address chosen like any other mmap, and announces
 * its start in the auxiliary vector as AT_KSHARE. The area starts with the
 * system page, whose header describes where everything else is. Readers
 * must check the magic and ABI version, and must use the offsets and sizes
 * from the header rather than assume them: records grow at their end.
 *
 * A value is only to be trusted while its validity bit is set. A clear bit
 * means "ask the kernel": the system call gives the answer. A page that
 * reads as all zeroes is therefore always safe.
 */

#include <linux/types.h>

#define KSHARE_MAGIC		0x5248534bU	/* "KSHR" in memory order */
#define KSHARE_ABI_VERSION	1

/* kshare_sys_header.features: what this kernel maintains. */
#define KSHARE_FEATURE_PROC_PID	(1ULL << 0)	/* kshare_proc_page.pid */

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
 */
struct kshare_sys_header {
	__u32 magic;
	__u32 abi_version;
	__u32 header_size;
	__u32 map_size;
	__u64 features;
	__u32 proc_offset;
	__u32 proc_size;
};

/* kshare_proc_page.valid: which fields hold the current answer. */
#define KSHARE_PROC_VALID_PID	(1U << 0)

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
 * @mm_serial:	a number unique to this address space since boot and never
 *		reused, so that a reader can detect that its cache was made in
 *		another address space (e.g. before fork). Valid whenever the
 *		page is mapped; zero never occurs.
 */
struct kshare_proc_page {
	__u32 valid;
	__s32 pid;
	__u64 mm_serial;
};

#endif /* _UAPI_LINUX_KSHARE_H */
