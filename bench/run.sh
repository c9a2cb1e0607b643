#!/bin/bash
# The capture benchmark (issues 4, 11, 12 and 15): zcap against tcpdump
# (plainly and under zcap-run), a libpcap loop, netsniff-ng, a bare
# TPACKET_V3 reader (counting, and reading every byte) and the ceilings
# (XDP_DROP, no capturer), side by side in one run, the same rows again with a busy loop
# on the capture core, and zcap-gen's transmit rate per backend.
#
#   bench/run.sh                      the full run; results in bench/results/
#   bench/run.sh --smoke              tiny counts, 1 run, results in a temp dir;
#                                     TAP lines "ok - bench smoke: ..." (< 60 s)
#   bench/run.sh --only zcap --size 64          one cell (results in bench/results/)
#   bench/run.sh --only zcap,tcpdump --size 64,1518 --runs 5 --out /tmp/b
#   bench/run.sh --only zcap,tcpdump --disk-only --runs 3 --out /tmp/d
#   bench/run.sh --tx-only --out /tmp/t         zcap-gen per backend only (tx.md)
#   bench/run.sh --busy-only --busy-caps tcpdump,tcpdump-zr --out /tmp/b
#                                     the busy-loop section only (busy.tsv)
#   bench/run.sh --same-rate-only --out /tmp/r
#                                     issue 12's CPU at one rate only
#                                     (samerate.tsv, samerate_busy.tsv)
#
# Options: --only LIST (zcap zcap-count tpv3 tpv3-touch zcap-2m zcapxdp tcpdump
# tcpdump-128m tcpdump-zr tcpdump-zr-128m pcap pcap-128m netsniff xdp none; "none" is always added as the
# overhead baseline), --size LIST (64 512 1518 rand), --runs N, --count N
# (frames per run), --trials N (runs per step of the loss-free search),
# --steps N, --no-search, --search-all (search below full speed even without
# loss), --no-disk, --disk-only, --no-tx, --tx-only, --busy, --no-busy,
# --busy-only, --busy-caps LIST (the busy section's rows; default: the --only
# list, else tcpdump tcpdump-128m tcpdump-zr tcpdump-zr-128m zcap zcap-count
# tpv3 tpv3-touch pcap pcap-128m), --same-rate, --no-same-rate, --same-rate-only (issue 12:
# tcpdump and tcpdump-zr at one requested rate a size, quiet and busy; on
# by default in a full run), --same-rate-runs N (default 7),
# --out DIR. The busy section (a spin loop pinned to the capture core during
# each run; sizes: --size, else 64 1518 rand) runs by default, and with
# --only only when --busy is given.
# The transmit section runs by default, and not with --only or --disk-only.
# Needs root (network namespaces, XDP), and the build, test and bench packages
# (make deps or make bench; it installs nothing itself). See bench/README.md.
# shellcheck disable=SC2046  # set -- $(...) splits numbers on purpose
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
CAPS="zcap zcap-count tpv3 tpv3-touch zcap-2m zcapxdp tcpdump tcpdump-128m tcpdump-zr tcpdump-zr-128m pcap pcap-128m netsniff xdp none"
SIZES="64 512 1518 rand"
SIZES_SET=0
ONLY=0
BUSY=auto
BUSY_CAPS=
BUSY_SIZES="64 1518 rand"
SAME_RATE=auto
SR_RUNS=7
RUNS=5
COUNT=1000000
SEARCH=1
SEARCH_ALL=0
DISK=1
MAIN=1
TX=1
OUT=
SEARCH_SIZES="64 1518"
SEARCH_STEPS=5
SEARCH_SECS=1
TRIALS=3
DISK_COUNT=1000000
# To disk only (issue 16): rotation, and a fanout group of 1 and 2 threads.
# In a full run; with --only, those of them it names.
DISK_EXTRA="zcap-rot zcap-fan1 zcap-fan2"
DD_MB=1024
# Before every to-disk run, the disk's rate of that moment (disk_now: 4 MiB
# O_DIRECT writes from huge pages as zcap's writer makes them, as many bytes
# as a run's file, beside the run's traffic): dd alone moved from 0.9 to
# 4.7 GB/s within minutes here, so one figure at the start judged runs it
# had not seen.
# zcap-pace offers 1518 B frames at DISK_PACE of it: "0 loss up to the
# disk's bandwidth" measured where the bandwidth was measured.
DISK_PACE=0.9
# A disk of known bandwidth, below what the generator offers: the block
# cgroup's write throttle at SLOW_MBS MB/s on the results' disk, for the
# zcap-slow rows (full speed: how close the capture comes to the disk) and
# zcap-slow-pace (DISK_PACE of it: 0 loss up to it). The fast disk above
# outran the generator once zcap wrote from huge pages. zcap's O_DIRECT
# writes are throttled as its own; tcpdump's page-cache writeback would not
# be (cgroup v1), so only zcap runs there.
SLOW_MBS=600
TX_RUNS=5
TX_COUNT=1000000
TX_BACKENDS="xdp tpacket packet"
# One window for every run, whatever the capturer (the disk runs too): the
# CPU time and the interface counters are read CPU_WIN s after the generator
# ends; every capturer is stopped STOP_AFTER s after it ends (tcpdump and
# netsniff-ng hand over a partly filled TPACKET_V3 block only when it
# retires, after 1 s, and drop it on SIGINT; the others get the same wait).
CPU_WIN=0.3
STOP_AFTER=1.2
ARGS="$*"

while [ $# -gt 0 ]; do
	case "$1" in
	--smoke) SMOKE=1 ;;
	--only) CAPS=$(echo "$2" | tr ',' ' '); TX=0 ONLY=1 DISK_EXTRA=; shift ;;
	--size) SIZES=$(echo "$2" | tr ',' ' ') SIZES_SET=1; shift ;;
	--runs) RUNS=$2; shift ;;
	--count) COUNT=$2; DISK_COUNT=$2; shift ;;
	--trials) TRIALS=$2; shift ;;
	--steps) SEARCH_STEPS=$2; shift ;;
	--no-search) SEARCH=0 ;;
	--search-all) SEARCH_ALL=1 ;;
	--no-disk) DISK=0 ;;
	--disk-only) MAIN=0 SEARCH=0 DISK=1 TX=0 BUSY=${BUSY/auto/0} ;;
	--no-tx) TX=0 ;;
	--tx-only) MAIN=0 SEARCH=0 DISK=0 TX=1 BUSY=${BUSY/auto/0} ;;
	--busy) BUSY=1 ;;
	--no-busy) BUSY=0 ;;
	--busy-only) MAIN=0 SEARCH=0 DISK=0 TX=0 BUSY=1 ;;
	--busy-caps) BUSY_CAPS=$(echo "$2" | tr ',' ' '); shift ;;
	--same-rate) SAME_RATE=1 ;;
	--no-same-rate) SAME_RATE=0 ;;
	--same-rate-only) MAIN=0 SEARCH=0 DISK=0 TX=0 BUSY=0 SAME_RATE=1 ;;
	--same-rate-runs) SR_RUNS=$2; shift ;;
	--out) OUT=$2; shift ;;
	-h|--help) sed -n '2,30p' "$0"; exit 0 ;;
	*) echo "bench: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
