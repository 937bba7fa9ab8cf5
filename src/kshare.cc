// SPDX-License-Identifier: MIT
// libkshare: registering for the [kshare] area, and the out-of-line slow
// paths.

#include "detail.hpp"
#include "internal.h"
#include "syscall.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <dlfcn.h>
#include <sys/auxv.h>
#include <sys/mman.h>

extern char **environ;

namespace kshare::detail {

constinit const kshare_uts empty_uts_record{};

namespace {

// What readers see before the library has looked for the real page, and
// after it found none: all validity bits clear.
constinit const kshare_proc_page empty_proc_page{};

// The validated header, or nullptr. Written once per look-up; every thread
// that races to look computes the same value (the kernel gives every copy
// of the library in the process the one area), so relaxed order suffices
// (the pages' contents are the kernel's, not ours, to publish).
constinit std::atomic<const kshare_sys_header *> header{nullptr};
constinit std::atomic<bool> looked{false};
// Set for good by kshare_detach(): the area is, or is about to be, gone.
constinit std::atomic<bool> detached{false};
// The title page, a mapping of its own: asked for at the first title
// (title_looked), or nullptr. title_gone: given up for good (unmapped,
// moved, made read-only), titles go to argv from then on.
constinit std::atomic<kshare_title *> title{nullptr};
constinit std::atomic<bool> title_looked{false};
constinit std::atomic<bool> title_gone{false};
// The addresses the area and the title page span, for kshare_munmap() and
// its siblings to compare against. The title page's is also set by another
// copy of the library that mapped it (kshare__title_chain), so that this
// copy guards it too.
constinit std::atomic<std::uintptr_t> area_begin{0};
constinit std::atomic<std::uintptr_t> area_end{0};
constinit std::atomic<std::uintptr_t> title_begin{0};
constinit std::atomic<std::uintptr_t> title_end{0};
// The kernel works on whole pages: so do the comparisons. From the auxiliary
// vector, not sysconf(), which the preload shim interposes.
constinit std::atomic<std::uintptr_t> page_size{0};

constexpr std::size_t end_of_proc_size =
	offsetof(kshare_sys_header, proc_size) + sizeof(kshare_sys_header::proc_size);
constexpr std::size_t end_of_pid =
	offsetof(kshare_proc_page, pid) + sizeof(kshare_proc_page::pid);
constexpr std::size_t end_of_uts_size =
	offsetof(kshare_sys_header, uts_size) + sizeof(kshare_sys_header::uts_size);
constexpr std::size_t end_of_title_size =
	offsetof(kshare_sys_header, title_size) + sizeof(kshare_sys_header::title_size);

// The UTS record, if this kernel has one this library can read.
const kshare_uts *uts_of(const kshare_sys_header *h)
{
	if (!h || h->header_size < end_of_uts_size || !(h->features & KSHARE_FEATURE_UTS))
		return &empty_uts_record;
	if (h->uts_size < sizeof(kshare_uts) || h->uts_offset % alignof(kshare_uts) ||
	    h->uts_offset < h->header_size || h->uts_size > h->map_size - h->uts_offset)
		return &empty_uts_record;
	return reinterpret_cast<const kshare_uts *>(reinterpret_cast<const char *>(h) +
						    h->uts_offset);
}

// Whether this kernel offers a title page this library can write: the
// latch of <kshare/uapi.h>, two slots of KSHARE_TITLE_LEN bytes of title.
bool offers_title(const kshare_sys_header *h)
{
	return h && h->header_size >= end_of_title_size && (h->features & KSHARE_FEATURE_TITLE) &&
	       h->title_size >= sizeof(kshare_title);
}

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

std::uintptr_t page()
{
	std::uintptr_t ps = page_size.load(std::memory_order_relaxed);
	if (!ps) {
		ps = getauxval(AT_PAGESZ);
		ps = ps ? ps : 4096;
		page_size.store(ps, std::memory_order_relaxed);
	}
	return ps;
}

// The bytes the title page's mapping spans: its title_size, in whole pages
// (the kernel maps one page, whatever part of it the record uses).
std::size_t title_span(const kshare_sys_header *h)
{
	const std::size_t size = h && offers_title(h) ? h->title_size : 0;
	return std::max<std::size_t>((size + page() - 1) & ~(page() - 1), page());
}

// The title page @t (nullptr: none) as this copy's.
void publish_title(kshare_title *t, const kshare_sys_header *h)
{
	const auto begin = reinterpret_cast<std::uintptr_t>(t);

	if (t) {
		title_begin.store(begin, std::memory_order_relaxed);
		title_end.store(begin + title_span(h), std::memory_order_relaxed);
	}
	title.store(t, std::memory_order_release);
	title_looked.store(true, std::memory_order_release);
}

void publish(const kshare_sys_header *h)
{
	const auto *proc = h ? reinterpret_cast<const kshare_proc_page *>(
				       reinterpret_cast<const char *>(h) + h->proc_offset)
			     : &empty_proc_page;
	const auto begin = reinterpret_cast<std::uintptr_t>(h);

	page();
	header.store(h, std::memory_order_relaxed);
	area_begin.store(begin, std::memory_order_relaxed);
	area_end.store(h ? begin + h->map_size : 0, std::memory_order_relaxed);
	if (!h) {
		// The title page goes with the area.
		title.store(nullptr, std::memory_order_relaxed);
		title_begin.store(0, std::memory_order_relaxed);
		title_end.store(0, std::memory_order_relaxed);
	}
	__atomic_store_n(&kshare__uts, uts_of(h), __ATOMIC_RELAXED);
	__atomic_store_n(&kshare__proc, proc, __ATOMIC_RELAXED);
	looked.store(true, std::memory_order_release);
}

// Publish @h, unless kshare_detach() ran meanwhile. A first look-up racing
// with a detach must not bring the area back: either this fence comes first
// in the single total order, and detach()'s null stores come later in every
// variable's modification order, or it comes second, and this load sees
// detached. Pairs with the fence in detach().
void use(const kshare_sys_header *h)
{
	publish(h);
	if (h) {
		std::atomic_thread_fence(std::memory_order_seq_cst);
		if (detached.load(std::memory_order_relaxed))
			publish(nullptr);
	}
}

// The same for the title page, against a detach and against the page's
// going away (title_gone).
void use_title(kshare_title *t, const kshare_sys_header *h)
{
	publish_title(t, h);
	if (t) {
		std::atomic_thread_fence(std::memory_order_seq_cst);
		if (detached.load(std::memory_order_relaxed) ||
		    title_gone.load(std::memory_order_relaxed))
			publish_title(nullptr, h);
	}
}

// KSHARE=off in the environment: every call is the system call, so that
// seccomp filters, ptrace-based emulators and LD_PRELOAD fakers (fakeroot)
// see every question, as they would without kshare. secure_getenv(): a
// set-user-ID program does not take orders from its caller's environment.
bool turned_off()
{
	const char *v = secure_getenv("KSHARE");
	return v && std::strcmp(v, "off") == 0;
}

// prctl(PR_KSHARE, @op, @map): 0, or -1 with errno. The kernel reads and
// writes map->size bytes, this library's struct.
int registration(int op, kshare_map &map)
{
	map = kshare_map{};
	map.size = sizeof(map);
	return static_cast<int>(KSHARE_SYSCALL(prctl, PR_KSHARE, op, &map, 0, 0));
}

const kshare_sys_header *lookup()
{
	if (looked.load(std::memory_order_acquire))
		return header.load(std::memory_order_relaxed);
	// A program's preinit_array functions run before libc has set environ
	// up, when KSHARE=off cannot be read yet: answer with the system call,
	// and look again at the next call. (Once the library's own start-up
	// code ran, a NULL environ is a program's clearenv(): no KSHARE.)
	if (!environ && !environment_ready.load(std::memory_order_relaxed))
		return nullptr;
	// Memory reads and one prctl(): safe in signal handlers, vfork
	// children and before constructors have run. Every copy of the
	// library in the process registers, and the kernel gives each the
	// one area. EINVAL (a kernel without kshare, or one that refuses
	// this library's request), ENODEV (kshare turned off) and the rest
	// mean no area, for good; EBUSY means a vfork() child, which shares
	// this memory with its parent and must not decide for it: the system
	// call answers, and the next call asks again.
	const int saved_errno = errno;
	const kshare_sys_header *h = nullptr;
	bool settled = true;
	if (!turned_off()) {
		kshare_map map;
		if (registration(PR_KSHARE_MAP, map) == 0)
			h = reinterpret_cast<const kshare_sys_header *>(map.area);
		else
			settled = errno != EBUSY;
		if (h && !acceptable(h))
			h = nullptr;
	}
	errno = saved_errno;
	if (settled)
		use(h);
	return h;
}

// The span of the title page for the guards: this copy's, or one another
// copy mapped and announced (kshare__title_chain), which this copy guards
// without writing it.
void note_title_span(const void *t, std::size_t size)
{
	const auto begin = reinterpret_cast<std::uintptr_t>(t);
	title_begin.store(begin, std::memory_order_relaxed);
	title_end.store(begin + size, std::memory_order_relaxed);
}

} // namespace

const kshare_uts *uts_record()
{
	lookup();
	return __atomic_load_n(&kshare__uts, __ATOMIC_RELAXED);
}

kshare_title *title_record(bool map_it)
{
	// Every title after the first: the page is there.
	if (kshare_title *t = title.load(std::memory_order_acquire))
		return t;
	const kshare_sys_header *h = lookup();

	if (!h || title_gone.load(std::memory_order_relaxed))
		return nullptr;
	if (!title_looked.load(std::memory_order_acquire)) {
		if (!offers_title(h))
			return nullptr;
		// The first title asks for the page (PR_KSHARE_MAP_TITLE); a
		// reader only looks for one another copy has mapped. The kernel
		// maps one page per address space: every copy gets it.
		const int saved_errno = errno;
		kshare_map map;
		const int r = registration(map_it ? PR_KSHARE_MAP_TITLE : PR_KSHARE_GET, map);
		const bool failed = r != 0 || map.area != reinterpret_cast<std::uintptr_t>(h);
		auto *t = failed ? nullptr : reinterpret_cast<kshare_title *>(map.title);
		const bool busy = r != 0 && errno == EBUSY; // a vfork() child: ask again later
		errno = saved_errno;
		if (!t && (!map_it || busy))
			return nullptr;
		use_title(t, h);
		if (t && map_it)
			announce_title(t, title_span(h));
	}
	return title.load(std::memory_order_acquire);
}

void detach()
{
	// No look-up: the area may be gone already (detach before the first
	// call, after a raw munmap). If this copy never looked, it never used
	// the title page either.
	if (kshare_title *t = title.load(std::memory_order_relaxed))
		carry_title_over(t);
	detached.store(true, std::memory_order_relaxed);
	// Pairs with the fence in use() and use_title().
	std::atomic_thread_fence(std::memory_order_seq_cst);
	publish(nullptr);
}

void detach_title()
{
	if (kshare_title *t = title.load(std::memory_order_relaxed))
		carry_title_over(t);
	title_gone.store(true, std::memory_order_relaxed);
	// Pairs with the fence in use_title().
	std::atomic_thread_fence(std::memory_order_seq_cst);
	title.store(nullptr, std::memory_order_relaxed);
	title_begin.store(0, std::memory_order_relaxed);
	title_end.store(0, std::memory_order_relaxed);
}

// ---- every copy of the library in the process ----
//
// A process may hold several copies: the preload shim's, libkshare.so's, and
// static ones inside the program or other libraries. Each registers, and the
// kernel gives each the one area; but each keeps its own pointers to the
// area and the title page, so each must hear of a detach, and each must
// know where the title page is, which only the copy that set the first
// title mapped. The copies that export kshare__detach_chain and
// kshare__title_chain (libkshare.so, the shim) form chains in the dynamic
// linker's search order: each does its part and calls the next one's
// (RTLD_NEXT). Word from anywhere starts at the head of the chain
// (RTLD_DEFAULT), which reaches all of them and, idempotently, this copy
// again. Copies hidden inside another object reach the chains but cannot be
// reached by them: see kshare_detach(3).
using chain_fn = void (*)();
using title_chain_fn = void (*)(void *, std::size_t);
constinit std::atomic<chain_fn> chain_head{nullptr};
constinit std::atomic<chain_fn> chain_next{nullptr};
constinit std::atomic<title_chain_fn> title_chain_head{nullptr};
constinit std::atomic<title_chain_fn> title_chain_next{nullptr};

// Resolved in a constructor: dlsym() may allocate, and an allocator that
// maps memory would come back to the guards. Static programs (no dynamic
// linker, AT_BASE 0) hold one copy and need no chain.
[[gnu::constructor]] void find_other_copies()
{
	if (!getauxval(AT_BASE))
		return;
	chain_head.store(reinterpret_cast<chain_fn>(dlsym(RTLD_DEFAULT, "kshare__detach_chain")),
			 std::memory_order_release);
	chain_next.store(reinterpret_cast<chain_fn>(dlsym(RTLD_NEXT, "kshare__detach_chain")),
			 std::memory_order_release);
	title_chain_head.store(
		reinterpret_cast<title_chain_fn>(dlsym(RTLD_DEFAULT, "kshare__title_chain")),
		std::memory_order_release);
	title_chain_next.store(
		reinterpret_cast<title_chain_fn>(dlsym(RTLD_NEXT, "kshare__title_chain")),
		std::memory_order_release);
}

void detach_chain()
{
	detach();
	if (chain_fn next = chain_next.load(std::memory_order_acquire))
		next();
}

void detach_everywhere()
{
	detach();
	if (chain_fn head = chain_head.load(std::memory_order_acquire))
		head();
}

void title_chain(void *t, std::size_t size)
{
	if (t)
		note_title_span(t, size);
	else
		detach_title();
	if (title_chain_fn next = title_chain_next.load(std::memory_order_acquire))
		next(t, size);
}

void announce_title(void *t, std::size_t size)
{
	note_title_span(t, size);
	if (title_chain_fn head = title_chain_head.load(std::memory_order_acquire))
		head(t, size);
}

void detach_title_everywhere()
{
	detach_title();
	if (title_chain_fn head = title_chain_head.load(std::memory_order_acquire))
		head(nullptr, 0);
}

namespace {

bool overlaps(const void *addr, std::size_t len, std::uintptr_t from, std::uintptr_t to)
{
	const auto begin = reinterpret_cast<std::uintptr_t>(addr);
	const std::uintptr_t first = begin & ~(page() - 1);
	const std::uintptr_t last = len > UINTPTR_MAX - begin ? UINTPTR_MAX : begin + len;
	return len && from && first < to && last > from;
}

// Where the area and the title page are, as far as the guards need to know.
// A copy that has not looked yet asks the kernel without registering
// (PR_KSHARE_GET): another copy may be reading the area, and this call
// would take it away.
struct spans {
	std::uintptr_t area_from = 0, area_to = 0, title_from = 0, title_to = 0;
};

spans current_spans()
{
	spans s;

	if (looked.load(std::memory_order_acquire)) {
		s.area_from = area_begin.load(std::memory_order_relaxed);
		s.area_to = area_end.load(std::memory_order_relaxed);
	} else {
		const int saved_errno = errno;
		kshare_map map;
		if (registration(PR_KSHARE_GET, map) == 0 && map.area) {
			const auto *h = reinterpret_cast<const kshare_sys_header *>(map.area);
			const bool ok = acceptable(h);
			s.area_from = map.area;
			s.area_to = map.area + (ok ? h->map_size : page());
			if (map.title && !title_begin.load(std::memory_order_relaxed))
				note_title_span(reinterpret_cast<void *>(map.title),
						title_span(ok ? h : nullptr));
		}
		errno = saved_errno;
	}
	s.title_from = title_begin.load(std::memory_order_relaxed);
	s.title_to = title_end.load(std::memory_order_relaxed);
	return s;
}

// What a call over [addr, addr + len) takes away: the area (and, with it,
// the title page) or the title page alone.
enum class hit { none, title_only, area };

hit covers(const void *addr, std::size_t len)
{
	const spans s = current_spans();
	if (overlaps(addr, len, s.area_from, s.area_to))
		return hit::area;
	if (overlaps(addr, len, s.title_from, s.title_to))
		return hit::title_only;
	return hit::none;
}

void give_up(hit h)
{
	if (h == hit::area)
		detach_everywhere();
	else if (h == hit::title_only)
		detach_title_everywhere();
}

} // namespace

void guard_munmap(const void *addr, std::size_t len)
{
	give_up(covers(addr, len));
}

void *guard_mremap(const void *old_addr, std::size_t old_size, std::size_t new_size, int flags,
		   va_list ap)
{
	void *new_addr = (flags & MREMAP_FIXED) ? va_arg(ap, void *) : nullptr;

	// What moves away, and what the move lands on, are both gone.
	hit h = covers(old_addr, old_size);
	if (h != hit::area && (flags & MREMAP_FIXED)) {
		const hit onto = covers(new_addr, new_size);
		if (onto != hit::none)
			h = onto;
	}
	give_up(h);
	return new_addr;
}

void guard_mmap(const void *addr, std::size_t len, int flags)
{
	// MAP_FIXED replaces what was there; MAP_FIXED_NOREPLACE fails instead.
	if (flags & MAP_FIXED)
		give_up(covers(addr, len));
}

void guard_mprotect(const void *addr, std::size_t len, int prot)
{
	// Unreadable pages fault the readers; a title page that cannot be
	// written faults setproctitle().
	hit h = hit::none;
	if (!(prot & PROT_READ))
		h = covers(addr, len);
	else if (!(prot & PROT_WRITE))
		h = covers(addr, len) == hit::title_only ? hit::title_only : hit::none;
	give_up(h);
}

void guard_madvise(const void *addr, std::size_t len, int advice)
{
	// fork() children would lack the pages the library uses.
	if (advice == MADV_DONTFORK || advice == MADV_WIPEONFORK)
		give_up(covers(addr, len));
}

} // namespace kshare::detail

