/* SPDX-License-Identifier: MIT */
/*
 * A few lines of TAP for the unit tests: "ok N - name" / "not ok N - name".
 * tests/run.sh counts these lines; a test binary also exits non-zero when any
 * check failed, so a crash cannot pass for success.
 */
#ifndef ZCAP_TEST_CHECK_H
#define ZCAP_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int check_n, check_failed;

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		int ok_ = !!(cond);                                           \
		printf("%sok %d - ", ok_ ? "" : "not ", ++check_n);           \
		printf(__VA_ARGS__);                                          \
		printf("\n");                                                 \
		if (!ok_) {                                                   \
			check_failed++;                                       \
			printf("#   failed at %s:%d: %s\n", __FILE__,         \
			       __LINE__, #cond);                              \
		}                                                             \
		fflush(stdout);                                               \
	} while (0)

static inline int check_done(void)
{
	printf("1..%d\n", check_n);
	return check_failed ? 1 : 0;
}

#endif
