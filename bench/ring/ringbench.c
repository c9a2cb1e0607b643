/* SPDX-License-Identifier: MIT */
/*
 * Ring microbenchmark: zcap's PF_ZEROCOPY ring accessors against libxdp's
 * xsk_ring_* accessors and DPDK's rte_ring (SP/SC), side by side.
 *
 * One producer thread and one consumer thread, pinned to two different CPUs,
 * move N items through a 2048-slot ring in plain memory, in batches of 1, 16
 * and 64. The producer stamps every item with its sequence number and the
 * consumer checks it, so a run that passes also proves the ring delivered
 * every item once, in order. Time is CLOCK_MONOTONIC from the producer's
 * first item to the consumer's last.
 *
 * Items are what each ring carries natively, so they are not the same size:
 *   pfzc      struct pfzc_desc, 32 bytes, written in place (2 per cache line)
 *   xsk       struct xdp_desc, 16 bytes, written in place (4 per cache line),
 *             the layout of an AF_XDP rx/tx ring
 *   rte_ring  a void *, 8 bytes, copied in and out (8 per cache line)
 *
 * Built by bench/ring/run.sh; HAVE_XSK and HAVE_RTE say which of the other
 * two libraries were found. Usage:
 *
 *   ringbench [--smoke] [--runs R] [--scale F] [--na-xsk WHY] [--na-rte WHY]
 *
 * Full mode prints a markdown table; --smoke runs tiny counts once and
 * prints TAP lines ("ok - ring bench: ..."). Exit status 1 when any
 * sequence check failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pfzc_ring.h"

#ifdef HAVE_XSK
#include <xdp/xsk.h>
#endif
#ifdef HAVE_RTE
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ring.h>
#endif

#define ENTRIES		2048u	/* libxdp's default ring size */
#define MAX_BATCH	64u
#define MAX_RUNS	15
#define HDR_BYTES	192u	/* producer, consumer, flags: a line each */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static inline uint32_t item_len(uint64_t seq)
{
	return 64 + (uint32_t)(seq & 1023);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

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

enum impl { IMPL_PFZC, IMPL_XSK, IMPL_RTE, IMPL_XSK32, NIMPL };

static const char *impl_key[NIMPL] = { "pfzc", "xsk", "rte_ring", "xsk32" };
static const char *impl_name[NIMPL] = {
	"zcap `pfzc_*` (pfzc_ring.h)",
	"libxdp `xsk_ring_*`",
	"DPDK `rte_ring` SP/SC burst",
	"control: libxdp `xsk_ring_*` indices, zcap's item",
};
static const char *impl_item[NIMPL] = {
	"32 B `pfzc_desc`, in place",
	"16 B `xdp_desc`, in place",
	"8 B pointer, copied",
	"32 B `pfzc_desc`, in place",
};

/*
 * One run, shared between the two threads. Each side's private state (its
 * view of the ring, its counters) sits on cache lines of its own, 128 bytes
 * apart so the adjacent-line prefetcher does not pair them: a private view
 * that shares a line with the other side's would add a transfer per call.
 */
#define SIDE __attribute__((aligned(128)))

struct run {
	/* read-only once the threads start */
	enum impl impl;
	uint32_t batch;
	uint64_t items;
	int cpu_prod, cpu_cons;
	void *map;			/* pfzc / xsk ring memory */
#ifdef HAVE_RTE
	struct rte_ring *rte;
	int rte_from_eal;
#endif

	/* the producer's */
	struct pfzc_ring pz_prod SIDE;
#ifdef HAVE_XSK
	struct xsk_ring_prod xp;
#endif
	double t0;

	/* the consumer's */
	struct pfzc_ring pz_cons SIDE;
#ifdef HAVE_XSK
	struct xsk_ring_cons xc;
#endif
	double t1;
	uint64_t got;			/* items the consumer saw */
	uint64_t bad;			/* items out of sequence */
	uint64_t first_bad_at, first_bad_val;

	int ready SIDE;			/* spin barrier, before the start */
};

static void barrier(struct run *r)
{
	__atomic_add_fetch(&r->ready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE) < 2)
		cpu_relax();
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		fprintf(stderr, "ringbench: cannot pin to cpu %d\n", cpu);
}

