/* SPDX-License-Identifier: MIT */
/*
 * Unit test of the PF_ZEROCOPY ring accessors (include/pfzc_ring.h) against
 * the ABI and contract they implement (include/uapi/pf_zerocopy.h).
 *
 * Both sides of a ring live in this process: the kernel module runs the same
 * inline accessors, so what holds here for two threads holds across the
 * user/kernel boundary. No socket, no module, no privileges needed.
 *
 *   gcc -std=gnu11 -Wall -Wextra -Werror -O2 -g -Iinclude -pthread \
 *       -o /tmp/test_ring tests/unit/test_ring.c
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pfzc_ring.h"
#include "check.h"

/*
 * A stress run that never finishes is a failed run: a lost index update shows
 * up as both threads waiting for each other, so do not let it hang CI.
 * Generous, because the test is also run under ThreadSanitizer.
 */
#define WATCHDOG_SECONDS	120

#define STRESS_ITEMS		5000000u

/*
 * A side that waits this long without the other side moving has lost an
 * index update for good: fail that run at once instead of waiting for the
 * watchdog. Progress is continuous even under ThreadSanitizer.
 */
#define STALL_MS		5000

static void watchdog(int sig)
{
	static const char msg[] =
		"not ok - watchdog: ring test stuck (lost wake-up or index)\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing left to report to */
	}
	_exit(1);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Page aligned and zeroed, like the kernel's ring pages and a fresh umem. */
static void *xalloc(size_t len)
{
	size_t sz = (len + 4095) & ~(size_t)4095;
	void *p = aligned_alloc(4096, sz);

	if (!p) {
		perror("aligned_alloc");
		exit(2);
	}
	memset(p, 0, sz);
	return p;
}

/* Kept as a function: these checks once documented header bugs. */
static void check_known_bug(bool correct, bool known_wrong, const char *name,
			    const char *bug)
{
	(void)known_wrong;
	(void)bug;
	CHECK(correct, "%s", name);
}

struct test_ring {
	void *map;
	struct pfzc_ring_shared *sh;
	__u32 entries;
	struct pfzc_ring prod;		/* the producer's private view */
	struct pfzc_ring cons;		/* the consumer's private view */
};

/*
 * Parks both shared indices at start before either side builds its view, as
 * if start items had already gone through: this puts the u32 wrap wherever a
 * test wants it without pushing 2^32 items first.
 */
static void ring_setup(struct test_ring *t, __u32 entries, __u32 start)
{
	int perr, cerr;

	t->entries = entries;
	t->map = xalloc(pfzc_ring_map_size(entries));
	t->sh = t->map;
	pfzc_ring_format(t->map, entries);
	t->sh->producer = start;
	t->sh->consumer = start;
	perr = pfzc_ring_init(&t->prod, t->map, entries);
	cerr = pfzc_ring_init(&t->cons, t->map, entries);
	if (perr || cerr) {
		CHECK(0, "pfzc_ring_init of a freshly formatted %u-entry ring",
		      entries);
		exit(check_done());
	}
}

static void ring_free(struct test_ring *t)
{
	free(t->map);
}

/* -- ABI layout --------------------------------------------------------- */

/*
 * The structures are shared with a kernel that may be built by another
 * compiler; any change in layout is an ABI break, not a refactoring.
 */
static void test_layout(void)
{
	CHECK(sizeof(struct pfzc_desc) == 32, "pfzc_desc is 32 bytes (%zu)",
	      sizeof(struct pfzc_desc));
	CHECK(offsetof(struct pfzc_ring_shared, consumer) == PFZC_CACHELINE &&
	      offsetof(struct pfzc_ring_shared, flags) == 2 * PFZC_CACHELINE &&
	      sizeof(struct pfzc_ring_shared) == 3 * PFZC_CACHELINE,
	      "producer, consumer and header each own a cache line");
	CHECK(pfzc_ring_map_size(64) == 3 * PFZC_CACHELINE + 64 * 32,
	      "pfzc_ring_map_size(64) covers header and descriptors");
}

/* -- pfzc_ring_init ----------------------------------------------------- */

