/* SPDX-License-Identifier: MIT */
/*
 * The ABI promise of include/zcap.h: a program built against an older,
 * shorter struct keeps working with a newer libzcap, and one built against
 * a newer, longer struct is refused only when it sets a field the library
 * does not know. Linked against the shared library (build/libzcap.so.1),
 * as an installed program would be.
 *
 * The structs below are frozen copies of the 1.0 layouts, as a program
 * compiled against the 1.0 header has them, and of the layouts each later
 * version grew to: when a field is added to zcap.h, these must not change
 * (a new version gets a copy of its own).
 */
#define _GNU_SOURCE	/* dlvsym */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zcap.h"
#include "check.h"

/* 1.0, exactly */
struct opts_v1_0 {
	size_t sz;
	const char *backend;
	const char *filter;
	uint64_t ring_bytes;
	uint32_t snaplen;
	uint32_t flags;
	uint32_t direction;
	const struct zcap_tpacket_opts *tpacket;
	const struct zcap_xdp_opts *xdp;
};

struct stats_v1_0 {
	size_t sz;
	uint64_t received, drop_ring_full, drop_if, filtered, truncated, bytes,
		 pending;
};

/* 1.5: ZCAP_OPT_FORWARD's counters */
struct stats_v1_5 {
	struct stats_v1_0 v1;
	uint64_t forwarded, forward_dropped;
};

struct dump_info_v1_0 {
	size_t sz;
	const char *ifname;
	int linktype;
	uint32_t snaplen;
	int nsec;
	const char *app;
	size_t bufsize;
};

/* 1.3: fanout groups, rotation, several interfaces */
struct opts_v1_3 {
	struct opts_v1_0 v1;
	uint32_t fanout_id;
};

struct dump_info_v1_3 {
	struct dump_info_v1_0 v1;
	const struct zcap_dump_rotate *rotate;
	const char *const *ifnames;
	uint32_t n_ifnames;
};

struct tx_opts_v1_0 {
	size_t sz;
	const char *backend;
	uint32_t frames;
	const struct zcap_xdp_opts *xdp;
};

/* An older program: the struct ended after snaplen. */
struct opts_short {
	size_t sz;
	const char *backend;
	const char *filter;
	uint64_t ring_bytes;
	uint32_t snaplen;
};

/* A newer program: the latest plus a field this library does not know. */
struct opts_newer {
	struct opts_v1_3 v1;
	uint64_t future;
};

struct stats_newer {
	struct stats_v1_5 v1;
	uint64_t future;
};

static zcap_t *open_as(const void *opts, char *err)
{
	err[0] = '\0';
	errno = 0;
	return zcap_open("lo", (const struct zcap_opts *)opts, err);
}

static void test_rx_opts(void)
{
	char err[ZCAP_ERRBUF_SIZE];
	struct opts_v1_0 v1;
	struct opts_short sh;
	struct opts_newer nw;
	zcap_t *h;

	CHECK(sizeof(struct zcap_opts) == sizeof(struct opts_v1_3) &&
	      sizeof(struct zcap_stats) == sizeof(struct stats_v1_5) &&
	      sizeof(struct zcap_tx_opts) == sizeof(struct tx_opts_v1_0) &&
	      sizeof(struct zcap_dump_info) == sizeof(struct dump_info_v1_3),
	      "this header's structs are the 1.5 layout (update the copies here "
	      "only by adding a version)");

	memset(&v1, 0, sizeof(v1));
	v1.sz = sizeof(v1);
	v1.backend = "tpacket";
	v1.ring_bytes = 1u << 20;
	v1.snaplen = 96;
	h = open_as(&v1, err);
	CHECK(h && zcap_snaplen(h) == 96 && zcap_ring_bytes(h) == (1u << 20) &&
	      !strcmp(zcap_backend_name(h), "tpacket"),
	      "a 1.0 program's options are honoured (%s)", h ? "opened" : err);
	zcap_close(h);

	memset(&sh, 0, sizeof(sh));
	sh.sz = sizeof(sh);
	sh.ring_bytes = 1u << 20;
	sh.snaplen = 200;
	h = open_as(&sh, err);
	CHECK(h && zcap_snaplen(h) == 200,
	      "an older, shorter struct works, the rest at defaults (%s)",
	      h ? "opened" : err);
	zcap_close(h);

	memset(&nw, 0, sizeof(nw));
	nw.v1.v1.sz = sizeof(nw);
	nw.v1.v1.ring_bytes = 1u << 20;
	h = open_as(&nw, err);
	CHECK(h, "a newer struct whose unknown fields are zero works (%s)",
	      h ? "opened" : err);
	zcap_close(h);

	nw.future = 1;
	h = open_as(&nw, err);
	CHECK(!h && errno == EINVAL && strstr(err, "unknown"),
	      "a newer struct with an unknown field set is refused: %s",
	      h ? "(opened)" : err);
	zcap_close(h);

	memset(&v1, 0, sizeof(v1));
	h = open_as(&v1, err);
	CHECK(!h && errno == EINVAL && strstr(err, "ZCAP_DECLARE"),
	      "sz 0 (a struct nobody sized) is refused: %s", h ? "(opened)" : err);
	zcap_close(h);
}

