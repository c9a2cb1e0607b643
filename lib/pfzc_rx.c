/* SPDX-License-Identifier: MIT */
/*
 * The pfzc backend's capture side: a PF_ZEROCOPY socket from the
 * pf_zerocopy module (set up in pfzc_common.c).
 *
 * We allocate the frame buffer (the umem), the kernel pins it and puts
 * each packet into one of its rx frames (copied once, or written there by
 * a NIC's DMA) named by the next rx descriptor; we read the packet in
 * place and hand slots, and their frames, back by moving the consumer
 * index.
 * The ring protocol is in include/uapi/pf_zerocopy.h and its accessors,
 * with the barriers, in include/pfzc_ring.h; this file only follows them.
 *
 * Ownership: slots from the last pfzc_cons_release() up to the ring's
 * cached consumer index were handed out by zcap_recv() and are the
 * application's until zcap_release() (or zcap_release_n() hands back the
 * oldest of them); their frames are not rewritten.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pfzc_common.h"
#include "rx.h"

struct pfzc {
	struct pfzc_sock s;	/* s.ring is the rx ring */
	/* After a filter change, slots before this index may hold packets
	 * the old filter took: see pz_setfilter(). */
	uint32_t recheck_end;
	int recheck;
};

/* Packets the module filtered under the old program but had not published
 * when the new one was attached: one per CPU in its receive path, at most. */
#define PFZC_RECHECK_SLACK 256

/* The frame must hold a whole packet of this MTU, or packets get cut. */
static uint32_t pick_frame_size(struct zcap *h)
{
	int mtu = zcap_netdev_mtu(h->ifname);

	if (mtu <= 0)
		mtu = 1500;
	return mtu + ETH_HLEN + 4 <= PFZC_FRAME_SIZE ? PFZC_FRAME_SIZE :
						       PFZC_FRAME_SIZE_MAX;
}

static uint32_t pick_entries(uint64_t ring_bytes, uint32_t frame_size)
{
	uint64_t want = ring_bytes / frame_size;
	uint32_t n = PFZC_RING_MIN;

	while (n < PFZC_RING_MAX && (uint64_t)n * 2 <= want)
		n *= 2;
	return n;
}

