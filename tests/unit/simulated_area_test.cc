// SPDX-License-Identifier: MIT
// The library's reading of an area laid out as the kernel lays it out, built
// in ordinary memory: what it trusts, and what it refuses.
#include "simulated_area.hpp"

#include <kshare/kshare.hpp>

#include <gtest/gtest.h>
#include <csignal>
#include <sys/wait.h>
#include <atomic>
#include <cerrno>
#include <thread>
#include <cstddef>
#include <cstring>
#include <unistd.h>

namespace {

using namespace kshare_test;

class SimulatedArea : public Simulated {
protected:
	void expect_refused()
	{
		errno = 0;
		EXPECT_EQ(kshare__attach(&area, nullptr), -1);
		EXPECT_EQ(errno, EPROTO);
	}
};

TEST_F(SimulatedArea, ValidPidComesFromThePage)
{
	area.proc().valid = KSHARE_PROC_VALID_PID;
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	EXPECT_EQ(kshare_getpid(), 424242);
	EXPECT_EQ(kshare::getpid(), 424242);
	EXPECT_TRUE(kshare::available(kshare::feature::pid));
}

TEST_F(SimulatedArea, InvalidPidFallsBackToTheSyscall)
{
	area.proc().valid = 0;
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	EXPECT_EQ(kshare_getpid(), getpid());
	area.proc().valid = KSHARE_PROC_VALID_PID;
	EXPECT_EQ(kshare_getpid(), 424242);
	area.proc().valid = 0; // the kernel withdrew it (e.g. vfork)
	EXPECT_EQ(kshare_getpid(), getpid());
}

TEST_F(SimulatedArea, UnknownValidityBitsAreIgnored)
{
	area.proc().valid = ~KSHARE_PROC_VALID_PID;
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	EXPECT_EQ(kshare_getpid(), getpid());
}

TEST_F(SimulatedArea, GrownRecordsAreAccepted)
{
	area.hdr().header_size = sizeof(kshare_sys_header) + 64;
	area.hdr().proc_size = sizeof(kshare_proc_page) + 64;
	area.proc().valid = KSHARE_PROC_VALID_PID;
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	EXPECT_EQ(kshare_getpid(), 424242);
}

TEST_F(SimulatedArea, BadMagicIsRefused)
{
	area.hdr().magic ^= 1;
	expect_refused();
	EXPECT_EQ(kshare_getpid(), getpid());
}

TEST_F(SimulatedArea, OtherAbiVersionIsRefused)
{
	area.hdr().abi_version = KSHARE_ABI_VERSION + 1;
	expect_refused();
}

TEST_F(SimulatedArea, TruncatedHeaderIsRefused)
{
	area.hdr().header_size = offsetof(kshare_sys_header, proc_offset);
	expect_refused();
}

TEST_F(SimulatedArea, ProcPageOutsideTheAreaIsRefused)
{
	area.hdr().proc_offset = 2 * page;
	expect_refused();
	area.hdr().proc_offset = page;
	area.hdr().proc_size = page + 1;
	expect_refused();
	area.hdr().proc_size = offsetof(kshare_proc_page, pid);
	expect_refused();
}

TEST_F(SimulatedArea, MisalignedProcPageIsRefused)
{
	area.hdr().proc_offset = page + 2;
	expect_refused();
}

TEST_F(SimulatedArea, UnknownFeaturesAreNotClaimed)
{
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	EXPECT_TRUE(kshare_available(KSHARE_FEATURE_PROC_PID));
	EXPECT_FALSE(kshare_available(KSHARE_FEATURE_PROC_PID | (1ULL << 40)));
}

TEST_F(SimulatedArea, ProcessIdsComeFromThePage)
{
	area.proc().valid = KSHARE_PROC_VALID_PID | KSHARE_PROC_VALID_PPID |
			    KSHARE_PROC_VALID_PGID | KSHARE_PROC_VALID_SID;
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	EXPECT_EQ(kshare_getppid(), 424241);
	EXPECT_EQ(kshare_getpgrp(), 424240);
	EXPECT_EQ(kshare_getsid(0), 424239);
	EXPECT_EQ(kshare_getsid(424242), 424239); // our own pid: the page
	EXPECT_EQ(kshare::getppid(), 424241);
}

TEST_F(SimulatedArea, EachIdHasItsOwnValidityBit)
{
	area.proc().valid = KSHARE_PROC_VALID_PID;
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	EXPECT_EQ(kshare_getpid(), 424242);
	EXPECT_EQ(kshare_getppid(), getppid());
	EXPECT_EQ(kshare_getpgrp(), getpgrp());
	EXPECT_EQ(kshare_getsid(0), getsid(0));
	EXPECT_EQ(kshare_getuid(), getuid());
}

TEST_F(SimulatedArea, GetsidOfAnotherProcessAsksTheKernel)
{
	area.proc().valid = KSHARE_PROC_VALID_PID | KSHARE_PROC_VALID_SID;
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	EXPECT_EQ(kshare_getsid(getppid()), getsid(getppid()));
	errno = 0;
	EXPECT_EQ(kshare_getsid(-5), -1);
	EXPECT_EQ(errno, ESRCH);
}

TEST_F(SimulatedArea, CredentialsComeFromThePage)
{
	area.proc().valid = KSHARE_PROC_VALID_CREDS;
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	EXPECT_EQ(kshare_getuid(), 5000u);
	EXPECT_EQ(kshare_geteuid(), 5001u);
	EXPECT_EQ(kshare_getgid(), 5004u);
	EXPECT_EQ(kshare_getegid(), 5005u);
	uid_t r, e, s;
	ASSERT_EQ(kshare_getresuid(&r, &e, &s), 0);
	EXPECT_EQ(r, 5000u);
	EXPECT_EQ(e, 5001u);
	EXPECT_EQ(s, 5002u);
	ASSERT_EQ(kshare_getresgid(&r, &e, &s), 0);
	EXPECT_EQ(r, 5004u);
	EXPECT_EQ(e, 5005u);
	EXPECT_EQ(s, 5006u);
	const auto res = kshare::getresgid();
	EXPECT_EQ(res.saved, 5006u);
}

TEST_F(SimulatedArea, CredentialsBeingRewrittenFallBackAfterBoundedTries)
{
	area.proc().valid = KSHARE_PROC_VALID_CREDS;
	area.proc().cred_seq = 3; // a writer that never finishes
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	EXPECT_EQ(kshare_getuid(), getuid());
	uid_t r, e, s, rr, ee, ss;
	ASSERT_EQ(kshare_getresuid(&r, &e, &s), 0);
	ASSERT_EQ(getresuid(&rr, &ee, &ss), 0);
	EXPECT_EQ(r, rr);
	EXPECT_EQ(s, ss);
}

TEST_F(SimulatedArea, NullPointersGetEfaultLikeLibc)
{
	area.proc().valid = KSHARE_PROC_VALID_CREDS;
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	uid_t r, e;
	errno = 0;
	EXPECT_EQ(kshare_getresuid(&r, &e, nullptr), -1);
	EXPECT_EQ(errno, EFAULT);
	errno = 0;
	EXPECT_EQ(kshare_getresgid(nullptr, &r, &e), -1);
	EXPECT_EQ(errno, EFAULT);
}

TEST_F(SimulatedArea, MmIdComesFromThePageAndIsZeroWhenDetached)
{
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	EXPECT_EQ(kshare_mm_id(), 7u);
	area.proc().mm_serial = 8; // another address space's page
	EXPECT_EQ(kshare_mm_id(), 8u);
	kshare__attach(nullptr, nullptr);
	EXPECT_EQ(kshare_mm_id(), 0u) << "no page: no id, never a made-up one";
}

// What a bad non-NULL pointer gets, decided as the vDSO's clock_gettime()
// decides it: the fast path writes through it and faults (SIGSEGV) where the
// system call would fail with EFAULT; the fallback is the system call, and
// fails with EFAULT. Never a silent success. See kshare_getresuid(3).
int status_of(void (*fn)())
{
	const pid_t pid = fork();
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL); // a sanitizer's handler would exit instead
		fn();
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	return status;
}

