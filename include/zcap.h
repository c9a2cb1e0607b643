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
	ZCAP_BACKEND_XDP,	/* AF_XDP: the NIC's DMA into our frames when zero copy binds */
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
	int queue;		/* xdp: this rx queue only; -1 (default) = all */
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

/* ---------------------------------------------------------------------------
 * Transmitting.
 *
 * A tx handle owns a fixed set of frames (slots) shared with the kernel.
 * Frames are written in place and handed over in batches:
 *
 *   n = zcap_tx_reserve(t, want);            frames 0..n-1 are now ours
 *   for (i = 0; i < n; i++) {
 *           p = zcap_tx_frame(t, i, &room);  write up to room bytes at p
 *           zcap_tx_setlen(t, i, len);
 *   }
 *   zcap_tx_submit(t, n);                    the kernel's now; sends them
 *   zcap_tx_complete(t);                     takes back what it finished
 *
 * Ownership: every frame is, at any time, in exactly one of three places:
 *
 *   free      -- zcap_tx_reserve() -->  reserved (the application's)
 *   reserved  -- zcap_tx_submit()  -->  in flight (the kernel's)
 *   in flight -- zcap_tx_complete() --> free
 *   reserved  -- not submitted, at the next reserve or submit --> free
 *
 * The application may touch a frame only while it is reserved: pointers from
 * zcap_tx_frame() are dead after zcap_tx_submit() (or the next
 * zcap_tx_reserve(), which first gives back frames reserved and not
 * submitted). Frames leave in the order they were submitted.
 *
 * Every frame handed over is accounted for: after zcap_tx_flush() returned
 * 0, submitted == completed, and completed == sent + invalid + errors.
 *
 * Backends: xdp (an AF_XDP socket with only a tx ring; zero copy when the
 * driver supports it, else copy mode), tpacket (AF_PACKET PACKET_TX_RING,
 * TPACKET_V2, qdisc bypassed), pfzc (the pf_zerocopy module's tx ring).
 * ZCAP_BACKEND_AUTO tries xdp, then tpacket (the faster first, as measured
 * on a veth pair; see lib/tx.c).
 *
 * A handle is used by one thread at a time. Nothing here blocks except
 * zcap_tx_flush() and zcap_tx_close(); zcap_tx_submit() for as long as the
 * kernel takes to accept the batch (copy modes copy it during the call);
 * and zcap_tx_open(), up to a second, while an AF_XDP socket closed just
 * before still holds the queue.
 */
typedef struct zcap_tx zcap_tx_t;

#define ZCAP_TX_DEFAULT_FRAMES 2048u
#define ZCAP_TX_MAX_FRAMES (1u << 18)

struct zcap_tx_config {
	enum zcap_backend backend; /* AUTO (default): xdp, then tpacket */
	uint32_t frames;	/* slots shared with the kernel, a power of two,
				 * 64..ZCAP_TX_MAX_FRAMES; 0 = ZCAP_TX_DEFAULT_FRAMES */
	int queue;		/* xdp: the tx queue to bind (default 0) */
	int verbose;		/* >0: backend choice and mode on stderr */
};

void zcap_tx_config_init(struct zcap_tx_config *cfg);

/* Opens ifname for sending. Returns NULL and a one-line message in errbuf
 * (ZCAP_ERRBUF_SIZE bytes) on failure; errno is left set. */
zcap_tx_t *zcap_tx_open(const char *ifname, const struct zcap_tx_config *cfg,
			char *errbuf);

/* Reserves up to n free frames, numbered 0..ret-1 for the calls below.
 * Returns how many (0 when every frame is reserved or in flight: call
 * zcap_tx_complete()). Frames reserved and not submitted are given back
 * first. Never blocks. */
unsigned int zcap_tx_reserve(zcap_tx_t *t, unsigned int n);

/* The i-th reserved frame: where to write it, and (in *room, if not NULL)
 * how many bytes fit. NULL when i is not reserved. */
uint8_t *zcap_tx_frame(zcap_tx_t *t, unsigned int i, uint32_t *room);

/* The length of the i-th reserved frame, in bytes from its first one (the
 * Ethernet header; no FCS). Checked by zcap_tx_submit(). */
void zcap_tx_setlen(zcap_tx_t *t, unsigned int i, uint32_t len);

/* Largest length zcap_tx_submit() accepts: the MTU plus the Ethernet
 * header, or the frame room when smaller. The smallest is 14. */
uint32_t zcap_tx_max_len(const zcap_tx_t *t);

/*
 * Hands reserved frames 0..n-1 to the kernel, in order, and wakes it if it
 * needs waking; the rest of the reservation is given back. Returns 0, or
 * ZCAP_ERROR (message in zcap_tx_geterr(), errno set): EINVAL when a
 * length is out of range or n exceeds the reservation (then nothing was
 * handed over and the reservation stands), ENETDOWN when the interface is
 * down, ETIMEDOUT when the kernel took no frame for two seconds (all
 * refused or dropped: a veth whose peer went down).
 * A full queue is not an error: submit takes completions back and kicks
 * again, sleeping when it must. A frame the device drops as it takes it
 * (AF_XDP copy mode's EBUSY) is counted in errors, and the rest go on.
 */
int zcap_tx_submit(zcap_tx_t *t, unsigned int n);

/* Takes back the frames the kernel has finished with, and returns how many.
 * Never blocks. */
unsigned int zcap_tx_complete(zcap_tx_t *t);

/* Waits up to timeout_ms (-1 = forever) until every submitted frame has
 * completed. Returns 0, or ZCAP_ERROR with errno ETIMEDOUT and the number
 * still in flight in the message. */
int zcap_tx_flush(zcap_tx_t *t, int timeout_ms);

/* Counters since zcap_tx_open(). Never reset, never wrap. */
struct zcap_tx_stats {
	uint64_t submitted;	/* frames handed to the kernel */
	uint64_t completed;	/* of those, finished: sent + invalid + errors */
	uint64_t sent;		/* taken by the driver (for veth: delivered) */
	uint64_t bytes;		/* bytes of the completed frames, but for those
				 * the kernel names as invalid (AF_XDP, TPACKET);
				 * a frame in errors is included, as the kernel
				 * does not say which one it was */
	uint64_t invalid;	/* refused as malformed, never sent (AF_XDP
				 * tx_invalid_descs, TPACKET wrong format) */
	uint64_t errors;	/* accepted, then dropped by the device and
				 * reported to this socket (AF_XDP EBUSY, the
				 * module's tx_errors) */
	uint64_t retries;	/* refused for now and sent again by the kernel
				 * (TPACKET: ENOBUFS); not lost */
	uint64_t drop_if;	/* the interface's tx_dropped since open, from
				 * every sender on it */
};

int zcap_tx_stats(zcap_tx_t *t, struct zcap_tx_stats *st);

/* The socket, for socket options. */
int zcap_tx_fd(zcap_tx_t *t);
const char *zcap_tx_backend_name(const zcap_tx_t *t);
/* "zero-copy" or "copy" for xdp; "copy" for the others. */
const char *zcap_tx_mode(const zcap_tx_t *t);
const char *zcap_tx_geterr(zcap_tx_t *t);

/* Gives back any reservation, waits up to a second for frames in flight,
 * and closes. */
void zcap_tx_close(zcap_tx_t *t);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif /* ZCAP_H */
