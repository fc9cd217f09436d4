# SPDX-License-Identifier: GPL-2.0
# Common settings and helpers for the KRSI harness; sourced, never run.

# Debian's own tools first: the harness installs what it needs from Debian.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

# Repository root and build directory (outside the kernel source tree).
KRSI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$KRSI_ROOT/build}
TREE=${TREE:-$BUILD/linux}
PATCHES=$KRSI_ROOT/patches
BASE_TARBALL=${BASE_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
BASE_PACKAGE=linux-source-6.12
# Debian's kernel configs (make distro; scripts/deps.sh --distro-config)
CONFIG_PACKAGE=linux-config-6.12

# make in kernel tree SRC with its output in OUT (O=), as every build of the
# harness runs it: ccache, no local version suffix.
# Usage: kmake SRC OUT [make arguments...]
kmake() {
	make -C "$1" O="$2" ARCH="$KARCH" CROSS_COMPILE="$CROSS" CC="ccache ${CROSS}gcc" \
		HOSTCC="ccache gcc" LOCALVERSION= "${@:3}"
}

# The kernel's build banner (uname -v) names these, not the build machine.
export KBUILD_BUILD_USER=krsi KBUILD_BUILD_HOST=krsi-build

# Identity used for the commits the harness itself makes (base commit).
export GIT_AUTHOR_NAME="KRSI harness" GIT_AUTHOR_EMAIL="krsi@localhost"
export GIT_COMMITTER_NAME="KRSI harness" GIT_COMMITTER_EMAIL="krsi@localhost"

die()  { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }
warn() { printf '%s: warning: %s\n' "${0##*/}" "$*" >&2; }
info() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

# The kernel flavour the targets build and run, each with its own kernel,
# samples, selftests and stress builds: the VM kernel; DEBUG=1, the debug
# kernel (KASAN, lockdep, kmemleak: configs/debug.config); KCSAN=1, the
# data-race detector (configs/kcsan.config); GCOV=1, the kernel of "make
# coverage" (configs/gcov.config, profiling the series' C files).
FLAVOUR=
for v in DEBUG KCSAN GCOV; do
	[[ ${!v:-0} =~ ^[01]$ ]] || die "$v takes 0 or 1, not '${!v}'"
	if [[ ${!v:-0} == 1 ]]; then
		[[ -z $FLAVOUR ]] ||
			die "DEBUG=1, KCSAN=1 and GCOV=1 exclude each other (KCSAN needs KASAN off)"
		FLAVOUR=${v,,}
	fi
done
SUFFIX=${FLAVOUR:+-$FLAVOUR}
FLAVOUR_CONFIG=${FLAVOUR:+$KRSI_ROOT/configs/$FLAVOUR.config}
# RT=1 makes that kernel a real-time one (configs/rt.config, after the
# flavour's fragment): "make test DEBUG=1 RT=1" is the debug kernel on
# PREEMPT_RT, in build/kbuild-debug-rt.
[[ ${RT:-0} =~ ^[01]$ ]] || die "RT takes 0 or 1, not '$RT'"
RT_CONFIG=
if [[ ${RT:-0} == 1 ]]; then
	RT_CONFIG=$KRSI_ROOT/configs/rt.config
	SUFFIX+=-rt
fi

# CONFIG=debian builds the kernel from Debian's own configuration for
# virtual machines, config.amd64_none_cloud-amd64 of linux-config-6.12,
# instead of the VM config: configs/debian.config adds KRSI and what the
# VM boot needs, and every other option stays Debian's.  The kernel and
# the selftests built against it go to build/kbuild-debian and
# build/selftests-debian.
CONFIG=${CONFIG:-vm}
DEBIAN_CONFIG=
case $CONFIG in
vm) ;;
debian)
	DEBIAN_CONFIG=amd64_none_cloud-amd64
	[[ -z $FLAVOUR$RT_CONFIG && ${KRSI_ARCH:-x86_64} == x86_64 ]] ||
		die "CONFIG=debian is Debian's x86_64 cloud kernel; it takes no DEBUG=1, KCSAN=1, GCOV=1, RT=1 or ARCH="
	SUFFIX+=-debian
	;;
