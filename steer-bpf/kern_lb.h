/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel datapath, load balancing: policy, the service lookup, the flow
 * hash and the Maglev pick.  The hash is common/hash.h's xgw_flow_hash word
 * for word and the rings hold the same tables as the workers' snapshot,
 * with the same seed: a flow keeps its backend whichever datapath serves
 * it, so a service moved between datapaths picks established flows up
 * mid-stream on the same backend.  IPv4 and IPv6 alike. */
#ifndef XGW_KERN_LB_H
#define XGW_KERN_LB_H

#include "common/hash_mix.h"

/* A 16-byte address's struct xgw_addr q[w] word: its bytes 8w..8w+7 as a
 * little-endian load (v4: the address zero-extended, then 0). */
static __always_inline __u64 kdp_addr_word(const __u32 *a, int w)
{
	return (__u64)a[2 * w + 1] << 32 | a[2 * w];
}

/* xgw_flow_hash, word for word. */
static __always_inline __u32 kdp_flow_hash(const __u32 *src, const __u32 *dst, __be16 sport,
					   __be16 dport, __u8 proto, __u8 family, __u32 seed)
{
	__u64 h = seed ^ ((__u64)proto << 32 | (__u64)family << 40);

	h = xgw_hash_round(h, kdp_addr_word(src, 0));
	h = xgw_hash_round(h, kdp_addr_word(src, 1));
	h = xgw_hash_round(h, kdp_addr_word(dst, 0));
	h = xgw_hash_round(h, kdp_addr_word(dst, 1));
	h = xgw_hash_round(h, (__u64)sport << 16 | dport);
	h = xgw_hash_fmix64(h);
	return (__u32)(h ^ (h >> 32));
}

static __always_inline struct xgw_kdp_svc *kdp_service(__u8 family, const __u32 *vip, __be16 port,
						       __u8 proto)
{
	struct xgw_kdp_svc_key k = {.port = port, .proto = proto, .family = family};

	__builtin_memcpy(k.addr, vip, 16);
	return bpf_map_lookup_elem(&kdp_svcs, &k);
}

struct kdp_pol_ctx {
	__u32 src[4], dst[4];
	__u16 dport;
	__u8 proto;
	__u8 family;
	__u8 verdict; /* 0 deny, 1 allow, 2 no rule matched */
	__u32 n;
	__u32 rule; /* the matching rule's index */
};

static long kdp_pol_step(__u32 i, void *arg)
{
	struct kdp_pol_ctx *c = arg;
	struct xgw_kdp_policy *r;

	if (i >= c->n)
		return 1;
	r = bpf_map_lookup_elem(&kdp_policy, &i);
	if (!r)
		return 1;
	if ((r->family && r->family != c->family) || (r->proto && r->proto != c->proto))
		return 0;
	if (c->dport < r->dport_lo || c->dport > r->dport_hi)
		return 0;
#pragma unroll
	for (int w = 0; w < 4; w++)
		if ((c->src[w] & r->src_mask[w]) != r->src[w] ||
		    (c->dst[w] & r->dst_mask[w]) != r->dst[w])
			return 0;
	c->verdict = r->allow;
	c->rule = i;
	return 1;
}

/* First matching rule in config order, else the default (lb/policy.h).
 * Packets without ports match with dport 0.  A linear scan with bpf_loop
 * (kernel 5.17): XGW_KDP_MAX_POLICIES rules at most.  A subprogram (only
 * new flows and echo requests pay the call; its scan state is off the
 * main stack frame); family, proto and dport (host order) come packed by
 * KDP_POL_WHAT, as a subprogram takes five arguments at most. */
#define KDP_POL_WHAT(family, proto, dport) ((__u32)(family) << 24 | (__u32)(proto) << 16 | (dport))
static __noinline int kdp_policy_allows(const struct xgw_kdp_cfg *cfg, const __u32 *src,
					const __u32 *dst, __u32 what)
{
	__u8 family = what >> 24, proto = (what >> 16) & 0xff;
	__u16 dport = what & 0xffff;
	struct kdp_pol_ctx c = {
	    .dport = dport, .proto = proto, .family = family, .verdict = 2, .n = cfg->n_policies};
	__u32 hit;
	__u64 *h;

	if (!c.n)
		return cfg->policy_default_allow;
	__builtin_memcpy(c.src, src, 16);
	__builtin_memcpy(c.dst, dst, 16);
	bpf_loop(XGW_KDP_MAX_POLICIES, kdp_pol_step, &c, 0);
	hit = c.verdict == 2 ? XGW_KDP_MAX_POLICIES : c.rule;
	h = bpf_map_lookup_elem(&kdp_policy_hits, &hit);
	if (h)
		*h += 1;
	return c.verdict == 2 ? (int)cfg->policy_default_allow : c.verdict;
}

/* The backend Maglev gives the flow, or NULL (no backend: ring slot 0). */
static __always_inline struct xgw_kdp_be *kdp_pick(const struct xgw_kdp_svc *svc, __u32 hash,
						   __u32 *pos)
{
	__u32 m = svc->m, slot, *id, key;

	if (!m || m > XGW_KDP_RING_STRIDE || svc->idx >= XGW_KDP_MAX_SVCS)
		return 0;
	slot = svc->idx * XGW_KDP_RING_STRIDE + hash % m;
	id = bpf_map_lookup_elem(&kdp_ring, &slot);
	if (!id || !*id || *id >= XGW_KDP_MAX_BE)
		return 0;
	*pos = *id;
	key = svc->idx * XGW_KDP_MAX_BE + *id;
	struct xgw_kdp_be *be = bpf_map_lookup_elem(&kdp_backends, &key);
	return be && be->family ? be : 0;
}

#endif
