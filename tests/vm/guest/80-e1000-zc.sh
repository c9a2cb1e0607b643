#!/bin/sh
# Guest script: the patched e1000 (kmod/e1000) and its zero-copy receive.
# tests/vm/run.sh gives the VM two e1000 NICs (qemu's 82540EM) on one qemu
# hub: TX (MAC 52:54:00:00:e1:00) sends with zcap-gen through the stock
# driver, RX (52:54:00:00:e1:01) receives. Checks:
#   - the stock path with nothing bound: a tpacket capture gets frames,
#     each whole and once (not all of them: see RATE);
#   - zero copy: zcap-gen --backend pfzc sends from TX's tx ring by DMA
#     (dma=N in its summary) and zcap --backend pfzc on RX gets every frame
#     once, in order, intact, at 64 and 1518 bytes and random sizes, with
#     the module's counters at rx_dma = frames, rx_copied = 0, and none of
#     them reaching the stack (a tpacket witness on RX sees 0);
#   - transmit by DMA in detail (pfzc_txdma): 14 to 1514 bytes, invalid
#     descriptors, laps of the ring, a second sender copying, the link
#     down, a close with frames queued;
#   - the stack with nothing bound: ping over the pair, tcpdump on RX,
#     ip -s link and ethtool -S counting;
#   - the stock path again after the socket is gone;
#   - nothing lost silently: the NIC's misses in zcap's summary after a
#     stop by SIGINT, on the stock path with a source faster than the
#     guest, and in zero copy with the reader stopped;
#   - teardown under traffic (close, kill -9, link down, five bind/unbind
#     cycles, device removal by rmmod; the DMA sender killed, its link
#     taken down, and rmmod while it sends), each followed by a check that
#     no page the kernel freed was written to (pfzc_memcheck).
# Run it alone with
#   make vm-bins && sh tests/vm/run.sh tests/vm/guest/80-e1000-zc.sh
. "$(dirname "$0")/lib.sh"
. /etc/zcap-vm.conf

N=${E1000_FRAMES:-20000}
# The sender is the other e1000 of the same VM, paced. Zero copy takes
# every frame at this rate once RX's link is back after the switch; the
# stock driver with a tpacket capture takes the first 254 (its receive
# ring) and qemu holds the rest until later (drain), in every run so far,
# so the stock path's check is on what arrived, not on every frame.
# That is the emulation's, not the patch's: Debian's own e1000.ko,
# unpatched, in the same VM took 1,904, 833 and 254 of 2,000 frames of
# 128 B at 500, 2,000 and 4,000 frames/s, where the patched one took
# 1,911, 818 and 254 (2026-12-01, a probe script not in the tree).
RATE=${E1000_RATE:-4000}
MEMCHECK=$BUILD/vm/pfzc_memcheck
need_pfzc "e1000 zero copy" "$MEMCHECK"
skip_unless "e1000 zero copy" "no patched e1000.ko (kmod/e1000/build.sh failed?)" \
	[ -n "$E1000_KO" ]

# e1000_up: insmod the patched driver, find TX and RX, bring both up
e1000_up() {
	check "insmod e1000.ko (Debian's, patched)" insmod "$E1000_KO" || return 1
	TX=$(ifname_of 52:54:00:00:e1:00) RX=$(ifname_of 52:54:00:00:e1:01)
	[ -n "$TX" ] && [ -n "$RX" ] || { not_ok "both e1000 NICs appear"; return 1; }
	for i in "$TX" "$RX"; do
		sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1" 2>/dev/null
		ip link set "$i" up
	done
	# the link comes up from the driver's watchdog: seconds under TCG,
	# tens of seconds on a debug kernel
	for _ in $(seq 600); do
		[ "$(cat "/sys/class/net/$TX/carrier" 2>/dev/null)$(cat "/sys/class/net/$RX/carrier" 2>/dev/null)" = 11 ] && return 0
		sleep 0.1
	done
	not_ok "carrier on both e1000 NICs"
	return 1
}
e1000_up || exit 1
ok "e1000: TX $TX, RX $RX, both up"
RXMAC=$(mac "$RX")

