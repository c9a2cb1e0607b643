// SPDX-License-Identifier: MIT
/*
 * pfzc_policy: what a PF_ZEROCOPY socket may do, and to which device, for
 * the VM tests (tests/vm/guest/71-pfzc-policy.sh; issue 13, defects 3 to
 * 6). Prints TAP lines; exits 1 if one failed.
 *
 *   pfzc_policy caps RXIF TXIF
 *	direct receive on RXIF (a zcN device; TXIF its peer) takes
 *	CAP_NET_ADMIN: with CAP_NET_RAW alone the socket only observes and
 *	the stack still gets every frame
 *   pfzc_policy ether IF PEER [NONETH...]
 *	bind refuses every link but plain Ethernet: each NONETH interface
 *	("tun": a TUN device made here); on IF (PEER its peer) frames of 0
 *	to 13 bytes are refused from sendmsg and from the tx ring, and none
 *	is sent
 *   pfzc_policy filter-race RXIF TXIF SECONDS ring|packet
 *	a reject-all classic filter and a reject-all eBPF one swapped over
 *	and over on RXIF's direct receiver while TXIF sends from a tx ring
 *	(ring) or AF_PACKET (packet): nothing may be captured
 *   pfzc_policy afrace STOPFILE
 *	socket(PF_ZEROCOPY) over and over until STOPFILE exists: while
 *	insmod with a bad parameter fails, none may be made
 *   pfzc_policy nofamily
 *	socket(PF_ZEROCOPY) fails EAFNOSUPPORT: the family is not registered
 *
 * PFZC_FAMILY in the environment overrides the family (default 27).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pfzc_ring.h"

#include "pfzc_case.h"
#include "pfzc_test.h"

#define ETYPE		0x88b5		/* local experimental */

static const uint32_t fs = PFZC_FRAME_SIZE;
/* the source MAC of every frame sent here: 02:7a:63:70:6f:NN */
static const uint8_t src_mark[5] = { 0x02, 0x7a, 0x63, 0x70, 0x6f };

static unsigned int ifindex_of(const char *name)
{
	unsigned int i = if_nametoindex(name);

	if (!i) {
		printf("not ok - interface %s exists\n", name);
		exit(1);
	}
	return i;
}

/* /sys/class/net/IF/FILE as a number, or -1 */
static long long sysfs_num(const char *ifn, const char *file)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifn, file);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);	/* best effort */
}

/* ---- sockets ------------------------------------------------------------ */

/* The "direct" column of fd's line in /proc/net/pf_zerocopy, or -1. */
static int proc_direct(int fd)
{
	unsigned long ino, v;
	struct stat st;
	char line[512], name[32];
	unsigned long long c[4];
	unsigned int rxn, txn;
	int ifi, direct, found = -1;
	FILE *f;

	if (fstat(fd, &st))
		return -1;
	ino = (unsigned long)st.st_ino;
	f = fopen("/proc/net/pf_zerocopy", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lu %d %31s %u %u %llu %llu %llu %llu %d", &v,
			   &ifi, name, &rxn, &txn, &c[0], &c[1], &c[2], &c[3],
			   &direct) == 10 && v == ino)
			found = direct;
	}
	fclose(f);
	return found;
}

/* dst broadcast, src 02:7a:63:70:6f:n, EtherType ETYPE; len may be < 14 */
static void frame_fill(uint8_t *f, size_t len, uint8_t n)
{
	uint8_t h[ETH_HLEN];

	memset(h, 0xff, 6);
	memcpy(h + 6, src_mark, 5);
	h[11] = n;
	h[12] = ETYPE >> 8;
	h[13] = ETYPE & 0xff;
	memset(f, 0, len);
	memcpy(f, h, len < ETH_HLEN ? len : ETH_HLEN);
}

/* ---- AF_PACKET: a sender, and a witness of what the stack receives ------ */

static int packet_socket(unsigned int idx)
{
	struct sockaddr_ll ll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = (int)idx,
	};
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));

	if (s < 0 || bind(s, (struct sockaddr *)&ll, sizeof(ll)))
		return -1;
	return s;
}

static int packet_send(int s, unsigned int idx, const uint8_t *f, size_t len)
{
	struct sockaddr_ll ll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETYPE),
		.sll_ifindex = (int)idx, .sll_halen = 6,
	};

	memset(ll.sll_addr, 0xff, 6);
	return (int)sendto(s, f, len, 0, (struct sockaddr *)&ll, sizeof(ll));
}