static void test_tpacket_opts(void)
{
	char err[ZCAP_ERRBUF_SIZE];
	struct { struct zcap_tpacket_opts tp; uint32_t future; } nw;
	ZCAP_DECLARE(zcap_opts, o, .ring_bytes = 1u << 20);
	zcap_t *h;

	memset(&nw, 0, sizeof(nw));
	nw.tp.sz = sizeof(nw);
	nw.tp.block_bytes = 1u << 14;
	o.tpacket = &nw.tp;
	h = open_as(&o, err);
	CHECK(h, "nested options: a newer zcap_tpacket_opts with zero tail works (%s)",
	      h ? "opened" : err);
	zcap_close(h);
	nw.future = 3;
	h = open_as(&o, err);
	CHECK(!h && errno == EINVAL && strstr(err, "zcap_tpacket_opts"),
	      "nested options: an unknown field set is refused, naming the struct: %s",
	      h ? "(opened)" : err);
	zcap_close(h);
}

static void test_stats(void)
{
	char err[ZCAP_ERRBUF_SIZE];
	ZCAP_DECLARE(zcap_opts, o, .ring_bytes = 1u << 20);
	struct stats_newer nw;
	struct { size_t sz; uint64_t received; uint64_t canary; } sh;
	zcap_t *h = open_as(&o, err);

	CHECK(h, "open for the stats checks (%s)", h ? "opened" : err);
	if (!h)
		return;
	memset(&nw, 0xa5, sizeof(nw));
	nw.v1.v1.sz = sizeof(nw);
	CHECK(zcap_stats(h, (struct zcap_stats *)&nw) == 0 && nw.future == 0 &&
	      nw.v1.v1.sz == sizeof(nw) && nw.v1.v1.pending == 0 && nw.v1.forwarded == 0,
	      "stats into a newer, longer struct: known fields filled, the rest zeroed");

	memset(&sh, 0xa5, sizeof(sh));
	sh.sz = offsetof(typeof(sh), canary);
	CHECK(zcap_stats(h, (struct zcap_stats *)&sh) == 0 && sh.received == 0 &&
	      sh.canary == 0xa5a5a5a5a5a5a5a5ull,
	      "stats into an older, shorter struct: nothing written past its size");

	sh.sz = 0;
	CHECK(zcap_stats(h, (struct zcap_stats *)&sh) == -1 && errno == EINVAL,
	      "stats into a struct without sz: EINVAL");
	zcap_close(h);
}

static void test_tx_opts(void)
{
	char err[ZCAP_ERRBUF_SIZE] = "";
	struct { struct tx_opts_v1_0 v1; uint32_t future; } nw;
	zcap_tx_t *t;

	/* Options are checked before the interface: EINVAL, not ENODEV. */
	memset(&nw, 0, sizeof(nw));
	nw.v1.sz = sizeof(nw);
	nw.future = 9;
	errno = 0;
	t = zcap_tx_open("zcapnosuch0", (struct zcap_tx_opts *)&nw, err);
	CHECK(!t && errno == EINVAL && strstr(err, "zcap_tx_opts"),
	      "tx: a newer struct with an unknown field set is refused: %s", err);
	nw.future = 0;
	errno = 0;
	t = zcap_tx_open("zcapnosuch0", (struct zcap_tx_opts *)&nw, err);
	CHECK(!t && errno == ENODEV,
	      "tx: with a zero tail it gets as far as the interface: %s", err);
	nw.v1.sz = sizeof(nw.v1);
	nw.v1.backend = "nosuch";
	t = zcap_tx_open("zcapnosuch0", (struct zcap_tx_opts *)&nw, err);
	CHECK(!t && errno == EINVAL && strstr(err, "unknown backend"),
	      "tx: a 1.0 struct's backend name is checked: %s", err);
}

