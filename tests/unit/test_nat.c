/* SPDX-License-Identifier: BSD-3-Clause */
/* NAT: incremental checksums against a from-scratch recomputation for
 * thousands of random IPv4/IPv6 TCP/UDP packets (through the per-field
 * rewrite and through xgw_nat_apply's IPv4 path), UDP zero checksum,
 * conntrack-driven DNAT/SNAT both ways, SNAT port exhaustion, ICMP error
 * translation and echo reply as packet-in/packet-out cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/csum.h"
#include "common/drop.h"
#include "lb/nat.h"
#include "tests/lib/pktbuild.h"

#define S 1000000000ull

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static struct xgw_addr rnd_addr(bool v6)
{
	struct xgw_addr a;
	uint8_t b[16];

	for (int i = 0; i < 16; i++)
		b[i] = (uint8_t)rnd();
	if (v6)
		xgw_addr_v6(&a, b);
	else
		xgw_addr_v4(&a, rnd());
	return a;
}

static const struct xgw_ct_cfg ctcfg = {
    .max_entries = 1024,
    .tcp_timeout_s = 21600,
    .tcp_syn_timeout_s = 60,
    .tcp_close_timeout_s = 10,
    .udp_timeout_s = 60,
    .other_timeout_s = 60,
};

static int build(const struct xgw_pb *b, uint8_t *buf, struct xgw_pkt *p)
{
	int len = xgw_pb_build(b, buf, 2048);

	assert_true(len > 0);
	memset(p, 0, sizeof(*p));
	p->data = buf;
	p->len = (uint32_t)len;
	assert_int_equal(xgw_parse(p), 0);
	return len;
}

static void assert_frame_eq(const uint8_t *got, const uint8_t *want, int len, const char *what)
{
	for (int i = 0; i < len; i++)
		if (got[i] != want[i])
			fail_msg("%s: byte %d is 0x%02x, expected 0x%02x", what, i, got[i],
				 want[i]);
}

/* Random packets through random rewrites: every checksum must verify when
 * recomputed in full, and equal the recomputed value (0x0000 and 0xffff
 * being the same one's-complement number, counted apart). */
static void test_random(void **state)
{
	uint8_t buf[2048], ref[2048], payload[300];
	unsigned neg_zero = 0, n = 20000, zero_udp = 0;

	for (unsigned it = 0; it < n; it++) {
		bool v6 = rnd() & 1;
		struct xgw_pb b = {
		    .src = rnd_addr(v6),
		    .dst = rnd_addr(v6),
		    .proto = (rnd() & 1) ? IPPROTO_TCP : IPPROTO_UDP,
		    .sport = (uint16_t)rnd(),
		    .dport = (uint16_t)rnd(),
		    .tcp_flags = (uint8_t)rnd(),
		    .seq = rnd(),
		    .ack = rnd(),
		    .ttl = (uint8_t)(1 + rnd() % 255),
		    .ip_id = (uint16_t)rnd(),
		    .payload = payload,
		    .payload_len = rnd() % sizeof(payload),
		};
		struct xgw_pkt p;
		for (size_t i = 0; i < b.payload_len; i++)
			payload[i] = (uint8_t)rnd();
		int len = build(&b, buf, &p);
		/* one IPv4 UDP packet in 8 without a checksum */
		bool nocsum = !v6 && b.proto == IPPROTO_UDP && !(rnd() & 7);
		if (nocsum)
			memset(buf + p.l4_off + 6, 0, 2);

		bool dst = rnd() & 1;
		struct xgw_addr na = rnd_addr(v6);
		uint16_t np = (rnd() & 3) ? (uint16_t)rnd() : 0;
		memcpy(ref, buf, (size_t)len);
		assert_int_equal(xgw_nat_rewrite(&p, dst, &na, np), 0);

		/* the reference: the same fields written, checksums from scratch */
		unsigned ao = p.l3_off + (v6 ? (dst ? 24 : 8) : (dst ? 16 : 12));
		memcpy(ref + ao, na.b, v6 ? 16 : 4);
		if (np)
			memcpy(ref + p.l4_off + (dst ? 2 : 0), &np, 2);
		assert_int_equal(xgw_pb_csum_fill(ref, (size_t)len), 0);
		if (nocsum) {
			memset(ref + p.l4_off + 6, 0, 2);
			assert_int_equal(buf[p.l4_off + 6] | buf[p.l4_off + 7], 0);
			zero_udp++;
		}
		if (!xgw_pb_csum_ok(buf, (size_t)len))
			fail_msg("packet %u (%s %s): checksum wrong after NAT", it,
				 v6 ? "v6" : "v4", b.proto == IPPROTO_TCP ? "tcp" : "udp");
		unsigned co = p.l4_off + (b.proto == IPPROTO_TCP ? 16 : 6);
		uint16_t g, w;
		memcpy(&g, buf + co, 2);
		memcpy(&w, ref + co, 2);
		if (g != w && (uint16_t)(g ^ w) == 0xffff && b.proto == IPPROTO_TCP) {
			neg_zero++;
			memcpy(ref + co, &g, 2);
		}
		assert_frame_eq(buf, ref, len, "random rewrite");
		assert_int_equal(dst ? p.dport : p.sport, np ? np : htons(dst ? b.dport : b.sport));
	}
	printf("random: %u packets verified (%u IPv4 UDP without checksum kept 0, "
	       "%u TCP 0x0000/0xffff equivalents)\n",
	       n, zero_udp, neg_zero);
	assert_true(zero_udp > 100);
}

