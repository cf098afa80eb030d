/* SPDX-License-Identifier: BSD-3-Clause */
/* In-place NAT with incremental checksums: see nat.h. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "common/csum.h"
#include "common/drop.h"
#include "common/hdr.h"
#include "lb/nat.h"

/* Frames may sit at any offset in UMEM: every access goes through memcpy,
 * which compiles to a plain load or store. */
static inline uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static inline void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static inline uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* A running RFC 1624 difference (sum of ~old + new) for checksums that see
 * several changed fields, applied once at the end. */
struct delta {
	uint64_t s;
};

static inline void d_add(struct delta *d, const uint8_t *old, const uint8_t *new_, size_t len)
{
	/* len is 2, 4 or 16; fields are 16-bit aligned within the sum. */
	for (size_t i = 0; i < len; i += 2)
		d->s += (uint16_t)~get16(old + i) + (uint64_t)get16(new_ + i);
}

static inline uint16_t d_apply(uint16_t csum, const struct delta *d)
{
	return (uint16_t)~xgw_csum_fold((uint16_t)~csum + d->s);
}

static inline bool is_v4(const struct xgw_pkt *p)
{
	return p->flags & XGW_PKT_IPV4;
}

/* Offset of the L4 checksum for protocols whose checksum covers the
 * pseudo-header (and so changes with the addresses), or 0. */
static unsigned l4_csum_off(uint8_t proto, bool v4)
{
	switch (proto) {
	case IPPROTO_TCP:
		return XGW_TCP_CSUM;
	case IPPROTO_UDP:
		return XGW_UDP_CSUM;
	case IPPROTO_ICMPV6:
		return v4 ? 0 : XGW_ICMP_CSUM;
	default:
		return 0;
	}
}

static inline bool has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

/* Rewrite an address field and a port field of an IP packet at l3 (L4 at
 * l4, NULL when absent) and fix every checksum that covers them. */
static void rewrite(uint8_t *l3, uint8_t *l4, uint8_t proto, bool v4, bool dst,
		    const struct xgw_addr *addr, uint16_t port)
{
	unsigned alen = v4 ? 4 : 16;
	uint8_t *a =
	    l3 + (v4 ? (dst ? XGW_IP4_DST : XGW_IP4_SRC) : (dst ? XGW_IP6_DST : XGW_IP6_SRC));
	struct delta d = {0};

	/* Constant lengths, so that the loop unrolls (IPv4 is the common
	 * case). */
	if (v4) {
		d_add(&d, a, addr->b, 4);
		put16(l3 + XGW_IP4_CSUM, d_apply(get16(l3 + XGW_IP4_CSUM), &d));
	} else {
		d_add(&d, a, addr->b, 16);
	}
	if (l4 && port && has_ports(proto)) {
		uint8_t *pp = l4 + (dst ? 2 : 0);
		d_add(&d, pp, (const uint8_t *)&port, 2);
		put16(pp, port);
	}
	memcpy(a, addr->b, alen);
	unsigned co = l4 ? l4_csum_off(proto, v4) : 0;
	if (!co)
		return;
	uint16_t c = get16(l4 + co);
	if (proto == IPPROTO_UDP && v4 && c == 0)
		return; /* no checksum: stays none */
	c = d_apply(c, &d);
	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	put16(l4 + co, c);
}

int xgw_nat_rewrite(struct xgw_pkt *p, bool dst, const struct xgw_addr *addr, uint16_t port)
{
	uint8_t *l3 = p->data + p->l3_off;
	bool v4 = is_v4(p);
	uint8_t *l4 = (p->flags & XGW_PKT_L4) ? p->data + p->l4_off : NULL;

	if (!(p->flags & (XGW_PKT_IPV4 | XGW_PKT_IPV6)) ||
	    addr->family != (v4 ? AF_INET : AF_INET6))
		return XGW_DROP_NOT_IP;
	if (p->flags & XGW_PKT_FRAG_LATER) {
		/* No L4 header here; the first fragment carried the ports. */
		if (port && port != (dst ? p->dport : p->sport))
			return XGW_DROP_FRAGMENT;
		l4 = NULL;
	}
	rewrite(l3, l4, p->l4_proto, v4, dst, addr, port);
	if (port && l4 && has_ports(p->l4_proto)) {
		if (dst)
			p->dport = port;
		else
			p->sport = port;
	}
	return 0;
}

