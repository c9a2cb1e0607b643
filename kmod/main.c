// SPDX-License-Identifier: GPL-2.0
/*
 * PF_ZEROCOPY: zero-copy packet capture sockets.
 *
 * An application registers a frame buffer (the umem, pinned here), creates
 * rx and tx descriptor rings (allocated here, mapped through the socket),
 * and binds to an interface. The packet hook copies each received packet
 * once, into the umem. The ring ABI and the socket contract are in
 * include/uapi/pf_zerocopy.h.
 *
 * Registration, socket life, options, bind, the netdevice notifier and
 * /proc/net/pf_zerocopy live in this file.
 */
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/proc_fs.h>
#include <linux/rtnetlink.h>
#include <linux/seq_file.h>
#include <linux/socket.h>
#include <linux/uaccess.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "pfzc.h"

int pfzc_family = PF_ZEROCOPY_DEFAULT;
module_param_named(family, pfzc_family, int, 0444);
MODULE_PARM_DESC(family, "socket family number (default 27)");

struct pfzc_net {
	struct mutex lock;
	struct list_head socks;
};

static unsigned int pfzc_net_id __read_mostly;

static struct pfzc_net *pfzc_pernet(struct net *net)
{
	return net_generic(net, pfzc_net_id);
}

static struct proto pfzc_proto = {
	.name		= "PF_ZEROCOPY",
	.owner		= THIS_MODULE,
	.obj_size	= sizeof(struct pfzc_sock),
};

/*
 * Removes the packet hook and drops the device. Called with po->lock held.
 *
 * Unhooked only, with the grace period that ends the hook's (and the
 * driver's direct path's) last use of this socket recorded in
 * po->unhook_gp: release waits for it before the rings go. The notifier
 * calls this under RTNL for every socket of a device, where a wait each
 * would hold all network configuration on the host for as many grace
 * periods; the core waits once after the NETDEV_UNREGISTER notifiers, so
 * release then finds that grace period over.
 */
static void pfzc_unhook(struct pfzc_sock *po)
{
	if (po->state != PFZC_BOUND)
		return;
	pfzc_dev_detach(po);
	if (po->fanout)
		pfzc_fanout_leave(po);	/* its own hook is already off */
	else if (!po->cring.ctl)
		__dev_remove_pack(&po->pt);
	po->unhook_gp = get_state_synchronize_rcu();
	netdev_put(po->dev, &po->dev_tracker);
	po->dev = NULL;
	WRITE_ONCE(po->state, PFZC_DEAD);
}

static int pfzc_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct pfzc_sock *po;
	struct pfzc_net *pn;
	bool rtnl;

	if (!sk)
		return 0;
	po = pfzc_sk(sk);
	pn = pfzc_pernet(sock_net(sk));

	/* out of the notifier's sight first: it takes pn->lock, then ours */
	mutex_lock(&pn->lock);
	list_del(&po->node);
	mutex_unlock(&pn->lock);

	/*
	 * A NIC that DMAs into the frames must stop before they are unpinned:
	 * its driver restarts under RTNL (pfzc_dev_detach). Only then is RTNL
	 * taken here; a socket's direct role changes only at bind and at
	 * unhook, and a concurrent unhook by the notifier only ends it.
	 */
	mutex_lock(&po->lock);
	rtnl = po->state == PFZC_BOUND && pfzc_dev_switches(po);
	mutex_unlock(&po->lock);
	if (rtnl)
		rtnl_lock();
	mutex_lock(&po->lock);
	pfzc_unhook(po);
	mutex_unlock(&po->lock);
	if (rtnl)
		rtnl_unlock();
	/* a socket that was bound: its hook's last grace period (a no-op when
	 * the notifier unhooked it, the core having waited since) */
	if (po->state == PFZC_DEAD)
		cond_synchronize_rcu(po->unhook_gp);

	sock_orphan(sk);
	sock->sk = NULL;
	skb_queue_purge(&sk->sk_receive_queue);

	/* no vma is left: each holds a reference to this socket's file */
	pfzc_ring_destroy(&po->rx);
	pfzc_rx_frames_free(po);
	pfzc_ring_destroy(&po->tx);
	pfzc_cring_free(po);
	if (po->umem)
		pfzc_umem_destroy(po->umem);
	po->umem = NULL;

	sock_put(sk);
	return 0;
}

