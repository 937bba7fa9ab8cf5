// SPDX-License-Identifier: MIT
// Internals shared between libkshare's own source files.
#ifndef KSHARE_DETAIL_HPP
#define KSHARE_DETAIL_HPP

#include <kshare/kshare.h>

namespace kshare::detail {

// The UTS record of the system page (looked up on first use), or a record
// of zeroes whose validity bits send callers to the system calls.
const kshare_uts *uts_record();

} // namespace kshare::detail

#endif
