#!/bin/sh
# Guest script: the module's classic BPF (kmod/cbpf.c, the direct path)
# against the kernel's (the skb path), with build/vm/pfzc_cbpf_diff
# (tests/vm/pfzc_cbpf_diff.c): libpcap filters, hand-written and random
# programs over untagged, 802.1Q, 802.1ad, double-tagged and short frames
# on the module's virtual pair; same verdicts and snap lengths on both.
# Reloads the module with pairs=1 and ends with it loaded as before
# (family=27, no pairs). Run it alone with
#   make vm-bins && sh tests/vm/run.sh tests/vm/guest/72-pfzc-cbpf-diff.sh
. "$(dirname "$0")/lib.sh"

DIFF=$BUILD/vm/pfzc_cbpf_diff
why="pf_zerocopy is not loaded, or no $DIFF"
skip_unless "classic BPF differential" "$why" module_loaded pf_zerocopy
skip_unless "classic BPF differential" "$why" [ -x "$DIFF" ]

check "rmmod pf_zerocopy (to reload it with pairs=1)" rmmod pf_zerocopy
check "insmod pf_zerocopy family=27 pairs=1" insmod "$KMOD" family=27 pairs=1
if [ ! -e /sys/class/net/zc0 ] || [ ! -e /sys/class/net/zc1 ]; then
	not_ok "pairs=1 makes zc0 and zc1"
	exit 1
fi
for i in zc0 zc1; do
	sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1" 2>/dev/null
	ip link set "$i" up
done

start=$(date +%s)
"$DIFF" zc0 zc1 "${PFZC_CBPF_RANDOM:-2000}"
rc=$?
diag "pfzc_cbpf_diff: status $rc after $(($(date +%s) - start)) s"
check "pfzc_cbpf_diff exits 0" [ $rc -eq 0 ]

check "rmmod pf_zerocopy" rmmod pf_zerocopy
check "insmod pf_zerocopy family=27 again" insmod "$KMOD" family=27
rm -rf "$TMP"
