# SPDX-License-Identifier: GPL-2.0
# KRSI: the one entry point.  "make help" lists the targets.

SHELL := /bin/bash
export BUILD ?= $(CURDIR)/build
export DEBUG ?= 0
export KCSAN ?= 0
export GCOV ?= 0
export RT ?= 0
S := $(CURDIR)/scripts
# ARCH=NAME builds and runs another architecture (scripts/lib.sh lists
# them).  The kernel's own ARCH differs (ppc64le is powerpc): the scripts
# get the name as KRSI_ARCH, and no make below this one sees ARCH.
# Only ARCH= on the command line counts: an ARCH in the environment is
# another tool's.
export KRSI_ARCH := $(if $(filter command line,$(origin ARCH)),$(ARCH),x86_64)
unexport ARCH
MAKEOVERRIDES := $(filter-out ARCH=%,$(MAKEOVERRIDES))

.PHONY: help deps tree rootfs kernel samples selftests run test bench stress coverage base-kernel distro deb boot-debian check nokrsi build-each export rebase cleanroot shell clean distclean

help:
	@echo "make run        build the KRSI kernel, boot it, show sample policies auditing and denying, exit"
	@echo "make test       build and run the selftests in the VM (DEBUG=1: debug kernel, KCSAN=1: KCSAN kernel, RT=1: PREEMPT_RT kernel, CONFIG=debian: Debian's cloud kernel config with KRSI, REPEAT=N: N boots in a row, ARCH=i386|ppc64le|arm|arm64|s390x: that architecture, cross-built)"
	@echo "make bench      hook and attach costs: KRSI vs trampolines vs no bpf LSM, in instructions under TCG (KVM=1: wall time under KVM)"
	@echo "make stress     policy churn, capacity race, bpf(2) fuzzing and fault injection on 2 vCPUs (STRESS=\"-d 600\" for longer)"
	@echo "make coverage   line coverage of the series' kernel code by the selftests and a short stress run"
	@echo "make distro     the series in Debian's config: W=1 and sparse, no new warning vs the base"
	@echo "make deb        Debian packages of the KRSI VM kernel (bindeb-pkg) in build/deb (CONFIG=debian: of Debian's cloud kernel with KRSI)"
	@echo "make boot-debian Debian's cloud kernel with KRSI, packaged, installed in a Debian system and booted with systemd, AppArmor and auditd; checked"
	@echo "make check      git am + checkpatch --strict on every patch; the series builds, also without KRSI (ARCH=NAME: builds for that architecture with KRSI on and off, failing on any warning)"
	@echo "make nokrsi     build the series with CONFIG_SECURITY_KRSI=n (build/kbuild-nokrsi, ARCH=NAME: build/kbuild-nokrsi-NAME)"
	@echo "make build-each build the kernel after each patch in turn (bisectability; FROM=N: from patch N on)"
	@echo "make deps       install the Debian packages the harness needs"
	@echo "make rebase     move the series to the newest linux-source-6.12 in Debian's archive (BASE=VERSION: that one)"
	@echo "make cleanroot  a fresh Debian 12 root (debootstrap): make deps, make tree and the kernel's build tools in it, as on a new machine, then a boot of the kernel built here"
	@echo "make rootfs     ARCH=NAME: the Debian root file system that architecture's VM boots"
	@echo "make tree       base + git am of patches/ in build/linux (idempotent)"
	@echo "make kernel     configure and build the VM kernel (incremental)"
	@echo "make samples    build bpftool and the sample policies of samples/krsi"
	@echo "make selftests  build libbpf, bpftool and the slim test_progs"
	@echo "make shell      a shell in the VM"
	@echo "make export     write build/linux's commits back to patches/"
	@echo "make clean      remove build outputs (keeps the work tree)"
	@echo "make distclean  remove build/ entirely (refuses with unexported work)"

# CONFIG=debian starts from Debian's kernel config (linux-config-6.12).
deps:
	@$(S)/deps.sh $(if $(filter debian,$(CONFIG)),--distro-config)

tree: deps
	@$(S)/tree.sh

kernel: tree
	@$(S)/kernel.sh

