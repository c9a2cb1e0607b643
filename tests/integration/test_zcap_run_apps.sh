#!/bin/sh
# zcap-run with the programs users run: tcpdump, dumpcap, ngrep and tcpflow,
# each twice at once on the same interface, plainly and under zcap-run,
# beside a reference tcpdump with a 256 MiB ring; what they produce is
# compared (the packets in the files, the matched lines, the reassembled
# flows). First on zcap-gen's numbered frames, then on real kernel traffic
# (ARP, HTTP fetches with curl and wget, UDP datagrams, a TCP bulk
# transfer) with TSO, GSO and GRO off on both veth ends, so frames are
# wire-sized. And progs/pcap_two.c, a plain libpcap program that captures
# on two interfaces at once, waiting on both with poll().
#
# Loss. A plain program keeps libpcap's 2 MiB ring and may lose at speed,
# so the traffic it is compared on directly is a burst its ring holds
# whole, whatever the scheduling (the numbered frames, the slow kernel
# traffic). On the fast traffic what runs under zcap-run is compared with
# the reference: the same multiset of frames, and the same matched lines
# and flows as ngrep and tcpflow give reading the reference's file.
. "$(dirname "$0")/../lib.sh"
need_root "zcap-run apps"
RUN="$BUILD/zcap-run"
missing=
for t in tcpdump dumpcap tshark ngrep tcpflow python3 curl wget arping ethtool; do
	have "$t" || missing="$missing $t"
done
if [ -n "$missing" ]; then
	skip "zcap-run apps" "not installed:$missing"
	exit 0
fi
testbed_up
SRV_PID='' UDP_PID='' SINK_PID='' KEYS=''
# the servers and any program still running die with the test (a process
# in a namespace outlives the namespace's removal)
finish() {
	for _k in $KEYS; do kill -9 "$(pid_of "$_k")" 2>/dev/null; done
	for _p in $SRV_PID $UDP_PID $SINK_PID; do kill -9 "$_p" 2>/dev/null; done
	cleanup
}
trap finish EXIT INT TERM

# on xdp the frames go to the AF_XDP socket before any plain program's
# AF_PACKET socket, or the kernel's stack, sees them
XDP=
[ "${ZCAP_BACKEND:-}" = xdp ] && XDP=1
# vs_plain NAME CMD...: a check against a plain program's output: skipped on xdp
vs_plain() {
	if [ -n "$XDP" ]; then
		skip "$1" "XDP takes the frames before the plain program's AF_PACKET socket"
	else
		check "$@"
	fi
}

# app KEY MODE FD PATTERN CMD...: CMD in the capture namespace, in the
# background, plainly (MODE plain), under zcap-run (zcap: on
# $ZCAP_BACKEND, or auto) or under zcap-run on a given backend
# (zcap=NAME); stdout in $TMP/KEY.out, stderr in $TMP/KEY.err; waits until
# PATTERN is in $TMP/KEY.FD (out or err), the program's word that it
# listens. Its pid is PID_KEY (ip netns exec, env and zcap-run exec: the
# program itself), and stop_all stops it.
app() {
	_k=$1 _m=$2 _fd=$3 _pat=$4
	shift 4
	rm -f "$TMP/$_k.out" "$TMP/$_k.err"
	case $_m in
	plain)	ip netns exec "$CAP_NS" "$@" >"$TMP/$_k.out" 2>"$TMP/$_k.err" & ;;
	zcap*)	_b=${ZCAP_BACKEND:-}
		case $_m in zcap=*) _b=${_m#zcap=} ;; esac
		ip netns exec "$CAP_NS" env ZCAP_RUN_VERBOSE=1 ${_b:+ZCAP_RUN_BACKEND=$_b} \
			"$RUN" "$@" >"$TMP/$_k.out" 2>"$TMP/$_k.err" & ;;
	esac
	eval "PID_$_k=\$!"
	KEYS="$KEYS $_k"
	wait_for "$TMP/$_k.$_fd" "$_pat" 100 "$!" && return 0
	diag "$_k ($_m: $*) did not start:"
	cat "$TMP/$_k.out" "$TMP/$_k.err" | grep -v '^$' | head -6 | sed 's/^/# /'
	return 1
}
pid_of() { eval "echo \${PID_$1:-}"; }
# stop_all: once the programs' 1 s read timeouts have passed (what their
# rings hold has been read), SIGINT to all, and reap_all
stop_all() {
	sleep 1.5
	for _k in $KEYS; do kill -INT "$(pid_of "$_k")" 2>/dev/null; done
	reap_all
}
# reap_all: each program started with app reaped; RC_KEY is its exit
# status (one still running after 15 s is killed: 137)
reap_all() {
	for _k in $KEYS; do
		_p=$(pid_of "$_k")
		wait_gone "$_p" 150 || { diag "$_k did not stop; killing it"; kill -9 "$_p"; }
		wait "$_p"
		eval "RC_$_k=$?"
	done
	KEYS=
}
# exited0 KEY...: each exited 0 after SIGINT
exited0() {
	for _k in "$@"; do
		_rc=
		eval "_rc=\${RC_$_k:-none}"
		[ "$_rc" = 0 ] || { diag "$_k exited with $_rc"; return 1; }
	done
}
# through_zcap ZKEY PKEY: the program under zcap-run has libzcap-pcap.so
# mapped and the plain one does not (while they run)
through_zcap() {
	grep -q libzcap-pcap.so "/proc/$(pid_of "$1")/maps" || return 1
	[ -z "$2" ] && return 0
	[ -r "/proc/$(pid_of "$2")/maps" ] && ! grep -q libzcap-pcap.so "/proc/$(pid_of "$2")/maps"
}
# named_backend KEY: ZCAP_RUN_VERBOSE's line in its stderr names the
# backend ($ZCAP_BACKEND's when set)
named_backend() {
	grep -q "capturing with libzcap, backend ${2:-${ZCAP_BACKEND:-[a-z]*}}," "$TMP/$1.err"
}

