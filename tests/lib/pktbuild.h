/* SPDX-License-Identifier: BSD-3-Clause */
/* Test frame builder: Ethernet (+ VLAN tags) / IPv4 or IPv6 (+ options or
 * extension headers) / UDP, TCP, ICMP echo, ICMPv6 echo or raw payload, with
 * correct checksums, into a caller buffer.  Plus an independent checksum
 * verifier (full recomputation, not RFC 1624 updates) for tests of NAT and
 * TTL rewrites.
 *
 * Every field of struct xgw_pb has a usable zero value, so a test writes
 * only what it cares about:
 *
 *	struct xgw_pb b = { .src = xgw_pb_ip("198.18.0.1"),
 *			    .dst = xgw_pb_ip("198.18.100.1"),
 *			    .proto = IPPROTO_TCP, .sport = 40000, .dport = 80,
 *			    .tcp_flags = XGW_PB_SYN };
 *	int len = xgw_pb_build(&b, buf, sizeof(buf));
 */
#ifndef XGW_TESTS_PKTBUILD_H
#define XGW_TESTS_PKTBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

/* More than XGW_MAX_VLANS so that tests can build too-deep stacks. */
#define XGW_PB_MAX_VLANS 4
/* More than the parser's cap so that tests can build too-long chains. */
#define XGW_PB_MAX_EXT 12

/* TCP flag bits for xgw_pb.tcp_flags (byte 13 of the TCP header). */
enum {
	XGW_PB_FIN = 0x01,
	XGW_PB_SYN = 0x02,
	XGW_PB_RST = 0x04,
	XGW_PB_PSH = 0x08,
	XGW_PB_ACK = 0x10,
};

struct xgw_pb {
	uint8_t dst_mac[6];
	uint8_t src_mac[6];

	/* VLAN tags, outermost first.  A TPID of 0 means 802.1ad (0x88a8)
	 * for an outer tag of a stack and 802.1Q (0x8100) otherwise. */
	uint8_t n_vlans;
	uint16_t vlan_tpid[XGW_PB_MAX_VLANS];
	uint16_t vlan_tci[XGW_PB_MAX_VLANS]; /* host order */

	/* Non-zero: this EtherType and then only the payload (ARP, LLDP...);
	 * the IP and L4 fields are ignored. */
	uint16_t ethertype;

	/* The family of src selects IPv4 or IPv6; dst must match. */
	struct xgw_addr src;
	struct xgw_addr dst;
	uint8_t proto; /* IPPROTO_UDP, _TCP, _ICMP, _ICMPV6; others: raw payload */
	uint8_t ttl;   /* TTL / hop limit; 0 means 64 */
	uint8_t tos;   /* TOS / traffic class */
	uint16_t ip_id;
	/* IPv4: the frag_off field as it goes on the wire, host order
	 * (0x2000 = MF, low 13 bits = offset in 8-byte units).
	 * IPv6: the fragment header's offset-and-flags word, host order
	 * (offset in bytes, multiple of 8, | 1 for M); used by the
	 * IPPROTO_FRAGMENT entries in ext[]. */
	uint16_t frag;
	uint8_t ip4_opt_len; /* IPv4 options, multiple of 4, <= 40 (NOPs) */

	/* IPv6 extension headers in order (IPPROTO_HOPOPTS, _ROUTING,
	 * _DSTOPTS, _FRAGMENT), each the minimal 8 bytes. */
	uint8_t n_ext;
	uint8_t ext[XGW_PB_MAX_EXT];

	/* Host order.  ICMP/ICMPv6 echo: sport is the identifier and dport
	 * the sequence number. */
	uint16_t sport;
	uint16_t dport;

	uint8_t tcp_flags;   /* XGW_PB_* */
	uint32_t seq;	     /* host order */
	uint32_t ack;	     /* host order */
	uint16_t window;     /* 0 means 65535 */
	uint8_t tcp_opt_len; /* TCP options, multiple of 4, <= 40 (NOPs) */

	bool echo_reply; /* ICMP/ICMPv6: echo reply instead of request */
	bool icmp_other; /* ICMP/ICMPv6: use icmp_type/icmp_code instead of
			  * an echo; bytes 4..7 are then sport and dport */
	uint8_t icmp_type;
	uint8_t icmp_code;

	const void *payload;
	size_t payload_len;

	/* Zero-pad the frame to at least this length (60 = Ethernet minimum
	 * without FCS): the padding is outside the IP packet. */
	uint16_t pad_to;
};

/* Builds the frame; returns its length or -ENOSPC (buffer too small) or
 * -EINVAL (inconsistent spec). */
int xgw_pb_build(const struct xgw_pb *b, uint8_t *buf, size_t cap);

/* Offsets of what xgw_pb_build wrote, computed from the spec alone (not by
 * parsing), so that tests can cross-check a parser and patch fields. */
struct xgw_pb_layout {
	uint16_t l3_off;
	uint16_t l4_off;      /* start of the L4 header (after v6 ext headers) */
	uint16_t payload_off; /* start of the payload */
	uint16_t l3_len;      /* IPv4 total length or 40 + payload length */
	uint16_t frame_len;   /* including pad_to padding */
};
int xgw_pb_layout(const struct xgw_pb *b, struct xgw_pb_layout *lo);

/* Address from a literal; aborts on a typo (tests only). */
struct xgw_addr xgw_pb_ip(const char *s);

/* True when the frame's IPv4 header checksum (if IPv4) and its TCP, UDP,
 * ICMP or ICMPv6 checksum are right, recomputed in full.  An IPv4 UDP
 * checksum of 0 ("none") is right; an IPv6 one is not.  Fragments get only
 * the IPv4 header check (their L4 checksum covers the whole datagram), as do
 * other protocols.  False also when the frame does not parse. */
bool xgw_pb_csum_ok(const uint8_t *frame, size_t len);

/* Recomputes and stores those checksums in place (after a test has patched
 * header bytes); 0, or the drop reason if the frame does not parse. */
int xgw_pb_csum_fill(uint8_t *frame, size_t len);

#endif
