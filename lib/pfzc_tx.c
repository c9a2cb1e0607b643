/* SPDX-License-Identifier: MIT */
/*
 * The pfzc backend's transmit side: the pf_zerocopy module's tx ring
 * (include/uapi/pf_zerocopy.h; set up in pfzc_common.c). Frames are
 * written in place in a registered buffer, tx slot i always naming frame
 * i; one empty sendto() hands a batch over. The module validates each
 * frame, then either copies it once (into an skb, or straight into the
 * peer's ring on its virtual pair) and moves the ring's consumer past it
 * before the kick returns, or, on a NIC that transmits by DMA, queues it
 * for the NIC to read from this buffer and moves the consumer when the
 * NIC has completed it (zero-copy mode). Either way a slot behind the
 * consumer is completed and its frame free again.
 *
 * The module counts per socket what it sent (tx_packets), what it refused
 * as malformed (tx_invalid) and what the device refused (tx_errors); the
 * last two are this handle's invalid and errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pfzc_common.h"
#include "tx.h"

struct tpz {
	struct pfzc_sock s;	/* s.ring is the tx ring; slot i names frame i */
	uint32_t cons;		/* consumer as last seen: completed up to here */
	uint16_t *lens;		/* by slot */
	uint64_t done;
	uint64_t bytes;
};

static int tpz_open(struct zcap_tx *t, uint32_t *room)
{
	uint32_t entries = t->frames;
	struct tpz *z;

	if (!pfzc_ring_entries_valid(entries)) {
		zcap_tx_seterr(t, "%u frames: the module takes %u..%u", entries,
			       PFZC_RING_MIN, PFZC_RING_MAX);
		errno = EINVAL;
		return -1;
	}
	z = calloc(1, sizeof(*z));
	if (!z) {
		zcap_tx_seterr(t, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	z->s.fd = -1;
	t->priv = z;
	z->lens = calloc(entries, sizeof(*z->lens));
	if (!z->lens) {
		zcap_tx_seterr(t, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	if (pfzc_sock_open(&z->s, t->ifname, t->err))
		return -1;
	t->fd = z->s.fd;
	if (pfzc_sock_umem(&z->s, t->ifname, entries, PFZC_FRAME_SIZE, t->err) ||
	    pfzc_sock_ring(&z->s, t->ifname, PFZC_TX_RING, entries, t->err))
		return -1;
	z->cons = z->s.ring.cached_cons;
	if (pfzc_sock_bind(&z->s, t->ifname, t->ifindex, t->err))
		return -1;
	*room = PFZC_FRAME_SIZE;
	return 0;
}

static unsigned int tpz_reserve(struct zcap_tx *t, struct zcap_tx_slot *slots,
				unsigned int n)
{
	struct tpz *z = t->priv;
	uint32_t room = pfzc_prod_nb_free(&z->s.ring, n);

	if (n > room)
		n = room;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t s = (z->s.ring.cached_prod + i) & z->s.ring.mask;

		slots[i].data = z->s.umem + (size_t)s * PFZC_FRAME_SIZE;
		slots[i].room = PFZC_FRAME_SIZE;
	}
	return n;
}

static int tpz_submit(struct zcap_tx *t, const struct zcap_tx_slot *slots,
		      unsigned int n)
{
	struct tpz *z = t->priv;
	uint32_t idx;

	/* reserve() saw room for these */
	if (pfzc_prod_reserve(&z->s.ring, n, &idx) != n) {
		zcap_tx_seterr(t, "%s: the PF_ZEROCOPY tx ring lost the room reserved "
			       "for %u frames", t->ifname, n);
		errno = EPROTO;
		return -1;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct pfzc_desc *d = pfzc_prod_desc(&z->s.ring, idx + i);
		uint32_t s = (idx + i) & z->s.ring.mask;

		memset(d, 0, sizeof(*d));
		d->addr = (uint64_t)s * PFZC_FRAME_SIZE;
		d->len = slots[i].len;
		z->lens[s] = (uint16_t)slots[i].len;
	}
	pfzc_prod_submit(&z->s.ring);
	return 0;
}

static unsigned int tpz_complete(struct zcap_tx *t)
{
	struct tpz *z = t->priv;
	uint32_t cons = pfzc_load_acquire(z->s.ring.consumer);
	uint32_t n = cons - z->cons;

	if (n > z->s.ring.cached_prod - z->cons)	/* garbage: trust nothing */
		return 0;
	for (uint32_t i = 0; i < n; i++)
		z->bytes += z->lens[(z->cons + i) & z->s.ring.mask];
	z->cons = cons;
	z->done += n;
	return n;
}

static enum zcap_tx_kick tpz_kick(struct zcap_tx *t)
{
	struct tpz *z = t->priv;

	if (pfzc_load_acquire(z->s.ring.consumer) == z->s.ring.cached_prod)
		return ZCAP_KICK_DONE;
	/* the kernel deals with up to one lap per kick, and this one
	 * thread did not refill the ring meanwhile: 0 means it took all */
	if (sendto(t->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) == 0)
		return ZCAP_KICK_DONE;
	switch (errno) {
	case EAGAIN:		/* the NIC had no room for some: as slots
				 * come back, kick again */
	case EINTR:
		return ZCAP_KICK_AGAIN;
	case ENETDOWN:
	case ENXIO:
		zcap_tx_seterr(t, "%s: interface is down", t->ifname);
		return ZCAP_KICK_ERROR;
	default:
		zcap_tx_seterr(t, "%s: tx kick: %s", t->ifname, strerror(errno));
		return ZCAP_KICK_ERROR;
	}
}

static uint64_t tpz_in_flight(struct zcap_tx *t)
{
	struct tpz *z = t->priv;

	return z->s.ring.cached_prod - z->cons;
}

static int tpz_stats(struct zcap_tx *t, struct zcap_tx_stats *st)
{
	struct tpz *z = t->priv;
	struct pfzc_stats ks;
	socklen_t len = sizeof(ks);

	if (getsockopt(t->fd, SOL_PFZC, PFZC_STATISTICS, &ks, &len)) {
		zcap_tx_seterr(t, "cannot read the module's tx counters: %s", strerror(errno));
		return -1;
	}
	st->completed = z->done;
	st->bytes = z->bytes;
	st->invalid = ks.tx_invalid;
	st->errors = ks.tx_errors;
	st->dma = ks.tx_dma;
	/* the module says which way this socket sends once it has */
	if (ks.tx_dma)
		t->mode = "zero-copy";
	return 0;
}

static void tpz_close(struct zcap_tx *t)
{
	struct tpz *z = t->priv;

	if (z) {
		pfzc_sock_close(&z->s);
		free(z->lens);
		free(z);
	}
	t->fd = -1;
	t->priv = NULL;
}

const struct zcap_tx_ops zcap_pfzc_tx_ops = {
	.open = tpz_open,
	.reserve = tpz_reserve,
	.submit = tpz_submit,
	.kick = tpz_kick,
	.complete = tpz_complete,
	.in_flight = tpz_in_flight,
	.stats = tpz_stats,
	.close = tpz_close,
};
