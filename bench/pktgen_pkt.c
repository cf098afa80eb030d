/* SPDX-License-Identifier: BSD-3-Clause */
/* Template construction and stamp parsing for xgw-pktgen. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "bench/pktgen_pkt.h"
#include "common/csum.h"

uint32_t pg_hdr_len(enum pg_layout l)
{
	static const uint32_t len[] = {
	    [PG_V4_UDP] = 42, [PG_V4_TCP] = 54, [PG_V6_UDP] = 62, [PG_V6_TCP] = 74};
	return len[l];
}

uint32_t pg_ports_per_addr(uint16_t sport, uint32_t flows)
{
	uint32_t room = 65536u - sport;

	if (flows == 0)
		return 1;
	return flows < room ? flows : room;
}

void pg_flow_tuple(const struct pg_pkt_params *p, uint32_t flow, struct xgw_addr *src,
		   uint16_t *sport)
{
	uint32_t port_i, addr_i, ppa = pg_ports_per_addr(p->sport, p->flows);
	int last = p->src.family == AF_INET6 ? 3 : 0;

	pg_flow_split(flow, ppa, &port_i, &addr_i);
	*src = p->src;
	src->w[last] = htonl(ntohl(p->src.w[last]) + addr_i);
	*sport = (uint16_t)(p->sport + port_i);
}

/* Sum of the pseudo-header (RFC 768 / RFC 8200 8.1), not folded. */
static uint64_t pseudo_sum(const uint8_t *l3, int v4, uint32_t l4_len, uint8_t proto)
{
	uint64_t s;

	if (v4)
		s = xgw_csum_partial(l3 + 12, 8, 0);
	else
		s = xgw_csum_partial(l3 + 8, 32, 0);
	return s + htonl(l4_len) + htonl(proto);
}

static uint16_t l4_csum(const uint8_t *l3, const uint8_t *l4, int v4, uint32_t l4_len,
			uint8_t proto)
{
	uint64_t s = xgw_csum_partial(l4, l4_len, pseudo_sum(l3, v4, l4_len, proto));
	return (uint16_t)~xgw_csum_fold(s);
}

int pg_tpl_build(const struct pg_pkt_params *p, struct pg_fill_cfg *cfg, uint8_t *frame, char *err,
		 size_t errlen)
{
	int v4 = p->src.family == AF_INET, udp = p->proto == PG_PROTO_UDP;
	uint8_t l4p = udp ? IPPROTO_UDP : IPPROTO_TCP;
	enum pg_layout lay;
	uint32_t hlen, l3_len, l4_len, l4_off;
	uint8_t *l3 = frame + PG_L3_OFF, *l4;

	if (p->src.family != p->dst.family || (!v4 && p->src.family != AF_INET6)) {
		snprintf(err, errlen, "source and destination must both be IPv4 or IPv6");
		return -EINVAL;
	}
	if (p->size < PG_SIZE_MIN || p->size > PG_SIZE_MAX) {
		snprintf(err, errlen, "size %u outside %d..%d", p->size, PG_SIZE_MIN, PG_SIZE_MAX);
		return -EINVAL;
	}
	if (p->flows == 0) {
		snprintf(err, errlen, "flows must be at least 1");
		return -EINVAL;
	}
	lay = v4 ? (udp ? PG_V4_UDP : PG_V4_TCP) : (udp ? PG_V6_UDP : PG_V6_TCP);
	hlen = pg_hdr_len(lay);
	if (p->size < hlen) {
		snprintf(err, errlen, "size %u shorter than the %u-byte headers", p->size, hlen);
		return -EINVAL;
	}
	l4_off = v4 ? 34 : 54;
	l3_len = p->size - PG_L3_OFF;
	l4_len = p->size - l4_off;
	l4 = frame + l4_off;

	memset(frame, 0, p->size);
	memset(cfg, 0, sizeof(*cfg));
	memcpy(frame, p->dst_mac, 6);
	memcpy(frame + 6, p->src_mac, 6);
	frame[12] = v4 ? 0x08 : 0x86;
	frame[13] = v4 ? 0x00 : 0xdd;
	if (v4) {
		l3[0] = 0x45;
		l3[2] = l3_len >> 8;
		l3[3] = l3_len & 0xff;
		l3[6] = 0x40; /* DF */
		l3[8] = 64;
		l3[9] = l4p;
		memcpy(l3 + 12, p->src.b, 4);
		memcpy(l3 + 16, p->dst.b, 4);
		uint16_t c = xgw_csum(l3, 20);
		memcpy(l3 + 10, &c, 2);
		cfg->ip_csum = c;
	} else {
		l3[0] = 0x60;
		l3[4] = l4_len >> 8;
		l3[5] = l4_len & 0xff;
		l3[6] = l4p;
		l3[7] = 64;
		memcpy(l3 + 8, p->src.b, 16);
		memcpy(l3 + 24, p->dst.b, 16);
	}
	uint16_t sp = htons(p->sport), dp = htons(p->dport);
	memcpy(l4, &sp, 2);
	memcpy(l4 + 2, &dp, 2);
	if (udp) {
		l4[4] = l4_len >> 8;
		l4[5] = l4_len & 0xff;
	} else {
		uint32_t tseq = htonl(1), tack = htonl(p->proto == PG_PROTO_TCP_ACK ? 1 : 0);
		memcpy(l4 + 4, &tseq, 4);
		memcpy(l4 + 8, &tack, 4);
		l4[12] = 5 << 4; /* data offset: 20 bytes, no options */
		l4[13] = p->proto == PG_PROTO_TCP_SYN ? 0x02 : 0x10;
		l4[14] = 0xff; /* window 65535 */
		l4[15] = 0xff;
	}
	cfg->stamp = p->size >= hlen + PG_STAMP_LEN;
	if (cfg->stamp) {
		uint32_t m = htonl(PG_STAMP_MAGIC);
		memcpy(frame + hlen, &m, 4);
	}
	uint16_t c4 = l4_csum(l3, l4, v4, l4_len, l4p);
	if (udp && c4 == 0)
		c4 = 0xffff;
	memcpy(l4 + (udp ? 6 : 16), &c4, 2);

	memcpy(cfg->tpl, frame, hlen);
	cfg->flows = p->flows;
	cfg->ports_per_addr = pg_ports_per_addr(p->sport, p->flows);
	cfg->addr_base = ntohl(p->src.w[v4 ? 0 : 3]);
	cfg->sport_base = p->sport;
	cfg->l4_csum = c4;
	cfg->layout = (uint8_t)lay;
	return 0;
}

