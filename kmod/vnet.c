// SPDX-License-Identifier: GPL-2.0
/*
 * PF_ZEROCOPY: a virtual Ethernet pair (zc0 <-> zc1, ...), in the spirit of
 * LDD3's snull, that receives through the driver-facing API.
 *
 * A frame sent on one side arrives on the other. When a PF_ZEROCOPY socket
 * with an rx ring is bound to the receiving side, the frame is copied once,
 * straight into that socket's next writable frame: the copy stands in for
 * a NIC's DMA, and no sk_buff is built on the receiving side. Frames from a
 * PF_ZEROCOPY tx ring on the sending side come without an sk_buff too, so
 * ring to ring there is none at all. With no such socket, frames go up the
 * stack as on any NIC, so ip, ping and tcpdump work on the pair.
 *
 * The pairs are made at load time: "insmod pf_zerocopy.ko pairs=1".
 */
#include <linux/etherdevice.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>

#include "pfzc.h"

#define PFZC_VNET_MAX_PAIRS	16

static unsigned int pfzc_pairs;
module_param_named(pairs, pfzc_pairs, uint, 0444);
MODULE_PARM_DESC(pairs, "virtual Ethernet pairs to create, zc0<->zc1 and on (default 0, at most 16)");

struct pfzc_vnet {
	struct net_device __rcu *peer;	/* NULL once the pair is going away */
	struct pfzc_dev pd;
};

static struct net_device *pfzc_vnet_devs[2 * PFZC_VNET_MAX_PAIRS];

static void pfzc_vnet_count(struct net_device *tx, struct net_device *rx,
			    unsigned int len)
{
	dev_sw_netstats_tx_add(tx, 1, len);
	dev_sw_netstats_rx_add(rx, len);
}

/*
 * Into po, peer's direct receiver, filter first. A filtered frame or a
 * full ring is counted by the socket and is, for the device, received.
 */
static void pfzc_vnet_rx_direct(struct pfzc_sock *po, struct net_device *peer,
				const void *data, u32 len)
{
	struct pfzc_rx_frame f;
	unsigned int snap;

	snap = pfzc_rx_filter(po, data, len, peer);
	if (snap && !pfzc_rx_reserve(po, &f)) {
		snap = min(snap, f.size);
		memcpy(f.data, data, snap);
		pfzc_rx_commit(po, &f, snap, len);
	}
}

static struct pfzc_sock *pfzc_vnet_receiver(struct net_device *peer)
{
	struct pfzc_vnet *pv = netdev_priv(peer);

	return pfzc_rx_get(&pv->pd);
}

/* The peer, if it can take a frame now. Inside rcu_read_lock(). */
static struct net_device *pfzc_vnet_peer(struct net_device *dev)
{
	struct pfzc_vnet *pv = netdev_priv(dev);
	struct net_device *peer = rcu_dereference(pv->peer);

	if (unlikely(!peer || !(peer->flags & IFF_UP))) {
		dev_core_stats_tx_dropped_inc(dev);
		return NULL;
	}
	return peer;
}

static netdev_tx_t pfzc_vnet_xmit(struct sk_buff *skb, struct net_device *dev)
{
	unsigned int len = skb->len;
	struct net_device *peer;
	struct pfzc_sock *po;

	rcu_read_lock();
	peer = pfzc_vnet_peer(dev);
	if (!peer) {
		kfree_skb(skb);
		goto out;
	}
	po = pfzc_vnet_receiver(peer);
	if (po && !skb_linearize(skb)) {
		pfzc_vnet_rx_direct(po, peer, skb->data, len);
		consume_skb(skb);
		pfzc_vnet_count(dev, peer, len);
	} else if (dev_forward_skb(peer, skb) == NET_RX_SUCCESS) {
		pfzc_vnet_count(dev, peer, len);
	}
	/* else the core counted it in the peer's rx_dropped */
out:
	rcu_read_unlock();
	return NETDEV_TX_OK;
}

/* From a PF_ZEROCOPY tx ring on this side: no skb unless the stack needs one. */
static int pfzc_vnet_xmit_frame(struct pfzc_dev *pd, const void *data, u32 len)
{
	struct net_device *dev = pd->dev;
	struct net_device *peer = pfzc_vnet_peer(dev);
	struct pfzc_sock *po;
	struct sk_buff *skb;

	if (!peer)
		return -ENETDOWN;
	po = pfzc_vnet_receiver(peer);
	if (po) {
		pfzc_vnet_rx_direct(po, peer, data, len);
	} else {
		skb = netdev_alloc_skb_ip_align(peer, len);
		if (!skb) {
			dev_core_stats_rx_dropped_inc(peer);
			return 0;
		}
		skb_put_data(skb, data, len);
		skb->protocol = eth_type_trans(skb, peer);
		if (netif_rx(skb) != NET_RX_SUCCESS)
			return 0;	/* counted by the core */
	}
	pfzc_vnet_count(dev, peer, len);
	return 0;
}

static const struct pfzc_dev_ops pfzc_vnet_dev_ops = {
	.xmit_frame = pfzc_vnet_xmit_frame,
};