static int init_with(__u32 fmt_entries, __u32 want_entries,
		     void (*tweak)(struct pfzc_ring_shared *s))
{
	struct pfzc_ring_shared *s;
	struct pfzc_ring r;
	int rc;

	/* Formatting writes every descriptor; a bogus ring size is written
	 * into the header by hand instead, as a hostile peer would. */
	s = calloc(1, pfzc_ring_map_size(pfzc_ring_entries_valid(fmt_entries) ?
					 fmt_entries : PFZC_RING_MIN));
	if (!s)
		return -2;
	if (pfzc_ring_entries_valid(fmt_entries)) {
		pfzc_ring_format(s, fmt_entries);
	} else {
		pfzc_ring_format(s, PFZC_RING_MIN);
		s->entries = fmt_entries;
	}
	if (tweak)
		tweak(s);
	memset(&r, 0xa5, sizeof(r));
	rc = pfzc_ring_init(&r, s, want_entries);
	free(s);
	return rc;
}

static void abi_future(struct pfzc_ring_shared *s)
{
	s->abi_version = PFZC_ABI_VERSION + 1;
}

static void abi_zero(struct pfzc_ring_shared *s)
{
	s->abi_version = 0;
}

static void desc_off_bad(struct pfzc_ring_shared *s)
{
	s->desc_off = sizeof(*s) + 8;
}

static void test_ring_init(void)
{
	struct test_ring t;

	CHECK(init_with(64, 64, NULL) == 0, "init accepts a 64-entry ring");
	CHECK(init_with(PFZC_RING_MIN, PFZC_RING_MIN, NULL) == 0 &&
	      init_with(PFZC_RING_MAX, PFZC_RING_MAX, NULL) == 0,
	      "init accepts PFZC_RING_MIN and PFZC_RING_MAX");
	CHECK(init_with(64, 64, abi_future) == -1,
	      "init rejects a newer ABI version");
	CHECK(init_with(64, 64, abi_zero) == -1,
	      "init rejects ABI version 0 (unformatted ring)");
	CHECK(init_with(64, 128, NULL) == -1 && init_with(128, 64, NULL) == -1,
	      "init rejects entries that differ from the ring header");
	CHECK(init_with(96, 96, NULL) == -1 && init_with(100, 100, NULL) == -1,
	      "init rejects a non-power-of-two ring");
	CHECK(init_with(PFZC_RING_MIN / 2, PFZC_RING_MIN / 2, NULL) == -1 &&
	      init_with(0, 0, NULL) == -1 && init_with(1, 1, NULL) == -1,
	      "init rejects a ring smaller than PFZC_RING_MIN");
	CHECK(init_with(PFZC_RING_MAX * 2, PFZC_RING_MAX * 2, NULL) == -1 &&
	      init_with(1u << 31, 1u << 31, NULL) == -1,
	      "init rejects a ring larger than PFZC_RING_MAX");
	CHECK(init_with(64, 64, desc_off_bad) == -1,
	      "init rejects a descriptor array at an unexpected offset");

	/* The view must start from the shared indices, not from zero. */
	ring_setup(&t, 64, 0xdeadbe00u);
	CHECK(t.prod.cached_prod == 0xdeadbe00u &&
	      t.prod.cached_cons == 0xdeadbe00u && t.prod.mask == 63 &&
	      t.prod.entries == 64 &&
	      (char *)t.prod.desc == (char *)t.map + sizeof(*t.sh) &&
	      t.prod.producer == &t.sh->producer &&
	      t.prod.consumer == &t.sh->consumer,
	      "init builds its view from the shared header and indices");
	ring_free(&t);
}

/* -- pfzc_validate_desc ------------------------------------------------- */

static bool vd(__u64 addr, __u32 len, __u32 flags, __u16 reserved,
	       __u64 umem_len, __u32 fs, __u32 allowed)
{
	struct pfzc_desc d = {
		.addr = addr, .len = len, .flags = flags, .reserved = reserved,
	};

	return pfzc_validate_desc(&d, umem_len, fs, allowed);
}

