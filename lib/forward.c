/* SPDX-License-Identifier: MIT */
/*
 * ZCAP_OPT_FORWARD: packets a capture received go back out of its
 * interface, rewritten in place by the application (a responder's answer
 * built in the request's frame).
 *
 * A backend whose receive frames can be handed to its own transmit ring
 * (xdp: one umem under both rings) does it with its forward op, and the
 * frame leaves from where it was received. For the others the received
 * frame belongs to a ring the kernel only fills (TPACKET_V3's blocks, the
 * module's rx frames), so the bytes are copied once, into the frames of a
 * transmit handle of the same interface opened beside the capture: the
 * capture's own backend where it can send, else auto's choice.
 *
 * Ownership of the copy path: frames 0..fwd_used-1 of the fwd_res that
 * zcap_tx_reserve() gave are written and not yet submitted; the rest of
 * the reservation is free for the next packets; everything else is the
 * transmit handle's (tx.h).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "rx.h"

#define FWD_BATCH 64u
#define ETH_HLEN_MIN 14u

int zcap_forward_open(struct zcap *h, char *errbuf)
{
	const char *name = h->backend->tx ? h->backend->name : NULL;
	char err[ZCAP_ERRBUF_SIZE];

	if (h->ops->forward)
		return 0;
	ZCAP_DECLARE(zcap_tx_opts, to, .backend = name);
	h->fwd_tx = zcap_tx_open(h->ifname, &to, err);
	if (!h->fwd_tx) {
		zcap_errf(errbuf, "cannot open the transmit side for forwarding: %s", err);
		return -1;
	}
	zcap_log(ZCAP_LOG_INFO, "%s: forwarding by copy through the %s transmit backend",
		 h->ifname, zcap_tx_backend_name(h->fwd_tx));
	return 0;
}

/* What was forwarded and not yet flushed still goes, for up to a second. */
void zcap_forward_close(struct zcap *h)
{
	if (!h->cfg.forward || !h->ops || (!h->ops->forward && !h->fwd_tx))
		return;
	zcap_forward_flush(h, 1000);
	if (h->fwd_tx)
		zcap_tx_close(h->fwd_tx);
	h->fwd_tx = NULL;
}

void zcap_forward_stats(struct zcap *h, struct zcap_stats *st)
{
	ZCAP_DECLARE(zcap_tx_stats, ts);

	if (!h->fwd_tx || zcap_tx_stats(h->fwd_tx, &ts))
		return;
	st->forwarded += ts.sent;
	st->forward_dropped += ts.invalid + ts.errors + h->fwd_lost;
}

static int submit_copies(struct zcap *h)
{
	unsigned int n = h->fwd_used;

	h->fwd_used = h->fwd_res = 0;
	if (n && zcap_tx_submit(h->fwd_tx, n)) {
		/* accepted by zcap_forward(), never sent: counted here */
		h->fwd_lost += n;
		zcap_seterr(h, "%s", zcap_tx_geterr(h->fwd_tx));
		return -1;
	}
	zcap_tx_complete(h->fwd_tx);
	return 0;
}

static int forward_copy(struct zcap *h, const struct zcap_pkt *p, uint32_t len)
{
	uint32_t room, tag;
	uint8_t *f;

	if (h->fwd_used == h->fwd_res) {
		if (submit_copies(h))
			return -1;
		h->fwd_res = zcap_tx_reserve(h->fwd_tx, FWD_BATCH);
		if (!h->fwd_res) {
			zcap_seterr(h, "%s: every transmit frame is in flight", h->ifname);
			errno = EAGAIN;
			return -1;
		}
	}
	/* A tag the kernel took off (TPACKET_V3, the module) goes back
	 * after the MAC addresses, as the frame came in. */
	tag = p->flags & ZCAP_PKT_VLAN ? 4 : 0;
	f = zcap_tx_frame(h->fwd_tx, h->fwd_used, &room);
	if (!f || len + tag > room || len + tag > zcap_tx_max_len(h->fwd_tx)) {
		zcap_seterr(h, "%s: %u bytes do not fit a transmit frame", h->ifname, len + tag);
		errno = EINVAL;
		return -1;
	}
	if (tag) {
		memcpy(f, p->data, 12);
		f[12] = (uint8_t)(p->vlan_tpid >> 8);
		f[13] = (uint8_t)p->vlan_tpid;
		f[14] = (uint8_t)(p->vlan_tci >> 8);
		f[15] = (uint8_t)p->vlan_tci;
		memcpy(f + 16, p->data + 12, len - 12);
	} else {
		memcpy(f, p->data, len);
	}
	zcap_tx_setlen(h->fwd_tx, h->fwd_used, len + tag);
	h->fwd_used++;
	return 0;
}

int zcap_forward(zcap_t *h, const struct zcap_pkt *p, uint32_t len)
{
	if (!h->cfg.forward) {
		zcap_seterr(h, "%s: not opened for forwarding (ZCAP_OPT_FORWARD)", h->ifname);
		errno = EOPNOTSUPP;
		return -1;
	}
	if (!p || len < ETH_HLEN_MIN || len > p->caplen) {
		zcap_seterr(h, "forward: length %u out of range (%u..the packet's %u bytes)",
			    len, ETH_HLEN_MIN, p ? p->caplen : 0);
		errno = EINVAL;
		return -1;
	}
	return h->ops->forward ? h->ops->forward(h, p, len) : forward_copy(h, p, len);
}

int zcap_forward_flush(zcap_t *h, int timeout_ms)
{
	int64_t deadline = zcap_now_ms() + timeout_ms;
	int left;

	if (!h->cfg.forward) {
		zcap_seterr(h, "%s: not opened for forwarding (ZCAP_OPT_FORWARD)", h->ifname);
		errno = EOPNOTSUPP;
		return -1;
	}
	if (!h->ops->forward) {
		if (submit_copies(h))
			return -1;
		if (timeout_ms && zcap_tx_flush(h->fwd_tx, timeout_ms)) {
			zcap_seterr(h, "%s", zcap_tx_geterr(h->fwd_tx));
			return -1;
		}
		return 0;
	}
	for (;;) {
		left = h->ops->forward_flush(h);
		if (left <= 0 || !timeout_ms)
			return left < 0 ? -1 : 0;
		if (timeout_ms > 0 && zcap_now_ms() >= deadline) {
			zcap_seterr(h, "%s: %d forwarded frames still in flight", h->ifname,
				    left);
			errno = ETIMEDOUT;
			return -1;
		}
		poll(NULL, 0, 1);
	}
}
