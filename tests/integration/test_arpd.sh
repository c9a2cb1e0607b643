#!/bin/sh
# zcap-arpd on the veth testbed: arping from the other namespace gets
# exactly one reply per request for each address given and none for
# others; the cache learns from requests and replies, expires entries after
# the lifetime and refuses writes when every entry is live (overflow); a
# resolve on a miss sends requests that tshark decodes as well-formed ARP;
# 100,000 requests at full rate are each answered once, in order, counted
# on the other side; bad input ends with a message and a non-zero exit.
# Runs on each backend that can send and receive here (ZCAP_BACKEND picks
# one; default auto).
. "$(dirname "$0")/../lib.sh"
need_root "zcap-arpd"
skip_unless "zcap-arpd" "needs arping (iputils-arping) and tshark" have arping
skip_unless "zcap-arpd" "needs tshark" have tshark
testbed_up

ARPD="$BUILD/zcap-arpd"
GEN_IP=10.9.0.1
A1=10.9.0.2 A2=10.9.0.3 OTHER=10.9.0.4 NOBODY=10.9.0.77
ip -n "$GEN_NS" addr add "$GEN_IP/24" dev "$GEN_IF"
GEN_MAC=$(ip netns exec "$GEN_NS" cat "/sys/class/net/$GEN_IF/address")
ARPD_PID= GCAP_PID=
trap 'kill -9 $ARPD_PID $GCAP_PID 2>/dev/null; cleanup' EXIT INT TERM

# start_arpd ARGS...: zcap-arpd on the capture end; waits until it listens
start_arpd() {
	rm -f "$TMP/arpd.log"
	ip netns exec "$CAP_NS" $PIN_CAP "$ARPD" -i "$CAP_IF" \
		${ZCAP_BACKEND:+--backend "$ZCAP_BACKEND"} "$@" 2>"$TMP/arpd.log" >"$TMP/arpd.out" &
	ARPD_PID=$!
	if ! wait_for "$TMP/arpd.log" "listening on" 100 "$ARPD_PID"; then
		sed 's/^/# /' "$TMP/arpd.log"
		return 1
	fi
	diag "$(grep 'listening on' "$TMP/arpd.log")"
}

# stop_arpd: SIGTERM; its exit status; the counters are in $TMP/arpd.log
stop_arpd() {
	kill -TERM "$ARPD_PID"
	wait_gone "$ARPD_PID" 100 || { kill -9 "$ARPD_PID"; diag "zcap-arpd did not stop"; }
	wait "$ARPD_PID"
	_sa_rc=$?
	ARPD_PID=
	diag "$(grep "^zcap-arpd: received=" "$TMP/arpd.log")"
	return $_sa_rc
}

# status: SIGUSR1, then the status file it writes ($TMP/status)
status() {
	rm -f "$TMP/status"
	kill -USR1 "$ARPD_PID"
	wait_for "$TMP/status" "received=" 50 "$ARPD_PID"
}

