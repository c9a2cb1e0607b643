/* SPDX-License-Identifier: MIT */
/*
 * zcap-gen: sends numbered test frames (tools/frame.h) on an interface, as
 * fast as possible or at a given rate, for zcap-verify to check afterwards.
 *
 * Every send path is a transmit backend of libzcap (zcap_tx_*,
 * include/zcap.h; --backend picks one, auto takes the library's choice):
 * frames are built in place in the backend's frames and handed over in
 * batches. Their rates on the veth testbed are in README.md ("zcap-gen")
 * and bench/results/.
 *
 * "sent" counts frames the kernel took: for the ring backends, frames that
 * came back completed (the program waits for them at the end), less any the
 * kernel refused as malformed. A frame the interface dropped after taking
 * it is in if_tx_dropped; one it refused and took again later is a retry.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>		/* isfinite(): a macro, no -lm */
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <zcap.h>

#include "arp.h"
#include "frame.h"

#define PROG "zcap-gen"
#include "util.h"

#define DEFAULT_BATCH 64
#define MAX_BATCH 1024		/* UIO_MAXIOV: sendmmsg's vlen limit */
#define STALL_NS 2000000000ull	/* refused for this long: give up */
#define FLUSH_MS 5000		/* at the end, wait this long for completions */

enum {
	OPT_RANDOM_SIZES = 256,	/* above any char, so ':' handling can tell */
	OPT_SEED,
	OPT_DST_MAC,
	OPT_SRC_IP,
	OPT_DST_IP,
	OPT_SRC_PORT,
	OPT_DST_PORT,
	OPT_START_SEQ,
	OPT_BATCH,
	OPT_BACKEND,
	OPT_ARP,
};

static volatile sig_atomic_t stop;

struct opts {
	const char *ifname;
	uint64_t count;		/* 0 = no limit */
	double duration;	/* seconds; 0 = no limit */
	unsigned int size;
	bool random_sizes;
	uint64_t pps;		/* 0 = full speed */
	uint64_t seed;
	bool have_dst_mac;
	struct zcap_frame_addr addr;
	uint64_t start_seq;
	unsigned int batch;
	bool quiet;
	const char *backend;	/* NULL: auto */
	bool arp;		/* --arp: ARP requests for arp_tpa */
	uint32_t arp_tpa;
};


static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROG " -i IF [-c COUNT | -d SECONDS] [-s SIZE | --random-sizes]\n"
		"                [-r PPS] [--seed N] [--dst-mac MAC] [--src-ip A] [--dst-ip A]\n"
		"                [--src-port N] [--dst-port N]\n"
		"                [--start-seq N] [--batch N] [--backend B] [--arp A] [-q]\n"
		"\n"
		"Sends numbered UDP test frames on IF for zcap-verify to check.\n"
		"\n"
		"  -i, --interface IF   interface to send on (required)\n"
		"  -c, --count COUNT    stop after COUNT frames\n"
		"  -d, --duration SECS  stop after SECS seconds (with -c: whichever first);\n"
		"                       with neither, run until SIGINT/SIGTERM\n"
		"  -s, --size SIZE      frame size including the 4-byte FCS, 64..1518\n"
		"                       (default 64; SIZE-4 bytes are sent)\n"
		"      --random-sizes   each frame's size uniform in 64..1518 (reproducible)\n"
		"  -r, --rate PPS       send PPS frames per second (default: full speed)\n"
		"      --seed N         seed for --random-sizes (default 1)\n"
		"      --dst-mac MAC    destination MAC (default ff:ff:ff:ff:ff:ff)\n"
		"      --src-ip A       source IPv4 address (default 198.18.0.1)\n"
		"      --dst-ip A       destination IPv4 address (default 198.18.0.2)\n"
		"      --src-port N     UDP source port (default 1024)\n"
		"      --dst-port N     UDP destination port (default 9)\n"
		"      --start-seq N    first sequence number (default 0)\n"
		"      --batch N        frames per batch (one sendmmsg, or one ring submit),\n"
		"                       1..%d (default %d)\n"
		"      --backend B      %s\n"
		"                       (default auto; see -v and README.md, \"Backends\")\n"
		"      --arp A          send ARP requests \"who has A?\" instead (60 bytes,\n"
		"                       64 with the FCS): frame n tells --src-ip + n\n"
		"                       (its sequence number) at IF's MAC, to --dst-mac\n"
		"  -q, --quiet          print nothing but the summary line\n"
		"  -h, --help           show this help\n"
		"\n"
		"At the end one line goes to stderr:\n"
		"  " PROG ": sent=N bytes=N seconds=F pps=N mbps=F if_tx_dropped=N retries=N\n"
		"sent counts frames the kernel took (for ring backends: completed);\n"
		"if_tx_dropped those the interface dropped after taking them; retries\n"
		"frames refused for a moment and sent again. bytes and mbps count the\n"
		"bytes handed to the interface (no FCS).\n",
		MAX_BATCH, DEFAULT_BATCH, backend_names(ZCAP_TX));
}

