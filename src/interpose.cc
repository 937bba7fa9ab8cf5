// SPDX-License-Identifier: MIT
// libkshare.so only: libc's address-space calls, so that a program that
// unmaps or overlays the [kshare] area through libc never leaves the
// library reading a hole. Not in the static library, where defining libc's
// names would fight libc.a and the sanitizers' interceptors; static programs
// call the kshare_ twins themselves (see <kshare/kshare.h>).
#include <kshare/kshare.h>

#include <cstdarg>
#include <sys/mman.h>

// Each definition must match glibc's declaration, or this fails to compile.
#define KSHARE_LIBC(ret, name, params, args)                              \
	extern "C" __attribute__((visibility("default"))) ret name params \
		noexcept                                                  \
	{                                                                 \
		return kshare_##name args;                                \
	}

KSHARE_LIBC(int, munmap, (void *addr, size_t len), (addr, len))
KSHARE_LIBC(void *, mmap, (void *addr, size_t len, int prot, int flags, int fd, off_t off),
	    (addr, len, prot, flags, fd, off))
extern "C" __attribute__((visibility("default"))) void *
mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off) noexcept
{
	return kshare_mmap(addr, len, prot, flags, fd, off);
}
KSHARE_LIBC(int, mprotect, (void *addr, size_t len, int prot), (addr, len, prot))
KSHARE_LIBC(int, madvise, (void *addr, size_t len, int advice), (addr, len, advice))

extern "C" __attribute__((visibility("default"))) void *
mremap(void *old_addr, size_t old_size, size_t new_size, int flags, ...) noexcept
{
	void *new_addr = nullptr;

	if (flags & MREMAP_FIXED) {
		va_list ap;

		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	return kshare_mremap(old_addr, old_size, new_size, flags, new_addr);
}
