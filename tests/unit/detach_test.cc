// SPDX-License-Identifier: MIT
// kshare_munmap() and its siblings on a simulated area in mmap()ed memory:
// exactly the calls that would leave the library reading a hole make it
// detach, and a detached library answers through the system calls. The
// real area's behaviour under these calls is tested in the guest
// (tests/guest/abuse.c).
#include "detail.hpp"
#include "internal.h"

#include <gtest/gtest.h>
#include <cstring>
#include <string>
#include <thread>
#include <csignal>
#include <pthread.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

constexpr std::size_t page = 4096;

// Whether a reader of the latch finds a title on @t: the slot the counter
// points at has KSHARE_TITLE_SET.
bool shows_a_title(const kshare_title *t)
{
	const std::uint32_t seq = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);
	return __atomic_load_n(&t->slot[seq & 1].flags, __ATOMIC_RELAXED) & KSHARE_TITLE_SET;
}

// A title cleared, as the library clears it: neither slot has one.
bool cleared(const kshare_title *t)
{
	return !(t->slot[0].flags & KSHARE_TITLE_SET) && !(t->slot[1].flags & KSHARE_TITLE_SET);
}

// The slot @i of @t as a string: its title, up to its length.
std::string slot_title(const kshare_title *t, int i)
{
	const kshare_title_slot &s = t->slot[i];
	return std::string(s.title, strnlen(s.title, std::min<std::size_t>(s.len, KSHARE_TITLE_LEN - 1)));
}

// The area (header and proc page) and the title page, a mapping of its own,
// as the kernel maps them; with a page of our own before the area, one
// between the area and the title page and one after it, so that the tests
// can unmap around both without hitting anybody else's memory.
class Detach : public testing::Test {
protected:
	static constexpr std::size_t pages = 6;
	char *reserved = nullptr;
	char *base = nullptr;
	char *title = nullptr;

