/* SPDX-License-Identifier: MIT */
/*
 * Tests for the pcap/pcapng writer. Files are read back with libpcap (an
 * independent reader) and checked by tshark and capinfos, which are much
 * stricter than libpcap about pcapng option layout.
 */
#define _GNU_SOURCE	/* O_DIRECT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zcap.h"
#include "check.h"

#define SKIP(...)                                                             \
	do {                                                                  \
		printf("ok %d - # SKIP ", ++check_n);                         \
		printf(__VA_ARGS__);                                          \
		printf("\n");                                                 \
		fflush(stdout);                                               \
	} while (0)

#define NPKT 300
#define BIG_IDX 150
#define BIG_LEN 70000
#define SNAPLEN 262144
#define IFNAME "zcaptest0"
#define APPNAME "test_dump 1.2"

struct tpkt {
	uint8_t *data;
	uint32_t caplen;
	uint32_t len;
	uint64_t ts;
};

static char tmpdir[] = "/tmp/zcap-test-dump.XXXXXX";
static struct tpkt pkts[NPKT];
static const struct zcap_stats test_st = {
	.received = NPKT, .drop_ring_full = 7, .drop_if = 3, .filtered = 11,
};
static const uint64_t start_ns = 1700000000000000001ull;
static const uint64_t end_ns = 1700000099999999999ull;

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static void make_pkts(void)
{
	uint64_t ts = 1700000000123456789ull;
	int i;

	for (i = 0; i < NPKT; i++) {
		struct tpkt *p = &pkts[i];
		uint32_t j;

		/* First four cover every padding remainder. */
		p->caplen = i < 4 ? (uint32_t)i + 1 : 1 + rnd() % 1514;
		if (i == 4)
			p->caplen = 1514;
		if (i == BIG_IDX)
			p->caplen = BIG_LEN;
		p->len = p->caplen + (i % 7 == 0 ? 100 : 0);
		p->data = malloc(p->caplen);
		for (j = 0; j < p->caplen; j++)
			p->data[j] = (uint8_t)rnd();
		ts += 1 + rnd() % 2000000000u;
		p->ts = ts;
	}
}

static char *tpath(const char *name)
{
	static char buf[8][256];
	static int n;
	char *s = buf[n++ % 8];

	snprintf(s, sizeof(buf[0]), "%s/%s", tmpdir, name);
	return s;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	long n;

	*len = 0;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0) {
		rewind(f);
		s = malloc((size_t)n + 1);
		*len = fread(s, 1, (size_t)n, f);
		s[*len] = 0;
	}
	fclose(f);
	return s;
}

static int exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static off_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static void init_info(struct zcap_dump_info *info, int nsec, size_t bufsize)
{
	memset(info, 0, sizeof(*info));
	info->sz = sizeof(*info);
	info->ifname = IFNAME;
	info->linktype = DLT_EN10MB;
	info->snaplen = SNAPLEN;
	info->nsec = nsec;
	info->app = APPNAME;
	info->bufsize = bufsize;
}

static void to_zpkt(const struct tpkt *t, struct zcap_pkt *z)
{
	memset(z, 0, sizeof(*z));
	z->data = t->data;
	z->caplen = t->caplen;
	z->len = t->len;
	z->ts_ns = t->ts;
}

/* Writes all test packets. Returns 0 when every call succeeded. */
static int write_file(const char *path, enum zcap_format fmt, int nsec,
		      size_t bufsize, uint64_t *bytes)
{
	char errbuf[ZCAP_ERRBUF_SIZE] = "";
	struct zcap_dump_info info;
	zcap_dumper_t *d;
	int i, bad = 0;

	init_info(&info, nsec, bufsize);
	d = zcap_dump_open(path, fmt, &info, errbuf);
	if (!d) {
		printf("# open %s: %s\n", path, errbuf);
		return -1;
	}
	for (i = 0; i < NPKT; i++) {
		struct zcap_pkt z;

		to_zpkt(&pkts[i], &z);
		if (zcap_dump_write(d, &z))
			bad++;
	}
	*bytes = zcap_dump_bytes(d);
	if (zcap_dump_close(d, &test_st, start_ns, end_ns))
		bad++;
	return bad ? -1 : 0;
}

/* Compares a file with pkts[] through libpcap. */
static void read_back(const char *path, const char *what, int prec)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	int n = 0, bad = 0;
	pcap_t *p;

	p = pcap_open_offline_with_tstamp_precision(path, prec, errbuf);
	CHECK(p != NULL, "%s: libpcap opens it (%s)", what, p ? "ok" : errbuf);
	if (!p)
		return;
	CHECK(pcap_datalink(p) == DLT_EN10MB, "%s: linktype %d",
	      what, pcap_datalink(p));
	CHECK(pcap_snapshot(p) == SNAPLEN, "%s: snaplen %d",
	      what, pcap_snapshot(p));
	while (pcap_next_ex(p, &h, &data) == 1) {
		const struct tpkt *t = &pkts[n < NPKT ? n : NPKT - 1];
		uint64_t div = prec == PCAP_TSTAMP_PRECISION_NANO ? 1 : 1000;
		uint64_t frac = (t->ts % 1000000000u) / div;

		if (n >= NPKT || h->caplen != t->caplen || h->len != t->len ||
		    (uint64_t)h->ts.tv_sec != t->ts / 1000000000u ||
		    (uint64_t)h->ts.tv_usec != frac ||
		    memcmp(data, t->data, t->caplen)) {
			if (!bad++)
				printf("# %s: packet %d differs (caplen %u/%u len %u/%u ts %ld.%ld)\n",
				       what, n, h->caplen, t->caplen, h->len,
				       t->len, (long)h->ts.tv_sec,
				       (long)h->ts.tv_usec);
		}
		n++;
	}
	CHECK(n == NPKT, "%s: %d packets read back", what, n);
	CHECK(bad == 0, "%s: bytes, lengths and timestamps match (%d bad)",
	      what, bad);
	pcap_close(p);
}

/* Drops tshark's "Running as user root ... dangerous" line: it is printed
 * for every run as root and says nothing about the file. */
static void strip_root_warning(char *s)
{
	char *line = s, *nl;

	while (*line) {
		nl = strchr(line, '\n');
		nl = nl ? nl + 1 : line + strlen(line);
		if (!strncmp(line, "Running as user \"root\"", 22) &&
		    strstr(line, "This could be dangerous.") &&
		    strstr(line, "This could be dangerous.") < nl) {
			memmove(line, nl, strlen(nl) + 1);
			continue;
		}
		line = nl;
	}
}

/* One line, so that output quoted in a check keeps the TAP stream intact. */
static void flatten(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '\n')
		s[--n] = 0;
	for (; *s; s++)
		if (*s == '\n')
			*s = '|';
}

/* Runs a command. Returns the exit status; *out and *err hold its output,
 * flattened to one line. */