static int pfzc_bind(struct socket *sock, struct sockaddr *uaddr, int addr_len)
{
	struct sockaddr_pfzc *sa = (struct sockaddr_pfzc *)uaddr;
	struct sock *sk = sock->sk;
	struct pfzc_sock *po = pfzc_sk(sk);
	struct net_device *dev;
	int err;

	if (addr_len != sizeof(*sa) || sa->spz_family != pfzc_family ||
	    sa->spz_pad)
		return -EINVAL;

	/* a driver that DMAs into the frames restarts its receive side under
	 * RTNL when this socket becomes its direct receiver (attach below) */
	rtnl_lock();
	mutex_lock(&po->lock);
	err = -EBUSY;
	if (po->state != PFZC_UNBOUND)
		goto out;
	/* a umem is only useful with a ring; without both, recvmsg/sendmsg */
	err = -EINVAL;
	if (po->umem && !po->rx.map && !po->tx.map)
		goto out;

	/*
	 * An unregistering device is unlisted before the notifier runs, and
	 * the notifier needs po->lock: either this lookup fails, or the
	 * notifier finds the socket bound below.
	 */
	err = -ENODEV;
	dev = dev_get_by_index(sock_net(sk), (int)sa->spz_ifindex);
	if (!dev)
		goto out;
	/*
	 * Frames are sent as they are, bytes 12-13 taken for the protocol,
	 * and the filters and the direct path read them as Ethernet: any
	 * other link layer (tun, gre, can, loopback, a VLAN device with its
	 * 18-byte header) would have them misread and misrouted.
	 */
	err = -EINVAL;
	if (!pfzc_link_is_eth(dev)) {
		dev_put(dev);
		goto out;
	}
	err = pfzc_dev_attach(po, dev);
	if (err) {
		dev_put(dev);
		goto out;
	}
	netdev_tracker_alloc(dev, &po->dev_tracker, GFP_KERNEL);

	po->dev = dev;
	WRITE_ONCE(po->ifindex, dev->ifindex);
	po->pt.type = po->proto;
	po->pt.dev = dev;
	po->pt.func = pfzc_rcv;
	po->pt.af_packet_priv = sk;
	po->pt.af_packet_net = sock_net(sk);
	WRITE_ONCE(po->state, PFZC_BOUND);
	/* a contiguous ring holds what the NIC received, nothing else */
	if (!po->cring.ctl)
		dev_add_pack(&po->pt);
	err = 0;
out:
	mutex_unlock(&po->lock);
	rtnl_unlock();
	return err;
}

static int pfzc_getname(struct socket *sock, struct sockaddr *uaddr, int peer)
{
	struct sockaddr_pfzc *sa = (struct sockaddr_pfzc *)uaddr;
	struct pfzc_sock *po = pfzc_sk(sock->sk);

	if (peer)
		return -EOPNOTSUPP;
	sa->spz_family = pfzc_family;
	sa->spz_pad = 0;
	sa->spz_ifindex = READ_ONCE(po->ifindex);
	return sizeof(*sa);
}

static int pfzc_set_umem(struct pfzc_sock *po, sockptr_t optval,
			 unsigned int optlen)
{
	struct pfzc_umem_reg reg;
	struct pfzc_umem *umem;
	int err;

	if (optlen != sizeof(reg))
		return -EINVAL;
	if (copy_from_sockptr(&reg, optval, sizeof(reg)))
		return -EFAULT;

	/* cheap refusals first, so a busy socket does not pin anything */
	mutex_lock(&po->lock);
	err = (po->state != PFZC_UNBOUND || po->umem) ? -EBUSY :
	      po->cring.ctl ? -EINVAL : 0;
	mutex_unlock(&po->lock);
	if (err)
		return err;

	/* pins and charges RLIMIT_MEMLOCK: must not hold po->lock (pfzc.h) */
	err = pfzc_umem_create(&reg, &umem);
	if (err)
		return err;

	mutex_lock(&po->lock);
	if (po->state != PFZC_UNBOUND || po->umem || po->cring.ctl) {
		err = po->cring.ctl ? -EINVAL : -EBUSY;
	} else {
		po->umem = umem;
		umem = NULL;
	}
	mutex_unlock(&po->lock);
	if (umem)
		pfzc_umem_destroy(umem);
	return err;
}

