/* SPDX-License-Identifier: MIT */
/*
 * The registry: every backend, in the order "auto" tries them, with what
 * each can do and why it stands where it does. Adding a backend means
 * adding its files and one entry here.
 *
 * The reasons rest on bench/results/ (capture) and on zcap-gen's rates in
 * README.md (transmit); measure again before moving one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"

extern const struct zcap_rx_ops zcap_xdp_rx_ops, zcap_pfzc_rx_ops, zcap_tpacket_rx_ops;
extern const struct zcap_tx_ops zcap_xdp_tx_ops, zcap_pfzc_tx_ops, zcap_tpacket_tx_ops,
	zcap_packet_tx_ops;

static const struct zcap_backend registry[] = {
	{
		.name = "xdp",
		.rx = &zcap_xdp_rx_ops, .rx_auto = ZCAP_AUTO_TRY,
		.rx_why = "AF_XDP: auto takes it only when zero copy binds and the "
			  "interface has no IP address (copy mode captured at about "
			  "half the tpacket rate on veth, and AF_XDP takes the frames "
			  "away from the host's stack)",
		.tx = &zcap_xdp_tx_ops, .tx_auto = ZCAP_AUTO_TRY,
		.tx_why = "AF_XDP tx ring: the fastest sender on veth, even in copy mode",
	},
	{
		.name = "pfzc",
		.rx = &zcap_pfzc_rx_ops, .rx_auto = ZCAP_AUTO_TRY,
		.rx_why = "the pf_zerocopy module's socket: whenever the module is loaded",
		.tx = &zcap_pfzc_tx_ops, .tx_auto = ZCAP_AUTO_NEVER,
		.tx_why = "the pf_zerocopy module's tx ring: only when asked for "
			  "(the module must be loaded; it copies each frame once, but "
			  "on a NIC whose driver transmits by DMA)",
	},
	{
		.name = "tpacket",
		.rx = &zcap_tpacket_rx_ops, .rx_auto = ZCAP_AUTO_TRY,
		.rx_why = "AF_PACKET TPACKET_V3 mmap ring: any kernel",
		.tx = &zcap_tpacket_tx_ops, .tx_auto = ZCAP_AUTO_TRY,
		.tx_why = "AF_PACKET PACKET_TX_RING: any kernel",
	},
	{
		.name = "packet",
		.tx = &zcap_packet_tx_ops, .tx_auto = ZCAP_AUTO_TRY,
		.tx_why = "sendmmsg on an AF_PACKET socket, one copy per frame: the "
			  "last resort",
	},
};

#define N_BACKENDS (sizeof(registry) / sizeof(registry[0]))

const struct zcap_backend *zcap_backend_get(unsigned int i)
{
	return i < N_BACKENDS ? &registry[i] : NULL;
}

static int can(const struct zcap_backend *b, unsigned int dir)
{
	return dir == ZCAP_RX ? b->rx != NULL : dir == ZCAP_TX ? b->tx != NULL : 0;
}

static enum zcap_auto auto_of(const struct zcap_backend *b, unsigned int dir)
{
	return dir == ZCAP_RX ? b->rx_auto : b->tx_auto;
}

const char *zcap_backend_at(unsigned int dir, unsigned int i)
{
	if (dir != ZCAP_RX && dir != ZCAP_TX)
		return NULL;
	if (i-- == 0)
		return "auto";
	/* those auto tries, in its order, then the others */
	for (int pass = ZCAP_AUTO_TRY; pass <= ZCAP_AUTO_NEVER; pass++)
		for (size_t k = 0; k < N_BACKENDS; k++)
			if (can(&registry[k], dir) &&
			    (int)auto_of(&registry[k], dir) == pass && i-- == 0)
				return registry[k].name;
	return NULL;
}

const struct zcap_backend *zcap_backend_find(const char *name, unsigned int dir,
					     char *err)
{
	if (!name || !strcmp(name, "auto")) {
		errno = 0;
		return NULL;
	}
	for (size_t k = 0; k < N_BACKENDS; k++) {
		if (strcmp(name, registry[k].name))
			continue;
		if (can(&registry[k], dir))
			return &registry[k];
		if (err)
			zcap_errf(err, "backend %s cannot %s", name,
				  dir == ZCAP_RX ? "capture" : "transmit");
		errno = EOPNOTSUPP;
		return NULL;
	}
	if (err) {
		char list[128] = "";
		const char *n;
		size_t l = 0;

		for (unsigned int i = 0; (n = zcap_backend_at(dir, i)) && l < sizeof(list); i++)
			l += (size_t)snprintf(list + l, sizeof(list) - l, "%s%s",
					      i ? ", " : "", n);
		zcap_errf(err, "unknown backend '%s' (%s)", name, list);
	}
	errno = EINVAL;
	return NULL;
}

int zcap_backend_check(const char *name, unsigned int dir, char *errbuf)
{
	if (dir != ZCAP_RX && dir != ZCAP_TX) {
		errno = EINVAL;
		return -1;
	}
	if (zcap_backend_find(name, dir, errbuf) || errno == 0)
		return 0;
	return -1;
}
