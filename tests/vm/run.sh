#!/bin/sh
# The VM tests: boots Debian bookworm's 6.1 kernel in qemu (TCG) with an
# initramfs holding busybox, veth, the pf_zerocopy module (when kmod/ has a
# Makefile or Kbuild), the tools and the guest scripts, runs the scripts and
# checks the kernel stayed clean. Prints TAP lines and ends with
# "vm: N passed, N failed[, N skipped]"; exits non-zero if a check failed.
#
#   sh tests/vm/run.sh                    every tests/vm/guest/*.sh but lib.sh
#   sh tests/vm/run.sh A.sh [B.sh...]     only these guest scripts (any path;
#                                         they land beside lib.sh in the VM)
#
# Two e1000 NICs (qemu's 82540EM) and an RTL8139 on one qemu hub, with no
# driver until a guest script insmods /zcap/kmod/e1000.ko (E1000_KO in
# /etc/zcap-vm.conf: Debian's e1000 patched with kmod/e1000/e1000-pfzc.patch)
# or /zcap/kmod/8139too.ko (RTL8139_KO: Debian's 8139too patched with
# kmod/8139too/8139too-pfzc.patch): what one sends, the others receive.
#
# In the VM: /zcap/build/{zcap,zcap-gen,zcap-verify}, zcap-run with
# libzcap-pcap.so beside it, libzcap.so.1, every ELF executable of build/vm/
# and the host's tcpdump (if installed) at /zcap/build/vm/ (with the shared
# libraries they need),
# /zcap/kmod/pf_zerocopy.ko (already loaded), the shared helpers
# scripts/lib.sh at /zcap/scripts/lib.sh, the guest scripts in
# /zcap/tests/vm/guest/.
#
# It installs and downloads nothing: the vm packages of scripts/packages.txt
# and the kernel in .cache/kernel (scripts/vm-deps.sh) come from make deps.
#
# Environment:
#   VM_TIMEOUT=1800        seconds for the whole VM run (a hang guard, well
#                          above what every guest script together takes)
#   VM_SCRIPT_TIMEOUT=300  seconds for each guest script
#   VM_KMOD=1              0: neither build nor load the module
#   VM_KMOD_ARGS=family=27 the module's parameters
#   VM_MODULES=            more modules of the image to load (names; with
#                          their dependencies)
#   VM_APPEND=             more kernel command line
#   VM_MEM=1G VM_SMP=2     the VM's size
#   VM_VERBOSE=1           show the console while the VM runs
#   VM_KERNEL=stock        the kernel to boot and build the module against:
#                          stock (Debian's, scripts/vm-deps.sh), debug or
#                          kasan (KASAN, lockdep...), kcsan (KCSAN, lockdep):
#                          built by scripts/vm-debug-kernel.sh (make
#                          vm-debug-kernel), or the path of an env.sh
#   VM_BINS_EXTRA=         more executables (paths) for /zcap/build/vm/,
#                          with their shared libraries
#   VM_ENV=                NAME=VALUE... (no spaces in a value) exported to
#                          the guest scripts, e.g. VM_ENV=PFZC_RACE_SECS=180
#                          for a long race stress (74-pfzc-race.sh)
#   VM_QEMU_ARGS=          more qemu arguments (split on spaces), e.g. a third
#                          e1000 on a host tap device and a serial port to
#                          talk to the host (bench/fig5/nic.sh)
#
# A guest script that needs modules of the image for itself names them on
# a line "# vm-modules: NAME..." (dependencies included, in load order):
# they are put in the initramfs but not loaded, and listed (paths, in that
# order) as GUEST_MODULES in /etc/zcap-vm.conf; the script insmods them,
# and skips what needs one the image lacks (a diagnostic here, no failure).
#
# Files, in build/vm/: console.log (ttyS0: kernel messages, init, the
# scripts, dmesg), guest.log (ttyS1: the scripts' output only), kmod.log
# (the module build), initramfs.cpio.gz.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
OUT="$ROOT/build/vm"
VM_TIMEOUT=${VM_TIMEOUT:-1800}
VM_SCRIPT_TIMEOUT=${VM_SCRIPT_TIMEOUT:-300}
VM_KMOD=${VM_KMOD:-1}
VM_KMOD_ARGS=${VM_KMOD_ARGS-family=27}
VM_MODULES=${VM_MODULES:-}
VM_APPEND=${VM_APPEND:-}
VM_MEM=${VM_MEM:-1G}
VM_SMP=${VM_SMP:-2}
VM_VERBOSE=${VM_VERBOSE:-0}
VM_ENV=${VM_ENV:-}
case " $VM_ENV " in
*\'*) not_ok "vm: VM_ENV may not hold a quote"; tap_summary "vm: "; exit 1 ;;
esac

