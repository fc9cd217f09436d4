#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make distro": the series in Debian's own kernel configuration.
#
# For the base tree (build/base-linux) and for the series (build/linux):
# Debian's config.amd64_none_amd64 (of the base's version while the
# archive keeps it, else the newest: scripts/deps.sh), plus
# CONFIG_SECURITY_KRSI=y for the series, olddefconfig, then a W=1 C=2
# build (gcc's extra warnings and sparse on every file) of the kernel
# directories whose sources the series changes.  A warning of the series
# build that the base build does not have fails the run; the line numbers
# are left out of the comparison, since the series moves lines.
#
# Outputs: build/kbuild-distro-base, build/kbuild-distro (logs and the
# comparison in build/kbuild-distro/new-warnings.txt).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

config=$(debian_config_file amd64_none_amd64)
info "Debian config: $CONFIG_PACKAGE $(dpkg-query -W -f='${Version}' "$CONFIG_PACKAGE" 2>/dev/null || echo "not installed")"
[[ -f $config ]] || die "no $config; run 'scripts/deps.sh --distro-config'"
[[ -e $TREE/.git ]] || die "no work tree; run 'make tree'"
command -v sparse >/dev/null || die "sparse missing; run 'make deps'"

# The kernel directories the series changes C files in (not tools/,
# samples/ or Documentation/).
mapfile -t dirs < <(git -C "$TREE" diff --name-only krsi-base HEAD -- '*.c' |
	grep -v -E '^(tools|samples|Documentation|scripts)/' |
	xargs -r -n1 dirname | sort -u)
((${#dirs[@]})) || die "the series changes no kernel C file"
targets=()
for d in "${dirs[@]}"; do targets+=("$d/"); done
info "directories: ${targets[*]}"

"$KRSI_ROOT/scripts/base-kernel.sh" --tree-only

# Usage: build NAME TREE OUT [scripts/config args...]
build() {
	local name=$1 src=$2 out=$3 start=$SECONDS
	shift 3
	debian_config amd64_none_amd64 "$src" "$out"
	if (($#)); then
		"$src/scripts/config" --file "$out/.config" "$@"
	fi
	kmake "$src" "$out" -s olddefconfig >/dev/null
	for opt in "$@"; do
		[[ $opt == --enable ]] && continue
		grep -q "^CONFIG_$opt=y" "$out/.config" ||
			die "$name: CONFIG_$opt=y did not stick in Debian's config"
	done
	# Every object again, so that each run reports every warning (ccache
	# replays those of unchanged files).
	for t in "${targets[@]}"; do
		[[ -d $out/$t ]] && find "$out/$t" -name '*.o' -delete
	done
	info "$name: W=1 C=2 build of ${targets[*]} (log: $out/build.log)"
	if ! kmake "$src" "$out" -j"$(jobs)" W=1 C=2 "${targets[@]}" >"$out/build.log" 2>&1; then
		grep -E 'error' "$out/build.log" | head -n 20 >&2
		die "$name: the build failed; see $out/build.log"
	fi
	info "$name: built in $((SECONDS - start)) s," \
		"$(grep -c -E ': (warning|error):' "$out/build.log" || true) warning lines"
}

# One line per warning, without line and column, paths relative to the tree.
warnings() {
	grep -E '^[^ ]+:[0-9]+(:[0-9]+)?: (warning|error): ' "$1" |
		sed -E -e "s#^$2/##" -e 's#^\.\./##' \
			-e 's/^([^:]+):[0-9]+(:[0-9]+)?: /\1: /' | sort
}

build base "$BUILD/base-linux" "$BUILD/kbuild-distro-base"
build series "$TREE" "$BUILD/kbuild-distro" --enable SECURITY_KRSI

new=$BUILD/kbuild-distro/new-warnings.txt
comm -13 <(warnings "$BUILD/kbuild-distro-base/build.log" "$BUILD/base-linux") \
	<(warnings "$BUILD/kbuild-distro/build.log" "$TREE") >"$new" || true
gcc_new=$(grep -c '\[-W' "$new" || true)
sparse_new=$(grep -v -c '\[-W' "$new" || true)
info "new with the series: $gcc_new gcc W=1 warning(s), $sparse_new sparse warning(s)"
if [[ -s $new ]]; then
	cat "$new" >&2
	die "the series adds warnings in Debian's config (above; also in $new)"
fi
info "no new warning in Debian's config (W=1 and sparse)"