if [ $SMOKE = 1 ]; then
	RUNS=1 COUNT=2000 DISK_COUNT=2000 SEARCH_STEPS=1 SEARCH_SECS=0.05 TRIALS=1 DD_MB=16
	TX_RUNS=1 TX_COUNT=2000 STOP_AFTER=$CPU_WIN SEARCH_ALL=1 SEARCH_SIZES=64
	[ "$SIZES" = "64 512 1518 rand" ] && SIZES="64 rand"
	[ "$BUSY" = auto ] && BUSY=1 BUSY_CAPS=${BUSY_CAPS:-"tcpdump tcpdump-zr"} BUSY_SIZES=64
fi
case " $CAPS " in *" none "*) ;; *) CAPS="$CAPS none" ;; esac
if [ "$BUSY" = auto ]; then BUSY=1; [ $ONLY = 1 ] && BUSY=0; fi
if [ "$SAME_RATE" = auto ]; then SAME_RATE=1; [ $ONLY = 1 ] || [ $MAIN = 0 ] && SAME_RATE=0; fi
SR_SIZES=$SIZES
[ $SMOKE = 1 ] && SR_RUNS=1 SR_SIZES=64
if [ -z "$BUSY_CAPS" ]; then
	BUSY_CAPS="tcpdump tcpdump-128m tcpdump-zr tcpdump-zr-128m zcap zcap-count tpv3 tpv3-touch pcap pcap-128m"
	[ $ONLY = 1 ] && BUSY_CAPS=$CAPS
fi
case " $BUSY_CAPS " in *" none "*) ;; *) BUSY_CAPS="$BUSY_CAPS none" ;; esac
[ $SIZES_SET = 1 ] && BUSY_SIZES=$SIZES

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
BUSY_PID=
BUSY_RUN=0	# 1 in the busy section: one_run starts a spin on the capture core

TAP_PREFIX="bench "; [ $SMOKE = 1 ] && TAP_PREFIX="bench smoke: "
log() { echo "# $*" >&2; }

