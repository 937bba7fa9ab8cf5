// SPDX-License-Identifier: MIT
// gethostname, getdomainname, uname and get_nprocs: from simulated pages,
// and through the fallback with exactly glibc's buffer semantics.
#include "simulated_area.hpp"

#include <kshare/kshare.hpp>

#include <gtest/gtest.h>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <sys/auxv.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <thread>
#include <unistd.h>
#include <csignal>
#include <sys/wait.h>

namespace {

using namespace kshare_test;

class SimulatedUts : public Simulated {
protected:
	void SetUp() override
	{
		Simulated::SetUp();
		area.hdr().features |= KSHARE_FEATURE_UTS | KSHARE_FEATURE_NPROCS;
		area.proc().valid = KSHARE_PROC_VALID_UTS;
		area.uts().valid = KSHARE_UTS_VALID_NAMES | KSHARE_UTS_VALID_NPROCS;
	}

	// The kernel's writer protocol, for a racing writer thread.
	void write_hostname(const char *name)
	{
		auto &u = area.uts();
		const uint32_t seq = u.seq;
		__atomic_store_n(&u.seq, seq + 1, __ATOMIC_RELAXED);
		std::atomic_thread_fence(std::memory_order_release);
		for (size_t i = 0; i < sizeof(u.nodename); i++)
			__atomic_store_n(&u.nodename[i], i < std::strlen(name) ? name[i] : '\0',
					 __ATOMIC_RELAXED);
		__atomic_add_fetch(&u.generation, 1, __ATOMIC_RELAXED);
		std::atomic_thread_fence(std::memory_order_release);
		__atomic_store_n(&u.seq, seq + 2, __ATOMIC_RELAXED);
	}
};

// A bad non-NULL buffer: the fast path copies into it and faults, the
// fallback is uname(2) and fails with EFAULT (see kshare_uname(3)).
TEST_F(SimulatedUts, BadBufferFaultsOnTheFastPathAndGetsEfaultOnTheFallback)
{
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	const pid_t pid = fork();
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL); // a sanitizer's handler would exit instead
		kshare_uname(reinterpret_cast<utsname *>(kshare_test::bad_address));
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) << "status " << status;
	errno = 0;
	EXPECT_EQ(kshare_uname(nullptr), -1) << "NULL goes to the kernel";
	EXPECT_EQ(errno, EFAULT);
	kshare__attach(nullptr, nullptr);
	errno = 0;
	EXPECT_EQ(kshare_uname(reinterpret_cast<utsname *>(kshare_test::bad_address)), -1);
	EXPECT_EQ(errno, EFAULT);
}

TEST_F(SimulatedUts, NamesComeFromThePage)
{
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	char buf[KSHARE_UTS_LEN];
	ASSERT_EQ(kshare_gethostname(buf, sizeof(buf)), 0);
	EXPECT_STREQ(buf, "simhost");
	ASSERT_EQ(kshare_getdomainname(buf, sizeof(buf)), 0);
	EXPECT_STREQ(buf, "sim.example");
	utsname u;
	ASSERT_EQ(kshare_uname(&u), 0);
	EXPECT_STREQ(u.sysname, "SimOS");
	EXPECT_STREQ(u.nodename, "simhost");
	EXPECT_STREQ(u.release, "9.9.9-sim");
	EXPECT_STREQ(u.version, "#1 sim");
	EXPECT_STREQ(u.machine, "simarch");
	EXPECT_STREQ(u.domainname, "sim.example");
	EXPECT_EQ(kshare_get_nprocs(), 77);
	EXPECT_EQ(kshare_uts_generation(), 1u);
}

// Every name length (0 to 64: the NUL at every byte of every word) and
// every buffer size around it, for the host name (not 8-byte aligned in the
// record) and the domain name (another alignment): the bytes written and
// the result are glibc's, and the caller's bytes past them are untouched.
TEST_F(SimulatedUts, EveryNameLengthAndBufferSizeAsGlibc)
{
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	auto &u = area.uts();
	for (std::size_t len = 0; len <= 64; len++) {
		std::memset(u.nodename, 0, sizeof(u.nodename));
		std::memset(u.domainname, 0, sizeof(u.domainname));
		for (std::size_t i = 0; i < len; i++) {
			u.nodename[i] = static_cast<char>('a' + i % 26);
			u.domainname[i] = static_cast<char>('A' + i % 26);
		}
		// A full 65-byte field with no NUL: its 65th byte is the NUL.
		if (len == 64) {
			u.nodename[64] = 'Z';
			u.domainname[64] = 'Z';
		}
		const std::string host(u.nodename, len), domain(u.domainname, len);
		for (std::size_t size = 0; size <= 70; size++) {
			char buf[80];
			std::memset(buf, '#', sizeof(buf));
			errno = 0;
			const int rc = kshare_gethostname(buf, size);
			const std::size_t copied = std::min(size, len + 1);
			if (size > len) {
				ASSERT_EQ(rc, 0) << len << " " << size;
			} else {
				ASSERT_EQ(rc, -1) << len << " " << size;
				ASSERT_EQ(errno, ENAMETOOLONG);
			}
			ASSERT_EQ(std::string(buf, std::min(copied, len)), host.substr(0, copied));
			if (copied == len + 1) {
				ASSERT_EQ(buf[len], '\0') << len << " " << size;
			}
			for (std::size_t i = copied; i < sizeof(buf); i++)
				ASSERT_EQ(buf[i], '#') << "byte " << i << " past the copy, " << len << " "
						       << size;
			std::memset(buf, '#', sizeof(buf));
			ASSERT_EQ(kshare_getdomainname(buf, size), 0);
			ASSERT_EQ(std::string(buf, std::min(copied, len)), domain.substr(0, copied));
			for (std::size_t i = copied; i < sizeof(buf); i++)
				ASSERT_EQ(buf[i], '#');
		}
		if (len == 64)
			continue; // uname() copies the fields whole: the kernel's end in NUL
		utsname un;
		ASSERT_EQ(kshare_uname(&un), 0);
		ASSERT_EQ(std::string(un.nodename), host);
		ASSERT_EQ(std::string(un.domainname), domain);
		ASSERT_STREQ(un.sysname, "SimOS");
		ASSERT_STREQ(un.machine, "simarch");
	}
}

