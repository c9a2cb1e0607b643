/* SPDX-License-Identifier: MIT */
/*
 * libzcap: zero-copy packet capture over one small API.
 *
 * A handle is opened on one interface with options. Packets come out in
 * batches as pointers straight into the kernel's ring (no copy); they stay
 * valid until zcap_release(). Every packet the kernel could not hand over is
 * counted, per cause, in 64-bit counters (struct zcap_stats).
 *
 * Errors: a call that fails returns -1 (ZCAP_ERROR), or NULL for one that
 * returns a pointer, sets errno, and leaves a one-line message in the
 * handle (zcap_geterr(), zcap_tx_geterr(), zcap_dump_geterr()) or, for
 * the open calls, in errbuf. The library never prints and never aborts:
 * diagnostics go to the function installed with zcap_set_print(), if any.
 *
 * ABI: every struct the application passes in or gets filled begins with
 * its own size (sz), which the library checks against the fields it knows:
 * a program built against an older, shorter struct keeps working (fields it
 * does not have read as 0, the default); one built against a newer header
 * is refused with EINVAL only if it set a field this library does not know
 * (a non-zero byte past the known fields). Declare them with ZCAP_DECLARE(),
 * which zeroes the whole struct and sets sz. See "ABI" in README.md for the
 * soname and symbol-version policy.
 *
 * Threading: a handle is used by one thread at a time, except
 * zcap_breakloop(), which may be called from any thread or signal handler.
 */
#ifndef ZCAP_H
#define ZCAP_H

#include <linux/filter.h>	/* struct sock_filter */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* libzcap is built with hidden visibility: only what is declared here is
 * exported from the shared library. */
#pragma GCC visibility push(default)

#define ZCAP_VERSION "1.0.0"
#define ZCAP_ERRBUF_SIZE 256

/*
 * Declares NAME, a struct TYPE with every byte zero (padding too, so that
 * the library's check of unknown fields cannot trip on garbage) and sz set,
 * then the fields given:
 *
 *   ZCAP_DECLARE(zcap_opts, opts, .snaplen = 128, .filter = "udp");
 */
#define ZCAP_DECLARE(TYPE, NAME, ...)					\
	struct TYPE NAME = ({						\
		memset(&NAME, 0, sizeof(struct TYPE));			\
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ };\
	})

/* Defaults, chosen so the veth testbed loses nothing at full generator speed
 * with 1518-byte frames (tcpdump's 2 MiB ring lost up to 12 % there). */
#define ZCAP_DEFAULT_RING_BYTES (128u << 20)
#define ZCAP_DEFAULT_BLOCK_BYTES (1u << 20)
#define ZCAP_DEFAULT_BLOCK_TIMEOUT_MS 10
/* The largest snap length, and what snaplen 0 means, as tcpdump's -s 0. */
#define ZCAP_SNAPLEN_MAX 262144u

/* ---------------------------------------------------------------------------
 * Diagnostics.
 */
enum zcap_log_level {
	ZCAP_LOG_WARN = 0,	/* something went on in a worse way than asked */
	ZCAP_LOG_INFO,		/* which backend, which mode, and why */
	ZCAP_LOG_DEBUG,
};

/* One message, without a trailing newline. */
typedef void (*zcap_print_fn_t)(enum zcap_log_level level, const char *fmt,
				va_list ap);

/*
 * Installs fn for every later diagnostic of the library, in every thread;
 * NULL (the default) keeps it silent.
 * Returns the function installed before.
 */
zcap_print_fn_t zcap_set_print(zcap_print_fn_t fn);

/* ---------------------------------------------------------------------------
 * Backends.
 *
 * One registry names every backend (lib/backends.c): what it can do (ZCAP_RX,
 * ZCAP_TX) and whether "auto" may pick it, in the order "auto" tries them.
 */
#define ZCAP_RX 1u
#define ZCAP_TX 2u

