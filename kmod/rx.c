// SPDX-License-Identifier: GPL-2.0
/*
 * PF_ZEROCOPY: receive. The packet hook copies each packet once, into the
 * next writable frame of the rx ring, or queues a clone on the socket for
 * programs that read with recvmsg().
 */
#include <linux/filter.h>
#include <linux/if_vlan.h>
#include <linux/skbuff.h>

#include "pfzc.h"

/* The filter's return value is the number of bytes to keep; 0 drops. */
static unsigned int pfzc_run_filter(struct sk_buff *skb, struct sock *sk,
				    unsigned int res)
{
	struct sk_filter *filter;

	rcu_read_lock();
	filter = rcu_dereference(sk->sk_filter);
	if (filter)
		res = bpf_prog_run_clear_cb(filter->prog, skb);
	rcu_read_unlock();
	return res;
}

static u64 pfzc_tstamp(const struct sk_buff *skb)
{
	/* a mono delivery time is a transmit schedule, not a wall clock */
	if (skb->tstamp && !skb->mono_delivery_time)
		return ktime_to_ns(skb->tstamp);
	return ktime_get_real_ns();
}

/* Copies the packet into the next writable frame, or counts it dropped. */
static void pfzc_rcv_ring(struct pfzc_sock *po, const struct sk_buff *skb,
			  unsigned int snaplen)
{
	struct pfzc_desc meta = {
		.len = snaplen,
		.orig_len = skb->len,
	};
	struct pfzc_rx_frame f;

	if (skb_vlan_tag_present(skb)) {
		meta.flags |= PFZC_DESC_VLAN;
		meta.vlan_tci = skb_vlan_tag_get(skb);
	}
	if (skb->pkt_type == PACKET_OUTGOING)
		meta.flags |= PFZC_DESC_OUTGOING;
	if (snaplen < skb->len)
		meta.flags |= PFZC_DESC_TRUNCATED;

	if (pfzc_rx_reserve(po, &f))
		return;
	if (unlikely(skb_copy_bits(skb, 0, f.data, snaplen))) {
		pfzc_rx_abort(po, &f);
		return;
	}
	__pfzc_rx_commit(po, &f, &meta, pfzc_tstamp(skb));
}

int pfzc_rcv(struct sk_buff *skb, struct net_device *dev,
	     struct packet_type *pt, struct net_device *orig_dev)
{
	return pfzc_sk_rcv(skb, dev, pt->af_packet_priv);
}

/* A packet for sk: from its own hook, or its fanout group's (fanout.c). */
int pfzc_sk_rcv(struct sk_buff *skb, struct net_device *dev, struct sock *sk)
{
	struct pfzc_sock *po = pfzc_sk(sk);
	u8 *skb_head = skb->data;
	unsigned int skb_len = skb->len;
	unsigned int snaplen, orig_len;
	int mac_off;

	if (skb->pkt_type == PACKET_LOOPBACK ||
	    !net_eq(dev_net(dev), sock_net(sk)))
		goto drop;

	/*
	 * Incoming packets arrive with data past the link-layer header. The
	 * skb may be shared with other taps: the header is pushed back only
	 * for the time of this call, and data and len are restored below.
	 */
	if (dev_has_header(dev) && skb_mac_header_was_set(skb)) {
		mac_off = skb_mac_offset(skb);
		if (mac_off < 0 && -mac_off <= skb_headroom(skb))
			skb_push(skb, -mac_off);
	}
	orig_len = skb->len;

	snaplen = pfzc_run_filter(skb, sk, orig_len);
	if (!snaplen) {
		atomic64_inc(&po->rx_filtered);
		goto drop_restore;
	}
	snaplen = min(snaplen, orig_len);

	if (READ_ONCE(po->rx.map)) {
		pfzc_rcv_ring(po, skb, min(snaplen, po->umem->frame_size));
		goto drop_restore;
	}

	/* no ring: queue the packet (a private copy of its skb) for recvmsg */
	if (skb_shared(skb)) {
		struct sk_buff *nskb = skb_clone(skb, GFP_ATOMIC);

		if (!nskb) {
			atomic64_inc(&po->rx_dropped_queue_full);
			goto drop_restore;
		}
		skb->data = skb_head;
		skb->len = skb_len;
		consume_skb(skb);
		skb = nskb;
	}
	if (pskb_trim(skb, snaplen)) {
		atomic64_inc(&po->rx_dropped_queue_full);
		goto drop;
	}
	skb_dst_drop(skb);
	nf_reset_ct(skb);
	skb_clear_delivery_time(skb);
	/*
	 * __sock_queue_rcv_skb() wakes readers, does not rerun the filter,
	 * and clears skb->dev: a queued skb outlives its device (read after
	 * the device is gone, 73-pfzc-unregister.sh), and holds no reference
	 * to it, so it must not point at it.
	 */
	if (__sock_queue_rcv_skb(sk, skb)) {
		atomic64_inc(&po->rx_dropped_queue_full);
		goto drop;
	}
	atomic64_inc(&po->rx_packets);
	if (snaplen < orig_len)
		atomic64_inc(&po->rx_truncated);
	return NET_RX_SUCCESS;

drop_restore:
	skb->data = skb_head;
	skb->len = skb_len;
drop:
	consume_skb(skb);
	return NET_RX_SUCCESS;
}

int pfzc_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		 int flags)
{
	struct sock *sk = sock->sk;
	struct pfzc_sock *po = pfzc_sk(sk);
	enum pfzc_state state = READ_ONCE(po->state);
	struct sk_buff *skb;
	size_t copied;
	int err;

	if (flags & ~(MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_COMPAT))
		return -EINVAL;
	/* with an rx ring, packets go to the ring and never to the queue */
	if (pfzc_sock_rx_shared(po))
		return -EBUSY;
	if (state == PFZC_UNBOUND)
		return -ENXIO;
	/* nothing will come any more: drain what is queued, then say why */
	if (state == PFZC_DEAD)
		flags |= MSG_DONTWAIT;

	skb = skb_recv_datagram(sk, flags, &err);
	if (!skb)
		return READ_ONCE(po->state) == PFZC_DEAD ? -ENETDOWN : err;

	copied = skb->len;
	if (copied > len) {
		copied = len;
		msg->msg_flags |= MSG_TRUNC;
	}
	err = skb_copy_datagram_msg(skb, 0, msg, copied);
	if (err)
		goto out;
	sock_recv_timestamp(msg, sk, skb);

	if (msg->msg_name) {
		struct sockaddr_pfzc *sa = msg->msg_name;

		sa->spz_family = pfzc_family;
		sa->spz_pad = 0;
		sa->spz_ifindex = READ_ONCE(po->ifindex);
		msg->msg_namelen = sizeof(*sa);
	}
	err = (flags & MSG_TRUNC) ? skb->len : copied;
out:
	skb_free_datagram(sk, skb);
	return err;
}