cleanup() {
	if [ -n "$CAP_PID" ]; then kill -9 "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null; fi
	# one_run runs in a subshell: the spin's PID is in a file until it stops
	# (started in the background, it ignores the SIGINT that ends the run)
	[ -s "$TMPD/busy.pid" ] && kill -9 "$(cat "$TMPD/busy.pid")" 2>/dev/null
	ip -n "$CAP_NS" link set dev "$CAP_IF" xdp off 2>/dev/null
	"$TESTBED" down "$TB" 2>/dev/null
	rm -rf "$TMPD" "$SHM" "$DISKDIR"
	[ -n "$SLOW_CG" ] && rmdir "$SLOW_CG" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- setup -----------------------------------------------------------------
sh "$ROOT/scripts/install-deps.sh" --check build test bench ||
	{ not_ok "what it needs is installed (make deps)"; exit 1; }
make -s -C "$ROOT" all >/dev/null || { not_ok "build (make all)"; exit 1; }
cc -O2 -Wall -Wextra -o "$TMPD/pcap_count" "$BENCH/pcap_count.c" -lpcap ||
	{ not_ok "build pcap_count"; exit 1; }
cc -O2 -Wall -Wextra -I"$ROOT/include" -o "$TMPD/zcap_count" "$BENCH/zcap_count.c" \
	"$BUILD/libzcap.a" -lpcap -lxdp -lbpf -pthread || { not_ok "build zcap_count"; exit 1; }
cc -O2 -Wall -Wextra -o "$TMPD/tp_count" "$BENCH/tp_count.c" ||
	{ not_ok "build tp_count"; exit 1; }
cc -O2 -Wall -Wextra -o "$TMPD/disk_write" "$BENCH/disk_write.c" ||
	{ not_ok "build disk_write"; exit 1; }
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
steal_jiffies() { awk '$1 == "cpu" { print $9; exit }' /proc/stat; }
# proc_ns PID: CPU time of a process in ns, all its live threads (0 if
# none), from each thread's schedstat (the scheduler's own nanosecond
# count). /proc/PID/stat counts in clock ticks: 10 ms, which over a run of
# 1,000,000 frames is 10 ns per frame, the size of the differences this
# bench is asked to tell apart. Where schedstat reads 0 (kernels built
# without it) the ticks are used.
proc_ns() {
	[ -n "$1" ] || { echo 0; return; }
	# shellcheck disable=SC2086
	cat /proc/$1/task/*/schedstat 2>/dev/null | awk -v hz="$HZ" -v stat="/proc/$1/stat" '
		{ ns += $1 }
		END {
			if (ns > 0) { printf "%.0f\n", ns; exit }
			if ((getline l < stat) > 0) { sub(/.*\) /, "", l); split(l, f, " ")
				printf "%.0f\n", (f[12] + f[13]) * 1e9 / hz; exit }
			print 0 }'
}
# if_counters: "rx_packets rx_bytes rx_drop" of the capture veth, from
# /proc/net/dev in its namespace: what reached the capturer's interface
if_counters() {
	ip netns exec "$CAP_NS" cat /proc/net/dev | awk -v i="$CAP_IF" '{
		sub(/^[ \t]+/, ""); n = index($0, ":")
		if (n && substr($0, 1, n - 1) == i) { split(substr($0, n + 1), f, " "); print f[2], f[1], f[4]; exit } }'
}
xdp_drops() {
	ip netns exec "$CAP_NS" ethtool -S "$CAP_IF" 2>/dev/null |
		awk '/rx_queue_[0-9]+_xdp_drops:/ { s += $2 } END { print s + 0 }'
}
now() { date +%s.%N; }

# cap_started FILE PATTERN: until the capturer printed PATTERN (1 if it
# died, or after 15 s)
cap_started() {
	wait_for "$1" "$2" 150 "$CAP_PID" && return 0
	log "capturer did not start: $(tail -3 "$1" | tr '\n' ' ')"
	return 1
}

# start_cap CAP SINK: start a capturer on the capture core; SINK is /dev/null
# or a file. Sets CAP_PID (the capturer itself: ip netns exec and taskset
# exec) and START_S (seconds from its launch to "listening").
start_cap() {
	cap=$1 sink=$2
	rm -f "$TMPD/cap.err" "$TMPD/cap.out"	# a stale "listening" line would lie
	CAP_PID='' START_S=0
	case "$cap" in
	zcap|zcap-pace) set -- "$ZCAP" -i "$CAP_IF" -w "$sink" ;;
	zcap-slow|zcap-slow-pace) set -- "$ZCAP" -i "$CAP_IF" -w "$sink" ;;
	zcap-2m) set -- "$ZCAP" -B 2048 -i "$CAP_IF" -w "$sink" ;;
	# issue 16, to disk: rotation every 100 MB (files $sink, ${sink}1, ...)
	zcap-rot) set -- "$ZCAP" -C 100 -i "$CAP_IF" -w "$sink" ;;
	# a fanout group of 1 and of 2 threads, a file each ($sink -> _0, _1),
	# on both cores: the generator's too, which the second thread shares
	zcap-fan1) set -- "$ZCAP" --fanout 1 --per-thread-files -i "$CAP_IF" -w "$sink" ;;
	zcap-fan2) set -- "$ZCAP" --fanout 2 --per-thread-files -i "$CAP_IF" -w "$sink" ;;
	zcap-count) set -- "$TMPD/zcap_count" "$CAP_IF" ;;
	# the kernel's floor for this path, and for a reader of the data
	tpv3) set -- "$TMPD/tp_count" "$CAP_IF" ;;
	tpv3-touch) set -- "$TMPD/tp_count" "$CAP_IF" --touch ;;
	zcapxdp) set -- "$ZCAP" --backend xdp -i "$CAP_IF" -w "$sink" ;;	# AF_XDP, copy mode on veth
	tcpdump) set -- tcpdump -Z root -n -i "$CAP_IF" -w "$sink" ;;
	tcpdump-128m) set -- tcpdump -Z root -n -B 131072 -i "$CAP_IF" -w "$sink" ;;
	# the tcpdump row's command, unchanged, through libzcap (env and
	# zcap-run exec: CAP_PID is tcpdump)
	tcpdump-zr) set -- env ZCAP_RUN_VERBOSE=1 "$BUILD/zcap-run" \
		tcpdump -Z root -n -i "$CAP_IF" -w "$sink" ;;
	# the same at zcap's ring size: what the 16 MiB default saves
	tcpdump-zr-128m) set -- env ZCAP_RUN_VERBOSE=1 "$BUILD/zcap-run" \
		tcpdump -Z root -n -B 131072 -i "$CAP_IF" -w "$sink" ;;
	pcap) set -- "$TMPD/pcap_count" "$CAP_IF" ;;
	pcap-128m) set -- "$TMPD/pcap_count" "$CAP_IF" 131072 ;;
	netsniff)
		# netsniff-ng captures nothing with --out /dev/null (0.6.8), so it
		# writes to a pcap file on tmpfs, removed after each run. It faults
		# in its ring before it says "Running!", which takes seconds (the
		# start_s column): a fixed sleep lost whole runs.
		# stdbuf, so that the line shows while it runs, not at exit.
		set -- stdbuf -oL netsniff-ng --in "$CAP_IF" --out "$SHM/ns.pcap" --silent -A \
			-b "$CAP_CPU" ;;
	xdp)
		ip -n "$CAP_NS" link set dev "$CAP_IF" xdp obj "$XDP_OBJ" sec xdp
		return ;;
	none) return 0 ;;
	esac
	t0=$(now)
	cpus=$CAP_CPU
	case "$cap" in zcap-fan*) cpus="$GEN_CPU,$CAP_CPU" ;; esac
	# into the slow disk's cgroup before ip netns exec, which mounts a sysfs
	# of the namespace's own (sh execs: CAP_PID stays the capturer)
	pre=()
	case "$cap" in zcap-slow*) pre=(sh -c "$IN_SLOW" "$SLOW_CG") ;; esac
	"${pre[@]}" ip netns exec "$CAP_NS" taskset -c "$cpus" "$@" 2>"$TMPD/cap.err" >"$TMPD/cap.out" &
	CAP_PID=$!
	if [ "$cap" = netsniff ]; then
		cap_started "$TMPD/cap.out" "Running!" || return 1
	else
		cap_started "$TMPD/cap.err" "listening on" || return 1
	fi
	START_S=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
	case "$cap" in tcpdump-zr*) through_libzcap || return 1 ;; esac
	return 0
}

# through_libzcap: the capturer (tcpdump under zcap-run) has libzcap-pcap.so
# mapped and libzcap opened the handle (ZCAP_RUN_VERBOSE's line); else it
# is stopped and the run fails: a row that fell back to the system's
# libpcap would measure plain tcpdump under another name. Appends
# "CAP SIZE BACKEND RING_BYTES" to $TMPD/zr.log.
through_libzcap() {
	zr_line=$(grep -m1 'capturing with libzcap, backend' "$TMPD/cap.err")
	zr_backend=$(echo "$zr_line" | sed -n 's/.*capturing with libzcap, backend \([a-z]*\),.*/\1/p')
	if grep -q libzcap-pcap.so "/proc/$CAP_PID/maps" 2>/dev/null && [ -n "$zr_backend" ]; then
		zr_ring=$(echo "$zr_line" | sed -n 's/.*, ring \([0-9]*\) bytes.*/\1/p')
		echo "$cap $size $zr_backend ${zr_ring:-?}" >>"$TMPD/zr.log"
		return 0
	fi
	log "$cap: not through libzcap (maps: $(grep -c libzcap-pcap.so "/proc/$CAP_PID/maps" 2>/dev/null), stderr: $(head -3 "$TMPD/cap.err" | tr '\n' ' '))"
	kill -9 "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null
	CAP_PID=
	return 1
}

# The busy loop: a shell spin at the script's nice value (0 under make
# bench), pinned to the capture core, started before the capturer and
# stopped after it, in every run of the busy section. The guide: loss comes
# from scheduling; tcpdump lost over half the frames at 1518 B with a busy
# loop on its core. Its own CPU time is read over the same window as the
# machine's, and taken out of cpu_ns_pkt (busy_cpu_ns_pkt: what it spent).
# Appends "PID CPUS NICE" to $TMPD/busy.log.
start_busy() {
	taskset -c "$CAP_CPU" sh -c 'while :; do :; done' &
	BUSY_PID=$!
	echo "$BUSY_PID" >"$TMPD/busy.pid"
	# read once taskset has set the pin and exec'd sh: then they are the
	# spin's own
	b_i=0
	while [ "$(cat "/proc/$BUSY_PID/comm" 2>/dev/null)" != sh ] && [ $b_i -lt 50 ]; do
		sleep 0.02; b_i=$((b_i + 1))
	done
	b_cpus=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$BUSY_PID/status" 2>/dev/null)
	b_nice=$(sed 's/.*) //' "/proc/$BUSY_PID/stat" 2>/dev/null | awk '{ print $17 }')
	echo "$BUSY_PID ${b_cpus:-?} ${b_nice:-?}" >>"$TMPD/busy.log"
	if [ "$b_cpus" != "$CAP_CPU" ]; then
		log "busy loop not pinned to CPU $CAP_CPU: ${b_cpus:-gone}"
		stop_busy
		return 1
	fi
}
stop_busy() {
	[ -n "$BUSY_PID" ] || return 0
	kill -9 "$BUSY_PID" 2>/dev/null; wait "$BUSY_PID" 2>/dev/null
	rm -f "$TMPD/busy.pid"
	BUSY_PID=
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
	zcap|zcap-pace|zcap-slow|zcap-slow-pace|zcap-2m|zcap-rot|zcap-fan1|zcap-fan2|zcapxdp|tcpdump|tcpdump-128m|tcpdump-zr|tcpdump-zr-128m) summary "$TMPD/cap.err" captured ;;
	pcap|pcap-128m|zcap-count|tpv3|tpv3-touch) kv "$TMPD/cap.err" captured ;;
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
# draining its ring), at most 30 s. Writes "BYTES SECONDS" to $TMPD/quiet:
# the bytes then, and the time from T_GEN0 (the generator's start) to the
# files' last write: the capture's rate to the disk.
wait_quiet() {
	# the bytes in the sink's directory: a rotation's or the threads'
	# files, and the one being written under its part name
	last=-1 i=0
	while [ $i -lt 60 ]; do
		s=$(du -sb "$(dirname "$1")" 2>/dev/null | cut -f1)
		[ "$s" = "$last" ] && break
		last=$s; sleep 0.5; i=$((i + 1))
	done
	# the newest file's last write (O_DIRECT writes set it too)
	t_last=$(find "$(dirname "$1")" -type f -printf '%T@\n' | sort -n | tail -1)
	awk -v b="$last" -v a="$T_GEN0" -v t="${t_last:-0}" 'BEGIN { printf "%d %.3f\n", b, t - a }' >"$TMPD/quiet"
}

