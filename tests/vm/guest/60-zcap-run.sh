#!/bin/sh
# Guest script: an unchanged tcpdump under zcap-run (LD_PRELOAD
# libzcap-pcap.so) on the module's virtual pair takes the driver path.
# Reloads the module with pairs=1, then, with zcap-run's auto backend:
# ZCAP_RUN_VERBOSE names pfzc; /proc/net/pf_zerocopy shows tcpdump's socket
# bound to zc1 as its direct receiver and counting every frame; a plain
# tcpdump on zc1 beside it (through the stack) sees none of them; tcpdump's
# file holds every frame once, in order, intact at 64, 1518 bytes and random
# sizes; a filter matching half the stream; -c N stopping at exactly N.
# Ends with the module loaded as before (family=27, no pairs). Run it alone
# with
#   sh tests/vm/run.sh tests/vm/guest/60-zcap-run.sh
. "$(dirname "$0")/lib.sh"

RUN=$BUILD/zcap-run
TCPDUMP=$BUILD/vm/tcpdump
N=${ZR_FRAMES:-100000}
skip_unless "tcpdump under zcap-run" "pf_zerocopy is not loaded" module_loaded pf_zerocopy
skip_unless "tcpdump under zcap-run" "no tcpdump in the VM (not installed on the host)" \
	[ -x "$TCPDUMP" ]
skip_unless "tcpdump under zcap-run" "no $RUN or $BUILD/libzcap-pcap.so" \
	[ -x "$RUN" -a -f "$BUILD/libzcap-pcap.so" ]

check "rmmod pf_zerocopy (to reload it with pairs=1)" rmmod pf_zerocopy
check "insmod pf_zerocopy family=27 pairs=1" insmod "$KMOD" family=27 pairs=1
if [ ! -e /sys/class/net/zc0 ] || [ ! -e /sys/class/net/zc1 ]; then
	not_ok "pairs=1 makes zc0 and zc1"
	insmod "$KMOD" family=27 2>/dev/null
	exit 1
fi
for i in zc0 zc1; do
	sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1" 2>/dev/null
	ip link set "$i" up
done
MAC=$(mac zc1)

stat_of() { cat "/sys/class/net/$1/statistics/$2"; }
sent() { kv "$TMP/gen.log" sent; }
# zcap-gen's AF_PACKET sends on zc0 (CPU 0): the driver path from an skb
gen() { taskset -c 0 "$GEN" -q -i zc0 --dst-mac "$MAC" "$@" 2>"$TMP/gen.log"; }
# direct_rx IF: the rx count of the socket /proc/net/pf_zerocopy shows as
# IF's direct receiver; nothing if there is none
direct_rx() { awk -v i="$1" '$3 == i && $10 == 1 { print $6 }' /proc/net/pf_zerocopy; }
# td_line ERR WHAT: the number before "packets WHAT" in tcpdump's summary
td_line() { sed -n "s/^\([0-9]*\) packets* $2\$/\1/p" "$1"; }
# count FILE [FILTER]: the frames tcpdump reads back from FILE (plainly);
# "error" if it cannot (-Z root: there is no tcpdump user to drop to)
count() {
	_f=$1
	shift
	if "$TCPDUMP" -Z root -r "$_f" -n "$@" >"$TMP/r.out" 2>"$TMP/r.err"; then
		wc -l <"$TMP/r.out" | tr -d ' '
	else
		sed 's/^/# tcpdump -r: /' "$TMP/r.err" >&2
		echo error
	fi
}

# zr_start FILE ARGS...: tcpdump -w FILE ARGS... under zcap-run (CPU 1,
# ZCAP_RUN_VERBOSE=1, stderr in $TMP/zr.err) until it listens; sets ZR
# (tcpdump itself: taskset, env and zcap-run exec it)
zr_start() {
	_zf=$1
	shift
	rm -f "$_zf" "$TMP/zr.err"
	taskset -c 1 env ZCAP_RUN_VERBOSE=1 "$RUN" "$TCPDUMP" -Z root -n -i zc1 -w "$_zf" "$@" \
		2>"$TMP/zr.err" &
	ZR=$!
	wait_for "$TMP/zr.err" "listening on" 600 "$ZR" && return 0
	sed 's/^/# zcap-run: /' "$TMP/zr.err"
	return 1
}
# witness_start: a plain tcpdump on zc1 (the stack), until it listens;
# sets WIT
witness_start() {
	rm -f "$TMP/w.err"
	taskset -c 1 "$TCPDUMP" -Z root -n -i zc1 -w "$TMP/w.pcap" 2>"$TMP/w.err" &
	WIT=$!
	wait_for "$TMP/w.err" "listening on" 600 "$WIT"
}
# td_stop PID ERR: SIGINT after the 1 s buffer timeout has passed; its exit
# status (killed after 60 s: the test goes on)
td_stop() {
	sleep 1.5
	kill -INT "$1" 2>/dev/null
	wait_gone "$1" 600 || { diag "tcpdump $1 did not stop; killing it"; kill -9 "$1"; }
	wait "$1"
	_ts=$?
	sed 's/^/# tcpdump: /' "$2"
	return $_ts
}

