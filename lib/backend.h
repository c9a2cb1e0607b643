/* SPDX-License-Identifier: MIT */
/*
 * What every part of libzcap shares: the registry of backends, the log,
 * error strings, option checks, and the interface queries.
 *
 * A backend is one mechanism of the kernel (a socket family, a ring) and
 * may capture (struct zcap_rx_ops, lib/rx.h), transmit (struct zcap_tx_ops,
 * lib/tx.h) or both. Adding one means adding its files, named
 * <mechanism>_rx.c and <mechanism>_tx.c (with <mechanism>_common.c for
 * what both directions set up alike), and one line in lib/backends.c,
 * which says where it stands in "auto" and why.
 */
#ifndef ZCAP_BACKEND_H
#define ZCAP_BACKEND_H

#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>

#include "zcap.h"

struct zcap_rx_ops;
struct zcap_tx_ops;

/* What "auto" does with a backend, per direction. */
enum zcap_auto {
	ZCAP_AUTO_TRY = 0,	/* try it in registry order; take it if it opens */
	ZCAP_AUTO_NEVER,	/* only when asked for by name */
};

struct zcap_backend {
	const char *name;
	const struct zcap_rx_ops *rx;	/* NULL: cannot capture */
	const struct zcap_tx_ops *tx;	/* NULL: cannot transmit */
	enum zcap_auto rx_auto, tx_auto;
	/* Why it stands where it does in "auto": logged at INFO when auto
	 * passes over it or takes it, and the README's source. */
	const char *rx_why, *tx_why;
};

/* backends.c: the registry, in the order "auto" tries. */
const struct zcap_backend *zcap_backend_get(unsigned int i);
/* The backend named name that can do dir; NULL for "auto" (errno 0) or
 * when none (errno EINVAL, or EOPNOTSUPP when it cannot do dir; a message
 * in err when not NULL). */
const struct zcap_backend *zcap_backend_find(const char *name, unsigned int dir,
					     char *err);

/* log.c */
void zcap_log(enum zcap_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void zcap_vlog(enum zcap_log_level level, const char *fmt, va_list ap);
/* Writes a message into err (ZCAP_ERRBUF_SIZE bytes); errno is kept. */
void zcap_errf(char *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Copies an application's sized struct (ZCAP_DECLARE) into *out, a zeroed
 * struct of known bytes: what the application did not have stays 0, the
 * default. Returns 0, or -1 with errno EINVAL and a message in err when sz
 * is too small to be a struct, or a byte past the known fields is set.
 * in may be NULL: *out is then all defaults.
 */
int zcap_opts_copy(void *out, size_t known, const void *in, const char *what,
		   char *err);
/* Fills the first sz bytes of an application's sized struct from *in. */
int zcap_opts_out(void *out, const void *in, size_t known, const char *what,
		  char *err);
/* The end of a field, for "known". */
#define zcap_offsetofend(TYPE, FIELD) \
	(offsetof(TYPE, FIELD) + sizeof(((TYPE *)0)->FIELD))

/* netdev.c: what the kernel says about an interface, outside any backend. */
struct zcap_netdev_counters {
	uint64_t rx_packets, tx_packets;
	uint64_t rx_dropped;	/* drop + fifo columns: lost before any tap */
	uint64_t tx_dropped;	/* drop + fifo columns of the transmit side */
};

int zcap_netdev_counters(const char *ifname, struct zcap_netdev_counters *c);
int zcap_netdev_linktype(const char *ifname, int *dlt, char *err);
int zcap_netdev_mtu(const char *ifname);	/* -1 when unknown */
/* 1 when ifname's driver is veth (ETHTOOL_GDRVINFO), else 0 */
int zcap_netdev_is_veth(const char *ifname);
/* The index of ifname, or 0 with ENODEV and a message in err. */
int zcap_netdev_index(const char *ifname, char *err);
/* Promiscuous mode, held by the fd returned until it is closed (a packet
 * socket membership: the kernel drops it with the socket, even if we
 * crash, and counts it with every other holder's). -1 with errno and err. */
int zcap_netdev_promisc(int ifindex, const char *ifname, char *err);
/* For sending: an Ethernet interface that is up with a carrier. Returns
 * its MTU, or -1 with errno (EOPNOTSUPP, ENETDOWN, ...) and err set. */
int zcap_netdev_tx_ready(const char *ifname, char *err);

#endif
