/* SPDX-License-Identifier: MIT */
/*
 * The interface between libzcap's capture front end (rx.c) and the capture
 * side of each backend (<mechanism>_rx.c, registered in backends.c).
 *
 * The front end owns everything that is the same for all backends:
 * options, interface lookup, the filter program, blocking and breakloop,
 * per-cause statistics and error strings. A backend only moves packets
 * between its kernel ring and struct zcap_pkt.
 */
#ifndef ZCAP_RX_H
#define ZCAP_RX_H

#include <linux/filter.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>

#include "backend.h"

/* The options, resolved: every default filled in. */
struct zcap_rx_cfg {
	uint64_t ring_bytes;
	uint32_t block_bytes;		/* tpacket */
	uint32_t block_timeout_ms;	/* tpacket */
	uint32_t snaplen;
	int promisc;
	enum zcap_direction direction;
	int queue;			/* xdp: this rx queue only; -1 = all */
	int queue_stride;		/* xdp: and every stride-th after it */
	int fanout;			/* the group's id; -1 = none */
	int forward;			/* ZCAP_OPT_FORWARD */
};

/* What filter.c builds from the user's program: for the kernel, with the
 * direction and the snap length; for user space, with the snap length
 * only, one for packets that came in and one for those that went out. */
struct zcap_filters {
	struct sock_fprog kern;
	struct sock_fprog in;
	struct sock_fprog out;
};

#define ZCAP_HOLDS 64u

struct zcap {
	const struct zcap_backend *backend;
	const struct zcap_rx_ops *ops;
	void *priv;			/* the backend's state */
	int fd;				/* what poll() waits on for packets */
	int wake_fd;			/* eventfd written by zcap_breakloop() */
	int promisc_fd;			/* holds promiscuous mode; -1 with -p */
	volatile sig_atomic_t break_req;

	char ifname[IF_NAMESIZE];
	int ifindex;
	int linktype;
	int family;			/* socket family the backend opened */
	int counts_filtered;		/* backend counts filter rejects itself */
	int max_wait_ms;		/* >0: poll no longer, then ask recv() again */
	int frozen;			/* zcap_freeze() was called */
	uint64_t filtered_at_freeze;
	int automatic;			/* chosen by "auto": the backend's own
					 * auto policy applies */
	uint32_t snaplen;
	struct zcap_rx_cfg cfg;
	/* The user's program as given ("" compiled when none), and what is
	 * built from it (filter.c). */
	struct sock_fprog user;
	struct zcap_filters filters;
	int has_filter;			/* the user set one (stats: "filtered") */
	uint64_t refiltered;		/* rejected in user space, see zcap_rx_refilter() */
	unsigned int handed;		/* packets handed out since zcap_release() */
	/*
	 * zcap_release_n(), where the backend set partial at open: the
	 * zcap_recv() calls whose packets are still out, oldest first, each
	 * with how many it handed and the backend's ring position after it
	 * (ops->mark), or a part of a call (a backend's zcap_rx_hold()).
	 * Giving back a whole entry gives back the ring up to its position;
	 * hold_part packets of the oldest entry are given back already, its
	 * room is not. An entry that finds the list full joins the newest.
	 */
	int partial;
	unsigned int hold_head, hold_cnt, hold_part;
	unsigned int hold_marked;	/* of this zcap_recv() call's, in entries */
	struct zcap_hold { unsigned int n; uint64_t pos; } holds[ZCAP_HOLDS];

	/* ZCAP_OPT_FORWARD where the backend has no forward op
	 * (forward.c): a transmit handle of the interface, whose frames
	 * 0..fwd_used-1 of the fwd_res reserved hold copies to send. */
	zcap_tx_t *fwd_tx;
	unsigned int fwd_res, fwd_used;
	uint64_t fwd_lost;		/* copies a failed submit took down */

	struct zcap_netdev_counters if_base;	/* at open */
	/* Of the backend's own drops (in st), those the interface counts in
	 * rx_dropped too, set by its stats op: taken out of drop_if, so that
	 * a packet is not counted dropped twice. */
	uint64_t if_dup_drops;
	struct zcap_stats st;			/* what the front end counts */
	char err[ZCAP_ERRBUF_SIZE];
};

