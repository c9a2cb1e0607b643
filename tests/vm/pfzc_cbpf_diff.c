// SPDX-License-Identifier: MIT
/*
 * pfzc_cbpf_diff: the module's classic BPF (kmod/cbpf.c, run on the direct
 * path over a flat frame) against the kernel's (run on the skb by an
 * AF_PACKET tap), for the VM tests (tests/vm/guest/72-pfzc-cbpf-diff.sh).
 *
 *   pfzc_cbpf_diff TXIF RXIF [NRANDOM [SEED]]
 *
 * TXIF and RXIF are the module's virtual pair (zc0, zc1). Every program of
 * a set (libpcap-compiled filters, a few written by hand, NRANDOM random
 * ones the kernel's checker accepts) is attached in turn, and the same
 * frames (untagged, 802.1Q, 802.1ad, double-tagged, short, IPv4, IPv6,
 * ARP, LLC) are sent on TXIF with an AF_PACKET socket:
 *
 *  1. direct path: a PF_ZEROCOPY socket with an rx ring bound to RXIF, the
 *     program on it; the pair writes each frame into its ring, no skb;
 *  2. skb path: that socket closed, an AF_PACKET socket on RXIF with the
 *     same program; frames go up the stack (skb_vlan_untag() first).
 *
 * Per program and frame: accepted or not on each, and the bytes captured.
 * The skb path delivers the frame without its outer tag (the tag in the
 * auxdata); the direct path keeps it inline, and kmod/cbpf.c maps the
 * filter's value v to v + 4 (capped at the wire length) when v >= 12.
 * So the direct capture must be the skb capture with the tag put back at
 * byte 12 when at least 12 bytes were captured, and nothing else. The
 * first differences are printed as TAP comments.
 *
 * Frames are told apart by their wire length, unique in the set (on the
 * skb path: tp_len, plus 4 when the auxdata holds a tag). Frames of 1 to
 * 13 bytes cannot be sent on an Ethernet device (EINVAL from AF_PACKET and
 * from the pfzc tx paths): checked, and not part of the comparison.
 *
 * The libpcap filters below were compiled by tcpdump 4.99.3 / libpcap
 * 1.10.3 (the host's): "live" ones with
 *     tcpdump -i lo -s SNAP -dd 'FILTER'
 * (a Linux capture: VLAN tests use the SKF_AD_VLAN_* loads), "file" ones
 * with
 *     tcpdump -r empty-en10mb.pcap -s SNAP -dd 'FILTER'
 * (no special VLAN handling: they look for the tag in the frame bytes).
 * Embedded so the test needs no libpcap in the VM.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pfzc_ring.h"

#include "pfzc_test.h"

#define MAXF		64	/* frames in the set */
#define FRAME_MAX	1600
#define SENTINEL_LEN	1200
#define SENTINEL_TYPE	0x88b6
#define RING_N		512
#define FS		PFZC_FRAME_SIZE

struct prog {
	const char *name;
	const struct sock_filter *code;
	unsigned int len;
};