static int run(const char *cmd, char **out, char **err)
{
	char full[1024];
	size_t len;
	int st;

	snprintf(full, sizeof(full), "%s >%s 2>%s </dev/null", cmd,
		 tpath("cmd.out"), tpath("cmd.err"));
	st = system(full);
	*out = slurp(tpath("cmd.out"), &len);
	*err = slurp(tpath("cmd.err"), &len);
	if (!*out)
		*out = strdup("");
	if (!*err)
		*err = strdup("");
	strip_root_warning(*err);
	flatten(*out);
	flatten(*err);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void check_tools(const char *path, const char *what, int pcapng)
{
	char cmd[512], *out, *err;
	int rc;

	snprintf(cmd, sizeof(cmd), "tshark -r %s -c 1", path);
	rc = run(cmd, &out, &err);
	CHECK(rc == 0 && !*err, "%s: tshark -c 1 exits %d, stderr '%s'",
	      what, rc, err);
	free(out);
	free(err);

	/* Whole file: the ISB at the end must parse too. */
	snprintf(cmd, sizeof(cmd), "tshark -r %s", path);
	rc = run(cmd, &out, &err);
	CHECK(rc == 0 && !*err, "%s: tshark reads all, exits %d, stderr '%s'",
	      what, rc, err);
	free(out);
	free(err);

	snprintf(cmd, sizeof(cmd), "capinfos %s", path);
	rc = run(cmd, &out, &err);
	CHECK(rc == 0 && !*err, "%s: capinfos exits %d, stderr '%s'",
	      what, rc, err);
	CHECK(strstr(out, "Number of packets:   300") != NULL,
	      "%s: capinfos counts 300 packets", what);
	if (pcapng) {
		CHECK(strstr(out, "Name = " IFNAME) != NULL,
		      "%s: capinfos shows if_name", what);
		CHECK(strstr(out, "nanoseconds (9)") != NULL,
		      "%s: capinfos shows if_tsresol 9", what);
		CHECK(strstr(out, "Capture application: " APPNAME) != NULL,
		      "%s: capinfos shows shb_userappl", what);
		CHECK(strstr(out, "Number of stat entries = 1") != NULL,
		      "%s: capinfos sees one ISB", what);
	}
	free(out);
	free(err);

	if (pcapng) {
		snprintf(cmd, sizeof(cmd),
			 "tshark -r %s -c 1 -T fields -e frame.interface_name",
			 path);
		rc = run(cmd, &out, &err);
		CHECK(rc == 0 && !strcmp(out, IFNAME),
		      "%s: tshark frame.interface_name is '%.40s'", what, out);
		free(out);
		free(err);
	}
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get_ts(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static int all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

/* Where the options start in a block, by block type; 0 = no options. */
static size_t opt_start(uint32_t type)
{
	switch (type) {
	case 0x0a0d0d0a: return 24;	/* SHB */
	case 1: return 16;		/* IDB */
	case 5: return 20;		/* ISB */
	default: return 0;
	}
}

/*
 * Checks a block's options: zero padding, endofopt as the last option,
 * ending exactly at the block's trailing length. ISB values go to got[].
 */
static int walk_opts(const uint8_t *b, uint32_t type, uint32_t blen,
		     uint64_t *got, int *seen)
{
	size_t o = opt_start(type), end = blen - 4;

	while (o + 4 <= end) {
		uint16_t code, olen;
		size_t pad;

		memcpy(&code, b + o, 2);
		memcpy(&olen, b + o + 2, 2);
		pad = (4 - (olen & 3)) & 3;
		if (o + 4 + olen + pad > end || !all_zero(b + o + 4 + olen, pad))
			return 0;
		if (code == 0)
			return olen == 0 && o + 4 == end;
		if (type == 5 && code >= 2 && code <= 8 && olen == 8) {
			got[code] = code <= 3 ? get_ts(b + o + 4) :
						get64(b + o + 4);
			*seen |= 1 << code;
		}
		o += 4 + olen + pad;
	}
	return 0;
}

/* Walks every block by hand: lengths, padding, options, the ISB's values. */
static void check_pcapng_layout(const char *path)
{
	uint64_t want[9] = { 0 }, got[9] = { 0 };
	int nblk[7] = { 0 }, seen = 0, walk_ok = 1, opts_ok = 1, i;
	size_t len, off = 0;
	uint8_t *f = (uint8_t *)slurp(path, &len);

	want[2] = start_ns;
	want[3] = end_ns;
	want[4] = test_st.received + test_st.drop_ring_full + test_st.filtered;
	want[5] = test_st.drop_if;
	want[6] = test_st.received + test_st.drop_ring_full;
	want[7] = test_st.drop_ring_full;
	want[8] = test_st.received;

	while (f && off + 12 <= len) {
		const uint8_t *b = f + off;
		uint32_t type = get32(b), blen = get32(b + 4);

		if (blen < 12 || blen % 4 || off + blen > len ||
		    get32(b + blen - 4) != blen) {
			walk_ok = 0;
			break;
		}
		if (type == 0x0a0d0d0a)
			nblk[0]++;
		else if (type < 7)
			nblk[type]++;
		if (opt_start(type) && !walk_opts(b, type, blen, got, &seen))
			opts_ok = 0;
		/* EPB: no options, so data and zero padding fill the rest. */
		if (type == 6 && (blen != 32 + ((get32(b + 20) + 3) & ~3u) ||
				  !all_zero(b + 28 + get32(b + 20),
					    blen - 32 - get32(b + 20))))
			opts_ok = 0;
		off += blen;
	}
	CHECK(f && walk_ok && off == len, "pcapng: blocks walk to EOF (%zu/%zu)",
	      off, len);
	CHECK(nblk[0] == 1 && nblk[1] == 1 && nblk[6] == NPKT && nblk[5] == 1,
	      "pcapng: 1 SHB, 1 IDB, %d EPBs, 1 ISB (%d %d %d %d)", NPKT,
	      nblk[0], nblk[1], nblk[6], nblk[5]);
	CHECK(opts_ok, "pcapng: zero padding, options end in endofopt");
	CHECK(seen == 0x1fc, "pcapng: ISB has options 2..8 (0x%x)", seen);
	for (i = 2; i <= 8; i++)
		CHECK(got[i] == want[i], "pcapng: ISB option %d = %llu (want %llu)",
		      i, (unsigned long long)got[i], (unsigned long long)want[i]);
	free(f);
}

static void check_pcap_magic(const char *path, uint32_t magic)
{
	size_t len;
	uint8_t *f = (uint8_t *)slurp(path, &len);

	CHECK(f && len >= 24 && get32(f) == magic && f[4] == 2 && f[6] == 4,
	      "%s: magic 0x%08x, version 2.4", path, magic);
	free(f);
}

static int same_file(const char *a, const char *b)
{
	size_t la, lb;
	char *fa = slurp(a, &la), *fb = slurp(b, &lb);
	int same = fa && fb && la == lb && !memcmp(fa, fb, la);

	free(fa);
	free(fb);
	return same;
}

static void test_format(const char *name, enum zcap_format fmt, int nsec)
{
	static const size_t bufsizes[] = { 0, 65536, 1000 };
	char base[64], file[80];
	const char *first = NULL;
	uint64_t bytes = 0;
	unsigned int i;
	int prec = nsec || fmt == ZCAP_FMT_PCAPNG ?
		PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO;

	for (i = 0; i < sizeof(bufsizes) / sizeof(bufsizes[0]); i++) {
		const char *path;
		int rc;

		snprintf(base, sizeof(base), "%s-buf%zu", name, bufsizes[i]);
		snprintf(file, sizeof(file), "%s.%s", base,
			 fmt == ZCAP_FMT_PCAPNG ? "pcapng" : "pcap");
		path = tpath(file);
		rc = write_file(path, fmt, nsec, bufsizes[i], &bytes);
		CHECK(rc == 0, "%s: %d packets written", base, NPKT);
		if (fmt == ZCAP_FMT_PCAP)
			CHECK((off_t)bytes == file_size(path),
			      "%s: zcap_dump_bytes %llu = file size %lld", base,
			      (unsigned long long)bytes,
			      (long long)file_size(path));
		else
			CHECK(bytes > 0 && (off_t)bytes < file_size(path),
			      "%s: zcap_dump_bytes %llu < size with ISB %lld",
			      base, (unsigned long long)bytes,
			      (long long)file_size(path));
		read_back(path, base, prec);
		if (!first) {
			first = strdup(path);
			continue;
		}
		CHECK(same_file(first, path), "%s: same bytes as with default buffer",
		      base);
	}
	if (fmt == ZCAP_FMT_PCAP)
		check_pcap_magic(first, nsec ? 0xa1b23c4d : 0xa1b2c3d4);
	check_tools(first, name, fmt == ZCAP_FMT_PCAPNG);
	if (fmt == ZCAP_FMT_PCAPNG)
		check_pcapng_layout(first);
	free((char *)first);
}

/* A packet whose tag the kernel stripped, and what the file must hold. */
struct vcase {
	uint32_t caplen, len;
	uint16_t tpid, tci;
	uint8_t want_hdr[16];	/* first 16 bytes expected in the file */
	uint32_t want_caplen, want_len;
};

static void test_vlan_fmt(enum zcap_format fmt, uint32_t snaplen)
{
	struct vcase vc[] = {
		{ 60, 60, 0, 0x2064, { 0 }, 64, 64 },
		{ 40, 100, 0x88a8, 0x0005, { 0 }, 44, 104 },
		{ 10, 10, 0x8100, 0x0007, { 0 }, 10, 10 },	/* too short: untouched */
		{ 12, 12, 0, 0xabcd, { 0 }, 16, 16 },
	};
	const char *path = tpath(fmt == ZCAP_FMT_PCAPNG ? "vlan.pcapng" : "vlan.pcap");
	char errbuf[ZCAP_ERRBUF_SIZE] = "", perr[PCAP_ERRBUF_SIZE];
	uint8_t data[64];
	struct zcap_dump_info info;
	struct pcap_pkthdr *h;
	const u_char *got;
	zcap_dumper_t *d;
	unsigned int i, n = sizeof(vc) / sizeof(vc[0]);
	int bad = 0, k = 0;
	pcap_t *p;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0xa0 + i);
	init_info(&info, 1, 0);
	info.snaplen = snaplen;
	d = zcap_dump_open(path, fmt, &info, errbuf);
	CHECK(d != NULL, "vlan %s snap %u: open (%s)", path, snaplen, errbuf);
	if (!d)
		return;
	for (i = 0; i < n; i++) {
		struct zcap_pkt z = {
			.data = data, .caplen = vc[i].caplen, .len = vc[i].len,
			.ts_ns = 1000000000ull * (i + 1), .flags = ZCAP_PKT_VLAN,
			.vlan_tpid = vc[i].tpid, .vlan_tci = vc[i].tci,
		};

		zcap_dump_write(d, &z);
	}
	CHECK(zcap_dump_close(d, NULL, 0, 0) == 0, "vlan %s: close", path);

	p = pcap_open_offline_with_tstamp_precision(path,
			PCAP_TSTAMP_PRECISION_NANO, perr);
	CHECK(p != NULL, "vlan %s: libpcap opens it", path);
	if (!p)
		return;
	while (pcap_next_ex(p, &h, &got) == 1 && k < (int)n) {
		struct vcase *v = &vc[k];
		uint8_t want[80];
		uint32_t wcap = v->want_caplen < snaplen ? v->want_caplen : snaplen;
		uint16_t tpid = v->tpid ? v->tpid : 0x8100;

		/* Spelled out byte by byte rather than with the writer's logic. */
		memcpy(want, data, v->caplen);
		if (v->want_caplen != v->caplen) {
			memcpy(want, data, 12);
			want[12] = tpid >> 8;
			want[13] = tpid & 0xff;
			want[14] = v->tci >> 8;
			want[15] = v->tci & 0xff;
			memcpy(want + 16, data + 12, v->caplen - 12);
		}
		if (h->caplen != wcap || h->len != v->want_len ||
		    memcmp(got, want, wcap)) {
			printf("# vlan case %d: caplen %u/%u len %u/%u\n", k,
			       h->caplen, wcap, h->len, v->want_len);
			bad++;
		}
		k++;
	}
	CHECK(k == (int)n && bad == 0,
	      "vlan %s snap %u: %d packets with tags put back right (%d bad)",
	      path, snaplen, k, bad);
	pcap_close(p);
}

static void test_vlan(void)
{
	char cmd[512], *out, *err;
	int rc;

	test_vlan_fmt(ZCAP_FMT_PCAP, SNAPLEN);
	snprintf(cmd, sizeof(cmd),
		 "tshark -r %s -c 2 -T fields -e eth.type -e vlan.id "
		 "-e vlan.priority -e ieee8021ad.id", tpath("vlan.pcap"));
	rc = run(cmd, &out, &err);
	CHECK(rc == 0 && !*err &&
	      !strcmp(out, "0x8100\t100\t1\t|0x88a8\t\t\t5"),
	      "vlan: tshark sees 802.1Q vid 100 prio 1, 802.1ad id 5 ('%s')",
	      out);
	free(out);
	free(err);
	test_vlan_fmt(ZCAP_FMT_PCAPNG, SNAPLEN);
	/* The tag must not push caplen past snaplen. */
	test_vlan_fmt(ZCAP_FMT_PCAP, 60);
	test_vlan_fmt(ZCAP_FMT_PCAPNG, 60);
}

static void test_bad_path(void)
{
	const char *path = "/nonexistent/dir/x.pcap";
	char errbuf[ZCAP_ERRBUF_SIZE] = "";
	struct zcap_dump_info info;
	zcap_dumper_t *d;

	init_info(&info, 0, 0);
	d = zcap_dump_open(path, ZCAP_FMT_PCAP, &info, errbuf);
	CHECK(d == NULL, "bad path: open fails");
	CHECK(strstr(errbuf, path) && strstr(errbuf, "No such file"),
	      "bad path: message '%s'", errbuf);
	CHECK(!exists(path), "bad path: no file created");

	errbuf[0] = 0;
	d = zcap_dump_open(tmpdir, ZCAP_FMT_PCAPNG, &info, errbuf);
	CHECK(d == NULL && strstr(errbuf, tmpdir) && strstr(errbuf, "directory"),
	      "directory as path: '%s'", errbuf);
}

static struct zcap_pkt big_pkt(void)
{
	struct zcap_pkt z;

	to_zpkt(&pkts[4], &z);	/* 1514 bytes */
	return z;
}

static void test_dev_full(void)
{
	char errbuf[ZCAP_ERRBUF_SIZE] = "";
	struct zcap_dump_info info;
	struct zcap_pkt z = big_pkt();
	zcap_dumper_t *d;
	int i, rc = 0;

	if (!exists("/dev/full")) {
		SKIP("no /dev/full");
		return;
	}
	init_info(&info, 0, 4096);
	d = zcap_dump_open("/dev/full", ZCAP_FMT_PCAP, &info, errbuf);
	CHECK(d != NULL, "/dev/full: opens (%s)", errbuf);
	if (!d)
		return;
	for (i = 0; i < 100 && rc == 0; i++)
		rc = zcap_dump_write(d, &z);
	/* The writer fails the first buffer; the second hand-off sees it. */
	CHECK(rc == -1 && i <= 2 * 4096 / 1530 + 2,
	      "/dev/full: write fails after %d packets (two 4 KiB buffers)", i);
	CHECK(strstr(zcap_dump_geterr(d), "write to /dev/full: No space left"),
	      "/dev/full: message '%s'", zcap_dump_geterr(d));
	CHECK(zcap_dump_write(d, &z) == -1, "/dev/full: later writes fail too");
	CHECK(zcap_dump_flush(d) == -1, "/dev/full: flush fails too");
	CHECK(zcap_dump_close(d, NULL, 0, 0) == -1, "/dev/full: close returns -1");
	CHECK(exists("/dev/full"), "/dev/full: device node not unlinked");

	/* Everything still in the buffer: the error shows up at flush/close. */
	init_info(&info, 0, 0);
	d = zcap_dump_open("/dev/full", ZCAP_FMT_PCAPNG, &info, errbuf);
	if (!d)
		return;
	CHECK(zcap_dump_write(d, &z) == 0, "/dev/full: buffered write succeeds");
	CHECK(zcap_dump_flush(d) == -1 &&
	      strstr(zcap_dump_geterr(d), "No space left"),
	      "/dev/full: flush fails: '%s'", zcap_dump_geterr(d));
	CHECK(zcap_dump_close(d, &test_st, 1, 2) == -1,
	      "/dev/full: close after failed flush returns -1");

	d = zcap_dump_open("/dev/full", ZCAP_FMT_PCAP, &info, errbuf);
	if (!d)
		return;
	zcap_dump_write(d, &z);
	CHECK(zcap_dump_close(d, NULL, 0, 0) == -1,
	      "/dev/full: close flushes and returns -1");
}

static void test_tmpfs_full(void)
{
	char errbuf[ZCAP_ERRBUF_SIZE] = "";
	const char *mnt = tpath("mnt");
	char path[300];
	struct zcap_dump_info info;
	struct zcap_pkt z = big_pkt();
	zcap_dumper_t *d;
	int i, rc = 0;

	if (geteuid() != 0) {
		SKIP("tmpfs full-disk test needs root");
		return;
	}
	mkdir(mnt, 0755);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k")) {
		SKIP("tmpfs full-disk test: mount: %s", strerror(errno));
		rmdir(mnt);
		return;
	}
	snprintf(path, sizeof(path), "%s/x.pcapng", mnt);
	init_info(&info, 0, 8192);
	d = zcap_dump_open(path, ZCAP_FMT_PCAPNG, &info, errbuf);
	CHECK(d != NULL, "tmpfs: opens (%s)", errbuf);
	if (d) {
		/* 64 KiB fills up after about 43 packets of 1514 bytes. */
		for (i = 0; i < 1000 && rc == 0; i++)
			rc = zcap_dump_write(d, &z);
		CHECK(rc == -1 && i > 20, "tmpfs: write fails after %d packets", i);
		CHECK(strstr(zcap_dump_geterr(d), path) &&
		      strstr(zcap_dump_geterr(d), "No space left on device"),
		      "tmpfs: message '%s'", zcap_dump_geterr(d));
		CHECK(exists(path), "tmpfs: file exists before close");
		CHECK(zcap_dump_close(d, &test_st, 1, 2) == -1,
		      "tmpfs: close returns -1");
		CHECK(!exists(path), "tmpfs: half-written file removed");
	}
	CHECK(umount2(mnt, 0) == 0, "tmpfs: unmounted");
	rmdir(mnt);
}

static void test_abort(void)
{
	char errbuf[ZCAP_ERRBUF_SIZE] = "";
	const char *path = tpath("abort.pcap");
	struct zcap_dump_info info;
	struct zcap_pkt z = big_pkt();
	zcap_dumper_t *d;

	init_info(&info, 0, 1024);
	d = zcap_dump_open(path, ZCAP_FMT_PCAP, &info, errbuf);
	CHECK(d && exists(path), "abort: file created");
	if (!d)
		return;
	zcap_dump_write(d, &z);
	zcap_dump_abort(d);
	CHECK(!exists(path), "abort: file removed");
}

/* "-" writes to stdout, which a child points at a file. */
static void test_stdout(void)
{
	const char *path = tpath("stdout.pcapng");
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	int st, n = 0, ok = 1;
	pcap_t *p;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char eb[ZCAP_ERRBUF_SIZE];
		struct zcap_dump_info info;
		zcap_dumper_t *d;
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644), i;

		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
			_exit(2);
		init_info(&info, 0, 0);
		d = zcap_dump_open("-", ZCAP_FMT_PCAPNG, &info, eb);
		if (!d)
			_exit(3);
		for (i = 0; i < 5; i++) {
			struct zcap_pkt z;

			to_zpkt(&pkts[i], &z);
			if (zcap_dump_write(d, &z))
				_exit(4);
		}
		if (zcap_dump_close(d, &test_st, start_ns, end_ns))
			_exit(5);
		/* stdout must still be open after close. */
		_exit(write(STDOUT_FILENO, "", 0) == 0 ? 0 : 6);
	}
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "stdout: child wrote and closed (status %d)", st);
	p = pcap_open_offline_with_tstamp_precision(path,
			PCAP_TSTAMP_PRECISION_NANO, errbuf);
	while (p && pcap_next_ex(p, &h, &data) == 1) {
		if (n >= 5 || h->caplen != pkts[n].caplen ||
		    memcmp(data, pkts[n].data, h->caplen))
			ok = 0;
		n++;
	}
	CHECK(p && n == 5 && ok, "stdout: 5 packets read back (%d)", n);
	if (p)
		pcap_close(p);
}

