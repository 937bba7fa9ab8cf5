#!/usr/bin/env bash
# The shim must export the names it interposes and nothing else: any
# other dynamic symbol (libkshare's own, a C++ runtime symbol) would leak
# into every program it is preloaded into, and could clash with a
# libkshare.so the program links itself. It must also need nothing but libc,
# and never call one of its own names through the PLT.
#   check-exports.sh SHIM NAME...   (NAME: every function it must interpose)
# An exported name must be one of NAME... or a libc function; NAME may name
# a function of another library (libbsd's setproctitle, say).
set -euo pipefail
shim=$1; shift
libc=$(gcc -print-file-name=libc.so.6)
[ -f "$libc" ] || { echo "check-exports: libc.so.6 not found" >&2; exit 1; }

fail=0
exported=$(nm -D --defined-only "$shim" | awk '{print $3}' | sed 's/@.*//' | sort -u)
libc_names=$(nm -D --defined-only "$libc" | awk '{print $3}' | sed 's/@.*//' | sort -u)
allowed=$(printf '%s\n' "$@")
for s in $exported; do
	if ! grep -qx -- "$s" <<<"$libc_names" && ! grep -qx -- "$s" <<<"$allowed"; then
		echo "not ok: $shim exports $s, neither interposed nor a libc function"
		fail=1
	fi
done
for s in "$@"; do
	if ! grep -qx -- "$s" <<<"$exported"; then
		echo "not ok: $shim does not export $s"
		fail=1
	fi
done
# The shim must never call a name it defines itself through the PLT: that
# call lands back in the shim (get_nprocs() falling back to get_nprocs()
# spun forever; sysconf() from inside munmap() re-entered the shim).
self_calls=$(comm -12 \
	<(readelf -rW "$shim" | awk '/JUMP_SLO|GLOB_DAT/ {print $5}' | sed 's/@.*//' | sort -u) \
	<(printf '%s\n' $exported | sort -u))
if [ -n "$self_calls" ]; then
	echo "not ok: $shim calls names it defines itself, through its PLT:" $self_calls
	fail=1
fi
needed=$(readelf -d "$shim" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if [ "$needed" != libc.so.6 ]; then
	echo "not ok: $shim needs" $needed "(only libc.so.6 allowed)"
	fail=1
fi
[ $fail = 0 ] && echo "ok: $shim exports only" $exported
exit $fail
