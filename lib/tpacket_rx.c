/* SPDX-License-Identifier: MIT */
/*
 * The TPACKET_V3 backend: AF_PACKET with a PACKET_RX_RING of blocks that the
 * kernel fills with many packets each and hands over whole.
 *
 * Ownership, per block: block_status == TP_STATUS_KERNEL means the kernel
 * owns it and may write; TP_STATUS_USER means it is ours, with num_pkts
 * packets, until we store TP_STATUS_KERNEL back. The kernel fills blocks in
 * ring order, so we walk them in the same order and never skip one.
 *
 *   kernel                              us
 *   write packets, num_pkts             status = load-acquire(block_status) (A)
 *   smp_wmb(); block_status = USER      if (status & USER) read packets
 *                                       store-release(block_status, KERNEL) (B)
 *   (A) matches the kernel's smp_wmb() before it publishes a block;
 *   (B) matches the kernel's read of block_status before it reuses a block.
 *
 * Blocks we walked to the end stay ours until zcap_release(), so packet
 * pointers handed out stay valid; the block being walked stays ours until
 * it too is walked to the end.
 *
 * The ring is shared memory that anything mapping the socket may write, so
 * every offset and length in it is read once (shared_u32) and bounded by
 * the block before it is used: a block whose first-packet offset lies
 * outside it is taken as empty, a packet whose data would leave the block
 * is handed out with caplen 0, and a next-packet offset that leaves the
 * block ends the walk of that block. A bad value costs packets, never a
 * read outside the ring.
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

#include "rx.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

struct tpacket {
	uint8_t *map;
	size_t map_len;
	uint32_t block_size;
	uint32_t block_nr;

	uint32_t next;		/* next block to open */
	uint32_t held;		/* blocks ours, counted back from next */
	uint32_t left;		/* packets still to hand out in block next-1 */
	struct tpacket3_hdr *pkt; /* next packet to hand out */
	const uint8_t *blk_end;	/* the end of block next-1 */

	/* After a filter change, blocks opened before this one (in ring
	 * order) may hold packets the old filter took: see tp_setfilter(). */
	uint32_t recheck_end;
	int recheck;

	/* With no socket filter (see tp_open) the kernel does not cut
	 * packets to the snap length: fill_pkt() does. */
	uint32_t snaplen;

	uint64_t tp_packets;	/* accepted by the filter (incl. ring full) */
	uint64_t tp_drops;
};

/* One read of a field the kernel (or another mapper) may change under us. */
#define shared_u32(f) __atomic_load_n(&(f), __ATOMIC_RELAXED)

/* A packet header and the sockaddr_ll after it, which fill_pkt() reads. */
#define TP_HDR_ROOM (TPACKET_ALIGN(sizeof(struct tpacket3_hdr)) + sizeof(struct sockaddr_ll))

static inline struct tpacket_block_desc *block(struct tpacket *t, uint32_t i)
{
	return (struct tpacket_block_desc *)(t->map + (size_t)i * t->block_size);
}

static int sockopt(struct zcap *h, int level, int name, const void *v,
		   socklen_t len, const char *what)
{
	if (setsockopt(h->fd, level, name, v, len) == 0)
		return 0;
	zcap_seterr(h, "%s: %s: %s", h->ifname, what, strerror(errno));
	return -1;
}

static uint32_t pick_block_size(const struct zcap_rx_cfg *c)
{
	uint32_t bs = c->block_bytes;

	/* A small ring still wants several blocks, or one slow block
	 * would stall the kernel for the whole ring. */
	while (bs > 4096 && (uint64_t)bs * 4 > c->ring_bytes)
		bs >>= 1;
	return bs;
}

static int setup_ring(struct zcap *h, struct tpacket *t)
{
	struct tpacket_req3 req;
	int ver = TPACKET_V3;

	if (sockopt(h, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver),
		    "TPACKET_V3"))
		return -1;

	t->block_size = pick_block_size(&h->cfg);
	if (h->cfg.ring_bytes / t->block_size > UINT32_MAX / 2) {
		errno = EINVAL;
		zcap_seterr(h, "ring of %llu bytes is too large",
			    (unsigned long long)h->cfg.ring_bytes);
		return -1;
	}
	t->block_nr = (uint32_t)(h->cfg.ring_bytes / t->block_size);

	memset(&req, 0, sizeof(req));
	req.tp_block_size = t->block_size;
	req.tp_block_nr = t->block_nr;
	/* V3 frames are variable-sized; tp_frame_size only has to divide
	 * the block, so take the smallest aligned size the kernel accepts. */
	req.tp_frame_size = 2048;
	req.tp_frame_nr = t->block_nr * (t->block_size / req.tp_frame_size);
	req.tp_retire_blk_tov = h->cfg.block_timeout_ms;
	if (sockopt(h, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req),
		    "cannot create a TPACKET_V3 ring"))
		return -1;

	t->map_len = (size_t)t->block_size * t->block_nr;
	t->map = mmap(NULL, t->map_len, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_POPULATE, h->fd, 0);
	if (t->map == MAP_FAILED) {
		t->map = NULL;
		zcap_seterr(h, "%s: mmap of %zu-byte ring: %s", h->ifname,
			    t->map_len, strerror(errno));
		return -1;
	}
	return 0;
}

