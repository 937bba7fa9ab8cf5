// SPDX-License-Identifier: MIT
// libkshare: finding the [kshare] area, and the out-of-line slow paths.

#include "internal.h"
#include "syscall.hpp"

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>

#include <sys/auxv.h>

namespace kshare::detail {
namespace {

// What readers see before the library has looked for the real page, and
// after it found none: all validity bits clear.
constinit const kshare_proc_page empty_proc_page{};

// The validated header, or nullptr. Written once per look-up; every thread
// that races to look computes the same value, so relaxed order suffices
// (the pages' contents are the kernel's, not ours, to publish).
constinit std::atomic<const kshare_sys_header *> header{nullptr};
constinit std::atomic<bool> looked{false};

constexpr std::size_t end_of_proc_size =
	offsetof(kshare_sys_header, proc_size) + sizeof(kshare_sys_header::proc_size);
constexpr std::size_t end_of_pid =
	offsetof(kshare_proc_page, pid) + sizeof(kshare_proc_page::pid);

// Everything the fast paths rely on, checked once: a kernel with another ABI
// or an area that does not hold together is never read.
bool acceptable(const kshare_sys_header *h)
{
	if (h->magic != KSHARE_MAGIC || h->abi_version != KSHARE_ABI_VERSION)
		return false;
	if (h->header_size < end_of_proc_size || h->header_size > h->map_size)
		return false;
	if (h->proc_size < end_of_pid || h->proc_offset % alignof(kshare_proc_page))
		return false;
	return h->proc_offset >= h->header_size &&
	       h->proc_size <= h->map_size - h->proc_offset;
}

void use(const kshare_sys_header *h)
{
	const auto *proc = h ? reinterpret_cast<const kshare_proc_page *>(
				       reinterpret_cast<const char *>(h) + h->proc_offset)
			     : &empty_proc_page;
	header.store(h, std::memory_order_relaxed);
	__atomic_store_n(&kshare__proc, proc, __ATOMIC_RELAXED);
	looked.store(true, std::memory_order_release);
}

const kshare_sys_header *lookup()
{
	if (looked.load(std::memory_order_acquire))
		return header.load(std::memory_order_relaxed);
	// getauxval() only reads memory: safe in signal handlers, vfork
	// children and before constructors have run.
	const auto *h = reinterpret_cast<const kshare_sys_header *>(getauxval(AT_KSHARE));
	if (h && !acceptable(h))
		h = nullptr;
	use(h);
	return h;
}

} // namespace
} // namespace kshare::detail

using namespace kshare::detail;

extern "C" {

const kshare_proc_page *kshare__proc = &empty_proc_page;

const kshare_sys_header *kshare__header(void)
{
	return lookup();
}

int kshare__attach(const void *area)
{
	const auto *h = static_cast<const kshare_sys_header *>(area);

	if (h && !acceptable(h)) {
		errno = EPROTO;
		return -1;
	}
	use(h);
	return 0;
}

int kshare_available(uint64_t features)
{
	const kshare_sys_header *h = lookup();

	return h && (h->features & features) == features;
}

pid_t kshare__getpid_slow(void)
{
	if (!looked.load(std::memory_order_acquire) && lookup()) {
		const kshare_proc_page *pp = __atomic_load_n(&kshare__proc, __ATOMIC_RELAXED);

		if (__atomic_load_n(&pp->valid, __ATOMIC_ACQUIRE) & KSHARE_PROC_VALID_PID)
			return __atomic_load_n(&pp->pid, __ATOMIC_RELAXED);
	}
	return static_cast<pid_t>(KSHARE_SYSCALL(getpid));
}

} // extern "C"
