#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bisectability: build the VM kernel after each patch of the series in
# turn (incrementally, in the normal build directory), and after each
# patch that changes libbpf, bpftool, the tools' uAPI headers or the BPF
# selftests also libbpf, bpftool and the slim test_progs (selftests.sh,
# into build/selftests-each); then return the tree to its branch, and
# build the whole series again with CONFIG_SECURITY_KRSI=n and with
# CONFIG_BPF_LSM=n.  Any compiler warning in a kernel step fails the run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[[ -e $TREE/.git ]] || die "no work tree; run 'make tree'"
[[ -z $(git -C "$TREE" status --porcelain --untracked-files=no) ]] ||
	die "$TREE has uncommitted changes; commit or export them first"
branch=$(git -C "$TREE" symbolic-ref -q --short HEAD) ||
	die "$TREE is not on a branch"
trap 'git -C "$TREE" checkout -q "$branch"' EXIT

fail=0
# A patch before the one that adds an option (CONFIG_SECURITY_KRSI) builds
# without it; the whole series must define every option the fragments name.
undefined_ok=1
# Build the tree as it is into OUT, with the config fragment CFG if given;
# WHAT names the build in messages.  A build that fails ends the run; one
# with warnings is reported and fails it at the end.
# Usage: build WHAT OUT [CFG]
build() {
	local what=$1 out=$2 cfg=${3:-}
	if ! EXTRA_CONFIG=$cfg KCONFIG_UNDEFINED_OK=$undefined_ok \
		"$KRSI_ROOT/scripts/kernel.sh" "$TREE" "$out" \
		>"$BUILD/build-each.log" 2>&1; then
		cat "$BUILD/build-each.log" >&2
		die "$what does not build"
	fi
	if grep -q 'warning:' "$out/build.log"; then
		grep 'warning:' "$out/build.log" >&2
		warn "$what builds with warnings"
		fail=1
	fi
}

# FROM=N starts at patch N, for a run that already built the patches
# before it unchanged; the build directory then holds whatever was built
# last, which the incremental build of patch N brings up to date.
from=${FROM:-1}
[[ $from =~ ^[1-9][0-9]*$ ]] || die "FROM takes a patch number (1 for the first), not '$from'"
total=$(git -C "$TREE" rev-list --count krsi-base..HEAD)
((from <= total)) || die "FROM=$from: the series has $total patches"

# The patches build where kernel.sh builds by default (DEBUG=1, KCSAN=1:
# that build and config).
kbuild=$KBUILD
n=0
for sha in $(git -C "$TREE" rev-list --reverse krsi-base..HEAD); do
	n=$((n + 1))
	((n >= from)) || continue
	subject=$(git -C "$TREE" log -1 --format=%s "$sha")
	git -C "$TREE" checkout -q --detach "$sha"
	start=$SECONDS
	build "patch $n ($subject)" "$kbuild"
	tools=
	if [[ -n $(git -C "$TREE" diff-tree --no-commit-id --name-only -r "$sha" -- \
		tools/lib/bpf tools/bpf/bpftool tools/include tools/testing/selftests/bpf) ]]; then
		if ! SELFTESTS_OUT=$BUILD/selftests-each KBUILD=$kbuild \
			"$KRSI_ROOT/scripts/selftests.sh" >"$BUILD/build-each.log" 2>&1; then
			cat "$BUILD/build-each.log" >&2
			die "patch $n ($subject): libbpf, bpftool or the selftests do not build"
		fi
		tools=" + libbpf, bpftool, test_progs"
	fi
	printf 'patch %2d builds%s (%3d s): %s\n' "$n" "$tools" $((SECONDS - start)) "$subject"
done
git -C "$TREE" checkout -q "$branch"
undefined_ok=0

# The whole series without KRSI, and without the BPF LSM at all.
for cfg in nokrsi nobpflsm; do
	start=$SECONDS
	build "the series with configs/$cfg.config" "$BUILD/kbuild-$cfg" \
		"$KRSI_ROOT/configs/$cfg.config"
	printf 'series builds with configs/%s.config (%3d s)\n' "$cfg" $((SECONDS - start))
done
((fail == 0)) || die "some builds have warnings"
info "patches $from to $n build, and the series without KRSI and without the BPF LSM"
