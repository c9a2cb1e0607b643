// SPDX-License-Identifier: MIT
/*
 * pfzc_badinput: the bad-input suite of the pf_zerocopy module, for the VM
 * tests (tests/vm/guest/30-pfzc-badinput.sh). Each case expects an exact
 * errno (or an exact counter change) AND no new kernel message: /dev/kmsg
 * is read before and after every case, and anything new is printed as a
 * "# kmsg:" line and fails the case. Prints TAP lines; exits 1 if one
 * failed.
 *
 *   pfzc_badinput IF PEER    IF and PEER: the two ends of a veth pair;
 *                            IF is deleted by the last case
 *
 * PFZC_FAMILY in the environment overrides the family (default 27).
 * The cases that kmod/test/pfzc_smoke.c covers end to end (rx/tx data,
 * recvmsg, ring full) are not repeated; the errnos are, with the kernel
 * log watched.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
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

static const uint32_t fs = PFZC_FRAME_SIZE;
static const char *ifname, *peername;
static unsigned int ifindex, peerindex;

/* T(errno, call, name...): one case; call returns < 0 and sets errno */
#define T(want, call, ...) do {					\
	char _name[300];						\
	long _rc;							\
	int _e;								\
	snprintf(_name, sizeof(_name), __VA_ARGS__);			\
	begin();							\
	errno = 0;							\
	_rc = (long)(call);						\
	_e = errno;							\
	result(_rc, _e, want, "%s", _name);				\
} while (0)

/* ---- the socket --------------------------------------------------------- */

static int pfzc_socket(void)
{
	int fd = socket(family, SOCK_RAW, htons(ETH_P_ALL));

	if (fd < 0)
		die("socket(PF_ZEROCOPY, SOCK_RAW)");
	return fd;
}

/* socket() that closes what it got: 0 or -1 with errno */
static int socket_try(int type, int proto)
{
	int fd = socket(family, type, proto);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* mmap() that unmaps what it got: 0 or -1 with errno */
static int map_try(int fd, size_t len, int flags, off_t off)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, off);

	if (m == MAP_FAILED)
		return -1;
	munmap(m, len);
	return 0;
}

static void *anon(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap anonymous");
	return p;
}

static unsigned long inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : (unsigned long)st.st_ino;
}

/* The /proc/net/pf_zerocopy line of socket inode ino, or "" when absent. */
static bool proc_line(unsigned long ino, char *out, size_t outlen)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/net/pf_zerocopy", "r");

	if (out)
		out[0] = '\0';
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *end;
		unsigned long v = strtoul(line, &end, 10);

		if (end != line && *end == ' ' && v == ino) {
			found = true;
			if (out)
				snprintf(out, outlen, "%s", line);
		}
	}
	fclose(f);
	return found;
}


static void test_types(void)
{
	T(ESOCKTNOSUPPORT, socket_try(SOCK_DGRAM, htons(ETH_P_ALL)), "socket SOCK_DGRAM");
	T(ESOCKTNOSUPPORT, socket_try(SOCK_STREAM, htons(ETH_P_ALL)), "socket SOCK_STREAM");
	T(ESOCKTNOSUPPORT, socket_try(SOCK_SEQPACKET, 0), "socket SOCK_SEQPACKET");
	T(EINVAL, socket_try(SOCK_RAW, 0x10000), "socket SOCK_RAW protocol 0x10000 (not an EtherType)");
	T(EINVAL, socket_try(SOCK_RAW, -1), "socket SOCK_RAW protocol -1");
	T(0, socket_try(SOCK_RAW, 0), "socket SOCK_RAW protocol 0 (ETH_P_ALL)");
}

static void test_unprivileged(void)
{
	struct child c;
	int v[MAX_STEPS];

	/* CAP_NET_RAW cleared from the effective and permitted sets */
	begin();
	child_start(&c);
	if (c.pid == 0) {
		if (prctl(PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0) ||
		    cap_change(CAP_NET_RAW, CAP_EFF | CAP_PERM | CAP_INH, false))
			child_say(&c, SETUP_FAILED);
		else
			child_step(&c, socket_try(SOCK_RAW, htons(ETH_P_ALL)));
		_exit(0);
	}
	child_finish(&c, v, 1);
	step_result(v[0], EPERM, "socket without CAP_NET_RAW (capset: not effective, not permitted)");

	/* uid 65534 keeping its permitted set: nothing effective */
	begin();
	child_start(&c);
	if (c.pid == 0) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || setgroups(0, NULL) ||
		    setgid(65534) || setuid(65534)) {
			child_say(&c, SETUP_FAILED);
			_exit(0);
		}
		child_step(&c, socket_try(SOCK_RAW, htons(ETH_P_ALL)));
		/* the control: the same uid with CAP_NET_RAW effective again */
		if (cap_change(CAP_NET_RAW, CAP_EFF, true))
			child_say(&c, SETUP_FAILED);
		else
			child_step(&c, socket_try(SOCK_RAW, htons(ETH_P_ALL)));
		_exit(0);
	}
	child_finish(&c, v, 2);
	step_result(v[0], EPERM, "socket as uid 65534 (PR_SET_KEEPCAPS, no effective caps)");
	step_result(v[1], 0, "socket as uid 65534 with CAP_NET_RAW raised from permitted (control)");

	/* root of a new user namespace: no CAP_NET_RAW in the netns' owner */
	begin();
	child_start(&c);
	if (c.pid == 0) {
		if (unshare(CLONE_NEWUSER)) {
			child_say(&c, SETUP_FAILED);
			_exit(0);
		}
		child_step(&c, socket_try(SOCK_RAW, htons(ETH_P_ALL)));
		_exit(0);
	}
	child_finish(&c, v, 1);
	step_result(v[0], EPERM, "socket as root of a new user namespace (netns owned by the initial one)");

	/* ... with a network namespace of its own: allowed, and IF is not in it */
	begin();
	child_start(&c);
	if (c.pid == 0) {
		int fd;

		if (unshare(CLONE_NEWUSER | CLONE_NEWNET)) {
			child_say(&c, SETUP_FAILED);
			_exit(0);
		}
		fd = socket(family, SOCK_RAW, htons(ETH_P_ALL));
		child_step(&c, fd);
		if (fd >= 0)
			child_step(&c, bind_to(fd, ifindex));
		_exit(0);
	}
	child_finish(&c, v, 2);
	step_result(v[0], 0, "socket as root of a new user and network namespace");
	step_result(v[1], ENODEV, "bind there to %s's ifindex %u (in another netns)", ifname, ifindex);
}

