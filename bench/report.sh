#!/bin/bash
# report.sh RESDIR DD_MBS DD_MB SECONDS COMMAND GEN_CPU CAP_CPU XDP_NOTE
# Turns raw.tsv, lossfree.tsv and disk.tsv into results.md and PNG plots.
set -u
RES=$1 DD_MBS=$2 DD_MB=$3 SECS=$4 CMD=$5 GEN_CPU=$6 CAP_CPU=$7 XDP_NOTE=${8:-}
cd "$RES" || exit 1

# stats FILE: per cap,size -> median/min/max of columns offered(6) rx(7)
# captured(9) loss(10) cpu(11), plus overhead = cpu - median(none same size)
stats() {
	awk -F'\t' '
	function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
	function med(a, n) { sort(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
	BEGIN { split("6 7 9 10 11 12", cols, " ") }
	NR == 1 { next }
	{ k = $1 SUBSEP $2; if (!(k in n)) { order[++nk] = k }; i = ++n[k]
	  for (c = 6; c <= 11; c++) v[k, c, i] = $c }
	END {
		# none baseline per size
		for (q = 1; q <= nk; q++) { k = order[q]; split(k, kk, SUBSEP)
			if (kk[1] == "none") { for (i = 1; i <= n[k]; i++) a[i] = v[k, 11, i]; base[kk[2]] = med(a, n[k]) } }
		for (q = 1; q <= nk; q++) { k = order[q]; split(k, kk, SUBSEP); printf "%s\t%s\t%d", kk[1], kk[2], n[k]
			for (g = 1; g <= 6; g++) { c = cols[g]
				for (i = 1; i <= n[k]; i++) a[i] = (c == 12) ? ((kk[2] in base) ? v[k, 11, i] - base[kk[2]] : 0) : v[k, c, i]
				m = med(a, n[k]); printf "\t%g\t%g\t%g", m, a[1], a[n[k]] }
			printf "\n" } }' "$1"
}
stats raw.tsv >summary.tsv
[ -s disk.tsv ] && stats disk.tsv >disk_summary.tsv

range() { awk -v m="$1" -v lo="$2" -v hi="$3" -v f="$4" 'BEGIN { if (lo == hi) printf f, m; else printf f " (" f "–" f ")", m, lo, hi }'; }
kpps() { awk -v x="$1" 'BEGIN { printf "%.0f", x / 1000 }'; }

CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
echo "# zcap capture benchmark"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); kernel: $(uname -r); CPU: $CPU ($(nproc) cores); memory: $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "- command: \`$CMD\` ($SECS s of measurement)"
echo "- testbed: \`scripts/testbed.sh up NAME\` (veth between two namespaces); generator \`taskset -c $GEN_CPU build/zcap-gen -q -i NAME-g --dst-mac 02:00:00:00:00:01 -c COUNT -s SIZE|--random-sizes --seed RUN [-r PPS]\`; capturer on CPU $CAP_CPU:"
echo "  - zcap: \`zcap -i NAME-c -w /dev/null\` (backend tpacket, 128 MiB ring; the pfzc module backend runs only in the VM and is not benchmarked here)"
echo "  - zcapxdp: \`zcap --backend xdp -i NAME-c -w /dev/null\` (AF_XDP; copy mode, the only one veth has)"
echo "  - tcpdump: \`tcpdump -Z root -n -i NAME-c -w /dev/null\` (default 2 MiB ring)"
echo "  - pcap: \`bench/pcap_count NAME-c\` (pcap_dispatch counting loop, libpcap defaults)"
echo "  - netsniff: \`netsniff-ng --in NAME-c --out /dev/shm/…/ns.pcap --silent -A -b CPU\` (it captures nothing with \`--out /dev/null\`, so it writes to tmpfs)"
echo "  - xdp: \`ip link set dev NAME-c xdp obj xdp_drop.o sec xdp\` (XDP_DROP; captured = ethtool xdp_drops)${XDP_NOTE:+ — skipped: $XDP_NOTE}"
echo "  - none: no capturer (captured = the veth's rx_packets)"
echo "- offered = generator's sent / its seconds; rx = capture veth rx_packets / same seconds; captured = the capturer's own count / same seconds; loss = (sent − captured) / sent."
echo "- CPU ns/pkt = whole-machine busy time (user+nice+system+irq+softirq from /proc/stat, 10 ms ticks) from the generator's start to 0.3 s after its end, / sent. Overhead = that minus the no-capturer median at the same size. On veth the receive work runs on the sender's core, so capture cost also shows as a lower offered rate."
echo "- Cells: median (min–max) over the runs (n). The two cores are shared with whatever else the machine runs."
echo
echo "## Capture at full speed (to /dev/null)"
echo
echo "| capturer | size | n | offered kpps | rx kpps | captured kpps | loss % | CPU ns/pkt | overhead ns/pkt |"
echo "|---|---|---|---|---|---|---|---|---|"
while IFS=$'\t' read -r cap size n o1 o2 o3 r1 r2 r3 c1 c2 c3 l1 l2 l3 p1 p2 p3 h1 h2 h3; do
	echo "| $cap | $size | $n | $(range "$(kpps "$o1")" "$(kpps "$o2")" "$(kpps "$o3")" %s) | $(kpps "$r1") | $(range "$(kpps "$c1")" "$(kpps "$c2")" "$(kpps "$c3")" %s) | $(range "$l1" "$l2" "$l3" %.2f) | $(range "$p1" "$p2" "$p3" %.0f) | $(range "$h1" "$h2" "$h3" %.0f) |"
done < <(sort -t$'\t' -k2,2 -s summary.tsv | awk -F'\t' 'BEGIN { split("zcap zcapxdp tcpdump pcap netsniff xdp none", o, " "); for (i in o) r[o[i]] = i } { print r[$1] "\t" $0 }' | sort -t$'\t' -k3,3V -k1,1n | cut -f2-)
echo
if [ -s lossfree.tsv ] && [ "$(wc -l <lossfree.tsv)" -gt 1 ]; then
	echo "## Loss-free rate"
	echo
	echo "Highest \`-r PPS\` with zero loss in one short run (binary search between 0 and the full-speed rate); xdp and none lose nothing by construction."
	echo
	echo "| capturer | size | loss-free kpps | full-speed kpps | how |"
	echo "|---|---|---|---|---|"
	tail -n +2 lossfree.tsv | while IFS=$'\t' read -r cap size lf full note; do
		echo "| $cap | $size | $(kpps "$lf") | $(kpps "$full") | $note |"
	done
	echo
fi
if [ -s disk_summary.tsv ]; then
	echo "## To disk"
	echo
	echo "zcap \`-w FILE.pcapng\` and tcpdump \`-w FILE.pcap\` in $RES/tmp (deleted after each run); the run waits until the file stops growing before SIGINT. Disk sequential write: **${DD_MBS:-?} MB/s** (\`dd if=/dev/zero of=FILE bs=1M count=$DD_MB oflag=direct\`, same run)."
	echo
	echo "| capturer | size | n | offered kpps | offered MB/s | captured kpps | loss % |"
	echo "|---|---|---|---|---|---|---|"
	while IFS=$'\t' read -r cap size n o1 o2 o3 r1 r2 r3 c1 c2 c3 l1 l2 l3 rest; do
		mbs=$(awk -F'\t' -v c="$cap" -v s="$size" '$1 == c && $2 == s { t += $12; k++ } END { printf "%.0f", t / k / 8 }' disk.tsv)
		echo "| $cap | $size | $n | $(range "$(kpps "$o1")" "$(kpps "$o2")" "$(kpps "$o3")" %s) | $mbs | $(range "$(kpps "$c1")" "$(kpps "$c2")" "$(kpps "$c3")" %s) | $(range "$l1" "$l2" "$l3" %.2f) |"
	done <disk_summary.tsv
	echo
fi
echo "## Goals (computed from the medians above)"
echo
awk -F'\t' '
	{ off[$1, $2] = $4; loss[$1, $2] = $13; ovh[$1, $2] = $19; caps[$1] = 1; if (!($2 in sz)) { sz[$2] = 1; sl[++ns] = $2 } }
	END {
		if (!("zcap" in caps)) exit
		for (i = 1; i <= ns; i++) { s = sl[i]
			printf "- zcap 0 %% loss at full speed, size %s: median %.2f %% — %s\n", s, loss["zcap", s], (loss["zcap", s] == 0) ? "**met**" : "**missed**"
			if (("xdp", s) in off) printf "- offered with zcap ≥ 0.9× XDP_DROP ceiling, size %s: %.0f / %.0f kpps = %.2f× — %s\n", s, off["zcap", s] / 1000, off["xdp", s] / 1000, off["zcap", s] / off["xdp", s], (off["zcap", s] >= 0.9 * off["xdp", s]) ? "**met**" : "**missed**"
			if (("pcap", s) in ovh) printf "- zcap overhead ≤ 1/4 of libpcap'"'"'s, size %s: %.0f vs %.0f ns/pkt — %s\n", s, ovh["zcap", s], ovh["pcap", s], (ovh["zcap", s] <= ovh["pcap", s] / 4) ? "**met**" : "**missed**"
		}
	}' summary.tsv
} >results.md

