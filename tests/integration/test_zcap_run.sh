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
	# one still running after 10 s has failed: killed, so the test goes on
	for _p in "$ZPID" "$PPID_"; do
		wait_gone "$_p" 100 || { diag "tcpdump $_p did not stop; killing it"; kill -9 "$_p"; }
	done
	wait "$ZPID"; _zrc=$?
	wait "$PPID_"; _prc=$?
	sed 's/^/# zcap-run: /' "$TMP/z.err"
	sed 's/^/# plain: /' "$TMP/p.err"
	[ $_zrc -eq 0 ] && [ $_prc -eq 0 ]
}
# vs_plain NAME CMD...: a check against the plain tcpdump's file, which
# sees nothing when libzcap captures with XDP (XDP takes the frames before
# AF_PACKET would see them), so skipped on xdp
vs_plain() {
	if [ "${ZCAP_BACKEND:-}" = xdp ]; then
		skip "$1" "XDP takes the frames before the plain tcpdump's AF_PACKET socket"
	else
		check "$@"
	fi
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
check "with no -B, zcap-run's default ring: 16 MiB, not libpcap's 2 MiB nor zcap's 128 MiB" \
	grep -q "backend [a-z]*, ring 16777216 bytes," "$TMP/z.err"
check "under zcap-run: the $N frames each once, in order, intact (libpcap)" \
	verified "$TMP/z.pcap" $N
vs_plain "plain tcpdump: the $N frames too" verified "$TMP/p.pcap" $N
check "tshark reads the zcap-run file without a warning" tshark_clean "$TMP/z.pcap"
check "tshark counts $N packets in it" \
	[ "$(tshark -r "$TMP/z.pcap" -T fields -e frame.number 2>/dev/null | wc -l)" -eq $N ]
frames "$TMP/z.pcap" >"$TMP/z.txt"
frames "$TMP/p.pcap" >"$TMP/p.txt"
vs_plain "both files hold the same frames, byte for byte" \
	sh -c '[ -s "$1" ] && cmp -s "$1" "$2"' sh "$TMP/z.txt" "$TMP/p.txt"
check "pcap_stats: $N packets received by filter" \
	[ "$(stat_line "$TMP/z.err" "received by filter")" = $N ]
check "pcap_stats: 0 packets dropped by kernel" \
	[ "$(stat_line "$TMP/z.err" "dropped by kernel")" = 0 ]
check "tcpdump's own count: $N packets captured" \
	[ "$(stat_line "$TMP/z.err" captured)" = $N ]

# Time stamps: 1500 frames over about 3 s, so the seconds turn during the
# capture (zcap-run keeps the current second and turns it when a stamp
# passes it). Both sockets stamp each frame from the same clock: every
# zcap-run stamp within 10 ms of plain tcpdump's for the same frame, and
# none going back. --nano, as zcap-run keeps nanoseconds too.
tcpdump_both --time-stamp-precision=nano || not_ok "both tcpdumps start (--nano)"
gen -c 1500 -s 128 -r 500
check "--nano, 1500 frames over 3 s: both tcpdumps exit 0" stop_both
stamps() { tshark -r "$1" -T fields -e frame.time_epoch 2>/dev/null; }
stamps "$TMP/z.pcap" >"$TMP/z.ts"
stamps "$TMP/p.pcap" >"$TMP/p.ts"
diag "seconds spanned under zcap-run: $(cut -d. -f1 "$TMP/z.ts" | sort -u | tr '\n' ' ')"
check "the capture spans at least 3 distinct seconds" \
	[ "$(cut -d. -f1 "$TMP/z.ts" | sort -u | wc -l)" -ge 3 ]
vs_plain "every frame's time stamp within 10 ms of plain tcpdump's, none going back" \
	sh -c 'paste "$1" "$2" | awk -F"\t" "
		{ n++; d = \$1 - \$2; if (d > 0.01 || d < -0.01) bad++; if (\$1 < last) back++; last = \$1 }
		END { exit !(n == 1500 && !bad && !back) }"' sh "$TMP/z.ts" "$TMP/p.ts"

# A filter that matches (zcap-gen sends to UDP port 9), beside one that
# does not, at once in the same program run twice.
tcpdump_both "udp port 9" || not_ok "tcpdump starts with a filter"
gen -c 1000 -s 64
check "filter 'udp port 9': both exit 0" stop_both
check "filter 'udp port 9': all 1000 frames under zcap-run" verified "$TMP/z.pcap" 1000
frames "$TMP/z.pcap" >"$TMP/z.txt"
frames "$TMP/p.pcap" >"$TMP/p.txt"
vs_plain "filter 'udp port 9': the same frames as plain tcpdump" \
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

# "inbound" compiles to a load of the kernel's packet type, which a filter
# run in user space (xdp, and the recheck after a filter change) does not
# have: it must still match every frame that came in.
tcpdump_both "inbound and udp port 9" || not_ok "tcpdump starts with an inbound filter"
gen -c 1000 -s 64
check "filter 'inbound and udp port 9': both exit 0" stop_both
check "filter 'inbound and udp port 9': all 1000 frames under zcap-run" verified "$TMP/z.pcap" 1000

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
vs_plain "-s 96: the same cut frames as plain tcpdump" \
	sh -c '[ -s "$1" ] && cmp -s "$1" "$2"' sh "$TMP/z.txt" "$TMP/p.txt"
zts=$(tshark -r "$TMP/z.pcap" -T fields -e frame.time_epoch 2>/dev/null | head -1)
pts=$(tshark -r "$TMP/p.pcap" -T fields -e frame.time_epoch 2>/dev/null | head -1)
diag "first time stamps: zcap-run $zts plain $pts"
vs_plain "--nano: the first time stamp within 1 s of plain tcpdump's" \
	awk -v a="$zts" -v b="$pts" 'BEGIN { d = a - b; exit !(a > 0 && d < 1 && d > -1) }'

# Failure the way libpcap fails: an exit status and pcap_geterr's message.
ip netns exec "$CAP_NS" "$RUN" tcpdump -Z root -i nosuch0 -w "$TMP/n.pcap" 2>"$TMP/n.err"
rc=$?
diag "$(cat "$TMP/n.err")"
check "no such interface: tcpdump fails with zcap-run's message" \
	sh -c '[ "$1" -ne 0 ] && grep -q "zcap-run: nosuch0: no such interface" "$2"' sh $rc "$TMP/n.err"

# The API edges, with a plain libpcap program of ours (progs/pcap_api.c,
# built here against the system libpcap only), under zcap-run.
build_prog pcap_api
API="$TMP/pcap_api"
api() { ip netns exec "$CAP_NS" env ${ZCAP_BACKEND:+ZCAP_RUN_BACKEND=$ZCAP_BACKEND} \
	"$RUN" "$API" "$@"; }
# api_bg OUT MODE ARGS...: the program in the background, after a moment
api_bg() {
	_out=$1
	shift
	ip netns exec "$CAP_NS" env ZCAP_RUN_VERBOSE=1 ${ZCAP_BACKEND:+ZCAP_RUN_BACKEND=$ZCAP_BACKEND} \
		"$RUN" "$API" "$@" >"$_out" 2>"$_out.err" &
	API_PID=$!
	sleep 0.5
}
api_wait() {
	wait_gone "$API_PID" 150 || { diag "pcap_api did not stop; killing it"; kill -9 "$API_PID"; }
	wait "$API_PID"; _rc=$?; sed 's/^/# /' "$1" "$1.err"; return $_rc; }

ip netns exec "$CAP_NS" "$API" errors "$CAP_IF" >"$TMP/e.plain" 2>&1
api errors "$CAP_IF" >"$TMP/e.zcap" 2>&1
sed 's/^/# /' "$TMP/e.zcap"
check "errors before/after activation, bad precision, bad filter: as libpcap's codes" \
	sh -c '[ -s "$1" ] && cmp -s "$1" "$2"' sh "$TMP/e.zcap" "$TMP/e.plain"

api_bg "$TMP/nb" nonblock "$CAP_IF" 500
gen -c 500 -s 64
check "pcap_next_ex non-blocking: exits 0" api_wait "$TMP/nb"
check "pcap_next_ex non-blocking: 500 packets, and 0 (no packet) returned before them" \
	sh -c 'grep -q "^got=500 timeouts=[1-9]" "$1"' sh "$TMP/nb"

check "pcap_next_ex non-blocking: through libzcap" grep -q "capturing with libzcap" "$TMP/nb.err"

api_bg "$TMP/sel" select "$CAP_IF" 500
gen -c 500 -s 64
check "select() on pcap_get_selectable_fd: exits 0" api_wait "$TMP/sel"
check "select(): not readable while idle, then readable until 500 dispatched" \
	sh -c 'grep -q "^idle=0" "$1" && grep -q "^selected=500" "$1"' sh "$TMP/sel"
check "select(): through libzcap" grep -q "capturing with libzcap" "$TMP/sel.err"

timeout 10 ip netns exec "$CAP_NS" "$RUN" "$API" breakloop "$CAP_IF" >"$TMP/bl" 2>&1
sed 's/^/# /' "$TMP/bl"
check "pcap_breakloop from a signal handler: pcap_loop returns -2" grep -q "^loop=-2" "$TMP/bl"
check "pcap_breakloop: consumed once (the next pcap_dispatch, non-blocking, returns 0)" \
	grep -q "^after=0" "$TMP/bl"

# A blocking read with nothing arriving: libpcap's TPACKET_V3 reader
# waits for the first packet whatever the timeout; so does zcap-run where
# the kernel filters (on xdp it returns 0 at the timeout, as libpcap's
# readers that filter in user space do). Both get 2 s, 20 timeouts.
timeout 2 ip netns exec "$CAP_NS" "$API" idle "$CAP_IF" >"$TMP/idle.plain" 2>&1
rc_plain=$?
timeout 2 ip netns exec "$CAP_NS" env ${ZCAP_BACKEND:+ZCAP_RUN_BACKEND=$ZCAP_BACKEND} \
	"$RUN" "$API" idle "$CAP_IF" >"$TMP/idle" 2>&1
rc=$?
diag "idle: plain rc=$rc_plain $(tr '\n' ' ' <"$TMP/idle.plain"), zcap-run rc=$rc $(tr '\n' ' ' <"$TMP/idle")"
if [ "${ZCAP_BACKEND:-}" = xdp ]; then
	check "blocking pcap_dispatch, nothing sent, xdp: returns 0 at the timeout" \
		grep -q "^idle=0" "$TMP/idle"
else
	check "blocking pcap_dispatch, nothing sent: waits for a packet, as libpcap (killed at 2 s both)" \
		sh -c '[ "$1" = 124 ] && [ "$2" = 124 ] && ! grep -q "^idle=" "$3"' sh $rc_plain $rc "$TMP/idle"
fi

# pcap_breakloop before the read: libpcap 1.10 returns -2 at once (its
# eventfd); no traffic here, so a lost break would hang until timeout.
timeout 10 ip netns exec "$CAP_NS" "$API" breakfirst "$CAP_IF" >"$TMP/bf.plain" 2>&1
timeout 10 ip netns exec "$CAP_NS" "$RUN" "$API" breakfirst "$CAP_IF" >"$TMP/bf" 2>&1
diag "$(tr '\n' ' ' <"$TMP/bf")"
check "pcap_breakloop before pcap_loop, pcap_dispatch, pcap_next_ex: -2 at once, as libpcap" \
	sh -c 'grep -q "^loop=-2" "$1" && grep -q "^dispatch=-2" "$1" &&
	       grep -q "^next_ex=-2" "$1" && cmp -s "$1" "$2"' sh "$TMP/bf" "$TMP/bf.plain"

ip netns exec "$CAP_NS" env ZCAP_RUN_RING_BYTES=65536 ${ZCAP_BACKEND:+ZCAP_RUN_BACKEND=$ZCAP_BACKEND} \
	"$RUN" "$API" stats "$CAP_IF" 1 >"$TMP/st" 2>"$TMP/st.err" &
API_PID=$!
sleep 0.5
gen -c 5000 -s 1000
check "pcap_stats after a stalled reader: exits 0" api_wait "$TMP/st"
st_recv=$(sed -n 's/^recv=\([0-9]*\) .*/\1/p' "$TMP/st")
st_drop=$(sed -n 's/.* drop=\([0-9]*\) .*/\1/p' "$TMP/st")
check "pcap_stats after a stalled reader: ps_recv=5000, ps_drop > 0 (a 64 KiB ring)" \
	[ "${st_recv:-x}" = 5000 -a "${st_drop:-0}" -gt 0 ]

# two_streams KEY MODE N1 N2 [GEN OPTIONS]: pcap_api MODE plainly (not on
# xdp, where XDP takes the frames first) and under zcap-run, each while
# zcap-gen sends N1 frames to 198.18.0.2, then N2 to .3; what each printed
# in $TMP/KEY.plain and $TMP/KEY.zcap
two_streams() {
	_key=$1 _mode=$2 _n1=$3 _n2=$4
	shift 4
	for how in plain zcap; do
		if [ $how = zcap ]; then
			api_bg "$TMP/$_key.$how" "$_mode" "$CAP_IF"
		elif [ "${ZCAP_BACKEND:-}" = xdp ]; then
			continue
		else
			ip netns exec "$CAP_NS" "$API" "$_mode" "$CAP_IF" >"$TMP/$_key.$how" \
				2>"$TMP/$_key.$how.err" &
			API_PID=$!
			sleep 0.5
		fi
		gen -c "$_n1" -s 64 "$@" --dst-ip 198.18.0.2
		# GAP: time for the reader to go through the first stream
		[ -n "${GAP:-}" ] && sleep "$GAP"
		gen -c "$_n2" -s 64 "$@" --dst-ip 198.18.0.3 --start-seq "$_n1"
		api_wait "$TMP/$_key.$how" >/dev/null
		diag "$how: $(tr '\n' ' ' <"$TMP/$_key.$how")"
	done
}

# A filter set on a live handle applies to what the ring already holds:
# 1000 frames to 198.18.0.2, then 1000 to .3, all in the ring before
# pcap_setfilter "dst host 198.18.0.3"; the plain program is the reference.
two_streams rf refilter 1000 1000
check "pcap_setfilter on a live handle: the frames already in the ring are filtered too (1000 of 2000)" \
	grep -q "^got=1000 wrong=0" "$TMP/rf.zcap"
vs_plain "pcap_setfilter on a live handle: as plain libpcap" cmp -s "$TMP/rf.zcap" "$TMP/rf.plain"

# Frames a filter rejects in user space (xdp) must not keep their room in
# the ring: 2000 frames to .2, more than the 1 MiB ring holds, then 100 to
# .3, with the filter "dst host 198.18.0.3" set from the start. The reader
# polls every 100 ms: the 100 come 1 s after the 2000, or a reader slow to
# be scheduled (CI under load: got=0) finds the ring still full of the
# rejected ones when they arrive, and they are dropped there, as they
# would be with the room never given back.
GAP=1
two_streams stall stall 2000 100 -r 20000
GAP=
check "a ring full of frames the filter rejected: the 100 wanted after them still come" \
	grep -q "^got=100 wrong=0" "$TMP/stall.zcap"
vs_plain "a ring full of rejected frames: as plain libpcap" cmp -s "$TMP/stall.zcap" "$TMP/stall.plain"

# The filter runs in the kernel (tpacket): with a 64 KiB ring that nobody
# reads, 5000 frames that the filter rejects leave no trace in it.
ip netns exec "$CAP_NS" env ZCAP_RUN_VERBOSE=1 ${ZCAP_BACKEND:+ZCAP_RUN_BACKEND=$ZCAP_BACKEND} \
	"$RUN" "$API" rejectall "$CAP_IF" >"$TMP/ra" 2>"$TMP/ra.err" &
API_PID=$!
sleep 0.5
gen -c 5000 -s 1000
api_wait "$TMP/ra"
ra_rc=$?
if [ "${ZCAP_BACKEND:-}" = xdp ]; then
	skip "pcap_setfilter runs in the kernel: a rejected frame takes no room in the ring" \
		"on xdp the filter runs in user space"
else
	check "pcap_setfilter runs in the kernel: a rejected frame takes no room in the ring" \
		sh -c '[ "$1" -eq 0 ] && grep -q "^recv=0 drop=0" "$2"' sh $ra_rc "$TMP/ra"
fi

api_bg "$TMP/dump" dump "$CAP_IF" "$TMP/d.pcap" 300
gen -c 300 -s 64
check "pcap_dump_open on the live handle, pcap_loop 300: exits 0" api_wait "$TMP/dump"
check "pcap_dump_open on the live handle: the 300 frames, intact" verified "$TMP/d.pcap" 300

# A VLAN tag the kernel took off goes back into the packet, as libpcap
# puts it back: 802.1Q frames sent by a plain program on the other end.
tcpdump_both || not_ok "tcpdump starts (VLAN)"
ip netns exec "$GEN_NS" "$API" vinject "$GEN_IF" 50 >"$TMP/vinj" 2>&1
check "VLAN: both exit 0" stop_both
frames "$TMP/z.pcap" >"$TMP/z.txt"
frames "$TMP/p.pcap" >"$TMP/p.txt"
# vlans FILE: VLAN id, priority and inner type of each tagged frame
vlans() { tshark -r "$1" -T fields -e vlan.id -e vlan.priority -e vlan.etype 2>/dev/null | grep .; }
vlans "$TMP/z.pcap" >"$TMP/z.vlan"
vlans "$TMP/p.pcap" >"$TMP/p.vlan"
diag "tagged frames: zcap-run $(wc -l <"$TMP/z.vlan"), plain $(wc -l <"$TMP/p.vlan")"
check "VLAN: the 100 frames under zcap-run keep their tag (VLAN 100..149, priority 5, inner 0x88b5)" \
	sh -c '[ "$(grep -cE "^1[0-4][0-9]	5	0x88b5\$" "$1")" -eq 100 ] &&
	       grep -q "^149	5	" "$1"' sh "$TMP/z.vlan"
vs_plain "VLAN: the same frames as plain tcpdump" \
	sh -c '[ -s "$1" ] && cmp -s "$1" "$2"' sh "$TMP/z.txt" "$TMP/p.txt"

# A "vlan" filter: the kernel takes the tag off before a socket filter
# runs, so ours (compiled on a dead handle) would match nothing there:
# refused with a message, as libpcap refuses what it cannot do.
if [ "${ZCAP_BACKEND:-}" = xdp ]; then
	skip "a 'vlan' filter is refused in the kernel" "on xdp the filter sees the tag"
else
	timeout 10 ip netns exec "$CAP_NS" env ${ZCAP_BACKEND:+ZCAP_RUN_BACKEND=$ZCAP_BACKEND} \
		"$RUN" tcpdump -Z root -i "$CAP_IF" -w "$TMP/vl.pcap" vlan 2>"$TMP/vl.err"
	vl_rc=$?
	diag "$(cat "$TMP/vl.err")"
	check "a 'vlan' filter is refused on the kernel's side, with zcap-run's message" \
		sh -c '[ "$1" -ne 0 ] && [ "$1" -ne 124 ] && grep -q "vlan. filters are not supported" "$2"' \
		sh $vl_rc "$TMP/vl.err"
fi

# pcap_inject and pcap_sendpacket: a plain tcpdump on the other end sees them
ip netns exec "$GEN_NS" tcpdump -Z root -i "$GEN_IF" -w "$TMP/inj.pcap" ether proto 0x88b5 \
	2>"$TMP/inj.err" &
TPID=$!
wait_for "$TMP/inj.err" "listening on" 100 "$TPID"
timeout 20 ip netns exec "$CAP_NS" "$RUN" "$API" inject "$CAP_IF" 50 >"$TMP/inj" 2>&1
sed 's/^/# /' "$TMP/inj"
sleep 1.5
kill -INT "$TPID"
wait "$TPID"
check "pcap_inject + pcap_sendpacket: 100 frames sent" grep -q "^injected=100" "$TMP/inj"
check "pcap_inject + pcap_sendpacket: the other end captured the 100" \
	[ "$(tshark -r "$TMP/inj.pcap" -T fields -e frame.number 2>/dev/null | wc -l)" -eq 100 ]