using namespace kshare::detail;

extern "C" {

const kshare_proc_page *kshare__proc = &empty_proc_page;
const kshare_uts *kshare__uts = &empty_uts_record;

const kshare_sys_header *kshare__header(void)
{
	return lookup();
}

int kshare__attach(const void *area, void *title_page)
{
	const auto *h = static_cast<const kshare_sys_header *>(area);
	auto *t = static_cast<kshare_title *>(title_page);

	if ((h && !acceptable(h)) || (t && !offers_title(h))) {
		errno = EPROTO;
		return -1;
	}
	// An explicit attach (the project's tests) starts over, and asks the
	// kernel for nothing: the title page is @title_page or none.
	detached.store(false, std::memory_order_relaxed);
	title_gone.store(false, std::memory_order_relaxed);
	title_begin.store(0, std::memory_order_relaxed);
	title_end.store(0, std::memory_order_relaxed);
	use(h);
	use_title(h ? t : nullptr, h);
	return 0;
}

void kshare_detach(void)
{
	detach_everywhere();
}

int kshare_munmap(void *addr, size_t len)
{
	guard_munmap(addr, len);
	return static_cast<int>(KSHARE_SYSCALL(munmap, addr, len));
}

void *kshare_mremap(void *old_addr, size_t old_size, size_t new_size, int flags, ...)
{
	va_list ap;

	va_start(ap, flags);
	void *new_addr = guard_mremap(old_addr, old_size, new_size, flags, ap);
	va_end(ap);
	return reinterpret_cast<void *>(
		KSHARE_SYSCALL(mremap, old_addr, old_size, new_size, flags, new_addr));
}

// SYS_mmap takes the offset in bytes only where off_t is 64 bits (the rest
// have mmap2): kshare is for 64-bit processes.
static_assert(sizeof(off_t) == 8 && sizeof(void *) == 8, "kshare_mmap() needs a 64-bit ABI");

void *kshare_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset)
{
	guard_mmap(addr, len, flags);
	return reinterpret_cast<void *>(KSHARE_SYSCALL(mmap, addr, len, prot, flags, fd, offset));
}

