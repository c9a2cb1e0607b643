#!/bin/sh
# The harness itself: the 6.1 kernel, a veth pair, a tpacket capture of
# zcap-gen's frames checked by zcap-verify, and the module when it was built.
. "$(dirname "$0")/lib.sh"

kver=$(uname -r)
diag "kernel $kver"
case "$kver" in
6.1.*) ok "guest runs the 6.1 kernel" ;;
*) not_ok "guest runs the 6.1 kernel (got $kver)" ;;
esac

if [ -f "$KMOD" ]; then
	check "pf_zerocopy loaded" module_loaded pf_zerocopy
else
	skip "pf_zerocopy loaded" "module not in the VM (no kmod/Makefile or kmod/Kbuild, or VM_KMOD=0)"
fi

need_veth_pair zv0 zv1

N=1000
# capture on CPU 1, generator on CPU 0: veth does the receive work on the
# sender's core
taskset -c 1 "$ZCAP" -i zv1 --backend tpacket -q -c $N -w "$TMP/x.pcapng" \
	>"$TMP/cap.out" 2>"$TMP/cap.log" &
cap=$!
if ! wait_for "$TMP/cap.log" "listening on"; then
	not_ok "zcap (tpacket) starts on zv1"
	sed 's/^/# /' "$TMP/cap.log"
	kill -9 $cap 2>/dev/null
	exit 1
fi
ok "zcap (tpacket) starts on zv1"

taskset -c 0 "$GEN" -q -i zv0 -c $N --dst-mac "$(mac zv1)" 2>"$TMP/gen.log"
check "zcap-gen sends $N frames" [ "$(kv "$TMP/gen.log" sent)" = $N ]
diag "$(cat "$TMP/gen.log")"

# zcap stops by itself after -c N; give it 60 s under TCG
if ! wait_gone $cap 600; then
	not_ok "zcap stops by itself after $N packets"
	kill -INT $cap
	sleep 1
	kill -9 $cap 2>/dev/null
	wait $cap
else
	wait $cap
	check "zcap stops by itself after $N packets, status 0" [ $? -eq 0 ]
fi
sed 's/^/# /' "$TMP/cap.log"

check "zcap-verify: $N frames, once each, in order, intact (valid=$N)" \
	verify_valid $N --expect $N "$TMP/x.pcapng"

ip link del zv0
rm -rf "$TMP"
