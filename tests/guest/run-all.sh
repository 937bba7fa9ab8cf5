#!/bin/sh
# Runs inside the VM: every guest test program, then the kernel log check.
# Ends with the total "N passed, N failed, N skipped"; exits non-zero on
# any failure.
passed=0 failed=0 skipped=0
for t in /kshare/tests/*; do
	name=${t##*/}
	echo "# ---- $name"
	"$t" > /tmp/out 2>&1
	rc=$?
	cat /tmp/out
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' /tmp/out | tail -n 1)
	if [ -z "$line" ]; then
		echo "# $name: exit $rc without a summary: counted as one failure"
		failed=$((failed + 1))
		continue
	fi
	set -- $line
	passed=$((passed + $1)) failed=$((failed + $3))
	[ "$5" ] && skipped=$((skipped + $5))
	if [ "$rc" -ne 0 ] && [ "$3" -eq 0 ]; then
		echo "# $name: exit $rc although no test failed: counted as one failure"
		failed=$((failed + 1))
	fi
done
if dmesg | grep -Eq 'BUG:|WARNING:|Oops|KASAN|UBSAN|Call Trace:'; then
	echo "# kernel log shows a splat:"
	dmesg | grep -E -A 20 'BUG:|WARNING:|Oops|KASAN|UBSAN|Call Trace:' | sed 's/^/# /' | head -n 60
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
