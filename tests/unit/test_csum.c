/* SPDX-License-Identifier: BSD-3-Clause */
/* common/csum.h against full recomputation: a byte-pair RFC 1071 reference
 * written here, random headers from a seeded PRNG (failures print the
 * iteration, the seed is fixed so they replay), the one's-complement zero
 * edge cases, and the test frame builder's checksums (pktbuild), which the
 * NAT and forwarding tests rely on as their reference. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <string.h>
#include <cmocka.h>

#include "common/csum.h"
#include "tests/lib/pktbuild.h"

#define ROUNDS 20000

static uint64_t rng = 0x2545f4914f6cdd1dull;

/* xorshift64*: small, seeded, the same sequence on every machine. */
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static void rnd_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* Reference RFC 1071 checksum of n bytes, host order. */
static uint16_t ref_csum(const uint8_t *p, size_t n)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < n)
		s += (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static bool all_zero(const uint8_t *p, size_t n, size_t skip)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] && (i < skip || i >= skip + 2))
			return false;
	return true;
}

/* The checksum stored at h[field] equals a full recomputation over n
 * bytes.  When the data are all zero, RFC 1624 eqn. 3 yields 0x0000 where
 * recomputation yields 0xffff; both are one's-complement zero, and no real
 * header (IPv4 version 4, a protocol number in the pseudo header) is all
 * zero. */
static void assert_stored_csum_right(uint8_t *h, size_t n, size_t field, unsigned iter)
{
	uint16_t stored = ntohs(rd16(h + field));
	uint16_t want;

	h[field] = h[field + 1] = 0;
	want = ref_csum(h, n);
	h[field] = (uint8_t)(stored >> 8);
	h[field + 1] = (uint8_t)stored;
	if (all_zero(h, n, field) && (stored == 0 || stored == 0xffff))
		return;
	if (stored != want)
		fail_msg("iteration %u: stored %#06x, recomputed %#06x", iter, stored, want);
}

static void store_ref(uint8_t *h, size_t n, size_t field)
{
	uint16_t c;

	h[field] = h[field + 1] = 0;
	c = ref_csum(h, n);
	h[field] = (uint8_t)(c >> 8);
	h[field + 1] = (uint8_t)c;
}

/* xgw_csum and xgw_csum_partial chaining against the reference, at every
 * alignment and odd lengths. */
static void test_full(void **state)
{
	static uint8_t buf[1600];

	for (unsigned i = 0; i < ROUNDS; i++) {
		size_t len = i % 4 ? rnd() % 80 : rnd() % 1500;
		size_t off = rnd() % 4;
		size_t split = (rnd() % (len / 2 + 1)) * 2; /* even: word boundary */
		uint16_t want, got, chained;

		rnd_fill(buf + off, len);
		want = htons(ref_csum(buf + off, len));
		got = xgw_csum(buf + off, len);
		chained = (uint16_t)~xgw_csum_fold(xgw_csum_partial(
		    buf + off + split, len - split, xgw_csum_partial(buf + off, split, 0)));
		if (got != want || chained != want)
			fail_msg("iteration %u len %zu: %#06x/%#06x, want %#06x", i, len, got,
				 chained, want);
	}
}

/* xgw_csum20_ok (the receive check) against the reference: random
 * 20-byte headers with their right checksum pass, with any other value
 * (one bit off, or a random one) fail; also sums at the carry edges
 * (every byte 0xff, the checksum word ones-complement zero either way). */
static void test_csum20_ok(void **state)
{
	uint8_t h[24];

	for (unsigned i = 0; i < ROUNDS; i++) {
		size_t off = rnd() % 4;
		uint8_t *p = h + off;

		if (i % 8 == 0)
			memset(p, 0xff, 20);
		else
			rnd_fill(p, 20);
		store_ref(p, 20, 10);
		if (!xgw_csum20_ok(p))
			fail_msg("iteration %u: right checksum refused", i);
		uint16_t c = rd16(p + 10), bad = (uint16_t)(c ^ (1u << (rnd() % 16)));
		if (i % 2)
			bad = (uint16_t)rnd();
		/* 0x0000 and 0xffff are the same one's-complement number */
		if (bad == c || (uint16_t)(bad ^ c) == 0xffff)
			continue;
		memcpy(p + 10, &bad, 2);
		if (xgw_csum20_ok(p) != (ref_csum(p, 20) == 0))
			fail_msg("iteration %u: wrong checksum %#06x (right %#06x) accepted", i,
				 bad, c);
	}
	(void)state;
}

