#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Debian's auditd and ausearch for the VM ("make run" shows KRSI's audit
# records through them), unpacked into $BUILD/auditd/root and never
# installed on this machine: installing auditd would start it here.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PKGS=(auditd libauparse0 libwrap0)
dir=$BUILD/auditd
root=$dir/root

if [[ -x $root/sbin/auditd && -x $root/sbin/ausearch ]]; then
	info "auditd unpacked in $root"
	exit 0
fi
rm -rf "$dir"
mkdir -p "$dir/debs"
download() { (cd "$dir/debs" && apt-get download -q "${PKGS[@]}"); }
if ! download 2>"$dir/download.log"; then
	[[ $(id -u) == 0 ]] || die "cannot download ${PKGS[*]}; see $dir/download.log"
	apt-get update -q
	download 2>"$dir/download.log" ||
		die "cannot download ${PKGS[*]}; see $dir/download.log"
fi
for deb in "$dir"/debs/*.deb; do
	dpkg-deb -x "$deb" "$root"
done
[[ -x $root/sbin/auditd && -x $root/sbin/ausearch ]] ||
	die "the packages did not unpack auditd and ausearch into $root"
info "auditd unpacked in $root ($(dpkg-deb -f "$dir"/debs/auditd_*.deb Version))"
