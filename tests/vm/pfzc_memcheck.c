// SPDX-License-Identifier: MIT
/*
 * The memory check after a teardown under traffic: no DMA may land in
 * pages the kernel gave back. Fills MB of fresh anonymous memory (which
 * the freed umem pages are likely part of, in a small VM) with a pattern
 * that names each page, waits SECONDS while the NIC keeps receiving, and
 * reads it all back.
 *
 *   pfzc_memcheck MB SECONDS
 *
 * Prints one TAP line; exits 1 when a page changed (and says which and
 * what is in it, as an Ethernet frame would show).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t word(size_t page, size_t i)
{
	return (page * 0x9e3779b97f4a7c15ull) ^ (i * 0xc2b2ae3d27d4eb4full) ^
	       0x7a63617000000000ull;
}

int main(int argc, char **argv)
{
	size_t mb, bytes, pages, psz = (size_t)sysconf(_SC_PAGESIZE), bad = 0;
	unsigned int secs;
	uint64_t *m;

	if (argc != 3 || !(mb = strtoul(argv[1], NULL, 10)) ||
	    !(secs = (unsigned int)strtoul(argv[2], NULL, 10))) {
		fprintf(stderr, "usage: pfzc_memcheck MB SECONDS\n");
		return 2;
	}
	bytes = mb << 20;
	pages = bytes / psz;
	m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (m == MAP_FAILED) {
		printf("not ok - memcheck: mmap of %zu MiB failed\n", mb);
		return 1;
	}
	for (size_t p = 0; p < pages; p++)
		for (size_t i = 0; i < psz / 8; i++)
			m[p * (psz / 8) + i] = word(p, i);
	sleep(secs);
	for (size_t p = 0; p < pages; p++) {
		for (size_t i = 0; i < psz / 8; i++) {
			uint64_t v = m[p * (psz / 8) + i];

			if (v == word(p, i))
				continue;
			if (bad++ < 5)
				printf("# page %zu word %zu: %016llx, not %016llx\n",
				       p, i, (unsigned long long)v,
				       (unsigned long long)word(p, i));
			break;
		}
	}
	if (bad) {
		printf("not ok - memcheck: %zu of %zu pages (%zu MiB) changed in %u s\n",
		       bad, pages, mb, secs);
		return 1;
	}
	printf("ok - memcheck: %zu pages (%zu MiB) unchanged after %u s\n",
	       pages, mb, secs);
	return 0;
}
