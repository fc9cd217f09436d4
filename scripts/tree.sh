#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the work tree: the base source (patches/BASE) as one commit, then
# "git am" of every patch in patches/, one commit per patch.
#
# Idempotent: nothing happens while patches/ and the tree agree.  When
# patches/ changed, the series is re-applied on the base, but only if the
# tree holds no work that is not in patches/ (commits or edits); otherwise
# it refuses and says how to export.  FORCE=1 discards such work.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FORCE=${FORCE:-0}

check_base_tarball() {
	local want have
	want=$(base_version)
	[[ -r $BASE_TARBALL ]] || die "$BASE_TARBALL not found; run 'make deps'"
	have=$(dpkg-query -W -f='${Version}' "$BASE_PACKAGE" 2>/dev/null || true)
	if [[ $have != "$want" ]]; then
		die "$BASE_TARBALL comes from $BASE_PACKAGE '${have:-unknown}'," \
		    "but patches/BASE names '$want'; run 'make deps' to install" \
		    "the named version, or 'make rebase' to move the series"
	fi
}

make_base() {
	info "creating base tree from $BASE_TARBALL ($1) in $TREE"
	rm -rf "$TREE"
	base_repo "$TREE" "$BASE_TARBALL" "$1"
}

tree_dirty() {
	[[ -n $(git -C "$TREE" status --porcelain --untracked-files=no) ]]
}

# The files named on stdin, each after a "== NAME" line.
concat_files() {
	local f
	while read -r f; do
		echo "== ${f##*/}"
		cat "$f"
	done
}

# True when the tree's commits, exported, equal what patches/ holds.
tree_matches_patches() {
	local tmp rc=0
	tmp=$(mktemp -d)
	mkdir "$tmp/series"
	"$KRSI_ROOT/scripts/export.sh" --series-only -o "$tmp/series" >/dev/null
	# Both listings in files: a process substitution still reading when
	# the comparison ends would race with the removal of $tmp.
	printf '%s\n' "$tmp"/series/* | LC_ALL=C sort | concat_files >"$tmp/tree"
	series_files | concat_files >"$tmp/patches"
	cmp -s "$tmp/tree" "$tmp/patches" || rc=1
	rm -rf "$tmp"
	return $rc
}

apply_series() {
	local digest=$1 f out
	git -C "$TREE" am --abort >/dev/null 2>&1 || true
	git -C "$TREE" reset -q --hard krsi-base
	while read -r f; do
		if ! out=$(git -C "$TREE" am -q --whitespace=nowarn "$f" 2>&1); then
			printf '%s\n' "$out" >&2
			local files
			files=$(printf '%s\n' "$out" | sed -n \
				-e 's/^error: patch failed: \(.*\):[0-9]*$/\1/p' \
				-e 's/^error: \(.*\): does not exist in index$/\1/p' \
				-e 's/^error: \(.*\): already exists in index$/\1/p' | sort -u | tr '\n' ' ')
			git -C "$TREE" am --abort >/dev/null 2>&1 || true
			git -C "$TREE" reset -q --hard krsi-base
			git -C "$TREE" config --unset krsi.applied-digest || true
			die "patch ${f##*/} does not apply${files:+ (failed on: $files)}"
		fi
	done < <(series_files)
	git -C "$TREE" config krsi.applied-digest "$digest"
	git -C "$TREE" config krsi.applied-head "$(git -C "$TREE" rev-parse HEAD)"
	info "applied $(series_files | wc -l) patches on $(base_version)"
}

# distclean's guard: fail when the tree holds work not in patches/.
if [[ ${1:-} == --check-exported ]]; then
	[[ -d $TREE/.git ]] || exit 0
	if tree_dirty; then
		die "$TREE has uncommitted changes; commit and export them, or remove $TREE by hand"
	fi
	if [[ $(git -C "$TREE" rev-parse HEAD) != "$(git -C "$TREE" config krsi.applied-head || true)" ]] &&
	   ! tree_matches_patches; then
		die "$TREE has commits not in patches/; run 'make export' first"
	fi
	exit 0
fi

check_base_tarball
want=$(base_version)
mkdir -p "$BUILD"

if [[ ! -d $TREE/.git ]] || ! git -C "$TREE" rev-parse -q --verify krsi-base >/dev/null ||
   [[ $(git -C "$TREE" config krsi.base || true) != "$want" ]]; then
	if [[ -d $TREE/.git ]] && [[ $FORCE != 1 ]] &&
	   git -C "$TREE" rev-parse -q --verify krsi-base >/dev/null &&
	   [[ $(git -C "$TREE" rev-list --count krsi-base..HEAD) != 0 ]] &&
	   ! tree_matches_patches; then
		die "the base changed, but $TREE has commits not in patches/;" \
		    "run 'make export' first, or 'make tree FORCE=1' to discard them"
	fi
	make_base "$want"
fi

digest=$(series_digest)
applied=$(git -C "$TREE" config krsi.applied-digest || true)
applied_head=$(git -C "$TREE" config krsi.applied-head || true)
head=$(git -C "$TREE" rev-parse HEAD)

if [[ $FORCE != 1 ]]; then
	if tree_dirty; then
		if [[ $applied == "$digest" ]]; then
			info "tree up to date with patches/ (it has uncommitted edits)"
			exit 0
		fi
		die "$TREE has uncommitted changes and patches/ changed;" \
		    "commit them and run 'make export', or 'make tree FORCE=1' to discard them"
	fi
	if [[ -n $applied_head && $head != "$applied_head" ]]; then
		if tree_matches_patches; then
			# The tree's work was exported: patches/ describes it.
			git -C "$TREE" config krsi.applied-digest "$digest"
			git -C "$TREE" config krsi.applied-head "$head"
			info "tree up to date with patches/ (its commits are exported)"
			exit 0
		fi
		if [[ $applied == "$digest" ]]; then
			info "tree has commits not yet exported; 'make export' writes them to patches/"
			exit 0
		fi
		die "$TREE has commits that are not in patches/, and patches/ changed;" \
		    "run 'make export' first, or 'make tree FORCE=1' to discard them"
	fi
fi

if [[ $applied == "$digest" && $head == "$applied_head" ]] && ! tree_dirty; then
	info "tree up to date with patches/"
	exit 0
fi
apply_series "$digest"
