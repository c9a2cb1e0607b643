/* SPDX-License-Identifier: MIT */
/*
 * tcpdump filter syntax, compiled by libpcap's pcap_compile() into classic
 * BPF that the kernel runs before a packet is copied into the ring.
 *
 * The program is always attached, even without an expression: its return
 * value is the snap length, which is how AF_PACKET truncates packets.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rx.h"

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
	if (bp.bf_len > BPF_MAXINSNS) {
		snprintf(err, errlen, "filter '%s' is too long for the kernel "
			 "(%u instructions, max %d)", expr, bp.bf_len, BPF_MAXINSNS);
		errno = E2BIG;
		goto out_free;
	}
	/* struct bpf_insn and struct sock_filter share one layout. */
	out->len = (unsigned short)bp.bf_len;
	out->filter = calloc(bp.bf_len, sizeof(struct sock_filter));
	if (!out->filter) {
		snprintf(err, errlen, "cannot compile filter: out of memory");
		errno = ENOMEM;
		goto out_free;
	}
	for (unsigned int i = 0; i < bp.bf_len; i++) {
		out->filter[i].code = bp.bf_insns[i].code;
		out->filter[i].jt = bp.bf_insns[i].jt;
		out->filter[i].jf = bp.bf_insns[i].jf;
		out->filter[i].k = bp.bf_insns[i].k;
	}
	rc = 0;
out_free:
	pcap_freecode(&bp);
out:
	pcap_close(p);
	return rc;
}

void zcap_filter_free(struct sock_fprog *prog)
{
	free(prog->filter);
	prog->filter = NULL;
	prog->len = 0;
}

/* In user space, for backends whose kernel path runs no socket filter. */
unsigned int zcap_filter_run(const struct sock_fprog *prog, const uint8_t *data,
			     uint32_t len)
{
	/* struct sock_filter and struct bpf_insn share one layout */
	return bpf_filter((const struct bpf_insn *)prog->filter, data, len, len);
}
