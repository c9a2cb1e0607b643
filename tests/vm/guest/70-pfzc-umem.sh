#!/bin/sh
# Guest script: what a umem may be and to whom its pins are charged
# (build/vm/pfzc_umem, from tests/vm/pfzc_umem.c; issue 13, defects 1 and
# 7). Every case expects an exact errno and no new kernel message. Run it
# alone with
#   make all && sh tests/vm/run.sh tests/vm/guest/70-pfzc-umem.sh
. "$(dirname "$0")/lib.sh"

UMEM=$BUILD/vm/pfzc_umem
skip_unless "pf_zerocopy umem suite" "no $UMEM (make all)" [ -x "$UMEM" ]
skip_unless "pf_zerocopy umem suite" "pf_zerocopy is not loaded" module_loaded pf_zerocopy

# page cache that is not shmem, for the file mappings the module refuses
RAMFS=$TMP/ramfs
mkdir -p "$RAMFS"
check "mount -t ramfs" mount -t ramfs ramfs "$RAMFS"
# a few 2 MiB pages for the hugetlb cases (the program skips without them)
huge0=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo 0)
echo 4 >/proc/sys/vm/nr_hugepages 2>/dev/null
diag "nr_hugepages: $(cat /proc/sys/vm/nr_hugepages 2>/dev/null)"

"$UMEM" "$RAMFS"
rc=$?
[ $rc -eq 0 ] || diag "pfzc_umem: status $rc"
check "pfzc_umem exits 0" [ $rc -eq 0 ]

echo "$huge0" >/proc/sys/vm/nr_hugepages 2>/dev/null
umount "$RAMFS"
rm -rf "$TMP"
