#!/bin/sh
# Guest script: a device with many PF_ZEROCOPY sockets bound goes away
# (issue 13, defect 2), with build/vm/pfzc_unreg: 20,000 sockets bound to
# one end of a veth pair, four more with rx rings under a flood, then
# `ip link del`. The notifier must not wait a grace period per socket under
# RTNL: at most a handful of grace-period waits for the deletion
# (counted with a kprobe), where one per socket made 20,004. Then ENETDOWN
# on every socket, the queued frames still readable, no kernel message,
# nothing left pinned. Run it alone with
#   make all vm-bins && sh tests/vm/run.sh tests/vm/guest/73-pfzc-unregister.sh
# PFZC_UNREG_SOCKS sets the number of sockets.
. "$(dirname "$0")/lib.sh"

UNREG=$BUILD/vm/pfzc_unreg
need_pfzc "pf_zerocopy unregister" "$UNREG"
need_veth_pair zu0 zu1

"$UNREG" zu0 zu1 "${PFZC_UNREG_SOCKS:-20000}"
rc=$?
[ $rc -eq 0 ] || diag "pfzc_unreg: status $rc"
check "pfzc_unreg exits 0" [ $rc -eq 0 ]
ip link del zu0 2>/dev/null
true
