/* SPDX-License-Identifier: MIT */
/*
 * pcap and pcapng writer.
 *
 * Records are copied into large buffers so that a busy capture costs a few
 * big writes rather than one per packet. Files are written in host byte
 * order: both formats carry a magic from which readers detect it.
 *
 * A regular file is written with O_DIRECT, whole page-aligned buffers at
 * aligned offsets: through the page cache, a capture at full speed ran
 * into dirty-page throttling well below what the disk takes direct, and
 * lost frames in the ring (bench/results/results.md, "To disk", measures
 * both). Only the unaligned tail
 * of a flush or close goes through the page cache (O_DIRECT off for that
 * one write), so the file ends at its last byte with no padding to cut
 * off; the tail stays in the buffer, and the next direct write starts at
 * its aligned offset and writes it again. A file system without direct
 * I/O (EINVAL from fcntl() or from a write) gets buffered writes instead.
 * Pipes, stdout and devices get plain write(2); with refs
 * (zcap_dump_info.refs), writev(2) of the packets' data where it lies.
 *
 * A writer thread makes the write calls, with two buffers: the capture
 * fills one while the other goes to the file, and waits only when the file
 * is slower than the capture for longer than a buffer takes to fill, so
 * that the capture thread never blocks in write(2). A failed
 * write shows up in the next call that hands a buffer over or waits for
 * the writer: a zcap_dump_write() at most one buffer later, flush, close.
 *
 * A write error makes the dumper fail for good. A file with a hole in it
 * (ENOSPC half-way through a record) is worse than no file, so close then
 * removes it. Only a regular file is removed: "-w /dev/full" or a fifo must
 * survive a failed capture.
 */
#define _GNU_SOURCE	/* O_DIRECT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du

#define PCAPNG_SHB 0x0a0d0d0au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_ISB 0x00000005u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_BOM 0x1a2b3c4du

#define OPT_ENDOFOPT 0
#define SHB_OS 3
#define SHB_USERAPPL 4
#define IF_NAME 2
#define IF_TSRESOL 9
#define ISB_STARTTIME 2
#define ISB_ENDTIME 3
#define ISB_IFRECV 4
#define ISB_IFDROP 5
#define ISB_FILTERACCEPT 6
#define ISB_OSDROP 7
#define ISB_USRDELIV 8

/* Longer strings are cut so header blocks fit a fixed stack buffer. */
#define OPT_STR_MAX 256
#define HDR_BLOCK_MAX 1024

#define VLAN_TAG_LEN 4
#define VLAN_OFFSET 12	/* after destination and source MAC */

/*
 * Buffers are handed to the writer in order and come back in order, so a
 * buffer's index is its sequence number modulo nbuf: fill counts the
 * buffers handed over, done those written.
 *
 * How many and how big depends on where they go. A regular file gets two
 * of ZCAP_DUMP_DEFAULT_BUF: large direct writes are what the disk takes
 * fastest (smaller ones lost more frames to disk at 1518 B). A pipe, a
 * device or a socket gets DUMP_STREAM_NBUF of DUMP_STREAM_BUF, 1 MiB in
 * all, which stays in a core's cache where records are copied into them:
 * 4 MiB buffers made each copy miss (own CPU 590 against 370 ns per
 * 1518-byte frame to /dev/null, with 1-4 % lost against none with a busy
 * loop on the capture core; issue 15). With refs they hold only headers.
 */
#define DUMP_NBUF_MAX 4
#define DUMP_STREAM_NBUF 4
#define DUMP_STREAM_BUF (256u << 10)
#define DUMP_ALIGN 4096u	/* O_DIRECT: buffer, length and offset */

/*
 * refs: one writev(2) a chunk. A record takes two pieces (its header with
 * the previous record's trailer, which lie together in buf[], and its
 * packet), at most seven with a VLAN tag and a split; a chunk ends before
 * it could overflow. 1024 records' data at 1518 B is 1.5 MB of the ring
 * held by a chunk in flight.
 */
#define DUMP_IOV 1024u
#define DUMP_IOV_RECORD 7u

struct dump_chunk {
	size_t len;
	uint64_t off;
	unsigned int niov;	/* refs: the chunk is iov[i][0..niov) */
	uint64_t recs;		/* records complete when it was handed over */
	char *open;	/* rotation: the final name of a file that begins
			 * with this chunk; the writer owns it once handed */
};

struct zcap_dumper {
	int fd;
	int is_stdout;
	int may_unlink;	/* a regular file we created, not /dev/full or a fifo */
	int regular;	/* pwrite at known offsets; tails kept (see flush) */
	int failed;
	enum zcap_format fmt;
	int nsec;
	uint32_t snaplen;
	uint8_t *buf[DUMP_NBUF_MAX];
	unsigned int nbuf;
	size_t bufsize;	/* a multiple of DUMP_ALIGN */
	uint8_t *cur;	/* the buffer being filled, buf[fill % nbuf]: kept so
			 * that emit(), per record, divides by nothing */
	size_t used;	/* in cur */
	size_t kept;	/* of those, already in the file (a flushed tail) */
	uint64_t off;	/* file offset of that buffer's first byte */
	uint64_t bytes;
	uint64_t recs;	/* records written (zcap_dump_done()) */
	char *path;