int kshare_mprotect(void *addr, size_t len, int prot)
{
	guard_mprotect(addr, len, prot);
	return static_cast<int>(KSHARE_SYSCALL(mprotect, addr, len, prot));
}

int kshare_madvise(void *addr, size_t len, int advice)
{
	guard_madvise(addr, len, advice);
	return static_cast<int>(KSHARE_SYSCALL(madvise, addr, len, advice));
}

int kshare_available(uint64_t features)
{
	const kshare_sys_header *h = lookup();

	return h && (h->features & features) == features;
}

// Every slow path starts here: the first call of the process looks for the
// page, and then the inline fast path deserves another try.
static bool first_look()
{
	return !looked.load(std::memory_order_acquire) && lookup() != nullptr;
}

pid_t kshare__getpid_slow(void)
{
	if (first_look())
		return kshare_getpid();
	return static_cast<pid_t>(KSHARE_SYSCALL(getpid));
}

pid_t kshare__getppid_slow(void)
{
	if (first_look())
		return kshare_getppid();
	return static_cast<pid_t>(KSHARE_SYSCALL(getppid));
}

pid_t kshare__getpgrp_slow(void)
{
	if (first_look())
		return kshare_getpgrp();
	// getpgid(0): not every architecture has a getpgrp system call.
	return static_cast<pid_t>(KSHARE_SYSCALL(getpgid, 0));
}

