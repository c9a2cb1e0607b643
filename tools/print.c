/* SPDX-License-Identifier: MIT */
/*
 * One line per packet, in tcpdump's shape, for a capture without -w. Only
 * the common cases are decoded; everything else shows its EtherType. Users
 * who want a full decode write a file and open it in tshark.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "print.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void print_ipv4(FILE *out, const uint8_t *p, uint32_t n, int quiet)
{
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	uint32_t ihl, tot;
	uint8_t proto;

	if (n < 20 || (p[0] >> 4) != 4 || (ihl = (p[0] & 15u) * 4) < 20) {
		fprintf(out, "IP truncated");
		return;
	}
	proto = p[9];
	tot = be16(p + 2);
	inet_ntop(AF_INET, p + 12, src, sizeof(src));
	inet_ntop(AF_INET, p + 16, dst, sizeof(dst));
	if ((proto == 17 || proto == 6) && n >= ihl + 4 &&
	    !(be16(p + 6) & 0x1fff)) {
		const uint8_t *l4 = p + ihl;

		fprintf(out, "IP %s.%u > %s.%u: ", src, be16(l4), dst,
			be16(l4 + 2));
		if (proto == 17)
			fprintf(out, "UDP, length %u",
				n >= ihl + 8 ? be16(l4 + 4) - 8u : 0u);
		else
			fprintf(out, quiet ? "tcp %u" : "TCP, length %u",
				tot > ihl ? tot - ihl : 0);
		return;
	}
	fprintf(out, "IP %s > %s: ", src, dst);
	if (proto == 1)
		fprintf(out, "ICMP, length %u", tot > ihl ? tot - ihl : 0);
	else
		fprintf(out, "ip-proto-%u, length %u", proto, tot);
}

void print_packet(FILE *out, const struct zcap_pkt *pkt, int quiet)
{
	const uint8_t *p = pkt->data;
	uint32_t n = pkt->caplen;
	time_t sec = (time_t)(pkt->ts_ns / 1000000000ull);
	struct tm tm;
	uint16_t type;

	localtime_r(&sec, &tm);
	fprintf(out, "%02d:%02d:%02d.%09llu ", tm.tm_hour, tm.tm_min, tm.tm_sec,
		(unsigned long long)(pkt->ts_ns % 1000000000ull));
	if (pkt->flags & ZCAP_PKT_VLAN)
		fprintf(out, "vlan %u, ", pkt->vlan_tci & 0xfffu);
	if (n < 14) {
		fprintf(out, "[|ether] length %u\n", pkt->len);
		return;
	}
	type = be16(p + 12);
	p += 14;
	n -= 14;
	if (type == 0x8100 && n >= 4) {
		fprintf(out, "vlan %u, ", be16(p) & 0xfffu);
		type = be16(p + 2);
		p += 4;
		n -= 4;
	}
	switch (type) {
	case 0x0800:
		print_ipv4(out, p, n, quiet);
		break;
	case 0x86dd:
		fprintf(out, "IP6, length %u", pkt->len);
		break;
	case 0x0806:
		fprintf(out, "ARP, length %u", pkt->len);
		break;
	default:
		fprintf(out, "ethertype 0x%04x, length %u", type, pkt->len);
	}
	fputc('\n', out);
}
