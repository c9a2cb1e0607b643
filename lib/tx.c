/* SPDX-License-Identifier: MIT */
/*
 * The transmit front end: backend choice, the reservation, length checks,
 * the kick loop with its back-off and stall limit, flush and counters.
 * The backends (tx_xdp.c, tx_tpacket.c, tx_pfzc.c) only move frames
 * between their free lists and their kernel rings (lib/tx.h).
 *
 * AUTO tries xdp before tpacket because it is the faster of the two on the
 * veth testbed (scripts/testbed.sh): zcap-gen pinned to one core (which also
 * runs the peer's receive path), nothing capturing, 1,000,000 frames to a
 * MAC address nobody owns, median of 5 interleaved runs:
 *
 *                      64 B          1518 B
 *   xdp (copy mode)    0.94 Mpps     0.73 Mpps
 *   tpacket            0.66 Mpps     0.47 Mpps
 *   (sendmmsg          0.74 Mpps     0.52 Mpps, zcap-gen --backend packet)
 *
 * and a minimal AF_XDP sender of prebuilt frames made 0.97 Mpps at 64 B in
 * the same minutes. On veth both backends build an skb per frame: AF_XDP
 * copies the frame into it, while a TPACKET_V2 send attaches the ring's
 * page as a zero-copy fragment, which veth must then copy into a freshly
 * allocated page (skb_copy_ubufs) before the peer may have it: perf shows
 * that page allocation, the copy and the page free near the top.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tx.h"

#define ETH_HDR_LEN 14u
#define STALL_NS 2000000000ull	/* the kernel took nothing for this long */
#define CLOSE_FLUSH_MS 1000

static const struct zcap_tx_ops *const tx_backends[] = {
	&zcap_tx_xdp_ops,	/* AUTO: first */
	&zcap_tx_tpacket_ops,	/* AUTO: second */
	&zcap_tx_pfzc_ops,	/* only when asked for */
};
#define N_TX_BACKENDS (sizeof(tx_backends) / sizeof(tx_backends[0]))
#define N_TX_AUTO 2

void zcap_tx_seterr(struct zcap_tx *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
}

void zcap_tx_config_init(struct zcap_tx_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->backend = ZCAP_BACKEND_AUTO;
	cfg->frames = ZCAP_TX_DEFAULT_FRAMES;
	cfg->queue = 0;
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

	nanosleep(&ts, NULL);
}

/* The interface's tx_dropped; -1 when /sys does not show it. */
static int read_tx_dropped(const char *ifname, uint64_t *v)
{
	char path[96], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_dropped", ifname);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	*v = strtoull(buf, NULL, 10);
	return 0;
}

/* Index, MTU, link type and state: what every backend needs checked. */
static int check_interface(struct zcap_tx *t, char *errbuf)
{
	struct ifreq ifr;
	int fd, err = 0;

	t->ifindex = (int)if_nametoindex(t->ifname);
	if (!t->ifindex) {
		snprintf(errbuf, ZCAP_ERRBUF_SIZE, "%s: no such interface", t->ifname);
		errno = ENODEV;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(errbuf, ZCAP_ERRBUF_SIZE, "socket: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, t->ifname, strlen(t->ifname));
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		err = errno;
		snprintf(errbuf, ZCAP_ERRBUF_SIZE, "%s: cannot read the link type: %s",
			 t->ifname, strerror(err));
	} else if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		err = EOPNOTSUPP;
		snprintf(errbuf, ZCAP_ERRBUF_SIZE, "%s: not an Ethernet interface", t->ifname);
	} else if (ioctl(fd, SIOCGIFMTU, &ifr) < 0) {
		err = errno;
		snprintf(errbuf, ZCAP_ERRBUF_SIZE, "%s: cannot read the MTU: %s",
			 t->ifname, strerror(err));
	} else {
		t->mtu = (uint32_t)ifr.ifr_mtu;
		/* A down interface or a veth whose peer is down would take
		 * nothing, and every kick would fail until the stall limit. */
		if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
			err = errno;
			snprintf(errbuf, ZCAP_ERRBUF_SIZE, "%s: cannot read the flags: %s",
				 t->ifname, strerror(err));
		} else if (!(ifr.ifr_flags & IFF_UP)) {
			err = ENETDOWN;
			snprintf(errbuf, ZCAP_ERRBUF_SIZE, "%s: interface is down", t->ifname);
		} else if (!(ifr.ifr_flags & IFF_RUNNING)) {
			err = ENETDOWN;
			snprintf(errbuf, ZCAP_ERRBUF_SIZE,
				 "%s: no carrier (for veth: is the peer up?)", t->ifname);
		}
	}
	close(fd);
	errno = err;
	return err ? -1 : 0;
}

static int try_backend(struct zcap_tx *t, const struct zcap_tx_ops *ops)
{
	uint32_t room = 0;

	t->ops = ops;
	t->fd = -1;
	t->priv = NULL;
	t->mode = "copy";
	t->err[0] = '\0';
	if (ops->open(t, &room) == 0) {
		t->max_len = t->mtu + ETH_HDR_LEN;
		if (t->max_len > room)
			t->max_len = room;
		return 0;
	}
	int saved = errno;

	ops->close(t);
	t->fd = -1;
	t->priv = NULL;
	errno = saved;
	return -1;
}

