// SPDX-License-Identifier: GPL-2.0
/*
 * PF_ZEROCOPY: the rx ring's producer side, and the driver-facing API over
 * it (pfzc_driver.h). The packet hook (rx.c) and drivers with a direct
 * receiver both fill the ring through pfzc_rx_reserve()/__pfzc_rx_commit().
 */
#include <linux/capability.h>
#include <linux/dma-mapping.h>
#include <linux/etherdevice.h>
#include <linux/highmem.h>
#include <linux/mutex.h>

#include "pfzc.h"

/* Registered devices. Innermost lock: taken under po->lock and RTNL. */
static DEFINE_MUTEX(pfzc_devs_lock);
static LIST_HEAD(pfzc_devs);

void pfzc_dev_register(struct pfzc_dev *pd, struct net_device *dev,
		       const struct pfzc_dev_ops *ops)
{
	pd->dev = dev;
	pd->ops = ops;
	RCU_INIT_POINTER(pd->sock, NULL);
	pd->tx_sock = NULL;
	mutex_lock(&pfzc_devs_lock);
	list_add_tail(&pd->node, &pfzc_devs);
	mutex_unlock(&pfzc_devs_lock);
}
EXPORT_SYMBOL_GPL(pfzc_dev_register);

/*
 * The device is unregistered by now, so the notifier has detached its
 * receiver (pfzc_unhook()), and the core has waited for a grace period
 * after the notifiers, which the readers of pd->sock are done by. A
 * second call is a no-op, which keeps drivers' error paths simple.
 */
void pfzc_dev_unregister(struct pfzc_dev *pd)
{
	mutex_lock(&pfzc_devs_lock);
	if (!list_empty(&pd->node)) {
		WARN_ON(rcu_access_pointer(pd->sock) || pd->tx_sock);
		list_del_init(&pd->node);
	}
	mutex_unlock(&pfzc_devs_lock);
}
EXPORT_SYMBOL_GPL(pfzc_dev_unregister);

/*
 * At bind: po->pdev is set when dev is registered here (its tx ring then
 * goes through ops->xmit_frame), and po becomes dev's direct receiver if
 * it has an rx ring and its binder may divert the device's traffic.
 * -EBUSY if another socket already is: while it is, frames do not reach
 * the stack, so a second socket would silently see nothing. A socket with
 * a tx ring becomes the device's DMA sender if its driver transmits by DMA
 * and no other socket is; otherwise it sends by copy, as it always can.
 * Called with po->lock and RTNL held, in the binder's context.
 */
int pfzc_dev_attach(struct pfzc_sock *po, struct net_device *dev)
{
	struct pfzc_dev *pd;
	bool divert, dma_tx = false;
	int err = 0;

	/*
	 * A direct receiver takes the device's frames away from the stack:
	 * that is diverting traffic, which AF_XDP gates behind CAP_NET_ADMIN,
	 * not observing it, which is all CAP_NET_RAW grants AF_PACKET.
	 * Without it the socket still binds and copies from the packet hook.
	 * noaudit: lacking it is an ordinary fallback, not a denial to log.
	 */
	divert = pfzc_sock_rx_shared(po) &&
		 ns_capable_noaudit(dev_net(dev)->user_ns, CAP_NET_ADMIN);
	/* a contiguous ring has no copying fallback */
	if (po->cring.ctl && !divert)
		return -EPERM;

	mutex_lock(&pfzc_devs_lock);
	list_for_each_entry(pd, &pfzc_devs, node) {
		if (pd->dev != dev)
			continue;
		if (pfzc_sock_rx_shared(po) && rcu_access_pointer(pd->sock)) {
			err = -EBUSY;
			break;
		}
		if (po->cring.ctl) {
			err = pd->cring_size ? pfzc_cring_alloc(po, pd) : -EOPNOTSUPP;
			if (err)
				break;
		}
		WRITE_ONCE(po->pdev, pd);
		if (divert) {
			po->direct = true;
			rcu_assign_pointer(pd->sock, po);
		}
		if (po->tx.map && pd->ops->xmit_dma && !pd->tx_sock) {
			pd->tx_sock = po;
			dma_tx = true;
		}
		break;
	}
	mutex_unlock(&pfzc_devs_lock);
	if (!err && po->cring.ctl && !po->pdev)
		err = -EOPNOTSUPP;	/* no driver of ours: no such buffer */
	if (err)
		return err;
	/* no memory to map the frames: this socket sends by copy */
	if (dma_tx && pfzc_zc_tx_start(po, po->pdev->dma_dev)) {
		mutex_lock(&pfzc_devs_lock);
		po->pdev->tx_sock = NULL;
		mutex_unlock(&pfzc_devs_lock);
	}
	if (po->direct && po->pdev->ops->rx_switch)
		po->pdev->ops->rx_switch(po->pdev);
	return 0;
}

