/* SPDX-License-Identifier: MIT */
/* Small PF_ZEROCOPY socket helpers shared by the VM test programs. */
#ifndef PFZC_TEST_H
#define PFZC_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <uapi/pf_zerocopy.h>

#include "pfzc_ring.h"

static int failures;	/* the program exits non-zero when any case failed */
static int family = PF_ZEROCOPY_DEFAULT;
static long pg;		/* the page size */

/* PFZC_FAMILY in the environment overrides the family; TAP lines go out
 * one by one, interleaved right with the children's. */
static inline void test_init(void)
{
	const char *f = getenv("PFZC_FAMILY");

	if (f)
		family = atoi(f);
	setvbuf(stdout, NULL, _IOLBF, 0);
	pg = sysconf(_SC_PAGESIZE);
}

/* One TAP line per case, as tests/vm/run.sh counts them. */
static inline void __attribute__((format(printf, 2, 3)))
tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		failures++;
}

/* An eBPF socket filter that returns ret (0 rejects every packet): its fd. */
static inline int ebpf_filter(int ret)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = ret },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = 2;
	a.license = (uintptr_t)"GPL";
	return (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
}

static inline int umem_reg(int fd, const void *addr, uint64_t len,
			   uint32_t frame_size, uint32_t flags)
{
	struct pfzc_umem_reg r = {
		.addr = (uintptr_t)addr, .len = len,
		.frame_size = frame_size, .flags = flags,
	};

	return setsockopt(fd, SOL_PFZC, PFZC_UMEM_REG, &r, sizeof(r));
}

static inline int ring_set(int fd, int opt, uint32_t n)
{
	return setsockopt(fd, SOL_PFZC, opt, &n, sizeof(n));
}

static inline __attribute__((noreturn)) void die(const char *what)
{
	printf("not ok - setup: %s: %s\n", what, strerror(errno));
	exit(1);
}

static inline int bind_to(int fd, unsigned int idx)
{
	struct sockaddr_pfzc sa = { .spz_family = family, .spz_ifindex = idx };

	return bind(fd, (struct sockaddr *)&sa, sizeof(sa));
}

static inline int kick(int fd)
{
	return sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
}

static inline int get_stats(int fd, struct pfzc_stats *st)
{
	socklen_t len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	return getsockopt(fd, SOL_PFZC, PFZC_STATISTICS, st, &len);
}

/* A ring's mapping: what pfzc_ring_map_size() says, in whole pages. */
static inline size_t map_len(uint32_t n)
{
	return (pfzc_ring_map_size(n) + pg - 1) & ~(size_t)(pg - 1);
}

/* A set up socket: umem, rings, their mappings, optionally bound. */
struct zsock {
	int fd;
	uint8_t *umem;
	uint64_t umem_len;
	uint32_t rx_n, tx_n;
	void *rx_map, *tx_map;
	struct pfzc_ring rx, tx;
};

/* frames of PFZC_FRAME_SIZE; no ring when rx_n or tx_n is 0; bound to idx unless 0 */
static inline void zsock_open(struct zsock *z, uint32_t frames, uint32_t rx_n,
			      uint32_t tx_n, unsigned int idx)
{
	const uint32_t fs = PFZC_FRAME_SIZE;

	memset(z, 0, sizeof(*z));
	z->fd = socket(family, SOCK_RAW, htons(ETH_P_ALL));
	if (z->fd < 0)
		die("socket(PF_ZEROCOPY, SOCK_RAW)");
	z->rx_n = rx_n;
	z->tx_n = tx_n;
	z->umem_len = (uint64_t)frames * fs;
	z->umem = mmap(NULL, z->umem_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (z->umem == MAP_FAILED)
		die("mmap umem");
	if (umem_reg(z->fd, z->umem, z->umem_len, fs, 0))
		die("PFZC_UMEM_REG");
	/* both rings before the first mmap: creating one is refused after */
	if ((rx_n && ring_set(z->fd, PFZC_RX_RING, rx_n)) ||
	    (tx_n && ring_set(z->fd, PFZC_TX_RING, tx_n)))
		die("PFZC_RX_RING/PFZC_TX_RING");
	if (rx_n) {
		z->rx_map = mmap(NULL, map_len(rx_n), PROT_READ | PROT_WRITE,
				 MAP_SHARED, z->fd, PFZC_PGOFF_RX_RING);
		if (z->rx_map == MAP_FAILED || pfzc_ring_init(&z->rx, z->rx_map, rx_n))
			die("mmap rx ring");
	}
	if (tx_n) {
		z->tx_map = mmap(NULL, map_len(tx_n), PROT_READ | PROT_WRITE,
				 MAP_SHARED, z->fd, PFZC_PGOFF_TX_RING * pg);
		if (z->tx_map == MAP_FAILED || pfzc_ring_init(&z->tx, z->tx_map, tx_n))
			die("mmap tx ring");
	}
	if (idx && bind_to(z->fd, idx))
		die("bind");
}

static inline void zsock_close(struct zsock *z)
{
	if (z->rx_map)
		munmap(z->rx_map, map_len(z->rx_n));
	if (z->tx_map)
		munmap(z->tx_map, map_len(z->tx_n));
	close(z->fd);
	munmap(z->umem, z->umem_len);
	z->fd = -1;
}

/* Pages pinned system-wide and not yet unpinned, with vmstat folded. */
static inline long pins(void)
{
	long acq = -1, rel = -1;
	char name[64];
	long v;
	FILE *f;
	int fd;

	/* folds every CPU's vmstat deltas into the global counters now */
	fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			printf("# stat_refresh: %s\n", strerror(errno));
		close(fd);
	}
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			acq = v;
		else if (!strcmp(name, "nr_foll_pin_released"))
			rel = v;
	}
	fclose(f);
	return acq < 0 || rel < 0 ? -1 : acq - rel;
}

/* Until pins() is want (vmstat may lag), at most 10 s; returns the last. */
static inline long pins_wait(long want)
{
	long p = pins();

	for (int i = 0; i < 100 && p != want; i++) {
		usleep(100000);
		p = pins();
	}
	return p;
}

#endif
