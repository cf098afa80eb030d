/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw steering program: send chosen flows to the AF_XDP socket of the
 * receiving queue, everything else to the kernel stack.  Deliberately
 * small (as libxdp's xsk_def_xdp_prog): no packet is changed here. */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "steer_maps.h"
#include "steer-bpf/kern_kdp.h"

#ifndef AF_INET6 /* linux/icmp.h may bring the libc ones */
#define AF_INET  2
#define AF_INET6 10
#endif

/* AF_XDP sockets, one per receive queue of this interface. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XGW_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

/* Steering rules and service VIPs: (family, proto, dport, dst prefix). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XGW_MAX_STEER_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xgw_steer_key);
	__type(value, struct xgw_steer_val);
} steer_rules SEC(".maps");

/* Backend replies by exact source (address, proto, port). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XGW_MAX_STEER_RULES);
	__type(key, struct xgw_steer_src_key);
	__type(value, struct xgw_steer_val);
} steer_src SEC(".maps");

/* [0] = bitmask of XGW_STEER_CLASS_*: skips lookups that cannot match. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} steer_classes SEC(".maps");

/* Steered / passed / no-socket / malformed packet counters. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XGW_STEER_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} steer_stats SEC(".maps");

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

static __always_inline void count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&steer_stats, &idx);

	if (c)
		*c += 1; /* per-CPU slot: no atomic needed */
}

/* The rule matching k (the most specific shape first), or NULL. */
static __always_inline struct xgw_steer_val *lookup(struct xgw_steer_key *k, __u32 classes)
{
	struct xgw_steer_val *v = NULL;
	__u16 dport = k->dport;
	__u8 proto = k->proto;

	if ((classes & XGW_STEER_CLASS_PROTO_PORT) && (v = bpf_map_lookup_elem(&steer_rules, k)))
		return v;
	k->dport = 0;
	if ((classes & XGW_STEER_CLASS_PROTO) && (v = bpf_map_lookup_elem(&steer_rules, k)))
		return v;
	k->proto = 0;
	if ((classes & XGW_STEER_CLASS_ANY) && (v = bpf_map_lookup_elem(&steer_rules, k)))
		return v;
	k->dport = dport;
	k->proto = proto;
	return NULL;
}

/* Whether the tunnel packet to local (the outer destination,
 * tunnel.local_ip) whose outer UDP header is at udp carries the answer of
 * a health check through the tunnel: an inner IPv4 TCP or UDP packet to
 * local and a check port, or an ICMP error to local quoting a check's
 * packet (from local and a check port).  A client's port in that range
 * is no check's: its replies go to the client's address, not local.  Such
 * a packet goes to the kernel whole, where xgwd's relay takes it off its
 * tunnel port (health/tun_path.h) and checks that it comes from the
 * backend and endpoint of the probe on that port. */
static __always_inline bool tun_check_answer(void *udp, void *end, bool geneve, __be32 local)
{
	__u8 *h = (__u8 *)udp + 8, *eth, *l4;
	struct iphdr *ip;
	__u32 hlen = 8;

	if ((void *)(h + 8) > end)
		return false;
	if (geneve)
		hlen += (__u32)(h[0] & 0x3f) * 4;
	eth = h + (hlen & 0x1ff);
	if ((void *)(eth + ETH_HLEN) > end || eth[12] != 0x08 || eth[13] != 0x00)
		return false;
	ip = (void *)(eth + ETH_HLEN);
	if ((void *)(ip + 1) > end || ip->ihl < 5 || ip->daddr != local)
		return false;
	l4 = (__u8 *)ip + ((__u32)ip->ihl * 4 & 0x3c);
	if (ip->protocol == IPPROTO_ICMP) {
		if ((void *)(l4 + 8) > end || (l4[0] != 3 && l4[0] != 11 && l4[0] != 12))
			return false;
		ip = (void *)(l4 + 8); /* the quoted packet: the check's, from its port */
		if ((void *)(ip + 1) > end || ip->ihl < 5 || ip->saddr != local)
			return false;
		l4 = (__u8 *)ip + ((__u32)ip->ihl * 4 & 0x3c);
		if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
			return false;
		if ((void *)(l4 + 2) > end)
			return false;
		return ((__u16)l4[0] << 8 | l4[1]) >= XGW_CHECK_PORT_MIN;
	}
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return false;
	if ((void *)(l4 + 4) > end)
		return false;
	return ((__u16)l4[2] << 8 | l4[3]) >= XGW_CHECK_PORT_MIN;
}

/* Whether a TCP or UDP socket of this host's stack holds tuple t (as the
 * socket would receive it). */
