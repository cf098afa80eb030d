/* SPDX-License-Identifier: BSD-3-Clause */
/* The FIB's neighbours (small, rebuilt whole and republished by RCU) and
 * the lookups that combine routes with the ports. */
#include <errno.h>
#include <stdlib.h>

#include "common/hash.h"
#include "pipeline/fib.h"

static inline uint32_t hash_addr(const struct xgw_addr *a, uint32_t seed)
{
	return (uint32_t)xgw_hash_fmix64(a->q[0] * 0x9e3779b97f4a7c15ULL ^ a->q[1] ^ seed);
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t s = 8;

	while (s < n)
		s <<= 1;
	return s;
}

void xgw_neigh_table_free(struct xgw_neigh_table *t)
{
	if (!t)
		return;
	free(t->neigh);
	free(t->used);
	free(t);
}

static struct xgw_neigh_table *neigh_build(const struct xgw_neigh *neigh, unsigned n_neigh)
{
	struct xgw_neigh_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->mask = pow2_at_least(n_neigh * 2) - 1;
	t->neigh = calloc(t->mask + 1, sizeof(*t->neigh));
	t->used = calloc(t->mask + 1, 1);
	if (!t->neigh || !t->used) {
		xgw_neigh_table_free(t);
		return NULL;
	}
	for (unsigned i = 0; i < n_neigh; i++) {
		uint32_t h = hash_addr(&neigh[i].ip, (uint32_t)neigh[i].ifindex) & t->mask;
		for (;; h = (h + 1) & t->mask) {
			struct xgw_neigh *e = &t->neigh[h];
			if (!t->used[h] ||
			    (e->ifindex == neigh[i].ifindex && xgw_addr_eq(&e->ip, &neigh[i].ip))) {
				/* A static entry is never replaced by a learnt one. */
				if (t->used[h] && e->is_static && !neigh[i].is_static)
					break;
				if (!t->used[h])
					t->n++;
				*e = neigh[i];
				t->used[h] = 1;
				break;
			}
		}
	}
	return t;
}

int xgw_fib_set_neigh(struct xgw_fib *f, const struct xgw_neigh *neigh, unsigned n_neigh,
		      void (*sync)(void))
{
	struct xgw_neigh_table *t = neigh_build(neigh, n_neigh), *old;

	if (!t)
		return -ENOMEM;
	old = __atomic_exchange_n(&f->neigh, t, __ATOMIC_ACQ_REL);
	/* Route caches hold neighbours' addresses: a new generation. */
	xgw_fib_commit(f, NULL);
	if (sync)
		sync();
	xgw_neigh_table_free(old);
	return 0;
}

const struct xgw_neigh *xgw_fib_neigh(const struct xgw_fib *f, int ifindex,
				      const struct xgw_addr *ip)
{
	const struct xgw_neigh_table *t = __atomic_load_n(&f->neigh, __ATOMIC_ACQUIRE);

	for (uint32_t h = hash_addr(ip, (uint32_t)ifindex) & t->mask;; h = (h + 1) & t->mask) {
		if (!t->used[h])
			return NULL;
		if (t->neigh[h].ifindex == ifindex && xgw_addr_eq(&t->neigh[h].ip, ip))
			return &t->neigh[h];
	}
}

uint16_t xgw_route_port(const struct xgw_fwd_state *fs, const struct xgw_nh *r)
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
	/* Hash 0: a multipath route's first path, the same every time. */
	const struct xgw_nh *r = fs && fs->fib ? xgw_fib_lookup(fs->fib, dst, 0) : NULL;
	uint16_t port = r ? xgw_route_port(fs, r) : XGW_PORT_NONE;

	if (port >= XGW_MAX_PORTS)
		return NULL;
	return dst->family == AF_INET ? &fs->port_addr4[port] : &fs->port_addr6[port];
}
