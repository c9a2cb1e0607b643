#!/bin/sh
# Guest script: the foundation's capture tests, through the pf_zerocopy
# module (zcap --backend pfzc) over a veth pair: every frame once, in order,
# intact; the filter; drops counted when the reader stalls.
. "$(dirname "$0")/lib.sh"

skip_unless "capture through pfzc" "pf_zerocopy is not loaded" module_loaded pf_zerocopy
N=${PFZC_FRAMES:-100000}
veth_pair vz0 vz1 || { not_ok "veth pair vz0/vz1"; exit 1; }
MAC=$(mac vz1)

sent() { kv "$TMP/gen.log" sent; }
captured() { summary "$1" captured; }
ring_drops() { summary "$1" "dropped by ring"; }
# sendmmsg: it resends a frame veth's full backlog refused; AF_XDP copy
# mode (zcap-gen's default) can only count it, and these tests want all
gen() { taskset -c 0 "$GEN" --backend packet -q -i vz0 --dst-mac "$MAC" "$@" 2>"$TMP/gen.log"; }

# auto picks the module when it is loaded, and says so
"$ZCAP" -v -i vz1 -c 1 -w /dev/null 2>"$TMP/auto.log" &
a=$!
wait_for "$TMP/auto.log" "listening on"
gen -c 5 -s 64
wait $a
check "auto picks pfzc when the module is loaded" grep -q "backend pfzc$" "$TMP/auto.log"

# run_case NAME FIFO GEN-ARGS...: N frames into c.pcapng, or with FIFO=1
# into a fifo that cat copies there: zcap then writes the frames from the
# ring (writev) and gives slots back to the module only as the writer
# finishes with them (zcap_release_n: the consumer index moves in part)
run_case() {
	name=$1 fifo=$2
	shift 2
	out=$TMP/c.pcapng
	if [ "$fifo" = 1 ]; then
		rm -f "$TMP/fifo"
		mkfifo "$TMP/fifo"
		cat "$TMP/fifo" >"$TMP/c.pcapng" &
		catpid=$!
		out=$TMP/fifo
	fi
	if ! start_cap vz1 "$TMP/cap.log" --backend pfzc -q -w "$out"; then
		not_ok "$name: zcap starts"
		[ "$fifo" = 1 ] && kill $catpid
		return
	fi
	gen -c $N "$@"
	sleep 1
	stop_cap
	check "$name: zcap exits 0" [ $? -eq 0 ]
	[ "$fifo" = 1 ] && wait $catpid
	c=$(captured "$TMP/cap.log")
	d=$(ring_drops "$TMP/cap.log")
	diag "$name: sent=$(sent) captured=$c ring_drops=$d"
	check "$name: captured + dropped = sent" [ $((c + d)) -eq "$(sent)" ]
	check "$name: every frame once, in order, intact (valid=$N)" \
		verify_valid $N --expect $N "$TMP/c.pcapng"
	rm -f "$TMP/c.pcapng" "$TMP/fifo"
}
for args in "-s 64" "-s 1518" "--random-sizes"; do
	# shellcheck disable=SC2086  # the generator's arguments, split on purpose
	run_case "pfzc, $N frames, $args" 0 $args
done
run_case "pfzc, $N frames of 1518 B into a fifo" 1 -s 1518

# the filter runs in the module, and what it rejects is counted exactly
start_cap vz1 "$TMP/cap.log" --backend pfzc -q -w "$TMP/f.pcap" "dst host 198.18.0.3" ||
	not_ok "pfzc filter: zcap starts"
gen -c 300 -s 128 --dst-ip 198.18.0.2
gen -c 700 -s 128 --dst-ip 198.18.0.3 --start-seq 300
sleep 1
stop_cap
check "pfzc filter: only the 700 matching captured" [ "$(captured "$TMP/cap.log")" -eq 700 ]
check "pfzc filter: the 300 others counted as filtered" \
	grep -q "^300 packets filtered by kernel" "$TMP/cap.log"
check "pfzc filter: they are seq 300..999, in order, intact (valid=700)" \
	verify_valid 700 --start-seq 300 --expect 700 "$TMP/f.pcap"

# a stalled reader on a small ring: drops are counted, captured + dropped = sent
start_cap vz1 "$TMP/cap.log" --backend pfzc -q -B 128 -w "$TMP/d.pcapng" ||
	not_ok "pfzc stall: zcap starts"
kill -STOP $CAP
gen -c 3000 -s 256
kill -CONT $CAP
sleep 1
stop_cap
c=$(captured "$TMP/cap.log")
d=$(ring_drops "$TMP/cap.log")
diag "pfzc stall: sent=$(sent) captured=$c ring_drops=$d"
check "pfzc stall: the ring dropped packets" [ "$d" -gt 0 ]
check "pfzc stall: captured + dropped = sent" [ $((c + d)) -eq "$(sent)" ]
check "pfzc stall: what was captured is in the file, in order and intact (valid=$c)" \
	verify_valid "$c" --allow-loss --expect 3000 "$TMP/d.pcapng"
ip link del vz0
