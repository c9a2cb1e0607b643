#!/bin/sh
# 100,000 frames at full speed, at 64 and 1518 bytes and at random sizes:
# each captured exactly once, in order, intact, and the file read back by
# libpcap (zcap-verify) and tshark.
. "$(dirname "$0")/../lib.sh"
need_root "capture integrity"
testbed_up

N=100000
# to_fifo FILE: a fifo that cat copies into FILE, for zcap's -w; its name
# in FIFO. zcap writes a pipe straight from the ring (writev of the
# packets where they lie); a regular file gets copies (lib/dump.c).
to_fifo() {
	FIFO=$TMP/fifo
	rm -f "$FIFO"
	mkfifo "$FIFO"
	cat "$FIFO" >"$1" &
	CAT_PID=$!
}

run_case() {	# NAME FILE GEN-ARGS... (PIPE=1: through a fifo)
	name=$1 file=$2
	shift 2
	out=$file
	if [ -n "${PIPE:-}" ]; then
		to_fifo "$file"
		out=$FIFO
	fi
	start_capture "$TMP/cap.log" -q -w "$out" || { not_ok "$name: zcap starts"; return; }
	gen -c $N "$@"
	sent=$(kv "$TMP/gen.log" sent)
	# veth counts a frame it could not deliver in tx_dropped; zcap-gen
	# resent those it was told about (retries): the rest are lost
	ifdrop=$(( $(kv "$TMP/gen.log" if_tx_dropped) - $(kv "$TMP/gen.log" retries) ))
	sleep 0.2
	check "$name: zcap exits 0 after SIGINT" stop_capture
	[ -z "${PIPE:-}" ] || wait "$CAT_PID"
	captured=$(summary "$TMP/cap.log" captured)
	ringdrop=$(summary "$TMP/cap.log" "dropped by ring")
	diag "$name: sent=$sent captured=$captured ring_drop=$ringdrop if_drop=$ifdrop"
	check "$name: generator sent $N" [ "$sent" = "$N" ]
	check "$name: captured + dropped = sent" \
		[ $((captured + ringdrop + ifdrop)) -eq "$sent" ]
	check "$name: nothing dropped" [ "$ringdrop" -eq 0 -a "$ifdrop" -eq 0 ]
	check "$name: the $N frames each once, in order, intact (libpcap)" \
		verified "$file" $N
	check "$name: tshark reads it without a warning" tshark_clean "$file"
	check "$name: tshark counts $N packets" \
		[ "$(tshark -r "$file" -T fields -e frame.number 2>/dev/null | wc -l)" -eq $N ]
	rm -f "$file"
}

run_case "64 B pcapng" "$TMP/a.pcapng" -s 64
run_case "1518 B pcap" "$TMP/b.pcap" -s 1518
run_case "random sizes pcapng" "$TMP/c.pcapng" --random-sizes --seed 7
PIPE=1 run_case "1518 B pcapng into a fifo" "$TMP/p1.pcapng" -s 1518
PIPE=1 run_case "random sizes pcap into a fifo" "$TMP/p2.pcap" --random-sizes --seed 8

# A ring of two 1 MiB blocks (-B 2048), about 1,300 frames of 1518 bytes,
# into a fifo at 20,000 frames a second: too small a ring for the writes
# from it (zcap copies below 32 MiB), and nothing is lost
to_fifo "$TMP/sr.pcapng"
if start_capture "$TMP/cap.log" -q -B 2048 -w "$FIFO"; then
	gen -c 20000 -s 1518 -r 20000
	sleep 0.2
	check "small ring into a fifo: zcap exits 0" stop_capture
	wait "$CAT_PID"
	diag "small ring into a fifo: captured=$(summary "$TMP/cap.log" captured) ring_drop=$(summary "$TMP/cap.log" "dropped by ring")"
	check "small ring into a fifo, 20,000 frames at 20,000/s: nothing dropped" \
		[ "$(summary "$TMP/cap.log" "dropped by ring")" -eq 0 ]
	check "small ring into a fifo: the 20000 frames each once, in order, intact" \
		verified "$TMP/sr.pcapng" 20000
