#!/bin/sh
# A deliberately tiny ring with a stalled reader: the kernel drops, and every
# drop is counted, so captured + dropped = sent, and what was captured is
# still in order and intact.
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
diag "sent=$sent captured=$captured ring_drop=$dropped link_lost=$lost"
check "the stalled ring dropped packets" [ "$dropped" -gt 0 ]
check "captured + dropped = sent" [ $((captured + dropped + lost)) -eq "$sent" ]
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