/* xgw_nat_apply's IPv4 TCP/UDP path (one 32-bit difference over both
 * addresses and both ports) on random packets and random connections,
 * against the same fields written and every checksum recomputed; a field
 * that does not change half of the time, all four in some packets. */
static void test_random_apply(void **state)
{
	uint8_t buf[2048], ref[2048], payload[200];
	unsigned n = 20000, unchanged = 0, zero_udp = 0;

	for (unsigned it = 0; it < n; it++) {
		struct xgw_pb b = {
		    .src = rnd_addr(false),
		    .dst = rnd_addr(false),
		    .proto = (rnd() & 1) ? IPPROTO_TCP : IPPROTO_UDP,
		    .sport = (uint16_t)rnd(),
		    .dport = (uint16_t)rnd(),
		    .tcp_flags = 0x10,
		    .seq = rnd(),
		    .ttl = 64,
		    .payload = payload,
		    .payload_len = rnd() % sizeof(payload),
		};
		struct xgw_pkt p;
		for (size_t i = 0; i < b.payload_len; i++)
			payload[i] = (uint8_t)rnd();
		int len = build(&b, buf, &p);
		bool nocsum = b.proto == IPPROTO_UDP && !(rnd() & 7);
		if (nocsum)
			memset(buf + p.l4_off + 6, 0, 2);

		/* The packet leaves as the reverse of the other direction's
		 * tuple: source o.dst:dport, destination o.src:sport. */
		struct xgw_ct_conn c;
		enum xgw_ct_dir d = (rnd() & 1) ? XGW_CT_REPLY : XGW_CT_ORIG;
		struct xgw_ct_ctuple *o = d == XGW_CT_ORIG ? &c.reply : &c.orig;
		struct xgw_addr ns = (rnd() & 1) ? b.src : rnd_addr(false);
		struct xgw_addr nd = (rnd() & 1) ? b.dst : rnd_addr(false);
		uint16_t nsp = (rnd() & 1) ? htons(b.sport) : (uint16_t)rnd();
		uint16_t ndp = (rnd() & 1) ? htons(b.dport) : (uint16_t)rnd();
		memset(&c, 0, sizeof(c));
		memcpy(o->dst, ns.b, 16);
		memcpy(o->src, nd.b, 16);
		o->dport = nsp;
		o->sport = ndp;
		o->proto = b.proto;
		o->family = AF_INET;
		unchanged += xgw_addr_eq(&ns, &b.src) && xgw_addr_eq(&nd, &b.dst) &&
			     nsp == htons(b.sport) && ndp == htons(b.dport);

		memcpy(ref, buf, (size_t)len);
		assert_int_equal(xgw_nat_apply(&p, &c, d), 0);
		memcpy(ref + p.l3_off + 12, ns.b, 4);
		memcpy(ref + p.l3_off + 16, nd.b, 4);
		memcpy(ref + p.l4_off, &nsp, 2);
		memcpy(ref + p.l4_off + 2, &ndp, 2);
		assert_int_equal(xgw_pb_csum_fill(ref, (size_t)len), 0);
		if (nocsum) {
			memset(ref + p.l4_off + 6, 0, 2);
			zero_udp++;
		}
		if (!xgw_pb_csum_ok(buf, (size_t)len))
			fail_msg("packet %u: checksum wrong after NAT", it);
		unsigned co = p.l4_off + (b.proto == IPPROTO_TCP ? 16 : 6);
		uint16_t g, w;
		memcpy(&g, buf + co, 2);
		memcpy(&w, ref + co, 2);
		if (g != w && (uint16_t)(g ^ w) == 0xffff && b.proto == IPPROTO_TCP)
			memcpy(ref + co, &g, 2); /* 0x0000 and 0xffff: the same sum */
		assert_frame_eq(buf, ref, len, "random apply");
		assert_int_equal(p.sport, nsp);
		assert_int_equal(p.dport, ndp);
	}
	printf("random apply: %u packets verified (%u unchanged, %u UDP without checksum)\n", n,
	       unchanged, zero_udp);
	assert_true(unchanged > 100);
	assert_true(zero_udp > 100);
}

