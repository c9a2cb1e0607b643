// SPDX-License-Identifier: MIT
/*
 * pfzc_race: race stress of the PF_ZEROCOPY module (issue 13, "Race
 * stress"), for the VM tests (tests/vm/guest/74-pfzc-race.sh).
 *
 *   pfzc_race SECONDS ZC0 ZC1 VETH0 VETH1
 *	ZC0 <-> ZC1: the module's virtual pair (pairs=1); VETH0 <-> VETH1:
 *	a veth pair, which this program deletes, re-creates (by those
 *	names) and moves into dying namespaces
 *
 * For SECONDS, on NSLOT sockets at once, NWORK threads issue random
 * interleavings of every call the socket has (socket, setsockopt with
 * valid and garbage values, bind, mmap/munmap of the rings, close, kicks,
 * ring index and descriptor writes with garbage, filter swaps, fanout
 * joins, statistics, recvmsg, sendmsg, poll), while:
 *   - a thread rewrites the descriptors of a tx ring on ZC0 while another
 *     kicks it;
 *   - a tx ring on ZC1 sends to ZC0's direct receiver, which a thread
 *     closes and reopens over and over;
 *   - a child process sends frames with AF_PACKET on all four devices;
 *   - a child process takes the devices down and up, deletes and
 *     re-creates the veth pair, and moves one end into a new namespace
 *     (whose only process binds a socket to it there, then exits: the
 *     namespace dies with the device in it).
 * Then everything is closed. The verdicts: no kernel message during the
 * run (any is a failure but one, the timer interrupt's overrun that a
 * slow emulated CPU makes the kernel log once per boot), every kind of
 * operation ran, no socket is left, and the pinned pages are back to
 * where they were.
 *
 * The harness must survive what it does to itself: the user-side writes
 * to a slot's ring mappings and their munmap happen under the slot's
 * mutex (the system calls take no lock: racing them is the point); once
 * the threads start, this process opens no file descriptor but PF_ZEROCOPY
 * sockets, so a number a thread still holds after another closed it can
 * only name another such socket; the umems are allocated up front and
 * never freed.
 *
 * PFZC_FAMILY in the environment overrides the family (default 27);
 * PFZC_RACE_SEED sets the random seed (printed).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pfzc_ring.h"

#include "pfzc_case.h"
#include "pfzc_test.h"

#define NSLOT		8
#define NWORK		6
#define UMEM_FRAMES	512		/* per slot: 1 MiB of 2 KiB frames */
#define ETYPE		0x88b5
#define HDR		sizeof(struct pfzc_ring_shared)

static const uint32_t fs = PFZC_FRAME_SIZE;

/* ---- operation counts ----------------------------------------------------- */

enum op {
	OP_SOCKET, OP_CLOSE, OP_SETUP, OP_UMEM, OP_UMEM_BAD, OP_RING,
	OP_RING_BAD, OP_OPT, OP_BIND, OP_BIND_BAD, OP_MMAP, OP_MMAP_BAD,
	OP_MUNMAP, OP_KICK, OP_TXDESC, OP_IDXJUNK, OP_RXCONS, OP_F_ACCEPT,
	OP_F_REJECT, OP_F_EBPF, OP_F_DETACH, OP_F_BAD, OP_STATS, OP_RECV,
	OP_SEND, OP_POLL, OP_FANOUT, OP_MAX
};

static const char *const op_name[OP_MAX] = {
	"socket", "close", "setup", "umem", "umem-bad", "ring", "ring-bad",
	"opt", "bind", "bind-bad", "mmap", "mmap-bad", "munmap", "kick",
	"tx-desc", "index-junk", "rx-consume", "filter-accept",
	"filter-reject", "filter-ebpf", "filter-detach", "filter-bad",
	"stats", "recvmsg", "sendmsg", "poll", "fanout",
};

/* how often each is drawn */
static const unsigned int op_weight[OP_MAX] = {
	[OP_SOCKET] = 4, [OP_CLOSE] = 3, [OP_SETUP] = 3, [OP_UMEM] = 4,
	[OP_UMEM_BAD] = 2, [OP_RING] = 4, [OP_RING_BAD] = 2, [OP_OPT] = 2,
	[OP_BIND] = 4, [OP_BIND_BAD] = 1, [OP_MMAP] = 4, [OP_MMAP_BAD] = 1,
	[OP_MUNMAP] = 2, [OP_KICK] = 4, [OP_TXDESC] = 5, [OP_IDXJUNK] = 2,
	[OP_RXCONS] = 4, [OP_F_ACCEPT] = 1, [OP_F_REJECT] = 1,
	[OP_F_EBPF] = 1, [OP_F_DETACH] = 1, [OP_F_BAD] = 1, [OP_STATS] = 2,
	[OP_RECV] = 2, [OP_SEND] = 2, [OP_POLL] = 2, [OP_FANOUT] = 3,
};

static atomic_ulong op_tries[OP_MAX], op_ok[OP_MAX];

static void count(enum op op, long rc)
{
	atomic_fetch_add_explicit(&op_tries[op], 1, memory_order_relaxed);
	if (rc >= 0)
		atomic_fetch_add_explicit(&op_ok[op], 1, memory_order_relaxed);
}

/* ---- what the processes share ------------------------------------------- */

/* In a MAP_SHARED page: the admin and traffic children see it too. */
struct shared {
	atomic_int stop;
	atomic_uint veth_idx[2];	/* 0 while the end is gone */
	atomic_ulong zc_updown, veth_updown, veth_recreate, netns_moves;
	atomic_ulong netns_binds, admin_errors, traffic_frames;
	atomic_int admin_errno;
	char admin_err[96];
	/* the traffic child parks while the admin deletes or moves a device */
	atomic_int gate, parked, traffic_pid;
	char park_diag[512];	/* where the traffic child was when it was late */
};

static struct shared *sh;
static atomic_int stop;
static unsigned int zc_idx[2];
static const char *ifname[4];		/* zc0, zc1, veth0, veth1 */
static int ebpf_accept = -1, ebpf_reject = -1;

/* ---- randomness: a xorshift per thread ---------------------------------- */

