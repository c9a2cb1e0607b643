/* SPDX-License-Identifier: MIT */
/*
 * What the kernel says about an interface, outside any backend, for both
 * directions: its index, link type, MTU and state, and its counters (to
 * report drops that happen before any capture point or after any sender,
 * and to estimate what a kernel filter rejected).
 *
 * Counters come from /proc/self/net/dev rather than sysfs: it follows the
 * caller's network namespace even when /sys was mounted for another one.
 * The rest comes from ioctls on a socket, which are per namespace too.
 */
#include <errno.h>
#include <net/if.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
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
			c->tx_dropped = v[11] + v[12];
			found = 0;
		}
		break;
	}
	fclose(f);
	if (found)
		errno = ENODEV;
	return found;
}

/* An ioctl on ifname; -1 with errno when it fails. */
static int netdev_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd, rc, saved;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	rc = ioctl(fd, req, ifr);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int zcap_netdev_index(const char *ifname, char *err)
{
	int i = (int)if_nametoindex(ifname);

	if (!i) {
		zcap_errf(err, "%s: no such interface", ifname);
		errno = ENODEV;
	}
	return i;
}

int zcap_netdev_is_veth(const char *ifname)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr;
	int fd, rc;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&info;
	rc = ioctl(fd, SIOCETHTOOL, &ifr);
	close(fd);
	return rc == 0 && !strcmp(info.driver, "veth");
}

int zcap_netdev_mtu(const char *ifname)
{
	struct ifreq ifr;

	return netdev_ioctl(ifname, SIOCGIFMTU, &ifr) < 0 ? -1 : ifr.ifr_mtu;
}

int zcap_netdev_linktype(const char *ifname, int *dlt, char *err)
{
	struct ifreq ifr;

	if (netdev_ioctl(ifname, SIOCGIFHWADDR, &ifr) < 0) {
		zcap_errf(err, "%s: %s", ifname, strerror(errno));
		return -1;
	}
	switch (ifr.ifr_hwaddr.sa_family) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:	/* loopback frames carry an Ethernet header */
		*dlt = DLT_EN10MB;
		return 0;
	default:
		zcap_errf(err, "%s: link type %u is not supported "
			  "(only Ethernet-framed interfaces)", ifname,
			  ifr.ifr_hwaddr.sa_family);
		errno = EOPNOTSUPP;
		return -1;
	}
}

int zcap_netdev_promisc(int ifindex, const char *ifname, char *err)
{
	struct packet_mreq mr = {
		.mr_ifindex = ifindex,
		.mr_type = PACKET_MR_PROMISC,
	};
	int fd, saved;

	/* Protocol 0: the socket receives nothing, it only holds the mode. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd >= 0 && setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
				  sizeof(mr)) == 0)
		return fd;
	saved = errno;
	zcap_errf(err, "%s: promiscuous mode: %s%s", ifname, strerror(saved),
		  saved == EPERM ? " (needs root or CAP_NET_RAW)" : "");
	if (fd >= 0)
		close(fd);
	errno = saved;
	return -1;
}

int zcap_netdev_tx_ready(const char *ifname, char *err)
{
	struct ifreq ifr;
	int mtu;

	if (netdev_ioctl(ifname, SIOCGIFHWADDR, &ifr) < 0) {
		zcap_errf(err, "%s: cannot read the link type: %s", ifname,
			  strerror(errno));
		return -1;
	}
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		zcap_errf(err, "%s: not an Ethernet interface", ifname);
		errno = EOPNOTSUPP;
		return -1;
	}
	if (netdev_ioctl(ifname, SIOCGIFMTU, &ifr) < 0) {
		zcap_errf(err, "%s: cannot read the MTU: %s", ifname, strerror(errno));
		return -1;
	}
	mtu = ifr.ifr_mtu;
	/* A down interface or a veth whose peer is down would take nothing,
	 * and every kick would fail until the stall limit. */
	if (netdev_ioctl(ifname, SIOCGIFFLAGS, &ifr) < 0) {
		zcap_errf(err, "%s: cannot read the flags: %s", ifname, strerror(errno));
		return -1;
	}
	if (!(ifr.ifr_flags & IFF_UP)) {
		zcap_errf(err, "%s: interface is down", ifname);
		errno = ENETDOWN;
		return -1;
	}
	if (!(ifr.ifr_flags & IFF_RUNNING)) {
		zcap_errf(err, "%s: no carrier (for veth: is the peer up?)", ifname);
		errno = ENETDOWN;
		return -1;
	}
	return mtu;
}