struct zcap_rx_ops {
	/* Sets h->fd and h->priv. Returns 0, or -1 with zcap_seterr() and
	 * errno set; the front end then calls close(), which undoes what
	 * open did, and may try another backend. */
	int (*open)(struct zcap *h);
	/* Never blocks. Returns a count >= 0, or -1 with zcap_seterr(). */
	int (*recv)(struct zcap *h, struct zcap_pkt *pkts, unsigned int max);
	/* Optional: zcap_dispatch()'s walk, fn called for each packet as
	 * it is read, up to max (0: what is ready), ending after the fn
	 * during which h->break_req was set. Gives each part of the ring
	 * back as soon as its packets were handed (the front end then
	 * calls release for the rest), counts bytes and truncated with
	 * zcap_rx_account(). Never blocks. Returns a count >= 0, or -1
	 * with zcap_seterr(). Without it, the front end calls recv for
	 * one packet at a time. */
	int (*dispatch)(struct zcap *h, unsigned int max, zcap_handler_t fn,
			void *user);
	void (*release)(struct zcap *h);
	/* With h->partial: the ring position after what was handed out so
	 * far, and giving back every part of the ring before such a
	 * position (never the part being read). */
	uint64_t (*mark)(struct zcap *h);
	void (*release_to)(struct zcap *h, uint64_t pos);
	/* True while the application holds packets in a way that keeps
	 * h->fd readable (poll would then spin instead of waiting). */
	int (*holding)(struct zcap *h);
	/* Adds the kernel's counters into st (received is the front end's). */
	int (*stats)(struct zcap *h, struct zcap_stats *st);
	/* Optional: stops new packets (zcap_freeze()); without it, a
	 * reject-all socket filter is attached to h->fd. */
	int (*freeze)(struct zcap *h);
	/* Optional: h->filters were replaced on an open handle. Puts them
	 * in force, and has every packet that may have passed the old
	 * filter and is still to come out of the ring checked in user
	 * space (zcap_rx_refilter). Without it, h->filters.kern is
	 * attached to h->fd and nothing is rechecked. */
	int (*setfilter)(struct zcap *h);
	/* Optional, with cfg.forward: queues p's frame, len bytes, on the
	 * transmit ring it came in on (no copy). Never blocks. Returns 0,
	 * or -1 with zcap_seterr() and errno (EAGAIN: ring full; EINVAL: p
	 * is not a packet this handle holds). Without it, forward.c copies
	 * into a transmit handle. */
	int (*forward)(struct zcap *h, const struct zcap_pkt *p, uint32_t len);
	/* With forward: hands the queued frames to the kernel, takes back
	 * the completed ones (they return to the receive side). Returns the
	 * number still in flight, or -1 with zcap_seterr(). */
	int (*forward_flush)(struct zcap *h);
	/* Frees what open() left, after success or failure; h->fd and
	 * h->priv may be -1 and NULL. */
	void (*close)(struct zcap *h);
};

/* From a backend's recv, with h->partial: the next n packets of this call
 * (not yet counted in an entry) are given back with the ring before pos. */
void zcap_rx_hold(struct zcap *h, unsigned int n, uint64_t pos);

/* rx.c: CLOCK_MONOTONIC in ms, for the front end's waits */
int64_t zcap_now_ms(void);

/* forward.c: the front end of ZCAP_OPT_FORWARD */
int zcap_forward_open(struct zcap *h, char *errbuf);
void zcap_forward_close(struct zcap *h);
void zcap_forward_stats(struct zcap *h, struct zcap_stats *st);

/* The front end's per-packet counts of a packet handed out (received is
 * counted per call). */
static inline void zcap_rx_account(struct zcap_stats *st, const struct zcap_pkt *p)
{
	st->bytes += p->len;
	st->truncated += p->caplen < p->len;
}

#define zcap_seterr(h, ...) zcap_errf((h)->err, __VA_ARGS__)

/* filter.c: tcpdump syntax or the application's cBPF -> the program the
 * kernel runs (direction, snap length) and the one user space runs. */
int zcap_filter_compile(const char *expr, int linktype, uint32_t snaplen,
			struct sock_fprog *out, char *err, size_t errlen);
int zcap_filter_copy(const struct sock_filter *insns, unsigned int len,
		     struct sock_fprog *out, char *err, size_t errlen);
int zcap_filter_build(const struct sock_fprog *user, uint32_t snaplen,
		      enum zcap_direction dir, struct zcap_filters *out);
void zcap_filter_free(struct sock_fprog *prog);
void zcap_filters_free(struct zcap_filters *f);
unsigned int zcap_filter_run(const struct sock_fprog *prog, const uint8_t *data,
			     uint32_t caplen, uint32_t len);

/* rx.c: for a packet that may have passed the filter in force before the
 * last zcap_setfilter*(): runs the new one (and the direction) on it in
 * user space. 0: drop it (counted as filtered); 1: keep it, caplen cut
 * to what the filter returned. */
int zcap_rx_refilter(struct zcap *h, struct zcap_pkt *p);

#endif
