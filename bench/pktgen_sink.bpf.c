/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw-pktgen sink: hand IPv4/IPv6 UDP and TCP frames to the AF_XDP socket
 * bound on the receiving queue; everything else (ARP, ICMP, neighbour
 * discovery) stays with the kernel so the link keeps working. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* queue id -> AF_XDP socket of the sink. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} pg_xsks SEC(".maps");

SEC("xdp")
int pktgen_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 *nh = (__u8 *)(eth + 1), proto;

	if (nh + 40 > (__u8 *)end)
		return XDP_PASS;
	/* Only UDP and TCP: ICMP, neighbour discovery and MLD (behind a
	 * hop-by-hop header) stay with the kernel. */
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		proto = nh[9];
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		proto = nh[6];
	else
		return XDP_PASS;
	if (proto != 6 && proto != 17)
		return XDP_PASS;
	return bpf_redirect_map(&pg_xsks, ctx->rx_queue_index, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
