#!/bin/sh
# zcap-run: unchanged tcpdump (the system's, dynamically linked) captures
# through libzcap (LD_PRELOAD=libzcap-pcap.so), side by side with a plain
# tcpdump on the same interface; the two files must hold the same frames.
. "$(dirname "$0")/../lib.sh"
need_root "zcap-run"
RUN="$BUILD/zcap-run"
if ! command -v tcpdump >/dev/null 2>&1; then
	skip "zcap-run" "tcpdump is not installed"
	exit 0
fi
testbed_up

check "zcap-run --help documents the environment" \
	sh -c '"$1" --help | grep -q ZCAP_RUN_BACKEND && "$1" --help | grep -q ZCAP_RUN_RING_BYTES &&
		"$1" --help | grep -q ZCAP_RUN_VERBOSE' sh "$RUN"

ZPID= PPID_=
# tcpdump_both NAME TCPDUMP-ARGS...: tcpdump under zcap-run (stderr in
# $TMP/z.err, file $TMP/z.pcap) and plainly ($TMP/p.err, $TMP/p.pcap),
# both started and listening
tcpdump_both() {
	rm -f "$TMP/z.err" "$TMP/p.err" "$TMP/z.pcap" "$TMP/p.pcap"
	# ip netns exec and zcap-run exec: $! is tcpdump itself
	ip netns exec "$CAP_NS" env ZCAP_RUN_VERBOSE=1 ${ZCAP_BACKEND:+ZCAP_RUN_BACKEND=$ZCAP_BACKEND} \
		"$RUN" tcpdump -Z root -i "$CAP_IF" -w "$TMP/z.pcap" "$@" 2>"$TMP/z.err" &
	ZPID=$!
	ip netns exec "$CAP_NS" tcpdump -Z root -i "$CAP_IF" -w "$TMP/p.pcap" "$@" 2>"$TMP/p.err" &
	PPID_=$!
	wait_for "$TMP/z.err" "listening on" 100 "$ZPID" &&
		wait_for "$TMP/p.err" "listening on" 100 "$PPID_" && return 0
	diag "tcpdump did not start:"; sed 's/^/# /' "$TMP/z.err" "$TMP/p.err"
	return 1
}
# stop_both: SIGINT to both after their 1 s buffer timeout has passed
stop_both() {
	sleep 1.5
	kill -INT "$ZPID" "$PPID_" 2>/dev/null
	wait "$ZPID"; _zrc=$?
	wait "$PPID_"; _prc=$?
	sed 's/^/# zcap-run: /' "$TMP/z.err"
	sed 's/^/# plain: /' "$TMP/p.err"
	[ $_zrc -eq 0 ] && [ $_prc -eq 0 ]
}
# frames FILE: every frame's bytes, no time stamps
frames() { tcpdump -r "$1" -nn -t -xx 2>/dev/null; }
# stat_line FILE WHAT: the number before "packets WHAT" in tcpdump's summary
stat_line() { sed -n "s/^\([0-9]*\) packets* $2\$/\1/p" "$1"; }

N=2000
tcpdump_both || not_ok "both tcpdumps start"
check "tcpdump under zcap-run runs with libzcap-pcap.so mapped" \
	grep -q libzcap-pcap.so "/proc/$ZPID/maps"
check "plain tcpdump does not" sh -c '! grep -q libzcap-pcap.so "/proc/$1/maps"' sh "$PPID_"
gen -c $N -s 128
check "both tcpdumps exit 0 after SIGINT" stop_both
check "ZCAP_RUN_VERBOSE names the backend libzcap took" \
	grep -q "capturing with libzcap, backend ${ZCAP_BACKEND:-[a-z]*}," "$TMP/z.err"
check "under zcap-run: the $N frames each once, in order, intact (libpcap)" \
	verified "$TMP/z.pcap" $N
check "plain tcpdump: the $N frames too" verified "$TMP/p.pcap" $N
check "tshark reads the zcap-run file without a warning" tshark_clean "$TMP/z.pcap"
check "tshark counts $N packets in it" \
	[ "$(tshark -r "$TMP/z.pcap" -T fields -e frame.number 2>/dev/null | wc -l)" -eq $N ]
