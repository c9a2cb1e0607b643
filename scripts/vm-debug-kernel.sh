#!/bin/sh
# A debug kernel for the VM tests: Debian's linux-source-6.1 built with the
# checkers that turn a silent memory or locking bug in kmod/ into a splat
# the harness fails on (KASAN generic inline, KFENCE, DEBUG_PAGEALLOC,
# lockdep with PROVE_LOCKING and PROVE_RCU, DEBUG_ATOMIC_SLEEP). The stock
# kernel of scripts/vm-deps.sh has none of them.
#
#   sh scripts/vm-debug-kernel.sh [kasan|kcsan]          build it (kasan by
#                                                        default), print env.sh
#   sh scripts/vm-debug-kernel.sh --check [kasan|kcsan]  build nothing: print
#                                                        env.sh if it is built,
#                                                        else say so, exit 1
#   sh scripts/vm-debug-kernel.sh --vm-check [kasan|kcsan] [GUEST.sh...]
#       tests/vm/run.sh on it (every guest script, in one boot, by default)
#       with more time and memory (VM_TIMEOUT=3600 VM_SCRIPT_TIMEOUT=1200
#       VM_MEM=2G unless set), then the kernel messages run.sh's
#       BUG/WARNING/Oops check does not see (hung tasks, RCU stalls, lock
#       debugging switched off, list corruption), and that the checkers
#       were really on; TAP lines, "vm-debug: N passed, N failed".
#       run.sh's variables pass through, e.g. VM_ENV=PFZC_RACE_SECS=180
#       for minutes of race stress (74-pfzc-race.sh)
#
# kcsan swaps KASAN/KFENCE for KCSAN (the two cannot be in one kernel): the
# data-race checker for the race tests.
#
# Config: make defconfig + kvm_guest.config, then the fragment below (what
# tests/vm/run.sh and the guest scripts use, the checkers, and no sound,
# drm, usb, wifi, netfilter, nfs or debug info, to keep the build short);
# every line of the fragment is verified in the final .config.
#
# Cache (never in the repository; .cache/ is git-ignored):
#   .cache/kernel-debug/src/linux-source-6.1   /usr/src/linux-source-6.1.tar.xz
#                                              unpacked, shared by the variants
#   .cache/kernel-debug/{build,root,env.sh}    kasan: build tree (also the
#                                              KDIR the module builds
#                                              against), modules_install
#                                              root, env.sh
#   .cache/kernel-debug/kcsan/{build,root,env.sh}   the same for kcsan
#   .../build-time                             how long each build took (a line each)
#
# env.sh has the variables of scripts/vm-deps.sh's (KVER KDIR VMLINUX
# MODDIR; VMLINUX is the bzImage, see the build below): VM_KERNEL=debug
# sh tests/vm/run.sh boots it.
#
# It installs nothing: the debug group of scripts/packages.txt must be there
# (make vm-debug-kernel installs it). Idempotent: when the kernel is built
# for the current fragment it only checks (well under a second); after a
# change of the fragment, make rebuilds what changed. The build runs at
# nice 10 (KBUILD_NICE), make -j$(nproc) (KBUILD_JOBS); it logs its time in
# build-time (the first kasan build's is in README).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"

say() { echo "vm-debug-kernel: $*" >&2; }
die() { say "$*"; exit 1; }

check_only=0 vm_check=0
case "${1:-}" in
--check) check_only=1; shift ;;
--vm-check) vm_check=1; shift ;;
esac
VARIANT=${1:-kasan}
[ $# -eq 0 ] || shift
# The physical path: .cache may be a symlink shared by several work trees,
# and env.sh must stay right from each of them.
mkdir -p "$ROOT/.cache"
BASE="$(cd "$ROOT/.cache" && pwd -P)/kernel-debug"
case "$VARIANT" in
kasan) OUT="$BASE" ;;
kcsan) OUT="$BASE/kcsan" ;;
*) die "unknown variant '$VARIANT' (kasan or kcsan)" ;;
esac
TARBALL=/usr/src/linux-source-6.1.tar.xz
SRC="$BASE/src/linux-source-6.1"
B="$OUT/build"
ENV="$OUT/env.sh"