/* The established path's translation (xgw_nat4_pre with the connection's
 * precomputed checksum differences, as lb_fast.h applies them) against
 * the per-packet sums (xgw_nat4_ports): the same bytes, in both
 * directions, for random IPv4 connections made by xgw_ct_create (DNAT and
 * SNAT, a backend that is its VIP: a translation that changes nothing)
 * and packets whose checksums are random, 0x0000 or 0xffff. */
static void test_random_pre(void **state)
{
	uint8_t a[2048], b2[2048], payload[64];
	unsigned n = 20000, zero_diff = 0, made = 0;
	struct xgw_ct_table *t = xgw_ct_new(&ctcfg);

	for (unsigned it = 0; it < n; it++) {
		uint8_t proto = (rnd() & 1) ? IPPROTO_TCP : IPPROTO_UDP;
		struct xgw_addr cl = rnd_addr(false), vip = rnd_addr(false);
		struct xgw_addr be = (rnd() & 7) ? rnd_addr(false) : vip;
		struct xgw_addr sn = (rnd() & 1) ? rnd_addr(false) : cl;
		uint16_t cp = (uint16_t)rnd(), vp = (uint16_t)rnd();
		uint16_t bp = (rnd() & 7) ? (uint16_t)rnd() : vp;
		uint16_t sp = xgw_addr_eq(&sn, &cl) ? cp : (uint16_t)rnd();
		struct xgw_ct_tuple o, r;
		struct xgw_ct_init in = {.backend_id = 1, .tcp_flags = 0x10};
		struct xgw_ct_conn *c = NULL;

		xgw_ct_tuple_init(&o, &cl, cp, &vip, vp, proto);
		xgw_ct_tuple_init(&r, &be, bp, &sn, sp, proto);
		if (xgw_ct_create(t, &o, &r, &in, 0, &c) != 0)
			continue; /* a random tuple taken already */
		made++;
		for (int d = 0; d < 2; d++) {
			const struct xgw_ct_tuple *k = d ? &r : &o;
			struct xgw_pb pb = {
			    .src = k->src,
			    .dst = k->dst,
			    .proto = proto,
			    .sport = ntohs(k->sport),
			    .dport = ntohs(k->dport),
			    .tcp_flags = 0x10,
			    .seq = rnd(),
			    .ttl = 64,
			    .payload = payload,
			    .payload_len = rnd() % sizeof(payload),
			};
			struct xgw_pkt pa, pp;
			for (size_t i = 0; i < pb.payload_len; i++)
				payload[i] = (uint8_t)rnd();
			int len = build(&pb, a, &pa);
			unsigned co = pa.l4_off + (proto == IPPROTO_TCP ? 16 : 6);
			static const uint16_t special[] = {0x0000, 0xffff};
			if (rnd() & 1) {
				uint16_t v = (rnd() & 1) ? special[rnd() & 1] : (uint16_t)rnd();
				memcpy(a + co, &v, 2);
			}
			if (!(rnd() & 3)) {
				uint16_t v = (rnd() & 1) ? special[rnd() & 1] : (uint16_t)rnd();
				memcpy(a + pa.l3_off + 10, &v, 2);
			}
			memcpy(b2, a, (size_t)len);
			pp = pa;
			pp.data = b2;
			uint16_t d3, d4;
			xgw_ct_nat_csum(c, (enum xgw_ct_dir)d, &d3, &d4);
			zero_diff += d3 == 0xffff || d4 == 0xffff;
			const struct xgw_ct_ctuple *oth = d ? &c->orig : &c->reply;
			xgw_nat4_ports(&pa, oth, proto == IPPROTO_TCP);
			xgw_nat4_pre(&pp, oth, d3, d4, proto == IPPROTO_TCP);
			assert_frame_eq(b2, a, len, "precomputed NAT");
			assert_int_equal(pp.sport, pa.sport);
			assert_int_equal(pp.dport, pa.dport);
		}
		if (!(it & 255)) {
			xgw_ct_flush(t);
			xgw_ct_reclaim_wait();
		}
	}
	printf("precomputed NAT: %u connections, %u directions with a zero difference\n", made,
	       zero_diff);
	assert_true(made > n / 2);
	assert_true(zero_diff > 100);
	xgw_ct_free(t);
}

