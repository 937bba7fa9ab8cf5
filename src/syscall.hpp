// SPDX-License-Identifier: MIT
// Every system call libkshare makes goes through KSHARE_SYSCALL, so that one
// place decides how (and tests can see that one place).
#ifndef KSHARE_SYSCALL_HPP
#define KSHARE_SYSCALL_HPP

#include <sys/syscall.h>
#include <unistd.h>

// syscall(2) itself: no libc wrapper caches anything behind our back.
#define KSHARE_SYSCALL(name, ...) ::syscall(SYS_##name __VA_OPT__(, ) __VA_ARGS__)

#endif