static __always_inline bool sock_holds(struct xdp_md *ctx, struct bpf_sock_tuple *t, __u32 tlen,
				       __u8 proto)
{
	struct bpf_sock *sk = proto == IPPROTO_UDP
				  ? bpf_sk_lookup_udp(ctx, t, tlen, BPF_F_CURRENT_NETNS, 0)
				  : bpf_sk_lookup_tcp(ctx, t, tlen, BPF_F_CURRENT_NETNS, 0);

	if (!sk)
		return false;
	bpf_sk_release(sk);
	return true;
}

/* Whether the ICMP error at icmp is about a packet of one of this host's
 * own sockets in the health checks' source port range: its quoted TCP or
 * UDP packet, looked up as the socket would receive its reply (source =
 * the quoted destination).  A UDP check to a closed port gets a port
 * unreachable that only the checker's socket can make sense of.  The
 * range first: a wildcard-bound socket matches any address, and only
 * xgwd's checks use these ports (steer_maps.h). */
static __always_inline bool about_own_check(struct xdp_md *ctx, void *icmp, void *end, bool v4)
{
	__u8 *q = (__u8 *)icmp + 8, proto, *l4;
	struct bpf_sock_tuple t = {};
	__u32 tlen;

	if (v4) {
		struct iphdr *qi = (void *)q;
		if ((void *)(qi + 1) > end)
			return false;
		proto = qi->protocol;
		t.ipv4.saddr = qi->daddr;
		t.ipv4.daddr = qi->saddr;
		l4 = q + (qi->ihl & 0xf) * 4;
		tlen = sizeof(t.ipv4);
	} else {
		struct ipv6hdr *qi = (void *)q;
		if ((void *)(qi + 1) > end)
			return false;
		proto = qi->nexthdr;
		__builtin_memcpy(t.ipv6.saddr, &qi->daddr, 16);
		__builtin_memcpy(t.ipv6.daddr, &qi->saddr, 16);
		l4 = (__u8 *)(qi + 1);
		tlen = sizeof(t.ipv6);
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return false;
	if ((void *)(l4 + 4) > end)
		return false;
	if (((__u16)l4[0] << 8 | l4[1]) < XGW_CHECK_PORT_MIN)
		return false;
	/* sport/dport sit at the same offsets in both tuple layouts. */
	if (v4) {
		__builtin_memcpy(&t.ipv4.dport, l4, 2);
		__builtin_memcpy(&t.ipv4.sport, l4 + 2, 2);
	} else {
		__builtin_memcpy(&t.ipv6.dport, l4, 2);
		__builtin_memcpy(&t.ipv6.sport, l4 + 2, 2);
	}
	return sock_holds(ctx, &t, tlen, proto);
}

/* Whether a socket of this host's stack holds the TCP or UDP packet
 * k/sk (destination and source as parsed): the answer of a health check,
 * which comes from a backend's address and port like a service reply but
 * goes to a socket of the checker, in the checks' port range.  A client
 * may use a port in that range too (Windows and macOS pick ephemeral
 * ports up to 65535): its replies, to no socket here, are steered as
 * ever.  Asked only for a backend's packet (a source rule's) to a check
 * port. */
static __always_inline bool own_socket(struct xdp_md *ctx, const struct xgw_steer_key *k,
				       const struct xgw_steer_src_key *sk)
{
	struct bpf_sock_tuple t = {};
	__u32 tlen;

	if (k->family == AF_INET) {
		__builtin_memcpy(&t.ipv4.saddr, sk->addr, 4);
		__builtin_memcpy(&t.ipv4.daddr, k->addr, 4);
		t.ipv4.sport = sk->sport;
		t.ipv4.dport = k->dport;
		tlen = sizeof(t.ipv4);
	} else {
		__builtin_memcpy(t.ipv6.saddr, sk->addr, 16);
		__builtin_memcpy(t.ipv6.daddr, k->addr, 16);
		t.ipv6.sport = sk->sport;
		t.ipv6.dport = k->dport;
		tlen = sizeof(t.ipv6);
	}
	return sock_holds(ctx, &t, tlen, k->proto);
}

/* The steering rules, for what the kernel datapath left: a subprogram of
 * its own, so that its keys are not on the stack frame that the kernel
 * datapath's subprograms chain onto (512 bytes for the whole chain). */
static __noinline int steer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct xgw_steer_key key = {};
	struct xgw_steer_src_key skey = {};
	bool src_ok = true; /* may a source rule match this packet? */
	struct ethhdr *eth = data;
	struct xgw_steer_val *rule;
	__u32 zero = 0, *classes, q;
	__u16 proto;
	void *l4;

	classes = bpf_map_lookup_elem(&steer_classes, &zero);
	if (!classes || !*classes)
		goto pass;
	if ((void *)(eth + 1) > end)
		goto malformed;
	proto = eth->h_proto;
	l4 = eth + 1;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		struct vlan_hdr *vh = l4;
		if ((void *)(vh + 1) > end)
			goto malformed;
		proto = vh->proto;
		l4 = vh + 1;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l4;
		if ((void *)(ip + 1) > end)
			goto malformed;
		if (ip->ihl < 5)
			goto malformed;
		key.family = AF_INET;
		key.proto = ip->protocol;
		__builtin_memcpy(key.addr, &ip->daddr, 4);
		__builtin_memcpy(skey.addr, &ip->saddr, 4);
		key.prefixlen = XGW_STEER_KEY_FIXED_BITS + 32;
		/* Later fragments carry no ports: matched on address only. */
		if (ip->frag_off & bpf_htons(0x1fff))
			goto classify;
		l4 = (void *)ip + ip->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l4;
		if ((void *)(ip6 + 1) > end)
			goto malformed;
		key.family = AF_INET6;
		/* Extension headers are not walked here: such packets match
		 * by address and proto = next header.  The workers parse them. */
		key.proto = ip6->nexthdr;
		__builtin_memcpy(key.addr, &ip6->daddr, 16);
		__builtin_memcpy(skey.addr, &ip6->saddr, 16);
		key.prefixlen = XGW_STEER_KEY_FIXED_BITS + 128;
		l4 = ip6 + 1;
	} else {
		goto pass; /* ARP, LLDP, ...: the kernel's */
	}

	if (key.proto == IPPROTO_TCP || key.proto == IPPROTO_UDP) {
		/* dport is at the same offset in TCP and UDP. */
		struct udphdr *uh = l4;
		if ((void *)(uh + 1) > end)
			goto malformed;
		key.dport = uh->dest;
		skey.sport = uh->source;
	} else if (key.proto == IPPROTO_ICMP || key.proto == IPPROTO_ICMPV6) {
		__u8 *type = l4;
		if ((void *)(type + 1) > end)
			goto malformed;
		/* Source rules exist for backends' replies and their ICMP
		 * errors about tracked flows.  Everything else a backend sends
		 * (neighbour discovery above all, echo replies to the host)
		 * must reach the kernel, so only error types may match. */
		if (key.proto == IPPROTO_ICMP)
			src_ok = *type == 3 || *type == 11 || *type == 12;
		else
			src_ok = *type >= 1 && *type <= 4;
		/* An error about a health check's own packet (a UDP check
		 * to a closed port: port unreachable) is for the checker's
		 * socket, in the gateway's stack. */
		if (src_ok && about_own_check(ctx, l4, end, key.proto == IPPROTO_ICMP))
			src_ok = false;
	}
