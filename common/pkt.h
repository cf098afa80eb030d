/* SPDX-License-Identifier: BSD-3-Clause */
/* The packet descriptor that flows through a burst: where the frame is in
 * UMEM and what the parser found in it.  Kept to one cache line. */
#ifndef XGW_PKT_H
#define XGW_PKT_H

#include <stdint.h>

#include "common/addr.h"

#define XGW_BURST_MAX 64
#define XGW_MAX_VLANS 2

enum xgw_pkt_flags {
	XGW_PKT_IPV4 = 1 << 0,
	XGW_PKT_IPV6 = 1 << 1,
	XGW_PKT_FRAG = 1 << 2,	      /* any fragment */
	XGW_PKT_FRAG_LATER = 1 << 3,  /* not the first fragment: no L4 header */
	XGW_PKT_L4 = 1 << 4,	      /* l4_off points at a complete L4 header */
	XGW_PKT_IP4_CSUM_OK = 1 << 5, /* IPv4 header checksum verified on arrival */
};

struct xgw_pkt {
	uint64_t addr;     /* UMEM offset of data (what the rings carry) */
	uint8_t *data;     /* Ethernet header */
	uint32_t len;      /* bytes from data to the end of the frame */
	uint16_t headroom; /* bytes usable in front of data (for encap) */
	uint16_t port;     /* ingress port index */
	uint16_t queue;    /* ingress queue id */
	uint16_t out_port; /* egress port index, set by the pipeline */
	uint16_t l3_off;   /* offsets from data */
	uint16_t l4_off;
	uint16_t payload_off;
	uint16_t l3_len;   /* IP total length (v4) or 40 + payload length (v6) */
	uint16_t vlan_tci[XGW_MAX_VLANS];
	uint8_t n_vlans;
	uint8_t l4_proto; /* IPPROTO_* of the transport header, after v6 ext */
	uint8_t flags;	  /* enum xgw_pkt_flags */
	uint16_t sport;   /* network order; ICMP echo id in sport */
	uint16_t dport;
};

/* Parse Ethernet / up to two VLAN tags (802.1Q, 802.1ad) / IPv4 or IPv6
 * (hop-by-hop, routing, destination-options and fragment headers skipped) /
 * TCP, UDP, ICMP, ICMPv6, with every length checked against the frame.
 * Fills the offsets and returns 0, or an enum xgw_drop reason. */
int xgw_parse(struct xgw_pkt *p);

/* RFC 1812 5.2.2: a router verifies the IPv4 header checksum.  The worker
 * calls this right after xgw_parse, before any stage rewrites the header:
 * a corrupt header creates no connection and is counted as
 * ipv4_bad_checksum before any service, policy or echo handling sees it.
 * Sets XGW_PKT_IP4_CSUM_OK, which the forwarding stage trusts (headers
 * xgw rewrote itself are patched incrementally, RFC 1624, and not verified
 * again).  0 or XGW_DROP_IP4_CSUM; non-IPv4 packets pass. */
int xgw_ip4_verify(struct xgw_pkt *p);

/* xgw_parse, then xgw_ip4_verify, in one: xgw_parse_verify in
 * common/parse_fast.h (inline, the worker's first step). */

/* A parsed packet's addresses, read from its IP header. */
void xgw_pkt_addrs(const struct xgw_pkt *p, struct xgw_addr *src, struct xgw_addr *dst);

#endif
