/* SPDX-License-Identifier: BSD-3-Clause */
/* Policy classifier compilation (control thread).
 *
 * Design: a bit-vector decomposition (Lakshman & Stiliadis, SIGCOMM'98)
 * with two changes that keep it small and fast at 10,000 rules.
 *
 * 1. Each field (src and dst address per family, proto, dport) is cut into
 *    elementary intervals; every interval has a class, and a class holds the
 *    set of rules whose range for that field covers the interval.  A lookup
 *    is one search per field (binary search over interval starts for the
 *    addresses, a direct table for proto and port), then an intersection of
 *    the four sets, whose lowest member is the first matching rule.
 *
 * 2. Wildcards are what make plain bit vectors dense (a rule with "any"
 *    source is in every source class, so a no-match lookup would AND all
 *    n/64 words of four vectors) and big (classes x n/64 words).  So rules
 *    are split by signature, the set of fields they specify (at most 15
 *    groups, plus the match-all rules, which just cap the answer).  Inside a
 *    group no rule is a wildcard in the fields the group intersects, so the
 *    per-class sets are sparse: they are stored as sorted lists of non-zero
 *    64-bit words (group-local rule numbers, in priority order), and the
 *    intersection walks the shortest list.  Groups are visited in order of
 *    their best rule and skipped once they cannot beat the answer so far.
 *
 * Why not tuple space search (OVS): its cost grows with the number of
 * distinct (src len, dst len, ...) tuples, up to 33 x 33 for IPv4 and far
 * more for IPv6, and port ranges do not hash.  Why not decision trees
 * (HiCuts/HyperSplit): wildcard and range rules get replicated across cuts
 * and the memory is hard to bound.  Here memory is the sum over classes of
 * the rules covering them.  Measured weakness (bench_lb_policy): when every
 * field is unselective at once (broad prefixes, popular protocol), the
 * shortest list is long and the walk costs ~3,000 instructions at 10,000
 * random rules; classes under broad prefixes or wide port ranges repeat
 * those rules (~31 MiB at 10,000 rules).
 *
 * Every class owns one cache line of refs: where its list for each of the 8
 * groups that specify the field starts in the shared word pool. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>

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
	uint8_t *gsig;	 /* rule -> group index */
	uint32_t *local; /* rule -> group-local index */
	uint64_t *active[16];
	uint32_t nwords[16];
	struct xgw_pol_word *pool;
	size_t pool_len, pool_cap;
	struct xgw_pol_ref (*refs)[XGW_POLICY_SLOTS];
	uint32_t n_refs, refs_cap;
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

/* Bit f of the group signature is dropped: the 8 groups that specify
 * field f get slots 0..7. */
static unsigned slot_of(unsigned sig, unsigned f)
{
	return ((sig >> (f + 1)) << f) | (sig & ((1u << f) - 1));
}

