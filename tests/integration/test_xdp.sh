#!/bin/sh
# The xdp backend (AF_XDP) on veth, beyond the capture suite that tests/run.sh
# also runs on it: the zero-copy bind fails cleanly and copy mode takes over;
# auto does not take copy mode; one XDP capture per interface, never a silent
# steal; the program is gone after SIGINT, and after SIGKILL; queues.
. "$(dirname "$0")/../lib.sh"
need_root "xdp backend"
testbed_up
need_kernel xdp-rx "xdp backend"

xdp_attached() { ip -n "$CAP_NS" link show dev "$1" | grep -q " xdp"; }
xdp_gone() { ! xdp_attached "$1"; }

# explicit xdp on veth: zero copy is refused, copy mode is used and said
start_capture "$TMP/cap.log" --backend xdp -v -q -w "$TMP/a.pcapng" ||
	not_ok "xdp: zcap starts"
diag "$(grep '^zcap: ' "$TMP/cap.log" | head -3 | tr '\n' ' ')"
check "copy mode after the zero-copy bind failed, and -v says so" \
	grep -q "xdp: .*, copy mode" "$TMP/cap.log"
check "the XDP program is attached while capturing" xdp_attached "$CAP_IF"
gen -c 20000 -s 64
sleep 0.3
check "copy mode: zcap exits 0 after SIGINT" stop_capture
check "copy mode: 20000 frames once, in order, intact" verified "$TMP/a.pcapng" 20000
check "the XDP program is gone after SIGINT" xdp_gone "$CAP_IF"

# auto: copy mode is slower than tpacket on veth, so auto says no to it
start_capture "$TMP/cap.log" -v -q -c 10 -w /dev/null || not_ok "auto: zcap starts"
gen -c 10 -s 64
wait_capture
diag "$(grep '^zcap: backend' "$TMP/cap.log" | tr '\n' ' ')"
check "auto: xdp not used without zero copy, with the reason" \
	grep -q "backend xdp not used: .*no zero-copy AF_XDP" "$TMP/cap.log"
check "auto: tpacket chosen" grep -q "^zcap: backend tpacket" "$TMP/cap.log"
ip -n "$CAP_NS" addr add 198.18.7.1/24 dev "$CAP_IF"
in_cap "$ZCAP" -v -i "$CAP_IF" -q -c 1 -w /dev/null >/dev/null 2>"$TMP/ip.log" &
p=$!
sleep 0.5
gen -c 1 -s 64
wait $p
check "auto: never xdp on an interface with IP addresses" \
	grep -q "backend xdp not used: .*has IP addresses" "$TMP/ip.log"
ip -n "$CAP_NS" addr flush dev "$CAP_IF"

# one XDP capture per interface: the second is refused, the first goes on
start_capture "$TMP/cap.log" --backend xdp -q -w "$TMP/b.pcapng" || not_ok "first: zcap starts"
in_cap "$ZCAP" --backend xdp -i "$CAP_IF" -q -w "$TMP/second.pcap" >/dev/null 2>"$TMP/second.err"
rc=$?
diag "second: $(cat "$TMP/second.err")"
check "a second xdp capture on the interface is refused, no file" \
	[ $rc -ne 0 -a ! -e "$TMP/second.pcap" ]
check "and the message says why" grep -q "already uses XDP on this interface" "$TMP/second.err"
gen -c 5000 -s 256
sleep 0.3
stop_capture
check "the first capture lost nothing to it" verified "$TMP/b.pcapng" 5000

# SIGKILL: the kernel detaches the program with the process's last fd
start_capture "$TMP/cap.log" --backend xdp -q -w /dev/null || not_ok "kill: zcap starts"
kill -9 "$CAP_PID"
wait "$CAP_PID" 2>/dev/null
CAP_PID=
sleep 0.2
check "the XDP program is gone after SIGKILL" xdp_gone "$CAP_IF"
start_capture "$TMP/cap.log" --backend xdp -q -w "$TMP/c.pcapng" || not_ok "after kill: zcap starts"
gen -c 1000 -s 64
sleep 0.3
stop_capture
check "the next start after SIGKILL captures" verified "$TMP/c.pcapng" 1000

# queues: a veth with two rx queues
ip -n "$CAP_NS" link add "${TB}q0" numrxqueues 2 numtxqueues 2 type veth \
	peer name "${TB}q1" numrxqueues 2 numtxqueues 2
for i in "${TB}q0" "${TB}q1"; do
	in_cap sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1" >/dev/null
	ip -n "$CAP_NS" link set "$i" up
done
in_cap "$ZCAP" --backend xdp -v -i "${TB}q1" -q -c 1 -w /dev/null >/dev/null 2>"$TMP/q.log" &
p=$!
sleep 1
in_cap "$GEN" -q -i "${TB}q0" -c 1 -s 64 2>/dev/null
wait $p
check "every queue gets a socket (2 queues)" grep -q "xdp: .*2 queues" "$TMP/q.log"
# not through in_cap: $! must be zcap itself, or SIGINT misses it
ip netns exec "$CAP_NS" "$ZCAP" --backend xdp -v -i "${TB}q1" --queue 1 -q -w /dev/null \
	>/dev/null 2>"$TMP/q1.log" &
p=$!
sleep 1
check "--queue 1: one socket" grep -q "xdp: .*1 queue," "$TMP/q1.log"
kill -INT $p
wait $p
in_cap "$ZCAP" --backend xdp -i "${TB}q1" --queue 2 -q -w "$TMP/q2.pcap" >/dev/null 2>"$TMP/q2.err"
rc=$?
check "--queue 2 on a 2-queue interface: refused, says why, no file" \
	[ $rc -ne 0 -a ! -e "$TMP/q2.pcap" -a -n "$(grep 'no rx queue 2 (it has 2)' "$TMP/q2.err")" ]
ip -n "$CAP_NS" link del "${TB}q0"