/*
 * The i-th name that a backend option for dir (ZCAP_RX or ZCAP_TX) accepts:
 * 0 is "auto", then the backends in the order auto tries them, then those
 * auto never picks.
 * Returns the name, or NULL when i is past the last.
 */
const char *zcap_backend_at(unsigned int dir, unsigned int i);

/*
 * Checks a backend option before any open.
 * Returns 0 when name is "auto" or a backend that can do dir, else -1 with
 * errno set:
 *   - EINVAL: no backend has this name;
 *   - EOPNOTSUPP: the backend exists but cannot do dir (a message in
 *     errbuf, if not NULL, says so).
 */
int zcap_backend_check(const char *name, unsigned int dir, char *errbuf);

/* ---------------------------------------------------------------------------
 * Capturing.
 */
typedef struct zcap zcap_t;

enum zcap_direction {
	ZCAP_DIR_INOUT = 0,	/* like tcpdump: both directions */
	ZCAP_DIR_IN,
	ZCAP_DIR_OUT,
};

#define ZCAP_OPT_NO_PROMISC (1u << 0)	/* leave promiscuous mode off (-p) */
/*
 * Join fanout group fanout_id of the interface (since 1.3): the kernel
 * hands each packet to one handle of the group, chosen by a hash of its
 * flow that is the same both ways (addresses and ports in either order),
 * so a flow's two directions meet in one handle. Handles of one process
 * or of several (Suricata's and Zeek's workers) join by using the same id,
 * backend, direction and interface. tpacket: PACKET_FANOUT_HASH with
 * PACKET_FANOUT_FLAG_DEFRAG (fragments put back together first, so that
 * they follow their flow); pfzc: the module's PFZC_FANOUT group (uapi,
 * "fanout"), not on a NIC's direct receiver. xdp (since 1.4): a member
 * is one AF_XDP socket per rx queue it names (ZCAP_XDP_QUEUE, and
 * queue_stride for several), the members sharing libxdp's XSK program on
 * the interface, so the NIC's RSS spreads the flows: both ways of a flow
 * meet only where its RSS hash is symmetric (a symmetric key, ethtool
 * -X). There fanout_id is not checked: the interface's queues are the
 * group, and a queue no member took goes to the stack, uncounted. Without
 * ZCAP_XDP_QUEUE xdp fails with EINVAL ("auto" passes over it).
 *
 * The counters of a handle in a group are its own, but for drop_if, which
 * is the interface's (take it once for the group), and filtered, which
 * is 0 (what the interface saw cannot be split among the group).
 */
#define ZCAP_OPT_FANOUT (1u << 1)
/*
 * Since 1.5: the handle can also send packets it received back out of its
 * interface, rewritten in place (zcap_forward()): a responder builds its
 * answer in the request's frame. xdp opens its sockets with a tx ring on
 * the same umem, and a forwarded frame leaves from where it was received,
 * with no copy; the other backends open a transmit handle of their own
 * (or auto's, for one that cannot send) and copy the packet into it once.
 */
#define ZCAP_OPT_FORWARD (1u << 2)

/* Options of the tpacket backend; ignored by the others. */
struct zcap_tpacket_opts {
	size_t sz;
	uint32_t block_bytes;	/* a power of two >= 4096;
				 * 0 = ZCAP_DEFAULT_BLOCK_BYTES */
	uint32_t block_timeout_ms; /* a partly filled block is handed over
				 * after this; 0 = ZCAP_DEFAULT_BLOCK_TIMEOUT_MS */
};

#define ZCAP_XDP_QUEUE (1u << 0)	/* use queue, not every rx queue */

/* Options of the xdp backend (capture and transmit); ignored by others. */
struct zcap_xdp_opts {
	size_t sz;
	uint32_t flags;		/* ZCAP_XDP_* */
	uint32_t queue;		/* with ZCAP_XDP_QUEUE: capture this rx queue
				 * only, or send on this tx queue. Without it:
				 * every rx queue, and tx queue 0 */
	uint32_t queue_stride;	/* since 1.4 (an older library refuses a
				 * struct that sets it: EINVAL); capture, with
				 * ZCAP_XDP_QUEUE:
				 * also queue + stride, queue + 2 * stride, ...
				 * while the interface has them (a fanout
				 * member of stride members); 0 = queue only */
};

