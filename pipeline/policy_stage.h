/* SPDX-License-Identifier: BSD-3-Clause */
/* The policy stage: the gateway's ACL (lb/policy.h) applied to the packets
 * entering the workers.  New service flows are checked by the LB stage when
 * it creates their connection (ingress, and egress on the translated
 * packet); replies and later packets of tracked connections are not checked
 * again.  Every other steered packet (plain routing) is checked here, one
 * packet at a time: there is no connection to remember a verdict in. */
#ifndef XGW_POLICY_STAGE_H
#define XGW_POLICY_STAGE_H

#include <stdbool.h>

#include "common/drop.h"
#include "common/pkt.h"
#include "pipeline/snapshot.h"

/* Whether the snapshot's policy can deny anything (read once per burst):
 * with no rules and a default of allow, the stage is skipped. */
static inline bool xgw_policy_active(const struct xgw_snapshot *snap)
{
	return snap && (snap->policy || !snap->policy_default_allow);
}

/* For a packet the LB stage left to plain routing (XGW_LB_ROUTE) when
 * xgw_policy_active(snap): 0 to forward or XGW_DROP_POLICY. */
int xgw_policy_stage(const struct xgw_snapshot *snap, int worker, const struct xgw_pkt *p);

#endif
