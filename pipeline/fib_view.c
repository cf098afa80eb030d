/* SPDX-License-Identifier: BSD-3-Clause */
/* The forwarding state the workers use, as JSON for `xgwctl route list` and
 * `neigh list`: the kernel's routes and neighbours learnt over netlink plus
 * the config's static entries, as the FIB holds them.  The caller keeps
 * dp->fwd from being replaced meanwhile (xgwd holds its fwd_lock). */
#include <net/if.h>
#include <stdio.h>

#include "pipeline/dataplane.h"

static const char *port_name(const struct xgw_dataplane *dp, uint16_t port)
{
	return port < dp->n_ports ? dp->ports[port].name : "";
}

static json_t *route_json(const struct xgw_dataplane *dp, const struct xgw_route *r)
{
	char dst[XGW_ADDR_STRLEN + 4], via[XGW_ADDR_STRLEN], dev[IF_NAMESIZE] = "";
	json_t *o;

	xgw_prefix_str(&r->dst, dst, sizeof(dst));
	if (!if_indextoname((unsigned)r->oif, dev))
		snprintf(dev, sizeof(dev), "%d", r->oif);
	o = json_pack("{s:s, s:s, s:s, s:s}", "dst", dst, "dev", dev, "port",
		      port_name(dp, r->port), "origin", r->is_static ? "static" : "kernel");
	if (o && r->via.family)
		json_object_set_new(o, "via", json_string(xgw_addr_str(&r->via, via, sizeof(via))));
	return o;
}

json_t *xgw_dp_fib_json(struct xgw_dataplane *dp, bool neighbours)
{
	const struct xgw_fwd_state *fs = __atomic_load_n(&dp->fwd, __ATOMIC_ACQUIRE);
	const struct xgw_fib *f = fs ? fs->fib : NULL;
	json_t *a = json_array();

	if (!f || !a)
		return a;
	if (!neighbours) {
		for (unsigned i = 0; i < f->n_routes; i++)
			json_array_append_new(a, route_json(dp, &f->routes[i]));
		return a;
	}
	for (uint32_t i = 0; i <= f->neigh_mask; i++) {
		const struct xgw_neigh *n = &f->neigh[i];
		char ip[XGW_ADDR_STRLEN], mac[18], dev[IF_NAMESIZE] = "";

		if (!f->neigh_used[i])
			continue;
		if (!if_indextoname((unsigned)n->ifindex, dev))
			snprintf(dev, sizeof(dev), "%d", n->ifindex);
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1],
			 n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "ip",
						   xgw_addr_str(&n->ip, ip, sizeof(ip)), "mac", mac,
						   "dev", dev, "origin",
						   n->is_static ? "static" : "kernel"));
	}
	return a;
}
