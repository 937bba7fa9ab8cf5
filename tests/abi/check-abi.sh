#!/usr/bin/env bash
# libkshare's ABI, as a Debian maintainer would check it:
# - libkshare.so's SONAME carries the 0.x minor version (a minor version may
#   break the ABI), and it exports only kshare_* and kshare__* symbols, every
#   one under the KSHARE_0.1 version of src/libkshare.map: no libc names
#   (mmap, munmap, ...), no C++ runtime symbols;
# - a shared library that links libkshare.a in exports none of libkshare's
#   symbols (they stay hidden), only its own.
#   check-abi.sh LIBKSHARE_SO CONSUMER_SO VERSION
set -euo pipefail
lib=$1 consumer=$2 version=$3
want_soname=libkshare.so.$(cut -d. -f1,2 <<<"$version")
node=KSHARE_$(cut -d. -f1,2 <<<"$version")
fail=0
not_ok() { echo "not ok: $*"; fail=1; }

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "$want_soname" ] || not_ok "SONAME is '$soname', want $want_soname"

count=0
while read -r sym; do
	name=${sym%%@*} ver=${sym#*@}
	ver=${ver#@}
	[ "$name" = "$node" ] && continue # the version definition itself
	count=$((count + 1))
	case $name in kshare_*|kshare__*) ;; *) not_ok "$lib exports $sym" ;; esac
	[ "$ver" = "$node" ] || not_ok "$lib exports $sym, not under $node"
done < <(nm -D --defined-only "$lib" | awk '{print $3}')
[ "$count" -gt 20 ] || not_ok "$lib exports only $count symbols"

# libkshare's own symbols. (An unoptimised build also exports the weak
# instantiations of libstdc++ templates it used, as any static C++ library
# does; those carry no libkshare state.)
leaked=$(nm -D --defined-only "$consumer" | awk '{print $3}' | grep kshare |
	grep -v '^kshare_abi_consumer_pid$' || true)
[ -z "$leaked" ] || not_ok "$consumer, which links libkshare.a, exports:" $leaked
nm -D --defined-only "$consumer" | grep -q ' kshare_abi_consumer_pid$' ||
	not_ok "$consumer does not export its own function"

[ $fail = 0 ] && echo "ok: $soname exports $count symbols, all kshare_* under $node;" \
	"a library linking libkshare.a exports only its own"
exit $fail
