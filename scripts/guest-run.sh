#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs in the VM for "make run": show KRSI active, then the sample policies
# auditing and denying, live.  Every claim printed is checked; the first
# that does not hold ends the run with an error.
#
# Usage: guest-run.sh SAMPLES_DIR BPFTOOL
set -euo pipefail
samples=$1
bpftool=$2
# By name from here on, as an administrator would type them.
export PATH=$samples:$(dirname "$bpftool"):$PATH
sfs=/sys/kernel/security
hooks=$sfs/bpf/hooks
work=$(mktemp -d /tmp/krsi-run.XXXXXX)
# The hooks the three sample policies attach to.
policy_hooks=(bprm_committed_creds bprm_creds_for_exec mmap_file file_mprotect)
pids=()

fail() {
	echo "error: $*" >&2
	exit 1
}

step() {
	printf '\n== %s ==\n' "$*"
}

# Show a command, then run it.
show() {
	printf '$ %s\n' "$*"
	"$@"
}

stop_loaders() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	pids=()
}
trap stop_loaders EXIT

# Start a policy loader; return once it says it attached.
start_policy() {
	local name=$1 out=${2:-/dev/null} i
	printf '$ %s &\n' "$name"
	"$name" >"$out" 2>"$work/$name.err" &
	pids+=($!)
	for ((i = 0; i < 600; i++)); do
		if grep -q ': attached' "$work/$name.err"; then
			cat "$work/$name.err"
			return
		fi
		kill -0 "${pids[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	cat "$work/$name.err" >&2
	fail "$name did not attach"
}

# The audit line of one pid, waiting for the loader to print it.
audit_line() {
	local pid=$1 i line
	for ((i = 0; i < 100; i++)); do
		line=$(grep -F "\"pid\":$pid," "$work/audit.jsonl" || true)
		if [[ -n $line ]]; then
			echo "$line"
			return
		fi
		sleep 0.1
	done
}

# Run a command that must be refused: show its error and exit status.
expect_denied() {
	local rc=0 out
	printf '$ %s\n' "$*"
	out=$("$@" 2>&1) || rc=$?
	echo "$out"
	echo "(exit status $rc)"
	((rc != 0)) || fail "'$*' was allowed"
	[[ $out == *"Operation not permitted"* ]] || fail "'$*' failed, but not with EPERM"
}

list_hooks() {
	local h
	for h in "${policy_hooks[@]}"; do
		printf '$ cat %s/%s\n' "$hooks" "$h"
		cat "$hooks/$h"
	done
}

step "KRSI is active"
echo "kernel:       $(uname -r)"
echo "active LSMs:  $(cat $sfs/lsm)"
case ,$(cat $sfs/lsm), in
*,bpf,*) ;;
*) fail "the bpf LSM is not active" ;;
esac
[[ -d $hooks ]] || fail "$hooks does not exist: KRSI is not active"
echo "hook files:   $(find "$hooks" -maxdepth 1 -type f | wc -l) in $hooks/"

step "1. Load the three sample policies through KRSI"
start_policy audit_exec "$work/audit.jsonl"
start_policy deny_tmpfs_exec
start_policy deny_wx

step "2. What runs on the hooks: securityfs and bpftool"
list_hooks
for h in "${policy_hooks[@]}"; do
	grep -q ' krsi$' "$hooks/$h" || fail "$hooks/$h lists no KRSI program"
done
show bpftool krsi list
[[ $(bpftool krsi list | grep -c ' krsi$') -ge 4 ]] ||
	fail "bpftool krsi list does not show the four programs"

step "3. An allowed exec, and its audit line"
printf '$ /bin/echo hello from /bin/echo\n'
/bin/echo hello from /bin/echo &
pid=$!
wait "$pid" || fail "/bin/echo failed"
line=$(audit_line "$pid")
[[ -n $line ]] || fail "no audit line for pid $pid"
echo "audit_exec: $line"
[[ $line == *'"filename":"/bin/echo"'* ]] || fail "the audit line does not name /bin/echo"
[[ $line == *"\"ppid\":$$,"* ]] || fail "the audit line does not give this shell ($$) as parent"

step "4. A denied exec: a copy of /bin/true on tmpfs"
findmnt -n -o TARGET,FSTYPE --target /tmp
show cp /bin/true /tmp/true
expect_denied env /tmp/true

step "5. A denied W^X mapping"
expect_denied try_wx

step "6. Detach: stop the loaders (closing their links)"
show kill -TERM "${pids[@]}"
stop_loaders
cat "$work/deny_tmpfs_exec.err" "$work/deny_wx.err" "$work/audit_exec.err" | grep -v ': attached'
grep -q 'detached; 1 exec(s) denied' "$work/deny_tmpfs_exec.err" ||
	fail "deny_tmpfs_exec did not count the denied exec"
list_hooks
for h in "${policy_hooks[@]}"; do
	if grep -q ' krsi$' "$hooks/$h"; then
		fail "$hooks/$h still lists a KRSI program"
	fi
done
show bpftool krsi list
if bpftool krsi list | grep -q ' krsi$'; then
	fail "bpftool krsi list still shows programs"
fi

step "7. The same actions, allowed again"
show /tmp/true || fail "/tmp/true was denied without the policy"
echo "(exit status 0)"
show try_wx || fail "try_wx was denied without the policy"
lines=$(wc -l <"$work/audit.jsonl")
show /bin/echo hello again
sleep 0.5
[[ $(wc -l <"$work/audit.jsonl") == "$lines" ]] || fail "an exec was audited after detach"
echo "(no audit line: audit_exec is detached)"

step "Done: every step above was checked"
