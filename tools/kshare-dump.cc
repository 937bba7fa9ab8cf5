// SPDX-License-Identifier: MIT
// kshare-dump: decode the [kshare] area of this process, or of another one
// where ptrace rules let us read its memory (as for /proc/PID/mem).
//
//   kshare-dump [PID]
//   kshare-dump --file IMAGE    (an area saved to a file, e.g. for tests)
//
// This process registers for its own area (prctl PR_KSHARE_MAP); another
// process's is the [kshare] mapping of /proc/PID/maps, and its title page
// the [kshare_title] one: a process that never registered has neither.
// Every header field, every process page field with its validity bit, the
// credentials record under its sequence counter, and beside each identity
// what /proc/PID says of it in the process's own pid and user namespaces,
// marking any value the page vouches for that differs.
// Exit status: 0 decoded; 1 no kshare area, or one this tool cannot read
// (magic, ABI version); 2 usage or access error.
#include <kshare/kshare.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace kshare::dump {
namespace {

constexpr int read_tries = 64; // as KSHARE_READ_TRIES: never spin forever

[[noreturn]] void fail(int status, const std::string &what)
{
	std::fprintf(stderr, "kshare-dump: %s\n", what.c_str());
	std::exit(status);
}

std::string errno_text(const std::string &what)
{
	return what + ": " + std::strerror(errno);
}

// Reads the target's memory: our own directly, another process's through
// /proc/PID/mem, so one decoder serves both.
// What to decode: our own area, another process's, or an image in a file
// (whose area starts at offset 0).
struct source {
	std::optional<pid_t> pid;
	const char *file = nullptr;
};

class memory {
public:
	explicit memory(const source &src) : pid_(src.pid)
	{
		if (!src.file && !pid_)
			return;
		path_ = src.file ? std::string(src.file)
				 : "/proc/" + std::to_string(*pid_) + "/mem";
		fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
		if (fd_ < 0)
			fail(2, errno_text(path_));
	}
	~memory()
	{
		if (fd_ >= 0)
			::close(fd_);
	}
	memory(const memory &) = delete;
	memory &operator=(const memory &) = delete;

	void read(std::uintptr_t addr, void *out, std::size_t len) const
	{
		if (fd_ < 0) {
			// The kernel may rewrite the page while we copy: byte loads
			// that the compiler cannot merge or elide, checked by the
			// callers' sequence counter where it matters.
			const auto *src = reinterpret_cast<const volatile unsigned char *>(addr);
			auto *dst = static_cast<unsigned char *>(out);
			for (std::size_t i = 0; i < len; i++)
				dst[i] = src[i];
			return;
		}
		ssize_t n = ::pread(fd_, out, len, static_cast<off_t>(addr));
		if (n != static_cast<ssize_t>(len))
			fail(2, n < 0 ? errno_text("reading the area through " + path_)
				      : "short read of the area in " + path_);
	}