static void test_getsockopt(void)
{
	int fd = pfzc_socket();
	union {
		uint32_t v;
		struct pfzc_stats st;
		struct pfzc_mmap_offsets off;
		char big[4096];
	} u;
	socklen_t len;
	int ilen;

	len = 3;
	T(EINVAL, getsockopt(fd, SOL_PFZC, PFZC_VERSION, &u, &len), "getsockopt PFZC_VERSION optlen 3");
	len = 0;
	T(EINVAL, getsockopt(fd, SOL_PFZC, PFZC_VERSION, &u, &len), "getsockopt PFZC_VERSION optlen 0");
	ilen = -1;
	T(EINVAL, getsockopt(fd, SOL_PFZC, PFZC_VERSION, &u, (socklen_t *)&ilen), "getsockopt PFZC_VERSION optlen -1");
	len = offsetof(struct pfzc_stats, rx_dma) - 1;
	T(EINVAL, getsockopt(fd, SOL_PFZC, PFZC_STATISTICS, &u, &len), "getsockopt PFZC_STATISTICS optlen %zu (under version 1's struct)", offsetof(struct pfzc_stats, rx_dma) - 1);
	len = sizeof(struct pfzc_mmap_offsets) - 1;
	T(EINVAL, getsockopt(fd, SOL_PFZC, PFZC_MMAP_OFFSETS, &u, &len), "getsockopt PFZC_MMAP_OFFSETS optlen %zu", sizeof(struct pfzc_mmap_offsets) - 1);
	len = sizeof(struct pfzc_stats);
	T(EFAULT, getsockopt(fd, SOL_PFZC, PFZC_STATISTICS, NULL, &len), "getsockopt PFZC_STATISTICS to NULL");
	T(EFAULT, getsockopt(fd, SOL_PFZC, PFZC_VERSION, &u, NULL), "getsockopt PFZC_VERSION optlen pointer NULL");
	len = sizeof(struct pfzc_umem_reg);
	T(EINVAL, getsockopt(fd, SOL_PFZC, PFZC_UMEM_REG, &u, &len), "getsockopt PFZC_UMEM_REG (write-only)");
	len = 4;
	T(EINVAL, getsockopt(fd, SOL_PFZC, PFZC_RX_RING, &u, &len), "getsockopt PFZC_RX_RING (write-only)");
	len = 4;
	T(ENOPROTOOPT, getsockopt(fd, SOL_PFZC, 99, &u, &len), "getsockopt unknown option 99");

	begin();
	len = sizeof(u.big);
	memset(&u, 0xa5, sizeof(u));
	ilen = getsockopt(fd, SOL_PFZC, PFZC_STATISTICS, &u, &len);
	end(ilen == 0 && len == sizeof(struct pfzc_stats) && u.st.rx_packets == 0 &&
	    u.st.tx_invalid == 0 && (unsigned char)u.big[sizeof(struct pfzc_stats)] == 0xa5,
	    "getsockopt PFZC_STATISTICS optlen 4096: success, optlen %u, nothing written past it",
	    (unsigned)len);
	close(fd);
}

static void test_setsockopt_sizes(void)
{
	int fd = pfzc_socket();
	uint8_t *buf = anon(64 * fs, PROT_READ | PROT_WRITE);
	struct pfzc_umem_reg r = { (uintptr_t)buf, 64 * fs, fs, 0 };
	uint64_t n8 = 64;
	uint16_t n2 = 64;
	uint32_t n = 64;

	T(EINVAL, setsockopt(fd, SOL_PFZC, PFZC_UMEM_REG, &r, sizeof(r) - 1), "PFZC_UMEM_REG optlen %zu", sizeof(r) - 1);
	T(EINVAL, setsockopt(fd, SOL_PFZC, PFZC_UMEM_REG, &r, sizeof(r) + 1), "PFZC_UMEM_REG optlen %zu", sizeof(r) + 1);
	T(EINVAL, setsockopt(fd, SOL_PFZC, PFZC_UMEM_REG, &r, 0), "PFZC_UMEM_REG optlen 0");
	T(EFAULT, setsockopt(fd, SOL_PFZC, PFZC_UMEM_REG, NULL, sizeof(r)), "PFZC_UMEM_REG from NULL");
	T(EINVAL, setsockopt(fd, SOL_PFZC, PFZC_VERSION, &n, sizeof(n)), "setsockopt PFZC_VERSION (read-only)");
	T(EINVAL, setsockopt(fd, SOL_PFZC, PFZC_STATISTICS, &n, sizeof(n)), "setsockopt PFZC_STATISTICS (read-only)");
	T(ENOPROTOOPT, setsockopt(fd, SOL_PFZC, 99, &n, sizeof(n)), "setsockopt unknown option 99");
	T(ENOPROTOOPT, setsockopt(fd, 0, PFZC_RX_RING, &n, sizeof(n)), "setsockopt level 0 (not SOL_PFZC)");

	/* rings before the umem */
	T(EINVAL, ring_set(fd, PFZC_RX_RING, 64), "PFZC_RX_RING 64 before the umem");
	T(EINVAL, ring_set(fd, PFZC_TX_RING, 64), "PFZC_TX_RING 64 before the umem");

	if (umem_reg(fd, buf, 64 * fs, fs, 0))
		die("PFZC_UMEM_REG");
	T(EINVAL, setsockopt(fd, SOL_PFZC, PFZC_RX_RING, &n2, sizeof(n2)), "PFZC_RX_RING optlen 2");
	T(EINVAL, setsockopt(fd, SOL_PFZC, PFZC_RX_RING, &n8, sizeof(n8)), "PFZC_RX_RING optlen 8");
	T(EINVAL, setsockopt(fd, SOL_PFZC, PFZC_RX_RING, &n, 0), "PFZC_RX_RING optlen 0");
	T(EFAULT, setsockopt(fd, SOL_PFZC, PFZC_RX_RING, NULL, sizeof(n)), "PFZC_RX_RING from NULL");
	T(EINVAL, setsockopt(fd, SOL_PFZC, PFZC_TX_RING, &n2, sizeof(n2)), "PFZC_TX_RING optlen 2");
	T(EINVAL, setsockopt(fd, SOL_PFZC, PFZC_TX_RING, &n8, sizeof(n8)), "PFZC_TX_RING optlen 8");
	close(fd);
	munmap(buf, 64 * fs);
}

