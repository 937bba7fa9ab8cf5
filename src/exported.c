/* SPDX-License-Identifier: MIT */
/*
 * The exported, out-of-line twins of the header's inline fast paths: the
 * header is compiled here with KSHARE_INLINE empty.
 */
#define KSHARE_INLINE
#include <kshare/kshare.h>