sent() { kv "$TMP/gen.log" sent; }
captured() { summary "$1" captured; }
gen() { taskset -c 0 "$GEN" -q -i "$TX" --dst-mac "$RXMAC" -r "$RATE" --start-seq "$SEQ" "$@" 2>"$TMP/gen.log"; }
# pz COL: column COL of RX's direct receiver in /proc/net/pf_zerocopy
# (10 direct, 11 rx_dma, 12 rx_copied)
pz() { awk -v i="$RX" -v c="$1" '$3 == i && $10 == 1 { print $c }' /proc/net/pf_zerocopy; }
missed() { cat "/sys/class/net/$RX/statistics/rx_missed_errors"; }
# drain: frames qemu queued while RX had no free buffer come in late, when
# it has again: let them reach the stack (nothing bound) before the next
# test sends. Waits until RX's rx_packets holds still for a second. qemu
# may still hold some until RX is restarted (the bind does that), so each
# test also sends sequence numbers above every earlier test's (SEQ): a
# late frame of an earlier test comes first and in order, and is counted
# as captured, not as one of this test's.
drain() {
	_d=$(cat "/sys/class/net/$RX/statistics/rx_packets")
	for _ in $(seq 20); do
		sleep 1
		_n=$(cat "/sys/class/net/$RX/statistics/rx_packets")
		[ "$_n" = "$_d" ] && return 0
		_d=$_n
	done
}
# arrived C N FILE: FILE holds C > 0 of zcap-gen's frames, each whole and
# once (none corrupt, cut, duplicated or foreign), of the N from SEQ on
# among them (zcap-verify's line as a comment). Not their order: under
# load qemu's hub hands RX a frame it had to queue after later ones it
# did not (seen 1 in 20,000, on the stock kernel); the ring's own order is
# checked on the virtual pair (40-pfzc-vnet.sh).
SEQ=0
arrived() {
	[ "${1:-0}" -gt 0 ] || return 1
	"$VERIFY" --start-seq "$SEQ" --expect "$2" --allow-loss "$3" >"$TMP/verify.out" 2>&1
	sed 's/^/# /' "$TMP/verify.out"
	[ "$(kv "$TMP/verify.out" valid)" = "$1" ] &&
		[ "$(kv "$TMP/verify.out" corrupt)$(kv "$TMP/verify.out" truncated)$(kv "$TMP/verify.out" duplicate)$(kv "$TMP/verify.out" foreign)" = 0000 ]
}
# next_seq: the next test's first sequence number
next_seq() { SEQ=$((SEQ + 100000)); }

# --- 1. the stock path, nothing bound ---------------------------------------
stock_path() {
	drain
	start_cap "$RX" "$TMP/stock.log" --backend tpacket -q -w "$TMP/s.pcapng" ||
		{ not_ok "$1: tpacket capture starts"; return; }
	gen -c 2000 -s 128
	sleep 1
	stop_cap
	c=$(captured "$TMP/stock.log")
	diag "$1: sent=$(sent) captured=$c missed=$(missed)"
	check "$1: the stock driver hands frames to the stack, each whole, once (valid=$c)" \
		arrived "$c" 2000 "$TMP/s.pcapng"
	next_seq
	rm -f "$TMP/s.pcapng"
}
stock_path "stock path, nothing bound"

