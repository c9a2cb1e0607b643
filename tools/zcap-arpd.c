/* SPDX-License-Identifier: MIT */
/*
 * zcap-arpd: an ARP responder and cache on libzcap's rings, the ARP module
 * of the papers' zero-copy NIC in user space.
 *
 * It receives ARP on a capture handle (filter "arp", received packets
 * only) opened with ZCAP_OPT_FORWARD. It learns the sender of every
 * well-formed request and reply into the cache (tools/arp_cache.h: the
 * papers' overflow and lifetime rules), and answers requests for the
 * addresses it was given (-a) and no others: the reply is written over
 * the request, in the frame it arrived in, and sent from there
 * (zcap_forward(): from that very frame on xdp, by one copy elsewhere).
 * Requests of its own (--resolve, on a miss) go out through a transmit
 * handle, opened only for them. Every packet is counted once, by what
 * became of it; so is every reply it could not send.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zcap.h>

#include "arp.h"
#include "arp_cache.h"

#define PROG "zcap-arpd"
#include "util.h"

#define MAX_ADDRS 64
/* A burst of about 230,000 minimum-size frames waits in it while we
 * answer (TPACKET_V3 takes 144 bytes for each). */
#define DEFAULT_RING_KIB (32u << 10)
#define BATCH 64
#define RESOLVE_TRIES 3
#define RESOLVE_GAP_NS 1000000000ull
#define STALL_NS 2000000000ull	/* no tx frame came back for this long */

enum {
	OPT_MAC = 256,
	OPT_CACHE_SIZE,
	OPT_LIFETIME,
	OPT_RESOLVE,
	OPT_STATUS_FILE,
	OPT_BACKEND,
};

struct opts {
	const char *ifname;
	uint32_t addrs[MAX_ADDRS];	/* answered for, host order */
	unsigned int n_addrs;
	uint32_t resolve[MAX_ADDRS];
	unsigned int n_resolve;
	uint8_t mac[6];
	bool have_mac;
	uint32_t cache_size;
	uint64_t lifetime_s;
	const char *status_file;
	const char *backend;
	uint64_t ring_kib;
	bool verbose;
};

/* What became of every packet received and every frame sent. */
struct counters {
	uint64_t received;	/* ARP frames handed to us */
	uint64_t requests;	/* well-formed requests */
	uint64_t replies;	/* well-formed replies */
	uint64_t malformed;	/* not an Ethernet/IPv4 request or reply */
	uint64_t answered;	/* requests for our addresses, replied to */
	uint64_t not_ours;	/* requests for other addresses: no reply */
	uint64_t learned;	/* written into a free or expired entry */
	uint64_t refreshed;	/* written into the sender's own entry */
	uint64_t overflow;	/* not learned: every entry live */
	uint64_t sender_skipped;	/* sender 0.0.0.0 (a probe) or one of ours */
	uint64_t resolve_sent;	/* requests sent for --resolve */
	uint64_t resolve_failed; /* addresses unanswered after RESOLVE_TRIES */
	uint64_t reply_stalled;	/* requests answered but not sent: no
				 * transmit room for STALL_NS */
	uint64_t resolve_stalled; /* --resolve requests not sent, the same */
};

struct resolve {
	uint32_t ip;
	unsigned int tries;	/* requests sent since it was last missing */
	uint64_t next_ns;
};

struct arpd {
	struct opts o;
	zcap_t *rx;
	zcap_tx_t *tx;		/* for --resolve only */
	struct arp_cache cache;
	struct counters c;
	struct resolve res[MAX_ADDRS];
	/* The transmit reservation: frames 0..reserved-1 are ours, the
	 * first used of them are written. */
	unsigned int reserved, used;
};

