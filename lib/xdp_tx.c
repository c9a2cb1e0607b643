/* SPDX-License-Identifier: MIT */
/*
 * The AF_XDP tx backend: a socket with only a tx ring, on one queue, over a
 * umem of 2 KiB frames. No XDP program is needed to send, so none is loaded
 * (XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD): whatever the interface runs for
 * receiving, a zcap capture's program included, is left alone.
 *
 * Frames: free (in free[], a FIFO) -> reserved by the application -> in the
 * tx ring -> in the kernel -> on the completion ring -> free again. The
 * completion ring has room for every frame, so it never refuses one.
 *
 * Zero copy (XDP_ZEROCOPY) is tried first, then copy mode. In copy mode the
 * kernel builds an skb per frame inside the kick (sendto), at most 32 per
 * call, and says EAGAIN while frames are left; a frame the device drops
 * (NET_XMIT_DROP: veth's peer backlog is full) comes back on the completion
 * ring and the kick says EBUSY, so each EBUSY is one frame lost, counted in
 * errors (and by the interface in tx_dropped). In zero-copy mode the driver
 * takes frames by itself and only wants a kick when the ring's need_wakeup
 * flag says so. Descriptors the kernel finds malformed are skipped, never
 * completed, and counted in XDP_STATISTICS tx_invalid_descs; the front end
 * checks lengths so that none should be.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_xdp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xdp/xsk.h>

#include "tx.h"
#include "xsk_common.h"

#define TXDP_FRAME 2048u
#define TXDP_FRAME_SHIFT 11
/* Zero copy binds the queue's rx side to our umem too: a few frames in the
 * fill ring let the driver keep passing received packets to the stack. */
#define TXDP_FILL 512u

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

struct txdp {
	struct zxsk p;		/* p.tx and p.comp; p.fill only in zero copy */
	uint32_t nframes;
	uint32_t mask;
	uint64_t *free;		/* frame addresses, [head, tail) free */
	uint32_t head, tail;
	uint16_t *lens;		/* by frame number: for bytes on completion */
	uint64_t done;		/* completions */
	uint64_t bytes;
	int copy;
};

