#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the harness needs; installs only what is
# missing, and only what the target being made needs.
#
# Usage: deps.sh [--distro-config] [--cleanroot] [--debian-system]
#   --distro-config  also Debian's kernel configs (linux-config-6.12), for
#                    the targets that start from Debian's config (make
#                    distro, CONFIG=debian)
#   --cleanroot      also debootstrap, for the clean-root check (make cleanroot)
#   --debian-system  Debian's configs, debootstrap and mkfs.ext4, for the
#                    Debian system of make boot-debian
#
# linux-source-6.12 is pinned to the version patches/BASE names: the series
# is applied to that tarball.  Debian's security archive keeps a few older
# versions of it, and only the newest linux-config-6.12; a pinned version
# that has left the archive is reported with the way out (make rebase).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

distro_config=0
PKGS=(
	# kernel build
	build-essential bc bison flex libelf-dev libssl-dev dwarves cpio kmod
	rsync python3 ccache git xz-utils openssl
	# make deb
	dpkg-dev fakeroot debhelper
	# BPF selftests, libbpf, bpftool
	clang-16 llvm-16 lld-16 libcap-dev zlib1g-dev libzstd-dev
	# checks
	sparse python3-docutils codespell python3-ply python3-git
	# VM; the x86_64 guest runs on the host's root, where its init
	# (scripts/vm-init.sh) brings the loopback interface up with ip
	qemu-system-x86 iproute2
)
while (($#)); do
	case $1 in
	--distro-config) distro_config=1 ;;
	--cleanroot) PKGS+=(debootstrap) ;;
	--debian-system) distro_config=1 PKGS+=(debootstrap e2fsprogs) ;;
	*) die "usage: deps.sh [--distro-config] [--cleanroot] [--debian-system]" ;;
	esac
	shift
done
# Another architecture (ARCH=NAME, scripts/lib.sh): its cross compiler,
# its QEMU, and debootstrap for its root file system (scripts/rootfs.sh).
if [[ -n $ASUFFIX ]]; then
	PKGS+=("gcc-${CROSS%-}" "$QEMU_PKG" debootstrap)
	# The other byte order: its bpftool runs under qemu-user (lib.sh).
	((FOREIGN_ENDIAN == 0)) || PKGS+=(qemu-user)
fi

installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

want_base=$(base_version)
missing=()
for p in "${PKGS[@]}"; do
	installed "$p" || missing+=("$p")
done
have=$(dpkg-query -W -f='${Version}' "$BASE_PACKAGE" 2>/dev/null || true)
base_missing=0
[[ $have == "$want_base" ]] || base_missing=1
config_missing=0
((distro_config)) && ! installed "$CONFIG_PACKAGE" && config_missing=1

if ((${#missing[@]} == 0 && base_missing == 0 && config_missing == 0)); then
	extra=
	((distro_config)) &&
		extra=", $CONFIG_PACKAGE $(dpkg-query -W -f='${Version}' "$CONFIG_PACKAGE")"
	info "all packages present (base $BASE_PACKAGE $want_base$extra)"
	exit 0
fi
if [[ $(id -u) != 0 ]]; then
	((base_missing)) && missing+=("$BASE_PACKAGE=$want_base")
	((config_missing)) && missing+=("$CONFIG_PACKAGE")
	die "missing packages (${missing[*]}); run as root to install them"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q || die "apt-get update failed"

if ((base_missing)); then
	archive_versions "$BASE_PACKAGE"
	if ! one_of "$want_base" "${offered[@]}"; then
		die "$BASE_PACKAGE $want_base, the series' base (patches/BASE), is no" \
		    "longer in Debian's archive, which has ${offered[*]}; run" \
		    "'make rebase' to move the series to ${offered[0]}"
	fi
	# Never change an installed version silently.
	[[ -z $have ]] || warn "$BASE_PACKAGE $have is installed; the series' base (patches/BASE) needs $want_base: it will be replaced"
	missing+=("$BASE_PACKAGE=$want_base")
fi
# Debian's config of the base's version when the archive still has it,
# otherwise its newest (olddefconfig fills in what differs between two
# point releases); never pinned to a version the archive dropped.
if ((config_missing)); then
	archive_versions "$CONFIG_PACKAGE"
	if one_of "$want_base" "${offered[@]}"; then
		missing+=("$CONFIG_PACKAGE=$want_base")
	else
		info "note: $CONFIG_PACKAGE $want_base has left the archive; installing its newest, ${offered[0]}"
		missing+=("$CONFIG_PACKAGE=${offered[0]}")
	fi
fi

info "installing: ${missing[*]}"
# Only what is listed: a package the harness needs but does not list
# must not come in as another one's recommendation (make cleanroot).
apt-get install -y -q --no-install-recommends --allow-downgrades "${missing[@]}" ||
	die "apt-get install failed"