/* Random 20-byte IPv4-like headers (checksum at 10), one 16-bit word
 * changed per round, sometimes to the 0x0000/0xffff extremes. */
static void test_update16(void **state)
{
	uint8_t h[20];

	for (unsigned i = 0; i < ROUNDS; i++) {
		size_t w;
		uint16_t old, new_, c;

		rnd_fill(h, sizeof(h));
		store_ref(h, sizeof(h), 10);
		do
			w = (rnd() % 10) * 2;
		while (w == 10);
		old = rd16(h + w);
		switch (i % 5) {
		case 0:
			new_ = 0x0000;
			break;
		case 1:
			new_ = 0xffff;
			break;
		case 2:
			new_ = old; /* no change must mean no change */
			break;
		default:
			new_ = (uint16_t)rnd();
		}
		memcpy(h + w, &new_, 2);
		c = xgw_csum_update16(rd16(h + 10), old, new_);
		memcpy(h + 10, &c, 2);
		assert_stored_csum_right(h, sizeof(h), 10, i);
	}
}

/* Address rewrites: 32 bits at the v4 address offsets and, as in pseudo
 * headers and port pairs, at offsets that are only 2-byte aligned. */
static void test_update32(void **state)
{
	uint8_t h[24];

	for (unsigned i = 0; i < ROUNDS; i++) {
		/* none overlaps the checksum at 10..11 */
		static const size_t at[] = {12, 16, 0, 2, 14, 18, 20, 6};
		size_t w = at[i % 8];
		uint32_t old, new_;
		uint16_t c;

		rnd_fill(h, sizeof(h));
		store_ref(h, sizeof(h), 10);
		old = rd32(h + w);
		new_ = i % 7 == 0 ? 0 : i % 7 == 1 ? 0xffffffff : (uint32_t)rnd();
		memcpy(h + w, &new_, 4);
		c = xgw_csum_update32(rd16(h + 10), old, new_);
		memcpy(h + 10, &c, 2);
		assert_stored_csum_right(h, sizeof(h), 10, i);
	}
}

/* IPv6 address rewrites: a 40-byte header plus an 8-byte L4 header whose
 * checksum (at 40 + 6) covers both addresses, like a UDP pseudo header. */
static void test_update128(void **state)
{
	uint8_t h[48];

	for (unsigned i = 0; i < ROUNDS; i++) {
		size_t w = i % 2 ? 8 : 24;
		uint8_t old[16], new_[16];
		uint16_t c;

		rnd_fill(h, sizeof(h));
		store_ref(h, sizeof(h), 46);
		memcpy(old, h + w, 16);
		if (i % 11 == 0)
			memset(new_, i % 2 ? 0xff : 0x00, 16);
		else
			rnd_fill(new_, 16);
		memcpy(h + w, new_, 16);
		c = xgw_csum_update128(rd16(h + 46), old, new_);
		memcpy(h + 46, &c, 2);
		assert_stored_csum_right(h, sizeof(h), 46, i);
	}
}

/* A v4 address in the 16-byte form (zero padded) updates exactly like
 * update32, which is what lets NAT code be address-family agnostic. */
static void test_update128_v4_form(void **state)
{
	for (unsigned i = 0; i < ROUNDS; i++) {
		uint8_t o[16] = {0}, n[16] = {0};
		uint16_t csum = (uint16_t)rnd();
		uint32_t ov = (uint32_t)rnd(), nv = (uint32_t)rnd();

		memcpy(o, &ov, 4);
		memcpy(n, &nv, 4);
		assert_int_equal(xgw_csum_update128(csum, o, n), xgw_csum_update32(csum, ov, nv));
	}
}

/* One's-complement zero has two forms; updates into, out of and across
 * them must still agree with recomputation. */
