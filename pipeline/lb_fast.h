/* SPDX-License-Identifier: BSD-3-Clause */
/* The LB stage's per-packet entry point, inline in the worker's loop: the
 * packet of a tracked connection whose burst-pass hint names its record
 * (almost every packet of an established flow) is checked, accounted and
 * translated here with no call (VPP's nat and lb nodes handle their
 * session hits inline the same way).  Every other packet goes out of line
 * to lb_stage.c, which decides again from the hint. */
#ifndef XGW_LB_FAST_H
#define XGW_LB_FAST_H

#include "common/drop.h"
#include "common/hdr.h"
#include "lb/conntrack_fast.h"
#include "lb/nat.h"
#include "pipeline/lb_stage.h"
#include "pipeline/worker.h"

/* Flag combinations no TCP sends in any state (as Linux conntrack's
 * tcp_valid_flags): SYN with FIN or RST, and none of SYN, ACK, RST (a null
 * segment, FIN alone, "Xmas" FIN+PSH+URG).  Such a segment opens no
 * connection and is not passed along a tracked one. */
static inline bool xgw_tcp_flags_bad(uint8_t f)
{
	return ((f & XGW_TCP_SYN) && (f & (XGW_TCP_FIN | XGW_TCP_RST))) ||
	       !(f & (XGW_TCP_SYN | XGW_TCP_ACK | XGW_TCP_RST));
}

/* xgw_nat_apply for a packet the burst pass found valid (TCP or UDP with
 * ports, no fragment): an IPv4 one of an IPv4 connection is translated
 * inline, with its protocol known here (tcp). */
static inline int xgw_lb_nat(struct xgw_pkt *p, const struct xgw_ct_conn *c, enum xgw_ct_dir dir,
			     bool tcp)
{
	const struct xgw_ct_ctuple *o = dir ? &c->orig : &c->reply;

	if (__builtin_expect((p->flags & XGW_PKT_IPV4) && o->family == AF_INET, 1)) {
		xgw_nat4_ports(p, o, tcp);
		return 0;
	}
	return xgw_nat_apply_any(p, c, dir);
}

/* A packet of connection c in direction dir: its TCP flags checked, the
 * connection accounted (and its state stepped), the packet translated. */
static inline int xgw_lb_tracked(struct xgw_worker *w, struct xgw_ct_table *ct,
				 struct xgw_ct_conn *c, enum xgw_ct_dir dir, struct xgw_pkt *p)
{
	if (p->l4_proto == IPPROTO_TCP) {
		uint8_t flags = p->data[p->l4_off + XGW_TCP_FLAGS];
		if (xgw_tcp_flags_bad(flags))
			return XGW_DROP_TCP_FLAGS;
		xgw_ct_update(ct, c, dir, flags, p->len, w->now_ns);
		return xgw_lb_nat(p, c, dir, true);
	}
	/* UDP: no state machine (xgw_ct_update_state steps TCP only) */
	xgw_ct_account(c, dir, p->len, w->now_ns);
	return xgw_lb_nat(p, c, dir, false);
}

/* The stage for one packet with its entry of xgw_lb_prepare's array: 0,
 * XGW_LB_ROUTE or a drop reason, as xgw_lb_stage_flow. */
static inline int xgw_lb_stage(struct xgw_worker *w, const struct xgw_snapshot *snap,
			       const struct xgw_fwd_state *fs, struct xgw_pkt *p,
			       const struct xgw_lb_flow *f)
{
	if (f->route)
		return XGW_LB_ROUTE;
	if (!f->valid)
		return xgw_lb_stage_flow(w, snap, fs, p, f);
	enum xgw_ct_dir dir = (enum xgw_ct_dir)(f->hint & 1);
	if (__builtin_expect(f->conn && xgw_ct_conn_is(w->lb.ct, f->conn, dir, &f->key, w->now_ns),
			     1))
		return xgw_lb_tracked(w, w->lb.ct, f->conn, dir, p);
	return xgw_lb_l4_flow(w, snap, fs, p, f);
}

#endif
