/* SPDX-License-Identifier: MIT */
/*
 * libzcap-pcap.so: libpcap's live-capture API on libzcap, for unchanged,
 * dynamically linked pcap programs (LD_PRELOAD, set by tools/zcap-run).
 *
 * Handles. Every live handle the program gets is a REAL libpcap handle,
 * made by the system's pcap_open_dead_with_tstamp_precision(), so that the
 * functions we do not interpose (pcap_geterr, pcap_list_datalinks,
 * pcap_datalink_val_to_name, pcap_dump, pcap_freecode, ...) keep working
 * on it. A side table maps that pointer to our state (the zcap_t, the
 * options, the batch in hand). Pointers not in the table (files, dead
 * handles the program made itself) are handed to the real libpcap
 * unchanged.
 *
 * Snap length and precision. The pointer must stay the same from
 * pcap_create() to pcap_close(), but a dead handle's snaplen, link type and
 * time-stamp precision are fixed when it is made, and pcap_set_snaplen()
 * and pcap_set_tstamp_precision() come later. So pcap_create() makes a
 * provisional dead handle (the one the program holds: its errbuf is where
 * our messages go, and what the real pcap_geterr returns), and
 * pcap_activate() makes a second dead handle with the final values. The
 * calls that read those values from a handle are interposed and given the
 * second one: pcap_snapshot, pcap_datalink, pcap_get_tstamp_precision,
 * pcap_compile, pcap_dump_open, pcap_dump_open_append, pcap_dump_fopen.
 *
 * Filters. pcap_setfilter()'s compiled program goes to
 * zcap_setfilter_bpf(), and pcap_setdirection() to zcap_setdirection():
 * libzcap runs them in the kernel where the backend allows (tpacket, pfzc;
 * in user space on xdp), and checks in user space what the ring took under
 * the old filter, as libpcap does.
 *
 * Zero copy: callbacks get pointers into the ring. pcap_loop and
 * pcap_dispatch run on zcap_dispatch(): each packet is read from the ring
 * just before its callback, with no call into libzcap per packet, and each
 * block goes back to the kernel as soon as its last callback returned.
 * pcap_next/pcap_next_ex take packets into a batch one zcap_recv() at a
 * time, and the batch goes back (zcap_release) when all of it was handed
 * out and the next call begins.
 *
 * Environment: ZCAP_RUN_BACKEND, ZCAP_RUN_RING_BYTES, ZCAP_RUN_VERBOSE
 * (see tools/zcap-run --help).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zcap.h"

#define EXPORT __attribute__((visibility("default")))
#define VLAN_OFFSET 12		/* after the destination and source MAC */
#define VLAN_TAG_LEN 4
#define BATCH 256
#define MAX_HANDLES 256
/*
 * The ring when the program sets none, and its blocks: 16 MiB in blocks of
 * 512 KiB (32 blocks), where libpcap has 2 MiB in blocks of 256 KiB and
 * zcap 128 MiB in blocks of 1 MiB.
 *
 * The kernel wakes a TPACKET_V3 reader once per full block, and a wakeup
 * costs far more than a packet: halving the wakeups is what made tcpdump
 * under zcap-run cheaper per packet than plain tcpdump. Side by side (both
 * on the capture core, the same frames at one rate, 5-6 runs), zcap-run
 * over plain: with 256 KiB blocks in 8 MiB, 0.97-0.98 at 64 B and 0.95-1.05
 * at 1518 B; with 512 KiB in 16 MiB, 0.87-1.02 at 64 B, 0.87-0.91 at 512 B,
 * 0.94-0.97 at 1518 B, 0.95-0.99 at random sizes.
 *
 * A block goes back to the kernel only once read to the end, so larger
 * blocks in the same ring leave it fewer: with a busy loop on the capture
 * core at 1518 B, 1 MiB blocks in 8 MiB lost 3,522 of 20,000,000 frames
 * (20 runs) and 512 KiB in 8 MiB 290 of 30,000,000, where 512 KiB in 16 MiB
 * lost none of 20,000,000 (and none of 8,000,000 at random sizes).
 */
#define ZR_DEFAULT_RING_BYTES (16ull << 20)
#define ZR_BLOCK_BYTES (512u << 10)

struct zh {
	pcap_t *p;		/* what the program holds (provisional dead) */
	pcap_t *fin;		/* dead handle with the final values */
	char *dev;
	int activated;
	/* options */
	int snaplen, promisc, to_ms, immediate, nonblock, precision, rfmon;
	int timed_wait;		/* read_timeout(): the backend filters in user space */
	int dlt;		/* pcap_set_datalink: EN10MB or DOCSIS, as libpcap */
	uint64_t ifdrop_base;	/* if_drops() at activation */
	uint64_t ring_bytes;
	/* state */
	zcap_t *z;
	zcap_tx_t *tx;
	struct zcap_pkt pkts[BATCH];
	int n, idx;
	uint64_t sec_base;	/* ts_split(): the last packet's second, in ns */
	time_t sec;		/* ... and in seconds */
	atomic_int brk;		/* pcap_breakloop, from any thread or a signal handler */
	struct pcap_pkthdr next_hdr;
	u_char *vbuf;		/* retag(): snaplen bytes */
};

