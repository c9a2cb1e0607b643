#!/bin/sh
# The kernel the VM tests (tests/vm/run.sh) boot and build the module
# against, fetched and unpacked once:
#
#   - Debian bookworm's 6.1 kernel: the linux-image package that
#     linux-image-amd64 depends on, its headers (amd64 + common) and
#     linux-kbuild-6.1, downloaded with 'apt-get download' and unpacked with
#     'dpkg -x' (not installed) into .cache/kernel/root
#   - the headers' Makefile fixed to work from there, and the uncompressed
#     vmlinux extracted from vmlinuz for qemu's -kernel (PVH entry)
#
# Then writes .cache/kernel/env.sh (for sourcing) and prints it:
#   KVER     the kernel release, e.g. 6.1.0-56-amd64
#   KDIR     headers to build modules against: make -C "$KDIR" M=<dir>
#   VMLINUX  the kernel to boot
#   MODDIR   the image's /lib/modules/$KVER (veth.ko and the rest)
#
# It installs no package: the vm group of scripts/packages.txt (qemu,
# busybox-static, ...) must be there already (make deps, which also runs
# this script). As root; idempotent: when everything is in place it only
# checks (well under a second).
#
#   sh scripts/vm-deps.sh --check   fetch nothing: print env.sh if the kernel
#                                   is in place, else say so and exit 1 (the
#                                   VM tests, make check)
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
CACHE="$ROOT/.cache/kernel"
ENV="$CACHE/env.sh"

say() { echo "vm-deps: $*" >&2; }
die() { say "$*"; exit 1; }

# cache_ok: env.sh names a complete unpacked kernel
cache_ok() {
	[ -f "$ENV" ] || return 1
	# shellcheck disable=SC1090
	(. "$ENV" && [ -f "$VMLINUX" ] && [ -f "$KDIR/Makefile" ] &&
		[ -d "$KDIR/scripts/" ] && [ -d "$MODDIR/kernel" ] &&
		[ "$(cat "$CACHE/.done" 2>/dev/null)" = "$KVER $KDIR" ])
}

if cache_ok; then
	cat "$ENV"
	exit 0
fi
[ "${1:-}" != --check ] ||
	die "no kernel in .cache/kernel; to fetch it, run as root: make deps"
# shellcheck disable=SC2046
missing=$(missing_packages $(packages vm))
[ -z "$missing" ] ||
	die "missing packages:$missing; to install them, run as root: make deps"
[ "$(id -u)" -eq 0 ] || die "needs root (apt-get)"
mkdir -p "$CACHE"

# One at a time: two runs at once would unpack over each other.
exec 9>"$CACHE/.lock"
flock 9

if cache_ok; then	# another run finished it while we waited for the lock
	cat "$ENV"
	exit 0
fi

updated=
apt_update() {
	[ -n "$updated" ] && return 0
	updated=1
	apt-get update -qq >/dev/null || apt-get update
}

# The versioned image package linux-image-amd64 depends on: 6.1.0-NN-amd64
image_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.[0-9.-]*-amd64\)$/\1/p' | head -1
}
pkg=$(image_pkg)
if [ -z "$pkg" ]; then
	apt_update
	pkg=$(image_pkg)
fi
[ -n "$pkg" ] || die "apt-cache depends linux-image-amd64 names no linux-image-6.1 package"
KVER=${pkg#linux-image-}		# 6.1.0-NN-amd64
ABI=${KVER%-amd64}			# 6.1.0-NN
say "kernel $KVER"

DEBS="$CACHE/debs"
rm -rf "$DEBS"
mkdir -p "$DEBS"
fetch() {
	# As root in a folder _apt cannot read, apt prints a harmless warning
	# about downloading unsandboxed: keep it out of the output.
	(cd "$DEBS" && apt-get download -qq "linux-image-$ABI-amd64" \
		"linux-headers-$ABI-amd64" "linux-headers-$ABI-common" \
		linux-kbuild-6.1 2>&1 | grep -v 'unsandboxed' >&2) || true
	[ "$(find "$DEBS" -name '*.deb' | wc -l)" -eq 4 ]
}
if ! fetch; then
	apt_update
	rm -f "$DEBS"/*.deb
	fetch || die "apt-get download of the kernel packages failed"
fi

# Unpack into a fresh tree, then move it into place.
rm -rf "$CACHE/root.new" "$CACHE/root"
mkdir -p "$CACHE/root.new"
for d in "$DEBS"/*.deb; do
	dpkg -x "$d" "$CACHE/root.new"
done
mv "$CACHE/root.new" "$CACHE/root"
rm -rf "$DEBS"		# 85 MB we no longer need

KDIR="$CACHE/root/usr/src/linux-headers-$KVER"
MODDIR="$CACHE/root/lib/modules/$KVER"
VMLINUX="$CACHE/vmlinux"
[ -f "$KDIR/Makefile" ] || die "no $KDIR/Makefile"

# The headers' Makefile includes /usr/src/linux-headers-$ABI-common/Makefile
# by absolute path: make it relative to the Makefile itself.
sed -i "s|^include /usr/src/linux-headers-$ABI-common/Makefile\$|include \$(dir \$(lastword \$(MAKEFILE_LIST)))../linux-headers-$ABI-common/Makefile|" \
	"$KDIR/Makefile"
grep -q "^include \$(dir" "$KDIR/Makefile" ||
	die "unexpected $KDIR/Makefile: $(cat "$KDIR/Makefile")"

# scripts/ and tools/ are symlinks into linux-kbuild-6.1: they must resolve
# inside the unpacked tree, not to the host's /usr/lib.
for l in scripts tools; do
	t=$(readlink "$KDIR/$l" || true)
	case "$t" in
	/*)	ln -sfn "../../lib/linux-kbuild-6.1/$l" "$KDIR/$l" ;;
	esac
	[ -d "$KDIR/$l/" ] || die "$KDIR/$l does not resolve"
done
[ -x "$KDIR/scripts/mod/modpost" ] || die "no modpost in $KDIR/scripts/mod"

# vmlinux from vmlinuz: the payload is an xz stream (magic FD 37 7A 58 5A 00)
# holding the ELF kernel. Try each magic until one decompresses to an ELF.
VMLINUZ="$CACHE/root/boot/vmlinuz-$KVER"
[ -f "$VMLINUZ" ] || die "no $VMLINUZ"
rm -f "$VMLINUX" "$VMLINUX.new"
for off in $(LC_ALL=C grep -obUaP '\xFD7zXZ\x00' "$VMLINUZ" | cut -d: -f1); do
	# xz complains about the 4-byte size the kernel appends after the
	# stream: what counts is the ELF that comes out.
	tail -c +$((off + 1)) "$VMLINUZ" | xz -dcq >"$VMLINUX.new" 2>/dev/null || true
	if [ "$(od -An -tx1 -N4 "$VMLINUX.new" | tr -d ' ')" = 7f454c46 ]; then
		mv "$VMLINUX.new" "$VMLINUX"
		break
	fi
done
rm -f "$VMLINUX.new"
[ -f "$VMLINUX" ] || die "no xz-compressed ELF found in $VMLINUZ"

cat >"$ENV" <<EOF
KVER=$KVER
KDIR=$KDIR
VMLINUX=$VMLINUX
MODDIR=$MODDIR
EOF
echo "$KVER $KDIR" >"$CACHE/.done"
cat "$ENV"
