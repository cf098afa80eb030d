/* SPDX-License-Identifier: BSD-3-Clause */
/* Policy classifier: table-driven cases, then 10,000 random rules against
 * a linear-scan reference that lives here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "lb/policy.h"

/* ---- the reference: first match by linear scan ---- */

static bool ref_rule_match(const struct xgw_policy_cfg *r, const struct xgw_policy_key *k)
{
	if (r->src.addr.family && !xgw_prefix_contains(&r->src, &k->src))
		return false;
	if (r->dst.addr.family && !xgw_prefix_contains(&r->dst, &k->dst))
		return false;
	if (r->proto && r->proto != k->proto)
		return false;
	return k->dport >= r->dport_lo && k->dport <= r->dport_hi;
}

static uint32_t ref_match(const struct xgw_policy_cfg *r, unsigned n,
			  const struct xgw_policy_key *k)
{
	for (unsigned i = 0; i < n; i++)
		if (ref_rule_match(&r[i], k))
			return i;
	return XGW_POLICY_NO_RULE;
}

/* ---- table-driven cases ---- */

/* "any" or "" = wildcard; dport "22" or "1000-2000" or "any". */
static struct xgw_policy_cfg rule(const char *act, const char *src, const char *dst,
				  const char *proto, const char *dport)
{
	struct xgw_policy_cfg r = {.allow = strcmp(act, "allow") == 0, .dport_hi = 65535};

	if (strcmp(src, "any"))
		assert_int_equal(xgw_prefix_parse(&r.src, src), 0);
	if (strcmp(dst, "any"))
		assert_int_equal(xgw_prefix_parse(&r.dst, dst), 0);
	r.proto = !strcmp(proto, "tcp")	    ? IPPROTO_TCP
		  : !strcmp(proto, "udp")   ? IPPROTO_UDP
		  : !strcmp(proto, "icmp")  ? IPPROTO_ICMP
		  : !strcmp(proto, "icmp6") ? IPPROTO_ICMPV6
					    : 0;
	if (strcmp(dport, "any")) {
		unsigned lo, hi;
		int n = sscanf(dport, "%u-%u", &lo, &hi);

		assert_true(n >= 1);
		r.dport_lo = (uint16_t)lo;
		r.dport_hi = (uint16_t)(n == 2 ? hi : lo);
	}
	return r;
}

static struct xgw_policy_key pkt(const char *src, const char *dst, uint8_t proto, uint16_t dport)
{
	struct xgw_policy_key k = {.proto = proto, .dport = dport};

	assert_int_equal(xgw_addr_parse(&k.src, src), 0);
	assert_int_equal(xgw_addr_parse(&k.dst, dst), 0);
	return k;
}

struct pcase {
	const char *what;
	struct xgw_policy_key k;
	uint32_t want; /* rule index or XGW_POLICY_NO_RULE */
};

