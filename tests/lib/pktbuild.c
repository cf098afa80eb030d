/* SPDX-License-Identifier: BSD-3-Clause */
/* Test frame builder and checksum verifier (see pktbuild.h).
 *
 * Checksums here are computed byte-pair by byte-pair in big-endian, on
 * purpose not with common/csum.h: the verifier is the reference that the
 * incremental updates in csum.h and the NAT are checked against. */
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/drop.h"
#include "common/pkt.h"
#include "tests/lib/pktbuild.h"

#define ETH_HDR	 14
#define VLAN_HDR 4
#define IP4_HDR	 20
#define IP6_HDR	 40
#define EXT_HDR	 8
#define TCP_HDR	 20
#define UDP_HDR	 8
#define ICMP_HDR 8

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071 sum of big-endian 16-bit words, an odd last byte padded. */
static uint64_t sum_be(const uint8_t *p, size_t n, uint64_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += get16(p + i);
	if (i < n)
		s += (uint64_t)p[i] << 8;
	return s;
}

static uint16_t fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static bool is_icmp(uint8_t proto, bool v6)
{
	return v6 ? proto == IPPROTO_ICMPV6 : proto == IPPROTO_ICMP;
}

/* Offset of the checksum field in the L4 header, or -1 for none. */
static int l4_csum_field(uint8_t proto, bool v6)
{
	if (proto == IPPROTO_TCP)
		return 16;
	if (proto == IPPROTO_UDP)
		return 6;
	if (is_icmp(proto, v6))
		return 2;
	return -1;
}

/* Sum over the pseudo header (not for ICMPv4) and the L4 bytes
 * [l4_off, end), including whatever the checksum field holds. */
static uint64_t l4_sum(const uint8_t *f, size_t l3_off, size_t l4_off, size_t end, uint8_t proto,
		       bool v6)
{
	uint32_t len = (uint32_t)(end - l4_off);
	uint64_t s = 0;

	if (v6) {
		s = sum_be(f + l3_off + 8, 32, s);
		s += len >> 16;
		s += len & 0xffff;
		s += proto;
	} else if (proto != IPPROTO_ICMP) {
		s = sum_be(f + l3_off + 12, 8, s);
		s += proto;
		s += len;
	}
	return sum_be(f + l4_off, len, s);
}

/* End of the bytes the L4 checksum covers: UDP says so itself. */
static size_t l4_end(const uint8_t *f, size_t l4_off, size_t ip_end, uint8_t proto)
{
	if (proto == IPPROTO_UDP)
		return l4_off + get16(f + l4_off + 4);
	return ip_end;
}

static void fill_l4(uint8_t *f, size_t l3_off, size_t l4_off, size_t end, uint8_t proto, bool v6)
{
	int field = l4_csum_field(proto, v6);
	uint16_t c;

	if (field < 0)
		return;
	put16(f + l4_off + field, 0);
	c = (uint16_t)~fold(l4_sum(f, l3_off, l4_off, end, proto, v6));
	/* UDP sends a computed 0 as 0xffff: 0 means "no checksum". */
	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	put16(f + l4_off + field, c);
}

static void fill_ip4(uint8_t *f, size_t l3_off)
{
	size_t hlen = (size_t)(f[l3_off] & 0x0f) * 4;

	put16(f + l3_off + 10, 0);
	put16(f + l3_off + 10, (uint16_t)~fold(sum_be(f + l3_off, hlen, 0)));
}

static bool is_v6(const struct xgw_pb *b)
{
	return b->src.family == AF_INET6;
}

static size_t l4_hdr_len(const struct xgw_pb *b)
{
	if (b->proto == IPPROTO_TCP)
		return TCP_HDR + b->tcp_opt_len;
	if (b->proto == IPPROTO_UDP)
		return UDP_HDR;
	if (is_icmp(b->proto, is_v6(b)))
		return ICMP_HDR;
	return 0;
}

