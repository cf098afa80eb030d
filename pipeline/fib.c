/* SPDX-License-Identifier: BSD-3-Clause */
/* The FIB's writer side: the route table the control thread keeps (every
 * route by prefix and origin, kernel routes by metric too), which of a
 * prefix's routes is installed, the shared next hops, and the LPM tries
 * the workers read (pipeline/lpm.h).  A change costs O(the addresses it
 * covers), never O(the table). */
#include "pipeline/fib.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/hash.h"

/* Address space reserved for next hops (48 bytes each, backed as used)
 * and for trie groups (1 KiB each): enough for a full Internet table in
 * each family with room to spare. */
#define NH_MAX	    (1u << 20)
#define GROUPS4_MAX (1u << 20)
#define GROUPS6_MAX (1u << 20)

/* Source of struct xgw_fib.generation: unique in the process, never 0. */
static _Atomic uint64_t fib_generations;

/* Open addressing over ids (never 0) whose keys live elsewhere; the
 * owner supplies hash and equality.  Linear probing, backward-shift
 * deletion (no tombstones, so probe chains stay short under churn). */
struct ixh {
	uint32_t *slot;
	uint32_t mask, n;
};

typedef uint32_t (*ixh_hash_fn)(const struct xgw_fib *f, uint32_t id);

static int ixh_grow(struct ixh *h, const struct xgw_fib *f, ixh_hash_fn hash)
{
	uint32_t size = h->slot ? (h->mask + 1) * 2 : 64;
	uint32_t *s = calloc(size, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (uint32_t i = 0; h->slot && i <= h->mask; i++) {
		uint32_t j;
		if (!h->slot[i])
			continue;
		for (j = hash(f, h->slot[i]) & (size - 1); s[j]; j = (j + 1) & (size - 1))
			;
		s[j] = h->slot[i];
	}
	free(h->slot);
	h->slot = s;
	h->mask = size - 1;
	return 0;
}

static void ixh_remove(struct ixh *h, const struct xgw_fib *f, ixh_hash_fn hash, uint32_t i)
{
	for (uint32_t j = i;;) {
		uint32_t k;
		j = (j + 1) & h->mask;
		if (!h->slot[j])
			break;
		k = hash(f, h->slot[j]) & h->mask;
		/* Move j back into the hole unless its home lies in (i, j]. */
		if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
			h->slot[i] = h->slot[j];
			i = j;
		}
	}
	h->slot[i] = 0;
	h->n--;
}

/* A kernel route for a prefix, one per metric. */
struct kvar {
	uint32_t metric, nh;
	uint8_t stale;
};

/* Every route of one prefix; the installed one is the static route if
 * any, else the kernel route of the lowest metric. */
struct fib_rt {
	struct xgw_prefix dst;
	uint32_t static_nh;
	uint8_t static_stale;
	uint16_t n_kv;
	struct kvar one;   /* n_kv <= 1 */
	struct kvar *many; /* n_kv > 1: all of them */
	uint32_t eff;	   /* next hop installed in the LPM (holds a ref), 0 */
	uint32_t eff_metric;
};

struct fib_ctl {
	struct fib_rt *rts;
	uint32_t n_rts, cap_rts;
	struct ixh by_pfx; /* id: rts index + 1 */
	struct ixh by_nh;  /* id: next hop index */
	uint32_t nh_hiwat, n_nh;
	uint32_t *nh_free, n_nh_free, cap_nh_free;
	uint32_t *nh_pending, n_nh_pending, cap_nh_pending;
	struct xgw_nh_group **grp_pending;
	uint32_t n_grp_pending, cap_grp_pending;
	uint64_t routes[2], changes, full;
};

/* ---- next hops ---- */

static uint32_t nh_hash_parts(const struct xgw_addr *via, int oif, uint16_t port,
			      const struct xgw_nh_group *g)
{
	uint64_t h = (uint64_t)(uint32_t)oif << 16 | port;

	h = xgw_hash_round(h, via->q[0] ^ via->family);
	h = xgw_hash_round(h, via->q[1]);
	for (uint32_t i = 0; g && i < g->n; i++)
		h = xgw_hash_round(h, (uint64_t)g->path[i].nh << 32 | g->path[i].upto);
	return (uint32_t)xgw_hash_fmix64(h);
}

