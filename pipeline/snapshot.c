/* SPDX-License-Identifier: BSD-3-Clause */
#include "pipeline/snapshot.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "tunnel/table.h"

struct xgw_snap_builder {
	/* tabs[cur] is the published snapshot's index; tabs[!cur] the
	 * spare, equal to it less `pending` when spare_ok. */
	struct xgw_svc_tabs tabs[2];
	unsigned cur;
	bool spare_ok;
	/* The change the last published snapshot made (its gone and added
	 * records, referenced), applied to the spare by the next update. */
	struct xgw_svc_rt **gone, **added;
	unsigned n_gone, n_added;
	unsigned fills; /* indexes built whole */
};

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t s = 16;

	while (s < n * 2)
		s <<= 1;
	return s;
}

/* ---- records ------------------------------------------------------------ */

static struct xgw_svc_rt *svc_ref(struct xgw_svc_rt *v)
{
	v->refs++;
	return v;
}

static void svc_unref(struct xgw_svc_rt *v)
{
	if (!v || --v->refs)
		return;
	xgw_maglev_free(v->maglev);
	free(v);
}

static void unref_all(struct xgw_svc_rt **v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		svc_unref(v[i]);
	free(v);
}

static void filter_add(struct xgw_snapshot *s, const struct xgw_addr *a)
{
	uint32_t i = xgw_addr_filter_idx(xgw_addr_fold(a));

	s->addr_filter[i >> 6] |= 1ull << (i & 63);
}

static void filter_add_svc(struct xgw_snapshot *s, const struct xgw_svc_rt *v)
{
	filter_add(s, &v->vip);
	for (unsigned b = 1; b <= v->n_backends; b++)
		filter_add(s, &v->be[b].ip);
}

/* The same Maglev input as in the previous snapshot: share its table (a
 * reference, no copy), so that a change to one service costs the build of
 * that service only. */
static struct xgw_maglev *reuse_maglev(const struct xgw_svc_rt *o, const struct xgw_svc_rt *rt,
				       uint32_t m)
{
	if (!o || !o->maglev || o->maglev->size != m || o->n_backends != rt->n_backends)
		return NULL;
	for (unsigned b = 1; b <= rt->n_backends; b++)
		if (!xgw_addr_eq(&o->be[b].ip, &rt->be[b].ip) || o->be[b].port != rt->be[b].port ||
		    o->be[b].weight != rt->be[b].weight)
			return NULL;
	return xgw_maglev_get(o->maglev);
}

uint32_t xgw_service_maglev_size(const struct xgw_service_cfg *sc, uint32_t cap)
{
	uint64_t w = 0;

	if (sc->maglev_size)
		return sc->maglev_size;
	for (unsigned i = 0; i < sc->n_backends; i++)
		w += sc->backends[i].weight;
	return xgw_maglev_auto_size(w, cap);
}

static struct xgw_maglev *build_maglev(const struct xgw_service_cfg *sc,
				       const struct xgw_svc_rt *rt, uint32_t m, int *rc)
{
	struct xgw_maglev_backend *mb = calloc(sc->n_backends + 1, sizeof(*mb));
	uint8_t(*keys)[XGW_MAGLEV_KEY_LEN] = calloc(sc->n_backends + 1, sizeof(*keys));
	struct xgw_maglev *t = NULL;

	*rc = -ENOMEM;
	if (mb && keys) {
		for (unsigned i = 0; i < sc->n_backends; i++) {
			xgw_maglev_endpoint_key(keys[i], &rt->be[i + 1].ip, rt->be[i + 1].port);
			mb[i].id = i + 1;
			mb[i].weight = rt->be[i + 1].weight;
			mb[i].key = keys[i];
			mb[i].key_len = XGW_MAGLEV_KEY_LEN;
		}
		t = xgw_maglev_build(m, mb, sc->n_backends, rc);
		if (t)
			*rc = 0;
	}
	free(mb);
	free(keys);
	return t;
}

/* Whether record o is what sc makes (cap: lb.maglev_size). */
static bool same_service(const struct xgw_svc_rt *o, const struct xgw_service_cfg *sc, uint32_t cap)
{
	if (o->port != htons(sc->port) || o->proto != sc->proto ||
	    !xgw_addr_eq(&o->vip, &sc->vip) || o->algo != (uint8_t)sc->algo ||
	    o->snat != sc->snat || o->kernel != (sc->datapath == XGW_DP_KERNEL) ||
	    o->n_backends != sc->n_backends)
		return false;
	if (o->n_tun)
		return false; /* its count is of the config it was made from */
	for (unsigned i = 0; i < sc->n_backends; i++) {
		const struct xgw_backend_cfg *b = &sc->backends[i];
		const struct xgw_be_rt *e = &o->be[i + 1];

		if (e->port != htons(b->port) || e->weight != b->weight ||
		    !xgw_addr_eq(&e->ip, &b->ip) || b->tun != XGW_TUN_NONE)
			return false;
	}
	/* Same weights, same inputs: the same M. */
	return o->msize_cfg == sc->maglev_size && o->msize_cap == cap;
}

