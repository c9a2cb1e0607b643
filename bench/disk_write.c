/* disk_write: the disk's sequential write rate as zcap's writer gets it
 * (bench/run.sh's "disk just before" column; issue 15).
 *
 *   disk_write FILE MIB
 *
 * Writes MIB MiB of random bytes to FILE (created, truncated, removed
 * after) in 4 MiB pwrite()s with O_DIRECT, one at a time, from a buffer in
 * transparent huge pages: what lib/dump.c does for a regular file. dd
 * writes from 4 KiB pages, which cost zcap's writer 3.4 ms where huge
 * pages took 0.8-2 ms a write on this disk, so dd's figure is no ceiling
 * for zcap. Prints "disk_write: mbs=N" (MB/s, 10^6 bytes) on stdout.
 */
#define _GNU_SOURCE	/* O_DIRECT */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (4u << 20)
#define HUGE (2u << 20)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint8_t *map, *buf;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	long mib;
	int fd;
	double t0, t;

	if (argc != 3 || (mib = strtol(argv[2], NULL, 10)) < 4) {
		fprintf(stderr, "usage: disk_write FILE MIB (MIB >= 4)\n");
		return 2;
	}
	map = mmap(NULL, CHUNK + HUGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		perror("disk_write: mmap");
		return 1;
	}
	buf = (uint8_t *)(((uintptr_t)map + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
	(void)madvise(buf, CHUNK, MADV_HUGEPAGE);
	for (size_t i = 0; i < CHUNK; i += 8) {	/* xorshift64: no zeros to skip */
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		memcpy(buf + i, &x, 8);
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "disk_write: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	t0 = now();
	for (long k = 0; k < mib / 4; k++) {
		memcpy(buf, &k, sizeof(k));	/* no two chunks alike */
		for (size_t done = 0; done < CHUNK;) {
			ssize_t r = pwrite(fd, buf + done, CHUNK - done,
					   (off_t)k * CHUNK + (off_t)done);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				fprintf(stderr, "disk_write: %s: %s\n", argv[1],
					r < 0 ? strerror(errno) : "short write");
				unlink(argv[1]);
				return 1;
			}
			done += (size_t)r;
		}
	}
	t = now() - t0;
	close(fd);
	unlink(argv[1]);
	printf("disk_write: mbs=%.1f\n", (double)(mib / 4) * CHUNK / t / 1e6);
	return 0;
}
