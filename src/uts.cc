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

// Everything here reads the record with word-sized relaxed atomic loads:
// the kernel may be rewriting it, and the sequence counter decides
// afterwards whether what was read counts. The words stay in registers or
// go straight to their destination with stores of the same width: copying
// them through a buffer with wider or misaligned loads makes every load
// wait for the stores it spans (no store-to-load forwarding), which cost
// more than the rest of gethostname() together.

// Run @load(rec) within one read section of the record's sequence counter:
// true if it saw a consistent record that vouches for @need.
template <typename Load>
bool read_section(std::uint32_t need, Load &&load, std::uint64_t *generation = nullptr)
{
	// The published record: the record of zeroes until the first look-up,
	// which the process's first call makes here, then asks again.
	const kshare_uts *rec = __atomic_load_n(&kshare__uts, __ATOMIC_RELAXED);
	if (!(kshare__valid(kshare__page()) & KSHARE_PROC_VALID_UTS)) {
		if (rec != &empty_uts_record)
			return false; // looked up: the page does not vouch
		rec = uts_record();
		if (rec == &empty_uts_record ||
		    !(kshare__valid(kshare__page()) & KSHARE_PROC_VALID_UTS))
			return false;
	}
	for (int tries = 0; tries < KSHARE_READ_TRIES; tries++) {
		const std::uint32_t seq = __atomic_load_n(&rec->seq, __ATOMIC_ACQUIRE);
		if (seq & 1)
			continue;
		const std::uint32_t valid = __atomic_load_n(&rec->valid, __ATOMIC_RELAXED);
		const std::uint64_t gen = __atomic_load_n(&rec->generation, __ATOMIC_RELAXED);
		load(rec);
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

const std::uint64_t *words_at(const kshare_uts *rec, std::size_t offset)
{
	return reinterpret_cast<const std::uint64_t *>(reinterpret_cast<const char *>(rec) + offset);
}

// All six names, sysname to domainname, laid out as struct utsname: 48
// words and 6 bytes, stored into @u as they are loaded.
static_assert(names_offset % 8 == 0 && sizeof(utsname) == 48 * 8 + 6);
bool read_names(utsname *u)
{
	return read_section(KSHARE_UTS_VALID_NAMES, [u](const kshare_uts *rec) {
		const std::uint64_t *src = words_at(rec, names_offset);
		char *dst = reinterpret_cast<char *>(u);
#pragma GCC unroll 8
		for (std::size_t i = 0; i < 48; i++) {
			const std::uint64_t w = __atomic_load_n(src + i, __ATOMIC_RELAXED);
			std::memcpy(dst + 8 * i, &w, 8);
		}
		const std::uint64_t tail = __atomic_load_n(src + 48, __ATOMIC_RELAXED);
		std::memcpy(dst + 8 * 48, &tail, 6);
	});
}

// One name of KSHARE_UTS_LEN bytes at offset Field, as 8 words of its first
// 64 bytes (the 65th is its NUL, whatever the page says): the aligned words
// around it are loaded and shifted into place in registers.
template <std::size_t Field>
bool read_name(std::uint64_t (&out)[8])
{
	constexpr std::size_t first = Field & ~std::size_t{7};
	constexpr unsigned shift = 8 * (Field - first);
	constexpr std::size_t words = shift ? 9 : 8;
	static_assert(first + 8 * words <= sizeof(kshare_uts), "stays inside the record");

	return read_section(KSHARE_UTS_VALID_NAMES, [&out](const kshare_uts *rec) {
		// Each word shifted as soon as its neighbour is loaded, in one
		// pass: a second pass over a buffer of them gets vectorised
		// into 16-byte loads of 8-byte stores.
		const std::uint64_t *src = words_at(rec, first);
		std::uint64_t w = __atomic_load_n(src, __ATOMIC_RELAXED);
#pragma GCC unroll 8
		for (std::size_t i = 0; i < 8; i++) {
			if constexpr (shift == 0) {
				out[i] = w;
				if (i + 1 < words)
					w = __atomic_load_n(src + i + 1, __ATOMIC_RELAXED);
			} else {
				const std::uint64_t next = __atomic_load_n(src + i + 1, __ATOMIC_RELAXED);
				out[i] = (w >> shift) | (next << (64 - shift));
				w = next;
			}
		}
	});
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

// The length of the name in @w (at most 64), from its first NUL byte.
std::size_t name_length(const std::uint64_t (&w)[8])
{
	constexpr std::uint64_t ones = 0x0101010101010101, highs = 0x8080808080808080;

#pragma GCC unroll 8
	for (std::size_t i = 0; i < 8; i++) {
		// Little-endian: the lowest set bit marks the first zero byte.
		if (const std::uint64_t zero = (w[i] - ones) & ~w[i] & highs)
			return 8 * i + static_cast<std::size_t>(__builtin_ctzll(zero)) / 8;
	}
	return 64;
}

// One name from the page, or from uname(2); copy what fits of it, its NUL
// included if it fits, as glibc does (the caller's bytes after it stay).
// Return the name's length with its NUL, or 0 if uname(2) failed.
template <std::size_t Field>
std::size_t copy_name(char *name, size_t len)
{
	std::uint64_t w[8];

	if (__builtin_expect(!read_name<Field>(w), 0)) {
		utsname u;
		if (KSHARE_SYSCALL(uname, &u) < 0)
			return 0;
		std::memcpy(w, reinterpret_cast<const char *>(&u) + Field - names_offset, sizeof(w));
	}
	const std::size_t size = name_length(w) + 1;
	const std::size_t n = len < size ? len : size;
	std::size_t i = 0;
	for (; i + 8 <= n; i += 8)
		std::memcpy(name + i, &w[i / 8], 8);
	// The rest byte by byte (at most 7; the NUL of a 64-byte name is the
	// 65th byte, past w): a memcpy() call of a variable size cost more.
	for (std::uint64_t last = i < 64 ? w[i / 8] : 0; i < n; i++, last >>= 8)
		name[i] = static_cast<char>(last & 0xff);
	return size;
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

// As glibc's: ENAMETOOLONG if the name and its NUL did not fit.
int kshare_gethostname(char *name, size_t len)
{
	const std::size_t size = copy_name<offsetof(kshare_uts, nodename)>(name, len);

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
	return copy_name<offsetof(kshare_uts, domainname)>(name, len) ? 0 : -1;
}

int kshare__get_nprocs_slow(void)
{
	std::uint32_t n = 0;

	if (read_section(KSHARE_UTS_VALID_NPROCS,
			 [&n](const kshare_uts *rec) {
				 n = __atomic_load_n(&rec->nr_cpus_online, __ATOMIC_RELAXED);
			 }) &&
	    n > 0)
		return static_cast<int>(n);
	return online_cpus();
}

uint64_t kshare_uts_generation(void)
{
	std::uint64_t gen = 0;

	if (!read_section(0, [](const kshare_uts *) {}, &gen))
		return 0;
	return gen;
}

} // extern "C"
