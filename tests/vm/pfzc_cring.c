// SPDX-License-Identifier: MIT
/*
 * pfzc_cring: the contiguous ring's ABI on the patched 8139too, for the VM
 * tests (tests/vm/guest/81-rtl8139-cring.sh). Prints TAP lines; exits 1 if
 * one failed.
 *
 *   pfzc_cring R8IF TXIF R8MAC
 *
 * R8IF is qemu's RTL8139 under the patched driver; TXIF a NIC on the same
 * hub, sending through an AF_PACKET socket. Each case drives the socket by
 * hand, as include/uapi/pf_zerocopy.h ("Contiguous ring") says, never
 * through libzcap: the errnos; the mappings (the buffer read-only); the
 * records the NIC wrote, byte for byte and in order; a consumer index the
 * kernel must not believe (past the producer, not on a 4-byte boundary):
 * the NIC then fills the buffer up to the real one and drops the rest,
 * overwriting nothing unread; the ring's end when the interface goes down.
 */
#define _GNU_SOURCE
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <time.h>

#include "pfzc_test.h"

#define ETHERTYPE_TEST	0x88b5	/* IEEE local experimental */
#define MAGIC		0x5a435247u	/* "ZCRG" */

static int txfd;
static unsigned int r8idx, txidx;
static uint8_t r8mac[6];

static int cring_sock(void)
{
	int fd = socket(family, SOCK_RAW, htons(ETH_P_ALL));

	if (fd < 0)
		die("socket");
	return fd;
}

static int cring_set(int fd, uint32_t flags)
{
	return setsockopt(fd, SOL_PFZC, PFZC_CRING, &flags, sizeof(flags));
}

/* errno of the call, or 0 when it succeeded */
#define ERR(call) ((call) < 0 ? errno : 0)

/* Frame n of a test: to R8, a pattern after the magic and n. */
static size_t frame(uint8_t *b, uint32_t n, size_t len)
{
	memcpy(b, r8mac, 6);
	memcpy(b + 6, "\x52\x54\x00\x00\xe1\x00", 6);
	b[12] = ETHERTYPE_TEST >> 8;
	b[13] = ETHERTYPE_TEST & 0xff;
	memcpy(b + 14, &(uint32_t){ htonl(MAGIC) }, 4);
	memcpy(b + 18, &(uint32_t){ htonl(n) }, 4);
	for (size_t i = 22; i < len; i++)
		b[i] = (uint8_t)(n * 7 + i);
	return len;
}

static void send_frames(uint32_t first, uint32_t n, size_t len)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = (int)txidx,
				   .sll_halen = 6 };
	uint8_t b[1800];

	memcpy(sll.sll_addr, r8mac, 6);
	for (uint32_t i = 0; i < n; i++) {
		frame(b, first + i, len);
		if (sendto(txfd, b, len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
			die("sendto");
		usleep(2000);	/* paced: the reader under TCG is slow */
	}
}

struct cring {
	int fd;
	struct pfzc_cring_shared *ctl;
	const uint8_t *data;
	size_t data_map;
};

static int cring_open(struct cring *c)
{
	c->fd = cring_sock();
	if (cring_set(c->fd, 0) || bind_to(c->fd, r8idx))
		return -1;
	c->ctl = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd,
		      (off_t)(PFZC_PGOFF_CRING * pg));
	if (c->ctl == MAP_FAILED)
		return -1;
	c->data_map = (c->ctl->data_len + pg - 1) & ~(size_t)(pg - 1);
	c->data = mmap(NULL, c->data_map, PROT_READ, MAP_SHARED, c->fd,
		       (off_t)(PFZC_PGOFF_CRING_DATA * pg));
	return c->data == MAP_FAILED ? -1 : 0;
}

static void cring_close(struct cring *c)
{
	munmap((void *)c->data, c->data_map);
	munmap(c->ctl, (size_t)pg);
	close(c->fd);
}