# The fragment. =n lines become "is not set"; every line is checked after
# olddefconfig (a symbol whose dependencies are missing would be dropped
# silently otherwise).
fragment() {
	cat <<EOF
CONFIG_LOCALVERSION="-zcap-$VARIANT"
CONFIG_LOCALVERSION_AUTO=n
CONFIG_MODULES=y
CONFIG_MODULE_UNLOAD=y
CONFIG_MODULE_SIG=n
CONFIG_MODVERSIONS=n
CONFIG_PVH=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_RD_GZIP=y
CONFIG_DEVTMPFS=y
CONFIG_DEVTMPFS_MOUNT=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_DEBUG_FS=y
CONFIG_NET_NS=y
CONFIG_USER_NS=y
CONFIG_PACKET=y
CONFIG_PACKET_DIAG=m
CONFIG_UNIX_DIAG=m
CONFIG_INET_DIAG=m
CONFIG_XDP_SOCKETS=y
CONFIG_XDP_SOCKETS_DIAG=m
CONFIG_BPF_SYSCALL=y
CONFIG_BPF_JIT=y
CONFIG_CGROUP_BPF=y
CONFIG_VETH=m
CONFIG_TUN=m
CONFIG_NET_IPGRE_DEMUX=m
CONFIG_NET_IPGRE=m
CONFIG_CAN=m
CONFIG_CAN_RAW=m
CONFIG_CAN_VCAN=m
CONFIG_NET_VENDOR_INTEL=y
CONFIG_E1000=m
CONFIG_NET_VENDOR_REALTEK=y
CONFIG_8139TOO=m
CONFIG_VIRTIO_NET=y
CONFIG_SOUND=n
CONFIG_DRM=n
CONFIG_AGP=n
CONFIG_USB_SUPPORT=n
CONFIG_WLAN=n
CONFIG_WIRELESS=n
CONFIG_CFG80211=n
CONFIG_RFKILL=n
CONFIG_NETFILTER=n
CONFIG_NFS_FS=n
CONFIG_DEBUG_INFO_NONE=y
CONFIG_DEBUG_INFO_BTF=n
CONFIG_DEBUG_KERNEL=y
CONFIG_KALLSYMS_ALL=y
CONFIG_PROVE_LOCKING=y
CONFIG_PROVE_RCU=y
CONFIG_DEBUG_ATOMIC_SLEEP=y
CONFIG_DEBUG_LIST=y
CONFIG_DEBUG_PAGEALLOC=y
CONFIG_DEBUG_PAGEALLOC_ENABLE_DEFAULT=y
EOF
	if [ "$VARIANT" = kasan ]; then
		cat <<EOF
CONFIG_KASAN=y
CONFIG_KASAN_GENERIC=y
CONFIG_KASAN_INLINE=y
CONFIG_KASAN_VMALLOC=y
CONFIG_KFENCE=y
CONFIG_KCSAN=n
EOF
	else
		cat <<EOF
CONFIG_KASAN=n
CONFIG_KFENCE=n
CONFIG_KCSAN=y
EOF
	fi
}

tar_stamp() { stat -c '%s %Y' "$TARBALL" 2>/dev/null || echo none; }
# what the .config depends on: the source and the fragment
config_id() {
	{ tar_stamp; fragment; } | sha1sum | cut -c1-16
}
# and the build: the .config and what is built from it (bump the suffix
# when that changes)
build_id() { echo "$(config_id)-bzImage"; }

# cache_ok: env.sh names a kernel built from this source and fragment
cache_ok() {
	[ -f "$ENV" ] || return 1
	# shellcheck disable=SC1090
	(. "$ENV" && [ "$KDIR" = "$B" ] && [ -f "$VMLINUX" ] && [ -f "$KDIR/Module.symvers" ] &&
		[ -f "$MODDIR/modules.builtin" ] &&
		[ "$(cat "$OUT/.done" 2>/dev/null)" = "$KVER $KDIR $(build_id)" ])
}

HOWTO="make vm-debug-kernel"
[ "$VARIANT" = kasan ] || HOWTO="make vm-debug-kernel KVARIANT=$VARIANT"