/*
 * The live handles. find() runs on every call, once per packet with
 * pcap_next_ex, on file handles too (tshark reading a file under
 * zcap-run): with no live handle it returns at once, and a live one sits
 * near the slot its pointer hashes to.
 */
static _Atomic(struct zh *) table[MAX_HANDLES];
static _Atomic(pcap_t *) keys[MAX_HANDLES];	/* table[i]->p, or NULL */
static atomic_int nlive;

static unsigned int slot_of(const pcap_t *p)
{
	return (unsigned int)(((uintptr_t)p >> 4) * 0x9e3779b1u) % MAX_HANDLES;
}

static struct zh *find(pcap_t *p)
{
	unsigned int s;

	if (!p || !atomic_load(&nlive))
		return NULL;
	s = slot_of(p);
	for (int i = 0; i < MAX_HANDLES; i++) {
		unsigned int j = (s + i) % MAX_HANDLES;
		/* the key, not h->p: another thread's pcap_close may be
		 * freeing the entry in this slot */
		if (atomic_load(&keys[j]) == p)
			return atomic_load(&table[j]);
	}
	return NULL;
}

static int table_add(struct zh *h)
{
	unsigned int s = slot_of(h->p);

	for (int i = 0; i < MAX_HANDLES; i++) {
		struct zh *exp = NULL;
		if (atomic_compare_exchange_strong(&table[(s + i) % MAX_HANDLES], &exp, h)) {
			atomic_store(&keys[(s + i) % MAX_HANDLES], h->p);
			atomic_fetch_add(&nlive, 1);
			return 0;
		}
	}
	return -1;
}

static void table_del(struct zh *h)
{
	for (int i = 0; i < MAX_HANDLES; i++) {
		if (atomic_load(&table[i]) != h)
			continue;
		atomic_store(&keys[i], NULL);
		atomic_store(&table[i], NULL);
		atomic_fetch_sub(&nlive, 1);
		return;
	}
}

/* The real libpcap's functions. */
#define REAL(name, ret, args)						\
	static ret (*real_##name) args;					\
	static ret (*get_##name(void)) args				\
	{								\
		if (!real_##name)					\
			real_##name = dlsym(RTLD_NEXT, #name);		\
		return real_##name;					\
	}
REAL(pcap_open_dead_with_tstamp_precision, pcap_t *, (int, int, u_int))
REAL(pcap_close, void, (pcap_t *))
REAL(pcap_set_snaplen, int, (pcap_t *, int))
REAL(pcap_set_promisc, int, (pcap_t *, int))
REAL(pcap_set_timeout, int, (pcap_t *, int))
REAL(pcap_set_buffer_size, int, (pcap_t *, int))
REAL(pcap_set_immediate_mode, int, (pcap_t *, int))
REAL(pcap_set_tstamp_precision, int, (pcap_t *, int))
REAL(pcap_set_tstamp_type, int, (pcap_t *, int))
REAL(pcap_set_rfmon, int, (pcap_t *, int))
REAL(pcap_can_set_rfmon, int, (pcap_t *))
REAL(pcap_get_tstamp_precision, int, (pcap_t *))
REAL(pcap_activate, int, (pcap_t *))
REAL(pcap_loop, int, (pcap_t *, int, pcap_handler, u_char *))
REAL(pcap_dispatch, int, (pcap_t *, int, pcap_handler, u_char *))
REAL(pcap_next, const u_char *, (pcap_t *, struct pcap_pkthdr *))
REAL(pcap_next_ex, int, (pcap_t *, struct pcap_pkthdr **, const u_char **))
REAL(pcap_breakloop, void, (pcap_t *))
REAL(pcap_setfilter, int, (pcap_t *, struct bpf_program *))
REAL(pcap_setdirection, int, (pcap_t *, pcap_direction_t))
REAL(pcap_setnonblock, int, (pcap_t *, int, char *))
REAL(pcap_getnonblock, int, (pcap_t *, char *))
REAL(pcap_get_selectable_fd, int, (pcap_t *))
REAL(pcap_fileno, int, (pcap_t *))
REAL(pcap_stats, int, (pcap_t *, struct pcap_stat *))
REAL(pcap_datalink, int, (pcap_t *))
REAL(pcap_list_datalinks, int, (pcap_t *, int **))
REAL(pcap_set_datalink, int, (pcap_t *, int))
REAL(pcap_snapshot, int, (pcap_t *))
REAL(pcap_file, FILE *, (pcap_t *))
REAL(pcap_is_swapped, int, (pcap_t *))
REAL(pcap_inject, int, (pcap_t *, const void *, size_t))
REAL(pcap_sendpacket, int, (pcap_t *, const u_char *, int))
REAL(pcap_compile, int, (pcap_t *, struct bpf_program *, const char *, int, bpf_u_int32))
REAL(pcap_dump_open, pcap_dumper_t *, (pcap_t *, const char *))
REAL(pcap_dump_open_append, pcap_dumper_t *, (pcap_t *, const char *))
REAL(pcap_dump_fopen, pcap_dumper_t *, (pcap_t *, FILE *))
REAL(pcap_geterr, char *, (pcap_t *))

/* A message in the handle's errbuf, where the real pcap_geterr finds it. */
static void seterr(struct zh *h, const char *fmt, ...)
{
	char *eb = get_pcap_geterr()(h->p);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(eb, PCAP_ERRBUF_SIZE, fmt, ap);
	va_end(ap);
}

/*
 * Where ZCAP_RUN_VERBOSE's lines go: stderr for "1", else the file it
 * names (with a '/'), appended to. A file matters for Wireshark's capture
 * child: tshark runs dumpcap with its stderr as the message pipe, and any
 * other byte there breaks the capture. NULL: not verbose.
 */
static FILE *verbose(void)
{
	static FILE *f;
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	const char *v = getenv("ZCAP_RUN_VERBOSE");
	FILE *r;

	if (!v || !*v || strcmp(v, "0") == 0)
		return NULL;
	if (!strchr(v, '/'))
		return stderr;
	pthread_mutex_lock(&lock);
	if (!f && (f = fopen(v, "ae")))
		setvbuf(f, NULL, _IOLBF, 0);
	r = f ? f : stderr;
	pthread_mutex_unlock(&lock);
	return r;
}

static void print_fn(enum zcap_log_level level, const char *fmt, va_list ap)
{
	FILE *f = verbose();

	if (level > ZCAP_LOG_INFO || !f)
		return;
	fputs("zcap-run: ", f);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
}

static int not_activated(struct zh *h)
{
	seterr(h, "This handle hasn't been activated yet");
	return PCAP_ERROR_NOT_ACTIVATED;
}

static int activated_err(struct zh *h)
{
	seterr(h, "can't perform  operation on activated capture");
	return PCAP_ERROR_ACTIVATED;
}

/* ---- creation and options ---- */

EXPORT pcap_t *pcap_create(const char *dev, char *errbuf)
{
	struct zh *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "malloc: %s", strerror(errno));
		return NULL;
	}
	h->p = get_pcap_open_dead_with_tstamp_precision()(DLT_EN10MB, ZCAP_SNAPLEN_MAX,
							 PCAP_TSTAMP_PRECISION_MICRO);
	if (!h->p) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "pcap_open_dead failed");
		free(h);
		return NULL;
	}
	h->dev = strdup(dev ? dev : "any");
	h->to_ms = 0;
	h->precision = PCAP_TSTAMP_PRECISION_MICRO;
	if (!h->dev || table_add(h) < 0) {
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "zcap-run: too many handles");
		get_pcap_close()(h->p);
		free(h->dev);
		free(h);
		return NULL;
	}
	return h->p;
}

