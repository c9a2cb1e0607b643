#!/bin/bash
# Where a capturer's cost goes on the stock-kernel path (issue 15): perf
# profiles of both cores on the veth testbed while zcap-gen sends at full
# speed on one core and the capturer listens on the other. On veth the
# receive work (the copy into the capture ring, the socket filter) runs on
# the sender's core, so the sender core's profile is where a capturer's
# kernel-side cost shows; the capture core's is its own user-side cost.
#
#   bench/profile.sh                  bench/results/profile.md
#   bench/profile.sh --caps "tpv3 zcap" --sizes 64 --count 500000 --out /tmp/p
#
# Capturers (the rows of bench/run.sh): tpv3 (bench/tp_count.c, the bare
# TPACKET_V3 reader), zcap (zcap -w /dev/null), zcap-filter (zcap with the
# snap-length-only socket filter it attached before issue 15: -s 262143
# keeps it), zcap-disk (zcap -w FILE.pcapng on the disk, under $OUT/tmp,
# removed after: the O_DIRECT path), tcpdump (-w /dev/null), none. perf
# record -a at 4999 Hz,
# without call graphs; per capturer and size, the top symbols of each core

# Needs root, perf (linux-perf) and the bench packages.
set -u

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
CAPS="none tpv3 zcap zcap-filter zcap-disk tcpdump"
SIZES="64 1518"
COUNT=3000000
TOP=12
OUT=$BENCH/results
while [ $# -gt 0 ]; do
	case "$1" in
	--caps) CAPS=$2; shift ;;
	--sizes) SIZES=$2; shift ;;
	--count) COUNT=$2; shift ;;
	--out) OUT=$2; shift ;;
	*) echo "profile: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
is_root || { echo "profile: needs root" >&2; exit 1; }
have perf || { echo "profile: needs perf (apt-get install linux-perf)" >&2; exit 1; }
mkdir -p "$OUT"
TMPD=$(mktemp -d /tmp/zcap-profile.XXXXXX)
TB="zp$$"
cleanup() {
	[ -n "${CAP_PID:-}" ] && kill -9 "$CAP_PID" 2>/dev/null
	sh "$ROOT/scripts/testbed.sh" down "$TB" 2>/dev/null
	rm -rf "$TMPD" "$OUT/tmp"
}
trap cleanup EXIT
make -s -C "$ROOT" all >/dev/null || { echo "profile: make all failed" >&2; exit 1; }
cc -O2 -Wall -Wextra -o "$TMPD/tp_count" "$BENCH/tp_count.c" || exit 1
sh "$ROOT/scripts/testbed.sh" up "$TB" || exit 1
pick_cpus
CAP_CPU=${CAP_CPU:-$GEN_CPU}
T0=$(date +%s)

# prof CAP SIZE: one profiled run; perf data in $TMPD/CAP-SIZE.data, the
# generator's line in .gen, the capturer's stderr in .err
prof() {
	case "$1" in
	none) set -- "$1" "$2" ;;
	tpv3) set -- "$1" "$2" "$TMPD/tp_count" "$TB-c" ;;
	zcap) set -- "$1" "$2" "$ROOT/build/zcap" -i "$TB-c" -q -w /dev/null ;;
	zcap-filter) set -- "$1" "$2" "$ROOT/build/zcap" -s 262143 -i "$TB-c" -q -w /dev/null ;;
	zcap-disk) mkdir -p "$OUT/tmp"
		set -- "$1" "$2" "$ROOT/build/zcap" -i "$TB-c" -q -w "$OUT/tmp/profile.pcapng" ;;
	tcpdump) set -- "$1" "$2" tcpdump -Z root -n -i "$TB-c" -w /dev/null ;;
	esac
	_c=$1 _s=$2
	shift 2
	CAP_PID=
	if [ $# -gt 0 ]; then
		ip netns exec "$TB-cap" taskset -c "$CAP_CPU" "$@" 2>"$TMPD/$_c-$_s.err" &
		CAP_PID=$!
		wait_for "$TMPD/$_c-$_s.err" "listening on" 150 "$CAP_PID" || return 1
	fi
	_sz="-s $_s"
	[ "$_s" = rand ] && _sz=--random-sizes
	# shellcheck disable=SC2086
	perf record -q -F 4999 -a -o "$TMPD/$_c-$_s.data" -- \
		ip netns exec "$TB-gen" taskset -c "$GEN_CPU" "$ROOT/build/zcap-gen" -q -i "$TB-g" \
		--dst-mac 02:00:00:00:00:01 -c "$COUNT" $_sz 2>"$TMPD/$_c-$_s.gen" >/dev/null
	if [ -n "$CAP_PID" ]; then
		sleep 1.2
		kill -INT "$CAP_PID"
		wait "$CAP_PID"
		CAP_PID=
	fi
	rm -rf "$OUT/tmp"
}

