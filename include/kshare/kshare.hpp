// SPDX-License-Identifier: MIT
// kshare for C++: the C API in namespace kshare, noexcept throughout.
#ifndef KSHARE_KSHARE_HPP
#define KSHARE_KSHARE_HPP

#include <kshare/kshare.h>

#include <cstdint>

namespace kshare {

enum class feature : std::uint64_t {
	pid = KSHARE_FEATURE_PROC_PID,
	ppid = KSHARE_FEATURE_PROC_PPID,
	pgid_sid = KSHARE_FEATURE_PROC_PGID_SID,
	creds = KSHARE_FEATURE_PROC_CREDS,
	tid_cache = KSHARE_FEATURE_PROC_TID_CACHE,
	uts = KSHARE_FEATURE_UTS,
	nprocs = KSHARE_FEATURE_NPROCS,
};

/// True if the running kernel maintains @p f in the kshare pages.
inline bool available(feature f) noexcept
{
	return ::kshare_available(static_cast<std::uint64_t>(f)) != 0;
}

/// The libc calls, same answers, no system call where the page vouches.
inline pid_t getpid() noexcept { return ::kshare_getpid(); }
inline pid_t getppid() noexcept { return ::kshare_getppid(); }
inline pid_t gettid() noexcept { return ::kshare_gettid(); }
inline pid_t getpgrp() noexcept { return ::kshare_getpgrp(); }
inline pid_t getsid(pid_t pid) noexcept { return ::kshare_getsid(pid); }
inline uid_t getuid() noexcept { return ::kshare_getuid(); }
inline uid_t geteuid() noexcept { return ::kshare_geteuid(); }
inline gid_t getgid() noexcept { return ::kshare_getgid(); }
inline gid_t getegid() noexcept { return ::kshare_getegid(); }

inline int get_nprocs() noexcept { return ::kshare_get_nprocs(); }
inline std::uint64_t uts_generation() noexcept { return ::kshare_uts_generation(); }
inline void detach() noexcept { ::kshare_detach(); }

/// Real, effective and saved ids in one consistent read.
struct resids {
	std::uint32_t real, effective, saved;
};
/// getresuid(2) and getresgid(2): they cannot fail with valid storage.
inline resids getresuid() noexcept
{
	resids r{};
	::kshare_getresuid(&r.real, &r.effective, &r.saved);
	return r;
}
inline resids getresgid() noexcept
{
	resids r{};
	::kshare_getresgid(&r.real, &r.effective, &r.saved);
	return r;
}

} // namespace kshare

#endif // KSHARE_KSHARE_HPP
