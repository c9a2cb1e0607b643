#!/bin/bash
# report.sh RESDIR: turns raw.tsv, search.tsv, lossfree.tsv, busy.tsv,
# disk.tsv and tx.tsv into results.md, tx.md and PNG plots. bench/run.sh writes them and
# run.env (the run's date, command, conditions and settings) into RESDIR and
# then calls this; run again on a results directory, it makes the same
# reports from those files alone.
set -u
RES=$1
cd "$RES" || exit 1
[ -f run.env ] || { echo "report.sh: no run.env in $RES" >&2; exit 1; }
# shellcheck disable=SC1091
. ./run.env
ORDER="zcap zcap-pace zcap-slow zcap-slow-pace zcap-count tpv3 tpv3-touch zcap-2m zcapxdp tcpdump tcpdump-128m tcpdump-zr tcpdump-zr-128m pcap pcap-128m netsniff xdp none"

# what each row does per packet, and with which ring
does() {
	case "$1" in
	zcap|zcap-2m|zcapxdp|tcpdump|tcpdump-128m|tcpdump-zr|tcpdump-zr-128m)
		echo "pcap record, written to /dev/null" ;;
	zcap-count|pcap|pcap-128m|tpv3) echo "count only" ;;
	tpv3-touch) echo "reads every byte" ;;
	netsniff) echo "pcap record, written to a file on tmpfs (a memory copy)" ;;
	xdp) echo "dropped by an XDP program (goal 2's ceiling)" ;;
	none) echo "nothing: the stack drops it (the baseline)" ;;
	esac
}
# the ring zcap-run gave tcpdump-zr, from its ZCAP_RUN_VERBOSE line (run.env)
zr_ring() {
	case "${ZR_RING:-}" in
	''|'?') echo "ring size not recorded by this run" ;;
	*' '*) echo "rings of $ZR_RING bytes" ;;
	*) awk -v b="$ZR_RING" 'BEGIN { if (b % 1048576 == 0) printf "%d MiB\n", b / 1048576; else printf "%d bytes\n", b }' ;;
	esac
}
ring() {
	case "$1" in
	zcap|zcap-pace|zcap-slow|zcap-slow-pace|zcap-count) echo "128 MiB TPACKET_V3 (zcap's default)" ;;
	tpv3|tpv3-touch) echo "128 MiB TPACKET_V3 in 1 MiB blocks, no socket filter (zcap's ring)" ;;
	zcap-2m) echo "2 MiB TPACKET_V3 (\`-B 2048\`)" ;;
	zcapxdp) echo "AF_XDP umem (copy mode)" ;;
	tcpdump|pcap) echo "2 MiB TPACKET_V3 (libpcap's default)" ;;
	tcpdump-128m|pcap-128m) echo "128 MiB TPACKET_V3 (zcap's size)" ;;
	tcpdump-zr) echo "$(zr_ring) (zcap-run's default), libzcap backend ${ZR_BACKEND:-?}" ;;
	tcpdump-zr-128m) echo "128 MiB (\`-B 131072\`, zcap's size), libzcap backend ${ZR_BACKEND:-?}" ;;
	netsniff) echo "netsniff-ng's default" ;;
	*) echo "–" ;;
	esac
}
command_of() {
	case "$1" in
	zcap) echo "zcap -i NAME-c -w /dev/null" ;;
	zcap-count) echo "bench/zcap_count NAME-c (libzcap's zcap_recv loop, backend auto)" ;;
	tpv3) echo "bench/tp_count NAME-c (a bare TPACKET_V3 reader: walks the blocks, counts)" ;;
	tpv3-touch) echo "bench/tp_count NAME-c --touch (the same, reading every byte of every packet)" ;;
	zcap-2m) echo "zcap -B 2048 -i NAME-c -w /dev/null" ;;
	zcapxdp) echo "zcap --backend xdp -i NAME-c -w /dev/null" ;;
	tcpdump) echo "tcpdump -Z root -n -i NAME-c -w /dev/null" ;;
	tcpdump-128m) echo "tcpdump -Z root -n -B 131072 -i NAME-c -w /dev/null" ;;
	tcpdump-zr) echo "ZCAP_RUN_VERBOSE=1 build/zcap-run tcpdump -Z root -n -i NAME-c -w /dev/null" ;;
	tcpdump-zr-128m) echo "ZCAP_RUN_VERBOSE=1 build/zcap-run tcpdump -Z root -n -B 131072 -i NAME-c -w /dev/null" ;;
	pcap) echo "bench/pcap_count NAME-c (pcap_dispatch loop)" ;;
	pcap-128m) echo "bench/pcap_count NAME-c 131072 (pcap_set_buffer_size)" ;;
	netsniff) echo "netsniff-ng --in NAME-c --out /dev/shm/…/ns.pcap --silent -A -b CPU" ;;
	xdp) echo "ip link set dev NAME-c xdp obj xdp_drop.o sec xdp${XDP_NOTE:+ (skipped: $XDP_NOTE)}" ;;
	none) echo "no capturer" ;;
	esac
}

