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
#include "tests/lib/policy_gen.h"

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

static void check_random(struct xgw_polgen *g, unsigned n_rules, unsigned n_pkts)
{
	struct xgw_policy_cfg *r = calloc(n_rules, sizeof(*r));
	struct timespec t0, t1;
	unsigned matched = 0, deflt = 0;
	int err = 0;

	xgw_polgen_rules(g, r, n_rules);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct xgw_policy *p = xgw_policy_build(r, n_rules, false, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_non_null(p);
	for (unsigned i = 0; i < n_pkts; i++) {
		struct xgw_policy_key k;

		xgw_polgen_pkt(g, &k, r, n_rules);
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
 * DEEP mixes (see tests/lib/policy_gen.h). */
static void test_random(void **state)
{
	static const struct {
		const char *what;
		enum xgw_polgen_mix mix;
		unsigned wild_permille;
		bool edges;
		unsigned big_pkts;
	} runs[] = {
	    {"sites, 1% address-less rules", XGW_POLGEN_SITES, 10, false, 100000},
	    {"sites, no address-less rules", XGW_POLGEN_SITES, 0, false, 100000},
	    {"sites, packets at range edges", XGW_POLGEN_SITES, 10, true, 50000},
	    {"broad prefixes and port ranges", XGW_POLGEN_BROAD, 10, false, 30000},
	    {"broad, packets at range edges", XGW_POLGEN_BROAD, 10, true, 30000},
	    {"90% IPv6, any prefix length", XGW_POLGEN_V6, 10, true, 30000},
	    {"deep: few rules match a packet", XGW_POLGEN_DEEP, 10, true, 30000},
	};

	/* One generator for all runs: each continues the previous one's
	 * random sequence. */
	struct xgw_polgen g;

	xgw_polgen_init(&g, XGW_POLGEN_SEED);
	for (unsigned m = 0; m < sizeof(runs) / sizeof(runs[0]); m++) {
		g.mix = runs[m].mix;
		g.addr_wild_permille = runs[m].wild_permille;
		g.pkt_edges = runs[m].edges;
		printf("mix: %s\n", runs[m].what);
		check_random(&g, 10, 20000);
		check_random(&g, 300, 20000);
		check_random(&g, 2000, 20000);
		check_random(&g, 10000, runs[m].big_pkts);
	}
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
