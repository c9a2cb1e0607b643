# Helpers for the guest scripts in the VM (busybox sh). Source it with
#   . "$(dirname "$0")/lib.sh"
# Each script prints TAP lines ("ok - name", "not ok - name",
# "ok - name # SKIP why") and "# ..." comments; tests/vm/run.sh counts them.
# The TAP helpers (ok, not_ok, skip, diag, check, skip_unless), wait_for,
# wait_gone, kv and summary are those of scripts/lib.sh, which run.sh puts
# in the VM as /zcap/scripts/lib.sh. verify_valid (below) wraps zcap-verify.
#
# Layout inside the VM (run.sh puts the project there):
#   /zcap/build/zcap, zcap-gen, zcap-verify   the tools
#   /zcap/build/vm/*                          extra test binaries (build/vm/)
#   /zcap/kmod/pf_zerocopy.ko                 the module, when it was built
#   /zcap/scripts/lib.sh                      the shared helpers
#   /zcap/tests/vm/guest/*.sh                 these scripts
# The module, when present, is already loaded (family=27) before the
# first script runs; veth is loaded too. There is no ip netns: use a veth
# pair in the root namespace (veth_pair below), or unshare/nsenter.

ZROOT=/zcap
. "$ZROOT/scripts/lib.sh"
BUILD=$ZROOT/build
ZCAP=$BUILD/zcap
GEN=$BUILD/zcap-gen
VERIFY=$BUILD/zcap-verify
KMOD=$ZROOT/kmod/pf_zerocopy.ko
TMP=$(mktemp -d /tmp/vmtest.XXXXXX)
# tcpdump -Z root (and the user drop of Debian's tcpdump) looks the user up
grep -q '^root:' /etc/passwd 2>/dev/null || echo 'root:x:0:0:root:/root:/bin/sh' >>/etc/passwd

# At its exit, every guest script says "# zcap-vm: end NAME". run.sh
# requires from each script it asked for at least one TAP line and this
# closing line after it: a script that did not run, printed nothing, or was
# killed before its end fails there. (No TAP plan "1..N": the test programs
# the scripts run print TAP lines of their own, which the shell cannot count.)
trap 'echo "# zcap-vm: end ${0##*/}"' EXIT

# module_loaded NAME: NAME is in /proc/modules
module_loaded() { grep -q "^$1 " /proc/modules; }

# need_pfzc NAME PROG: the script skips (as NAME) and ends unless the
# pf_zerocopy module is loaded and PROG (a test program) is there
need_pfzc() {
	_np_why="pf_zerocopy is not loaded, or no $2"
	skip_unless "$1" "$_np_why" module_loaded pf_zerocopy
	skip_unless "$1" "$_np_why" [ -x "$2" ]
}

# with_pairs: pf_zerocopy reloaded with pairs=1 (the virtual pair zc0 <->
# zc1, both up, no IPv6), as TAP lines; the script ends (status 1), with
# the module loaded as before, without it. pfzc_restore puts it back as the
# other scripts expect it (family=27, no pairs).
pfzc_restore() {
	rmmod pf_zerocopy 2>/dev/null
	insmod "$KMOD" family=27
}
with_pairs() {
	check "rmmod pf_zerocopy (to reload it with pairs=1)" rmmod pf_zerocopy
	if ! insmod "$KMOD" family=27 pairs=1; then
		not_ok "insmod pf_zerocopy family=27 pairs=1"
		insmod "$KMOD" family=27
		exit 1
	fi
	ok "insmod pf_zerocopy family=27 pairs=1"
	for _i in zc0 zc1; do
		sysctl -qw "net.ipv6.conf.$_i.disable_ipv6=1" 2>/dev/null
		ip link set "$_i" up
	done
}

