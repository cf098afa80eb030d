/* SPDX-License-Identifier: BSD-3-Clause */
#include "pipeline/policy_stage.h"

#include "common/hdr.h"

int xgw_policy_stage(const struct xgw_snapshot *snap, int worker, const struct xgw_pkt *p)
{
	struct xgw_addr src, dst;
	bool ports =
	    (p->flags & XGW_PKT_L4) && (p->l4_proto == IPPROTO_TCP || p->l4_proto == IPPROTO_UDP);

	xgw_pkt_addrs(p, &src, &dst);
	return xgw_policy_allows(snap, worker, &src, &dst, p->l4_proto, ports ? p->dport : 0)
		   ? 0
		   : XGW_DROP_POLICY;
}