*) die "CONFIG=$CONFIG: the harness knows CONFIG=vm (the default) and CONFIG=debian" ;;
esac

# The architecture the kernel, the selftests and the VM are built for
# (make ... ARCH=NAME; the top-level Makefile hands it over as KRSI_ARCH).
# x86_64 runs on the host's root file system; the others are cross-built
# with Debian's cross compilers against a root file system of their own
# (scripts/rootfs.sh), which the VM boots.  Per architecture: the kernel's
# ARCH, CROSS_COMPILE, the image QEMU boots, QEMU and its Debian package,
# Debian's name, and whether the JIT has BPF trampolines in the series'
# base (upstream's way of attaching LSM, fentry, fexit and fmod_ret
# programs).  The cross compiler's package is gcc-${CROSS%-}.  s390x is
# the big-endian one: the context tests run there on a kernel whose
# argument slots are filled most significant byte first.
KRSI_ARCH=${KRSI_ARCH:-x86_64}
case $KRSI_ARCH in
x86_64)  KARCH=x86     CROSS=                      KIMAGE=arch/x86/boot/bzImage
	 QEMU=qemu-system-x86_64  QEMU_PKG=qemu-system-x86  DEB_ARCH=amd64   TRAMPOLINES=1 ;;
i386)    KARCH=i386    CROSS=i686-linux-gnu-       KIMAGE=arch/x86/boot/bzImage
	 QEMU=qemu-system-i386    QEMU_PKG=qemu-system-x86  DEB_ARCH=i386    TRAMPOLINES=0 ;;
ppc64le) KARCH=powerpc CROSS=powerpc64le-linux-gnu- KIMAGE=vmlinux
	 QEMU=qemu-system-ppc64   QEMU_PKG=qemu-system-ppc  DEB_ARCH=ppc64el TRAMPOLINES=0 ;;
arm)     KARCH=arm     CROSS=arm-linux-gnueabihf-  KIMAGE=arch/arm/boot/zImage
	 QEMU=qemu-system-arm     QEMU_PKG=qemu-system-arm  DEB_ARCH=armhf   TRAMPOLINES=0 ;;
arm64)   KARCH=arm64   CROSS=aarch64-linux-gnu-    KIMAGE=arch/arm64/boot/Image
	 QEMU=qemu-system-aarch64 QEMU_PKG=qemu-system-arm  DEB_ARCH=arm64   TRAMPOLINES=1 ;;
s390x)   KARCH=s390    CROSS=s390x-linux-gnu-      KIMAGE=arch/s390/boot/bzImage
	 QEMU=qemu-system-s390x   QEMU_PKG=qemu-system-misc DEB_ARCH=s390x   TRAMPOLINES=1 ;;
*) die "ARCH=$KRSI_ARCH: the harness knows x86_64, i386, ppc64le, arm, arm64 and s390x" ;;
esac
# The base's libbpf opens and links BPF objects of the host's byte order
# only (bpf_object__check_endianness(), and the linker's check of the ELF
# header), so the host's bpftool cannot make a big-endian target's
# skeletons: there, scripts/target-bpftool.sh builds the target's own
# bpftool and runs it under QEMU's user-mode emulator.
FOREIGN_ENDIAN=0
[[ $KRSI_ARCH != s390x ]] || FOREIGN_ENDIAN=1
# Build directories of another architecture carry its name.
ASUFFIX=
[[ $KRSI_ARCH == x86_64 ]] || ASUFFIX=-$KRSI_ARCH
[[ -z $FLAVOUR$RT_CONFIG || -z $ASUFFIX ]] ||
	die "DEBUG=1, KCSAN=1, GCOV=1 and RT=1 are for x86_64; ARCH=$KRSI_ARCH takes none of them"
