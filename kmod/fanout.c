// SPDX-License-Identifier: GPL-2.0
/*
 * PF_ZEROCOPY: fanout groups (PFZC_FANOUT). Sockets bound to one device
 * join a group by its id; the group has one packet hook, which hands each
 * packet to one member, chosen by the kernel's symmetric flow hash, so a
 * flow's two directions meet in one socket. A member's own hook is off
 * while it is in the group; its filter, ring and counters are its own.
 *
 * The members, under pfzc_fanout_mutex for writers; the hook reads them
 * under RCU (it runs in the receive path's RCU section):
 *
 *   join:  arr[num] = po;  smp_store_release(&num, num + 1)  B, matches A
 *   hook:  n = smp_load_acquire(&num)  A, matches B;  po = arr[hash % n]
 *   leave: arr[i] = arr[num - 1];  num - 1 stored
 *
 * A hook that loaded num before a leave may still pick arr[num - 1]: a
 * member either way (the one moved down, or the one leaving, which lives
 * until the grace period that pfzc_unhook() records after its leave). A
 * group is freed after a grace period too, so a hook never reads a freed
 * one.
 */
#include <linux/kernel.h>
#include <linux/slab.h>

#include "pfzc.h"

struct pfzc_fanout {
	struct list_head node;		/* pfzc_fanouts */
	possible_net_t net;
	u32 id;
	struct net_device *dev;		/* its members hold references */
	__be16 proto;
	struct packet_type pt;
	unsigned int num;		/* members in arr */
	struct pfzc_sock __rcu *arr[PFZC_FANOUT_MAX];
	struct rcu_head rcu;
};

/* Nests inside pfzc_sock.lock; takes ptype_lock (dev_add_pack). */
static DEFINE_MUTEX(pfzc_fanout_mutex);
static LIST_HEAD(pfzc_fanouts);

static int pfzc_fanout_rcv(struct sk_buff *skb, struct net_device *dev,
			   struct packet_type *pt, struct net_device *orig_dev)
{
	struct pfzc_fanout *f = pt->af_packet_priv;
	unsigned int n = smp_load_acquire(&f->num);	/* A, matches B */
	struct pfzc_sock *po;

	/* only while the last member leaves, its hook not yet removed */
	if (unlikely(!n)) {
		consume_skb(skb);
		return NET_RX_SUCCESS;
	}
	po = rcu_dereference(f->arr[reciprocal_scale(__skb_get_hash_symmetric(skb), n)]);
	return pfzc_sk_rcv(skb, dev, &po->sk);
}

static struct pfzc_fanout *pfzc_fanout_find(struct net *net, u32 id)
{
	struct pfzc_fanout *f;

	list_for_each_entry(f, &pfzc_fanouts, node)
		if (f->id == id && net_eq(read_pnet(&f->net), net))
			return f;
	return NULL;
}

int pfzc_fanout_join(struct pfzc_sock *po, u32 id)
{
	struct net *net = sock_net(&po->sk);
	struct pfzc_fanout *f, *fresh = NULL;
	int err;

	if (id > PFZC_FANOUT_ID_MAX)
		return -EINVAL;
	/* allocated outside the locks; freed below if a group exists */
	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL);
	if (!fresh)
		return -ENOMEM;

	mutex_lock(&po->lock);
	err = -ENXIO;
	if (po->state != PFZC_BOUND)
		goto out;
	err = -EBUSY;
	if (po->fanout)
		goto out;
	/* the NIC puts every frame in this socket's ring itself */
	err = -EOPNOTSUPP;
	if (po->direct)
		goto out;

	mutex_lock(&pfzc_fanout_mutex);
	f = pfzc_fanout_find(net, id);
	if (f && (f->dev != po->dev || f->proto != po->proto)) {
		err = -EINVAL;
	} else if (f && f->num == PFZC_FANOUT_MAX) {
		err = -ENOSPC;
	} else {
		if (!f) {
			f = fresh;
			fresh = NULL;
			write_pnet(&f->net, net);
			f->id = id;
			f->dev = po->dev;
			f->proto = po->proto;
			f->pt.type = po->proto;
			f->pt.dev = po->dev;
			f->pt.func = pfzc_fanout_rcv;
			f->pt.af_packet_priv = f;
			f->pt.af_packet_net = net;
			list_add(&f->node, &pfzc_fanouts);
		}
		/*
		 * Its own hook off first, then into the group: a packet in
		 * between reaches the group's other members or, for the first,
		 * nobody (as if the capture had started a moment later); never
		 * this socket twice.
		 */
		__dev_remove_pack(&po->pt);
		rcu_assign_pointer(f->arr[f->num], po);
		smp_store_release(&f->num, f->num + 1);	/* B, matches A */
		if (f->num == 1)
			dev_add_pack(&f->pt);
		po->fanout = f;
		err = 0;
	}
	mutex_unlock(&pfzc_fanout_mutex);
out:
	mutex_unlock(&po->lock);
	kfree(fresh);
	return err;
}

/*
 * Takes po out of its group, removing the group's hook with its last
 * member. With po->lock held (pfzc_unhook()), before the grace period that
 * release waits for is recorded.
 */
void pfzc_fanout_leave(struct pfzc_sock *po)
{
	struct pfzc_fanout *f = po->fanout;
	unsigned int i, n;

	if (!f)
		return;
	mutex_lock(&pfzc_fanout_mutex);
	n = f->num;
	for (i = 0; i < n; i++)
		if (rcu_access_pointer(f->arr[i]) == po)
			break;
	if (i < n) {
		rcu_assign_pointer(f->arr[i], rcu_access_pointer(f->arr[n - 1]));
		WRITE_ONCE(f->num, n - 1);
	}
	if (!f->num) {
		__dev_remove_pack(&f->pt);
		list_del(&f->node);
		kfree_rcu(f, rcu);
	}
	mutex_unlock(&pfzc_fanout_mutex);
	po->fanout = NULL;
}

u32 pfzc_fanout_id(const struct pfzc_sock *po)
{
	return po->fanout ? po->fanout->id : 0;
}