static volatile sig_atomic_t stop, status_req;
/* The capture zcap_breakloop() wakes; NULL while there is none. */
static zcap_t *volatile rx_for_signal;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROG " -i IF [-a ADDR[,ADDR...]]... [--resolve ADDR]... [--mac MAC]\n"
		"                 [--cache-size N] [--lifetime SECS] [--status-file PATH]\n"
		"                 [-B KIB] [--backend B] [-v]\n"
		"\n"
		"Answers ARP requests for the addresses given, on IF, and keeps an ARP cache\n"
		"of every sender it sees, on libzcap's rings. It never answers for an\n"
		"address it was not given, and never touches the kernel's own neighbour\n"
		"table.\n"
		"\n"
		"  -i, --interface IF   interface (required)\n"
		"  -a, --address ADDR   answer requests for ADDR (IPv4; repeat, or a comma\n"
		"                       list; up to %d)\n"
		"      --resolve ADDR   while ADDR is not in the cache, send a broadcast\n"
		"                       request for it: up to %d, a second apart, each time\n"
		"                       it goes missing (repeat for more; up to %d)\n"
		"      --mac MAC        the MAC to answer with (default: IF's)\n"
		"      --cache-size N   cache entries, 1..1048576 (default %u); a sender\n"
		"                       that finds every entry live is not learned (overflow)\n"
		"      --lifetime SECS  an entry's life after its last write (default %u)\n"
		"      --status-file P  on SIGUSR1 and at exit, write the cache and counters\n"
		"                       to P (replaced whole); without it, SIGUSR1 prints\n"
		"                       them on stdout\n"
		"  -B, --buffer-size KIB  the receive ring, 64..4194304 KiB (default %u):\n"
		"                       requests wait there while the replies go out\n"
		"      --backend B      %s, for both rings\n"
		"                       (default auto)\n"
		"  -v, --verbose        say which backends were taken, and why\n"
		"  -h, --help           show this help\n"
		"\n"
		"The cache is shown as `ip neigh` shows the kernel's, one entry a line:\n"
		"  10.0.0.1 dev IF lladdr 02:00:00:00:00:01 REACHABLE expires 1187s\n"
		"followed by a line of counters. At exit (SIGINT, SIGTERM) the counters go\n"
		"to stderr:\n"
		"  " PROG ": received=N requests=N replies=N malformed=N answered=N not_ours=N\n"
		"  learned=N refreshed=N overflow=N sender_skipped=N resolve_sent=N\n"
		"  resolve_failed=N reply_stalled=N resolve_stalled=N drop_ring_full=N\n"
		"  drop_if=N forwarded=N forward_dropped=N tx_invalid=N tx_errors=N\n"
		"Replies are written over the requests and sent from their frames\n"
		"(forwarded: sent; forward_dropped: refused by the kernel or the device);\n"
		"tx_invalid and tx_errors count --resolve's requests.\n",
		MAX_ADDRS, RESOLVE_TRIES, MAX_ADDRS, ARP_CACHE_DEFAULT_SIZE,
		ARP_CACHE_DEFAULT_LIFETIME_S, DEFAULT_RING_KIB, backend_names(ZCAP_RX));
}

/* An address we may answer for or ask about: a host's unicast one. */
static uint32_t parse_host_ip(const char *what, const char *s)
{
	uint32_t ip = parse_ip(what, s);

	if (ip == 0 || ip == 0xffffffffu || (ip >> 28) == 0xe)
		usage_error("invalid %s '%s': not a host's address", what, s);
	return ip;
}

