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

/* The one's complement sum of v's two 16-bit words (as they sit in
 * memory: a sum does not depend on the words' order). */
static __always_inline __u64 csum_w32(__u32 v)
{
	return (v & 0xffff) + (v >> 16);
}

/* s (a sum of fewer than 2^16 16-bit terms) folded to 16 bits. */
static __always_inline __u16 csum_fold(__u64 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)(s + (s >> 16));
}

/* HC' = ~(~HC + delta), delta the sum of ~m + m' over every word changed
 * (RFC 1624, eqn. 3, for all of them at once). */
static __always_inline void csum_apply(__u16 *sum, __u64 delta)
{
	*sum = ~csum_fold((__u64)(__u16) ~*sum + delta);
}

/* DNAT (dst: the destination address and port become da, dp) and / or
 * source NAT (src: the source's become sa, sp) of a parsed TCP/UDP
 * packet, with the TTL / hop limit step: each checksum is updated once, by
 * the sum of all the changes, not once per 16-bit word changed (which
 * cost a connection's packet ~60 BPF instructions more). */
static __always_inline void kdp_nat_xlate(struct kdp_pkt *p, int dst, const __u32 *da, __be16 dp,
					  int src, const __u32 *sa, __be16 sp)
{
	struct udphdr *uh = p->l4; /* ports at the same offsets in TCP */
	__u16 *l4c = kdp_l4_csum(p);
	__u64 a = 0; /* the addresses' change: IPv4 header, pseudo-header */

	if ((void *)(uh + 1) > p->end) {
		kdp_ttl_dec(p);
		return;
	}
	if (p->ip) {
		struct iphdr *ip = p->ip;
		__u16 *w = (__u16 *)&ip->ttl; /* TTL and protocol share a word */
		__u16 old = *w;

		if (dst) {
			a += csum_w32(~ip->daddr) + csum_w32(da[0]);
			ip->daddr = da[0];
		}
		if (src) {
			a += csum_w32(~ip->saddr) + csum_w32(sa[0]);
			ip->saddr = sa[0];
		}
		ip->ttl--;
		csum_apply(&ip->check, a + (__u16)~old + *w);
	} else if (p->ip6) {
		__u32 *d = (__u32 *)&p->ip6->daddr, *s = (__u32 *)&p->ip6->saddr;

#pragma unroll
		for (int i = 0; i < 4; i++) {
			if (dst) {
				a += csum_w32(~d[i]) + csum_w32(da[i]);
				d[i] = da[i];
			}
			if (src) {
				a += csum_w32(~s[i]) + csum_w32(sa[i]);
				s[i] = sa[i];
			}
		}
		p->ip6->hop_limit--; /* covered by no checksum */
	}
	if (dst) {
		a += (__u16)~uh->dest + (__u16)dp;
		uh->dest = dp;
	}
	if (src) {
		a += (__u16)~uh->source + (__u16)sp;
		uh->source = sp;
	}
	if (l4c) {
		csum_apply(l4c, a);
		/* A UDP sum that comes to 0 is sent as 0xffff (RFC 768): 0
		 * would say "no checksum" (IPv4) or be invalid (IPv6). */
		if (p->proto == IPPROTO_UDP && !*l4c)
			*l4c = 0xffff;
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