# --- 1. every frame once, in order, intact, by the driver path -----------------
for args in "-s 64" "-s 1518" "--random-sizes"; do
	name="zcap-run tcpdump, $N frames, $args"
	rx0=$(stat_of zc1 rx_packets)
	zr_start "$TMP/z.pcap" || { not_ok "$name: starts"; continue; }
	witness_start || not_ok "$name: plain tcpdump witness starts"
	check "$name: libzcap-pcap.so is mapped in tcpdump" grep -q libzcap-pcap.so "/proc/$ZR/maps"
	check "$name: /proc/net/pf_zerocopy shows a direct receiver bound to zc1" \
		[ -n "$(direct_rx zc1)" ]
	# shellcheck disable=SC2086  # $args: options, split on purpose
	gen -c "$N" $args
	check "$name: zcap-gen sent $N" [ "$(sent)" = "$N" ]
	prx=$(direct_rx zc1)
	diag "$name: sent=$(sent) zc1 rx_packets +$(($(stat_of zc1 rx_packets) - rx0)) direct receiver rx=$prx"
	check "$name: the direct receiver on zc1 received all $N" [ "$prx" = "$N" ]
	check "$name: tcpdump exits 0 after SIGINT" td_stop "$ZR" "$TMP/zr.err"
	td_stop "$WIT" "$TMP/w.err" >/dev/null
	check "$name: ZCAP_RUN_VERBOSE says zc1 is captured with backend pfzc" \
		grep -q "zc1: capturing with libzcap, backend pfzc," "$TMP/zr.err"
	check "$name: tcpdump says $N captured, 0 dropped by kernel" \
		[ "$(td_line "$TMP/zr.err" captured)" = "$N" -a \
		  "$(td_line "$TMP/zr.err" "dropped by kernel")" = 0 ]
	check "$name: every frame once, in order, intact (valid=$N)" \
		verify_valid "$N" --expect "$N" "$TMP/z.pcap"
	check "$name: none reached the stack (the plain tcpdump beside it captured 0)" \
		[ "$(td_line "$TMP/w.err" captured)" = 0 -a "$(count "$TMP/w.pcap")" = 0 ]
	rm -f "$TMP/z.pcap" "$TMP/w.pcap"
done

# --- 2. a filter matching half the stream: the even sequence numbers ----------
# (the low byte of the big-endian seq at offset 46 is ether[53])
F=2000 H=1000
zr_start "$TMP/f.pcap" "udp port 9 and ether[53] & 1 = 0" || not_ok "filter: tcpdump starts"
gen -c $F -s 128
check "filter 'udp port 9 and ether[53] & 1 = 0': tcpdump exits 0" td_stop "$ZR" "$TMP/zr.err"
check "filter: tcpdump says $H captured" \
	[ "$(td_line "$TMP/zr.err" captured)" = $H ]
check "filter: the $H in the file, in order and intact (valid=$H of $F)" \
	verify_valid $H --allow-loss --expect $F "$TMP/f.pcap"
check "filter: all $H even, none odd (tcpdump -r reads them back)" \
	[ "$(count "$TMP/f.pcap")" = $H -a "$(count "$TMP/f.pcap" "ether[53] & 1 = 1")" = 0 ]

# --- 3. -c N stops at exactly N ------------------------------------------------
C=1000
zr_start "$TMP/c.pcap" -c $C || not_ok "-c $C: tcpdump starts"
gen -c $((3 * C)) -s 64
wait_gone "$ZR" 600 || { diag "-c $C: tcpdump still runs; killing it"; kill -9 "$ZR"; }
wait "$ZR"
rc=$?
sed 's/^/# tcpdump: /' "$TMP/zr.err"
check "-c $C: tcpdump stops by itself, status 0, after $((3 * C)) sent" [ $rc -eq 0 ]
check "-c $C: tcpdump says $C captured" [ "$(td_line "$TMP/zr.err" captured)" = $C ]
check "-c $C: the file holds exactly seq 0..$((C - 1)), in order, intact (valid=$C)" \
	verify_valid $C --expect $C "$TMP/c.pcap"
check "-c $C: the socket is gone with tcpdump (no direct receiver on zc1)" \
	[ -z "$(direct_rx zc1)" ]

check "rmmod pf_zerocopy" rmmod pf_zerocopy
check "insmod pf_zerocopy family=27 again" insmod "$KMOD" family=27
rm -rf "$TMP"
