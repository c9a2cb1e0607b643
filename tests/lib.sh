# Shared helpers for the integration tests (sourced, POSIX sh).
#
# Each test script prints TAP lines ("ok - name", "not ok - name",
# "ok - name # SKIP why"); tests/run.sh counts them.

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
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
BK=${ZCAP_BACKEND:+$ZCAP_BACKEND: }
ok() { echo "ok - $BK$*"; }
not_ok() { echo "not ok - $BK$*"; }
skip() { echo "ok - $BK$1 # SKIP $2"; }
diag() { echo "# $*"; }

# check NAME CMD...: one TAP line from a command's exit status
check() {
	_check_name=$1
	shift
	if "$@"; then ok "$_check_name"; else not_ok "$_check_name"; fi
}

# need_root NAME: skip the whole script (one SKIP line) when not root
need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "$1" "needs root for network namespaces"
		exit 0
	fi
}

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

# The generator on one CPU and the capture on another: on veth the receive
# work runs on the sender's core, so sharing one core would starve the
# capture. The first two CPUs we may use; no pinning with only one.
CPUS=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status |
	tr ',' '\n' | while IFS=- read a b; do seq "$a" "${b:-$a}"; done | head -2)
GEN_CPU=$(echo "$CPUS" | sed -n 1p)
CAP_CPU=$(echo "$CPUS" | sed -n 2p)
if [ -n "$CAP_CPU" ]; then
	PIN_GEN="taskset -c $GEN_CPU"
	PIN_CAP="taskset -c $CAP_CPU"
else
	PIN_GEN= PIN_CAP=
fi
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
	i=0
	while ! grep -q "listening on" "$log" 2>/dev/null; do
		if ! kill -0 "$CAP_PID" 2>/dev/null || [ $i -ge 100 ]; then
			diag "zcap did not start:"; sed 's/^/# /' "$log"
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

# stop_capture: SIGINT, then wait; returns zcap's exit status
stop_capture() {
	kill -INT "$CAP_PID" 2>/dev/null
	wait_capture
}

# wait_capture: wait for a capture that stops by itself (-c); one that is
# still running after 60 s has failed, and is stopped so the suite goes on
wait_capture() {
	i=0
	while kill -0 "$CAP_PID" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$CAP_PID" 2>/dev/null; then
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

# kv FILE KEY: value of KEY=value in the last line of FILE containing it
kv() {
	grep -o "$2=[0-9.]*" "$1" | tail -1 | cut -d= -f2
}

# summary LOG WHAT: the number before "packets WHAT" in zcap's summary
summary() {
	sed -n "s/^\([0-9][0-9]*\) packets $2.*/\1/p" "$1" | tail -1
}

# tshark_clean FILE: tshark reads the whole file with nothing on stderr but
# its warning about running as root
tshark_clean() {
	tshark -r "$1" -q 2>"$TMP/tshark.err" >/dev/null || return 1
	! grep -v 'Running as user "root"' "$TMP/tshark.err" | grep -q .
}
