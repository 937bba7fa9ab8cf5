// SPDX-License-Identifier: MIT
// A consumer of the installed package, built with find_package(kshare).
#include <kshare/kshare.hpp>

#include <cstdio>

#include <sys/syscall.h>
#include <unistd.h>

int main()
{
	bool bad = kshare::getpid() != ::syscall(SYS_getpid) ||
		   kshare::getppid() != ::syscall(SYS_getppid) ||
		   kshare::gettid() != ::syscall(SYS_gettid) ||
		   kshare::getgid() != static_cast<gid_t>(::syscall(SYS_getgid)) ||
		   kshare::getresgid().real != static_cast<gid_t>(::syscall(SYS_getgid));
	std::printf("consumer-cpp (%s): kshare %s, answers %s\n", KSHARE_CONSUMER_LINK,
		    kshare::available(kshare::feature::pid) ? "available" : "not available (fallback)",
		    bad ? "WRONG" : "right");
	return bad ? 1 : 0;
}
