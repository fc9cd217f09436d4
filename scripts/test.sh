#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the slim test_progs in the VM and summarise: test_progs' result lines,
# the log of each failure, the reason of each skip, then the last line
# "N passed, M failed, K skipped".  Non-zero when anything failed or was
# skipped (the harness provides all the tests need), nothing ran, or the
# kernel log shows a splat.
#
# Usage: test.sh [test_progs args...]    (DEBUG=1, KCSAN=1: that kernel;
#        REPEAT=N: N runs in a row, each in a fresh boot; ARCH=NAME:
#        that architecture's kernel, in its QEMU machine)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kbuild=$KBUILD
# Another architecture's TCG is slower: its VM time bounds are multiplied.
scale=1
[[ -n $ASUFFIX ]] && scale=$SLOWDOWN
timeout=1800
[[ -n $FLAVOUR$RT_CONFIG$DEBIAN_CONFIG ]] && timeout=3600
timeout=$((timeout * scale))
sel=$SELFTESTS
samples=$SAMPLES
[[ -x $sel/test_progs ]] || die "no test_progs in $sel; run 'make selftests'"
[[ -x $samples/try_wx ]] || die "no sample policies in $samples; run 'make samples'"

# AppArmor behind bpf: krsi_gate checks that tracing a hook KRSI does not
# offer (getprocattr) leaves the answer of /proc/self/attr/current alone.
lsm=capability,bpf,apparmor
# CONFIG=debian boots without lsm=: Debian's CONFIG_LSM list is in force,
# as on a Debian system.
[[ -n $DEBIAN_CONFIG ]] && lsm=
# The JIT on, as distributions run it: x86_64 and arm64 kernels have it on
# by default, the others start with the interpreter.
jit=sysctl.net.core.bpf_jit_enable=1

# The summary of the last boot's test_progs run (run_vm); dies with WHAT
# when the VM failed or a test failed or was skipped.
# Usage: check_boot WHAT
check_boot() {
	local sumrc=0
	python3 "$KRSI_ROOT/scripts/test-summary.py" --no-skips "$VM_RUNDIR/test_progs.log" || sumrc=$?
	((VM_RC == 0 && sumrc == 0)) || die "$1 failed; see $VM_RUNDIR"
}

# One boot of the VM and the summary of its test_progs run.
run_once() {
	local sumrc=0

	run_vm -k "$kbuild/$KIMAGE" -l "$lsm" -a "$jit" -t "$timeout" -- \
		"$KRSI_ROOT/scripts/guest-test_progs.sh" "$sel" "$samples" "$@"
	python3 "$KRSI_ROOT/scripts/test-summary.py" --no-skips "$VM_RUNDIR/test_progs.log" || sumrc=$?
	if ((VM_RC != 0 && sumrc == 0)); then
		die "the VM run failed (status $VM_RC) although no test failed; see $VM_RUNDIR/serial.log"
	fi
	((VM_RC == 0 && sumrc == 0))
}

# The boot parameter: krsi.enforce=0 starts KRSI in permissive mode; any
# value but 0 and 1 is refused with a warning and leaves it enforcing.
# Usage: check_enforce_param VALUE WANT [WARNING]
check_enforce_param() {
	local got
	run_vm -k "$kbuild/$KIMAGE" -l "$lsm" -a "$jit" -t $((300 * scale)) -a "krsi.enforce=$1" -- \
		sh -c 'cat /sys/kernel/security/bpf/enforce >"$KRSI_RUNDIR/enforce"'
	((VM_RC == 0)) || die "boot with krsi.enforce=$1 failed; see $VM_RUNDIR/serial.log"
	got=$(cat "$VM_RUNDIR/enforce")
	[[ $got == "$2" ]] || die "booted with krsi.enforce=$1, the enforce file reads '$got', not $2"
	if [[ -n ${3:-} ]] && ! grep -qF "$3" "$VM_RUNDIR/serial.log"; then
		die "booted with krsi.enforce=$1, the kernel log does not say '$3'"
	fi
	info "krsi.enforce=$1 at boot: the enforce file reads $got"
}
check_enforce_param 0 0
check_enforce_param 2 1 "krsi.enforce=2 ignored"

# The seal lasts until reboot: its test runs in boots of its own, sealed by
# the boot parameter (krsi.seal=1: the first attachment seals) and by a
# write to the seal file.  The subtest runs only when KRSI_SEAL names how.
# Usage: check_seal boot|write
check_seal() {
	local args=()
	[[ $1 == boot ]] && args=(-a krsi.seal=1)
	run_vm -k "$kbuild/$KIMAGE" -l "$lsm" -a "$jit" -t $((600 * scale)) "${args[@]}" -- \
		env KRSI_SEAL="$1" "$KRSI_ROOT/scripts/guest-test_progs.sh" "$sel" "$samples" \
		-a krsi_seal/sealed
	check_boot "the sealed boot (KRSI_SEAL=$1)"
	grep -q '^#[0-9]*/[0-9]* *krsi_seal/sealed:OK' "$VM_RUNDIR/test_progs.log" ||
		die "the sealed boot (KRSI_SEAL=$1) did not run krsi_seal/sealed; see $VM_RUNDIR"
	grep -q "krsi: sealed by ${1/boot/attach}:" "$VM_RUNDIR/serial.log" ||
		die "the sealed boot (KRSI_SEAL=$1): the kernel log does not say it was sealed"
	info "sealed by $1: krsi_seal/sealed passed"
}
check_seal boot
check_seal write

# KRSI needs no JIT: the tests of the context, of MAC and of the attach
# without trampolines run once more with the interpreter
# (CONFIG_BPF_JIT_ALWAYS_ON is off in the VM config).
check_interpreter() {
	local tests=krsi_portable,krsi_ctx,krsi_mac
	run_vm -k "$kbuild/$KIMAGE" -l "$lsm" -a sysctl.net.core.bpf_jit_enable=0 \
		-t $((600 * scale)) -- \
		"$KRSI_ROOT/scripts/guest-test_progs.sh" "$sel" "$samples" -a "$tests"
	check_boot "the interpreter boot"
	grep -q '^bpf_jit_enable: 0$' "$VM_RUNDIR/test_progs.log" ||
		die "the interpreter boot ran with the JIT on; see $VM_RUNDIR/test_progs.log"
	info "interpreter (bpf_jit_enable=0): $tests passed"
}
check_interpreter

# REPEAT=N: N boots in a row, each a fresh VM; the first failure ends it.
repeat=${REPEAT:-1}
[[ $repeat =~ ^[1-9][0-9]*$ ]] || die "REPEAT takes a positive whole number, not '$repeat'"
for ((run = 1; run <= repeat; run++)); do
	((repeat == 1)) || info "run $run of $repeat"
	if ! run_once "$@"; then
		((repeat == 1)) || info "run $run of $repeat failed after $((run - 1)) consecutive passing runs"
		exit 1
	fi
done
((repeat == 1)) || info "$repeat consecutive runs passed"
if [[ -n $DEBIAN_CONFIG ]]; then
	active=$(cat "$VM_RUNDIR/lsm")
	info "Debian's LSM list, booted without lsm=; /sys/kernel/security/lsm: $active"
	[[ ,$active, == *,bpf,* && ,$active, == *,apparmor,* ]] ||
		die "the LSMs in force ($active) are not Debian's: bpf or apparmor is missing"
fi