finish() {
	tap_summary "vm: "
	exit
}
# fail_log NAME LOG: a failed step, the end of its log, and stop
fail_log() {
	not_ok "$1"
	tail -n 30 "$2" | sed 's/^/# /'
	finish
}

skip_unless "vm tests" "needs root (insmod-able initramfs with /dev nodes)" is_root

mkdir -p "$OUT/cache"
VM_KERNEL=${VM_KERNEL:-stock}
case "$VM_KERNEL" in
stock)
	if ! sh scripts/vm-deps.sh --check >"$OUT/deps.log" 2>&1; then
		skip_unless "vm tests" "qemu unavailable (scripts/vm-deps.sh failed, see build/vm/deps.log)" \
			have qemu-system-x86_64
		fail_log "vm: scripts/vm-deps.sh" "$OUT/deps.log"
	fi
	KENV="$ROOT/.cache/kernel/env.sh"
	;;
debug|kasan|kcsan)
	kvar=$VM_KERNEL
	[ "$kvar" = debug ] && kvar=kasan
	# A debug kernel is never built here: that takes most of an hour.
	sh scripts/vm-debug-kernel.sh --check "$kvar" >"$OUT/deps.log" 2>&1 ||
		fail_log "vm: the $kvar debug kernel is built (make vm-debug-kernel)" "$OUT/deps.log"
	KENV="$ROOT/.cache/kernel-debug/env.sh"
	[ "$kvar" = kcsan ] && KENV="$ROOT/.cache/kernel-debug/kcsan/env.sh"
	;;
*)
	KENV=$VM_KERNEL
	[ -f "$KENV" ] || { not_ok "vm: VM_KERNEL=$VM_KERNEL: stock, debug, kasan, kcsan or an env.sh"; finish; }
	;;
esac
# shellcheck disable=SC1090
. "$KENV"	# KVER KDIR VMLINUX MODDIR

make -C "$ROOT" all >"$OUT/make.log" 2>&1 || fail_log "vm: make all" "$OUT/make.log"

# no_warnings WHAT LOG: a TAP line on whether the build in LOG warned
no_warnings() {
	if grep -q 'warning:' "$2"; then
		not_ok "vm: $1 builds without compiler warnings"
		grep -A3 'warning:' "$2" | head -n 40 | sed 's/^/# /'
	else
		ok "vm: $1 builds without compiler warnings"
	fi
}

# --- the module -------------------------------------------------------------
KO=
if [ "$VM_KMOD" = 1 ] && { [ -f kmod/Makefile ] || [ -f kmod/Kbuild ]; }; then
	if make -C "$KDIR" M="$ROOT/kmod" modules >"$OUT/kmod.log" 2>&1; then
		ok "vm: kmod builds against $KVER"
		no_warnings kmod "$OUT/kmod.log"
		if [ -f kmod/pf_zerocopy.ko ]; then
			KO="$ROOT/kmod/pf_zerocopy.ko"
		else
			not_ok "vm: kmod/pf_zerocopy.ko built"
		fi
	else
		not_ok "vm: kmod builds against $KVER"
		grep -E 'error|Error' "$OUT/kmod.log" | head -n 30 | sed 's/^/# /'
	fi
fi

