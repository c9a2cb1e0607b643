# Shared by the NIC drivers' build scripts (kmod/e1000/build.sh,
# kmod/8139too/build.sh), sourced after they set HERE (their directory),
# NAME (the driver) and CACHE (where its sources are unpacked): the
# checks before a build and Debian's sources of the driver, unpacked once.
# Nothing of the kernel's sources is kept in this repository.
TARBALL=/usr/src/linux-source-6.1.tar.xz
die() { echo "$NAME: $*" >&2; exit 1; }

# nic_src KDIR OUTDIR MEMBER STRIP FILE: checks the arguments and what the
# build needs, then unpacks MEMBER of the tarball (a path under
# linux-source-6.1/, STRIP leading components dropped) into
# CACHE/VERSION/ unless there already, where FILE must then be. Sets KDIR,
# OUT, VER and SRC.
nic_src() {
	[ $# -eq 5 ] || die "usage: build.sh KDIR OUTDIR"
	KDIR=$1
	OUT=$2
	[ -f "$KDIR/Makefile" ] || die "no kernel build tree at $KDIR"
	[ -f "$PFZC_KMOD/Module.symvers" ] ||
		die "build pf_zerocopy.ko first ($PFZC_KMOD/Module.symvers is missing)"
	[ -f "$TARBALL" ] || die "no $TARBALL: apt-get install linux-source-6.1 (make deps)"
	VER=$(dpkg-query -W -f '${Version}' linux-source-6.1 2>/dev/null) || VER=unknown
	SRC="$CACHE/$VER"
	if [ ! -f "$SRC/.done" ]; then
		rm -rf "$SRC"
		mkdir -p "$SRC"
		tar -xJf "$TARBALL" -C "$SRC" --strip-components="$4" "linux-source-6.1/$3" ||
			die "cannot unpack the $NAME sources from $TARBALL"
		[ -f "$SRC/$5" ] || die "no $5 in $TARBALL"
		touch "$SRC/.done"
	fi
}

# nic_patch PATCH: applies PATCH in OUT, or fails saying it does not apply
nic_patch() {
	(cd "$OUT" && patch -p1 --forward --batch --quiet --no-backup-if-mismatch <"$1") ||
		die "kmod/$NAME/${1##*/} does not apply to the $NAME of linux-source-6.1 $VER"
}
