/* SPDX-License-Identifier: MIT */
/*
 * zcap test frames, shared by zcap-gen (which builds them) and zcap-verify
 * (which checks captured copies of them).
 *
 * A frame is Ethernet II + IPv4 + UDP + payload. Its "size" is counted as in
 * RFC 2544: the Ethernet frame including the 4-byte FCS, 64..1518. The NIC
 * adds the FCS, so the bytes built here, sent and captured are size - 4
 * ("len", 60..1514).
 *
 * Layout (byte offsets; every multi-byte field is big-endian):
 *    0  dst MAC (6), src MAC (6), EtherType 0x0800
 *   14  IPv4: 0x45, TOS 0, total length = len - 14, ID 0, DF, TTL 64,
 *       protocol 17, header checksum, src IP, dst IP (no options)
 *   34  UDP: src port, dst port, length = len - 34, checksum 0 (none)
 *   42  magic    u32  0x5a434150 "ZCAP"
 *   46  seq      u64
 *   54  checksum u32  CRC32C of bytes [0, len) with this field read as zero
 *   58  filler   len - 58 bytes (2..1456), a function of seq only
 *
 * The checksum covers the headers too, so a damaged MAC, IP or port is
 * caught, not just a damaged payload. The filler depends on seq so that a
 * frame whose payload was swapped with another's is caught even if the
 * checksum were recomputed, and so no two frames carry the same bytes.
 *
 * CRC32C was chosen over FNV-1a because x86-64 computes it in hardware at
 * about 8 bytes per 3 cycles; FNV-1a costs a multiply per byte, which at
 * 1514 bytes would limit the generator to well under 1 Mpps per core.
 */
#ifndef ZCAP_TOOLS_FRAME_H
#define ZCAP_TOOLS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#define ZCAP_FRAME_MAGIC	0x5a434150u	/* "ZCAP" */
#define ZCAP_FCS_LEN		4
#define ZCAP_FRAME_SIZE_MIN	64	/* with FCS, as on the -s option */
#define ZCAP_FRAME_SIZE_MAX	1518
#define ZCAP_FRAME_LEN_MIN	(ZCAP_FRAME_SIZE_MIN - ZCAP_FCS_LEN)	/* bytes built/captured */
#define ZCAP_FRAME_LEN_MAX	(ZCAP_FRAME_SIZE_MAX - ZCAP_FCS_LEN)

#define ZCAP_OFF_IP		14
#define ZCAP_OFF_UDP		34
#define ZCAP_OFF_MAGIC		42
#define ZCAP_OFF_SEQ		46
#define ZCAP_OFF_CSUM		54
#define ZCAP_OFF_FILL		58

/* RFC 2544 section 12 reserves 198.18.0.0/15 for benchmarking, so the
 * defaults can never be mistaken for, or routed to, real hosts. */
#define ZCAP_DEFAULT_SRC_IP	0xc6120001u	/* 198.18.0.1 */
#define ZCAP_DEFAULT_DST_IP	0xc6120002u	/* 198.18.0.2 */
#define ZCAP_DEFAULT_SRC_PORT	1024
#define ZCAP_DEFAULT_DST_PORT	9	/* discard */

struct zcap_frame_addr {
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	uint32_t src_ip;	/* host byte order */
	uint32_t dst_ip;
	uint16_t src_port;
	uint16_t dst_port;
};

enum zcap_frame_status {
	ZCAP_FRAME_OK = 0,
	ZCAP_FRAME_FOREIGN,		/* not a zcap frame */
	ZCAP_FRAME_TRUNCATED,		/* caplen < len: cannot be checked */
	ZCAP_FRAME_BAD_LENGTH,		/* IP/UDP length disagrees with len */
	ZCAP_FRAME_BAD_CHECKSUM,	/* IP header sum, CRC or filler wrong */
};

struct zcap_frame_info {
	uint64_t seq;
	/* seq was read from the frame: always for OK, for TRUNCATED when the
	 * capture reached past the seq field. For BAD_* it is filled in for
	 * diagnostics only, since the field may be the damaged part. */
	bool has_seq;
};

/* Not <endian.h>: its htobe64() and friends vanish under -std=c11, and the
 * header should build with whatever flags a test uses. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define zcap_be16(x) __builtin_bswap16(x)
#define zcap_be32(x) __builtin_bswap32(x)
#define zcap_be64(x) __builtin_bswap64(x)
#else
#define zcap_be16(x) (x)
#define zcap_be32(x) (x)
#define zcap_be64(x) (x)
#endif

static inline void zcap_put_be16(uint8_t *p, uint16_t v)
{
	v = zcap_be16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void zcap_put_be32(uint8_t *p, uint32_t v)
{
	v = zcap_be32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void zcap_put_be64(uint8_t *p, uint64_t v)
{
	v = zcap_be64(v);
	memcpy(p, &v, sizeof(v));
}

static inline uint16_t zcap_get_be16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return zcap_be16(v);
}

static inline uint32_t zcap_get_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return zcap_be32(v);
}

static inline uint64_t zcap_get_be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return zcap_be64(v);
}

/* Nibble-at-a-time: a 16-entry table keeps the header free of a 1 KiB
 * array; this path only runs on CPUs without a CRC32C instruction. */
