/* SPDX-License-Identifier: MIT */
/*
 * ARP over Ethernet for IPv4 (RFC 826), as zcap-arpd answers and learns it
 * and zcap-gen --arp sends it: parsing a received frame and building a
 * request or a reply in place.
 *
 * Layout (byte offsets, multi-byte fields big-endian):
 *    0  dst MAC (6), src MAC (6), EtherType 0x0806
 *   14  htype 1, ptype 0x0800, hlen 6, plen 4, oper (1 request, 2 reply)
 *   22  sha (6), spa (4), tha (6), tpa (4)
 *   42  end of the ARP packet; zero padding to ARP_FRAME_LEN, Ethernet's
 *       60-byte minimum without the FCS
 */
#ifndef ZCAP_TOOLS_ARP_H
#define ZCAP_TOOLS_ARP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define ARP_ETHERTYPE 0x0806
#define ARP_PKT_LEN 42		/* Ethernet header + ARP for IPv4 */
#define ARP_FRAME_LEN 60	/* padded to Ethernet's minimum (no FCS) */
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

struct arp_msg {
	uint16_t op;
	uint8_t sha[6];
	uint32_t spa;		/* host order */
	uint8_t tha[6];
	uint32_t tpa;		/* host order */
};

static inline uint16_t arp_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t arp_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void arp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void arp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline bool arp_is_arp(const uint8_t *f, uint32_t caplen)
{
	return caplen >= 14 && arp_get16(f + 12) == ARP_ETHERTYPE;
}

/*
 * Reads an ARP frame of caplen bytes. Returns false for anything but a
 * whole Ethernet/IPv4 request or reply (short, another hardware or
 * protocol type or size, another operation): the caller counts it as
 * malformed. A sender hardware address that is a multicast or zero one is
 * refused too: no host owns it, and learning it would poison the cache.
 */
static inline bool arp_parse(const uint8_t *f, uint32_t caplen, struct arp_msg *m)
{
	static const uint8_t zero[6];

	if (caplen < ARP_PKT_LEN || arp_get16(f + 12) != ARP_ETHERTYPE)
		return false;
	if (arp_get16(f + 14) != 1 || arp_get16(f + 16) != 0x0800 || f[18] != 6 || f[19] != 4)
		return false;
	m->op = arp_get16(f + 20);
	if (m->op != ARP_OP_REQUEST && m->op != ARP_OP_REPLY)
		return false;
	memcpy(m->sha, f + 22, 6);
	m->spa = arp_get32(f + 28);
	memcpy(m->tha, f + 32, 6);
	m->tpa = arp_get32(f + 38);
	if ((m->sha[0] & 1) || !memcmp(m->sha, zero, 6))
		return false;
	return true;
}

/* Writes an ARP frame of len bytes (ARP_PKT_LEN..ARP_FRAME_LEN: the
 * packet, then zero padding) at f. */
static inline void arp_build(uint8_t *f, uint32_t len, const uint8_t dst[6], const uint8_t src[6],
			     uint16_t op, const uint8_t sha[6], uint32_t spa,
			     const uint8_t tha[6], uint32_t tpa)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	arp_put16(f + 12, ARP_ETHERTYPE);
	arp_put16(f + 14, 1);
	arp_put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	arp_put16(f + 20, op);
	memcpy(f + 22, sha, 6);
	arp_put32(f + 28, spa);
	memcpy(f + 32, tha, 6);
	arp_put32(f + 38, tpa);
	memset(f + ARP_PKT_LEN, 0, len - ARP_PKT_LEN);
}

/* The broadcast request "who has tpa? tell spa (at sha)", padded to
 * ARP_FRAME_LEN. */
static inline void arp_build_request(uint8_t *f, const uint8_t sha[6], uint32_t spa,
				     uint32_t tpa)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[6];

	arp_build(f, ARP_FRAME_LEN, bcast, sha, ARP_OP_REQUEST, sha, spa, zero, tpa);
}

/* The reply to request m, "m->tpa is at mac", to the asker alone, len
 * bytes: it may be written over the request itself (m is a copy). */
static inline void arp_build_reply(uint8_t *f, uint32_t len, const struct arp_msg *m,
				   const uint8_t mac[6])
{
	arp_build(f, len, m->sha, mac, ARP_OP_REPLY, mac, m->tpa, m->sha, m->spa);
}

#endif /* ZCAP_TOOLS_ARP_H */
