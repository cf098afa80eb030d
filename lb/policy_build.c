/* SPDX-License-Identifier: BSD-3-Clause */
/* Policy classifier compilation (control thread).
 *
 * Design: a bit-vector decomposition (Lakshman & Stiliadis, SIGCOMM'98)
 * over rules in priority order, compressed by tiers.
 *
 * Each field (src and dst address per family, proto, dport) is cut into
 * elementary intervals at the ends of the rules' ranges.  For an interval,
 * the set of rules that accept it (those whose range covers it, plus those
 * that leave the field as a wildcard) is a bitset over rule indices; a
 * packet's matches are the AND of its four intervals' sets, and the first
 * match is the lowest set bit.  A lookup is one search per field (a
 * branch-free binary search over interval starts for addresses, a direct
 * table for proto and port), then a word-by-word AND of four bitsets that
 * stops at the first non-zero word.  Because the sets include the
 * wildcards, they are dense in the broad rules that decide most packets,
 * and the AND usually stops within the first few words.
 *
 * Memory: stored whole, the sets would take intervals x n/8 bytes (about
 * 25 MB at 10,000 rules, quadratic in n).  So the rule list is cut into
 * tiers of up to 1,024 rules (16 words); for every interval and tier a
 * 64-bit row entry holds the offset of the tier's slice of the set and a
 * mask of the slice's non-zero words, and equal slices are stored once
 * (hash-consed).  Inside one tier an interval's slice only changes where one
 * of the tier's own rules starts or ends, so a field has at most 2 x n +
 * tiers distinct slices in all (<= 128 bytes each), and the rows take
 * intervals x tiers x 8 bytes, intervals <= 2 x n + 1 per field: at 10,000
 * rules at most ~10 MB of slices and ~6 MB of rows, 3-5 MB in practice.
 * Rows grow as n^2 / 1,024: for lists much beyond 10,000 rules the tier
 * size should grow with n.  The masks let the matcher skip a tier, without
 * reading its slices, when no word is non-zero in all four slices; that is
 * what keeps selective rule sets (few rules match a packet, most packets
 * take the default) cheap.  Build time is one sorted sweep per field; only
 * the tiers touched by a boundary are re-hashed.
 *
 * Why not the earlier design (rules split into 15 groups by which fields
 * they specify, sparse per-group word lists): inside a group no rule is a
 * wildcard, so each group's own first match lies deep in its list, and the
 * groups were searched one after the other: ~36 words walked per lookup,
 * 3,161 instructions and 31 MiB at 10,000 rules.  Why not tuple space
 * search (OVS): its cost grows with the number of distinct (src len, dst
 * len, ...) tuples, up to 33 x 33 for IPv4 and far more for IPv6, and port
 * ranges do not hash.  Why not decision trees (HiCuts/HyperSplit): wildcard
 * and range rules get replicated across cuts and the memory is hard to
 * bound; here it is bounded by the formulas above.
 *
 * Measured with bench/bench_lb_policy.c (mixes described there), 10,000
 * rules; instructions per lookup from callgrind (--toggle-collect=
 * run_lookups, 100,000 lookups, loop and counting included); ns = median
 * of 5 x 500,000 lookups on a shared 2-core VM (+-2x); before = the group
 * design:
 *
 *   mix                   instr (before)   ns (before)   memory (before)
 *   sites, 1% addr-less     474 (3,161)    103 (722)     3.8 MiB (31.1)
 *   sites, no addr-less     477 (3,154)     99 (702)     3.8 MiB (31.1)
 *   broad                   294 (1,354)     40 (213)     3.1 MiB (20.1)
 *   v6                      439 (1,339)     95 (338)     4.2 MiB (37.2)
 *   deep (50% default)      407   (643)    107 (145)     5.1 MiB (13.6)
 *   sites, 1,000 rules      348 (1,630)     55 (139)     0.5 MiB (0.9)
 *   sites, 10 rules         198   (361)     25 (33)
 *
 * Build: ~10 ms at 10,000 rules (before: ~100 ms).  Weak spot: a packet
 * that matches no rule while every field is unselective (all four slices
 * dense, e.g. the sites mix's default verdicts, 1.2% of its packets) ANDs
 * all n/64 words: ~2,900 instructions at 10,000 rules (still below the old
 * average).  A wider AND (AVX2, 4 words per step, with run-time dispatch)
 * would cut that case by ~3x if it ever matters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>

#include "common/hash.h"
#include "lb/policy.h"

typedef unsigned __int128 u128;

struct range {
	u128 lo, hi;
	uint32_t rule;
};

struct event {
	u128 pos;
	uint32_t rule;
	int add;
};

struct builder {
	struct xgw_policy *p;
	uint32_t nt, tw; /* tiers, words per tier */
	uint64_t *pool;	 /* interned slices, tw words each */
	size_t pool_len, pool_cap;
	uint32_t *ht; /* slice number + 1, 0 = empty */
	size_t ht_cap, ht_n;
	uint64_t *active; /* nt * tw words: the current interval's set */
	uint64_t *wild;	  /* nt * tw words: rules without this field */
	uint8_t *dirty;	  /* per tier: slice changed since last interned */
	uint64_t *last;	  /* per tier: row entry of the last interned slice */
};

