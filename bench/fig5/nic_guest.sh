#!/bin/sh
# Figure 5 on the NIC, inside the VM (bench/fig5/nic.sh boots it): per
# frame size, what each capturer on the patched e1000 (or, with
# FIG5N_NIC=rtl8139, the patched 8139too) takes while the host sends from
# outside the guest (zcap-gen on a tap device that qemu connects to that
# NIC, FIG5N_MAC), so that the guest's vCPUs do only the receiving.
#
#   none     no capturer: the driver's stock path, the stack drops each
#            frame (no IP address here): the NIC's own ceiling
#   pfzc     zcap --backend pfzc: the NIC writes by DMA into zcap's frames
#   pcap     bench/pcap_count.c, a pcap_dispatch counting loop (the stack)
#   tcpdump  tcpdump -w /dev/null (the stack)
#   tpacket  zcap --backend tpacket (the stack)
#
# The host runs zcap-gen when asked over the VM's third serial port
# (/dev/ttyS2): "gen ARGS" gets back "done <zcap-gen's last line>".
# A run: the capturer started, a slow warm-up until the NIC takes frames
# in (their count taken off what the capturer counted), FULL s at full speed; then, if the capturer lost frames, a binary
# search on the rate (STEPS steps of SECS s) for the highest one at which
# it lost none. Prints per cell and run:
#   # fig5nic CAP SIZE RUN LOSSFREE_PPS FULL_RX_PPS CPU_US_PER_PKT STEPS KIND
#             SENT RX CAPTURED
# FULL_RX_PPS: what the NIC took in per second at full speed (rx_packets
# over the host's sending time); CPU_US_PER_PKT: the guest's busy CPU time
# (/proc/stat, both vCPUs) per frame the NIC took in, at full speed. KIND:
# full (nothing lost at full speed: LOSSFREE is the rate offered), search,
# or none (no loss-free step). SENT RX CAPTURED: at full speed, the frames
# the host sent, the guest's driver took in (rx_packets; the rest never
# reached it: dropped by the host's tap, or by qemu's NIC with no free
# buffer), and the capturer kept.
# Environment (from nic.sh): FIG5N_SIZES, FIG5N_CAPS, FIG5N_RUNS,
# FIG5N_STEPS, FIG5N_SECS, FIG5N_FULL, FIG5N_WAIT.
# shellcheck disable=SC2046  # set -- $(...) splits numbers on purpose
. "$(dirname "$0")/lib.sh"
. /etc/zcap-vm.conf

SIZES=${FIG5N_SIZES:-64 128 256 512 1024 1518 rand}
CAPS=${FIG5N_CAPS:-none pfzc pcap tcpdump tpacket}
RUNS=${FIG5N_RUNS:-3}
STEPS=${FIG5N_STEPS:-4}
SECS=${FIG5N_SECS:-1}
FULL=${FIG5N_FULL:-2}
WAIT=${FIG5N_WAIT:-1.5}
PCAP=$BUILD/vm/pcap_count
TCPDUMP=$BUILD/vm/tcpdump
CTL=/dev/ttyS2

NICDEV=${FIG5N_NIC:-e1000}
if [ "$NICDEV" = rtl8139 ]; then
	[ -n "$RTL8139_KO" ] || { not_ok "fig5nic: the patched 8139too.ko is in the VM"; exit 1; }
	for p in $GUEST_MODULES; do
		case "$p" in */mii.ko) insmod "$p" ;; esac
	done
	# qemu's model is an RTL8139C+: 8139too leaves it to 8139cp otherwise
	insmod "$RTL8139_KO" cplus=1 || { not_ok "fig5nic: insmod 8139too.ko cplus=1"; exit 1; }
else
	[ -n "$E1000_KO" ] || { not_ok "fig5nic: the patched e1000.ko is in the VM"; exit 1; }
	insmod "$E1000_KO" || { not_ok "fig5nic: insmod e1000.ko"; exit 1; }
fi
NIC=$(ifname_of "${FIG5N_MAC:-52:54:00:00:e1:02}") ||
	{ not_ok "fig5nic: the $NICDEV on the host's tap device appears"; exit 1; }
sysctl -qw "net.ipv6.conf.$NIC.disable_ipv6=1" 2>/dev/null
ip link set "$NIC" up
carrier_on "$NIC" || { not_ok "fig5nic: $NIC's link"; exit 1; }
grep -q '^root:' /etc/passwd 2>/dev/null || echo 'root:x:0:0:root:/root:/bin/sh' >>/etc/passwd
stty -F "$CTL" raw -echo 2>/dev/null
exec 3<>"$CTL"

# host ARGS...: zcap-gen on the host with ARGS; its last line in gen.log
host() {
	echo "gen $*" >&3
	IFS= read -r _reply <&3
	echo "${_reply#done }" >"$TMP/gen.log"
}
host -c 1 -s 64 -q
[ -n "$(kv "$TMP/gen.log" sent)" ] || { not_ok "fig5nic: the host answers on $CTL"; exit 1; }
ok "fig5nic: $NIC up, the host sends on request"

rxp() { cat "/sys/class/net/$NIC/statistics/rx_packets"; }
# ifstats: the NIC's error counters so far, where frames went missing
ifstats() {
	for c in rx_errors rx_missed_errors rx_fifo_errors rx_dropped; do
		printf '%s=%s ' "$c" "$(cat "/sys/class/net/$NIC/statistics/$c")"
	done
}
# busy: the guest's non-idle jiffies, all vCPUs (user nice system irq softirq steal)
busy() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
HZ_US=$((1000000 / $(getconf CLK_TCK 2>/dev/null || echo 100)))

