#!/bin/sh
# Ring microbenchmark: zcap's pfzc_* ring accessors against libxdp's xsk_ring_*
# and DPDK's rte_ring (SP/SC), two threads pinned to two CPUs.
#
#   sh bench/ring/run.sh            full run (under 2 minutes), writes
#                                   bench/ring/results.md
#   sh bench/ring/run.sh --smoke    tiny counts, TAP lines, under 10 s
#   sh bench/ring/run.sh --runs 9   more runs per cell (default 7, max 15)
#
# Installs nothing: libxdp-dev, libbpf-dev and dpdk-dev come from make deps
# (or make bench). A library that is not installed, or cannot be built
# against or started, shows as "n/a" with the reason. The binary is built
# in a temporary directory with -O2 and no -march, so the numbers are those of
# a portable build.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
TAP_PREFIX="ring bench: "
HERE=bench/ring
OUT=$HERE/results.md

cmdargs=$(printf ' %s' "$@")
[ "$cmdargs" = " " ] && cmdargs=""
smoke=0
runs=7
scale=1
while [ $# -gt 0 ]; do
	case "$1" in
	--smoke) smoke=1 ;;
	--runs) runs=$2; shift ;;
	--scale) scale=$2; shift ;;	# items per run x F (for quick trials)
	*) echo "usage: $0 [--smoke] [--runs N] [--scale F]" >&2; exit 2 ;;
	esac
	shift
done

log() { echo "ring bench: $*" >&2; }

have gcc || { not_ok "no gcc"; exit 1; }

# -- build ---------------------------------------------------------------------
TMP=$(mktemp -d /tmp/zcap-ringbench.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
BIN=$TMP/ringbench
BASE_CFLAGS="-std=gnu11 -O2 -Wall -Wextra -Iinclude -pthread"

na_xsk="" na_rte=""
xsk_cflags="" xsk_libs="" rte_cflags="" rte_libs=""
if pkg-config --exists libxdp 2>/dev/null && [ -f /usr/include/xdp/xsk.h ]; then
	xsk_cflags="-DHAVE_XSK $(pkg-config --cflags libxdp)"
	xsk_libs=$(pkg-config --libs libxdp)
else
	na_xsk="libxdp-dev not installed (make deps installs it)"
fi
if pkg-config --exists libdpdk 2>/dev/null; then
	# DPDK's .pc asks for -march=corei7; rte_ring.h does not need it, and
	# it would change the code of every column: drop it.
	rte_cflags="-DHAVE_RTE $(pkg-config --cflags libdpdk | sed 's/-march=[^ ]*//g')"
	rte_libs=$(pkg-config --libs libdpdk)
else
	na_rte="dpdk-dev not installed (make deps installs it)"
fi

build() {
	# shellcheck disable=SC2086
	gcc $BASE_CFLAGS $1 -o "$BIN" $HERE/ringbench.c $2 2>"$TMP/cc.err"
}
BUILD_CMD="gcc $BASE_CFLAGS $xsk_cflags $rte_cflags -o ringbench $HERE/ringbench.c $xsk_libs $rte_libs"
if ! build "$xsk_cflags $rte_cflags" "$xsk_libs $rte_libs"; then
	# find out which library broke the build; drop it and say why
	if [ -n "$rte_cflags" ] && ! build "$rte_cflags" "$rte_libs"; then
		na_rte="does not build against DPDK: $(grep -m1 error "$TMP/cc.err")"
		rte_cflags="" rte_libs=""
	fi
	if [ -n "$xsk_cflags" ] && ! build "$xsk_cflags" "$xsk_libs"; then
		na_xsk="does not build against libxdp: $(grep -m1 error "$TMP/cc.err")"
		xsk_cflags="" xsk_libs=""
	fi
	BUILD_CMD="gcc $BASE_CFLAGS $xsk_cflags $rte_cflags -o ringbench $HERE/ringbench.c $xsk_libs $rte_libs"
	if ! build "$xsk_cflags $rte_cflags" "$xsk_libs $rte_libs"; then
		not_ok "build failed"
		sed 's/^/# /' "$TMP/cc.err"
		exit 1
	fi
fi

set -- --runs "$runs" --scale "$scale"
[ -n "$na_xsk" ] && set -- "$@" --na-xsk "$na_xsk"
[ -n "$na_rte" ] && set -- "$@" --na-rte "$na_rte"

# -- smoke -------------------------------------------------------------------
if [ "$smoke" -eq 1 ]; then
	"$BIN" --smoke "$@"
	exit $?
fi

# -- full run ----------------------------------------------------------------
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
steal0=$(awk '/^cpu /{print $9}' /proc/stat)
t0=$(date +%s)
log "full run: $runs rounds over 4 rings x 3 batches (under 2 minutes)"
"$BIN" "$@" >"$TMP/table.md"
rc=$?
t1=$(date +%s)
steal1=$(awk '/^cpu /{print $9}' /proc/stat)
if [ "$rc" -gt 1 ] || [ ! -s "$TMP/table.md" ]; then
	echo "ring bench: ringbench failed (status $rc)" >&2
	exit 1
fi

{
	echo "# Ring microbenchmark"
	echo
	echo "zcap's ring accessors (\`include/pfzc_ring.h\`) against libxdp's and DPDK's,"
	echo "one producer and one consumer thread on two pinned CPUs, ring in plain memory."
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- CPU: $cpu, $(nproc) CPUs online"
	echo "- Kernel: $(uname -r) ($(uname -m))"
	echo "- Versions: gcc $(gcc -dumpfullversion), libxdp-dev $(ver libxdp-dev), dpdk-dev $(ver dpdk-dev)"
	echo "- Command: \`sh $HERE/run.sh$cmdargs\` (the benchmark took $((t1 - t0)) s)"
	echo "- Build: \`$(echo "$BUILD_CMD" | tr -s ' ')\`"
	echo "- Steal time during the run: $(( (steal1 - steal0) * 1000 / $(getconf CLK_TCK) )) ms (2 vCPUs of a VM: where the host places them changes from run to run, so min–max is wide both ways; read the medians)"
	echo
	cat "$TMP/table.md"
} >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"
cat "$OUT"
log "wrote $OUT"
exit "$rc"
