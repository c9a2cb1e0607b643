#!/bin/sh
# zcap-gen on each send path (xdp, tpacket: libzcap's transmit API; packet:
# sendmmsg): 100,000 frames at 64 B and at random sizes at full speed,
# captured by zcap's tpacket backend, each once, in order and intact; the
# generator says it sent them all and the link lost none; and when the
# capture end goes down mid-run, the generator ends with an error. A path is
# skipped only when this kernel cannot do it at all (a probe without
# libzcap: tests/lib.sh, kernel_can); when it can, zcap-gen must. Then -r
# pacing over xdp, and bad --backend values. The rates are printed as
# diagnostics only: this machine may be shared.
. "$(dirname "$0")/../lib.sh"
need_root "zcap-gen"
testbed_up

N=100000

# gen_field KEY: from the generator's summary line
gen_field() { kv "$TMP/gen.log" "$1"; }

run_case() {	# BACKEND NAME GEN-ARGS...
	bk=$1 name="$1: $2"
	shift 2
	file="$TMP/g.pcapng"
	start_capture "$TMP/cap.log" --backend tpacket -q -w "$file" ||
		{ not_ok "$name: zcap starts"; return; }
	gen --backend "$bk" -c $N "$@"
	rc=$?
	sleep 0.2
	check "$name: zcap exits 0 after SIGINT" stop_capture
	check "$name: zcap-gen exits 0" [ $rc -eq 0 ]
	sent=$(gen_field sent) ifdrop=$(gen_field if_tx_dropped) retries=$(gen_field retries)
	captured=$(summary "$TMP/cap.log" captured)
	ringdrop=$(summary "$TMP/cap.log" "dropped by ring")
	diag "$name: $(grep '^zcap-gen: sent=' "$TMP/gen.log")"
	diag "$name: rate $(gen_field pps) frames/s; captured=$captured ring_drop=$ringdrop"
	check "$name: sent = $N" [ "$sent" = "$N" ]
	# veth counts a frame it refused in tx_dropped; tpacket and sendmmsg
	# send such a frame again and count it as a retry, AF_XDP cannot
	check "$name: no frame lost on the link (if_tx_dropped $ifdrop, retries $retries)" \
		[ $((ifdrop - retries)) -eq 0 ]
	check "$name: captured + dropped = sent" \
		[ $((captured + ringdrop + ifdrop - retries)) -eq "$sent" ]
	check "$name: the $N frames each once, in order, intact" verified "$file" $N
	rm -f "$file"
}

# peer_down BACKEND: the capture end goes down once zcap-gen runs; veth then
# takes no frame, and after 2 s zcap-gen must end with an error (-d 30: a
# generator that does not notice would end, with status 0, 30 s later; one
# stuck retrying is killed after 45 s)
peer_down() {
	in_gen "$GEN" -i "$GEN_IF" --dst-mac "$CAP_MAC" --backend "$1" -d 30 \
		2>"$TMP/down.log" &
	gpid=$!
	wait_for "$TMP/down.log" "sending" 100 $gpid
	ip -n "$CAP_NS" link set "$CAP_IF" down
	if ! wait_gone $gpid 450; then
		diag "zcap-gen still running 45 s later; killing it"
		kill -9 $gpid
	fi
	wait $gpid
	rc=$?
	ip -n "$CAP_NS" link set "$CAP_IF" up
	wait_carrier "$GEN_NS" "$GEN_IF"
	sed 's/^/# /' "$TMP/down.log"
	[ $rc -eq 1 ] && grep -q "^zcap-gen: .*took no frame for 2 s" "$TMP/down.log"
}

# opens BACKEND: zcap-gen can send one frame with it here (no capture runs
# yet; the frame is dropped by the peer's stack)
opens() {
	in_gen "$GEN" -q -i "$GEN_IF" --dst-mac 02:00:00:00:00:01 -c 1 --backend "$1" \
		2>"$TMP/open.log"
}

# kernel_can's name for what BACKEND needs ("" for sendmmsg: root suffices)
probe_for() {
	case $1 in
	xdp) echo xdp-tx ;;
	tpacket) echo tpacket-tx ;;
	esac
}

can_xdp=0
for bk in xdp tpacket packet; do
	if [ -n "$(probe_for $bk)" ] && ! kernel_can "$(probe_for $bk)"; then
		skip "$bk: zcap-gen" "this kernel cannot: $(cat "$TMP/probe.err")"
		continue
	fi
	[ $bk = xdp ] && can_xdp=1
	if ! opens $bk; then
		not_ok "$bk: zcap-gen opens it (the kernel can)"
		sed 's/^/# /' "$TMP/open.log"
		continue
	fi
	run_case $bk "64 B" -s 64
	run_case $bk "random sizes" --random-sizes --seed 11
	check "$bk: capture end down mid-run: zcap-gen ends with an error (took nothing for 2 s)" \
		peer_down $bk
done

# auto takes the transmit API's first choice, xdp, when the kernel can
if [ $can_xdp = 1 ]; then
	in_gen "$GEN" -i "$GEN_IF" --dst-mac 02:00:00:00:00:01 -c 10 2>"$TMP/auto.log"
	check "auto: sends with xdp" grep -q "with xdp$" "$TMP/auto.log"
	grep -q "with xdp$" "$TMP/auto.log" || sed 's/^/# /' "$TMP/auto.log"
fi

# -r over xdp: every frame, and never faster than asked (the bucket starts
# with one batch, so 20,000 frames take at least 0.99 s). A slow machine
# can only make it slower: no lower bound is checked.
if [ $can_xdp = 1 ]; then
	R=20000
	start_capture "$TMP/cap.log" --backend tpacket -q -w "$TMP/r.pcapng" ||
		not_ok "xdp -r $R: zcap starts"
	gen --backend xdp -c $R -r $R -s 128
	rc=$?
	sleep 0.2
	stop_capture
	diag "xdp -r $R: $(grep '^zcap-gen: sent=' "$TMP/gen.log")"
	check "xdp -r $R: zcap-gen exits 0, sent $R" [ $rc -eq 0 -a "$(gen_field sent)" = $R ]
	check "xdp -r $R: not faster than $R frames/s (+2 %)" \
		[ "$(gen_field pps)" -le $((R * 102 / 100)) ]
	check "xdp -r $R: every frame once, in order, intact" verified "$TMP/r.pcapng" $R
	rm -f "$TMP/r.pcapng"
fi

# bad --backend values: a clear message, a usage exit, nothing sent
tx0=$(ip netns exec "$GEN_NS" cat "/sys/class/net/$GEN_IF/statistics/tx_packets")
in_gen "$GEN" -i "$GEN_IF" -c 10 --backend foo >/dev/null 2>"$TMP/err.log"
rc=$?
check "--backend foo: exit status 2" [ $rc -eq 2 ]
check "--backend foo: says so" grep -q "^zcap-gen: invalid backend 'foo'" "$TMP/err.log"
check "--backend foo: nothing sent" \
	[ "$(ip netns exec "$GEN_NS" cat "/sys/class/net/$GEN_IF/statistics/tx_packets")" = "$tx0" ]
if [ ! -d /sys/module/pf_zerocopy ]; then
	in_gen "$GEN" -i "$GEN_IF" -c 10 --backend pfzc >/dev/null 2>"$TMP/err.log"
	rc=$?
	check "--backend pfzc without the module: exits 1" [ $rc -eq 1 ]
	check "--backend pfzc without the module: says why" \
		grep -q "^zcap-gen: --backend pfzc: the pf_zerocopy module is not loaded" "$TMP/err.log"
fi