int xgw_pb_layout(const struct xgw_pb *b, struct xgw_pb_layout *lo)
{
	size_t l3_off = ETH_HDR + (size_t)b->n_vlans * VLAN_HDR;
	size_t l3_hdr, l3_len, frame;

	if (b->n_vlans > XGW_PB_MAX_VLANS)
		return -EINVAL;
	if (b->ethertype) {
		l3_hdr = 0;
	} else if (b->src.family == AF_INET && b->dst.family == AF_INET) {
		if (b->ip4_opt_len % 4 || b->ip4_opt_len > 40)
			return -EINVAL;
		l3_hdr = IP4_HDR + b->ip4_opt_len;
	} else if (b->src.family == AF_INET6 && b->dst.family == AF_INET6) {
		if (b->n_ext > XGW_PB_MAX_EXT)
			return -EINVAL;
		for (int i = 0; i < b->n_ext; i++) {
			uint8_t t = b->ext[i];
			if (t != IPPROTO_HOPOPTS && t != IPPROTO_ROUTING && t != IPPROTO_DSTOPTS &&
			    t != IPPROTO_FRAGMENT)
				return -EINVAL;
		}
		l3_hdr = IP6_HDR + (size_t)b->n_ext * EXT_HDR;
	} else {
		return -EINVAL;
	}
	if (b->proto == IPPROTO_TCP && (b->tcp_opt_len % 4 || b->tcp_opt_len > 40))
		return -EINVAL;

	l3_len = l3_hdr + (b->ethertype ? 0 : l4_hdr_len(b)) + b->payload_len;
	if (l3_len > UINT16_MAX)
		return -EINVAL;
	frame = l3_off + l3_len;
	if (frame < b->pad_to)
		frame = b->pad_to;
	if (frame > UINT16_MAX)
		return -EINVAL;

	lo->l3_off = (uint16_t)l3_off;
	lo->l4_off = (uint16_t)(l3_off + l3_hdr);
	lo->payload_off = (uint16_t)(lo->l4_off + (b->ethertype ? 0 : l4_hdr_len(b)));
	lo->l3_len = b->ethertype ? 0 : (uint16_t)l3_len;
	lo->frame_len = (uint16_t)frame;
	return 0;
}

static void build_ip4(const struct xgw_pb *b, uint8_t *h, uint16_t l3_len)
{
	h[0] = (uint8_t)(0x40 | (IP4_HDR + b->ip4_opt_len) / 4);
	h[1] = b->tos;
	put16(h + 2, l3_len);
	put16(h + 4, b->ip_id);
	put16(h + 6, b->frag);
	h[8] = b->ttl ? b->ttl : 64;
	h[9] = b->proto;
	put16(h + 10, 0);
	memcpy(h + 12, b->src.b, 4);
	memcpy(h + 16, b->dst.b, 4);
	memset(h + IP4_HDR, 1 /* NOP */, b->ip4_opt_len);
}

static void build_ip6(const struct xgw_pb *b, uint8_t *h, uint16_t l3_len)
{
	uint8_t *e = h + IP6_HDR;

	put32(h, 6u << 28 | (uint32_t)b->tos << 20);
	put16(h + 4, (uint16_t)(l3_len - IP6_HDR));
	h[6] = b->n_ext ? b->ext[0] : b->proto;
	h[7] = b->ttl ? b->ttl : 64;
	memcpy(h + 8, b->src.b, 16);
	memcpy(h + 24, b->dst.b, 16);

	for (int i = 0; i < b->n_ext; i++, e += EXT_HDR) {
		memset(e, 0, EXT_HDR);
		e[0] = i + 1 < b->n_ext ? b->ext[i + 1] : b->proto;
		if (b->ext[i] == IPPROTO_FRAGMENT) {
			put16(e + 2, b->frag);
			put32(e + 4, b->ip_id);
		} else if (b->ext[i] == IPPROTO_ROUTING) {
			/* Type 0 with segments left 0: ignored by receivers
			 * (RFC 5095), bytes 4..7 reserved. */
			e[1] = 0;
		} else {
			/* Hop-by-hop / destination options: one PadN filling
			 * the 6 option bytes. */
			e[2] = 1;
			e[3] = 4;
		}
	}
}

static void build_l4(const struct xgw_pb *b, uint8_t *h, uint16_t l4_len)
{
	if (b->proto == IPPROTO_TCP) {
		memset(h, 0, TCP_HDR);
		put16(h, b->sport);
		put16(h + 2, b->dport);
		put32(h + 4, b->seq);
		put32(h + 8, b->ack);
		h[12] = (uint8_t)((TCP_HDR + b->tcp_opt_len) / 4 << 4);
		h[13] = b->tcp_flags;
		put16(h + 14, b->window ? b->window : 65535);
		memset(h + TCP_HDR, 1 /* NOP */, b->tcp_opt_len);
	} else if (b->proto == IPPROTO_UDP) {
		put16(h, b->sport);
		put16(h + 2, b->dport);
		put16(h + 4, l4_len);
		put16(h + 6, 0);
	} else if (is_icmp(b->proto, is_v6(b))) {
		bool v6 = is_v6(b);

		if (b->icmp_other) {
			h[0] = b->icmp_type;
			h[1] = b->icmp_code;
		} else if (b->echo_reply) {
			h[0] = v6 ? 129 : 0; /* ICMPV6_ECHO_REPLY, ICMP_ECHOREPLY */
			h[1] = 0;
		} else {
			h[0] = v6 ? 128 : 8; /* ICMPV6_ECHO_REQUEST, ICMP_ECHO */
			h[1] = 0;
		}
		put16(h + 2, 0);
		put16(h + 4, b->sport);
		put16(h + 6, b->dport);
	}
}

