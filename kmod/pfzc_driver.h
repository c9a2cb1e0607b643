/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PF_ZEROCOPY: the driver-facing API. A network driver that registers its
 * device here can write received frames straight into the buffer of the
 * PF_ZEROCOPY socket bound to it: no sk_buff is built and the protocol
 * stack is not entered, which is the paper's DMA-into-user-memory path.
 * The module's own virtual pair (vnet.c) is the first user; a NIC driver
 * would post the same frames to its DMA engine instead of copying.
 *
 * Setup, process context:
 *
 *   pfzc_dev_register(&priv->pd, dev, &ops)     before register_netdev()
 *   pfzc_dev_unregister(&priv->pd)              after unregister_netdev()
 *
 * A socket with an rx ring that binds to a registered device, its binder
 * holding CAP_NET_ADMIN over the device's namespace, becomes its direct
 * receiver (one per device; a second gets EBUSY). Without one, the driver
 * gets NULL below and hands its frames to the stack as usual, where the
 * sockets' ordinary packet hooks still see them. pfzc_rx_filter() runs
 * the socket's filter of either kind (an eBPF one on a throwaway skb).
 *
 * Receive, with BH disabled (softirq, ndo_start_xmit, or a local_bh_disable()
 * section) and inside rcu_read_lock():
 *
 *   struct pfzc_sock *po = pfzc_rx_get(&priv->pd);
 *   if (!po)
 *           -> the stack
 *   snap = pfzc_rx_filter(po, data, len, dev);    classic BPF, before any copy
 *   if (!snap)
 *           -> done: counted in the socket's rx_filtered
 *   if (pfzc_rx_reserve(po, &f))
 *           -> done: ring full, counted in rx_dropped_ring_full
 *   copy (or DMA) min(snap, f.size) bytes to f.data
 *   pfzc_rx_commit(po, &f, copied, len);          publishes it, wakes the reader
 *
 * Between reserve and commit the socket's producer lock is held and the
 * frame is kmapped: no sleeping, nothing else reserved on that socket, and
 * exactly one of pfzc_rx_commit() or pfzc_rx_abort() follows.
 *
 * Receive by DMA, for a NIC that writes frames into memory it was given:
 * the driver posts the socket's free frames to its receive descriptors and
 * hands each back when the NIC has filled it, so no CPU copy and no skb
 * stand between the wire and the application. ops->rx_switch() tells the
 * driver that the direct receiver changed; it runs under RTNL, in process
 * context, and the driver restarts its receive side from it (as for an
 * MTU change): when it returns, the NIC writes into no frame of the old
 * receiver, and the new one's frames are posted.
 *
 *   restart, process context, RTNL held, the NIC's receive stopped:
 *     po = pfzc_rx_get(&priv->pd)                (in rcu_read_lock())
 *     pfzc_zc_rx_start(po, &pdev->dev)           maps the rx frames; from
 *                                                here until stop, po stays
 *     then post: n = pfzc_zc_rx_post(po, f, free descriptors), each
 *     descriptor <- f[i].dma
 *
 *   completion, NAPI (BH off), in the NIC's order:
 *     pfzc_zc_rx_deliver(po, &f, len, vlan, dev) filter, then the frame
 *                                                goes into the next rx slot
 *                                                (or back to the free ones)
 *     pfzc_zc_rx_recycle(po, &f)                 a frame the NIC spoiled
 *     ... post again, then once per poll:
 *     pfzc_zc_rx_flush(po)                       publishes, wakes the reader
 *
 *   stop, process context, RTNL held, after the NIC was stopped and reset
 *   (it writes nothing more): pfzc_zc_rx_recycle() for every frame still
 *   posted, then pfzc_zc_rx_stop(po).
 *
 * Frames come back as the application releases them: pfzc_zc_rx_post()
 * fails while none is free, the NIC then runs out of descriptors and
 * counts what it misses. The driver posts again on its next poll, and
 * when the reader polls the socket (ops->rx_kick, BH off, RCU): a reader
 * that drained the ring polls before it sleeps.
 *
 * Transmit by DMA, for a NIC that reads frames from memory it was given
 * (ops->xmit_dma): one socket with a tx ring per device, the first to bind
 * (the others send by copy), is its DMA sender. Its tx frames are mapped
 * for the NIC at bind (pd->dma_dev, set by the driver before
 * pfzc_dev_register()), and a kick hands each validated frame's bus
 * address to the driver, in ring order, with no copy and no skb:
 *
 *   kick, BH off, the socket's tx lock held:
 *     n = ops->xmit_dma(pd, po, f, n)            queues f[0..ret) on the
 *                                                NIC, in order; the rest
 *                                                wait for the next kick
 *   completion, BH off or under RTNL with the NIC stopped, in the order
 *   the frames were queued:
 *     pfzc_zc_tx_complete(po, f->idx, sent)      sent: the NIC read it
 *                                                and put it on the wire;
 *                                                false: dropped unsent
 *                                                (reset, link lost)
 *   detach, process context, RTNL held:
 *     ops->tx_stop(pd, po)                       returns when the NIC reads
 *                                                no frame of po and every
 *                                                one came back
 *
 * The NIC may read a frame until it completes: only then does the tx ring's
 * consumer move past its slot (include/uapi/pf_zerocopy.h), so the
 * application rewrites no frame the NIC still reads, and release unmaps
 * and unpins only after tx_stop.
 *
 * Contiguous ring, for a NIC that writes every frame behind the previous
 * one into one buffer (the RTL8139; uapi "Contiguous ring"): the driver
 * sets pd->cring_size (the NIC's wrap size, a power of two) and
 * pd->cring_pad (how far past it a record may run) and pd->dma_dev before
 * pfzc_dev_register(). A socket in that mode that binds becomes the direct
 * receiver, and the module allocates the buffer for pd->dma_dev; the
 * driver then points its NIC at it instead of its own buffer:
 *
 *   (re)start, the NIC's receive stopped, process context:
 *     po = pfzc_rx_get(pd); pfzc_cring_buf(po, &b)   false: no such
 *                                                socket, or its ring ended
 *     NIC buffer <- b.dma, its write and read pointers at 0, walk
 *     from position 0: a ring starts once and ends for good
 *   poll (NAPI, BH off; also when ops->rx_kick schedules it):
 *     check each record the NIC completed (pfzc_cring_validate_rec)
 *     pfzc_cring_publish(po, pos, records)       B: the reader sees them
 *     NIC read pointer <- pfzc_cring_consumer(po) A: what the reader gave back
 *   the NIC stops writing while the socket stays bound (ifdown, a reset
 *   of its receive side, a record that fails the checks):
 *     pfzc_cring_end(po, errno)                  the NIC's own buffer again
 *
 * ops->rx_switch restarts the receive side, as for a DMA receiver, so that
 * when it returns after a detach the NIC writes into its own buffer only.
 *
 * Transmit by copy: a socket's tx ring kick hands each validated frame to
 * ops->xmit_frame() instead of building an skb, with BH disabled and
 * inside rcu_read_lock(). The frame lives in user memory that its owner
 * may rewrite at any time: its address and length were validated once and
 * do not change, but its bytes may, so the driver treats them as data
 * only (the filter bounds checks every load; a sender rewriting a frame it
 * submitted can only make the filter's verdict on that frame stale). It
 * returns 0 when the frame is gone (delivered, or dropped and counted by
 * the driver), or a negative errno (counted in tx_errors).
 */
#ifndef _PFZC_DRIVER_H
#define _PFZC_DRIVER_H

#include <linux/list.h>
#include <linux/netdevice.h>
#include <linux/types.h>

struct pfzc_sock;
struct pfzc_dev;
struct pfzc_zc_tx_frame;

struct pfzc_dev_ops {
	int (*xmit_frame)(struct pfzc_dev *pd, const void *data, u32 len);
	/* optional: a driver that receives by DMA (see above) */
	void (*rx_switch)(struct pfzc_dev *pd);
	void (*rx_kick)(struct pfzc_dev *pd);
	/* optional: a driver that transmits by DMA (see above) */
	u32 (*xmit_dma)(struct pfzc_dev *pd, struct pfzc_sock *po,
			const struct pfzc_zc_tx_frame *f, u32 n);
	void (*tx_stop)(struct pfzc_dev *pd, struct pfzc_sock *po);
};

struct pfzc_dev {
	struct net_device *dev;
	const struct pfzc_dev_ops *ops;
	struct device *dma_dev;		/* xmit_dma: maps the tx frames;
					 * cring: the buffer is for it */
	u32 cring_size;			/* a contiguous ring's wrap, or 0 */
	u32 cring_pad;			/* bytes a record may run on past it */
	struct pfzc_sock __rcu *sock;	/* the direct receiver, or NULL */
	struct pfzc_sock *tx_sock;	/* the DMA sender, or NULL */
	struct list_head node;		/* the module's list of devices */
};

/* A reserved rx frame: the kernel address and size of its buffer. */
struct pfzc_rx_frame {
	void *data;
	u32 size;
	u32 idx;	/* ring slot, private to the API */
};

/* A frame lent to a NIC: where it may write, and which frame it is. */
struct pfzc_zc_frame {
	dma_addr_t dma;
	u32 frame;	/* private to the API */
};

/* A tx frame for the NIC to read: bus address, length, and its ring slot. */
struct pfzc_zc_tx_frame {
	dma_addr_t dma;
	u32 len;
	u32 idx;	/* for pfzc_zc_tx_complete() */
};

/* The contiguous ring's buffer, as the driver points its NIC at it. */
struct pfzc_cring_buf {
	void *data;
	dma_addr_t dma;
	u32 size;
	u32 data_len;
};

void pfzc_dev_register(struct pfzc_dev *pd, struct net_device *dev,
		       const struct pfzc_dev_ops *ops);
void pfzc_dev_unregister(struct pfzc_dev *pd);

struct pfzc_sock *pfzc_rx_get(struct pfzc_dev *pd);
unsigned int pfzc_rx_filter(struct pfzc_sock *po, const void *data, u32 len,
			    const struct net_device *dev);
int pfzc_rx_reserve(struct pfzc_sock *po, struct pfzc_rx_frame *f);
void pfzc_rx_commit(struct pfzc_sock *po, struct pfzc_rx_frame *f, u32 len,
		    u32 orig_len);
void pfzc_rx_abort(struct pfzc_sock *po, struct pfzc_rx_frame *f);

int pfzc_zc_rx_start(struct pfzc_sock *po, struct device *dma_dev);
void pfzc_zc_rx_stop(struct pfzc_sock *po);
u32 pfzc_zc_rx_frame_size(const struct pfzc_sock *po);
u32 pfzc_zc_rx_post(struct pfzc_sock *po, struct pfzc_zc_frame *f, u32 n);
#define PFZC_ZC_NO_VLAN	(-1)
void pfzc_zc_rx_deliver(struct pfzc_sock *po, const struct pfzc_zc_frame *f,
			u32 len, int vlan_tci, const struct net_device *dev);
void pfzc_zc_rx_recycle(struct pfzc_sock *po, const struct pfzc_zc_frame *f);
void pfzc_zc_rx_flush(struct pfzc_sock *po);

bool pfzc_cring_buf(struct pfzc_sock *po, struct pfzc_cring_buf *b);
void pfzc_cring_publish(struct pfzc_sock *po, u32 prod, u32 packets);
u32 pfzc_cring_consumer(struct pfzc_sock *po);
void pfzc_cring_end(struct pfzc_sock *po, int err);

void pfzc_zc_tx_complete(struct pfzc_sock *po, u32 idx, bool sent);
u32 pfzc_zc_tx_inflight(struct pfzc_sock *po);

#endif /* _PFZC_DRIVER_H */
