/* SPDX-License-Identifier: MIT */
/*
 * The PF_ZEROCOPY tx backend: the pf_zerocopy module's tx ring
 * (include/uapi/pf_zerocopy.h). Frames are written in place in a
 * registered buffer, tx slot i always naming frame i; one empty sendto()
 * hands a batch over. The module copies each frame once (into an skb, or
 * straight into the peer's ring on its virtual pair), validates it first,
 * and moves the ring's consumer past every slot it has dealt with before
 * the kick returns: a slot behind the consumer is completed and its frame
 * free again.
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

#include "tx.h"
#include "uapi/pf_zerocopy.h"

#define TPZ_FAMILY_PARAM "/sys/module/pf_zerocopy/parameters/family"

struct tpz {
	uint8_t *umem;
	size_t umem_len;
	void *map;
	size_t map_len;
	struct pfzc_ring tx;
	uint32_t cons;		/* consumer as last seen: completed up to here */
	uint16_t *lens;		/* by slot */
	uint64_t done;
	uint64_t bytes;
};

static int tpz_family(struct zcap_tx *t)
{
	FILE *f = fopen(TPZ_FAMILY_PARAM, "re");
	int fam = -1;

	if (!f) {
		errno = EAFNOSUPPORT;
		zcap_tx_seterr(t, "the pf_zerocopy module is not loaded");
		return -1;
	}
	if (fscanf(f, "%d", &fam) != 1 || fam <= 0) {
		errno = EAFNOSUPPORT;
		zcap_tx_seterr(t, "cannot read %s", TPZ_FAMILY_PARAM);
		fam = -1;
	}
	fclose(f);
	return fam;
}