static void add_addrs(const char *arg, uint32_t *list, unsigned int *n, const char *what)
{
	char buf[256], *save = NULL, *tok;

	if (strlen(arg) >= sizeof(buf))
		usage_error("%s list too long", what);
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint32_t ip = parse_host_ip(what, tok);
		unsigned int i;

		for (i = 0; i < *n && list[i] != ip; i++)
			;
		if (i < *n)
			continue;	/* given twice: once is enough */
		if (*n == MAX_ADDRS)
			usage_error("more than %d of %s", MAX_ADDRS, what);
		list[(*n)++] = ip;
	}
	if (!*n)
		usage_error("invalid %s '%s'", what, arg);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "interface",   required_argument, NULL, 'i' },
		{ "address",     required_argument, NULL, 'a' },
		{ "resolve",     required_argument, NULL, OPT_RESOLVE },
		{ "mac",         required_argument, NULL, OPT_MAC },
		{ "cache-size",  required_argument, NULL, OPT_CACHE_SIZE },
		{ "lifetime",    required_argument, NULL, OPT_LIFETIME },
		{ "status-file", required_argument, NULL, OPT_STATUS_FILE },
		{ "buffer-size", required_argument, NULL, 'B' },
		{ "backend",     required_argument, NULL, OPT_BACKEND },
		{ "verbose",     no_argument,       NULL, 'v' },
		{ "help",        no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->cache_size = ARP_CACHE_DEFAULT_SIZE;
	o->lifetime_s = ARP_CACHE_DEFAULT_LIFETIME_S;
	o->ring_kib = DEFAULT_RING_KIB;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:a:B:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->ifname = optarg;
			break;
		case 'a':
			add_addrs(optarg, o->addrs, &o->n_addrs, "address");
			break;
		case OPT_RESOLVE:
			add_addrs(optarg, o->resolve, &o->n_resolve, "address to resolve");
			break;
		case OPT_MAC:
			parse_mac(optarg, o->mac);
			if (o->mac[0] & 1)
				usage_error("invalid MAC address '%s': a multicast one", optarg);
			o->have_mac = true;
			break;
		case OPT_CACHE_SIZE:
			o->cache_size = (uint32_t)parse_num("cache size", optarg, 1, 1u << 20);
			break;
		case OPT_LIFETIME:
			o->lifetime_s = parse_num("lifetime", optarg, 1, 365ull * 86400);
			break;
		case OPT_STATUS_FILE:
			if (!*optarg)
				usage_error("empty status file name");
			o->status_file = optarg;
			break;
		case OPT_BACKEND:
			o->backend = parse_backend(optarg, ZCAP_RX);
			parse_backend(optarg, ZCAP_TX);
			break;
		case 'B':
			o->ring_kib = parse_num("buffer size", optarg, 64, 4u << 20);
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			bad_option(c, argv);
		}
	}
	args_done(argc, argv, o->ifname);
}

static bool ours(const struct opts *o, uint32_t ip)
{
	for (unsigned int i = 0; i < o->n_addrs; i++)
		if (o->addrs[i] == ip)
			return true;
	return false;
}

/* A frame of the request handle, waiting for completions while there is
 * none; NULL after STALL_NS without one. */
static uint8_t *tx_frame(struct arpd *d)
{
	uint64_t since = 0;

	while (d->used == d->reserved) {
		if (d->used && zcap_tx_submit(d->tx, d->used))
			die("%s", zcap_tx_geterr(d->tx));
		d->used = 0;
		zcap_tx_complete(d->tx);
		d->reserved = zcap_tx_reserve(d->tx, BATCH);
		if (d->reserved)
			break;
		if (!since)
			since = now_ns(CLOCK_MONOTONIC);
		else if (now_ns(CLOCK_MONOTONIC) - since > STALL_NS)
			return NULL;
		sleep_ns(10000);
	}
	return zcap_tx_frame(d->tx, d->used, NULL);
}

static void tx_flush(struct arpd *d)
{
	if (!d->tx)
		return;
	if (d->used && zcap_tx_submit(d->tx, d->used))
		die("%s", zcap_tx_geterr(d->tx));
	d->used = d->reserved = 0;
	zcap_tx_complete(d->tx);
}

/* The reply over request p, sent from p's frame. On a full transmit ring,
 * what was forwarded is flushed and the reply tried again, for up to
 * STALL_NS: requests wait in the receive ring meanwhile. */
