/* SPDX-License-Identifier: BSD-3-Clause */
/* The in-kernel datapath for services with "datapath": "kernel", in the
 * workers' order (Cilium's service path): parse, tunnel decap, conntrack
 * lookup, policy, service lookup, Maglev pick, DNAT / reverse NAT, tunnel
 * encap, next hop; ICMP errors about its connections translated, echo to
 * a VIP answered.  Split by role: kern_parse.h, kern_tun.h, kern_ct.h,
 * kern_lb.h, kern_nat.h, kern_icmp.h, kern_fib.h; maps in kern_maps.h.
 *
 * What it does not do goes on to the steering rules, which xgwd fills for
 * kernel services as for user ones, so it reaches the user-space workers
 * (their snapshot holds kernel services too) and, with no worker socket
 * bound, the kernel stack.  The rule, counted as punted_to_user when the
 * packet is for a kernel VIP: VLAN tags, IPv4 options, fragments, TTL
 * about to expire, ICMP to a VIP other than echo requests, ICMP errors
 * about no kernel connection (or quoting IPv4 options or IPv6 extension
 * headers), backend packets that match no kernel connection, IPv6
 * extension headers, a client's packet too big for the way to its
 * backend (the workers answer it: path MTU discovery), and the tunnel
 * cases of kern_tun.h.  A backend's reply too big for the way back is
 * answered here (kern_toobig.h). */
#ifndef XGW_KERN_KDP_H
#define XGW_KERN_KDP_H

#define KDP_CONTINUE (-1) /* not handled: the steering rules decide */

#include "steer-bpf/kern_maps.h"
#include "steer-bpf/kern_parse.h"
#include "steer-bpf/kern_ct.h"
#include "steer-bpf/kern_lb.h"
#include "steer-bpf/kern_nat.h"
#include "steer-bpf/kern_fib.h"
#include "steer-bpf/kern_icmp.h"
#include "steer-bpf/kern_toobig.h"
#include "steer-bpf/kern_tun.h"
#include "steer-bpf/kern_trace.h"

static __always_inline int kct_key_eq(const struct xgw_kdp_ct_key *a,
				      const struct xgw_kdp_ct_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4];
}

/* The frame's length as the workers count it (struct xgw_pkt's len:
 * Ethernet header to the end, padding included), for the per-service
 * bytes; the conntrack's own count is from the IP header on. */
static __always_inline __u32 kdp_frame_len(struct xdp_md *ctx)
{
	return (__u32)((long)ctx->data_end - (long)ctx->data);
}

#define KDP_EEXIST 17 /* errno's EEXIST: a BPF_NOEXIST insert on a key present */

static __always_inline int kdp_is_vip(const struct kdp_pkt *p)
{
	return kdp_service(p->family, p->dst, 0,
			   p->family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP) != 0;
}

/* The reply entry of a new connection: its tuple (backend -> client, or
 * -> SNAT address:port), inserted before the orig entry (cilium's order).
 * With SNAT, ports from a hash-chosen start are tried (at most 8, as
 * BPF_NOEXIST inserts).  0, or the drop reason. */
static __always_inline __u32 kdp_reply_entry(struct xdp_md *ctx, const struct xgw_kdp_cfg *cfg,
					     const struct xgw_kdp_svc *svc, struct kdp_pkt *p,
					     const struct xgw_kdp_be *be, struct xgw_kdp_ct *v,
					     struct kdp_scratch_val *sc, __u32 hash, __u64 now)
{
	struct xgw_kdp_ct_key *rk = &sc->rk;
	__u32 *snat = sc->snat;
	struct xgw_kdp_ct *e;
	long ins;

