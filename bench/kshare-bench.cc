// SPDX-License-Identifier: MIT
// kshare-bench: every replaced call through the raw system call, through
// glibc and through kshare, side by side, with reference points (vDSO
// clock_gettime, the rseq cpu_id read) and floors (a plain load, memcpy of
// the record's size). Google Benchmark; names are CALL/PATH so that
// bench/bench-report.py can pair them.

#include <kshare/kshare.h>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <ctime>

#include <sched.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace {

template <typename F>
void run(benchmark::State &state, F f)
{
	for (auto _ : state)
		benchmark::DoNotOptimize(f());
}

#define KSHARE_BENCH(call, path, expr) \
	BENCHMARK_CAPTURE(run, call/path, [] { return (expr); })->Name(#call "/" #path)

// Process identity.
KSHARE_BENCH(getpid, syscall, syscall(SYS_getpid));
KSHARE_BENCH(getpid, libc, getpid());
KSHARE_BENCH(getpid, kshare, kshare_getpid());
KSHARE_BENCH(getppid, syscall, syscall(SYS_getppid));
KSHARE_BENCH(getppid, libc, getppid());
KSHARE_BENCH(getppid, kshare, kshare_getppid());
KSHARE_BENCH(gettid, syscall, syscall(SYS_gettid));
KSHARE_BENCH(gettid, libc, gettid());
KSHARE_BENCH(gettid, kshare, kshare_gettid());
KSHARE_BENCH(getuid, syscall, syscall(SYS_getuid));
KSHARE_BENCH(getuid, libc, getuid());
KSHARE_BENCH(getuid, kshare, kshare_getuid());
KSHARE_BENCH(getegid, syscall, syscall(SYS_getegid));
KSHARE_BENCH(getegid, libc, getegid());
KSHARE_BENCH(getegid, kshare, kshare_getegid());
KSHARE_BENCH(getpgrp, syscall, syscall(SYS_getpgid, 0));
KSHARE_BENCH(getpgrp, libc, getpgrp());
KSHARE_BENCH(getpgrp, kshare, kshare_getpgrp());
KSHARE_BENCH(getsid, syscall, syscall(SYS_getsid, 0));
KSHARE_BENCH(getsid, libc, getsid(0));
KSHARE_BENCH(getsid, kshare, kshare_getsid(0));

uid_t res[3];
KSHARE_BENCH(getresuid, syscall, syscall(SYS_getresuid, &res[0], &res[1], &res[2]));
KSHARE_BENCH(getresuid, libc, getresuid(&res[0], &res[1], &res[2]));
KSHARE_BENCH(getresuid, kshare, kshare_getresuid(&res[0], &res[1], &res[2]));

// The system page.
char host[65];
utsname uts;
KSHARE_BENCH(gethostname, libc, gethostname(host, sizeof(host)));
KSHARE_BENCH(gethostname, kshare, kshare_gethostname(host, sizeof(host)));
KSHARE_BENCH(uname, syscall, syscall(SYS_uname, &uts));
KSHARE_BENCH(uname, libc, uname(&uts));
KSHARE_BENCH(uname, kshare, kshare_uname(&uts));
KSHARE_BENCH(get_nprocs, libc, get_nprocs());
KSHARE_BENCH(get_nprocs, kshare, kshare_get_nprocs());

// The title: 64 bytes, against the classic way (prctl sets only comm, 16
// bytes, and is the closest system call).
KSHARE_BENCH(setproctitle64, kshare,
	     (kshare_setproctitle("-%s", "0123456789012345678901234567890123456789012345678901234567890123"), 0));
KSHARE_BENCH(setproctitle64, prctl_name, syscall(SYS_prctl, 15 /* PR_SET_NAME */, "kshare-bench", 0, 0, 0));

// References: kernel data in shared pages already.
timespec ts;
KSHARE_BENCH(clock_gettime, vdso, clock_gettime(CLOCK_MONOTONIC, &ts));
KSHARE_BENCH(sched_getcpu, rseq, sched_getcpu());
KSHARE_BENCH(rseq_cpu_id, load, __rseq_size ? reinterpret_cast<const volatile struct rseq *>(
			static_cast<const char *>(__builtin_thread_pointer()) + __rseq_offset)->cpu_id : 0u);

// Floors: what no page-based scheme can beat.
struct {
	std::int32_t pid = 42;
} field;
char src[512], dst[512];
KSHARE_BENCH(floor, load4, *static_cast<volatile std::int32_t *>(&field.pid));
KSHARE_BENCH(floor, memcpy64, (std::memcpy(dst, src, 64), benchmark::ClobberMemory(), dst[0]));
KSHARE_BENCH(floor, memcpy65, (std::memcpy(dst, src, 65), benchmark::ClobberMemory(), dst[0]));
KSHARE_BENCH(floor, memcpy390, (std::memcpy(dst, src, 390), benchmark::ClobberMemory(), dst[0]));

} // namespace

int main(int argc, char **argv)
{
	benchmark::Initialize(&argc, argv);
	benchmark::AddCustomContext("kshare", kshare_available(0) ? "available" : "absent");
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