# veth_pair A B: a veth pair A <-> B, both up, no IPv6 (so no traffic of
# their own). busybox ip ignores "peer name", so the peer is found by the
# ifindex A's iflink names and renamed to B.
veth_pair() {
	ip link del "$1" 2>/dev/null
	ip link add "$1" type veth peer name "$2" || return 1
	if [ ! -e "/sys/class/net/$2" ]; then
		_peer_idx=$(cat "/sys/class/net/$1/iflink")
		for _d in /sys/class/net/*; do
			if [ "$(cat "$_d/ifindex")" = "$_peer_idx" ]; then
				ip link set dev "${_d##*/}" name "$2" || return 1
				break
			fi
		done
	fi
	[ -e "/sys/class/net/$2" ] || return 1
	for _i in "$1" "$2"; do
		sysctl -qw "net.ipv6.conf.$_i.disable_ipv6=1" 2>/dev/null
		ip link set "$_i" up || return 1
	done
}

# need_veth_pair A B: veth_pair A B as a TAP line; the script ends (status
# 1) without it
need_veth_pair() {
	if ! veth_pair "$1" "$2"; then
		not_ok "veth pair $1 <-> $2"
		exit 1
	fi
	ok "veth pair $1 <-> $2"
}

# mac IF: IF's MAC address
mac() { cat "/sys/class/net/$1/address"; }

# start_cap IF LOG ARGS...: zcap on IF (CPU 1) until it listens; sets CAP.
# The generator runs on CPU 0: veth does the receive work on the sender's
# core.
start_cap() {
	_sc_if=$1 _sc_log=$2
	shift 2
	rm -f "$_sc_log"
	taskset -c 1 "$ZCAP" -i "$_sc_if" "$@" 2>"$_sc_log" &
	CAP=$!
	wait_for "$_sc_log" "listening on" || { cat "$_sc_log"; return 1; }
}
# stop_cap [PID]: SIGINT to PID (default: the last start_cap's), and its
# exit status
stop_cap() { kill -INT "${1:-$CAP}"; wait "${1:-$CAP}"; }

# stop_counted KIND PID LOG: SIGINT to PID (a capturer of Figure 5's guest
# scripts), wait for it; CAPTURED is what it says it captured in LOG
# (pcap_count's captured=N, else zcap's or tcpdump's summary). Not in a
# subshell: only the shell that started PID can wait for it.
stop_counted() {
	kill -INT "$2"
	wait "$2"
	case "$1" in
	pcap) CAPTURED=$(kv "$3" captured) ;;
	*) CAPTURED=$(summary "$3" captured) ;;
	esac
}

# verify_valid N ARG...: zcap-verify ARG... (options, then the file) passes
# (so no frame is corrupt, duplicate, out of order or cut short, and none
# is missing unless --allow-loss) and its line counts valid=N: the file
# holds exactly N whole frames of zcap-gen's. Its output goes out as "# "
# comments.
verify_valid() {
	_vv_n=$1
	shift
	"$VERIFY" "$@" >"$TMP/verify.out" 2>&1
	_vv_rc=$?
	sed 's/^/# /' "$TMP/verify.out"
	[ "$_vv_rc" -eq 0 ] && [ "$(kv "$TMP/verify.out" valid)" = "$_vv_n" ]
}

# ifname_of MAC: the interface with that address
ifname_of() {
	for d in /sys/class/net/*; do
		[ "$(cat "$d/address" 2>/dev/null)" = "$1" ] && { echo "${d##*/}"; return 0; }
	done
	return 1
}

# carrier_on IF: wait (up to 60 s) for IF's link. The bind of a direct
# receiver to the patched e1000 restarts the NIC's receive side with
# e1000's own down/up, which takes the link down until the driver's
# watchdog sees it again.
carrier_on() {
	for _ in $(seq 600); do
		[ "$(cat "/sys/class/net/$1/carrier" 2>/dev/null)" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}

# --- the NIC drivers' scripts (80-e1000-zc.sh, 81-rtl8139-cring.sh) ----------
# Each defines pz COL (a column of its device's direct receiver in
# /proc/net/pf_zerocopy) and MEMCHECK (tests/vm/pfzc_memcheck).

# if_drops LOG: zcap's "dropped by interface"
if_drops() { summary "$1" "dropped by interface"; }
# memcheck WHAT: no page the kernel freed was written to (a TAP line)
memcheck() { check "$1: no DMA into freed pages" "$MEMCHECK" 256 3; }
# grows_after S: the direct receiver's rx_dma rises above S within 10 s
grows_after() {
	for _ in $(seq 100); do
		[ "$(pz 11)" -gt "$1" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
