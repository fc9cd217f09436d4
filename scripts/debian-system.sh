#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make boot-debian": KRSI as a user installs it.  A Debian system made
# with debootstrap (systemd, AppArmor, auditd) gets the kernel packages of
# "make deb CONFIG=debian" installed with dpkg, whose hooks make the
# kernel's initramfs; its root becomes an ext4 image (mkfs.ext4 -d, no
# mount), which QEMU boots with that kernel and initramfs, systemd as
# PID 1.  A unit of the image runs scripts/debian-checks.sh once the
# system is up, prints each check as "krsi-check: ..." on the serial
# console and powers the system off.  Every check must hold.
#
# The system is Debian 13 (trixie), Debian's stable release, which runs
# the same 6.12 LTS kernel as Debian 12.  Debian 12's systemd (252, and
# 254 in bookworm-backports) is built without its BPF framework
# ("-BPF_FRAMEWORK" in systemctl --version) and ignores
# RestrictFileSystems=; trixie's (257) attaches its BPF LSM program, which
# is what KRSI has to work next to.
#
# Stages, each kept in build/debian-system/ and redone only when what it
# depends on changed:
#   root     debootstrap of the system (root-<suite>/), once
#   install  a copy of the root with the kernel packages installed
#   image    the ext4 image of that copy
#   boot     QEMU, the checks, the power-off
#
# Usage: debian-system.sh [root]   (root: the first stage only)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SUITE=trixie
PKGS=(
	# the system as a user runs it; systemd opens libbpf with dlopen()
	# for its BPF features (RestrictFileSystems=), and its package does
	# not depend on libbpf1
	systemd-sysv udev dbus apparmor auditd libbpf1
	# the kernel package's hooks make the initramfs with these
	initramfs-tools kmod zstd
	# the checks: ps, and the series' bpftool (built here without a
	# disassembler: libelf, zlib and libcap)
	procps libelf1t64 zlib1g libcap2
)

[[ $(id -u) == 0 ]] || die "the Debian system is made as root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap missing; run 'make deps CONFIG=debian'"
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 missing; run 'make deps CONFIG=debian'"

dir=$BUILD/debian-system
mkdir -p "$dir"

# Stage root: debootstrap, remade when this script's package list changes.
root=$dir/root-$SUITE
key=$(echo "$SUITE ${PKGS[*]}" | sha256sum | cut -d' ' -f1)
if [[ -f $root/.krsi-root && $(cat "$root/.krsi-root") == "$key" ]]; then
	info "Debian $SUITE root up to date in ${root#"$KRSI_ROOT"/}"
