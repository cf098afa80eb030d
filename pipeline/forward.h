/* SPDX-License-Identifier: BSD-3-Clause */
/* The router stage: checksum and TTL/hop-limit checks, route and
 * neighbour lookup, MAC rewrite; ICMP time exceeded when TTL runs out. */
#ifndef XGW_FORWARD_H
#define XGW_FORWARD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/pkt.h"
#include "lb/conntrack.h"
#include "pipeline/fib.h"

struct xgw_worker;

/* Neighbour resolution requests from a worker to the control side:
 * single producer (the worker), single consumer. */
#define XGW_RESOLVE_RING 64
struct xgw_resolve_req {
	int ifindex;
	struct xgw_addr ip;
};

/* Route + neighbour results by destination: a FIB is never modified once
 * built, so (its process-unique generation, destination) -> (egress port,
 * next-hop MAC) holds while the key can match, and an established flow
 * skips both hash lookups.  Direct-mapped; only successes are cached. */
#define XGW_ROUTE_CACHE_BITS 7
struct xgw_route_cache_ent {
	uint64_t gen; /* 0: empty (no FIB has generation 0) */
	struct xgw_addr dst;
	uint16_t out;
	uint8_t mac[12]; /* the next hop's, then the egress port's: the new Ethernet addresses */
	/* The egress port's MTU when the entry was filled, capped at 65535
	 * (the largest IP length), for the inline path (forward_fast.h): a
	 * port's MTU change bumps the FIB generation (xgw_fib_bump,
	 * port_watch.c), which empties every cache. */
	uint16_t mtu;
};

/* The stage's per-worker state (zeroed with the worker). */
struct xgw_fwd_worker {
	uint64_t icmp_tokens_ts; /* ICMP error rate limit, per second */
	uint32_t icmp_tokens;
	struct xgw_addr last_resolve;
	uint64_t last_resolve_ns;
	_Atomic uint32_t rq_head, rq_tail;
	struct xgw_resolve_req rq[XGW_RESOLVE_RING];
	struct xgw_route_cache_ent route_cache[1u << XGW_ROUTE_CACHE_BITS];
};

/* The route cache and route + neighbour lookup of xgw_forward, for stages
 * that build their own headers (tunnel encap): 0 with the egress port and
 * next-hop MAC (valid for the burst), or a drop reason. */
int xgw_route_lookup(struct xgw_worker *w, const struct xgw_fwd_state *fs,
		     const struct xgw_addr *dst, uint16_t *out, const uint8_t **mac);
/* arrived, in what follows: the TCP/UDP tuple p came in with (the LB
 * stage's key, struct xgw_lb_flow) when a stage may have translated p
 * since, or NULL when p's header is as it arrived.  An ICMP error about p
 * quotes p as its sender sent it: a client matches the error to its
 * socket by the VIP it sent to, not by the backend's address, and a
 * backend's reply goes back to the backend, not to the VIP. */

/* p does not fit an egress MTU of mtu: ICMP fragmentation needed (DF set)
 * or packet too big back to its sender, else XGW_DROP_MTU. */
int xgw_too_big(struct xgw_worker *w, const struct xgw_fwd_state *fs, struct xgw_pkt *p,
		uint32_t mtu, const struct xgw_ct_tuple *arrived);

/* Returns 0 with p->out_port set (frame ready to transmit), or a drop. */
int xgw_forward(struct xgw_worker *w, const struct xgw_fwd_state *fs, struct xgw_pkt *p,
		const struct xgw_ct_tuple *arrived);

/* Pop one resolution request (control side). */
bool xgw_fwd_pop_resolve(struct xgw_fwd_worker *f, struct xgw_resolve_req *out);

#endif