/* A UDP checksum of 0 stays 0; one that becomes 0 is sent as 0xffff. */
static void test_udp_zero(void **state)
{
	uint8_t buf[2048];
	struct xgw_pkt p;
	struct xgw_pb b = {.src = xgw_pb_ip("198.18.0.1"),
			   .dst = xgw_pb_ip("198.18.100.1"),
			   .proto = IPPROTO_UDP,
			   .sport = 5000,
			   .dport = 53};
	struct xgw_addr be = xgw_pb_ip("198.18.2.10");

	build(&b, buf, &p);
	memset(buf + p.l4_off + 6, 0, 2);
	assert_int_equal(xgw_nat_rewrite(&p, true, &be, htons(8053)), 0);
	assert_int_equal(buf[p.l4_off + 6] | buf[p.l4_off + 7], 0);
	assert_true(xgw_pb_csum_ok(buf, p.len));

	/* Find a destination port making the checksum 0: it must come out
	 * as 0xffff. */
	unsigned hits = 0;
	for (unsigned port = 1; port < 65536 && !hits; port++) {
		build(&b, buf, &p);
		uint16_t np = htons((uint16_t)port);
		assert_int_equal(xgw_nat_rewrite(&p, true, &be, np), 0);
		uint16_t c;
		memcpy(&c, buf + p.l4_off + 6, 2);
		assert_int_not_equal(c, 0);
		if (c == 0xffff) {
			hits++;
			assert_true(xgw_pb_csum_ok(buf, p.len));
		}
	}
	assert_int_equal(hits, 1);
}