# --- 1b. the stack with nothing bound: ping, tcpdump, ip -s link, ethtool -S
# RX alone in a network namespace, so that a ping from TX's address goes
# over the wire (the hub) and not through the local route.
stack_tools() {
	unshare -n sleep 600 &
	nsp=$!
	sleep 0.2
	ip link set "$RX" netns $nsp || { not_ok "stack: RX into a namespace"; kill $nsp; return; }
	inns() { nsenter -t $nsp -n "$@"; }
	inns ip link set lo up
	inns ip addr add 10.99.0.2/24 dev "$RX"
	inns ip link set "$RX" up
	ip addr add 10.99.0.1/24 dev "$TX"
	for _ in $(seq 600); do
		inns ip link show "$RX" | grep -q LOWER_UP && break
		sleep 0.1
	done
	# the kernel's counters (/proc/net/dev, what ip -s link prints: the
	# guest's busybox ip has no -s) and the NIC's (ethtool -S)
	rxp() { inns cat /proc/net/dev | tr ':' ' ' | awk -v i="$RX" '$1 == i { print $2 }'; }
	etp() { inns ethtool -S "$RX" 2>/dev/null | awk '$1 == "rx_packets:" { print $2 }'; }
	rx0=$(rxp) e0=$(etp)
	tcpd=
	if [ -x "$BUILD/vm/tcpdump" ]; then
		# nsenter execs tcpdump: $! is tcpdump (a backgrounded function
		# would be a subshell, deaf to the signal that stops tcpdump)
		nsenter -t $nsp -n "$BUILD/vm/tcpdump" -Z root -n -i "$RX" -w "$TMP/icmp.pcap" icmp \
			2>"$TMP/tcpd.err" &
		tcpd=$!
		wait_for "$TMP/tcpd.err" "listening on" ||
			{ not_ok "stack: tcpdump starts on RX"; sed 's/^/# /' "$TMP/tcpd.err"; }
	fi
	ping -c 5 -i 0.3 -W 5 10.99.0.2 >"$TMP/ping.out" 2>&1
	sed -n 's/^/# /; /packets transmitted/p' "$TMP/ping.out"
	check "stack, nothing bound: ping over the e1000 pair gets 5 replies of 5" \
		grep -q "5 packets transmitted, 5 packets received" "$TMP/ping.out"
	if [ -n "$tcpd" ]; then
		sleep 1
		kill -TERM $tcpd
		wait_gone $tcpd 100 || { not_ok "stack: tcpdump stops on SIGTERM"; kill -9 $tcpd; }
		wait $tcpd
		"$BUILD/vm/tcpdump" -Z root -n -r "$TMP/icmp.pcap" >"$TMP/icmp.txt" 2>&1
		sed -n 's/^/# /; 1,8p' "$TMP/icmp.txt"
		n=$(grep -c 'ICMP echo request' "$TMP/icmp.txt")
		check "stack, nothing bound: tcpdump on RX saw the 5 echo requests (saw $n)" [ "$n" = 5 ]
	else
		skip "stack: tcpdump on RX" "no tcpdump on the host to copy into the VM"
	fi
	rx1=$(rxp) e1=$(etp)
	diag "RX rx_packets: kernel $rx0 -> $rx1, NIC (ethtool -S) $e0 -> $e1"
	check "stack, nothing bound: the kernel's counters count what RX received ($rx0 -> $rx1)" \
		[ "${rx1:-0}" -ge $((${rx0:-0} + 5)) ]
	if command -v ethtool >/dev/null; then
		check "stack, nothing bound: ethtool -S reads the NIC's own counters ($e0 -> $e1)" \
			[ "${e1:-0}" -ge $((${e0:-0} + 5)) ]
	else
		skip "stack: ethtool -S" "no ethtool in the VM"
	fi
	ip addr del 10.99.0.1/24 dev "$TX"
	inns ip link set "$RX" netns 1
	kill $nsp; wait $nsp 2>/dev/null
	ip addr flush dev "$RX"
	ip link set "$RX" up
	check "stack: RX back in the first namespace, link up" carrier_on "$RX"
}
stack_tools

# --- 2. zero copy ------------------------------------------------------------
for args in "-s 64" "-s 1518" "--random-sizes"; do
	name="zero copy, $N frames, $args"
	drain
	m0=$(missed)
	start_cap "$RX" "$TMP/cap.log" --backend pfzc -q -w "$TMP/c.pcapng" ||
		{ not_ok "$name: zcap starts"; continue; }
	zc=$CAP
	start_cap "$RX" "$TMP/stack.log" --backend tpacket -q -w /dev/null ||
		not_ok "$name: tpacket witness starts"
	witness=$CAP
	check "$name: /proc/net/pf_zerocopy shows RX's direct receiver" [ "$(pz 10)" = 1 ]
	check "$name: RX's link is back after the switch to zero copy" carrier_on "$RX"
	# sent from TX's tx ring by DMA too: zcap-gen's socket is TX's DMA sender
	gen -c "$N" $args --backend pfzc
	check "$name: zcap-gen sent all $N by DMA from its tx ring (sent=$(sent) dma=$(kv "$TMP/gen.log" dma))" \
		[ "$(sent)" = "$N" -a "$(kv "$TMP/gen.log" dma)" = "$N" ]
	sleep 1
	dma=$(pz 11) copied=$(pz 12)
	stop_cap $zc
	check "$name: zcap exits 0" [ $? -eq 0 ]
	stop_cap $witness
	c=$(captured "$TMP/cap.log")
	d=$(summary "$TMP/cap.log" "dropped by ring")
	i=$(summary "$TMP/cap.log" "dropped by interface")
	diag "$name: sent=$(sent) captured=$c ring=$d if=$i missed=$(($(missed) - m0)) dma=$dma copied=$copied"
	check "$name: every frame once, in order, intact (valid=$N)" \
		verify_valid "$N" --start-seq "$SEQ" --expect "$N" "$TMP/c.pcapng"
	next_seq
	check "$name: every captured frame came by DMA, none copied (rx_dma $dma = captured $c, rx_copied $copied)" \
		[ "$dma" = "$c" -a "$copied" = 0 ]
	check "$name: none reached the stack (a tpacket capture saw 0)" \
		[ "$(captured "$TMP/stack.log")" = 0 ]
	rm -f "$TMP/c.pcapng"