static inline uint32_t zcap_crc32c_sw(uint32_t crc, const uint8_t *p, size_t n)
{
	static const uint32_t t[16] = {
		0x00000000, 0x105ec76f, 0x20bd8ede, 0x30e349b1,
		0x417b1dbc, 0x5125dad3, 0x61c69362, 0x7198540d,
		0x82f63b78, 0x92a8fc17, 0xa24bb5a6, 0xb21572c9,
		0xc38d26c4, 0xd3d3e1ab, 0xe330a81a, 0xf36e6f75,
	};

	while (n--) {
		crc ^= *p++;
		crc = (crc >> 4) ^ t[crc & 15];
		crc = (crc >> 4) ^ t[crc & 15];
	}
	return crc;
}

#if defined(__x86_64__)
/* target() lets this build without -msse4.2; zcap_crc32c_update() only
 * calls it after checking the CPU. */
__attribute__((target("sse4.2")))
static inline uint32_t zcap_crc32c_hw(uint32_t crc, const uint8_t *p, size_t n)
{
	uint64_t c = crc;

	for (; n >= 8; p += 8, n -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = _mm_crc32_u64(c, v);
	}
	crc = (uint32_t)c;
	while (n--)
		crc = _mm_crc32_u8(crc, *p++);
	return crc;
}
#endif

/* Raw CRC32C register update; callers start from ~0 and invert at the end. */
static inline uint32_t zcap_crc32c_update(uint32_t crc, const void *buf, size_t n)
{
#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2"))
		return zcap_crc32c_hw(crc, buf, n);
#endif
	return zcap_crc32c_sw(crc, buf, n);
}

static inline uint32_t zcap_crc32c(const void *buf, size_t n)
{
	return ~zcap_crc32c_update(~0u, buf, n);
}

/* The frame checksum, over [0, len) with the checksum field read as zero.
 * Done in pieces so the checker need not copy a const frame. */
static inline uint32_t zcap_frame_csum(const uint8_t *f, size_t len)
{
	static const uint8_t zero[4];
	uint32_t c = ~0u;

	c = zcap_crc32c_update(c, f, ZCAP_OFF_CSUM);
	c = zcap_crc32c_update(c, zero, sizeof(zero));
	c = zcap_crc32c_update(c, f + ZCAP_OFF_FILL, len - ZCAP_OFF_FILL);
	return ~c;
}

/* splitmix64's finaliser: consecutive seqs give unrelated filler. */
static inline uint64_t zcap_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/*
 * Filler byte i (from offset 58) is byte i % 8 of the big-endian word
 * mix64(seq) + (i / 8) * 0x9e3779b97f4a7c15. Written a word at a time, since
 * at 1514 bytes this is most of the per-frame work besides the CRC.
 */
#define ZCAP_FILL_STEP 0x9e3779b97f4a7c15ull

static inline void zcap_frame_fill(uint8_t *p, size_t n, uint64_t seq)
{
	uint64_t w = zcap_mix64(seq);
	uint8_t tail[8];

	for (; n >= 8; p += 8, n -= 8, w += ZCAP_FILL_STEP)
		zcap_put_be64(p, w);
	zcap_put_be64(tail, w);
	memcpy(p, tail, n);
}

static inline bool zcap_frame_fill_ok(const uint8_t *p, size_t n, uint64_t seq)
{
	uint64_t w = zcap_mix64(seq);
	uint8_t tail[8];

	for (; n >= 8; p += 8, n -= 8, w += ZCAP_FILL_STEP)
		if (zcap_get_be64(p) != w)
			return false;
	zcap_put_be64(tail, w);
	return memcmp(p, tail, n) == 0;
}