# pkts FILE: one line per frame, its bytes in hex, sorted: a multiset
# that a comparison of two captures can use whatever the order two
# sockets saw frames of the two directions in
pkts() {
	tcpdump -r "$1" -nn -t -xx 2>/dev/null | awk '
		/^\t0x/ { if ($1 == "0x0000:") { if (s != "") print s; s = "" }
			  for (i = 2; i <= NF; i++) s = s $i; next }
		END { if (s != "") print s }' | LC_ALL=C sort
}
# same FILE1 FILE2: both non-empty and identical
same() { [ -s "$1" ] && cmp -s "$1" "$2"; }
# holds BIG SMALL: every line of sorted SMALL is in sorted BIG, as often
holds() { [ -s "$2" ] && [ -z "$(LC_ALL=C comm -13 "$1" "$2" | head -1)" ]; }
n_of() { wc -l <"$1" | tr -d ' '; }
# stat_line FILE WHAT: the number before "packets WHAT" in tcpdump's summary
stat_line() { sed -n "s/^\([0-9]*\) packets* $2\$/\1/p" "$1"; }
# matches FILE: ngrep's matched packets (one line each with -W single),
# sorted; without its header, which names the interface or the file
matches() { grep -E '^[A-Z] [0-9]' "$1" | LC_ALL=C sort; }
# ngrep_file PCAP PATTERN: what ngrep matches reading PCAP
ngrep_file() { ngrep -I "$1" -q -W single "$2" 2>/dev/null | matches /dev/stdin; }
# flows DIR1 DIR2: tcpflow's flow files, the same names and contents (not
# its report.xml, which holds times and paths)
flows() {
	[ "$(nflows "$1")" -gt 0 ] && diff -r -x report.xml "$1" "$2" >"$TMP/flows.diff"
}
nflows() { find "$1" -type f ! -name report.xml | wc -l; }

# --- dumpcap on auto ----------------------------------------------------------------
# dumpcap keeps only CAP_NET_RAW and CAP_NET_ADMIN before it opens the
# device: AF_XDP's BPF map is refused (EPERM), and auto must go on to
# TPACKET_V3 as plain libpcap captures. If it does not, the comparisons
# below run dumpcap under zcap-run on tpacket, to test the rest.
DUMPCAP=zcap
if [ -n "$XDP" ]; then
	skip "dumpcap under zcap-run" "dumpcap drops CAP_BPF and CAP_SYS_ADMIN, which AF_XDP needs"
elif [ -z "${ZCAP_BACKEND:-}" ]; then
	app dauto zcap err '^File:' dumpcap -i "$CAP_IF" -w "$TMP/dauto.pcapng"
	_ok=$?
	stop_all
	grep -v '^$' "$TMP/dauto.err" | head -4 | sed 's/^/# dumpcap: /'
	if [ $_ok -eq 0 ] && named_backend dauto; then
		ok "dumpcap under zcap-run, auto backend, on an interface with no address: captures"
	else
		not_ok "dumpcap under zcap-run, auto backend, on an interface with no address: captures"
		diag "dumpcap's comparisons below run under zcap-run with ZCAP_RUN_BACKEND=tpacket"
		DUMPCAP=zcap=tpacket
	fi
fi

