# kshare: the two commands a newcomer needs are `make demo` and `make check`.
# Both install what is missing (apt-get, as root) and build what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help
BUILD := build
USER_BUILD := $(BUILD)/user
USER_ARM64_BUILD := $(BUILD)/user-arm64
CMAKE_FLAGS ?=

.PHONY: help deps kernel kernel-off user test-host test-vm test-negative \
	checkpatch check demo clean test-preload test-install test-sanitizers bench bench-host bench-apps \
	kernel-debug test-debug user-arm64 kernel-arm64 kernel-arm64-off test-arm64 \
	test-arm64-negative test-arm64-off

help:
	@echo "make demo   - build and boot the kshare kernel: every call's speedup inside it,"
	@echo "              a title as ps shows it, ps reading titles under mmap_lock contention"
	@echo "make check  - every test: host unit tests, checkpatch, guest tests on"
	@echo "              the kshare kernel and the negative control without kshare"
	@echo "make kernel | kernel-off | user | test-host | test-vm | test-negative | checkpatch"
	@echo "make test-preload | test-install | test-sanitizers"
	@echo "make bench-host (real-CPU fast paths, a minute or two) | bench (everything, VMs)"
	@echo "make bench-apps (python3 and ps in the guest, with and without the shim, ~4 min)"
	@echo "make kernel-arm64 | user-arm64 | test-arm64 | test-arm64-negative | test-arm64-off"
	@echo "make deb | deb-kernel | system | test-system | system-shell (a real Debian system)"

deps:
	@scripts/install-deps

kernel: deps
	scripts/kernel-build kshare

kernel-off: deps
	scripts/kernel-build off

user: deps
	cmake -S . -B $(USER_BUILD) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(USER_BUILD) -j$$(nproc)

test-host: user
	cd $(USER_BUILD) && ctest --output-on-failure

test-vm: user kernel
	scripts/vm-test --kernel kshare

test-negative: user kernel-off
	scripts/vm-test --kernel off --expect-fail

# The kernel's own selftests (rseq, vDSO, exec, proc, clone3), built from a
# pristine copy of the source, on the kshare kernel and on the kernel without
# it: any result that differs fails (results/kselftest-ab.md).
.PHONY: test-kselftest-ab
test-kselftest-ab: user kernel kernel-off
	scripts/kselftest-ab

# The series' own kselftest (tools/testing/selftests/kshare), built the
# kselftest way: it must pass on the kshare kernel and fail without kshare.
.PHONY: test-kselftest-kshare
test-kselftest-kshare: user kernel kernel-off
	scripts/kselftest-kshare

# Every patch of kernel/patches builds on its own, in order.
.PHONY: test-series
test-series: deps
	scripts/kernel-series-check

# The guest suite on a kernel with KASAN, lockdep, DEBUG_VM and
# DEBUG_ATOMIC_SLEEP (kernel/debug.config): any splat fails it.
kernel-debug: deps
	scripts/kernel-build debug

test-debug: user kernel-debug
	scripts/vm-test --kernel debug

# The LD_PRELOAD shim with Debian's programs and kshare-dump in the VM, then
# the same on that kernel booted with kshare=off and on the kernel without
# kshare, where only the kshare_* tests fail.
test-preload: user kernel kernel-off
	scripts/vm-test-preload --kernel kshare
	scripts/vm-test-preload --kernel kshare --append kshare=off
	scripts/vm-test-preload --kernel off

# cmake --install into a temporary prefix; consumers built with pkg-config
# and find_package(kshare) run against it.
test-install: user
	scripts/test-install

# Debian 12 packages of the committed tree (git archive HEAD): libkshare0.1,
# libkshare-dev, libkshare-preload, kshare-tools in build/deb/, built with
# the library's tests and checked by lintian (an error fails). test-deb also
# checks each package's contents and builds and runs programs against them,
# extracted (docs/packaging.md). DEB_FLAGS=--worktree: the working tree's
# files instead of HEAD.
.PHONY: deb test-deb
deb: deps
	scripts/make-deb $(DEB_FLAGS)

test-deb: deb
	scripts/test-deb

# A real Debian 12 system on kshare (docs/real-system.md). deb-kernel: the
# kernel a real system boots (kernel/system.config), packaged by the
# kernel's own bindeb-pkg into build/deb-kernel/. system: an image from
# mmdebstrap with every package installed and the shim in
# /etc/ld.so.preload, cached under build/system/. test-system boots it twice
# (kshare on, and kshare=off on the command line) and runs the guest's
# checks: no failed unit, the audit of every process, sandboxed services,
# hostnamectl, titles in ps/pgrep/top/htop, PostgreSQL, an ssh login.
# system-shell: the same system with a root shell on the serial console.
.PHONY: deb-kernel system test-system system-shell
deb-kernel: deps
	KSHARE_KERNEL_DEB=$(BUILD)/deb-kernel scripts/kernel-build system
	lintian --fail-on error $(BUILD)/deb-kernel/linux-image-*.deb

system: deb deb-kernel
	scripts/kshare-system image

test-system: system
	scripts/kshare-system check
	scripts/kshare-system check --off

system-shell: system
	scripts/kshare-system shell