static int tp_open(struct zcap *h)
{
	struct sockaddr_ll sll;
	struct tpacket *t;
	int one = 1;

	t = calloc(1, sizeof(*t));
	if (!t) {
		zcap_seterr(h, "out of memory");
		return -1;
	}
	h->priv = t;
	/* Protocol 0: nothing is queued to the socket before the filter and
	 * the ring exist; bind() below turns on ETH_P_ALL. */
	h->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (h->fd < 0) {
		if (errno == EPERM || errno == EACCES)
			zcap_seterr(h, "%s: no permission to capture "
				    "(needs root or CAP_NET_RAW)", h->ifname);
		else
			zcap_seterr(h, "socket(AF_PACKET): %s", strerror(errno));
		goto fail;
	}
	/* Without an expression, with "in" or both ways and the whole
	 * packet kept, the filter would take every packet whole: the kernel
	 * would only run it per packet on the receiving core, the sender's
	 * on veth (issue 15). "in" then rests on PACKET_IGNORE_OUTGOING
	 * alone, which the open fails without; packets longer than the
	 * snap length (BIG TCP) are cut in fill_pkt(). */
	t->snaplen = h->snaplen;
	if ((h->has_filter || h->cfg.direction == ZCAP_DIR_OUT ||
	     h->snaplen < ZCAP_SNAPLEN_MAX) &&
	    sockopt(h, SOL_SOCKET, SO_ATTACH_FILTER, &h->filters.kern,
		    sizeof(h->filters.kern), "cannot attach filter"))
		goto fail;
	/* With a filter its "inbound" term already decides; this spares the
	 * kernel cloning outgoing packets for a socket that rejects them. */
	if (h->cfg.direction == ZCAP_DIR_IN &&
	    sockopt(h, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one),
		    "PACKET_IGNORE_OUTGOING"))
		goto fail;
	if (setup_ring(h, t))
		goto fail;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = h->ifindex;
	if (bind(h->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		zcap_seterr(h, "%s: bind: %s", h->ifname, strerror(errno));
		goto fail;
	}
	/* After bind: the kernel joins only a running socket to a group.
	 * The hash is the kernel's symmetric flow hash, so both directions of
	 * a flow come to one member; DEFRAG reassembles IP fragments first,
	 * which carry no ports and would otherwise hash apart. */
	if (h->cfg.fanout >= 0) {
		int arg = (int)((uint32_t)h->cfg.fanout |
				((uint32_t)(PACKET_FANOUT_HASH |
					    PACKET_FANOUT_FLAG_DEFRAG) << 16));

		if (sockopt(h, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg),
			    "cannot join the fanout group (one of that id with "
			    "another mode or interface?)"))
			goto fail;
	}
	h->partial = 1;
	return 0;
fail:
	return -1;
}

/*
 * The packet at hdr, which has at least TP_HDR_ROOM bytes before end.
 * Returns the offset of the next packet from hdr, or 0 when there is none
 * inside the block.
 */
