#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the slim test_progs in the VM and summarise: test_progs' result lines,
# the log of each failure, the reason of each skip, then the last line
# "N passed, M failed, K skipped".  Non-zero when anything failed or was
# skipped (the harness provides all the tests need), nothing ran, or the
# kernel log shows a splat.
#
# Usage: test.sh [test_progs args...]    (DEBUG=1, KCSAN=1: that kernel)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kbuild=$KBUILD
timeout=1800
[[ -n $FLAVOUR ]] && timeout=3600
sel=$SELFTESTS
samples=$SAMPLES
[[ -x $sel/test_progs ]] || die "no test_progs in $sel; run 'make selftests'"
[[ -x $samples/try_wx ]] || die "no sample policies in $samples; run 'make samples'"

# AppArmor behind bpf: krsi_gate checks that tracing a hook KRSI does not
# offer (getprocattr) leaves the answer of /proc/self/attr/current alone.
lsm=capability,bpf,apparmor
vmrc=0
"$KRSI_ROOT/scripts/vmtest.sh" -k "$kbuild/arch/x86/boot/bzImage" -l "$lsm" -t "$timeout" -- \
	"$KRSI_ROOT/scripts/guest-test_progs.sh" "$sel" "$samples" "$@" || vmrc=$?
sumrc=0
python3 "$KRSI_ROOT/scripts/test-summary.py" --no-skips "$BUILD/vm/latest/test_progs.log" || sumrc=$?
if ((vmrc != 0 && sumrc == 0)); then
	die "the VM run failed (status $vmrc) although no test failed; see $BUILD/vm/latest/serial.log"
fi
((vmrc == 0 && sumrc == 0))
