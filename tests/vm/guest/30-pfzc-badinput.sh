#!/bin/sh
# Guest script: the pf_zerocopy bad-input suite (build/vm/pfzc_badinput,
# from tests/vm/pfzc_badinput.c). Every case expects an exact errno and no
# new kernel message. Run it alone with
#   make all && sh tests/vm/run.sh tests/vm/guest/30-pfzc-badinput.sh
. "$(dirname "$0")/lib.sh"

BADINPUT=$BUILD/vm/pfzc_badinput
skip_unless "pf_zerocopy bad-input suite" "no $BADINPUT (make all)" [ -x "$BADINPUT" ]
skip_unless "pf_zerocopy bad-input suite" "pf_zerocopy is not loaded" module_loaded pf_zerocopy

need_veth_pair zb0 zb1

# zb0 is deleted by the program's last case (the interface going away)
"$BADINPUT" zb0 zb1
rc=$?
[ $rc -eq 0 ] || diag "pfzc_badinput: status $rc"
check "pfzc_badinput exits 0" [ $rc -eq 0 ]

ip link del zb0 2>/dev/null
rm -rf "$TMP"
