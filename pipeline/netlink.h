/* SPDX-License-Identifier: BSD-3-Clause */
/* The kernel's routes, neighbours and interface addresses over rtnetlink
 * (libmnl): dumped whole, re-dumped when the kernel announces a change. */
#ifndef XGW_NETLINK_H
#define XGW_NETLINK_H

#include "common/addr.h"
#include "pipeline/fib.h"

struct xgw_nl_ifaddr {
	int ifindex;
	struct xgw_addr addr;
};

struct xgw_nl_tables {
	struct xgw_route *routes;
	unsigned n_routes, cap_routes;
	struct xgw_neigh *neigh;
	unsigned n_neigh, cap_neigh;
	struct xgw_nl_ifaddr *addrs;
	unsigned n_addrs, cap_addrs;
};

/* Dump the main routing table (unicast routes, IPv4 and IPv6), the
 * neighbour tables (usable entries with a link-layer address) and the
 * interface addresses into t (appended; free with xgw_nl_tables_free). */
int xgw_nl_dump(struct xgw_nl_tables *t);
void xgw_nl_tables_free(struct xgw_nl_tables *t);

/* Ask the kernel to resolve ip on ifindex (ARP/ND), as `ip neigh` with
 * NTF_USE does: the answer then shows up in the next dump. */
int xgw_nl_resolve(int ifindex, const struct xgw_addr *ip);

/* A socket subscribed to route/neighbour/address changes; readable when
 * something changed.  Returns an fd (or -errno); drain with
 * xgw_nl_events_drain, close with xgw_nl_events_close. */
struct mnl_socket;
struct mnl_socket *xgw_nl_events_open(void);
int xgw_nl_events_fd(struct mnl_socket *nl);
/* Reads all pending messages; returns how many were seen. */
int xgw_nl_events_drain(struct mnl_socket *nl);
void xgw_nl_events_close(struct mnl_socket *nl);

#endif
