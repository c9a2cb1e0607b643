/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * PF_ZEROCOPY ring accessors: the code that keeps the ring contract, compiled
 * into the pf_zerocopy module and into libzcap (and the tests and the
 * benchmark that drive a ring directly), so that both sides run the same
 * index arithmetic, checks and barriers.
 *
 * The ABI and the contract are in uapi/pf_zerocopy.h, and nothing else is:
 * ownership of the slots, who moves which index, and the barrier pairing
 * A-D. Each barrier below is labelled as there. The split is the one of
 * linux/if_xdp.h (ABI) against the kernel's net/xdp/xsk_queue.h and libxdp's
 * xsk.h (accessors).
 *
 * An internal header: not installed. libzcap's API is zcap.h; a program that
 * drives the socket itself has the ABI and the contract in the installed
 * uapi header.
 */
#ifndef _PFZC_RING_H
#define _PFZC_RING_H

#include "uapi/pf_zerocopy.h"

#ifdef __KERNEL__
#include <linux/compiler.h>
#include <asm/barrier.h>
#else
#include <stdbool.h>
#endif

/* Bytes to map for a ring of n entries (the contract's "Ring layout"). */
static inline __u64 pfzc_ring_map_size(__u32 entries)
{
	return sizeof(struct pfzc_ring_shared) +
	       (__u64)entries * sizeof(struct pfzc_desc);
}

static inline bool pfzc_ring_entries_valid(__u32 n)
{
	return n >= PFZC_RING_MIN && n <= PFZC_RING_MAX && !(n & (n - 1));
}

/*
 * A descriptor is valid when it lies inside the umem, inside a single frame,
 * is not empty, and carries only known flags (the contract's "A descriptor
 * is valid"). Call it on a private copy.
 */
static inline bool pfzc_validate_desc(const struct pfzc_desc *d, __u64 umem_len,
				      __u32 frame_size, __u32 allowed_flags)
{
	__u64 in_frame = d->addr & (__u64)(frame_size - 1);

	if (d->addr >= umem_len || d->len == 0)
		return false;
	if (d->len > frame_size - in_frame)
		return false;
	if (d->flags & ~allowed_flags || d->reserved)
		return false;
	return true;
}

/* A tx descriptor must also name a tx frame, never one of the rx ring's. */
static inline bool pfzc_validate_tx_desc(const struct pfzc_desc *d,
					 __u64 tx_first, __u64 umem_len,
					 __u32 frame_size)
{
	return d->addr >= tx_first &&
	       pfzc_validate_desc(d, umem_len, frame_size, PFZC_DESC_TX_FLAGS);
}

/* ---------------------------------------------------------------------------
 * Accessors: the same code runs in the module and in libzcap. The four
 * barriers that the contract's "Memory ordering" names are below, each
 * labelled: A and C are acquires, B and D releases.
 */
#ifdef __KERNEL__
#define pfzc_load_acquire(p)		smp_load_acquire(p)
#define pfzc_store_release(p, v)	smp_store_release(p, v)
#define pfzc_always_inline		__always_inline
#else
#define pfzc_load_acquire(p)		__atomic_load_n(p, __ATOMIC_ACQUIRE)
#define pfzc_store_release(p, v)	__atomic_store_n(p, v, __ATOMIC_RELEASE)
#define pfzc_always_inline		inline __attribute__((always_inline))
#endif

/*
 * One side's private view of a ring. cached_prod and cached_cons save a
 * shared-memory load (and a cache-line transfer) on most calls: the
 * producer re-reads consumer only when its cached view shows no room, the
 * consumer re-reads producer only when it has consumed all it knew of.
 */
struct pfzc_ring {
	__u32 cached_prod;
	__u32 cached_cons;
	__u32 mask;
	__u32 entries;
	__u32 *producer;
	__u32 *consumer;
	__u32 *flags;
	struct pfzc_desc *desc;
};

/*
 * Sets up a view of a mapped ring. entries is what this side asked for; the
 * ring's own header must agree, and carry this ABI version.
 * Returns 0, or -1 when the ring is not what was asked for.
 */
static inline int pfzc_ring_init(struct pfzc_ring *r, void *map, __u32 entries)
{
	struct pfzc_ring_shared *s = (struct pfzc_ring_shared *)map;

	if (!pfzc_ring_entries_valid(entries) ||
	    s->abi_version != PFZC_ABI_VERSION || s->entries != entries ||
	    s->desc_off != sizeof(*s))
		return -1;
	r->producer = &s->producer;
	r->consumer = &s->consumer;
	r->flags = &s->flags;
	r->desc = (struct pfzc_desc *)((char *)map + s->desc_off);
	r->entries = entries;
	r->mask = entries - 1;
	r->cached_prod = pfzc_load_acquire(r->producer);
	r->cached_cons = pfzc_load_acquire(r->consumer);
	return 0;
}

/* Creator side (the kernel, or a test): lays out an empty ring. */
static inline void pfzc_ring_format(void *map, __u32 entries)
{
	struct pfzc_ring_shared *s = (struct pfzc_ring_shared *)map;

	struct pfzc_desc *d = (struct pfzc_desc *)(s + 1);
	__u32 i;

	s->producer = 0;
	s->consumer = 0;
	s->flags = 0;
	s->abi_version = PFZC_ABI_VERSION;
	s->entries = entries;
	s->desc_off = sizeof(*s);
	for (i = 0; i < entries; i++)	/* every slot UNINITIALIZED */
		d[i] = (struct pfzc_desc){ 0 };
}

/* -- producer --------------------------------------------------------------- */

