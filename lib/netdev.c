/* SPDX-License-Identifier: MIT */
/*
 * What the kernel says about an interface, outside any backend: its link
 * type, and its counters (to report drops that happen before any capture
 * point, and to estimate what a kernel filter rejected).
 *
 * /proc/self/net/dev rather than sysfs: it follows the caller's network
 * namespace even when /sys was mounted for another one.
 */
#include <errno.h>
#include <net/if_arp.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"

int zcap_netdev_counters(const char *ifname, struct zcap_netdev_counters *c)
{
	unsigned long long v[16];
	char line[512];
	size_t n = strlen(ifname);
	int found = -1;
	FILE *f;

	f = fopen("/proc/self/net/dev", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line;

		while (*p == ' ')
			p++;
		if (strncmp(p, ifname, n) || p[n] != ':')
			continue;
		/* rx: bytes packets errs drop fifo frame compressed multicast
		 * tx: bytes packets errs drop fifo colls carrier compressed */
		if (sscanf(p + n + 1, "%llu %llu %llu %llu %llu %llu %llu %llu "
			   "%llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7],
			   &v[8], &v[9], &v[10], &v[11], &v[12], &v[13], &v[14],
			   &v[15]) == 16) {
			c->rx_packets = v[1];
			c->rx_dropped = v[3] + v[4];
			c->tx_packets = v[9];
			found = 0;
		}
		break;
	}
	fclose(f);
	if (found)
		errno = ENODEV;
	return found;
}

int zcap_netdev_mtu(const char *ifname)
{
	struct ifreq ifr;
	int fd, rc;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	rc = ioctl(fd, SIOCGIFMTU, &ifr);
	close(fd);
	return rc < 0 ? -1 : ifr.ifr_mtu;
}

int zcap_netdev_linktype(const char *ifname, int *dlt, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd, rc;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", ifname, strerror(errno));
		return -1;
	}
	switch (ifr.ifr_hwaddr.sa_family) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:	/* loopback frames carry an Ethernet header */
		*dlt = DLT_EN10MB;
		return 0;
	default:
		snprintf(err, errlen, "%s: link type %u is not supported "
			 "(only Ethernet-framed interfaces)", ifname,
			 ifr.ifr_hwaddr.sa_family);
		errno = EOPNOTSUPP;
		return -1;
	}
}
