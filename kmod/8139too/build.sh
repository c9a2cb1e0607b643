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
NAME=8139too
CACHE=${RTL8139_CACHE:-$ROOT/.cache/8139too}
. "$HERE/../nic-src.sh"

nic_src "$@" drivers/net/ethernet/realtek/8139too.c 5 8139too.c
rm -rf "$OUT"
mkdir -p "$OUT"
cp "$SRC/8139too.c" "$OUT/"
nic_patch "$HERE/8139too-pfzc.patch"
# the module keeps its name; its own object may not share it
mv "$OUT/8139too.c" "$OUT/8139too-main.c"
cp "$HERE/rtl8139_pfzc.c" "$HERE/rtl8139_pfzc.h" "$HERE/Kbuild" "$OUT"/
echo "8139too: linux-source-6.1 $VER, patched; building against $KDIR"
make -C "$KDIR" M="$OUT" PFZC_KMOD="$PFZC_KMOD" \
	KBUILD_EXTRA_SYMBOLS="$PFZC_KMOD/Module.symvers" modules
[ -f "$OUT/8139too.ko" ] || die "no 8139too.ko in $OUT"
