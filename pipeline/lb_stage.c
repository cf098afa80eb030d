/* SPDX-License-Identifier: BSD-3-Clause */
#include "pipeline/lb_stage.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include "common/drop.h"
#include "common/hdr.h"
#include "common/stat.h"
#include "lb/conntrack.h"
#include "lb/conntrack_create.h"
#include "lb/nat.h"
#include "pipeline/lb_fast.h"
#include "pipeline/worker.h"

static inline uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static inline uint32_t maglev_backend(const struct xgw_snapshot *snap, const struct xgw_svc_rt *svc,
				      const struct xgw_ct_tuple *t)
{
	return xgw_maglev_pick(svc->maglev, xgw_flow_hash(&t->src, &t->dst, t->sport, t->dport,
							  t->proto, snap->hash_seed));
}

static uint32_t pick_backend(struct xgw_worker *w, const struct xgw_snapshot *snap,
			     const struct xgw_svc_rt *svc, const struct xgw_ct_tuple *t)
{
	if (!svc->n_active)
		return 0;
	switch (svc->algo) {
	case XGW_ALGO_RR:
		/* Per worker: a shared counter would be an atomic per new
		 * flow on a line every worker writes. */
		return svc->active[w->lb.rr[svc->id & (XGW_RR_SLOTS - 1)]++ % svc->n_active];
	case XGW_ALGO_RANDOM:
		return svc->active[xorshift32(&w->lb.rand_state) % svc->n_active];
	default:
		return maglev_backend(snap, svc, t);
	}
}

/* xgw_lb_check_source on the packet's addresses (a new flow's key has
 * them built already).  The VIP test asks the snapshot's address filter
 * first: a source whose bit is clear is no VIP (the filter holds every
 * VIP), and a client's almost never has it set, so the index lookup
 * behind xgw_snapshot_is_vip runs only for the rare source that may be
 * one. */
static inline int check_source(const struct xgw_worker *w, const struct xgw_snapshot *snap,
			       const struct xgw_fwd_state *fs, const struct xgw_addr *src,
			       const struct xgw_addr *dst, const struct xgw_route_own4 *o4,
			       bool has_svcs)
{
	const struct xgw_addr *own;

	if (xgw_addr_eq(src, dst))
		return XGW_DROP_BAD_SOURCE; /* LAND */
	if ((has_svcs || (snap && snap->n_svcs)) &&
	    xgw_snapshot_addr_maybe(snap, xgw_addr_fold(src)) && xgw_snapshot_is_vip(snap, src))
		return XGW_DROP_BAD_SOURCE;
	if (!fs)
		return 0;
	if (src->family == AF_INET && o4) {
		/* the same addresses as fs->port_addr4 (an IPv4 address's
		 * other words are zero) */
		if (__builtin_expect(!(o4->bloom & xgw_own4_bit(src->w[0])), 1))
			return 0;
		for (unsigned i = 0; i < o4->n; i++)
			if (o4->a[i] == src->w[0])
				return XGW_DROP_BAD_SOURCE;
		return 0;
	}
	own = src->family == AF_INET ? fs->port_addr4 : fs->port_addr6;
	for (unsigned i = 0; i < w->dp->n_ports; i++)
		if (own[i].family && xgw_addr_eq(src, &own[i]))
			return XGW_DROP_BAD_SOURCE;
	return 0;
}

int xgw_lb_check_source(const struct xgw_worker *w, const struct xgw_snapshot *snap,
			const struct xgw_fwd_state *fs, const struct xgw_pkt *p)
{
	struct xgw_addr src, dst;

	xgw_pkt_addrs(p, &src, &dst);
	return check_source(w, snap, fs, &src, &dst, NULL, false);
}

/* The burst's creations filter (struct xgw_lb_worker.created_filter): bit
 * h >> 52 of its 4096, one shift for the word and the bit (two shifts of h
 * cost ~2 instructions more per mark and test, callgrind new-flows). */
