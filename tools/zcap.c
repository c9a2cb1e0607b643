/* SPDX-License-Identifier: MIT */
/*
 * zcap: capture packets zero-copy to a pcap or pcapng file, with tcpdump's
 * habits. A thin loop over libzcap: receive a batch, write it, release it.
 * Several interfaces (-i more than once) or a fanout group (--fanout N)
 * run one such loop per handle, each in a thread of its own.
 */
#define _GNU_SOURCE	/* pthread_setaffinity_np */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "print.h"
#include "rotate.h"
#include "stats_json.h"
#include "zcap.h"

#define PROG "zcap"
#include "util.h"

#define BATCH 256
/*
 * The dumper's writes from the ring hold up to four lists of 1024 pieces,
 * about 2,000 records, until written: 3.3 MB of 1518-byte frames. With
 * -B 2048 they held the whole ring and a capture at full speed lost 26 %
 * of 300,000 frames to /dev/null where copies lose about 1 % (bench,
 * zcap-2m); 32 MiB is ten times what they hold.
 */
#define REFS_MIN_RING (32ull << 20)
#define DRAIN_MS 1000	/* after SIGINT, how long to empty the ring */
#define MAX_IFS 16
#define MAX_FANOUT 64

/* Every open handle, for the signal handler's zcap_breakloop(). */
static zcap_t *g_handles[MAX_IFS * MAX_FANOUT];
static volatile sig_atomic_t g_nhandles;
static volatile sig_atomic_t g_stop;
static volatile sig_atomic_t g_tick;	/* seconds, from the 1 Hz timer */
static uint64_t g_stop_secs;		/* -a duration */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: zcap -i IF [-i IF]... [-w FILE] [-c COUNT] [-s SNAPLEN] [-B KiB] [-q] [-p] [-v]\n"
"            [-Q in|out|inout] [--format pcap|pcapng] [--backend NAME] [--queue N]\n"
"            [--block-size BYTES] [--time-stamp-precision micro|nano]\n"
"            [-C SIZE] [-G SECONDS] [-W N] [-z COMMAND] [-a COND:VALUE]...\n"
"            [--fanout N [--fanout-group ID] [--per-thread-files]]\n"
"            [--stats-json FILE|udp:HOST:PORT|unix:PATH]\n"
"            [filter expression...]\n"
"       zcap -D | --version | --help\n"
"\n"
"  -i IF        interface to capture on; again for more (pcapng, one\n"
"               Interface Description Block each)\n"
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
"  --queue N    xdp: capture rx queue N only (default: every queue);\n"
"               with --fanout: threads take queues N, N+1, ...\n"
"  --block-size BYTES   ring block size, power of two (default %u)\n"
"  --time-stamp-precision P   pcap files: micro (default) or nano\n"
"\n"
"Long captures (as tcpdump; see README.md, \"Rotation\"):\n"
"  -C SIZE      a new file before one would pass SIZE millions of bytes\n"
"               (or SIZEk, SIZEm, SIZEg: KiB, MiB, GiB); files FILE, FILE1, ...\n"
"  -G SECONDS   a new file every SECONDS; FILE may hold strftime %%-escapes\n"
"  -W N         with -C: a ring of N files (FILE0..), the oldest replaced;\n"
"               with -G only: stop after N files\n"
"  -z COMMAND   run 'COMMAND FILE' on each finished file (not waited for)\n"
"  -a COND:VAL  stop at duration:SECONDS, filesize:KB (kB = 1000 bytes),\n"
"               files:N or packets:N (as dumpcap; -a may repeat)\n"
"A file is written as .FILE.part and renamed to FILE when it is complete.\n"
"\n"
"Scale and monitoring (README.md, \"Fanout\"):\n"
"  --fanout N   N capture threads per interface, each with its own ring and\n"
"               core; the kernel spreads packets by flow (both ways alike);\n"
"               xdp: a socket per rx queue, thread i taking queues i, i+N, ...,\n"
"               the NIC's RSS spreading the flows\n"
"  --fanout-group ID   join fanout group ID (0..65535; default from the pid),\n"
"               e.g. to share it with other processes\n"
"  --per-thread-files  one file per thread (FILE_0.pcapng, ...), not one\n"
"  --stats-json T      counters as one JSON object a second, and at the end,\n"
"               to a file, udp:HOST:PORT or unix:PATH (a datagram socket)\n"
"\n"
"The filter uses tcpdump syntax and runs in the kernel (with xdp: in zcap,\n"
"before a packet is handed out).\n",
		ZCAP_SNAPLEN_MAX, ZCAP_DEFAULT_RING_BYTES >> 10,
		ZCAP_DEFAULT_RING_BYTES >> 20, backend_names(ZCAP_RX),
		ZCAP_DEFAULT_BLOCK_BYTES);
}