static int pfzc_set_ring(struct pfzc_sock *po, int optname, sockptr_t optval,
			 unsigned int optlen)
{
	struct pfzc_kring *kr, *other;
	u32 entries;
	int err;

	if (optlen != sizeof(entries))
		return -EINVAL;
	if (copy_from_sockptr(&entries, optval, sizeof(entries)))
		return -EFAULT;

	if (optname == PFZC_RX_RING) {
		kr = &po->rx;
		other = &po->tx;
	} else {
		kr = &po->tx;
		other = &po->rx;
	}

	mutex_lock(&po->lock);
	err = -EINVAL;
	if (po->cring.ctl)	/* the NIC's buffer instead of rings */
		goto out;
	err = -EBUSY;
	if (po->state != PFZC_UNBOUND || kr->map || atomic_read(&po->mapped))
		goto out;
	err = -EINVAL;
	if (!pfzc_ring_entries_valid(entries) || !po->umem)
		goto out;
	/* rx frames come first, tx frames after: both must fit */
	if ((u64)entries + other->entries > po->umem->nframes)
		goto out;
	err = pfzc_ring_create(kr, entries);
	if (!err && kr == &po->rx) {
		err = pfzc_rx_frames_init(po);
		if (err)
			pfzc_ring_destroy(kr);
	}
out:
	mutex_unlock(&po->lock);
	return err;
}

static int pfzc_setsockopt(struct socket *sock, int level, int optname,
			   sockptr_t optval, unsigned int optlen)
{
	struct pfzc_sock *po = pfzc_sk(sock->sk);

	if (level != SOL_PFZC)
		return -ENOPROTOOPT;

	switch (optname) {
	case PFZC_UMEM_REG:
		return pfzc_set_umem(po, optval, optlen);
	case PFZC_RX_RING:
	case PFZC_TX_RING:
		return pfzc_set_ring(po, optname, optval, optlen);
	case PFZC_CRING:
		return pfzc_cring_set(po, optval, optlen);
	case PFZC_FANOUT: {
		u32 id;

		if (optlen != sizeof(id))
			return -EINVAL;
		if (copy_from_sockptr(&id, optval, sizeof(id)))
			return -EFAULT;
		return pfzc_fanout_join(po, id);
	}
	case PFZC_MMAP_OFFSETS:
	case PFZC_STATISTICS:
	case PFZC_VERSION:
		return -EINVAL;		/* read-only */
	default:
		return -ENOPROTOOPT;
	}
}

static void pfzc_ring_offsets(struct pfzc_ring_offsets *off)
{
	off->producer = offsetof(struct pfzc_ring_shared, producer);
	off->consumer = offsetof(struct pfzc_ring_shared, consumer);
	off->flags = offsetof(struct pfzc_ring_shared, flags);
	off->desc = sizeof(struct pfzc_ring_shared);
}

static int pfzc_getsockopt(struct socket *sock, int level, int optname,
			   char __user *optval, int __user *optlen)
{
	struct pfzc_sock *po = pfzc_sk(sock->sk);
	union {
		u32 version;
		struct pfzc_stats st;
		struct pfzc_mmap_offsets off;
	} u;
	int len, size;

	if (level != SOL_PFZC)
		return -ENOPROTOOPT;
	if (get_user(len, optlen))
		return -EFAULT;

	memset(&u, 0, sizeof(u));
	switch (optname) {
	case PFZC_VERSION:
		u.version = PFZC_ABI_VERSION;
		size = sizeof(u.version);
		break;
	case PFZC_STATISTICS:
		u.st.rx_packets = atomic64_read(&po->rx_packets);
		u.st.rx_dropped_ring_full =
			atomic64_read(&po->rx_dropped_ring_full);
		u.st.rx_dropped_queue_full =
			atomic64_read(&po->rx_dropped_queue_full);
		u.st.rx_filtered = atomic64_read(&po->rx_filtered);
		u.st.rx_truncated = atomic64_read(&po->rx_truncated);
		u.st.tx_packets = atomic64_read(&po->tx_packets);
		u.st.tx_invalid = atomic64_read(&po->tx_invalid);
		u.st.tx_errors = atomic64_read(&po->tx_errors);
		u.st.rx_dma = atomic64_read(&po->rx_dma_frames);
		u.st.rx_copied = atomic64_read(&po->rx_copied);
		u.st.tx_dma = atomic64_read(&po->tx_dma_frames);
		u.st.tx_copied = atomic64_read(&po->tx_copied);
		size = sizeof(u.st);
		/* the struct only grew at its end: a caller built when it
		 * ended at tx_errors (version 1) or at rx_copied gets that */
		if (len < size && len >= (int)offsetofend(struct pfzc_stats, rx_copied))
			size = offsetofend(struct pfzc_stats, rx_copied);
		else if (len < size && len >= (int)offsetofend(struct pfzc_stats, tx_errors))
			size = offsetofend(struct pfzc_stats, tx_errors);
		break;
	case PFZC_MMAP_OFFSETS:
		pfzc_ring_offsets(&u.off.rx);
		pfzc_ring_offsets(&u.off.tx);
		size = sizeof(u.off);
		break;
	case PFZC_UMEM_REG:
	case PFZC_RX_RING:
	case PFZC_TX_RING:
	case PFZC_CRING:
		return -EINVAL;		/* write-only */
	default:
		return -ENOPROTOOPT;
	}

	if (len < size)
		return -EINVAL;
	if (put_user(size, optlen) || copy_to_user(optval, &u, size))
		return -EFAULT;
	return 0;
}

