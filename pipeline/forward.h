/* SPDX-License-Identifier: BSD-3-Clause */
/* The router stage: checksum and TTL/hop-limit checks, route and
 * neighbour lookup, MAC rewrite; ICMP time exceeded when TTL runs out. */
#ifndef XGW_FORWARD_H
#define XGW_FORWARD_H

#include "common/pkt.h"
#include "pipeline/worker.h"

/* The xgw port a route leaves by, or XGW_PORT_NONE. */
uint16_t xgw_route_port(const struct xgw_fwd_state *fs, const struct xgw_route *r);

/* Returns 0 with p->out_port set (frame ready to transmit), or a drop. */
int xgw_forward(struct xgw_worker *w, const struct xgw_fwd_state *fs, struct xgw_pkt *p);

#endif