/* DNAT + SNAT through conntrack, client -> backend and back. */
static void nat_roundtrip(bool v6, bool snat, uint8_t proto)
{
	struct xgw_ct_table *t = xgw_ct_new(&ctcfg);
	const char *cl = v6 ? "2001:db8::1:1" : "198.18.0.1";
	const char *vip = v6 ? "2001:db8::64:1" : "198.18.100.1";
	const char *be = v6 ? "2001:db8::2:10" : "198.18.2.10";
	const char *gw = v6 ? "2001:db8::2:1" : "198.18.2.1";
	struct xgw_addr a_cl = xgw_pb_ip(cl), a_vip = xgw_pb_ip(vip), a_be = xgw_pb_ip(be),
			a_gw = xgw_pb_ip(gw);
	uint8_t buf[2048], want[2048];
	struct xgw_pkt p;
	struct xgw_ct_tuple o;
	struct xgw_ct_init in = {.backend_id = 3, .tcp_flags = 0x02};
	struct xgw_ct_conn *c, *c2;
	enum xgw_ct_dir d;
	const char pl[] = "hello backend";

	struct xgw_pb b = {.src = a_cl,
			   .dst = a_vip,
			   .proto = proto,
			   .sport = 40000,
			   .dport = 80,
			   .tcp_flags = 0x02,
			   .seq = 1,
			   .payload = pl,
			   .payload_len = sizeof(pl)};
	build(&b, buf, &p);
	xgw_ct_tuple_init(&o, &a_cl, htons(40000), &a_vip, htons(80), proto);
	bool created = false;
	assert_int_equal(xgw_nat_ct_create(t, &o, &a_be, htons(8080), snat ? &a_gw : NULL, 1024,
					   65535, &in, 0, &c, &created),
			 0);
	assert_true(created);
	assert_ptr_equal(xgw_ct_lookup(t, &o, 0, &d), c);
	/* The same flow again (another worker's first packet): found, and
	 * reported as not created, so that it is not counted twice. */
	struct xgw_ct_conn *again = NULL;
	assert_int_equal(xgw_nat_ct_create(t, &o, &a_be, htons(8080), snat ? &a_gw : NULL, 1024,
					   65535, &in, 0, &again, &created),
			 0);
	assert_false(created);
	assert_ptr_equal(again, c);
	assert_int_equal(d, XGW_CT_ORIG);
	assert_int_equal(xgw_nat_apply(&p, c, d), 0);
	uint16_t sport = snat ? ntohs(c->reply.dport) : 40000;
	struct xgw_pb bw = b;
	bw.dst = a_be;
	bw.dport = 8080;
	if (snat) {
		bw.src = a_gw;
		bw.sport = sport;
	}
	int len = xgw_pb_build(&bw, want, sizeof(want));
	assert_int_equal((int)p.len, len);
	assert_frame_eq(buf, want, len, "orig after NAT");

	/* the backend answers the address it saw */
	struct xgw_pb r = {.src = a_be,
			   .dst = snat ? a_gw : a_cl,
			   .proto = proto,
			   .sport = 8080,
			   .dport = sport,
			   .tcp_flags = 0x12,
			   .seq = 7,
			   .ack = 2,
			   .payload = pl,
			   .payload_len = sizeof(pl)};
	build(&r, buf, &p);
	struct xgw_ct_tuple rt;
	xgw_ct_tuple_init(&rt, &r.src, htons(r.sport), &r.dst, htons(r.dport), proto);
	c2 = xgw_ct_lookup(t, &rt, S, &d);
	assert_ptr_equal(c2, c);
	assert_int_equal(d, XGW_CT_REPLY);
	assert_int_equal(xgw_nat_apply(&p, c, d), 0);
	struct xgw_pb rw = r;
	rw.src = a_vip;
	rw.sport = 80;
	rw.dst = a_cl;
	rw.dport = 40000;
	len = xgw_pb_build(&rw, want, sizeof(want));
	assert_frame_eq(buf, want, len, "reply after reverse NAT");
	xgw_ct_free(t);
}

