// SPDX-License-Identifier: MIT
// Compiled, not run, by the cxx-format-* ctests (tests/unit/CMakeLists.txt):
// KSHARE_CASE 0 must compile cleanly under -Wformat=2 -Werror; each other
// case must be refused with the diagnostic its test expects.
#include <kshare/kshare.hpp>

#include <cstdarg>
#include <string>
#include <string_view>

#ifndef KSHARE_CASE
#error "define KSHARE_CASE"
#endif

void use(int i, unsigned u, long l, std::size_t z, double d, void *p, const std::string &s,
	 std::string_view sv, const char *runtime, std::va_list ap);

void use(int i, unsigned u, long l, std::size_t z, double d, void *p, const std::string &s,
	 std::string_view sv, const char *runtime, std::va_list ap)
{
#if KSHARE_CASE == 0
	// What must keep compiling.
	kshare::setproctitle("-worker %d of %u: %s", i, u, s);
	kshare::setproctitle("%ld %zu %.2f %p %c %5.*s %% %m", l, z, d, p, 'x', 3, "abc");
	kshare::setproctitle("%.*s", static_cast<int>(sv.size()), sv.data());
	kshare::setproctitle("idle");
	kshare::setproctitle(sv);
	kshare::setproctitle(s);
	kshare::setproctitle(std::string_view{runtime});
	kshare::setproctitle(nullptr);
	kshare::vsetproctitle("-%d", ap);
#elif KSHARE_CASE == 1
	kshare::setproctitle("-%d", s.c_str()); // a string for %d
#elif KSHARE_CASE == 2
	kshare::setproctitle("-%d %d", i); // too few arguments
#elif KSHARE_CASE == 3
	kshare::setproctitle("-%d", i, u); // too many
#elif KSHARE_CASE == 4
	kshare::setproctitle("-%s", sv); // not NUL-terminated
#elif KSHARE_CASE == 5
	kshare::setproctitle(runtime, i); // not a constant: unchecked
#elif KSHARE_CASE == 6
	kshare::setproctitle("-%d", l); // long for int
#elif KSHARE_CASE == 7
	kshare::vsetproctitle("-%y", ap); // the format attribute, under -Werror=format
#elif KSHARE_CASE == 8
	::kshare_setproctitle("-%d", s.c_str()); // the C call, under -Werror=format
#endif
	(void)i, (void)u, (void)l, (void)z, (void)d, (void)p, (void)s, (void)sv, (void)runtime,
		(void)ap;
}
