/* SPDX-License-Identifier: BSD-3-Clause */
#include "common/hash.h"
#include "common/stat.h"
#include "pipeline/forward.h"
#include "pipeline/forward_fast.h"
#include "pipeline/worker.h"

#include <arpa/inet.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <netinet/in.h>
#include <string.h>

#include "common/csum.h"
#include "common/drop.h"
#include "common/hdr.h"
#include "lb/nat.h"

/* Routers rate-limit ICMP errors (RFC 1812 4.3.2.8); per worker, per second. */
#define ICMP_ERRORS_PER_SEC 1000
#define RESOLVE_RETRY_NS 200000000ULL

static void request_resolve(struct xgw_worker *w, int ifindex, const struct xgw_addr *ip)
{
	uint32_t head, tail;

	/* One request per address per retry interval: a burst of packets to
	 * an unresolved next hop must not flood the control side. */
	if (xgw_addr_eq(&w->fwd.last_resolve, ip) &&
	    w->now_ns - w->fwd.last_resolve_ns < RESOLVE_RETRY_NS)
		return;
	w->fwd.last_resolve = *ip;
	w->fwd.last_resolve_ns = w->now_ns;
	head = atomic_load_explicit(&w->fwd.rq_head, memory_order_relaxed);
	tail = atomic_load_explicit(&w->fwd.rq_tail, memory_order_acquire);
	if (head - tail >= XGW_RESOLVE_RING)
		return;
	w->fwd.rq[head % XGW_RESOLVE_RING].ifindex = ifindex;
	w->fwd.rq[head % XGW_RESOLVE_RING].ip = *ip;
	atomic_store_explicit(&w->fwd.rq_head, head + 1, memory_order_release);
}

static bool icmp_allowed(struct xgw_worker *w)
{
	uint64_t sec = w->now_ns / 1000000000ULL;

	if (sec != w->fwd.icmp_tokens_ts) {
		w->fwd.icmp_tokens_ts = sec;
		w->fwd.icmp_tokens = ICMP_ERRORS_PER_SEC;
	}
	if (!w->fwd.icmp_tokens)
		return false;
	w->fwd.icmp_tokens--;
	return true;
}

/* Remove VLAN tags: the egress ports are untagged. */
static void strip_vlans(struct xgw_pkt *p)
{
	uint16_t shift = (uint16_t)(p->n_vlans * 4);

	if (!shift)
		return;
	memmove(p->data + shift, p->data, 12); /* MACs; ethertype is already in place */
	p->data += shift;
	p->addr += shift;
	p->len -= shift;
	p->headroom += shift;
	p->l3_off -= shift;
	p->l4_off -= shift;
	p->payload_off -= shift;
	p->n_vlans = 0;
}

static inline struct xgw_route_cache_ent *route_cache_slot(struct xgw_fwd_worker *f,
							   const struct xgw_addr *dst)
{
	uint64_t k = dst->q[0] ^ dst->q[1];
	uint32_t h = (uint32_t)(k ^ k >> 32) * 0x9e3779b1u;

	return &f->route_cache[h >> (32 - XGW_ROUTE_CACHE_BITS)];
}

/* The full route + neighbour lookup on a route cache miss; fills e on
 * success.  Out of line: inlined, its register pressure gave output() a
 * prologue and epilogue of ~20 instructions that the cache hit paid too.
 * p (NULL when there is no packet) gives the flow hash that picks a path
 * of a multipath route. */
__attribute__((noinline)) static int
route_miss(struct xgw_worker *w, const struct xgw_fwd_state *fs, const struct xgw_addr *dst,
	   struct xgw_route_cache_ent *e, const struct xgw_pkt *p)
{
	/* The generation before the lookup: a change made meanwhile bumps it
	 * again, so this entry cannot outlive what it was filled from. */
	uint64_t gen = xgw_fib_generation(fs->fib);
	const struct xgw_nh *rt = xgw_fib_route(fs->fib, dst), *r = rt;
	const struct xgw_neigh *n;
	const struct xgw_addr *nh;
	uint16_t out;

