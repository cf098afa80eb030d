/* SPDX-License-Identifier: BSD-3-Clause */
/* Internet checksum helpers (RFC 1071) and incremental updates (RFC 1624,
 * eqn. 3: HC' = ~(~HC + ~m + m')), shared by the parser tests, the NAT and
 * the pktgen. */
#ifndef XGW_CSUM_H
#define XGW_CSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A 64-bit one's-complement sum folded to 16 bits, end-around carries as
 * Linux's csum_fold does them: a 64-to-32 add with carry, then the two
 * halves added in one 32-bit add of the word and its rotation (the high
 * half gets the sum and the low half's carry).  ~8 instructions against
 * ~12 for four shift-and-add steps; the same result for every input (0
 * only for a zero sum). */
static inline uint16_t xgw_csum_fold(uint64_t sum)
{
	uint32_t lo = (uint32_t)sum, hi = (uint32_t)(sum >> 32);

	lo += hi;
	lo += lo < hi;
	return (uint16_t)((lo + (lo >> 16 | lo << 16)) >> 16);
}

/* One's-complement sum of a buffer, in network order words, not folded. */
static inline uint64_t xgw_csum_partial(const void *buf, size_t len, uint64_t sum)
{
	const uint8_t *p = buf;

	while (len >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		sum += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t h;
		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint16_t h = 0;
		memcpy(&h, p, 1); /* pad with zero: byte order preserved */
		sum += h;
	}
	return sum;
}

/* Complete checksum of a buffer (e.g. an IPv4 header with csum zeroed). */
static inline uint16_t xgw_csum(const void *buf, size_t len)
{
	return (uint16_t)~xgw_csum_fold(xgw_csum_partial(buf, len, 0));
}

/* xgw_csum of exactly 20 bytes (an IPv4 header without options), with no
 * loop. */
static inline uint32_t xgw_csum_ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* The five words of a 20-byte header summed straight from memory: a
 * memcpy into a word array made gcc copy the header to the stack (a
 * 16-byte store, then five 4-byte loads from it: a store-forwarding stall
 * and ~7 instructions more per received packet, callgrind). */
static inline uint64_t xgw_csum20_sum(const void *buf)
{
	const uint8_t *b = buf;

	return (uint64_t)xgw_csum_ld32(b) + xgw_csum_ld32(b + 4) + xgw_csum_ld32(b + 8) +
	       xgw_csum_ld32(b + 12) + xgw_csum_ld32(b + 16);
}

static inline uint16_t xgw_csum20(const void *buf)
{
	return (uint16_t)~xgw_csum_fold(xgw_csum20_sum(buf));
}

/* Whether an IPv4 header without options (20 bytes) checks: its one's-
 * complement sum is 0xffff (~15 instructions, on every received packet). */
static inline bool xgw_csum20_ok(const void *buf)
{
	return xgw_csum_fold(xgw_csum20_sum(buf)) == 0xffff;
}

/* Incremental update of a stored checksum when a 16-bit word changes. */
static inline uint16_t xgw_csum_update16(uint16_t csum, uint16_t old, uint16_t new_)
{
	uint64_t s = (uint16_t)~csum;
	s += (uint16_t)~old;
	s += new_;
	return (uint16_t)~xgw_csum_fold(s);
}

static inline uint16_t xgw_csum_update32(uint16_t csum, uint32_t old, uint32_t new_)
{
	uint64_t s = (uint16_t)~csum;
	s += (uint32_t)~old;
	s += new_;
	return (uint16_t)~xgw_csum_fold(s);
}

/* A 16-byte address (or a v4 address padded with zeros: the zeros add
 * nothing) changed. */
static inline uint16_t xgw_csum_update128(uint16_t csum, const void *old, const void *new_)
{
	uint32_t o[4], n[4];
	uint64_t s = (uint16_t)~csum;

	memcpy(o, old, 16);
	memcpy(n, new_, 16);
	for (int i = 0; i < 4; i++)
		s += (uint32_t)~o[i] + (uint64_t)n[i];
	return (uint16_t)~xgw_csum_fold(s);
}

#endif