static inline void created_mark(uint64_t *cf, uint64_t h)
{
	uint32_t i = (uint32_t)(h >> 52);

	cf[i >> 6] |= 1ull << (i & 63);
}

static inline bool created_maybe(const uint64_t *cf, uint64_t h)
{
	uint32_t i = (uint32_t)(h >> 52);

	return cf[i >> 6] >> (i & 63) & 1;
}

/* f: the burst pass's key and hash, and the backend it pre-picked (0: none)
 * with that backend's reply-key hash.  Inline in xgw_lb_l4_flow, its one
 * caller: as a call of its own it paid a second prologue and epilogue and
 * reloaded what the caller had in registers (~38 instructions per new
 * flow, callgrind new-flows).  tcp_flags: the segment's, 0 for UDP (so
 * that a test of flags alone implies TCP); ct: the burst's table. */
static inline __attribute__((always_inline)) int
new_flow(struct xgw_worker *w, const struct xgw_snapshot *snap, const struct xgw_fwd_state *fs,
	 const struct xgw_svc_rt *svc, struct xgw_pkt *p, const struct xgw_lb_flow *f,
	 uint8_t tcp_flags, struct xgw_ct_table *ct)
{
	const struct xgw_ct_tuple *t = &f->key;
	uint64_t h = f->hash;
	const struct xgw_addr *sa = NULL;
	struct xgw_ct_init init = {0};
	struct xgw_ct_conn *c = NULL; /* set whenever the creation answers 0 or 1 */
	struct xgw_addr nsrc, ndst;
	uint32_t id;
	bool created;
	int rc;

	if (!w->lb.policy_open &&
	    !(snap->policy && xgw_policy_allows(snap, w->id, &t->src, &t->dst, t->proto, t->dport)))
		return XGW_DROP_POLICY;
	if (t->proto == IPPROTO_TCP && xgw_tcp_flags_bad(tcp_flags))
		return XGW_DROP_TCP_FLAGS;
	/* fs's own IPv4 addresses, once per burst (xgw_worker_stages
	 * passes one fs to every packet of a burst) */
	if (fs && !w->lb.own4_set) {
		xgw_route_own4(&w->lb.own4, fs, w->dp->n_ports);
		w->lb.own4_set = true;
	}
	rc = check_source(w, snap, fs, &t->src, &t->dst, &w->lb.own4, true); /* read with fs only */
	if (rc)
		return rc;
	/* A RST (without SYN) opens no connection.  Other segments do: after
	 * a restart or a flush, mid-stream packets are picked up and Maglev
	 * sends them to the same backend as before (as Katran does). */
	if ((tcp_flags & (XGW_TCP_SYN | XGW_TCP_RST)) == XGW_TCP_RST) /* TCP: UDP's are 0 */
		return XGW_DROP_CT_INVALID;
	/* The burst pass's pick, made for packets with hint 0 only. */
	uint32_t pre = f->hint ? 0 : f->backend;
	id = pre ? pre : pick_backend(w, snap, svc, t);
	if (!id)
		return XGW_DROP_NO_BACKEND;
	if (svc->snat) {
		sa = xgw_fwd_egress_addr(fs, &svc->be[id].ip);
		if (!sa || !sa->family)
			return XGW_DROP_SNAT_NO_PORT;
	}
	init.backend_id = id;
	init.service_id = svc->id;
	init.slot = svc->be[id].ctr;
	init.first_bytes = p->len;
	init.tcp_flags = tcp_flags;
	init.snat = svc->snat;
	init.cache = w->lb.ct_cache_id;
	/* The bulk pass's hashes: the packet's key, and the reply key of the
	 * backend it picked (the same tuple xgw_nat_ct_create builds). */
	init.hash[XGW_CT_ORIG] = h;
	init.hash[XGW_CT_REPLY] = id == pre ? f->reply_hash : 0;
	/* sa is NULL exactly when init.snat is false (no SNAT).  The SNAT
	 * call gets copies: init, c and created, whose addresses it takes,
	 * then stay out of memory on the inline DNAT path. */
	if (sa) {
		struct xgw_ct_init si = init;
		struct xgw_ct_conn *sc = NULL;
		bool sc_created = false;
		rc = xgw_nat_ct_create(ct, t, &svc->be[id].ip, svc->be[id].port, sa,
				       XGW_NAT_PORT_MIN, XGW_NAT_PORT_MAX, &si, w->now_ns, &sc,
				       &sc_created);
		c = sc;
		created = sc_created;
	} else {
		/* Both hashes given (hashed): the key's, and the reply key's,
		 * computed here when the burst pass did not pick this backend
		 * (the creation's inserts skip their test for a missing one). */
		if (__builtin_expect(!init.hash[XGW_CT_REPLY], 0))
			init.hash[XGW_CT_REPLY] = xgw_ct_hash_of(
			    ct, &svc->be[id].ip, svc->be[id].port, &t->src, t->sport, t->proto);
		rc = xgw_nat_ct_dnat_rc(
		    xgw_ct_create_dnat_fast(ct, t, &svc->be[id].ip, svc->be[id].port, &init,
					    w->lb.ct_cache, true, w->now_ns, &c),
		    &created);
	}
	if (rc)
		return rc;
	/* Counted as opened now: if it is deleted below, its end is
	 * counted too (svc_stats.h: live = opened - ended). */
	if (created)
		XGW_STAT_ADD(w->svc.be[init.slot].conns, 1);
	xgw_svc_count(&w->svc, c->slot, XGW_CT_ORIG, p->len);
	/* A new flow's SYN leaves the SYN_SENT it was created in as it is
	 * (xgw_ct_tcp_next: no FIN, no RST, the client's side): accounted
	 * only.  Anything else (a mid-stream pickup, a connection another
	 * worker created first) takes the whole step.  A connection this
	 * packet created has it accounted already (init.first_bytes): only
	 * xgw_ct_update's state step is left, when it would take one. */
	enum xgw_ct_state s = atomic_load_explicit(&c->state, memory_order_relaxed);
	bool syn_sent = t->proto == IPPROTO_TCP &&
			(tcp_flags & (XGW_TCP_SYN | XGW_TCP_FIN)) == XGW_TCP_SYN &&
			s == XGW_CT_SYN_SENT;
	if (!created) {
		if (syn_sent)
			xgw_ct_account(c, XGW_CT_ORIG, p->len, w->now_ns);
		else
			xgw_ct_update(ct, c, XGW_CT_ORIG, tcp_flags, p->len, w->now_ns);
	} else if (t->proto == IPPROTO_TCP && !syn_sent &&
		   (s != XGW_CT_ESTABLISHED || (tcp_flags & XGW_CT_TCP_FIN_RST))) {
		xgw_ct_update_state(ct, c, XGW_CT_ORIG, tcp_flags, w->now_ns, s);
	}
	/* xgw_nat_apply's checks with what the burst pass knows: a TCP or
	 * UDP packet with ports, no fragment (xgw_lb_nat).  A connection
	 * this packet created has its tuple as orig; one found existing
	 * (another worker's) is translated from the packet's fields. */
	bool tcp = t->proto == IPPROTO_TCP;
	rc = created ? xgw_lb_nat(p, c, XGW_CT_ORIG, tcp, true)
		     : xgw_lb_nat(p, c, XGW_CT_ORIG, tcp, false);
	if (rc) {
		xgw_ct_delete(ct, c); /* and its SNAT port with it */
		return rc;
	}
	/* Egress policy on the translated packet (towards the backend); with
	 * no rules the default alone decides, and it allowed ingress. */
	if (snap->policy) {
		xgw_pkt_addrs(p, &nsrc, &ndst);
		if (!xgw_policy_allows(snap, w->id, &nsrc, &ndst, t->proto, svc->be[id].port)) {
			xgw_ct_delete(ct, c);
			return XGW_DROP_POLICY;
		}
	}
	XGW_STAT_ADD(w->st.ct_created, 1);
	/* Later packets of this burst, in either direction: their "absent"
	 * hints predate this. */
	uint64_t rh = init.hash[XGW_CT_REPLY];
	/* Not the pre-picked backend's tuple: SNAT, another algorithm, or
	 * another worker's connection found by a lost creation race. */
	if (!rh || svc->snat || (!created && c->backend_id != id)) {
		struct xgw_ct_tuple rk;
		xgw_ct_ctuple_key(&rk, &c->reply);
		rh = xgw_ct_hash(ct, &rk);
	}
	w->lb.burst_created = true;
	created_mark(w->lb.created_filter, h);
	created_mark(w->lb.created_filter, rh);
	return 0;
}

