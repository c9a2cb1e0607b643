/* SPDX-License-Identifier: MIT */
/*
 * zcap's rotation and stop options. The files themselves are the library's
 * (struct zcap_dump_rotate); this is the command line, and -z, which runs
 * a command on each finished file the way tcpdump does: "CMD FILE", no
 * shell, not waited for.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>

#include "rotate.h"

#define PROG "zcap"
#include "util.h"

extern char **environ;

uint64_t rotate_parse_size(const char *s)
{
	static const struct { char c; uint64_t mul; } unit[] = {
		{ 'k', 1ull << 10 }, { 'm', 1ull << 20 }, { 'g', 1ull << 30 },
	};
	char num[32];
	uint64_t mul = 1000000, v;
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(num))
		goto bad;
	memcpy(num, s, n + 1);
	for (size_t i = 0; i < sizeof(unit) / sizeof(unit[0]); i++) {
		if ((num[n - 1] | 0x20) == unit[i].c) {
			mul = unit[i].mul;
			num[--n] = '\0';
		}
	}
	if (parse_u64(num, &v) && v > 0 && v <= UINT64_MAX / mul)
		return v * mul;
bad:
	usage_error("invalid file size '%s': a whole number > 0 of millions of "
		    "bytes, or with k, m or g for KiB, MiB, GiB", s);
}

void rotate_parse_stop(struct rotate_opts *o, const char *s)
{
	const char *v = strchr(s, ':');
	size_t k = v ? (size_t)(v - s) : 0;

	if (!v)
		usage_error("invalid stop condition '%s' (duration:SECONDS, "
			    "filesize:KB, files:N, packets:N)", s);
	v++;
	if (k == 8 && !strncmp(s, "duration", k))
		o->stop_secs = parse_num("duration", v, 1, 100000000);
	else if (k == 8 && !strncmp(s, "filesize", k))
		o->stop_bytes = parse_num("file size (kB)", v, 1,
					  UINT64_MAX / 1000) * 1000;
	else if (k == 5 && !strncmp(s, "files", k))
		o->stop_files = (uint32_t)parse_num("file count", v, 1, UINT32_MAX);
	else if (k == 7 && !strncmp(s, "packets", k))
		o->stop_packets = parse_num("packet count", v, 1, UINT64_MAX);
	else
		usage_error("invalid stop condition '%s' (duration:SECONDS, "
			    "filesize:KB, files:N, packets:N)", s);
}

/*
 * Runs in the dumper's writer thread, which blocks every signal: the
 * command gets an empty mask and default dispositions, and a process group
 * of its own so that a ^C to zcap does not kill a compression under way.
 */
static void postrotate(const char *path, void *arg)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD,
				    SIGALRM };
	const char *cmd = arg;
	char *argv[] = { (char *)cmd, (char *)path, NULL };
	posix_spawnattr_t a;
	sigset_t none, def;
	pid_t pid;
	int err;

	sigemptyset(&none);
	sigemptyset(&def);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&def, sigs[i]);
	posix_spawnattr_init(&a);
	posix_spawnattr_setsigmask(&a, &none);
	posix_spawnattr_setsigdefault(&a, &def);
	posix_spawnattr_setpgroup(&a, 0);
	posix_spawnattr_setflags(&a, POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	err = posix_spawnp(&pid, cmd, NULL, &a, argv, environ);
	posix_spawnattr_destroy(&a);
	if (err)
		fprintf(stderr, "\nzcap: -z: cannot run '%s %s': %s\n", cmd,
			path, strerror(err));
}

int rotate_setup(const struct rotate_opts *o, const char *wfile,
		 struct zcap_dump_rotate *r)
{
	int rot = o->file_bytes || o->interval_s;

	if ((rot || o->zcmd || o->stop_bytes || o->stop_files) &&
	    (!wfile || !strcmp(wfile, "-")))
		usage_error("-C, -G, -z and -a filesize/files write files: "
			    "give -w FILE (not '-')");
	if (o->wfiles && !rot)
		usage_error("-W needs -C or -G");
	if (o->stop_files && !rot)
		usage_error("-a files:N needs -C or -G");
	if (o->stop_bytes && o->file_bytes)
		usage_error("-a filesize with -C: every file is cut at -C; "
			    "use -a files:N to stop");
	memset(r, 0, sizeof(*r));
	r->sz = sizeof(*r);
	r->max_bytes = o->file_bytes ? o->file_bytes : o->stop_bytes;
	r->interval_ns = o->interval_s * 1000000000ull;
	if (o->file_bytes)
		r->ring_files = o->wfiles;
	else if (o->wfiles)
		r->max_files = o->wfiles;	/* -G -W N: N files, then stop */
	if (o->stop_bytes)
		r->max_files = 1;
	if (o->stop_files && (!r->max_files || o->stop_files < r->max_files))
		r->max_files = o->stop_files;
	if (o->zcmd) {
		r->on_file = postrotate;
		r->arg = (void *)o->zcmd;
	}
	return rot || o->zcmd || o->stop_bytes;
}

const char *rotate_end_reason(const struct rotate_opts *o)
{
	if (o->stop_bytes)
		return "file size limit reached (-a filesize)";
	return "maximum file limit reached (-W / -a files)";
}
