#!/bin/sh
# Long captures (issue 16): rotation with tcpdump's -C, -G, -W and -z, and
# dumpcap's -a stop conditions. Over 1,000,000 numbered frames at full
# speed, the files of a rotation, read in order, hold every frame exactly
# once; each file is a valid capture of its own (libpcap and tshark); a file
# is only seen under its name when it is complete.
. "$(dirname "$0")/../lib.sh"
need_root "rotation"
testbed_up

N=1000000

# files_in_order PREFIX: PREFIX, PREFIX1, PREFIX2, ... as long as they exist
# (tcpdump's -C names), one per line
files_in_order() {
	[ -e "$1" ] && echo "$1"
	_i=1
	while [ -e "$1$_i" ]; do
		echo "$1$_i"
		_i=$((_i + 1))
	done
}

# all_clean FILE...: tshark reads every one without a warning
all_clean() {
	for _f; do
		tshark_clean "$_f" || { diag "tshark complains about $_f"; return 1; }
	done
}

# packets FILE...: the sum of the packets libpcap reads in them
packets() {
	_n=0
	for _f; do
		_c=$("$VERIFY" --allow-loss --allow-foreign --allow-truncated "$_f" 2>/dev/null |
			sed -n 's/.*total=\([0-9]*\).*/\1/p')
		_n=$((_n + ${_c:-0}))
	done
	echo "$_n"
}

no_part_files() { ! ls -a "$1" | grep -q '\.part$'; }