static void test_validate_desc(void)
{
	static const __u32 sizes[] = { PFZC_FRAME_SIZE, PFZC_FRAME_SIZE_MAX };
	const __u32 rx = PFZC_DESC_RX_FLAGS;
	unsigned int i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		__u32 fs = sizes[i];
		__u64 ul = 8ull * fs;

		CHECK(vd(0, 60, 0, 0, ul, fs, rx) &&
		      vd(0, fs, 0, 0, ul, fs, rx) &&
		      vd(3 * fs + 100, fs - 100, 0, 0, ul, fs, rx) &&
		      vd(ul - fs, fs, 0, 0, ul, fs, rx) &&
		      vd(ul - 1, 1, 0, 0, ul, fs, rx),
		      "frame %u: accepts descriptors inside one frame", fs);
		CHECK(vd(0, 64, rx, 0, ul, fs, rx) &&
		      vd(0, 64, PFZC_DESC_VLAN, 0, ul, fs, rx),
		      "frame %u: accepts known rx flags", fs);
		CHECK(!vd(ul, 1, 0, 0, ul, fs, rx) &&
		      !vd(ul + 64, 1, 0, 0, ul, fs, rx) &&
		      !vd(~0ull, 1, 0, 0, ul, fs, rx) &&
		      !vd(1ull << 63, 1, 0, 0, ul, fs, rx),
		      "frame %u: rejects addr >= umem_len", fs);
		CHECK(!vd(0, 0, 0, 0, ul, fs, rx) &&
		      !vd(3 * fs + 100, 0, 0, 0, ul, fs, rx),
		      "frame %u: rejects len 0", fs);
		CHECK(!vd(3 * fs + 100, fs - 99, 0, 0, ul, fs, rx) &&
		      !vd(0, fs + 1, 0, 0, ul, fs, rx) &&
		      !vd(ul - 1, 2, 0, 0, ul, fs, rx) &&
		      !vd(fs - 1, 0xffffffffu, 0, 0, ul, fs, rx),
		      "frame %u: rejects len running past the frame end", fs);
		CHECK(!vd(0, 64, 1u << 3, 0, ul, fs, rx) &&
		      !vd(0, 64, 1u << 31, 0, ul, fs, rx) &&
		      !vd(0, 64, PFZC_DESC_VLAN, 0, ul, fs,
			  PFZC_DESC_TX_FLAGS),
		      "frame %u: rejects flags outside allowed_flags", fs);
		CHECK(!vd(0, 64, 0, 1, ul, fs, rx) &&
		      !vd(0, 64, 0, 0x8000, ul, fs, rx),
		      "frame %u: rejects nonzero reserved", fs);
	}

	/* The example from the ABI notes, against a 2048-byte frame. */
	CHECK(!vd(2048 * 3 + 100, 1949, 0, 0, 8 * 2048, 2048, rx) &&
	      vd(2048 * 3 + 100, 1948, 0, 0, 8 * 2048, 2048, rx),
	      "frame 2048: addr 3*2048+100 takes 1948 bytes, not 1949");
	/* The frame size is not decoration: the same bytes straddle a 2 KiB
	 * frame boundary but sit inside one 4 KiB frame. */
	CHECK(!vd(2040, 16, 0, 0, 8 * 4096, 2048, rx) &&
	      vd(2040, 16, 0, 0, 8 * 4096, 4096, rx),
	      "boundary at 2048 counts only for 2048-byte frames");
}

/* -- pfzc_slot_state ---------------------------------------------------- */

/*
 * Reference model, deliberately written differently from the header: walk
 * the readable indices, and remember from the test's own history how many
 * slots the producer has ever written.
 */
static enum pfzc_slot_state model_state(__u32 prod, __u32 cons, __u32 entries,
					__u32 written, __u32 slot)
{
	__u32 i;

	for (i = cons; i != prod; i++)
		if ((i & (entries - 1)) == slot)
			return PFZC_SLOT_READABLE;
	return slot < written ? PFZC_SLOT_WRITABLE : PFZC_SLOT_UNINITIALIZED;
}

static void test_slot_state(void)
{
	/* written: slots ever produced, min(items since creation, entries) */
	static const struct {
		__u32 entries, prod, cons, written;
		const char *what;
	} c[] = {
		{ 64, 0, 0, 0, "fresh ring" },
		{ 64, 10, 0, 10, "first lap, 10 produced" },
		{ 64, 10, 4, 10, "first lap, 4 of 10 consumed" },
		{ 64, 64, 0, 64, "full on the first lap" },
		{ 64, 64, 64, 64, "empty after one lap" },
		{ 64, 74, 50, 64, "readable slots wrap the array end" },
		{ 64, 1064, 1000, 64, "full after many laps" },
		{ 64, 1000, 1000, 64, "empty after many laps" },
		{ 256, 300, 100, 256, "256 entries, second lap" },
		{ 64, 0xfffffff0u, 0xfffffff0u, 64, "empty before u32 wrap" },
		{ 64, 0x20, 0xffffffe0u, 64, "full across the u32 wrap" },
		{ 64, 8, 0xfffffff8u, 64, "readable slots across the u32 wrap" },
		{ 64, 0, 0xfffffff8u, 64, "prod wrapped to exactly 0" },
		{ 64, 5, 5, 64, "empty after the u32 wrap" },
	};
	unsigned int i;
	__u32 s;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		unsigned int bad = 0, bug_shaped = 0;
		__u32 first_bad = 0;
		enum pfzc_slot_state got = 0, want = 0;

		for (s = 0; s < c[i].entries; s++) {
			enum pfzc_slot_state g, w;

			/* a formatted ring has len 0 until a slot is written */
			g = pfzc_slot_state(c[i].prod, c[i].cons,
					    c[i].entries, s,
					    s < c[i].written ? 60 : 0);
			w = model_state(c[i].prod, c[i].cons, c[i].entries,
					c[i].written, s);
			if (g == w)
				continue;
			if (!bad++) {
				first_bad = s;
				got = g;
				want = w;
			}
			/* The header guesses "first lap" from prod < entries,
			 * which is also true right after the u32 wrap. */
			if (w == PFZC_SLOT_WRITABLE &&
			    g == PFZC_SLOT_UNINITIALIZED &&
			    c[i].prod < c[i].entries && s >= c[i].prod)
				bug_shaped++;
		}
		if (bad)
			printf("# slot_state(prod %#x, cons %#x, %u) slot %u: "
			       "got %d want %d (%u slots wrong)\n",
			       c[i].prod, c[i].cons, c[i].entries, first_bad,
			       got, want, bad);
		check_known_bug(!bad, bad && bad == bug_shaped, c[i].what,
				"pfzc_slot_state() calls slots UNINITIALIZED "
				"after the u32 indices wrap (prod < entries)");
	}
}

