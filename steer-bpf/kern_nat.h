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

/* Rewrite the destination (dir 0, DNAT) or the source (dir 1, reverse NAT)
 * address and port of a parsed TCP/UDP packet. */
static __always_inline void kdp_nat_rewrite(struct kdp_pkt *p, int src, __be32 addr, __be16 port)
{
	__be32 *a = src ? &p->ip->saddr : &p->ip->daddr;
	struct udphdr *uh = p->l4; /* ports at the same offsets in TCP */
	__be16 *pt = src ? &uh->source : &uh->dest;
	__u16 *l4c = kdp_l4_csum(p);

	if ((void *)(uh + 1) > p->end)
		return;

	csum_replace4(&p->ip->check, *a, addr);
	if (l4c) {
		csum_replace4(l4c, *a, addr); /* pseudo-header */
		csum_replace2(l4c, *pt, port);
	}
	*a = addr;
	*pt = port;
}

/* Decrement the TTL as a router does.  0 when it would reach 0: the
 * workers then answer with time exceeded. */
static __always_inline int kdp_ttl_dec(struct iphdr *ip)
{
	__u16 *w = (__u16 *)&ip->ttl; /* TTL and protocol share a word */
	__u16 old;

	if (ip->ttl <= 1)
		return 0;
	old = *w;
	ip->ttl--;
	csum_replace2(&ip->check, old, *w);
	return 1;
}

/* Echo request to a VIP: answered in place (addresses and MACs swapped,
 * TTL 64, type 0), as lb/nat.c's xgw_nat_icmp_echo_reply. */
static __always_inline int kdp_icmp_echo(struct kdp_pkt *p)
{
	struct icmphdr *ih = p->l4;
	__u8 mac[ETH_ALEN];
	__be32 t;
	__u16 old;

	if (ih->type != ICMP_ECHO || ih->code != 0)
		return 0;
	__builtin_memcpy(mac, p->eth->h_source, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, p->eth->h_dest, ETH_ALEN);
	__builtin_memcpy(p->eth->h_dest, mac, ETH_ALEN);
	t = p->ip->saddr; /* swapping the addresses leaves every sum as it is */
	p->ip->saddr = p->ip->daddr;
	p->ip->daddr = t;
	old = *(__u16 *)&p->ip->ttl;
	p->ip->ttl = 64;
	csum_replace2(&p->ip->check, old, *(__u16 *)&p->ip->ttl);
	old = *(__u16 *)ih;
	ih->type = ICMP_ECHOREPLY;
	csum_replace2(&ih->checksum, old, *(__u16 *)ih);
	return 1;
}

#endif
