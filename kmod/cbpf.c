// SPDX-License-Identifier: GPL-2.0
/*
 * PF_ZEROCOPY: classic BPF over a flat frame, for the direct receive path.
 *
 * The kernel runs socket filters on an sk_buff, and the direct path has
 * none: building one per frame is the very cost that path avoids. So the
 * classic program that SO_ATTACH_FILTER kept (prog->orig_prog, already
 * checked by the kernel's sk_chk_filter(): known opcodes, in-range jumps,
 * forward only, ends in a return) is interpreted here over the frame
 * bytes. Every load is still bounds checked, and a program that runs off
 * its end returns 0; an out-of-range load returns 0 too, as in the kernel.
 *
 * The same filter must give the same verdict here as on the skb path (an
 * AF_PACKET or PF_ZEROCOPY tap on the same device, x86 kernel 6.1). There,
 * __netif_receive_skb_core() has already taken the outermost 802.1Q or
 * 802.1ad tag out of the frame (skb_vlan_untag()) before any tap runs, so
 * the program sees:
 *
 *  - the frame without that tag: bytes 12.. are the inner ethertype and
 *    what follows, BPF_LEN is the wire length minus 4, and a load that
 *    straddles byte 12 joins the source address and the inner ethertype;
 *  - SKF_AD_VLAN_TAG_PRESENT, VLAN_TAG (the whole TCI, DEI included) and
 *    VLAN_TPID answered from the removed tag (0 for an untagged frame);
 *  - SKF_AD_PROTOCOL the inner ethertype (eth_type_trans() and
 *    vlan_set_encap_proto(): 802.3 lengths become ETH_P_802_3 or _802_2);
 *  - SKF_NET_OFF relative to byte 14 of that view, SKF_LL_OFF to byte 0;
 *  - SKF_AD_PAY_OFFSET from the flow dissector, which starts at the inner
 *    protocol (see cbpf_pay_offset() for what it follows);
 *  - SKF_AD_NLATTR and NLATTR_NEST walking the view as netlink attributes.
 *
 * A tagged frame shorter than 20 bytes (tag plus the 2 bytes after it) is
 * freed by skb_vlan_untag() before any tap: here the filter does not run
 * and the verdict is 0. Only one tag is removed: the second tag of a
 * double-tagged frame stays in the view, and SKF_AD_PROTOCOL is its TPID.
 *
 * Snap length. The skb path applies the filter's value to the untagged
 * frame and delivers it with the tag in the descriptor (PFZC_DESC_VLAN);
 * the direct path keeps the frame as it came, tag inline, with no flag.
 * For a tagged frame, a value v >= 12 (both addresses kept) therefore
 * becomes v + 4, capped at the wire length: the same packet bytes plus
 * the tag, which is what libpcap rebuilds from an AF_PACKET capture (it
 * reinserts the tag when at least 12 bytes were captured). A value below
 * 12 is kept as is: those bytes are the same in both frames.
 *
 * Other ancillary loads answer for an Ethernet frame received on dev
 * without an skb: no mark, no hash, queue 0. SKF_AD_CPU is this CPU (the
 * skb path runs on the receiving CPU's backlog as well); SKF_AD_RANDOM is
 * random on both.
 */
#include <linux/dccp.h>
#include <linux/etherdevice.h>
#include <linux/filter.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/if_packet.h>
#include <linux/if_vlan.h>
#include <linux/igmp.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netlink.h>
#include <linux/random.h>
#include <linux/sctp.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <asm/unaligned.h>

#include "pfzc.h"

/*
 * The frame as the skb path's filter sees it: data[0, 12) then, for a
 * tagged frame, data[16, wire_len), len bytes in all.
 */
struct cbpf_frame {
	const u8 *data;
	u32 len;	/* the view's length: wire length minus the tag */
	u32 skip;	/* VLAN_HLEN for a tagged frame, else 0 */
	u32 nh;		/* network header offset in the view */
	u16 proto;	/* skb->protocol, host order */
	u16 tci;
	u16 tpid;	/* 0: untagged */
	const struct net_device *dev;
};