static int txdp_open(struct zcap_tx *t, uint32_t *room)
{
	const struct zxsk_cfg cfg = {
		.frames = t->frames + TXDP_FILL,
		.frame_size = TXDP_FRAME,
		.fill_size = TXDP_FILL,
		.comp_size = t->frames,
		.tx_size = t->frames,
		.allow_copy = 1,
	};
	struct txdp *x;
	int err, sndbuf;
	uint32_t idx;

	x = calloc(1, sizeof(*x));
	if (!x) {
		zcap_tx_seterr(t, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	t->priv = x;
	x->nframes = t->frames;
	x->mask = x->nframes - 1;
	x->free = calloc(x->nframes, sizeof(*x->free));
	x->lens = calloc(x->nframes, sizeof(*x->lens));
	if (!x->free || !x->lens) {
		zcap_tx_seterr(t, "out of memory");
		errno = ENOMEM;
		return -1;
	}

	err = zxsk_open(&x->p, t->ifname, t->cfg.queue, &cfg);
	if (err == -EBUSY) {
		errno = EBUSY;
		zcap_tx_seterr(t, "%s: queue %u already has an AF_XDP socket", t->ifname,
			       t->cfg.queue);
		return -1;
	}
	if (err) {
		errno = -err;
		if (errno == EPERM || errno == EACCES)
			zcap_tx_seterr(t, "%s: AF_XDP socket: %s (needs root or CAP_NET_RAW)",
				       t->ifname, strerror(errno));
		else
			zcap_tx_seterr(t, "%s: AF_XDP socket on queue %u: %s", t->ifname,
				       t->cfg.queue, strerror(errno));
		return -1;
	}
	t->fd = zxsk_fd(&x->p);
	x->copy = !x->p.zerocopy;
	t->mode = x->copy ? "copy" : "zero-copy";

	/* Copy mode charges each skb to the socket: room for the whole ring
	 * in flight, so that the completion ring is the only limit.
	 * FORCE needs CAP_NET_ADMIN; the capped variant is the fallback. */
	sndbuf = (int)(x->nframes * 4096u);
	if (setsockopt(t->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		setsockopt(t->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));

	for (uint32_t i = 0; i < x->nframes; i++)
		x->free[i] = (uint64_t)i << TXDP_FRAME_SHIFT;
	x->head = 0;
	x->tail = x->nframes;
	if (!x->copy && xsk_ring_prod__reserve(&x->p.fill, TXDP_FILL, &idx) == TXDP_FILL) {
		for (uint32_t i = 0; i < TXDP_FILL; i++)
			*xsk_ring_prod__fill_addr(&x->p.fill, idx + i) =
				(uint64_t)(x->nframes + i) << TXDP_FRAME_SHIFT;
		xsk_ring_prod__submit(&x->p.fill, TXDP_FILL);
	}
	*room = TXDP_FRAME;
	return 0;
}

static unsigned int txdp_reserve(struct zcap_tx *t, struct zcap_tx_slot *slots,
				 unsigned int n)
{
	struct txdp *x = t->priv;
	uint32_t avail = x->tail - x->head;
	uint32_t ring = xsk_prod_nb_free(&x->p.tx, n);

	/* A frame can be back on the free list before the kernel has
	 * published that it read its descriptor: the tx ring is the other
	 * limit, so that submit() always finds its slots. */
	if (avail > ring)
		avail = ring;
	if (n > avail)
		n = avail;
	for (unsigned int i = 0; i < n; i++) {
		slots[i].data = x->p.area + x->free[(x->head + i) & x->mask];
		slots[i].room = TXDP_FRAME;
	}
	return n;
}

static int txdp_submit(struct zcap_tx *t, const struct zcap_tx_slot *slots,
		       unsigned int n)
{
	struct txdp *x = t->priv;
	uint32_t idx;

	/* reserve() saw room for these in the tx ring */
	if (xsk_ring_prod__reserve(&x->p.tx, n, &idx) != n) {
		zcap_tx_seterr(t, "%s: the AF_XDP tx ring lost the room reserved for "
			       "%u frames", t->ifname, n);
		errno = EPROTO;
		return -1;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&x->p.tx, idx + i);
		uint64_t addr = x->free[(x->head + i) & x->mask];

		d->addr = addr;
		d->len = slots[i].len;
		d->options = 0;
		x->lens[addr >> TXDP_FRAME_SHIFT] = (uint16_t)slots[i].len;
	}
	x->head += n;
	xsk_ring_prod__submit(&x->p.tx, n);
	return 0;
}

/* Frames published and not yet read by the kernel. */
static int txdp_tx_pending(struct txdp *x)
{
	return xsk_prod_nb_free(&x->p.tx, x->nframes) < x->nframes;
}

static enum zcap_tx_kick txdp_kick(struct zcap_tx *t)
{
	struct txdp *x = t->priv;

	if (!x->copy && !xsk_ring_prod__needs_wakeup(&x->p.tx))
		return ZCAP_KICK_DONE;	/* the driver is at it */
	if (x->copy && !txdp_tx_pending(x))
		return ZCAP_KICK_DONE;
	if (sendto(t->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
		return ZCAP_KICK_DONE;	/* copy mode: the ring is empty */
	switch (errno) {
	case EBUSY:		/* copy mode: the device dropped one */
		if (x->copy)
			return ZCAP_KICK_DROPPED;
		/* zero copy: the driver could not be woken this time */
		__attribute__((fallthrough));
	case EAGAIN:		/* copy mode: 32 frames per call, or no room for skbs */
	case EINTR:
	case ENOBUFS:
		return ZCAP_KICK_AGAIN;
	case ENETDOWN:
	case ENXIO:
		zcap_tx_seterr(t, "%s: interface is down", t->ifname);
		return ZCAP_KICK_ERROR;
	default:
		zcap_tx_seterr(t, "%s: AF_XDP kick: %s", t->ifname, strerror(errno));
		return ZCAP_KICK_ERROR;
	}
}

static unsigned int txdp_complete(struct zcap_tx *t)
{
	struct txdp *x = t->priv;
	uint32_t idx, n;

	n = xsk_ring_cons__peek(&x->p.comp, x->nframes, &idx);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t addr = *xsk_ring_cons__comp_addr(&x->p.comp, idx + i);
		uint64_t f = addr >> TXDP_FRAME_SHIFT;

		if (f >= x->nframes)
			continue;	/* not ours: cannot happen */
		x->free[x->tail++ & x->mask] = f << TXDP_FRAME_SHIFT;
		x->bytes += x->lens[f];
	}
	if (n)
		xsk_ring_cons__release(&x->p.comp, n);
	x->done += n;
	/* zero copy: frames wait in the ring until a wakeup */
	if (!x->copy && txdp_tx_pending(x) && xsk_ring_prod__needs_wakeup(&x->p.tx))
		sendto(t->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
	return n;
}

static uint64_t txdp_invalid(struct zcap_tx *t)
{
	struct xdp_statistics s;
	socklen_t len = sizeof(s);

	memset(&s, 0, sizeof(s));
	if (getsockopt(t->fd, SOL_XDP, XDP_STATISTICS, &s, &len))
		return 0;
	return s.tx_invalid_descs;
}

static uint64_t txdp_in_flight(struct zcap_tx *t)
{
	struct txdp *x = t->priv;
	uint64_t gone = x->done + txdp_invalid(t);
	uint64_t left = t->submitted > gone ? t->submitted - gone : 0;

	/* A malformed descriptor never comes back: once nothing is in
	 * flight, every frame is free again, whatever the list says. */
	if (!left && !t->nresv && x->tail - x->head != x->nframes) {
		for (uint32_t i = 0; i < x->nframes; i++)
			x->free[i] = (uint64_t)i << TXDP_FRAME_SHIFT;
		x->head = 0;
		x->tail = x->nframes;
	}
	return left;
}

static int txdp_stats(struct zcap_tx *t, struct zcap_tx_stats *st)
{
	struct txdp *x = t->priv;
	struct xdp_statistics s;
	socklen_t len = sizeof(s);

	memset(&s, 0, sizeof(s));
	if (getsockopt(t->fd, SOL_XDP, XDP_STATISTICS, &s, &len)) {
		zcap_tx_seterr(t, "XDP_STATISTICS: %s", strerror(errno));
		return -1;
	}
	st->invalid = s.tx_invalid_descs;
	st->completed = x->done + st->invalid;
	st->bytes = x->bytes;
	if (!x->copy)
		st->dma = x->done;
	return 0;
}

static void txdp_close(struct zcap_tx *t)
{
	struct txdp *x = t->priv;

	if (!x)
		return;
	zxsk_close(&x->p);
	free(x->free);
	free(x->lens);
	free(x);
	t->priv = NULL;
	t->fd = -1;
}

const struct zcap_tx_ops zcap_xdp_tx_ops = {
	.open = txdp_open,
	.reserve = txdp_reserve,
	.submit = txdp_submit,
	.kick = txdp_kick,
	.complete = txdp_complete,
	.in_flight = txdp_in_flight,
	.stats = txdp_stats,
	.close = txdp_close,
};
