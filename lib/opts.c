/* SPDX-License-Identifier: MIT */
/*
 * Sized structs (ZCAP_DECLARE), as libbpf's and libxdp's option structs:
 * the application's struct says how long it is, the library knows how
 * many of those bytes it understands. Older and shorter is fine (the rest
 * is defaults); newer and longer is fine while the part we do not know is
 * zero, so that a newer program's request is never silently half-done.
 */
#include <errno.h>
#include <string.h>

#include "backend.h"

static int check_sz(size_t sz, const char *what, char *err)
{
	if (sz >= sizeof(size_t))
		return 0;
	zcap_errf(err, "%s: size %zu is not that of a struct (use ZCAP_DECLARE)",
		  what, sz);
	errno = EINVAL;
	return -1;
}

int zcap_opts_copy(void *out, size_t known, const void *in, const char *what,
		   char *err)
{
	const unsigned char *p = in;
	size_t sz;

	memset(out, 0, known);
	if (!in)
		return 0;
	memcpy(&sz, in, sizeof(sz));
	if (check_sz(sz, what, err))
		return -1;
	for (size_t i = known; i < sz; i++) {
		if (p[i]) {
			zcap_errf(err, "%s: a field at byte %zu is unknown to this "
				  "libzcap (it knows %zu bytes of %zu)", what, i,
				  known, sz);
			errno = EINVAL;
			return -1;
		}
	}
	memcpy(out, in, sz < known ? sz : known);
	return 0;
}

int zcap_opts_out(void *out, const void *in, size_t known, const char *what,
		  char *err)
{
	size_t sz;

	memcpy(&sz, out, sizeof(sz));
	if (check_sz(sz, what, err))
		return -1;
	/* sz itself stays the application's */
	if (sz > known) {
		memset((char *)out + known, 0, sz - known);
		sz = known;
	}
	memcpy((char *)out + sizeof(size_t), (const char *)in + sizeof(size_t),
	       sz - sizeof(size_t));
	return 0;
}