/* Every field's 0 is its default. */
struct zcap_opts {
	size_t sz;
	const char *backend;	/* a name from zcap_backend_at(ZCAP_RX, i);
				 * NULL = "auto" */
	const char *filter;	/* tcpdump syntax; NULL or "" = everything */
	uint64_t ring_bytes;	/* the whole ring; 0 = ZCAP_DEFAULT_RING_BYTES */
	uint32_t snaplen;	/* bytes kept per packet, 1..ZCAP_SNAPLEN_MAX;
				 * 0 = ZCAP_SNAPLEN_MAX, the whole packet */
	uint32_t flags;		/* ZCAP_OPT_* */
	uint32_t direction;	/* enum zcap_direction */
	const struct zcap_tpacket_opts *tpacket;	/* NULL = defaults */
	const struct zcap_xdp_opts *xdp;		/* NULL = defaults */
	uint32_t fanout_id;	/* since 1.3, with ZCAP_OPT_FANOUT: the group,
				 * 0..65535 */
};

/*
 * Opens a capture on ifname. opts may be NULL (every default).
 * Returns the handle, or NULL with a one-line message in errbuf
 * (ZCAP_ERRBUF_SIZE bytes) and errno set:
 *   - EINVAL: an option is out of range, a backend name is unknown, or
 *     opts sets a field this library does not know;
 *   - ENODEV: no interface of that name (or an empty or too long name);
 *   - EOPNOTSUPP: the link type is not Ethernet-framed, or the backend
 *     asked for cannot capture this way (xdp: outgoing packets);
 *   - EPERM: no privilege (needs root or CAP_NET_RAW);
 *   - EAFNOSUPPORT: backend "pfzc" asked for, and the module is not loaded;
 *   - EBUSY: another capture holds the xdp queue or the device's direct
 *     path;
 *   - ENOMEM, ENOBUFS: the ring could not be allocated or pinned
 *     (RLIMIT_MEMLOCK);
 *   - anything else the kernel said, with the call in the message.
 * With "auto", the message and errno are those of the last backend tried.
 */
zcap_t *zcap_open(const char *ifname, const struct zcap_opts *opts, char *errbuf);

/* Closes the capture and frees h; packets handed out die with it.
 * NULL is ignored. */
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
 * (-1 = forever, 0 = never). Packets from earlier calls stay valid until
 * zcap_release().
 * Returns:
 *   - the number of packets put in pkts (1..max);
 *   - ZCAP_TIMEOUT (0): none came in time;
 *   - ZCAP_BREAK: zcap_breakloop() was called;
 *   - ZCAP_ERROR, message in zcap_geterr() and errno set: ENETDOWN when
 *     the interface went down or was removed, else what poll(2) or the
 *     socket reported.
 */
int zcap_recv(zcap_t *h, struct zcap_pkt *pkts, unsigned int max, int timeout_ms);

/* Gives every packet returned so far back to the kernel. Never fails. */
void zcap_release(zcap_t *h);

/*
 * Gives back the n packets zcap_recv() handed out first (the oldest, in
 * the order they came) and keeps the rest valid, as xsk_ring_cons__release()
 * does for AF_XDP: for a consumer that finishes with packets in order but
 * later than the next zcap_recv(), such as a dumper writing straight from
 * the ring (zcap_dump_info.refs). The ring room of a packet goes back once
 * no packet kept shares it (a TPACKET_V3 block, a zcap_recv() call's
 * slots), so never earlier than zcap_release() would give it for those
 * packets; later where a kept packet shares it, where it is the TPACKET_V3
 * block still being read (it goes back once read to its end, as with
 * zcap_release()), and when more than 64 zcap_recv() calls are out (the
 * newest then share their room). n larger than what is out gives back
 * everything. Since 1.4.
 * Returns 0, or -1 with errno EOPNOTSUPP (nothing given back) when this
 * capture gives back only everything at once (xdp over several queues);
 * n = 0 asks which.
 */