	// As read(), but a region this process may not read is no failure.
	bool try_read(std::uintptr_t addr, void *out, std::size_t len) const
	{
		if (fd_ < 0) {
			read(addr, out, len);
			return true;
		}
		return ::pread(fd_, out, len, static_cast<off_t>(addr)) ==
		       static_cast<ssize_t>(len);
	}

private:
	std::optional<pid_t> pid_;
	std::string path_;
	int fd_ = -1;
};

std::string proc_dir(std::optional<pid_t> pid)
{
	return pid ? "/proc/" + std::to_string(*pid) : std::string("/proc/self");
}

// The start of the mapping named @name ("[kshare]", "[kshare_title]") in
// /proc/PID/maps, and its line; 0 and "" if there is none.
std::pair<std::uintptr_t, std::string> mapping(std::optional<pid_t> pid, std::string_view name)
{
	// Readable where ptrace rules let us read the process's memory.
	const std::string path = proc_dir(pid) + "/maps";
	FILE *maps = std::fopen(path.c_str(), "re");
	if (!maps)
		fail(2, errno_text(path));
	std::pair<std::uintptr_t, std::string> found{ 0, {} };
	char buf[4096];
	while (std::fgets(buf, sizeof(buf), maps)) {
		std::string line(buf);
		if (!line.empty() && line.back() == '\n')
			line.pop_back();
		if (line.ends_with(name)) {
			found = { std::strtoull(line.c_str(), nullptr, 16), line };
			break;
		}
	}
	std::fclose(maps);
	return found;
}

// Where this process's area and title page are: registered now (the
// kernel gives the one area of the address space), the title page only if
// something mapped it. 0 with @why set if there is no area.
struct found {
	std::uintptr_t area = 0, title = 0;
	std::string why;
};

found find_own()
{
	kshare_map map{};
	map.size = sizeof(map);
	found f;
	if (::syscall(SYS_prctl, PR_KSHARE, PR_KSHARE_MAP, &map, 0, 0) != 0) {
		f.why = errno == EINVAL ? "this kernel has no kshare (prctl PR_KSHARE: EINVAL)"
			: errno == ENODEV ? "kshare is turned off (prctl PR_KSHARE: ENODEV)"
					  : errno_text("prctl(PR_KSHARE, PR_KSHARE_MAP)");
		return f;
	}
	f.area = map.area;
	f.title = map.title;
	return f;
}

found find_other(pid_t pid)
{
	// The directory first: a pid that does not exist is a usage error.
	if (::access(proc_dir(pid).c_str(), F_OK) != 0)
		fail(2, errno_text(proc_dir(pid)));
	found f;
	f.area = mapping(pid, "[kshare]").first;
	f.title = mapping(pid, "[kshare_title]").first;
	if (!f.area)
		f.why = "no [kshare] in its maps: it never registered (or this kernel has no kshare)";
	return f;
}

// The status lines of a process: "Key:" -> its words.
std::map<std::string, std::vector<std::string>> proc_status(const std::string &dir)
{
	std::map<std::string, std::vector<std::string>> v;
	std::ifstream status(dir + "/status");
	for (std::string line; std::getline(status, line);) {
		std::istringstream in(line);
		std::string key, word;
		in >> key;
		auto &words = v[key];
		while (in >> word)
			words.push_back(word);
	}
	return v;
}

// @dir's process's uid_map or gid_map as we read it (the outside column in
// our user namespace), read once for the four ids of its kind.
class id_map {
public:
	id_map(const std::string &dir, const char *kind)
	{
		std::ifstream map(dir + "/" + kind + "_map");
		for (range r; map >> r.inside >> r.outside >> r.count;)
			ranges_.push_back(r);
		std::ifstream overflow(std::string("/proc/sys/kernel/overflow") + kind);
		if (!(overflow >> overflow_))
			overflow_ = "?";
	}