/* View bytes [off, off + size) into buf; false when outside the view. */
static bool cbpf_copy(const struct cbpf_frame *f, u32 off, u32 size, u8 *buf)
{
	u32 n;

	if (off > f->len || size > f->len - off)
		return false;
	if (off < 2 * ETH_ALEN) {
		n = min(size, 2 * ETH_ALEN - off);
		memcpy(buf, f->data + off, n);
		buf += n;
		off += n;
		size -= n;
	}
	memcpy(buf, f->data + off + f->skip, size);
	return true;
}

static u32 cbpf_pkttype(const struct cbpf_frame *f)
{
	const u8 *dst = f->data;

	if (f->len < ETH_ALEN)
		return PACKET_OTHERHOST;
	if (is_multicast_ether_addr(dst))
		return is_broadcast_ether_addr(dst) ? PACKET_BROADCAST :
						      PACKET_MULTICAST;
	return ether_addr_equal_unaligned(dst, f->dev->dev_addr) ?
		PACKET_HOST : PACKET_OTHERHOST;
}

/*
 * skb->protocol after eth_type_trans() and, for a tagged frame,
 * vlan_set_encap_proto(): the ethertype at 12 of the view, or for an 802.3
 * length raw IPX when the payload starts 0xffff, else 802.2 LLC.
 */
static u16 cbpf_protocol(const struct cbpf_frame *f)
{
	u8 b[2];
	u16 proto;

	/* eth_type_trans() reads past such a frame's end: no answer to copy */
	if (!cbpf_copy(f, 2 * ETH_ALEN, 2, b))
		return 0;
	proto = get_unaligned_be16(b);
	if (eth_proto_is_802_3(htons(proto)))
		return proto;
	if (cbpf_copy(f, ETH_HLEN, 2, b) && get_unaligned_be16(b) == 0xffff)
		return ETH_P_802_3;
	return ETH_P_802_2;
}

/* The flow dissector's header budget (MAX_FLOW_DISSECT_HDRS). */
#define CBPF_DISSECT_HDRS	15

/*
 * skb_get_poff(): where the payload starts, per the flow dissector with
 * the basic keys. It follows VLAN tags, IPv4 (options, fragments), IPv6
 * (hop-by-hop, routing, destination and fragment headers), IPIP and
 * IPv6-in-IP, and counts ARP/RARP as having no transport header. Other
 * ethertypes (MPLS, PPPoE, FCoE, TIPC, ...) answer 0 here, and GRE is
 * not entered: there the kernel may answer differently.
 */
