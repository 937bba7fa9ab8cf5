# kshare: the two commands a newcomer needs are `make demo` and `make check`.
# Both install what is missing (apt-get, as root) and build what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help
BUILD := build
USER_BUILD := $(BUILD)/user
CMAKE_FLAGS ?=

.PHONY: help deps kernel kernel-off user test-host test-vm test-negative \
	checkpatch check demo clean test-preload test-install test-sanitizers

help:
	@echo "make demo   - build and boot the kshare kernel, compare getpid inside it"
	@echo "make check  - every test: host unit tests, checkpatch, guest tests on"
	@echo "              the kshare kernel and the negative control without kshare"
	@echo "make kernel | kernel-off | user | test-host | test-vm | test-negative | checkpatch"

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

# The LD_PRELOAD shim with Debian's programs and kshare-dump in the VM, then
# the same on the kernel without kshare, where only the kshare_* tests fail.
test-preload: user kernel kernel-off
	scripts/vm-test-preload --kernel kshare
	scripts/vm-test-preload --kernel off

# cmake --install into a temporary prefix; consumers built with pkg-config
# and find_package(kshare) run against it.
test-install: user
	scripts/test-install

checkpatch: deps
	scripts/checkpatch

# Order matters for the reader: the last line is the guest suite's total.
check: test-host checkpatch test-preload test-install test-negative test-vm

demo: user kernel
	scripts/vm-run --kernel kshare --quiet \
		--add $(USER_BUILD)/guest/bin/kshare-demo -- kshare-demo

clean:
	rm -rf $(USER_BUILD) $(BUILD)/kernel-*
