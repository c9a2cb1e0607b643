/* SPDX-License-Identifier: MIT */
/*
 * zcap-gen: sends numbered test frames (tools/frame.h) on an interface, as
 * fast as possible or at a given rate, for zcap-verify to check afterwards.
 *
 * Send paths (--backend):
 *   xdp, tpacket, pfzc  libzcap's transmit API (zcap_tx_*, include/zcap.h):
 *                       frames are built in place in ring slots shared with
 *                       the kernel and handed over in batches
 *   packet              AF_PACKET SOCK_RAW + PACKET_QDISC_BYPASS +
 *                       sendmmsg(), one copy from our buffers per frame
 *   auto (default)      the transmit API's choice (xdp, then tpacket: the
 *                       faster first), and packet if neither opens
 *
 * On the veth testbed AF_XDP in copy mode is the fastest of them at 64 B
 * (numbers in README.md, "zcap-gen"). sendmmsg was the only path before:
 * against a TPACKET_V2 tx ring it measured 0.42-0.49 against 0.33-0.43 Mpps
 * at 64 B in a 2-core VM; over 90 % of the cycles are in the kernel, nearly
 * half of them the peer's receive path (veth runs it in softirq on the
 * sending CPU), so the syscall count alone was not the limit.
 *
 * "sent" counts frames the kernel took: for the ring backends, frames that
 * came back completed (the program waits for them at the end), less any the
 * kernel refused as malformed. A frame the interface dropped after taking
 * it is in if_tx_dropped; one it refused and took again later is a retry.
 */
#define _GNU_SOURCE		/* sendmmsg() */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>		/* isfinite(): a macro, no -lm */
#include <net/if.h>
#include <net/if_arp.h>
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
#include <linux/if_packet.h>

#include <zcap.h>

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
	OPT_START_SEQ,
	OPT_BATCH,
	OPT_BACKEND,
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
	int backend;		/* BK_* */
};

/* --backend: the transmit API's backends, and our own sendmmsg path */
enum { BK_AUTO, BK_XDP, BK_TPACKET, BK_PFZC, BK_PACKET };
static const char *const backend_names[] = { "auto", "xdp", "tpacket", "pfzc", "packet" };

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROG " -i IF [-c COUNT | -d SECONDS] [-s SIZE | --random-sizes]\n"
		"                [-r PPS] [--seed N] [--dst-mac MAC] [--src-ip A] [--dst-ip A]\n"
		"                [--start-seq N] [--batch N] [--backend B] [-q]\n"
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
		"      --start-seq N    first sequence number (default 0)\n"
		"      --batch N        frames per batch (one sendmmsg, or one ring submit),\n"
		"                       1..%d (default %d)\n"
		"      --backend B      auto (default): xdp, else tpacket, else packet\n"
		"                       xdp: AF_XDP tx ring (zero copy if the driver can)\n"
		"                       tpacket: AF_PACKET PACKET_TX_RING\n"
		"                       pfzc: the pf_zerocopy module's tx ring\n"
		"                       packet: AF_PACKET sendmmsg, one copy per frame\n"
		"  -q, --quiet          print nothing but the summary line\n"
		"  -h, --help           show this help\n"
		"\n"
		"At the end one line goes to stderr:\n"
		"  " PROG ": sent=N bytes=N seconds=F pps=N mbps=F if_tx_dropped=N retries=N\n"
		"sent counts frames the kernel took (for ring backends: completed);\n"
		"if_tx_dropped those the interface dropped after taking them; retries\n"
		"frames refused for a moment and sent again. bytes and mbps count the\n"
		"bytes handed to the interface (no FCS).\n",
		MAX_BATCH, DEFAULT_BATCH);
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

static void parse_mac(const char *arg, uint8_t mac[6])
{
	const char *s = arg;

	for (int i = 0; i < 6; i++) {
		char hex[3];
		char *end;

		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]))
			goto bad;
		hex[0] = s[0];
		hex[1] = s[1];
		hex[2] = '\0';
		mac[i] = (uint8_t)strtoul(hex, &end, 16);
		s += 2;
		if (i < 5 && *s++ != ':')
			goto bad;
	}
	if (*s == '\0')
		return;
bad:
	usage_error("invalid MAC address '%s': expected xx:xx:xx:xx:xx:xx", arg);
}