/* A new record for sc, its backends and active ids in the same allocation;
 * the Maglev table shared with o (the key's record in the previous
 * snapshot, or NULL) when its input is the same.  NULL with err filled. */
static struct xgw_svc_rt *build_service(const struct xgw_service_cfg *sc, uint32_t cap,
					const struct xgw_svc_rt *o, char *err, size_t errlen)
{
	size_t n = sc->n_backends + 1;
	struct xgw_svc_rt *rt =
	    calloc(1, sizeof(*rt) + n * sizeof(struct xgw_be_rt) + n * sizeof(uint32_t));
	char key[XGW_KEY_STRLEN];
	int rc = 0;

	if (!rt) {
		snprintf(err, errlen, "out of memory building the snapshot");
		return NULL;
	}
	rt->refs = 1;
	rt->msize_cfg = sc->maglev_size;
	rt->msize_cap = cap;
	rt->vip = sc->vip;
	rt->port = htons(sc->port);
	rt->proto = sc->proto;
	rt->algo = (uint8_t)sc->algo;
	rt->snat = sc->snat;
	rt->kernel = sc->datapath == XGW_DP_KERNEL;
	rt->id = xgw_snapshot_key_hash(&sc->vip, rt->port, sc->proto) | 1;
	rt->n_backends = sc->n_backends;
	rt->be = (struct xgw_be_rt *)(rt + 1);
	rt->active = (uint32_t *)(rt->be + n);
	for (unsigned i = 0; i < sc->n_backends; i++) {
		const struct xgw_backend_cfg *b = &sc->backends[i];
		struct xgw_be_rt *be = &rt->be[i + 1];

		be->ip = b->ip;
		be->port = htons(b->port);
		be->weight = b->weight;
		rt->n_tun += b->tun != XGW_TUN_NONE;
		if (b->weight)
			rt->active[rt->n_active++] = i + 1;
	}
	if (sc->algo == XGW_ALGO_MAGLEV) {
		uint32_t m = xgw_service_maglev_size(sc, cap);

		rt->maglev = reuse_maglev(o, rt, m);
		if (!rt->maglev)
			rt->maglev = build_maglev(sc, rt, m, &rc);
		if (!rt->maglev) {
			snprintf(err, errlen, "service %s: cannot build Maglev table: %s",
				 xgw_service_key_str(&sc->vip, sc->port, sc->proto, key, sizeof(key)),
				 strerror(-rc));
			free(rt);
			return NULL;
		}
	}
	return rt;
}

/* ---- the index tables ---------------------------------------------------- */

static uint32_t slot_home(const struct xgw_svc_slot *e, uint32_t mask)
{
	return xgw_snapshot_key_hash(&e->vip, e->port, e->proto) & mask;
}

/* The slot of the key, or the empty one where it would go. */
static struct xgw_svc_slot *slot_find(struct xgw_svc_slot *tab, uint32_t mask,
				      const struct xgw_addr *a, uint16_t port, uint8_t proto)
{
	for (uint32_t h = xgw_snapshot_key_hash(a, port, proto) & mask;; h = (h + 1) & mask) {
		struct xgw_svc_slot *s = &tab[h];
		if (!s->used || (s->port == port && s->proto == proto && xgw_addr_eq(&s->vip, a)))
			return s;
	}
}

static void slot_fill(struct xgw_svc_slot *s, const struct xgw_addr *a, uint16_t port,
		      uint8_t proto)
{
	s->vip = *a;
	s->port = port;
	s->proto = proto;
	s->used = 1;
}

