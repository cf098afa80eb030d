/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel datapath: a backend's reply too big for the way back to the
 * client is answered in XDP with fragmentation needed (IPv4, RFC 1191) or
 * packet too big (IPv6, RFC 4443 3.2) to the backend, as the workers'
 * forwarding stage answers it for their own services, so that the
 * backend learns the path MTU.  The frame is turned into the error in
 * place: the MACs swapped, bpf_xdp_adjust_head makes room for the new IP
 * and ICMP headers before the packet, which stays where it is as the
 * quote, bpf_xdp_adjust_tail cuts the rest, and XDP_TX sends it back out
 * where the reply came from.
 *
 * As the workers': from the gateway's own address towards the backend
 * (the source the kernel picks, BPF_FIB_LOOKUP_SRC), TOS 0xc0 and TTL 64;
 * the quote is the IPv4 header and 8 bytes (which hold the ports and the
 * TCP sequence number a TCP stack checks), or as much of the IPv6 packet
 * as fits 1280 bytes; at most XGW_KDP_ICMP_PER_SEC errors a second per CPU
 * (RFC 1812 4.3.2.8), the rest dropped as exceeds_mtu.  The packet is the
 * reply as the backend sent it: nothing was translated yet. */
#ifndef XGW_KERN_TOOBIG_H
#define XGW_KERN_TOOBIG_H

#define XGW_KDP_ICMP_PER_SEC 1000 /* the workers' ICMP_ERRORS_PER_SEC */
#define KTB_Q4		     28	  /* an IPv4 header (no options here) + 8 */
#define KTB_Q6		     1232 /* 1280 - 40 - 8 */

struct ktb_bucket {
	__u64 sec;
	__u32 tokens;
	__u32 pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ktb_bucket);
} kdp_icmp_rl SEC(".maps");

/* sec: the current second, whatever its origin (jiffies / HZ). */
static __always_inline int ktb_allowed(__u64 sec)
{
	__u32 zero = 0;
	struct ktb_bucket *b = bpf_map_lookup_elem(&kdp_icmp_rl, &zero);

	if (!b)
		return 0;
	if (b->sec != sec) {
		b->sec = sec;
		b->tokens = XGW_KDP_ICMP_PER_SEC;
	}
	if (!b->tokens)
		return 0;
	b->tokens--;
	return 1;
}

/* A 32-bit one's-complement sum (bpf_csum_diff's) to a checksum: applied
 * to a field of 0 (stored as ~0). */
static __always_inline __u16 ktb_fold(__u64 s)
{
	return kicmp_apply(0xffff, s);
}

/* The Ethernet header back to where the frame came from; mac: its
 * source then its destination. */
static __always_inline void ktb_eth(struct ethhdr *eth, const __u8 *mac, __u16 proto)
{
	__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac + ETH_ALEN, ETH_ALEN);
	eth->h_proto = bpf_htons(proto);
}

/* Cut the frame at len bytes, then XDP_TX. */
static __always_inline int ktb_tx(struct xdp_md *ctx, int len)
{
	int have = (int)((long)ctx->data_end - (long)ctx->data);

	if (bpf_xdp_adjust_tail(ctx, len - have))
		return kdp_drop(XGW_DROP_MTU);
	kdp_count(XGW_KDP_CNT_TOO_BIG_SENT);
	return XDP_TX;
}