static uint32_t nh_hash(const struct xgw_fib *f, uint32_t id)
{
	const struct xgw_nh *n = &f->nh[id];

	return nh_hash_parts(&n->via, n->oif, n->port, n->grp);
}

static bool grp_eq(const struct xgw_nh_group *a, const struct xgw_nh_group *b)
{
	if (!a || !b)
		return a == b;
	return a->n == b->n && !memcmp(a->path, b->path, a->n * sizeof(a->path[0]));
}

static void nh_ref(struct xgw_fib *f, uint32_t id)
{
	if (id)
		f->nh[id].refs++;
}

static void nh_unref(struct xgw_fib *f, uint32_t id)
{
	struct fib_ctl *c = f->ctl;
	struct xgw_nh *n;

	if (!id)
		return;
	n = &f->nh[id];
	if (--n->refs)
		return;
	for (uint32_t i = nh_hash(f, id) & c->by_nh.mask;; i = (i + 1) & c->by_nh.mask)
		if (c->by_nh.slot[i] == id) {
			ixh_remove(&c->by_nh, f, nh_hash, i);
			break;
		}
	if (n->grp) {
		for (uint32_t i = 0; i < n->grp->n; i++)
			nh_unref(f, n->grp->path[i].nh);
		/* Readers may still hold the group: freed after a grace
		 * period, as the index is reused only after one.  When the
		 * list cannot grow, leak rather than free under a reader. */
		if (!c->grp_pending || c->n_grp_pending == c->cap_grp_pending) {
			uint32_t nc = c->cap_grp_pending ? c->cap_grp_pending * 2 : 16;
			void *p = realloc(c->grp_pending, nc * sizeof(*c->grp_pending));
			if (p) {
				c->grp_pending = p;
				c->cap_grp_pending = nc;
			}
		}
		if (c->n_grp_pending < c->cap_grp_pending)
			c->grp_pending[c->n_grp_pending++] = (struct xgw_nh_group *)n->grp;
	}
	c->n_nh--;
	xgw_push_u32(&c->nh_pending, &c->n_nh_pending, &c->cap_nh_pending, id);
}

/* The next hop (via, oif, port, grp), shared if it exists (grp is then
 * freed), with a reference taken; 0 when out of room.  Takes grp. */
static uint32_t nh_get(struct xgw_fib *f, const struct xgw_addr *via, int oif, uint16_t port,
		       struct xgw_nh_group *grp)
{
	struct fib_ctl *c = f->ctl;
	uint32_t h = nh_hash_parts(via, oif, port, grp), id, i;
	struct xgw_nh *n;

	if ((c->by_nh.n + 1) * 2 > c->by_nh.mask + 1 && ixh_grow(&c->by_nh, f, nh_hash))
		goto fail;
	for (i = h & c->by_nh.mask; (id = c->by_nh.slot[i]); i = (i + 1) & c->by_nh.mask) {
		n = &f->nh[id];
		if (n->oif == oif && n->port == port && xgw_addr_eq(&n->via, via) &&
		    grp_eq(n->grp, grp)) {
			if (grp) { /* the members' references the caller took */
				for (uint32_t k = 0; k < grp->n; k++)
					nh_unref(f, grp->path[k].nh);
				free(grp);
			}
			n->refs++;
			return id;
		}
	}
	if (c->n_nh_free)
		id = c->nh_free[--c->n_nh_free];
	else if (c->nh_hiwat < NH_MAX)
		id = c->nh_hiwat++;
	else
		goto fail;
	n = &f->nh[id];
	memset(n, 0, sizeof(*n));
	n->via = *via;
	n->oif = oif;
	n->port = port;
	n->grp = grp;
	n->n_paths = grp ? (uint16_t)grp->n : 1;
	n->refs = 1;
	c->by_nh.slot[i] = id;
	c->by_nh.n++;
	c->n_nh++;
	return id;
fail:
	if (grp) {
		for (uint32_t k = 0; k < grp->n; k++)
			nh_unref(f, grp->path[k].nh);
		free(grp);
	}
	return 0;
}

static int path_cmp(const void *a, const void *b)
{
	const struct xgw_path *x = a, *y = b;
	int d = memcmp(&x->via, &y->via, sizeof(x->via));

	return d ? d : x->oif - y->oif;
}