/* -- full and empty, single-threaded ------------------------------------ */

static void put(struct pfzc_ring *r, __u32 idx, __u64 tag)
{
	struct pfzc_desc *d = pfzc_prod_desc(r, idx);

	memset(d, 0, sizeof(*d));
	d->addr = (idx & r->mask) * (__u64)PFZC_FRAME_SIZE;
	d->len = 60;
	d->ts_ns = tag;
}

static bool got(const struct pfzc_ring *r, __u32 idx, __u32 n, __u64 tag)
{
	__u32 i;

	for (i = 0; i < n; i++)
		if (pfzc_cons_desc(r, idx + i)->ts_ns != tag + i)
			return false;
	return true;
}

static void test_full_empty(__u32 start)
{
	const __u32 e = 64, k = 5;
	struct test_ring t;
	struct pfzc_ring *p, *c;
	__u32 idx, n, i;

	ring_setup(&t, e, start);
	p = &t.prod;
	c = &t.cons;

	CHECK(pfzc_prod_nb_free(p, 1) == e,
	      "start %#x: empty ring has %u free", start, e);
	n = pfzc_cons_peek(c, e, &idx);
	CHECK(n == 0 && idx == start, "start %#x: peek on empty ring gets 0",
	      start);

	n = pfzc_prod_reserve(p, e, &idx);
	CHECK(n == e && idx == start,
	      "start %#x: reserve on empty ring gets all %u (got %u)",
	      start, e, n);
	for (i = 0; i < n; i++)
		put(p, idx + i, 1000 + i);
	n = pfzc_prod_reserve(p, 1, &idx);
	CHECK(n == 0, "start %#x: full ring: a further reserve gets 0", start);
	CHECK(pfzc_prod_nb_free(p, 1) == 0, "start %#x: full ring has 0 free",
	      start);
	CHECK(pfzc_cons_peek(c, 1, &idx) == 0,
	      "start %#x: reserved but unsubmitted slots stay invisible", start);

	pfzc_prod_submit(p);
	CHECK(t.sh->producer == start + e,
	      "start %#x: submit publishes every reserved slot", start);

	n = pfzc_cons_peek(c, k, &idx);
	CHECK(n == k && idx == start && got(c, idx, n, 1000),
	      "start %#x: peek gets the first %u, in order", start, k);
	CHECK(pfzc_prod_reserve(p, 1, &idx) == 0,
	      "start %#x: peeked slots stay with the consumer until release",
	      start);

	pfzc_cons_release(c);
	n = pfzc_prod_reserve(p, k + 10, &idx);
	CHECK(n == k && idx == start + e,
	      "start %#x: after release of %u, reserve of %u gets exactly %u "
	      "(got %u)", start, k, k + 10, k, n);
	for (i = 0; i < n; i++)
		put(p, idx + i, 1000 + e + i);
	CHECK(pfzc_prod_reserve(p, 1, &idx) == 0,
	      "start %#x: and then the ring is full again", start);
	pfzc_prod_submit(p);

	/* Asking for more than is there returns what is there; the consumer
	 * first drains what its cache already knows of. */
	n = pfzc_cons_peek(c, 2 * e, &idx);
	CHECK(n == e - k && idx == start + k && got(c, idx, n, 1000 + k),
	      "start %#x: partial peek returns the %u readable (got %u)",
	      start, e - k, n);
	n = pfzc_cons_peek(c, 2 * e, &idx);
	CHECK(n == k && idx == start + e && got(c, idx, n, 1000 + e),
	      "start %#x: next peek picks up the %u published later (got %u)",
	      start, k, n);
	pfzc_cons_release(c);
	CHECK(t.sh->consumer == start + e + k &&
	      pfzc_cons_peek(c, 1, &idx) == 0,
	      "start %#x: drained ring is empty again", start);

	n = pfzc_prod_reserve(p, 3, &idx);
	CHECK(n == 3 && pfzc_prod_nb_free(p, 1) == e - 3,
	      "start %#x: partial use: %u free after reserving 3", start,
	      pfzc_prod_nb_free(p, 1));
	n = pfzc_prod_reserve(p, 2 * e, &idx);
	CHECK(n == e - 3 && idx == start + e + k + 3,
	      "start %#x: reserve of more than free returns the free count "
	      "(got %u)", start, n);
	ring_free(&t);
}

