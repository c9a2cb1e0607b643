/* SPDX-License-Identifier: MIT */
/*
 * zcap-verify: checks a pcap/pcapng capture of zcap-gen's frames: every frame
 * intact, each sequence number once, in order, none missing, timestamps
 * never going backwards. One line of counts goes to stdout; the exit status
 * says whether the capture passed, and stderr says why not.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

#include "frame.h"

#define PROG "zcap-verify"
#include "util.h"

enum {
	OPT_EXPECT = 256,
	OPT_START_SEQ,
	OPT_ALLOW_LOSS,
	OPT_ALLOW_FOREIGN,
	OPT_ALLOW_TRUNCATED,
	OPT_ALLOW_REORDER,
};

struct opts {
	bool have_expect;
	uint64_t expect;
	uint64_t start_seq;
	bool allow_loss;
	bool allow_foreign;
	bool allow_truncated;
	bool allow_reorder;
	char **files;	/* read in this order, as one capture */
	int nfiles;
};

struct counts {
	uint64_t total, valid, foreign, corrupt, truncated;
	uint64_t duplicate, reordered, missing, ts_backwards;
	uint64_t first_seq, last_seq;
	bool have_seq;
	uint64_t prev_seq;	/* last new seq, for reordering */
};

static void usage(FILE *out)
{
	fputs("Usage: " PROG " [--expect N] [--start-seq N] [--allow-loss] [--allow-foreign]\n"
	      "                   [--allow-truncated] [--allow-reorder] FILE...\n"
	      "\n"
	      "Checks a pcap or pcapng capture of zcap-gen's frames. Several files\n"
	      "(a rotation's, in order) are checked as one capture, each read on\n"
	      "its own by libpcap.\n"
	      "\n"
	      "      --expect N       N frames were sent: seqs start-seq..start-seq+N-1\n"
	      "                       must all be present (else counted as missing)\n"
	      "      --start-seq N    first sequence number sent (default 0)\n"
	      "      --allow-loss     missing frames do not fail the check\n"
	      "      --allow-foreign  non-zcap frames do not fail the check\n"
	      "      --allow-truncated  frames cut short (caplen < len, a snap length)\n"
	      "                       do not fail the check\n"
	      "      --allow-reorder  frames out of order do not fail the check (a\n"
	      "                       capture of several queues, or a link that\n"
	      "                       reorders); they are still counted\n"
	      "  -h, --help           show this help\n"
	      "\n"
	      "Prints one line to stdout:\n"
	      "  " PROG ": total=N valid=N foreign=N corrupt=N truncated=N duplicate=N\n"
	      "    reordered=N missing=N ts_backwards=N first_seq=N last_seq=N\n"
	      "    [files=N, with more than one]\n"
	      "A truncated frame (caplen < len) fails the check unless\n"
	      "--allow-truncated; its content cannot be checked, but its seq still\n"
	      "counts for duplicate, reordered and missing when it was captured. A\n"
	      "corrupt frame's seq cannot be trusted, so with\n"
	      "--expect its seq also counts as missing.\n"
	      "Exit 0 when the capture passes, 1 when it fails or cannot be read,\n"
	      "2 on bad usage.\n", out);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "expect",        required_argument, NULL, OPT_EXPECT },
		{ "start-seq",     required_argument, NULL, OPT_START_SEQ },
		{ "allow-loss",    no_argument,       NULL, OPT_ALLOW_LOSS },
		{ "allow-foreign", no_argument,       NULL, OPT_ALLOW_FOREIGN },
		{ "allow-truncated", no_argument,     NULL, OPT_ALLOW_TRUNCATED },
		{ "allow-reorder", no_argument,       NULL, OPT_ALLOW_REORDER },
		{ "help",          no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;	/* our messages, prefixed with the tool's name */
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_EXPECT:
			o->expect = parse_num("frame count", optarg, 0, UINT64_MAX);
			o->have_expect = true;
			break;
		case OPT_START_SEQ:
			o->start_seq = parse_num("start sequence number", optarg, 0, UINT64_MAX);
			break;
		case OPT_ALLOW_LOSS:
			o->allow_loss = true;
			break;
		case OPT_ALLOW_FOREIGN:
			o->allow_foreign = true;
			break;
		case OPT_ALLOW_TRUNCATED:
			o->allow_truncated = true;
			break;
		case OPT_ALLOW_REORDER:
			o->allow_reorder = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt > 0 && optopt < 256)
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_error("no capture file given");
	o->files = argv + optind;
	o->nfiles = argc - optind;
	if (o->have_expect && o->expect > UINT64_MAX - o->start_seq)
		usage_error("--start-seq + --expect is beyond the 64-bit sequence space");
}