static struct proto_ops pfzc_ops __ro_after_init = {
	.family		= PF_ZEROCOPY_DEFAULT,	/* set from the parameter */
	.owner		= THIS_MODULE,
	.release	= pfzc_release,
	.bind		= pfzc_bind,
	.connect	= sock_no_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= sock_no_accept,
	.getname	= pfzc_getname,
	.poll		= pfzc_poll,
	.ioctl		= sock_no_ioctl,
	.listen		= sock_no_listen,
	.shutdown	= sock_no_shutdown,
	.setsockopt	= pfzc_setsockopt,
	.getsockopt	= pfzc_getsockopt,
	.sendmsg	= pfzc_sendmsg,
	.recvmsg	= pfzc_recvmsg,
	.mmap		= pfzc_mmap,
};

static int pfzc_create(struct net *net, struct socket *sock, int protocol,
		       int kern)
{
	struct pfzc_net *pn = pfzc_pernet(net);
	struct pfzc_sock *po;
	struct sock *sk;

	if (!ns_capable(net->user_ns, CAP_NET_RAW))
		return -EPERM;
	if (sock->type != SOCK_RAW)
		return -ESOCKTNOSUPPORT;
	/* an EtherType in network byte order, as for AF_PACKET */
	if (protocol < 0 || protocol > 0xffff)
		return -EINVAL;

	sk = sk_alloc(net, pfzc_family, GFP_KERNEL, &pfzc_proto, kern);
	if (!sk)
		return -ENOMEM;
	sock->ops = &pfzc_ops;
	sock_init_data(sock, sk);
	sk->sk_protocol = protocol;

	po = pfzc_sk(sk);
	mutex_init(&po->lock);
	spin_lock_init(&po->rx_lock);
	spin_lock_init(&po->tx_dma.lock);
	po->state = PFZC_UNBOUND;
	po->proto = protocol ? (__force __be16)protocol : htons(ETH_P_ALL);
	/* sk_alloc() zeroes the rest: no umem, no rings, counters at 0 */

	mutex_lock(&pn->lock);
	list_add_tail(&po->node, &pn->socks);
	mutex_unlock(&pn->lock);
	return 0;
}

static struct net_proto_family pfzc_family_ops = {
	.family	= PF_ZEROCOPY_DEFAULT,	/* set from the parameter */
	.create	= pfzc_create,
	.owner	= THIS_MODULE,
};

