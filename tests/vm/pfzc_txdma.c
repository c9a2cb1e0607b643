// SPDX-License-Identifier: MIT
/*
 * pfzc_txdma: transmit by DMA on the patched e1000, for the VM tests
 * (tests/vm/guest/80-e1000-zc.sh). Prints TAP lines; exits 1 if one failed.
 *
 *   pfzc_txdma TXIF RXIF
 *
 * A socket with only a tx ring binds to TXIF and becomes its DMA sender;
 * a direct receiver on RXIF (the other e1000 on the same qemu hub) reads
 * what arrives, by DMA too. Frames go out in small batches, each received
 * before the next is sent, so no queue of qemu's overflows. Every frame
 * carries its sequence number in its source port (see frame()) and a
 * pattern: the receiver checks each frame's bytes, length and order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pfzc_test.h"

#define ETHERTYPE_TEST	0x88b5	/* IEEE local experimental */
#define TX_ENTRIES	64u
#define TX_FRAMES	128u	/* slots may name any frame of the umem */
#define RX_ENTRIES	256u
#define FS		PFZC_FRAME_SIZE

static uint8_t tx_mac[6], rx_mac[6];
static const char *txif, *rxif;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int read_mac(const char *ifname, uint8_t *mac)
{
	char path[128];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fscanf(f, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2],
		   &mac[3], &mac[4], &mac[5]);
	fclose(f);
	return n == 6 ? 0 : -1;
}

/* The link is back (a direct receiver's bind restarts the NIC), 60 s at most. */
static bool carrier(const char *ifname)
{
	char path[128], c = '0';

	snprintf(path, sizeof(path), "/sys/class/net/%s/carrier", ifname);
	for (int i = 0; i < 600; i++) {
		FILE *f = fopen(path, "r");

		if (f) {
			c = (char)fgetc(f);
			fclose(f);
		}
		if (c == '1')
			return true;
		usleep(100000);
	}
	return false;
}

/*
 * Frame seq of len bytes: Ethernet header, then as much of the 8-byte
 * sequence number as fits, then bytes that depend on seq and position.
 */
static uint8_t pat(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131 + i * 7 + 1);
}

static void frame(uint8_t *p, uint32_t len, uint64_t seq)
{
	uint8_t hdr[22];

	memcpy(hdr, rx_mac, 6);
	memcpy(hdr + 6, tx_mac, 6);
	hdr[12] = ETHERTYPE_TEST >> 8;
	hdr[13] = ETHERTYPE_TEST & 0xff;
	for (int i = 0; i < 8; i++)
		hdr[14 + i] = (uint8_t)(seq >> (56 - 8 * i));
	for (uint32_t i = 0; i < len; i++)
		p[i] = i < sizeof(hdr) ? hdr[i] : pat(seq, i);
}

/* What the receiver must see for frame seq of len bytes: padded to 60. */
static bool frame_ok(const uint8_t *p, uint32_t got, uint32_t len, uint64_t seq,
		     char *why, size_t whylen)
{
	uint8_t want[FS];
	uint32_t wlen = len < 60 ? 60 : len;

	memset(want, 0, sizeof(want));
	frame(want, len, seq);
	if (got != wlen) {
		snprintf(why, whylen, "frame %" PRIu64 ": %u bytes, want %u", seq, got, wlen);
		return false;
	}
	for (uint32_t i = 0; i < wlen; i++) {
		if (p[i] != want[i]) {
			snprintf(why, whylen, "frame %" PRIu64 " (%u bytes): byte %u is %02x, want %02x",
				 seq, len, i, p[i], want[i]);
			return false;
		}
	}
	return true;
}

static struct zsock tx, rx;

/*
 * Publishes n descriptors (addr, len), once n slots are free: the NIC
 * gives slots back as it completes their frames, after the kick that
 * queued them returned (5 s at most).
 */