else
	tmp=$root.tmp
	rm -rf --one-file-system "$tmp"
	log=$dir/debootstrap.log
	start=$SECONDS
	info "debootstrap $SUITE with systemd, AppArmor and auditd into ${root#"$KRSI_ROOT"/} (log: ${log#"$KRSI_ROOT"/})"
	pkgs=$(IFS=,; echo "${PKGS[*]}")
	debootstrap_root "$SUITE" "$tmp" "$log" --include="$pkgs"
	apt_sources "$SUITE" "$tmp"
	rm -rf "$tmp"/var/cache/apt/archives/*.deb
	echo "$key" >"$tmp/.krsi-root"
	rm -rf --one-file-system "$root"
	mv "$tmp" "$root"
	info "Debian $(cat "$root/etc/debian_version") root in $((SECONDS - start)) s"
fi
[[ ${1:-} != root ]] || exit 0

# The packages of "make deb CONFIG=debian", and the series' bpftool and
# sample policy.
debs=$BUILD/deb-debian
mapfile -t images < <(find "$debs" -maxdepth 1 -name 'linux-image-*.deb' ! -name '*-dbg_*' 2>/dev/null)
((${#images[@]} == 1)) ||
	die "no single linux-image package in ${debs#"$KRSI_ROOT"/}; run 'make deb CONFIG=debian'"
image_deb=${images[0]}
release=$(dpkg-deb -f "$image_deb" Package)
release=${release#linux-image-}
obj=$SAMPLES/deny_tmpfs_exec.bpf.o
[[ -f $obj ]] || die "no $obj; run 'make samples CONFIG=debian'"

# bpftool without a disassembler, so that it needs nothing of Debian 12's
# LLVM on Debian 13.
bpftool_out=$dir/bpftool
mkdir -p "$bpftool_out"
if ! make -C "$TREE/tools/bpf/bpftool" -j"$(jobs)" OUTPUT="$bpftool_out/" \
	feature-llvm=0 feature-libbfd=0 >"$bpftool_out/build.log" 2>&1; then
	tail -n 20 "$bpftool_out/build.log" >&2
	die "building bpftool failed; full log in $bpftool_out/build.log"
fi

# Stage install: a copy of the root, the kernel package installed with
# dpkg, whose maintainer scripts make the initramfs.
sys=$dir/system
key=$( { cat "$root/.krsi-root" "$image_deb" "$bpftool_out/bpftool" "$obj" \
	"$KRSI_ROOT/scripts/debian-checks.sh" "$0"; } | sha256sum | cut -d' ' -f1)
if [[ -f $sys/.krsi-system && $(cat "$sys/.krsi-system") == "$key" ]]; then
	info "Debian system with $release up to date in ${sys#"$KRSI_ROOT"/}"
else
	start=$SECONDS
	rm -rf --one-file-system "$sys" "$sys.tmp"
	cp -a "$root" "$sys.tmp"
	mkdir -p "$sys.tmp/tmp/krsi-debs"
	cp "$image_deb" "$sys.tmp/tmp/krsi-debs/"
	log=$dir/install.log
	info "dpkg -i ${image_deb##*/} in the Debian system (log: ${log#"$KRSI_ROOT"/})"
	if ! unshare --mount --pid --fork --propagation private -- /bin/bash -c '
		set -e
		mount -t proc proc "$1/proc"
		mount --bind /dev "$1/dev"
		mount -t sysfs sysfs "$1/sys"
		exec chroot "$1" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
			PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			dpkg -i "/tmp/krsi-debs/$2"' install "$sys.tmp" "${image_deb##*/}" \
		</dev/null >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		die "dpkg -i ${image_deb##*/} failed in the Debian system; full log in $log"
	fi
	rm -rf "$sys.tmp/tmp/krsi-debs"
	for f in "vmlinuz-$release" "initrd.img-$release"; do
		[[ -s $sys.tmp/boot/$f ]] || die "installing the package made no /boot/$f; see $log"
	done

	# The system's own files: its root device, a name, and the checks,
	# run by a unit once the system is up.
	echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' >"$sys.tmp/etc/fstab"
	echo krsi-debian >"$sys.tmp/etc/hostname"
	: >"$sys.tmp/etc/machine-id"
	install -m 755 "$bpftool_out/bpftool" "$sys.tmp/usr/local/sbin/bpftool"
	install -D -m 644 "$obj" "$sys.tmp/usr/local/lib/krsi/deny_tmpfs_exec.bpf.o"
	install -m 755 "$KRSI_ROOT/scripts/debian-checks.sh" "$sys.tmp/usr/local/sbin/krsi-checks"
	{
		echo '[Unit]'
		echo 'Description=KRSI checks of make boot-debian'
		echo 'After=multi-user.target'
		echo '[Service]'
		# simple: the start job ends at once, so that the boot can end
		# while the checks wait for it (is-system-running --wait).
		echo 'Type=simple'
		echo 'ExecStart=/usr/local/sbin/krsi-checks /dev/virtio-ports/krsi.checks /usr/local/lib/krsi/deny_tmpfs_exec.bpf.o'
		echo '[Install]'
		echo 'WantedBy=multi-user.target'
	} >"$sys.tmp/etc/systemd/system/krsi-checks.service"
	mkdir -p "$sys.tmp/etc/systemd/system/multi-user.target.wants"
	ln -sf ../krsi-checks.service "$sys.tmp/etc/systemd/system/multi-user.target.wants/"
	echo "$key" >"$sys.tmp/.krsi-system"
	mv "$sys.tmp" "$sys"
	info "installed $release in the Debian system in $((SECONDS - start)) s"
fi

# Stage image: ext4 made from the directory, with no mount.
img=$dir/disk.img
if [[ ! -f $img || $(cat "$img.key" 2>/dev/null) != "$(cat "$sys/.krsi-system")" ]]; then
	size=$(($(du -sm "$sys" | cut -f1) + 1024))
	rm -f "$img" "$img.key"
	mkfs.ext4 -q -F -L krsi-debian -d "$sys" "$img" "${size}M" || die "mkfs.ext4 -d failed"
	cp "$sys/.krsi-system" "$img.key"
	info "disk image of $size MiB: ${img#"$KRSI_ROOT"/}"
fi

# Stage boot: the installed kernel and initramfs, systemd as PID 1, no
# lsm= (Debian's CONFIG_LSM list).  Each boot starts from a copy of the
# image, so from the system as installed.
run=$dir/run-$(date +%Y%m%d-%H%M%S)
mkdir -p "$run"
cp --sparse=always "$img" "$run/disk.img"
timeout=$((1200 * SLOWDOWN))
info "booting the Debian system (serial log: ${run#"$KRSI_ROOT"/}/serial.log; at most $timeout s)"
start=$SECONDS
rc=0
timeout "$timeout" qemu-system-x86_64 -machine q35 -accel tcg -cpu max -smp 2 -m 2G \
	-nographic -no-reboot -monitor none -serial "file:$run/serial.log" \
	-kernel "$sys/boot/vmlinuz-$release" -initrd "$sys/boot/initrd.img-$release" \
	-append "root=/dev/vda rw console=ttyS0 panic=-1" \
	-drive "file=$run/disk.img,if=virtio,format=raw" \
	-device virtio-serial-pci \
	-chardev "file,id=checks,path=$run/checks.log" \
	-device "virtserialport,chardev=checks,name=krsi.checks" </dev/null || rc=$?
rm -f "$run/disk.img"
((rc != 124)) || die "the Debian system did not power off within $timeout s; see $run"
((rc == 0)) || die "QEMU exited with status $rc; see $run/serial.log"
cat "$run/checks.log"
grep -q '^krsi-check: done: [0-9]* passed, 0 failed' "$run/checks.log" ||
	die "a check of the Debian system failed or did not run; see $run"
grep -q 'reboot: Power down' "$run/serial.log" ||
	die "the Debian system did not power off cleanly; see $run/serial.log"
if grep -E -q '(BUG|WARNING):|Call Trace:|Oops' "$run/serial.log"; then
	grep -E -m5 '(BUG|WARNING):|Call Trace:|Oops' "$run/serial.log" >&2
	die "the kernel log shows a splat; see $run/serial.log"
fi
info "the Debian system booted, passed its checks and powered off in $((SECONDS - start)) s"
