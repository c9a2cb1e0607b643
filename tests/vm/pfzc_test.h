/* SPDX-License-Identifier: MIT */
/* Small PF_ZEROCOPY socket helpers shared by the VM test programs. */
#ifndef PFZC_TEST_H
#define PFZC_TEST_H

#include <stdint.h>
#include <sys/socket.h>

#include <uapi/pf_zerocopy.h>

static inline int umem_reg(int fd, const void *addr, uint64_t len,
			   uint32_t frame_size, uint32_t flags)
{
	struct pfzc_umem_reg r = {
		.addr = (uintptr_t)addr, .len = len,
		.frame_size = frame_size, .flags = flags,
	};

	return setsockopt(fd, SOL_PFZC, PFZC_UMEM_REG, &r, sizeof(r));
}

static inline int ring_set(int fd, int opt, uint32_t n)
{
	return setsockopt(fd, SOL_PFZC, opt, &n, sizeof(n));
}

#endif
