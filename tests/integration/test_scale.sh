#!/bin/sh
# Captures at scale (issue 16): --fanout across threads keeps each flow,
# both ways, in one thread and loses nothing; several interfaces go to one
# pcapng with one IDB each and every packet on its own; --stats-json
# parses and agrees with the summary.
. "$(dirname "$0")/../lib.sh"
need_root "fanout, interfaces and stats"
testbed_up

FLOWS=16
PER=5000	# frames per flow and direction

# send_flows: FLOWS UDP flows, each both ways (A:pa -> B:pb and B:pb -> A:pa)
# from the generator's side, with sequence numbers that never repeat;
# prints the frames sent
send_flows() {
	_total=0
	_k=1
	while [ $_k -le $FLOWS ]; do
		for _dir in 0 1; do
			if [ $_dir -eq 0 ]; then
				set -- --src-ip 10.9.$_k.1 --dst-ip 10.9.$_k.2 \
					--src-port $((1000 + _k)) --dst-port $((2000 + _k))
			else
				set -- --src-ip 10.9.$_k.2 --dst-ip 10.9.$_k.1 \
					--src-port $((2000 + _k)) --dst-port $((1000 + _k))
			fi
			gen -c $PER -s 64 --start-seq $_total "$@" || return 1
			_total=$((_total + $(kv "$TMP/gen.log" sent)))
		done
		_k=$((_k + 1))
	done
	echo "$_total"
}

# flowcounts FILE: "FLOW COUNT" for each flow in FILE, a flow written
# "lowaddr:port-highaddr:port" (the same for both directions), sorted
flowcounts() {
	tshark -r "$1" -T fields -e ip.src -e udp.srcport -e ip.dst -e udp.dstport \
		2>/dev/null | awk '{ a = $1 ":" $2; b = $3 ":" $4;
			n[(a < b) ? a "-" b : b "-" a]++ }
			END { for (f in n) print f, n[f] }' | sort
}

# once_each N FILE...: the threads' batches interleave in a merged file, and
# per-thread files split the sequence: order across flows is not kept (each
# thread's is), so count only
once_each() {
	_n=$1
	shift
	"$VERIFY" --expect "$_n" --allow-loss "$@" >"$TMP/once.out" 2>&1
	sed 's/^/# /' "$TMP/once.out"
	[ "$(kv "$TMP/once.out" valid)" = "$_n" ] && [ "$(kv "$TMP/once.out" total)" = "$_n" ] &&
		[ "$(kv "$TMP/once.out" duplicate)" = 0 ] && [ "$(kv "$TMP/once.out" missing)" = 0 ] &&
		[ "$(kv "$TMP/once.out" corrupt)" = 0 ]
}

# ---- --fanout 2, a file per thread ---------------------------------------------
start_capture "$TMP/f.log" -q --fanout 2 --per-thread-files -w "$TMP/f.pcapng" ||
	not_ok "fanout: zcap starts"
sent=$(send_flows)
sleep 0.3
check "fanout: zcap exits 0 after SIGINT" stop_capture
sed 's/^/# /' "$TMP/f.log"
captured=$(summary "$TMP/f.log" captured)
ringdrop=$(summary "$TMP/f.log" "dropped by ring")
check "fanout: says it runs 2 capture threads" grep -q "2 capture threads" "$TMP/f.log"
check "fanout: two files, f_0.pcapng and f_1.pcapng" \
	[ -f "$TMP/f_0.pcapng" -a -f "$TMP/f_1.pcapng" -a ! -e "$TMP/f.pcapng" ]
n0=$(tshark -r "$TMP/f_0.pcapng" 2>/dev/null | wc -l)
n1=$(tshark -r "$TMP/f_1.pcapng" 2>/dev/null | wc -l)
diag "fanout: sent=$sent captured=$captured ring_drop=$ringdrop thread0=$n0 thread1=$n1"
check "fanout: the threads' counts add up to what was sent" \
	[ $((n0 + n1)) -eq "$sent" -a "$captured" -eq "$sent" -a "$ringdrop" -eq 0 ]