# arpd_kv KEY: a counter of zcap-arpd's exit line
arpd_kv() { grep "^zcap-arpd: received=" "$TMP/arpd.log" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# gen_capture: zcap on the generator's end, ARP it receives, into
# $TMP/gen.pcapng
gen_capture() {
	rm -f "$TMP/gcap.log"
	ip netns exec "$GEN_NS" "$ZCAP" -i "$GEN_IF" -Q in --backend tpacket -q \
		-w "$TMP/gen.pcapng" arp 2>"$TMP/gcap.log" &
	GCAP_PID=$!
	wait_for "$TMP/gcap.log" "listening on" 100 "$GCAP_PID"
}

gen_capture_stop() {
	sleep 0.3
	kill -INT "$GCAP_PID"
	wait "$GCAP_PID"
	_gc_rc=$?
	GCAP_PID=
	return $_gc_rc
}

# fields FILTER FIELD...: tshark's fields of the packets of $TMP/gen.pcapng
# that FILTER takes, one line each
fields() {
	_f_filter=$1
	shift
	tshark -r "$TMP/gen.pcapng" -Y "$_f_filter" -T fields -E separator=' ' \
		$(for f in "$@"; do printf -- '-e %s ' "$f"; done) 2>/dev/null
}

# arping_n COUNT TARGET: arping's count of responses
arping_n() {
	ip netns exec "$GEN_NS" arping -c "$1" -w "$(($1 + 2))" -I "$GEN_IF" "$2" \
		>"$TMP/arping.out" 2>&1
	sed -n 's/^Received \([0-9]*\) response.*/\1/p' "$TMP/arping.out"
}

# holds CONDITION: a shell condition, for check (which runs one command)
holds() { eval "$1"; }

# --- 1. answers, exactly once, only for its addresses; learns ---------------
if start_arpd -v -a "$A1,$A2" --status-file "$TMP/status"; then
	ok "zcap-arpd starts"
	# xdp sends the reply from the request's own frame; the others copy
	# it once into a transmit handle's frame
	case ${ZCAP_BACKEND:-auto} in
	xdp) check "xdp: replies leave from the frames they came in" \
		grep -q "forwarding in place: each queue's tx ring on its rx umem" "$TMP/arpd.log" ;;
	*) check "replies copied once into a transmit frame (not xdp)" \
		grep -q "forwarding by copy through the" "$TMP/arpd.log" ;;
	esac
	gen_capture
	n1=$(arping_n 5 $A1)
	n2=$(arping_n 3 $A2)
	n3=$(arping_n 3 $OTHER)
	gen_capture_stop
	check "arping $A1: 5 responses to 5 requests (got ${n1:-none})" [ "$n1" = 5 ]
	check "arping $A2 (the second address): 3 of 3 (got ${n2:-none})" [ "$n2" = 3 ]
	check "arping $OTHER (not given): no response (got ${n3:-none})" [ "$n3" = 0 ]
	reps1=$(fields "arp.opcode == 2 && arp.src.proto_ipv4 == $A1" arp.src.hw_mac | wc -l)
	reps2=$(fields "arp.opcode == 2 && arp.src.proto_ipv4 == $A2" arp.src.hw_mac | wc -l)
	reps3=$(fields "arp.opcode == 2 && arp.src.proto_ipv4 == $OTHER" arp.src.hw_mac | wc -l)
	check "on the wire: exactly 5 replies for $A1 and 3 for $A2, none for $OTHER" holds \
		'[ "$reps1" = 5 ] &&
			[ "$reps2" = 3 ] &&
			[ "$reps3" = 0 ]'
	bad=$(fields "arp.opcode == 2" eth.dst arp.src.hw_mac arp.dst.hw_mac arp.dst.proto_ipv4 frame.len |
		grep -vc "^$GEN_MAC $CAP_MAC $GEN_MAC $GEN_IP 42\$")
	# written over the request, in its frame: as long as arping's (42 bytes)
	check "every reply: to the asker's MAC, \"is at\" the capture end's MAC, 42 bytes as the request" \
		[ "$bad" = 0 ]
	check "tshark reads the replies with no complaint" tshark_clean "$TMP/gen.pcapng"
	status
	sed 's/^/# /' "$TMP/status"
	check "the cache shows the asker as ip neigh would" \
		grep -q "^$GEN_IP dev $CAP_IF lladdr $GEN_MAC REACHABLE expires 1[12][0-9][0-9]s\$" "$TMP/status"
	check "and nothing else" [ "$(grep -vc '^#' "$TMP/status")" = 1 ]
	check "zcap-arpd exits 0 on SIGTERM" stop_arpd
	check "its counters: 11 requests, 8 answered, 3 not ours, 1 learned, 10 refreshed" holds \
		'[ "$(arpd_kv requests)" = 11 ] &&
			[ "$(arpd_kv answered)" = 8 ] &&
			[ "$(arpd_kv not_ours)" = 3 ] &&
			[ "$(arpd_kv learned)" = 1 ] &&
			[ "$(arpd_kv refreshed)" = 10 ]'
else
	not_ok "zcap-arpd starts"
fi

