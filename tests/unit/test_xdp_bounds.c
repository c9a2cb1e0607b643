/* SPDX-License-Identifier: MIT */
/*
 * The AF_XDP reader against rx descriptors that name memory outside the
 * umem, lengths past their frame, and more descriptors than frames were
 * given to the kernel, as a ring written over could hold (issue 13, item
 * 9): every packet handed out lies inside the frame area, and the array of
 * held frames is never overrun. The area and that array each end right
 * before a PROT_NONE page, so a stray access kills the test.
 *
 * The reader's functions are static: the backend's source is included.
 */
#include "../../lib/xdp_rx.c"

#include "check.h"

#define NFRAMES 4u
#define RING 8u

static uint8_t *area;
static uint64_t *held_addrs;
static struct xdp_desc descs[RING];
static uint32_t prod, cons;
static struct xq q;
static struct xdp x;
static struct zcap h;

/* A page-guarded allocation: len bytes ending right at a PROT_NONE page. */
static void *guarded(size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = (len + pg - 1) / pg * pg;
	uint8_t *m = mmap(NULL, span + pg, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED || mprotect(m + span, pg, PROT_NONE))
		return NULL;
	return m + span - len;
}

/* The queue with n descriptors waiting and nothing held. */
static void reset(uint32_t n)
{
	memset(&q, 0, sizeof(q));
	q.nframes = NFRAMES;
	q.addrs = held_addrs;
	q.p.area = area;
	q.p.area_len = (size_t)NFRAMES * XDP_FRAME_SIZE;
	q.p.rx.mask = RING - 1;
	q.p.rx.size = RING;
	q.p.rx.producer = &prod;
	q.p.rx.consumer = &cons;
	q.p.rx.ring = descs;
	prod = n;
	cons = 0;
	memset(&x, 0, sizeof(x));
	x.q = &q;
	x.nq = 1;
	x.epfd = -1;
	h.priv = &x;
}

static int inside(const struct zcap_pkt *p)
{
	return p->data >= area && p->caplen <= NFRAMES * XDP_FRAME_SIZE &&
	       p->data + p->caplen <= area + NFRAMES * XDP_FRAME_SIZE;
}

int main(void)
{
	struct zcap_pkt p[RING];
	int n;

	area = guarded((size_t)NFRAMES * XDP_FRAME_SIZE);
	held_addrs = guarded(NFRAMES * sizeof(*held_addrs));
	if (!area || !held_addrs) {
		perror("mmap");
		return 1;
	}
	for (uint32_t i = 0; i < NFRAMES; i++)
		memset(area + i * XDP_FRAME_SIZE + 256, (int)(0xb0 + i), 100);

	reset(2);
	descs[0] = (struct xdp_desc){ .addr = 0 * XDP_FRAME_SIZE + 256, .len = 100 };
	descs[1] = (struct xdp_desc){ .addr = 3 * XDP_FRAME_SIZE + 256, .len = 100 };
	n = xdp_recv(&h, p, RING);
	CHECK(n == 2 && p[1].caplen == 100 && p[1].data[0] == 0xb3 && q.addrs[1] == 3 * XDP_FRAME_SIZE,
	      "good descriptors: 2 packets in place, frames held by their base (got %d)", n);

	reset(1);
	descs[0] = (struct xdp_desc){ .addr = 1ull << 40, .len = 100 };
	n = xdp_recv(&h, p, RING);
	CHECK(n == 1 && p[0].caplen == 0 && inside(&p[0]) && q.addrs[0] < NFRAMES * XDP_FRAME_SIZE,
	      "address past the umem: caplen 0, inside the area (got %d)", n);

	reset(1);
	descs[0] = (struct xdp_desc){ .addr = 3 * XDP_FRAME_SIZE + 256, .len = 4000 };
	n = xdp_recv(&h, p, RING);
	CHECK(n == 1 && p[0].caplen == 0 && p[0].len == 0 && inside(&p[0]),
	      "length past its frame (the last one): caplen 0 (got %d)", n);

	reset(1);
	descs[0] = (struct xdp_desc){ .addr = ((uint64_t)64 << XSK_UNALIGNED_BUF_OFFSET_SHIFT) |
						(2 * XDP_FRAME_SIZE + 192), .len = 100 };
	n = xdp_recv(&h, p, RING);
	CHECK(n == 1 && p[0].caplen == 100 && p[0].data == area + 2 * XDP_FRAME_SIZE + 256,
	      "an offset in the address's high bits is added, as the kernel means it (got %d)", n);

	reset(RING);
	for (uint32_t i = 0; i < RING; i++)
		descs[i] = (struct xdp_desc){ .addr = (i % NFRAMES) * XDP_FRAME_SIZE + 256, .len = 100 };
	n = xdp_recv(&h, p, RING);
	CHECK(n == (int)NFRAMES && q.held == NFRAMES && cons == 0,
	      "%u descriptors for %u frames: %u read, the rest left in the ring (got %d)",
	      RING, NFRAMES, NFRAMES, n);
	n = xdp_recv(&h, p, RING);
	CHECK(n == 0 && q.held == NFRAMES, "and with every frame held, none more (got %d)", n);

	return check_done();
}
