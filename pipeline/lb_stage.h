/* SPDX-License-Identifier: BSD-3-Clause */
/* The service stage, between parse and forward, as in Cilium's
 * pod-to-service path: conntrack lookup; for a new flow to a service,
 * ingress policy, backend pick (Maglev, round robin or random), conntrack
 * entry with optional SNAT port, egress policy; then DNAT or reverse NAT.
 * The packet then goes to the router stage towards its new destination. */
#ifndef XGW_LB_STAGE_H
#define XGW_LB_STAGE_H

#include "common/pkt.h"
#include "lb/conntrack.h"
#include "pipeline/snapshot.h"
#include "pipeline/worker.h"

/* Bulk form, as DPDK's and VPP's lookups are: over a parsed burst, first
 * build every conntrack key and hash it and prefetch its bucket, then
 * prefetch the records those buckets point at, so that the per-packet
 * stage (xgw_lb_stage_flow, in packet order) finds both lines in cache.
 * The prefetch passes only read: lookups, creations and expiry still happen
 * per packet in order. */
struct xgw_lb_flow {
	struct xgw_ct_tuple key;
	uint64_t hash;
	bool valid; /* key and hash set: the packet goes to the conntrack lookup */
};

/* rc[i]: the parse verdict of pkts[i] (packets with one are skipped). */
void xgw_lb_prepare(struct xgw_worker *w, const struct xgw_snapshot *snap,
		    const struct xgw_pkt *pkts, const int *rc, uint32_t n, struct xgw_lb_flow *fl);
/* The stage for one packet, with the key and hash from xgw_lb_prepare (f
 * may be NULL: computed here).  0 to continue to forwarding, or a drop
 * reason. */
int xgw_lb_stage_flow(struct xgw_worker *w, const struct xgw_snapshot *snap,
		      const struct xgw_fwd_state *fs, struct xgw_pkt *p,
		      const struct xgw_lb_flow *f);

#endif
