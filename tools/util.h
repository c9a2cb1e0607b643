/* SPDX-License-Identifier: MIT */
/*
 * What every tool says and parses the same way: errors prefixed with the
 * tool's name (exit 2 for usage, 1 otherwise) and strict numbers.
 * Define PROG to the tool's name before including this.
 */
#ifndef ZCAP_TOOLS_UTIL_H
#define ZCAP_TOOLS_UTIL_H

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef PROG
#error "define PROG before including util.h"
#endif

static inline void __attribute__((noreturn))
vexit(int code, const char *tail, const char *fmt, va_list ap)
{
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(tail, stderr);
	exit(code);
}

static inline void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vexit(2, " (see --help)\n", fmt, ap);
}

static inline void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vexit(1, "\n", fmt, ap);
}

/* Decimal only, whole string: strtoull alone accepts "12x" up to the x,
 * "-1" as a huge number and "0x10" as hex. */
static inline bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/* A number in [min, max], or a usage error naming what it is. */
static inline uint64_t parse_num(const char *what, const char *s, uint64_t min,
				 uint64_t max)
{
	uint64_t v;

	if (parse_u64(s, &v) && v >= min && v <= max)
		return v;
	if (max == UINT64_MAX)
		usage_error("invalid %s '%s': must be a whole number >= %" PRIu64,
			    what, s, min);
	usage_error("invalid %s '%s': must be a whole number in %" PRIu64
		    "..%" PRIu64, what, s, min, max);
}

#endif