static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* The conntrack key of a TCP/UDP packet, built from the headers in place
 * as seven whole 8-byte stores (xgw_ct_tuple's words), the same bytes as
 * xgw_ct_tuple_init: v4 in b[0..3], every other byte zero.  Not a memset
 * and then field stores: the lookup reads the key back as words, and a
 * load spanning several narrower stores defeats store forwarding.
 * Returns its hash (xgw_ct_hash), for IPv4 from the words in registers.
 * a[0], a[1]: the source address's words, a[2], a[3] the destination's
 * (an IPv4 address in a[0] and a[2], the others zero). */
static inline uint64_t pkt_key_words(const struct xgw_ct_table *ct, const struct xgw_pkt *p,
				     const uint64_t a[4], uint8_t fam, struct xgw_ct_tuple *t)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* Each word computed in a register and stored once into the key: gcc
	 * builds byte arrays (and even word arrays) on the stack and copies
	 * them with 16-byte loads, the very stall avoided here. */
	uint8_t *k = (uint8_t *)t;
	uint64_t f = fam;
	uint32_t ports; /* sport, dport: adjacent in the descriptor, network order */
	_Static_assert(offsetof(struct xgw_pkt, dport) == offsetof(struct xgw_pkt, sport) + 2,
		       "ports adjacent");
	memcpy(&ports, &p->sport, 4);
	uint64_t pw = (uint64_t)ports | (uint64_t)p->l4_proto << 32 | f << 40;
	memcpy(k, &f, 8);
	memcpy(k + 8, &a[0], 8);
	memcpy(k + 16, &a[1], 8);
	memcpy(k + 24, &f, 8);
	memcpy(k + 32, &a[2], 8);
	memcpy(k + 40, &a[3], 8);
	memcpy(k + 48, &pw, 8);
	_Static_assert(sizeof(*t) == 56, "key is seven words");
	if (fam == AF_INET)
		return xgw_ct_hash4(ct, a[0], a[2], pw);
	return xgw_ct_hash_fast(ct, t);
#else
	struct xgw_addr s, d;

	(void)a;
	(void)fam;
	xgw_pkt_addrs(p, &s, &d);
	xgw_ct_tuple_init(t, &s, p->sport, &d, p->dport, p->l4_proto);
	return xgw_ct_hash_fast(ct, t);
#endif
}