# The columns one_run prints (raw.tsv, search.tsv and disk.tsv after their
# own first columns): rx = frames that reached the capture veth (its
# rx_packets, plus its rx drop counter: if_rx_dropped, 0 on veth so far);
# offered = rx / the generator's seconds; loss = (rx - captured) / rx; CPU
# per frame offered, over the window above (the machine's, less the busy
# loop's own in the busy section); if_tx_dropped: zcap-gen's count of frames
# the sending veth dropped; cap_cpu_ns_pkt: the capturer's own CPU time
# (proc_ns: every thread, in ns) from the generator's start to the moment
# it is stopped, per frame it captured (0: no process, as xdp and none);
# busy_cpu_ns_pkt: the busy loop's own CPU over the window, per frame
# offered (0 outside the busy section).
RUN_COLS='sent\tseconds\tgen_pps\trx\toffered_pps\tcaptured\tcaptured_pps\tloss_pct\tcpu_ns_pkt\toffered_mbs\tif_tx_dropped\tstart_s\tif_rx_dropped\tcap_cpu_ns_pkt\tbusy_cpu_ns_pkt'

# run_end LABEL: after the capturers stopped: stops the busy loop (1 if it
# did not run in the window, B0..B1), and reads the generator's sent, secs
# and ifdrop
run_end() {
	stop_busy
	if [ $BUSY_RUN = 1 ] && [ "$B1" -le "$B0" ]; then
		log "$1: the busy loop did not run in the window"
		return 1
	fi
	sent=$(kv "$TMPD/gen.log" sent) secs=$(kv "$TMPD/gen.log" seconds)
	ifdrop=$(kv "$TMPD/gen.log" if_tx_dropped)
}

# one_run CAP SIZE SEED COUNT RATE SINK: one measurement; prints the
# RUN_COLS, space-separated, or FAIL
one_run() {
	cap=$1 size=$2 seed=$3 count=$4 rate=$5 sink=$6
	if [ $BUSY_RUN = 1 ]; then start_busy || { echo FAIL; return 1; }; fi
	start_cap "$cap" "$sink" || { stop_busy; echo FAIL; return 1; }
	set -- $(if_counters); RX0=$1 RB0=$2 RD0=$3
	XDP0=$(xdp_drops); J0=$(busy_jiffies); P0=$(proc_ns "$CAP_PID"); B0=$(proc_ns "$BUSY_PID")
	ratearg=
	[ "$rate" != 0 ] && ratearg="-r $rate"
	T_GEN0=$(now)
	# shellcheck disable=SC2046,SC2086
	ip netns exec "$GEN_NS" taskset -c "$GEN_CPU" "$GEN" -q -i "$GEN_IF" --dst-mac "$DST_MAC" \
		-c "$count" $(gen_args "$size" "$seed") $ratearg 2>"$TMPD/gen.log"
	sleep "$CPU_WIN"
	J1=$(busy_jiffies); B1=$(proc_ns "$BUSY_PID"); XDP1=$(xdp_drops)
	set -- $(if_counters); RX1=$(($1 + $3 - RD0)) RB1=$2 RD1=$3
	sleep "$(awk -v a="$STOP_AFTER" -v b="$CPU_WIN" 'BEGIN { print (a > b) ? a - b : 0 }')"
	[ "$sink" != /dev/null ] && wait_quiet "$sink"
	P1=$(proc_ns "$CAP_PID")
	captured=$(stop_cap "$cap")
	run_end "$cap $size" || { echo FAIL; return 1; }
	if [ -z "$sent" ] || [ -z "$captured" ] || [ -z "$secs" ] || [ "$RX1" -le "$RX0" ]; then
		log "$cap $size: no numbers (gen: $(cat "$TMPD/gen.log"))"
		echo FAIL; return 1
	fi
	awk -v s="$sent" -v t="$secs" -v rx=$((RX1 - RX0)) -v rb=$((RB1 - RB0)) -v c="$captured" \
		-v j=$((J1 - J0)) -v hz="$HZ" -v d="${ifdrop:-0}" -v st="$START_S" -v rd=$((RD1 - RD0)) \
		-v p=$((P1 - P0)) -v b=$((B1 - B0)) 'BEGIN {
		printf "%d %.6f %.0f %d %.0f %d %.0f %.4f %.1f %.1f %d %s %d %.1f %.1f\n", s, t, s / t, rx, rx / t,
			c, c / t, (rx - c) * 100 / rx, (j * 1e9 / hz - b) / rx, rb / t / 1e6, d, st, rd,
			(c > 0) ? p / c : 0, b / rx }'
}

available() {	# CAP -> 0 if it can run here
	case "$1" in
	xdp) [ -n "$XDP_OBJ" ] ;;
	netsniff) have netsniff-ng ;;
	*) true ;;
	esac
}

T_START=$(date +%s)
STEAL0=$(steal_jiffies)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# --- 0. transmit rates: zcap-gen per backend, nothing capturing ---------------
TXF="$RES/tx.tsv"
if [ $TX = 1 ]; then
	printf 'backend\tsize\trun\tsent\tseconds\tgen_pps\trx\toffered_pps\tif_tx_dropped\tretries\n' >"$TXF"
	log "transmit: backends [$TX_BACKENDS] sizes [64 1518] runs $TX_RUNS count $TX_COUNT"
	for run in $(seq 1 "$TX_RUNS"); do
		for size in 64 1518; do
			for b in $TX_BACKENDS; do	# interleaved, as the capturers
				set -- $(if_counters); rx0=$1
				ip netns exec "$GEN_NS" taskset -c "$GEN_CPU" "$GEN" -q --backend "$b" \
					-i "$GEN_IF" --dst-mac "$DST_MAC" -c "$TX_COUNT" -s "$size" 2>"$TMPD/gen.log"
				sleep "$CPU_WIN"
				set -- $(if_counters); rx1=$1
				sent=$(kv "$TMPD/gen.log" sent) secs=$(kv "$TMPD/gen.log" seconds)
				if [ -z "$sent" ] || [ -z "$secs" ]; then
					not_ok "transmit $b $size run $run: $(tail -1 "$TMPD/gen.log")"
					continue
				fi
				awk -v b="$b" -v z="$size" -v r="$run" -v s="$sent" -v t="$secs" -v rx=$((rx1 - rx0)) \
					-v d="$(kv "$TMPD/gen.log" if_tx_dropped)" -v y="$(kv "$TMPD/gen.log" retries)" \
					'BEGIN { printf "%s\t%s\t%s\t%d\t%.6f\t%.0f\t%d\t%.0f\t%d\t%d\n", b, z, r, s, t, s / t, rx, rx / t, d, y }' >>"$TXF"
				log "transmit $b $size #$run: $(tail -1 "$TXF" | cut -f4-)"
			done
		done
	done
	n=$(($(wc -l <"$TXF") - 1)) want=$((TX_RUNS * 2 * $(echo "$TX_BACKENDS" | wc -w)))
	if [ "$n" -eq "$want" ]; then ok "transmit: $n runs"; else not_ok "transmit: $n of $want runs"; fi