static int pfzc_notifier(struct notifier_block *nb, unsigned long event,
			 void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct pfzc_net *pn;
	struct pfzc_sock *po;

	/*
	 * NETDEV_DOWN is left alone: the hook stays, and capture resumes when
	 * the interface comes back up, as with AF_PACKET's TPACKET rings. Only
	 * the device going away (or leaving the namespace) ends a socket.
	 */
	if (event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;

	pn = pfzc_pernet(dev_net(dev));
	mutex_lock(&pn->lock);
	/*
	 * Newest first: dev_add_pack() puts each hook at the head of the
	 * device's list, and __dev_remove_pack() searches from there, so in
	 * this order each search ends at its first step. Oldest first, n
	 * sockets would cost n * n / 2 steps under RTNL.
	 */
	list_for_each_entry_reverse(po, &pn->socks, node) {
		mutex_lock(&po->lock);
		if (po->state == PFZC_BOUND && po->dev == dev) {
			pfzc_unhook(po);
			/*
			 * sk_err is consumed by the first reader of it;
			 * RCV_SHUTDOWN keeps waking every blocked recvmsg.
			 */
			WRITE_ONCE(po->sk.sk_shutdown,
				   po->sk.sk_shutdown | RCV_SHUTDOWN);
			WRITE_ONCE(po->sk.sk_err, ENETDOWN);
			sk_error_report(&po->sk);
		}
		mutex_unlock(&po->lock);
	}
	mutex_unlock(&pn->lock);
	return NOTIFY_DONE;
}

static struct notifier_block pfzc_notifier_block = {
	.notifier_call = pfzc_notifier,
};

static int pfzc_proc_show(struct seq_file *seq, void *v)
{
	struct pfzc_net *pn = pfzc_pernet(seq_file_single_net(seq));
	struct pfzc_sock *po;

	seq_puts(seq, "inode ifindex ifname rx_entries tx_entries rx rx_drop_full tx tx_invalid direct rx_dma rx_copied tx_dma tx_copied\n");
	mutex_lock(&pn->lock);
	list_for_each_entry(po, &pn->socks, node) {
		char name[IFNAMSIZ] = "-";
		int ifindex = 0, direct;

		mutex_lock(&po->lock);
		if (po->dev) {
			ifindex = po->dev->ifindex;
			/* a concurrent rename may tear it, never overrun it */
			memcpy(name, po->dev->name, IFNAMSIZ);
			name[IFNAMSIZ - 1] = '\0';
		}
		direct = po->direct;
		mutex_unlock(&po->lock);

		seq_printf(seq, "%lu %d %s %u %u %llu %llu %llu %llu %d %llu %llu %llu %llu\n",
			   sock_i_ino(&po->sk), ifindex, name,
			   po->rx.entries, po->tx.entries,
			   (u64)atomic64_read(&po->rx_packets),
			   (u64)atomic64_read(&po->rx_dropped_ring_full),
			   (u64)atomic64_read(&po->tx_packets),
			   (u64)atomic64_read(&po->tx_invalid), direct,
			   (u64)atomic64_read(&po->rx_dma_frames),
			   (u64)atomic64_read(&po->rx_copied),
			   (u64)atomic64_read(&po->tx_dma_frames),
			   (u64)atomic64_read(&po->tx_copied));
	}
	mutex_unlock(&pn->lock);
	return 0;
}

static int __net_init pfzc_net_init(struct net *net)
{
	struct pfzc_net *pn = pfzc_pernet(net);

	mutex_init(&pn->lock);
	INIT_LIST_HEAD(&pn->socks);
	if (!proc_create_net_single("pf_zerocopy", 0444, net->proc_net,
				    pfzc_proc_show, NULL))
		return -ENOMEM;
	return 0;
}

/* Sockets hold a reference to their namespace: the list is empty here. */
static void __net_exit pfzc_net_exit(struct net *net)
{
	remove_proc_entry("pf_zerocopy", net->proc_net);
}

static struct pernet_operations pfzc_net_ops = {
	.init	= pfzc_net_init,
	.exit	= pfzc_net_exit,
	.id	= &pfzc_net_id,
	.size	= sizeof(struct pfzc_net),
};

/*
 * Parameters are checked before anything is registered, and the family is
 * registered last: a socket can exist only once nothing else can fail, so
 * none outlives a failed insmod. Exit and the error paths unwind in
 * reverse.
 */
static int __init pfzc_init(void)
{
	int err;

	if (pfzc_family <= 0 || pfzc_family >= AF_MAX) {
		pr_err("pf_zerocopy: family %d out of range 1..%d\n",
		       pfzc_family, AF_MAX - 1);
		return -EINVAL;
	}
	pfzc_family_ops.family = pfzc_family;
	pfzc_ops.family = pfzc_family;

	/* checks pairs= before it creates anything */
	err = pfzc_vnet_init();
	if (err)
		return err;
	err = proto_register(&pfzc_proto, 0);
	if (err)
		goto err_vnet;
	err = register_pernet_subsys(&pfzc_net_ops);
	if (err)
		goto err_proto;
	err = register_netdevice_notifier(&pfzc_notifier_block);
	if (err)
		goto err_pernet;
	err = sock_register(&pfzc_family_ops);
	if (err) {
		pr_err("pf_zerocopy: family %d is taken (%d)\n",
		       pfzc_family, err);
		goto err_notifier;
	}
	return 0;

err_notifier:
	unregister_netdevice_notifier(&pfzc_notifier_block);
err_pernet:
	unregister_pernet_subsys(&pfzc_net_ops);
err_proto:
	proto_unregister(&pfzc_proto);
err_vnet:
	pfzc_vnet_exit();
	return err;
}

static void __exit pfzc_exit(void)
{
	sock_unregister(pfzc_family);
	unregister_netdevice_notifier(&pfzc_notifier_block);
	unregister_pernet_subsys(&pfzc_net_ops);
	proto_unregister(&pfzc_proto);
	pfzc_vnet_exit();
}

module_init(pfzc_init);
module_exit(pfzc_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("PF_ZEROCOPY zero-copy packet capture sockets");
MODULE_ALIAS_NETPROTO(PF_ZEROCOPY_DEFAULT);
