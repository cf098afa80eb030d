/* SPDX-License-Identifier: BSD-3-Clause */
/* The tunnel stages of the worker's burst, linked into the pipeline:
 * decap right after parse (the inner packet is parsed in its place and
 * goes on through conntrack and reverse NAT), encap in place of the router
 * stage for packets to a tunnel backend (after DNAT). */
#ifndef XGW_TUNNEL_STAGE_H
#define XGW_TUNNEL_STAGE_H

#include "common/pkt.h"
#include "pipeline/lb_stage.h"
#include "pipeline/worker.h"
#include "tunnel/tunnel.h"

/* p parsed and verified: when it is a tunnel packet to tunnel.local_ip,
 * decapsulate and parse the inner packet.  0 (p is the inner packet, or
 * was no tunnel packet) or a drop reason. */
int xgw_tun_decap_stage(struct xgw_worker *w, const struct xgw_tun_table *t, struct xgw_pkt *p);

/* In place of xgw_forward: a packet to a tunnel backend is encapsulated
 * and routed to the endpoint, any other is forwarded.  f: the packet's
 * entry of the LB stage (its pre-NAT key and flow hash when xgw_lb_flow_valid(f)). */
int xgw_tun_encap_stage(struct xgw_worker *w, const struct xgw_tun_table *t,
			const struct xgw_fwd_state *fs, struct xgw_pkt *p,
			const struct xgw_lb_flow *f);

#endif