/*
 * Whether detaching po needs RTNL: its driver restarts its receive side,
 * or stops its DMA from po's tx frames.
 */
bool pfzc_dev_switches(const struct pfzc_sock *po)
{
	return (po->direct && po->pdev->ops->rx_switch) || po->tx_dma.map.dev;
}

/*
 * The caller waits for a grace period before the rings go. A driver that
 * DMAs into the frames stops doing so in rx_switch, and from them in
 * tx_stop, before this returns: RTNL is held (the notifier, and release
 * and bind of such a socket).
 */
void pfzc_dev_detach(struct pfzc_sock *po)
{
	if (po->direct) {
		mutex_lock(&pfzc_devs_lock);
		RCU_INIT_POINTER(po->pdev->sock, NULL);
		mutex_unlock(&pfzc_devs_lock);
		if (po->pdev->ops->rx_switch) {
			ASSERT_RTNL();
			po->pdev->ops->rx_switch(po->pdev);
		}
		po->direct = false;
	}
	if (po->tx_dma.map.dev) {
		ASSERT_RTNL();
		po->pdev->ops->tx_stop(po->pdev, po);
		pfzc_zc_tx_stop(po);
		mutex_lock(&pfzc_devs_lock);
		po->pdev->tx_sock = NULL;
		mutex_unlock(&pfzc_devs_lock);
	}
	WRITE_ONCE(po->pdev, NULL);
	WARN_ON_ONCE(po->rx_dma.dev);
}

/*
 * From poll() with nothing to read: a NIC that stalled for want of free
 * frames gets them posted again now that the reader may have released
 * some. po->pdev and the device stay valid in the RCU section: a device
 * being unregistered unhooks its sockets, then waits for a grace period.
 */
void pfzc_rx_kick(struct pfzc_sock *po)
{
	struct pfzc_dev *pd;

	rcu_read_lock();
	pd = READ_ONCE(po->pdev);
	if (pd && pd->ops->rx_kick && rcu_access_pointer(pd->sock) == po) {
		local_bh_disable();
		pd->ops->rx_kick(pd);
		local_bh_enable();
	}
	rcu_read_unlock();
}

/*
 * The socket's filter is not looked at here: pfzc_rx_filter() reads it,
 * once, and runs whichever kind it finds.
 */
struct pfzc_sock *pfzc_rx_get(struct pfzc_dev *pd)
{
	return rcu_dereference(pd->sock);
}
EXPORT_SYMBOL_GPL(pfzc_rx_get);

/*
 * An eBPF socket filter needs an skb: a throwaway one around a copy of the
 * frame, laid out as the packet hook sees one (data at the MAC header,
 * protocol and pkt_type from it). A runt has no Ethernet header to give it,
 * and no memory means no verdict: both are dropped.
 */
static unsigned int pfzc_rx_run_ebpf(const struct bpf_prog *prog,
				     const void *data, u32 len,
				     const struct net_device *dev)
{
	struct sk_buff *skb;
	unsigned int res;

	if (len < ETH_HLEN)
		return 0;
	skb = alloc_skb(len, GFP_ATOMIC);
	if (!skb)
		return 0;
	skb_put_data(skb, data, len);
	/* the skb is private and the program only reads the device */
	skb->protocol = eth_type_trans(skb, (struct net_device *)dev);
	skb_reset_network_header(skb);
	skb_push(skb, ETH_HLEN);
	res = bpf_prog_run_clear_cb(prog, skb);
	consume_skb(skb);
	return res;
}

