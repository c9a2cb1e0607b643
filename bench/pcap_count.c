/* pcap_count: the minimal libpcap capture loop of the benchmark.
 *
 *   pcap_count IF [BUFFER_KIB]
 *
 * Opens IF in promiscuous mode with libpcap's defaults (snaplen 262144, the
 * default 2 MiB TPACKET_V3 ring; BUFFER_KIB sets the ring's size with
 * pcap_set_buffer_size, as tcpdump -B does), counts packets with pcap_dispatch until
 * SIGINT/SIGTERM, then prints on stderr:
 *   pcap_count: captured=N ps_recv=N ps_drop=N ps_ifdrop=N
 * "listening on IF" goes to stderr once the handle is active.
 */
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pcap_t *p;
static unsigned long long captured;

static void on_signal(int sig)
{
	(void)sig;
	if (p)
		pcap_breakloop(p);
}

static void count(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	(void)user; (void)h; (void)bytes;
	captured++;
}

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_stat st;
	struct sigaction sa;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: pcap_count IF [BUFFER_KIB]\n");
		return 2;
	}
	p = pcap_create(argv[1], err);
	if (!p) {
		fprintf(stderr, "pcap_count: %s\n", err);
		return 1;
	}
	pcap_set_promisc(p, 1);
	pcap_set_timeout(p, 100);
	if (argc == 3)
		pcap_set_buffer_size(p, atoi(argv[2]) * 1024);
	if (pcap_activate(p) < 0) {
		fprintf(stderr, "pcap_count: %s\n", pcap_geterr(p));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "pcap_count: listening on %s\n", argv[1]);
	for (;;) {
		int n = pcap_dispatch(p, -1, count, NULL);
		if (n == PCAP_ERROR_BREAK)
			break;
		if (n == PCAP_ERROR) {
			fprintf(stderr, "pcap_count: %s\n", pcap_geterr(p));
			return 1;
		}
	}
	memset(&st, 0, sizeof(st));
	pcap_stats(p, &st);
	fprintf(stderr, "pcap_count: captured=%llu ps_recv=%u ps_drop=%u ps_ifdrop=%u\n",
		captured, st.ps_recv, st.ps_drop, st.ps_ifdrop);
	pcap_close(p);
	return 0;
}