/* Our frames that s received (not sent), until it is quiet for quiet_ms. */
static int witness_count(int s, int quiet_ms)
{
	uint8_t b[2048];
	struct pollfd p = { s, POLLIN, 0 };
	int n = 0;

	while (poll(&p, 1, quiet_ms) == 1) {
		struct sockaddr_ll ll;
		socklen_t sl = sizeof(ll);
		ssize_t r = recvfrom(s, b, sizeof(b), 0, (struct sockaddr *)&ll, &sl);

		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			break;
		}
		if (ll.sll_pkttype != PACKET_OUTGOING && r >= ETH_HLEN &&
		    !memcmp(b + 6, src_mark, 5) &&
		    b[12] == (ETYPE >> 8) && b[13] == (ETYPE & 0xff))
			n++;
	}
	return n;
}

/* ---- caps: direct receive takes CAP_NET_ADMIN (defect 3) ---------------- */

#define CAPS_N	16

enum { C_BIND, C_DIRECT, C_STACK, C_RX, C_PROD, C_MAX };

/*
 * In a child that has CAP_NET_RAW and, unless admin, not CAP_NET_ADMIN:
 * a socket with an rx ring bound to rxif, CAPS_N frames sent from txif;
 * reports the bind's errno, the direct column, how many frames an
 * AF_PACKET socket on rxif saw (those the stack received), rx_packets and
 * the rx ring's producer.
 */
static void caps_child(struct child *c, bool admin, unsigned int rxi,
		       unsigned int txi)
{
	struct pfzc_stats st;
	uint8_t f[60];
	struct zsock z;
	int w, ps;

	if (!admin &&
	    (prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN, 0, 0, 0) ||
	     cap_change(CAP_NET_ADMIN, CAP_EFF | CAP_PERM | CAP_INH, false) ||
	     cap_has(CAP_NET_ADMIN, CAP_EFF) == 1 ||
	     cap_has(CAP_NET_RAW, CAP_EFF) != 1)) {
		child_say(c, SETUP_FAILED);
		_exit(0);
	}
	zsock_open(&z, 128, 64, 0, 0);
	child_say(c, bind_to(z.fd, rxi) ? errno : 0);
	child_say(c, proc_direct(z.fd));
	w = packet_socket(rxi);
	ps = socket(AF_PACKET, SOCK_RAW, 0);
	if (w < 0 || ps < 0)
		_exit(0);
	witness_count(w, 0);		/* whatever came before */
	for (int i = 0; i < CAPS_N; i++) {
		frame_fill(f, sizeof(f), (uint8_t)i);
		if (packet_send(ps, txi, f, sizeof(f)) != sizeof(f))
			_exit(0);
	}
	child_say(c, witness_count(w, 500));
	get_stats(z.fd, &st);
	child_say(c, (int)st.rx_packets);
	child_say(c, (int)pfzc_load_acquire(z.rx.producer));
	_exit(0);
}

static void caps_case(bool admin, const char *rxif, const char *txif)
{
	const char *who = admin ? "CAP_NET_RAW and CAP_NET_ADMIN (control)"
				: "CAP_NET_RAW, not CAP_NET_ADMIN";
	unsigned int rxi = ifindex_of(rxif), txi = ifindex_of(txif);
	int v[C_MAX], want_stack = admin ? 0 : CAPS_N;
	struct child c;

	child_start(&c);
	if (c.pid == 0)
		caps_child(&c, admin, rxi, txi);
	child_finish(&c, v, C_MAX);
	if (v[C_BIND] == SETUP_FAILED) {
		tap(false, "%s: could not set up the child", who);
		return;
	}
	result(v[C_BIND] ? -1 : 0, v[C_BIND], 0,
	       "%s: bind a socket with an rx ring to %s", who, rxif);
	tap(v[C_DIRECT] == admin,
	    "%s: /proc/net/pf_zerocopy direct column %d (want %d)", who,
	    v[C_DIRECT], admin);
	tap(v[C_STACK] == want_stack,
	    "%s: the stack received %d of %d frames on %s (want %d)", who,
	    v[C_STACK], CAPS_N, rxif, want_stack);
	tap(v[C_RX] == CAPS_N && v[C_PROD] == CAPS_N,
	    "%s: the socket captured %d of %d (rx_packets), rx producer %d",
	    who, v[C_RX], CAPS_N, v[C_PROD]);
}

static int cmd_caps(char **argv)
{
	caps_case(false, argv[0], argv[1]);
	caps_case(true, argv[0], argv[1]);
	return 0;
}

/* ---- ether: plain Ethernet links only, no runt frames (defect 4) -------- */