	/*
	 * refs on a stream (zcap_dump_info.refs): a chunk is the list
	 * iov[i], which points at the caller's packets and at buf[i]; buf[i]
	 * then holds only the bytes that are not the packets' (record
	 * headers and trailers, padding, a VLAN tag, header blocks), and the
	 * caller keeps a packet until the writer is done with its chunk
	 * (recs_done). Copying 1518-byte frames into buf[] took 12 % of the
	 * capture core and lost frames with a busy loop on it (issue 15).
	 */
	int refs;
	struct iovec *iov[DUMP_NBUF_MAX];
	struct iovec *civ;	/* iov[fill % nbuf], being filled */
	unsigned int niov;	/* in civ */
	uint64_t recs_done;	/* written by the writer, atomically */

	/*
	 * Rotation (zcap_dump_rotate): the filler decides where a file ends
	 * and names the next (rot_next()); the writer closes, renames and
	 * opens (rot_switch()). rotating is constant after open.
	 */
	int rotating;
	struct zcap_dump_rotate rot;
	int linktype;		/* for each new file's header */
	char **ifnames;		/* one IDB each; entries may be NULL */
	uint32_t nifs;
	char *app;
	int wchars;		/* digits of a ring number */
	uint64_t file_base;	/* d->bytes where the current file began */
	uint64_t file_recs;	/* records in it */
	uint64_t file_ns;	/* the start of its -G interval */
	unsigned int ccount;	/* -C number within the -G interval */
	unsigned int files;	/* begun so far */
	int ended;		/* max_files were full */
	char *next_name;	/* the file the buffer being filled begins */

	/* Only the writer touches these while it runs. */
	int direct;	/* O_DIRECT is on */
	char *fname;	/* rotation: the file being written, final name */
	char *tname;	/* ... and where it is until finished */

	int threaded;	/* else the filler writes, in hand_off() */
	pthread_t thread;
	/* The rest is shared, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* writer: work or stop */
	pthread_cond_t freed;	/* filler: a buffer came back */
	unsigned int fill, done;
	struct dump_chunk chunk[DUMP_NBUF_MAX];
	int stop;	/* 1: write what is queued, then exit; 2: exit now */
	int werr;	/* errno of the first failed write; err says more */

	char err[ZCAP_ERRBUF_SIZE];
};