/* pkt_key_words from the packet's headers. */
static inline uint64_t pkt_key_hash(const struct xgw_ct_table *ct, const struct xgw_pkt *p,
				    struct xgw_ct_tuple *t)
{
	const uint8_t *l3 = p->data + p->l3_off;
	uint64_t a[4];

	if (p->flags & XGW_PKT_IPV4) {
		uint32_t s4, d4;

		memcpy(&s4, l3 + XGW_IP4_SRC, 4);
		memcpy(&d4, l3 + XGW_IP4_DST, 4);
		a[0] = s4;
		a[2] = d4;
		a[1] = a[3] = 0;
		return pkt_key_words(ct, p, a, AF_INET, t);
	}
	a[0] = ld64(l3 + XGW_IP6_SRC);
	a[1] = ld64(l3 + XGW_IP6_SRC + 8);
	a[2] = ld64(l3 + XGW_IP6_DST);
	a[3] = ld64(l3 + XGW_IP6_DST + 8);
	return pkt_key_words(ct, p, a, AF_INET6, t);
}

int xgw_lb_l4_flow(struct xgw_worker *w, const struct xgw_snapshot *snap,
		   const struct xgw_fwd_state *fs, struct xgw_pkt *p, const struct xgw_lb_flow *f)
{
	struct xgw_ct_table *ct = w->lb.ct; /* w->dp->ct: xgw_lb_prepare set it */
	const struct xgw_ct_tuple *t = &f->key;
	uint64_t h = f->hash, hint = f->hint;
	const struct xgw_svc_rt *svc;
	struct xgw_ct_conn *c;
	enum xgw_ct_dir dir;
	uint8_t flags = 0;

	if (p->l4_proto == IPPROTO_TCP)
		flags = p->data[p->l4_off + XGW_TCP_FLAGS];
	if (hint == 0 && w->lb.burst_created && created_maybe(w->lb.created_filter, h))
		hint = XGW_CT_HINT_NONE;
	/* hint 0: absent (xgw_ct_lookup_hint's first answer), without the call */
	c = hint ? xgw_ct_lookup_hint(ct, t, h, hint, w->now_ns, &dir) : NULL;
	/* A client's SYN on its closed connection's tuple (it reused the
	 * port): a new connection, its backend picked afresh, not sent to
	 * the old one, which may since have been drained or gone down. */
	if (c && dir == XGW_CT_ORIG && (flags & XGW_TCP_SYN) && xgw_ct_syn_reopens(c, flags)) {
		xgw_ct_delete(ct, c);
		c = NULL;
	}
	if (c) {
		if (p->l4_proto == IPPROTO_TCP && xgw_tcp_flags_bad(flags)) {
			XGW_STAT_ADD(w->svc.be[c->slot].drops, 1);
			return XGW_DROP_TCP_FLAGS;
		}
		xgw_svc_count(&w->svc, c->slot, dir, p->len);
		xgw_ct_update(ct, c, dir, flags, p->len, w->now_ns);
		return xgw_nat_apply(p, c, dir);
	}
	/* The burst pass looked the service up for packets it saw as
	 * absent (hint 0); a hint that was not 0 (a connection since
	 * expired) did not. */
	svc = !f->hint ? f->svc : xgw_snapshot_service(snap, &t->dst, p->dport, p->l4_proto);
	if (svc) {
		int rc = new_flow(w, snap, fs, svc, p, f, flags, ct);
		/* Why this service refused a connection (rc: a drop reason). */
		if (rc)
			XGW_STAT_ADD(w->svc.svc[svc->ctr].drops[rc], 1);
		return rc;
	}
	/* A backend's packet with no connection (expired, flushed): never
	 * forward it untranslated, which would leak the backend's address. */
	if (xgw_snapshot_is_backend(snap, &t->src, p->sport, p->l4_proto))
		return XGW_DROP_CT_INVALID;
	return XGW_LB_ROUTE; /* a steered flow that is no service */
}

