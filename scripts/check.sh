#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Check the series: every patch applies with "git am" on the base (in a
# scratch work tree), the result equals the work tree (nothing unexported),
# and checkpatch.pl --strict on every patch: findings printed, errors fail.
# The build of the series is the "kernel" target, which "make check" runs
# after this script.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[[ -d $TREE/.git ]] || die "no work tree; run 'make tree'"
chk=$BUILD/check-tree

# 1. git am of every patch on a clean base.
if [[ ! -d $chk/.git && ! -f $chk/.git ]]; then
	rm -rf "$chk"
	git -C "$TREE" worktree prune
	info "creating the scratch tree $chk"
	git -C "$TREE" worktree add -q --detach "$chk" krsi-base
fi
git -C "$chk" am --abort >/dev/null 2>&1 || true
git -C "$chk" reset -q --hard krsi-base
git -C "$chk" clean -q -fdx
n=0
while read -r f; do
	if ! out=$(git -C "$chk" am -q --whitespace=nowarn "$f" 2>&1); then
		printf '%s\n' "$out" >&2
		git -C "$chk" am --abort >/dev/null 2>&1 || true
		die "patch ${f##*/} does not apply with git am"
	fi
	n=$((n + 1))
done < <(series_files)
info "git am: all $n patches apply on $(base_version)"

if [[ $(git -C "$chk" rev-parse 'HEAD^{tree}') != $(git -C "$TREE" rev-parse 'HEAD^{tree}') ]] ||
   [[ -n $(git -C "$TREE" status --porcelain --untracked-files=no) ]]; then
	die "the work tree differs from patches/: run 'make export' (or 'make tree') first"
fi

# 2. checkpatch --strict.
errors=0
while read -r f; do
	out=$(cd "$TREE" && ./scripts/checkpatch.pl --strict --terse --show-types \
		--codespell "$f" 2>&1) || true
	counts=$(printf '%s\n' "$out" | sed -n \
		's/^total: \([0-9]*\) errors, \([0-9]*\) warnings, \([0-9]*\) checks.*/\1 \2 \3/p' |
		tail -n1)
	read -r e w c <<<"${counts:-? ? ?}"
	[[ $e =~ ^[0-9]+$ ]] || die "checkpatch.pl gave no totals for ${f##*/}"
	printf '%s: %s errors, %s warnings, %s checks\n' "${f##*/}" "$e" "$w" "$c"
	printf '%s\n' "$out" | grep -v '^total: ' | sed -e "s|$KRSI_ROOT/||" -e 's/^/    /' || true
	errors=$((errors + e))
done < <(series_files)
((errors == 0)) || die "checkpatch.pl found $errors errors"
info "checkpatch.pl --strict: no errors"