	void SetUp() override
	{
		void *p = mmap(nullptr, pages * page, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(p, MAP_FAILED);
		reserved = static_cast<char *>(p);
		base = reserved + page;
		title = base + 3 * page;
		auto *h = reinterpret_cast<kshare_sys_header *>(base);
		h->magic = KSHARE_MAGIC;
		h->abi_version = KSHARE_ABI_VERSION;
		h->header_size = sizeof(*h);
		h->map_size = 2 * page;
		h->features = KSHARE_FEATURE_PROC_PID | KSHARE_FEATURE_TITLE;
		h->proc_offset = page;
		h->proc_size = sizeof(kshare_proc_page);
		h->title_size = sizeof(kshare_title);
		auto *pp = reinterpret_cast<kshare_proc_page *>(base + page);
		pp->pid = 424242; // no real process has this pid here
		pp->valid = KSHARE_PROC_VALID_PID;
		ASSERT_EQ(kshare__attach(base, title), 0);
		ASSERT_EQ(kshare_getpid(), 424242);
	}
	void TearDown() override
	{
		kshare__attach(nullptr, nullptr);
		syscall(SYS_munmap, reserved, pages * page); // whatever is left
	}
	bool attached() { return kshare_getpid() == 424242; }
	kshare_title *page_title() { return reinterpret_cast<kshare_title *>(title); }
	// Whether titles still go to the title page.
	bool title_on_the_page()
	{
		kshare_setproctitle("-%s", "probe");
		const bool on = shows_a_title(page_title());
		kshare_setproctitle(nullptr);
		return on;
	}
};

TEST_F(Detach, MunmapOfTheAreaDetachesFirst)
{
	ASSERT_EQ(kshare_munmap(base, 2 * page), 0);
	EXPECT_FALSE(attached());
	EXPECT_EQ(kshare_getpid(), static_cast<pid_t>(syscall(SYS_getpid)));
	EXPECT_FALSE(kshare_available(KSHARE_FEATURE_PROC_PID));
}

// The title page alone: the title moves to argv, the area stays in use.
TEST_F(Detach, MunmapOfTheTitlePageDetachesTheTitleOnly)
{
	kshare_setproctitle("-%s", "before the title page went");
	ASSERT_EQ(kshare_munmap(title, page), 0);
	EXPECT_TRUE(attached());
	EXPECT_TRUE(kshare_available(KSHARE_FEATURE_PROC_PID));
	char buf[64];
	kshare_getproctitle(buf, sizeof(buf));
	EXPECT_STREQ(buf, "before the title page went") << "carried over into argv";
	kshare_setproctitle("-%s", "after"); // must not fault
	kshare_getproctitle(buf, sizeof(buf));
	EXPECT_STREQ(buf, "after");
	kshare_setproctitle(nullptr);
}

TEST_F(Detach, MunmapBesideTheAreaDoesNot)
{
	// A range ending where the area begins, the page between the area and
	// the title page, and the page after the title page.
	EXPECT_EQ(kshare_munmap(base - page, page), 0);
	EXPECT_EQ(kshare_munmap(base + 2 * page, page), 0);
	EXPECT_EQ(kshare_munmap(base + 4 * page, page), 0);
	EXPECT_TRUE(attached());
	EXPECT_TRUE(title_on_the_page());
	// A byte of the area's last page is the area: the kernel refuses an
	// unaligned address, but the library cannot know that and detaches.
	EXPECT_EQ(kshare_munmap(base + 2 * page - 1, 1), -1);
	EXPECT_FALSE(attached());
}

TEST_F(Detach, HugeLengthsDoNotWrapAround)
{
	// [the page after the title page, the top of the address space).
	EXPECT_EQ(kshare_munmap(base + 4 * page, SIZE_MAX - page), -1);
	EXPECT_TRUE(attached());
	EXPECT_TRUE(title_on_the_page());
	EXPECT_EQ(kshare_munmap(base - page, SIZE_MAX - page), -1);
	EXPECT_FALSE(attached());
}

TEST_F(Detach, MremapAwayOrOntoTheAreaDetaches)
{
	void *moved = kshare_mremap(base, 2 * page, 2 * page, MREMAP_MAYMOVE);
	ASSERT_NE(moved, MAP_FAILED);
	EXPECT_FALSE(attached());
	kshare__attach(nullptr, nullptr);
	syscall(SYS_munmap, moved, 2 * page);
	syscall(SYS_munmap, reserved, pages * page);

	SetUp();
	void *other = mmap(nullptr, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(other, MAP_FAILED);
	void *onto = kshare_mremap(other, page, page, MREMAP_MAYMOVE | MREMAP_FIXED, base + page);
	EXPECT_EQ(onto, base + page);
	EXPECT_FALSE(attached());
}

TEST_F(Detach, OnlyMapFixedMmapOverTheAreaDetaches)
{
	void *p = kshare_mmap(base, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(p, MAP_FAILED);
	EXPECT_TRUE(attached()) << "a hint is not MAP_FIXED";
	if (p != base)
		syscall(SYS_munmap, p, page);
	p = kshare_mmap(base, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			-1, 0);
	EXPECT_EQ(p, MAP_FAILED);
	EXPECT_EQ(errno, EEXIST);
	EXPECT_TRUE(attached()) << "MAP_FIXED_NOREPLACE does not replace";
	p = kshare_mmap(base, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	EXPECT_EQ(p, base);
	EXPECT_FALSE(attached());
}

TEST_F(Detach, OnlyUnreadableMprotectDetaches)
{
	EXPECT_EQ(kshare_mprotect(base, 2 * page, PROT_READ), 0);
	EXPECT_TRUE(attached());
	EXPECT_EQ(kshare_mprotect(base + page, page, PROT_NONE), 0);
	EXPECT_FALSE(attached());
}

// A title page that can no longer be written would fault setproctitle():
// titles go to argv from then on; the area stays in use.
TEST_F(Detach, ReadOnlyTitlePageDetachesTheTitleOnly)
{
	EXPECT_EQ(kshare_mprotect(base, 2 * page, PROT_READ), 0);
	EXPECT_TRUE(attached()) << "the read-only pages stay readable";
	EXPECT_TRUE(title_on_the_page());
	EXPECT_EQ(kshare_mprotect(title, page, PROT_READ), 0);
	EXPECT_TRUE(attached());
	kshare_setproctitle("-%s", "after the page went read-only"); // must not fault
	char buf[64];
	kshare_getproctitle(buf, sizeof(buf));
	EXPECT_STREQ(buf, "after the page went read-only");
	EXPECT_TRUE(cleared(page_title()));
	kshare_setproctitle(nullptr);
}

TEST_F(Detach, MovingOrOverlayingTheTitlePageDetachesTheTitleOnly)
{
	void *room = mmap(nullptr, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(room, MAP_FAILED);
	void *moved = kshare_mremap(title, page, page, MREMAP_MAYMOVE | MREMAP_FIXED, room);
	ASSERT_EQ(moved, room);
	EXPECT_TRUE(attached());
	kshare_setproctitle("-%s", "after the move");
	EXPECT_TRUE(cleared(reinterpret_cast<kshare_title *>(moved)));
	syscall(SYS_munmap, moved, page);

	TearDown();
	SetUp();
	void *p = kshare_mmap(title, page, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(p, title);
	EXPECT_TRUE(attached());
	kshare_setproctitle("-%s", "after the overlay");
	EXPECT_TRUE(cleared(page_title())) << "wrote the new memory";
	kshare_setproctitle(nullptr);

	TearDown();
	SetUp();
	// Moving some other memory onto the title page.
	room = mmap(nullptr, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(room, MAP_FAILED);
	EXPECT_EQ(kshare_mremap(room, page, page, MREMAP_MAYMOVE | MREMAP_FIXED, title), title);
	EXPECT_TRUE(attached());
	kshare_setproctitle("-%s", "after the move onto it"); // must not fault
	kshare_setproctitle(nullptr);
}

// Another copy of the library in the process mapped the title page and
// said where (kshare__title_chain): this copy guards it too.
TEST_F(Detach, TitlePageAnnouncedByAnotherCopyIsGuarded)
{
	kshare__attach(base, nullptr);
	kshare::detail::title_chain(title, page);
	EXPECT_EQ(kshare_munmap(base + 2 * page, page), 0);
	EXPECT_EQ(kshare_munmap(base + 4 * page, page), 0);
	EXPECT_TRUE(attached());
	page_title()->slot[0].flags = KSHARE_TITLE_SET; // the other copy's title
	page_title()->slot[1].flags = KSHARE_TITLE_SET;
	// The other copy would carry its title over; this one has none.
	EXPECT_EQ(kshare_munmap(title, page), 0);
	EXPECT_TRUE(attached());
	kshare_setproctitle("-%s", "in argv"); // this copy has no title page
	char buf[64];
	kshare_getproctitle(buf, sizeof(buf));
	EXPECT_STREQ(buf, "in argv");
	kshare_setproctitle(nullptr);
}

// The title page's fast forms ("%s" with the program's name, "-%s" bare),
// printf formats, and titles cut at the page's capacity.
TEST_F(Detach, TitleFormsOnThePage)
{
	char buf[8192];
	kshare_setproctitle("%s", "serving");
	kshare_getproctitle(buf, sizeof(buf));
	EXPECT_EQ(std::string(buf), std::string(program_invocation_short_name) + ": serving");
	kshare_setproctitle("-%s", "bare");
	kshare_getproctitle(buf, sizeof(buf));
	EXPECT_STREQ(buf, "bare");
	// NULL for %s, as glibc's printf shows it (hidden from -Wformat).
	const char *volatile null_arg = nullptr;
	kshare_setproctitle("-%s", null_arg);
	kshare_getproctitle(buf, sizeof(buf));
	EXPECT_STREQ(buf, "(null)");
	kshare_setproctitle("-%d of %s", 3, "four");
	kshare_getproctitle(buf, sizeof(buf));
	EXPECT_STREQ(buf, "3 of four");
	const std::size_t cap = KSHARE_TITLE_LEN; // a slot's bytes, the NUL included
	for (std::size_t n : {cap - 2, cap - 1, cap, cap + 1, std::size_t{5000}}) {
		const std::string t(n, 'x');
		kshare_setproctitle("-%s", t.c_str());
		EXPECT_EQ(static_cast<std::size_t>(kshare_getproctitle(buf, sizeof(buf))),
			  std::min(n, cap - 1));
		kshare_setproctitle("%s", t.c_str());
		EXPECT_EQ(static_cast<std::size_t>(kshare_getproctitle(buf, sizeof(buf))),
			  std::min(n + std::strlen(program_invocation_short_name) + 2, cap - 1));
	}
	kshare_setproctitle(nullptr);
}

// A reader of the title only reads: the kernel's reader, which gives up on a
// counter that keeps moving, must not be starved by a busy getproctitle().
TEST_F(Detach, GetproctitleDoesNotWriteThePage)
{
	auto *t = page_title();
	kshare_setproctitle("-%s", "read me");
	const std::uint32_t seq = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);
	char buf[64];
	for (int i = 0; i < 100; i++) {
		ASSERT_EQ(kshare_getproctitle(buf, sizeof(buf)), 7);
		ASSERT_STREQ(buf, "read me");
	}
	EXPECT_EQ(__atomic_load_n(&t->seq, __ATOMIC_RELAXED), seq);
	kshare_setproctitle(nullptr);
}

// A reader in the process while another thread rewrites the title as fast
// as it can: every read is one of the two titles, never the arguments (the
// fallback when no consistent copy could be had) and never a mix.
TEST_F(Detach, GetproctitleAgainstABusyWriterGetsAWholeTitle)
{
	const std::string a(100, 'a'), b(150, 'b');
	std::atomic<bool> stop{false};
	kshare_setproctitle("-%s", a.c_str());
	std::thread writer([&] {
		for (long i = 0; !stop.load(std::memory_order_relaxed); i++)
			kshare_setproctitle("-%s", (i & 1 ? a : b).c_str());
	});
	long wrong = 0;
	std::string first_wrong;
	const auto check = [&] {
		char buf[256];
		kshare_getproctitle(buf, sizeof(buf));
		if (buf != a && buf != b && wrong++ == 0)
			first_wrong = buf;
	};
	for (int i = 0; i < 100000; i++)
		check();
	// The writer preempted for a long while, often in the middle of a
	// title: a signal handler that sleeps (the scheduler does this to a
	// writer on a loaded machine). The reader must wait for it.
	struct sigaction sa {};
	sa.sa_handler = [](int) { usleep(40 * 1000); };
	sigaction(SIGUSR1, &sa, nullptr);
	for (int i = 0; i < 20; i++) {
		pthread_kill(writer.native_handle(), SIGUSR1);
		usleep(5 * 1000);
		check();
		usleep(40 * 1000);
	}
	stop.store(true);
	writer.join();
	signal(SIGUSR1, SIG_DFL);
	EXPECT_EQ(wrong, 0) << "e.g. '" << first_wrong << "'";
	kshare_setproctitle(nullptr);
}

// The kernel's reader of the latch (kshare_title_read(), for
// /proc/PID/cmdline): 16 tries at the slot the counter points at, then the
// last title it read whole. Against a writer thread retitling as fast as it
// can, every read is one whole title that was set: never none, never torn.
TEST_F(Detach, KernelsReaderOfTheLatchNeverSeesATornTitle)
{
	auto *t = page_title();
	std::atomic<bool> stop{false};
	kshare_setproctitle("-kshare-%lu-%lu", 0ul, 0ul);
	std::thread writer([&] {
		for (unsigned long n = 1; !stop.load(std::memory_order_relaxed); n++)
			kshare_setproctitle("-kshare-%lu-%lu", n, n);
	});
	std::string last = "kshare-0-0"; // the kernel's last whole title
	long torn = 0, fell_back = 0, back = 0;
	unsigned long highest = 0;
	std::string first_torn;
	for (int i = 0; i < 200000; i++) {
		char buf[KSHARE_TITLE_LEN];
		bool whole = false;
		for (int tries = 0; tries < 16 && !whole; tries++) {
			const std::uint32_t seq = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE);
			const kshare_title_slot &s = t->slot[seq & 1];
			const bool set = __atomic_load_n(&s.flags, __ATOMIC_RELAXED) & KSHARE_TITLE_SET;
			std::size_t len = std::min<std::size_t>(__atomic_load_n(&s.len, __ATOMIC_RELAXED),
								KSHARE_TITLE_LEN - 1);
			for (std::size_t k = 0; k < len; k++)
				buf[k] = __atomic_load_n(&s.title[k], __ATOMIC_RELAXED);
			std::atomic_thread_fence(std::memory_order_acquire);
			if (__atomic_load_n(&t->seq, __ATOMIC_RELAXED) != seq)
				continue;
			len = set ? strnlen(buf, len) : 0;
			last.assign(buf, len);
			whole = true;
		}
		fell_back += !whole;
		unsigned long a = 0, b = 0;
		int end = 0;
		if (std::sscanf(last.c_str(), "kshare-%lu-%lu%n", &a, &b, &end) != 2 || a != b ||
		    static_cast<std::size_t>(end) != last.size()) {
			if (torn++ == 0)
				first_torn = last;
			continue;
		}
		back += a < highest;
		highest = std::max(highest, a);
	}
	stop.store(true);
	writer.join();
	EXPECT_EQ(torn, 0) << "e.g. '" << first_torn << "'";
	EXPECT_EQ(back, 0) << "reads that went back to an older title";
	EXPECT_GT(highest, 0ul) << "the writer never ran";
	std::printf("# 200000 reads, titles up to %lu, %ld fell back on the last whole title\n",
		    highest, fell_back);
	kshare_setproctitle(nullptr);
}

// A counter left in the middle of a write (a writer that died; phase 1:
// slot 0 half written, readers on slot 1) is continued from where it is,
// only ever forward, and the write ends in phase 0 with the title in both
// slots. (Both phases, alone and with threads: title_probe.c.)
TEST_F(Detach, StuckTitleCounterIsContinuedForward)
{
	auto *t = page_title();
	kshare_setproctitle("-%s", "before");
	__atomic_store_n(&t->seq, 1001u, __ATOMIC_RELAXED);
	std::memset(t->slot[0].title, 'X', 100);
	char buf[64];
	kshare_getproctitle(buf, sizeof(buf));
	EXPECT_STREQ(buf, "before") << "readers take slot 1 meanwhile";
	kshare_setproctitle("-%s", "continued");
	const std::uint32_t seq = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);
	EXPECT_GT(seq, 1001u);
	EXPECT_EQ(seq % 4, 0u);
	EXPECT_EQ(slot_title(t, 0), "continued");
	EXPECT_EQ(slot_title(t, 1), "continued");
	kshare_getproctitle(buf, sizeof(buf));
	EXPECT_STREQ(buf, "continued");
	kshare_setproctitle(nullptr);
}

// fork() while another thread keeps rewriting the title: fork() waits for a
// write in progress, so a child sees the page with no write under way
// (the counter in phase 0, the title whole in both slots). The kernel
// copies a child's title from the latch, whole in any case; but the
// simulated page is ordinary memory, so each child sees it as fork() left
// it, and the child's copy of the library's locks is free.
TEST_F(Detach, ForkSeesAStableTitlePage)
{
	auto *t = page_title();
	const std::string a(200, 'a'), b(300, 'b');
	std::atomic<bool> stop{false};
	kshare_setproctitle("-%s", a.c_str()); // a title before the first fork
	std::thread writer([&] {
		for (long i = 0; !stop.load(std::memory_order_relaxed); i++)
			kshare_setproctitle("-%s", (i & 1 ? a : b).c_str());
	});
	int unstable = 0;
	for (int i = 0; i < 300; i++) {
		const pid_t pid = fork();
		if (pid == 0) {
			const std::uint32_t seq = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);
			const std::string now = slot_title(t, 0);
			const bool whole = (now == a || now == b) && slot_title(t, 1) == now;
			// The child's library is free to write (a lock copied held
			// would hang it here).
			kshare_setproctitle("-%s", "child");
			_exit(seq % 4 == 0 && whole && slot_title(t, 0) == "child" ? 0 : 1);
		}
		int status = 0;
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			unstable++;
	}
	stop.store(true);
	writer.join();
	EXPECT_EQ(unstable, 0) << "of 300 fork() children saw the title page mid-write";
	kshare_setproctitle(nullptr);
}

TEST_F(Detach, OnlyForkLosingMadviceDetaches)
{
	EXPECT_EQ(kshare_madvise(base, 2 * page, MADV_WILLNEED), 0);
	EXPECT_EQ(kshare_madvise(title, page, MADV_DONTNEED), 0);
	EXPECT_TRUE(attached());
	EXPECT_EQ(kshare_madvise(base, page, MADV_DONTFORK), 0);
	EXPECT_FALSE(attached());
}

TEST_F(Detach, ErrorsAreTheSystemCalls)
{
	errno = 0;
	EXPECT_EQ(kshare_munmap(base + 1, page), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(kshare_mprotect(base + 1, page, PROT_READ), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(kshare_madvise(base, page, 12345), -1);
	EXPECT_EQ(errno, EINVAL);
}

TEST_F(Detach, DetachIsForGoodAndCarriesTheTitleOver)
{
	kshare_setproctitle("-%s", "detach carry-over");
	char buf[64];
	auto *t = page_title();
	ASSERT_TRUE(shows_a_title(t)) << "the title went to the simulated page";
	kshare_detach();
	EXPECT_TRUE(cleared(t)) << "taken off the page";
	EXPECT_GT(kshare_getproctitle(buf, sizeof(buf)), 0);
	EXPECT_STREQ(buf, "detach carry-over") << "now in argv";
	kshare_setproctitle("-%s", "after");
	EXPECT_TRUE(cleared(t)) << "later titles go to argv";
	kshare_getproctitle(buf, sizeof(buf));
	EXPECT_STREQ(buf, "after");
	EXPECT_FALSE(attached());
	EXPECT_FALSE(kshare_available(0)) << "a later look-up does not attach again";
	kshare_setproctitle(nullptr);
}

} // namespace