static u32 cbpf_pay_offset(const struct cbpf_frame *f)
{
	u32 nhoff = f->nh, poff;
	u16 proto = f->proto;
	bool frag = false, first = false;
	int hdrs = f->tpid ? 1 : 0;	/* the removed tag was one */
	u8 ip_proto = 0, b[sizeof(struct ipv6hdr)];

proto_again:
	switch (proto) {
	case ETH_P_8021Q:
	case ETH_P_8021AD:
		if (!cbpf_copy(f, nhoff, VLAN_HLEN, b))
			return 0;
		proto = get_unaligned_be16(b + 2);
		nhoff += VLAN_HLEN;
		if (++hdrs <= CBPF_DISSECT_HDRS)
			goto proto_again;
		goto out;
	case ETH_P_IP: {
		u16 frag_off;

		if (!cbpf_copy(f, nhoff, sizeof(struct iphdr), b) ||
		    (b[0] & 0xf) < 5)
			return 0;
		nhoff += (b[0] & 0xf) * 4;
		ip_proto = b[9];
		frag_off = get_unaligned_be16(b + 6);
		if (frag_off & (IP_MF | IP_OFFSET)) {
			frag = true;
			first = !(frag_off & IP_OFFSET);
			goto out;
		}
		break;
	}
	case ETH_P_IPV6:
		if (!cbpf_copy(f, nhoff, sizeof(struct ipv6hdr), b))
			return 0;
		ip_proto = b[6];
		nhoff += sizeof(struct ipv6hdr);
		break;
	case ETH_P_ARP:
	case ETH_P_RARP:
		goto out;
	default:
		return 0;
	}

ip_proto_again:
	switch (ip_proto) {
	case NEXTHDR_HOP:
	case NEXTHDR_ROUTING:
	case NEXTHDR_DEST:
		if (proto != ETH_P_IPV6)
			break;
		if (!cbpf_copy(f, nhoff, 2, b))
			return 0;
		ip_proto = b[0];
		nhoff += (b[1] + 1) << 3;
		if (++hdrs <= CBPF_DISSECT_HDRS)
			goto ip_proto_again;
		break;
	case NEXTHDR_FRAGMENT:
		if (proto != ETH_P_IPV6)
			break;
		if (!cbpf_copy(f, nhoff, sizeof(struct frag_hdr), b))
			return 0;
		frag = true;
		nhoff += sizeof(struct frag_hdr);
		ip_proto = b[0];
		first = !(get_unaligned_be16(b + 2) & IP6_OFFSET);
		break;
	case IPPROTO_IPIP:
		proto = ETH_P_IP;
		if (++hdrs <= CBPF_DISSECT_HDRS)
			goto proto_again;
		break;
	case IPPROTO_IPV6:
		proto = ETH_P_IPV6;
		if (++hdrs <= CBPF_DISSECT_HDRS)
			goto proto_again;
		break;
	}

out:
	/* key_control->thoff is a u16, capped at the packet's length */
	poff = (u16)min(nhoff, f->len);
	/* __skb_get_poff(): no L4 header in a fragment after the first */
	if (frag && !first)
		return poff;
	switch (ip_proto) {
	case IPPROTO_TCP:
		if (!cbpf_copy(f, poff + 12, 1, b))
			return poff;
		return poff + max_t(u32, sizeof(struct tcphdr), (b[0] & 0xf0) >> 2);
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		return poff + sizeof(struct udphdr);
	case IPPROTO_ICMP:
		return poff + sizeof(struct icmphdr);
	case IPPROTO_ICMPV6:
		return poff + sizeof(struct icmp6hdr);
	case IPPROTO_IGMP:
		return poff + sizeof(struct igmphdr);
	case IPPROTO_DCCP:
		return poff + sizeof(struct dccp_hdr);
	case IPPROTO_SCTP:
		return poff + sizeof(struct sctphdr);
	}
	return poff;
}

/*
 * nla_find() over the view from off, rem bytes: the attribute's offset in
 * the view, or 0. rem may be negative (an empty nest).
 */
static u32 cbpf_nla_find(const struct cbpf_frame *f, u32 off, int rem, u32 type)
{
	struct nlattr nla;

	while (rem >= (int)sizeof(nla)) {
		if (!cbpf_copy(f, off, sizeof(nla), (u8 *)&nla))
			return 0;
		if (nla.nla_len < sizeof(nla) || nla.nla_len > rem)
			return 0;
		if ((nla.nla_type & NLA_TYPE_MASK) == type)
			return off;
		rem -= NLA_ALIGN(nla.nla_len);
		off += NLA_ALIGN(nla.nla_len);
	}
	return 0;
}

/* bpf_skb_get_nlattr() and bpf_skb_get_nlattr_nest() on a linear skb */
static u32 cbpf_nlattr(const struct cbpf_frame *f, u32 a, u32 x, bool nest)
{
	struct nlattr nla;

	if (f->len < sizeof(nla) || a > f->len - sizeof(nla))
		return 0;
	if (!nest)
		return cbpf_nla_find(f, a, f->len - a, x);
	if (!cbpf_copy(f, a, sizeof(nla), (u8 *)&nla) ||
	    nla.nla_len > f->len - a)
		return 0;
	return cbpf_nla_find(f, a + NLA_HDRLEN, (int)nla.nla_len - NLA_HDRLEN, x);
}

