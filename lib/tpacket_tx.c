/* SPDX-License-Identifier: MIT */
/*
 * The TPACKET tx backend: AF_PACKET with a PACKET_TX_RING (TPACKET_V2) of
 * 2 KiB slots, the qdisc bypassed (PACKET_QDISC_BYPASS), so each frame goes
 * from its slot into an skb and straight to the driver.
 *
 * Ownership, per slot, by tp_status:
 *   TP_STATUS_AVAILABLE     ours: free, or reserved by the application
 *   TP_STATUS_SEND_REQUEST  handed over, not yet taken (we store it)
 *   TP_STATUS_SENDING       taken, its skb not yet freed
 *   TP_STATUS_AVAILABLE     again when the skb is freed: completed
 *   TP_STATUS_WRONG_FORMAT  the kernel refused it as malformed
 * The kernel walks the ring in order from its own head and stops at the
 * first slot that is not SEND_REQUEST, so slots are handed over strictly in
 * ring order: [tail, head) are the kernel's, the rest ours.
 *
 *   us                                      kernel (tpacket_snd)
 *   write frame, tp_len                     status = tp_status; smp_rmb()
 *   store-release(tp_status, SEND_REQUEST)  if SEND_REQUEST: read frame
 *   ...                                     skb freed: tp_status = AVAILABLE
 *   load-acquire(tp_status) == AVAILABLE    (smp_wmb() before it)
 *
 * A frame the device drops at once (veth: the peer's backlog is full) has
 * its slot set back to SEND_REQUEST and the send says ENOBUFS: the next
 * kick sends it again, in order. That is counted in retries, not lost.
 * A malformed frame (WRONG_FORMAT) stops the kernel at that slot for good;
 * the front end checks lengths so that none should be, and if one is, the
 * handle fails with a clear error rather than stalling.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tx.h"

#define TTP_FRAME 2048u
#define TTP_BLOCK (64u << 10)
/* where V2 takes the frame from, without PACKET_TX_HAS_OFF */
#define TTP_DATA (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))

struct ttp {
	uint8_t *map;
	size_t map_len;
	uint32_t nframes;
	uint32_t mask;
	uint32_t per_block_shift;	/* log2 of frames per block */
	uint32_t block_size;
	uint32_t head;		/* next slot to hand over */
	uint32_t tail;		/* oldest slot handed over and not completed */
	uint64_t done;
	uint64_t bytes;
	uint64_t invalid;
	int broken;		/* a WRONG_FORMAT slot stopped the kernel */
};

static inline struct tpacket2_hdr *slot(struct ttp *p, uint32_t i)
{
	uint32_t s = i & p->mask;
	uint32_t fpb_mask = (1u << p->per_block_shift) - 1;

	return (struct tpacket2_hdr *)(p->map +
		(size_t)(s >> p->per_block_shift) * p->block_size +
		(size_t)(s & fpb_mask) * TTP_FRAME);
}

static int ttp_opt(struct zcap_tx *t, int level, int name, const void *v,
		   socklen_t len, const char *what)
{
	if (setsockopt(t->fd, level, name, v, len) == 0)
		return 0;
	zcap_tx_seterr(t, "%s: %s: %s", t->ifname, what, strerror(errno));
	return -1;
}

