// SPDX-License-Identifier: GPL-2.0
/*
 * PF_ZEROCOPY: transmit, from the tx ring on a kick or one frame per
 * sendmsg() for programs that do not map the rings.
 */
#include <linux/etherdevice.h>
#include <linux/highmem.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/skbuff.h>

#include "pfzc.h"

/* Frames sent per round before the consumer index is handed back. */
#define PFZC_TX_BATCH	64

/*
 * User space may rewrite the descriptor at any time: every field is read
 * exactly once, and only this copy is validated and used.
 */
static void pfzc_desc_read_once(struct pfzc_desc *d, const struct pfzc_desc *s)
{
	d->addr = READ_ONCE(s->addr);
	d->len = READ_ONCE(s->len);
	d->orig_len = 0;
	d->ts_ns = 0;
	d->flags = READ_ONCE(s->flags);
	d->vlan_tci = READ_ONCE(s->vlan_tci);
	d->reserved = READ_ONCE(s->reserved);
}

/*
 * Bind takes only plain Ethernet links; the check is repeated here because
 * a device's type may change under a bound socket (a bond taking its first
 * slave's). A frame is at least an Ethernet header: its bytes 12-13 become
 * skb->protocol.
 */
static bool pfzc_tx_len_ok(const struct net_device *dev, size_t len)
{
	return len >= ETH_HLEN && len <= dev->mtu + dev->hard_header_len;
}

static void pfzc_tx_setup(struct sk_buff *skb, struct net_device *dev)
{
	struct sock *sk = skb->sk;

	skb->protocol = eth_hdr(skb)->h_proto;
	skb_set_network_header(skb, ETH_HLEN);
	skb->dev = dev;
	skb->priority = READ_ONCE(sk->sk_priority);
	skb->mark = READ_ONCE(sk->sk_mark);
}

static void pfzc_tx_count(struct pfzc_sock *po, int rc)
{
	if (net_xmit_eval(rc) == 0) {
		atomic64_inc(&po->tx_packets);
		atomic64_inc(&po->tx_copied);
	} else {
		atomic64_inc(&po->tx_errors);
	}
}

/*
 * Slot idx of the tx ring, read once into d and validated there: false
 * when it names no tx frame or no sendable length (the caller counts it in
 * tx_invalid once it has dealt with the slot).
 */
bool pfzc_tx_desc_get(struct pfzc_sock *po, const struct net_device *dev,
		      u32 idx, struct pfzc_desc *d)
{
	struct pfzc_umem *umem = po->umem;
	u64 tx_first = (u64)po->rx.entries * umem->frame_size;

	pfzc_desc_read_once(d, pfzc_cons_desc(&po->tx.r, idx));
	return pfzc_validate_tx_desc(d, tx_first, umem->len, umem->frame_size) &&
	       pfzc_tx_len_ok(dev, d->len);
}

/* Sends one validated descriptor. Called with po->lock held. */
static void pfzc_tx_frame(struct pfzc_sock *po, struct net_device *dev,
			  const struct pfzc_desc *d)
{
	struct pfzc_umem *umem = po->umem;
	int hlen = LL_RESERVED_SPACE(dev);
	int tlen = dev->needed_tailroom;
	struct sk_buff *skb;
	struct page *page;
	u8 *va;

	/*
	 * Charged to the socket so it outlives its skbs, and so the packet
	 * hook (skb_loop_sk) does not capture the socket's own frames; not
	 * limited by sk_sndbuf, the ring already bounds a kick.
	 */
	skb = sock_wmalloc(&po->sk, hlen + tlen + d->len, 1, GFP_KERNEL);
	if (!skb) {
		atomic64_inc(&po->tx_errors);
		return;
	}
	skb_reserve(skb, hlen);
	skb_reset_mac_header(skb);
	/* validated: the frame is inside the umem and within one page */
	page = pfzc_umem_page(umem, d->addr);
	va = kmap_local_page(page);
	skb_put_data(skb, va + offset_in_page(d->addr), d->len);
	kunmap_local(va);

	pfzc_tx_setup(skb, dev);
	pfzc_tx_count(po, dev_queue_xmit(skb));
}

/*
 * A registered driver takes the frame straight from the umem: no skb. The
 * frame stays kmapped only for the call, which copies it once.
 */
static void pfzc_tx_direct(struct pfzc_sock *po, const struct pfzc_desc *d)
{
	struct pfzc_dev *pd = po->pdev;
	u8 *va;
	int err;

	va = kmap_local_page(pfzc_umem_page(po->umem, d->addr));
	err = pd->ops->xmit_frame(pd, va + offset_in_page(d->addr), d->len);
	kunmap_local(va);
	pfzc_tx_count(po, err ? NET_XMIT_DROP : NET_XMIT_SUCCESS);
}

/*
 * Consumes the tx ring: at most one lap, so a producer that keeps filling
 * cannot hold the kernel here. Called with po->lock held.
 */
