#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs in the VM for "make coverage": the selftests, then a short stress
# run, then a copy of the kernel's gcov counters (the objects kernel.sh
# profiles with GCOV=1) into the run directory's gcov/, by path below the
# kernel's build directory.  Fails when either run failed.
#
# Usage: guest-coverage.sh SELFTESTS_DIR SAMPLES_DIR KRSI_STRESS KBUILD [krsi_stress args...]
set -euo pipefail
sel=$1
samples=$2
stress=$3
kbuild=$4
shift 4
[[ -n ${KRSI_RUNDIR:-} ]] || { echo "guest-coverage.sh: run me in the VM (vmtest.sh)" >&2; exit 2; }
gcov=/sys/kernel/debug/gcov$kbuild
[[ -d $gcov ]] || { echo "guest-coverage.sh: no $gcov: a kernel without CONFIG_GCOV_KERNEL, or built elsewhere" >&2; exit 1; }

rc=0
"$(dirname "$0")/guest-test_progs.sh" "$sel" "$samples" || rc=$?
echo "guest-coverage.sh: test_progs exited with $rc"
"$stress" "$@" || rc=$?
echo "guest-coverage.sh: the selftests and krsi_stress exited with $rc"

out=$KRSI_RUNDIR/gcov
n=0
# (The guest has no /dev/fd, so no process substitution; the build
# directory's paths hold no white space.)
for f in $(cd "$gcov" && find . -name '*.gcda'); do
	mkdir -p "$out/$(dirname "$f")"
	cat "$gcov/$f" >"$out/$f"
	n=$((n + 1))
done
echo "guest-coverage.sh: copied $n .gcda files"
((n > 0)) || exit 1
exit "$rc"