static size_t pad4(size_t n)
{
	return (4 - (n & 3)) & 3;
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static const char *dump_name(const zcap_dumper_t *d)
{
	return d->is_stdout ? "stdout" : d->fname ? d->fname : d->path;
}

/* Writer side: the message; the filler sets d->failed when it sees werr. */
static int dump_werr(zcap_dumper_t *d, const char *what, int err)
{
	snprintf(d->err, sizeof(d->err), "%s %s: %s", what, dump_name(d),
		 strerror(err));
	errno = err;
	return -1;
}

/* Filler side, with no writer running. */
static int dump_fail(zcap_dumper_t *d, const char *what, int err)
{
	dump_werr(d, what, err);
	d->failed = 1;
	return -1;
}

static int set_direct(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	fl = on ? fl | O_DIRECT : fl & ~O_DIRECT;
	return fcntl(fd, F_SETFL, fl);
}

/*
 * Writes n bytes at off (regular files) or at the current position. A file
 * system may take O_DIRECT at fcntl() time and still refuse the write with
 * EINVAL (or a short direct write may leave the rest unaligned): the rest
 * then goes through the page cache, for the whole file.
 */
static int write_at(zcap_dumper_t *d, const uint8_t *p, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t r;

		if (d->regular)
			r = pwrite(d->fd, p, n, (off_t)off);
		else
			r = write(d->fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EINVAL && d->direct) {
			d->direct = 0;
			if (set_direct(d->fd, 0) == 0)
				continue;
			errno = EINVAL;
		}
		if (r < 0)
			return dump_werr(d, "write to", errno);
		/* Only happens for n == 0 by POSIX; guard against a spin. */
		if (r == 0)
			return dump_werr(d, "write to", EIO);
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/*
 * The aligned part goes straight to the disk; an unaligned tail (only at
 * flush and close) through the page cache, so the file ends at its last
 * byte, with no padding to cut off.
 */
static int write_chunk(zcap_dumper_t *d, const uint8_t *p,
		       const struct dump_chunk *c)
{
	size_t head = d->direct ? c->len & ~(size_t)(DUMP_ALIGN - 1) : c->len;
	int ret;

	if (head && write_at(d, p, head, c->off))
		return -1;
	if (head == c->len)
		return 0;
	/* write_at() may have given up on O_DIRECT meanwhile. */
	if (!d->direct)
		return write_at(d, p + head, c->len - head, c->off + head);
	if (set_direct(d->fd, 0))
		return dump_werr(d, "write to", errno);
	d->direct = 0;
	ret = write_at(d, p + head, c->len - head, c->off + head);
	d->direct = set_direct(d->fd, 1) == 0;
	return ret;
}

/* A chunk of refs, resuming after a short write (a pipe's reader may
 * take part of it, a signal may interrupt it). */
static int write_iov(zcap_dumper_t *d, struct iovec *v, unsigned int n)
{
	while (n > 0) {
		ssize_t r = writev(d->fd, v, (int)(n < IOV_MAX ? n : IOV_MAX));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return dump_werr(d, "write to", errno);
		if (r == 0)
			return dump_werr(d, "write to", EIO);
		while (n > 0 && (size_t)r >= v->iov_len) {
			r -= (ssize_t)v->iov_len;
			v++;
			n--;
		}
		if (r > 0) {
			v->iov_base = (uint8_t *)v->iov_base + r;
			v->iov_len -= (size_t)r;
		}
	}
	return 0;
}

static int is_regular(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Creates path for writing, O_DIRECT where the file system has it. */
static int open_file(zcap_dumper_t *d, const char *path)
{
	d->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (d->fd < 0)
		return -1;
	/* Refused (EINVAL) by file systems without direct I/O. */
	d->direct = is_regular(d->fd) && set_direct(d->fd, 1) == 0;
	return 0;
}

/* ".NAME.part" beside NAME: where NAME is written until it is finished. */
static char *part_name(const char *name)
{
	const char *slash = strrchr(name, '/');
	int dir = slash ? (int)(slash + 1 - name) : 0;
	size_t n = strlen(name) + sizeof(".") + sizeof(".part");
	char *t = malloc(n);

	if (t)
		snprintf(t, n, "%.*s.%s.part", dir, name, name + dir);
	return t;
}

/* A rename onto name would replace something that is not a capture file
 * (rotation onto /dev/null, say). */
static int not_regular(const char *name)
{
	struct stat sb;

	return lstat(name, &sb) == 0 && !S_ISREG(sb.st_mode);
}

/*
 * The current file is complete: closed, and renamed from its part name to
 * its own, replacing a file of that name (the -W ring's oldest). Writer
 * side, or close's with the writer gone.
 */
static int rot_finish(zcap_dumper_t *d)
{
	int fd = d->fd;

	d->fd = -1;
	if (close(fd))
		return dump_werr(d, "close", errno);
	if (not_regular(d->fname))
		return dump_werr(d, "rotate onto", EEXIST);
	if (rename(d->tname, d->fname))
		return dump_werr(d, "rename onto", errno);
	if (d->rot.on_file)
		d->rot.on_file(d->fname, d->rot.arg);
	return 0;
}

/* Writer side: finishes the current file and begins name (owned now). */
static int rot_switch(zcap_dumper_t *d, char *name)
{
	char *tname = part_name(name);

	if (!tname || rot_finish(d)) {
		int err = tname ? errno : ENOMEM;

		free(tname);
		free(name);
		return err == ENOMEM ? dump_werr(d, "next file after", err) : -1;
	}
	free(d->fname);
	free(d->tname);
	d->fname = name;
	d->tname = tname;
	if (open_file(d, tname))
		return dump_werr(d, "cannot create", errno);
	return 0;
}

/* Writes chunk i, unless skip: an earlier one failed or an abort is on. */
static void write_one(zcap_dumper_t *d, unsigned int i, int skip)
{
	struct dump_chunk *c = &d->chunk[i % d->nbuf];
	char *open = c->open;
	uint64_t recs = c->recs;
	int err = 0;

	c->open = NULL;
	if (skip)
		free(open);
	else if (d->refs ? write_iov(d, d->iov[i % d->nbuf], c->niov) :
		 (open && rot_switch(d, open)) ||
		 write_chunk(d, d->buf[i % d->nbuf], c))
		err = errno;
	/* written or given up: the caller may have the packets back */
	__atomic_store_n(&d->recs_done, recs, __ATOMIC_RELEASE);
	pthread_mutex_lock(&d->lock);
	if (err && !d->werr)
		d->werr = err;
	d->done = i + 1;
	pthread_cond_signal(&d->freed);
	pthread_mutex_unlock(&d->lock);
}

static void *writer(void *arg)
{
	zcap_dumper_t *d = arg;
	unsigned int i;
	int skip;

	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (d->done == d->fill && !d->stop)
			pthread_cond_wait(&d->wake, &d->lock);
		if (d->done == d->fill)
			break;
		i = d->done;
		skip = d->werr || d->stop == 2;
		pthread_mutex_unlock(&d->lock);
		write_one(d, i, skip);
		pthread_mutex_lock(&d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/*
 * Every signal stays with the caller's threads: zcap counts on SIGINT
 * interrupting its own poll(), not landing in a thread stuck in write().
 * Without a thread (pthread_create failed), the caller writes, as before.
 */
static void writer_start(zcap_dumper_t *d)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	d->threaded = pthread_create(&d->thread, NULL, writer, d) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* how: 1 = write what is queued first, 2 = drop it. */
static void writer_stop(zcap_dumper_t *d, int how)
{
	if (!d->threaded)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = how;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	d->threaded = 0;
}

/* Filler side: 0, or -1 once the writer has failed (for good). */
static int check_werr(zcap_dumper_t *d, int werr)
{
	if (!werr)
		return 0;
	d->failed = 1;
	errno = werr;
	return -1;
}

/* Until everything handed over is in the file, or a write failed. */
static int writer_wait(zcap_dumper_t *d)
{
	int werr;

	pthread_mutex_lock(&d->lock);
	while (!d->werr && d->done != d->fill)
		pthread_cond_wait(&d->freed, &d->lock);
	werr = d->werr;
	pthread_mutex_unlock(&d->lock);
	return check_werr(d, werr);
}

/*
 * Hands the used bytes of the current buffer to the writer and moves on to
 * the next buffer, waiting for it while the writer is behind. The last keep
 * bytes (an unaligned tail) start the new buffer: the next direct write
 * begins at their aligned offset and writes them again.
 */
static int hand_off(zcap_dumper_t *d, size_t keep)
{
	unsigned int cur = d->fill;
	const uint8_t *old = d->buf[cur % d->nbuf];
	int werr;

	d->chunk[cur % d->nbuf] = (struct dump_chunk){ d->used, d->off,
						      d->niov, d->recs,
						      d->next_name };
	d->next_name = NULL;
	if (d->threaded) {
		pthread_mutex_lock(&d->lock);
		d->fill = cur + 1;
		pthread_cond_signal(&d->wake);
		while (!d->werr && d->fill - d->done >= d->nbuf)
			pthread_cond_wait(&d->freed, &d->lock);
		werr = d->werr;
		pthread_mutex_unlock(&d->lock);
	} else {
		d->fill = cur + 1;
		write_one(d, cur, d->werr);
		werr = d->werr;
	}
	if (werr)
		return check_werr(d, werr);
	/* Both sides only read the old buffer: the writer may be at it. */
	d->cur = d->buf[d->fill % d->nbuf];
	d->civ = d->iov[d->fill % d->nbuf];
	d->niov = 0;
	memcpy(d->cur, old + d->used - keep, keep);
	d->off += d->used - keep;
	d->used = keep;
	d->kept = keep;
	return 0;
}

int zcap_dump_flush(zcap_dumper_t *d)
{
	if (d->failed)
		return -1;
	if ((d->used > d->kept || d->niov) &&
	    hand_off(d, d->regular ? d->used & (DUMP_ALIGN - 1) : 0))
		return -1;
	return writer_wait(d);
}

int zcap_dump_push(zcap_dumper_t *d)
{
	if (d->failed)
		return -1;
	/* without refs nothing waits on a buffer that is not full */
	if (!d->refs || !d->niov)
		return 0;
	return hand_off(d, 0);
}

uint64_t zcap_dump_done(const zcap_dumper_t *d)
{
	if (!d->refs)
		return d->recs;
	return __atomic_load_n(&d->recs_done, __ATOMIC_ACQUIRE);
}

/* refs: one more piece for the chunk, joined to the last where it goes on
 * from it (a trailer and the next header, both in buf[]). The caller made
 * room (iov_room()). */
static void iov_add(zcap_dumper_t *d, const void *p, size_t n)
{
	if (d->niov) {
		struct iovec *v = &d->civ[d->niov - 1];

		if ((const uint8_t *)v->iov_base + v->iov_len == p) {
			v->iov_len += n;
			return;
		}
	}
	d->civ[d->niov++] = (struct iovec){ (void *)p, n };
}

/* Room for want more pieces: a chunk ends where a record would not fit,
 * so that a record rarely spans two writes. */
static int iov_room(zcap_dumper_t *d, unsigned int want)
{
	return d->niov + want <= DUMP_IOV || hand_off(d, 0) == 0;
}

/* Appends n bytes, handing each buffer to the writer as it fills. */
static int emit(zcap_dumper_t *d, const void *p, size_t n)
{
	const uint8_t *s = p;

	d->bytes += n;
	while (n > 0) {
		size_t k = d->bufsize - d->used;

		if (k > n)
			k = n;
		if (d->refs && !iov_room(d, 1))
			return -1;
		memcpy(d->cur + d->used, s, k);
		if (d->refs)
			iov_add(d, d->cur + d->used, k);
		d->used += k;
		s += k;
		n -= k;
		if (d->used == d->bufsize && hand_off(d, 0))
			return -1;
	}
	return 0;
}

/* One option at p, value padded to 4 bytes. Returns the bytes used. */
static size_t opt_put(uint8_t *p, uint16_t code, const void *val, size_t len)
{
	put16(p, code);
	put16(p + 2, (uint16_t)len);
	if (len)
		memcpy(p + 4, val, len);
	memset(p + 4 + len, 0, pad4(len));
	return 4 + len + pad4(len);
}

static size_t opt_str(uint8_t *p, uint16_t code, const char *s)
{
	return opt_put(p, code, s, strnlen(s, OPT_STR_MAX));
}

static size_t opt_u64(uint8_t *p, uint16_t code, uint64_t v)
{
	return opt_put(p, code, &v, sizeof(v));
}

/* pcapng timestamps are two 32-bit halves, high first, not one uint64. */
static size_t opt_ts(uint8_t *p, uint16_t code, uint64_t ts)
{
	uint32_t v[2] = { (uint32_t)(ts >> 32), (uint32_t)ts };

	return opt_put(p, code, v, sizeof(v));
}

/* Fills in type and both length fields of a block built in b. */
static int emit_block(zcap_dumper_t *d, uint8_t *b, uint32_t type, size_t len)
{
	put32(b, type);
	put32(b + 4, (uint32_t)(len + 4));
	put32(b + len, (uint32_t)(len + 4));
	return emit(d, b, len + 4);
}

static int write_pcap_header(zcap_dumper_t *d, int linktype)
{
	uint8_t h[24];

	put32(h, d->nsec ? PCAP_MAGIC_NS : PCAP_MAGIC_US);
	put16(h + 4, 2);
	put16(h + 6, 4);
	put32(h + 8, 0);	/* thiszone */
	put32(h + 12, 0);	/* sigfigs */
	put32(h + 16, d->snaplen);
	put32(h + 20, (uint32_t)linktype);
	return emit(d, h, sizeof(h));
}

static int write_shb(zcap_dumper_t *d, const char *app)
{
	uint8_t b[HDR_BLOCK_MAX];
	char os[OPT_STR_MAX];
	struct utsname u;
	size_t n = 8;

	put32(b + n, PCAPNG_BOM);
	put16(b + n + 4, 1);
	put16(b + n + 6, 0);
	put64(b + n + 8, UINT64_MAX);	/* section length unknown */
	n += 16;
	if (uname(&u) == 0) {
		snprintf(os, sizeof(os), "%s %s", u.sysname, u.release);
		n += opt_str(b + n, SHB_OS, os);
	}
	n += opt_str(b + n, SHB_USERAPPL, app ? app : "zcap " ZCAP_VERSION);
	n += opt_put(b + n, OPT_ENDOFOPT, NULL, 0);
	return emit_block(d, b, PCAPNG_SHB, n);
}

static int write_idb(zcap_dumper_t *d, int linktype, const char *ifname)
{
	uint8_t b[HDR_BLOCK_MAX];
	uint8_t tsresol = 9;
	size_t n = 8;

	put16(b + n, (uint16_t)linktype);
	put16(b + n + 2, 0);
	put32(b + n + 4, d->snaplen);
	n += 8;
	if (ifname && *ifname)
		n += opt_str(b + n, IF_NAME, ifname);
	n += opt_put(b + n, IF_TSRESOL, &tsresol, 1);
	n += opt_put(b + n, OPT_ENDOFOPT, NULL, 0);
	return emit_block(d, b, PCAPNG_IDB, n);
}

static int write_isb(zcap_dumper_t *d, uint32_t ifid, const struct zcap_stats *st,
		     uint64_t start_ns, uint64_t end_ns)
{
	uint8_t b[256];
	size_t n = 8;

	put32(b + n, ifid);
	put32(b + n + 4, (uint32_t)(end_ns >> 32));
	put32(b + n + 8, (uint32_t)end_ns);
	n += 12;
	/* A zero time would read as 1970: better to leave it out. */
	if (start_ns)
		n += opt_ts(b + n, ISB_STARTTIME, start_ns);
	if (end_ns)
		n += opt_ts(b + n, ISB_ENDTIME, end_ns);
	n += opt_u64(b + n, ISB_IFRECV,
		     st->received + st->drop_ring_full + st->filtered);
	n += opt_u64(b + n, ISB_IFDROP, st->drop_if);
	n += opt_u64(b + n, ISB_FILTERACCEPT, st->received + st->drop_ring_full);
	n += opt_u64(b + n, ISB_OSDROP, st->drop_ring_full);
	n += opt_u64(b + n, ISB_USRDELIV, st->received);
	n += opt_put(b + n, OPT_ENDOFOPT, NULL, 0);
	return emit_block(d, b, PCAPNG_ISB, n);
}

static int write_file_header(zcap_dumper_t *d)
{
	if (d->fmt == ZCAP_FMT_PCAP)
		return write_pcap_header(d, d->linktype);
	if (write_shb(d, d->app))
		return -1;
	for (uint32_t i = 0; i < d->nifs; i++)
		if (write_idb(d, d->linktype, d->ifnames[i]))
			return -1;
	return 0;
}

/* ---- rotation, the filler's side ---- */

/* The current file's name, after tcpdump's MakeFilename(). */
static char *rot_name(zcap_dumper_t *d)
{
	char base[4096], *name;
	size_t n;

	if (d->rot.interval_ns) {
		time_t t = (time_t)(d->file_ns / 1000000000u);
		struct tm tm;

		n = localtime_r(&t, &tm) ?
			strftime(base, sizeof(base), d->path, &tm) : 0;
		if (!n && *d->path) {
			errno = ENAMETOOLONG;
			return NULL;
		}
	} else {
		n = (size_t)snprintf(base, sizeof(base), "%s", d->path);
		if (n >= sizeof(base)) {
			errno = ENAMETOOLONG;
			return NULL;
		}
	}
	if (!d->rot.max_bytes || (!d->ccount && !d->wchars))
		return strdup(base);
	if (asprintf(&name, "%s%0*u", base, d->wchars, d->ccount) < 0)
		return NULL;
	return name;
}

/*
 * Ends the current file before the next record: what the buffer holds goes
 * to the writer as the old file's end, and the next buffer begins the new
 * file with its header. Returns 0, ZCAP_DUMP_END, or -1.
 */
static int rot_next(zcap_dumper_t *d, uint64_t now_ns, int by_time)
{
	char *name;

	if (d->rot.max_files && d->files >= d->rot.max_files) {
		d->ended = 1;
		return ZCAP_DUMP_END;
	}
	if (by_time) {
		d->file_ns = now_ns;
		d->ccount = 0;
	} else if (++d->ccount == d->rot.ring_files) {
		d->ccount = 0;
	}
	name = rot_name(d);
	if (!name)
		return dump_fail(d, "next file after", errno);
	if (d->used > d->kept && hand_off(d, 0)) {
		free(name);
		return -1;
	}
	d->used = 0;
	d->kept = 0;
	d->off = 0;
	free(d->next_name);
	d->next_name = name;
	d->files++;
	d->file_base = d->bytes;
	d->file_recs = 0;
	return write_file_header(d);
}

/* Before a record of rec bytes stamped ts: a new file first? */
static int rot_check(zcap_dumper_t *d, uint64_t ts, size_t rec)
{
	if (d->ended)
		return ZCAP_DUMP_END;
	if (d->rot.interval_ns && ts >= d->file_ns &&
	    ts - d->file_ns >= d->rot.interval_ns)
		return rot_next(d, ts, 1);
	if (d->rot.max_bytes && d->file_recs &&
	    d->bytes - d->file_base + rec > d->rot.max_bytes)
		return rot_next(d, ts, 0);
	return 0;
}

int zcap_dump_tick(zcap_dumper_t *d, uint64_t now_ns)
{
	if (d->failed)
		return -1;
	if (!d->rotating || !d->rot.interval_ns)
		return 0;
	if (d->ended)
		return ZCAP_DUMP_END;
	if (now_ns >= d->file_ns && now_ns - d->file_ns >= d->rot.interval_ns)
		return rot_next(d, now_ns, 1);
	return 0;
}

unsigned int zcap_dump_files(const zcap_dumper_t *d)
{
	return d->rotating ? d->files : 1;
}

/* Counting digits of ring_files - 1, as tcpdump's -W names do. */
static int digits_below(uint32_t n)
{
	int c = 0;

	for (n = n ? n - 1 : 0; n; n /= 10)
		c++;
	return c;
}

static void set_err(char *errbuf, const char *fmt, const char *path, int err)
{
	if (errbuf)
		snprintf(errbuf, ZCAP_ERRBUF_SIZE, fmt, path, strerror(err));
	errno = err;
}

/*
 * A buffer in whole huge pages where the kernel has them: an O_DIRECT write
 * of a 4 MiB buffer in 4 KiB pages took 3.4 ms (median, strace) where dd's
 * took 2.1 on the same disk beside the same traffic; the device gets one
 * segment a huge page instead of one a page.
 */
#define DUMP_HUGE (2u << 20)

static void *buf_map(size_t n)
{
	uint8_t *p = mmap(NULL, n + DUMP_HUGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;
	size_t head;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + DUMP_HUGE - 1) & ~(uintptr_t)(DUMP_HUGE - 1);
	head = a - (uintptr_t)p;
	if (head)
		munmap(p, head);
	munmap((uint8_t *)a + n, DUMP_HUGE - head);
	(void)madvise((void *)a, n, MADV_HUGEPAGE);	/* a hint: 4 KiB pages work */
	return (void *)a;
}

static void dump_free(zcap_dumper_t *d)
{
	unsigned int i;

	writer_stop(d, 2);
	for (i = 0; i < DUMP_NBUF_MAX; i++) {
		if (d->buf[i])
			munmap(d->buf[i], d->bufsize);
		free(d->iov[i]);
		free(d->chunk[i].open);
	}
	free(d->next_name);
	free(d->fname);
	free(d->tname);
	for (i = 0; d->ifnames && i < d->nifs; i++)
		free(d->ifnames[i]);
	free(d->ifnames);
	free(d->app);
	pthread_cond_destroy(&d->freed);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d->path);
	free(d);
}

/* Where path's bytes will go is not a regular file: stdout on a pipe or
 * a terminal, a fifo, a device. A path that does not exist yet will be a
 * regular file. Only the buffers' size hangs on this. */
static int is_stream(const char *path)
{
	struct stat sb;

	if (!strcmp(path, "-"))
		return fstat(STDOUT_FILENO, &sb) == 0 && !S_ISREG(sb.st_mode);
	return stat(path, &sb) == 0 && !S_ISREG(sb.st_mode);
}

static zcap_dumper_t *dump_alloc(const char *path, enum zcap_format fmt,
				 const struct zcap_dump_info *info)
{
	zcap_dumper_t *d = calloc(1, sizeof(*d));
	size_t n = info->bufsize;
	unsigned int i;
	int bad = 0;

	if (!d)
		return NULL;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->wake, NULL);
	pthread_cond_init(&d->freed, NULL);
	d->fd = -1;
	d->fmt = fmt;
	d->nsec = fmt == ZCAP_FMT_PCAP && info->nsec;
	d->snaplen = info->snaplen ? info->snaplen : ZCAP_SNAPLEN_MAX;
	d->nbuf = 2;
	if (!n && is_stream(path)) {
		d->nbuf = DUMP_STREAM_NBUF;
		n = DUMP_STREAM_BUF;
	} else if (!n) {
		n = ZCAP_DUMP_DEFAULT_BUF;
	}
	if (n > SIZE_MAX - DUMP_ALIGN)
		n = SIZE_MAX - DUMP_ALIGN;
	d->bufsize = (n + DUMP_ALIGN - 1) & ~(size_t)(DUMP_ALIGN - 1);
	d->is_stdout = strcmp(path, "-") == 0;
	d->path = strdup(path);
	d->linktype = info->linktype;
	d->nifs = info->n_ifnames ? info->n_ifnames : 1;
	d->ifnames = calloc(d->nifs, sizeof(*d->ifnames));
	bad |= !d->ifnames;
	for (i = 0; d->ifnames && i < d->nifs; i++) {
		const char *name = info->n_ifnames ? info->ifnames[i] : info->ifname;

		if (name && !(d->ifnames[i] = strdup(name)))
			bad = 1;
	}
	if (info->app && !(d->app = strdup(info->app)))
		bad = 1;
	for (i = 0; i < d->nbuf; i++)
		bad |= !(d->buf[i] = buf_map(d->bufsize));
	if (!d->path || bad) {
		dump_free(d);
		return NULL;
	}
	d->cur = d->buf[0];
	return d;
}

/* Before the file header, which then starts the first chunk's list. */
static int refs_alloc(zcap_dumper_t *d)
{
	for (unsigned int i = 0; i < d->nbuf; i++)
		if (!(d->iov[i] = malloc(DUMP_IOV * sizeof(struct iovec))))
			return -1;
	d->refs = 1;
	d->civ = d->iov[0];
	return 0;
}

#define DUMP_ROTATE_KNOWN zcap_offsetofend(struct zcap_dump_rotate, arg)

/* Opens the first file of a rotation under its part name. */
static int rot_open(zcap_dumper_t *d, const struct zcap_dump_rotate *rot,
		    char *errbuf)
{
	struct timespec now;

	if (zcap_opts_copy(&d->rot, DUMP_ROTATE_KNOWN, rot,
			   "struct zcap_dump_rotate", errbuf))
		return -1;
	if (d->is_stdout) {
		set_err(errbuf, "cannot rotate %s: %s (rotation writes files)",
			"stdout", EINVAL);
		return -1;
	}
	d->rotating = 1;
	d->wchars = d->rot.max_bytes ? digits_below(d->rot.ring_files) : 0;
	clock_gettime(CLOCK_REALTIME, &now);
	d->file_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	d->files = 1;
	d->fname = rot_name(d);
	d->tname = d->fname ? part_name(d->fname) : NULL;
	if (!d->tname) {
		set_err(errbuf, "cannot name a file after %s: %s", d->path,
			d->fname ? ENOMEM : errno);
		return -1;
	}
	if (not_regular(d->fname)) {
		set_err(errbuf, "cannot rotate onto %s: %s (not a regular file)",
			d->fname, EEXIST);
		return -1;
	}
	if (open_file(d, d->tname)) {
		set_err(errbuf, "cannot create %s: %s", d->tname, errno);
		return -1;
	}
	d->regular = 1;
	d->may_unlink = 1;
	return 0;
}

#define DUMP_INFO_KNOWN zcap_offsetofend(struct zcap_dump_info, refs)

zcap_dumper_t *zcap_dump_open(const char *path, enum zcap_format fmt,
			      const struct zcap_dump_info *opts, char *errbuf)
{
	struct zcap_dump_info info_copy, *info = &info_copy;
	zcap_dumper_t *d;

	if (!path || !opts || (fmt != ZCAP_FMT_PCAP && fmt != ZCAP_FMT_PCAPNG)) {
		set_err(errbuf, "cannot create %s: %s", path ? path : "(null)",
			EINVAL);
		return NULL;
	}
	if (zcap_opts_copy(info, DUMP_INFO_KNOWN, opts, "struct zcap_dump_info",
			   errbuf))
		return NULL;
	if (info->n_ifnames > 1 && fmt != ZCAP_FMT_PCAPNG) {
		set_err(errbuf, "cannot create %s: %s (several interfaces need "
			"pcapng)", path, EINVAL);
		return NULL;
	}
	if (info->n_ifnames && !info->ifnames) {
		set_err(errbuf, "cannot create %s: %s (n_ifnames without ifnames)",
			path, EINVAL);
		return NULL;
	}
	/* Allocate first so that a failure here never leaves a file behind. */
	d = dump_alloc(path, fmt, info);
	if (!d) {
		set_err(errbuf, "cannot create %s: %s", path, ENOMEM);
		return NULL;
	}
	if (info->rotate) {
		if (rot_open(d, info->rotate, errbuf)) {
			int err = errno;

			zcap_dump_abort(d);
			errno = err;
			return NULL;
		}
	} else if (d->is_stdout) {
		d->fd = STDOUT_FILENO;
	} else {
		if (open_file(d, path)) {
			int err = errno;

			dump_free(d);
			set_err(errbuf, "cannot create %s: %s", path, err);
			return NULL;
		}
		d->regular = is_regular(d->fd);
		d->may_unlink = d->regular;
	}
	if (info->refs && !d->regular && !d->rotating && refs_alloc(d)) {
		dump_free(d);
		set_err(errbuf, "cannot create %s: %s", path, ENOMEM);
		return NULL;
	}
	/* Headers fit one buffer: this only copies. */
	if (write_file_header(d)) {
		if (errbuf)
			snprintf(errbuf, ZCAP_ERRBUF_SIZE, "%s", d->err);
		zcap_dump_abort(d);
		return NULL;
	}
	writer_start(d);
	return d;
}

/*
 * Emits the packet's bytes, putting back a VLAN tag the kernel stripped, and
 * cut to n bytes (the record's caplen).
 */
/* The packet's own bytes: copied, or with refs pointed at. */
static int emit_pkt(zcap_dumper_t *d, const uint8_t *p, size_t n)
{
	if (!d->refs)
		return emit(d, p, n);
	d->bytes += n;
	if (!n)
		return 0;
	if (!iov_room(d, 1))
		return -1;
	iov_add(d, p, n);
	return 0;
}

static int emit_data(zcap_dumper_t *d, const struct zcap_pkt *pkt, int vlan,
		     size_t n)
{
	uint8_t tag[VLAN_TAG_LEN];
	uint16_t tpid = pkt->vlan_tpid ? pkt->vlan_tpid : 0x8100;

	if (!vlan || n <= VLAN_OFFSET)
		return emit_pkt(d, pkt->data, n);
	if (emit_pkt(d, pkt->data, VLAN_OFFSET))
		return -1;
	n -= VLAN_OFFSET;
	tag[0] = tpid >> 8;
	tag[1] = tpid & 0xff;
	tag[2] = pkt->vlan_tci >> 8;
	tag[3] = pkt->vlan_tci & 0xff;
	if (emit(d, tag, n < VLAN_TAG_LEN ? n : VLAN_TAG_LEN))
		return -1;
	if (n <= VLAN_TAG_LEN)
		return 0;
	return emit_pkt(d, pkt->data + VLAN_OFFSET, n - VLAN_TAG_LEN);
}

static int write_pcap_rec(zcap_dumper_t *d, const struct zcap_pkt *pkt,
			  int vlan, uint32_t caplen, uint32_t len)
{
	uint32_t frac = (uint32_t)(pkt->ts_ns % 1000000000u);
	uint8_t h[16];

	put32(h, (uint32_t)(pkt->ts_ns / 1000000000u));
	put32(h + 4, d->nsec ? frac : frac / 1000);
	put32(h + 8, caplen);
	put32(h + 12, len);
	if (emit(d, h, sizeof(h)))
		return -1;
	return emit_data(d, pkt, vlan, caplen);
}

static int write_epb(zcap_dumper_t *d, const struct zcap_pkt *pkt, int vlan,
		     uint32_t caplen, uint32_t len, uint32_t ifid)
{
	static const uint8_t zero[4];
	uint32_t total = 32 + caplen + (uint32_t)pad4(caplen);
	uint8_t h[28];

	put32(h, PCAPNG_EPB);
	put32(h + 4, total);
	put32(h + 8, ifid);
	put32(h + 12, (uint32_t)(pkt->ts_ns >> 32));
	put32(h + 16, (uint32_t)pkt->ts_ns);
	put32(h + 20, caplen);
	put32(h + 24, len);
	if (emit(d, h, sizeof(h)) || emit_data(d, pkt, vlan, caplen) ||
	    emit(d, zero, pad4(caplen)))
		return -1;
	return emit(d, &total, sizeof(total));
}

static inline int dump_write(zcap_dumper_t *d, const struct zcap_pkt *pkt,
			     uint32_t ifid)
{
	int vlan = (pkt->flags & ZCAP_PKT_VLAN) && pkt->caplen >= VLAN_OFFSET;
	uint32_t caplen = pkt->caplen + (vlan ? VLAN_TAG_LEN : 0);
	uint32_t len = pkt->len + (vlan ? VLAN_TAG_LEN : 0);

	if (d->failed)
		return -1;
	/* The tag can push a full-size packet past snaplen; readers reject
	 * or cut such records, so cut it here as the kernel would have. */
	if (caplen > d->snaplen)
		caplen = d->snaplen;
	if (d->rotating) {
		size_t rec = d->fmt == ZCAP_FMT_PCAP ? 16 + caplen :
			     32 + caplen + pad4(caplen);
		int r = rot_check(d, pkt->ts_ns, rec);

		if (r)
			return r;
		d->file_recs++;
	}
	if (d->refs && !iov_room(d, DUMP_IOV_RECORD))
		return -1;
	if (d->fmt == ZCAP_FMT_PCAP ? write_pcap_rec(d, pkt, vlan, caplen, len) :
	    write_epb(d, pkt, vlan, caplen, len, ifid))
		return -1;
	d->recs++;
	return 0;
}

int zcap_dump_write(zcap_dumper_t *d, const struct zcap_pkt *pkt)
{
	return dump_write(d, pkt, 0);
}

int zcap_dump_write_if(zcap_dumper_t *d, const struct zcap_pkt *pkt,
		       uint32_t ifid)
{
	if (ifid >= d->nifs) {
		errno = EINVAL;
		return -1;
	}
	return dump_write(d, pkt, ifid);
}

int zcap_dump_stats(zcap_dumper_t *d, uint32_t ifid, const struct zcap_stats *st,
		    uint64_t start_ns, uint64_t end_ns)
{
	if (d->failed)
		return -1;
	if (ifid >= d->nifs || !st) {
		errno = EINVAL;
		return -1;
	}
	if (d->fmt != ZCAP_FMT_PCAPNG)
		return 0;
	return write_isb(d, ifid, st, start_ns, end_ns);
}

static int dump_finish(zcap_dumper_t *d)
{
	int ret = zcap_dump_flush(d);

	writer_stop(d, 1);
	/* Never close the caller's stdout. */
	if (d->is_stdout)
		return ret;
	if (d->rotating && !d->failed && d->fd >= 0) {
		if (rot_finish(d)) {
			d->failed = 1;
			ret = -1;
		}
		return ret;
	}
	if (d->fd >= 0 && close(d->fd) && !d->failed)
		ret = dump_fail(d, "close", errno);
	d->fd = -1;
	return ret;
}

/* What a failed dumper removes: the file being written, never a finished
 * one of a rotation. */
static const char *dump_victim(const zcap_dumper_t *d)
{
	return d->rotating ? d->tname : d->path;
}

int zcap_dump_close(zcap_dumper_t *d, const struct zcap_stats *st,
		    uint64_t start_ns, uint64_t end_ns)
{
	int ret;

	if (!d)
		return 0;
	if (!d->failed && st && d->fmt == ZCAP_FMT_PCAPNG)
		write_isb(d, 0, st, start_ns, end_ns);
	ret = dump_finish(d);
	if (d->failed) {
		ret = -1;
		if (d->may_unlink && dump_victim(d))
			unlink(dump_victim(d));
	}
	dump_free(d);
	return ret;
}

void zcap_dump_abort(zcap_dumper_t *d)
{
	if (!d)
		return;
	writer_stop(d, 2);
	if (!d->is_stdout && d->fd >= 0)
		close(d->fd);
	if (d->may_unlink && dump_victim(d))
		unlink(dump_victim(d));
	dump_free(d);
}

const char *zcap_dump_geterr(const zcap_dumper_t *d)
{
	return d->err;
}

uint64_t zcap_dump_bytes(const zcap_dumper_t *d)
{
	return d->bytes;
}

enum zcap_format zcap_format_from_path(const char *path)
{
	static const char ext[] = ".pcapng";
	size_t n = path ? strlen(path) : 0;

	if (n >= sizeof(ext) - 1 &&
	    strcasecmp(path + n - (sizeof(ext) - 1), ext) == 0)
		return ZCAP_FMT_PCAPNG;
	return ZCAP_FMT_PCAP;
}
