#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot a kernel under QEMU on the host's root file system (read-only 9p)
# and run one command in it, like selftests/bpf/vmtest.sh:
#
#   vmtest.sh [options] -- CMD [ARG...]   run CMD in the guest, exit with its status
#   vmtest.sh [options] -s                an interactive shell in the guest
#
# Options:
#   -k IMAGE     kernel to boot (default: build/kbuild/arch/x86/boot/bzImage;
#                with ARCH=NAME, that architecture's image in build/kbuild-NAME)
#   -l LSMS      lsm= boot parameter (default: capability,bpf); -l '' boots
#                without lsm=, with the kernel's own CONFIG_LSM list
#   -a ARGS      extra kernel command line (repeatable)
#   -t SECONDS   hard timeout (default 1200; none with -s)
#   -r FILE      write the run's directory to FILE (build/vm/latest is the
#                last run started, which may not be this one)
#   -m MEM       guest memory (default 2G)
#   -c CPUS      virtual CPUs (default 2); the run fails unless the guest
#                brings them all online
#   -K           KVM, and fail if it does not work
#   -T           TCG (QEMU's emulator) even where KVM works
#   -I           TCG counting instructions (-icount shift=0,sleep=off): the
#                guest clock advances one nanosecond per guest instruction
#                and jumps over idle time, so a timed loop in the guest
#                gives instructions per iteration
#                Default: KVM when /dev/kvm is usable and a KVM guest gets
#                through the firmware (a two-second probe), else TCG; the
#                run says which.  Other architectures than x86 run under TCG.
#
# ARCH=NAME (KRSI_ARCH) other than x86_64 boots that architecture's kernel
# in its QEMU machine on its own root file system (scripts/rootfs.sh,
# read-only 9p), with the repository and the build directory shared at
# the host's paths.
#
# The guest has /tmp and /run on tmpfs, securityfs, bpffs, debugfs and
# tracefs mounted, and the run directory writable.  The kernel's serial
# log is kept in build/vm/<run>/serial.log (build/vm/latest points at the
# last run); the run fails when that log shows a kernel splat.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=$KBUILD/$KIMAGE
lsm=capability,bpf
append=
timeout=1200
mem=2G
cpus=2
accel=auto
icount=0
runfile=
shell=0
while getopts "k:l:a:t:r:m:c:KTIs" opt; do
	case $opt in
	k) kernel=$OPTARG ;;
	l) lsm=$OPTARG ;;
	a) append+=" $OPTARG" ;;
	t) timeout=$OPTARG ;;
	r) runfile=$OPTARG ;;
	m) mem=$OPTARG ;;
	c) cpus=$OPTARG ;;
	K) accel=kvm ;;
	T) accel=tcg ;;
	I) icount=1 ;;
	s) shell=1 ;;
	*) die "usage: vmtest.sh [-k IMAGE] [-l LSMS] [-a ARGS] [-t SEC] [-r FILE] [-m MEM] [-c CPUS] [-K|-T|-I] (-s | -- CMD...)" ;;
	esac
done
[[ $cpus =~ ^[1-9][0-9]*$ ]] || die "-c takes a number of CPUs, not '$cpus'"
if ((icount)); then
	[[ $accel != kvm ]] || die "-I counts instructions under TCG; it excludes -K"
	accel=tcg
fi

kvm_why=
if [[ $KARCH != x86 && $KARCH != i386 ]]; then
	[[ $accel != kvm ]] || die "-K: ARCH=$KRSI_ARCH runs under TCG only"
	accel=tcg
fi
case $accel in
auto)
	if kvm_works; then
		accel=kvm
		info "accelerator: KVM"
	else
		accel=tcg
		info "accelerator: TCG (KVM not used: ${kvm_why})"
	fi ;;
kvm)
	kvm_works || die "-K: KVM does not work here: $kvm_why"
	info "accelerator: KVM" ;;
tcg)
	if ((icount)); then
		info "accelerator: TCG counting instructions (-I)"
	else
		info "accelerator: TCG (-T)"
	fi ;;
