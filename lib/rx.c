/* SPDX-License-Identifier: MIT */
/*
 * The capture front end: options, the backend choice (lib/backends.c), and
 * what is the same for every backend (interface, filter, blocking,
 * breakloop, counters). The backends are <mechanism>_rx.c (lib/rx.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rx.h"

#define TPACKET_OPTS_KNOWN zcap_offsetofend(struct zcap_tpacket_opts, block_timeout_ms)
#define XDP_OPTS_KNOWN zcap_offsetofend(struct zcap_xdp_opts, queue_stride)
#define OPTS_KNOWN zcap_offsetofend(struct zcap_opts, fanout_id)
#define OPT_FLAGS (ZCAP_OPT_NO_PROMISC | ZCAP_OPT_FANOUT | ZCAP_OPT_FORWARD)
#define STATS_KNOWN zcap_offsetofend(struct zcap_stats, forward_dropped)

/* The application's options, checked, with every default filled in. */
static int resolve_opts(const struct zcap_opts *in, struct zcap_opts *o,
			struct zcap_rx_cfg *c, char *err)
{
	struct zcap_tpacket_opts tp;
	struct zcap_xdp_opts xo;

	if (zcap_opts_copy(o, OPTS_KNOWN, in, "struct zcap_opts", err) ||
	    zcap_opts_copy(&tp, TPACKET_OPTS_KNOWN, o->tpacket,
			   "struct zcap_tpacket_opts", err) ||
	    zcap_opts_copy(&xo, XDP_OPTS_KNOWN, o->xdp, "struct zcap_xdp_opts", err))
		return -1;
	errno = EINVAL;
	c->snaplen = o->snaplen ? o->snaplen : ZCAP_SNAPLEN_MAX;
	c->ring_bytes = o->ring_bytes ? o->ring_bytes : ZCAP_DEFAULT_RING_BYTES;
	c->block_bytes = tp.block_bytes ? tp.block_bytes : ZCAP_DEFAULT_BLOCK_BYTES;
	c->block_timeout_ms = tp.block_timeout_ms ? tp.block_timeout_ms :
			      ZCAP_DEFAULT_BLOCK_TIMEOUT_MS;
	c->promisc = !(o->flags & ZCAP_OPT_NO_PROMISC);
	c->direction = (enum zcap_direction)o->direction;
	c->queue = xo.flags & ZCAP_XDP_QUEUE ? (int)xo.queue : -1;
	c->queue_stride = xo.flags & ZCAP_XDP_QUEUE ? (int)xo.queue_stride : 0;
	c->fanout = o->flags & ZCAP_OPT_FANOUT ? (int)o->fanout_id : -1;
	c->forward = !!(o->flags & ZCAP_OPT_FORWARD);
	if (o->fanout_id > 65535) {
		zcap_errf(err, "fanout group %u out of range (0..65535)", o->fanout_id);
		return -1;
	}
	if (c->snaplen > ZCAP_SNAPLEN_MAX) {
		zcap_errf(err, "snap length %u out of range (0..%u, 0 = everything)",
			  c->snaplen, ZCAP_SNAPLEN_MAX);
		return -1;
	}
	if (c->block_bytes < 4096 || c->block_bytes & (c->block_bytes - 1)) {
		zcap_errf(err, "block size %u must be a power of two of at least 4096",
			  c->block_bytes);
		return -1;
	}
	if (c->ring_bytes < 2 * 4096) {
		zcap_errf(err, "ring size %llu too small (at least 8 KiB)",
			  (unsigned long long)c->ring_bytes);
		return -1;
	}
	if ((xo.flags & ~ZCAP_XDP_QUEUE) || xo.queue > 65535 ||
	    xo.queue_stride > 65535) {
		zcap_errf(err, "bad xdp queue %u, stride %u or flags %#x", xo.queue,
			  xo.queue_stride, xo.flags);
		return -1;
	}
	if (o->flags & ~OPT_FLAGS) {
		zcap_errf(err, "unknown flags %#x", o->flags & ~OPT_FLAGS);
		return -1;
	}
	if (o->direction > ZCAP_DIR_OUT) {
		zcap_errf(err, "bad direction %u", o->direction);
		return -1;
	}
	errno = 0;
	return 0;
}