/* The next hop of route r, referenced; 0 when out of room. */
static uint32_t nh_of_route(struct xgw_fib *f, const struct xgw_route *r)
{
	struct xgw_path sorted[XGW_FIB_MAX_PATHS];
	struct xgw_nh_group *g;
	static const struct xgw_addr none;
	uint32_t total = 0;
	unsigned n = r->n_paths;

	if (n <= 1)
		return nh_get(f, &r->via, r->oif, r->port, NULL);
	if (n > XGW_FIB_MAX_PATHS)
		n = XGW_FIB_MAX_PATHS;
	/* Sorted, so that the same set of paths in another order is the same
	 * group (and the kernel's order of a dump does not move flows). */
	memcpy(sorted, r->paths, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), path_cmp);
	g = calloc(1, sizeof(*g) + n * sizeof(g->path[0]));
	if (!g)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		uint32_t m = nh_get(f, &sorted[i].via, sorted[i].oif, sorted[i].port, NULL);
		if (!m) {
			for (unsigned k = 0; k < g->n; k++)
				nh_unref(f, g->path[k].nh);
			free(g);
			return 0;
		}
		total += sorted[i].weight ? sorted[i].weight : 1;
		g->path[g->n].nh = m;
		g->path[g->n].upto = total;
		g->n++;
	}
	g->total = total;
	return nh_get(f, &none, 0, XGW_PORT_NONE, g);
}

/* ---- routes by prefix ---- */

static uint32_t pfx_hash_parts(const struct xgw_prefix *p)
{
	uint64_t h = xgw_hash_round((uint64_t)p->len << 8 | p->addr.family, p->addr.q[0]);

	return (uint32_t)xgw_hash_fmix64(xgw_hash_round(h, p->addr.q[1]));
}

static uint32_t pfx_hash(const struct xgw_fib *f, uint32_t id)
{
	return pfx_hash_parts(&f->ctl->rts[id - 1].dst);
}

static bool pfx_eq(const struct xgw_prefix *a, const struct xgw_prefix *b)
{
	return a->len == b->len && xgw_addr_eq(&a->addr, &b->addr);
}

/* The slot of prefix p in by_pfx (holding 0 if absent). */
static uint32_t *pfx_slot(const struct fib_ctl *c, const struct xgw_prefix *p)
{
	uint32_t i, id;

	for (i = pfx_hash_parts(p) & c->by_pfx.mask; (id = c->by_pfx.slot[i]);
	     i = (i + 1) & c->by_pfx.mask)
		if (pfx_eq(&c->rts[id - 1].dst, p))
			break;
	return &c->by_pfx.slot[i];
}

static struct fib_rt *pfx_find(const struct fib_ctl *c, const struct xgw_prefix *p)
{
	uint32_t id = c->by_pfx.slot ? *pfx_slot(c, p) : 0;

	return id ? &c->rts[id - 1] : NULL;
}

static struct fib_rt *pfx_add(struct xgw_fib *f, const struct xgw_prefix *p)
{
	struct fib_ctl *c = f->ctl;
	struct fib_rt *rt;
	uint32_t *s;

	if ((c->by_pfx.n + 1) * 2 > c->by_pfx.mask + 1 && ixh_grow(&c->by_pfx, f, pfx_hash))
		return NULL;
	if (c->n_rts == c->cap_rts) {
		uint32_t nc = c->cap_rts ? c->cap_rts * 2 : 64;
		void *q = realloc(c->rts, nc * sizeof(*c->rts));
		if (!q)
			return NULL;
		c->rts = q;
		c->cap_rts = nc;
	}
	s = pfx_slot(c, p);
	rt = &c->rts[c->n_rts++];
	memset(rt, 0, sizeof(*rt));
	rt->dst = *p;
	*s = c->n_rts;
	c->by_pfx.n++;
	c->routes[p->addr.family == AF_INET6]++;
	return rt;
}

/* Drop an empty, uninstalled prefix: the last one moves into its place. */
static void pfx_remove(struct xgw_fib *f, struct fib_rt *rt)
{
	struct fib_ctl *c = f->ctl;
	uint32_t idx = (uint32_t)(rt - c->rts), *s = pfx_slot(c, &rt->dst);

	c->routes[rt->dst.addr.family == AF_INET6]--;
	ixh_remove(&c->by_pfx, f, pfx_hash, (uint32_t)(s - c->by_pfx.slot));
	free(rt->many);
	if (idx != c->n_rts - 1) {
		c->rts[idx] = c->rts[c->n_rts - 1];
		*pfx_slot(c, &c->rts[idx].dst) = idx + 1;
	}
	c->n_rts--;
}