else
	not_ok "small ring into a fifo: zcap starts"
	kill "$CAT_PID"
fi

# 802.1Q frames (the kernel takes the tag off, zcap puts it back) into a
# fifo, where the tag is written between two pieces of the packet in the
# ring, and into a file, where it is copied: the same bytes
build_prog pcap_api
vlan_run() {	# OUT
	start_capture "$TMP/cap.log" -q -w "$1" || not_ok "zcap starts (VLAN, $1)"
	ip netns exec "$GEN_NS" "$TMP/pcap_api" vinject "$GEN_IF" 50 >"$TMP/vinj" 2>&1
	sleep 0.2
	stop_capture
}
to_fifo "$TMP/vf.pcapng"
vlan_run "$FIFO"
wait "$CAT_PID"
vlan_run "$TMP/vr.pcapng"
tshark -r "$TMP/vf.pcapng" -T fields -e vlan.id -e vlan.priority -e vlan.etype \
	2>/dev/null | grep . >"$TMP/vf.vlan"
check "VLAN into a fifo: the 100 tagged frames keep their tag (VLAN 100..149, priority 5, inner 0x88b5)" \
	sh -c '[ "$(grep -cE "^1[0-4][0-9]	5	0x88b5\$" "$1")" -eq 100 ] &&
	       grep -q "^149	5	" "$1"' sh "$TMP/vf.vlan"
check "VLAN into a fifo: tshark reads it without a warning" tshark_clean "$TMP/vf.pcapng"
tcpdump -r "$TMP/vf.pcapng" -e -t -n -xx 2>/dev/null >"$TMP/vf.hex"
tcpdump -r "$TMP/vr.pcapng" -e -t -n -xx 2>/dev/null >"$TMP/vr.hex"
diag "VLAN: $(grep -c 802.1Q "$TMP/vf.hex") tagged frames from the fifo, $(grep -c 802.1Q "$TMP/vr.hex") from the file"
check "VLAN: the fifo's frames are the file's, byte for byte" \
	sh -c '[ -s "$1" ] && cmp -s "$1" "$2"' sh "$TMP/vf.hex" "$TMP/vr.hex"

# pcapng details tshark must see: ns resolution, interface name, snaplen, ISB
start_capture "$TMP/cap.log" -q -s 128 -w "$TMP/d.pcapng" || not_ok "zcap starts"
gen -c 1000 -s 1518
sleep 0.2
stop_capture
capinfos "$TMP/d.pcapng" >"$TMP/capinfos.out" 2>&1
check "pcapng: nanosecond resolution" grep -q "nanoseconds" "$TMP/capinfos.out"
check "pcapng: IDB names $CAP_IF" grep -q "Name = $CAP_IF" "$TMP/capinfos.out"
check "pcapng: snap length 128" grep -q "Capture length = 128" "$TMP/capinfos.out"
check "pcapng: statistics block written" grep -q "Number of stat entries = 1" "$TMP/capinfos.out"
check "snaplen 128: the 1000 frames each once, in order, truncated" \
	counted truncated "$TMP/d.pcapng" 1000 --allow-truncated
check "snaplen 128: zcap-verify fails truncated frames unless allowed" \
	sh -c '! "$1" --expect 1000 "$2" >/dev/null 2>&1' sh "$VERIFY" "$TMP/d.pcapng"
check "snaplen 128: every frame 128 bytes captured" \
	[ "$(tshark -r "$TMP/d.pcapng" -T fields -e frame.cap_len 2>/dev/null | sort -u)" = 128 ]

