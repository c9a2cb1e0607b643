/* tp_count: a bare TPACKET_V3 reader, the kernel's floor for the stock
 * capture path (bench/run.sh's "tpv3" and "tpv3-touch" rows; issue 15).
 *
 *   tp_count IF [--touch] [RING_KIB]
 *
 * What zcap's tpacket backend sets up, and nothing more: an AF_PACKET
 * socket in promiscuous mode with a TPACKET_V3 ring of RING_KIB (128 MiB
 * unless given, zcap's default) in 1 MiB blocks retired after 10 ms,
 * mapped with MAP_POPULATE; no socket filter. It walks each block the
 * kernel hands over, counts its packets and gives it back. With --touch it
 * also reads every byte of every packet (a sum the compiler cannot drop):
 * the floor for a reader that looks at the data.
 *
 * On SIGINT/SIGTERM it goes on taking blocks until none comes for 50 ms
 * (at most 1 s: what the kernel had already accepted), then prints on
 * stderr
 *   tp_count: captured=N drop_ring_full=N sum=N
 * and "listening on IF" once the ring is bound.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BLOCK (1u << 20)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

/* every byte, 8 at a time */
static inline uint64_t touch(const uint8_t *p, uint32_t n)
{
	uint64_t s = 0, w;

	for (; n >= 8; n -= 8, p += 8) {
		memcpy(&w, p, 8);
		s += w;
	}
	while (n--)
		s += *p++;
	return s;
}

static int die(const char *what)
{
	fprintf(stderr, "tp_count: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	unsigned long long captured = 0, sum = 0, ring = 128ull << 20, drain_until = 0;
	struct tpacket_req3 req = { 0 };
	struct packet_mreq mr = { 0 };
	struct sockaddr_ll sll = { 0 };
	struct tpacket_stats_v3 ks;
	socklen_t kl = sizeof(ks);
	int ver = TPACKET_V3, do_touch = 0, fd, ifindex;
	uint32_t next = 0, nblocks;
	struct sigaction sa;
	uint8_t *map;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--touch"))
			do_touch = 1;
		else
			ring = strtoull(argv[i], NULL, 10) << 10;
	}
	if (argc < 2 || ring < 4 * BLOCK) {
		fprintf(stderr, "usage: tp_count IF [--touch] [RING_KIB >= 4096]\n");
		return 2;
	}
	ifindex = (int)if_nametoindex(argv[1]);
	if (!ifindex)
		return die(argv[1]);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		return die("socket");
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)))
		return die("PACKET_VERSION");
	nblocks = (uint32_t)(ring / BLOCK);
	req.tp_block_size = BLOCK;
	req.tp_block_nr = nblocks;
	req.tp_frame_size = 2048;
	req.tp_frame_nr = nblocks * (BLOCK / 2048);
	req.tp_retire_blk_tov = 10;
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)))
		return die("PACKET_RX_RING");
	map = mmap(NULL, (size_t)nblocks * BLOCK, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_POPULATE, fd, 0);
	if (map == MAP_FAILED)
		return die("mmap");
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		return die("bind");
	mr.mr_ifindex = ifindex;
	mr.mr_type = PACKET_MR_PROMISC;
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)))
		return die("PACKET_MR_PROMISC");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "tp_count: listening on %s, ring %llu KiB%s\n", argv[1], ring >> 10,
		do_touch ? ", touching every byte" : "");

	for (;;) {
		struct tpacket_block_desc *b = (void *)(map + (size_t)next * BLOCK);

		if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		      TP_STATUS_USER)) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			if (stop && !drain_until)
				drain_until = now_ms() + 1000;
			if (drain_until && (now_ms() > drain_until ||
					    poll(&pfd, 1, 50) == 0))
				break;
			if (!drain_until)
				poll(&pfd, 1, 100);
			continue;
		}
		uint32_t n = b->hdr.bh1.num_pkts;
		struct tpacket3_hdr *h = (void *)((uint8_t *)b + b->hdr.bh1.offset_to_first_pkt);

		captured += n;
		if (do_touch)
			for (uint32_t i = 0; i < n; i++) {
				sum += touch((uint8_t *)h + h->tp_mac, h->tp_snaplen);
				h = (void *)((uint8_t *)h + h->tp_next_offset);
			}
		__atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		next = next + 1 == nblocks ? 0 : next + 1;
	}
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &ks, &kl))
		return die("PACKET_STATISTICS");
	fprintf(stderr, "tp_count: captured=%llu drop_ring_full=%u sum=%llu\n", captured,
		ks.tp_drops, sum);
	return 0;
}
