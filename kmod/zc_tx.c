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

static void pfzc_tx_dma_unmap(struct pfzc_tx_dma *td, u32 n)
{
	while (n--)
		dma_unmap_page(td->dev, td->page[n], PAGE_SIZE, DMA_TO_DEVICE);
	kvfree(td->page);
	td->page = NULL;
	td->npages = 0;
	td->dev = NULL;
}

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
	u64 tx_first = (u64)po->rx.entries * umem->frame_size;
	u32 first = tx_first >> PAGE_SHIFT, i;
	u32 n = umem->npages - first;

	if (WARN_ON_ONCE(td->dev) || !dma_dev || !n)
		return -EINVAL;
	td->page = kvcalloc(n, sizeof(*td->page), GFP_KERNEL);
	if (!td->page)
		return -ENOMEM;
	td->dev = dma_dev;
	for (i = 0; i < n; i++) {
		td->page[i] = dma_map_page(dma_dev, umem->pages[first + i], 0,
					   PAGE_SIZE, DMA_TO_DEVICE);
		if (dma_mapping_error(dma_dev, td->page[i])) {
			pfzc_tx_dma_unmap(td, i);
			return -ENOMEM;
		}
	}
	td->first_page = first;
	td->npages = n;
	td->inflight = 0;
	td->cons = po->tx.r.cached_cons;
	return 0;
}

/* After the driver's tx_stop: the NIC reads none of the frames. */
void pfzc_zc_tx_stop(struct pfzc_sock *po)
{
	struct pfzc_tx_dma *td = &po->tx_dma;

	if (!td->dev)
		return;
	WARN_ON_ONCE(td->inflight);
	pfzc_tx_dma_unmap(td, td->npages);
}

/*
 * Gives back [consumer, to): the NIC reads none of their frames. td->cons
 * is the kernel's own copy of the index, which user space cannot rewrite.
 */
static void pfzc_zc_tx_release(struct pfzc_sock *po, u32 to)
{
	po->tx_dma.cons = to;
	smp_store_release(po->tx.r.consumer, to);	/* D, matches A */
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
	u32 invalid_before[PFZC_ZC_TX_BATCH + 1];
	struct pfzc_tx_dma *td = &po->tx_dma;
	struct pfzc_ring *r = &po->tx.r;
	struct pfzc_dev *pd = po->pdev;
	u32 budget = po->tx.entries;
	int err = 0;

	spin_lock_bh(&td->lock);
	while (budget && !err) {
		u32 idx, n, i, cnt = 0, bad = 0, took;
		struct pfzc_desc d;

		n = pfzc_cons_peek(r, min_t(u32, budget, PFZC_ZC_TX_BATCH), &idx);
		if (!n)
			break;
		budget -= n;
		for (i = 0; i < n; i++) {
			u64 off;

			if (!pfzc_tx_desc_get(po, po->dev, idx + i, &d)) {
				bad++;
				continue;
			}
			off = d.addr - ((u64)td->first_page << PAGE_SHIFT);
			f[cnt].dma = td->page[off >> PAGE_SHIFT] + offset_in_page(off);
			f[cnt].len = d.len;
			f[cnt].idx = idx + i;
			invalid_before[cnt++] = bad;
			dma_sync_single_for_device(td->dev, f[cnt - 1].dma,
						   d.len, DMA_TO_DEVICE);
		}
		invalid_before[cnt] = bad;

		took = cnt ? pd->ops->xmit_dma(pd, po, f, cnt) : 0;
		td->inflight += took;
		if (took < cnt) {
			/* the NIC is full: from the first frame it did not
			 * take on, the slots are looked at again next time */
			r->cached_cons = f[took].idx;
			err = -EAGAIN;
		}
		/* counted once: the ones after f[took] are read again */
		atomic64_add(invalid_before[took], &po->tx_invalid);
		if (!td->inflight)
			pfzc_zc_tx_release(po, r->cached_cons);
	}
	spin_unlock_bh(&td->lock);
	return err;
}

/*
 * The NIC is done with frame idx, the oldest in flight: sent, or dropped
 * unsent (a reset). BH off, or under RTNL with the NIC stopped.
 */
void pfzc_zc_tx_complete(struct pfzc_sock *po, u32 idx, bool sent)
{
	struct pfzc_tx_dma *td = &po->tx_dma;
	struct pfzc_ring *r = &po->tx.r;

	spin_lock_bh(&td->lock);
	if (WARN_ON_ONCE(!td->inflight ||
			 idx - td->cons >= r->cached_cons - td->cons)) {
		spin_unlock_bh(&td->lock);
		return;
	}
	td->inflight--;
	pfzc_zc_tx_release(po, td->inflight ? idx + 1 : r->cached_cons);
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
