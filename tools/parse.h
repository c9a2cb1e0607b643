/* SPDX-License-Identifier: MIT */
/* Strict number parsing for the tools: the whole string or an error. */
#ifndef ZCAP_TOOLS_PARSE_H
#define ZCAP_TOOLS_PARSE_H

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* Parses a decimal number in [min, max]. An optional k/m/g suffix (powers
 * of 1024) is accepted when suffix is set. Returns 0, or -1. */
static inline int parse_u64(const char *s, uint64_t min, uint64_t max,
			    int suffix, uint64_t *out)
{
	unsigned long long v;
	uint64_t mul = 1;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (suffix && *end && !end[1]) {
		switch (*end | 0x20) {
		case 'k': mul = 1ull << 10; end++; break;
		case 'm': mul = 1ull << 20; end++; break;
		case 'g': mul = 1ull << 30; end++; break;
		}
	}
	if (*end || v > max / mul || v * mul < min)
		return -1;
	*out = v * mul;
	return 0;
}

#endif