#define SETTER(name, field)						\
	EXPORT int name(pcap_t *p, int v)				\
	{								\
		struct zh *h = find(p);					\
		if (!h)							\
			return get_##name()(p, v);			\
		if (h->activated)					\
			return activated_err(h);			\
		h->field = v;						\
		return 0;						\
	}
SETTER(pcap_set_snaplen, snaplen)
SETTER(pcap_set_promisc, promisc)
SETTER(pcap_set_timeout, to_ms)
SETTER(pcap_set_immediate_mode, immediate)

EXPORT int pcap_set_buffer_size(pcap_t *p, int v)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_set_buffer_size()(p, v);
	if (h->activated)
		return activated_err(h);
	if (v <= 0)	/* libpcap ignores it, keeping the default */
		return 0;
	h->ring_bytes = (uint64_t)v;
	return 0;
}

EXPORT int pcap_set_tstamp_precision(pcap_t *p, int v)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_set_tstamp_precision()(p, v);
	if (h->activated)
		return activated_err(h);
	if (v != PCAP_TSTAMP_PRECISION_MICRO && v != PCAP_TSTAMP_PRECISION_NANO)
		return PCAP_ERROR_TSTAMP_PRECISION_NOTSUP;
	h->precision = v;
	return 0;
}

EXPORT int pcap_get_tstamp_precision(pcap_t *p)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_get_tstamp_precision()(p);
	return h->precision;
}

/* Only the host's clock (PCAP_TSTAMP_HOST), as libpcap does for a device
 * that lists no time-stamp types. */
EXPORT int pcap_set_tstamp_type(pcap_t *p, int v)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_set_tstamp_type()(p, v);
	if (h->activated)
		return activated_err(h);
	return v == PCAP_TSTAMP_HOST ? 0 : PCAP_WARNING_TSTAMP_TYPE_NOTSUP;
}

EXPORT int pcap_set_rfmon(pcap_t *p, int v)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_set_rfmon()(p, v);
	if (h->activated)
		return activated_err(h);
	h->rfmon = v;
	return 0;
}

EXPORT int pcap_can_set_rfmon(pcap_t *p)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_can_set_rfmon()(p);
	return 0;
}

/* ---- activation ---- */

static uint64_t sysfs_stat(const char *dev, const char *name)
{
	char path[128], buf[32];
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", dev, name);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f))
		v = strtoull(buf, NULL, 10);
	fclose(f);
	return v;
}

/* ps_ifdrop as libpcap counts it on Linux: the interface's missed and FIFO
 * errors since activation, and only in promiscuous mode (zcap's own
 * drop_if, which adds rx_dropped, is in zcap's summary). */
static uint64_t if_drops(const char *dev)
{
	return sysfs_stat(dev, "rx_missed_errors") + sysfs_stat(dev, "rx_fifo_errors");
}

static int errno_to_pcap(int e)
{
	switch (e) {
	case EPERM: case EACCES: return PCAP_ERROR_PERM_DENIED;
	case ENODEV: case ENXIO: return PCAP_ERROR_NO_SUCH_DEVICE;
	case ENETDOWN: return PCAP_ERROR_IFACE_NOT_UP;
	default: return PCAP_ERROR;
	}
}