static uint64_t seed0;

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static uint32_t below(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(rnd(s) % n) : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_us(unsigned int us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* dst broadcast, src 02:7a:63:72:63:n, EtherType ETYPE, len >= 14 */
static void frame_fill(uint8_t *f, size_t len, uint8_t n)
{
	static const uint8_t src[6] = { 0x02, 0x7a, 0x63, 0x72, 0x63, 0 };

	memset(f, 0xff, 6);
	memcpy(f + 6, src, 6);
	f[11] = n;
	f[12] = ETYPE >> 8;
	f[13] = ETYPE & 0xff;
	memset(f + ETH_HLEN, n, len - ETH_HLEN);
}

/* ---- slots: a socket number and its user-side state ---------------------- */

/* A ring mapping as this side knows it: descriptors it may write, by the
 * header the kernel wrote and the length actually mapped. */
struct map {
	uint8_t *p;
	size_t len;
	uint32_t mask;		/* entries - 1 */
	uint32_t ndesc;		/* slots inside the mapping */
};

struct slot {
	pthread_mutex_t m;	/* the mappings' memory and munmap */
	atomic_int fd;
	uint8_t *umem;		/* UMEM_FRAMES frames, never freed */
	struct map rx, tx;
	atomic_uint want_rx, want_tx;	/* the last ring sizes set */
};

static struct slot slots[NSLOT];
static uint8_t *guard_mem, *ro_mem;	/* PROT_NONE, PROT_READ */

static void map_drop(struct map *mp)
{
	if (mp->p)
		munmap(mp->p, mp->len);
	*mp = (struct map){ 0 };
}

/* Records a fresh mapping, under the slot's mutex. */
static void map_set(struct map *mp, void *p, size_t len)
{
	const struct pfzc_ring_shared *s = p;
	uint32_t n = s->entries;

	map_drop(mp);
	mp->p = p;
	mp->len = len;
	if (len > HDR && pfzc_ring_entries_valid(n)) {
		uint64_t fit = (len - HDR) / sizeof(struct pfzc_desc);

		mp->mask = n - 1;
		mp->ndesc = fit < n ? (uint32_t)fit : n;
	}
}

static uint32_t *map_prod(struct map *mp)
{
	return &((struct pfzc_ring_shared *)mp->p)->producer;
}

static uint32_t *map_cons(struct map *mp)
{
	return &((struct pfzc_ring_shared *)mp->p)->consumer;
}

static struct pfzc_desc *map_desc(struct map *mp, uint32_t idx)
{
	uint32_t i = idx & mp->mask;

	return i < mp->ndesc ? (struct pfzc_desc *)(mp->p + HDR) + i : NULL;
}

/* ---- the operations on a slot --------------------------------------------- */

static unsigned int pick_ifindex(uint64_t *r)
{
	switch (below(r, 8)) {
	case 0: case 1:
		return zc_idx[0];
	case 2: case 3:
		return zc_idx[1];
	case 4:
		return atomic_load(&sh->veth_idx[0]);
	case 5:
		return atomic_load(&sh->veth_idx[1]);
	case 6:
		return below(r, 2) ? 0 : 1;	/* none, lo */
	default:
		return (uint32_t)rnd(r);
	}
}

static const uint32_t good_n[] = { 64, 128, 256 };
static const uint32_t bad_n[] = { 0, 1, 32, 63, 100, 1024, 1u << 18, 1u << 19, 0xffffffff };

static int do_socket(struct slot *s, uint64_t *r)
{
	static const int protos[] = { 0, 0, 0x0300 /* ETH_P_ALL, big-endian */,
				      0xb588, 0x10000, -1 };
	int type = below(r, 16) ? SOCK_RAW : SOCK_DGRAM;
	int fd, old;

	if (below(r, 2))
		type |= SOCK_NONBLOCK;
	fd = socket(family, type | SOCK_CLOEXEC, protos[below(r, 6)]);
	if (fd >= 0) {
		old = atomic_exchange(&s->fd, fd);
		if (old >= 0)
			close(old);
	}
	return fd;
}

static int do_umem(struct slot *s, int fd, uint64_t *r)
{
	uint32_t f = below(r, 4) ? fs : PFZC_FRAME_SIZE_MAX;
	uint64_t len = (uint64_t)UMEM_FRAMES * fs;

	if (below(r, 4) == 0)
		len = (uint64_t)(64 + below(r, 448)) * f & ~(uint64_t)(pg - 1);
	return umem_reg(fd, s->umem, len, f, 0);
}

static int do_umem_bad(struct slot *s, int fd, uint64_t *r)
{
	uint64_t len = (uint64_t)UMEM_FRAMES * fs;
	struct pfzc_umem_reg reg = { (uintptr_t)s->umem, len, fs, 0 };

	switch (below(r, 12)) {
	case 0: reg.addr += 1; break;
	case 1: reg.len = 0; break;
	case 2: reg.len = 1000; break;
	case 3: reg.frame_size = 1000; break;
	case 4: reg.flags = 1u << below(r, 32); break;
	case 5: reg.len = 1ULL << (33 + below(r, 30)); break;
	case 6: reg.addr = (uintptr_t)guard_mem; reg.len = 16 * (uint64_t)fs; break;
	case 7: reg.addr = (uintptr_t)ro_mem; reg.len = 16 * (uint64_t)fs; break;
	case 8:		/* the rings' own mapping, or whatever is there now */
		reg.addr = (uintptr_t)s->rx.p;
		reg.len = 2 * (uint64_t)fs;
		break;
	case 9:		/* runs into the guard page after the umem */
		reg.len = len + 2 * (uint64_t)fs;
		break;
	case 10:
		return setsockopt(fd, SOL_PFZC, PFZC_UMEM_REG, &reg, sizeof(reg) - 4);
	default:
		return setsockopt(fd, SOL_PFZC, PFZC_UMEM_REG, NULL, sizeof(reg));
	}
	return setsockopt(fd, SOL_PFZC, PFZC_UMEM_REG, &reg, sizeof(reg));
}

static int do_ring(struct slot *s, int fd, uint64_t *r, bool bad)
{
	bool rx = below(r, 2);
	uint32_t n = bad ? bad_n[below(r, 9)] : good_n[below(r, 3)];
	int rc;

	if (bad && below(r, 4) == 0)
		return setsockopt(fd, SOL_PFZC, rx ? PFZC_RX_RING : PFZC_TX_RING,
				  &n, below(r, 2) ? 2 : 8);
	rc = ring_set(fd, rx ? PFZC_RX_RING : PFZC_TX_RING, n);
	if (!rc)
		atomic_store(rx ? &s->want_rx : &s->want_tx, n);
	return rc;
}

/*
 * Joins one of a few groups, so that members come and go (a close, a
 * device removed under them) while packets are spread over them; now and
 * then an id out of range, and a join twice (EBUSY).
 */
static int do_fanout(int fd, uint64_t *r)
{
	uint32_t id = below(r, 8) ? (uint32_t)below(r, 4) :
		      PFZC_FANOUT_ID_MAX + 1 + (uint32_t)below(r, 3);

	return setsockopt(fd, SOL_PFZC, PFZC_FANOUT, &id, sizeof(id));
}

static int do_opt(int fd, uint64_t *r)
{
	union {
		struct pfzc_mmap_offsets off;
		struct pfzc_stats st;
		uint32_t v;
		int i;
	} u;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(u);
	int v = 1 << 16;

	switch (below(r, 9)) {
	case 0: return getsockopt(fd, SOL_PFZC, PFZC_MMAP_OFFSETS, &u, &len);
	case 1: return getsockopt(fd, SOL_PFZC, PFZC_VERSION, &u, &len);
	case 2:
		len = 4;
		return getsockopt(fd, SOL_PFZC, PFZC_STATISTICS, &u, &len);
	case 3: return setsockopt(fd, SOL_PFZC, PFZC_STATISTICS, &u, sizeof(u));
	case 4: return setsockopt(fd, SOL_PFZC, 99, &u, sizeof(u));
	case 5: return getsockopt(fd, SOL_PFZC, PFZC_UMEM_REG, &u, &len);
	case 6: return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	case 7:		/* consumes sk_err (ENETDOWN after a device went) */
		len = sizeof(u.i);
		return getsockopt(fd, SOL_SOCKET, SO_ERROR, &u.i, &len);
	default:
		len = sizeof(ss);
		return getsockname(fd, (struct sockaddr *)&ss, &len);
	}
}

static int do_bind(int fd, uint64_t *r, bool bad)
{
	struct sockaddr_pfzc sa = { .spz_family = family, .spz_ifindex = pick_ifindex(r) };
	socklen_t len = sizeof(sa);

	if (bad) {
		switch (below(r, 3)) {
		case 0: sa.spz_family = AF_PACKET; break;
		case 1: len = 4; break;
		default: sa.spz_pad = 1; break;
		}
	}
	return bind(fd, (struct sockaddr *)&sa, len);
}

static int do_mmap(struct slot *s, int fd, uint64_t *r, bool bad)
{
	bool rx = below(r, 2);
	uint32_t n = atomic_load(rx ? &s->want_rx : &s->want_tx);
	off_t off = rx ? PFZC_PGOFF_RX_RING : PFZC_PGOFF_TX_RING * pg;
	int flags = MAP_SHARED;
	size_t len;
	void *p;

	if (!n)
		n = good_n[below(r, 3)];
	len = map_len(n);
	if (below(r, 4) == 0)
		len = pg;		/* shorter than the ring: allowed */
	if (bad) {
		switch (below(r, 4)) {
		case 0: len += pg; break;
		case 1: off = 5 * pg; break;
		case 2: flags = MAP_PRIVATE; break;
		default: len = map_len(PFZC_RING_MAX); break;
		}
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, off);
	if (p == MAP_FAILED)
		return -1;
	pthread_mutex_lock(&s->m);
	map_set(rx ? &s->rx : &s->tx, p, len);
	pthread_mutex_unlock(&s->m);
	return 0;
}

/* The whole mapping, or all of it but the first page. */
static int do_munmap(struct slot *s, uint64_t *r)
{
	struct map *mp = below(r, 2) ? &s->rx : &s->tx;
	int rc = -1;

	pthread_mutex_lock(&s->m);
	if (mp->p && mp->len > (size_t)pg && below(r, 3) == 0) {
		rc = munmap(mp->p + pg, mp->len - pg);
		if (!rc) {
			uint64_t fit = (pg - HDR) / sizeof(struct pfzc_desc);

			mp->len = pg;
			if (mp->ndesc > fit)
				mp->ndesc = (uint32_t)fit;
		}
	} else if (mp->p) {
		rc = munmap(mp->p, mp->len);
		*mp = (struct map){ 0 };
	}
	pthread_mutex_unlock(&s->m);
	return rc;
}

/* A batch of tx descriptors, some garbage, published with a producer move. */
static int do_txdesc(struct slot *s, uint64_t *r)
{
	uint32_t rxn = atomic_load(&s->want_rx), prod, k, n;
	struct map *mp = &s->tx;
	struct pfzc_desc *d;
	int rc = -1;

	pthread_mutex_lock(&s->m);
	if (!mp->p || !mp->ndesc)
		goto out;
	prod = *map_prod(mp);
	n = 1 + below(r, 16);
	for (k = 0; k < n; k++) {
		/* a tx frame when rxn is right; 512 is a valid ring size too */
		uint32_t frame = rxn < UMEM_FRAMES ? rxn + below(r, UMEM_FRAMES - rxn) : 0;
		uint32_t len = 60 + below(r, 1455);

		d = map_desc(mp, prod + k);
		if (!d)
			continue;
		*d = (struct pfzc_desc){ .addr = (uint64_t)frame * fs, .len = len };
		frame_fill(s->umem + (uint64_t)frame * fs, len, (uint8_t)k);
		switch (below(r, 24)) {
		case 0: d->addr = ~0ULL; break;
		case 1: d->addr = (uint64_t)UMEM_FRAMES * fs + below(r, 1u << 20); break;
		case 2: d->len = 0; break;
		case 3: d->len = 0xffffffff; break;
		case 4: d->len = 5000; break;
		case 5: d->flags = (uint32_t)rnd(r) | 1; break;
		case 6: d->reserved = 1; break;
		case 7: d->addr = 0; break;		/* an rx frame */
		case 8: d->addr += fs - 10; break;	/* crosses a frame */
		case 9: d->len = below(r, ETH_HLEN); break;
		default: break;
		}
	}
	pfzc_store_release(map_prod(mp), prod + n);
	rc = 0;
out:
	pthread_mutex_unlock(&s->m);
	return rc;
}

/* Indices either side owns, written with garbage. */
static int do_idxjunk(struct slot *s, uint64_t *r)
{
	struct map *mp = below(r, 2) ? &s->rx : &s->tx;
	uint32_t v = (uint32_t)rnd(r);
	int rc = -1;

	pthread_mutex_lock(&s->m);
	if (!mp->p)
		goto out;
	switch (below(r, 6)) {
	case 0: pfzc_store_release(map_prod(mp), *map_prod(mp) + 0x80000000u); break;
	case 1: pfzc_store_release(map_prod(mp), v); break;
	case 2: pfzc_store_release(map_cons(mp), v); break;
	case 3: pfzc_store_release(map_cons(mp), *map_prod(mp) + 1 + below(r, 4096)); break;
	case 4: pfzc_store_release(map_prod(mp), *map_cons(mp) + mp->mask + 2); break;
	default:
		for (uint32_t i = 0; i < mp->ndesc && i < 64; i++) {
			struct pfzc_desc *d = (struct pfzc_desc *)(mp->p + HDR) + i;

			d->addr = rnd(r);
			d->len = (uint32_t)rnd(r);
			d->flags = (uint32_t)rnd(r);
		}
		break;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&s->m);
	return rc;
}

/* A consumer that keeps the contract: reads what the kernel published. */
static int do_rxcons(struct slot *s)
{
	struct map *mp = &s->rx;
	uint32_t prod, cons, n = 0;
	volatile uint64_t sum = 0;
	int rc = -1;

	pthread_mutex_lock(&s->m);
	if (!mp->p || !mp->ndesc)
		goto out;
	prod = pfzc_load_acquire(map_prod(mp));
	cons = *map_cons(mp);
	if (prod - cons > mp->mask + 1)
		cons = prod;	/* garbage from index-junk: start over */
	for (; cons != prod && n < 256; cons++, n++) {
		const struct pfzc_desc *d = map_desc(mp, cons);

		if (d)
			sum += d->addr + d->len;
	}
	pfzc_store_release(map_cons(mp), cons);
	rc = (int)n;
out:
	pthread_mutex_unlock(&s->m);
	return rc;
}

static int do_filter(int fd, enum op op, uint64_t *r)
{
	struct sock_filter accept = BPF_STMT(BPF_RET | BPF_K, below(r, 2) ? 0xffff : 64);
	struct sock_filter reject = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_filter bad[2] = {
		BPF_JUMP(BPF_JMP | BPF_JA, 5, 0, 0), BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog fp = { 1, &accept };
	int prog, dummy = 0;

	switch (op) {
	case OP_F_REJECT:
		fp.filter = &reject;
		break;
	case OP_F_EBPF:
		prog = below(r, 2) ? ebpf_accept : ebpf_reject;
		return setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &prog, sizeof(prog));
	case OP_F_DETACH:
		return setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &dummy, sizeof(dummy));
	case OP_F_BAD:
		fp = (struct sock_fprog){ 2, bad };
		if (below(r, 2))
			fp.len = 0;
		break;
	default:
		break;
	}
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp));
}

