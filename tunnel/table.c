/* SPDX-License-Identifier: BSD-3-Clause */
#include "tunnel/table.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/drop.h"

struct xgw_tun_dec_slot {
	uint32_t remote;
	uint32_t type_vni; /* type << 24 | vni */
	uint32_t ep;
	uint32_t used;
};

static inline uint32_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

static inline uint32_t addr_key(const struct xgw_addr *a)
{
	return a->family == AF_INET ? a->w[0] : a->w[0] ^ a->w[1] ^ a->w[2] ^ a->w[3];
}

static inline uint8_t addr_fam(const struct xgw_addr *a)
{
	return a->family == AF_INET ? 4 : 6;
}

static inline bool slot_is(const struct xgw_tun_enc_slot *s, const struct xgw_addr *a,
			   uint16_t port, uint8_t proto)
{
	return s->key == addr_key(a) && s->port == port && s->proto == proto &&
	       s->used == addr_fam(a) && (s->used == 4 || !memcmp(s->ip6, a->b, 16));
}

static inline uint32_t dec_hash(uint32_t remote, uint32_t type_vni)
{
	return mix((uint64_t)remote << 32 | type_vni);
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t s = 16;

	while (s < n * 2)
		s <<= 1;
	return s;
}

static uint32_t ep_find_or_add(struct xgw_tun_table *t, const struct xgw_backend_cfg *b,
			       uint16_t dport)
{
	uint32_t tv = (uint32_t)b->tun << 24 | b->vni, remote = b->tun_remote.w[0];
	struct xgw_tun_dec_slot *s;
	uint32_t h;

	/* The decap index doubles as the endpoint dedup: one endpoint per
	 * (type, VNI, remote) and inner MAC; two backends behind the same
	 * endpoint with different inner MACs get two templates, found by
	 * the first for decap (the MAC plays no part there). */
	for (h = dec_hash(remote, tv) & t->dec_mask;; h = (h + 1) & t->dec_mask) {
		s = &t->dec[h];
		if (!s->used)
			break;
		if (s->remote == remote && s->type_vni == tv) {
			const struct xgw_tun_ep *e = &t->eps[s->ep];
			if (e->has_mac == b->has_inner_mac &&
			    (!b->has_inner_mac ||
			     !memcmp(e->tmpl + XGW_TUN_OUTER_LEN, b->inner_mac, 6)))
				return s->ep;
		}
	}
	xgw_tun_ep_init(&t->eps[t->n_eps], (uint8_t)b->tun, t->local, remote, dport, b->vni,
			b->has_inner_mac ? b->inner_mac : NULL);
	if (!s->used) {
		s->used = 1;
		s->remote = remote;
		s->type_vni = tv;
		s->ep = t->n_eps;
	}
	return t->n_eps++;
}

static uint32_t count_tunnels(const struct xgw_config *cfg)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < cfg->n_services; i++)
		for (unsigned b = 0; b < cfg->services[i].n_backends; b++)
			n += cfg->services[i].backends[b].tun != XGW_TUN_NONE;
	return n;
}

bool xgw_cfg_has_tunnels(const struct xgw_config *cfg)
{
	return count_tunnels(cfg) != 0;
}

struct xgw_tun_table *xgw_tun_table_build(const struct xgw_config *cfg, char *err, size_t errlen)
{
	struct xgw_tun_table *t;
	uint32_t n = count_tunnels(cfg);