# --- tshark ---------------------------------------------------------------------------
# tshark captures through a dumpcap child whose stderr is tshark's message
# pipe: zcap-run's verbose lines go to a file (ZCAP_RUN_VERBOSE=PATH), or
# tshark would take them for a broken message and capture nothing.
if [ -n "$XDP" ]; then
	skip "tshark under zcap-run" "its dumpcap drops CAP_BPF and CAP_SYS_ADMIN, which AF_XDP needs"
else
	ip netns exec "$CAP_NS" env ZCAP_RUN_VERBOSE="$TMP/tshark.zlog" "$RUN" \
		tshark -i "$CAP_IF" -B 64 -c 300 -w "$TMP/ts.pcapng" >"$TMP/ts.out" 2>"$TMP/ts.err" &
	TS_PID=$!
	# dumpcap names its file once the capture is open
	wait_for "$TMP/ts.err" "File:" 100 "$TS_PID"
	gen -c 300 -s 128
	wait_gone "$TS_PID" 100 || { diag "tshark did not stop; killing it"; kill -9 "$TS_PID"; }
	wait "$TS_PID"
	ts_rc=$?
	sed 's/^/# tshark: /' "$TMP/ts.err" "$TMP/tshark.zlog" 2>/dev/null | grep -v "^# tshark: $"
	check "tshark under zcap-run (ZCAP_RUN_VERBOSE=PATH): exits 0, and its dumpcap told it of 300 packets" \
		sh -c '[ "$1" -eq 0 ] && grep -q "^300 packets captured" "$2"' sh $ts_rc "$TMP/ts.err"
	check "tshark under zcap-run: its file, verified" verified "$TMP/ts.pcapng" 300
	check "tshark under zcap-run: its dumpcap captured through libzcap (the log file names the backend)" \
		grep -q "capturing with libzcap, backend ${ZCAP_BACKEND:-[a-z]*}," "$TMP/tshark.zlog"
fi

# --- numbered frames --------------------------------------------------------------
# 1000 frames of random sizes, about 0.9 MB: a plain program's 2 MiB ring
# holds them all even if it reads nothing until the end. dumpcap always
# sets its buffer (2 MiB unless -B), and zcap-run makes that the ring's
# size, so both dumpcaps get 256 MiB, as the reference has, for the fast
# traffic below.
N=1000
start_gen_apps() {
	app ref plain err "listening on" tcpdump -Z root -B 262144 -i "$CAP_IF" -w "$TMP/ref.pcap" &&
		app tz zcap err "listening on" tcpdump -Z root -i "$CAP_IF" -w "$TMP/tz.pcap" &&
		app tp plain err "listening on" tcpdump -Z root -i "$CAP_IF" -w "$TMP/tp.pcap" &&
		app nz zcap out "^match" ngrep -d "$CAP_IF" -q -l -W single ZCAP &&
		app np plain out "^match" ngrep -d "$CAP_IF" -q -l -W single ZCAP &&
		app dz "$DUMPCAP" err '^File:' dumpcap -i "$CAP_IF" -B 256 -w "$TMP/dz.pcapng" &&
		app dp plain err '^File:' dumpcap -i "$CAP_IF" -B 256 -w "$TMP/dp.pcapng"
}
if [ -n "$XDP" ]; then
	# one AF_XDP socket per queue: two programs under zcap-run cannot
	# share the interface, so one after the other, and no plain ones
	app tz zcap err "listening on" tcpdump -Z root -i "$CAP_IF" -w "$TMP/tz.pcap" ||
		not_ok "numbered frames: tcpdump under zcap-run starts"
	check "tcpdump under zcap-run has libzcap-pcap.so mapped" through_zcap tz ""
	gen -c $N --random-sizes -r 20000
	stop_all
	check "numbered frames: tcpdump under zcap-run exits 0 after SIGINT" exited0 tz
	check "tcpdump: ZCAP_RUN_VERBOSE names libzcap's backend" named_backend tz
	check "tcpdump under zcap-run: the $N frames each once, in order, intact" verified "$TMP/tz.pcap" $N
	app nz zcap out "^match" ngrep -d "$CAP_IF" -q -l -W single ZCAP ||
		not_ok "numbered frames: ngrep under zcap-run starts"
	check "ngrep under zcap-run has libzcap-pcap.so mapped" through_zcap nz ""
	gen -c $N --random-sizes -r 20000
	stop_all
	check "numbered frames: ngrep under zcap-run exits 0 after SIGINT" exited0 nz
	check "ngrep: ZCAP_RUN_VERBOSE names libzcap's backend" named_backend nz
	matches "$TMP/nz.out" >"$TMP/nz.m"
	check "ngrep under zcap-run: $N matched lines, one per frame" \
		[ "$(n_of "$TMP/nz.m")" -eq $N -a "$(uniq "$TMP/nz.m" | wc -l)" -eq $N ]