static const struct prog pcap_progs[] = {
	{ "live -s 262144: vlan", (const struct sock_filter[]) {
		{ 0x30, 0, 0, 0xfffff030 },
		{ 0x15, 4, 0, 0x00000001 },
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 2, 0, 0x00008100 },
		{ 0x15, 1, 0, 0x000088a8 },
		{ 0x15, 0, 1, 0x00009100 },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 8 },
	{ "file -s 262144: vlan", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 2, 0, 0x00008100 },
		{ 0x15, 1, 0, 0x000088a8 },
		{ 0x15, 0, 1, 0x00009100 },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 6 },
	{ "live -s 262144: vlan 10 and ip", (const struct sock_filter[]) {
		{ 0x0, 0, 0, 0x00000000 },
		{ 0x2, 0, 0, 0x00000001 },
		{ 0x30, 0, 0, 0xfffff030 },
		{ 0x15, 6, 0, 0x00000001 },
		{ 0x0, 0, 0, 0x00000004 },
		{ 0x2, 0, 0, 0x00000001 },
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 2, 0, 0x00008100 },
		{ 0x15, 1, 0, 0x000088a8 },
		{ 0x15, 0, 11, 0x00009100 },
		{ 0x30, 0, 0, 0xfffff030 },
		{ 0x15, 0, 2, 0x00000001 },
		{ 0x30, 0, 0, 0xfffff02c },
		{ 0x5, 0, 0, 0x00000001 },
		{ 0x28, 0, 0, 0x0000000e },
		{ 0x54, 0, 0, 0x00000fff },
		{ 0x15, 0, 4, 0x0000000a },
		{ 0x61, 0, 0, 0x00000001 },
		{ 0x48, 0, 0, 0x0000000c },
		{ 0x15, 0, 1, 0x00000800 },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 22 },
	{ "file -s 262144: vlan 10 and ip", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 2, 0, 0x00008100 },
		{ 0x15, 1, 0, 0x000088a8 },
		{ 0x15, 0, 6, 0x00009100 },
		{ 0x28, 0, 0, 0x0000000e },
		{ 0x54, 0, 0, 0x00000fff },
		{ 0x15, 0, 3, 0x0000000a },
		{ 0x28, 0, 0, 0x00000010 },
		{ 0x15, 0, 1, 0x00000800 },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 11 },
	{ "live -s 262144: ip", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 1, 0x00000800 },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 4 },
	{ "file -s 262144: ip", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 1, 0x00000800 },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 4 },
	{ "live -s 262144: udp port 9", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 6, 0x000086dd },
		{ 0x30, 0, 0, 0x00000014 },
		{ 0x15, 0, 15, 0x00000011 },
		{ 0x28, 0, 0, 0x00000036 },
		{ 0x15, 12, 0, 0x00000009 },
		{ 0x28, 0, 0, 0x00000038 },
		{ 0x15, 10, 11, 0x00000009 },
		{ 0x15, 0, 10, 0x00000800 },
		{ 0x30, 0, 0, 0x00000017 },
		{ 0x15, 0, 8, 0x00000011 },
		{ 0x28, 0, 0, 0x00000014 },
		{ 0x45, 6, 0, 0x00001fff },
		{ 0xb1, 0, 0, 0x0000000e },
		{ 0x48, 0, 0, 0x0000000e },
		{ 0x15, 2, 0, 0x00000009 },
		{ 0x48, 0, 0, 0x00000010 },
		{ 0x15, 0, 1, 0x00000009 },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 20 },
	{ "file -s 262144: udp port 9", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 6, 0x000086dd },
		{ 0x30, 0, 0, 0x00000014 },
		{ 0x15, 0, 15, 0x00000011 },
		{ 0x28, 0, 0, 0x00000036 },
		{ 0x15, 12, 0, 0x00000009 },
		{ 0x28, 0, 0, 0x00000038 },
		{ 0x15, 10, 11, 0x00000009 },
		{ 0x15, 0, 10, 0x00000800 },
		{ 0x30, 0, 0, 0x00000017 },
		{ 0x15, 0, 8, 0x00000011 },
		{ 0x28, 0, 0, 0x00000014 },
		{ 0x45, 6, 0, 0x00001fff },
		{ 0xb1, 0, 0, 0x0000000e },
		{ 0x48, 0, 0, 0x0000000e },
		{ 0x15, 2, 0, 0x00000009 },
		{ 0x48, 0, 0, 0x00000010 },
		{ 0x15, 0, 1, 0x00000009 },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 20 },
	{ "live -s 262144: ether proto 0x8100", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 1, 0x00008100 },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 4 },
	{ "file -s 262144: ether proto 0x8100", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 1, 0x00008100 },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 4 },
	{ "live -s 262144: greater 100", (const struct sock_filter[]) {
		{ 0x80, 0, 0, 0x00000000 },
		{ 0x35, 0, 1, 0x00000064 },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 4 },
	{ "file -s 262144: greater 100", (const struct sock_filter[]) {
		{ 0x80, 0, 0, 0x00000000 },
		{ 0x35, 0, 1, 0x00000064 },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 4 },
	{ "live -s 262144: ip[0] & 0xf != 5", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 4, 0x00000800 },
		{ 0x30, 0, 0, 0x0000000e },
		{ 0x54, 0, 0, 0x0000000f },
		{ 0x15, 1, 0, 0x00000005 },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 7 },
	{ "file -s 262144: ip[0] & 0xf != 5", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 4, 0x00000800 },
		{ 0x30, 0, 0, 0x0000000e },
		{ 0x54, 0, 0, 0x0000000f },
		{ 0x15, 1, 0, 0x00000005 },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 7 },
	{ "live -s 262144: tcp", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 2, 0x00000800 },
		{ 0x30, 0, 0, 0x00000017 },
		{ 0x15, 6, 7, 0x00000006 },
		{ 0x15, 0, 6, 0x000086dd },
		{ 0x30, 0, 0, 0x00000014 },
		{ 0x15, 3, 0, 0x00000006 },
		{ 0x15, 0, 3, 0x0000002c },
		{ 0x30, 0, 0, 0x00000036 },
		{ 0x15, 0, 1, 0x00000006 },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 12 },
	{ "file -s 262144: tcp", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 2, 0x00000800 },
		{ 0x30, 0, 0, 0x00000017 },
		{ 0x15, 6, 7, 0x00000006 },
		{ 0x15, 0, 6, 0x000086dd },
		{ 0x30, 0, 0, 0x00000014 },
		{ 0x15, 3, 0, 0x00000006 },
		{ 0x15, 0, 3, 0x0000002c },
		{ 0x30, 0, 0, 0x00000036 },
		{ 0x15, 0, 1, 0x00000006 },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 12 },
	{ "live -s 262144: arp", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 1, 0x00000806 },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 4 },
	{ "file -s 262144: arp", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 1, 0x00000806 },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 4 },
	{ "live -s 262144: vlan and udp", (const struct sock_filter[]) {
		{ 0x0, 0, 0, 0x00000000 },
		{ 0x2, 0, 0, 0x00000000 },
		{ 0x2, 0, 0, 0x00000001 },
		{ 0x30, 0, 0, 0xfffff030 },
		{ 0x15, 7, 0, 0x00000001 },
		{ 0x0, 0, 0, 0x00000004 },
		{ 0x2, 0, 0, 0x00000000 },
		{ 0x2, 0, 0, 0x00000001 },
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 2, 0, 0x00008100 },
		{ 0x15, 1, 0, 0x000088a8 },
		{ 0x15, 0, 15, 0x00009100 },
		{ 0x61, 0, 0, 0x00000001 },
		{ 0x48, 0, 0, 0x0000000c },
		{ 0x15, 0, 3, 0x00000800 },
		{ 0x61, 0, 0, 0x00000000 },
		{ 0x50, 0, 0, 0x00000017 },
		{ 0x15, 8, 9, 0x00000011 },
		{ 0x15, 0, 8, 0x000086dd },
		{ 0x61, 0, 0, 0x00000000 },
		{ 0x50, 0, 0, 0x00000014 },
		{ 0x15, 4, 0, 0x00000011 },
		{ 0x15, 0, 4, 0x0000002c },
		{ 0x61, 0, 0, 0x00000000 },
		{ 0x50, 0, 0, 0x00000036 },
		{ 0x15, 0, 1, 0x00000011 },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 28 },
	{ "file -s 262144: vlan and udp", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 2, 0, 0x00008100 },
		{ 0x15, 1, 0, 0x000088a8 },
		{ 0x15, 0, 11, 0x00009100 },
		{ 0x28, 0, 0, 0x00000010 },
		{ 0x15, 0, 2, 0x00000800 },
		{ 0x30, 0, 0, 0x0000001b },
		{ 0x15, 6, 7, 0x00000011 },
		{ 0x15, 0, 6, 0x000086dd },
		{ 0x30, 0, 0, 0x00000018 },
		{ 0x15, 3, 0, 0x00000011 },
		{ 0x15, 0, 3, 0x0000002c },
		{ 0x30, 0, 0, 0x0000003a },
		{ 0x15, 0, 1, 0x00000011 },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 16 },
	{ "live -s 262144: ip6", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 1, 0x000086dd },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 4 },
	{ "file -s 262144: ip6", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 1, 0x000086dd },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 4 },
	{ "live -s 262144: less 60", (const struct sock_filter[]) {
		{ 0x80, 0, 0, 0x00000000 },
		{ 0x25, 0, 1, 0x0000003c },
		{ 0x6, 0, 0, 0x00000000 },
		{ 0x6, 0, 0, 0x00040000 },
	}, 4 },
	{ "file -s 262144: less 60", (const struct sock_filter[]) {
		{ 0x80, 0, 0, 0x00000000 },
		{ 0x25, 0, 1, 0x0000003c },
		{ 0x6, 0, 0, 0x00000000 },
		{ 0x6, 0, 0, 0x0000ffff },
	}, 4 },
	{ "live -s 262144: ether broadcast", (const struct sock_filter[]) {
		{ 0x20, 0, 0, 0x00000002 },
		{ 0x15, 0, 3, 0xffffffff },
		{ 0x28, 0, 0, 0x00000000 },
		{ 0x15, 0, 1, 0x0000ffff },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 6 },
	{ "file -s 262144: ether broadcast", (const struct sock_filter[]) {
		{ 0x20, 0, 0, 0x00000002 },
		{ 0x15, 0, 3, 0xffffffff },
		{ 0x28, 0, 0, 0x00000000 },
		{ 0x15, 0, 1, 0x0000ffff },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 6 },
	{ "live -s 262144: ether multicast", (const struct sock_filter[]) {
		{ 0x30, 0, 0, 0x00000000 },
		{ 0x45, 0, 1, 0x00000001 },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 4 },
	{ "file -s 262144: ether multicast", (const struct sock_filter[]) {
		{ 0x30, 0, 0, 0x00000000 },
		{ 0x45, 0, 1, 0x00000001 },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 4 },
	{ "live -s 262144: vlan 100 and vlan 10", (const struct sock_filter[]) {
		{ 0x0, 0, 0, 0x00000000 },
		{ 0x2, 0, 0, 0x00000000 },
		{ 0x2, 0, 0, 0x00000001 },
		{ 0x30, 0, 0, 0xfffff030 },
		{ 0x15, 7, 0, 0x00000001 },
		{ 0x0, 0, 0, 0x00000004 },
		{ 0x2, 0, 0, 0x00000000 },
		{ 0x2, 0, 0, 0x00000001 },
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 2, 0, 0x00008100 },
		{ 0x15, 1, 0, 0x000088a8 },
		{ 0x15, 0, 17, 0x00009100 },
		{ 0x30, 0, 0, 0xfffff030 },
		{ 0x15, 0, 2, 0x00000001 },
		{ 0x30, 0, 0, 0xfffff02c },
		{ 0x5, 0, 0, 0x00000001 },
		{ 0x28, 0, 0, 0x0000000e },
		{ 0x54, 0, 0, 0x00000fff },
		{ 0x15, 0, 10, 0x00000064 },
		{ 0x61, 0, 0, 0x00000001 },
		{ 0x48, 0, 0, 0x0000000c },
		{ 0x15, 2, 0, 0x00008100 },
		{ 0x15, 1, 0, 0x000088a8 },
		{ 0x15, 0, 5, 0x00009100 },
		{ 0x61, 0, 0, 0x00000000 },
		{ 0x48, 0, 0, 0x0000000e },
		{ 0x54, 0, 0, 0x00000fff },
		{ 0x15, 0, 1, 0x0000000a },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 30 },
	{ "file -s 262144: vlan 100 and vlan 10", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 2, 0, 0x00008100 },
		{ 0x15, 1, 0, 0x000088a8 },
		{ 0x15, 0, 11, 0x00009100 },
		{ 0x28, 0, 0, 0x0000000e },
		{ 0x54, 0, 0, 0x00000fff },
		{ 0x15, 0, 8, 0x00000064 },
		{ 0x28, 0, 0, 0x00000010 },
		{ 0x15, 2, 0, 0x00008100 },
		{ 0x15, 1, 0, 0x000088a8 },
		{ 0x15, 0, 4, 0x00009100 },
		{ 0x28, 0, 0, 0x00000012 },
		{ 0x54, 0, 0, 0x00000fff },
		{ 0x15, 0, 1, 0x0000000a },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 16 },
	{ "live -s 262144: not vlan", (const struct sock_filter[]) {
		{ 0x30, 0, 0, 0xfffff030 },
		{ 0x15, 4, 0, 0x00000001 },
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 2, 0, 0x00008100 },
		{ 0x15, 1, 0, 0x000088a8 },
		{ 0x15, 0, 1, 0x00009100 },
		{ 0x6, 0, 0, 0x00000000 },
		{ 0x6, 0, 0, 0x00040000 },
	}, 8 },
	{ "file -s 262144: not vlan", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 2, 0, 0x00008100 },
		{ 0x15, 1, 0, 0x000088a8 },
		{ 0x15, 0, 1, 0x00009100 },
		{ 0x6, 0, 0, 0x00000000 },
		{ 0x6, 0, 0, 0x0000ffff },
	}, 6 },
	{ "live -s 262144: ip and ip[9] = 17", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 3, 0x00000800 },
		{ 0x30, 0, 0, 0x00000017 },
		{ 0x15, 0, 1, 0x00000011 },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 6 },
	{ "file -s 262144: ip and ip[9] = 17", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 3, 0x00000800 },
		{ 0x30, 0, 0, 0x00000017 },
		{ 0x15, 0, 1, 0x00000011 },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 6 },
	{ "live -s 262144: tcp[tcpflags] & tcp-syn != 0", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 8, 0x00000800 },
		{ 0x30, 0, 0, 0x00000017 },
		{ 0x15, 0, 6, 0x00000006 },
		{ 0x28, 0, 0, 0x00000014 },
		{ 0x45, 4, 0, 0x00001fff },
		{ 0xb1, 0, 0, 0x0000000e },
		{ 0x50, 0, 0, 0x0000001b },
		{ 0x45, 0, 1, 0x00000002 },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 11 },
	{ "file -s 262144: tcp[tcpflags] & tcp-syn != 0", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 8, 0x00000800 },
		{ 0x30, 0, 0, 0x00000017 },
		{ 0x15, 0, 6, 0x00000006 },
		{ 0x28, 0, 0, 0x00000014 },
		{ 0x45, 4, 0, 0x00001fff },
		{ 0xb1, 0, 0, 0x0000000e },
		{ 0x50, 0, 0, 0x0000001b },
		{ 0x45, 0, 1, 0x00000002 },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 11 },
	{ "live -s 262144: udp[8:2] = 0x1234", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 8, 0x00000800 },
		{ 0x30, 0, 0, 0x00000017 },
		{ 0x15, 0, 6, 0x00000011 },
		{ 0x28, 0, 0, 0x00000014 },
		{ 0x45, 4, 0, 0x00001fff },
		{ 0xb1, 0, 0, 0x0000000e },
		{ 0x48, 0, 0, 0x00000016 },
		{ 0x15, 0, 1, 0x00001234 },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 11 },
	{ "file -s 262144: udp[8:2] = 0x1234", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 8, 0x00000800 },
		{ 0x30, 0, 0, 0x00000017 },
		{ 0x15, 0, 6, 0x00000011 },
		{ 0x28, 0, 0, 0x00000014 },
		{ 0x45, 4, 0, 0x00001fff },
		{ 0xb1, 0, 0, 0x0000000e },
		{ 0x48, 0, 0, 0x00000016 },
		{ 0x15, 0, 1, 0x00001234 },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 11 },
	{ "live -s 262144: ether[12:2] = 0x0800", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 1, 0x00000800 },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 4 },
	{ "file -s 262144: ether[12:2] = 0x0800", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 1, 0x00000800 },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 4 },
	{ "live -s 262144: inbound", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0xfffff004 },
		{ 0x15, 0, 1, 0x00000004 },
		{ 0x6, 0, 0, 0x00000000 },
		{ 0x6, 0, 0, 0x00040000 },
	}, 4 },
	{ "live -s 262144: ether host 02:00:00:00:00:01", (const struct sock_filter[]) {
		{ 0x20, 0, 0, 0x00000008 },
		{ 0x15, 0, 2, 0x00000001 },
		{ 0x28, 0, 0, 0x00000006 },
		{ 0x15, 4, 0, 0x00000200 },
		{ 0x20, 0, 0, 0x00000002 },
		{ 0x15, 0, 3, 0x00000001 },
		{ 0x28, 0, 0, 0x00000000 },
		{ 0x15, 0, 1, 0x00000200 },
		{ 0x6, 0, 0, 0x00040000 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 10 },
	{ "file -s 262144: ether host 02:00:00:00:00:01", (const struct sock_filter[]) {
		{ 0x20, 0, 0, 0x00000008 },
		{ 0x15, 0, 2, 0x00000001 },
		{ 0x28, 0, 0, 0x00000006 },
		{ 0x15, 4, 0, 0x00000200 },
		{ 0x20, 0, 0, 0x00000002 },
		{ 0x15, 0, 3, 0x00000001 },
		{ 0x28, 0, 0, 0x00000000 },
		{ 0x15, 0, 1, 0x00000200 },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 10 },
	{ "live -s 12: vlan", (const struct sock_filter[]) {
		{ 0x30, 0, 0, 0xfffff030 },
		{ 0x15, 4, 0, 0x00000001 },
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 2, 0, 0x00008100 },
		{ 0x15, 1, 0, 0x000088a8 },
		{ 0x15, 0, 1, 0x00009100 },
		{ 0x6, 0, 0, 0x0000000c },
		{ 0x6, 0, 0, 0x00000000 },
	}, 8 },
	{ "live -s 13: vlan", (const struct sock_filter[]) {
		{ 0x30, 0, 0, 0xfffff030 },
		{ 0x15, 4, 0, 0x00000001 },
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 2, 0, 0x00008100 },
		{ 0x15, 1, 0, 0x000088a8 },
		{ 0x15, 0, 1, 0x00009100 },
		{ 0x6, 0, 0, 0x0000000d },
		{ 0x6, 0, 0, 0x00000000 },
	}, 8 },
	{ "live -s 50: vlan 10 and ip", (const struct sock_filter[]) {
		{ 0x0, 0, 0, 0x00000000 },
		{ 0x2, 0, 0, 0x00000001 },
		{ 0x30, 0, 0, 0xfffff030 },
		{ 0x15, 6, 0, 0x00000001 },
		{ 0x0, 0, 0, 0x00000004 },
		{ 0x2, 0, 0, 0x00000001 },
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 2, 0, 0x00008100 },
		{ 0x15, 1, 0, 0x000088a8 },
		{ 0x15, 0, 11, 0x00009100 },
		{ 0x30, 0, 0, 0xfffff030 },
		{ 0x15, 0, 2, 0x00000001 },
		{ 0x30, 0, 0, 0xfffff02c },
		{ 0x5, 0, 0, 0x00000001 },
		{ 0x28, 0, 0, 0x0000000e },
		{ 0x54, 0, 0, 0x00000fff },
		{ 0x15, 0, 4, 0x0000000a },
		{ 0x61, 0, 0, 0x00000001 },
		{ 0x48, 0, 0, 0x0000000c },
		{ 0x15, 0, 1, 0x00000800 },
		{ 0x6, 0, 0, 0x00000032 },
		{ 0x6, 0, 0, 0x00000000 },
	}, 22 },
	{ "file -s 16: ip", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 1, 0x00000800 },
		{ 0x6, 0, 0, 0x0000ffff },
		{ 0x6, 0, 0, 0x00000000 },
	}, 4 },
	{ "live -s 11: ", (const struct sock_filter[]) {
		{ 0x6, 0, 0, 0x0000000b },
	}, 1 },
	{ "live -s 14: ip", (const struct sock_filter[]) {
		{ 0x28, 0, 0, 0x0000000c },
		{ 0x15, 0, 1, 0x00000800 },
		{ 0x6, 0, 0, 0x0000000e },
		{ 0x6, 0, 0, 0x00000000 },
	}, 4 },
	{ "live -s 1: ", (const struct sock_filter[]) {
		{ 0x6, 0, 0, 0x00000001 },
	}, 1 },
};

