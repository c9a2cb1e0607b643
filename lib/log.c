/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics go only where the application said (zcap_set_print()), as
 * libxdp's print function does: a library that wrote to stderr would
 * garble a tool's output and could not be silenced.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "backend.h"

static zcap_print_fn_t print_fn;

zcap_print_fn_t zcap_set_print(zcap_print_fn_t fn)
{
	return __atomic_exchange_n(&print_fn, fn, __ATOMIC_ACQ_REL);
}

void zcap_vlog(enum zcap_log_level level, const char *fmt, va_list ap)
{
	zcap_print_fn_t fn = __atomic_load_n(&print_fn, __ATOMIC_ACQUIRE);
	int saved = errno;

	if (fn)
		fn(level, fmt, ap);
	errno = saved;
}

void zcap_log(enum zcap_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	zcap_vlog(level, fmt, ap);
	va_end(ap);
}

void zcap_errf(char *err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, ZCAP_ERRBUF_SIZE, fmt, ap);
	va_end(ap);
	errno = saved;
}
