#!/bin/sh
# Guest script: fanout groups of PF_ZEROCOPY sockets (issue 16; uapi,
# "fanout"). The option's errnos (pfzc_smoke fanout); zcap --backend pfzc
# --fanout 2 over many flows, each both ways: every flow whole in one
# socket, the two sockets' counts adding up to what was sent, every frame
# once and intact; members leaving under traffic and the device removed
# under a group, with no kernel message (run.sh fails on any) and nothing
# left pinned. Run it alone with
#   make all vm-bins && sh tests/vm/run.sh tests/vm/guest/75-pfzc-fanout.sh
. "$(dirname "$0")/lib.sh"

SMOKE=$BUILD/vm/pfzc_smoke
TCPDUMP=$BUILD/vm/tcpdump
need_pfzc "pf_zerocopy fanout" "$SMOKE"
skip_unless "pf_zerocopy fanout" "no tcpdump in the VM" [ -x "$TCPDUMP" ]
need_veth_pair vf0 vf1
need_veth_pair vg0 vg1

"$SMOKE" fanout vf1 vg1
check "pfzc_smoke fanout: the errnos of the contract" [ $? -eq 0 ]

MAC=$(mac vf1)
FLOWS=8
PER=2000
# FLOWS flows from vf0, each both ways (A:pa -> B:pb, B:pb -> A:pa), with
# sequence numbers that never repeat; the frames sent in $TMP/sent
send_flows() {
	_total=0 _k=1
	while [ $_k -le $FLOWS ]; do
		for _d in 0 1; do
			if [ $_d -eq 0 ]; then
				set -- --src-ip 10.9.$_k.1 --dst-ip 10.9.$_k.2 \
					--src-port $((1000 + _k)) --dst-port $((2000 + _k))
			else
				set -- --src-ip 10.9.$_k.2 --dst-ip 10.9.$_k.1 \
					--src-port $((2000 + _k)) --dst-port $((1000 + _k))
			fi
			taskset -c 0 "$GEN" --backend packet -q -i vf0 --dst-mac "$MAC" \
				-c $PER -s 64 --start-seq $_total "$@" 2>"$TMP/gen.log"
			_total=$((_total + $(kv "$TMP/gen.log" sent)))
		done
		_k=$((_k + 1))
	done
	echo $_total >"$TMP/sent"
}

# flowcounts FILE: "FLOW COUNT" per flow, a flow written the same both ways
flowcounts() {
	"$TCPDUMP" -Z root -nn -r "$1" 2>"$TMP/td.err" | awk '{ a = $3; b = $5; sub(/:$/, "", b);
		n[(a < b) ? a "-" b : b "-" a]++ } END { for (f in n) print f, n[f] }' | sort
}

start_cap vf1 "$TMP/f.log" --backend pfzc -q --fanout 2 --per-thread-files \
	-w "$TMP/f.pcap" || not_ok "fanout: zcap starts"
check "fanout: two PF_ZEROCOPY sockets on vf1" \
	[ "$(awk '$3 == "vf1"' /proc/net/pf_zerocopy | wc -l)" -eq 2 ]
send_flows
sleep 1
stop_cap
check "fanout: zcap exits 0" [ $? -eq 0 ]
sed 's/^/# /' "$TMP/f.log"
sent=$(cat "$TMP/sent")
captured=$(summary "$TMP/f.log" captured)
flowcounts "$TMP/f_0.pcap" >"$TMP/c0"
flowcounts "$TMP/f_1.pcap" >"$TMP/c1"
diag "fanout: sent=$sent captured=$captured flows $(wc -l <"$TMP/c0") + $(wc -l <"$TMP/c1")"
[ -s "$TMP/c0" ] || diag "tcpdump -r: $(head -2 "$TMP/td.err")"
check "fanout: backend pfzc" grep -q "backend pfzc" "$TMP/f.log"
check "fanout: captured = sent, nothing dropped" \
	[ "$captured" = "$sent" -a "$(summary "$TMP/f.log" "dropped by ring")" = 0 ]
check "fanout: both sockets got flows" [ -s "$TMP/c0" -a -s "$TMP/c1" ]
check "fanout: the sockets' flows are disjoint, all $FLOWS there" \
	[ -z "$(awk 'NR == FNR { a[$1]; next } $1 in a' "$TMP/c0" "$TMP/c1")" \
	  -a "$(cat "$TMP/c0" "$TMP/c1" | wc -l)" -eq $FLOWS ]
check "fanout: each flow's $((2 * PER)) frames, both ways, in one socket" \
	[ -z "$(cat "$TMP/c0" "$TMP/c1" | awk -v w=$((2 * PER)) '$2 != w')" ]
"$VERIFY" --expect "$sent" --allow-loss "$TMP/f_0.pcap" "$TMP/f_1.pcap" >"$TMP/v.out" 2>&1
sed 's/^/# /' "$TMP/v.out"
check "fanout: every frame once, intact" \
	[ "$(kv "$TMP/v.out" valid)" = "$sent" -a "$(kv "$TMP/v.out" duplicate)" = 0 \
	  -a "$(kv "$TMP/v.out" missing)" = 0 ]
rm -f "$TMP"/f_*.pcap

# members leaving under traffic: four groups of 2 come and go while frames
# flow; then the device goes while a group is bound
taskset -c 0 "$GEN" --backend packet -q -i vf0 --dst-mac "$MAC" -d 6 -s 64 \
	--random-sizes 2>/dev/null &
g=$!
i=0
while [ $i -lt 4 ]; do
	"$ZCAP" -i vf1 --backend pfzc -q --fanout 2 -w /dev/null 2>"$TMP/l.log" &
	p=$!
	sleep 1
	kill -KILL $p
	wait $p 2>/dev/null
	i=$((i + 1))
done
"$ZCAP" -i vf1 --backend pfzc -q --fanout 3 -w /dev/null 2>"$TMP/gone.log" &
p=$!
wait_for "$TMP/gone.log" "listening on"
sleep 0.5
ip link del vf0
wait $p
rc=$?
wait $g 2>/dev/null
check "the device removed under a group: zcap ends with an error (exit 1)" [ $rc -eq 1 ]
check "the device removed under a group: it says the interface went" \
	grep -q "went down or was removed" "$TMP/gone.log"
check "no PF_ZEROCOPY socket left" [ "$(sed 1d /proc/net/pf_zerocopy | wc -l)" -eq 0 ]
ip link del vg0 2>/dev/null
true
