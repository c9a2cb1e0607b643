// SPDX-License-Identifier: MIT
/*
 * pfzc_smoke: exercises the pf_zerocopy module from user space, for the VM
 * tests (kmod/test/pfzc_smoke.sh). Prints TAP lines; exits 1 if one failed.
 *
 *   pfzc_smoke errnos IF         the socket contract's errnos, step by step
 *   pfzc_smoke rx IF N [SNAP]    read N zcap frames from the rx ring
 *   pfzc_smoke tx IF N DSTMAC    send N zcap frames through the tx ring
 *   pfzc_smoke recv IF N         read N zcap frames with recvmsg (no rings)
 *   pfzc_smoke send IF N DSTMAC  send N zcap frames with sendmsg (no rings)
 *   pfzc_smoke gone IF           wait in poll until IF is deleted
 *   pfzc_smoke hold IF           map everything, bind, wait to be killed
 *   pfzc_smoke fanout IF IF2     PFZC_FANOUT's errnos (uapi, "fanout")
 *
 * PFZC_FAMILY in the environment overrides the family (default 27).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pfzc_ring.h"

#include "pfzc_case.h"
#include "pfzc_test.h"
#include "frame.h"

static const int fs = PFZC_FRAME_SIZE;

/* expect(rc, err, name): rc must be -1 with errno err, or >= 0 if err is 0 */
static void expect(long rc, int err, const char *name)
{
	int e = errno;

	result(rc, e, err, "%s", name);
}

static int pfzc_socket(void)
{
	int fd = socket(family, SOCK_RAW, htons(ETH_P_ALL));

	if (fd < 0) {
		printf("not ok - socket(%d, SOCK_RAW): %s\n", family,
		       strerror(errno));
		exit(1);
	}
	return fd;
}

static void print_stats(int fd)
{
	struct pfzc_stats st;

	if (get_stats(fd, &st) < 0) {
		printf("# stats: %s\n", strerror(errno));
		return;
	}
	printf("# stats: rx=%llu full=%llu qfull=%llu filtered=%llu trunc=%llu tx=%llu tx_invalid=%llu tx_errors=%llu\n",
	       st.rx_packets, st.rx_dropped_ring_full, st.rx_dropped_queue_full,
	       st.rx_filtered, st.rx_truncated, st.tx_packets, st.tx_invalid,
	       st.tx_errors);
}

static unsigned int ifindex_of(const char *ifname)
{
	unsigned int i = if_nametoindex(ifname);

	if (!i) {
		printf("not ok - interface %s: %s\n", ifname, strerror(errno));
		exit(1);
	}
	return i;
}

static bool proc_has_inode(int fd, const char *ifname)
{
	char line[512], want[64];
	struct stat st;
	bool found = false;
	FILE *f;

	if (fstat(fd, &st))
		return false;
	f = fopen("/proc/net/pf_zerocopy", "r");
	if (!f)
		return false;
	snprintf(want, sizeof(want), "%lu ", (unsigned long)st.st_ino);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, want, strlen(want)) == 0) {
			printf("# /proc/net/pf_zerocopy: %s", line);
			found = !ifname || strstr(line, ifname);
		}
	}
	fclose(f);
	return found;
}

