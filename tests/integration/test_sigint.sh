#!/bin/sh
# SIGINT or SIGTERM in the middle of a capture: a valid file, and every
# packet that reached zcap either in it or counted.
. "$(dirname "$0")/../lib.sh"
need_root "stop in mid-capture"
testbed_up

# While traffic flows: the signal lands between two frames of a paced
# stream, and the file holds exactly what zcap says it captured: the
# stream's first frames, none missing between them.
for sig in INT TERM; do
	for f in "$TMP/s.pcapng" "$TMP/s.pcap"; do
		name="SIG$sig, $(basename "$f")"
		start_capture "$TMP/cap.log" -q -w "$f" || not_ok "$name: zcap starts"
		in_gen "$GEN" -q -i "$GEN_IF" --dst-mac "$CAP_MAC" -d 3 -r 20000 \
			-s 256 2>"$TMP/gen.log" &
		gpid=$!
		sleep 1
		kill -$sig "$CAP_PID"
		wait "$CAP_PID"
		rc=$?
		CAP_PID=
		wait $gpid
		captured=$(summary "$TMP/cap.log" captured)
		diag "$name: captured=$captured sent=$(kv "$TMP/gen.log" sent)"
		check "$name: zcap exits 0" [ $rc -eq 0 ]
		check "$name: the stop came mid-stream (0 < captured < sent)" \
			[ "${captured:-0}" -gt 0 -a "${captured:-0}" -lt "$(kv "$TMP/gen.log" sent)" ]
		check "$name: tshark reads the file without a warning" tshark_clean "$f"
		check "$name: the file holds the $captured packets zcap reported: the stream's first, intact" \
			verified "$f" "${captured:-0}"
		rm -f "$f"
	done
done

# With packets waiting in the ring: zcap is stopped while 20,000 frames
# arrive (paced, so that veth drops none), then signalled and let go. The
# summary must account for every frame sent (in the file, dropped or left
# unread), and since a signal stop writes out what the kernel had put in the
# ring, the file must hold all 20,000.
for c in "INT $TMP/r.pcapng" "TERM $TMP/r.pcap"; do
	set -- $c
	sig=$1 f=$2 name="SIG$1 with 20000 frames in the ring, $(basename "$2")"
	start_capture "$TMP/cap.log" -q -w "$f" || not_ok "$name: zcap starts"
	kill -STOP "$CAP_PID"
	gen -c 20000 -s 256 -r 100000
	kill -$sig "$CAP_PID"
	kill -CONT "$CAP_PID"
	check "$name: zcap exits 0" wait_capture
	check "$name: the summary accounts for every frame sent" accounted "$TMP/cap.log"
	check "$name: the ring is written out: all 20000 in the file, intact" verified "$f" 20000
	rm -f "$f"
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
check "interface deleted: the file is valid and complete" verified "$TMP/gone.pcapng" 1000
check "interface deleted: tshark reads it without a warning" \
	tshark_clean "$TMP/gone.pcapng"