int zcap_release_n(zcap_t *h, unsigned int n);

/* What zcap_dispatch() calls for each packet. */
typedef void (*zcap_handler_t)(void *user, const struct zcap_pkt *pkt);

/*
 * Calls fn for up to max packets (0 = every packet ready), each as soon as
 * it is read from the ring, as pcap_dispatch() does. Waits as zcap_recv()
 * for the first one. Packets are valid only until fn returns: the call
 * first gives back everything zcap_recv() handed out, and gives frames back
 * to the kernel as it goes, so a long walk does not hold the ring.
 * zcap_breakloop() from fn ends the walk after fn returns.
 * Returns the number of packets handed to fn, or as zcap_recv():
 * ZCAP_TIMEOUT, ZCAP_BREAK (none handed), ZCAP_ERROR.
 *
 * Why besides zcap_recv(): one packet read just before its callback is in
 * cache when the callback reads it, and the walk costs no call per packet
 * into the library; zcap-run's pcap_loop() and pcap_dispatch() run on it.
 */
int zcap_dispatch(zcap_t *h, unsigned int max, int timeout_ms,
		  zcap_handler_t fn, void *user);

/*
 * Stops the kernel from putting more packets in the ring (a reject-all
 * filter), so that a final drain with zcap_recv() ends and the counters
 * settle: after it, received + pending no longer grow from new traffic,
 * and what the interface sees is no longer counted as filtered.
 * Returns 0 (also when already frozen), or -1 with zcap_geterr() and errno
 * from the kernel (the capture then goes on unchanged).
 */
int zcap_freeze(zcap_t *h);

/* An fd that polls readable when zcap_recv() has packets, for epoll users.
 * Owned by h: do not close it. */
int zcap_fd(zcap_t *h);

/* Makes the current or next zcap_recv() return ZCAP_BREAK.
 * Async-signal-safe, and safe from another thread. */
void zcap_breakloop(zcap_t *h);

/*
 * Filters on an open capture (since 1.1). The new filter applies to every
 * packet not yet handed out: what the ring took under the old filter is
 * checked again in user space before zcap_recv() returns it, as libpcap
 * does for its memory-mapped capture. The snap length and the direction
 * still apply; a program's non-zero "ret #k" accepts the packet whole up
 * to the snap length, and "ret a" cuts it to A (libpcap on Linux does the
 * same with both). It runs in the kernel
 * where the backend allows (tpacket, pfzc), in user space on xdp.
 *
 * zcap_setfilter(): tcpdump syntax, compiled by libpcap (NULL or "" =
 * everything).
 * zcap_setfilter_bpf(): a classic BPF program of len instructions, as
 * pcap_compile() makes it (struct bpf_insn has struct sock_filter's
 * layout); it is copied.
 * zcap_setdirection(): which packets, by the way they went.
 *
 * Each returns 0, or -1 with zcap_geterr() and errno, the handle keeping
 * its old filter and direction: EINVAL for a bad expression, an invalid
 * program (libpcap's bpf_validate), a bad direction or a frozen handle
 * (zcap_freeze()); EOPNOTSUPP for ZCAP_DIR_OUT on xdp (it sees received
 * packets only);
 * E2BIG for a program too long for the kernel; ENOMEM; else the kernel's
 * error attaching it.
 */
int zcap_setfilter(zcap_t *h, const char *expr);
int zcap_setfilter_bpf(zcap_t *h, const struct sock_filter *insns, unsigned int len);
int zcap_setdirection(zcap_t *h, enum zcap_direction dir);