static int do_recv(int fd, uint64_t *r)
{
	static const int fl[] = { MSG_DONTWAIT, MSG_DONTWAIT | MSG_PEEK,
				  MSG_DONTWAIT | MSG_TRUNC, MSG_DONTWAIT | MSG_OOB };
	uint8_t buf[2048];
	struct iovec iov = { buf, below(r, 2) ? sizeof(buf) : 20 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	return (int)recvmsg(fd, &m, fl[below(r, 4)]);
}

static int do_send(int fd, uint64_t *r)
{
	static const size_t lens[] = { 0, 10, 14, 60, 1514, 9000 };
	uint8_t f[9000];
	size_t len = lens[below(r, 6)];

	if (len >= ETH_HLEN)
		frame_fill(f, len, 0x5e);
	return (int)send(fd, f, len, MSG_DONTWAIT);
}

/* What it takes to capture and send: each step racing whatever else runs. */
static int do_setup(struct slot *s, uint64_t *r)
{
	uint32_t rxn = good_n[below(r, 3)], txn = good_n[below(r, 3)];
	int fd = do_socket(s, r);

	if (fd < 0)
		return -1;
	if (umem_reg(fd, s->umem, (uint64_t)UMEM_FRAMES * fs, fs, 0))
		return -1;
	if (below(r, 4) && !ring_set(fd, PFZC_RX_RING, rxn))
		atomic_store(&s->want_rx, rxn);
	if (below(r, 4) && !ring_set(fd, PFZC_TX_RING, txn))
		atomic_store(&s->want_tx, txn);
	do_mmap(s, fd, r, false);
	do_mmap(s, fd, r, false);
	return bind_to(fd, pick_ifindex(r));
}

static void one_op(uint64_t *r, unsigned int wsum)
{
	struct slot *s = &slots[below(r, NSLOT)];
	unsigned int w = below(r, wsum);
	enum op op = 0;
	int fd;
	long rc;

	while (w >= op_weight[op])
		w -= op_weight[op++];
	fd = atomic_load(&s->fd);
	if (fd < 0 && op != OP_SETUP && op != OP_MUNMAP && op != OP_TXDESC &&
	    op != OP_IDXJUNK && op != OP_RXCONS)
		op = OP_SOCKET;
	switch (op) {
	case OP_SOCKET: rc = do_socket(s, r); break;
	case OP_CLOSE:
		fd = atomic_exchange(&s->fd, -1);
		rc = fd >= 0 ? close(fd) : -1;
		break;
	case OP_SETUP: rc = do_setup(s, r); break;
	case OP_UMEM: rc = do_umem(s, fd, r); break;
	case OP_UMEM_BAD: rc = do_umem_bad(s, fd, r); break;
	case OP_RING: rc = do_ring(s, fd, r, false); break;
	case OP_RING_BAD: rc = do_ring(s, fd, r, true); break;
	case OP_OPT: rc = do_opt(fd, r); break;
	case OP_FANOUT: rc = do_fanout(fd, r); break;
	case OP_BIND: rc = do_bind(fd, r, false); break;
	case OP_BIND_BAD: rc = do_bind(fd, r, true); break;
	case OP_MMAP: rc = do_mmap(s, fd, r, false); break;
	case OP_MMAP_BAD: rc = do_mmap(s, fd, r, true); break;
	case OP_MUNMAP: rc = do_munmap(s, r); break;
	case OP_KICK: rc = kick(fd); break;
	case OP_TXDESC:
		rc = do_txdesc(s, r);
		if (!rc && below(r, 2))
			kick(atomic_load(&s->fd));
		break;
	case OP_IDXJUNK: rc = do_idxjunk(s, r); break;
	case OP_RXCONS: rc = do_rxcons(s); break;
	case OP_F_ACCEPT: case OP_F_REJECT: case OP_F_EBPF: case OP_F_DETACH:
	case OP_F_BAD:
		rc = do_filter(fd, op, r);
		break;
	case OP_STATS: {
		struct pfzc_stats st;

		rc = get_stats(fd, &st);
		break;
	}
	case OP_RECV: rc = do_recv(fd, r); break;
	case OP_SEND: rc = do_send(fd, r); break;
	case OP_POLL: {
		struct pollfd p = { fd, POLLIN | POLLOUT, 0 };

		rc = poll(&p, 1, 0);
		break;
	}
	default:
		rc = -1;
		break;
	}
	count(op, rc);
}

static void *worker_main(void *arg)
{
	uint64_t r = seed0 ^ ((uintptr_t)arg * 0x9e3779b97f4a7c15ULL);
	unsigned int wsum = 0;

	for (int i = 0; i < OP_MAX; i++)
		wsum += op_weight[i];
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		one_op(&r, wsum);
	return NULL;
}

/* ---- a tx ring rewritten during its kicks --------------------------------- */

struct txhammer {
	struct zsock z;
	atomic_ulong kicks, rewrites;
};

static void *kicker_main(void *arg)
{
	struct txhammer *t = arg;

	while (!atomic_load(&stop)) {
		kick(t->z.fd);
		atomic_fetch_add(&t->kicks, 1);
	}
	return NULL;
}

/*
 * Every slot, the published ones too, rewritten between valid frames and
 * garbage while the kernel reads them: it must copy each once, then check.
 */
static void *rewriter_main(void *arg)
{
	struct txhammer *t = arg;
	struct pfzc_ring *tx = &t->z.tx;
	uint64_t r = seed0 ^ 0x5157;
	uint32_t prod = 0;

	for (uint32_t i = 0; i < t->z.umem_len / fs; i++)
		frame_fill(t->z.umem + (uint64_t)i * fs, 60, (uint8_t)i);
	while (!atomic_load(&stop)) {
		for (uint32_t i = 0; i < tx->entries; i++) {
			volatile struct pfzc_desc *d = &tx->desc[i];

			if (below(&r, 4)) {
				d->addr = (uint64_t)(tx->entries + below(&r, tx->entries)) * fs;
				d->len = 60;
			} else {
				d->addr = rnd(&r);
				d->len = (uint32_t)rnd(&r);
			}
			d->flags = below(&r, 16) ? 0 : 1;
		}
		/* room or not: a producer beyond the consumer's reach too */
		prod += below(&r, 8) ? 16 : tx->entries * 2;
		pfzc_store_release(tx->producer, prod);
		atomic_fetch_add(&t->rewrites, 1);
	}
	return NULL;
}

/* ---- ring to ring, the receiver closed under traffic --------------------- */

struct r2r {
	uint8_t *rx_umem, *tx_umem;	/* reused by each socket */
	atomic_ulong sent, send_errors, opened, open_failed, frames;
	int last_open_errno;
	const char *last_open_step;
};

/*
 * zsock_open() that fails instead of exiting, on a umem of the caller's: a
 * stale number another thread still holds may reach this socket first (a
 * bind or a umem of its own), which only means trying again. Returns NULL,
 * or the step that failed.
 */
static const char *rsock_open(struct zsock *z, uint8_t *umem, uint32_t frames,
			      uint32_t rx_n, uint32_t tx_n, unsigned int idx)
{
	memset(z, 0, sizeof(*z));
	z->umem = umem;
	z->umem_len = (uint64_t)frames * fs;
	z->rx_n = rx_n;
	z->tx_n = tx_n;
	z->fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (z->fd < 0)
		return "socket";
	if (umem_reg(z->fd, umem, z->umem_len, fs, 0))
		return "umem";
	if ((rx_n && ring_set(z->fd, PFZC_RX_RING, rx_n)) ||
	    (tx_n && ring_set(z->fd, PFZC_TX_RING, tx_n)))
		return "ring";
	if (rx_n) {
		z->rx_map = mmap(NULL, map_len(rx_n), PROT_READ | PROT_WRITE,
				 MAP_SHARED, z->fd, PFZC_PGOFF_RX_RING);
		if (z->rx_map == MAP_FAILED) {
			z->rx_map = NULL;
			return "mmap rx";
		}
		if (pfzc_ring_init(&z->rx, z->rx_map, rx_n))
			return "rx ring header";
	}
	if (tx_n) {
		z->tx_map = mmap(NULL, map_len(tx_n), PROT_READ | PROT_WRITE,
				 MAP_SHARED, z->fd, PFZC_PGOFF_TX_RING * pg);
		if (z->tx_map == MAP_FAILED) {
			z->tx_map = NULL;
			return "mmap tx";
		}
		if (pfzc_ring_init(&z->tx, z->tx_map, tx_n))
			return "tx ring header";
	}
	if (idx && bind_to(z->fd, idx))
		return "bind";
	return NULL;
}

/* The mappings and the socket; the umem stays. */
static void rsock_close(struct zsock *z)
{
	if (z->rx_map)
		munmap(z->rx_map, map_len(z->rx_n));
	if (z->tx_map)
		munmap(z->tx_map, map_len(z->tx_n));
	if (z->fd >= 0)
		close(z->fd);
	z->fd = -1;
}

static void *sender_main(void *arg)
{
	struct r2r *x = arg;
	struct pfzc_stats st;
	struct zsock z;
	uint32_t idx;

	for (uint32_t i = 0; i < 512; i++)
		frame_fill(x->tx_umem + (uint64_t)i * fs, 60, (uint8_t)i);
	while (!atomic_load(&stop)) {
		if (rsock_open(&z, x->tx_umem, 512, 0, 256, zc_idx[1])) {
			rsock_close(&z);
			atomic_fetch_add(&x->send_errors, 1);
			sleep_us(1000);
			continue;
		}
		/* until stopped, or a stale operation of a worker broke it */
		for (int bad = 0; !atomic_load(&stop) && bad < 100;) {
			uint32_t n = pfzc_prod_reserve(&z.tx, 64, &idx);

			for (uint32_t k = 0; k < n; k++)
				*pfzc_prod_desc(&z.tx, idx + k) = (struct pfzc_desc){
					.addr = (uint64_t)(256 + ((idx + k) & 255)) * fs,
					.len = 60,
				};
			pfzc_prod_submit(&z.tx);
			if (kick(z.fd)) {
				atomic_fetch_add(&x->send_errors, 1);
				bad++;
			}
			if (!n) {
				sched_yield();
				bad++;
			}
		}
		get_stats(z.fd, &st);
		atomic_fetch_add(&x->sent, st.tx_packets);
		rsock_close(&z);
	}
	return NULL;
}

static void *receiver_main(void *arg)
{
	const uint64_t len = 256 * (uint64_t)fs;
	struct r2r *x = arg;
	uint64_t r = seed0 ^ 0xabc;
	struct pfzc_ring ring;
	void *map;
	int fd;

	while (!atomic_load(&stop)) {
		const char *step = "socket";

		map = MAP_FAILED;
		fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
		if (fd < 0)
			goto failed;
		step = "umem";
		if (umem_reg(fd, x->rx_umem, len, fs, 0))
			goto failed;
		step = "rx ring";
		if (ring_set(fd, PFZC_RX_RING, 128))
			goto failed;
		step = "mmap";
		map = mmap(NULL, map_len(128), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED || pfzc_ring_init(&ring, map, 128))
			goto failed;
		step = "bind";
		if (bind_to(fd, zc_idx[0]))
			goto failed;
		atomic_fetch_add(&x->opened, 1);
		/* reads for 0 to 20 ms, then closes with frames arriving */
		for (double end = now() + below(&r, 20) / 1e3; now() < end;) {
			struct pollfd p = { fd, POLLIN, 0 };
			uint32_t idx, n = pfzc_cons_peek(&ring, 128, &idx);

			atomic_fetch_add(&x->frames, n);
			pfzc_cons_release(&ring);
			if (!n)
				poll(&p, 1, 1);
		}
		if (below(&r, 2)) {	/* the socket outlives its close: mapped */
			close(fd);
			munmap(map, map_len(128));
		} else {
			munmap(map, map_len(128));
			close(fd);
		}
		continue;
failed:
		x->last_open_errno = errno;
		x->last_open_step = step;
		atomic_fetch_add(&x->open_failed, 1);
		if (map != MAP_FAILED)
			munmap(map, map_len(128));
		if (fd >= 0)
			close(fd);
		sleep_us(1000);
	}
	return NULL;
}

/* ---- the admin child: devices and namespaces ------------------------------ */

static void admin_fail(const char *what, int err)
{
	atomic_fetch_add(&sh->admin_errors, 1);
	atomic_store(&sh->admin_errno, err);
	snprintf(sh->admin_err, sizeof(sh->admin_err), "%s", what);
}

struct nlreq {
	struct nlmsghdr h;
	char buf[1024];
};

static struct rtattr *nla_put(struct nlmsghdr *h, int type, const void *d, int len)
{
	struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), d, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void nla_end(struct nlmsghdr *h, struct rtattr *a)
{
	a->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)a);
}

