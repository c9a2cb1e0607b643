/* SPDX-License-Identifier: MIT */
/*
 * What every tool says and parses the same way: errors prefixed with the
 * tool's name (exit 2 for usage, 1 otherwise), strict numbers, backend
 * names and the library's diagnostics on stderr.
 * Define PROG to the tool's name before including this.
 */
#ifndef ZCAP_TOOLS_UTIL_H
#define ZCAP_TOOLS_UTIL_H

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zcap.h"

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

/*
 * What getopt_long() returned for a bad option, as one line (opterr = 0 and
 * a ':' leading the short options): c is ':' for a missing argument.
 */
static inline void __attribute__((noreturn)) bad_option(int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':') {
		if (strncmp(arg, "--", 2) == 0 || optopt >= 256)
			usage_error("option '%s' needs an argument", arg);
		usage_error("option '-%c' needs an argument", optopt);
	}
	if (optopt > 0 && optopt < 256)
		usage_error("unknown option '-%c'", optopt);
	usage_error("unknown option '%s'", arg);
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

static inline uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* EINTR ends it early: callers read the clock and their stop flag again. */
static inline void sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000ull),
		.tv_nsec = (long)(ns % 1000000000ull),
	};

	nanosleep(&ts, NULL);
}

/* After getopt_long(): nothing left over, and -i given. */
static inline void args_done(int argc, char **argv, const char *ifname)
{
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!ifname)
		usage_error("no interface given: use -i IF");
}

/* xx:xx:xx:xx:xx:xx, or a usage error. */
static inline void parse_mac(const char *arg, uint8_t mac[6])
{
	const char *s = arg;

	for (int i = 0; i < 6; i++) {
		char hex[3];
		char *end;

		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]))
			goto bad;
		hex[0] = s[0];
		hex[1] = s[1];
		hex[2] = '\0';
		mac[i] = (uint8_t)strtoul(hex, &end, 16);
		s += 2;
		if (i < 5 && *s++ != ':')
			goto bad;
	}
	if (*s == '\0')
		return;
bad:
	usage_error("invalid MAC address '%s': expected xx:xx:xx:xx:xx:xx", arg);
}

/* A dotted quad, in host order, or a usage error naming what it is. */
static inline uint32_t parse_ip(const char *what, const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		usage_error("invalid %s '%s': expected a dotted-quad IPv4 address", what, s);
	return ntohl(a.s_addr);
}

/* The interface's MAC address and MTU, or an error exit. No privilege
 * needed. */
static inline void if_mac_mtu(const char *ifname, uint8_t mac[6], unsigned int *mtu)
{
	struct ifreq ifr;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		die("%s: no such interface (name too long)", ifname);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		die("%s: cannot read MAC address: %s", ifname, strerror(errno));
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		die("%s: cannot read MTU: %s", ifname, strerror(errno));
	*mtu = (unsigned int)ifr.ifr_mtu;
	close(fd);
}

/* --backend NAME for dir (ZCAP_RX or ZCAP_TX), checked by the library. */
static inline const char *parse_backend(const char *name, unsigned int dir)
{
	char err[ZCAP_ERRBUF_SIZE] = "";

	if (zcap_backend_check(name, dir, err))
		usage_error("invalid backend '%s': %s", name, err);
	return name;
}

/* "auto|xdp|...": the names --backend takes, from the library's registry. */
static inline const char *backend_names(unsigned int dir)
{
	static char buf[128];
	const char *n;
	size_t l = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; (n = zcap_backend_at(dir, i)) && l < sizeof(buf); i++)
		l += (size_t)snprintf(buf + l, sizeof(buf) - l, "%s%s", i ? "|" : "", n);
	return buf;
}

/* The library's diagnostics, up to this level, go to stderr. */
static inline enum zcap_log_level *log_level(void)
{
	static enum zcap_log_level level;

	return &level;
}

static inline void log_to_stderr(enum zcap_log_level level, const char *fmt, va_list ap)
{
	if (level > *log_level())
		return;
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* Warnings always; with verbose, also which backend and why. */
static inline void log_init(int verbose)
{
	*log_level() = verbose ? ZCAP_LOG_INFO : ZCAP_LOG_WARN;
	zcap_set_print(log_to_stderr);
}

#endif