	if (!rt)
		return XGW_DROP_NO_ROUTE;
	if (rt->n_paths > 1) {
		uint32_t h = 0;

		if (p) {
			struct xgw_addr src, d;
			xgw_pkt_addrs(p, &src, &d);
			h = xgw_flow_hash(&src, &d, p->sport, p->dport, p->l4_proto,
					  w->dp->hash_seed);
		}
		r = xgw_fib_path(fs->fib, rt, h);
	}
	out = xgw_route_port(fs, r);
	if (out == XGW_PORT_NONE)
		return XGW_DROP_NO_PORT;
	nh = r->via.family ? &r->via : dst;
	n = xgw_fib_neigh(fs->fib, r->oif, nh);
	if (!n) {
		request_resolve(w, r->oif, nh);
		return XGW_DROP_NO_NEIGH;
	}
	/* A multipath route's path follows the flow, not dst alone: such an
	 * entry is used for this packet only (generation 0 never matches). */
	e->gen = rt->n_paths > 1 ? 0 : gen;
	e->dst = *dst;
	e->out = out;
	/* After gen was read: an MTU changed since is a newer generation. */
	uint32_t mtu = xgw_port_mtu(&w->dp->ports[out]);
	e->mtu = (uint16_t)(mtu < 0xffff ? mtu : 0xffff);
	memcpy(e->mac, n->mac, 6);
	memcpy(e->mac + 6, w->dp->ports[out].mac, 6);
	return 0;
}

static int icmp_error4(struct xgw_worker *w, const struct xgw_fwd_state *fs, struct xgw_pkt *p,
		       uint8_t type, uint8_t code, uint32_t rest, int drop,
		       const struct xgw_ct_tuple *arrived);
static int icmp_error6(struct xgw_worker *w, const struct xgw_fwd_state *fs, struct xgw_pkt *p,
		       uint8_t type, uint8_t code, uint32_t rest, int drop,
		       const struct xgw_ct_tuple *arrived);

/* Give p the addresses and ports it arrived with (forward.h) before it is
 * quoted: the NAT's own RFC 1624 updates (lb/nat.h) undone, so that the
 * quoted IPv4 header checksum and the L4 checksum are the sender's again,
 * and the error goes to the sender (a backend's reply was rewritten to
 * come from the VIP).  Fields that did not change are left alone: an
 * update by nothing may turn a checksum 0x0000 into 0xffff. */
static void unnat_quote(struct xgw_pkt *p, const struct xgw_ct_tuple *arrived)
{
	struct xgw_addr src, dst;
	uint16_t ports[2]; /* read from the header, as the quote will hold them */

	if (!arrived || !(p->flags & XGW_PKT_L4) || (p->flags & XGW_PKT_FRAG_LATER) ||
	    (p->l4_proto != IPPROTO_TCP && p->l4_proto != IPPROTO_UDP))
		return;
	xgw_pkt_addrs(p, &src, &dst);
	memcpy(ports, p->data + p->l4_off, 4);
	if (!xgw_addr_eq(&src, &arrived->src) || ports[0] != arrived->sport)
		(void)xgw_nat_rewrite(p, false, &arrived->src, arrived->sport);
	if (!xgw_addr_eq(&dst, &arrived->dst) || ports[1] != arrived->dport)
		(void)xgw_nat_rewrite(p, true, &arrived->dst, arrived->dport);
}

/* Too big for the egress port: xgw does not fragment.  Tell the sender
 * (ICMP fragmentation needed with the next-hop MTU when DF is set, RFC 1191;
 * ICMPv6 packet too big, RFC 4443 3.2) so that path MTU discovery works,
 * else count the drop. */
