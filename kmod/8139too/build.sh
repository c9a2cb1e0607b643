#!/bin/sh
# Builds 8139too.ko with PF_ZEROCOPY's contiguous-ring receive, netmap-style:
# Debian's own 8139too.c, patched at build time, plus our files.
#
#   sh kmod/8139too/build.sh KDIR OUTDIR     -> OUTDIR/8139too.ko
#
# KDIR: the kernel build tree (headers) to build against, whose
# pf_zerocopy.ko was built in PFZC_KMOD (kmod/ unless set: its
# Module.symvers gives the symbols, its pfzc_driver.h the driver API, and
# ../include the ring ABI). The source comes from
# /usr/src/linux-source-6.1.tar.xz (the Debian package linux-source-6.1,
# scripts/packages.txt group vm), unpacked once into RTL8139_CACHE/VERSION/
# (.cache/8139too unless set); nothing of it is kept in this repository.
# Fails, saying so, when the package is missing or the patch does not
# apply to its version.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PFZC_KMOD=${PFZC_KMOD:-$ROOT/kmod}
RTL8139_CACHE=${RTL8139_CACHE:-$ROOT/.cache/8139too}
TARBALL=/usr/src/linux-source-6.1.tar.xz
die() { echo "8139too: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: build.sh KDIR OUTDIR"
KDIR=$1
OUT=$2
[ -f "$KDIR/Makefile" ] || die "no kernel build tree at $KDIR"
[ -f "$PFZC_KMOD/Module.symvers" ] || die "build pf_zerocopy.ko first ($PFZC_KMOD/Module.symvers is missing)"
[ -f "$TARBALL" ] || die "no $TARBALL: apt-get install linux-source-6.1 (make deps)"
VER=$(dpkg-query -W -f '${Version}' linux-source-6.1 2>/dev/null) || VER=unknown
SRC="$RTL8139_CACHE/$VER"

if [ ! -f "$SRC/.done" ]; then
	rm -rf "$SRC"
	mkdir -p "$SRC"
	tar -xJf "$TARBALL" -C "$SRC" --strip-components=5 \
		linux-source-6.1/drivers/net/ethernet/realtek/8139too.c ||
		die "cannot unpack 8139too.c from $TARBALL"
	[ -f "$SRC/8139too.c" ] || die "no 8139too.c in $TARBALL"
	touch "$SRC/.done"
fi

rm -rf "$OUT"
mkdir -p "$OUT"
cp "$SRC/8139too.c" "$OUT/"
if ! (cd "$OUT" && patch -p1 --forward --batch --quiet --no-backup-if-mismatch \
	<"$HERE/8139too-pfzc.patch"); then
	die "kmod/8139too/8139too-pfzc.patch does not apply to the 8139too of linux-source-6.1 $VER"
fi
# the module keeps its name; its own object may not share it
mv "$OUT/8139too.c" "$OUT/8139too-main.c"
cp "$HERE/rtl8139_pfzc.c" "$HERE/rtl8139_pfzc.h" "$HERE/Kbuild" "$OUT"/
echo "8139too: linux-source-6.1 $VER, patched; building against $KDIR"
make -C "$KDIR" M="$OUT" PFZC_KMOD="$PFZC_KMOD" \
	KBUILD_EXTRA_SYMBOLS="$PFZC_KMOD/Module.symvers" modules
[ -f "$OUT/8139too.ko" ] || die "no 8139too.ko in $OUT"