/* One request, its ack: 0 or a negative errno. */
static int nl_talk(struct nlmsghdr *h)
{
	static unsigned int seq;
	char buf[4096];
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int err = -EIO;
	ssize_t n;

	if (fd < 0)
		return -errno;
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = ++seq;
	if (send(fd, h, h->nlmsg_len, 0) < 0) {
		err = -errno;
	} else if ((n = recv(fd, buf, sizeof(buf), 0)) >= (ssize_t)sizeof(struct nlmsghdr)) {
		struct nlmsghdr *a = (struct nlmsghdr *)buf;

		if (a->nlmsg_type == NLMSG_ERROR)
			err = ((struct nlmsgerr *)NLMSG_DATA(a))->error;
	}
	close(fd);
	return err;
}

static void nl_link(struct nlreq *q, int type, int flags, int ifindex)
{
	struct ifinfomsg *ifi = NLMSG_DATA(&q->h);

	memset(q, 0, sizeof(*q));
	q->h.nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	q->h.nlmsg_type = type;
	q->h.nlmsg_flags = flags;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
}

static int veth_add(const char *a, const char *b)
{
	struct rtattr *info, *data, *peer;
	struct nlreq q;

	nl_link(&q, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	nla_put(&q.h, IFLA_IFNAME, a, (int)strlen(a) + 1);
	info = nla_put(&q.h, IFLA_LINKINFO, NULL, 0);
	nla_put(&q.h, IFLA_INFO_KIND, "veth", 5);
	data = nla_put(&q.h, IFLA_INFO_DATA, NULL, 0);
	peer = nla_put(&q.h, VETH_INFO_PEER, NULL, 0);
	q.h.nlmsg_len += NLMSG_ALIGN(sizeof(struct ifinfomsg));	/* zeroed */
	nla_put(&q.h, IFLA_IFNAME, b, (int)strlen(b) + 1);
	nla_end(&q.h, peer);
	nla_end(&q.h, data);
	nla_end(&q.h, info);
	return nl_talk(&q.h);
}

static int link_del(unsigned int idx)
{
	struct nlreq q;

	nl_link(&q, RTM_DELLINK, 0, (int)idx);
	return nl_talk(&q.h);
}

static int link_netns(unsigned int idx, pid_t pid)
{
	uint32_t p = (uint32_t)pid;
	struct nlreq q;

	nl_link(&q, RTM_NEWLINK, 0, (int)idx);
	nla_put(&q.h, IFLA_NET_NS_PID, &p, sizeof(p));
	return nl_talk(&q.h);
}

static int link_updown(const char *name, bool up)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (!rc) {
		ifr.ifr_flags = up ? ifr.ifr_flags | IFF_UP : ifr.ifr_flags & ~IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return rc;
}

static void put_str(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, v, strlen(v)) < 0)
			admin_fail(path, errno);
		close(fd);
	}
}