# Another architecture's user space is built against, and runs on, a root
# file system of its own.
ifeq ($(KRSI_ARCH),x86_64)
USERSPACE := kernel
else
USERSPACE := kernel rootfs
endif

rootfs: deps
	@$(S)/rootfs.sh

samples: $(USERSPACE)
	@$(S)/samples.sh

selftests: $(USERSPACE)
	@$(S)/selftests.sh

# Under TCG the vCPUs' TSCs fail the kernel's synchronisation check, which
# leaves the clock at jiffies resolution (4 ms); tsc=reliable keeps the TSC,
# so that deny_rerun's latency is measured to the microsecond.
run: samples
	@$(S)/auditd.sh
	@$(S)/vmtest.sh -t 600 -a tsc=reliable -- $(S)/guest-run.sh $(BUILD)/samples \
		$(BUILD)/bpftool/bpftool $(BUILD)/auditd/root

test: selftests samples
	@$(S)/test.sh

bench: samples
	@$(S)/bench.sh

stress: samples
	@$(S)/stress.sh $(STRESS)

coverage:
	@$(MAKE) --no-print-directory GCOV=1 selftests samples
	@GCOV=1 $(S)/coverage.sh $(STRESS)

base-kernel: tree
	@$(S)/base-kernel.sh

distro: tree
	@$(S)/deps.sh --distro-config
	@$(S)/distro.sh

deb: kernel
	@$(S)/deb.sh

# KRSI as a user installs it: the packages of Debian's cloud kernel with
# KRSI installed in a Debian system, booted with systemd and checked.
boot-debian:
	@$(S)/deps.sh --debian-system
	@$(MAKE) --no-print-directory CONFIG=debian deb samples
	@CONFIG=debian $(S)/debian-system.sh

# ARCH=NAME: that architecture's builds with KRSI on and off, no warning.
check: tree
ifeq ($(KRSI_ARCH),x86_64)
	@$(S)/check.sh
	@$(S)/kernel.sh
	@$(MAKE) --no-print-directory nokrsi
else
	@$(S)/onoff.sh
endif

nokrsi: tree
	@EXTRA_CONFIG=$(CURDIR)/configs/nokrsi.config $(S)/kernel.sh $(BUILD)/linux \
		$(BUILD)/kbuild-nokrsi$(if $(filter-out x86_64,$(KRSI_ARCH)),-$(KRSI_ARCH))

build-each: tree
	@$(S)/build-each.sh

export:
	@$(S)/export.sh

# No "deps" first: it would stop on a base that has left the archive,
# which is what a rebase is for.
rebase:
	@$(S)/rebase.sh $(BASE)

cleanroot:
	@$(S)/deps.sh --cleanroot
	@$(S)/cleanroot.sh

shell: kernel
	@$(S)/vmtest.sh -s

clean:
	rm -rf $(BUILD)/kbuild $(BUILD)/kbuild-debug $(BUILD)/kbuild-kcsan $(BUILD)/kbuild-gcov \
		$(BUILD)/kbuild-nokrsi $(BUILD)/selftests $(BUILD)/selftests-debug \
		$(BUILD)/selftests-kcsan $(BUILD)/selftests-gcov $(BUILD)/selftests-each \
		$(BUILD)/vm $(BUILD)/samples $(BUILD)/samples-debug \
		$(BUILD)/samples-kcsan $(BUILD)/samples-gcov \
		$(BUILD)/stress $(BUILD)/bpftool \
		$(BUILD)/bench $(BUILD)/kbuild-base $(BUILD)/kbuild-distro \
		$(BUILD)/kbuild-distro-base $(BUILD)/kbuild-nobpflsm $(BUILD)/deb \
		$(foreach a,i386 ppc64le arm arm64 s390x,$(BUILD)/kbuild-$(a) $(BUILD)/kbuild-nokrsi-$(a) \
			$(BUILD)/selftests-$(a) \
			$(BUILD)/samples-$(a) $(BUILD)/bpftool-$(a) $(BUILD)/bpftool-target-$(a) \
			$(BUILD)/rootfs-$(a) \
			$(BUILD)/rootfs-$(a).tmp $(BUILD)/rootfs-$(a).log)

distclean:
	@$(S)/tree.sh --check-exported
	rm -rf $(BUILD)