static inline bool addr_differs(const uint8_t *field, const struct xgw_addr *a, bool v4)
{
	if (v4)
		return get32(field) != a->w[0];
	return memcmp(field, a->b, 16) != 0;
}

static inline void caddr(struct xgw_addr *a, const uint8_t *b16, uint8_t family)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->b, b16, 16);
}

int xgw_nat_apply_any(struct xgw_pkt *p, const struct xgw_ct_conn *c, enum xgw_ct_dir dir)
{
	const struct xgw_ct_ctuple *o = xgw_ct_ctuple_of(c, !dir);
	const uint8_t *l3 = p->data + p->l3_off;
	bool v4 = is_v4(p);
	struct xgw_addr a;
	int r;

	if (v4 && xgw_nat_apply4(p, o))
		return 0;

	/* The packet leaves as reverse(o): source o->dst:dport, destination
	 * o->src:sport.  addr_differs, not memcmp: a libc call with a
	 * variable length cost ~40 instructions per compare per packet. */
	caddr(&a, o->src, o->family);
	if (addr_differs(l3 + (v4 ? XGW_IP4_DST : XGW_IP6_DST), &a, v4) || p->dport != o->sport) {
		r = xgw_nat_rewrite(p, true, &a, o->sport);
		if (r)
			return r;
	}
	caddr(&a, o->dst, o->family);
	if (addr_differs(l3 + (v4 ? XGW_IP4_SRC : XGW_IP6_SRC), &a, v4) || p->sport != o->dport) {
		r = xgw_nat_rewrite(p, false, &a, o->dport);
		if (r)
			return r;
	}
	return 0;
}

/* --- SNAT port allocation -------------------------------------------------- */

int xgw_nat_ct_create(struct xgw_ct_table *t, const struct xgw_ct_tuple *orig,
		      const struct xgw_addr *backend, uint16_t bport,
		      const struct xgw_addr *snat_addr, uint16_t port_min, uint16_t port_max,
		      const struct xgw_ct_init *init, uint64_t now, struct xgw_ct_conn **out,
		      bool *created)
{
	struct xgw_ct_tuple reply;
	struct xgw_ct_init in = *init;
	int r;

	if (!snat_addr) {
		in.snat = false;
		return xgw_nat_ct_create_dnat(t, orig, backend, bport, &in, now, out, created);
	}

	/* Probe a flow-specific permutation of the range: start and odd
	 * stride from the flow hash (the same for every worker).  Bounded:
	 * a nearly full range fails fast and is counted, never spins. */
	uint32_t range = (uint32_t)port_max - port_min + 1;
	uint64_t h = xgw_ct_hash(t, orig);
	uint32_t start = (uint32_t)(h % range);
	uint32_t stride = (uint32_t)((h >> 32) % range) | 1;

	in.snat = true;
	in.hash[XGW_CT_REPLY] = 0; /* a reply tuple per port tried */
	for (unsigned i = 0; i < XGW_NAT_PORT_RETRIES; i++) {
		uint16_t port = (uint16_t)(port_min + (start + (uint64_t)i * stride) % range);
		xgw_ct_tuple_init(&reply, backend, bport, snat_addr, htons(port), orig->proto);
		r = xgw_ct_create(t, orig, &reply, &in, now, out);
		if (created)
			*created = r == 0;
		if (r >= 0)
			return 0;
		if (r != -EEXIST)
			return XGW_DROP_CT_FULL;
	}
	return XGW_DROP_SNAT_NO_PORT;
}

/* --- ICMP errors ------------------------------------------------------------ */

bool xgw_nat_is_icmp_error(const struct xgw_pkt *p)
{
	if (!(p->flags & XGW_PKT_L4))
		return false;
	uint8_t type = p->data[p->l4_off];
	if (p->l4_proto == IPPROTO_ICMP)
		return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
		       type == ICMP_PARAMETERPROB;
	if (p->l4_proto == IPPROTO_ICMPV6)
		return type == ICMPV6_DEST_UNREACH || type == ICMPV6_PKT_TOOBIG ||
		       type == ICMPV6_TIME_EXCEED || type == ICMPV6_PARAMPROB;
	return false;
}

