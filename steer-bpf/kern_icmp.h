/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel datapath, ICMP errors about kernel connections: lb/nat.c's
 * xgw_nat_icmp_error, for the LRU conntrack.  An ICMP or ICMPv6 error
 * (destination unreachable incl. fragmentation needed / packet too big,
 * time exceeded, parameter problem) that quotes a TCP or UDP packet of a
 * live kernel connection is translated the way its quote came: the quote
 * gets back the addresses and ports its sender used (inner IPv4 checksum,
 * inner L4 checksum when quoted), the error goes to that sender, and an
 * outer source that is the translated peer itself (a backend's port
 * unreachable) becomes the address the sender knows (the VIP).  Then it is
 * routed like the connection's packets (TTL, bpf_fib_lookup).
 *
 * The quote is read at fixed offsets: the outer header has no options
 * (kern_parse.h hands those on) and the quoted IPv4 header must have none
 * either, the quoted IPv6 header no extension headers; such errors, and
 * errors about anything else, are handed on to the steering rules, as
 * before (the workers translate what they track). */
#ifndef XGW_KERN_ICMP_H
#define XGW_KERN_ICMP_H

struct kicmp {
	struct xgw_kdp_ct *c;	   /* the entry the reversed quote names */
	struct xgw_kdp_ct_key key; /* that reversed quote (the entry's key) */
};

static __always_inline int kicmp_is_error(const struct kdp_pkt *p, __u8 type)
{
	if (p->ip)
		return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
		       type == ICMP_PARAMETERPROB;
	return type == ICMPV6_DEST_UNREACH || type == ICMPV6_PKT_TOOBIG ||
	       type == ICMPV6_TIME_EXCEED || type == ICMPV6_PARAMPROB;
}

/* Offsets from the outer IP header: ICMP header, quoted IP header, quoted
 * L4 header (8 bytes of it at least). */
#define KICMP4_IL3 (20 + 8)
#define KICMP4_IL4 (KICMP4_IL3 + 20)
#define KICMP6_IL3 (40 + 8)
#define KICMP6_IL4 (KICMP6_IL3 + 40)

/* 1 with q filled when p (parsed ICMP or ICMPv6) is an error quoting a
 * TCP/UDP packet of a live kernel connection; 0 otherwise.  Reads only. */
static __always_inline int kicmp_find(const struct xgw_kdp_cfg *cfg, const struct kdp_pkt *p,
				      struct kicmp *q, __u64 now)
{
	__u8 *l3 = p->ip ? (__u8 *)p->ip : (__u8 *)p->ip6, *il4, iproto;
	struct xgw_kdp_ct *o;
	__u32 s[4] = {}, d[4] = {};

	if (!l3 || (void *)(l3 + 8) > p->end)
		return 0;
	if (p->ip) {
		struct iphdr *iip = (void *)(l3 + KICMP4_IL3);
		il4 = l3 + KICMP4_IL4;
		if ((void *)(il4 + 8) > p->end || p->len < KICMP4_IL4 + 8)
			return 0;
		if (!kicmp_is_error(p, l3[20]))
			return 0;
		/* A quoted later fragment has no ports. */
		if (iip->version != 4 || iip->ihl != 5 || (iip->frag_off & bpf_htons(0x1fff)))
			return 0;
		iproto = iip->protocol;
		s[0] = iip->saddr;
		d[0] = iip->daddr;
	} else {
		struct ipv6hdr *iip = (void *)(l3 + KICMP6_IL3);
		il4 = l3 + KICMP6_IL4;
		if ((void *)(il4 + 8) > p->end || p->len < KICMP6_IL4 + 8)
			return 0;
		if (!kicmp_is_error(p, l3[40]) || iip->version != 6)
			return 0;
		iproto = iip->nexthdr;
		__builtin_memcpy(s, &iip->saddr, 16);
		__builtin_memcpy(d, &iip->daddr, 16);
	}
	if (iproto != IPPROTO_TCP && iproto != IPPROTO_UDP)
		return 0;
	/* The quote is a packet sent after translation; the error travels
	 * the other way, so its connection is found under the reverse. */
	kct_key(&q->key, d, s, *(__be16 *)(il4 + 2), *(__be16 *)il4, iproto, p->family);
	q->c = kct_lookup(&q->key);
	if (!q->c)
		return 0;
	o = q->c->dir == 0 ? q->c : kct_lookup(&q->c->other);
	return o && !kct_expired(cfg, o, iproto, now);
}

/* Apply a one's-complement difference (RFC 1624: HC' = ~(~HC + m' - m);
 * bpf_csum_diff's sums and 16-bit steps added up) to a checksum. */
