#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the tree's libbpf and bpftool and a slim test_progs holding only the
# tests of scripts/selftests.list, with upstream's own selftests Makefile run
# in a pruned copy of tools/testing/selftests/bpf/ (all helpers and headers,
# only the wanted prog_tests/*.c and progs/*.c).  Incremental.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DEBUG=${DEBUG:-0}
kbuild=$KBUILD
[[ $DEBUG == 1 ]] && kbuild=$BUILD/kbuild-debug
out=${SELFTESTS_OUT:-$BUILD/selftests}
[[ $DEBUG == 1 ]] && out=${SELFTESTS_OUT:-$BUILD/selftests-debug}
src=$TREE/tools/testing/selftests/bpf
slim=$TREE/tools/testing/selftests/bpf-krsi-slim

[[ -d $src ]] || die "no selftests in $TREE; run 'make tree'"
[[ -f $kbuild/vmlinux ]] || die "no vmlinux in $kbuild; run 'make kernel'"
export PATH=/usr/lib/llvm-16/bin:$PATH
command -v clang >/dev/null || die "clang-16 missing; run 'make deps'"

# The wanted tests and the BPF programs their skeletons come from.
tests=()
while read -r pat; do
	[[ -z $pat || $pat == \#* ]] && continue
	found=0
	for f in "$src"/prog_tests/$pat.c; do
		[[ -f $f ]] || continue
		tests+=("$(basename "$f" .c)")
		found=1
	done
	if ((!found)) && [[ $pat != *[*?]* ]]; then
		die "selftests.list names $pat, but there is no prog_tests/$pat.c"
	fi
done < "$KRSI_ROOT/scripts/selftests.list"
((${#tests[@]})) || die "no tests selected"

progs=()
for t in "${tests[@]}"; do
	while read -r skel; do
		[[ -f $src/progs/$skel.c ]] ||
			die "prog_tests/$t.c includes $skel.skel.h, but there is no progs/$skel.c"
		[[ " ${progs[*]} " == *" $skel "* ]] || progs+=("$skel")
	done < <(sed -n 's/^#include "\(.*\)\.skel\.h".*/\1/p' "$src/prog_tests/$t.c")
done

# The pruned copy: rsync keeps unchanged files' times, so make stays incremental.
mkdir -p "$slim"
rsync -a --delete --exclude='/prog_tests/*.c' --exclude='/progs/*.c' \
	--exclude='/prog_tests/tests.h' --exclude='/.krsi-tests' "$src/" "$slim/"
# tests.h lists the tests; regenerate it when the selection changes.
if [[ $(cat "$slim/.krsi-tests" 2>/dev/null) != "${tests[*]}" ]]; then
	rm -f "$slim/prog_tests/tests.h" "$slim"/prog_tests/*.c "$slim"/progs/*.c
	echo "${tests[*]}" > "$slim/.krsi-tests"
fi
for t in "${tests[@]}"; do rsync -a "$src/prog_tests/$t.c" "$slim/prog_tests/"; done
for p in "${progs[@]}"; do rsync -a "$src/progs/$p.c" "$slim/progs/"; done
info "slim test_progs: ${tests[*]} (programs: ${progs[*]})"

mkdir -p "$out"
# Objects of tests no longer selected must not be linked in.
for o in "$out"/*.test.o; do
	[[ -e $o ]] || continue
	b=$(basename "$o" .test.o)
	[[ " ${tests[*]} " == *" $b "* ]] || rm -f "$o"
done

log=$out/build.log
if ! make -C "$slim" -j"$(jobs)" OUTPUT="$out" VMLINUX_BTF="$kbuild/vmlinux" \
	LSKELS= LSKELS_EXTRA= LINKED_SKELS= TRUNNER_EXTRA_FILES= \
	"$out/test_progs" >"$log" 2>&1; then
	grep -E -B2 -A8 'error|Error' "$log" | tail -n 60 >&2 || tail -n 40 "$log" >&2
	die "building test_progs failed; full log in $log"
fi
info "built $out/test_progs"
