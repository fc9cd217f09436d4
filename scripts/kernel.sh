#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Configure and build the KRSI VM kernel out of tree (O=), incrementally.
#
# Config: tinyconfig + the tree's tools/testing/selftests/bpf/config and
# config.vm (what the BPF selftests need, merged as upstream's vmtest.sh
# merges them) + configs/vm.config (+ configs/arch-NAME.config for
# ARCH=NAME, configs/debug.config when DEBUG=1, configs/kcsan.config when
# KCSAN=1, configs/rt.config when RT=1),
# olddefconfig; every option of the fragments is then checked and a value
# that did not stick is an error, the last fragment naming an option wins.
# CONFIG=debian starts from Debian's cloud config instead, with
# configs/debian.config only, and also checks that every option Debian
# builds in stays built in.
#
# Usage: kernel.sh [TREE KBUILD]   (defaults from lib.sh; DEBUG=1 or KCSAN=1
#                                   select that build directory and config;
#                                   EXTRA_CONFIG adds fragments, last wins;
#                                   KCONFIG_UNDEFINED_OK=1 lets fragments
#                                   name options the tree does not define;
#                                   KERNEL_TARGET=prepare stops after the
#                                   build's tools and generated headers,
#                                   as make cleanroot does)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

src=${1:-$TREE}
out=${2:-$KBUILD}
frags=()
if [[ -n $DEBIAN_CONFIG ]]; then
	# CONFIG=debian: Debian's config and configs/debian.config only.
	debian_file=$(debian_config_file "$DEBIAN_CONFIG")
	[[ -f $debian_file ]] || die "no $debian_file; run 'make deps CONFIG=debian'"
	frags+=("$KRSI_ROOT/configs/debian.config")
else
	debian_file=
	for f in config config.vm; do
		f=$src/tools/testing/selftests/bpf/$f
		[[ -f $f ]] || die "no $f in the tree"
		frags+=("$f")
	done
	frags+=("$KRSI_ROOT/configs/vm.config")
fi
[[ -n $ARCH_CONFIG ]] && frags+=("$ARCH_CONFIG")
[[ -n $FLAVOUR_CONFIG ]] && frags+=("$FLAVOUR_CONFIG")
[[ -n $RT_CONFIG ]] && frags+=("$RT_CONFIG")
frags+=(${EXTRA_CONFIG:-})

[[ -f $src/Makefile ]] || die "no kernel tree at $src; run 'make tree'"
command -v "${CROSS}gcc" >/dev/null || die "no ${CROSS}gcc for ARCH=$KRSI_ARCH; run 'make deps ARCH=$KRSI_ARCH'"
mkdir -p "$out"

# The config is regenerated only when something it depends on changed:
# the fragments, the tree (its commit and uncommitted Kconfig edits), the
# compiler, or the installed .config itself.
config_key() {
	{
		printf '%s\n' "$src"
		cat "${frags[@]}"
		[[ -z $debian_file ]] || sha256sum <"$debian_file"
		git -C "$src" rev-parse -q --verify HEAD 2>/dev/null || echo "no git"
		git -C "$src" diff HEAD -- '*Kconfig*' 2>/dev/null || true
		"${CROSS}gcc" --version | head -n 1
		sha256sum <"$out/.config" 2>/dev/null || echo "no config"
	} | sha256sum | cut -d' ' -f1
}
if [[ -f $out/.config && $(cat "$out/.krsi-config-key" 2>/dev/null) == "$(config_key)" ]]; then
	info "config of $(basename "$out") up to date"
