/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw-sg-probe's XDP program: multi-buffer aware ("xdp.frags"), it hands
 * every IPv4 UDP frame to the AF_XDP socket in slot 0 and counts what it
 * saw: frames, the longest (all buffers), and those in more than one
 * buffer.  Everything else goes to the stack. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} sg_xsks SEC(".maps");

/* [0] frames, [1] the longest frame's bytes, [2] multi-buffer frames */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} sg_seen SEC(".maps");

static __always_inline void seen_add(__u32 k, __u64 v)
{
	__u64 *p = bpf_map_lookup_elem(&sg_seen, &k);

	if (p)
		__sync_fetch_and_add(p, v);
}

SEC("xdp.frags")
int sg_probe(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u32 k = 1;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	__u64 len = bpf_xdp_get_buff_len(ctx);
	__u64 *max = bpf_map_lookup_elem(&sg_seen, &k);

	seen_add(0, 1);
	if (max && len > *max)
		*max = len;
	if (len > (__u64)(end - data))
		seen_add(2, 1);
	return bpf_redirect_map(&sg_xsks, 0, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