static int ttp_open(struct zcap_tx *t, uint32_t *room)
{
	struct sockaddr_ll sll;
	struct tpacket_req req;
	struct ttp *p;
	int ver = TPACKET_V2, one = 1, sndbuf;
	uint32_t fpb;

	p = calloc(1, sizeof(*p));
	if (!p) {
		zcap_tx_seterr(t, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	t->priv = p;
	p->nframes = t->frames;
	p->mask = p->nframes - 1;
	p->block_size = TTP_BLOCK;
	if ((size_t)p->nframes * TTP_FRAME < p->block_size)
		p->block_size = p->nframes * TTP_FRAME;
	fpb = p->block_size / TTP_FRAME;
	while ((1u << p->per_block_shift) < fpb)
		p->per_block_shift++;

	/* Protocol 0: this socket only sends, and with a protocol the kernel
	 * would also queue every received frame to it. */
	t->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		if (errno == EPERM || errno == EACCES)
			zcap_tx_seterr(t, "%s: AF_PACKET socket: %s (needs root or CAP_NET_RAW)",
				       t->ifname, strerror(errno));
		else
			zcap_tx_seterr(t, "socket(AF_PACKET): %s", strerror(errno));
		return -1;
	}
	if (ttp_opt(t, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver), "TPACKET_V2") ||
	    ttp_opt(t, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one),
		    "PACKET_QDISC_BYPASS"))
		return -1;
	/* Each frame in flight holds an skb charged to the socket: room for
	 * the whole ring. FORCE needs CAP_NET_ADMIN; else the capped one. */
	sndbuf = (int)(p->nframes * 4096u);
	if (setsockopt(t->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		setsockopt(t->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));

	memset(&req, 0, sizeof(req));
	req.tp_block_size = p->block_size;
	req.tp_block_nr = p->nframes / fpb;
	req.tp_frame_size = TTP_FRAME;
	req.tp_frame_nr = p->nframes;
	if (ttp_opt(t, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req),
		    "cannot create a TPACKET_V2 tx ring"))
		return -1;
	p->map_len = (size_t)p->block_size * req.tp_block_nr;
	p->map = mmap(NULL, p->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		      t->fd, 0);
	if (p->map == MAP_FAILED) {
		p->map = NULL;
		zcap_tx_seterr(t, "%s: mmap of the %zu-byte tx ring: %s", t->ifname,
			       p->map_len, strerror(errno));
		return -1;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = t->ifindex;
	if (bind(t->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		zcap_tx_seterr(t, "%s: bind: %s", t->ifname, strerror(errno));
		return -1;
	}
	*room = TTP_FRAME - (uint32_t)TTP_DATA;
	return 0;
}

static unsigned int ttp_reserve(struct zcap_tx *t, struct zcap_tx_slot *slots,
				unsigned int n)
{
	struct ttp *p = t->priv;
	uint32_t avail = p->nframes - (p->head - p->tail);

	if (n > avail)
		n = avail;
	for (unsigned int i = 0; i < n; i++) {
		slots[i].data = (uint8_t *)slot(p, p->head + i) + TTP_DATA;
		slots[i].room = TTP_FRAME - (uint32_t)TTP_DATA;
	}
	return n;
}

static int ttp_submit(struct zcap_tx *t, const struct zcap_tx_slot *slots,
		      unsigned int n)
{
	struct ttp *p = t->priv;

	for (unsigned int i = 0; i < n; i++) {
		struct tpacket2_hdr *h = slot(p, p->head + i);

		h->tp_len = slots[i].len;
		h->tp_snaplen = slots[i].len;
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
	}
	p->head += n;
	return 0;
}

static enum zcap_tx_kick ttp_kick(struct zcap_tx *t)
{
	struct ttp *p = t->priv;
	ssize_t r;

	if (p->broken) {
		errno = EINVAL;
		return ZCAP_KICK_ERROR;
	}
	if (p->head == p->tail)
		return ZCAP_KICK_DONE;
	r = send(t->fd, NULL, 0, MSG_DONTWAIT);
	if (r < 0) {
		switch (errno) {
		case ENOBUFS:	/* dropped by the device; sent again next time */
			return ZCAP_KICK_BUSY;
		case EAGAIN:	/* send buffer full */
		case EINTR:
			return ZCAP_KICK_AGAIN;
		case ENETDOWN:
		case ENXIO:
			zcap_tx_seterr(t, "%s: interface is down", t->ifname);
			return ZCAP_KICK_ERROR;
		case EINVAL:
		case EMSGSIZE:
			p->broken = 1;
			zcap_tx_seterr(t, "%s: the kernel refused a frame as malformed (%s); "
				       "the tx ring cannot go on", t->ifname, strerror(errno));
			return ZCAP_KICK_ERROR;
		default:
			zcap_tx_seterr(t, "%s: tx ring send: %s", t->ifname, strerror(errno));
			return ZCAP_KICK_ERROR;
		}
	}
	/* It stops early only when the send buffer is full. */
	if (__atomic_load_n(&slot(p, p->head - 1)->tp_status, __ATOMIC_ACQUIRE) ==
	    TP_STATUS_SEND_REQUEST)
		return ZCAP_KICK_AGAIN;
	return ZCAP_KICK_DONE;
}

static unsigned int ttp_complete(struct zcap_tx *t)
{
	struct ttp *p = t->priv;
	unsigned int n = 0;

	while (p->tail != p->head) {
		struct tpacket2_hdr *h = slot(p, p->tail);
		uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);

		if (st & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING))
			break;
		if (st & TP_STATUS_WRONG_FORMAT) {
			p->invalid++;
			p->broken = 1;
			zcap_tx_seterr(t, "%s: the kernel refused a frame as malformed; "
				       "the tx ring cannot go on", t->ifname);
			__atomic_store_n(&h->tp_status, TP_STATUS_AVAILABLE, __ATOMIC_RELAXED);
		} else {
			p->bytes += h->tp_len;
		}
		p->tail++;
		n++;
	}
	p->done += n;
	return n;
}

static uint64_t ttp_in_flight(struct zcap_tx *t)
{
	struct ttp *p = t->priv;

	return p->head - p->tail;
}

static int ttp_stats(struct zcap_tx *t, struct zcap_tx_stats *st)
{
	struct ttp *p = t->priv;

	st->completed = p->done;
	st->bytes = p->bytes;
	st->invalid = p->invalid;
	return 0;
}

static void ttp_close(struct zcap_tx *t)
{
	struct ttp *p = t->priv;

	if (p && p->map)
		munmap(p->map, p->map_len);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(p);
	t->priv = NULL;
}

const struct zcap_tx_ops zcap_tpacket_tx_ops = {
	.open = ttp_open,
	.reserve = ttp_reserve,
	.submit = ttp_submit,
	.kick = ttp_kick,
	.complete = ttp_complete,
	.in_flight = ttp_in_flight,
	.stats = ttp_stats,
	.close = ttp_close,
};
