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

/* Index of the last interval start <= x; b[0] is 0, so there is one.  b[]
 * is padded with all-ones to 2 * step entries, so the halving needs no
 * bounds; x = all-ones may run into the padding, hence the clamp. */
static uint32_t search32(const uint32_t *b, uint32_t n, uint32_t step, uint32_t x)
{
	uint32_t pos = 0;

	for (; step; step >>= 1)
		pos = b[pos + step] <= x ? pos + step : pos;
	return pos < n ? pos : n - 1;
}

static uint32_t search128(const unsigned __int128 *b, uint32_t n, uint32_t step,
			  unsigned __int128 x)
{
	uint32_t pos = 0;

	for (; step; step >>= 1)
		pos = b[pos + step] <= x ? pos + step : pos;
	return pos < n ? pos : n - 1;
}

/* Row (interval * n_tiers) of an address's interval. */
static const uint64_t *addr_row(const struct xgw_pol_field *f4, const struct xgw_addr *a,
				uint32_t nt)
{
	const struct xgw_pol_field *f;
	uint32_t i;

	if (a->family == AF_INET6) {
		unsigned __int128 v = (unsigned __int128)be64toh(a->q[0]) << 64 | be64toh(a->q[1]);

		f = f4 + 1;
		i = search128(f->b128, f->n, f->step, v);
	} else {
		f = f4;
		i = search32(f->b32, f->n, f->step, be32toh(a->w[0]));
	}
	return f->row + (size_t)i * nt;
}

/* First rule set in all four sets, tier by tier.  The row entries say
 * which words of each slice are non-zero: a tier where no word is non-zero
 * in all four is skipped without touching its slices, otherwise only those
 * words are ANDed, in order. */
static uint32_t scan(const uint64_t *pool, const uint64_t *const *row, uint32_t nt, uint32_t tw)
{
	for (uint32_t t = 0; t < nt; t++) {
		uint64_t ra = row[0][t], rb = row[1][t], rc = row[2][t], rd = row[3][t];
		uint32_t nz = (uint32_t)((ra & rb & rc & rd) >> 32);

		if (!nz)
			continue;
		const uint64_t *a = pool + (uint32_t)ra, *b = pool + (uint32_t)rb;
		const uint64_t *c = pool + (uint32_t)rc, *d = pool + (uint32_t)rd;

		for (; nz; nz &= nz - 1) {
			unsigned w = (unsigned)__builtin_ctz(nz);
			uint64_t x = a[w] & b[w] & c[w] & d[w];

			if (x)
				return (t * tw + w) * 64 + (uint32_t)__builtin_ctzll(x);
		}
	}
	return XGW_POLICY_NO_RULE;
}

uint32_t xgw_policy_match(const struct xgw_policy *p, const struct xgw_policy_key *k)
{
	const uint32_t nt = p->n_tiers;
	const uint64_t *row[4];

	if (!nt)
		return XGW_POLICY_NO_RULE;
	row[0] = addr_row(p->src, &k->src, nt);
	row[1] = addr_row(p->dst, &k->dst, nt);
	row[2] = p->proto.row + p->proto.direct[k->proto];
	row[3] = p->port.row + p->port.direct[k->dport];
	return scan(p->pool, row, nt, p->tier_words);
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
