// SPDX-License-Identifier: MIT
// Internals shared between libkshare's own source files.
#ifndef KSHARE_DETAIL_HPP
#define KSHARE_DETAIL_HPP

#include <kshare/kshare.h>

#include <cstdarg>
#include <cstddef>

#include <atomic>

namespace kshare::detail {

// Set by the library's start-up code (title.cc), which runs after libc has
// set environ up: from then on a NULL environ means an empty environment.
extern std::atomic<bool> environment_ready;

// The UTS record of the system page (looked up on first use), or
// empty_uts_record, a record of zeroes whose validity bits send callers to
// the system calls.
extern const kshare_uts empty_uts_record;
const kshare_uts *uts_record();

// The title page, the latch of <kshare/uapi.h>; nullptr if there is none
// this library can write (the kernel's title_size is at least
// sizeof(kshare_title)). With @map_it, the first call asks the kernel for
// the title page (PR_KSHARE_MAP_TITLE); without, it only finds one that is
// mapped already (another copy's).
kshare_title *title_record(bool map_it);

// The title page is about to be given up: show its title through argv
// instead, and take it off the page so that the kernel shows argv.
void carry_title_over(kshare_title *t);

// Stop reading the area, for good: this copy of the library only.
void detach();
// This copy and the ones after it in the chain (kshare__detach_chain).
void detach_chain();
// Every copy of the library the chain reaches (kshare_detach()).
void detach_everywhere();

// The title page is at @title (@size bytes), or, @title nullptr, about to go
// away: this copy and the ones after it in the chain (kshare__title_chain).
void title_chain(void *title, std::size_t size);
// Every copy the chain reaches: this copy mapped the title page at @title.
void announce_title(void *title, std::size_t size);
// Stop writing the title page, for good, carrying the title over into argv
// (the area stays): this copy only, and every copy the chain reaches.
void detach_title();
void detach_title_everywhere();

// Before the address-space calls: detach if the call would take the area
// away from the library (see kshare_munmap(3)).
void guard_munmap(const void *addr, std::size_t len);
// mremap's: also takes its variadic arguments and returns the new address
// they hold (MREMAP_FIXED), or nullptr, as glibc's mremap() reads them.
void *guard_mremap(const void *old_addr, std::size_t old_size, std::size_t new_size, int flags,
		   va_list ap);
void guard_mmap(const void *addr, std::size_t len, int flags);
void guard_mprotect(const void *addr, std::size_t len, int prot);
void guard_madvise(const void *addr, std::size_t len, int advice);

} // namespace kshare::detail

#endif