static int tpz_open(struct zcap_tx *t, uint32_t *room)
{
	struct pfzc_umem_reg reg = { 0 };
	struct sockaddr_pfzc sa = { 0 };
	long page = sysconf(_SC_PAGESIZE);
	uint32_t entries = t->frames;
	struct tpz *z;
	int fam;

	if (!pfzc_ring_entries_valid(entries)) {
		zcap_tx_seterr(t, "%u frames: the module takes %u..%u", entries,
			       PFZC_RING_MIN, PFZC_RING_MAX);
		errno = EINVAL;
		return -1;
	}
	fam = tpz_family(t);
	if (fam < 0)
		return -1;
	z = calloc(1, sizeof(*z));
	if (!z || !(z->lens = calloc(entries, sizeof(*z->lens)))) {
		free(z);
		zcap_tx_seterr(t, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	t->priv = z;
	t->fd = socket(fam, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (t->fd < 0) {
		zcap_tx_seterr(t, "cannot open PF_ZEROCOPY socket (family %d): %s%s", fam,
			       strerror(errno),
			       errno == EPERM ? " (needs root or CAP_NET_RAW)" : "");
		return -1;
	}

	z->umem_len = (size_t)entries * PFZC_FRAME_SIZE;
	z->umem = mmap(NULL, z->umem_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (z->umem == MAP_FAILED) {
		z->umem = NULL;
		zcap_tx_seterr(t, "cannot allocate %zu bytes of frames: %s", z->umem_len,
			       strerror(errno));
		return -1;
	}
	reg.addr = (uintptr_t)z->umem;
	reg.len = z->umem_len;
	reg.frame_size = PFZC_FRAME_SIZE;
	if (setsockopt(t->fd, SOL_PFZC, PFZC_UMEM_REG, &reg, sizeof(reg))) {
		zcap_tx_seterr(t, "%s: cannot register %zu bytes of frames: %s%s", t->ifname,
			       z->umem_len, strerror(errno),
			       errno == ENOBUFS ? " (RLIMIT_MEMLOCK)" : "");
		return -1;
	}
	if (setsockopt(t->fd, SOL_PFZC, PFZC_TX_RING, &entries, sizeof(entries))) {
		zcap_tx_seterr(t, "%s: cannot create the tx ring: %s", t->ifname,
			       strerror(errno));
		return -1;
	}
	z->map_len = (pfzc_ring_map_size(entries) + (size_t)page - 1) & ~((size_t)page - 1);
	z->map = mmap(NULL, z->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd,
		      (off_t)(PFZC_PGOFF_TX_RING * (uint64_t)page));
	if (z->map == MAP_FAILED) {
		z->map = NULL;
		zcap_tx_seterr(t, "%s: cannot map the tx ring: %s", t->ifname, strerror(errno));
		return -1;
	}
	if (pfzc_ring_init(&z->tx, z->map, entries)) {
		zcap_tx_seterr(t, "%s: the tx ring is not the one asked for", t->ifname);
		errno = EPROTO;
		return -1;
	}
	z->cons = z->tx.cached_cons;
	sa.spz_family = (uint16_t)fam;
	sa.spz_ifindex = (uint32_t)t->ifindex;
	if (bind(t->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		zcap_tx_seterr(t, "%s: bind: %s", t->ifname, strerror(errno));
		return -1;
	}
	*room = PFZC_FRAME_SIZE;
	return 0;
}

static unsigned int tpz_reserve(struct zcap_tx *t, struct zcap_tx_slot *slots,
				unsigned int n)
{
	struct tpz *z = t->priv;
	uint32_t room = pfzc_prod_nb_free(&z->tx, n);

	if (n > room)
		n = room;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t s = (z->tx.cached_prod + i) & z->tx.mask;

		slots[i].data = z->umem + (size_t)s * PFZC_FRAME_SIZE;
		slots[i].room = PFZC_FRAME_SIZE;
	}
	return n;
}

static void tpz_submit(struct zcap_tx *t, const struct zcap_tx_slot *slots,
		       unsigned int n)
{
	struct tpz *z = t->priv;
	uint32_t idx;

	/* reserve() saw room for these */
	if (pfzc_prod_reserve(&z->tx, n, &idx) != n)
		abort();
	for (unsigned int i = 0; i < n; i++) {
		struct pfzc_desc *d = pfzc_prod_desc(&z->tx, idx + i);
		uint32_t s = (idx + i) & z->tx.mask;

		memset(d, 0, sizeof(*d));
		d->addr = (uint64_t)s * PFZC_FRAME_SIZE;
		d->len = slots[i].len;
		z->lens[s] = (uint16_t)slots[i].len;
	}
	pfzc_prod_submit(&z->tx);
}

static unsigned int tpz_complete(struct zcap_tx *t)
{
	struct tpz *z = t->priv;
	uint32_t cons = pfzc_load_acquire(z->tx.consumer);
	uint32_t n = cons - z->cons;

	if (n > z->tx.cached_prod - z->cons)	/* garbage: trust nothing */
		return 0;
	for (uint32_t i = 0; i < n; i++)
		z->bytes += z->lens[(z->cons + i) & z->tx.mask];
	z->cons = cons;
	z->done += n;
	return n;
}

static enum zcap_tx_kick tpz_kick(struct zcap_tx *t)
{
	struct tpz *z = t->priv;

	if (pfzc_load_acquire(z->tx.consumer) == z->tx.cached_prod)
		return ZCAP_KICK_DONE;
	if (sendto(t->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) == 0) {
		/* one lap per kick: a full ring filled again meanwhile is
		 * not possible here (one thread), so this is everything */
		return pfzc_load_acquire(z->tx.consumer) == z->tx.cached_prod ?
		       ZCAP_KICK_DONE : ZCAP_KICK_AGAIN;
	}
	switch (errno) {
	case EAGAIN:
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

	return z->tx.cached_prod - z->cons;
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
	return 0;
}

static void tpz_close(struct zcap_tx *t)
{
	struct tpz *z = t->priv;

	if (z) {
		if (z->map)
			munmap(z->map, z->map_len);
		free(z->lens);
	}
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	/* after close: the module unpins the frames when the socket goes */
	if (z && z->umem)
		munmap(z->umem, z->umem_len);
	free(z);
	t->priv = NULL;
}

const struct zcap_tx_ops zcap_tx_pfzc_ops = {
	.name = "pfzc",
	.id = ZCAP_BACKEND_PFZC,
	.open = tpz_open,
	.reserve = tpz_reserve,
	.submit = tpz_submit,
	.kick = tpz_kick,
	.complete = tpz_complete,
	.in_flight = tpz_in_flight,
	.stats = tpz_stats,
	.close = tpz_close,
};
