#!/bin/bash
# The capture benchmark (issue 4): zcap against tcpdump, a libpcap loop,
# netsniff-ng and the ceilings (XDP_DROP, no capturer), side by side in one run.
#
#   bench/run.sh                      the full run; results in bench/results/
#   bench/run.sh --smoke              tiny counts, 1 run, results in a temp dir;
#                                     TAP lines "ok - bench smoke: ..." (< 60 s)
#   bench/run.sh --only zcap --size 64          one cell (results in bench/results/)
#   bench/run.sh --only zcap,tcpdump --size 64,1518 --runs 5 --out /tmp/b
#   bench/run.sh --only zcap,tcpdump --disk-only --runs 3 --out /tmp/d
#
# Options: --only LIST (zcap zcapxdp tcpdump pcap netsniff xdp none; "none" is always
# added as the overhead baseline), --size LIST (64 512 1518 rand), --runs N,
# --count N (frames per run), --no-search, --no-disk, --disk-only (only dd
# and the to-disk section), --out DIR.
# Needs root (network namespaces, XDP), and the build, test and bench packages
# (make deps or make bench; it installs nothing itself). See bench/README.md.
set -u

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
BUILD="$ROOT/build"
ZCAP="$BUILD/zcap"
GEN="$BUILD/zcap-gen"
TESTBED="$ROOT/scripts/testbed.sh"
DST_MAC=02:00:00:00:00:01	# owned by no host, as on a mirror port

SMOKE=0
CAPS="zcap zcapxdp tcpdump pcap netsniff xdp none"
SIZES="64 512 1518 rand"
RUNS=3
COUNT=1000000
SEARCH=1
DISK=1
MAIN=1
OUT=
SEARCH_STEPS=6
SEARCH_SECS=1
DISK_COUNT=1000000
DD_MB=1024
ARGS="$*"

while [ $# -gt 0 ]; do
	case "$1" in
	--smoke) SMOKE=1 ;;
	--only) CAPS=$(echo "$2" | tr ',' ' '); shift ;;
	--size) SIZES=$(echo "$2" | tr ',' ' '); shift ;;
	--runs) RUNS=$2; shift ;;
	--count) COUNT=$2; DISK_COUNT=$2; shift ;;
	--no-search) SEARCH=0 ;;
	--no-disk) DISK=0 ;;
	--disk-only) MAIN=0 SEARCH=0 DISK=1 ;;
	--out) OUT=$2; shift ;;
	-h|--help) sed -n '2,18p' "$0"; exit 0 ;;
	*) echo "bench: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
if [ $SMOKE = 1 ]; then
	RUNS=1 COUNT=2000 DISK_COUNT=2000 SEARCH_STEPS=1 SEARCH_SECS=0.05 DD_MB=16
	SIZES_SMOKE="64 rand"
	[ "$SIZES" = "64 512 1518 rand" ] && SIZES=$SIZES_SMOKE
fi
case " $CAPS " in *" none "*) ;; *) CAPS="$CAPS none" ;; esac

if ! is_root; then
	echo "bench: needs root (network namespaces, XDP)" >&2
	[ $SMOKE = 1 ] && { skip "bench smoke" "needs root"; exit 0; }
	exit 1
fi

TMPD=$(mktemp -d /tmp/zcap-bench.XXXXXX)
if [ $SMOKE = 1 ]; then
	RES=${OUT:-$TMPD/results}
else
	RES=${OUT:-$BENCH/results}
fi
mkdir -p "$RES"
DISKDIR="$RES/tmp"			# to-disk captures: on the disk, deleted after
SHM=$(mktemp -d /dev/shm/zcap-bench.XXXXXX)	# netsniff-ng's sink (see README)
TB="zb$$"
GEN_NS="$TB-gen" CAP_NS="$TB-cap" GEN_IF="$TB-g" CAP_IF="$TB-c"
CAP_PID=