static int pz_open(struct zcap *h)
{
	struct pfzc *z;
	uint32_t frame_size, entries;

	/* the NIC's own buffer where it has one (not shared by a group) */
	if (h->cfg.fanout < 0) {
		int rc = zcap_pfzc_cring_open(h);

		if (rc <= 0)
			return rc;
	}
	z = calloc(1, sizeof(*z));
	if (!z) {
		zcap_seterr(h, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	z->s.fd = -1;
	h->priv = z;
	if (pfzc_sock_open(&z->s, h->ifname, h->err))
		return -1;
	h->fd = z->s.fd;
	h->family = z->s.family;
	frame_size = pick_frame_size(h);
	entries = pick_entries(h->cfg.ring_bytes, frame_size);
	if (pfzc_sock_umem(&z->s, h->ifname, entries, frame_size, h->err))
		return -1;
	if (setsockopt(h->fd, SOL_SOCKET, SO_ATTACH_FILTER, &h->filters.kern,
		       sizeof(h->filters.kern))) {
		zcap_seterr(h, "%s: cannot attach the filter: %s", h->ifname,
			    strerror(errno));
		return -1;
	}
	if (pfzc_sock_ring(&z->s, h->ifname, PFZC_RX_RING, entries, h->err) ||
	    pfzc_sock_bind(&z->s, h->ifname, h->ifindex, h->err))
		return -1;
	/* after bind, as the module wants; its errnos (uapi, "fanout") */
	if (h->cfg.fanout >= 0) {
		uint32_t id = (uint32_t)h->cfg.fanout;

		if (setsockopt(h->fd, SOL_PFZC, PFZC_FANOUT, &id, sizeof(id))) {
			zcap_seterr(h, "%s: cannot join fanout group %u: %s%s",
				    h->ifname, id, strerror(errno),
				    errno == EOPNOTSUPP ? " (the NIC's direct "
				    "receiver takes every frame)" : "");
			return -1;
		}
	}
	h->counts_filtered = 1;
	h->partial = 1;
	return 0;
}

static int pz_recv(struct zcap *h, struct zcap_pkt *pkts, unsigned int max)
{
	struct pfzc *z = h->priv;
	uint32_t idx, n, got = 0;

	n = pfzc_cons_peek(&z->s.ring, max, &idx);
	for (uint32_t i = 0; i < n; i++) {
		const struct pfzc_desc *d = pfzc_cons_desc(&z->s.ring, idx + i);
		/* one read each: the ring is shared memory */
		uint64_t addr = __atomic_load_n(&d->addr, __ATOMIC_RELAXED);
		uint32_t len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
		struct zcap_pkt *p = &pkts[got];

		/* The kernel validated it; a bad one here means a bug, and
		 * must not turn into a read outside the buffer. */
		if (addr >= z->s.umem_len || len > z->s.frame_size -
		    (addr & (z->s.frame_size - 1)))
			len = 0;
		p->data = z->s.umem + (addr < z->s.umem_len ? addr : 0);
		p->caplen = len;
		p->len = d->orig_len;
		p->ts_ns = d->ts_ns;
		p->flags = 0;
		p->vlan_tci = 0;
		p->vlan_tpid = 0;
		if (d->flags & PFZC_DESC_VLAN) {
			p->flags |= ZCAP_PKT_VLAN;
			p->vlan_tci = d->vlan_tci;
			p->vlan_tpid = ETH_P_8021Q;
		}
		if (d->flags & PFZC_DESC_OUTGOING)
			p->flags |= ZCAP_PKT_OUTGOING;
		if (z->recheck) {
			if ((int32_t)(idx + i - z->recheck_end) >= 0)
				z->recheck = 0;
			else if (!zcap_rx_refilter(h, p))
				continue;	/* released with the others */
		}
		got++;
	}
	return (int)got;
}

/* The module runs the new filter from the next packet on; what the old one
 * took is in the slots it has published, and in those it is writing. */
static int pz_setfilter(struct zcap *h)
{
	struct pfzc *z = h->priv;

	if (setsockopt(h->fd, SOL_SOCKET, SO_ATTACH_FILTER, &h->filters.kern,
		       sizeof(h->filters.kern))) {
		zcap_seterr(h, "%s: cannot attach the filter: %s", h->ifname,
			    strerror(errno));
		return -1;
	}
	z->recheck_end = __atomic_load_n(z->s.ring.producer, __ATOMIC_ACQUIRE) +
			 PFZC_RECHECK_SLACK;
	z->recheck = 1;
	return 0;
}

static void pz_release(struct zcap *h)
{
	struct pfzc *z = h->priv;

	pfzc_cons_release(&z->s.ring);
}

/* A position is a slot index: the one after the last slot peeked. */
static uint64_t pz_mark(struct zcap *h)
{
	struct pfzc *z = h->priv;

	return z->s.ring.cached_cons;
}

static void pz_release_to(struct zcap *h, uint64_t pos)
{
	struct pfzc *z = h->priv;

	pfzc_cons_release_to(&z->s.ring, (uint32_t)pos);
}

/* The module reports POLLIN while the shared consumer index lags the
 * producer, which is the case while we hold peeked slots. */
static int pz_holding(struct zcap *h)
{
	struct pfzc *z = h->priv;

	return z->s.ring.cached_cons != *z->s.ring.consumer;
}

static int pz_stats(struct zcap *h, struct zcap_stats *st)
{
	struct pfzc_stats ks;
	socklen_t len = sizeof(ks);

	if (getsockopt(h->fd, SOL_PFZC, PFZC_STATISTICS, &ks, &len)) {
		zcap_seterr(h, "PF_ZEROCOPY statistics: %s", strerror(errno));
		return -1;
	}
	st->drop_ring_full = ks.rx_dropped_ring_full + ks.rx_dropped_queue_full;
	st->filtered = ks.rx_filtered;
	st->pending = ks.rx_packets > st->received ?
		      ks.rx_packets - st->received : 0;
	return 0;
}

static void pz_close(struct zcap *h)
{
	struct pfzc *z = h->priv;

	if (z) {
		pfzc_sock_close(&z->s);
		free(z);
	}
	h->fd = -1;
	h->priv = NULL;
}

const struct zcap_rx_ops zcap_pfzc_rx_ops = {
	.open = pz_open,
	.recv = pz_recv,
	.release = pz_release,
	.mark = pz_mark,
	.release_to = pz_release_to,
	.holding = pz_holding,
	.stats = pz_stats,
	.setfilter = pz_setfilter,
	.close = pz_close,
};
