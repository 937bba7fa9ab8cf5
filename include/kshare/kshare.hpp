// SPDX-License-Identifier: MIT
// kshare for C++: the C API in namespace kshare, noexcept throughout.
#ifndef KSHARE_KSHARE_HPP
#define KSHARE_KSHARE_HPP

#include <kshare/kshare.h>

#include <cstdint>

namespace kshare {

enum class feature : std::uint64_t {
	pid = KSHARE_FEATURE_PROC_PID,
};

/// True if the running kernel maintains @p f in the kshare pages.
inline bool available(feature f) noexcept
{
	return ::kshare_available(static_cast<std::uint64_t>(f)) != 0;
}

/// getpid(2) without a system call.
inline pid_t getpid() noexcept { return ::kshare_getpid(); }

} // namespace kshare

#endif // KSHARE_KSHARE_HPP