static double parse_seconds(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	/* The digit check rejects "nan", "inf" and hex floats' oddities. */
	if ((*s < '0' || *s > '9') || errno || *end || !isfinite(v) || v <= 0 || v > 1e9)
		usage_error("invalid duration '%s': must be a positive number of seconds", s);
	return v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "interface",    required_argument, NULL, 'i' },
		{ "count",        required_argument, NULL, 'c' },
		{ "duration",     required_argument, NULL, 'd' },
		{ "size",         required_argument, NULL, 's' },
		{ "random-sizes", no_argument,       NULL, OPT_RANDOM_SIZES },
		{ "rate",         required_argument, NULL, 'r' },
		{ "seed",         required_argument, NULL, OPT_SEED },
		{ "dst-mac",      required_argument, NULL, OPT_DST_MAC },
		{ "src-ip",       required_argument, NULL, OPT_SRC_IP },
		{ "dst-ip",       required_argument, NULL, OPT_DST_IP },
		{ "src-port",     required_argument, NULL, OPT_SRC_PORT },
		{ "dst-port",     required_argument, NULL, OPT_DST_PORT },
		{ "start-seq",    required_argument, NULL, OPT_START_SEQ },
		{ "batch",        required_argument, NULL, OPT_BATCH },
		{ "backend",      required_argument, NULL, OPT_BACKEND },
		{ "arp",          required_argument, NULL, OPT_ARP },
		{ "quiet",        no_argument,       NULL, 'q' },
		{ "help",         no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *size_arg = NULL;
	int c;

	memset(o, 0, sizeof(*o));
	zcap_frame_addr_init(&o->addr);
	o->size = ZCAP_FRAME_SIZE_MIN;
	o->seed = 1;
	o->batch = DEFAULT_BATCH;

	/* Our own messages, so every one starts with the tool's name rather
	 * than whatever path argv[0] holds. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:c:d:s:r:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->ifname = optarg;
			break;
		case 'c':
			o->count = parse_num("count", optarg, 1, UINT64_MAX);
			break;
		case 'd':
			o->duration = parse_seconds(optarg);
			break;
		case 's':
			size_arg = optarg;
			o->size = (unsigned int)parse_num("size", optarg, ZCAP_FRAME_SIZE_MIN,
							  ZCAP_FRAME_SIZE_MAX);
			break;
		case OPT_RANDOM_SIZES:
			o->random_sizes = true;
			break;
		case 'r':
			o->pps = parse_num("rate", optarg, 1, 1000000000);
			break;
		case OPT_SEED:
			o->seed = parse_num("seed", optarg, 0, UINT64_MAX);
			break;
		case OPT_DST_MAC:
			parse_mac(optarg, o->addr.dst_mac);
			o->have_dst_mac = true;
			break;
		case OPT_SRC_IP:
			o->addr.src_ip = parse_ip("source address", optarg);
			break;
		case OPT_DST_IP:
			o->addr.dst_ip = parse_ip("destination address", optarg);
			break;
		case OPT_SRC_PORT:
			o->addr.src_port = (uint16_t)parse_num("source port", optarg, 1, 65535);
			break;
		case OPT_DST_PORT:
			o->addr.dst_port = (uint16_t)parse_num("destination port", optarg, 1, 65535);
			break;
		case OPT_START_SEQ:
			o->start_seq = parse_num("start sequence number", optarg, 0, UINT64_MAX);
			break;
		case OPT_BATCH:
			o->batch = (unsigned int)parse_num("batch", optarg, 1, MAX_BATCH);
			break;
		case OPT_BACKEND:
			o->backend = parse_backend(optarg, ZCAP_TX);
			break;
		case OPT_ARP:
			o->arp = true;
			o->arp_tpa = parse_ip("ARP target address", optarg);
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			bad_option(c, argv);
		}
	}
	args_done(argc, argv, o->ifname);
	if (size_arg && o->random_sizes)
		usage_error("-s and --random-sizes exclude each other");
	if (o->arp && (size_arg || o->random_sizes))
		usage_error("--arp sends 64-byte frames: -s and --random-sizes do not apply");
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* xorshift64*: tiny, fast and, seeded the same, the same sizes every run. */
struct rng {
	uint64_t s;
};

static void rng_seed(struct rng *r, uint64_t seed)
{
	/* xorshift must not start at 0; mixing also spreads nearby seeds. */
	r->s = zcap_mix64(seed);
	if (!r->s)
		r->s = 1;
}

static uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

static unsigned int random_size(struct rng *r)
{
	const uint64_t span = ZCAP_FRAME_SIZE_MAX - ZCAP_FRAME_SIZE_MIN + 1;

	/* Multiply-shift instead of %: no division, and the bias (span/2^32)
	 * is far below anything a run could measure. */
	return ZCAP_FRAME_SIZE_MIN + (unsigned int)(((rng_next(r) >> 32) * span) >> 32);
}

struct stats {
	uint64_t sent;
	uint64_t bytes;
	uint64_t retries;
};

/* The token bucket of -r. */
struct pacer {
	uint64_t pps;
	double tokens;
	double depth;
	uint64_t t_last;
};

static void pacer_init(struct pacer *p, const struct opts *o, uint64_t t_start)
{
	p->pps = o->pps;
	p->tokens = 1;
	p->t_last = t_start;
	/* Bucket depth: one batch, or 10 ms of frames at high rates.
	 * Sleeps overshoot by ~60 us and a busy host preempts us for
	 * milliseconds; a shallower bucket turned that into lost
	 * rate (1 ms: -1 % at 200 kpps on a loaded 2-core host). */
	p->depth = (double)o->pps / 100;
	if (p->depth < o->batch)
		p->depth = o->batch;
}

/* How many of want frames may go at time t; 0 after sleeping for the
 * next token (call again: the clock and the stop flag have moved). */
static unsigned int pace(struct pacer *p, uint64_t t, uint64_t deadline, unsigned int want)
{
	p->tokens += (double)(t - p->t_last) * (double)p->pps / 1e9;
	p->t_last = t;
	if (p->tokens > p->depth)
		p->tokens = p->depth;
	if (p->tokens < 1) {
		uint64_t wait = (uint64_t)((1 - p->tokens) * 1e9 / (double)p->pps) + 1;

		if (deadline && t + wait > deadline)
			wait = deadline - t;
		sleep_ns(wait);
		return 0;
	}
	if (p->tokens < want)
		want = (unsigned int)p->tokens;
	p->tokens -= want;
	return want;
}

/* The next batch's size by -c and -d: 0 when done. *t is the time when
 * -d or -r need it. */
static unsigned int batch_left(const struct opts *o, uint64_t done, uint64_t deadline,
			       uint64_t *t)
{
	unsigned int n = o->batch;

	if (o->count) {
		uint64_t left = o->count - done;

		if (!left)
			return 0;
		if (left < n)
			n = (unsigned int)left;
	}
	if (deadline || o->pps) {
		*t = now_ns(CLOCK_MONOTONIC);
		if (deadline && *t >= deadline)
			return 0;
	}
	return n;
}

/* Every frame is reserved or in flight: take completions back, and wait
 * for them a little if there are none yet. */
static void wait_room(zcap_tx_t *tx, const char *ifname, uint64_t *stalled_since,
		      unsigned int *spins, uint64_t done)
{
	uint64_t t;

	if (zcap_tx_complete(tx)) {
		*stalled_since = 0;
		*spins = 0;
		return;
	}
	if (++*spins < 16)
		return;
	t = now_ns(CLOCK_MONOTONIC);
	if (!*stalled_since)
		*stalled_since = t;
	else if (t - *stalled_since > STALL_NS)
		die("%s: no frame completed for %llu s; giving up after %" PRIu64 " frames",
		    ifname, STALL_NS / 1000000000ull, done);
	sleep_ns(10000);
}

/* The transmit API's path: frames built in place in the ring's slots. */
static void run_tx(const struct opts *o, zcap_tx_t *tx, struct rng *rng, uint64_t t_start,
		   uint64_t deadline, uint64_t *submitted)
{
	uint64_t seq = o->start_seq, stalled_since = 0;
	unsigned int spins = 0;
	struct pacer pc;

	pacer_init(&pc, o, t_start);
	while (!stop) {
		uint64_t t = 0;
		unsigned int n = batch_left(o, *submitted, deadline, &t);

		if (!n)
			break;
		n = zcap_tx_reserve(tx, n);
		if (!n) {
			wait_room(tx, o->ifname, &stalled_since, &spins, *submitted);
			continue;
		}
		stalled_since = 0;
		spins = 0;
		if (o->pps && !(n = pace(&pc, t, deadline, n)))
			continue;	/* the reservation is given back by the next one */
		for (unsigned int i = 0; i < n; i++) {
			uint8_t *f = zcap_tx_frame(tx, i, NULL);
			unsigned int size = o->random_sizes ? random_size(rng) : o->size;

			if (o->arp) {
				arp_build(f, ARP_FRAME_LEN, o->addr.dst_mac, o->addr.src_mac,
					  ARP_OP_REQUEST,
					  o->addr.src_mac, o->addr.src_ip + (uint32_t)(seq + i),
					  (const uint8_t[6]){ 0 }, o->arp_tpa);
				zcap_tx_setlen(tx, i, ARP_FRAME_LEN);
				continue;
			}
			zcap_tx_setlen(tx, i, (uint32_t)zcap_frame_build(f, size, seq + i,
									  &o->addr));
		}
		if (zcap_tx_submit(tx, n))
			die("%s (after %" PRIu64 " frames)", zcap_tx_geterr(tx), *submitted);
		seq += n;
		*submitted += n;
		zcap_tx_complete(tx);
	}
}

/* The transmit API's handle on the backend asked for. */
static zcap_tx_t *open_tx(const struct opts *o)
{
	ZCAP_DECLARE(zcap_tx_opts, opts, .backend = o->backend);
	char err[ZCAP_ERRBUF_SIZE];
	zcap_tx_t *tx;

	tx = zcap_tx_open(o->ifname, &opts, err);
	if (!tx && o->backend)
		die("--backend %s: %s", o->backend, err);
	if (!tx)
		die("%s", err);
	return tx;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct stats st = { 0 };
	struct sigaction sa;
	struct rng rng;
	zcap_tx_t *tx;
	ZCAP_DECLARE(zcap_tx_stats, ts);
	uint64_t t_start, t_end, deadline = 0, if_drop, submitted = 0;
	double secs;
	unsigned int max_size, mtu;

	parse_args(argc, argv, &o);
	log_init(!o.quiet);
	max_size = o.random_sizes ? ZCAP_FRAME_SIZE_MAX : o.size;
	/* Before anything else: a mistyped name is the more useful
	 * complaint, and this lookup needs no privilege. */
	if (strlen(o.ifname) >= IFNAMSIZ || !if_nametoindex(o.ifname))
		die("unknown interface '%s'", o.ifname);

	tx = open_tx(&o);
	if_mac_mtu(o.ifname, o.addr.src_mac, &mtu);
	if (zcap_tx_max_len(tx) < max_size - ZCAP_FCS_LEN)
		die("%s: MTU %u is too small for %u-byte frames (needs %u)",
		    o.ifname, mtu, max_size, max_size - 18);
	rng_seed(&rng, o.seed);

	/* No SA_RESTART: a sleep must return at once. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (!o.quiet) {
		char sz[32];

		if (o.random_sizes)
			snprintf(sz, sizeof(sz), "random sizes (seed %" PRIu64 ")", o.seed);
		else
			snprintf(sz, sizeof(sz), "%u-byte frames", o.size);
		fprintf(stderr, PROG ": %s: sending %s from seq %" PRIu64 ", %s, with %s\n",
			o.ifname, sz, o.start_seq, o.pps ? "paced" : "at full speed",
			zcap_tx_backend_name(tx));
	}

	t_start = now_ns(CLOCK_MONOTONIC);
	if (o.duration > 0)
		deadline = t_start + (uint64_t)(o.duration * 1e9);

	run_tx(&o, tx, &rng, t_start, deadline, &submitted);
	/* what is still in flight is not sent (yet): wait for it */
	if (zcap_tx_flush(tx, FLUSH_MS))
		fprintf(stderr, PROG ": warning: %s\n", zcap_tx_geterr(tx));
	t_end = now_ns(CLOCK_MONOTONIC);
	if (zcap_tx_stats(tx, &ts))
		die("%s", zcap_tx_geterr(tx));
	st.sent = ts.completed - ts.invalid;
	st.bytes = ts.bytes;
	st.retries = ts.retries;
	if (ts.invalid)
		fprintf(stderr, PROG ": warning: the kernel refused %" PRIu64
			" frames as malformed\n", ts.invalid);
	/* what the device dropped, as the socket heard it or, when it says
	 * more, as the interface counted it */
	if_drop = ts.errors > ts.drop_if ? ts.errors : ts.drop_if;
	zcap_tx_close(tx);

	secs = (double)(t_end - t_start) / 1e9;
	fprintf(stderr, PROG ": sent=%" PRIu64 " bytes=%" PRIu64 " seconds=%.6f pps=%" PRIu64
		" mbps=%.3f if_tx_dropped=%" PRIu64 " retries=%" PRIu64 " dma=%" PRIu64 "\n",
		st.sent, st.bytes, secs,
		secs > 0 ? (uint64_t)((double)st.sent / secs + 0.5) : 0,
		secs > 0 ? (double)st.bytes * 8 / secs / 1e6 : 0.0,
		if_drop, st.retries, ts.dma);
	return 0;
}
