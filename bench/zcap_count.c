/* zcap_count: libzcap's capture loop with nothing done per packet, the
 * counterpart of pcap_count.c (bench/run.sh's "zcap-count" row).
 *
 *   zcap_count IF [RING_KIB]
 *
 * Opens IF with libzcap's defaults (backend auto, 128 MiB ring unless
 * RING_KIB is given), takes batches of 256 with zcap_recv, counts them and
 * releases them. It stops the way zcap does: on SIGINT/SIGTERM it freezes
 * the ring (no new packets), counts what the kernel had already accepted
 * (for up to one second), then prints on stderr:
 *   zcap_count: captured=N drop_ring_full=N drop_if=N pending=N
 * "listening on IF" goes to stderr once the handle is open.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zcap.h"

#define BATCH 256
#define DRAIN_MS 1000

static zcap_t *h;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
	if (h)
		zcap_breakloop(h);
}

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	static struct zcap_pkt pkts[BATCH];
	char err[ZCAP_ERRBUF_SIZE];
	unsigned long long captured = 0, drain_until = 0;
	struct sigaction sa;
	int n;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: zcap_count IF [RING_KIB]\n");
		return 2;
	}
	ZCAP_DECLARE(zcap_opts, opts);
	if (argc == 3)
		opts.ring_bytes = strtoull(argv[2], NULL, 10) << 10;
	h = zcap_open(argv[1], &opts, err);
	if (!h) {
		fprintf(stderr, "zcap_count: %s\n", err);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "zcap_count: listening on %s, backend %s, ring %llu KiB\n", argv[1],
		zcap_backend_name(h), (unsigned long long)(zcap_ring_bytes(h) >> 10));
	for (;;) {
		n = zcap_recv(h, pkts, BATCH, drain_until ? 50 : 100);
		if (n > 0) {
			captured += (unsigned int)n;
			zcap_release(h);
		} else if (n == ZCAP_ERROR) {
			fprintf(stderr, "zcap_count: %s\n", zcap_geterr(h));
			return 1;
		} else if (n == ZCAP_BREAK || (stop && !drain_until)) {
			if (zcap_freeze(h))
				fprintf(stderr, "zcap_count: %s\n", zcap_geterr(h));
			drain_until = now_ms() + DRAIN_MS;
		} else if (drain_until) {
			break;	/* the ring is empty */
		}
		if (drain_until && now_ms() > drain_until)
			break;
	}
	ZCAP_DECLARE(zcap_stats, st);
	zcap_stats(h, &st);
	fprintf(stderr, "zcap_count: captured=%llu drop_ring_full=%llu drop_if=%llu pending=%llu\n",
		captured, (unsigned long long)st.drop_ring_full, (unsigned long long)st.drop_if,
		(unsigned long long)st.pending);
	zcap_close(h);
	return 0;
}
