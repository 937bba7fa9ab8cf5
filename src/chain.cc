// SPDX-License-Identifier: MIT
// libkshare.so only: its links in the chains that carry a detach, and word
// of the title page, to every copy of the library in the process (see
// detach_chain() in kshare.cc). The preload shim defines its own; a static
// copy has none, as it must not export anything.
#include "detail.hpp"

extern "C" void kshare__detach_chain(void)
{
	kshare::detail::detach_chain();
}

extern "C" void kshare__title_chain(void *title, size_t size)
{
	kshare::detail::title_chain(title, size);
}