static void test_table(void **state)
{
	struct xgw_policy_cfg r[] = {
	    /* 0 */ rule("deny", "198.18.0.0/24", "198.18.100.1/32", "tcp", "22"),
	    /* 1 */ rule("allow", "198.18.0.0/16", "any", "tcp", "any"),
	    /* 2 */ rule("deny", "any", "198.18.100.0/24", "udp", "1000-2000"),
	    /* 3 */ rule("allow", "any", "any", "icmp", "any"),
	    /* 4 */ rule("deny", "2001:db8::/32", "2001:db8:1::/48", "any", "any"),
	    /* 5 */ rule("allow", "any", "2001:db8:1::80/128", "tcp", "80"),
	    /* 6 */ rule("deny", "10.0.0.0/8", "any", "any", "443"),
	    /* 7 */ rule("allow", "0.0.0.0/0", "any", "udp", "53"),
	    /* 8 */ rule("deny", "any", "any", "any", "5000-5010"),
	    /* 9 */ rule("allow", "any", "any", "any", "any"), /* match-all */
	    /* 10 */ rule("deny", "any", "any", "tcp", "any"), /* shadowed by 9 */
	};
	const unsigned n = sizeof(r) / sizeof(r[0]);
	const struct pcase cases[] = {
	    {"exact deny wins over broader allow", pkt("198.18.0.5", "198.18.100.1", 6, 22), 0},
	    {"other port falls to rule 1", pkt("198.18.0.5", "198.18.100.1", 6, 23), 1},
	    {"outside /24 but inside /16", pkt("198.18.7.5", "198.18.100.1", 6, 22), 1},
	    {"udp range low edge", pkt("1.2.3.4", "198.18.100.9", 17, 1000), 2},
	    {"udp range high edge", pkt("1.2.3.4", "198.18.100.9", 17, 2000), 2},
	    {"udp past range: match-all", pkt("1.2.3.4", "198.18.100.9", 17, 2001), 9},
	    {"icmp any address, dport 0", pkt("9.9.9.9", "8.8.8.8", 1, 0), 3},
	    {"v6 deny by both prefixes", pkt("2001:db8::1", "2001:db8:1::80", 6, 80), 4},
	    {"v6 src outside: rule 5", pkt("2001:db9::1", "2001:db8:1::80", 6, 80), 5},
	    {"v6 wrong port: match-all", pkt("2001:db9::1", "2001:db8:1::80", 6, 81), 9},
	    {"v4 /8 any proto port 443", pkt("10.1.2.3", "1.1.1.1", 17, 443), 6},
	    {"v4 0/0 matches any v4", pkt("203.0.113.1", "1.1.1.1", 17, 53), 7},
	    {"v4 0/0 does not match v6", pkt("2001:db9::1", "2001:db9::2", 17, 53), 9},
	    {"any-proto port range", pkt("2001:db9::1", "2001:db9::2", 6, 5005), 8},
	};

	struct xgw_policy *p = xgw_policy_build(r, n, false, NULL);
	assert_non_null(p);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t got = xgw_policy_match(p, &cases[i].k);

		if (got != cases[i].want)
			fail_msg("case %u '%s': got rule %d, want %d", i, cases[i].what, (int)got,
				 (int)cases[i].want);
		assert_int_equal(ref_match(r, n, &cases[i].k), cases[i].want);
	}
	xgw_policy_free(p);

	/* Without the match-all rule, misses take the default action, and
	 * hits are counted per rule with the default in the last slot. */
	r[9] = rule("deny", "192.0.2.0/24", "any", "any", "any");
	for (int def = 0; def < 2; def++) {
		uint64_t hits[2][12] = {{0}}, sum[12];
		uint64_t *hp[2] = {hits[0], hits[1]};
		struct xgw_policy_key miss = pkt("1.2.3.4", "198.18.100.9", 17, 2001);
		struct xgw_policy_key icmp = pkt("9.9.9.9", "8.8.8.8", 1, 0);

		p = xgw_policy_build(r, n, def, NULL);
		assert_non_null(p);
		assert_int_equal(xgw_policy_hits_len(p), n + 1);
		assert_int_equal(xgw_policy_match(p, &miss), XGW_POLICY_NO_RULE);
		assert_int_equal(xgw_policy_classify(p, &miss, hits[0]), def);
		assert_int_equal(xgw_policy_classify(p, &miss, hits[1]), def);
		assert_true(xgw_policy_classify(p, &icmp, hits[1]));
		xgw_policy_hits_sum(p, hp, 2, sum);
		assert_int_equal(sum[n], 2);
		assert_int_equal(sum[3], 1);
		assert_int_equal(sum[0], 0);
		xgw_policy_free(p);
	}
}

static void test_empty_and_errors(void **state)
{
	struct xgw_policy_key k = pkt("1.2.3.4", "5.6.7.8", 6, 80);
	struct xgw_policy *p = xgw_policy_build(NULL, 0, true, NULL);
	uint64_t hits[1] = {0};
	int err;

	assert_non_null(p);
	assert_int_equal(xgw_policy_match(p, &k), XGW_POLICY_NO_RULE);
	assert_true(xgw_policy_classify(p, &k, hits));
	assert_int_equal(hits[0], 1);
	xgw_policy_free(p);

	struct xgw_policy_cfg bad[3] = {
	    rule("deny", "10.0.0.0/8", "2001:db8::/32", "any", "any"),
	    rule("deny", "any", "any", "tcp", "any"),
	    rule("deny", "any", "any", "tcp", "any"),
	};
	err = 0;
	assert_null(xgw_policy_build(bad, 1, true, &err));
	assert_int_equal(err, -EINVAL);
	bad[1].dport_lo = 100;
	bad[1].dport_hi = 99;
	err = 0;
	assert_null(xgw_policy_build(bad + 1, 1, true, &err));
	assert_int_equal(err, -EINVAL);
	bad[2].src.addr.family = AF_INET;
	bad[2].src.len = 33;
	err = 0;
	assert_null(xgw_policy_build(bad + 2, 1, true, &err));
	assert_int_equal(err, -EINVAL);
}

