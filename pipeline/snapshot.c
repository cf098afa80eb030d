/* SPDX-License-Identifier: BSD-3-Clause */
#include "pipeline/snapshot.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "tunnel/table.h"

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t s = 16;

	while (s < n * 2)
		s <<= 1;
	return s;
}

static void index_put(struct xgw_svc_slot *tab, uint32_t mask, const struct xgw_addr *a,
		      uint16_t port, uint8_t proto, uint32_t svc)
{
	for (uint32_t h = xgw_snapshot_key_hash(a, port, proto) & mask;; h = (h + 1) & mask) {
		struct xgw_svc_slot *s = &tab[h];
		if (s->used && xgw_addr_eq(&s->vip, a) && s->port == port && s->proto == proto)
			return; /* first one wins: keeps the lowest service index */
		if (!s->used) {
			s->vip = *a;
			s->port = port;
			s->proto = proto;
			s->svc = svc;
			s->used = 1;
			return;
		}
	}
}

static void filter_add(struct xgw_snapshot *s, const struct xgw_addr *a)
{
	uint32_t i = xgw_addr_filter_idx(xgw_addr_fold(a));

	s->addr_filter[i >> 6] |= 1ull << (i & 63);
}

/* The same Maglev input as in the previous snapshot: share its table (a
 * reference, no copy), so that a change to one service costs the build of
 * that service only. */