else
	# Generate the config in a scratch directory and install it only when it
	# differs, so that an unchanged config never triggers a rebuild.
	cfgdir=$out.config-tmp
	rm -rf "$cfgdir"
	mkdir -p "$cfgdir"
	if [[ -n $DEBIAN_CONFIG ]]; then
		debian_config "$DEBIAN_CONFIG" "$src" "$cfgdir"
	else
		kmake "$src" "$cfgdir" -s tinyconfig >/dev/null
	fi
	"$src/scripts/kconfig/merge_config.sh" -m -O "$cfgdir" "$cfgdir/.config" \
		"${frags[@]}" >"$cfgdir/merge.log" 2>&1 ||
		{ cat "$cfgdir/merge.log" >&2; die "merge_config.sh failed"; }
	kmake "$src" "$cfgdir" -s olddefconfig >/dev/null

	# The value each option should have: the last fragment that names it wins.
	wanted=$(cat "${frags[@]}" | awk '
		/^CONFIG_[A-Za-z0-9_]+=n$/ { sub(/=n$/, ""); want[$0] = "# " $0 " is not set"; order[n++] = $0; next }
		/^CONFIG_[A-Za-z0-9_]+=/ { o = $0; sub(/=.*/, "", o); want[o] = $0; order[n++] = o; next }
		/^# CONFIG_[A-Za-z0-9_]+ is not set$/ { o = $2; want[o] = $0; order[n++] = o; next }
		END { for (i = 0; i < n; i++) if (!(order[i] in done)) { done[order[i]] = 1; print order[i] "\t" want[order[i]] } }')
	bad=0
	while IFS=$'\t' read -r opt want; do
		have=$(grep -E "^($opt=|# $opt is not set)" "$cfgdir/.config" || true)
		if [[ $want == "# $opt is not set" && -z $have ]]; then
			continue
		fi
		# build-each builds patches that come before an option exists.
		if [[ -z $have && ${KCONFIG_UNDEFINED_OK:-0} == 1 ]] &&
			! grep -rqsE "^[[:space:]]*(menu)?config ${opt#CONFIG_}\$" \
				--include='Kconfig*' "$src"; then
			info "config: $opt is not defined in this tree yet"
			continue
		fi
		if [[ $have != "$want" ]]; then
			warn "config: wanted '$want', got '${have:-<absent>}'"
			bad=1
		fi
	done <<<"$wanted"
	((bad == 0)) || die "the config fragments did not apply (see above): a dependency is missing"
	# CONFIG=debian: whatever Debian builds in stays built in, unless the
	# fragment says otherwise.
	if [[ -n $DEBIAN_CONFIG ]]; then
		lost=$(comm -23 <(xz -dc "$debian_file" | grep -E '^CONFIG_[A-Za-z0-9_]+=y$' | sort) \
			<(grep -E '^CONFIG_[A-Za-z0-9_]+=y$' "$cfgdir/.config" | sort) |
			grep -v -F -x -f <(cut -f1 <<<"$wanted" | sed 's/$/=y/') || true)
		[[ -z $lost ]] || die "Debian's config loses what it builds in:" $lost
	fi

	if ! cmp -s "$cfgdir/.config" "$out/.config"; then
		info "installing new .config in $out"
		cp "$cfgdir/.config" "$out/.config"
		kmake "$src" "$out" -s olddefconfig >/dev/null
	fi
	rm -rf "$cfgdir"
	config_key >"$out/.krsi-config-key"
fi

# GCOV=1: gcov profiling of each C file the series adds or changes under
# kernel/ and security/ (kbuild names objects by file name only, so a file
# elsewhere with the same name is profiled too, which does no harm).
profile=()
if [[ $FLAVOUR == gcov ]]; then
	while IFS= read -r f; do
		f=${f##*/}
		profile+=("GCOV_PROFILE_${f%.c}.o=y")
	done < <(git -C "$src" diff --name-only krsi-base..HEAD -- 'kernel/*.c' 'security/*.c')
	((${#profile[@]})) || die "GCOV=1: the tree changes no C file under kernel/ or security/"
fi

target=${KERNEL_TARGET:-${KIMAGE##*/}}
[[ $target == "${KIMAGE##*/}" || $target == prepare ]] ||
	die "KERNEL_TARGET=$target: kernel.sh builds ${KIMAGE##*/} (the default) or prepare"
info "building $(basename "$out")${KERNEL_TARGET:+ up to $target} (log: $out/build.log)"
start=$SECONDS
if ! kmake "$src" "$out" -s -j"$(jobs)" "${profile[@]}" "$target" >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	die "kernel build failed; full log in $out/build.log"
fi
grep -E 'warning:|error:' "$out/build.log" >&2 || true
if [[ $target == prepare ]]; then
	info "prepared $out for a build in $((SECONDS - start)) s"
else
	info "built $out/$KIMAGE in $((SECONDS - start)) s"
fi
