/* SPDX-License-Identifier: BSD-3-Clause */
/* The router stage's fast path, inline in the worker's per-packet loop
 * (as DPDK's l3fwd inlines its LPM step): the usual IPv4 packet pays no
 * call, no prologue and no test of the forwarding state, which the worker
 * checks once per burst.  Anything else goes to xgw_forward_slow
 * (forward.c), which decides again from the start. */
#ifndef XGW_FORWARD_FAST_H
#define XGW_FORWARD_FAST_H

#include <string.h>

#include "common/hdr.h"
#include "pipeline/forward.h"
#include "pipeline/lb_stage.h"
#include "pipeline/worker.h"

/* The TTL - 1 of a header that stays: the first byte of a 16-bit word going
 * down by 0x0100, so the checksum goes up by as much, end-around carry
 * (RFC 1624, as Linux's ip_decrease_ttl). */
static inline void xgw_ttl_dec4(iphdr_u *ip)
{
	uint32_t c = (uint32_t)ip->check + htons(0x0100);

	ip->ttl--;
	/* c + (c >= 0xffff), as Linux; c stays below 0x1fffe, so
	 * (c + 1) >> 16 is that test, with no compare and set */
	ip->check = (uint16_t)(c + ((c + 1) >> 16));
}

/* xgw_forward's general way: every check again, then the route and
 * neighbour lookups (the route cache first), ICMP errors, IPv6. */
int xgw_forward_slow(struct xgw_worker *w, const struct xgw_fwd_state *fs, struct xgw_pkt *p,
		     const struct xgw_ct_tuple *arrived);

/* xgw_forward for a burst whose forwarding state has a FIB of generation
 * gen (fs and fs->fib non-NULL): the IPv4 packet verified on arrival, TTL >
 * 1, untagged, a route cache hit that fits the egress MTU, in
 * straight-line code; anything else through xgw_forward_slow.  f: the
 * packet's entry of the LB stage's burst array, whose key (when valid) is
 * the tuple p arrived with (forward.h); read on the slow path only, so that
 * the hit pays nothing for it. */
static inline int xgw_forward_fast(struct xgw_worker *w, const struct xgw_fwd_state *fs,
				   uint64_t gen, struct xgw_pkt *p, const struct xgw_lb_flow *f)
{
	iphdr_u *ip = (iphdr_u *)(p->data + p->l3_off);
	uint32_t d = ip->daddr;
	uint32_t h = d * 0x9e3779b1u;
	const struct xgw_route_cache_ent *e = &w->fwd.route_cache[h >> (32 - XGW_ROUTE_CACHE_BITS)];

	if (__builtin_expect((p->flags & (XGW_PKT_IPV4 | XGW_PKT_IP4_CSUM_OK)) !=
				     (XGW_PKT_IPV4 | XGW_PKT_IP4_CSUM_OK) ||
				 ip->ttl <= 1 || p->n_vlans || e->gen != gen ||
				 e->dst.family != AF_INET || e->dst.w[0] != d ||
				 /* the entry's copy: an MTU change is a new
				  * generation (forward.h) */
				 p->l3_len > e->mtu,
			     0))
		return xgw_forward_slow(w, fs, p, xgw_lb_flow_valid(f) ? &f->key : NULL);
	/* Everything read before the first store into the frame, which
	 * may alias the descriptor and the entry for the compiler. */
	uint32_t len = (uint32_t)p->l3_off + p->l3_len;
	uint16_t out = e->out;
	memcpy(p->data, e->mac, 12);
	p->len = len;
	p->out_port = out;
	xgw_ttl_dec4(ip);
	return 0;
}

#endif