static int too_big(struct xgw_worker *w, const struct xgw_fwd_state *fs, struct xgw_pkt *p,
		   uint32_t mtu, const struct xgw_ct_tuple *arrived)
{
	if (p->flags & XGW_PKT_FRAG_LATER)
		return XGW_DROP_MTU;
	if (p->flags & XGW_PKT_IPV4) {
		const iphdr_u *ip = (const iphdr_u *)(p->data + p->l3_off);
		if (!(ip->frag_off & htons(0x4000)))
			return XGW_DROP_MTU;
		/* bytes 6-7 of the ICMP header: the next-hop MTU */
		return icmp_error4(w, fs, p, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED,
				   htonl(mtu & 0xffff), XGW_DROP_MTU, arrived);
	}
	return icmp_error6(w, fs, p, ICMPV6_PKT_TOOBIG, 0, htonl(mtu), XGW_DROP_MTU, arrived);
}

int xgw_route_lookup(struct xgw_worker *w, const struct xgw_fwd_state *fs,
		     const struct xgw_addr *dst, uint16_t *out, const uint8_t **mac)
{
	struct xgw_route_cache_ent *e = route_cache_slot(&w->fwd, dst);

	if (e->gen != xgw_fib_generation(fs->fib) || !xgw_addr_eq(&e->dst, dst)) {
		int err = route_miss(w, fs, dst, e, NULL);
		if (err)
			return err;
	}
	*out = e->out;
	*mac = e->mac;
	return 0;
}

int xgw_too_big(struct xgw_worker *w, const struct xgw_fwd_state *fs, struct xgw_pkt *p,
		uint32_t mtu, const struct xgw_ct_tuple *arrived)
{
	return too_big(w, fs, p, mtu, arrived);
}

/* Route dst out of a port and rewrite the Ethernet header for it: the
 * route cache hit of an untagged packet that fits, inline in the
 * forwarding stage; anything else in output_slow. */
__attribute__((noinline)) static int output_slow(struct xgw_worker *w,
						 const struct xgw_fwd_state *fs, struct xgw_pkt *p,
						 const struct xgw_addr *dst,
						 const struct xgw_ct_tuple *arrived)
{
	struct xgw_route_cache_ent *e = route_cache_slot(&w->fwd, dst);
	const struct xgw_port *port;
	uint16_t out;

	if (e->gen != xgw_fib_generation(fs->fib) || !xgw_addr_eq(&e->dst, dst)) {
		int err = route_miss(w, fs, dst, e, p);
		if (err)
			return err;
	}
	out = e->out;
	port = &w->dp->ports[out];
	if (p->l3_len > xgw_port_mtu(port))
		return too_big(w, fs, p, xgw_port_mtu(port), arrived);
	strip_vlans(p);
	memcpy(p->data, e->mac, 12);
	/* Drop Ethernet padding: the frame ends where IP says. */
	p->len = (uint32_t)p->l3_off + p->l3_len;
	p->out_port = out;
	return 0;
}

static inline int output(struct xgw_worker *w, const struct xgw_fwd_state *fs, struct xgw_pkt *p,
			 const struct xgw_addr *dst, const struct xgw_ct_tuple *arrived)
{
	const struct xgw_route_cache_ent *e = route_cache_slot(&w->fwd, dst);

	if (__builtin_expect(e->gen != xgw_fib_generation(fs->fib) || !xgw_addr_eq(&e->dst, dst) ||
				 p->n_vlans || p->l3_len > xgw_port_mtu(&w->dp->ports[e->out]),
			     0))
		return output_slow(w, fs, p, dst, arrived);
	memcpy(p->data, e->mac, 12);
	p->len = (uint32_t)p->l3_off + p->l3_len;
	p->out_port = e->out;
	return 0;
}

/* Turn p into an ICMP error about itself (type, code, the 32-bit "rest of
 * header" in network order) from the ingress port's address, and route it
 * back to the sender.  Returns `drop` when no error may be sent. */