/* Waits until the producer stops moving (1 s without a change). */
static uint32_t settle(const struct cring *c)
{
	uint32_t p = __atomic_load_n(&c->ctl->producer, __ATOMIC_ACQUIRE), q;

	for (int quiet = 0; quiet < 10;) {
		usleep(100000);
		q = __atomic_load_n(&c->ctl->producer, __ATOMIC_ACQUIRE);
		quiet = q == p ? quiet + 1 : 0;
		p = q;
	}
	return p;
}

/*
 * Reads the records in [from, prod): each must be valid and frame n,
 * n = first, first + 1...; returns how many, or -1 at the first that is
 * not (saying why).
 */
static long walk(const struct cring *c, uint32_t from, uint32_t prod,
		 uint32_t first, size_t len)
{
	uint32_t size = c->ctl->size, pos = from;
	uint8_t want[1800];
	long n = 0;

	while (pos != prod) {
		uint32_t off = pos & (size - 1), hdr, step;

		memcpy(&hdr, c->data + off, 4);
		hdr = le32toh(hdr);
		step = pfzc_cring_validate_rec(hdr, off, c->ctl->data_len);
		if (!step || step > prod - pos) {
			printf("# record at %u (offset %u): header %08x\n", pos, off, hdr);
			return -1;
		}
		frame(want, first + (uint32_t)n, len);
		/* len + FCS; qemu pads short frames to 60 */
		if ((hdr >> 16) != (len < 60 ? 60 : len) + 4 ||
		    memcmp(c->data + off + 4, want, len)) {
			printf("# record %ld at %u: length %u or bytes not frame %u's\n",
			       n, pos, hdr >> 16, first + (uint32_t)n);
			return -1;
		}
		pos += step;
		n++;
	}
	return n;
}

/*
 * Hands [.., prod) back and makes sure the kernel took it: poll() with
 * nothing to read has the driver poll, which loads the consumer and moves
 * the NIC's read pointer (the kernel's A).
 */
static uint32_t give_back(const struct cring *c, uint32_t prod)
{
	__atomic_store_n(&c->ctl->consumer, prod, __ATOMIC_RELEASE);	/* D */
	poll(&(struct pollfd){ .fd = c->fd, .events = POLLIN }, 1, 0);
	usleep(200000);
	return prod;
}

/* Waits (up to 30 s) for the link of ifindex idx: an MTU change resets
 * the e1000, whose watchdog brings the link back seconds later. */
static void carrier_wait(unsigned int idx)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/net/%s/carrier",
		 if_indextoname(idx, (char[IF_NAMESIZE]){ 0 }));
	for (int i = 0; i < 300; i++) {
		FILE *f = fopen(path, "r");
		int c = 0;

		if (f) {
			if (fscanf(f, "%d", &c) != 1)
				c = 0;
			fclose(f);
		}
		if (c == 1)
			return;
		usleep(100000);
	}
}

