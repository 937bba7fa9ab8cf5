// SPDX-License-Identifier: MIT
// The C++ header, <kshare/kshare.hpp>: every wrapper against the C call and
// against the system call, on whatever kernel runs the tests (on one
// without kshare, every call takes the fallback). Only the public headers:
// this is what an application sees; except at the end, where a simulated
// area (simulated_area.hpp) gives every field a value of its own, so that a
// wrapper reading the wrong one, or a detach() that does nothing, shows.
// The compile-time format check is tested by the cxx-format-* ctests
// (cxx_format_check.cc).
#include <kshare/kshare.hpp>

#include "simulated_area.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <regex>
#include <sched.h>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

// ---- helpers ----------------------------------------------------------------

std::string str(std::string_view s) { return std::string(s); }
template <class T>
	requires std::is_arithmetic_v<T>
std::string str(T v)
{
	return std::to_string(v);
}

// Collects a forked child's failures, to be reported by the parent.
struct child_log {
	std::string text;

	template <class A, class B>
	void eq(const A &a, const B &b, const char *what, int line)
	{
		if (!(a == b))
			text += "line " + std::to_string(line) + ": " + what + ": '" + str(a) +
				"' != '" + str(b) + "'\n";
	}
	void ok(bool cond, const char *what, int line)
	{
		if (!cond)
			text += "line " + std::to_string(line) + ": " + what + "\n";
	}
};
#define CHILD_EQ(log, a, b) (log).eq((a), (b), #a " == " #b, __LINE__)
#define CHILD_OK(log, cond) (log).ok((cond), #cond, __LINE__)

// Runs @check(log) in a forked child, for what must not touch the test
// process (titles, namespaces, ids); returns the child's failures, "" if
// none.
template <class Check>
std::string in_child(Check check)
{
	int out[2];
	if (pipe(out) != 0)
		return "pipe failed";
	const pid_t pid = fork();
	if (pid < 0)
		return "fork failed";
	if (pid == 0) {
		close(out[0]);
		child_log log;
		check(log);
		const ssize_t n = write(out[1], log.text.data(), log.text.size());
		_exit(log.text.empty() && n == 0 ? 0 : 1);
	}
	close(out[1]);
	std::string text;
	char buf[512];
	ssize_t n;
	while ((n = read(out[0], buf, sizeof(buf))) > 0)
		text.append(buf, static_cast<std::size_t>(n));
	close(out[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status))
		return text + "child killed by signal " + std::to_string(WTERMSIG(status));
	if (WEXITSTATUS(status) != 0 && text.empty())
		return "child exited with " + std::to_string(WEXITSTATUS(status));
	return text;
}

