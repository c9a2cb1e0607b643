/* SPDX-License-Identifier: MIT */
/*
 * Unit test of libzcap's transmit API (the zcap_tx_* part of include/zcap.h)
 * against the real kernel, on each backend that opens here.
 *
 * It runs in a network namespace of its own with a veth pair txa <-> txb:
 * frames go out of txa through the API and an AF_PACKET socket on txb reads
 * them back, so every count can be exact. That needs root; without it the
 * test reports a skip.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "zcap.h"
#include "check.h"

#define IF_TX "txa"
#define IF_RX "txb"
#define ETHERTYPE 0x88b5	/* IEEE local experimental: nothing else sends it */
#define FRAMES 64u		/* the smallest ring: wraps quickly */

static int rx_fd = -1;

/* Frame seq: broadcast Ethernet header, then seq and a pattern from it,
 * len bytes in all. */
static void build(uint8_t *p, uint32_t len, uint32_t seq)
{
	memset(p, 0xff, 6);
	memset(p + 6, 0x02, 6);
	p[12] = ETHERTYPE >> 8;
	p[13] = ETHERTYPE & 0xff;
	memcpy(p + 14, &seq, 4);
	for (uint32_t i = 18; i < len; i++)
		p[i] = (uint8_t)(seq * 7 + i);
}

static uint32_t frame_len(uint32_t seq)
{
	return 60 + (seq * 37) % 1455;	/* 60..1514 */
}

/* Reads frames until none arrives for 200 ms; checks each against build().
 * Returns how many arrived in order and intact, from *next on. */
static unsigned int receive(uint32_t *next, unsigned int *bad)
{
	static uint8_t buf[2048], want[2048];
	unsigned int n = 0;

	for (;;) {
		struct pollfd pfd = { .fd = rx_fd, .events = POLLIN };
		ssize_t r;
		uint32_t seq;

		if (poll(&pfd, 1, 200) <= 0)
			return n;
		r = recv(rx_fd, buf, sizeof(buf), 0);
		if (r < 18 || buf[12] != (ETHERTYPE >> 8) || buf[13] != (ETHERTYPE & 0xff))
			continue;	/* not ours */
		memcpy(&seq, buf + 14, 4);
		build(want, frame_len(seq), seq);
		if (seq != *next || (uint32_t)r != frame_len(seq) || memcmp(buf, want, (size_t)r)) {
			if (*bad < 5)
				printf("# frame %u: got seq %u, %zd bytes\n", *next, seq, r);
			(*bad)++;
		} else {
			n++;
		}
		*next = seq + 1;
	}
}

static int setup_net(void)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int big = 16 << 20;

	if (unshare(CLONE_NEWNET) < 0)
		return -1;
	if (system("ip link add " IF_TX " type veth peer name " IF_RX " && "
		   "ip link set " IF_TX " up && ip link set " IF_RX " up") != 0)
		return -1;
	rx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (rx_fd < 0)
		return -1;
	setsockopt(rx_fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	sll.sll_ifindex = (int)if_nametoindex(IF_RX);
	return bind(rx_fd, (struct sockaddr *)&sll, sizeof(sll));
}

/* Until ifname's operstate (which the kernel's linkwatch updates a moment
 * after the carrier, later under load) is, or is not, "up": 3 s at most. */
static void wait_operstate(const char *ifname, int up)
{
	char path[64], buf[16] = "";

	snprintf(path, sizeof(path), "/sys/class/net/%s/operstate", ifname);
	for (int i = 0; i < 300; i++) {
		FILE *f = fopen(path, "r");

		buf[0] = '\0';
		if (f) {
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = '\0';
			fclose(f);
		}
		if ((strncmp(buf, "up", 2) == 0) == up)
			return;
		poll(NULL, 0, 10);
	}
}

static zcap_tx_t *open_with(const char *backend, uint32_t frames, char *err)
{
	ZCAP_DECLARE(zcap_tx_opts, opts, .backend = backend, .frames = frames);

	return zcap_tx_open(IF_TX, &opts, err);
}