	if (!(svc->flags & XGW_KDP_SVC_SNAT)) {
		kct_key(rk, be->addr, p->src, be->port, p->sport, p->proto, p->family);
		/* The tuple is almost always free: insert first and look only
		 * on -EEXIST, saving a hash lookup (a miss) per new flow.  Any
		 * other failure is the LRU's, as BPF_ANY's would be. */
		ins = kct_insert(rk, v, BPF_NOEXIST);
		if (ins != -KDP_EEXIST)
			return ins ? XGW_DROP_CT_FULL : 0;
		e = kct_lookup(rk);
		if (e && !(e->dir == 1 && kct_key_eq(&e->other, &v->other))) {
			/* The backend tuple is another flow's: two VIPs onto one
			 * backend, and the client reused its port (it may, the
			 * destination differs).  A live one refuses the new flow,
			 * as user space does; a TCP connection that has closed
			 * (TIME_WAIT, CLOSE) gives its tuple to a new SYN, as the
			 * backend's own TIME_WAIT socket accepts one: its other
			 * entry goes, so that none of its late packets is
			 * translated onto the new connection. */
			struct xgw_kdp_ct *o = e->dir == 1 ? kct_lookup(&e->other) : e;
			if (o && !kct_expired(cfg, o, p->proto, now)) {
				if (!kct_closed_reusable(o, p->proto, p->tcp_flags))
					return XGW_DROP_CT_INVALID;
				kct_delete(&e->other);
				kdp_count(XGW_KDP_CNT_CT_REUSED);
			}
		}
		return kct_insert(rk, v, BPF_ANY) ? XGW_DROP_CT_FULL : 0;
	}
	if (kdp_fib_src(ctx, p->family, be->addr, snat))
		return XGW_DROP_SNAT_NO_PORT;
	__u32 lo = cfg->snat_port_min, span = cfg->snat_port_max - lo + 1;

	if (!lo || span > 65536)
		return XGW_DROP_SNAT_NO_PORT;
	v->flags = KCT_F_SNAT;
	for (int t = 0; t < 8; t++) {
		__u16 port = (__u16)(lo + (hash + (__u32)t * 7919) % span);

		kct_key(rk, be->addr, snat, be->port, bpf_htons(port), p->proto, p->family);
		if (!kct_insert(rk, v, BPF_NOEXIST))
			return 0;
	}
	return XGW_DROP_SNAT_NO_PORT;
}

/* A new connection: policy, pick, egress policy, the reply entry then the
 * orig entry.  0 or the drop reason.  A subprogram of its own (BPF to BPF
 * call): its keys, policy scans and FIB query take their own stack frame,
 * off the main one's 512 bytes, and only new flows pay the call. */
static __noinline __u32 kdp_new_flow(struct xdp_md *ctx, const struct xgw_kdp_cfg *cfg,
				     const struct xgw_kdp_svc *svc, struct kdp_pkt *p,
				     struct kdp_scratch_val *sc)
{
	__u64 now = bpf_jiffies64();
	const struct xgw_kdp_ct_key *k = &sc->k;
	struct xgw_kdp_ct_key *rk;
	struct xgw_kdp_ct *v;
	struct xgw_kdp_be *be;
	__u32 pos = 0, hash, drop;

	if (!kdp_policy_allows(cfg, p->src, p->dst,
			       KDP_POL_WHAT(p->family, p->proto, bpf_ntohs(p->dport))))
		return XGW_DROP_POLICY;
	/* A RST alone opens no connection; other segments are picked up. */
	if (p->proto == IPPROTO_TCP && !(p->tcp_flags & TF_SYN) && (p->tcp_flags & TF_RST))
		return XGW_DROP_CT_INVALID;
	hash =
	    kdp_flow_hash(p->src, p->dst, p->sport, p->dport, p->proto, p->family, cfg->hash_seed);
	be = kdp_pick(svc, hash, &pos);
	if (!be || be->family != p->family)
		return XGW_DROP_NO_BACKEND;
	v = &sc->v;
	rk = &sc->rk;
	__builtin_memset(v, 0, sizeof(*v));
	v->other = *k;
	v->dir = 1;
	v->backend = pos;
	v->svc_id = svc->id;
	v->ctr = be->ctr;
	v->hash = hash;
	v->last_seen = now;
	drop = kdp_reply_entry(ctx, cfg, svc, p, be, v, sc, hash, now);
	if (drop)
		return drop;
	/* Egress policy on the translated packet: from the reply tuple's
	 * destination (the client, or the SNAT address) to the backend. */
	if (cfg->n_policies &&
	    !kdp_policy_allows(cfg, (const __u32 *)rk->dst, (const __u32 *)be->addr,
			       KDP_POL_WHAT(p->family, p->proto, bpf_ntohs(be->port)))) {
		kct_delete(rk);
		return XGW_DROP_POLICY;
	}
	v->other = *rk;
	v->dir = 0;
	v->state = p->proto == IPPROTO_TCP ? kct_tcp_initial(p->tcp_flags) : KCT_NONE;
	v->pkts[0] = 1;
	v->bytes[0] = p->len;
	/* The orig entry goes in as the first packet leaves it (gen, next
	 * hop), so that the caller sends from this copy, sc->v, instead of
	 * looking the entry up again.  With tunnels the entry's next hop may
	 * be the outer one (kern_tun.h): the caller looks it up and
	 * resolves as before. */
	v->gen = sc->gen;
	sc->nh_rc = KDP_NH_UNSET;
	if (!(cfg->flags & XGW_KDP_F_TUNNELS))
		sc->nh_rc = kdp_nh_refresh(ctx, cfg, p, v, now);
	if (kct_insert(k, v, BPF_ANY)) {
		kct_delete(rk);
		return XGW_DROP_CT_FULL;
	}
	return 0; /* ct_new is counted by the caller, in its cnt */
}

