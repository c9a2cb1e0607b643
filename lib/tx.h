/* SPDX-License-Identifier: MIT */
/*
 * The interface between libzcap's transmit front end (tx.c) and the
 * transmit side of each backend (<mechanism>_tx.c, registered in
 * backends.c), as lib/rx.h is for capture.
 *
 * The front end owns what is the same for every
 * backend: interface checks, the reservation (pointers, rooms and lengths
 * of the reserved frames), length checks, the retry loop around the kick
 * with its stall limit, flush, and the interface's drop counter. A backend
 * only moves frames between its free list, its kernel ring and back.
 */
#ifndef ZCAP_TX_H
#define ZCAP_TX_H

#include <net/if.h>
#include <stdint.h>

#include "backend.h"

/* One reserved frame, as the backend handed it out. */
struct zcap_tx_slot {
	uint8_t *data;
	uint32_t room;
	uint32_t len;
};

/* The options, resolved: every default filled in. */
struct zcap_tx_cfg {
	uint32_t queue;			/* xdp: the tx queue */
};

struct zcap_tx {
	const struct zcap_backend *backend;
	const struct zcap_tx_ops *ops;
	void *priv;			/* the backend's state */
	int fd;
	char ifname[IF_NAMESIZE];
	int ifindex;
	uint32_t mtu;
	uint32_t max_len;		/* mtu + 14, at most the frame room */
	uint32_t frames;		/* cfg.frames, resolved */
	struct zcap_tx_cfg cfg;
	const char *mode;		/* "copy" or "zero-copy" */

	struct zcap_tx_slot *resv;	/* [frames]; [0, nresv) reserved */
	unsigned int nresv;

	/* Front-end counters; the backend adds its own in stats(). */
	uint64_t submitted;
	uint64_t retries;
	uint64_t errors;		/* kicks that reported a dropped frame */
	uint64_t stalled_since;		/* when the kernel last took nothing */
	unsigned int busy;		/* refusals and drops since progress */
	uint64_t if_drop0;		/* tx_dropped at open */
	int have_if_drop;
	char err[ZCAP_ERRBUF_SIZE];
};

/* What a kick says. */
enum zcap_tx_kick {
	ZCAP_KICK_DONE = 0,	/* the kernel took everything submitted */
	ZCAP_KICK_AGAIN,	/* frames are left: take completions, call again */
	ZCAP_KICK_BUSY,		/* the device refused one for now: wait a little */
	ZCAP_KICK_DROPPED,	/* the device dropped one (counted); call again */
	ZCAP_KICK_ERROR,	/* zcap_tx_seterr() and errno set */
};

struct zcap_tx_ops {
	/* Sets t->fd, t->priv, t->mode and the room of a frame (room_out).
	 * Returns 0, or -1 with zcap_tx_seterr() and errno set; the front
	 * end then calls close(), which undoes what open did, and may try
	 * another backend. */
	int (*open)(struct zcap_tx *t, uint32_t *room_out);
	/* Fills slots[0..ret) with free frames (ret <= n); data and room
	 * only. Does not change what is free: the same frames come back
	 * until submit() takes some. */
	unsigned int (*reserve)(struct zcap_tx *t, struct zcap_tx_slot *slots,
				unsigned int n);
	/* Publishes slots[0..n) of the last reserve(), in order, with their
	 * lengths (already checked). Returns 0, or -1 with zcap_tx_seterr()
	 * and errno set if the ring no longer has the room reserve() saw
	 * (a broken invariant, never a full ring). */
	int (*submit)(struct zcap_tx *t, const struct zcap_tx_slot *slots,
		      unsigned int n);
	/* Makes the kernel send what is published. Never blocks. */
	enum zcap_tx_kick (*kick)(struct zcap_tx *t);
	/* Reclaims finished frames; returns how many. */
	unsigned int (*complete)(struct zcap_tx *t);
	/* Frames submitted and not completed (invalid ones count as
	 * completed as soon as the kernel reports them). */
	uint64_t (*in_flight)(struct zcap_tx *t);
	/* Fills completed, sent, bytes, invalid and errors. */
	int (*stats)(struct zcap_tx *t, struct zcap_tx_stats *st);
	/* Frees what open() left, after success or failure; t->fd and
	 * t->priv may be -1 and NULL. */
	void (*close)(struct zcap_tx *t);
};

#define zcap_tx_seterr(t, ...) zcap_errf((t)->err, __VA_ARGS__)

#endif
