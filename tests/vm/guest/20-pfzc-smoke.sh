#!/bin/sh
# Guest script: the pf_zerocopy module end to end over a veth pair, with
# build/vm/pfzc_smoke (tests/vm/pfzc_smoke.c). Run it alone with
#   make vm-bins && sh tests/vm/run.sh tests/vm/guest/20-pfzc-smoke.sh
. "$(dirname "$0")/lib.sh"

SMOKE=$BUILD/vm/pfzc_smoke
skip_unless "pf_zerocopy smoke" "no $SMOKE (make vm-bins)" [ -x "$SMOKE" ]
if ! module_loaded pf_zerocopy; then
	not_ok "pf_zerocopy loaded"
	exit 1
fi

pins() {	# pages pinned and not yet unpinned, system-wide
	# fold the per-cpu vmstat deltas first, or the count lags
	echo 1 > /proc/sys/vm/stat_refresh 2>/dev/null
	awk '/^nr_foll_pin_acquired/ {a = $2} /^nr_foll_pin_released/ {r = $2}
	     END {print a - r}' /proc/vmstat
}
# pins_back_to PINS0: until the count is back to PINS0 (vmstat folds its per-cpu
# deltas about once a second), at most 5 s
pins_back_to() {
	_i=0
	while [ "$(pins)" != "$1" ] && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ "$(pins)" = "$1" ] || { diag "pinned pages: $(pins), expected $1"; return 1; }
}
PROC_HEADER="inode ifindex ifname rx_entries tx_entries rx rx_drop_full tx tx_invalid direct rx_dma rx_copied tx_dma tx_copied"
pins0=$(pins)
diag "pinned pages before: $pins0"

need_veth_pair zp0 zp1
MAC1=$(mac zp1)
MAC0=$(mac zp0)

# run_bg NAME CMD...: CMD in the background, output in $TMP/NAME.out;
# waits until it listens
run_bg() {
	_n=$1
	shift
	"$@" >"$TMP/$_n.out" 2>&1 &
	eval "pid_$_n=\$!"
	wait_for "$TMP/$_n.out" "listening on\|holding\|not ok"
}
# finish_bg NAME: waits for it, shows its output, checks its status
finish_bg() {
	eval "wait \$pid_$1"
	_rc=$?
	cat "$TMP/$1.out"
	check "$1 exits 0" [ $_rc -eq 0 ]
}

"$SMOKE" errnos zp1
check "errnos exits 0" [ $? -eq 0 ]

# rx through the ring, random sizes
run_bg rx taskset -c 1 "$SMOKE" rx zp1 2000
taskset -c 0 "$GEN" -q -i zp0 -c 2000 --random-sizes --dst-mac "$MAC1" 2>"$TMP/gen.log"
diag "$(cat "$TMP/gen.log")"
finish_bg rx

# the socket filter's value caps the copy
run_bg rxsnap taskset -c 1 "$SMOKE" rx zp1 200 100
taskset -c 0 "$GEN" -q -i zp0 -c 200 -s 1518 --dst-mac "$MAC1" 2>/dev/null
finish_bg rxsnap

# tx ring on zp0, received with recvmsg on zp1. The sender is pinned: veth
# receives on the sending CPU, so a sender that migrates mid-stream leaves
# frames in two CPUs' backlogs, which drain in parallel and reorder them.
run_bg recv taskset -c 1 "$SMOKE" recv zp1 1000
taskset -c 0 "$SMOKE" tx zp0 1000 "$MAC1"
check "tx exits 0" [ $? -eq 0 ]
finish_bg recv

# sendmsg on zp1, received through the ring on zp0
run_bg rx2 taskset -c 1 "$SMOKE" rx zp0 300
taskset -c 0 "$SMOKE" send zp1 300 "$MAC0"
check "send exits 0" [ $? -eq 0 ]
finish_bg rx2

