/* SPDX-License-Identifier: MIT */
/*
 * The pfzc backend: a PF_ZEROCOPY socket from the pf_zerocopy module.
 *
 * We allocate the frame buffer (the umem), the kernel pins it and copies
 * each packet once into the frame of the next WRITABLE rx slot; we read
 * the packet in place and hand slots back by moving the consumer index.
 * The ring protocol and its barriers are in include/uapi/pf_zerocopy.h;
 * this file only follows it.
 *
 * Ownership: slots from the last pfzc_cons_release() up to the ring's
 * cached consumer index were handed out by zcap_recv() and are the
 * application's until zcap_release(); their frames are not rewritten.
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

#include "backend.h"
#include "uapi/pf_zerocopy.h"

#define PFZC_FAMILY_PARAM "/sys/module/pf_zerocopy/parameters/family"

struct pfzc {
	struct pfzc_ring rx;
	void *ring_map;
	size_t ring_len;
	uint8_t *umem;
	size_t umem_len;
	uint32_t frame_size;
	int promisc_fd;		/* holds PACKET_MR_PROMISC while open */
};

/* The family is a module parameter: ask the module, not a constant. */
static int pfzc_family(struct zcap *h)
{
	FILE *f = fopen(PFZC_FAMILY_PARAM, "re");
	int fam = -1;

	if (!f) {
		errno = EAFNOSUPPORT;
		zcap_seterr(h, "the pf_zerocopy module is not loaded");
		return -1;
	}
	if (fscanf(f, "%d", &fam) != 1 || fam <= 0) {
		errno = EAFNOSUPPORT;
		zcap_seterr(h, "cannot read %s", PFZC_FAMILY_PARAM);
		fam = -1;
	}
	fclose(f);
	return fam;
}

static int pfzc_opt(struct zcap *h, int name, const void *v, socklen_t len,
		    const char *what)
{
	if (setsockopt(h->fd, SOL_PFZC, name, v, len) == 0)
		return 0;
	zcap_seterr(h, "%s: PF_ZEROCOPY %s: %s", h->ifname, what, strerror(errno));
	return -1;
}

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

/* Promiscuous mode through a packet socket membership, which the kernel
 * drops by itself when the socket closes, even if we crash. */
static int set_promisc(struct zcap *h, struct pfzc *z)
{
	struct packet_mreq mr = {
		.mr_ifindex = h->ifindex,
		.mr_type = PACKET_MR_PROMISC,
	};

	z->promisc_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (z->promisc_fd < 0 ||
	    setsockopt(z->promisc_fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
		       sizeof(mr))) {
		zcap_seterr(h, "%s: promiscuous mode: %s", h->ifname,
			    strerror(errno));
		return -1;
	}
	return 0;
}

