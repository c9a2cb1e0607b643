/* SPDX-License-Identifier: MIT */
/*
 * The ARP cache of zcap-arpd, as the papers' zero-copy NIC kept it: a fixed
 * table of IPv4 -> MAC entries that each live `lifetime` after their last
 * write.
 *
 * Invariants:
 *   - an address is in at most one entry;
 *   - a write goes into the entry that has the address (refreshing it),
 *     else into a free or expired one; when there is none it fails as an
 *     overflow and the table is unchanged: a full table of live entries
 *     is never evicted from;
 *   - a lookup ignores expired entries: they are free for writes, and
 *     never answered from.
 *
 * Times are CLOCK_MONOTONIC nanoseconds, passed in, so tests need no
 * sleeps. Single-threaded.
 */
#ifndef ZCAP_TOOLS_ARP_CACHE_H
#define ZCAP_TOOLS_ARP_CACHE_H

#include <stdint.h>

#define ARP_CACHE_DEFAULT_SIZE 1024u
#define ARP_CACHE_DEFAULT_LIFETIME_S 1200u	/* the papers' 20 minutes */

struct arp_entry {
	uint32_t ip;		/* host order */
	uint8_t mac[6];
	uint8_t used;		/* 0: never written */
	uint64_t expires_ns;	/* live while now < expires_ns */
	uint64_t updated_ns;	/* last write */
};

struct arp_cache {
	struct arp_entry *e;
	uint32_t size;
	uint64_t lifetime_ns;
};

enum arp_write {
	ARP_WRITE_NEW,		/* into a free or expired entry */
	ARP_WRITE_REFRESH,	/* the address's own live entry */
	ARP_WRITE_OVERFLOW,	/* no room: not written */
};

/* Whether e holds a live entry at now_ns (the only ones looked up or
 * shown). */
static inline int arp_entry_live(const struct arp_entry *e, uint64_t now_ns)
{
	return e->used && now_ns < e->expires_ns;
}

/* Returns 0, or -1 (errno ENOMEM, or EINVAL for size 0). */
int arp_cache_init(struct arp_cache *c, uint32_t size, uint64_t lifetime_ns);
void arp_cache_free(struct arp_cache *c);
enum arp_write arp_cache_write(struct arp_cache *c, uint32_t ip, const uint8_t mac[6],
			       uint64_t now_ns);
/* The live entry of ip, or NULL. */
const struct arp_entry *arp_cache_lookup(const struct arp_cache *c, uint32_t ip,
					 uint64_t now_ns);
/* Live entries now. */
uint32_t arp_cache_live(const struct arp_cache *c, uint64_t now_ns);

#endif /* ZCAP_TOOLS_ARP_CACHE_H */