static int icmp(struct xgw_worker *w, const struct xgw_snapshot *snap,
		const struct xgw_fwd_state *fs, struct xgw_pkt *p)
{
	struct xgw_addr src, dst;
	uint8_t type;
	int rc;

	if (xgw_nat_is_icmp_error(p)) {
		rc = xgw_nat_icmp_error(p, w->dp->ct, w->now_ns, NULL, NULL);
		/* Errors about flows xgw does not track are routed as they are. */
		return rc == XGW_DROP_CT_INVALID ? XGW_LB_ROUTE : rc;
	}
	xgw_pkt_addrs(p, &src, &dst);
	type = p->data[p->l4_off];
	if ((type == ICMP_ECHO && p->l4_proto == IPPROTO_ICMP) ||
	    (type == ICMPV6_ECHO_REQUEST && p->l4_proto == IPPROTO_ICMPV6)) {
		if (!xgw_snapshot_is_vip(snap, &dst))
			return XGW_LB_ROUTE;
		if (!xgw_policy_allows(snap, w->id, &src, &dst, p->l4_proto, 0))
			return XGW_DROP_POLICY;
		rc = xgw_lb_check_source(w, snap, fs, p);
		if (rc)
			return rc;
		rc = xgw_nat_icmp_echo_reply(p);
		if (!rc)
			XGW_STAT_ADD(w->st.icmp_echo_replies, 1);
		return rc;
	}
	return XGW_LB_ROUTE;
}

