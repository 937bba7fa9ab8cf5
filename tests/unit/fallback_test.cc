// SPDX-License-Identifier: MIT
// Fallback path: the build machine's kernel has no kshare, so every call must
// go through the system call and still be right. These tests say nothing
// about the pages; tests/guest does.
#include "internal.h"

#include <kshare/kshare.hpp>

#include <gtest/gtest.h>
#include <cerrno>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>

extern "C" pid_t kshare_test_getpid_from_c(void);

namespace {

class Fallback : public testing::Test {
protected:
	void SetUp() override
	{
		// Detached: every call takes its fallback, on any kernel.
		ASSERT_EQ(kshare__attach(nullptr, nullptr), 0);
	}
};

TEST_F(Fallback, GetpidMatchesSyscall)
{
	EXPECT_EQ(kshare_getpid(), getpid());
	EXPECT_EQ(kshare::getpid(), getpid());
	EXPECT_EQ(kshare_test_getpid_from_c(), getpid());
}

TEST_F(Fallback, NothingAvailable)
{
	EXPECT_EQ(kshare__header(), nullptr);
	EXPECT_FALSE(kshare_available(KSHARE_FEATURE_PROC_PID));
	EXPECT_FALSE(kshare::available(kshare::feature::pid));
}

TEST_F(Fallback, EveryCallMatchesTheSyscall)
{
	EXPECT_EQ(kshare_getppid(), getppid());
	EXPECT_EQ(kshare_gettid(), gettid());
	EXPECT_EQ(kshare_getpgrp(), getpgrp());
	EXPECT_EQ(kshare_getsid(0), getsid(0));
	EXPECT_EQ(kshare_getuid(), getuid());
	EXPECT_EQ(kshare_geteuid(), geteuid());
	EXPECT_EQ(kshare_getgid(), getgid());
	EXPECT_EQ(kshare_getegid(), getegid());
	uid_t a[3], b[3];
	ASSERT_EQ(kshare_getresuid(&a[0], &a[1], &a[2]), 0);
	ASSERT_EQ(getresuid(&b[0], &b[1], &b[2]), 0);
	EXPECT_TRUE(a[0] == b[0] && a[1] == b[1] && a[2] == b[2]);
	ASSERT_EQ(kshare_getresgid(&a[0], &a[1], &a[2]), 0);
	ASSERT_EQ(getresgid(&b[0], &b[1], &b[2]), 0);
	EXPECT_TRUE(a[0] == b[0] && a[1] == b[1] && a[2] == b[2]);
}

TEST_F(Fallback, ErrorsAreTheSyscalls)
{
	errno = 0;
	EXPECT_EQ(kshare_getsid(-1), -1);
	EXPECT_EQ(errno, ESRCH);
	uid_t r, e;
	errno = 0;
	EXPECT_EQ(kshare_getresuid(&r, &e, nullptr), -1);
	EXPECT_EQ(errno, EFAULT);
}

TEST_F(Fallback, ForkChildGetsItsOwnPid)
{
	const pid_t parent = kshare_getpid();
	const pid_t child = fork();

	ASSERT_GE(child, 0);
	if (child == 0)
		_exit(kshare_getpid() == getpid() && kshare_getpid() != parent ? 0 : 1);
	int status = 0;
	ASSERT_EQ(waitpid(child, &status, 0), child);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(Fallback, VforkChildGetsItsOwnPid)
{
	volatile pid_t seen = 0;
	const pid_t child = vfork();

	ASSERT_GE(child, 0);
	if (child == 0) {
		seen = kshare_getpid();
		_exit(0);
	}
	int status = 0;
	ASSERT_EQ(waitpid(child, &status, 0), child);
	EXPECT_EQ(seen, child);
	EXPECT_EQ(kshare_getpid(), getpid());
}

} // namespace