# samples DATA CPU COMMS: "samples symbol" lines, most first, of the
# threads named in COMMS (comma-separated) on CPU. By the comm column, not
# perf's --comms, which left out samples of the same thread (an exec chain
# ip, taskset, zcap-gen: every pvm_irq_enable sample went missing).
samples() {
	perf report -i "$1" --cpu "$2" -n --no-children --sort comm,sym -g none \
		--stdio 2>/dev/null |
		awk -v comms=",$3," '/^ *[0-9.]+%/ && index(comms, "," $3 ",") {
			n = $2; $1 = ""; $2 = ""; $3 = ""; sub(/^ +/, ""); s[$0] += n }
			END { for (k in s) print s[k], k }' | sort -rn
}
# ns/packet from a sample count: each sample stands for 1/HZ s of a core
NSPP='function nspp(n) { return n * 1e9 / hz / count }'
# top FILE: the TOP symbols, "ns/pkt symbol"
top() {
	head -n "$TOP" "$1" | awk -v hz="$HZ" -v count="$COUNT" "$NSPP"'
		{ n = $1; $1 = ""; sub(/^ +/, ""); printf "%6.1f ns/pkt  %s\n", nspp(n), $0 }'
}
# part FILE REGEX: ns/pkt in symbols matching REGEX
part() {
	awk -v hz="$HZ" -v count="$COUNT" -v re="$2" "$NSPP"'
		{ n = $1; $1 = ""; if ($0 ~ re) s += n } END { printf "%.1f", nspp(s) }' "$1"
}
HZ=4999

RES=$OUT/profile.md
{
	echo "# Where the capture cost goes on veth (perf)"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); kernel: $(uname -r); CPU: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1) ($(nproc) cores)"
	echo "- command: \`bench/profile.sh${*:+ $*}\`; written by bench/profile.sh"
	echo "- each run: the capturer on CPU $CAP_CPU, \`zcap-gen -c $COUNT\` at full speed on CPU $GEN_CPU (the sender core: veth's receive path, the copy into the capture ring and the socket filter run there), \`perf record -a -F 4999\` for the generator's whole run, no call graphs. One run per cell: the shares are for finding where the time goes, the rates are not the benchmark's (bench/run.sh has those)."
	echo "- sampling: $(perf stat -e cycles true 2>&1 | grep -q 'not supported' && echo 'no hardware cycle counter here (perf stat: cycles not supported), so perf samples on a timer: time spent with interrupts off is charged to the point where they come back on (pvm_irq_enable), not to the code that ran' || echo 'cycles')"
	echo "- per packet: a symbol's samples ÷ 4999 Hz ÷ packets sent = ns of that core per packet"
	echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
} >"$RES"
for s in $SIZES; do
	for c in $CAPS; do
		prof "$c" "$s" || { echo "## $c, $s B: did not start" >>"$RES"; continue; }
		d="$TMPD/$c-$s.data"
		# the sender core: zcap-gen's process context and the softirq it
		# runs on its way out (the receive path); the capture core: the
		# capturer's threads
		samples "$d" "$GEN_CPU" "zcap-gen,ksoftirqd/$GEN_CPU" >"$TMPD/gen.s"
		case "$c" in tpv3) cm=tp_count ;; zcap*) cm=zcap ;; *) cm=$c ;; esac
		samples "$d" "$CAP_CPU" "$cm" >"$TMPD/cap.s"
		{
			echo "## $c, size $s"
			echo
			echo "- zcap-gen: $(grep -o 'pps=[0-9]*' "$TMPD/$c-$s.gen" | head -1) (with this capturer's cost on its core)"
			[ -f "$TMPD/$c-$s.err" ] && echo "- capturer: $(grep -E 'captured' "$TMPD/$c-$s.err" | tail -1)"
			echo "- sender core (CPU $GEN_CPU), per packet sent: all $(part "$TMPD/gen.s" .) ns; tpacket_rcv $(part "$TMPD/gen.s" tpacket_rcv) ns; copies (memcpy) $(part "$TMPD/gen.s" 'memcpy|memmove') ns; socket filter (its JIT code, bpf_prog_run, sk_filter) $(part "$TMPD/gen.s" 'bpf_prog|0xffffffffc0|run_filter|sk_filter') ns; clock reads $(part "$TMPD/gen.s" 'clocksource|ktime_get|read_tsc') ns"
			[ "$c" != none ] && echo "- capture core (CPU $CAP_CPU), the capturer's own threads, per packet: $(part "$TMPD/cap.s" .) ns"
			echo
			echo "Sender core, top symbols:"
			echo
			echo '```'
			top "$TMPD/gen.s"
			echo '```'
			if [ "$c" != none ]; then
				echo
				echo "Capture core, the capturer's top symbols:"
				echo
				echo '```'
				top "$TMPD/cap.s"
				echo '```'
			fi
			echo
		} >>"$RES"
	done
done
echo "($(($(date +%s) - T0)) s)" >>"$RES"
echo "profile: wrote $RES"
