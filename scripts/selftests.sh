#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the tree's libbpf and bpftool and a slim test_progs holding only the
# tests of scripts/selftests.list, with upstream's own selftests Makefile run
# in a pruned copy of tools/testing/selftests/bpf/ (all helpers and headers,
# only the wanted prog_tests/*.c and progs/*.c).  Incremental.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kbuild=$KBUILD
out=$SELFTESTS
src=$TREE/tools/testing/selftests/bpf
slim=$TREE/tools/testing/selftests/bpf-krsi-slim

[[ -d $src ]] || die "no selftests in $TREE; run 'make tree'"
[[ -f $kbuild/vmlinux ]] || die "no vmlinux in $kbuild; run 'make kernel'"
export PATH=/usr/lib/llvm-16/bin:$PATH
command -v clang >/dev/null || die "clang-16 missing; run 'make deps'"

# The wanted tests.  An entry is a prog_tests/ file name (globs expanded),
# or FILE/TEST for one test function of a file that holds many (such as
# verifier/verifier_lsm): the slim copy of FILE.c then keeps its preamble,
# the skeleton of TEST and the one-line test function of TEST only.
tests=()     # prog_tests/ files of the slim copy
picks=()     # FILE/TEST entries
# What another architecture does not run, with the reasons: without BPF
# trampolines, scripts/selftests.deny-notrampolines; its own list,
# scripts/selftests.deny-NAME.  A test they name whole is not built either.
arch_deny=()
if [[ -n $ASUFFIX ]]; then
	((TRAMPOLINES)) || arch_deny+=("$KRSI_ROOT/scripts/selftests.deny-notrampolines")
	[[ ! -f $KRSI_ROOT/scripts/selftests.deny$ASUFFIX ]] ||
		arch_deny+=("$KRSI_ROOT/scripts/selftests.deny$ASUFFIX")
fi
# What the real-time kernel (RT=1) does not run: scripts/selftests.deny-rt;
# the kernel of Debian's config (CONFIG=debian): scripts/selftests.deny-debian.
[[ -z $RT_CONFIG ]] || arch_deny+=("$KRSI_ROOT/scripts/selftests.deny-rt")
[[ -z $DEBIAN_CONFIG ]] || arch_deny+=("$KRSI_ROOT/scripts/selftests.deny-debian")
not_built=" $( ((${#arch_deny[@]} == 0)) ||
	sed -E 's/[[:space:]]*#.*//; /^$/d; /\//d' "${arch_deny[@]}" | tr '\n' ' ')"