static uint64_t missed(void)
{
	char path[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/rx_missed_errors",
		 if_indextoname(r8idx, (char[IF_NAMESIZE]){ 0 }));
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static void test_errnos(void)
{
	struct pfzc_cring_shared *ctl;
	uint8_t *umem;
	int fd, fd2, e;

	fd = cring_sock();
	tap(ERR(cring_set(fd, 1)) == EINVAL, "PFZC_CRING with flags 1: EINVAL");
	tap(ERR(cring_set(fd, 0)) == 0, "PFZC_CRING on a fresh socket");
	tap(ERR(cring_set(fd, 0)) == EBUSY, "PFZC_CRING twice: EBUSY");
	umem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	tap(ERR(umem_reg(fd, umem, 1 << 20, PFZC_FRAME_SIZE, 0)) == EINVAL,
	    "a umem after PFZC_CRING: EINVAL");
	tap(ERR(ring_set(fd, PFZC_RX_RING, 64)) == EINVAL &&
	    ERR(ring_set(fd, PFZC_TX_RING, 64)) == EINVAL, "a ring after PFZC_CRING: EINVAL");
	tap(mmap(NULL, (size_t)pg, PROT_READ, MAP_SHARED, fd,
		 (off_t)(PFZC_PGOFF_CRING_DATA * pg)) == MAP_FAILED && errno == EINVAL,
	    "the buffer before bind: EINVAL (it is allocated at bind)");
	ctl = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   (off_t)(PFZC_PGOFF_CRING * pg));
	tap(ctl != MAP_FAILED && ctl->abi_version == PFZC_ABI_VERSION,
	    "the index page maps before bind, with the ABI version");
	e = ERR(bind_to(fd, txidx));
	tap(e == EOPNOTSUPP, "bind to a NIC without a contiguous ring (e1000): EOPNOTSUPP (%s)",
	    strerror(e));
	close(fd);
	if (ctl != MAP_FAILED)
		munmap(ctl, (size_t)pg);

	fd = cring_sock();
	tap(ERR(umem_reg(fd, umem, 1 << 20, PFZC_FRAME_SIZE, 0)) == 0 &&
	    ERR(cring_set(fd, 0)) == EINVAL, "PFZC_CRING after a umem: EINVAL");
	close(fd);
	munmap(umem, 1 << 20);

	fd = cring_sock();
	cring_set(fd, 0);
	tap(ERR(bind_to(fd, r8idx)) == 0, "bind to the RTL8139");
	fd2 = cring_sock();
	cring_set(fd2, 0);
	tap(ERR(bind_to(fd2, r8idx)) == EBUSY, "a second one: EBUSY");
	close(fd2);
	{
		struct zsock z;

		zsock_open(&z, 128, 64, 0, 0);
		tap(ERR(bind_to(z.fd, r8idx)) == EBUSY,
		    "a descriptor-mode receiver beside it: EBUSY");
		zsock_close(&z);
	}
	{
		uint32_t id = 7;
		char b[64];

		tap(ERR(setsockopt(fd, SOL_PFZC, PFZC_FANOUT, &id, sizeof(id))) == EOPNOTSUPP,
		    "fanout: EOPNOTSUPP");
		tap(ERR(recv(fd, b, sizeof(b), MSG_DONTWAIT)) == EBUSY, "recv: EBUSY");
	}
	ctl = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   (off_t)(PFZC_PGOFF_CRING * pg));
	tap(ctl != MAP_FAILED && ctl->size == 32768 && ctl->data_len == 32768 + 16 + 2048 &&
	    pfzc_cring_size_valid(ctl->size, ctl->data_len),
	    "bound: size %u, data_len %u (8139too's 32 KiB ring, 16 + 2048 bytes run-on)",
	    ctl != MAP_FAILED ? ctl->size : 0, ctl != MAP_FAILED ? ctl->data_len : 0);
	if (ctl != MAP_FAILED) {
		size_t dl = (ctl->data_len + pg - 1) & ~(size_t)(pg - 1);
		void *d;

		tap(mmap(NULL, dl, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 (off_t)(PFZC_PGOFF_CRING_DATA * pg)) == MAP_FAILED && errno == EACCES,
		    "the buffer writable: EACCES");
		tap(mmap(NULL, dl, PROT_READ, MAP_PRIVATE, fd,
			 (off_t)(PFZC_PGOFF_CRING_DATA * pg)) == MAP_FAILED && errno == EINVAL,
		    "the buffer MAP_PRIVATE: EINVAL");
		tap(mmap(NULL, dl + (size_t)pg, PROT_READ, MAP_SHARED, fd,
			 (off_t)(PFZC_PGOFF_CRING_DATA * pg)) == MAP_FAILED && errno == EINVAL,
		    "the buffer and a page more: EINVAL");
		tap(mmap(NULL, 2 * (size_t)pg, PROT_READ, MAP_SHARED, fd,
			 (off_t)(PFZC_PGOFF_CRING * pg)) == MAP_FAILED && errno == EINVAL,
		    "the index page and a page more: EINVAL");
		d = mmap(NULL, dl, PROT_READ, MAP_SHARED, fd, (off_t)(PFZC_PGOFF_CRING_DATA * pg));
		tap(d != MAP_FAILED, "the buffer read-only: mapped");
		if (d != MAP_FAILED) {
			tap(mprotect(d, dl, PROT_READ | PROT_WRITE) && errno == EACCES,
			    "mprotect adds no write to it: EACCES");
			munmap(d, dl);
		}
		munmap(ctl, (size_t)pg);
	}
	close(fd);
}