static __noinline int ktb_send4(struct xdp_md *ctx, __u32 mtu)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u32 backend[4] = {}, src[4];
	__u8 mac[2 * ETH_ALEN], *ic;

	if ((void *)ip + KTB_Q4 > end)
		return kdp_drop(XGW_DROP_MTU);
	__builtin_memcpy(mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(mac + ETH_ALEN, eth->h_dest, ETH_ALEN);
	backend[0] = ip->saddr;
	if (kdp_fib_src(ctx, AF_INET, backend, src) || bpf_xdp_adjust_head(ctx, -(20 + 8)))
		return kdp_drop(XGW_DROP_MTU);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + sizeof(*eth) + 28 + KTB_Q4 > end)
		return kdp_drop(XGW_DROP_MTU);
	ktb_eth(data, mac, ETH_P_IP);
	ip = data + sizeof(*eth);
	*(__u8 *)ip = 0x45;
	ip->tos = 0xc0; /* internetwork control */
	ip->tot_len = bpf_htons(28 + KTB_Q4);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->check = 0;
	ip->saddr = src[0];
	ip->daddr = backend[0];
	ip->check = ktb_fold((__u32)bpf_csum_diff(0, 0, (void *)ip, 20, 0));
	ic = (__u8 *)(ip + 1);
	ic[0] = 3; /* destination unreachable */
	ic[1] = 4; /* fragmentation needed */
	*(__u16 *)(ic + 2) = 0;
	*(__u16 *)(ic + 4) = 0;
	*(__be16 *)(ic + 6) = bpf_htons((__u16)mtu);
	*(__u16 *)(ic + 2) = ktb_fold((__u32)bpf_csum_diff(0, 0, (void *)ic, 8 + KTB_Q4, 0));
	return ktb_tx(ctx, (int)sizeof(*eth) + 28 + KTB_Q4);
}

static __noinline int ktb_send6(struct xdp_md *ctx, __u32 mtu)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = data + sizeof(*eth);
	__u32 backend[4], src[4];
	__be32 tail[2] = {bpf_htonl(8 + KTB_Q6), bpf_htonl(IPPROTO_ICMPV6)};
	__u8 mac[2 * ETH_ALEN], *ic;
	__u64 sum;

	/* The packet is longer than an MTU of at least 1280: the quote is
	 * there. */
	if ((void *)ip6 + KTB_Q6 > end)
		return kdp_drop(XGW_DROP_MTU);
	__builtin_memcpy(mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(mac + ETH_ALEN, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(backend, &ip6->saddr, 16);
	if (kdp_fib_src(ctx, AF_INET6, backend, src) || bpf_xdp_adjust_head(ctx, -(40 + 8)))
		return kdp_drop(XGW_DROP_MTU);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + sizeof(*eth) + 48 + KTB_Q6 > end)
		return kdp_drop(XGW_DROP_MTU);
	ktb_eth(data, mac, ETH_P_IPV6);
	ip6 = data + sizeof(*eth);
	*(__be32 *)ip6 = bpf_htonl(0x60000000);
	ip6->payload_len = bpf_htons(8 + KTB_Q6);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = 64;
	__builtin_memcpy(&ip6->saddr, src, 16);
	__builtin_memcpy(&ip6->daddr, backend, 16);
	ic = (__u8 *)(ip6 + 1);
	ic[0] = 2; /* packet too big */
	ic[1] = 0;
	*(__u16 *)(ic + 2) = 0;
	*(__be32 *)(ic + 4) = bpf_htonl(mtu);
	/* The pseudo-header (addresses, length, next header), then the
	 * message in pieces of at most 512 bytes (bpf_csum_diff's bound):
	 * 8 + 1232 = 512 + 512 + 216. */
	sum = (__u32)bpf_csum_diff(0, 0, (void *)&ip6->saddr, 32, 0);
	sum = (__u32)bpf_csum_diff(0, 0, tail, sizeof(tail), (__u32)sum);
	sum = (__u32)bpf_csum_diff(0, 0, (void *)ic, 512, (__u32)sum);
	sum = (__u32)bpf_csum_diff(0, 0, (void *)(ic + 512), 512, (__u32)sum);
	sum = (__u32)bpf_csum_diff(0, 0, (void *)(ic + 1024), 216, (__u32)sum);
	*(__u16 *)(ic + 2) = ktb_fold(sum);
	return ktb_tx(ctx, (int)sizeof(*eth) + 48 + KTB_Q6);
}

/* The reply p, too big for the next hop's MTU mtu: the error to its
 * backend (XDP_TX), or dropped as exceeds_mtu past the rate limit. */
static __always_inline int ktb_send(struct xdp_md *ctx, const struct kdp_pkt *p, __u32 mtu,
				    __u64 sec)
{
	if (!ktb_allowed(sec))
		return kdp_drop(XGW_DROP_MTU);
	return p->family == AF_INET ? ktb_send4(ctx, mtu) : ktb_send6(ctx, mtu);
}

#endif
