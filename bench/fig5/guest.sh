#!/bin/sh
# Figure 5 of the PF_ZEROCOPY paper, inside the VM (bench/fig5/run.sh boots
# it): per frame size, the rate zc1 receives at while zcap-gen sends on zc0
# from the module's tx ring (--backend pfzc: no skb and no per-frame syscall
# on the sending side, the nearest this VM has to a wire that costs
# nothing), for each capturer on zc1 and with none.
#
#   none     no capturer: the driver builds an skb, the stack drops it (the
#            receive path with no capturer beside it)
#   pfzc     zcap --backend pfzc: the driver writes into its ring (no skb)
#   pcap     bench/pcap_count.c, a pcap_dispatch counting loop (the stack)
#   tcpdump  tcpdump -w /dev/null (the stack)
#   tcpdump-zr  the same tcpdump under zcap-run, ZCAP_RUN_BACKEND=pfzc: its
#            live capture through libzcap's pfzc backend (the driver writes
#            into its ring, no skb); prints "# fig5-zr backend NAME" from
#            ZCAP_RUN_VERBOSE at each start
#   tpacket  zcap --backend tpacket (the stack)
#
# A run of a cell: FULL s at full speed; the rate is what reached zc1 (its
# rx_packets + rx_dropped) / the generator's seconds. If the capturer lost
# nothing, that is the cell's rate (kind "full": the most the sending vCPU
# reached, not a loss-free rate). Else a binary search on the rates reached
# (STEPS steps of SECS s) for the highest loss-free one (kind "search", or
# "none" if no step was loss-free).
# Prints one line per cell and run:
#   # fig5 CAP SIZE RUN RATE_PPS RATE_MBPS FULL_PPS STEPS KIND
# Environment (from run.sh): FIG5_SIZES, FIG5_CAPS, FIG5_RUNS, FIG5_STEPS,
# FIG5_SECS (seconds of traffic per search step), FIG5_FULL (seconds of
# traffic at full speed: long enough that no ring hides a slow reader),
# FIG5_WAIT (seconds from the generator's end to stopping the capturer,
# the same for every capturer).
# shellcheck disable=SC2046  # set -- $(...) splits numbers on purpose
. "$(dirname "$0")/lib.sh"

SIZES=${FIG5_SIZES:-64 128 256 512 1024 1518 rand}
CAPS=${FIG5_CAPS:-none pfzc pcap tcpdump tcpdump-zr tpacket}
RUNS=${FIG5_RUNS:-3}
STEPS=${FIG5_STEPS:-5}
SECS=${FIG5_SECS:-0.5}
FULL=${FIG5_FULL:-2}
WAIT=${FIG5_WAIT:-1.5}
DST=02:00:00:00:00:01	# owned by no host, as on a mirror port
PCAP=$BUILD/vm/pcap_count
TCPDUMP=$BUILD/vm/tcpdump
ZRUN=$BUILD/zcap-run

[ -e /sys/class/net/zc1 ] || { not_ok "fig5: zc0/zc1 exist (insmod pairs=1)"; exit 1; }
for i in zc0 zc1; do
	sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1" 2>/dev/null
	ip link set "$i" up
done
# tcpdump -Z root looks the user up
grep -q '^root:' /etc/passwd 2>/dev/null || echo 'root:x:0:0:root:/root:/bin/sh' >>/etc/passwd

# zc1's counters: "rx_packets+rx_dropped rx_bytes"
rxc() {
	_d=/sys/class/net/zc1/statistics
	echo "$(($(cat $_d/rx_packets) + $(cat $_d/rx_dropped))) $(cat $_d/rx_bytes)"
}