/*
 * The set of seqs seen: a bitmap in 8 KiB pages (65536 seqs each) found
 * through a small hash table. Exact at any seq, so duplicates are exact,
 * yet a stray huge seq (from a truncated frame) costs one page, not a
 * bitmap spanning the gap. 10M consecutive seqs take 153 pages, 1.2 MiB.
 */
#define PAGE_SHIFT 16
#define PAGE_SEQS (1ull << PAGE_SHIFT)
#define PAGE_WORDS (PAGE_SEQS / 64)

struct page {
	uint64_t key;		/* seq >> PAGE_SHIFT */
	uint64_t *bits;		/* NULL: slot unused */
};

struct seqset {
	struct page *tab;
	size_t cap;		/* power of two */
	size_t used;
	struct page *last;	/* seqs mostly arrive in order: skip the hash */
};

static size_t page_hash(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

static struct page *seqset_slot(struct page *tab, size_t cap, uint64_t key)
{
	size_t i = page_hash(key, cap);

	while (tab[i].bits && tab[i].key != key)
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

static void seqset_grow(struct seqset *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 64;
	struct page *ntab = calloc(ncap, sizeof(*ntab));

	if (!ntab)
		die("out of memory");
	for (size_t i = 0; i < s->cap; i++)
		if (s->tab[i].bits)
			*seqset_slot(ntab, ncap, s->tab[i].key) = s->tab[i];
	free(s->tab);
	s->tab = ntab;
	s->cap = ncap;
	s->last = NULL;
}

/* Marks seq as seen; returns whether it had been seen before. */
static bool seqset_test_and_set(struct seqset *s, uint64_t seq)
{
	uint64_t key = seq >> PAGE_SHIFT, bit = seq & (PAGE_SEQS - 1), m;
	struct page *p = s->last;

	if (!p || p->key != key) {
		if (s->used * 2 >= s->cap)
			seqset_grow(s);
		p = seqset_slot(s->tab, s->cap, key);
		if (!p->bits) {
			p->bits = calloc(PAGE_WORDS, sizeof(uint64_t));
			if (!p->bits)
				die("out of memory");
			p->key = key;
			s->used++;
		}
		s->last = p;
	}
	m = 1ull << (bit % 64);
	if (p->bits[bit / 64] & m)
		return true;
	p->bits[bit / 64] |= m;
	return false;
}

/* Seen seqs in [lo, hi), hi > lo. Walks the pages held, not the range, so
 * a huge --expect costs nothing extra. */
static uint64_t seqset_count(const struct seqset *s, uint64_t lo, uint64_t hi)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->cap; i++) {
		const struct page *p = &s->tab[i];
		uint64_t base, from, to;

		if (!p->bits)
			continue;
		base = p->key << PAGE_SHIFT;
		/* base + PAGE_SEQS - 1 cannot overflow; compare inclusively. */
		if (base + (PAGE_SEQS - 1) < lo || base >= hi)
			continue;
		from = lo > base ? lo - base : 0;
		to = hi - base < PAGE_SEQS ? hi - base : PAGE_SEQS;
		while (from < to) {
			uint64_t w = from / 64, b = from % 64;
			uint64_t end = (w + 1) * 64 < to ? (w + 1) * 64 : to;
			uint64_t width = end - from;
			uint64_t mask = (width == 64 ? ~0ull : (1ull << width) - 1) << b;

			n += (uint64_t)__builtin_popcountll(p->bits[w] & mask);
			from = end;
		}
	}
	return n;
}

static void seqset_free(struct seqset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->tab[i].bits);
	free(s->tab);
}

static void account_seq(struct counts *c, struct seqset *seen, uint64_t seq)
{
	if (!c->have_seq)
		c->first_seq = seq;
	c->last_seq = seq;
	if (seqset_test_and_set(seen, seq)) {
		/* A duplicate says nothing new about order: leave prev_seq,
		 * so 0 1 2 1 3 is one duplicate, not also a reordering. */
		c->duplicate++;
		return;
	}
	if (c->have_seq && seq < c->prev_seq)
		c->reordered++;
	c->prev_seq = seq;
	c->have_seq = true;
}