SUFFIX+=$ASUFFIX
ARCH_CONFIG=
[[ -z $ASUFFIX ]] || ARCH_CONFIG=$KRSI_ROOT/configs/arch-$KRSI_ARCH.config
# The root file system of a cross-built architecture (scripts/rootfs.sh);
# also the sysroot its user space is linked against, with CROSS_CC.
ROOTFS=$BUILD/rootfs$ASUFFIX
CROSS_CC="${CROSS}gcc --sysroot=$ROOTFS"

# Dies unless the root file system of the cross-built architecture is made.
require_rootfs() {
	[[ -f $ROOTFS/.krsi-rootfs ]] ||
		die "no root file system in $ROOTFS; run 'make rootfs ARCH=$KRSI_ARCH'"
}
# pkg-config of the cross build looks in the root file system only; sets
# TRIPLET to the multiarch name of its libraries.
cross_pkg_config() {
	require_rootfs
	TRIPLET=$(basename "$(dirname "$(find "$ROOTFS/usr/include" -maxdepth 2 -path '*-linux-gnu*/asm' -print -quit)")")
	[[ -n $TRIPLET && $TRIPLET != . ]] || die "no multiarch asm/ headers in $ROOTFS/usr/include"
	export PKG_CONFIG_SYSROOT_DIR=$ROOTFS
	export PKG_CONFIG_LIBDIR=$ROOTFS/usr/lib/$TRIPLET/pkgconfig:$ROOTFS/usr/share/pkgconfig
}
KBUILD=${KBUILD:-$BUILD/kbuild$SUFFIX}
SAMPLES=$BUILD/samples$SUFFIX
SELFTESTS=${SELFTESTS_OUT:-$BUILD/selftests$SUFFIX}
# A run on a sanitizer or real-time kernel is slower: VM time bounds are
# multiplied by this.  Another architecture runs under TCG, emulated
# instruction by instruction.
SLOWDOWN=1
[[ -n $FLAVOUR || -n $RT_CONFIG || -n $ASUFFIX ]] && SLOWDOWN=3
# Debian's kernel checks and hardens more (init_on_alloc, more LSMs).
[[ -n $DEBIAN_CONFIG ]] && SLOWDOWN=2

base_version() {
	[[ -s $PATCHES/BASE ]] || die "patches/BASE is missing or empty"
	head -n1 "$PATCHES/BASE"
}

# Unpack TARBALL, a linux-source-6.12 of Debian version VERSION, into the
# new directory DIR, and check that it holds that version of Linux.
# Usage: base_unpack DIR TARBALL VERSION
base_unpack() {
	local dir=$1 tarball=$2 want=$3 v p s
	rm -rf "$dir"
	mkdir -p "$dir"
	tar -C "$dir" -xf "$tarball" --strip-components=1 || die "cannot unpack $tarball"
	v=$(sed -n 's/^VERSION = //p' "$dir/Makefile")
	p=$(sed -n 's/^PATCHLEVEL = //p' "$dir/Makefile")
	s=$(sed -n 's/^SUBLEVEL = //p' "$dir/Makefile")
	[[ "$v.$p.$s" == "${want%%-*}" ]] ||
		die "$tarball holds Linux $v.$p.$s, not ${want%%-*} ($want)"
}

# Commit every file of DIR, the base of VERSION, into the repository
# GITDIR through the index file INDEX, as a commit without parent and with
# fixed dates (the same source gives the same commit); prints its id.
# Usage: base_commit GITDIR DIR VERSION INDEX
base_commit() {
	local gitdir=$1 dir=$2 want=$3 index=$4 tree
	(cd "$dir" && GIT_DIR=$gitdir GIT_WORK_TREE=$dir GIT_INDEX_FILE=$index git add -f -A .) ||
		die "cannot add $dir to $gitdir"
	tree=$(GIT_DIR=$gitdir GIT_INDEX_FILE=$index git write-tree)
	GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
		git --git-dir="$gitdir" commit-tree "$tree" \
		-m "Linux ${want%%-*} ($BASE_PACKAGE $want)"
}