/* The traffic child's state and kernel stack, into sh->park_diag. */
static void traffic_where(void)
{
	char path[64], buf[2048], st[256] = "";
	int pid = atomic_load(&sh->traffic_pid);
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r"))) {
		if (fgets(st, sizeof(st), f)) {
			char *p = strrchr(st, ')');
			memmove(st, p ? p + 2 : st, 2);	/* the state letter */
			st[1] = 0;
		}
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/stack", pid);
	if ((f = fopen(path, "r"))) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	for (char *c = buf; *c; c++)
		if (*c == '\n')
			*c = ' ';
	snprintf(sh->park_diag, sizeof(sh->park_diag), "pid %d state %s, stack: %s",
		 pid, st, n ? buf : "(unreadable)");
}

/*
 * AF_PACKET's sendmsg checks IFF_UP, then copies and transmits holding only
 * a device reference: one that lags behind a device's unregistration picks a
 * tx queue after the queues went, which the core logs ("selects TX queue 0,
 * but real number of TX queues is 0"). That race is the core's and
 * AF_PACKET's, not the module's: the traffic child waits it out here. The
 * module's own sendmsg and kicks get no such shelter.
 */
static void traffic_park(bool park)
{
	int i;

	atomic_store(&sh->gate, park);
	/* A burst takes milliseconds even on the KASAN kernel: 10 s is late
	 * (where the child was is kept for the log), 60 s a failure. At the
	 * end of the run the child exits instead, parked for good: an admin
	 * step begun just before waited here for it in vain (10 s, then
	 * ETIMEDOUT: seen in CI, the child a zombie). */
	for (i = 0; park && i < 60000 && !atomic_load(&sh->parked); i++) {
		if (i == 10000)
			traffic_where();
		sleep_us(1000);
	}
	if (park && !atomic_load(&sh->parked))
		admin_fail("the traffic child did not park", ETIMEDOUT);
}

