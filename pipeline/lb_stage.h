/* SPDX-License-Identifier: BSD-3-Clause */
/* The service stage, between parse and forward, as in Cilium's
 * pod-to-service path: conntrack lookup; for a new flow to a service,
 * ingress policy, backend pick (Maglev, round robin or random), conntrack
 * entry with optional SNAT port, egress policy; then DNAT or reverse NAT.
 * The packet then goes to the router stage towards its new destination;
 * packets of no service go to the policy stage first (policy_stage.h). */
#ifndef XGW_LB_STAGE_H
#define XGW_LB_STAGE_H

#include <netinet/in.h>
#include <string.h>

#include "common/drop.h"
#include "common/pkt.h"
#include "lb/conntrack.h"
#include "pipeline/snapshot.h"
#include "pipeline/fib.h"

struct xgw_worker;

/* Round-robin positions per worker, by service id (hashed into slots). */
#define XGW_RR_SLOTS 256

/* The ports' IPv4 addresses of a forwarding state (xgw_route_own4), for
 * the source checks, with a bloom word that most sources miss. */
struct xgw_route_own4 {
	uint64_t bloom; /* one bit per address (own4_bit): most sources miss it */
	unsigned n;
	uint32_t a[XGW_MAX_PORTS];
};

static inline uint64_t xgw_own4_bit(uint32_t a)
{
	return 1ull << ((a * 0x9e3779b1u) >> 26);
}

static inline void xgw_route_own4(struct xgw_route_own4 *o, const struct xgw_fwd_state *fs,
				  unsigned n_ports)
{
	o->n = 0;
	o->bloom = 0;
	for (unsigned i = 0; fs && i < n_ports; i++)
		if (fs->port_addr4[i].family) {
			o->a[o->n++] = fs->port_addr4[i].w[0];
			o->bloom |= xgw_own4_bit(fs->port_addr4[i].w[0]);
		}
}

/* How many packets ahead the worker's packet loop prefetches a tracked
 * packet's record again (struct xgw_lb_flow.conn): at 1M flows 8 and 16
 * were no faster than 12 (bench/README.md). */
#define XGW_LB_AHEAD 12

/* The stage's per-worker state (zeroed with the worker, then
 * xgw_lb_worker_init). */
struct xgw_lb_worker {
	/* Conntrack hashes of the connections this burst created, as a
	 * 4096-bit filter: a later packet of the burst whose "absent" hint
	 * may predate its own flow's creation looks again.  A burst of new
	 * flows sets up to 128 bits: at 1024 bits one new flow in ~16 took
	 * a full lookup for nothing (~7 instructions per new flow,
	 * callgrind new-flows), at 4096 one in ~64, for a clear of 512
	 * bytes per burst that created something. */
	bool burst_created;
	uint64_t created_filter[64];
	uint32_t rand_state; /* xorshift32, for algo "random" */
	uint32_t rr[XGW_RR_SLOTS];
	/* The burst's conntrack table, set by xgw_lb_prepare when some packet
	 * of the burst is valid (lb_fast.h reads it per packet). */
	struct xgw_ct_table *ct;
	/* The worker's cache of that table (struct xgw_ct_init.cache, and
	 * xgw_ct_cache_of it), set with ct: a creation's, found once per
	 * burst (~12 instructions per new flow, callgrind new-flows). */
	uint16_t ct_cache_id;
	struct xgw_ct_cache *ct_cache;
	/* The burst's snapshot has no rules and allows by default: a new
	 * flow's ingress check passes without xgw_policy_allows. */
	bool policy_open;
	/* The burst's own IPv4 addresses, gathered by the first new flow's
	 * source check of a burst (own4_set, cleared by xgw_worker_stages at
	 * the start and end of each burst): that check asks the bloom word
	 * instead of comparing with every port's address. */
	bool own4_set;
	struct xgw_route_own4 own4;
};
/* Seeds the "random" algorithm's state (any value). */
void xgw_lb_worker_init(struct xgw_lb_worker *s, uint32_t seed);

