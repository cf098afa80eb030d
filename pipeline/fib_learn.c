/* SPDX-License-Identifier: BSD-3-Clause */
/* The daemon's FIB kept in step with the kernel: one dump of the main
 * routing table when the FIB is created, then each RTM_NEWROUTE /
 * RTM_DELROUTE applied as it comes (a full dump again only when the event
 * socket overflowed); the config's static routes on top.  Neighbours and
 * interface addresses are small: re-read and republished whole. */
#define XGW_LOG_COMP "fib"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "pipeline/dataplane.h"
#include "pipeline/netlink.h"

static uint16_t port_of(const struct xgw_dataplane *dp, int ifindex)
{
	for (unsigned p = 0; p < dp->n_ports; p++)
		if (dp->ports[p].ifindex == ifindex)
			return (uint16_t)p;
	return XGW_PORT_NONE;
}

struct learn {
	struct xgw_dataplane *dp;
	unsigned applied, failed;
};

static void learn_route(void *ctx, bool add, const struct xgw_route *in)
{
	struct learn *l = ctx;
	struct xgw_path paths[XGW_FIB_MAX_PATHS];
	struct xgw_route r = *in;
	int rc;

	r.port = port_of(l->dp, r.oif);
	if (r.n_paths > 1) {
		memcpy(paths, in->paths, r.n_paths * sizeof(*paths));
		for (unsigned i = 0; i < r.n_paths; i++)
			paths[i].port = port_of(l->dp, paths[i].oif);
		r.paths = paths;
	}
	rc = add ? xgw_fib_set(l->dp->fib, &r) : xgw_fib_del(l->dp->fib, &r);
	if (rc && rc != -ENOENT) {
		char p[XGW_ADDR_STRLEN + 4];
		if (!l->failed++)
			pr_warn("route %s not %s: %s", xgw_prefix_str(&r.dst, p, sizeof(p)),
				add ? "installed" : "removed", strerror(-rc));
	} else {
		l->applied++;
	}
}

int xgw_dp_fib_resync(struct xgw_dataplane *dp)
{
	struct learn l = {.dp = dp};
	unsigned gone;
	int rc;

	xgw_fib_mark(dp->fib, false);
	rc = xgw_nl_dump_routes(learn_route, &l);
	if (rc) {
		/* Keep what we have rather than sweep a partial dump. */
		xgw_fib_commit(dp->fib, xgw_dp_wait_grace_period);
		return rc;
	}
	gone = xgw_fib_sweep(dp->fib, false);
	xgw_fib_commit(dp->fib, xgw_dp_wait_grace_period);
	pr_info("routes: %u read from the kernel, %u gone since the last read%s", l.applied, gone,
		l.failed ? " (some refused: see above)" : "");
	return 0;
}

static int fib_open(struct xgw_dataplane *dp)
{
	if (dp->fib)
		return 0;
	dp->fib = xgw_fib_new();
	if (!dp->fib)
		return -ENOMEM;
	return xgw_dp_fib_resync(dp);
}

int xgw_dp_fib_events(struct xgw_dataplane *dp, struct mnl_socket *nl, unsigned max, bool *other)
{
	struct learn l = {.dp = dp};
	int n;

	if (!dp->fib) { /* not up yet: the first dump will see it all */
		*other = true;
		return xgw_nl_events_drain(nl, max, NULL, NULL, other);
	}
	n = xgw_nl_events_drain(nl, max, learn_route, &l, other);
	if (n == -ENOBUFS) {
		pr_warn("netlink events lost: reading the routing table again");
		*other = true;
		return xgw_dp_fib_resync(dp);
	}
	if (l.applied || l.failed)
		xgw_fib_commit(dp->fib, xgw_dp_wait_grace_period);
	return n;
}

int xgw_dp_fib_static(struct xgw_dataplane *dp, const struct xgw_config *cfg)
{
	struct xgw_route *routes = calloc(cfg->n_routes + 1, sizeof(*routes));
	unsigned n;
	int rc;

	if (!routes)
		return -ENOMEM;
	rc = fib_open(dp);
	if (rc)
		goto out;
	n = xgw_static_routes(dp, cfg, routes);
	/* New ones first (a changed route is replaced, never absent), then
	 * those no longer configured. */
	for (unsigned i = 0; i < n && !rc; i++)
		rc = xgw_fib_set(dp->fib, &routes[i]);
	for (unsigned i = 0; i < dp->n_static; i++) {
		bool kept = false;
		for (unsigned k = 0; k < n && !kept; k++)
			kept = routes[k].dst.len == dp->statics[i].dst.len &&
			       xgw_addr_eq(&routes[k].dst.addr, &dp->statics[i].dst.addr);
		if (!kept)
			xgw_fib_del(dp->fib, &dp->statics[i]);
	}
	free(dp->statics);
	dp->statics = routes;
	dp->n_static = n;
	routes = NULL;
	xgw_fib_commit(dp->fib, xgw_dp_wait_grace_period);
out:
	free(routes);
	return rc;
}

static void free_fwd_rcu(struct xgw_fwd_state *old)
{
	if (!old)
		return;
	xgw_dp_wait_grace_period();
	xgw_fwd_state_free(old);
}

int xgw_dp_refresh_fwd(struct xgw_dataplane *dp, const struct xgw_config *cfg)
{
	struct xgw_nl_tables t = {0};
	struct xgw_fwd_state *fs, *old;
	struct xgw_neigh *neigh = NULL;
	unsigned nn = 0;
	int rc;

	rc = fib_open(dp);
	if (rc)
		return rc;
	rc = xgw_nl_dump(&t);
	if (rc)
		goto out;
	fs = calloc(1, sizeof(*fs));
	neigh = calloc(t.n_neigh + cfg->n_neighbours + 1, sizeof(*neigh));
	if (!fs || !neigh) {
		free(fs);
		rc = -ENOMEM;
		goto out;
	}
	for (unsigned p = 0; p < dp->n_ports; p++) {
		fs->ifmap[p].ifindex = dp->ports[p].ifindex;
		fs->ifmap[p].port = (uint16_t)p;
	}
	fs->port_of_ifindex_n = (uint16_t)dp->n_ports;
	/* Static neighbours first: the table keeps a static entry over a
	 * learnt one. */
	nn += xgw_static_neighbours(dp, cfg, neigh + nn);
	for (unsigned i = 0; i < t.n_neigh; i++)
		neigh[nn++] = t.neigh[i];
	for (unsigned i = 0; i < t.n_addrs; i++)
		for (unsigned p = 0; p < dp->n_ports; p++) {
			if (t.addrs[i].ifindex != dp->ports[p].ifindex)
				continue;
			struct xgw_addr *slot = t.addrs[i].addr.family == AF_INET
						    ? &fs->port_addr4[p]
						    : &fs->port_addr6[p];
			if (!slot->family)
				*slot = t.addrs[i].addr;
		}
	fs->fib = dp->fib;
	rc = xgw_fib_set_neigh(dp->fib, neigh, nn, xgw_dp_wait_grace_period);
	if (rc) {
		free(fs);
		goto out;
	}
	old = __atomic_exchange_n(&dp->fwd, fs, __ATOMIC_ACQ_REL); /* as dp->snap */
	free_fwd_rcu(old);
out:
	free(neigh);
	xgw_nl_tables_free(&t);
	return rc;
}
