/* SPDX-License-Identifier: MIT */
#ifndef ZCAP_TOOLS_STATS_JSON_H
#define ZCAP_TOOLS_STATS_JSON_H

#include <stdint.h>

#include "zcap.h"

/*
 * zcap --stats-json: one JSON object per line, once a second and once at
 * the end, to a file, a UDP address or a Unix datagram socket. Every
 * number is a counter since the start (never reset), so a reader that
 * misses a line loses nothing.
 */
struct stats_json;

/* One capture thread's counters, as zcap_stats() gave them. */
struct stats_thread {
	const char *ifname;
	uint32_t ifid;
	int cpu;			/* -1: not pinned */
	struct zcap_stats st;
	uint64_t captured;		/* written to the output */
};

/* "FILE", "udp:HOST:PORT" or "unix:PATH". NULL with a message in err. */
struct stats_json *stats_json_open(const char *target, char *err, size_t errlen);
/* Writes one object: totals, per interface (drop_if taken once per
 * interface, from its first thread), per thread. Returns 0 or -1 (errno). */
int stats_json_emit(struct stats_json *j, const struct stats_thread *t,
		    unsigned int nthreads, const char *const *ifnames,
		    unsigned int nifs, unsigned int files, uint64_t start_ns,
		    int final);
void stats_json_close(struct stats_json *j);

#endif
