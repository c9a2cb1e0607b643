# The helpers every shell script of zcap shares (sourced; POSIX sh, for the
# VM's busybox sh too: tests/vm/run.sh copies it to /zcap/scripts/lib.sh).
#
#   TAP lines       ok, not_ok, skip, diag, check, skip_unless (with is_root,
#                   have), tap_count, tap_summary; tests/run.sh counts "ok ",
#                   "not ok " and "# SKIP" in what the test scripts print
#   waiting         wait_for (a line in a log), wait_gone (a process)
#   tools' output   kv (zcap-gen's KEY=value), summary (zcap's "N packets ...")
#   CPUs            allowed_cpus, pick_cpus (generator and capture apart)
#   packages        packages, missing_packages: scripts/packages.txt
#                   (needs ROOT, the top of the tree)
#
# Functions keep their own variables in _names with a prefix of their own:
# sh has no local variables, and a caller's i or n must survive a call.
# shellcheck disable=SC2034  # variables set here are for the sourcing script

# --- TAP lines -----------------------------------------------------------------
# TAP_PREFIX goes before every name ok, not_ok and skip print ("dkms: ").
TAP_PREFIX=${TAP_PREFIX:-}
tap_passed=0 tap_failed=0 tap_skipped=0

ok() { echo "ok - $TAP_PREFIX$*"; tap_passed=$((tap_passed + 1)); }
not_ok() { echo "not ok - $TAP_PREFIX$*"; tap_failed=$((tap_failed + 1)); }
# skip NAME WHY
skip() { echo "ok - $TAP_PREFIX$1 # SKIP $2"; tap_skipped=$((tap_skipped + 1)); }
diag() { echo "# $*"; }

# check NAME CMD...: one TAP line from a command's exit status
check() {
	_check_name=$1
	shift
	if "$@"; then ok "$_check_name"; else not_ok "$_check_name"; fi
}

# skip_unless NAME WHY CMD...: unless CMD succeeds, one SKIP line and the
# script ends there (status 0)
skip_unless() {
	_su_name=$1 _su_why=$2
	shift 2
	"$@" && return 0
	skip "$_su_name" "$_su_why"
	exit 0
}
is_root() { [ "$(id -u)" -eq 0 ]; }
# have CMD: CMD is on PATH
have() { command -v "$1" >/dev/null 2>&1; }

# tap_count FILE: adds the TAP lines in FILE to the counts (a SKIP counts
# as skipped, not as passed)
tap_count() {
	_tc_ok=$(grep -c '^ok ' "$1")
	_tc_skip=$(grep -c '^ok .*# SKIP' "$1")
	tap_passed=$((tap_passed + _tc_ok - _tc_skip))
	tap_skipped=$((tap_skipped + _tc_skip))
	tap_failed=$((tap_failed + $(grep -c '^not ok ' "$1")))
}

# tap_summary LABEL: "LABELN passed, N failed[, N skipped]"; status 0 when
# nothing failed
tap_summary() {
	if [ "$tap_skipped" -gt 0 ]; then
		echo "$1$tap_passed passed, $tap_failed failed, $tap_skipped skipped"
	else
		echo "$1$tap_passed passed, $tap_failed failed"
	fi
	[ "$tap_failed" -eq 0 ]
}

# --- waiting ---------------------------------------------------------------------
# wait_for FILE PATTERN [TENTHS [PID]]: until grep finds PATTERN in FILE;
# status 1 after TENTHS tenths of a second (default 300: TCG is slow), or as
# soon as PID (when given) has exited
wait_for() {
	_wf_i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		[ "$_wf_i" -ge "${3:-300}" ] && return 1
		[ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null && return 1
		sleep 0.1
		_wf_i=$((_wf_i + 1))
	done
}

# wait_gone PID [TENTHS]: until PID has exited, at most TENTHS tenths of a
# second (default 600); status 1 if it still runs. It does not reap PID.
wait_gone() {
	_wg_i=0
	while kill -0 "$1" 2>/dev/null; do
		[ "$_wg_i" -ge "${2:-600}" ] && return 1
		sleep 0.1
		_wg_i=$((_wg_i + 1))
	done
}

# --- the tools' output -------------------------------------------------------------
# kv FILE KEY: value of KEY=value in the last line of FILE containing it
kv() { grep -o "$2=[0-9.]*" "$1" | tail -1 | cut -d= -f2; }

# summary LOG WHAT: the number before "packets WHAT" in zcap's summary
summary() { sed -n "s/^\([0-9][0-9]*\) packets $2.*/\1/p" "$1" | tail -1; }

# --- CPUs ----------------------------------------------------------------------------
# allowed_cpus: the CPUs this process may run on (Cpus_allowed_list in
# /proc/self/status), one a line, in order
allowed_cpus() {
	sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status |
		tr ',' '\n' | while IFS=- read -r _ac_a _ac_b; do
			seq "$_ac_a" "${_ac_b:-$_ac_a}"
		done
}

# pick_cpus: the generator on one CPU and the capture on another: on veth the
# receive work runs on the sender's core, so sharing one core would starve
# the capture. GEN_CPU and CAP_CPU are the first two CPUs we may use (CAP_CPU
# is empty when there is only one); PIN_GEN and PIN_CAP are "taskset -c N"
# for them, and both empty (no pinning) with only one CPU.
pick_cpus() {
	# shellcheck disable=SC2046
	set -- $(allowed_cpus | head -2)
	GEN_CPU=${1:-} CAP_CPU=${2:-}
	if [ -n "$CAP_CPU" ]; then
		PIN_GEN="taskset -c $GEN_CPU" PIN_CAP="taskset -c $CAP_CPU"
	else
		PIN_GEN='' PIN_CAP=''
	fi
}

# --- packages ------------------------------------------------------------------------
# packages [GROUP...]: the Debian packages of these groups of
# scripts/packages.txt (of every group without one), one a line
packages() {
	awk -v groups=" $* " '
		/^[ \t]*(#|$)/ { next }
		{ for (i = 2; i <= NF; i++) if (groups == "  " || index(groups, " " $i " ")) { print $1; next } }
	' "${ROOT:?}/scripts/packages.txt"
}

# missing_packages PACKAGE...: those not installed, each after a space
# (one dpkg-query for all: well under a second)
missing_packages() {
	[ $# -gt 0 ] || return 0
	dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null |
		awk -v want="$*" '$3 == "ok" && $4 == "installed" { ok[$1] = 1 }
			END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!(w[i] in ok)) printf " %s", w[i] }'
}