static inline uint16_t zcap_ip_csum(const uint8_t *ip)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += zcap_get_be16(ip + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline void zcap_frame_addr_init(struct zcap_frame_addr *a)
{
	memset(a->dst_mac, 0xff, sizeof(a->dst_mac));
	memset(a->src_mac, 0, sizeof(a->src_mac));
	a->src_ip = ZCAP_DEFAULT_SRC_IP;
	a->dst_ip = ZCAP_DEFAULT_DST_IP;
	a->src_port = ZCAP_DEFAULT_SRC_PORT;
	a->dst_port = ZCAP_DEFAULT_DST_PORT;
}

/*
 * Writes the Ethernet/IPv4/UDP headers and the magic for a frame of @size
 * bytes including FCS (64..1518). Together with zcap_frame_stamp() this lets
 * a sender keep the headers of a fixed-size frame and patch only the rest.
 */
static inline void zcap_frame_headers(uint8_t *f, unsigned int size,
				      const struct zcap_frame_addr *a)
{
	unsigned int len = size - ZCAP_FCS_LEN;
	uint8_t *ip = f + ZCAP_OFF_IP;
	uint8_t *udp = f + ZCAP_OFF_UDP;

	memcpy(f, a->dst_mac, 6);
	memcpy(f + 6, a->src_mac, 6);
	zcap_put_be16(f + 12, 0x0800);

	ip[0] = 0x45;
	ip[1] = 0;
	zcap_put_be16(ip + 2, (uint16_t)(len - ZCAP_OFF_IP));
	zcap_put_be16(ip + 4, 0);
	zcap_put_be16(ip + 6, 0x4000);	/* DF: these never need fragmenting */
	ip[8] = 64;
	ip[9] = 17;
	zcap_put_be16(ip + 10, 0);
	zcap_put_be32(ip + 12, a->src_ip);
	zcap_put_be32(ip + 16, a->dst_ip);
	zcap_put_be16(ip + 10, zcap_ip_csum(ip));

	zcap_put_be16(udp, a->src_port);
	zcap_put_be16(udp + 2, a->dst_port);
	zcap_put_be16(udp + 4, (uint16_t)(len - ZCAP_OFF_UDP));
	zcap_put_be16(udp + 6, 0);

	zcap_put_be32(f + ZCAP_OFF_MAGIC, ZCAP_FRAME_MAGIC);
}

/* Writes seq, filler and checksum into a frame whose headers are in place. */
static inline void zcap_frame_stamp(uint8_t *f, unsigned int size, uint64_t seq)
{
	unsigned int len = size - ZCAP_FCS_LEN;

	zcap_put_be64(f + ZCAP_OFF_SEQ, seq);
	zcap_frame_fill(f + ZCAP_OFF_FILL, len - ZCAP_OFF_FILL, seq);
	zcap_put_be32(f + ZCAP_OFF_CSUM, zcap_frame_csum(f, len));
}

/*
 * Builds a whole frame of @size bytes including FCS (64..1518) into @buf,
 * which must hold size - 4 bytes. Returns the number of bytes written
 * (size - 4, what goes to the socket), or 0 if size is out of range.
 */
static inline size_t zcap_frame_build(void *buf, unsigned int size, uint64_t seq,
				      const struct zcap_frame_addr *a)
{
	if (size < ZCAP_FRAME_SIZE_MIN || size > ZCAP_FRAME_SIZE_MAX)
		return 0;
	zcap_frame_headers(buf, size, a);
	zcap_frame_stamp(buf, size, seq);
	return size - ZCAP_FCS_LEN;
}

/*
 * Checks a captured frame: @caplen bytes at @frame of a frame that was @len
 * bytes on the wire (both without FCS).
 *
 * A frame counts as zcap when at least 3 of the 4 magic bytes match, not
 * all 4: then one damaged byte anywhere in a frame, magic included, is
 * reported as BAD_CHECKSUM rather than passing as foreign traffic. A foreign
 * frame matching 3 magic bytes by chance at offset 42 is vanishingly rare.
 */
static inline enum zcap_frame_status
zcap_frame_check(const void *frame, size_t caplen, size_t len,
		 struct zcap_frame_info *info)
{
	static const uint8_t magic[4] = { 'Z', 'C', 'A', 'P' };
	const uint8_t *f = frame;
	const uint8_t *ip = f + ZCAP_OFF_IP;
	const uint8_t *udp = f + ZCAP_OFF_UDP;
	int match = 0;

	info->seq = 0;
	info->has_seq = false;

	if (caplen >= ZCAP_OFF_SEQ) {
		for (int i = 0; i < 4; i++)
			match += f[ZCAP_OFF_MAGIC + i] == magic[i];
		if (match < 3)
			return ZCAP_FRAME_FOREIGN;
	}
	if (caplen >= ZCAP_OFF_CSUM) {
		info->seq = zcap_get_be64(f + ZCAP_OFF_SEQ);
		info->has_seq = true;
	}
	if (caplen < len) {
		/* A partial seq field or an unseen magic is no evidence of
		 * anything; only a fully captured seq is worth reporting. */
		if (match < 4)
			info->has_seq = false;
		return ZCAP_FRAME_TRUNCATED;
	}
	if (caplen < ZCAP_FRAME_LEN_MIN)
		return ZCAP_FRAME_FOREIGN;	/* too short to ever be one */

	info->has_seq = false;
	if (zcap_get_be16(ip + 2) != caplen - ZCAP_OFF_IP ||
	    zcap_get_be16(udp + 4) != caplen - ZCAP_OFF_UDP)
		return ZCAP_FRAME_BAD_LENGTH;
	if (match < 4 || zcap_ip_csum(ip) != 0 ||
	    zcap_get_be32(f + ZCAP_OFF_CSUM) != zcap_frame_csum(f, caplen) ||
	    !zcap_frame_fill_ok(f + ZCAP_OFF_FILL, caplen - ZCAP_OFF_FILL,
				info->seq))
		return ZCAP_FRAME_BAD_CHECKSUM;
	info->has_seq = true;
	return ZCAP_FRAME_OK;
}

#endif /* ZCAP_TOOLS_FRAME_H */
