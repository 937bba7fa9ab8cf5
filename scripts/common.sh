# Shared settings for kshare's scripts; sourced, never run.
# shellcheck shell=bash

KSHARE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KSHARE_BUILD=${KSHARE_BUILD:-$KSHARE_ROOT/build}
# git tree: base + our series. KSHARE_KSRC may name another tree (a private
# worktree of it, say, built with KSHARE_SKIP_TREE=1).
KSHARE_KSRC=${KSHARE_KSRC:-$KSHARE_BUILD/linux}
KSHARE_TARBALL=${KSHARE_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
KSHARE_JOBS=${KSHARE_JOBS:-$(nproc)}

# Kernel flavours: each is a config and an object directory.
#   kshare  - the series with CONFIG_KSHARE=y (what the tests exercise)
#   off     - the same tree with CONFIG_KSHARE=n (negative control)
#   debug   - kshare plus kernel/debug.config
#   system  - kshare plus kernel/system.config (a real Debian system boots it)
#   arm64, arm64-off - kshare and off, cross-built for arm64 (QEMU virt)
# The series check's objects sit beside its own tree (build/series/kernel
# beside build/series/linux), as build/kernel-kshare sits beside build/linux:
# the same relative paths, so that ccache serves a step every object the
# kshare kernel already compiled from the same sources.
kshare_kobj() {
	case ${1:-kshare} in
	series) echo "$KSHARE_BUILD/series/kernel" ;;
	*) echo "$KSHARE_BUILD/kernel-${1:-kshare}" ;;
	esac
}
kshare_arch() { case ${1:-kshare} in arm64*) echo arm64 ;; *) echo x86 ;; esac; }
kshare_bzimage() {
	case $(kshare_arch "$1") in
	arm64) echo "$(kshare_kobj "$1")/arch/arm64/boot/Image" ;;
	*) echo "$(kshare_kobj "$1")/arch/x86/boot/bzImage" ;;
	esac
}

die() { echo "error: $*" >&2; exit 1; }
note() { echo "==> $*" >&2; }
