/* SPDX-License-Identifier: MIT */
/*
 * An AF_XDP socket with its own umem on one queue, as both directions set
 * it up through libxdp: the frame area, the umem and its fill and
 * completion rings, the socket with an rx or a tx ring, zero copy tried
 * before copy mode, and the mode the kernel really gave. xdp_rx.c and
 * xdp_tx.c add what their direction does with the rings.
 *
 * No XDP program is loaded here (XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD): the
 * capture side attaches its own, and sending needs none.
 */
#ifndef ZCAP_XSK_COMMON_H
#define ZCAP_XSK_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <xdp/xsk.h>

struct zxsk {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;	/* when rx_size */
	struct xsk_ring_prod tx;	/* when tx_size */
	uint8_t *area;			/* frames * frame_size bytes */
	size_t area_len;
	int zerocopy;			/* what the kernel says it bound */
};

struct zxsk_cfg {
	uint32_t frames;		/* in the area */
	uint32_t frame_size;
	uint32_t fill_size, comp_size;	/* ring sizes, powers of two */
	uint32_t rx_size, tx_size;	/* 0: no such ring */
	int allow_copy;			/* copy mode when zero copy fails */
	int shared_prog;		/* libxdp's XSK program, shared with the
					 * interface's other sockets; else the
					 * caller redirects with its own */
};

#define ZXSK_BUSY_TRIES 100	/* times 10 ms: see zxsk_open() */

/* Binds queue of ifname, zero copy first. Returns 0, or -errno (-EBUSY:
 * the queue has another socket, still after a second of retries).
 * Whatever it leaves, zxsk_close() frees. */
int zxsk_open(struct zxsk *x, const char *ifname, uint32_t queue,
	      const struct zxsk_cfg *cfg);
void zxsk_close(struct zxsk *x);

static inline int zxsk_fd(const struct zxsk *x)
{
	return xsk_socket__fd(x->xsk);
}

#endif
