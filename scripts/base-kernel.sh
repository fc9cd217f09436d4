#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the plain base kernel, without the series, in the VM config: the
# upstream anchor of "make bench".  Its tree is a git worktree of the work
# tree at tag krsi-base (build/base-linux); the build is kept in
# build/kbuild-base and is incremental like the others.
#
# Usage: base-kernel.sh [--tree-only]   (--tree-only: the worktree, no build)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

base_tree=$BUILD/base-linux
out=$BUILD/kbuild-base

base=$(git -C "$TREE" rev-parse -q --verify 'krsi-base^{commit}') ||
	die "no tag krsi-base in $TREE; run 'make tree'"
if ! head=$(git -C "$base_tree" rev-parse -q --verify HEAD 2>/dev/null); then
	rm -rf "$base_tree"
	git -C "$TREE" worktree prune
	git -C "$TREE" worktree add -q --detach "$base_tree" "$base" ||
		die "cannot create the base worktree $base_tree"
elif [[ $head != "$base" ]]; then
	git -C "$base_tree" checkout -q --detach "$base" ||
		die "cannot check out krsi-base in $base_tree"
fi
[[ ${1:-} == --tree-only ]] && exit 0
[[ -z ${1:-} ]] || die "usage: base-kernel.sh [--tree-only]"
EXTRA_CONFIG=$KRSI_ROOT/configs/base.config \
	"$KRSI_ROOT/scripts/kernel.sh" "$base_tree" "$out"
