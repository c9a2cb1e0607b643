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
 * Ancillary loads (SKF_AD_*) answer for an Ethernet frame received on dev
 * without an skb: no VLAN offload (a tag stays in the frame), no mark, no
 * hash, queue 0. Those libpcap emits (protocol, pkttype for inbound and
 * outbound, ifindex, VLAN presence) are all answered.
 */
#include <linux/etherdevice.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/random.h>
#include <asm/unaligned.h>

#include "pfzc.h"

struct cbpf_frame {
	const u8 *data;
	u32 len;
	const struct net_device *dev;
};

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

/* What skb->protocol would be after eth_type_trans(), host order. */
static u32 cbpf_protocol(const struct cbpf_frame *f)
{
	u16 proto;

	if (f->len < ETH_HLEN)
		return 0;
	proto = get_unaligned_be16(f->data + 2 * ETH_ALEN);
	if (eth_proto_is_802_3(htons(proto)))
		return proto;
	/* 802.3 frame: raw IPX if it starts 0xffff, else 802.2 LLC */
	if (f->len >= ETH_HLEN + 2 &&
	    get_unaligned_be16(f->data + ETH_HLEN) == 0xffff)
		return ETH_P_802_3;
	return ETH_P_802_2;
}

/* *ok = false: the program must return 0 (unknown ancillary field). */
static u32 cbpf_ancillary(const struct cbpf_frame *f, u32 k, u32 a, u32 x,
			  bool *ok)
{
	*ok = true;
	switch (k - SKF_AD_OFF) {
	case SKF_AD_PROTOCOL:
		return cbpf_protocol(f);
	case SKF_AD_PKTTYPE:
		return cbpf_pkttype(f);
	case SKF_AD_IFINDEX:
		return f->dev->ifindex;
	case SKF_AD_HATYPE:
		return f->dev->type;
	case SKF_AD_MARK:
	case SKF_AD_QUEUE:
	case SKF_AD_RXHASH:
	case SKF_AD_VLAN_TAG:
	case SKF_AD_VLAN_TAG_PRESENT:
	case SKF_AD_VLAN_TPID:
		return 0;
	case SKF_AD_CPU:
		return raw_smp_processor_id();
	case SKF_AD_ALU_XOR_X:
		return a ^ x;
	case SKF_AD_RANDOM:
		return get_random_u32();
	case SKF_AD_PAY_OFFSET:
		return f->len >= ETH_HLEN ? ETH_HLEN : 0;
	}
	*ok = false;
	return 0;
}

/* Bytes [off, off + size) of the frame, big endian; false when outside. */
static bool cbpf_load(const struct cbpf_frame *f, u32 off, u32 size, u32 *v)
{
	const u8 *p;

	/* negative offsets: relative to the link or network header */
	if (off >= (u32)SKF_LL_OFF && off < (u32)SKF_NET_OFF)
		off -= SKF_LL_OFF;
	else if (off >= (u32)SKF_NET_OFF && off < (u32)SKF_AD_OFF)
		off = off - SKF_NET_OFF + ETH_HLEN;
	if (off >= f->len || size > f->len - off)
		return false;
	p = f->data + off;
	switch (size) {
	case 4:
		*v = get_unaligned_be32(p);
		break;
	case 2:
		*v = get_unaligned_be16(p);
		break;
	default:
		*v = *p;
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
	case BPF_LSH: *a = operand < 32 ? *a << operand : 0; break;
	case BPF_RSH: *a = operand < 32 ? *a >> operand : 0; break;
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

/* The program's verdict on the frame: bytes to keep, 0 to drop. */
unsigned int pfzc_cbpf_run(const struct sock_fprog_kern *prog, const void *data,
			   u32 len, const struct net_device *dev)
{
	const struct cbpf_frame f = { .data = data, .len = len, .dev = dev };
	u32 a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
	u32 pc, v, off;
	bool ok;

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
				a = len;
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
				x = len;
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
			return BPF_RVAL(code) == BPF_A ? a : k;
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