static bool reply(struct arpd *d, const struct zcap_pkt *p, const struct arp_msg *m)
{
	uint32_t len = p->caplen < ARP_FRAME_LEN ? p->caplen : ARP_FRAME_LEN;
	uint64_t since = 0;

	arp_build_reply((uint8_t *)p->data, len, m, d->o.mac);
	while (zcap_forward(d->rx, p, len)) {
		if (errno != EAGAIN)
			die("%s", zcap_geterr(d->rx));
		if (zcap_forward_flush(d->rx, 10) && errno != ETIMEDOUT)
			die("%s", zcap_geterr(d->rx));
		if (!since)
			since = now_ns(CLOCK_MONOTONIC);
		else if (now_ns(CLOCK_MONOTONIC) - since > STALL_NS)
			return false;
	}
	return true;
}

static void learn(struct arpd *d, const struct arp_msg *m, uint64_t now)
{
	if (!m->spa || ours(&d->o, m->spa)) {
		d->c.sender_skipped++;
		return;
	}
	switch (arp_cache_write(&d->cache, m->spa, m->sha, now)) {
	case ARP_WRITE_NEW:
		d->c.learned++;
		break;
	case ARP_WRITE_REFRESH:
		d->c.refreshed++;
		break;
	case ARP_WRITE_OVERFLOW:
		d->c.overflow++;
		break;
	}
}

static void handle(struct arpd *d, const struct zcap_pkt *p, uint64_t now)
{
	struct arp_msg m;

	d->c.received++;
	if (!arp_parse(p->data, p->caplen, &m)) {
		d->c.malformed++;
		return;
	}
	learn(d, &m, now);
	if (m.op == ARP_OP_REPLY) {
		d->c.replies++;
		return;
	}
	d->c.requests++;
	/* A gratuitous request (sender = target) announces, asks nothing. */
	if (!ours(&d->o, m.tpa) || m.spa == m.tpa) {
		d->c.not_ours++;
		return;
	}
	if (!reply(d, p, &m)) {
		d->c.reply_stalled++;
		return;
	}
	d->c.answered++;
}

/* Requests for --resolve addresses the cache misses, a second apart. */
static void resolve_tick(struct arpd *d, uint64_t now)
{
	uint32_t spa = d->o.n_addrs ? d->o.addrs[0] : 0;

	for (unsigned int i = 0; i < d->o.n_resolve; i++) {
		struct resolve *r = &d->res[i];
		uint8_t *f;

		if (arp_cache_lookup(&d->cache, r->ip, now)) {
			r->tries = 0;
			continue;
		}
		if (r->tries > RESOLVE_TRIES || now < r->next_ns)
			continue;
		if (r->tries == RESOLVE_TRIES) {
			r->tries++;	/* given up until it is seen again */
			d->c.resolve_failed++;
			continue;
		}
		f = tx_frame(d);
		if (!f) {
			d->c.resolve_stalled++;
			continue;
		}
		arp_build_request(f, d->o.mac, spa, r->ip);
		zcap_tx_setlen(d->tx, d->used++, ARP_FRAME_LEN);
		r->tries++;
		r->next_ns = now + RESOLVE_GAP_NS;
		d->c.resolve_sent++;
	}
}

