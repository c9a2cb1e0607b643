#!/bin/sh
# Guest script: zcap-arpd on the pfzc backend, on the module's virtual pair
# (zc0 <-> zc1): it captures ARP on zc1 through a PF_ZEROCOPY socket and
# forwards each reply, written over its request, through the module's
# transmit ring (the pfzc rx frames are the kernel's to fill: one copy).
# 10,000 requests from zcap-gen --arp on zc0, each answered once, in order,
# counted on zc0 by a tpacket capture; requests for another address get no
# reply. Run it alone with
#   make vm-bins && sh tests/vm/run.sh tests/vm/guest/45-arpd-pfzc.sh
. "$(dirname "$0")/lib.sh"

ARPD=$BUILD/zcap-arpd
N=${ARPD_FRAMES:-10000}
need_pfzc "zcap-arpd on pfzc" "$ARPD"
with_pairs
trap 'kill -9 $AP $CAP 2>/dev/null; pfzc_restore; echo "# zcap-vm: end ${0##*/}"' EXIT

# the transmit side opens only on a running link: its operstate, which
# the kernel sets a moment after the carrier
for i in $(seq 100); do
	[ "$(cat /sys/class/net/zc1/operstate)" = up ] && [ "$(cat /sys/class/net/zc0/operstate)" = up ] && break
	sleep 0.1
done
AP=
taskset -c 1 "$ARPD" -i zc1 --backend pfzc -v -a 10.9.0.2 2>"$TMP/arpd.log" &
AP=$!
if ! wait_for "$TMP/arpd.log" "listening on" 300 "$AP"; then
	sed 's/^/# /' "$TMP/arpd.log"
	not_ok "zcap-arpd starts on zc1 with --backend pfzc"
	exit 1
fi
ok "zcap-arpd starts on zc1 with --backend pfzc"
diag "$(grep -E 'listening|forwarding' "$TMP/arpd.log")"
check "replies go through a pfzc transmit handle (one copy)" \
	grep -q "forwarding by copy through the pfzc transmit backend" "$TMP/arpd.log"

start_cap zc0 "$TMP/cap.log" --backend tpacket -Q in -q -w "$TMP/rep.pcapng" arp ||
	not_ok "a tpacket capture on zc0 starts"
taskset -c 0 "$GEN" -q -i zc0 --arp 10.9.0.2 --src-ip 10.16.0.0 -c "$N" 2>"$TMP/gen.log"
taskset -c 0 "$GEN" -q -i zc0 --arp 10.9.0.4 --src-ip 10.17.0.0 -c 100 2>"$TMP/gen2.log"
sleep 2
stop_cap
kill -TERM "$AP"
wait "$AP"
rc=$?
AP=
line=$(grep '^zcap-arpd: received=' "$TMP/arpd.log")
diag "$line"
diag "$(cat "$TMP/gen.log")"
akv() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
holds() { eval "$1"; }
check "zcap-arpd exits 0" [ "$rc" = 0 ]
check "zcap-gen sent $N + 100 requests" holds \
	'[ "$(kv "$TMP/gen.log" sent)" = "$N" ] && [ "$(kv "$TMP/gen2.log" sent)" = 100 ]'
check "zcap-arpd: received $((N + 100)), answered $N, 100 not ours, forwarded $N" holds \
	'[ "$(akv received)" = $((N + 100)) ] && [ "$(akv answered)" = "$N" ] &&
	[ "$(akv not_ours)" = 100 ] && [ "$(akv forwarded)" = "$N" ] &&
	[ "$(akv drop_ring_full)" = 0 ] && [ "$(akv forward_dropped)" = 0 ]'
c=$(summary "$TMP/cap.log" captured)
check "zc0 captured $N replies, none dropped ($c)" holds \
	'[ "$c" = "$N" ] && [ "$(summary "$TMP/cap.log" "dropped by ring")" = 0 ]'
