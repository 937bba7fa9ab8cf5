// SPDX-License-Identifier: MIT
// kshare-seqbench: the seed's open locking question, measured. Per-record
// sequence counters (what kshare does) against one sequence counter for the
// whole page, on reader cost, writer cost and reader retries under a
// concurrent writer. A user-space simulation: the page is ordinary memory
// laid out exactly as <kshare/uapi.h> lays it out, the readers are the
// library's (kshare.h), the writers the kernel's (kernel/kshare.c), with a
// spinlock standing in for the kernel's writer lock. Barriers are the
// C++ equivalents of smp_wmb()/smp_rmb() (compiler barriers on x86, as in
// the kernel). Names are PAGE/OP/SCHEME/writer:W; see docs/benchmarks.md.
//
// Schemes:
//   record      kshare today: scalars (pid, ppid, pgid, sid) are single words
//               vouched for by the valid word (release/acquire); credentials
//               sit under cred_seq; and the kernel republishes the whole page
//               (kshare_proc_publish) on every change, credentials included.
//   record_min  per-record as it could be: a writer touches only its record,
//               so a ppid change leaves cred_seq alone.
//   page        one sequence counter (cred_seq's word) for the whole page;
//               every reader, getpid included, reads under it.
// The system page has one record today (names, CPU count, generation under
// one counter: the "page" scheme there); "record" splits the CPU count off
// as a single word, as the process page does with its scalars.

#include <kshare/uapi.h>

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include <sys/syscall.h>
#include <unistd.h>

