/* SPDX-License-Identifier: MIT */
/*
 * The transmit front end: options, the backend choice (lib/backends.c), the
 * reservation, length checks, the kick loop with its back-off and stall
 * limit, flush and counters. The backends (<mechanism>_tx.c) only move
 * frames between their free lists and their kernel rings (lib/tx.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tx.h"

#define ETH_HDR_LEN 14u
#define STALL_NS 2000000000ull	/* the kernel took nothing for this long */
#define CLOSE_FLUSH_MS 1000

#define TX_OPTS_KNOWN zcap_offsetofend(struct zcap_tx_opts, xdp)
#define XDP_OPTS_KNOWN zcap_offsetofend(struct zcap_xdp_opts, queue_stride)
#define TX_STATS_KNOWN zcap_offsetofend(struct zcap_tx_stats, dma)

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

/* The interface's tx_dropped (from /proc, which follows our namespace). */
static int read_tx_dropped(const char *ifname, uint64_t *v)
{
	struct zcap_netdev_counters c;

	if (zcap_netdev_counters(ifname, &c))
		return -1;
	*v = c.tx_dropped;
	return 0;
}

static int try_backend(struct zcap_tx *t, const struct zcap_backend *b)
{
	const struct zcap_tx_ops *ops = b->tx;
	uint32_t room = 0;

	t->backend = b;
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
	t->ops = NULL;
	t->backend = NULL;
	errno = saved;
	return -1;
}

/* The application's options, checked, with every default filled in. */
static int resolve_opts(const struct zcap_tx_opts *in, struct zcap_tx_opts *o,
			struct zcap_tx *t, char *err)
{
	struct zcap_xdp_opts xo;

	if (zcap_opts_copy(o, TX_OPTS_KNOWN, in, "struct zcap_tx_opts", err) ||
	    zcap_opts_copy(&xo, XDP_OPTS_KNOWN, o->xdp, "struct zcap_xdp_opts", err))
		return -1;
	errno = EINVAL;
	if (o->frames && (o->frames < 64 || o->frames > ZCAP_TX_MAX_FRAMES ||
			  (o->frames & (o->frames - 1)))) {
		zcap_errf(err, "%u tx frames: must be a power of two in 64..%u",
			  o->frames, ZCAP_TX_MAX_FRAMES);
		return -1;
	}
	if ((xo.flags & ~ZCAP_XDP_QUEUE) || xo.queue > 65535 || xo.queue_stride) {
		zcap_errf(err, "bad xdp queue %u, stride %u (capture only) or flags %#x",
			  xo.queue, xo.queue_stride, xo.flags);
		return -1;
	}
	t->frames = o->frames ? o->frames : ZCAP_TX_DEFAULT_FRAMES;
	t->cfg.queue = xo.flags & ZCAP_XDP_QUEUE ? xo.queue : 0;
	errno = 0;
	return 0;
}

/* After a backend opened: the limits and the interface's drop counter. */
static void opened(struct zcap_tx *t)
{
	zcap_log(ZCAP_LOG_INFO, "%s: backend %s, %s mode, %u frames, frames up to "
		 "%u bytes", t->ifname, t->backend->name, t->mode, t->frames,
		 t->max_len);
	if (read_tx_dropped(t->ifname, &t->if_drop0) == 0)
		t->have_if_drop = 1;
}

/* Tries the backend asked for, or each that auto tries; errbuf says why
 * each failed, most useful first. */
static int open_backend(struct zcap_tx *t, const struct zcap_backend *asked,
			char *errbuf)
{
	char why[2 * ZCAP_ERRBUF_SIZE + 64] = "";
	const struct zcap_backend *b;
	int err = 0;

	if (asked) {
		if (try_backend(t, asked) == 0)
			return 0;
		memcpy(errbuf, t->err, ZCAP_ERRBUF_SIZE);
		return -1;
	}
	for (unsigned int i = 0; (b = zcap_backend_get(i)); i++) {
		size_t l = strlen(why);

		if (!b->tx || b->tx_auto != ZCAP_AUTO_TRY)
			continue;
		if (try_backend(t, b) == 0) {
			zcap_log(ZCAP_LOG_INFO, "auto took %s: %s", b->name, b->tx_why);
			return 0;
		}
		err = errno;
		zcap_log(ZCAP_LOG_INFO, "backend %s not used: %s", b->name, t->err);
		snprintf(why + l, sizeof(why) - l, "%s%s: %s", l ? "; " : "", b->name,
			 t->err);
	}
	zcap_errf(errbuf, "%.*s", ZCAP_ERRBUF_SIZE - 1, why);
	errno = err;
	return -1;
}

zcap_tx_t *zcap_tx_open(const char *ifname, const struct zcap_tx_opts *opts,
			char *errbuf)
{
	const struct zcap_backend *asked;
	struct zcap_tx_opts o;
	struct zcap_tx *t;
	int mtu, err;

	errbuf[0] = '\0';
	t = calloc(1, sizeof(*t));
	if (!t) {
		zcap_errf(errbuf, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	t->fd = -1;
	if (resolve_opts(opts, &o, t, errbuf))
		goto fail;
	asked = zcap_backend_find(o.backend, ZCAP_TX, errbuf);
	if (!asked && errno)
		goto fail;
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE) {
		zcap_errf(errbuf, "bad interface name '%s'", ifname ? ifname : "");
		errno = ENODEV;
		goto fail;
	}
	memcpy(t->ifname, ifname, strlen(ifname) + 1);
	t->ifindex = zcap_netdev_index(ifname, errbuf);
	if (!t->ifindex)
		goto fail;
	mtu = zcap_netdev_tx_ready(ifname, errbuf);
	if (mtu < 0)
		goto fail;
	t->mtu = (uint32_t)mtu;
	t->resv = calloc(t->frames, sizeof(*t->resv));
	if (!t->resv) {
		zcap_errf(errbuf, "out of memory");
		errno = ENOMEM;
		goto fail;
	}
	if (open_backend(t, asked, errbuf))
		goto fail;
	opened(t);
	return t;
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
	if (t->ops->submit(t, t->resv, n))
		return ZCAP_ERROR;
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

int zcap_tx_stats(zcap_tx_t *t, struct zcap_tx_stats *out)
{
	struct zcap_tx_stats st;
	uint64_t d;

	memset(&st, 0, sizeof(st));
	t->ops->complete(t);
	if (t->ops->stats(t, &st))
		return ZCAP_ERROR;
	st.submitted = t->submitted;
	st.errors += t->errors;
	st.retries = t->retries;
	/* completed = sent + invalid + errors, and none of them negative
	 * even if a counter of the kernel ran ahead of the completions */
	if (st.invalid + st.errors > st.completed)
		st.completed = st.invalid + st.errors;
	st.sent = st.completed - st.invalid - st.errors;
	if (t->have_if_drop && read_tx_dropped(t->ifname, &d) == 0 && d >= t->if_drop0)
		st.drop_if = d - t->if_drop0;
	return zcap_opts_out(out, &st, TX_STATS_KNOWN, "struct zcap_tx_stats", t->err);
}

int zcap_tx_fd(zcap_tx_t *t)
{
	return t->fd;
}

const char *zcap_tx_backend_name(const zcap_tx_t *t)
{
	return t->backend->name;
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
