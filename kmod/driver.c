// SPDX-License-Identifier: GPL-2.0
/*
 * PF_ZEROCOPY: the rx ring's producer side, and the driver-facing API over
 * it (pfzc_driver.h). The packet hook (rx.c) and drivers with a direct
 * receiver both fill the ring through pfzc_rx_reserve()/__pfzc_rx_commit().
 */
#include <linux/capability.h>
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
		WARN_ON(rcu_access_pointer(pd->sock));
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
 * the stack, so a second socket would silently see nothing. Called with
 * po->lock held, in the binder's context.
 */
int pfzc_dev_attach(struct pfzc_sock *po, struct net_device *dev)
{
	struct pfzc_dev *pd;
	bool divert;
	int err = 0;

	/*
	 * A direct receiver takes the device's frames away from the stack:
	 * that is diverting traffic, which AF_XDP gates behind CAP_NET_ADMIN,
	 * not observing it, which is all CAP_NET_RAW grants AF_PACKET.
	 * Without it the socket still binds and copies from the packet hook.
	 * noaudit: lacking it is an ordinary fallback, not a denial to log.
	 */
	divert = po->rx.map &&
		 ns_capable_noaudit(dev_net(dev)->user_ns, CAP_NET_ADMIN);

	mutex_lock(&pfzc_devs_lock);
	list_for_each_entry(pd, &pfzc_devs, node) {
		if (pd->dev != dev)
			continue;
		if (po->rx.map && rcu_access_pointer(pd->sock)) {
			err = -EBUSY;
			break;
		}
		po->pdev = pd;
		if (divert) {
			po->direct = true;
			rcu_assign_pointer(pd->sock, po);
		}
		break;
	}
	mutex_unlock(&pfzc_devs_lock);
	return err;
}

/* The caller waits for a grace period before the rings go. */
void pfzc_dev_detach(struct pfzc_sock *po)
{
	if (po->direct) {
		mutex_lock(&pfzc_devs_lock);
		RCU_INIT_POINTER(po->pdev->sock, NULL);
		mutex_unlock(&pfzc_devs_lock);
		po->direct = false;
	}
	po->pdev = NULL;
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

int pfzc_rx_reserve(struct pfzc_sock *po, struct pfzc_rx_frame *f)
	__acquires(&po->rx_lock)
{
	struct pfzc_umem *umem = po->umem;
	struct pfzc_ring *r = &po->rx.r;
	u64 off;
	u32 idx;

	/* several CPUs may deliver to this socket at once */
	spin_lock(&po->rx_lock);
	if (!pfzc_prod_reserve(r, 1, &idx)) {
		spin_unlock(&po->rx_lock);
		atomic64_inc(&po->rx_dropped_ring_full);
		return -ENOBUFS;
	}
	/* rx slot i always owns frame i, which never crosses a page */
	off = (u64)(idx & r->mask) * umem->frame_size;
	f->data = kmap_local_page(pfzc_umem_page(umem, off)) +
		  offset_in_page(off);
	f->size = umem->frame_size;
	f->idx = idx;
	return 0;
}
EXPORT_SYMBOL_GPL(pfzc_rx_reserve);

void pfzc_rx_abort(struct pfzc_sock *po, struct pfzc_rx_frame *f)
	__releases(&po->rx_lock)
{
	kunmap_local(f->data);
	/* not published yet: giving the slot back is private */
	po->rx.r.cached_prod--;
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
	u32 frame = f->idx & r->mask;

	flush_dcache_page(pfzc_umem_page(po->umem, (u64)frame * po->umem->frame_size));
	kunmap_local(f->data);
	*d = *meta;
	d->addr = (u64)frame * po->umem->frame_size;
	d->ts_ns = ts_ns;
	pfzc_prod_submit(r);
	spin_unlock(&po->rx_lock);

	atomic64_inc(&po->rx_packets);
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
