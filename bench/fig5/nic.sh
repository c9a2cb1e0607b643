#!/bin/bash
# Figure 5 on the NIC: the capturers listen on the VM's emulated e1000
# (qemu's 82540EM, with the patched driver of kmod/e1000/), or with --nic
# rtl8139 on its RTL8139 (the patched 8139too of kmod/8139too/), while the
# host sends from outside the guest: zcap-gen on a tap device that qemu
# connects to that NIC, so that the guest's vCPUs do only the receiving.
# pfzc (e1000: the NIC writes by DMA into zcap's frames; RTL8139: zcap reads
# each frame where the NIC wrote it in its receive buffer) against the stock driver
# path with the libpcap loop, tcpdump and zcap's tpacket backend, and with
# no capturer (the NIC's own ceiling). Per capturer and size: the loss-free
# rate, what the NIC took in at full speed, and the guest's CPU time per
# frame (/proc/stat). The guest side is bench/fig5/nic_guest.sh.
#
#   bench/fig5/nic.sh                 full run; bench/results/fig5_nic.*
#   bench/fig5/nic.sh --nic rtl8139   the same on the RTL8139; fig5_rtl8139.*
#   bench/fig5/nic.sh --smoke         64 B, one run, one step, in a temp dir
#   bench/fig5/nic.sh --sizes "64 1518" --runs 1 --steps 3 --out /tmp/f5n
#
# Needs root (a tap device, qemu with an initramfs), and the build, vm and
# fig5 packages and the VM's kernel (make deps; it installs nothing itself).
# Takes about 40 minutes.
# FIG5N_KEEP=1 keeps its temporary directory (vm.out, the VM's whole
# output; gen.out, the host's last zcap-gen) for a look after the run.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
SIZES="64 128 256 512 1024 1518 rand"
CAPS="none pfzc pcap tcpdump tpacket"
RUNS=3 STEPS=4 SECS=1 FULL=2 WAIT=1.5 SMOKE=0 OUT=
TAP=zcfig5tap0
NICDEV=e1000
ARGS="$*"
# shellcheck source=bench/fig5/common.sh
. bench/fig5/common.sh
fig5_args "$@"
case "$NICDEV" in
e1000) NICMAC=52:54:00:00:e1:02 BASE=fig5_nic NICNAME="the e1000" ;;
rtl8139) NICMAC=52:54:00:00:81:02 BASE=fig5_rtl8139 NICNAME="the RTL8139" ;;
*) echo "nic.sh: --nic e1000 or rtl8139, not $NICDEV" >&2; exit 2 ;;
esac
if [ $SMOKE = 1 ]; then
	SIZES=64 RUNS=1 STEPS=1 FULL=0.5 SECS=0.3 WAIT=0.5
fi

finish() { tap_summary "# fig5nic: "; exit; }

skip_unless fig5nic "needs root" is_root
TAP_PREFIX="fig5nic: "

TMPD=$(mktemp -d /tmp/zcap-fig5nic.XXXXXX)
CTLPID=
cleanup() {
	[ -n "$CTLPID" ] && kill "$CTLPID" 2>/dev/null
	ip link del "$TAP" 2>/dev/null
	[ -n "${FIG5N_KEEP:-}" ] || rm -rf "$TMPD"
}
trap cleanup EXIT
if [ -z "$OUT" ]; then
	if [ $SMOKE = 1 ]; then OUT=$TMPD/out; else OUT=$ROOT/bench/results; fi
fi
mkdir -p "$OUT"

fig5_build "$TMPD"

# the traffic source: a tap device on the host, one more NIC of the VM on it
ip link del "$TAP" 2>/dev/null
ip tuntap add dev "$TAP" mode tap || { not_ok "tap device $TAP"; finish; }
sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" 2>/dev/null
ip link set "$TAP" up || { not_ok "tap device $TAP up"; finish; }