static int pfzc_tx_kick(struct pfzc_sock *po, struct net_device *dev)
{
	struct pfzc_kring *kr = &po->tx;
	u32 budget = kr->entries;
	bool direct = po->pdev && po->pdev->ops->xmit_frame;
	struct pfzc_desc d;
	u32 idx, n, i;

	if (!(dev->flags & IFF_UP))
		return -ENETDOWN;
	if (!pfzc_link_is_eth(dev))
		return -EINVAL;
	if (po->tx_dma.map.dev)
		return pfzc_zc_tx_kick(po);

	while (budget) {
		n = pfzc_cons_peek(&kr->r, min_t(u32, budget, PFZC_TX_BATCH),
				   &idx);
		if (!n)
			break;
		budget -= n;
		/* the driver API runs with BH off, like ndo_start_xmit() */
		if (direct) {
			local_bh_disable();
			rcu_read_lock();
		}
		for (i = 0; i < n; i++) {
			if (!pfzc_tx_desc_get(po, dev, idx + i, &d)) {
				atomic64_inc(&po->tx_invalid);
				continue;
			}
			if (direct)
				pfzc_tx_direct(po, &d);
			else
				pfzc_tx_frame(po, dev, &d);
		}
		if (direct) {
			rcu_read_unlock();
			local_bh_enable();
		}
		/* the frames were copied into skbs: user space may reuse them */
		pfzc_cons_release(&kr->r);
		cond_resched();
	}
	return 0;
}

void pfzc_write_space(struct sock *sk)
{
	struct socket_wq *wq;

	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_sync_poll(&wq->wait, EPOLLOUT |
						EPOLLWRNORM | EPOLLWRBAND);
	rcu_read_unlock();
}

static int pfzc_send_one(struct pfzc_sock *po, struct msghdr *msg, size_t len)
{
	struct sock *sk = &po->sk;
	netdevice_tracker tracker;
	struct net_device *dev;
	struct sk_buff *skb;
	int hlen, tlen, err;

	/*
	 * Hold the device rather than the socket lock while copying from
	 * user memory, which may fault and take mmap_lock.
	 */
	mutex_lock(&po->lock);
	dev = po->dev;
	if (dev)
		netdev_hold(dev, &tracker, GFP_KERNEL);
	mutex_unlock(&po->lock);
	if (!dev)
		return -ENETDOWN;

	err = -ENETDOWN;
	if (!(dev->flags & IFF_UP))
		goto out;
	err = -EINVAL;
	if (len < ETH_HLEN || !pfzc_link_is_eth(dev))
		goto out;
	err = -EMSGSIZE;
	if (!pfzc_tx_len_ok(dev, len))
		goto out;

	hlen = LL_RESERVED_SPACE(dev);
	tlen = dev->needed_tailroom;
	skb = sock_alloc_send_skb(sk, hlen + tlen + len,
				  msg->msg_flags & MSG_DONTWAIT, &err);
	if (!skb)
		goto out;
	skb_reserve(skb, hlen);
	skb_reset_mac_header(skb);
	err = memcpy_from_msg(skb_put(skb, len), msg, len);
	if (err) {
		kfree_skb(skb);
		goto out;
	}
	pfzc_tx_setup(skb, dev);

	/*
	 * Only a reference is held: the device may have begun to unregister
	 * since the checks above, and its tx queues go (real_num_tx_queues
	 * 0, the core warns) a grace period after it is marked so. Checked
	 * again in the same RCU-bh section as the transmit, a send either
	 * sees the mark or is over before the queues go.
	 */
	rcu_read_lock_bh();
	if (READ_ONCE(dev->reg_state) != NETREG_REGISTERED ||
	    !(READ_ONCE(dev->flags) & IFF_UP)) {
		rcu_read_unlock_bh();
		kfree_skb(skb);
		err = -ENETDOWN;
		goto out;
	}
	err = dev_queue_xmit(skb);
	rcu_read_unlock_bh();
	pfzc_tx_count(po, err);
	if (err > 0)
		err = net_xmit_errno(err);
	if (!err)
		err = len;
out:
	netdev_put(dev, &tracker);
	return err;
}

int pfzc_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	struct sock *sk = sock->sk;
	struct pfzc_sock *po = pfzc_sk(sk);
	int err;

	if (msg->msg_flags & MSG_OOB)
		return -EOPNOTSUPP;

	switch (READ_ONCE(po->state)) {
	case PFZC_UNBOUND:
		return -ENXIO;
	case PFZC_DEAD:
		return -ENETDOWN;
	case PFZC_BOUND:
		break;
	}

	/* an empty send is the kick of the tx ring */
	if (len == 0 && smp_load_acquire(&po->tx.map)) {
		mutex_lock(&po->lock);
		if (po->dev)
			err = pfzc_tx_kick(po, po->dev);
		else
			err = -ENETDOWN;
		mutex_unlock(&po->lock);
		if (!err)
			pfzc_write_space(sk);
		return err;
	}
	return pfzc_send_one(po, msg, len);
}
