// SPDX-License-Identifier: MIT
// A consumer of the installed package, built with find_package(kshare).
#include <kshare/kshare.hpp>

#include <cstdio>
#include <string>
#include <string_view>

#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

int main()
{
	struct utsname u;
	uid_t r, e, s;
	bool bad = ::syscall(SYS_uname, &u) != 0 ||
		   ::syscall(SYS_getresuid, &r, &e, &s) != 0 ||
		   kshare::getpid() != ::syscall(SYS_getpid) ||
		   kshare::getppid() != ::syscall(SYS_getppid) ||
		   kshare::gettid() != ::syscall(SYS_gettid) ||
		   kshare::getgid() != static_cast<gid_t>(::syscall(SYS_getgid)) ||
		   kshare::getresgid().real != static_cast<gid_t>(::syscall(SYS_getgid)) ||
		   kshare::getresuid() != kshare::resids<uid_t>{r, e, s} ||
		   kshare::hostname() != std::string_view(u.nodename) ||
		   std::string_view(kshare::uname().release) != u.release;
	kshare::setproctitle("-consumer %s", KSHARE_CONSUMER_LINK);
	bad = bad || kshare::getproctitle() != std::string("consumer ") + KSHARE_CONSUMER_LINK;
	std::printf("consumer-cpp (%s): kshare %s, answers %s\n", KSHARE_CONSUMER_LINK,
		    kshare::available(kshare::feature::pid | kshare::feature::uts)
			    ? "available"
			    : "not available (fallback)",
		    bad ? "WRONG" : "right");
	return bad ? 1 : 0;
}