else
	start_gen_apps || not_ok "numbered frames: the programs start"
	check "tcpdump under zcap-run has libzcap-pcap.so mapped; the plain one not" through_zcap tz tp
	check "dumpcap under zcap-run has libzcap-pcap.so mapped; the plain one not" through_zcap dz dp
	check "ngrep under zcap-run has libzcap-pcap.so mapped; the plain one not" through_zcap nz np
	gen -c $N --random-sizes -r 20000
	stop_all
	check "numbered frames: all seven programs exit 0 after SIGINT" exited0 ref tz tp dz dp nz np
	for _k in tz dz nz; do sed 's/^/# zcap-run: /' "$TMP/$_k.err"; done
	check "tcpdump, dumpcap, ngrep: ZCAP_RUN_VERBOSE names libzcap's backend" \
		sh -c 'for k in tz dz nz; do grep -q "capturing with libzcap, backend " "$1/$k.err" || exit 1; done' \
		sh "$TMP"
	check "reference tcpdump (-B 262144): the $N frames" verified "$TMP/ref.pcap" $N
	check "tcpdump under zcap-run: the $N frames each once, in order, intact" verified "$TMP/tz.pcap" $N
	check "dumpcap under zcap-run: the $N frames each once, in order, intact" \
		verified "$TMP/dz.pcapng" $N
	for f in ref.pcap tz.pcap tp.pcap dz.pcapng dp.pcapng; do pkts "$TMP/$f" >"$TMP/${f%%.*}.pk"; done
	check "tcpdump: the same frames plainly and under zcap-run" same "$TMP/tz.pk" "$TMP/tp.pk"
	check "tcpdump under zcap-run: the reference's frames" same "$TMP/tz.pk" "$TMP/ref.pk"
	check "dumpcap: the same frames plainly and under zcap-run" same "$TMP/dz.pk" "$TMP/dp.pk"
	check "dumpcap under zcap-run: the reference's frames" same "$TMP/dz.pk" "$TMP/ref.pk"
	matches "$TMP/nz.out" >"$TMP/nz.m"
	matches "$TMP/np.out" >"$TMP/np.m"
	ngrep_file "$TMP/ref.pcap" ZCAP >"$TMP/nref.m"
	diag "ngrep matched: zcap-run $(n_of "$TMP/nz.m"), plain $(n_of "$TMP/np.m"), on the reference's file $(n_of "$TMP/nref.m")"
	check "ngrep under zcap-run: $N matched lines, one per frame" \
		[ "$(n_of "$TMP/nz.m")" -eq $N -a "$(uniq "$TMP/nz.m" | wc -l)" -eq $N ]
	check "ngrep: the same matched lines plainly and under zcap-run" same "$TMP/nz.m" "$TMP/np.m"
	check "ngrep under zcap-run: the lines ngrep matches in the reference's file" \
		same "$TMP/nz.m" "$TMP/nref.m"
fi

# --- two interfaces at once ---------------------------------------------------------
# progs/pcap_two.c on the testbed's pair and a second pair between the same
# namespaces, zcap-gen sending a stream to each at once, told apart by
# their sequence numbers (and sizes, and destination addresses)
build_prog pcap_two
TWO="$TMP/pcap_two"
GEN_IF2="$TB-g2" CAP_IF2="$TB-c2"
if ! { ip -n "$GEN_NS" link add "$GEN_IF2" type veth peer name "$CAP_IF2" netns "$CAP_NS" &&
	ip netns exec "$GEN_NS" sysctl -qw net.ipv6.conf."$GEN_IF2".disable_ipv6=1 &&
	ip netns exec "$CAP_NS" sysctl -qw net.ipv6.conf."$CAP_IF2".disable_ipv6=1 &&
	ip -n "$GEN_NS" link set "$GEN_IF2" up && ip -n "$CAP_NS" link set "$CAP_IF2" up &&
	wait_carrier "$CAP_NS" "$CAP_IF2"; }; then
	not_ok "a second veth pair"
	exit 1
fi
CAP_MAC2=$(ip netns exec "$CAP_NS" cat "/sys/class/net/$CAP_IF2/address")
N1=1500 N2=900 S2=1000000
app two zcap out '^ready' "$TWO" "$CAP_IF" "$TMP/two1.pcap" $N1 "$CAP_IF2" "$TMP/two2.pcap" $N2 ||
	not_ok "pcap_two under zcap-run starts"
