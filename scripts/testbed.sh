#!/bin/sh
# The testbed: two network namespaces joined by a veth pair.
#
#   scripts/testbed.sh up NAME     creates NAME-gen and NAME-cap, with the
#                                  veth ends NAME-g (sender) and NAME-c (capture)
#   scripts/testbed.sh down NAME   removes them
#   scripts/testbed.sh mac NAME    prints the capture end's MAC address
#   scripts/testbed.sh link NAME N [QUEUES]
#                                  another veth pair between them, NAME-gN and
#                                  NAME-cN (a second interface to capture), with
#                                  QUEUES rx and tx queues each (default 1): a
#                                  frame sent through the qdisc goes to the queue
#                                  of its flow hash, as RSS would spread it
#
# The namespaces have no IP addresses and no IPv6, so the only traffic on the
# link is what the generator sends: no router solicitations, no ICMP replies.
set -eu

cmd=${1:-}
name=${2:-zcap}
gen="$name-gen"
cap="$name-cap"
gif="$name-g"
cif="$name-c"

case "${#gif}" in
1|2|3|4|5|6|7|8|9|10|11|12|13|14|15) ;;
*) echo "testbed: name '$name' too long for an interface name" >&2; exit 2 ;;
esac

quiet_ns() {
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null
	ip -n "$1" link set lo up
}

case "$cmd" in
up)
	"$0" down "$name" 2>/dev/null || true
	ip netns add "$gen"
	ip netns add "$cap"
	quiet_ns "$gen"
	quiet_ns "$cap"
	"$0" link "$name"
	;;
link)
	# another veth pair between the two namespaces: NAME-gN, NAME-cN
	[ -n "${3:-}" ] && gif="$gif$3" cif="$cif$3"
	q=${4:-1}
	ip link add "$gif" numrxqueues "$q" numtxqueues "$q" type veth \
		peer name "$cif" numrxqueues "$q" numtxqueues "$q"
	ip link set "$gif" netns "$gen"
	ip link set "$cif" netns "$cap"
	ip netns exec "$gen" sysctl -qw net.ipv6.conf."$gif".disable_ipv6=1 >/dev/null
	ip netns exec "$cap" sysctl -qw net.ipv6.conf."$cif".disable_ipv6=1 >/dev/null
	ip -n "$gen" link set "$gif" up
	ip -n "$cap" link set "$cif" up
	;;
down)
	ip netns del "$gen" 2>/dev/null || true
	ip netns del "$cap" 2>/dev/null || true
	;;
mac)
	cat "/sys/class/net/$cif/address" 2>/dev/null ||
		ip -n "$cap" -o link show "$cif" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
	;;
*)
	echo "usage: testbed.sh up|down|mac NAME, or link NAME N [QUEUES]" >&2
	exit 2
	;;
esac
