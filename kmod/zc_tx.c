// SPDX-License-Identifier: GPL-2.0
/*
 * PF_ZEROCOPY: transmit by DMA (pfzc_driver.h). The DMA sender's tx frames
 * are mapped for the NIC once, at bind; a kick queues each valid frame's
 * bus address on the NIC, and the slot goes back to the application only
 * when the NIC has completed the frame (struct pfzc_tx_dma in pfzc.h). No
 * copy, no skb.
 */
#include <linux/dma-mapping.h>

#include "pfzc.h"

/* Frames handed to the driver per call. */
#define PFZC_ZC_TX_BATCH	64

/*
 * At bind, process context: maps the pages of the tx frames (every frame
 * from the first tx one to the end of the umem, the range a valid tx
 * descriptor may name). The umem stays pinned until release, which comes
 * after pfzc_zc_tx_stop().
 */
int pfzc_zc_tx_start(struct pfzc_sock *po, struct device *dma_dev)
{
	struct pfzc_tx_dma *td = &po->tx_dma;
	struct pfzc_umem *umem = po->umem;
	u32 first = ((u64)po->rx.entries * umem->frame_size) >> PAGE_SHIFT;
	int err;

	td->state = kvcalloc(po->tx.entries, sizeof(*td->state), GFP_KERNEL);
	if (!td->state)
		return -ENOMEM;
	err = pfzc_dma_pages_map(&td->map, umem, dma_dev, first,
				 umem->npages - first, DMA_TO_DEVICE);
	if (err) {
		kvfree(td->state);
		td->state = NULL;
		return err;
	}
	td->inflight = 0;
	td->cons = po->tx.r.cached_cons;
	return 0;
}

/* After the driver's tx_stop: the NIC reads none of the frames. */
void pfzc_zc_tx_stop(struct pfzc_sock *po)
{
	struct pfzc_tx_dma *td = &po->tx_dma;

	if (!td->map.dev)
		return;
	WARN_ON_ONCE(td->inflight);
	pfzc_dma_pages_unmap(&td->map);
	kvfree(td->state);
	td->state = NULL;
}

/*
 * Gives back the DONE slots from consumer on, up to the first the NIC
 * still holds. td->cons is the kernel's own copy of the index, which user
 * space cannot rewrite.
 */
static void pfzc_zc_tx_release(struct pfzc_sock *po)
{
	struct pfzc_tx_dma *td = &po->tx_dma;
	struct pfzc_ring *r = &po->tx.r;
	u32 c = td->cons;

	while (c != r->cached_cons && td->state[c & r->mask] == PFZC_TXS_DONE)
		td->state[c++ & r->mask] = 0;
	if (c == td->cons)
		return;
	td->cons = c;
	smp_store_release(r->consumer, c);	/* D, matches A */
}

/*
 * Hands the driver the valid frames of up to one lap of the ring, in
 * order, from the first slot not looked at yet. Called with po->lock held.
 * Returns 0 when every published slot was dealt with, -EAGAIN when the NIC
 * had no room for some (they are looked at again on the next kick).
 */
int pfzc_zc_tx_kick(struct pfzc_sock *po)
{
	struct pfzc_zc_tx_frame f[PFZC_ZC_TX_BATCH];
	struct pfzc_tx_dma *td = &po->tx_dma;
	struct pfzc_ring *r = &po->tx.r;
	struct pfzc_dev *pd = po->pdev;
	u32 budget;
	int err = 0;

	spin_lock_bh(&td->lock);
	/* the slots the kernel holds stay out of reach: see the invariant */
	budget = po->tx.entries - (r->cached_cons - td->cons);
	while (budget && !err) {
		u32 idx, n, i, cnt = 0, took, end;
		struct pfzc_desc d;

		n = pfzc_cons_peek(r, min_t(u32, budget, PFZC_ZC_TX_BATCH), &idx);
		if (!n)
			break;
		budget -= n;
		for (i = 0; i < n; i++) {
			if (!pfzc_tx_desc_get(po, po->dev, idx + i, &d))
				continue;
			f[cnt].dma = pfzc_dma_pages_addr(&td->map, d.addr);
			f[cnt].len = d.len;
			f[cnt].idx = idx + i;
			cnt++;
			dma_sync_single_for_device(td->map.dev, f[cnt - 1].dma,
						   d.len, DMA_TO_DEVICE);
		}

		took = cnt ? pd->ops->xmit_dma(pd, po, f, cnt) : 0;
		td->inflight += took;
		end = idx + n;
		if (took < cnt) {
			/* the NIC is full: from the first frame it did not
			 * take on, the slots are looked at again next time */
			end = f[took].idx;
			r->cached_cons = end;
			err = -EAGAIN;
		}
		/* the slots dealt with: queued, or invalid (counted once) */
		for (i = 0; idx + i != end; i++)
			td->state[(idx + i) & r->mask] = PFZC_TXS_DONE;
		for (i = 0; i < took; i++)
			td->state[f[i].idx & r->mask] = PFZC_TXS_NIC;
		atomic64_add(end - idx - took, &po->tx_invalid);
		pfzc_zc_tx_release(po);
	}
	spin_unlock_bh(&td->lock);
	return err;
}

/*
 * The NIC is done with frame idx: sent, or dropped unsent (a reset). BH
 * off, or under RTNL with the NIC stopped. In any order.
 */
void pfzc_zc_tx_complete(struct pfzc_sock *po, u32 idx, bool sent)
{
	struct pfzc_tx_dma *td = &po->tx_dma;
	struct pfzc_ring *r = &po->tx.r;

	spin_lock_bh(&td->lock);
	if (WARN_ON_ONCE(!td->state || idx - td->cons >= r->cached_cons - td->cons ||
			 td->state[idx & r->mask] != PFZC_TXS_NIC)) {
		spin_unlock_bh(&td->lock);
		return;
	}
	td->state[idx & r->mask] = PFZC_TXS_DONE;
	td->inflight--;
	pfzc_zc_tx_release(po);
	spin_unlock_bh(&td->lock);

	if (sent) {
		atomic64_inc(&po->tx_packets);
		atomic64_inc(&po->tx_dma_frames);
	} else {
		atomic64_inc(&po->tx_errors);
	}
	pfzc_write_space(&po->sk);
}
EXPORT_SYMBOL_GPL(pfzc_zc_tx_complete);

u32 pfzc_zc_tx_inflight(struct pfzc_sock *po)
{
	u32 n;

	spin_lock_bh(&po->tx_dma.lock);
	n = po->tx_dma.inflight;
	spin_unlock_bh(&po->tx_dma.lock);
	return n;
}
EXPORT_SYMBOL_GPL(pfzc_zc_tx_inflight);