TWOP=
if [ -z "$XDP" ]; then
	TWOP=twop
	app twop plain out '^ready' "$TWO" "$CAP_IF" "$TMP/twop1.pcap" $N1 \
		"$CAP_IF2" "$TMP/twop2.pcap" $N2 || not_ok "pcap_two plainly starts"
fi
check "pcap_two under zcap-run has libzcap-pcap.so mapped${TWOP:+; the plain one not}" \
	through_zcap two "$TWOP"
in_gen "$GEN" -q -i "$GEN_IF" --dst-mac "$CAP_MAC" -c $N1 --random-sizes -r 50000 \
	2>"$TMP/gen1.log" &
G1=$!
in_gen "$GEN" -q -i "$GEN_IF2" --dst-mac "$CAP_MAC2" -c $N2 -s 200 --start-seq $S2 \
	--dst-ip 198.18.1.2 -r 50000 2>"$TMP/gen2.log"
wait $G1
reap_all
sed 's/^/# pcap_two: /' "$TMP/two.out" "$TMP/two.err"
[ -n "$TWOP" ] && sed 's/^/# plain pcap_two: /' "$TMP/twop.out" "$TMP/twop.err"
check "pcap_two under zcap-run: both counts reached, exit 0" exited0 two
check "pcap_two under zcap-run: both handles through libzcap" \
	sh -c 'grep -q "$2: capturing with libzcap" "$1" && grep -q "$3: capturing with libzcap" "$1"' \
	sh "$TMP/two.err" "$CAP_IF" "$CAP_IF2"
check "pcap_two under zcap-run, $CAP_IF's file: its $N1 frames, in order, intact, no other" \
	verified "$TMP/two1.pcap" $N1
check "pcap_two under zcap-run, $CAP_IF2's file: its $N2 frames, in order, intact, no other" \
	verified "$TMP/two2.pcap" $N2 --start-seq $S2
if [ -n "$TWOP" ]; then
	for f in two1 two2 twop1 twop2; do pkts "$TMP/$f.pcap" >"$TMP/$f.pk"; done
	check "pcap_two: the same frames in each file plainly and under zcap-run" \
		sh -c 'cmp -s "$1" "$2" && cmp -s "$3" "$4"' sh \
		"$TMP/two1.pk" "$TMP/twop1.pk" "$TMP/two2.pk" "$TMP/twop2.pk"
fi
if [ -n "$XDP" ]; then
	skip "kernel traffic" "AF_XDP would take the frames from the kernel's stack"
	exit 0
fi

# --- real kernel traffic ------------------------------------------------------------
# The server in the generator's namespace, the clients in the capture
# namespace: everything crosses the capture interface, both ways.
SRV=198.18.0.1 CLI=198.18.0.2
if ! { ip -n "$GEN_NS" addr add "$SRV/24" dev "$GEN_IF" &&
	ip -n "$CAP_NS" addr add "$CLI/24" dev "$CAP_IF"; }; then
	not_ok "addresses on the testbed's pair"
	exit 1
fi
ip netns exec "$GEN_NS" ethtool -K "$GEN_IF" tso off gso off gro off 2>/dev/null
ip netns exec "$CAP_NS" ethtool -K "$CAP_IF" tso off gso off gro off 2>/dev/null
offloads_off() {
	for _e in "$GEN_NS $GEN_IF" "$CAP_NS $CAP_IF"; do
		# shellcheck disable=SC2086
		set -- $_e
		[ "$(ip netns exec "$1" ethtool -k "$2" | grep -cE \
			'^(tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload): off')" -eq 3 ] ||
			return 1
	done
}
check "TSO, GSO and GRO off on both veth ends" offloads_off

cat >"$TMP/net.py" <<'PY'
import os, socket, sys, time
mode, a = sys.argv[1], sys.argv[2:]
if mode == "mkfile":      # mkfile PATH SIZE: random bytes, a needle every 64 KiB
    with open(a[0], "wb") as f:
        left, i = int(a[1]), 0
        while left > 0:
            b = (b"zcap-needle %06d\n" % i + os.urandom(65536))[:min(65536, left)]
            f.write(b)
            left -= len(b)
            i += 1
elif mode == "sink":      # sink ADDR PORT FILE: one TCP connection's bytes into FILE
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a[0], int(a[1])))
    s.listen(1)
    print("ready", flush=True)
    c, _ = s.accept()
    with open(a[2], "wb") as f:
        while True:
            b = c.recv(1 << 16)
            if not b:
                break
            f.write(b)
elif mode == "send":      # send ADDR PORT FILE
    c = socket.create_connection((a[0], int(a[1])))
    with open(a[2], "rb") as f:
        c.sendall(f.read())
    c.close()
