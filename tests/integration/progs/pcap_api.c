/* SPDX-License-Identifier: MIT */
/*
 * A plain libpcap program (it knows nothing of zcap) for the API edges
 * test_zcap_run.sh runs under zcap-run: pcap_api MODE IFNAME [N]
 *   nonblock N   pcap_setnonblock, then pcap_next_ex until N packets:
 *                prints got=N and timeouts=T (returns of 0 before the first)
 *   select N     select() on pcap_get_selectable_fd: first with nothing sent
 *                (prints idle=0 when it timed out), then dispatch until N
 *   breakloop    pcap_loop(-1) ended by pcap_breakloop from SIGALRM: loop=-2;
 *                then, non-blocking, a pcap_dispatch with nothing to read:
 *                after=0 (a blocking one would wait for a packet, as
 *                libpcap's TPACKET_V3 reader does)
 *   idle         a blocking pcap_dispatch (100 ms timeout) with nothing
 *                sent: prints idle=R if it returns (libpcap's TPACKET_V3
 *                reader does not: its timer starts with the first packet)
 *   breakfirst   pcap_breakloop before each of pcap_loop, pcap_dispatch and
 *                pcap_next_ex, with no traffic: each returns -2 at once
 *   stats N      reads nothing for 2 s, then pcap_stats: recv=, drop=
 *   inject N     pcap_inject and pcap_sendpacket N times each a 60-byte
 *                frame: injected=2N
 *   vinject N    the same with an 802.1Q tag (VLAN 100.., priority 5)
 *   dump FILE N  pcap_dump_open on the live handle, pcap_loop N: dumped=N
 *   refilter     reads nothing for 3 s (the ring fills, no filter), then
 *                pcap_setfilter "dst host 198.18.0.3" and reads, non-blocking,
 *                until 1 s passes with nothing:
 *                got=N wrong=W (W: handed out with another destination)
 *   stall        a 1 MiB buffer and "dst host 198.18.0.3" from the start;
 *                reads, non-blocking, until 1 s passes with nothing after
 *                the first packet (10 s at most): got=N wrong=W
 *   rejectall    a 64 KiB buffer and a filter nothing matches, reads
 *                nothing for 3 s, then pcap_stats: recv=, drop=, ifdrop=
 *   errors       calls that must fail as libpcap fails: prints each result
 * Exit 0, or 1 with the failing call's pcap_geterr on stderr.
 */
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

static pcap_t *p;
static void on_alarm(int sig) { (void)sig; pcap_breakloop(p); }
static int count;
static void cb(u_char *u, const struct pcap_pkthdr *h, const u_char *d)
{
	(void)h; (void)d;
	if (u)
		pcap_dump(u, h, d);
	count++;
}
static int wrong;
static void cb_dst3(u_char *u, const struct pcap_pkthdr *h, const u_char *d)
{
	static const u_char want[4] = { 198, 18, 0, 3 };
	(void)u;
	/* Ethernet + IPv4: the destination address is at 30 */
	if (h->caplen < 34 || memcmp(d + 30, want, 4) != 0)
		wrong++;
	count++;
}
static int set_filter(const char *expr)
{
	struct bpf_program bp;
	if (pcap_compile(p, &bp, expr, 1, PCAP_NETMASK_UNKNOWN) < 0)
		return -1;
	int r = pcap_setfilter(p, &bp);
	pcap_freecode(&bp);
	return r;
}
static int fail(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, pcap_geterr(p));
	return 1;
}

/*
 * Non-blocking reads (libpcap's own TPACKET_V3 read never times out while
 * nothing comes) until 1 s passes with nothing, once `wait` rounds of
 * 100 ms have passed or a packet came; then got= and wrong=.
 */
static int read_idle(int wait)
{
	for (int idle = 0, round = 0; idle < 10; round++) {
		int r = pcap_dispatch(p, -1, cb_dst3, NULL);
		if (r < 0)
			return fail("dispatch");
		if (r)
			idle = 0;
		else if (count || round >= wait)
			idle++;
		if (!r)
			usleep(100000);
	}
	printf("got=%d wrong=%d\n", count, wrong);
	pcap_close(p);
	return 0;
}