static uint32_t parse_ip(const char *what, const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		usage_error("invalid %s '%s': expected a dotted-quad IPv4 address", what, s);
	return ntohl(a.s_addr);
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
		{ "start-seq",    required_argument, NULL, OPT_START_SEQ },
		{ "batch",        required_argument, NULL, OPT_BATCH },
		{ "backend",      required_argument, NULL, OPT_BACKEND },
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
		case OPT_START_SEQ:
			o->start_seq = parse_num("start sequence number", optarg, 0, UINT64_MAX);
			break;
		case OPT_BATCH:
			o->batch = (unsigned int)parse_num("batch", optarg, 1, MAX_BATCH);
			break;
		case OPT_BACKEND:
			o->backend = -1;
			for (int i = 0; i <= BK_PACKET; i++)
				if (!strcmp(optarg, backend_names[i]))
					o->backend = i;
			if (o->backend < 0)
				usage_error("invalid backend '%s': expected auto, xdp, tpacket, "
					    "pfzc or packet", optarg);
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			if (strncmp(argv[optind - 1], "--", 2) == 0 || optopt >= 256)
				usage_error("option '%s' needs an argument", argv[optind - 1]);
			usage_error("option '-%c' needs an argument", optopt);
		default:
			if (optopt > 0 && optopt < 256)
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->ifname)
		usage_error("no interface given: use -i IF");
	if (size_arg && o->random_sizes)
		usage_error("-s and --random-sizes exclude each other");
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000ull),
		.tv_nsec = (long)(ns % 1000000000ull),
	};

	/* EINTR is fine: the caller re-reads the clock and the stop flag. */
	nanosleep(&ts, NULL);
}

/* Returns false when the counter cannot be read (not a sysfs-visible
 * device, or /sys of another namespace mounted): then 0 is reported. */
static bool read_tx_dropped(const char *ifname, uint64_t *v)
{
	char path[128], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_dropped", ifname);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	*v = strtoull(buf, NULL, 10);
	return true;
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

/* Opens the socket and fills in what only the interface can tell. */
static int open_socket(struct opts *o, unsigned int max_size)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct ifreq ifr;
	int fd, one = 1, sndbuf = 16 << 20;

	/* Before socket(): a mistyped name is the more useful complaint, and
	 * this lookup needs no privilege. */
	if (strlen(o->ifname) >= IFNAMSIZ || !if_nametoindex(o->ifname))
		die("unknown interface '%s'", o->ifname);

	/* Protocol 0: this socket only sends, and with a protocol the kernel
	 * would also queue every received frame to it. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		if (errno == EPERM || errno == EACCES)
			die("cannot open AF_PACKET socket: %s (needs root or CAP_NET_RAW)",
			    strerror(errno));
		die("cannot open AF_PACKET socket: %s", strerror(errno));
	}

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, o->ifname);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
		if (errno == ENODEV)
			die("unknown interface '%s'", o->ifname);
		die("%s: cannot look up interface: %s", o->ifname, strerror(errno));
	}
	sll.sll_ifindex = ifr.ifr_ifindex;

	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		die("%s: cannot read MAC address: %s", o->ifname, strerror(errno));
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		die("%s: not an Ethernet interface", o->ifname);
	memcpy(o->addr.src_mac, ifr.ifr_hwaddr.sa_data, 6);

	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		die("%s: cannot read MTU: %s", o->ifname, strerror(errno));
	if ((unsigned int)ifr.ifr_mtu + 18 < max_size)
		die("%s: MTU %d is too small for %u-byte frames (needs %u)",
		    o->ifname, ifr.ifr_mtu, max_size, max_size - 18);

	/* Checked here because later a down peer only shows up as endless
	 * ENOBUFS from veth, which we would otherwise keep retrying. */
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		die("%s: cannot read flags: %s", o->ifname, strerror(errno));
	if (!(ifr.ifr_flags & IFF_UP))
		die("%s: interface is down", o->ifname);
	if (!(ifr.ifr_flags & IFF_RUNNING))
		die("%s: no carrier (for veth: is the peer up?)", o->ifname);

	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die("%s: cannot bind: %s", o->ifname, strerror(errno));

	/* Straight to the driver: the qdisc would only add a lock and a
	 * queue that can drop without telling us. */
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0 &&
	    !o->quiet)
		fprintf(stderr, PROG ": warning: PACKET_QDISC_BYPASS: %s\n", strerror(errno));

	/* A big send buffer keeps a whole batch in flight without blocking;
	 * FORCE needs CAP_NET_ADMIN, so fall back to the capped variant. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	return fd;
}

struct stats {
	uint64_t sent;
	uint64_t bytes;
	uint64_t retries;
};

/*
 * Sends msgs[0..n), resuming after partial results and retrying refused
 * frames, so that frames leave strictly in order and none is skipped.
 * Returns how many were sent; fewer than n only when told to stop.
 */
