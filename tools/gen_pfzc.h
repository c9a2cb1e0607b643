/* SPDX-License-Identifier: MIT */
/*
 * zcap-gen's second send path (--backend pfzc): the pf_zerocopy module's tx
 * ring. Frames are built in place in a registered buffer and handed over
 * with one empty sendto() per batch; the module copies each frame once, or
 * gives it to a driver that takes it without an skb (its virtual pair).
 * No per-frame syscall and no skb on the way out of this process.
 *
 * The module consumes the whole ring inside the kick, so after a kick every
 * slot is free again and frames can be rebuilt in place.
 */
#ifndef ZCAP_GEN_PFZC_H
#define ZCAP_GEN_PFZC_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>

#include <uapi/pf_zerocopy.h>

#define GEN_PFZC_ENTRIES 1024u	/* tx slots, each owning one 2 KiB frame */

struct gen_pfzc {
	int fd;
	uint8_t *umem;
	size_t umem_len;
	void *map;
	size_t map_len;
	struct pfzc_ring tx;
};

/* The family is a module parameter: ask the module. -1 if not loaded. */
static int gen_pfzc_family(void)
{
	FILE *f = fopen("/sys/module/pf_zerocopy/parameters/family", "re");
	int fam = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &fam) != 1)
		fam = -1;
	fclose(f);
	return fam;
}

static void gen_pfzc_open(struct gen_pfzc *z, const char *ifname, int ifindex)
{
	uint32_t entries = GEN_PFZC_ENTRIES;
	int fam = gen_pfzc_family();
	struct pfzc_umem_reg reg = { 0 };
	struct sockaddr_pfzc sa = { 0 };
	long page = sysconf(_SC_PAGESIZE);

	if (fam < 0)
		die("--backend pfzc: the pf_zerocopy module is not loaded");
	z->fd = socket(fam, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (z->fd < 0)
		die("cannot open PF_ZEROCOPY socket (family %d): %s%s", fam, strerror(errno),
		    errno == EPERM ? " (needs root or CAP_NET_RAW)" : "");

	z->umem_len = (size_t)entries * PFZC_FRAME_SIZE;
	z->umem = mmap(NULL, z->umem_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (z->umem == MAP_FAILED)
		die("cannot allocate %zu bytes of frames: %s", z->umem_len, strerror(errno));
	reg.addr = (uintptr_t)z->umem;
	reg.len = z->umem_len;
	reg.frame_size = PFZC_FRAME_SIZE;
	if (setsockopt(z->fd, SOL_PFZC, PFZC_UMEM_REG, &reg, sizeof(reg)))
		die("%s: cannot register %zu bytes of frames: %s%s", ifname, z->umem_len,
		    strerror(errno), errno == ENOBUFS ? " (RLIMIT_MEMLOCK)" : "");
	if (setsockopt(z->fd, SOL_PFZC, PFZC_TX_RING, &entries, sizeof(entries)))
		die("%s: cannot create the tx ring: %s", ifname, strerror(errno));
	z->map_len = (pfzc_ring_map_size(entries) + (size_t)page - 1) & ~((size_t)page - 1);
	z->map = mmap(NULL, z->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, z->fd,
		      (off_t)(PFZC_PGOFF_TX_RING * (uint64_t)page));
	if (z->map == MAP_FAILED)
		die("%s: cannot map the tx ring: %s", ifname, strerror(errno));
	if (pfzc_ring_init(&z->tx, z->map, entries))
		die("%s: the tx ring is not the one asked for", ifname);
	sa.spz_family = (uint16_t)fam;
	sa.spz_ifindex = (uint32_t)ifindex;
	if (bind(z->fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("%s: bind: %s", ifname, strerror(errno));
}

/*
 * Builds n frames (seq, seq+1, ...) in the ring and kicks. size_of(i)
 * gives each frame's size with FCS. Returns the bytes handed over.
 */
static uint64_t gen_pfzc_send(struct gen_pfzc *z, unsigned int n, uint64_t seq,
			      unsigned int (*size_of)(void *arg), void *arg,
			      const struct zcap_frame_addr *a, const char *ifname)
{
	uint64_t bytes = 0;
	uint32_t idx, i;

	/* n <= the ring, which every kick empties */
	if (pfzc_prod_reserve(&z->tx, n, &idx) != n)
		die("%s: the tx ring was not emptied by the module", ifname);
	for (i = 0; i < n; i++) {
		uint64_t off = (uint64_t)((idx + i) & z->tx.mask) * PFZC_FRAME_SIZE;
		struct pfzc_desc *d = pfzc_prod_desc(&z->tx, idx + i);

		memset(d, 0, sizeof(*d));
		d->addr = off;
		d->len = (uint32_t)zcap_frame_build(z->umem + off, size_of(arg), seq + i, a);
		bytes += d->len;
	}
	pfzc_prod_submit(&z->tx);
	if (sendto(z->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0)
		die("%s: tx kick failed after seq %" PRIu64 ": %s", ifname, seq, strerror(errno));
	return bytes;
}

/* The module's own count: frames it took, and those it could not send. */
static void gen_pfzc_close(struct gen_pfzc *z, uint64_t *tx_packets, uint64_t *tx_failed)
{
	struct pfzc_stats st;
	socklen_t len = sizeof(st);

	if (getsockopt(z->fd, SOL_PFZC, PFZC_STATISTICS, &st, &len))
		die("cannot read the module's tx counters: %s", strerror(errno));
	*tx_packets = st.tx_packets;
	*tx_failed = st.tx_errors + st.tx_invalid;
	munmap(z->map, z->map_len);
	close(z->fd);
	munmap(z->umem, z->umem_len);
}

#endif
