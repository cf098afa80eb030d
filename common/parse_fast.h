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
 * else (or any check failing) returns false and goes the general way, which
 * then finds the same result or names the drop. */
static inline bool xgw_parse_fast(struct xgw_pkt *p)
{
	const uint8_t *d = p->data, *l3 = d + ETH_HLEN, *l4 = l3 + 20;
	uint16_t et, fo;
	uint32_t tot, room, hlen;

	if (p->len < ETH_HLEN + 20)
		return false;
	memcpy(&et, d + offsetof(struct ethhdr, h_proto), 2);
	memcpy(&fo, l3 + offsetof(struct iphdr, frag_off), 2);
	if (et != htons(ETH_P_IP) || l3[0] != 0x45 || (fo & htons(XGW_IP4_MF | XGW_IP4_OFFMASK)))
		return false;
	tot = xgw_ld_be16(l3 + offsetof(struct iphdr, tot_len));
	if (tot < 20 || tot > p->len - ETH_HLEN)
		return false;
	room = tot - 20;
	if (l3[XGW_IP4_PROTO] == IPPROTO_TCP) {
		if (room < sizeof(struct tcphdr))
			return false;
		hlen = (uint32_t)(l4[XGW_TCP_DOFF] >> 4) * 4;
		if (hlen < 20 || hlen > room)
			return false;
	} else if (l3[XGW_IP4_PROTO] == IPPROTO_UDP) {
		uint32_t ulen;

		if (room < sizeof(struct udphdr))
			return false;
		ulen = xgw_ld_be16(l4 + offsetof(struct udphdr, len));
		if (ulen < sizeof(struct udphdr) || ulen > room)
			return false;
		hlen = sizeof(struct udphdr);
	} else {
		return false;
	}
	p->l3_off = ETH_HLEN;
	p->l4_off = ETH_HLEN + 20;
	p->payload_off = (uint16_t)(ETH_HLEN + 20 + hlen);
	p->l3_len = (uint16_t)tot;
	p->n_vlans = 0;
	p->l4_proto = l3[XGW_IP4_PROTO];
	p->flags = XGW_PKT_IPV4 | XGW_PKT_L4;
	memcpy(&p->sport, l4, 2);
	memcpy(&p->dport, l4 + 2, 2);
	return true;
}

/* xgw_parse_verify's general way (parse.c): xgw_parse, then
 * xgw_ip4_verify. */
int xgw_parse_verify_slow(struct xgw_pkt *p);

/* xgw_parse, then xgw_ip4_verify (the worker's first step), in one pass
 * for the usual untagged IPv4 TCP/UDP packet. */
static inline int xgw_parse_verify(struct xgw_pkt *p)
{
	if (__builtin_expect(xgw_parse_fast(p), 1)) {
		if (!xgw_csum20_ok(p->data + ETH_HLEN))
			return XGW_DROP_IP4_CSUM;
		p->flags |= XGW_PKT_IP4_CSUM_OK;
		return XGW_DROP_NONE;
	}
	return xgw_parse_verify_slow(p);
}

#endif