static inline uint32_t fold6(const uint8_t *a)
{
	uint32_t w[4];

	memcpy(w, a, 16);
	return w[0] ^ w[1] ^ w[2] ^ w[3];
}

/* The one check a packet of no service pays (snapshot.h's address filter):
 * false, and it skips the key, hash, bucket and service lookups. */
static inline bool may_track(const struct xgw_snapshot *snap, const struct xgw_pkt *p)
{
	const uint8_t *l3 = p->data + p->l3_off;
	uint32_t s, d;

	if (__builtin_expect(p->flags & XGW_PKT_IPV4, 1)) {
		memcpy(&s, l3 + XGW_IP4_SRC, 4);
		memcpy(&d, l3 + XGW_IP4_DST, 4);
	} else {
		s = fold6(l3 + XGW_IP6_SRC);
		d = fold6(l3 + XGW_IP6_DST);
	}
	return xgw_snapshot_may_track(snap, s, d);
}

void xgw_lb_prepare(struct xgw_worker *w, const struct xgw_snapshot *snap,
		    const struct xgw_pkt *pkts, uint32_t n, struct xgw_lb_flow *fl)
{
	struct xgw_ct_table *ct = w->dp->ct;
	struct xgw_lb_flow *fp[XGW_BURST_MAX]; /* the valid packets' entries, in order */
	uint64_t hs[XGW_BURST_MAX]; /* their hashes */
	uint32_t m = 0;

	if (!snap || !snap->n_svcs || !ct) {
		for (uint32_t i = 0; i < n; i++)
			if (fl[i].kind != XGW_LB_K_DROP)
				fl[i].kind = XGW_LB_K_ROUTE;
		return;
	}
	w->lb.ct = ct;
	w->lb.ct_cache_id = w->id >= 0 && w->id < XGW_CT_CACHES ? (uint16_t)(w->id + 1) : 0;
	w->lb.ct_cache = xgw_ct_cache_of(ct, w->lb.ct_cache_id);
	w->lb.policy_open = !snap->policy && snap->policy_default_allow;
	/* One pass: the address filter, then for the packets that pass it
	 * the key and its hash, from the headers in registers. */
	for (uint32_t i = 0; i < n; i++) {
		struct xgw_lb_flow *f = &fl[i];

		if (__builtin_expect(f->kind == XGW_LB_K_V4, 1)) {
			/* The parse pass's IPv4 TCP/UDP packet: the filter and
			 * the key from the same two address loads. */
			const uint8_t *l3 = pkts[i].data + pkts[i].l3_off;
			uint32_t s4, d4;

			memcpy(&s4, l3 + XGW_IP4_SRC, 4);
			memcpy(&d4, l3 + XGW_IP4_DST, 4);
			if (!xgw_snapshot_may_track(snap, s4, d4)) {
				f->kind = XGW_LB_K_ROUTE;
				f->conn = NULL;
				continue;
			}
			uint64_t a[4] = {s4, 0, d4, 0};
			f->hash = hs[m] = pkt_key_words(ct, &pkts[i], a, AF_INET, &f->key);
			fp[m++] = f;
			continue;
		}
		f->conn = NULL;
		if (__builtin_expect(f->kind == XGW_LB_K_DROP, 0))
			continue;
		if (__builtin_expect(!xgw_lb_wants_lookup(&pkts[i]), 0)) {
			f->kind = XGW_LB_K_OTHER;
			continue;
		}
		if (!may_track(snap, &pkts[i])) {
			f->kind = XGW_LB_K_ROUTE;
			continue;
		}
		f->hash = hs[m] = pkt_key_hash(ct, &pkts[i], &f->key);
		fp[m++] = f;
	}
	if (!m)
		return;
	for (uint32_t i = n; i < n + XGW_LB_AHEAD; i++)
		fl[i].conn = NULL;
	/* Loads of every bucket first, in a loop with nothing else in it: the
	 * core keeps many more of these misses in flight than when each one
	 * is followed by its signature scan (established-1m ~8% faster, same
	 * run). */
	uint32_t acc = 0;
	for (uint32_t j = 0; j < m; j++)
		acc += xgw_ct_touch_fast(ct, hs[j]);
	__asm__ volatile("" ::"r"(acc)); /* the loads are the point */
	bool any_absent = false;
	/* The table's geometry in registers: through ct it is reloaded after
	 * every store into fl, which may alias it for the compiler. */
	const struct xgw_ct_bucket *bk = ct->buckets;
	struct xgw_ct_conn *pool = ct->pool;
	uint64_t mask = ct->mask;
	for (uint32_t j = 0; j < m; j++) {
		struct xgw_lb_flow *f = fp[j];
		uint64_t h = hs[j];
		const struct xgw_ct_bucket *b = &bk[h & mask];
		uint64_t v = xgw_ct_sig_scan(b, h);

		/* xgw_ct_hint_fast, its two answers apart: the hit's kind is
		 * a constant store, not computed from the record pointer */
		if (__builtin_expect(v != 0, 1)) {
			f->hint = v;
			f->conn = xgw_ct_slot_prefetch(pool, v);
			f->kind = XGW_LB_K_TRACKED;
			continue;
		}
		uint64_t hint = xgw_ct_miss_hint(b);
		f->hint = hint;
		f->conn = NULL;
		f->kind = XGW_LB_K_LOOKUP;
		any_absent |= !hint;
	}
	/* New flows: service, backend and the reply key's bucket now (see
	 * struct xgw_lb_flow).  Packets of the same new flow later in the
	 * burst get the same answers: both are functions of the snapshot. */
	/* The last lookup's key (the tuple's words 4-5, the destination's
	 * address, and word 6 without the source port: the destination
	 * port, the protocol and the family, which pkt_key_words gives both
	 * addresses) and answer: a burst's new flows mostly go to one
	 * service, and the compare costs a third of the index's hash and
	 * probe (callgrind, new-flows).  All zero matches no key (the
	 * family is in word 6). */
	_Static_assert(offsetof(struct xgw_ct_tuple, dst) == 24 &&
			   offsetof(struct xgw_ct_tuple, sport) == 48 &&
			   offsetof(struct xgw_ct_tuple, dport) == 50 &&
			   offsetof(struct xgw_ct_tuple, proto) == 52,
		       "the memo's words");
	uint64_t mk[3] = {0, 0, 0};
	const struct xgw_svc_rt *msvc = NULL;
	bool mmaglev = false;
	uint64_t mh0 = 0; /* the Maglev flow hash's start for msvc's flows */
	uint64_t mrp = 0; /* an IPv4 reply key's protocol word, keyed (xgw_ct_hash4_keyed) */
	for (uint32_t j = 0; any_absent && j < m; j++) {
		struct xgw_lb_flow *f = fp[j];
		if (f->hint)
			continue;
		uint64_t kw[3];
		memcpy(kw, (const char *)&f->key + 32, sizeof(kw));
		kw[2] >>= 16;
		if ((kw[0] ^ mk[0]) | (kw[1] ^ mk[1]) | (kw[2] ^ mk[2])) {
			msvc = xgw_snapshot_service_fast(snap, &f->key.dst, f->key.dport,
							 f->key.proto);
			mmaglev =
			    msvc && !msvc->snat && msvc->algo == XGW_ALGO_MAGLEV && msvc->n_active;
			memcpy(mk, kw, sizeof(mk));
			mh0 = xgw_flow_hash_start(f->key.proto, f->key.src.family, snap->hash_seed);
			mrp = ((uint64_t)f->key.proto << 32 | (uint64_t)AF_INET << 40) ^ ct->hk[1];
			(void)mrp; /* read on little-endian targets only */
		}
		f->svc = msvc;
		f->reply_hash = 0;
		if (!mmaglev) {
			f->backend = 0;
			continue;
		}
		f->backend =
		    xgw_maglev_pick(msvc->maglev, xgw_flow_hash_rest(mh0, &f->key.src, &f->key.dst,
								     f->key.sport, f->key.dport));
		if (!f->backend)
			continue;
		const struct xgw_be_rt *be = &msvc->be[f->backend];
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		/* xgw_ct_hash_of's IPv4 case, its protocol word keyed once */
		if (be->ip.family == AF_INET)
			f->reply_hash = xgw_ct_hash4_keyed(
			    ct, be->ip.q[0], f->key.src.q[0],
			    ((uint64_t)be->port | (uint64_t)f->key.sport << 16) ^ mrp);
		else
#endif
			f->reply_hash = xgw_ct_hash_of(ct, &be->ip, be->port, &f->key.src,
						       f->key.sport, f->key.proto);
		xgw_ct_prefetch_w_fast(ct, f->reply_hash);
	}
	/* Hints of 0 ("absent") hold until this burst creates their flow. */
	if (w->lb.burst_created) {
		memset(w->lb.created_filter, 0, sizeof(w->lb.created_filter));
		w->lb.burst_created = false;
	}
}

