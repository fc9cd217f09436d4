#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the tree's bpftool (for "make run") and the sample policies of
# samples/krsi/ with the tree's libbpf, against the VM kernel's BTF.
# Incremental.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kbuild=$KBUILD
out=$SAMPLES
# Another architecture's bpftool (of the host, built against that
# kernel's BTF) only generates the skeletons: it is kept apart.
bpftool_out=$BUILD/bpftool$ASUFFIX

[[ -d $TREE/samples/krsi ]] || die "no samples/krsi in $TREE; run 'make tree'"
[[ -f $kbuild/vmlinux ]] || die "no vmlinux in $kbuild; run 'make kernel'"
export PATH=/usr/lib/llvm-16/bin:$PATH
command -v clang >/dev/null || die "clang-16 missing; run 'make deps'"
mkdir -p "$out" "$bpftool_out"

log=$bpftool_out/build.log
if ! make -C "$TREE/tools/bpf/bpftool" -j"$(jobs)" OUTPUT="$bpftool_out/" \
	VMLINUX_BTF="$kbuild/vmlinux" >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	die "building bpftool failed; full log in $log"
fi

# Another architecture: the loaders cross-built against its root file
# system; bpftool, which only generates the skeletons here, is the host's
# (the target's, emulated, where the byte order differs).
cross=()
skel_bpftool=$bpftool_out/bpftool
if [[ -n $ASUFFIX ]]; then
	require_rootfs
	cross=(ARCH="${KARCH/#i386/x86}" CROSS_COMPILE="$CROSS" CC="$CROSS_CC")
	# The other byte order: the target's bpftool, emulated (lib.sh).
	((FOREIGN_ENDIAN == 0)) || skel_bpftool=$("$KRSI_ROOT/scripts/target-bpftool.sh")
fi

log=$out/build.log
if ! make -C "$TREE/samples/krsi" -j"$(jobs)" OUTPUT="$out" \
	VMLINUX_BTF="$kbuild/vmlinux" BPFTOOL="$skel_bpftool" "${cross[@]}" >"$log" 2>&1; then
	grep -E -B2 -A8 'error|Error' "$log" | tail -n 60 >&2 || tail -n 40 "$log" >&2
	die "building samples/krsi failed; full log in $log"
fi
if grep -E 'warning:' "$log" >&2; then
	die "samples/krsi builds with warnings (above); full log in $log"
fi
info "built bpftool and samples/krsi in $out"
