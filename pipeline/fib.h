/* SPDX-License-Identifier: BSD-3-Clause */
/* Forwarding state the workers read: routes and neighbours.  Routes are
 * learnt from the kernel over netlink (plus the config's static ones) and
 * applied one change at a time to an LPM trie the workers keep reading
 * (pipeline/lpm.h); neighbours and interface addresses are small and
 * republished whole, by RCU. */
#ifndef XGW_FIB_H
#define XGW_FIB_H

#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/config.h"
#include "pipeline/lpm.h"

#define XGW_PORT_NONE 0xffff
#define XGW_MAX_PORTS XGW_CONFIG_MAX_PORTS

/* One path of a multipath route (RTA_MULTIPATH). */
struct xgw_path {
	struct xgw_addr via; /* family 0: directly connected */
	int oif;
	uint16_t port;	 /* xgw port index of oif, or XGW_PORT_NONE */
	uint16_t weight; /* 1.. (the kernel's rtnh_hops + 1) */
};

/* A route as given to the FIB (from netlink or the config). */
struct xgw_route {
	struct xgw_prefix dst;
	struct xgw_addr via; /* family 0: directly connected, next hop = dst */
	int oif;             /* egress ifindex */
	uint16_t port;       /* xgw port index of oif, or XGW_PORT_NONE */
	uint8_t is_static;
	uint8_t n_paths; /* > 1: multipath, paths[] instead of via/oif/port */
	uint32_t metric; /* the kernel's priority: the lowest wins */
	const struct xgw_path *paths;
};

#define XGW_FIB_MAX_PATHS 32

struct xgw_neigh {
	struct xgw_addr ip;
	int ifindex;
	uint8_t mac[6];
	uint8_t is_static;
};

struct xgw_nh_group;

/* A next hop as the workers read it.  Shared by every route with the same
 * next hop(s); a multipath route's next hop is a group whose paths are
 * next hops themselves. */
struct xgw_nh {
	struct xgw_addr via;
	int oif;
	uint16_t port;
	uint16_t n_paths; /* > 1: a group, grp says which path a hash takes */
	const struct xgw_nh_group *grp;
	uint32_t refs; /* control side */
};

struct xgw_nh_group {
	uint32_t total; /* sum of weights */
	uint32_t n;
	struct {
		uint32_t upto; /* cumulative weight: path i takes hashes below */
		uint32_t nh;
	} path[];
};

struct xgw_neigh_table {
	struct xgw_neigh *neigh; /* open addressing, power-of-two size */
	uint8_t *used;
	uint32_t mask;
	unsigned n;
};

struct fib_ctl; /* the control side's route table (fib.c) */

/* Long-lived: created once, changed in place by one writer (the control
 * thread, under the daemon's fwd_lock) while workers read it. */
struct xgw_fib {
	struct xgw_lpm lpm4, lpm6;
	struct xgw_nh *nh;	       /* reserved address space, indexed by the LPM */
	struct xgw_neigh_table *neigh; /* RCU: replaced whole */
	/* Bumped (unique in the process, never 0) after each batch of
	 * changes, once the changes are visible: the workers' route caches
	 * (pipeline/forward.c) key on it.  Read it before a lookup. */
	uint64_t generation;
	struct fib_ctl *ctl;
};

/* The generation as a reader sees it: an atomic load, because the
 * writer bumps it while workers run (a plain mov on x86-64). */
static inline uint64_t xgw_fib_generation(const struct xgw_fib *f)
{
	return __atomic_load_n(&f->generation, __ATOMIC_ACQUIRE);
}

/* A new generation with no change of the table: what the route caches
 * hold besides the FIB changed (a port's MTU).  Any thread; no grace
 * period needed (nothing is unlinked). */
void xgw_fib_bump(struct xgw_fib *f);

/* An empty FIB. */
struct xgw_fib *xgw_fib_new(void);
void xgw_fib_free(struct xgw_fib *f);

/* Writer side.  Changes are visible to readers at once, entry by entry;
 * xgw_fib_commit ends a batch: it bumps the generation and, when memory
 * was unlinked, waits a grace period (sync; NULL when there are no
 * concurrent readers) and makes it reusable. */
/* Add or replace the route for (dst, origin, and for kernel routes the
 * metric).  0, -ENOSPC (table full: not installed), -ENOMEM, -EINVAL. */
int xgw_fib_set(struct xgw_fib *f, const struct xgw_route *r);
/* Remove it; -ENOENT if absent. */
int xgw_fib_del(struct xgw_fib *f, const struct xgw_route *r);
/* Resynchronisation: mark every route of one origin, set() the full list
 * (which unmarks what it sets), then sweep away what is still marked. */
