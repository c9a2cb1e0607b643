// SPDX-License-Identifier: GPL-2.0
/*
 * The e1000 driver's zero-copy receive for PF_ZEROCOPY: see e1000_pfzc.h.
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

static const struct pfzc_dev_ops e1000_pfzc_ops = {
	.rx_switch = e1000_pfzc_rx_switch,
	.rx_kick = e1000_pfzc_rx_kick,
};

/* Before register_netdev(). */
void e1000_pfzc_probe(struct e1000_adapter *adapter)
{
	pfzc_dev_register(&adapter->pfzc.pd, adapter->netdev, &e1000_pfzc_ops);
	adapter->pfzc.registered = true;
}

/* After unregister_netdev(), or when register_netdev() failed. */
void e1000_pfzc_remove(struct e1000_adapter *adapter)
{
	if (!adapter->pfzc.registered)
		return;
	pfzc_dev_unregister(&adapter->pfzc.pd);
	adapter->pfzc.registered = false;
}