static u128 addr_value(const struct xgw_addr *a)
{
	if (a->family == AF_INET6)
		return (u128)be64toh(a->q[0]) << 64 | be64toh(a->q[1]);
	return be32toh(a->w[0]);
}

static u128 ones(int bits)
{
	return bits >= 128 ? ~(u128)0 : ((u128)1 << bits) - 1;
}

static void prefix_range(const struct xgw_prefix *pf, struct range *r)
{
	int bits = xgw_addr_bits(&pf->addr);
	u128 host = ones(bits - pf->len);

	r->lo = addr_value(&pf->addr) & ~host;
	r->hi = r->lo | host;
}

static int check_rule(const struct xgw_policy_cfg *r)
{
	uint8_t sf = r->src.addr.family, df = r->dst.addr.family;

	if (sf && df && sf != df)
		return -EINVAL;
	if ((sf && sf != AF_INET && sf != AF_INET6) || (df && df != AF_INET && df != AF_INET6))
		return -EINVAL;
	if ((sf && r->src.len > xgw_addr_bits(&r->src.addr)) ||
	    (df && r->dst.len > xgw_addr_bits(&r->dst.addr)))
		return -EINVAL;
	if (r->dport_lo > r->dport_hi)
		return -EINVAL;
	return 0;
}

static int cmp_event(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	return (x->pos > y->pos) - (x->pos < y->pos);
}

static uint64_t slice_hash(const uint64_t *w, unsigned tw)
{
	uint64_t h = 0;

	for (unsigned i = 0; i < tw; i++)
		h = xgw_hash_round(h, w[i]);
	return xgw_hash_fmix64(h);
}

static int ht_grow(struct builder *bd)
{
	size_t cap = bd->ht_cap ? bd->ht_cap * 2 : 1024;
	uint32_t *ht = calloc(cap, sizeof(*ht));

	if (!ht)
		return -ENOMEM;
	for (size_t s = 0; s < bd->pool_len / bd->tw; s++) {
		size_t h = slice_hash(bd->pool + s * bd->tw, bd->tw) & (cap - 1);

		while (ht[h])
			h = (h + 1) & (cap - 1);
		ht[h] = (uint32_t)(s + 1);
	}
	free(bd->ht);
	bd->ht = ht;
	bd->ht_cap = cap;
	return 0;
}

/* Word offset of a slice equal to w[0..tw) in the pool, added if new;
 * -ENOMEM on failure. */