esac
cpu=max
[[ $accel == kvm ]] && cpu=host
# Multi-threaded TCG mishandles kernel text patched while another vCPU runs
# it (a BPF trampoline attached to a hot function oopses on int3, on the
# base kernel too): with several vCPUs, emulate them all on one host thread.
# Not on 32-bit Arm: its kernel patches text only under stop_machine(), and
# there each broadcast TLB or cache maintenance instruction makes
# single-threaded TCG hand over to the other vCPU and wait out its time
# slice.  The page-by-page TLB flushes of free_initmem() then take hours
# (the boot seemed to stop after "devtmpfs: mounted", with the bpf LSM off
# as well), and each of the ~250 jump labels the bpf LSM switches off at
# boot took 0.1 s.
if [[ $accel == tcg && $cpus -gt 1 ]]; then
	if [[ $KARCH == arm ]]; then
		accel=tcg,thread=multi
	else
		accel=tcg,thread=single
	fi
fi
shift $((OPTIND - 1))
if ((shell)); then
	(($# == 0)) || die "-s takes no command"
elif (($# == 0)); then
	die "no command given: vmtest.sh [options] -- CMD [ARG...] (or -s for a shell)"
fi
[[ -f $kernel ]] || die "no kernel at $kernel; run 'make kernel${ASUFFIX:+ ARCH=$KRSI_ARCH}'"
command -v "$QEMU" >/dev/null || die "$QEMU missing; run 'make deps${ASUFFIX:+ ARCH=$KRSI_ARCH}'"
if [[ -n $ASUFFIX ]]; then
	require_rootfs
	# Mount points of the shares, where they are not under /tmp (the
	# guest's /tmp is a tmpfs, krsi-init makes them there).
	for d in "$KRSI_ROOT" "$BUILD"; do
		[[ $d/ == /tmp/* ]] || mkdir -p "$ROOTFS$d"
	done
fi

mkdir -p "$BUILD/vm"
rundir=$(mktemp -d "$BUILD/vm/run-$(date +%Y%m%d-%H%M%S)-XXXX")
ln -sfn "$(basename "$rundir")" "$BUILD/vm/latest"
if [[ -n $runfile ]]; then
	echo "$rundir" >"$runfile" || die "cannot write the run directory to $runfile"
fi
# Keep the ten newest runs.
find "$BUILD/vm" -mindepth 1 -maxdepth 1 -type d -name 'run-*' | LC_ALL=C sort |
	head -n -10 | xargs -r rm -rf

{
	echo "cd $(printf '%q' "$PWD") 2>/dev/null || cd /"
	if ((shell)); then
		echo "exec bash -i"
	else
		printf '%q ' "$@"
		echo
	fi
} > "$rundir/cmd"
echo "$shell" > "$rundir/interactive"
echo "$cpus" > "$rundir/cpus"

# Per architecture: the machine, the console that carries the kernel
# log (the guest command talks over a virtio console), and the bus of the
# virtio devices.
machine=()
cmdcon=hvc0
vbus=pci
case $KARCH in
x86)
	console=ttyS0
	machine=(-cpu "$cpu") ;;
i386)
	# TCG's "max" CPU says AMD, whose 32-bit kernel then warns that
	# this combination of AMD CPUs is not suitable for SMP.
	console=ttyS0
	[[ $cpu == max ]] && cpu=max,vendor=GenuineIntel
	machine=(-cpu "$cpu") ;;
powerpc)
	# The pseries console takes hvc0, the virtio console comes next.  The
	# spectre capabilities are off: TCG has none of them.
	console=hvc0
	cmdcon=hvc1
	machine=(-machine pseries,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off
		-cpu power9) ;;
arm)
	console=ttyAMA0
	machine=(-machine virt,highmem=off -cpu cortex-a15) ;;
arm64)
	console=ttyAMA0
	machine=(-machine virt -cpu cortex-a72) ;;
s390)
	# QEMU's serial port is the SCLP console; virtio devices are
	# channel-attached (virtio-ccw).
	console=ttysclp0
	vbus=ccw
	machine=(-machine s390-ccw-virtio -cpu max) ;;
esac

root_path=/
init=$KRSI_ROOT/scripts/vm-init.sh
init_args="$rundir $KRSI_ROOT"
shares=()
if [[ -n $ASUFFIX ]]; then
	root_path=$ROOTFS
	init=/krsi-init
	init_args+=" $BUILD"
	shares=(-fsdev "local,id=repo,path=$KRSI_ROOT,security_model=none,readonly=on"
		-device "virtio-9p-$vbus,fsdev=repo,mount_tag=krsi-root"
		-fsdev "local,id=build,path=$BUILD,security_model=none,readonly=on"
		-device "virtio-9p-$vbus,fsdev=build,mount_tag=krsi-build")
fi

cmdline="console=$console root=/dev/root rootfstype=9p ro"
cmdline+=" rootflags=trans=virtio,version=9p2000.L,cache=loose,msize=512000"
cmdline+=" init=$init${lsm:+ lsm=$lsm} panic=-1 printk.devkmsg=on"
cmdline+=" KRSI_CON=$cmdcon $append -- $init_args"

# One socket per CPU: the x86 VM kernel has no ACPI, and the firmware's
# table lists one CPU per socket, so "-smp 2" alone boots one.
qemu=("$QEMU" -accel "$accel" "${machine[@]}"
	-smp "$cpus,sockets=$cpus,cores=1,threads=1" -m "$mem"
	-no-reboot -display none -monitor none
	-serial "file:$rundir/serial.log"
	-kernel "$kernel" -append "$cmdline"
	-fsdev "local,id=root,path=$root_path,security_model=none,readonly=on,multidevs=remap"
	-device "virtio-9p-$vbus,fsdev=root,mount_tag=/dev/root"
	-fsdev "local,id=out,path=$rundir,security_model=none"
	-device "virtio-9p-$vbus,fsdev=out,mount_tag=krsi-out"
	"${shares[@]}"
	-chardev "stdio,id=con,signal=off"
	-device "virtio-serial-$vbus" -device "virtconsole,chardev=con")
if ((icount)); then
	qemu+=(-icount shift=0,sleep=off)
fi

rc=0
if ((shell)); then
	"${qemu[@]}" || rc=$?
else
	timeout -k 10 "$timeout" "${qemu[@]}" </dev/null || rc=$?
	if ((rc == 124 || rc == 137)); then
		tail -n 30 "$rundir/serial.log" >&2 || true
		die "the VM did not finish within $timeout s (serial log: $rundir/serial.log)"
	fi
fi
((rc == 0)) || die "qemu failed with status $rc (serial log: $rundir/serial.log)"

# Kernel reports that fail a run (lockdep and RCU-lockdep reports start
# with "WARNING:" or "BUG:"; KASAN's with "BUG: KASAN").
splat='BUG:|WARNING:|Oops|KASAN:|UBSAN:|general protection fault|Kernel panic|'
splat+='DEBUG_LOCKS_WARN_ON|INFO: trying to register non-static key|'
splat+='rcu: INFO:|self-detected stall|blocked for more than'
if grep -E -n "$splat" "$rundir/serial.log" >&2; then
	die "kernel splat in the serial log: $rundir/serial.log"
fi

# The guest's init (vm-init.sh) logs why it gave up, then reboots.
if init_err=$(grep -m1 -o 'vm-init: error: .*' "$rundir/serial.log"); then
	die "the guest's init failed: ${init_err#vm-init: error: } (serial log: $rundir/serial.log)"
fi

online=$(cat "$rundir/cpus-online" 2>/dev/null || echo "no count")
[[ $online == "$cpus" ]] ||
	die "the guest brought $online CPU(s) online, $cpus were given (serial log: $rundir/serial.log)"
[[ -f $rundir/rc ]] || {
	tail -n 30 "$rundir/serial.log" >&2
	die "the guest command did not report its exit status (serial log: $rundir/serial.log)"
}
exit "$(cat "$rundir/rc")"
