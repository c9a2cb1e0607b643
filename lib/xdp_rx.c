/* SPDX-License-Identifier: MIT */
/*
 * AF_XDP backend: the mainline way for a NIC to DMA straight into the
 * application's buffer. Each rx queue gets a socket with its own umem of
 * 2 KiB frames (the paper's user buffer) and fill/rx rings (its descriptor
 * rings); a five-instruction XDP program redirects each queue's frames to
 * its socket through an XSKMAP.
 *
 * - Zero copy (XDP_ZEROCOPY) is tried first, then copy mode; which one
 *   bound is in the verbose output. AUTO only takes a zero-copy bind, and
 *   never on an interface with IP addresses: AF_XDP takes frames away from
 *   the kernel stack, which is right for a mirror port and wrong for a
 *   host's own link.
 * - The program is attached through a BPF link, not netlink: the kernel
 *   detaches it when the link's last fd closes, so close, SIGINT and a
 *   SIGKILL all leave the interface clean, and a second capture on the
 *   same interface gets EBUSY instead of taking the first one's packets.
 * - The filter (h->filters.in) runs in user space on each frame
 *   (zcap_filter_run()) before it is handed out; what it rejects is
 *   counted as filtered. A new one applies from the next frame on.
 * - AF_XDP gives no receive timestamp: packets are stamped when a batch is
 *   taken from the ring.
 * - A fanout member (ZCAP_OPT_FANOUT) is the exception to the own program:
 *   its sockets go into libxdp's XSK program, which libxdp loads for the
 *   first socket on the interface and shares with every later one, of
 *   this process or another, and detaches after the last. The members
 *   take distinct queues, and the NIC's RSS spreads the flows over them.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "rx.h"
#include "xsk_common.h"

#define XDP_FRAME_SIZE 2048u
#define XDP_MAX_QUEUES 64u
#define XDP_PROG_NAME "zcap_xsk"

/* One rx queue. Frames: in the fill ring, in the kernel, in the rx ring,
 * or held by the application (addrs[0..held)) until zcap_release().
 * held <= nframes: more descriptors than frames given to the kernel can
 * only come from a ring that was written over, and are not read.
 * With forwarding also: on the tx ring (queued: tx_queued not yet
 * submitted, then in flight: tx_out), then on the completion ring, from
 * where forward_flush puts them back on the fill ring. A held frame that
 * was forwarded stays in addrs, as FORWARDED, until given back, so that
 * positions (given + held) still count what the rx ring handed out; it
 * does not go to the fill ring from there. */
struct xq {
	struct zxsk p;			/* p.rx and p.fill; p.tx and p.comp
					 * with forwarding */
	uint32_t nframes;
	uint32_t held;
	uint32_t given;			/* frames given back since open, mod 2^32 */
	uint64_t *addrs;
	int queue;
	uint32_t tx_queued, tx_out;
	uint64_t tx_done;		/* forwarded frames completed */
	uint64_t tx_dropped;		/* of those, dropped by the device */
};

#define FORWARDED UINT64_MAX

struct xdp {
	struct xq *q;
	unsigned int nq;
	unsigned int next;		/* queue to read first, round robin */
	int map_fd, prog_fd, link_fd, epfd;	/* fanout: map_fd only, libxdp's */
	int zerocopy;
	int shared;			/* a fanout member: libxdp's program */
	int veth;			/* counts a failed redirect in rx_dropped */
	uint32_t max_fwd;		/* forwarding: the longest frame the
					 * device takes (MTU + header, VLAN) */
	uint64_t filtered;
};

/* Queue count from sysfs (rx-N directories); 1 if it cannot tell. */
static unsigned int rx_queues(const char *ifname)
{
	char path[64];
	struct dirent *e;
	unsigned int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return 1;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "rx-", 3))
			n++;
	closedir(d);
	return n ? n : 1;
}

static int has_ip_address(const char *ifname)
{
	struct ifaddrs *ifa, *i;
	int found = 0;

	if (getifaddrs(&ifa))
		return 0;
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && !strcmp(i->ifa_name, ifname) &&
		    (i->ifa_addr->sa_family == AF_INET ||
		     i->ifa_addr->sa_family == AF_INET6))
			found = 1;
	freeifaddrs(ifa);
	return found;
}