int xgw_pb_build(const struct xgw_pb *b, uint8_t *buf, size_t cap)
{
	struct xgw_pb_layout lo;
	uint8_t *p = buf;
	int err = xgw_pb_layout(b, &lo);

	if (err)
		return err;
	if (cap < lo.frame_len)
		return -ENOSPC;
	memset(buf, 0, lo.frame_len);

	memcpy(p, b->dst_mac, 6);
	memcpy(p + 6, b->src_mac, 6);
	p += 12;
	for (int i = 0; i < b->n_vlans; i++, p += VLAN_HDR) {
		uint16_t tpid = b->vlan_tpid[i];

		if (!tpid)
			tpid = b->n_vlans > 1 && i == 0 ? 0x88a8 : 0x8100;
		put16(p, tpid);
		put16(p + 2, b->vlan_tci[i]);
	}
	if (b->ethertype) {
		put16(p, b->ethertype);
	} else {
		put16(p, is_v6(b) ? 0x86dd : 0x0800);
		if (is_v6(b))
			build_ip6(b, buf + lo.l3_off, lo.l3_len);
		else
			build_ip4(b, buf + lo.l3_off, lo.l3_len);
		build_l4(b, buf + lo.l4_off, (uint16_t)(lo.l3_off + lo.l3_len - lo.l4_off));
	}
	if (b->payload_len)
		memcpy(buf + lo.payload_off, b->payload, b->payload_len);

	if (!b->ethertype) {
		if (!is_v6(b))
			fill_ip4(buf, lo.l3_off);
		fill_l4(buf, lo.l3_off, lo.l4_off, lo.l3_off + lo.l3_len, b->proto, is_v6(b));
	}
	return lo.frame_len;
}

struct xgw_addr xgw_pb_ip(const char *s)
{
	struct xgw_addr a;

	if (xgw_addr_parse(&a, s)) {
		fprintf(stderr, "pktbuild: bad address literal '%s'\n", s);
		abort();
	}
	return a;
}

/* Where the checksums are, found by the parser under test elsewhere; the
 * sums themselves are recomputed here from the bytes. */
static int locate(const uint8_t *frame, size_t len, struct xgw_pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->data = (uint8_t *)frame; /* xgw_parse only reads */
	p->len = (uint32_t)len;
	return xgw_parse(p);
}

static bool l4_checked(const struct xgw_pkt *p)
{
	return (p->flags & XGW_PKT_L4) && !(p->flags & XGW_PKT_FRAG) &&
	       l4_csum_field(p->l4_proto, p->flags & XGW_PKT_IPV6) >= 0;
}

bool xgw_pb_csum_ok(const uint8_t *frame, size_t len)
{
	struct xgw_pkt p;
	bool v6;

	if (len > UINT32_MAX || locate(frame, len, &p) != XGW_DROP_NONE)
		return false;
	v6 = p.flags & XGW_PKT_IPV6;
	if (!v6) {
		size_t hlen = (size_t)(frame[p.l3_off] & 0x0f) * 4;

		if (fold(sum_be(frame + p.l3_off, hlen, 0)) != 0xffff)
			return false;
	}
	if (!l4_checked(&p))
		return true;
	if (p.l4_proto == IPPROTO_UDP && get16(frame + p.l4_off + 6) == 0)
		return !v6; /* optional for IPv4 only (RFC 8200 8.1) */
	return fold(l4_sum(frame, p.l3_off, p.l4_off,
			   l4_end(frame, p.l4_off, p.l3_off + p.l3_len, p.l4_proto), p.l4_proto,
			   v6)) == 0xffff;
}

int xgw_pb_csum_fill(uint8_t *frame, size_t len)
{
	struct xgw_pkt p;
	int ret;

	if (len > UINT32_MAX)
		return -EINVAL;
	ret = locate(frame, len, &p);
	if (ret != XGW_DROP_NONE)
		return ret;
	if (p.flags & XGW_PKT_IPV4)
		fill_ip4(frame, p.l3_off);
	if (l4_checked(&p))
		fill_l4(frame, p.l3_off, p.l4_off,
			l4_end(frame, p.l4_off, p.l3_off + p.l3_len, p.l4_proto), p.l4_proto,
			p.flags & XGW_PKT_IPV6);
	return 0;
}