static inline void check_item(struct run *r, uint64_t seq, uint64_t val,
			      uint32_t len, uint32_t want_len)
{
	if (__builtin_expect(val != seq || len != want_len, 0)) {
		if (!r->bad++) {
			r->first_bad_at = seq;
			r->first_bad_val = val;
		}
	}
}

/* -- zcap --------------------------------------------------------------- */

static void pfzc_produce(struct run *r)
{
	struct pfzc_ring *ring = &r->pz_prod;
	uint64_t seq = 0, n = r->items;

	while (seq < n) {
		uint64_t left = n - seq;
		uint32_t want = left < r->batch ? (uint32_t)left : r->batch;
		uint32_t idx, got, i;

		got = pfzc_prod_reserve(ring, want, &idx);
		if (!got) {
			cpu_relax();
			continue;
		}
		for (i = 0; i < got; i++, seq++)
			*pfzc_prod_desc(ring, idx + i) = (struct pfzc_desc){
				.addr = seq,
				.len = item_len(seq),
				.orig_len = item_len(seq),
				.ts_ns = seq,
			};
		pfzc_prod_submit(ring);
	}
}

static void pfzc_consume(struct run *r)
{
	struct pfzc_ring *ring = &r->pz_cons;
	uint64_t seq = 0, n = r->items;

	while (seq < n) {
		uint32_t idx, got, i;

		got = pfzc_cons_peek(ring, r->batch, &idx);
		if (!got) {
			cpu_relax();
			continue;
		}
		for (i = 0; i < got; i++, seq++) {
			const struct pfzc_desc *d = pfzc_cons_desc(ring, idx + i);

			check_item(r, seq, d->addr, d->len, item_len(seq));
		}
		pfzc_cons_release(ring);
	}
	r->got = seq;
}

/* -- libxdp ------------------------------------------------------------- */

#ifdef HAVE_XSK
static void xsk_produce(struct run *r)
{
	struct xsk_ring_prod *ring = &r->xp;
	uint64_t seq = 0, n = r->items;

	while (seq < n) {
		uint64_t left = n - seq;
		uint32_t want = left < r->batch ? (uint32_t)left : r->batch;
		uint32_t idx, i;

		/* all or nothing, as in libxdp */
		if (xsk_ring_prod__reserve(ring, want, &idx) != want) {
			cpu_relax();
			continue;
		}
		for (i = 0; i < want; i++, seq++)
			*xsk_ring_prod__tx_desc(ring, idx + i) = (struct xdp_desc){
				.addr = seq,
				.len = item_len(seq),
			};
		xsk_ring_prod__submit(ring, want);
	}
}

static void xsk_consume(struct run *r)
{
	struct xsk_ring_cons *ring = &r->xc;
	uint64_t seq = 0, n = r->items;

	while (seq < n) {
		uint32_t idx, got, i;

		got = xsk_ring_cons__peek(ring, r->batch, &idx);
		if (!got) {
			cpu_relax();
			continue;
		}
		for (i = 0; i < got; i++, seq++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(ring, idx + i);

			check_item(r, seq, d->addr, d->len, item_len(seq));
		}
		xsk_ring_cons__release(ring, got);
	}
	r->got = seq;
}

/*
 * Control: libxdp's index accessors over a ring of 32-byte pfzc_desc, so
 * the difference to the pfzc row is the accessors alone, not the item size.
 */
static void xsk32_produce(struct run *r)
{
	struct xsk_ring_prod *ring = &r->xp;
	struct pfzc_desc *desc = ring->ring;
	uint64_t seq = 0, n = r->items;

	while (seq < n) {
		uint64_t left = n - seq;
		uint32_t want = left < r->batch ? (uint32_t)left : r->batch;
		uint32_t idx, i;

		if (xsk_ring_prod__reserve(ring, want, &idx) != want) {
			cpu_relax();
			continue;
		}
		for (i = 0; i < want; i++, seq++)
			desc[(idx + i) & ring->mask] = (struct pfzc_desc){
				.addr = seq,
				.len = item_len(seq),
				.orig_len = item_len(seq),
				.ts_ns = seq,
			};
		xsk_ring_prod__submit(ring, want);
	}
}

