#!/bin/sh
# Guest script: the module under another family number than the default 27
# every other script loads. libzcap reads the number from
# /sys/module/pf_zerocopy/parameters/family, so zcap (auto and --backend
# pfzc) and zcap-gen --backend pfzc must work through it unchanged. Ends
# with the module loaded as before (family=27). Run it alone with
#   make all && sh tests/vm/run.sh tests/vm/guest/50-pfzc-family.sh
. "$(dirname "$0")/lib.sh"

# Free in Debian's 6.1 (AF_MCTP, a module nothing loads here), and the
# largest number the module takes (AF_MAX - 1).
FAM=45
N=1000
skip_unless "pf_zerocopy under family $FAM" "pf_zerocopy is not loaded" module_loaded pf_zerocopy

check "rmmod pf_zerocopy (to reload it with family=$FAM)" rmmod pf_zerocopy
if ! insmod "$KMOD" family=$FAM; then
	not_ok "insmod pf_zerocopy family=$FAM"
	insmod "$KMOD" family=27
	exit 1
fi
ok "insmod pf_zerocopy family=$FAM"
diag "sysfs family: $(cat /sys/module/pf_zerocopy/parameters/family)"

need_veth_pair zf0 zf1
MAC=$(mac zf1)
# gen BACKEND: N frames from zf0 to zf1 (CPU 0; start_cap puts zcap on CPU 1)
gen() { taskset -c 0 "$GEN" --backend "$1" -q -i zf0 -c $N --dst-mac "$MAC" 2>"$TMP/gen.log"; }
# cap_done: zcap stopped by itself after -c N (60 s under TCG), status 0
cap_done() {
	wait_gone "$CAP" 600 || { kill -INT "$CAP"; wait "$CAP"; return 1; }
	wait "$CAP"
}

# zcap's automatic choice, frames sent through zcap-gen's tx ring
if start_cap zf1 "$TMP/auto.log" -v -c $N -w "$TMP/a.pcapng"; then
	gen pfzc
	sed 's/^/# /' "$TMP/gen.log"
	check "zcap-gen --backend pfzc: sent $N, none dropped" \
		[ "$(kv "$TMP/gen.log" sent)" = $N -a "$(kv "$TMP/gen.log" if_tx_dropped)" = 0 ]
	check "auto: zcap stops by itself after $N, status 0" cap_done
	sed 's/^/# /' "$TMP/auto.log"
	check "auto: zcap picks pfzc" grep -q "backend pfzc$" "$TMP/auto.log"
	check "auto: $N frames once each, in order, intact (valid=$N)" \
		verify_valid $N --expect $N "$TMP/a.pcapng"
else
	not_ok "auto: zcap starts on zf1"
fi

# zcap --backend pfzc, frames sent with sendmmsg
if start_cap zf1 "$TMP/cap.log" --backend pfzc -q -c $N -w "$TMP/p.pcapng"; then
	gen packet
	check "--backend pfzc: zcap stops by itself after $N, status 0" cap_done
	check "--backend pfzc: $N frames once each, in order, intact (valid=$N)" \
		verify_valid $N --expect $N "$TMP/p.pcapng"
else
	not_ok "--backend pfzc: zcap starts on zf1"
fi

ip link del zf0
check "rmmod, and insmod pf_zerocopy family=27 again" \
	sh -c "rmmod pf_zerocopy && insmod $KMOD family=27"
rm -rf "$TMP"