int xgw_lb_stage_flow(struct xgw_worker *w, const struct xgw_snapshot *snap,
		      const struct xgw_fwd_state *fs, struct xgw_pkt *p,
		      const struct xgw_lb_flow *f)
{
	if (!snap || !snap->n_svcs || !w->dp->ct)
		return XGW_LB_ROUTE;
	if (p->flags & XGW_PKT_FRAG) {
		struct xgw_addr src, dst;
		xgw_pkt_addrs(p, &src, &dst);
		/* xgw does not reassemble.  A later fragment has no ports to
		 * find its connection by, and translating the first alone
		 * would deliver half a datagram: every fragment toward a VIP
		 * or from a backend's address is refused, rather than a piece
		 * of a service flow forwarded untranslated (a backend's
		 * address leaked to the client).  Other fragments are routed. */
		if (xgw_snapshot_is_vip(snap, &dst) || xgw_snapshot_is_backend_addr(snap, &src))
			return XGW_DROP_FRAGMENT;
		return XGW_LB_ROUTE;
	}
	if (!(p->flags & XGW_PKT_L4))
		return XGW_LB_ROUTE;
	switch (p->l4_proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		/* xgw_lb_prepare set f up for exactly these packets (kind
		 * LOOKUP or TRACKED: the worker does not call here for them) */
		return xgw_lb_l4_flow(w, snap, fs, p, f);
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return icmp(w, snap, fs, p);
	default:
		return XGW_LB_ROUTE;
	}
}

void xgw_lb_worker_init(struct xgw_lb_worker *s, uint32_t seed)
{
	s->rand_state = seed | 1;
}
