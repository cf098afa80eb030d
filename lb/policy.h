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
#include "ctl/config.h"

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

enum { XGW_PF_SRC, XGW_PF_DST, XGW_PF_PROTO, XGW_PF_PORT, XGW_PF_N };
#define XGW_POLICY_SLOTS 8 /* groups that specify a given field: 2^(XGW_PF_N - 1) */

/* One 64-bit word of a group-local rule bitset.  Lists keep only the
 * non-zero words, except that a list with at least half of its group's
 * words non-zero is stored whole (len == nwords, w == index) so that the
 * matcher indexes it instead of walking it. */
struct xgw_pol_word {
	uint64_t bits;
	uint32_t w;
	uint32_t pad;
};

/* Where a field class's bitset for one group lives in the word pool.  The
 * 8 refs of a class fill one cache line. */
struct xgw_pol_ref {
	uint32_t off;
	uint32_t len;
};

/* A field's value -> class map: boundaries (interval starts, first is 0)
 * searched by value; class 0 is "no rule specifies a value here". */
struct xgw_pol_field {
	uint32_t n;		 /* intervals */
	uint32_t *b32;		 /* IPv4 boundaries */
	unsigned __int128 *b128; /* IPv6 boundaries */
	uint32_t *direct;	 /* proto (256) and port (65536): value -> class */
	uint32_t *cls;		 /* interval -> class, for b32/b128 */
	const struct xgw_pol_ref (*refs)[XGW_POLICY_SLOTS]; /* class -> refs */
	uint32_t n_classes;
};

/* Rules that specify the same set of fields ("signature", bit f set if
 * field f is not a wildcard), with group-local indices in priority order. */
struct xgw_pol_group {
	uint32_t first; /* global index of the group's first rule */
	uint8_t sig;
	uint8_t nf; /* fields specified */
	uint8_t field[XGW_PF_N];
	uint8_t slot[XGW_PF_N];
	uint32_t n;
	uint32_t nwords; /* (n + 63) / 64; a list this long is dense */
	uint32_t *gidx;	 /* local -> global rule index */
};

struct xgw_policy {
	uint32_t n_rules;
	bool default_allow;
	uint32_t match_all; /* first rule with no field specified, or NO_RULE */
	uint32_t n_groups;
	struct xgw_pol_group group[15];	     /* sorted by .first */
	struct xgw_pol_field src[2], dst[2]; /* [0] IPv4, [1] IPv6 */
	struct xgw_pol_field proto, port;
	struct xgw_pol_word *pool;
	size_t pool_len;
	uint8_t *allow; /* per rule */
	uint32_t *id;	/* per rule */
	size_t mem;
};

#endif
