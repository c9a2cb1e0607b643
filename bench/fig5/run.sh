#!/bin/bash
# Figure 5 of the PF_ZEROCOPY paper, reproduced: the receive rate per frame
# size on the module's virtual pair, for the zero-copy driver path against
# libpcap and tcpdump through the stack, unchanged tcpdump under zcap-run on
# the driver path, and with no capturer, in one VM and one run (the module loads only in the VM; see bench/README.md). Where a
# capturer loses nothing at full speed the rate is the one the sending vCPU
# reached with that receive path's cost on it, not a loss-free rate; where
# it loses, a search finds the loss-free rate (fig5.md says which).
#
#   bench/fig5/run.sh                 full run; results in bench/results/fig5.*
#   bench/fig5/run.sh --smoke         64 B, one run, one step, in a temp dir;
#                                     TAP lines, for make check
#   bench/fig5/run.sh --sizes "64 1518" --runs 1 --steps 3 --out /tmp/f5
#
# Needs root (it boots qemu with an initramfs), and the build, vm and fig5
# packages and the VM's kernel (make deps; it installs nothing itself).
# Takes about 25 minutes.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
SIZES="64 128 256 512 1024 1518 rand"
CAPS="none pfzc pcap tcpdump tcpdump-zr tpacket"
RUNS=3 STEPS=5 SECS=1 FULL=2 WAIT=1.5 SMOKE=0 OUT=
ARGS="$*"
# shellcheck source=bench/fig5/common.sh
. bench/fig5/common.sh
fig5_args "$@"
if [ $SMOKE = 1 ]; then
	SIZES=64 RUNS=1 STEPS=1 FULL=0.2 SECS=0.1 WAIT=0.3
fi

finish() { tap_summary "# fig5: "; exit; }

skip_unless fig5 "needs root" is_root
TAP_PREFIX="fig5: "

TMPD=$(mktemp -d /tmp/zcap-fig5.XXXXXX)
trap 'rm -rf "$TMPD"' EXIT
if [ -z "$OUT" ]; then
	if [ $SMOKE = 1 ]; then OUT=$TMPD/out; else OUT=$ROOT/bench/results; fi
fi
mkdir -p "$OUT"

fig5_build "$TMPD"

# the guest script, with this run's settings at its top
G="$TMPD/fig5.sh"
{
	echo "FIG5_SIZES='$SIZES' FIG5_CAPS='$CAPS' FIG5_RUNS=$RUNS FIG5_STEPS=$STEPS FIG5_SECS=$SECS FIG5_FULL=$FULL FIG5_WAIT=$WAIT"
	echo "export FIG5_SIZES FIG5_CAPS FIG5_RUNS FIG5_STEPS FIG5_SECS FIG5_FULL FIG5_WAIT"
	cat bench/fig5/guest.sh
} >"$G"

start=$(date +%s)
echo "# booting the VM (pf_zerocopy pairs=1); sizes [$SIZES] capturers [$CAPS] runs $RUNS"
# tests/vm/run.sh brings tcpdump, zcap-run and libzcap-pcap.so
VM_BINS_EXTRA="$TMPD/pcap_count" VM_KMOD_ARGS="family=27 pairs=1" \
	VM_TIMEOUT=7200 VM_SCRIPT_TIMEOUT=7000 VM_MEM=2G VM_SMP=2 \
	sh tests/vm/run.sh "$G" >"$TMPD/vm.out" 2>&1
vmrc=$?
secs=$(($(date +%s) - start))
grep -E '^(not ok|# fig5 )' "$TMPD/vm.out" | sed 's/^/# /'
if [ $vmrc -eq 0 ]; then ok "VM run ($secs s)"; else not_ok "VM run (status $vmrc)"; grep -E '^not ok' "$TMPD/vm.out"; fi

RAW="$OUT/fig5_raw.tsv"
# rate: the rate reached at full speed (kind full: nothing was lost), or the
# loss-free rate a search found (kind search; none: no step was loss-free)
printf 'cap\tsize\trun\trate_pps\trate_mbps\tfull_pps\tsteps\tkind\n' >"$RAW"
awk '$1 == "#" && $2 == "fig5" { printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", $3, $4, $5, $6, $7, $8, $9, $10 }' \
	"$TMPD/vm.out" >>"$RAW"