# a reader that never reads: the ring fills, the rest is counted as dropped
run_bg hold "$SMOKE" hold zp1
ino=$(awk 'NR > 1 && $3 == "zp1" {print $1}' /proc/net/pf_zerocopy | tail -1)
# from both CPUs at once: the producers contend for the ring
taskset -c 0 "$GEN" -q -i zp0 -c 750 --dst-mac "$MAC1" 2>/dev/null &
g=$!
taskset -c 1 "$GEN" -q -i zp0 -c 750 --start-seq 750 --dst-mac "$MAC1" 2>/dev/null
wait $g
sleep 1
line=$(awk -v i="$ino" '$1 == i' /proc/net/pf_zerocopy)
diag "$(head -1 /proc/net/pf_zerocopy)"
diag "$line"
set -- $line
check "ring full: rx=1024 rx_drop_full=476" [ "$6" = 1024 -a "$7" = 476 ]
if grep -q holding "$TMP/hold.out"; then
	check "rmmod refused while a socket exists" sh -c '! rmmod pf_zerocopy 2>/dev/null'
else
	not_ok "hold starts"
	cat "$TMP/hold.out"
fi
module_loaded pf_zerocopy || insmod "$KMOD" family=27
diag "pinned pages while held: $(pins)"
kill -9 "$pid_hold"
wait "$pid_hold" 2>/dev/null
check "killed while mapped: its pages are unpinned" pins_back_to "$pins0"
# the file is there with its header line, and nothing after it
check "killed while mapped: gone from /proc/net/pf_zerocopy (header only)" \
	[ "$(cat /proc/net/pf_zerocopy 2>/dev/null)" = "$PROC_HEADER" ]

# the interface goes away under a poller and a recvmsg socket
run_bg gone "$SMOKE" gone zp1
sleep 0.5
ip link del zp0
finish_bg gone
check "after the interface went: nothing pinned" pins_back_to "$pins0"

# under traffic: the capturing process killed, then the interface deleted
if veth_pair zq0 zq1; then
	run_bg hold2 "$SMOKE" hold zq1
	run_bg hold3 "$SMOKE" hold zq1
	"$GEN" -q -i zq0 -d 4 --dst-mac "$(mac zq1)" >/dev/null 2>&1 &
	g=$!
	sleep 1
	kill -9 "$pid_hold2"
	sleep 1
	ip link del zq0
	wait $g
	kill -9 "$pid_hold3"
	wait "$pid_hold2" "$pid_hold3" 2>/dev/null
	check "killed, and interface deleted, under traffic: nothing pinned" pins_back_to "$pins0"
else
	not_ok "veth pair zq0 <-> zq1"
fi

# unload and load again; family out of range, or taken, refused: by the
# module's own check (its message in the kernel log), not by something else
# such as the module being loaded already
check "rmmod with no socket" rmmod pf_zerocopy
# insmod_refused ARG MESSAGE: insmod with ARG fails while the module is not
# loaded, the kernel log gains MESSAGE, and the module stays unloaded
insmod_refused() {
	module_loaded pf_zerocopy && { diag "$1: pf_zerocopy is loaded already"; return 1; }
	_mark="zcap-vm: insmod $1 $$"
	echo "$_mark" >/dev/kmsg
	insmod "$KMOD" "$1" >"$TMP/insmod.out" 2>&1 && { diag "$1: insmod succeeded"; return 1; }
	diag "$1: $(cat "$TMP/insmod.out")"
	dmesg | sed -n "\|$_mark|,\$p" | grep -qF "$2" || { diag "$1: no '$2' in dmesg"; return 1; }
	! module_loaded pf_zerocopy
}
check "insmod family=0 refused (out of range 1..45)" \
	insmod_refused family=0 "pf_zerocopy: family 0 out of range 1..45"
check "insmod family=46 refused (out of range 1..45)" \
	insmod_refused family=46 "pf_zerocopy: family 46 out of range 1..45"
check "insmod family=2 refused (AF_INET is taken)" \
	insmod_refused family=2 "pf_zerocopy: family 2 is taken (-17)"
check "insmod family=27 again" insmod "$KMOD" family=27
rm -rf "$TMP"
