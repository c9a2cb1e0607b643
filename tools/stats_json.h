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

/* Adds one thread's counters into its interface's, or an interface's into
 * the capture's: drop_if is the interface's own counter, which every
 * thread on it reads, so it is taken once (first). */
void stats_add(struct zcap_stats *sum, const struct zcap_stats *st, int first);

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