# --- 2. lifetime and overflow -------------------------------------------------
# 6 senders into 4 entries: 4 learned, 2 overflow; after the 2 s lifetime a
# lookup finds none, and 2 new senders go into expired entries
if start_arpd -a $A1 --cache-size 4 --lifetime 2 --status-file "$TMP/status"; then
	gen --arp $A1 --src-ip 10.1.0.0 -c 6 --dst-mac ff:ff:ff:ff:ff:ff
	sleep 0.5
	status
	sed 's/^/# /' "$TMP/status"
	got=$(grep -v '^#' "$TMP/status" | cut -d' ' -f1 | sort | tr '\n' ' ')
	check "4 entries: the first 4 senders (got $got)" \
		[ "$got" = "10.1.0.0 10.1.0.1 10.1.0.2 10.1.0.3 " ]
	check "the status counts 4 learned, 2 overflow" \
		grep -q "learned=4 refreshed=0 overflow=2 " "$TMP/status"
	sleep 2.5
	status
	check "after the lifetime no entry is shown (0 of 4 live)" holds \
		'[ "$(grep -vc "^#" "$TMP/status")" = 0 ] &&
			grep -q "cache 0 of 4 entries live" "$TMP/status"'
	gen --arp $A1 --src-ip 10.2.0.0 -c 2 --dst-mac ff:ff:ff:ff:ff:ff
	sleep 0.5
	status
	got=$(grep -v '^#' "$TMP/status" | cut -d' ' -f1 | sort | tr '\n' ' ')
	check "2 new senders written into expired entries (got $got)" \
		[ "$got" = "10.2.0.0 10.2.0.1 " ]
	stop_arpd
	check "counters: learned 6, overflow 2, answered 8" holds \
		'[ "$(arpd_kv learned)" = 6 ] &&
			[ "$(arpd_kv overflow)" = 2 ] &&
			[ "$(arpd_kv answered)" = 8 ]'
else
	not_ok "zcap-arpd starts with --cache-size 4 --lifetime 2"
fi

# --- 3. resolve on a miss -----------------------------------------------------
gen_capture
if start_arpd -a $A1 --resolve $NOBODY --resolve $GEN_IP --status-file "$TMP/status"; then
	# 3 tries a second apart for the one nobody answers
	i=0
	while [ $i -lt 60 ]; do
		status
		grep -q "resolve_failed=1" "$TMP/status" && break
		sleep 0.1
		i=$((i + 1))
	done
	gen_capture_stop
	sed 's/^/# /' "$TMP/status"
	check "$GEN_IP resolved: the host's reply learned" \
		grep -q "^$GEN_IP dev $CAP_IF lladdr $GEN_MAC REACHABLE" "$TMP/status"
	n=$(fields "arp.opcode == 1 && arp.dst.proto_ipv4 == $NOBODY" frame.len | wc -l)
	check "$NOBODY: 3 requests, then given up (resolve_failed=1) (saw $n)" holds \
		'[ "$n" = 3 ] &&
			grep -q "resolve_failed=1" "$TMP/status"'
	bad=$(fields "arp.opcode == 1" eth.dst eth.src arp.hw.type arp.proto.type arp.hw.size \
		arp.proto.size arp.src.hw_mac arp.src.proto_ipv4 arp.dst.hw_mac frame.len |
		grep -vc "^ff:ff:ff:ff:ff:ff $CAP_MAC 1 0x0800 6 4 $CAP_MAC $A1 00:00:00:00:00:00 60\$")
	fields "arp.opcode == 1" frame.len arp.dst.proto_ipv4 _ws.expert | sed 's/^/# request: /'
	check "each request as tshark decodes it: broadcast, Ethernet/IPv4, 6/4, who-has from $A1 at our MAC, 60 bytes" holds \
		'[ "$bad" = 0 ] &&
			[ "$(fields "arp.opcode == 1" frame.len | wc -l)" -ge 4 ]'
	check "no request tshark calls malformed" \
		[ "$(fields "_ws.malformed || _ws.expert.severity >= 6291456" frame.number | wc -l)" = 0 ]
	stop_arpd
else
	gen_capture_stop
	not_ok "zcap-arpd starts with --resolve"
fi

