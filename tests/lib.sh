# Shared helpers for the integration tests (sourced, POSIX sh).
#
# Each test script prints TAP lines ("ok - name", "not ok - name",
# "ok - name # SKIP why"); tests/run.sh counts them. The TAP helpers (ok,
# not_ok, skip, diag, check), kv, summary and the CPU choice are those of
# scripts/lib.sh, which every script of the project shares.

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
BUILD="$ROOT/build"
ZCAP="$BUILD/zcap"
GEN="$BUILD/zcap-gen"
VERIFY="$BUILD/zcap-verify"
TESTBED="$ROOT/scripts/testbed.sh"
TB="zt$$"			# testbed name, unique per test script
GEN_NS="$TB-gen"
CAP_NS="$TB-cap"
GEN_IF="$TB-g"
CAP_IF="$TB-c"
TMP=$(mktemp -d /tmp/zcap-test.XXXXXX)
CAP_PID=

# ZCAP_BACKEND=NAME runs a script's captures on that backend (tests/run.sh
# runs the capture suite once per backend); its TAP names say which.
TAP_PREFIX=${ZCAP_BACKEND:+$ZCAP_BACKEND: }

# need_root NAME: skip the whole script (one SKIP line) when not root
need_root() { skip_unless "$1" "needs root for network namespaces" is_root; }

cleanup() {
	[ -n "$CAP_PID" ] && kill -9 "$CAP_PID" 2>/dev/null
	"$TESTBED" down "$TB" 2>/dev/null
	rm -rf "$TMP"
}

testbed_up() {
	trap cleanup EXIT INT TERM
	"$TESTBED" up "$TB" || { not_ok "testbed up"; exit 1; }
	CAP_MAC=$(ip netns exec "$CAP_NS" cat "/sys/class/net/$CAP_IF/address")
}

# The generator on one CPU and the capture on another (PIN_GEN, PIN_CAP)
pick_cpus
in_gen() { ip netns exec "$GEN_NS" $PIN_GEN "$@"; }
in_cap() { ip netns exec "$CAP_NS" $PIN_CAP "$@"; }

# start_capture LOG ARGS...: zcap in the background; waits until it listens
start_capture() {
	log=$1
	shift
	# not through in_cap: $! must be zcap itself (ip netns exec and
	# taskset exec it), or SIGINT would go to a subshell
	# a log left by the previous capture would say "listening" too early
	rm -f "$log" "$log.out"
	ip netns exec "$CAP_NS" $PIN_CAP "$ZCAP" -i "$CAP_IF" \
		${ZCAP_BACKEND:+--backend "$ZCAP_BACKEND"} "$@" 2>"$log" >"$log.out" &
	CAP_PID=$!
	if ! wait_for "$log" "listening on" 100 "$CAP_PID"; then
		diag "zcap did not start:"; sed 's/^/# /' "$log"
		return 1
	fi
}

# stop_capture: SIGINT, then wait; returns zcap's exit status
stop_capture() {
	kill -INT "$CAP_PID" 2>/dev/null
	wait_capture
}

# wait_capture: wait for a capture that stops by itself (-c); one that is
# still running after 60 s has failed, and is stopped so the suite goes on
wait_capture() {
	if ! wait_gone "$CAP_PID" 600; then
		diag "zcap did not stop by itself; killing it"
		kill -9 "$CAP_PID"
		wait "$CAP_PID"
		CAP_PID=
		return 1
	fi
	wait "$CAP_PID"
	rc=$?
	CAP_PID=
	return $rc
}

# gen ARGS...: zcap-gen towards the capture side; summary line in $TMP/gen.log
gen() {
	in_gen "$GEN" -q -i "$GEN_IF" --dst-mac "$CAP_MAC" "$@" 2>"$TMP/gen.log"
}

# tshark_clean FILE: tshark reads the whole file with nothing on stderr but
# its warning about running as root
tshark_clean() {
	tshark -r "$1" -q 2>"$TMP/tshark.err" >/dev/null || return 1
	! grep -v 'Running as user "root"' "$TMP/tshark.err" | grep -q .
}
