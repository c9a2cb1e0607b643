#!/bin/sh
# Guest script: the module's virtual pair (kmod/vnet.c, zc0 <-> zc1) and its
# direct receive path. Reloads the module with pairs=1, then checks:
# every frame once, in order, intact, by the driver path from an skb and
# from a tx ring (no skb at all); that those frames never reach the stack;
# filters on both; one direct receiver per device; the stack path (capture
# and ping across the pair) with no socket bound; the device leaving under
# a bound socket; rmmod with the pair up. Ends with the module loaded as
# before (family=27, no pairs). Run it alone with
#   make vm-bins && sh tests/vm/run.sh tests/vm/guest/40-pfzc-vnet.sh
. "$(dirname "$0")/lib.sh"

SMOKE=$BUILD/vm/pfzc_smoke
N=${PFZC_FRAMES:-100000}
need_pfzc "virtual pair" "$SMOKE"

check "rmmod pf_zerocopy (to reload it with pairs=1)" rmmod pf_zerocopy
check "insmod pf_zerocopy family=27 pairs=1" insmod "$KMOD" family=27 pairs=1
if [ ! -e /sys/class/net/zc0 ] || [ ! -e /sys/class/net/zc1 ]; then
	not_ok "pairs=1 makes zc0 and zc1"
	exit 1
fi
ok "pairs=1 makes zc0 and zc1"
for i in zc0 zc1; do
	sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1" 2>/dev/null
done
ip link set zc0 up
check "carrier off while one side is down" [ "$(cat /sys/class/net/zc0/carrier)" = 0 ]
ip link set zc1 up
check "carrier on once both sides are up" \
	[ "$(cat /sys/class/net/zc0/carrier)$(cat /sys/class/net/zc1/carrier)" = 11 ]
MAC=$(mac zc1)

stat_of() { cat "/sys/class/net/$1/statistics/$2"; }
sent() { kv "$TMP/gen.log" sent; }
captured() { summary "$1" captured; }
ring_drops() { summary "$1" "dropped by ring"; }
filtered() { summary "$1" "filtered by kernel"; }
gen() { taskset -c 0 "$GEN" -q -i zc0 --dst-mac "$MAC" "$@" 2>"$TMP/gen.log"; }
# direct_on IF: /proc/net/pf_zerocopy shows a direct receiver on IF
direct_on() { awk -v i="$1" '$3 == i && $10 == 1 { f = 1 } END { exit !f }' /proc/net/pf_zerocopy; }

# --- 1. the driver path, from an skb (zcap-gen's AF_PACKET sends on zc0) ---
for args in "-s 64" "-s 1518" "--random-sizes"; do
	name="direct, $N frames, $args"
	rx0=$(stat_of zc1 rx_packets) tx0=$(stat_of zc0 tx_packets)
	start_cap zc1 "$TMP/cap.log" --backend pfzc -q -w "$TMP/c.pcapng" ||
		{ not_ok "$name: zcap starts"; continue; }
	zc=$CAP
	# a second capture through the stack: it must see none of these frames
	start_cap zc1 "$TMP/stack.log" --backend tpacket -q -w /dev/null ||
		not_ok "$name: tpacket witness starts"
	witness=$CAP
	check "$name: /proc/net/pf_zerocopy shows zc1's direct receiver" direct_on zc1
	gen -c "$N" $args
	sleep 1
	stop_cap $zc
	check "$name: zcap exits 0" [ $? -eq 0 ]
	stop_cap $witness
	c=$(captured "$TMP/cap.log") d=$(ring_drops "$TMP/cap.log")
	diag "$name: sent=$(sent) captured=$c ring_drops=$d stack=$(captured "$TMP/stack.log")"
	check "$name: captured + dropped = sent" [ $((c + d)) -eq "$(sent)" ]
	check "$name: every frame once, in order, intact (valid=$N)" \
		verify_valid "$N" --expect "$N" "$TMP/c.pcapng"
	check "$name: none reached the stack (a tpacket capture saw 0)" \
		[ "$(captured "$TMP/stack.log")" = 0 ]
	check "$name: zc1 rx_packets and zc0 tx_packets grew by $N" \
		[ $(($(stat_of zc1 rx_packets) - rx0)) -eq "$N" -a \
		  $(($(stat_of zc0 tx_packets) - tx0)) -eq "$N" ]
	rm -f "$TMP/c.pcapng"