static void test_umem(void)
{
	const size_t blen = 1024 * fs;
	uint8_t *buf = anon(blen, PROT_READ | PROT_WRITE);
	uint8_t *ro = anon(16 * fs, PROT_READ);
	uint8_t *hole = anon(32 * fs, PROT_READ | PROT_WRITE);
	uint8_t *half = anon(32 * fs, PROT_READ | PROT_WRITE);
	int fd = pfzc_socket();
	long p0, p1;
	struct child c;
	int v[MAX_STEPS];

	munmap(hole, 32 * fs);			/* an address range now unmapped */
	munmap(half + 16 * fs, 16 * fs);	/* the second half unmapped */
	memset(half, 1, 16 * fs);
	p0 = pins();

	T(EINVAL, umem_reg(fd, buf + 64, 16 * fs, fs, 0), "PFZC_UMEM_REG addr not page aligned (+64)");
	T(EINVAL, umem_reg(fd, buf + fs, 16 * fs, fs, 0), "PFZC_UMEM_REG addr frame but not page aligned (+2048)");
	T(EINVAL, umem_reg(fd, buf, 0, fs, 0), "PFZC_UMEM_REG len 0");
	T(EINVAL, umem_reg(fd, buf, 16 * fs + 100, fs, 0), "PFZC_UMEM_REG len not a multiple of 2048");
	T(EINVAL, umem_reg(fd, buf, 3 * 2048, 4096, 0), "PFZC_UMEM_REG len 6144 with frame size 4096");
	T(EINVAL, umem_reg(fd, buf, 16 * 4096, 1024, 0), "PFZC_UMEM_REG frame size 1024");
	T(EINVAL, umem_reg(fd, buf, 16 * 3000, 3000, 0), "PFZC_UMEM_REG frame size 3000");
	T(EINVAL, umem_reg(fd, buf, 16 * 8192, 8192, 0), "PFZC_UMEM_REG frame size 8192");
	T(EINVAL, umem_reg(fd, buf, 16 * fs, 0, 0), "PFZC_UMEM_REG frame size 0");
	T(EINVAL, umem_reg(fd, buf, 16 * fs, fs, 1), "PFZC_UMEM_REG flags 1");
	T(EINVAL, umem_reg(fd, buf, 16 * fs, fs, 1u << 31), "PFZC_UMEM_REG flags 1<<31");
	T(EINVAL, umem_reg(fd, buf, PFZC_UMEM_MAX + 4096, fs, 0), "PFZC_UMEM_REG len PFZC_UMEM_MAX + 4096");
	T(EINVAL, umem_reg(fd, buf, ~0ULL & ~4095ULL, fs, 0), "PFZC_UMEM_REG len 2^64 - 4096");
	T(EFAULT, umem_reg(fd, hole, 32 * fs, fs, 0), "PFZC_UMEM_REG over an unmapped range");
	T(EFAULT, umem_reg(fd, half, 32 * fs, fs, 0), "PFZC_UMEM_REG over a range mapped only in its first half");
	T(EFAULT, umem_reg(fd, ro, 16 * fs, fs, 0), "PFZC_UMEM_REG over a read-only mapping");
	T(EFAULT, umem_reg(fd, (void *)(~0UL << 12), 16 * fs, fs, 0), "PFZC_UMEM_REG range wrapping past 2^64");
	T(EFAULT, umem_reg(fd, (void *)(1UL << 47), 16 * fs, fs, 0), "PFZC_UMEM_REG at 2^47 (kernel half)");
	begin();
	p1 = pins_wait(p0);
	end(p1 == p0, "failed registrations leave nothing pinned (%ld pages, before %ld)", p1, p0);

	/* RLIMIT_MEMLOCK without CAP_IPC_LOCK: 16 pages allowed */
	begin();
	child_start(&c);
	if (c.pid == 0) {
		struct rlimit rl = { 16 * pg, 16 * pg };
		int f, g;

		if (setrlimit(RLIMIT_MEMLOCK, &rl) ||
		    cap_change(CAP_IPC_LOCK, CAP_EFF | CAP_PERM, false)) {
			child_say(&c, SETUP_FAILED);
			_exit(0);
		}
		f = pfzc_socket();
		child_step(&c, umem_reg(f, buf, 32 * pg, fs, 0));
		/* the refused one was not charged: the whole limit is left */
		child_step(&c, umem_reg(f, buf, 16 * pg, fs, 0));
		g = pfzc_socket();
		child_step(&c, umem_reg(g, buf, pg, fs, 0));
		/* release gives the charge back */
		close(f);
		child_step(&c, umem_reg(g, buf, 16 * pg, fs, 0));
		close(g);
		_exit(0);
	}
	child_finish(&c, v, 4);
	step_result(v[0], ENOBUFS, "PFZC_UMEM_REG 32 pages over RLIMIT_MEMLOCK 16 pages without CAP_IPC_LOCK");
	step_result(v[1], 0, "PFZC_UMEM_REG 16 pages after that (the refused one was not charged)");
	step_result(v[2], ENOBUFS, "PFZC_UMEM_REG 1 page more on a second socket");
	step_result(v[3], 0, "PFZC_UMEM_REG 16 pages once the first socket is closed (charge given back)");

	T(0, umem_reg(fd, buf, blen, fs, 0), "PFZC_UMEM_REG 1024 frames");
	T(EBUSY, umem_reg(fd, buf, blen, fs, 0), "PFZC_UMEM_REG twice");
	T(EBUSY, umem_reg(fd, buf, 16 * fs, fs, 1), "PFZC_UMEM_REG twice, with bad flags");
	close(fd);
	begin();
	p1 = pins_wait(p0);
	end(p1 == p0, "close unpins the umem (%ld pages, before %ld)", p1, p0);
	munmap(buf, blen);
	munmap(ro, 16 * fs);
	munmap(half, 16 * fs);
}

