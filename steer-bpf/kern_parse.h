/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel datapath, parsing: untagged Ethernet; IPv4 without options and
 * not fragmented, or IPv6 without extension headers; then TCP, UDP, ICMP
 * or ICMPv6.  Anything else is not parsed here: the caller hands it to
 * the steering rules (and so to the user-space workers, which parse VLANs,
 * options, fragments and extension headers). */
#ifndef XGW_KERN_PARSE_H
#define XGW_KERN_PARSE_H

#include <linux/icmp.h>
#include <linux/icmpv6.h>

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

enum kdp_parse {
	KDP_PARSED = 0,
	KDP_NOT_MINE, /* not IP: the steering rules decide */
	KDP_PUNT,     /* options, fragments, extension headers: to the workers */
	KDP_BAD,      /* truncated or inconsistent: drop with reason */
};

struct kdp_pkt {
	struct ethhdr *eth;
	struct iphdr *ip;    /* IPv4, else NULL */
	struct ipv6hdr *ip6; /* IPv6, else NULL */
	void *l4;
	void *end;
	__u32 src[4], dst[4]; /* addresses as in the packet; v4 in [0], rest 0 */
	__u32 len;	      /* bytes from the IP header on (ct accounting) */
	__be16 sport, dport;
	__u8 family;
	__u8 proto;
	__u8 tcp_flags;
	__u8 reason; /* enum xgw_drop for KDP_BAD */
};

static __always_inline int kdp_parse4(struct kdp_pkt *p, struct iphdr *ip)
{
	if ((void *)(ip + 1) > p->end)
		return KDP_NOT_MINE;
	p->ip = ip;
	p->family = AF_INET;
	p->src[0] = ip->saddr;
	p->dst[0] = ip->daddr;
	if (ip->version != 4)
		return KDP_NOT_MINE;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP &&
	    ip->protocol != IPPROTO_ICMP)
		return KDP_NOT_MINE;
	if (ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)))
		return KDP_PUNT; /* options, MF or an offset */
	p->len = bpf_ntohs(ip->tot_len);
	if (p->len < sizeof(*ip) || (void *)ip + p->len > p->end) {
		p->reason = XGW_DROP_IP4_LEN;
		return KDP_BAD;
	}
	p->l4 = ip + 1;
	p->proto = ip->protocol;
	return KDP_PARSED;
}

static __always_inline int kdp_parse6(struct kdp_pkt *p, struct ipv6hdr *ip6)
{
	if ((void *)(ip6 + 1) > p->end)
		return KDP_NOT_MINE;
	p->ip6 = ip6;
	p->family = AF_INET6;
	__builtin_memcpy(p->src, &ip6->saddr, 16);
	__builtin_memcpy(p->dst, &ip6->daddr, 16);
	if (ip6->version != 6)
		return KDP_NOT_MINE;
	if (ip6->nexthdr != IPPROTO_TCP && ip6->nexthdr != IPPROTO_UDP &&
	    ip6->nexthdr != IPPROTO_ICMPV6)
		return KDP_PUNT; /* extension headers (or another protocol) */
	p->len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	if ((void *)ip6 + p->len > p->end) {
		p->reason = XGW_DROP_IP6_LEN;
		return KDP_BAD;
	}
	p->l4 = ip6 + 1;
	p->proto = ip6->nexthdr;
	return KDP_PARSED;
}

/* The frame from data to end: the packet, or a tunnel packet's inner
 * frame (kern_tun.h). */
static __always_inline int kdp_parse_frame(struct kdp_pkt *p, void *data, void *end)
{
	struct ethhdr *eth = data;
	int rc;

	p->end = end;
	if ((void *)(eth + 1) > p->end)
		return KDP_NOT_MINE;
	p->eth = eth;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		rc = kdp_parse4(p, (void *)(eth + 1));
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		rc = kdp_parse6(p, (void *)(eth + 1));
	else
		return KDP_NOT_MINE;
	if (rc != KDP_PARSED)
		return rc;
	if (p->proto == IPPROTO_TCP) {
		struct tcphdr *th = p->l4;
		if ((void *)(th + 1) > p->end) {
			p->reason = XGW_DROP_TCP_TRUNC;
			return KDP_BAD;
		}
		if (th->doff < 5) {
			p->reason = XGW_DROP_TCP_DOFF;
			return KDP_BAD;
		}
		p->sport = th->source;
		p->dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
	} else if (p->proto == IPPROTO_UDP) {
		struct udphdr *uh = p->l4;
		if ((void *)(uh + 1) > p->end) {
			p->reason = XGW_DROP_UDP_TRUNC;
			return KDP_BAD;
		}
		p->sport = uh->source;
		p->dport = uh->dest;
	} else {
		struct icmphdr *ih = p->l4; /* type, code, checksum: as ICMPv6 */
		if ((void *)(ih + 1) > p->end) {
			p->reason = XGW_DROP_ICMP_TRUNC;
			return KDP_BAD;
		}
	}
	return KDP_PARSED;
}

static __always_inline int kdp_parse(struct xdp_md *ctx, struct kdp_pkt *p)
{
	return kdp_parse_frame(p, (void *)(long)ctx->data, (void *)(long)ctx->data_end);
}

#endif