TAP_PREFIX="bench "; [ $SMOKE = 1 ] && TAP_PREFIX="bench smoke: "
log() { echo "# $*" >&2; }

cleanup() {
	if [ -n "$CAP_PID" ]; then kill -9 "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null; fi
	ip -n "$CAP_NS" link set dev "$CAP_IF" xdp off 2>/dev/null
	"$TESTBED" down "$TB" 2>/dev/null
	rm -rf "$TMPD" "$SHM" "$DISKDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- setup -----------------------------------------------------------------
sh "$ROOT/scripts/install-deps.sh" --check build test bench ||
	{ not_ok "what it needs is installed (make deps)"; exit 1; }
make -s -C "$ROOT" all >/dev/null || { not_ok "build (make all)"; exit 1; }
cc -O2 -Wall -Wextra -o "$TMPD/pcap_count" "$BENCH/pcap_count.c" -lpcap ||
	{ not_ok "build pcap_count"; exit 1; }
XDP_OBJ=
XDP_NOTE=
if have clang && [ -f /usr/include/bpf/bpf_helpers.h ]; then
	if clang -O2 -g -target bpf -I"/usr/include/$(uname -m)-linux-gnu" \
		-c "$BENCH/xdp_drop.c" -o "$TMPD/xdp_drop.o" 2>"$TMPD/clang.err"; then
		XDP_OBJ="$TMPD/xdp_drop.o"
	else
		XDP_NOTE="clang failed: $(head -1 "$TMPD/clang.err")"
	fi
else
	XDP_NOTE="clang or libbpf headers unavailable"
fi

"$TESTBED" up "$TB" || { not_ok "testbed up"; exit 1; }

pick_cpus
CAP_CPU=${CAP_CPU:-$GEN_CPU}
HZ=$(getconf CLK_TCK)

# --- measurement helpers ----------------------------------------------------
busy_jiffies() {	# user+nice+system+irq+softirq of the whole machine
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat
}
rx_packets() { ip netns exec "$CAP_NS" cat "/sys/class/net/$CAP_IF/statistics/rx_packets"; }
xdp_drops() {
	ip netns exec "$CAP_NS" ethtool -S "$CAP_IF" 2>/dev/null |
		awk '/rx_queue_[0-9]+_xdp_drops:/ { s += $2 } END { print s + 0 }'
}

# cap_started FILE PATTERN: until the capturer printed PATTERN (1 if it
# died, or after 15 s)
cap_started() {
	wait_for "$1" "$2" 150 "$CAP_PID" && return 0
	log "capturer did not start: $(tail -3 "$1" | tr '\n' ' ')"
	return 1
}

# start_cap CAP SINK: start a capturer on the capture core; SINK is /dev/null
# or a file. Sets CAP_PID (the capturer itself: ip netns exec and taskset exec).
start_cap() {
	cap=$1 sink=$2
	rm -f "$TMPD/cap.err" "$TMPD/cap.out"	# a stale "listening" line would lie
	CAP_PID=
	case "$cap" in
	zcap) set -- "$ZCAP" -i "$CAP_IF" -w "$sink" ;;
	zcapxdp) set -- "$ZCAP" --backend xdp -i "$CAP_IF" -w "$sink" ;;	# AF_XDP, copy mode on veth
	tcpdump) set -- tcpdump -Z root -n -i "$CAP_IF" -w "$sink" ;;
	pcap) set -- "$TMPD/pcap_count" "$CAP_IF" ;;
	netsniff)
		# netsniff-ng captures nothing with --out /dev/null (0.6.8), so it
		# writes to a pcap file on tmpfs, removed after each run. It faults
		# in its ring (2.3 GiB by default on 24 GiB) before it says
		# "Running!", which took 2-7 s here: a fixed sleep lost whole runs.
		# stdbuf, so that the line shows while it runs, not at exit.
		set -- stdbuf -oL netsniff-ng --in "$CAP_IF" --out "$SHM/ns.pcap" --silent -A \
			-b "$CAP_CPU" ;;
	xdp)
		ip -n "$CAP_NS" link set dev "$CAP_IF" xdp obj "$XDP_OBJ" sec xdp
		return ;;
	none) return 0 ;;
	esac
	ip netns exec "$CAP_NS" taskset -c "$CAP_CPU" "$@" 2>"$TMPD/cap.err" >"$TMPD/cap.out" &
	CAP_PID=$!
	if [ "$cap" = netsniff ]; then
		cap_started "$TMPD/cap.out" "Running!"
	else
		cap_started "$TMPD/cap.err" "listening on"
	fi
}