int xgw_nat_icmp_error(struct xgw_pkt *p, struct xgw_ct_table *t, uint64_t now,
		       struct xgw_ct_conn **cp, enum xgw_ct_dir *dirp)
{
	bool v4 = is_v4(p);
	unsigned alen = v4 ? 4 : 16;
	uint8_t *l3 = p->data + p->l3_off, *icmp = p->data + p->l4_off;
	uint8_t *end = p->data + p->len;
	uint8_t *il3 = icmp + 8, *il4;
	uint8_t proto;
	struct xgw_ct_tuple in, key;
	struct xgw_addr isrc, idst;

	if (!xgw_nat_is_icmp_error(p) || (p->flags & XGW_PKT_FRAG) || end - icmp < 8)
		return XGW_DROP_ICMP_TRUNC;
	/* Never trust the quoted lengths beyond what the outer packet holds. */
	uint8_t *l3_end = l3 + p->l3_len;
	if (l3_end < end)
		end = l3_end;
	if (v4) {
		if (end - il3 < 20 || (il3[0] >> 4) != 4)
			return XGW_DROP_ICMP_TRUNC;
		unsigned ihl = (il3[0] & 0xf) * 4u;
		/* a quoted non-first fragment has no ports */
		if (ihl < 20 || end - il3 < ihl || (get16(il3 + 6) & htons(0x1fff)))
			return XGW_DROP_ICMP_TRUNC;
		proto = il3[9];
		il4 = il3 + ihl;
		xgw_addr_v4(&isrc, get32(il3 + XGW_IP4_SRC));
		xgw_addr_v4(&idst, get32(il3 + XGW_IP4_DST));
	} else {
		/* Quoted extension headers are not walked: a quote of a
		 * TCP/UDP packet with them is left alone (not tracked). */
		if (end - il3 < 40 || (il3[0] >> 4) != 6)
			return XGW_DROP_ICMP_TRUNC;
		proto = il3[6];
		il4 = il3 + 40;
		xgw_addr_v6(&isrc, il3 + XGW_IP6_SRC);
		xgw_addr_v6(&idst, il3 + XGW_IP6_DST);
	}
	if (!has_ports(proto))
		return XGW_DROP_CT_INVALID;
	if (end - il4 < 8)
		return XGW_DROP_ICMP_TRUNC;
	unsigned il4_len = (unsigned)(end - il4);

	/* The quote is a packet we sent after translation; the error travels
	 * the opposite way, so it is found under the reverse tuple. */
	xgw_ct_tuple_init(&in, &isrc, get16(il4), &idst, get16(il4 + 2), proto);
	xgw_ct_tuple_reverse(&key, &in);
	enum xgw_ct_dir d;
	struct xgw_ct_conn *c = xgw_ct_lookup(t, &key, now, &d);
	if (!c)
		return XGW_DROP_CT_INVALID;
	const struct xgw_ct_ctuple *o = xgw_ct_ctuple_of(c, !d); /* the quote's original form */
	const struct xgw_ct_ctuple *m = xgw_ct_ctuple_of(c, d);
	struct delta di = {0}; /* ICMP checksum */
	struct delta dh = {0}; /* inner IPv4 header checksum */
	uint8_t *ia_src = il3 + (v4 ? XGW_IP4_SRC : XGW_IP6_SRC),
		*ia_dst = il3 + (v4 ? XGW_IP4_DST : XGW_IP6_DST);