zcap_tx_t *zcap_tx_open(const char *ifname, const struct zcap_tx_config *cfg,
			char *errbuf)
{
	struct zcap_tx_config def;
	struct zcap_tx *t;
	char why[2 * ZCAP_ERRBUF_SIZE + 64] = "";
	int err = 0;

	if (!cfg) {
		zcap_tx_config_init(&def);
		cfg = &def;
	}
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE) {
		snprintf(errbuf, ZCAP_ERRBUF_SIZE, "invalid interface name");
		errno = EINVAL;
		return NULL;
	}
	if (cfg->frames && (cfg->frames < 64 || cfg->frames > ZCAP_TX_MAX_FRAMES ||
			    (cfg->frames & (cfg->frames - 1)))) {
		snprintf(errbuf, ZCAP_ERRBUF_SIZE, "%u tx frames: must be a power of two "
			 "in 64..%u", cfg->frames, ZCAP_TX_MAX_FRAMES);
		errno = EINVAL;
		return NULL;
	}
	if (cfg->queue < 0 || (unsigned int)cfg->backend >= ZCAP_BACKEND__MAX) {
		snprintf(errbuf, ZCAP_ERRBUF_SIZE, "invalid %s",
			 cfg->queue < 0 ? "queue" : "backend");
		errno = EINVAL;
		return NULL;
	}

	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(errbuf, ZCAP_ERRBUF_SIZE, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	t->fd = -1;
	t->cfg = *cfg;
	t->frames = cfg->frames ? cfg->frames : ZCAP_TX_DEFAULT_FRAMES;
	memcpy(t->ifname, ifname, strlen(ifname) + 1);
	if (check_interface(t, errbuf))
		goto fail;
	t->resv = calloc(t->frames, sizeof(*t->resv));
	if (!t->resv) {
		snprintf(errbuf, ZCAP_ERRBUF_SIZE, "out of memory");
		errno = ENOMEM;
		goto fail;
	}

	for (size_t i = 0; i < N_TX_BACKENDS; i++) {
		const struct zcap_tx_ops *ops = tx_backends[i];

		if (cfg->backend == ZCAP_BACKEND_AUTO ? i >= N_TX_AUTO : ops->id != cfg->backend)
			continue;
		if (try_backend(t, ops) == 0) {
			if (cfg->verbose)
				fprintf(stderr, "zcap tx: %s: backend %s, %s mode, %u frames, "
					"frames up to %u bytes\n", t->ifname, ops->name,
					t->mode, t->frames, t->max_len);
			if (read_tx_dropped(t->ifname, &t->if_drop0) == 0)
				t->have_if_drop = 1;
			return t;
		}
		err = errno;
		if (cfg->verbose && cfg->backend == ZCAP_BACKEND_AUTO)
			fprintf(stderr, "zcap tx: backend %s not used: %s\n", ops->name, t->err);
		/* the message of each backend tried, most useful first */
		if (cfg->backend == ZCAP_BACKEND_AUTO) {
			size_t l = strlen(why);

			snprintf(why + l, sizeof(why) - l, "%s%s: %s", l ? "; " : "",
				 ops->name, t->err);
		} else {
			snprintf(why, sizeof(why), "%s", t->err);
		}
	}
	if (!why[0]) {
		snprintf(why, sizeof(why), "backend %d cannot send", (int)cfg->backend);
		err = EOPNOTSUPP;
	}
	snprintf(errbuf, ZCAP_ERRBUF_SIZE, "%.*s", ZCAP_ERRBUF_SIZE - 1, why);
	errno = err;
fail:
	err = errno;
	free(t->resv);
	free(t);
	errno = err;
	return NULL;
}

unsigned int zcap_tx_reserve(zcap_tx_t *t, unsigned int n)
{
	if (n > t->frames)
		n = t->frames;
	/* The backend's free frames do not change until a submit, so an
	 * earlier reservation is given back by forgetting it. */
	t->nresv = n ? t->ops->reserve(t, t->resv, n) : 0;
	for (unsigned int i = 0; i < t->nresv; i++)
		t->resv[i].len = 0;
	return t->nresv;
}

uint8_t *zcap_tx_frame(zcap_tx_t *t, unsigned int i, uint32_t *room)
{
	if (i >= t->nresv)
		return NULL;
	if (room)
		*room = t->resv[i].room;
	return t->resv[i].data;
}

void zcap_tx_setlen(zcap_tx_t *t, unsigned int i, uint32_t len)
{
	if (i < t->nresv)
		t->resv[i].len = len;
}

uint32_t zcap_tx_max_len(const zcap_tx_t *t)
{
	return t->max_len;
}

/* A frame the kernel took and did not drop: the stall clock restarts. */
static void progress(struct zcap_tx *t)
{
	t->stalled_since = 0;
	t->busy = 0;
}