/* Counters since zcap_open(). Never reset, never wrap. */
struct zcap_stats {
	size_t sz;
	uint64_t received;	/* handed to the application */
	uint64_t drop_ring_full; /* the kernel found no room in the ring */
	uint64_t drop_if;	/* dropped by the interface or driver (delta since open) */
	uint64_t filtered;	/* rejected by the filter: seen on the interface, not accepted */
	uint64_t truncated;	/* received, but shorter than on the wire (snaplen) */
	uint64_t bytes;		/* wire bytes of received packets */
	uint64_t pending;	/* in the ring, not handed out yet: at close,
				 * these were neither received nor dropped */
	/* Since 1.5, with ZCAP_OPT_FORWARD: */
	uint64_t forwarded;	/* zcap_forward() packets the kernel finished
				 * sending (for veth: delivered) */
	uint64_t forward_dropped; /* refused by the kernel as malformed, or
				 * dropped by the device (AF_XDP's
				 * tx_invalid_descs, a transmit handle's
				 * invalid and errors) */
};

/*
 * Since 1.5, on a handle opened with ZCAP_OPT_FORWARD: queues packet p,
 * which zcap_recv() handed out and which has not been given back, to be
 * sent out of h's interface: its first len bytes (14..p->caplen), as the
 * application left them. The frame is writable while the application
 * holds it (cast away the const of p->data) and nothing else uses it.
 * xdp sends the frame itself, which goes back to the kernel's receive
 * side once sent, not at zcap_release(); the other backends copy the bytes
 * now, with the VLAN tag put back when the kernel had taken it off
 * (ZCAP_PKT_VLAN). Queued packets leave at zcap_forward_flush(); on xdp
 * also at the next zcap_recv(), on the others also when a batch of 64 is
 * full, which then waits as zcap_tx_submit() does while the kernel takes
 * it. Never waits for a packet to be sent.
 * Returns 0, or -1 with zcap_geterr() and errno:
 *   - EAGAIN: no room to queue it until frames already forwarded were
 *     sent: call zcap_forward_flush() and try again;
 *   - EINVAL: len is out of range (on xdp also: over the MTU plus the
 *     Ethernet and VLAN headers); on xdp also p not in a frame h holds
 *     (forwarded already, or given back and not reused: a packet given
 *     back is dead, and forwarding it is the application's error, which
 *     the copying backends cannot see at all);
 *   - EOPNOTSUPP: h was not opened with ZCAP_OPT_FORWARD;
 *   - ENETDOWN and the kernel's errors from the transmit side.
 */
int zcap_forward(zcap_t *h, const struct zcap_pkt *p, uint32_t len);
/*
 * Since 1.5: hands what zcap_forward() queued to the kernel and takes back
 * what it finished; then waits up to timeout_ms (0: not at all, -1: as
 * long as it takes) until every frame forwarded so far was sent.
 * Returns 0, or -1 with zcap_geterr() and errno: ETIMEDOUT (frames still
 * in flight), EOPNOTSUPP (no ZCAP_OPT_FORWARD), or the kernel's error.
 */
int zcap_forward_flush(zcap_t *h, int timeout_ms);
/*
 * Fills the first st->sz bytes of *st (declare it with ZCAP_DECLARE).
 * Returns 0, or -1 with errno set: EINVAL when st->sz is smaller than a
 * size_t; else the kernel's error reading its counters (zcap_geterr()).
 */
int zcap_stats(zcap_t *h, struct zcap_stats *st);

/* The last error's message; "" when none. Valid until the next call on h. */
const char *zcap_geterr(zcap_t *h);
/* The backend in use ("xdp", "pfzc", "tpacket"). */
const char *zcap_backend_name(const zcap_t *h);
const char *zcap_ifname(const zcap_t *h);
int zcap_ifindex(const zcap_t *h);
uint32_t zcap_snaplen(const zcap_t *h);	/* the one in effect */
uint64_t zcap_ring_bytes(const zcap_t *h);	/* as asked, or the default */
int zcap_linktype(const zcap_t *h);	/* a pcap DLT_* value */

