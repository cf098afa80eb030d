/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel datapath, next hop: bpf_fib_lookup for the translated packet
 * (for a connection's packets resolved before the translation and cached
 * in its entry, so that one too big can be handed on untouched), then
 * XDP_TX when the route leaves by the receiving interface (one-arm) or
 * bpf_redirect_map into the devmap of xgw's ports (two-arm).
 *
 * Where the kernel has no neighbour entry yet, the translated packet is
 * passed to the stack (counted pass_no_neighbour), which forwards it and
 * resolves the neighbour; later packets go out from XDP.  bpf_fib_lookup
 * requires forwarding on the receiving interface
 * (net.ipv4.conf.IF.forwarding=1, net.ipv6.conf.IF.forwarding=1): without it the lookup answers
 * "forwarding disabled" and the packet is dropped as no_route. */
#ifndef XGW_KERN_FIB_H
#define XGW_KERN_FIB_H

/* The source address the kernel would use towards dst, for SNAT
 * (BPF_FIB_LOOKUP_SRC: kernel 6.5); 0 on success. */
static __noinline int kdp_fib_src(struct xdp_md *ctx, __u8 family, const void *dst, __u32 *src)
{
	struct bpf_fib_lookup f = {};

	f.family = family;
	f.ifindex = ctx->ingress_ifindex;
	if (family == AF_INET)
		__builtin_memcpy(&f.ipv4_dst, dst, 4);
	else
		__builtin_memcpy(f.ipv6_dst, dst, 16);
	if (bpf_fib_lookup(ctx, &f, sizeof(f), BPF_FIB_LOOKUP_SRC | BPF_FIB_LOOKUP_SKIP_NEIGH))
		return -1;
	__builtin_memset(src, 0, 16);
	if (family == AF_INET)
		src[0] = f.ipv4_src;
	else
		__builtin_memcpy(src, f.ipv6_src, 16);
	return 0;
}

/* Send the packet, its MACs written, out by ifindex; counted in cnt. */
static __always_inline int kdp_nh_xmit(struct xdp_md *ctx, __u32 ifindex, struct xgw_kdp_cnt *cnt)
{
	if (ifindex == ctx->ingress_ifindex) {
		kdp_cnt_add(cnt, XGW_KDP_CNT_TX);
		return XDP_TX;
	}
	kdp_cnt_add(cnt, XGW_KDP_CNT_REDIRECT);
	return bpf_redirect_map(&kdp_tx_ports, ifindex, XDP_DROP);
}

/* Send p to the next hop nh (ifindex, MACs); counted in cnt. */
static __always_inline int kdp_nh_send(struct xdp_md *ctx, struct kdp_pkt *p, __u32 ifindex,
				       const __u8 *dmac, const __u8 *smac, struct xgw_kdp_cnt *cnt)
{
	__builtin_memcpy(p->eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, smac, ETH_ALEN);
	return kdp_nh_xmit(ctx, ifindex, cnt);
}

/* The cached next hop's MACs into p's Ethernet header in six 16-bit
 * moves: nh_dmac and nh_smac lie as h_dest and h_source do, and memcpy of
 * a 6-byte field whose alignment clang cannot see is six byte loads and
 * six byte stores each. */
_Static_assert(__builtin_offsetof(struct xgw_kdp_ct, nh_smac) ==
		       __builtin_offsetof(struct xgw_kdp_ct, nh_dmac) + ETH_ALEN &&
		   __builtin_offsetof(struct xgw_kdp_ct, nh_dmac) % 2 == 0,
	       "nh_dmac, nh_smac: the Ethernet header's order, 2-aligned");
static __always_inline void kdp_nh_macs(struct kdp_pkt *p, const struct xgw_kdp_ct *c)
{
	const __u16 *m = (const __u16 *)c->nh_dmac;
	__u16 *e = (__u16 *)p->eth;

#pragma unroll
	for (int i = 0; i < 6; i++)
		e[i] = m[i];
}

/* Route p (translated, of no connection entry: an ICMP error about one)
 * out: bpf_fib_lookup, then the send.  A subprogram, so that its 64-byte
 * query is off the main stack frame. */
static __noinline int kdp_fib_out(struct xdp_md *ctx, struct kdp_pkt *p)
{
	struct bpf_fib_lookup f = {};
	int rc;

	f.family = p->family;
	f.l4_protocol = p->proto;
	f.sport = p->sport;
	f.dport = p->dport;
	f.tot_len = (__u16)p->len;
	if (p->ip) {
		f.tos = p->ip->tos;
		f.ipv4_src = p->ip->saddr;
		f.ipv4_dst = p->ip->daddr;
	} else if (p->ip6) {
		__builtin_memcpy(f.ipv6_src, &p->ip6->saddr, 16);
		__builtin_memcpy(f.ipv6_dst, &p->ip6->daddr, 16);
	}
	f.ifindex = ctx->ingress_ifindex;
	rc = bpf_fib_lookup(ctx, &f, sizeof(f), 0);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		kdp_count(XGW_KDP_CNT_PASS_NEIGH);
		return XDP_PASS;
	}
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return kdp_drop(XGW_DROP_MTU);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return kdp_drop(XGW_DROP_NO_ROUTE);
	if (f.ifindex != ctx->ingress_ifindex && !bpf_map_lookup_elem(&kdp_tx_ports, &f.ifindex))
		return kdp_drop(XGW_DROP_NO_PORT);
	return kdp_nh_send(ctx, p, f.ifindex, f.dmac, f.smac, kdp_cnts());
}

