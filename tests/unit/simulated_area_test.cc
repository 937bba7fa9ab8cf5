// SPDX-License-Identifier: MIT
// The library's reading of an area laid out as the kernel lays it out, built
// in ordinary memory: what it trusts, and what it refuses.
#include "internal.h"

#include <kshare/kshare.hpp>

#include <gtest/gtest.h>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <unistd.h>

namespace {

constexpr std::size_t page = 4096;

struct alignas(page) Area {
	unsigned char bytes[2 * page];

	kshare_sys_header &hdr() { return *reinterpret_cast<kshare_sys_header *>(bytes); }
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
		area.proc().pid = 424242; // no real process has it here
		area.proc().mm_serial = 7;
	}
	void TearDown() override { kshare__attach(nullptr); }

	void expect_refused()
	{
		errno = 0;
		EXPECT_EQ(kshare__attach(&area), -1);
		EXPECT_EQ(errno, EPROTO);
	}
};

TEST_F(Simulated, ValidPidComesFromThePage)
{
	area.proc().valid = KSHARE_PROC_VALID_PID;
	ASSERT_EQ(kshare__attach(&area), 0);
	EXPECT_EQ(kshare_getpid(), 424242);
	EXPECT_EQ(kshare::getpid(), 424242);
	EXPECT_TRUE(kshare::available(kshare::feature::pid));
}

TEST_F(Simulated, InvalidPidFallsBackToTheSyscall)
{
	area.proc().valid = 0;
	ASSERT_EQ(kshare__attach(&area), 0);
	EXPECT_EQ(kshare_getpid(), getpid());
	area.proc().valid = KSHARE_PROC_VALID_PID;
	EXPECT_EQ(kshare_getpid(), 424242);
	area.proc().valid = 0; // the kernel withdrew it (e.g. vfork)
	EXPECT_EQ(kshare_getpid(), getpid());
}

TEST_F(Simulated, UnknownValidityBitsAreIgnored)
{
	area.proc().valid = ~KSHARE_PROC_VALID_PID;
	ASSERT_EQ(kshare__attach(&area), 0);
	EXPECT_EQ(kshare_getpid(), getpid());
}

TEST_F(Simulated, GrownRecordsAreAccepted)
{
	area.hdr().header_size = sizeof(kshare_sys_header) + 64;
	area.hdr().proc_size = sizeof(kshare_proc_page) + 64;
	area.proc().valid = KSHARE_PROC_VALID_PID;
	ASSERT_EQ(kshare__attach(&area), 0);
	EXPECT_EQ(kshare_getpid(), 424242);
}

TEST_F(Simulated, BadMagicIsRefused)
{
	area.hdr().magic ^= 1;
	expect_refused();
	EXPECT_EQ(kshare_getpid(), getpid());
}

TEST_F(Simulated, OtherAbiVersionIsRefused)
{
	area.hdr().abi_version = KSHARE_ABI_VERSION + 1;
	expect_refused();
}

TEST_F(Simulated, TruncatedHeaderIsRefused)
{
	area.hdr().header_size = offsetof(kshare_sys_header, proc_offset);
	expect_refused();
}

TEST_F(Simulated, ProcPageOutsideTheAreaIsRefused)
{
	area.hdr().proc_offset = 2 * page;
	expect_refused();
	area.hdr().proc_offset = page;
	area.hdr().proc_size = page + 1;
	expect_refused();
	area.hdr().proc_size = offsetof(kshare_proc_page, pid);
	expect_refused();
}

TEST_F(Simulated, MisalignedProcPageIsRefused)
{
	area.hdr().proc_offset = page + 2;
	expect_refused();
}

TEST_F(Simulated, UnknownFeaturesAreNotClaimed)
{
	ASSERT_EQ(kshare__attach(&area), 0);
	EXPECT_TRUE(kshare_available(KSHARE_FEATURE_PROC_PID));
	EXPECT_FALSE(kshare_available(KSHARE_FEATURE_PROC_PID | (1ULL << 40)));
}

} // namespace
