#!/bin/sh
# The README's first command (make demo): on a throwaway testbed of two
# network namespaces joined by veth, zcap-gen sends 1,000,000 numbered frames
# and zcap captures them zero-copy to demo-out/demo.pcapng; then the result
# is checked with libpcap (zcap-verify) and shown with tshark.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
B="$ROOT/build"
OUT="$ROOT/demo-out"
N=${DEMO_FRAMES:-1000000}
TB=zdemo

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (it creates network namespaces); try: sudo make demo" >&2
	exit 1
fi

cleanup() {
	[ -n "${CAP_PID:-}" ] && kill "$CAP_PID" 2>/dev/null
	"$ROOT/scripts/testbed.sh" down $TB
}
trap cleanup EXIT INT TERM

mkdir -p "$OUT"
rm -f "$OUT/demo.pcapng"
"$ROOT/scripts/testbed.sh" up $TB
MAC=$(ip netns exec $TB-cap cat /sys/class/net/$TB-c/address)
echo "demo: testbed up: $TB-gen/$TB-g  <-veth->  $TB-cap/$TB-c"

# On veth the receive work runs on the sender's core: the generator gets
# one CPU and the capture another, so neither starves the other.
pick_cpus
rm -f "$OUT/zcap.log"
ip netns exec $TB-cap $PIN_CAP "$B/zcap" -i $TB-c -q -w "$OUT/demo.pcapng" \
	2>"$OUT/zcap.log" &
CAP_PID=$!
wait_for "$OUT/zcap.log" "listening on" 300 $CAP_PID || { cat "$OUT/zcap.log" >&2; exit 1; }
sed -n 1p "$OUT/zcap.log"

echo "demo: sending $N frames of random sizes (64..1518 bytes) at full speed"
ip netns exec $TB-gen $PIN_GEN "$B/zcap-gen" -q -i $TB-g --dst-mac "$MAC" \
	-c "$N" --random-sizes 2>"$OUT/gen.log"
cat "$OUT/gen.log"
sleep 0.5
kill -INT $CAP_PID
wait $CAP_PID || { cat "$OUT/zcap.log" >&2; exit 1; }
CAP_PID=
echo
echo "== zcap summary"
sed 1d "$OUT/zcap.log"
echo
echo "== checked with libpcap: every frame once, in order, intact"
"$B/zcap-verify" --expect "$N" "$OUT/demo.pcapng" || status=$?
echo
echo "== capinfos $OUT/demo.pcapng"
capinfos -c -s -u -y -i "$OUT/demo.pcapng" 2>/dev/null | sed 1d
echo
echo "== tshark -r $OUT/demo.pcapng -c 5"
tshark -r "$OUT/demo.pcapng" -c 5 2>/dev/null
exit ${status:-0}
