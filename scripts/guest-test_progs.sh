#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs in the VM: copy the slim test_progs and its BPF objects to the tmpfs
# scratch, run it verbosely with the whole log in the run directory, and
# show its result lines as they come, each once (tests that fork repeat
# their parent's unflushed output).
#
# Without test_progs arguments, as upstream's CI runs it: the tests in
# parallel (-j, one worker per CPU), then the serial ones (serial.list)
# on their own, since "test_progs -j -v" runs them but does not print
# their subtests' results.  With arguments, one serial run with them.
# Exits with the first non-zero status of the runs.
#
# Usage: guest-test_progs.sh SELFTESTS_DIR SAMPLES_DIR [test_progs args...]
set -euo pipefail
dir=$1
samples=$2
shift 2
[[ -n ${KRSI_RUNDIR:-} ]] || { echo "guest-test_progs.sh: run me in the VM (vmtest.sh)" >&2; exit 2; }
[[ -f $dir/serial.list ]] || { echo "guest-test_progs.sh: no $dir/serial.list; rebuild with 'make selftests'" >&2; exit 2; }
work=/tmp/selftests
mkdir -p "$work"
cp "$dir/test_progs" "$dir"/*.bpf.o "$dir/serial.list" "$work/"
# Tests that drive bpftool expect it next to test_progs.
if [[ -x $dir/tools/sbin/bpftool ]]; then
	cp "$dir/tools/sbin/bpftool" "$work/"
fi
# The sample policies' test runs them from krsi-samples/.
mkdir -p "$work/krsi-samples"
cp "$samples"/{audit_exec,deny_rerun,deny_tmpfs_exec,deny_wx,try_wx} "$work/krsi-samples/"
# What is built but not run, with the reasons (scripts/selftests.deny,
# and the architecture's own list: selftests.sh writes both to deny.list).
[[ -f $dir/deny.list ]] || { echo "guest-test_progs.sh: no $dir/deny.list; rebuild with 'make selftests'" >&2; exit 2; }
cp "$dir/deny.list" "$work/"
cd "$work"
cpus=$(getconf _NPROCESSORS_ONLN)
log=$KRSI_RUNDIR/test_progs.log
: >"$log"
echo "kernel: $(uname -r) $(uname -m); LSMs: $(cat /sys/kernel/security/lsm); CPUs: $cpus"
cp /sys/kernel/security/lsm "$KRSI_RUNDIR/lsm"
echo "bpf_jit_enable: $(cat /proc/sys/net/core/bpf_jit_enable)" | tee -a "$log"

# One test_progs run, its output appended to the log and its result lines
# shown; returns test_progs' own status, whatever grep finds.
run() {
	local status
	echo "=== test_progs $*" >>"$log"
	set +e
	./test_progs -v -d @deny.list "$@" 2>&1 | tee -a "$log" |
		grep --line-buffered -E '^#[0-9]+(/[0-9]+)? +.*:(OK|SKIP|FAIL)|^Summary:' |
		awk '!seen[$0]++ { print; fflush() }'
	status=("${PIPESTATUS[@]}")
	set -e
	return "${status[0]}"
}

rc=0
if (($#)); then
	run "$@" || rc=$?
elif [[ -s serial.list ]]; then
	echo "test_progs -j $cpus: the tests but $(paste -sd, serial.list), in parallel"
	run -j"$cpus" -d @serial.list || rc=$?
	echo "test_progs: the serial tests"
	run -a @serial.list || { s=$?; ((rc)) || rc=$s; }
else
	run -j"$cpus" || rc=$?
fi
exit "$rc"