/* ---------------------------------------------------------------------------
 * Writing pcap and pcapng files.
 *
 * Records are copied (or, with refs, pointed at: zcap_dump_info) into
 * buffers that a thread of the dumper writes while
 * the caller fills the next, so a capture does not stall in write(2) while
 * its ring fills: two of bufsize (rounded up to a multiple of 4096) when it
 * is set; else two of ZCAP_DUMP_DEFAULT_BUF for a regular file, and four of
 * 256 KiB for a pipe, a device or a non-file stdout, which stay in the
 * CPU's cache. Regular files are written with O_DIRECT,
 * which the disk took faster than the page cache (bench/results/results.md,
 * "To disk"); file systems without it get buffered writes.
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

/* Sized (ZCAP_DECLARE); every field's 0 is its default. */
struct zcap_dump_info {
	size_t sz;
	const char *ifname;	/* IDB if_name (pcapng) */
	int linktype;		/* DLT_* */
	uint32_t snaplen;	/* 0 = ZCAP_SNAPLEN_MAX */
	int nsec;		/* pcap only: 1 = nanosecond magic */
	const char *app;	/* SHB shb_userappl (pcapng); NULL = "zcap <ver>" */
	size_t bufsize;		/* 0 = by the output (above) */
	const struct zcap_dump_rotate *rotate;	/* since 1.3; NULL = one file */
	/* Since 1.3, pcapng only: several interfaces, one Interface
	 * Description Block each, in this order (ifname is then unused);
	 * zcap_dump_write_if() names the one a packet came from. */
	const char *const *ifnames;
	uint32_t n_ifnames;
	/* Since 1.4: 1 = the dumper may keep pointers to packets' data
	 * instead of copying it, and write it from there (writev(2)): it
	 * does on a pipe, a device, a socket or stdout, without rotation,
	 * where the copy into its buffers was the biggest cost of a record;
	 * a file it opens is written with O_DIRECT from aligned buffers and
	 * still gets copies. The caller then keeps each packet's data valid
	 * and unchanged until zcap_dump_done() counts its record (with
	 * zcap_release_n(); not zcap_release() or zcap_dispatch(), which
	 * give back everything), and calls zcap_dump_push() when it has no
	 * more packets for a while: records wait in a buffer until it is
	 * full. zcap_dump_flush() and zcap_dump_close() still read the
	 * packets: close (or abort) the dumper before zcap_close(). Up to
	 * about 4 x 512 records wait for the writer: a ring that holds not
	 * many more loses packets while they do (zcap uses refs from 32 MiB
	 * on). */
	int refs;
};

/*
 * Rotation (since 1.3): the records go to a sequence of files, each a valid
 * pcap or pcapng file of its own (its own header), that together hold
 * every record exactly once, in order. tcpdump's -C, -G and -W, with its
 * names: path is the first file's name; with interval_ns, path goes
 * through strftime(3) with the local time the file's interval began; with
 * max_bytes, the n-th file after that gets n appended (the first none),
 * or, with ring_files, every file gets its number modulo ring_files in as
 * many digits as ring_files - 1 has (ring_files 10: trace0 ... trace9).
 * A -G rotation starts the numbering again at 0.
 *
 * A file is written as ".NAME.part" in NAME's directory and renamed to
 * NAME when it is finished, so that a tool that picks up NAME never sees it
 * half written; a name taken again (the ring) is replaced at that rename.
 * The writer thread of the dumper closes, renames and opens the files, so
 * rotation costs the caller no system call.
 *
 * Every field's 0 is "off". Only for a path (not "-"), and a regular file.
 */
struct zcap_dump_rotate {
	size_t sz;
	uint64_t max_bytes;	/* a new file before a record would take the
				 * current one past this many bytes (a file
				 * holds at least one record) */
	uint64_t interval_ns;	/* a new file for the first record whose
				 * timestamp is this long after the current
				 * file's start, or at zcap_dump_tick() */
	uint32_t ring_files;	/* with max_bytes: names cycle over this many */
	uint32_t max_files;	/* the dumper ends after this many files:
				 * writing one more record returns
				 * ZCAP_DUMP_END (tcpdump's -W with -G only) */
	/* Called once for every finished file, with its final name, after
	 * the rename: from the writer thread, or for the last file from
	 * zcap_dump_close(). Must not call into the dumper. */
	void (*on_file)(const char *path, void *arg);
	void *arg;
};