EXPORT int pcap_activate(pcap_t *p)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_activate()(p);
	if (h->activated)
		return activated_err(h);
	if (h->rfmon) {
		seterr(h, "%s: zcap-run: monitor mode is not supported", h->dev);
		return PCAP_ERROR_RFMON_NOTSUP;
	}
	if (strcmp(h->dev, "any") == 0) {
		seterr(h, "zcap-run: the \"any\" device is not supported: "
		       "zcap captures one Ethernet interface");
		return PCAP_ERROR;
	}
	if (h->snaplen <= 0 || h->snaplen > (int)ZCAP_SNAPLEN_MAX)
		h->snaplen = ZCAP_SNAPLEN_MAX;
	uint64_t ring = h->ring_bytes;
	const char *env = getenv("ZCAP_RUN_RING_BYTES");
	if (!ring && env && *env) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(env, &end, 0);
		if (errno || *end || !v) {
			seterr(h, "zcap-run: ZCAP_RUN_RING_BYTES=%s is not a byte count", env);
			return PCAP_ERROR;
		}
		ring = v;
	}
	if (!ring)
		ring = ZR_DEFAULT_RING_BYTES;
	/* libpcap takes any size (tcpdump -B 4), rounding up to what its
	 * ring needs; libzcap's smallest ring is two 4 KiB blocks */
	if (ring < 8192)
		ring = 8192;
	const char *backend = getenv("ZCAP_RUN_BACKEND");
	if (backend && !*backend)
		backend = NULL;
	ZCAP_DECLARE(zcap_tpacket_opts, tp,
		     .block_bytes = ZR_BLOCK_BYTES,
		     .block_timeout_ms = h->immediate ? 1u : (h->to_ms > 0 ? (uint32_t)h->to_ms : 0));
	ZCAP_DECLARE(zcap_opts, o, .backend = backend, .ring_bytes = ring,
		     .snaplen = (uint32_t)h->snaplen,
		     .flags = h->promisc ? 0 : ZCAP_OPT_NO_PROMISC, .tpacket = &tp);
	char eb[ZCAP_ERRBUF_SIZE] = "";
	FILE *v = verbose();
	zcap_print_fn_t old = v ? zcap_set_print(print_fn) : NULL;
	h->z = zcap_open(h->dev, &o, eb);
	int e = errno;
	if (v)
		zcap_set_print(old);
	if (!h->z) {
		seterr(h, "zcap-run: %s", eb);
		if (v)
			fprintf(v, "zcap-run: %s: no capture: %s\n", h->dev, eb);
		return errno_to_pcap(e);
	}
	if (zcap_linktype(h->z) != DLT_EN10MB) {
		/* the provisional handle says Ethernet */
		seterr(h, "%s: zcap-run: link type %d is not supported", h->dev,
		       zcap_linktype(h->z));
		zcap_close(h->z);
		h->z = NULL;
		return PCAP_ERROR;
	}
	h->snaplen = (int)zcap_snaplen(h->z);
	h->dlt = DLT_EN10MB;
	if (h->promisc)
		h->ifdrop_base = if_drops(h->dev);
	h->fin = get_pcap_open_dead_with_tstamp_precision()(DLT_EN10MB, h->snaplen,
							   (u_int)h->precision);
	h->vbuf = malloc((size_t)h->snaplen);
	if (!h->fin || !h->vbuf) {
		seterr(h, "zcap-run: out of memory");
		if (h->fin)
			get_pcap_close()(h->fin);
		h->fin = NULL;
		free(h->vbuf);
		h->vbuf = NULL;
		zcap_close(h->z);
		h->z = NULL;
		return PCAP_ERROR;
	}
	if (v)
		fprintf(v, "zcap-run: %s: capturing with libzcap, backend %s, "
			"ring %llu bytes, snaplen %d%s\n", h->dev, zcap_backend_name(h->z),
			(unsigned long long)zcap_ring_bytes(h->z), h->snaplen,
			backend ? " (ZCAP_RUN_BACKEND)" : "");
	h->timed_wait = strcmp(zcap_backend_name(h->z), "xdp") == 0;
	h->activated = 1;
	return 0;
}

EXPORT pcap_t *pcap_open_live(const char *dev, int snaplen, int promisc, int to_ms,
			      char *errbuf)
{
	pcap_t *p = pcap_create(dev, errbuf);
	if (!p)
		return NULL;
	pcap_set_snaplen(p, snaplen);
	pcap_set_promisc(p, promisc);
	pcap_set_timeout(p, to_ms);
	int rc = pcap_activate(p);
	if (rc < 0) {
		struct zh *h = find(p);
		snprintf(errbuf, PCAP_ERRBUF_SIZE, "%s", get_pcap_geterr()(h->p));
		pcap_close(p);
		return NULL;
	}
	return p;
}

EXPORT void pcap_close(pcap_t *p)
{
	struct zh *h = find(p);
	if (!h) {
		get_pcap_close()(p);
		return;
	}
	table_del(h);
	zcap_tx_close(h->tx);
	zcap_close(h->z);
	if (h->fin)
		get_pcap_close()(h->fin);
	get_pcap_close()(h->p);
	free(h->vbuf);
	free(h->dev);
	free(h);
}

