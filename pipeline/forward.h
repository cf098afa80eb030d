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

/* RFC 1812 5.2.2: a router verifies the IPv4 header checksum.  The worker
 * does it right after parsing, before any stage rewrites the header: a
 * corrupt header then creates no connection, and the check reads the header
 * as received, not through the NAT's fresh 2-byte checksum store (a 4-byte
 * load over a narrower store stalls store forwarding).  Sets
 * XGW_PKT_IP4_CSUM_OK, which xgw_forward trusts; without it xgw_forward
 * verifies itself.  So a header xgw rewrote itself (NAT, ICMP
 * translation, echo reply: all incremental, RFC 1624) is not verified
 * again, and a corrupt header is counted as ipv4_bad_checksum before any
 * service, policy or echo handling sees it.  0 or XGW_DROP_IP4_CSUM;
 * non-IPv4 packets pass. */
int xgw_ip4_verify(struct xgw_pkt *p);

#endif
