/* SPDX-License-Identifier: MIT */
/*
 * The pf_zerocopy module's socket as both directions set it up: the family
 * (a module parameter), the ABI check, the frame buffer (umem) the module
 * pins, one ring mapped from the socket, and the bind. pfzc_rx.c and
 * pfzc_tx.c add only what their direction does with the ring.
 */
#ifndef ZCAP_PFZC_COMMON_H
#define ZCAP_PFZC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "pfzc_ring.h"

struct pfzc_sock {
	int fd;
	int family;
	uint8_t *umem;		/* ours; pinned by the module while registered */
	size_t umem_len;
	uint32_t frame_size;
	void *map;		/* the ring, shared with the module */
	size_t map_len;
	struct pfzc_ring ring;
};

/* Each returns 0, or -1 with errno set and a message in err
 * (ZCAP_ERRBUF_SIZE bytes). Whatever they leave, pfzc_sock_close() frees. */

/* The socket: EAFNOSUPPORT when the module is not loaded, EPERM without
 * CAP_NET_RAW, EPROTO when the module speaks another ABI. */
int pfzc_sock_open(struct pfzc_sock *s, const char *ifname, char *err);
/* entries frames of frame_size bytes, registered with the module. */
int pfzc_sock_umem(struct pfzc_sock *s, const char *ifname, uint32_t entries,
		   uint32_t frame_size, char *err);
/* The rx (PFZC_RX_RING) or tx (PFZC_TX_RING) ring of entries slots. */
int pfzc_sock_ring(struct pfzc_sock *s, const char *ifname, int which,
		   uint32_t entries, char *err);
int pfzc_sock_bind(struct pfzc_sock *s, const char *ifname, int ifindex, char *err);
/* Closes the socket (the module unpins the frames), then frees them. */
void pfzc_sock_close(struct pfzc_sock *s);

/* pfzc_cring_rx.c: h on the NIC's contiguous ring. 0: opened, h->ops and
 * h->priv are its own; 1: the device, or the module, has none, or we may
 * not take the NIC's traffic (CAP_NET_ADMIN): h is untouched; -1: an
 * error, with zcap_seterr() and errno. */
struct zcap;
int zcap_pfzc_cring_open(struct zcap *h);

#endif
