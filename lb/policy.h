/* SPDX-License-Identifier: BSD-3-Clause */
/* Policy classifier: ordered allow/deny rules on source CIDR, destination
 * CIDR, protocol and destination port range; the first matching rule (the
 * lowest index in the array given to the builder, i.e. config order) wins,
 * otherwise the default action applies.
 *
 * The control thread compiles the rule list into an immutable classifier
 * (milliseconds at 10,000 rules) and publishes it by RCU; workers match
 * against it without locks or allocation.  Hit counters are not in the
 * classifier: each worker owns an array of xgw_policy_hits_len() u64
 * counters indexed by rule index (the last one counts default verdicts),
 * and readers sum the workers' arrays.
 *
 * Packets without L4 ports (ICMP, ...) are matched with dport 0, so a rule
 * that restricts the port to a range excluding 0 never matches them.
 *
 * How matching works (and why) is described in policy_build.c. */
#ifndef XGW_LB_POLICY_H
#define XGW_LB_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/config.h"

#define XGW_POLICY_NO_RULE UINT32_MAX

/* What the pipeline asks about: addresses of one family (AF_INET or
 * AF_INET6), protocol, destination port in host order (0 if none). */
struct xgw_policy_key {
	struct xgw_addr src;
	struct xgw_addr dst;
	uint8_t proto;
	uint16_t dport;
};

struct xgw_policy;

/* Compile rules[0..n) (priority = array position).  NULL with *err set:
 * -EINVAL for a rule whose src and dst families differ, a prefix length
 * beyond the family's width, dport_lo > dport_hi; -ENOMEM. */
struct xgw_policy *xgw_policy_build(const struct xgw_policy_cfg *rules, unsigned n,
				    bool default_allow, int *err);
void xgw_policy_free(struct xgw_policy *p);

unsigned xgw_policy_n_rules(const struct xgw_policy *p);
uint32_t xgw_policy_rule_id(const struct xgw_policy *p, uint32_t idx);
/* Bytes held by the compiled structure, for `xgwctl stats` and benchmarks. */
size_t xgw_policy_mem(const struct xgw_policy *p);

/* Index of the first rule that matches, or XGW_POLICY_NO_RULE. */
uint32_t xgw_policy_match(const struct xgw_policy *p, const struct xgw_policy_key *k);

/* Counters a worker keeps for one classifier: n_rules + 1 entries. */
static inline unsigned xgw_policy_hits_len(const struct xgw_policy *p)
{
	return xgw_policy_n_rules(p) + 1;
}

/* Match, count into the worker's hits[] and return true to allow. */
bool xgw_policy_classify(const struct xgw_policy *p, const struct xgw_policy_key *k,
			 uint64_t *hits);

/* out[i] = sum over workers of hits[w][i], for i < xgw_policy_hits_len(p). */
void xgw_policy_hits_sum(const struct xgw_policy *p, uint64_t *const *hits, unsigned n_workers,
			 uint64_t *out);

/* ---- Layout shared by policy_build.c and policy.c; not an API. ---- */

/* Rules are cut, in priority order, into tiers of tier_words * 64 rules.
 * Each field (src and dst address per family, proto, dport) is cut into
 * elementary intervals; for every interval and tier, row[] gives the word
 * offset in pool[] of the bitset of the tier's rules that accept the
 * interval (wildcards included) in its low 32 bits, and which of the
 * bitset's words are non-zero in its high 32 bits.  Equal bitsets are
 * stored once. */
#define XGW_POLICY_TIER_WORDS_MAX 16

struct xgw_pol_field {
	uint32_t n;		 /* intervals; the first starts at 0 */
	uint32_t step;		 /* b32/b128 hold 2 * step >= n entries, padded */
	uint32_t *b32;		 /* IPv4 interval starts */
	unsigned __int128 *b128; /* IPv6 interval starts */
	uint32_t *direct;	 /* proto (256), port (65536): value -> interval * n_tiers */
	uint64_t *row;		 /* interval * n_tiers + tier -> offset | nonzero << 32 */
};

struct xgw_policy {
	uint32_t n_rules;
	bool default_allow;
	uint32_t n_tiers;
	uint32_t tier_words;		     /* 1, 2, 4, 8 or XGW_POLICY_TIER_WORDS_MAX */
	struct xgw_pol_field src[2], dst[2]; /* [0] IPv4, [1] IPv6 */
	struct xgw_pol_field proto, port;
	uint64_t *pool; /* 64-byte aligned */
	size_t pool_words;
	uint8_t *allow; /* per rule */
	uint32_t *id;	/* per rule */
	size_t mem;
};

#endif