static unsigned int send_all(int fd, struct mmsghdr *msgs, unsigned int n,
			     struct stats *st, const char *ifname)
{
	unsigned int done = 0, busy = 0;
	uint64_t stalled_since = 0;

	while (done < n) {
		int r = sendmmsg(fd, msgs + done, n - done, 0);

		if (r > 0) {
			for (int i = 0; i < r; i++)
				st->bytes += msgs[done + i].msg_hdr.msg_iov->iov_len;
			/* A short count hides the error that stopped it
			 * (sendmmsg reports errors only when nothing went
			 * out): frame done + r was refused and is resent
			 * by the next call, so that is a retry too. */
			if ((unsigned int)r < n - done && !stop)
				st->retries++;
			done += (unsigned int)r;
			st->sent += (unsigned int)r;
			busy = 0;
			stalled_since = 0;
			continue;
		}
		if (r == 0)
			errno = ENOBUFS;	/* not expected; treat as busy */
		if (errno == EINTR) {
			if (stop)
				break;
			continue;
		}
		if (errno != ENOBUFS && errno != EAGAIN)
			die("%s: send failed after %" PRIu64 " frames: %s",
			    ifname, st->sent, strerror(errno));

		/*
		 * veth refuses a frame (ENOBUFS, counted in tx_dropped) when
		 * the peer's backlog is full. Spinning a few times is enough
		 * when the backlog drains on the other core; past that, sleep
		 * so that a backlog drained by ksoftirqd on this core can be.
		 */
		st->retries++;
		if (stop)
			break;
		if (++busy > 4) {
			uint64_t t = now_ns();

			if (!stalled_since)
				stalled_since = t;
			else if (t - stalled_since > STALL_NS)
				die("%s: interface has refused every frame for %llu s "
				    "(%s); giving up after %" PRIu64 " frames",
				    ifname, STALL_NS / 1000000000ull, strerror(errno), st->sent);
			sleep_ns(busy > 64 ? 1000000 : 20000);
		}
	}
	return done;
}

/* The interface's MAC address and MTU, for the transmit API's path (the
 * packet path asks its own socket). No privilege needed. */
static void interface_info(struct opts *o, unsigned int *mtu)
{
	struct ifreq ifr;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, o->ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		die("%s: cannot read MAC address: %s", o->ifname, strerror(errno));
	memcpy(o->addr.src_mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		die("%s: cannot read MTU: %s", o->ifname, strerror(errno));
	*mtu = (unsigned int)ifr.ifr_mtu;
	close(fd);
}

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
		*t = now_ns();
		if (deadline && *t >= deadline)
			return 0;
	}
	return n;
}