static int icmp_error4(struct xgw_worker *w, const struct xgw_fwd_state *fs, struct xgw_pkt *p,
		       uint8_t type, uint8_t code, uint32_t rest, int drop,
		       const struct xgw_ct_tuple *arrived)
{
	iphdr_u *ip = (iphdr_u *)(p->data + p->l3_off);
	const struct xgw_addr *src = &fs->port_addr4[p->port];
	uint32_t quote = (uint32_t)ip->ihl * 4 + 8;
	struct xgw_addr dst;
	icmphdr_u *ic;

	if (!src->family || !icmp_allowed(w))
		return drop;
	unnat_quote(p, arrived);
	if (quote > p->l3_len)
		quote = p->l3_len;
	/* Never answer an ICMP error with an error (RFC 1812 4.3.2.7). */
	if (ip->protocol == IPPROTO_ICMP && (uint32_t)p->l4_off + 1 <= p->len) {
		uint8_t t = p->data[p->l4_off];
		if (t != ICMP_ECHO && t != ICMP_ECHOREPLY)
			return drop;
	}
	if ((uint32_t)p->l3_off + 28 + quote > (uint32_t)(w->umem.frame_size - p->headroom))
		return drop;
	xgw_addr_v4(&dst, ip->saddr);
	memmove(p->data + p->l3_off + 28, ip, quote);
	memset(ip, 0, 28);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0xc0; /* internetwork control */
	ip->tot_len = htons((uint16_t)(28 + quote));
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->saddr = src->w[0];
	ip->daddr = dst.w[0];
	ip->check = xgw_csum(ip, 20);
	ic = (icmphdr_u *)(ip + 1);
	ic->type = type;
	ic->code = code;
	memcpy((uint8_t *)ic + 4, &rest, 4);
	ic->checksum = xgw_csum(ic, 8 + quote);
	p->l3_len = (uint16_t)(28 + quote);
	p->l4_off = (uint16_t)(p->l3_off + 20);
	XGW_STAT_ADD(w->st.icmp_sent, 1);
	return output_slow(w, fs, p, &dst, NULL);
}

static int icmp_error6(struct xgw_worker *w, const struct xgw_fwd_state *fs, struct xgw_pkt *p,
		       uint8_t type, uint8_t code, uint32_t rest, int drop,
		       const struct xgw_ct_tuple *arrived)
{
	ipv6hdr_u *ip6 = (ipv6hdr_u *)(p->data + p->l3_off);
	const struct xgw_addr *src = &fs->port_addr6[p->port];
	/* The error must fit the IPv6 minimum MTU (RFC 4443 2.4(c)). */
	uint32_t quote = p->l3_len < 1280 - 48 ? p->l3_len : 1280 - 48;
	struct xgw_addr dst;
	icmp6hdr_u *ic;
	uint64_t sum;
	uint32_t plen;

	if (!src->family || !icmp_allowed(w))
		return drop;
	unnat_quote(p, arrived);
	if (p->l4_proto == IPPROTO_ICMPV6 && p->l4_off < p->len &&
	    !(p->data[p->l4_off] & ICMPV6_INFOMSG_MASK))
		return drop;
	if ((uint32_t)p->l3_off + 48 + quote > (uint32_t)(w->umem.frame_size - p->headroom))
		return drop;
	xgw_addr_v6(&dst, &ip6->saddr);
	memmove(p->data + p->l3_off + 48, ip6, quote);
	memset(ip6, 0, 48);
	plen = 8 + quote;
	ip6->version = 6;
	ip6->payload_len = htons((uint16_t)plen);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = 64;
	memcpy(&ip6->saddr, src->b, 16);
	memcpy(&ip6->daddr, dst.b, 16);
	ic = (icmp6hdr_u *)(ip6 + 1);
	ic->icmp6_type = type;
	ic->icmp6_code = code;
	memcpy((uint8_t *)ic + 4, &rest, 4);
	sum = xgw_csum_partial(&ip6->saddr, 32, 0);
	/* 64-bit: in 32 bits the two words overflow (plen 1240: 0xd8 + 0x3a) and
	 * the carry is lost, a checksum off by 0x100 on every full-size PTB. */
	sum += (uint64_t)htonl(plen) + htonl(IPPROTO_ICMPV6);
	sum = xgw_csum_partial(ic, plen, sum);
	ic->icmp6_cksum = (uint16_t)~xgw_csum_fold(sum);
	p->l3_len = (uint16_t)(40 + plen);
	p->l4_off = (uint16_t)(p->l3_off + 40);
	XGW_STAT_ADD(w->st.icmp_sent, 1);
	return output_slow(w, fs, p, &dst, NULL);
}