start() {
	rm -f "$TMP/cap.log"
	case "$1" in
	none) CAP_PID=; return 0 ;;
	pfzc|tpacket) "$ZCAP" --backend "$1" -i "$NIC" -q -w /dev/null 2>"$TMP/cap.log" & ;;
	pcap) "$PCAP" "$NIC" 2>"$TMP/cap.log" & ;;
	tcpdump) "$TCPDUMP" -Z root -n -i "$NIC" -w /dev/null 2>"$TMP/cap.log" & ;;
	esac
	CAP_PID=$!
	wait_for "$TMP/cap.log" "listening on" 600 "$CAP_PID" || return 1
	# a direct receiver's bind restarts the NIC's receive side: the link
	# drops until the driver's watchdog sees it again
	carrier_on "$NIC"
}
stop() {
	case "$1" in none) CAPTURED=$RX; return ;; esac
	stop_counted "$1" "$CAP_PID" "$TMP/cap.log"
	[ -n "$CAPTURED" ] && CAPTURED=$((CAPTURED - WARM))
	carrier_on "$NIC"
}
# warm: until 20 frames sent slowly all reach the NIC (up to 20 tries):
# after a capturer starts (and a direct receiver's bind restarts the NIC's
# receive side) qemu's e1000 may take frames in only slowly at first, and
# a burst must not measure that. WARM: the frames the NIC took in meanwhile,
# which the capturer counts too
warm() {
	_w0=$(rxp)
	for _ in $(seq 20); do
		_a=$(rxp)
		host -q -c 20 -r 2000 -s 64
		sleep 0.2
		[ $(($(rxp) - _a)) -ge 20 ] && { WARM=$(($(rxp) - _w0)); return 0; }
		sleep 0.3
	done
	return 1
}
gen_size() { if [ "$1" = rand ]; then echo "--random-sizes"; else echo "-s $1"; fi; }

# one CAP SIZE LIMIT RATE: "sent rx captured secs busy": the host's frames,
# what the NIC took in, what the capturer kept, the host's seconds, the
# guest's busy jiffies meanwhile. LIMIT: "-c N" or "-d SECS"; RATE 0: full
one() {
	start "$1" || { echo FAIL; return; }
	warm || { stop "$1"; echo FAIL; return; }
	_r=
	[ "$4" != 0 ] && _r="-r $4"
	_rx0=$(rxp) _b0=$(busy)
	host -q $3 $(gen_size "$2") $_r
	sleep "$WAIT"
	_b1=$(busy)
	RX=$(($(rxp) - _rx0))
	stop "$1"
	_s=$(kv "$TMP/gen.log" sent) _t=$(kv "$TMP/gen.log" seconds)
	[ -n "$_s" ] && [ -n "$_t" ] || { echo FAIL; return; }
	echo "$_s $RX ${CAPTURED:-FAIL} $_t $((_b1 - _b0))"
}

for size in $SIZES; do
	for run in $(seq 1 "$RUNS"); do
		for cap in $CAPS; do	# interleaved, so drift hits every capturer alike
			set -- $(one "$cap" "$size" "-d $FULL" 0)
			if [ "${3:-FAIL}" = FAIL ]; then
				not_ok "fig5nic $cap $size run $run: capturer ran"
				continue
			fi
			echo "# fig5nic-run $cap $size $run sent=$1 rx=$2 captured=$3 seconds=$4 busy_jiffies=$5 $(ifstats)"
			fs=$1 fr=$2 fc=$3
			full_rx=$(awk -v n="$2" -v t="$4" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }')
			cpu=$(awk -v b="$5" -v n="$2" -v u="$HZ_US" 'BEGIN { printf "%.1f", (n > 0 ? b * u / n : 0) }')
			steps=0 kind=full
			if [ "$3" -ge "$1" ]; then
				best=$(awk -v n="$1" -v t="$4" 'BEGIN { printf "%.0f", n / t }')
			else
				# search: lo a loss-free rate, hi a lossy one
				kind=search lo=0 hi=$full_rx
				[ "$hi" -lt 200 ] && hi=200
				while [ $steps -lt "$STEPS" ] && [ "$hi" -gt $((lo + lo / 50 + 1)) ]; do
					steps=$((steps + 1))
					mid=$(( (lo + hi) / 2 ))
					[ $mid -lt 100 ] && mid=100
					cnt=$(awk -v r=$mid -v t="$SECS" 'BEGIN { c = int(r * t); print c < 200 ? 200 : c }')
					set -- $(one "$cap" "$size" "-c $cnt" "$mid")
					[ "${3:-FAIL}" = FAIL ] && break
					echo "# fig5nic-step $cap $size $run $steps asked=$mid sent=$1 rx=$2 captured=$3"
					if [ "$3" -ge "$1" ]; then lo=$mid; else hi=$mid; fi
				done
				best=$lo
				[ "$best" = 0 ] && kind=none
			fi
			echo "# fig5nic $cap $size $run $best $full_rx $cpu $steps $kind $fs $fr $fc"
		done
	done
	ok "fig5nic: size $size measured"
done
echo bye >&3
rm -rf "$TMP"