TEST_F(SimulatedArea, BadPointersFaultOnTheFastPathAndGetEfaultOnTheFallback)
{
	area.proc().valid = KSHARE_PROC_VALID_CREDS;
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	auto *bad = reinterpret_cast<uid_t *>(kshare_test::bad_address);
	uid_t r, e;
	const int st = status_of([] {
		uid_t a, b;
		kshare_getresuid(&a, &b, reinterpret_cast<uid_t *>(kshare_test::bad_address));
	});
	EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV) << "status " << st;
	kshare__attach(nullptr, nullptr);
	errno = 0;
	EXPECT_EQ(kshare_getresuid(&r, &e, bad), -1);
	EXPECT_EQ(errno, EFAULT);
}

// A writer following the kernel's protocol flips between two consistent
// records; a reader must never see ids from both.
TEST_F(SimulatedArea, CredentialsAreNeverTornUnderARacingWriter)
{
	auto &p = area.proc();
	p.valid = KSHARE_PROC_VALID_CREDS;
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	std::atomic<bool> stop{false};
	std::thread writer([&] {
		for (uint32_t round = 0; !stop.load(std::memory_order_relaxed); round++) {
			const uint32_t seq = p.cred_seq;
			__atomic_store_n(&p.cred_seq, seq + 1, __ATOMIC_RELAXED);
			std::atomic_thread_fence(std::memory_order_release);
			set_ids(p, round % 2 ? 7000 : 5000);
			std::atomic_thread_fence(std::memory_order_release);
			__atomic_store_n(&p.cred_seq, seq + 2, __ATOMIC_RELAXED);
			std::this_thread::yield(); // leave readers windows to succeed in
		}
	});
	long torn = 0, from_page = 0;
	for (int i = 0; i < 200000; i++) {
		uid_t r, e, s;
		kshare_getresuid(&r, &e, &s);
		if (r == 5000 || r == 7000)
			from_page++;
		if (!((r == 5000 && e == 5001 && s == 5002) ||
		      (r == 7000 && e == 7001 && s == 7002) ||
		      (r == getuid() && e == geteuid()))) // bounded retries gave up
			torn++;
	}
	stop = true;
	writer.join();
	EXPECT_EQ(torn, 0);
	EXPECT_GT(from_page, 0);
}