/* *ok = false: the program must return 0 (unknown ancillary field). */
static u32 cbpf_ancillary(const struct cbpf_frame *f, u32 k, u32 a, u32 x,
			  bool *ok)
{
	*ok = true;
	switch (k - SKF_AD_OFF) {
	case SKF_AD_PROTOCOL:
		return f->proto;
	case SKF_AD_PKTTYPE:
		return cbpf_pkttype(f);
	case SKF_AD_IFINDEX:
		return f->dev->ifindex;
	case SKF_AD_HATYPE:
		return f->dev->type;
	case SKF_AD_MARK:
	case SKF_AD_QUEUE:
	case SKF_AD_RXHASH:
		return 0;
	case SKF_AD_VLAN_TAG:
		return f->tci;
	case SKF_AD_VLAN_TAG_PRESENT:
		return !!f->tpid;
	case SKF_AD_VLAN_TPID:
		return f->tpid;
	case SKF_AD_CPU:
		return raw_smp_processor_id();
	case SKF_AD_ALU_XOR_X:
		return a ^ x;
	case SKF_AD_RANDOM:
		return get_random_u32();
	case SKF_AD_PAY_OFFSET:
		return cbpf_pay_offset(f);
	case SKF_AD_NLATTR:
		return cbpf_nlattr(f, a, x, false);
	case SKF_AD_NLATTR_NEST:
		return cbpf_nlattr(f, a, x, true);
	}
	*ok = false;
	return 0;
}

/*
 * Bytes [off, off + size) of the view, big endian; false when outside.
 * off is the kernel's int offset: negative ones are relative to the
 * network header (SKF_NET_OFF) or the link-layer header (SKF_LL_OFF), as
 * bpf_internal_load_pointer_neg_helper() has them; below SKF_LL_OFF, none.
 */
static bool cbpf_load(const struct cbpf_frame *f, u32 off, u32 size, u32 *v)
{
	u8 b[4];

	if ((s32)off < 0) {
		if ((s32)off >= SKF_NET_OFF)
			off = f->nh + (off - SKF_NET_OFF);
		else if ((s32)off >= SKF_LL_OFF)
			off -= SKF_LL_OFF;
		else
			return false;
	}
	if (!cbpf_copy(f, off, size, b))
		return false;
	switch (size) {
	case 4:
		*v = get_unaligned_be32(b);
		break;
	case 2:
		*v = get_unaligned_be16(b);
		break;
	default:
		*v = b[0];
	}
	return true;
}

static u32 cbpf_size(u16 code)
{
	switch (BPF_SIZE(code)) {
	case BPF_W:
		return 4;
	case BPF_H:
		return 2;
	default:
		return 1;
	}
}

static bool cbpf_alu(u16 code, u32 *a, u32 operand)
{
	switch (BPF_OP(code)) {
	case BPF_ADD: *a += operand; break;
	case BPF_SUB: *a -= operand; break;
	case BPF_MUL: *a *= operand; break;
	case BPF_DIV:
		if (!operand)
			return false;
		*a /= operand;
		break;
	case BPF_MOD:
		if (!operand)
			return false;
		*a %= operand;
		break;
	case BPF_AND: *a &= operand; break;
	case BPF_OR: *a |= operand; break;
	case BPF_XOR: *a ^= operand; break;
	/* the kernel's x86 code masks a shift count to 5 bits */
	case BPF_LSH: *a <<= operand & 31; break;
	case BPF_RSH: *a >>= operand & 31; break;
	case BPF_NEG: *a = -*a; break;
	default:
		return false;
	}
	return true;
}

static bool cbpf_jump(u16 code, u32 a, u32 operand)
{
	switch (BPF_OP(code)) {
	case BPF_JEQ: return a == operand;
	case BPF_JGT: return a > operand;
	case BPF_JGE: return a >= operand;
	case BPF_JSET: return a & operand;
	}
	return false;
}

/*
 * The view of a frame of len bytes, as the skb path's taps get it; false
 * when the stack frees the frame before any tap (a truncated tag).
 */
