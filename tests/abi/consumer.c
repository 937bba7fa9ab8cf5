/* SPDX-License-Identifier: MIT */
/*
 * A shared library that uses kshare internally, with libkshare.a linked in:
 * check-abi.sh checks that it exports its own function and none of
 * libkshare's symbols.
 */
#include <kshare/kshare.h>

__attribute__((visibility("default"))) int kshare_abi_consumer_pid(void)
{
	return kshare_getpid() + kshare_get_nprocs() * 0;
}
