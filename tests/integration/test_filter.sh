#!/bin/sh
# A tcpdump filter, run in the kernel, lets only matching packets through,
# and what it rejected is counted.
. "$(dirname "$0")/../lib.sh"
need_root "kernel filter"
testbed_up

# Interleave two streams so the filter must pick packets, not a time window:
# seq 0..999 to 198.18.0.2, seq 1000..2999 to 198.18.0.3, in three rounds.
start_capture "$TMP/cap.log" -q -w "$TMP/f.pcapng" "udp and dst host 198.18.0.3" ||
	not_ok "zcap starts with a filter"
gen -c 500 -s 128 --dst-ip 198.18.0.2 --start-seq 0
gen -c 1000 -s 128 --dst-ip 198.18.0.3 --start-seq 1000
gen -c 500 -s 128 --dst-ip 198.18.0.2 --start-seq 500
gen -c 1000 -s 128 --dst-ip 198.18.0.3 --start-seq 2000
sleep 0.2
check "filtered capture exits 0" stop_capture
captured=$(summary "$TMP/cap.log" captured)
filtered=$(summary "$TMP/cap.log" "filtered by kernel")
diag "captured=$captured filtered=$filtered"
check "only the 2000 matching packets captured" [ "$captured" -eq 2000 ]
check "the 1000 others counted as filtered" [ "$filtered" -eq 1000 ]
check "they are exactly seq 1000..2999, in order, intact" \
	verified "$TMP/f.pcapng" 2000 --start-seq 1000
check "tshark agrees: every packet is to 198.18.0.3" \
	[ "$(tshark -r "$TMP/f.pcapng" -T fields -e ip.dst 2>/dev/null | sort -u)" = 198.18.0.3 ]

# A filter that matches nothing: an empty, valid file.
start_capture "$TMP/cap.log" -q -w "$TMP/none.pcap" "tcp port 80" || not_ok "zcap starts"
gen -c 1000 -s 64
sleep 0.2
stop_capture
check "non-matching filter: 0 captured" [ "$(summary "$TMP/cap.log" captured)" -eq 0 ]
check "non-matching filter: 1000 filtered" \
	[ "$(summary "$TMP/cap.log" "filtered by kernel")" -eq 1000 ]
check "non-matching filter: empty file still valid" tshark_clean "$TMP/none.pcap"

# Direction: -Q in on the capture end sees the generator's frames,
# -Q out sees none of them. XDP sees only received packets: it refuses
# -Q out with a reason, and leaves no file.
if [ "${ZCAP_BACKEND:-}" = xdp ]; then
	in_cap "$ZCAP" --backend xdp -i "$CAP_IF" -q -Q out -w "$TMP/out.pcap" \
		>/dev/null 2>"$TMP/out.err"
	rc=$?
	diag "$(cat "$TMP/out.err")"
	check "-Q out: refused, no file" [ $rc -ne 0 -a ! -e "$TMP/out.pcap" ]
	check "-Q out: the message says why" grep -q "XDP sees only received packets" "$TMP/out.err"
else
	start_capture "$TMP/cap.log" -q -Q out -w "$TMP/out.pcap" || not_ok "zcap starts"
	gen -c 300 -s 64
	sleep 0.2
	stop_capture
	check "-Q out: incoming frames not captured" [ "$(summary "$TMP/cap.log" captured)" -eq 0 ]
fi
start_capture "$TMP/cap.log" -q -Q in -w "$TMP/in.pcap" || not_ok "zcap starts"
gen -c 300 -s 64
sleep 0.2
stop_capture
check "-Q in: all 300 incoming frames captured, intact" verified "$TMP/in.pcap" 300
