// SPDX-License-Identifier: MIT
// kshare_setproctitle on a kernel without kshare: the classic argv
// overwrite, seen by other processes in /proc/PID/cmdline. A fallback test:
// it says nothing about the title page (tests/guest/title.c does).
#include "internal.h"

#include <gtest/gtest.h>
#include <atomic>
#include <thread>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <vector>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

std::string cmdline_of(pid_t pid)
{
	char path[64], buf[8192];
	std::snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	const int fd = open(path, O_RDONLY);
	if (fd < 0)
		return "<none>";
	const ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// Runs @set in a child, then returns what another process sees.
template <typename Set>
std::string title_seen_after(Set set)
{
	int ready[2];
	if (pipe(ready) != 0)
		return "<pipe>";
	const pid_t pid = fork();
	if (pid == 0) {
		set();
		char c = 'r';
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	// Our copy of the write end closed: a child that dies first ends the read.
	close(ready[1]);
	char c;
	const bool ok = read(ready[0], &c, 1) == 1;
	const std::string seen = ok ? cmdline_of(pid) : "<child died>";
	kill(pid, SIGKILL);
	waitpid(pid, nullptr, 0);
	close(ready[0]);
	return seen;
}

// /proc/PID/cmdline of an argv-overwritten process: the title, then NULs.
std::string up_to_nul(const std::string &s)
{
	return s.substr(0, s.find('\0'));
}

class TitleFallback : public testing::Test {
protected:
	void SetUp() override
	{
		// Detached: the title goes to argv, on any kernel.
		kshare__attach(nullptr, nullptr);
	}
};

TEST_F(TitleFallback, BareTitleOverwritesArgv)
{
	EXPECT_EQ(up_to_nul(title_seen_after([] { kshare_setproctitle("-worker %d", 7); })),
		  "worker 7");
}

TEST_F(TitleFallback, PrefixedWithTheProgramName)
{
	const std::string expect = std::string(program_invocation_short_name) + ": idle";
	EXPECT_EQ(up_to_nul(title_seen_after([] { kshare_setproctitle("idle"); })), expect);
}

TEST_F(TitleFallback, NullRestoresTheArguments)
{
	const std::string original = cmdline_of(getpid());
	EXPECT_EQ(title_seen_after([] {
			  kshare_setproctitle("-temporary");
			  kshare_setproctitle(nullptr);
		  }).substr(0, original.size()),
		  original);
}

TEST_F(TitleFallback, GetproctitleReturnsIt)
{
	const std::string seen = title_seen_after([] {
		kshare_setproctitle("-hello %s", "there");
		char buf[64];
		if (kshare_getproctitle(buf, sizeof(buf)) != 11 || std::strcmp(buf, "hello there"))
			_exit(1);
		char small[4];
		if (kshare_getproctitle(small, sizeof(small)) != 11 || std::strcmp(small, "hel"))
			_exit(1);
	});
	EXPECT_EQ(up_to_nul(seen), "hello there");
}

TEST_F(TitleFallback, EnvironmentSurvivesALongTitle)
{
	setenv("KSHARE_TEST_VARIABLE", "still-here", 1);
	const std::string seen = title_seen_after([] {
		const std::string long_title(300, 'x');
		kshare_setproctitle("-%s", long_title.c_str());
		const char *v = getenv("KSHARE_TEST_VARIABLE");
		if (!v || std::strcmp(v, "still-here"))
			_exit(1);
	});
	EXPECT_EQ(up_to_nul(seen).substr(0, 10), std::string(10, 'x'));
}

// One thread sets two titles in turn while another reads the title back:
// every read is one whole title, never a mix of the two.
TEST_F(TitleFallback, GetproctitleNeverTearsAgainstAWriter)
{
	const std::string seen = title_seen_after([] {
		// Short (gtest takes its flags out of argv, which leaves little
		// room), and of different lengths: a reader between the writer's
		// copy and its NUL padding would see "bbaaaa...".
		const std::string a(24, 'a'), b(2, 'b');
		std::atomic<long> writes{0};
		std::atomic<bool> stop{false};
		kshare_setproctitle("-%s", a.c_str());
		std::thread writer([&] {
			for (long i = 0; !stop.load(std::memory_order_relaxed); i++) {
				kshare_setproctitle("-%s", (i & 1 ? a : b).c_str());
				writes.store(i + 1, std::memory_order_relaxed);
			}
		});
		long reads = 0, torn = 0;
		while (reads < 20000 || writes.load(std::memory_order_relaxed) < 20000) {
			char buf[64];
			kshare_getproctitle(buf, sizeof(buf));
			if (std::strcmp(buf, a.c_str()) && std::strcmp(buf, b.c_str()) &&
			    torn++ == 0)
				std::fprintf(stderr, "torn: '%s'\n", buf);
			reads++;
		}
		stop.store(true);
		writer.join();
		if (torn) {
			std::fprintf(stderr, "%ld of %ld reads torn\n", torn, reads);
			_exit(1);
		}
		kshare_setproctitle("-%s", "untorn");
	});
	EXPECT_EQ(up_to_nul(seen), "untorn");
}

// The argv fallback as a program started by execve() sees it: title_probe
// links libkshare and checks one case per run (see title_probe.c).
int run_probe(const std::string &argv0, const std::vector<std::string> &args,
	      const std::vector<std::string> &env = {})
{
	std::vector<char *> argv{const_cast<char *>(argv0.c_str())};
	for (const auto &a : args)
		argv.push_back(const_cast<char *>(a.c_str()));
	argv.push_back(nullptr);
	// KSHARE=off: the argv fallback, whatever the kernel.
	std::vector<char *> envp{const_cast<char *>("KSHARE=off")};
	for (const auto &e : env)
		envp.push_back(const_cast<char *>(e.c_str()));
	// Sanitizer runs pass their options on.
	std::vector<std::string> options;
	for (const char *name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"})
		if (const char *v = getenv(name))
			options.push_back(std::string(name) + "=" + v);
	for (auto &o : options)
		envp.push_back(o.data());
	envp.push_back(nullptr);
	const pid_t pid = fork();
	if (pid == 0) {
		execve(KSHARE_TITLE_PROBE, argv.data(), envp.data());
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

TEST(TitleProbe, LongProgramNameAndTitleStayInTheBuffer)
{
	// exec -a with 5000 bytes: "progname: " alone is longer than the buffer.
	EXPECT_EQ(run_probe(std::string(5000, 'A'), {"long-names"}), 0);
	EXPECT_EQ(run_probe("probe", {"long-names"}), 0);
}

TEST(TitleProbe, GetenvPointerSurvivesTheFirstTitle)
{
	EXPECT_EQ(run_probe("probe", {"getenv-survives"},
			    {"KSHARE_PROBE=still-here", "FILLER=" + std::string(2000, 'f')}),
		  0);
}

TEST(TitleProbe, ReassignedArgv0IsLeftAlone)
{
	EXPECT_EQ(run_probe("p", {"argv0-reassigned"}, {"FILLER=" + std::string(200, 'f')}), 0);
}

TEST(TitleProbe, GetproctitleJoinsTheArguments)
{
	EXPECT_EQ(run_probe("probe", {"get-joined", "two", "three"}, {"A=b"}), 0);
}

TEST(TitleProbe, GetproctitleLeavesEnvironAlone)
{
	EXPECT_EQ(run_probe("probe", {"get-leaves-environ"}, {"A=b", "C=d"}), 0);
}

// The title page's writer continues a counter a dead writer left in the
// middle of a title, with one thread (plain stores, no wait) and after a
// second one (the page's lock taken over).
TEST(TitleProbe, StuckTitleCounterIsContinuedForward)
{
	EXPECT_EQ(run_probe("probe", {"stuck-counter", "alone"}), 0);
	EXPECT_EQ(run_probe("probe", {"stuck-counter", "threads"}), 0);
}

TEST(TitleProbe, EnvironMovedBeforeMain)
{
	EXPECT_EQ(run_probe("probe", {"environ-moved-at-start"}, {"A=b", "C=d"}), 0);
}

} // namespace