# ---- -C: a new file before one would pass 8 MB --------------------------------
mkdir "$TMP/c"
start_capture "$TMP/c.log" -q -C 8 -w "$TMP/c/t.pcapng" || not_ok "-C: zcap starts"
gen -c $N -s 64
sent=$(kv "$TMP/gen.log" sent)
sleep 0.3
check "-C: zcap exits 0 after SIGINT" stop_capture
captured=$(summary "$TMP/c.log" captured)
ringdrop=$(summary "$TMP/c.log" "dropped by ring")
nfiles=$(sed -n 's/^\([0-9][0-9]*\) files written$/\1/p' "$TMP/c.log")
set -- $(files_in_order "$TMP/c/t.pcapng")
diag "-C 8: sent=$sent captured=$captured ring_drop=$ringdrop files=$# (summary: $nfiles)"
check "-C: more than one file (12 files of 96 MB at 64 B)" [ $# -ge 10 ]
check "-C: the summary counts the files" [ "$nfiles" = $# ]
check "-C: the files in order hold the $N frames each once, in order, intact" \
	verified "$*" $N
check "-C: captured = the packets in the files" [ "$(packets "$@")" = "$captured" ]
check "-C: tshark reads every file without a warning" all_clean "$@"
big=0
for f; do [ "$(stat -c %s "$f")" -gt 8000000 ] && big=1; done
check "-C: no file over 8,000,000 bytes" [ $big -eq 0 ]
check "-C: no part file left" no_part_files "$TMP/c"
check "-C: the first file has tcpdump's name (t.pcapng), the second t.pcapng1" \
	[ -f "$TMP/c/t.pcapng" -a -f "$TMP/c/t.pcapng1" ]
check "-C: every file is pcapng (the name's extension)" \
	[ "$(for f; do capinfos -t "$f" 2>/dev/null | sed -n 's/.*type: *//p'; done | sort -u)" = \
	  "Wireshark/... - pcapng" ]
rm -rf "$TMP/c"

# ---- -C with -W: a ring of 3 files -------------------------------------------
mkdir "$TMP/w"
start_capture "$TMP/w.log" -q -C 1 -W 3 -w "$TMP/w/r.pcap" || not_ok "-W: zcap starts"
gen -c 200000 -s 64
sleep 0.3
check "-C -W 3: zcap exits 0 after SIGINT" stop_capture
check "-C -W 3: exactly the 3 files r0 r1 r2" \
	[ "$(ls "$TMP/w" | tr '\n' ' ')" = "r.pcap0 r.pcap1 r.pcap2 " ]
# oldest first: the ring overwrote the oldest each time
set -- $(ls -tr "$TMP/w"/r.pcap?)
"$VERIFY" --allow-loss "$@" >"$TMP/w.out" 2>&1
sed 's/^/# /' "$TMP/w.out"
check "-C -W 3: the ring holds the last frames, each once and in order" \
	[ "$(kv "$TMP/w.out" last_seq)" = 199999 -a "$(kv "$TMP/w.out" duplicate)" = 0 \
	  -a "$(kv "$TMP/w.out" reordered)" = 0 -a "$(kv "$TMP/w.out" corrupt)" = 0 ]
check "-C -W 3: tshark reads every file without a warning" all_clean "$@"
# zcap-verify itself on a reordering: the oldest file with records 10 and
# 11 swapped, their timestamps left in place (as a link that reorders)
python3 - "$1" "$TMP/swap.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
out, recs, off = [d[:24]], [], 24
while off + 16 <= len(d):
    ts, incl = d[off:off + 8], struct.unpack("<I", d[off + 8:off + 12])[0]
    recs.append([ts, d[off + 8:off + 16], d[off + 16:off + 16 + incl]])
    off += 16 + incl
recs[10][1:], recs[11][1:] = recs[11][1:], recs[10][1:]
out += [b"".join(r) for r in recs]
open(sys.argv[2], "wb").write(b"".join(out))
PY
"$VERIFY" --allow-loss "$TMP/swap.pcap" >"$TMP/w.out" 2>&1
rc=$?
sed 's/^/# /' "$TMP/w.out"
check "zcap-verify: two frames swapped: 1 reordered, named, exit 1" \
	[ $rc -eq 1 -a "$(kv "$TMP/w.out" reordered)" = 1 -a "$(grep -c 'FAIL: 1 reordered$' "$TMP/w.out")" = 1 ]
"$VERIFY" --allow-loss --allow-reorder "$TMP/swap.pcap" >"$TMP/w.out" 2>&1
rc=$?
sed 's/^/# /' "$TMP/w.out"
check "zcap-verify --allow-reorder: the same file passes, exit 0, the reorder still counted" \
	[ $rc -eq 0 -a "$(kv "$TMP/w.out" reordered)" = 1 ]
rm -rf "$TMP/w"

# ---- -z: once per finished file, the last one too --------------------------------
mkdir "$TMP/z"
cat >"$TMP/z.sh" <<'EOF'
#!/bin/sh
# a finished file: it exists under its name and tshark reads it whole
[ -f "$1" ] && tshark -r "$1" -q >/dev/null 2>&1 && echo "ok $1" >>"${1%/*}/../z.log" ||
	echo "bad $1" >>"${1%/*}/../z.log"
EOF
chmod +x "$TMP/z.sh"
start_capture "$TMP/zc.log" -q -C 2 -z "$TMP/z.sh" -w "$TMP/z/z.pcap" || not_ok "-z: zcap starts"
gen -c 100000 -s 64
sleep 0.3
check "-z: zcap exits 0 after SIGINT" stop_capture
set -- $(files_in_order "$TMP/z/z.pcap")
# the commands are not waited for: give the last one time to append
i=0
while [ "$(cat "$TMP/z.log" 2>/dev/null | wc -l)" -lt $# ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
sed 's/^/# /' "$TMP/z.log"
check "-z: ran once per file ($# files), each time on a complete file" \
	[ "$(grep -c '^ok ' "$TMP/z.log")" -eq $# -a "$(sort -u "$TMP/z.log" | wc -l)" -eq $# ]
check "-z: more than one file" [ $# -ge 2 ]
check "-z: every file it ran on" \
	[ "$(sed 's/^ok //' "$TMP/z.log" | sort | tr '\n' ' ')" = "$(printf '%s\n' "$@" | sort | tr '\n' ' ')" ]
rm -rf "$TMP/z" "$TMP/z.log"

# ---- -G: a new file every second, named by strftime ------------------------------
# 1,000,000 frames at 250,000 a second: four seconds, so boundaries fall in
# the middle of the traffic
mkdir "$TMP/g"
start_capture "$TMP/g.log" -q -G 1 -w "$TMP/g/%s.pcapng" || not_ok "-G: zcap starts"
gen -c $N -s 64 -r 250000
sleep 0.3
check "-G: zcap exits 0 after SIGINT" stop_capture
captured=$(summary "$TMP/g.log" captured)
set -- "$TMP/g"/*.pcapng	# epoch seconds: same width, so sorted by time
diag "-G 1: captured=$captured files=$#"
check "-G: a file per second (at least 4)" [ $# -ge 4 ]
check "-G: names are strftime's %s of each interval, one file each" \
	[ "$(ls "$TMP/g" | grep -cE '^[0-9]{10}\.pcapng$')" -eq $# ]
check "-G: the files in order hold the $N frames each once, in order, intact" \
	verified "$*" $N
check "-G: tshark reads every file without a warning" all_clean "$@"
check "-G: no part file left" no_part_files "$TMP/g"
rm -rf "$TMP/g"

# ---- -G with -W: stop by itself after 2 files --------------------------------------
mkdir "$TMP/gw"
start_capture "$TMP/gw.log" -q -G 1 -W 2 -w "$TMP/gw/%s.pcap" || not_ok "-G -W: zcap starts"
gen -c 1500000 -s 64 -r 250000
check "-G 1 -W 2: zcap stops by itself, exit 0" wait_capture
check "-G 1 -W 2: says why" grep -q "maximum file limit reached" "$TMP/gw.log"
check "-G 1 -W 2: exactly 2 files" [ "$(ls "$TMP/gw" | wc -l)" -eq 2 ]
set -- "$TMP/gw"/*.pcap
captured=$(summary "$TMP/gw.log" captured)
check "-G 1 -W 2: captured = the packets in the 2 files" [ "$(packets "$@")" = "$captured" ]
check "-G 1 -W 2: the files hold frames each once, in order, intact" \
	counted valid "$*" "$captured" --allow-loss --start-seq "$("$VERIFY" --allow-loss "$@" | sed -n 's/.*first_seq=\([0-9]*\).*/\1/p')"
rm -rf "$TMP/gw"

# ---- -a: dumpcap's stop conditions ---------------------------------------------------
start_capture "$TMP/ad.log" -q -a duration:1 -w "$TMP/ad.pcap" || not_ok "-a duration: zcap starts"
check "-a duration:1: zcap stops by itself, exit 0" wait_capture
check "-a duration:1: the file is a valid capture" tshark_clean "$TMP/ad.pcap"

# zcap is stopped while 20,000 frames (30 MB) fill its 128 MiB ring: at the
# end, those past the file's limit are left unread in it, not lost
start_capture "$TMP/af.log" -q -a filesize:100 -w "$TMP/af.pcap" || not_ok "-a filesize: zcap starts"
kill -STOP "$CAP_PID"
gen -c 20000 -s 1518
kill -CONT "$CAP_PID"
check "-a filesize:100: zcap stops by itself, exit 0" wait_capture
sz=$(stat -c %s "$TMP/af.pcap" 2>/dev/null || echo 0)
diag "-a filesize:100: $sz bytes, $(summary "$TMP/af.log" captured) packets"
check "-a filesize:100: the file holds as many whole frames as fit in 100 kB" \
	[ "$sz" -le 100000 -a "$sz" -gt $((100000 - 1534)) ]
check "-a filesize:100: the frames in it are the first, in order, intact" \
	verified "$TMP/af.pcap" "$(summary "$TMP/af.log" captured)"
check "-a filesize:100: every frame sent is in the file, dropped or left unread" \
	accounted "$TMP/af.log"

mkdir "$TMP/an"
start_capture "$TMP/an.log" -q -C 1 -a files:3 -w "$TMP/an/n.pcap" || not_ok "-a files: zcap starts"
gen -c 100000 -s 64
check "-a files:3 with -C 1: zcap stops by itself, exit 0" wait_capture
check "-a files:3: exactly 3 files, n.pcap n.pcap1 n.pcap2" \
	[ "$(ls "$TMP/an" | tr '\n' ' ')" = "n.pcap n.pcap1 n.pcap2 " ]
check "-a files:3: the files hold the first frames, each once, in order" \
	verified "$(files_in_order "$TMP/an/n.pcap" | tr '\n' ' ')" \
	"$(summary "$TMP/an.log" captured)"
rm -rf "$TMP/an"

start_capture "$TMP/ap.log" -q -a packets:500 -w "$TMP/ap.pcap" || not_ok "-a packets: zcap starts"
gen -c 2000 -s 64
check "-a packets:500: zcap stops by itself, exit 0" wait_capture
check "-a packets:500: the first 500 frames" verified "$TMP/ap.pcap" 500

# ---- bad input: a clear message, exit 2 (usage) or 1, no file left -------------------
# bad_usage NAME CODE PHRASE ARGS...: zcap -i IF ARGS... fails so, no file made
bad_usage() {
	_name=$1 _code=$2 _msg=$3
	shift 3
	check "$_name" fails zcap "$_code" "$_msg" "" ip netns exec "$CAP_NS" "$ZCAP" -i "$CAP_IF" "$@"
}
mkdir "$TMP/bad"
bad_usage "-C 0: usage error" 2 "invalid file size '0'" -C 0 -w "$TMP/bad/x"
bad_usage "-C 12q: usage error" 2 "invalid file size '12q'" -C 12q -w "$TMP/bad/x"
bad_usage "-C to stdout: usage error" 2 "give -w FILE" -C 1 -w -
bad_usage "-G without -w: usage error" 2 "give -w FILE" -G 1
bad_usage "-W without -C or -G: usage error" 2 "-W needs -C or -G" -W 3 -w "$TMP/bad/x"
bad_usage "-a bogus:1: usage error" 2 "invalid stop condition 'bogus:1'" -a bogus:1 -w "$TMP/bad/x"
bad_usage "-a duration:x: usage error" 2 "invalid duration 'x'" -a duration:x -w "$TMP/bad/x"
bad_usage "-a files:3 without rotation: usage error" 2 "needs -C or -G" -a files:3 -w "$TMP/bad/x"
bad_usage "-C onto /dev/null: refused, exit 1" 1 "not a regular file" -C 1 -w /dev/null
check "-C onto /dev/null: /dev/null is still a character device" [ -c /dev/null ]
bad_usage "-C into a missing directory: exit 1" 1 "cannot create" -C 1 -w "$TMP/nodir/x.pcap"
check "bad input: no file left behind" [ -z "$(ls -A "$TMP/bad")" ]

# ---- full disk during a rotation: the finished files stay whole, the one
# being written is removed ----------------------------------------------------------
mkdir "$TMP/full"
if mount -t tmpfs -o size=2m tmpfs "$TMP/full"; then
	if start_capture "$TMP/full.log" -q -C 500k -w "$TMP/full/f.pcap"; then
		gen -s 1518 -c 20000 || diag "zcap-gen failed: $(cat "$TMP/gen.log")"
		wait_capture
		rc=$?
		check "full disk while rotating: zcap stops by itself, exit 1" [ "$rc" -eq 1 ]
		check "full disk while rotating: says 'No space left on device'" \
			grep -q "No space left on device" "$TMP/full.log"
		set -- $(files_in_order "$TMP/full/f.pcap")
		diag "full disk: $# finished files: $(ls -a "$TMP/full" | tr '\n' ' ')"
		check "full disk while rotating: the finished files remain (at least 2)" [ $# -ge 2 ]
		check "full disk while rotating: they hold the first frames, in order, intact" \
			verified "$*" "$(packets "$@")"
		check "full disk while rotating: the partial file is removed" no_part_files "$TMP/full"
	else
		not_ok "full disk while rotating: zcap starts"
	fi
	umount "$TMP/full"
else
	skip "full disk while rotating" "cannot mount a tmpfs"
fi