/* An ICMP error about a kernel connection, e.g. a backend's port
 * unreachable or fragmentation needed about a DNATed packet: back to the
 * client as lb/nat.c translates it, then routed.  KDP_NOT_AN_ERROR when p
 * is no such error.  A subprogram (its own frame; errors are rare). */
#define KDP_NOT_AN_ERROR (-2)
static __noinline int kdp_icmp_error(struct xdp_md *ctx, const struct xgw_kdp_cfg *cfg,
				     struct kdp_pkt *p, __u64 now)
{
	struct kicmp q;

	if (!kicmp_find(cfg, p, &q, now))
		return KDP_NOT_AN_ERROR;
	kdp_count(XGW_KDP_CNT_RX);
	if (kdp_ttl(p) <= 1) {
		kdp_count(XGW_KDP_CNT_PUNT);
		return KDP_CONTINUE;
	}
	kicmp_translate(p, &q);
	kdp_ttl_dec(p);
	kdp_count(XGW_KDP_CNT_ICMP_ERR);
	return kdp_fib_out(ctx, p);
}

static __always_inline int kdp_run_one(struct xdp_md *ctx, struct xgw_kdp_cfg *cfg)
{
	struct xgw_kdp_ct *c;
	struct xgw_kdp_svc *svc;
	struct xgw_kdp_cnt *cnt;
	struct kdp_pkt p = {};
	struct xgw_kdp_ct_key *k = 0;
	__u32 drop = 0, gen;
	__u64 now;
	int rc, tunneled = 0, opened = 0, nh_rc = KDP_NH_UNSET;

	rc = kdp_parse(ctx, &p);
	if (rc == KDP_NOT_MINE)
		return KDP_CONTINUE;
	if (rc != KDP_PARSED) {
		if (!kdp_is_vip(&p))
			return KDP_CONTINUE;
		if (rc == KDP_BAD)
			return kdp_drop(p.reason);
		kdp_count(XGW_KDP_CNT_PUNT);
		return KDP_CONTINUE;
	}

	/* Jiffies (a tick's resolution, for timeouts of seconds and the next
	 * hop's 1 s; kdp_cfg's times are in them): a load of the kernel's
	 * counter, where the coarse clock's helper reads the timekeeper
	 * under its seqcount and the fine one cost ~20 ns a packet here. */
	now = bpf_jiffies64();
	if (cfg->flags & XGW_KDP_F_TUNNELS) {
		rc = ktun_decap(ctx, cfg, &p, now);
		if (rc == KTUN_HAND_ON)
			return KDP_CONTINUE;
		if (rc == KTUN_DROP)
			return kdp_drop(XGW_DROP_TUNNEL_TRUNC);
		tunneled = rc == KTUN_DECAPSULATED;
	}

	if (p.proto == IPPROTO_ICMP || p.proto == IPPROTO_ICMPV6) {
		rc = kdp_icmp_error(ctx, cfg, &p, now);
		if (rc != KDP_NOT_AN_ERROR)
			return rc;
		if (tunneled) /* its connection went between the two looks */
			return kdp_drop(XGW_DROP_CT_INVALID);
		if (!kdp_is_vip(&p))
			return KDP_CONTINUE;
		kdp_count(XGW_KDP_CNT_RX);
		if (!kdp_policy_allows(cfg, p.src, p.dst, KDP_POL_WHAT(p.family, p.proto, 0)))
			return kdp_drop(XGW_DROP_POLICY);
		if (!kdp_icmp_echo(&p)) {
			kdp_count(XGW_KDP_CNT_PUNT);
			return KDP_CONTINUE;
		}
		kdp_count(XGW_KDP_CNT_ICMP_ECHO);
		return XDP_TX;
	}

	/* IPv4: the map's 16-byte key straight from the packet's fields, on
	 * the stack, not the 40-byte key written and then converted at the
	 * map; the full key (per-CPU scratch) only if a new connection is to
	 * be made.  IPv6: the full key is the map's, in scratch (the stack
	 * frame is short: 512 bytes for the chain of subprograms of a new
	 * flow). */
	if (p.family == AF_INET) {
		struct xgw_kdp_ct4_key k4 = {.src = p.src[0],
					     .dst = p.dst[0],
					     .sport = p.sport,
					     .dport = p.dport,
					     .proto = p.proto};

		c = bpf_map_lookup_elem(&kdp_ct4, &k4);
	} else {
		k = kct_pkt_key(&p);
		if (!k)
			return KDP_CONTINUE;
		c = bpf_map_lookup_elem(&kdp_ct6, k);
	}
	if (c && c->dir == 1) {
		/* A backend's reply: back to the client from the VIP. */
		struct xgw_kdp_ct *o = kct_lookup(&c->other);

		cnt = kdp_cnts(); /* rx, ct_reply, tx: one lookup */
		kdp_cnt_add(cnt, XGW_KDP_CNT_RX);
		if (kdp_ttl(&p) <= 1) {
			kdp_cnt_add(cnt, XGW_KDP_CNT_PUNT);
			return KDP_CONTINUE;
		}
		/* Too big for the way to the client: fragmentation needed
		 * or packet too big back to the backend, built here (the
		 * workers keep no state of this connection to answer with),
		 * before anything is counted for the connection.  A reply
		 * that came through a tunnel is dropped (exceeds_mtu): its
		 * backend is reached through the tunnel only. */
		rc = kdp_nh_resolve(ctx, cfg, &p, c, now);
		if (rc == KDP_NH_TOO_BIG)
			return tunneled ? kdp_drop(XGW_DROP_MTU)
					: ktb_send(ctx, &p, c->nh_mtu, now / cfg->hz);
		if (o && o->dir == 0)
			kct_update(o, 1, p.proto, p.tcp_flags, p.len, now);
		kdp_be_count(c->ctr, 1, kdp_frame_len(ctx), 0);
		/* From the VIP, and with SNAT back to the client. */
		kdp_nat_xlate(&p, c->flags & KCT_F_SNAT, (const __u32 *)c->other.src,
			      c->other.sport, 1, (const __u32 *)c->other.dst, c->other.dport);
		kdp_cnt_add(cnt, XGW_KDP_CNT_CT_REPLY);
		return kdp_nh_out(ctx, &p, c, rc, cnt);
	}
	if (tunneled) /* its connection went between the two looks */
		return kdp_drop(XGW_DROP_CT_INVALID);
	if (c && kct_expired(cfg, c, p.proto, now))
		c = 0;
	/* A client's SYN on its closed connection's tuple (it reused the
	 * port): a new connection, its backend picked afresh (the old one
	 * may since have been drained or gone down), as the workers do.
	 * The old reply entry goes first: the new pick may differ. */
	if (c && kct_closed_reusable(c, p.proto, p.tcp_flags)) {
		kct_delete(&c->other);
		c = 0;
	}
	/* A live connection whose service was found under the current gen
	 * needs no service lookup (a hash of 20 bytes per packet); gen is
	 * read before the lookup, so that an entry never holds a gen newer
	 * than the kdp_svcs it was checked against. */
	gen = *(volatile const __u32 *)&cfg->gen;
	svc = 0;
	if (!c || c->gen != gen) {
		svc = kdp_service(p.family, p.dst, p.dport, p.proto);
		if (!svc)
			return KDP_CONTINUE;
	}
	cnt = kdp_cnts(); /* rx, then tx: one lookup */
	kdp_cnt_add(cnt, XGW_KDP_CNT_RX);
	if (kdp_ttl(&p) <= 1) {
		kdp_cnt_add(cnt, XGW_KDP_CNT_PUNT);
		return KDP_CONTINUE;
	}
	if (c) {
		kct_update(c, 0, p.proto, p.tcp_flags, p.len, now);
	} else if (svc) {
		/* k, when set, is this scratch's already (kct_pkt_key). */
		struct kdp_scratch_val *sc = kct_scratch();

		if (!sc) {
			drop = XGW_DROP_CT_FULL;
		} else {
			if (!k)
				kct_pkt_key_in(sc, &p);
			sc->gen = gen;
			drop = kdp_new_flow(ctx, cfg, svc, &p, sc);
		}
		if (!drop) {
			kdp_cnt_add(cnt, XGW_KDP_CNT_CT_NEW); /* its entries are in */
			nh_rc = sc->nh_rc;
			c = nh_rc != KDP_NH_UNSET ? &sc->v : kct_lookup(&sc->k);
			drop = c ? 0 : XGW_DROP_CT_FULL;
		}
		if (drop) {
			kdp_svc_drop(svc->ctr, drop); /* why this service refused it */
			return kdp_drop(drop);
		}
		opened = 1;
	} else {
		return KDP_CONTINUE; /* unreachable: !c implies a lookup */
	}
	if (c->gen != gen)
		c->gen = gen;
	kdp_be_count(c->ctr, 0, kdp_frame_len(ctx), opened);
	if (nh_rc == KDP_NH_UNSET && (cfg->flags & XGW_KDP_F_TUNNELS)) {
		struct xgw_kdp_tun *ep = ktun_ep(&c->other);

		if (ep)
			return ktun_out(ctx, cfg, &p, c, ep, now);
	}
	/* A packet too big for the way to the backend goes on untouched to
	 * the workers, whose forwarding stage answers the client with
	 * fragmentation needed / packet too big quoting the packet as sent
	 * (to the VIP), as for their own services: path MTU discovery works
	 * through either datapath. */
	if (nh_rc == KDP_NH_UNSET)
		rc = kdp_nh_resolve(ctx, cfg, &p, c, now);
	else /* kdp_nh_resolve's check on kdp_new_flow's refresh */
		rc = !nh_rc && p.len > c->nh_mtu ? KDP_NH_TOO_BIG : nh_rc;
	if (rc == KDP_NH_TOO_BIG) {
		kdp_cnt_add(cnt, XGW_KDP_CNT_PUNT);
		return KDP_CONTINUE;
	}
	/* The reply tuple says it all: backend = its source, SNAT = its
	 * destination. */
	kdp_nat_xlate(&p, 1, (const __u32 *)c->other.src, c->other.sport, c->flags & KCT_F_SNAT,
		      (const __u32 *)c->other.dst, c->other.dport);
	return kdp_nh_out(ctx, &p, c, rc, cnt);
}

static __always_inline int kdp_run(struct xdp_md *ctx)
{
	struct xgw_kdp_cfg *cfg;
	__u32 zero = 0, flags;
	int rc;

	cfg = bpf_map_lookup_elem(&kdp_cfg, &zero);
	if (!cfg)
		return KDP_CONTINUE;
	flags = cfg->flags; /* one load: the trace costs a test of it */
	if (!(flags & XGW_KDP_F_ENABLED))
		return KDP_CONTINUE;
	/* One copy of the datapath, between the two tests. */
	if (flags & XGW_KDP_F_TRACE)
		kdp_trace_begin(ctx);
	rc = kdp_run_one(ctx, cfg);
	if (flags & XGW_KDP_F_TRACE)
		kdp_trace_end(ctx, rc);
	return rc;
}

#endif