static inline __attribute__((always_inline)) uint32_t fill_pkt(struct zcap_pkt *p, const struct tpacket3_hdr *hdr,
			 const uint8_t *end, uint32_t snaplen)
{
	const struct sockaddr_ll *sll;
	size_t room = (size_t)(end - (const uint8_t *)hdr);
	uint32_t st = shared_u32(hdr->tp_status);
	uint32_t mac = shared_u32(hdr->tp_mac);
	uint32_t snap = shared_u32(hdr->tp_snaplen);
	uint32_t next = shared_u32(hdr->tp_next_offset);

	/* The headers are a chain with no fixed stride, which the hardware
	 * prefetcher does not follow, and on random sizes a new page comes
	 * every few packets: touching two pages ahead has its TLB entry
	 * and a line of it ready when the walk gets there (bench: own CPU
	 * per packet 226 -> 176 ns at random sizes, 69 -> 55 at 64 B, in
	 * zcap-count; prefetching just the next header changed nothing). */
	if (room > 8192)
		__builtin_prefetch((const uint8_t *)hdr + 8192);
	if (mac > room || snap > room - mac) {
		mac = 0;
		snap = 0;
	}
	p->data = (const uint8_t *)hdr + mac;
	p->caplen = snap < snaplen ? snap : snaplen;
	p->len = shared_u32(hdr->tp_len);
	p->ts_ns = (uint64_t)shared_u32(hdr->tp_sec) * 1000000000ull +
		   shared_u32(hdr->tp_nsec);
	p->flags = 0;
	p->vlan_tci = 0;
	p->vlan_tpid = 0;
	if (st & TP_STATUS_VLAN_VALID) {
		p->flags |= ZCAP_PKT_VLAN;
		p->vlan_tci = (uint16_t)shared_u32(hdr->hv1.tp_vlan_tci);
		p->vlan_tpid = st & TP_STATUS_VLAN_TPID_VALID ?
			       (uint16_t)shared_u32(hdr->hv1.tp_vlan_tpid) : ETH_P_8021Q;
	}
	sll = (const struct sockaddr_ll *)((const uint8_t *)hdr +
					   TPACKET_ALIGN(sizeof(*hdr)));
	if (__atomic_load_n(&sll->sll_pkttype, __ATOMIC_RELAXED) == PACKET_OUTGOING)
		p->flags |= ZCAP_PKT_OUTGOING;
	if (next < TP_HDR_ROOM || next > room || room - next < TP_HDR_ROOM)
		return 0;
	return next;
}

/* Opens block next, if the kernel has handed it over: 1, else 0. */
static int open_block(struct tpacket *t)
{
	struct tpacket_block_desc *b;
	uint32_t first;

	if (t->held == t->block_nr)
		return 0;	/* every block is ours: release first */
	b = block(t, t->next % t->block_nr);
	if (!(__atomic_load_n(&b->hdr.bh1.block_status,
			      __ATOMIC_ACQUIRE) & TP_STATUS_USER)) /* A */
		return 0;
	t->next++;
	t->held++;
	t->blk_end = (const uint8_t *)b + t->block_size;
	first = shared_u32(b->hdr.bh1.offset_to_first_pkt);
	t->left = shared_u32(b->hdr.bh1.num_pkts);
	if (first < sizeof(*b) || first > t->block_size ||
	    t->block_size - first < TP_HDR_ROOM)
		t->left = 0;	/* nothing in it we could read */
	t->pkt = (struct tpacket3_hdr *)((uint8_t *)b + first);
	return 1;
}

/* The next packet into *p: 1, or 0 when no block is ready for us. */
static inline __attribute__((always_inline)) int next_pkt(struct zcap *h, struct tpacket *t,
							  struct zcap_pkt *p)
{
	for (;;) {
		if (!t->left) {
			if (!open_block(t))
				return 0;
			continue;
		}
		uint32_t next = fill_pkt(p, t->pkt, t->blk_end, t->snaplen);

		t->pkt = (struct tpacket3_hdr *)((uint8_t *)t->pkt + next);
		t->left = next ? t->left - 1 : 0;
		if (t->recheck) {
			if ((int32_t)(t->next - 1 - t->recheck_end) >= 0)
				t->recheck = 0;
			else if (!zcap_rx_refilter(h, p))
				continue;
		}
		return 1;
	}
}

/* A call that walks past the end of a block notes, for zcap_release_n(),
 * that its packets so far can go back with that block: at 1518 bytes a
 * 1 MiB block is 2.6 calls of 256. */
static int tp_recv(struct zcap *h, struct zcap_pkt *pkts, unsigned int max)
{
	struct tpacket *t = h->priv;
	unsigned int n = 0, marked = 0;
	uint32_t blk = t->next;

	while (n < max && next_pkt(h, t, &pkts[n])) {
		n++;
		if (t->next != blk) {
			blk = t->next;
			/* all but the last came from blocks now walked */
			if (n - 1 > marked) {
				zcap_rx_hold(h, n - 1 - marked, blk - 1);
				marked = n - 1;
			}
		}
	}
	return (int)n;
}

static void tp_release(struct zcap *h);

/* Each packet is read just before fn gets it, so its header is next to
 * the end of the packet fn read last, in cache; a block goes back as soon
 * as its last packet was handed. */