static void xsk32_consume(struct run *r)
{
	struct xsk_ring_cons *ring = &r->xc;
	const struct pfzc_desc *desc = ring->ring;
	uint64_t seq = 0, n = r->items;

	while (seq < n) {
		uint32_t idx, got, i;

		got = xsk_ring_cons__peek(ring, r->batch, &idx);
		if (!got) {
			cpu_relax();
			continue;
		}
		for (i = 0; i < got; i++, seq++) {
			const struct pfzc_desc *d = &desc[(idx + i) & ring->mask];

			check_item(r, seq, d->addr, d->len, item_len(seq));
		}
		xsk_ring_cons__release(ring, got);
	}
	r->got = seq;
}
#endif

/* -- DPDK --------------------------------------------------------------- */

#ifdef HAVE_RTE
static void rte_produce(struct run *r)
{
	struct rte_ring *ring = r->rte;
	uint64_t seq = 0, n = r->items;
	void *objs[MAX_BATCH];

	while (seq < n) {
		uint64_t left = n - seq;
		uint32_t want = left < r->batch ? (uint32_t)left : r->batch;
		uint32_t off = 0, i;

		for (i = 0; i < want; i++)
			objs[i] = (void *)(uintptr_t)(seq + i);
		while (off < want) {
			uint32_t got = rte_ring_sp_enqueue_burst(ring, objs + off,
								 want - off, NULL);
			if (!got)
				cpu_relax();
			off += got;
		}
		seq += want;
	}
}

static void rte_consume(struct run *r)
{
	struct rte_ring *ring = r->rte;
	uint64_t seq = 0, n = r->items;
	void *objs[MAX_BATCH];

	while (seq < n) {
		uint32_t got, i;

		got = rte_ring_sc_dequeue_burst(ring, objs, r->batch, NULL);
		if (!got) {
			cpu_relax();
			continue;
		}
		for (i = 0; i < got; i++, seq++)
			check_item(r, seq, (uintptr_t)objs[i], 0, 0);
	}
	r->got = seq;
}

static int eal_ok;		/* rte_eal_init succeeded: use rte_ring_create */
static char eal_note[256];

static int eal_try(void)
{
	/* --no-huge implies legacy memory, which refuses --in-memory */
	char *argv[] = { "ringbench", "--no-huge", "--no-pci", "--no-shconf",
			 "-m", "64", "--no-telemetry",
			 "--file-prefix=zcap-ringbench",
			 "--log-level=lib.eal:error", "-l", "0", NULL };
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	return rte_eal_init(argc, argv);
}

/*
 * rte_eal_init can only be tried once per process, and on some hosts it
 * aborts instead of returning. Try it in a child first; only when the child
 * got through is it started here.
 */
static void eal_setup(void)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		_exit(eal_try() < 0 ? 1 : 0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
	    WEXITSTATUS(st)) {
		snprintf(eal_note, sizeof(eal_note),
			 "EAL did not start (--no-huge --no-pci --no-shconf -m 64); "
			 "rings built with rte_ring_init() on aligned memory");
		return;
	}
	if (eal_try() < 0) {
		snprintf(eal_note, sizeof(eal_note),
			 "EAL did not start (%s); rings built with rte_ring_init()",
			 rte_strerror(rte_errno));
		return;
	}
	eal_ok = 1;
	snprintf(eal_note, sizeof(eal_note),
		 "EAL started (--no-huge --no-pci --no-shconf -m 64); rings from rte_ring_create()");
}
#endif

/* -- driver ------------------------------------------------------------- */