	err[0] = 0;
	if (!n)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		goto nomem;
	t->local = cfg->tunnel.local_ip.w[0];
	t->vxlan_port = htons(cfg->tunnel.vxlan_port);
	t->geneve_port = htons(cfg->tunnel.geneve_port);
	/* Encap: looked up by every packet to a tunnel backend; 4 slots per
	 * entry keep the probe runs short. */
	t->enc_mask = pow2_at_least(n * 2) - 1;
	t->enc_shift = (uint32_t)(64 - __builtin_ctz(t->enc_mask + 1));
	t->dec_mask = pow2_at_least(n) - 1;
	t->eps = calloc(n, sizeof(*t->eps));
	t->enc = calloc(t->enc_mask + 1, sizeof(*t->enc));
	t->dec = calloc(t->dec_mask + 1, sizeof(*t->dec));
	if (!t->eps || !t->enc || !t->dec)
		goto nomem;
	for (unsigned i = 0; i < cfg->n_services; i++) {
		const struct xgw_service_cfg *sc = &cfg->services[i];
		for (unsigned b = 0; b < sc->n_backends; b++) {
			const struct xgw_backend_cfg *bc = &sc->backends[b];
			uint16_t port = htons(bc->port);
			uint32_t h, ep;

			if (bc->tun == XGW_TUN_NONE)
				continue;
			ep = ep_find_or_add(
			    t, bc, bc->tun == XGW_TUN_VXLAN ? t->vxlan_port : t->geneve_port);
			for (h = xgw_tun_enc_hash(t, addr_key(&bc->ip), port, sc->proto);;
			     h = (h + 1) & t->enc_mask) {
				struct xgw_tun_enc_slot *s = &t->enc[h];
				if (s->used && slot_is(s, &bc->ip, port, sc->proto))
					break; /* the first service's tunnel wins */
				if (!s->used) {
					s->key = addr_key(&bc->ip);
					if (bc->ip.family == AF_INET6)
						memcpy(s->ip6, bc->ip.b, 16);
					s->used = addr_fam(&bc->ip);
					s->port = port;
					s->proto = sc->proto;
					s->ep = ep;
					break;
				}
			}
		}
	}
	return t;
nomem:
	snprintf(err, errlen, "out of memory building the tunnel table");
	xgw_tun_table_free(t);
	return NULL;
}

void xgw_tun_table_free(struct xgw_tun_table *t)
{
	if (!t)
		return;
	free(t->eps);
	free(t->enc);
	free(t->dec);
	free(t);
}

const struct xgw_tun_ep *xgw_tun_lookup_backend(const struct xgw_tun_table *t,
						const struct xgw_addr *dst, uint16_t dport,
						uint8_t proto)
{
	for (uint32_t h = xgw_tun_enc_hash(t, addr_key(dst), dport, proto);;
	     h = (h + 1) & t->enc_mask) {
		const struct xgw_tun_enc_slot *s = &t->enc[h];
		if (!s->used)
			return NULL;
		if (slot_is(s, dst, dport, proto))
			return &t->eps[s->ep];
	}
}

int xgw_tun_decap(const struct xgw_tun_table *t, struct xgw_pkt *p, uint8_t type)
{
	const uint8_t *udp = p->data + p->l4_off;
	uint32_t ulen = (uint32_t)udp[4] << 8 | udp[5];
	uint32_t vni = 0, hlen = 0, remote, tv, off;
	int rc;

	/* The parser checked the UDP length against IP's and the frame. */
	if (ulen < 8)
		return XGW_DROP_TUNNEL_TRUNC;
	rc = type == XGW_TUN_VXLAN ? xgw_vxlan_check(udp + 8, ulen - 8, &vni, &hlen)
				   : xgw_geneve_check(udp + 8, ulen - 8, &vni, &hlen);
	if (rc)
		return rc;
	memcpy(&remote, p->data + p->l3_off + 12, 4);
	tv = (uint32_t)type << 24 | vni;
	for (uint32_t h = dec_hash(remote, tv) & t->dec_mask;; h = (h + 1) & t->dec_mask) {
		const struct xgw_tun_dec_slot *s = &t->dec[h];
		if (!s->used)
			return XGW_DROP_TUNNEL_UNKNOWN;
		if (s->remote == remote && s->type_vni == tv)
			break;
	}
	off = (uint32_t)p->l4_off + 8 + hlen;
	p->len = (uint32_t)p->l4_off + ulen - off; /* outer padding dropped */
	p->data += off;
	p->addr += off;
	p->headroom = (uint16_t)(p->headroom + off);
	return 0;
}
