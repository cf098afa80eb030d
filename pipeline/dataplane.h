/* SPDX-License-Identifier: BSD-3-Clause */
/* Bring-up and tear-down of the data plane from a config: ports, steering
 * programs, workers with their UMEMs and sockets; the forwarding state
 * (FIB) rebuilt from netlink and published by RCU; stats for the CLI. */
#ifndef XGW_DATAPLANE_H
#define XGW_DATAPLANE_H

#include <jansson.h>
#include <stdio.h>

#include "common/config.h"
#include "pipeline/worker.h"

/* Open everything the config names; on failure everything opened so far
 * is closed again and err names the interface/queue and the reason. */
int xgw_dp_open(struct xgw_dataplane *dp, const struct xgw_config *cfg, char *err, size_t errlen);
int xgw_dp_start(struct xgw_dataplane *dp);
/* Stop workers, close sockets, detach programs, free memory. */
void xgw_dp_close(struct xgw_dataplane *dp);

/* Steering rules = the config's steer entries, every user-datapath
 * service VIP (its port, and ICMP for echo) and, by source, its backends
 * (their port, and ICMP for errors), so that replies reach the workers. */
int xgw_dp_apply_steer(struct xgw_dataplane *dp, const struct xgw_config *cfg,
		       const struct xgw_config *prev);
/* Build the service snapshot for cfg and publish it; the old one is freed
 * after a grace period.  Nothing changes on failure (err filled).  For
 * both: prev (or NULL) is the config last applied, alive and unchanged
 * (xgwd's `applied`): services that share their backends array with it
 * cost no comparison (snapshot.h, steer_rules.h). */
int xgw_dp_apply_snapshot(struct xgw_dataplane *dp, const struct xgw_config *cfg,
			  const struct xgw_config *prev, char *err, size_t errlen);
/* Conntrack housekeeping from the control thread: expire a slice. */
void xgw_dp_ct_gc(struct xgw_dataplane *dp);
json_t *xgw_dp_ct_json(struct xgw_dataplane *dp, unsigned limit);
int xgw_dp_ct_flush(struct xgw_dataplane *dp);
/* Remove one (service, backend)'s connections from both datapaths'
 * conntrack (on_down "reset"): the next packet of each is picked up
 * mid-stream by the service's table as it is now.  Call after the
 * snapshot without the backend is applied.  Returns how many. */
int xgw_dp_ct_flush_backend(struct xgw_dataplane *dp, const struct xgw_ct_backend_sel *s);
/* Forwarding state (fib_learn.c), all under the caller's lock (xgwd's
 * fwd_lock).  Routes: dp->fib is created on first use with a full dump of
 * the kernel's main table, then changed route by route. */
/* The config's static routes: those that changed (O(static routes)). */
int xgw_dp_fib_static(struct xgw_dataplane *dp, const struct xgw_config *cfg);
/* Apply pending kernel route changes (up to about max messages); sets
 * *other when neighbours, addresses or links changed.  A lost message
 * (socket overflow) triggers xgw_dp_fib_resync.  Returns the messages
 * read. */
struct mnl_socket;
int xgw_dp_fib_events(struct xgw_dataplane *dp, struct mnl_socket *nl, unsigned max, bool *other);
/* Dump the kernel's routes again and apply only the differences. */
int xgw_dp_fib_resync(struct xgw_dataplane *dp);
/* Re-read neighbours and interface addresses (with the config's static
 * neighbours) and publish a new forwarding state around dp->fib. */
int xgw_dp_refresh_fwd(struct xgw_dataplane *dp, const struct xgw_config *cfg);
/* Wait until no worker can hold a pointer replaced before the call. */
void xgw_dp_wait_grace_period(void);
/* Hand queued neighbour-resolution requests from workers to the kernel;
 * returns how many were sent. */
int xgw_dp_service_resolves(struct xgw_dataplane *dp);

json_t *xgw_dp_stats_json(struct xgw_dataplane *dp);
json_t *xgw_dp_ports_json(struct xgw_dataplane *dp);
/* The FIB in use: its routes, or its neighbours (fib_view.c).  The caller
 * keeps dp->fwd from being replaced while this runs. */
json_t *xgw_dp_fib_json(struct xgw_dataplane *dp, bool neighbours, unsigned limit);
/* The route for a: {dst, via?, dev, port, origin} or, multipath,
 * {dst, origin, nexthops: [...]}; JSON null if none (fib_view.c). */
json_t *xgw_dp_route_get_json(struct xgw_dataplane *dp, const struct xgw_addr *a);
void xgw_dp_print_stats(struct xgw_dataplane *dp, FILE *f);

/* The config's static routes / neighbours as FIB entries (a route or
 * neighbour whose port names no port is skipped).  out must hold
 * cfg->n_routes (cfg->n_neighbours) entries.  Return how many. */
unsigned xgw_static_routes(const struct xgw_dataplane *dp, const struct xgw_config *cfg,
			   struct xgw_route *out);
unsigned xgw_static_neighbours(const struct xgw_dataplane *dp, const struct xgw_config *cfg,
			       struct xgw_neigh *out);

/* Shared by the daemon's and the offline data plane's bring-up and
 * teardown: the conntrack table from cfg (0, or -errno with err filled),
 * and a forwarding state with its FIB (NULL: nothing). */
int xgw_dp_ct_open(struct xgw_dataplane *dp, const struct xgw_config *cfg, char *err,
		   size_t errlen);
void xgw_fwd_state_free(struct xgw_fwd_state *fs);

#endif
