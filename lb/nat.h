/* SPDX-License-Identifier: BSD-3-Clause */
/* Address and port translation in place on a parsed frame (struct xgw_pkt,
 * data at the Ethernet header, l3_off/l4_off/l4_proto/flags filled by
 * xgw_parse), IPv4 and IPv6 alike.
 *
 * Checksums are updated incrementally (RFC 1624 eqn. 3, common/csum.h),
 * never recomputed over the payload: the IPv4 header checksum, the TCP/UDP
 * (and ICMPv6) pseudo-header checksum, 16-bit port words.  An IPv4 UDP
 * checksum of 0 means "none" and stays 0; a computed UDP checksum of 0 is
 * sent as 0xffff (RFC 768).
 *
 * Every function returns 0 or an enum xgw_drop reason, so the pipeline can
 * count what it drops.
 */
#ifndef XGW_NAT_H
#define XGW_NAT_H

#include <errno.h>
#include <stdint.h>

#include <netinet/in.h>
#include <string.h>

#include "common/addr.h"
#include "common/csum.h"
#include "common/drop.h"
#include "common/hdr.h"
#include "common/pkt.h"
#include "lb/conntrack.h"

/* Rewrite the source (or, with dst = true, the destination) address and
 * L4 port of the packet.  port is in network order; 0 keeps the port.  A
 * non-first fragment has no ports: only the address is rewritten if the
 * port would not change, else XGW_DROP_FRAGMENT. */
int xgw_nat_rewrite(struct xgw_pkt *p, bool dst, const struct xgw_addr *addr, uint16_t port);

/* The translation a tracked connection implies for a packet in direction
 * dir: the packet leaves as the reverse of the other direction's tuple.
 * ORIG: DNAT (VIP:port -> backend:port) and, with SNAT, source -> gateway
 * address:port.  REPLY: source backend:port -> VIP:port and, with SNAT,
 * destination gateway:port -> client:port.  Only fields that differ are
 * touched. */
int xgw_nat_apply_any(struct xgw_pkt *p, const struct xgw_ct_conn *c, enum xgw_ct_dir dir);

/* IPv4 TCP/UDP, every established packet: both addresses and both ports
 * as 32-bit words, one RFC 1624 difference for the header checksum and
 * the same plus the ports for the L4 checksum (fields that do not change
 * add ~x + x, a one's-complement zero).  Through xgw_nat_rewrite per field
 * a DNATed packet cost ~160 instructions, field by field inlined ~107, out
 * of line ~117 with its call (callgrind, established-1k).  o: the other
 * direction's tuple.  false: not such a packet, nothing done.
 * xgw_nat4_ports is the translation alone, for a caller that knows the
 * packet is such (tcp: TCP, else UDP) and o is IPv4. */
static inline void xgw_nat4_ports(struct xgw_pkt *p, const struct xgw_ct_ctuple *o, bool tcp)
{
	uint8_t *w3 = p->data + p->l3_off, *l4 = p->data + p->l4_off;
	uint32_t osrc, odst, nsrc, ndst, oports, nports;
	uint16_t pt[2] = {o->dport, o->sport}; /* new source, destination port */
	uint16_t cs;

	memcpy(&osrc, w3 + XGW_IP4_SRC, 4);
	memcpy(&odst, w3 + XGW_IP4_DST, 4);
	memcpy(&oports, l4, 4);
	memcpy(&nsrc, o->dst, 4);
	memcpy(&ndst, o->src, 4);
	memcpy(&nports, pt, 4);
	/* No test for "nothing changes" (a backend that is its VIP): the
	 * difference is then a one's-complement zero and every store
	 * rewrites what is there. */
	uint64_t da = (uint64_t)(uint32_t)~osrc + nsrc + (uint32_t)~odst + ndst;
	memcpy(&cs, w3 + XGW_IP4_CSUM, 2);
	cs = (uint16_t)~xgw_csum_fold((uint16_t)~cs + da);
	memcpy(w3 + XGW_IP4_CSUM, &cs, 2);
	memcpy(w3 + XGW_IP4_SRC, &nsrc, 4);
	memcpy(w3 + XGW_IP4_DST, &ndst, 4);
	memcpy(l4, &nports, 4);
	p->sport = o->dport;
	p->dport = o->sport;
	unsigned co = tcp ? XGW_TCP_CSUM : XGW_UDP_CSUM;
	memcpy(&cs, l4 + co, 2);
	if (!tcp && cs == 0)
		return; /* no checksum: stays none */
	cs = (uint16_t)~xgw_csum_fold((uint16_t)~cs + da + (uint32_t)~oports + nports);
	if (!tcp && cs == 0)
		cs = 0xffff;
	memcpy(l4 + co, &cs, 2);
}