static void test_rings_and_mmap(void)
{
	const uint32_t frames = 512;
	uint8_t *buf = anon(frames * fs, PROT_READ | PROT_WRITE);
	int fd = pfzc_socket();
	const uint32_t bad[] = { 0, 1, 32, 63, 65, 96, 100, 255, 1u << 19, 1u << 31, 0xffffffffu };
	char *m;

	T(EINVAL, map_try(fd, pg, MAP_SHARED, PFZC_PGOFF_RX_RING), "mmap rx before any ring exists");
	T(EINVAL, map_try(fd, pg, MAP_SHARED, PFZC_PGOFF_TX_RING * pg), "mmap tx before any ring exists");
	if (umem_reg(fd, buf, frames * fs, fs, 0))
		die("PFZC_UMEM_REG");
	T(EINVAL, map_try(fd, pg, MAP_SHARED, PFZC_PGOFF_RX_RING), "mmap rx with a umem and no ring");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T(EINVAL, ring_set(fd, PFZC_RX_RING, bad[i]), "PFZC_RX_RING %u", bad[i]);
	T(EINVAL, ring_set(fd, PFZC_TX_RING, 1u << 20), "PFZC_TX_RING %u", 1u << 20);
	T(EINVAL, ring_set(fd, PFZC_TX_RING, 48), "PFZC_TX_RING 48");
	T(EINVAL, ring_set(fd, PFZC_RX_RING, 1024), "PFZC_RX_RING 1024 over a umem of %u frames", frames);
	T(EINVAL, ring_set(fd, PFZC_RX_RING, PFZC_RING_MAX), "PFZC_RX_RING PFZC_RING_MAX over a umem of %u frames", frames);
	T(0, ring_set(fd, PFZC_RX_RING, 256), "PFZC_RX_RING 256");
	T(EBUSY, ring_set(fd, PFZC_RX_RING, 256), "PFZC_RX_RING twice");
	T(EBUSY, ring_set(fd, PFZC_RX_RING, 100), "PFZC_RX_RING twice, with a bad size");
	T(EINVAL, ring_set(fd, PFZC_TX_RING, 512), "PFZC_TX_RING 512: rx 256 + tx 512 over %u frames", frames);

	/* mmap with only the rx ring */
	T(EINVAL, map_try(fd, pg, MAP_SHARED, PFZC_PGOFF_TX_RING * pg), "mmap tx offset when only rx exists");
	T(EINVAL, map_try(fd, pg, MAP_SHARED, pg), "mmap at offset 1 page");
	T(EINVAL, map_try(fd, pg, MAP_SHARED, (PFZC_PGOFF_TX_RING + 1) * pg), "mmap at the tx offset + 1 page");
	T(EINVAL, map_try(fd, pg, MAP_SHARED, 0x40000000LL * pg), "mmap at page offset 0x40000000");
	T(EINVAL, map_try(fd, map_len(256) + pg, MAP_SHARED, PFZC_PGOFF_RX_RING), "mmap rx %zu bytes, one page over its size", map_len(256) + pg);
	T(EINVAL, map_try(fd, 64 << 20, MAP_SHARED, PFZC_PGOFF_RX_RING), "mmap rx 64 MiB");
	T(EINVAL, map_try(fd, map_len(256), MAP_PRIVATE, PFZC_PGOFF_RX_RING), "mmap rx MAP_PRIVATE");

	/* a ring is mapped: no more rings, whatever the vmas become */
	begin();
	m = mmap(NULL, map_len(256), PROT_READ | PROT_WRITE, MAP_SHARED, fd, PFZC_PGOFF_RX_RING);
	result(m == MAP_FAILED ? -1 : 0, errno, 0, "mmap rx (3 pages)");
	if (m == MAP_FAILED)
		die("mmap rx");
	T(EBUSY, ring_set(fd, PFZC_TX_RING, 64), "PFZC_TX_RING 64 while rx is mapped");
	munmap(m + pg, pg);	/* split in two vmas */
	T(EBUSY, ring_set(fd, PFZC_TX_RING, 64), "PFZC_TX_RING 64 while two pieces of rx are mapped");
	munmap(m, pg);
	T(EBUSY, ring_set(fd, PFZC_TX_RING, 64), "PFZC_TX_RING 64 while the last piece of rx is mapped");
	munmap(m + 2 * pg, pg);
	T(0, ring_set(fd, PFZC_TX_RING, 64), "PFZC_TX_RING 64 once nothing is mapped");
	T(EBUSY, ring_set(fd, PFZC_TX_RING, 64), "PFZC_TX_RING twice");
	T(EINVAL, map_try(fd, map_len(64) + pg, MAP_SHARED, PFZC_PGOFF_TX_RING * pg), "mmap tx one page over its size");
	T(0, map_try(fd, map_len(64), MAP_SHARED, PFZC_PGOFF_TX_RING * pg), "mmap tx");
	T(0, map_try(fd, pg, MAP_SHARED, PFZC_PGOFF_RX_RING), "mmap the first page of rx only");

	/* bind */
	{
		struct sockaddr_pfzc sa = { .spz_family = family, .spz_ifindex = ifindex };
		struct {
			struct sockaddr_pfzc sa;
			uint32_t more;
		} big = { sa, 0 };
		unsigned int missing = 0x7fffff00;

		while (if_indextoname(missing, (char[IF_NAMESIZE]){ 0 }))
			missing++;
		T(EINVAL, bind(fd, (struct sockaddr *)&sa, sizeof(sa) - 1), "bind address length %zu", sizeof(sa) - 1);
		T(EINVAL, bind(fd, (struct sockaddr *)&big, sizeof(big)), "bind address length %zu", sizeof(big));
		T(EINVAL, bind(fd, (struct sockaddr *)&sa, 2), "bind address length 2");
		sa.spz_family = AF_PACKET;
		T(EINVAL, bind(fd, (struct sockaddr *)&sa, sizeof(sa)), "bind family AF_PACKET");
		sa.spz_family = 0;
		T(EINVAL, bind(fd, (struct sockaddr *)&sa, sizeof(sa)), "bind family 0");
		sa.spz_family = family;
		sa.spz_pad = 1;
		T(EINVAL, bind(fd, (struct sockaddr *)&sa, sizeof(sa)), "bind spz_pad 1");
		T(ENODEV, bind_to(fd, missing), "bind to missing ifindex %u", missing);
		T(ENODEV, bind_to(fd, 0), "bind to ifindex 0");
		T(ENODEV, bind_to(fd, 0xffffffffu), "bind to ifindex 0xffffffff");
		T(ENXIO, kick(fd), "tx kick before bind");
		T(0, bind_to(fd, ifindex), "bind to %s", ifname);
		T(EBUSY, bind_to(fd, ifindex), "bind twice");
		T(EBUSY, bind_to(fd, peerindex), "bind again, to %s", peername);
		T(EBUSY, umem_reg(fd, buf, frames * fs, fs, 0), "PFZC_UMEM_REG once bound");
		{
			char b[64];

			T(EBUSY, recv(fd, b, sizeof(b), MSG_DONTWAIT), "recv with an rx ring");
			T(EINVAL, recv(fd, b, sizeof(b), MSG_DONTWAIT | MSG_WAITALL), "recv MSG_WAITALL");
			T(EOPNOTSUPP, send(fd, b, sizeof(b), MSG_OOB), "send MSG_OOB");
		}
	}
	close(fd);
	munmap(buf, frames * fs);
}