/* ---- reading ---- */

/*
 * pcap_breakloop sets h->brk, then zcap's own flag (which wakes a blocked
 * zcap_recv). h->brk is the break, taken once by an atomic exchange
 * wherever it is seen; a ZCAP_BREAK from zcap_recv when h->brk was already
 * taken is the flag of a break consumed before, and is ignored.
 */
static int take_break(struct zh *h)
{
	/* a plain load first: the locked exchange only when a break is set
	 * (this runs for every pcap_next_ex) */
	return atomic_load_explicit(&h->brk, memory_order_relaxed) &&
	       atomic_exchange(&h->brk, 0);
}

/*
 * One packet more into the batch in hand, if one is ready: 1, else 0 (none
 * ready, the batch full, or a break or an error, which fill() reports).
 *
 * pcap_next_ex's path. Packets are taken one at a time, each just before
 * it is handed out, as libpcap's reader does: a packet's header is then
 * next to the end of the one the program just read, which the CPU has
 * streamed into its cache. Taking a whole batch first chases every header
 * through memory alone: a cache miss each, one after the other
 * (bench/README.md, issue 12). The batch goes back in one zcap_release().
 */
static inline __attribute__((always_inline)) int extend(struct zh *h)
{
	if (h->n >= BATCH || h->brk)
		return 0;
	if (zcap_recv(h->z, &h->pkts[h->n], 1, 0) != 1)
		return 0;
	h->n++;
	return 1;
}

/* Packets in hand, or a new batch. Returns the count in hand, 0 on timeout,
 * or PCAP_ERROR / PCAP_ERROR_BREAK. */
static int fill(struct zh *h, int timeout_ms)
{
	if (take_break(h))
		return PCAP_ERROR_BREAK;
	if (h->idx < h->n || extend(h))
		return h->n - h->idx;
	if (h->n) {
		zcap_release(h->z);
		h->n = h->idx = 0;
	}
	int r;
	do {
		/* again here: extend() may have taken zcap's flag of a
		 * break that came after the check above */
		if (take_break(h))
			return PCAP_ERROR_BREAK;
		r = zcap_recv(h->z, h->pkts, 1, timeout_ms);
	} while (r == ZCAP_BREAK);
	if (r == ZCAP_ERROR) {
		seterr(h, "%s", zcap_geterr(h->z));
		return PCAP_ERROR;
	}
	h->n = r;
	h->idx = 0;
	return r;
}

/*
 * As libpcap's TPACKET_V3 reader on Linux, a blocking read waits with no
 * time limit: the timeout is the ring's block timeout (zcap_open), which
 * hands over a block that holds packets once it has waited that long, so
 * a read with nothing arriving does not return (pcap(3PCAP): "the timer
 * doesn't start until at least one packet arrives"). A timed wait would
 * cost a clock read and a kernel timer on every wakeup, and plain tcpdump
 * pays neither. Where the filter runs in user space (xdp), traffic it
 * rejects wakes the reader with nothing to hand: there the read returns
 * 0 at the timeout, as libpcap's readers that filter in user space do.
 */
static int read_timeout(struct zh *h)
{
	if (h->nonblock)
		return 0;
	return h->timed_wait && h->to_ms > 0 ? h->to_ms : -1;
}

/*
 * A VLAN tag the kernel took off (into the packet's metadata) goes back in,
 * as libpcap does. libpcap moves the MAC addresses into room it reserved
 * in the ring; here the packet is copied into the handle's buffer, which
 * costs a copy for tagged packets only.
 */
static __attribute__((noinline)) const u_char *retag(struct zh *h, const struct zcap_pkt *k,
			   struct pcap_pkthdr *hdr)
{
	uint16_t tpid = k->vlan_tpid ? k->vlan_tpid : 0x8100;
	const u_char tag[VLAN_TAG_LEN] = { (u_char)(tpid >> 8), (u_char)tpid,
					   (u_char)(k->vlan_tci >> 8), (u_char)k->vlan_tci };
	/* k->caplen >= VLAN_OFFSET, and <= snaplen, so caplen is too */
	uint32_t caplen = k->caplen + VLAN_TAG_LEN;
	if (caplen > (uint32_t)h->snaplen)
		caplen = (uint32_t)h->snaplen;
	uint32_t ntag = caplen - VLAN_OFFSET < VLAN_TAG_LEN ? caplen - VLAN_OFFSET : VLAN_TAG_LEN;
	u_char *b = h->vbuf;

	memcpy(b, k->data, VLAN_OFFSET);
	memcpy(b + VLAN_OFFSET, tag, ntag);
	memcpy(b + VLAN_OFFSET + ntag, k->data + VLAN_OFFSET, caplen - VLAN_OFFSET - ntag);
	hdr->caplen = caplen;
	hdr->len = k->len + VLAN_TAG_LEN;
	return b;
}

/*
 * A time stamp in ns as seconds and the ns into the second. Packets come
 * thousands to the second: the second of the last one is kept, and a
 * compare takes the place of the two 64-bit divisions by a constant
 * (multiplications and shifts, on the path of every packet; libpcap has
 * the seconds from the kernel as they are).
 */
