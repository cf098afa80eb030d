/* SPDX-License-Identifier: BSD-3-Clause */
/* The forwarding state the workers use, as JSON for `xgwctl route list` and
 * `neigh list`: the kernel's routes and neighbours learnt over netlink plus
 * the config's static entries, as the FIB holds them.  The caller keeps
 * the FIB from changing meanwhile (xgwd holds its fwd_lock). */
#include <net/if.h>
#include <stdio.h>

#include "pipeline/dataplane.h"

static const char *port_name(const struct xgw_dataplane *dp, uint16_t port)
{
	return port < dp->n_ports ? dp->ports[port].name : "";
}

static void put_dev(json_t *o, const struct xgw_dataplane *dp, const struct xgw_nh *nh)
{
	char dev[IF_NAMESIZE] = "", via[XGW_ADDR_STRLEN];

	if (!if_indextoname((unsigned)nh->oif, dev))
		snprintf(dev, sizeof(dev), "%d", nh->oif);
	json_object_set_new(o, "dev", json_string(dev));
	json_object_set_new(o, "port", json_string(port_name(dp, nh->port)));
	if (nh->via.family)
		json_object_set_new(o, "via",
				    json_string(xgw_addr_str(&nh->via, via, sizeof(via))));
}

/* {dst, via?, dev, port, origin, metric} or, for a multipath route,
 * {dst, origin, metric, nexthops: [{via?, dev, port, weight}]}. */
static json_t *route_json(const struct xgw_dataplane *dp, const struct xgw_fib *f,
			  const struct xgw_prefix *p, bool is_static, uint32_t metric,
			  const struct xgw_nh *nh)
{
	char dst[XGW_ADDR_STRLEN + 4];
	json_t *o =
	    json_pack("{s:s, s:s, s:I}", "dst", xgw_prefix_str(p, dst, sizeof(dst)), "origin",
		      is_static ? "static" : "kernel", "metric", (json_int_t)metric);

	if (!o)
		return NULL;
	if (nh->n_paths <= 1) {
		put_dev(o, dp, nh);
	} else {
		json_t *a = json_array();
		uint32_t below = 0;

		for (uint32_t i = 0; i < nh->grp->n; i++) {
			json_t *h = json_object();
			put_dev(h, dp, &f->nh[nh->grp->path[i].nh]);
			json_object_set_new(h, "weight",
					    json_integer(nh->grp->path[i].upto - below));
			below = nh->grp->path[i].upto;
			json_array_append_new(a, h);
		}
		json_object_set_new(o, "nexthops", a);
	}
	return o;
}

struct walk_arg {
	const struct xgw_dataplane *dp;
	const struct xgw_fib *f;
	json_t *a;
	unsigned limit; /* 0 = all */
};

static int route_cb(void *arg, const struct xgw_prefix *dst, bool is_static, uint32_t metric,
		    const struct xgw_nh *nh)
{
	struct walk_arg *w = arg;

	/* A full table is a million routes: stop at the limit rather than
	 * build them all as JSON. */
	if (w->limit && json_array_size(w->a) >= w->limit)
		return 1;
	return json_array_append_new(w->a, route_json(w->dp, w->f, dst, is_static, metric, nh));
}

json_t *xgw_dp_route_get_json(struct xgw_dataplane *dp, const struct xgw_addr *a)
{
	const struct xgw_fib *f = dp->fib;
	const struct xgw_nh *nh;
	struct xgw_prefix p;
	bool is_static;

	if (!f || !(nh = xgw_fib_get(f, a, &p, &is_static)))
		return json_null();
	return route_json(dp, f, &p, is_static, 0, nh);
}

json_t *xgw_dp_fib_json(struct xgw_dataplane *dp, bool neighbours, unsigned limit)
{
	const struct xgw_fib *f = dp->fib;
	const struct xgw_neigh_table *t;
	json_t *a = json_array();

	if (!f || !a)
		return a;
	if (!neighbours) {
		struct walk_arg w = {dp, f, a, limit};
		xgw_fib_walk(f, route_cb, &w);
		return a;
	}
	t = f->neigh;
	for (uint32_t i = 0; i <= t->mask; i++) {
		const struct xgw_neigh *n = &t->neigh[i];
		char ip[XGW_ADDR_STRLEN], mac[18], dev[IF_NAMESIZE] = "";

		if (!t->used[i])
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