static struct kvar *kvars(struct fib_rt *rt)
{
	return rt->n_kv > 1 ? rt->many : &rt->one;
}

/* Which next hop the prefix should have installed now. */
static uint32_t wanted(struct fib_rt *rt, uint32_t *metric)
{
	const struct kvar *kv = kvars(rt);
	uint32_t best = 0;

	*metric = 0;
	if (rt->static_nh)
		return rt->static_nh;
	for (uint16_t i = 0; i < rt->n_kv; i++)
		if (!best || kv[i].metric < *metric) {
			best = kv[i].nh;
			*metric = kv[i].metric;
		}
	return best;
}

static struct xgw_lpm *lpm_of(struct xgw_fib *f, const struct xgw_prefix *p)
{
	return p->addr.family == AF_INET6 ? &f->lpm6 : &f->lpm4;
}

/* Bring the LPM in line with rt; drops rt once it has no route left. */
static int install(struct xgw_fib *f, struct fib_rt *rt)
{
	uint32_t metric, want = wanted(rt, &metric);
	int rc = 0;

	rt->eff_metric = metric;
	if (want != rt->eff) {
		if (want) {
			rc = xgw_lpm_add(lpm_of(f, &rt->dst), rt->dst.addr.b, rt->dst.len, want);
		} else {
			/* Fall back to the longest shorter prefix installed. */
			struct xgw_prefix cp = rt->dst;
			const struct fib_rt *cover = NULL;

			while (!cover && cp.len--) {
				xgw_addr_mask(&cp.addr, cp.len);
				cover = pfx_find(f->ctl, &cp);
				if (cover && !cover->eff)
					cover = NULL;
			}
			xgw_lpm_del(lpm_of(f, &rt->dst), rt->dst.addr.b, rt->dst.len,
				    cover ? cover->dst.len : 0, cover ? cover->eff : 0);
		}
		if (!rc) {
			nh_ref(f, want);
			nh_unref(f, rt->eff);
			rt->eff = want;
			f->ctl->changes++;
		} else {
			/* The previous route stays installed. */
			f->ctl->full++;
		}
	}
	if (!rt->eff && !rt->static_nh && !rt->n_kv)
		pfx_remove(f, rt);
	return rc;
}

static int check_route(const struct xgw_route *r)
{
	int fam = r->dst.addr.family;

	if ((fam != AF_INET && fam != AF_INET6) || r->dst.len > xgw_addr_bits(&r->dst.addr))
		return -EINVAL;
	return 0;
}

int xgw_fib_set(struct xgw_fib *f, const struct xgw_route *r)
{
	struct xgw_prefix p = r->dst;
	struct fib_rt *rt;
	uint32_t nh;

	if (check_route(r))
		return -EINVAL;
	xgw_addr_mask(&p.addr, p.len);
	rt = pfx_find(f->ctl, &p);
	if (!rt && !(rt = pfx_add(f, &p)))
		return -ENOMEM;
	nh = nh_of_route(f, r);
	if (!nh) {
		f->ctl->full++;
		install(f, rt); /* drops a prefix just added */
		return -ENOSPC;
	}
	if (r->is_static) {
		nh_unref(f, rt->static_nh);
		rt->static_nh = nh;
		rt->static_stale = 0;
	} else {
		struct kvar *kv = kvars(rt);
		uint16_t i;

		for (i = 0; i < rt->n_kv && kv[i].metric != r->metric; i++)
			;
		if (i < rt->n_kv) {
			nh_unref(f, kv[i].nh);
		} else if (rt->n_kv == 1) {
			struct kvar *m = malloc(2 * sizeof(*m));
			if (!m) {
				nh_unref(f, nh);
				return -ENOMEM;
			}
			m[0] = rt->one;
			rt->many = m;
			kv = m;
		} else if (rt->n_kv > 1) {
			struct kvar *m = realloc(rt->many, (rt->n_kv + 1u) * sizeof(*m));
			if (!m) {
				nh_unref(f, nh);
				return -ENOMEM;
			}
			rt->many = kv = m;
		}
		if (i == rt->n_kv)
			rt->n_kv++;
		kv[i].metric = r->metric;
		kv[i].nh = nh;
		kv[i].stale = 0;
	}
	return install(f, rt);
}

