#!/usr/bin/env bash
# The man pages format without a single groff warning (-ww), .so links
# resolve, and every public function of <kshare/kshare.h> has a page.
#   man/check-man.sh   (from anywhere)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v groff >/dev/null || { echo "groff missing: scripts/install-deps (groff-base)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Laid out as installed, so that ".so man3/..." resolves from the top.
mkdir -p "$work/man3" "$work/man7"
cp "$root"/man/*.3 "$work/man3/"
cp "$root"/man/*.7 "$work/man7/"

fail=0
cd "$work"
for page in man3/*.3 man7/*.7; do
	if ! groff -man -Tutf8 -ww "$page" > out 2> err || [ -s err ] || [ ! -s out ]; then
		echo "not ok: $page"
		sed 's/^/#   /' err
		fail=1
	fi
done
# Public names: kshare_ but not kshare__ (internal), declared as functions.
for fn in $(grep -oE '\bkshare_[a-z][a-z_]*\(' "$root/include/kshare/kshare.h" | tr -d '(' | sort -u); do
	if [ ! -f "man3/$fn.3" ]; then
		echo "not ok: $fn has no man page (man/$fn.3)"
		fail=1
	fi
done
[ $fail = 0 ] && echo "ok: $(ls man3 man7 | grep -c '\.[37]$') man pages, no warnings, every public function covered"
exit $fail