static void fmt_ip(uint32_t ip, char *buf)
{
	sprintf(buf, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static void write_counters(const struct arpd *d, FILE *f, const char *prefix)
{
	ZCAP_DECLARE(zcap_stats, st);
	ZCAP_DECLARE(zcap_tx_stats, ts);

	zcap_stats(d->rx, &st);
	if (d->tx)
		zcap_tx_stats(d->tx, &ts);
	fprintf(f,
		"%sreceived=%" PRIu64 " requests=%" PRIu64 " replies=%" PRIu64
		" malformed=%" PRIu64 " answered=%" PRIu64 " not_ours=%" PRIu64
		" learned=%" PRIu64 " refreshed=%" PRIu64 " overflow=%" PRIu64
		" sender_skipped=%" PRIu64 " resolve_sent=%" PRIu64 " resolve_failed=%" PRIu64
		" reply_stalled=%" PRIu64 " resolve_stalled=%" PRIu64
		" drop_ring_full=%" PRIu64 " drop_if=%" PRIu64
		" forwarded=%" PRIu64 " forward_dropped=%" PRIu64
		" tx_invalid=%" PRIu64 " tx_errors=%" PRIu64 "\n",
		prefix, d->c.received, d->c.requests, d->c.replies, d->c.malformed,
		d->c.answered, d->c.not_ours, d->c.learned, d->c.refreshed, d->c.overflow,
		d->c.sender_skipped, d->c.resolve_sent, d->c.resolve_failed, d->c.reply_stalled, d->c.resolve_stalled,
		st.drop_ring_full, st.drop_if, st.forwarded, st.forward_dropped,
		ts.invalid, ts.errors);
}

static void write_status(const struct arpd *d, FILE *f, uint64_t now)
{
	const struct arp_cache *c = &d->cache;
	char ip[16];

	fprintf(f, "# " PROG " on %s, lladdr %02x:%02x:%02x:%02x:%02x:%02x, answering for",
		d->o.ifname, d->o.mac[0], d->o.mac[1], d->o.mac[2], d->o.mac[3],
		d->o.mac[4], d->o.mac[5]);
	for (unsigned int i = 0; i < d->o.n_addrs; i++) {
		fmt_ip(d->o.addrs[i], ip);
		fprintf(f, " %s", ip);
	}
	if (!d->o.n_addrs)
		fputs(" nothing", f);
	fprintf(f, "; cache %u of %u entries live, lifetime %" PRIu64 " s\n",
		arp_cache_live(c, now), c->size, d->o.lifetime_s);
	for (uint32_t i = 0; i < c->size; i++) {
		const struct arp_entry *e = &c->e[i];

		if (!arp_entry_live(e, now))
			continue;
		fmt_ip(e->ip, ip);
		fprintf(f, "%s dev %s lladdr %02x:%02x:%02x:%02x:%02x:%02x REACHABLE "
			"expires %" PRIu64 "s\n", ip, d->o.ifname, e->mac[0], e->mac[1],
			e->mac[2], e->mac[3], e->mac[4], e->mac[5],
			(uint64_t)((e->expires_ns - now + 999999999ull) / 1000000000ull));
	}
	write_counters(d, f, "# ");
}

/* A new temporary file beside path (its name in tmp), or an error exit. */
static int status_tmp(const char *path, char tmp[4096])
{
	int fd;

	if (snprintf(tmp, 4096, "%s.XXXXXX", path) >= 4096)
		die("%s: name too long", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		die("%s: cannot write the status: %s", path, strerror(errno));
	return fd;
}

/* The status into --status-file, replaced whole (a reader never sees half
 * of one), or onto stdout. */
static void dump_status(const struct arpd *d, uint64_t now)
{
	char tmp[4096];
	FILE *f;
	int fd;

	if (!d->o.status_file) {
		write_status(d, stdout, now);
		fflush(stdout);
		return;
	}
	fd = status_tmp(d->o.status_file, tmp);
	fchmod(fd, 0644);
	if (!(f = fdopen(fd, "w")) || (write_status(d, f, now), fflush(f)) || ferror(f) ||
	    fclose(f) || rename(tmp, d->o.status_file)) {
		unlink(tmp);
		die("%s: cannot write the status: %s", d->o.status_file, strerror(errno));
	}
}

/* An unwritable --status-file is said at the start, not at the first
 * SIGUSR1. */
static void check_status_path(const char *path)
{
	char probe[4096];

	close(status_tmp(path, probe));
	unlink(probe);
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1) {
		status_req = 1;
	} else {
		stop = 1;
	}
	if (rx_for_signal)
		zcap_breakloop(rx_for_signal);
}

/* The capture, which also sends the replies; with --resolve, a transmit
 * handle for the requests: AF_XDP's queue is the capture's, so on xdp
 * they go through tpacket. */
static void open_rings(struct arpd *d)
{
	ZCAP_DECLARE(zcap_opts, ro, .backend = d->o.backend, .filter = "arp",
		     .direction = ZCAP_DIR_IN, .ring_bytes = d->o.ring_kib << 10,
		     .flags = ZCAP_OPT_FORWARD);
	char err[ZCAP_ERRBUF_SIZE];

	d->rx = zcap_open(d->o.ifname, &ro, err);
	if (!d->rx)
		die("%s", err);
	if (!d->o.n_resolve)
		return;
	ZCAP_DECLARE(zcap_tx_opts, to, .backend = strcmp(zcap_backend_name(d->rx), "xdp") ?
		     d->o.backend : "tpacket");
	d->tx = zcap_tx_open(d->o.ifname, &to, err);
	if (!d->tx)
		die("%s", err);
	if (zcap_tx_max_len(d->tx) < ARP_FRAME_LEN)
		die("%s: frames of %u bytes do not fit", d->o.ifname, ARP_FRAME_LEN);
}

int main(int argc, char **argv)
{
	static struct arpd d;
	struct zcap_pkt pkts[BATCH];
	struct sigaction sa;
	unsigned int mtu;
	uint8_t ifmac[6];
	int n;

	parse_args(argc, argv, &d.o);
	log_init(d.o.verbose);
	if (strlen(d.o.ifname) >= IFNAMSIZ || !if_nametoindex(d.o.ifname))
		die("unknown interface '%s'", d.o.ifname);
	if_mac_mtu(d.o.ifname, ifmac, &mtu);
	if (!d.o.have_mac)
		memcpy(d.o.mac, ifmac, 6);
	if (arp_cache_init(&d.cache, d.o.cache_size, d.o.lifetime_s * 1000000000ull))
		die("cannot allocate a cache of %u entries: %s", d.o.cache_size, strerror(errno));
	for (unsigned int i = 0; i < d.o.n_resolve; i++)
		d.res[i].ip = d.o.resolve[i];
	if (d.o.status_file)
		check_status_path(d.o.status_file);
	/* Before anything that takes time (an xdp queue's retries): a
	 * signal then ends or asks, never kills. SA_RESTART: a status
	 * written to a pipe is not cut short by the next SIGUSR1. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	open_rings(&d);
	rx_for_signal = d.rx;
	fprintf(stderr, PROG ": listening on %s, backend %s, requests through %s\n",
		d.o.ifname, zcap_backend_name(d.rx), d.tx ? zcap_tx_backend_name(d.tx) : "none");

	while (!stop) {
		uint64_t now;

		n = zcap_recv(d.rx, pkts, BATCH, d.o.n_resolve ? 100 : 1000);
		if (n == ZCAP_ERROR)
			die("%s", zcap_geterr(d.rx));
		now = now_ns(CLOCK_MONOTONIC);
		for (int i = 0; i < n; i++)
			handle(&d, &pkts[i], now);
		if (zcap_forward_flush(d.rx, 0))
			die("%s", zcap_geterr(d.rx));
		if (n > 0)
			zcap_release(d.rx);
		resolve_tick(&d, now);
		tx_flush(&d);
		if (status_req) {
			status_req = 0;
			dump_status(&d, now);
		}
	}
	if (zcap_forward_flush(d.rx, 1000))
		fprintf(stderr, PROG ": %s\n", zcap_geterr(d.rx));
	if (d.tx && zcap_tx_flush(d.tx, 1000))
		fprintf(stderr, PROG ": %s\n", zcap_tx_geterr(d.tx));
	if (d.o.status_file)
		dump_status(&d, now_ns(CLOCK_MONOTONIC));
	write_counters(&d, stderr, PROG ": ");
	rx_for_signal = NULL;	/* a late signal finds no handle */
	if (d.tx)
		zcap_tx_close(d.tx);
	zcap_close(d.rx);
	arp_cache_free(&d.cache);
	return 0;
}