MEDFN='function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t } }
	function med(a, n) { sort(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }'

# stats FILE: per cap,size -> n, median/min/max of offered_pps, captured_pps,
# loss_pct, cpu_ns_pkt, overhead (cpu - the no-capturer median, same size,
# same file), start_s, offered_mbs, capcpu (cap_cpu_ns_pkt), spin
# (busy_cpu_ns_pkt), dd (dd_mbs: the disk just before a to-disk run), wmbs
# (write_mbs: its rate to the disk); runs with loss; most frames sent but
# not received. Files from before those columns give 0 for them.
stats() {
	awk -F'\t' "$MEDFN"'
	NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
	{ k = $1 SUBSEP $2; if (!(k in n)) order[++nk] = k; i = ++n[k]
	  v[k, "offered", i] = $h["offered_pps"]; v[k, "captured", i] = $h["captured_pps"]
	  v[k, "loss", i] = $h["loss_pct"]; v[k, "cpu", i] = $h["cpu_ns_pkt"]
	  v[k, "start", i] = $h["start_s"]; v[k, "mbs", i] = $h["offered_mbs"]
	  v[k, "capcpu", i] = ("cap_cpu_ns_pkt" in h) ? $h["cap_cpu_ns_pkt"] : 0
	  v[k, "spin", i] = ("busy_cpu_ns_pkt" in h) ? $h["busy_cpu_ns_pkt"] : 0
	  v[k, "dd", i] = ("dd_mbs" in h) ? $h["dd_mbs"] : 0
	  v[k, "wmbs", i] = ("write_mbs" in h) ? $h["write_mbs"] : 0
	  if ($h["loss_pct"] > 0) lossy[k]++
	  d = $h["sent"] - $h["rx"]; if (d > nr[k]) nr[k] = d }
	END {
		nf = split("offered captured loss cpu overhead start mbs capcpu spin dd wmbs", F, " ")
		for (q = 1; q <= nk; q++) { k = order[q]; split(k, kk, SUBSEP)
			if (kk[1] == "none") { for (i = 1; i <= n[k]; i++) a[i] = v[k, "cpu", i]; base[kk[2]] = med(a, n[k]) } }
		printf "cap\tsize\tn"
		for (g = 1; g <= nf; g++) printf "\t%s\t%s_min\t%s_max", F[g], F[g], F[g]
		printf "\tlossy_runs\tnot_received_max\n"
		for (q = 1; q <= nk; q++) { k = order[q]; split(k, kk, SUBSEP); printf "%s\t%s\t%d", kk[1], kk[2], n[k]
			for (g = 1; g <= nf; g++) { f = F[g]
				for (i = 1; i <= n[k]; i++) a[i] = (f == "overhead") ? ((kk[2] in base) ? v[k, "cpu", i] - base[kk[2]] : 0) : v[k, f, i]
				m = med(a, n[k]); printf "\t%.10g\t%.10g\t%.10g", m, a[1], a[n[k]] }
			printf "\t%d\t%d\n", lossy[k], nr[k] } }' "$1"
}
# sv FILE CAP SIZE FIELD: one value of a summary
sv() {
	awk -F'\t' -v c="$2" -v s="$3" -v f="$4" 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		$1 == c && $2 == s { print $h[f]; exit }' "$1"
}
range() { awk -v m="$1" -v lo="$2" -v hi="$3" -v f="$4" 'BEGIN { if (lo == hi) printf f, m; else printf f " (" f "–" f ")", m, lo, hi }'; }
kpps() { awk -v x="$1" 'BEGIN { printf "%.0f", x / 1000 }'; }
# cellr FILE CAP SIZE FIELD FORMAT [DIVISOR]: "median (min–max)"
cellr() {
	awk -F'\t' -v c="$2" -v s="$3" -v f="$4" -v fmt="$5" -v d="${6:-1}" '
		NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		$1 == c && $2 == s { m = $h[f] / d; lo = $h[f "_min"] / d; hi = $h[f "_max"] / d
			if (sprintf(fmt, lo) == sprintf(fmt, hi)) printf fmt, m
			else printf fmt " (" fmt "–" fmt ")", m, lo, hi; exit }' "$1"
}
# ratio A B: A ÷ B, or "–" when either is missing or not positive (an
# overhead at or below 0 is within the noise: no ratio means anything)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a + 0 <= 0 || b + 0 <= 0) print "–"; else printf "%.2f×", a / b }'; }
# in ORDER, the caps present in a summary, then any other
caps_in() {
	for c in $ORDER; do cut -f1 "$1" | grep -qx -- "$c" && echo "$c"; done
	cut -f1 "$1" | tail -n +2 | awk '!s[$0]++' | while read -r c; do
		case " $ORDER " in *" $c "*) ;; *) echo "$c" ;; esac
	done
}
sizes_in() { cut -f2 "$1" | tail -n +2 | awk '!s[$0]++'; }

header() {	# TITLE
	echo "# $1"
	echo
	echo "- date: $DATE (end of the measurements); kernel: $KERNEL; CPU: $CPU_MODEL ($NPROC cores); memory: $MEM"
	echo "- command: \`$CMD\` ($SECS s for the whole run)"
	echo "- conditions: load average (1, 5, 15 min) $LOADS from start to end; steal time over the run ${STEAL_MS} ms. The machine's two cores are shared with whatever else runs on it: compare rows within this file, not with other runs."
}

have_raw=0 have_disk=0 have_busy=0
[ -s raw.tsv ] && [ "$(wc -l <raw.tsv)" -gt 1 ] && have_raw=1
[ -s disk.tsv ] && [ "$(wc -l <disk.tsv)" -gt 1 ] && have_disk=1
[ -s busy.tsv ] && [ "$(wc -l <busy.tsv)" -gt 1 ] && have_busy=1
rm -f summary.tsv disk_summary.tsv busy_summary.tsv
[ $have_raw = 1 ] && stats raw.tsv >summary.tsv
[ $have_disk = 1 ] && stats disk.tsv >disk_summary.tsv
[ $have_busy = 1 ] && stats busy.tsv >busy_summary.tsv
# issue 12's runs at one rate (run.sh section 3b), quiet and busy
have_sr=0
rm -f samerate_summary.tsv samerate_busy_summary.tsv
for f in samerate samerate_busy; do
	[ -s $f.tsv ] && [ "$(wc -l <$f.tsv)" -gt 1 ] || continue
	stats $f.tsv >${f}_summary.tsv
	have_sr=1
done

# --- tx.md ----------------------------------------------------------------------
if [ -s tx.tsv ] && [ "$(wc -l <tx.tsv)" -gt 1 ]; then
{
	header "zcap-gen transmit rate per backend"
	echo "- testbed: \`scripts/testbed.sh up NAME\` (veth between two namespaces), nothing capturing. Each run: \`taskset -c $GEN_CPU build/zcap-gen -q --backend B -i NAME-g --dst-mac 02:00:00:00:00:01 -c $TX_COUNT -s SIZE\`; the backends interleaved within each size and round, $TX_RUNS rounds."
	echo "- sent kpps: zcap-gen's sent / its seconds. reached kpps: the capture veth's rx_packets (/proc/net/dev in its namespace, read $CPU_WIN s after the generator ends) / the same seconds: what got through. On veth the peer's receive path runs on the sender's core, so both include it."
	echo "- if_tx_dropped: frames the interface took and then dropped (veth's peer backlog full); zcap-gen counts them as sent. retries: frames refused and sent again (tpacket, packet)."
	echo "- Cells: median (min–max) over the rounds."
	echo
	echo "| backend | size | n | sent kpps | reached kpps | if_tx_dropped (max) | retries (max) | fastest (reached) in |"
	echo "|---|---|---|---|---|---|---|---|"
	awk -F'\t' "$MEDFN"'
	NR == 1 { next }
	{ k = $1 SUBSEP $2; if (!(k in n)) order[++nk] = k; i = ++n[k]; g[k, i] = $6; r[k, i] = $8
	  if ($9 > d[k]) d[k] = $9; if ($10 > y[k]) y[k] = $10
	  if (!(($2, $3) in best) || $8 > best[$2, $3]) { best[$2, $3] = $8; who[$2, $3] = $1 }
	  rounds[$2, $3] = 1 }
	END {
		for (x in rounds) { split(x, xx, SUBSEP); wins[who[x], xx[1]]++; nr[xx[1]]++ }
		for (q = 1; q <= nk; q++) { k = order[q]; split(k, kk, SUBSEP)
			for (i = 1; i <= n[k]; i++) a[i] = g[k, i]; m1 = med(a, n[k]); lo1 = a[1]; hi1 = a[n[k]]
			for (i = 1; i <= n[k]; i++) a[i] = r[k, i]; m2 = med(a, n[k]); lo2 = a[1]; hi2 = a[n[k]]
			printf "| %s | %s | %d | %.0f (%.0f–%.0f) | %.0f (%.0f–%.0f) | %d | %d | %d of %d rounds |\n", kk[1], kk[2], n[k],
				m1 / 1000, lo1 / 1000, hi1 / 1000, m2 / 1000, lo2 / 1000, hi2 / 1000, d[k], y[k], wins[kk[1], kk[2]], nr[kk[2]] } }' tx.tsv
	echo
	echo "Raw runs: \`tx.tsv\`."
} >tx.md
fi

