/* SPDX-License-Identifier: BSD-3-Clause */
/* Random policy rules and packets: see policy_gen.h. */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "tests/lib/policy_gen.h"

static uint64_t rnd(struct xgw_polgen *g)
{
	/* splitmix64: reproducible across libcs. */
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rndn(struct xgw_polgen *g, unsigned n)
{
	return (unsigned)(rnd(g) % n);
}

void xgw_polgen_init(struct xgw_polgen *g, uint64_t seed)
{
	*g = (struct xgw_polgen){
	    .rng = seed, .mix = XGW_POLGEN_SITES, .addr_wild_permille = 10, .pkt_edges = false};
}

/* full: uniform addresses, outside the sites. */
static void rnd_addr(struct xgw_polgen *g, struct xgw_addr *a, int v6, bool full)
{
	if (v6) {
		uint8_t b[16];
		uint64_t hi = 0x20010db800000000ull | ((uint64_t)rndn(g, 32) << 16), lo = rnd(g);

		if (full || rndn(g, 8) == 0)
			hi = rnd(g);
		for (int i = 0; i < 8; i++) {
			b[i] = (uint8_t)(hi >> (56 - 8 * i));
			b[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
		}
		xgw_addr_v6(a, b);
	} else {
		uint32_t v = (0xc6120000u + (rndn(g, 32) << 11)) ^ (uint32_t)rndn(g, 2048);

		if (full || rndn(g, 8) == 0)
			v = (uint32_t)rnd(g);
		xgw_addr_v4(a, htonl(v));
	}
}

static uint8_t rnd_len(struct xgw_polgen *g, int v6)
{
	static const uint8_t common4[] = {8, 16, 20, 24, 24, 28, 32, 32};
	static const uint8_t common6[] = {32, 40, 48, 56, 64, 64, 96, 128};

	if (g->mix == XGW_POLGEN_BROAD)
		return (uint8_t)rndn(g, v6 ? 49 : 17);
	if (g->mix == XGW_POLGEN_DEEP)
		return (uint8_t)(8 + rndn(g, v6 ? 121 : 25));
	if (rndn(g, 4) == 0 || (g->mix == XGW_POLGEN_V6 && rndn(g, 2)))
		return (uint8_t)rndn(g, v6 ? 129 : 33);
	return v6 ? common6[rndn(g, 8)] : common4[rndn(g, 8)];
}

static void rnd_prefix(struct xgw_polgen *g, struct xgw_prefix *p, int v6)
{
	rnd_addr(g, &p->addr, v6, g->mix == XGW_POLGEN_DEEP);
	p->len = rnd_len(g, v6);
	xgw_addr_mask(&p->addr, p->len);
}

static void rnd_ports(struct xgw_polgen *g, struct xgw_policy_cfg *r)
{
	static const uint16_t ports[] = {22, 53, 80, 443, 8080, 3306, 5432, 6379};
	unsigned pk = rndn(g, 10);

	if (pk < 4 || r->proto == IPPROTO_ICMP) {
		r->dport_lo = 0;
		r->dport_hi = 65535;
	} else if (pk < 8 && g->mix != XGW_POLGEN_BROAD) {
		r->dport_lo = r->dport_hi =
		    rndn(g, 2) ? ports[rndn(g, 8)] : (uint16_t)(1 + rndn(g, 65535));
	} else if (g->mix == XGW_POLGEN_BROAD) {
		r->dport_lo = (uint16_t)rndn(g, 65536);
		r->dport_hi = (uint16_t)(r->dport_lo + rndn(g, 65536u - r->dport_lo));
	} else if (rndn(g, 20) == 0) {
		r->dport_lo = 1024;
		r->dport_hi = 65535;
	} else {
		r->dport_lo = (uint16_t)(1 + rndn(g, 64000));
		r->dport_hi = (uint16_t)(r->dport_lo + rndn(g, 1024));
	}
}

void xgw_polgen_rule(struct xgw_polgen *g, struct xgw_policy_cfg *r, uint32_t id)
{
	int v6 = g->mix == XGW_POLGEN_V6 ? rndn(g, 10) < 9 : rndn(g, 10) < 3;

	memset(r, 0, sizeof(*r));
	r->id = id;
	r->allow = rndn(g, 2);
	if (rndn(g, 10) >= 3 || g->mix == XGW_POLGEN_DEEP)
		rnd_prefix(g, &r->src, v6);
	if (rndn(g, 10) >= 2 || g->mix == XGW_POLGEN_DEEP ||
	    (!r->src.addr.family && rndn(g, 1000) >= g->addr_wild_permille))
		rnd_prefix(g, &r->dst, v6);
	unsigned pr = rndn(g, 20);
	r->proto = pr < 6 ? 0 : pr < 14 ? IPPROTO_TCP : pr < 19 ? IPPROTO_UDP : IPPROTO_ICMP;
	rnd_ports(g, r);
}

void xgw_polgen_rules(struct xgw_polgen *g, struct xgw_policy_cfg *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		xgw_polgen_rule(g, &r[i], i + 1);
}

typedef unsigned __int128 u128;

static u128 addr_u128(const struct xgw_addr *a)
{
	u128 v = 0;

	for (int i = 0; i < (a->family == AF_INET6 ? 16 : 4); i++)
		v = v << 8 | a->b[i];
	return v;
}

static void u128_addr(struct xgw_addr *a, u128 v)
{
	for (int i = (a->family == AF_INET6 ? 16 : 4) - 1; i >= 0; i--, v >>= 8)
		a->b[i] = (uint8_t)v;
}

/* Move a packet address to its prefix's first or last address, or one
 * outside (wrapping at the ends of the family). */
static void edge_addr(struct xgw_polgen *g, struct xgw_addr *a, const struct xgw_prefix *pf)
{
	int bits = xgw_addr_bits(a);
	u128 all = bits == 128 ? ~(u128)0 : ((u128)1 << bits) - 1;
	u128 host = pf->len >= bits ? 0 : pf->len == 0 ? all : ((u128)1 << (bits - pf->len)) - 1;
	u128 v = addr_u128(&pf->addr) & ~host & all;

	switch (rndn(g, 4)) {
	case 0:
		break;
	case 1:
		v |= host;
		break;
	case 2:
		v = (v - 1) & all;
		break;
	default:
		v = ((v | host) + 1) & all;
	}
	u128_addr(a, v);
}

void xgw_polgen_pkt(struct xgw_polgen *g, struct xgw_policy_key *k, const struct xgw_policy_cfg *r,
		    unsigned n)
{
	const struct xgw_policy_cfg *t = n && rndn(g, 2) ? &r[rndn(g, n)] : NULL;
	int v6 = rndn(g, 10) < 3;
	bool full;

	if (g->mix == XGW_POLGEN_V6)
		v6 = rndn(g, 10) < 9;
	full = !t && rndn(g, 2);
	if (t && (t->src.addr.family || t->dst.addr.family))
		v6 = (t->src.addr.family ? t->src.addr.family : t->dst.addr.family) == AF_INET6;
	rnd_addr(g, &k->src, v6, full);
	rnd_addr(g, &k->dst, v6, full);
	k->proto = rndn(g, 3) ? IPPROTO_TCP : IPPROTO_UDP;
	k->dport = (uint16_t)rndn(g, 65536);
	if (rndn(g, 4) == 0)
		k->dport = (uint16_t)(rndn(g, 2) ? 443 : 22);
	if (!t)
		return;
	for (int side = 0; side < 2; side++) {
		const struct xgw_prefix *pf = side ? &t->dst : &t->src;
		struct xgw_addr *a = side ? &k->dst : &k->src;

		if (!pf->addr.family)
			continue;
		if (g->pkt_edges) {
			edge_addr(g, a, pf);
			continue;
		}
		for (int i = 0; i < 16; i++) {
			int bit0 = i * 8;
			uint8_t keep = pf->len >= bit0 + 8 ? 0xff
				       : pf->len <= bit0
					   ? 0
					   : (uint8_t)(0xff << (8 - (pf->len - bit0)));

			a->b[i] = (pf->addr.b[i] & keep) | (a->b[i] & ~keep);
		}
		if (a->family == AF_INET)
			a->w[1] = a->w[2] = a->w[3] = 0;
	}
	if (t->proto)
		k->proto = t->proto;
	k->dport = (uint16_t)(t->dport_lo + rndn(g, (unsigned)(t->dport_hi - t->dport_lo) + 1));
	if (g->pkt_edges) {
		static const int delta[] = {0, 0, -1, 1};
		int d = delta[rndn(g, 4)];

		k->dport = (uint16_t)((d <= 0 ? t->dport_lo : t->dport_hi) + d);
		if (rndn(g, 2))
			k->dport = rndn(g, 2) ? t->dport_hi : t->dport_lo;
	}
	if (k->proto == IPPROTO_ICMP)
		k->dport = 0;
}