static void test_roundtrip(void **state)
{
	for (int v6 = 0; v6 < 2; v6++)
		for (int snat = 0; snat < 2; snat++) {
			nat_roundtrip(v6, snat, IPPROTO_TCP);
			nat_roundtrip(v6, snat, IPPROTO_UDP);
		}
}

/* SNAT ports: unique per backend tuple; exhaustion is bounded and reported. */
static void test_snat_ports(void **state)
{
	struct xgw_ct_table *t = xgw_ct_new(&ctcfg);
	struct xgw_addr vip = xgw_pb_ip("198.18.100.1"), be = xgw_pb_ip("198.18.2.10"),
			gw = xgw_pb_ip("198.18.2.1");
	struct xgw_ct_init in = {0};
	bool used[8] = {0};

	for (unsigned i = 0; i < 9; i++) {
		struct xgw_addr cl;
		struct xgw_ct_tuple o;
		struct xgw_ct_conn *c = NULL;
		xgw_addr_v4(&cl, htonl(0xc6120000u + i));
		xgw_ct_tuple_init(&o, &cl, htons(40000), &vip, htons(80), IPPROTO_TCP);
		int r =
		    xgw_nat_ct_create(t, &o, &be, htons(8080), &gw, 2000, 2007, &in, 0, &c, NULL);
		if (i < 8) {
			assert_int_equal(r, 0);
			unsigned port = ntohs(c->reply.dport);
			assert_true(port >= 2000 && port <= 2007);
			assert_false(used[port - 2000]);
			used[port - 2000] = true;
		} else {
			assert_int_equal(r, XGW_DROP_SNAT_NO_PORT);
		}
	}
	struct xgw_ct_stats st;
	xgw_ct_get_stats(t, &st);
	assert_int_equal(st.live, 8);
	xgw_ct_free(t);
}

/* The inner IPv4 header checksum of an ICMP error frame verifies. */
static bool inner_ip4_ok(const uint8_t *f, const struct xgw_pkt *p)
{
	const uint8_t *ih = f + p->l4_off + 8;
	return xgw_csum(ih, (size_t)(ih[0] & 0xf) * 4) == 0;
}

/* Build an ICMP error frame from outer src/dst quoting the packet qb. */
static int icmp_error(uint8_t *buf, struct xgw_pkt *p, struct xgw_addr src, struct xgw_addr dst,
		      const struct xgw_pb *qb, size_t quote)
{
	uint8_t q[2048];
	bool v6 = src.family == AF_INET6;
	int ql = xgw_pb_build(qb, q, sizeof(q));
	assert_true(ql > 14);
	size_t n = (size_t)ql - 14;
	if (quote && quote < n)
		n = quote;
	struct xgw_pb b = {.src = src,
			   .dst = dst,
			   .proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP,
			   .icmp_other = true,
			   .icmp_type = v6 ? 2 : 3,
			   .icmp_code = v6 ? 0 : 4,
			   .dport = 1400, /* next-hop MTU */
			   .payload = q + 14,
			   .payload_len = n};
	return build(&b, buf, p);
}

/* Errors about a translated flow, both ways, with and without SNAT, v4
 * and v6, whole and 8-byte quotes: the output frame is compared with one
 * built from scratch (every checksum computed in full). */