classify:
	skey.family = key.family;
	skey.proto = key.proto;
	rule = lookup(&key, *classes); /* on a miss, key is as it was */
	if (!rule) {
		if (!src_ok || !(*classes & XGW_STEER_CLASS_SRC) ||
		    !bpf_map_lookup_elem(&steer_src, &skey))
			goto pass;
		/* A health check's answer comes from a backend's address
		 * and port too, but to a check port and one of this host's
		 * sockets: the gateway's own stack takes it. */
		if ((key.proto == IPPROTO_TCP || key.proto == IPPROTO_UDP) &&
		    bpf_ntohs(key.dport) >= XGW_CHECK_PORT_MIN && own_socket(ctx, &key, &skey))
			goto pass;
	}
	/* The tunnel port's rule is exact (UDP and the port): l4 is the
	 * outer UDP header, not a fragment's payload. */
	if (rule && (rule->rule_id & ~1u) == XGW_STEER_ID_TUNNEL && key.proto == IPPROTO_UDP &&
	    key.dport && key.family == AF_INET &&
	    tun_check_answer(l4, end, rule->rule_id & 1, *(__be32 *)key.addr))
		goto pass;
	q = ctx->rx_queue_index;
	/* No socket bound (xgwd gone): the kernel gets the packet rather
	 * than the redirect failing into a drop. */
	if (!bpf_map_lookup_elem(&xsks, &q)) {
		count(XGW_STEER_CNT_NOSOCK);
		return XDP_PASS;
	}
	count(XGW_STEER_CNT_STEERED);
	return bpf_redirect_map(&xsks, q, XDP_PASS);
malformed:
	count(XGW_STEER_CNT_MALFORMED);
	return XDP_PASS;
pass:
	count(XGW_STEER_CNT_PASSED);
	return XDP_PASS;
}

SEC("xdp")
int xgw_steer(struct xdp_md *ctx)
{
	int kdp = kdp_run(ctx); /* kernel-datapath services first */

	return kdp != KDP_CONTINUE ? kdp : steer(ctx);
}

char _license[] SEC("license") = "Dual BSD/GPL";