static void stop_all(void)
{
	g_stop = 1;
	for (int i = 0; i < g_nhandles; i++)
		zcap_breakloop(g_handles[i]);
}

static void on_signal(int sig)
{
	if (sig == SIGALRM) {
		g_tick++;
		if (!g_stop_secs || (uint64_t)g_tick < g_stop_secs)
			return;
	}
	stop_all();
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
	const char *ifnames[MAX_IFS];
	unsigned int nifs;
	unsigned int fanout;		/* threads per interface; 0 = no group */
	int fanout_group;		/* -1: from the pid */
	int per_thread_files;
	const char *stats_json;
	const char *wfile;
	uint64_t count;
	int quiet;
	int format;		/* -1: from the file name */
	int nsec;
	int verbose;
	struct zcap_opts cfg;
	struct zcap_tpacket_opts tpacket;
	struct zcap_xdp_opts xdp;
	struct rotate_opts rot;
};

enum { OPT_FORMAT = 256, OPT_BACKEND, OPT_BLOCK, OPT_TSPREC, OPT_VERSION, OPT_QUEUE,
       OPT_FANOUT, OPT_FANOUT_GROUP, OPT_PER_THREAD, OPT_STATS_JSON };

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "block-size", required_argument, NULL, OPT_BLOCK },
		{ "time-stamp-precision", required_argument, NULL, OPT_TSPREC },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "queue", required_argument, NULL, OPT_QUEUE },
		{ "fanout", required_argument, NULL, OPT_FANOUT },
		{ "fanout-group", required_argument, NULL, OPT_FANOUT_GROUP },
		{ "per-thread-files", no_argument, NULL, OPT_PER_THREAD },
		{ "stats-json", required_argument, NULL, OPT_STATS_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->format = -1;
	o->fanout_group = -1;
	o->cfg.sz = sizeof(o->cfg);
	o->tpacket.sz = sizeof(o->tpacket);
	o->xdp.sz = sizeof(o->xdp);
	o->cfg.tpacket = &o->tpacket;
	o->cfg.xdp = &o->xdp;
	opterr = 0;	/* one line, prefixed with the tool's name */
	while ((c = getopt_long(argc, argv, "+:i:w:c:s:B:qpvQ:DhC:G:W:z:a:", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (o->nifs == MAX_IFS)
				usage_error("too many interfaces (at most %d)", MAX_IFS);
			for (unsigned int i = 0; i < o->nifs; i++)
				if (!strcmp(o->ifnames[i], optarg))
					usage_error("interface '%s' given twice", optarg);
			o->ifnames[o->nifs++] = optarg;
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
		case 'C':
			o->rot.file_bytes = rotate_parse_size(optarg);
			break;
		case 'G':
			o->rot.interval_s = parse_num("rotation interval", optarg,
						      1, 100000000);
			break;
		case 'W':
			o->rot.wfiles = (uint32_t)parse_num("file count", optarg, 1,
							    100000000);
			break;
		case 'z':
			o->rot.zcmd = optarg;
			break;
		case 'a':
			rotate_parse_stop(&o->rot, optarg);
			break;
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
		case OPT_FANOUT:
			o->fanout = (unsigned int)parse_num("fanout", optarg, 1,
							    MAX_FANOUT);
			break;
		case OPT_FANOUT_GROUP:
			o->fanout_group = (int)parse_num("fanout group", optarg, 0,
							 65535);
			break;
		case OPT_PER_THREAD:
			o->per_thread_files = 1;
			break;
		case OPT_STATS_JSON:
			o->stats_json = optarg;
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
	if (!o->nifs)
		usage_error("no interface given (-i IF); 'zcap -D' lists them");
	if ((o->fanout_group >= 0 || o->per_thread_files) && !o->fanout)
		usage_error("--fanout-group and --per-thread-files need --fanout N");
	if (o->per_thread_files && (!o->wfile || !strcmp(o->wfile, "-")))
		usage_error("--per-thread-files needs -w FILE (not '-')");
	if (o->fanout && (o->xdp.flags & ZCAP_XDP_QUEUE) &&
	    (!o->cfg.backend || strcmp(o->cfg.backend, "xdp")))
		usage_error("--fanout with --queue is for --backend xdp: the other "
			    "backends' groups spread every queue");
	if (o->rot.stop_packets && (!o->count || o->rot.stop_packets < o->count))
		o->count = o->rot.stop_packets;
}

/*
 * One capture loop: a handle, and where its packets go. Without fanout or
 * a second interface there is one, run by main(); else one thread each.
 */
struct worker {
	pthread_t thread;
	unsigned int idx;
	zcap_t *h;
	const char *ifname;
	uint32_t ifid;		/* its interface's IDB in a shared file */
	int cpu;		/* pinned to; -1 = not */
	zcap_dumper_t *dump;	/* its own, or the shared one */
	pthread_mutex_t *dlock;	/* the shared dumper's lock; NULL = own */
	int refs;		/* the dumper writes from the ring (give_back()) */
	uint64_t given;		/* its records whose packets went back */
	const struct opts *o;
	uint64_t captured;	/* written; read by main (atomic) */
	int ended;		/* the dumper's files are full (ZCAP_DUMP_END) */
	int rc;
	/* main's copy of the counters: refreshed by the loop when g_tick
	 * moves, as a handle is one thread's at a time */
	pthread_mutex_t slock;
	struct zcap_stats snap;
	int seen_tick;
	void (*on_tick)(void *arg);	/* the single loop's --stats-json */
	void *tick_arg;
	/* the status line, single loop only */
	int status_line;
	uint64_t last_ns, last_rx, last_bytes;
};

static uint64_t g_taken;	/* packets claimed for -c, across threads */

/* The line itself, over dt seconds: for one loop, or main's for several. */
static void status_show(double dt, uint64_t drx, uint64_t dbytes,
			uint64_t captured, uint64_t dropped)
{
	fprintf(stderr, "\r\033[K%.0f pkt/s  %.1f Mb/s  captured %llu  "
		"dropped %llu", (double)drx / dt, (double)dbytes * 8 / dt / 1e6,
		(unsigned long long)captured, (unsigned long long)dropped);
}

static void status(struct worker *w, int final)
{
	ZCAP_DECLARE(zcap_stats, st);
	uint64_t now;
	double dt;

	/* before the clock: a clock read costs more than a packet where the
	 * TSC traps (VMs), and this runs once a batch */
	if (!w->status_line)
		return;
	now = now_ns(CLOCK_MONOTONIC);
	if (final) {
		fputs("\r\033[K", stderr);
		return;
	}
	if (now - w->last_ns < 1000000000ull || zcap_stats(w->h, &st))
		return;
	dt = (double)(now - w->last_ns) / 1e9;
	status_show(dt, st.received - w->last_rx, st.bytes - w->last_bytes,
		    w->captured, st.drop_ring_full + st.drop_if);
	w->last_ns = now;
	w->last_rx = st.received;
	w->last_bytes = st.bytes;
}

/* -c across threads: may one more packet be written? */
static int claim(const struct opts *o)
{
	if (!o->count)
		return 1;
	return __atomic_fetch_add(&g_taken, 1, __ATOMIC_RELAXED) < o->count;
}

/* Returns 0 to go on, 1 when -c or the files' limit is reached, -1 on a
 * write error. */
static int consume(struct worker *w, const struct zcap_pkt *pkts, int n)
{
	const struct opts *o = w->o;
	int rc = 0, i;

	if (w->dlock)
		pthread_mutex_lock(w->dlock);
	for (i = 0; i < n; i++) {
		if (!claim(o)) {
			rc = 1;
			break;
		}
		if (w->dump) {
			int r = zcap_dump_write_if(w->dump, &pkts[i], w->ifid);

			if (r == ZCAP_DUMP_END) {
				w->ended = 1;
				rc = 1;
				break;
			}
			if (r) {
				rc = -1;
				break;
			}
		} else {
			print_packet(stdout, &pkts[i], o->quiet);
		}
	}
	if (w->dlock)
		pthread_mutex_unlock(w->dlock);
	__atomic_store_n(&w->captured, w->captured + (uint64_t)i, __ATOMIC_RELAXED);
	if (!w->dump)
		fflush(stdout);
	if (!rc && o->count && __atomic_load_n(&g_taken, __ATOMIC_RELAXED) >= o->count)
		rc = 1;
	return rc;
}

/* For main's status line and --stats-json, once a tick. */
static void snapshot(struct worker *w)
{
	ZCAP_DECLARE(zcap_stats, st);

	w->seen_tick = g_tick;
	if (zcap_stats(w->h, &st))
		return;
	pthread_mutex_lock(&w->slock);
	w->snap = st;
	pthread_mutex_unlock(&w->slock);
	if (w->on_tick)
		w->on_tick(w->tick_arg);
}

/*
 * refs: packets go back to the ring as the dumper finishes writing them
 * (in order, so the first done of those handed out). push: the ring is
 * drained for now, and what is buffered must not wait for a full buffer
 * while it holds the ring.
 */
static int give_back(struct worker *w, int push)
{
	uint64_t done;

	if (push && zcap_dump_push(w->dump))
		return -1;
	done = zcap_dump_done(w->dump);
	zcap_release_n(w->h, (unsigned int)(done - w->given));
	w->given = done;
	return 0;
}

static int capture(struct worker *w)
{
	static __thread struct zcap_pkt pkts[BATCH];
	uint64_t drain_until = 0;
	int n, rc = 0;

	for (;;) {
		/* Packets held for the writer (refs) may be all the ring
		 * has: look again soon, and if nothing came, wait for it. */
		int held = w->refs && w->given < w->captured;

		n = zcap_recv(w->h, pkts, BATCH, held ? 1 : drain_until ? 50 : 100);
		if (n > 0) {
			rc = consume(w, pkts, n);
			if (!w->refs)
				zcap_release(w->h);
			else if (!rc && give_back(w, n < BATCH))
				rc = -1;
			if (rc)
				break;
		} else if (n == ZCAP_ERROR) {
			fprintf(stderr, "\nzcap: %s\n", zcap_geterr(w->h));
			return -1;
		} else if (n == ZCAP_BREAK || (g_stop && !drain_until)) {
			/* Stop new packets, then write what the kernel had
			 * already accepted: a stop loses nothing counted. */
			if (zcap_freeze(w->h))
				fprintf(stderr, "\nzcap: %s\n", zcap_geterr(w->h));
			drain_until = now_ns(CLOCK_MONOTONIC) + DRAIN_MS * 1000000ull;
		} else if (held) {
			/* the ring can be all ours while the writer writes
			 * (and a drain must not take that for empty):
			 * without this wait each round would take a whole
			 * timeout */
			if (zcap_dump_flush(w->dump) || give_back(w, 0)) {
				rc = -1;
				break;
			}
		} else if (drain_until) {
			break;	/* the ring is empty */
		} else if (w->dump) {
			/* idle: a -G file still ends on time */
			if (w->dlock)
				pthread_mutex_lock(w->dlock);
			rc = zcap_dump_tick(w->dump, now_ns(CLOCK_REALTIME));
			if (w->dlock)
				pthread_mutex_unlock(w->dlock);
			w->ended = rc == ZCAP_DUMP_END;
			if (rc)
				break;
		}
		if (drain_until && now_ns(CLOCK_MONOTONIC) > drain_until)
			break;
		if (w->seen_tick != g_tick)
			snapshot(w);
		status(w, 0);
	}
	zcap_freeze(w->h);	/* after -c too: the counters settle */
	if (w->ended)
		fprintf(stderr, "\nzcap: %s: %u files\n",
			rotate_end_reason(&w->o->rot), zcap_dump_files(w->dump));
	return rc < 0 ? -1 : 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	w->rc = capture(w);
	/* -c, a full set of files or an error here ends every loop, and
	 * wakes main from pause() (SIGUSR1 goes to the one thread that does
	 * not block it) */
	stop_all();
	kill(getpid(), SIGUSR1);
	return NULL;
}

/* The counters as the file saw them: packets handed out by the library but
 * not written (past -c) are still unread, not received. */
static void final_stats(struct worker *w, struct zcap_stats *st)
{
	if (zcap_stats(w->h, st)) {
		memset(st, 0, sizeof(*st));
		st->sz = sizeof(*st);
		return;
	}
	if (st->received > w->captured) {
		st->pending += st->received - w->captured;
		st->received = w->captured;
	}
}

static void summary(uint64_t captured, const struct zcap_stats *st,
		    unsigned int files)
{
	fprintf(stderr, "%llu packets captured\n", (unsigned long long)captured);
	if (files)
		fprintf(stderr, "%u file%s written\n", files, files == 1 ? "" : "s");
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

/* The i-th allowed CPU, round robin: a fanout thread's core. */
static int nth_cpu(unsigned int i)
{
	cpu_set_t set;
	int n, k = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	n = CPU_COUNT(&set);
	if (n < 2)
		return -1;
	i %= (unsigned int)n;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set) && (unsigned int)k++ == i)
			return c;
	return -1;
}

/* FILE_N before the extension: cap.pcapng -> cap_1.pcapng. */
static char *thread_file(const char *wfile, unsigned int i)
{
	const char *slash = strrchr(wfile, '/');
	const char *dot = strrchr(slash ? slash + 1 : wfile, '.');
	size_t stem = dot && dot != (slash ? slash + 1 : wfile) ?
		      (size_t)(dot - wfile) : strlen(wfile);
	char *p;

	if (asprintf(&p, "%.*s_%u%s", (int)stem, wfile, i, wfile + stem) < 0)
		die("out of memory");
	return p;
}

struct capture_set {
	struct worker *w;
	unsigned int nw;
	zcap_dumper_t *shared;
	pthread_mutex_t dlock;
	char **paths;		/* per-thread files */
	struct stats_json *json;
	uint64_t start_ns;
};

/* Thread i is the first of its interface's (threads go nw / nifs to an
 * interface, in order): the one whose drop_if counts (stats_add()). */
static int first_on_if(const struct capture_set *cs, const struct opts *o,
		       unsigned int i)
{
	return i % (cs->nw / o->nifs) == 0;
}

static void close_handles(struct capture_set *cs)
{
	g_nhandles = 0;
	for (unsigned int i = 0; i < cs->nw; i++) {
		zcap_close(cs->w[i].h);
		pthread_mutex_destroy(&cs->w[i].slock);
	}
	free(cs->w);
}

/* Opens a handle per interface and fanout thread. 0, or -1 after saying
 * why, every handle closed, before any file exists. */
static int open_handles(struct capture_set *cs, const struct opts *o)
{
	unsigned int per_if = o->fanout ? o->fanout : 1;
	uint32_t group = o->fanout_group >= 0 ? (uint32_t)o->fanout_group :
			 (uint32_t)getpid() & 0xffff;

	cs->nw = o->nifs * per_if;
	cs->w = calloc(cs->nw, sizeof(*cs->w));
	if (!cs->w) {
		fprintf(stderr, "zcap: out of memory\n");
		return -1;
	}
	for (unsigned int i = 0; i < cs->nw; i++) {
		struct worker *w = &cs->w[i];
		struct zcap_opts cfg = o->cfg;
		struct zcap_xdp_opts xdp;
		char err[ZCAP_ERRBUF_SIZE];

		w->idx = i;
		w->o = o;
		w->ifid = i / per_if;
		w->ifname = o->ifnames[w->ifid];
		w->cpu = o->fanout ? nth_cpu(i) : -1;
		pthread_mutex_init(&w->slock, NULL);
		if (o->fanout) {
			cfg.flags |= ZCAP_OPT_FANOUT;
			cfg.fanout_id = (group + w->ifid) & 0xffff;
			/* xdp's group is the interface's queues: each thread
			 * takes its own (the other backends ignore this) */
			xdp = o->xdp;
			xdp.flags |= ZCAP_XDP_QUEUE;
			if (o->xdp.flags & ZCAP_XDP_QUEUE) {
				xdp.queue = o->xdp.queue + i % per_if;
				xdp.queue_stride = 0;
			} else {
				xdp.queue = i % per_if;
				xdp.queue_stride = per_if;
			}
			cfg.xdp = &xdp;
		}
		w->h = zcap_open(w->ifname, &cfg, err);
		if (!w->h) {
			fprintf(stderr, "zcap: %s\n", err);
			cs->nw = i;
			close_handles(cs);
			return -1;
		}
		g_handles[i] = w->h;
		g_nhandles = (sig_atomic_t)(i + 1);
	}
	return 0;
}


/* Creates the output(s). 0, or -1 after saying why (nothing left). */
static int open_dumps(struct capture_set *cs, const struct opts *o,
		      struct zcap_dump_rotate *rot)
{
	char err[ZCAP_ERRBUF_SIZE];
	int fmt;

	if (!o->wfile)
		return 0;
	fmt = o->format >= 0 ? o->format : (int)zcap_format_from_path(o->wfile);
	if (o->nifs > 1 && fmt != ZCAP_FMT_PCAPNG && !o->per_thread_files) {
		fprintf(stderr, "zcap: several interfaces go to one file as "
			"pcapng only: name it .pcapng or give --format pcapng\n");
		return -1;
	}
	for (unsigned int i = 0; i < (o->per_thread_files ? cs->nw : 1); i++) {
		struct worker *w = &cs->w[i];
		const char *path = o->wfile;
		ZCAP_DECLARE(zcap_dump_info, info,
			     .ifname = w->ifname,
			     .linktype = zcap_linktype(w->h),
			     .snaplen = zcap_snaplen(w->h),
			     .nsec = o->nsec,
			     .rotate = rot);
		zcap_dumper_t *d;

		/* A file of its own, and a ring that gives back in part:
		 * the dumper may write from the ring where it can. Not
		 * from a small ring (-B), which the packets waiting for
		 * the writer would fill (REFS_MIN_RING). */
		w->refs = (o->per_thread_files || cs->nw == 1) && !rot &&
			  zcap_ring_bytes(w->h) >= REFS_MIN_RING &&
			  zcap_release_n(w->h, 0) == 0;
		info.refs = w->refs;

		if (o->per_thread_files) {
			path = cs->paths[i] = thread_file(o->wfile, i);
		} else if (o->nifs > 1) {
			info.ifnames = o->ifnames;
			info.n_ifnames = o->nifs;
		}
		d = zcap_dump_open(path, (enum zcap_format)fmt, &info, err);
		if (!d) {
			fprintf(stderr, "zcap: %s\n", err);
			for (unsigned int k = 0; k < i; k++)
				zcap_dump_abort(cs->w[k].dump);
			return -1;
		}
		w->dump = d;
	}
	if (!o->per_thread_files) {
		cs->shared = cs->w[0].dump;
		for (unsigned int i = 1; i < cs->nw; i++)
			cs->w[i].dump = cs->shared;
		if (cs->nw > 1)
			for (unsigned int i = 0; i < cs->nw; i++)
				cs->w[i].dlock = &cs->dlock;
	}
	return 0;
}

/* The per-thread counters for --stats-json: final ones after the loops
 * ended, else main's copies. */
static void collect(struct capture_set *cs, struct stats_thread *t, int final)
{
	for (unsigned int i = 0; i < cs->nw; i++) {
		struct worker *w = &cs->w[i];

		t[i].ifname = w->ifname;
		t[i].ifid = w->ifid;
		t[i].cpu = w->cpu;
		t[i].captured = __atomic_load_n(&w->captured, __ATOMIC_RELAXED);
		if (final) {
			memset(&t[i].st, 0, sizeof(t[i].st));
			t[i].st.sz = sizeof(t[i].st);
			final_stats(w, &t[i].st);
			continue;
		}
		pthread_mutex_lock(&w->slock);
		t[i].st = w->snap;
		pthread_mutex_unlock(&w->slock);
	}
}

/* Files begun, over every dumper (one shared, or one per thread). */
static unsigned int files_so_far(const struct capture_set *cs)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < cs->nw; i++)
		if (cs->w[i].dump && (cs->w[i].dump != cs->shared || i == 0))
			n += zcap_dump_files(cs->w[i].dump);
	return n;
}