# --- the e1000 driver with zero-copy receive (kmod/e1000) --------------------
# Debian's e1000 sources, patched at build time, against the same kernel;
# the guest scripts that need it insmod it (E1000_KO in /etc/zcap-vm.conf).
E1000_KO=
if [ -n "$KO" ]; then
	if sh kmod/e1000/build.sh "$KDIR" "$OUT/e1000" >"$OUT/e1000.log" 2>&1; then
		ok "vm: e1000 with kmod/e1000/e1000-pfzc.patch builds against $KVER"
		no_warnings e1000 "$OUT/e1000.log"
		E1000_KO="$OUT/e1000/e1000.ko"
	else
		not_ok "vm: e1000 with kmod/e1000/e1000-pfzc.patch builds against $KVER"
		grep -E '^e1000:|error' "$OUT/e1000.log" | head -n 30 | sed 's/^/# /'
	fi
fi

# --- the 8139too driver with the contiguous ring (kmod/8139too) ---------------
# Debian's 8139too.c, patched at build time, against the same kernel
# (RTL8139_KO in /etc/zcap-vm.conf), for the RTL8139 on the hub.
RTL8139_KO=
if [ -n "$KO" ]; then
	if sh kmod/8139too/build.sh "$KDIR" "$OUT/8139too" >"$OUT/8139too.log" 2>&1; then
		ok "vm: 8139too with kmod/8139too/8139too-pfzc.patch builds against $KVER"
		no_warnings 8139too "$OUT/8139too.log"
		RTL8139_KO="$OUT/8139too/8139too.ko"
	else
		not_ok "vm: 8139too with kmod/8139too/8139too-pfzc.patch builds against $KVER"
		grep -E '^8139too:|error' "$OUT/8139too.log" | head -n 30 | sed 's/^/# /'
	fi
fi

# --- kernel modules of the image, dependencies first --------------------------
# depends= of a module's .modinfo (comma separated module names)
mod_depends() {
	objcopy -O binary --only-section=.modinfo "$1" "$OUT/cache/modinfo" 2>/dev/null || return 0
	tr '\0' '\n' <"$OUT/cache/modinfo" | sed -n 's/^depends=//p' | tr ',' ' '
	rm -f "$OUT/cache/modinfo"
}
# the .ko of a module name under $MODDIR/kernel ('-' and '_' are the same)
mod_path() {
	grep -m1 "/$(echo "$1" | sed 's/[-_]/[-_]/g')\.ko\$" "$OUT/cache/modlist"
}
find "$MODDIR/kernel" -name '*.ko' >"$OUT/cache/modlist"
MOD_ORDER= MOD_SEEN=
mod_add() {	# mod_add NAME: NAME after its dependencies
	case " $MOD_SEEN " in *" $1 "*) return 0 ;; esac
	MOD_SEEN="$MOD_SEEN $1"
	if ! _p=$(mod_path "$1"); then
		grep -q "/$(echo "$1" | sed 's/[-_]/[-_]/g')\.ko\$" \
			"$MODDIR/modules.builtin" 2>/dev/null && return 0
		if [ -n "${MOD_OPTIONAL:-}" ]; then
			diag "vm: module $1 is not in $KVER (a guest script asked for it)"
		else
			not_ok "vm: module $1 in $KVER"
		fi
		return 1
	fi
	for _d in $(mod_depends "$_p"); do
		mod_add "$_d"
	done
	_p=$(mod_path "$1")	# the recursion reused _p
	MOD_ORDER="$MOD_ORDER $_p"
}
for m in veth $VM_MODULES; do
	mod_add "$m"
done
if [ -n "$KO" ]; then
	for d in $(mod_depends "$KO"); do
		mod_add "$d"
	done