static bool publish(const uint64_t *addr, const uint32_t *len, uint32_t n)
{
	uint64_t end = now_ms() + 5000;
	uint32_t idx;

	while (pfzc_prod_nb_free(&tx.tx, n) < n) {
		if (now_ms() > end) {
			printf("# tx ring: no room for %u in 5 s\n", n);
			return false;
		}
		usleep(1000);
	}
	if (pfzc_prod_reserve(&tx.tx, n, &idx) != n)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		struct pfzc_desc *d = pfzc_prod_desc(&tx.tx, idx + i);

		memset(d, 0, sizeof(*d));
		d->addr = addr[i];
		d->len = len[i];
	}
	pfzc_prod_submit(&tx.tx);
	return true;
}

/* publish(), then kicks; false on a kick error other than EAGAIN (the
 * NIC full: kicked again as slots come back), 5 s at most. */
static bool push(const uint64_t *addr, const uint32_t *len, uint32_t n)
{
	if (!publish(addr, len, n))
		return false;
	for (int tries = 0; tries < 5000; tries++) {
		if (kick(tx.fd) == 0)
			return true;
		if (errno != EAGAIN) {
			printf("# kick: %s\n", strerror(errno));
			return false;
		}
		usleep(1000);
	}
	printf("# kick: EAGAIN for 5 s\n");
	return false;
}

/* Until the consumer has come back to the producer: every slot done. */
static bool tx_done(struct pfzc_ring *r, uint32_t ms)
{
	uint64_t end = now_ms() + ms;

	while (pfzc_load_acquire(r->consumer) != r->cached_prod) {
		if (now_ms() > end) {
			printf("# tx ring: consumer %u, producer %u after %u ms\n",
			       pfzc_load_acquire(r->consumer), r->cached_prod, ms);
			return false;
		}
		usleep(1000);
	}
	return true;
}

/*
 * Receives n test frames (others, such as the stack's, are let go) and
 * checks each against seq[i]/len[i] in order. Up to 5 s.
 */
static bool receive(const uint64_t *seq, const uint32_t *len, uint32_t n, char *why,
		    size_t whylen)
{
	uint64_t end = now_ms() + 5000;
	uint32_t got = 0;

	snprintf(why, whylen, "all %u arrived", n);
	while (got < n) {
		struct pollfd p = { .fd = rx.fd, .events = POLLIN };
		uint32_t idx, k;

		k = pfzc_cons_peek(&rx.rx, RX_ENTRIES, &idx);
		for (uint32_t i = 0; i < k; i++) {
			const struct pfzc_desc *d = pfzc_cons_desc(&rx.rx, idx + i);
			const uint8_t *f = rx.umem + d->addr;

			if (d->len < 14 || memcmp(f + 6, tx_mac, 6) ||
			    f[12] != ETHERTYPE_TEST >> 8 || f[13] != (ETHERTYPE_TEST & 0xff))
				continue;
			if (got == n) {
				snprintf(why, whylen, "a frame more than the %u sent", n);
				pfzc_cons_release(&rx.rx);
				return false;
			}
			if (!frame_ok(f, d->len, len[got], seq[got], why, whylen)) {
				pfzc_cons_release(&rx.rx);
				return false;
			}
			got++;
		}
		pfzc_cons_release(&rx.rx);
		if (got == n)
			break;
		if (now_ms() > end) {
			snprintf(why, whylen, "%u of %u arrived in 5 s", got, n);
			return false;
		}
		poll(&p, 1, 50);
	}
	return true;
}

static uint64_t next_seq = 1;

/*
 * Sends frames of the given lengths (0 stands for an invalid descriptor of
 * kind bad[i]) from tx frames starting at slot frame first, and receives
 * the valid ones.
 */
enum bad { OK, BAD_ADDR, BAD_EMPTY, BAD_SHORT, BAD_LONG };