static inline __attribute__((always_inline)) uint64_t ts_split(struct zh *h, uint64_t ns,
							    time_t *sec)
{
	if (ns - h->sec_base >= 1000000000u) {	/* another second, or earlier */
		h->sec = (time_t)(ns / 1000000000u);
		h->sec_base = (uint64_t)h->sec * 1000000000u;
	}
	*sec = h->sec;
	return ns - h->sec_base;
}

/* A packet's pcap header; its data, which stays valid as long as the
 * packet, or for a packet retag() copied, until the next one is taken. */
static inline __attribute__((always_inline)) const u_char *to_pcap(struct zh *h,
								 const struct zcap_pkt *k,
								 struct pcap_pkthdr *hdr)
{
	uint64_t frac = ts_split(h, k->ts_ns, &hdr->ts.tv_sec);
	hdr->ts.tv_usec = (suseconds_t)(h->precision == PCAP_TSTAMP_PRECISION_NANO ?
					frac : frac / 1000);
	if ((k->flags & ZCAP_PKT_VLAN) && k->caplen >= VLAN_OFFSET)
		return retag(h, k, hdr);
	hdr->caplen = k->caplen;
	hdr->len = k->len;
	return k->data;
}

/* The next packet of the batch pcap_next_ex() holds; the caller has made
 * sure there is one (h->idx < h->n). */
static inline __attribute__((always_inline)) const u_char *take(struct zh *h, struct pcap_pkthdr *hdr)
{
	return to_pcap(h, &h->pkts[h->idx++], hdr);
}

struct walk {
	struct zh *h;
	pcap_handler cb;
	u_char *user;
};

static void walk_one(void *arg, const struct zcap_pkt *k)
{
	struct walk *w = arg;
	struct pcap_pkthdr hdr;
	const u_char *d = to_pcap(w->h, k, &hdr);

	w->cb(w->user, &hdr, d);
}

/*
 * One read, as libpcap's read op: up to cnt packets (all that are ready if
 * cnt <= 0). Packets pcap_next_ex() took into the batch and did not hand
 * out go first; then zcap_dispatch() walks the ring, each packet to the
 * callback as it is read, and each block back to the kernel as soon as the
 * callbacks are done with it, as libpcap's TPACKET_V3 reader does.
 */
static int read_once(struct zh *h, int cnt, pcap_handler cb, u_char *user)
{
	int done = 0;

	if (take_break(h))
		return PCAP_ERROR_BREAK;
	if (h->idx < h->n) {
		struct pcap_pkthdr hdr;
		while (h->idx < h->n && (cnt <= 0 || done < cnt)) {
			const u_char *d = take(h, &hdr);
			cb(user, &hdr, d);
			done++;
			if (h->brk)
				break;
		}
	} else {
		struct walk w = { h, cb, user };
		int r;
		h->n = h->idx = 0;	/* zcap_dispatch releases what is in hand */
		do {
			/* zcap's flag of a break already taken here: again */
			if (take_break(h))
				return PCAP_ERROR_BREAK;
			r = zcap_dispatch(h->z, cnt > 0 ? (unsigned int)cnt : 0,
					  read_timeout(h), walk_one, &w);
		} while (r == ZCAP_BREAK);
		if (r == ZCAP_ERROR) {
			seterr(h, "%s", zcap_geterr(h->z));
			return PCAP_ERROR;
		}
		done = r;
	}
	/* as libpcap's TPACKET_V3 reader: a break during the callbacks ends
	 * the read with PCAP_ERROR_BREAK */
	if (take_break(h))
		return PCAP_ERROR_BREAK;
	return done;
}

EXPORT int pcap_dispatch(pcap_t *p, int cnt, pcap_handler cb, u_char *user)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_dispatch()(p, cnt, cb, user);
	if (!h->activated)
		return not_activated(h);
	return read_once(h, cnt, cb, user);
}

EXPORT int pcap_loop(pcap_t *p, int cnt, pcap_handler cb, u_char *user)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_loop()(p, cnt, cb, user);
	if (!h->activated)
		return not_activated(h);
	int total = 0;
	for (;;) {
		int r = read_once(h, cnt > 0 ? cnt - total : 0, cb, user);
		if (r < 0)
			return r;
		total += r;
		if (cnt > 0 && total >= cnt)
			return 0;
	}
}

EXPORT int pcap_next_ex(pcap_t *p, struct pcap_pkthdr **hdr, const u_char **data)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_next_ex()(p, hdr, data);
	if (!h->activated)
		return not_activated(h);
	int r = fill(h, read_timeout(h));
	if (r <= 0)
		return r;
	*data = take(h, &h->next_hdr);	/* fill() left one in hand */
	*hdr = &h->next_hdr;
	return 1;
}

EXPORT const u_char *pcap_next(pcap_t *p, struct pcap_pkthdr *hdr)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_next()(p, hdr);
	struct pcap_pkthdr *ph;
	const u_char *d;
	if (pcap_next_ex(p, &ph, &d) != 1)
		return NULL;
	*hdr = *ph;
	return d;
}

EXPORT void pcap_breakloop(pcap_t *p)
{
	struct zh *h = find(p);
	if (!h) {
		get_pcap_breakloop()(p);
		return;
	}
	h->brk = 1;
	if (h->z)
		zcap_breakloop(h->z);
}

/* ---- filters, direction, blocking ---- */

