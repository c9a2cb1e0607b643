// SPDX-License-Identifier: MIT
/*
 * pfzc_unreg: a device with many sockets bound goes away (issue 13,
 * defect 2), for the VM tests (tests/vm/guest/73-pfzc-unregister.sh).
 *
 *   pfzc_unreg DEV PEER N     DEV and PEER: a veth pair; N: sockets to bind
 *
 * N sockets bound to DEV in recvmsg mode, each with one frame queued, and a
 * few with an rx ring that a thread floods through PEER, then `ip link del
 * DEV` while the flood runs. The notifier must unhook them all without a
 * grace period each: under RTNL, thousands of those held every network
 * configuration on the host for seconds. What is counted is the grace-period
 * waits during the deletion (kprobes; the core itself makes a few): at most SYNC_MAX, where one per socket made N. The time is shown,
 * not judged. Then every socket must say ENETDOWN, the queued frames must
 * still read back whole (the skbs outlive their device: they keep no
 * pointer to it), and closing every socket must leave no kernel message
 * and nothing pinned.
 *
 * PFZC_FAMILY in the environment overrides the family (default 27).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pfzc_case.h"
#include "pfzc_test.h"

#define QUEUED_PROTO	0x88b5	/* the N sockets' protocol: one frame each */
#define FLOOD_PROTO	0x88b6	/* only the ring sockets (ETH_P_ALL) see it */
#define RING_SOCKS	4
#define RING_N		256
#define SYNC_MAX	16
#define TRACING		"/sys/kernel/tracing"
#define PROBE		"pfzc_unreg"

static atomic_bool flooding;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int put(const char *path, const char *v, int flags)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | flags);
	int rc;

	if (fd < 0)
		return -1;
	rc = write(fd, v, strlen(v)) == (ssize_t)strlen(v) ? 0 : -1;
	close(fd);
	return rc;
}

/*
 * Kprobes on the two grace-period waits synchronize_net() makes: the
 * expedited one under RTNL, the plain one elsewhere. synchronize_net()
 * itself is no place for a probe: it is inlined into dev_remove_pack().
 * NULL, or why there are none.
 */
static const char *const waits[] = { "synchronize_rcu_expedited", "synchronize_rcu" };

static const char *probe_setup(void)
{
	char def[128], path[256];
	struct stat st;

	if (stat(TRACING "/kprobe_events", &st) &&
	    mount("tracefs", TRACING, "tracefs", 0, NULL))
		return "no tracefs";
	for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
		snprintf(def, sizeof(def), "p:%s_%zu %s\n", PROBE, i, waits[i]);
		if (put(TRACING "/kprobe_events", def, O_APPEND))
			return "no kprobe events (CONFIG_KPROBE_EVENTS)";
		snprintf(path, sizeof(path), TRACING "/events/kprobes/%s_%zu/enable", PROBE, i);
		if (put(path, "1", 0))
			return "cannot enable the kprobe";
	}
	return NULL;
}

static void probe_remove(void)
{
	char def[128], path[256];

	for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
		snprintf(path, sizeof(path), TRACING "/events/kprobes/%s_%zu/enable", PROBE, i);
		put(path, "0", 0);
		snprintf(def, sizeof(def), "-:%s_%zu\n", PROBE, i);
		put(TRACING "/kprobe_events", def, O_APPEND);
	}
}

/* The probes' hits so far, from kprobe_profile ("name hits misses"). */
static long probe_hits(void)
{
	FILE *f = fopen(TRACING "/kprobe_profile", "r");
	char name[128];
	long hits, miss, v = 0;

	if (!f)
		return -1;
	while (fscanf(f, "%127s %ld %ld", name, &hits, &miss) == 3)
		if (!strncmp(name, PROBE "_", strlen(PROBE) + 1))
			v += hits;
	fclose(f);
	return v;
}

static int pfzc_socket(int proto)
{
	return socket(family, SOCK_RAW, htons(proto));
}

/* An AF_PACKET socket to send on ifindex. */
static int tx_socket(unsigned int ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = (int)ifindex };
	int s = socket(AF_PACKET, SOCK_RAW, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&sll, sizeof(sll)))
		die("AF_PACKET socket on the peer");
	return s;
}

/* A 64-byte frame of type proto, numbered seq. */
static void frame(uint8_t *f, uint16_t proto, uint32_t seq)
{
	memset(f, 0, 64);
	memset(f, 0xff, 6);			/* broadcast: veth takes it */
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x02", 6);
	f[12] = (uint8_t)(proto >> 8);
	f[13] = (uint8_t)proto;
	memcpy(f + 14, &seq, sizeof(seq));
}

static void *flood(void *arg)
{
	int s = *(int *)arg;
	uint8_t f[64];
	uint32_t seq = 0;

	/* until the device is gone: then send fails for good */
	while (atomic_load(&flooding)) {
		frame(f, FLOOD_PROTO, seq++);
		if (send(s, f, sizeof(f), 0) < 0 && errno != ENOBUFS && errno != EAGAIN)
			break;
	}
	return NULL;
}

/*
 * Reads socket s dry: the frames it had queued, and the errno it ended on.
 * The device's ENETDOWN comes once first, from sk_err, as on any datagram
 * socket (AF_PACKET's too); the queue, then ENETDOWN for good, follow.
 */
