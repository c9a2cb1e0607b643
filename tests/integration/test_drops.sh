#!/bin/sh
# A deliberately tiny ring with a stalled reader: the kernel drops, and every
# drop is counted once, so captured + dropped (by ring and by interface) =
# sent, and what was captured is still in order and intact. Then the same
# tiny ring with a reader that keeps reading while the generator outruns it:
# the drops happen between reads (on xdp over veth, veth counts each failed
# redirect in its rx_dropped as well: it must not be counted twice).
. "$(dirname "$0")/../lib.sh"
need_root "drop accounting"
testbed_up

N=20000
start_capture "$TMP/cap.log" -q -B 32 --block-size 4096 -w "$TMP/d.pcapng" ||
	not_ok "zcap starts with a 32 KiB ring"
kill -STOP "$CAP_PID"		# the reader stalls
gen -c $N -s 1518
sent=$(kv "$TMP/gen.log" sent)
lost=$(( $(kv "$TMP/gen.log" if_tx_dropped) - $(kv "$TMP/gen.log" retries) ))
kill -CONT "$CAP_PID"
sleep 0.3
check "zcap exits 0" stop_capture
captured=$(summary "$TMP/cap.log" captured)
dropped=$(summary "$TMP/cap.log" "dropped by ring")
ifdrop=$(summary "$TMP/cap.log" "dropped by interface")
diag "sent=$sent captured=$captured ring_drop=$dropped if_drop=$ifdrop link_lost=$lost"
check "the stalled ring dropped packets" [ "$dropped" -gt 0 ]
check "captured + dropped = sent" [ $((captured + dropped + ifdrop + lost)) -eq "$sent" ]
"$VERIFY" --allow-loss --expect $N "$TMP/d.pcapng" >"$TMP/v.out" 2>&1
rc=$?
diag "$(cat "$TMP/v.out")"
check "what was captured is in order and intact" [ $rc -eq 0 ]
check "the file holds exactly the captured count" \
	[ "$(kv "$TMP/v.out" valid)" -eq "$captured" ]
check "missing frames = dropped frames" \
	[ "$(kv "$TMP/v.out" missing)" -eq $((dropped + lost)) ]
capinfos "$TMP/d.pcapng" >"$TMP/ci.out" 2>&1
check "the file ends with a statistics block" grep -q "Number of stat entries = 1" "$TMP/ci.out"

# A reader that keeps up as best it can with a tiny ring: full speed, 64 B
rm -f "$TMP/d.pcapng"
start_capture "$TMP/cap2.log" -q -B 32 --block-size 4096 -w /dev/null ||
	not_ok "zcap starts with a 32 KiB ring (running reader)"
gen -c 100000 -s 64
sleep 0.3
check "running reader: zcap exits 0" stop_capture
check "running reader: captured + dropped by ring + by interface + lost on the link = sent" \
	accounted "$TMP/cap2.log"