[ $have_raw = 1 ] || [ $have_disk = 1 ] || [ $have_busy = 1 ] || [ $have_sr = 1 ] || exit 0
# a cell of the capturer's own CPU: "–" for rows with no process (xdp, none)
capcell() {
	case "$2" in xdp|none) echo "–" ;; *) cellr "$1" "$2" "$3" capcpu %.0f ;; esac
}

# --- results.md -------------------------------------------------------------------
{
header "zcap capture benchmark"
echo "- testbed: \`scripts/testbed.sh up NAME\` (veth between two namespaces); generator \`taskset -c $GEN_CPU build/zcap-gen -q -i NAME-g --dst-mac 02:00:00:00:00:01 -c COUNT -s SIZE|--random-sizes --seed RUN [-r PPS]\` (backend auto: AF_XDP, copy mode on veth), $COUNT frames a run at full speed; capturer on CPU $CAP_CPU."
echo
echo "## Capturers"
echo
echo "| row | command | ring | per packet | start s |"
echo "|---|---|---|---|---|"
if [ $have_raw = 1 ] || [ $have_busy = 1 ]; then
	both=$(mktemp)
	{ [ $have_raw = 1 ] && cat summary.tsv; [ $have_busy = 1 ] && tail -n +2 busy_summary.tsv; } >"$both"
	for c in $(caps_in "$both"); do
		st=$(for f in raw.tsv busy.tsv; do [ -s $f ] && cat $f; done | awk -F'\t' -v c="$c" '$1 == "cap" { for (i = 1; i <= NF; i++) h[$i] = i; next } $1 == c { if ($h["start_s"] > m) m = $h["start_s"]; if (mn == "" || $h["start_s"] < mn) mn = $h["start_s"] } END { if (m + 0 == 0) print "–"; else printf "%.1f–%.1f", mn, m }')
		echo "| $c | \`$(command_of "$c")\` | $(ring "$c") | $(does "$c") | $st |"
	done
	rm -f "$both"
	echo
	echo "zcap's rows run backend tpacket (auto on veth: no AF_XDP zero copy); the pfzc module backend runs only in the VM (\`bench/fig5/\`). tcpdump-zr is the tcpdump row's command, unchanged, under \`zcap-run\`: every one of its runs checked, before the traffic, that the process had \`libzcap-pcap.so\` mapped (\`/proc/PID/maps\`) and that libzcap opened the handle (ZCAP_RUN_VERBOSE's \"capturing with libzcap, backend …\" line), and would have failed otherwise; backend taken: ${ZR_BACKEND:-?}. \"start s\": from the capturer's launch to its \"listening\" line, over every run (netsniff-ng first faults in its whole ring)."
	echo
fi
echo "## How it is measured"
echo
echo "- **offered kpps**: frames that reached the capture veth (its rx_packets in \`/proc/net/dev\` of its namespace) / the generator's seconds. Frames the generator counted as sent but veth refused are not offered: at most $( [ $have_raw = 1 ] && awk -F'\t' 'NR > 1 && $NF > m { m = $NF } END { print m + 0 }' summary.tsv || echo '?') in a run here (\`sent − rx\` in \`raw.tsv\`). On veth the receiver's work (the copy into a capture ring included) runs on the sender's core, so a costly capturer shows up as a lower offered rate, not only as loss."
echo "- **captured, loss %**: the capturer's own count; loss = (offered − captured) / offered. \"lost in\": the runs with any loss."
echo "- **One window for every run** (every capturer, and the to-disk runs): CPU time and the interface counters are read **$CPU_WIN s after the generator ends**; every capturer is stopped **$STOP_AFTER s after the generator ends** (tcpdump and netsniff-ng hand over a partly filled TPACKET_V3 block only when it retires, after 1 s; every row gets the same wait), the to-disk runs once their file has also stopped growing."
echo "- **CPU ns/pkt**: whole-machine busy time from \`/proc/stat\` (user+nice+system+irq+softirq, 10 ms ticks) from the generator's start to the end of that window, per frame offered; **overhead** = that minus the no-capturer median at the same size. It counts everything the machine did, other users' work included, so it can come out negative (that, tick resolution, and a slower sender spending less per frame); a ratio of overheads is given only when both are above 0."
echo "- **own CPU ns/pkt**: the capturer process's own CPU time (the scheduler's nanosecond count for each of its threads, \`/proc/PID/task/*/schedstat\`: \`/proc/PID/stat\`'s 10 ms ticks would be 10 ns a frame over a run, the size of the differences in question) from the generator's start until the capturer is stopped, per frame it captured: what the capturer itself spends on a packet, whatever else the machine does. It leaves out the kernel's work in the sender's softirq (the copy into the ring), which the whole-machine figure holds. \"–\": no capturer process (xdp, none)."
echo "- Cells: median (min–max) over the runs (n); capturers interleaved within each size and run, so drift hits them alike, their order rotated by one each run so no capturer always has the same place. Raw runs: \`raw.tsv\`."
echo
if [ $have_raw = 1 ]; then
echo "## Capture at full speed (to /dev/null)"
echo
echo "| capturer | per packet | size | n | offered kpps | captured kpps | loss % | lost in | CPU ns/pkt | overhead ns/pkt | own CPU ns/pkt |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for s in $(sizes_in summary.tsv); do
	for c in $(caps_in summary.tsv); do
		n=$(sv summary.tsv "$c" "$s" n)
		[ -n "$n" ] || continue
		echo "| $c | $(does "$c") | $s | $n | $(cellr summary.tsv "$c" "$s" offered %.0f 1000) | $(cellr summary.tsv "$c" "$s" captured %.0f 1000) | $(cellr summary.tsv "$c" "$s" loss %.2f) | $(sv summary.tsv "$c" "$s" lossy_runs) of $n | $(cellr summary.tsv "$c" "$s" cpu %.0f) | $(cellr summary.tsv "$c" "$s" overhead %.0f) | $(capcell summary.tsv "$c" "$s") |"
	done
done
echo
fi
if [ $have_busy = 1 ]; then
echo "## With a busy loop on the capture core (to /dev/null)"
echo
echo "The same runs as above (same generator, window and stop), for the rows below, with one more process: a shell spin (\`sh -c 'while :; do :; done'\`, nice ${BUSY_NICE:-?}, as the capturers) pinned with \`taskset -c $CAP_CPU\` to the capture core, started before the capturer and stopped after it in every run. Each run checked that the spin was pinned there and ran in its window (else the run failed). The developers' guide: loss comes from scheduling, not from bandwidth."
echo
echo "- **CPU ns/pkt** here: the whole machine's busy time, as above, **minus the spin's own CPU time over the same window** (its schedstat, as for own CPU below), per frame offered; the spin's share is in its own column. With the spin the capture core is never idle, so the machine's figure without that subtraction would be about one core's time whatever the capturer does. **overhead**: that minus the no-capturer median of this section (the spin running too). **own CPU ns/pkt**: as above, the capturer's own CPU per frame it captured; it does not depend on the spin's time, and is the per-packet cost that compares most directly between the quiet and the busy runs."
echo "- Raw runs: \`busy.tsv\` (the columns of \`raw.tsv\`)."
echo
echo "| capturer | per packet | size | n | offered kpps | captured kpps | loss % | lost in | CPU ns/pkt | overhead ns/pkt | own CPU ns/pkt | spin's CPU ns/pkt |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for s in $(sizes_in busy_summary.tsv); do
	for c in $(caps_in busy_summary.tsv); do
		n=$(sv busy_summary.tsv "$c" "$s" n)
		[ -n "$n" ] || continue
		echo "| $c | $(does "$c") | $s | $n | $(cellr busy_summary.tsv "$c" "$s" offered %.0f 1000) | $(cellr busy_summary.tsv "$c" "$s" captured %.0f 1000) | $(cellr busy_summary.tsv "$c" "$s" loss %.2f) | $(sv busy_summary.tsv "$c" "$s" lossy_runs) of $n | $(cellr busy_summary.tsv "$c" "$s" cpu %.0f) | $(cellr busy_summary.tsv "$c" "$s" overhead %.0f) | $(capcell busy_summary.tsv "$c" "$s") | $(cellr busy_summary.tsv "$c" "$s" spin %.0f) |"
	done
done
echo
fi
if [ -s lossfree.tsv ] && [ "$(wc -l <lossfree.tsv)" -gt 1 ]; then
	echo "## Loss-free rate"
	echo
	echo "A **step** is $TRIALS runs at one rate (step 0: the full-speed runs above); its rate is the median of the rates **reached** (offered, as above), its loss the median of the runs' losses, and it is loss-free when that median is 0 (the runs that lost anyway are shown). Where step 0 lost, a search on the rates reached: the next rate asked is halfway between the highest loss-free rate reached and the lowest lossy one, ${SEARCH_SECS} s of traffic a run, at most $SEARCH_STEPS steps. The loss-free rate is the highest loss-free step's rate below every lossy step's rate. Every run of every step is in \`search.tsv\`. xdp and none lose nothing by construction."
	echo
	echo "**Where nothing was lost at full speed** (\"no loss at full speed\" below), **the figure is not a loss-free rate found by a search but the rate the sender reached** with that capturer's cost on its core (veth runs the receive path on the sender's core): the capturer would lose nothing up to at least that rate, and how much higher it could go is not measured here. Ratios below say which figures are of that kind (\"full speed\")."
	echo
	echo "| capturer | size | loss-free kpps | full-speed kpps | how | steps: asked → reached kpps (runs that lost) |"
	echo "|---|---|---|---|---|---|"
	tail -n +2 lossfree.tsv | while IFS=$'\t' read -r cap size lf full _ note; do
		steps=$(awk -F'\t' -v c="$cap" -v s="$size" "$MEDFN"'
			$1 == c && $2 == s { p = $3; if (!(p in n)) np++; i = ++n[p]; r[p, i] = $10; l[p, i] = $13; if ($13 > 0) k[p]++; q[p] = $5 }
			END { for (p = 0; p < np; p++) { for (i = 1; i <= n[p]; i++) { a[i] = r[p, i]; b[i] = l[p, i] }
				sep = p ? "; " : ""; asked = p ? sprintf("%.0f", q[p] / 1000) : "full"
				mr = med(a, n[p]); ml = med(b, n[p]); mark = (ml > 0) ? "✗" : "✓"
				printf "%s%s → %.0f %s (%d/%d)", sep, asked, mr / 1000, mark, k[p], n[p] } }' search.tsv)
		lfs=$(kpps "$lf"); [ "$lf" = 0 ] && lfs="none found"
		echo "| $cap | $size | $lfs | $(kpps "$full") | $note | $steps |"
	done
	echo
fi
if [ $have_disk = 1 ]; then
	echo "## To disk"
	echo
	echo "zcap \`-w FILE.pcapng\` and tcpdump \`-w FILE.pcap\` (same rows and rings as above) in \`tmp/\` of the results directory, on the disk (deleted after each run). zcap writes regular files with \`O_DIRECT\` from a writer thread (\`lib/dump.c\`); tcpdump writes through the page cache. Disk sequential write in the same run, $DD_MB MiB: **${DD_MBS:-?} MB/s** with \`dd if=/dev/zero of=FILE bs=1M count=$DD_MB oflag=direct\`, **${DD_PC_MBS:-?} MB/s** through the page cache (\`conv=fdatasync\`: until the data is on the disk). Offered MB/s: the frames' bytes that reached the capture veth (rx_bytes) / the generator's seconds; the files hold 16 (pcap) or 32 and padding (pcapng) bytes more per frame."
	echo
	if [ -n "${DD_RUN_MB:-}" ]; then
		echo
		echo "The disk's rate moves by a factor of two within minutes on this machine, so every row is also measured against the disk of its own moment: **disk just before** is \`bench/disk_write FILE $DD_RUN_MB\` (as many bytes as a 1518 B run's file, in zcap's writes: 4 MiB, \`O_DIRECT\`, from huge pages, random bytes; dd's 4 KiB pages made each write twice as slow) on the capture core, while the generator sends that row's frames to no capturer, right before that run: the disk as a capture sees it (the traffic halved dd's rate here); **written MB/s** is the bytes in the file(s) / the seconds from the generator's start to the files' last write (their mtime): the capture's rate to the disk, drain included (tcpdump's counts page-cache writes, not the disk's). **zcap-pace** is zcap's row with 1518 B frames offered at ${DISK_PACE:-?} of the disk just before (\`zcap-gen -r\`): no loss is the goal's \"0 loss up to the disk's measured write bandwidth\"."
		[ -n "${SLOW_CG:-}" ] && echo && echo "**zcap-slow** and **zcap-slow-pace**: the same, into a disk of known bandwidth below what the generator offers: zcap runs in a block cgroup whose writes to this disk are throttled to **$SLOW_MBS MB/s** (\`$SLOW_CG\`; its disk just before is measured in it too). zcap-slow offers full speed (above the disk: loss expected; written / disk says how close the capture came to it), zcap-slow-pace ${DISK_PACE:-?} of the disk just before."
		echo
		echo "| capturer | size | n | offered kpps | offered MB/s | captured kpps | loss % | lost in | disk just before, MB/s | written MB/s | written / disk |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|"
	else
		echo "| capturer | size | n | offered kpps | offered MB/s | captured kpps | loss % | lost in |"
		echo "|---|---|---|---|---|---|---|---|"
	fi
	for s in $(sizes_in disk_summary.tsv); do
		for c in $(caps_in disk_summary.tsv); do
			n=$(sv disk_summary.tsv "$c" "$s" n)
			[ -n "$n" ] || continue
			row="| $c | $s | $n | $(cellr disk_summary.tsv "$c" "$s" offered %.0f 1000) | $(cellr disk_summary.tsv "$c" "$s" mbs %.0f) | $(cellr disk_summary.tsv "$c" "$s" captured %.0f 1000) | $(cellr disk_summary.tsv "$c" "$s" loss %.2f) | $(sv disk_summary.tsv "$c" "$s" lossy_runs) of $n |"
			[ -n "${DD_RUN_MB:-}" ] && row="$row $(cellr disk_summary.tsv "$c" "$s" dd %.0f) | $(cellr disk_summary.tsv "$c" "$s" wmbs %.0f) | $(awk -v w="$(sv disk_summary.tsv "$c" "$s" wmbs)" -v d="$(sv disk_summary.tsv "$c" "$s" dd)" 'BEGIN { if (d > 0) printf "%.2f", w / d; else printf "–" }') |"
			echo "$row"
		done
	done
	echo
	echo "Raw runs: \`disk.tsv\`."
	echo
fi
if [ $have_raw = 1 ]; then
	ratios=$(
	for s in $(sizes_in summary.tsv); do
		z=$(sv summary.tsv zcap "$s" offered) x=$(sv summary.tsv zcapxdp "$s" offered)
		zo=$(sv summary.tsv zcap "$s" overhead) xo=$(sv summary.tsv zcapxdp "$s" overhead)
		[ -n "$z" ] && [ -n "$x" ] && echo "- size $s, AF_XDP copy mode against tpacket (zcapxdp ÷ zcap): offered $(ratio "$x" "$z"), overhead $(printf %.0f "$xo") / $(printf %.0f "$zo") ns/pkt = $(ratio "$xo" "$zo")"
	done
	for s in $(sizes_in summary.tsv); do
		for pair in "tcpdump tcpdump-128m" "pcap pcap-128m" "zcap-2m zcap"; do
			set -- $pair
			a=$(sv summary.tsv "$1" "$s" loss) b=$(sv summary.tsv "$2" "$s" loss)
			[ -n "$a" ] && [ -n "$b" ] && echo "- size $s, ring size: $1 lost $(printf %.2f "$a") % (max $(printf %.2f "$(sv summary.tsv "$1" "$s" loss_max)")), $2 $(printf %.2f "$b") % (max $(printf %.2f "$(sv summary.tsv "$2" "$s" loss_max)"))"
		done
	done
	if [ -s lossfree.tsv ]; then
		# lf CAP SIZE: "rate kind": kind "full" when nothing was lost at full speed
		lf() { awk -F'\t' -v c="$1" -v s="$2" '$1 == c && $2 == s { print $3, ($6 ~ /^no loss at full speed/) ? "full" : "search" }' lossfree.tsv; }
		lfs() { if [ "$2" = full ]; then echo "$(kpps "$1") (full speed)"; else echo "$(kpps "$1")"; fi; }
		for s in 64 1518; do
			set -- $(lf zcap "$s")
			[ -n "${1:-}" ] || continue
			z=$1 zk=$2
			for c in tcpdump pcap zcap-count tcpdump-128m pcap-128m; do
				set -- $(lf "$c" "$s")
				[ -n "${1:-}" ] && echo "- size $s, loss-free rate, zcap ÷ $c: $(lfs "$z" "$zk") / $(lfs "$1" "$2") kpps = $(ratio "$z" "$1")"
			done
		done
	fi
	)
	if [ -n "$ratios" ]; then
		echo "## Ratios (from the medians above)"
		echo
		echo "$ratios"
		echo
	fi
	echo "## Goals (computed from the medians above)"
	echo
	for s in $(sizes_in summary.tsv); do
		l=$(sv summary.tsv zcap "$s" loss)
		[ -n "$l" ] || continue
		awk -v s="$s" -v l="$l" -v k="$(sv summary.tsv zcap "$s" lossy_runs)" -v n="$(sv summary.tsv zcap "$s" n)" 'BEGIN {
			printf "- zcap 0 %% loss at full speed, size %s: median %.2f %%, %d of %d runs lost — %s\n", s, l, k, n, (l == 0) ? "**met**" : "**missed**" }'
		x=$(sv summary.tsv xdp "$s" offered) z=$(sv summary.tsv zcap "$s" offered)
		[ -n "$x" ] && awk -v s="$s" -v z="$z" -v x="$x" 'BEGIN {
			printf "- offered with zcap ≥ 0.9× the XDP_DROP ceiling, size %s: %.0f / %.0f kpps = %.2f× — %s\n", s, z / 1000, x / 1000, z / x, (z >= 0.9 * x) ? "**met**" : "**missed**" }'
		p=$(sv summary.tsv pcap "$s" overhead) zo=$(sv summary.tsv zcap "$s" overhead) zc=$(sv summary.tsv zcap-count "$s" overhead)
		# an overhead at or below 0 is within the noise: nothing to compare
		[ -n "$p" ] && awk -v s="$s" -v z="$zo" -v p="$p" 'BEGIN {
			printf "- zcap overhead ≤ 1/4 of the libpcap loop'"'"'s, size %s (zcap writes, the loop counts): %.0f vs %.0f ns/pkt — %s\n", s, z, p,
				(p <= 0) ? "not measurable here (the loop'"'"'s median overhead is not above 0)" : (z <= 0) ? "**met** (zcap'"'"'s median overhead is not above 0: within the noise)" : (z <= p / 4) ? "**met**" : "**missed**" }'
		[ -n "$p" ] && [ -n "$zc" ] && awk -v s="$s" -v z="$zc" -v p="$p" 'BEGIN {
			printf "- the same goal with the same work (both only count), size %s: zcap-count %.0f vs the libpcap loop %.0f ns/pkt — %s\n", s, z, p,
				(p <= 0) ? "not measurable here (the loop'"'"'s median overhead is not above 0)" : (z <= 0) ? "**met** (zcap-count'"'"'s median overhead is not above 0: within the noise)" : (z <= p / 4) ? "**met**" : "**missed**" }'
	done
	# issue 15: zcap against the bare TPACKET_V3 reader of the same run
	for s in $(sizes_in summary.tsv); do
		t=$(sv summary.tsv tpv3 "$s" offered) z=$(sv summary.tsv zcap "$s" offered)
		[ -n "$t" ] && [ -n "$z" ] && awk -v s="$s" -v z="$z" -v t="$t" 'BEGIN {
			printf "- offered with zcap ≥ 0.95× the bare counting TPACKET_V3 reader'"'"'s (tpv3), size %s: %.0f / %.0f kpps = %.2f× — %s\n", s, z / 1000, t / 1000, z / t, (z >= 0.95 * t) ? "**met**" : "**missed**" }'
		zo=$(sv summary.tsv zcap "$s" overhead)
		# The kernel's share (tpacket_rcv's copy into the ring, the
		# timestamp) is the same for every TPACKET_V3 reader; the bare
		# reader, which adds almost nothing in user space, shows it. A
		# third of a comparator's overhead below that floor cannot be met
		# by any reader of this ring: say so beside the verdict.
		tf=$(sv summary.tsv tpv3 "$s" overhead)
		for c in pcap tcpdump; do
			o=$(sv summary.tsv "$c" "$s" overhead)
			[ -n "$o" ] && [ -n "$zo" ] && awk -v s="$s" -v z="$zo" -v o="$o" -v c="$c" -v f="${tf:-}" 'BEGIN {
				floor = (f != "" && o > 0 && f > o / 3 && z > o / 3) ? sprintf("; a third of it, %.0f, is below the bare counting reader'"'"'s own overhead, %.0f ns/pkt (tpv3: the kernel'"'"'s share, which every TPACKET_V3 reader pays): out of reach on this path", o / 3, f) : ""
				printf "- zcap overhead ≤ 1/3 of %s'"'"'s, size %s: %.0f vs %.0f ns/pkt — %s%s\n", c, s, z, o,
					(o <= 0) ? "not measurable here (" c "'"'"'s median overhead is not above 0)" : (z <= 0) ? "**met** (zcap'"'"'s median overhead is not above 0: within the noise)" : (z <= o / 3) ? "**met**" : "**missed**", floor }'
		done
	done
	if [ $have_busy = 1 ]; then
		for s in $(sizes_in busy_summary.tsv); do
			z=$(sv busy_summary.tsv zcap "$s" loss) d=$(sv busy_summary.tsv tcpdump "$s" loss)
			tt=$(sv busy_summary.tsv tpv3-touch "$s" loss)
			[ -n "$z" ] || continue
			[ -n "$d" ] && [ "$s" != 64 ] && awk -v s="$s" -v z="$z" -v d="$d" 'BEGIN {
				printf "- busy loop on the capture core, size %s: zcap'"'"'s loss ≤ 1/10 of tcpdump'"'"'s: %.2f %% vs %.2f %% — %s\n", s, z, d, (z <= d / 10) ? "**met**" : "**missed**" }'
			[ -n "$tt" ] && awk -v s="$s" -v z="$z" -v t="$tt" 'BEGIN {
				printf "- busy loop, size %s: zcap loses nothing where the reader that reads every byte (tpv3-touch) loses nothing: zcap %.2f %%, tpv3-touch %.2f %% — %s\n", s, z, t, (t > 0) ? "not applicable (tpv3-touch lost too)" : (z == 0) ? "**met**" : "**missed**" }'
		done
	fi
	if [ $have_disk = 1 ]; then
		for s in $(sizes_in disk_summary.tsv); do
			l=$(sv disk_summary.tsv zcap "$s" loss)
			d=$(sv disk_summary.tsv zcap "$s" dd)
			if [ -n "$l" ] && [ -n "$d" ] && [ "$d" != 0 ]; then
				# the rate to the disk against the disk's own rate of the moment
				awk -v s="$s" -v l="$l" -v m="$(sv disk_summary.tsv zcap "$s" mbs)" -v d="$d" -v w="$(sv disk_summary.tsv zcap "$s" wmbs)" 'BEGIN {
					printf "- to disk, size %s, full speed: zcap wrote %.0f MB/s, %.0f %% of the disk'"'"'s %.0f MB/s (disk_write just before, median), offered %.0f MB/s, lost %.2f %% (median)%s\n", s, w, 100 * w / d, d, m, l,
						(l == 0) ? "" : (m > d) ? ": offered above the disk'"'"'s rate, loss expected" : " — **missed**: offered below the disk'"'"'s rate" }'
			elif [ -n "$l" ]; then
				awk -v s="$s" -v l="$l" -v m="$(sv disk_summary.tsv zcap "$s" mbs)" -v d="${DD_MBS:-0}" 'BEGIN {
					printf "- to disk, size %s: zcap lost %.2f %% (median) at %.0f MB/s offered, %s of the disk'"'"'s %.0f MB/s (dd, direct) — %s\n", s, l, m, (d > 0) ? sprintf("%.0f %%", 100 * m / d) : "? %", d,
						(l == 0) ? "**met**" : (d > 0 && m > d) ? "above the disk'"'"'s bandwidth: loss expected" : "**missed**" }'
			fi
			for pc in zcap-pace zcap-slow-pace; do
				n=$(sv disk_summary.tsv $pc "$s" n)
				[ -n "$n" ] && awk -v s="$s" -v n="$n" -v k="$(sv disk_summary.tsv $pc "$s" lossy_runs)" -v l="$(sv disk_summary.tsv $pc "$s" loss_max)" \
					-v m="$(sv disk_summary.tsv $pc "$s" mbs)" -v d="$(sv disk_summary.tsv $pc "$s" dd)" -v p="${DISK_PACE:-?}" -v pc="$pc" \
					-v what="$([ $pc = zcap-slow-pace ] && echo "a disk throttled to ${SLOW_MBS:-?} MB/s" || echo "this disk")" 'BEGIN {
					printf "- to disk, size %s, %s: 0 loss up to the disk'"'"'s measured bandwidth (%s: offered at %s of the disk just before each run, %.0f of %.0f MB/s median): lost in %d of %d runs (at most %.2f %%) — %s%s\n", s, what, pc, p, m, d, k, n, l, (k == 0) ? "**met**" : "**missed**",
						(pc == "zcap-pace" && m < p * d * 0.95) ? " (the generator'"'"'s ceiling, below the pace: this disk was not the limit)" : "" }'
			done
			n=$(sv disk_summary.tsv zcap-slow "$s" n)
			[ -n "$n" ] && awk -v s="$s" -v l="$(sv disk_summary.tsv zcap-slow "$s" loss)" -v m="$(sv disk_summary.tsv zcap-slow "$s" mbs)" \
				-v d="$(sv disk_summary.tsv zcap-slow "$s" dd)" -v w="$(sv disk_summary.tsv zcap-slow "$s" wmbs)" -v sl="${SLOW_MBS:-?}" 'BEGIN {
				printf "- to disk, size %s, a disk throttled to %s MB/s, full speed (zcap-slow): offered %.0f MB/s, zcap wrote %.0f MB/s, %.0f %% of the disk'"'"'s %.0f MB/s (median), lost %.2f %%%s\n", s, sl, m, w, (d > 0) ? 100 * w / d : 0, d, l,
					(m > d) ? " (offered above the disk: loss expected, counted)" : "" }'
		done
	fi

