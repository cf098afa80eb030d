/* SPDX-License-Identifier: BSD-3-Clause */
#include "pipeline/fib.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"

struct fib_slot {
	struct xgw_addr key; /* masked; family 0 = empty */
	uint32_t route;      /* index into routes */
};

static inline uint32_t hash_addr(const struct xgw_addr *a, uint32_t seed)
{
	return (uint32_t)xgw_hash_fmix64(a->q[0] * 0x9e3779b97f4a7c15ULL ^ a->q[1] ^ seed);
}

/* Source of struct xgw_fib.generation: unique in the process, never 0. */
static _Atomic uint64_t fib_generations;

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t s = 8;

	while (s < n)
		s <<= 1;
	return s;
}

static int cmp_level(const void *a, const void *b)
{
	const struct fib_level *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	return y->len - x->len;
}

static void level_insert(struct fib_level *l, const struct xgw_addr *key, uint32_t route)
{
	uint32_t i = hash_addr(key, l->len) & l->mask;

	for (;; i = (i + 1) & l->mask) {
		struct fib_slot *s = &l->slots[i];
		if (!s->key.family || xgw_addr_eq(&s->key, key)) {
			s->key = *key;
			s->route = route;
			return;
		}
	}
}

static struct fib_level *find_level(struct xgw_fib *f, uint8_t family, uint8_t len)
{
	for (unsigned i = 0; i < f->n_levels; i++)
		if (f->levels[i].family == family && f->levels[i].len == len)
			return &f->levels[i];
	return NULL;
}

struct xgw_fib *xgw_fib_build(const struct xgw_route *routes, unsigned n_routes,
			      const struct xgw_neigh *neigh, unsigned n_neigh)
{
	struct xgw_fib *f = calloc(1, sizeof(*f));
	unsigned *count;

	if (!f)
		return NULL;
	f->routes = calloc(n_routes ? n_routes : 1, sizeof(*f->routes));
	f->levels = calloc(n_routes ? n_routes : 1, sizeof(*f->levels));
	count = calloc(n_routes ? n_routes : 1, sizeof(*count));
	if (!f->routes || !f->levels || !count)
		goto err;
	if (n_routes) /* memcpy from NULL is undefined even for 0 bytes */
		memcpy(f->routes, routes, n_routes * sizeof(*routes));
	f->n_routes = n_routes;
	f->generation = atomic_fetch_add_explicit(&fib_generations, 1, memory_order_relaxed) + 1;

	for (unsigned i = 0; i < n_routes; i++) {
		struct fib_level *l = find_level(f, routes[i].dst.addr.family, routes[i].dst.len);
		if (!l) {
			l = &f->levels[f->n_levels++];
			l->family = routes[i].dst.addr.family;
			l->len = routes[i].dst.len;
		}
		count[l - f->levels]++;
	}
	for (unsigned i = 0; i < f->n_levels; i++) {
		/* Load factor <= 1/2 keeps probe chains short. */
		uint32_t size = pow2_at_least(count[i] * 2);
		f->levels[i].mask = size - 1;
		f->levels[i].slots = calloc(size, sizeof(struct fib_slot));
		if (!f->levels[i].slots)
			goto err;
	}
	for (unsigned i = 0; i < n_routes; i++) {
		struct xgw_addr k = routes[i].dst.addr;
		xgw_addr_mask(&k, routes[i].dst.len);
		f->routes[i].dst.addr = k;
		level_insert(find_level(f, k.family, routes[i].dst.len), &k, i);
	}
	qsort(f->levels, f->n_levels, sizeof(*f->levels), cmp_level);

	f->neigh_mask = pow2_at_least(n_neigh * 2) - 1;
	f->neigh = calloc(f->neigh_mask + 1, sizeof(*f->neigh));
	f->neigh_used = calloc(f->neigh_mask + 1, 1);
	if (!f->neigh || !f->neigh_used)
		goto err;
	for (unsigned i = 0; i < n_neigh; i++) {
		uint32_t h = hash_addr(&neigh[i].ip, (uint32_t)neigh[i].ifindex) & f->neigh_mask;
		for (;; h = (h + 1) & f->neigh_mask) {
			struct xgw_neigh *e = &f->neigh[h];
			if (!f->neigh_used[h] ||
			    (e->ifindex == neigh[i].ifindex && xgw_addr_eq(&e->ip, &neigh[i].ip))) {
				/* A static entry is never replaced by a learnt one. */
				if (f->neigh_used[h] && e->is_static && !neigh[i].is_static)
					break;
				if (!f->neigh_used[h])
					f->n_neigh++;
				*e = neigh[i];
				f->neigh_used[h] = 1;
				break;
			}
		}
	}
	free(count);
	return f;
err:
	free(count);
	xgw_fib_free(f);
	return NULL;
}

void xgw_fib_free(struct xgw_fib *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < f->n_levels; i++)
		free(f->levels[i].slots);
	free(f->levels);
	free(f->routes);
	free(f->neigh);
	free(f->neigh_used);
	free(f);
}

const struct xgw_route *xgw_fib_lookup(const struct xgw_fib *f, const struct xgw_addr *dst)
{
	for (unsigned i = 0; i < f->n_levels; i++) {
		const struct fib_level *l = &f->levels[i];
		struct xgw_addr k;

		if (l->family != dst->family)
			continue;
		k = *dst;
		xgw_addr_mask(&k, l->len);
		for (uint32_t h = hash_addr(&k, l->len) & l->mask;; h = (h + 1) & l->mask) {
			const struct fib_slot *s = &l->slots[h];
			if (!s->key.family)
				break;
			if (xgw_addr_eq(&s->key, &k))
				return &f->routes[s->route];
		}
	}
	return NULL;
}

const struct xgw_neigh *xgw_fib_neigh(const struct xgw_fib *f, int ifindex,
				      const struct xgw_addr *ip)
{
	for (uint32_t h = hash_addr(ip, (uint32_t)ifindex) & f->neigh_mask;;
	     h = (h + 1) & f->neigh_mask) {
		if (!f->neigh_used[h])
			return NULL;
		if (f->neigh[h].ifindex == ifindex && xgw_addr_eq(&f->neigh[h].ip, ip))
			return &f->neigh[h];
	}
}

uint16_t xgw_route_port(const struct xgw_fwd_state *fs, const struct xgw_route *r)
{
	if (r->port != XGW_PORT_NONE)
		return r->port;
	for (unsigned i = 0; i < fs->port_of_ifindex_n; i++)
		if (fs->ifmap[i].ifindex == r->oif)
			return fs->ifmap[i].port;
	return XGW_PORT_NONE;
}

const struct xgw_addr *xgw_fwd_egress_addr(const struct xgw_fwd_state *fs,
					   const struct xgw_addr *dst)
{
	const struct xgw_route *r = fs && fs->fib ? xgw_fib_lookup(fs->fib, dst) : NULL;
	uint16_t port = r ? xgw_route_port(fs, r) : XGW_PORT_NONE;

	if (port >= XGW_MAX_PORTS)
		return NULL;
	return dst->family == AF_INET ? &fs->port_addr4[port] : &fs->port_addr6[port];
}
