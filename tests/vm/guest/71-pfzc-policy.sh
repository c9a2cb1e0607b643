#!/bin/sh
# Guest script: what a PF_ZEROCOPY socket may do, and to which device
# (issue 13, defects 3 to 6), with build/vm/pfzc_policy:
#   - direct receive takes CAP_NET_ADMIN: CAP_NET_RAW alone only observes;
#   - reject-all classic and eBPF filters swapped under traffic on the
#     direct path let nothing through;
#   - bind refuses links that are not plain Ethernet (tun, gre, vcan, lo),
#     and frames under 14 bytes are refused from sendmsg and the tx ring;
#   - insmod with a bad pairs= fails, says why, and leaves no family behind,
#     not even for a socket() racing it; a taken family unwinds the pairs.
# Ends with the module loaded as before (family=27, no pairs). Run it alone:
#   make all vm-bins && sh tests/vm/run.sh tests/vm/guest/71-pfzc-policy.sh
# The image modules for the non-Ethernet devices (run.sh reads this line):
# vm-modules: tun ip_tunnel gre ip_gre can-dev vcan
. "$(dirname "$0")/lib.sh"

POLICY=$BUILD/vm/pfzc_policy
RACE_SECS=${PFZC_RACE_SECS:-5}
need_pfzc "pf_zerocopy policy" "$POLICY"

with_pairs

# --- defect 3: direct receive takes CAP_NET_ADMIN -----------------------------
"$POLICY" caps zc1 zc0

# --- defect 5: the filter is read once on the direct path --------------------
"$POLICY" filter-race zc1 zc0 "$RACE_SECS" ring
"$POLICY" filter-race zc1 zc0 "$RACE_SECS" packet

# --- defect 4: Ethernet links only, no frame under 14 bytes ------------------
# the image's modules this script asked for, in run.sh's order
GUEST_MODULES=$(sed -n "s/^GUEST_MODULES='\(.*\)'\$/\1/p" /etc/zcap-vm.conf)
loaded=
for p in $GUEST_MODULES; do
	m=$(basename "$p" .ko | tr - _)
	module_loaded "$m" && continue
	if insmod "$p"; then
		loaded="$m $loaded"
	else
		diag "insmod $p failed"
	fi
done
noneth=lo
if module_loaded ip_gre && [ -e /sys/class/net/gre0 ]; then
	noneth="$noneth gre0"
else
	skip "bind to gre0" "ip_gre is not in the image or did not load"
fi
if module_loaded vcan && ip link add zpv0 type vcan; then
	noneth="$noneth zpv0"
else
	skip "bind to a vcan device" "vcan is not in the image, or ip link add type vcan failed"
fi
if module_loaded tun; then
	noneth="tun $noneth"
else
	skip "bind to a TUN device" "tun is not in the image or did not load"
fi
need_veth_pair zp0 zp1
"$POLICY" ether zp0 zp1 $noneth
"$POLICY" ether zc0 zc1

ip link del zp0 2>/dev/null
ip link del zpv0 2>/dev/null
for m in $loaded; do
	rmmod "$m" || diag "rmmod $m failed"
done

# --- defect 6: insmod with a bad parameter --------------------------------
# last: before the fix, a socket this makes crashes the kernel when closed
check "rmmod pf_zerocopy (to reload it with bad parameters)" rmmod pf_zerocopy
# A socket() of a missing family asks for the module (net-pf-27): with no
# modprobe to run, it fails at once, so the racer spins fast.
modprobe_was=$(cat /proc/sys/kernel/modprobe)
echo >/proc/sys/kernel/modprobe
rm -f "$TMP/stop"
"$POLICY" afrace "$TMP/stop" >"$TMP/afrace.out" 2>&1 &
racer=$!
sleep 0.5
tries=20 failed=0
i=0
while [ $i -lt $tries ]; do
	i=$((i + 1))
	if insmod "$KMOD" family=27 pairs=17 2>>"$TMP/insmod.err"; then
		rmmod pf_zerocopy
	else
		failed=$((failed + 1))
	fi
done
touch "$TMP/stop"
wait $racer
cat "$TMP/afrace.out"
diag "insmod pairs=17: $(sort -u "$TMP/insmod.err" | tr '\n' ' ')"
check "insmod pairs=17 fails, $tries times of $tries" [ $failed -eq $tries ]
# busybox insmod tries finit_module, then init_module: two loads each
n=$(dmesg | grep -c 'pf_zerocopy: pairs=17, at most 16')
check "each says why in the kernel log: pf_zerocopy: pairs=17, at most 16 ($n lines, $tries insmods)" \
	[ "$n" -ge $tries ]
"$POLICY" nofamily

if insmod "$KMOD" family=46 2>/dev/null; then
	not_ok "insmod family=46 (AF_MAX) fails"
	rmmod pf_zerocopy
else
	ok "insmod family=46 (AF_MAX) fails"
fi
check "it says why: family 46 out of range 1..45" \
	sh -c "dmesg | grep -q 'pf_zerocopy: family 46 out of range 1..45'"
# 16 is AF_NETLINK: registration fails last, after the pair was made
if insmod "$KMOD" family=16 pairs=1 2>/dev/null; then
	not_ok "insmod family=16 (AF_NETLINK, taken) pairs=1 fails"
	rmmod pf_zerocopy
else
	ok "insmod family=16 (AF_NETLINK, taken) pairs=1 fails"
fi
check "it says why: family 16 is taken" \
	sh -c "dmesg | grep -q 'pf_zerocopy: family 16 is taken'"
check "the failed insmod took its pair away (no zc0, no zc1)" \
	[ ! -e /sys/class/net/zc0 -a ! -e /sys/class/net/zc1 ]
check "the module is not loaded after the failures" sh -c '! grep -q "^pf_zerocopy " /proc/modules'
"$POLICY" nofamily
echo "$modprobe_was" >/proc/sys/kernel/modprobe

check "rmmod, and insmod pf_zerocopy family=27 again" pfzc_restore
rm -rf "$TMP"
