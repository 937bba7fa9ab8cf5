/* SPDX-License-Identifier: MIT */
/* libkshare internals shared with its own tests and tools; not installed. */
#ifndef KSHARE_INTERNAL_H
#define KSHARE_INTERNAL_H

#include <kshare/kshare.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Validate the [kshare] area at @area and make the library read from it.
 * @area == NULL detaches: every call then takes the system call.
 * Return: 0, or -1 with errno EPROTO if the area is not one this library
 * understands (it is then not used).
 */
int kshare__attach(const void *area);

/* The area found through AT_KSHARE, or NULL; looks it up on first use. */
const struct kshare_sys_header *kshare__header(void);

#ifdef __cplusplus
}
#endif

#endif /* KSHARE_INTERNAL_H */