/* rx_queue_index -> XSKMAP; a queue without a socket goes to the stack. */
static int load_prog(struct zcap *h, struct xdp *x)
{
	struct bpf_insn insns[] = {
		/* r2 = ctx->rx_queue_index */
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_2,
		  .src_reg = BPF_REG_1, .off = offsetof(struct xdp_md, rx_queue_index) },
		/* r1 = the XSKMAP (a two-slot immediate) */
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = x->map_fd },
		{ 0 },
		/* r3 = what to do when the queue has no socket */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_redirect_map },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts);

	x->map_fd = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "zcap_xsks", sizeof(uint32_t),
				   sizeof(uint32_t), XDP_MAX_QUEUES, NULL);
	if (x->map_fd < 0) {
		zcap_seterr(h, "%s: cannot create the XSKMAP: %s", h->ifname, strerror(errno));
		return -1;
	}
	insns[1].imm = x->map_fd;
	x->prog_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, XDP_PROG_NAME, "GPL", insns,
				   sizeof(insns) / sizeof(insns[0]), &opts);
	if (x->prog_fd < 0) {
		zcap_seterr(h, "%s: cannot load the XDP program: %s", h->ifname, strerror(errno));
		return -1;
	}
	return 0;
}

/* The name of the XDP program attached to ifindex, or "" if none. */
static void attached_prog(int ifindex, char *name, size_t len)
{
	struct bpf_prog_info info;
	uint32_t ilen = sizeof(info);
	uint32_t id = 0;
	int fd;

	name[0] = '\0';
	if (bpf_xdp_query_id(ifindex, 0, &id) || !id)
		return;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(name, len, "%s", info.name);
	close(fd);
}

/* Native mode first (veth and real drivers), generic mode otherwise. */
static int attach_prog(struct zcap *h, struct xdp *x, const char **mode)
{
	static const struct { uint32_t flags; const char *name; } modes[] = {
		{ XDP_FLAGS_DRV_MODE, "native" },
		{ XDP_FLAGS_SKB_MODE, "generic" },
	};
	char other[BPF_OBJ_NAME_LEN];

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = modes[i].flags);

		x->link_fd = bpf_link_create(x->prog_fd, h->ifindex, BPF_XDP, &opts);
		if (x->link_fd >= 0) {
			*mode = modes[i].name;
			return 0;
		}
		if (errno == EBUSY || errno == EEXIST)
			break;
	}
	if (errno == EBUSY || errno == EEXIST) {
		attached_prog(h->ifindex, other, sizeof(other));
		if (!strcmp(other, XDP_PROG_NAME))
			zcap_seterr(h, "%s: another zcap capture already uses XDP on this interface",
				    h->ifname);
		else
			zcap_seterr(h, "%s: an XDP program (%s) is already attached; zcap "
				    "will not replace it", h->ifname, other[0] ? other : "?");
		errno = EBUSY;
		return -1;
	}
	zcap_seterr(h, "%s: cannot attach the XDP program: %s", h->ifname, strerror(errno));
	return -1;
}

static void xq_close(struct xq *q)
{
	zxsk_close(&q->p);
	free(q->addrs);
	memset(q, 0, sizeof(*q));
}

/*
 * libxdp and libbpf print to stderr unless told otherwise, and a shared
 * socket makes libxdp load (or look for) its program, which they comment
 * on: for that call their print functions lead into zcap_vlog(), and back
 * after. Those functions are the process's, so two threads opening at
 * once take turns, or one would put back the other's.
 */
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;
static libbpf_print_fn_t bpf_saved;
static libxdp_print_fn_t xdp_saved;

static int bpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	zcap_vlog(ZCAP_LOG_DEBUG, fmt, ap);
	return 0;
}

static int xdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	zcap_vlog(ZCAP_LOG_DEBUG, fmt, ap);
	return 0;
}

/* Around a call into libxdp that may load, find or detach its program. */
static void libs_quiet(void)
{
	pthread_mutex_lock(&print_lock);
	bpf_saved = libbpf_set_print(bpf_print);
	xdp_saved = libxdp_set_print(xdp_print);
}