/* w in s as a word of the filter language (letters, digits, '_', '.') */
static int has_word(const char *s, const char *w)
{
	size_t n = strlen(w);
	for (const char *q = s ? strstr(s, w) : NULL; q; q = strstr(q + 1, w)) {
		int before = q > s && (isalnum((unsigned char)q[-1]) || q[-1] == '_' || q[-1] == '.');
		int after = isalnum((unsigned char)q[n]) || q[n] == '_' || q[n] == '.';
		if (!before && !after)
			return 1;
	}
	return 0;
}

/*
 * libpcap compiles "vlan" for a live Linux handle to the kernel's VLAN
 * metadata, since the kernel takes the tag off before the filter runs; on
 * the dead handle we compile on it becomes a look at the packet's bytes,
 * which would match nothing in the kernel: refused, not silently empty.
 * On xdp the filter runs on the frame as it came, tag included.
 */
EXPORT int pcap_compile(pcap_t *p, struct bpf_program *fp, const char *str, int opt,
			bpf_u_int32 mask)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_compile()(p, fp, str, opt, mask);
	if (!h->activated) {
		seterr(h, "not-yet-activated pcap_t passed to pcap_compile");
		return PCAP_ERROR;
	}
	if (has_word(str, "vlan") && strcmp(zcap_backend_name(h->z), "xdp") != 0) {
		seterr(h, "zcap-run: 'vlan' filters are not supported on backend %s: "
		       "the kernel takes the tag off before the filter runs",
		       zcap_backend_name(h->z));
		return PCAP_ERROR;
	}
	int r = get_pcap_compile()(h->fin, fp, str, opt, mask);
	if (r < 0)
		seterr(h, "%s", get_pcap_geterr()(h->fin));
	return r;
}

EXPORT int pcap_setfilter(pcap_t *p, struct bpf_program *fp)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_setfilter()(p, fp);
	if (!h->activated)
		return not_activated(h);
	if (!fp) {
		seterr(h, "setfilter: No filter specified");
		return PCAP_ERROR;
	}
	/* struct bpf_insn has struct sock_filter's layout */
	if (zcap_setfilter_bpf(h->z, (const struct sock_filter *)fp->bf_insns,
			       fp->bf_len)) {
		seterr(h, "%s", zcap_geterr(h->z));
		return PCAP_ERROR;
	}
	return 0;
}

EXPORT int pcap_setdirection(pcap_t *p, pcap_direction_t d)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_setdirection()(p, d);
	if (!h->activated)
		return not_activated(h);
	if (d != PCAP_D_INOUT && d != PCAP_D_IN && d != PCAP_D_OUT) {
		seterr(h, "Invalid direction");
		return PCAP_ERROR;
	}
	if (zcap_setdirection(h->z, d == PCAP_D_IN ? ZCAP_DIR_IN :
				    d == PCAP_D_OUT ? ZCAP_DIR_OUT : ZCAP_DIR_INOUT)) {
		seterr(h, "zcap-run: %s", zcap_geterr(h->z));
		return PCAP_ERROR;
	}
	return 0;
}

EXPORT int pcap_setnonblock(pcap_t *p, int nb, char *errbuf)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_setnonblock()(p, nb, errbuf);
	h->nonblock = nb != 0;
	return 0;
}

EXPORT int pcap_getnonblock(pcap_t *p, char *errbuf)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_getnonblock()(p, errbuf);
	return h->nonblock;
}

EXPORT int pcap_get_selectable_fd(pcap_t *p)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_get_selectable_fd()(p);
	return h->z ? zcap_fd(h->z) : -1;
}

EXPORT int pcap_fileno(pcap_t *p)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_fileno()(p);
	return h->z ? zcap_fd(h->z) : -1;
}

/* ---- counters and properties ---- */

EXPORT int pcap_stats(pcap_t *p, struct pcap_stat *ps)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_stats()(p, ps);
	if (!h->activated)
		return not_activated(h);
	ZCAP_DECLARE(zcap_stats, st);
	if (zcap_stats(h->z, &st) < 0) {
		seterr(h, "%s", zcap_geterr(h->z));
		return PCAP_ERROR;
	}
	/* libpcap on Linux: ps_recv is what passed the (kernel) filter, with
	 * what the ring had no room for; ps_drop the latter. Packets waiting
	 * in the ring count in ps_recv, as the kernel's tp_packets counts
	 * them. ps_ifdrop: see if_drops(). */
	uint64_t recv = st.received + st.pending + st.drop_ring_full;
	ps->ps_recv = (u_int)recv;
	ps->ps_drop = (u_int)st.drop_ring_full;
	ps->ps_ifdrop = h->promisc ? (u_int)(if_drops(h->dev) - h->ifdrop_base) : 0;
	return 0;
}

EXPORT int pcap_datalink(pcap_t *p)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_datalink()(p);
	if (!h->activated)
		return PCAP_ERROR_NOT_ACTIVATED;
	return h->dlt;
}

/* libpcap on Linux offers DOCSIS beside Ethernet on an Ethernet device
 * (the same frames, labelled for a cable modem's mirror port). */
static const int dlts[] = { DLT_EN10MB, DLT_DOCSIS };

EXPORT int pcap_list_datalinks(pcap_t *p, int **list)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_list_datalinks()(p, list);
	if (!h->activated)
		return not_activated(h);
	*list = malloc(sizeof(dlts));	/* pcap_free_datalinks() frees it */
	if (!*list) {
		seterr(h, "malloc: %s", strerror(errno));
		return PCAP_ERROR;
	}
	memcpy(*list, dlts, sizeof(dlts));
	return (int)(sizeof(dlts) / sizeof(dlts[0]));
}