static int tp_dispatch(struct zcap *h, unsigned int max, zcap_handler_t fn,
		       void *user)
{
	struct tpacket *t = h->priv;
	struct zcap_pkt p;
	unsigned int n = 0;

	while ((!max || n < max) && next_pkt(h, t, &p)) {
		zcap_rx_account(&h->st, &p);
		fn(user, &p);
		n++;
		if (!t->left)
			tp_release(h);
		if (h->break_req)
			break;
	}
	return (int)n;
}

/* The oldest n blocks we hold back to the kernel; never the one being
 * walked, which stays ours until it is walked to the end. */
static void give_back(struct tpacket *t, uint32_t n)
{
	uint32_t walked = t->held - (t->left ? 1 : 0);
	uint32_t first = t->next - t->held;

	if (n > walked)
		n = walked;
	for (uint32_t i = 0; i < n; i++)
		__atomic_store_n(&block(t, (first + i) % t->block_nr)->hdr.bh1.block_status,
				 TP_STATUS_KERNEL, __ATOMIC_RELEASE); /* B */
	t->held -= n;
}

static void tp_release(struct zcap *h)
{
	struct tpacket *t = h->priv;

	give_back(t, t->held);
}

/* A position is a block sequence number: every block before it was
 * walked to the end. */
static uint64_t tp_mark(struct zcap *h)
{
	struct tpacket *t = h->priv;

	return t->next - (t->left ? 1 : 0);
}

static void tp_release_to(struct zcap *h, uint64_t pos)
{
	struct tpacket *t = h->priv;
	int32_t n = (int32_t)((uint32_t)pos - (t->next - t->held));

	if (n > 0)
		give_back(t, (uint32_t)n);
}

/*
 * The kernel runs the new filter from the next packet on; what the old one
 * took sits in the blocks we have not walked yet, and in the block being
 * filled, which the kernel may have opened before the change and retires
 * later. At most every block of the ring, plus the one a packet in flight
 * might open, so those are checked again in user space.
 */
static int tp_setfilter(struct zcap *h)
{
	struct tpacket *t = h->priv;
	int ignore = h->cfg.direction == ZCAP_DIR_IN;

	/* Only "in" may have set it at open; a kernel without the option
	 * (before 4.20) just clones outgoing packets for nothing. */
	if (setsockopt(h->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &ignore,
		       sizeof(ignore)) && ignore)
		zcap_log(ZCAP_LOG_DEBUG, "%s: PACKET_IGNORE_OUTGOING: %s", h->ifname,
			 strerror(errno));
	if (sockopt(h, SOL_SOCKET, SO_ATTACH_FILTER, &h->filters.kern,
		    sizeof(h->filters.kern), "cannot attach the filter"))
		return -1;
	t->recheck_end = t->next + t->block_nr + 1;
	t->recheck = 1;
	return 0;
}

/* The kernel reports the socket readable while any block is ours. */
static int tp_holding(struct zcap *h)
{
	struct tpacket *t = h->priv;

	return t->held > 0;
}

static int tp_stats(struct zcap *h, struct zcap_stats *st)
{
	struct tpacket *t = h->priv;
	struct tpacket_stats_v3 ks;
	socklen_t len = sizeof(ks);
	uint64_t in_ring;

	/* The kernel zeroes its counters on every read: keep the sums. */
	if (getsockopt(h->fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len) < 0) {
		zcap_seterr(h, "PACKET_STATISTICS: %s", strerror(errno));
		return -1;
	}
	t->tp_packets += ks.tp_packets;
	t->tp_drops += ks.tp_drops;

	st->drop_ring_full = t->tp_drops;
	/* tp_packets counts ring-full drops too. What the ring accepted and
	 * we did not hand out is still in it. */
	in_ring = t->tp_packets - t->tp_drops;
	st->pending = in_ring > st->received ? in_ring - st->received : 0;
	return 0;
}

static void tp_close(struct zcap *h)
{
	struct tpacket *t = h->priv;

	if (t && t->map)
		munmap(t->map, t->map_len);
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	free(t);
	h->priv = NULL;
}

const struct zcap_rx_ops zcap_tpacket_rx_ops = {
	.open = tp_open,
	.recv = tp_recv,
	.dispatch = tp_dispatch,
	.release = tp_release,
	.mark = tp_mark,
	.release_to = tp_release_to,
	.holding = tp_holding,
	.stats = tp_stats,
	.setfilter = tp_setfilter,
	.close = tp_close,
};