static void add_reason(char *buf, size_t size, uint64_t n, const char *what)
{
	size_t len = strlen(buf);

	if (!n)
		return;
	snprintf(buf + len, size - len, "%s%" PRIu64 " %s", len ? ", " : "", n, what);
}

static pcap_t *open_file(const char *file)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	int dlt;

	/* Nanosecond precision so that two frames in the same microsecond
	 * keep their order, and the timestamp check sees real steps. */
	pcap_t *p = pcap_open_offline_with_tstamp_precision(file,
							    PCAP_TSTAMP_PRECISION_NANO,
							    errbuf);
	if (!p) {
		/* libpcap names the file in some messages but not others. */
		if (strncmp(errbuf, file, strlen(file)) == 0)
			die("%s", errbuf);
		die("%s: %s", file, errbuf);
	}
	dlt = pcap_datalink(p);
	if (dlt != DLT_EN10MB)
		die("%s: link type %s, not Ethernet: cannot hold zcap frames",
		    file, pcap_datalink_val_to_name(dlt) ?: "unknown");
	return p;
}

int main(int argc, char **argv)
{
	struct counts c = { 0 };
	struct seqset seen = { 0 };
	struct pcap_pkthdr *h;
	const u_char *data;
	struct opts o;
	uint64_t prev_ts = 0;
	char reason[512] = "";
	const char *file = NULL;
	pcap_t *p = NULL;
	int r = 0, f = 0;

	parse_args(argc, argv, &o);

	for (;;) {
		struct zcap_frame_info info;
		uint64_t ts;

		if (!p) {
			if (f == o.nfiles)
				break;
			file = o.files[f++];
			p = open_file(file);
		}
		r = pcap_next_ex(p, &h, &data);
		if (r == -1)
			break;
		if (r != 1) {
			pcap_close(p);
			p = NULL;
			continue;
		}
		ts = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
		if (c.total++ && ts < prev_ts)
			c.ts_backwards++;
		prev_ts = ts;

		switch (zcap_frame_check(data, h->caplen, h->len, &info)) {
		case ZCAP_FRAME_OK:
			c.valid++;
			account_seq(&c, &seen, info.seq);
			break;
		case ZCAP_FRAME_FOREIGN:
			c.foreign++;
			break;
		case ZCAP_FRAME_TRUNCATED:
			c.truncated++;
			if (info.has_seq)
				account_seq(&c, &seen, info.seq);
			break;
		case ZCAP_FRAME_BAD_LENGTH:
		case ZCAP_FRAME_BAD_CHECKSUM:
			c.corrupt++;
			break;
		}
	}

	if (o.have_expect && o.expect)
		c.missing = o.expect - seqset_count(&seen, o.start_seq, o.start_seq + o.expect);

	printf(PROG ": total=%" PRIu64 " valid=%" PRIu64 " foreign=%" PRIu64
	       " corrupt=%" PRIu64 " truncated=%" PRIu64 " duplicate=%" PRIu64
	       " reordered=%" PRIu64 " missing=%" PRIu64 " ts_backwards=%" PRIu64
	       " first_seq=%" PRIu64 " last_seq=%" PRIu64,
	       c.total, c.valid, c.foreign, c.corrupt, c.truncated, c.duplicate,
	       c.reordered, c.missing, c.ts_backwards, c.first_seq, c.last_seq);
	if (o.nfiles > 1)
		printf(" files=%d", o.nfiles);
	printf("\n");
	fflush(stdout);

	/* A damaged file tail is reported after the counts, which still
	 * describe every packet read up to it. */
	if (r == -1)
		die("%s: read error after %" PRIu64 " packets: %s",
		    file, c.total, pcap_geterr(p));
	seqset_free(&seen);

	add_reason(reason, sizeof(reason), c.corrupt, "corrupt");
	add_reason(reason, sizeof(reason), c.duplicate, "duplicate");
	if (!o.allow_reorder)
		add_reason(reason, sizeof(reason), c.reordered, "reordered");
	add_reason(reason, sizeof(reason), c.ts_backwards, "timestamps going backwards");
	if (!o.allow_loss)
		add_reason(reason, sizeof(reason), c.missing, "missing");
	if (!o.allow_foreign)
		add_reason(reason, sizeof(reason), c.foreign, "foreign");
	if (!o.allow_truncated)
		add_reason(reason, sizeof(reason), c.truncated, "truncated");
	if (reason[0]) {
		fprintf(stderr, PROG ": FAIL: %s\n", reason);
		return 1;
	}
	return 0;
}