static int try_backend(struct zcap *h, const struct zcap_backend *b)
{
	int saved;

	h->backend = b;
	h->ops = b->rx;
	h->fd = -1;
	h->priv = NULL;
	h->family = 0;
	h->counts_filtered = 0;
	h->max_wait_ms = 0;
	h->err[0] = '\0';
	if (h->ops->open(h) == 0)
		return 0;
	saved = errno;
	h->ops->close(h);
	h->fd = -1;
	h->priv = NULL;
	h->ops = NULL;
	h->backend = NULL;
	errno = saved;
	return -1;
}

static int open_backend(struct zcap *h, const struct zcap_backend *asked,
			char *errbuf)
{
	const struct zcap_backend *b;

	if (asked) {
		if (try_backend(h, asked) == 0) {
			zcap_log(ZCAP_LOG_INFO, "backend %s", asked->name);
			return 0;
		}
		memcpy(errbuf, h->err, ZCAP_ERRBUF_SIZE);
		return -1;
	}
	h->automatic = 1;
	for (unsigned int i = 0; (b = zcap_backend_get(i)); i++) {
		if (!b->rx || b->rx_auto != ZCAP_AUTO_TRY)
			continue;
		if (try_backend(h, b) == 0) {
			zcap_log(ZCAP_LOG_INFO, "backend %s", b->name);
			zcap_log(ZCAP_LOG_INFO, "auto took %s: %s", b->name, b->rx_why);
			return 0;
		}
		zcap_log(ZCAP_LOG_INFO, "backend %s not used: %s", b->name, h->err);
		/* Errors that no other backend would avoid end the search.
		 * Not EPERM: AF_XDP also needs CAP_BPF (or CAP_SYS_ADMIN) for
		 * its map and program, which a capturer that keeps only
		 * CAP_NET_RAW and CAP_NET_ADMIN (dumpcap) lacks, and AF_PACKET
		 * does not. */
		if (errno == ENODEV || errno == ENOMEM)
			break;
	}
	memcpy(errbuf, h->err, ZCAP_ERRBUF_SIZE);
	return -1;
}