/* The packet path: sendmmsg from our own buffers. */
static void run_packet(const struct opts *o, int fd, struct rng *rng, uint64_t t_start,
		       uint64_t deadline, struct stats *st)
{
	struct mmsghdr *msgs;
	struct iovec *iov;
	uint8_t *slots;
	struct pacer pc;
	uint64_t seq = o->start_seq;

	/* One buffer per batch slot, headers written once: for fixed-size
	 * frames only seq, filler and checksum change per frame. */
	slots = aligned_alloc(64, (size_t)o->batch * 1536);
	msgs = calloc(o->batch, sizeof(*msgs));
	iov = calloc(o->batch, sizeof(*iov));
	if (!slots || !msgs || !iov)
		die("out of memory");
	for (unsigned int i = 0; i < o->batch; i++) {
		iov[i].iov_base = slots + (size_t)i * 1536;
		iov[i].iov_len = o->size - ZCAP_FCS_LEN;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		zcap_frame_headers(iov[i].iov_base, o->size, &o->addr);
	}
	pacer_init(&pc, o, t_start);

	while (!stop) {
		uint64_t t = 0;
		unsigned int n = batch_left(o, st->sent, deadline, &t), sent;

		if (!n)
			break;
		if (o->pps && !(n = pace(&pc, t, deadline, n)))
			continue;
		for (unsigned int i = 0; i < n; i++) {
			uint8_t *f = iov[i].iov_base;
			unsigned int size = o->size;

			if (o->random_sizes) {
				size = random_size(rng);
				iov[i].iov_len = size - ZCAP_FCS_LEN;
				zcap_frame_headers(f, size, &o->addr);
			}
			zcap_frame_stamp(f, size, seq + i);
		}
		sent = send_all(fd, msgs, n, st, o->ifname);
		seq += sent;
		if (sent < n)
			break;	/* stopped mid-batch; the rest never existed */
	}
	free(slots);
	free(msgs);
	free(iov);
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
	t = now_ns();
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

/* The transmit API's handle, or NULL for the packet path. */
static zcap_tx_t *open_tx(const struct opts *o)
{
	static const enum zcap_backend ids[] = {
		[BK_AUTO] = ZCAP_BACKEND_AUTO,
		[BK_XDP] = ZCAP_BACKEND_XDP,
		[BK_TPACKET] = ZCAP_BACKEND_TPACKET,
		[BK_PFZC] = ZCAP_BACKEND_PFZC,
	};
	struct zcap_tx_config cfg;
	char err[ZCAP_ERRBUF_SIZE];
	zcap_tx_t *tx;

	if (o->backend == BK_PACKET)
		return NULL;
	zcap_tx_config_init(&cfg);
	cfg.backend = ids[o->backend];
	cfg.verbose = !o->quiet;
	tx = zcap_tx_open(o->ifname, &cfg, err);
	if (tx)
		return tx;
	if (o->backend != BK_AUTO)
		die("--backend %s: %s", backend_names[o->backend], err);
	/* down, or no carrier: no other path would do better */
	if (errno == ENETDOWN)
		die("%s", err);
	if (!o->quiet)
		fprintf(stderr, PROG ": no transmit ring (%s); sending with sendmmsg\n", err);
	return NULL;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct stats st = { 0 };
	struct sigaction sa;
	struct rng rng;
	zcap_tx_t *tx;
	uint64_t t_start, t_end, deadline = 0, drop0 = 0, drop1 = 0, if_drop;
	double secs;
	bool have_drops;
	unsigned int max_size;
	int fd = -1;

	parse_args(argc, argv, &o);
	max_size = o.random_sizes ? ZCAP_FRAME_SIZE_MAX : o.size;
	/* Before anything else: a mistyped name is the more useful
	 * complaint, and this lookup needs no privilege. */
	if (strlen(o.ifname) >= IFNAMSIZ || !if_nametoindex(o.ifname))
		die("unknown interface '%s'", o.ifname);

	tx = open_tx(&o);
	if (tx) {
		unsigned int mtu;

		interface_info(&o, &mtu);
		if (zcap_tx_max_len(tx) < max_size - ZCAP_FCS_LEN)
			die("%s: MTU %u is too small for %u-byte frames (needs %u)",
			    o.ifname, mtu, max_size, max_size - 18);
	} else {
		fd = open_socket(&o, max_size);
	}
	have_drops = read_tx_dropped(o.ifname, &drop0);
	rng_seed(&rng, o.seed);

	/* No SA_RESTART: a blocked sendmmsg or sleep must return at once. */
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
			tx ? zcap_tx_backend_name(tx) : "packet (sendmmsg)");
	}

	t_start = now_ns();
	if (o.duration > 0)
		deadline = t_start + (uint64_t)(o.duration * 1e9);

	if (tx) {
		struct zcap_tx_stats ts;
		uint64_t submitted = 0;

		run_tx(&o, tx, &rng, t_start, deadline, &submitted);
		/* what is still in flight is not sent (yet): wait for it */
		if (zcap_tx_flush(tx, FLUSH_MS))
			fprintf(stderr, PROG ": warning: %s\n", zcap_tx_geterr(tx));
		t_end = now_ns();
		if (zcap_tx_stats(tx, &ts))
			die("%s", zcap_tx_geterr(tx));
		st.sent = ts.completed - ts.invalid;
		st.bytes = ts.bytes;
		st.retries = ts.retries;
		if (ts.invalid)
			fprintf(stderr, PROG ": warning: the kernel refused %" PRIu64
				" frames as malformed\n", ts.invalid);
		if_drop = ts.errors;	/* unless the interface counted more */
		zcap_tx_close(tx);
	} else {
		run_packet(&o, fd, &rng, t_start, deadline, &st);
		t_end = now_ns();
		if_drop = 0;
		close(fd);
	}

	if (have_drops && read_tx_dropped(o.ifname, &drop1) && drop1 >= drop0 &&
	    drop1 - drop0 > if_drop)
		if_drop = drop1 - drop0;
	secs = (double)(t_end - t_start) / 1e9;
	fprintf(stderr, PROG ": sent=%" PRIu64 " bytes=%" PRIu64 " seconds=%.6f pps=%" PRIu64
		" mbps=%.3f if_tx_dropped=%" PRIu64 " retries=%" PRIu64 "\n",
		st.sent, st.bytes, secs,
		secs > 0 ? (uint64_t)((double)st.sent / secs + 0.5) : 0,
		secs > 0 ? (double)st.bytes * 8 / secs / 1e6 : 0.0,
		if_drop, st.retries);
	return 0;
}
