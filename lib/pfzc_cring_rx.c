/* SPDX-License-Identifier: MIT */
/*
 * The pfzc backend's capture side on a NIC with a contiguous ring (the
 * RTL8139 under the patched 8139too): no frames of ours and no
 * descriptors, the NIC's own receive buffer mapped read-only, each packet
 * read where the NIC wrote it (include/uapi/pf_zerocopy.h, "Contiguous
 * ring"). pfzc_rx.c tries this first and falls back to its descriptor
 * ring where the device has none.
 *
 * Ownership: records from the shared consumer up to cached_cons were
 * handed out by zcap_recv() and are the application's until zcap_release()
 * (or zcap_release_n() gives back the oldest of them); the NIC writes
 * into none of them before the consumer moves past them.
 *
 * The kernel checked every record before it published it; each is checked
 * again here, on values loaded once, so that a bug there cannot become a
 * read outside the mapping. The NIC stamps no time: a batch gets the time
 * it was read. Nor does the socket run a filter on these: every record is
 * checked against the user's in user space (zcap_rx_refilter).
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "pfzc_common.h"
#include "rx.h"

struct cring {
	struct pfzc_sock s;		/* the socket; no umem, no ring */
	struct pfzc_cring_shared *ctl;	/* shared with the kernel */
	const uint8_t *data;		/* the NIC's buffer, read-only */
	size_t data_map;
	uint32_t size, data_len, mask;
	uint32_t cached_cons;		/* after the last record handed out */
	uint32_t frozen_prod;		/* with frozen: nothing past it */
	int frozen;
};

static int cr_fail(struct zcap *h, int err, const char *what)
{
	zcap_seterr(h, "%s: %s: %s", h->ifname, what, strerror(err));
	errno = err;
	return -1;
}

/* Every record read: why the NIC writes no more (the uapi's errnos). */
static int cr_ended(struct zcap *h)
{
	int e = 0;
	socklen_t len = sizeof(e);

	getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &e, &len);
	switch (e) {
	case ENETRESET:
		return cr_fail(h, e, "the NIC's receive side was reset: its ring ended");
	case EIO:
		return cr_fail(h, e, "the NIC wrote a record that fails the checks: its ring ended");
	default:
		return cr_fail(h, ENETDOWN, "interface went down: the NIC's ring ended");
	}
}

/*
 * 0: opened, h->ops are this file's; 1: the device has no contiguous ring
 * (or the module none, or we may not divert the NIC's traffic), h->priv is
 * left for the descriptor mode; -1: an error no other mode avoids.
 */
static int cr_setup(struct zcap *h, struct cring *c)
{
	uint32_t zero = 0;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (setsockopt(c->s.fd, SOL_PFZC, PFZC_CRING, &zero, sizeof(zero)))
		return errno == ENOPROTOOPT || errno == EINVAL ? 1 :
		       cr_fail(h, errno, "contiguous ring");
	/* its message stays in h->err when it is an error after all */
	if (pfzc_sock_bind(&c->s, h->ifname, h->ifindex, h->err))
		return errno == EOPNOTSUPP || errno == EPERM ? 1 : -1;
	c->ctl = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		      c->s.fd, (off_t)(PFZC_PGOFF_CRING * page));
	if (c->ctl == MAP_FAILED) {
		c->ctl = NULL;
		return cr_fail(h, errno, "cannot map the contiguous ring's indices");
	}
	c->size = c->ctl->size;
	c->data_len = c->ctl->data_len;
	if (c->ctl->abi_version != PFZC_ABI_VERSION ||
	    !pfzc_cring_size_valid(c->size, c->data_len))
		return cr_fail(h, EPROTO, "the contiguous ring is not one we know");
	c->mask = c->size - 1;
	c->data_map = (c->data_len + page - 1) & ~(page - 1);
	c->data = mmap(NULL, c->data_map, PROT_READ, MAP_SHARED | MAP_POPULATE,
		       c->s.fd, (off_t)(PFZC_PGOFF_CRING_DATA * page));
	if (c->data == MAP_FAILED) {
		c->data = NULL;
		return cr_fail(h, errno, "cannot map the NIC's receive buffer");
	}
	c->cached_cons = __atomic_load_n(&c->ctl->consumer, __ATOMIC_RELAXED);
	return 0;
}

static void cr_free(struct cring *c)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (c->data)
		munmap((void *)c->data, c->data_map);
	if (c->ctl)
		munmap(c->ctl, page);
	pfzc_sock_close(&c->s);
	free(c);
}

