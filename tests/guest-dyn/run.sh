#!/bin/sh
# Runs inside the VM, started by scripts/vm-test-preload: the LD_PRELOAD
# shim with unmodified dynamically linked programs (preload-check, Debian's
# id, uname, hostname, getconf, ps and python3), three copies of the library
# in one process (copies-check), kshare-dump, then
# tests/shim/shim-check.py (every interposed function, each run bounded).
# Each part prints TAP; the last line is
# the total "N passed, N failed, N skipped". Tests named kshare_* need a
# kernel with kshare and must fail without it; all others must pass on any
# kernel.
SHIM=/kshare/libkshare-preload.so
DYN=/kshare/dyn
BOUND=20 # seconds for any one run of a program under the shim
passed=0 failed=0 skipped=0

# Add a TAP stream's closing "N passed, N failed, N skipped" to the totals.
count() {
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		echo "# $2: no summary line: counted as one failure"
		failed=$((failed + 1))
		return
	fi
	set -- $line
	passed=$((passed + $1)) failed=$((failed + $3)) skipped=$((skipped + $5))
}

program() {
	name=$1; shift
	echo "# ---- $name"
	"$@" > /tmp/out 2>&1
	rc=$?
	cat /tmp/out
	count /tmp/out "$name"
	if [ $rc -ne 0 ] && ! grep -q '^not ok' /tmp/out; then
		echo "# $name: exit $rc although no test failed: counted as one failure"
		failed=$((failed + 1))
	fi
}

# The shell's own tests: t NAME COMMAND... passes if COMMAND succeeds.
n=0 tp=0 tf=0
t() {
	name=$1; shift
	n=$((n + 1))
	if ( "$@" ) > /tmp/t.out 2>&1; then
		tp=$((tp + 1)); echo "ok $n - $name"
	else
		tf=$((tf + 1)); echo "not ok $n - $name"
	fi
	sed 's/^/# /' /tmp/t.out
}
t_done() {
	echo "1..$n"
	echo "$tp passed, $tf failed, 0 skipped" > /tmp/t.sum
	cat /tmp/t.sum
	count /tmp/t.sum "$1"
	n=0 tp=0 tf=0
}

expect_eq() { # WHAT GOT WANT
	[ "$2" = "$3" ] && return 0
	echo "$1: got '$2', want '$3'"
	return 1
}

program preload-check-libc "$DYN/preload-check" libc
program preload-check-shim env LD_PRELOAD=$SHIM "$DYN/preload-check" shim
program unmap-check-plain "$DYN/unmap-check" plain
program unmap-check-shim env LD_PRELOAD=$SHIM "$DYN/unmap-check" shim
program copies-check-plain "$DYN/copies-check" plain
program copies-check-shim env LD_PRELOAD=$SHIM "$DYN/copies-check" shim

# ---- coreutils id: the same output with and without the shim, as root and
# as another user; under a seccomp filter that makes the id system calls
# fail, only the shim still gets them right. Real and effective ids stay
# equal: otherwise exec is in secure mode (AT_SECURE) and ld.so ignores
# LD_PRELOAD, and with no_new_privs the kernel resets the effective ids.
echo "# ---- debian-id"
IDS="--resuid 1000,1000,1000 --resgid 2000,2000,2000"
ASID="$DYN/exec-as $IDS --"
id_root() {
	a=$(/usr/bin/id) || return 1
	b=$(LD_PRELOAD=$SHIM /usr/bin/id) || return 1
	expect_eq "id" "$a" "uid=0(root) gid=0(root) groups=0(root)" &&
	expect_eq "id with the shim" "$b" "$a"
}
id_other() {
	a=$($ASID /usr/bin/id) || return 1
	b=$(LD_PRELOAD=$SHIM $ASID /usr/bin/id) || return 1
	case $a in
	"uid=1000 gid=2000 groups=2000") ;;
	*) echo "id as 1000/2000: '$a'"; return 1 ;;
	esac
	expect_eq "id with the shim" "$b" "$a"
}
id_seccomp_libc() {
	a=$($DYN/exec-as $IDS --deny-ids -- /usr/bin/id)
	echo "without the shim: $a"
	case $a in *4294967295*) return 0 ;; esac
	echo "the filter did not make getuid fail"; return 1
}
id_seccomp_shim() {
	want=$($ASID /usr/bin/id)
	a=$(LD_PRELOAD=$SHIM $DYN/exec-as $IDS --deny-ids -- /usr/bin/id) || return 1
	expect_eq "id under seccomp with the shim" "$a" "$want"
}
t id_same_with_and_without_shim id_root
t id_other_ids_same_with_and_without_shim id_other
t id_fails_under_seccomp_without_shim id_seccomp_libc
t kshare_id_under_seccomp_with_shim id_seccomp_shim
t_done debian-id

