/* SPDX-License-Identifier: BSD-3-Clause */
/* VXLAN (RFC 7348) and Geneve (RFC 8926) over IPv4: the codec and the
 * per-snapshot table of tunnel endpoints.
 *
 * Encap (as VPP's vxlan/encap.c): each endpoint keeps a precomputed
 * 64-byte template = outer Ethernet, IPv4, UDP, VXLAN/Geneve header and the
 * inner Ethernet header.  Per packet the template is copied into the
 * frame's headroom in front of the inner IP header (the payload never
 * moves) and only the MACs, the lengths, the outer IPv4 checksum (from a
 * precomputed partial sum) and the UDP source port (inner flow hash in
 * 49152-65535, RFC 7348 5) are patched.  Outer UDP checksum 0, as Linux
 * sends it over IPv4.
 *
 * Decap: the header is validated (VXLAN I flag; Geneve version, protocol,
 * option lengths, the TLV walk where an unknown option without the critical
 * bit is skipped and a critical one or the C bit drops), the (type, VNI,
 * outer source) triple must name a configured endpoint, and the frame then
 * starts at the inner Ethernet header. */
#ifndef XGW_TUNNEL_H
#define XGW_TUNNEL_H

#include <stdbool.h>
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/addr.h"
#include "common/pkt.h"

/* Tunnel types on the data path; the same values as ctl/config.h's enum
 * xgw_tun_type (table.c checks), which this header does not include: the
 * worker's header includes this one. */
enum xgw_tun_kind { XGW_TUNK_NONE, XGW_TUNK_VXLAN, XGW_TUNK_GENEVE, XGW_TUNK__MAX };

#define XGW_TUN_HDR_LEN	  8				  /* VXLAN, Geneve without options */
#define XGW_TUN_OUTER_LEN (14 + 20 + 8 + XGW_TUN_HDR_LEN) /* 50 */
#define XGW_TUN_TMPL_LEN  (XGW_TUN_OUTER_LEN + 14)	  /* + inner Ethernet */
/* Received AF_XDP frames have XDP_PACKET_HEADROOM (256) in front of them
 * (xsk/umem.c adds none); the template, written in front of the inner IP
 * header, must fit it. */
_Static_assert(XGW_TUN_TMPL_LEN - 14 <= 256, "the outer headers fit XDP_PACKET_HEADROOM");
/* What the outer headers add to an inner IP packet: the inner IP MTU is
 * the egress MTU minus this. */
#define XGW_TUN_OVERHEAD     (XGW_TUN_OUTER_LEN)
#define XGW_TUN_SPORT_MIN    49152
#define XGW_GENEVE_PROTO_ETH 0x6558 /* Transparent Ethernet Bridging */

struct xgw_tun_ep {
	uint8_t tmpl[XGW_TUN_TMPL_LEN];
	uint32_t ip_sum; /* outer IPv4 header summed (folded) with tot_len and check 0 */
	struct xgw_addr remote;
	uint32_t vni;
	uint8_t type; /* enum xgw_tun_kind */
	bool has_mac; /* tmpl's inner destination MAC is fixed */
};

/* The encap stage's per-worker state (zeroed with the worker): by
 * endpoint index, the route cache's answer for the endpoint's remote with
 * what encap needs of the egress port.  Valid while the FIB generation and
 * the remote match (a new snapshot may put another endpoint at the index):
 * two compares instead of the route cache's hash and address compare, ~30
 * instructions per packet less (callgrind, established-vxlan). */
#define XGW_TUN_EP_CACHE_BITS 6
struct xgw_tun_ep_nh {
	uint64_t gen; /* 0: empty (no FIB has generation 0) */
	uint32_t remote;
	uint16_t out;
	uint16_t room; /* the longest inner IP packet that fits the port's MTU */
	uint8_t mac[6];
	uint8_t smac[6];
};
struct xgw_tun_worker {
	struct xgw_tun_ep_nh ep_cache[1u << XGW_TUN_EP_CACHE_BITS];
};

/* Fill ep's template.  Addresses and port in network order; inner_mac NULL:
 * the inner destination is the egress port's own MAC, patched per packet. */
