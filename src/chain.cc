// SPDX-License-Identifier: MIT
// libkshare.so only: its link in the chain that carries a detach to every
// copy of the library in the process (see detach_chain() in kshare.cc). The
// preload shim defines its own; a static copy has none, as it must not
// export anything.
#include "detail.hpp"

extern "C" void kshare__detach_chain(void)
{
	kshare::detail::detach_chain();
}