/* Reads nothing for 3 s while the test sends, then the counters. */
static int stalled_stats(void)
{
	struct pcap_stat st;
	printf("ready\n");
	fflush(stdout);
	sleep(3);
	if (pcap_stats(p, &st) < 0)
		return fail("stats");
	printf("recv=%u drop=%u ifdrop=%u\n", st.ps_recv, st.ps_drop, st.ps_ifdrop);
	pcap_close(p);
	return 0;
}

int main(int argc, char **argv)
{
	char eb[PCAP_ERRBUF_SIZE];
	if (argc < 3)
		return 2;
	const char *mode = argv[1];
	int n = argc > 3 ? atoi(argv[argc - 1]) : 0;
	if (strcmp(mode, "errors") == 0) {
		p = pcap_create(argv[2], eb);
		if (!p)
			return 1;
		struct pcap_stat st;
		printf("stats_before_activate=%d\n", pcap_stats(p, &st));
		printf("datalink_before_activate=%d\n", pcap_datalink(p));
		printf("precision_bad=%d\n", pcap_set_tstamp_precision(p, 7));
		if (pcap_activate(p) != 0)
			return fail("activate");
		printf("activate_again=%d\n", pcap_activate(p));
		printf("set_snaplen_after=%d\n", pcap_set_snaplen(p, 100));
		struct bpf_program bp;
		printf("compile_bad=%d\n", pcap_compile(p, &bp, "no such syntax (", 1, 0));
		printf("geterr_nonempty=%d\n", pcap_geterr(p)[0] != 0);
		printf("file=%s swapped=%d datalink=%d\n", pcap_file(p) ? "set" : "NULL",
		       pcap_is_swapped(p), pcap_datalink(p));
		int *dl, ndl = pcap_list_datalinks(p, &dl);
		printf("datalinks=%d:", ndl);
		for (int i = 0; i < ndl; i++)
			printf(" %d", dl[i]);
		printf("\n");
		if (ndl > 0)
			pcap_free_datalinks(dl);
		int r = pcap_set_datalink(p, DLT_DOCSIS);
		printf("set_datalink_docsis=%d datalink=%d\n", r, pcap_datalink(p));
		r = pcap_set_datalink(p, DLT_RAW);
		printf("set_datalink_raw=%d err=%s\n", r, pcap_geterr(p));
		r = pcap_set_datalink(p, DLT_EN10MB);
		printf("set_datalink_ether=%d datalink=%d\n", r, pcap_datalink(p));
		pcap_close(p);
		return 0;
	}
	if (strcmp(mode, "stall") == 0) {
		p = pcap_create(argv[2], eb);
		if (!p || pcap_set_buffer_size(p, 1 << 20) || pcap_set_timeout(p, 100))
			return 1;
		if (pcap_activate(p) < 0)
			return fail("activate");
		if (set_filter("dst host 198.18.0.3") < 0 || pcap_setnonblock(p, 1, eb) < 0)
			return fail("setfilter");
		printf("ready\n");
		fflush(stdout);
		return read_idle(100);
	}
	if (strcmp(mode, "rejectall") == 0) {
		p = pcap_create(argv[2], eb);
		if (!p || pcap_set_buffer_size(p, 65536) || pcap_set_timeout(p, 100))
			return 1;
		if (pcap_activate(p) < 0)
			return fail("activate");
		if (set_filter("dst host 203.0.113.9") < 0)
			return fail("setfilter");
		return stalled_stats();
	}
	p = pcap_open_live(argv[2], 262144, 1, 100, eb);
	if (!p) {
		fprintf(stderr, "open: %s\n", eb);
		return 1;
	}
	if (strcmp(mode, "nonblock") == 0) {
		if (pcap_setnonblock(p, 1, eb) < 0 || pcap_getnonblock(p, eb) != 1)
			return fail("nonblock");
		int got = 0, timeouts = 0, r;
		struct pcap_pkthdr *h;
		const u_char *d;
		/* 10 s at most */
		for (int i = 0; got < n && i < 100000; i++) {
			r = pcap_next_ex(p, &h, &d);
			if (r < 0)
				return fail("next_ex");
			if (r == 0) {
				if (!got)
					timeouts++;
				usleep(100);
				continue;
			}
			got++;
		}
		printf("got=%d timeouts=%d\n", got, timeouts);
	} else if (strcmp(mode, "select") == 0) {
		int fd = pcap_get_selectable_fd(p);
		if (fd < 0 || fd != pcap_fileno(p))
			return fail("fd");
		fd_set rs;
		FD_ZERO(&rs);
		FD_SET(fd, &rs);
		struct timeval tv = { 0, 300000 };
		printf("idle=%d\n", select(fd + 1, &rs, NULL, NULL, &tv));
		fflush(stdout);
		while (count < n) {
			FD_ZERO(&rs);
			FD_SET(fd, &rs);
			struct timeval t2 = { 10, 0 };
			if (select(fd + 1, &rs, NULL, NULL, &t2) <= 0)
				break;
			if (pcap_dispatch(p, -1, cb, NULL) < 0)
				return fail("dispatch");
		}
		printf("selected=%d\n", count);
	} else if (strcmp(mode, "breakloop") == 0) {
		signal(SIGALRM, on_alarm);
		alarm(1);
		printf("loop=%d\n", pcap_loop(p, -1, cb, NULL));
		/* the break is consumed: the next read finds nothing (0), no -2 */
		if (pcap_setnonblock(p, 1, eb) < 0)
			return fail("nonblock");
		printf("after=%d\n", pcap_dispatch(p, -1, cb, NULL));
	} else if (strcmp(mode, "idle") == 0) {
		printf("idle=%d\n", pcap_dispatch(p, -1, cb, NULL));
	} else if (strcmp(mode, "breakfirst") == 0) {
		struct pcap_pkthdr *h;
		const u_char *d;
		pcap_breakloop(p);
		printf("loop=%d\n", pcap_loop(p, -1, cb, NULL));
		pcap_breakloop(p);
		printf("dispatch=%d\n", pcap_dispatch(p, -1, cb, NULL));
		pcap_breakloop(p);
		printf("next_ex=%d\n", pcap_next_ex(p, &h, &d));
	} else if (strcmp(mode, "stats") == 0) {
		return stalled_stats();
	} else if (strcmp(mode, "refilter") == 0) {
		printf("ready\n");
		fflush(stdout);
		sleep(3);
		if (set_filter("dst host 198.18.0.3") < 0)
			return fail("setfilter");
		if (pcap_setnonblock(p, 1, eb) < 0)
			return fail("nonblock");
		return read_idle(0);
	} else if (strcmp(mode, "inject") == 0 || strcmp(mode, "vinject") == 0) {
		/* vinject: 802.1Q, VLAN 100 + i, priority 5, then the same */
		u_char f[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x88, 0xb5 };
		int vlan = mode[0] == 'v', len = vlan ? 64 : 60, ok = 0;
		if (vlan) {
			memmove(f + 16, f + 12, 2);
			f[12] = 0x81;
			f[13] = 0x00;
		}
		for (int i = 0; i < n; i++) {
			if (vlan) {
				f[14] = (u_char)(0xa0 | ((100 + i) >> 8));
				f[15] = (u_char)(100 + i);
			}
			f[20 + 4 * vlan] = (u_char)i;
			if (pcap_inject(p, f, len) != len)
				return fail("inject");
			if (pcap_sendpacket(p, f, len) != 0)
				return fail("sendpacket");
			ok += 2;
		}
		sleep(1);
		printf("injected=%d\n", ok);
	} else if (strcmp(mode, "dump") == 0) {
		pcap_dumper_t *d = pcap_dump_open(p, argv[3]);
		if (!d)
			return fail("dump_open");
		printf("ready\n");
		fflush(stdout);
		if (pcap_loop(p, n, cb, (u_char *)d) < 0)
			return fail("loop");
		pcap_dump_close(d);
		printf("dumped=%d\n", count);
	} else {
		return 2;
	}
	pcap_close(p);
	return 0;
}
