// SPDX-License-Identifier: MIT
/*
 * A shared library with a copy of libkshare.a inside it, for copies-check
 * to dlopen(): its own functions are the only ones it exports, and each
 * reaches this copy of the library, hidden from everything else.
 */
#include <kshare/kshare.h>

#include "internal.h"

#define COPIES_API __attribute__((visibility("default")))

/* The area this copy reads (it registers at the first call), or NULL. */
COPIES_API const void *copies_static_header(void)
{
	return kshare__header();
}

COPIES_API pid_t copies_static_getpid(void)
{
	return kshare_getpid();
}

COPIES_API void copies_static_setproctitle(const char *title)
{
	kshare_setproctitle("-%s", title);
}

COPIES_API int copies_static_munmap(void *addr, size_t len)
{
	return kshare_munmap(addr, len);
}
