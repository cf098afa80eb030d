/* SPDX-License-Identifier: BSD-3-Clause */
/* Random policy rules and packets, shared by the policy unit test (which
 * checks the classifier against a linear scan) and bench_lb_policy.
 * Reproducible: the same seed and settings give the same rules and
 * packets on every libc (splitmix64).
 *
 *	struct xgw_polgen g;
 *
 *	xgw_polgen_init(&g, XGW_POLGEN_SEED);
 *	g.mix = XGW_POLGEN_DEEP;
 *	xgw_polgen_rules(&g, rules, n);
 *	xgw_polgen_pkt(&g, &key, rules, n);
 */
#ifndef XGW_TESTS_POLICY_GEN_H
#define XGW_TESTS_POLICY_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "lb/policy.h"

#define XGW_POLGEN_SEED 0x9e3779b97f4a7c15ull

/* Rule mixes.  SITES: addresses from a few dozen "sites" so that prefixes
 * nest and overlap as in real policies, with some fully random ones; the
 * share of rules with neither address is addr_wild_permille.  BROAD: short
 * prefixes (/0-/16, IPv6 /0-/48) and wide overlapping port ranges: every
 * packet lies in many rules' ranges.  V6: 90% IPv6, prefix lengths spread
 * over /0-/128.  DEEP: both addresses given, /8-/32 outside the sites, so
 * few rules match a packet and most packets reach the default: the
 * slowest lookups for a bit-vector scheme. */
enum xgw_polgen_mix { XGW_POLGEN_SITES, XGW_POLGEN_BROAD, XGW_POLGEN_V6, XGW_POLGEN_DEEP };

struct xgw_polgen {
	uint64_t rng; /* splitmix64 state */
	enum xgw_polgen_mix mix;
	/* Share of rules with neither address given (they match whole
	 * families and so decide most packets): per mille. */
	unsigned addr_wild_permille;
	/* Aim packets at the edges of their rule's ranges (first/last
	 * address and port, and one past them). */
	bool pkt_edges;
};

/* Seed, SITES mix, 10 per mille of address-less rules, no edges. */
void xgw_polgen_init(struct xgw_polgen *g, uint64_t seed);

/* One random rule with the given id. */
void xgw_polgen_rule(struct xgw_polgen *g, struct xgw_policy_cfg *r, uint32_t id);
/* rules[0..n) with ids 1..n. */
void xgw_polgen_rules(struct xgw_polgen *g, struct xgw_policy_cfg *r, unsigned n);

/* One packet: half are aimed inside a random rule of r[0..n), half are
 * random (and half of those outside the sites). */
void xgw_polgen_pkt(struct xgw_polgen *g, struct xgw_policy_key *k, const struct xgw_policy_cfg *r,
		    unsigned n);

#endif