/* The link type in the file headers and for pcap_compile is the final
 * dead handle's: a new one replaces it (a dumper keeps nothing of it). */
EXPORT int pcap_set_datalink(pcap_t *p, int dlt)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_set_datalink()(p, dlt);
	if (!h->activated)
		return not_activated(h);
	if (dlt != DLT_EN10MB && dlt != DLT_DOCSIS) {
		const char *name = pcap_datalink_val_to_name(dlt);
		if (name)
			seterr(h, "%s is not one of the DLTs supported by this device", name);
		else
			seterr(h, "DLT %d is not one of the DLTs supported by this device", dlt);
		return PCAP_ERROR;
	}
	if (dlt == h->dlt)
		return 0;
	pcap_t *fin = get_pcap_open_dead_with_tstamp_precision()(dlt, h->snaplen,
								 (u_int)h->precision);
	if (!fin) {
		seterr(h, "zcap-run: pcap_open_dead failed");
		return PCAP_ERROR;
	}
	get_pcap_close()(h->fin);
	h->fin = fin;
	h->dlt = dlt;
	return 0;
}

EXPORT int pcap_snapshot(pcap_t *p)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_snapshot()(p);
	if (!h->activated)
		return PCAP_ERROR_NOT_ACTIVATED;
	return h->snaplen;
}

EXPORT FILE *pcap_file(pcap_t *p)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_file()(p);
	return NULL;
}

EXPORT int pcap_is_swapped(pcap_t *p)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_is_swapped()(p);
	if (!h->activated)
		return PCAP_ERROR_NOT_ACTIVATED;
	return 0;
}

/* ---- dumpers: the dead handle with the final values ---- */

#define DUMPER(name, argt)						\
	EXPORT pcap_dumper_t *name(pcap_t *p, argt a)			\
	{								\
		struct zh *h = find(p);					\
		if (!h)							\
			return get_##name()(p, a);			\
		if (!h->activated) {					\
			seterr(h, "%s: not-yet-activated pcap_t passed to " #name, #name); \
			return NULL;					\
		}							\
		pcap_dumper_t *d = get_##name()(h->fin, a);		\
		if (!d)							\
			seterr(h, "%s", get_pcap_geterr()(h->fin));	\
		return d;						\
	}
DUMPER(pcap_dump_open, const char *)
DUMPER(pcap_dump_open_append, const char *)
DUMPER(pcap_dump_fopen, FILE *)

/* ---- sending ---- */

static int send_frame(struct zh *h, const void *buf, size_t len)
{
	if (!h->activated)
		return not_activated(h);
	if (!h->tx) {
		char eb[ZCAP_ERRBUF_SIZE] = "";
		const char *backend = getenv("ZCAP_RUN_BACKEND");
		if (backend && (!*backend || zcap_backend_check(backend, ZCAP_TX, NULL) < 0))
			backend = NULL;	/* a capture-only backend: auto for sending */
		ZCAP_DECLARE(zcap_tx_opts, to, .backend = backend, .frames = 64);
		FILE *v = verbose();
		zcap_print_fn_t old = v ? zcap_set_print(print_fn) : NULL;
		h->tx = zcap_tx_open(h->dev, &to, eb);
		if (v)
			zcap_set_print(old);
		if (!h->tx) {
			seterr(h, "send: %s", eb);
			return PCAP_ERROR;
		}
	}
	zcap_tx_complete(h->tx);
	if (len > zcap_tx_max_len(h->tx) || len < 14) {
		seterr(h, "send: frame of %zu bytes: %s", len, strerror(EMSGSIZE));
		return PCAP_ERROR;
	}
	unsigned int n = zcap_tx_reserve(h->tx, 1);
	if (n == 0) {
		if (zcap_tx_flush(h->tx, 1000) < 0 || zcap_tx_reserve(h->tx, 1) == 0) {
			seterr(h, "send: %s", strerror(ENOBUFS));
			return PCAP_ERROR;
		}
	}
	uint32_t room;
	uint8_t *f = zcap_tx_frame(h->tx, 0, &room);
	if (!f || room < len) {
		seterr(h, "send: frame of %zu bytes: %s", len, strerror(EMSGSIZE));
		return PCAP_ERROR;
	}
	memcpy(f, buf, len);
	zcap_tx_setlen(h->tx, 0, (uint32_t)len);
	if (zcap_tx_submit(h->tx, 1) < 0) {
		seterr(h, "send: %s", zcap_tx_geterr(h->tx));
		return PCAP_ERROR;
	}
	return (int)len;
}

EXPORT int pcap_inject(pcap_t *p, const void *buf, size_t len)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_inject()(p, buf, len);
	return send_frame(h, buf, len);
}

EXPORT int pcap_sendpacket(pcap_t *p, const u_char *buf, int len)
{
	struct zh *h = find(p);
	if (!h)
		return get_pcap_sendpacket()(p, buf, len);
	if (len < 0) {
		seterr(h, "send: negative length");
		return PCAP_ERROR;
	}
	return send_frame(h, buf, (size_t)len) < 0 ? PCAP_ERROR : 0;
}
