#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Write the work tree's commits (krsi-base..HEAD) back to patches/ as
# "git format-patch" files, plus the cover letter, deterministically:
# exporting an unchanged tree rewrites every file byte for byte.
#
# The cover letter's subject and text are taken from the existing
# patches/0000-cover-letter.patch (everything between the header and the
# first line that is exactly "---"); the shortlog and diffstat after that
# line are regenerated.
#
# Usage: export.sh [--series-only] [-o DIR]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$PATCHES
series_only=0
while (($#)); do
	case $1 in
	-o) out=$2; shift 2 ;;
	--series-only) series_only=1; shift ;;
	*) die "usage: export.sh [--series-only] [-o DIR]" ;;
	esac
done

[[ -e $TREE/.git ]] || die "no work tree at $TREE; run 'make tree'"
git -C "$TREE" rev-parse -q --verify krsi-base >/dev/null ||
	die "$TREE has no krsi-base tag; run 'make tree FORCE=1'"
if [[ -n $(git -C "$TREE" status --porcelain --untracked-files=no) ]]; then
	die "$TREE has uncommitted changes; commit them (git commit --fixup=...) first"
fi
[[ -z $(git -C "$TREE" rev-parse -q --verify REBASE_HEAD 2>/dev/null || true) ]] ||
	die "$TREE is in the middle of a rebase; finish it first"

# Only the repository's own settings, whatever the user's git config says.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
g() { git -C "$TREE" -c core.abbrev=12 -c diff.renames=true "$@"; }

n=$(g rev-list --count krsi-base..HEAD)
((n > 0)) || die "the tree has no commits on top of krsi-base"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The posting's revision is the newest "vN:" entry of the cover letter's
# changelog: "[PATCH vN nn/mm]" from v2 on.
prefix=PATCH
cover=$PATCHES/0000-cover-letter.patch
if [[ -f $cover ]]; then
	rev=$(awk '/^---$/ { exit } /^v[0-9]+:$/ { sub(/^v/, ""); sub(/:$/, ""); print; exit }' "$cover")
	[[ -n $rev && $rev -ge 2 ]] && prefix="PATCH v$rev"
fi
g format-patch -q --zero-commit --no-signature --numbered --no-base \
	--subject-prefix="$prefix" -o "$tmp" krsi-base..HEAD

if ((series_only)); then
	mkdir -p "$out"
	cp "$tmp"/*.patch "$out"/
	exit 0
fi

# Cover letter: keep its text, regenerate the rest.
cover=$PATCHES/0000-cover-letter.patch
subject='*** SUBJECT HERE ***'
blurb='*** BLURB HERE ***'
if [[ -f $cover ]]; then
	subject=$(awk '
		/^Subject: / { s = $0; sub(/^Subject: (\[[^]]*\] )?/, "", s); insub = 1; next }
		insub && /^[ \t]/ { t = $0; sub(/^[ \t]+/, " ", t); s = s t; next }
		{ insub = 0 }
		/^$/ { print s; exit }' "$cover")
	blurb=$(awk 'body && /^---$/ { exit } body { print } !body && /^$/ { body = 1 }' "$cover")
fi

{
	echo "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001"
	g log -1 --format='From: %an <%ae>%nDate: %aD' HEAD
	echo "Subject: [$prefix 0/$n] $subject"
	echo
	printf '%s\n' "$blurb"
	echo "---"
	g shortlog krsi-base..HEAD
	g diff --stat=72 krsi-base..HEAD
	echo
	echo "base: $BASE_PACKAGE $(base_version)"
} > "$tmp/0000-cover-letter.patch"

mkdir -p "$out"
find "$out" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' -delete
cp "$tmp"/*.patch "$out"/
# The tree now agrees with patches/.
git -C "$TREE" config krsi.applied-digest "$(series_digest)"
git -C "$TREE" config krsi.applied-head "$(git -C "$TREE" rev-parse HEAD)"
info "exported $n patches and the cover letter to ${out#"$KRSI_ROOT"/}"