/* Sockets without rings: bind for recvmsg/sendmsg, and what it refuses. */
static void test_packet_mode(void)
{
	uint8_t *buf = anon(128 * fs, PROT_READ | PROT_WRITE);
	static uint8_t frame[2048];
	struct pfzc_stats st;
	int fd = pfzc_socket();
	int fd2;

	T(ENXIO, recv(fd, frame, 64, MSG_DONTWAIT), "recv unbound");
	T(ENXIO, send(fd, frame, 60, 0), "send unbound");
	T(ENXIO, kick(fd), "empty send unbound");

	fd2 = pfzc_socket();
	if (umem_reg(fd2, buf, 128 * fs, fs, 0))
		die("PFZC_UMEM_REG");
	T(EINVAL, bind_to(fd2, ifindex), "bind with a umem and no ring");
	close(fd2);

	T(0, bind_to(fd, ifindex), "bind without umem or rings");
	T(EBUSY, umem_reg(fd, buf, 128 * fs, fs, 0), "PFZC_UMEM_REG once bound");
	T(EBUSY, ring_set(fd, PFZC_RX_RING, 64), "PFZC_RX_RING once bound (no umem)");
	T(EBUSY, ring_set(fd, PFZC_TX_RING, 64), "PFZC_TX_RING once bound (no umem)");
	T(EINVAL, kick(fd), "empty send without a tx ring");
	T(EINVAL, send(fd, frame, 13, 0), "send 13 bytes (under ETH_HLEN)");
	memset(frame, 0xff, 6);
	frame[6] = 0x02;
	frame[12] = 0x88;
	frame[13] = 0xb5;
	T(EMSGSIZE, send(fd, frame, 1515, 0), "send 1515 bytes (over MTU 1500 + 14)");
	T(EMSGSIZE, send(fd, frame, 2048, 0), "send 2048 bytes");
	begin();
	errno = 0;
	{
		ssize_t r = send(fd, frame, 1514, 0);
		int e = errno;

		get_stats(fd, &st);
		end(r == 1514 && st.tx_packets == 1 && st.tx_invalid == 0,
		    "send 1514 bytes: sent (%s), tx_packets %llu",
		    r == 1514 ? "1514" : ename(e), (unsigned long long)st.tx_packets);
	}
	close(fd);
	munmap(buf, 128 * fs);
}

/* ---- tx descriptors ----------------------------------------------------- */

struct txt {
	struct zsock z;
	uint32_t prod;		/* our producer index */
	uint64_t tx_first;
};

static void put_desc(struct txt *t, const struct pfzc_desc *d)
{
	t->z.tx.desc[t->prod & t->z.tx.mask] = *d;
	t->prod++;
}

static void submit(struct txt *t)
{
	pfzc_store_release(t->z.tx.producer, t->prod);
}

/*
 * Kicks with the descriptors queued since the last kick; the kick must
 * succeed, count want_invalid more tx_invalid and want_sent more
 * tx_packets, and hand every slot back.
 */
static void tx_case(struct txt *t, uint64_t want_invalid, uint64_t want_sent,
		    const char *name)
{
	struct pfzc_stats s0, s1;
	uint32_t cons;
	int rc, e;

	get_stats(t->z.fd, &s0);
	submit(t);
	errno = 0;
	rc = kick(t->z.fd);
	e = errno;
	get_stats(t->z.fd, &s1);
	cons = pfzc_load_acquire(t->z.tx.consumer);
	end(rc == 0 && s1.tx_invalid - s0.tx_invalid == want_invalid &&
	    s1.tx_packets - s0.tx_packets == want_sent && s1.tx_errors == s0.tx_errors &&
	    cons == t->prod,
	    "tx %s: kick %s, tx_invalid +%llu, tx_packets +%llu (want +%llu, +%llu), tx_errors +%llu, slots handed back (%u/%u)",
	    name, rc == 0 ? "succeeds" : ename(e),
	    (unsigned long long)(s1.tx_invalid - s0.tx_invalid),
	    (unsigned long long)(s1.tx_packets - s0.tx_packets),
	    (unsigned long long)want_invalid, (unsigned long long)want_sent,
	    (unsigned long long)(s1.tx_errors - s0.tx_errors), cons, t->prod);
}

static void tx_bad(struct txt *t, struct pfzc_desc d, const char *name)
{
	begin();
	put_desc(t, &d);
	tx_case(t, 1, 0, name);
}