static void libs_loud(void)
{
	libxdp_set_print(xdp_saved);
	libbpf_set_print(bpf_saved);
	pthread_mutex_unlock(&print_lock);
}

/* The XSKMAP among fd's maps, as a new fd; -1 if none. */
static int prog_xskmap(int fd)
{
	struct bpf_prog_info info;
	uint32_t ids[16], len = sizeof(info);

	memset(&info, 0, sizeof(info));
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (uint64_t)(uintptr_t)ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -1;
	for (uint32_t i = 0; i < info.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct bpf_map_info mi;
		uint32_t mlen = sizeof(mi);
		int mfd = bpf_map_get_fd_by_id(ids[i]);

		if (mfd < 0)
			continue;
		memset(&mi, 0, sizeof(mi));
		if (!bpf_obj_get_info_by_fd(mfd, &mi, &mlen) && mi.type == BPF_MAP_TYPE_XSKMAP)
			return mfd;
		close(mfd);
	}
	return -1;
}

/*
 * libxdp's XSKMAP on the interface, for xdp_freeze(): libxdp does not hand
 * it out without taking a reference on its program (xsk_setup_xdp_prog()),
 * which would keep the program attached after the group's last socket.
 * Its program is the interface's own, or one behind libxdp's dispatcher.
 */
static int shared_xskmap(struct zcap *h)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(h->ifindex);
	struct xdp_program *p = NULL;
	int fd = -1;

	if (!mp || libxdp_get_error(mp))
		return -1;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p)
			fd = prog_xskmap(xdp_program__fd(p));
	}
	while (fd < 0 && (p = xdp_multiprog__next_prog(p, mp)))
		fd = prog_xskmap(xdp_program__fd(p));
	xdp_multiprog__close(mp);
	return fd;
}

/* One queue's umem and socket, every frame in the fill ring; 0 or -errno. */
static int xq_open(struct zcap *h, struct xq *q, uint32_t nframes)
{
	const struct zxsk_cfg cfg = {
		.frames = nframes,
		.frame_size = XDP_FRAME_SIZE,
		.fill_size = nframes,
		.comp_size = h->cfg.forward ? nframes : XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.rx_size = nframes,
		.tx_size = h->cfg.forward ? nframes : 0,
		.allow_copy = !h->automatic,
		.shared_prog = h->cfg.fanout >= 0,
	};
	uint32_t idx;
	int err;

	q->nframes = nframes;
	q->addrs = calloc(nframes, sizeof(*q->addrs));
	if (!q->addrs)
		return -ENOMEM;
	err = zxsk_open(&q->p, h->ifname, (uint32_t)q->queue, &cfg);
	if (err)
		return err;
	if (xsk_ring_prod__reserve(&q->p.fill, nframes, &idx) != nframes)
		return -ENOSPC;
	for (uint32_t i = 0; i < nframes; i++)
		*xsk_ring_prod__fill_addr(&q->p.fill, idx + i) = (uint64_t)i * XDP_FRAME_SIZE;
	xsk_ring_prod__submit(&q->p.fill, nframes);
	return 0;
}

/* Every queue: zero copy first; copy mode too unless AUTO (see
 * lib/backends.c). */
static int open_queues(struct zcap *h, struct xdp *x, uint32_t nframes)
{
	int automatic = h->automatic;
	int err = 0;

	for (unsigned int i = 0; i < x->nq; i++) {
		struct xq *q = &x->q[i];
		int queue = q->queue;

		if (x->shared)
			libs_quiet();
		err = xq_open(h, q, nframes);
		if (x->shared)
			libs_loud();
		if (err == -EBUSY && x->shared) {
			zcap_seterr(h, "%s: queue %d is taken by another member of the "
				    "fanout group, or XDP is in other use on this interface "
				    "(the members share libxdp's program)", h->ifname, queue);
			errno = EBUSY;
			return -1;
		}
		if (err == -EBUSY) {
			zcap_seterr(h, "%s: queue %d is taken: another capture already uses XDP "
				    "on this interface", h->ifname, queue);
			errno = EBUSY;
			return -1;
		}
		if (err) {
			errno = -err;
			if (automatic)
				zcap_seterr(h, "%s: queue %d: no zero-copy AF_XDP (%s); "
					    "copy mode is slower than tpacket", h->ifname,
					    queue, strerror(errno));
			else
				zcap_seterr(h, "%s: queue %d: AF_XDP socket: %s", h->ifname,
					    queue, strerror(errno));
			return -1;
		}
		err = x->shared ? 0 : xsk_socket__update_xskmap(q->p.xsk, x->map_fd);
		if (err) {
			errno = -err;
			zcap_seterr(h, "%s: queue %d: XSKMAP: %s", h->ifname, queue,
				    strerror(errno));
			return -1;
		}
		if (i == 0)
			x->zerocopy = q->p.zerocopy;
	}
	return 0;
}