/* Bulk form, as DPDK's and VPP's lookups are: over a parsed burst, build
 * every conntrack key and hash it; then read each key's bucket, prefetch
 * the record its signature names and keep that slot as a hint; only then
 * the per-packet stage (xgw_lb_stage_flow, in packet order), which finds
 * bucket and record in cache and, through the hint, does not scan the
 * bucket again.  The buckets are read by plain loads in a loop of
 * independent iterations (xgw_ct_touch), which measured faster than
 * software prefetch or a fixed prefetch distance (bench/README.md); the
 * records are prefetched by the burst pass and again XGW_LB_AHEAD packets
 * ahead by the packet loop (at 1M flows most of the burst pass's were
 * lost: worker.c).  The bulk steps only read: lookups, creations and
 * expiry happen per packet. */
struct xgw_lb_flow {
	struct xgw_ct_tuple key;
	uint64_t hash;
	uint64_t hint; /* xgw_ct_prefetch_conn's, or XGW_CT_HINT_NONE */
	/* The record a slot-word hint names, else NULL; NULL too in every
	 * other entry of a burst with a valid one, and in the XGW_LB_AHEAD
	 * entries after the burst's last (the array has them): the packet
	 * loop prefetches the one XGW_LB_AHEAD on. */
	struct xgw_ct_conn *conn;
	/* For a packet certainly of no connection (hint 0): its service (NULL:
	 * none) and, for Maglev without SNAT, the backend it will get (0:
	 * none), found in the prepare pass so that the reply key's bucket,
	 * which the creation locks and writes, is prefetched ahead of the
	 * per-packet pass.  Set for hint 0 only. */
	const struct xgw_svc_rt *svc;
	uint64_t reply_hash; /* of the reply key with that backend, or 0 */
	uint32_t backend;
	uint8_t kind; /* enum xgw_lb_kind */
};

/* What a packet needs from the stages, decided once per packet: DROP by
 * the worker's parse (and decap) pass, the others by xgw_lb_prepare; the
 * worker's per-packet loop dispatches on it, one load and compare, where
 * it tested the parse verdict, the route and valid flags and the hint's
 * record in turn. */
enum xgw_lb_kind {
	XGW_LB_K_DROP = 0, /* dropped and counted already */
	/* A TCP/UDP packet of no service and no connection (the snapshot's
	 * address filter, or no services at all): XGW_LB_ROUTE at once,
	 * with no key, hash or lookup. */
	XGW_LB_K_ROUTE,
	XGW_LB_K_OTHER, /* not TCP/UDP with ports: xgw_lb_stage_flow decides */
	/* Set by the parse pass only, for xgw_lb_prepare (which replaces it
	 * with one of the others): an IPv4 TCP/UDP packet with ports and no
	 * fragment (xgw_lb_kind_parsed), so that the burst pass goes
	 * straight to the address filter and the key without testing the
	 * descriptor's flags, protocol and family again. */
	XGW_LB_K_V4,
	XGW_LB_K_LOOKUP,  /* key, hash and hint set, no record named: xgw_lb_l4_flow */
	XGW_LB_K_TRACKED, /* the same, and the hint names conn: xgw_lb_tracked */
};
_Static_assert(XGW_LB_K_TRACKED > XGW_LB_K_LOOKUP && XGW_LB_K_LOOKUP > XGW_LB_K_V4,
	       "xgw_lb_flow_valid: the two kinds with a key are the highest");

/* The packets that get a conntrack lookup: TCP or UDP with ports, no
 * fragment. */
static inline bool xgw_lb_wants_lookup(const struct xgw_pkt *p)
{
	return (p->flags & (XGW_PKT_L4 | XGW_PKT_FRAG)) == XGW_PKT_L4 &&
	       (p->l4_proto == IPPROTO_TCP || p->l4_proto == IPPROTO_UDP);
}

/* A parsed packet's kind before xgw_lb_prepare: XGW_LB_K_V4 for an IPv4
 * one that wants a lookup, else XGW_LB_K_ROUTE (the burst pass decides
 * from the descriptor). */