static void tx_good(struct txt *t, struct pfzc_desc d, const char *name)
{
	begin();
	put_desc(t, &d);
	tx_case(t, 0, 1, name);
}

static void test_tx(void)
{
	struct txt t = { .prod = 0 };
	struct pfzc_stats st;
	uint64_t last, tf;
	char line[512];
	long p0 = pins();

	/* 64 rx frames [0, 64), 64 tx frames [64, 128) */
	zsock_open(&t.z, 128, 64, 64, 0);
	tf = t.tx_first = 64ULL * fs;
	last = t.z.umem_len - fs;
	for (uint64_t off = 0; off < t.z.umem_len; off += fs) {
		uint8_t *f = t.z.umem + off;

		memset(f, 0xff, 6);			/* broadcast */
		memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
		f[12] = 0x88;				/* local experimental */
		f[13] = 0xb5;
	}
	begin();
	put_desc(&t, &(struct pfzc_desc){ .addr = tf, .len = 60 });
	submit(&t);
	errno = 0;
	{
		int rc = kick(t.z.fd);
		int e = errno;

		get_stats(t.z.fd, &st);
		end(rc < 0 && e == ENXIO && st.tx_packets == 0 && st.tx_invalid == 0,
		    "tx kick with rings, unbound: ENXIO%s%s, nothing counted",
		    rc < 0 && e == ENXIO ? "" : ", got ", rc < 0 && e == ENXIO ? "" : ename(rc < 0 ? e : 0));
	}
	if (bind_to(t.z.fd, ifindex))
		die("bind");
	/* the descriptor queued before bind goes out on the first kick */
	begin();
	tx_case(&t, 0, 1, "descriptor queued before bind");

	tx_bad(&t, (struct pfzc_desc){ .addr = t.z.umem_len, .len = 60 }, "addr = umem len");
	tx_bad(&t, (struct pfzc_desc){ .addr = t.z.umem_len + 64 * fs, .len = 60 }, "addr past the umem");
	tx_bad(&t, (struct pfzc_desc){ .addr = ~0ULL - 59, .len = 60 }, "addr 2^64 - 60");
	tx_bad(&t, (struct pfzc_desc){ .addr = 1ULL << 63, .len = 60 }, "addr 2^63");
	tx_bad(&t, (struct pfzc_desc){ .addr = tf, .len = 0 }, "len 0");
	tx_bad(&t, (struct pfzc_desc){ .addr = tf + fs - 60, .len = 61 }, "len one byte over the frame end");
	tx_bad(&t, (struct pfzc_desc){ .addr = tf + 100, .len = fs }, "len 2048 at frame offset 100");
	tx_bad(&t, (struct pfzc_desc){ .addr = last, .len = fs + 1 }, "len 2049 in the last frame");
	tx_bad(&t, (struct pfzc_desc){ .addr = tf, .len = 0xffffffffu }, "len 2^32 - 1");
	tx_bad(&t, (struct pfzc_desc){ .addr = tf, .len = 1515 }, "len 1515 (over MTU 1500 + 14)");
	tx_bad(&t, (struct pfzc_desc){ .addr = tf, .len = 2048 }, "len 2048 (a whole frame, over the MTU)");
	tx_bad(&t, (struct pfzc_desc){ .addr = tf, .len = 13 }, "len 13 (under ETH_HLEN)");
	tx_bad(&t, (struct pfzc_desc){ .addr = tf, .len = 60, .flags = PFZC_DESC_VLAN }, "flags PFZC_DESC_VLAN (not a tx flag)");
	tx_bad(&t, (struct pfzc_desc){ .addr = tf, .len = 60, .flags = 1u << 31 }, "flags 1<<31");
	tx_bad(&t, (struct pfzc_desc){ .addr = tf, .len = 60, .reserved = 1 }, "reserved 1");
	tx_bad(&t, (struct pfzc_desc){ .addr = 0, .len = 60 }, "addr 0 (rx frame 0)");
	tx_bad(&t, (struct pfzc_desc){ .addr = tf - fs, .len = 60 }, "addr in the last rx frame");
	tx_bad(&t, (struct pfzc_desc){ .addr = tf - 60, .len = 60 }, "addr 60 bytes before the first tx frame");
	/* what the kernel ignores on tx may hold anything */
	tx_good(&t, (struct pfzc_desc){ .addr = tf, .len = 60, .orig_len = 9999, .ts_ns = ~0ULL, .vlan_tci = 0xffff },
		"orig_len, ts_ns, vlan_tci set (ignored on tx)");
	tx_good(&t, (struct pfzc_desc){ .addr = tf + fs - 60, .len = 60 }, "60 bytes ending at the frame end");
	tx_good(&t, (struct pfzc_desc){ .addr = last, .len = 1514 }, "1514 bytes in the last frame (valid after the invalid ones)");

	/* several in one kick */
	begin();
	put_desc(&t, &(struct pfzc_desc){ .addr = 0, .len = 60 });
	put_desc(&t, &(struct pfzc_desc){ .addr = tf, .len = 60 });
	put_desc(&t, &(struct pfzc_desc){ .addr = tf, .len = 0 });
	put_desc(&t, &(struct pfzc_desc){ .addr = tf + fs, .len = 100 });
	put_desc(&t, &(struct pfzc_desc){ .addr = tf, .len = 60, .reserved = 7 });
	tx_case(&t, 3, 2, "5 descriptors, 3 invalid, in one kick");

	/* a producer index more than a ring ahead: treated as empty */
	begin();
	{
		struct pfzc_stats s0, s1;
		uint32_t c0 = pfzc_load_acquire(t.z.tx.consumer);
		int rc, e;

		get_stats(t.z.fd, &s0);
		pfzc_store_release(t.z.tx.producer, t.prod + t.z.tx_n + 1);
		errno = 0;
		rc = kick(t.z.fd);
		e = errno;
		get_stats(t.z.fd, &s1);
		end(rc == 0 && s1.tx_invalid == s0.tx_invalid && s1.tx_packets == s0.tx_packets &&
		    pfzc_load_acquire(t.z.tx.consumer) == c0,
		    "tx producer index a ring + 1 ahead of the consumer: kick %s, nothing sent or counted",
		    rc == 0 ? "succeeds" : ename(e));
		pfzc_store_release(t.z.tx.producer, t.prod);
	}
	tx_good(&t, (struct pfzc_desc){ .addr = tf, .len = 60 }, "valid after the garbage producer index");

	/* a whole ring of invalid ones, twice round */
	begin();
	for (uint32_t i = 0; i < t.z.tx_n; i++)
		put_desc(&t, &(struct pfzc_desc){ .addr = i * 64, .len = 60 });
	tx_case(&t, t.z.tx_n, 0, "a full ring of descriptors into the rx frames");

	begin();
	get_stats(t.z.fd, &st);
	proc_line(inode_of(t.z.fd), line, sizeof(line));
	{
		unsigned long long ino, rx, rxd, tx, txi;
		int ifi, rxn, txn;
		char name[IF_NAMESIZE + 1];
		int k = sscanf(line, "%llu %d %16s %d %d %llu %llu %llu %llu",
			       &ino, &ifi, name, &rxn, &txn, &rx, &rxd, &tx, &txi);

		printf("# /proc/net/pf_zerocopy: %s", line[0] ? line : "(absent)\n");
		end(k == 9 && (unsigned)ifi == ifindex && !strcmp(name, ifname) &&
		    rxn == 64 && txn == 64 && tx == st.tx_packets && txi == st.tx_invalid,
		    "/proc/net/pf_zerocopy: %s, tx %llu, tx_invalid %llu as in PFZC_STATISTICS",
		    ifname, (unsigned long long)st.tx_packets, (unsigned long long)st.tx_invalid);
	}
	zsock_close(&t.z);
	begin();
	{
		long p1 = pins_wait(p0);

		end(p1 == p0, "tx socket closed: nothing left pinned (%ld, before %ld)", p1, p0);
	}
}