fi
if [ $# -gt 0 ]; then
	list="$*"
else
	list=$(ls tests/vm/guest/*.sh | grep -v '/lib\.sh$')
fi
BOOT_ORDER=$MOD_ORDER
# shellcheck disable=SC2086
MOD_OPTIONAL=1
for m in $(sed -n 's/^# vm-modules://p' $list 2>/dev/null); do
	mod_add "$m"
done
MOD_OPTIONAL=
GUEST_ORDER=${MOD_ORDER#"$BOOT_ORDER"}
MOD_ORDER=$BOOT_ORDER

# --- initramfs ----------------------------------------------------------------
# Two cpio archives, concatenated (the kernel unpacks one after the other):
# base.cpio.gz (busybox, /dev/console; cached) and the rest (built each run).
BASE="$OUT/cache/base.cpio.gz"
BB=$(command -v busybox)
bb_stamp="$(ls -lL "$BB" | awk '{print $5, $6, $7, $8}') $(sha1sum <"$0" | cut -c1-12)"
mkcpio() {	# mkcpio DIR: DIR as a gzip'd newc archive on stdout
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1
}
if [ ! -f "$BASE" ] || [ "$(cat "$BASE.stamp" 2>/dev/null)" != "$bb_stamp" ]; then
	S="$OUT/cache/base"
	rm -rf "$S"
	mkdir -p "$S/bin" "$S/dev" "$S/proc" "$S/sys" "$S/tmp" "$S/run" "$S/root" \
		"$S/etc" "$S/usr/bin" "$S/usr/sbin" "$S/sbin"
	cp "$BB" "$S/bin/busybox"
	for a in $("$BB" --list-full); do
		[ -e "$S/$a" ] || ln -s /bin/busybox "$S/$a"
	done
	mknod -m 600 "$S/dev/console" c 5 1
	mknod -m 666 "$S/dev/null" c 1 3
	mkcpio "$S" >"$BASE.new" && mv "$BASE.new" "$BASE" && echo "$bb_stamp" >"$BASE.stamp"
	rm -rf "$S"
fi

S="$OUT/stage"
rm -rf "$S"
mkdir -p "$S/etc" "$S/zcap/build/vm" "$S/zcap/tests/vm/guest" "$S/zcap/kmod" \
	"$S/zcap/scripts" "$S/lib/modules/$KVER"
cp tests/vm/init.sh "$S/init"
chmod 755 "$S/init"

# copy_elf FILE DEST: FILE to DEST in the stage, and its ldd closure (the
# loader included) at the same paths as here
libs_missing=
copy_elf() {
	mkdir -p "$S$(dirname "$2")"
	cp -L "$1" "$S$2"
	ldd "$1" 2>/dev/null | grep -q 'not found' && libs_missing="$libs_missing $1"
	for l in $(ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
		[ -e "$S$l" ] && continue
		mkdir -p "$S$(dirname "$l")"
		cp -L "$l" "$S$l"
	done
}
is_elf_exe() {
	[ -f "$1" ] && [ -x "$1" ] &&
		[ "$(od -An -tx1 -N4 "$1" | tr -d ' ')" = 7f454c46 ]
}
for t in zcap zcap-gen zcap-verify zcap-arpd; do
	copy_elf "build/$t" "/zcap/build/$t"
done
# zcap-run finds libzcap-pcap.so beside it; tcpdump, when installed here,
# for the scripts that run an unchanged pcap program under it
cp build/zcap-run "$S/zcap/build/zcap-run"
for t in libzcap-pcap.so libzcap.so.1; do
	copy_elf "build/$t" "/zcap/build/$t"
done
if TCPDUMP=$(command -v tcpdump); then
	copy_elf "$TCPDUMP" /zcap/build/vm/tcpdump
fi
# ethtool -S for the e1000's own statistics (80-e1000-zc.sh)
if ETHTOOL=$(command -v ethtool); then
	copy_elf "$ETHTOOL" /usr/sbin/ethtool
fi
for t in build/vm/*; do
	is_elf_exe "$t" && copy_elf "$t" "/zcap/$t"
done
for t in ${VM_BINS_EXTRA:-}; do
	copy_elf "$t" "/zcap/build/vm/${t##*/}"
done
[ -z "$libs_missing" ] || not_ok "vm: shared libraries found for$libs_missing"

mods= guest_mods=
for p in $MOD_ORDER $GUEST_ORDER; do
	rel=${p#"$MODDIR"/}
	mkdir -p "$S/lib/modules/$KVER/$(dirname "$rel")"
	cp "$p" "$S/lib/modules/$KVER/$rel"
	case " $GUEST_ORDER " in
	*" $p "*) guest_mods="$guest_mods /lib/modules/$KVER/$rel" ;;
	*) mods="$mods /lib/modules/$KVER/$rel" ;;
	esac
