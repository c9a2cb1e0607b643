/* SPDX-License-Identifier: MIT */
/*
 * The interface between libzcap's front end (zcap.c) and its backends.
 *
 * A backend is one file that defines one struct zcap_backend_ops and adds it
 * to the table in zcap.c. The front end owns everything that is the same for
 * all backends: interface lookup, the filter program, blocking and
 * breakloop, per-cause statistics and error strings. A backend only moves
 * packets between its kernel ring and struct zcap_pkt.
 */
#ifndef ZCAP_BACKEND_H
#define ZCAP_BACKEND_H

#include <linux/filter.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>

#include "zcap.h"

/* Interface counters from /proc/net/dev, for drops and filtered estimates. */
struct zcap_netdev_counters {
	uint64_t rx_packets, tx_packets;
	uint64_t rx_dropped;	/* drop + fifo columns: lost before any tap */
};

struct zcap {
	const struct zcap_backend_ops *ops;
	void *priv;			/* the backend's state */
	int fd;				/* what poll() waits on for packets */
	int wake_fd;			/* eventfd written by zcap_breakloop() */
	volatile sig_atomic_t break_req;

	char ifname[IF_NAMESIZE];
	int ifindex;
	int linktype;
	int family;			/* socket family the backend opened */
	int counts_filtered;		/* backend counts filter rejects itself */
	int max_wait_ms;		/* >0: poll no longer, then ask recv() again */
	int frozen;			/* zcap_freeze() was called */
	uint64_t filtered_at_freeze;
	uint32_t snaplen;
	struct zcap_config cfg;
	struct sock_fprog filter;	/* compiled cBPF; always set (snaplen) */
	int has_filter_expr;
	char *filter_expr;		/* the user's, without the direction; or NULL */

	struct zcap_netdev_counters if_base;	/* at open */
	struct zcap_stats st;			/* what the front end counts */
	char err[ZCAP_ERRBUF_SIZE];
};

struct zcap_backend_ops {
	const char *name;
	enum zcap_backend id;
	/* Sets h->fd and h->priv. Returns 0, or -1 with zcap_seterr() and
	 * errno set; may be called again on another backend after failing. */
	int (*open)(struct zcap *h);
	/* Never blocks. Returns a count >= 0, or -1 with zcap_seterr(). */
	int (*recv)(struct zcap *h, struct zcap_pkt *pkts, unsigned int max);
	void (*release)(struct zcap *h);
	/* True while the application holds packets in a way that keeps
	 * h->fd readable (poll would then spin instead of waiting). */
	int (*holding)(struct zcap *h);
	/* Adds the kernel's counters into st (received is the front end's). */
	int (*stats)(struct zcap *h, struct zcap_stats *st);
	/* Optional: stops new packets (zcap_freeze()); without it, a
	 * reject-all socket filter is attached to h->fd. */
	int (*freeze)(struct zcap *h);
	void (*close)(struct zcap *h);
};

extern const struct zcap_backend_ops zcap_tpacket_ops;
extern const struct zcap_backend_ops zcap_pfzc_ops;
extern const struct zcap_backend_ops zcap_xdp_ops;

void zcap_seterr(struct zcap *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* filter.c: tcpdump syntax -> cBPF that also applies the snap length. */
int zcap_filter_compile(const char *expr, int linktype, uint32_t snaplen,
			struct sock_fprog *out, char *err, size_t errlen);
void zcap_filter_free(struct sock_fprog *prog);
unsigned int zcap_filter_run(const struct sock_fprog *prog, const uint8_t *data,
			     uint32_t len);

/* netdev.c */
int zcap_netdev_counters(const char *ifname, struct zcap_netdev_counters *c);
int zcap_netdev_linktype(const char *ifname, int *dlt, char *err, size_t errlen);
int zcap_netdev_mtu(const char *ifname);	/* -1 when unknown */

#endif