static __always_inline __u16 kicmp_apply(__u16 cs, __u64 acc)
{
	acc += (__u16)~cs;
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return (__u16)~acc;
}

/* Are the n 16-bit words at x and y equal? */
static __always_inline int kicmp_same(const void *x, const void *y, int n)
{
	const __u16 *a = x, *b = y;
	__u16 diff = 0;

#pragma unroll
	for (int i = 0; i < 8; i++)
		if (i < n)
			diff |= a[i] ^ b[i];
	return !diff;
}

static __always_inline __u64 kicmp_step(__u16 old, __u16 nw)
{
	return (__u16)~old + (__u64)nw;
}

/* The rewrite of kicmp_find's error for one family (alen: address bytes;
 * sa: source address offset in an IP header; il3, il4: offsets of the
 * quote from the outer IP header), as xgw_nat_icmp_error does it. */
static __always_inline void kicmp_xlate(struct kdp_pkt *p, const struct kicmp *q, __u8 *l3,
					const int alen, const int sa, const int il3_off,
					const int il4_off)
{
	const struct xgw_kdp_ct_key *o = &q->c->other; /* the quote's original form */
	__u8 *il3 = l3 + il3_off, *il4 = l3 + il4_off, *ic = l3 + il3_off - 8, proto;
	__u64 dh, dl, di, dip;
	__u16 old, nw;

	if ((void *)(il4 + 8) > p->end)
		return;
	proto = alen == 4 ? il3[9] : il3[6];
	/* Quote: addresses, ports, then its checksums. */
	dh = (__u32)bpf_csum_diff((void *)(il3 + sa), alen, (void *)o->src, alen, 0);
	dh += (__u32)bpf_csum_diff((void *)(il3 + sa + alen), alen, (void *)o->dst, alen, 0);
	dl = dh + (__u32)bpf_csum_diff((void *)il4, 4, (void *)&o->sport, 4, 0);
	di = dl;
	__builtin_memcpy(il3 + sa, o->src, alen);
	__builtin_memcpy(il3 + sa + alen, o->dst, alen);
	*(__be16 *)il4 = o->sport;
	*(__be16 *)(il4 + 2) = o->dport;
	if (alen == 4) {
		struct iphdr *iip = (void *)il3;
		old = iip->check;
		nw = kicmp_apply(old, dh);
		iip->check = nw;
		di += kicmp_step(old, nw);
	}
	/* The quoted L4 checksum, where the quote holds it. */
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = (void *)il4;
		if (p->len >= (__u32)il4_off + 18 && (void *)(th + 1) <= p->end) {
			old = th->check;
			nw = kicmp_apply(old, dl);
			th->check = nw;
			di += kicmp_step(old, nw);
		}
	} else {
		struct udphdr *uh = (void *)il4;
		old = uh->check;
		nw = old;
		if (!(alen == 4 && old == 0)) { /* IPv4 UDP without checksum stays so */
			nw = kicmp_apply(old, dl);
			if (nw == 0)
				nw = 0xffff;
		}
		uh->check = nw;
		di += kicmp_step(old, nw);
	}
	/* Outer: to the quote's sender; from the address it knows when the
	 * error came from the translated peer itself. */
	dip = (__u32)bpf_csum_diff((void *)(l3 + sa + alen), alen, (void *)o->src, alen, 0);
	__builtin_memcpy(l3 + sa + alen, o->src, alen);
	if (kicmp_same(l3 + sa, q->key.src, alen / 2)) {
		dip += (__u32)bpf_csum_diff((void *)(l3 + sa), alen, (void *)o->dst, alen, 0);
		__builtin_memcpy(l3 + sa, o->dst, alen);
	}
	if (alen == 4)
		p->ip->check = kicmp_apply(p->ip->check, dip);
	else
		di += dip; /* ICMPv6 covers the pseudo-header */
	old = *(__u16 *)(ic + 2);
	*(__u16 *)(ic + 2) = kicmp_apply(old, di);
	/* p's view of the outer addresses, for the next hop */
	__builtin_memcpy(p->src, l3 + sa, alen);
	__builtin_memcpy(p->dst, l3 + sa + alen, alen);
}

/* A subprogram: only errors pay the call, and its frame is off the main
 * one. */
static __noinline void kicmp_translate(struct kdp_pkt *p, const struct kicmp *q)
{
	if (p->ip)
		kicmp_xlate(p, q, (__u8 *)p->ip, 4, 12, KICMP4_IL3, KICMP4_IL4);
	else if (p->ip6)
		kicmp_xlate(p, q, (__u8 *)p->ip6, 16, 8, KICMP6_IL3, KICMP6_IL4);
}

#endif
