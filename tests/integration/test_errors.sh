#!/bin/sh
# Bad input to zcap, zcap-gen and zcap-verify: each must fail with the exit
# status the README gives (2 for a usage error, 1 otherwise), a message
# naming the problem on stderr, and no -w file left behind.
. "$(dirname "$0")/../lib.sh"

MOUNTS=
errors_cleanup() {
	for m in $MOUNTS; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	cleanup
}
trap errors_cleanup EXIT INT TERM

OUT="$TMP/out.pcap"	# the -w target of every failing run; must never appear


# zcap_fails NAME STATUS PHRASE ARGS...: zcap -w $OUT ARGS... must fail so
zcap_fails() {
	name=$1 status=$2 phrase=$3
	shift 3
	check "zcap: $name (exit $status)" fails zcap "$status" "$phrase" "$OUT" \
		"$ZCAP" -w "$OUT" "$@"
}

gen_fails() {
	name=$1 status=$2 phrase=$3
	shift 3
	check "zcap-gen: $name (exit $status)" fails zcap-gen "$status" "$phrase" "" "$GEN" "$@"
}

# succeeds PATTERN CMD...: CMD exits 0, stdout matches PATTERN, stderr empty
succeeds() {
	pattern=$1
	shift
	"$@" >"$TMP/stdout" 2>"$TMP/stderr" && grep -q "$pattern" "$TMP/stdout" &&
		! grep -q . "$TMP/stderr"
}

# --- no privilege needed: options are checked before anything is opened ---

check "zcap --help exits 0 with the usage" succeeds "^Usage: zcap -i IF" "$ZCAP" --help
check "zcap --version exits 0 with the version" succeeds "^zcap [0-9]" "$ZCAP" --version

zcap_fails "-c 0" 2 "invalid packet count '0'" -i lo -c 0
zcap_fails "-c 12x" 2 "invalid packet count '12x'" -i lo -c 12x
zcap_fails "-s -1" 2 "invalid snap length '-1'" -i lo -s -1
zcap_fails "-s 300000" 2 "invalid snap length '300000'" -i lo -s 300000
zcap_fails "-B 1" 2 "invalid ring size '1'" -i lo -B 1
zcap_fails "-B abc" 2 "invalid ring size 'abc'" -i lo -B abc
zcap_fails "--block-size 5000" 2 "invalid block size '5000'" -i lo --block-size 5000
zcap_fails "unknown --format" 2 "invalid format 'xml'" -i lo --format xml
zcap_fails "unknown --backend" 2 "unknown backend 'foo'" -i lo --backend foo
zcap_fails "-Q sideways" 2 "invalid direction 'sideways'" -i lo -Q sideways
zcap_fails "missing -i" 2 "no interface given"
zcap_fails "unknown option" 2 "unknown option '--nosuch'" -i lo --nosuch

gen_fails "bad size -s 20" 2 "invalid size '20'" -i lo -c 1 -s 20
gen_fails "bad size -s 5000" 2 "invalid size '5000'" -i lo -c 1 -s 5000
gen_fails "bad count -c 0" 2 "invalid count '0'" -i lo -c 0
gen_fails "bad count -c abc" 2 "invalid count 'abc'" -i lo -c abc
gen_fails "bad MAC" 2 "invalid MAC address 'zz:11'" -i lo -c 1 --dst-mac zz:11

check "zcap-verify: nonexistent file" \
	fails zcap-verify 1 "No such file or directory" "" "$VERIFY" "$TMP/nosuch.pcap"
check "zcap-verify: a file that is not a capture" \
	fails zcap-verify 1 "unknown file format" "" "$VERIFY" /etc/passwd

# --- as root: interfaces, privilege, file systems ---

need_root "zcap errors that need root"

zcap_fails "unknown interface" 1 "nosuch0: no such interface" -i nosuch0
zcap_fails "bad filter" 1 "bad filter 'udp portt 9'" -i lo udp portt 9
gen_fails "unknown interface" 1 "unknown interface 'nosuch0'" -i nosuch0 -c 1

