#!/bin/sh
# Figure 5 of the PF_ZEROCOPY paper, inside the VM (bench/fig5/run.sh boots
# it): the highest loss-free receive rate on the module's virtual pair, per
# frame size, for each capturer on zc1, while zcap-gen sends on zc0 from the
# module's tx ring (--backend pfzc): no skb and no per-frame syscall on the
# sending side, the nearest this VM has to a wire that costs nothing.
#
#   pfzc     zcap --backend pfzc: the driver writes into its ring (no skb)
#   pcap     bench/pcap_count.c, a pcap_dispatch counting loop (the stack)
#   tcpdump  tcpdump -w /dev/null (the stack)
#   tpacket  zcap --backend tpacket (the stack)
#
# Prints one line per cell and run:
#   # fig5 CAP SIZE RUN LOSSFREE_PPS LOSSFREE_MBPS FULL_PPS STEPS
# Environment (from run.sh): FIG5_SIZES, FIG5_CAPS, FIG5_RUNS, FIG5_STEPS,
# FIG5_SECS (seconds of traffic per search step), FIG5_FULL (seconds of
# traffic at full speed: long enough that no ring hides a slow reader).
. "$(dirname "$0")/lib.sh"

SIZES=${FIG5_SIZES:-64 128 256 512 1024 1518 rand}
CAPS=${FIG5_CAPS:-pfzc pcap tcpdump tpacket}
RUNS=${FIG5_RUNS:-3}
STEPS=${FIG5_STEPS:-5}
SECS=${FIG5_SECS:-0.5}
FULL=${FIG5_FULL:-2}
DST=02:00:00:00:00:01	# owned by no host, as on a mirror port
PCAP=$BUILD/vm/pcap_count
TCPDUMP=$BUILD/vm/tcpdump

[ -e /sys/class/net/zc1 ] || { not_ok "fig5: zc0/zc1 exist (insmod pairs=1)"; exit 1; }
for i in zc0 zc1; do
	sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1" 2>/dev/null
	ip link set "$i" up
done
# tcpdump -Z root looks the user up
grep -q '^root:' /etc/passwd 2>/dev/null || echo 'root:x:0:0:root:/root:/bin/sh' >>/etc/passwd

# start CAP: the capturer on zc1, CPU 1, until it listens; sets CAP_PID
start() {
	rm -f "$TMP/cap.log"
	case "$1" in
	pfzc|tpacket)
		taskset -c 1 "$ZCAP" --backend "$1" -i zc1 -q -w /dev/null 2>"$TMP/cap.log" & ;;
	pcap)
		taskset -c 1 "$PCAP" zc1 2>"$TMP/cap.log" & ;;
	tcpdump)
		taskset -c 1 "$TCPDUMP" -Z root -n -i zc1 -w /dev/null 2>"$TMP/cap.log" & ;;
	esac
	CAP_PID=$!
	wait_for "$TMP/cap.log" "listening on" 600
}
# stop CAP: stops it; CAPTURED is what it says it captured. Not in a
# subshell: only the shell that started it can wait for it.
stop() {
	kill -INT "$CAP_PID"
	wait "$CAP_PID"
	case "$1" in
	pcap) CAPTURED=$(kv "$TMP/cap.log" captured) ;;
	*) CAPTURED=$(summary "$TMP/cap.log" captured) ;;
	esac
}
gen_size() { if [ "$1" = rand ]; then echo "--random-sizes"; else echo "-s $1"; fi; }

# one CAP SIZE LIMIT RATE: "sent pps mbps captured"; LIMIT is zcap-gen's
# "-c N" or "-d SECS"; RATE 0: full speed
one() {
	start "$1" || { echo FAIL; return; }
	_r=
	[ "$4" != 0 ] && _r="-r $4"
	# shellcheck disable=SC2046,SC2086
	taskset -c 0 "$GEN" --backend pfzc -q -i zc0 --dst-mac $DST $3 $(gen_size "$2") $_r \
		2>"$TMP/gen.log"
	# libpcap's ring hands over a partly filled block only when it retires
	case "$1" in pcap|tcpdump) sleep 1.5 ;; *) sleep 0.3 ;; esac
	stop "$1"
	echo "$(kv "$TMP/gen.log" sent) $(kv "$TMP/gen.log" pps) $(kv "$TMP/gen.log" mbps) ${CAPTURED:-FAIL}"
}

for size in $SIZES; do
	for run in $(seq 1 "$RUNS"); do
		for cap in $CAPS; do	# interleaved, so drift hits every capturer alike
			# full speed first: no loss there ends the search
			set -- $(one "$cap" "$size" "-d $FULL" 0)
			if [ "${4:-FAIL}" = FAIL ]; then
				not_ok "fig5 $cap $size run $run: capturer ran"
				continue
			fi
			full=$2 best=0 best_mbps=0 steps=0
			if [ "$4" -ge "$1" ]; then
				best=$2 best_mbps=$3
			else
				lo=0 hi=$2
				while [ $steps -lt "$STEPS" ]; do
					steps=$((steps + 1))
					mid=$(( (lo + hi) / 2 ))
					[ $mid -lt 100 ] && mid=100
					cnt=$(awk -v r=$mid -v t="$SECS" 'BEGIN { c = int(r * t); print c < 500 ? 500 : c }')
					set -- $(one "$cap" "$size" "-c $cnt" "$mid")
					[ "${4:-FAIL}" = FAIL ] && break
					if [ "$4" -ge "$1" ]; then
						lo=$mid
						# the rate reached, which may be under the one asked for
						if [ "$2" -gt "$best" ]; then best=$2 best_mbps=$3; fi
					else
						hi=$mid
					fi
				done
			fi
			echo "# fig5 $cap $size $run $best $best_mbps $full $steps"
		done
	done
	ok "fig5: size $size measured"
done
rm -rf "$TMP"