# --vm-check: the guest scripts on this kernel ---------------------------------------
# Kernel lines (printk time stamp) that report a bug without the words
# BUG/WARNING/Oops/Call Trace run.sh looks for.
EXTRA='INFO: task .* blocked for more than|rcu: INFO: .*(detected stalls|self-detected stall)|Disabling lock debugging|list_(add|del) corruption'
vm_check_run() {
	set +e	# the TAP helpers' greps may find nothing
	cache_ok || die "no $VARIANT debug kernel in ${OUT#"$ROOT"/}; to build it (long: see README): $HOWTO"
	VM_KERNEL=$VARIANT VM_TIMEOUT=${VM_TIMEOUT:-3600} VM_SCRIPT_TIMEOUT=${VM_SCRIPT_TIMEOUT:-1200} \
		VM_MEM=${VM_MEM:-2G} sh "$ROOT/tests/vm/run.sh" "$@" | tee "$ROOT/build/vm/debug.tap"
	tap_count "$ROOT/build/vm/debug.tap"
	C="$ROOT/build/vm/console.log"
	tr -d '\r' <"$C" >"$C.txt"
	if [ "$VARIANT" = kasan ]; then
		want='KernelAddressSanitizer initialized|kfence: initialized|Lock dependency validator'
	else
		want='kcsan|Lock dependency validator'
	fi
	_n=$(grep -cE "$want" "$C.txt" || true)
	check "vm-debug: the console shows $VARIANT's checkers on ($want)" \
		[ "$_n" -ge "$(echo "$want" | tr '|' '\n' | wc -l)" ]
	if grep -nE "\[ *[0-9]+\.[0-9]+\].*($EXTRA)" "$C.txt" >"$C.extra"; then
		not_ok "vm-debug: no hung task, RCU stall, list corruption or lock debugging off"
		head -n 40 "$C.extra" | sed 's/^/# console.log:/'
	else
		ok "vm-debug: no hung task, RCU stall, list corruption or lock debugging off"
	fi
	# Which guest script ran when the kernel first complained (init.sh marks
	# each start in the kernel log).
	awk -v extra="$EXTRA" '
		/zcap-vm: start / { cur = $NF }
		/\[ *[0-9]+\.[0-9]+\]/ && ($0 ~ extra || $0 ~ /(BUG|WARNING)[^A-Za-z0-9_]|Oops|Call Trace|Kernel panic|general protection fault|UBSAN/) &&
			$0 !~ /zcap-vm:/ && !($0 ~ / BUG: KCSAN: / && $0 !~ /pfzc/) { print "# first kernel complaint during " (cur ? cur : "boot") ": " $0; exit }
	' "$C.txt"
	rm -f "$C.txt" "$C.extra"
	tap_summary "vm-debug: "
}

if [ $vm_check = 1 ]; then
	vm_check_run "$@"
	exit
fi

if cache_ok; then
	cat "$ENV"
	exit 0
fi
[ $check_only = 0 ] ||
	die "no $VARIANT debug kernel in ${OUT#"$ROOT"/}; to build it (long: see README): $HOWTO"
[ -f "$TARBALL" ] || die "no $TARBALL; to install the debug group of scripts/packages.txt, run as root: make vm-debug-kernel"
# shellcheck disable=SC2046
missing=$(missing_packages $(packages debug))
[ -z "$missing" ] ||
	die "missing packages:$missing; to install them, run as root: sh scripts/install-deps.sh debug"
mkdir -p "$OUT" "$BASE/src"

# One build at a time per variant, and one unpack of the shared source.
exec 9>"$OUT/.lock"
flock 9
if cache_ok; then	# another run finished it while we waited
	cat "$ENV"
	exit 0
fi

NICE=${KBUILD_NICE:-10}
JOBS=${KBUILD_JOBS:-$(nproc)}
kmake() { nice -n "$NICE" make -C "$SRC" O="$B" "$@"; }

