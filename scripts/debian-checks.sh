#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs in the Debian system of "make boot-debian" (scripts/debian-system.sh),
# started by krsi-checks.service once systemd has brought the system up:
# checks KRSI as a user who installed its kernel package sees it, next to
# systemd's own BPF LSM program and AppArmor, and powers the system off.
# Each check prints "krsi-check: <name>: ok: <what was seen>" or
# "krsi-check: <name>: FAILED: <why>" to the port given as the first
# argument; the last line is "krsi-check: done: N passed, M failed".
#
# Usage: debian-checks.sh PORT BPF_OBJECT
set -uo pipefail
port=$1
obj=$2
pin=/sys/fs/bpf/krsi_deny_tmpfs_exec
exec >"$port" 2>&1
passed=0
failed=0

ok() {
	echo "krsi-check: $1: ok: $2"
	passed=$((passed + 1))
}
failed() {
	echo "krsi-check: $1: FAILED: $2"
	failed=$((failed + 1))
}
# Lines of a command's output, indented, after the check they belong to.
show() { sed 's/^/    /'; }

# 1. The system came up: running, or degraded with the failed units named.
state=$(systemctl is-system-running --wait 2>&1)
case $state in
running) ok system "systemctl is-system-running: running" ;;
degraded)
	failed system "systemctl is-system-running: degraded; failed units:"
	systemctl --failed --no-legend --plain | show ;;
*) failed system "systemctl is-system-running: $state" ;;
esac
ok kernel "$(uname -r), $(dpkg-query -S "/boot/vmlinuz-$(uname -r)" 2>/dev/null | cut -d: -f1)"

# 2. Debian's LSM list is the one in force: no lsm= on the command line.
lsms=$(cat /sys/kernel/security/lsm)
if grep -qw 'lsm=' /proc/cmdline; then
	failed lsm "the command line sets lsm=: $(cat /proc/cmdline)"
elif [[ ,$lsms, == *,bpf,* && ,$lsms, == *,apparmor,* && ,$lsms, == *,landlock,* ]]; then
	ok lsm "/sys/kernel/security/lsm: $lsms"
else
	failed lsm "/sys/kernel/security/lsm lacks bpf, apparmor or landlock: $lsms"
fi

# 3. AppArmor loaded its profiles.
loaded=$(aa-status --profiled 2>/dev/null)
if [[ $loaded =~ ^[0-9]+$ ]] && ((loaded > 0)); then
	ok apparmor "aa-status: $loaded profiles loaded, $(aa-status --enforced) in enforce mode"
else
	failed apparmor "aa-status reports no profile loaded (${loaded:-no answer})"
	aa-status 2>&1 | show
fi

# 4. systemd's own BPF LSM program: a unit with RestrictFileSystems=~tmpfs
# cannot read a file on /tmp (a tmpfs on Debian 13), another unit can.
echo krsi >/tmp/krsi-restrict
fstype=$(findmnt -n -o FSTYPE --target /tmp)
restricted=$(systemd-run --quiet --wait --pipe -p RestrictFileSystems=~tmpfs \
	cat /tmp/krsi-restrict 2>&1)
free=$(systemd-run --quiet --wait --pipe cat /tmp/krsi-restrict 2>&1)
if [[ $fstype != tmpfs ]]; then
	failed restrictfs "/tmp is $fstype, not tmpfs"
elif [[ $restricted == *'Operation not permitted'* && $free == krsi ]]; then
	ok restrictfs "RestrictFileSystems=~tmpfs: '$restricted'; without it: '$free'"
else
	failed restrictfs "RestrictFileSystems=~tmpfs: '$restricted'; without it: '$free'"
fi

# 5. A KRSI policy attached with bpftool: no exec from a tmpfs.
cp /usr/bin/true /tmp/krsi-true
if ! /tmp/krsi-true; then
	failed krsi-attach "/tmp/krsi-true does not run before any policy is attached"
elif ! out=$(bpftool prog load "$obj" "$pin" 2>&1 &&
	bpftool krsi attach pinned "$pin" bprm_creds_for_exec 2>&1); then
	failed krsi-attach "bpftool: $out"
else
	err=$(/tmp/krsi-true 2>&1) && rc=0 || rc=$?
	if ((rc == 126)) && [[ $err == *'Operation not permitted'* ]]; then
		ok krsi-attach "bpftool krsi attach: /tmp/krsi-true: $err"
	else
		failed krsi-attach "/tmp/krsi-true ran (status $rc: $err) with deny_tmpfs_exec attached"
	fi
fi

# 6. The denial's audit record, through auditd: KRSI's record (type 1427)
# of the exec that deny_tmpfs_exec denied (the exec failed, so the
# record's comm is still the script's).
sleep 1
record=$(ausearch -m 1427 --raw 2>&1 |
	grep -m1 'op=deny hook=bprm_creds_for_exec .*prog_name="deny_tmpfs_exec"')
if [[ -n $record ]]; then
	ok audit "ausearch -m 1427: $record"
else
	failed audit "ausearch -m 1427 finds no record of the denied exec"
	ausearch -m 1427 --raw 2>&1 | tail -n 5 | show
fi

# 7. What runs on the hooks, in run order: systemd's program on file_open,
# KRSI's on bprm_creds_for_exec.
list=$(bpftool krsi list 2>&1)
if grep -q 'name restrict_filesystems  trampoline' <<<"$list" &&
	grep -q 'name deny_tmpfs_exec  krsi  enforce' <<<"$list"; then
	ok krsi-list "bpftool krsi list shows systemd's program and KRSI's:"
else
	failed krsi-list "bpftool krsi list does not show both programs:"
fi
show <<<"$list"

# 8. Detached, the exec runs again.
if bpftool krsi detach pinned "$pin" bprm_creds_for_exec && rm -f "$pin" &&
	/tmp/krsi-true; then
	ok krsi-detach "bpftool krsi detach: /tmp/krsi-true runs again"
else
	failed krsi-detach "/tmp/krsi-true does not run after bpftool krsi detach"
fi

echo "krsi-check: done: $passed passed, $failed failed"
systemctl poweroff