/* ---------------------------------------------------------------------------
 * Large files: many buffers, odd record sizes, flushes at awkward places.
 * Regular files are written with O_DIRECT in aligned pieces and the tail of
 * a flush through the page cache; these check the file is still byte-exact,
 * ends at its last byte and shows every byte at each flush.
 */

#define BIG_NPKT 30000
#define DIRECT_ALIGN 4096

/* Packet i of the large tests, generated again when checking. */
static uint32_t gen_caplen(uint32_t i)
{
	uint32_t h = i * 2654435761u;

	h ^= h >> 15;
	if (i % 1009 == 5)
		return 65535;
	if (i % 97 == 3)
		return 9000;
	return 1 + h % 1514;
}

static void gen_data(uint32_t i, uint8_t *p, uint32_t n)
{
	uint32_t s = i * 2246822519u + 1, j;

	for (j = 0; j < n; j++) {
		s ^= s << 13;
		s ^= s >> 17;
		s ^= s << 5;
		p[j] = (uint8_t)s;
	}
}

static uint64_t gen_ts(uint32_t i)
{
	return 1700000000000000000ull + (uint64_t)i * 1234567891ull;
}

/* The expected bytes of a nanosecond pcap file, built independently. */
struct img {
	uint8_t *p;
	size_t n, cap;
};