/*
 * Kicks until the kernel has what was submitted. Back-off as zcap-gen's
 * sendmmsg path learnt it on veth: a refused frame (the peer's backlog is
 * full) is retried at once a few times, since the other core may drain it;
 * past that we sleep, so that ksoftirqd can drain a backlog on this core.
 * The stall clock runs across calls: an interface that drops every frame
 * (AF_XDP: a veth whose peer went down) empties each batch by dropping it,
 * so one call alone would never see the stall.
 */
static int push(struct zcap_tx *t)
{
	unsigned int idle = 0;

	for (;;) {
		enum zcap_tx_kick k = t->ops->kick(t);
		unsigned int done;

		switch (k) {
		case ZCAP_KICK_ERROR:
			return -1;
		case ZCAP_KICK_DROPPED:
			t->errors++;
			t->busy++;
			break;
		case ZCAP_KICK_BUSY:
			t->retries++;
			t->busy++;
			break;
		case ZCAP_KICK_AGAIN:
			idle++;
			break;
		case ZCAP_KICK_DONE:
			break;
		}
		/* A dropped frame completes too (AF_XDP), at once: more than
		 * that is progress. */
		done = t->ops->complete(t);
		if (done > (k == ZCAP_KICK_DROPPED ? 1u : 0u)) {
			progress(t);
			idle = 0;
		}
		if (k == ZCAP_KICK_DONE)
			return 0;
		if (t->busy > 4 || idle > 64) {
			uint64_t now = now_ns();

			if (!t->stalled_since) {
				t->stalled_since = now;
			} else if (now - t->stalled_since > STALL_NS) {
				zcap_tx_seterr(t, "%s: the interface took no frame for %llu s%s",
					       t->ifname, STALL_NS / 1000000000ull,
					       t->busy ? " (it refused or dropped every one)" : "");
				errno = ETIMEDOUT;
				return -1;
			}
			sleep_ns(t->busy > 64 || idle > 1024 ? 1000000 : 20000);
		}
	}
}

int zcap_tx_submit(zcap_tx_t *t, unsigned int n)
{
	if (n > t->nresv) {
		zcap_tx_seterr(t, "submit of %u frames, but %u are reserved", n, t->nresv);
		errno = EINVAL;
		return ZCAP_ERROR;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint32_t len = t->resv[i].len;

		if (len < ETH_HDR_LEN || len > t->max_len) {
			zcap_tx_seterr(t, "frame %u of the batch: length %u is out of range "
				       "(%u..%u)", i, len, ETH_HDR_LEN, t->max_len);
			errno = EINVAL;
			return ZCAP_ERROR;
		}
	}
	t->nresv = 0;
	if (!n)
		return 0;
	t->ops->submit(t, t->resv, n);
	t->submitted += n;
	return push(t) ? ZCAP_ERROR : 0;
}

unsigned int zcap_tx_complete(zcap_tx_t *t)
{
	unsigned int n = t->ops->complete(t);

	if (n)
		progress(t);
	return n;
}

int zcap_tx_flush(zcap_tx_t *t, int timeout_ms)
{
	uint64_t start = now_ns();
	uint64_t left;

	for (;;) {
		t->ops->complete(t);
		left = t->ops->in_flight(t);
		if (!left)
			return 0;
		if (timeout_ms >= 0 && now_ns() - start >= (uint64_t)timeout_ms * 1000000ull)
			break;
		/* zero-copy and ring modes may want a kick to go on */
		if (t->ops->kick(t) == ZCAP_KICK_ERROR)
			return ZCAP_ERROR;
		sleep_ns(50000);
	}
	zcap_tx_seterr(t, "%s: %llu frames still in flight after %d ms", t->ifname,
		       (unsigned long long)left, timeout_ms);
	errno = ETIMEDOUT;
	return ZCAP_ERROR;
}

int zcap_tx_stats(zcap_tx_t *t, struct zcap_tx_stats *st)
{
	uint64_t d;

	memset(st, 0, sizeof(*st));
	t->ops->complete(t);
	if (t->ops->stats(t, st))
		return ZCAP_ERROR;
	st->submitted = t->submitted;
	st->errors += t->errors;
	st->retries = t->retries;
	/* completed = sent + invalid + errors, and none of them negative
	 * even if a counter of the kernel ran ahead of the completions */
	if (st->invalid + st->errors > st->completed)
		st->completed = st->invalid + st->errors;
	st->sent = st->completed - st->invalid - st->errors;
	if (t->have_if_drop && read_tx_dropped(t->ifname, &d) == 0 && d >= t->if_drop0)
		st->drop_if = d - t->if_drop0;
	return 0;
}

int zcap_tx_fd(zcap_tx_t *t)
{
	return t->fd;
}

const char *zcap_tx_backend_name(const zcap_tx_t *t)
{
	return t->ops->name;
}

const char *zcap_tx_mode(const zcap_tx_t *t)
{
	return t->mode;
}

const char *zcap_tx_geterr(zcap_tx_t *t)
{
	return t->err;
}

void zcap_tx_close(zcap_tx_t *t)
{
	if (!t)
		return;
	t->nresv = 0;
	zcap_tx_flush(t, CLOSE_FLUSH_MS);
	t->ops->close(t);
	free(t->resv);
	free(t);
}
