/* SPDX-License-Identifier: BSD-3-Clause */
/* The service stage, between parse and forward, as in Cilium's
 * pod-to-service path: conntrack lookup; for a new flow to a service,
 * ingress policy, backend pick (Maglev, round robin or random), conntrack
 * entry with optional SNAT port, egress policy; then DNAT or reverse NAT.
 * The packet then goes to the router stage towards its new destination. */
#ifndef XGW_LB_STAGE_H
#define XGW_LB_STAGE_H

#include "common/pkt.h"
#include "pipeline/snapshot.h"
#include "pipeline/worker.h"

/* 0 to continue to forwarding, or a drop reason. */
int xgw_lb_stage(struct xgw_worker *w, const struct xgw_snapshot *snap,
		 const struct xgw_fwd_state *fs, struct xgw_pkt *p);

#endif
