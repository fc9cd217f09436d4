#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs in the VM for "make run": show KRSI active, then the sample policies
# auditing and denying, live, and one that denies what it has seen run.
# Every claim printed is checked; the first that does not hold ends the run
# with an error.
#
# Usage: guest-run.sh SAMPLES_DIR BPFTOOL AUDITD_ROOT
# (AUDITD_ROOT: Debian's auditd unpacked by scripts/auditd.sh)
set -euo pipefail
samples=$1
bpftool=$2
auditd_root=$3
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

# Start a policy loader, with ARGS; return once it says it attached.
# Usage: start_policy NAME [OUT [ARGS...]]
start_policy() {
	local name=$1 out=${2:-/dev/null} i
	shift $(($# < 2 ? $# : 2))
	printf '$ %s &\n' "$name${*:+ $*}"
	"$name" "$@" >"$out" 2>"$work/$name.err" &
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

# The line of FILE that holds the fixed string NEEDLE, waiting up to ten
# seconds for a loader to write it; nothing when none comes.
# Usage: wait_line FILE NEEDLE
wait_line() {
	local i line
	for ((i = 0; i < 100; i++)); do
		line=$(grep -F -- "$2" "$1" || true)
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

# The kernel's audit record (printed by the kernel without auditd) of the
# last denial of program PROG by command COMM, waiting for it.
kernel_record() {
	local prog=$1 comm=$2 i line
	for ((i = 0; i < 50; i++)); do
		line=$(dmesg | grep -F "type=1427 " |
			grep -F "prog_name=\"$prog\"" | grep -F "comm=\"$comm\"" |
			tail -n1 || true)
		if [[ -n $line ]]; then
			echo "${line#*audit: }"
			return
		fi
		sleep 0.1
	done
}

# The "<runs> <denials> <mode>" of program PROG's line in hook file HOOK.
krsi_counts() {
	awk -v p="$2" '$2 == p && $3 == "krsi" { print $4, $5, $6 }' "$hooks/$1"
}

step "1. Load the three sample policies through KRSI, W^X audit-only"
start_policy audit_exec "$work/audit.jsonl"
start_policy deny_tmpfs_exec
start_policy deny_wx /dev/null --audit
wx_pid=${pids[-1]}

step "2. What runs on the hooks: securityfs and bpftool"
list_hooks
for h in "${policy_hooks[@]}"; do
	grep -q ' krsi ' "$hooks/$h" || fail "$hooks/$h lists no KRSI program"
done
[[ $(krsi_counts file_mprotect wx_mprotect) == *' audit' ]] ||
	fail "wx_mprotect is not listed audit-only"
show bpftool krsi list
[[ $(bpftool krsi list | grep -c '  krsi  ') -ge 4 ]] ||
	fail "bpftool krsi list does not show the four programs"

step "3. An allowed exec, and its audit line"
printf '$ /bin/echo hello from /bin/echo\n'
/bin/echo hello from /bin/echo &
pid=$!
wait "$pid" || fail "/bin/echo failed"
line=$(wait_line "$work/audit.jsonl" "\"pid\":$pid,")
[[ -n $line ]] || fail "no audit line for pid $pid"
echo "audit_exec: $line"
[[ $line == *'"filename":"/bin/echo"'* ]] || fail "the audit line does not name /bin/echo"
[[ $line == *"\"ppid\":$$,"* ]] || fail "the audit line does not give this shell ($$) as parent"

step "4. A denied exec: a copy of /bin/true on tmpfs"
findmnt -n -o TARGET,FSTYPE --target /tmp
show cp /bin/true /tmp/true
expect_denied env /tmp/true

step "5. W^X: audit-only first, then enforced"
show try_wx || fail "try_wx was denied by an audit-only policy"
echo "(exit status 0: allowed, and audited)"
line=$(kernel_record wx_mprotect try_wx)
[[ -n $line ]] || fail "no audit record of wx_mprotect's denial"
echo "kernel audit record: $line"
[[ $line == *' permissive=1 '* ]] || fail "the record does not say permissive=1"
counts=$(krsi_counts file_mprotect wx_mprotect)
echo "file_mprotect, wx_mprotect: runs denials mode = $counts"
read -r _ denials _ <<<"$counts"
((denials >= 1)) || fail "wx_mprotect's denial was not counted"
show kill -TERM "$wx_pid"
wait "$wx_pid" || fail "deny_wx --audit did not exit cleanly"
cat "$work/deny_wx.err" | grep -v ': attached'
grep -q 'would have been denied' "$work/deny_wx.err" ||
	fail "deny_wx --audit did not report what it would have denied"
for i in "${!pids[@]}"; do
	[[ ${pids[i]} != "$wx_pid" ]] || unset 'pids[i]'
done
pids=("${pids[@]}")
start_policy deny_wx
expect_denied try_wx
line=$(kernel_record wx_mprotect try_wx)
echo "kernel audit record: $line"
[[ $line == *' permissive=0 '* ]] || fail "the record of the enforced denial does not say permissive=0"

step "6. The same record through auditd: ausearch -m 1427"
conf=$work/auditd
mkdir -p "$conf/plugins.d"
cat >"$conf/auditd.conf" <<EOF
log_file = $conf/audit.log
log_format = RAW
flush = INCREMENTAL_ASYNC
freq = 1
space_left = 2
admin_space_left = 1
max_log_file_action = IGNORE
space_left_action = IGNORE
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
plugin_dir = $conf/plugins.d
EOF
aud_lib=$auditd_root/lib/x86_64-linux-gnu:$auditd_root/usr/lib/x86_64-linux-gnu
printf '$ auditd -n -c %s &\n' "$conf"
LD_LIBRARY_PATH=$aud_lib "$auditd_root/sbin/auditd" -n -c "$conf" 2>"$work/auditd.err" &
auditd_pid=$!
for ((i = 0; i < 100; i++)); do
	grep -q 'type=DAEMON_START' "$conf/audit.log" 2>/dev/null && break
	if ! kill -0 "$auditd_pid" 2>/dev/null; then
		cat "$work/auditd.err" >&2
		fail "auditd did not start"
	fi
	sleep 0.1
done
expect_denied try_wx
found=
for ((i = 0; i < 50; i++)); do
	found=$(LD_LIBRARY_PATH=$aud_lib "$auditd_root/sbin/ausearch" -if "$conf/audit.log" \
		-m 1427 -c try_wx 2>/dev/null | grep -F 'prog_name="wx_mprotect"' | tail -n1 || true)
	[[ -n $found ]] && break
	sleep 0.1
done
printf '$ ausearch -if %s -m 1427 -c try_wx\n%s\n' "$conf/audit.log" "$found"
[[ $found == *' permissive=0 '* ]] || fail "ausearch did not find the record of the denial"
kill -TERM "$auditd_pid"
wait "$auditd_pid" || fail "auditd did not exit cleanly"

step "7. Detach: stop the loaders (closing their links)"
show kill -TERM "${pids[@]}"
stop_loaders
cat "$work/deny_tmpfs_exec.err" "$work/deny_wx.err" "$work/audit_exec.err" | grep -v ': attached'
grep -q 'detached; 1 exec(s) denied' "$work/deny_tmpfs_exec.err" ||
	fail "deny_tmpfs_exec did not count the denied exec"
list_hooks
for h in "${policy_hooks[@]}"; do
	if grep -q ' krsi ' "$hooks/$h"; then
		fail "$hooks/$h still lists a KRSI program"
	fi
done
show bpftool krsi list
if bpftool krsi list | grep -q '  krsi  '; then
	fail "bpftool krsi list still shows programs"
fi

step "8. The same actions, allowed again"
show /tmp/true || fail "/tmp/true was denied without the policy"
echo "(exit status 0)"
show try_wx || fail "try_wx was denied without the policy"
lines=$(wc -l <"$work/audit.jsonl")
show /bin/echo hello again
sleep 0.5
[[ $(wc -l <"$work/audit.jsonl") == "$lines" ]] || fail "an exec was audited after detach"
echo "(no audit line: audit_exec is detached)"

step "9. Detect, then enforce: a dropped file runs once, then never again"
rerun_dir=$(mktemp -d /tmp/rerun.XXXXXX)
chmod 1777 "$rerun_dir"
cp /bin/true "$rerun_dir/tool"
start_policy deny_rerun "$work/rerun.jsonl"
show "$rerun_dir/tool" || fail "the first exec of $rerun_dir/tool was denied"
echo "(exit status 0: the first run is allowed, and reported)"
line=$(wait_line "$work/rerun.jsonl" "\"filename\":\"$rerun_dir/tool\"")
[[ -n $line ]] || fail "deny_rerun did not report the exec of $rerun_dir/tool"
echo "$line"
latency=$(sed -n 's/.*"denied_after_us":\([0-9.]*\)}$/\1/p' <<<"$line")
[[ -n $latency ]] || fail "deny_rerun's line has no denied_after_us"
echo "(from the exec to the deny map's update: $latency us)"
expect_denied env "$rerun_dir/tool"
show kill -TERM "${pids[@]}"
stop_loaders
grep -v ': attached' "$work/deny_rerun.err"
grep -q 'detached; 1 exec(s) denied' "$work/deny_rerun.err" ||
	fail "deny_rerun did not count the denied exec"
rm -rf "$rerun_dir"

step "Done: every step above was checked"