static int setup(struct zcap *h, struct pfzc *z)
{
	struct pfzc_umem_reg reg;
	struct sockaddr_pfzc sa;
	uint32_t entries, ver = 0;
	socklen_t len = sizeof(ver);

	if (getsockopt(h->fd, SOL_PFZC, PFZC_VERSION, &ver, &len) ||
	    ver != PFZC_ABI_VERSION) {
		errno = EPROTO;
		zcap_seterr(h, "pf_zerocopy module speaks ABI %u, libzcap %u",
			    ver, PFZC_ABI_VERSION);
		return -1;
	}
	z->frame_size = pick_frame_size(h);
	entries = pick_entries(h->cfg.ring_bytes, z->frame_size);
	z->umem_len = (size_t)entries * z->frame_size;
	z->umem = mmap(NULL, z->umem_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (z->umem == MAP_FAILED) {
		z->umem = NULL;
		zcap_seterr(h, "cannot allocate a %zu-byte frame buffer: %s",
			    z->umem_len, strerror(errno));
		return -1;
	}
	reg = (struct pfzc_umem_reg){
		.addr = (uintptr_t)z->umem,
		.len = z->umem_len,
		.frame_size = z->frame_size,
	};
	if (pfzc_opt(h, PFZC_UMEM_REG, &reg, sizeof(reg), "register buffer") ||
	    setsockopt(h->fd, SOL_SOCKET, SO_ATTACH_FILTER, &h->filter,
		       sizeof(h->filter)) ||
	    pfzc_opt(h, PFZC_RX_RING, &entries, sizeof(entries), "rx ring"))
		return -1;

	z->ring_len = (pfzc_ring_map_size(entries) + 4095) & ~(size_t)4095;
	z->ring_map = mmap(NULL, z->ring_len, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_POPULATE, h->fd, PFZC_PGOFF_RX_RING);
	if (z->ring_map == MAP_FAILED) {
		z->ring_map = NULL;
		zcap_seterr(h, "%s: mmap of the rx ring: %s", h->ifname,
			    strerror(errno));
		return -1;
	}
	if (pfzc_ring_init(&z->rx, z->ring_map, entries)) {
		errno = EPROTO;
		zcap_seterr(h, "%s: the rx ring is not the one asked for", h->ifname);
		return -1;
	}
	if (h->cfg.promisc && set_promisc(h, z))
		return -1;

	memset(&sa, 0, sizeof(sa));
	sa.spz_family = (uint16_t)h->family;
	sa.spz_ifindex = (uint32_t)h->ifindex;
	if (bind(h->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (errno == EBUSY)	/* a driver's direct receiver: one per device */
			zcap_seterr(h, "%s: another PF_ZEROCOPY socket already receives directly from this device",
				    h->ifname);
		else
			zcap_seterr(h, "%s: bind: %s", h->ifname, strerror(errno));
		return -1;
	}
	return 0;
}

static int pz_open(struct zcap *h)
{
	struct pfzc *z;
	int saved;

	z = calloc(1, sizeof(*z));
	if (!z) {
		zcap_seterr(h, "out of memory");
		return -1;
	}
	z->promisc_fd = -1;
	h->priv = z;
	h->family = pfzc_family(h);
	if (h->family < 0)
		goto fail;
	h->fd = socket(h->family, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (h->fd < 0) {
		if (errno == EPERM || errno == EACCES)
			zcap_seterr(h, "%s: no permission to capture "
				    "(needs root or CAP_NET_RAW)", h->ifname);
		else
			zcap_seterr(h, "socket(PF_ZEROCOPY %d): %s", h->family,
				    strerror(errno));
		goto fail;
	}
	if (setup(h, z))
		goto fail;
	h->counts_filtered = 1;
	return 0;
fail:
	saved = errno;
	h->ops->close(h);
	errno = saved;
	return -1;
}

static int pz_recv(struct zcap *h, struct zcap_pkt *pkts, unsigned int max)
{
	struct pfzc *z = h->priv;
	uint32_t idx, n;

	n = pfzc_cons_peek(&z->rx, max, &idx);
	for (uint32_t i = 0; i < n; i++) {
		const struct pfzc_desc *d = pfzc_cons_desc(&z->rx, idx + i);
		uint64_t addr = d->addr;
		uint32_t len = d->len;
		struct zcap_pkt *p = &pkts[i];

		/* The kernel validated it; a bad one here means a bug, and
		 * must not turn into a read outside the buffer. */
		if (addr >= z->umem_len || len > z->frame_size -
		    (addr & (z->frame_size - 1)))
			len = 0;
		p->data = z->umem + (addr < z->umem_len ? addr : 0);
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
	}
	return (int)n;
}

static void pz_release(struct zcap *h)
{
	struct pfzc *z = h->priv;

	pfzc_cons_release(&z->rx);
}

/* The module reports POLLIN while the shared consumer index lags the
 * producer, which is the case while we hold peeked slots. */
static int pz_holding(struct zcap *h)
{
	struct pfzc *z = h->priv;

	return z->rx.cached_cons != *z->rx.consumer;
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

	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	if (z) {
		if (z->ring_map)
			munmap(z->ring_map, z->ring_len);
		if (z->umem)
			munmap(z->umem, z->umem_len);
		if (z->promisc_fd >= 0)
			close(z->promisc_fd);
		free(z);
	}
	h->priv = NULL;
}

const struct zcap_backend_ops zcap_pfzc_ops = {
	.name = "pfzc",
	.id = ZCAP_BACKEND_PFZC,
	.open = pz_open,
	.recv = pz_recv,
	.release = pz_release,
	.holding = pz_holding,
	.stats = pz_stats,
	.close = pz_close,
};
