# Shared helpers for the integration tests (sourced, POSIX sh).
#
# Each test script prints TAP lines ("ok - name", "not ok - name",
# "ok - name # SKIP why"); tests/run.sh counts them. The TAP helpers (ok,
# not_ok, skip, diag, check), kv, summary and the CPU choice are those of
# scripts/lib.sh, which every script of the project shares.

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
# ZCAP_BUILD: another build tree (tests/run.sh: build-san, with sanitizers)
BUILD="${ZCAP_BUILD:-$ROOT/build}"
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
	# the capture suite on xdp: skipped only when this kernel cannot
	# capture with AF_XDP on veth at all; if it can, zcap must
	if [ "${ZCAP_BACKEND:-}" = xdp ]; then
		need_kernel xdp-rx "AF_XDP capture"
	fi
}

# kernel_can WHAT: whether this kernel can do WHAT on a veth, decided
# without zcap or libzcap: a few lines of C (compiled here, once) on a
# throwaway veth pair in the capture namespace, so the testbed's queues stay
# untouched (a closed AF_XDP socket frees its queue only a moment later).
#   xdp-tx      an AF_XDP socket with a tx ring binds in copy mode
#   xdp-rx      the same with an rx ring, an XDP program (XDP_PASS) attached
#               through a BPF link
#   tpacket-tx  an AF_PACKET socket maps a TPACKET_V2 PACKET_TX_RING
# Why not is in $TMP/probe.err. A probe that does not compile is a failure
# of the test, not a reason to skip.
kernel_can() {
	if [ ! -x "$TMP/probe" ]; then
		cat >"$TMP/probe.c" <<'EOF'
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>
#ifndef SOL_XDP
#define SOL_XDP 283
#endif
static int no(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	return 1;
}
static int xsk(unsigned int ifindex, int rx)
{
	static char buf[64 * 4096] __attribute__((aligned(4096)));
	struct xdp_umem_reg mr = { .addr = (uintptr_t)buf, .len = sizeof(buf),
				   .chunk_size = 4096 };
	struct sockaddr_xdp sa = { .sxdp_family = AF_XDP, .sxdp_ifindex = ifindex,
				   .sxdp_flags = XDP_COPY };
	int n = 64, fd = socket(AF_XDP, SOCK_RAW, 0);

	if (fd < 0)
		return no("AF_XDP socket");
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)))
		return no("AF_XDP umem");
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &n, sizeof(n)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &n, sizeof(n)) ||
	    setsockopt(fd, SOL_XDP, rx ? XDP_RX_RING : XDP_TX_RING, &n, sizeof(n)))
		return no("AF_XDP rings");
	if (rx) {	/* r0 = XDP_PASS; exit */
		struct bpf_insn prog[] = {
			{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .imm = XDP_PASS },
			{ .code = BPF_JMP | BPF_EXIT },
		};
		union bpf_attr a;
		int pfd;

		memset(&a, 0, sizeof(a));
		a.prog_type = BPF_PROG_TYPE_XDP;
		a.insns = (uintptr_t)prog;
		a.insn_cnt = 2;
		a.license = (uintptr_t)"GPL";
		pfd = (int)syscall(__NR_bpf, BPF_PROG_LOAD, &a, sizeof(a));
		if (pfd < 0)
			return no("loading an XDP program");
		memset(&a, 0, sizeof(a));
		a.link_create.prog_fd = (uint32_t)pfd;
		a.link_create.target_ifindex = ifindex;
		a.link_create.attach_type = BPF_XDP;
		if (syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a)) < 0)
			return no("attaching an XDP program through a BPF link");
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return no("binding an AF_XDP socket in copy mode");
	return 0;
}
static int tpacket_tx(unsigned int ifindex)
{
	struct tpacket_req req = { .tp_block_size = 4096, .tp_block_nr = 1,
				   .tp_frame_size = 2048, .tp_frame_nr = 2 };
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_ifindex = (int)ifindex };
	int v = TPACKET_V2, fd = socket(AF_PACKET, SOCK_RAW, 0);

	if (fd < 0)
		return no("AF_PACKET socket");
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)))
		return no("TPACKET_V2 PACKET_TX_RING");
	if (mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED)
		return no("mapping the tx ring");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return no("binding it to the interface");
	return 0;
}
int main(int argc, char **argv)
{
	unsigned int ifindex = argc == 3 ? if_nametoindex(argv[2]) : 0;

	errno = EINVAL;
	if (ifindex && !strcmp(argv[1], "xdp-tx"))
		return xsk(ifindex, 0);
	if (ifindex && !strcmp(argv[1], "xdp-rx"))
		return xsk(ifindex, 1);
	if (ifindex && !strcmp(argv[1], "tpacket-tx"))
		return tpacket_tx(ifindex);
	return no("usage: probe xdp-tx|xdp-rx|tpacket-tx IF");
}
EOF
		if ! cc -O2 -Wall -Werror -o "$TMP/probe" "$TMP/probe.c" 2>"$TMP/probe.err"; then
			not_ok "the kernel probe compiles"
			sed 's/^/# /' "$TMP/probe.err"
			exit 1
		fi
	fi
	ip -n "$CAP_NS" link add "${TB}p0" type veth peer name "${TB}p1" &&
		ip -n "$CAP_NS" link set "${TB}p0" up &&
		ip -n "$CAP_NS" link set "${TB}p1" up &&
		ip netns exec "$CAP_NS" "$TMP/probe" "$1" "${TB}p1" 2>"$TMP/probe.err"
	_kc_rc=$?
	ip -n "$CAP_NS" link del "${TB}p0" 2>/dev/null
	return $_kc_rc
}