elif mode == "udprecv":   # udprecv ADDR PORT N: prints got=N (at N, or 5 s idle)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a[0], int(a[1])))
    s.settimeout(5)
    print("ready", flush=True)
    n = 0
    try:
        while n < int(a[2]):
            s.recv(2048)
            n += 1
    except socket.timeout:
        pass
    print("got=%d" % n, flush=True)
elif mode == "udpsend":   # udpsend ADDR PORT N: N datagrams of 20..1019 bytes, 2 ms apart
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(int(a[2])):
        s.sendto(b"zcap-needle udp %03d " % i + bytes([i % 256]) * (i * 5 % 1000),
                 (a[0], int(a[1])))
        time.sleep(0.002)
PY
NET="$TMP/net.py"
mkdir -p "$TMP/www" "$TMP/got"
printf 'zcap-needle a\nsmall text\n' >"$TMP/www/a.txt"
printf '<html><body><p>zcap-needle b</p></body></html>\n' >"$TMP/www/b.html"
python3 "$NET" mkfile "$TMP/www/mid.bin" 150000
python3 "$NET" mkfile "$TMP/www/big.bin" 4000000
python3 "$NET" mkfile "$TMP/bulk.bin" 8000000
ip netns exec "$GEN_NS" python3 -u -m http.server 8000 --bind "$SRV" --directory "$TMP/www" \
	>"$TMP/http.log" 2>&1 &
SRV_PID=$!
wait_for "$TMP/http.log" "Serving HTTP" 100 "$SRV_PID" || not_ok "the HTTP server starts"

# fetch FILE: by curl and by wget (no proxy: the server is in the namespace
# next door), each compared with the original; status 0 when both are
fetch() {
	ip netns exec "$CAP_NS" curl -sS --noproxy '*' -o "$TMP/got/curl.$1" "http://$SRV:8000/$1" &&
		ip netns exec "$CAP_NS" wget -q --no-proxy -O "$TMP/got/wget.$1" "http://$SRV:8000/$1" &&
		cmp -s "$TMP/got/curl.$1" "$TMP/www/$1" && cmp -s "$TMP/got/wget.$1" "$TMP/www/$1"
}
# start_kernel_apps TAG: the nine programs, files and directories named TAG*
start_kernel_apps() {
	mkdir -p "$TMP/${1}fz" "$TMP/${1}fp"
	app ref plain err "listening on" tcpdump -Z root -B 262144 -i "$CAP_IF" -w "$TMP/${1}ref.pcap" &&
		app tz zcap err "listening on" tcpdump -Z root -i "$CAP_IF" -w "$TMP/${1}tz.pcap" &&
		app tp plain err "listening on" tcpdump -Z root -i "$CAP_IF" -w "$TMP/${1}tp.pcap" &&
		app dz "$DUMPCAP" err '^File:' dumpcap -i "$CAP_IF" -B 256 -w "$TMP/${1}dz.pcapng" &&
		app dp plain err '^File:' dumpcap -i "$CAP_IF" -B 256 -w "$TMP/${1}dp.pcapng" &&
		app nz zcap out "^match" ngrep -d "$CAP_IF" -q -l -W single zcap-needle &&
		app np plain out "^match" ngrep -d "$CAP_IF" -q -l -W single zcap-needle &&
		app fz zcap err "listening on" tcpflow -i "$CAP_IF" -o "$TMP/${1}fz" &&
		app fp plain err "listening on" tcpflow -i "$CAP_IF" -o "$TMP/${1}fp"
}
# analyse TAG: per-frame lists, ngrep's lines (also on the reference's
# file), tcpflow's flows (also from the reference's file); a diag of counts
analyse() {
	for _f in ref.pcap tz.pcap tp.pcap dz.pcapng dp.pcapng; do
		pkts "$TMP/$1$_f" >"$TMP/$1${_f%%.*}.pk"
	done
	matches "$TMP/nz.out" >"$TMP/${1}nz.m"
	matches "$TMP/np.out" >"$TMP/${1}np.m"
	ngrep_file "$TMP/${1}ref.pcap" zcap-needle >"$TMP/${1}nref.m"
	mkdir -p "$TMP/${1}fref"
	tcpflow -r "$TMP/${1}ref.pcap" -o "$TMP/${1}fref" >/dev/null 2>&1
	diag "$1 frames: reference $(n_of "$TMP/${1}ref.pk") (dropped by kernel:" \
		"$(stat_line "$TMP/ref.err" "dropped by kernel")), tcpdump under zcap-run" \
		"$(n_of "$TMP/${1}tz.pk"), plain $(n_of "$TMP/${1}tp.pk") (dropped by kernel:" \
		"$(stat_line "$TMP/tp.err" "dropped by kernel")), dumpcap under zcap-run" \
		"$(n_of "$TMP/${1}dz.pk"), plain $(n_of "$TMP/${1}dp.pk")"
	diag "$1 ngrep lines: under zcap-run $(n_of "$TMP/${1}nz.m"), plain $(n_of "$TMP/${1}np.m")," \
		"on the reference's file $(n_of "$TMP/${1}nref.m")"
	diag "$1 tcpflow flows: under zcap-run $(nflows "$TMP/${1}fz"), plain" \
		"$(nflows "$TMP/${1}fp"), from the reference's file $(nflows "$TMP/${1}fref")"
}
# wire_sized TAG: no frame in the reference longer than 1514 bytes, and
# some of exactly 1514 (full-sized TCP segments, not merged by GRO/TSO)
wire_sized() {
	awk '{ n = length($0) / 2; if (n > max) max = n; if (n == 1514) full++ }
		END { print "# longest frame", max, "bytes,", full + 0, "of 1514"; exit !(max == 1514 && full > 0) }' \
		"$TMP/${1}ref.pk"
}
# count TAG FILTER: frames tshark's FILTER matches in the zcap-run tcpdump's file
count() { tshark -r "$TMP/${1}tz.pcap" -Y "$2" -T fields -e frame.number 2>/dev/null | wc -l; }
# flow_ends TAG FILE: how many server-to-client flows under zcap-run end
# with FILE's bytes (an HTTP response: headers, then the file)
flow_ends() {
	_fe_n=0 _fe_size=$(wc -c <"$2")
	for _fe in "$TMP/${1}fz"/198.018.000.001.08000-*; do
		[ -f "$_fe" ] && tail -c "$_fe_size" "$_fe" | cmp -s - "$2" && _fe_n=$((_fe_n + 1))
	done
	echo $_fe_n
}

