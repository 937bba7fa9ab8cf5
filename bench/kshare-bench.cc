// SPDX-License-Identifier: MIT
// kshare-bench: every replaced call through the raw system call, through
// glibc and through kshare, side by side, with reference points (vDSO
// clock_gettime, sched_getcpu) and floors (a plain load, memcpy of each
// record's size). Google Benchmark; names are CALL/PATH so that
// bench/bench-report.py can pair them.
//
//   kshare-bench [BENCHMARK OPTIONS]          the real [kshare] area (guest)
//   kshare-bench --host [BENCHMARK OPTIONS]   real-CPU mode, any machine
//
// --host: the fast paths read a simulated area, laid out as the kernel lays
// it out in ordinary memory (every field valid, as the kernel publishes it)
// and attached with kshare__attach(), as tests/unit/simulated_area.hpp
// does; the "+writer" rows run a second thread, on another CPU, that
// rewrites the record with the kernel's protocol (counter odd, barrier,
// write, barrier, counter even). The system calls and vDSO calls beside
// them are the host's own. The benchmark thread is pinned to one CPU
// (--cpu=N, default the last one this process may use).
//
// Time: Google Benchmark's default, the benchmark thread's CPU time
// (cpu_time in the JSON), neither MeasureProcessCPUTime() (it would add the
// writer thread's CPU time to the reader's rows) nor UseRealTime() (on a
// shared machine wall time includes the time the thread waited for a CPU).
// Where the machine counts instructions (perf_event_open), each row also
// has "instructions" per call, the loop's own included.
//
// Reader scaling under a writer: kshare-scaling.cc.

#include "simulated_area.hpp"

#include <kshare/kshare.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace {

using namespace kshare_bench;

bool host_mode = false;
int bench_cpu = -1;  // the benchmark thread's CPU (host mode)
int writer_cpu = -1; // the concurrent thread's CPU, another one if any

// ---- instructions per call, where the machine counts them ----

std::string instructions_status = "not tried";

struct InstructionCounter {
	int fd = -1;

