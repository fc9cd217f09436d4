#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Check the series: every patch applies with "git am" on the base (in a
# scratch work tree), the result equals the work tree (nothing unexported),
# the subjects, Fixes: tags and uAPI header copies follow the lists'
# conventions, and checkpatch.pl --strict on every patch: findings
# printed, errors fail.
# The build of the series is the "kernel" target, which "make check" runs
# after this script.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[[ -e $TREE/.git ]] || die "no work tree; run 'make tree'"
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

# 2. The lists' conventions: subjects "prefix: [prefix: ]Capitalised ..."
# of at most 75 characters without a final period; "Fixes:" tags with a
# 12-character (or longer) id and the subject in ("..."); a patch that
# changes a uAPI header with a copy in tools/include/uapi changes the copy
# alike, so that both are the same after it whenever they were before it.
conv=0
while read -r c; do
	subj=$(git -C "$chk" log -1 --format=%s "$c")
	if ! [[ $subj =~ ^[a-z0-9][a-z0-9/_.-]*(,\ [a-z0-9][a-z0-9/_.-]*)*:\ ([a-z0-9][a-z0-9/_.-]*:\ )?[A-Z] ]]; then
		warn "subject not in the form 'subsystem: [area: ]Capitalised summary': $subj"
		conv=1
	fi
	if ((${#subj} > 75)) || [[ $subj == *. ]]; then
		warn "subject longer than 75 characters or ending in a period: $subj"
		conv=1
	fi
	while IFS= read -r tag; do
		if ! [[ $tag =~ ^Fixes:\ [0-9a-f]{12,40}\ \(\".+\"\)$ ]]; then
			warn "malformed tag in '$subj': $tag"
			conv=1
		fi
	done < <(git -C "$chk" log -1 --format=%B "$c" | grep '^Fixes:' || true)
	while read -r f; do
		t=tools/$f
		git -C "$chk" cat-file -e "$c:$t" 2>/dev/null || continue
		if git -C "$chk" diff --quiet "$c^:$f" "$c^:$t" &&
		   ! git -C "$chk" diff --quiet "$c:$f" "$c:$t"; then
			warn "'$subj' changes $f but not $t alike"
			conv=1
		fi
	done < <(git -C "$chk" diff-tree --no-commit-id --name-only -r "$c" -- include/uapi)
done < <(git -C "$chk" rev-list --reverse krsi-base..HEAD)
((conv == 0)) || die "the series does not follow the conventions above"
info "subjects, Fixes: tags and tools/include/uapi copies follow the lists' conventions"

# 3. checkpatch --strict.  Findings of a type and file listed in
# scripts/checkpatch-argued.txt are argued in the cover letter: they are
# printed, marked, and do not fail the check.
declare -A argued=()
while read -r type file _; do
	[[ -z $type || $type == \#* ]] || argued["$type $file"]=1
done < "$KRSI_ROOT/scripts/checkpatch-argued.txt"

dict=$(dpkg -L codespell python3-codespell 2>/dev/null | grep -m1 '/dictionary.txt$' || true)
[[ -n $dict ]] || die "codespell's dictionary is missing; run 'make deps'"
errors=0
while read -r f; do
	rc=0
	out=$(cd "$TREE" && ./scripts/checkpatch.pl --strict --terse --show-types \
		--showfile --codespell --codespellfile "$dict" "$f" 2>&1) || rc=$?
	counts=$(printf '%s\n' "$out" | sed -n \
		's/^total: \([0-9]*\) errors, \([0-9]*\) warnings, \([0-9]*\) checks.*/\1 \2 \3/p' |
		tail -n1)
	# --terse prints no totals for a clean patch.
	if [[ -z $counts && $rc == 0 && -z $out ]]; then
		counts="0 0 0"
	fi
	read -r e w c <<<"${counts:-? ? ?}"
	[[ $e =~ ^[0-9]+$ ]] || { printf '%s\n' "$out" >&2; die "checkpatch.pl failed on ${f##*/}"; }
	printf '%s: %s errors, %s warnings, %s checks\n' "${f##*/}" "$e" "$w" "$c"
	while IFS= read -r line; do
		[[ -z $line || $line == total:* ]] && continue
		line=${line//"$KRSI_ROOT/"/}
		file=${line%%:*}
		type=$(sed -n 's/^[^:]*:[0-9]*: \(ERROR\|WARNING\|CHECK\):\([A-Z0-9_]*\):.*/\2/p' <<<"$line")
		if [[ -n $type && -n ${argued["$type $file"]:-} ]]; then
			printf '    %s [argued in the cover letter]\n' "$line"
		else
			printf '    %s\n' "$line"
			[[ $line == *": ERROR:"* ]] && errors=$((errors + 1))
		fi
	done <<<"$out"
done < <(series_files)
((errors == 0)) || die "checkpatch.pl found $errors errors that are not argued"
info "checkpatch.pl --strict: no errors beyond those argued in the cover letter"

# kernel-doc: no new warning (-Wall) in the kernel sources the series
# changes; those it adds must be clean.  Line numbers are left out of the
# comparison with the base, since the series moves lines.
mapfile -t kfiles < <(git -C "$chk" diff --name-only krsi-base HEAD -- '*.c' '*.h' |
	grep -v -E '^(tools|samples)/')
kdbase=$(mktemp -d)
trap 'rm -rf "$kdbase"' EXIT
for f in "${kfiles[@]}"; do
	mkdir -p "$kdbase/$(dirname "$f")"
	git -C "$chk" show "krsi-base:$f" >"$kdbase/$f" 2>/dev/null || rm -f "$kdbase/$f"
done
kdoc() {
	local dir=$1 f have=()
	shift
	for f; do [[ -f $dir/$f ]] && have+=("$f"); done
	((${#have[@]})) || return 0
	(cd "$dir" && "$chk/scripts/kernel-doc" -none -Wall "${have[@]}" 2>&1) |
		sed -E 's/^([^:]+):[0-9]+: /\1: /' | sort
}
newdoc=$(comm -13 <(kdoc "$kdbase" "${kfiles[@]}") <(kdoc "$chk" "${kfiles[@]}"))
if [[ -n $newdoc ]]; then
	printf '%s\n' "$newdoc" >&2
	die "kernel-doc -Wall: the series adds the warnings above"
fi
info "kernel-doc -Wall: no new warning in the ${#kfiles[@]} kernel files the series changes"

# Every non-static function the series adds to the kernel has a
# kernel-doc comment ("name - ...").
undoc=()
for f in "${kfiles[@]}"; do
	[[ $f == *.c ]] || continue
	while read -r fn; do
		grep -q "^ \* $fn - " "$chk/$f" || undoc+=("$f: $fn()")
	done < <(git -C "$chk" diff -U0 krsi-base HEAD -- "$f" |
		grep -E '^\+[a-z_][a-z_0-9 *]*\b[a-z_0-9]+\(' |
		grep -v -E '^\+(static|return|if|for|while|else|do|switch|LSM_HOOK|BTF_|late_initcall|fs_initcall|module_init|DEFINE_|EXPORT_)' |
		sed -E 's/^\+//; s/^([^(]*[ *])?([a-z_0-9]+)\(.*/\2/' | sort -u)
done
if ((${#undoc[@]})); then
	printf '    %s\n' "${undoc[@]}" >&2
	die "new non-static functions without a kernel-doc comment (above)"
fi
info "kernel-doc: every new non-static kernel function has a comment"

# The reStructuredText the series adds or changes parses without a
# docutils warning.
mapfile -t rst < <(git -C "$chk" diff --name-only --diff-filter=AM krsi-base HEAD -- '*.rst')
if ((${#rst[@]})); then
	(cd "$chk" && /usr/bin/python3 "$KRSI_ROOT/scripts/rst-check.py" "${rst[@]}") ||
		die "docutils reports problems in the series' documentation (above)"
fi