static void test_open_errors(void)
{
	char err[ZCAP_ERRBUF_SIZE];
	zcap_tx_t *t;

	t = open_with(NULL, 100, err);
	CHECK(!t && errno == EINVAL && strstr(err, "power of two"),
	      "100 frames refused: %s", t ? "(opened)" : err);
	t = open_with(NULL, 32, err);
	CHECK(!t && errno == EINVAL, "32 frames refused");

	t = zcap_tx_open("nosuch0", NULL, err);
	CHECK(!t && errno == ENODEV && strstr(err, "no such interface"),
	      "unknown interface: %s", t ? "(opened)" : err);

	system("ip link set lo up");
	t = zcap_tx_open("lo", NULL, err);
	CHECK(!t && strstr(err, "not an Ethernet interface"), "lo refused: %s",
	      t ? "(opened)" : err);

	system("ip link set " IF_RX " down");
	wait_operstate(IF_TX, 0);
	t = zcap_tx_open(IF_TX, NULL, err);
	CHECK(!t && errno == ENETDOWN && strstr(err, "no carrier"),
	      "peer down refused: %s", t ? "(opened)" : err);
	system("ip link set " IF_RX " up");
	wait_operstate(IF_TX, 1);

	if (access("/sys/module/pf_zerocopy", F_OK) != 0) {
		t = open_with("pfzc", 0, err);
		CHECK(!t && strstr(err, "pf_zerocopy module is not loaded"),
		      "pfzc without the module: %s", t ? "(opened)" : err);
	}
	/* In a child: if it dereferenced NULL, the child dies of SIGSEGV
	 * and the test goes on to say so. */
	pid_t pid = fork();
	int status = -1;

	if (pid == 0) {
		zcap_tx_close(NULL);
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	CHECK(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "zcap_tx_close(NULL) returns (in a child: %s)",
	      pid < 0 ? "fork failed" : WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exited");
}

/* The contract on one backend, FRAMES slots. */
static void test_backend(const char *name)
{
	char err[ZCAP_ERRBUF_SIZE];
	ZCAP_DECLARE(zcap_tx_stats, st);
	uint32_t room = 0, seq = 0, next = 0;
	uint64_t bytes = 0;
	unsigned int n, got, bad = 0;
	uint8_t *p;
	zcap_tx_t *t;

	t = open_with(name, FRAMES, err);
	if (!t) {
		printf("ok %d - %s # SKIP does not open here: %s\n", ++check_n, name, err);
		return;
	}
	CHECK(!strcmp(zcap_tx_backend_name(t), name), "%s: backend name %s (%s mode)", name,
	      zcap_tx_backend_name(t), zcap_tx_mode(t));
	CHECK(zcap_tx_fd(t) >= 0, "%s: has an fd", name);
	CHECK(zcap_tx_max_len(t) == 1514, "%s: max length 1514 at MTU 1500 (%u)", name,
	      zcap_tx_max_len(t));

	/* reserve: never more than the ring, frames beyond it do not exist */
	n = zcap_tx_reserve(t, 1000);
	CHECK(n == FRAMES, "%s: reserve(1000) gives the %u frames (%u)", name, FRAMES, n);
	p = zcap_tx_frame(t, 0, &room);
	CHECK(p && room >= 1514, "%s: frame 0 has room for 1514 bytes (%u)", name, room);
	CHECK(!zcap_tx_frame(t, n, NULL), "%s: no frame %u", name, n);

	/* bad submits hand nothing over, and the reservation stands */
	zcap_tx_setlen(t, 0, 10);
	CHECK(zcap_tx_submit(t, 1) == ZCAP_ERROR && errno == EINVAL,
	      "%s: length 10 refused: %s", name, zcap_tx_geterr(t));
	zcap_tx_setlen(t, 0, 1515);
	CHECK(zcap_tx_submit(t, 1) == ZCAP_ERROR && errno == EINVAL,
	      "%s: length 1515 refused", name);
	CHECK(zcap_tx_submit(t, n + 1) == ZCAP_ERROR && errno == EINVAL,
	      "%s: submit of more than reserved refused", name);
	CHECK(zcap_tx_frame(t, 0, NULL) == p, "%s: still reserved after refusals", name);
	zcap_tx_stats(t, &st);
	CHECK(st.submitted == 0 && st.completed == 0, "%s: nothing handed over", name);

	/* a second reserve gives the first one back: the same frames */
	n = zcap_tx_reserve(t, 8);
	CHECK(n == 8 && zcap_tx_frame(t, 0, NULL) == p, "%s: re-reserve gives the same frames",
	      name);

	/* Many laps of the ring: full batches, half-submitted batches (the
	 * rest given back), and single frames, each checked on arrival. */
	for (int round = 0; round < 60; round++) {
		unsigned int want = round % 3 == 0 ? FRAMES : round % 3 == 1 ? 24 : 1;
		unsigned int k, sub;

		k = zcap_tx_reserve(t, want);
		while (!k) {
			zcap_tx_complete(t);
			k = zcap_tx_reserve(t, want);
		}
		for (unsigned int i = 0; i < k; i++) {
			uint32_t len = frame_len(seq + i);

			build(zcap_tx_frame(t, i, NULL), len, seq + i);
			zcap_tx_setlen(t, i, len);
		}
		sub = round % 3 == 1 ? (k + 1) / 2 : k;
		for (unsigned int i = 0; i < sub; i++)
			bytes += frame_len(seq + i);
		if (zcap_tx_submit(t, sub)) {
			CHECK(0, "%s: submit: %s", name, zcap_tx_geterr(t));
			break;
		}
		seq += sub;
		zcap_tx_complete(t);
	}
	CHECK(zcap_tx_flush(t, 2000) == 0, "%s: flush: every frame completes", name);
	got = receive(&next, &bad);
	zcap_tx_stats(t, &st);
	printf("# %s: submitted=%llu completed=%llu sent=%llu bytes=%llu invalid=%llu "
	       "errors=%llu retries=%llu drop_if=%llu received=%u\n", name,
	       (unsigned long long)st.submitted, (unsigned long long)st.completed,
	       (unsigned long long)st.sent, (unsigned long long)st.bytes,
	       (unsigned long long)st.invalid, (unsigned long long)st.errors,
	       (unsigned long long)st.retries, (unsigned long long)st.drop_if, got);
	CHECK(st.submitted == seq && st.completed == seq, "%s: %u submitted, all completed",
	      name, seq);
	CHECK(st.sent == seq && st.invalid == 0 && st.errors == 0,
	      "%s: completed = sent, none invalid or failed", name);
	CHECK(st.bytes == bytes, "%s: bytes = the lengths submitted (%llu)", name,
	      (unsigned long long)bytes);
	CHECK(got == seq && bad == 0 && next == seq,
	      "%s: the peer got all %u, in order, intact (%u bad)", name, seq, bad);

	/* close with frames in flight waits for them */
	n = zcap_tx_reserve(t, FRAMES);
	for (unsigned int i = 0; i < n; i++) {
		build(zcap_tx_frame(t, i, NULL), frame_len(seq + i), seq + i);
		zcap_tx_setlen(t, i, frame_len(seq + i));
	}
	CHECK(zcap_tx_submit(t, n) == 0, "%s: a last full batch", name);
	zcap_tx_close(t);
	next = seq;
	got = receive(&next, &bad);
	CHECK(got == n && bad == 0, "%s: close lets the last batch out (%u of %u)", name, got, n);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("ok 1 - tx tests # SKIP needs root\n1..1\n");
		return 0;
	}
	alarm(120);	/* a hang is a failure */
	if (setup_net() < 0) {
		printf("# network namespace with a veth pair: %s\n", strerror(errno));
		CHECK(0, "private network namespace with a veth pair");
		return check_done();
	}
	test_open_errors();
	test_backend("xdp");
	test_backend("tpacket");
	test_backend("packet");
	return check_done();
}