unsigned int pfzc_rx_filter(struct pfzc_sock *po, const void *data, u32 len,
			    const struct net_device *dev)
{
	/*
	 * Read once: with two reads, a classic filter swapped for an eBPF
	 * one in between would see the frame run through neither.
	 */
	struct sk_filter *filter = rcu_dereference(po->sk.sk_filter);
	unsigned int snap = len;

	if (filter) {
		if (filter->prog->orig_prog)
			snap = pfzc_cbpf_run(filter->prog->orig_prog, data,
					     len, dev);
		else
			snap = pfzc_rx_run_ebpf(filter->prog, data, len, dev);
		snap = min(snap, len);
	}
	if (!snap)
		atomic64_inc(&po->rx_filtered);
	return snap;
}
EXPORT_SYMBOL_GPL(pfzc_rx_filter);

/* ---- rx frames (struct pfzc_rx_frames), under rx_lock ---- */

int pfzc_rx_frames_init(struct pfzc_sock *po)
{
	struct pfzc_rx_frames *rf = &po->rxf;
	u32 n = po->rx.entries, i;

	rf->slot_frame = kvcalloc(n, sizeof(u32), GFP_KERNEL_ACCOUNT);
	rf->free = kvcalloc(n, sizeof(u32), GFP_KERNEL_ACCOUNT);
	if (!rf->slot_frame || !rf->free) {
		pfzc_rx_frames_free(po);
		return -ENOMEM;
	}
	/* in order: a capture nobody DMAs into fills frame i from slot i */
	for (i = 0; i < n; i++)
		rf->free[i] = i;
	rf->head = 0;
	rf->tail = n;
	rf->reclaimed = 0;
	rf->published = 0;
	return 0;
}

void pfzc_rx_frames_free(struct pfzc_sock *po)
{
	kvfree(po->rxf.slot_frame);
	kvfree(po->rxf.free);
	po->rxf.slot_frame = NULL;
	po->rxf.free = NULL;
}

/*
 * Frames of the slots the consumer moved past go back to free[]. The
 * consumer index is user space's: it is used only if it lies between what
 * was reclaimed and what was published, so a garbage one gives nothing
 * back and never hands out a frame twice.
 */
static void pfzc_rxf_reclaim(struct pfzc_sock *po)
{
	struct pfzc_rx_frames *rf = &po->rxf;
	struct pfzc_ring *r = &po->rx.r;
	u32 cons = smp_load_acquire(r->consumer);	/* A, matches D */

	if (cons - rf->reclaimed > rf->published - rf->reclaimed)
		return;
	while (rf->reclaimed != cons)
		rf->free[rf->tail++ & r->mask] =
			rf->slot_frame[rf->reclaimed++ & r->mask];
}

static bool pfzc_rxf_get(struct pfzc_sock *po, u32 *frame)
{
	struct pfzc_rx_frames *rf = &po->rxf;

	if (rf->head == rf->tail) {
		pfzc_rxf_reclaim(po);
		if (rf->head == rf->tail)
			return false;
	}
	*frame = rf->free[rf->head++ & po->rx.r.mask];
	return true;
}

static void pfzc_rxf_put(struct pfzc_sock *po, u32 frame)
{
	po->rxf.free[po->rxf.tail++ & po->rx.r.mask] = frame;
}

/* The next rx slot for frame: false when there is none (ring full). */
static bool pfzc_rxf_slot(struct pfzc_sock *po, u32 frame, u32 *idx)
{
	struct pfzc_ring *r = &po->rx.r;

	if (!pfzc_prod_reserve(r, 1, idx))
		return false;
	po->rxf.slot_frame[*idx & r->mask] = frame;
	return true;
}

static void pfzc_rxf_publish(struct pfzc_sock *po)
{
	struct pfzc_ring *r = &po->rx.r;

	po->rxf.published = r->cached_prod;
	pfzc_prod_submit(r);
}

static void *pfzc_rxf_kmap(struct pfzc_sock *po, u32 frame)
{
	u64 off = (u64)frame * po->umem->frame_size;

	return kmap_local_page(pfzc_umem_page(po->umem, off)) +
	       offset_in_page(off);
}

