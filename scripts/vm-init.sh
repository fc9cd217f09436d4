#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# PID 1 of the KRSI test VM (see vmtest.sh).  Arguments after "--" on the
# kernel command line: the run directory and the repository root.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp TERM=${TERM:-linux} LANG=C.UTF-8

rundir=$1
root=$2

fail() {
	echo "vm-init: error: $*" >/dev/kmsg
	echo b >/proc/sysrq-trigger
}

mountpoint -q /proc || mount -t proc proc /proc || fail "cannot mount /proc"
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm 2>/dev/null
mount -t devpts -o gid=5,mode=620 devpts /dev/pts 2>/dev/null
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
mount -t securityfs securityfs /sys/kernel/security || fail "cannot mount securityfs"
mount -t bpf bpf /sys/fs/bpf || fail "cannot mount bpffs"
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null

# A writable /tmp hides the host's /tmp: keep the repository visible when
# it lives there.  On a root file system of another architecture, its
# PID 1 (scripts/rootfs.sh) has done so already.
if ! mountpoint -q /tmp; then
	mkdir -p /run/host
	mount --bind / /run/host
	mount -t tmpfs -o mode=1777 tmpfs /tmp
	case $root/ in
	/tmp/*)
		mkdir -p "$root"
		mount --bind "/run/host$root" "$root"
		;;
	esac
fi
mkdir -p "$rundir" 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L krsi-out "$rundir" ||
	fail "cannot mount the run directory"

# KCSAN kernels: no reports from the virtio rings' lockless index reads
# (configs/kcsan.config).
if [[ -e /sys/kernel/debug/kcsan ]]; then
	for f in vring_interrupt virtqueue_get_buf_ctx; do
		echo "!$f" >/sys/kernel/debug/kcsan ||
			fail "cannot filter KCSAN reports from $f"
	done
fi

# Tests serve and connect on the loopback interface.
ip link set lo up || fail "cannot bring up the loopback interface (is iproute2 installed? make deps)"
hostname krsi-vm 2>/dev/null

# vmtest.sh fails the run unless every CPU it gave is online.
online=$(getconf _NPROCESSORS_ONLN)
echo "$online" >"$rundir/cpus-online"
[[ $online == "$(<"$rundir/cpus")" ]] ||
	echo "vm-init: $online CPU(s) online, $(<"$rundir/cpus") given" >/dev/kmsg

export KRSI_RUNDIR=$rundir KRSI_ROOT=$root
# The guest command's console: the virtio console, hvc0 unless vmtest.sh
# says otherwise (KRSI_CON, from the kernel command line).
con=/dev/${KRSI_CON:-hvc0}
[[ -c $con ]] || fail "no $con"
if [[ $(cat "$rundir/interactive") == 1 ]]; then
	setsid -c bash "$rundir/cmd" <$con >$con 2>&1
	rc=$?
else
	stty -F $con -onlcr 2>/dev/null
	bash "$rundir/cmd" <$con >$con 2>&1
	rc=$?
fi
echo "$rc" >"$rundir/rc"
sync
umount "$rundir"
echo "vm-init: command exited with status $rc" >/dev/kmsg
echo b >/proc/sysrq-trigger
sleep 10
