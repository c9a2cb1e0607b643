#!/bin/sh
# Builds e1000.ko with PF_ZEROCOPY's zero-copy receive, netmap-style:
# Debian's own e1000 sources, patched at build time, plus our files.
#
#   sh kmod/e1000/build.sh KDIR OUTDIR     -> OUTDIR/e1000.ko
#
# KDIR: the kernel build tree (headers) to build against, whose
# pf_zerocopy.ko was built in PFZC_KMOD (kmod/ unless set: its
# Module.symvers gives the symbols, its pfzc_driver.h the driver API).
# The sources come from /usr/src/linux-source-6.1.tar.xz (the Debian
# package linux-source-6.1, scripts/packages.txt group vm), unpacked once
# into E1000_CACHE/VERSION/ (.cache/e1000 unless set); nothing of them is
# kept in this repository. DKMS runs it too (dkms-make.sh).
# Fails, saying so, when the package is missing or the patch does not
# apply to its version.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PFZC_KMOD=${PFZC_KMOD:-$ROOT/kmod}
NAME=e1000
CACHE=${E1000_CACHE:-$ROOT/.cache/e1000}
. "$HERE/../nic-src.sh"

nic_src "$@" drivers/net/ethernet/intel/e1000 6 e1000_main.c
rm -rf "$OUT"
mkdir -p "$OUT"
cp "$SRC"/*.c "$SRC"/*.h "$OUT"/
nic_patch "$HERE/e1000-pfzc.patch"
cp "$HERE/e1000_pfzc.c" "$HERE/e1000_pfzc.h" "$HERE/Kbuild" "$OUT"/
echo "e1000: linux-source-6.1 $VER, patched; building against $KDIR"
make -C "$KDIR" M="$OUT" PFZC_KMOD="$PFZC_KMOD" \
	KBUILD_EXTRA_SYMBOLS="$PFZC_KMOD/Module.symvers" modules
[ -f "$OUT/e1000.ko" ] || die "no e1000.ko in $OUT"
