/* SPDX-License-Identifier: MIT */
/*
 * Open addressing with linear probing from a hash of the address. An
 * expired entry is a free one for writes but does not end a probe (an
 * address written after it may sit further on); only a never-used entry
 * does. So a probe is short while the table has never-used entries, and
 * at worst a scan of the table, as the papers' NIC did every time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arp_cache.h"

int arp_cache_init(struct arp_cache *c, uint32_t size, uint64_t lifetime_ns)
{
	if (!size || !lifetime_ns) {
		errno = EINVAL;
		return -1;
	}
	c->e = calloc(size, sizeof(*c->e));
	if (!c->e)
		return -1;
	c->size = size;
	c->lifetime_ns = lifetime_ns;
	return 0;
}

void arp_cache_free(struct arp_cache *c)
{
	free(c->e);
	c->e = NULL;
	c->size = 0;
}

static uint32_t slot0(const struct arp_cache *c, uint32_t ip)
{
	return (uint32_t)(((uint64_t)(ip * 0x9e3779b1u) * c->size) >> 32);
}

enum arp_write arp_cache_write(struct arp_cache *c, uint32_t ip, const uint8_t mac[6],
			       uint64_t now_ns)
{
	struct arp_entry *room = NULL;
	enum arp_write how = ARP_WRITE_NEW;
	uint32_t i = slot0(c, ip);

	for (uint32_t n = 0; n < c->size; n++, i = i + 1 == c->size ? 0 : i + 1) {
		struct arp_entry *e = &c->e[i];

		if (arp_entry_live(e, now_ns)) {
			if (e->ip == ip) {
				room = e;
				how = ARP_WRITE_REFRESH;
				break;
			}
			continue;
		}
		if (!room)
			room = e;
		if (!e->used)
			break;	/* the end of the probe: ip is nowhere further */
	}
	if (!room)
		return ARP_WRITE_OVERFLOW;
	room->ip = ip;
	memcpy(room->mac, mac, 6);
	room->used = 1;
	room->updated_ns = now_ns;
	room->expires_ns = now_ns + c->lifetime_ns;
	return how;
}

const struct arp_entry *arp_cache_lookup(const struct arp_cache *c, uint32_t ip,
					 uint64_t now_ns)
{
	uint32_t i = slot0(c, ip);

	for (uint32_t n = 0; n < c->size; n++, i = i + 1 == c->size ? 0 : i + 1) {
		const struct arp_entry *e = &c->e[i];

		if (!e->used)
			return NULL;
		if (e->ip == ip && arp_entry_live(e, now_ns))
			return e;
	}
	return NULL;
}

uint32_t arp_cache_live(const struct arp_cache *c, uint64_t now_ns)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < c->size; i++)
		n += (uint32_t)arp_entry_live(&c->e[i], now_ns);
	return n;
}
