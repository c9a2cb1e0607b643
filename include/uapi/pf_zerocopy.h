/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * PF_ZEROCOPY ring ABI, shared by the pf_zerocopy kernel module and libzcap:
 * the structures, constants and socket options, and the contract both sides
 * keep. Only definitions: the code that implements the contract, the same
 * in the module and in the library, is zcap's include/pfzc_ring.h (as the
 * kernel's net/xdp/xsk_queue.h and libxdp's xsk.h implement linux/if_xdp.h).
 *
 * The application allocates a page-aligned buffer (the "umem") cut into
 * frames of PFZC_FRAME_SIZE bytes, two per 4 KiB page, so no frame crosses a
 * page. The kernel pins it. Packets move through single-producer,
 * single-consumer descriptor rings that both sides map:
 *
 *   rx ring: producer = kernel (the paper's "write"), consumer = application
 *   tx ring: producer = application, consumer = kernel
 *
 * A descriptor names a frame by its byte offset in the umem. It never holds
 * a pointer or a physical address, so nothing the kernel writes lets the
 * application learn about kernel memory, and nothing the application writes
 * is used by the kernel before a private copy of it passed validation (see
 * "A descriptor is valid" below).
 *
 * Ownership (the paper's flag_access, kept by the indices rather than by a
 * flag in each slot so the consumer never writes into the descriptor array):
 *
 *   With prod = *producer and cons = *consumer, free-running u32 counters:
 *     slots [cons, prod)            READABLE:      the consumer owns them
 *     slots [prod, cons + entries)  WRITABLE:      the producer owns them
 *     a slot the producer has never reached since the ring was created is
 *     UNINITIALIZED: its contents are zero and mean nothing.
 *   Invariant: 0 <= prod - cons <= entries (u32 arithmetic). Only the
 *   producer moves prod, only the consumer moves cons, and each only forward.
 *   A frame referenced by a READABLE descriptor belongs to the consumer until
 *   it moves cons past that descriptor.
 *
 * Memory ordering. Data is the descriptor and the frame it names.
 *
 *   producer                            consumer
 *
 *   cons = load-acquire(consumer) (A)   prod = load-acquire(producer) (C)
 *   if (prod - cons < entries) {        if (cons != prod) {
 *      STORE data                           LOAD data
 *      store-release(producer)  (B)         store-release(consumer)   (D)
 *   }                                   }
 *
 *   (A) matches (D): the producer overwrites a slot only after the consumer
 *       finished reading it.
 *   (B) matches (C): the consumer reads a slot only after the producer
 *       finished writing it.
 *
 * Neither side may trust the other side's index: a producer that loads a
 * consumer index making prod - cons exceed entries treats the ring as full,
 * and a consumer that loads a producer index with prod - cons > entries
 * treats it as empty. Each shared field is loaded once into a local and
 * checked before it is used.
 *
 * Ring layout. A ring has entries slots, a power of two in [PFZC_RING_MIN,
 * PFZC_RING_MAX]. Its mmap region is a struct pfzc_ring_shared followed, at
 * desc_off, by the array of entries struct pfzc_desc: sizeof(struct
 * pfzc_ring_shared) + entries * sizeof(struct pfzc_desc) bytes. Index n
 * names slot desc[n & (entries - 1)]. A new ring has both indices 0, flags
 * 0, and every descriptor zeroed.
 *
 * A descriptor is valid when it lies inside the umem, inside a single frame,
 * is not empty, and carries only known flags:
 *	addr < umem len, len != 0, (addr & (frame_size - 1)) + len <= frame_size,
 *	flags only of PFZC_DESC_RX_FLAGS (rx) or PFZC_DESC_TX_FLAGS (tx),
 *	reserved == 0;
 * and a tx descriptor names a tx frame: addr >= rx entries * frame_size.
 * The kernel checks a private copy, never the shared slot.
 */
#ifndef _UAPI_PF_ZEROCOPY_H
#define _UAPI_PF_ZEROCOPY_H

#include <linux/types.h>

#define PFZC_ABI_VERSION	2

/* Socket family number: a module parameter, default 27 (free in Debian 6.1). */
#define PF_ZEROCOPY_DEFAULT	27

#define PFZC_FRAME_SIZE		2048	/* default; 4096 also accepted */
#define PFZC_FRAME_SIZE_MAX	4096	/* a frame never crosses a page */
#define PFZC_RING_MIN		64
#define PFZC_RING_MAX		(1u << 18)
#define PFZC_CACHELINE		64

#define PFZC_UMEM_MAX		(1ULL << 32)	/* bytes of one umem */

/*
 * The socket, step by step (errno for each misuse in brackets):
 *
 *   fd = socket(PF_ZEROCOPY, SOCK_RAW, htons(ETH_P_ALL or an EtherType))
 *	CAP_NET_RAW in the socket's network namespace [EPERM]; any other
 *	type [ESOCKTNOSUPPORT]. Protocol 0 means ETH_P_ALL.
 *   setsockopt(SOL_PFZC, PFZC_UMEM_REG, struct pfzc_umem_reg)
 *	addr page aligned, len a non-zero multiple of frame_size up to
 *	PFZC_UMEM_MAX, frame_size 2048 or 4096, flags 0 [EINVAL]; already
 *	registered [EBUSY]; pages not mapped writable [EFAULT]; over
 *	RLIMIT_MEMLOCK without CAP_IPC_LOCK [ENOBUFS]. Pinned FOLL_LONGTERM.
 *	Only anonymous, shmem (tmpfs, memfd) or hugetlb memory; a file
 *	mapping, even MAP_PRIVATE [EOPNOTSUPP]. Charged to the real uid (as
 *	AF_XDP), whichever process holds the socket, until release.
 *   setsockopt(SOL_PFZC, PFZC_RX_RING / PFZC_TX_RING, __u32 entries)
 *	entries not a power of two in [PFZC_RING_MIN, PFZC_RING_MAX]
 *	[EINVAL]; no umem yet [EINVAL]; the umem
 *	has fewer than rx entries + tx entries frames [EINVAL]; the ring
 *	exists already or a ring is mapped [EBUSY].
 *   Frames: frames [0, rx_entries) are the rx ring's, and the kernel
 *	chooses which of them each rx descriptor names (its addr): a
 *	frame is the application's from when its descriptor becomes
 *	READABLE until consumer moves past that descriptor, the kernel's
 *	otherwise. A capture that copies fills them in order (slot i,
 *	frame i, while nothing is dropped); a NIC writing by DMA fills
 *	them in the order it completes them. Version 1 always used frame
 *	i for slot i. tx descriptors name frames in [rx_entries, umem
 *	frames): a tx descriptor pointing into the rx frames is invalid.
 *   getsockopt(SOL_PFZC, PFZC_MMAP_OFFSETS / PFZC_STATISTICS / PFZC_VERSION)
 *	optlen smaller than the struct [EINVAL]; for PFZC_STATISTICS, a
 *	shorter optlen gets the struct as it ended earlier, up to tx_errors
 *	(version 1) or up to rx_copied, the longest that fits, and optlen
 *	says so.
 *   mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_SHARED, fd, PFZC_PGOFF_* * page size)
 *	no such ring, other offset, len over the ring's size (see Ring
 *	layout) rounded up to pages, or not MAP_SHARED [EINVAL].
 *   bind(fd, struct sockaddr_pfzc { PF_ZEROCOPY, ifindex })
 *	bad length or family [EINVAL]; a umem but no ring [EINVAL] (no umem
 *	at all is packet mode, see below); no such ifindex in the socket's
 *	namespace [ENODEV]; a link that is not plain Ethernet, i.e. not
 *	ARPHRD_ETHER with a 14-byte header (tun, gre, can, loopback, a VLAN
 *	device...) [EINVAL]: frames are sent as they are and read as
 *	Ethernet; bound already, or the device went [EBUSY].
 *	Every option and every setsockopt of a ring is refused once bound
 *	[EBUSY]. The socket's filter (SO_ATTACH_FILTER, or SO_ATTACH_BPF)
 *	runs before a packet is copied; its return value caps the copied
 *	length.
 *	On a device whose driver receives directly (the module's zcN pairs,
 *	kmod/pfzc_driver.h), a socket with an rx ring becomes its direct
 *	receiver: frames go from the driver into the ring, without an skb,
 *	and no longer reach the stack. That diverts the device's traffic, so
 *	it takes CAP_NET_ADMIN in the user namespace owning the device's
 *	network namespace, checked at bind; without it the bind succeeds
 *	all the same and the socket only observes, copying from the packet
 *	hook while the stack still receives every frame, as an AF_PACKET
 *	socket would. /proc/net/pf_zerocopy tells which: its tenth column,
 *	"direct", is 1 for a direct receiver and 0 otherwise; the two after
 *	it count the packets written by a NIC's DMA and those copied.
 *	On a NIC whose driver writes by DMA (the patched e1000), a direct
 *	receiver's frames are posted to the NIC's receive descriptors:
 *	received frames land in them with no copy, the filter reads them in
 *	place, and what the NIC misses while no frame is free it counts
 *	itself (rx_missed_errors). Frames the host sends on that device
 *	are still copied in from the packet hook. One direct
 *	receiver per device: while there is one, any other socket with an
 *	rx ring [EBUSY], privileged or not. The filter is read once per
 *	frame: a classic one runs on the frame bytes, an eBPF one on an skb
 *	built for it around a copy of the frame; either way the frame does
 *	not reach the stack.
 *   rx: the kernel copies each packet once into the next WRITABLE frame,
 *	or counts rx_dropped_ring_full. poll() gives POLLIN while the rx
 *	ring has packets; POLLERR with sk_err ENETDOWN when the device goes.
 *   tx: fill frames and tx descriptors, then sendto(fd, NULL, 0,
 *	MSG_DONTWAIT, NULL, 0). Each descriptor is copied, validated as a
 *	tx descriptor (see "A descriptor is valid"), sent or counted as
 *	tx_invalid, and its slot handed back by moving consumer. A frame is
 *	at least an Ethernet header, 14 bytes: a shorter one is invalid.
 *	Usually the kernel copies each frame out before the kick returns,
 *	and consumer has moved past every slot by then. On a NIC whose
 *	driver transmits by DMA (the patched e1000), the first socket with a
 *	tx ring to bind to it is its DMA sender: the NIC reads the frames
 *	straight from the umem, and consumer moves past a slot only when the
 *	NIC has completed its frame, after the kick returned; poll() gives
 *	POLLOUT as slots come back. Slots come back in ring order (the NIC
 *	may complete frames in another), and an invalid one with the frame
 *	before it. A kick looks at no slot more than entries past consumer,
 *	whatever producer says. The kick fails [EAGAIN] when
 *	the NIC had no room for all of them: kick again once slots came
 *	back. A frame the NIC dropped unsent (a reset, the link lost) counts
 *	in tx_errors. /proc/net/pf_zerocopy's last two columns and tx_dma
 *	and tx_copied in the statistics tell the two ways apart.
 *	Not bound [ENXIO]; device gone [ENETDOWN]; no tx ring, or the
 *	device is no longer plain Ethernet (its type changed) [EINVAL].
 *   fanout: setsockopt(PFZC_FANOUT, __u32 id) on a bound socket joins
 *	group id of the socket's network namespace, made by its first
 *	member, and stays in it until the socket is closed or its device
 *	goes. Each packet the device's hook sees then goes to one member
 *	only, chosen by the kernel's symmetric flow hash (the same for both
 *	directions of a flow) over the members in their order: a flow's two
 *	directions meet in one socket, as with AF_PACKET's
 *	PACKET_FANOUT_HASH. A member's filter, rings and counters are its
 *	own; a packet the hash gives to one member is not seen, nor counted,
 *	by the others. When a member joins or leaves, flows move among them;
 *	a packet that arrives while a socket joins reaches the other members,
 *	or no one when it is the first (as if the capture began a moment
 *	later). Not bound, or its device gone [ENXIO]; already in a group
 *	[EBUSY]; the device's direct receiver, whose NIC fills its ring
 *	itself [EOPNOTSUPP]; id above PFZC_FANOUT_ID_MAX, or a group of that
 *	id on another device or protocol [EINVAL]; PFZC_FANOUT_MAX members
 *	already [ENOSPC]; a module without fanout [ENOPROTOOPT].
 *   Contiguous ring: setsockopt(PFZC_CRING, __u32 0) on a socket with
 *	no umem and no ring asks for the NIC's own receive buffer instead
 *	of frames and descriptors (see "Contiguous ring" below). A umem or
 *	a ring already, or flags not 0 [EINVAL]; set already [EBUSY].
 *	Then bind: a device whose driver has no contiguous ring
 *	(pfzc_driver.h: pd->cring_size 0) [EOPNOTSUPP]; without
 *	CAP_NET_ADMIN over the device's namespace
 *	[EPERM]: the mode takes the NIC's traffic away from the stack and
 *	has no copying fallback; a direct receiver there already [EBUSY];
 *	no memory for the buffer [ENOMEM]. A umem or a ring after it
 *	[EINVAL], fanout [EOPNOTSUPP], recvmsg() [EBUSY]. The socket
 *	filter does not run: records are read in place, in the NIC's
 *	order, and the application filters them. Only what the NIC
 *	receives is there: frames the host sends are not.
 *   Without rings: recvmsg() returns one packet per call (MSG_TRUNC
 *	semantics, blocking unless MSG_DONTWAIT) from a socket queue whose
 *	overflow counts as rx_dropped_queue_full; sendmsg() with data sends
 *	one frame (under 14 bytes, or the device no longer plain Ethernet
 *	[EINVAL]; over MTU + link header [EMSGSIZE]). With an rx ring,
 *	recvmsg() fails [EBUSY].
 */

/*
 * Contiguous ring. Some NICs (the RTL8139) have no descriptors: they DMA
 * each frame, behind a 4-byte header, right after the previous one into
 * one buffer that wraps. In this mode that buffer itself is shared with
 * the application, read-only, and nothing is copied: the kernel allocates
 * it at bind (coherent DMA memory of the NIC), the NIC writes into it, the
 * driver checks each record the NIC completed and publishes how far it
 * checked, and the application hands back how far it has read, which is
 * where the NIC may write again (its CAPR register follows it).
 *
 * Two mappings:
 *   PFZC_PGOFF_CRING: one page, PROT_READ|PROT_WRITE, a struct
 *	pfzc_cring_shared, from setsockopt(PFZC_CRING) on (size and
 *	data_len are set at bind);
 *   PFZC_PGOFF_CRING_DATA: the buffer, after bind, data_len bytes
 *	rounded up to pages, PROT_READ only [EACCES with PROT_WRITE];
 *	mprotect cannot add write either.
 *   Not in this mode, the buffer before bind, another offset, or len
 *	over the mapping's size [EINVAL]; not MAP_SHARED [EINVAL]. The
 *	kernel keeps its own copies of size and data_len: what user space
 *	writes into the page changes nothing but its own view.
 *
 * Positions are free-running __u32 byte counts; the byte of position p is
 * at offset p & (size - 1) of the buffer. A record starts at a position p
 * that is a multiple of 4:
 *
 *	header = le32 at offset o = p & (size - 1)
 *	status = header & 0xffff     PFZC_CRING_RX_OK set
 *	len    = header >> 16        the frame and its 4-byte FCS, in
 *	                             [PFZC_CRING_LEN_MIN, PFZC_CRING_LEN_MAX]
 *	frame  = bytes [o + 4, o + 4 + len - 4): never split by the wrap,
 *	         the buffer runs on past size for that (data_len)
 *	next   = p + ((4 + len + 3) & ~3)
 *
 * Ownership, with prod = *producer and cons = *consumer:
 *     [cons, prod)           READABLE: whole records the kernel checked,
 *                            the application's; the NIC writes none of it
 *     [prod, cons + size)    the NIC's and the kernel's
 *   Invariant: 0 <= prod - cons < size. Only the kernel moves prod, only
 *   the application moves cons, each forward, to a record boundary. The
 *   kernel takes a consumer that is a multiple of 4 and lies in [its last
 *   valid consumer, prod] and ignores any other; so does it take the
 *   application's word for nothing that could make it read or write
 *   outside the buffer, and a consumer that is not a record boundary only
 *   gives the application's own unread bytes to the NIC.
 *
 * Memory ordering, as for the descriptor rings (A-D above):
 *
 *   kernel (driver's poll)               application
 *
 *   read the NIC's write offset; rmb     prod = load-acquire(producer) (C)
 *   check the records up to it           read the records in [cons, prod)
 *   store-release(producer)       (B)    store-release(consumer)      (D)
 *   cons = load-acquire(consumer) (A)
 *   write it to the NIC (CAPR)
 *
 *   (B) matches (C): the application reads a record only after the kernel
 *       checked it, and the NIC wrote it before that.
 *   (A) matches (D): the NIC may overwrite bytes only after the
 *       application finished reading them.
 *
 * flags: PFZC_CRING_ENDED once the NIC writes no more into the buffer
 * while the socket is bound: the interface went down (sk_err ENETDOWN),
 * the NIC's receive side was reset (a transmit timeout, ENETRESET), or it
 * wrote a record that fails the checks (EIO, the NIC's header lost in its
 * own buffer, a frame longer than PFZC_CRING_LEN_MAX among them, or a
 * frame it kept copying in for more than two jiffies): POLLERR with that
 * error, and flags is stored with release semantics after the producer,
 * so a reader that sees it (acquire) and loads the producer again has
 * every record there is. Records before prod stay readable.
 * Such a NIC restarts at the start of its buffer, behind the application's
 * back, so a new capture needs a new socket. The NIC's own drops, when the
 * application reads too slowly and the buffer fills, are counted by the
 * NIC (rx_missed_errors).
 */
#define PFZC_CRING_RX_OK	0x0001	/* status: received whole and well */
#define PFZC_CRING_LEN_MIN	8
#define PFZC_CRING_LEN_MAX	(1792 + 4)	/* the longest 8139too takes */
#define PFZC_CRING_ENDED	(1u << 0)

struct pfzc_cring_shared {
	__u32 producer;
	__u32 pad0[PFZC_CACHELINE / 4 - 1];
	__u32 consumer;
	__u32 pad1[PFZC_CACHELINE / 4 - 1];
	__u32 flags;		/* PFZC_CRING_ENDED */
	__u32 abi_version;
	__u32 size;		/* power of two: positions wrap at it */
	__u32 data_len;		/* bytes of the buffer: size + run-on */
	__u32 pad2[PFZC_CACHELINE / 4 - 4];
};

/* setsockopt/getsockopt level and options */
#define SOL_PFZC		299
#define PFZC_UMEM_REG		1	/* set: struct pfzc_umem_reg */
#define PFZC_RX_RING		2	/* set: __u32 entries, power of two */
#define PFZC_TX_RING		3	/* set: __u32 entries, power of two */
#define PFZC_MMAP_OFFSETS	4	/* get: struct pfzc_mmap_offsets */
#define PFZC_STATISTICS		5	/* get: struct pfzc_stats */
#define PFZC_VERSION		6	/* get: __u32 PFZC_ABI_VERSION */
#define PFZC_FANOUT		7	/* set: __u32 group id (see "fanout") */
#define PFZC_CRING		8	/* set: __u32 0 (see "Contiguous ring") */

#define PFZC_FANOUT_ID_MAX	0xffff
#define PFZC_FANOUT_MAX		64	/* members of a group */

/* mmap() page offsets of the rings */
#define PFZC_PGOFF_RX_RING	0ULL
#define PFZC_PGOFF_TX_RING	0x80000000ULL
#define PFZC_PGOFF_CRING	0x40000000ULL
#define PFZC_PGOFF_CRING_DATA	0xc0000000ULL

struct sockaddr_pfzc {
	__u16 spz_family;	/* PF_ZEROCOPY */
	__u16 spz_pad;		/* 0 */
	__u32 spz_ifindex;
};

struct pfzc_umem_reg {
	__u64 addr;		/* page aligned */
	__u64 len;		/* multiple of frame_size */
	__u32 frame_size;	/* PFZC_FRAME_SIZE or PFZC_FRAME_SIZE_MAX */
	__u32 flags;		/* none defined, must be 0 */
};

/* Descriptor flags */
#define PFZC_DESC_VLAN		(1u << 0)	/* vlan_tci is valid */
#define PFZC_DESC_OUTGOING	(1u << 1)	/* rx: sent by this host */
#define PFZC_DESC_TRUNCATED	(1u << 2)	/* rx: len < orig_len */
#define PFZC_DESC_RX_FLAGS	(PFZC_DESC_VLAN | PFZC_DESC_OUTGOING | PFZC_DESC_TRUNCATED)
#define PFZC_DESC_TX_FLAGS	0u	/* tx accepts no flag yet */

struct pfzc_desc {
	__u64 addr;		/* byte offset of the packet in the umem */
	__u32 len;		/* bytes in the frame */
	__u32 orig_len;		/* rx: length on the wire */
	__u64 ts_ns;		/* rx: CLOCK_REALTIME in ns */
	__u32 flags;		/* PFZC_DESC_* */
	__u16 vlan_tci;
	__u16 reserved;		/* 0 */
};

/*
 * The shared part of a ring, at the start of its mmap region. The producer
 * and consumer indices each have a cache line, so the two sides never write
 * the same line. abi_version, entries and desc_off are written once by the
 * kernel before the ring can be mapped, and never change.
 */
struct pfzc_ring_shared {
	__u32 producer;
	__u32 pad0[PFZC_CACHELINE / 4 - 1];
	__u32 consumer;
	__u32 pad1[PFZC_CACHELINE / 4 - 1];
	__u32 flags;		/* PFZC_RING_NEED_WAKEUP */
	__u32 abi_version;
	__u32 entries;
	__u32 desc_off;		/* offset of the pfzc_desc array */
	__u32 pad2[PFZC_CACHELINE / 4 - 4];
};

#define PFZC_RING_NEED_WAKEUP	(1u << 0)

struct pfzc_ring_offsets {
	__u64 producer;
	__u64 consumer;
	__u64 flags;
	__u64 desc;
};

struct pfzc_mmap_offsets {
	struct pfzc_ring_offsets rx;
	struct pfzc_ring_offsets tx;
};

/* Counters since the socket was created; 64-bit, never reset. */
struct pfzc_stats {
	__u64 rx_packets;		/* published to the rx ring or queue */
	__u64 rx_dropped_ring_full;	/* no WRITABLE slot */
	__u64 rx_dropped_queue_full;	/* no ring: socket queue over rcvbuf */
	__u64 rx_filtered;		/* rejected by the socket filter */
	__u64 rx_truncated;		/* published with len < orig_len */
	__u64 tx_packets;
	__u64 tx_invalid;		/* descriptors refused by validation */
	__u64 tx_errors;		/* valid, but the device refused them */
	/* since version 2; a version-1 caller's shorter optlen gets the above */
	__u64 rx_dma;			/* rx_packets the NIC wrote by DMA */
	__u64 rx_copied;		/* rx_packets the kernel copied */
	/* later; a caller whose struct ends at rx_copied gets that much */
	__u64 tx_dma;			/* tx_packets the NIC read by DMA */
	__u64 tx_copied;		/* tx_packets the kernel copied */
};

#endif /* _UAPI_PF_ZEROCOPY_H */