__attribute__((noinline)) static int forward4_slow(struct xgw_worker *w,
						   const struct xgw_fwd_state *fs,
						   struct xgw_pkt *p,
						   const struct xgw_ct_tuple *arrived)
{
	iphdr_u *ip = (iphdr_u *)(p->data + p->l3_off);
	struct xgw_addr dst;
	int err;

	if (!(p->flags & XGW_PKT_IP4_CSUM_OK) && xgw_ip4_verify(p))
		return XGW_DROP_IP4_CSUM;
	if (ip->ttl <= 1)
		/* No ICMP error about a non-initial fragment (RFC 1812 4.3.2.7):
		 * its "L4 header" is payload. */
		return p->flags & XGW_PKT_FRAG_LATER
			   ? XGW_DROP_TTL_EXCEEDED
			   : icmp_error4(w, fs, p, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0,
					 XGW_DROP_TTL_EXCEEDED, arrived);
	xgw_addr_v4(&dst, ip->daddr);
	err = output(w, fs, p, &dst, arrived);
	if (err)
		return err;
	xgw_ttl_dec4((iphdr_u *)(p->data + p->l3_off));
	return 0;
}

static int forward6(struct xgw_worker *w, const struct xgw_fwd_state *fs, struct xgw_pkt *p,
		    const struct xgw_ct_tuple *arrived)
{
	ipv6hdr_u *ip6 = (ipv6hdr_u *)(p->data + p->l3_off);
	struct xgw_addr dst;
	int err;

	if (ip6->hop_limit <= 1)
		return p->flags & XGW_PKT_FRAG_LATER
			   ? XGW_DROP_TTL_EXCEEDED
			   : icmp_error6(w, fs, p, ICMPV6_TIME_EXCEED, ICMPV6_EXC_HOPLIMIT, 0,
					 XGW_DROP_TTL_EXCEEDED, arrived);
	/* Link-local sources and destinations are never forwarded (RFC 4291
	 * 2.5.6). */
	if ((ip6->daddr.s6_addr[0] == 0xfe && (ip6->daddr.s6_addr[1] & 0xc0) == 0x80) ||
	    (ip6->saddr.s6_addr[0] == 0xfe && (ip6->saddr.s6_addr[1] & 0xc0) == 0x80))
		return XGW_DROP_NO_ROUTE;
	xgw_addr_v6(&dst, &ip6->daddr);
	err = output(w, fs, p, &dst, arrived);
	if (err)
		return err;
	ip6 = (ipv6hdr_u *)(p->data + p->l3_off);
	ip6->hop_limit--;
	return 0;
}

int xgw_forward_slow(struct xgw_worker *w, const struct xgw_fwd_state *fs, struct xgw_pkt *p,
		     const struct xgw_ct_tuple *arrived)
{
	if (!fs || !fs->fib)
		return XGW_DROP_NO_ROUTE;
	if (p->flags & XGW_PKT_IPV4)
		return forward4_slow(w, fs, p, arrived);
	if (p->flags & XGW_PKT_IPV6)
		return forward6(w, fs, p, arrived);
	return XGW_DROP_NOT_IP;
}

int xgw_forward(struct xgw_worker *w, const struct xgw_fwd_state *fs, struct xgw_pkt *p,
		const struct xgw_ct_tuple *arrived)
{
	/* Out of line anyway (tunnel encap's non-tunnel packets, tests): the
	 * general way, which takes the route cache too. */
	return xgw_forward_slow(w, fs, p, arrived);
}

bool xgw_fwd_pop_resolve(struct xgw_fwd_worker *f, struct xgw_resolve_req *out)
{
	uint32_t tail = atomic_load_explicit(&f->rq_tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&f->rq_head, memory_order_acquire);

	if (tail == head)
		return false;
	*out = f->rq[tail % XGW_RESOLVE_RING];
	atomic_store_explicit(&f->rq_tail, tail + 1, memory_order_release);
	return true;
}
