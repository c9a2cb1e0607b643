/* SPDX-License-Identifier: MIT */
/*
 * --stats-json: the capture's counters for monitoring, one line of JSON a
 * second. A line is built whole in memory and leaves in one write(2), so
 * a datagram socket gets one object per datagram and a file reader never
 * sees half a line.
 *
 *   {"time":1764662400.250,"elapsed":3.001,"final":false,
 *    "packets":N,"bytes":N,"drops":{"ring_full":N,"interface":N},
 *    "filtered":N,"pending":N,"files":N,
 *    "interfaces":[{"name":"eth0","packets":N,...}],
 *    "threads":[{"thread":0,"interface":"eth0","cpu":1,"packets":N,...}]}
 *
 * "packets" is what reached the output (the summary's "captured"); the
 * library's received, per thread, equals it but for packets handed out
 * after a -c stop, which count as pending.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "stats_json.h"

struct stats_json {
	int fd;
	char *buf;
	size_t len, cap;
	int overflow;
};

static int connect_udp(const char *hostport, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res, *a;
	char host[256];
	const char *colon = strrchr(hostport, ':');
	int fd = -1, rc;

	if (!colon || colon == hostport ||
	    (size_t)(colon - hostport) >= sizeof(host)) {
		snprintf(err, errlen, "stats target udp:%s: expected udp:HOST:PORT",
			 hostport);
		errno = EINVAL;
		return -1;
	}
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	/* [::1]:port */
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "stats target udp:%s: %s", hostport,
			 gai_strerror(rc));
		errno = EINVAL;
		return -1;
	}
	for (a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "stats target udp:%s: %s", hostport,
			 strerror(errno));
	return fd;
}

static int connect_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "stats target unix:%s: path too long", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	snprintf(err, errlen, "stats target unix:%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

struct stats_json *stats_json_open(const char *target, char *err, size_t errlen)
{
	struct stats_json *j = calloc(1, sizeof(*j));
	int fd;

	if (!j) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!strncmp(target, "udp:", 4)) {
		fd = connect_udp(target + 4, err, errlen);
	} else if (!strncmp(target, "unix:", 5)) {
		fd = connect_unix(target + 5, err, errlen);
	} else if (!strcmp(target, "-")) {
		fd = dup(STDOUT_FILENO);
	} else {
		fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			snprintf(err, errlen, "cannot create %s: %s", target,
				 strerror(errno));
	}
	if (fd < 0) {
		free(j);
		return NULL;
	}
	j->fd = fd;
	return j;
}

static void put(struct stats_json *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct stats_json *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(j->buf ? j->buf + j->len : NULL,
			      j->buf ? j->cap - j->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			j->overflow = 1;
			return;
		}
		if (j->buf && (size_t)n < j->cap - j->len) {
			j->len += (size_t)n;
			return;
		}
		size_t ncap = (j->cap ? j->cap : 1024) * 2 + (size_t)n;
		char *nb = realloc(j->buf, ncap);

		if (!nb) {
			j->overflow = 1;
			return;
		}
		j->buf = nb;
		j->cap = ncap;
	}
}

/* Interface names are the kernel's (no quotes or controls), but escape
 * anyway: the line must parse whatever a name holds. */
static void put_str(struct stats_json *j, const char *s)
{
	put(j, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			put(j, "\\%c", c);
		else if (c < 0x20)
			put(j, "\\u%04x", c);
		else
			put(j, "%c", c);
	}
	put(j, "\"");
}

static void put_counts(struct stats_json *j, uint64_t packets,
		       const struct zcap_stats *st)
{
	put(j, "\"packets\":%llu,\"bytes\":%llu,\"drops\":{\"ring_full\":%llu,"
	    "\"interface\":%llu},\"filtered\":%llu,\"pending\":%llu",
	    (unsigned long long)packets, (unsigned long long)st->bytes,
	    (unsigned long long)st->drop_ring_full, (unsigned long long)st->drop_if,
	    (unsigned long long)st->filtered, (unsigned long long)st->pending);
}

void stats_add(struct zcap_stats *sum, const struct zcap_stats *st, int first)
{
	sum->received += st->received;
	sum->drop_ring_full += st->drop_ring_full;
	if (first)
		sum->drop_if += st->drop_if;
	sum->filtered += st->filtered;
	sum->truncated += st->truncated;
	sum->bytes += st->bytes;
	sum->pending += st->pending;
}

/* Interface f's counters over its threads, and what they wrote. */
static void if_counts(const struct stats_thread *t, unsigned int nthreads,
		      unsigned int f, struct zcap_stats *c, uint64_t *captured)
{
	int first = 1;

	memset(c, 0, sizeof(*c));
	*captured = 0;
	for (unsigned int i = 0; i < nthreads; i++) {
		if (t[i].ifid != f)
			continue;
		stats_add(c, &t[i].st, first);
		*captured += t[i].captured;
		first = 0;
	}
}

int stats_json_emit(struct stats_json *j, const struct stats_thread *t,
		    unsigned int nthreads, const char *const *ifnames,
		    unsigned int nifs, unsigned int files, uint64_t start_ns,
		    int final)
{
	struct zcap_stats all = { 0 }, c;
	struct timespec now;
	uint64_t now_ns, cap, cap_all = 0;
	ssize_t w;

	clock_gettime(CLOCK_REALTIME, &now);
	now_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	j->len = 0;
	j->overflow = 0;
	for (unsigned int f = 0; f < nifs; f++) {
		if_counts(t, nthreads, f, &c, &cap);
		stats_add(&all, &c, 1);
		cap_all += cap;
	}
	put(j, "{\"time\":%llu.%03llu,\"elapsed\":%.3f,\"final\":%s,",
	    (unsigned long long)(now_ns / 1000000000ull),
	    (unsigned long long)(now_ns % 1000000000ull / 1000000ull),
	    now_ns > start_ns ? (double)(now_ns - start_ns) / 1e9 : 0.0,
	    final ? "true" : "false");
	put_counts(j, cap_all, &all);
	put(j, ",\"files\":%u,\"interfaces\":[", files);
	for (unsigned int f = 0; f < nifs; f++) {
		if_counts(t, nthreads, f, &c, &cap);
		put(j, "%s{\"name\":", f ? "," : "");
		put_str(j, ifnames[f]);
		put(j, ",");
		put_counts(j, cap, &c);
		put(j, "}");
	}
	put(j, "],\"threads\":[");
	for (unsigned int i = 0; i < nthreads; i++) {
		put(j, "%s{\"thread\":%u,\"interface\":", i ? "," : "", i);
		put_str(j, t[i].ifname);
		put(j, ",\"cpu\":%d,", t[i].cpu);
		put_counts(j, t[i].captured, &t[i].st);
		put(j, "}");
	}
	put(j, "]}\n");
	if (j->overflow) {
		errno = ENOMEM;
		return -1;
	}
	do
		w = write(j->fd, j->buf, j->len);
	while (w < 0 && errno == EINTR);
	/* A monitoring socket with no reader must not stop the capture. */
	if (w < 0 && (errno == ECONNREFUSED || errno == EAGAIN))
		return 0;
	return w < 0 ? -1 : 0;
}

void stats_json_close(struct stats_json *j)
{
	if (!j)
		return;
	close(j->fd);
	free(j->buf);
	free(j);
}
