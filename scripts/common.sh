# Shared settings for kshare's scripts; sourced, never run.
# shellcheck shell=bash

KSHARE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KSHARE_BUILD=${KSHARE_BUILD:-$KSHARE_ROOT/build}
KSHARE_KSRC=$KSHARE_BUILD/linux                 # git tree: base + our series
KSHARE_TARBALL=${KSHARE_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
KSHARE_JOBS=${KSHARE_JOBS:-$(nproc)}

# Kernel flavours: each is a config and an object directory.
#   kshare  - the series with CONFIG_KSHARE=y (what the tests exercise)
#   off     - the same tree with CONFIG_KSHARE=n (negative control)
kshare_kobj() { echo "$KSHARE_BUILD/kernel-${1:-kshare}"; }
kshare_bzimage() { echo "$(kshare_kobj "$1")/arch/x86/boot/bzImage"; }

die() { echo "error: $*" >&2; exit 1; }
note() { echo "==> $*" >&2; }