/* -- indices written by a misbehaving other side ------------------------ */

static void test_garbage(void)
{
	const __u32 e = 64, start = 0xffffffe0u;
	struct test_ring t;
	struct pfzc_ring *p, *c;
	__u32 idx, n;
	__u32 bad_cons[] = {
		start - 1,		/* prod - cons = e + 1 */
		start + e + 1,		/* consumer ahead of the producer */
		start + 0x80000000u,
	};
	unsigned int i;

	/* A full ring forces the producer to look at the shared consumer
	 * index; on an emptier ring its cache alone would answer. */
	ring_setup(&t, e, start);
	p = &t.prod;
	n = pfzc_prod_reserve(p, e, &idx);
	pfzc_prod_submit(p);
	for (i = 0; i < sizeof(bad_cons) / sizeof(bad_cons[0]); i++) {
		pfzc_store_release(&t.sh->consumer, bad_cons[i]);
		CHECK(pfzc_prod_nb_free(p, 1) == 0,
		      "consumer index %#x (prod %#x): nb_free is 0",
		      bad_cons[i], start + e);
		n = pfzc_prod_reserve(p, 1, &idx);
		CHECK(n == 0 && p->cached_prod == start + e,
		      "consumer index %#x: reserve gets 0 and moves nothing",
		      bad_cons[i]);
	}
	pfzc_store_release(&t.sh->consumer, start + 10);
	n = pfzc_prod_reserve(p, 20, &idx);
	CHECK(n == 10 && idx == start + e,
	      "sane consumer index again: producer gets its 10 slots back");
	ring_free(&t);

	/* Garbage already there when the producer builds its view. */
	ring_setup(&t, e, start);
	t.sh->consumer = start + 1000;
	pfzc_ring_init(&t.prod, t.map, e);
	CHECK(pfzc_prod_nb_free(&t.prod, 1) == 0 &&
	      pfzc_prod_reserve(&t.prod, 1, &idx) == 0,
	      "producer view built over a garbage consumer index has no room");
	ring_free(&t);

	ring_setup(&t, e, start);
	c = &t.cons;
	{
		__u32 bad_prod[] = {
			start + e + 1,	/* prod - cons = e + 1 */
			start - 1,	/* producer behind the consumer */
			start + 0x80000000u,
		};

		for (i = 0; i < sizeof(bad_prod) / sizeof(bad_prod[0]); i++) {
			pfzc_store_release(&t.sh->producer, bad_prod[i]);
			n = pfzc_cons_peek(c, 8, &idx);
			CHECK(n == 0 && c->cached_cons == start,
			      "producer index %#x (cons %#x): peek gets 0",
			      bad_prod[i], start);
		}
	}
	pfzc_store_release(&t.sh->producer, start + e);
	n = pfzc_cons_peek(c, 2 * e, &idx);
	CHECK(n == e && idx == start,
	      "sane producer index again: consumer sees the full ring");
	ring_free(&t);

	/* Garbage already there when the consumer builds its view. */
	ring_setup(&t, e, start);
	t.sh->producer = start + 1000;
	pfzc_ring_init(&t.cons, t.map, e);
	n = pfzc_cons_peek(&t.cons, 8, &idx);
	check_known_bug(n == 0, n == 8,
			"consumer view built over a garbage producer index "
			"sees nothing",
			"pfzc_ring_init() caches the producer index unchecked "
			"and pfzc_cons_nb_avail() trusts a nonzero cache");
	ring_free(&t);
}

/* -- two threads -------------------------------------------------------- */