pid_t kshare__getsid_slow(pid_t pid)
{
	if (first_look())
		return kshare_getsid(pid);
	return static_cast<pid_t>(KSHARE_SYSCALL(getsid, pid));
}

uint64_t kshare__mm_id_slow(void)
{
	// The page of zeroes says 0: the first call looks for the real one.
	if (first_look())
		return __atomic_load_n(&kshare__page()->mm_serial, __ATOMIC_RELAXED);
	return 0;
}

__thread kshare__tid_cache kshare__tid __attribute__((tls_model("initial-exec")));

pid_t kshare__gettid_slow(void)
{
	first_look();
	const kshare_proc_page *pp = kshare__page();
	// Read before the system call: what the page vouched for then covers
	// the answer, since nothing in this thread changes its id meanwhile.
	const uint32_t valid = kshare__valid(pp);
	const uint64_t serial = __atomic_load_n(&pp->mm_serial, __ATOMIC_RELAXED);
	const auto tid = static_cast<pid_t>(KSHARE_SYSCALL(gettid));

	if (valid & KSHARE_PROC_VALID_TID_CACHE) {
		kshare__tid.tid = tid;
		// A signal handler that reads the cache between the two stores
		// sees a stale tag and asks the kernel itself.
		std::atomic_signal_fence(std::memory_order_release);
		kshare__tid.mm_serial = serial;
	}
	return tid;
}

uint32_t kshare__id_slow(unsigned int which)
{
	uint32_t id;

	if (first_look() && kshare__read_ids(which, &id, nullptr, nullptr))
		return id;
	switch (which) {
	case KSHARE__UID:
		return static_cast<uint32_t>(KSHARE_SYSCALL(getuid));
	case KSHARE__EUID:
		return static_cast<uint32_t>(KSHARE_SYSCALL(geteuid));
	case KSHARE__GID:
		return static_cast<uint32_t>(KSHARE_SYSCALL(getgid));
	default:
		return static_cast<uint32_t>(KSHARE_SYSCALL(getegid));
	}
}

int kshare__getres_slow(unsigned int first, uint32_t *a, uint32_t *b, uint32_t *c)
{
	if (a && b && c && first_look())
		return kshare__getres(first, a, b, c);
	// The caller's own pointers: a bad one gets EFAULT, as from libc.
	if (first == KSHARE__UID)
		return static_cast<int>(KSHARE_SYSCALL(getresuid, a, b, c));
	return static_cast<int>(KSHARE_SYSCALL(getresgid, a, b, c));
}

} // extern "C"