	InstructionCounter()
	{
		perf_event_attr a{};
		a.type = PERF_TYPE_HARDWARE;
		a.size = sizeof(a);
		a.config = PERF_COUNT_HW_INSTRUCTIONS;
		a.exclude_hv = 1; // user and kernel: system calls count too
		fd = static_cast<int>(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
	}
	~InstructionCounter()
	{
		if (fd >= 0)
			close(fd);
	}
	std::uint64_t read_count() const
	{
		std::uint64_t v = 0;
		if (fd >= 0 && ::read(fd, &v, sizeof(v)) != sizeof(v))
			v = 0;
		return v;
	}
};

void probe_instructions()
{
	InstructionCounter c;
	if (c.fd >= 0) {
		instructions_status = "counted (perf_event_open, user and kernel)";
		return;
	}
	instructions_status = std::string("not supported here (perf_event_open: ") +
			      std::strerror(errno) + ")";
}

template <typename F> void timed(benchmark::State &state, F &&f)
{
	const InstructionCounter ic;
	const std::uint64_t before = ic.read_count();
	for (auto _ : state)
		f();
	const std::uint64_t after = ic.read_count();
	if (ic.fd >= 0)
		state.counters["instructions"] = benchmark::Counter(
			static_cast<double>(after - before), benchmark::Counter::kAvgIterations);
}

// A thread beside the benchmark, on another CPU, running @step until told
// to stop.
class Background {
public:
	explicit Background(std::function<void(int)> step)
	{
		thread_ = std::thread([this, step = std::move(step)] {
			pin_self(writer_cpu);
			std::uint64_t n = 0;
			started_.store(true, std::memory_order_release);
			while (!stop_.load(std::memory_order_relaxed))
				step(static_cast<int>(n++));
			count_.store(n, std::memory_order_relaxed);
		});
		while (!started_.load(std::memory_order_acquire))
			;
	}
	std::uint64_t stop()
	{
		if (thread_.joinable()) {
			stop_.store(true, std::memory_order_relaxed);
			thread_.join();
		}
		return count_.load(std::memory_order_relaxed);
	}
	~Background() { stop(); }

private:
	std::thread thread_;
	std::atomic<bool> started_{false};
	std::atomic<bool> stop_{false};
	std::atomic<std::uint64_t> count_{0};
};

// ---- the benchmarks ----

uid_t res[3];
char host[65];
utsname uts;
timespec ts;
alignas(64) std::int32_t word = 42;
alignas(64) char src[512];
alignas(64) char dst[512];
char title64[65];   // "-%s": 64 bytes
char title64p[65];  // "%s": "progname: " and the rest, 64 bytes in all
char title64f[65];  // "-%s %d/%d %s": 64 bytes through vsnprintf

// glibc's memcpy, through a pointer the compiler cannot see through.
void *(*volatile libc_memcpy)(void *, const void *, std::size_t) = std::memcpy;

// What the area was when the fallback rows detach it.
const void *attached = nullptr;
void *attached_title = nullptr;

// The title page the library writes: the real one (guest mode) is mapped
// at the first title, and found where the kernel says it is.
void *own_title_page()
{
	kshare_setproctitle("-%s", "kshare-bench");
	kshare_map map{};
	map.size = sizeof(map);
	if (syscall(SYS_prctl, PR_KSHARE, PR_KSHARE_GET, &map, 0, 0) != 0)
		return nullptr;
	return reinterpret_cast<void *>(map.title);
}

// Each benchmark's body is a lambda of its own type, so that timed()'s
// loop inlines it: an indirect call per iteration would cost more than the
// fast paths themselves.
template <typename F> void add(const std::string &name, F f)
{
	benchmark::RegisterBenchmark(name.c_str(), [f](benchmark::State &s) { timed(s, f); });
}

// The kshare call with no area: what it costs on a kernel without kshare.
template <typename F> void add_fallback(const std::string &name, F f)
{
	benchmark::RegisterBenchmark(name.c_str(), [f](benchmark::State &s) {
		kshare__attach(nullptr, nullptr);
		timed(s, f);
		kshare__attach(attached, attached_title);
	});
}

// The kshare call while another CPU rewrites the record as fast as it can
// (host mode): a worst case, no kernel writes that often.
template <typename F> void add_contended(const std::string &name, F f, void (*writer)(int))
{
	benchmark::RegisterBenchmark(name.c_str(), [f, writer](benchmark::State &s) {
		const auto t0 = std::chrono::steady_clock::now();
		Background bg(writer);
		timed(s, f);
		const std::uint64_t writes = bg.stop();
		const double wall =
			std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
		s.counters["writes_per_us"] = static_cast<double>(writes) / wall * 1e-6;
	});
}

#define B(expr) [] { benchmark::DoNotOptimize(expr); }
#define V(stmt) [] { stmt; benchmark::ClobberMemory(); }

void register_all()
{
	// Process identity.
	add("getpid/syscall", B(syscall(SYS_getpid)));
	add("getpid/libc", B(getpid()));
	add("getpid/kshare", B(kshare_getpid()));
	add_fallback("getpid/fallback", B(kshare_getpid()));
	add("getppid/syscall", B(syscall(SYS_getppid)));
	add("getppid/libc", B(getppid()));
	add("getppid/kshare", B(kshare_getppid()));
	add("getpgrp/syscall", B(syscall(SYS_getpgid, 0)));
	add("getpgrp/libc", B(getpgrp()));
	add("getpgrp/kshare", B(kshare_getpgrp()));
	add("getsid/syscall", B(syscall(SYS_getsid, 0)));
	add("getsid/libc", B(getsid(0)));
	add("getsid/kshare", B(kshare_getsid(0)));
	add("gettid/syscall", B(syscall(SYS_gettid)));
	add("gettid/libc", B(gettid()));
	add("gettid/kshare", B(kshare_gettid()));
	add_fallback("gettid/fallback", B(kshare_gettid()));
	add("getuid/syscall", B(syscall(SYS_getuid)));
	add("getuid/libc", B(getuid()));
	add("getuid/kshare", B(kshare_getuid()));
	add_fallback("getuid/fallback", B(kshare_getuid()));
	add("geteuid/syscall", B(syscall(SYS_geteuid)));
	add("geteuid/kshare", B(kshare_geteuid()));
	add("getgid/syscall", B(syscall(SYS_getgid)));
	add("getgid/kshare", B(kshare_getgid()));
	add("getegid/syscall", B(syscall(SYS_getegid)));
	add("getegid/libc", B(getegid()));
	add("getegid/kshare", B(kshare_getegid()));
	add("getresuid/syscall", B(syscall(SYS_getresuid, &res[0], &res[1], &res[2])));
	add("getresuid/libc", B(getresuid(&res[0], &res[1], &res[2])));
	add("getresuid/kshare", B(kshare_getresuid(&res[0], &res[1], &res[2])));
	add("getresgid/syscall", B(syscall(SYS_getresgid, &res[0], &res[1], &res[2])));
	add("getresgid/kshare", B(kshare_getresgid(&res[0], &res[1], &res[2])));

	// The system page.
	add("gethostname/libc", B(gethostname(host, sizeof(host))));
	add("gethostname/kshare", B(kshare_gethostname(host, sizeof(host))));
	add_fallback("gethostname/fallback", B(kshare_gethostname(host, sizeof(host))));
	add("getdomainname/libc", B(getdomainname(host, sizeof(host))));
	add("getdomainname/kshare", B(kshare_getdomainname(host, sizeof(host))));
	add("uname/syscall", B(syscall(SYS_uname, &uts)));
	add("uname/libc", B(uname(&uts)));
	add("uname/kshare", B(kshare_uname(&uts)));
	add("get_nprocs/libc", B(get_nprocs()));
	add("get_nprocs/kshare", B(kshare_get_nprocs()));
	add_fallback("get_nprocs/fallback", B(kshare_get_nprocs()));

	// The title, 64 bytes: "-%s" and "%s" (the forms with a copy path), a
	// printf format, and the closest system call (prctl sets only comm).
	add("setproctitle64/kshare", V(kshare_setproctitle("-%s", title64)));
	add("setproctitle64_prefixed/kshare", V(kshare_setproctitle("%s", title64p)));
	add("setproctitle64_printf/kshare",
	    V(kshare_setproctitle("-%s %d/%d %s", "worker", 12, 64, title64f)));
	add("setproctitle64/prctl_name",
	    B(syscall(SYS_prctl, 15 /* PR_SET_NAME */, "kshare-bench", 0, 0, 0)));

	// References: kernel data in shared pages already.
	add("clock_gettime/vdso", B(clock_gettime(CLOCK_MONOTONIC, &ts)));
	add("sched_getcpu/libc", B(sched_getcpu()));

	// Floors: what no page-based scheme can beat. The pointers are hidden
	// from the compiler, so each iteration loads and copies; the sizes are
	// constants, so the copies are what the compiler makes of them.
	add("floor/load4", [] {
		const std::int32_t *p = &word;
		benchmark::DoNotOptimize(p);
		std::int32_t v = *p;
		benchmark::DoNotOptimize(v);
	});
#define MEMCPY_FLOOR(n)                                  \
	add("floor/memcpy" #n, [] {                      \
		char *d = dst;                           \
		const char *s = src;                     \
		benchmark::DoNotOptimize(d);             \
		benchmark::DoNotOptimize(s);             \
		std::memcpy(d, s, n);                    \
		benchmark::ClobberMemory();              \
	})
	MEMCPY_FLOOR(12);
	MEMCPY_FLOOR(64);
	MEMCPY_FLOOR(65);
	MEMCPY_FLOOR(390);
	// The same copies through glibc's memcpy (called, not inlined): GCC
	// expands a constant 390-byte memcpy into rep movsq, which is slower
	// than glibc's vector loop on some CPUs. The report takes the faster
	// of the two as the floor.
#define LIBC_MEMCPY_FLOOR(n)                             \
	add("floor/libc_memcpy" #n, [] {                 \
		libc_memcpy(dst, src, n);                \
		benchmark::ClobberMemory();              \
	})
	LIBC_MEMCPY_FLOOR(12);
	LIBC_MEMCPY_FLOOR(64);
	LIBC_MEMCPY_FLOOR(65);
	LIBC_MEMCPY_FLOOR(390);

	if (!host_mode)
		return;
	// Contended: another CPU rewrites the record as fast as it can.
	add_contended("getpid/kshare+creds_writer", B(kshare_getpid()), write_creds);
	add_contended("getuid/kshare+creds_writer", B(kshare_getuid()), write_creds);
	add_contended("getresuid/kshare+creds_writer",
		      B(kshare_getresuid(&res[0], &res[1], &res[2])), write_creds);
	add_contended("gethostname/kshare+uts_writer", B(kshare_gethostname(host, sizeof(host))),
		      write_uts);
	add_contended("uname/kshare+uts_writer", B(kshare_uname(&uts)), write_uts);
	add_contended("get_nprocs/kshare+uts_writer", B(kshare_get_nprocs()), write_uts);
	add_contended("setproctitle64/kshare+kernel_reader", V(kshare_setproctitle("-%s", title64)),
		      [](int) {
			      char buf[4096];
			      benchmark::DoNotOptimize(kernel_read_title(buf));
		      });
}

