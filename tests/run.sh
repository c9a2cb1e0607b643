#!/bin/sh
# Runs every test: the unit test binaries, then the integration scripts.
# Each prints TAP lines; this counts them and ends with "N passed, N failed".
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
. scripts/lib.sh
LOG=$(mktemp /tmp/zcap-run.XXXXXX)

run() {
	echo "== $1"
	shift
	"$@" >"$LOG" 2>&1
	rc=$?
	# a nested "vm: N passed, N failed" must not read as the final count
	sed 's/^\([a-z]*: [0-9]* passed, [0-9]* failed\)/# \1/' "$LOG"
	tap_count "$LOG"
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' "$LOG"; then
		not_ok "$1 exited with status $rc"
	fi
}

for t in build/tests/test_*; do
	[ -x "$t" ] && run "$t" "$t"
done
for t in tests/integration/*.sh; do
	run "$t" sh "$t"
done
# The capture suite again on the AF_XDP backend (copy mode on veth). Each
# script skips itself only when this kernel cannot capture with AF_XDP on a
# veth at all, as a probe without zcap finds (tests/lib.sh, kernel_can).
for t in capture filter drops sigint zcap_run zcap_run_apps arpd; do
	run "tests/integration/test_$t.sh (xdp)" env ZCAP_BACKEND=xdp sh "tests/integration/test_$t.sh"
done
# The unit tests and the tools' integration scripts again on build-san/
# (make san: AddressSanitizer, LeakSanitizer, UBSan). Every report goes to a
# file, whatever the test made of the run, and any report fails the pass.
# zcap-run's scripts are not here: its preloaded library cannot carry ASan
# into programs built without it.
if [ -x build-san/zcap ]; then
	SAN_DIR=$(mktemp -d /tmp/zcap-san.XXXXXX)
	export ASAN_OPTIONS="log_path=$SAN_DIR/asan" UBSAN_OPTIONS="log_path=$SAN_DIR/ubsan:print_stacktrace=1"
	for t in build-san/tests/test_*; do
		[ -x "$t" ] && run "$t (sanitizers)" "$t"
	done
	for t in capture errors filter drops sigint gen xdp rotate scale arpd; do
		run "tests/integration/test_$t.sh (sanitizers)" \
			env ZCAP_BUILD="$ROOT/build-san" sh "tests/integration/test_$t.sh"
	done
	unset ASAN_OPTIONS UBSAN_OPTIONS
	n=$(find "$SAN_DIR" -type f | wc -l)
	if [ "$n" -eq 0 ]; then
		ok "sanitizers: no AddressSanitizer, LeakSanitizer or UBSan report in any run on build-san/"
	else
		find "$SAN_DIR" -type f -exec cat {} + | head -80 | sed 's/^/# /'
		not_ok "sanitizers: $n reports (above)"
	fi
	rm -rf "$SAN_DIR"
else
	not_ok "sanitizers: no build-san/ (make san, which make check runs)"
fi
# The pf_zerocopy module, in a VM (Debian's 6.1 kernel under qemu).
run tests/vm/run.sh sh tests/vm/run.sh
run tests/vm/dkms.sh sh tests/vm/dkms.sh
# The benchmarks' quick modes, so their scripts cannot rot.
run "bench/run.sh --smoke" bash bench/run.sh --smoke
run "bench/ring/run.sh --smoke" sh bench/ring/run.sh --smoke
run "bench/fig5/run.sh --smoke" bash bench/fig5/run.sh --smoke
run "bench/fig5/nic.sh --smoke" bash bench/fig5/nic.sh --smoke
rm -f "$LOG"

tap_summary "" && [ "$tap_passed" -gt 0 ]