# Slow traffic, a few hundred kB: every plain program's ring holds it all.
start_kernel_apps s || not_ok "slow kernel traffic: the programs start"
check "tcpflow under zcap-run has libzcap-pcap.so mapped; the plain one not" through_zcap fz fp
ip -n "$CAP_NS" neigh flush dev "$CAP_IF"
ip -n "$GEN_NS" neigh flush dev "$GEN_IF"
ip netns exec "$CAP_NS" arping -c 2 -I "$CAP_IF" "$SRV" >"$TMP/arping.out" 2>&1
check "slow: arping got 2 replies" grep -q "Received 2 response" "$TMP/arping.out"
fetched=0
for f in a.txt b.html mid.bin; do fetch "$f" && fetched=$((fetched + 1)); done
check "slow: curl and wget fetched a.txt, b.html, mid.bin (150 kB) intact" [ $fetched -eq 3 ]
ip netns exec "$GEN_NS" python3 -u "$NET" udprecv "$SRV" 7000 200 >"$TMP/udp.out" 2>&1 &
UDP_PID=$!
wait_for "$TMP/udp.out" ready 100 "$UDP_PID"
ip netns exec "$CAP_NS" python3 "$NET" udpsend "$SRV" 7000 200
wait "$UDP_PID"
UDP_PID=
check "slow: 200 UDP datagrams received" grep -q "^got=200" "$TMP/udp.out"
stop_all
check "slow: all nine programs exit 0 after SIGINT" exited0 ref tz tp dz dp nz np fz fp
check "slow: tcpdump, dumpcap, ngrep, tcpflow under zcap-run: ZCAP_RUN_VERBOSE names the backend" \
	sh -c 'for k in tz dz nz fz; do grep -q "capturing with libzcap, backend " "$1/$k.err" || exit 1; done' \
	sh "$TMP"
analyse s
check "slow: the reference dropped nothing" [ "$(stat_line "$TMP/ref.err" "dropped by kernel")" = 0 ]
check "slow: frames are wire-sized (TSO, GSO, GRO off)" wire_sized s
arp_req=$(count s "arp.opcode == 1") arp_rep=$(count s "arp.opcode == 2")
http_req=$(count s "http.request") udp_n=$(count s "udp.dstport == 7000")
diag "slow, under zcap-run: ARP requests $arp_req, replies $arp_rep, HTTP requests $http_req, UDP datagrams $udp_n"
check "slow, under zcap-run: ARP requests and replies (arping's, the kernel's), the 6 HTTP requests, the 200 datagrams" \
	[ "$arp_req" -ge 3 -a "$arp_rep" -ge 3 -a "$http_req" -eq 6 -a "$udp_n" -eq 200 ]