static void veth_publish(void)
{
	atomic_store(&sh->veth_idx[0], if_nametoindex(ifname[2]));
	atomic_store(&sh->veth_idx[1], if_nametoindex(ifname[3]));
}

/* The pair again, up, after it went (or when it is half there). */
static void veth_recreate(void)
{
	unsigned int i;
	int err;

	traffic_park(true);
	atomic_store(&sh->veth_idx[0], 0);
	atomic_store(&sh->veth_idx[1], 0);
	for (int k = 2; k < 4; k++) {
		i = if_nametoindex(ifname[k]);
		if (i)
			link_del(i);
	}
	err = veth_add(ifname[2], ifname[3]);
	traffic_park(false);
	if (err) {
		admin_fail("veth add", -err);
		return;
	}
	for (int k = 2; k < 4; k++)
		if (link_updown(ifname[k], true))
			admin_fail("veth up", errno);
	veth_publish();
	atomic_fetch_add(&sh->veth_recreate, 1);
}

/*
 * In a new namespace, the moved end gets a socket with an rx ring, bound,
 * and traffic from its peer; then the process exits and the namespace, the
 * last reference to it gone, dies with the device in it.
 */
static void netns_child(int ready, int go, const char *dev, unsigned int us)
{
	struct zsock z;
	uint8_t *umem;
	char c = 0;

	if (unshare(CLONE_NEWNET))
		_exit(2);
	/* the moved end comes up: no IPv6 chatter in the log */
	put_str("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	put_str("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1 || c != 'g')
		_exit(3);
	link_updown(dev, true);
	umem = mmap(NULL, 256 * (size_t)fs, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (umem != MAP_FAILED &&
	    !rsock_open(&z, umem, 256, 128, 64, if_nametoindex(dev)))
		atomic_fetch_add(&sh->netns_binds, 1);
	sleep_us(us);
	_exit(0);	/* the socket and the namespace go with us */
}

static void netns_move(uint64_t *r)
{
	int k = 2 + (int)below(r, 2);
	unsigned int idx = if_nametoindex(ifname[k]);
	int ready[2], go[2], err, status;
	pid_t pid;
	char c;

	if (!idx) {
		veth_recreate();
		return;
	}
	if (pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC)) {
		admin_fail("pipe", errno);
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		netns_child(ready[1], go[0], ifname[k], below(r, 100000));
	}
	close(ready[1]);
	close(go[0]);
	if (pid < 0 || read(ready[0], &c, 1) != 1) {
		admin_fail("the namespace child", errno);
	} else {
		traffic_park(true);
		err = link_netns(idx, pid);
		if (err)
			admin_fail("move into the namespace", -err);
		else
			atomic_fetch_add(&sh->netns_moves, 1);
		atomic_store(&sh->veth_idx[k - 2], 0);
		c = 'g';
		if (write(go[1], &c, 1) != 1)
			admin_fail("write to the namespace child", errno);
	}
	close(ready[0]);
	close(go[1]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	/* the namespace dies in a work item: the pair goes with it */
	for (int i = 0; i < 200 && if_nametoindex(ifname[2 + (k == 2)]); i++)
		sleep_us(10000);
	veth_recreate();
}

static void admin_main(void)
{
	uint64_t r = seed0 ^ 0xad;
	unsigned int step = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	veth_publish();
	while (!atomic_load(&sh->stop)) {
		/* round robin, so that a short run does each */
		switch (step++ % 6) {
		case 0: case 1: {
			const char *d = ifname[below(&r, 2)];

			if (link_updown(d, false))
				admin_fail("zc down", errno);
			sleep_us(below(&r, 20000));
			if (link_updown(d, true))
				admin_fail("zc up", errno);
			atomic_fetch_add(&sh->zc_updown, 1);
			break;
		}
		case 2: case 3: {
			const char *d = ifname[2 + below(&r, 2)];

			/* the end may be gone: no error to count */
			if (!link_updown(d, false)) {
				sleep_us(below(&r, 20000));
				link_updown(d, true);
				atomic_fetch_add(&sh->veth_updown, 1);
			}
			break;
		}
		case 4:
			veth_recreate();
			break;
		default:
			netns_move(&r);
			break;
		}
		sleep_us(20000 + below(&r, 80000));
	}
	_exit(0);
}

/* ---- the traffic child: AF_PACKET frames on all four devices ------------- */

static void traffic_main(void)
{
	struct sockaddr_ll ll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETYPE), .sll_halen = 6,
	};
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	uint8_t f[128];
	unsigned long n = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	atomic_store(&sh->traffic_pid, getpid());
	if (s < 0)
		_exit(2);
	memset(ll.sll_addr, 0xff, 6);
	while (!atomic_load(&sh->stop)) {
		if (atomic_load(&sh->gate)) {
			atomic_store(&sh->parked, 1);
			while (atomic_load(&sh->gate) && !atomic_load(&sh->stop))
				sleep_us(1000);
			atomic_store(&sh->parked, 0);
			continue;
		}
		for (int d = 0; d < 4; d++) {
			ll.sll_ifindex = d < 2 ? (int)zc_idx[d]
					       : (int)atomic_load(&sh->veth_idx[d - 2]);
			if (!ll.sll_ifindex)
				continue;
			for (int k = 0; k < 8; k++) {
				frame_fill(f, 60 + (k * 8), (uint8_t)k);
				if (sendto(s, f, 60 + (k * 8), MSG_DONTWAIT,
					   (struct sockaddr *)&ll, sizeof(ll)) > 0)
					n++;
			}
		}
		atomic_store(&sh->traffic_frames, n);
		sleep_us(2000);
	}
	/* sends no more: an admin step in flight at the stop waits for this */
	atomic_store(&sh->parked, 1);
	_exit(0);
}