static void test_zero_edges(void **state)
{
	uint8_t h[20];
	uint16_t c, v, zero = 0x0000, ones = 0xffff;

	for (unsigned i = 0; i < 2000; i++) {
		uint16_t x;

		/* A header whose correct checksum is 0x0000: move the
		 * checksum into word 0 (one's-complement add) and store 0. */
		rnd_fill(h, sizeof(h));
		memcpy(h + 4, &zero, 2);
		store_ref(h, sizeof(h), 10);
		c = (uint16_t)(h[10] << 8 | h[11]);
		x = (uint16_t)(h[0] << 8 | h[1]);
		v = (uint16_t)(x + c + ((uint32_t)x + c > 0xffff));
		h[0] = (uint8_t)(v >> 8);
		h[1] = (uint8_t)v;
		h[10] = h[11] = 0;
		assert_int_equal(ref_csum(h, sizeof(h)), 0x0000);

		/* 0x0000 <-> 0xffff in a data word changes nothing, here
		 * with the stored checksum at 0x0000. */
		c = xgw_csum_update16(rd16(h + 10), zero, ones);
		memcpy(h + 4, &ones, 2);
		memcpy(h + 10, &c, 2);
		assert_stored_csum_right(h, sizeof(h), 10, i);
		c = xgw_csum_update16(rd16(h + 10), ones, zero);
		memcpy(h + 4, &zero, 2);
		memcpy(h + 10, &c, 2);
		assert_stored_csum_right(h, sizeof(h), 10, i);

		/* Into a checksum of exactly 0x0000: add the current
		 * checksum to a word. */
		rnd_fill(h, sizeof(h));
		store_ref(h, sizeof(h), 10);
		c = (uint16_t)(h[10] << 8 | h[11]);
		x = (uint16_t)(h[2] << 8 | h[3]);
		v = (uint16_t)(x + c + ((uint32_t)x + c > 0xffff));
		{
			uint16_t o = rd16(h + 2), n = htons(v), r;

			r = xgw_csum_update16(rd16(h + 10), o, n);
			memcpy(h + 2, &n, 2);
			assert_int_equal(r, 0x0000);
			memcpy(h + 10, &r, 2);
			assert_stored_csum_right(h, sizeof(h), 10, i);
			/* and back out of it */
			r = xgw_csum_update16(r, n, o);
			memcpy(h + 2, &o, 2);
			memcpy(h + 10, &r, 2);
			assert_stored_csum_right(h, sizeof(h), 10, i);
		}
	}

	/* All data zero but one word, which then becomes zero too: the only
	 * case where the forms differ (see assert_stored_csum_right). */
	memset(h, 0, sizeof(h));
	h[0] = 0x45;
	store_ref(h, sizeof(h), 10);
	c = xgw_csum_update16(rd16(h + 10), rd16(h), zero);
	assert_true(c == 0x0000 || c == 0xffff);
}

/* Every value of one header word, changed to its complement and to a
 * random value. */
static void test_update16_exhaustive_word(void **state)
{
	uint8_t h[20];

	rnd_fill(h, sizeof(h));
	for (uint32_t v = 0; v <= 0xffff; v++) {
		uint16_t old = htons((uint16_t)v), new_, c;

		memcpy(h + 8, &old, 2);
		store_ref(h, sizeof(h), 10);
		new_ = v & 1 ? (uint16_t)~old : (uint16_t)rnd();
		c = xgw_csum_update16(rd16(h + 10), old, new_);
		memcpy(h + 8, &new_, 2);
		memcpy(h + 10, &c, 2);
		assert_stored_csum_right(h, sizeof(h), 10, v);
	}
}

/* ---- the builder and verifier other tests use as their reference ---- */

/* The header from RFC 1071-style worked examples (Wikipedia, "IPv4 header
 * checksum"): 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7. */