int pfzc_rx_reserve(struct pfzc_sock *po, struct pfzc_rx_frame *f)
	__acquires(&po->rx_lock)
{
	u32 frame, idx;

	/* several CPUs may deliver to this socket at once */
	spin_lock(&po->rx_lock);
	if (!pfzc_rxf_get(po, &frame)) {
		spin_unlock(&po->rx_lock);
		atomic64_inc(&po->rx_dropped_ring_full);
		return -ENOBUFS;
	}
	if (!pfzc_rxf_slot(po, frame, &idx)) {
		po->rxf.free[--po->rxf.head & po->rx.r.mask] = frame;
		spin_unlock(&po->rx_lock);
		atomic64_inc(&po->rx_dropped_ring_full);
		return -ENOBUFS;
	}
	f->data = pfzc_rxf_kmap(po, frame);
	f->size = po->umem->frame_size;
	f->idx = idx;
	return 0;
}
EXPORT_SYMBOL_GPL(pfzc_rx_reserve);

void pfzc_rx_abort(struct pfzc_sock *po, struct pfzc_rx_frame *f)
	__releases(&po->rx_lock)
{
	struct pfzc_ring *r = &po->rx.r;

	kunmap_local(f->data);
	/* not published yet: giving the slot and its frame back is private */
	po->rxf.free[--po->rxf.head & r->mask] = po->rxf.slot_frame[f->idx & r->mask];
	r->cached_prod--;
	spin_unlock(&po->rx_lock);
}
EXPORT_SYMBOL_GPL(pfzc_rx_abort);

/* meta carries len, orig_len, flags and vlan_tci; addr and ts are set here */
void __pfzc_rx_commit(struct pfzc_sock *po, struct pfzc_rx_frame *f,
		      const struct pfzc_desc *meta, u64 ts_ns)
	__releases(&po->rx_lock)
{
	struct pfzc_ring *r = &po->rx.r;
	struct pfzc_desc *d = pfzc_prod_desc(r, f->idx);
	u64 off = (u64)po->rxf.slot_frame[f->idx & r->mask] * po->umem->frame_size;

	flush_dcache_page(pfzc_umem_page(po->umem, off));
	kunmap_local(f->data);
	*d = *meta;
	d->addr = off;
	d->ts_ns = ts_ns;
	pfzc_rxf_publish(po);
	spin_unlock(&po->rx_lock);

	atomic64_inc(&po->rx_packets);
	atomic64_inc(&po->rx_copied);
	if (meta->len < meta->orig_len)
		atomic64_inc(&po->rx_truncated);
	po->sk.sk_data_ready(&po->sk);
}

void pfzc_rx_commit(struct pfzc_sock *po, struct pfzc_rx_frame *f, u32 len,
		    u32 orig_len)
	__releases(&po->rx_lock)
{
	struct pfzc_desc meta = { .len = len, .orig_len = orig_len };

	if (len < orig_len)
		meta.flags |= PFZC_DESC_TRUNCATED;
	__pfzc_rx_commit(po, f, &meta, ktime_get_real_ns());
}
EXPORT_SYMBOL_GPL(pfzc_rx_commit);

/* ---- receive by DMA (pfzc_driver.h) ---- */

u32 pfzc_zc_rx_frame_size(const struct pfzc_sock *po)
{
	return po->umem->frame_size;
}
EXPORT_SYMBOL_GPL(pfzc_zc_rx_frame_size);

/*
 * The pages of the rx frames, mapped once for the NIC: frames are lent and
 * returned at packet rate, pages are mapped here only. The umem stays
 * pinned until release, which comes after the driver's stop (detach runs
 * rx_switch under RTNL before the rings and the umem go).
 */
int pfzc_zc_rx_start(struct pfzc_sock *po, struct device *dma_dev)
{
	u64 bytes = (u64)po->rx.entries * po->umem->frame_size;

	if (WARN_ON_ONCE(po->rx_dma.dev))
		return -EBUSY;
	return pfzc_dma_pages_map(&po->rx_dma, po->umem, dma_dev, 0,
				  DIV_ROUND_UP_ULL(bytes, PAGE_SIZE),
				  DMA_FROM_DEVICE);
}
EXPORT_SYMBOL_GPL(pfzc_zc_rx_start);