fi

# rotate N LIST...: LIST started at its (N mod length)th item (0: as is).
# Run r takes the capturers in rotation r - 1: a capturer's place in the
# order has an effect of its own (one tcpdump command measured 281 ns/pkt
# first in the order and 244 third, in one series of 7 runs), which a fixed
# order would put on the same capturer every run.
rotate() {
	_n=$1; shift
	_k=$(( _n % $# ))
	while [ "$_k" -gt 0 ]; do _f=$1; shift; set -- "$@" "$_f"; _k=$((_k - 1)); done
	echo "$@"
}

# full_speed SIZES CAPS FILE LABEL CHECK: every capturer at full speed, RUNS
# runs a size, interleaved so that drift hits every capturer alike, in an
# order rotated each run (rotate); a line
# of FILE per run, LABEL before each name in the log and the TAP lines of
# a failed run; then a TAP line per capturer, CHECK before it, that every
# run is there
full_speed() {
	for size in $1; do
		for run in $(seq 1 "$RUNS"); do
			# shellcheck disable=SC2086  # a list of names
			for cap in $(rotate $((run - 1)) $2); do
				available "$cap" || continue
				r=$(one_run "$cap" "$size" "$run" "$COUNT" 0 /dev/null)
				if [ "$r" = FAIL ] || [ -z "$r" ]; then
					not_ok "$4$cap size $size run $run"
					continue
				fi
				printf '%s\t%s\t%s\t%s\n' "$cap" "$size" "$run" \
					"$(echo "$r" | tr ' ' '\t')" >>"$3"
				log "$4$cap $size #$run: $r"
			done
		done
	done
	[ -n "$1" ] || return 0
	for cap in $2; do
		available "$cap" || continue
		n=$(awk -F'\t' -v c="$cap" '$1 == c' "$3" | wc -l)
		want=$(( $(echo "$1" | wc -w) * RUNS ))
		if [ "$n" -eq "$want" ]; then ok "$5capturer $cap: $n runs"
		else not_ok "$5capturer $cap: $n of $want runs"; fi
	done
}

# --- 1. main cells ----------------------------------------------------------
RAW="$RES/raw.tsv"
[ $MAIN = 1 ] && printf "cap\tsize\trun\t$RUN_COLS\n" >"$RAW"
[ $MAIN = 1 ] && log "main cells: capturers [$CAPS] sizes [$SIZES] runs $RUNS count $COUNT"
[ $MAIN = 1 ] || SIZES=
full_speed "$SIZES" "$CAPS" "$RAW" "" ""
if [ $MAIN = 1 ]; then
	# a capturer cannot count more than reached its interface
	bad=$(awk -F'\t' 'NR > 1 && $9 > $7 { printf " %s/%s/%s", $1, $2, $3 }' "$RAW")
	if [ -z "$bad" ]; then ok "captured <= reached the capture veth, every run"
	else not_ok "captured > reached the capture veth:$bad"; fi
fi

# --- 2. loss-free rate ------------------------------------------------------
# A step: TRIALS runs at one requested rate (step 0: full speed, the main
# runs); its rate is the median of the rates reached, its loss the median of
# the losses. Search on the rates reached: lo = a loss-free step's rate, hi
# = a lossy step's. The result: the highest loss-free step's rate below every
# lossy step's rate (so a loss above it that came back below is not hidden).
SR="$RES/search.tsv"
LF="$RES/lossfree.tsv"
# step_stats CAP SIZE STEP: "n rate_median loss_median lossy_trials"
step_stats() {
	awk -F'\t' -v c="$1" -v s="$2" -v p="$3" '
	function med(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
	$1 == c && $2 == s && $3 == p { n++; r[n] = $10; l[n] = $13; if ($13 > 0) k++ }
	END { if (!n) { print "0 0 0 0"; exit } printf "%d %.0f %g %d\n", n, med(r, n), med(l, n), k }' "$SR"
}
if [ $SEARCH = 1 ]; then
	printf "cap\tsize\tstep\ttrial\trequested_pps\t$RUN_COLS\n" >"$SR"
	printf 'cap\tsize\tlossfree_pps\tfull_pps\tsteps\tnote\n' >"$LF"
	for cap in $CAPS; do
		case "$cap" in xdp|none) continue ;; esac	# no loss by construction
		available "$cap" || continue
		for size in $SEARCH_SIZES; do
			case " $SIZES " in *" $size "*) ;; *) continue ;; esac
			# step 0: full speed, the main runs (or TRIALS runs of COUNT frames)
			awk -F'\t' -v c="$cap" -v s="$size" 'BEGIN { OFS = "\t" }
				$1 == c && $2 == s { out = $1 OFS $2 OFS 0 OFS $3 OFS 0
					for (i = 4; i <= NF; i++) out = out OFS $i; print out }' "$RAW" 2>/dev/null >>"$SR"
			set -- $(step_stats "$cap" "$size" 0)
			if [ "$1" = 0 ]; then
				for t in $(seq 1 "$TRIALS"); do
					r=$(one_run "$cap" "$size" "$t" "$COUNT" 0 /dev/null)
					[ "$r" = FAIL ] || [ -z "$r" ] && continue
					printf '%s\t%s\t0\t%s\t0\t%s\n' "$cap" "$size" "$t" "$(echo "$r" | tr ' ' '\t')" >>"$SR"
				done
				set -- $(step_stats "$cap" "$size" 0)
			fi
			[ "$1" = 0 ] && { not_ok "search $cap $size: no full-speed run"; continue; }
			full=$2 lo=0 hi=$2 steps=0
			log "search $cap $size full speed: $2 pps reached, median loss $3 %, $4 of $1 runs lost"
			if awk -v l="$3" 'BEGIN { exit !(l > 0) }' || [ $SEARCH_ALL = 1 ]; then
				while [ $steps -lt "$SEARCH_STEPS" ]; do
					steps=$((steps + 1))
					req=$(( (lo + hi) / 2 ))
					[ "$req" -lt 1000 ] && req=1000
					cnt=$(awk -v r="$req" -v t="$SEARCH_SECS" 'BEGIN { c = int(r * t); print c < 1000 ? 1000 : c }')
					for t in $(seq 1 "$TRIALS"); do
						r=$(one_run "$cap" "$size" "$t" "$cnt" "$req" /dev/null)
						if [ "$r" = FAIL ] || [ -z "$r" ]; then not_ok "search $cap $size step $steps trial $t"; continue; fi
						printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$cap" "$size" "$steps" "$t" "$req" "$(echo "$r" | tr ' ' '\t')" >>"$SR"
					done
					set -- $(step_stats "$cap" "$size" "$steps")
					[ "$1" = 0 ] && break
					log "search $cap $size step $steps: asked $req pps, reached $2 (median of $1), median loss $3 %, $4 of $1 lost"
					if awk -v l="$3" 'BEGIN { exit !(l > 0) }'; then
						[ "$2" -lt "$hi" ] && hi=$2
					else
						[ "$2" -gt "$lo" ] && lo=$2
					fi
					[ "$hi" -le "$lo" ] && break	# a loss below a loss-free rate: stop
				done
			fi
			# the result, from every step logged
			awk -F'\t' -v c="$cap" -v s="$size" -v full="$full" -v forced="$SEARCH_ALL" '
			function med(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
				return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
			$1 == c && $2 == s { p = $3; if (!(p in n)) np++; i = ++n[p]; r[p, i] = $10; l[p, i] = $13 }
			END {
				minlossy = -1
				for (p = 0; p < np; p++) { for (i = 1; i <= n[p]; i++) { a[i] = r[p, i]; b[i] = l[p, i] }
					R[p] = med(a, n[p]); L[p] = med(b, n[p])
					if (L[p] > 0 && (minlossy < 0 || R[p] < minlossy)) minlossy = R[p] }
				best = 0; bad = 0
				for (p = 0; p < np; p++) if (L[p] == 0) {
					if (minlossy < 0 || R[p] < minlossy) { if (R[p] > best) best = R[p] } else bad = 1 }
				if (L[0] == 0 && !forced) note = "no loss at full speed (median of the runs)"
				else note = "search on the rate reached, " (np - 1) " steps"
				if (bad) note = note "; a loss-free step above a lossy one was not taken"
				if (best == 0) note = note "; no loss-free step"
				printf "%s\t%s\t%.0f\t%.0f\t%d\t%s\n", c, s, best, full, np - 1, note }' "$SR" >>"$LF"
			log "loss-free $cap $size: $(tail -1 "$LF" | cut -f3-)"
		done
	done
	n=$(($(wc -l <"$LF") - 1))
	if [ "$n" -gt 0 ]; then ok "loss-free search: $n cells, $(($(wc -l <"$SR") - 1)) runs logged"
	else not_ok "loss-free search: no cell"; fi
fi

# --- 3. a busy loop on the capture core ----------------------------------------
# The rows of BUSY_CAPS at BUSY_SIZES, interleaved as in section 1, each run
# with a spin pinned to the capture core (start_busy). busy.tsv has the
# columns of raw.tsv.
BZ="$RES/busy.tsv"
BUSY_NICE=
# a run that rewrites raw.tsv without this section leaves no busy.tsv of
# another run beside it
[ $MAIN = 1 ] && [ "$BUSY" != 1 ] && rm -f "$BZ" "$RES/busy_summary.tsv" "$RES/busy_loss.png" "$RES/plot_busy_loss.dat"
if [ "$BUSY" = 1 ]; then
	printf "cap\tsize\trun\t$RUN_COLS\n" >"$BZ"
	log "busy loop on CPU $CAP_CPU: capturers [$BUSY_CAPS] sizes [$BUSY_SIZES] runs $RUNS count $COUNT"
	BUSY_RUN=1
	full_speed "$BUSY_SIZES" "$BUSY_CAPS" "$BZ" "busy: " "busy loop, "
	BUSY_RUN=0
	# every spin was pinned to the capture core (start_busy fails the run
	# otherwise) and ran in its window (one_run fails it otherwise); its nice
	# values, for the report
	BUSY_NICE=$(awk '{ print $3 }' "$TMPD/busy.log" 2>/dev/null | sort -u | tr '\n' ' ' | sed 's/ $//')
	n=$(($(wc -l <"$BZ") - 1)) m=$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next } $h["busy_cpu_ns_pkt"] > 0' "$BZ" | wc -l)
	if [ "$n" -gt 0 ] && [ "$m" -eq "$n" ]; then ok "busy loop pinned to CPU $CAP_CPU (nice $BUSY_NICE) and spinning in all $n runs"
	else not_ok "busy loop spinning in $m of $n runs"; fi
