// SPDX-License-Identifier: MIT
// An area laid out as the kernel lays it out, built in ordinary memory, for
// tests of what the library reads from it.
#ifndef KSHARE_TEST_SIMULATED_AREA_HPP
#define KSHARE_TEST_SIMULATED_AREA_HPP

#include "internal.h"

#include <gtest/gtest.h>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace kshare_test {

constexpr std::size_t page = 4096;

// An address nothing is mapped at, hidden from the optimiser, which would
// otherwise refuse to compile a write through it.
inline volatile std::uintptr_t bad_address = 8;

struct alignas(page) Area {
	unsigned char bytes[2 * page];

	kshare_sys_header &hdr() { return *reinterpret_cast<kshare_sys_header *>(bytes); }
	kshare_uts &uts() { return *reinterpret_cast<kshare_uts *>(bytes + sizeof(kshare_sys_header)); }
	kshare_proc_page &proc() { return *reinterpret_cast<kshare_proc_page *>(bytes + page); }
};

class Simulated : public testing::Test {
protected:
	Area area{};

	void SetUp() override
	{
		auto &h = area.hdr();
		h.magic = KSHARE_MAGIC;
		h.abi_version = KSHARE_ABI_VERSION;
		h.header_size = sizeof(h);
		h.map_size = sizeof(area.bytes);
		h.features = KSHARE_FEATURE_PROC_PID;
		h.proc_offset = page;
		h.proc_size = sizeof(kshare_proc_page);
		h.uts_offset = sizeof(h);
		h.uts_size = sizeof(kshare_uts);
		auto &p = area.proc();
		p.pid = 424242; // no real process has these here
		p.ppid = 424241;
		p.pgid = 424240;
		p.sid = 424239;
		p.mm_serial = 7;
		set_ids(p, 5000);
		auto &u = area.uts();
		std::strcpy(u.sysname, "SimOS");
		std::strcpy(u.nodename, "simhost");
		std::strcpy(u.release, "9.9.9-sim");
		std::strcpy(u.version, "#1 sim");
		std::strcpy(u.machine, "simarch");
		std::strcpy(u.domainname, "sim.example");
		u.nr_cpus_online = 77;
		u.generation = 1;
	}
	void TearDown() override { kshare__attach(nullptr, nullptr); }

	// A consistent credentials record: every id derived from @base.
	static void set_ids(kshare_proc_page &p, uint32_t base)
	{
		uint32_t *ids = &p.uid;
		for (int i = 0; i < 8; i++)
			__atomic_store_n(&ids[i], base + i, __ATOMIC_RELAXED);
	}
};

} // namespace kshare_test

#endif