# the guest asks over its /dev/ttyS2 (a qemu pipe chardev: qemu reads
# ctl.in and writes ctl.out): "gen ARGS" runs zcap-gen on the tap and
# answers "done <its summary line>"; "bye" ends the controller
mkfifo "$TMPD/ctl.in" "$TMPD/ctl.out" || { not_ok "control pipes"; finish; }
controller() {
	set -f	# the guest's words are zcap-gen's arguments, never patterns
	exec 3<"$TMPD/ctl.out" 4>"$TMPD/ctl.in"
	while IFS= read -r line <&3; do
		line=${line%$'\r'}
		case "$line" in
		"gen "*)
			# shellcheck disable=SC2086  # split into arguments on purpose
			build/zcap-gen -i "$TAP" --dst-mac "$NICMAC" ${line#gen } >"$TMPD/gen.out" 2>&1
			echo "done $(grep 'sent=' "$TMPD/gen.out" | tail -1)" >&4
			echo "$line → $(grep 'sent=' "$TMPD/gen.out" | tail -1)" >>"$TMPD/gen.history" ;;
		bye) break ;;
		esac
	done
}
controller &
CTLPID=$!

G="$TMPD/fig5nic.sh"
{
	echo "# vm-modules: mii"
	echo "FIG5N_SIZES='$SIZES' FIG5N_CAPS='$CAPS' FIG5N_RUNS=$RUNS FIG5N_STEPS=$STEPS FIG5N_SECS=$SECS FIG5N_FULL=$FULL FIG5N_WAIT=$WAIT FIG5N_NIC=$NICDEV FIG5N_MAC=$NICMAC"
	echo "export FIG5N_SIZES FIG5N_CAPS FIG5N_RUNS FIG5N_STEPS FIG5N_SECS FIG5N_FULL FIG5N_WAIT FIG5N_NIC FIG5N_MAC"
	cat bench/fig5/nic_guest.sh
} >"$G"

start=$(date +%s)
echo "# booting the VM (patched $NICDEV, one more $NICDEV on the host's $TAP); sizes [$SIZES] capturers [$CAPS] runs $RUNS"
VM_BINS_EXTRA="$TMPD/pcap_count" \
	VM_QEMU_ARGS="-netdev tap,id=nic9,ifname=$TAP,script=no,downscript=no -device $NICDEV,netdev=nic9,mac=$NICMAC -serial pipe:$TMPD/ctl" \
	VM_TIMEOUT=7200 VM_SCRIPT_TIMEOUT=7000 VM_MEM=2G VM_SMP=2 \
	sh tests/vm/run.sh "$G" >"$TMPD/vm.out" 2>&1
vmrc=$?
secs=$(($(date +%s) - start))
grep -E '^(not ok|# fig5nic )' "$TMPD/vm.out" | sed 's/^/# /'
if [ $vmrc -eq 0 ]; then ok "VM run ($secs s)"; else not_ok "VM run (status $vmrc)"; grep -E '^not ok' "$TMPD/vm.out"; tail -5 "$TMPD/vm.out"; fi
[ -f "$TMPD/gen.history" ] && cp "$TMPD/gen.history" "$OUT/${BASE}_gen.txt"

RAW="$OUT/${BASE}_raw.tsv"
printf 'cap\tsize\trun\tlossfree_pps\tfull_rx_pps\tcpu_us_per_pkt\tsteps\tkind\tfull_sent\tfull_rx\tfull_captured\n' >"$RAW"
awk '$1 == "#" && $2 == "fig5nic" { printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 }' \
	"$TMPD/vm.out" >>"$RAW"
grep '^# fig5nic-step ' "$TMPD/vm.out" | sed 's/^# fig5nic-step //' >"$OUT/${BASE}_steps.txt"
[ -s "$OUT/${BASE}_steps.txt" ] || rm -f "$OUT/${BASE}_steps.txt"
cells=$(($(wc -l <"$RAW") - 1))
want=$(( $(echo "$SIZES" | wc -w) * $(echo "$CAPS" | wc -w) * RUNS ))
if [ "$cells" -eq "$want" ]; then ok "$cells of $want cells measured"; else not_ok "$cells of $want cells measured"; fi
# a cell whose numbers did not come through (empty fields) must not pass
bad=$(awk -F'\t' 'NR > 1 && (NF != 11 || $5 !~ /^[0-9]+$/ || $5 == 0 || $6 !~ /^[0-9.]+$/ || $4 !~ /^[0-9]+$/) { n++ } END { print n + 0 }' "$RAW")
if [ "$bad" = 0 ]; then ok "every cell has a full-speed rate, a CPU time per frame and a loss-free rate"
else not_ok "every cell has a full-speed rate, a CPU time per frame and a loss-free rate ($bad have not)"; fi
[ "$cells" -gt 0 ] || finish