frames "$TMP/z.pcap" >"$TMP/z.txt"
frames "$TMP/p.pcap" >"$TMP/p.txt"
check "both files hold the same frames, byte for byte" \
	sh -c '[ -s "$1" ] && cmp -s "$1" "$2"' sh "$TMP/z.txt" "$TMP/p.txt"
check "pcap_stats: $N packets received by filter" \
	[ "$(stat_line "$TMP/z.err" "received by filter")" = $N ]
check "pcap_stats: 0 packets dropped by kernel" \
	[ "$(stat_line "$TMP/z.err" "dropped by kernel")" = 0 ]
check "tcpdump's own count: $N packets captured" \
	[ "$(stat_line "$TMP/z.err" captured)" = $N ]

# A filter that matches (zcap-gen sends to UDP port 9), beside one that
# does not, at once in the same program run twice.
tcpdump_both "udp port 9" || not_ok "tcpdump starts with a filter"
gen -c 1000 -s 64
check "filter 'udp port 9': both exit 0" stop_both
check "filter 'udp port 9': all 1000 frames under zcap-run" verified "$TMP/z.pcap" 1000
frames "$TMP/z.pcap" >"$TMP/z.txt"
frames "$TMP/p.pcap" >"$TMP/p.txt"
check "filter 'udp port 9': the same frames as plain tcpdump" \
	sh -c '[ -s "$1" ] && cmp -s "$1" "$2"' sh "$TMP/z.txt" "$TMP/p.txt"
tcpdump_both "udp port 10" || not_ok "tcpdump starts with a filter"
gen -c 1000 -s 64
check "filter 'udp port 10': both exit 0" stop_both
check "filter 'udp port 10': no frame under zcap-run, valid empty file" \
	sh -c '[ "$(tcpdump -r "$1" 2>/dev/null | wc -l)" -eq 0 ] && tcpdump -r "$1" >/dev/null 2>&1' \
	sh "$TMP/z.pcap"
check "filter 'udp port 10': 0 received by filter, as plain tcpdump says" \
	[ "$(stat_line "$TMP/z.err" "received by filter")" = 0 -a \
	  "$(stat_line "$TMP/p.err" "received by filter")" = 0 ]

# Snap length and nanosecond time stamps: the file header and records
# follow the final handle's values.
tcpdump_both -s 96 --time-stamp-precision=nano || not_ok "tcpdump starts with -s 96 --nano"
gen -c 500 -s 256
check "-s 96 --nano: both exit 0" stop_both
check "-s 96: 500 frames, each cut to 96 bytes" \
	counted truncated "$TMP/z.pcap" 500 --allow-truncated
check "-s 96: the file's snap length is 96" \
	[ "$(capinfos -l "$TMP/z.pcap" 2>/dev/null | sed -n 's/.*Packet size limit: *file hdr: *\([0-9]*\).*/\1/p')" = 96 ]
check "--nano: nanosecond time stamps in the file" \
	sh -c 'capinfos -t "$1" 2>/dev/null | grep -q "nanosecond"' sh "$TMP/z.pcap"
frames "$TMP/z.pcap" >"$TMP/z.txt"
frames "$TMP/p.pcap" >"$TMP/p.txt"
check "-s 96: the same cut frames as plain tcpdump" \
	sh -c '[ -s "$1" ] && cmp -s "$1" "$2"' sh "$TMP/z.txt" "$TMP/p.txt"
zts=$(tshark -r "$TMP/z.pcap" -T fields -e frame.time_epoch 2>/dev/null | head -1)
pts=$(tshark -r "$TMP/p.pcap" -T fields -e frame.time_epoch 2>/dev/null | head -1)
diag "first time stamps: zcap-run $zts plain $pts"
check "--nano: the first time stamp within 1 s of plain tcpdump's" \
	awk -v a="$zts" -v b="$pts" 'BEGIN { d = a - b; exit !(a > 0 && d < 1 && d > -1) }'

# Failure the way libpcap fails: an exit status and pcap_geterr's message.
ip netns exec "$CAP_NS" "$RUN" tcpdump -Z root -i nosuch0 -w "$TMP/n.pcap" 2>"$TMP/n.err"
rc=$?
diag "$(cat "$TMP/n.err")"
check "no such interface: tcpdump fails with zcap-run's message" \
	sh -c '[ "$1" -ne 0 ] && grep -q "zcap-run: nosuch0: no such interface" "$2"' sh $rc "$TMP/n.err"
