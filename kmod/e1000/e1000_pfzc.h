/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The e1000 driver's zero-copy receive for PF_ZEROCOPY (kmod/pfzc_driver.h):
 * while a direct receiver is bound to the device, the NIC's receive
 * descriptors point at the receiver's frames in its pinned umem, and each
 * completed descriptor hands its frame to the receiver's rx ring, with no
 * skb and no copy. Without one, the driver is the stock e1000.
 *
 * The hooks below are called from Debian's own e1000 sources, patched at
 * build time (e1000-pfzc.patch); everything else is here.
 *
 * Ownership of the receive descriptors in zero-copy mode, as in the stock
 * driver: [next_to_clean, next_to_use) are the NIC's, each holding the
 * frame posted[i] lent by pfzc_zc_rx_post(); the others hold nothing.
 * Every lent frame goes back to the socket exactly once: delivered or
 * recycled on completion, or recycled by e1000_pfzc_clean_rx_ring() after
 * the NIC was reset, before the socket lets go of its frames.
 *
 * Transmit by DMA: the DMA sender's frames share the transmit descriptors
 * with the stack's skbs, under the same tx queue lock and the same
 * ownership ([next_to_clean, next_to_use) are the NIC's). A frame's
 * descriptors point into the umem (and, for a frame under 60 bytes, at the
 * zero padding after it); its last buffer holds the socket and the slot,
 * and no DMA mapping of its own. Each such frame goes back to the socket
 * exactly once, from e1000_unmap_and_free_tx_resource(): on completion, or
 * when a reset or the link going down cleans the ring.
 */
#ifndef _E1000_PFZC_H_
#define _E1000_PFZC_H_

#include "pfzc_driver.h"

struct e1000_adapter;
struct e1000_rx_ring;
struct e1000_tx_buffer;

struct e1000_pfzc {
	struct pfzc_dev pd;
	bool registered;
	struct pfzc_sock *po;		/* zero-copy mode: the receiver */
	struct pfzc_zc_frame *posted;	/* per rx descriptor */
	bool starved;			/* descriptors left empty: no free frame */
	void *pad;			/* ETH_ZLEN zero bytes, for short frames */
	dma_addr_t pad_dma;
};

void e1000_pfzc_probe(struct e1000_adapter *adapter);
void e1000_pfzc_remove(struct e1000_adapter *adapter);
void e1000_pfzc_configure_rx(struct e1000_adapter *adapter);
bool e1000_pfzc_clean_rx_ring(struct e1000_adapter *adapter,
			      struct e1000_rx_ring *rx_ring);
void e1000_pfzc_tx_done(struct e1000_adapter *adapter,
			struct e1000_tx_buffer *buffer_info);

#endif /* _E1000_PFZC_H_ */
