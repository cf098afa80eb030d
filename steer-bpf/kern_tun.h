/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel datapath, tunnels: VXLAN (RFC 7348) and Geneve (RFC 8926) over
 * IPv4 towards the tunnel backends of kernel services, as the workers'
 * tunnel stage does it (tunnel/tunnel.h, tunnel/codec.c, tunnel/stage.c).
 *
 * Encap: after DNAT, a packet whose destination (backend, port, proto) is
 * behind a tunnel gets the endpoint's 64-byte template (made by xgwd with
 * the workers' xgw_tun_ep_init) in front of its IP header through
 * bpf_xdp_adjust_head; per packet the outer MACs, the lengths, the outer
 * IPv4 checksum (from the template's folded sum) and the UDP source port
 * (49152 | the flow hash's low 14 bits) are patched; the inner source MAC,
 * and the inner destination where the endpoint names none, are the egress
 * port's; Ethernet padding is trimmed.  The outer next hop (the remote's)
 * is cached in the connection entry like any next hop (kern_fib.h).
 *
 * Decap: a UDP packet to tunnel.local_ip on the VXLAN or Geneve port from
 * a kernel service's endpoint (type, VNI, outer source) is validated as
 * the workers do (VXLAN I flag; Geneve version 0, protocol 0x6558, no OAM
 * bit, no C bit, options walked as TLVs, none critical) and, when its
 * inner packet is the reply of a kernel connection (or an ICMP error about
 * one), the frame is moved to the inner Ethernet header and goes on as
 * that reply.
 *
 * Handed on untouched to the steering rules, and so to the workers, whose
 * tunnel table holds the kernel services' endpoints too (counted as
 * punted_to_user):
 *  - a tunnel packet from a kernel endpoint that fails a check (the workers
 *    drop it with the named reason), has more than XGW_KDP_GENEVE_OPTS_MAX
 *    Geneve options, or whose inner packet is not for a kernel connection
 *    (a user service's flow through the same endpoint);
 *  - a packet to a tunnel backend that would exceed the egress MTU once
 *    encapsulated (the workers answer fragmentation needed / packet too
 *    big, or count exceeds_mtu), or whose outer next hop has no neighbour
 *    entry yet (the workers ask the kernel to resolve it).
 * Tunnel packets from endpoints of user services only are the workers'
 * and are not counted. */
#ifndef XGW_KERN_TUN_H
#define XGW_KERN_TUN_H

#define KTUN_VXLAN	  1 /* enum xgw_tun_kind */
#define KTUN_GENEVE	  2
#define KTUN_OUTER_LEN	  50 /* outer Ethernet, IPv4, UDP, VXLAN/Geneve: 14 + 20 + 8 + 8 */
#define KTUN_SPORT_MIN	  49152
#define KTUN_VXLAN_I	  0x08
#define KTUN_GENEVE_O	  0x80
#define KTUN_GENEVE_C	  0x40
#define KTUN_GENEVE_CRIT  0x80
#define KTUN_NOT_OURS	  0 /* no tunnel packet to us */
#define KTUN_DECAPSULATED 1 /* p is the inner packet now */
#define KTUN_HAND_ON	  2 /* untouched, to the steering rules */
#define KTUN_DROP	  3

/* The endpoint behind a connection's backend (rt: the reply tuple, whose
 * source is the backend), or NULL. */
static __always_inline struct xgw_kdp_tun *ktun_ep(const struct xgw_kdp_ct_key *rt)
{
	struct xgw_kdp_svc_key k = {.port = rt->sport, .proto = rt->proto, .family = rt->family};

	__builtin_memcpy(k.addr, rt->src, 16);
	return bpf_map_lookup_elem(&kdp_tun_enc, &k);
}

/* The outer next hop (the remote), refreshed into c: 0, KTUN_HAND_ON (no
 * neighbour entry yet) or minus a drop reason.  A subprogram, as
 * kdp_nh_refresh. */
static __noinline int ktun_next_hop(struct xdp_md *ctx, const struct xgw_kdp_cfg *cfg,
				    const struct xgw_kdp_tun *ep, struct xgw_kdp_ct *c, __u64 now)
{
	struct bpf_fib_lookup f = {};
	int rc;

	f.family = AF_INET;
	f.l4_protocol = IPPROTO_UDP;
	f.ipv4_src = cfg->tun_local;
	f.ipv4_dst = ep->remote;
	f.ifindex = ctx->ingress_ifindex;
	rc = bpf_fib_lookup(ctx, &f, sizeof(f), 0);
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return KTUN_HAND_ON;
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return -XGW_DROP_NO_ROUTE;
	return kdp_nh_store(ctx, cfg, c, &f, now);
}

/* The orig-direction packet p of connection c (not yet translated) to a
 * backend behind ep: next hop, MTU, DNAT, encap, out.  An XDP verdict, or
 * KDP_CONTINUE (handed on untouched). */
static __always_inline int ktun_out(struct xdp_md *ctx, const struct xgw_kdp_cfg *cfg,
				    struct kdp_pkt *p, struct xgw_kdp_ct *c,
				    const struct xgw_kdp_tun *ep, __u64 now)
{
	__u32 mtu, l3len = p->len, flen, ifindex;
	__u16 iplen, tl, ul, sp, ck;
	void *data, *end;
	__u8 *h;
	int rc, v6 = p->family == AF_INET6;

	rc = now < c->nh_until ? 0 : ktun_next_hop(ctx, cfg, ep, c, now);
	if (rc < 0)
		return kdp_drop((__u32)-rc);
	if (rc == KTUN_HAND_ON) {
		kdp_count(XGW_KDP_CNT_PUNT);
		return KDP_CONTINUE;
	}
	ifindex = c->nh_ifindex;
	/* The outer packet must fit the egress MTU (the workers: inner IP
	 * length at most MTU - 50). */
	mtu = l3len + KTUN_OUTER_LEN;
	if (bpf_check_mtu(ctx, ifindex, &mtu, 0, 0)) {
		kdp_count(XGW_KDP_CNT_PUNT);
		return KDP_CONTINUE;
	}
	kdp_nat_xlate(p, 1, (const __u32 *)c->other.src, c->other.sport, 0, 0, 0);
	/* The frame becomes outer headers + the IP packet: padding goes. */
	flen = (__u32)((long)ctx->data_end - (long)ctx->data);
	if (flen > ETH_HLEN + l3len && bpf_xdp_adjust_tail(ctx, -(int)(flen - ETH_HLEN - l3len)))
		return kdp_drop(XGW_DROP_TUNNEL_HEADROOM);
	if (bpf_xdp_adjust_head(ctx, -(XGW_KDP_TUN_TMPL_LEN - ETH_HLEN)))
		return kdp_drop(XGW_DROP_TUNNEL_HEADROOM);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	h = data;
	if ((void *)(h + XGW_KDP_TUN_TMPL_LEN) > end)
		return kdp_drop(XGW_DROP_TUNNEL_HEADROOM);
	__builtin_memcpy(h, ep->tmpl, XGW_KDP_TUN_TMPL_LEN);
	__builtin_memcpy(h, c->nh_dmac, ETH_ALEN);
	__builtin_memcpy(h + 6, c->nh_smac, ETH_ALEN);
	iplen = (__u16)(XGW_KDP_TUN_TMPL_LEN - ETH_HLEN + l3len);
	tl = bpf_htons(iplen);
	ul = bpf_htons(iplen - 20);
	*(__u16 *)(h + 14 + 2) = tl;
	{ /* ip_sum is at most 10 x 0xffff: two folds suffice */
		__u32 sum = ep->ip_sum + tl;
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		ck = (__u16)~sum;
	}
	*(__u16 *)(h + 14 + 10) = ck;
	sp = bpf_htons((__u16)(KTUN_SPORT_MIN | (c->hash & 0x3fff)));
	*(__u16 *)(h + 34) = sp;
	*(__u16 *)(h + 34 + 4) = ul;
	if (!ep->has_mac)
		__builtin_memcpy(h + KTUN_OUTER_LEN, c->nh_smac, ETH_ALEN);
	__builtin_memcpy(h + KTUN_OUTER_LEN + 6, c->nh_smac, ETH_ALEN);
	if (v6)
		*(__be16 *)(h + KTUN_OUTER_LEN + 12) = bpf_htons(ETH_P_IPV6);
	kdp_count(ep->type == KTUN_VXLAN ? XGW_KDP_CNT_VXLAN_ENCAP : XGW_KDP_CNT_GENEVE_ENCAP);
	if (ifindex == ctx->ingress_ifindex) {
		kdp_count(XGW_KDP_CNT_TX);
		return XDP_TX;
	}
	kdp_count(XGW_KDP_CNT_REDIRECT);
	return bpf_redirect_map(&kdp_tx_ports, ifindex, XDP_DROP);
}

/* Geneve header at h (the UDP payload, len bytes): its length with
 * options, or 0 where the program does not decapsulate it (a check fails:
 * the workers drop it with the reason; more than XGW_KDP_GENEVE_OPTS_MAX
 * options: the workers walk them). */
static __always_inline __u32 ktun_geneve_len(__u8 *h, void *end, __u32 len)
{
	__u32 opt_len, off = 8;

	if ((void *)(h + 8) > end || len < 8)
		return 0;
	if ((h[0] >> 6) || h[2] != 0x65 || h[3] != 0x58 || (h[1] & (KTUN_GENEVE_O | KTUN_GENEVE_C)))
		return 0;
	opt_len = (__u32)(h[0] & 0x3f) * 4;
	if (8 + opt_len > len)
		return 0;
#pragma unroll
	for (int i = 0; i < XGW_KDP_GENEVE_OPTS_MAX; i++) {
		__u8 *o;

		if (off >= 8 + opt_len)
			break;
		o = h + (off & 0xff);
		if ((void *)(o + 4) > end || (o[2] & KTUN_GENEVE_CRIT))
			return 0;
		off += 4 + (__u32)(o[3] & 0x1f) * 4;
	}
	if (off != 8 + opt_len) /* past the bound, or an option overruns */
		return 0;
	return off;
}

/* p: parsed.  A tunnel packet to us from a kernel endpoint with a kernel
 * connection's packet inside is decapsulated and p re-parsed on the inner
 * packet (KTUN_DECAPSULATED).  KTUN_NOT_OURS: not a tunnel packet to us,
 * p as it was; KTUN_HAND_ON: one to leave to the steering rules untouched
 * (p is then of no further use).  A subprogram: its frame is not on the
 * chain of the new-flow path's. */
static __noinline int ktun_decap(struct xdp_md *ctx, const struct xgw_kdp_cfg *cfg,
				 struct kdp_pkt *p, __u64 now)
{
	struct kicmp qq, *q = &qq;
	struct udphdr *uh = p->l4;
	struct xgw_kdp_tun_dec_key dk;
	__u32 type, ulen, hlen;
	__u8 *h;
	void *end = p->end;

	if (!p->ip || p->proto != IPPROTO_UDP || p->dst[0] != cfg->tun_local)
		return KTUN_NOT_OURS;
	if ((void *)(uh + 1) > end)
		return KTUN_NOT_OURS;
	if (uh->dest == cfg->vxlan_port)
		type = KTUN_VXLAN;
	else if (uh->dest == cfg->geneve_port)
		type = KTUN_GENEVE;
	else
		return KTUN_NOT_OURS;
	h = (void *)(uh + 1);
	if ((void *)(h + 8) > end)
		return KTUN_HAND_ON;
	dk.remote = p->src[0];
	dk.type_vni = type << 24 | (__u32)h[4] << 16 | (__u32)h[5] << 8 | h[6];
	if (!bpf_map_lookup_elem(&kdp_tun_dec, &dk))
		return KTUN_HAND_ON; /* a user service's endpoint */
	ulen = bpf_ntohs(uh->len);
	if (ulen < 8 || ulen > p->len - 20)
		goto hand_on;
	if (type == KTUN_VXLAN) {
		if (!(h[0] & KTUN_VXLAN_I))
			goto hand_on;
		hlen = 8;
	} else {
		hlen = ktun_geneve_len(h, end, ulen - 8);
		if (!hlen)
			goto hand_on;
	}
	if (ulen - 8 < hlen + ETH_HLEN)
		goto hand_on;
	/* The inner packet, parsed into p (the outer one is done with). */
	__builtin_memset(p, 0, sizeof(*p));
	if (kdp_parse_frame(p, h + (hlen & 0x1ff), end) != KDP_PARSED)
		goto hand_on;
	if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) {
		kct_key(&q->key, p->src, p->dst, p->sport, p->dport, p->proto, p->family);
		q->c = kct_lookup(&q->key);
		/* The answer of a health check through the tunnel: the
		 * steering program passes it to the kernel, for xgwd's relay
		 * (health/tun_path.h).  Not for the workers: not counted. */
		if (!q->c && bpf_ntohs(p->dport) >= XGW_CHECK_PORT_MIN &&
		    p->dst[0] == cfg->tun_local)
			return KTUN_HAND_ON;
		if (!q->c || q->c->dir != 1)
			goto hand_on;
	} else if (!kicmp_find(cfg, p, q, now)) {
		goto hand_on;
	}
	/* The outer IPv4 header has no options (kern_parse.h). */
	if (bpf_xdp_adjust_head(ctx, (int)(ETH_HLEN + 20 + 8 + hlen)))
		goto hand_on;
	kdp_count(type == KTUN_VXLAN ? XGW_KDP_CNT_VXLAN_DECAP : XGW_KDP_CNT_GENEVE_DECAP);
	__builtin_memset(p, 0, sizeof(*p));
	return kdp_parse(ctx, p) == KDP_PARSED ? KTUN_DECAPSULATED : KTUN_DROP;
hand_on:
	kdp_count(XGW_KDP_CNT_PUNT);
	return KTUN_HAND_ON;
}

#endif