static unsigned rule_sig(const struct xgw_policy_cfg *r)
{
	unsigned s = 0;

	if (r->src.addr.family)
		s |= 1u << XGW_PF_SRC;
	if (r->dst.addr.family)
		s |= 1u << XGW_PF_DST;
	if (r->proto)
		s |= 1u << XGW_PF_PROTO;
	if (!(r->dport_lo == 0 && r->dport_hi == 65535))
		s |= 1u << XGW_PF_PORT;
	return s;
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

static int pool_push(struct builder *bd, uint64_t bits, uint32_t w)
{
	if (bd->pool_len == bd->pool_cap) {
		size_t cap = bd->pool_cap ? bd->pool_cap * 2 : 4096;
		struct xgw_pol_word *n = realloc(bd->pool, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		bd->pool = n;
		bd->pool_cap = cap;
	}
	bd->pool[bd->pool_len++] = (struct xgw_pol_word){.bits = bits, .w = w};
	return 0;
}

static bool same_class(const struct builder *bd, const struct xgw_pol_ref *a,
		       const struct xgw_pol_ref *b)
{
	for (unsigned s = 0; s < XGW_POLICY_SLOTS; s++) {
		if (a[s].len != b[s].len)
			return false;
		if (a[s].len && memcmp(&bd->pool[a[s].off], &bd->pool[b[s].off],
				       a[s].len * sizeof(bd->pool[0])))
			return false;
	}
	return true;
}

/* The class of the current active sets: 0 if empty, prev if equal to the
 * previous interval's, else a new one.  Returns the class or -ENOMEM. */
static int64_t make_class(struct builder *bd, unsigned f, int64_t prev)
{
	struct xgw_pol_ref ref[XGW_POLICY_SLOTS] = {{0}};
	size_t start = bd->pool_len;
	const struct xgw_policy *p = bd->p;

	for (unsigned g = 0; g < p->n_groups; g++) {
		const struct xgw_pol_group *gr = &p->group[g];
		unsigned s = slot_of(gr->sig, f);

		if (!(gr->sig & (1u << f)))
			continue;
		uint32_t nz = 0;

		for (uint32_t k = 0; k < bd->nwords[g]; k++)
			nz += bd->active[g][k] != 0;
		ref[s].off = (uint32_t)bd->pool_len;
		/* Dense from half full: at most twice the words, and the
		 * matcher then indexes the list directly. */
		bool dense = nz && nz * 2 >= bd->nwords[g];

		for (uint32_t k = 0; k < bd->nwords[g]; k++)
			if ((dense || bd->active[g][k]) && pool_push(bd, bd->active[g][k], k))
				return -ENOMEM;
		ref[s].len = (uint32_t)(bd->pool_len - ref[s].off);
	}
	if (bd->pool_len == start)
		return 0;
	if (prev > 0 && same_class(bd, ref, bd->refs[prev])) {
		bd->pool_len = start;
		return prev;
	}
	if (bd->pool_len > UINT32_MAX)
		return -ENOMEM;
	if (bd->n_refs == bd->refs_cap) {
		uint32_t cap = bd->refs_cap * 2;
		void *n = realloc(bd->refs, cap * sizeof(bd->refs[0]));

		if (!n)
			return -ENOMEM;
		bd->refs = n;
		bd->refs_cap = cap;
	}
	memcpy(bd->refs[bd->n_refs], ref, sizeof(ref));
	return bd->n_refs++;
}

/* Cut [0, max] at every range end and give each interval its class.
 * Writes the interval starts to *bounds and their classes to *cls. */
static int sweep(struct builder *bd, unsigned f, const struct range *r, size_t nr, u128 max,
		 u128 **bounds, uint32_t **cls, uint32_t *n_out)
{
	struct event *ev = malloc(sizeof(*ev) * (2 * nr + 1));
	size_t ne = 0, i = 0;
	uint32_t n = 0;
	int64_t prev = -1;
	u128 cur = 0;
	int ret = -ENOMEM;

	*bounds = malloc(sizeof(**bounds) * (2 * nr + 1));
	*cls = malloc(sizeof(**cls) * (2 * nr + 1));
	bd->refs_cap = 64;
	bd->n_refs = 1; /* class 0: empty */
	bd->refs = calloc(bd->refs_cap, sizeof(bd->refs[0]));
	if (!ev || !*bounds || !*cls || !bd->refs)
		goto out;
	for (unsigned g = 0; g < bd->p->n_groups; g++)
		memset(bd->active[g], 0, bd->nwords[g] * sizeof(uint64_t));
	for (size_t k = 0; k < nr; k++) {
		ev[ne++] = (struct event){.pos = r[k].lo, .rule = r[k].rule, .add = 1};
		if (r[k].hi != max)
			ev[ne++] = (struct event){.pos = r[k].hi + 1, .rule = r[k].rule, .add = 0};
	}
	qsort(ev, ne, sizeof(*ev), cmp_event);
	for (;;) {
		for (; i < ne && ev[i].pos == cur; i++) {
			uint32_t l = bd->local[ev[i].rule];
			uint64_t *a = bd->active[bd->gsig[ev[i].rule]];

			if (ev[i].add)
				a[l / 64] |= 1ull << (l % 64);
			else
				a[l / 64] &= ~(1ull << (l % 64));
		}
		int64_t c = make_class(bd, f, prev);

		if (c < 0)
			goto out;
		if (c != prev) {
			(*bounds)[n] = cur;
			(*cls)[n] = (uint32_t)c;
			n++;
			prev = c;
		}
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

static int build_field(struct builder *bd, unsigned f, const struct range *r, size_t nr, int kind,
		       struct xgw_pol_field *out)
{
	/* kind: 32 = IPv4 search, 128 = IPv6 search, 8/16 = direct table. */
	u128 max = ones(kind);
	u128 *bounds = NULL;
	uint32_t *cls = NULL, n = 0;
	int ret = sweep(bd, f, r, nr, max, &bounds, &cls, &n);

	if (ret)
		goto out;
	ret = -ENOMEM;
	out->n = n;
	out->n_classes = bd->n_refs;
	if (kind == 32) {
		out->b32 = malloc(sizeof(*out->b32) * n);
		if (!out->b32)
			goto out;
		for (uint32_t k = 0; k < n; k++)
			out->b32[k] = (uint32_t)bounds[k];
		out->cls = cls;
		cls = NULL;
		bd->p->mem += n * (sizeof(uint32_t) * 2);
	} else if (kind == 128) {
		out->b128 = (unsigned __int128 *)bounds;
		bounds = NULL;
		out->cls = cls;
		cls = NULL;
		bd->p->mem += n * (sizeof(u128) + sizeof(uint32_t));
	} else {
		size_t size = (size_t)max + 1;

		out->direct = malloc(sizeof(*out->direct) * size);
		if (!out->direct)
			goto out;
		for (uint32_t k = 0; k < n; k++) {
			size_t end = k + 1 < n ? (size_t)bounds[k + 1] : size;

			for (size_t v = (size_t)bounds[k]; v < end; v++)
				out->direct[v] = cls[k];
		}
		bd->p->mem += size * sizeof(out->direct[0]);
	}
	out->refs = (const struct xgw_pol_ref(*)[XGW_POLICY_SLOTS])bd->refs;
	bd->p->mem += bd->n_refs * sizeof(bd->refs[0]);
	bd->refs = NULL;
	ret = 0;
out:
	free(bd->refs);
	bd->refs = NULL;
	free(bounds);
	free(cls);
	return ret;
}

static int cmp_group(const void *a, const void *b)
{
	const struct xgw_pol_group *x = a, *y = b;

	return (x->first > y->first) - (x->first < y->first);
}

/* Rule -> group assignment, group-local numbering in priority order. */
static int make_groups(struct builder *bd, const struct xgw_policy_cfg *rules, unsigned n)
{
	struct xgw_policy *p = bd->p;
	int gi_of[16];
	uint32_t count[16] = {0};

	for (unsigned i = 0; i < n; i++)
		count[rule_sig(&rules[i])]++;
	p->n_groups = 0;
	for (unsigned s = 1; s < 16; s++) {
		gi_of[s] = -1;
		if (!count[s])
			continue;
		struct xgw_pol_group *g = &p->group[p->n_groups];

		g->sig = (uint8_t)s;
		g->first = XGW_POLICY_NO_RULE;
		g->gidx = malloc(sizeof(*g->gidx) * count[s]);
		if (!g->gidx)
			return -ENOMEM;
		p->mem += sizeof(*g->gidx) * count[s];
		for (unsigned f = 0; f < XGW_PF_N; f++) {
			if (!(s & (1u << f)))
				continue;
			g->field[g->nf] = (uint8_t)f;
			g->slot[g->nf] = (uint8_t)slot_of(s, f);
			g->nf++;
		}
		gi_of[s] = (int)p->n_groups++;
	}
	p->match_all = XGW_POLICY_NO_RULE;
	for (unsigned i = 0; i < n; i++) {
		unsigned s = rule_sig(&rules[i]);

		if (!s) {
			if (p->match_all == XGW_POLICY_NO_RULE)
				p->match_all = i;
			continue;
		}
		struct xgw_pol_group *g = &p->group[gi_of[s]];

		if (g->first == XGW_POLICY_NO_RULE)
			g->first = i;
		bd->local[i] = g->n;
		g->gidx[g->n++] = i;
	}
	/* Visit order: best rule first, so the matcher can stop early.  The
	 * rule -> group map is made after sorting. */
	qsort(p->group, p->n_groups, sizeof(p->group[0]), cmp_group);
	for (unsigned g = 0; g < p->n_groups; g++) {
		struct xgw_pol_group *gr = &p->group[g];

		for (uint32_t k = 0; k < gr->n; k++)
			bd->gsig[gr->gidx[k]] = (uint8_t)g;
		bd->nwords[g] = gr->nwords = (gr->n + 63) / 64;
		bd->active[g] = calloc(bd->nwords[g], sizeof(uint64_t));
		if (!bd->active[g])
			return -ENOMEM;
	}
	return 0;
}

static int build_fields(struct builder *bd, const struct xgw_policy_cfg *rules, unsigned n)
{
	struct xgw_policy *p = bd->p;
	struct range *r[6];
	size_t nr[6] = {0};
	int ret = -ENOMEM;

	/* 0,1: src v4/v6; 2,3: dst v4/v6; 4: proto; 5: port. */
	for (int k = 0; k < 6; k++)
		r[k] = malloc(sizeof(struct range) * (n ? n : 1));
	for (int k = 0; k < 6; k++)
		if (!r[k])
			goto out;
	for (unsigned i = 0; i < n; i++) {
		const struct xgw_policy_cfg *c = &rules[i];
		unsigned s = rule_sig(c);
		struct range *x;

		if (!s)
			continue;
		if (c->src.addr.family) {
			x = &r[c->src.addr.family == AF_INET6]
			      [nr[c->src.addr.family == AF_INET6]++];
			prefix_range(&c->src, x);
			x->rule = i;
		}
		if (c->dst.addr.family) {
			int v6 = c->dst.addr.family == AF_INET6;

			x = &r[2 + v6][nr[2 + v6]++];
			prefix_range(&c->dst, x);
			x->rule = i;
		}
		if (c->proto)
			r[4][nr[4]++] = (struct range){.lo = c->proto, .hi = c->proto, .rule = i};
		if (s & (1u << XGW_PF_PORT))
			r[5][nr[5]++] =
			    (struct range){.lo = c->dport_lo, .hi = c->dport_hi, .rule = i};
	}
	ret = build_field(bd, XGW_PF_SRC, r[0], nr[0], 32, &p->src[0]);
	if (!ret)
		ret = build_field(bd, XGW_PF_SRC, r[1], nr[1], 128, &p->src[1]);
	if (!ret)
		ret = build_field(bd, XGW_PF_DST, r[2], nr[2], 32, &p->dst[0]);
	if (!ret)
		ret = build_field(bd, XGW_PF_DST, r[3], nr[3], 128, &p->dst[1]);
	if (!ret)
		ret = build_field(bd, XGW_PF_PROTO, r[4], nr[4], 8, &p->proto);
	if (!ret)
		ret = build_field(bd, XGW_PF_PORT, r[5], nr[5], 16, &p->port);
out:
	for (int k = 0; k < 6; k++)
		free(r[k]);
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
	bd.gsig = malloc(n ? n : 1);
	bd.local = malloc(sizeof(*bd.local) * (n ? n : 1));
	if (!p->allow || !p->id || !bd.gsig || !bd.local)
		goto fail;
	p->mem = sizeof(*p) + n * (1 + sizeof(*p->id));
	for (unsigned i = 0; i < n; i++) {
		p->allow[i] = rules[i].allow;
		p->id[i] = rules[i].id;
	}
	ret = make_groups(&bd, rules, n);
	if (!ret)
		ret = build_fields(&bd, rules, n);
	if (ret)
		goto fail;
	/* Trim the pool to size; the matcher only reads it. */
	p->pool_len = bd.pool_len;
	p->pool = bd.pool_len ? realloc(bd.pool, bd.pool_len * sizeof(*bd.pool)) : bd.pool;
	if (bd.pool_len && !p->pool)
		p->pool = bd.pool;
	bd.pool = NULL;
	p->mem += p->pool_len * sizeof(*p->pool);
	goto done;
fail:
	xgw_policy_free(p);
	p = NULL;
	if (err)
		*err = ret;
done:
	free(bd.pool);
	free(bd.gsig);
	free(bd.local);
	for (int g = 0; g < 16; g++)
		free(bd.active[g]);
	return p;
}

static void field_free(struct xgw_pol_field *f)
{
	free(f->b32);
	free(f->b128);
	free(f->direct);
	free(f->cls);
	free((void *)f->refs);
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
	for (unsigned g = 0; g < p->n_groups; g++)
		free(p->group[g].gidx);
	free(p->pool);
	free(p->allow);
	free(p->id);
	free(p);
}
