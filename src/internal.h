/* SPDX-License-Identifier: MIT */
/* libkshare internals shared with its own tests and tools; not installed. */
#ifndef KSHARE_INTERNAL_H
#define KSHARE_INTERNAL_H

#include <kshare/kshare.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Validate the [kshare] area at @area and make the library read from it,
 * with @title as its title page (NULL: none); the kernel is asked for
 * nothing (the project's tests and benchmarks attach areas of their own).
 * @area == NULL detaches: every call then takes the system call.
 * Return: 0, or -1 with errno EPROTO if the area is not one this library
 * understands, or @title is given for an area that offers no title page
 * (neither is then used).
 */
int kshare__attach(const void *area, void *title);

/*
 * The area this copy of the library reads, or NULL; on first use it
 * registers, prctl(PR_KSHARE, PR_KSHARE_MAP).
 */
const struct kshare_sys_header *kshare__header(void);

#ifdef __cplusplus
}
#endif

#endif /* KSHARE_INTERNAL_H */