struct stream {
	const char *name;
	__u32 entries;
	__u32 start;
	__u32 items;
	const __u32 *pbatch, *cbatch;
	unsigned int npbatch, ncbatch;

	struct test_ring ring;
	unsigned char *umem;
	__u64 umem_len;

	int stalled;			/* atomic: either side gave up */

	/* each written by one thread, read by main after join */
	__u64 perrors, cerrors, received, pseq, cseq;
	__u64 pbad_seq, cbad_seq;
	const char *pbad, *cbad;
};

#define HEAD_MAGIC	0x5a17c0de00000000ull

/*
 * Everything the consumer checks is a function of the sequence number. The
 * frame is the one at the slot's position, so the frame changes hands
 * exactly when the slot does, and the next lap overwrites it with a
 * different seq: a consumer reading before the producer's data is visible,
 * or a producer writing before the consumer is done, leaves a mismatch.
 */
static void expected_desc(const struct stream *st, __u64 seq,
			  struct pfzc_desc *d)
{
	__u32 idx = st->start + (__u32)seq;

	memset(d, 0, sizeof(*d));
	d->addr = (__u64)(idx & (st->entries - 1)) * PFZC_FRAME_SIZE +
		  (seq % 128) * 8;
	d->len = 16 + seq % 1000;	/* offset + len <= 2031 */
	d->orig_len = d->len + (__u32)(seq % 7);
	d->ts_ns = seq * 1000003u + 17;
	d->flags = (__u32)seq & PFZC_DESC_RX_FLAGS;
	d->vlan_tci = (__u16)(seq & 0xfff);
}

struct waiter {
	unsigned int spins;	/* since the last progress; 0 = not waiting */
	double since;
};

/* Returns true when this run should give up: stalled here or elsewhere. */
static bool backoff(struct stream *st, struct waiter *w)
{
	if (!w->spins++)
		w->since = now_ms();
	/* Two threads on two cores can spin; anything more and a spinner
	 * would sit on the core its peer needs. */
	if (w->spins % 64 == 0) {
		sched_yield();
		if (__atomic_load_n(&st->stalled, __ATOMIC_RELAXED))
			return true;
		if (now_ms() - w->since > STALL_MS) {
			__atomic_store_n(&st->stalled, 1, __ATOMIC_RELAXED);
			return true;
		}
		return false;
	}
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
	return false;
}

static void perr(struct stream *st, __u64 seq, const char *what)
{
	if (!st->perrors++) {
		st->pbad_seq = seq;
		st->pbad = what;
	}
}

static void cerr(struct stream *st, __u64 seq, const char *what)
{
	if (!st->cerrors++) {
		st->cbad_seq = seq;
		st->cbad = what;
	}
}

static void *producer(void *arg)
{
	struct stream *st = arg;
	struct pfzc_ring *r = &st->ring.prod;
	struct waiter w = { 0 };
	unsigned int b = 0;
	bool unsubmitted = false;
	__u64 seq = 0;

	while (seq < st->items) {
		__u32 want = st->pbatch[b++ % st->npbatch];
		__u32 idx, n, i;

		if (want > st->items - seq)
			want = st->items - seq;
		n = pfzc_prod_reserve(r, want, &idx);
		if (!n) {
			/* never wait for room while holding back a submit */
			if (unsubmitted) {
				pfzc_prod_submit(r);
				unsubmitted = false;
			}
			if (backoff(st, &w))
				break;
			continue;
		}
		w.spins = 0;
		if (idx != st->start + (__u32)seq)
			perr(st, seq, "reserve returned an unexpected index");
		for (i = 0; i < n; i++, seq++) {
			struct pfzc_desc d;
			__u64 head = HEAD_MAGIC ^ seq, tail = ~seq;

			expected_desc(st, seq, &d);
			memcpy(st->umem + d.addr, &head, sizeof(head));
			memcpy(st->umem + d.addr + d.len - 8, &tail,
			       sizeof(tail));
			*pfzc_prod_desc(r, idx + i) = d;
		}
		/* Sometimes publish two reservations with one submit. */
		if (b % 5 == 2 && seq < st->items) {
			unsubmitted = true;
		} else {
			pfzc_prod_submit(r);
			unsubmitted = false;
		}
	}
	pfzc_prod_submit(r);
	st->pseq = seq;
	return NULL;
}

