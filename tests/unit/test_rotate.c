/* SPDX-License-Identifier: MIT */
/*
 * The dumper's rotation (tcpdump's -C, -G, -W) and its several interfaces:
 * tcpdump's names, every record in exactly one file and in order, each file
 * read back by libpcap on its own, part files renamed only when finished,
 * the callback once per finished file, and the limits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zcap.h"
#include "check.h"

static char dir[] = "/tmp/zcap-test-rotate.XXXXXX";
static uint8_t frame[1600];

static uint64_t now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Packet i: caplen bytes, the first four its number. */
static struct zcap_pkt pkt(uint32_t i, uint32_t caplen, uint64_t ts)
{
	memcpy(frame, &i, sizeof(i));
	memset(frame + 4, (int)(i & 0xff), sizeof(frame) - 4);
	return (struct zcap_pkt){ .data = frame, .caplen = caplen,
				  .len = caplen, .ts_ns = ts };
}

static char *path(const char *name)
{
	static char p[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

/* Reads file with libpcap: *next is the number the first packet must
 * have, and is moved past the last. Returns the packets, -1 if the file
 * does not read or a packet is out of sequence or damaged. */
static long read_seq(const char *file, uint32_t *next)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p = pcap_open_offline(file, err);
	long n = 0;
	int r;

	if (!p)
		return -1;
	while ((r = pcap_next_ex(p, &h, &d)) == 1) {
		uint32_t i;

		memcpy(&i, d, sizeof(i));
		if (i != *next || h->caplen < 5 || d[4] != (i & 0xff)) {
			pcap_close(p);
			return -1;
		}
		(*next)++;
		n++;
	}
	pcap_close(p);
	return r == -2 ? n : -1;
}

static int exists(const char *p)
{
	return access(p, F_OK) == 0;
}

/* on_file: every name, in order, and whether it was complete then. */
struct seen {
	pthread_mutex_t lock;
	char names[64][512];
	int n, bad;
};

static void on_file(const char *p, void *arg)
{
	struct seen *s = arg;
	char part[600];
	const char *base = strrchr(p, '/');

	snprintf(part, sizeof(part), "%.*s/.%s.part", (int)(base - p), p, base + 1);
	pthread_mutex_lock(&s->lock);
	if (!exists(p) || exists(part))
		s->bad++;
	if (s->n < 64)
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", p);
	s->n++;
	pthread_mutex_unlock(&s->lock);
}

static zcap_dumper_t *open_rot(const char *name, enum zcap_format fmt,
			       const struct zcap_dump_rotate *rot, char *err)
{
	ZCAP_DECLARE(zcap_dump_info, info, .ifname = "rot0", .linktype = 1,
		     .rotate = rot);

	return zcap_dump_open(path(name), fmt, &info, err);
}

static void test_size(void)
{
	static struct seen s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	char err[ZCAP_ERRBUF_SIZE] = "";
	ZCAP_DECLARE(zcap_dump_rotate, rot, .max_bytes = 10000,
		     .on_file = on_file, .arg = &s);
	zcap_dumper_t *d = open_rot("c.pcap", ZCAP_FMT_PCAP, &rot, err);
	uint64_t ts = now_real();
	uint32_t next = 0;
	int bad = 0, files = 0, big = 0;

	CHECK(d, "-C: opens (%s)", err);
	if (!d)
		return;
	CHECK(exists(path(".c.pcap.part")) && !exists(path("c.pcap")),
	      "-C: the first file is written as .c.pcap.part, not yet c.pcap");
	/* 1016 bytes a record: 9 fit in 10000 after the 24-byte header */
	for (uint32_t i = 0; i < 100; i++) {
		struct zcap_pkt p = pkt(i, 1000, ts + i);

		bad |= zcap_dump_write(d, &p) != 0;
	}
	CHECK(!bad, "-C: 100 records written");
	CHECK(zcap_dump_files(d) == 12, "-C: 12 files begun (9 records each, 1 left): %u",
	      zcap_dump_files(d));
	CHECK(zcap_dump_close(d, NULL, 0, 0) == 0, "-C: closes");
	for (int k = 0; k < 12; k++) {
		char name[32];
		struct stat sb;
		long n;

		snprintf(name, sizeof(name), k ? "c.pcap%d" : "c.pcap", k);
		n = read_seq(path(name), &next);
		files += n == (k < 11 ? 9 : 1);
		if (stat(path(name), &sb) == 0 && sb.st_size > 10000)
			big++;
	}
	CHECK(files == 12 && next == 100,
	      "-C: c.pcap, c.pcap1 .. c.pcap11 read back, 9 records each and 1 "
	      "in the last, 0..99 in order (%d files right, up to %u)", files, next);
	CHECK(!big, "-C: no file over 10000 bytes");
	CHECK(!exists(path("c.pcap12")) && !exists(path(".c.pcap11.part")),
	      "-C: no 13th file, no part file left");
	CHECK(s.n == 12 && !s.bad && !strcmp(s.names[0], path("c.pcap")) &&
	      !strcmp(s.names[11], path("c.pcap11")),
	      "-C: on_file once per file, in order, each complete and in place "
	      "(%d calls, %d not)", s.n, s.bad);
}

static void test_big_record(void)
{
	char err[ZCAP_ERRBUF_SIZE] = "";
	ZCAP_DECLARE(zcap_dump_rotate, rot, .max_bytes = 500);
	zcap_dumper_t *d = open_rot("b.pcap", ZCAP_FMT_PCAP, &rot, err);
	uint32_t next = 0;
	long a, b;

	if (!d) {
		CHECK(0, "-C smaller than a record: opens (%s)", err);
		return;
	}
	for (uint32_t i = 0; i < 2; i++) {
		struct zcap_pkt p = pkt(i, 1000, now_real());

		zcap_dump_write(d, &p);
	}
	zcap_dump_close(d, NULL, 0, 0);
	a = read_seq(path("b.pcap"), &next);
	b = read_seq(path("b.pcap1"), &next);
	CHECK(a == 1 && b == 1,
	      "-C smaller than a record: a file holds it whole, one each (%ld, %ld)",
	      a, b);
}

static void test_ring(void)
{
	char err[ZCAP_ERRBUF_SIZE] = "";
	ZCAP_DECLARE(zcap_dump_rotate, rot, .max_bytes = 10000, .ring_files = 3);
	zcap_dumper_t *d = open_rot("r.pcapng", ZCAP_FMT_PCAPNG, &rot, err);
	uint32_t next;
	long n[3];

	if (!d) {
		CHECK(0, "-C -W 3: opens (%s)", err);
		return;
	}
	/* pcapng: 1032 bytes a record (32 + 1000), after a header of a few
	 * hundred bytes: 9 a file */
	for (uint32_t i = 0; i < 100; i++) {
		struct zcap_pkt p = pkt(i, 1000, now_real());

		zcap_dump_write(d, &p);
	}
	CHECK(zcap_dump_files(d) > 3, "-C -W 3: more than 3 files begun (%u)",
	      zcap_dump_files(d));
	zcap_dump_close(d, NULL, 0, 0);
	CHECK(exists(path("r.pcapng0")) && exists(path("r.pcapng1")) &&
	      exists(path("r.pcapng2")) && !exists(path("r.pcapng3")) &&
	      !exists(path("r.pcapng")),
	      "-C -W 3: the names r.pcapng0 .. r.pcapng2 and no other");
	/* files begun: 12, the 12th (index 11) is r.pcapng2: it holds 99,
	 * r.pcapng1 the 9 before, r.pcapng0 the 9 before those */
	next = 100 - 1 - 9 - 9;
	n[0] = read_seq(path("r.pcapng0"), &next);
	n[1] = read_seq(path("r.pcapng1"), &next);
	n[2] = read_seq(path("r.pcapng2"), &next);
	CHECK(n[0] == 9 && n[1] == 9 && n[2] == 1 && next == 100,
	      "-C -W 3: the ring holds the last 19 records, oldest first in "
	      "r.pcapng0 (%ld %ld %ld, up to %u)", n[0], n[1], n[2], next);
}

static void test_interval(void)
{
	static struct seen s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	char err[ZCAP_ERRBUF_SIZE] = "";
	ZCAP_DECLARE(zcap_dump_rotate, rot, .interval_ns = 1000000000ull,
		     .max_files = 3, .on_file = on_file, .arg = &s);
	zcap_dumper_t *d = open_rot("g-%s.pcap", ZCAP_FMT_PCAP, &rot, err);
	uint64_t t0 = now_real();
	uint32_t next = 0, i;
	int r = 0, ended = 0, per[3] = { 0 };
	long total = 0;

	CHECK(d, "-G: opens (%s)", err);
	if (!d)
		return;
	/* 10 records a second, for 4 seconds: the third interval ends it */
	for (i = 0; i < 40; i++) {
		struct zcap_pkt p = pkt(i, 100, t0 + (uint64_t)i * 100000000ull + 1);

		r = zcap_dump_write(d, &p);
		if (r)
			break;
	}
	CHECK(r == ZCAP_DUMP_END && i >= 20 && i <= 31,
	      "-G 1 with max_files 3: ZCAP_DUMP_END at the record that would "
	      "begin a 4th file (record %u, returned %d)", i, r);
	{
		struct zcap_pkt p = pkt(i, 100, t0 + 5000000000ull);

		ended = zcap_dump_write(d, &p) == ZCAP_DUMP_END &&
			zcap_dump_tick(d, t0 + 9000000000ull) == ZCAP_DUMP_END;
	}
	CHECK(ended, "-G: once ended, every write and tick says so");
	zcap_dump_close(d, NULL, 0, 0);
	for (int k = 0; k < s.n && k < 3; k++) {
		per[k] = (int)read_seq(s.names[k], &next);
		total += per[k];
	}
	CHECK(s.n == 3 && !s.bad && total == i && next == i,
	      "-G: 3 files, strftime-named, hold records 0..%u in order "
	      "(%d files, %d + %d + %d)", i - 1, s.n, per[0], per[1], per[2]);
	CHECK(s.n == 3 && strcmp(s.names[0], s.names[1]) && strcmp(s.names[1], s.names[2]) &&
	      strstr(s.names[0], "/g-1") && !strchr(s.names[0], '%'),
	      "-G: names from strftime's %%s of each interval (%s, %s, %s)",
	      s.names[0], s.names[1], s.names[2]);
}

static void test_tick(void)
{
	char err[ZCAP_ERRBUF_SIZE] = "";
	ZCAP_DECLARE(zcap_dump_rotate, rot, .interval_ns = 1000000000ull);
	zcap_dumper_t *d = open_rot("t-%s.pcap", ZCAP_FMT_PCAP, &rot, err);
	uint64_t t0 = now_real();
	int r1, r2;

	if (!d) {
		CHECK(0, "tick: opens (%s)", err);
		return;
	}
	r1 = zcap_dump_tick(d, t0 + 100000000ull);
	r2 = zcap_dump_tick(d, t0 + 1500000000ull);
	CHECK(r1 == 0 && r2 == 0 && zcap_dump_files(d) == 2,
	      "-G: a quiet link still gets its next file at the tick after the "
	      "interval, not before (%u files)", zcap_dump_files(d));
	zcap_dump_close(d, NULL, 0, 0);
}

static void test_refused(void)
{
	char err[ZCAP_ERRBUF_SIZE] = "";
	ZCAP_DECLARE(zcap_dump_rotate, rot, .max_bytes = 1000);
	ZCAP_DECLARE(zcap_dump_info, info, .linktype = 1, .rotate = &rot);
	zcap_dumper_t *d;

	d = zcap_dump_open("-", ZCAP_FMT_PCAP, &info, err);
	CHECK(!d && errno == EINVAL && strstr(err, "stdout"),
	      "rotation to stdout: EINVAL (%s)", err);
	d = zcap_dump_open("/dev/null", ZCAP_FMT_PCAP, &info, err);
	CHECK(!d && errno == EEXIST && strstr(err, "not a regular file") &&
	      !exists("/dev/.null.part"),
	      "rotation onto /dev/null: refused, nothing made (%s)", err);
	d = zcap_dump_open(path("nodir/x.pcap"), ZCAP_FMT_PCAP, &info, err);
	CHECK(!d && errno == ENOENT, "rotation into a missing directory: ENOENT (%s)",
	      err);
}

static void test_ifaces(void)
{
	static const char *const names[] = { "eth0", "eth1", "eth2" };
	char err[ZCAP_ERRBUF_SIZE] = "", cmd[1024], line[64];
	ZCAP_DECLARE(zcap_dump_info, info, .linktype = 1, .ifnames = names,
		     .n_ifnames = 3);
	ZCAP_DECLARE(zcap_stats, st, .received = 2);
	zcap_dumper_t *d;
	FILE *f;
	int ok = 1, n = 0, bad;

	d = zcap_dump_open(path("m.pcap"), ZCAP_FMT_PCAP, &info, err);
	CHECK(!d && errno == EINVAL && strstr(err, "pcapng"),
	      "several interfaces in pcap: EINVAL (%s)", err);
	d = zcap_dump_open(path("m.pcapng"), ZCAP_FMT_PCAPNG, &info, err);
	CHECK(d, "several interfaces in pcapng: opens (%s)", err);
	if (!d)
		return;
	for (uint32_t i = 0; i < 6; i++) {
		struct zcap_pkt p = pkt(i, 60, now_real());

		ok &= zcap_dump_write_if(d, &p, i % 3) == 0;
	}
	bad = zcap_dump_write_if(d, &(struct zcap_pkt){ .data = frame, .caplen = 60,
							 .len = 60 }, 3);
	CHECK(ok && bad == -1 && errno == EINVAL,
	      "write_if: interfaces 0..2 taken, 3 refused with EINVAL");
	for (uint32_t k = 0; k < 3; k++)
		ok &= zcap_dump_stats(d, k, &st, 1, 2) == 0;
	CHECK(ok && zcap_dump_close(d, NULL, 0, 0) == 0,
	      "a statistics block per interface; closes");
	snprintf(cmd, sizeof(cmd), "tshark -r %s -T fields -e frame.interface_id "
		 "-e frame.interface_name 2>/dev/null", path("m.pcapng"));
	f = popen(cmd, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char want[32];

		snprintf(want, sizeof(want), "%d\teth%d\n", n % 3, n % 3);
		ok &= !strcmp(line, want);
		n++;
	}
	if (f)
		pclose(f);
	CHECK(ok && n == 6, "tshark: each packet on its interface, by name (%d)", n);
	snprintf(cmd, sizeof(cmd), "capinfos %s 2>/dev/null | grep -c "
		 "'Number of stat entries = 1'", path("m.pcapng"));
	f = popen(cmd, "r");
	n = f && fgets(line, sizeof(line), f) ? atoi(line) : 0;
	if (f)
		pclose(f);
	CHECK(n == 3, "capinfos: three interfaces, a statistics entry each (%d)", n);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_size();
	test_big_record();
	test_ring();
	test_interval();
	test_tick();
	test_refused();
	test_ifaces();
	if (!check_failed) {
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return check_done();
}