static void test_builder_golden_ip4(void **state)
{
	static const uint8_t want[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
					 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
					 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	uint8_t payload[87] = {0}, f[256];
	struct xgw_pb b = {.src = xgw_pb_ip("192.168.0.1"),
			   .dst = xgw_pb_ip("192.168.0.199"),
			   .proto = IPPROTO_UDP,
			   .ttl = 64,
			   .frag = 0x4000,
			   .payload = payload,
			   .payload_len = sizeof(payload)};
	int n = xgw_pb_build(&b, f, sizeof(f));

	assert_int_equal(n, 14 + 0x73);
	assert_memory_equal(f + 14, want, sizeof(want));
	assert_true(xgw_pb_csum_ok(f, (size_t)n));
}

/* The builder's L4 checksums against csum.h over a hand-made pseudo
 * header: two independent implementations of the pseudo-header rules. */
static void test_builder_l4_vs_csum_h(void **state)
{
	static const uint8_t pl[13] = "odd-length!!!";
	const struct {
		const char *src, *dst;
		uint8_t proto;
		size_t field;
	} v[] = {
	    {"198.18.0.1", "198.18.100.1", IPPROTO_UDP, 6},
	    {"198.18.0.1", "198.18.100.1", IPPROTO_TCP, 16},
	    {"198.18.0.1", "198.18.100.1", IPPROTO_ICMP, 2},
	    {"2001:db8::1", "2001:db8:ffff::2", IPPROTO_UDP, 6},
	    {"2001:db8::1", "2001:db8:ffff::2", IPPROTO_TCP, 16},
	    {"2001:db8::1", "2001:db8:ffff::2", IPPROTO_ICMPV6, 2},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct xgw_pb b = {.src = xgw_pb_ip(v[i].src),
				   .dst = xgw_pb_ip(v[i].dst),
				   .proto = v[i].proto,
				   .sport = 1000,
				   .dport = 2000,
				   .seq = 0xdeadbeef,
				   .tcp_flags = XGW_PB_PSH | XGW_PB_ACK,
				   .payload = pl,
				   .payload_len = sizeof(pl)};
		struct xgw_pb_layout lo;
		uint8_t f[256];
		int n = xgw_pb_build(&b, f, sizeof(f));
		bool v6 = b.src.family == AF_INET6;
		size_t l4len;
		uint64_t s = 0;
		uint16_t stored, want;

		assert_true(n > 0);
		assert_int_equal(xgw_pb_layout(&b, &lo), 0);
		l4len = (size_t)lo.l3_off + lo.l3_len - lo.l4_off;
		memcpy(&stored, f + lo.l4_off + v[i].field, 2);
		memset(f + lo.l4_off + v[i].field, 0, 2);
		if (v6) {
			uint32_t ul = htonl((uint32_t)l4len), nh = htonl(v[i].proto);

			s = xgw_csum_partial(f + lo.l3_off + 8, 32, s);
			s = xgw_csum_partial(&ul, 4, s);
			s = xgw_csum_partial(&nh, 4, s);
		} else if (v[i].proto != IPPROTO_ICMP) {
			uint16_t pr = htons(v[i].proto), ul = htons((uint16_t)l4len);

			s = xgw_csum_partial(f + lo.l3_off + 12, 8, s);
			s = xgw_csum_partial(&pr, 2, s);
			s = xgw_csum_partial(&ul, 2, s);
		}
		s = xgw_csum_partial(f + lo.l4_off, l4len, s);
		want = (uint16_t)~xgw_csum_fold(s);
		assert_int_equal(stored, want);
	}
}

static int build(const struct xgw_pb *b, uint8_t *f, size_t cap)
{
	int n = xgw_pb_build(b, f, cap);

	assert_true(n > 0);
	assert_true(xgw_pb_csum_ok(f, (size_t)n));
	return n;
}

/* The verifier rejects what it must, and csum_fill repairs. */
static void test_verifier(void **state)
{
	static const uint8_t pl[32] = "payload";
	struct xgw_pb b4 = {.src = xgw_pb_ip("198.18.0.1"),
			    .dst = xgw_pb_ip("198.18.100.1"),
			    .proto = IPPROTO_TCP,
			    .sport = 40000,
			    .dport = 80,
			    .n_vlans = 1,
			    .vlan_tci = {7},
			    .payload = pl,
			    .payload_len = sizeof(pl),
			    .pad_to = 128};
	struct xgw_pb b6 = {.src = xgw_pb_ip("2001:db8::1"),
			    .dst = xgw_pb_ip("2001:db8::2"),
			    .proto = IPPROTO_UDP,
			    .sport = 5000,
			    .dport = 53,
			    .payload = pl,
			    .payload_len = sizeof(pl)};
	uint8_t f[256];
	int n;

	/* A flipped payload bit, then repaired. */
	n = build(&b4, f, sizeof(f));
	f[18 + 20 + 20 + 3] ^= 0x10;
	assert_false(xgw_pb_csum_ok(f, (size_t)n));
	assert_int_equal(xgw_pb_csum_fill(f, (size_t)n), 0);
	assert_true(xgw_pb_csum_ok(f, (size_t)n));

	/* Ethernet padding is not covered by any checksum. */
	f[n - 1] ^= 0xff;
	assert_true(xgw_pb_csum_ok(f, (size_t)n));

	/* TTL decremented without and with the RFC 1624 update. */
	n = build(&b4, f, sizeof(f));
	{
		uint8_t *ip = f + 18;
		uint16_t old, new_, c;

		memcpy(&old, ip + 8, 2);
		ip[8]--;
		assert_false(xgw_pb_csum_ok(f, (size_t)n));
		memcpy(&new_, ip + 8, 2);
		memcpy(&c, ip + 10, 2);
		c = xgw_csum_update16(c, old, new_);
		memcpy(ip + 10, &c, 2);
		assert_true(xgw_pb_csum_ok(f, (size_t)n));
	}

	/* DNAT of the v4 destination address and port: IP header and TCP
	 * (pseudo header) checksums both follow incrementally. */
	n = build(&b4, f, sizeof(f));
	{
		uint8_t *ip = f + 18, *tcp = f + 38;
		uint32_t oa, na = htonl(0xc612020a); /* 198.18.2.10 */
		uint16_t op, np = htons(8080), c;

		memcpy(&oa, ip + 16, 4);
		memcpy(ip + 16, &na, 4);
		memcpy(&c, ip + 10, 2);
		c = xgw_csum_update32(c, oa, na);
		memcpy(ip + 10, &c, 2);
		assert_false(xgw_pb_csum_ok(f, (size_t)n)); /* TCP not yet */
		memcpy(&op, tcp + 2, 2);
		memcpy(tcp + 2, &np, 2);
		memcpy(&c, tcp + 16, 2);
		c = xgw_csum_update32(c, oa, na);
		c = xgw_csum_update16(c, op, np);
		memcpy(tcp + 16, &c, 2);
		assert_true(xgw_pb_csum_ok(f, (size_t)n));
	}

	/* v6 address rewrite with update128 on the UDP checksum. */
	n = build(&b6, f, sizeof(f));
	{
		struct xgw_addr na = xgw_pb_ip("2001:db8:2::10");
		uint8_t old[16];
		uint16_t c;

		memcpy(old, f + 14 + 24, 16);
		memcpy(f + 14 + 24, na.b, 16);
		assert_false(xgw_pb_csum_ok(f, (size_t)n));
		memcpy(&c, f + 54 + 6, 2);
		c = xgw_csum_update128(c, old, na.b);
		memcpy(f + 54 + 6, &c, 2);
		assert_true(xgw_pb_csum_ok(f, (size_t)n));
	}

	/* UDP checksum 0: "none" in IPv4, invalid in IPv6. */
	n = build(&b6, f, sizeof(f));
	f[54 + 6] = f[54 + 7] = 0;
	assert_false(xgw_pb_csum_ok(f, (size_t)n));
	b4.proto = IPPROTO_UDP;
	n = build(&b4, f, sizeof(f));
	f[38 + 6] = f[38 + 7] = 0;
	assert_true(xgw_pb_csum_ok(f, (size_t)n));

	/* A broken IPv4 header checksum. */
	n = build(&b4, f, sizeof(f));
	f[18 + 10] ^= 1;
	assert_false(xgw_pb_csum_ok(f, (size_t)n));

	/* Not parseable: not OK, and fill says why. */
	n = build(&b4, f, sizeof(f));
	assert_false(xgw_pb_csum_ok(f, 30));
	assert_int_not_equal(xgw_pb_csum_fill(f, 30), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_csum20_ok),
	    cmocka_unit_test(test_update16),
	    cmocka_unit_test(test_update32),
	    cmocka_unit_test(test_update128),
	    cmocka_unit_test(test_update128_v4_form),
	    cmocka_unit_test(test_zero_edges),
	    cmocka_unit_test(test_update16_exhaustive_word),
	    cmocka_unit_test(test_builder_golden_ip4),
	    cmocka_unit_test(test_builder_l4_vs_csum_h),
	    cmocka_unit_test(test_verifier),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