# need_kernel WHAT NAME: skip the whole script (one SKIP line, the probe's
# reason) when this kernel cannot do WHAT (see kernel_can)
need_kernel() {
	kernel_can "$1" && return 0
	skip "$2" "this kernel cannot: $(cat "$TMP/probe.err")"
	exit 0
}

# wait_carrier NS IF: until IF's operstate is up (a veth is, once both ends
# are), at most 5 s; status 1 if it is not
wait_carrier() {
	_wc_i=0
	while [ "$(ip netns exec "$1" cat "/sys/class/net/$2/operstate")" != up ]; do
		[ $_wc_i -ge 50 ] && return 1
		sleep 0.1
		_wc_i=$((_wc_i + 1))
	done
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

# wait_capture: wait for a capture that stops by itself (-c); returns its
# exit status. One still running after 60 s has failed: it is killed so the
# suite goes on, and the status is 124, which zcap never uses.
wait_capture() {
	if ! wait_gone "$CAP_PID" 600; then
		diag "zcap did not stop by itself; killing it"
		kill -9 "$CAP_PID"
		wait "$CAP_PID"
		CAP_PID=
		return 124
	fi
	wait "$CAP_PID"
	rc=$?
	CAP_PID=
	return $rc
}

# verified FILE N [ZCAP-VERIFY-ARGS...]: zcap-verify --expect N passes on
# FILE (the N frames each once, in order, intact: none cut short, none
# missing) and the file holds exactly N frames, all valid (none beyond
# them). Its line goes out as a TAP comment.
verified() { counted valid "$@"; }

# counted KEY FILE N [ZCAP-VERIFY-ARGS...]: the same with KEY=N instead of
# valid=N (truncated, with --allow-truncated, for a snap length). FILE may
# be several, separated by spaces (a rotation's, in order).
counted() {
	_vf_key=$1 _vf_file=$2 _vf_n=$3
	shift 3
	# shellcheck disable=SC2086  # several files split on purpose
	"$VERIFY" --expect "$_vf_n" "$@" $_vf_file >"$TMP/verify.out" 2>&1
	_vf_rc=$?
	sed 's/^/# /' "$TMP/verify.out"
	[ "$_vf_rc" -eq 0 ] && [ "$(kv "$TMP/verify.out" total)" = "$_vf_n" ] &&
		[ "$(kv "$TMP/verify.out" "$_vf_key")" = "$_vf_n" ]
}

# accounted LOG: every frame zcap-gen sent (its line in $TMP/gen.log) is
# accounted for by zcap's summary in LOG: captured + dropped by ring +
# dropped by interface + left unread in ring + lost on the link (veth's
# tx_dropped that zcap-gen could not resend) = sent
accounted() {
	_ac_sent=$(kv "$TMP/gen.log" sent)
	_ac_cap=$(summary "$1" captured)
	_ac_ring=$(summary "$1" "dropped by ring")
	_ac_if=$(summary "$1" "dropped by interface")
	_ac_unread=$(summary "$1" "left unread in ring")
	_ac_link=$(( $(kv "$TMP/gen.log" if_tx_dropped) - $(kv "$TMP/gen.log" retries) ))
	diag "sent=$_ac_sent captured=$_ac_cap ring_drop=$_ac_ring if_drop=$_ac_if" \
		"unread=${_ac_unread:-0} link_lost=$_ac_link"
	[ -n "$_ac_sent" ] && [ -n "$_ac_cap" ] && [ -n "$_ac_ring" ] && [ -n "$_ac_if" ] &&
		[ $((_ac_cap + _ac_ring + _ac_if + ${_ac_unread:-0} + _ac_link)) -eq "$_ac_sent" ]
}

# fails PROG STATUS PHRASE FILE CMD...: CMD exits with STATUS, a stderr line
# starting "PROG: " contains PHRASE, and FILE ("" for none) does not exist
# afterwards
fails() {
	prog=$1 status=$2 phrase=$3 file=$4
	shift 4
	"$@" >"$TMP/stdout" 2>"$TMP/stderr"
	rc=$?
	good=1
	if [ "$rc" -ne "$status" ]; then
		diag "exited $rc, not $status"
		good=0
	fi
	if ! grep -F -- "$phrase" "$TMP/stderr" | grep -q "^$prog: "; then
		diag "stderr has no '$prog: ...$phrase...' line"
		good=0
	fi
	if [ -n "$file" ] && [ -e "$file" ]; then
		diag "$file was left behind"
		rm -f "$file"
		good=0
	fi
	if [ $good -eq 0 ]; then
		diag "rc=$rc, stderr:"
		sed 's/^/#   /' "$TMP/stderr"
		return 1
	fi
	return 0
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

# build_prog NAME: tests/integration/progs/NAME.c, a plain libpcap program,
# built into $TMP/NAME against the system libpcap only; a failed build is
# a failed test and ends the script
build_prog() {
	if ! cc -O2 -Wall -Werror -o "$TMP/$1" "$ROOT/tests/integration/progs/$1.c" -lpcap \
		2>"$TMP/cc.err"; then
		sed 's/^/# /' "$TMP/cc.err"
		not_ok "progs/$1.c compiles"
		exit 1
	fi
}