static int64_t intern(struct builder *bd, const uint64_t *w)
{
	unsigned tw = bd->tw;
	size_t h;

	if (2 * (bd->ht_n + 1) > bd->ht_cap && ht_grow(bd))
		return -ENOMEM;
	h = slice_hash(w, tw) & (bd->ht_cap - 1);
	for (; bd->ht[h]; h = (h + 1) & (bd->ht_cap - 1)) {
		size_t off = (size_t)(bd->ht[h] - 1) * tw;

		if (!memcmp(bd->pool + off, w, tw * sizeof(*w)))
			return (int64_t)off;
	}
	if (bd->pool_len + tw > bd->pool_cap) {
		size_t cap = bd->pool_cap ? bd->pool_cap * 2 : 4096;
		uint64_t *n = realloc(bd->pool, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		bd->pool = n;
		bd->pool_cap = cap;
	}
	if (bd->pool_len + tw > UINT32_MAX)
		return -ENOMEM;
	memcpy(bd->pool + bd->pool_len, w, tw * sizeof(*w));
	bd->ht[h] = (uint32_t)(bd->pool_len / tw + 1);
	bd->ht_n++;
	bd->pool_len += tw;
	return (int64_t)(bd->pool_len - tw);
}

static void set_bit(uint64_t *b, uint32_t i)
{
	b[i / 64] |= 1ull << (i % 64);
}

/* Cut [0, max] at every range end; for each interval record its start and
 * its row of slice offsets.  bd->wild holds the field's wildcard rules. */
static int sweep(struct builder *bd, const struct range *r, size_t nr, u128 max, u128 **bounds,
		 uint64_t **rows, uint32_t *n_out)
{
	const uint32_t nt = bd->nt, tw = bd->tw, rpt = 64 * tw;
	struct event *ev = malloc(sizeof(*ev) * (2 * nr + 1));
	size_t ne = 0, i = 0;
	uint32_t n = 0;
	u128 cur = 0;
	int ret = -ENOMEM;

	*bounds = malloc(sizeof(**bounds) * (2 * nr + 1));
	*rows = malloc(sizeof(**rows) * (2 * nr + 1) * nt);
	if (!ev || !*bounds || !*rows)
		goto out;
	memcpy(bd->active, bd->wild, sizeof(uint64_t) * nt * tw);
	memset(bd->dirty, 1, nt);
	for (size_t k = 0; k < nr; k++) {
		ev[ne++] = (struct event){.pos = r[k].lo, .rule = r[k].rule, .add = 1};
		if (r[k].hi != max)
			ev[ne++] = (struct event){.pos = r[k].hi + 1, .rule = r[k].rule, .add = 0};
	}
	qsort(ev, ne, sizeof(*ev), cmp_event);
	for (;;) {
		for (; i < ne && ev[i].pos == cur; i++) {
			uint32_t x = ev[i].rule;

			if (ev[i].add)
				bd->active[x / 64] |= 1ull << (x % 64);
			else
				bd->active[x / 64] &= ~(1ull << (x % 64));
			bd->dirty[x / rpt] = 1;
		}
		(*bounds)[n] = cur;
		for (uint32_t t = 0; t < nt; t++) {
			if (bd->dirty[t]) {
				const uint64_t *sl = bd->active + (size_t)t * tw;
				int64_t off = intern(bd, sl);
				uint64_t nz = 0;

				if (off < 0)
					goto out;
				for (uint32_t w = 0; w < tw; w++)
					nz |= (uint64_t)(sl[w] != 0) << w;
				bd->last[t] = (uint64_t)off | nz << 32;
				bd->dirty[t] = 0;
			}
			(*rows)[(size_t)n * nt + t] = bd->last[t];
		}
		n++;
		if (i == ne)
			break;
		cur = ev[i].pos;
	}
	*n_out = n;
	ret = 0;
out:
	free(ev);
	return ret;
}

/* kind: 32 = IPv4 search, 128 = IPv6 search, 8/16 = direct table. */
static int build_field(struct builder *bd, const struct range *r, size_t nr, int kind,
		       struct xgw_pol_field *out)
{
	struct xgw_policy *p = bd->p;
	u128 max = ones(kind);
	u128 *bounds = NULL;
	uint32_t n = 0;
	int ret = sweep(bd, r, nr, max, &bounds, &out->row, &n);

	if (ret)
		goto out;
	ret = -ENOMEM;
	out->n = n;
	p->mem += (size_t)n * p->n_tiers * sizeof(out->row[0]);
	if (kind == 32 || kind == 128) {
		/* Padded to a power of two with all-ones for the search. */
		uint32_t size = 1;

		while (size < n)
			size *= 2;
		out->step = size / 2;
		if (kind == 32) {
			out->b32 = malloc(sizeof(*out->b32) * size);
			if (!out->b32)
				goto out;
			for (uint32_t k = 0; k < size; k++)
				out->b32[k] = k < n ? (uint32_t)bounds[k] : UINT32_MAX;
			p->mem += size * sizeof(uint32_t);
		} else {
			out->b128 = malloc(sizeof(*out->b128) * size);
			if (!out->b128)
				goto out;
			for (uint32_t k = 0; k < size; k++)
				out->b128[k] = k < n ? bounds[k] : ~(u128)0;
			p->mem += size * sizeof(u128);
		}
	} else {
		size_t size = (size_t)max + 1;

		out->direct = malloc(sizeof(*out->direct) * size);
		if (!out->direct)
			goto out;
		for (uint32_t k = 0; k < n; k++) {
			size_t end = k + 1 < n ? (size_t)bounds[k + 1] : size;

			for (size_t v = (size_t)bounds[k]; v < end; v++)
				out->direct[v] = k * p->n_tiers;
		}
		p->mem += size * sizeof(out->direct[0]);
	}
	ret = 0;
out:
	free(bounds);
	return ret;
}

/* Field slots: 0,1 src v4/v6; 2,3 dst v4/v6; 4 proto; 5 port. */
static int build_fields(struct builder *bd, const struct xgw_policy_cfg *rules, unsigned n)
{
	static const int kind[6] = {32, 128, 32, 128, 8, 16};
	struct xgw_policy *p = bd->p;
	struct xgw_pol_field *out[6] = {&p->src[0], &p->src[1], &p->dst[0],
					&p->dst[1], &p->proto,	&p->port};
	struct range *r = malloc(sizeof(*r) * (n ? n : 1));
	int ret = r ? 0 : -ENOMEM;

	for (int f = 0; f < 6 && !ret; f++) {
		size_t nr = 0;

		memset(bd->wild, 0, sizeof(uint64_t) * bd->nt * bd->tw);
		for (unsigned i = 0; i < n; i++) {
			const struct xgw_policy_cfg *c = &rules[i];
			const struct xgw_prefix *pf = f < 2 ? &c->src : &c->dst;

			if (f < 4) {
				int v6 = pf->addr.family == AF_INET6;

				if (!pf->addr.family)
					set_bit(bd->wild, i);
				else if (v6 == (f & 1)) {
					prefix_range(pf, &r[nr]);
					r[nr++].rule = i;
				}
			} else if (f == 4) {
				if (!c->proto)
					set_bit(bd->wild, i);
				else
					r[nr++] = (struct range){
					    .lo = c->proto, .hi = c->proto, .rule = i};
			} else {
				if (c->dport_lo == 0 && c->dport_hi == 65535)
					set_bit(bd->wild, i);
				else
					r[nr++] = (struct range){
					    .lo = c->dport_lo, .hi = c->dport_hi, .rule = i};
			}
		}
		ret = build_field(bd, r, nr, kind[f], out[f]);
	}
	free(r);
	return ret;
}

struct xgw_policy *xgw_policy_build(const struct xgw_policy_cfg *rules, unsigned n,
				    bool default_allow, int *err)
{
	struct builder bd = {0};
	struct xgw_policy *p;
	int ret = -ENOMEM;

	for (unsigned i = 0; i < n; i++) {
		ret = check_rule(&rules[i]);
		if (ret) {
			if (err)
				*err = ret;
			return NULL;
		}
	}
	ret = -ENOMEM;
	p = calloc(1, sizeof(*p));
	if (!p)
		goto fail;
	bd.p = p;
	p->n_rules = n;
	p->default_allow = default_allow;
	p->allow = malloc(n ? n : 1);
	p->id = malloc(sizeof(*p->id) * (n ? n : 1));
	if (!p->allow || !p->id)
		goto fail;
	p->mem = sizeof(*p) + n * (1 + sizeof(*p->id));
	for (unsigned i = 0; i < n; i++) {
		p->allow[i] = rules[i].allow;
		p->id[i] = rules[i].id;
	}
	if (!n)
		goto done; /* n_tiers = 0: the matcher looks nothing up */
	/* Small lists get one tier of the fewest words that hold them. */
	bd.tw = 1;
	while (bd.tw < XGW_POLICY_TIER_WORDS_MAX && bd.tw * 64 < n)
		bd.tw *= 2;
	bd.nt = (n + 64 * bd.tw - 1) / (64 * bd.tw);
	p->tier_words = bd.tw;
	p->n_tiers = bd.nt;
	bd.active = malloc(sizeof(uint64_t) * bd.nt * bd.tw);
	bd.wild = malloc(sizeof(uint64_t) * bd.nt * bd.tw);
	bd.dirty = malloc(bd.nt);
	bd.last = malloc(sizeof(*bd.last) * bd.nt);
	if (!bd.active || !bd.wild || !bd.dirty || !bd.last)
		goto fail;
	ret = build_fields(&bd, rules, n);
	if (ret)
		goto fail;
	/* Copy the pool, trimmed, to cache-line-aligned memory so that a
	 * slice of 8 or 16 words starts a cache line. */
	ret = -ENOMEM;
	p->pool_words = bd.pool_len;
	p->pool = aligned_alloc(64, (bd.pool_len * sizeof(uint64_t) + 63) / 64 * 64);
	if (!p->pool)
		goto fail;
	memcpy(p->pool, bd.pool, bd.pool_len * sizeof(uint64_t));
	p->mem += p->pool_words * sizeof(uint64_t);
	goto done;
fail:
	xgw_policy_free(p);
	p = NULL;
	if (err)
		*err = ret;
done:
	free(bd.pool);
	free(bd.ht);
	free(bd.active);
	free(bd.wild);
	free(bd.dirty);
	free(bd.last);
	return p;
}

static void field_free(struct xgw_pol_field *f)
{
	free(f->b32);
	free(f->b128);
	free(f->direct);
	free(f->row);
}

void xgw_policy_free(struct xgw_policy *p)
{
	if (!p)
		return;
	for (int k = 0; k < 2; k++) {
		field_free(&p->src[k]);
		field_free(&p->dst[k]);
	}
	field_free(&p->proto);
	field_free(&p->port);
	free(p->pool);
	free(p->allow);
	free(p->id);
	free(p);
}