/* Empty slot e and shift back the entries after it that probed past it. */
static void slot_remove(struct xgw_svc_slot *tab, uint32_t mask, struct xgw_svc_slot *e)
{
	uint32_t i = (uint32_t)(e - tab), j = i;

	for (;;) {
		uint32_t k;

		j = (j + 1) & mask;
		if (!tab[j].used)
			break;
		k = slot_home(&tab[j], mask);
		/* Entry j stays when its home lies cyclically in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		tab[i] = tab[j];
		i = j;
	}
	memset(&tab[i], 0, sizeof(tab[i]));
}

static void count_add(struct xgw_svc_slot *tab, uint32_t mask, uint32_t *n,
		      const struct xgw_addr *a, uint16_t port, uint8_t proto)
{
	struct xgw_svc_slot *s = slot_find(tab, mask, a, port, proto);

	if (!s->used) {
		slot_fill(s, a, port, proto);
		(*n)++;
	}
	s->n++;
}

static int count_del(struct xgw_svc_slot *tab, uint32_t mask, uint32_t *n, const struct xgw_addr *a,
		     uint16_t port, uint8_t proto)
{
	struct xgw_svc_slot *s = slot_find(tab, mask, a, port, proto);

	if (!s->used)
		return -ENOENT; /* the tables do not hold what they should */
	if (--s->n)
		return 0;
	slot_remove(tab, mask, s);
	(*n)--;
	return 0;
}

/* A service's keys into t; -EEXIST when its key is another's (then t is
 * left for a rebuild, which keeps the first of equal keys). */
static int tabs_add(struct xgw_svc_tabs *t, struct xgw_svc_rt *v)
{
	struct xgw_svc_slot *s = slot_find(t->index, t->index_mask, &v->vip, v->port, v->proto);

	if (s->used)
		return -EEXIST;
	slot_fill(s, &v->vip, v->port, v->proto);
	s->svc = v;
	t->n_index++;
	count_add(t->vips, t->index_mask, &t->n_vips, &v->vip, 0, 0);
	for (unsigned b = 1; b <= v->n_backends; b++) {
		count_add(t->bes, t->bes_mask, &t->n_bes, &v->be[b].ip, v->be[b].port, v->proto);
		count_add(t->be_addrs, t->bes_mask, &t->n_be_addrs, &v->be[b].ip, 0, 0);
	}
	return 0;
}

static int tabs_del(struct xgw_svc_tabs *t, const struct xgw_svc_rt *v)
{
	struct xgw_svc_slot *s = slot_find(t->index, t->index_mask, &v->vip, v->port, v->proto);
	int rc;

	if (!s->used || s->svc != v)
		return -ENOENT;
	slot_remove(t->index, t->index_mask, s);
	t->n_index--;
	rc = count_del(t->vips, t->index_mask, &t->n_vips, &v->vip, 0, 0);
	for (unsigned b = 1; b <= v->n_backends && !rc; b++) {
		rc = count_del(t->bes, t->bes_mask, &t->n_bes, &v->be[b].ip, v->be[b].port,
			       v->proto);
		if (!rc)
			rc =
			    count_del(t->be_addrs, t->bes_mask, &t->n_be_addrs, &v->be[b].ip, 0, 0);
	}
	return rc;
}

static void tabs_release(struct xgw_svc_tabs *t)
{
	free(t->index);
	free(t->vips);
	free(t->bes);
	free(t->be_addrs);
	memset(t, 0, sizeof(*t));
}

/* Sized for n services and n_be backends in all, emptied. */
static int tabs_reset(struct xgw_svc_tabs *t, unsigned n, unsigned n_be)
{
	uint32_t im = pow2_at_least(n) - 1, bm = pow2_at_least(n_be) - 1;

	if (t->index && t->index_mask == im && t->bes_mask == bm) {
		memset(t->index, 0, (im + 1) * sizeof(*t->index));
		memset(t->vips, 0, (im + 1) * sizeof(*t->vips));
		memset(t->bes, 0, (bm + 1) * sizeof(*t->bes));
		memset(t->be_addrs, 0, (bm + 1) * sizeof(*t->be_addrs));
		t->n_index = t->n_vips = t->n_bes = t->n_be_addrs = 0;
		return 0;
	}
	tabs_release(t);
	t->index_mask = im;
	t->bes_mask = bm;
	t->index = calloc(im + 1, sizeof(*t->index));
	t->vips = calloc(im + 1, sizeof(*t->vips));
	t->bes = calloc(bm + 1, sizeof(*t->bes));
	t->be_addrs = calloc(bm + 1, sizeof(*t->be_addrs));
	if (t->index && t->vips && t->bes && t->be_addrs)
		return 0;
	tabs_release(t);
	return -ENOMEM;
}

/* Whether t, sized for a services and b backends, suits n and n_be: the
 * size a build would give, or within a factor 4 above it (then a write
 * adding or removing one service never resizes back and forth). */
static bool tabs_fit(const struct xgw_svc_tabs *t, unsigned n, unsigned n_be)
{
	uint32_t im = pow2_at_least(n) - 1, bm = pow2_at_least(n_be) - 1;

	return t->index && t->index_mask >= im && t->index_mask <= im * 4 + 3 &&
	       t->bes_mask >= bm && t->bes_mask <= bm * 4 + 3;
}

/* Every service of s (first of equal keys wins, as a build always did). */
static int tabs_fill(struct xgw_svc_tabs *t, const struct xgw_snapshot *s, unsigned n_be)
{
	int rc = tabs_reset(t, s->n_svcs, n_be);

	for (unsigned i = 0; i < s->n_svcs && !rc; i++)
		if (tabs_add(t, s->svcs[i]) == -EEXIST) {
			/* A duplicate key (an unvalidated config): its backends
			 * count as a build counted them. */
			struct xgw_svc_rt *v = s->svcs[i];
			count_add(t->vips, t->index_mask, &t->n_vips, &v->vip, 0, 0);
			for (unsigned b = 1; b <= v->n_backends; b++) {
				count_add(t->bes, t->bes_mask, &t->n_bes, &v->be[b].ip,
					  v->be[b].port, v->proto);
				count_add(t->be_addrs, t->bes_mask, &t->n_be_addrs, &v->be[b].ip, 0,
					  0);
			}
		}
	return rc;
}

/* One change (its gone records out, its added ones in) into t. */
static int tabs_apply(struct xgw_svc_tabs *t, struct xgw_svc_rt *const *gone, unsigned n_gone,
		      struct xgw_svc_rt *const *added, unsigned n_added)
{
	int rc = 0;

	for (unsigned i = 0; i < n_gone && !rc; i++)
		rc = tabs_del(t, gone[i]);
	for (unsigned i = 0; i < n_added && !rc; i++)
		rc = tabs_add(t, added[i]);
	return rc;
}

static void use_tabs(struct xgw_snapshot *s, struct xgw_svc_tabs *t)
{
	s->tabs = t;
	s->index = t->index;
	s->vips = t->vips;
	s->bes = t->bes;
	s->be_addrs = t->be_addrs;
	s->index_mask = t->index_mask;
	s->bes_mask = t->bes_mask;
}

/* ---- snapshots ----------------------------------------------------------- */

static int push(struct xgw_svc_rt ***arr, unsigned *n, unsigned *cap, struct xgw_svc_rt *v)
{
	if (*n == *cap) {
		unsigned nc = *cap ? *cap * 2 : 8;
		void *p = realloc(*arr, nc * sizeof(**arr));
		if (!p)
			return -ENOMEM;
		*arr = p;
		*cap = nc;
	}
	(*arr)[(*n)++] = svc_ref(v);
	return 0;
}

/* old's record with v's key, or NULL: first where the last one matched
 * ended (a write leaves the order of the rest as it was), else by the
 * index.  *j: the next position to look at. */
static struct xgw_svc_rt *old_record(const struct xgw_snapshot *old,
				     const struct xgw_service_cfg *sc, unsigned *j)
{
	uint16_t port = htons(sc->port);
	struct xgw_svc_rt *o;

	if (*j < old->n_svcs) {
		o = old->svcs[*j];
		if (o->port == port && o->proto == sc->proto && xgw_addr_eq(&o->vip, &sc->vip)) {
			(*j)++;
			return o;
		}
	}
	o = (struct xgw_svc_rt *)xgw_snapshot_service(old, &sc->vip, port, sc->proto);
	if (o && o->pos < old->n_svcs && old->svcs[o->pos] == o && o->pos >= *j)
		*j = o->pos + 1;
	return o;
}

/* Whether sc is ps with the same backends array (copy-on-write). */
static bool same_cfg(const struct xgw_service_cfg *sc, const struct xgw_service_cfg *ps)
{
	return sc->backends == ps->backends && sc->n_backends == ps->n_backends &&
	       sc->port == ps->port && sc->proto == ps->proto && xgw_addr_eq(&sc->vip, &ps->vip) &&
	       sc->algo == ps->algo && sc->snat == ps->snat && sc->datapath == ps->datapath &&
	       sc->maglev_size == ps->maglev_size;
}

static bool same_rule(const struct xgw_policy_cfg *a, const struct xgw_policy_cfg *b)
{
	return a->id == b->id && a->allow == b->allow && a->proto == b->proto &&
	       a->dport_lo == b->dport_lo && a->dport_hi == b->dport_hi &&
	       a->src.len == b->src.len && xgw_addr_eq(&a->src.addr, &b->src.addr) &&
	       a->dst.len == b->dst.len && xgw_addr_eq(&a->dst.addr, &b->dst.addr);
}

/* Whether set p was compiled from cfg's rules, for n_workers workers. */
static bool pset_fits(const struct xgw_policy_set *p, const struct xgw_config *cfg,
		      unsigned n_workers)
{
	if (p->n_workers != n_workers || p->default_allow != cfg->policy_default_allow ||
	    p->n_rules != cfg->n_policies)
		return false;
	for (unsigned i = 0; i < p->n_rules; i++)
		if (!same_rule(&p->rules[i], &cfg->policies[i]))
			return false;
	return true;
}

static void pset_unref(struct xgw_policy_set *p)
{
	if (!p || --p->refs)
		return;
	if (p->hits)
		for (unsigned w = 0; w < p->n_workers; w++)
			free(p->hits[w]);
	free(p->hits);
	free(p->rules);
	xgw_policy_free(p->policy);
	free(p);
}

static struct xgw_policy_set *pset_new(const struct xgw_config *cfg, unsigned n_workers, char *err,
				       size_t errlen)
{
	static uint64_t next_id;
	struct xgw_policy_set *p = calloc(1, sizeof(*p));
	unsigned hl;
	int rc;

	if (!p)
		goto nomem;
	p->refs = 1;
	p->id = ++next_id;
	p->n_workers = n_workers;
	p->default_allow = cfg->policy_default_allow;
	if (cfg->n_policies) {
		p->policy = xgw_policy_build(cfg->policies, cfg->n_policies,
					     cfg->policy_default_allow, &rc);
		if (!p->policy) {
			snprintf(err, errlen, "policies: cannot compile: %s", strerror(-rc));
			pset_unref(p);
			return NULL;
		}
		p->rules = malloc(cfg->n_policies * sizeof(*p->rules));
		if (!p->rules)
			goto nomem;
		memcpy(p->rules, cfg->policies, cfg->n_policies * sizeof(*p->rules));
		p->n_rules = cfg->n_policies;
	}
	/* Per-worker hit counters, each row on its own cache lines. */
	hl = p->policy ? xgw_policy_hits_len(p->policy) : 1;
	p->hits = calloc(n_workers ? n_workers : 1, sizeof(*p->hits));
	if (!p->hits)
		goto nomem;
	for (unsigned w = 0; w < n_workers; w++) {
		size_t sz = (hl * sizeof(uint64_t) + 63) & ~(size_t)63;
		if (posix_memalign((void **)&p->hits[w], 64, sz))
			goto nomem;
		memset(p->hits[w], 0, sz);
	}
	return p;
nomem:
	pset_unref(p);
	snprintf(err, errlen, "out of memory building the snapshot");
	return NULL;
}

static int build_rest(struct xgw_snapshot *s, const struct xgw_config *cfg, unsigned n_workers,
		      const struct xgw_snapshot *old, char *err, size_t errlen)
{
	s->tun = s->n_tun ? xgw_tun_table_build(cfg, err, errlen) : NULL;
	if (!s->tun && s->n_tun && err[0])
		return -EINVAL;
	if (old && old->pset && pset_fits(old->pset, cfg, n_workers)) {
		s->pset = old->pset;
		s->pset->refs++;
	} else {
		s->pset = pset_new(cfg, n_workers, err, errlen);
		if (!s->pset)
			return err[0] ? -EINVAL : -ENOMEM;
	}
	s->policy = s->pset->policy;
	s->hits = s->pset->hits;
	s->n_workers = n_workers;
	return 0;
}

static atomic_uint build_epoch;

static int push_kernel(struct xgw_snapshot *s, unsigned *cap, unsigned i)
{
	if (s->n_kernel == *cap) {
		unsigned nc = *cap ? *cap * 2 : 8;
		void *p = realloc(s->kernel_idx, nc * sizeof(*s->kernel_idx));

		if (!p)
			return -ENOMEM;
		s->kernel_idx = p;
		*cap = nc;
	}
	s->kernel_idx[s->n_kernel++] = i;
	return 0;
}

/* Whether cfg->delta's changed services kept their keys and its new
 * ones have keys old lacks, as it says. */
static bool named_keys_new(const struct xgw_config *cfg, const struct xgw_snapshot *old)
{
	for (unsigned k = 0; k < cfg->delta->n_idx; k++) {
		const struct xgw_service_cfg *sc = &cfg->services[cfg->delta->idx[k]];
		const struct xgw_svc_rt *o = old->svcs[cfg->delta->idx[k]];

		if (o->port != htons(sc->port) || o->proto != sc->proto ||
		    !xgw_addr_eq(&o->vip, &sc->vip))
			return false;
	}
	for (unsigned i = cfg->delta->n_prev; i < cfg->n_services; i++) {
		const struct xgw_service_cfg *sc = &cfg->services[i];

		if (xgw_snapshot_service(old, &sc->vip, htons(sc->port), sc->proto))
			return false;
	}
	return true;
}

/* The pass for a config whose changes are named (cfg->delta; prev is the
 * config old was made from, in its order): old's records as they are for
 * the others, no service of theirs read.  *n_be: cfg's backends. */
static int pass_named(struct xgw_snapshot *s, const struct xgw_config *cfg,
		      const struct xgw_config *prev, const struct xgw_snapshot *old, uint32_t m,
		      unsigned *n_be, unsigned *cap_gone, unsigned *cap_added, char *err,
		      size_t errlen)
{
	const struct xgw_svc_delta *dl = cfg->delta;
	unsigned n_new = cfg->n_services - dl->n_prev, cap_kernel = 0, kj = 0;

	*n_be = old->n_be;
	s->n_tun = old->n_tun;
	/* Borrowed: old holds the records it shares with s (no reference
	 * taken for each: a write at 10,000 services touched them all), s's
	 * own are held by its added list. */
	s->borrowed = true;
	memcpy(s->svcs, old->svcs, dl->n_prev * sizeof(*s->svcs));
	s->n_svcs = cfg->n_services;
	for (unsigned k = 0; k < dl->n_idx + n_new; k++) {
		unsigned i = k < dl->n_idx ? dl->idx[k] : dl->n_prev + (k - dl->n_idx);
		const struct xgw_service_cfg *sc = &cfg->services[i];
		struct xgw_svc_rt *o = i < dl->n_prev ? old->svcs[i] : NULL, *v;

		if (o) {
			*n_be -= prev->services[i].n_backends;
			s->n_tun -= o->n_tun;
		}
		*n_be += sc->n_backends;
		if (o && same_service(o, sc, m)) {
			v = o; /* s has it already */
		} else {
			v = build_service(sc, m, o, err, errlen);
			if (!v)
				goto fail;
			if (push(&s->added, &s->n_added, cap_added, v)) {
				svc_unref(v);
				goto nomem;
			}
			svc_unref(v); /* the added list's reference holds it */
			s->svcs[i] = v;
			if (o && push(&s->gone, &s->n_gone, cap_gone, o))
				goto nomem;
			filter_add_svc(s, v);
		}
		v->pos = i;
		s->svcs[i] = v;
		s->n_tun += v->n_tun;
	}
	/* The kernel services: old's, with the named ones as they are now. */
	for (unsigned k = 0; k <= dl->n_idx; k++) {
		unsigned end = k < dl->n_idx ? dl->idx[k] : dl->n_prev;

		for (; kj < old->n_kernel && old->kernel_idx[kj] < end; kj++)
			if (push_kernel(s, &cap_kernel, old->kernel_idx[kj]))
				goto nomem;
		if (kj < old->n_kernel && old->kernel_idx[kj] == end)
			kj++;
		if (k < dl->n_idx && cfg->services[end].datapath == XGW_DP_KERNEL &&
		    push_kernel(s, &cap_kernel, end))
			goto nomem;
	}
	for (unsigned i = dl->n_prev; i < cfg->n_services; i++)
		if (cfg->services[i].datapath == XGW_DP_KERNEL && push_kernel(s, &cap_kernel, i))
			goto nomem;
	/* What old is to release once s replaced it (xgw_snapshot_published):
	 * the records s no longer holds. */
	s->base_release = malloc((s->n_gone ? s->n_gone : 1) * sizeof(*s->base_release));
	if (!s->base_release)
		goto nomem;
	if (s->n_gone)
		memcpy(s->base_release, s->gone, s->n_gone * sizeof(*s->gone));
	return 0;
nomem:
	snprintf(err, errlen, "out of memory building the snapshot");
	return -ENOMEM;
fail:
	return -EINVAL; /* err filled by build_service */
}

static struct xgw_snapshot *build(struct xgw_snap_builder *b, const struct xgw_config *cfg,
				  const struct xgw_config *prev, unsigned n_workers,
				  uint32_t hash_seed, const struct xgw_snapshot *old, char *err,
				  size_t errlen)
{
	struct xgw_snapshot *s = calloc(1, sizeof(*s));
	uint32_t m = cfg->maglev_size ? cfg->maglev_size : XGW_MAGLEV_DEFAULT_SIZE;
	uint32_t epoch = atomic_fetch_add(&build_epoch, 1) + 1;
	unsigned n_be = 0, n_matched = 0, j = 0, cap_gone = 0, cap_added = 0, cap_kernel = 0;
	struct xgw_svc_tabs *t;
	bool dup = false;

	if (!s)
		goto nomem;
	err[0] = '\0';
	/* old made from prev, in its order: prev's services[j] is old's
	 * svcs[j]. */
	if (!old || !prev || old->src != prev->services || old->src_n != prev->n_services ||
	    old->n_svcs != prev->n_services || prev->maglev_size != cfg->maglev_size)
		prev = NULL;
	s->src = cfg->services;
	s->src_n = cfg->n_services;
	s->hash_seed = hash_seed;
	s->policy_default_allow = cfg->policy_default_allow;
	s->base = old;
	if (old)
		memcpy(s->addr_filter, old->addr_filter, sizeof(s->addr_filter));
	s->svcs = malloc((cfg->n_services + 1) * sizeof(*s->svcs));
	if (!s->svcs)
		goto nomem;
	/* The changes named by the writer: those services alone. */
	if (b && prev && xgw_svc_delta_usable(cfg, prev) && named_keys_new(cfg, old)) {
		if (pass_named(s, cfg, prev, old, m, &n_be, &cap_gone, &cap_added, err, errlen))
			goto fail;
		n_matched = old->n_svcs; /* none gone */
		goto index;
	}
	/* The one pass over every service: a service as old has it keeps
	 * old's record; the others are built (Maglev tables shared where
	 * their input did not change). */
	for (unsigned i = 0; i < cfg->n_services; i++) {
		const struct xgw_service_cfg *sc = &cfg->services[i];
		struct xgw_svc_rt *o = NULL, *v;

		n_be += sc->n_backends;
		if (prev && j < prev->n_services && same_cfg(sc, &prev->services[j]) &&
		    old->svcs[j]->mark != epoch) {
			/* As prev has it: old's record, nothing compared. */
			v = svc_ref(old->svcs[j++]);
			v->mark = epoch;
			n_matched++;
			goto have;
		}
		o = old ? old_record(old, sc, &j) : NULL;
		if (o && o->mark == epoch) {
			dup = true; /* two services with one key: no sharing */
			o = NULL;
		}
		if (o) {
			o->mark = epoch;
			n_matched++;
		}
		if (o && same_service(o, sc, m)) {
			v = svc_ref(o);
		} else {
			v = build_service(sc, m, o, err, errlen);
			if (!v)
				goto fail;
			if (push(&s->added, &s->n_added, &cap_added, v) ||
			    (o && push(&s->gone, &s->n_gone, &cap_gone, o))) {
				svc_unref(v);
				goto nomem;
			}
			filter_add_svc(s, v);
		}
	have:
		v->pos = i;
		s->svcs[s->n_svcs++] = v;
		s->n_tun += v->n_tun;
		if (sc->datapath == XGW_DP_KERNEL && push_kernel(s, &cap_kernel, i))
			goto nomem;
	}
	/* Records of old whose key is gone. */
	for (unsigned i = 0; old && n_matched < old->n_svcs && i < old->n_svcs; i++)
		if (old->svcs[i]->mark != epoch &&
		    push(&s->gone, &s->n_gone, &cap_gone, old->svcs[i]))
			goto nomem;
	/* The index: the builder's spare brought up to date, else built. */
index:
	s->n_be = n_be;
	if (b) {
		t = &b->tabs[!b->cur];
		if (old && old->tabs == &b->tabs[b->cur] && b->spare_ok && !dup &&
		    tabs_fit(t, s->n_svcs, n_be) &&
		    !tabs_apply(t, b->gone, b->n_gone, b->added, b->n_added) &&
		    !tabs_apply(t, s->gone, s->n_gone, s->added, s->n_added)) {
			/* in place */
		} else if (b->fills++, tabs_fill(t, s, n_be)) {
			b->spare_ok = false;
			goto nomem;
		}
		b->spare_ok = false; /* until s is published */
	} else {
		t = calloc(1, sizeof(*t));
		if (!t)
			goto nomem;
		s->own_tabs = true;
		s->tabs = t;
		if (tabs_fill(t, s, n_be))
			goto nomem;
	}
	use_tabs(s, t);
	if (build_rest(s, cfg, n_workers, old, err, errlen))
		goto fail;
	return s;
nomem:
	snprintf(err, errlen, "out of memory building the snapshot");
fail:
	xgw_snapshot_free(s);
	return NULL;
}

struct xgw_snapshot *xgw_snapshot_build(const struct xgw_config *cfg, unsigned n_workers,
					uint32_t hash_seed, char *err, size_t errlen)
{
	return build(NULL, cfg, NULL, n_workers, hash_seed, NULL, err, errlen);
}

struct xgw_snapshot *xgw_snapshot_rebuild(const struct xgw_config *cfg, unsigned n_workers,
					  uint32_t hash_seed, const struct xgw_snapshot *old,
					  char *err, size_t errlen)
{
	return build(NULL, cfg, NULL, n_workers, hash_seed, old, err, errlen);
}

struct xgw_snapshot *xgw_snapshot_update(struct xgw_snap_builder *b, const struct xgw_config *cfg,
					 const struct xgw_config *prev, unsigned n_workers,
					 uint32_t hash_seed, const struct xgw_snapshot *old,
					 char *err, size_t errlen)
{
	return build(b, cfg, prev, n_workers, hash_seed, old, err, errlen);
}

void xgw_snapshot_published(struct xgw_snap_builder *b, struct xgw_snapshot *s)
{
	if (s->borrowed) {
		/* s holds what it shares with its base from now on (the
		 * base's references, handed over), and its own records; the
		 * base keeps those s let go, to release when it is freed. */
		struct xgw_snapshot *base = (struct xgw_snapshot *)s->base;

		for (unsigned i = 0; i < s->n_added; i++)
			svc_ref(s->added[i]);
		s->borrowed = false;
		base->release = s->base_release;
		base->n_release = s->n_gone;
		base->partial = true;
		s->base_release = NULL;
	}
	unref_all(b->gone, b->n_gone);
	unref_all(b->added, b->n_added);
	/* The spare is now the tables of the snapshot s replaced: equal to
	 * s's less s's change, if those were s's base's. */
	b->spare_ok = s->base && s->base->tabs == &b->tabs[b->cur];
	b->cur = (unsigned)(s->tabs - b->tabs);
	b->gone = s->gone;
	b->added = s->added;
	b->n_gone = s->n_gone;
	b->n_added = s->n_added;
	s->gone = s->added = NULL;
	s->n_gone = s->n_added = 0;
	s->base = NULL;
}

struct xgw_snap_builder *xgw_snap_builder_new(void)
{
	return calloc(1, sizeof(struct xgw_snap_builder));
}

unsigned xgw_snap_builder_fills(const struct xgw_snap_builder *b)
{
	return b->fills;
}

void xgw_snap_builder_free(struct xgw_snap_builder *b)
{
	if (!b)
		return;
	unref_all(b->gone, b->n_gone);
	unref_all(b->added, b->n_added);
	tabs_release(&b->tabs[0]);
	tabs_release(&b->tabs[1]);
	free(b);
}

void xgw_snapshot_free(struct xgw_snapshot *s)
{
	if (!s)
		return;
	/* Its records: all of them; those a snapshot that replaced it let go
	 * (partial); none when borrowed (never published: its base holds
	 * them, its added list its own). */
	if (s->partial)
		unref_all(s->release, s->n_release);
	else if (!s->borrowed)
		for (unsigned i = 0; i < s->n_svcs; i++)
			svc_unref(s->svcs[i]);
	free(s->base_release);
	unref_all(s->gone, s->n_gone);
	unref_all(s->added, s->n_added);
	pset_unref(s->pset);
	free(s->svcs);
	free(s->kernel_idx);
	if (s->own_tabs) {
		tabs_release(s->tabs);
		free(s->tabs);
	}
	xgw_tun_table_free(s->tun);
	free(s);
}

const struct xgw_svc_rt *xgw_snapshot_service(const struct xgw_snapshot *s,
					      const struct xgw_addr *vip, uint16_t port,
					      uint8_t proto)
{
	return xgw_snapshot_service_fast(s, vip, port, proto);
}

bool xgw_snapshot_is_vip(const struct xgw_snapshot *s, const struct xgw_addr *ip)
{
	return xgw_snapshot_index_get(s->vips, s->index_mask, ip, 0, 0) != NULL;
}

bool xgw_snapshot_is_backend_addr(const struct xgw_snapshot *s, const struct xgw_addr *ip)
{
	return xgw_snapshot_index_get(s->be_addrs, s->bes_mask, ip, 0, 0) != NULL;
}

bool xgw_snapshot_is_backend(const struct xgw_snapshot *s, const struct xgw_addr *ip,
			     uint16_t port, uint8_t proto)
{
	return xgw_snapshot_index_get(s->bes, s->bes_mask, ip, port, proto) != NULL;
}
