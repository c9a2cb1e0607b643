/* SPDX-License-Identifier: MIT */
#ifndef ZCAP_TOOLS_ROTATE_H
#define ZCAP_TOOLS_ROTATE_H

#include <stdint.h>

#include "zcap.h"

/*
 * zcap's long-capture options: tcpdump's -C, -G, -W and -z, and dumpcap's
 * -a stop conditions, turned into a struct zcap_dump_rotate.
 */
struct rotate_opts {
	uint64_t file_bytes;	/* -C */
	uint64_t interval_s;	/* -G */
	uint32_t wfiles;	/* -W */
	const char *zcmd;	/* -z */
	uint64_t stop_secs;	/* -a duration: */
	uint64_t stop_bytes;	/* -a filesize: */
	uint32_t stop_files;	/* -a files: */
	uint64_t stop_packets;	/* -a packets: */
};

/* -C's argument: millions of bytes, or k, m, g (KiB, MiB, GiB) as tcpdump. */
uint64_t rotate_parse_size(const char *s);
/* One -a condition into o; a usage error when it is not one. */
void rotate_parse_stop(struct rotate_opts *o, const char *s);
/*
 * Checks the options together (usage errors) and fills r. Returns 1 when
 * the dumper rotates (r is to be passed), 0 when it writes one file.
 */
int rotate_setup(const struct rotate_opts *o, const char *wfile,
		 struct zcap_dump_rotate *r);
/* Why the dumper ended (ZCAP_DUMP_END), for a line on stderr. */
const char *rotate_end_reason(const struct rotate_opts *o);

#endif
