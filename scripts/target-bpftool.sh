#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The bpftool that makes the skeletons of an architecture whose byte order
# is not the host's (ARCH=s390x).  The base's libbpf refuses to open or
# link a BPF object of the other byte order, so the host's bpftool cannot
# generate a big-endian target's skeletons, nor link its objects.  This
# builds the tree's bpftool for the target, against its root file system,
# in build/bpftool-target-NAME, and writes a wrapper next to it that runs
# it on the host under QEMU's user-mode emulator (qemu-user), with the
# root file system as the root of its libraries.  Prints the wrapper's
# path.  Incremental.
#
# Usage: target-bpftool.sh   (KRSI_ARCH from lib.sh)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

((FOREIGN_ENDIAN)) || die "ARCH=$KRSI_ARCH has the host's byte order: the host's bpftool makes its skeletons"
emulator=qemu-${DEB_ARCH}
command -v "$emulator" >/dev/null || die "$emulator missing; run 'make deps ARCH=$KRSI_ARCH'"
[[ -d $TREE/tools/bpf/bpftool ]] || die "no tools/bpf/bpftool in $TREE; run 'make tree'"
cross_pkg_config

out=$BUILD/bpftool-target$ASUFFIX
mkdir -p "$out"
log=$out/build.log
if ! make -C "$TREE/tools/bpf/bpftool" -j"$(jobs)" OUTPUT="$out/" ARCH="$KARCH" \
	CROSS_COMPILE="$CROSS" CC="$CROSS_CC" PKG_CONFIG=pkg-config >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	die "building bpftool for $KRSI_ARCH failed; full log in $log"
fi

wrapper=$out/bpftool-emulated
cat >"$wrapper.tmp" <<EOF
#!/bin/sh
# bpftool for $KRSI_ARCH, run under $emulator (scripts/target-bpftool.sh).
exec $emulator -L $(printf '%q' "$ROOTFS") $(printf '%q' "$out/bpftool") "\$@"
EOF
chmod 755 "$wrapper.tmp"
mv "$wrapper.tmp" "$wrapper"
"$wrapper" version >/dev/null 2>&1 || die "$wrapper does not run; see $log"
echo "$wrapper"
