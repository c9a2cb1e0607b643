#!/bin/sh
# /init of the VM initramfs (busybox sh, PID 1). tests/vm/run.sh builds the
# initramfs and writes /etc/zcap-vm.conf with:
#   KVER            the kernel release the modules were built for
#   MODULES         kernel modules to insmod, dependencies first (paths)
#   KMOD            the project's module (path), empty when not built
#   KMOD_ARGS       its parameters (family=27)
#   E1000_KO        the patched e1000 driver (path), empty when not built;
#                   the scripts that need it insmod it
#   SCRIPTS         guest scripts to run, in order (paths)
#   SCRIPT_TIMEOUT  seconds each script may take (more for one whose
#                   header says "# vm-timeout: SECONDS")
#   GUEST_ENV       NAME=VALUE... exported to the scripts (run.sh's VM_ENV)
#
# The console (ttyS0) gets the kernel's messages and everything below. Each
# guest script's output goes to the console and also to the second serial
# port (ttyS1), which the host reads the TAP lines from: kernel messages
# printed in the middle of a test line cannot garble them there.
# Nothing printed here may contain the words the host greps the console for.
# The TAP helpers are scripts/lib.sh's, at /zcap/scripts/lib.sh here.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd

exec </dev/null >/dev/console 2>&1

. /zcap/scripts/lib.sh
say() { echo "zcap-vm: $*"; }

if [ -c /dev/ttyS1 ]; then
	stty -F /dev/ttyS1 raw -echo 2>/dev/null
	TAPDEV=/dev/ttyS1
else
	TAPDEV=/dev/null
fi
# ... | to_host: TAP lines for the host's count (and the console)
to_host() { tee -a "$TAPDEV"; }
# mark TEXT: into the kernel log, so the console shows what ran when
mark() { echo "zcap-vm: $*" >/dev/kmsg; }

. /etc/zcap-vm.conf
for kv in $GUEST_ENV; do
	# shellcheck disable=SC2163  # kv is NAME=VALUE: exports NAME
	export "$kv"
done

say "kernel $(uname -r), $(nproc) cpus, $(sed -n 's/MemTotal: *//p' /proc/meminfo)"
hostname zcap-vm
ip link set lo up
# No IPv6 anywhere: the only traffic on a test veth is what a test sends.
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null

for m in $MODULES; do
	if insmod "$m"; then
		say "insmod $m"
	else
		not_ok "vm: insmod $(basename "$m")" | to_host
	fi
done
if [ -n "$KMOD" ]; then
	# shellcheck disable=SC2086
	check "vm: insmod $(basename "$KMOD") $KMOD_ARGS" insmod "$KMOD" $KMOD_ARGS | to_host
fi

# Each script runs in a session of its own: when it ends (or its time is
# up) whatever it left running in the background is killed with it, so
# nothing leaks into the next script and the pipe to tee closes.
for s in $SCRIPTS; do
	name=$(basename "$s")
	say "=== $name"
	# where its lines begin, for run.sh
	echo "# zcap-vm: start $name" >>"$TAPDEV"
	mark "start $name"
	rm -f /tmp/.vm-rc /tmp/.vm-sid
	# a script that needs longer says so: "# vm-timeout: SECONDS" (at
	# least SCRIPT_TIMEOUT)
	limit=$(sed -n 's/^# vm-timeout: *\([0-9][0-9]*\).*/\1/p' "$s" | head -n 1)
	[ -n "$limit" ] && [ "$limit" -gt "$SCRIPT_TIMEOUT" ] || limit=$SCRIPT_TIMEOUT
	(
		setsid sh -c 'echo $$ >/tmp/.vm-sid; exec timeout "$1" sh "$2"' \
			sh "$limit" "$s" 2>&1
		echo $? >/tmp/.vm-rc
		[ -s /tmp/.vm-sid ] && kill -9 -- "-$(cat /tmp/.vm-sid)" 2>/dev/null
	) | tee -a "$TAPDEV"
	rc=$(cat /tmp/.vm-rc 2>/dev/null || echo 255)
	mark "end $name rc=$rc"
	case "$rc" in
	0) ;;
	143) not_ok "$name: timed out after ${limit}s" | to_host ;;
	*) not_ok "$name: exited with status $rc" | to_host ;;
	esac
	cd /
done

say "=== dmesg"
dmesg
say "=== end of dmesg"
sync
say "all guest scripts done, powering off"
poweroff -f