static void *consumer(void *arg)
{
	struct stream *st = arg;
	struct pfzc_ring *r = &st->ring.cons;
	struct waiter w = { 0 };
	unsigned int b = 0;
	bool unreleased = false;
	__u64 seq = 0;

	while (seq < st->items) {
		__u32 want = st->cbatch[b++ % st->ncbatch];
		__u32 idx, n, i;

		n = pfzc_cons_peek(r, want, &idx);
		if (!n) {
			/* the producer may be waiting for exactly these */
			if (unreleased) {
				pfzc_cons_release(r);
				unreleased = false;
			}
			if (backoff(st, &w))
				break;
			continue;
		}
		w.spins = 0;
		if (n > want || n > st->items - seq)
			cerr(st, seq, "peek returned more than asked or sent");
		if (idx != st->start + (__u32)seq)
			cerr(st, seq, "peek returned an out-of-order index");
		for (i = 0; i < n; i++, seq++) {
			/* work on a private copy, as the kernel must */
			struct pfzc_desc d = *pfzc_cons_desc(r, idx + i);
			struct pfzc_desc want_d;
			__u64 head, tail;

			expected_desc(st, seq, &want_d);
			if (memcmp(&d, &want_d, sizeof(d))) {
				cerr(st, seq, "descriptor differs");
				continue;
			}
			if (!pfzc_validate_desc(&d, st->umem_len,
						PFZC_FRAME_SIZE,
						PFZC_DESC_RX_FLAGS)) {
				cerr(st, seq, "descriptor fails validation");
				continue;
			}
			memcpy(&head, st->umem + d.addr, sizeof(head));
			memcpy(&tail, st->umem + d.addr + d.len - 8,
			       sizeof(tail));
			if (head != (HEAD_MAGIC ^ seq) || tail != ~seq)
				cerr(st, seq, "frame data differs");
		}
		st->received += n;
		/* Sometimes hold slots across a second peek. */
		if (b % 3 == 1) {
			unreleased = true;
		} else {
			pfzc_cons_release(r);
			unreleased = false;
		}
	}
	pfzc_cons_release(r);
	st->cseq = seq;
	return NULL;
}

static void run_stream(struct stream *st)
{
	pthread_t pt, ct;
	__u32 idx, end = st->start + st->items;
	double t0, ms;

	ring_setup(&st->ring, st->entries, st->start);
	st->umem_len = (__u64)st->entries * PFZC_FRAME_SIZE;
	st->umem = xalloc(st->umem_len);

	t0 = now_ms();
	if (pthread_create(&ct, NULL, consumer, st) ||
	    pthread_create(&pt, NULL, producer, st)) {
		CHECK(0, "%s: pthread_create", st->name);
		exit(check_done());
	}
	pthread_join(pt, NULL);
	pthread_join(ct, NULL);
	ms = now_ms() - t0;
	printf("# %s: %u items, ran %.0f ms\n", st->name, st->items, ms);

	CHECK(!st->stalled, "%s: no side stalled (producer stopped at seq "
	      "%llu, consumer at %llu)", st->name,
	      (unsigned long long)st->pseq, (unsigned long long)st->cseq);
	if (st->stalled) {
		/* the indices are in an unknown state: skip the checks on
		 * them rather than report a cascade of consequences */
		free(st->umem);
		ring_free(&st->ring);
		return;
	}

	CHECK(st->perrors == 0, "%s: producer saw no error (%llu, first at "
	      "seq %llu: %s)", st->name, (unsigned long long)st->perrors,
	      (unsigned long long)st->pbad_seq, st->pbad ? st->pbad : "-");
	CHECK(st->cerrors == 0, "%s: every item arrived once, in order, "
	      "intact (%llu errors, first at seq %llu: %s)", st->name,
	      (unsigned long long)st->cerrors,
	      (unsigned long long)st->cbad_seq, st->cbad ? st->cbad : "-");
	CHECK(st->received == st->items, "%s: received %llu of %u", st->name,
	      (unsigned long long)st->received, st->items);
	/* The run must actually have crossed 2^32, or it tested less than
	 * it claims. */
	CHECK(st->ring.sh->producer == end && st->ring.sh->consumer == end &&
	      end < st->start,
	      "%s: indices wrapped from %#x to %#x", st->name, st->start,
	      st->ring.sh->producer);
	/* Asking for the whole ring makes the producer re-read the shared
	 * consumer index instead of answering from its stale cache. */
	CHECK(pfzc_cons_peek(&st->ring.cons, 1, &idx) == 0 &&
	      pfzc_prod_nb_free(&st->ring.prod, st->entries) == st->entries,
	      "%s: nothing left over, ring empty", st->name);

	free(st->umem);
	ring_free(&st->ring);
}

