/* SPDX-License-Identifier: BSD-3-Clause */
/* The in-kernel datapath's maps (layouts in kdp_maps.h), each with its
 * purpose.  Included once, by steer.bpf.c. */
#ifndef XGW_KERN_MAPS_H
#define XGW_KERN_MAPS_H

#include "common/drop.h"
#include "steer-bpf/kdp_maps.h"

/* [0]: global settings (struct xgw_kdp_cfg). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xgw_kdp_cfg);
} kdp_cfg SEC(".maps");

/* Kernel services by (VIP, port, proto); (VIP, 0, ICMP) for echo. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * XGW_KDP_MAX_SVCS);
	__type(key, struct xgw_kdp_svc_key);
	__type(value, struct xgw_kdp_svc);
} kdp_svcs SEC(".maps");

/* Backends by service block and stable position. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XGW_KDP_MAX_SVCS *XGW_KDP_MAX_BE);
	__type(key, __u32);
	__type(value, struct xgw_kdp_be);
} kdp_backends SEC(".maps");

/* Maglev rings, one per service: backend positions, 0 = none. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XGW_KDP_MAX_SVCS *XGW_KDP_RING_STRIDE);
	__type(key, __u32);
	__type(value, __u32);
} kdp_ring SEC(".maps");

/* Connections, both directions (struct xgw_kdp_ct), one LRU per family
 * (kct_lookup and its siblings in kern_ct.h choose). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XGW_KDP_CT_MAX);
	__type(key, struct xgw_kdp_ct4_key);
	__type(value, struct xgw_kdp_ct);
} kdp_ct4 SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XGW_KDP_CT_MAX);
	__type(key, struct xgw_kdp_ct_key);
	__type(value, struct xgw_kdp_ct);
} kdp_ct6 SEC(".maps");

/* Per-CPU scratch for a new connection: its entry and reply key, the SNAT
 * source; off the 512-byte stack, which the chain of subprograms shares. */
struct kdp_scratch_val {
	struct xgw_kdp_ct_key k; /* the packet's conntrack key */
	struct xgw_kdp_ct v;
	struct xgw_kdp_ct_key rk;
	__u32 snat[4];
	struct xgw_kdp_ct4_key k4; /* kct_*'s IPv4 key (kern_ct.h) */
	__u32 gen;		   /* kdp_new_flow's: the gen its service was found under */
	int nh_rc;		   /* kdp_new_flow's: its next-hop refresh, or KDP_NH_UNSET */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kdp_scratch_val);
} kdp_scratch SEC(".maps");

/* Policy rules in config order. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XGW_KDP_MAX_POLICIES);
	__type(key, __u32);
	__type(value, struct xgw_kdp_policy);
} kdp_policy SEC(".maps");

/* Hits per policy rule (config order), [XGW_KDP_MAX_POLICIES] = default;
 * zeroed by xgwd with every new rule set, as the workers' counters are. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XGW_KDP_MAX_POLICIES + 1);
	__type(key, __u32);
	__type(value, __u64);
} kdp_policy_hits SEC(".maps");

/* Tunnel endpoints of kernel services' backends, by (backend address,
 * port, proto) after DNAT: the encap template (struct xgw_kdp_tun). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XGW_KDP_MAX_TUN);
	__type(key, struct xgw_kdp_svc_key);
	__type(value, struct xgw_kdp_tun);
} kdp_tun_enc SEC(".maps");

/* The same endpoints by (type << 24 | VNI, remote), for decap. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XGW_KDP_MAX_TUN);
	__type(key, struct xgw_kdp_tun_dec_key);
	__type(value, __u32);
} kdp_tun_dec SEC(".maps");

/* Egress ports for bpf_redirect_map, by ifindex (xgw's ports only). */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} kdp_tx_ports SEC(".maps");

/* Drop reasons, indexed by enum xgw_drop (the workers' list). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XGW_DROP__MAX);
	__type(key, __u32);
	__type(value, __u64);
} kdp_drops SEC(".maps");

/* Other counters, XGW_KDP_CNT_*: [0] holds them all (struct xgw_kdp_cnt). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xgw_kdp_cnt);
} kdp_cnt SEC(".maps");

/* Per-backend counters by counter slot (struct xgw_kdp_be_ctr). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XGW_KDP_BE_SLOTS);
	__type(key, __u32);
	__type(value, struct xgw_kdp_be_ctr);
} kdp_be_ctr SEC(".maps");

/* Per-service refusals by counter slot (struct xgw_kdp_svc_ctr). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XGW_KDP_SVC_SLOTS);
	__type(key, __u32);
	__type(value, struct xgw_kdp_svc_ctr);
} kdp_svc_ctr SEC(".maps");

/* This CPU's counters (never 0: an array's only entry, though the
 * verifier wants it tested).  The packet path takes them once and counts
 * through kdp_cnt_add; elsewhere kdp_count looks them up each time. */
static __always_inline struct xgw_kdp_cnt *kdp_cnts(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&kdp_cnt, &zero);
}

static __always_inline void kdp_cnt_add(struct xgw_kdp_cnt *c, __u32 idx)
{
	if (c && idx < XGW_KDP_CNT__MAX)
		c->n[idx] += 1; /* per-CPU: no atomic */
}

static __always_inline void kdp_count(__u32 idx)
{
	kdp_cnt_add(kdp_cnts(), idx);
}

static __always_inline int kdp_drop(__u32 reason)
{
	__u64 *c = bpf_map_lookup_elem(&kdp_drops, &reason);

	if (c)
		*c += 1;
	return XDP_DROP;
}

/* One packet of a connection whose entry holds slot (dir 0: client to
 * backend); opened: it made the connection.  One lookup, inlined by the
 * verifier for a per-CPU array: no atomic. */
static __always_inline void kdp_be_count(__u32 slot, int dir, __u32 bytes, int opened)
{
	struct xgw_kdp_be_ctr *c = bpf_map_lookup_elem(&kdp_be_ctr, &slot);

	if (!c)
		return;
	c->d[dir & 1].pkts += 1;
	c->d[dir & 1].bytes += bytes;
	c->conns += opened;
}

/* A new connection the service of slot refused, and why (enum xgw_drop;
 * reasons other than kdp_new_flow's are not per service). */
static __always_inline void kdp_svc_drop(__u32 slot, __u32 reason)
{
	struct xgw_kdp_svc_ctr *c;
	__u32 i;

	switch (reason) {
#define _(n)                                                                                       \
	case XGW_DROP_##n:                                                                         \
		i = XGW_KDP_SVC_DROP_##n;                                                          \
		break;
		XGW_FOREACH_KDP_SVC_DROP(_)
#undef _
	default:
		return;
	}
	c = bpf_map_lookup_elem(&kdp_svc_ctr, &slot);
	if (c && i < XGW_KDP_SVC_DROP__MAX)
		c->drops[i] += 1;
}

#endif
