/* SPDX-License-Identifier: BSD-3-Clause */
/* Forwarding state the workers read: routes and neighbours.  Built whole by
 * the control side (from the kernel's tables over netlink plus the config's
 * static entries), published by RCU, never modified after publication. */
#ifndef XGW_FIB_H
#define XGW_FIB_H

#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/config.h"

#define XGW_PORT_NONE 0xffff
#define XGW_MAX_PORTS XGW_CONFIG_MAX_PORTS

struct xgw_route {
	struct xgw_prefix dst;
	struct xgw_addr via; /* family 0: directly connected, next hop = dst */
	int oif;             /* egress ifindex */
	uint16_t port;       /* xgw port index of oif, or XGW_PORT_NONE */
	uint8_t is_static;
};

struct xgw_neigh {
	struct xgw_addr ip;
	int ifindex;
	uint8_t mac[6];
	uint8_t is_static;
};

struct fib_slot;

/* One hash table per prefix length present, probed longest first. */
struct fib_level {
	uint8_t len;
	uint8_t family;
	uint32_t mask;         /* slots - 1 */
	struct fib_slot *slots;
};

struct xgw_fib {
	struct fib_level *levels; /* sorted by len descending, per family */
	unsigned n_levels;
	struct xgw_route *routes;
	unsigned n_routes;
	/* Neighbour hash: open addressing, power-of-two size. */
	struct xgw_neigh *neigh;
	uint8_t *neigh_used;
	uint32_t neigh_mask;
	unsigned n_neigh;
	/* Set by xgw_fib_build, unique in the process and never 0: the
	 * workers' route caches (pipeline/forward.c) key on it. */
	uint64_t generation;
};

/* Build from arrays (copied).  Later duplicates of a prefix replace
 * earlier ones, so pass kernel routes first and static ones last. */
struct xgw_fib *xgw_fib_build(const struct xgw_route *routes, unsigned n_routes,
			      const struct xgw_neigh *neigh, unsigned n_neigh);
void xgw_fib_free(struct xgw_fib *f);

const struct xgw_route *xgw_fib_lookup(const struct xgw_fib *f, const struct xgw_addr *dst);
const struct xgw_neigh *xgw_fib_neigh(const struct xgw_fib *f, int ifindex,
				      const struct xgw_addr *ip);

/* What the forwarding stage reads; replaced whole when the kernel's tables
 * or the static entries change. */
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
uint16_t xgw_route_port(const struct xgw_fwd_state *fs, const struct xgw_route *r);
/* The gateway's address on the port the route to dst leaves by (the SNAT
 * source for a backend), or NULL: no route, or not by an xgw port. */
const struct xgw_addr *xgw_fwd_egress_addr(const struct xgw_fwd_state *fs,
					   const struct xgw_addr *dst);

#endif
