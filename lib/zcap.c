/* SPDX-License-Identifier: MIT */
/*
 * libzcap front end: picks a backend, and does for every backend what is
 * the same everywhere (interface, filter, blocking, breakloop, counters).
 */
#define _GNU_SOURCE	/* asprintf */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"

/* In order of preference for ZCAP_BACKEND_AUTO. Adding a backend means
 * adding its file and one line here. */
static const struct zcap_backend_ops *const backends[] = {
	&zcap_xdp_ops,		/* AUTO: only when zero copy binds */
	&zcap_pfzc_ops,		/* only when the module is loaded */
	&zcap_tpacket_ops,	/* any kernel */
};

#define N_BACKENDS (sizeof(backends) / sizeof(backends[0]))

void zcap_config_init(struct zcap_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->backend = ZCAP_BACKEND_AUTO;
	cfg->ring_bytes = ZCAP_DEFAULT_RING_BYTES;
	cfg->block_bytes = ZCAP_DEFAULT_BLOCK_BYTES;
	cfg->block_timeout_ms = ZCAP_DEFAULT_BLOCK_TIMEOUT_MS;
	cfg->snaplen = ZCAP_DEFAULT_SNAPLEN;
	cfg->promisc = 1;
	cfg->direction = ZCAP_DIR_INOUT;
	cfg->queue = -1;
}

void zcap_seterr(struct zcap *h, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->err, sizeof(h->err), fmt, ap);
	va_end(ap);
	errno = saved;
}

const char *zcap_backend_str(enum zcap_backend b)
{
	if (b == ZCAP_BACKEND_AUTO)
		return "auto";
	for (size_t i = 0; i < N_BACKENDS; i++)
		if (backends[i]->id == b)
			return backends[i]->name;
	return "unknown";
}

int zcap_backend_parse(const char *name)
{
	if (!strcmp(name, "auto"))
		return ZCAP_BACKEND_AUTO;
	for (size_t i = 0; i < N_BACKENDS; i++)
		if (!strcmp(name, backends[i]->name))
			return backends[i]->id;
	return -1;
}

static int check_config(const struct zcap_config *c, char *err)
{
	if (c->snaplen == 0 || c->snaplen > ZCAP_DEFAULT_SNAPLEN) {
		snprintf(err, ZCAP_ERRBUF_SIZE, "snap length %u out of range "
			 "(1..%u)", c->snaplen, ZCAP_DEFAULT_SNAPLEN);
		return -1;
	}
	if (c->block_bytes < 4096 || c->block_bytes & (c->block_bytes - 1)) {
		snprintf(err, ZCAP_ERRBUF_SIZE, "block size %u must be a power "
			 "of two of at least 4096", c->block_bytes);
		return -1;
	}
	if (c->ring_bytes < 2 * 4096) {
		snprintf(err, ZCAP_ERRBUF_SIZE, "ring size %llu too small "
			 "(at least 8 KiB)", (unsigned long long)c->ring_bytes);
		return -1;
	}
	if (c->queue < -1) {
		snprintf(err, ZCAP_ERRBUF_SIZE, "bad queue %d", c->queue);
		return -1;
	}
	if (c->direction > ZCAP_DIR_OUT || c->backend >= ZCAP_BACKEND__MAX) {
		snprintf(err, ZCAP_ERRBUF_SIZE, "bad direction or backend");
		return -1;
	}
	return 0;
}

static int open_backend(struct zcap *h, char *errbuf)
{
	int tried = 0;

	for (size_t i = 0; i < N_BACKENDS; i++) {
		const struct zcap_backend_ops *ops = backends[i];

		if (h->cfg.backend != ZCAP_BACKEND_AUTO && ops->id != h->cfg.backend)
			continue;
		tried++;
		h->ops = ops;
		if (ops->open(h) == 0) {
			if (h->cfg.verbose)
				fprintf(stderr, "zcap: backend %s\n", ops->name);
			return 0;
		}
		if (h->cfg.verbose && h->cfg.backend == ZCAP_BACKEND_AUTO)
			fprintf(stderr, "zcap: backend %s not used: %s\n",
				ops->name, h->err);
		/* Errors that no other backend would avoid end the search. */
		if (errno == EPERM || errno == EACCES || errno == ENODEV ||
		    errno == ENOMEM)
			break;
	}
	h->ops = NULL;
	if (!tried)
		snprintf(h->err, sizeof(h->err), "backend %s is not built in",
			 zcap_backend_str(h->cfg.backend));
	memcpy(errbuf, h->err, ZCAP_ERRBUF_SIZE);
	return -1;
}

/*
 * A direction is a filter term: libpcap compiles "inbound" and "outbound"
 * to a check of the kernel's packet type, so packets going the other way
 * never reach the ring, whatever the backend.
 */