done

# --- 2. ring to ring: a tx ring on zc0 into the rx ring on zc1, no skb -------
R=20000	# fits zcap's ring even if it does not read at all
start_cap zc1 "$TMP/cap.log" --backend pfzc -q -w "$TMP/r.pcapng" || not_ok "ring to ring: zcap starts"
zc=$CAP
start_cap zc1 "$TMP/stack.log" --backend tpacket -q -w /dev/null || not_ok "ring to ring: witness starts"
witness=$CAP
"$SMOKE" tx zc0 $R "$MAC"
check "ring to ring: pfzc_smoke tx exits 0" [ $? -eq 0 ]
sleep 1
stop_cap $zc
stop_cap $witness
c=$(captured "$TMP/cap.log") d=$(ring_drops "$TMP/cap.log")
diag "ring to ring: sent=$R captured=$c ring_drops=$d stack=$(captured "$TMP/stack.log")"
check "ring to ring: zcap captured all $R" [ "$c" = $R ]
check "ring to ring: every frame once, in order, intact (valid=$R)" \
	verify_valid $R --expect $R "$TMP/r.pcapng"
check "ring to ring: none reached the stack" [ "$(captured "$TMP/stack.log")" = 0 ]
rm -f "$TMP/r.pcapng"

# the same path from zcap-gen's tx-ring backend, random sizes
start_cap zc1 "$TMP/cap.log" --backend pfzc -q -w "$TMP/r.pcapng" || not_ok "zcap-gen --backend pfzc: zcap starts"
gen --backend pfzc -c $R --random-sizes
check "zcap-gen --backend pfzc: sent $R, none failed" \
	[ "$(sent)" = $R -a "$(kv "$TMP/gen.log" if_tx_dropped)" = 0 ]
sleep 1
stop_cap $CAP
check "zcap-gen --backend pfzc: every frame once, in order, intact (valid=$R)" \
	verify_valid $R --expect $R "$TMP/r.pcapng"
rm -f "$TMP/r.pcapng"

# --- 3. filters before the copy, on both entries -----------------------------
start_cap zc1 "$TMP/cap.log" --backend pfzc -q -w "$TMP/f.pcap" "dst host 198.18.0.3" ||
	not_ok "direct filter: zcap starts"
gen -c 300 -s 128 --dst-ip 198.18.0.2
gen -c 700 -s 128 --dst-ip 198.18.0.3 --start-seq 300
sleep 1
stop_cap $CAP
check "direct filter (skb entry): only the 700 matching captured" [ "$(captured "$TMP/cap.log")" = 700 ]
check "direct filter (skb entry): the 300 others counted as filtered" [ "$(filtered "$TMP/cap.log")" = 300 ]
check "direct filter (skb entry): seq 300..999, in order, intact (valid=700)" \
	verify_valid 700 --start-seq 300 --expect 700 "$TMP/f.pcap"

# even seqs only: the low byte of the big-endian seq at offset 46
start_cap zc1 "$TMP/cap.log" --backend pfzc -q -w "$TMP/f.pcap" "udp and ether[53] & 1 = 0" ||
	not_ok "direct filter (ring entry): zcap starts"
"$SMOKE" tx zc0 1000 "$MAC" >"$TMP/smoke.out" 2>&1
sleep 1
stop_cap $CAP
check "direct filter (ring entry): the 500 even seqs captured" [ "$(captured "$TMP/cap.log")" = 500 ]
check "direct filter (ring entry): the 500 odd counted as filtered" [ "$(filtered "$TMP/cap.log")" = 500 ]
check "direct filter (ring entry): the 500 in the file, in order and intact (valid=500)" \
	verify_valid 500 --allow-loss --expect 1000 "$TMP/f.pcap"