done

# --- 2b. transmit by DMA: short frames, invalid descriptors, laps, a second
# sender, the link down, a close with frames queued (tests/vm/pfzc_txdma.c)
drain
"$BUILD/vm/pfzc_txdma" "$TX" "$RX"
check "transmit by DMA: pfzc_txdma passes" [ $? -eq 0 ]
check "transmit by DMA: TX's link is up again" carrier_on "$TX"

# --- 3. unbound again: the stock path ------------------------------------------
stock_path "stock path after the socket closed"

# --- 3b. nothing lost silently -------------------------------------------------
# The NIC's misses reach zcap's final count, stopped by a signal (a frozen
# capture once left the interface's counters out: issue 14). e1000 adds
# its missed counter (MPC) into rx_missed_errors, and so into the drop
# column of /proc/net/dev, in its watchdog, every 2 s: wait that out
# before the stop. qemu's MPC counts a frame again each time it offers it
# to a full ring, and frames it queued may come later, so the sum is
# checked as at least what was sent, not equal to it.

# the stock driver and a tpacket capture, 2,000 frames at RATE. Whether
# the guest falls behind depends on the kernel (the stock kernel took 254
# of 2,000; the KASAN kernel, booted with acpi=noirq, all of them): the
# misses are checked where the NIC had any, and captured + dropped >= sent
# in every case. Not at full speed: 20,000 frames overflow the queue qemu
# keeps for a NIC with no free buffer, and what it drops there no counter
# of the NIC sees (254 captured + 16,730 missed of 20,000, in CI).
drain
m0=$(missed)
start_cap "$RX" "$TMP/sd.log" --backend tpacket -q -w "$TMP/sd.pcapng" ||
	not_ok "stock path, source faster than the guest: zcap starts"
gen -c 2000 -s 128
sleep 3
stop_cap
c=$(captured "$TMP/sd.log") i=$(if_drops "$TMP/sd.log") m=$(($(missed) - m0))
diag "stock path, 2,000 frames at $RATE/s: sent=$(sent) captured=$c dropped_by_interface=$i missed=+$m"
if [ "$m" -gt 0 ]; then
	check "stock path, SIGINT: the NIC's misses are in zcap's summary (dropped by interface $i > 0)" \
		[ "${i:-0}" -gt 0 ]
else
	skip "stock path, SIGINT: the NIC's misses in zcap's summary" "the NIC missed none here"
fi
check "stock path, SIGINT: captured + dropped by interface >= sent ($c + $i >= $(sent))" \
	[ $((${c:-0} + ${i:-0})) -ge "$(sent)" ]
next_seq
rm -f "$TMP/sd.pcapng"

# zero copy with the reader stopped: the application holds every frame,
# so the driver has none to post and the NIC misses
drain
start_cap "$RX" "$TMP/st.log" --backend pfzc -B 512 -q -w "$TMP/st.pcapng" ||
	not_ok "zero copy, reader stalled: zcap starts"
st=$CAP
check "zero copy, reader stalled: RX's link is back after the switch" carrier_on "$RX"
kill -STOP $st
gen -c 4000 -s 128
sleep 3
kill -CONT $st
sleep 2
stop_cap $st
check "zero copy, reader stalled: zcap exits 0" [ $? -eq 0 ]
c=$(captured "$TMP/st.log") d=$(summary "$TMP/st.log" "dropped by ring") i=$(if_drops "$TMP/st.log")
diag "zero copy, reader stalled: sent=$(sent) captured=$c ring=$d if=$i missed=$(missed) dma=$(awk -v i="$RX" '$3 == i { print $11 }' /proc/net/pf_zerocopy)"
check "zero copy, reader stalled: the NIC's misses are in zcap's summary (dropped by interface $i > 0)" \
	[ "${i:-0}" -gt 0 ]
check "zero copy, reader stalled: captured + dropped >= sent ($c + $d + $i >= $(sent))" \
	[ $((${c:-0} + ${d:-0} + ${i:-0})) -ge "$(sent)" ]
check "zero copy, reader stalled: what was captured is whole, once, in order" \
	verify_valid "$c" --start-seq "$SEQ" --expect 4000 --allow-loss "$TMP/st.pcapng"
next_seq
rm -f "$TMP/st.pcapng"

# --- 4. teardown under traffic -------------------------------------------------
# traffic S [ARGS]: zcap-gen sending to RX in the background for S seconds
traffic() {
	_s=$1
	shift
	taskset -c 0 "$GEN" -q -i "$TX" --dst-mac "$RXMAC" -d "$_s" -s 1518 "$@" 2>"$TMP/traffic.log" &
	GENPID=$!
}