	/* Inner packet: addresses, ports, then its checksums. */
	d_add(&dh, ia_src, o->src, alen);
	d_add(&dh, ia_dst, o->dst, alen);
	struct delta dl = dh; /* inner L4 pseudo-header + ports */
	d_add(&dl, il4, (const uint8_t *)&o->sport, 2);
	d_add(&dl, il4 + 2, (const uint8_t *)&o->dport, 2);
	di = dl;
	memcpy(ia_src, o->src, alen);
	memcpy(ia_dst, o->dst, alen);
	put16(il4, o->sport);
	put16(il4 + 2, o->dport);
	if (v4) {
		uint16_t old = get16(il3 + XGW_IP4_CSUM), nw = d_apply(old, &dh);
		put16(il3 + XGW_IP4_CSUM, nw);
		d_add(&di, (const uint8_t *)&old, (const uint8_t *)&nw, 2);
	}
	unsigned co = proto == IPPROTO_TCP ? XGW_TCP_CSUM : XGW_UDP_CSUM;
	if (il4_len >= co + 2) {
		uint16_t old = get16(il4 + co), nw = old;
		if (!(proto == IPPROTO_UDP && v4 && old == 0)) {
			nw = d_apply(old, &dl);
			if (proto == IPPROTO_UDP && nw == 0)
				nw = 0xffff;
		}
		put16(il4 + co, nw);
		d_add(&di, (const uint8_t *)&old, (const uint8_t *)&nw, 2);
	}

	/* Outer header: to the quote's sender; from the address that sender
	 * knows when the error came from the translated peer itself (e.g. a
	 * backend's port unreachable), else from the router as it is. */
	uint8_t *oa_src = l3 + (v4 ? XGW_IP4_SRC : XGW_IP6_SRC),
		*oa_dst = l3 + (v4 ? XGW_IP4_DST : XGW_IP6_DST);
	struct delta dip = {0};
	d_add(&dip, oa_dst, o->src, alen);
	memcpy(oa_dst, o->src, alen);
	if (!memcmp(oa_src, m->src, alen)) {
		d_add(&dip, oa_src, o->dst, alen);
		memcpy(oa_src, o->dst, alen);
	}
	if (v4) {
		put16(l3 + XGW_IP4_CSUM, d_apply(get16(l3 + XGW_IP4_CSUM), &dip));
	} else {
		di.s += dip.s; /* ICMPv6 covers the pseudo-header */
	}
	put16(icmp + XGW_ICMP_CSUM, d_apply(get16(icmp + XGW_ICMP_CSUM), &di));
	if (cp)
		*cp = c;
	if (dirp)
		*dirp = d;
	return 0;
}

/* --- ICMP echo -------------------------------------------------------------- */

int xgw_nat_icmp_echo_reply(struct xgw_pkt *p)
{
	bool v4 = is_v4(p);
	unsigned alen = v4 ? 4 : 16;
	uint8_t *l3 = p->data + p->l3_off, *icmp = p->data + p->l4_off;
	uint8_t tmp[16];
	struct delta d = {0};

	if (!(p->flags & XGW_PKT_L4) || (p->flags & XGW_PKT_FRAG) ||
	    p->l4_proto != (v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6) ||
	    icmp[0] != (v4 ? ICMP_ECHO : ICMPV6_ECHO_REQUEST) || icmp[1] != 0)
		return XGW_DROP_ICMP_TRUNC;

	/* Ethernet */
	memcpy(tmp, p->data, 6);
	memcpy(p->data, p->data + 6, 6);
	memcpy(p->data + 6, tmp, 6);

	/* IP: swapping the addresses leaves every sum unchanged; only the
	 * TTL word changes. */
	uint8_t *src = l3 + (v4 ? XGW_IP4_SRC : XGW_IP6_SRC),
		*dst = l3 + (v4 ? XGW_IP4_DST : XGW_IP6_DST);
	memcpy(tmp, src, alen);
	memcpy(src, dst, alen);
	memcpy(dst, tmp, alen);
	if (v4) {
		struct delta dt = {0};
		uint8_t w[2] = {64, l3[XGW_IP4_TTL + 1]};
		d_add(&dt, l3 + XGW_IP4_TTL, w, 2);
		l3[XGW_IP4_TTL] = 64;
		put16(l3 + XGW_IP4_CSUM, d_apply(get16(l3 + XGW_IP4_CSUM), &dt));
	} else {
		l3[XGW_IP6_HLIM] = 64; /* not covered by any checksum */
	}

	uint8_t w[2] = {v4 ? ICMP_ECHOREPLY : ICMPV6_ECHO_REPLY, icmp[1]};
	d_add(&d, icmp, w, 2);
	icmp[0] = w[0];
	put16(icmp + XGW_ICMP_CSUM, d_apply(get16(icmp + XGW_ICMP_CSUM), &d));
	return 0;
}