static void kvar_drop(struct xgw_fib *f, struct fib_rt *rt, uint16_t i)
{
	struct kvar *kv = kvars(rt);

	nh_unref(f, kv[i].nh);
	kv[i] = kv[rt->n_kv - 1];
	if (--rt->n_kv == 1) {
		rt->one = rt->many[0];
		free(rt->many);
		rt->many = NULL;
	}
}

int xgw_fib_del(struct xgw_fib *f, const struct xgw_route *r)
{
	struct xgw_prefix p = r->dst;
	struct fib_rt *rt;

	if (check_route(r))
		return -EINVAL;
	xgw_addr_mask(&p.addr, p.len);
	rt = pfx_find(f->ctl, &p);
	if (!rt)
		return -ENOENT;
	if (r->is_static) {
		if (!rt->static_nh)
			return -ENOENT;
		nh_unref(f, rt->static_nh);
		rt->static_nh = 0;
	} else {
		const struct kvar *kv = kvars(rt);
		uint16_t i;

		for (i = 0; i < rt->n_kv && kv[i].metric != r->metric; i++)
			;
		if (i == rt->n_kv)
			return -ENOENT;
		kvar_drop(f, rt, i);
	}
	install(f, rt);
	return 0;
}

void xgw_fib_mark(struct xgw_fib *f, bool is_static)
{
	struct fib_ctl *c = f->ctl;

	for (uint32_t i = 0; i < c->n_rts; i++) {
		struct fib_rt *rt = &c->rts[i];
		struct kvar *kv = kvars(rt);

		if (is_static)
			rt->static_stale = 1;
		else
			for (uint16_t k = 0; k < rt->n_kv; k++)
				kv[k].stale = 1;
	}
}

unsigned xgw_fib_sweep(struct xgw_fib *f, bool is_static)
{
	struct fib_ctl *c = f->ctl;
	unsigned gone = 0;

	/* Backwards: install() may move the last prefix into slot i. */
	for (uint32_t i = c->n_rts; i-- > 0;) {
		struct fib_rt *rt = &c->rts[i];
		bool changed = false;

		if (is_static && rt->static_stale && rt->static_nh) {
			nh_unref(f, rt->static_nh);
			rt->static_nh = 0;
			changed = true;
		}
		for (uint16_t k = rt->n_kv; !is_static && k-- > 0;)
			if (kvars(rt)[k].stale) {
				kvar_drop(f, rt, k);
				changed = true;
			}
		if (changed) {
			gone++;
			install(f, rt);
		}
	}
	return gone;
}

void xgw_fib_bump(struct xgw_fib *f)
{
	__atomic_store_n(&f->generation,
			 atomic_fetch_add_explicit(&fib_generations, 1, memory_order_relaxed) + 1,
			 __ATOMIC_RELEASE);
}

void xgw_fib_commit(struct xgw_fib *f, void (*sync)(void))
{
	struct fib_ctl *c = f->ctl;

	xgw_fib_bump(f);
	if (!c->n_nh_pending && !c->n_grp_pending && !xgw_lpm_has_pending(&f->lpm4) &&
	    !xgw_lpm_has_pending(&f->lpm6))
		return;
	if (sync)
		sync();
	xgw_lpm_reclaim(&f->lpm4);
	xgw_lpm_reclaim(&f->lpm6);
	for (uint32_t i = 0; i < c->n_nh_pending; i++)
		xgw_push_u32(&c->nh_free, &c->n_nh_free, &c->cap_nh_free, c->nh_pending[i]);
	c->n_nh_pending = 0;
	for (uint32_t i = 0; i < c->n_grp_pending; i++)
		free(c->grp_pending[i]);
	c->n_grp_pending = 0;
}

struct xgw_fib *xgw_fib_new(void)
{
	struct xgw_fib *f = calloc(1, sizeof(*f));
	void *nh;

