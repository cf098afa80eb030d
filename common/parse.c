/* SPDX-License-Identifier: BSD-3-Clause */
/* The hot-path header parser (contract in common/pkt.h).
 *
 * Every header is copied into a local struct with memcpy before it is read:
 * frames sit at arbitrary offsets in UMEM (a VLAN tag moves the IP header by
 * 4 bytes), so pointer casts would be unaligned accesses.  The compiler turns
 * these fixed-size copies into plain loads.
 *
 * Bounds are kept as "end" offsets: the frame end for L3, then the IP packet
 * end (total length / payload length) for everything above it, so Ethernet
 * padding behind the IP packet is never mistaken for L4 bytes. */
#include <netinet/in.h> /* first: makes linux/in6.h defer to glibc */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "common/csum.h"
#include "common/drop.h"
#include "common/hdr.h"
#include "common/parse_fast.h"
#include "common/pkt.h"

/* Not in the uapi headers (the kernel keeps them in net/ipv6.h). */
#define XGW_IP6_FRAG_OFFMASK 0xfff8
#define XGW_IP6_FRAG_HLEN    8

/* A chain longer than this is an attack on the parser, not real traffic:
 * RFC 8200 hosts send at most a handful (HBH, DST, RH, FH, DST). */
#define XGW_IP6_MAX_EXT 8

struct vlan_tag {
	uint16_t tci;
	uint16_t proto;
};

static int parse_l4(struct xgw_pkt *p, uint32_t off, uint32_t end, uint8_t proto, int v6)
{
	const uint8_t *d = p->data;
	uint32_t room = end - off;

	p->l4_proto = proto;
	p->l4_off = (uint16_t)off;
	p->payload_off = (uint16_t)off;

	if (proto == IPPROTO_TCP) {
		struct tcphdr th;
		uint32_t hlen;

		if (room < sizeof(th))
			return XGW_DROP_TCP_TRUNC;
		memcpy(&th, d + off, sizeof(th));
		hlen = (uint32_t)th.doff * 4;
		if (th.doff < 5 || hlen > room)
			return XGW_DROP_TCP_DOFF;
		p->sport = th.source;
		p->dport = th.dest;
		p->payload_off = (uint16_t)(off + hlen);
	} else if (proto == IPPROTO_UDP) {
		struct udphdr uh;
		uint32_t ulen;

		if (room < sizeof(uh))
			return XGW_DROP_UDP_TRUNC;
		memcpy(&uh, d + off, sizeof(uh));
		/* Shorter than the IP payload is legal (RFC 768: the rest is not
		 * UDP data); longer would make us read another packet's bytes. */
		ulen = ntohs(uh.len);
		/* A first fragment carries only part of the datagram that the
		 * length describes. */
		if (ulen < sizeof(uh) || (ulen > room && !(p->flags & XGW_PKT_FRAG)))
			return XGW_DROP_UDP_LEN;
		p->sport = uh.source;
		p->dport = uh.dest;
		p->payload_off = (uint16_t)(off + sizeof(uh));
	} else if ((proto == IPPROTO_ICMP && !v6) || (proto == IPPROTO_ICMPV6 && v6)) {
		struct icmphdr ih; /* same 8-byte layout as struct icmp6hdr */
		int echo;

		_Static_assert(sizeof(struct icmphdr) == sizeof(struct icmp6hdr),
			       "icmp and icmp6 headers share the echo layout");
		if (room < sizeof(ih))
			return XGW_DROP_ICMP_TRUNC;
		memcpy(&ih, d + off, sizeof(ih));
		if (v6)
			echo = ih.type == ICMPV6_ECHO_REQUEST || ih.type == ICMPV6_ECHO_REPLY;
		else
			echo = ih.type == ICMP_ECHO || ih.type == ICMP_ECHOREPLY;
		/* The echo id is what conntrack and NAT treat as the "port". */
		if (echo)
			p->sport = ih.un.echo.id;
		p->payload_off = (uint16_t)(off + sizeof(ih));
	} else {
		/* GRE, ESP, ...: forwarded as they are, no L4 fields. */
		return XGW_DROP_NONE;
	}
	p->flags |= XGW_PKT_L4;
	return XGW_DROP_NONE;
}

static int parse_ip4(struct xgw_pkt *p, uint32_t off)
{
	struct iphdr ih;
	uint32_t hlen, tot;
	uint16_t frag;

	if (p->len - off < sizeof(ih))
		return XGW_DROP_IP4_TRUNC;
	memcpy(&ih, p->data + off, sizeof(ih));
	if (ih.version != 4)
		return XGW_DROP_IP4_VERSION;
	if (ih.ihl < 5)
		return XGW_DROP_IP4_IHL;
	hlen = (uint32_t)ih.ihl * 4;
	if (p->len - off < hlen)
		return XGW_DROP_IP4_TRUNC;
	/* A frame longer than tot_len is fine (Ethernet pads to 60 bytes). */
	tot = ntohs(ih.tot_len);
	if (tot < hlen || tot > p->len - off)
		return XGW_DROP_IP4_LEN;

	p->flags |= XGW_PKT_IPV4;
	p->l3_len = (uint16_t)tot;
	frag = ntohs(ih.frag_off);
	if (frag & (XGW_IP4_MF | XGW_IP4_OFFMASK)) {
		p->flags |= XGW_PKT_FRAG;
		if (frag & XGW_IP4_OFFMASK) {
			/* Only the first fragment carries the L4 header. */
			p->flags |= XGW_PKT_FRAG_LATER;
			p->l4_proto = ih.protocol;
			p->l4_off = (uint16_t)(off + hlen);
			p->payload_off = p->l4_off;
			return XGW_DROP_NONE;
		}
	}
	return parse_l4(p, off + hlen, off + tot, ih.protocol, 0);
}