static int cmd_errnos(const char *ifname)
{
	unsigned int ifindex = ifindex_of(ifname);
	struct pfzc_mmap_offsets off;
	struct pfzc_ring r;
	struct pfzc_stats st;
	socklen_t len;
	uint32_t v = 0;
	uint8_t *buf, *ro;
	void *m;
	int fd, fd2;
	pid_t pid;
	int status;

	expect(socket(family, SOCK_DGRAM, 0), ESOCKTNOSUPPORT, "socket SOCK_DGRAM");
	expect(socket(family, SOCK_STREAM, 0), ESOCKTNOSUPPORT, "socket SOCK_STREAM");
	fd = pfzc_socket();

	len = sizeof(v);
	expect(getsockopt(fd, SOL_PFZC, PFZC_VERSION, &v, &len), 0, "PFZC_VERSION");
	tap(v == PFZC_ABI_VERSION && len == 4, "PFZC_VERSION is %u", v);
	len = 2;
	expect(getsockopt(fd, SOL_PFZC, PFZC_VERSION, &v, &len), EINVAL, "PFZC_VERSION optlen 2");
	len = sizeof(off);
	expect(getsockopt(fd, SOL_PFZC, PFZC_MMAP_OFFSETS, &off, &len), 0, "PFZC_MMAP_OFFSETS");
	tap(off.rx.producer == 0 && off.rx.consumer == 64 && off.rx.flags == 128 &&
	    off.rx.desc == sizeof(struct pfzc_ring_shared) &&
	    off.tx.desc == off.rx.desc, "mmap offsets 0/64/128/%llu", off.rx.desc);
	len = offsetof(struct pfzc_stats, rx_dma) - 1;
	expect(getsockopt(fd, SOL_PFZC, PFZC_STATISTICS, &st, &len), EINVAL, "PFZC_STATISTICS shorter than version 1's");
	len = offsetof(struct pfzc_stats, rx_copied) + sizeof(st.rx_copied) - 1;
	expect(getsockopt(fd, SOL_PFZC, PFZC_STATISTICS, &st, &len), 0, "PFZC_STATISTICS short of version 2's");
	tap(len == offsetof(struct pfzc_stats, rx_dma), "... gets version 1's struct (optlen %u)", (unsigned)len);
	len = sizeof(st) - 1;
	expect(getsockopt(fd, SOL_PFZC, PFZC_STATISTICS, &st, &len), 0, "PFZC_STATISTICS short of the whole struct");
	tap(len == offsetof(struct pfzc_stats, tx_dma), "... gets the struct up to rx_copied (optlen %u)", (unsigned)len);
	expect(get_stats(fd, &st), 0, "PFZC_STATISTICS");

	m = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PFZC_PGOFF_RX_RING);
	expect(m == MAP_FAILED ? -1 : 0, EINVAL, "mmap rx before the ring exists");
	expect(ring_set(fd, PFZC_RX_RING, 256), EINVAL, "PFZC_RX_RING before the umem");
	expect(kick(fd), ENXIO, "tx kick unbound");

	buf = mmap(NULL, 1024 * fs, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, 16 * fs, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	{
		struct pfzc_umem_reg r = { (uintptr_t)buf, 1024 * fs, fs, 0 };

		expect(setsockopt(fd, SOL_PFZC, PFZC_UMEM_REG, &r, sizeof(r) - 1),
		       EINVAL, "UMEM_REG optlen short");
		expect(setsockopt(fd, SOL_PFZC, PFZC_UMEM_REG, &r, sizeof(r) + 4),
		       EINVAL, "UMEM_REG optlen long");
	}
	expect(umem_reg(fd, buf + 64, 16 * fs, fs, 0), EINVAL, "UMEM_REG unaligned");
	expect(umem_reg(fd, buf, 0, fs, 0), EINVAL, "UMEM_REG len 0");
	expect(umem_reg(fd, buf, 16 * fs + 100, fs, 0), EINVAL, "UMEM_REG len not a frame multiple");
	expect(umem_reg(fd, buf, 16 * fs, 1000, 0), EINVAL, "UMEM_REG frame size 1000");
	expect(umem_reg(fd, buf, 16 * fs, 8192, 0), EINVAL, "UMEM_REG frame size 8192");
	expect(umem_reg(fd, buf, 16 * fs, fs, 1), EINVAL, "UMEM_REG flags 1");
	expect(umem_reg(fd, buf, (PFZC_UMEM_MAX + 4096), fs, 0), EINVAL, "UMEM_REG over PFZC_UMEM_MAX");
	expect(umem_reg(fd, ro, 16 * fs, fs, 0), EFAULT, "UMEM_REG read-only pages");
	expect(umem_reg(fd, (void *)0x10000, 16 * fs, fs, 0), EFAULT, "UMEM_REG unmapped");
	expect(umem_reg(fd, (void *)(~0UL << 12), 16 * fs, fs, 0), EFAULT, "UMEM_REG wrapping");

	/* RLIMIT_MEMLOCK without CAP_IPC_LOCK, and CAP_NET_RAW, in a child */
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = { 16 * 4096, 16 * 4096 };
		int f;

		failures = 0;
		setrlimit(RLIMIT_MEMLOCK, &rl);
		cap_change(CAP_IPC_LOCK, CAP_EFF, false);
		f = pfzc_socket();
		expect(umem_reg(f, buf, 64 * fs, fs, 0), ENOBUFS, "UMEM_REG over RLIMIT_MEMLOCK without CAP_IPC_LOCK");
		expect(umem_reg(f, buf, 8 * fs, fs, 0), 0, "UMEM_REG within RLIMIT_MEMLOCK");
		close(f);
		cap_change(CAP_NET_RAW, CAP_EFF, false);
		expect(socket(family, SOCK_RAW, htons(ETH_P_ALL)), EPERM, "socket without CAP_NET_RAW");
		_exit(failures ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		failures++;

	expect(umem_reg(fd, buf, 1024 * fs, fs, 0), 0, "UMEM_REG 1024 frames");
	expect(umem_reg(fd, buf, 1024 * fs, fs, 0), EBUSY, "UMEM_REG twice");

	{
		uint16_t s = 256;

		expect(setsockopt(fd, SOL_PFZC, PFZC_RX_RING, &s, sizeof(s)), EINVAL, "RX_RING optlen 2");
	}
	expect(ring_set(fd, PFZC_RX_RING, 0), EINVAL, "RX_RING 0");
	expect(ring_set(fd, PFZC_RX_RING, 100), EINVAL, "RX_RING 100");
	expect(ring_set(fd, PFZC_RX_RING, 32), EINVAL, "RX_RING 32");
	expect(ring_set(fd, PFZC_RX_RING, 1u << 19), EINVAL, "RX_RING 2^19");
	expect(ring_set(fd, PFZC_RX_RING, 2048), EINVAL, "RX_RING over the umem's frames");
	expect(ring_set(fd, PFZC_RX_RING, 512), 0, "RX_RING 512");
	expect(ring_set(fd, PFZC_RX_RING, 512), EBUSY, "RX_RING twice");
	expect(ring_set(fd, PFZC_TX_RING, 1024), EINVAL, "TX_RING: rx + tx over the umem's frames");

	m = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PFZC_PGOFF_TX_RING * pg);
	expect(m == MAP_FAILED ? -1 : 0, EINVAL, "mmap tx before the ring exists");
	m = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, pg);
	expect(m == MAP_FAILED ? -1 : 0, EINVAL, "mmap at offset 1 page");
	m = mmap(NULL, map_len(512) + pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	expect(m == MAP_FAILED ? -1 : 0, EINVAL, "mmap rx one page too long");
	m = mmap(NULL, map_len(512), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	expect(m == MAP_FAILED ? -1 : 0, EINVAL, "mmap rx MAP_PRIVATE");
	m = mmap(NULL, map_len(512), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	expect(m == MAP_FAILED ? -1 : 0, 0, "mmap rx");
	tap(m != MAP_FAILED && pfzc_ring_init(&r, m, 512) == 0, "rx ring header is what pfzc_ring_init expects");
	expect(ring_set(fd, PFZC_TX_RING, 256), EBUSY, "TX_RING once a ring is mapped");

	{
		struct sockaddr_pfzc sa = { .spz_family = family, .spz_ifindex = ifindex };

		expect(bind(fd, (struct sockaddr *)&sa, sizeof(sa) - 1), EINVAL, "bind short address");
		sa.spz_family = AF_PACKET;
		expect(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), EINVAL, "bind AF_PACKET family");
	}
	expect(bind_to(fd, 999999), ENODEV, "bind to a missing ifindex");
	expect(bind_to(fd, ifindex), 0, "bind");
	expect(bind_to(fd, ifindex), EBUSY, "bind twice");
	expect(umem_reg(fd, buf, 1024 * fs, fs, 0), EBUSY, "UMEM_REG once bound");
	expect(ring_set(fd, PFZC_TX_RING, 256), EBUSY, "TX_RING once bound");
	{
		char b[64];

		expect(recv(fd, b, sizeof(b), MSG_DONTWAIT), EBUSY, "recv with an rx ring");
	}
	tap(proc_has_inode(fd, ifname), "/proc/net/pf_zerocopy lists the socket on %s", ifname);

	/* a socket with a umem but no ring cannot be bound */
	fd2 = pfzc_socket();
	expect(umem_reg(fd2, buf, 64 * fs, fs, 0), 0, "second socket: UMEM_REG over the same pages");
	expect(bind_to(fd2, ifindex), EINVAL, "bind with a umem and no ring");
	close(fd2);
	/* without umem and rings, bind is for recvmsg/sendmsg */
	fd2 = pfzc_socket();
	expect(bind_to(fd2, ifindex), 0, "bind without umem and rings");
	tap(proc_has_inode(fd2, ifname), "/proc/net/pf_zerocopy lists the second socket");
	{
		char b[8] = { 0 };

		expect(send(fd2, b, sizeof(b), 0), EINVAL, "send 8 bytes (shorter than ETH_HLEN)");
		expect(kick(fd2), EINVAL, "empty send without a tx ring");
	}
	close(fd2);
	close(fd);
	munmap(m, map_len(512));
	return failures ? 1 : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Checks one captured zcap frame against the next expected seq. */
static bool check_frame(const uint8_t *p, uint32_t caplen, uint32_t len,
			uint64_t *next, unsigned long *bad, unsigned long *foreign)
{
	struct zcap_frame_info info;
	enum zcap_frame_status s = zcap_frame_check(p, caplen, len, &info);

	if (s == ZCAP_FRAME_FOREIGN) {
		(*foreign)++;
		return false;
	}
	if ((s != ZCAP_FRAME_OK && s != ZCAP_FRAME_TRUNCATED) ||
	    !info.has_seq || info.seq != *next) {
		if (*bad < 5)
			printf("# frame status %d seq %" PRIu64 " expected %" PRIu64 " caplen %u len %u\n",
			       s, info.seq, *next, caplen, len);
		(*bad)++;
	}
	*next = info.has_seq ? info.seq + 1 : *next + 1;
	return true;
}

static int cmd_rx(const char *ifname, unsigned long n, uint32_t snap)
{
	unsigned int ifindex = ifindex_of(ifname);
	unsigned long got = 0, bad = 0, foreign = 0, badesc = 0, trunc = 0;
	uint64_t next = 0;
	struct zsock z;
	double t0;

	zsock_open(&z, 512, 512, 0, 0);
	if (snap) {
		/* cap the copy with a classic BPF "ret #snap" */
		struct sock_filter code[] = { { 0x06, 0, 0, snap } };
		struct sock_fprog prog = { 1, code };

		if (setsockopt(z.fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
			printf("not ok - SO_ATTACH_FILTER: %s\n", strerror(errno));
	}
	if (bind_to(z.fd, ifindex)) {
		printf("not ok - bind: %s\n", strerror(errno));
		return 1;
	}
	printf("# listening on %s\n", ifname);
	fflush(stdout);

	t0 = now();
	while (got < n && now() - t0 < 60) {
		struct pollfd pfd = { z.fd, POLLIN, 0 };
		uint32_t idx, k, i;

		k = pfzc_cons_peek(&z.rx, 64, &idx);
		if (!k) {
			if (poll(&pfd, 1, 1000) < 0)
				break;
			continue;
		}
		for (i = 0; i < k; i++) {
			struct pfzc_desc d = *pfzc_cons_desc(&z.rx, idx + i);

			if (!pfzc_validate_desc(&d, z.umem_len, fs, PFZC_DESC_RX_FLAGS) ||
			    d.addr % fs || d.addr >= (uint64_t)z.rx.entries * fs ||
			    d.orig_len < d.len || !d.ts_ns) {
				badesc++;
				continue;
			}
			if (d.flags & PFZC_DESC_TRUNCATED)
				trunc++;
			if (check_frame(z.umem + d.addr, d.len, d.orig_len, &next, &bad, &foreign))
				got++;
		}
		pfzc_cons_release(&z.rx);
	}
	printf("# rx: got=%lu bad=%lu foreign=%lu bad_desc=%lu truncated=%lu\n",
	       got, bad, foreign, badesc, trunc);
	print_stats(z.fd);
	tap(got == n, "rx ring: %lu zcap frames received", n);
	tap(bad == 0 && badesc == 0, "rx ring: every frame once, in order, intact, valid descriptor");
	if (snap)
		tap(trunc == got, "rx ring: filter snaplen %u truncates and flags", snap);
	tap(proc_has_inode(z.fd, ifname), "/proc/net/pf_zerocopy lists the rx socket");
	return failures ? 1 : 0;
}

static int parse_mac(const char *s, struct zcap_frame_addr *a)
{
	unsigned int m[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		a->dst_mac[i] = m[i];
	return 0;
}

static int cmd_tx(const char *ifname, unsigned long n, const char *dst)
{
	unsigned int ifindex = ifindex_of(ifname);
	struct zcap_frame_addr a;
	struct pfzc_stats st;
	unsigned long sent = 0;
	uint64_t tx_first = 64ULL * fs;
	struct zsock z;
	uint32_t idx;
	int kicks_failed = 0;

	zcap_frame_addr_init(&a);
	parse_mac(dst, &a);
	zsock_open(&z, 320, 64, 256, ifindex);

	while (sent < n) {
		uint32_t k = pfzc_prod_reserve(&z.tx, 32, &idx);

		if (k > n - sent)
			k = n - sent;	/* reserved more: harmless, never submitted */
		for (uint32_t i = 0; i < k; i++) {
			struct pfzc_desc *d = pfzc_prod_desc(&z.tx, idx + i);
			uint64_t off = tx_first + (uint64_t)((idx + i) & z.tx.mask) * fs;
			unsigned int size = 64 + (sent % 1455);

			*d = (struct pfzc_desc){ 0 };
			d->addr = off;
			d->len = zcap_frame_build(z.umem + off, size, sent, &a);
			sent++;
		}
		z.tx.cached_prod = idx + k;
		pfzc_prod_submit(&z.tx);
		if (kick(z.fd) < 0) {
			kicks_failed++;
			printf("# kick: %s\n", strerror(errno));
			break;
		}
	}
	tap(kicks_failed == 0, "tx ring: %lu frames kicked", n);
	/* invalid descriptors: into the rx frames, empty, over a frame, flags */
	{
		struct pfzc_desc bad[] = {
			{ .addr = 0, .len = 60 },
			{ .addr = tx_first, .len = 0 },
			{ .addr = tx_first + 100, .len = fs },
			{ .addr = tx_first, .len = 60, .flags = 1 },
			{ .addr = tx_first, .len = 60, .reserved = 1 },
			{ .addr = z.umem_len, .len = 60 },
			{ .addr = tx_first, .len = 10 },	/* under ETH_HLEN */
		};
		uint32_t k = pfzc_prod_reserve(&z.tx, 7, &idx);

		for (uint32_t i = 0; i < k; i++)
			*pfzc_prod_desc(&z.tx, idx + i) = bad[i];
		pfzc_prod_submit(&z.tx);
		expect(kick(z.fd), 0, "tx kick with 7 invalid descriptors");
	}
	print_stats(z.fd);
	get_stats(z.fd, &st);
	tap(st.tx_packets == n && st.tx_invalid == 7 && st.tx_errors == 0,
	    "tx stats: tx_packets %llu tx_invalid %llu tx_errors %llu",
	    st.tx_packets, st.tx_invalid, st.tx_errors);
	{
		struct pollfd pfd = { z.fd, POLLOUT, 0 };

		tap(poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT), "POLLOUT with room in the tx ring");
	}
	return failures ? 1 : 0;
}

static int cmd_recv(const char *ifname, unsigned long n)
{
	unsigned int ifindex = ifindex_of(ifname);
	unsigned long got = 0, bad = 0, foreign = 0;
	uint64_t next = 0;
	static uint8_t b[2048];
	int fd = pfzc_socket();
	struct timeval tv = { 60, 0 };
	bool trunc_checked = false;

	expect(recv(fd, b, sizeof(b), MSG_DONTWAIT), ENXIO, "recv unbound");
	expect(bind_to(fd, ifindex), 0, "bind for recvmsg");
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* the sender's kicks outrun this reader under TCG: room for them all */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 16 << 20 }, sizeof(int));
	printf("# listening on %s\n", ifname);
	fflush(stdout);

	while (got < n) {
		struct sockaddr_pfzc sa;
		struct iovec iov = { b, sizeof(b) };
		struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof(sa),
				     .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t r;

		if (!trunc_checked) {
			/* blocks until the first frame; peek it truncated */
			iov.iov_len = 20;
			r = recvmsg(fd, &mh, MSG_PEEK | MSG_TRUNC);
			if (r < 0)
				break;
			tap(r > 20 && (mh.msg_flags & MSG_TRUNC),
			    "recvmsg MSG_TRUNC: returns the full length %zd and sets MSG_TRUNC", r);
			tap(mh.msg_namelen == sizeof(sa) && sa.spz_ifindex == ifindex &&
			    sa.spz_family == family, "recvmsg fills sockaddr_pfzc");
			trunc_checked = true;
			iov.iov_len = sizeof(b);
			mh.msg_flags = 0;
		}
		r = recvmsg(fd, &mh, 0);
		if (r < 0) {
			printf("# recvmsg: %s\n", strerror(errno));
			break;
		}
		if (mh.msg_flags & MSG_TRUNC)
			bad++;
		if (check_frame(b, r, r, &next, &bad, &foreign))
			got++;
	}
	printf("# recv: got=%lu bad=%lu foreign=%lu\n", got, bad, foreign);
	print_stats(fd);
	tap(got == n && bad == 0, "recvmsg: %lu frames once, in order, intact", n);
	return failures ? 1 : 0;
}

static int cmd_send(const char *ifname, unsigned long n, const char *dst)
{
	unsigned int ifindex = ifindex_of(ifname);
	struct zcap_frame_addr a;
	static uint8_t b[1600];
	unsigned long ok = 0;
	struct pfzc_stats st;
	int fd = pfzc_socket();

	zcap_frame_addr_init(&a);
	parse_mac(dst, &a);
	expect(send(fd, b, 60, 0), ENXIO, "send unbound");
	expect(bind_to(fd, ifindex), 0, "bind for sendmsg");
	for (unsigned long i = 0; i < n; i++) {
		size_t len = zcap_frame_build(b, 64 + (i % 1455), i, &a);

		if (send(fd, b, len, 0) == (ssize_t)len)
			ok++;
		else
			printf("# send: %s\n", strerror(errno));
	}
	tap(ok == n, "sendmsg: %lu frames sent", n);
	expect(send(fd, b, 1515, 0), EMSGSIZE, "send 1515 bytes on a 1500 MTU");
	get_stats(fd, &st);
	tap(st.tx_packets == n, "sendmsg counted in tx_packets (%llu)", st.tx_packets);
	return failures ? 1 : 0;
}

static int cmd_gone(const char *ifname)
{
	unsigned int ifindex = ifindex_of(ifname);
	struct pollfd pfd;
	struct zsock z;
	socklen_t len;
	int err = 0;
	int fd2 = pfzc_socket();
	int status;
	pid_t child;
	char b[64];

	zsock_open(&z, 128, 64, 64, ifindex);
	expect(bind_to(fd2, ifindex), 0, "recvmsg socket bound");
	fflush(stdout);
	child = fork();
	if (child == 0) {
		/* blocked in recvmsg when the interface goes */
		failures = 0;
		expect(recv(fd2, b, sizeof(b), 0), ENETDOWN, "blocking recv wakes up when the interface goes");
		_exit(failures ? 1 : 0);
	}
	printf("# listening on %s\n", ifname);
	fflush(stdout);
	pfd = (struct pollfd){ z.fd, POLLIN, 0 };
	/* blocks until the interface goes: nothing else arrives on it */
	expect(poll(&pfd, 1, 60000), 0, "poll returns when the interface goes");
	tap(pfd.revents & POLLERR, "POLLERR (revents %#x)", pfd.revents);
	tap(pfd.revents & POLLHUP, "POLLHUP");
	waitpid(child, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		failures++;
	len = sizeof(err);
	getsockopt(z.fd, SOL_SOCKET, SO_ERROR, &err, &len);
	tap(err == ENETDOWN, "SO_ERROR is ENETDOWN (%s)", strerror(err));
	expect(kick(z.fd), ENETDOWN, "tx kick after the interface went");
	/* blocking recv: drains, then reports the device gone, never hangs */
	expect(recv(fd2, b, sizeof(b), 0), ENETDOWN, "recv after the interface went");
	expect(recv(fd2, b, sizeof(b), 0), ENETDOWN, "recv again");
	expect(send(fd2, b, 60, 0), ENETDOWN, "send after the interface went");
	expect(bind_to(fd2, 1), EBUSY, "bind again");
	tap(proc_has_inode(z.fd, "-"), "/proc/net/pf_zerocopy shows it unbound");
	return failures ? 1 : 0;
}

static __attribute__((noreturn)) int cmd_hold(const char *ifname)
{
	struct zsock z;

	zsock_open(&z, 2048, 1024, 1024, ifindex_of(ifname));
	printf("# holding\n");
	fflush(stdout);
	for (;;)
		pause();
}

static int join(int fd, uint32_t id)
{
	return setsockopt(fd, SOL_PFZC, PFZC_FANOUT, &id, sizeof(id));
}

/* The fanout contract's errnos, step by step; two devices. */
static int cmd_fanout(const char *ifname, const char *ifname2)
{
	unsigned int idx = ifindex_of(ifname), idx2 = ifindex_of(ifname2);
	struct zsock a, b, c, many[PFZC_FANOUT_MAX];
	uint16_t small = 1;
	int i, n = 0;

	zsock_open(&a, 64, 64, 0, 0);
	expect(join(a.fd, 7), ENXIO, "fanout: join before bind");
	expect(bind_to(a.fd, idx), 0, "fanout: bind");
	expect(setsockopt(a.fd, SOL_PFZC, PFZC_FANOUT, &small, sizeof(small)),
	       EINVAL, "fanout: a short option");
	expect(join(a.fd, PFZC_FANOUT_ID_MAX + 1), EINVAL, "fanout: an id above the maximum");
	expect(join(a.fd, 7), 0, "fanout: join group 7");
	expect(join(a.fd, 7), EBUSY, "fanout: join again");
	expect(join(a.fd, 8), EBUSY, "fanout: join a second group");
	zsock_open(&b, 64, 64, 0, idx2);
	expect(join(b.fd, 7), EINVAL, "fanout: group 7 from another device");
	expect(join(b.fd, 9), 0, "fanout: group 9 on the other device");
	zsock_open(&c, 64, 64, 0, idx);
	expect(join(c.fd, 7), 0, "fanout: a second member of group 7");
	zsock_close(&c);
	/* the group is full at PFZC_FANOUT_MAX, a as one of them */
	for (i = 0; i < PFZC_FANOUT_MAX; i++) {
		zsock_open(&many[i], 64, 64, 0, idx);
		if (join(many[i].fd, 7) == 0)
			n++;
		else if (errno != ENOSPC)
			break;
	}
	result(n == PFZC_FANOUT_MAX - 1 ? 0 : -1, errno, 0,
	       "fanout: %d more join, up to %d members, then ENOSPC", n,
	       PFZC_FANOUT_MAX);
	for (int k = 0; k < i && k < PFZC_FANOUT_MAX; k++)
		zsock_close(&many[k]);
	zsock_close(&b);
	zsock_close(&a);
	/* the last member gone, the id is free for another device */
	zsock_open(&b, 64, 64, 0, idx2);
	expect(join(b.fd, 7), 0, "fanout: group 7 again, on the other device, once emptied");
	zsock_close(&b);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	test_init();
	if (argc >= 4 && !strcmp(argv[1], "fanout"))
		return cmd_fanout(argv[2], argv[3]);
	if (argc >= 3 && !strcmp(argv[1], "errnos"))
		return cmd_errnos(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "rx"))
		return cmd_rx(argv[2], strtoul(argv[3], NULL, 0),
			      argc > 4 ? strtoul(argv[4], NULL, 0) : 0);
	if (argc >= 5 && !strcmp(argv[1], "tx"))
		return cmd_tx(argv[2], strtoul(argv[3], NULL, 0), argv[4]);
	if (argc >= 4 && !strcmp(argv[1], "recv"))
		return cmd_recv(argv[2], strtoul(argv[3], NULL, 0));
	if (argc >= 5 && !strcmp(argv[1], "send"))
		return cmd_send(argv[2], strtoul(argv[3], NULL, 0), argv[4]);
	if (argc >= 3 && !strcmp(argv[1], "gone"))
		return cmd_gone(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "hold"))
		return cmd_hold(argv[2]);
	fprintf(stderr, "usage: see the top of kmod/test/pfzc_smoke.c\n");
	return 2;
}
