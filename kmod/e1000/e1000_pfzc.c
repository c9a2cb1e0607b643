// SPDX-License-Identifier: GPL-2.0
/*
 * The e1000 driver's zero-copy receive and transmit for PF_ZEROCOPY: see
 * e1000_pfzc.h.
 *
 * Switching. The module calls rx_switch under RTNL when the device's
 * direct receiver comes or goes; the driver then restarts (as for an MTU
 * change): e1000_down stops receive, resets the MAC, and cleans the rx
 * ring, where e1000_pfzc_clean_rx_ring() gives every lent frame back and
 * unmaps the receiver's pages; e1000_up configures receive again, where
 * e1000_pfzc_configure_rx() picks zero-copy mode if there is a receiver
 * now. So the NIC writes into a receiver's frames only between those two,
 * and never after rx_switch returned for the receiver that left: the
 * module unpins its umem only after that.
 */
#include "e1000.h"

#define E1000_PFZC_POST_BATCH	32

static struct e1000_adapter *pd_adapter(struct pfzc_dev *pd)
{
	return container_of(pd, struct e1000_adapter, pfzc.pd);
}

/*
 * Lends free frames to the descriptors the NIC does not hold, from
 * next_to_use on, and moves the tail over them. With no free frame left
 * (the application holds them all), descriptors stay empty: the NIC then
 * misses frames and counts them (MPC, rx_missed_errors); poll() on the
 * socket, or the next interrupt, posts again.
 */
static void e1000_pfzc_alloc_rx(struct e1000_adapter *adapter,
				struct e1000_rx_ring *rx_ring, int cleaned_count)
{
	struct pfzc_zc_frame f[E1000_PFZC_POST_BATCH];
	struct e1000_pfzc *z = &adapter->pfzc;
	struct e1000_hw *hw = &adapter->hw;
	unsigned int i = rx_ring->next_to_use;
	int want = cleaned_count;

	while (want > 0) {
		u32 ask = min_t(u32, want, E1000_PFZC_POST_BATCH);
		u32 n = pfzc_zc_rx_post(z->po, f, ask), k;

		for (k = 0; k < n; k++) {
			struct e1000_rx_desc *d = E1000_RX_DESC(*rx_ring, i);

			z->posted[i] = f[k];
			d->buffer_addr = cpu_to_le64(f[k].dma);
			if (unlikely(++i == rx_ring->count))
				i = 0;
		}
		want -= n;
		if (n < ask)
			break;
	}
	z->starved = want > 0;

	if (i != rx_ring->next_to_use) {
		rx_ring->next_to_use = i;
		/* the tail as the stock driver sets it: one behind */
		i = i ? i - 1 : rx_ring->count - 1;
		dma_wmb();	/* descriptors before the NIC may fetch them */
		writel(i, hw->hw_addr + rx_ring->rdt);
	}
}

/* NAPI: each completed descriptor's frame to the receiver, in order. */
static bool e1000_pfzc_clean_rx_irq(struct e1000_adapter *adapter,
				    struct e1000_rx_ring *rx_ring,
				    int *work_done, int work_to_do)
{
	struct net_device *netdev = adapter->netdev;
	struct e1000_pfzc *z = &adapter->pfzc;
	unsigned int i = rx_ring->next_to_clean;
	struct e1000_rx_desc *rx_desc = E1000_RX_DESC(*rx_ring, i);
	unsigned int total_bytes = 0, total_packets = 0;
	int cleaned_count = 0;
	bool cleaned = false;

	while (rx_desc->status & E1000_RXD_STAT_DD) {
		struct pfzc_zc_frame *f = &z->posted[i];
		u8 status, errors;
		u32 length;

		if (*work_done >= work_to_do)
			break;
		(*work_done)++;
		dma_rmb();	/* the descriptor's fields after its DD bit */

		status = rx_desc->status;
		errors = rx_desc->errors;
		length = le16_to_cpu(rx_desc->length);

		/* A frame over several buffers is dropped whole, as the stock
		 * driver drops it (frames never exceed one at MTU 1500). */
		if (unlikely(!(status & E1000_RXD_STAT_EOP)))
			adapter->discarding = true;
		if (unlikely(adapter->discarding)) {
			if (status & E1000_RXD_STAT_EOP)
				adapter->discarding = false;
			pfzc_zc_rx_recycle(z->po, f);
		} else if (unlikely((errors & E1000_RXD_ERR_FRAME_ERR_MASK) &&
				    !(netdev->features & NETIF_F_RXALL))) {
			/* counted by the NIC (crcerrs, rxerrc...) */
			pfzc_zc_rx_recycle(z->po, f);
		} else {
			if (likely(!(netdev->features & NETIF_F_RXFCS)) && length >= 4)
				length -= 4;
			total_bytes += length;
			total_packets++;
			pfzc_zc_rx_deliver(z->po, f, length,
					   status & E1000_RXD_STAT_VP ?
					   le16_to_cpu(rx_desc->special) :
					   PFZC_ZC_NO_VLAN, netdev);
		}
		rx_desc->status = 0;
		cleaned = true;
		if (unlikely(++i == rx_ring->count))
			i = 0;
		rx_desc = E1000_RX_DESC(*rx_ring, i);

		/* give the NIC frames back in batches, not only at the end */
		if (unlikely(++cleaned_count >= E1000_RX_BUFFER_WRITE)) {
			rx_ring->next_to_clean = i;
			e1000_pfzc_alloc_rx(adapter, rx_ring,
					    E1000_DESC_UNUSED(rx_ring));
			cleaned_count = 0;
		}
	}
	rx_ring->next_to_clean = i;

	cleaned_count = E1000_DESC_UNUSED(rx_ring);
	if (cleaned_count)
		e1000_pfzc_alloc_rx(adapter, rx_ring, cleaned_count);
	pfzc_zc_rx_flush(z->po);

	adapter->total_rx_packets += total_packets;
	adapter->total_rx_bytes += total_bytes;
	netdev->stats.rx_bytes += total_bytes;
	netdev->stats.rx_packets += total_packets;
	return cleaned;
}