static void img_put(struct img *m, const void *p, size_t n)
{
	if (m->n + n > m->cap) {
		m->cap = (m->n + n) * 2;
		m->p = realloc(m->p, m->cap);
	}
	memcpy(m->p + m->n, p, n);
	m->n += n;
}

static void img_put32(struct img *m, uint32_t v)
{
	img_put(m, &v, 4);
}

static void img_pcap_header(struct img *m)
{
	img_put32(m, 0xa1b23c4d);
	img_put32(m, 2 | 4 << 16);
	img_put32(m, 0);
	img_put32(m, 0);
	img_put32(m, SNAPLEN);
	img_put32(m, DLT_EN10MB);
}

static void img_pcap_rec(struct img *m, const uint8_t *data, uint32_t caplen,
			 uint64_t ts)
{
	img_put32(m, (uint32_t)(ts / 1000000000u));
	img_put32(m, (uint32_t)(ts % 1000000000u));
	img_put32(m, caplen);
	img_put32(m, caplen + 3);
	img_put(m, data, caplen);
}

/* 1 when path holds exactly the n bytes at p. */
static int file_is(const char *path, const uint8_t *p, size_t n)
{
	size_t len;
	char *f = slurp(path, &len);
	int same = f && len == n && !memcmp(f, p, n);

	free(f);
	return same;
}