static int cr_recv(struct zcap *h, struct zcap_pkt *pkts, unsigned int max)
{
	struct cring *c = h->priv;
	uint32_t pos = c->cached_cons, prod;
	unsigned int got = 0;
	struct timespec ts;
	uint64_t ts_ns;
	/* records are all incoming: with no filter, none to run */
	int refilter = h->has_filter || h->cfg.direction != ZCAP_DIR_INOUT;

	prod = __atomic_load_n(&c->ctl->producer, __ATOMIC_ACQUIRE);	/* C, matches B */
	if (prod == pos &&
	    __atomic_load_n(&c->ctl->flags, __ATOMIC_ACQUIRE) & PFZC_CRING_ENDED) {
		/* the kernel published its last records before it said so */
		prod = __atomic_load_n(&c->ctl->producer, __ATOMIC_ACQUIRE);
		if (prod == pos)
			return cr_ended(h);
	}
	if (prod - pos >= c->size)	/* garbage, or nothing new */
		prod = pos;
	if (c->frozen && prod - pos > c->frozen_prod - pos)
		prod = c->frozen_prod;
	if (pos == prod)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;

	while (got < max && pos != prod) {
		uint32_t off = pos & c->mask;
		uint32_t hdr, step, len;
		struct zcap_pkt *p = &pkts[got];

		memcpy(&hdr, c->data + off, sizeof(hdr));
		hdr = le32toh(hdr);
		step = pfzc_cring_validate_rec(hdr, off, c->data_len);
		if (!step || step > prod - pos)
			return cr_fail(h, EPROTO, "bad record in the contiguous ring");
		len = (hdr >> 16) - 4;	/* without the FCS */
		pos += step;
		p->data = c->data + off + 4;
		p->len = len;
		p->caplen = len < h->snaplen ? len : h->snaplen;
		p->ts_ns = ts_ns;
		p->flags = 0;
		p->vlan_tci = 0;
		p->vlan_tpid = 0;
		if (refilter && !zcap_rx_refilter(h, p))
			continue;	/* released with the others */
		got++;
	}
	c->cached_cons = pos;
	return (int)got;
}

static void cr_release(struct zcap *h)
{
	struct cring *c = h->priv;

	__atomic_store_n(&c->ctl->consumer, c->cached_cons, __ATOMIC_RELEASE);	/* D, matches A */
}

/* A position is a byte position of the ring: after the last record read. */
static uint64_t cr_mark(struct zcap *h)
{
	struct cring *c = h->priv;

	return c->cached_cons;
}

static void cr_release_to(struct zcap *h, uint64_t pos)
{
	struct cring *c = h->priv;
	uint32_t cons = __atomic_load_n(&c->ctl->consumer, __ATOMIC_RELAXED);

	if ((uint32_t)pos - cons > c->cached_cons - cons)
		return;
	__atomic_store_n(&c->ctl->consumer, (uint32_t)pos, __ATOMIC_RELEASE);	/* D */
}

static int cr_holding(struct zcap *h)
{
	struct cring *c = h->priv;

	return c->cached_cons != __atomic_load_n(&c->ctl->consumer, __ATOMIC_RELAXED);
}

/* The NIC counts what it misses (drop_if); the kernel drops nothing. */
static int cr_stats(struct zcap *h, struct zcap_stats *st)
{
	struct pfzc_stats ks;
	socklen_t len = sizeof(ks);

	if (getsockopt(h->fd, SOL_PFZC, PFZC_STATISTICS, &ks, &len))
		return cr_fail(h, errno, "PF_ZEROCOPY statistics");
	st->pending = ks.rx_packets > st->received ? ks.rx_packets - st->received : 0;
	return 0;
}

static int cr_freeze(struct zcap *h)
{
	struct cring *c = h->priv;

	c->frozen_prod = __atomic_load_n(&c->ctl->producer, __ATOMIC_ACQUIRE);
	c->frozen = 1;
	return 0;
}

/* The user's filter is run on every record here: nothing to put in force. */
static int cr_setfilter(struct zcap *h)
{
	(void)h;
	return 0;
}

static void cr_close(struct zcap *h)
{
	if (h->priv)
		cr_free(h->priv);
	h->fd = -1;
	h->priv = NULL;
}

static const struct zcap_rx_ops cring_rx_ops = {
	.recv = cr_recv,
	.release = cr_release,
	.mark = cr_mark,
	.release_to = cr_release_to,
	.holding = cr_holding,
	.stats = cr_stats,
	.freeze = cr_freeze,
	.setfilter = cr_setfilter,
	.close = cr_close,
};

int zcap_pfzc_cring_open(struct zcap *h)
{
	struct cring *c = calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		zcap_seterr(h, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	c->s.fd = -1;
	if (pfzc_sock_open(&c->s, h->ifname, h->err)) {
		free(c);
		return -1;
	}
	rc = cr_setup(h, c);
	if (rc) {
		cr_free(c);
		return rc;
	}
	h->priv = c;
	h->fd = c->s.fd;
	h->family = c->s.family;
	h->ops = &cring_rx_ops;
	h->counts_filtered = 1;
	h->partial = 1;
	zcap_log(ZCAP_LOG_INFO, "%s: the NIC's own receive buffer (%u bytes), read in place",
		 h->ifname, c->size);
	return 0;
}
