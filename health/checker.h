/* SPDX-License-Identifier: BSD-3-Clause */
/* Active health checks of service backends (a service's "check" object):
 * TCP connect, HTTP GET with an expected status, UDP with an expected
 * reply.  One thread of its own, never a worker: non-blocking sockets in
 * one epoll set, a timerfd armed for the next due check or timeout.
 *
 * Checks leave from the gateway's own stack (its address towards the
 * backend, as the kernel routes it; for a backend behind a tunnel,
 * tunnel.local_ip through the tunnel: tun_path.h) and from a source port in
 * XGW_CHECK_PORT_MIN..MAX, which the steering program hands to the
 * kernel: without that, the backend's answers, coming from a backend's
 * address and port, would be steered to the workers as service replies.
 *
 * The checker only keeps state; what a change means (the backend leaves
 * or rejoins the Maglev table, the VIP is withdrawn or announced) is the
 * daemon's business: `changed` is called from the checker thread after a
 * backend went up or down, and the daemon re-applies its config with
 * xgw_checker_adjust(), then ends the connections of backends that went
 * down under on_down "reset" with xgw_checker_resets(). */
#ifndef XGW_HEALTH_CHECKER_H
#define XGW_HEALTH_CHECKER_H

#include <jansson.h>
#include <stdbool.h>

#include "common/config.h"
#include "health/state.h"
#include "lb/conntrack.h"

struct xgw_checker;

typedef void (*xgw_checker_changed_fn)(void *ctx);

int xgw_checker_start(struct xgw_checker **out, xgw_checker_changed_fn changed, void *ctx);
/* Stop and join the thread, close every socket, free.  NULL: no-op. */
void xgw_checker_stop(struct xgw_checker *ck);

/* Check exactly the backends of cfg's services that have a check: a
 * backend kept from the previous set keeps its state; a new one starts up
 * and is checked at once.  0 or -ENOMEM (the old set stays). */
int xgw_checker_sync(struct xgw_checker *ck, const struct xgw_config *cfg);
/* Whether the last sync that succeeded was of cfg (its services array, by
 * address: the same write) and it checks no backend: then
 * xgw_checker_adjust has nothing to do, and xgwd needs no pass over the
 * services to find that out. */
bool xgw_checker_none_for(const struct xgw_checker *ck, const struct xgw_config *cfg);

/* cfg as the data plane should serve it: every checked backend that is
 * down gets weight 0 (no new connections; its established ones stay, the
 * "keep" rule), and each Maglev service's table size is pinned to what its
 * configured weights give, so that a backend going down moves only its
 * own slots.  Returns how many backends were taken out.  NULL ck: none. */
unsigned xgw_checker_adjust(struct xgw_checker *ck, struct xgw_config *cfg,
			    uint32_t (*maglev_size)(const struct xgw_service_cfg *s, uint32_t cap));

/* Every backend that went down under on_down "reset" since the last call:
 * fn removes its connections (xgw_dp_ct_flush_backend) and returns how
 * many, counted in its "resets".  Called on the thread that applies the
 * config, after the config without those backends is applied, so that no
 * new connection can reach them; fn runs without the checker's lock.
 * Returns the connections removed. */
typedef unsigned (*xgw_checker_reset_fn)(void *ctx, const struct xgw_ct_backend_sel *s);
unsigned xgw_checker_resets(struct xgw_checker *ck, xgw_checker_reset_fn fn, void *ctx);

/* One backend's health (xgw_hc_json), or NULL if it is not checked. */
json_t *xgw_checker_backend_json(struct xgw_checker *ck, const struct xgw_service_cfg *s,
				 const struct xgw_backend_cfg *b);
/* Every checked backend, for the stats and metrics:
 * [{"service", "backend", "up", "checks", "failures", "transitions",
 *   "resets", "last_ok", "last_ms"}] */
json_t *xgw_checker_stats_json(struct xgw_checker *ck);
/* The way of checks through tunnels (xgw_hct_json), or NULL while no
 * checked backend is behind a tunnel. */
json_t *xgw_checker_tunnel_json(struct xgw_checker *ck);

#endif
