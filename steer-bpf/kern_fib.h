/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel datapath, next hop: bpf_fib_lookup on the translated packet, then
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

/* Send p to the cached next hop nh (ifindex, MACs). */
static __always_inline int kdp_nh_send(struct xdp_md *ctx, struct kdp_pkt *p, __u32 ifindex,
				       const __u8 *dmac, const __u8 *smac)
{
	__builtin_memcpy(p->eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, smac, ETH_ALEN);
	if (ifindex == ctx->ingress_ifindex) {
		kdp_count(XGW_KDP_CNT_TX);
		return XDP_TX;
	}
	kdp_count(XGW_KDP_CNT_REDIRECT);
	return bpf_redirect_map(&kdp_tx_ports, ifindex, XDP_DROP);
}

/* kdp_fib_out without a fresh cached next hop: a subprogram, so that its
 * 64-byte query is off the main stack frame (at most once a second per
 * connection and direction). */
static __noinline int kdp_fib_lookup_out(struct xdp_md *ctx, struct kdp_pkt *p,
					 struct xgw_kdp_ct *c, __u64 now)
{
	struct bpf_fib_lookup f = {};
	int rc;

	f.family = p->family;
	f.l4_protocol = p->proto;
	f.sport = p->sport;
	f.dport = p->dport;
	if (p->ip) {
		f.tos = p->ip->tos;
		f.tot_len = bpf_ntohs(p->ip->tot_len);
		f.ipv4_src = p->ip->saddr;
		f.ipv4_dst = p->ip->daddr;
	} else if (p->ip6) {
		f.tot_len = bpf_ntohs(p->ip6->payload_len) + sizeof(struct ipv6hdr);
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
	if (c) {
		c->nh_ifindex = f.ifindex;
		__builtin_memcpy(c->nh_dmac, f.dmac, ETH_ALEN);
		__builtin_memcpy(c->nh_smac, f.smac, ETH_ALEN);
		c->nh_until = now + XGW_KDP_NH_CACHE_NS;
	}
	return kdp_nh_send(ctx, p, f.ifindex, f.dmac, f.smac);
}

/* c: the conntrack entry of this direction, whose cached next hop is used
 * while fresh and refreshed from bpf_fib_lookup otherwise (NULL: none). */
static __always_inline int kdp_fib_out(struct xdp_md *ctx, struct kdp_pkt *p, struct xgw_kdp_ct *c,
				       __u64 now)
{
	if (c && now < c->nh_until)
		return kdp_nh_send(ctx, p, c->nh_ifindex, c->nh_dmac, c->nh_smac);
	return kdp_fib_lookup_out(ctx, p, c, now);
}

#endif