static int parse_ip6(struct xgw_pkt *p, uint32_t off)
{
	const uint8_t *d = p->data;
	struct ipv6hdr ih;
	uint32_t plen, end;
	uint8_t nh;

	if (p->len - off < sizeof(ih))
		return XGW_DROP_IP6_TRUNC;
	memcpy(&ih, d + off, sizeof(ih));
	if (ih.version != 6)
		return XGW_DROP_IP6_VERSION;
	plen = ntohs(ih.payload_len);
	/* The second test keeps l3_len within its 16 bits. */
	if (plen > p->len - off - sizeof(ih) || plen + sizeof(ih) > UINT16_MAX)
		return XGW_DROP_IP6_LEN;

	p->flags |= XGW_PKT_IPV6;
	p->l3_len = (uint16_t)(plen + sizeof(ih));
	end = off + p->l3_len;
	off += sizeof(ih);
	nh = ih.nexthdr;

	for (int n = 0;; n++) {
		uint32_t hlen;

		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS &&
		    nh != IPPROTO_FRAGMENT)
			break;
		/* RFC 8200 4.3: hop-by-hop only directly after the IPv6 header. */
		if (n == XGW_IP6_MAX_EXT || (nh == IPPROTO_HOPOPTS && n != 0))
			return XGW_DROP_IP6_EXT;
		/* Every extension header starts with next-header and, except the
		 * fixed-size fragment header, its length in 8-byte units beyond
		 * the first 8. */
		if (end - off < 8)
			return XGW_DROP_IP6_EXT;
		if (nh == IPPROTO_FRAGMENT) {
			uint16_t frag = xgw_ld_be16(d + off + 2);

			p->flags |= XGW_PKT_FRAG;
			if (frag & XGW_IP6_FRAG_OFFMASK) {
				p->flags |= XGW_PKT_FRAG_LATER;
				p->l4_proto = d[off];
				p->l4_off = (uint16_t)(off + XGW_IP6_FRAG_HLEN);
				p->payload_off = p->l4_off;
				return XGW_DROP_NONE;
			}
			hlen = XGW_IP6_FRAG_HLEN;
		} else {
			hlen = ((uint32_t)d[off + 1] + 1) * 8;
			if (end - off < hlen)
				return XGW_DROP_IP6_EXT;
		}
		nh = d[off];
		off += hlen;
	}
	return parse_l4(p, off, end, nh, 1);
}

int xgw_parse(struct xgw_pkt *p)
{
	const uint8_t *d = p->data;
	uint32_t off = ETH_HLEN;
	uint16_t proto;

	if (xgw_parse_fast(p))
		return XGW_DROP_NONE;

	p->l3_off = 0;
	p->l4_off = 0;
	p->payload_off = 0;
	p->l3_len = 0;
	p->n_vlans = 0;
	p->l4_proto = 0;
	p->flags = 0;
	p->sport = 0;
	p->dport = 0;

	if (p->len < ETH_HLEN)
		return XGW_DROP_ETH_TRUNC;
	proto = xgw_ld_be16(d + offsetof(struct ethhdr, h_proto));

	while (proto == ETH_P_8021Q || proto == ETH_P_8021AD) {
		struct vlan_tag tag;

		if (p->n_vlans == XGW_MAX_VLANS)
			return XGW_DROP_VLAN_TOO_DEEP;
		if (p->len - off < sizeof(tag))
			return XGW_DROP_VLAN_TRUNC;
		memcpy(&tag, d + off, sizeof(tag));
		/* Host order, like skb->vlan_tci and DPDK's mbuf->vlan_tci. */
		p->vlan_tci[p->n_vlans++] = ntohs(tag.tci);
		proto = ntohs(tag.proto);
		off += sizeof(tag);
	}

	p->l3_off = (uint16_t)off;
	/* Start of L4 for frames that stop early, so that payload_off is never
	 * behind l3_off. */
	p->l4_off = (uint16_t)off;
	p->payload_off = (uint16_t)off;
	if (proto == ETH_P_IP)
		return parse_ip4(p, off);
	if (proto == ETH_P_IPV6)
		return parse_ip6(p, off);
	return XGW_DROP_NOT_IP;
}

int xgw_ip4_verify(struct xgw_pkt *p)
{
	const iphdr_u *ip = (const iphdr_u *)(p->data + p->l3_off);

	if (!(p->flags & XGW_PKT_IPV4))
		return 0;
	/* The option-less header is five loads: the loop over a variable
	 * length cost ~17 instructions more per packet. */
	if ((ip->ihl == 5 ? xgw_csum20(ip) : xgw_csum(ip, (size_t)ip->ihl * 4)) != 0)
		return XGW_DROP_IP4_CSUM;
	p->flags |= XGW_PKT_IP4_CSUM_OK;
	return 0;
}

int xgw_parse_verify_slow(struct xgw_pkt *p)
{
	int rc = xgw_parse(p);

	return rc ? rc : xgw_ip4_verify(p);
}

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
