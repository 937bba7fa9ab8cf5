// SPDX-License-Identifier: MIT
// The real-CPU benchmarks' [kshare] area: laid out as the kernel lays it
// out, in ordinary memory (as tests/unit/simulated_area.hpp builds it for
// the unit tests), every field valid, attached with kshare__attach(); and
// the kernel's writers, which rewrite its records with the kernel's
// protocol (counter odd, barrier, write, barrier, counter even), and the
// kernel's reader of the title page, the latch (<kshare/uapi.h>). Shared by
// kshare-bench --host and kshare-scaling.
#ifndef KSHARE_BENCH_SIMULATED_AREA_HPP
#define KSHARE_BENCH_SIMULATED_AREA_HPP

#include "internal.h"

#include <kshare/kshare.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <pthread.h>
#include <sched.h>

namespace kshare_bench {

// The CPUs this process may use, in order.
inline std::vector<int> allowed_cpus()
{
	std::vector<int> cpus;
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				cpus.push_back(c);
	if (cpus.empty())
		cpus.push_back(0);
	return cpus;
}

inline void pin_self(int cpu)
{
	if (cpu < 0)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

inline constexpr std::size_t page = 4096;

struct alignas(page) Area {
	// The area (system page, process page), then the title page, which the
	// kernel maps on its own (PR_KSHARE_MAP_TITLE) wherever it likes.
	unsigned char bytes[3 * page];

	kshare_sys_header &hdr() { return *reinterpret_cast<kshare_sys_header *>(bytes); }
	kshare_uts &uts() { return *reinterpret_cast<kshare_uts *>(bytes + sizeof(kshare_sys_header)); }
	kshare_proc_page &proc() { return *reinterpret_cast<kshare_proc_page *>(bytes + page); }
	kshare_title &title() { return *reinterpret_cast<kshare_title *>(bytes + 2 * page); }
};
inline Area area;

inline constexpr std::uint32_t proc_valid_all =
	KSHARE_PROC_VALID_PID | KSHARE_PROC_VALID_PPID | KSHARE_PROC_VALID_PGID |
	KSHARE_PROC_VALID_SID | KSHARE_PROC_VALID_CREDS | KSHARE_PROC_VALID_TID_CACHE |
	KSHARE_PROC_VALID_UTS;
// Two hostnames of the same length, and two id sets, that the writers
// alternate between; nothing on a real host has these.
inline const char *const sim_hosts[2] = { "kshare-sim-host-a", "kshare-sim-host-b" };
inline constexpr std::uint32_t sim_ids[2] = { 5000, 6000 };
inline const char *const sim_names[6] = { "Linux", sim_hosts[0], "6.12.117-kshare",
				   "#1 SMP PREEMPT_DYNAMIC Thu Jan  1 00:00:00 UTC 2026",
				   "x86_64", "(none)" };

// The two titles the title's writer alternates between: 64 bytes each.
inline char sim_titles[2][65];

inline void set_names(kshare_uts &u, const char *host)
{
	char *fields[6] = { u.sysname, u.nodename, u.release, u.version, u.machine, u.domainname };
	for (int i = 0; i < 6; i++) {
		char name[KSHARE_UTS_LEN] = {};
		std::strncpy(name, i == 1 ? host : sim_names[i], KSHARE_UTS_LEN - 1);
		std::memcpy(fields[i], name, KSHARE_UTS_LEN);
	}
}

inline void area_init()
{
	std::memset(sim_titles[0], 'a', 64);
	std::memset(sim_titles[1], 'b', 64);
	std::memset(&area, 0, sizeof(area));
	auto &h = area.hdr();
	h.magic = KSHARE_MAGIC;
	h.abi_version = KSHARE_ABI_VERSION;
	h.header_size = sizeof(h);
	h.map_size = 2 * page;
	h.features = KSHARE_FEATURE_PROC_PID | KSHARE_FEATURE_PROC_PPID |
		     KSHARE_FEATURE_PROC_PGID_SID | KSHARE_FEATURE_PROC_CREDS |
		     KSHARE_FEATURE_PROC_TID_CACHE | KSHARE_FEATURE_UTS | KSHARE_FEATURE_NPROCS |
		     KSHARE_FEATURE_TITLE;
	h.proc_offset = page;
	h.proc_size = sizeof(kshare_proc_page);
	h.uts_offset = sizeof(h);
	h.uts_size = sizeof(kshare_uts);
	h.title_size = sizeof(kshare_title);
	auto &p = area.proc();
	p.pid = 424242;
	p.mm_serial = 7;
	p.ppid = 424241;
	p.pgid = 424240;
	p.sid = 424239;
	std::uint32_t *ids = &p.uid;
	for (int i = 0; i < 8; i++)
		ids[i] = sim_ids[0];
	p.valid = proc_valid_all;
	auto &u = area.uts();
	set_names(u, sim_hosts[0]);
	u.nr_cpus_online = 77;
	u.generation = 1;
	u.valid = KSHARE_UTS_VALID_NAMES | KSHARE_UTS_VALID_NPROCS;
}

template <typename T> inline T load(const T &x, std::memory_order mo = std::memory_order_relaxed)
{
	return std::atomic_ref<T>(const_cast<T &>(x)).load(mo);
}

template <typename T> inline void store(T &x, T v, std::memory_order mo = std::memory_order_relaxed)
{
	std::atomic_ref<T>(x).store(v, mo);
}

// smp_wmb() and smp_rmb(): on x86 the compiler's barriers, as in the kernel.
inline void wmb() { std::atomic_thread_fence(std::memory_order_release); }
inline void rmb() { std::atomic_thread_fence(std::memory_order_acquire); }

// ---- the kernel's writers, on the simulated area ----

// kshare_uts_write(): the whole record, the six names copied from the
// namespace, under the record's counter.
inline void write_uts(int flip)
{
	kshare_uts &u = area.uts();
	const std::uint32_t seq = u.seq;

	store(u.seq, seq + 1);
	wmb();
	set_names(u, sim_hosts[flip & 1]);
	store(u.nr_cpus_online, 77u);
	store(u.valid, KSHARE_UTS_VALID_NAMES | KSHARE_UTS_VALID_NPROCS);
	store(u.generation, u.generation + 1);
	wmb();
	store(u.seq, seq + 2);
}

// kshare_publish_creds(): the eight ids and the valid bit under cred_seq.
inline void write_creds(int flip)
{
	kshare_proc_page &p = area.proc();
	const std::uint32_t seq = p.cred_seq;

	store(p.cred_seq, seq + 1);
	wmb();
	std::uint32_t *ids = &p.uid;
	for (int i = 0; i < 8; i++)
		store(ids[i], sim_ids[flip & 1]);
	store(p.valid, load(p.valid) | KSHARE_PROC_VALID_CREDS);
	wmb();
	store(p.cred_seq, seq + 2);
}

// The title has no kernel writer: the process writes it, through the library.

inline void write_title(int flip)
{
	kshare_setproctitle("-%s", sim_titles[flip & 1]);
}

// kshare_title_read(): the kernel's reader of the title page
// (/proc/PID/cmdline), the latch's: 16 tries at the slot the counter
// points at, never waiting, then the last title it read whole. Return the
// tries used, 17 if it fell back on the last title.
inline constexpr int kernel_title_tries = 16;

inline int kernel_read_title(char *buf)
{
	static thread_local char last[KSHARE_TITLE_LEN];
	const kshare_title &t = area.title();
	for (int tries = 0; tries < kernel_title_tries; tries++) {
		const std::uint32_t seq = load(t.seq, std::memory_order_acquire);
		const kshare_title_slot &s = t.slot[seq & 1];
		const bool set = load(s.flags) & KSHARE_TITLE_SET;
		const std::uint32_t len = std::min<std::uint32_t>(load(s.len), KSHARE_TITLE_LEN - 1);
		for (std::uint32_t i = 0; i < len; i++)
			buf[i] = load(s.title[i]);
		rmb();
		if (load(t.seq) != seq)
			continue;
		const std::size_t n = set ? strnlen(buf, len) : 0;
		buf[n] = '\0';
		std::memcpy(last, buf, n + 1);
		return tries + 1;
	}
	std::memcpy(buf, last, std::strlen(last) + 1);
	return kernel_title_tries + 1;
}

// Build the area, attach it with its title page, and set a title there.
inline bool attach_simulated_area()
{
	area_init();
	if (kshare__attach(&area, &area.title()) != 0)
		return false;
	write_title(0);
	return true;
}

} // namespace kshare_bench

#endif