while read -r pat; do
	[[ -z $pat || $pat == \#* ]] && continue
	if [[ $not_built == *" $pat "* ]]; then
		info "not built for $KRSI_ARCH: $pat (scripts/selftests.deny-*)"
		continue
	fi
	if [[ $pat == */* ]]; then
		file=${pat%%/*}
		[[ -f $src/prog_tests/$file.c ]] ||
			die "selftests.list names $pat, but there is no prog_tests/$file.c"
		[[ " ${tests[*]} " == *" $file "* ]] &&
			die "selftests.list names $pat and another entry of $file.c: list one or the other"
		picks+=("$pat")
		tests+=("$file")
		continue
	fi
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

# FILE/TEST: the slim FILE.c, written to stdout.
pick_test() {
	local file=${1%%/*} test=${1#*/}
	awk -v t="$test" '
		/^#include "[A-Za-z0-9_]+\.skel\.h"/ {
			if ($2 == "\"" t ".skel.h\"") { print; inc = 1 }
			next
		}
		!pre { print }
		/^#define RUN\(/ { pre = 1 }
		pre && $0 ~ "^void test_" t "\\(void\\)[ \t]*\\{ RUN\\(" t "\\); \\}$" { print; fn = 1 }
		END { exit !(pre && inc && fn) }' "$src/prog_tests/$file.c" ||
		die "prog_tests/$file.c has no '#define RUN(', no skeleton $test.skel.h or no one-line 'void test_$test(void) { RUN($test); }': list the file whole"
}

# The BPF programs the tests use: from "#include "X.skel.h"", light
# skeletons "#include "X.lskel.h"" and objects opened by name ("X.bpf.o").
progs=()
lskels=()
add_prog() {
	[[ -f $src/progs/$1.c ]] ||
		die "prog_tests/$2.c needs $1 ($3), but there is no progs/$1.c"
	[[ " ${progs[*]} " == *" $1 "* ]] || progs+=("$1")
}
test_source() {
	local t=$1 p
	for p in "${picks[@]}"; do
		[[ ${p%%/*} == "$t" ]] && { pick_test "$p"; return; }
	done
	cat "$src/prog_tests/$t.c"
}
for t in "${tests[@]}"; do
	text=$(test_source "$t")
	while read -r p; do
		add_prog "$p" "$t" "$p.skel.h"
	done < <(sed -n 's/^#include "\([A-Za-z0-9_]*\)\.skel\.h".*/\1/p' <<<"$text")
	while read -r p; do
		add_prog "$p" "$t" "$p.lskel.h"
		[[ " ${lskels[*]} " == *" $p.c "* ]] || lskels+=("$p.c")
	done < <(sed -n 's/^#include "\([A-Za-z0-9_]*\)\.lskel\.h".*/\1/p' <<<"$text")
	while read -r p; do
		add_prog "$p" "$t" "$p.bpf.o"
	done < <(grep -oE '"[A-Za-z0-9_]+\.bpf\.o"' <<<"$text" | tr -d '"' | sed 's/\.bpf\.o$//' | sort -u)
done

# The pruned copy: rsync keeps unchanged files' times, so make stays incremental.
mkdir -p "$slim"
rsync -a --delete --exclude='/prog_tests/*.c' --exclude='/progs/*.c' \
	--exclude='/prog_tests/tests.h' --exclude='/.krsi-tests' "$src/" "$slim/"
# tests.h lists the tests; regenerate it when the selection changes.
selection="${tests[*]} | ${picks[*]} | ${lskels[*]}"
if [[ $(cat "$slim/.krsi-tests" 2>/dev/null) != "$selection" ]]; then
	rm -f "$slim/prog_tests/tests.h" "$slim"/prog_tests/*.c "$slim"/progs/*.c
	echo "$selection" > "$slim/.krsi-tests"
fi
for t in "${tests[@]}"; do
	if [[ " ${picks[*]} " == *" $t/"* ]]; then
		test_source "$t" > "$slim/prog_tests/$t.c.new"
		if cmp -s "$slim/prog_tests/$t.c.new" "$slim/prog_tests/$t.c"; then
			rm "$slim/prog_tests/$t.c.new"
		else
			mv "$slim/prog_tests/$t.c.new" "$slim/prog_tests/$t.c"
		fi
	else
		rsync -a "$src/prog_tests/$t.c" "$slim/prog_tests/"
	fi
done
for p in "${progs[@]}"; do rsync -a "$src/progs/$p.c" "$slim/progs/"; done
info "slim test_progs: ${tests[*]}${picks[*]:+ (of them only ${picks[*]})} (programs: ${progs[*]})"

mkdir -p "$out"
# Objects of tests no longer selected must not be linked in.
for o in "$out"/*.test.o; do
	[[ -e $o ]] || continue
	b=$(basename "$o" .test.o)
	[[ " ${tests[*]} " == *" $b "* ]] || rm -f "$o"
done

# The compiler writes a test's skeleton headers into its .test.d relative
# to OUTPUT, where it ran, but make reads them relative to the source
# directory: make them absolute, or the next build after a selection
# change stops with "No rule to make target 'X.skel.h'".
absolute_deps() {
	local d
	for d in "$out"/*.test.d; do
		[[ -e $d ]] || continue
		sed -i -E "s#(^|[[:space:]])([A-Za-z0-9_]+\.(skel|lskel|subskel)\.h)#\1$out/\2#g" "$d"
	done
}
absolute_deps

# Another architecture: upstream's cross build (CROSS_COMPILE), against
# the root file system as the sysroot, its headers for the BPF programs'
# system includes.
cross=()
if [[ -n $ASUFFIX ]]; then
	cross_pkg_config
	cross=(ARCH="$KARCH" CROSS_COMPILE="$CROSS" CC="$CROSS_CC"
		PKG_CONFIG=pkg-config
		CLANG_SYS_INCLUDES="-idirafter $ROOTFS/usr/include/$TRIPLET -idirafter $ROOTFS/usr/include")
	# The other byte order: the skeletons come from the target's bpftool.
	if ((FOREIGN_ENDIAN)); then
		skel_bpftool=$("$KRSI_ROOT/scripts/target-bpftool.sh")
		cross+=(BPFTOOL="$skel_bpftool")
	fi
	# A 32-bit target: 64-bit file offsets (xsk.c maps offsets above 4 GiB);
	# upstream's helpers cast pointers to __u64 directly, which the target
	# warns about: those warnings stay warnings (the KRSI tests' own files
	# must have none, checked below).
	if [[ $KARCH == i386 || $KARCH == arm ]]; then
		cross+=(OPT_FLAGS="-O0 -D_FILE_OFFSET_BITS=64 -Wno-error=pointer-to-int-cast -Wno-error=int-to-pointer-cast")
	fi
fi

log=$out/build.log
if ! make -C "$slim" -j"$(jobs)" OUTPUT="$out" VMLINUX_BTF="$kbuild/vmlinux" \
	LSKELS="${lskels[*]}" LSKELS_EXTRA= LINKED_SKELS= TRUNNER_EXTRA_FILES= \
	"${cross[@]}" "$out/test_progs" >"$log" 2>&1; then
	grep -E -B2 -A8 'error|Error' "$log" | tail -n 60 >&2 || tail -n 40 "$log" >&2
	die "building test_progs failed; full log in $log"
fi
absolute_deps
if grep -E '(^|/)krsi_[a-z_]*\.[ch]:[0-9]+:[0-9]+: warning:' "$log" >&2; then
	die "the KRSI tests build with warnings (above); full log in $log"
fi
if grep -lE '(^|[[:space:]])[^/[:space:]\\][^[:space:]]*\.h([[:space:]]|$)' "$out"/*.test.d >&2; then
	die "these dependency files name headers by relative paths, which make cannot find"
fi
# The serial tests (serial_test_*, and those scripts/selftests.serial
# names), which guest-test_progs.sh runs on their own after the others
# have run in parallel.
{
	grep -hoE '^void serial_test_[A-Za-z0-9_]+\(' "$slim"/prog_tests/*.c |
		sed -E 's/^void serial_test_//; s/\($//'
	sed -E 's/[[:space:]]*#.*//; /^$/d' "$KRSI_ROOT/scripts/selftests.serial"
} | sort -u >"$out/serial.list"
# What is built but not run, with the reasons: scripts/selftests.deny, and
# for another architecture or the real-time kernel the lists above.
cat "$KRSI_ROOT/scripts/selftests.deny" "${arch_deny[@]}" >"$out/deny.list"
info "built $out/test_progs ($(wc -l <"$out/serial.list") serial tests)"