# stop_cap CAP: stop it and print what it says it captured
stop_cap() {
	cap=$1
	case "$cap" in
	xdp) ip -n "$CAP_NS" link set dev "$CAP_IF" xdp off; echo "$((XDP1 - XDP0))"; return ;;
	none) echo "$((RX1 - RX0))"; return ;;
	esac
	# netsniff-ng started in the background of a script inherits SIGINT
	# ignored and keeps it so; it stops (and prints its counts) on SIGTERM
	if [ "$cap" = netsniff ]; then
		kill -TERM "$CAP_PID" 2>/dev/null
	else
		kill -INT "$CAP_PID" 2>/dev/null
	fi
	# netsniff-ng finishes writing its file before it prints its counts
	limit=100
	[ "$cap" = netsniff ] && limit=600
	if ! wait_gone "$CAP_PID" $limit; then
		log "$cap did not stop; killed"
		kill -9 "$CAP_PID"
	fi
	wait "$CAP_PID" 2>/dev/null
	CAP_PID=
	case "$cap" in
	zcap|zcapxdp|tcpdump) summary "$TMPD/cap.err" captured ;;
	pcap) kv "$TMPD/cap.err" captured ;;
	netsniff) # its summary lines start with a carriage return
		awk '{ gsub(/\r/, "") } /packets passed filter/ { n = $1 } END { print n }' \
			"$TMPD/cap.out"
		rm -f "$SHM/ns.pcap" ;;
	esac
}

gen_args() {	# SIZE [SEED] -> zcap-gen size flags
	if [ "$1" = rand ]; then echo "--random-sizes --seed ${2:-1}"; else echo "-s $1"; fi
}

# wait_quiet FILE: until FILE stops growing for 0.5 s (a to-disk capturer
# draining its ring), at most 30 s
wait_quiet() {
	last=-1 i=0
	while [ $i -lt 60 ]; do
		s=$(stat -c %s "$1" 2>/dev/null || echo 0)
		[ "$s" = "$last" ] && break
		last=$s; sleep 0.5; i=$((i + 1))
	done
}

# one_run CAP SIZE SEED COUNT RATE SINK: one measurement; prints
# "sent seconds offered_pps rx_pps captured captured_pps loss_pct cpu_ns_per_pkt mbps"
one_run() {
	cap=$1 size=$2 seed=$3 count=$4 rate=$5 sink=$6
	start_cap "$cap" "$sink" || { echo FAIL; return 1; }
	RX0=$(rx_packets); XDP0=$(xdp_drops); J0=$(busy_jiffies)
	ratearg=
	[ "$rate" != 0 ] && ratearg="-r $rate"
	# shellcheck disable=SC2046,SC2086
	ip netns exec "$GEN_NS" taskset -c "$GEN_CPU" "$GEN" -q -i "$GEN_IF" --dst-mac "$DST_MAC" \
		-c "$count" $(gen_args "$size" "$seed") $ratearg 2>"$TMPD/gen.log"
	# tcpdump and netsniff-ng leave a partly filled TPACKET_V3 block unread
	# until its retire timeout (1 s), and drop it on SIGINT: wait that out
	settle=0.3
	case "$cap" in tcpdump|netsniff) settle=1.2 ;; esac
	if [ "$sink" != /dev/null ]; then wait_quiet "$sink"; else sleep "$settle"; fi
	J1=$(busy_jiffies); RX1=$(rx_packets); XDP1=$(xdp_drops)
	captured=$(stop_cap "$cap")
	sent=$(kv "$TMPD/gen.log" sent) secs=$(kv "$TMPD/gen.log" seconds) mbps=$(kv "$TMPD/gen.log" mbps)
	if [ -z "$sent" ] || [ -z "$captured" ] || [ -z "$secs" ]; then
		log "$cap $size: no numbers (gen: $(cat "$TMPD/gen.log"))"
		echo FAIL; return 1
	fi
	awk -v s="$sent" -v t="$secs" -v rx=$((RX1 - RX0)) -v c="$captured" \
		-v j=$((J1 - J0)) -v hz="$HZ" -v m="$mbps" 'BEGIN {
		printf "%d %.6f %.0f %.0f %d %.0f %.4f %.1f %.1f\n", s, t, s / t, rx / t, c, c / t,
			(s - c) * 100 / s, j * 1e9 / hz / s, m }'
}