# direction: an ancillary load (pkttype); every frame here is inbound
for q in in out; do
	start_cap zc1 "$TMP/cap.log" --backend pfzc -q -Q $q -w /dev/null || not_ok "-Q $q: zcap starts"
	gen -c 1000 -s 64
	sleep 1
	stop_cap $CAP
	want=1000
	[ $q = out ] && want=0
	check "direct filter -Q $q: $want of 1000 captured, the rest filtered" \
		[ "$(captured "$TMP/cap.log")" = $want -a "$(filtered "$TMP/cap.log")" = $((1000 - want)) ]
done

# --- 4. one direct receiver per device ---------------------------------------
start_cap zc1 "$TMP/cap.log" --backend pfzc -q -w /dev/null || not_ok "second receiver: first zcap starts"
"$ZCAP" --backend pfzc -i zc1 -q -w "$TMP/second.pcap" >"$TMP/second.out" 2>&1
rc=$?
diag "second receiver: $(cat "$TMP/second.out")"
check "second receiver: refused with a clear message" \
	[ $rc -ne 0 -a ! -e "$TMP/second.pcap" ]
check "second receiver: the message says why" grep -q "already receives directly" "$TMP/second.out"
stop_cap $CAP

# --- 5. the stack path, with no PF_ZEROCOPY socket bound ---------------------
start_cap zc1 "$TMP/cap.log" --backend tpacket -q -w "$TMP/s.pcapng" || not_ok "stack capture: zcap starts"
gen -c 1000 --random-sizes
sleep 1
stop_cap $CAP
check "stack path: tpacket captures 1000 of 1000, in order, intact (valid=1000)" \
	verify_valid 1000 --expect 1000 "$TMP/s.pcapng"

unshare -n sleep 600 &
ns=$!
sleep 0.2
ip link set zc1 netns $ns
nsenter -t $ns -n ip link set lo up
nsenter -t $ns -n ip link set zc1 up
nsenter -t $ns -n ip addr add 10.99.0.2/24 dev zc1
ip addr add 10.99.0.1/24 dev zc0
ping -c 3 -W 5 10.99.0.2 >"$TMP/ping.out" 2>&1
rc=$?
diag "$(tail -2 "$TMP/ping.out" | tr '\n' ' ')"
check "stack path: ping across the pair (zc1 in its own namespace)" [ $rc -eq 0 ]

# --- 6. the device leaves while a direct receiver is bound, under traffic ------
nsenter -t $ns -n ip addr flush dev zc1
nsenter -t $ns -n ip link set zc1 netns 1
ip addr flush dev zc0
ip link set zc1 up
start_cap zc1 "$TMP/cap.log" --backend pfzc -q -w "$TMP/g.pcapng" || not_ok "device leaves: zcap starts"
gen -d 4 -s 64 &
g=$!
sleep 1
ip link set zc1 netns $ns
wait $CAP
rc=$?
wait $g
diag "device leaves: $(grep -i 'error\|went\|down' "$TMP/cap.log" | head -2 | tr '\n' ' ')"
check "device leaves: zcap stops with an error" [ $rc -ne 0 ]
check "device leaves: its file is still valid" "$VERIFY" --allow-loss "$TMP/g.pcapng"
nsenter -t $ns -n ip link set zc1 netns 1
kill $ns
wait $ns 2>/dev/null

# --- 7. rmmod with the pair up, traffic on it, no PF_ZEROCOPY socket ----------
ip link set zc1 up
gen -d 4 -s 64 &
g=$!
sleep 1
check "rmmod with the pair up and frames flowing" rmmod pf_zerocopy
wait $g
check "zc0 and zc1 are gone" [ ! -e /sys/class/net/zc0 -a ! -e /sys/class/net/zc1 ]
check "insmod pf_zerocopy family=27 again" insmod "$KMOD" family=27
rm -rf "$TMP"