# -c stops by itself after exactly COUNT packets, and says how many it left
# unread: zcap is stopped while 2000 frames fill its ring, so at exit 1500
# of them are still there (or counted as dropped)
start_capture "$TMP/cap.log" -q -c 500 -w "$TMP/e.pcap" || not_ok "zcap starts"
kill -STOP "$CAP_PID"
gen -c 2000 -s 64
kill -CONT "$CAP_PID"
check "-c 500: zcap exits 0 by itself" wait_capture
check "-c 500: the file holds the first 500 frames, no more" verified "$TMP/e.pcap" 500
check "-c 500: the summary accounts for the 2000 sent, the rest as left unread in ring" \
	accounted "$TMP/cap.log"

# no -w: one line per packet on stdout, like tcpdump
start_capture "$TMP/cap.log" -c 3 || not_ok "zcap starts"
gen -c 3 -s 64
wait_capture
check "no -w: three decoded lines" \
	[ "$(grep -c 'IP 198.18.0.1.1024 > 198.18.0.2.9: UDP, length 18' "$TMP/cap.log.out")" -eq 3 ]

# promiscuous mode: the interface's promiscuity count, which every holder of
# promiscuous mode raises by one
promiscuity() {
	ip -n "$CAP_NS" -d link show dev "$CAP_IF" | sed -n 's/.* promiscuity \([0-9]*\).*/\1/p'
}
# a nanosecond pcap: its magic, a time with a digit below the microsecond,
# and a span of tens of milliseconds (microseconds written as nanoseconds
# would make it 1000 times shorter)
nano_pcap() {
	[ "$(od -An -tx4 -N4 "$1" | tr -d ' ')" = a1b23c4d ] || return 1
	tshark -r "$1" -T fields -e frame.time_epoch 2>/dev/null | awk -F. '
		substr($2, 7) + 0 > 0 { subus = 1 }
		NR == 1 { first = $0 }
		{ last = $0 }
		END { printf "# span %.6f s, sub-microsecond digits: %s\n", last - first, subus ? "yes" : "no"
		      exit !(subus && last - first >= 0.05) }'
}
promisc0=$(promiscuity)

# -p, -s 0 and --format pcap on a .pcapng name: 100 frames of 1518 bytes
start_capture "$TMP/cap.log" -q -p -s 0 --format pcap -c 100 -w "$TMP/f.pcapng" ||
	not_ok "zcap -p -s 0 --format pcap starts"
check "-p: the interface is not made promiscuous" [ "$(promiscuity)" = "$promisc0" ]
gen -c 100 -s 1518
wait_capture
check "--format pcap: a .pcapng name gets a pcap file (magic a1b2c3d4)" \
	[ "$(od -An -tx4 -N4 "$TMP/f.pcapng" | tr -d ' ')" = a1b2c3d4 ]
check "-s 0: whole packets, 100 frames of 1518 bytes intact" verified "$TMP/f.pcapng" 100

# without -p, and --time-stamp-precision nano: 100 frames at 1000/s, which
# the pacer spreads over at least 89 ms
start_capture "$TMP/cap.log" -q --time-stamp-precision nano -c 100 -w "$TMP/n.pcap" ||
	not_ok "zcap --time-stamp-precision nano starts"
check "without -p: the interface is promiscuous while capturing" \
	[ "$(promiscuity)" = $((promisc0 + 1)) ]
gen -c 100 -s 64 -r 1000 --batch 1
wait_capture
check "--time-stamp-precision nano: nanosecond pcap (magic a1b23c4d), times in ns" \
	nano_pcap "$TMP/n.pcap"

# -D: the interfaces of the namespace it runs in, "INDEX.NAME", as the
# kernel numbers them
expect_D=$(printf '1.lo\n%s.%s' \
	"$(ip netns exec "$CAP_NS" cat "/sys/class/net/$CAP_IF/ifindex")" "$CAP_IF")
check "-D lists the interfaces (lo, $CAP_IF) with their indexes" \
	[ "$(ip netns exec "$CAP_NS" "$ZCAP" -D 2>&1 | sort)" = "$(printf '%s\n' "$expect_D" | sort)" ]