static int build_filters(const struct sock_fprog *user, uint32_t snaplen,
			 enum zcap_direction dir, struct zcap_filters *out, char *errbuf)
{
	if (zcap_filter_build(user, snaplen, dir, out)) {
		zcap_errf(errbuf, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static void free_filters(struct zcap *h)
{
	zcap_filter_free(&h->user);
	zcap_filters_free(&h->filters);
}

zcap_t *zcap_open(const char *ifname, const struct zcap_opts *opts, char *errbuf)
{
	const struct zcap_backend *asked;
	struct zcap_rx_cfg cfg;
	struct zcap_opts o;
	struct zcap *h;
	int saved;

	errbuf[0] = '\0';
	if (resolve_opts(opts, &o, &cfg, errbuf))
		return NULL;
	asked = zcap_backend_find(o.backend, ZCAP_RX, errbuf);
	if (!asked && errno)
		return NULL;
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE) {
		zcap_errf(errbuf, "bad interface name '%s'", ifname ? ifname : "");
		errno = ENODEV;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		zcap_errf(errbuf, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	h->fd = -1;
	h->wake_fd = -1;
	h->promisc_fd = -1;
	h->cfg = cfg;
	h->snaplen = cfg.snaplen;
	snprintf(h->ifname, sizeof(h->ifname), "%s", ifname);

	h->ifindex = zcap_netdev_index(ifname, errbuf);
	if (!h->ifindex)
		goto fail;
	if (zcap_netdev_linktype(ifname, &h->linktype, errbuf))
		goto fail;
	h->has_filter = o.filter && *o.filter;
	if (zcap_filter_compile(o.filter, h->linktype, h->snaplen, &h->user,
				errbuf, ZCAP_ERRBUF_SIZE) ||
	    build_filters(&h->user, h->snaplen, h->cfg.direction, &h->filters, errbuf))
		goto fail;
	h->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->wake_fd < 0) {
		zcap_errf(errbuf, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if (zcap_netdev_counters(ifname, &h->if_base))
		memset(&h->if_base, 0, sizeof(h->if_base));
	if (open_backend(h, asked, errbuf))
		goto fail;
	if (cfg.forward && zcap_forward_open(h, errbuf)) {
		saved = errno;
		h->ops->close(h);
		errno = saved;
		goto fail;
	}
	/* The same way for every backend: AF_XDP has no mode of its own. */
	if (cfg.promisc) {
		h->promisc_fd = zcap_netdev_promisc(h->ifindex, h->ifname, errbuf);
		if (h->promisc_fd < 0) {
			saved = errno;
			zcap_forward_close(h);
			h->ops->close(h);
			errno = saved;
			goto fail;
		}
	}
	return h;

fail:
	saved = errno;
	if (h->wake_fd >= 0)
		close(h->wake_fd);
	free_filters(h);
	free(h);
	errno = saved;
	return NULL;
}

void zcap_close(zcap_t *h)
{
	if (!h)
		return;
	zcap_forward_close(h);
	if (h->ops)
		h->ops->close(h);
	if (h->promisc_fd >= 0)
		close(h->promisc_fd);
	close(h->wake_fd);
	free_filters(h);
	free(h);
}

int64_t zcap_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void drain_wake(struct zcap *h)
{
	uint64_t v;

	while (read(h->wake_fd, &v, sizeof(v)) == sizeof(v))
		;
}

static int take_break(struct zcap *h)
{
	if (!h->break_req)
		return 0;
	h->break_req = 0;
	drain_wake(h);
	return 1;
}

/*
 * For backends with no dispatch op: packets one recv() at a time, so that
 * a break from fn leaves the rest in the ring; all of them back to the
 * kernel at the end (zcap_dispatch), so at most a batch is held.
 */
static int dispatch_by_recv(struct zcap *h, unsigned int max,
			    zcap_handler_t fn, void *user)
{
	unsigned int want = max && max < 256 ? max : 256;
	struct zcap_pkt p;
	unsigned int n = 0;

	while (n < want && h->ops->recv(h, &p, 1) == 1) {
		zcap_rx_account(&h->st, &p);
		fn(user, &p);
		n++;
		if (h->break_req)
			break;
	}
	return (int)n;
}

/*
 * The wait shared by zcap_recv() and zcap_dispatch(): pulls until there
 * are packets, waiting on the socket in between as timeout_ms allows.
 */
struct pull {
	struct zcap_pkt *pkts;		/* recv */
	unsigned int max;
	zcap_handler_t fn;		/* dispatch, when set */
	void *user;
};

static int pull_once(struct zcap *h, const struct pull *p)
{
	if (!p->fn)
		return h->ops->recv(h, p->pkts, p->max);
	if (h->ops->dispatch)
		return h->ops->dispatch(h, p->max, p->fn, p->user);
	return dispatch_by_recv(h, p->max, p->fn, p->user);
}

static int pull(struct zcap *h, const struct pull *p, int timeout_ms)
{
	/* Read the clock only once the ring is found empty: a clock read
	 * costs more than a packet where the TSC traps (VMs), and a reader
	 * that keeps up calls here twice a wakeup. */
	int64_t deadline = -1;
	struct pollfd pfd[2];
	int n, wait;

	for (;;) {
		if (take_break(h))
			return ZCAP_BREAK;
		n = pull_once(h, p);
		if (n != 0)
			break;
		/* Packets a filter rejected in user space hold ring room
		 * until a release; with nothing of the application's out,
		 * give it back now, or a ring full of them stalls for good. */
		if (!h->handed)
			h->ops->release(h);
		if (timeout_ms == 0)
			return ZCAP_TIMEOUT;
		wait = -1;
		if (timeout_ms > 0) {
			int64_t t = zcap_now_ms(), left;

			if (deadline < 0)
				deadline = t + timeout_ms;
			left = deadline - t;

			if (left <= 0)
				return ZCAP_TIMEOUT;
			wait = (int)left;
		}
		if (h->max_wait_ms > 0 && (wait < 0 || wait > h->max_wait_ms))
			wait = h->max_wait_ms;
		pfd[0] = (struct pollfd){ .fd = h->fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = h->wake_fd, .events = POLLIN };
		/* Held packets keep the fd readable: wait on the wakeup fd
		 * alone, and look at the ring again after a block timeout. */
		if (h->ops->holding(h)) {
			int step = (int)h->cfg.block_timeout_ms ?
				   (int)h->cfg.block_timeout_ms : 1;

			pfd[0].fd = -1;
			if (wait < 0 || wait > step)
				wait = step;
		}
		if (poll(pfd, 2, wait) < 0 && errno != EINTR) {
			zcap_seterr(h, "poll: %s", strerror(errno));
			return ZCAP_ERROR;
		}
		/* A breakloop whose flag an earlier call already took still
		 * leaves its eventfd write: drain it, or poll would spin. */
		if (pfd[1].revents & POLLIN)
			drain_wake(h);
		if (pfd[0].revents & (POLLERR | POLLNVAL)) {
			int e = 0;
			socklen_t len = sizeof(e);

			getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &e, &len);
			zcap_seterr(h, "%s: %s", h->ifname, e == ENETDOWN ?
				    "interface went down or was removed" :
				    strerror(e ? e : EIO));
			errno = e ? e : EIO;
			return ZCAP_ERROR;
		}
	}
	return n < 0 ? ZCAP_ERROR : n;
}

void zcap_rx_hold(struct zcap *h, unsigned int n, uint64_t pos)
{
	struct zcap_hold *e;

	if (h->hold_cnt == ZCAP_HOLDS) {
		e = &h->holds[(h->hold_head + h->hold_cnt - 1) % ZCAP_HOLDS];
		e->n += n;
	} else {
		e = &h->holds[(h->hold_head + h->hold_cnt++) % ZCAP_HOLDS];
		e->n = n;
	}
	e->pos = pos;
	h->hold_marked += n;
}

int zcap_recv(zcap_t *h, struct zcap_pkt *pkts, unsigned int max, int timeout_ms)
{
	struct pull p = { .pkts = pkts, .max = max };
	int n = pull(h, &p, timeout_ms);

	if (n <= 0)
		return n;
	if (h->partial) {
		zcap_rx_hold(h, (unsigned int)n - h->hold_marked, h->ops->mark(h));
		h->hold_marked = 0;
	}
	h->handed += (unsigned int)n;
	h->st.received += (unsigned int)n;
	for (int i = 0; i < n; i++)
		zcap_rx_account(&h->st, &pkts[i]);
	return n;
}

int zcap_dispatch(zcap_t *h, unsigned int max, int timeout_ms,
		  zcap_handler_t fn, void *user)
{
	struct pull p = { .max = max, .fn = fn, .user = user };
	int n;

	zcap_release(h);
	n = pull(h, &p, timeout_ms);
	if (n > 0) {
		h->st.received += (unsigned int)n;
		h->ops->release(h);
	}
	return n;
}

void zcap_release(zcap_t *h)
{
	h->handed = 0;
	h->hold_cnt = 0;
	h->hold_part = 0;
	h->ops->release(h);
}

int zcap_release_n(zcap_t *h, unsigned int n)
{
	uint64_t pos = 0;
	int whole = 0;

	if (!h->partial) {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (n >= h->handed) {
		if (n)
			zcap_release(h);
		return 0;
	}
	h->handed -= n;
	n += h->hold_part;
	while (h->hold_cnt && n >= h->holds[h->hold_head].n) {
		n -= h->holds[h->hold_head].n;
		pos = h->holds[h->hold_head].pos;
		whole = 1;
		h->hold_head = (h->hold_head + 1) % ZCAP_HOLDS;
		h->hold_cnt--;
	}
	h->hold_part = n;
	if (whole)
		h->ops->release_to(h, pos);
	return 0;
}

int zcap_fd(zcap_t *h)
{
	return h->fd;
}

void zcap_breakloop(zcap_t *h)
{
	int saved = errno;	/* we may be in a signal handler */
	uint64_t one = 1;
	ssize_t r;

	h->break_req = 1;
	r = write(h->wake_fd, &one, sizeof(one));
	(void)r;	/* a full eventfd is already a pending wakeup */
	errno = saved;
}

static int stats(struct zcap *h, struct zcap_stats *st);

int zcap_freeze(zcap_t *h)
{
	static struct sock_filter reject = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &reject };
	struct zcap_stats st;

	if (h->frozen)
		return 0;
	if (h->ops->freeze) {
		if (h->ops->freeze(h))
			return -1;
	} else if (setsockopt(h->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog))) {
		zcap_seterr(h, "%s: cannot stop the capture: %s", h->ifname,
			    strerror(errno));
		return -1;
	}
	/* From now on the interface's traffic is rejected by our filter,
	 * not by the user's: keep "filtered" as it stands. */
	if (stats(h, &st) == 0)
		h->filtered_at_freeze = st.filtered;
	h->frozen = 1;
	return 0;
}

/* The counters, whatever size the application's struct is. */
static int stats(struct zcap *h, struct zcap_stats *st)
{
	struct zcap_netdev_counters now;

	*st = h->st;
	if (h->ops->stats(h, st))
		return -1;
	zcap_forward_stats(h, st);
	/* Rechecked in user space: out of the ring, not received. */
	st->pending = st->pending > h->refiltered ? st->pending - h->refiltered : 0;
	if (h->counts_filtered)
		st->filtered += h->refiltered;
	if (h->frozen)
		st->filtered = h->filtered_at_freeze;
	if (zcap_netdev_counters(h->ifname, &now) == 0) {
		uint64_t seen, accepted;

		/* Added to what the backend's own counters say, frozen or
		 * not, read now as libpcap reads ps_ifdrop: a NIC updates
		 * its missed count late (e1000: every 2 s), and the final
		 * count after a stop must hold the drops of the capture. */
		uint64_t d = now.rx_dropped - h->if_base.rx_dropped;

		st->drop_if += d - (h->if_dup_drops < d ? h->if_dup_drops : d);
		/* The kernel does not count what a socket filter rejects:
		 * estimate it as what the interface saw minus what the
		 * filter accepted. Only while a filter is set, and not once
		 * frozen (our reject-all filter then takes everything). */
		if (!h->frozen && !h->counts_filtered && h->cfg.fanout < 0 &&
		    (h->has_filter || h->cfg.direction != ZCAP_DIR_INOUT)) {
			seen = 0;
			if (h->cfg.direction != ZCAP_DIR_OUT)
				seen += now.rx_packets - h->if_base.rx_packets;
			if (h->cfg.direction != ZCAP_DIR_IN)
				seen += now.tx_packets - h->if_base.tx_packets;
			accepted = st->received + st->pending + st->drop_ring_full;
			st->filtered = seen > accepted ? seen - accepted : 0;
		}
	}
	return 0;
}

/* Puts a new program (the handle takes *user on success), or a new
 * direction, in force on an open handle. On failure the handle keeps the
 * filter and direction it had, and *user is the caller's to free. */
static int replace_filter(struct zcap *h, struct sock_fprog *user,
			  enum zcap_direction dir, int has_filter)
{
	struct sock_fprog old_user = h->user;
	struct zcap_filters old = h->filters, nf;
	enum zcap_direction old_dir = h->cfg.direction;
	int rc;

	if (h->frozen) {
		zcap_seterr(h, "%s: the capture is stopped (zcap_freeze)", h->ifname);
		errno = EINVAL;
		return -1;
	}
	if (build_filters(user, h->snaplen, dir, &nf, h->err))
		return -1;
	h->user = *user;
	h->filters = nf;
	h->cfg.direction = dir;
	if (h->ops->setfilter)
		rc = h->ops->setfilter(h);
	else if ((rc = setsockopt(h->fd, SOL_SOCKET, SO_ATTACH_FILTER, &h->filters.kern,
				  sizeof(h->filters.kern))))
		zcap_seterr(h, "%s: cannot attach the filter: %s", h->ifname,
			    strerror(errno));
	if (rc) {
		int saved = errno;

		zcap_filters_free(&nf);
		h->user = old_user;
		h->filters = old;
		h->cfg.direction = old_dir;
		errno = saved;
		return -1;
	}
	h->has_filter = has_filter;
	zcap_filter_free(&old_user);
	zcap_filters_free(&old);
	return 0;
}

int zcap_setfilter(zcap_t *h, const char *expr)
{
	struct sock_fprog user = { 0 };
	int rc;

	if (zcap_filter_compile(expr, h->linktype, h->snaplen, &user, h->err,
				sizeof(h->err)))
		return -1;
	rc = replace_filter(h, &user, h->cfg.direction, expr && *expr);
	if (rc)
		zcap_filter_free(&user);
	return rc;
}

int zcap_setfilter_bpf(zcap_t *h, const struct sock_filter *insns, unsigned int len)
{
	struct sock_fprog user = { 0 };
	int rc;

	if (zcap_filter_copy(insns, len, &user, h->err, sizeof(h->err)))
		return -1;
	rc = replace_filter(h, &user, h->cfg.direction, 1);
	if (rc)
		zcap_filter_free(&user);
	return rc;
}

int zcap_setdirection(zcap_t *h, enum zcap_direction dir)
{
	struct sock_fprog user = { 0 };
	int rc;

	if ((unsigned int)dir > ZCAP_DIR_OUT) {
		zcap_seterr(h, "bad direction %u", (unsigned int)dir);
		errno = EINVAL;
		return -1;
	}
	if (dir == h->cfg.direction)
		return 0;
	if (zcap_filter_copy(h->user.filter, h->user.len, &user, h->err,
			     sizeof(h->err)))
		return -1;
	rc = replace_filter(h, &user, dir, h->has_filter);
	if (rc)
		zcap_filter_free(&user);
	return rc;
}

int zcap_rx_refilter(struct zcap *h, struct zcap_pkt *p)
{
	int out = (p->flags & ZCAP_PKT_OUTGOING) != 0;
	unsigned int keep;

	if ((h->cfg.direction == ZCAP_DIR_IN && out) ||
	    (h->cfg.direction == ZCAP_DIR_OUT && !out))
		keep = 0;
	else
		keep = zcap_filter_run(out ? &h->filters.out : &h->filters.in, p->data,
				       p->caplen, p->len);
	if (!keep) {
		h->refiltered++;
		return 0;
	}
	if (keep < p->caplen)
		p->caplen = keep;
	return 1;
}

int zcap_stats(zcap_t *h, struct zcap_stats *st)
{
	struct zcap_stats all;

	if (stats(h, &all))
		return -1;
	return zcap_opts_out(st, &all, STATS_KNOWN, "struct zcap_stats", h->err);
}

const char *zcap_geterr(zcap_t *h)
{
	return h->err;
}

const char *zcap_backend_name(const zcap_t *h)
{
	return h->backend ? h->backend->name : "none";
}

const char *zcap_ifname(const zcap_t *h)
{
	return h->ifname;
}

int zcap_ifindex(const zcap_t *h)
{
	return h->ifindex;
}

uint32_t zcap_snaplen(const zcap_t *h)
{
	return h->snaplen;
}

uint64_t zcap_ring_bytes(const zcap_t *h)
{
	return h->cfg.ring_bytes;
}

int zcap_linktype(const zcap_t *h)
{
	return h->linktype;
}
