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

/* Connections, both directions (struct xgw_kdp_ct). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XGW_KDP_CT_MAX);
	__type(key, struct xgw_kdp_ct_key);
	__type(value, struct xgw_kdp_ct);
} kdp_ct SEC(".maps");

/* Per-CPU scratch for a new connection: its entry and reply key, the SNAT
 * source; off the 512-byte stack, which the chain of subprograms shares. */
struct kdp_scratch_val {
	struct xgw_kdp_ct_key k; /* the packet's conntrack key */
	struct xgw_kdp_ct v;
	struct xgw_kdp_ct_key rk;
	__u32 snat[4];
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

/* Other counters, XGW_KDP_CNT_*. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XGW_KDP_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} kdp_cnt SEC(".maps");

static __always_inline void kdp_count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&kdp_cnt, &idx);

	if (c)
		*c += 1; /* per-CPU: no atomic */
}

static __always_inline int kdp_drop(__u32 reason)
{
	__u64 *c = bpf_map_lookup_elem(&kdp_drops, &reason);

	if (c)
		*c += 1;
	return XDP_DROP;
}

#endif