static void *producer(void *arg)
{
	struct run *r = arg;

	pin(r->cpu_prod);
	barrier(r);
	r->t0 = now_ns();
	switch (r->impl) {
	case IMPL_PFZC: pfzc_produce(r); break;
#ifdef HAVE_XSK
	case IMPL_XSK: xsk_produce(r); break;
	case IMPL_XSK32: xsk32_produce(r); break;
#endif
#ifdef HAVE_RTE
	case IMPL_RTE: rte_produce(r); break;
#endif
	default: break;
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct run *r = arg;

	pin(r->cpu_cons);
	barrier(r);
	switch (r->impl) {
	case IMPL_PFZC: pfzc_consume(r); break;
#ifdef HAVE_XSK
	case IMPL_XSK: xsk_consume(r); break;
	case IMPL_XSK32: xsk32_consume(r); break;
#endif
#ifdef HAVE_RTE
	case IMPL_RTE: rte_consume(r); break;
#endif
	default: break;
	}
	r->t1 = now_ns();
	return NULL;
}

static void ring_setup(struct run *r)
{
	switch (r->impl) {
	case IMPL_PFZC:
		r->map = xalloc(pfzc_ring_map_size(ENTRIES));
		pfzc_ring_format(r->map, ENTRIES);
		if (pfzc_ring_init(&r->pz_prod, r->map, ENTRIES) ||
		    pfzc_ring_init(&r->pz_cons, r->map, ENTRIES)) {
			fprintf(stderr, "ringbench: pfzc_ring_init failed\n");
			exit(2);
		}
		break;
#ifdef HAVE_XSK
	case IMPL_XSK:
	case IMPL_XSK32: {
		/* the kernel's layout: index lines, then the descriptor array */
		size_t isz = r->impl == IMPL_XSK ? sizeof(struct xdp_desc) :
						   sizeof(struct pfzc_desc);
		char *m = xalloc(HDR_BYTES + ENTRIES * isz);

		r->map = m;
		r->xp = (struct xsk_ring_prod){
			.cached_prod = 0,
			.cached_cons = ENTRIES,	/* libxdp: consumer + size */
			.mask = ENTRIES - 1,
			.size = ENTRIES,
			.producer = (__u32 *)(m + 0),
			.consumer = (__u32 *)(m + 64),
			.flags = (__u32 *)(m + 128),
			.ring = m + HDR_BYTES,
		};
		r->xc = (struct xsk_ring_cons){
			.cached_prod = 0,
			.cached_cons = 0,
			.mask = ENTRIES - 1,
			.size = ENTRIES,
			.producer = (__u32 *)(m + 0),
			.consumer = (__u32 *)(m + 64),
			.flags = (__u32 *)(m + 128),
			.ring = m + HDR_BYTES,
		};
		break;
	}
#endif
#ifdef HAVE_RTE
	case IMPL_RTE: {
		/* EXACT_SZ: capacity 2048 like the others (not 2047) */
		unsigned int fl = RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ;

		if (eal_ok) {
			static unsigned int nr;
			char name[32];

			snprintf(name, sizeof(name), "rb%u", nr++);
			r->rte = rte_ring_create(name, ENTRIES, SOCKET_ID_ANY, fl);
			r->rte_from_eal = 1;
		} else {
			ssize_t sz = rte_ring_get_memsize(
					rte_align32pow2(ENTRIES + 1));

			if (sz < 0) {
				fprintf(stderr, "ringbench: rte_ring_get_memsize failed\n");
				exit(2);
			}
			r->rte = xalloc((size_t)sz);
			if (rte_ring_init(r->rte, "rb", ENTRIES, fl)) {
				fprintf(stderr, "ringbench: rte_ring_init failed\n");
				exit(2);
			}
		}
		if (!r->rte) {
			fprintf(stderr, "ringbench: rte_ring_create: %s\n",
				rte_strerror(rte_errno));
			exit(2);
		}
		break;
	}
#endif
	default:
		break;
	}
}

static void ring_free(struct run *r)
{
#ifdef HAVE_RTE
	if (r->impl == IMPL_RTE) {
		if (r->rte_from_eal)
			rte_ring_free(r->rte);
		else
			free(r->rte);
		return;
	}
#endif
	free(r->map);
}


static void watchdog(int sig)
{
	static const char msg[] = "not ok - ring bench: a run got stuck (lost index update)\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing left to report to */
	}
	_exit(1);
}

