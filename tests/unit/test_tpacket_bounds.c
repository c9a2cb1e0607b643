/* SPDX-License-Identifier: MIT */
/*
 * The TPACKET_V3 reader against a ring whose offsets and lengths are
 * wrong, as another process mapping the socket (or a kernel bug) could
 * write them (issue 13, item 9): it must hand out only what lies inside
 * the block, and never read past it. The block sits right before a
 * PROT_NONE page, so a read outside it kills the test.
 *
 * The reader's functions are static: the backend's source is included.
 */
#include "../../lib/tpacket_rx.c"

#include <stdint.h>

#include "check.h"

#define BS 4096u	/* one block */

static uint8_t *blk;
static struct tpacket t;
static struct zcap h;

/* A fresh block of n packets of len bytes each, chained in order. */
static struct tpacket3_hdr *pkt_at(uint32_t off)
{
	return (struct tpacket3_hdr *)(blk + off);
}

static uint32_t build(uint32_t n, uint32_t len)
{
	struct tpacket_block_desc *b = (struct tpacket_block_desc *)blk;
	uint32_t off = TPACKET_ALIGN(sizeof(*b)), first = off;
	uint32_t mac = TPACKET_ALIGN(TP_HDR_ROOM);
	uint32_t step = TPACKET_ALIGN(mac + len);

	memset(blk, 0, BS);
	for (uint32_t i = 0; i < n; i++) {
		struct tpacket3_hdr *p = pkt_at(off);

		p->tp_mac = mac;
		p->tp_snaplen = len;
		p->tp_len = len;
		p->tp_next_offset = i + 1 < n ? step : 0;
		memset((uint8_t *)p + mac, (int)(0xa0 + i), len);
		off += step;
	}
	b->hdr.bh1.num_pkts = n;
	b->hdr.bh1.offset_to_first_pkt = first;
	b->hdr.bh1.block_status = TP_STATUS_USER;
	return first;
}

/* The reader at the start of the ring, with the block ours to read. */
static uint32_t snaplen = ZCAP_SNAPLEN_MAX;

static int recv_all(struct zcap_pkt *p, unsigned int max)
{
	memset(&t, 0, sizeof(t));
	t.snaplen = snaplen;
	t.map = blk;
	t.block_size = BS;
	t.block_nr = 1;
	h.priv = &t;
	return tp_recv(&h, p, max);
}

static int inside(const struct zcap_pkt *p)
{
	return p->data >= blk && p->caplen <= BS &&
	       p->data + p->caplen <= blk + BS;
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *m = mmap(NULL, BS + (size_t)pg, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct zcap_pkt p[64];
	uint32_t first;
	int n;

	if (m == MAP_FAILED || mprotect(m + BS, (size_t)pg, PROT_NONE)) {
		perror("mmap");
		return 1;
	}
	blk = m;

	build(3, 100);
	n = recv_all(p, 64);
	CHECK(n == 3 && p[0].caplen == 100 && p[2].data[0] == 0xa2 && inside(&p[2]),
	      "a good block: 3 packets of 100 bytes, in order (got %d)", n);

	/* with no socket filter the kernel hands packets whole (BIG TCP's
	 * may pass the snap length): the reader cuts them */
	build(3, 100);
	snaplen = 40;
	n = recv_all(p, 64);
	snaplen = ZCAP_SNAPLEN_MAX;
	CHECK(n == 3 && p[0].caplen == 40 && p[0].len == 100 && p[2].caplen == 40,
	      "packets longer than the snap length: caplen cut to it, len kept (got %d, caplen %u)",
	      n, n > 0 ? p[0].caplen : 0);

	build(3, 100);
	((struct tpacket_block_desc *)blk)->hdr.bh1.offset_to_first_pkt = 1u << 30;
	n = recv_all(p, 64);
	CHECK(n == 0, "first-packet offset past the block: the block is taken as empty (got %d)", n);

	build(3, 100);
	((struct tpacket_block_desc *)blk)->hdr.bh1.offset_to_first_pkt = BS - 8;
	n = recv_all(p, 64);
	CHECK(n == 0, "first packet's header would cross the block's end: empty (got %d)", n);

	first = build(3, 100);
	pkt_at(first)->tp_snaplen = 0x7fffffff;
	n = recv_all(p, 64);
	CHECK(n == 3 && p[0].caplen == 0 && inside(&p[0]) && p[1].caplen == 100,
	      "snap length past the block: that packet has caplen 0, the next are whole (got %d, caplen %u)",
	      n, n > 0 ? p[0].caplen : 0);

	first = build(3, 100);
	pkt_at(first)->tp_mac = 0xfff0;
	n = recv_all(p, 64);
	CHECK(n == 3 && p[0].caplen == 0 && inside(&p[0]),
	      "data offset past the block: caplen 0 (got %d)", n);

	first = build(3, 100);
	pkt_at(first)->tp_next_offset = 0x80000000u;
	n = recv_all(p, 64);
	CHECK(n == 1 && p[0].caplen == 100,
	      "next-packet offset past the block: the walk of the block ends there (got %d)", n);

	first = build(3, 100);
	pkt_at(first)->tp_next_offset = 4;
	n = recv_all(p, 64);
	CHECK(n == 1, "next-packet offset inside the header itself: the walk ends (got %d)", n);

	build(20, 60);
	((struct tpacket_block_desc *)blk)->hdr.bh1.num_pkts = 1000000;
	n = recv_all(p, 64);
	CHECK(n == 20, "a packet count past the chain: the chain's end ends the walk (got %d)", n);
	for (int i = 0; i < n; i++)
		if (!inside(&p[i])) {
			CHECK(0, "packet %d outside the block", i);
			break;
		}

	return check_done();
}
