/* SPDX-License-Identifier: MIT */
/*
 * libzcap: zero-copy packet capture over one small API.
 *
 * A handle is opened on one interface with a config. Packets come out in
 * batches as pointers straight into the kernel's ring (no copy); they stay
 * valid until zcap_release(). Every packet the kernel could not hand over is
 * counted, per cause, in 64-bit counters (struct zcap_stats).
 *
 * Threading: a handle is used by one thread at a time, except
 * zcap_breakloop(), which may be called from any thread or signal handler.
 */
#ifndef ZCAP_H
#define ZCAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* libzcap is built with hidden visibility: only what is declared here is
 * exported from the shared library. */
#pragma GCC visibility push(default)

#define ZCAP_VERSION "0.1.0"
#define ZCAP_ERRBUF_SIZE 256

/* Defaults, chosen so the veth testbed loses nothing at full generator speed
 * with 1518-byte frames (tcpdump's 2 MiB ring lost up to 12 % there). */
#define ZCAP_DEFAULT_RING_BYTES (128u << 20)
#define ZCAP_DEFAULT_BLOCK_BYTES (1u << 20)
#define ZCAP_DEFAULT_SNAPLEN 262144u
#define ZCAP_DEFAULT_BLOCK_TIMEOUT_MS 10

typedef struct zcap zcap_t;

enum zcap_backend {
	ZCAP_BACKEND_AUTO = 0,
	ZCAP_BACKEND_TPACKET,	/* AF_PACKET TPACKET_V3 mmap ring */
	ZCAP_BACKEND_PFZC,	/* PF_ZEROCOPY, the pf_zerocopy kernel module */
	ZCAP_BACKEND__MAX
};

enum zcap_direction {
	ZCAP_DIR_INOUT = 0,	/* like tcpdump: both directions */
	ZCAP_DIR_IN,
	ZCAP_DIR_OUT,
};

struct zcap_config {
	enum zcap_backend backend;
	uint64_t ring_bytes;	/* whole ring; 0 = ZCAP_DEFAULT_RING_BYTES */
	uint32_t block_bytes;	/* tpacket block; power of two >= page; 0 = default */
	uint32_t block_timeout_ms; /* a partly filled block is handed over after this */
	uint32_t snaplen;	/* bytes kept per packet; 0 = ZCAP_DEFAULT_SNAPLEN */
	int promisc;		/* 1 (default) puts the interface in promiscuous mode */
	enum zcap_direction direction;
	const char *filter;	/* tcpdump syntax; NULL or "" = everything */
	int verbose;		/* >0: one-line reasons for backend choices on stderr */
};

/* Fills *cfg with the defaults above. Always call it before changing fields. */
void zcap_config_init(struct zcap_config *cfg);

/* Opens a capture. Returns NULL and a one-line message in errbuf
 * (ZCAP_ERRBUF_SIZE bytes) on failure; errno is left set. */
zcap_t *zcap_open(const char *ifname, const struct zcap_config *cfg, char *errbuf);
void zcap_close(zcap_t *h);

#define ZCAP_PKT_VLAN (1u << 0)	/* the kernel stripped a VLAN tag: vlan_tci/tpid */
#define ZCAP_PKT_OUTGOING (1u << 1)	/* sent by this host */

/* A packet in place in the ring. data is valid until zcap_release(). */
struct zcap_pkt {
	const uint8_t *data;
	uint32_t caplen;	/* bytes at data */
	uint32_t len;		/* length on the wire */
	uint64_t ts_ns;		/* CLOCK_REALTIME, nanoseconds since the epoch */
	uint32_t flags;		/* ZCAP_PKT_* */
	uint16_t vlan_tci;
	uint16_t vlan_tpid;
};

/* Return values of zcap_recv() besides a packet count. */
#define ZCAP_TIMEOUT 0
#define ZCAP_ERROR (-1)
#define ZCAP_BREAK (-2)

/*
 * Gets up to max packets. Waits up to timeout_ms when none is ready
 * (-1 = forever, 0 = never). Returns the count, ZCAP_TIMEOUT, ZCAP_BREAK
 * after zcap_breakloop(), or ZCAP_ERROR (message in zcap_geterr()).
 * Packets from earlier calls stay valid until zcap_release().
 */
int zcap_recv(zcap_t *h, struct zcap_pkt *pkts, unsigned int max, int timeout_ms);

/* Gives every packet returned so far back to the kernel. */
void zcap_release(zcap_t *h);

/*
 * Stops the kernel from putting more packets in the ring (a reject-all
 * filter), so that a final drain with zcap_recv() ends and the counters
 * settle: after it, received + pending no longer grow from new traffic,
 * and what the interface sees is no longer counted as filtered.
 */
int zcap_freeze(zcap_t *h);

