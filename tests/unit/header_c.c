// SPDX-License-Identifier: MIT
/* kshare.h as a C translation unit sees it (C11, no extensions needed). */
#include <kshare/kshare.h>

pid_t kshare_test_getpid_from_c(void)
{
	return kshare_getpid();
}