static void emit_json(struct capture_set *cs, const struct opts *o, int final)
{
	static struct stats_thread t[MAX_IFS * MAX_FANOUT];

	if (!cs->json)
		return;
	collect(cs, t, final);
	if (stats_json_emit(cs->json, t, cs->nw, o->ifnames, o->nifs,
			    files_so_far(cs), cs->start_ns, final))
		fprintf(stderr, "\nzcap: --stats-json: %s\n", strerror(errno));
}

static const struct opts *g_opts;

/* Several loops: main's status line, from the copies the loops made at
 * this tick, each interface's drop_if once. */
static void status_all(struct capture_set *cs, const struct opts *o,
		       uint64_t *last_ns, struct zcap_stats *last)
{
	static struct stats_thread t[MAX_IFS * MAX_FANOUT];
	struct zcap_stats sum = { 0 };
	uint64_t captured = 0, now = now_ns(CLOCK_MONOTONIC);

	collect(cs, t, 0);
	for (unsigned int i = 0; i < cs->nw; i++) {
		stats_add(&sum, &t[i].st, first_on_if(cs, o, i));
		captured += t[i].captured;
	}
	if (*last_ns)
		status_show((double)(now - *last_ns) / 1e9,
			    sum.received - last->received, sum.bytes - last->bytes,
			    captured, sum.drop_ring_full + sum.drop_if);
	*last_ns = now;
	*last = sum;
}