static void noneth_case(const char *ifn)
{
	unsigned int idx = if_nametoindex(ifn);
	long long type = sysfs_num(ifn, "type");
	struct zsock z;
	int fd, rc;

	if (!idx) {
		tap(false, "interface %s exists", ifn);
		return;
	}
	fd = socket(family, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0)
		die("socket(PF_ZEROCOPY)");
	rc = bind_to(fd, idx);
	result(rc, errno, EINVAL,
	       "bind to %s (type %lld, hard_header_len not 14 or not Ethernet), no rings",
	       ifn, type);
	close(fd);
	zsock_open(&z, 128, 64, 64, 0);
	rc = bind_to(z.fd, idx);
	result(rc, errno, EINVAL,
	       "bind to %s (type %lld) with rx and tx rings", ifn, type);
	close(z.fd);
	munmap(z.umem, z.umem_len);
}

/* A TUN-mode device (no link-layer header at all), gone with its fd. */
static void tun_case(void)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int t = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (t < 0) {
		printf("ok - bind to a TUN device # SKIP /dev/net/tun: %s\n",
		       strerror(errno));
		return;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "zpt0");
	if (ioctl(t, TUNSETIFF, &ifr))
		die("TUNSETIFF");
	noneth_case(ifr.ifr_name);
	close(t);
}

static void ether_short(const char *ifn, const char *peer)
{
	unsigned int idx = ifindex_of(ifn), pidx = ifindex_of(peer);
	long long tx0 = sysfs_num(ifn, "statistics/tx_packets");
	struct pfzc_stats s0, s1;
	uint8_t f[64];
	char bad[256] = "";
	struct zsock z;
	uint32_t prod = 0, cons;
	int fd, w, rc, seen, len;

	w = packet_socket(pidx);
	if (w < 0)
		die("AF_PACKET witness");
	witness_count(w, 0);

	/* sendmsg, no rings */
	fd = socket(family, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0 || bind_to(fd, idx))
		die("socket and bind, no rings");
	for (len = 0; len < ETH_HLEN; len++) {
		frame_fill(f, len, (uint8_t)len);
		errno = 0;
		rc = (int)send(fd, f, len, 0);
		if (rc >= 0 || errno != EINVAL)
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad),
				 " %d:%s", len, rc >= 0 ? "sent" : ename(errno));
	}
	get_stats(fd, &s1);
	tap(!bad[0] && !s1.tx_packets && !s1.tx_errors,
	    "%s: sendmsg of 0 to 13 bytes: EINVAL each%s%s, tx_packets %llu, tx_errors %llu",
	    ifn, bad[0] ? ", got" : "", bad,
	    (unsigned long long)s1.tx_packets, (unsigned long long)s1.tx_errors);

	/* the tx ring: lengths 0 to 13, all in one kick */
	zsock_open(&z, 64, 0, 64, 0);
	if (bind_to(z.fd, idx))
		die("bind the tx ring socket");
	for (len = 0; len < ETH_HLEN; len++) {
		frame_fill(z.umem + (uint64_t)len * fs, len, (uint8_t)len);
		z.tx.desc[prod & z.tx.mask] = (struct pfzc_desc){
			.addr = (uint64_t)len * fs, .len = (uint32_t)len,
		};
		prod++;
	}
	get_stats(z.fd, &s0);
	pfzc_store_release(z.tx.producer, prod);
	errno = 0;
	rc = kick(z.fd);
	get_stats(z.fd, &s1);
	cons = pfzc_load_acquire(z.tx.consumer);
	tap(rc == 0 && s1.tx_invalid - s0.tx_invalid == ETH_HLEN &&
	    s1.tx_packets == s0.tx_packets && s1.tx_errors == s0.tx_errors &&
	    cons == prod,
	    "%s: tx ring descriptors of 0 to 13 bytes: kick %s, tx_invalid +%llu (want +14), tx_packets +%llu, slots handed back (%u/%u)",
	    ifn, rc == 0 ? "succeeds" : ename(errno),
	    (unsigned long long)(s1.tx_invalid - s0.tx_invalid),
	    (unsigned long long)(s1.tx_packets - s0.tx_packets), cons, prod);

	seen = witness_count(w, 300);
	tap(seen == 0 && sysfs_num(ifn, "statistics/tx_packets") == tx0,
	    "%s: none of them left (%s saw %d, %s tx_packets +%lld)", ifn,
	    peer, seen, ifn, sysfs_num(ifn, "statistics/tx_packets") - tx0);

	/* the control: 14 bytes, a bare header, go out both ways */
	frame_fill(f, ETH_HLEN, 0xe0);
	rc = (int)send(fd, f, ETH_HLEN, 0);
	result(rc, errno, 0, "%s: sendmsg of 14 bytes (control)", ifn);
	frame_fill(z.umem + 20 * fs, ETH_HLEN, 0xe1);
	z.tx.desc[prod & z.tx.mask] = (struct pfzc_desc){ .addr = 20 * fs, .len = ETH_HLEN };
	prod++;
	pfzc_store_release(z.tx.producer, prod);
	s0 = s1;
	rc = kick(z.fd);
	get_stats(z.fd, &s1);
	seen = witness_count(w, 500);
	tap(rc == 0 && s1.tx_packets - s0.tx_packets == 1 && seen == 2,
	    "%s: 14 bytes from sendmsg and from the tx ring arrive on %s (control): %d of 2",
	    ifn, peer, seen);

	close(fd);
	close(z.fd);
	munmap(z.umem, z.umem_len);
	close(w);
}