void xgw_tun_ep_init(struct xgw_tun_ep *ep, uint8_t type, uint32_t local, uint32_t remote,
		     uint16_t dport, uint32_t vni, const uint8_t *inner_mac);

/* The UDP source port for a flow hash: 49152-65535. */
static inline uint16_t xgw_tun_sport(uint64_t hash)
{
	return (uint16_t)(XGW_TUN_SPORT_MIN | ((hash >> 32 ^ hash) & 0x3fff));
}

/* Encapsulate the IP packet at p->data + p->l3_off (p->l3_len bytes; VLAN
 * tags and Ethernet padding are dropped) for ep.  The caller checked that
 * p->headroom + p->l3_off >= XGW_TUN_TMPL_LEN.  dmac/smac: outer MACs;
 * smac is also the inner source (and destination, without ep's MAC).
 * p then describes the outer packet (IPv4/UDP, offsets, lengths). */
static inline void xgw_tun_encap(struct xgw_pkt *p, const struct xgw_tun_ep *ep, uint64_t flow_hash,
				 const uint8_t *dmac, const uint8_t *smac)
{
	uint8_t *h = p->data + p->l3_off - XGW_TUN_TMPL_LEN;
	int shift = (int)p->l3_off - XGW_TUN_TMPL_LEN; /* negative: into the headroom */
	uint16_t iplen = (uint16_t)(XGW_TUN_TMPL_LEN - 14 + p->l3_len);
	uint16_t udplen = (uint16_t)(iplen - 20);
	uint16_t tl = htons(iplen), ul = htons(udplen), sp = htons(xgw_tun_sport(flow_hash));
	uint16_t ck;
	uint64_t sum;

	memcpy(h, ep->tmpl, XGW_TUN_TMPL_LEN);
	memcpy(h, dmac, 6);
	memcpy(h + 6, smac, 6);
	memcpy(h + 14 + 2, &tl, 2);
	/* ip_sum is at most 10 x 0xffff: two folds suffice */
	sum = ep->ip_sum + tl;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ck = (uint16_t)~sum;
	memcpy(h + 14 + 10, &ck, 2);
	memcpy(h + 34, &sp, 2);
	memcpy(h + 34 + 4, &ul, 2);
	if (!ep->has_mac)
		memcpy(h + XGW_TUN_OUTER_LEN, smac, 6);
	memcpy(h + XGW_TUN_OUTER_LEN + 6, smac, 6);
	if (p->flags & XGW_PKT_IPV6) {
		uint16_t et6 = htons(0x86dd);
		memcpy(h + XGW_TUN_OUTER_LEN + 12, &et6, 2);
	}
	p->data += shift;
	p->addr += shift;
	p->headroom = (uint16_t)((int)p->headroom + shift);
	p->len = (uint32_t)XGW_TUN_TMPL_LEN + p->l3_len;
	/* The outer headers' offsets; sport, dport and l4_proto, which only
	 * the stages before this one read, keep the inner packet's values. */
	p->l3_off = 14;
	p->l4_off = 34;
	p->payload_off = 42;
	p->l3_len = iplen;
	p->flags = XGW_PKT_IPV4 | XGW_PKT_L4 | XGW_PKT_IP4_CSUM_OK;
	p->n_vlans = 0;
}

/* Validate the tunnel header of len bytes at h (the UDP payload); on
 * success *vni and *hlen (header with options) are set.  0 or a drop. */
int xgw_vxlan_check(const uint8_t *h, uint32_t len, uint32_t *vni, uint32_t *hlen);
int xgw_geneve_check(const uint8_t *h, uint32_t len, uint32_t *vni, uint32_t *hlen);

/* Encap index entry: (backend address, port, proto) -> endpoint.  key is
 * the IPv4 address, or the XOR of an IPv6 one's words (then compared in
 * full): a packet's key is one load, its hash a multiply. */
struct xgw_tun_enc_slot {
	uint32_t key;
	uint16_t port; /* network order */
	uint8_t proto;
	uint8_t used; /* 4: IPv4, 6: IPv6, 0: free */
	uint32_t ep;
	uint8_t ip6[16];
};
struct xgw_tun_dec_slot;