/* A successful lookup f into c's next-hop cache, for cfg->nh_ttl jiffies:
 * 0, or -XGW_DROP_NO_PORT when it leaves by an interface xgw cannot
 * redirect to.  The tunnel's outer next hop (kern_tun.h) too. */
static __always_inline int kdp_nh_store(struct xdp_md *ctx, const struct xgw_kdp_cfg *cfg,
					struct xgw_kdp_ct *c, const struct bpf_fib_lookup *f,
					__u64 now)
{
	__u32 ifindex = f->ifindex;

	if (ifindex != ctx->ingress_ifindex && !bpf_map_lookup_elem(&kdp_tx_ports, &ifindex))
		return -XGW_DROP_NO_PORT;
	c->nh_ifindex = ifindex;
	__builtin_memcpy(c->nh_dmac, f->dmac, ETH_ALEN);
	__builtin_memcpy(c->nh_smac, f->smac, ETH_ALEN);
	/* On success the lookup reports the MTU it checked tot_len against
	 * (the route's, else the device's; kernel 5.12). */
	c->nh_mtu = f->mtu_result;
	c->nh_until = now + cfg->nh_ttl;
	return 0;
}

/* What kdp_nh_resolve found besides a usable next hop (0). */
#define KDP_NH_NO_NEIGH 1 /* translate, then pass to the stack */
#define KDP_NH_TOO_BIG	2 /* the packet does not fit the egress MTU */
#define KDP_NH_UNSET	3 /* kdp_new_flow's: no refresh made (tunnels) */

/* Refresh c's cached next hop for the packet this direction sends once
 * translated, before it is translated: the query's tuple is the reverse
 * of c->other (for the orig entry the reply tuple, backend -> client or
 * SNAT address; for the reply entry the orig tuple, client -> VIP), so
 * that a packet too big for the egress can still be handed on untouched.
 * 0, KDP_NH_*, or minus a drop reason.  A subprogram: its 64-byte query
 * stays off the main stack frame (once a second per direction). */
static __noinline int kdp_nh_refresh(struct xdp_md *ctx, const struct xgw_kdp_cfg *cfg,
				     const struct kdp_pkt *p, struct xgw_kdp_ct *c, __u64 now)
{
	struct bpf_fib_lookup f = {};
	int rc;

	f.family = p->family;
	f.l4_protocol = p->proto;
	f.sport = c->other.dport;
	f.dport = c->other.sport;
	f.tot_len = (__u16)p->len;
	if (p->ip) {
		f.tos = p->ip->tos;
		__builtin_memcpy(&f.ipv4_src, c->other.dst, 4);
		__builtin_memcpy(&f.ipv4_dst, c->other.src, 4);
	} else {
		__builtin_memcpy(f.ipv6_src, c->other.dst, 16);
		__builtin_memcpy(f.ipv6_dst, c->other.src, 16);
	}
	f.ifindex = ctx->ingress_ifindex;
	rc = bpf_fib_lookup(ctx, &f, sizeof(f), 0);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return KDP_NH_NO_NEIGH;
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED) {
		/* a route's MTU, or the device's: what an ICMP error about p
		 * reports (kern_toobig.h); the cache stays stale */
		c->nh_mtu = f.mtu_result;
		return KDP_NH_TOO_BIG;
	}
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return -XGW_DROP_NO_ROUTE;
	return kdp_nh_store(ctx, cfg, c, &f, now);
}

/* The next hop of connection entry c's direction for p (not yet
 * translated): the cache while fresh, each packet checked against the
 * MTU the lookup reported (a change of it is seen at the next refresh, at
 * most XGW_KDP_NH_CACHE_NS later).  As kdp_nh_refresh. */
static __always_inline int kdp_nh_resolve(struct xdp_md *ctx, const struct xgw_kdp_cfg *cfg,
					  const struct kdp_pkt *p, struct xgw_kdp_ct *c, __u64 now)
{
	int rc = now < c->nh_until ? 0 : kdp_nh_refresh(ctx, cfg, p, c, now);

	if (!rc && p->len > c->nh_mtu)
		return KDP_NH_TOO_BIG;
	return rc;
}

/* Send the translated p by what kdp_nh_resolve said (rc); counted in
 * cnt, the packet's counters (kdp_cnts). */
static __always_inline int kdp_nh_out(struct xdp_md *ctx, struct kdp_pkt *p,
				      const struct xgw_kdp_ct *c, int rc, struct xgw_kdp_cnt *cnt)
{
	if (rc == KDP_NH_NO_NEIGH) {
		kdp_cnt_add(cnt, XGW_KDP_CNT_PASS_NEIGH);
		return XDP_PASS;
	}
	if (rc < 0)
		return kdp_drop((__u32)-rc);
	kdp_nh_macs(p, c);
	return kdp_nh_xmit(ctx, c->nh_ifindex, cnt);
}

#endif