TEST_F(SimulatedArea, TidCacheIsTaggedWithTheAddressSpace)
{
	area.proc().valid = KSHARE_PROC_VALID_TID_CACHE;
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	EXPECT_EQ(kshare_gettid(), gettid());
	EXPECT_EQ(kshare__tid.mm_serial, 7u); // cached for this address space
	EXPECT_EQ(kshare_gettid(), gettid());
	area.proc().mm_serial = 8; // as after fork: the cache is not trusted
	kshare__tid.tid = 1;
	EXPECT_EQ(kshare_gettid(), gettid());
	area.proc().valid = 0; // as with a raw clone sharing TLS
	kshare__tid.tid = 1;
	EXPECT_EQ(kshare_gettid(), gettid());
}

TEST_F(SimulatedArea, EachThreadCachesItsOwnTid)
{
	area.proc().valid = KSHARE_PROC_VALID_TID_CACHE;
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	EXPECT_EQ(kshare_gettid(), gettid());
	pid_t seen = 0, real = 0;
	std::thread([&] {
		seen = kshare_gettid();
		real = gettid();
		seen = kshare_gettid() == seen ? seen : -1; // second read: cached
	}).join();
	EXPECT_EQ(seen, real);
	EXPECT_NE(seen, gettid());
}

} // namespace
