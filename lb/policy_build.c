/* SPDX-License-Identifier: BSD-3-Clause */
/* Policy classifier compilation (control thread): a bit-vector
 * decomposition (Lakshman & Stiliadis, SIGCOMM'98) over rules in priority
 * order.  Each field is cut into elementary intervals; an interval's
 * accepting rules (wildcards included) are a bitset, a packet's first match
 * is the lowest bit of the AND of its four fields' sets.  The rule list is
 * cut into tiers of 1,024 rules whose set slices are hash-consed and carry
 * a non-zero-word mask, which bounds memory (~n x tiers) and lets a lookup
 * skip tiers.  Why not tuple space search or decision trees, and the
 * figures: bench/README.md ("lb micro-benchmarks"). */
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
