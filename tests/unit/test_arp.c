/* SPDX-License-Identifier: MIT */
/*
 * zcap-arpd's cache (tools/arp_cache.c) and frames (tools/arp.h): the
 * papers' rules (a write goes into the address's entry, or a free or
 * expired one, else fails as overflow; a lookup ignores expired entries;
 * entries live the lifetime after their last write), at the table's edges
 * and under churn against a model; and requests and replies byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arp.h"
#include "arp_cache.h"
#include "check.h"

#define S 1000000000ull

static void mac_of(uint32_t ip, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x5a;
	arp_put32(mac + 2, ip);
}

static void test_rules(void)
{
	struct arp_cache c;
	uint8_t m[6], m2[6] = { 2, 0, 0, 0, 0, 9 };
	const struct arp_entry *e;
	int ok = 1;

	CHECK(arp_cache_init(&c, 0, S) == -1, "a cache of 0 entries is refused");
	CHECK(arp_cache_init(&c, 4, 1200 * S) == 0, "a cache of 4 entries, 1200 s");
	for (uint32_t i = 1; i <= 4; i++) {
		mac_of(i, m);
		ok &= arp_cache_write(&c, i, m, 10 * S) == ARP_WRITE_NEW;
	}
	CHECK(ok, "4 addresses written into 4 free entries");
	mac_of(5, m);
	CHECK(arp_cache_write(&c, 5, m, 11 * S) == ARP_WRITE_OVERFLOW,
	      "a fifth, while all 4 live: overflow");
	CHECK(!arp_cache_lookup(&c, 5, 11 * S), "the overflowed address is not in the cache");
	CHECK(arp_cache_live(&c, 11 * S) == 4, "the 4 stay");
	CHECK(arp_cache_write(&c, 2, m2, 12 * S) == ARP_WRITE_REFRESH,
	      "an address already there is written in its own entry, even when full");
	e = arp_cache_lookup(&c, 2, 12 * S);
	CHECK(e && !memcmp(e->mac, m2, 6), "its MAC is the new one");
	mac_of(1, m);
	e = arp_cache_lookup(&c, 1, 10 * S + 1200 * S - 1);
	CHECK(e && !memcmp(e->mac, m, 6), "an entry is live 1 ns before its lifetime ends");
	CHECK(!arp_cache_lookup(&c, 1, 10 * S + 1200 * S),
	      "and expired at its lifetime: a lookup ignores it");
	CHECK(arp_cache_lookup(&c, 2, 12 * S + 1199 * S),
	      "the refreshed entry lives its lifetime from the refresh");
	mac_of(5, m);
	CHECK(arp_cache_write(&c, 5, m, 1210 * S) == ARP_WRITE_NEW,
	      "a write goes into an expired entry");
	CHECK(arp_cache_live(&c, 1210 * S) == 2, "2 live (2 refreshed, 5 new); 1, 3, 4 expired");
	mac_of(6, m);
	CHECK(arp_cache_write(&c, 6, m, 1210 * S) == ARP_WRITE_NEW &&
	      arp_cache_write(&c, 7, m, 1210 * S) == ARP_WRITE_NEW &&
	      arp_cache_write(&c, 8, m, 1210 * S) == ARP_WRITE_OVERFLOW,
	      "then 2 more fill the expired entries, and the next overflows");
	arp_cache_free(&c);
}

/* Random writes and lookups against a model that scans every entry. */
static void test_model(void)
{
	enum { N = 64, IPS = 200, OPS = 200000 };
	struct { uint32_t ip; uint64_t exp; int used; } model[N];
	struct arp_cache c;
	uint64_t now = S, life = 120 * S;
	unsigned int seed = 1, bad = 0, overflows = 0, hits = 0;
	uint8_t m[6];

	memset(model, 0, sizeof(model));
	arp_cache_init(&c, N, life);
	for (int op = 0; op < OPS; op++) {
		uint32_t ip = (uint32_t)(rand_r(&seed) % IPS) + 1;
		int found = -1, live = 0;

		now += (uint64_t)(rand_r(&seed) % 1000) * 1000000ull;
		for (int i = 0; i < N; i++) {
			int l = model[i].used && now < model[i].exp;

			live += l;
			if (l && model[i].ip == ip)
				found = i;
		}
		if (rand_r(&seed) & 1) {
			const struct arp_entry *e = arp_cache_lookup(&c, ip, now);

			bad += (found >= 0) != (e != NULL);
			hits += e != NULL;
			continue;
		}
		mac_of(ip, m);
		enum arp_write w = arp_cache_write(&c, ip, m, now);

		if (found >= 0) {
			bad += w != ARP_WRITE_REFRESH;
			model[found].exp = now + life;
		} else if (live == N) {
			bad += w != ARP_WRITE_OVERFLOW;
			overflows++;
		} else {
			bad += w != ARP_WRITE_NEW;
			for (int i = 0; i < N; i++)
				if (!(model[i].used && now < model[i].exp)) {
					model[i].ip = ip;
					model[i].exp = now + life;
					model[i].used = 1;
					break;
				}
		}
		bad += arp_cache_live(&c, now) != (uint32_t)(live + (w == ARP_WRITE_NEW));
	}
	CHECK(bad == 0 && overflows > 100 && hits > 1000,
	      "%d random writes and lookups agree with a model of the rules "
	      "(%u overflows, %u hits, %u disagreements)", OPS, overflows, hits, bad);
	arp_cache_free(&c);
}