/* ---- threads and processes ---------------------------------------------- */

/* Whether thread tid is blocked in poll/ppoll (per /proc), waiting up to 10 s. */
static bool in_poll(pid_t tid)
{
	char path[64], b[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(path, "r");
		bool yes = false;

		if (f) {
			if (fgets(b, sizeof(b), f))
				yes = !strncmp(b, "7 ", 2) || !strncmp(b, "271 ", 4);
			fclose(f);
		}
		if (yes)
			return true;
		usleep(10000);
	}
	return false;
}

struct poller {
	int fd;
	short events;
	volatile pid_t tid;
	int rc, err;
	short revents;
};

static void *poller_main(void *arg)
{
	struct poller *p = arg;
	struct pollfd pfd = { p->fd, p->events, 0 };

	p->tid = (pid_t)syscall(SYS_gettid);
	p->rc = poll(&pfd, 1, 30000);
	p->err = errno;
	p->revents = pfd.revents;
	return NULL;
}

/* One frame onto IF from its peer, through AF_PACKET. */
static int send_from_peer(int ps)
{
	uint8_t f[60] = { 0 };
	struct sockaddr_ll ll = {
		.sll_family = AF_PACKET, .sll_ifindex = (int)peerindex,
		.sll_protocol = htons(0x88b5), .sll_halen = 6,
	};

	memset(f, 0xff, 6);
	f[6] = 0x02;
	f[12] = 0x88;
	f[13] = 0xb5;
	return (int)sendto(ps, f, sizeof(f), 0, (struct sockaddr *)&ll, sizeof(ll));
}

static void test_close_while_polling(void)
{
	struct zsock z;
	struct poller p = { .events = POLLIN };
	unsigned long ino;
	pthread_t th;
	int ps;
	long p0 = pins();

	/* umem and an rx ring, bound, not mapped: close() releases it */
	zsock_open(&z, 128, 64, 0, 0);
	munmap(z.rx_map, map_len(64));
	z.rx_map = NULL;
	if (bind_to(z.fd, ifindex))
		die("bind");
	ino = inode_of(z.fd);
	ps = socket(AF_PACKET, SOCK_RAW, 0);	/* before close: no fd reuse */
	if (ps < 0)
		die("socket(AF_PACKET)");
	p.fd = z.fd;

	begin();
	if (pthread_create(&th, NULL, poller_main, &p))
		die("pthread_create");
	while (!p.tid)
		usleep(1000);
	if (!in_poll(p.tid))
		printf("# the poller was not seen in poll()\n");
	close(z.fd);		/* the poller's poll table holds the file */
	/* wakes the poller: it then finds the descriptor closed */
	if (send_from_peer(ps) < 0)
		printf("# AF_PACKET send: %s\n", strerror(errno));
	pthread_join(th, NULL);
	end(p.rc == 1 && p.revents == POLLNVAL,
	    "close while another thread polls: the poller returns %d, revents %#x (want 1, POLLNVAL)",
	    p.rc, (unsigned)p.revents);
	begin();
	end(!proc_line(ino, NULL, 0), "after the poller returned, the socket is released (not in /proc/net/pf_zerocopy)");
	close(ps);
	munmap(z.umem, z.umem_len);
	begin();
	{
		long p1 = pins_wait(p0);

		end(p1 == p0, "its umem is unpinned (%ld, before %ld)", p1, p0);
	}
}

static void test_killed_while_mapped(void)
{
	const uint32_t frames = 2048, npages = frames * fs / 4096;
	unsigned long ino = 0;
	struct child c;
	long p0 = pins(), held, p1;
	int status;
	bool listed;

	begin();
	child_start(&c);
	if (c.pid == 0) {
		struct zsock z;

		zsock_open(&z, frames, 1024, 1024, ifindex);
		ino = inode_of(z.fd);
		if (write(c.fd, &ino, sizeof(ino)) != sizeof(ino))
			_exit(3);
		for (;;)
			pause();
	}
	if (read(c.fd, &ino, sizeof(ino)) != sizeof(ino))
		ino = 0;
	close(c.fd);
	held = pins();
	for (int i = 0; i < 100 && held < p0 + npages; i++) {
		usleep(100000);
		held = pins();
	}
	listed = ino && proc_line(ino, NULL, 0);
	end(ino && held - p0 >= npages && listed,
	    "killed while mapped: the child holds %ld pinned pages (want >= %u), listed in /proc/net/pf_zerocopy: %s",
	    held - p0, npages, listed ? "yes" : "no");

	begin();
	kill(c.pid, SIGKILL);
	waitpid(c.pid, &status, 0);
	p1 = pins_wait(p0);
	end(WIFSIGNALED(status) && p1 == p0,
	    "killed while mapped: after SIGKILL, pinned pages back to %ld (got %ld)", p0, p1);
	begin();
	end(ino && !proc_line(ino, NULL, 0), "killed while mapped: its socket is gone from /proc/net/pf_zerocopy");
}

