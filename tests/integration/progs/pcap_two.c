/* SPDX-License-Identifier: MIT */
/*
 * A plain libpcap program (it knows nothing of zcap) that captures on two
 * interfaces at once, as test_zcap_run_apps.sh runs it under zcap-run:
 *
 *   pcap_two IF1 FILE1 N1 IF2 FILE2 N2
 *
 * Two live handles (pcap_create, a 100 ms timeout, non-blocking), one
 * poll() on both selectable fds, and each handle's packets written to its
 * own file through pcap_dump_open on that live handle. A handle is read
 * only when poll() says its fd is readable. Prints "ready" once both are
 * active, and at the end one line: "got1=N got2=N polls=N empty=N recv1=N
 * drop1=N recv2=N drop2=N", where empty counts reads after a wake-up that
 * returned no packet, and the others are each handle's pcap_stats. Stops when
 * both counts are reached (exit 0; what is readable within 300 ms more is
 * still written), on SIGINT/SIGTERM, or after 10 s without reaching them
 * (exit 1).
 */
#include <errno.h>
#include <poll.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct side {
	const char *dev, *file;
	long want, got;
	pcap_t *p;
	pcap_dumper_t *d;
};

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void cb(u_char *u, const struct pcap_pkthdr *h, const u_char *data)
{
	struct side *s = (struct side *)u;

	pcap_dump((u_char *)s->d, h, data);
	s->got++;
}

static int open_side(struct side *s)
{
	char eb[PCAP_ERRBUF_SIZE];

	s->p = pcap_create(s->dev, eb);
	if (!s->p) {
		fprintf(stderr, "pcap_create %s: %s\n", s->dev, eb);
		return -1;
	}
	/* not immediate mode: libpcap's ring then fills its blocks whole,
	 * and its 2 MiB hold every frame the test sends */
	if (pcap_set_snaplen(s->p, 65535) || pcap_set_promisc(s->p, 1) ||
	    pcap_set_timeout(s->p, 100)) {
		fprintf(stderr, "pcap_set_* %s: %s\n", s->dev, pcap_geterr(s->p));
		return -1;
	}
	int rc = pcap_activate(s->p);
	if (rc < 0) {
		fprintf(stderr, "pcap_activate %s: %d %s\n", s->dev, rc, pcap_geterr(s->p));
		return -1;
	}
	if (pcap_setnonblock(s->p, 1, eb) < 0) {
		fprintf(stderr, "pcap_setnonblock %s: %s\n", s->dev, eb);
		return -1;
	}
	s->d = pcap_dump_open(s->p, s->file);
	if (!s->d) {
		fprintf(stderr, "pcap_dump_open %s: %s\n", s->file, pcap_geterr(s->p));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct side sd[2];
	struct pollfd pfd[2];
	long polls = 0, empty = 0;
	int rc = 1;

	if (argc != 7) {
		fprintf(stderr, "usage: pcap_two IF1 FILE1 N1 IF2 FILE2 N2\n");
		return 2;
	}
	memset(sd, 0, sizeof(sd));
	for (int i = 0; i < 2; i++) {
		sd[i].dev = argv[1 + 3 * i];
		sd[i].file = argv[2 + 3 * i];
		sd[i].want = atol(argv[3 + 3 * i]);
		if (open_side(&sd[i]) < 0)
			return 1;
		pfd[i].fd = pcap_get_selectable_fd(sd[i].p);
		pfd[i].events = POLLIN;
		if (pfd[i].fd < 0) {
			fprintf(stderr, "%s: no selectable fd\n", sd[i].dev);
			return 1;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("ready\n");
	fflush(stdout);

	time_t end = time(NULL) + 10;
	while (!stop && (sd[0].got < sd[0].want || sd[1].got < sd[1].want)) {
		if (time(NULL) > end)
			break;
		int n = poll(pfd, 2, 200);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			break;
		}
		polls++;
		for (int i = 0; i < 2; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			int r = pcap_dispatch(sd[i].p, -1, cb, (u_char *)&sd[i]);
			if (r < 0) {
				fprintf(stderr, "pcap_dispatch %s: %s\n", sd[i].dev,
					pcap_geterr(sd[i].p));
				stop = 1;
			} else if (r == 0) {
				empty++;
			}
		}
	}
	if (sd[0].got >= sd[0].want && sd[1].got >= sd[1].want) {
		rc = 0;
		/* what arrives late goes into the files too, so that a frame
		 * that crossed over to the wrong handle shows there */
		if (poll(pfd, 2, 300) > 0)
			for (int i = 0; i < 2; i++)
				if (pfd[i].revents & POLLIN)
					pcap_dispatch(sd[i].p, -1, cb, (u_char *)&sd[i]);
	}
	struct pcap_stat st[2];
	memset(st, 0, sizeof(st));
	for (int i = 0; i < 2; i++)
		pcap_stats(sd[i].p, &st[i]);
	printf("got1=%ld got2=%ld polls=%ld empty=%ld recv1=%u drop1=%u recv2=%u drop2=%u\n",
	       sd[0].got, sd[1].got, polls, empty, st[0].ps_recv, st[0].ps_drop,
	       st[1].ps_recv, st[1].ps_drop);
	for (int i = 0; i < 2; i++) {
		pcap_dump_close(sd[i].d);
		pcap_close(sd[i].p);
	}
	return rc;
}