static inline enum xgw_lb_kind xgw_lb_kind_parsed(const struct xgw_pkt *p)
{
	return (p->flags & XGW_PKT_IPV4) && xgw_lb_wants_lookup(p) ? XGW_LB_K_V4 : XGW_LB_K_ROUTE;
}

/* The entry's key, hash and hint are set (the packet had a conntrack
 * lookup's burst pass). */
static inline bool xgw_lb_flow_valid(const struct xgw_lb_flow *f)
{
	return f->kind >= XGW_LB_K_LOOKUP;
}

/* fl[i].kind: XGW_LB_K_DROP for a packet already dropped (skipped),
 * XGW_LB_K_V4 or XGW_LB_K_ROUTE for a parsed one (xgw_lb_kind_parsed); set
 * to what each packet needs (never XGW_LB_K_V4). */
void xgw_lb_prepare(struct xgw_worker *w, const struct xgw_snapshot *snap,
		    const struct xgw_pkt *pkts, uint32_t n, struct xgw_lb_flow *fl);
/* fl has n + XGW_LB_AHEAD entries. */

/* The stage for one packet, with its entry of xgw_lb_prepare's array (the
 * key, hash and hint of a TCP/UDP packet).  0 for a packet of a tracked or
 * new service connection, translated and ready to forward; XGW_LB_ROUTE
 * for one that is no service's (untouched: the policy stage, then plain
 * routing); or a drop reason. */
#define XGW_LB_ROUTE (-1)
/* 0, or XGW_DROP_BAD_SOURCE when the packet's source is its destination
 * (LAND), a VIP, or one of the ports' own addresses: spoofed, whatever it
 * asks for.  Run once per new connection and echo request to a VIP; a
 * tracked connection passed it when it was created. */
int xgw_lb_check_source(const struct xgw_worker *w, const struct xgw_snapshot *snap,
			const struct xgw_fwd_state *fs, const struct xgw_pkt *p);
/* The same check for every routed packet, as Linux's martian-source check:
 * LAND, or a source that is one of the ports' addresses (what the host
 * itself sends never comes in on a port).  own4: the ports' IPv4
 * addresses, gathered once per burst (xgw_route_own4); IPv4 is read
 * straight from the header: this runs on the routed fast path. */
static inline int xgw_route_check_source(const struct xgw_worker *w, const struct xgw_fwd_state *fs,
					 const struct xgw_pkt *p, const struct xgw_route_own4 *own4)
{
	if (__builtin_expect(p->flags & XGW_PKT_IPV4, 1)) {
		uint32_t s, d; /* bytes 12-15 and 16-19 of the IPv4 header */

		memcpy(&s, p->data + p->l3_off + 12, 4);
		memcpy(&d, p->data + p->l3_off + 16, 4);
		if (s == d)
			return XGW_DROP_BAD_SOURCE;
		if (__builtin_expect(!(own4->bloom & xgw_own4_bit(s)), 1))
			return 0;
		for (unsigned i = 0; i < own4->n; i++)
			if (own4->a[i] == s)
				return XGW_DROP_BAD_SOURCE;
		return 0;
	}
	return xgw_lb_check_source(w, NULL, fs, p);
}

int xgw_lb_stage_flow(struct xgw_worker *w, const struct xgw_snapshot *snap,
		      const struct xgw_fwd_state *fs, struct xgw_pkt *p,
		      const struct xgw_lb_flow *f);

/* xgw_lb_stage_flow's TCP/UDP case: a packet xgw_lb_prepare set up (valid). */
int xgw_lb_l4_flow(struct xgw_worker *w, const struct xgw_snapshot *snap,
		   const struct xgw_fwd_state *fs, struct xgw_pkt *p, const struct xgw_lb_flow *f);

/* The stage's entry point in the worker is its dispatch on the entry's
 * kind: a tracked connection's packet whose hint names its record is
 * handled by xgw_lb_tracked (lb_fast.h, inline); every other goes to
 * xgw_lb_l4_flow or xgw_lb_stage_flow. */

#endif
