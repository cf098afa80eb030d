/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel datapath, NAT: DNAT towards the backend, reverse NAT of its
 * replies, the TTL step and the ICMP echo reply, all with incremental
 * checksums (RFC 1624: HC' = ~(~HC + ~m + m')), on 16-bit words as they
 * sit in memory, so no byte swapping is needed. */
#ifndef XGW_KERN_NAT_H
#define XGW_KERN_NAT_H

static __always_inline __u16 csum16_add(__u16 a, __u16 b)
{
	__u32 r = (__u32)a + b;

	return (__u16)(r + (r >> 16));
}

static __always_inline void csum_replace2(__u16 *sum, __u16 from, __u16 to)
{
	*sum = ~csum16_add(csum16_add(~*sum, ~from), to);
}

static __always_inline void csum_replace4(__u16 *sum, __u32 from, __u32 to)
{
	csum_replace2(sum, (__u16)(from >> 16), (__u16)(to >> 16));
	csum_replace2(sum, (__u16)from, (__u16)to);
}

/* The L4 checksum field of p, or NULL where none is to be kept (UDP sent
 * without a checksum). */
static __always_inline __u16 *kdp_l4_csum(struct kdp_pkt *p)
{
	struct tcphdr *th = p->l4;
	struct udphdr *uh = p->l4;

	/* Bounds again: the verifier may have merged the TCP and UDP paths. */
	if (p->proto == IPPROTO_TCP)
		return (void *)(th + 1) <= p->end ? &th->check : 0;
	if ((void *)(uh + 1) <= p->end && uh->check)
		return &uh->check;
	return 0;
}

/* Rewrite the destination (src 0, DNAT) or the source (src 1, reverse NAT)
 * address (16 bytes, v4 in the first 4) and port of a parsed TCP/UDP
 * packet. */
static __always_inline void kdp_nat_rewrite(struct kdp_pkt *p, int src, const __u32 *addr,
					    __be16 port)
{
	struct udphdr *uh = p->l4; /* ports at the same offsets in TCP */
	__be16 *pt = src ? &uh->source : &uh->dest;
	__u16 *l4c = kdp_l4_csum(p);

	if ((void *)(uh + 1) > p->end)
		return;
	if (p->ip) {
		__be32 *a = src ? &p->ip->saddr : &p->ip->daddr;

		csum_replace4(&p->ip->check, *a, addr[0]);
		if (l4c)
			csum_replace4(l4c, *a, addr[0]); /* pseudo-header */
		*a = addr[0];
	} else if (p->ip6) {
		__u32 *a = src ? (__u32 *)&p->ip6->saddr : (__u32 *)&p->ip6->daddr;

#pragma unroll
		for (int w = 0; w < 4; w++) {
			if (l4c) /* no IP checksum in IPv6; the pseudo-header */
				csum_replace4(l4c, a[w], addr[w]);
			a[w] = addr[w];
		}
	}
	if (l4c)
		csum_replace2(l4c, *pt, port);
	*pt = port;
}

/* The TTL or hop limit. */
static __always_inline __u8 kdp_ttl(const struct kdp_pkt *p)
{
	return p->ip ? p->ip->ttl : p->ip6 ? p->ip6->hop_limit : 0;
}

/* Decrement the TTL / hop limit as a router does (the caller checked it
 * is above 1: the workers answer time exceeded). */
static __always_inline void kdp_ttl_dec(struct kdp_pkt *p)
{
	if (p->ip) {
		__u16 *w = (__u16 *)&p->ip->ttl; /* TTL and protocol share a word */
		__u16 old = *w;

		p->ip->ttl--;
		csum_replace2(&p->ip->check, old, *w);
	} else if (p->ip6) {
		p->ip6->hop_limit--; /* covered by no checksum */
	}
}

/* Echo request to a VIP: answered in place (addresses and MACs swapped,
 * TTL / hop limit 64, type echo reply), as lb/nat.c's
 * xgw_nat_icmp_echo_reply.  Swapping the addresses leaves every sum as it
 * is (ICMPv6's pseudo-header included). */
static __always_inline int kdp_icmp_echo(struct kdp_pkt *p)
{
	struct icmphdr *ih = p->l4;
	__u8 mac[ETH_ALEN];
	__u16 old;

	if ((void *)(ih + 1) > p->end || ih->code != 0)
		return 0;
	if (p->ip ? ih->type != ICMP_ECHO : ih->type != ICMPV6_ECHO_REQUEST)
		return 0;
	__builtin_memcpy(mac, p->eth->h_source, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, p->eth->h_dest, ETH_ALEN);
	__builtin_memcpy(p->eth->h_dest, mac, ETH_ALEN);
	if (p->ip) {
		__be32 t = p->ip->saddr;

		p->ip->saddr = p->ip->daddr;
		p->ip->daddr = t;
		old = *(__u16 *)&p->ip->ttl;
		p->ip->ttl = 64;
		csum_replace2(&p->ip->check, old, *(__u16 *)&p->ip->ttl);
	} else if (p->ip6) {
		struct in6_addr t = p->ip6->saddr;

		p->ip6->saddr = p->ip6->daddr;
		p->ip6->daddr = t;
		p->ip6->hop_limit = 64;
	} else {
		return 0;
	}
	old = *(__u16 *)ih;
	ih->type = p->ip ? ICMP_ECHOREPLY : ICMPV6_ECHO_REPLY;
	csum_replace2(&ih->checksum, old, *(__u16 *)ih);
	return 1;
}

#endif