check "fanout: both threads got packets" [ "$n0" -gt 0 -a "$n1" -gt 0 ]
flowcounts "$TMP/f_0.pcapng" >"$TMP/count0"
flowcounts "$TMP/f_1.pcapng" >"$TMP/count1"
cut -d' ' -f1 "$TMP/count0" >"$TMP/flows0"
cut -d' ' -f1 "$TMP/count1" >"$TMP/flows1"
diag "fanout: flows in thread 0: $(wc -l <"$TMP/flows0"), thread 1: $(wc -l <"$TMP/flows1")"
check "fanout: every flow whole in one thread, both ways (the files' flows are disjoint)" \
	[ -z "$(comm -12 "$TMP/flows0" "$TMP/flows1")" ]
check "fanout: all $FLOWS flows are there" \
	[ "$(cat "$TMP/flows0" "$TMP/flows1" | wc -l)" -eq $FLOWS ]
check "fanout: each flow's $((2 * PER)) frames, both directions, in one file" \
	[ -z "$(cat "$TMP/count0" "$TMP/count1" | awk -v w=$((2 * PER)) '$2 != w')" ]
check "fanout: together the files hold every frame exactly once, intact" \
	once_each "$sent" "$TMP/f_0.pcapng" "$TMP/f_1.pcapng"
both_clean() { tshark_clean "$1" && tshark_clean "$2"; }
check "fanout: tshark reads both files without a warning" \
	both_clean "$TMP/f_0.pcapng" "$TMP/f_1.pcapng"

# ---- --fanout 2 into one merged file, with --stats-json ---------------------------
start_capture "$TMP/m.log" -q --fanout 2 -w "$TMP/m.pcapng" --stats-json "$TMP/m.json" ||
	not_ok "fanout merged: zcap starts"
sent=$(send_flows)
sleep 1.2	# a periodic line or more before the final one
check "fanout merged: zcap exits 0 after SIGINT" stop_capture
captured=$(summary "$TMP/m.log" captured)
check "fanout merged: one file holds every frame exactly once, intact" \
	once_each "$sent" "$TMP/m.pcapng"
check "fanout merged: tshark reads it without a warning" tshark_clean "$TMP/m.pcapng"
python3 - "$TMP/m.json" "$captured" "$(summary "$TMP/m.log" "dropped by ring")" \
	"$(summary "$TMP/m.log" "dropped by interface")" >"$TMP/json.out" 2>&1 <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
objs = [json.loads(l) for l in lines]          # every line parses
cap, ring, ifd = (int(x) for x in sys.argv[2:5])
fin = objs[-1]
assert fin["final"] is True and all(not o["final"] for o in objs[:-1]), "one final, last"
assert len(objs) >= 2, "a line a second before the final one: %d lines" % len(objs)
assert fin["packets"] == cap, "final packets %d, summary %d" % (fin["packets"], cap)
assert fin["drops"]["ring_full"] == ring and fin["drops"]["interface"] == ifd
assert len(fin["threads"]) == 2 and len(fin["interfaces"]) == 1
assert sum(t["packets"] for t in fin["threads"]) == cap, "threads add up"
assert fin["interfaces"][0]["packets"] == cap
for a, b in zip(objs, objs[1:]):                # counters never go back
    assert b["packets"] >= a["packets"] and b["time"] >= a["time"]
print("json: %d lines, final packets %d, threads %s" %
      (len(objs), fin["packets"], [t["packets"] for t in fin["threads"]]))
EOF
rc=$?
sed 's/^/# /' "$TMP/json.out"
check "--stats-json: every line parses, counters only grow, the final one agrees with the summary" \
	[ $rc -eq 0 ]

# ---- two processes in one group (--fanout-group), as Suricata's workers -----
# and --stats-json to a UDP socket: one datagram per object
ip netns exec "$CAP_NS" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 47999))
open(sys.argv[1], "w").close()                  # listening
with open(sys.argv[1], "a") as out:
    while True:
        d = s.recv(65536).decode()
        out.write(d); out.flush()
        if "\"final\":true" in d:
            break
