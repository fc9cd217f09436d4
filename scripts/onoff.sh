#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make check ARCH=NAME" for another architecture than x86_64: build the
# series for it with CONFIG_SECURITY_KRSI=y (its VM kernel, in
# build/kbuild-NAME, as "make test ARCH=NAME" boots it) and with
# CONFIG_SECURITY_KRSI=n (build/kbuild-nokrsi-NAME), incrementally.  A
# compiler warning that names a file the series changes, in its location,
# its include chain or its macro expansion notes, fails the run: KRSI's
# code must build cleanly with the architecture's compiler and word size,
# and the rest of the kernel must not need it.  Warnings that name only
# files the series leaves alone are the base kernel's: they are listed,
# and do not fail the run.  The static checks of "make check"
# (checkpatch, kernel-doc, the patches applying) do not depend on the
# architecture and are not repeated.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[[ -n $ASUFFIX ]] || die "onoff.sh builds another architecture (ARCH=NAME); 'make check' covers x86_64"
[[ -e $TREE/.git ]] || die "no work tree; run 'make tree'"

changed=$(git -C "$TREE" diff --name-only krsi-base..HEAD)
[[ -n $changed ]] || die "the tree has no commits over krsi-base"

fail=0
# Usage: build WHAT KBUILD [FRAGMENT]
build() {
	local what=$1 out=$2 cfg=${3:-} start=$SECONDS named ours f
	# kbuild prints a file's warnings only when it compiles the file: every
	# file the series changes is touched, so that it and every file that
	# includes it compile again (from ccache, which replays the compiler's
	# warnings) and an incremental build's log has all their warnings.
	while IFS= read -r f; do
		[[ ! -e $TREE/$f ]] || touch "$TREE/$f"
	done <<<"$changed"
	if ! EXTRA_CONFIG=$cfg KBUILD=$out "$KRSI_ROOT/scripts/kernel.sh" "$TREE" "$out"; then
		die "$what does not build for $KRSI_ARCH"
	fi
	if ! grep -q 'warning:' "$out/build.log"; then
		info "$what: built for $KRSI_ARCH with no warning in $((SECONDS - start)) s"
		return
	fi
	# Every source file the compiler's diagnostics name, relative to the tree.
	named=$(grep -oE "(^|In file included from |from )[^ :]+\.[chS]:" "$out/build.log" |
		sed -E "s/^(In file included from |from )//; s/:\$//; s|^$TREE/||" | sort -u)
	ours=$(comm -12 <(sort -u <<<"$changed") <(echo "$named"))
	if [[ -n $ours ]]; then
		warn "$what: warnings that name files the series changes:" $ours
		warn "(log: $out/build.log)"
		fail=1
	else
		info "$what: built for $KRSI_ARCH in $((SECONDS - start)) s; its warnings" \
			"(above) name only files the series does not change:" $named
	fi
}

build "CONFIG_SECURITY_KRSI=y" "$KBUILD"
build "CONFIG_SECURITY_KRSI=n" "$BUILD/kbuild-nokrsi$ASUFFIX" "$KRSI_ROOT/configs/nokrsi.config"
((fail == 0)) || die "the series builds for $KRSI_ARCH with warnings of its own"
info "the series builds for $KRSI_ARCH with KRSI on and off, no warning of its own"