# ---- coreutils uname, hostname, getconf and python3's os.cpu_count(): the
# same output with and without the shim, each run killed after $BOUND s (a
# hang is a failure, not a stuck VM); under a filter that makes uname(2)
# fail, only the shim still answers. getconf _NPROCESSORS_ONLN and
# os.cpu_count() reach the shim's sysconf(_SC_NPROCESSORS_ONLN), whose
# fallback must not loop (issue 13); coreutils nproc never did (it calls
# sched_getaffinity), so it is not here.
echo "# ---- debian-uts"
bounded() { timeout -s KILL $BOUND "$@"; }
same() {
	a=$(bounded "$@") || { echo "without the shim: status $?"; return 1; }
	b=$(LD_PRELOAD=$SHIM bounded "$@") || { echo "with the shim: status $? (137: killed after $BOUND s)"; return 1; }
	expect_eq "$*" "$b" "$a"
}
online_cpus() { # the count the kernel's sysfs gives, as "N"
	awk -F, '{ for (i = 1; i <= NF; i++) { n = split($i, r, "-"); c += n == 2 ? r[2] - r[1] + 1 : 1 } print c }' \
		/sys/devices/system/cpu/online
}
same_as_sysfs() {
	same "$@" || return 1
	expect_eq "$* against sysfs" "$(bounded "$@")" "$(online_cpus)"
}
fails_denied() { ! $DYN/exec-as --deny-ids -- "$@"; }
works_denied_with_shim() {
	want=$("$@") || return 1
	a=$(LD_PRELOAD=$SHIM $DYN/exec-as --deny-ids -- "$@") || return 1
	expect_eq "$* under seccomp with the shim" "$a" "$want"
}
t uname_same_with_and_without_shim same /usr/bin/uname -a
t hostname_same_with_and_without_shim same /usr/bin/hostname
t getconf_nprocs_onln_same_with_and_without_shim same_as_sysfs /usr/bin/getconf _NPROCESSORS_ONLN
t python_cpu_count_same_with_and_without_shim same_as_sysfs \
	/usr/bin/python3 -S -I -c 'import os; print(os.cpu_count())'
t uname_fails_under_seccomp_without_shim fails_denied /usr/bin/uname -a
t hostname_fails_under_seccomp_without_shim fails_denied /usr/bin/hostname
t kshare_uname_under_seccomp_with_shim works_denied_with_shim /usr/bin/uname -a
t kshare_hostname_under_seccomp_with_shim works_denied_with_shim /usr/bin/hostname
t_done debian-uts

# ---- procps ps and pgrep (Debian's, dynamically linked) see a title set
# through the title page.
echo "# ---- debian-procps"
procps_title() {
	/kshare/title-setter --set kshare-procps-title &
	pid=$!
	sleep 1
	out=$(/usr/bin/ps -o pid=,args= -p $pid)
	found=$(/usr/bin/pgrep -f 'kshare-procps-titl[e]')
	kill $pid
	echo "ps: $out; pgrep: $found"
	expect_eq "ps" "$(echo $out)" "$pid kshare-procps-title" &&
	expect_eq "pgrep" "$found" "$pid"
}
t kshare_procps_ps_and_pgrep_show_the_title procps_title
t_done debian-procps

# ---- python3: each id from os.* against /proc/self of the same process.
echo "# ---- debian-python3"
PY="/usr/bin/python3 -S -I /kshare/ids.py"
pairs_equal() { # the output of ids.py: 10 lines, each "name value value"
	awk '{ print } $2 != $3 { bad = 1 } END { exit bad || NR != 10 }'
}
py_plain() { $PY | pairs_equal && LD_PRELOAD=$SHIM $PY | pairs_equal; }
py_other() {
	$ASID $PY | pairs_equal && LD_PRELOAD=$SHIM $ASID $PY | pairs_equal
}
py_seccomp_libc() {
	out=$($DYN/exec-as --deny-ids -- $PY)
	echo "$out"
	echo "$out" | grep -q '^pid -1 '
}
py_seccomp_shim() {
	LD_PRELOAD=$SHIM $DYN/exec-as $IDS --deny-ids -- $PY | pairs_equal
}
t python_ids_match_proc_with_and_without_shim py_plain
t python_other_ids_match_proc_with_and_without_shim py_other
t python_fails_under_seccomp_without_shim py_seccomp_libc
t kshare_python_under_seccomp_with_shim py_seccomp_shim
t_done debian-python3

program kshare-dump "$DYN/dump-check" /kshare/kshare-dump

# ---- every function the shim interposes, with Debian's programs, each run
# bounded; their bindings to the shim asserted (tests/shim/shim-check.py).
program shim-check /usr/bin/python3 -S -I /kshare/shim-check.py \
	--shim "$SHIM" --exec-as "$DYN/exec-as" --timeout $BOUND

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