/* xgw_nat4_ports for a packet whose tuple is its connection's own in its
 * direction (the key matched): the checksum differences are the
 * connection's, precomputed (d3: the IPv4 header's, d4: the TCP/UDP
 * checksum's; struct xgw_ct_ctuple.nat_csum), so the old fields are not
 * read and each checksum is one add and a one-step fold: ~HC and a
 * difference in [0, 0xffff] sum to at most 0x1fffe, whose fold is one
 * add of the halves.  The same bytes as xgw_nat4_ports (lb_fast.h). */
static inline __attribute__((always_inline)) void
xgw_nat4_pre(struct xgw_pkt *p, const struct xgw_ct_ctuple *o, uint16_t d3, uint16_t d4, bool tcp)
{
	uint8_t *w3 = p->data + p->l3_off, *l4 = p->data + p->l4_off;
	uint32_t nsrc, ndst, oports, nports;
	uint16_t cs;
	uint32_t x;

	memcpy(&nsrc, o->dst, 4);
	memcpy(&ndst, o->src, 4);
	memcpy(&oports, &o->sport, 4);
	nports = oports >> 16 | oports << 16; /* new source port o->dport, destination o->sport */
	memcpy(&cs, w3 + XGW_IP4_CSUM, 2);
	x = (uint32_t)(uint16_t)~cs + d3;
	cs = (uint16_t) ~((x & 0xffff) + (x >> 16));
	memcpy(w3 + XGW_IP4_CSUM, &cs, 2);
	memcpy(w3 + XGW_IP4_SRC, &nsrc, 4);
	memcpy(w3 + XGW_IP4_DST, &ndst, 4);
	memcpy(l4, &nports, 4);
	memcpy(&p->sport, &nports, 4); /* sport, dport: adjacent (parse_fast.h) */
	unsigned co = tcp ? XGW_TCP_CSUM : XGW_UDP_CSUM;
	memcpy(&cs, l4 + co, 2);
	if (!tcp && cs == 0)
		return; /* no checksum: stays none */
	x = (uint32_t)(uint16_t)~cs + d4;
	cs = (uint16_t) ~((x & 0xffff) + (x >> 16));
	if (!tcp && cs == 0)
		cs = 0xffff;
	memcpy(l4 + co, &cs, 2);
}

static inline bool xgw_nat_apply4(struct xgw_pkt *p, const struct xgw_ct_ctuple *o)
{
	if ((p->flags & (XGW_PKT_IPV4 | XGW_PKT_L4 | XGW_PKT_FRAG_LATER)) !=
		(XGW_PKT_IPV4 | XGW_PKT_L4) ||
	    (p->l4_proto != IPPROTO_TCP && p->l4_proto != IPPROTO_UDP) || o->family != AF_INET)
		return false;
	xgw_nat4_ports(p, o, p->l4_proto == IPPROTO_TCP);
	return true;
}

static inline int xgw_nat_apply(struct xgw_pkt *p, const struct xgw_ct_conn *c,
				enum xgw_ct_dir dir)
{
	return xgw_nat_apply4(p, xgw_ct_ctuple_of(c, !dir)) ? 0 : xgw_nat_apply_any(p, c, dir);
}

/* SNAT source-port range (host order, inclusive) and retry cap. */
#define XGW_NAT_PORT_MIN     1024
/* Below XGW_CHECK_PORT_MIN (steer-bpf/steer_maps.h): the ports above are
 * the health checks', whose answers go to the gateway's own stack. */