static int drain(int s, int *frames, bool *intact)
{
	uint8_t buf[128];
	bool told = false;

	for (;;) {
		ssize_t r = recv(s, buf, sizeof(buf), MSG_DONTWAIT);

		if (r < 0 && errno == ENETDOWN && !told) {
			told = true;
			continue;
		}
		if (r < 0)
			return errno;
		(*frames)++;
		if (r != 64 || buf[12] != (uint8_t)(QUEUED_PROTO >> 8) ||
		    buf[13] != (uint8_t)QUEUED_PROTO)
			*intact = false;
	}
}

int main(int argc, char **argv)
{
	int n, *socks, rs[RING_SOCKS], tx, e, err_n = 0, frames = 0, bad = 0;
	struct zsock rz[RING_SOCKS];
	unsigned int dev, peer;
	const char *why;
	bool intact = true;
	pthread_t th;
	double t0, t1;
	long h0, h1, p0;
	uint8_t f[64];
	char cmd[128];

	test_init();
	if (argc != 4 || (n = atoi(argv[3])) <= 0) {
		fprintf(stderr, "usage: pfzc_unreg DEV PEER N\n");
		return 2;
	}
	dev = if_nametoindex(argv[1]);
	peer = if_nametoindex(argv[2]);
	if (!dev || !peer)
		die("if_nametoindex");
	struct rlimit rl = { (rlim_t)n + 256, (rlim_t)n + 256 };
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("RLIMIT_NOFILE");
	socks = calloc((size_t)n, sizeof(*socks));
	if (!socks)
		die("calloc");
	p0 = watch_start();

	begin();
	for (int i = 0; i < n; i++) {
		socks[i] = pfzc_socket(QUEUED_PROTO);
		if (socks[i] < 0 || bind_to(socks[i], dev))
			die("socket and bind");
	}
	for (int i = 0; i < RING_SOCKS; i++) {
		zsock_open(&rz[i], RING_N, RING_N, 0, dev);
		rs[i] = rz[i].fd;
	}
	end(true, "%d sockets bound to %s, and %d with an rx ring", n, argv[1], RING_SOCKS);

	/* one frame for each of the n sockets, read back after the device is gone */
	tx = tx_socket(peer);
	frame(f, QUEUED_PROTO, 0);
	if (send(tx, f, sizeof(f), 0) != sizeof(f))
		die("send");
	struct pollfd pf = { .fd = socks[n - 1], .events = POLLIN };
	if (poll(&pf, 1, 10000) != 1)
		die("the frame did not reach the last socket");

	why = probe_setup();
	if (why)
		printf("# no count of grace-period waits: %s\n", why);
	atomic_store(&flooding, true);
	if (pthread_create(&th, NULL, flood, &tx))
		die("pthread_create");
	usleep(200000);

	begin();
	h0 = why ? -1 : probe_hits();
	snprintf(cmd, sizeof(cmd), "ip link del %s", argv[1]);
	t0 = now_ms();
	e = system(cmd);
	t1 = now_ms();
	h1 = why ? -1 : probe_hits();
	atomic_store(&flooding, false);
	pthread_join(th, NULL);
	printf("# ip link del %s with %d sockets bound: %.0f ms, grace-period waits %ld\n",
	       argv[1], n + RING_SOCKS, t1 - t0, h1 - h0);
	end(e == 0, "ip link del %s while %d sockets are bound and a flood runs", argv[1],
	    n + RING_SOCKS);
	if (why) {
		tap(true, "at most %d grace-period waits for the deletion # SKIP %s", SYNC_MAX, why);
	} else {
		begin();
		end(h0 >= 0 && h1 - h0 <= SYNC_MAX,
		    "at most %d grace-period waits for the deletion, not one per socket: %ld",
		    SYNC_MAX, h1 - h0);
		probe_remove();
	}

	begin();
	for (int i = 0; i < n; i++) {
		int got = 0;

		if (drain(socks[i], &got, &intact) == ENETDOWN)
			err_n++;
		frames += got;
		bad += got != 1;
	}
	end(err_n == n, "every recvmsg socket ends in ENETDOWN: %d of %d", err_n, n);
	begin();
	end(bad == 0 && intact, "its queued frame reads back whole after the device went: "
	    "%d frames in %d sockets, %d sockets without exactly one", frames, n, bad);

	begin();
	err_n = 0;
	for (int i = 0; i < RING_SOCKS; i++) {
		int so = 0;
		socklen_t len = sizeof(so);

		getsockopt(rs[i], SOL_SOCKET, SO_ERROR, &so, &len);
		err_n += so == ENETDOWN;
		printf("# ring socket %d: %u frames produced\n", i,
		       __atomic_load_n(rz[i].rx.producer, __ATOMIC_ACQUIRE));
	}
	end(err_n == RING_SOCKS, "every ring socket has ENETDOWN: %d of %d", err_n, RING_SOCKS);

	begin();
	t0 = now_ms();
	for (int i = 0; i < n; i++)
		close(socks[i]);
	for (int i = 0; i < RING_SOCKS; i++)
		zsock_close(&rz[i]);
	close(tx);
	t1 = now_ms();
	end(true, "closed %d sockets in %.0f ms", n + RING_SOCKS, t1 - t0);
	free(socks);
	return watch_end(p0);
}