/* ---- setup and verdicts --------------------------------------------------- */

static pid_t spawn(void (*fn)(void))
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		fn();
	return pid;
}

/* Sockets listed in this namespace's /proc/net/pf_zerocopy, or -1. */
static int proc_sockets(void)
{
	char line[512];
	int n = -1;
	FILE *f = fopen("/proc/net/pf_zerocopy", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

static void slot_init(struct slot *s)
{
	/* a guard page after the umem: a length beyond it faults */
	size_t len = (size_t)UMEM_FRAMES * fs;
	uint8_t *p = mmap(NULL, len + pg, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + len, pg, PROT_NONE))
		die("mmap a umem");
	memset(p, 0, len);
	pthread_mutex_init(&s->m, NULL);
	atomic_init(&s->fd, -1);
	s->umem = p;
}

int main(int argc, char **argv)
{
	unsigned long total = 0, kinds_ok = 0;
	pthread_t work[NWORK], th[4];
	struct txhammer hammer = { 0 };
	struct r2r x = { 0 };
	pid_t admin, traffic;
	const char *seed;
	double secs, t0;
	int status, left;
	long pins0;

	test_init();
	if (argc != 6) {
		fprintf(stderr, "usage: pfzc_race SECONDS ZC0 ZC1 VETH0 VETH1\n");
		return 2;
	}
	secs = atof(argv[1]);
	for (int i = 0; i < 4; i++)
		ifname[i] = argv[2 + i];
	seed = getenv("PFZC_RACE_SEED");
	seed0 = seed ? strtoull(seed, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
	seed0 |= 1;
	signal(SIGPIPE, SIG_IGN);

	/* every fd but the PF_ZEROCOPY sockets is opened here, before the threads */
	pins0 = watch_start();
	begin();
	zc_idx[0] = if_nametoindex(ifname[0]);
	zc_idx[1] = if_nametoindex(ifname[1]);
	if (!zc_idx[0] || !zc_idx[1] || !if_nametoindex(ifname[2]))
		die("the devices");
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	guard_mem = mmap(NULL, 64 * 1024, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro_mem = mmap(NULL, 64 * 1024, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	x.rx_umem = mmap(NULL, 256 * (size_t)fs, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	x.tx_umem = mmap(NULL, 512 * (size_t)fs, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || guard_mem == MAP_FAILED || ro_mem == MAP_FAILED ||
	    x.rx_umem == MAP_FAILED || x.tx_umem == MAP_FAILED)
		die("mmap");
	ebpf_accept = ebpf_filter(0xffff);
	ebpf_reject = ebpf_filter(0);
	if (ebpf_accept < 0 || ebpf_reject < 0)
		die("BPF_PROG_LOAD (socket filters)");
	for (int i = 0; i < NSLOT; i++)
		slot_init(&slots[i]);
	printf("# seed %#llx (PFZC_RACE_SEED), %.0f s, %d slots, %d threads on them\n",
	       (unsigned long long)seed0, secs, NSLOT, NWORK);
	admin = spawn(admin_main);
	traffic = spawn(traffic_main);
	zsock_open(&hammer.z, 512, 0, 256, zc_idx[0]);
	end(true, "setup: %s=%u %s=%u, veth %s <-> %s, %d slots of %d-frame umems, eBPF filters loaded",
	    ifname[0], zc_idx[0], ifname[1], zc_idx[1], ifname[2], ifname[3],
	    NSLOT, UMEM_FRAMES);

	/* ---- the run ---- */
	t0 = now();
	for (long i = 0; i < NWORK; i++)
		if (pthread_create(&work[i], NULL, worker_main, (void *)(i + 1)))
			die("pthread_create");
	if (pthread_create(&th[0], NULL, kicker_main, &hammer) ||
	    pthread_create(&th[1], NULL, rewriter_main, &hammer) ||
	    pthread_create(&th[2], NULL, sender_main, &x) ||
	    pthread_create(&th[3], NULL, receiver_main, &x))
		die("pthread_create");
	for (int tick = 1; now() - t0 < secs; tick++) {
		sleep_us(200000);
		if (tick % 50 == 0) {
			unsigned long n = 0;

			for (int i = 0; i < OP_MAX; i++)
				n += atomic_load(&op_tries[i]);
			printf("# %.0f s: %lu operations, receiver reopened %lu times, %lu namespace moves\n",
			       now() - t0, n, atomic_load(&x.opened),
			       atomic_load(&sh->netns_moves));
		}
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < NWORK; i++)
		pthread_join(work[i], NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	atomic_store(&sh->stop, 1);
	waitpid(admin, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		printf("# the admin child ended with status %#x\n", status);
	status = -1;
	if (waitpid(traffic, &status, 0) != traffic)
		printf("# waitpid of the traffic child (%d): %s\n", (int)traffic, strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		printf("# the traffic child ended with status %#x%s\n", status,
		       WIFSIGNALED(status) ? " (a signal)" : "");
	end(true, "the run: %.0f s of stress, no kernel message during it", now() - t0);

	/* ---- verdicts ---- */
	for (int i = 0; i < OP_MAX; i++) {
		unsigned long n = atomic_load(&op_tries[i]), ok = atomic_load(&op_ok[i]);

		printf("# %-14s %10lu tries %10lu succeeded\n", op_name[i], n, ok);
		total += n;
		kinds_ok += n > 0;
	}
	end(kinds_ok == OP_MAX,
	    "stress: %lu operations of %d kinds on %d sockets by %d threads, %lu kinds ran",
	    total, OP_MAX, NSLOT, NWORK, kinds_ok);
	end(hammer.kicks > 0 && hammer.rewrites > 0,
	    "tx rewrite: %lu rewrites of every descriptor of a tx ring on %s during %lu kicks",
	    atomic_load(&hammer.rewrites), ifname[0], atomic_load(&hammer.kicks));
	if (x.open_failed)
		printf("# the receiver could not open %lu times, last at %s: %s\n",
		       atomic_load(&x.open_failed), x.last_open_step, ename(x.last_open_errno));
	end(x.opened > 0 && x.sent > 0,
	    "ring to ring: %s's tx ring sent %lu frames (%lu failed kicks); %s's receiver opened and closed %lu times under them, read %lu",
	    ifname[1], atomic_load(&x.sent), atomic_load(&x.send_errors), ifname[0],
	    atomic_load(&x.opened), atomic_load(&x.frames));
	if (sh->admin_errors)
		printf("# the admin child: %lu errors, the last %s: %s\n",
		       atomic_load(&sh->admin_errors), sh->admin_err,
		       ename(atomic_load(&sh->admin_errno)));
	if (sh->park_diag[0])
		printf("# the traffic child was 10 s late to park, at least once; the last time: %s\n",
		       sh->park_diag);
	end(sh->admin_errors == 0 && sh->zc_updown > 0 && sh->veth_updown > 0 &&
	    sh->veth_recreate > 0 && sh->netns_moves > 0,
	    "devices: %lu zc down/up, %lu veth down/up, %lu veth re-creations, %lu moves into a namespace that then died (%lu sockets bound there)",
	    atomic_load(&sh->zc_updown), atomic_load(&sh->veth_updown),
	    atomic_load(&sh->veth_recreate), atomic_load(&sh->netns_moves),
	    atomic_load(&sh->netns_binds));
	end(sh->traffic_frames > 0, "traffic: %lu frames sent with AF_PACKET on %s, %s, %s, %s",
	    atomic_load(&sh->traffic_frames), ifname[0], ifname[1], ifname[2], ifname[3]);

	/* ---- everything closed ---- */
	zsock_close(&hammer.z);
	for (int i = 0; i < NSLOT; i++) {
		struct slot *s = &slots[i];
		int fd = atomic_exchange(&s->fd, -1);

		map_drop(&s->rx);
		map_drop(&s->tx);
		if (fd >= 0)
			close(fd);
	}
	close(ebpf_accept);
	close(ebpf_reject);
	left = proc_sockets();
	end(left == 0, "cleanup: every socket closed and unmapped, /proc/net/pf_zerocopy lists %d (want 0)",
	    left);
	return watch_end(pins0);
}