/* The NIC writes nothing more, and every posted frame came back. */
void pfzc_zc_rx_stop(struct pfzc_sock *po)
{
	if (po->rx_dma.dev)
		pfzc_dma_pages_unmap(&po->rx_dma);
}
EXPORT_SYMBOL_GPL(pfzc_zc_rx_stop);

/* Lends up to n free frames; returns how many (0 while none is free). */
u32 pfzc_zc_rx_post(struct pfzc_sock *po, struct pfzc_zc_frame *f, u32 n)
{
	struct pfzc_dma_pages *rd = &po->rx_dma;
	u32 fs = po->umem->frame_size, got, i;

	spin_lock_bh(&po->rx_lock);
	for (got = 0; got < n; got++)
		if (!pfzc_rxf_get(po, &f[got].frame))
			break;
	spin_unlock_bh(&po->rx_lock);
	for (i = 0; i < got; i++) {
		u64 off = (u64)f[i].frame * fs;

		f[i].dma = pfzc_dma_pages_addr(rd, off);
		dma_sync_single_for_device(rd->dev, f[i].dma, fs, DMA_FROM_DEVICE);
	}
	return got;
}
EXPORT_SYMBOL_GPL(pfzc_zc_rx_post);

void pfzc_zc_rx_recycle(struct pfzc_sock *po, const struct pfzc_zc_frame *f)
{
	spin_lock_bh(&po->rx_lock);
	pfzc_rxf_put(po, f->frame);
	spin_unlock_bh(&po->rx_lock);
}
EXPORT_SYMBOL_GPL(pfzc_zc_rx_recycle);

/*
 * The NIC wrote len bytes (the frame on the wire, without FCS) into f.
 * The filter reads them in place; a kept frame takes the next rx slot,
 * published by pfzc_zc_rx_flush(), and a rejected one goes back to the
 * free frames. vlan_tci: a tag the NIC took off, or PFZC_ZC_NO_VLAN.
 */
void pfzc_zc_rx_deliver(struct pfzc_sock *po, const struct pfzc_zc_frame *f,
			u32 len, int vlan_tci, const struct net_device *dev)
{
	u32 fs = po->umem->frame_size;
	struct pfzc_desc *d;
	unsigned int snap;
	void *data;
	u32 idx;

	len = min(len, fs);
	dma_sync_single_for_cpu(po->rx_dma.dev, f->dma, len, DMA_FROM_DEVICE);
	data = pfzc_rxf_kmap(po, f->frame);
	rcu_read_lock();	/* the filter */
	snap = pfzc_rx_filter(po, data, len, dev);
	rcu_read_unlock();
	kunmap_local(data);

	spin_lock_bh(&po->rx_lock);
	if (!snap || !pfzc_rxf_slot(po, f->frame, &idx)) {
		pfzc_rxf_put(po, f->frame);
		spin_unlock_bh(&po->rx_lock);
		if (snap)
			atomic64_inc(&po->rx_dropped_ring_full);
		return;
	}
	d = pfzc_prod_desc(&po->rx.r, idx);
	*d = (struct pfzc_desc){
		.addr = (u64)f->frame * fs,
		.len = snap,
		.orig_len = len,
		.ts_ns = ktime_get_real_ns(),
		.flags = snap < len ? PFZC_DESC_TRUNCATED : 0,
	};
	if (vlan_tci != PFZC_ZC_NO_VLAN) {
		d->flags |= PFZC_DESC_VLAN;
		d->vlan_tci = (u16)vlan_tci;
	}
	spin_unlock_bh(&po->rx_lock);

	atomic64_inc(&po->rx_packets);
	atomic64_inc(&po->rx_dma_frames);
	if (snap < len)
		atomic64_inc(&po->rx_truncated);
}
EXPORT_SYMBOL_GPL(pfzc_zc_rx_deliver);

void pfzc_zc_rx_flush(struct pfzc_sock *po)
{
	bool wake;

	spin_lock_bh(&po->rx_lock);
	wake = po->rx.r.cached_prod != po->rxf.published;
	if (wake)
		pfzc_rxf_publish(po);
	spin_unlock_bh(&po->rx_lock);
	if (wake)
		po->sk.sk_data_ready(&po->sk);
}
EXPORT_SYMBOL_GPL(pfzc_zc_rx_flush);
