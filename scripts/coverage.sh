#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make coverage": line coverage of the series' kernel code.  The GCOV=1
# kernel (gcov profiling of each C file the series adds or changes under
# kernel/ and security/) runs the selftests and a short krsi_stress on 2
# vCPUs; coverage-report.py then prints each file's share of lines run
# (of a changed file, of the lines the series adds) and every line not
# run, and fails when a file is below COVERAGE_MIN percent (default 90).
#
# Usage: GCOV=1 coverage.sh [krsi_stress args...]   (default: -d 60)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[[ $FLAVOUR == gcov ]] || die "run me with GCOV=1 ('make coverage' does)"
[[ -f $KBUILD/arch/x86/boot/bzImage ]] || die "no kernel in $KBUILD; run 'make kernel GCOV=1'"
[[ -x $SELFTESTS/test_progs ]] || die "no test_progs in $SELFTESTS; run 'make selftests GCOV=1'"
[[ -x $SAMPLES/try_wx ]] || die "no sample policies in $SAMPLES; run 'make samples GCOV=1'"
build_krsi_stress

args=("$@")
((${#args[@]})) || args=(-d 60)
# krsi.enforce= twice: a refused value, then 1, so that the boot
# parameter's handler runs both ways and KRSI still enforces.
run_vm -k "$KBUILD/arch/x86/boot/bzImage" -l capability,bpf,apparmor -c 2 -t 5400 \
	-a "krsi.enforce=2 krsi.enforce=1" -- \
	"$KRSI_ROOT/scripts/guest-coverage.sh" "$SELFTESTS" "$SAMPLES" \
	"$KRSI_STRESS" "$KBUILD" "${args[@]}"
((VM_RC == 0)) || die "the coverage run failed (status $VM_RC); see $VM_RUNDIR/serial.log"
python3 "$KRSI_ROOT/scripts/coverage-report.py" "$TREE" "$KBUILD" "$VM_RUNDIR/gcov" \
	--min "${COVERAGE_MIN:-90}"
