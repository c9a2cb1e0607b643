# TAP helpers for the guest scripts in the VM (busybox sh). Source it with
#   . "$(dirname "$0")/lib.sh"
# Each script prints TAP lines ("ok - name", "not ok - name",
# "ok - name # SKIP why") and "# ..." comments; tests/vm/run.sh counts them.
#
# Layout inside the VM (run.sh puts the project there):
#   /zcap/build/zcap, zcap-gen, zcap-verify   the tools
#   /zcap/build/vm/*                          extra test binaries (build/vm/)
#   /zcap/kmod/pf_zerocopy.ko                 the module, when it was built
#   /zcap/tests/vm/guest/*.sh                 these scripts
# The module, when present, is already loaded (family=27) before the
# first script runs; veth is loaded too. There is no ip netns: use a veth
# pair in the root namespace (veth_pair below), or unshare/nsenter.

ZROOT=/zcap
BUILD=$ZROOT/build
ZCAP=$BUILD/zcap
GEN=$BUILD/zcap-gen
VERIFY=$BUILD/zcap-verify
KMOD=$ZROOT/kmod/pf_zerocopy.ko
TMP=$(mktemp -d /tmp/vmtest.XXXXXX)

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
skip() { echo "ok - $1 # SKIP $2"; }
diag() { echo "# $*"; }

# check NAME CMD...: one TAP line from a command's exit status
check() {
	_check_name=$1
	shift
	if "$@"; then ok "$_check_name"; else not_ok "$_check_name"; fi
}

# module_loaded NAME: NAME is in /proc/modules
module_loaded() { grep -q "^$1 " /proc/modules; }

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

# mac IF: IF's MAC address
mac() { cat "/sys/class/net/$1/address"; }

# wait_for FILE PATTERN [TENTHS]: until grep finds PATTERN in FILE (default
# 30 s; TCG is slow)
wait_for() {
	_i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		[ "$_i" -ge "${3:-300}" ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

# kv FILE KEY: value of KEY=value in the last line of FILE containing it
kv() { grep -o "$2=[0-9.]*" "$1" | tail -1 | cut -d= -f2; }