/* The endpoints of a config and their indexes.  Read-only once built. */
struct xgw_tun_table {
	uint32_t local;			  /* network order */
	uint16_t vxlan_port, geneve_port; /* network order */
	struct xgw_tun_ep *eps;
	uint32_t n_eps;
	struct xgw_tun_enc_slot *enc; /* (backend ip, port, proto) -> ep */
	uint32_t enc_mask;
	uint32_t enc_shift;	      /* 64 - log2(enc_mask + 1) */
	struct xgw_tun_dec_slot *dec; /* (type, vni, remote) -> ep */
	uint32_t dec_mask;
};

/* xgw_tun_table_build (from a config) is in tunnel/table.h. */
void xgw_tun_table_free(struct xgw_tun_table *t);

/* Fibonacci hashing: the top bits of the product, where every key bit
 * counts (backend addresses differ in their last byte, the high bits of
 * the little-endian key).  The low bits of (x * C) >> 32 clustered 16
 * such backends in a 32-slot table into long probe runs. */
static inline uint32_t xgw_tun_enc_hash(const struct xgw_tun_table *t, uint32_t key, uint16_t port,
					uint8_t proto)
{
	return (
	    uint32_t)(((uint64_t)(key ^ ((uint32_t)port << 8 | proto)) * 0x9e3779b97f4a7c15ULL) >>
		      t->enc_shift);
}

/* The endpoint a packet to (dst, dport, proto) goes through, or NULL. */
const struct xgw_tun_ep *xgw_tun_lookup_backend(const struct xgw_tun_table *t,
						const struct xgw_addr *dst, uint16_t dport,
						uint8_t proto);

/* The same for a parsed packet with ports, from its headers: its entry
 * (ep names the endpoint), or NULL. */
static inline const struct xgw_tun_enc_slot *xgw_tun_lookup_pkt(const struct xgw_tun_table *t,
								const struct xgw_pkt *p)
{
	const uint8_t *l3 = p->data + p->l3_off;
	uint8_t fam = p->flags & XGW_PKT_IPV4 ? 4 : 6;
	uint32_t key, w[4];

	if (fam == 4) {
		memcpy(&key, l3 + 16, 4);
	} else {
		memcpy(w, l3 + 24, 16);
		key = w[0] ^ w[1] ^ w[2] ^ w[3];
	}
	for (uint32_t h = xgw_tun_enc_hash(t, key, p->dport, p->l4_proto);;
	     h = (h + 1) & t->enc_mask) {
		const struct xgw_tun_enc_slot *s = &t->enc[h];
		if (!s->used)
			return NULL;
		if (s->key == key && s->port == p->dport && s->proto == p->l4_proto &&
		    s->used == fam && (fam == 4 || !memcmp(s->ip6, l3 + 24, 16)))
			return s;
	}
}
/* Is p (parsed) a tunnel packet to us (a first fragment included)?  Then
 * its type, else XGW_TUNK_NONE. */
static inline uint8_t xgw_tun_is_ours(const struct xgw_tun_table *t, const struct xgw_pkt *p)
{
	uint32_t d;

	if (p->l4_proto != 17 /* UDP */ ||
	    (p->flags & (XGW_PKT_IPV4 | XGW_PKT_L4)) != (XGW_PKT_IPV4 | XGW_PKT_L4))
		return XGW_TUNK_NONE;
	memcpy(&d, p->data + p->l3_off + 16, 4);
	if (d != t->local)
		return XGW_TUNK_NONE;
	if (p->dport == t->vxlan_port)
		return XGW_TUNK_VXLAN;
	if (p->dport == t->geneve_port)
		return XGW_TUNK_GENEVE;
	return XGW_TUNK_NONE;
}

/* Decapsulate a parsed tunnel packet to us of the given type: validate,
 * find its endpoint, and leave p->data/addr/len/headroom on the inner
 * Ethernet frame (not parsed yet).  0 or a drop reason. */
int xgw_tun_decap(const struct xgw_tun_table *t, struct xgw_pkt *p, uint8_t type);

#endif