static pfzc_always_inline __u32 pfzc_prod_nb_free(struct pfzc_ring *r, __u32 nb)
{
	__u32 used = r->cached_prod - r->cached_cons;
	__u32 cons;

	if (used <= r->entries && r->entries - used >= nb)
		return r->entries - used;

	cons = pfzc_load_acquire(r->consumer);	/* A, matches D */
	used = r->cached_prod - cons;
	if (used > r->entries)	/* consumer index is garbage: no room */
		return 0;
	r->cached_cons = cons;
	return r->entries - used;
}

/* Reserves up to nb slots from *idx on. Returns how many (may be 0). */
static pfzc_always_inline __u32 pfzc_prod_reserve(struct pfzc_ring *r, __u32 nb,
						  __u32 *idx)
{
	__u32 room = pfzc_prod_nb_free(r, nb);

	if (nb > room)
		nb = room;
	*idx = r->cached_prod;
	r->cached_prod += nb;
	return nb;
}

static pfzc_always_inline struct pfzc_desc *pfzc_prod_desc(struct pfzc_ring *r,
							   __u32 idx)
{
	return &r->desc[idx & r->mask];
}

/* Publishes every slot reserved so far. */
static pfzc_always_inline void pfzc_prod_submit(struct pfzc_ring *r)
{
	pfzc_store_release(r->producer, r->cached_prod);	/* B, matches C */
}

/* -- consumer --------------------------------------------------------------- */

static pfzc_always_inline __u32 pfzc_cons_nb_avail(struct pfzc_ring *r, __u32 nb)
{
	__u32 avail = r->cached_prod - r->cached_cons;
	__u32 prod;

	/* also re-read when the cached index (from pfzc_ring_init) is bad */
	if (avail == 0 || avail > r->entries) {
		prod = pfzc_load_acquire(r->producer);	/* C, matches B */
		avail = prod - r->cached_cons;
		if (avail > r->entries)	/* producer index is garbage */
			return 0;
		r->cached_prod = prod;
	}
	return avail < nb ? avail : nb;
}

/*
 * Looks at up to nb readable slots from *idx on. They stay owned by the
 * consumer until pfzc_cons_release() covers them.
 */
static pfzc_always_inline __u32 pfzc_cons_peek(struct pfzc_ring *r, __u32 nb,
					       __u32 *idx)
{
	__u32 n = pfzc_cons_nb_avail(r, nb);

	*idx = r->cached_cons;
	r->cached_cons += n;
	return n;
}

static pfzc_always_inline const struct pfzc_desc *
pfzc_cons_desc(const struct pfzc_ring *r, __u32 idx)
{
	return &r->desc[idx & r->mask];
}

/* Hands every slot peeked so far back to the producer. */
static pfzc_always_inline void pfzc_cons_release(struct pfzc_ring *r)
{
	pfzc_store_release(r->consumer, r->cached_cons);	/* D, matches A */
}

/*
 * Hands back the peeked slots before idx only, oldest first; those from
 * idx on stay the consumer's. An idx outside what was peeked and not yet
 * handed back does nothing. The consumer index is ours alone to write.
 */
static pfzc_always_inline void pfzc_cons_release_to(struct pfzc_ring *r, __u32 idx)
{
	__u32 cons = pfzc_load_acquire(r->consumer);

	if (idx - cons > r->cached_cons - cons)
		return;
	pfzc_store_release(r->consumer, idx);			/* D, matches A */
}

/*
 * What state a slot is in, for debugging and tests (see the invariant).
 * Ownership comes from the indices alone. Whether a slot that is not
 * READABLE was ever written comes from its descriptor: pfzc_ring_format()
 * zeroes them all and a producer never publishes len 0.
 */
enum pfzc_slot_state {
	PFZC_SLOT_UNINITIALIZED = 0,
	PFZC_SLOT_WRITABLE,
	PFZC_SLOT_READABLE,
};

static inline enum pfzc_slot_state pfzc_slot_state(__u32 prod, __u32 cons,
						   __u32 entries, __u32 slot,
						   __u32 slot_len)
{
	/* distance of the slot from the consumer's slot, in ring order */
	if (prod - cons <= entries &&
	    ((slot - cons) & (entries - 1)) < prod - cons)
		return PFZC_SLOT_READABLE;
	return slot_len ? PFZC_SLOT_WRITABLE : PFZC_SLOT_UNINITIALIZED;
}

/* ---------------------------------------------------------------------------
 * Contiguous ring (the contract's "Contiguous ring"): the checks both sides
 * make, the kernel before it publishes a record and the application before
 * it reads one, on values loaded once into locals.
 */

/* A buffer of size bytes (positions wrap at it) that a whole record may
 * run on past, up to data_len. */
static inline bool pfzc_cring_size_valid(__u32 size, __u32 data_len)
{
	return size >= 4096 && !(size & (size - 1)) &&
	       data_len >= size + 4 + PFZC_CRING_LEN_MAX;
}

/*
 * The record whose header, in CPU order, is hdr, at offset off (a multiple
 * of 4 below size): the bytes it takes in the ring (header, frame, FCS,
 * padding to 4), or 0 when it is not a valid record.
 */
static inline __u32 pfzc_cring_validate_rec(__u32 hdr, __u32 off, __u32 data_len)
{
	__u32 len = hdr >> 16;

	if (!(hdr & PFZC_CRING_RX_OK) || len < PFZC_CRING_LEN_MIN ||
	    len > PFZC_CRING_LEN_MAX || (off & 3) || off + 4 + len > data_len)
		return 0;
	return (4 + len + 3) & ~3u;
}

/* A consumer the application wrote: taken only on a 4-byte boundary in
 * [last, prod], last being the kernel's last valid one. */
static inline bool pfzc_cring_validate_cons(__u32 cons, __u32 last, __u32 prod)
{
	return !(cons & 3) && cons - last <= prod - last;
}

#endif /* _PFZC_RING_H */