check "zcap: unwritable path (exit 1)" fails zcap 1 \
	"cannot create /nonexistent/dir/x.pcap: No such file or directory" \
	/nonexistent/dir/x.pcap "$ZCAP" -i lo -w /nonexistent/dir/x.pcap

mkdir "$TMP/ro"
if mount -t tmpfs -o ro,size=64k tmpfs "$TMP/ro" 2>/dev/null; then
	MOUNTS="$TMP/ro"
	check "zcap: read-only directory (exit 1)" fails zcap 1 \
		"cannot create $TMP/ro/x.pcap: Read-only file system" \
		"$TMP/ro/x.pcap" "$ZCAP" -i lo -w "$TMP/ro/x.pcap"
	umount "$TMP/ro" && MOUNTS=
else
	skip "zcap: read-only directory" "cannot mount a read-only tmpfs"
fi

# Unprivileged, with a -w directory that user nobody could write into: the
# missing file then shows that zcap gave up before creating it.
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
chmod 711 "$TMP"
mkdir -m 1777 "$TMP/pub"
check "zcap: unprivileged (exit 1)" fails zcap 1 "CAP_NET_RAW" "$TMP/pub/x.pcap" \
	$NOBODY "$ZCAP" -i lo -w "$TMP/pub/x.pcap"

testbed_up
trap errors_cleanup EXIT INT TERM	# testbed_up set its own trap

# zcap-gen on an Ethernet interface: on lo the transmit API's interface
# check, which needs no privilege, refuses first ("not an Ethernet interface");
# so does it on a veth whose carrier is not up yet, so wait for that
wait_carrier "$GEN_NS" "$GEN_IF"
check "zcap-gen: unprivileged (exit 1)" fails zcap-gen 1 "CAP_NET_RAW" "" \
	ip netns exec "$GEN_NS" $NOBODY "$GEN" -i "$GEN_IF" -c 1

# Full disk: a 256 KiB tmpfs fills during the capture. zcap must stop with
# an error, say why, and remove the partial file.
mkdir "$TMP/full"
if mount -t tmpfs -o size=256k tmpfs "$TMP/full"; then
	MOUNTS="$TMP/full"
	FULL="$TMP/full/x.pcap"
	if start_capture "$TMP/full.log" -q -c 1000000 -w "$FULL"; then
		gen -s 1518 -c 20000 || diag "zcap-gen failed: $(cat "$TMP/gen.log")"
		# 30 MB into 256 KiB: zcap must stop by itself, and nothing
		# else stops it (wait_capture kills it after 60 s and fails)
		wait_capture
		rc=$?
		check "zcap: full disk stops the capture by itself, exit 1" [ "$rc" -eq 1 ]
		if grep "^zcap: " "$TMP/full.log" | grep -q "No space left on device"; then
			ok "zcap: full disk says 'No space left on device'"
		else
			not_ok "zcap: full disk says 'No space left on device'"
			sed 's/^/#   /' "$TMP/full.log"
		fi
		check "zcap: full disk removes the partial file" [ ! -e "$FULL" ]
	else
		not_ok "zcap: full disk capture starts"
	fi
	umount "$TMP/full" && MOUNTS=
else
	skip "zcap: full disk" "cannot mount a tmpfs"
fi

# /dev/full, a device: written from the ring (writev) like a pipe; the
# error stops the capture, and the device is neither removed nor said to be
if start_capture "$TMP/dfull.log" -q -w /dev/full; then
	gen -s 1518 -c 20000 || diag "zcap-gen failed: $(cat "$TMP/gen.log")"
	wait_capture
	rc=$?
	sed 's/^/#   /' "$TMP/dfull.log"
	check "zcap -w /dev/full: stops by itself, exit 1" [ "$rc" -eq 1 ]
	check "zcap -w /dev/full: says 'write to /dev/full: No space left on device'" \
		grep -q "^zcap: write to /dev/full: No space left on device" "$TMP/dfull.log"
	check "zcap -w /dev/full: does not claim to remove it, and it is still there" \
		sh -c '! grep -q removed "$1" && [ -c /dev/full ]' sh "$TMP/dfull.log"
else
	not_ok "zcap -w /dev/full: capture starts"
fi