static struct xgw_maglev *reuse_maglev(const struct xgw_snapshot *old, const struct xgw_svc_rt *rt,
				       uint32_t m)
{
	const struct xgw_svc_rt *o;

	if (!old)
		return NULL;
	o = xgw_snapshot_service(old, &rt->vip, rt->port, rt->proto);
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

/* be and active: the service's n_backends + 1 entries in the snapshot's
 * arrays, zeroed. */
static int build_service(struct xgw_svc_rt *rt, const struct xgw_service_cfg *sc, uint32_t cap,
			 const struct xgw_snapshot *old, struct xgw_be_rt *be_arr,
			 uint32_t *active_arr, char *err, size_t errlen)
{
	char key[XGW_KEY_STRLEN];
	int rc = 0;

	rt->vip = sc->vip;
	rt->port = htons(sc->port);
	rt->proto = sc->proto;
	rt->algo = (uint8_t)sc->algo;
	rt->snat = sc->snat;
	rt->kernel = sc->datapath == XGW_DP_KERNEL;
	rt->id = xgw_snapshot_key_hash(&sc->vip, rt->port, sc->proto) | 1;
	rt->n_backends = sc->n_backends;
	rt->be = be_arr;
	rt->active = active_arr;
	for (unsigned i = 0; i < sc->n_backends; i++) {
		const struct xgw_backend_cfg *b = &sc->backends[i];
		struct xgw_be_rt *be = &rt->be[i + 1];

		be->ip = b->ip;
		be->port = htons(b->port);
		be->weight = b->weight;
		if (b->weight)
			rt->active[rt->n_active++] = i + 1;
	}
	if (sc->algo == XGW_ALGO_MAGLEV) {
		uint32_t m = xgw_service_maglev_size(sc, cap);

		rt->maglev = reuse_maglev(old, rt, m);
		if (!rt->maglev)
			rt->maglev = build_maglev(sc, rt, m, &rc);
		if (!rt->maglev)
			snprintf(err, errlen, "service %s: cannot build Maglev table: %s",
				 xgw_service_key_str(&sc->vip, sc->port, sc->proto, key, sizeof(key)),
				 strerror(-rc));
	}
	return rc;
}

struct xgw_snapshot *xgw_snapshot_build(const struct xgw_config *cfg, unsigned n_workers,
					uint32_t hash_seed, char *err, size_t errlen)
{
	return xgw_snapshot_rebuild(cfg, n_workers, hash_seed, NULL, err, errlen);
}

struct xgw_snapshot *xgw_snapshot_rebuild(const struct xgw_config *cfg, unsigned n_workers,
					  uint32_t hash_seed, const struct xgw_snapshot *old,
					  char *err, size_t errlen)
{
	struct xgw_snapshot *s = calloc(1, sizeof(*s));
	uint32_t m = cfg->maglev_size ? cfg->maglev_size : XGW_MAGLEV_DEFAULT_SIZE;
	unsigned n_be = 0, hl;
	int rc;

	if (!s)
		goto nomem;
	s->hash_seed = hash_seed;
	if (old)
		memcpy(s->addr_filter, old->addr_filter, sizeof(s->addr_filter));
	s->policy_default_allow = cfg->policy_default_allow;
	s->svcs = calloc(cfg->n_services + 1, sizeof(*s->svcs));
	if (!s->svcs)
		goto nomem;
	/* Every service's backends and active ids in one array each (two
	 * allocations per service were a fifth of a write at 10,000). */
	for (unsigned i = 0; i < cfg->n_services; i++)
		n_be += cfg->services[i].n_backends;
	s->be_all = calloc(n_be + cfg->n_services + 1, sizeof(*s->be_all));
	s->active_all = calloc(n_be + cfg->n_services + 1, sizeof(*s->active_all));
	if (!s->be_all || !s->active_all)
		goto nomem;
	for (unsigned i = 0, off = 0; i < cfg->n_services; i++) {
		rc = build_service(&s->svcs[s->n_svcs++], &cfg->services[i], m, old,
				   s->be_all + off, s->active_all + off, err, errlen);
		if (rc)
			goto fail;
		off += cfg->services[i].n_backends + 1;
	}
	s->index_mask = pow2_at_least(s->n_svcs) - 1;
	s->bes_mask = pow2_at_least(n_be) - 1;
	s->index = calloc(s->index_mask + 1, sizeof(*s->index));
	s->vips = calloc(s->index_mask + 1, sizeof(*s->vips));
	s->bes = calloc(s->bes_mask + 1, sizeof(*s->bes));
	s->be_addrs = calloc(s->bes_mask + 1, sizeof(*s->be_addrs));
	if (!s->index || !s->vips || !s->bes || !s->be_addrs)
		goto nomem;
	for (unsigned i = 0; i < s->n_svcs; i++) {
		const struct xgw_svc_rt *v = &s->svcs[i];
		index_put(s->index, s->index_mask, &v->vip, v->port, v->proto, i);
		index_put(s->vips, s->index_mask, &v->vip, 0, 0, i);
		filter_add(s, &v->vip);
		for (unsigned b = 1; b <= v->n_backends; b++) {
			index_put(s->bes, s->bes_mask, &v->be[b].ip, v->be[b].port, v->proto, i);
			index_put(s->be_addrs, s->bes_mask, &v->be[b].ip, 0, 0, i);
			filter_add(s, &v->be[b].ip);
		}
	}
	s->tun = xgw_tun_table_build(cfg, err, errlen);
	if (!s->tun && err[0])
		goto fail;
	if (cfg->n_policies) {
		s->policy = xgw_policy_build(cfg->policies, cfg->n_policies,
					     cfg->policy_default_allow, &rc);
		if (!s->policy) {
			snprintf(err, errlen, "policies: cannot compile: %s", strerror(-rc));
			goto fail;
		}
	}
	/* Per-worker hit counters, each row on its own cache lines. */
	s->n_workers = n_workers;
	hl = s->policy ? xgw_policy_hits_len(s->policy) : 1;
	s->hits = calloc(n_workers ? n_workers : 1, sizeof(*s->hits));
	if (!s->hits)
		goto nomem;
	for (unsigned w = 0; w < n_workers; w++) {
		size_t sz = (hl * sizeof(uint64_t) + 63) & ~(size_t)63;
		if (posix_memalign((void **)&s->hits[w], 64, sz))
			goto nomem;
		memset(s->hits[w], 0, sz);
	}
	return s;
nomem:
	snprintf(err, errlen, "out of memory building the snapshot");
fail:
	xgw_snapshot_free(s);
	return NULL;
}

void xgw_snapshot_free(struct xgw_snapshot *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->n_svcs; i++)
		xgw_maglev_free(s->svcs[i].maglev);
	free(s->be_all);
	free(s->active_all);
	if (s->hits)
		for (unsigned w = 0; w < s->n_workers; w++)
			free(s->hits[w]);
	free(s->hits);
	free(s->svcs);
	free(s->index);
	free(s->vips);
	free(s->bes);
	free(s->be_addrs);
	xgw_policy_free(s->policy);
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