/* The flags of this process's open file for path (the dumper's), or -1. */
static int open_flags(const char *path)
{
	char want[PATH_MAX], link[PATH_MAX], name[300], line[256];
	struct dirent *e;
	int flags = -1;
	DIR *dir;

	if (!realpath(path, want) || !(dir = opendir("/proc/self/fd")))
		return -1;
	while ((e = readdir(dir)) && flags < 0) {
		ssize_t n;
		FILE *f;

		snprintf(name, sizeof(name), "/proc/self/fd/%s", e->d_name);
		n = readlink(name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (strcmp(link, want))
			continue;
		snprintf(name, sizeof(name), "/proc/self/fdinfo/%s", e->d_name);
		f = fopen(name, "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "flags: %o", (unsigned int *)&flags) == 1)
				break;
		if (f)
			fclose(f);
	}
	closedir(dir);
	return flags;
}

/* 1 when files in dir can be opened with O_DIRECT. */
static int dir_takes_direct(const char *dir)
{
	char path[300];
	int fd;

	snprintf(path, sizeof(path), "%s/.direct-probe", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_DIRECT, 0644);
	if (fd >= 0)
		close(fd);
	unlink(path);
	return fd >= 0;
}

/*
 * Writes BIG_NPKT generated packets to path as nanosecond pcap, flushing
 * after the packets listed in flush_at (and every flush_every packets, if
 * not 0), checking after each flush that the file is exactly what was
 * written so far. want_direct: 1 = O_DIRECT must be on, 0 = off, -1 = either.
 */
static void big_pcap(const char *what, const char *path, size_t bufsize,
		     const uint32_t *flush_at, int nflush, uint32_t flush_every,
		     int want_direct)
{
	static uint8_t data[65536];
	char errbuf[ZCAP_ERRBUF_SIZE] = "";
	struct img m = { 0 };
	struct zcap_dump_info info;
	zcap_dumper_t *d;
	int k = 0, flushes = 0, bad_flush = 0, bad_write = 0, flags;
	uint32_t i;

	init_info(&info, 1, bufsize);
	d = zcap_dump_open(path, ZCAP_FMT_PCAP, &info, errbuf);
	CHECK(d != NULL, "%s: open (%s)", what, errbuf);
	if (!d)
		return;
	flags = open_flags(path);
	if (want_direct >= 0)
		CHECK(flags >= 0 && !!(flags & O_DIRECT) == want_direct,
		      "%s: O_DIRECT %s (flags 0%o)", what,
		      want_direct ? "on" : "off", flags);
	img_pcap_header(&m);
	for (i = 0; i < BIG_NPKT; i++) {
		struct zcap_pkt z = { .data = data };

		z.caplen = gen_caplen(i);
		z.len = z.caplen + 3;
		z.ts_ns = gen_ts(i);
		gen_data(i, data, z.caplen);
		if (zcap_dump_write(d, &z))
			bad_write++;
		img_pcap_rec(&m, data, z.caplen, z.ts_ns);
		if ((k < nflush && flush_at[k] == i) ||
		    (flush_every && i % flush_every == flush_every - 1)) {
			while (k < nflush && flush_at[k] == i)
				k++;	/* twice in a row: nothing new */
			flushes++;
			if (zcap_dump_flush(d) || zcap_dump_bytes(d) != m.n ||
			    (off_t)m.n != file_size(path) ||
			    (flushes % 16 == 1 && !file_is(path, m.p, m.n))) {
				if (!bad_flush++)
					printf("# %s: after packet %u flush: %lld bytes in the file, %zu written\n",
					       what, i, (long long)file_size(path), m.n);
			}
		}
	}
	CHECK(bad_write == 0, "%s: %d packets written", what, BIG_NPKT);
	/* A misaligned direct write would have turned it off for good. */
	if (want_direct >= 0) {
		flags = open_flags(path);
		CHECK(flags >= 0 && !!(flags & O_DIRECT) == want_direct,
		      "%s: O_DIRECT still %s at the end", what,
		      want_direct ? "on" : "off");
	}
	CHECK(bad_flush == 0, "%s: each of %d flushes leaves exactly the bytes so far in the file",
	      what, flushes);
	CHECK(zcap_dump_bytes(d) == m.n, "%s: zcap_dump_bytes %llu = %zu", what,
	      (unsigned long long)zcap_dump_bytes(d), m.n);
	CHECK(zcap_dump_close(d, NULL, 0, 0) == 0, "%s: close", what);
	CHECK(file_size(path) == (off_t)m.n,
	      "%s: %zu bytes (%zu buffers), no padding at the end (%lld)", what,
	      m.n, m.n / (bufsize ? bufsize : ZCAP_DUMP_DEFAULT_BUF),
	      (long long)file_size(path));
	CHECK(file_is(path, m.p, m.n), "%s: byte-exact", what);
	free(m.p);
	unlink(path);
}

static void test_big(void)
{
	static const uint32_t at[] = { 0, 1, 2, 777, 5000, 12345, 12345, 20001,
				       BIG_NPKT - 1 };
	int direct = dir_takes_direct(tmpdir);

	printf("# %s %s O_DIRECT\n", tmpdir, direct ? "takes" : "refuses");
	big_pcap("big, 4 MiB buffers", tpath("big.pcap"), 0, NULL, 0, 0,
		 direct);
	big_pcap("big, 4 MiB buffers, flushes", tpath("big-f.pcap"), 0, at,
		 sizeof(at) / sizeof(at[0]), 0, direct);
	big_pcap("big, 64 KiB buffers, flush every 101", tpath("big-64k.pcap"),
		 65536, NULL, 0, 101, direct);
	/* 5000 is rounded up to 8192; every flush's tail is written twice. */
	big_pcap("big, 5000-byte buffers, flush every 7", tpath("big-5k.pcap"),
		 5000, NULL, 0, 7, direct);
}

/* Bytes of path that walk as whole pcapng blocks; counts EPBs, last type. */
static size_t pcapng_walk(const char *path, int *nepb, uint32_t *last)
{
	size_t len, off = 0;
	uint8_t *f = (uint8_t *)slurp(path, &len);

	while (f && off + 12 <= len) {
		uint32_t type = get32(f + off), blen = get32(f + off + 4);

		if (blen < 12 || blen % 4 || off + blen > len ||
		    get32(f + off + blen - 4) != blen)
			break;
		*nepb += type == 6;
		*last = type;
		off += blen;
	}
	free(f);
	return off;
}

/* pcapng read back by libpcap, checking the packet count at each flush. */
static void test_big_pcapng(void)
{
	static uint8_t data[65536], want[65536];
	char errbuf[ZCAP_ERRBUF_SIZE] = "", perr[PCAP_ERRBUF_SIZE];
	const char *path = tpath("big.pcapng");
	struct zcap_dump_info info;
	struct pcap_pkthdr *h;
	const u_char *got;
	zcap_dumper_t *d;
	int n = 0, bad = 0, bad_flush = 0, nepb = 0;
	uint64_t bytes;
	uint32_t i, last = 0;
	size_t len;
	pcap_t *p;

	init_info(&info, 0, 0);
	d = zcap_dump_open(path, ZCAP_FMT_PCAPNG, &info, errbuf);
	CHECK(d != NULL, "big pcapng: open (%s)", errbuf);
	if (!d)
		return;
	for (i = 0; i < BIG_NPKT; i++) {
		struct zcap_pkt z = { .data = data };

		z.caplen = gen_caplen(i);
		z.len = z.caplen + 3;
		z.ts_ns = gen_ts(i);
		gen_data(i, data, z.caplen);
		zcap_dump_write(d, &z);
		if (i == 3 || i == 9999 || i == 22222) {
			int k = 0;

			zcap_dump_flush(d);
			p = pcap_open_offline(path, perr);
			while (p && pcap_next_ex(p, &h, &got) == 1)
				k++;
			if (p)
				pcap_close(p);
			if (k != (int)i + 1 && !bad_flush++)
				printf("# big pcapng: flush after %u: libpcap reads %d packets\n",
				       i + 1, k);
		}
	}
	CHECK(bad_flush == 0, "big pcapng: libpcap reads every packet so far after each flush");
	bytes = zcap_dump_bytes(d);
	CHECK(zcap_dump_close(d, &test_st, start_ns, end_ns) == 0,
	      "big pcapng: close");
	p = pcap_open_offline_with_tstamp_precision(path,
			PCAP_TSTAMP_PRECISION_NANO, perr);
	CHECK(p != NULL, "big pcapng: libpcap opens it (%s)", p ? "ok" : perr);
	while (p && pcap_next_ex(p, &h, &got) == 1) {
		uint32_t c = gen_caplen((uint32_t)n);
		uint64_t ts = gen_ts((uint32_t)n);

		gen_data((uint32_t)n, want, c);
		if (h->caplen != c || h->len != c + 3 ||
		    (uint64_t)h->ts.tv_sec != ts / 1000000000u ||
		    (uint64_t)h->ts.tv_usec != ts % 1000000000u ||
		    memcmp(got, want, c))
			bad++;
		n++;
	}
	if (p)
		pcap_close(p);
	CHECK(n == BIG_NPKT && bad == 0,
	      "big pcapng: %d packets read back, %d differ", n, bad);
	len = pcapng_walk(path, &nepb, &last);
	CHECK((off_t)len == file_size(path) && len > bytes && nepb == BIG_NPKT &&
	      last == 5,
	      "big pcapng: all %zu bytes walk as blocks, %d EPBs, then an ISB (type %u)",
	      len, nepb, last);
	unlink(path);
}

/*
 * Flushes whose tails are 0, 17, 4095 and 16 bytes long, then buffers that
 * fill up over a kept tail: each step's file is compared byte by byte.
 */
static void test_tails(void)
{
	static const uint32_t caps[] = { 4056, 1, 4062, 1 };
	static const size_t sizes[] = { 4096, 4113, 8191, 8208 };
	static uint8_t data[4096];
	char errbuf[ZCAP_ERRBUF_SIZE] = "";
	const char *path = tpath("tails.pcap");
	struct img m = { 0 };
	struct zcap_dump_info info;
	zcap_dumper_t *d;
	unsigned int i;

	init_info(&info, 1, 8192);
	d = zcap_dump_open(path, ZCAP_FMT_PCAP, &info, errbuf);
	CHECK(d != NULL, "tails: open (%s)", errbuf);
	if (!d)
		return;
	img_pcap_header(&m);
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		struct zcap_pkt z = { .data = data, .caplen = caps[i],
				      .len = caps[i] + 3, .ts_ns = gen_ts(i) };

		gen_data(i, data, caps[i]);
		zcap_dump_write(d, &z);
		img_pcap_rec(&m, data, caps[i], z.ts_ns);
		CHECK(zcap_dump_flush(d) == 0 && m.n == sizes[i] &&
		      file_is(path, m.p, m.n),
		      "tails: flush with %zu bytes (tail %zu) leaves them exactly",
		      m.n, m.n % DIRECT_ALIGN);
	}
	CHECK(zcap_dump_flush(d) == 0 && file_is(path, m.p, m.n),
	      "tails: a second flush changes nothing");
	for (i = 10; i < 40; i++) {
		struct zcap_pkt z = { .data = data, .caplen = 1000 + i,
				      .len = 1003 + i, .ts_ns = gen_ts(i) };

		gen_data(i, data, z.caplen);
		zcap_dump_write(d, &z);
		img_pcap_rec(&m, data, z.caplen, z.ts_ns);
	}
	CHECK(zcap_dump_close(d, NULL, 0, 0) == 0 && file_is(path, m.p, m.n),
	      "tails: %zu bytes after 4 more buffers over the kept tail", m.n);
	free(m.p);
	unlink(path);
}

/* ramfs has no direct I/O: the dumper must notice and write buffered. */
static void test_fallback(void)
{
	static const uint32_t at[] = { 0, 3, 999, 999, 15000 };
	const char *mnt = tpath("ramfs");
	char path[300];

	if (geteuid() != 0) {
		SKIP("ramfs fallback test needs root");
		return;
	}
	mkdir(mnt, 0755);
	if (mount("ramfs", mnt, "ramfs", 0, NULL)) {
		SKIP("ramfs fallback test: mount: %s", strerror(errno));
		rmdir(mnt);
		return;
	}
	CHECK(!dir_takes_direct(mnt), "ramfs refuses O_DIRECT (so the fallback runs)");
	snprintf(path, sizeof(path), "%s/big.pcap", mnt);
	big_pcap("ramfs, 4 MiB buffers, flushes", path, 0, at,
		 sizeof(at) / sizeof(at[0]), 0, 0);
	snprintf(path, sizeof(path), "%s/big-64k.pcap", mnt);
	big_pcap("ramfs, 64 KiB buffers, flush every 333", path, 65536, NULL,
		 0, 333, 0);
	CHECK(umount2(mnt, 0) == 0, "ramfs: unmounted");
	rmdir(mnt);
}

/* A pipe gets plain write(2)s: what comes out must be the whole file. */
static void test_pipe(void)
{
	static uint8_t data[65536];
	struct img m = { 0 }, got = { 0 };
	uint8_t chunk[65536];
	int fds[2], st;
	uint32_t i;
	ssize_t n;
	pid_t pid;

	if (pipe(fds)) {
		SKIP("pipe: %s", strerror(errno));
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char eb[ZCAP_ERRBUF_SIZE];
		struct zcap_dump_info info;
		zcap_dumper_t *d;

		close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(2);
		close(fds[1]);
		init_info(&info, 1, 0);
		d = zcap_dump_open("-", ZCAP_FMT_PCAP, &info, eb);
		if (!d)
			_exit(3);
		for (i = 0; i < BIG_NPKT; i++) {
			struct zcap_pkt z = { .data = data };

			z.caplen = gen_caplen(i);
			z.len = z.caplen + 3;
			z.ts_ns = gen_ts(i);
			gen_data(i, data, z.caplen);
			if (zcap_dump_write(d, &z))
				_exit(4);
			if (i == 4321 && zcap_dump_flush(d))
				_exit(5);
		}
		_exit(zcap_dump_close(d, NULL, 0, 0) ? 6 : 0);
	}
	close(fds[1]);
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
		img_put(&got, chunk, (size_t)n);
	close(fds[0]);
	waitpid(pid, &st, 0);
	img_pcap_header(&m);
	for (i = 0; i < BIG_NPKT; i++) {
		gen_data(i, data, gen_caplen(i));
		img_pcap_rec(&m, data, gen_caplen(i), gen_ts(i));
	}
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "pipe: child wrote and closed (status %d)", st);
	CHECK(got.n == m.n && !memcmp(got.p, m.p, m.n),
	      "pipe: %zu bytes came out, byte-exact (%zu)", m.n, got.n);
	free(m.p);
	free(got.p);
}

