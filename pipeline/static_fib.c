/* SPDX-License-Identifier: BSD-3-Clause */
/* The config's static routes and neighbours as FIB entries, shared by the
 * daemon (on top of what netlink learnt) and the offline pipeline, with
 * the other pieces of bring-up and teardown both share. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb/conntrack.h"
#include "pipeline/dataplane.h"

int xgw_dp_ct_open(struct xgw_dataplane *dp, const struct xgw_config *cfg, char *err, size_t errlen)
{
	dp->ct = xgw_ct_new(&cfg->conntrack);
	if (!dp->ct) {
		int rc = -errno;
		snprintf(err, errlen, "conntrack: cannot allocate %u entries: %s",
			 cfg->conntrack.max_entries, strerror(-rc));
		return rc;
	}
	return 0;
}

void xgw_fwd_state_free(struct xgw_fwd_state *fs)
{
	free(fs); /* not fs->fib: dp->fib outlives it */
}

unsigned xgw_static_routes(const struct xgw_dataplane *dp, const struct xgw_config *cfg,
			   struct xgw_route *out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < cfg->n_routes; i++)
		for (unsigned p = 0; p < dp->n_ports; p++) {
			if (strcmp(dp->ports[p].name, cfg->routes[i].port))
				continue;
			memset(&out[n], 0, sizeof(out[n]));
			out[n].dst = cfg->routes[i].dst;
			out[n].via = cfg->routes[i].via;
			out[n].oif = dp->ports[p].ifindex;
			out[n].port = (uint16_t)p;
			out[n].is_static = 1;
			n++;
		}
	return n;
}

unsigned xgw_static_neighbours(const struct xgw_dataplane *dp, const struct xgw_config *cfg,
			       struct xgw_neigh *out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < cfg->n_neighbours; i++)
		for (unsigned p = 0; p < dp->n_ports; p++) {
			if (strcmp(dp->ports[p].name, cfg->neighbours[i].port))
				continue;
			memset(&out[n], 0, sizeof(out[n]));
			out[n].ip = cfg->neighbours[i].ip;
			out[n].ifindex = dp->ports[p].ifindex;
			memcpy(out[n].mac, cfg->neighbours[i].mac, 6);
			out[n].is_static = 1;
			n++;
		}
	return n;
}