TEST_F(SimulatedUts, NotOursMeansTheSyscall)
{
	area.proc().valid = 0; // e.g. a personality that alters uname()
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	utsname mine, real;
	ASSERT_EQ(kshare_uname(&mine), 0);
	ASSERT_EQ(uname(&real), 0);
	EXPECT_STREQ(mine.nodename, real.nodename);
	EXPECT_STREQ(mine.release, real.release);
	EXPECT_EQ(kshare_get_nprocs(), get_nprocs());
	EXPECT_EQ(kshare_uts_generation(), 0u);
}

TEST_F(SimulatedUts, CpuCountInTransitionMeansTheKernel)
{
	area.uts().valid = KSHARE_UTS_VALID_NAMES;
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	EXPECT_EQ(kshare_get_nprocs(), get_nprocs());
	char buf[KSHARE_UTS_LEN];
	ASSERT_EQ(kshare_gethostname(buf, sizeof(buf)), 0);
	EXPECT_STREQ(buf, "simhost");
}

TEST_F(SimulatedUts, OlderKernelWithoutUtsRecord)
{
	area.hdr().header_size = offsetof(kshare_sys_header, uts_offset);
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	utsname mine, real;
	ASSERT_EQ(kshare_uname(&mine), 0);
	ASSERT_EQ(uname(&real), 0);
	EXPECT_STREQ(mine.nodename, real.nodename);
}

TEST_F(SimulatedUts, GenerationMovesWithEveryChange)
{
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	const uint64_t g = kshare::uts_generation();
	write_hostname("other");
	EXPECT_NE(kshare::uts_generation(), g);
	char buf[16];
	ASSERT_EQ(kshare_gethostname(buf, sizeof(buf)), 0);
	EXPECT_STREQ(buf, "other");
}

TEST_F(SimulatedUts, HostnameIsNeverTornUnderARacingWriter)
{
	ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	const std::string a = "a", b(64, 'b');
	write_hostname(a.c_str());
	std::atomic<bool> stop{false};
	std::thread writer([&] {
		for (unsigned i = 0; !stop.load(std::memory_order_relaxed); i++) {
			write_hostname(i % 2 ? b.c_str() : a.c_str());
			std::this_thread::yield(); // leave readers windows to succeed in
		}
	});
	long torn = 0, fell_back = 0;
	char buf[KSHARE_UTS_LEN], real[KSHARE_UTS_LEN];
	gethostname(real, sizeof(real));
	for (int i = 0; i < 100000; i++) {
		ASSERT_EQ(kshare_gethostname(buf, sizeof(buf)), 0);
		if (buf == a || buf == b)
			continue;
		if (std::strcmp(buf, real) == 0)
			fell_back++; // retries exhausted: the system call answered
		else
			torn++;
	}
	stop = true;
	writer.join();
	EXPECT_EQ(torn, 0);
	EXPECT_LT(fell_back, 100000);
}

// The fallback path on this kernel (no kshare): exactly glibc's answers and
// buffer contents, for every buffer size around the names' lengths.
class UtsFallback : public testing::Test {
protected:
	void SetUp() override
	{
		// Detached: every call takes its fallback, on any kernel.
		kshare__attach(nullptr, nullptr);
	}
};

template <typename Mine, typename Theirs>
void expect_same_buffers(Mine mine, Theirs theirs)
{
	for (size_t len = 0; len <= KSHARE_UTS_LEN + 2; len++) {
		char a[KSHARE_UTS_LEN + 8], b[KSHARE_UTS_LEN + 8];
		std::memset(a, 'X', sizeof(a));
		std::memset(b, 'X', sizeof(b));
		errno = 0;
		const int ra = mine(a, len);
		const int ea = errno;
		errno = 0;
		const int rb = theirs(b, len);
		const int eb = errno;
		EXPECT_EQ(ra, rb) << "len " << len;
		EXPECT_EQ(ea, eb) << "len " << len;
		EXPECT_EQ(std::memcmp(a, b, sizeof(a)), 0) << "len " << len;
	}
}

TEST_F(UtsFallback, GethostnameMatchesGlibcForEveryLength)
{
	expect_same_buffers(kshare_gethostname, gethostname);
}

TEST_F(UtsFallback, GetdomainnameMatchesGlibcForEveryLength)
{
	expect_same_buffers(kshare_getdomainname, getdomainname);
}

TEST_F(UtsFallback, UnameAndNprocs)
{
	utsname a, b;
	ASSERT_EQ(kshare_uname(&a), 0);
	ASSERT_EQ(uname(&b), 0);
	EXPECT_EQ(std::memcmp(&a, &b, sizeof(a)), 0);
	EXPECT_EQ(kshare_get_nprocs(), get_nprocs());
	errno = 0;
	EXPECT_EQ(kshare_uname(nullptr), -1);
	EXPECT_EQ(errno, EFAULT);
}

} // namespace