/* e1000_configure_rx(), process context: zero-copy mode if a direct
 * receiver is bound. Anything in the way leaves the stock path on. */
void e1000_pfzc_configure_rx(struct e1000_adapter *adapter)
{
	struct e1000_rx_ring *ring = &adapter->rx_ring[0];
	struct e1000_pfzc *z = &adapter->pfzc;
	struct pfzc_zc_frame *posted;
	struct pfzc_sock *po;

	if (!z->registered || WARN_ON_ONCE(z->po))
		return;
	rcu_read_lock();
	/* stays until rx_switch, which restarts this driver, under RTNL */
	po = pfzc_rx_get(&z->pd);
	rcu_read_unlock();
	if (!po)
		return;
	/* one 2048-byte receive buffer (RCTL.BSIZE) per frame: MTU 1500 */
	if (adapter->netdev->mtu > ETH_DATA_LEN) {
		e_warn(drv, "pf_zerocopy: MTU %u over %u: receiving by copy\n",
		       adapter->netdev->mtu, ETH_DATA_LEN);
		return;
	}
	if (adapter->num_rx_queues != 1 ||
	    pfzc_zc_rx_frame_size(po) < E1000_RXBUFFER_2048) {
		e_warn(drv, "pf_zerocopy: %d receive queues, frames of %u bytes "
		       "(zero copy needs 1 queue and %u-byte frames): receiving by copy\n",
		       adapter->num_rx_queues, pfzc_zc_rx_frame_size(po),
		       E1000_RXBUFFER_2048);
		return;
	}
	posted = kvcalloc(ring->count, sizeof(*posted), GFP_KERNEL);
	if (!posted)
		return;
	if (pfzc_zc_rx_start(po, &adapter->pdev->dev)) {
		kvfree(posted);
		e_err(drv, "pf_zerocopy: cannot map the receiver's frames: "
		      "receiving by copy\n");
		return;
	}
	z->posted = posted;
	z->po = po;
	z->starved = false;
	adapter->clean_rx = e1000_pfzc_clean_rx_irq;
	adapter->alloc_rx_buf = e1000_pfzc_alloc_rx;
}

/*
 * e1000_clean_rx_ring(): true when this was zero-copy mode, now ended.
 * Called after e1000_reset() (e1000_down) or before the NIC ever
 * received, so the NIC writes into none of the frames given back here.
 */
bool e1000_pfzc_clean_rx_ring(struct e1000_adapter *adapter,
			      struct e1000_rx_ring *rx_ring)
{
	struct e1000_pfzc *z = &adapter->pfzc;
	struct e1000_hw *hw = &adapter->hw;
	unsigned int i;

	if (!z->po)
		return false;
	for (i = rx_ring->next_to_clean; i != rx_ring->next_to_use;
	     i = i + 1 == rx_ring->count ? 0 : i + 1)
		pfzc_zc_rx_recycle(z->po, &z->posted[i]);
	pfzc_zc_rx_stop(z->po);
	kvfree(z->posted);
	z->posted = NULL;
	z->po = NULL;
	adapter->discarding = false;

	memset(rx_ring->buffer_info, 0,
	       sizeof(struct e1000_rx_buffer) * rx_ring->count);
	memset(rx_ring->desc, 0, rx_ring->size);
	rx_ring->next_to_clean = 0;
	rx_ring->next_to_use = 0;
	writel(0, hw->hw_addr + rx_ring->rdh);
	writel(0, hw->hw_addr + rx_ring->rdt);
	return true;
}