' "$TMP/udp.json" &
UDP_PID=$!
i=0
while [ ! -e "$TMP/udp.json" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
start_capture "$TMP/p1.log" -q --fanout 1 --fanout-group 4242 -w "$TMP/p1.pcapng" \
	--stats-json udp:127.0.0.1:47999 || not_ok "two processes: the first zcap starts"
P1=$CAP_PID
start_capture "$TMP/p2.log" -q --fanout 1 --fanout-group 4242 -w "$TMP/p2.pcapng" ||
	not_ok "two processes: the second zcap starts"
P2=$CAP_PID
sent=$(send_flows)
sleep 0.3
kill -INT "$P1" "$P2"
wait "$P1"; r1=$?
wait "$P2"; r2=$?
CAP_PID=
c1=$(summary "$TMP/p1.log" captured) c2=$(summary "$TMP/p2.log" captured)
diag "two processes: sent=$sent captured $c1 + $c2"
check "two processes in group 4242: both exit 0" [ $r1 -eq 0 -a $r2 -eq 0 ]
check "two processes in group 4242: their counts add up to what was sent, both got some" \
	[ $((c1 + c2)) -eq "$sent" -a "$c1" -gt 0 -a "$c2" -gt 0 ]
flowcounts "$TMP/p1.pcapng" | cut -d' ' -f1 >"$TMP/pf1"
flowcounts "$TMP/p2.pcapng" | cut -d' ' -f1 >"$TMP/pf2"
check "two processes in group 4242: every flow whole in one process" \
	[ -z "$(comm -12 "$TMP/pf1" "$TMP/pf2")" -a "$(cat "$TMP/pf1" "$TMP/pf2" | wc -l)" -eq $FLOWS ]
check "two processes: together every frame exactly once, intact" \
	once_each "$sent" "$TMP/p1.pcapng" "$TMP/p2.pcapng"
i=0
while kill -0 $UDP_PID 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill $UDP_PID 2>/dev/null
python3 - "$TMP/udp.json" "$c1" >"$TMP/udp.out" 2>&1 <<'EOF2'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
assert objs and objs[-1]["final"] is True, "a final object last"
assert objs[-1]["packets"] == int(sys.argv[2]), (objs[-1]["packets"], sys.argv[2])
print("udp: %d objects, final packets %d" % (len(objs), objs[-1]["packets"]))
EOF2
rc=$?
sed 's/^/# /' "$TMP/udp.out"
check "--stats-json udp:127.0.0.1:PORT: one object a datagram, the final one the summary's" [ $rc -eq 0 ]

# ---- two interfaces into one pcapng ---------------------------------------------------
"$TESTBED" link "$TB" 2 || not_ok "a second veth pair"
wait_carrier "$GEN_NS" "$TB-g2"
CAP2_MAC=$(ip netns exec "$CAP_NS" cat "/sys/class/net/$TB-c2/address")

start_capture "$TMP/i.log" -q -i "$TB-c2" -w "$TMP/i.pcapng" --stats-json "$TMP/i.json" ||
	not_ok "two interfaces: zcap starts"
gen -c 3000 -s 64 --src-ip 10.1.0.1
s1=$(kv "$TMP/gen.log" sent)
in_gen "$GEN" -q -i "$TB-g2" --dst-mac "$CAP2_MAC" -c 2000 -s 128 --src-ip 10.2.0.1 \
	--start-seq 3000 2>"$TMP/gen2.log"
s2=$(kv "$TMP/gen2.log" sent)
sleep 0.3
check "two interfaces: zcap exits 0 after SIGINT" stop_capture
check "two interfaces: a listening line each" \
	[ "$(grep -c "listening on" "$TMP/i.log")" -eq 2 ]
tshark -r "$TMP/i.pcapng" -T fields -e frame.interface_name -e ip.src 2>/dev/null |
	sort | uniq -c | awk '{ print $2, $3, $1 }' >"$TMP/i.tab"
sed 's/^/# /' "$TMP/i.tab"
check "two interfaces: every packet on its own interface, by name, all there" \
	[ "$(cat "$TMP/i.tab")" = "$(printf '%s 10.1.0.1 %s\n%s 10.2.0.1 %s' "$CAP_IF" "$s1" "$TB-c2" "$s2")" ]
capinfos "$TMP/i.pcapng" >"$TMP/i.capinfos" 2>&1
check "two interfaces: two IDBs, a statistics block each" \
	[ "$(grep -c 'Number of stat entries = 1' "$TMP/i.capinfos")" -eq 2 ]
check "two interfaces: the frames each once, intact" \
	counted valid "$TMP/i.pcapng" $((s1 + s2)) --allow-loss
check "two interfaces: tshark reads it without a warning" tshark_clean "$TMP/i.pcapng"
python3 - "$TMP/i.json" "$CAP_IF" "$s1" "$TB-c2" "$s2" >"$TMP/ij.out" 2>&1 <<'EOF'
import json, sys
fin = json.loads(open(sys.argv[1]).read().splitlines()[-1])
want = {sys.argv[2]: int(sys.argv[3]), sys.argv[4]: int(sys.argv[5])}
got = {i["name"]: i["packets"] for i in fin["interfaces"]}
assert got == want, (got, want)
print("json interfaces:", got)
EOF
rc=$?
sed 's/^/# /' "$TMP/ij.out"
check "--stats-json: per interface, the packets of each" [ $rc -eq 0 ]

# ---- xdp: a socket per rx queue, spread by the queues' flow hash ----------------------
# A veth pair with two queues: a frame sent through the qdisc goes out (and
# in at the peer) on the queue its flow hash picks, the same both ways, as a
# NIC's symmetric RSS would spread it. zcap-gen bypasses the qdisc (one
# queue per CPU), so a plain AF_PACKET socket sends these.
"$TESTBED" link "$TB" 3 2 || not_ok "a veth pair with two queues"
wait_carrier "$GEN_NS" "$TB-g3"
XFLOWS=16 XPER=200
cat >"$TMP/send.py" <<'EOF2'
import socket, struct, sys
ifname, flows, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff
def frame(src, dst, sp, dp, seq):
    udp = struct.pack("!HHHHQ", sp, dp, 16, 0, seq)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), seq & 0xffff, 0, 64,
                     17, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + ip + udp
