#!/bin/sh
# Guest script: race stress of the module (issue 13, "Race stress"), with
# build/vm/pfzc_race: for PFZC_RACE_SECS seconds (default 30), threads on
# eight sockets at once race every call the socket has (setsockopt with
# garbage, bind, mmap/munmap, close, kicks, ring indices and descriptors
# with garbage, filter swaps, fanout joins, recvmsg, poll), a tx ring is rewritten during
# its kicks, zc0's direct receiver is closed and reopened under ring-to-ring
# traffic from zc1, and a child takes zc0, zc1 and a veth pair down and up,
# deletes and re-creates the pair, and moves an end into a namespace that
# then dies. Any kernel message fails it, and nothing may stay pinned.
# Reloads the module with pairs=1; ends with it loaded as before (family=27,
# no pairs). Run it alone, for minutes on the debug kernel:
#   make all vm-bins && sh tests/vm/run.sh tests/vm/guest/74-pfzc-race.sh
#   VM_ENV=PFZC_RACE_SECS=180 sh scripts/vm-debug-kernel.sh --vm-check kasan \
#	tests/vm/guest/74-pfzc-race.sh
# PFZC_RACE_SEED replays a run's random choices (the program prints its seed).
. "$(dirname "$0")/lib.sh"

RACE=$BUILD/vm/pfzc_race
SECS=${PFZC_RACE_SECS:-30}
need_pfzc "pf_zerocopy race stress" "$RACE"

with_pairs
need_veth_pair zr0 zr1

diag "pfzc_race for $SECS s"
"$RACE" "$SECS" zc0 zc1 zr0 zr1
rc=$?
check "pfzc_race exits 0 (status $rc)" [ $rc -eq 0 ]

ip link del zr0 2>/dev/null
check "rmmod, and insmod pf_zerocopy family=27 again" pfzc_restore
rm -rf "$TMP"
