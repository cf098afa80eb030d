/* SPDX-License-Identifier: BSD-3-Clause */
/* The parser's fast path, inline in the worker's parse loop: the usual
 * packet (untagged option-less unfragmented IPv4 TCP/UDP) pays neither a
 * call nor a prologue; everything else goes to parse.c, which decides
 * again from the start.  Contract in common/pkt.h. */
#ifndef XGW_PARSE_FAST_H
#define XGW_PARSE_FAST_H

#include <netinet/in.h> /* first: makes linux/in6.h defer to glibc */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <linux/if_ether.h>

#include "common/csum.h"
#include "common/drop.h"
#include "common/hdr.h"
#include "common/pkt.h"

static inline uint16_t xgw_ld_be16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return ntohs(v);
}

/* The common case in a few loads and stores: untagged IPv4 without options
 * or fragmentation carrying TCP or UDP whose header checks pass.  Anything
 * else (or any check failing) returns -1 and goes the general way, which
 * then finds the same result or names the drop.  verify (a constant at
 * each call): also check the header checksum (xgw_ip4_verify), before the
 * descriptor is written, so that its flags are stored once; then 0 or
 * XGW_DROP_IP4_CSUM (the descriptor filled either way, as the general way
 * leaves it). */
static inline int xgw_parse_fast4(struct xgw_pkt *p, bool verify)
{
	const uint8_t *d = p->data, *l3 = d + ETH_HLEN, *l4 = l3 + 20;
	uint16_t et, fo;
	uint32_t tot, room, hlen, ports;
	uint8_t proto, flags = XGW_PKT_IPV4 | XGW_PKT_L4;
	int rc = XGW_DROP_NONE;

	if (p->len < ETH_HLEN + 20)
		return -1;
	memcpy(&et, d + offsetof(struct ethhdr, h_proto), 2);
	memcpy(&fo, l3 + offsetof(struct iphdr, frag_off), 2);
	if (et != htons(ETH_P_IP) || l3[0] != 0x45 || (fo & htons(XGW_IP4_MF | XGW_IP4_OFFMASK)))
		return -1;
	tot = xgw_ld_be16(l3 + offsetof(struct iphdr, tot_len));
	/* Each range check below is one unsigned compare: tot < 20 wraps
	 * room past any frame (p->len >= 34 here), as hlen < 20 and ulen <
	 * 8 wrap past room. */
	room = tot - 20;
	if (room > p->len - (ETH_HLEN + 20))
		return -1;
	proto = l3[XGW_IP4_PROTO];
	if (proto == IPPROTO_TCP) {
		if (room < sizeof(struct tcphdr))
			return -1;
		hlen = (uint32_t)(l4[XGW_TCP_DOFF] >> 2) & 0x3c; /* data offset x 4 */
		if (hlen - 20 > room - 20)
			return -1;
	} else if (proto == IPPROTO_UDP) {
		uint32_t ulen;

		if (room < sizeof(struct udphdr))
			return -1;
		ulen = xgw_ld_be16(l4 + offsetof(struct udphdr, len));
		if (ulen - sizeof(struct udphdr) > room - sizeof(struct udphdr))
			return -1;
		hlen = sizeof(struct udphdr);
	} else {
		return -1;
	}
	if (verify) {
		if (__builtin_expect(xgw_csum20_ok(l3), 1))
			flags |= XGW_PKT_IP4_CSUM_OK;
		else
			rc = XGW_DROP_IP4_CSUM;
	}
	memcpy(&ports, l4, 4); /* sport, dport: as they are on the wire */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* Two 8-byte stores for the nine fields (the headers' loads are not
	 * repeated after each narrow store, which may alias them). */
	_Static_assert(offsetof(struct xgw_pkt, l4_off) == offsetof(struct xgw_pkt, l3_off) + 2 &&
			   offsetof(struct xgw_pkt, payload_off) ==
			       offsetof(struct xgw_pkt, l3_off) + 4 &&
			   offsetof(struct xgw_pkt, l3_len) == offsetof(struct xgw_pkt, l3_off) + 6,
		       "offsets are one word");
	_Static_assert(
	    offsetof(struct xgw_pkt, l4_proto) == offsetof(struct xgw_pkt, n_vlans) + 1 &&
		offsetof(struct xgw_pkt, flags) == offsetof(struct xgw_pkt, n_vlans) + 2 &&
		offsetof(struct xgw_pkt, sport) == offsetof(struct xgw_pkt, n_vlans) + 4 &&
		offsetof(struct xgw_pkt, dport) == offsetof(struct xgw_pkt, n_vlans) + 6,
	    "n_vlans to dport are one word");
	uint64_t offs = (uint64_t)ETH_HLEN | (uint64_t)(ETH_HLEN + 20) << 16 |
			(uint64_t)(ETH_HLEN + 20 + hlen) << 32 | (uint64_t)tot << 48;
	uint64_t rest = (uint64_t)proto << 8 | (uint64_t)flags << 16 | (uint64_t)ports << 32;
	memcpy(&p->l3_off, &offs, 8);
	memcpy(&p->n_vlans, &rest, 8); /* n_vlans 0; the padding byte after flags 0 */
#else
	p->l3_off = ETH_HLEN;
	p->l4_off = ETH_HLEN + 20;
	p->payload_off = (uint16_t)(ETH_HLEN + 20 + hlen);
	p->l3_len = (uint16_t)tot;
	p->n_vlans = 0;
	p->l4_proto = proto;
	p->flags = flags;
	memcpy(&p->sport, &ports, 2);
	memcpy(&p->dport, (const uint8_t *)&ports + 2, 2);
#endif
	return rc;
}

/* xgw_parse's fast path: true when the packet took it (descriptor filled). */
static inline bool xgw_parse_fast(struct xgw_pkt *p)
{
	return xgw_parse_fast4(p, false) == 0;
}

/* xgw_parse_verify's general way (parse.c): xgw_parse, then
 * xgw_ip4_verify. */
int xgw_parse_verify_slow(struct xgw_pkt *p);

/* xgw_parse, then xgw_ip4_verify (the worker's first step), in one pass
 * for the usual untagged IPv4 TCP/UDP packet.  *fast: whether p took that
 * pass (then it is IPv4 TCP or UDP with ports and no fragment), so that
 * the caller need not test the descriptor for it. */
static inline int xgw_parse_verify_fast(struct xgw_pkt *p, bool *fast)
{
	int rc = xgw_parse_fast4(p, true);

	*fast = rc >= 0;
	if (__builtin_expect(rc >= 0, 1))
		return rc;
	return xgw_parse_verify_slow(p);
}

/* xgw_parse_verify_fast for a caller that does not ask which way. */
static inline int xgw_parse_verify(struct xgw_pkt *p)
{
	bool fast;

	return xgw_parse_verify_fast(p, &fast);
}

#endif