static void icmp_case(bool v6, bool snat, uint8_t proto, size_t quote)
{
	struct xgw_ct_table *t = xgw_ct_new(&ctcfg);
	struct xgw_addr cl = xgw_pb_ip(v6 ? "2001:db8::1:1" : "198.18.0.1"),
			vip = xgw_pb_ip(v6 ? "2001:db8::64:1" : "198.18.100.1"),
			be = xgw_pb_ip(v6 ? "2001:db8::2:10" : "198.18.2.10"),
			gw = xgw_pb_ip(v6 ? "2001:db8::2:1" : "198.18.2.1"),
			rt = xgw_pb_ip(v6 ? "2001:db8::3:1" : "198.18.3.1");
	struct xgw_ct_tuple o;
	struct xgw_ct_init in = {.tcp_flags = 0x10};
	struct xgw_ct_conn *c, *ec;
	enum xgw_ct_dir d;
	uint8_t buf[2048], want[2048];
	struct xgw_pkt p, pw;
	const char pl[] = "0123456789abcdef";

	xgw_ct_tuple_init(&o, &cl, htons(40000), &vip, htons(80), proto);
	assert_int_equal(xgw_nat_ct_create(t, &o, &be, htons(8080), snat ? &gw : NULL, 1024, 65535,
					   &in, 0, &c, NULL),
			 0);
	struct xgw_addr me = snat ? gw : cl; /* the client as the backend sees it */
	uint16_t mport = snat ? ntohs(c->reply.dport) : 40000;

	/* (a) a router towards the backend drops our translated packet */
	struct xgw_pb qa = {.src = me,
			    .dst = be,
			    .proto = proto,
			    .sport = mport,
			    .dport = 8080,
			    .tcp_flags = 0x10,
			    .payload = pl,
			    .payload_len = sizeof(pl)};
	struct xgw_pb qa0 = qa;
	qa0.src = cl;
	qa0.sport = 40000;
	qa0.dst = vip;
	qa0.dport = 80;
	icmp_error(buf, &p, rt, me, &qa, quote);
	assert_int_equal(xgw_nat_icmp_error(&p, t, S, &ec, &d), 0);
	assert_ptr_equal(ec, c);
	assert_int_equal(d, XGW_CT_REPLY);
	int len = icmp_error(want, &pw, rt, cl, &qa0, quote);
	if (!v6)
		assert_true(inner_ip4_ok(buf, &p));
	assert_true(xgw_pb_csum_ok(buf, p.len));
	assert_frame_eq(buf, want, len, "icmp error towards client");

	/* (b) the backend itself refuses (its own address is the outer source) */
	icmp_error(buf, &p, be, me, &qa, quote);
	assert_int_equal(xgw_nat_icmp_error(&p, t, S, NULL, NULL), 0);
	len = icmp_error(want, &pw, vip, cl, &qa0, quote);
	assert_frame_eq(buf, want, len, "icmp error from backend");

	/* (c) a router towards the client drops our reverse-NATed reply */
	struct xgw_pb qc = {.src = vip,
			    .dst = cl,
			    .proto = proto,
			    .sport = 80,
			    .dport = 40000,
			    .tcp_flags = 0x10,
			    .payload = pl,
			    .payload_len = sizeof(pl)};
	struct xgw_pb qc0 = qc;
	qc0.src = be;
	qc0.sport = 8080;
	qc0.dst = me;
	qc0.dport = mport;
	icmp_error(buf, &p, rt, vip, &qc, quote);
	assert_int_equal(xgw_nat_icmp_error(&p, t, S, &ec, &d), 0);
	assert_int_equal(d, XGW_CT_ORIG);
	len = icmp_error(want, &pw, rt, be, &qc0, quote);
	if (!v6)
		assert_true(inner_ip4_ok(buf, &p));
	assert_true(xgw_pb_csum_ok(buf, p.len));
	assert_frame_eq(buf, want, len, "icmp error towards backend");

	/* (d) the client itself refuses: outer source becomes what the
	 * backend knows */
	icmp_error(buf, &p, cl, vip, &qc, quote);
	assert_int_equal(xgw_nat_icmp_error(&p, t, S, NULL, NULL), 0);
	len = icmp_error(want, &pw, me, be, &qc0, quote);
	assert_frame_eq(buf, want, len, "icmp error from client");

	/* untracked: left alone */
	qc.dport = 40001;
	len = icmp_error(buf, &p, rt, vip, &qc, quote);
	memcpy(want, buf, (size_t)len);
	assert_int_equal(xgw_nat_icmp_error(&p, t, S, NULL, NULL), XGW_DROP_CT_INVALID);
	assert_frame_eq(buf, want, len, "untracked icmp error");
	xgw_ct_free(t);
}