/* Returned by zcap_dump_write() and zcap_dump_tick() when rotation's
 * max_files are full: the record was not written; the dumper takes no more. */
#define ZCAP_DUMP_END 1

/*
 * Creates path (truncating it) and writes the file header; "-" writes to
 * stdout. Returns the dumper, or NULL with a message in errbuf
 * (ZCAP_ERRBUF_SIZE bytes) and errno set: EINVAL for a NULL path or info,
 * a format not in enum zcap_format, an info that sets a field this
 * library does not know, several ifnames in pcap, or rotation to stdout;
 * EEXIST for rotation onto something not a regular file; else what
 * open(2) or the first
 * write said (EACCES, ENOENT, ENOSPC, ...). Nothing is left on disk then.
 */
zcap_dumper_t *zcap_dump_open(const char *path, enum zcap_format fmt,
			      const struct zcap_dump_info *info, char *errbuf);

/*
 * Appends one record. A packet with ZCAP_PKT_VLAN gets its tag put back
 * after the MAC addresses.
 * Returns 0, or -1 with zcap_dump_geterr() and errno set by the failed
 * write (ENOSPC, EIO, ...), now or in the writer thread since the last
 * call: the dumper has failed for good, and the file should be aborted.
 * With rotation, also ZCAP_DUMP_END (above).
 */
int zcap_dump_write(zcap_dumper_t *d, const struct zcap_pkt *pkt);

/* The same for a packet of interface ifid (an index into info's ifnames;
 * 0 without). Since 1.3. -1 with EINVAL for an ifid out of range (the
 * dumper goes on). */
int zcap_dump_write_if(zcap_dumper_t *d, const struct zcap_pkt *pkt,
		       uint32_t ifid);

/*
 * pcapng: writes an Interface Statistics Block for interface ifid with the
 * counters of st and the capture's start and end times (ns), as close
 * does for interface 0. For a capture of several interfaces, once for each
 * before zcap_dump_close(d, NULL, ...). pcap: does nothing. Since 1.3.
 * Returns 0, or -1 as zcap_dump_write().
 */
int zcap_dump_stats(zcap_dumper_t *d, uint32_t ifid, const struct zcap_stats *st,
		    uint64_t start_ns, uint64_t end_ns);

/*
 * With rotation by interval_ns: starts the next file when now_ns (the
 * CLOCK_REALTIME time, as packets' timestamps) has passed the interval,
 * so that a quiet link still gets its files finished and renamed on
 * time. For a caller whose zcap_recv() timed out. Since 1.3.
 * Returns 0, ZCAP_DUMP_END, or -1 as zcap_dump_write().
 */
int zcap_dump_tick(zcap_dumper_t *d, uint64_t now_ns);

/* Files begun so far: 1 without rotation. Since 1.3. */
unsigned int zcap_dump_files(const zcap_dumper_t *d);

/*
 * Records the dumper no longer reads packet data for, counted from the
 * first zcap_dump_write*() after open (header blocks are not records):
 * written to the file, or skipped by the writer after a write failed.
 * After a failure, records not yet handed to the writer are never
 * counted: abort the dumper, which reads no packet once
 * zcap_dump_abort() returns. Without refs, or where the dumper copies,
 * every record written so far. Since 1.4.
 */
uint64_t zcap_dump_done(const zcap_dumper_t *d);

/*
 * Hands what is buffered to the writer thread without waiting for the
 * file (only for a free buffer, while all are in flight). For a caller
 * with refs whose zcap_recv() came back short or empty. Since 1.4.
 * Returns 0, or -1 as zcap_dump_write().
 */
