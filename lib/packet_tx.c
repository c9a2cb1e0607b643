/* SPDX-License-Identifier: MIT */
/*
 * The packet tx backend: an AF_PACKET SOCK_RAW socket bound to the
 * interface, the qdisc bypassed (PACKET_QDISC_BYPASS), and one sendmmsg()
 * per kick for what is published. Frames are built in our own buffers and
 * the kernel copies each into an skb during the call: one copy per frame,
 * one syscall per batch, and no memory shared with the kernel.
 *
 * sendmmsg() is synchronous, so a frame the kernel took is complete at
 * once. Frames are used in order from a ring of t->frames buffers:
 *
 *   [tail, sent)   sent, not yet reclaimed by complete()
 *   [sent, head)   submitted, not yet taken by the kernel (in flight)
 *   [head, tail + nframes)  free
 *
 * When nothing is submitted or unreclaimed, reserve() starts again at
 * buffer 0, so a sender that submits batch after batch keeps reusing the
 * same few cache-warm buffers rather than walking all of them.
 *
 * A frame the device refuses for now (veth: ENOBUFS when the peer's backlog
 * is full; it counts it in tx_dropped) is not lost: it stays at `sent` and
 * the next kick sends it again, in order (ZCAP_KICK_BUSY: the front end
 * counts a retry and backs off). sendmmsg() reports an error only when it
 * sent nothing; a short count hides the error that stopped it, so a short
 * count below the call's limit is such a refusal too.
 */
#define _GNU_SOURCE		/* sendmmsg() */
#include <errno.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tx.h"

#define PKT_ROOM_MIN 2048u	/* 1514 and then some, a multiple of 64 */
#define PKT_ROOM_MAX 65536u
#define PKT_SNDBUF (16 << 20)
#define PKT_VLEN_MAX 1024u	/* UIO_MAXIOV: sendmmsg() sends at most this many */

struct pkt {
	uint8_t *buf;		/* nframes * room bytes */
	struct mmsghdr *msgs;	/* [nframes], each with its iov */
	struct iovec *iov;	/* [nframes] */
	uint32_t nframes;
	uint32_t mask;
	uint32_t room;
	uint32_t head;		/* next buffer to hand out */
	uint32_t sent;		/* oldest submitted, not yet taken */
	uint32_t tail;		/* oldest taken, not yet reclaimed */
	uint64_t done;
	uint64_t bytes;
};

