/* SPDX-License-Identifier: BSD-3-Clause */
/* Link, MTU and XDP-program faults of the data plane's ports, watched and
 * recovered from the control thread (port_watch.c says what is done). */
#ifndef XGW_PORT_WATCH_H
#define XGW_PORT_WATCH_H

#include <jansson.h>
#include <stdbool.h>

#include "pipeline/worker.h"

/* After xgw_dp_open: the ports' health as bring-up left them. */
void xgw_port_watch_init(struct xgw_dataplane *dp);
/* Look at every port once (on a netlink link event, and periodically:
 * removing an XDP program sends no event); log and count what changed,
 * re-attach a removed steering program.  True if anything changed. */
bool xgw_port_watch(struct xgw_dataplane *dp);
/* {"link": "up"|"down"|"gone", "link_up", "mtu", "xdp": "attached"|"missing"|
 * "foreign", "xdp_attached", "link_changes", "mtu_changes", "xdp_lost",
 * "xdp_reattached"} */
json_t *xgw_port_health_json(const struct xgw_port *p);

#endif