static bool send_recv(const uint32_t *lens, const enum bad *bad, uint32_t n,
		      uint32_t first, char *why, size_t whylen)
{
	uint64_t addr[TX_ENTRIES], seq[TX_ENTRIES];
	uint32_t len[TX_ENTRIES], vlen[TX_ENTRIES], nv = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t fr = (first + i) % TX_FRAMES;

		addr[i] = (uint64_t)fr * FS;
		len[i] = lens[i];
		switch (bad ? bad[i] : OK) {
		case OK:
			frame(tx.umem + addr[i], lens[i], next_seq);
			seq[nv] = next_seq++;
			vlen[nv++] = lens[i];
			break;
		case BAD_ADDR:	addr[i] = tx.umem_len; len[i] = 60; break;
		case BAD_EMPTY:	len[i] = 0; break;
		case BAD_SHORT:	len[i] = 13; break;
		case BAD_LONG:	len[i] = 1515; break;
		}
	}
	if (!push(addr, len, n)) {
		snprintf(why, whylen, "kick failed");
		return false;
	}
	return receive(seq, vlen, nv, why, whylen);
}

static void stats(int fd, struct pfzc_stats *st, const char *who)
{
	if (get_stats(fd, st))
		die("PFZC_STATISTICS");
	printf("# %s: tx_packets=%llu tx_dma=%llu tx_copied=%llu tx_invalid=%llu tx_errors=%llu\n",
	       who, (unsigned long long)st->tx_packets, (unsigned long long)st->tx_dma,
	       (unsigned long long)st->tx_copied, (unsigned long long)st->tx_invalid,
	       (unsigned long long)st->tx_errors);
}