fi
# --- issue 12: tcpdump plainly and under zcap-run, quiet and busy ---------------
# g12 FILE COND SIZE: the goal lines of one cell, each ending in met or not
# met; "#L met|not" / "#C ..." / "#M ..." markers first, for the tally
g12() {
	f=$1 cond=$2 s=$3
	[ -n "$(sv "$f" tcpdump "$s" n)" ] && [ -n "$(sv "$f" tcpdump-zr "$s" n)" ] || return 0
	awk -F'\t' -v cond="$cond" -v s="$s" '
	NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
	$2 == s && ($1 == "tcpdump" || $1 == "tcpdump-zr") { for (k in h) v[$1, k] = $h[k] }
	function rng(c, f, fmt) { return (sprintf(fmt, v[c, f "_min"]) == sprintf(fmt, v[c, f "_max"])) ? "" : sprintf(" (" fmt "–" fmt ")", v[c, f "_min"], v[c, f "_max"]) }
	function overlap(f) { return !(v["tcpdump-zr", f "_min"] > v["tcpdump", f "_max"] || v["tcpdump", f "_min"] > v["tcpdump-zr", f "_max"]) }
	function ratio(a, b) { return (a > 0 && b > 0) ? sprintf(" = %.2f×", a / b) : "" }
	END {
		p = "tcpdump"; z = "tcpdump-zr"
		s = (s == "rand") ? "random sizes" : s " B"
		pl = v[p, "lossy_runs"]; zl = v[z, "lossy_runs"]
		if (zl > 0) { m = "not"; w = "**not met**" }
		else if (pl > 0) { m = "met"; w = "**met**" }
		else { m = "met"; w = "**met** (plain tcpdump lost in no run either: nothing to beat in this cell)" }
		printf "#L %s\n", m
		printf "- loss, %s, %s: plain tcpdump lost in %d of %d runs (median %.2f %%, max %.2f %%); under zcap-run in %d of %d (median %.2f %%, max %.2f %%) — %s\n",
			cond, s, pl, v[p, "n"], v[p, "loss"], v[p, "loss_max"], zl, v[z, "n"], v[z, "loss"], v[z, "loss_max"], w
		a = v[z, "capcpu"]; b = v[p, "capcpu"]
		m = (a <= b) ? "met" : "not"
		printf "#C %s\n", m
		printf "- own CPU per captured packet, %s, %s: under zcap-run %.0f%s, plain %.0f%s ns/pkt%s — %s%s\n",
			cond, s, a, rng(z, "capcpu", "%.0f"), b, rng(p, "capcpu", "%.0f"), ratio(a, b),
			(m == "met") ? "**met**" : "**not met**", overlap("capcpu") ? " (the two rows'"'"' ranges overlap)" : ""
		a = v[z, "cpu"]; b = v[p, "cpu"]
		m = (a <= b) ? "met" : "not"
		printf "#M %s\n", m
		printf "- whole-machine CPU per frame offered, %s, %s: under zcap-run %.0f%s, plain %.0f%s ns/pkt (overhead %.0f vs %.0f)%s — %s%s\n",
			cond, s, a, rng(z, "cpu", "%.0f"), b, rng(p, "cpu", "%.0f"), v[z, "overhead"], v[p, "overhead"], ratio(a, b),
			(m == "met") ? "**met**" : "**not met**", overlap("cpu") ? " (the two rows'"'"' ranges overlap)" : ""
	}' "$f"
}
# g12r FILE COND SIZE: the CPU line of a cell at one rate ("#R" marker
# first), from the side-by-side runs: FILE is the summary, the runs are in
# the file of the same name without _summary; the ratio of a run is
# tcpdump-zr's own CPU per captured packet over tcpdump's in that run.
g12r() {
	f=$1 cond=$2 s=$3
	[ -n "$(sv "$f" tcpdump "$s" n)" ] && [ -n "$(sv "$f" tcpdump-zr "$s" n)" ] || return 0
	awk -F'\t' -v cond="$cond" -v s="$s" "$MEDFN"'
	FNR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
	FILENAME ~ /_summary/ { if ($2 == s && ($1 == "tcpdump" || $1 == "tcpdump-zr")) for (k in h) v[$1, k] = $h[k]; next }
	$2 == s && ($1 == "tcpdump" || $1 == "tcpdump-zr") { c[$1, $3] = $h["cap_cpu_ns_pkt"]; runs[$3] = 1 }
	function rng(c, f, fmt) { return (sprintf(fmt, v[c, f "_min"]) == sprintf(fmt, v[c, f "_max"])) ? "" : sprintf(" (" fmt "–" fmt ")", v[c, f "_min"], v[c, f "_max"]) }
	END {
		p = "tcpdump"; z = "tcpdump-zr"
		for (r in runs) if (c[p, r] > 0 && c[z, r] > 0) { q[++n] = c[z, r] / c[p, r]; if (q[n] <= 1) le++ }
		if (!n) exit
		sort(q, n); m = med(q, n)
		s = (s == "rand") ? "random sizes" : s " B"
		ok = (sprintf("%.2f", m) + 0 <= 1.00)
		printf "#R %s\n", ok ? "met" : "not"
		printf "- own CPU per captured packet at one rate, side by side, %s, %s (offered %.0f kpps): tcpdump-zr ÷ tcpdump per run %.2f× (%.2f–%.2f), at or below 1 in %d of %d runs; medians %.0f%s and %.0f%s ns/pkt — %s%s\n",
			cond, s, v[z, "offered"] / 1000, m, q[1], q[n], le + 0, n,
			v[z, "capcpu"], rng(z, "capcpu", "%.0f"), v[p, "capcpu"], rng(p, "capcpu", "%.0f"),
			ok ? "**met**" : "**not met**",
			((v[z, "lossy_runs"] + v[p, "lossy_runs"] > 0) ? sprintf(" (runs with loss: %d under zcap-run, %d plain)", v[z, "lossy_runs"], v[p, "lossy_runs"]) : "")
	}' "$f" "${f%_summary.tsv}.tsv"
}
if { [ $have_raw = 1 ] && grep -q '^tcpdump-zr	' summary.tsv; } ||
	{ [ $have_busy = 1 ] && grep -q '^tcpdump-zr	' busy_summary.tsv; } || [ $have_sr = 1 ]; then
	echo
	echo "## Issue 12: tcpdump plainly and under zcap-run, quiet and with a busy loop"
	echo
	echo "The same tcpdump command plainly (\`tcpdump\`: libpcap's 2 MiB ring; \`tcpdump-128m\`: \`-B 131072\`, zcap's ring size) and under \`zcap-run\` (\`tcpdump-zr\`: libzcap, backend ${ZR_BACKEND:-?}, zcap-run's default ring, $(zr_ring); \`tcpdump-zr-128m\`: the same with \`-B 131072\`), interleaved in the same runs; \"quiet\" is the full-speed table above, \"busy\" the busy-loop table (the spin's CPU taken out of the whole-machine figure). Goal (issue 12): no loss under zcap-run wherever plain tcpdump loses, and no more CPU per packet than plain tcpdump. Cells: median (min–max)."
	echo
	echo "| condition | size | row | n | offered kpps | loss % | lost in | CPU ns/pkt | overhead ns/pkt | own CPU ns/pkt |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	for cond in quiet busy; do
		f=summary.tsv; [ $cond = busy ] && f=busy_summary.tsv
		[ -s "$f" ] || continue
		for s in $(sizes_in "$f"); do
			for c in tcpdump tcpdump-128m tcpdump-zr tcpdump-zr-128m; do
				n=$(sv $f "$c" "$s" n)
				[ -n "$n" ] || continue
				echo "| $cond | $s | $c | $n | $(cellr $f "$c" "$s" offered %.0f 1000) | $(cellr $f "$c" "$s" loss %.2f) | $(sv $f "$c" "$s" lossy_runs) of $n | $(cellr $f "$c" "$s" cpu %.0f) | $(cellr $f "$c" "$s" overhead %.0f) | $(capcell $f "$c" "$s") |"
			done
		done
	done
	echo
	echo "### Goals of issue 12 (computed by report.sh from the medians above)"
	echo
	echo "Loss: **met** in a cell when tcpdump-zr lost in none of its runs; **not met** when it lost in any (also where plain tcpdump did not lose: that is worse, not outside the goal). CPU: **met** when tcpdump-zr's median is at or below plain tcpdump's; where the two rows' min–max ranges overlap the line says so: the difference is within this run's spread."
	echo
	g12lines=$(for cond in quiet busy; do
		f=summary.tsv; [ $cond = busy ] && f=busy_summary.tsv
		[ -s "$f" ] || continue
		for s in $(sizes_in "$f"); do g12 "$f" "$cond" "$s"; done
	done)
	echo "$g12lines" | grep -v '^#'
	if [ $have_sr = 1 ]; then
		echo
		echo "### CPU per packet at one rate"
		echo
		echo "At full speed a capturer's CPU per packet follows the rate the generator reached in that run (the more packets a wakeup finds, the less each costs), and what else the machine does moves from one run to the next by more than the capturers differ. Here tcpdump and tcpdump-zr run **side by side**: both at once on the capture core, capturing the same frames at one requested rate a size (about half of what plain tcpdump takes at full speed), quiet and with the busy loop, ${SR_RUNS:-?} runs, started in the other order each run. Both meet the same frames and the same disturbances, so the ratio of their own CPU in one run is their difference; the goal's CPU verdict is the median of those ratios (met at 1.00× or below, to two decimals). Cells: median (min–max)."
		echo
		echo "| condition | size | row | n | offered kpps | loss % | lost in | own CPU ns/pkt |"
		echo "|---|---|---|---|---|---|---|---|"
		for cond in quiet busy; do
			f=samerate_summary.tsv; [ $cond = busy ] && f=samerate_busy_summary.tsv
			[ -s "$f" ] || continue
			for s in $(sizes_in "$f"); do
				for c in tcpdump tcpdump-zr; do
					n=$(sv $f "$c" "$s" n)
					[ -n "$n" ] || continue
					echo "| $cond | $s | $c | $n | $(cellr $f "$c" "$s" offered %.0f 1000) | $(cellr $f "$c" "$s" loss %.2f) | $(sv $f "$c" "$s" lossy_runs) of $n | $(capcell $f "$c" "$s") |"
				done
			done
		done
		echo
		g12lines="$g12lines
