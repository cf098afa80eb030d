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
#define XGW_TCP_FLAGS_BAD(f)                                                                       \
	((((f)&XGW_TCP_SYN) && ((f) & (XGW_TCP_FIN | XGW_TCP_RST))) ||                             \
	 !((f) & (XGW_TCP_SYN | XGW_TCP_ACK | XGW_TCP_RST)))
/* The predicate of the five low flags (FIN, SYN, RST, PSH, ACK: the only
 * ones it reads), one bit each: a shift and a test per segment where the
 * two tests with their branches cost ~8 instructions (callgrind,
 * new-flows). */
#define XGW_TCP_BAD_BIT(i) ((uint32_t)(XGW_TCP_FLAGS_BAD(i)) << (i))
#define XGW_TCP_BAD_BIT4(i)                                                                        \
	(XGW_TCP_BAD_BIT(i) | XGW_TCP_BAD_BIT(i + 1) | XGW_TCP_BAD_BIT(i + 2) |                    \
	 XGW_TCP_BAD_BIT(i + 3))
#define XGW_TCP_BAD_MASK                                                                           \
	(XGW_TCP_BAD_BIT4(0) | XGW_TCP_BAD_BIT4(4) | XGW_TCP_BAD_BIT4(8) | XGW_TCP_BAD_BIT4(12) |  \
	 XGW_TCP_BAD_BIT4(16) | XGW_TCP_BAD_BIT4(20) | XGW_TCP_BAD_BIT4(24) |                      \
	 XGW_TCP_BAD_BIT4(28))
_Static_assert(XGW_TCP_ACK == 0x10 && (XGW_TCP_FIN | XGW_TCP_SYN | XGW_TCP_RST) < 0x10,
	       "the flags xgw_tcp_flags_bad reads are the five low bits");

static inline bool xgw_tcp_flags_bad(uint8_t f)
{
	return (XGW_TCP_BAD_MASK >> (f & 0x1f)) & 1;
}

/* xgw_nat_apply for a packet the burst pass found valid (TCP or UDP with
 * ports, no fragment): an IPv4 one of an IPv4 connection is translated
 * inline, with its protocol known here (tcp).  own: p's tuple is c's in
 * direction dir (its key matched c's, or c was created from it), so the
 * connection's precomputed checksum differences apply (a constant at
 * each call).  v4: the caller knows p is IPv4 (a constant too). */
static inline __attribute__((always_inline)) int xgw_lb_nat_fam(struct xgw_pkt *p,
								const struct xgw_ct_conn *c,
								enum xgw_ct_dir dir, bool tcp,
								bool own, bool v4)
{
	const struct xgw_ct_ctuple *o = dir ? &c->orig : &c->reply;

	if (__builtin_expect(v4 && o->family == AF_INET, 1)) {
		if (!own) {
			xgw_nat4_ports(p, o, tcp);
			return 0;
		}
		uint16_t d3, d4;
		xgw_ct_nat_csum(c, dir, &d3, &d4);
		xgw_nat4_pre(p, o, d3, d4, tcp);
		return 0;
	}
	return xgw_nat_apply_any(p, c, dir);
}

static inline __attribute__((always_inline)) int
xgw_lb_nat(struct xgw_pkt *p, const struct xgw_ct_conn *c, enum xgw_ct_dir dir, bool tcp, bool own)
{
	return (p->flags & XGW_PKT_IPV4) ? xgw_lb_nat_fam(p, c, dir, tcp, own, true)
					 : xgw_lb_nat_fam(p, c, dir, tcp, own, false);
}

/* The packet of a tracked connection, all inline: c is the record the
 * burst pass's hint named (dir: the hint's direction).  The usual answer
 * of the lookup (c has the packet's key, is live and not expired), then
 * the TCP flags check, the accounting and the state step (none for an
 * established segment without FIN or RST), the translation.  The record's
 * state and last_seen are read once for all of it.  XGW_LB_SLOW: not
 * that usual answer, xgw_lb_l4_flow decides (it also unlinks an expired
 * record).  v4: p is IPv4, a constant at each of the two calls
 * (xgw_lb_tracked), so that the IPv4 copy has no family test. */
#define XGW_LB_SLOW (-2)
static inline __attribute__((always_inline)) int
xgw_lb_tracked_fam(struct xgw_ct_table *ct, uint64_t now, struct xgw_ct_conn *c,
		   enum xgw_ct_dir dir, const struct xgw_ct_tuple *k, struct xgw_pkt *p,
		   struct xgw_svc_worker *sv, bool v4)
{
	const struct xgw_ct_ctuple *own = dir ? &c->reply : &c->orig;

