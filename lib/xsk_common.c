/* SPDX-License-Identifier: MIT */
/*
 * Setting up an AF_XDP socket and its umem (lib/xsk_common.h), for both
 * directions.
 */
#include <errno.h>
#include <linux/if_xdp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <unistd.h>

#include "xsk_common.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

/* Whether the socket got zero copy, from the kernel rather than our flags. */
static int bound_zerocopy(struct zxsk *x)
{
	struct xdp_options o = { 0 };
	socklen_t len = sizeof(o);

	if (getsockopt(zxsk_fd(x), SOL_XDP, XDP_OPTIONS, &o, &len))
		return 0;
	return !!(o.flags & XDP_OPTIONS_ZEROCOPY);
}

static int bind_once(struct zxsk *x, const char *ifname, uint32_t queue,
		     const struct zxsk_cfg *c, uint16_t bind_flags)
{
	struct xsk_umem_config ucfg = {
		.fill_size = c->fill_size,
		.comp_size = c->comp_size,
		.frame_size = c->frame_size,
		.frame_headroom = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = c->rx_size,
		.tx_size = c->tx_size,
		.libxdp_flags = c->shared_prog ? 0 : XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = bind_flags | XDP_USE_NEED_WAKEUP,
	};
	int err;

	x->area_len = (size_t)c->frames * c->frame_size;
	x->area = mmap(NULL, x->area_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		return -errno;
	}
	err = xsk_umem__create(&x->umem, x->area, x->area_len, &x->fill, &x->comp, &ucfg);
	if (err) {
		x->umem = NULL;
		return err;
	}
	err = xsk_socket__create(&x->xsk, ifname, queue, x->umem,
				 c->rx_size ? &x->rx : NULL,
				 c->tx_size ? &x->tx : NULL, &scfg);
	if (err) {
		x->xsk = NULL;
		return err;
	}
	x->zerocopy = bound_zerocopy(x);
	return 0;
}

static int open_once(struct zxsk *x, const char *ifname, uint32_t queue,
		     const struct zxsk_cfg *cfg)
{
	int err = bind_once(x, ifname, queue, cfg, XDP_ZEROCOPY);

	if (err && cfg->allow_copy) {
		/* a failed zero-copy bind leaves the umem half set up */
		zxsk_close(x);
		err = bind_once(x, ifname, queue, cfg, XDP_COPY);
	}
	return err;
}

int zxsk_open(struct zxsk *x, const char *ifname, uint32_t queue,
	      const struct zxsk_cfg *cfg)
{
	int err;

	/* The kernel lets go of a closed socket's queue a little after the
	 * close (the pool is freed from a workqueue): a socket opened right
	 * after one closed on the same queue gets EBUSY for a few ms. A
	 * queue really in use stays EBUSY past the last try. */
	for (int tries = 0;; tries++) {
		err = open_once(x, ifname, queue, cfg);
		if (err != -EBUSY || tries >= ZXSK_BUSY_TRIES)
			return err;
		zxsk_close(x);
		usleep(10000);
	}
}

void zxsk_close(struct zxsk *x)
{
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area)
		munmap(x->area, x->area_len);
	memset(x, 0, sizeof(*x));
}