n = 0
for k in range(1, flows + 1):
    a, b = "10.9.%d.1" % k, "10.9.%d.2" % k
    for i in range(per):
        s.send(frame(a, b, 1000 + k, 2000 + k, n)); n += 1
        s.send(frame(b, a, 2000 + k, 1000 + k, n)); n += 1
print(n)
EOF2
xsend() { in_gen python3 "$TMP/send.py" "$TB-g3" "$XFLOWS" "$XPER"; }
xprog() { ip -n "$CAP_NS" link show "$TB-c3" | grep -c "prog/xdp"; }
# start_on IF LOG ARGS...: start_capture on IF instead of $CAP_IF
start_on() {
	_cif=$CAP_IF
	CAP_IF=$1
	shift
	start_capture "$@"
	_rc=$?
	CAP_IF=$_cif
	return $_rc
}
xsent=$((XFLOWS * XPER * 2))
if start_on "$TB-c3" "$TMP/x.log" -q -v --backend xdp --fanout 2 --per-thread-files \
	-w "$TMP/x.pcapng"; then
	check "xdp fanout: one program on the interface, libxdp's" [ "$(xprog)" = 1 ]
	check "xdp fanout: the sender sent $xsent frames" [ "$(xsend)" = "$xsent" ]
	sleep 0.3
	check "xdp fanout 2: zcap exits 0 after SIGINT" stop_capture
else
	not_ok "xdp fanout 2: zcap starts"