static void test_records(void)
{
	struct cring c;
	uint32_t prod, cons, size;
	uint64_t m0;
	long n;
	short ev;

	if (cring_open(&c)) {
		tap(false, "records: open a contiguous ring on the RTL8139: %s", strerror(errno));
		return;
	}
	size = c.ctl->size;
	/* the bind restarted the NIC (close and open): give it a moment */
	sleep(1);
	send_frames(0, 50, 60);
	prod = settle(&c);
	{
		struct pollfd p = { .fd = c.fd, .events = POLLIN };

		ev = poll(&p, 1, 0) == 1 ? p.revents : 0;
	}
	tap(ev & POLLIN, "poll: POLLIN with records published");
	n = walk(&c, 0, prod, 0, 60);
	tap(n == 50, "50 frames of 60 bytes: each a record, whole, in order (%ld)", n);
	cons = give_back(&c, prod);
	/* 1514-byte frames, ten at a time (the buffer holds 21), each batch
	 * given back: 60 of them go round the buffer almost three times */
	n = 0;
	for (int b = 0; b < 6; b++) {
		long k;

		send_frames(100 + 10 * (uint32_t)b, 10, 1514);
		prod = settle(&c);
		k = walk(&c, cons, prod, 100 + 10 * (uint32_t)b, 1514);
		n += k == 10 ? 10 : 0;
		cons = give_back(&c, prod);
	}
	tap(n == 60, "60 frames of 1514 bytes, the %u-byte buffer wrapping under them: whole, in order (%ld, producer at %u)",
	    size, n, prod);

	/*
	 * A consumer index the kernel must not believe. Ten records unread,
	 * then a consumer past the producer, nearly a buffer ahead: believed,
	 * the NIC would take the room up to it for free and write over the
	 * unread records. The kernel keeps the last valid one, so the NIC
	 * fills the buffer up to it and takes no more: qemu's model then
	 * holds the rest back (and counts each refused offer as a miss), a
	 * real RTL8139 drops and counts them. Then, the buffer full, one
	 * inside the unread records but off a 4-byte boundary: believed, the
	 * NIC would get room and take more. Once the consumer is right
	 * again, the frames held back come in, in order.
	 */
	{
		uint32_t first = 1000, held;
		long n2;

		send_frames(first, 10, 1514);
		prod = settle(&c);
		n = walk(&c, cons, prod, first, 1514);
		__atomic_store_n(&c.ctl->consumer, prod + size - 4096, __ATOMIC_RELEASE);
		m0 = missed();
		send_frames(first + 10, 20, 1514);
		prod = settle(&c);
		n = n == 10 ? walk(&c, cons, prod, first, 1514) : -1;
		tap(n > 10 && n < 30 && prod - cons < size,
		    "consumer past the producer: ignored, the NIC stopped at the real one: 10 unread, then %ld in the buffer, whole and in order, %u bytes",
		    n, prod - cons);
		tap(missed() > m0, "... and the NIC counted misses (rx_missed_errors +%llu)",
		    (unsigned long long)(missed() - m0));
		held = prod;
		__atomic_store_n(&c.ctl->consumer, cons + ((prod - cons) / 2 & ~3u) + 2,
				 __ATOMIC_RELEASE);
		poll(&(struct pollfd){ .fd = c.fd, .events = POLLIN }, 1, 0);
		send_frames(first + 30, 10, 1514);
		prod = settle(&c);
		tap(prod == held && walk(&c, cons, prod, first, 1514) == n,
		    "consumer off a 4-byte boundary among the unread records: ignored, the NIC took no more (producer %u, was %u)",
		    prod, held);
		cons = give_back(&c, prod);
		prod = settle(&c);
		n2 = n > 0 ? walk(&c, cons, prod, first + (uint32_t)n, 1514) : -1;
		tap(n2 >= 0 && n + n2 <= 40,
		    "... the consumer right again: the NIC goes on after them, in order (%ld more)", n2);
		cons = give_back(&c, prod);
	}
	send_frames(5000, 20, 300);
	prod = settle(&c);
	n = walk(&c, cons, prod, 5000, 300);
	tap(n == 20, "after the consumer is right again, frames come in whole (%ld of 20)", n);
	cons = give_back(&c, prod);

	/* longer than 1518 bytes (another host's MTU, a QinQ tag): records
	 * up to what 8139too takes are frames like the others */
	{
		char cmd[80];

		snprintf(cmd, sizeof(cmd), "ip link set %s mtu 1700",
			 if_indextoname(txidx, (char[IF_NAMESIZE]){ 0 }));
		if (system(cmd))
			die("ip link set mtu 1700");
		carrier_wait(txidx);
		send_frames(6000, 5, 1714);
		prod = settle(&c);
		n = walk(&c, cons, prod, 6000, 1714);
		tap(n == 5 && !(c.ctl->flags & PFZC_CRING_ENDED),
		    "frames of 1714 bytes (1718 with the FCS): records like the others, the ring goes on (%ld of 5)",
		    n);
		cons = give_back(&c, prod);
		snprintf(cmd, sizeof(cmd), "ip link set %s mtu 1500",
			 if_indextoname(txidx, (char[IF_NAMESIZE]){ 0 }));
		if (system(cmd))
			die("ip link set mtu 1500");
		carrier_wait(txidx);
	}

	/* the interface goes down: the ring ends, what was published stays */
	{
		char cmd[64];
		struct pollfd p = { .fd = c.fd, .events = POLLIN };
		int err = 0;
		socklen_t el = sizeof(err);

		snprintf(cmd, sizeof(cmd), "ip link set %s down",
			 if_indextoname(r8idx, (char[IF_NAMESIZE]){ 0 }));
		if (system(cmd))
			die("ip link set down");
		poll(&p, 1, 1000);
		getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &el);
		tap((p.revents & POLLERR) && err == ENETDOWN &&
		    (c.ctl->flags & PFZC_CRING_ENDED) && c.ctl->producer == prod,
		    "interface down: POLLERR (revents %#x), ENETDOWN (%s), PFZC_CRING_ENDED (flags %#x), producer kept (%u, was %u)",
		    p.revents, strerror(err), c.ctl->flags, c.ctl->producer, prod);
		snprintf(cmd, sizeof(cmd), "ip link set %s up",
			 if_indextoname(r8idx, (char[IF_NAMESIZE]){ 0 }));
		if (system(cmd))
			die("ip link set up");
	}
	cring_close(&c);
}

int main(int argc, char **argv)
{
	unsigned int m[6];

	test_init();
	if (argc != 4 || sscanf(argv[3], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2],
				&m[3], &m[4], &m[5]) != 6) {
		fprintf(stderr, "usage: pfzc_cring R8IF TXIF R8MAC\n");
		return 2;
	}
	for (int i = 0; i < 6; i++)
		r8mac[i] = (uint8_t)m[i];
	r8idx = if_nametoindex(argv[1]);
	txidx = if_nametoindex(argv[2]);
	if (!r8idx || !txidx)
		die("if_nametoindex");
	txfd = socket(AF_PACKET, SOCK_RAW, 0);
	if (txfd < 0)
		die("AF_PACKET socket");
	test_errnos();
	test_records();
	return failures ? 1 : 0;
}