static int cmd_ether(int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "tun"))
			tun_case();
		else
			noneth_case(argv[i]);
	}
	ether_short(argv[0], argv[1]);
	return 0;
}

/* ---- filter-race: the filter is read once (defect 5) -------------------- */

struct toggler {
	int fd, progfd;
	volatile int stop;
	unsigned long swaps;
	int err;
};

static void *toggle_main(void *arg)
{
	struct toggler *t = arg;
	struct sock_filter reject = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog fp = { 1, &reject };

	pin_cpu(1);
	while (!t->stop) {
		if (setsockopt(t->fd, SOL_SOCKET, SO_ATTACH_BPF, &t->progfd,
			       sizeof(t->progfd)) ||
		    setsockopt(t->fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp,
			       sizeof(fp))) {
			t->err = errno;
			break;
		}
		t->swaps++;
	}
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Frames sent from a tx ring on txi for secs seconds: tx_packets. */
static unsigned long long send_ring(unsigned int txi, double secs)
{
	const uint32_t n = 512;
	struct pfzc_stats st;
	struct zsock z;
	uint32_t prod = 0;
	double end = now() + secs;

	zsock_open(&z, n, 0, n, 0);
	if (bind_to(z.fd, txi))
		die("bind the sender's tx ring");
	for (uint32_t i = 0; i < n; i++)
		frame_fill(z.umem + (uint64_t)i * fs, 60, (uint8_t)i);
	while (now() < end) {
		for (uint32_t i = 0; i < n; i++) {
			z.tx.desc[prod & z.tx.mask] = (struct pfzc_desc){
				.addr = (uint64_t)i * fs, .len = 60,
			};
			prod++;
		}
		pfzc_store_release(z.tx.producer, prod);
		if (kick(z.fd))
			die("tx kick");
	}
	get_stats(z.fd, &st);
	close(z.fd);
	munmap(z.umem, z.umem_len);
	return st.tx_packets;
}

/* Frames sent with AF_PACKET (sendmmsg, an skb each) for secs seconds. */
static unsigned long long send_packet(unsigned int txi, double secs)
{
	struct sockaddr_ll ll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETYPE),
		.sll_ifindex = (int)txi, .sll_halen = 6,
	};
	struct mmsghdr mm[64];
	struct iovec iov;
	uint8_t f[60];
	unsigned long long sent = 0;
	double end = now() + secs;
	int s = socket(AF_PACKET, SOCK_RAW, 0), r;

	if (s < 0)
		die("socket(AF_PACKET)");
	memset(ll.sll_addr, 0xff, 6);
	frame_fill(f, sizeof(f), 0);
	iov = (struct iovec){ f, sizeof(f) };
	memset(mm, 0, sizeof(mm));
	for (int i = 0; i < 64; i++) {
		mm[i].msg_hdr.msg_name = &ll;
		mm[i].msg_hdr.msg_namelen = sizeof(ll);
		mm[i].msg_hdr.msg_iov = &iov;
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	while (now() < end) {
		r = sendmmsg(s, mm, 64, 0);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN)
				continue;
			die("sendmmsg");
		}
		sent += (unsigned int)r;
	}
	close(s);
	return sent;
}

