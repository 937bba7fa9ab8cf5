// SPDX-License-Identifier: MIT
// kshare-scaling: reader scaling on the real CPU. 1 and 2 reader threads
// (pinned to different CPUs) with no writer, and with a writer thread
// rewriting the record (hostname, credentials, title) once per microsecond
// or as fast as it can; reads per second per thread and retries per 1000
// reads. The records are those of the simulated area (simulated_area.hpp);
// the hostname's and the credentials' writer is the kernel's protocol, the
// title's is the library's kshare_setproctitle().
//
//   kshare-scaling [--seconds=S] [--runs=N]     JSON on stdout
//
// The library is not instrumented: retries are counted on a copy of its
// read protocol (same loads, same fences, same bounded tries), run in the
// same setting as the library's call; the library's own calls are checked
// for torn values and fallbacks (a fallback returns the host's real answer,
// which the simulated area never holds, or for the title the arguments),
// and counted as "overlapped" when the record's counter was odd or moved
// between just before and just after the call.

#include "simulated_area.hpp"

#include <kshare/kshare.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include <sched.h>
#include <unistd.h>

namespace {

using namespace kshare_bench;

std::vector<int> cpus;

// The library's read protocols, copied (src/uts.cc read_record() and
// copy_racy(), kshare.h kshare__read_ids(), src/title.cc read_title_page()),
// with a retry counter. Return false where the library would fall back.
struct ReadStats {
	std::uint64_t reads = 0, retries = 0, fallbacks = 0, torn = 0, overlapped = 0;
	std::uint64_t retried = 0; // protocol reads that needed more than one try
	// title: reads the kernel's 16 tries would not have got (it then shows
	// the last title it read whole)
	std::uint64_t over_kernel = 0;
	double cpu_s = 0, wall_s = 0;
};

bool protocol_hostname(char *out, ReadStats &st)
{
	const kshare_uts &u = area.uts();
	const auto base = reinterpret_cast<std::uintptr_t>(u.nodename);
	const auto first = base & ~std::uintptr_t{7};
	const std::size_t words = (base + KSHARE_UTS_LEN - first + 7) / 8;
	std::uint64_t buf[(sizeof(kshare_uts) + 16) / 8];

	for (int tries = 0; tries < KSHARE_READ_TRIES; tries++) {
		const std::uint32_t seq = load(u.seq, std::memory_order_acquire);
		if (seq & 1) {
			st.retries++;
			continue;
		}
		const std::uint32_t valid = load(u.valid);
		[[maybe_unused]] volatile std::uint64_t gen = load(u.generation);
		for (std::size_t i = 0; i < words; i++)
			buf[i] = __atomic_load_n(reinterpret_cast<const std::uint64_t *>(first) + i,
						 __ATOMIC_RELAXED);
		std::memcpy(out, reinterpret_cast<const char *>(buf) + (base - first), KSHARE_UTS_LEN);
		rmb();
		if (load(u.seq) != seq) {
			st.retries++;
			continue;
		}
		return valid & KSHARE_UTS_VALID_NAMES;
	}
	return false;
}

bool protocol_ids(std::uint32_t *out, ReadStats &st)
{
	const kshare_proc_page &p = area.proc();
	for (int tries = 0; tries < KSHARE_READ_TRIES; tries++) {
		const std::uint32_t seq = load(p.cred_seq, std::memory_order_acquire);
		if (seq & 1) {
			st.retries++;
			continue;
		}
		const std::uint32_t valid = load(p.valid);
		for (int i = 0; i < 3; i++)
			out[i] = load((&p.uid)[i]);
		rmb();
		if (load(p.cred_seq) == seq)
			return valid & KSHARE_PROC_VALID_CREDS;
		st.retries++;
	}
	return false;
}

bool protocol_title(char *buf, ReadStats &st)
{
	const kshare_title &t = area.title();
	for (int i = 0; i < 1000; i++) {
		const std::uint32_t seq = load(t.seq, std::memory_order_acquire);
		const kshare_title_slot &s = t.slot[seq & 1];
		const bool set = load(s.flags) & KSHARE_TITLE_SET;
		const std::size_t len = std::min<std::size_t>(load(s.len), KSHARE_TITLE_LEN - 1);
		if (set)
			for (std::size_t k = 0; k < len; k++)
				buf[k] = load(s.title[k]);
		rmb();
		if (load(t.seq) != seq) {
			st.retries++;
			if (i == kernel_title_tries - 1)
				st.over_kernel++;
			continue;
		}
		buf[set ? strnlen(buf, len) : 0] = '\0';
		return set;
	}
	return false;
}

enum class Record { hostname, credentials, title };
const char *record_name[] = { "hostname", "credentials", "title" };

std::string real_hostname;
uid_t real_ids[3];
std::string joined_argv; // what kshare_getproctitle() shows without a title

// One read by reader kind: the library's call (checked), or the protocol copy.
void read_once(Record r, bool library, ReadStats &st)
{
	char buf[4096];
	std::uint32_t ids[3];
	const std::uint64_t retries_before = st.retries;

	switch (r) {
	case Record::hostname:
		if (library) {
			const std::uint32_t s0 = load(area.uts().seq);
			kshare_gethostname(buf, 65);
			const std::uint32_t s1 = load(area.uts().seq);
			st.overlapped += s0 != s1 || (s0 & 1);
			if (real_hostname == buf)
				st.fallbacks++;
			else if (std::strcmp(buf, sim_hosts[0]) && std::strcmp(buf, sim_hosts[1]))
				st.torn++;
		} else if (!protocol_hostname(buf, st)) {
			st.fallbacks++;
		}
		break;
	case Record::credentials:
		if (library) {
			const std::uint32_t s0 = load(area.proc().cred_seq);
			kshare_getresuid(&ids[0], &ids[1], &ids[2]);
			const std::uint32_t s1 = load(area.proc().cred_seq);
			st.overlapped += s0 != s1 || (s0 & 1);
			if (ids[0] == real_ids[0] && ids[1] == real_ids[1] && ids[2] == real_ids[2])
				st.fallbacks++;
			else if (ids[0] != ids[1] || ids[1] != ids[2] ||
				 (ids[0] != sim_ids[0] && ids[0] != sim_ids[1]))
				st.torn++;
		} else if (!protocol_ids(ids, st)) {
			st.fallbacks++;
		}
		break;
	case Record::title:
		if (library) {
			const std::uint32_t s0 = load(area.title().seq);
			kshare_getproctitle(buf, sizeof(buf));
			const std::uint32_t s1 = load(area.title().seq);
			st.overlapped += s0 != s1 || (s0 & 1);
			if (joined_argv == buf)
				st.fallbacks++;
			else if (std::strcmp(buf, sim_titles[0]) && std::strcmp(buf, sim_titles[1]))
				st.torn++;
		} else if (!protocol_title(buf, st)) {
			st.fallbacks++;
		}
		break;
	}
	st.retried += st.retries != retries_before;
	st.reads++;
}

double thread_cpu_seconds()
{
	timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

struct RunResult {
	std::vector<ReadStats> readers;
	std::uint64_t writes = 0;
	double wall_s = 0;
};

// @period_ns: the writer's pace, one write per period; 0 as fast as it can.
RunResult run_scaling(Record r, int nreaders, bool writer, long period_ns, bool library,
		      double seconds)
{
	std::atomic<bool> go{false}, stop{false};
	std::atomic<int> ready{0};
	RunResult out;
	out.readers.resize(static_cast<std::size_t>(nreaders));
	std::vector<std::thread> threads;

	for (int i = 0; i < nreaders; i++)
		threads.emplace_back([&, i] {
			pin_self(cpus[static_cast<std::size_t>(i) % cpus.size()]);
			ReadStats &st = out.readers[static_cast<std::size_t>(i)];
			read_once(r, library, st); // warm: the tid cache, the first look
			st = ReadStats{};
			ready++;
			while (!go.load(std::memory_order_acquire))
				;
			const double c0 = thread_cpu_seconds();
			const auto w0 = std::chrono::steady_clock::now();
			while (!stop.load(std::memory_order_relaxed))
				read_once(r, library, st);
			st.cpu_s = thread_cpu_seconds() - c0;
			st.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
		});
	std::thread w;
	std::atomic<std::uint64_t> writes{0};
	if (writer)
		w = std::thread([&] {
			pin_self(cpus.back());
			std::uint64_t n = 0;
			ready++;
			while (!go.load(std::memory_order_acquire))
				;
			auto next = std::chrono::steady_clock::now();
			while (!stop.load(std::memory_order_relaxed)) {
				if (period_ns) {
					next += std::chrono::nanoseconds(period_ns);
					while (std::chrono::steady_clock::now() < next &&
					       !stop.load(std::memory_order_relaxed))
						;
				}
				switch (r) {
				case Record::hostname: write_uts(static_cast<int>(n)); break;
				case Record::credentials: write_creds(static_cast<int>(n)); break;
				case Record::title: write_title(static_cast<int>(n)); break;
				}
				n++;
			}
			writes = n;
		});
	while (ready.load() < nreaders + (writer ? 1 : 0))
		std::this_thread::yield();
	const auto w0 = std::chrono::steady_clock::now();
	go.store(true, std::memory_order_release);
	std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
	stop.store(true);
	for (auto &t : threads)
		t.join();
	if (w.joinable())
		w.join();
	out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
	out.writes = writes;
	return out;
}

int scaling_main(double seconds, int runs)
{
	char hn[256] = {};
	gethostname(hn, sizeof(hn) - 1);
	real_hostname = hn;
	getresuid(&real_ids[0], &real_ids[1], &real_ids[2]);

	std::printf("{\n \"context\": {\"cpus\": [");
	for (std::size_t i = 0; i < cpus.size(); i++)
		std::printf("%s%d", i ? ", " : "", cpus[i]);
	std::printf("], \"seconds_per_run\": %g, \"runs\": %d},\n \"cases\": [\n", seconds, runs);
	bool first = true;
	for (Record r : { Record::hostname, Record::credentials, Record::title }) {
		// Reset the record: the title page starts with a title set.
		write_title(0);
		// Writer: none, one write per microsecond, as fast as it can.
		for (bool library : { true, false })
			for (long period : { -1L, 1000L, 0L })
				for (int n : { 1, 2 }) {
					const bool writer = period >= 0;
					if (!library && !writer)
						continue; // no writer, no retry
					for (int k = 0; k < runs; k++) {
						const RunResult rr = run_scaling(r, n, writer, writer ? period : 0,
										 library, seconds);
						for (std::size_t i = 0; i < rr.readers.size(); i++) {
							const ReadStats &st = rr.readers[i];
							std::printf("%s  {\"record\": \"%s\", \"reader\": \"%s\", "
								    "\"readers\": %d, \"writer\": %s, "
								    "\"writer_period_ns\": %ld, \"run\": %d, "
								    "\"thread\": %zu, \"reads\": %llu, \"cpu_s\": %.6f, "
								    "\"wall_s\": %.6f, \"retries\": %llu, "
								    "\"fallbacks\": %llu, \"torn\": %llu, "
								    "\"overlapped\": %llu, \"over16\": %llu, \"retried\": %llu, "
								    "\"writes\": %llu, \"run_wall_s\": %.6f}",
								    first ? "" : ",\n", record_name[static_cast<int>(r)],
								    library ? "library" : "protocol", n,
								    writer ? "true" : "false", writer ? period : -1L, k, i,
								    static_cast<unsigned long long>(st.reads), st.cpu_s,
								    st.wall_s, static_cast<unsigned long long>(st.retries),
								    static_cast<unsigned long long>(st.fallbacks),
								    static_cast<unsigned long long>(st.torn),
								    static_cast<unsigned long long>(st.overlapped),
								    static_cast<unsigned long long>(st.over_kernel),
								    static_cast<unsigned long long>(st.retried),
								    static_cast<unsigned long long>(rr.writes), rr.wall_s);
							first = false;
						}
					}
				}
	}
	std::printf("\n ]\n}\n");
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	double seconds = 0.3;
	int runs = 3;

	for (int i = 1; i < argc; i++) {
		const std::string a = argv[i];
		if (a.rfind("--seconds=", 0) == 0)
			seconds = std::atof(a.c_str() + 10);
		else if (a.rfind("--runs=", 0) == 0)
			runs = std::atoi(a.c_str() + 7);
		else {
			std::fprintf(stderr, "usage: kshare-scaling [--seconds=S] [--runs=N]\n");
			return 2;
		}
	}
	for (int i = 0; i < argc; i++)
		joined_argv += (i ? " " : "") + std::string(argv[i]);
	cpus = allowed_cpus();
	if (!attach_simulated_area()) {
		std::perror("kshare-scaling: kshare__attach");
		return 1;
	}
	return scaling_main(seconds, runs);
}