# every search step, when there were any
grep '^# fig5-step ' "$TMPD/vm.out" | sed 's/^# fig5-step //' >"$OUT/fig5_steps.txt"
[ -s "$OUT/fig5_steps.txt" ] || rm -f "$OUT/fig5_steps.txt"
cells=$(($(wc -l <"$RAW") - 1))
want=$(( $(echo "$SIZES" | wc -w) * $(echo "$CAPS" | wc -w) * RUNS ))
if [ "$cells" -eq "$want" ]; then ok "$cells of $want cells measured"; else not_ok "$cells of $want cells measured"; fi
# every start of tcpdump under zcap-run must have taken pfzc (the guest
# counts no run that did not)
case " $CAPS " in *" tcpdump-zr "*)
	zr_all=$(grep -c '^# fig5-zr backend ' "$TMPD/vm.out")
	zr_pfzc=$(grep -c '^# fig5-zr backend pfzc$' "$TMPD/vm.out")
	if [ "$zr_all" -gt 0 ] && [ "$zr_all" -eq "$zr_pfzc" ]; then
		ok "tcpdump under zcap-run took the pfzc backend (ZCAP_RUN_VERBOSE) in all $zr_all starts"
	else
		not_ok "tcpdump under zcap-run took the pfzc backend (ZCAP_RUN_VERBOSE) in all starts ($zr_pfzc of $zr_all)"
		grep '^# fig5-zr backend \|^# zcap-run: ' "$TMPD/vm.out" | grep -v 'backend pfzc$' | head -5
	fi ;;
esac
[ "$cells" -gt 0 ] || finish

# medians per capturer and size; full_runs: runs of kind full
SUM="$OUT/fig5.tsv"
awk -F'\t' "$(cat bench/fig5/median.awk)"'
NR == 1 { next }
{ k = $1 "\t" $2; if (!(k in n)) order[++nk] = k; i = ++n[k]; p[k, i] = $4; m[k, i] = $5
  lo[k] = (i == 1 || $4 < lo[k]) ? $4 : lo[k]; hi[k] = (i == 1 || $4 > hi[k]) ? $4 : hi[k]
  if ($8 == "full") f[k]++ }
END { print "cap\tsize\truns\tpps_median\tpps_min\tpps_max\tmbps_median\tfull_runs"
	for (q = 1; q <= nk; q++) { k = order[q]; for (i = 1; i <= n[k]; i++) { a[i] = p[k, i]; b[i] = m[k, i] }
		printf "%s\t%d\t%.0f\t%.0f\t%.0f\t%.1f\t%d\n", k, n[k], median(a, n[k]), lo[k], hi[k], median(b, n[k]), f[k] } }' "$RAW" >"$SUM"

val() { awk -F'\t' -v c="$1" -v s="$2" -v f="${3:-4}" '$1 == c && $2 == s { print $f }' "$SUM"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "–"; else printf "%.2f×", a / b }'; }
cell() {	# CAP SIZE: "kpps (min–max) · Mb/s", * when a run's rate is a search's
	awk -F'\t' -v c="$1" -v s="$2" '$1 == c && $2 == s {
		mark = ($8 < $3) ? " *" : ""
		if ($5 == $6) printf "%.1f · %.0f Mb/s%s", $4 / 1000, $7, mark
		else printf "%.1f (%.1f–%.1f) · %.0f Mb/s%s", $4 / 1000, $5 / 1000, $6 / 1000, $7, mark }' "$SUM"
}

MD="$OUT/fig5.md"
KVER=$(. .cache/kernel/env.sh && echo "$KVER")
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
# cells where nothing was lost at full speed: their rate is the one the
# sending vCPU reached, not a loss-free rate
cap_cells=$(awk -F'\t' 'NR > 1 && $1 != "none"' "$RAW" | wc -l)
cap_full=$(awk -F'\t' 'NR > 1 && $1 != "none" && $8 == "full"' "$RAW" | wc -l)
if [ "$cap_full" -eq "$cap_cells" ]; then
	ALLFULL=1
	TITLE="the rate the sending vCPU reached, with each receive path's cost on that vCPU"
	WHAT="rate the sending vCPU reached"