int zcap_dump_push(zcap_dumper_t *d);

/*
 * Waits until every record written so far is in the file.
 * Returns 0, or -1 with zcap_dump_geterr() and errno as zcap_dump_write().
 */
int zcap_dump_flush(zcap_dumper_t *d);

/* Flushes and closes, and frees d. For pcapng, when st is not NULL, an
 * Interface Statistics Block with its counters and the capture's start and
 * end times (ns) is written first. Returns 0, or -1 with errno set after
 * removing the file when any write failed (the message is gone with d). */
int zcap_dump_close(zcap_dumper_t *d, const struct zcap_stats *st,
		    uint64_t start_ns, uint64_t end_ns);

/* Closes and removes the file (if it is not stdout). */
void zcap_dump_abort(zcap_dumper_t *d);

/* The last error's message; "" when none. */
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
 * Backends: see zcap_backend_at(ZCAP_TX, i); "auto" takes the first that
 * opens, in the registry's order (README.md, "Backends").
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

/* Every field's 0 is its default. */
struct zcap_tx_opts {
	size_t sz;
	const char *backend;	/* a name from zcap_backend_at(ZCAP_TX, i);
				 * NULL = "auto" */
	uint32_t frames;	/* slots shared with the kernel, a power of two,
				 * 64..ZCAP_TX_MAX_FRAMES; 0 = ZCAP_TX_DEFAULT_FRAMES */
	const struct zcap_xdp_opts *xdp;	/* NULL = defaults (queue 0) */
};

/*
 * Opens ifname for sending. opts may be NULL (every default).
 * Returns the handle, or NULL with a one-line message in errbuf
 * (ZCAP_ERRBUF_SIZE bytes) and errno set:
 *   - EINVAL: an option is out of range, a backend name is unknown, or
 *     opts sets a field this library does not know;
 *   - ENODEV: no interface of that name (or an empty or too long name);
 *   - EOPNOTSUPP: not an Ethernet interface, or the backend cannot send;
 *   - ENETDOWN: the interface is down or has no carrier;
 *   - EPERM: no privilege (needs root or CAP_NET_RAW);
 *   - EAFNOSUPPORT: backend "pfzc" asked for, and the module is not loaded;
 *   - EBUSY: the xdp tx queue is held by another socket;
 *   - ENOMEM, ENOBUFS: the frames could not be allocated or pinned.
 * With "auto", the message lists each backend tried and why it failed;
 * errno is the last one's.
 */
zcap_tx_t *zcap_tx_open(const char *ifname, const struct zcap_tx_opts *opts,
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
	size_t sz;
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
	uint64_t dma;		/* of sent, read by the NIC straight from this
				 * handle's frames, never copied: pfzc on a NIC
				 * that transmits by DMA, xdp in zero-copy mode */
};

/*
 * Takes back finished frames, then fills the first st->sz bytes of *st
 * (declare it with ZCAP_DECLARE).
 * Returns 0, or -1 with errno set: EINVAL when st->sz is smaller than a
 * size_t; else the kernel's error reading its counters (zcap_tx_geterr()).
 */
int zcap_tx_stats(zcap_tx_t *t, struct zcap_tx_stats *st);

/* The socket, for socket options (-1 for none). Owned by t. */
int zcap_tx_fd(zcap_tx_t *t);
const char *zcap_tx_backend_name(const zcap_tx_t *t);
/* "zero-copy" or "copy" for xdp; for pfzc, "zero-copy" once
 * zcap_tx_stats() found frames the NIC read by DMA; "copy" otherwise. */
const char *zcap_tx_mode(const zcap_tx_t *t);
/* The last error's message; "" when none. */
const char *zcap_tx_geterr(zcap_tx_t *t);

/* Gives back any reservation, waits up to a second for frames in flight,
 * closes and frees t. NULL is ignored. */
void zcap_tx_close(zcap_tx_t *t);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif /* ZCAP_H */