available() {	# CAP -> 0 if it can run here
	case "$1" in
	xdp) [ -n "$XDP_OBJ" ] ;;
	netsniff) have netsniff-ng ;;
	*) true ;;
	esac
}

# --- 1. main cells ----------------------------------------------------------
RAW="$RES/raw.tsv"
printf 'cap\tsize\trun\tsent\tseconds\toffered_pps\trx_pps\tcaptured\tcaptured_pps\tloss_pct\tcpu_ns_pkt\tmbps\n' >"$RAW"
T_START=$(date +%s)
[ $MAIN = 1 ] && log "main cells: capturers [$CAPS] sizes [$SIZES] runs $RUNS count $COUNT"
[ $MAIN = 1 ] || SIZES=
for size in $SIZES; do
	for run in $(seq 1 "$RUNS"); do
		for cap in $CAPS; do	# interleaved, so drift hits every capturer alike
			available "$cap" || continue
			r=$(one_run "$cap" "$size" "$run" "$COUNT" 0 /dev/null)
			if [ "$r" = FAIL ] || [ -z "$r" ]; then
				not_ok "$cap size $size run $run"
				continue
			fi
			printf '%s\t%s\t%s\t%s\n' "$cap" "$size" "$run" "$(echo "$r" | tr ' ' '\t')" >>"$RAW"
			log "$cap $size #$run: $r"
		done
	done
done
for cap in $CAPS; do
	[ $MAIN = 1 ] || break
	available "$cap" || continue
	n=$(awk -F'\t' -v c="$cap" '$1 == c' "$RAW" | wc -l)
	want=$(( $(echo "$SIZES" | wc -w) * RUNS ))
	if [ "$n" -eq "$want" ]; then ok "capturer $cap: $n runs"; else not_ok "capturer $cap: $n of $want runs"; fi
done

# --- 2. loss-free rate ------------------------------------------------------
LF="$RES/lossfree.tsv"
printf 'cap\tsize\tlossfree_pps\tfull_speed_pps\tnote\n' >"$LF"
if [ $SEARCH = 1 ]; then
	for cap in $CAPS; do
		case "$cap" in xdp|none) continue ;; esac	# no loss by construction
		available "$cap" || continue
		for size in 64 1518; do
			case " $SIZES " in *" $size "*) ;; *) [ $SMOKE = 1 ] || continue ;; esac
			full=$(awk -F'\t' -v c="$cap" -v s="$size" '$1 == c && $2 == s { if ($6 > m) m = $6 } END { printf "%.0f", m }' "$RAW")
			[ "$full" = 0 ] && full=800000
			lossless_full=$(awk -F'\t' -v c="$cap" -v s="$size" '$1 == c && $2 == s && $8 != $4 { bad = 1 } END { print bad ? 0 : 1 }' "$RAW")
			lo=0 hi=$full note="binary search, $SEARCH_STEPS steps"
			if [ "$lossless_full" = 1 ] && grep -q "^$cap	$size	" "$RAW"; then
				lo=$full note="no loss at full speed in any run"
			else
				for step in $(seq 1 "$SEARCH_STEPS"); do
					mid=$(( (lo + hi) / 2 ))
					[ "$mid" -lt 1000 ] && mid=1000
					cnt=$(awk -v r="$mid" -v t="$SEARCH_SECS" 'BEGIN { c = int(r * t); print c < 1000 ? 1000 : c }')
					r=$(one_run "$cap" "$size" 1 "$cnt" "$mid" /dev/null)
					if [ "$r" = FAIL ] || [ -z "$r" ]; then not_ok "search $cap $size step $step"; break; fi
					set -- $r
					log "search $cap $size rate $mid: sent $1 captured $5 (offered $3 pps)"
					if [ "$5" -ge "$1" ]; then lo=$mid; else hi=$mid; fi
				done
			fi
			printf '%s\t%s\t%s\t%s\t%s\n' "$cap" "$size" "$lo" "$full" "$note" >>"$LF"
		done
	done
	ok "loss-free search: $(($(wc -l <"$LF") - 1)) cells"