fi

# --- 3b. issue 12: CPU per packet at one rate, paired ----------------------
# tcpdump plainly and under zcap-run at once, both on the capture core,
# capturing the same frames at one requested rate a size (below what either
# loses), quiet and with the busy loop, SR_RUNS runs; each run starts them in
# the other order. A capturer's CPU per packet depends on how many packets
# each wakeup finds, so a run the generator drove faster costs less per
# packet, whichever the capturer; and what else the machine does moves from
# one run to the next by more than the two differ. Run side by side, both
# meet the same frames and the same disturbances: their ratio in each run is
# the capturers' difference (at 1518 B one series of 6 runs measured in turn
# spread 0.94-1.16, side by side 0.95-1.05).
SRQ="$RES/samerate.tsv" SRB="$RES/samerate_busy.tsv"
sr_rate() {	# SIZE -> frames/s: about half of what plain tcpdump takes
	case "$1" in
	64) echo 600000 ;;
	512) echo 500000 ;;
	1518) echo 400000 ;;
	*) echo 500000 ;;
	esac
}
# pair_run SIZE RUN RATE: both started (order by RUN), one traffic, both
# stopped; prints two lines "CAP RUN_COLS", or FAIL
pair_run() {
	size=$1 run=$2 rate=$3
	if [ $BUSY_RUN = 1 ]; then start_busy || { echo FAIL; return 1; }; fi
	pids=
	for cap in $(rotate $((run - 1)) tcpdump tcpdump-zr); do
		if ! start_cap "$cap" /dev/null; then
			for c in $pids; do kill -9 "${c#*:}" 2>/dev/null; wait "${c#*:}" 2>/dev/null; done
			stop_busy; echo FAIL; return 1
		fi
		# the file stays the capturer's stderr under its new name
		mv "$TMPD/cap.err" "$TMPD/cap.$cap.err"
		pids="$pids $cap:$CAP_PID"
	done
	set -- $(if_counters); RX0=$1 RD0=$3
	J0=$(busy_jiffies); B0=$(proc_ns "$BUSY_PID")
	# CAP:PID:CPU ns at the start
	pids=$(for c in $pids; do echo "$c:$(proc_ns "${c#*:}")"; done)
	ip netns exec "$GEN_NS" taskset -c "$GEN_CPU" "$GEN" -q -i "$GEN_IF" --dst-mac "$DST_MAC" \
		-c "$COUNT" $(gen_args "$size" "$run") -r "$rate" 2>"$TMPD/gen.log"
	sleep "$CPU_WIN"
	J1=$(busy_jiffies); B1=$(proc_ns "$BUSY_PID")
	set -- $(if_counters); RX1=$(($1 + $3 - RD0))
	sleep "$(awk -v a="$STOP_AFTER" -v b="$CPU_WIN" 'BEGIN { print (a > b) ? a - b : 0 }')"
	# both CPU times first: the one stopped first does its exit work while
	# the other is still read
	pids=$(for c in $pids; do echo "$c:$(proc_ns "$(echo "$c" | cut -d: -f2)")"; done)
	out=
	for c in $pids; do
		set -- $(echo "$c" | tr ':' ' ')	# CAP PID P0 P1
		cap=$1 CAP_PID=$2
		mv "$TMPD/cap.$cap.err" "$TMPD/cap.err"
		captured=$(stop_cap "$cap")
		out="$out$cap $3 $4 ${captured:-x}
"
	done
	run_end "pair $size" || { echo FAIL; return 1; }
	if [ -z "$sent" ] || [ -z "$secs" ] || [ "$RX1" -le "$RX0" ] || echo "$out" | grep -q ' x$'; then
		log "pair $size: no numbers (gen: $(cat "$TMPD/gen.log"); caps: $(echo "$out" | tr '\n' ' '))"
		echo FAIL; return 1
	fi
	echo "$out" | awk -v s="$sent" -v t="$secs" -v rx=$((RX1 - RX0)) -v j=$((J1 - J0)) -v hz="$HZ" \
		-v d="${ifdrop:-0}" -v b=$((B1 - B0)) 'NF == 4 {
		c = $4; p = $3 - $2
		printf "%s %d %.6f %.0f %d %.0f %d %.0f %.4f %.1f %.1f %d %s %d %.1f %.1f\n", $1, s, t, s / t, rx, rx / t,
			c, c / t, (rx - c) * 100 / rx, (j * 1e9 / hz - b) / rx, 0, d, 0, 0,
			(c > 0) ? p / c : 0, b / rx }'
}
same_rate() {	# SIZES FILE LABEL
	printf "cap\tsize\trun\t$RUN_COLS\n" >"$2"
	for size in $1; do
		rate=$(sr_rate "$size")
		for run in $(seq 1 "$SR_RUNS"); do
			r=$(pair_run "$size" "$run" "$rate")
			if [ "$r" = FAIL ] || [ "$(echo "$r" | wc -l)" != 2 ]; then
				not_ok "$3tcpdump and tcpdump-zr side by side, size $size run $run at $rate/s"
				continue
			fi
			echo "$r" | while read -r cap rest; do
				printf '%s\t%s\t%s\t%s\n' "$cap" "$size" "$run" "$(echo "$rest" | tr ' ' '\t')" >>"$2"
				log "$3$cap $size #$run at $rate/s (side by side): $rest"
			done
		done
	done
	n=$(($(wc -l <"$2") - 1)) want=$(( $(echo "$1" | wc -w) * SR_RUNS * 2 ))
	if [ "$n" -eq "$want" ]; then ok "$3tcpdump and tcpdump-zr side by side at one rate: $n runs"
	else not_ok "$3tcpdump and tcpdump-zr side by side at one rate: $n of $want runs"; fi
}
[ $MAIN = 1 ] && [ "$SAME_RATE" != 1 ] && rm -f "$SRQ" "$SRB"
if [ "$SAME_RATE" = 1 ]; then
	log "one rate a size: tcpdump, tcpdump-zr; sizes [$SR_SIZES] quiet, [$BUSY_SIZES] busy; runs $SR_RUNS count $COUNT"
	same_rate "$SR_SIZES" "$SRQ" "one rate: "
	BUSY_RUN=1
	same_rate "$BUSY_SIZES" "$SRB" "one rate, busy: "
	BUSY_RUN=0
fi

# --- 4. to disk ---------------------------------------------------------------
# slow_setup DIR: SLOW_CG, a block cgroup whose writes to DIR's disk are
# throttled to SLOW_MBS MB/s (v1 blkio or v2 io), or empty where there is
# none (the slow rows are then left out, and the log says why).
SLOW_CG=
slow_setup() {
	src=$(findmnt -nvo SOURCE -T "$1" 2>/dev/null)
	pk=$(lsblk -ndo PKNAME "$src" 2>/dev/null)
	[ -n "$pk" ] && src=/dev/$pk
	devno=$(lsblk -ndo MAJ:MIN "$src" 2>/dev/null | tr -d ' ')
	bps=$((SLOW_MBS * 1000000))
	cg= made=
	if [ -z "$devno" ]; then
		log "no slow disk: no block device under $1 (${src:-?})"; return 0
	elif [ -f /sys/fs/cgroup/blkio/blkio.throttle.write_bps_device ]; then
		made=/sys/fs/cgroup/blkio/zcap-bench-$$
		mkdir -p "$made" && echo "$devno $bps" >"$made/blkio.throttle.write_bps_device" && cg=$made
	elif grep -qw io /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
		made=/sys/fs/cgroup/zcap-bench-$$
		{ echo +io >/sys/fs/cgroup/cgroup.subtree_control && mkdir -p "$made" &&
			echo "$devno wbps=$bps" >"$made/io.max"; } 2>/dev/null && cg=$made
	fi
	if [ -n "$cg" ]; then SLOW_CG=$cg; log "slow disk: writes to $src ($devno) throttled to $SLOW_MBS MB/s in $cg"
	else
		[ -n "$made" ] && rmdir "$made" 2>/dev/null
		log "no slow disk: no block cgroup throttle here"
	fi
}
# in_slow CMD...: CMD in SLOW_CG (sh -c "$IN_SLOW" "$SLOW_CG" CMD...)
IN_SLOW='echo $$ >"$0/cgroup.procs" && exec "$@"'
in_slow() { sh -c "$IN_SLOW" "$SLOW_CG" "$@"; }
DK="$RES/disk.tsv"
DD_MBS='' DD_PC_MBS='' DD_RUN_MB=''
if [ $DISK = 1 ]; then
	printf "cap\tsize\trun\t$RUN_COLS\tdd_mbs\twrite_mbs\n" >"$DK"
	mkdir -p "$DISKDIR"
	ddmbs() { awk '/bytes/ && /copied/ { for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) t = $(i - 1); print $1 / t / 1e6 }'; }
	DD_MBS=$(dd if=/dev/zero of="$DISKDIR/dd.bin" bs=1M count="$DD_MB" oflag=direct 2>&1 | ddmbs)
	rm -f "$DISKDIR/dd.bin"; sync
	DD_PC_MBS=$(dd if=/dev/zero of="$DISKDIR/dd.bin" bs=1M count="$DD_MB" conv=fdatasync 2>&1 | ddmbs)
	rm -f "$DISKDIR/dd.bin"; sync
	log "disk sequential write, $DD_MB MiB: $DD_MBS MB/s with O_DIRECT, $DD_PC_MBS MB/s through the page cache"
	DD_RUN_MB=$(( (DISK_COUNT * 1552 / 1048576 + 3) / 4 * 4 ))
	# disk_now SIZE: MB/s of DD_RUN_MB MiB written as zcap's writer writes
	# (disk_write: 4 MiB O_DIRECT writes of random bytes from huge pages, on
	# the capture core) while the generator sends SIZE frames to no
	# capturer: the disk as a capture sees it. The traffic halved dd's rate
	# here (alone 2.3-3.5 GB/s, beside it 1.3-1.4: the guest's disk
	# interrupts and the host's I/O share the load's cores).
	# (in_slow: in the throttled cgroup)
	disk_now() {
		# shellcheck disable=SC2046
		ip netns exec "$GEN_NS" taskset -c "$GEN_CPU" "$GEN" -q -i "$GEN_IF" --dst-mac "$DST_MAC" \
			-c 100000000 $(gen_args "$1" 1) 2>/dev/null &
		dn_gen=$!
		sleep 0.3
		${2:+in_slow} taskset -c "$CAP_CPU" "$TMPD/disk_write" "$DISKDIR/dd.bin" "$DD_RUN_MB" | sed -n 's/^disk_write: mbs=//p'
		kill -INT "$dn_gen" 2>/dev/null; wait "$dn_gen" 2>/dev/null
		sync
	}
	slow_setup "$DISKDIR"
	disk_sizes="1518 rand"
	[ $SMOKE = 1 ] && disk_sizes=rand
	for size in $disk_sizes; do
		for run in $(seq 1 "$RUNS"); do
			for cap in $(rotate $((run - 1)) zcap zcap-pace zcap-slow zcap-slow-pace zcap-2m tcpdump tcpdump-128m $DISK_EXTRA); do
				c=$cap slow=
				case $cap in
				# paced at a rate in bytes, and the slow disk's rows: at the one frame size
				zcap-pace|zcap-slow*) c=zcap; [ "$size" = 1518 ] || [ $SMOKE = 1 ] || continue ;;
				esac
				case $cap in zcap-slow*) [ -n "$SLOW_CG" ] || continue; slow=1 ;; esac
				case " $CAPS $DISK_EXTRA " in *" $c "*) ;; *) continue ;; esac
				f="$DISKDIR/$cap.pcapng"; case $cap in tcpdump*) f="$DISKDIR/$cap.pcap" ;; esac
				ddr=$(disk_now "$size" $slow)
				rate=0
				# the frame's bytes on the veth: SIZE less the FCS (rand: a 1518 B frame's, so slower)
				case $cap in *-pace) rate=$(awk -v d="${ddr:-0}" -v p="$DISK_PACE" 'BEGIN { printf "%.0f", d * p * 1e6 / 1514 }') ;; esac
				rm -f "$TMPD/quiet"
				r=$(one_run "$cap" "$size" "$run" "$DISK_COUNT" "$rate" "$f")
				rm -f "$f" "$f"[0-9]* "${f%.pcapng}"_*.pcapng
				sync
				if [ "$r" = FAIL ] || [ -z "$r" ] || [ -z "$ddr" ]; then not_ok "disk $cap $size run $run"; continue; fi
				# the bytes written / the seconds from the generator's start to the file's last growth
				wmbs=$(awk '$2 > 0 { printf "%.1f", $1 / $2 / 1e6 }' "$TMPD/quiet" 2>/dev/null)
				printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$cap" "$size" "$run" "$(echo "$r" | tr ' ' '\t')" "$ddr" "${wmbs:-0}" >>"$DK"
				log "disk $cap $size #$run: $r (disk just before: $ddr MB/s; written ${wmbs:-?} MB/s$([ "$rate" != 0 ] && echo ", paced at $rate/s"))"
			done
		done
	done
	rm -rf "$DISKDIR"
	if [ -n "$DD_MBS" ] && [ -n "$DD_PC_MBS" ]; then ok "to disk: $(($(wc -l <"$DK") - 1)) runs, dd $DD_MBS MB/s direct, $DD_PC_MBS MB/s page cache"
	else not_ok "dd bandwidth"; fi