done
kmod_guest=
if [ -n "$KO" ]; then
	cp "$KO" "$S/zcap/kmod/pf_zerocopy.ko"
	kmod_guest=/zcap/kmod/pf_zerocopy.ko
fi
e1000_guest=
if [ -n "$E1000_KO" ]; then
	cp "$E1000_KO" "$S/zcap/kmod/e1000.ko"
	e1000_guest=/zcap/kmod/e1000.ko
fi
rtl8139_guest=
if [ -n "$RTL8139_KO" ]; then
	cp "$RTL8139_KO" "$S/zcap/kmod/8139too.ko"
	rtl8139_guest=/zcap/kmod/8139too.ko
fi

cp scripts/lib.sh "$S/zcap/scripts/"
cp tests/vm/guest/lib.sh "$S/zcap/tests/vm/guest/"
scripts=
for g in $list; do
	[ -f "$g" ] || { not_ok "vm: guest script $g exists"; continue; }
	cp "$g" "$S/zcap/tests/vm/guest/"
	scripts="$scripts /zcap/tests/vm/guest/${g##*/}"
done

cat >"$S/etc/zcap-vm.conf" <<EOF
KVER='$KVER'
MODULES='$mods'
GUEST_MODULES='$guest_mods'
KMOD='$kmod_guest'
KMOD_ARGS='$VM_KMOD_ARGS'
E1000_KO='$e1000_guest'
RTL8139_KO='$rtl8139_guest'
SCRIPTS='$scripts'
SCRIPT_TIMEOUT='$VM_SCRIPT_TIMEOUT'
GUEST_ENV='$VM_ENV'
EOF

INITRD="$OUT/initramfs.cpio.gz"
{ cat "$BASE"; mkcpio "$S"; } >"$INITRD"
rm -rf "$S"

# --- boot ---------------------------------------------------------------------
CONSOLE="$OUT/console.log"
GUEST="$OUT/guest.log"
: >"$CONSOLE"
: >"$GUEST"
diag "booting $KVER ($(basename "$VMLINUX")) under qemu TCG; console: build/vm/console.log"
tailpid=
if [ "$VM_VERBOSE" = 1 ]; then
	tail -f "$CONSOLE" &
	tailpid=$!
fi
start=$(date +%s)
timeout -k 10 "$VM_TIMEOUT" qemu-system-x86_64 -accel tcg -nodefaults -no-user-config \
	-display none -no-reboot -m "$VM_MEM" -smp "$VM_SMP" \
	-kernel "$VMLINUX" -initrd "$INITRD" \
	-netdev hubport,id=nic0,hubid=0 -device e1000,netdev=nic0,mac=52:54:00:00:e1:00 \
	-netdev hubport,id=nic1,hubid=0 -device e1000,netdev=nic1,mac=52:54:00:00:e1:01 \
	-netdev hubport,id=nic2,hubid=0 -device rtl8139,netdev=nic2,mac=52:54:00:00:81:39 \
	-append "console=ttyS0 panic=-1 slub_debug=FZPU rdinit=/init $VM_APPEND" \
	-serial "file:$CONSOLE" -serial "file:$GUEST" ${VM_QEMU_ARGS:-} \
	</dev/null >"$OUT/qemu.log" 2>&1
qrc=$?
secs=$(($(date +%s) - start))
[ -n "$tailpid" ] && kill "$tailpid" 2>/dev/null
diag "qemu exited with status $qrc after ${secs}s"

# the scripts' TAP lines and comments
tr -d '\r' <"$GUEST" >"$GUEST.txt"
grep -E '^(ok|not ok) |^#' "$GUEST.txt"
tap_count "$GUEST.txt"
rm -f "$GUEST.txt"