# close (SIGINT) under traffic
traffic 8
start_cap "$RX" "$TMP/t.log" --backend pfzc -q -w /dev/null || not_ok "close under traffic: zcap starts"
sleep 2
stop_cap
check "close under traffic: zcap exits 0" [ $? -eq 0 ]
memcheck "close under traffic"
wait $GENPID

# kill -9 under traffic
traffic 8
start_cap "$RX" "$TMP/t.log" --backend pfzc -q -w /dev/null || not_ok "kill -9 under traffic: zcap starts"
sleep 2
kill -9 $CAP
wait $CAP 2>/dev/null
memcheck "kill -9 under traffic"
wait $GENPID

# link down and up under traffic, a socket bound throughout: frames come
# by DMA before the link goes down and again after it is back. Each wait
# is for the link itself (carrier_on), not a fixed time: on a debug kernel
# the driver's watchdog brings it back many seconds later than here.
traffic 600	# stopped after the test
start_cap "$RX" "$TMP/t.log" --backend pfzc -q -w /dev/null || not_ok "link down: zcap starts"
carrier_on "$RX"
grows_after 0
d0=$(pz 11)
check "link down and up under traffic: frames come by DMA before (rx_dma $d0)" [ "${d0:-0}" -gt 0 ]
ip link set "$RX" down
sleep 1
d1=$(pz 11)
ip link set "$RX" up
check "link down and up under traffic: RX's link comes back" carrier_on "$RX"
grows_after "${d1:-0}"
d2=$(pz 11)
check "link down and up under traffic: capture goes on after (rx_dma $d1 -> $d2)" \
	[ "${d2:-0}" -gt "${d1:-0}" ]
stop_cap
check "link down and up under traffic: zcap exits 0" [ $? -eq 0 ]
memcheck "link down and up under traffic"
kill $GENPID 2>/dev/null
wait $GENPID

# bind and unbind, five times, under traffic: each bind switches RX to
# zero copy, each close back to the stack
traffic 600	# stopped after the cycles (the link's return takes long on debug kernels)
cycles_ok=0
for k in 1 2 3 4 5; do
	start_cap "$RX" "$TMP/cy.log" --backend pfzc -q -w /dev/null || continue
	carrier_on "$RX"
	sleep 1
	d=$(pz 11)
	stop_cap && [ "${d:-0}" -gt 0 ] && cycles_ok=$((cycles_ok + 1))
	diag "cycle $k: rx_dma=$d, $(captured "$TMP/cy.log") captured"
done
check "bind/unbind under traffic: 5 of 5 cycles took frames by DMA and exited 0" [ $cycles_ok = 5 ]
memcheck "bind/unbind cycles under traffic"
kill $GENPID 2>/dev/null
wait $GENPID

# the DMA sender's teardown, sending at full speed: killed with frames on
# the NIC, and its link taken down under it (the kick then fails, and
# zcap-gen stops saying so)
traffic 8 --backend pfzc
sleep 2
kill -9 $GENPID
wait $GENPID 2>/dev/null
memcheck "DMA sender killed with -9 while sending"
traffic 8 --backend pfzc
sleep 2
ip link set "$TX" down
wait $GENPID
rc=$?
sed 's/^/# /' "$TMP/traffic.log"
check "DMA sender, its link taken down: zcap-gen exits non-zero ($rc), saying the interface is down" \
	[ $rc -ne 0 ] && grep -q "interface is down" "$TMP/traffic.log"
ip link set "$TX" up
check "DMA sender, link down: TX's link is up again" carrier_on "$TX"
memcheck "DMA sender, link taken down while sending"

# rmmod e1000 under traffic with a socket bound: the device goes away,
# while the DMA sender sends on the other one of the same driver
traffic 8 --backend pfzc
start_cap "$RX" "$TMP/t.log" --backend pfzc -q -w /dev/null || not_ok "rmmod: zcap starts"
zc=$CAP
sleep 2
check "rmmod e1000 under traffic, a socket bound on RX, a DMA sender on TX" rmmod e1000
wait $zc
diag "rmmod: zcap exited $? ($(tail -1 "$TMP/t.log"))"
memcheck "rmmod e1000 under traffic"
wait $GENPID 2>/dev/null
check "no socket left in /proc/net/pf_zerocopy" \
	[ "$(awk 'NR > 1' /proc/net/pf_zerocopy | wc -l)" = 0 ]