#define AD(x)	((uint32_t)(SKF_AD_OFF + (x)))
#define NET(x)	((uint32_t)(SKF_NET_OFF + (x)))
#define LL(x)	((uint32_t)(SKF_LL_OFF + (x)))
#define S(c, jt, jf, k)	{ (c), (jt), (jf), (k) }
#define HAND(name, ...) { name, (const struct sock_filter[]) { __VA_ARGS__ }, \
	sizeof((const struct sock_filter[]) { __VA_ARGS__ }) / sizeof(struct sock_filter) }

/* Loads libpcap does not emit, each returning what it loaded as the snap. */
static const struct prog hand_progs[] = {
	HAND("ret ld protocol", S(BPF_LD | BPF_H | BPF_ABS, 0, 0, AD(SKF_AD_PROTOCOL)), S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("ret ld vlan_tci", S(BPF_LD | BPF_W | BPF_ABS, 0, 0, AD(SKF_AD_VLAN_TAG)), S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("ret ld vlan_tpid", S(BPF_LD | BPF_B | BPF_ABS, 0, 0, AD(SKF_AD_VLAN_TPID)), S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("ret ld vlan_avail + 12", S(BPF_LD | BPF_W | BPF_ABS, 0, 0, AD(SKF_AD_VLAN_TAG_PRESENT)),
	     S(BPF_ALU | BPF_ADD | BPF_K, 0, 0, 12), S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("ret ld poff", S(BPF_LD | BPF_W | BPF_ABS, 0, 0, AD(SKF_AD_PAY_OFFSET)), S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("ret ld pkttype + 1", S(BPF_LD | BPF_W | BPF_ABS, 0, 0, AD(SKF_AD_PKTTYPE)),
	     S(BPF_ALU | BPF_ADD | BPF_K, 0, 0, 1), S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("ret ld len", S(BPF_LD | BPF_W | BPF_LEN, 0, 0, 0), S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("ret ldh [12]", S(BPF_LD | BPF_H | BPF_ABS, 0, 0, 12), S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("ret ld [10] (straddles the tag)", S(BPF_LD | BPF_W | BPF_ABS, 0, 0, 10),
	     S(BPF_ALU | BPF_AND | BPF_K, 0, 0, 0x7ff), S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("ret ldb [net+0]", S(BPF_LD | BPF_B | BPF_ABS, 0, 0, NET(0)), S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("ret ldh [ll+12]", S(BPF_LD | BPF_H | BPF_ABS, 0, 0, LL(12)), S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("ret ldh [net+2] & 0x7ff", S(BPF_LD | BPF_H | BPF_ABS, 0, 0, NET(2)),
	     S(BPF_ALU | BPF_AND | BPF_K, 0, 0, 0x7ff), S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("ldxb 4*([net+0]&0xf); ret ldb [x+net+9]", S(BPF_LDX | BPF_B | BPF_MSH, 0, 0, NET(0)),
	     S(BPF_LD | BPF_B | BPF_IND, 0, 0, NET(9)), S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("ldx #-1; ret ldb [x+ll+15]", S(BPF_LDX | BPF_W | BPF_IMM, 0, 0, 0xffffffff),
	     S(BPF_LD | BPF_B | BPF_IND, 0, 0, LL(15)), S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("ret ldb [net+len-15]", S(BPF_LDX | BPF_W | BPF_LEN, 0, 0, 0),
	     S(BPF_LD | BPF_B | BPF_IND, 0, 0, NET(-15)), S(BPF_ALU | BPF_ADD | BPF_K, 0, 0, 1),
	     S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("ret ldb [len-1]+1", S(BPF_LDX | BPF_W | BPF_LEN, 0, 0, 0),
	     S(BPF_LD | BPF_B | BPF_IND, 0, 0, 0xffffffff), S(BPF_ALU | BPF_ADD | BPF_K, 0, 0, 1),
	     S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("nlattr(14, 3) + 1", S(BPF_LD | BPF_IMM, 0, 0, 14), S(BPF_LDX | BPF_IMM, 0, 0, 3),
	     S(BPF_LD | BPF_W | BPF_ABS, 0, 0, AD(SKF_AD_NLATTR)), S(BPF_ALU | BPF_ADD | BPF_K, 0, 0, 1),
	     S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("nlattr_nest(14, 2) + 1", S(BPF_LD | BPF_IMM, 0, 0, 14), S(BPF_LDX | BPF_IMM, 0, 0, 2),
	     S(BPF_LD | BPF_W | BPF_ABS, 0, 0, AD(SKF_AD_NLATTR_NEST)), S(BPF_ALU | BPF_ADD | BPF_K, 0, 0, 1),
	     S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("x = 40; a = 1 << x; ret a", S(BPF_LDX | BPF_IMM, 0, 0, 40), S(BPF_LD | BPF_IMM, 0, 0, 1),
	     S(BPF_ALU | BPF_LSH | BPF_X, 0, 0, 0), S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("ret ifindex + hatype", S(BPF_LD | BPF_W | BPF_ABS, 0, 0, AD(SKF_AD_IFINDEX)), S(BPF_MISC | BPF_TAX, 0, 0, 0),
	     S(BPF_LD | BPF_W | BPF_ABS, 0, 0, AD(SKF_AD_HATYPE)), S(BPF_ALU | BPF_ADD | BPF_X, 0, 0, 0),
	     S(BPF_RET | BPF_A, 0, 0, 0)),
	HAND("ret 13", S(BPF_RET | BPF_K, 0, 0, 13)),
	HAND("ret 12", S(BPF_RET | BPF_K, 0, 0, 12)),
	HAND("ret 17", S(BPF_RET | BPF_K, 0, 0, 17)),
	HAND("ret 0xffffffff", S(BPF_RET | BPF_K, 0, 0, 0xffffffff)),
};

/* --- random programs -------------------------------------------------- */

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

/* SKF_AD_RANDOM is left out: its value differs by nature */
static const uint32_t anc[] = {
	SKF_AD_PROTOCOL, SKF_AD_PKTTYPE, SKF_AD_IFINDEX, SKF_AD_NLATTR,
	SKF_AD_NLATTR_NEST, SKF_AD_MARK, SKF_AD_QUEUE, SKF_AD_HATYPE,
	SKF_AD_RXHASH, SKF_AD_CPU, SKF_AD_ALU_XOR_X, SKF_AD_VLAN_TAG,
	SKF_AD_VLAN_TAG_PRESENT, SKF_AD_PAY_OFFSET, SKF_AD_VLAN_TPID,
};

static uint32_t rnd_off(bool abs)
{
	static const uint32_t far[] = { 40, 46, 50, 60, 63, 100, 127, 200, 1000,
					1513, 1514, 1516, 0x7fffffff, 0xffffffff };

	switch (rnd(8)) {
	case 0: case 1: case 2:
		return rnd(26);			/* around the tag */
	case 3:
		return far[rnd(sizeof(far) / sizeof(far[0]))];
	case 4:
		return NET(rnd(30));
	case 5:
		return LL(rnd(30));
	case 6:
		if (abs)
			return AD(anc[rnd(sizeof(anc) / sizeof(anc[0]))]);
		return rnd(2) ? NET(-(int)rnd(20)) : (uint32_t)-(int)rnd(20);
	default:
		return rnd(2) ? LL(-1) : NET(rnd(2) ? 0x100 : 60);
	}
}

static uint32_t rnd_k(void)
{
	static const uint32_t ks[] = { 0, 1, 2, 3, 4, 5, 10, 12, 13, 14, 16, 20,
				       0x800, 0x806, 0x86dd, 0x8100, 0x88a8, 0x11,
				       0x6, 0xfff, 0xa, 0x14, 60, 100, 0x80000000,
				       0xffffffff, 0x1000, 0x2000 };

	return rnd(4) ? ks[rnd(sizeof(ks) / sizeof(ks[0]))] : (uint32_t)rng;
}

static uint32_t rnd_ret(void)
{
	static const uint32_t rs[] = { 0, 1, 6, 11, 12, 13, 14, 15, 16, 17, 18, 20,
				       40, 60, 64, 100, 0xffff, 0x40000, 0xffffffff };

	return rs[rnd(sizeof(rs) / sizeof(rs[0]))];
}

/* A random classic program of n instructions, valid for sk_chk_filter(). */
static unsigned int rnd_prog(struct sock_filter *p, unsigned int n)
{
	static const uint16_t sizes[] = { BPF_W, BPF_H, BPF_B };
	static const uint16_t alu[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD,
					BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH, BPF_NEG };
	static const uint16_t jmp[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET };
	unsigned int pc = 0, slots = 0, i;

	/* stores first, so that every later load of a slot is on all paths */
	if (rnd(3) == 0) {
		slots = 1 + rnd(3);
		for (i = 0; i < slots; i++) {
			if (rnd(2))
				p[pc++] = (struct sock_filter)S(BPF_LD | BPF_W | BPF_ABS, 0, 0, rnd_off(true));
			else
				p[pc++] = (struct sock_filter)S(BPF_LD | BPF_IMM, 0, 0, rnd_k());
			p[pc++] = (struct sock_filter)S(BPF_ST, 0, 0, i);
		}
	}
	while (pc < n - 1) {
		uint16_t sz = sizes[rnd(3)];
		unsigned int left = n - 1 - pc;	/* instructions after this one */

		switch (rnd(16)) {
		case 0: case 1: case 2: case 3:
			p[pc] = (struct sock_filter)S(BPF_LD | sz | BPF_ABS, 0, 0, rnd_off(true));
			break;
		case 4:
			p[pc] = (struct sock_filter)S(BPF_LD | sz | BPF_IND, 0, 0, rnd_off(false));
			break;
		case 5:
			if (rnd(2)) {
				p[pc] = (struct sock_filter)S(BPF_LD | BPF_IMM, 0, 0, rnd(3) ? rnd(60) : rnd_k());
				break;
			}
			p[pc] = (struct sock_filter)S(rnd(2) ? BPF_LD | BPF_W | BPF_LEN : BPF_LDX | BPF_W | BPF_LEN, 0, 0, 0);
			break;
		case 6: {
			static const uint32_t msh[] = { 14, 18, 22, 0, 12, 13 };

			if (rnd(2))
				p[pc] = (struct sock_filter)S(BPF_LDX | BPF_W | BPF_IMM, 0, 0, rnd(3) ? rnd(48) : rnd_k());
			else
				p[pc] = (struct sock_filter)S(BPF_LDX | BPF_B | BPF_MSH, 0, 0,
					rnd(2) ? NET(0) : rnd(3) ? msh[rnd(6)] : rnd_off(false));
			break;
		}
		case 7:
			if (slots) {
				p[pc] = (struct sock_filter)S((rnd(2) ? BPF_LD : BPF_LDX) | BPF_MEM, 0, 0, rnd(slots));
				break;
			}
			p[pc] = (struct sock_filter)S(rnd(2) ? BPF_ST : BPF_STX, 0, 0, rnd(16));
			break;
		case 8: case 9: case 10: {
			uint16_t op = alu[rnd(11)];
			uint32_t k = rnd(2) ? rnd_k() : rnd(40);

			if (op == BPF_NEG) {
				p[pc] = (struct sock_filter)S(BPF_ALU | BPF_NEG, 0, 0, 0);
				break;
			}
			if (rnd(3) == 0) {
				p[pc] = (struct sock_filter)S(BPF_ALU | op | BPF_X, 0, 0, 0);
				break;
			}
			if ((op == BPF_DIV || op == BPF_MOD) && !k)
				k = 3;
			if (op == BPF_LSH || op == BPF_RSH)
				k &= 31;
			p[pc] = (struct sock_filter)S(BPF_ALU | op | BPF_K, 0, 0, k);
			break;
		}
		case 11: case 12: case 13: {
			uint8_t jt = rnd(left < 255 ? left : 255), jf = rnd(left < 255 ? left : 255);

			if (rnd(8) == 0) {
				p[pc] = (struct sock_filter)S(BPF_JMP | BPF_JA, 0, 0, rnd(left));
				break;
			}
			p[pc] = (struct sock_filter)S(BPF_JMP | jmp[rnd(4)] | (rnd(4) ? BPF_K : BPF_X), jt, jf, rnd_k());
			break;
		}
		case 14:
			p[pc] = (struct sock_filter)S(BPF_MISC | (rnd(2) ? BPF_TAX : BPF_TXA), 0, 0, 0);
			break;
		default:
			p[pc] = (struct sock_filter)(rnd(2) ? (struct sock_filter)S(BPF_RET | BPF_A, 0, 0, 0) :
						     (struct sock_filter)S(BPF_RET | BPF_K, 0, 0, rnd_ret()));
			break;
		}
		pc++;
	}
	p[pc++] = rnd(3) ? (struct sock_filter)S(BPF_RET | BPF_A, 0, 0, 0) :
			   (struct sock_filter)S(BPF_RET | BPF_K, 0, 0, rnd_ret());
	return pc;
}

/* --- frames ------------------------------------------------------------ */

struct frame {
	char name[48];
	uint8_t b[FRAME_MAX];
	unsigned int len;
	int tagged;		/* an outer 0x8100/0x88a8 tag the stack removes */
};

static struct frame fr[MAXF];
static unsigned int nfr;
static uint8_t rx_mac[6];

/* builder: bytes appended to the frame under construction */
static uint8_t *cur;
static unsigned int pos;

static void put8(unsigned int v) { cur[pos++] = v; }
static void put16(unsigned int v) { put8(v >> 8); put8(v); }
static void put32(uint32_t v) { put16(v >> 16); put16(v); }
static void putmac(const uint8_t *m) { memcpy(cur + pos, m, 6); pos += 6; }

static const uint8_t src_mac[6] = { 0x02, 0x5a, 0x43, 0x00, 0x00, 0x10 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 };
static const uint8_t other[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static void begin(const char *name, const uint8_t *dst)
{
	struct frame *f = &fr[nfr];

	snprintf(f->name, sizeof(f->name), "%s", name);
	cur = f->b;
	pos = 0;
	/* the padding: a varied pattern, so that loads past the headers differ */
	for (unsigned int i = 0; i < FRAME_MAX; i++)
		cur[i] = (uint8_t)(i * 37 + 11);
	putmac(dst ? dst : rx_mac);
	putmac(src_mac);
}

static void tag(unsigned int tpid, unsigned int tci)
{
	if (pos == 12)
		fr[nfr].tagged = tpid == 0x8100 || tpid == 0x88a8;
	put16(tpid);
	put16(tci);
}

/* IPv4 header; l4: 0 none, else the protocol with a small header after */
static void ipv4(unsigned int proto, unsigned int ihl, unsigned int frag, unsigned int total)
{
	put16(0x0800);
	put8(0x40 | ihl);
	put8(0);
	put16(total);
	put16(0x1234);
	put16(frag);
	put8(64);
	put8(proto);
	put16(0);
	put32(0xc6120001);
	put32(0xc6120002);
	for (unsigned int i = 5; i < ihl; i++)
		put32(0x01010101);
}

static void ipv6(unsigned int nexthdr)
{
	put16(0x86dd);
	put32(0x60000000);
	put16(40);
	put8(nexthdr);
	put8(64);
	for (int i = 0; i < 32; i++)
		put8(i == 15 || i == 31 ? 1 : 0);
}

static void udp(unsigned int dport)
{
	put16(40000);
	put16(dport);
	put16(20);
	put16(0);
}

static void tcp(unsigned int flags, unsigned int doff)
{
	put16(40001);
	put16(80);
	put32(1);
	put32(0);
	put8(doff << 4);
	put8(flags);
	put16(1024);
	put32(0);
	for (unsigned int i = 5; i < doff; i++)
		put32(0x01010101);
}

static void arp(void)
{
	put16(0x0806);
	put16(1);
	put16(0x0800);
	put8(6);
	put8(4);
	put16(1);
	putmac(src_mac);
	put32(0xc6120001);
	putmac(bcast);
	put32(0xc6120002);
}

/* netlink attributes, for SKF_AD_NLATTR: host order, as the kernel reads */
static void nlattrs(void)
{
	const uint16_t a[] = { 8, 1, 0, 0, 12, 2, 8, 5, 0, 0, 8, 3, 0, 0 };

	for (unsigned int i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
		memcpy(cur + pos, &a[i], 2);
		pos += 2;
	}
}

static void end(unsigned int len)
{
	fr[nfr].len = len;
	nfr++;
}

static void build_frames(void)
{
	begin("ipv4 udp 9", NULL); ipv4(17, 5, 0, 46); udp(9); end(60);
	begin("ipv4 udp 53", NULL); ipv4(17, 5, 0, 87); udp(53); end(101);
	begin("ipv4 udp 9, 100 bytes", NULL); ipv4(17, 5, 0, 86); udp(9); end(100);
	begin("ipv4 tcp syn", NULL); ipv4(6, 5, 0, 40); tcp(0x02, 5); end(54);
	begin("ipv4 tcp ack doff 8", NULL); ipv4(6, 5, 0, 152); tcp(0x10, 8); end(166);
	begin("ipv4 ihl 6 udp 9", NULL); ipv4(17, 6, 0, 56); udp(9); end(70);
	begin("ipv4 later fragment", NULL); ipv4(17, 5, 100, 61); udp(9); end(75);
	begin("ipv4 first fragment tcp", NULL); ipv4(6, 5, 0x2000, 66); tcp(0x18, 6); end(80);
	begin("ipv4 icmp", NULL); ipv4(1, 5, 0, 84); put16(0x0800); end(98);
	begin("arp broadcast", bcast); arp(); end(42);
	begin("ipv6 udp", NULL); ipv6(17); udp(9); end(90);
	begin("ipv6 hop-by-hop tcp", NULL); ipv6(0); put8(6); put8(0); put32(0); put16(0); tcp(0x02, 5); end(110);
	begin("802.1q 10 ipv4 udp 9", NULL); tag(0x8100, 10); ipv4(17, 5, 0, 46); udp(9); end(64);
	begin("802.1q 20 ipv4 tcp", NULL); tag(0x8100, 20); ipv4(6, 5, 0, 102); tcp(0x02, 5); end(120);
	begin("802.1q pcp5 dei 10 arp", bcast); tag(0x8100, 0xb00a); arp(); end(46);
	begin("802.1q 0 ipv4 udp", NULL); tag(0x8100, 0); ipv4(17, 5, 0, 44); udp(9); end(62);
	begin("802.1ad 100 ipv4 udp 9", NULL); tag(0x88a8, 100); ipv4(17, 5, 0, 50); udp(9); end(68);
	begin("802.1ad 100 + 802.1q 10 ipv4 udp 9", NULL); tag(0x88a8, 100); tag(0x8100, 10); ipv4(17, 5, 0, 50); udp(9); end(72);
	begin("802.1q 10 + 802.1q 20 ipv4 tcp", NULL); tag(0x8100, 10); tag(0x8100, 20); ipv4(6, 5, 0, 108); tcp(0x12, 5); end(130);
	begin("802.1q 10 llc nlattrs", NULL); tag(0x8100, 10); put16(32); nlattrs(); end(50);
	begin("802.3 llc nlattrs", NULL); put16(38); nlattrs(); end(52);
	begin("802.3 raw ipx", NULL); put16(42); put16(0xffff); end(56);
	begin("802.1q 30 raw ipx", NULL); tag(0x8100, 30); put16(40); put16(0xffff); end(58);
	begin("ipv4 udp multicast", mcast); ipv4(17, 5, 0, 52); udp(9); end(66);
	begin("ipv4 udp other host", other); ipv4(17, 5, 0, 53); udp(9); end(67);
	begin("802.1q 10 ipv4 udp broadcast", bcast); tag(0x8100, 10); ipv4(17, 5, 0, 51); udp(9); end(69);
	begin("0x9100 tag (kept) ipv4", NULL); tag(0x9100, 10); ipv4(17, 5, 0, 53); udp(9); end(71);
	begin("802.1q 4095 ipv6 udp", NULL); tag(0x8100, 0xfff); ipv6(17); udp(9); end(140);
	begin("ipv4 udp 9, 1514 bytes", NULL); ipv4(17, 5, 0, 1500); udp(9); end(1514);
	begin("802.1q 10 ipv4 udp 9, 1518 bytes", NULL); tag(0x8100, 10); ipv4(17, 5, 0, 1500); udp(9); end(1518);
	begin("ipv4 tcp, 1000 bytes", NULL); ipv4(6, 5, 0, 986); tcp(0x10, 5); end(1000);
	/* short frames: the stack frees a tagged one under 20 bytes */
	begin("short: ipv4", NULL); ipv4(17, 5, 0, 46); end(14);
	begin("short: 802.1q", NULL); tag(0x8100, 10); ipv4(17, 5, 0, 46); end(15);
	begin("short: ipv6", NULL); ipv6(17); end(16);
	begin("short: 802.1q", NULL); tag(0x8100, 10); ipv4(17, 5, 0, 46); end(17);
	begin("short: 802.1ad", NULL); tag(0x88a8, 10); ipv4(17, 5, 0, 46); end(18);
	begin("short: 802.1q", NULL); tag(0x8100, 10); ipv4(17, 5, 0, 46); end(19);
	begin("short: 802.1q ipv4", NULL); tag(0x8100, 10); ipv4(17, 5, 0, 46); end(20);
	begin("short: 802.1ad ipv4", NULL); tag(0x88a8, 10); ipv4(17, 5, 0, 46); end(21);
	begin("short: 802.1q llc", NULL); tag(0x8100, 10); put16(2); put16(0xffff); end(22);
	begin("short: ipv4", NULL); ipv4(17, 5, 0, 46); end(23);
	begin("short: 802.1q ipv4", NULL); tag(0x8100, 10); ipv4(17, 5, 0, 46); end(24);
	begin("short: 802.1q 802.1q", NULL); tag(0x8100, 10); tag(0x8100, 20); end(25);
	begin("short: arp", NULL); arp(); end(26);
}

static int frame_of_len(unsigned int len)
{
	for (unsigned int i = 0; i < nfr; i++)
		if (fr[i].len == len)
			return i;
	return -1;
}

/* --- the two paths ----------------------------------------------------- */

/* Per program and frame; the bytes as a hash, to keep thousands of programs. */
struct result {
	uint16_t len;		/* bytes captured; 0: not captured */
	uint16_t want;		/* skb path: what the direct path must hold */
	uint16_t tci;
	uint8_t vlan;		/* skb path: the auxdata had a tag */
	uint64_t hash;		/* direct: of its bytes; skb: of those it must hold */
};

static struct prog *progs;
static unsigned int nprogs;
static struct result (*res_d)[MAXF], (*res_s)[MAXF];
static int tx_fd, witness_fd;
static unsigned int tx_ifindex, rx_ifindex;
static const uint8_t sentinel_dst[6] = { 0x02, 0x5a, 0x43, 0xff, 0xff, 0xff };

static int packet_socket(unsigned int ifindex, int proto)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(proto),
		.sll_ifindex = ifindex,
	};
	int fd = socket(AF_PACKET, SOCK_RAW, htons(proto));

	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		die("AF_PACKET socket");
	return fd;
}

static int attach(int fd, const struct prog *p)
{
	struct sock_fprog fp = { p->len, (struct sock_filter *)p->code };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp));
}

static void send_frame(const uint8_t *b, unsigned int len)
{
	if (send(tx_fd, b, len, 0) != (ssize_t)len)
		die("send on the tx interface");
}

/* Every frame, then the sentinel, which only the witness looks for. */
static void send_all(void)
{
	uint8_t s[SENTINEL_LEN] = { 0 };

	for (unsigned int i = 0; i < nfr; i++)
		send_frame(fr[i].b, fr[i].len);
	memcpy(s, sentinel_dst, 6);
	memcpy(s + 6, src_mac, 6);
	s[12] = SENTINEL_TYPE >> 8;
	s[13] = SENTINEL_TYPE & 0xff;
	send_frame(s, sizeof(s));
}

/* The witness got the sentinel: all frames before it went through the stack. */
static bool witness_saw_sentinel(int timeout_ms)
{
	struct pollfd pfd = { witness_fd, POLLIN, 0 };
	uint8_t b[64];

	while (poll(&pfd, 1, timeout_ms) > 0) {
		ssize_t n = recv(witness_fd, b, sizeof(b), MSG_DONTWAIT | MSG_TRUNC);

		if (n == SENTINEL_LEN)
			return true;
	}
	return false;
}

/* What the direct path must hold, from what the skb path captured. */
static unsigned int expect_direct(const struct frame *f, const uint8_t *b, unsigned int n,
				  bool vlan, uint8_t *out)
{
	if (!vlan || n < 12) {
		memcpy(out, b, n);
		return n;
	}
	memcpy(out, b, 12);
	memcpy(out + 12, f->b + 12, 4);	/* the tag, back in place */
	memcpy(out + 16, b + 12, n - 12);
	return n + 4 > f->len ? f->len : n + 4;
}

static uint64_t hash(const uint8_t *b, unsigned int n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

static unsigned int bad_desc, foreign, skb_content_bad;

/* 1. the direct path: every program on the PF_ZEROCOPY socket's ring */
static bool run_direct(void)
{
	struct zsock z;
	bool stack = false;

	zsock_open(&z, RING_N, RING_N, 0, rx_ifindex);
	for (unsigned int p = 0; p < nprogs; p++) {
		uint32_t idx, k;

		if (attach(z.fd, &progs[p]))
			die("SO_ATTACH_FILTER on the PF_ZEROCOPY socket");
		/* the pair delivers inside send(): the ring is complete after it */
		send_all();
		while ((k = pfzc_cons_peek(&z.rx, 64, &idx))) {
			for (uint32_t i = 0; i < k; i++) {
				struct pfzc_desc d = *pfzc_cons_desc(&z.rx, idx + i);
				int f = frame_of_len(d.orig_len);

				if (!pfzc_validate_desc(&d, z.umem_len, FS, PFZC_DESC_RX_FLAGS) ||
				    d.len > d.orig_len || !d.len) {
					bad_desc++;
					continue;
				}
				if (f < 0) {
					if (d.orig_len != SENTINEL_LEN)
						foreign++;
					continue;
				}
				res_d[p][f].len = d.len;
				res_d[p][f].hash = hash(z.umem + d.addr, d.len);
			}
			pfzc_cons_release(&z.rx);
		}
		/* frames taken by the direct receiver never reach the stack */
		if (witness_saw_sentinel(0))
			stack = true;
	}
	/* the mapping holds the socket: unmapped and closed, it is released */
	zsock_close(&z);
	return !stack;
}

/* 2. the skb path: the same programs on an AF_PACKET socket */
static bool run_skb(void)
{
	int fd = packet_socket(rx_ifindex, ETH_P_ALL), one = 1, rcvbuf = 4 << 20;

	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)))
		die("PACKET_AUXDATA");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	for (unsigned int p = 0; p < nprogs; p++) {
		uint8_t buf[FRAME_MAX];
		union {
			struct cmsghdr c;
			char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		} cb;

		if (attach(fd, &progs[p]))
			die("SO_ATTACH_FILTER on the AF_PACKET socket");
		send_all();
		if (!witness_saw_sentinel(5000)) {
			/* the stack did not get them: no point in waiting for each */
			printf("# skb path: program %u: no sentinel in 5 s\n", p);
			close(fd);
			return false;
		}
		for (;;) {
			struct iovec iov = { buf, sizeof(buf) };
			struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
					    .msg_control = &cb, .msg_controllen = sizeof(cb) };
			struct tpacket_auxdata *aux = NULL;
			struct cmsghdr *c;
			ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
			uint8_t want[FRAME_MAX + 4];
			struct result *r;
			unsigned int wire;
			int f;

			if (n < 0)
				break;
			for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
				if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA)
					aux = (struct tpacket_auxdata *)CMSG_DATA(c);
			if (!aux) {
				bad_desc++;
				continue;
			}
			wire = aux->tp_len + (aux->tp_status & TP_STATUS_VLAN_VALID ? 4 : 0);
			f = frame_of_len(wire);
			if (f < 0) {
				if (wire != SENTINEL_LEN)
					foreign++;
				continue;
			}
			r = &res_s[p][f];
			r->len = n;
			r->vlan = !!(aux->tp_status & TP_STATUS_VLAN_VALID);
			r->tci = aux->tp_vlan_tci;
			/* the harness itself: the capture is the frame, tag removed */
			if (memcmp(buf, fr[f].b, n < 12 ? n : 12) ||
			    (n > 12 && memcmp(buf + 12, fr[f].b + 12 + (r->vlan ? 4 : 0), n - 12)))
				skb_content_bad++;
			r->want = expect_direct(&fr[f], buf, n, r->vlan, want);
			r->hash = hash(want, r->want);
		}
	}
	close(fd);
	return true;
}

/* --- comparison --------------------------------------------------------- */

static void dump_prog(const struct prog *p)
{
	for (unsigned int i = 0; i < p->len; i++)
		printf("#     { 0x%02x, %u, %u, 0x%08x },\n", p->code[i].code,
		       p->code[i].jt, p->code[i].jf, p->code[i].k);
}

static unsigned int diffs, printed_progs;
static int last_printed = -1;

/* Same verdict and snap for every frame; the first differences shown. */
static unsigned int compare(unsigned int from, unsigned int to)
{
	unsigned int bad = 0;

	for (unsigned int p = from; p < to; p++) {
		for (unsigned int i = 0; i < nfr; i++) {
			const struct result *d = &res_d[p][i], *s = &res_s[p][i];
			const struct frame *f = &fr[i];
			unsigned int wl = s->want;
			bool same = d->len == wl && (!wl || d->hash == s->hash);

			if (s->len && (s->vlan != (f->tagged && f->len >= 20) ||
				       (s->vlan && s->tci != ((f->b[14] << 8) | f->b[15])))) {
				printf("# harness: prog %u frame '%s': skb path vlan=%u tci=%#x\n",
				       p, f->name, s->vlan, s->tci);
				same = false;
			}
			if (same)
				continue;
			bad++;
			diffs++;
			if (diffs > 40)
				continue;
			printf("# diff: prog %u (%s), frame '%s' (%u bytes): direct %s %u bytes, skb %s %u bytes%s (direct should hold %u%s)\n",
			       p, progs[p].name, f->name, f->len,
			       d->len ? "captured" : "dropped", d->len,
			       s->len ? "captured" : "dropped", s->len,
			       s->vlan ? " +tag" : "", wl,
			       d->len == wl && wl ? ", bytes differ" : "");
			if ((int)p != last_printed && printed_progs < 8) {
				dump_prog(&progs[p]);
				last_printed = p;
				printed_progs++;
			}
		}
	}
	return bad;
}

int main(int argc, char **argv)
{
	unsigned int nrandom = argc > 3 ? strtoul(argv[3], NULL, 0) : 2000;
	unsigned int npcap = sizeof(pcap_progs) / sizeof(pcap_progs[0]);
	unsigned int nhand = sizeof(hand_progs) / sizeof(hand_progs[0]);
	unsigned int rejected = 0, acc_d = 0, acc_s = 0, cut = 0, tagged_seen = 0;
	struct sock_filter *code;
	cpu_set_t cpus;
	struct ifreq ifr;
	int probe, err;
	time_t t0;

	if (argc < 3) {
		fprintf(stderr, "usage: pfzc_cbpf_diff TXIF RXIF [NRANDOM [SEED]]\n");
		return 2;
	}
	test_init();
	rng = argc > 4 ? strtoull(argv[4], NULL, 0) : 0x5eed13;
	if (!rng)
		rng = 1;
	/* one CPU: the skb path's backlog and SKF_AD_CPU on the sender's */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);

	tx_ifindex = if_nametoindex(argv[1]);
	rx_ifindex = if_nametoindex(argv[2]);
	if (!tx_ifindex || !rx_ifindex)
		die("interfaces");
	tx_fd = packet_socket(tx_ifindex, 0);
	probe = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[2]);
	if (probe < 0 || ioctl(probe, SIOCGIFHWADDR, &ifr))
		die("SIOCGIFHWADDR");
	close(probe);
	memcpy(rx_mac, ifr.ifr_hwaddr.sa_data, 6);
	build_frames();
	for (unsigned int i = 0; i < nfr; i++)
		for (unsigned int j = i + 1; j < nfr; j++)
			if (fr[i].len == fr[j].len || fr[i].len == SENTINEL_LEN) {
				printf("not ok - frame lengths are unique (%s, %s)\n", fr[i].name, fr[j].name);
				return 1;
			}

	/* 1..13 bytes: no Ethernet transmit path takes them */
	{
		uint8_t b[14] = { 0 };
		unsigned int einval = 0;

		memcpy(b, rx_mac, 6);
		for (unsigned int len = 1; len < 14; len++)
			if (send(tx_fd, b, len, 0) < 0 && errno == EINVAL)
				einval++;
		tap(einval == 13, "frames of 1..13 bytes: send() EINVAL for all 13 (got %u)", einval);
	}

	/* the programs: libpcap's, by hand, random ones the checker accepts */
	progs = calloc(npcap + nhand + nrandom, sizeof(*progs));
	code = calloc((size_t)nrandom * 32, sizeof(*code));
	res_d = calloc(npcap + nhand + nrandom, sizeof(*res_d));
	res_s = calloc(npcap + nhand + nrandom, sizeof(*res_s));
	if (!progs || !code || !res_d || !res_s)
		die("calloc");
	for (unsigned int i = 0; i < npcap; i++)
		progs[nprogs++] = pcap_progs[i];
	for (unsigned int i = 0; i < nhand; i++)
		progs[nprogs++] = hand_progs[i];
	probe = packet_socket(tx_ifindex, 0);
	for (unsigned int i = 0; i < npcap + nhand; i++)
		if (attach(probe, &progs[i])) {
			printf("not ok - the kernel accepts '%s': %s\n", progs[i].name, strerror(errno));
			return 1;
		}
	for (unsigned int i = 0; i < nrandom; i++) {
		struct prog *p = &progs[nprogs];

		p->code = code + (size_t)i * 32;
		p->len = rnd_prog(code + (size_t)i * 32, 8 + rnd(24));
		p->name = "random";
		if (attach(probe, p)) {
			rejected++;
			continue;
		}
		nprogs++;
	}
	close(probe);
	printf("# programs: %u libpcap, %u by hand, %u random (%u more rejected by the checker); %u frames\n",
	       npcap, nhand, nprogs - npcap - nhand, rejected, nfr);
	tap(rejected < nrandom / 10 + 1, "random programs: the checker accepts at least 90%% (%u rejected)", rejected);

	witness_fd = packet_socket(rx_ifindex, ETH_P_ALL);
	{
		struct sock_filter w[] = {
			S(BPF_LD | BPF_H | BPF_ABS, 0, 0, 12),
			S(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, SENTINEL_TYPE),
			S(BPF_RET | BPF_K, 0, 0, 0xffff),
			S(BPF_RET | BPF_K, 0, 0, 0),
		};
		struct prog wp = { "witness", w, 4 };

		if (attach(witness_fd, &wp))
			die("witness filter");
	}

	t0 = time(NULL);
	tap(run_direct(), "direct path: no frame reached the stack while the receiver was bound");
	printf("# direct path: %ld s\n", (long)(time(NULL) - t0));
	t0 = time(NULL);
	tap(run_skb(), "skb path: every program's frames went through the stack (sentinel seen)");
	printf("# skb path: %ld s\n", (long)(time(NULL) - t0));
	tap(bad_desc == 0 && foreign == 0 && skb_content_bad == 0,
	    "both paths: valid descriptors/auxdata, no foreign frame, skb captures are the frames untagged (%u bad, %u foreign, %u differ)",
	    bad_desc, foreign, skb_content_bad);

	for (unsigned int p = 0; p < nprogs; p++)
		for (unsigned int i = 0; i < nfr; i++) {
			acc_d += !!res_d[p][i].len;
			acc_s += !!res_s[p][i].len;
			cut += res_s[p][i].len && res_s[p][i].len < fr[i].len - (res_s[p][i].vlan ? 4 : 0);
			tagged_seen += res_s[p][i].vlan;
		}
	printf("# %u program x frame pairs: skb path captured %u (%u cut short, %u tagged), direct %u\n",
	       nprogs * nfr, acc_s, cut, tagged_seen, acc_d);
	tap(acc_s > nprogs && acc_s < nprogs * nfr && cut > 0 && tagged_seen > 0,
	    "the set is not trivial: some captured, some dropped, some cut short, some tagged");

	err = compare(0, npcap);
	tap(!err, "libpcap filters (%u): same verdict and snap on every frame (%u differ)", npcap, err);
	err = compare(npcap, npcap + nhand);
	tap(!err, "hand-written programs (%u): same verdict and snap on every frame (%u differ)", nhand, err);
	err = compare(npcap + nhand, nprogs);
	tap(!err, "random programs (%u): same verdict and snap on every frame (%u differ)",
	    nprogs - npcap - nhand, err);
	return failures ? 1 : 0;
}