tr -d '\r' <"$CONSOLE" >"$CONSOLE.txt"
if [ "$qrc" -eq 0 ] && grep -q '^zcap-vm: all guest scripts done, powering off' "$CONSOLE.txt" &&
	grep -q 'reboot: Power down' "$CONSOLE.txt"; then
	ok "vm: booted and powered off cleanly"
else
	case "$qrc" in
	124|137) not_ok "vm: booted and powered off cleanly (timed out after ${VM_TIMEOUT}s)" ;;
	*) not_ok "vm: booted and powered off cleanly (qemu status $qrc)" ;;
	esac
	cat "$OUT/qemu.log" | sed 's/^/# qemu: /'
	tail -n 40 "$CONSOLE.txt" | sed 's/^/# /'
fi

# Kernel lines only (they carry the printk time stamp, in the console and in
# the dmesg dump), and the words only after the stamp: what the scripts
# print themselves is not the kernel's.
TS='\[ *[0-9]+\.[0-9]+\]'
W='[^A-Za-z0-9_]'
# KCSAN (the kcsan debug kernel) reports every data race it samples, the
# core kernel's own too. A report is the module's when its title names one
# of the module's functions (every one is pfzc_*): that fails like any
# splat (e1000_pfzc_* included). The others are listed, and counted in a
# TAP line of their own. Seen among them: "race at unknown origin" in
# e1000_clean+0x2a1, the stock driver's read of a transmit descriptor's DD
# bit (eop_desc->upper.data, __tsan_read4 before "testb $0x1,0xc(%rbx)"
# in the e1000.ko built against the kcsan tree), which the NIC writes back
# by DMA: qemu's write is no CPU's, so KCSAN sees only the value change.
KCSAN_TITLE="$TS BUG: KCSAN: "
grep -E "$KCSAN_TITLE" "$CONSOLE.txt" | grep -v pfzc >"$OUT/.kcsan_other"
if [ -s "$OUT/.kcsan_other" ]; then
	ok "vm: KCSAN reports outside the module (no pfzc_ function in their title): $(wc -l <"$OUT/.kcsan_other"), not failed"
	sed 's/^/# console.log: /' "$OUT/.kcsan_other"
fi
if awk '!(/ BUG: KCSAN: / && !/pfzc/)' "$CONSOLE.txt" |
	grep -nE "$TS.*(Oops|Call Trace|Kernel panic|general protection fault|UBSAN)|$TS(.*$W)?(BUG|WARNING)($W|\$)" \
	>"$OUT/.bad"; then
	not_ok "vm: no Oops/BUG/WARNING/Call Trace in console or dmesg"
	head -n 40 "$OUT/.bad" | sed 's/^/# console.log:/'
else
	ok "vm: no Oops/BUG/WARNING/Call Trace in console or dmesg"
fi
rm -f "$OUT/.bad" "$OUT/.kcsan_other" "$CONSOLE.txt"

# Every guest script asked for: init.sh's "# zcap-vm: start NAME" before
# it, then at least one TAP line, then its closing "# zcap-vm: end NAME"
# (guest lib.sh prints it at exit).
silent=
for s in $scripts; do
	n=${s##*/}
	why=$(tr -d '\r' <"$GUEST" | awk -v name="$n" '
		$0 == "# zcap-vm: start " name { in_ = 1; started = 1; k = 0; next }
		$0 == "# zcap-vm: end " name && in_ { ended = 1; in_ = 0; next }
		/^# zcap-vm: start / { in_ = 0; next }
		in_ && /^(ok|not ok) / { k++ }
		END {
			if (!started) print "did not start"
			else if (!k) print "no TAP line"
			else if (!ended) print k " TAP lines, no closing line"
		}')
	[ -z "$why" ] || silent="$silent $n: $why;"
done
if [ -z "$silent" ]; then
	ok "vm: every guest script printed TAP lines and its closing line"
else
	not_ok "vm: every guest script printed TAP lines and its closing line (${silent%;})"
fi
finish