static int pfzc_vnet_open(struct net_device *dev)
{
	struct pfzc_vnet *pv = netdev_priv(dev);
	struct net_device *peer = rtnl_dereference(pv->peer);

	if (!peer)
		return -ENOTCONN;
	if (peer->flags & IFF_UP) {
		netif_carrier_on(dev);
		netif_carrier_on(peer);
	}
	return 0;
}

static int pfzc_vnet_stop(struct net_device *dev)
{
	struct pfzc_vnet *pv = netdev_priv(dev);
	struct net_device *peer = rtnl_dereference(pv->peer);

	netif_carrier_off(dev);
	if (peer)
		netif_carrier_off(peer);
	return 0;
}

static int pfzc_vnet_init_dev(struct net_device *dev)
{
	dev->tstats = netdev_alloc_pcpu_stats(struct pcpu_sw_netstats);
	return dev->tstats ? 0 : -ENOMEM;
}

/* Unregistered: the notifier has already detached any direct receiver. */
static void pfzc_vnet_uninit_dev(struct net_device *dev)
{
	struct pfzc_vnet *pv = netdev_priv(dev);

	pfzc_dev_unregister(&pv->pd);
}

/* Only once sysfs is gone: its statistics files read tstats until then. */
static void pfzc_vnet_free_dev(struct net_device *dev)
{
	free_percpu(dev->tstats);
}

static const struct net_device_ops pfzc_vnet_ops = {
	.ndo_init		= pfzc_vnet_init_dev,
	.ndo_uninit		= pfzc_vnet_uninit_dev,
	.ndo_open		= pfzc_vnet_open,
	.ndo_stop		= pfzc_vnet_stop,
	.ndo_start_xmit		= pfzc_vnet_xmit,
	.ndo_get_stats64	= dev_get_tstats64,
	.ndo_set_mac_address	= eth_mac_addr,
	.ndo_validate_addr	= eth_validate_addr,
};

static void pfzc_vnet_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->netdev_ops = &pfzc_vnet_ops;
	dev->priv_flags &= ~IFF_TX_SKB_SHARING;
	dev->priv_flags |= IFF_LIVE_ADDR_CHANGE | IFF_NO_QUEUE;
	/* no queue state to protect: the receiver's ring has its own lock */
	dev->features |= NETIF_F_LLTX;
	dev->needs_free_netdev = true;
	dev->priv_destructor = pfzc_vnet_free_dev;
	eth_hw_addr_random(dev);
	/* no link until both sides are up (pfzc_vnet_open()) */
	netif_carrier_off(dev);
}

/* Clears every peer pointer first, so no xmit reaches a dying device. */
static void pfzc_vnet_destroy(unsigned int n)
{
	LIST_HEAD(list);
	unsigned int i;

	rtnl_lock();
	for (i = 0; i < n; i++) {
		struct pfzc_vnet *pv = netdev_priv(pfzc_vnet_devs[i]);

		RCU_INIT_POINTER(pv->peer, NULL);
	}
	for (i = 0; i < n; i++)
		unregister_netdevice_queue(pfzc_vnet_devs[i], &list);
	unregister_netdevice_many(&list);	/* waits for a grace period */
	rtnl_unlock();
}

/*
 * The first thing pfzc_init() does after the family check: pairs= is
 * checked before anything is made, and long before the family exists.
 */
int pfzc_vnet_init(void)
{
	unsigned int n = 2 * pfzc_pairs, i;
	int err;

	if (pfzc_pairs > PFZC_VNET_MAX_PAIRS) {
		pr_err("pf_zerocopy: pairs=%u, at most %u\n", pfzc_pairs,
		       PFZC_VNET_MAX_PAIRS);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		pfzc_vnet_devs[i] = alloc_netdev(sizeof(struct pfzc_vnet), "zc%d",
						 NET_NAME_ENUM, pfzc_vnet_setup);
		if (!pfzc_vnet_devs[i]) {
			err = -ENOMEM;
			goto err_free;
		}
	}
	for (i = 0; i < n; i++) {
		struct net_device *dev = pfzc_vnet_devs[i];
		struct pfzc_vnet *pv = netdev_priv(dev);

		RCU_INIT_POINTER(pv->peer, pfzc_vnet_devs[i ^ 1]);
		pfzc_dev_register(&pv->pd, dev, &pfzc_vnet_dev_ops);
	}
	for (i = 0; i < n; i++) {
		err = register_netdev(pfzc_vnet_devs[i]);
		if (err)
			goto err_unregister;
	}
	return 0;

err_unregister:
	pfzc_vnet_destroy(i);
	for (; i < n; i++) {
		struct pfzc_vnet *pv = netdev_priv(pfzc_vnet_devs[i]);

		/* a no-op if the failed register_netdev() ran ndo_uninit;
		 * it ran priv_destructor too, if ndo_init had succeeded */
		pfzc_dev_unregister(&pv->pd);
		free_netdev(pfzc_vnet_devs[i]);
	}
	return err;
err_free:
	while (i--)
		free_netdev(pfzc_vnet_devs[i]);
	return err;
}

void pfzc_vnet_exit(void)
{
	pfzc_vnet_destroy(2 * pfzc_pairs);
}