/* What the shared library exports: the API, in version nodes LIBZCAP_1.0
 * LIBZCAP_1.1 and LIBZCAP_1.2 (lib/libzcap.map), and nothing of its insides. */
static void test_symbols(void)
{
	static const char *const api[] = {
		"zcap_open", "zcap_recv", "zcap_stats", "zcap_set_print",
		"zcap_backend_at", "zcap_tx_open", "zcap_tx_stats", "zcap_dump_open",
	};
	static const char *const api_1_1[] = {
		"zcap_setfilter", "zcap_setfilter_bpf", "zcap_setdirection",
	};
	unsigned int bad = 0;

	for (size_t i = 0; i < sizeof(api) / sizeof(api[0]); i++)
		bad += !dlvsym(RTLD_DEFAULT, api[i], "LIBZCAP_1.0");
	CHECK(bad == 0, "the API is exported as version LIBZCAP_1.0 (%u missing)", bad);
	bad = 0;
	for (size_t i = 0; i < sizeof(api_1_1) / sizeof(api_1_1[0]); i++)
		bad += !dlvsym(RTLD_DEFAULT, api_1_1[i], "LIBZCAP_1.1") +
		       !!dlvsym(RTLD_DEFAULT, api_1_1[i], "LIBZCAP_1.0");
	CHECK(bad == 0, "1.1's functions are in LIBZCAP_1.1 only (%u wrong)", bad);
	CHECK(dlvsym(RTLD_DEFAULT, "zcap_dispatch", "LIBZCAP_1.2") &&
	      !dlvsym(RTLD_DEFAULT, "zcap_dispatch", "LIBZCAP_1.1") &&
	      !dlvsym(RTLD_DEFAULT, "zcap_dispatch", "LIBZCAP_1.0"),
	      "1.2's zcap_dispatch is in LIBZCAP_1.2 only");
	CHECK(!dlsym(RTLD_DEFAULT, "zcap_opts_copy") &&
	      !dlsym(RTLD_DEFAULT, "zcap_backend_get") &&
	      !dlsym(RTLD_DEFAULT, "zcap_netdev_counters"),
	      "internal functions are not exported");
}

static void test_dump_info(void)
{
	char err[ZCAP_ERRBUF_SIZE] = "", path[] = "/tmp/zcap-abi-XXXXXX";
	struct { struct dump_info_v1_3 v1; uint64_t future; } nw;
	zcap_dumper_t *d;
	int fd = mkstemp(path);

	if (fd < 0) {
		CHECK(0, "dump: a temporary file");
		return;
	}
	close(fd);
	unlink(path);
	memset(&nw, 0, sizeof(nw));
	nw.v1.v1.sz = sizeof(nw);
	nw.v1.v1.linktype = 1;
	nw.future = 5;
	d = zcap_dump_open(path, ZCAP_FMT_PCAPNG, (struct zcap_dump_info *)&nw, err);
	CHECK(!d && errno == EINVAL && strstr(err, "zcap_dump_info") &&
	      access(path, F_OK) != 0,
	      "dump: a newer struct with an unknown field set is refused, no file made: %s",
	      err);
	nw.v1.v1.sz = sizeof(nw.v1.v1);
	d = zcap_dump_open(path, ZCAP_FMT_PCAPNG, (struct zcap_dump_info *)&nw.v1, err);
	CHECK(d && zcap_dump_close(d, NULL, 0, 0) == 0,
	      "dump: a 1.0 program's zcap_dump_info works (%s)", d ? "written" : err);
	unlink(path);
}

int main(void)
{
	test_symbols();
	test_rx_opts();
	test_tpacket_opts();
	test_stats();
	test_tx_opts();
	test_dump_info();
	return check_done();
}