	// @id as seen from inside: what getresuid() there returns; the
	// overflow id where the map has none.
	std::string down(const std::string &id) const
	{
		const unsigned long long value = std::strtoull(id.c_str(), nullptr, 10);
		for (const range &r : ranges_)
			if (value >= r.outside && value - r.outside < r.count)
				return std::to_string(r.inside + (value - r.outside));
		return overflow_;
	}

private:
	struct range {
		unsigned long long inside, outside, count;
	};
	std::vector<range> ranges_;
	std::string overflow_;
};

std::string ns_of(const std::string &dir, const char *kind)
{
	char buf[64];
	const ssize_t n = ::readlink((dir + "/ns/" + kind).c_str(), buf, sizeof(buf) - 1);
	return n > 0 ? std::string(buf, n) : std::string();
}

// What /proc says of the same identities, for the comparison column: in
// the process's own namespaces, as its system calls return them (the page
// holds those), not as our namespaces see it. pid, pgid and sid: the last
// column of NSpid, NSpgid and NSsid; ppid: the parent's pid in the same
// pid namespace, 0 when the parent lies outside it (getppid()); the ids
// mapped through the process's uid_map and gid_map.
std::map<std::string, std::string> proc_view(std::optional<pid_t> pid)
{
	std::map<std::string, std::string> v;
	const std::string dir = proc_dir(pid);
	auto st = proc_status(dir);
	auto last = [&](const char *key) {
		const auto &w = st[key];
		return w.empty() ? std::string("?") : w.back();
	};
	v["pid"] = last("NSpid:");
	v["pgid"] = last("NSpgid:");
	v["sid"] = last("NSsid:");
	const std::string ppid = last("PPid:");
	if (ppid == "0") {
		v["ppid"] = "0";
	} else if (ppid != "?") {
		const std::string parent = "/proc/" + ppid;
		const std::string ns = ns_of(dir, "pid");
		const auto up = proc_status(parent)["NSpid:"];
		v["ppid"] = ns.empty() || up.empty() ? "?" : ns_of(parent, "pid") == ns ? up.back() : "0";
	}
	static const char *const uids[] = { "uid", "euid", "suid", "fsuid" };
	static const char *const gids[] = { "gid", "egid", "sgid", "fsgid" };
	const id_map uid_map(dir, "uid"), gid_map(dir, "gid");
	for (int i = 0; i < 4; i++) {
		if (st["Uid:"].size() == 4)
			v[uids[i]] = uid_map.down(st["Uid:"][i]);
		if (st["Gid:"].size() == 4)
			v[gids[i]] = gid_map.down(st["Gid:"][i]);
	}
	return v;
}

std::string bit_names(std::uint64_t bits,
		      std::initializer_list<std::pair<std::uint64_t, const char *>> names)
{
	std::string out;
	for (auto [bit, name] : names) {
		if (bits & bit) {
			out += out.empty() ? "" : " ";
			out += name;
			bits &= ~bit;
		}
	}
	if (bits) {
		char rest[32];
		std::snprintf(rest, sizeof(rest), "%sunknown:%#" PRIx64, out.empty() ? "" : " ", bits);
		out += rest;
	}
	return out.empty() ? "-" : out;
}

void field(const char *name, std::uint64_t value, const char *note = "")
{
	std::printf("  %-13s %-12" PRIu64 " %s\n", name, value, note);
}

void hex_field(const char *name, std::uint64_t value, const std::string &note)
{
	std::printf("  %-13s %#-12" PRIx64 " %s\n", name, value, note.c_str());
}

// The title page: the process's own words, not the kernel's, in a mapping
// of its own. Another process cannot read it (the mapping is VM_IO, out of
// ptrace's reach). Read as a reader of the latch reads it: the counter, the
// page, the counter again, bounded; then both slots, and the one a reader
// takes (slot seq & 1).
void dump_title(const memory &mem, std::uintptr_t ta, const kshare_sys_header &h, bool file)
{
	if (!(h.features & KSHARE_FEATURE_TITLE) || h.title_size < sizeof(kshare_title)) {
		std::printf("title page: none (this kernel does not offer one this tool reads)\n");
		return;
	}
	if (!ta) {
		std::printf("title page: %s\n", file ? "not in the image"
						     : "not mapped (no title set through it)");
		return;
	}
	std::printf("title page at %#" PRIxPTR " (%u bytes)\n", ta, h.title_size);
	static kshare_title t;
	bool stable = false;
	int tries = 0;
	for (; tries < read_tries && !stable; tries++) {
		std::uint32_t seq0 = 0, seq1 = 0;
		if (!mem.try_read(ta, &seq0, sizeof(seq0)) || !mem.try_read(ta, &t, sizeof(t))) {
			std::printf("  (not readable from this process)\n");
			return;
		}
		std::atomic_thread_fence(std::memory_order_acquire);
		mem.read(ta, &seq1, sizeof(seq1));
		stable = seq0 == seq1 && t.seq == seq0;
	}
	static const char *const phases[] = { "no write under way", "slot 0 being written",
					      "slot 1 being written",
					      "odd, not a phase the library leaves" };
	char note[128];
	std::snprintf(note, sizeof(note), "(%s; readers take slot %u; %s after %d %s)",
		      phases[t.seq & 3], t.seq & 1,
		      stable ? "stable" : "kept changing: slots below may be torn", tries,
		      tries == 1 ? "read" : "reads");
	field("seq", t.seq, note);
	field("reserved", t.reserved, t.reserved ? "(not zero)" : "");
	for (unsigned i = 0; i < 2; i++) {
		const kshare_title_slot &s = t.slot[i];
		const std::size_t len =
			strnlen(s.title, std::min<std::size_t>(s.len, KSHARE_TITLE_LEN - 1));
		char name[16];
		std::snprintf(name, sizeof(name), "slot[%u]", i);
		std::printf("  %s%s\n", name, i == (t.seq & 1) ? " (the one readers take)" : "");
		field("  len", s.len,
		      s.len > KSHARE_TITLE_LEN - 1 ? "(past the slot: readers cut it)" : "");
		hex_field("  flags", s.flags, bit_names(s.flags, { { KSHARE_TITLE_SET, "set" } }));
		std::printf("  %-13s \"%.*s\"%s\n", "  title", static_cast<int>(std::min<std::size_t>(len, 120)),
			    s.title, len > 120 ? "..." : "");
	}
}

// The UTS record of the system page, under its own sequence counter.
void dump_uts(const memory &mem, std::uintptr_t area, const kshare_sys_header &h)
{
	constexpr std::size_t uts_end = offsetof(kshare_uts, domainname) + KSHARE_UTS_LEN;
	if (!(h.features & KSHARE_FEATURE_UTS) || h.uts_size < uts_end ||
	    h.uts_offset > h.map_size || h.uts_size > h.map_size - h.uts_offset) {
		std::printf("uts record: none (this kernel does not offer one)\n");
		return;
	}
	const std::uintptr_t ua = area + h.uts_offset;
	kshare_uts u{};
	const std::size_t len = std::min<std::size_t>(h.uts_size, sizeof(u));
	bool stable = false;
	int tries = 0;
	for (; tries < read_tries && !stable; tries++) {
		std::uint32_t seq0 = 0, seq1 = 0;
		mem.read(ua + offsetof(kshare_uts, seq), &seq0, sizeof(seq0));
		std::atomic_thread_fence(std::memory_order_acquire);
		mem.read(ua, &u, len);
		std::atomic_thread_fence(std::memory_order_acquire);
		mem.read(ua + offsetof(kshare_uts, seq), &seq1, sizeof(seq1));
		stable = !(seq0 & 1) && seq0 == seq1 && u.seq == seq0;
	}
	char note[96];
	std::printf("uts record at %#" PRIxPTR " (offset %u)\n", ua, h.uts_offset);
	std::snprintf(note, sizeof(note), "(%s after %d %s)",
		      stable ? "stable" : "kept changing: fields below may be torn", tries,
		      tries == 1 ? "read" : "reads");
	field("seq", u.seq, note);
	hex_field("uts_valid", u.valid,
		  bit_names(u.valid, { { KSHARE_UTS_VALID_NAMES, "names" },
				       { KSHARE_UTS_VALID_NPROCS, "nprocs" } }));
	field("generation", u.generation);
	field("nr_cpus", u.nr_cpus_online,
	      u.valid & KSHARE_UTS_VALID_NPROCS ? "valid" : "not-valid");
	auto name = [](const char *key, char (&s)[KSHARE_UTS_LEN]) {
		s[KSHARE_UTS_LEN - 1] = '\0'; // the page is the kernel's, but never trust a length
		std::printf("  %-13s \"%s\"\n", key, s);
	};
	name("sysname", u.sysname);
	name("nodename", u.nodename);
	name("release", u.release);
	name("version", u.version);
	name("machine", u.machine);
	name("domainname", u.domainname);
}

int run(const source &src)
{
	const std::optional<pid_t> pid = src.pid;
	const found where = src.file ? found{} : pid ? find_other(*pid) : find_own();
	const std::uintptr_t area = where.area;
	const std::string who = src.file ? std::string("file ") + src.file
				: pid ? "pid " + std::to_string(*pid)
				      : "this process (pid " + std::to_string(::getpid()) + ")";
	if (!area && !src.file) {
		std::printf("%s: no kshare area: %s\n", who.c_str(), where.why.c_str());
		return 1;
	}
	memory mem(src);
	std::printf("kshare area of %s at %#" PRIxPTR "\n", who.c_str(), area);
	if (!src.file) {
		const std::string line = mapping(pid, "[kshare]").second;
		std::printf("  maps          %s\n",
			    line.empty() ? "(no [kshare] line!)" : line.c_str());
	}

	kshare_sys_header h{};
	mem.read(area, &h, sizeof(h));
	// Fields past the kernel's header_size are not the header's (an older
	// kernel): they read as zero, as an absent record should.
	if (h.header_size < sizeof(h) &&
	    h.header_size >= offsetof(kshare_sys_header, header_size) + sizeof(h.header_size))
		std::memset(reinterpret_cast<char *>(&h) + h.header_size, 0,
			    sizeof(h) - h.header_size);
	std::printf("system header\n");
	hex_field("magic", h.magic, h.magic == KSHARE_MAGIC ? "\"KSHR\" ok" : "BAD MAGIC");
	field("abi_version", h.abi_version,
	      h.abi_version == KSHARE_ABI_VERSION ? "ok" : "NOT the version this tool reads");
	if (h.magic != KSHARE_MAGIC || h.abi_version != KSHARE_ABI_VERSION)
		return 1;
	char note[128];
	std::snprintf(note, sizeof(note), "(this tool knows %zu bytes%s)", sizeof(h),
		      h.header_size > sizeof(h) ? "; the rest is newer than this tool" : "");
	field("header_size", h.header_size, note);
	std::snprintf(note, sizeof(note), "(%u pages)", (h.map_size + 4095) / 4096);
	field("map_size", h.map_size, note);
	hex_field("features", h.features,
		  bit_names(h.features, { { KSHARE_FEATURE_PROC_PID, "pid" },
					  { KSHARE_FEATURE_PROC_PPID, "ppid" },
					  { KSHARE_FEATURE_PROC_PGID_SID, "pgid_sid" },
					  { KSHARE_FEATURE_PROC_CREDS, "creds" },
					  { KSHARE_FEATURE_PROC_TID_CACHE, "tid_cache" },
					  { KSHARE_FEATURE_UTS, "uts" },
					  { KSHARE_FEATURE_NPROCS, "nprocs" },
					  { KSHARE_FEATURE_TITLE, "title" } }));
	field("proc_offset", h.proc_offset);
	std::snprintf(note, sizeof(note), "(this tool knows %zu bytes)", sizeof(kshare_proc_page));
	field("proc_size", h.proc_size, note);
	field("uts_offset", h.uts_offset);
	std::snprintf(note, sizeof(note), "(this tool knows %zu bytes)", sizeof(kshare_uts));
	field("uts_size", h.uts_size, note);
	field("reserved", h.reserved, h.reserved ? "(not zero: newer than this tool)" : "");
	field("title_size", h.title_size);
	if (h.proc_size < offsetof(kshare_proc_page, fsgid) + sizeof(std::uint32_t) ||
	    h.proc_offset > h.map_size || h.proc_size > h.map_size - h.proc_offset) {
		std::printf("process page: outside the area or shorter than this tool reads\n");
		return 1;
	}

	// The whole record under cred_seq, so that ids and valid bits belong
	// together; bounded, like the library's readers.
	kshare_proc_page p{};
	const std::uintptr_t pa = area + h.proc_offset;
	int tries = 0;
	bool stable = false;
	for (; tries < read_tries && !stable; tries++) {
		std::uint32_t seq0 = 0, seq1 = 0;
		mem.read(pa + offsetof(kshare_proc_page, cred_seq), &seq0, sizeof(seq0));
		std::atomic_thread_fence(std::memory_order_acquire);
		mem.read(pa, &p, sizeof(p));
		std::atomic_thread_fence(std::memory_order_acquire);
		mem.read(pa + offsetof(kshare_proc_page, cred_seq), &seq1, sizeof(seq1));
		stable = !(seq0 & 1) && seq0 == seq1 && p.cred_seq == seq0;
	}
	const auto kernel = src.file ? std::map<std::string, std::string>{} : proc_view(pid);
	std::printf("process page at %#" PRIxPTR " (offset %u)\n", pa, h.proc_offset);
	hex_field("valid", p.valid,
		  bit_names(p.valid, { { KSHARE_PROC_VALID_PID, "pid" },
				       { KSHARE_PROC_VALID_PPID, "ppid" },
				       { KSHARE_PROC_VALID_PGID, "pgid" },
				       { KSHARE_PROC_VALID_SID, "sid" },
				       { KSHARE_PROC_VALID_CREDS, "creds" },
				       { KSHARE_PROC_VALID_TID_CACHE, "tid_cache" },
				       { KSHARE_PROC_VALID_UTS, "uts" } }));
	int mismatches = 0;
	auto ident = [&](const char *name, std::int64_t value, std::uint32_t bit) {
		const bool valid = p.valid & bit;
		auto it = kernel.find(name);
		const std::string proc = it == kernel.end() ? "?" : it->second;
		const bool differs = valid && proc != "?" && proc != std::to_string(value);
		mismatches += differs;
		std::printf("  %-13s %-12" PRId64 " %-9s /proc: %s%s\n", name, value,
			    valid ? "valid" : "not-valid", proc.c_str(),
			    differs ? "  MISMATCH" : "");
	};
	ident("pid", p.pid, KSHARE_PROC_VALID_PID);
	field("mm_serial", p.mm_serial, p.mm_serial ? "(this address space)" : "(ZERO: invalid)");
	ident("ppid", p.ppid, KSHARE_PROC_VALID_PPID);
	ident("pgid", p.pgid, KSHARE_PROC_VALID_PGID);
	ident("sid", p.sid, KSHARE_PROC_VALID_SID);
	std::snprintf(note, sizeof(note), "(%s after %d %s)",
		      stable ? "stable" : "kept changing: ids below may be torn", tries,
		      tries == 1 ? "read" : "reads");
	field("cred_seq", p.cred_seq, note);
	const std::uint32_t creds = stable ? KSHARE_PROC_VALID_CREDS : 0;
	ident("uid", p.uid, creds);
	ident("euid", p.euid, creds);
	ident("suid", p.suid, creds);
	ident("fsuid", p.fsuid, creds);
	ident("gid", p.gid, creds);
	ident("egid", p.egid, creds);
	ident("sgid", p.sgid, creds);
	ident("fsgid", p.fsgid, creds);
	if (h.proc_size > sizeof(p))
		std::printf("  (%zu more bytes of process page: newer than this tool)\n",
			    h.proc_size - sizeof(p));
	dump_uts(mem, area, h);
	dump_title(mem, where.title, h, src.file != nullptr);
	if (mismatches)
		std::printf("%d value(s) the page vouches for differ from /proc "
			    "(expected only if they changed while we read)\n", mismatches);
	return 0;
}

} // namespace
} // namespace kshare::dump

int main(int argc, char **argv)
{
	kshare::dump::source src;

	if (argc == 3 && !std::strcmp(argv[1], "--file")) {
		src.file = argv[2];
		return kshare::dump::run(src);
	}
	if (argc > 2 || (argc == 2 && (argv[1][0] == '-' || !argv[1][0]))) {
		std::fprintf(stderr, "usage: kshare-dump [PID]\n       kshare-dump --file IMAGE\n");
		return 2;
	}
	if (argc == 2) {
		char *end;
		long v = std::strtol(argv[1], &end, 10);
		if (*end || v <= 0)
			kshare::dump::fail(2, std::string("not a pid: ") + argv[1]);
		if (v != ::getpid())
			src.pid = static_cast<pid_t>(v);
	}
	return kshare::dump::run(src);
}
