#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make stress": krsi_stress (stress/krsi_stress.c) in a VM with 2 vCPUs:
# policy churn, detach while running, the capacity race, trampoline, KRSI
# and lsm_cgroup churn mixed, and a seeded bpf(2) fuzzer.  Prints its
# figures; fails on any violation or kernel report (vmtest.sh checks the
# serial log).
#
# Usage: stress.sh [-d SECONDS] [-n MIN_SWAPS] [-f FUZZ_CALLS] [-s SEED]
#        (krsi_stress's options, passed through; DEBUG=1, KCSAN=1: that
#        kernel)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kbuild=$KBUILD
[[ -f $kbuild/arch/x86/boot/bzImage ]] || die "no kernel in $kbuild; run 'make kernel'"
build_krsi_stress

# The run's bound: the stress's own duration plus boot, program loads and
# the fuzzer, doubled, and more on a sanitizer kernel.
secs=300
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
	[[ ${args[i]} == -d ]] && secs=${args[i + 1]:-300}
done
[[ $secs =~ ^[0-9]+$ ]] || die "-d takes whole seconds"
timeout=$((secs * 2 + 900))
timeout=$((timeout * SLOWDOWN))

info "krsi_stress ${args[*]} on $(basename "$kbuild"), 2 vCPUs (bound $timeout s)"
"$KRSI_ROOT/scripts/vmtest.sh" -k "$kbuild/arch/x86/boot/bzImage" -c 2 -t "$timeout" -- \
	"$KRSI_STRESS" "$@"