struct pipe_reader {
	int fd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int go;
	struct img got;
};

static void *pipe_read(void *arg)
{
	struct pipe_reader *r = arg;
	static uint8_t chunk[65536];
	ssize_t n;

	pthread_mutex_lock(&r->lock);
	while (!r->go)
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
	while ((n = read(r->fd, chunk, sizeof(chunk))) > 0)
		img_put(&r->got, chunk, (size_t)n);
	return NULL;
}

/*
 * refs into a pipe: the dumper writes each packet from where it lies, so a
 * record counts as done only once the pipe took it (a reader that does
 * not read holds them all back), and after that its packet may change:
 * each is overwritten as soon as it is done, and the bytes must still come
 * out exact.
 */
static void test_pipe_refs(void)
{
	static uint8_t *data[BIG_NPKT];
	char errbuf[ZCAP_ERRBUF_SIZE] = "", path[64];
	struct pipe_reader r = { .lock = PTHREAD_MUTEX_INITIALIZER,
				 .cond = PTHREAD_COND_INITIALIZER };
	struct zcap_dump_info info;
	struct img m = { 0 };
	uint64_t done = 0, stuck, was = 0;
	uint32_t i, early = 0, bad = 0, back = 0;
	zcap_dumper_t *d;
	pthread_t th;
	int fds[2];

	if (pipe(fds)) {
		SKIP("pipe: %s", strerror(errno));
		return;
	}
	r.fd = fds[0];
	pthread_create(&th, NULL, pipe_read, &r);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[1]);
	init_info(&info, 1, 0);
	info.refs = 1;
	d = zcap_dump_open(path, ZCAP_FMT_PCAP, &info, errbuf);
	close(fds[1]);
	CHECK(d != NULL, "pipe, refs: opens (%s)", errbuf);
	if (!d)
		goto out;
	for (i = 0; i < BIG_NPKT; i++) {
		struct zcap_pkt z = { .caplen = gen_caplen(i) };

		data[i] = malloc(z.caplen ? z.caplen : 1);
		gen_data(i, data[i], z.caplen);
		z.data = data[i];
		z.len = z.caplen + 3;
		z.ts_ns = gen_ts(i);
		bad += zcap_dump_write(d, &z) != 0;
		if (i == 199) {
			/* 200 records, several pipes' worth, nobody reading */
			bad += zcap_dump_push(d) != 0;
			usleep(200000);
			stuck = zcap_dump_done(d);
			CHECK(stuck < 200, "pipe, refs: with no reader, records the "
			      "pipe did not take are not done (%llu of 200)",
			      (unsigned long long)stuck);
			pthread_mutex_lock(&r.lock);
			r.go = 1;
			pthread_cond_signal(&r.cond);
			pthread_mutex_unlock(&r.lock);
		}
		done = zcap_dump_done(d);
		back += done < was;
		early += done > i + 1;
		for (; was < done; was++)
			memset(data[was], 0xee, gen_caplen((uint32_t)was));
	}
	CHECK(bad == 0 && zcap_dump_flush(d) == 0, "pipe, refs: writes, push and flush");
	done = zcap_dump_done(d);
	CHECK(done == BIG_NPKT && back == 0 && early == 0, "pipe, refs: done "
	      "grows to all %u, never past what was written (%llu)", BIG_NPKT,
	      (unsigned long long)done);
	CHECK(zcap_dump_close(d, NULL, 0, 0) == 0, "pipe, refs: close");