static int cmd_filter_race(char **argv)
{
	struct sock_filter reject = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog fp = { 1, &reject };
	unsigned int rxi = ifindex_of(argv[0]), txi = ifindex_of(argv[1]);
	double secs = atof(argv[2]);
	bool ring = !strcmp(argv[3], "ring");
	struct toggler t = { .progfd = -1 };
	unsigned long long sent;
	struct pfzc_stats st;
	struct zsock z;
	pthread_t th;
	uint32_t prod;

	t.progfd = ebpf_filter(0);
	if (t.progfd < 0)
		die("BPF_PROG_LOAD (a socket filter returning 0)");
	zsock_open(&z, 1024, 1024, 0, 0);
	/* rejecting from before the bind: no frame may ever pass */
	if (setsockopt(z.fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)))
		die("SO_ATTACH_FILTER");
	if (bind_to(z.fd, rxi))
		die("bind the receiver");
	tap(proc_direct(z.fd) == 1, "filter race (%s): %s's direct receiver is bound",
	    argv[3], argv[0]);
	t.fd = z.fd;

	pin_cpu(0);
	if (pthread_create(&th, NULL, toggle_main, &t))
		die("pthread_create");
	sent = ring ? send_ring(txi, secs) : send_packet(txi, secs);
	t.stop = 1;
	pthread_join(th, NULL);
	usleep(200000);		/* what a softirq still had */

	get_stats(z.fd, &st);
	prod = pfzc_load_acquire(z.rx.producer);
	printf("# filter race (%s): %llu frames sent in %.0f s, %lu filter swaps (cBPF -> eBPF -> cBPF), rx_filtered %llu\n",
	       argv[3], sent, secs, t.swaps, (unsigned long long)st.rx_filtered);
	tap(t.err == 0 && t.swaps > 0, "filter race (%s): the filters were swapped %lu times%s%s",
	    argv[3], t.swaps, t.err ? ", then " : "", t.err ? ename(t.err) : "");
	tap(sent > 0 && st.rx_packets == 0 && prod == 0 && st.rx_dropped_ring_full == 0,
	    "filter race (%s): nothing captured while reject-all filters were swapped: rx_packets %llu, ring_full %llu, rx producer %u, of %llu sent",
	    argv[3], (unsigned long long)st.rx_packets,
	    (unsigned long long)st.rx_dropped_ring_full, prod, sent);
	tap(st.rx_filtered == sent,
	    "filter race (%s): every frame met the filter: rx_filtered %llu of %llu sent",
	    argv[3], (unsigned long long)st.rx_filtered, sent);
	close(z.fd);
	close(t.progfd);
	return 0;
}

/* ---- afrace and nofamily: no socket outlives a failed insmod (defect 6) - */

static int cmd_afrace(const char *stop)
{
	unsigned long n = 0, made = 0, eaf = 0, other = 0;
	int other_e = 0, fd;

	pin_cpu(1);
	for (;;) {
		if (!(n & 63) && !access(stop, F_OK))
			break;
		fd = socket(family, SOCK_RAW, 0);
		n++;
		if (fd >= 0) {
			/* kept open: closing it is what would crash */
			if (!made++)
				printf("# socket %d of family %d made at attempt %lu\n",
				       fd, family, n);
			fflush(stdout);
		} else if (errno == EAFNOSUPPORT) {
			eaf++;
		} else {
			other++;
			other_e = errno;
		}
	}
	tap(made == 0 && other == 0 && eaf > 0,
	    "socket(%d) over and over while insmod failed: none made (%lu attempts: %lu EAFNOSUPPORT, %lu made, %lu other%s%s)",
	    family, n, eaf, made, other, other ? ", last " : "",
	    other ? ename(other_e) : "");
	return 0;
}

static int cmd_nofamily(void)
{
	int fd;

	errno = 0;
	fd = socket(family, SOCK_RAW, 0);
	result(fd, errno, EAFNOSUPPORT, "socket(%d) with the module not loaded", family);
	if (fd >= 0)
		close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	test_init();
	if (argc == 4 && !strcmp(argv[1], "caps"))
		cmd_caps(argv + 2);
	else if (argc >= 4 && !strcmp(argv[1], "ether"))
		cmd_ether(argc - 2, argv + 2);
	else if (argc == 6 && !strcmp(argv[1], "filter-race"))
		cmd_filter_race(argv + 2);
	else if (argc == 3 && !strcmp(argv[1], "afrace"))
		cmd_afrace(argv[2]);
	else if (argc == 2 && !strcmp(argv[1], "nofamily"))
		cmd_nofamily();
	else {
		fprintf(stderr, "usage: pfzc_policy caps RXIF TXIF | ether IF PEER [NONETH...] |\n"
			"       filter-race RXIF TXIF SECONDS ring|packet | afrace STOPFILE | nofamily\n");
		return 2;
	}
	return failures ? 1 : 0;
}