std::string cmdline()
{
	std::ifstream in("/proc/self/cmdline", std::ios::binary);
	return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// What ps shows for this process: /proc/self/cmdline up to its first NUL
// (a title set by overwriting argv, or from the title page, is one string).
std::string shown_title()
{
	const std::string s = cmdline();
	return s.substr(0, s.find('\0'));
}

// The C call's title, to compare the wrapper's with.
std::string c_title()
{
	char buf[8192];
	const ssize_t n = kshare_getproctitle(buf, sizeof(buf));
	return n < 0 ? "<error>" : std::string(buf);
}

constexpr std::uint64_t bits(kshare::feature f) { return static_cast<std::uint64_t>(f); }

// ---- the process page ---------------------------------------------------------

TEST(Cxx, ProcessIdsMatchTheCCallAndTheSystemCall)
{
	EXPECT_EQ(kshare::getpid(), ::syscall(SYS_getpid));
	EXPECT_EQ(kshare::getpid(), kshare_getpid());
	EXPECT_EQ(kshare::getppid(), ::syscall(SYS_getppid));
	EXPECT_EQ(kshare::getppid(), kshare_getppid());
	EXPECT_EQ(kshare::gettid(), ::syscall(SYS_gettid));
	EXPECT_EQ(kshare::gettid(), kshare_gettid());
	EXPECT_EQ(kshare::getpgrp(), ::syscall(SYS_getpgid, 0));
	EXPECT_EQ(kshare::getpgrp(), kshare_getpgrp());
	EXPECT_EQ(kshare::getsid(), ::syscall(SYS_getsid, 0));
	EXPECT_EQ(kshare::getsid(0), kshare_getsid(0));
	EXPECT_EQ(kshare::getsid(kshare::getpid()), ::syscall(SYS_getsid, 0));
}

TEST(Cxx, GetsidFailsAsTheSystemCallDoes)
{
	// A pid no process has (pid_max is at most 2^22).
	errno = 0;
	EXPECT_EQ(kshare::getsid(0x7ffffff0), -1);
	EXPECT_EQ(errno, ESRCH);
}

TEST(Cxx, ThreadIdsDifferPerThread)
{
	pid_t other = 0;
	std::thread t([&] { other = kshare::gettid(); });
	t.join();
	EXPECT_NE(other, kshare::gettid());
	EXPECT_NE(other, 0);
}

TEST(Cxx, CredentialsMatchTheSystemCall)
{
	EXPECT_EQ(kshare::getuid(), static_cast<uid_t>(::syscall(SYS_getuid)));
	EXPECT_EQ(kshare::geteuid(), static_cast<uid_t>(::syscall(SYS_geteuid)));
	EXPECT_EQ(kshare::getgid(), static_cast<gid_t>(::syscall(SYS_getgid)));
	EXPECT_EQ(kshare::getegid(), static_cast<gid_t>(::syscall(SYS_getegid)));

	uid_t u[3];
	ASSERT_EQ(::syscall(SYS_getresuid, &u[0], &u[1], &u[2]), 0);
	EXPECT_EQ(kshare::getresuid(), (kshare::resids<uid_t>{u[0], u[1], u[2]}));
	gid_t g[3];
	ASSERT_EQ(::syscall(SYS_getresgid, &g[0], &g[1], &g[2]), 0);
	EXPECT_EQ(kshare::getresgid(), (kshare::resids<gid_t>{g[0], g[1], g[2]}));
}

// With every id the same, real, effective and saved could come back in any
// order: a child with three different ones of each tells them apart.
TEST(Cxx, ResidsKeepRealEffectiveAndSavedApart)
{
	if (::geteuid() != 0)
		GTEST_SKIP() << "needs root to give a child three different ids";
	EXPECT_EQ(in_child([](child_log &log) {
			  if (::setresgid(10, 20, 30) != 0 || ::setresuid(1, 2, 3) != 0) {
				  log.text = "setresgid/setresuid failed";
				  return;
			  }
			  const auto [ruid, euid, suid] = kshare::getresuid();
			  CHILD_EQ(log, ruid, 1u);
			  CHILD_EQ(log, euid, 2u);
			  CHILD_EQ(log, suid, 3u);
			  const kshare::resids<gid_t> gids = kshare::getresgid();
			  CHILD_EQ(log, gids.real, 10u);
			  CHILD_EQ(log, gids.effective, 20u);
			  CHILD_EQ(log, gids.saved, 30u);
			  CHILD_EQ(log, kshare::getuid(), 1u);
			  CHILD_EQ(log, kshare::geteuid(), 2u);
			  CHILD_EQ(log, kshare::getgid(), 10u);
			  CHILD_EQ(log, kshare::getegid(), 20u);
		  }),
		  "");
}

// ---- the system page ------------------------------------------------------------

TEST(Cxx, HostAndDomainNameMatchTheSystemCall)
{
	struct utsname u;
	ASSERT_EQ(::syscall(SYS_uname, &u), 0);
	EXPECT_EQ(kshare::hostname().view(), std::string_view(u.nodename));
	EXPECT_EQ(kshare::domainname().view(), std::string_view(u.domainname));

	char c[KSHARE_UTS_LEN];
	ASSERT_EQ(kshare_gethostname(c, sizeof(c)), 0);
	EXPECT_EQ(kshare::hostname(), std::string_view(c));
	ASSERT_EQ(kshare_getdomainname(c, sizeof(c)), 0);
	EXPECT_EQ(kshare::domainname(), std::string_view(c));
}

TEST(Cxx, UnameMatchesTheSystemCall)
{
	struct utsname want;
	ASSERT_EQ(::syscall(SYS_uname, &want), 0);
	const ::utsname got = kshare::uname();
	EXPECT_STREQ(got.sysname, want.sysname);
	EXPECT_STREQ(got.nodename, want.nodename);
	EXPECT_STREQ(got.release, want.release);
	EXPECT_STREQ(got.version, want.version);
	EXPECT_STREQ(got.machine, want.machine);
	EXPECT_STREQ(got.domainname, want.domainname);
}

// Names of our own choosing, in a UTS namespace of the child's own: the
// longest a name can be, and a domain name that is not "(none)".
TEST(Cxx, NamesSetInANewUtsNamespace)
{
	if (::geteuid() != 0)
		GTEST_SKIP() << "needs root for unshare(CLONE_NEWUTS)";
	EXPECT_EQ(in_child([](child_log &log) {
			  const std::string host(KSHARE_UTS_LEN - 1, 'h');
			  const std::string domain = "kshare-cxx.example";
			  if (::unshare(CLONE_NEWUTS) != 0 ||
			      ::sethostname(host.data(), host.size()) != 0 ||
			      ::setdomainname(domain.data(), domain.size()) != 0) {
				  log.text = std::string("unshare/sethostname: ") + std::strerror(errno);
				  return;
			  }
			  const kshare::uts_string h = kshare::hostname();
			  CHILD_EQ(log, h.size(), host.size());
			  CHILD_EQ(log, h.view(), std::string_view(host));
			  CHILD_EQ(log, std::strlen(h.c_str()), host.size());
			  CHILD_EQ(log, kshare::domainname().view(), std::string_view(domain));
			  const ::utsname u = kshare::uname();
			  CHILD_EQ(log, std::string_view(u.nodename), std::string_view(host));
			  CHILD_EQ(log, std::string_view(u.domainname), std::string_view(domain));
		  }),
		  "");
}

TEST(Cxx, UtsStringIsAValue)
{
	constexpr kshare::uts_string empty;
	static_assert(empty.empty() && empty.size() == 0 && empty.c_str()[0] == '\0');
	static_assert(kshare::uts_string::capacity == KSHARE_UTS_LEN - 1);

	const kshare::uts_string a{"alpha"};
	EXPECT_EQ(a, "alpha");
	EXPECT_EQ("alpha", a);
	EXPECT_NE(a, "alph");
	EXPECT_EQ(a, kshare::uts_string{"alpha"});
	EXPECT_LT(a, kshare::uts_string{"beta"});
	EXPECT_EQ(std::string(a.begin(), a.end()), "alpha");
	const std::string_view v = a;
	EXPECT_EQ(v, "alpha");
	EXPECT_EQ(v.data(), a.data());

	// Too long, or with a NUL inside: cut, always NUL-terminated.
	const std::string longer(100, 'x');
	const kshare::uts_string cut{longer};
	EXPECT_EQ(cut.size(), kshare::uts_string::capacity);
	EXPECT_EQ(std::strlen(cut.c_str()), kshare::uts_string::capacity);
	EXPECT_EQ(kshare::uts_string(std::string_view("ab\0cd", 5)), "ab");
}

TEST(Cxx, CpuCountAndGenerationMatchTheCCall)
{
	EXPECT_EQ(kshare::get_nprocs(), ::get_nprocs());
	EXPECT_EQ(kshare::get_nprocs(), ::sysconf(_SC_NPROCESSORS_ONLN));
	EXPECT_EQ(kshare::get_nprocs(), kshare_get_nprocs());
	EXPECT_EQ(kshare::uts_generation(), kshare_uts_generation());
}

// ---- features ---------------------------------------------------------------------

// Every KSHARE_FEATURE_* bit of the uapi header, read from the header
// itself: a bit added there without its enumerator here fails this.
TEST(Cxx, FeatureAllIsEveryBitOfTheUapiHeader)
{
	std::ifstream in(KSHARE_UAPI_H);
	ASSERT_TRUE(in) << KSHARE_UAPI_H;
	std::stringstream text;
	text << in.rdbuf();
	const std::string s = text.str();
	const std::regex define(R"(#define\s+KSHARE_FEATURE_\w+\s+\(1ULL\s*<<\s*(\d+)\))");
	std::uint64_t all = 0;
	int n = 0;
	for (std::sregex_iterator i(s.begin(), s.end(), define), end; i != end; ++i, ++n)
		all |= 1ULL << std::stoi((*i)[1]);
	EXPECT_GE(n, 8);
	EXPECT_EQ(bits(kshare::feature::all), all);
}

TEST(Cxx, FeatureEnumeratorsAreTheUapiBits)
{
	using kshare::feature;
	static_assert(bits(feature::pid) == KSHARE_FEATURE_PROC_PID);
	static_assert(bits(feature::ppid) == KSHARE_FEATURE_PROC_PPID);
	static_assert(bits(feature::pgid_sid) == KSHARE_FEATURE_PROC_PGID_SID);
	static_assert(bits(feature::creds) == KSHARE_FEATURE_PROC_CREDS);
	static_assert(bits(feature::tid_cache) == KSHARE_FEATURE_PROC_TID_CACHE);
	static_assert(bits(feature::uts) == KSHARE_FEATURE_UTS);
	static_assert(bits(feature::nprocs) == KSHARE_FEATURE_NPROCS);
	static_assert(bits(feature::title) == KSHARE_FEATURE_TITLE);
	static_assert(bits(feature::none) == 0);
}

TEST(Cxx, FeatureOperators)
{
	using kshare::feature;
	constexpr feature both = feature::uts | feature::nprocs;
	static_assert(bits(both) == (KSHARE_FEATURE_UTS | KSHARE_FEATURE_NPROCS));
	static_assert((both & feature::uts) == feature::uts);
	static_assert((both & feature::pid) == feature::none);
	static_assert((~feature::all) == feature::none);
	static_assert((~feature::none) == feature::all);
	static_assert((~feature::pid & feature::pid) == feature::none);
	static_assert((~feature::pid | feature::pid) == feature::all);

	feature f = feature::pid;
	f |= feature::title;
	EXPECT_EQ(bits(f), KSHARE_FEATURE_PROC_PID | KSHARE_FEATURE_TITLE);
	f &= feature::title;
	EXPECT_EQ(f, feature::title);
}

TEST(Cxx, AvailableIsTheCCall)
{
	using kshare::feature;
	for (const feature f : {feature::none, feature::pid, feature::ppid, feature::pgid_sid,
				feature::creds, feature::tid_cache, feature::uts, feature::nprocs,
				feature::title, feature::all, feature::uts | feature::nprocs})
		EXPECT_EQ(kshare::available(f), kshare_available(bits(f)) != 0) << bits(f);
	// A kernel without kshare maintains nothing; one with it, whatever it says.
	if (kshare_available(0) == 0) {
		EXPECT_FALSE(kshare::available(feature::pid));
	}
}

// ---- the title --------------------------------------------------------------------

TEST(Cxx, FormattedTitleWithoutPrefix)
{
	EXPECT_EQ(in_child([](child_log &log) {
			  const std::string pool = "pool";
			  kshare::setproctitle("-worker %d of %s (%.1f%%)", 7, pool, 12.5);
			  CHILD_EQ(log, shown_title(), "worker 7 of pool (12.5%)");
			  CHILD_EQ(log, kshare::getproctitle(), "worker 7 of pool (12.5%)");
			  CHILD_EQ(log, c_title(), "worker 7 of pool (12.5%)");
		  }),
		  "");
}

TEST(Cxx, FormattedTitleWithPrefixIsTheCCalls)
{
	EXPECT_EQ(in_child([](child_log &log) {
			  const std::string prog = program_invocation_short_name;
			  kshare::setproctitle("idle %u %s", 3u, "conns");
			  const std::string ours = shown_title();
			  CHILD_EQ(log, ours, prog + ": idle 3 conns");
			  CHILD_EQ(log, kshare::getproctitle(), ours);
			  // A second title keeps the prefix (argv[0] is overwritten by now).
			  kshare::setproctitle("-%s", "reset");
			  kshare_setproctitle("idle %u %s", 3u, "conns");
			  CHILD_EQ(log, shown_title(), ours);
		  }),
		  "");
}

// A long title: the same as the C call sets, as far as the title's room goes.
TEST(Cxx, LongFormattedTitleIsTheCCalls)
{
	EXPECT_EQ(in_child([](child_log &log) {
			  const std::string body(3000, 'y');
			  kshare_setproctitle("-%s.", body.c_str());
			  const std::string c = shown_title();
			  kshare::setproctitle("-%s", "reset");
			  kshare::setproctitle("-%s.", body);
			  CHILD_EQ(log, shown_title(), c);
			  CHILD_OK(log, c.size() > 10);
		  }),
		  "");
}

TEST(Cxx, VerbatimTitleIsNeitherFormattedNorPrefixed)
{
	EXPECT_EQ(in_child([](child_log &log) {
			  kshare::setproctitle(std::string_view("50% of %s done"));
			  CHILD_EQ(log, shown_title(), "50% of %s done");
			  // A leading '-' is part of the title too.
			  kshare::setproctitle(std::string("-dash"));
			  CHILD_EQ(log, shown_title(), "-dash");
			  // Not NUL-terminated: only the view's bytes.
			  kshare::setproctitle(std::string_view("abcdef").substr(1, 3));
			  CHILD_EQ(log, shown_title(), "bcd");
			  CHILD_EQ(log, kshare::getproctitle(), "bcd");
		  }),
		  "");
}

TEST(Cxx, NullRestoresTheArguments)
{
	EXPECT_EQ(in_child([](child_log &log) {
			  const std::string original = cmdline();
			  kshare::setproctitle("-temporary");
			  CHILD_EQ(log, kshare::getproctitle(), "temporary");
			  CHILD_OK(log, cmdline() != original);
			  kshare::setproctitle(nullptr);
			  CHILD_EQ(log, cmdline().substr(0, original.size()), original);
			  CHILD_EQ(log, kshare::getproctitle(), c_title());
		  }),
		  "");
}

// A printf-style wrapper of the application's own, over vsetproctitle().
__attribute__((format(printf, 1, 2))) void app_title(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kshare::vsetproctitle(fmt, ap);
	va_end(ap);
}

TEST(Cxx, VsetproctitleForWrappers)
{
	EXPECT_EQ(in_child([](child_log &log) {
			  const std::string original = cmdline();
			  const std::string prog = program_invocation_short_name;
			  app_title("va %x", 255u);
			  CHILD_EQ(log, shown_title(), prog + ": va ff");
			  app_title("-va %d %s", 5, "five");
			  CHILD_EQ(log, shown_title(), "va 5 five");
			  app_title(nullptr);
			  CHILD_EQ(log, cmdline().substr(0, original.size()), original);
		  }),
		  "");
}

TEST(Cxx, GetproctitleIntoABuffer)
{
	EXPECT_EQ(in_child([](child_log &log) {
			  kshare::setproctitle("-hello %s", "there");
			  char buf[64];
			  CHILD_EQ(log, kshare::getproctitle(buf), 11u);
			  CHILD_EQ(log, std::string_view(buf), "hello there");
			  char small[4];
			  CHILD_EQ(log, kshare::getproctitle(small), 11u);
			  CHILD_EQ(log, std::string_view(small), "hel");
			  CHILD_EQ(log, kshare::getproctitle(std::span<char>()), 11u);
			  CHILD_EQ(log, kshare::getproctitle(std::span<char>()),
				   static_cast<std::size_t>(kshare_getproctitle(nullptr, 0)));
		  }),
		  "");
}

// Longer than the std::string overload's first guess (255 bytes).
TEST(Cxx, GetproctitleAsAStringIsWhole)
{
	EXPECT_EQ(in_child([](child_log &log) {
			  const std::string body(600, 'z');
			  kshare::setproctitle("-%s", body);
			  const std::string c = c_title();
			  CHILD_EQ(log, kshare::getproctitle(), c);
			  CHILD_OK(log, c.size() > 255);
		  }),
		  "");
}

TEST(Cxx, GetproctitleBeforeAnyTitleIsTheCCalls)
{
	EXPECT_EQ(in_child([](child_log &log) {
			  const std::string c = c_title();
			  CHILD_EQ(log, kshare::getproctitle(), c);
			  CHILD_OK(log, !c.empty());
		  }),
		  "");
}

// ---- detach -------------------------------------------------------------------------

TEST(Cxx, DetachLeavesEveryAnswerRight)
{
	EXPECT_EQ(in_child([](child_log &log) {
			  kshare::setproctitle("-before detach");
			  kshare::detach();
			  CHILD_OK(log, !kshare::available(kshare::feature::none));
			  CHILD_EQ(log, kshare::getpid(), ::syscall(SYS_getpid));
			  CHILD_EQ(log, kshare::getppid(), ::syscall(SYS_getppid));
			  CHILD_EQ(log, kshare::getuid(), static_cast<uid_t>(::syscall(SYS_getuid)));
			  struct utsname u;
			  ::syscall(SYS_uname, &u);
			  CHILD_EQ(log, kshare::hostname().view(), std::string_view(u.nodename));
			  CHILD_EQ(log, kshare::get_nprocs(), ::get_nprocs());
			  // The title carried over to argv, where ps still finds it.
			  CHILD_EQ(log, shown_title(), "before detach");
			  kshare::setproctitle("-after detach");
			  CHILD_EQ(log, shown_title(), "after detach");
		  }),
		  "");
}

// ---- on a simulated area ----------------------------------------------------------

class CxxSimulated : public kshare_test::Simulated {
protected:
	void SetUp() override
	{
		using kshare::feature;
		Simulated::SetUp();
		area.hdr().features = bits(feature::pid | feature::ppid | feature::pgid_sid |
					   feature::creds | feature::uts | feature::nprocs);
		area.proc().valid = KSHARE_PROC_VALID_PID | KSHARE_PROC_VALID_PPID |
				    KSHARE_PROC_VALID_PGID | KSHARE_PROC_VALID_SID |
				    KSHARE_PROC_VALID_CREDS | KSHARE_PROC_VALID_UTS;
		area.uts().valid = KSHARE_UTS_VALID_NAMES | KSHARE_UTS_VALID_NPROCS;
		ASSERT_EQ(kshare__attach(&area, nullptr), 0);
	}
};

TEST_F(CxxSimulated, EveryWrapperReadsItsOwnField)
{
	using kshare::feature;
	EXPECT_EQ(kshare::getpid(), 424242);
	EXPECT_EQ(kshare::getppid(), 424241);
	EXPECT_EQ(kshare::getpgrp(), 424240);
	EXPECT_EQ(kshare::getsid(), 424239);
	EXPECT_EQ(kshare::getsid(424242), 424239);
	// Ids 5000 + their index: uid, euid, suid, fsuid, gid, egid, sgid, fsgid.
	EXPECT_EQ(kshare::getuid(), 5000u);
	EXPECT_EQ(kshare::geteuid(), 5001u);
	EXPECT_EQ(kshare::getgid(), 5004u);
	EXPECT_EQ(kshare::getegid(), 5005u);
	EXPECT_EQ(kshare::getresuid(), (kshare::resids<uid_t>{5000, 5001, 5002}));
	EXPECT_EQ(kshare::getresgid(), (kshare::resids<gid_t>{5004, 5005, 5006}));
	EXPECT_EQ(kshare::hostname(), "simhost");
	EXPECT_EQ(kshare::domainname(), "sim.example");
	const ::utsname u = kshare::uname();
	EXPECT_STREQ(u.sysname, "SimOS");
	EXPECT_STREQ(u.nodename, "simhost");
	EXPECT_STREQ(u.release, "9.9.9-sim");
	EXPECT_STREQ(u.version, "#1 sim");
	EXPECT_STREQ(u.machine, "simarch");
	EXPECT_STREQ(u.domainname, "sim.example");
	EXPECT_EQ(kshare::get_nprocs(), 77);
	EXPECT_NE(kshare::uts_generation(), 0u);
	EXPECT_EQ(kshare::uts_generation(), kshare_uts_generation());
	EXPECT_TRUE(kshare::available(feature::none));
	EXPECT_TRUE(kshare::available(feature::pid | feature::uts | feature::nprocs));
	EXPECT_FALSE(kshare::available(feature::title));
	EXPECT_FALSE(kshare::available(feature::all));
	EXPECT_TRUE(kshare::available(~feature::title & ~feature::tid_cache));
}

TEST_F(CxxSimulated, DetachGoesBackToTheSystemCalls)
{
	ASSERT_EQ(kshare::getpid(), 424242);
	kshare::detach();
	EXPECT_EQ(kshare::getpid(), ::syscall(SYS_getpid));
	EXPECT_EQ(kshare::getuid(), static_cast<uid_t>(::syscall(SYS_getuid)));
	struct utsname u;
	ASSERT_EQ(::syscall(SYS_uname, &u), 0);
	EXPECT_EQ(kshare::hostname(), std::string_view(u.nodename));
	EXPECT_FALSE(kshare::available(kshare::feature::none));
}

} // namespace