out:
	pthread_mutex_lock(&r.lock);
	r.go = 1;
	pthread_cond_signal(&r.cond);
	pthread_mutex_unlock(&r.lock);
	pthread_join(th, NULL);
	close(fds[0]);
	img_pcap_header(&m);
	for (i = 0; i < BIG_NPKT; i++) {
		uint8_t *p = malloc(gen_caplen(i) ? gen_caplen(i) : 1);

		gen_data(i, p, gen_caplen(i));
		img_pcap_rec(&m, p, gen_caplen(i), gen_ts(i));
		free(p);
		free(data[i]);
		data[i] = NULL;
	}
	CHECK(d && r.got.n == m.n && !memcmp(r.got.p, m.p, m.n),
	      "pipe, refs: %zu bytes came out, byte-exact, though every packet "
	      "was overwritten once done (%zu)", m.n, r.got.n);
	free(m.p);
	free(r.got.p);
}

static void test_dev_null(void)
{
	char errbuf[ZCAP_ERRBUF_SIZE] = "";
	struct zcap_dump_info info;
	struct zcap_pkt z = big_pkt();
	zcap_dumper_t *d;
	int i, bad = 0;

	init_info(&info, 0, 0);
	d = zcap_dump_open("/dev/null", ZCAP_FMT_PCAPNG, &info, errbuf);
	CHECK(d != NULL, "/dev/null: opens (%s)", errbuf);
	if (!d)
		return;
	for (i = 0; i < BIG_NPKT; i++)
		bad += zcap_dump_write(d, &z) != 0;
	CHECK(bad == 0 && zcap_dump_flush(d) == 0, "/dev/null: writes and flush");
	CHECK(zcap_dump_close(d, &test_st, 1, 2) == 0, "/dev/null: close");
	CHECK(exists("/dev/null"), "/dev/null: still there");
}