# --- the source -----------------------------------------------------------------
exec 8>"$BASE/src/.lock"
flock 8
if [ "$(cat "$BASE/src/.stamp" 2>/dev/null)" != "$(tar_stamp)" ] || [ ! -f "$SRC/Makefile" ]; then
	say "unpacking $TARBALL into ${BASE#"$ROOT"/}/src"
	rm -rf "$BASE/src/new" "$SRC"
	mkdir -p "$BASE/src/new"
	nice -n "$NICE" tar -xJf "$TARBALL" -C "$BASE/src/new"
	[ -f "$BASE/src/new/linux-source-6.1/Makefile" ] || die "no linux-source-6.1/Makefile in $TARBALL"
	mv "$BASE/src/new/linux-source-6.1" "$SRC"
	rmdir "$BASE/src/new"
	tar_stamp >"$BASE/src/.stamp"
	rm -f "$BASE/.done" "$BASE/kcsan/.done"	# a new source: rebuild
fi
flock -u 8

# --- the config -----------------------------------------------------------------
mkdir -p "$B"
LOG="$OUT/build.log"
: >"$LOG"
id=$(config_id)
if [ "$(cat "$B/.config.id" 2>/dev/null)" != "$id" ] || [ ! -f "$B/.config" ]; then
	say "configuring $VARIANT in ${B#"$ROOT"/}"
	fragment | sed 's/^\(CONFIG_[A-Z0-9_]*\)=n$/# \1 is not set/' >"$OUT/fragment.config"
	{
		kmake defconfig &&
		kmake kvm_guest.config &&
		"$SRC/scripts/kconfig/merge_config.sh" -m -O "$B" "$B/.config" "$OUT/fragment.config" &&
		kmake olddefconfig
	} >>"$LOG" 2>&1 || { tail -n 30 "$LOG" >&2; die "configuring failed (log: $LOG)"; }
	bad=
	fragment >"$OUT/fragment.want"
	while IFS= read -r line; do
		key=${line%%=*}
		case "$line" in
		*=n) grep -q "^$key=" "$B/.config" && bad="$bad $line(got $(grep "^$key=" "$B/.config"))" ;;
		*) grep -qxF "$line" "$B/.config" || bad="$bad $line(got $(grep "^$key=" "$B/.config" || echo unset))" ;;
		esac
	done <"$OUT/fragment.want"
	rm -f "$OUT/fragment.want"
	[ -z "$bad" ] || die "the .config lacks:$bad"
	echo "$id" >"$B/.config.id"
fi

# --- the build --------------------------------------------------------------------
say "building $VARIANT: make -j$JOBS at nice $NICE, log ${LOG#"$ROOT"/} (the first build takes long: see README)"
start=$(date +%s)
# bzImage, not vmlinux as for the stock kernel: qemu boots an ELF vmlinux
# through its PVH entry, whose C code (xen_prepare_pvh) is KASAN-instrumented
# and runs before KASAN's early shadow exists: the VM triple-faults at once,
# printing nothing. The bzImage entry sets the shadow up first.
kmake -j"$JOBS" bzImage modules >>"$LOG" 2>&1 ||
	{ grep -E 'error|Error' "$LOG" | head -n 30 >&2; die "the build failed (log: $LOG)"; }
KVER=$(kmake -s --no-print-directory kernelrelease 2>/dev/null)
[ -n "$KVER" ] || die "make kernelrelease printed nothing"
rm -rf "$OUT/root"
kmake INSTALL_MOD_PATH="$OUT/root" modules_install >>"$LOG" 2>&1 ||
	{ tail -n 30 "$LOG" >&2; die "modules_install failed (log: $LOG)"; }
secs=$(($(date +%s) - start))
echo "$VARIANT $KVER: ${secs}s (make -j$JOBS bzImage modules + modules_install at nice $NICE, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cpus)" |
	tee -a "$OUT/build-time" >&2

MODDIR="$OUT/root/lib/modules/$KVER"
[ -f "$MODDIR/modules.builtin" ] || die "no $MODDIR/modules.builtin"
VMLINUX="$B/arch/x86/boot/bzImage"
[ -f "$VMLINUX" ] || die "no $VMLINUX"
# Harmless links back to the build tree; run.sh only reads kernel/ and
# modules.builtin.
rm -f "$MODDIR/build" "$MODDIR/source"

cat >"$ENV" <<EOF
KVER=$KVER
KDIR=$B
VMLINUX=$VMLINUX
MODDIR=$MODDIR
EOF
echo "$KVER $B $(build_id)" >"$OUT/.done"
cat "$ENV"