$(for cond in quiet busy; do
			f=samerate_summary.tsv; [ $cond = busy ] && f=samerate_busy_summary.tsv
			[ -s "$f" ] || continue
			for s in $(sizes_in "$f"); do g12r "$f" "$cond" "$s"; done
		done)"
		echo "$g12lines" | grep '^- own CPU per captured packet at one rate'
	fi
	echo
	echo "$g12lines" | awk '/^#/ { n[$1]++; if ($2 == "met") k[$1]++ }
		END { if (n["#L"])
			printf "- **overall**: loss goal met in %d of %d cells; at full speed, CPU met in %d of %d cells by the capturer'"'"'s own CPU per captured packet, in %d of %d by whole-machine CPU per frame offered\n",
				k["#L"], n["#L"], k["#C"], n["#C"], k["#M"], n["#M"]
		if (n["#R"])
			printf "- **CPU goal, at one rate**: met in %d of %d cells\n", k["#R"], n["#R"] }'
	echo
fi
} >results.md

# --- plots --------------------------------------------------------------------
command -v gnuplot >/dev/null || exit 0
[ $have_raw = 1 ] || exit 0
mat() {	# FILE FIELD CAPS -> matrix rows=size, columns=caps
	sf=$1 f=$2; shift 2
	echo "size $*"
	for s in $(sizes_in "$sf"); do
		printf '%s' "$s"
		for c in "$@"; do v=$(sv "$sf" "$c" "$s" "$f"); printf ' %s' "${v:-?}"; done
		echo
	done
}
# shellcheck disable=SC2046
mat summary.tsv loss $(caps_in summary.tsv | grep -v -e '^none$' -e '^xdp$') >plot_loss.dat
# shellcheck disable=SC2046
mat summary.tsv overhead $(caps_in summary.tsv | grep -v '^none$') >plot_overhead.dat
# shellcheck disable=SC2046
[ $have_busy = 1 ] && mat busy_summary.tsv loss $(caps_in busy_summary.tsv | grep -v -e '^none$' -e '^xdp$') >plot_busy_loss.dat
{
	echo "cap 64 1518"
	tail -n +2 lossfree.tsv 2>/dev/null | awk -F'\t' '{ v[$1, $2] = $3 / 1000; if (!($1 in s)) { s[$1] = 1; o[++n] = $1 } } END { for (i = 1; i <= n; i++) printf "%s %s %s\n", o[i], ((o[i], 64) in v) ? v[o[i], 64] : "?", ((o[i], 1518) in v) ? v[o[i], 1518] : "?" }'
} >plot_lossfree.dat
ncol() { head -1 "$1" | wc -w; }
plot() {	# DAT PNG TITLE YLABEL
	gnuplot <<GP 2>/dev/null
set terminal pngcairo size 1100,520 noenhanced
set output "$2"
set title "$3"
set ylabel "$4"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key outside right top autotitle columnhead
set yrange [0:*]
set grid ytics
set datafile missing "?"
plot for [i=2:$(ncol "$1")] "$1" using i:xtic(1)
GP
}
plot plot_loss.dat loss_by_size.png "Loss at full speed by frame size, median of the runs ($DATE)" "loss % of frames that reached the capture veth"
[ $have_busy = 1 ] && plot plot_busy_loss.dat busy_loss.png "Loss at full speed with a busy loop on the capture core, median of the runs ($DATE)" "loss % of frames that reached the capture veth"
plot plot_overhead.dat overhead.png "Capture overhead: whole-machine CPU per frame minus no capturer, median ($DATE)" "ns per frame"
[ "$(wc -l <plot_lossfree.dat)" -gt 1 ] && plot plot_lossfree.dat lossfree.png "Loss-free rate reached (median of $TRIALS runs a step; full speed where nothing was lost there) ($DATE)" "kpps reached"
exit 0