static bool cbpf_frame_init(struct cbpf_frame *f, const u8 *data, u32 len,
			    const struct net_device *dev)
{
	u16 type;

	f->data = data;
	f->len = len;
	f->skip = 0;
	f->tci = 0;
	f->tpid = 0;
	f->dev = dev;
	/* eth_type_trans() cannot pull a short frame: nh stays at its start */
	f->nh = len < ETH_HLEN ? 0 : ETH_HLEN;
	if (len >= ETH_HLEN) {
		type = get_unaligned_be16(data + 2 * ETH_ALEN);
		if (type == ETH_P_8021Q || type == ETH_P_8021AD) {
			/* skb_vlan_untag() pulls the tag and 2 bytes more */
			if (len < VLAN_ETH_HLEN + 2)
				return false;
			f->tpid = type;
			f->tci = get_unaligned_be16(data + ETH_HLEN);
			f->skip = VLAN_HLEN;
			f->len = len - VLAN_HLEN;
		}
	}
	f->proto = cbpf_protocol(f);
	return true;
}

/* The program's value, for the frame as the direct path keeps it. */
static unsigned int cbpf_snap(const struct cbpf_frame *f, u32 v)
{
	if (!f->skip || v < 2 * ETH_ALEN)
		return v;
	/* the tag is still inline: keep it, and the same bytes after it */
	return v >= f->len ? f->len + f->skip : v + f->skip;
}

/* The program's verdict on the frame: bytes to keep, 0 to drop. */
unsigned int pfzc_cbpf_run(const struct sock_fprog_kern *prog, const void *data,
			   u32 len, const struct net_device *dev)
{
	u32 a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
	struct cbpf_frame f;
	u32 pc, v, off;
	bool ok;

	if (!cbpf_frame_init(&f, data, len, dev))
		return 0;
	for (pc = 0; pc < prog->len; pc++) {
		const struct sock_filter *in = &prog->filter[pc];
		u16 code = in->code;
		u32 k = in->k;

		switch (BPF_CLASS(code)) {
		case BPF_LD:
			switch (BPF_MODE(code)) {
			case BPF_ABS:
			case BPF_IND:
				off = BPF_MODE(code) == BPF_IND ? k + x : k;
				if (BPF_MODE(code) == BPF_ABS && k >= (u32)SKF_AD_OFF) {
					a = cbpf_ancillary(&f, k, a, x, &ok);
					if (!ok)
						return 0;
					break;
				}
				if (!cbpf_load(&f, off, cbpf_size(code), &a))
					return 0;
				break;
			case BPF_LEN:
				a = f.len;
				break;
			case BPF_IMM:
				a = k;
				break;
			case BPF_MEM:
				if (k >= BPF_MEMWORDS)
					return 0;
				a = mem[k];
				break;
			default:
				return 0;
			}
			break;
		case BPF_LDX:
			switch (BPF_MODE(code)) {
			case BPF_IMM:
				x = k;
				break;
			case BPF_LEN:
				x = f.len;
				break;
			case BPF_MEM:
				if (k >= BPF_MEMWORDS)
					return 0;
				x = mem[k];
				break;
			case BPF_MSH:	/* X = 4 * (P[k] & 0xf): an IPv4 header length */
				if (!cbpf_load(&f, k, 1, &v))
					return 0;
				x = (v & 0xf) << 2;
				break;
			default:
				return 0;
			}
			break;
		case BPF_ST:
		case BPF_STX:
			if (k >= BPF_MEMWORDS)
				return 0;
			mem[k] = BPF_CLASS(code) == BPF_ST ? a : x;
			break;
		case BPF_ALU:
			if (!cbpf_alu(code, &a, BPF_SRC(code) == BPF_X ? x : k))
				return 0;
			break;
		case BPF_JMP:
			if (BPF_OP(code) == BPF_JA)
				pc += k;
			else if (cbpf_jump(code, a, BPF_SRC(code) == BPF_X ? x : k))
				pc += in->jt;
			else
				pc += in->jf;
			break;
		case BPF_RET:
			return cbpf_snap(&f, BPF_RVAL(code) == BPF_A ? a : k);
		case BPF_MISC:
			if (BPF_MISCOP(code) == BPF_TAX)
				x = a;
			else
				a = x;
			break;
		default:
			return 0;
		}
	}
	return 0;
}