static void test_threads(void)
{
	static const __u32 pb256[] = { 32, 256, 1, 64, 100 };
	static const __u32 cb256[] = { 64, 5, 256, 31 };
	static const __u32 pb64[] = { 1, 7, 33 };
	static const __u32 cb64[] = { 33, 7, 1, 64, 5 };
	struct stream s256 = {
		.name = "256 entries",
		.entries = 256,
		.start = 0xfffff000u,
		.items = STRESS_ITEMS,
		.pbatch = pb256, .npbatch = sizeof(pb256) / sizeof(pb256[0]),
		.cbatch = cb256, .ncbatch = sizeof(cb256) / sizeof(cb256[0]),
	};
	struct stream s64 = {
		.name = "64 entries, odd batches",
		.entries = 64,
		/* not a multiple of the ring size: batches land on the
		 * array end and on 2^32 at odd offsets */
		.start = 0xfffff000u + 3,
		.items = STRESS_ITEMS,
		.pbatch = pb64, .npbatch = sizeof(pb64) / sizeof(pb64[0]),
		.cbatch = cb64, .ncbatch = sizeof(cb64) / sizeof(cb64[0]),
	};

	run_stream(&s256);
	run_stream(&s64);
}

/* -- contiguous ring: the checks both sides make ----------------------- */

/*
 * The record checks against a model: every header over the length range
 * and both status values at each offset class, and the consumer rule over
 * a lap around the u32 wrap.
 */
static void test_cring(void)
{
	const __u32 size = 32768, data_len = size + 16 + 2048;
	int bad = 0;

	CHECK(offsetof(struct pfzc_cring_shared, consumer) == PFZC_CACHELINE &&
	      offsetof(struct pfzc_cring_shared, flags) == 2 * PFZC_CACHELINE &&
	      sizeof(struct pfzc_cring_shared) == 3 * PFZC_CACHELINE,
	      "contiguous ring: producer, consumer and header each own a cache line");
	CHECK(pfzc_cring_size_valid(size, data_len) &&
	      !pfzc_cring_size_valid(size, size + 1525) &&
	      !pfzc_cring_size_valid(size + 4, data_len + 4) &&
	      !pfzc_cring_size_valid(2048, 2048 + 4096) &&
	      !pfzc_cring_size_valid(65536, 65536),
	      "contiguous ring: a power-of-two size, and room for a record to run on past it");
	/* with no run-on room (data_len = size) records near the end are cut */
	for (__u32 dl = data_len; dl >= size; dl = dl == data_len ? size : 0)
	for (__u32 off = 0; off < size;
	     off = off < 64 || off >= size - 2048 ? off + 1 :
		   off + 4093 < size - 2048 ? off + 4093 : size - 2048) {
		for (__u32 len = 0; len <= 0xffff; len += len < 1600 ? 1 : 997) {
			for (int okbit = 0; okbit < 2; okbit++) {
				__u32 hdr = len << 16 | (okbit ? PFZC_CRING_RX_OK | 0x2000 : 0x0004);
				int valid = okbit && len >= PFZC_CRING_LEN_MIN &&
					    len <= PFZC_CRING_LEN_MAX && !(off & 3) &&
					    off + 4 + len <= dl;
				__u32 step = pfzc_cring_validate_rec(hdr, off, dl);

				if (step != (valid ? (4 + len + 3) & ~3u : 0))
					bad++;
				if (step && (step & 3))
					bad++;
			}
		}
	}
	CHECK(!bad, "contiguous ring: records valid exactly when the model says, steps 4-aligned (%d wrong)",
	      bad);
	bad = 0;
	for (__u32 base = 0xffff0000u; base != 0x10000u; base += 0x1000) {
		__u32 last = base, prod = base + 9000;

		for (__u32 d = 0; d < 20000; d += 1) {
			__u32 cons = last + d - 5000;	/* behind, between, beyond */
			int valid = !(cons & 3) && (int)(cons - last) >= 0 &&
				    cons - last <= prod - last;

			if (pfzc_cring_validate_cons(cons, last, prod) != valid)
				bad++;
		}
	}
	CHECK(!bad, "contiguous ring: a consumer taken only 4-aligned in [last, producer], across the u32 wrap (%d wrong)",
	      bad);
}

int main(void)
{
	signal(SIGALRM, watchdog);
	alarm(WATCHDOG_SECONDS);

	test_layout();
	test_ring_init();
	test_validate_desc();
	test_cring();
	test_slot_state();
	test_full_empty(0);
	test_full_empty(0xfffffff0u);
	test_full_empty(0x7fffffe1u);
	test_garbage();
	test_threads();
	return check_done();
}