# A git repository at DIR holding the base of VERSION from TARBALL: one
# commit (base_commit) on branch krsi, tagged krsi-base, with VERSION in
# its config as krsi.base.
# Usage: base_repo DIR TARBALL VERSION
base_repo() {
	local dir=$1 tarball=$2 want=$3 tmp=$1.tmp commit
	base_unpack "$tmp" "$tarball" "$want"
	git -C "$tmp" init -q -b krsi
	git -C "$tmp" config core.abbrev 12
	git -C "$tmp" config gc.auto 0
	commit=$(base_commit "$tmp/.git" "$tmp" "$want" "$tmp/.git/index")
	git -C "$tmp" update-ref refs/heads/krsi "$commit"
	git -C "$tmp" tag krsi-base
	git -C "$tmp" config krsi.base "$want"
	mv "$tmp" "$dir"
}

# Set the array "offered" to the versions of Debian package NAME that
# apt's sources offer, newest first (after "apt-get update"); die when
# they offer none.
# Usage: archive_versions NAME
archive_versions() {
	mapfile -t offered < <(apt-cache madison "$1" |
		awk -F'|' '{ gsub(/ /, "", $2); print $2 }' | sort -u -r -V)
	((${#offered[@]})) ||
		die "the archive has no $1: Debian 12's security suite" \
		    "(bookworm-security) must be in apt's sources"
}

# Debian's archive, from which every root of the harness is bootstrapped.
DEBIAN_MIRROR=http://deb.debian.org/debian
DEBIAN_SECURITY_MIRROR=http://deb.debian.org/debian-security

# A minimal (minbase) Debian SUITE in DIR, from DEBIAN_MIRROR; OPTION...
# go to debootstrap (--include=, --foreign, --arch=).  Dies with the end of
# LOG when debootstrap fails.
# Usage: debootstrap_root SUITE DIR LOG [OPTION...]
debootstrap_root() {
	local suite=$1 dir=$2 log=$3
	shift 3
	if ! debootstrap --variant=minbase "$@" "$suite" "$dir" "$DEBIAN_MIRROR" >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		die "debootstrap of $suite failed; full log in $log"
	fi
}

# Apt's sources in the bootstrapped root DIR: SUITE, its updates and its
# security suite, so that apt-get there sees what a Debian install sees.
# Usage: apt_sources SUITE DIR
apt_sources() {
	printf 'deb %s %s main\n' \
		"$DEBIAN_MIRROR" "$1" \
		"$DEBIAN_MIRROR" "$1-updates" \
		"$DEBIAN_SECURITY_MIRROR" "$1-security" >"$2/etc/apt/sources.list"
}

# Whether WORD is one of the other arguments.
# Usage: one_of WORD [ITEM...]
one_of() {
	local w=$1 i
	shift
	for i; do
		[[ $i == "$w" ]] && return 0
	done
	return 1
}

# The series' patch files in order, without the cover letter.
series_files() {
	find "$PATCHES" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' \
		! -name '0000-*' | LC_ALL=C sort
}

# A digest of everything in patches/ that defines the tree.
series_digest() {
	{ base_version; series_files | xargs -r cat; } | sha256sum | cut -d' ' -f1
}

jobs() { nproc; }

# The file of Debian's kernel config NAME (config.NAME.xz of linux-config-6.12).
# Usage: debian_config_file NAME
debian_config_file() { echo "/usr/src/$CONFIG_PACKAGE/config.$1.xz"; }

# Debian's kernel config NAME (config.NAME.xz of linux-config-6.12) as the
# .config of build directory OUT, for kernel tree SRC, without Debian's
# signing keys and certificates, which are not in the source package: the
# build makes a key of its own to sign the modules with.
# Usage: debian_config NAME SRC OUT
debian_config() {
	local file
	file=$(debian_config_file "$1")
	[[ -f $file ]] || die "no $file; run 'scripts/deps.sh --distro-config'"
	mkdir -p "$3"
	xz -dc "$file" >"$3/.config"
	"$2/scripts/config" --file "$3/.config" \
		--set-str SYSTEM_TRUSTED_KEYS "" --set-str SYSTEM_REVOCATION_KEYS "" \
		--set-str MODULE_SIG_KEY "certs/signing_key.pem"
}

# Build a harness program that runs in the VM (bench/, stress/) against
# the tree's libbpf from "make samples": each OBJ.bpf.c of SRC into a BPF
# object and its skeleton, then PROG.c, all into BIN.
# Usage: build_bpf_tool SRC BIN SAMPLES BPFTOOL PROG OBJ...
build_bpf_tool() {
	local src=$1 bin=$2 samples=$3 bpftool=$4 prog=$5 obj
	shift 5
	mkdir -p "$bin"
	for obj; do
		/usr/lib/llvm-16/bin/clang -g -O2 --target=bpf -Wall -I"$samples" \
			-I"$samples/libbpf/include" -c "$src/$obj.bpf.c" -o "$bin/$obj.bpf.o"
		"$bpftool" gen skeleton "$bin/$obj.bpf.o" name "$obj" >"$bin/$obj.skel.h"
	done
	gcc -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -I"$bin" -I"$src" \
		-I"$samples/libbpf/include" -I"$TREE/tools/include/uapi" "$src/$prog.c" \
		"$samples/libbpf/libbpf.a" -lelf -lz -lpthread -o "$bin/$prog"
}

# Build krsi_stress (stress/) for the current flavour, against its
# samples' libbpf, into $BUILD/stress/bin$SUFFIX; sets KRSI_STRESS to it.
build_krsi_stress() {
	local bpftool=$BUILD/bpftool/bpftool bin=$BUILD/stress/bin$SUFFIX
	[[ -f $SAMPLES/libbpf/libbpf.a && -f $SAMPLES/vmlinux.h && -x $bpftool ]] ||
		die "no libbpf, vmlinux.h or bpftool from 'make samples' in $SAMPLES"
	build_bpf_tool "$KRSI_ROOT/stress" "$bin" "$SAMPLES" "$bpftool" krsi_stress stress slot
	KRSI_STRESS=$bin/krsi_stress
}

# Whether KVM works: the firmware of a KVM guest with the CPU model the
# run uses must print its banner within two seconds.  On hosts where
# nested KVM is broken QEMU aborts at once or hangs.
# Sets kvm_why to the reason when it does not.
kvm_works() {
	local probe out
	[[ -r /dev/kvm && -w /dev/kvm ]] || { kvm_why="no usable /dev/kvm"; return 1; }
	probe=$(mktemp)
	# In a subshell, whose report of an aborted QEMU goes nowhere.
	(timeout -k 1 2 qemu-system-x86_64 -accel kvm -cpu host -machine q35 -m 64 \
		-display none -nodefaults -no-reboot \
		-chardev "file,id=fw,path=$probe" -device isa-debugcon,iobase=0x402,chardev=fw \
		</dev/null >/dev/null 2>"$probe.err"; true) 2>/dev/null
	out=$(head -c 7 "$probe")
	kvm_why=$(grep -m1 -i 'error' "$probe.err" || true)
	rm -f "$probe" "$probe.err"
	[[ $out == SeaBIOS ]] || { kvm_why=${kvm_why:-"the KVM guest did not start"}; return 1; }
}

# Run scripts/vmtest.sh with the given options and command; sets VM_RC to
# its status and VM_RUNDIR to its run directory (read back through -r, as
# build/vm/latest may be another VM's by then).
run_vm() {
	local runfile

	runfile=$(mktemp)
	VM_RC=0
	"$KRSI_ROOT/scripts/vmtest.sh" -r "$runfile" "$@" || VM_RC=$?
	VM_RUNDIR=$(cat "$runfile")
	rm -f "$runfile"
	[[ -n $VM_RUNDIR ]] || die "the VM did not start (status $VM_RC)"
}
