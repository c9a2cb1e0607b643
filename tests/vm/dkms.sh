#!/bin/sh
# The module's DKMS packaging (kmod/dkms.conf, make -C kmod dkms-tree):
# DKMS builds pf_zerocopy.ko from the tree `make -C kmod install` would put
# in /usr/src, against Debian's 6.1 headers (scripts/vm-deps.sh), in a
# private DKMS tree so the machine's own is not touched. TAP lines.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

skip_unless dkms "needs root (dkms)" is_root
TAP_PREFIX="dkms: "
sh scripts/vm-deps.sh --check >/dev/null 2>&1 || { not_ok "scripts/vm-deps.sh"; exit 1; }
. "$ROOT/.cache/kernel/env.sh"	# KVER KDIR
T=$(mktemp -d /tmp/zcap-dkms.XXXXXX)
trap 'rm -rf "$T"' EXIT
VER=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' kmod/dkms.conf)
SRC=$T/src/usr/src
D="--dkmstree $T/tree --sourcetree $SRC"
mkdir -p "$T/tree"

check "make -C kmod dkms-tree" make -s -C kmod dkms-tree DESTDIR="$T/src"
check "the tree holds the sources and the shared headers, nothing built" \
	sh -c "[ -f '$SRC/pf_zerocopy-$VER/dkms.conf' ] && [ -f '$SRC/pf_zerocopy-$VER/include/uapi/pf_zerocopy.h' ] &&
	       [ -f '$SRC/pf_zerocopy-$VER/include/pfzc_ring.h' ] &&
	       [ -z \"\$(find '$SRC' -name '*.o' -o -name '*.ko' -o -name '*.mod.c')\" ]"
# shellcheck disable=SC2086
check "dkms add" sh -c "dkms add -m pf_zerocopy -v $VER $D >'$T/add.log' 2>&1"
# shellcheck disable=SC2086
if dkms build -m pf_zerocopy -v "$VER" -k "$KVER" --kernelsourcedir "$KDIR" $D >"$T/build.log" 2>&1; then
	ok "dkms build for $KVER"
else
	not_ok "dkms build for $KVER"
	tail -20 "$T/build.log" | sed 's/^/# /'
	find "$T/tree" -name make.log -exec tail -20 {} \; | sed 's/^/# /'
fi
KO=$(find "$T/tree" -name pf_zerocopy.ko | head -1)
check "it made pf_zerocopy.ko" [ -n "$KO" ]
if [ -n "$KO" ]; then
	check "built for $KVER (vermagic)" sh -c "modinfo -F vermagic '$KO' | grep -q '^$KVER '"
	check "with the family and pairs parameters" \
		sh -c "modinfo -F parm '$KO' | grep -q '^family:' && modinfo -F parm '$KO' | grep -q '^pairs:'"
fi
tap_summary "# dkms: "
