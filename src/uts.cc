// SPDX-License-Identifier: MIT
// gethostname, getdomainname, uname and get_nprocs from the system page.

#include "detail.hpp"
#include "syscall.hpp"

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <fcntl.h>
#include <sched.h>
#include <sys/utsname.h>

namespace kshare::detail {
namespace {

static_assert(sizeof(utsname::nodename) == KSHARE_UTS_LEN, "utsname layout");
static_assert(sizeof(utsname) == 6 * KSHARE_UTS_LEN, "utsname layout");

// The names of struct kshare_uts, sysname to domainname, are laid out as in
// struct utsname: one copy serves uname() and every part of it.
constexpr std::size_t names_offset = offsetof(kshare_uts, sysname);
static_assert(offsetof(kshare_uts, domainname) - names_offset == 5 * KSHARE_UTS_LEN);

// Copy [off, off + n) of the record with word-sized relaxed atomic loads:
// the kernel may be rewriting it, and the sequence counter decides
// afterwards whether the copy counts. Reading whole aligned words may touch
// a few bytes of neighbouring fields, all inside the page.
void copy_racy(void *dst, const kshare_uts *rec, std::size_t off, std::size_t n)
{
	const auto base = reinterpret_cast<std::uintptr_t>(rec) + off;
	const auto first = base & ~std::uintptr_t{7};
	const std::size_t words = (base + n - first + 7) / 8;
	std::uint64_t buf[(sizeof(kshare_uts) + 16) / 8];

	for (std::size_t i = 0; i < words; i++)
		buf[i] = __atomic_load_n(reinterpret_cast<const std::uint64_t *>(first) + i,
					 __ATOMIC_RELAXED);
	std::memcpy(dst, reinterpret_cast<const char *>(buf) + (base - first), n);
}

// One consistent read of [off, off + n) if the page vouches for @need.
bool read_record(std::size_t off, std::size_t n, void *dst, std::uint32_t need,
		 std::uint64_t *generation = nullptr)
{
	// First: on the process's first call this looks the area up.
	const kshare_uts *rec = uts_record();
	if (!(kshare__valid(kshare__page()) & KSHARE_PROC_VALID_UTS))
		return false;
	for (int tries = 0; tries < KSHARE_READ_TRIES; tries++) {
		const std::uint32_t seq = __atomic_load_n(&rec->seq, __ATOMIC_ACQUIRE);
		if (seq & 1)
			continue;
		const std::uint32_t valid = __atomic_load_n(&rec->valid, __ATOMIC_RELAXED);
		const std::uint64_t gen = __atomic_load_n(&rec->generation, __ATOMIC_RELAXED);
		if (n)
			copy_racy(dst, rec, off, n);
		// Pairs with the kernel's smp_wmb() before it ends a rewrite.
		std::atomic_thread_fence(std::memory_order_acquire);
		if (__atomic_load_n(&rec->seq, __ATOMIC_RELAXED) != seq)
			continue;
		if ((valid & need) != need)
			return false;
		if (generation)
			*generation = gen;
		return true;
	}
	return false;
}

bool read_names(utsname *u)
{
	return read_record(names_offset, sizeof(*u), u, KSHARE_UTS_VALID_NAMES);
}

bool read_name(std::size_t field, char (&out)[KSHARE_UTS_LEN])
{
	return read_record(field, KSHARE_UTS_LEN, out, KSHARE_UTS_VALID_NAMES);
}

// Count the CPUs in a list such as "0-3,5,7-8\n"; 0 if it makes no sense.
int count_cpu_list(const char *s, std::size_t n)
{
	int count = 0;
	std::size_t i = 0;

	while (i < n && s[i] != '\n' && s[i] != '\0') {
		unsigned long first = 0, last;
		const std::size_t start = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			first = first * 10 + static_cast<unsigned long>(s[i++] - '0');
		if (i == start || first > 1UL << 20)
			return 0;
		last = first;
		if (i < n && s[i] == '-') {
			const std::size_t from = ++i;
			last = 0;
			while (i < n && s[i] >= '0' && s[i] <= '9')
				last = last * 10 + static_cast<unsigned long>(s[i++] - '0');
			if (i == from || last < first || last > 1UL << 20)
				return 0;
		}
		count += static_cast<int>(last - first + 1);
		if (i < n && s[i] == ',')
			i++;
	}
	return count;
}

// get_nprocs() as glibc computes it, from system calls only. Never through
// the libc name: in the preload shim that name is the shim's own
// get_nprocs(), and with the shim loaded it is also what libkshare.so's
// call would reach, so the fallback would call itself forever.
int online_cpus()
{
	char buf[4096];
	const long fd = KSHARE_SYSCALL(openat, AT_FDCWD, "/sys/devices/system/cpu/online",
				       O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		const long n = KSHARE_SYSCALL(read, fd, buf, sizeof(buf) - 1);
		KSHARE_SYSCALL(close, fd);
		if (n > 0) {
			if (const int count = count_cpu_list(buf, static_cast<std::size_t>(n)))
				return count;
		}
	}
	// No sysfs (a container without /sys): the CPUs this thread may run
	// on, glibc's own last resort.
	cpu_set_t set;
	const long size = KSHARE_SYSCALL(sched_getaffinity, 0, sizeof(set), &set);
	if (size > 0) {
		int count = 0;
		const auto *bytes = reinterpret_cast<const unsigned char *>(&set);
		for (long i = 0; i < size; i++)
			count += __builtin_popcount(bytes[i]);
		if (count > 0)
			return count;
	}
	return 1;
}

} // namespace
} // namespace kshare::detail

using namespace kshare::detail;

extern "C" {

int kshare_uname(struct utsname *buf)
{
	if (buf && read_names(buf))
		return 0;
	// NULL or not vouched for: the kernel answers (EFAULT for NULL).
	return static_cast<int>(KSHARE_SYSCALL(uname, buf));
}

// One name from the page, or from uname(2); copy what fits of it, its NUL
// included if it fits, as glibc does. Return the name's length with its NUL,
// or 0 if uname(2) failed.
static std::size_t copy_name(std::size_t field, char *name, size_t len)
{
	char buf[KSHARE_UTS_LEN];
	utsname u;

	if (!read_name(field, buf)) {
		if (KSHARE_SYSCALL(uname, &u) < 0)
			return 0;
		std::memcpy(buf, reinterpret_cast<const char *>(&u) + field - names_offset,
			    sizeof(buf));
	}
	buf[KSHARE_UTS_LEN - 1] = '\0';
	const std::size_t size = std::strlen(buf) + 1;
	std::memcpy(name, buf, len < size ? len : size);
	return size;
}

// As glibc's: ENAMETOOLONG if the name and its NUL did not fit.
int kshare_gethostname(char *name, size_t len)
{
	const std::size_t size = copy_name(offsetof(kshare_uts, nodename), name, len);

	if (!size)
		return -1;
	if (size > len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

// As glibc's on Linux: never fails for a short buffer.
int kshare_getdomainname(char *name, size_t len)
{
	return copy_name(offsetof(kshare_uts, domainname), name, len) ? 0 : -1;
}

int kshare_get_nprocs(void)
{
	std::uint32_t n = 0;

	if (read_record(offsetof(kshare_uts, nr_cpus_online), sizeof(n), &n,
			KSHARE_UTS_VALID_NPROCS) && n > 0)
		return static_cast<int>(n);
	return online_cpus();
}

uint64_t kshare_uts_generation(void)
{
	std::uint64_t gen = 0;

	if (!read_record(0, 0, nullptr, 0, &gen))
		return 0;
	return gen;
}

} // extern "C"