namespace {

constexpr int read_tries = 64; // KSHARE_READ_TRIES

enum class Scheme { record, record_min, page };
enum class Writer { none, creds, ppid, hostname, cpus };
enum class Op { getpid, getppid, getuid, getresuid, gethostname, uname, get_nprocs };

const char *name(Scheme s)
{
	return s == Scheme::record ? "record" : s == Scheme::record_min ? "record_min" : "page";
}

const char *name(Writer w)
{
	static const char *const n[] = { "none", "creds", "ppid", "hostname", "cpus" };
	return n[static_cast<int>(w)];
}

const char *name(Op o)
{
	static const char *const n[] = { "getpid", "getppid", "getuid", "getresuid",
					 "gethostname", "uname", "get_nprocs" };
	return n[static_cast<int>(o)];
}

// The two pages, each page-aligned as the kernel's are; the writer lock
// lives elsewhere, as kshare_mm.lock and kshare_uts_lock do.
struct alignas(4096) ProcPage {
	kshare_proc_page pp;
};
struct alignas(4096) SysPage {
	kshare_sys_header hdr;
	kshare_uts uts;
};
ProcPage proc_page;
SysPage sys_page;
alignas(64) std::atomic<bool> writer_lock{false};

template <typename T> T load(const T &x, std::memory_order mo = std::memory_order_relaxed)
{
	return std::atomic_ref<T>(const_cast<T &>(x)).load(mo);
}

template <typename T> void store(T &x, T v, std::memory_order mo = std::memory_order_relaxed)
{
	std::atomic_ref<T>(x).store(v, mo);
}

// smp_wmb()/smp_rmb(): ordering only, which on x86 is the compiler's.
inline void wmb() { std::atomic_thread_fence(std::memory_order_release); }
inline void rmb() { std::atomic_thread_fence(std::memory_order_acquire); }

void lock()
{
	while (writer_lock.exchange(true, std::memory_order_acquire))
		while (writer_lock.load(std::memory_order_relaxed))
			;
}

void unlock() { writer_lock.store(false, std::memory_order_release); }

// What one reader thread saw.
struct Stats {
	std::uint64_t retries = 0;	// sequence counter odd or moved
	std::uint64_t fallbacks = 0;	// system call instead (bit clear, or tries exhausted)
	std::uint64_t torn = 0;		// an inconsistent value returned (must stay 0)
};

// ---- the process page ----

constexpr std::uint32_t all_valid = KSHARE_PROC_VALID_PID | KSHARE_PROC_VALID_PPID |
				    KSHARE_PROC_VALID_PGID | KSHARE_PROC_VALID_SID |
				    KSHARE_PROC_VALID_CREDS | KSHARE_PROC_VALID_TID_CACHE |
				    KSHARE_PROC_VALID_UTS;

// Writer state the kernel would take from the task.
std::uint32_t cur_ids = 0;
std::int32_t cur_ppid = 1;

void proc_init()
{
	kshare_proc_page &p = proc_page.pp;

	std::memset(&p, 0, sizeof(p));
	p.pid = 42;
	p.mm_serial = 7;
	p.ppid = cur_ppid;
	p.pgid = 42;
	p.sid = 42;
	std::uint32_t *ids = &p.uid;
	for (int i = 0; i < 8; i++)
		ids[i] = cur_ids;
	p.valid = all_valid;
}

// kshare_publish_creds(): the credentials under cred_seq.
void publish_creds(kshare_proc_page &p)
{
	const std::uint32_t seq = p.cred_seq;

	store(p.cred_seq, seq + 1);
	wmb();
	std::uint32_t *ids = &p.uid;
	for (int i = 0; i < 8; i++)
		store(ids[i], cur_ids);
	store(p.valid, load(p.valid) | KSHARE_PROC_VALID_CREDS);
	wmb();
	store(p.cred_seq, seq + 2);
}

// kshare_proc_publish(): everything, with ppid/pgid/sid withdrawn while
// @changing, and the valid word last, with release.
void publish_all(kshare_proc_page &p, bool changing)
{
	std::uint32_t valid = all_valid & ~KSHARE_PROC_VALID_CREDS;

	store(p.pid, 42);
	if (!changing) {
		store(p.ppid, cur_ppid);
		store(p.pgid, 42);
		store(p.sid, 42);
	} else {
		valid &= ~(KSHARE_PROC_VALID_PPID | KSHARE_PROC_VALID_PGID | KSHARE_PROC_VALID_SID);
	}
	publish_creds(p);
	valid |= load(p.valid) & KSHARE_PROC_VALID_CREDS;
	store(p.valid, valid, std::memory_order_release);
}

// The whole page under one counter (cred_seq's word, so the layout and the
// cache line are the same as kshare's).
template <typename F> void page_write(kshare_proc_page &p, F &&change)
{
	const std::uint32_t seq = p.cred_seq;

	store(p.cred_seq, seq + 1);
	wmb();
	change();
	wmb();
	store(p.cred_seq, seq + 2);
}

// setuid(): new credentials.
void write_creds(Scheme s)
{
	kshare_proc_page &p = proc_page.pp;

	lock();
	cur_ids ^= 1000;
	switch (s) {
	case Scheme::record:
		publish_all(p, false);
		break;
	case Scheme::record_min:
		publish_creds(p);
		break;
	case Scheme::page:
		page_write(p, [&] {
			std::uint32_t *ids = &p.uid;
			for (int i = 0; i < 8; i++)
				store(ids[i], cur_ids);
		});
		break;
	}
	unlock();
}

// Reparenting: the parent changes under the kernel's feet, so the field is
// withdrawn before and published after (kshare_task_changing/_changed_window);
// under a whole-page counter the counter stays odd over the change instead.
void write_ppid(Scheme s)
{
	kshare_proc_page &p = proc_page.pp;

	lock();
	switch (s) {
	case Scheme::record:
		publish_all(p, true);
		cur_ppid ^= 3;
		publish_all(p, false);
		break;
	case Scheme::record_min:
		store(p.valid, load(p.valid) & ~KSHARE_PROC_VALID_PPID, std::memory_order_release);
		cur_ppid ^= 3;
		store(p.ppid, cur_ppid);
		store(p.valid, load(p.valid) | KSHARE_PROC_VALID_PPID, std::memory_order_release);
		break;
	case Scheme::page:
		page_write(p, [&] {
			cur_ppid ^= 3;
			store(p.ppid, cur_ppid);
		});
		break;
	}
	unlock();
}

// kshare__read_ids(): @n words from @first under cred_seq, the valid word
// included. In the page scheme the same code reads any field.
template <typename T>
bool read_seq(const kshare_proc_page &p, const T *src, T *out, int n, std::uint32_t need, Stats &st)
{
	for (int tries = 0; tries < read_tries; tries++) {
		const std::uint32_t seq = load(p.cred_seq, std::memory_order_acquire);

		if (seq & 1) {
			st.retries++;
			continue;
		}
		const std::uint32_t valid = load(p.valid);
		for (int i = 0; i < n; i++)
			out[i] = load(src[i]);
		rmb();
		if (load(p.cred_seq) == seq)
			return (valid & need) == need;
		st.retries++;
	}
	return false;
}

// The library's inline readers, and their system-call fallbacks.
template <typename T> T read_scalar(Scheme s, const T &field, std::uint32_t bit, long nr, Stats &st)
{
	const kshare_proc_page &p = proc_page.pp;
	T v;

	if (s == Scheme::page) {
		if (read_seq(p, &field, &v, 1, bit, st))
			return v;
	} else if (load(p.valid, std::memory_order_acquire) & bit) {
		return load(field);
	}
	st.fallbacks++;
	return static_cast<T>(syscall(nr));
}

std::uint32_t read_uid(Stats &st)
{
	std::uint32_t v;

	// The same code in every scheme: the credentials are one record.
	if (read_seq(proc_page.pp, &proc_page.pp.uid, &v, 1, KSHARE_PROC_VALID_CREDS, st))
		return v;
	st.fallbacks++;
	return static_cast<std::uint32_t>(syscall(SYS_getuid));
}

void read_resuid(Stats &st, std::uint32_t out[3])
{
	if (read_seq(proc_page.pp, &proc_page.pp.uid, out, 3, KSHARE_PROC_VALID_CREDS, st)) {
		st.torn += out[0] != out[1] || out[1] != out[2];
		return;
	}
	st.fallbacks++;
	syscall(SYS_getresuid, &out[0], &out[1], &out[2]);
}

// ---- the system page ----

// kshare_uts.reserved is where the "record" scheme keeps its CPU-count word:
// the count itself, 0 while withdrawn, written and read as one word.
std::uint32_t cur_cpus = 2;
int host_flip = 0;
// The namespace's names (struct new_utsname), where the writer copies from.
char ns_names[6][KSHARE_UTS_LEN] = { "Linux", "kbench-a", "6.12.117+",
				     "#1 SMP PREEMPT_DYNAMIC 2026-01-01", "x86_64", "(none)" };

void copy_names(kshare_uts &u)
{
	std::memcpy(u.sysname, ns_names[0], KSHARE_UTS_LEN);
	std::memcpy(u.nodename, ns_names[1], KSHARE_UTS_LEN);
	std::memcpy(u.release, ns_names[2], KSHARE_UTS_LEN);
	std::memcpy(u.version, ns_names[3], KSHARE_UTS_LEN);
	std::memcpy(u.machine, ns_names[4], KSHARE_UTS_LEN);
	std::memcpy(u.domainname, ns_names[5], KSHARE_UTS_LEN);
}

void sys_init()
{
	std::memset(&sys_page, 0, sizeof(sys_page));
	kshare_uts &u = sys_page.uts;
	std::strcpy(ns_names[1], "kbench-a");
	copy_names(u);
	u.valid = KSHARE_UTS_VALID_NAMES | KSHARE_UTS_VALID_NPROCS;
	u.nr_cpus_online = cur_cpus;
	u.reserved = cur_cpus;
}

// kshare_uts_write(): the whole record under its counter.
void uts_write(kshare_uts &u, const char *host, bool names, bool cpus)
{
	const std::uint32_t seq = u.seq;

	store(u.seq, seq + 1);
	wmb();
	if (names) {
		// All six names, as the kernel copies them from the namespace.
		std::strcpy(ns_names[1], host);
		copy_names(u);
	}
	if (cpus)
		store(u.nr_cpus_online, cur_cpus);
	store(u.valid, KSHARE_UTS_VALID_NAMES | KSHARE_UTS_VALID_NPROCS);
	store(u.generation, u.generation + 1);
	wmb();
	store(u.seq, seq + 2);
}

void write_hostname(Scheme)
{
	lock();
	host_flip ^= 1;
	// Both schemes rewrite the names under the record's counter.
	uts_write(sys_page.uts, host_flip ? "kbench-b" : "kbench-a", true, false);
	unlock();
}

// A CPU going offline and coming back: withdrawn, then published.
void write_cpus(Scheme s)
{
	kshare_uts &u = sys_page.uts;

	lock();
	if (s == Scheme::page) {
		cur_cpus = 0;
		uts_write(u, nullptr, false, true);
		cur_cpus = 2;
		uts_write(u, nullptr, false, true);
	} else {
		store(u.reserved, 0u, std::memory_order_release);
		store(u.reserved, 2u, std::memory_order_release);
	}
	unlock();
}

// The library's uts readers: copy under the counter, bounded tries.
bool uts_read(const kshare_uts &u, const char *src, char *dst, std::size_t len, std::uint32_t need, Stats &st)
{
	for (int tries = 0; tries < read_tries; tries++) {
		const std::uint32_t seq = load(u.seq, std::memory_order_acquire);

		if (seq & 1) {
			st.retries++;
			continue;
		}
		const std::uint32_t valid = load(u.valid);
		std::memcpy(dst, src, len);
		rmb();
		if (load(u.seq) == seq)
			return (valid & need) == need;
		st.retries++;
	}
	return false;
}

void read_hostname(Stats &st, char *buf)
{
	const kshare_uts &u = sys_page.uts;

	if (uts_read(u, u.nodename, buf, KSHARE_UTS_LEN, KSHARE_UTS_VALID_NAMES, st)) {
		st.torn += std::strcmp(buf, "kbench-a") && std::strcmp(buf, "kbench-b");
		return;
	}
	st.fallbacks++;
	gethostname(buf, KSHARE_UTS_LEN);
}

void read_uname(Stats &st, char *buf)
{
	const kshare_uts &u = sys_page.uts;

	// sysname .. machine: five names, contiguous.
	if (uts_read(u, u.sysname, buf, 5 * KSHARE_UTS_LEN, KSHARE_UTS_VALID_NAMES, st))
		return;
	st.fallbacks++;
	syscall(SYS_uname, buf);
}

int read_nprocs(Scheme s, Stats &st)
{
	const kshare_uts &u = sys_page.uts;

	if (s == Scheme::page) {
		std::uint32_t n;

		if (uts_read(u, reinterpret_cast<const char *>(&u.nr_cpus_online),
			     reinterpret_cast<char *>(&n), sizeof(n), KSHARE_UTS_VALID_NPROCS, st) &&
		    n)
			return static_cast<int>(n);
	} else if (std::uint32_t n = load(u.reserved, std::memory_order_acquire)) {
		return static_cast<int>(n);
	}
	st.fallbacks++;
	return static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
}

// ---- the concurrent thread: a writer (reader benchmarks) or a reader
// (writer benchmarks), started by thread 0 before the timed loop and
// stopped after it; Google Benchmark's start and stop barriers keep every
// timed iteration inside that span ----

std::thread background;
std::atomic<bool> background_stop{false};
std::atomic<std::uint64_t> background_count{0};

void write_once(Writer w, Scheme s)
{
	switch (w) {
	case Writer::creds:
		write_creds(s);
		break;
	case Writer::ppid:
		write_ppid(s);
		break;
	case Writer::hostname:
		write_hostname(s);
		break;
	case Writer::cpus:
		write_cpus(s);
		break;
	case Writer::none:
		break;
	}
}

void start_background(Writer w, Scheme s, bool reader)
{
	background_stop.store(false);
	background_count.store(0);
	background = std::thread([=] {
		Stats st;
		char buf[5 * KSHARE_UTS_LEN];
		std::uint64_t n = 0;

		while (!background_stop.load(std::memory_order_relaxed)) {
			if (!reader)
				write_once(w, s);
			else if (w == Writer::hostname || w == Writer::cpus)
				read_hostname(st, buf);
			else
				benchmark::DoNotOptimize(read_uid(st));
			n++;
		}
		background_count.store(n);
	});
}

std::uint64_t stop_background()
{
	background_stop.store(true);
	background.join();
	return background_count.load();
}

void reader_bench(benchmark::State &state, Op op, Scheme s, Writer w)
{
	Stats st;
	char buf[5 * KSHARE_UTS_LEN];
	std::uint32_t res[3];

	if (state.thread_index() == 0) {
		proc_init();
		sys_init();
		if (w != Writer::none)
			start_background(w, s, false);
	}
	for (auto _ : state) {
		switch (op) {
		case Op::getpid:
			benchmark::DoNotOptimize(read_scalar(s, proc_page.pp.pid, KSHARE_PROC_VALID_PID,
							     SYS_getpid, st));
			break;
		case Op::getppid:
			benchmark::DoNotOptimize(read_scalar(s, proc_page.pp.ppid, KSHARE_PROC_VALID_PPID,
							     SYS_getppid, st));
			break;
		case Op::getuid:
			benchmark::DoNotOptimize(read_uid(st));
			break;
		case Op::getresuid:
			read_resuid(st, res);
			benchmark::DoNotOptimize(res);
			break;
		case Op::gethostname:
			read_hostname(st, buf);
			benchmark::DoNotOptimize(buf);
			break;
		case Op::uname:
			read_uname(st, buf);
			benchmark::DoNotOptimize(buf);
			break;
		case Op::get_nprocs:
			benchmark::DoNotOptimize(read_nprocs(s, st));
			break;
		}
	}
	if (state.thread_index() == 0 && w != Writer::none)
		state.counters["writes"] = benchmark::Counter(static_cast<double>(stop_background()));
	using C = benchmark::Counter;
	state.counters["retries_per_read"] = C(static_cast<double>(st.retries), C::kAvgIterations);
	state.counters["fallbacks_per_read"] = C(static_cast<double>(st.fallbacks), C::kAvgIterations);
	state.counters["torn"] = C(static_cast<double>(st.torn));
}

void writer_bench(benchmark::State &state, Writer w, Scheme s, bool with_reader)
{
	proc_init();
	sys_init();
	if (with_reader)
		start_background(w, s, true);
	for (auto _ : state)
		write_once(w, s);
	if (with_reader)
		state.counters["reads"] = benchmark::Counter(static_cast<double>(stop_background()));
}

struct ReaderCase {
	Op op;
	Scheme scheme;
	Writer writer;
	int max_threads;
};

// Every case answers a question; the ones that cannot differ are left out
// (record_min readers are record's; its writers differ only for ppid).
const ReaderCase reader_cases[] = {
	// A scalar: per record, no counter at all; whole page, under the counter.
	{ Op::getpid, Scheme::record, Writer::none, 1 },
	{ Op::getpid, Scheme::page, Writer::none, 1 },
	{ Op::getpid, Scheme::record, Writer::creds, 2 },
	{ Op::getpid, Scheme::page, Writer::creds, 2 },
	{ Op::getpid, Scheme::record, Writer::ppid, 1 },
	{ Op::getpid, Scheme::record_min, Writer::ppid, 1 },
	{ Op::getpid, Scheme::page, Writer::ppid, 1 },
	{ Op::getppid, Scheme::record, Writer::none, 1 },
	{ Op::getppid, Scheme::page, Writer::none, 1 },
	{ Op::getppid, Scheme::record, Writer::creds, 1 },
	{ Op::getppid, Scheme::page, Writer::creds, 1 },
	{ Op::getppid, Scheme::record, Writer::ppid, 1 },
	{ Op::getppid, Scheme::record_min, Writer::ppid, 1 },
	{ Op::getppid, Scheme::page, Writer::ppid, 1 },
	// The credentials: one record either way; what differs is who bumps it.
	{ Op::getuid, Scheme::record, Writer::none, 1 },
	{ Op::getuid, Scheme::page, Writer::none, 1 },
	{ Op::getuid, Scheme::record, Writer::creds, 2 },
	{ Op::getuid, Scheme::page, Writer::creds, 2 },
	{ Op::getuid, Scheme::record, Writer::ppid, 1 },
	{ Op::getuid, Scheme::record_min, Writer::ppid, 1 },
	{ Op::getuid, Scheme::page, Writer::ppid, 1 },
	{ Op::getresuid, Scheme::record, Writer::none, 1 },
	{ Op::getresuid, Scheme::record, Writer::creds, 1 },
	// The system page: one record today ("page"); "record" splits the CPU count off.
	{ Op::gethostname, Scheme::page, Writer::none, 1 },
	{ Op::gethostname, Scheme::page, Writer::hostname, 1 },
	{ Op::gethostname, Scheme::page, Writer::cpus, 1 },
	{ Op::gethostname, Scheme::record, Writer::cpus, 1 },
	{ Op::uname, Scheme::page, Writer::none, 1 },
	{ Op::uname, Scheme::page, Writer::hostname, 1 },
	{ Op::get_nprocs, Scheme::page, Writer::none, 1 },
	{ Op::get_nprocs, Scheme::record, Writer::none, 1 },
	{ Op::get_nprocs, Scheme::page, Writer::hostname, 1 },
	{ Op::get_nprocs, Scheme::record, Writer::hostname, 1 },
	{ Op::get_nprocs, Scheme::page, Writer::cpus, 1 },
	{ Op::get_nprocs, Scheme::record, Writer::cpus, 1 },
};

void register_all()
{
	static const Scheme proc_schemes[] = { Scheme::record, Scheme::record_min, Scheme::page };

	for (const ReaderCase &c : reader_cases) {
		const std::string n = std::string(c.op >= Op::gethostname ? "sys/" : "proc/") +
				      name(c.op) + "/" + name(c.scheme) + "/writer:" + name(c.writer);
		auto *b = benchmark::RegisterBenchmark(n.c_str(), reader_bench, c.op, c.scheme, c.writer);
		for (int t = 1; t <= c.max_threads; t++)
			b->Threads(t);
	}
	// Writers, alone and with a reader of the same page on another thread.
	for (Writer w : { Writer::creds, Writer::ppid })
		for (Scheme s : proc_schemes)
			for (bool r : { false, true }) {
				const std::string n = std::string("proc/write_") + name(w) + "/" + name(s) +
						      (r ? "/reader:getuid" : "/reader:none");
				benchmark::RegisterBenchmark(n.c_str(), writer_bench, w, s, r);
			}
	for (Scheme s : { Scheme::page, Scheme::record })
		for (bool r : { false, true }) {
			const std::string n = std::string("sys/write_cpus/") + name(s) +
					      (r ? "/reader:gethostname" : "/reader:none");
			benchmark::RegisterBenchmark(n.c_str(), writer_bench, Writer::cpus, s, r);
		}
	for (bool r : { false, true }) {
		const std::string n = std::string("sys/write_hostname/page") +
				      (r ? "/reader:gethostname" : "/reader:none");
		benchmark::RegisterBenchmark(n.c_str(), writer_bench, Writer::hostname, Scheme::page, r);
	}
}

} // namespace

int main(int argc, char **argv)
{
	register_all();
	benchmark::Initialize(&argc, argv);
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