fi
sed 's/^/# /' "$TMP/x.log"
check "xdp fanout: a socket per queue, one queue each" \
	[ "$(grep -c "libxdp's shared XDP.*, 1 queue," "$TMP/x.log")" -eq 2 ]
check "xdp fanout: the program is gone with the last socket" [ "$(xprog)" = 0 ]
flowcounts "$TMP/x_0.pcapng" >"$TMP/x0.flows"
flowcounts "$TMP/x_1.pcapng" >"$TMP/x1.flows"
diag "thread 0: $(wc -l <"$TMP/x0.flows") flows, thread 1: $(wc -l <"$TMP/x1.flows")"
check "xdp fanout: every flow whole (both ways, every frame) in one thread's file" \
	[ "$(cat "$TMP/x0.flows" "$TMP/x1.flows" | awk -v p=$((XPER * 2)) '$2 != p' | wc -l)" = 0 ]
check "xdp fanout: the threads' flows are disjoint and are all $XFLOWS" \
	[ "$(cat "$TMP/x0.flows" "$TMP/x1.flows" | cut -d' ' -f1 | sort -u | wc -l)" = "$XFLOWS" ] &&
	[ "$(($(wc -l <"$TMP/x0.flows") + $(wc -l <"$TMP/x1.flows")))" = "$XFLOWS" ]
check "xdp fanout: both queues carried flows (16 flows on one queue: 1 in 32768)" \
	[ -s "$TMP/x0.flows" ] && [ -s "$TMP/x1.flows" ]
check "xdp fanout: the summary counts every frame sent, none dropped" \
	[ "$(summary "$TMP/x.log" "captured")" = "$xsent" ] &&
	[ "$(summary "$TMP/x.log" "dropped by ring")" = 0 ]
check "xdp fanout: tshark reads both files without a warning" \
	tshark_clean "$TMP/x_0.pcapng" && tshark_clean "$TMP/x_1.pcapng"

# Two processes, a queue each: they share libxdp's program
ok1=0
start_on "$TB-c3" "$TMP/xa.log" -q --backend xdp --fanout 1 --queue 0 -w "$TMP/xa.pcap" &&
	XA=$CAP_PID && ok1=1
start_on "$TB-c3" "$TMP/xb.log" -q --backend xdp --fanout 1 --queue 1 -w "$TMP/xb.pcap" ||
	ok1=0
XB=$CAP_PID
check "xdp, two processes on queues 0 and 1: both start, one program" \
	[ $ok1 = 1 ] && [ "$(xprog)" = 1 ]
xsend >/dev/null
sleep 0.3
CAP_PID=$XA
check "xdp, two processes: the first exits 0" stop_capture
check "xdp, two processes: the program stays for the second" [ "$(xprog)" = 1 ]
CAP_PID=$XB
check "xdp, two processes: the second exits 0" stop_capture
check "xdp, two processes: every frame in one of the two files" \
	[ "$(($(summary "$TMP/xa.log" "captured") + $(summary "$TMP/xb.log" "captured")))" = "$xsent" ]
check "xdp, two processes: the program is gone after both" [ "$(xprog)" = 0 ]

# ---- bad input -----------------------------------------------------------------------
bad() {	# NAME CODE PHRASE ARGS...: zcap ARGS... fails so
	_n=$1 _c=$2 _m=$3
	shift 3
	check "$_n" fails zcap "$_c" "$_m" "" ip netns exec "$CAP_NS" "$ZCAP" "$@"
}
bad "two interfaces into pcap: refused" 1 "pcapng only" \
	-i "$CAP_IF" -i "$TB-c2" -w "$TMP/x.pcap"
check "two interfaces into pcap: no file left" [ ! -e "$TMP/x.pcap" ]
bad "the same interface twice: usage error" 2 "given twice" -i "$CAP_IF" -i "$CAP_IF"
bad "--fanout 0: usage error" 2 "invalid fanout" -i "$CAP_IF" --fanout 0
bad "--per-thread-files without --fanout: usage error" 2 "need --fanout" \
	-i "$CAP_IF" --per-thread-files -w "$TMP/x.pcap"
bad "--fanout with --queue but not xdp: usage error" 2 "is for --backend xdp" \
	-i "$CAP_IF" --fanout 2 --queue 0 -w "$TMP/x.pcap"
bad "xdp: --fanout 3 on two queues: refused" 1 "no rx queue 2 (it has 2)" \
	-i "$TB-c3" --fanout 3 --backend xdp -w "$TMP/x.pcap"
check "xdp: the refused group left no program" [ "$(xprog)" = 0 ]
bad "--stats-json into a missing directory: exit 1" 1 "cannot create" \
	-i "$CAP_IF" --stats-json "$TMP/nodir/s.json" -w "$TMP/x.pcap"
check "bad input: no capture file left" [ ! -e "$TMP/x.pcap" ]