# The library and the host unit tests under ASan+UBSan, and under TSan (the
# simulated pages' racing writers): separate build directories, no guest
# programs (they are static) and no preload shim (it would need the
# sanitizer runtime preloaded too).
SAN_CMAKE = -DKSHARE_GUEST=OFF -DKSHARE_PRELOAD=OFF -DCMAKE_BUILD_TYPE=Debug
ASAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# GCC warns that TSan does not model standalone fences (the seqlock readers'
# acquire fence): it still checks every access, and all page accesses are
# atomic, so a plain racy access is still reported.
TSAN_FLAGS = -fsanitize=thread -Wno-tsan
# TSan's vfork() is a fork() (its runtime cannot run in a child sharing its
# memory), so the vfork test's shared variable is never written: skipped.
TSAN_SKIP = '^Fallback\.VforkChildGetsItsOwnPid$$'
test-sanitizers: deps
	cmake -S . -B $(BUILD)/asan $(CMAKE_FLAGS) $(SAN_CMAKE) \
		"-DCMAKE_C_FLAGS=$(ASAN_FLAGS)" "-DCMAKE_CXX_FLAGS=$(ASAN_FLAGS)" \
		"-DCMAKE_EXE_LINKER_FLAGS=$(ASAN_FLAGS)" >/dev/null
	cmake --build $(BUILD)/asan -j$$(nproc)
	cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure
	cmake -S . -B $(BUILD)/tsan $(CMAKE_FLAGS) $(SAN_CMAKE) \
		"-DCMAKE_C_FLAGS=$(TSAN_FLAGS)" "-DCMAKE_CXX_FLAGS=$(TSAN_FLAGS)" \
		"-DCMAKE_EXE_LINKER_FLAGS=$(TSAN_FLAGS)" >/dev/null
	cmake --build $(BUILD)/tsan -j$$(nproc)
	cd $(BUILD)/tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure \
		-E $(TSAN_SKIP)

checkpatch: deps
	scripts/checkpatch
	scripts/kconfig-check

# The benchmarks (docs/benchmarks.md): the real-CPU mode on this machine,
# then kshare-bench in the guest (emulated), the kernel-side A/B, and what
# applications gain (bench-apps): results/bench.{json,md,png},
# results/kernel.{json,md}, results/bench-apps{,-icount}.json.
bench: user kernel
	scripts/bench

# What an application gains, in the guest on the kshare kernel: Debian's
# python3 (os.getpid, os.cpu_count, logging) and procps ps over 1000 titles,
# with and without the preload shim, ratios within one boot; wall clock, then
# the same under icount (instructions). Tables in results/bench.md
# (BENCH_APPS_FLAGS: --quick, --rounds N, --seconds S).
bench-apps: user kernel
	scripts/bench-apps $(BENCH_APPS_FLAGS)
	scripts/bench-apps --icount $(BENCH_APPS_FLAGS)

# The real-CPU mode only: no kernel, no VM; the fast paths on a simulated
# area against their floors and goals, and reader scaling. Prints the table
# and leaves it in build/bench-host/ (BENCH_HOST_FLAGS: --quick,
# --no-scaling, --filter REGEX, --out DIR).
bench-host: user
	scripts/bench-host $(BENCH_HOST_FLAGS)

# arm64: the same series cross-built with Debian's gcc-aarch64-linux-gnu, and
# the same guest suite (cross-built with cmake/aarch64-linux-gnu.cmake) under
# qemu-system-aarch64 (-M virt, TCG). Its negative control in make check is
# the same kernel booted with kshare=off (no second kernel build: ~9 min
# cold); test-arm64-off is the one on an arm64 kernel with CONFIG_KSHARE=n.
kernel-arm64: deps
	scripts/kernel-build arm64

kernel-arm64-off: deps
	scripts/kernel-build arm64-off

user-arm64: deps
	cmake -S . -B $(USER_ARM64_BUILD) --no-warn-unused-cli \
		-DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
		-DKSHARE_TESTS=OFF $(CMAKE_FLAGS) >/dev/null
	cmake --build $(USER_ARM64_BUILD) -j$$(nproc)

test-arm64: user-arm64 kernel-arm64
	scripts/vm-test --arch arm64 --kernel kshare

test-arm64-negative: user-arm64 kernel-arm64
	scripts/vm-test --arch arm64 --kernel kshare --append kshare=off --expect-fail

test-arm64-off: user-arm64 kernel-arm64-off
	scripts/vm-test --arch arm64 --kernel off --expect-fail

# One stage after another (scripts/check-stages), the quick and most telling
# first, each kernel built as a stage of its own; the log ends with the time
# of every stage and the total.
CHECK_STAGES := deps user test-host checkpatch test-install deb test-deb test-sanitizers \
	kernel test-vm kernel-off test-negative test-preload \
	kernel-debug test-debug test-kselftest-ab test-kselftest-kshare \
	deb-kernel test-system \
	user-arm64 kernel-arm64 test-arm64 test-arm64-negative test-series
check:
	@scripts/check-stages $(CHECK_STAGES)

# Inside the VM: every call through the system call, glibc and kshare; a
# title set through the page as busybox ps shows it; ps reading the cmdline
# of a process whose mmap_lock another thread keeps taking. About 15 s once
# the kernel is built.
demo: user kernel
	scripts/vm-run --kernel kshare --quiet \
		--add $(USER_BUILD)/guest/bin/kshare-demo -- kshare-demo

clean:
	rm -rf $(USER_BUILD) $(USER_ARM64_BUILD) $(BUILD)/kernel-* $(BUILD)/series $(BUILD)/system $(BUILD)/deb-kernel