/* An fd that polls readable when zcap_recv() has packets, for epoll users. */
int zcap_fd(zcap_t *h);

/* Makes the current or next zcap_recv() return ZCAP_BREAK.
 * Async-signal-safe, and safe from another thread. */
void zcap_breakloop(zcap_t *h);

/* Counters since zcap_open(). Never reset, never wrap. */
struct zcap_stats {
	uint64_t received;	/* handed to the application */
	uint64_t drop_ring_full; /* the kernel found no room in the ring */
	uint64_t drop_if;	/* dropped by the interface or driver (delta since open) */
	uint64_t filtered;	/* rejected by the filter: seen on the interface, not accepted */
	uint64_t ring_freezes;	/* times the ring was full (tpacket queue freezes) */
	uint64_t truncated;	/* received, but shorter than on the wire (snaplen) */
	uint64_t bytes;		/* wire bytes of received packets */
	uint64_t pending;	/* in the ring, not handed out yet: at close,
				 * these were neither received nor dropped */
};

int zcap_stats(zcap_t *h, struct zcap_stats *st);

const char *zcap_geterr(zcap_t *h);
const char *zcap_backend_name(const zcap_t *h);
const char *zcap_ifname(const zcap_t *h);
int zcap_ifindex(const zcap_t *h);
uint32_t zcap_snaplen(const zcap_t *h);
int zcap_linktype(const zcap_t *h);	/* a pcap DLT_* value */

/* "auto", "tpacket", ... -> enum; -1 when unknown. */
int zcap_backend_parse(const char *name);
const char *zcap_backend_str(enum zcap_backend b);

/* ---------------------------------------------------------------------------
 * Writing pcap and pcapng files.
 *
 * Records are copied into two buffers of bufsize (ZCAP_DUMP_DEFAULT_BUF by
 * default, rounded up to a multiple of 4096): a thread of the dumper writes
 * one while the caller fills the other, so a capture does not stall in
 * write(2) while its ring fills. Regular files are written with O_DIRECT,
 * since the page cache's dirty-page throttling held 1518-byte frames at a
 * fraction of the disk's speed; file systems without it get buffered writes.
 * zcap_dump_flush() returns when every byte so far is in the file.
 *
 * On any write error the dumper fails from then on; zcap_dump_close() then
 * removes the file, so no half-written file is left behind. An error in the
 * writer is returned by the next zcap_dump_write() that fills a buffer (at
 * most one buffer later), or by flush or close.
 *
 * A dumper is used by one thread at a time.
 */
#define ZCAP_DUMP_DEFAULT_BUF (4u << 20)

typedef struct zcap_dumper zcap_dumper_t;

enum zcap_format {
	ZCAP_FMT_PCAP = 0,	/* classic pcap, micro- or nanosecond */
	ZCAP_FMT_PCAPNG,	/* pcapng, nanosecond (if_tsresol = 9) */
};

struct zcap_dump_info {
	const char *ifname;	/* IDB if_name (pcapng) */
	int linktype;		/* DLT_* */
	uint32_t snaplen;
	int nsec;		/* pcap only: 1 = nanosecond magic */
	const char *app;	/* SHB shb_userappl (pcapng); NULL = "zcap <ver>" */
	size_t bufsize;		/* 0 = ZCAP_DUMP_DEFAULT_BUF */
};

/* path "-" writes to stdout. Returns NULL and a message in errbuf. */
zcap_dumper_t *zcap_dump_open(const char *path, enum zcap_format fmt,
			      const struct zcap_dump_info *info, char *errbuf);

/* 0 on success, -1 on a write error (message in zcap_dump_geterr()).
 * A packet with ZCAP_PKT_VLAN gets its tag put back after the MAC addresses. */
int zcap_dump_write(zcap_dumper_t *d, const struct zcap_pkt *pkt);
int zcap_dump_flush(zcap_dumper_t *d);

/* Flushes and closes. For pcapng, when st is not NULL, an Interface
 * Statistics Block with its counters and the capture's start and end times
 * (ns) is written first. Returns 0, or -1 after removing the file when any
 * write failed. */
int zcap_dump_close(zcap_dumper_t *d, const struct zcap_stats *st,
		    uint64_t start_ns, uint64_t end_ns);

/* Closes and removes the file (if it is not stdout). */
void zcap_dump_abort(zcap_dumper_t *d);

const char *zcap_dump_geterr(const zcap_dumper_t *d);
uint64_t zcap_dump_bytes(const zcap_dumper_t *d);	/* bytes written so far */

/* ZCAP_FMT_PCAPNG for a path ending in ".pcapng", else ZCAP_FMT_PCAP. */
enum zcap_format zcap_format_from_path(const char *path);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif /* ZCAP_H */