static int pkt_open(struct zcap_tx *t, uint32_t *room)
{
	struct sockaddr_ll sll;
	struct pkt *p;
	int one = 1, sndbuf = PKT_SNDBUF;

	p = calloc(1, sizeof(*p));
	if (!p) {
		zcap_tx_seterr(t, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	t->priv = p;
	p->nframes = t->frames;
	p->mask = p->nframes - 1;
	/* Room for the interface's largest frame, in whole cache lines. */
	p->room = (t->mtu + 14 + 63) & ~63u;
	if (p->room < PKT_ROOM_MIN)
		p->room = PKT_ROOM_MIN;
	if (p->room > PKT_ROOM_MAX)
		p->room = PKT_ROOM_MAX;

	/* Protocol 0: this socket only sends, and with a protocol the kernel
	 * would also queue every received frame to it. */
	t->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		int err = errno;

		if (err == EPERM || err == EACCES)
			zcap_tx_seterr(t, "%s: AF_PACKET socket: %s (needs root or CAP_NET_RAW)",
				       t->ifname, strerror(err));
		else
			zcap_tx_seterr(t, "socket(AF_PACKET): %s", strerror(err));
		errno = err;
		return -1;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = t->ifindex;
	if (bind(t->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		int err = errno;

		zcap_tx_seterr(t, "%s: bind: %s", t->ifname, strerror(err));
		errno = err;
		return -1;
	}
	/* Straight to the driver: the qdisc would only add a lock and a queue
	 * that can drop without telling us. Every kernel since 3.14 has it;
	 * without it frames still go, through the qdisc, so that is no reason
	 * to fail (zcap-gen only warned). */
	(void)setsockopt(t->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	/* A big send buffer keeps a whole batch in flight without EAGAIN;
	 * FORCE needs CAP_NET_ADMIN, so fall back to the capped variant. */
	if (setsockopt(t->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		(void)setsockopt(t->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));

	p->buf = aligned_alloc(64, (size_t)p->nframes * p->room);
	p->msgs = calloc(p->nframes, sizeof(*p->msgs));
	p->iov = calloc(p->nframes, sizeof(*p->iov));
	if (!p->buf || !p->msgs || !p->iov) {
		zcap_tx_seterr(t, "out of memory for %u frames of %u bytes", p->nframes,
			       p->room);
		errno = ENOMEM;
		return -1;
	}
	for (uint32_t i = 0; i < p->nframes; i++) {
		p->iov[i].iov_base = p->buf + (size_t)i * p->room;
		p->msgs[i].msg_hdr.msg_iov = &p->iov[i];
		p->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	t->mode = "copy";
	*room = p->room;
	return 0;
}

static unsigned int pkt_reserve(struct zcap_tx *t, struct zcap_tx_slot *slots,
				unsigned int n)
{
	struct pkt *p = t->priv;
	uint32_t avail;

	/* Nothing of ours is the kernel's or unreclaimed: start at 0 again.
	 * Safe, since nothing changes head until the next submit, which
	 * takes the frames of the last reserve. */
	if (p->head == p->tail)
		p->head = p->sent = p->tail = 0;
	avail = p->nframes - (p->head - p->tail);
	if (n > avail)
		n = avail;
	for (unsigned int i = 0; i < n; i++) {
		slots[i].data = p->iov[(p->head + i) & p->mask].iov_base;
		slots[i].room = p->room;
	}
	return n;
}

static int pkt_submit(struct zcap_tx *t, const struct zcap_tx_slot *slots,
		      unsigned int n)
{
	struct pkt *p = t->priv;

	for (unsigned int i = 0; i < n; i++)
		p->iov[(p->head + i) & p->mask].iov_len = slots[i].len;
	p->head += n;
	return 0;
}

static enum zcap_tx_kick pkt_kick(struct zcap_tx *t)
{
	struct pkt *p = t->priv;
	uint32_t first = p->sent & p->mask;
	unsigned int want = p->head - p->sent, vlen;
	int r, err;

	if (!want)
		return ZCAP_KICK_DONE;
	/* One call takes a run of buffers that does not wrap, and at most
	 * what sendmmsg() takes in one call; the rest is the next kick's. */
	vlen = want;
	if (vlen > p->nframes - first)
		vlen = p->nframes - first;
	if (vlen > PKT_VLEN_MAX)
		vlen = PKT_VLEN_MAX;
	r = sendmmsg(t->fd, p->msgs + first, vlen, MSG_DONTWAIT);
	if (r > 0) {
		for (int i = 0; i < r; i++)
			p->bytes += p->iov[first + (unsigned int)i].iov_len;
		p->sent += (uint32_t)r;
		if ((unsigned int)r < vlen)
			return ZCAP_KICK_BUSY;	/* the next one was refused */
		return (unsigned int)r < want ? ZCAP_KICK_AGAIN : ZCAP_KICK_DONE;
	}
	if (r == 0)
		return ZCAP_KICK_BUSY;		/* not expected; as if refused */
	err = errno;
	switch (err) {
	case ENOBUFS:	/* the device refused it for now: sent again next time */
	case EAGAIN:	/* the send buffer is full */
		return ZCAP_KICK_BUSY;
	case EINTR:
		return ZCAP_KICK_AGAIN;
	case ENETDOWN:
	case ENXIO:
		zcap_tx_seterr(t, "%s: interface is down", t->ifname);
		break;
	default:
		zcap_tx_seterr(t, "%s: sendmmsg of a %u-byte frame: %s", t->ifname,
			       (unsigned int)p->iov[first].iov_len, strerror(err));
		break;
	}
	errno = err;
	return ZCAP_KICK_ERROR;
}

static unsigned int pkt_complete(struct zcap_tx *t)
{
	struct pkt *p = t->priv;
	unsigned int n = p->sent - p->tail;

	p->tail = p->sent;
	p->done += n;
	return n;
}

static uint64_t pkt_in_flight(struct zcap_tx *t)
{
	struct pkt *p = t->priv;

	return p->head - p->sent;
}

static int pkt_stats(struct zcap_tx *t, struct zcap_tx_stats *st)
{
	struct pkt *p = t->priv;

	st->completed = p->done;
	st->bytes = p->bytes;
	return 0;
}

static void pkt_close(struct zcap_tx *t)
{
	struct pkt *p = t->priv;

	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (p) {
		free(p->buf);
		free(p->msgs);
		free(p->iov);
		free(p);
	}
	t->priv = NULL;
}

const struct zcap_tx_ops zcap_packet_tx_ops = {
	.open = pkt_open,
	.reserve = pkt_reserve,
	.submit = pkt_submit,
	.kick = pkt_kick,
	.complete = pkt_complete,
	.in_flight = pkt_in_flight,
	.stats = pkt_stats,
	.close = pkt_close,
};
