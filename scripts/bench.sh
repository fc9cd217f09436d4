#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make bench": KRSI's hook and attach costs.
#
# Two modes.  Under TCG (no KVM here, or KVM=0), instruction counts: each
# boot counts instructions (vmtest.sh -I), so every figure is instructions
# per operation or per hook call, repeatable from boot to boot.  Under KVM
# (it works here, or KVM=1), wall time: ratios to getpid() in interleaved
# slices, since a real CPU's times move with caches and frequency.
# Instruction counts ignore cache and branch effects; wall time on KVM
# has them.
#
# Boots, ROUNDS times in alternation (default 3 counting instructions,
# whose median is the figure of fork and exec, where a boot now and then
# makes every call dearer; 5 timing):
#   KRSI kernel, lsm=capability      -> S0   (no bpf LSM)
#   KRSI kernel, lsm=capability,bpf  -> S1f  (nothing ever attached)
#   KRSI kernel, lsm=capability,bpf  -> S1-S5 (krsi_bench scenarios; S1
#                                       after the hook check attached
#                                       and detached counting programs)
#   base kernel, lsm=capability      -> S0b
#   base kernel, lsm=capability,bpf  -> S1b  (6.12's BPF LSM, the anchor)
#   base kernel, lsm=capability,bpf  -> S2b  (one trampoline program per
#                                       hook, as S2 on the KRSI kernel)
# then one boot of each kernel for the attach latencies.  The raw
# "BENCH..." lines and the table go to build/bench/<date>/; the table is
# also printed.  Needs the KRSI kernel and "make samples" (libbpf, bpftool,
# vmlinux.h); builds the base kernel once (build/kbuild-base).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

case ${KVM:-} in
1)
	kvm_works || die "KVM=1: KVM does not work here: $kvm_why"
	mode=wall ;;
0)
	mode=icount ;;
'')
	if kvm_works; then
		mode=wall
	else
		mode=icount
		info "no KVM ($kvm_why): counting instructions under TCG"
	fi ;;
*)
	die "KVM takes 0 (count instructions under TCG) or 1 (time under KVM), not '$KVM'" ;;
esac
if [[ $mode == icount ]]; then
	vmflags=(-I)
	benchflags=(--icount)
	rounds=${ROUNDS:-3}
else
	vmflags=(-K)
	benchflags=()
	rounds=${ROUNDS:-5}
fi
[[ $rounds =~ ^[0-9]+$ ]] && ((rounds >= 1)) || die "ROUNDS must be a positive number"
krsi_kernel=$KBUILD/arch/x86/boot/bzImage
base_kernel=$BUILD/kbuild-base/arch/x86/boot/bzImage
samples=$BUILD/samples
bpftool=$BUILD/bpftool/bpftool
src=$KRSI_ROOT/bench

[[ -f $krsi_kernel ]] || die "no KRSI kernel at $krsi_kernel; run 'make kernel'"
[[ -f $samples/libbpf/libbpf.a && -f $samples/vmlinux.h && -x $bpftool ]] ||
	die "no libbpf, vmlinux.h or bpftool from 'make samples' in $BUILD"
"$KRSI_ROOT/scripts/base-kernel.sh"

# The benchmark program, against the tree's libbpf.
bin=$BUILD/bench/bin
build_bpf_tool "$src" "$bin" "$samples" "$bpftool" krsi_bench bench_nop bench_count bench_cgroup
# The static binary of the exec operation.
gcc -O2 -Wall -static "$src/bench_true.c" -o "$bin/bench_true"

out=$BUILD/bench/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
ln -sfn "$(basename "$out")" "$BUILD/bench/latest"
raw=$out/raw.txt
info "results in $out"

# One boot; its "BENCH" lines go to the raw file, tagged with the round.
# Usage: boot ROUND krsi|base LSMS KRSI_BENCH_ARGS...
boot() {
	local round=$1 name=$2 lsm=$3 kernel=$krsi_kernel log
	shift 3
	[[ $name == base ]] && kernel=$base_kernel
	log=$out/boot-$round-$name-${lsm//,/-}-$1.log
	info "round $round: $name kernel, lsm=$lsm: krsi_bench $*"
	# One vCPU, as the published figures were measured.
	if ! "$KRSI_ROOT/scripts/vmtest.sh" "${vmflags[@]}" -k "$kernel" -l "$lsm" -c 1 -t 900 -- \
		"$bin/krsi_bench" "${benchflags[@]}" "$@" >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		echo "FAILED round=$round kernel=$name lsm=$lsm cmd=$*" >>"$raw"
		warn "that boot failed; the table says so (log: $log)"
		return 0
	fi
	sed -n "s/^\(BENCH[^ ]*\) /\1 round=$round kernel=$name /p" "$log" |
		tr -d '\r' >>"$raw"
}

echo "# krsi_bench raw results, $(date -u +%Y-%m-%dT%H:%M:%SZ), kernel $(cat "$KRSI_ROOT/patches/BASE" 2>/dev/null | head -n 1)" >"$raw"
echo "MODE $mode" >>"$raw"
for ((r = 1; r <= rounds; r++)); do
	boot "$r" krsi capability ops S0
	boot "$r" krsi capability,bpf ops S1f
	boot "$r" krsi capability,bpf scenarios
	boot "$r" base capability ops S0b
	boot "$r" base capability,bpf ops S1b
	boot "$r" base capability,bpf trampolines S2b
done
boot L krsi capability,bpf latency
boot L base capability,bpf latency --trampoline-only

python3 "$KRSI_ROOT/scripts/bench-report.py" "$raw" | tee "$out/table.txt"
info "table: $out/table.txt"
