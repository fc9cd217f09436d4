#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make rebase [BASE=VERSION]": move the series to another linux-source-6.12,
# by default the newest Debian's archive offers.  The series follows
# Debian's 6.12 security updates, and the archive drops old versions.
#
# The new version's source package is downloaded (apt-get download; the
# installed one is left alone: the next "make deps" installs the new
# base), its tarball becomes a base commit, and every patch of patches/ is
# applied on it with "git am -3": a patch whose context moved is merged
# against the old base's files.  A patch that does not apply stops the run
# with its name and the files in conflict, and leaves the tree and patches/
# as they were.  On success the tree is on the new base, patches/ is
# exported from it (the cover letter names the new base) and patches/BASE
# names the new version.
#
# The tree must hold exactly patches/ (make tree; nothing unexported).
# Without a tree the patches are applied to the new base directly, without
# the three-way fallback (the old base's files are not there).
#
# Usage: rebase.sh [VERSION]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

for c in apt-get apt-cache dpkg-deb git xz; do
	command -v "$c" >/dev/null || die "$c missing; run 'make deps'"
done
old=$(base_version)
new=${1:-}
if [[ $(id -u) == 0 ]]; then
	apt-get update -q >/dev/null || die "apt-get update failed"
else
	warn "not root: apt's package lists are not updated; the newest version may be missing"
fi
archive_versions "$BASE_PACKAGE"
if [[ -z $new ]]; then
	new=${offered[0]}
	info "the newest $BASE_PACKAGE in the archive is $new"
fi
[[ $new =~ ^6\.12\.[0-9]+-[0-9A-Za-z.+~]+$ ]] ||
	die "BASE=$new is not a Debian version of $BASE_PACKAGE (such as ${offered[0]})"
one_of "$new" "${offered[@]}" ||
	die "$BASE_PACKAGE $new is not in the archive, which has ${offered[*]}"
if [[ $new == "$old" ]]; then
	info "the series is already on $BASE_PACKAGE $new; nothing to do"
	exit 0
fi

# The tree must hold patches/ and nothing else.
have_tree=0
if [[ -d $TREE/.git ]]; then
	"$KRSI_ROOT/scripts/tree.sh" --check-exported
	[[ $(git -C "$TREE" config krsi.base || true) == "$old" &&
	   $(git -C "$TREE" config krsi.applied-digest || true) == "$(series_digest)" &&
	   $(git -C "$TREE" rev-parse HEAD) == "$(git -C "$TREE" config krsi.applied-head || true)" ]] ||
		die "$TREE does not hold patches/ on $old; run 'make tree' first"
	have_tree=1
fi

work=$BUILD/rebase
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
info "downloading $BASE_PACKAGE $new"
(cd "$work" && apt-get download -q "$BASE_PACKAGE=$new" >/dev/null) ||
	die "apt-get download $BASE_PACKAGE=$new failed"
deb=$(find "$work" -maxdepth 1 -name "${BASE_PACKAGE}_*.deb" -print -quit)
[[ -n $deb ]] || die "apt-get download left no ${BASE_PACKAGE} package in $work"
tarball=$work/${BASE_TARBALL##*/}
dpkg-deb --fsys-tarfile "$deb" | tar -xO ".$BASE_TARBALL" >"$tarball" ||
	die "$deb holds no $BASE_TARBALL"
info "creating the base commit of $new"
if ((have_tree)); then
	base_unpack "$work/src" "$tarball" "$new"
	commit=$(base_commit "$TREE/.git" "$work/src" "$new" "$work/index")
	rm -rf "$work/src"
	old_head=$(git -C "$TREE" rev-parse HEAD)
	git -C "$TREE" update-ref refs/krsi/rebase-base "$commit"
	git -C "$TREE" reset -q --hard "$commit"
	am=(am -3)
else
	info "no tree: the series is applied on $new without three-way merges"
	base_repo "$TREE" "$tarball" "$new"
	am=(am)
fi

# Back to the old base and series, with the reason.
restore() {
	git -C "$TREE" am --abort >/dev/null 2>&1 || true
	if ((have_tree)); then
		git -C "$TREE" reset -q --hard "$old_head"
		git -C "$TREE" update-ref -d refs/krsi/rebase-base
	else
		rm -rf "$TREE"
	fi
	die "$@"
}

n=0
while read -r f; do
	if ! out=$(git -C "$TREE" "${am[@]}" -q --whitespace=nowarn "$f" 2>&1); then
		printf '%s\n' "$out" >&2
		files=$( { git -C "$TREE" diff --name-only --diff-filter=U
			printf '%s\n' "$out" | sed -n -e 's/^error: patch failed: \(.*\):[0-9]*$/\1/p' \
				-e 's/^CONFLICT ([^)]*): Merge conflict in \(.*\)$/\1/p'; } |
			sort -u | tr '\n' ' ')
		restore "patch ${f##*/} does not apply on $new${files:+ (conflicts in: ${files% })};" \
			"the tree and patches/ are left on $old: fix that patch on $new by hand" \
			"(git am -3, resolve, git am --continue), export and set patches/BASE"
	fi
	n=$((n + 1))
done < <(series_files)

if ((have_tree)); then
	git -C "$TREE" tag -f krsi-base refs/krsi/rebase-base >/dev/null
	git -C "$TREE" update-ref -d refs/krsi/rebase-base
	git -C "$TREE" config krsi.base "$new"
fi
echo "$new" >"$PATCHES/BASE"
"$KRSI_ROOT/scripts/export.sh"
info "rebased $n patches from $old to $new$( ((have_tree)) && echo ' (git am -3)')"
git -C "$KRSI_ROOT" --no-pager diff --stat -- patches/ >&2 || true
cat >&2 <<EOF

Next:
  make deps         # installs $BASE_PACKAGE $new, the new base
  make test         # the selftests on the new base
  make check        # checkpatch and the builds, with and without KRSI
  make build-each   # every patch builds on the new base
then name the new base where the README and the cover letter's text do,
and commit patches/ with the harness.
EOF