static int setup_poll(struct zcap *h, struct xdp *x)
{
	if (x->nq == 1) {
		h->fd = zxsk_fd(&x->q[0].p);
		return 0;
	}
	x->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (x->epfd < 0) {
		zcap_seterr(h, "epoll: %s", strerror(errno));
		return -1;
	}
	for (unsigned int i = 0; i < x->nq; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

		if (epoll_ctl(x->epfd, EPOLL_CTL_ADD, zxsk_fd(&x->q[i].p), &ev)) {
			zcap_seterr(h, "epoll: %s", strerror(errno));
			return -1;
		}
	}
	h->fd = x->epfd;
	return 0;
}

static void xdp_close(struct zcap *h);

static int xdp_open(struct zcap *h)
{
	struct xdp *x;
	const char *mode = "?";
	unsigned int nq = rx_queues(h->ifname);
	uint64_t per_queue;
	uint32_t nframes;
	int mtu = zcap_netdev_mtu(h->ifname);

	if (h->cfg.direction == ZCAP_DIR_OUT) {
		zcap_seterr(h, "%s: XDP sees only received packets", h->ifname);
		errno = EOPNOTSUPP;
		return -1;
	}
	if (h->cfg.fanout >= 0 && h->cfg.queue < 0) {
		/* every queue would leave the group no queue to share */
		zcap_seterr(h, "%s: an xdp fanout member takes rx queues of its own: "
			    "name them (ZCAP_XDP_QUEUE, queue_stride)", h->ifname);
		errno = EINVAL;
		return -1;
	}
	if (h->automatic && has_ip_address(h->ifname)) {
		zcap_seterr(h, "%s has IP addresses, and AF_XDP would take its packets "
			    "from the stack", h->ifname);
		errno = EOPNOTSUPP;
		return -1;
	}
	if (mtu > 0 && (unsigned int)mtu + 18 > XDP_FRAME_SIZE - XDP_PACKET_HEADROOM) {
		zcap_seterr(h, "%s: MTU %d does not fit a %u-byte AF_XDP frame", h->ifname,
			    mtu, XDP_FRAME_SIZE);
		errno = EOPNOTSUPP;
		return -1;
	}
	if (h->cfg.queue >= (int)XDP_MAX_QUEUES) {
		zcap_seterr(h, "%s: rx queue %d: zcap takes queues 0..%u", h->ifname,
			    h->cfg.queue, XDP_MAX_QUEUES - 1);
		errno = EINVAL;
		return -1;
	}
	if (h->cfg.queue >= 0 && (unsigned int)h->cfg.queue >= nq) {
		zcap_seterr(h, "%s: no rx queue %d (it has %u)", h->ifname, h->cfg.queue, nq);
		errno = EINVAL;
		return -1;
	}
	if (nq > XDP_MAX_QUEUES)
		nq = XDP_MAX_QUEUES;

	x = calloc(1, sizeof(*x));
	if (!x) {
		zcap_seterr(h, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	h->priv = x;
	x->map_fd = x->prog_fd = x->link_fd = x->epfd = -1;
	x->shared = h->cfg.fanout >= 0;
	if (h->cfg.queue < 0)
		x->nq = nq;
	else if (h->cfg.queue_stride > 0)
		x->nq = (nq - 1 - (unsigned int)h->cfg.queue) /
			(unsigned int)h->cfg.queue_stride + 1;
	else
		x->nq = 1;
	x->q = calloc(x->nq, sizeof(*x->q));
	if (!x->q)
		goto nomem;
	for (unsigned int i = 0; i < x->nq; i++)
		x->q[i].queue = h->cfg.queue < 0 ? (int)i :
				h->cfg.queue + (int)i * h->cfg.queue_stride;

	/* the ring size is split over the queues, a power of two each */
	per_queue = h->cfg.ring_bytes / x->nq / XDP_FRAME_SIZE;
	for (nframes = 1u << 20; nframes > 64 && nframes > per_queue; nframes >>= 1)
		;

	if (x->shared) {
		mode = "libxdp's shared";
		if (open_queues(h, x, nframes) || setup_poll(h, x))
			goto fail;
		x->map_fd = shared_xskmap(h);
	} else if (load_prog(h, x) || open_queues(h, x, nframes) ||
		   attach_prog(h, x, &mode) || setup_poll(h, x)) {
		goto fail;
	}
	/* veth counts the frames our own program failed to redirect in
	 * its rx_dropped (native mode; not libxdp's shared program, whose
	 * drops are the whole group's) */
	x->veth = !x->shared && !strcmp(mode, "native") && zcap_netdev_is_veth(h->ifname);
	x->max_fwd = mtu > 0 ? (uint32_t)mtu + 18 : 1518;
	h->counts_filtered = 1;
	/* several queues hand out interleaved: only all at once */
	h->partial = x->nq == 1;
	h->max_wait_ms = 200;	/* see xdp_recv(): the device may go silently */
	zcap_log(ZCAP_LOG_INFO, "xdp: %s XDP, %s mode, %u queue%s, %u frames of %u bytes each",
		 mode, x->zerocopy ? "zero-copy" : "copy", x->nq, x->nq == 1 ? "" : "s",
		 nframes, XDP_FRAME_SIZE);
	if (h->cfg.forward)
		zcap_log(ZCAP_LOG_INFO, "%s: forwarding in place: each queue's tx ring on "
			 "its rx umem", h->ifname);
	return 0;

nomem:
	zcap_seterr(h, "out of memory");
	errno = ENOMEM;
fail:
	return -1;
}

/* An error on a socket (the device went): only asked when nothing came. */
static int queue_error(struct zcap *h, struct xdp *x)
{
	struct epoll_event ev[XDP_MAX_QUEUES];
	int n, e = 0;
	socklen_t len = sizeof(e);

	if (x->epfd < 0)
		return 0;	/* one queue: the front end polls the socket itself */
	n = epoll_wait(x->epfd, ev, XDP_MAX_QUEUES, 0);
	for (int i = 0; i < n; i++) {
		if (!(ev[i].events & EPOLLERR))
			continue;
		getsockopt(zxsk_fd(&x->q[ev[i].data.u32].p), SOL_SOCKET,
			   SO_ERROR, &e, &len);
		zcap_seterr(h, "%s: %s", h->ifname, e == ENETDOWN ?
			    "interface went down or was removed" : strerror(e ? e : EIO));
		errno = e ? e : EIO;
		return -1;
	}
	return 0;
}

static int xdp_forward_flush(struct zcap *h);

static int xdp_recv(struct zcap *h, struct zcap_pkt *pkts, unsigned int max)
{
	struct xdp *x = h->priv;
	unsigned int got = 0;
	uint64_t ts_ns = 0;	/* read when the first packet is kept */

	/* Forwarded frames that were sent meanwhile go back to the fill
	 * ring here too, or a caller that flushed without waiting would
	 * find the device with no frame to receive into. */
	if (h->cfg.forward && xdp_forward_flush(h) < 0)
		return -1;

	for (unsigned int k = 0; k < x->nq && got < max; k++) {
		struct xq *q = &x->q[(x->next + k) % x->nq];
		uint32_t idx, n;

		/* Again while the filter rejected what was peeked: a caller
		 * asking for one packet must not be told "none" while the
		 * ring still holds some. */
again:
		n = xsk_ring_cons__peek(&q->p.rx, max - got, &idx);
		if (n > q->nframes - q->held) {
			/* the peeked entries stay in the ring: release as many */
			xsk_ring_cons__cancel(&q->p.rx, n - (q->nframes - q->held));
			n = q->nframes - q->held;
		}
		for (uint32_t i = 0; i < n; i++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->p.rx, idx + i);
			uint64_t addr = xsk_umem__add_offset_to_addr(
				__atomic_load_n(&d->addr, __ATOMIC_RELAXED));
			uint32_t len = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
			const uint8_t *data;
			unsigned int keep;

			/* one read of each, bounded by the frame it names: the
			 * ring is shared memory (see lib/tpacket_rx.c) */
			if (addr >= q->p.area_len ||
			    len > XDP_FRAME_SIZE - (addr & (XDP_FRAME_SIZE - 1))) {
				addr %= q->p.area_len;
				len = 0;
			}
			data = q->p.area + addr;
			q->addrs[q->held++] = addr & ~(uint64_t)(XDP_FRAME_SIZE - 1);
			/* every packet here is inbound: no direction check */
			keep = zcap_filter_run(&h->filters.in, data, len, len);
			if (!keep) {
				x->filtered++;
				continue;
			}
			if (!ts_ns) {
				struct timespec ts;

				clock_gettime(CLOCK_REALTIME, &ts);
				ts_ns = (uint64_t)ts.tv_sec * 1000000000ull +
					(uint64_t)ts.tv_nsec;
			}
			pkts[got++] = (struct zcap_pkt){
				.data = data,
				.caplen = keep < len ? keep : len,
				.len = len,
				.ts_ns = ts_ns,
			};
		}
		if (n && got < max)
			goto again;
	}
	x->next = (x->next + 1) % x->nq;
	if (!got && queue_error(h, x))
		return -1;
	/* an unbound AF_XDP socket polls neither readable nor in error */
	if (!got && if_nametoindex(h->ifname) != (unsigned int)h->ifindex) {
		zcap_seterr(h, "%s: interface went down or was removed", h->ifname);
		errno = ENETDOWN;
		return -1;
	}
	return (int)got;
}

/* The oldest n frames held back to the fill ring, in the order they came
 * (those forwarded go back from the completion ring instead). */
static void give_back(struct xq *q, uint32_t n)
{
	uint32_t idx = 0, k = 0, m = 0;

	for (uint32_t i = 0; i < n; i++)
		m += q->addrs[i] != FORWARDED;
	/* frames out of the fill ring >= held >= m: this always fits */
	if (!n || (m && xsk_ring_prod__reserve(&q->p.fill, m, &idx) != m))
		return;
	for (uint32_t i = 0; i < n; i++)
		if (q->addrs[i] != FORWARDED)
			*xsk_ring_prod__fill_addr(&q->p.fill, idx + k++) = q->addrs[i];
	if (m)
		xsk_ring_prod__submit(&q->p.fill, m);
	xsk_ring_cons__release(&q->p.rx, n);
	q->held -= n;
	q->given += n;
	memmove(q->addrs, q->addrs + n, q->held * sizeof(*q->addrs));
	if (xsk_ring_prod__needs_wakeup(&q->p.fill))
		recvfrom(zxsk_fd(&q->p), NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

static void xdp_release(struct zcap *h)
{
	struct xdp *x = h->priv;

	for (unsigned int k = 0; k < x->nq; k++)
		give_back(&x->q[k], x->q[k].held);
}

/* One queue only (h->partial): a position counts the frames taken from
 * its rx ring since open. */
static uint64_t xdp_mark(struct zcap *h)
{
	struct xdp *x = h->priv;

	return x->q[0].given + x->q[0].held;
}

static void xdp_release_to(struct zcap *h, uint64_t pos)
{
	struct xdp *x = h->priv;
	uint32_t n = (uint32_t)pos - x->q[0].given;

	if (n <= x->q[0].held)
		give_back(&x->q[0], n);
}

static int xdp_holding(struct zcap *h)
{
	struct xdp *x = h->priv;

	for (unsigned int k = 0; k < x->nq; k++)
		if (x->q[k].held)
			return 1;
	return 0;
}

/* The queue whose frame area holds p's data, or NULL. */
static struct xq *queue_of(struct xdp *x, const uint8_t *data)
{
	for (unsigned int k = 0; k < x->nq; k++) {
		struct xq *q = &x->q[k];

		/* as integers: p may point anywhere */
		if ((uintptr_t)data - (uintptr_t)q->p.area < q->p.area_len)
			return q;
	}
	return NULL;
}

/* The frame goes on the tx ring of the queue it came in on: the same
 * umem, so the device reads it where it was written. */
static int xdp_forward(struct zcap *h, const struct zcap_pkt *p, uint32_t len)
{
	struct xdp *x = h->priv;
	struct xq *q = queue_of(x, p->data);
	uint64_t off, base;
	uint32_t i, idx;
	struct xdp_desc *d;

	if (!q)
		goto not_ours;
	off = (uint64_t)(p->data - q->p.area);
	base = off & ~(uint64_t)(XDP_FRAME_SIZE - 1);
	for (i = q->held; i > 0 && q->addrs[i - 1] != base; i--)
		;
	if (!i || len > XDP_FRAME_SIZE - (off - base))
		goto not_ours;
	if (len > x->max_fwd) {
		/* the kernel would refuse it and never give the frame back */
		zcap_seterr(h, "%s: forward: %u bytes, over the MTU", h->ifname, len);
		errno = EINVAL;
		return -1;
	}
	if (xsk_ring_prod__reserve(&q->p.tx, 1, &idx) != 1) {
		zcap_seterr(h, "%s: queue %d: the tx ring is full", h->ifname, q->queue);
		errno = EAGAIN;
		return -1;
	}
	d = xsk_ring_prod__tx_desc(&q->p.tx, idx);
	d->addr = off;
	d->len = len;
	d->options = 0;
	q->addrs[i - 1] = FORWARDED;
	q->tx_queued++;
	return 0;
not_ours:
	zcap_seterr(h, "%s: forward: not a packet this capture holds", h->ifname);
	errno = EINVAL;
	return -1;
}

/* Completed frames back to the fill ring, for the device to receive into
 * again. Returns how many of the queue's frames are still in flight. */
static uint32_t reap(struct xq *q)
{
	uint32_t idx, fidx, n = xsk_ring_cons__peek(&q->p.comp, q->tx_out, &idx);

	if (!n)
		return q->tx_out;
	/* every frame is in exactly one place: the fill ring has room */
	if (xsk_ring_prod__reserve(&q->p.fill, n, &fidx) != n) {
		xsk_ring_cons__cancel(&q->p.comp, n);
		return q->tx_out;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint64_t a = *xsk_ring_cons__comp_addr(&q->p.comp, idx + i);

		*xsk_ring_prod__fill_addr(&q->p.fill, fidx + i) =
			(a % q->p.area_len) & ~(uint64_t)(XDP_FRAME_SIZE - 1);
	}
	xsk_ring_prod__submit(&q->p.fill, n);
	xsk_ring_cons__release(&q->p.comp, n);
	q->tx_out -= n;
	q->tx_done += n;
	if (xsk_ring_prod__needs_wakeup(&q->p.fill))
		recvfrom(zxsk_fd(&q->p), NULL, 0, MSG_DONTWAIT, NULL, NULL);
	return q->tx_out;
}

/*
 * Has the kernel send what is on q's tx ring. Zero copy: the driver takes
 * frames by itself and wants a kick only when the ring says so. Copy mode
 * (as lib/xdp_tx.c): each sendto builds skbs for up to 32 frames and says
 * EAGAIN while frames are left; EBUSY is one frame the device dropped,
 * which still completes.
 */
static int kick(struct zcap *h, struct xq *q)
{
	for (uint32_t tries = q->tx_out / 32 + 4; tries; tries--) {
		if (q->p.zerocopy && !xsk_ring_prod__needs_wakeup(&q->p.tx))
			return 0;
		if (sendto(zxsk_fd(&q->p), NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
			return 0;
		switch (errno) {
		case EBUSY:
			if (q->p.zerocopy)
				return 0;
			q->tx_dropped++;
			break;
		case EAGAIN:
		case EINTR:
		case ENOBUFS:
			if (q->p.zerocopy)
				return 0;
			break;
		default:
			zcap_seterr(h, "%s: queue %d: sending: %s", h->ifname, q->queue,
				    errno == ENETDOWN || errno == ENXIO ?
				    "interface went down" : strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int xdp_forward_flush(struct zcap *h)
{
	struct xdp *x = h->priv;
	uint32_t left = 0;

	for (unsigned int k = 0; k < x->nq; k++) {
		struct xq *q = &x->q[k];

		if (q->tx_queued) {
			xsk_ring_prod__submit(&q->p.tx, q->tx_queued);
			q->tx_out += q->tx_queued;
			q->tx_queued = 0;
		}
		if (q->tx_out && kick(h, q))
			return -1;
		left += reap(q);
	}
	return (int)left;
}

static int xdp_stats(struct zcap *h, struct zcap_stats *st)
{
	struct xdp *x = h->priv;
	uint64_t sock_drops = 0;

	for (unsigned int k = 0; k < x->nq; k++) {
		struct xdp_statistics ks;
		socklen_t len = sizeof(ks);
		struct xq *q = &x->q[k];

		if (getsockopt(zxsk_fd(&q->p), SOL_XDP, XDP_STATISTICS, &ks, &len)) {
			zcap_seterr(h, "XDP statistics: %s", strerror(errno));
			return -1;
		}
		/*
		 * No room in the rx ring, or no frame to copy into (rx_dropped,
		 * which also counts each fill-ring-empty miss: that counter is
		 * a cause, not more packets, and is not added again).
		 */
		st->drop_ring_full += ks.rx_ring_full + ks.rx_dropped;
		sock_drops += ks.rx_ring_full + ks.rx_dropped;
		st->pending += xsk_cons_nb_avail(&q->p.rx, UINT32_MAX);
		if (h->cfg.forward) {
			reap(q);
			st->forwarded += q->tx_done - q->tx_dropped;
			st->forward_dropped += ks.tx_invalid_descs + q->tx_dropped;
		}
	}
	st->filtered = x->filtered;
	/* veth counts every frame our program could not redirect (the
	 * socket's ring full, or no free frame) in its rx_dropped as well:
	 * the same packets, counted once, here. */
	h->if_dup_drops = x->veth ? sock_drops : 0;
	return 0;
}

/* Nothing to attach: xdp_recv() reads h->filters.in for every frame. */
static int xdp_setfilter(struct zcap *h)
{
	if (h->cfg.direction == ZCAP_DIR_OUT) {
		zcap_seterr(h, "%s: XDP sees only received packets", h->ifname);
		errno = EOPNOTSUPP;
		return -1;
	}
	return 0;
}

/* Out of the XSKMAP: new frames go to the stack, the rings drain. */
static int xdp_freeze(struct zcap *h)
{
	struct xdp *x = h->priv;

	if (x->map_fd < 0) {
		zcap_seterr(h, "%s: cannot stop the capture: libxdp's XSKMAP not found",
			    h->ifname);
		errno = ENOENT;
		return -1;
	}
	for (unsigned int k = 0; k < x->nq; k++) {
		uint32_t key = (uint32_t)x->q[k].queue;

		if (bpf_map_delete_elem(x->map_fd, &key) && errno != ENOENT) {
			zcap_seterr(h, "%s: cannot stop the capture: %s", h->ifname,
				    strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void xdp_close(struct zcap *h)
{
	struct xdp *x = h->priv;

	if (!x)
		return;
	/* the link first: the program goes before its sockets */
	if (x->link_fd >= 0)
		close(x->link_fd);
	if (x->shared)
		libs_quiet();	/* the last socket's close detaches libxdp's program */
	for (unsigned int k = 0; x->q && k < x->nq; k++)
		xq_close(&x->q[k]);
	if (x->shared)
		libs_loud();
	free(x->q);
	if (x->epfd >= 0)
		close(x->epfd);
	if (x->prog_fd >= 0)
		close(x->prog_fd);
	if (x->map_fd >= 0)
		close(x->map_fd);
	free(x);
	h->priv = NULL;
	h->fd = -1;
}

const struct zcap_rx_ops zcap_xdp_rx_ops = {
	.open = xdp_open,
	.recv = xdp_recv,
	.release = xdp_release,
	.mark = xdp_mark,
	.release_to = xdp_release_to,
	.holding = xdp_holding,
	.stats = xdp_stats,
	.freeze = xdp_freeze,
	.setfilter = xdp_setfilter,
	.forward = xdp_forward,
	.forward_flush = xdp_forward_flush,
	.close = xdp_close,
};
