/* SPDX-License-Identifier: MIT */
/*
 * Capture filters: tcpdump syntax, compiled by libpcap's pcap_compile(), or
 * a classic BPF program the application compiled itself (pcap_setfilter()
 * under zcap-run), made into the program the kernel runs before a packet
 * is copied into the ring.
 *
 * A program is always attached, even without an expression: its return
 * value is the snap length, which is how AF_PACKET truncates packets. So
 * every non-zero "ret #k" becomes the snap length (libpcap does the same
 * for its memory-mapped capture), and "ret a" jumps to a tail that keeps
 * A but no more than the snap length (libpcap leaves "ret a" alone, and
 * cuts to its snap length when it reads the packet).
 * The direction is a prefix on the kernel's packet type, as libpcap's
 * "inbound"/"outbound" compile; user space has no packet type, so the
 * programs run there (zcap_filter_run) have no prefix and the caller checks
 * ZCAP_PKT_OUTGOING itself.
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rx.h"

#define PREFIX_LEN 3	/* ld pkttype; jeq OUTGOING; ret 0 */
#define TAIL_LEN 3	/* jgt snaplen; ret snaplen; ret a */

int zcap_filter_compile(const char *expr, int linktype, uint32_t snaplen,
			struct sock_fprog *out, char *err, size_t errlen)
{
	struct bpf_program bp;
	pcap_t *p;
	int rc = -1;

	p = pcap_open_dead(linktype, (int)snaplen);
	if (!p) {
		snprintf(err, errlen, "cannot compile filter: out of memory");
		errno = ENOMEM;
		return -1;
	}
	if (pcap_compile(p, &bp, expr ? expr : "", 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "bad filter '%s': %s", expr ? expr : "",
			 pcap_geterr(p));
		errno = EINVAL;
		goto out;
	}
	out->len = 0;
	out->filter = NULL;
	/* struct bpf_insn and struct sock_filter share one layout. */
	rc = zcap_filter_copy((const struct sock_filter *)bp.bf_insns, bp.bf_len,
			      out, err, errlen);
	pcap_freecode(&bp);
out:
	pcap_close(p);
	return rc;
}

int zcap_filter_copy(const struct sock_filter *insns, unsigned int len,
		     struct sock_fprog *out, char *err, size_t errlen)
{
	struct sock_filter *f;

	if (!insns || !len) {
		snprintf(err, errlen, "empty filter program");
		errno = EINVAL;
		return -1;
	}
	if (len > BPF_MAXINSNS - PREFIX_LEN - TAIL_LEN) {
		snprintf(err, errlen, "filter is too long for the kernel "
			 "(%u instructions, max %d)", len,
			 BPF_MAXINSNS - PREFIX_LEN - TAIL_LEN);
		errno = E2BIG;
		return -1;
	}
	/* libpcap's check: known opcodes, jumps forward and inside, a
	 * return at the end. bpf_filter() in user space relies on it. */
	if (!bpf_validate((const struct bpf_insn *)insns, (int)len)) {
		snprintf(err, errlen, "invalid filter program (%u instructions)", len);
		errno = EINVAL;
		return -1;
	}
	f = malloc(len * sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	memcpy(f, insns, len * sizeof(*f));
	out->filter = f;
	out->len = (unsigned short)len;
	return 0;
}

enum build_mode { FOR_KERNEL, FOR_USER_IN, FOR_USER_OUT };

/*
 * User space has no packet type for the kernel's ancillary load, and
 * libpcap's bpf_filter() rejects the packet on it: "inbound" would match
 * nothing. So there are two user-space programs, one for each way a packet
 * went, with that load made a constant (PACKET_HOST stands for any
 * incoming type: "inbound"/"outbound" only ask whether it is OUTGOING).
 */
static int build(const struct sock_fprog *user, uint32_t snaplen,
		 enum zcap_direction dir, enum build_mode mode, struct sock_fprog *out)
{
	unsigned int pre = mode == FOR_KERNEL && dir != ZCAP_DIR_INOUT ? PREFIX_LEN : 0;
	unsigned int tail = pre + user->len, n = tail;
	struct sock_filter *f;
	int ret_a = 0;

	for (unsigned int i = 0; i < user->len; i++)
		if (BPF_CLASS(user->filter[i].code) == BPF_RET &&
		    BPF_RVAL(user->filter[i].code) == BPF_A)
			ret_a = 1;
	if (ret_a)
		n += TAIL_LEN;
	f = calloc(n, sizeof(*f));
	if (!f) {
		errno = ENOMEM;
		return -1;
	}
	if (pre) {
		/* outgoing: ret 0 for "in"; "out" keeps only outgoing */
		f[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS,
						    SKF_AD_OFF + SKF_AD_PKTTYPE);
		f[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						    PACKET_OUTGOING,
						    dir == ZCAP_DIR_IN ? 0 : 1,
						    dir == ZCAP_DIR_IN ? 1 : 0);
		f[2] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	}
	/* Jumps are relative: the user's program moves as a whole. */
	for (unsigned int i = 0; i < user->len; i++) {
		struct sock_filter in = user->filter[i];

		if (BPF_CLASS(in.code) == BPF_RET && BPF_RVAL(in.code) == BPF_K && in.k)
			in.k = snaplen;
		else if (BPF_CLASS(in.code) == BPF_RET && BPF_RVAL(in.code) == BPF_A)
			in = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA,
							  tail - (pre + i) - 1, 0, 0);
		else if (mode != FOR_KERNEL && BPF_CLASS(in.code) == BPF_LD &&
			 BPF_MODE(in.code) == BPF_ABS &&
			 in.k == (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE))
			in = (struct sock_filter)BPF_STMT(BPF_LD | BPF_IMM,
							  mode == FOR_USER_OUT ?
							  PACKET_OUTGOING : PACKET_HOST);
		f[pre + i] = in;
	}
	if (ret_a) {
		f[tail] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, snaplen, 0, 1);
		f[tail + 1] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, snaplen);
		f[tail + 2] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_A, 0);
	}
	out->filter = f;
	out->len = (unsigned short)n;
	return 0;
}

int zcap_filter_build(const struct sock_fprog *user, uint32_t snaplen,
		      enum zcap_direction dir, struct zcap_filters *out)
{
	struct zcap_filters f = { 0 };

	if (build(user, snaplen, dir, FOR_KERNEL, &f.kern) ||
	    build(user, snaplen, dir, FOR_USER_IN, &f.in) ||
	    build(user, snaplen, dir, FOR_USER_OUT, &f.out)) {
		zcap_filters_free(&f);
		return -1;
	}
	*out = f;
	return 0;
}

void zcap_filters_free(struct zcap_filters *f)
{
	zcap_filter_free(&f->kern);
	zcap_filter_free(&f->in);
	zcap_filter_free(&f->out);
}

void zcap_filter_free(struct sock_fprog *prog)
{
	free(prog->filter);
	prog->filter = NULL;
	prog->len = 0;
}

/* In user space: for backends whose kernel path runs no socket filter, and
 * for what sat in a ring when the filter changed. */
unsigned int zcap_filter_run(const struct sock_fprog *prog, const uint8_t *data,
			     uint32_t caplen, uint32_t len)
{
	return bpf_filter((const struct bpf_insn *)prog->filter, data, len, caplen);
}