fi
T_END=$(date +%s)
# every tcpdump-zr run went through libzcap (through_libzcap fails it
# otherwise): the backends libzcap took, for the report
ZR_BACKEND=$(awk '{ print $3 }' "$TMPD/zr.log" 2>/dev/null | sort -u | tr '\n' ' ' | sed 's/ $//')
# the ring zcap-run gave tcpdump-zr (no -B), as its ZCAP_RUN_VERBOSE line said
ZR_RING=$(awk '$1 == "tcpdump-zr" { print $4 }' "$TMPD/zr.log" 2>/dev/null | sort -u | tr '\n' ' ' | sed 's/ $//')
zr_ran=0
[ $MAIN = 1 ] && case " $CAPS " in *" tcpdump-zr"*) zr_ran=1 ;; esac
[ "$BUSY" = 1 ] && case " $BUSY_CAPS " in *" tcpdump-zr"*) zr_ran=1 ;; esac
[ "$SAME_RATE" = 1 ] && zr_ran=1
if [ $zr_ran = 1 ]; then
	n=$(wc -l <"$TMPD/zr.log" 2>/dev/null || echo 0)
	if [ "$n" -gt 0 ]; then ok "tcpdump-zr: tcpdump ran through libzcap (libzcap-pcap.so mapped, backend $ZR_BACKEND) in $n runs (one that did not is failed above)"
	else not_ok "tcpdump-zr: no run through libzcap"; fi
