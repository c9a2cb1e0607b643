/* SPDX-License-Identifier: MIT */
/* Small PF_ZEROCOPY socket helpers shared by the VM test programs. */
#ifndef PFZC_TEST_H
#define PFZC_TEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <uapi/pf_zerocopy.h>

static int failures;	/* the program exits non-zero when any case failed */

/* One TAP line per case, as tests/vm/run.sh counts them. */
static inline void __attribute__((format(printf, 2, 3)))
tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		failures++;
}

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