void xgw_fib_mark(struct xgw_fib *f, bool is_static);
unsigned xgw_fib_sweep(struct xgw_fib *f, bool is_static);
void xgw_fib_commit(struct xgw_fib *f, void (*sync)(void));
/* Replace the neighbour table (static entries win over learnt ones for
 * the same address); the old one is freed after sync. */
int xgw_fib_set_neigh(struct xgw_fib *f, const struct xgw_neigh *neigh, unsigned n_neigh,
		      void (*sync)(void));

/* A FIB holding these routes and neighbours (tests, offline pipeline).
 * Later duplicates of a prefix replace earlier ones; static routes win
 * over learnt ones. */
struct xgw_fib *xgw_fib_build(const struct xgw_route *routes, unsigned n_routes,
			      const struct xgw_neigh *neigh, unsigned n_neigh);

/* Reader side (workers).  The route's next hop, a group for a multipath
 * route; xgw_fib_path picks a group's path by flow hash (a single next
 * hop is its own path). */
static inline const struct xgw_nh *xgw_fib_route(const struct xgw_fib *f,
						 const struct xgw_addr *dst)
{
	uint32_t i = xgw_lpm_lookup(dst->family == AF_INET6 ? &f->lpm6 : &f->lpm4, dst->b);

	return i ? &f->nh[i] : NULL;
}

static inline const struct xgw_nh *xgw_fib_path(const struct xgw_fib *f, const struct xgw_nh *nh,
						uint32_t hash)
{
	const struct xgw_nh_group *g;
	uint32_t x, i = 0;

	if (!nh || nh->n_paths <= 1)
		return nh;
	/* Hash-threshold (RFC 2992): a path's share of the hash space is its
	 * share of the weights, so a path's removal moves only its flows and
	 * its neighbours' (as Linux does). */
	g = nh->grp;
	x = (uint32_t)(((uint64_t)hash * g->total) >> 32);
	while (x >= g->path[i].upto)
		i++;
	return &f->nh[g->path[i].nh];
}

static inline const struct xgw_nh *xgw_fib_lookup(const struct xgw_fib *f,
						  const struct xgw_addr *dst, uint32_t hash)
{
	return xgw_fib_path(f, xgw_fib_route(f, dst), hash);
}

const struct xgw_neigh *xgw_fib_neigh(const struct xgw_fib *f, int ifindex,
				      const struct xgw_addr *ip);
void xgw_neigh_table_free(struct xgw_neigh_table *t);

/* Listing (control side, under the writer's lock): each installed route
 * as (prefix, origin, next hop); stops when fn returns non-zero. */
typedef int (*xgw_fib_walk_fn)(void *arg, const struct xgw_prefix *dst, bool is_static,
			       uint32_t metric, const struct xgw_nh *nh);
int xgw_fib_walk(const struct xgw_fib *f, xgw_fib_walk_fn fn, void *arg);
/* The route the workers would use for dst: its prefix and next hop. */
const struct xgw_nh *xgw_fib_get(const struct xgw_fib *f, const struct xgw_addr *dst,
				 struct xgw_prefix *pfx, bool *is_static);

struct xgw_fib_stats {
	uint64_t routes4, routes6, nexthops;
	uint64_t lpm_bytes, nh_bytes, table_bytes;
	uint64_t changes, full; /* route changes applied; refused for want of room */
};
void xgw_fib_stats(const struct xgw_fib *f, struct xgw_fib_stats *s);

/* What the forwarding stage reads; replaced whole when interface addresses
 * change.  The FIB is not owned by it: it lives as long as the data plane
 * (dp->fib) and changes in place. */
struct xgw_fwd_state {
	struct xgw_fib *fib;
	struct xgw_addr port_addr4[XGW_MAX_PORTS]; /* ICMP error source */
	struct xgw_addr port_addr6[XGW_MAX_PORTS];
	uint16_t port_of_ifindex_n;
	struct {
		int ifindex;
		uint16_t port;
	} ifmap[XGW_MAX_PORTS];
};

/* The xgw port a route leaves by, or XGW_PORT_NONE. */
uint16_t xgw_route_port(const struct xgw_fwd_state *fs, const struct xgw_nh *r);
/* The gateway's address on the port the route to dst leaves by (the SNAT
 * source for a backend), or NULL: no route, or not by an xgw port. */
const struct xgw_addr *xgw_fwd_egress_addr(const struct xgw_fwd_state *fs,
					   const struct xgw_addr *dst);

#endif
