/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PF_ZEROCOPY: internal definitions shared by the module's files.
 *
 * Locking, outermost first:
 *
 *   RTNL (netdevice notifier; bind; release of a direct receiver on a
 *         driver that DMAs, whose rx_switch op runs under it)
 *     pfzc_net.lock (per-netns socket list)
 *       pfzc_sock.lock (configuration, binding, tx ring consumer)
 *         pfzc_devs_lock (driver.c: registered devices and their direct
 *                         receiver; pfzc_dev_attach/detach; nests nothing)
 *         pfzc_fanout_mutex (fanout.c: the groups and their members)
 *           ptype_lock (dev_add_pack / dev_remove_pack)
 *   RTNL -> pfzc_devs_lock (pfzc_dev_unregister() from a driver's
 *           ndo_uninit, as vnet.c's, under unregister_netdevice)
 *   mm->mmap_lock (mmap) -> pfzc_sock.lock
 *   pfzc_sock.tx_dma.lock (a DMA sender's tx consumer, BH off: its kick,
 *           under pfzc_sock.lock, and the driver's completions) -> the
 *           driver's tx queue lock (ops->xmit_dma)
 *   pfzc_sock.rx_lock (rx ring producer, BH off: the packet hook, a
 *           driver's direct receive, and a tx ring kick into a virtual
 *           pair's peer under the sender's pfzc_sock.lock; nests nothing)
 *
 * pfzc_sock.lock is never held across anything that may fault on user
 * memory or take mmap_lock (copy_{from,to}_user, pin_user_pages and the
 * VMA walk before it, both under mmap_read_lock), because mmap() takes it
 * under mmap_lock.
 *
 * Once a socket is bound, its umem and rings never change until release,
 * so the rx hook reads them without a lock. A grace period passes between
 * the hook's removal and the freeing of any of them (pfzc_unhook()).
 */
#ifndef _PFZC_H
#define _PFZC_H

#include <linux/atomic.h>
#include <linux/dma-mapping.h>
#include <linux/filter.h>
#include <linux/if_arp.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/nospec.h>
#include <linux/spinlock.h>
#include <net/sock.h>

#include "pfzc_ring.h"

#include "pfzc_driver.h"

struct pfzc_umem {
	struct page **pages;
	unsigned long npages;
	u64 len;
	u32 frame_size;
	u32 nframes;
	struct user_struct *user; /* locked_vm charged; NULL with CAP_IPC_LOCK */
};

/*
 * The page holding umem offset addr, which the caller has checked is
 * inside the umem. The check compares against a length user space chose:
 * the clamp keeps a mispredicted one from loading past pages[] (Spectre
 * v1) with an offset from a descriptor.
 */
static inline struct page *pfzc_umem_page(const struct pfzc_umem *umem, u64 addr)
{
	return umem->pages[array_index_nospec(addr >> PAGE_SHIFT, umem->npages)];
}

/* A ring in kernel memory, mapped by user space through the socket. */
struct pfzc_kring {
	void *map;		/* vmap() of pages; NULL until created */
	struct page **pages;	/* map_size >> PAGE_SHIFT of them */
	size_t map_size;	/* page aligned */
	u32 entries;
	struct pfzc_ring r;	/* the kernel's side of it */
};

enum pfzc_state {
	PFZC_UNBOUND,
	PFZC_BOUND,
	PFZC_DEAD,		/* was bound; the device went away */
};

/*
 * Which frame each rx slot names is the kernel's choice, kept here and
 * never read back from the shared ring (which user space may rewrite).
 * Under pfzc_sock.rx_lock. Every frame of [0, rx entries) is, at any time,
 * in exactly one of these places:
 *
 *   free[head, tail)            the kernel's, unused
 *   reserved by the copy path   between pfzc_rx_reserve() and commit/abort
 *   posted to a DMA driver      between pfzc_zc_rx_post() and
 *                               pfzc_zc_rx_deliver()/pfzc_zc_rx_recycle()
 *   slot_frame[s], s in [reclaimed, published)
 *                               READABLE while s >= consumer: the
 *                               application's; below it, back to the
 *                               kernel, moved to free[] by the next reclaim
 *
 * A frame goes to a slot only when its packet is complete, so frames need
 * not be filled in slot order: a driver with frames posted to its NIC
 * delivers them as they complete, and gives back the ones it drops.
 */
struct pfzc_rx_frames {
	u32 *slot_frame;	/* entries: the frame of slot s at [s & mask] */
	u32 *free;		/* entries: a FIFO of free frame numbers */
	u32 head, tail;		/* free[head & mask] .. free[(tail - 1) & mask] */
	u32 reclaimed;		/* slots below it: their frames are in free[] */
	u32 published;		/* the producer index last made visible */
};

/*
 * Pages of the umem mapped for a NIC (umem.c): frames are lent to it at
 * packet rate, their pages are mapped only once, at bind, and unmapped
 * after the driver stopped its DMA. The rx frames' (pfzc_zc_rx_start/stop)
 * and a DMA sender's tx frames' (pfzc_zc_tx_start/stop).
 */
struct pfzc_dma_pages {
	struct device *dev;	/* NULL: none mapped */
	dma_addr_t *page;	/* bus address of each page from first */
	u32 first;
	u32 npages;
	enum dma_data_direction dir;
};

/*
 * The DMA sender's hold on its tx frames (zc_tx.c), under lock. With cons
 * = *consumer (moved only by the kernel) and next = the tx ring's
 * cached_cons, the slots:
 *
 *   [cons, next)   the kernel's: each PFZC_TXS_NIC (queued on the NIC,
 *                  which may still read its frame: inflight of them) or
 *                  PFZC_TXS_DONE (completed, or refused as invalid)
 *   [next, prod)   published, not looked at yet
 *
 * Invariant: next - cons <= entries, whatever the application writes in
 * producer (a kick looks at no slot past cons + entries), so a slot's
 * state is never two laps' at once. consumer moves over DONE slots only,
 * up to the first NIC one: the NIC's completions may come in any order (a
 * reset cleans its ring from its first descriptor, not its oldest).
 */
enum { PFZC_TXS_NIC = 1, PFZC_TXS_DONE };
struct pfzc_tx_dma {
	struct pfzc_dma_pages map;	/* map.dev NULL: its frames are copied */
	u8 *state;		/* entries: of slot s at [s & mask] */
	u32 inflight;
	u32 cons;		/* what the kernel last stored in consumer */
	spinlock_t lock;	/* BH off: the kick and the completions */
};

/*
 * Contiguous ring mode (cring.c): ctl from setsockopt(PFZC_CRING) to
 * release; the buffer from bind to release. prod and cons belong to the
 * driver's poll.
 */
struct pfzc_cring {
	struct pfzc_cring_shared *ctl;	/* one page; NULL: not this mode */
	struct device *dev;		/* the NIC the buffer is for, held */
	void *data;			/* NULL until bound */
	dma_addr_t dma;
	size_t alloc;			/* page aligned */
	u32 size;			/* ours: the shared page's copies */
	u32 data_len;			/* are user space's to overwrite */
	u32 prod;			/* what was published */
	u32 cons;			/* the last valid consumer */
	bool ended;			/* the NIC writes no more into it */
};

struct pfzc_sock {
	struct sock sk;		/* must be first */
	struct mutex lock;
	spinlock_t rx_lock;
	enum pfzc_state state;	/* written under lock; read locklessly */
	__be16 proto;
	int ifindex;
	struct net_device *dev;
	netdevice_tracker dev_tracker;
	struct packet_type pt;	/* off while in a fanout group */
	struct pfzc_fanout *fanout;	/* under lock; NULL: none */
	/* PFZC_DEAD: the grace period after which the hook no longer runs
	 * (get_state_synchronize_rcu()); release waits for it */
	unsigned long unhook_gp;
	struct pfzc_dev *pdev;	/* dev is registered by its driver (driver.c) */
	bool direct;		/* ... and this socket is its direct receiver */
	struct pfzc_umem *umem;
	struct pfzc_kring rx;
	struct pfzc_rx_frames rxf;	/* with rx, under rx_lock */
	struct pfzc_dma_pages rx_dma;	/* set and cleared by the driver, its receive stopped */
	struct pfzc_kring tx;
	struct pfzc_tx_dma tx_dma;	/* set at bind if this is the DMA sender */
	struct pfzc_cring cring;	/* instead of umem and rings */
	atomic_t mapped;	/* live vmas of either ring */
	struct list_head node;	/* pfzc_net.socks */

	atomic64_t rx_packets;
	atomic64_t rx_dropped_ring_full;
	atomic64_t rx_dropped_queue_full;
	atomic64_t rx_filtered;
	atomic64_t rx_truncated;
	atomic64_t rx_dma_frames;	/* written by a NIC's DMA, not copied */
	atomic64_t rx_copied;		/* copied into a frame by the kernel */
	atomic64_t tx_packets;
	atomic64_t tx_invalid;
	atomic64_t tx_errors;
	atomic64_t tx_dma_frames;	/* read by a NIC's DMA, not copied */
	atomic64_t tx_copied;		/* copied out of a frame by the kernel */
};

static inline struct pfzc_sock *pfzc_sk(const struct sock *sk)
{
	return container_of(sk, struct pfzc_sock, sk);
}

extern int pfzc_family;

/* Frames for this socket go to memory it shares (an rx ring, or the NIC's
 * own buffer for a contiguous ring), never to its receive queue. Acquire:
 * pairs with the release that set either up (ring.c, cring.c). */
static inline bool pfzc_sock_rx_shared(const struct pfzc_sock *po)
{
	return smp_load_acquire(&po->rx.map) || smp_load_acquire(&po->cring.ctl);
}

/* A plain Ethernet link: the only kind the socket's frames are built for
 * (bind checks it, and transmit again: a bond's type may change). */
static inline bool pfzc_link_is_eth(const struct net_device *dev)
{
	return dev->type == ARPHRD_ETHER && dev->hard_header_len == ETH_HLEN;
}

/* umem.c */
int pfzc_umem_create(const struct pfzc_umem_reg *reg, struct pfzc_umem **out);
void pfzc_umem_destroy(struct pfzc_umem *umem);
int pfzc_dma_pages_map(struct pfzc_dma_pages *m, const struct pfzc_umem *umem,
		       struct device *dev, u32 first, u32 n,
		       enum dma_data_direction dir);
void pfzc_dma_pages_unmap(struct pfzc_dma_pages *m);

/* The bus address of byte off of the umem, which must be in m's pages. */
static inline dma_addr_t pfzc_dma_pages_addr(const struct pfzc_dma_pages *m, u64 off)
{
	return m->page[(off >> PAGE_SHIFT) - m->first] + offset_in_page(off);
}

/* ring.c */
int pfzc_ring_create(struct pfzc_kring *kr, u32 entries);
void pfzc_ring_destroy(struct pfzc_kring *kr);
int pfzc_mmap(struct file *file, struct socket *sock,
	      struct vm_area_struct *vma);
__poll_t pfzc_poll(struct file *file, struct socket *sock,
		   struct poll_table_struct *wait);

/* driver.c */
int pfzc_dev_attach(struct pfzc_sock *po, struct net_device *dev);
void pfzc_dev_detach(struct pfzc_sock *po);
bool pfzc_dev_switches(const struct pfzc_sock *po);
void pfzc_rx_kick(struct pfzc_sock *po);
int pfzc_rx_frames_init(struct pfzc_sock *po);
void pfzc_rx_frames_free(struct pfzc_sock *po);
void __pfzc_rx_commit(struct pfzc_sock *po, struct pfzc_rx_frame *f,
		      const struct pfzc_desc *meta, u64 ts_ns);

/* zc_tx.c */
int pfzc_zc_tx_start(struct pfzc_sock *po, struct device *dma_dev);
void pfzc_zc_tx_stop(struct pfzc_sock *po);
int pfzc_zc_tx_kick(struct pfzc_sock *po);

/* cring.c */
int pfzc_cring_set(struct pfzc_sock *po, sockptr_t optval, unsigned int optlen);
int pfzc_cring_alloc(struct pfzc_sock *po, struct pfzc_dev *pd);
void pfzc_cring_free(struct pfzc_sock *po);
int pfzc_cring_mmap(struct pfzc_sock *po, struct vm_area_struct *vma);
bool pfzc_cring_readable(struct pfzc_sock *po);

/* cbpf.c */
unsigned int pfzc_cbpf_run(const struct sock_fprog_kern *prog, const void *data,
			   u32 len, const struct net_device *dev);

/* vnet.c */
int pfzc_vnet_init(void);
void pfzc_vnet_exit(void);

/* rx.c */
int pfzc_rcv(struct sk_buff *skb, struct net_device *dev,
	     struct packet_type *pt, struct net_device *orig_dev);
int pfzc_sk_rcv(struct sk_buff *skb, struct net_device *dev, struct sock *sk);

/* fanout.c */
struct pfzc_fanout;
int pfzc_fanout_join(struct pfzc_sock *po, u32 id);
void pfzc_fanout_leave(struct pfzc_sock *po);
u32 pfzc_fanout_id(const struct pfzc_sock *po);
int pfzc_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
		 int flags);

/* tx.c */
int pfzc_sendmsg(struct socket *sock, struct msghdr *msg, size_t len);
void pfzc_write_space(struct sock *sk);
bool pfzc_tx_desc_get(struct pfzc_sock *po, const struct net_device *dev,
		      u32 idx, struct pfzc_desc *d);

#endif /* _PFZC_H */