	if (!(v4 ? xgw_ct_tuple_eq4(own, k) : xgw_ct_tuple_eq(own, k)) ||
	    atomic_load_explicit(&c->life, memory_order_relaxed) != XGW_CT_L_LIVE)
		return XGW_LB_SLOW;
	uint64_t seen = atomic_load_explicit(&c->last_seen, memory_order_relaxed);
	enum xgw_ct_state s =
	    (enum xgw_ct_state)atomic_load_explicit(&c->state, memory_order_relaxed);
	/* the key matched: the packet's protocol is the record's */
	uint8_t proto = p->l4_proto;

	/* One compare for the expiry check and the refresh: a record seen
	 * at this burst's clock (the coarse clock ticks every few ms, so
	 * almost every packet) is neither expired nor in need of a store.
	 * Another worker may have stored a slightly later now than ours:
	 * neither either.  The refresh is done here, before the state step,
	 * as xgw_ct_update's accounting did it first too. */
	if (__builtin_expect(now != seen, 0) && now > seen) {
		uint64_t age = now - seen;

		if (age > xgw_ct_timeout_fast(ct, proto, s))
			return XGW_LB_SLOW;
		/* the shared grain (xgw_ct_account_seen): a finer clock
		 * (offline's, a pcap's) still stores at most every ~1 ms */
		if (age > XGW_CT_SEEN_GRAIN_NS)
			atomic_store_explicit(&c->last_seen, now, memory_order_relaxed);
	}
	if (proto == IPPROTO_TCP) {
		uint8_t flags = p->data[p->l4_off + XGW_TCP_FLAGS];
		/* Almost every segment: an established connection's with ACK
		 * and none of SYN, FIN, RST, which is not bad and takes no
		 * state step; one test for the two below. */
		if (__builtin_expect(s == XGW_CT_ESTABLISHED &&
					 (flags & (XGW_TCP_SYN | XGW_TCP_FIN | XGW_TCP_RST |
						   XGW_TCP_ACK)) == XGW_TCP_ACK,
				     1)) {
			xgw_svc_count(sv, c->slot, dir, p->len);
			xgw_ct_count(c, dir, p->len);
			return xgw_lb_nat_fam(p, c, dir, true, true, v4);
		}
		if (xgw_tcp_flags_bad(flags)) {
			XGW_STAT_ADD(sv->be[c->slot].drops, 1);
			return XGW_DROP_TCP_FLAGS;
		}
		/* The state step first (none for an established segment
		 * without FIN or RST): a client's SYN on its closed
		 * connection's tuple opens a new one (xgw_ct_syn_reopens),
		 * which xgw_lb_l4_flow does, before anything is counted. */
		if (s != XGW_CT_ESTABLISHED || (flags & XGW_CT_TCP_FIN_RST)) {
			if (dir == XGW_CT_ORIG && (flags & XGW_CT_TCP_SYN_MASK) == XGW_CT_TCP_SYN &&
			    (s == XGW_CT_TIME_WAIT || s == XGW_CT_CLOSE))
				return XGW_LB_SLOW;
			xgw_ct_update_state(ct, c, dir, flags, now, s);
		}
		/* per-service/backend counters, as lb_stage.c's tracked branch */
		xgw_svc_count(sv, c->slot, dir, p->len);
		xgw_ct_count(c, dir, p->len);
		return xgw_lb_nat_fam(p, c, dir, true, true, v4);
	}
	/* UDP: no state machine (xgw_ct_update_state steps TCP only) */
	xgw_svc_count(sv, c->slot, dir, p->len);
	xgw_ct_count(c, dir, p->len);
	return xgw_lb_nat_fam(p, c, dir, false, true, v4);
}

/* xgw_lb_tracked_fam, its IPv4 and IPv6 copies. */
static inline __attribute__((always_inline)) int
xgw_lb_tracked(struct xgw_ct_table *ct, uint64_t now, struct xgw_ct_conn *c, enum xgw_ct_dir dir,
	       const struct xgw_ct_tuple *k, struct xgw_pkt *p, struct xgw_svc_worker *sv)
{
	if (__builtin_expect(p->flags & XGW_PKT_IPV4, 1))
		return xgw_lb_tracked_fam(ct, now, c, dir, k, p, sv, true);
	return xgw_lb_tracked_fam(ct, now, c, dir, k, p, sv, false);
}

#endif
