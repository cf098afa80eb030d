/* SPDX-License-Identifier: BSD-3-Clause */
/* The policy stage: the gateway's ACL (lb/policy.h) applied to the packets
 * entering the workers.  New service flows are checked by the LB stage when
 * it creates their connection (ingress, and egress on the translated
 * packet); replies and later packets of tracked connections are not checked
 * again.  Every other steered packet (plain routing) is checked here, one
 * packet at a time: there is no connection to remember a verdict in. */
#ifndef XGW_POLICY_STAGE_H
#define XGW_POLICY_STAGE_H

#include <arpa/inet.h>
#include <stdbool.h>

#include "common/drop.h"
#include "common/pkt.h"
#include "lb/policy.h"
#include "pipeline/snapshot.h"

/* dport in network order, 0 for packets without ports.  Snapshots have a
 * hit-counter row per worker (built with n_workers). */
static inline bool xgw_policy_allows(const struct xgw_snapshot *snap, int worker,
				     const struct xgw_addr *src, const struct xgw_addr *dst,
				     uint8_t proto, uint16_t dport_be)
{
	struct xgw_policy_key k;

	if (!snap->policy)
		return snap->policy_default_allow;
	k.src = *src;
	k.dst = *dst;
	k.proto = proto;
	k.dport = ntohs(dport_be);
	return xgw_policy_classify(snap->policy, &k, snap->hits[worker]);
}

/* A parsed packet's addresses, read from its IP header. */
void xgw_pkt_addrs(const struct xgw_pkt *p, struct xgw_addr *src, struct xgw_addr *dst);

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