static int compile_filter(struct zcap *h, const struct zcap_config *cfg,
			  char *errbuf)
{
	const char *expr = cfg->filter;
	const char *dir = cfg->direction == ZCAP_DIR_IN ? "inbound" : "outbound";
	char *owned = NULL;
	int rc;

	if (cfg->direction != ZCAP_DIR_INOUT) {
		if ((h->has_filter_expr ? asprintf(&owned, "%s and (%s)", dir, expr) :
		     asprintf(&owned, "%s", dir)) < 0) {
			snprintf(errbuf, ZCAP_ERRBUF_SIZE, "out of memory");
			return -1;
		}
		expr = owned;
	}
	rc = zcap_filter_compile(expr, h->linktype, h->snaplen, &h->filter,
				 errbuf, ZCAP_ERRBUF_SIZE);
	free(owned);
	return rc;
}

zcap_t *zcap_open(const char *ifname, const struct zcap_config *cfg, char *errbuf)
{
	struct zcap *h;
	int saved;

	errbuf[0] = '\0';
	if (check_config(cfg, errbuf)) {
		errno = EINVAL;
		return NULL;
	}
	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE) {
		snprintf(errbuf, ZCAP_ERRBUF_SIZE, "bad interface name '%s'",
			 ifname ? ifname : "");
		errno = ENODEV;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(errbuf, ZCAP_ERRBUF_SIZE, "out of memory");
		return NULL;
	}
	h->fd = -1;
	h->cfg = *cfg;
	h->cfg.filter = NULL;	/* not ours to keep */
	h->snaplen = cfg->snaplen;
	snprintf(h->ifname, sizeof(h->ifname), "%s", ifname);

	h->ifindex = (int)if_nametoindex(ifname);
	if (!h->ifindex) {
		snprintf(errbuf, ZCAP_ERRBUF_SIZE, "%s: no such interface", ifname);
		errno = ENODEV;
		goto fail;
	}
	if (zcap_netdev_linktype(ifname, &h->linktype, errbuf, ZCAP_ERRBUF_SIZE))
		goto fail;
	h->has_filter_expr = cfg->filter && *cfg->filter;
	if (h->has_filter_expr && !(h->filter_expr = strdup(cfg->filter))) {
		snprintf(errbuf, ZCAP_ERRBUF_SIZE, "out of memory");
		goto fail;
	}
	if (compile_filter(h, cfg, errbuf))
		goto fail;
	h->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->wake_fd < 0) {
		snprintf(errbuf, ZCAP_ERRBUF_SIZE, "eventfd: %s", strerror(errno));
		goto fail_filter;
	}
	if (zcap_netdev_counters(ifname, &h->if_base))
		memset(&h->if_base, 0, sizeof(h->if_base));
	if (open_backend(h, errbuf))
		goto fail_wake;
	return h;

fail_wake:
	saved = errno;
	close(h->wake_fd);
	errno = saved;
fail_filter:
	zcap_filter_free(&h->filter);
fail:
	saved = errno;
	free(h->filter_expr);
	free(h);
	errno = saved;
	return NULL;
}

void zcap_close(zcap_t *h)
{
	if (!h)
		return;
	if (h->ops)
		h->ops->close(h);
	close(h->wake_fd);
	zcap_filter_free(&h->filter);
	free(h->filter_expr);
	free(h);
}

static int64_t now_ms(void)
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

int zcap_recv(zcap_t *h, struct zcap_pkt *pkts, unsigned int max, int timeout_ms)
{
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	struct pollfd pfd[2];
	int n, wait;

	for (;;) {
		if (take_break(h))
			return ZCAP_BREAK;
		n = h->ops->recv(h, pkts, max);
		if (n != 0)
			break;
		if (timeout_ms == 0)
			return ZCAP_TIMEOUT;
		wait = -1;
		if (timeout_ms > 0) {
			int64_t left = deadline - now_ms();

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
	if (n < 0)
		return ZCAP_ERROR;
	h->st.received += (unsigned int)n;
	for (int i = 0; i < n; i++) {
		h->st.bytes += pkts[i].len;
		if (pkts[i].caplen < pkts[i].len)
			h->st.truncated++;
	}
	return n;
}

void zcap_release(zcap_t *h)
{
	h->ops->release(h);
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
	if (zcap_stats(h, &st) == 0)
		h->filtered_at_freeze = st.filtered;
	h->frozen = 1;
	return 0;
}

int zcap_stats(zcap_t *h, struct zcap_stats *st)
{
	struct zcap_netdev_counters now;

	*st = h->st;
	if (h->ops->stats(h, st))
		return -1;
	if (h->frozen) {
		st->filtered = h->filtered_at_freeze;
		return 0;
	}
	if (zcap_netdev_counters(h->ifname, &now) == 0) {
		uint64_t seen, accepted;

		/* added to what the backend's own counters say */
		st->drop_if += now.rx_dropped - h->if_base.rx_dropped;
		/* The kernel does not count what a socket filter rejects:
		 * estimate it as what the interface saw minus what the
		 * filter accepted. Only while a filter is set. */
		if (!h->counts_filtered &&
		    (h->has_filter_expr || h->cfg.direction != ZCAP_DIR_INOUT)) {
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

const char *zcap_geterr(zcap_t *h)
{
	return h->err;
}

const char *zcap_backend_name(const zcap_t *h)
{
	return h->ops ? h->ops->name : "none";
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

int zcap_linktype(const zcap_t *h)
{
	return h->linktype;
}