#define XGW_NAT_PORT_MAX     65023
#define XGW_NAT_PORT_RETRIES 32

/* Create the conntrack entry of a new flow orig (client -> VIP:port) sent
 * to backend:bport, with the source rewritten to snat_addr and a port
 * allocated in [port_min, port_max] such that the reply tuple (backend ->
 * snat_addr:port) is unique in the table (the reply key is inserted first,
 * without overwrite: that insert is the collision check).  At most
 * XGW_NAT_PORT_RETRIES ports are tried, in a sequence derived from the
 * flow hash so that two workers racing on the same flow try the same ports
 * and the loser finds the winner's entry.  snat_addr == NULL: no SNAT (the
 * reply goes to the client).  Ports in network order.
 * Returns 0 with *out set (created or found; *created, unless NULL, says
 * which: a worker counts the connections it opened), XGW_DROP_SNAT_NO_PORT,
 * XGW_DROP_CT_FULL, or XGW_DROP_CT_INVALID (DNAT reply tuple taken by
 * another flow). */
int xgw_nat_ct_create(struct xgw_ct_table *t, const struct xgw_ct_tuple *orig,
		      const struct xgw_addr *backend, uint16_t bport,
		      const struct xgw_addr *snat_addr, uint16_t port_min, uint16_t port_max,
		      const struct xgw_ct_init *init, uint64_t now, struct xgw_ct_conn **out,
		      bool *created);

/* xgw_nat_ct_create_dnat's answer from xgw_ct_create_dnat's r. */
static inline int xgw_nat_ct_dnat_rc(int r, bool *created)
{
	if (created)
		*created = r == 0;
	if (r >= 0)
		return 0;
	return r == -EEXIST ? XGW_DROP_CT_INVALID : XGW_DROP_CT_FULL;
}

/* xgw_nat_ct_create without SNAT (snat_addr NULL; init->snat false), inline
 * in the LB stage's new flow: the call into nat.c, its copy of init and
 * its prologue cost ~30 instructions per new flow (callgrind, new-flows). */
static inline int xgw_nat_ct_create_dnat(struct xgw_ct_table *t, const struct xgw_ct_tuple *orig,
					 const struct xgw_addr *backend, uint16_t bport,
					 const struct xgw_ct_init *init, uint64_t now,
					 struct xgw_ct_conn **out, bool *created)
{
	return xgw_nat_ct_dnat_rc(xgw_ct_create_dnat(t, orig, backend, bport, init, now, out),
				  created);
}

/* An ICMP or ICMPv6 error (destination unreachable incl. fragmentation
 * needed / packet too big, time exceeded, parameter problem) quoting a
 * TCP or UDP packet of a tracked connection: the quoted packet is put back
 * in the form its sender used (addresses, ports, inner IPv4 checksum,
 * inner L4 checksum when quoted), the outer destination is the sender, and
 * an outer source that is the translated peer itself becomes the address
 * the sender knows.  ICMP (or ICMPv6) and outer IPv4 checksums updated.
 * c and dir (optional) get the connection and the direction the error
 * travels in.  Returns 0, XGW_DROP_CT_INVALID (not tracked: pass or drop
 * per policy) or XGW_DROP_ICMP_TRUNC (malformed or not an error). */
int xgw_nat_icmp_error(struct xgw_pkt *p, struct xgw_ct_table *t, uint64_t now,
		       struct xgw_ct_conn **c, enum xgw_ct_dir *dir);

/* True for ICMP/ICMPv6 types handled by xgw_nat_icmp_error. */
bool xgw_nat_is_icmp_error(const struct xgw_pkt *p);

/* Turn an ICMP or ICMPv6 echo request into its reply in place: MACs and
 * addresses swapped, type set, TTL/hop limit reset to 64, checksums
 * updated.  XGW_DROP_ICMP_TRUNC if it is not an echo request. */
int xgw_nat_icmp_echo_reply(struct xgw_pkt *p);

#endif
