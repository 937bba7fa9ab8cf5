/* SPDX-License-Identifier: MIT */
/*
 * The exported, out-of-line twins of the header's inline fast paths: the
 * header is compiled here with KSHARE_INLINE as KSHARE_API, not static inline.
 */
#define KSHARE_INLINE KSHARE_API
#include <kshare/kshare.h>