fi

# --- 5. report ----------------------------------------------------------------
# The run's settings and conditions, beside its raw tables: report.sh reads
# them, so "bench/report.sh DIR" remakes the same reports from DIR alone.
STEAL_MS=$(( ($(steal_jiffies) - STEAL0) * 1000 / HZ ))
LOADS="$LOAD0 → $(cut -d' ' -f1-3 /proc/loadavg)"
SECS=$((T_END - T_START)) CMD="bench/run.sh${ARGS:+ $ARGS}"
DATE=$(date -u -d "@$T_END" '+%Y-%m-%d %H:%M UTC')
KERNEL=$(uname -r) NPROC=$(nproc)
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
MEM=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
for v in DATE CMD SECS LOADS STEAL_MS KERNEL NPROC CPU_MODEL MEM DD_MBS DD_PC_MBS DD_MB CPU_WIN \
	STOP_AFTER RUNS COUNT TRIALS SEARCH_STEPS SEARCH_SECS TX_RUNS TX_COUNT GEN_CPU CAP_CPU XDP_NOTE \
	ZR_BACKEND ZR_RING BUSY_NICE SR_RUNS DD_RUN_MB DISK_PACE SLOW_MBS SLOW_CG; do
	eval "printf '%s=%q\n' $v \"\$$v\""
done >"$RES/run.env"
"$BENCH/report.sh" "$RES" || not_ok "report.sh"
if [ $MAIN = 1 ] || [ $DISK = 1 ] || [ "$BUSY" = 1 ] || [ "$SAME_RATE" = 1 ]; then
	if [ -s "$RES/results.md" ]; then ok "results.md written"; else not_ok "results.md"; fi
fi
if [ $TX = 1 ]; then
	if [ -s "$RES/tx.md" ]; then ok "tx.md written"; else not_ok "tx.md"; fi
fi
if [ $MAIN = 1 ] && have gnuplot; then
	np=$(ls "$RES"/*.png 2>/dev/null | wc -l)
	want=2; [ $SEARCH = 1 ] && want=3
	if [ "$np" -ge "$want" ]; then ok "plots: $np PNG"; else not_ok "plots: $np PNG"; fi
fi
[ $SMOKE = 1 ] || log "results in $RES"
tap_summary "# bench: "