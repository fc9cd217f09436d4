#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the harness needs; installs only what is missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PKGS=(
	# kernel build
	build-essential bc bison flex libelf-dev libssl-dev dwarves cpio kmod
	rsync python3 ccache git xz-utils
	# make deb
	dpkg-dev fakeroot debhelper
	# BPF selftests, libbpf, bpftool
	clang-16 llvm-16 lld-16 libcap-dev zlib1g-dev libzstd-dev
	# checks
	sparse python3-docutils codespell python3-ply python3-git
	# VM
	qemu-system-x86
)
# Another architecture (ARCH=NAME, scripts/lib.sh): its cross compiler,
# its QEMU, and debootstrap for its root file system (scripts/rootfs.sh).
if [[ -n $ASUFFIX ]]; then
	PKGS+=("gcc-${CROSS%-}" "$QEMU_PKG" debootstrap)
fi

want_base=$(base_version)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -q '^install ok installed$' || missing+=("$p")
done
# The base's source, and Debian's config of the same version (make distro).
for p in "$BASE_PACKAGE" "$CONFIG_PACKAGE"; do
	have=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || true)
	if [[ $have != "$want_base" ]]; then
		missing+=("$p=$want_base")
		# Never change an installed version silently.
		[[ -z $have ]] || warn "$p $have is installed; the series' base (patches/BASE) needs $want_base: it will be replaced"
	fi
done

if ((${#missing[@]} == 0)); then
	info "all packages present (base $BASE_PACKAGE and $CONFIG_PACKAGE $want_base)"
	exit 0
fi
[[ $(id -u) == 0 ]] || die "missing packages (${missing[*]}); run as root to install them"
info "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
if ! apt-get install -y -q --allow-downgrades "${missing[@]}"; then
	die "apt-get install failed; if $BASE_PACKAGE $want_base is no longer" \
	    "in the archive, rebase the series and update patches/BASE"
fi
