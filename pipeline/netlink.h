/* SPDX-License-Identifier: BSD-3-Clause */
/* The kernel's routes, neighbours and interface addresses over rtnetlink
 * (libmnl): routes dumped once and then followed change by change;
 * neighbours and addresses (small) dumped again when they change. */
#ifndef XGW_NETLINK_H
#define XGW_NETLINK_H

#include <stdbool.h>

#include "common/addr.h"
#include "pipeline/fib.h"

struct xgw_nl_ifaddr {
	int ifindex;
	struct xgw_addr addr;
};

struct xgw_nl_tables {
	struct xgw_neigh *neigh;
	unsigned n_neigh, cap_neigh;
	struct xgw_nl_ifaddr *addrs;
	unsigned n_addrs, cap_addrs;
};

/* Dump the neighbour tables (usable entries with a link-layer address) and
 * the interface addresses into t (appended; free with
 * xgw_nl_tables_free). */
int xgw_nl_dump(struct xgw_nl_tables *t);
void xgw_nl_tables_free(struct xgw_nl_tables *t);

/* Ask the kernel to resolve ip on ifindex (ARP/ND), as `ip neigh` with
 * NTF_USE does: the answer then shows up in the next dump. */
int xgw_nl_resolve(int ifindex, const struct xgw_addr *ip);

/* A route of the main table, added (or replaced) or deleted. */
typedef void (*xgw_nl_route_fn)(void *ctx, bool add, const struct xgw_route *r);

/* A route message as the FIB takes it (paths: room for
 * XGW_FIB_MAX_PATHS, used by a multipath route).  1 for a unicast route of
 * the main table with a next hop, 0 for what the FIB does not follow
 * (other tables and types, routes using nexthop objects). */
struct nlmsghdr;
int xgw_nl_route_parse(const struct nlmsghdr *nlh, struct xgw_route *r, struct xgw_path *paths);
/* Every route of the main table, IPv4 and IPv6, streamed to fn. */
int xgw_nl_dump_routes(xgw_nl_route_fn fn, void *ctx);

/* A socket subscribed to route/neighbour/address changes; readable when
 * something changed.  NULL on failure; drain with xgw_nl_events_drain,
 * close with xgw_nl_events_close. */
struct mnl_socket;
struct mnl_socket *xgw_nl_events_open(void);
int xgw_nl_events_fd(struct mnl_socket *nl);
/* Read up to about max pending messages: route changes go to fn one by
 * one, anything else sets *other.  Returns messages seen, or -ENOBUFS
 * when the kernel dropped some (the caller resynchronises in full). */
int xgw_nl_events_drain(struct mnl_socket *nl, unsigned max, xgw_nl_route_fn fn, void *ctx,
			bool *other);
void xgw_nl_events_close(struct mnl_socket *nl);

#endif
