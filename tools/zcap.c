/* SPDX-License-Identifier: MIT */
/*
 * zcap: capture packets zero-copy to a pcap or pcapng file, with tcpdump's
 * habits. A thin loop over libzcap: receive a batch, write it, release it.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "print.h"
#include "zcap.h"

#define PROG "zcap"
#include "util.h"

#define BATCH 256
#define DRAIN_MS 1000	/* after SIGINT, how long to empty the ring */

static zcap_t *g_handle;
static volatile sig_atomic_t g_stop;

static void usage(FILE *f)
{
	fprintf(f,
"Usage: zcap -i IF [-w FILE] [-c COUNT] [-s SNAPLEN] [-B KiB] [-q] [-p] [-v]\n"
"            [-Q in|out|inout] [--format pcap|pcapng] [--backend NAME] [--queue N]\n"
"            [--block-size BYTES] [--time-stamp-precision micro|nano]\n"
"            [filter expression...]\n"
"       zcap -D | --version | --help\n"
"\n"
"  -i IF        interface to capture on\n"
"  -w FILE      write packets to FILE ('-' = stdout); pcapng if FILE ends in\n"
"               .pcapng, else pcap. Without -w, print one line per packet\n"
"  -c COUNT     stop after COUNT packets\n"
"  -s SNAPLEN   bytes to keep per packet (0 = %u, the default)\n"
"  -B KiB       ring size in KiB (default %u, i.e. %u MiB)\n"
"  -q           no once-a-second status line; shorter packet lines\n"
"  -p           do not put the interface into promiscuous mode\n"
"  -v           say which backend was chosen and why\n"
"  -Q DIR       direction: in, out or inout (default)\n"
"  -D           list interfaces\n"
"  --format F   pcap or pcapng, whatever the file name\n"
"  --backend B  %s (default auto; see -v and README.md, \"Backends\")\n"
"  --queue N    xdp: capture rx queue N only (default: every queue)\n"
"  --block-size BYTES   ring block size, power of two (default %u)\n"
"  --time-stamp-precision P   pcap files: micro (default) or nano\n"
"\n"
"The filter uses tcpdump syntax and runs in the kernel (with xdp: in zcap,\n"
"before a packet is handed out).\n",
		ZCAP_SNAPLEN_MAX, ZCAP_DEFAULT_RING_BYTES >> 10,
		ZCAP_DEFAULT_RING_BYTES >> 20, backend_names(ZCAP_RX),
		ZCAP_DEFAULT_BLOCK_BYTES);
}

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
	if (g_handle)
		zcap_breakloop(g_handle);
}

static int list_interfaces(void)
{
	struct if_nameindex *ifs = if_nameindex(), *i;

	if (!ifs) {
		perror("zcap: if_nameindex");
		return 1;
	}
	for (i = ifs; i->if_index; i++)
		printf("%u.%s\n", i->if_index, i->if_name);
	if_freenameindex(ifs);
	return 0;
}

static char *join_args(int argc, char **argv)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

struct opts {
	const char *ifname;
	const char *wfile;
	uint64_t count;
	int quiet;
	int format;		/* -1: from the file name */
	int nsec;
	int verbose;
	struct zcap_opts cfg;
	struct zcap_tpacket_opts tpacket;
	struct zcap_xdp_opts xdp;
};