else
	ALLFULL=0
	TITLE="the rate reached at full speed where nothing was lost, the loss-free rate where frames were lost (*)"
	WHAT="rate reached, or loss-free rate (*)"
fi
{
echo "# Figure 5 reproduced: $TITLE"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); command: \`bench/fig5/run.sh${ARGS:+ $ARGS}\` ($secs s)"
echo "- VM: Debian's $KVER under qemu TCG (no KVM), 2 vCPUs, 2 GiB; host: $(uname -r), $CPU ($(nproc) cores), shared with whatever else runs on it (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "- The generator sends from the module's tx ring, so the sending side builds no skb and makes no per-frame syscall: it stands in for the wire. zc0's driver then either writes each frame straight into the ring of the socket bound to zc1 (pfzc, tcpdump-zr), or builds an skb and hands it to the stack (the others, and none). **Both run on the sender's vCPU** (vCPU 0), as on veth: a costlier receive path shows as a lower rate reached."
echo "- pair: \`insmod pf_zerocopy.ko pairs=1\` (zc0 ↔ zc1). Generator: \`taskset -c 0 zcap-gen --backend pfzc -q -i zc0 --dst-mac 02:00:00:00:00:01 -d $FULL|-c N -s SIZE|--random-sizes [-r PPS]\`; capturer on zc1, vCPU 1:"
echo "  - none: no capturer; the stack drops each frame (not for this host): the receive path with nothing capturing beside it"
echo "  - pfzc: \`zcap --backend pfzc -i zc1 -q -w /dev/null\`: the driver copies each frame straight into zcap's ring (no skb, no stack); a pcap record per frame, written to /dev/null"
echo "  - pcap: \`bench/pcap_count zc1\` (pcap_dispatch loop, libpcap defaults: 2 MiB TPACKET_V3 ring) through the stack; counts only"
echo "  - tcpdump: \`tcpdump -Z root -n -i zc1 -w /dev/null\` through the stack (2 MiB ring); a pcap record per frame, written to /dev/null"
echo "  - tcpdump-zr: \`ZCAP_RUN_BACKEND=pfzc zcap-run tcpdump -Z root -n -i zc1 -w /dev/null\`: the same unchanged tcpdump, its live capture through libzcap-pcap.so (LD_PRELOAD) on the pfzc backend: the driver copies each frame straight into zcap-run's default 8 MiB ring (no skb, no stack), tcpdump's callback gets it in place; a pcap record per frame, written to /dev/null. Every start checked to have taken pfzc (ZCAP_RUN_VERBOSE)"
echo "  - tpacket: \`zcap --backend tpacket -i zc1 -q -w /dev/null\` (128 MiB TPACKET_V3 ring) through the stack; a pcap record per frame, written to /dev/null"
echo "- Each run of a cell: $FULL s at full speed. **Rate = frames that reached zc1 (rx_packets + rx_dropped) / the generator's seconds**; lost = those frames − what the capturer counted; every capturer is stopped $WAIT s after the generator ends. If nothing was lost, that rate is the run's, and it is not a loss-free rate: the sending vCPU, which also did the receive work, could go no faster. If frames were lost, a binary search on the rates reached ($STEPS steps of ${SECS} s) gives the highest loss-free rate (marked *; steps in \`fig5_steps.txt\`). Median (min–max) of $RUNS runs, in kpps, and Mb/s of frame bytes."
echo "- **TCG emulates every instruction: absolute rates are tens of times below real hardware. Only the ratios between capturers, measured in the same VM and the same run, mean anything.**"
echo
if [ "$ALLFULL" = 1 ]; then
	echo "**No loss-free rate was found: in all $cap_cells runs of a capturer (every capturer, size and run) nothing was lost at full speed.** Every figure below is the rate the sending vCPU reached while it also did that receive path's work. The ratios compare what each receive path costs that vCPU per frame; they are not ratios of the rates at which capturers start to lose."
else
	echo "In $cap_full of $cap_cells runs of a capturer nothing was lost at full speed: their rate is the one the sending vCPU reached. Cells marked * include runs whose rate is the loss-free rate of a search."
fi
echo
echo "| size | none (no capturer) | pfzc (driver path) | libpcap loop | tcpdump | tcpdump (zcap-run) | zcap tpacket | pfzc ÷ libpcap | pfzc ÷ tcpdump | pfzc ÷ tpacket | tcpdump-zr ÷ tcpdump |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
echo "| | $WHAT, kpps · Mb/s | | | | | | ratios of the medians | | | |"
for s in $SIZES; do
	echo "| $s | $(cell none "$s") | $(cell pfzc "$s") | $(cell pcap "$s") | $(cell tcpdump "$s") | $(cell tcpdump-zr "$s") | $(cell tpacket "$s") | $(ratio "$(val pfzc "$s")" "$(val pcap "$s")") | $(ratio "$(val pfzc "$s")" "$(val tcpdump "$s")") | $(ratio "$(val pfzc "$s")" "$(val tpacket "$s")") | $(ratio "$(val tcpdump-zr "$s")" "$(val tcpdump "$s")") |"
done
echo
echo "\"none\" is the receive path with no capturer beside it: the driver builds an skb and the stack drops it. A capturer through the stack adds its work to that; pfzc and tcpdump-zr build no skb at all."
# where a stack capturer's runs all came out above every run with none
above=$(for s in $SIZES; do
	nmax=$(val none "$s" 6)
	for c in pcap tcpdump tpacket; do
		cmin=$(val "$c" "$s" 5)
		[ -n "$nmax" ] && [ -n "$cmin" ] && awk -v a="$cmin" -v b="$nmax" 'BEGIN { exit !(a > b) }' && printf ' %s:%s' "$s" "$c"
	done
done)
if [ -n "$above" ]; then
	echo "Yet in this run, at$above (size:capturer), every run of a capturer through the stack reached a higher rate than every run with none: with no capturer this VM's sender was slower, so \"none\" is not an upper bound there. This run does not measure why."
fi
echo
echo "Goal (the paper's): at 64 bytes the zero-copy path reaches at least 4× libpcap's loss-free rate; from 256 bytes up it is not lower than the other two."
[ "$ALLFULL" = 1 ] && echo "No loss-free rate was found, so the goal is checked on the rate the sending vCPU reached, not on a loss-free rate:"
echo
r64=$(val pfzc 64) p64=$(val pcap 64)
if [ -n "$r64" ] && [ -n "$p64" ]; then
	awk -v a="$r64" -v b="$p64" -v w="$WHAT" 'BEGIN { r = b > 0 ? a / b : 0; printf "- 64 bytes, %s: pfzc ÷ libpcap = %.2f× — %s.\n", w, r, (r >= 4 ? "**met** on that measure" : "**missed**") }'
fi
low= compared=0
for s in $SIZES; do
	case "$s" in 64|128) continue ;; esac
	compared=1
	z=$(val pfzc "$s")
	for c in pcap tcpdump; do
		o=$(val "$c" "$s")
		[ -n "$z" ] && [ -n "$o" ] && awk -v a="$z" -v b="$o" 'BEGIN { exit !(a < b) }' && low="$low $s:$c"
	done
done
if [ $compared = 0 ]; then echo "- 256 bytes and up: not measured in this run."
elif [ -z "$low" ]; then echo "- 256 bytes and up, $WHAT: pfzc is not lower than libpcap or tcpdump at any size — **met** on that measure."
else echo "- 256 bytes and up, $WHAT: pfzc is lower at$low — **missed** there."; fi
echo
echo "Goal (issue 12): at 64 bytes an unchanged tcpdump under zcap-run reaches at least 4× plain tcpdump's loss-free rate, as the paper claims for its modified libpcap."
echo
zr64=$(val tcpdump-zr 64) td64=$(val tcpdump 64)
if [ -n "$zr64" ] && [ -n "$td64" ]; then
	# what a cell's median is: kind_of CAP SIZE
	kind_of() {
		awk -F'\t' -v c="$1" -v s="$2" '$1 == c && $2 == s {
			if ($8 == $3) printf "nothing lost at full speed in every one of its %d runs, so the rate the sending vCPU reached (a loss-free rate is at least that, and this VM offered no more through that receive path)", $3
			else if ($8 == 0 && $4 == 0) printf "frames lost at full speed and at every rate the search tried: no loss-free rate found"
			else if ($8 == 0) printf "frames lost at full speed in every one of its %d runs, so the loss-free rate the search found", $3
			else printf "nothing lost at full speed in %d of %d runs (their rate reached), the loss-free rate of a search in the others", $8, $3 }' "$SUM"
	}
	echo "- tcpdump (zcap-run), 64 bytes: $(awk -v x="$zr64" 'BEGIN { printf "%.1f", x / 1000 }') kpps: $(kind_of tcpdump-zr 64)."
	echo "- tcpdump (through the stack), 64 bytes: $(awk -v x="$td64" 'BEGIN { printf "%.1f", x / 1000 }') kpps: $(kind_of tcpdump 64)."
	zr_full=$(val tcpdump-zr 64 8) zr_runs=$(val tcpdump-zr 64 3)
	td_full=$(val tcpdump 64 8) td_runs=$(val tcpdump 64 3)
	if [ "$zr_full" = "$zr_runs" ] && [ "$td_full" = "$td_runs" ]; then
		on="on the rates reached (neither lost anything at full speed, so neither's loss-free rate was found: the ratio is what the two receive paths cost the sending vCPU per frame)"
	elif [ "$td_full" = "$td_runs" ]; then
		on="tcpdump-zr's loss-free rate against the rate plain tcpdump reached with no loss"
	else
		on="on the medians above, whose kinds are as said"
	fi
	awk -v a="$zr64" -v b="$td64" -v on="$on" 'BEGIN { if (b <= 0) { print "- tcpdump-zr ÷ tcpdump at 64 bytes: **not evaluated**, plain tcpdump has no rate to compare with in this run."; exit }
		r = a / b; printf "- tcpdump-zr ÷ tcpdump at 64 bytes = %.2f× — %s, %s.\n", r, (r >= 4 ? "**met**" : "**missed**"), on }'
else
	echo "- 64 bytes with tcpdump and tcpdump-zr: not measured in this run."
fi
echo
echo "Raw runs: \`fig5_raw.tsv\` (kind: full = nothing lost at full speed, search = the loss-free rate of a search, none = no loss-free step); medians: \`fig5.tsv\`."
} >"$MD"

# plot: the rate by size, one bar per capturer
if command -v gnuplot >/dev/null; then
	DAT="$OUT/fig5_plot.dat"
	{
		echo "size $CAPS"
		for s in $SIZES; do
			printf '%s' "$s"
			for c in $CAPS; do v=$(val "$c" "$s"); printf ' %s' "$(awk -v x="${v:-0}" 'BEGIN { printf "%.2f", x / 1000 }')"; done
			echo
		done
	} >"$DAT"
	ncap=$(echo "$CAPS" | wc -w)
	if [ "$ALLFULL" = 1 ]; then
		PT="Rate the sending vCPU reached with each receive path's cost on it (no loss at full speed: no loss-free rate found)"
	else
		PT="Rate reached at full speed, or loss-free rate where frames were lost (see fig5.md)"
	fi
	gnuplot <<GPEOF 2>"$TMPD/gnuplot.log"
set terminal pngcairo size 1000,540 noenhanced
set output "$OUT/fig5.png"
set title "$PT\npf_zerocopy's virtual pair in qemu TCG, $(date -u +%Y-%m-%d): compare ratios only"
set ylabel "kpps reached at zc1 (median of $RUNS)"
set xlabel "frame size (bytes)"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set key top right
set grid ytics
plot for [i=2:$((ncap + 1))] "$DAT" using i:xtic(1) title columnheader(i)
GPEOF
	if [ -s "$OUT/fig5.png" ]; then ok "fig5.png written"; else not_ok "fig5.png written"; cat "$TMPD/gnuplot.log"; fi
fi
if [ -s "$MD" ]; then ok "fig5.md written"; else not_ok "fig5.md written"; fi
[ $SMOKE = 1 ] || echo "# results in $OUT/fig5.md"
finish