/* Under RTNL: restart so that e1000_pfzc_configure_rx() sees the change. */
static void e1000_pfzc_rx_switch(struct pfzc_dev *pd)
{
	struct e1000_adapter *adapter = pd_adapter(pd);

	if (netif_running(adapter->netdev))
		e1000_reinit_locked(adapter);
}

/* poll() on the receiver found nothing: post frames it may have freed. */
static void e1000_pfzc_rx_kick(struct pfzc_dev *pd)
{
	struct e1000_adapter *adapter = pd_adapter(pd);

	if (READ_ONCE(adapter->pfzc.starved) &&
	    !test_bit(__E1000_DOWN, &adapter->flags))
		napi_schedule(&adapter->napi);
}

/* ---- transmit by DMA ---- */

/* One legacy descriptor: len bytes at dma, cmd on top of FCS insertion. */
static void e1000_pfzc_tx_put(struct e1000_tx_ring *tx_ring, unsigned int i,
			      dma_addr_t dma, u32 len, u32 cmd)
{
	struct e1000_tx_desc *d = E1000_TX_DESC(*tx_ring, i);
	struct e1000_tx_buffer *b = &tx_ring->buffer_info[i];

	d->buffer_addr = cpu_to_le64(dma);
	d->lower.data = cpu_to_le32(E1000_TXD_CMD_IFCS | cmd | len);
	d->upper.data = 0;
	/* no mapping of its own: the module mapped the umem */
	b->dma = 0;
	b->skb = NULL;
	b->length = len;
	b->mapped_as_page = false;
	b->time_stamp = jiffies;
	b->next_to_watch = i;
	b->segs = 0;
	b->bytecount = 0;
	b->pfzc_po = NULL;
}

/*
 * Free descriptors from i (the next to fill) up to the oldest the NIC
 * holds; next_to_clean moves under NAPI meanwhile, only ever freeing more.
 */
static unsigned int e1000_pfzc_tx_unused(const struct e1000_tx_ring *tx_ring,
					 unsigned int i)
{
	unsigned int clean = READ_ONCE(tx_ring->next_to_clean);

	return (clean > i ? 0 : tx_ring->count) + clean - i - 1;
}

/*
 * Queues frames of the DMA sender po on the NIC, under the tx queue lock
 * that the stack's e1000_xmit_frame() runs under, as it would queue an skb
 * with no offload: one descriptor per frame, two when a frame under 60
 * bytes takes the zero padding after it (the stock driver pads short
 * frames itself: padded by the hardware, they may be corrupted), or when
 * the hardware's erratum after a TSO frame wants the last 4 bytes apart
 * (as e1000_tx_map() splits them). The tail moves once per call.
 */
static u32 e1000_pfzc_xmit_dma(struct pfzc_dev *pd, struct pfzc_sock *po,
			       const struct pfzc_zc_tx_frame *f, u32 n)
{
	struct e1000_adapter *adapter = pd_adapter(pd);
	struct net_device *netdev = adapter->netdev;
	struct e1000_tx_ring *tx_ring = adapter->tx_ring;
	struct netdev_queue *txq = netdev_get_tx_queue(netdev, 0);
	struct e1000_pfzc *z = &adapter->pfzc;
	unsigned int i, first, eop;
	u32 done = 0;

	__netif_tx_lock(txq, smp_processor_id());
	if (netif_xmit_frozen_or_stopped(txq) || !netif_carrier_ok(netdev) ||
	    test_bit(__E1000_DOWN, &adapter->flags))
		goto out;
	i = tx_ring->next_to_use;
	for (; done < n; done++) {
		u32 len = f[done].len;
		bool pad = len < ETH_ZLEN;
		bool split = !pad && tx_ring->last_tx_tso;

		/* two spare, as e1000_xmit_frame() keeps: tail never
		 * reaches head. From i, not next_to_use, which moves only
		 * after the loop (E1000_DESC_UNUSED() would let a batch run
		 * over descriptors the NIC still holds) */
		if (e1000_pfzc_tx_unused(tx_ring, i) < (pad || split ? 2 : 1) + 2)
			break;
		first = i;
		if (pad) {
			e1000_pfzc_tx_put(tx_ring, i, f[done].dma, len, 0);
			if (++i == tx_ring->count)
				i = 0;
			e1000_pfzc_tx_put(tx_ring, i, z->pad_dma, ETH_ZLEN - len,
					  adapter->txd_cmd);
		} else if (split) {
			tx_ring->last_tx_tso = false;
			e1000_pfzc_tx_put(tx_ring, i, f[done].dma, len - 4, 0);
			if (++i == tx_ring->count)
				i = 0;
			e1000_pfzc_tx_put(tx_ring, i, f[done].dma + len - 4, 4,
					  adapter->txd_cmd);
		} else {
			e1000_pfzc_tx_put(tx_ring, i, f[done].dma, len,
					  adapter->txd_cmd);
		}
		eop = i;
		tx_ring->buffer_info[eop].segs = 1;
		tx_ring->buffer_info[eop].bytecount = max_t(u32, len, ETH_ZLEN);
		tx_ring->buffer_info[eop].pfzc_idx = f[done].idx;
		tx_ring->buffer_info[eop].pfzc_po = po;
		tx_ring->buffer_info[first].next_to_watch = eop;
		if (++i == tx_ring->count)
			i = 0;
	}
	if (done) {
		dma_wmb();	/* descriptors before the NIC may fetch them */
		tx_ring->next_to_use = i;
		writel(i, adapter->hw.hw_addr + tx_ring->tdt);
		txq_trans_cond_update(txq);
	}
out:
	__netif_tx_unlock(txq);
	return done;
}