static void test_icmp_errors(void **state)
{
	for (int v6 = 0; v6 < 2; v6++)
		for (int snat = 0; snat < 2; snat++) {
			icmp_case(v6, snat, IPPROTO_UDP, 0);
			icmp_case(v6, snat, IPPROTO_TCP, 0);
			/* RFC 792 minimum quote: IP header + 8 bytes (no TCP
			 * checksum in it) */
			icmp_case(v6, snat, IPPROTO_TCP, (v6 ? 40 : 20) + 8);
			icmp_case(v6, snat, IPPROTO_UDP, (v6 ? 40 : 20) + 8);
		}
}

static void test_icmp_malformed(void **state)
{
	struct xgw_ct_table *t = xgw_ct_new(&ctcfg);
	uint8_t buf[2048];
	struct xgw_pkt p;
	struct xgw_pb qb = {.src = xgw_pb_ip("198.18.2.1"),
			    .dst = xgw_pb_ip("198.18.2.10"),
			    .proto = IPPROTO_UDP,
			    .sport = 1,
			    .dport = 2};

	/* quote cut inside the inner header, or inside the ports */
	for (size_t q = 1; q < 24; q++) {
		icmp_error(buf, &p, xgw_pb_ip("198.18.3.1"), xgw_pb_ip("198.18.2.1"), &qb, q);
		assert_int_equal(xgw_nat_icmp_error(&p, t, S, NULL, NULL), XGW_DROP_ICMP_TRUNC);
	}
	/* not an error */
	struct xgw_pb e = {.src = xgw_pb_ip("198.18.0.1"),
			   .dst = xgw_pb_ip("198.18.100.1"),
			   .proto = IPPROTO_ICMP};
	build(&e, buf, &p);
	assert_false(xgw_nat_is_icmp_error(&p));
	assert_int_equal(xgw_nat_icmp_error(&p, t, S, NULL, NULL), XGW_DROP_ICMP_TRUNC);
	xgw_ct_free(t);
}

static void test_echo_reply(void **state)
{
	uint8_t buf[2048], want[2048];
	const char pl[] = "ping payload";

	for (int v6 = 0; v6 < 2; v6++) {
		struct xgw_pkt p, pw;
		struct xgw_pb b = {.src_mac = {2, 0, 0, 0, 0, 1},
				   .dst_mac = {2, 0, 0, 0, 0, 2},
				   .src = xgw_pb_ip(v6 ? "2001:db8::1:1" : "198.18.0.1"),
				   .dst = xgw_pb_ip(v6 ? "2001:db8::64:1" : "198.18.100.1"),
				   .proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP,
				   .ttl = 57,
				   .ip_id = 0x1234,
				   .sport = 0x77,
				   .dport = 9,
				   .payload = pl,
				   .payload_len = sizeof(pl)};
		build(&b, buf, &p);
		assert_int_equal(xgw_nat_icmp_echo_reply(&p), 0);
		struct xgw_pb r = b;
		memcpy(r.src_mac, b.dst_mac, 6);
		memcpy(r.dst_mac, b.src_mac, 6);
		r.src = b.dst;
		r.dst = b.src;
		r.ttl = 64;
		r.echo_reply = true;
		int len = build(&r, want, &pw);
		assert_frame_eq(buf, want, len, "echo reply");
		/* a reply is not turned around again */
		assert_int_equal(xgw_nat_icmp_echo_reply(&p), XGW_DROP_ICMP_TRUNC);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random),	cmocka_unit_test(test_random_apply),
	    cmocka_unit_test(test_random_pre),	cmocka_unit_test(test_udp_zero),
	    cmocka_unit_test(test_roundtrip),	cmocka_unit_test(test_snat_ports),
	    cmocka_unit_test(test_icmp_errors), cmocka_unit_test(test_icmp_malformed),
	    cmocka_unit_test(test_echo_reply),
	};
	int r;

	rcu_register_thread();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return r;
}