/* Abort while buffers are on their way to the file: no hang, no file. */
static void test_abort_busy(void)
{
	char errbuf[ZCAP_ERRBUF_SIZE] = "";
	const char *path = tpath("abort-busy.pcap");
	struct zcap_dump_info info;
	struct zcap_pkt z = big_pkt();
	zcap_dumper_t *d;
	int i;

	init_info(&info, 0, 65536);
	d = zcap_dump_open(path, ZCAP_FMT_PCAP, &info, errbuf);
	if (!d) {
		CHECK(0, "abort busy: open (%s)", errbuf);
		return;
	}
	for (i = 0; i < 5000; i++)
		zcap_dump_write(d, &z);
	zcap_dump_abort(d);
	CHECK(!exists(path), "abort busy: file removed after 5000 packets");
}

/*
 * A full ext4 (loop-mounted), where the writes are direct: the error comes
 * back, close fails and removes the file.
 */
static void test_ext4_full(void)
{
	char errbuf[ZCAP_ERRBUF_SIZE] = "", cmd[512], path[128];
	char img[64], mnt[64];
	struct zcap_dump_info info;
	struct zcap_pkt z = big_pkt();
	zcap_dumper_t *d;
	int i, rc = 0, flags;

	if (geteuid() != 0) {
		SKIP("ext4 full-disk test needs root");
		return;
	}
	snprintf(img, sizeof(img), "%s/ext4.img", tmpdir);
	snprintf(mnt, sizeof(mnt), "%s/ext4", tmpdir);
	mkdir(mnt, 0755);
	snprintf(cmd, sizeof(cmd),
		 "truncate -s 8M %s && mkfs.ext4 -q -F %s && mount -o loop %s %s",
		 img, img, img, mnt);
	if (system(cmd) != 0) {
		SKIP("ext4 full-disk test: cannot make a loop-mounted ext4");
		rmdir(mnt);
		unlink(img);
		return;
	}
	snprintf(path, sizeof(path), "%s/x.pcapng", mnt);
	init_info(&info, 0, 0);
	d = zcap_dump_open(path, ZCAP_FMT_PCAPNG, &info, errbuf);
	CHECK(d != NULL, "ext4 full: opens (%s)", errbuf);
	if (d) {
		flags = open_flags(path);
		CHECK(flags >= 0 && (flags & O_DIRECT), "ext4 full: O_DIRECT on (0%o)",
		      flags);
		/* About 7 MiB free: 20,000 packets are 30 MB. */
		for (i = 0; i < 20000 && rc == 0; i++)
			rc = zcap_dump_write(d, &z);
		if (rc == 0)
			rc = zcap_dump_flush(d);
		CHECK(rc == -1 && i > 2000, "ext4 full: write fails after %d packets", i);
		CHECK(strstr(zcap_dump_geterr(d), path) &&
		      strstr(zcap_dump_geterr(d), "No space left on device"),
		      "ext4 full: message '%s'", zcap_dump_geterr(d));
		CHECK(zcap_dump_write(d, &z) == -1 && zcap_dump_flush(d) == -1,
		      "ext4 full: later writes and flush fail too");
		CHECK(exists(path), "ext4 full: file exists before close");
		CHECK(zcap_dump_close(d, &test_st, 1, 2) == -1,
		      "ext4 full: close returns -1");
		CHECK(!exists(path), "ext4 full: half-written file removed");
	}
	CHECK(umount2(mnt, 0) == 0, "ext4 full: unmounted");
	rmdir(mnt);
	unlink(img);
}

static void test_format_from_path(void)
{
	static const struct {
		const char *path;
		enum zcap_format fmt;
	} c[] = {
		{ "a.pcapng", ZCAP_FMT_PCAPNG },
		{ "/x/y/A.PCAPNG", ZCAP_FMT_PCAPNG },
		{ "b.PcapNg", ZCAP_FMT_PCAPNG },
		{ ".pcapng", ZCAP_FMT_PCAPNG },
		{ "a.pcap", ZCAP_FMT_PCAP },
		{ "pcapng", ZCAP_FMT_PCAP },
		{ "a.pcapng.gz", ZCAP_FMT_PCAP },
		{ "a.pcapngx", ZCAP_FMT_PCAP },
		{ "-", ZCAP_FMT_PCAP },
		{ "", ZCAP_FMT_PCAP },
	};
	unsigned int i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		CHECK(zcap_format_from_path(c[i].path) == c[i].fmt,
		      "format_from_path('%s') = %d", c[i].path, c[i].fmt);
}

int main(void)
{
	char cmd[300];
	int i, rc;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	printf("# temp dir %s\n", tmpdir);
	make_pkts();

	test_format("pcap-us", ZCAP_FMT_PCAP, 0);
	test_format("pcap-ns", ZCAP_FMT_PCAP, 1);
	test_format("pcapng", ZCAP_FMT_PCAPNG, 0);
	test_vlan();
	test_bad_path();
	test_dev_full();
	test_tmpfs_full();
	test_abort();
	test_stdout();
	test_big();
	test_big_pcapng();
	test_tails();
	test_fallback();
	test_pipe();
	test_pipe_refs();
	test_dev_null();
	test_abort_busy();
	test_ext4_full();
	test_format_from_path();

	rc = check_done();
	/* Keep the files of a failed run for a look. */
	if (rc == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
	}
	for (i = 0; i < NPKT; i++)
		free(pkts[i].data);
	return rc;
}