struct deleter {
	pid_t main_tid;
	int rc;
};

static void *deleter_main(void *arg)
{
	struct deleter *d = arg;
	char cmd[128];

	if (!in_poll(d->main_tid))
		printf("# the capturing thread was not seen in poll()\n");
	snprintf(cmd, sizeof(cmd), "ip link del %s", ifname);
	d->rc = system(cmd);
	return NULL;
}

/* Last: deletes IF (and so PEER). */
static void test_interface_gone(void)
{
	struct deleter d = { .main_tid = getpid() };
	struct pollfd pfd;
	struct zsock z;
	pthread_t th;
	char line[512], b[64] = { 0 };
	unsigned long ino, pino;
	volatile uint32_t prod;
	socklen_t len;
	int pfd2, err = 0, rc, e;
	long p0 = pins(), p1;

	zsock_open(&z, 128, 64, 64, ifindex);
	pfd2 = pfzc_socket();		/* recvmsg/sendmsg mode */
	if (bind_to(pfd2, ifindex))
		die("bind");
	ino = inode_of(z.fd);
	pino = inode_of(pfd2);

	begin();
	if (pthread_create(&th, NULL, deleter_main, &d))
		die("pthread_create");
	pfd = (struct pollfd){ z.fd, POLLIN, 0 };
	errno = 0;
	rc = poll(&pfd, 1, 30000);
	e = errno;
	pthread_join(th, NULL);
	if (d.rc)
		printf("# ip link del %s: status %d\n", ifname, d.rc);
	end(d.rc == 0 && rc == 1 && (pfd.revents & POLLERR) && (pfd.revents & POLLHUP),
	    "interface deleted while capturing: poll returns %d%s%s, revents %#x (want POLLERR|POLLHUP)",
	    rc, rc < 0 ? " " : "", rc < 0 ? ename(e) : "", (unsigned)pfd.revents);

	begin();
	len = sizeof(err);
	rc = getsockopt(z.fd, SOL_SOCKET, SO_ERROR, &err, &len);
	end(rc == 0 && err == ENETDOWN, "SO_ERROR after the interface went: ENETDOWN (got %s)", ename(err));
	T(ENETDOWN, kick(z.fd), "tx kick after the interface went");
	T(ENETDOWN, send(z.fd, b, 60, 0), "send 60 bytes on the ring socket after the interface went");
	T(ENETDOWN, send(pfd2, b, 60, 0), "send 60 bytes on the no-ring socket after the interface went");
	T(ENETDOWN, recv(pfd2, b, sizeof(b), 0), "blocking recv on the no-ring socket after the interface went");
	T(ENETDOWN, recv(pfd2, b, sizeof(b), 0), "recv again");
	T(EBUSY, bind_to(z.fd, 1), "bind to lo after the interface went");
	T(EBUSY, bind_to(pfd2, 1), "bind the no-ring socket to lo after the interface went");
	T(EBUSY, ring_set(z.fd, PFZC_TX_RING, 64), "PFZC_TX_RING after the interface went");
	T(EBUSY, umem_reg(pfd2, z.umem, z.umem_len, fs, 0), "PFZC_UMEM_REG after the interface went");
	T(EBUSY, ring_set(pfd2, PFZC_RX_RING, 64), "PFZC_RX_RING on the no-ring socket after the interface went");
	{
		struct pfzc_stats st;

		T(0, get_stats(z.fd, &st), "PFZC_STATISTICS after the interface went");
	}
	begin();
	pfd = (struct pollfd){ z.fd, POLLIN | POLLOUT, 0 };
	rc = poll(&pfd, 1, 0);
	end(rc == 1 && (pfd.revents & POLLHUP) && !(pfd.revents & POLLOUT),
	    "poll again: POLLHUP, no POLLOUT (revents %#x)", (unsigned)pfd.revents);
	begin();
	prod = *z.rx.producer;		/* the mapping is still there */
	z.tx.desc[0] = (struct pfzc_desc){ .addr = 64 * fs, .len = 60 };
	end(proc_line(ino, line, sizeof(line)) && strstr(line, " 0 - ") != NULL,
	    "/proc/net/pf_zerocopy shows the socket unbound (ifindex 0, -); rx producer %u readable", prod);
	printf("# /proc/net/pf_zerocopy: %s", line[0] ? line : "(absent)\n");

	begin();
	zsock_close(&z);
	close(pfd2);
	p1 = pins_wait(p0);
	end(!proc_line(ino, NULL, 0) && !proc_line(pino, NULL, 0) && p1 == p0,
	    "closed after the interface went: gone from /proc, pinned pages back to %ld (got %ld)", p0, p1);
}

int main(int argc, char **argv)
{
	long pins0;

	test_init();
	if (argc != 3) {
		fprintf(stderr, "usage: pfzc_badinput IF PEER (a veth pair; IF gets deleted)\n");
		return 2;
	}
	ifname = argv[1];
	peername = argv[2];
	ifindex = if_nametoindex(ifname);
	peerindex = if_nametoindex(peername);
	if (!ifindex || !peerindex) {
		printf("not ok - interfaces %s and %s exist\n", ifname, peername);
		return 1;
	}
	pins0 = watch_start();

	test_types();
	test_unprivileged();
	test_getsockopt();
	test_setsockopt_sizes();
	test_umem();
	test_rings_and_mmap();
	test_packet_mode();
	test_tx();
	test_close_while_polling();
	test_killed_while_mapped();
	test_interface_gone();
	return watch_end(pins0);
}