# --- 4. 100,000 requests at full rate ----------------------------------------
# The whole burst may wait in the receive ring while the replies go out
# (on veth the capture end's receive work, for the replies too, runs on
# the sending core): 256 MiB holds it on every backend, xdp's 2 KiB frames
# included. What a smaller ring cannot hold is lost and counted.
N=100000
if start_arpd -a $A1 -B 262144; then
	gen_capture
	gen --arp $A1 --src-ip 10.16.0.0 -c $N --dst-mac ff:ff:ff:ff:ff:ff
	diag "$(cat "$TMP/gen.log")"
	sleep 1
	gen_capture_stop
	stop_arpd
	sent=$(kv "$TMP/gen.log" sent)
	cap=$(summary "$TMP/gcap.log" captured)
	gdrop=$(summary "$TMP/gcap.log" "dropped by ring")
	check "zcap-gen sent $N requests (sent=$sent)" [ "$sent" = $N ]
	check "zcap-arpd: received $N, answered $N, none dropped in its rings" holds \
		'[ "$(arpd_kv received)" = $N ] &&
			[ "$(arpd_kv answered)" = $N ] &&
			[ "$(arpd_kv drop_ring_full)" = 0 ] &&
			[ "$(arpd_kv reply_stalled)" = 0 ] &&
			[ "$(arpd_kv tx_invalid)" = 0 ] &&
			[ "$(arpd_kv tx_errors)" = 0 ]'
	check "on the other side: $N replies captured, none dropped (captured=$cap dropped=$gdrop)" holds \
		'[ "$cap" = $N ] &&
			[ "$gdrop" = 0 ]'
	# reply n answers request n: its target is 10.16.0.0 + n
	order=$(fields "arp.opcode == 2" arp.dst.proto_ipv4 arp.src.proto_ipv4 |
		awk -v a=$A1 -F'[. ]' '{ n = ($2 - 16) * 65536 + $3 * 256 + $4
			if (n != NR - 1 || $5 "." $6 "." $7 "." $8 != a) bad++ }
			END { print NR + 0, bad + 0 }')
	check "each request answered once, in order (replies, out of place: $order)" [ "$order" = "$N 0" ]
	check "the cache: 1024 learned, the rest overflow, all counted" holds \
		'[ "$(arpd_kv learned)" = 1024 ] &&
			[ "$(arpd_kv overflow)" = $((N - 1024)) ]'
else
	not_ok "zcap-arpd starts for the full-rate run"
fi

# --- 4b. frames come back ------------------------------------------------------
# 5,000 requests through a ring of 1 MiB (512 frames on xdp), paced so that
# it never fills: every frame a reply left from must come back to receive
# into again, or the ring runs dry within the first 512
N2=5000
if start_arpd -a $A1 -B 1024; then
	gen_capture
	gen --arp $A1 --src-ip 10.32.0.0 -c $N2 -r 20000 --dst-mac ff:ff:ff:ff:ff:ff
	sleep 0.5
	gen_capture_stop
	stop_arpd
	cap=$(summary "$TMP/gcap.log" captured)
	check "a 1 MiB ring answers $N2 requests: $N2 forwarded, $N2 replies on the other side" holds \
		'[ "$(arpd_kv answered)" = $N2 ] &&
			[ "$(arpd_kv forwarded)" = $N2 ] &&
			[ "$(arpd_kv drop_ring_full)" = 0 ] &&
			[ "$cap" = $N2 ]'
else
	not_ok "zcap-arpd starts with -B 1024"
fi

# --- 5. bad input --------------------------------------------------------------
check "unknown interface: exit 1, named" \
	fails zcap-arpd 1 "unknown interface 'nosuch0'" "" "$ARPD" -i nosuch0 -a $A1
check "no -i: usage error, exit 2" fails zcap-arpd 2 "no interface given: use -i IF" "" "$ARPD" -a $A1
check "a bad address: exit 2" fails zcap-arpd 2 "invalid address '10.9.0'" "" \
	"$ARPD" -i lo -a 10.9.0
check "a broadcast address: exit 2" fails zcap-arpd 2 "not a host's address" "" \
	"$ARPD" -i lo -a 255.255.255.255
check "a cache of 0 entries: exit 2" fails zcap-arpd 2 "invalid cache size '0'" "" \
	"$ARPD" -i lo --cache-size 0
check "a multicast --mac: exit 2" fails zcap-arpd 2 "a multicast one" "" \
	"$ARPD" -i lo --mac 01:00:5e:00:00:01
check "an unwritable status file: exit 1, before opening anything" \
	fails zcap-arpd 1 "cannot write the status" "" \
	ip netns exec "$CAP_NS" "$ARPD" -i "$CAP_IF" --status-file /nonexistent/dir/st
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	check "no privilege: exit 1, says so" fails zcap-arpd 1 "ermission" "" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$ARPD" -i lo -a $A1
fi

tap_summary
