#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make cleanroot": the README's set-up on a new machine.  A minimal Debian
# 12 (debootstrap --variant=minbase, with make and git, which the README's
# commands start with, and apt's sources of a Debian 12 installation:
# bookworm, bookworm-updates, bookworm-security) gets a copy of the
# repository (the work tree without build/) and runs, as root in a chroot,
# "make deps", "make tree", then "make kernel" up to the build's own tools
# and generated headers (KERNEL_TARGET=prepare: the config with every
# fragment checked, which needs flex, bison and pahole; fixdep, objtool,
# the signing tools, bc's headers), and checks that the BPF compiler runs.
# When this machine has built the VM kernel (make kernel), the clean root
# then boots it with scripts/vmtest.sh: the guest runs on the clean root,
# so its init needs what the root has, and bpf must be among its LSMs.
# It fails when a package these need is missing from scripts/deps.sh
# (which installs no recommended package), when the pinned base has left
# Debian's archive, or when the tree cannot be made: what the machines
# that already have the packages cannot see.  The whole kernel build and
# the selftests are left to the targets CI runs on this machine.
#
# The chroot runs in mount and PID namespaces of its own: its /proc and
# /dev go away with it, and so does any process it leaves.  The
# root is removed afterwards (-k keeps it, in build/cleanroot/root).
#
# Usage: cleanroot.sh [-k] [-c COMMAND]   (COMMAND, run by bash in the
#        repository's copy; by default the steps above)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SUITE=bookworm
keep=0
cmd=
while getopts kc: opt; do
	case $opt in
	k) keep=1 ;;
	c) cmd=$OPTARG ;;
	*) die "usage: cleanroot.sh [-k] [-c COMMAND]" ;;
	esac
done
[[ $(id -u) == 0 ]] || die "the clean root is made and entered as root"
for c in debootstrap unshare chroot; do
	command -v "$c" >/dev/null || die "$c missing; run 'make cleanroot' (it installs debootstrap)"
done

dir=$BUILD/cleanroot
root=$dir/root
log=$dir/debootstrap.log
# --one-file-system: nothing under a mount point is removed (the chroot's
# mounts live in its own namespace, so none should be there).
remove_root() { rm -rf --one-file-system "$root"; }
remove_root
mkdir -p "$dir"
cleanup() { ((keep)) || remove_root; }
trap cleanup EXIT

start=$SECONDS
info "debootstrap $SUITE (minbase, with make and git) into ${root#"$KRSI_ROOT"/} (log: ${log#"$KRSI_ROOT"/})"
debootstrap_root "$SUITE" "$root" "$log" --include=make,git
apt_sources "$SUITE" "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# No service starts in the chroot (qemu's and others' maintainer scripts).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
info "Debian $(cat "$root/etc/debian_version") in $((SECONDS - start)) s"

# The repository as a clone has it: the work tree, without build/.
mkdir -p "$root$KRSI_ROOT"
tar -C "$KRSI_ROOT" --exclude=./build -cf - . | tar -C "$root$KRSI_ROOT" -xf -
if [[ -z $cmd ]]; then
	cmd='make deps && make tree && KERNEL_TARGET=prepare make kernel && clang-16 --version'
	if [[ -f $KBUILD/$KIMAGE ]]; then
		image=build/host-kernel/${KIMAGE##*/}
		mkdir -p "$root$KRSI_ROOT/${image%/*}"
		cp "$KBUILD/$KIMAGE" "$root$KRSI_ROOT/$image"
		cmd+=" && scripts/vmtest.sh -k $image -t 300 -- grep -w -o bpf /sys/kernel/security/lsm"
	else
		info "no kernel in ${KBUILD#"$KRSI_ROOT"/} (make kernel): the clean root boots none"
	fi
fi

info "in the clean root, as root: $cmd"
step=$SECONDS
rc=0
unshare --mount --pid --fork --propagation private -- /bin/bash -c '
	set -e
	mount -t proc proc "$1/proc"
	mount --bind /dev "$1/dev"
	exec chroot "$1" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash -c "cd \"\$0\" && $2" "$3"' \
	cleanroot "$root" "$cmd" "$KRSI_ROOT" </dev/null || rc=$?
if ((rc != 0)); then
	# The VM's logs outlive the root (vmtest.sh named them by their path
	# in the root).
	if [[ -d $root$KRSI_ROOT/build/vm ]]; then
		rm -rf "$dir/vm"
		cp -a "$root$KRSI_ROOT/build/vm" "$dir/vm"
		info "the clean root's VM logs are in ${dir#"$KRSI_ROOT"/}/vm"
	fi
	die "'$cmd' failed in the clean root (status $rc) after $((SECONDS - step)) s"
fi
info "'$cmd' passed in the clean root in $((SECONDS - step)) s ($((SECONDS - start)) s with debootstrap)"
