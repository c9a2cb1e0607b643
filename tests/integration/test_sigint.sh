#!/bin/sh
# SIGINT or SIGTERM in the middle of a capture, while traffic flows, leaves a
# valid file with every packet counted.
. "$(dirname "$0")/../lib.sh"
need_root "stop in mid-capture"
testbed_up

for sig in INT TERM; do
	for f in "$TMP/s.pcapng" "$TMP/s.pcap"; do
		start_capture "$TMP/cap.log" -q -w "$f" || not_ok "zcap starts"
		# paced, so the signal lands while frames are still arriving
		in_gen "$GEN" -q -i "$GEN_IF" --dst-mac "$CAP_MAC" -d 3 -r 20000 \
			-s 256 2>"$TMP/gen.log" &
		gpid=$!
		sleep 1
		kill -$sig "$CAP_PID"
		wait "$CAP_PID"
		rc=$?
		CAP_PID=
		wait $gpid
		name="SIG$sig, $(basename "$f")"
		captured=$(summary "$TMP/cap.log" captured)
		diag "$name: captured=$captured"
		check "$name: zcap exits 0" [ $rc -eq 0 ]
		check "$name: some packets captured" [ "$captured" -gt 0 ]
		check "$name: tshark reads the file without a warning" tshark_clean "$f"
		check "$name: file holds every packet zcap reported" \
			[ "$(tshark -r "$f" -T fields -e frame.number 2>/dev/null | wc -l)" -eq "$captured" ]
		"$VERIFY" --allow-loss "$f" >"$TMP/v.out" 2>&1
		last=$(kv "$TMP/v.out" last_seq)
		check "$name: the packets are the stream's first $((last + 1)), none missing" \
			"$VERIFY" --expect $((last + 1)) "$f"
		check "$name: the stop came mid-stream" \
			[ "$(kv "$TMP/gen.log" sent)" -gt $((last + 1)) ]
		rm -f "$f"
	done
done

# The interface is deleted in the middle of a capture: a clear message, a
# non-zero exit, and a valid file with every packet that was captured.
start_capture "$TMP/cap.log" -q -w "$TMP/gone.pcapng" || not_ok "zcap starts"
gen -c 1000 -s 64
sleep 0.2
ip -n "$CAP_NS" link del "$CAP_IF"
wait "$CAP_PID"
rc=$?
CAP_PID=
check "interface deleted: zcap exits non-zero" [ $rc -ne 0 ]
check "interface deleted: the message says so" \
	grep -q "^zcap: $CAP_IF: interface went down or was removed" "$TMP/cap.log"
check "interface deleted: 1000 packets captured before" \
	[ "$(summary "$TMP/cap.log" captured)" -eq 1000 ]
check "interface deleted: the file is valid and complete" \
	"$VERIFY" --expect 1000 "$TMP/gone.pcapng"
check "interface deleted: tshark reads it without a warning" \
	tshark_clean "$TMP/gone.pcapng"