# --- plots --------------------------------------------------------------------
command -v gnuplot >/dev/null || exit 0
# loss by size per capturer: rows = sizes, columns = capturers
caps=$(cut -f1 summary.tsv | awk '!s[$0]++' | grep -v -e '^none$' -e '^xdp$' | tr '\n' ' ')
sizes=$(cut -f2 summary.tsv | awk '!s[$0]++' | tr '\n' ' ')
mat() {	# COL CAPS -> matrix rows=size, columns=caps
	col=$1; shift
	echo "size $*"
	for s in $sizes; do
		printf '%s' "$s"
		for c in "$@"; do printf ' %s' "$(awk -F'\t' -v c="$c" -v s="$s" -v k="$col" '$1 == c && $2 == s { v = $k } END { print v == "" ? "?" : v }' summary.tsv)"; done
		echo
	done
}
# shellcheck disable=SC2086
mat 13 $caps >plot_loss.dat
# shellcheck disable=SC2086
mat 19 $(cut -f1 summary.tsv | awk '!s[$0]++' | grep -v '^none$' | tr '\n' ' ') >plot_overhead.dat
{
	echo "cap 64 1518"
	tail -n +2 lossfree.tsv 2>/dev/null | awk -F'\t' '{ v[$1, $2] = $3 / 1000; if (!($1 in s)) { s[$1] = 1; o[++n] = $1 } } END { for (i = 1; i <= n; i++) printf "%s %s %s\n", o[i], ((o[i], 64) in v) ? v[o[i], 64] : "?", ((o[i], 1518) in v) ? v[o[i], 1518] : "?" }'
} >plot_lossfree.dat
ncol() { head -1 "$1" | wc -w; }
plot() {	# DAT PNG TITLE YLABEL
	gnuplot <<GP 2>/dev/null
set terminal pngcairo size 900,500
set output "$2"
set title "$3"
set ylabel "$4"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top left autotitle columnhead
set yrange [0:*]
set grid ytics
set datafile missing "?"
plot for [i=2:$(ncol "$1")] "$1" using i:xtic(1)
GP
}
plot plot_loss.dat loss_by_size.png "Loss at full speed, by frame size (median)" "loss %"
plot plot_overhead.dat overhead.png "Capture overhead: whole-machine CPU per packet minus no capturer (median)" "ns per packet"
[ "$(wc -l <plot_lossfree.dat)" -gt 1 ] && plot plot_lossfree.dat lossfree.png "Loss-free rate (binary search on zcap-gen -r)" "kpps"
exit 0