enum { OPT_FORMAT = 256, OPT_BACKEND, OPT_BLOCK, OPT_TSPREC, OPT_VERSION, OPT_QUEUE };

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "block-size", required_argument, NULL, OPT_BLOCK },
		{ "time-stamp-precision", required_argument, NULL, OPT_TSPREC },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "queue", required_argument, NULL, OPT_QUEUE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->format = -1;
	o->cfg.sz = sizeof(o->cfg);
	o->tpacket.sz = sizeof(o->tpacket);
	o->xdp.sz = sizeof(o->xdp);
	o->cfg.tpacket = &o->tpacket;
	o->cfg.xdp = &o->xdp;
	opterr = 0;	/* one line, prefixed with the tool's name */
	while ((c = getopt_long(argc, argv, "+:i:w:c:s:B:qpvQ:Dh", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->ifname = optarg;
			break;
		case 'w':
			o->wfile = optarg;
			break;
		case 'c':
			o->count = parse_num("packet count", optarg, 1, UINT64_MAX);
			break;
		case 's':
			o->cfg.snaplen = (uint32_t)parse_num("snap length", optarg, 0,
							     ZCAP_SNAPLEN_MAX);
			break;
		case 'B':
			o->cfg.ring_bytes = parse_num("ring size", optarg, 8,
						      1ull << 32) << 10;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'p':
			o->cfg.flags |= ZCAP_OPT_NO_PROMISC;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'Q':
			if (!strcmp(optarg, "in"))
				o->cfg.direction = ZCAP_DIR_IN;
			else if (!strcmp(optarg, "out"))
				o->cfg.direction = ZCAP_DIR_OUT;
			else if (!strcmp(optarg, "inout"))
				o->cfg.direction = ZCAP_DIR_INOUT;
			else
				usage_error("invalid direction '%s' (in, out, inout)", optarg);
			break;
		case 'D':
			exit(list_interfaces());
		case OPT_FORMAT:
			if (!strcmp(optarg, "pcap"))
				o->format = ZCAP_FMT_PCAP;
			else if (!strcmp(optarg, "pcapng"))
				o->format = ZCAP_FMT_PCAPNG;
			else
				usage_error("invalid format '%s' (pcap, pcapng)", optarg);
			break;
		case OPT_BACKEND:
			o->cfg.backend = parse_backend(optarg, ZCAP_RX);
			break;
		case OPT_QUEUE:
			o->xdp.flags |= ZCAP_XDP_QUEUE;
			o->xdp.queue = (uint32_t)parse_num("queue", optarg, 0, 65535);
			break;
		case OPT_BLOCK:
			if (!parse_u64(optarg, &v) || v < 4096 || v > (1u << 30) ||
			    (v & (v - 1)))
				usage_error("invalid block size '%s': must be a power "
					    "of two in 4096..1073741824", optarg);
			o->tpacket.block_bytes = (uint32_t)v;
			break;
		case OPT_TSPREC:
			if (!strcmp(optarg, "nano"))
				o->nsec = 1;
			else if (!strcmp(optarg, "micro"))
				o->nsec = 0;
			else
				usage_error("invalid precision '%s' (micro, nano)", optarg);
			break;
		case OPT_VERSION:
			printf("zcap %s\n", ZCAP_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			bad_option(c, argv);
		}
	}
	if (!o->ifname)
		usage_error("no interface given (-i IF); 'zcap -D' lists them");
}

struct run {
	zcap_t *h;
	zcap_dumper_t *dump;
	uint64_t captured;
	int status_line;
	uint64_t last_ns, last_rx, last_bytes;
};

static void status(struct run *r, int final)
{
	ZCAP_DECLARE(zcap_stats, st);
	uint64_t now;
	double dt;

	/* before the clock: a clock read costs more than a packet where the
	 * TSC traps (VMs), and this runs once a batch */
	if (!r->status_line)
		return;
	now = now_ns(CLOCK_MONOTONIC);
	if (final) {
		fputs("\r\033[K", stderr);
		return;
	}
	if (now - r->last_ns < 1000000000ull || zcap_stats(r->h, &st))
		return;
	dt = (double)(now - r->last_ns) / 1e9;
	fprintf(stderr, "\r\033[K%.0f pkt/s  %.1f Mb/s  captured %llu  "
		"dropped %llu",
		(double)(st.received - r->last_rx) / dt,
		(double)(st.bytes - r->last_bytes) * 8 / dt / 1e6,
		(unsigned long long)r->captured,
		(unsigned long long)(st.drop_ring_full + st.drop_if));
	r->last_ns = now;
	r->last_rx = st.received;
	r->last_bytes = st.bytes;
}

/* Returns 0 to go on, 1 when -c is reached, -1 on a write error. */
static int consume(struct run *r, const struct opts *o,
		   const struct zcap_pkt *pkts, int n)
{
	for (int i = 0; i < n; i++) {
		if (o->count && r->captured >= o->count)
			return 1;
		if (r->dump) {
			if (zcap_dump_write(r->dump, &pkts[i]))
				return -1;
		} else {
			print_packet(stdout, &pkts[i], o->quiet);
		}
		r->captured++;
	}
	if (!r->dump)
		fflush(stdout);
	return o->count && r->captured >= o->count;
}

static int capture(struct run *r, const struct opts *o)
{
	static struct zcap_pkt pkts[BATCH];
	uint64_t drain_until = 0;
	int n, rc = 0;

	for (;;) {
		n = zcap_recv(r->h, pkts, BATCH, drain_until ? 50 : 100);
		if (n > 0) {
			rc = consume(r, o, pkts, n);
			zcap_release(r->h);
			if (rc)
				break;
		} else if (n == ZCAP_ERROR) {
			fprintf(stderr, "\nzcap: %s\n", zcap_geterr(r->h));
			return -1;
		} else if (n == ZCAP_BREAK || (g_stop && !drain_until)) {
			/* Stop new packets, then write what the kernel had
			 * already accepted: a stop loses nothing counted. */
			if (zcap_freeze(r->h))
				fprintf(stderr, "\nzcap: %s\n", zcap_geterr(r->h));
			drain_until = now_ns(CLOCK_MONOTONIC) + DRAIN_MS * 1000000ull;
		} else if (drain_until) {
			break;	/* the ring is empty */
		}
		if (drain_until && now_ns(CLOCK_MONOTONIC) > drain_until)
			break;
		status(r, 0);
	}
	zcap_freeze(r->h);	/* after -c too: the counters settle */
	return rc < 0 ? -1 : 0;
}

/* The counters as the file saw them: packets handed out by the library but
 * not written (past -c) are still unread, not received. */
static void final_stats(struct run *r, struct zcap_stats *st)
{
	if (zcap_stats(r->h, st)) {
		memset(st, 0, sizeof(*st));
		st->sz = sizeof(*st);
		return;
	}
	if (st->received > r->captured) {
		st->pending += st->received - r->captured;
		st->received = r->captured;
	}
}

static void summary(const struct run *r, const struct zcap_stats *st)
{
	fprintf(stderr, "%llu packets captured\n", (unsigned long long)r->captured);
	fprintf(stderr, "%llu packets dropped by ring (full)\n",
		(unsigned long long)st->drop_ring_full);
	fprintf(stderr, "%llu packets dropped by interface\n",
		(unsigned long long)st->drop_if);
	fprintf(stderr, "%llu packets filtered by kernel\n",
		(unsigned long long)st->filtered);
	if (st->pending)
		fprintf(stderr, "%llu packets left unread in ring\n",
			(unsigned long long)st->pending);
}

int main(int argc, char **argv)
{
	char err[ZCAP_ERRBUF_SIZE];
	ZCAP_DECLARE(zcap_stats, st);
	struct sigaction sa;
	struct run r;
	struct opts o;
	uint64_t start_ns;
	char *filter;
	int fmt, rc;

	parse_opts(argc, argv, &o);
	log_init(o.verbose);
	filter = join_args(argc - optind, argv + optind);
	if (!filter) {
		fprintf(stderr, "zcap: out of memory\n");
		return 1;
	}
	o.cfg.filter = filter;
	memset(&r, 0, sizeof(r));

	/* Everything that can be wrong with the capture is found before the
	 * output file is created, so a bad run leaves no file behind. */
	r.h = zcap_open(o.ifname, &o.cfg, err);
	if (!r.h) {
		fprintf(stderr, "zcap: %s\n", err);
		free(filter);
		return 1;
	}
	/* Before the file exists: a signal from now on ends in a valid file. */
	g_handle = r.h;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: wake blocked calls */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	fmt = o.format >= 0 ? o.format : o.wfile ? (int)zcap_format_from_path(o.wfile)
						 : ZCAP_FMT_PCAP;
	if (o.wfile) {
		ZCAP_DECLARE(zcap_dump_info, info,
			     .ifname = o.ifname,
			     .linktype = zcap_linktype(r.h),
			     .snaplen = zcap_snaplen(r.h),
			     .nsec = o.nsec);

		r.dump = zcap_dump_open(o.wfile, (enum zcap_format)fmt, &info, err);
		if (!r.dump) {
			fprintf(stderr, "zcap: %s\n", err);
			zcap_close(r.h);
			free(filter);
			return 1;
		}
	}


	fprintf(stderr, "zcap: listening on %s, link-type EN10MB (Ethernet), "
		"snapshot length %u bytes, backend %s, ring %llu KiB\n",
		o.ifname, zcap_snaplen(r.h), zcap_backend_name(r.h),
		(unsigned long long)(zcap_ring_bytes(r.h) >> 10));
	r.status_line = !o.quiet && isatty(STDERR_FILENO);
	r.last_ns = now_ns(CLOCK_MONOTONIC);
	start_ns = now_ns(CLOCK_REALTIME);

	rc = capture(&r, &o);
	status(&r, 1);
	final_stats(&r, &st);
	if (r.dump) {
		/* flush first: close frees the dumper and its message */
		if ((rc < 0 && zcap_dump_geterr(r.dump)[0]) ||
		    zcap_dump_flush(r.dump)) {
			fprintf(stderr, "zcap: %s; %s removed\n",
				zcap_dump_geterr(r.dump), o.wfile);
			zcap_dump_abort(r.dump);
			rc = -1;
		} else if (zcap_dump_close(r.dump, &st, start_ns,
					   now_ns(CLOCK_REALTIME))) {
			fprintf(stderr, "zcap: %s: file removed\n", o.wfile);
			rc = -1;
		}
	}
	summary(&r, &st);
	g_handle = NULL;
	zcap_close(r.h);
	free(filter);
	return rc < 0 ? 1 : 0;
}
