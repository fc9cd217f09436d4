#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make deb": Debian packages (bindeb-pkg) of the KRSI kernel built from
# the VM config, in build/deb/; with CONFIG=debian, of the kernel built
# from Debian's cloud config, with its modules, in build/deb-debian/.  The
# kernel build is the one of "make kernel" (build/kbuild, or
# build/kbuild-debian), so what is new is the modules and the packaging.
# No -dbg package (DEB_BUILD_PROFILES): its debug info is not what a test
# boot needs, and it is most of the packaging's time and size.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$BUILD/deb$SUFFIX
[[ -f $KBUILD/.config ]] || die "no configured kernel in $KBUILD; run 'make kernel'"
command -v dpkg-buildpackage >/dev/null || die "dpkg-dev missing; run 'make deps'"

# The packages' maintainer field, instead of the builder's user@host.
export DEBFULLNAME="KRSI developers" DEBEMAIL="krsi@example.org"
release=$(kmake "$TREE" "$KBUILD" -s kernelrelease)
version=$release-1
# bindeb-pkg writes the packages next to the build directory.
next=$(dirname "$KBUILD")
rm -f "$next"/*.deb "$next"/*.buildinfo "$next"/*.changes
log=$out.log
info "packaging $release (log: $log)"
start=$SECONDS
if ! DEB_BUILD_PROFILES=pkg.linux-upstream.nokerneldbg \
	kmake "$TREE" "$KBUILD" -s -j"$(jobs)" KDEB_PKGVERSION="$version" bindeb-pkg >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	die "bindeb-pkg failed; full log in $log"
fi
rm -rf "$out"
mkdir -p "$out"
mv "$next"/*.deb "$next"/*.buildinfo "$next"/*.changes "$out/"
image=$out/linux-image-${release}_${version}_amd64.deb
[[ -f $image ]] || die "no $image after bindeb-pkg"
contents=$(dpkg-deb -c "$image")
grep -q "boot/vmlinuz-$release\$" <<<"$contents" ||
	die "$image holds no /boot/vmlinuz-$release"
pkgconfig=$(dpkg-deb --fsys-tarfile "$image" | tar -xOf - "./boot/config-$release")
grep -q '^CONFIG_SECURITY_KRSI=y$' <<<"$pkgconfig" ||
	die "$image's config does not have CONFIG_SECURITY_KRSI=y"
modules=$(dpkg-deb -c "$image" | grep -c '\.ko\(\.[a-z]*\)\?$' || true)
info "packaged $release with $modules modules in $((SECONDS - start)) s; packages in $out:"
ls -1 "$out"/*.deb
