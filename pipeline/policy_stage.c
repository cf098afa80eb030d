/* SPDX-License-Identifier: BSD-3-Clause */
#include "pipeline/policy_stage.h"

#include <string.h>

#include "common/hdr.h"

void xgw_pkt_addrs(const struct xgw_pkt *p, struct xgw_addr *src, struct xgw_addr *dst)
{
	const uint8_t *l3 = p->data + p->l3_off;

	if (p->flags & XGW_PKT_IPV4) {
		uint32_t s, d;
		memcpy(&s, l3 + XGW_IP4_SRC, 4);
		memcpy(&d, l3 + XGW_IP4_DST, 4);
		xgw_addr_v4(src, s);
		xgw_addr_v4(dst, d);
	} else {
		xgw_addr_v6(src, l3 + XGW_IP6_SRC);
		xgw_addr_v6(dst, l3 + XGW_IP6_DST);
	}
}

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