	if (!f)
		return NULL;
	f->ctl = calloc(1, sizeof(*f->ctl));
	f->neigh = calloc(1, sizeof(*f->neigh));
	nh = mmap(NULL, (size_t)NH_MAX * sizeof(struct xgw_nh), PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	f->nh = nh == MAP_FAILED ? NULL : nh;
	if (!f->ctl || !f->neigh || !f->nh || xgw_lpm_init(&f->lpm4, 32, GROUPS4_MAX) ||
	    xgw_lpm_init(&f->lpm6, 128, GROUPS6_MAX)) {
		xgw_fib_free(f);
		return NULL;
	}
	f->ctl->nh_hiwat = 1; /* 0 is "no route" */
	f->neigh->mask = 0;
	f->neigh->neigh = calloc(1, sizeof(struct xgw_neigh));
	f->neigh->used = calloc(1, 1);
	if (!f->neigh->neigh || !f->neigh->used) {
		xgw_fib_free(f);
		return NULL;
	}
	xgw_fib_commit(f, NULL);
	return f;
}

void xgw_fib_free(struct xgw_fib *f)
{
	struct fib_ctl *c;

	if (!f)
		return;
	c = f->ctl;
	if (c) {
		for (uint32_t i = 0; i < c->n_rts; i++)
			free(c->rts[i].many);
		for (uint32_t i = 1; f->nh && i < c->nh_hiwat; i++)
			if (f->nh[i].refs)
				free((void *)f->nh[i].grp);
		for (uint32_t i = 0; i < c->n_grp_pending; i++)
			free(c->grp_pending[i]);
		free(c->rts);
		free(c->by_pfx.slot);
		free(c->by_nh.slot);
		free(c->nh_free);
		free(c->nh_pending);
		free(c->grp_pending);
		free(c);
	}
	if (f->nh)
		munmap(f->nh, (size_t)NH_MAX * sizeof(struct xgw_nh));
	xgw_lpm_fini(&f->lpm4);
	xgw_lpm_fini(&f->lpm6);
	xgw_neigh_table_free(f->neigh);
	free(f);
}

struct xgw_fib *xgw_fib_build(const struct xgw_route *routes, unsigned n_routes,
			      const struct xgw_neigh *neigh, unsigned n_neigh)
{
	struct xgw_fib *f = xgw_fib_new();

	if (!f)
		return NULL;
	for (unsigned i = 0; i < n_routes; i++)
		if (xgw_fib_set(f, &routes[i]))
			goto err;
	if (xgw_fib_set_neigh(f, neigh, n_neigh, NULL))
		goto err;
	xgw_fib_commit(f, NULL);
	return f;
err:
	xgw_fib_free(f);
	return NULL;
}

int xgw_fib_walk(const struct xgw_fib *f, xgw_fib_walk_fn fn, void *arg)
{
	const struct fib_ctl *c = f->ctl;

	for (uint32_t i = 0; i < c->n_rts; i++) {
		const struct fib_rt *rt = &c->rts[i];
		int rc;

		if (!rt->eff)
			continue;
		rc = fn(arg, &rt->dst, rt->eff == rt->static_nh, rt->eff_metric, &f->nh[rt->eff]);
		if (rc)
			return rc;
	}
	return 0;
}

const struct xgw_nh *xgw_fib_get(const struct xgw_fib *f, const struct xgw_addr *dst,
				 struct xgw_prefix *pfx, bool *is_static)
{
	const struct xgw_nh *nh = xgw_fib_route(f, dst);
	struct xgw_prefix p = {.addr = *dst, .len = (uint8_t)(xgw_addr_bits(dst) + 1)};

	if (!nh)
		return NULL;
	*pfx = p;
	*is_static = false;
	/* The LPM keeps no prefixes: find the longest installed one. */
	while (p.len--) {
		const struct fib_rt *rt;
		xgw_addr_mask(&p.addr, p.len);
		rt = pfx_find(f->ctl, &p);
		if (rt && rt->eff) {
			*pfx = p;
			*is_static = rt->eff == rt->static_nh;
			return &f->nh[rt->eff];
		}
	}
	return nh;
}

void xgw_fib_stats(const struct xgw_fib *f, struct xgw_fib_stats *s)
{
	const struct fib_ctl *c = f->ctl;

	memset(s, 0, sizeof(*s));
	s->routes4 = c->routes[0];
	s->routes6 = c->routes[1];
	s->nexthops = c->n_nh;
	s->lpm_bytes = xgw_lpm_bytes(&f->lpm4) + xgw_lpm_bytes(&f->lpm6);
	s->nh_bytes = (uint64_t)c->nh_hiwat * sizeof(struct xgw_nh);
	s->table_bytes = (uint64_t)c->cap_rts * sizeof(struct fib_rt) +
			 (uint64_t)(c->by_pfx.mask + 1) * 4 + (uint64_t)(c->by_nh.mask + 1) * 4;
	s->changes = c->changes;
	s->full = c->full;
}