/*
 * e1000_unmap_and_free_tx_resource() on a frame's last buffer: from
 * e1000_clean_tx_irq() once the NIC completed it, or from
 * e1000_clean_tx_ring() after a reset, where a frame the NIC had not
 * completed was not sent (its descriptor done bit says which).
 */
void e1000_pfzc_tx_done(struct e1000_adapter *adapter,
			struct e1000_tx_buffer *buffer_info)
{
	struct e1000_tx_ring *tx_ring = adapter->tx_ring;
	unsigned int i = buffer_info - tx_ring->buffer_info;
	bool sent = le32_to_cpu(E1000_TX_DESC(*tx_ring, i)->upper.data) &
		    E1000_TXD_STAT_DD;

	pfzc_zc_tx_complete(buffer_info->pfzc_po, buffer_info->pfzc_idx, sent);
	buffer_info->pfzc_po = NULL;
}

/*
 * Under RTNL, at the DMA sender's detach: its frames still queued come
 * back by the next clean, which a poll brings about within a few ms; a NIC
 * that does not complete them (its link lost) is reset, which cleans the
 * ring and gives every frame back unsent.
 */
static void e1000_pfzc_tx_stop(struct pfzc_dev *pd, struct pfzc_sock *po)
{
	struct e1000_adapter *adapter = pd_adapter(pd);
	int t;

	for (t = 0; t < 100 && pfzc_zc_tx_inflight(po); t++) {
		if (!netif_running(adapter->netdev))
			break;
		local_bh_disable();
		napi_schedule(&adapter->napi);
		local_bh_enable();
		usleep_range(1000, 2000);
	}
	if (pfzc_zc_tx_inflight(po) && netif_running(adapter->netdev))
		e1000_reinit_locked(adapter);
	WARN_ON_ONCE(pfzc_zc_tx_inflight(po));
}

static const struct pfzc_dev_ops e1000_pfzc_ops = {
	.rx_switch = e1000_pfzc_rx_switch,
	.rx_kick = e1000_pfzc_rx_kick,
};

static const struct pfzc_dev_ops e1000_pfzc_dma_tx_ops = {
	.rx_switch = e1000_pfzc_rx_switch,
	.rx_kick = e1000_pfzc_rx_kick,
	.xmit_dma = e1000_pfzc_xmit_dma,
	.tx_stop = e1000_pfzc_tx_stop,
};

/*
 * Before register_netdev(). Transmit by DMA where the stock driver needs
 * no workaround that rewrites or times a frame (the 82547's FIFO, the
 * 82544 on PCI-X), and with the padding mapped; receive by DMA always.
 */
void e1000_pfzc_probe(struct e1000_adapter *adapter)
{
	struct e1000_pfzc *z = &adapter->pfzc;
	struct e1000_hw *hw = &adapter->hw;
	const struct pfzc_dev_ops *ops = &e1000_pfzc_ops;

	if (hw->mac_type != e1000_82547 && hw->mac_type != e1000_82547_rev_2 &&
	    !adapter->pcix_82544 && hw->bus_type != e1000_bus_type_pcix) {
		z->pad = dma_alloc_coherent(&adapter->pdev->dev, ETH_ZLEN,
					    &z->pad_dma, GFP_KERNEL);
		if (z->pad)
			ops = &e1000_pfzc_dma_tx_ops;
	}
	z->pd.dma_dev = &adapter->pdev->dev;
	pfzc_dev_register(&z->pd, adapter->netdev, ops);
	z->registered = true;
}

/* After unregister_netdev(), or when register_netdev() failed. */
void e1000_pfzc_remove(struct e1000_adapter *adapter)
{
	struct e1000_pfzc *z = &adapter->pfzc;

	if (!z->registered)
		return;
	pfzc_dev_unregister(&z->pd);
	z->registered = false;
	if (z->pad)
		dma_free_coherent(&adapter->pdev->dev, ETH_ZLEN, z->pad,
				  z->pad_dma);
	z->pad = NULL;
}