# start CAP: the capturer on zc1, CPU 1, until it listens; sets CAP_PID
start() {
	rm -f "$TMP/cap.log"
	case "$1" in
	none) CAP_PID=; return 0 ;;
	pfzc|tpacket)
		taskset -c 1 "$ZCAP" --backend "$1" -i zc1 -q -w /dev/null 2>"$TMP/cap.log" & ;;
	pcap)
		taskset -c 1 "$PCAP" zc1 2>"$TMP/cap.log" & ;;
	tcpdump)
		taskset -c 1 "$TCPDUMP" -Z root -n -i zc1 -w /dev/null 2>"$TMP/cap.log" & ;;
	tcpdump-zr)	# taskset, env and zcap-run exec: $! is tcpdump
		taskset -c 1 env ZCAP_RUN_BACKEND=pfzc ZCAP_RUN_VERBOSE=1 "$ZRUN" \
			"$TCPDUMP" -Z root -n -i zc1 -w /dev/null 2>"$TMP/cap.log" & ;;
	esac
	CAP_PID=$!
	wait_for "$TMP/cap.log" "listening on" 600 "$CAP_PID" || return 1
	if [ "$1" = tcpdump-zr ]; then
		# a run that did not take pfzc measures something else: not counted
		_b=$(sed -n 's/.*zc1: capturing with libzcap, backend \([a-z]*\),.*/\1/p' "$TMP/cap.log")
		echo "# fig5-zr backend ${_b:-none}" >&2
		if [ "$_b" != pfzc ]; then
			kill -INT "$CAP_PID"
			wait "$CAP_PID"
			sed 's/^/# zcap-run: /' "$TMP/cap.log" >&2
			return 1
		fi
	fi
}
# stop CAP: stops it; CAPTURED is what it says it captured. Not in a
# subshell: only the shell that started it can wait for it.
stop() {
	case "$1" in none) CAPTURED=$RX; return ;; esac
	stop_counted "$1" "$CAP_PID" "$TMP/cap.log"
}
gen_size() { if [ "$1" = rand ]; then echo "--random-sizes"; else echo "-s $1"; fi; }

# one CAP SIZE LIMIT RATE: "rx pps mbps captured": frames that reached zc1,
# and their rate and Mb/s over the generator's seconds; LIMIT is zcap-gen's
# "-c N" or "-d SECS"; RATE 0: full speed
one() {
	start "$1" || { echo FAIL; return; }
	_r=
	[ "$4" != 0 ] && _r="-r $4"
	set -- "$1" "$2" "$3" "$4" $(rxc)
	# shellcheck disable=SC2046,SC2086
	taskset -c 0 "$GEN" --backend pfzc -q -i zc0 --dst-mac $DST $3 $(gen_size "$2") $_r \
		2>"$TMP/gen.log"
	# the same wait for every capturer: libpcap's ring hands over a partly
	# filled block only when it retires (1 s for tcpdump)
	sleep "$WAIT"
	set -- "$@" $(rxc)
	RX=$(($7 - $5))
	stop "$1"
	_t=$(kv "$TMP/gen.log" seconds)
	[ -n "$_t" ] && [ "$RX" -gt 0 ] || { echo FAIL; return; }
	awk -v rx="$RX" -v b=$(($8 - $6)) -v t="$_t" -v c="${CAPTURED:-FAIL}" \
		'BEGIN { printf "%d %.0f %.3f %s\n", rx, rx / t, b * 8 / t / 1e6, c }'
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
			full=$2 best=0 best_mbps=0 steps=0 kind=full
			if [ "$4" -ge "$1" ]; then
				best=$2 best_mbps=$3
			else
				# search on the rates reached: lo a loss-free one, hi a lossy one
				kind=search lo=0 hi=$2 oks=
				while [ $steps -lt "$STEPS" ] && [ "$hi" -gt "$lo" ]; do
					steps=$((steps + 1))
					mid=$(( (lo + hi) / 2 ))
					[ $mid -lt 100 ] && mid=100
					cnt=$(awk -v r=$mid -v t="$SECS" 'BEGIN { c = int(r * t); print c < 500 ? 500 : c }')
					set -- $(one "$cap" "$size" "-c $cnt" "$mid")
					[ "${4:-FAIL}" = FAIL ] && break
					echo "# fig5-step $cap $size $run $steps asked=$mid reached=$2 rx=$1 captured=$4"
					if [ "$4" -ge "$1" ]; then
						[ "$2" -gt "$lo" ] && lo=$2
						oks="$oks $2:$3"
					else
						[ "$2" -lt "$hi" ] && hi=$2
					fi
				done
				# the highest loss-free rate below every lossy one
				set -- $(echo "$oks" | tr ' ' '\n' | awk -F: -v hi="$hi" \
					'$1 != "" && $1 < hi && $1 > b { b = $1; m = $2 } END { print b + 0, m + 0 }')
				best=$1 best_mbps=$2
				[ "$best" = 0 ] && kind=none
			fi
			echo "# fig5 $cap $size $run $best $best_mbps $full $steps $kind"
		done
	done
	ok "fig5: size $size measured"
done
rm -rf "$TMP"