fi

# --- 3. to disk ---------------------------------------------------------------
DK="$RES/disk.tsv"
printf 'cap\tsize\trun\tsent\tseconds\toffered_pps\trx_pps\tcaptured\tcaptured_pps\tloss_pct\tcpu_ns_pkt\tmbps\n' >"$DK"
DD_MBS=
if [ $DISK = 1 ]; then
	mkdir -p "$DISKDIR"
	DD_MBS=$(dd if=/dev/zero of="$DISKDIR/dd.bin" bs=1M count="$DD_MB" oflag=direct 2>&1 |
		awk '/bytes/ && /copied/ { for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) t = $(i - 1); print $1 / t / 1e6 }')
	rm -f "$DISKDIR/dd.bin"
	log "disk sequential write (dd oflag=direct, $DD_MB MiB): $DD_MBS MB/s"
	disk_sizes="1518 rand"
	[ $SMOKE = 1 ] && disk_sizes=rand
	for size in $disk_sizes; do
		for run in $(seq 1 "$RUNS"); do
			for cap in zcap tcpdump; do
				case " $CAPS " in *" $cap "*) ;; *) continue ;; esac
				f="$DISKDIR/$cap.pcap"; [ $cap = zcap ] && f="$DISKDIR/$cap.pcapng"
				r=$(one_run "$cap" "$size" "$run" "$DISK_COUNT" 0 "$f")
				rm -f "$f"
				sync
				if [ "$r" = FAIL ] || [ -z "$r" ]; then not_ok "disk $cap $size run $run"; continue; fi
				printf '%s\t%s\t%s\t%s\n' "$cap" "$size" "$run" "$(echo "$r" | tr ' ' '\t')" >>"$DK"
				log "disk $cap $size #$run: $r"
			done
		done
	done
	rm -rf "$DISKDIR"
	if [ -n "$DD_MBS" ]; then ok "to disk: $(($(wc -l <"$DK") - 1)) runs, dd $DD_MBS MB/s"; else not_ok "dd bandwidth"; fi
fi
T_END=$(date +%s)

# --- 4. report ----------------------------------------------------------------
"$BENCH/report.sh" "$RES" "$DD_MBS" "$DD_MB" "$((T_END - T_START))" "bench/run.sh $ARGS" \
	"$GEN_CPU" "$CAP_CPU" "$XDP_NOTE" && [ -s "$RES/results.md" ] && ok "results.md written" ||
	not_ok "results.md"
if [ $MAIN = 1 ] && have gnuplot; then
	np=$(ls "$RES"/*.png 2>/dev/null | wc -l)
	want=2; [ $SEARCH = 1 ] && want=3
	if [ "$np" -ge "$want" ]; then ok "plots: $np PNG"; else not_ok "plots: $np PNG"; fi
fi
[ $SMOKE = 1 ] || log "results in $RES"
tap_summary "# bench: "
