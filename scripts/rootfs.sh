#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The root file system of a cross-built architecture (ARCH=NAME): Debian's
# minimal base system of that architecture plus what the selftests link
# against and run with.  It is both the VM's root (vmtest.sh boots it over
# 9p) and the sysroot the selftests and samples are cross-compiled against,
# so nothing of another architecture is installed on the host.
#
# debootstrap's first stage downloads the packages and unpacks the
# required ones; the rest are unpacked here.  No maintainer script runs:
# they would need the target's CPU, and nothing the tests use depends on
# them (the few files they would write are written below).
# Rebuilt only when this script, the package list or the architecture
# changes.
#
# Usage: rootfs.sh   (KRSI_ARCH from lib.sh; builds $ROOTFS)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[[ $KRSI_ARCH != x86_64 ]] || die "x86_64 runs on the host's root; rootfs.sh is for ARCH=i386, ppc64le, arm, arm64 or s390x"
command -v debootstrap >/dev/null || die "debootstrap missing; run 'make deps ARCH=$KRSI_ARCH'"

SUITE=bookworm
PKGS=(
	# test_progs and the samples at run time
	libelf1 zlib1g libzstd1 libcap2
	# the guest scripts (awk, ip, ps)
	mawk iproute2 procps
	# the sysroot of the cross build
	libc6-dev libelf-dev zlib1g-dev libzstd-dev libcap-dev
)

key=$( { cat "$0"; echo "$KRSI_ARCH $DEB_ARCH $SUITE ${PKGS[*]}"; } | sha256sum | cut -d' ' -f1)
if [[ -f $ROOTFS/.krsi-rootfs && $(cat "$ROOTFS/.krsi-rootfs") == "$key" ]]; then
	info "root file system of $KRSI_ARCH up to date in $ROOTFS"
	exit 0
fi

tmp=$ROOTFS.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
log=$BUILD/rootfs$ASUFFIX.log
info "debootstrap $SUITE $DEB_ARCH into $ROOTFS (log: $log)"
pkgs=$(IFS=,; echo "${PKGS[*]}")
debootstrap_root "$SUITE" "$tmp" "$log" --foreign --arch="$DEB_ARCH" --include="$pkgs"
# Unpack every package downloaded, the required ones again (the same files).
n=0
for deb in "$tmp"/var/cache/apt/archives/*.deb; do
	dpkg-deb -x "$deb" "$tmp" || die "cannot unpack $deb"
	n=$((n + 1))
done
((n > 0)) || die "debootstrap downloaded no package into $tmp/var/cache/apt/archives"
rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp/debootstrap"

# An absolute symbolic link of a sysroot resolves on the host, where the
# linker does not find the target's dynamic loader: make them relative,
# which the VM resolves the same.
while IFS= read -r -d '' link; do
	target=$(readlink "$link")
	ln -sfn "$(realpath -m -s --relative-to="$(dirname "${link#"$tmp"}")" "$target")" "$link"
done < <(find "$tmp" -xdev -type l -lname '/*' -print0)

# What base-passwd's and the shells' maintainer scripts would have written.
cp "$tmp/usr/share/base-passwd/passwd.master" "$tmp/etc/passwd"
cp "$tmp/usr/share/base-passwd/group.master" "$tmp/etc/group"
echo krsi-vm >"$tmp/etc/hostname"
ln -sfn mawk "$tmp/usr/bin/awk"    # an alternative, made by mawk's postinst
# Directories base-files' maintainer script would have made: the tests
# mount their cgroup hierarchy on /mnt.
mkdir -p "$tmp"/{mnt,media,opt,srv}
[[ -x $tmp/bin/bash && -x $tmp/bin/sh ]] || die "the root file system has no /bin/bash or /bin/sh"

# PID 1 of the VM: mounts the repository and the build directory over 9p
# at the host's paths (vmtest.sh shares them), then runs vm-init.sh from
# there.  /tmp is a tmpfs first, so that a repository under the host's
# /tmp gets a mount point too.  Arguments: run directory, repository,
# build directory.
cat >"$tmp/krsi-init" <<'EOF'
#!/bin/sh
# PID 1 of the KRSI VM of another architecture (scripts/rootfs.sh).
fail() {
	echo "krsi-init: $*" >/dev/kmsg
	echo b >/proc/sysrq-trigger
}
mount -t proc proc /proc || echo "krsi-init: cannot mount /proc" >/dev/console
mount -t tmpfs -o mode=1777 tmpfs /tmp || fail "cannot mount /tmp"
opts=trans=virtio,version=9p2000.L,cache=loose,msize=512000,ro
mkdir -p "$2" "$3" 2>/dev/null
mount -t 9p -o "$opts" krsi-root "$2" || fail "cannot mount the repository at $2"
mount -t 9p -o "$opts" krsi-build "$3" || fail "cannot mount the build directory at $3"
exec "$2/scripts/vm-init.sh" "$1" "$2"
EOF
chmod 755 "$tmp/krsi-init"

echo "$key" >"$tmp/.krsi-rootfs"
rm -rf "$ROOTFS"
mv "$tmp" "$ROOTFS"
info "root file system of $KRSI_ARCH ($DEB_ARCH, $n packages) in $ROOTFS"
