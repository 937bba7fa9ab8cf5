// SPDX-License-Identifier: MIT
// The preload shim only: libc's address-space calls, so that a program that
// unmaps, moves, overlays or protects the [kshare] area through libc never
// leaves a copy of the library reading a hole.
//
// Each call detaches every copy of the library in the process if need be
// (detach_everywhere()), then passes the call on to the next definition
// (RTLD_NEXT), so that other interposers (sanitizers, profilers) keep
// seeing the calls.
//
// Not in libkshare.so or libkshare.a: a library a program links must not
// take over every other library's mappings (allocators, JITs, sanitizers).
// Programs that link libkshare call the kshare_ twins themselves (see
// <kshare/kshare.h>), or run under the shim.
#include "detail.hpp"
#include "syscall.hpp"

#include <atomic>
#include <cstdarg>
#include <dlfcn.h>
#include <sys/mman.h>

using namespace kshare::detail;

namespace {

using munmap_fn = int (*)(void *, size_t);
using mremap_fn = void *(*)(void *, size_t, size_t, int, ...);
using mmap_fn = void *(*)(void *, size_t, int, int, int, off_t);
using mprotect_fn = int (*)(void *, size_t, int);
using madvise_fn = int (*)(void *, size_t, int);

// Resolved in a constructor, not on first use: dlsym() may allocate, and an
// allocator that calls mmap() would come back here. Until then (calls from
// other libraries' constructors) the system call is made directly.
std::atomic<munmap_fn> next_munmap;
std::atomic<mremap_fn> next_mremap;
std::atomic<mmap_fn> next_mmap;
std::atomic<mprotect_fn> next_mprotect;
std::atomic<madvise_fn> next_madvise;

template <typename Fn>
void resolve(std::atomic<Fn> &next, const char *name)
{
	next.store(reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name)), std::memory_order_release);
}

[[gnu::constructor]] void resolve_next()
{
	resolve(next_munmap, "munmap");
	resolve(next_mremap, "mremap");
	resolve(next_mmap, "mmap");
	resolve(next_mprotect, "mprotect");
	resolve(next_madvise, "madvise");
}

} // namespace

#define KSHARE_LIBC extern "C" __attribute__((visibility("default")))

// Each definition must match glibc's declaration, or this fails to compile.
KSHARE_LIBC int munmap(void *addr, size_t len) noexcept
{
	guard_munmap(addr, len);
	if (auto next = next_munmap.load(std::memory_order_acquire))
		return next(addr, len);
	return static_cast<int>(KSHARE_SYSCALL(munmap, addr, len));
}

KSHARE_LIBC void *mremap(void *old_addr, size_t old_size, size_t new_size, int flags,
			 ...) noexcept
{
	va_list ap;

	va_start(ap, flags);
	void *new_addr = guard_mremap(old_addr, old_size, new_size, flags, ap);
	va_end(ap);
	if (auto next = next_mremap.load(std::memory_order_acquire))
		return next(old_addr, old_size, new_size, flags, new_addr);
	return reinterpret_cast<void *>(
		KSHARE_SYSCALL(mremap, old_addr, old_size, new_size, flags, new_addr));
}

static void *forward_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	guard_mmap(addr, len, flags);
	if (auto next = next_mmap.load(std::memory_order_acquire))
		return next(addr, len, prot, flags, fd, off);
	return reinterpret_cast<void *>(KSHARE_SYSCALL(mmap, addr, len, prot, flags, fd, off));
}

KSHARE_LIBC void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) noexcept
{
	return forward_mmap(addr, len, prot, flags, fd, off);
}

// The same function on 64-bit: glibc exports both names.
KSHARE_LIBC void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
			 off64_t off) noexcept
{
	return forward_mmap(addr, len, prot, flags, fd, off);
}

KSHARE_LIBC int mprotect(void *addr, size_t len, int prot) noexcept
{
	guard_mprotect(addr, len, prot);
	if (auto next = next_mprotect.load(std::memory_order_acquire))
		return next(addr, len, prot);
	return static_cast<int>(KSHARE_SYSCALL(mprotect, addr, len, prot));
}

KSHARE_LIBC int madvise(void *addr, size_t len, int advice) noexcept
{
	guard_madvise(addr, len, advice);
	if (auto next = next_madvise.load(std::memory_order_acquire))
		return next(addr, len, advice);
	return static_cast<int>(KSHARE_SYSCALL(madvise, addr, len, advice));
}