static void tick_json(void *arg)
{
	emit_json(arg, g_opts, 0);
}

/*
 * Several loops: each in a thread with every signal blocked (main takes
 * them), pinned to its own core when a fanout spreads the load. main waits
 * for the stop, and writes the status line and --stats-json once a tick.
 */
static int run_threads(struct capture_set *cs, const struct opts *o)
{
	sigset_t all, old;
	int rc = 0, tick = g_tick;
	int line = !o->quiet && isatty(STDERR_FILENO);
	struct zcap_stats last = { 0 };
	uint64_t last_ns = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned int i = 0; i < cs->nw; i++) {
		struct worker *w = &cs->w[i];

		if (pthread_create(&w->thread, NULL, worker_main, w))
			die("cannot start capture thread %u", i);
		if (w->cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(w->cpu, &set);
			pthread_setaffinity_np(w->thread, sizeof(set), &set);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	while (!g_stop) {
		pause();	/* SIGALRM once a second, or a stop */
		if (tick != g_tick && !g_stop) {
			tick = g_tick;
			/* the loops copy their counters at the tick: let
			 * them (a blocked one wakes within 100 ms) */
			sleep_ns(150000000ull);
			emit_json(cs, o, 0);
			if (line)
				status_all(cs, o, &last_ns, &last);
		}
	}
	if (line)
		fputs("\r\033[K", stderr);
	for (unsigned int i = 0; i < cs->nw; i++) {
		pthread_join(cs->w[i].thread, NULL);
		if (cs->w[i].rc)
			rc = -1;
	}
	return rc;
}

/* A second's SIGALRM for -a duration, --stats-json and the threads' main. */
static void start_ticks(void)
{
	struct itimerval it = { { 1, 0 }, { 1, 0 } };

	setitimer(ITIMER_REAL, &it, NULL);
}

static int regular_file(const char *path)
{
	struct stat sb;

	return strcmp(path, "-") && stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Closes every output, each with its statistics blocks: the shared file
 * one per interface, a thread's file its thread's. */
static int close_dumps(struct capture_set *cs, const struct opts *o,
		       int rc, int rotating, const struct zcap_stats *sum,
		       struct zcap_stats *per_if, uint64_t end_ns)
{
	for (unsigned int i = 0; i < cs->nw; i++) {
		struct worker *w = &cs->w[i];
		zcap_dumper_t *d = w->dump;
		const char *name = o->per_thread_files ? cs->paths[i] : o->wfile;
		const struct zcap_stats *isb = sum;
		ZCAP_DECLARE(zcap_stats, st);

		if (!d || (d == cs->shared && i))
			continue;
		/* flush first: close frees the dumper and its message */
		if ((rc < 0 && zcap_dump_geterr(d)[0]) || zcap_dump_flush(d)) {
			/* the dumper removes only a regular file: not
			 * /dev/full, a fifo or stdout */
			if (rotating || regular_file(name))
				fprintf(stderr, "zcap: %s; %s removed\n",
					zcap_dump_geterr(d), rotating ? "the file being "
					"written (finished ones kept)" : name);
			else
				fprintf(stderr, "zcap: %s\n", zcap_dump_geterr(d));
			zcap_dump_abort(d);
			rc = -1;
			continue;
		}
		if (d == cs->shared && o->nifs > 1) {
			for (unsigned int f = 0; f < o->nifs; f++)
				zcap_dump_stats(d, f, &per_if[f], cs->start_ns, end_ns);
			isb = NULL;
		} else if (d != cs->shared) {
			final_stats(w, &st);
			isb = &st;
		}
		if (zcap_dump_close(d, isb, cs->start_ns, end_ns)) {
			fprintf(stderr, "zcap: %s: file removed\n",
				rotating ? "the last file" : name);
			rc = -1;
		}
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct zcap_stats sum = { .sz = sizeof(sum) }, per_if[MAX_IFS];
	struct capture_set cs;
	struct zcap_dump_rotate rot;
	unsigned int files = 0;
	int rotating, rc;
	uint64_t captured = 0, end_ns;
	struct sigaction sa;
	struct opts o;
	char *filter;

	parse_opts(argc, argv, &o);
	rotating = rotate_setup(&o.rot, o.wfile, &rot);
	log_init(o.verbose);
	filter = join_args(argc - optind, argv + optind);
	if (!filter) {
		fprintf(stderr, "zcap: out of memory\n");
		return 1;
	}
	o.cfg.filter = filter;
	memset(&cs, 0, sizeof(cs));
	pthread_mutex_init(&cs.dlock, NULL);

	/* Everything that can be wrong with the capture is found before the
	 * output file is created, so a bad run leaves no file behind. */
	if (open_handles(&cs, &o)) {
		free(filter);
		return 1;
	}
	if (o.stats_json) {
		char err[ZCAP_ERRBUF_SIZE];

		cs.json = stats_json_open(o.stats_json, err, sizeof(err));
		if (!cs.json) {
			fprintf(stderr, "zcap: --stats-json: %s\n", err);
			close_handles(&cs);
			free(filter);
			return 1;
		}
	}
	/* Before the file exists: a signal from now on ends in a valid file. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: wake blocked calls */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);	/* -a duration, --stats-json */
	sigaction(SIGUSR1, &sa, NULL);	/* a capture thread has ended */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);	/* -z commands are not waited for */

	cs.paths = calloc(cs.nw, sizeof(*cs.paths));
	if (!cs.paths || open_dumps(&cs, &o, rotating ? &rot : NULL)) {
		for (unsigned int i = 0; cs.paths && i < cs.nw; i++)
			free(cs.paths[i]);
		free(cs.paths);
		stats_json_close(cs.json);
		close_handles(&cs);
		free(filter);
		return 1;
	}

	for (unsigned int f = 0; f < o.nifs; f++)
		fprintf(stderr, "zcap: listening on %s, link-type EN10MB (Ethernet), "
			"snapshot length %u bytes, backend %s, ring %llu KiB%s\n",
			o.ifnames[f], zcap_snaplen(cs.w[f * cs.nw / o.nifs].h),
			zcap_backend_name(cs.w[f * cs.nw / o.nifs].h),
			(unsigned long long)(zcap_ring_bytes(cs.w[0].h) >> 10),
			o.fanout ? ", fanout by flow" : "");
	if (o.fanout)
		fprintf(stderr, "zcap: %u capture threads%s\n", cs.nw,
			cs.w[0].cpu >= 0 ? ", each pinned to a core" : "");
	cs.start_ns = now_ns(CLOCK_REALTIME);
	g_stop_secs = o.rot.stop_secs;
	if (cs.nw > 1 || o.rot.stop_secs || cs.json)
		start_ticks();

	if (cs.nw == 1) {
		struct worker *w = &cs.w[0];

		w->status_line = !o.quiet && isatty(STDERR_FILENO);
		w->last_ns = now_ns(CLOCK_MONOTONIC);
		if (cs.json) {
			/* the loop's tick snapshot is main's: emit from it */
			g_opts = &o;
			w->on_tick = tick_json;
			w->tick_arg = &cs;
		}
		rc = capture(w);
		status(w, 1);
	} else {
		rc = run_threads(&cs, &o);
	}
	end_ns = now_ns(CLOCK_REALTIME);
	{
		struct itimerval off = { { 0, 0 }, { 0, 0 } };

		setitimer(ITIMER_REAL, &off, NULL);
	}

	memset(per_if, 0, sizeof(per_if));
	for (unsigned int i = 0; i < cs.nw; i++) {
		ZCAP_DECLARE(zcap_stats, st);

		final_stats(&cs.w[i], &st);
		stats_add(&per_if[cs.w[i].ifid], &st, first_on_if(&cs, &o, i));
		stats_add(&sum, &st, first_on_if(&cs, &o, i));
		captured += cs.w[i].captured;
	}
	if (o.wfile && (rotating || o.per_thread_files) && !o.rot.stop_bytes)
		files = files_so_far(&cs);
	emit_json(&cs, &o, 1);
	rc = close_dumps(&cs, &o, rc, rotating, &sum, per_if, end_ns);
	summary(captured, &sum, files);
	stats_json_close(cs.json);
	for (unsigned int i = 0; i < cs.nw; i++)
		free(cs.paths[i]);
	free(cs.paths);
	close_handles(&cs);
	free(filter);
	return rc < 0 ? 1 : 0;
}
