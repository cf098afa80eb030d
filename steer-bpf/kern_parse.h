/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel datapath, parsing: untagged Ethernet, IPv4 without options and
 * not fragmented, then TCP, UDP or ICMP.  Anything else is not parsed
 * here: the caller hands it to the steering rules (and so to the
 * user-space workers, which parse VLANs, options, fragments and IPv6). */
#ifndef XGW_KERN_PARSE_H
#define XGW_KERN_PARSE_H

#include <linux/icmp.h>

enum kdp_parse {
	KDP_PARSED = 0,
	KDP_NOT_MINE, /* not IPv4/TCP/UDP/ICMP: the steering rules decide */
	KDP_PUNT,     /* IPv4 with options or a fragment: to the workers */
	KDP_BAD,      /* truncated or inconsistent: drop with reason */
};

struct kdp_pkt {
	struct ethhdr *eth;
	struct iphdr *ip;
	void *l4;
	void *end;
	__u32 len; /* bytes from the IP header on (ct accounting) */
	__be16 sport, dport;
	__u8 proto;
	__u8 tcp_flags;
	__u8 reason; /* enum xgw_drop for KDP_BAD */
};

static __always_inline int kdp_parse(struct xdp_md *ctx, struct kdp_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;

	p->end = end;
	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return KDP_NOT_MINE;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return KDP_NOT_MINE;
	p->eth = eth;
	p->ip = ip;
	if (ip->version != 4)
		return KDP_NOT_MINE;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP &&
	    ip->protocol != IPPROTO_ICMP)
		return KDP_NOT_MINE;
	if (ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)))
		return KDP_PUNT; /* options, MF or an offset */
	p->len = bpf_ntohs(ip->tot_len);
	if (p->len < sizeof(*ip) || (void *)ip + p->len > end) {
		p->reason = XGW_DROP_IP4_LEN;
		return KDP_BAD;
	}
	p->l4 = ip + 1;
	p->proto = ip->protocol;
	if (p->proto == IPPROTO_TCP) {
		struct tcphdr *th = p->l4;
		if ((void *)(th + 1) > end) {
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
		if ((void *)(uh + 1) > end) {
			p->reason = XGW_DROP_UDP_TRUNC;
			return KDP_BAD;
		}
		p->sport = uh->source;
		p->dport = uh->dest;
	} else {
		struct icmphdr *ih = p->l4;
		if ((void *)(ih + 1) > end) {
			p->reason = XGW_DROP_ICMP_TRUNC;
			return KDP_BAD;
		}
	}
	return KDP_PARSED;
}

#endif