int pg_rx_parse(const uint8_t *frame, uint32_t len, bool verify, struct pg_rx_info *ri)
{
	const uint8_t *l3 = frame + PG_L3_OFF, *l4, *end = frame + len;
	uint32_t l4_len, hl;
	uint8_t proto;
	int v4;

	memset(ri, 0, sizeof(*ri));
	if (len < PG_L3_OFF + 20)
		return -1;
	if (frame[12] == 0x08 && frame[13] == 0x00 && (l3[0] >> 4) == 4) {
		uint32_t ihl = (l3[0] & 0xf) * 4u, tot = (uint32_t)l3[2] << 8 | l3[3];

		if (ihl < 20 || tot < ihl || l3 + tot > end)
			return -1;
		v4 = 1;
		proto = l3[9];
		l4 = l3 + ihl;
		l4_len = tot - ihl;
		if (verify && xgw_csum(l3, ihl) != 0)
			ri->csum_bad = true;
	} else if (frame[12] == 0x86 && frame[13] == 0xdd && (l3[0] >> 4) == 6) {
		if (l3 + 40 > end)
			return -1;
		v4 = 0;
		proto = l3[6];
		l4 = l3 + 40;
		l4_len = (uint32_t)l3[4] << 8 | l3[5];
		if (l4 + l4_len > end)
			return -1;
	} else {
		return -1;
	}
	if (proto == IPPROTO_UDP && l4_len >= 8)
		hl = 8;
	else if (proto == IPPROTO_TCP && l4_len >= 20 && (l4[12] >> 4) * 4u <= l4_len)
		hl = (l4[12] >> 4) * 4u;
	else
		return -1;
	/* A zero UDP checksum over IPv4 means "none sent". */
	if (verify && !(v4 && hl == 8 && l4[6] == 0 && l4[7] == 0)) {
		uint64_t s = xgw_csum_partial(l4, l4_len, pseudo_sum(l3, v4, l4_len, proto));
		if (xgw_csum_fold(s) != 0xffff)
			ri->csum_bad = true;
	}
	if (l4_len >= hl + PG_STAMP_LEN) {
		const uint8_t *s = l4 + hl;
		uint32_t w[5];

		memcpy(w, s, sizeof(w));
		if (ntohl(w[0]) == PG_STAMP_MAGIC) {
			ri->stamped = true;
			ri->seq = (uint64_t)ntohl(w[1]) << 32 | ntohl(w[2]);
			ri->ts = (uint64_t)ntohl(w[3]) << 32 | ntohl(w[4]);
		}
	}
	return 0;
}
