/* SPDX-License-Identifier: MIT */
/*
 * Setting up a PF_ZEROCOPY socket (lib/pfzc_common.h), for both directions.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "pfzc_common.h"

#define PFZC_FAMILY_PARAM "/sys/module/pf_zerocopy/parameters/family"

/* The family is a module parameter: ask the module, not a constant. */
static int pfzc_family(char *err)
{
	FILE *f = fopen(PFZC_FAMILY_PARAM, "re");
	int fam = -1;

	if (!f) {
		zcap_errf(err, "the pf_zerocopy module is not loaded");
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (fscanf(f, "%d", &fam) != 1 || fam <= 0) {
		zcap_errf(err, "cannot read %s", PFZC_FAMILY_PARAM);
		fam = -1;
	}
	fclose(f);
	if (fam < 0)
		errno = EAFNOSUPPORT;
	return fam;
}

int pfzc_sock_open(struct pfzc_sock *s, const char *ifname, char *err)
{
	uint32_t ver = 0;
	socklen_t len = sizeof(ver);

	s->family = pfzc_family(err);
	if (s->family < 0)
		return -1;
	s->fd = socket(s->family, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (s->fd < 0) {
		if (errno == EPERM || errno == EACCES)
			zcap_errf(err, "%s: no permission to open a PF_ZEROCOPY socket "
				  "(needs root or CAP_NET_RAW)", ifname);
		else
			zcap_errf(err, "socket(PF_ZEROCOPY %d): %s", s->family,
				  strerror(errno));
		return -1;
	}
	if (getsockopt(s->fd, SOL_PFZC, PFZC_VERSION, &ver, &len) ||
	    ver != PFZC_ABI_VERSION) {
		zcap_errf(err, "pf_zerocopy module speaks ABI %u, libzcap %u", ver,
			  PFZC_ABI_VERSION);
		errno = EPROTO;
		return -1;
	}
	return 0;
}

int pfzc_sock_umem(struct pfzc_sock *s, const char *ifname, uint32_t entries,
		   uint32_t frame_size, char *err)
{
	struct pfzc_umem_reg reg;

	s->frame_size = frame_size;
	s->umem_len = (size_t)entries * frame_size;
	s->umem = mmap(NULL, s->umem_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (s->umem == MAP_FAILED) {
		s->umem = NULL;
		zcap_errf(err, "cannot allocate a %zu-byte frame buffer: %s",
			  s->umem_len, strerror(errno));
		return -1;
	}
	memset(&reg, 0, sizeof(reg));
	reg.addr = (uintptr_t)s->umem;
	reg.len = s->umem_len;
	reg.frame_size = frame_size;
	if (setsockopt(s->fd, SOL_PFZC, PFZC_UMEM_REG, &reg, sizeof(reg))) {
		zcap_errf(err, "%s: cannot register %zu bytes of frames: %s%s", ifname,
			  s->umem_len, strerror(errno),
			  errno == ENOBUFS ? " (RLIMIT_MEMLOCK)" : "");
		return -1;
	}
	return 0;
}

int pfzc_sock_ring(struct pfzc_sock *s, const char *ifname, int which,
		   uint32_t entries, char *err)
{
	const char *name = which == PFZC_TX_RING ? "tx" : "rx";
	uint64_t pgoff = which == PFZC_TX_RING ? PFZC_PGOFF_TX_RING : PFZC_PGOFF_RX_RING;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (setsockopt(s->fd, SOL_PFZC, which, &entries, sizeof(entries))) {
		zcap_errf(err, "%s: cannot create the %s ring: %s", ifname, name,
			  strerror(errno));
		return -1;
	}
	s->map_len = (pfzc_ring_map_size(entries) + page - 1) & ~(page - 1);
	s->map = mmap(NULL, s->map_len, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_POPULATE, s->fd, (off_t)(pgoff * page));
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		zcap_errf(err, "%s: cannot map the %s ring: %s", ifname, name,
			  strerror(errno));
		return -1;
	}
	if (pfzc_ring_init(&s->ring, s->map, entries)) {
		zcap_errf(err, "%s: the %s ring is not the one asked for", ifname, name);
		errno = EPROTO;
		return -1;
	}
	return 0;
}

int pfzc_sock_bind(struct pfzc_sock *s, const char *ifname, int ifindex, char *err)
{
	struct sockaddr_pfzc sa;

	memset(&sa, 0, sizeof(sa));
	sa.spz_family = (uint16_t)s->family;
	sa.spz_ifindex = (uint32_t)ifindex;
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	if (errno == EBUSY)	/* a driver's direct receiver: one per device */
		zcap_errf(err, "%s: another PF_ZEROCOPY socket already receives "
			  "directly from this device", ifname);
	else
		zcap_errf(err, "%s: bind: %s", ifname, strerror(errno));
	return -1;
}

void pfzc_sock_close(struct pfzc_sock *s)
{
	if (s->map)
		munmap(s->map, s->map_len);
	s->map = NULL;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	/* after close: the module unpins the frames when the socket goes */
	if (s->umem)
		munmap(s->umem, s->umem_len);
	s->umem = NULL;
}