void make_titles()
{
	std::memset(title64, 'x', 64);
	const std::size_t prefix = std::strlen(program_invocation_short_name) + 2; // "name: "
	const std::size_t n = prefix < 63 ? 64 - prefix : 1;
	std::memset(title64p, 'y', n);
	const int fixed = std::snprintf(nullptr, 0, "%s %d/%d ", "worker", 12, 64);
	std::memset(title64f, 'z', static_cast<std::size_t>(64 - fixed));
}

} // namespace

int main(int argc, char **argv)
{
	std::vector<char *> rest;

	for (int i = 0; i < argc; i++) {
		const std::string a = argv[i];
		if (i > 0 && a == "--host")
			host_mode = true;
		else if (i > 0 && a.rfind("--cpu=", 0) == 0)
			bench_cpu = std::atoi(a.c_str() + 6);
		else
			rest.push_back(argv[i]);
	}
	int rest_argc = static_cast<int>(rest.size());
	rest.push_back(nullptr);

	const std::vector<int> cpus = allowed_cpus();
	if (bench_cpu < 0)
		bench_cpu = cpus.back();
	writer_cpu = bench_cpu;
	for (int c : cpus)
		if (c != bench_cpu) {
			writer_cpu = c;
			break;
		}

	make_titles();
	if (host_mode && !attach_simulated_area()) {
		std::perror("kshare-bench: kshare__attach");
		return 1;
	}
	attached = kshare__header();
	attached_title = host_mode ? &area.title() : attached ? own_title_page() : nullptr;
	if (host_mode)
		pin_self(bench_cpu); // the main thread runs every benchmark
	probe_instructions();
	register_all();
	benchmark::Initialize(&rest_argc, rest.data());
	benchmark::AddCustomContext("kshare", host_mode ? "simulated area (real-CPU mode)"
					      : kshare_available(0) ? "available" : "absent");
	benchmark::AddCustomContext("mode", host_mode ? "host" : "kernel");
	benchmark::AddCustomContext("pinned_cpu", host_mode ? std::to_string(bench_cpu) : "no");
	benchmark::AddCustomContext("writer_cpu", host_mode ? std::to_string(writer_cpu) : "-");
	benchmark::AddCustomContext("time", "thread CPU time (Google Benchmark default)");
	benchmark::AddCustomContext("instructions", instructions_status);
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
