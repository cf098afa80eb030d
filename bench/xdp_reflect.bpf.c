/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw-bench helpers: the XDP ceiling and a pass-through.
 *
 * xdp_fwd: the "XDP ceiling" scenario.  Every frame is sent on unchanged
 * but for its Ethernet addresses: redirected to the interface in bench_cfg
 * (the path to the sink), or, while no interface is set, reflected out of
 * the receiving one with the addresses swapped (XDP_TX).  No parsing, no
 * lookup: the cost of the XDP receive and transmit path alone.
 *
 * xdp_pass: XDP_PASS.  A veth drops frames sent into it by XDP (XDP_TX,
 * redirect, BPF_PROG_RUN live frames) unless its peer has an XDP program,
 * so the kernel-stack scenarios (nftables) attach this one to receive the
 * generator's live frames at all.
 *
 * Loaded by xgw-bench with `ip link set dev IF xdpdrv obj ... sec ...`;
 * bench_cfg is filled with bpftool through the program's map ids. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

struct bench_cfg {
	__u32 ifindex;		  /* redirect target; 0 = reflect with XDP_TX */
	__u8 dmac[ETH_ALEN];	  /* new destination MAC (redirect only) */
	__u8 smac[ETH_ALEN];	  /* new source MAC (redirect only) */
};

/* key 0 -> where xdp_fwd sends frames. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_cfg);
} bench_cfg SEC(".maps");

SEC("xdp")
int xdp_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct bench_cfg *c;
	__u32 key = 0;
	__u8 tmp[ETH_ALEN];

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	c = bpf_map_lookup_elem(&bench_cfg, &key);
	if (c && c->ifindex) {
		__builtin_memcpy(eth->h_dest, c->dmac, ETH_ALEN);
		__builtin_memcpy(eth->h_source, c->smac, ETH_ALEN);
		return bpf_redirect(c->ifindex, 0);
	}
	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	return XDP_TX;
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
