#!/bin/sh
# The module's DKMS packaging (kmod/dkms.conf, kmod/e1000/dkms.conf, make -C
# kmod dkms-tree): DKMS builds pf_zerocopy.ko, and the patched e1000.ko from
# Debian's linux-source-6.1, from the trees `make -C kmod install` would put
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
# add_build PKG: dkms add and build PKG for $KVER, the logs shown on failure
add_build() {
	# shellcheck disable=SC2086
	check "dkms add $1" sh -c "dkms add -m $1 -v $VER $D >'$T/add-$1.log' 2>&1"
	# shellcheck disable=SC2086
	if dkms build -m "$1" -v "$VER" -k "$KVER" --kernelsourcedir "$KDIR" $D >"$T/build-$1.log" 2>&1; then
		ok "dkms build $1 for $KVER"
	else
		not_ok "dkms build $1 for $KVER"
		tail -20 "$T/build-$1.log" | sed 's/^/# /'
		find "$T/tree/$1" -name make.log -exec tail -30 {} \; | sed 's/^/# /'
	fi
}
add_build pf_zerocopy
KO=$(find "$T/tree/pf_zerocopy" -name pf_zerocopy.ko | head -1)
check "it made pf_zerocopy.ko" [ -n "$KO" ]
if [ -n "$KO" ]; then
	check "built for $KVER (vermagic)" sh -c "modinfo -F vermagic '$KO' | grep -q '^$KVER '"
	check "with the family and pairs parameters" \
		sh -c "modinfo -F parm '$KO' | grep -q '^family:' && modinfo -F parm '$KO' | grep -q '^pairs:'"
fi

# the patched e1000 (pf_zerocopy-e1000), from Debian's linux-source-6.1
E=$SRC/pf_zerocopy-e1000-$VER
check "the e1000 tree holds the patch, our files, pf_zerocopy's sources and its dkms.conf at $VER" \
	sh -c "[ -f '$E/e1000/e1000-pfzc.patch' ] && [ -f '$E/e1000/e1000_pfzc.c' ] && [ -f '$E/main.c' ] &&
	       [ -f '$E/include/uapi/pf_zerocopy.h' ] && grep -q '^PACKAGE_VERSION=\"$VER\"' '$E/dkms.conf' &&
	       [ -z \"\$(find '$E' -name '*.o' -o -name '*.ko')\" ]"
add_build pf_zerocopy-e1000
KO=$(find "$T/tree/pf_zerocopy-e1000" -name e1000.ko | head -1)
check "it made e1000.ko (and no pf_zerocopy.ko to install twice)" \
	sh -c "[ -n '$KO' ] && [ -z \"\$(find '$T/tree/pf_zerocopy-e1000' -path '*/module/*' -name pf_zerocopy.ko)\" ]"
if [ -n "$KO" ]; then
	check "e1000.ko built for $KVER (vermagic), depends on pf_zerocopy" \
		sh -c "modinfo -F vermagic '$KO' | grep -q '^$KVER ' && modinfo -F depends '$KO' | grep -qw pf_zerocopy"
	# every pfzc_ symbol it imports has a CRC: pf_zerocopy's Module.symvers was used
	n_imp=$(modprobe --dump-modversions "$KO" 2>/dev/null | grep -c '[[:space:]]pfzc_')
	check "its $n_imp pfzc_ imports carry pf_zerocopy's symbol versions" [ "$n_imp" -ge 5 ]
fi
tap_summary "# dkms: "