/* ---- randomized: 10,000 rules, 100,000 packets ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* splitmix64: reproducible across libcs. */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rndn(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* Rule mixes.  SITES: addresses from a few dozen "sites" so that prefixes
 * nest and overlap as in real policies, with some fully random ones; the
 * share of rules with neither address is addr_wild_permille.  BROAD: short
 * prefixes (/0-/16, IPv6 /0-/48) and wide overlapping port ranges: every
 * packet lies in many rules' ranges.  V6: 90% IPv6, prefix lengths spread
 * over /0-/128.  DEEP: both addresses given, /8-/32 outside the sites, so
 * few rules match a packet and most packets reach the default: the
 * slowest lookups for a bit-vector scheme. */
enum mix { MIX_SITES, MIX_BROAD, MIX_V6, MIX_DEEP };
static enum mix mix = MIX_SITES;
/* Aim packets at the edges of their rule's ranges (first/last address and
 * port, and one past them). */
static bool pkt_edges;
static bool rnd_full; /* uniform addresses, outside the sites */

static void rnd_addr(struct xgw_addr *a, int v6)
{
	if (v6) {
		uint8_t b[16];
		uint64_t hi = 0x20010db800000000ull | ((uint64_t)rndn(32) << 16), lo = rnd();

		if (rnd_full || rndn(8) == 0)
			hi = rnd();
		for (int i = 0; i < 8; i++) {
			b[i] = (uint8_t)(hi >> (56 - 8 * i));
			b[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
		}
		xgw_addr_v6(a, b);
	} else {
		uint32_t v = (0xc6120000u + (rndn(32) << 11)) ^ (uint32_t)rndn(2048);

		if (rnd_full || rndn(8) == 0)
			v = (uint32_t)rnd();
		xgw_addr_v4(a, htonl(v));
	}
}

static uint8_t rnd_len(int v6)
{
	static const uint8_t common4[] = {8, 16, 20, 24, 24, 28, 32, 32};
	static const uint8_t common6[] = {32, 40, 48, 56, 64, 64, 96, 128};

	if (mix == MIX_BROAD)
		return (uint8_t)rndn(v6 ? 49 : 17);
	if (mix == MIX_DEEP)
		return (uint8_t)(8 + rndn(v6 ? 121 : 25));
	if (rndn(4) == 0 || (mix == MIX_V6 && rndn(2)))
		return (uint8_t)rndn(v6 ? 129 : 33);
	return v6 ? common6[rndn(8)] : common4[rndn(8)];
}

static void rnd_prefix(struct xgw_prefix *p, int v6)
{
	rnd_full = mix == MIX_DEEP;
	rnd_addr(&p->addr, v6);
	rnd_full = false;
	p->len = rnd_len(v6);
	xgw_addr_mask(&p->addr, p->len);
}

/* Share of rules with neither address given (they match whole families
 * and so decide most packets): per mille. */
static unsigned addr_wild_permille = 10;

static void rnd_ports(struct xgw_policy_cfg *r)
{
	static const uint16_t ports[] = {22, 53, 80, 443, 8080, 3306, 5432, 6379};
	unsigned pk = rndn(10);

	if (pk < 4 || r->proto == IPPROTO_ICMP) {
		r->dport_lo = 0;
		r->dport_hi = 65535;
	} else if (pk < 8 && mix != MIX_BROAD) {
		r->dport_lo = r->dport_hi = rndn(2) ? ports[rndn(8)] : (uint16_t)(1 + rndn(65535));
	} else if (mix == MIX_BROAD) {
		r->dport_lo = (uint16_t)rndn(65536);
		r->dport_hi = (uint16_t)(r->dport_lo + rndn(65536u - r->dport_lo));
	} else if (rndn(20) == 0) {
		r->dport_lo = 1024;
		r->dport_hi = 65535;
	} else {
		r->dport_lo = (uint16_t)(1 + rndn(64000));
		r->dport_hi = (uint16_t)(r->dport_lo + rndn(1024));
	}
}

static void rnd_rule(struct xgw_policy_cfg *r, uint32_t id)
{
	int v6 = mix == MIX_V6 ? rndn(10) < 9 : rndn(10) < 3;

	memset(r, 0, sizeof(*r));
	r->id = id;
	r->allow = rndn(2);
	if (rndn(10) >= 3 || mix == MIX_DEEP)
		rnd_prefix(&r->src, v6);
	if (rndn(10) >= 2 || mix == MIX_DEEP ||
	    (!r->src.addr.family && rndn(1000) >= addr_wild_permille))
		rnd_prefix(&r->dst, v6);
	unsigned pr = rndn(20);
	r->proto = pr < 6 ? 0 : pr < 14 ? IPPROTO_TCP : pr < 19 ? IPPROTO_UDP : IPPROTO_ICMP;
	rnd_ports(r);
}

typedef unsigned __int128 u128;

static u128 addr_u128(const struct xgw_addr *a)
{
	u128 v = 0;

	for (int i = 0; i < (a->family == AF_INET6 ? 16 : 4); i++)
		v = v << 8 | a->b[i];
	return v;
}

static void u128_addr(struct xgw_addr *a, u128 v)
{
	for (int i = (a->family == AF_INET6 ? 16 : 4) - 1; i >= 0; i--, v >>= 8)
		a->b[i] = (uint8_t)v;
}

/* Move a packet address to its prefix's first or last address, or one
 * outside (wrapping at the ends of the family). */
static void edge_addr(struct xgw_addr *a, const struct xgw_prefix *pf)
{
	int bits = xgw_addr_bits(a);
	u128 all = bits == 128 ? ~(u128)0 : ((u128)1 << bits) - 1;
	u128 host = pf->len >= bits ? 0 : pf->len == 0 ? all : ((u128)1 << (bits - pf->len)) - 1;
	u128 v = addr_u128(&pf->addr) & ~host & all;

	switch (rndn(4)) {
	case 0:
		break;
	case 1:
		v |= host;
		break;
	case 2:
		v = (v - 1) & all;
		break;
	default:
		v = ((v | host) + 1) & all;
	}
	u128_addr(a, v);
}

/* Half the packets are aimed inside a random rule, half are random (and
 * half of those outside the sites). */
static void rnd_pkt(struct xgw_policy_key *k, const struct xgw_policy_cfg *r, unsigned n)
{
	const struct xgw_policy_cfg *t = n && rndn(2) ? &r[rndn(n)] : NULL;
	int v6 = rndn(10) < 3;

	if (mix == MIX_V6)
		v6 = rndn(10) < 9;
	rnd_full = !t && rndn(2);
	if (t && (t->src.addr.family || t->dst.addr.family))
		v6 = (t->src.addr.family ? t->src.addr.family : t->dst.addr.family) == AF_INET6;
	rnd_addr(&k->src, v6);
	rnd_addr(&k->dst, v6);
	rnd_full = false;
	k->proto = rndn(3) ? IPPROTO_TCP : IPPROTO_UDP;
	k->dport = (uint16_t)rndn(65536);
	if (rndn(4) == 0)
		k->dport = (uint16_t)(rndn(2) ? 443 : 22);
	if (!t)
		return;
	for (int side = 0; side < 2; side++) {
		const struct xgw_prefix *pf = side ? &t->dst : &t->src;
		struct xgw_addr *a = side ? &k->dst : &k->src;

		if (!pf->addr.family)
			continue;
		if (pkt_edges) {
			edge_addr(a, pf);
			continue;
		}
		for (int i = 0; i < 16; i++) {
			int bit0 = i * 8;
			uint8_t keep = pf->len >= bit0 + 8 ? 0xff
				       : pf->len <= bit0
					   ? 0
					   : (uint8_t)(0xff << (8 - (pf->len - bit0)));

			a->b[i] = (pf->addr.b[i] & keep) | (a->b[i] & ~keep);
		}
		if (a->family == AF_INET)
			a->w[1] = a->w[2] = a->w[3] = 0;
	}
	if (t->proto)
		k->proto = t->proto;
	k->dport = (uint16_t)(t->dport_lo + rndn((unsigned)(t->dport_hi - t->dport_lo) + 1));
	if (pkt_edges) {
		static const int delta[] = {0, 0, -1, 1};
		int d = delta[rndn(4)];

		k->dport = (uint16_t)((d <= 0 ? t->dport_lo : t->dport_hi) + d);
		if (rndn(2))
			k->dport = rndn(2) ? t->dport_hi : t->dport_lo;
	}
	if (k->proto == IPPROTO_ICMP)
		k->dport = 0;
}

static void check_random(unsigned n_rules, unsigned n_pkts)
{
	struct xgw_policy_cfg *r = calloc(n_rules, sizeof(*r));
	struct timespec t0, t1;
	unsigned matched = 0, deflt = 0;
	int err = 0;

	for (unsigned i = 0; i < n_rules; i++)
		rnd_rule(&r[i], i + 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct xgw_policy *p = xgw_policy_build(r, n_rules, false, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_non_null(p);
	for (unsigned i = 0; i < n_pkts; i++) {
		struct xgw_policy_key k;

		rnd_pkt(&k, r, n_rules);
		uint32_t want = ref_match(r, n_rules, &k), got = xgw_policy_match(p, &k);

		if (got != want) {
			char s[XGW_ADDR_STRLEN], d[XGW_ADDR_STRLEN];

			fail_msg("packet %u %s -> %s proto %u dport %u: got rule %d, want %d", i,
				 xgw_addr_str(&k.src, s, sizeof(s)),
				 xgw_addr_str(&k.dst, d, sizeof(d)), k.proto, k.dport, (int)got,
				 (int)want);
		}
		if (want == XGW_POLICY_NO_RULE)
			deflt++;
		else
			matched++;
	}
	printf("policy random: %u rules (%u tiers, build %.1f ms, %.1f KiB), %u packets: "
	       "%u matched a rule, %u took the default; all equal to the linear scan\n",
	       n_rules, p->n_tiers, (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6,
	       xgw_policy_mem(p) / 1024.0, n_pkts, matched, deflt);
	xgw_policy_free(p);
	free(r);
}

/* The SITES mix with 1% of rules without addresses (packets mostly decided
 * by some rule) and with none (more packets fall through to the default);
 * then packets at the edges of their rule's ranges, and the BROAD, V6 and
 * DEEP mixes (see rnd_rule). */
static void test_random(void **state)
{
	static const struct {
		const char *what;
		enum mix mix;
		unsigned wild_permille;
		bool edges;
		unsigned big_pkts;
	} runs[] = {
	    {"sites, 1% address-less rules", MIX_SITES, 10, false, 100000},
	    {"sites, no address-less rules", MIX_SITES, 0, false, 100000},
	    {"sites, packets at range edges", MIX_SITES, 10, true, 50000},
	    {"broad prefixes and port ranges", MIX_BROAD, 10, false, 30000},
	    {"broad, packets at range edges", MIX_BROAD, 10, true, 30000},
	    {"90% IPv6, any prefix length", MIX_V6, 10, true, 30000},
	    {"deep: few rules match a packet", MIX_DEEP, 10, true, 30000},
	};

	for (unsigned m = 0; m < sizeof(runs) / sizeof(runs[0]); m++) {
		mix = runs[m].mix;
		addr_wild_permille = runs[m].wild_permille;
		pkt_edges = runs[m].edges;
		printf("mix: %s\n", runs[m].what);
		check_random(10, 20000);
		check_random(300, 20000);
		check_random(2000, 20000);
		check_random(10000, runs[m].big_pkts);
	}
	mix = MIX_SITES;
	addr_wild_permille = 10;
	pkt_edges = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_empty_and_errors),
	    cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