static void test_frames(void)
{
	static const uint8_t req[ARP_PKT_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x0a, 0x08, 0x06,
		0, 1, 0x08, 0, 6, 4, 0, 1,
		0x02, 0, 0, 0, 0, 0x0a, 10, 9, 0, 1,
		0, 0, 0, 0, 0, 0, 10, 9, 0, 2,
	};
	static const uint8_t rep[ARP_PKT_LEN] = {
		0x02, 0, 0, 0, 0, 0x0a, 0x02, 0, 0, 0, 0, 0x0b, 0x08, 0x06,
		0, 1, 0x08, 0, 6, 4, 0, 2,
		0x02, 0, 0, 0, 0, 0x0b, 10, 9, 0, 2,
		0x02, 0, 0, 0, 0, 0x0a, 10, 9, 0, 1,
	};
	const uint8_t a[6] = { 2, 0, 0, 0, 0, 0x0a }, b[6] = { 2, 0, 0, 0, 0, 0x0b };
	uint8_t f[ARP_FRAME_LEN + 4], pad[ARP_FRAME_LEN - ARP_PKT_LEN] = { 0 };
	struct arp_msg msg;

	memset(f, 0xee, sizeof(f));
	arp_build_request(f, a, 0x0a090001, 0x0a090002);
	CHECK(!memcmp(f, req, ARP_PKT_LEN) && !memcmp(f + ARP_PKT_LEN, pad, sizeof(pad)) &&
	      f[ARP_FRAME_LEN] == 0xee,
	      "a request: 42 bytes as RFC 826 lays them out, zeros to 60, nothing past");
	CHECK(arp_parse(f, ARP_FRAME_LEN, &msg) && msg.op == ARP_OP_REQUEST &&
	      msg.spa == 0x0a090001 && msg.tpa == 0x0a090002 && !memcmp(msg.sha, a, 6),
	      "parsed back");
	arp_build_reply(f, ARP_FRAME_LEN, &msg, b);
	CHECK(!memcmp(f, rep, ARP_PKT_LEN), "the reply, to the asker alone, built in place of the request");
	CHECK(!arp_parse(f, ARP_PKT_LEN - 1, &msg), "41 bytes: refused");
	f[19] = 16;
	CHECK(!arp_parse(f, ARP_FRAME_LEN, &msg), "a protocol size of 16: refused");
	f[19] = 4;
	f[21] = 3;
	CHECK(!arp_parse(f, ARP_FRAME_LEN, &msg), "operation 3 (RARP): refused");
	f[21] = 2;
	f[22] = 0x01;
	CHECK(!arp_parse(f, ARP_FRAME_LEN, &msg), "a multicast sender MAC: refused");
	f[22] = 0x02;
	CHECK(arp_parse(f, ARP_FRAME_LEN, &msg) && msg.op == ARP_OP_REPLY, "the reply parses");
}

int main(void)
{
	test_rules();
	test_model();
	test_frames();
	return check_done();
}
