#!/bin/sh
# DKMS's build of pf_zerocopy-e1000 (e1000/dkms.conf), run in its build
# directory, which holds pf_zerocopy's sources too: pf_zerocopy.ko first,
# only for its Module.symvers (e1000.ko imports its symbols, and the same
# sources against the same kernel give the CRCs of the pf_zerocopy
# package's module, which DKMS installs), then Debian's e1000 patched
# (build.sh) into e1000-out/.
#
#   sh e1000/dkms-make.sh KDIR
set -eu
[ $# -eq 1 ] || { echo "usage: dkms-make.sh KDIR" >&2; exit 2; }
make -C "$1" M="$PWD" modules
PFZC_KMOD=$PWD E1000_CACHE=$PWD/e1000-src sh e1000/build.sh "$1" "$PWD/e1000-out"