# medians per capturer and size
SUM="$OUT/$BASE.tsv"
awk -F'\t' "$(cat bench/fig5/median.awk)"'
NR == 1 { next }
{ k = $1 "\t" $2; if (!(k in n)) order[++nk] = k; i = ++n[k]
  lf[k, i] = $4; rx[k, i] = $5; cpu[k, i] = $6; if ($8 == "full") f[k]++
  # at full speed: the share the guest driver took in, and the capturer kept
  din[k, i] = $9 > 0 ? 100 * $10 / $9 : 0; kept[k, i] = $9 > 0 ? 100 * $11 / $9 : 0 }
END { print "cap\tsize\truns\tlossfree_pps_median\tfull_rx_pps_median\tcpu_us_per_pkt_median\tfull_runs\tlossfree_pps_min\tlossfree_pps_max\tfull_driver_pct_median\tfull_kept_pct_median"
	for (q = 1; q <= nk; q++) { k = order[q]
		for (i = 1; i <= n[k]; i++) { a[i] = lf[k, i]; b[i] = rx[k, i]; c[i] = cpu[k, i]; d[i] = din[k, i]; e[i] = kept[k, i] }
		lo = a[1]; hi = a[1]; for (i = 2; i <= n[k]; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
		printf "%s\t%d\t%.0f\t%.0f\t%.1f\t%d\t%.0f\t%.0f\t%.1f\t%.1f\n", k, n[k], median(a, n[k]), median(b, n[k]), median(c, n[k]), f[k], lo, hi, median(d, n[k]), median(e, n[k]) } }' "$RAW" >"$SUM"

val() { awk -F'\t' -v c="$1" -v s="$2" -v f="$3" '$1 == c && $2 == s { print $f }' "$SUM"; }
kpps() { awk -v x="$1" 'BEGIN { if (x == "") print "–"; else printf "%.1f", x / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "–"; else printf "%.2f", a / b }'; }

MD="$OUT/$BASE.md"
KVER=$(. .cache/kernel/env.sh && echo "$KVER")
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
echo "# Figure 5 on $NICNAME: loss-free rate, the NIC's ceiling and the guest's CPU per frame"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); command: \`bench/fig5/nic.sh${ARGS:+ $ARGS}\` ($secs s)"
echo "- VM: Debian's $KVER under qemu TCG (no KVM), 2 vCPUs, 2 GiB, Debian's $NICDEV driver with kmod/$( [ "$NICDEV" = rtl8139 ] && echo 8139too || echo e1000 )'s patch; host: $(uname -r), $CPU ($(nproc) cores), shared with whatever else runs on it (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "- **Traffic source: outside the guest.** The host runs \`zcap-gen -i $TAP --dst-mac $NICMAC -d $FULL|-c N -s SIZE|--random-sizes [-r PPS]\` on a tap device that qemu connects to the VM's $NICDEV (\`-netdev tap -device $NICDEV\`): the guest's vCPUs do only the receiving. The guest asks for each burst over a serial port."
echo "- Capturers on that $NICDEV (one at a time, interleaved run by run):"
echo "  - none: no capturer: the stock driver path, the stack drops each frame (the guest has no address): **the NIC's own ceiling**"
if [ "$NICDEV" = rtl8139 ]; then
echo "  - pfzc: \`zcap --backend pfzc -i IF -q -w /dev/null\`: contiguous-ring mode, zcap reads each frame where the NIC wrote it in its receive buffer; no copy, no skb, no stack"
else
echo "  - pfzc: \`zcap --backend pfzc -i IF -q -w /dev/null\`: zero-copy mode, the NIC writes each frame by DMA into zcap's frames; no skb, no stack"
fi
echo "  - pcap: \`bench/pcap_count IF\` (pcap_dispatch loop, libpcap's 2 MiB TPACKET_V3 ring) through the stock driver and the stack; counts only"
echo "  - tcpdump: \`tcpdump -Z root -n -i IF -w /dev/null\` through the stock driver and the stack"
echo "  - tpacket: \`zcap --backend tpacket -i IF -q -w /dev/null\` through the stock driver and the stack"
echo "- A run: $FULL s at full speed; **full rx** = the frames the NIC took in (the interface's rx_packets) over the host's sending seconds; **CPU/frame** = the guest's busy time (\`/proc/stat\`: user, nice, system, irq, softirq, steal of both vCPUs) over those frames, from the burst's start to $WAIT s after its end. If the capturer kept every frame the host sent, the **loss-free rate** is the rate offered; else a binary search on the offered rate ($STEPS steps of ${SECS} s, \`${BASE}_steps.txt\`) gives the highest one at which it lost none (0: none found). A frame the host's tap or qemu drops counts as lost, as a frame the NIC misses does. Median of $RUNS runs."
echo "- **TCG emulates every instruction, and qemu's $NICDEV model runs on the host's CPUs beside the guest's: absolute rates are far below real hardware; only figures of one run compare.**"
echo
CAPN="none pfzc pcap tcpdump tpacket"
hdr() { printf '| size |'; for c in $CAPN; do printf ' %s |' "$(name "$c")"; done; echo "$1"; printf '|---|'; for c in $CAPN; do printf -- '---|'; done; echo "$2"; }
name() { case "$1" in none) echo "none (stock driver, no capturer)" ;; pfzc) echo "pfzc (zero copy)" ;; pcap) echo "libpcap loop" ;; *) echo "$1" ;; esac; }
echo "## Loss-free rate, kpps (median; none: the NIC's ceiling, what it took in at full speed)"
echo
hdr "" ""
for s in $SIZES; do
	printf '| %s |' "$s"
	for c in $CAPN; do
		if [ "$c" = none ]; then printf ' %s |' "$(kpps "$(val none "$s" 5)")"; else printf ' %s |' "$(kpps "$(val "$c" "$s" 4)")"; fi
	done
	echo
done
echo
echo "## Guest CPU time per frame the NIC took in, µs (median, at full speed)"
echo
hdr " pfzc ÷ none | pfzc ÷ libpcap |" "---|---|"
for s in $SIZES; do
	printf '| %s |' "$s"
	for c in $CAPN; do printf ' %s |' "$(val "$c" "$s" 6)"; done
	echo " $(ratio "$(val pfzc "$s" 6)" "$(val none "$s" 6)") | $(ratio "$(val pfzc "$s" 6)" "$(val pcap "$s" 6)") |"
done
echo
echo "## At full speed: what the guest's driver took in (what the capturer kept), % of the frames the host sent (median)"
echo
echo "What the driver did not take in never reached the guest: the host's tap or qemu's NIC dropped it for want of a free receive buffer. For pfzc the buffers are zcap's frames, for the others the driver's skbs."
echo
hdr "" ""
for s in $SIZES; do
	printf '| %s |' "$s"
	for c in $CAPN; do
		d=$(val "$c" "$s" 10) k=$(val "$c" "$s" 11)
		if [ "$c" = none ]; then printf ' %s |' "${d:-–}"; else printf ' %s (%s) |' "${d:-–}" "${k:-–}"; fi
	done
	echo
done
echo
echo "Goals (issue 14): pfzc's guest CPU per frame below the stock driver's with no capturer, and at most half the libpcap loop's, at every size; its loss-free rate not lower than any other capturer's; where the device caps every capturer at the same rate, say so instead of claiming a ratio."
echo
for s in $SIZES; do
	z=$(val pfzc "$s" 6) n=$(val none "$s" 6) p=$(val pcap "$s" 6)
	[ -n "$z" ] || continue
	line="- $s B: pfzc $z µs/frame"
	[ -n "$n" ] && line="$line, none $n: $(awk -v a="$z" -v b="$n" 'BEGIN { print (a < b ? "**below** (met)" : "**not below** (missed)") }')"
	[ -n "$p" ] && line="$line; libpcap loop $p: $(awk -v a="$z" -v b="$p" 'BEGIN { printf "%.2f× %s", (b > 0 ? a / b : 0), (a <= b / 2 ? "(met)" : "(missed)") }')"
	zl=$(val pfzc "$s" 4) lower= same=1
	for c in pcap tcpdump tpacket; do
		o=$(val "$c" "$s" 4)
		[ -n "$o" ] && [ -n "$zl" ] || continue
		awk -v a="$zl" -v b="$o" 'BEGIN { exit !(a < b) }' && lower="$lower $c"
		awk -v a="$zl" -v b="$o" 'BEGIN { exit !(a > b * 1.05 || a < b * 0.95) }' && same=0
	done
	if [ -n "$lower" ]; then line="$line; loss-free rate lower than$lower (missed)"
	else line="$line; loss-free rate not lower than any other (met)"; fi
	nr=$(val none "$s" 5)
	if [ "$same" = 1 ] && [ -n "$nr" ] && awk -v a="$zl" -v b="$nr" 'BEGIN { exit !(a >= b * 0.95) }'; then
		line="$line; **every capturer's loss-free rate is within 5 % of the NIC's ceiling ($(kpps "$nr") kpps): the device caps them all, no ratio of rates is claimed**"
	fi
	echo "$line"
done
echo
echo "Raw runs: \`${BASE}_raw.tsv\` (kind: full = nothing lost at full speed, search = the loss-free rate of a search, none = no loss-free step); medians: \`$BASE.tsv\`; the host's zcap-gen lines: \`${BASE}_gen.txt\`."
} >"$MD"

if command -v gnuplot >/dev/null; then
	DAT="$OUT/${BASE}_plot.dat"
	{
		echo "size $CAPS $CAPS"
		for s in $SIZES; do
			printf '%s' "$s"
			for c in $CAPS; do
				f=4; [ "$c" = none ] && f=5
				v=$(val "$c" "$s" $f); printf ' %s' "$(awk -v x="${v:-0}" 'BEGIN { printf "%.2f", x / 1000 }')"
			done
			for c in $CAPS; do v=$(val "$c" "$s" 6); printf ' %s' "${v:-0}"; done
			echo
		done
	} >"$DAT"
	ncap=$(echo "$CAPS" | wc -w)
	gnuplot <<GPEOF 2>"$TMPD/gnuplot.log"
set terminal pngcairo size 1000,900 noenhanced
set output "$OUT/$BASE.png"
set multiplot layout 2,1 title "Figure 5 on qemu's $NICDEV (TCG, $(date -u +%Y-%m-%d)), traffic from a host tap: compare within this run only"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set key outside right top
set grid ytics
set yrange [0:*]
set title "loss-free rate (none: the NIC's ceiling), median of $RUNS"
set ylabel "kpps"
plot for [i=2:$((ncap + 1))] "$DAT" using i:xtic(1) title columnheader(i)
set title "guest CPU time per frame the NIC took in, at full speed"
set ylabel "µs per frame"
set xlabel "frame size (bytes)"
plot for [i=$((ncap + 2)):$((2 * ncap + 1))] "$DAT" using i:xtic(1) title columnheader(i)
unset multiplot
GPEOF
	if [ -s "$OUT/$BASE.png" ]; then ok "$BASE.png written"; else not_ok "$BASE.png written"; cat "$TMPD/gnuplot.log"; fi
fi
if [ -s "$MD" ]; then ok "$BASE.md written"; else not_ok "$BASE.md written"; fi
[ $SMOKE = 1 ] || echo "# results in $OUT/$BASE.md"
finish
