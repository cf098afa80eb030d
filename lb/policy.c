/* SPDX-License-Identifier: BSD-3-Clause */
/* Policy matching (worker hot path: no allocation, no locks, no writes
 * except the caller's own counters).  The structure is explained in
 * policy_build.c. */
#include <endian.h>

#include "lb/policy.h"

unsigned xgw_policy_n_rules(const struct xgw_policy *p)
{
	return p->n_rules;
}

uint32_t xgw_policy_rule_id(const struct xgw_policy *p, uint32_t idx)
{
	return p->id[idx];
}

size_t xgw_policy_mem(const struct xgw_policy *p)
{
	return p->mem;
}

/* Index of the last interval start <= x; b[0] is 0, so there is one.
 * Branch-free halving: the loads are the cost, not mispredictions. */
static uint32_t search32(const uint32_t *b, uint32_t n, uint32_t x)
{
	const uint32_t *base = b;

	while (n > 1) {
		uint32_t half = n / 2;

		base = base[half] <= x ? base + half : base;
		n -= half;
	}
	return (uint32_t)(base - b);
}

static uint32_t search128(const unsigned __int128 *b, uint32_t n, unsigned __int128 x)
{
	const unsigned __int128 *base = b;

	while (n > 1) {
		uint32_t half = n / 2;

		base = base[half] <= x ? base + half : base;
		n -= half;
	}
	return (uint32_t)(base - b);
}

static const struct xgw_pol_ref *addr_refs(const struct xgw_policy *p,
					   const struct xgw_pol_field *f4, const struct xgw_addr *a)
{
	const struct xgw_pol_field *f;
	uint32_t i;

	if (a->family == AF_INET6) {
		unsigned __int128 v = (unsigned __int128)be64toh(a->q[0]) << 64 | be64toh(a->q[1]);

		f = f4 + 1;
		i = search128(f->b128, f->n, v);
	} else {
		f = f4;
		i = search32(f->b32, f->n, be32toh(a->w[0]));
	}
	return f->refs[f->cls[i]];
}

/* First group-local rule in the intersection of nf sorted word lists,
 * giving up once the group's rules cannot beat `best`.  The shortest list
 * drives; dense lists (len == nwords) are indexed, sparse ones walked
 * forward (they are short: a sparse list has under nwords/2 entries). */
static uint32_t intersect(const struct xgw_pol_group *g, const struct xgw_pol_word *const *l,
			  const uint32_t *len, unsigned nf, uint32_t best)
{
	unsigned s = 0;
	uint32_t pos[XGW_PF_N] = {0};

	for (unsigned k = 1; k < nf; k++)
		if (len[k] < len[s])
			s = k;
	for (uint32_t i = 0; i < len[s]; i++) {
		uint32_t w = l[s][i].w;
		uint64_t bits = l[s][i].bits;

		if (g->gidx[w * 64] >= best)
			return XGW_POLICY_NO_RULE;
		for (unsigned k = 0; k < nf && bits; k++) {
			if (k == s)
				continue;
			if (len[k] == g->nwords) {
				bits &= l[k][w].bits;
				continue;
			}
			while (pos[k] < len[k] && l[k][pos[k]].w < w)
				pos[k]++;
			if (pos[k] == len[k])
				return XGW_POLICY_NO_RULE;
			bits = l[k][pos[k]].w == w ? bits & l[k][pos[k]].bits : 0;
		}
		if (bits)
			return w * 64 + (uint32_t)__builtin_ctzll(bits);
	}
	return XGW_POLICY_NO_RULE;
}

uint32_t xgw_policy_match(const struct xgw_policy *p, const struct xgw_policy_key *k)
{
	const struct xgw_pol_ref *rf[XGW_PF_N];
	uint32_t best = p->match_all;

	rf[XGW_PF_SRC] = addr_refs(p, p->src, &k->src);
	rf[XGW_PF_DST] = addr_refs(p, p->dst, &k->dst);
	rf[XGW_PF_PROTO] = p->proto.refs[p->proto.direct[k->proto]];
	rf[XGW_PF_PORT] = p->port.refs[p->port.direct[k->dport]];

	for (uint32_t gi = 0; gi < p->n_groups; gi++) {
		const struct xgw_pol_group *g = &p->group[gi];
		const struct xgw_pol_word *l[XGW_PF_N];
		uint32_t len[XGW_PF_N] = {0}; /* nf >= 1; quiets gcc 12 */
		unsigned f;

		if (g->first >= best)
			break;
		for (f = 0; f < g->nf; f++) {
			const struct xgw_pol_ref *r = &rf[g->field[f]][g->slot[f]];

			if (!r->len)
				break;
			l[f] = p->pool + r->off;
			len[f] = r->len;
		}
		if (f < g->nf)
			continue;
		uint32_t loc = intersect(g, l, len, g->nf, best);

		if (loc != XGW_POLICY_NO_RULE && g->gidx[loc] < best)
			best = g->gidx[loc];
	}
	return best;
}

bool xgw_policy_classify(const struct xgw_policy *p, const struct xgw_policy_key *k, uint64_t *hits)
{
	uint32_t r = xgw_policy_match(p, k);

	if (r == XGW_POLICY_NO_RULE) {
		hits[p->n_rules]++;
		return p->default_allow;
	}
	hits[r]++;
	return p->allow[r];
}

void xgw_policy_hits_sum(const struct xgw_policy *p, uint64_t *const *hits, unsigned n_workers,
			 uint64_t *out)
{
	for (uint32_t i = 0; i <= p->n_rules; i++) {
		uint64_t s = 0;

		for (unsigned w = 0; w < n_workers; w++)
			s += hits[w][i];
		out[i] = s;
	}
}