/* Returns ns for the run; *bad gets the number of out-of-sequence items. */
static double one_run(enum impl impl, uint32_t batch, uint64_t items,
		      int cpu_prod, int cpu_cons, int timeout, uint64_t *bad,
		      char *why, size_t whylen)
{
	struct run *r = xalloc(sizeof(*r));
	pthread_t pt, ct;
	double ns;

	r->impl = impl;
	r->batch = batch;
	r->items = items;
	r->cpu_prod = cpu_prod;
	r->cpu_cons = cpu_cons;
	ring_setup(r);

	alarm(timeout);
	if (pthread_create(&ct, NULL, consumer, r) ||
	    pthread_create(&pt, NULL, producer, r)) {
		fprintf(stderr, "ringbench: pthread_create failed\n");
		exit(2);
	}
	pthread_join(pt, NULL);
	pthread_join(ct, NULL);
	alarm(0);

	ns = r->t1 - r->t0;
	*bad = r->bad + (r->got != items);
	if (*bad)
		snprintf(why, whylen,
			 "%llu items out of sequence, first at #%llu (got %llu); consumer saw %llu of %llu",
			 (unsigned long long)r->bad,
			 (unsigned long long)r->first_bad_at,
			 (unsigned long long)r->first_bad_val,
			 (unsigned long long)r->got, (unsigned long long)items);
	ring_free(r);
	free(r);
	return ns;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void pick_cpus(int *a, int *b)
{
	cpu_set_t set;
	int i, n = 0;

	*a = *b = -1;
	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (i = 0; i < CPU_SETSIZE && n < 2; i++) {
		if (!CPU_ISSET(i, &set))
			continue;
		if (n++ == 0)
			*a = i;
		else
			*b = i;
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ringbench [--smoke] [--runs R] [--scale F] "
		"[--na-xsk WHY] [--na-rte WHY]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const uint32_t batches[] = { 1, 16, 64 };
	/* items per run for batch 1, 16, 64 (full mode, scale 1) */
	static const uint64_t full_items[] = { 20000000, 100000000, 200000000 };
	const char *na[NIMPL] = { NULL, NULL, NULL, NULL };
	int smoke = 0, runs = 5, failed = 0, cpu_prod, cpu_cons;
	double scale = 1.0;
	double mpps[NIMPL][3][3];	/* impl, batch, {median, min, max} */
	int status[NIMPL][3];		/* 0 ran, 1 n/a, 2 sequence failed */
	static double ns[NIMPL][3][MAX_RUNS];
	uint64_t items[3];
	int i, b, k, rr;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke"))
			smoke = 1;
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--scale") && i + 1 < argc)
			scale = atof(argv[++i]);
		else if (!strcmp(argv[i], "--na-xsk") && i + 1 < argc)
			na[IMPL_XSK] = na[IMPL_XSK32] = argv[++i];
		else if (!strcmp(argv[i], "--na-rte") && i + 1 < argc)
			na[IMPL_RTE] = argv[++i];
		else
			usage();
	}
	if (smoke)
		runs = 1;
	if (runs < 1 || runs > MAX_RUNS || scale <= 0)
		usage();
#ifndef HAVE_XSK
	if (!na[IMPL_XSK])
		na[IMPL_XSK] = na[IMPL_XSK32] = "built without libxdp";
#endif
#ifndef HAVE_RTE
	if (!na[IMPL_RTE])
		na[IMPL_RTE] = "built without DPDK";
#endif
	/* before EAL, which pins this thread to its lcore */
	pick_cpus(&cpu_prod, &cpu_cons);
#ifdef HAVE_RTE
	if (!na[IMPL_RTE])
		eal_setup();
#endif
	signal(SIGALRM, watchdog);
	for (b = 0; b < 3; b++)
		items[b] = smoke ? 100000 : (uint64_t)(full_items[b] * scale);
	if (cpu_cons < 0)
		fprintf(stderr, "ringbench: fewer than two CPUs allowed; "
			"both threads share one, the numbers mean little\n");

	/*
	 * Round robin: run r of every cell before run r + 1 of any, so that
	 * a slow stretch of the host (steal time on a VM) spreads over all
	 * implementations instead of sinking one of them.
	 */
	memset(status, 0, sizeof(status));
	for (k = 0; k < NIMPL; k++)
		for (b = 0; b < 3; b++)
			if (na[k])
				status[k][b] = 1;
	for (rr = 0; rr < runs; rr++) {
		for (b = 0; b < 3; b++) {
			for (k = 0; k < NIMPL; k++) {
				char why[256] = "";
				uint64_t bad = 0;

				if (status[k][b])
					continue;
				ns[k][b][rr] = one_run(k, batches[b], items[b],
						       cpu_prod, cpu_cons,
						       smoke ? 10 : 120, &bad,
						       why, sizeof(why));
				if (!bad)
					continue;
				status[k][b] = 2;
				failed = 1;
				if (smoke)
					printf("not ok - ring bench: %s batch %u: %s\n",
					       impl_key[k], batches[b], why);
				else
					fprintf(stderr, "ringbench: %s batch %u: %s\n",
						impl_key[k], batches[b], why);
			}
		}
		if (!smoke)
			fprintf(stderr, "ringbench: round %d of %d done\n",
				rr + 1, runs);
	}
	for (k = 0; k < NIMPL; k++) {
		for (b = 0; b < 3; b++) {
			double *v = ns[k][b];

			if (status[k][b])
				continue;
			qsort(v, runs, sizeof(v[0]), cmp_dbl);
			mpps[k][b][0] = runs % 2 ? items[b] * 1e3 / v[runs / 2] :
				items[b] * 2e3 / (v[runs / 2 - 1] + v[runs / 2]);
			mpps[k][b][1] = items[b] * 1e3 / v[runs - 1];
			mpps[k][b][2] = items[b] * 1e3 / v[0];
			if (smoke)
				printf("ok - ring bench: %s batch %u: %llu items in "
				       "sequence (%.1f Mpps)\n", impl_key[k],
				       batches[b], (unsigned long long)items[b],
				       mpps[k][b][0]);
		}
		if (smoke && na[k])
			printf("ok - ring bench: %s # SKIP n/a: %s\n",
			       impl_key[k], na[k]);
	}
	if (smoke)
		return failed;

	printf("| implementation | item | batch 1 | batch 16 | batch 64 |\n");
	printf("|---|---|---|---|---|\n");
	for (k = 0; k < NIMPL; k++) {
		printf("| %s | %s |", impl_name[k], impl_item[k]);
		for (b = 0; b < 3; b++) {
			if (status[k][b] == 1)
				printf(" n/a (%s) |", na[k]);
			else if (status[k][b] == 2)
				printf(" **FAILED: out of sequence** |");
			else
				printf(" **%.1f** Mpps (%.1f–%.1f), %.2f ns/item |",
				       mpps[k][b][0], mpps[k][b][1], mpps[k][b][2],
				       1e3 / mpps[k][b][0]);
		}
		printf("\n");
	}
	for (k = 1; k < NIMPL; k++) {
		printf("| zcap ÷ %s | ratio of medians |", impl_key[k]);
		for (b = 0; b < 3; b++) {
			if (status[0][b] || status[k][b])
				printf(" – |");
			else
				printf(" %.2f× |", mpps[0][b][0] / mpps[k][b][0]);
		}
		printf("\n");
	}
	printf("\n");
	printf("- Each cell: median of %d runs, taken round robin over all cells; Mpps = million items moved per second "
	       "(min–max over the runs); ns/item = 1000 / median Mpps.\n", runs);
	printf("- Items per run: %llu (batch 1), %llu (batch 16), %llu (batch 64). "
	       "Every run's consumer checked every item's sequence number%s.\n",
	       (unsigned long long)items[0], (unsigned long long)items[1],
	       (unsigned long long)items[2],
	       failed ? " (**some failed, see the cells**)" : " (all in order)");
	printf("- Ring: %u slots for all four (rte_ring with RING_F_EXACT_SZ, so "
	       "capacity %u too). Producer on CPU %d, consumer on CPU %d.\n",
	       ENTRIES, ENTRIES, cpu_prod, cpu_cons);
	printf("- Item sizes differ: each ring carries its native item. pfzc and xsk "
	       "write descriptors in place in the ring (32 B = 2 per cache line, 16 B = 4); "
	       "rte_ring copies 8-byte pointers in and out (8 per line). "
	       "Per byte of descriptor moved, the rates are not comparable; the "
	       "control row runs libxdp's index accessors over zcap's 32-byte item, "
	       "so pfzc against it compares the accessors alone.\n");
#ifdef HAVE_RTE
	if (!na[IMPL_RTE])
		printf("- DPDK: %s.\n", eal_note);
#endif
	return failed;
}