int main(int argc, char **argv)
{
	unsigned int txi, rxi;
	struct pfzc_stats st, st2;
	char why[256];
	bool ok;

	test_init();
	if (argc != 3) {
		fprintf(stderr, "usage: pfzc_txdma TXIF RXIF\n");
		return 2;
	}
	txif = argv[1];
	rxif = argv[2];
	txi = if_nametoindex(txif);
	rxi = if_nametoindex(rxif);
	if (!txi || !rxi || read_mac(txif, tx_mac) || read_mac(rxif, rx_mac))
		die("the two interfaces");

	zsock_open(&rx, RX_ENTRIES, RX_ENTRIES, 0, rxi);
	zsock_open(&tx, TX_FRAMES, 0, TX_ENTRIES, txi);
	tap(carrier(rxif) && carrier(txif), "tx by DMA: both links up after the receiver's bind");

	/* 1. lengths around the 60-byte minimum, and the largest */
	{
		static const uint32_t lens[] = { 14, 15, 20, 42, 59, 60, 61, 64, 100, 1513, 1514 };
		uint32_t n = sizeof(lens) / sizeof(lens[0]);

		ok = send_recv(lens, NULL, n, 0, why, sizeof(why)) && tx_done(&tx.tx, 5000);
		stats(tx.fd, &st, "sender");
		tap(ok && st.tx_dma == n && st.tx_copied == 0 && st.tx_packets == n,
		    "tx by DMA: 14 to 1514 bytes arrive whole, in order, short ones padded "
		    "with zeros to 60; tx_dma %llu = %u sent, tx_copied %llu (%s)",
		    (unsigned long long)st.tx_dma, n, (unsigned long long)st.tx_copied, why);
	}

	/* 2. invalid descriptors among valid ones, and after the last one */
	{
		static const uint32_t lens[] = { 60, 0, 100, 0, 200, 0, 0, 300, 0, 0 };
		static const enum bad bad[] = { OK, BAD_ADDR, OK, BAD_EMPTY, OK, BAD_SHORT,
						BAD_LONG, OK, BAD_ADDR, BAD_EMPTY };
		uint32_t n = sizeof(lens) / sizeof(lens[0]);
		struct pfzc_stats s0;

		stats(tx.fd, &s0, "sender before");
		ok = send_recv(lens, bad, n, 20, why, sizeof(why));
		ok = tx_done(&tx.tx, 5000) && ok;
		stats(tx.fd, &st, "sender");
		tap(ok && st.tx_invalid - s0.tx_invalid == 6 && st.tx_dma - s0.tx_dma == 4,
		    "tx by DMA: 6 invalid descriptors among 4 valid: each counted once (%llu), "
		    "the valid ones sent in order (%llu), every slot back (%s)",
		    (unsigned long long)(st.tx_invalid - s0.tx_invalid),
		    (unsigned long long)(st.tx_dma - s0.tx_dma), why);

		/* a kick of nothing but invalid slots: none in flight */
		stats(tx.fd, &s0, "sender before");
		ok = send_recv(lens + 1, bad + 1, 1, 40, why, sizeof(why)) &&
		     tx_done(&tx.tx, 5000);
		stats(tx.fd, &st, "sender");
		tap(ok && st.tx_invalid - s0.tx_invalid == 1,
		    "tx by DMA: a kick of one invalid slot gives it back at once (%s)", why);
	}

	/* 3. many laps of the ring, in batches, the NIC's ring filling up */
	{
		uint32_t lens[16], sent = 0, laps = 40;
		struct pfzc_stats s0;

		stats(tx.fd, &s0, "sender before");
		ok = true;
		for (uint32_t b = 0; ok && b < laps * TX_ENTRIES / 16; b++) {
			for (uint32_t i = 0; i < 16; i++)
				lens[i] = 60 + (uint32_t)((b * 16 + i) * 97 % 1455);
			ok = send_recv(lens, NULL, 16, b * 16, why, sizeof(why));
			sent += ok ? 16 : 0;
		}
		ok = tx_done(&tx.tx, 5000) && ok;
		stats(tx.fd, &st, "sender");
		tap(ok && st.tx_dma - s0.tx_dma == sent && st.tx_copied == 0 && st.tx_errors == 0,
		    "tx by DMA: %u frames over %u laps of the ring, each whole and in order, "
		    "all by DMA (tx_dma +%llu, tx_copied %llu, tx_errors %llu) (%s)",
		    sent, laps, (unsigned long long)(st.tx_dma - s0.tx_dma),
		    (unsigned long long)st.tx_copied, (unsigned long long)st.tx_errors, why);
	}

	/* 4. a second sender on the device copies; the first stays on DMA */
	{
		static const uint32_t lens[] = { 70, 80, 90, 1514 };
		struct zsock t2 = { 0 };
		struct zsock keep = tx;
		struct pfzc_stats s0;

		stats(tx.fd, &s0, "first sender before");
		zsock_open(&t2, TX_FRAMES, 0, TX_ENTRIES, txi);
		tx = t2;
		ok = send_recv(lens, NULL, 4, 0, why, sizeof(why)) && tx_done(&tx.tx, 5000);
		stats(tx.fd, &st2, "second sender");
		t2 = tx;
		tx = keep;
		ok = ok && send_recv(lens, NULL, 4, 0, why, sizeof(why)) &&
		     tx_done(&tx.tx, 5000);
		stats(tx.fd, &st, "first sender");
		tap(ok && st2.tx_copied == 4 && st2.tx_dma == 0 && st.tx_dma - s0.tx_dma == 4,
		    "tx by DMA: a second socket on the device sends by copy (tx_copied %llu, "
		    "tx_dma %llu), the first still by DMA (+%llu) (%s)",
		    (unsigned long long)st2.tx_copied, (unsigned long long)st2.tx_dma,
		    (unsigned long long)(st.tx_dma - s0.tx_dma), why);
		zsock_close(&t2);
	}

	/* 5. the link down: the kick says so, and nothing is lost; up again,
	 * the frames waiting in the ring go out */
	{
		static const uint32_t lens[] = { 100, 200, 300 };
		uint64_t addr[3], seq[3];
		uint32_t len[3];
		struct pfzc_stats s0;
		char cmd[64];
		int rc, e;

		stats(tx.fd, &s0, "sender before");
		snprintf(cmd, sizeof(cmd), "ip link set %s down", txif);
		if (system(cmd))
			die(cmd);
		for (int i = 0; i < 3; i++) {
			addr[i] = (uint64_t)(60 + i) * FS;
			len[i] = lens[i];
			seq[i] = next_seq++;
			frame(tx.umem + addr[i], len[i], seq[i]);
		}
		if (!publish(addr, len, 3))
			die("publish");
		rc = kick(tx.fd);
		e = errno;
		snprintf(cmd, sizeof(cmd), "ip link set %s up", txif);
		if (system(cmd))
			die(cmd);
		ok = carrier(txif);
		for (int i = 0; ok && i < 5000; i++) {
			if (kick(tx.fd) == 0)
				break;
			usleep(1000);
		}
		ok = ok && receive(seq, len, 3, why, sizeof(why)) && tx_done(&tx.tx, 5000);
		stats(tx.fd, &st, "sender");
		tap(rc < 0 && e == ENETDOWN && ok && st.tx_dma - s0.tx_dma == 3 &&
		    st.tx_errors == s0.tx_errors,
		    "tx by DMA: with the link down the kick fails (%s) and takes nothing; "
		    "up again, the 3 frames go out (%s)", rc < 0 ? strerror(e) : "succeeded", why);
	}

	/* 6. closed with frames queued: a new socket becomes the DMA sender */
	{
		static const uint32_t lens[] = { 1514, 1514, 1514, 1514, 1514, 1514, 1514, 1514 };
		uint64_t addr[8];
		uint32_t len[8];

		/* not of this test's EtherType: the receiver lets them go */
		for (int i = 0; i < 8; i++) {
			addr[i] = (uint64_t)i * FS;
			len[i] = lens[i];
			frame(tx.umem + addr[i], len[i], 0);
			tx.umem[addr[i] + 13] ^= 1;
		}
		ok = push(addr, len, 8);
		zsock_close(&tx);
		zsock_open(&tx, TX_FRAMES, 0, TX_ENTRIES, txi);
		ok = ok && send_recv(lens, NULL, 2, 0, why, sizeof(why)) &&
		     tx_done(&tx.tx, 5000);
		stats(tx.fd, &st, "new sender");
		tap(ok && st.tx_dma == 2 && st.tx_copied == 0,
		    "tx by DMA: closed with frames queued, then a new socket sends by DMA "
		    "(tx_dma %llu) (%s)", (unsigned long long)st.tx_dma, why);
	}

	/* 7. a ring of 1,024 frames full, in one kick, ten times: more frames
	 * than the NIC has descriptors (256), so its ring fills within one
	 * call of the driver; every slot must still come back, all by DMA */
	{
		enum { BIG = 1024, ROUNDS = 10 };
		static uint64_t addr[BIG];
		static uint32_t len[BIG];
		uint32_t sent = 0;
		struct pfzc_stats s0;

		zsock_close(&tx);
		zsock_open(&tx, BIG, 0, BIG, txi);
		for (uint32_t i = 0; i < BIG; i++) {
			addr[i] = (uint64_t)i * FS;
			len[i] = 60 + i % 1455;
			frame(tx.umem + addr[i], len[i], 0);
			tx.umem[addr[i] + 13] ^= 1;	/* the receiver lets them go */
		}
		stats(tx.fd, &s0, "big sender before");
		ok = true;
		for (int r = 0; ok && r < ROUNDS; r++) {
			ok = push(addr, len, BIG) && tx_done(&tx.tx, 10000);
			sent += ok ? BIG : 0;
		}
		stats(tx.fd, &st, "big sender");
		tap(ok && st.tx_dma - s0.tx_dma == sent && st.tx_errors == 0 && st.tx_copied == 0,
		    "tx by DMA: %d kicks of a full 1,024-slot ring: every slot back, %u frames "
		    "by DMA (tx_dma +%llu, tx_errors %llu)", ROUNDS, sent,
		    (unsigned long long)(st.tx_dma - s0.tx_dma), (unsigned long long)st.tx_errors);
	}

	zsock_close(&tx);
	zsock_close(&rx);
	return failures ? 1 : 0;
}
