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
bad "--fanout with --queue: usage error" 2 "spreads every queue" \
	-i "$CAP_IF" --fanout 2 --queue 0 -w "$TMP/x.pcap"
bad "--fanout on xdp: refused, it has no group" 1 "xdp has no fanout group" \
	-i "$CAP_IF" --fanout 2 --backend xdp -w "$TMP/x.pcap"
bad "--stats-json into a missing directory: exit 1" 1 "cannot create" \
	-i "$CAP_IF" --stats-json "$TMP/nodir/s.json" -w "$TMP/x.pcap"
check "bad input: no capture file left" [ ! -e "$TMP/x.pcap" ]
