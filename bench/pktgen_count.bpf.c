/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw-pktgen's counting sink: reads the stamp of every IPv4/IPv6 UDP or TCP
 * frame, counts it, its sequence number and its one-way latency in per-CPU
 * maps, and drops it (XDP_DROP).  No frame is copied to user space, so the
 * instrument costs a map update per frame instead of an AF_XDP copy; the
 * AF_XDP sink stays for payload and checksum checks.  ARP, ICMP and
 * neighbour discovery go to the kernel so the link keeps working. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bench/pktgen_count.h"
#include "bench/pktgen_fill.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pg_count_cpu);
} pg_count SEC(".maps");

/* Latency buckets, per CPU (user space sums the CPUs). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PG_COUNT_HIST_BUCKETS);
	__type(key, __u32);
	__type(value, __u64);
} pg_lat SEC(".maps");

/* pg_hist_index(): exact below 128 ns, then 64 buckets per power of two.
 * The most significant bit by halving (BPF has no count-leading-zeros). */
static __always_inline __u32 hist_index(__u64 v)
{
	__u64 x = v;
	__u32 k = 0, i;

	if (v < 2 * PG_COUNT_HIST_SUB)
		return (__u32)v;
#pragma unroll
	for (__u32 sh = 32; sh; sh >>= 1) {
		if (x >> sh) {
			k += sh;
			x >>= sh;
		}
	}
	i = PG_COUNT_HIST_SUB * (k - 6) + (__u32)(v >> (k - 6));
	return i < PG_COUNT_HIST_BUCKETS ? i : PG_COUNT_HIST_BUCKETS - 1;
}

static __always_inline __u64 get_be64(const __u8 *p)
{
	__u32 hi, lo;

	__builtin_memcpy(&hi, p, 4);
	__builtin_memcpy(&lo, p + 4, 4);
	return ((__u64)bpf_ntohl(hi) << 32) | bpf_ntohl(lo);
}

SEC("xdp")
int pktgen_count(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = (void *)data;
	__u8 *l4, *s, proto;
	struct pg_count_cpu *c;
	__u32 zero = 0, magic;
	__u64 now, seq, ts;

	if (data + sizeof(*eth) + 40 > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		__u8 *ip = data + sizeof(*eth);

		proto = ip[9];
		l4 = ip + (ip[0] & 0xf) * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		proto = data[sizeof(*eth) + 6];
		l4 = data + sizeof(*eth) + 40;
	} else {
		return XDP_PASS;
	}
	if (proto != 6 && proto != 17)
		return XDP_PASS;
	c = bpf_map_lookup_elem(&pg_count, &zero);
	if (!c)
		return XDP_PASS;
	now = bpf_ktime_get_ns();
	if (!c->first_ns)
		c->first_ns = now;
	c->last_ns = now;
	c->packets++;
	c->bytes += (__u64)(end - data);
	/* The stamp follows the L4 header: 8 bytes of UDP, TCP's data offset. */
	if (proto == 17) {
		s = l4 + 8;
	} else {
		if (l4 + 13 > end)
			return XDP_DROP;
		s = l4 + (l4[12] >> 4) * 4;
	}
	if (s + PG_STAMP_LEN > end || s < data)
		return XDP_DROP;
	__builtin_memcpy(&magic, s, 4);
	if (magic != bpf_htonl(PG_STAMP_MAGIC))
		return XDP_DROP;
	seq = get_be64(s + 4);
	ts = get_be64(s + 12);
	c->stamped++;
	if (seq + 1 > c->max_seq)
		c->max_seq = seq + 1;
	else
		c->reordered++;
	ts = now > ts ? now - ts : 0;
	c->lat_sum += ts;
	if (c->stamped == 1 || ts < c->lat_min)
		c->lat_min = ts;
	if (ts > c->lat_max)
		c->lat_max = ts;
	__u32 b = hist_index(ts);
	__u64 *cnt = bpf_map_lookup_elem(&pg_lat, &b);
	if (cnt)
		*cnt += 1;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