check "slow: tcpdump under zcap-run holds the reference's frames, and no other" \
	same "$TMP/stz.pk" "$TMP/sref.pk"
check "slow: tcpdump, the same frames plainly and under zcap-run" same "$TMP/stz.pk" "$TMP/stp.pk"
check "slow: dumpcap under zcap-run holds the reference's frames, and no other" \
	same "$TMP/sdz.pk" "$TMP/sref.pk"
check "slow: dumpcap, the same frames plainly and under zcap-run" same "$TMP/sdz.pk" "$TMP/sdp.pk"
check "slow: ngrep matched the 200 datagrams and the HTTP bodies" \
	[ "$(grep -c '^U ' "$TMP/snz.m")" -eq 200 -a "$(grep -c '^T ' "$TMP/snz.m")" -ge 6 ]
check "slow: ngrep, the same matched lines plainly and under zcap-run" same "$TMP/snz.m" "$TMP/snp.m"
check "slow: ngrep under zcap-run, the lines it matches in the reference's file" \
	same "$TMP/snz.m" "$TMP/snref.m"
check "slow: tcpflow, the same flows plainly and under zcap-run" flows "$TMP/sfz" "$TMP/sfp"
check "slow: tcpflow under zcap-run, the flows it makes of the reference's file" \
	flows "$TMP/sfz" "$TMP/sfref"
check "slow: tcpflow under zcap-run, mid.bin whole in curl's and wget's responses" \
	[ "$(flow_ends s "$TMP/www/mid.bin")" -eq 2 ]

# Fast traffic: 8 MB in one TCP connection, 4 MB fetched twice over HTTP,
# as fast as the kernel sends them. The plain programs with libpcap's
# 2 MiB rings may lose; what runs under zcap-run must not.
start_kernel_apps f || not_ok "fast kernel traffic: the programs start"
ip netns exec "$GEN_NS" python3 -u "$NET" sink "$SRV" 9000 "$TMP/got/bulk.bin" >"$TMP/sink.out" 2>&1 &
SINK_PID=$!
wait_for "$TMP/sink.out" ready 100 "$SINK_PID"
ip netns exec "$CAP_NS" python3 "$NET" send "$SRV" 9000 "$TMP/bulk.bin"
wait "$SINK_PID"
SINK_PID=
check "fast: 8 MB bulk transfer arrived intact" cmp -s "$TMP/got/bulk.bin" "$TMP/bulk.bin"
check "fast: curl and wget fetched big.bin (4 MB) intact" fetch big.bin
stop_all
check "fast: all nine programs exit 0 after SIGINT" exited0 ref tz tp dz dp nz np fz fp
analyse f
check "fast: the reference dropped nothing" [ "$(stat_line "$TMP/ref.err" "dropped by kernel")" = 0 ]
check "fast: frames are wire-sized (TSO, GSO, GRO off)" wire_sized f
check "fast: tcpdump under zcap-run holds every frame the reference held, and no other" \
	same "$TMP/ftz.pk" "$TMP/fref.pk"
check "fast: dumpcap under zcap-run holds every frame the reference held, and no other" \
	same "$TMP/fdz.pk" "$TMP/fref.pk"
check "fast: plain tcpdump holds only frames the reference held" holds "$TMP/fref.pk" "$TMP/ftp.pk"
check "fast: plain dumpcap holds only frames the reference held" holds "$TMP/fref.pk" "$TMP/fdp.pk"
check "fast: ngrep under zcap-run, the lines it matches in the reference's file" \
	same "$TMP/fnz.m" "$TMP/fnref.m"
cmp -s "$TMP/fnp.m" "$TMP/fnref.m" && _np=yes || _np=no
flows "$TMP/ffp" "$TMP/ffref" && _fp=yes || _fp=no
diag "fast, plain programs: ngrep's lines as on the reference's file: $_np; tcpflow's flows: $_fp"
check "fast: tcpflow under zcap-run, the flows it makes of the reference's file" \
	flows "$TMP/ffz" "$TMP/ffref"
# the client-to-sink flow: one file, the 8 MB sent
bulk_flow() {
	set -- "$TMP/ffz"/198.018.000.002.*-198.018.000.001.09000
	[ $# -eq 1 ] && cmp -s "$1" "$TMP/bulk.bin"
}
check "fast: tcpflow under zcap-run, the 8 MB bulk flow byte for byte" bulk_flow
check "fast: tcpflow under zcap-run, big.bin whole in curl's and wget's responses" \
	[ "$(flow_ends f "$TMP/www/big.bin")" -eq 2 ]
