/* SPDX-License-Identifier: BSD-3-Clause */
/* Kernel datapath, conntrack: an LRU hash with one entry per direction
 * (kdp_maps.h), the TCP state machine and timeouts of lb/conntrack.c
 * (states, FIN flags and per-state timeouts are the same; the timeouts
 * come from the same config, written by xgwd into kdp_cfg).  The LRU
 * evicts the least recently used entries when full, so a new flow is
 * never refused for lack of room (user space counts conntrack_full). */
#ifndef XGW_KERN_CT_H
#define XGW_KERN_CT_H

/* lb/conntrack.h's enum xgw_ct_state and flags, by value. */
enum {
	KCT_NONE = 0,
	KCT_SYN_SENT,
	KCT_SYN_RECV,
	KCT_ESTABLISHED,
	KCT_FIN_WAIT,
	KCT_CLOSE_WAIT,
	KCT_TIME_WAIT,
	KCT_CLOSE,
};
#define KCT_F_SNAT	0x01
#define KCT_F_FIN_ORIG	0x02
#define KCT_F_FIN_REPLY 0x04
#define TF_FIN		0x01
#define TF_SYN		0x02
#define TF_RST		0x04
#define TF_ACK		0x10

static __always_inline __u8 kct_tcp_initial(__u8 tf)
{
	if (tf & TF_RST)
		return KCT_CLOSE;
	if ((tf & (TF_SYN | TF_ACK)) == TF_SYN)
		return KCT_SYN_SENT;
	return KCT_ESTABLISHED; /* picked up mid-stream, as user space does */
}

/* lb/conntrack.c's tcp_next, line for line. */
static __always_inline __u8 kct_tcp_next(__u8 s, __u8 *flags, int reply, __u8 tf)
{
	__u8 mine = reply ? KCT_F_FIN_REPLY : KCT_F_FIN_ORIG;
	__u8 other = reply ? KCT_F_FIN_ORIG : KCT_F_FIN_REPLY;
	int syn = tf & TF_SYN, ack = tf & TF_ACK, fin = tf & TF_FIN;

	if (tf & TF_RST)
		return KCT_CLOSE;
	switch (s) {
	case KCT_NONE:
		return kct_tcp_initial(tf);
	case KCT_SYN_SENT:
		if (reply && syn)
			return KCT_SYN_RECV;
		break;
	case KCT_SYN_RECV:
		if (!reply && ack && !syn && !fin)
			return KCT_ESTABLISHED;
		break;
	case KCT_ESTABLISHED:
		break;
	case KCT_FIN_WAIT:
		if ((*flags & other) && !(*flags & mine) && ack && !fin)
			return KCT_CLOSE_WAIT;
		break;
	case KCT_CLOSE_WAIT:
		break;
	case KCT_TIME_WAIT:
	case KCT_CLOSE:
		if (!reply && syn && !ack) {
			*flags &= ~(KCT_F_FIN_ORIG | KCT_F_FIN_REPLY);
			return KCT_SYN_SENT;
		}
		return s;
	default:
		return s;
	}
	if (fin) {
		*flags |= mine;
		if (*flags & other)
			return KCT_TIME_WAIT;
		/* a first FIN, or the same side's FIN again */
		return s == KCT_CLOSE_WAIT ? s : KCT_FIN_WAIT;
	}
	return s;
}

static __always_inline __u64 kct_timeout(const struct xgw_kdp_cfg *cfg, __u8 proto, __u8 state)
{
	if (proto == IPPROTO_TCP)
		return cfg->to_tcp[state & 7];
	return proto == IPPROTO_UDP ? cfg->to_udp : cfg->to_other;
}

static __always_inline int kct_expired(const struct xgw_kdp_cfg *cfg, const struct xgw_kdp_ct *c,
				       __u8 proto, __u64 now)
{
	return now > c->last_seen && now - c->last_seen > kct_timeout(cfg, proto, c->state);
}

/* A SYN alone (tf) on a TCP connection c that has closed (both FINs, or a
 * RST) opens a new connection, and c gives way, whether the SYN comes on
 * c's own tuple or wants its backend tuple: the workers'
 * xgw_ct_syn_reopens (lb/conntrack.h). */
static __always_inline int kct_closed_reusable(const struct xgw_kdp_ct *c, __u8 proto, __u8 tf)
{
	return proto == IPPROTO_TCP && (tf & (TF_SYN | TF_ACK | TF_RST)) == TF_SYN &&
	       (c->state == KCT_TIME_WAIT || c->state == KCT_CLOSE);
}

/* Account a packet on the ORIG entry c and step its state (xgw_ct_update;
 * benign races between CPUs, as there). */
static __always_inline void kct_update(struct xgw_kdp_ct *c, int reply, __u8 proto, __u8 tf,
				       __u32 bytes, __u64 now)
{
	int d = reply ? 1 : 0;

	c->pkts[d] += 1;
	c->bytes[d] += bytes;
	c->last_seen = now;
	if (proto != IPPROTO_TCP || (c->state == KCT_ESTABLISHED && !(tf & (TF_FIN | TF_RST))))
		return;
	__u8 f = c->flags;
	__u8 ns = kct_tcp_next(c->state, &f, reply, tf);
	c->flags = f;
	c->state = ns;
}

/* src, dst: 16 bytes, v4 in the first 4 and the rest zero. */
static __always_inline void kct_key(struct xgw_kdp_ct_key *k, const void *src, const void *dst,
				    __be16 sport, __be16 dport, __u8 proto, __u8 family)
{
	__builtin_memcpy(k->src, src, 16);
	__builtin_memcpy(k->dst, dst, 16);
	k->sport = sport;
	k->dport = dport;
	k->proto = proto;
	k->family = family;
	k->pad[0] = 0;
	k->pad[1] = 0;
}

/* This CPU's scratch (kern_maps.h); 0 if none. */
static __always_inline struct kdp_scratch_val *kct_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&kdp_scratch, &zero);
}

/* Packet p's own tuple as the full key, in the scratch sc the caller
 * holds already. */
static __always_inline struct xgw_kdp_ct_key *kct_pkt_key_in(struct kdp_scratch_val *sc,
							     const struct kdp_pkt *p)
{
	kct_key(&sc->k, p->src, p->dst, p->sport, p->dport, p->proto, p->family);
	return &sc->k;
}

/* Packet p's own tuple as the full key, in per-CPU scratch; 0 if none. */
static __always_inline struct xgw_kdp_ct_key *kct_pkt_key(const struct kdp_pkt *p)
{
	struct kdp_scratch_val *sc = kct_scratch();

	return sc ? kct_pkt_key_in(sc, p) : 0;
}

/* The conntrack maps by the program's key: an IPv4 one is looked up in
 * kdp_ct4 under its 16-byte form, made in per-CPU scratch (the chain of
 * subprograms of a new flow has no 16 bytes of stack to spare). */
static __always_inline struct xgw_kdp_ct4_key *kct_key4(const struct xgw_kdp_ct_key *k)
{
	struct kdp_scratch_val *sc = kct_scratch();

	if (!sc)
		return 0;
	sc->k4.src = *(const __u32 *)k->src;
	sc->k4.dst = *(const __u32 *)k->dst;
	sc->k4.sport = k->sport;
	sc->k4.dport = k->dport;
	sc->k4.proto = k->proto;
	return &sc->k4;
}

static __always_inline struct xgw_kdp_ct *kct_lookup(const struct xgw_kdp_ct_key *k)
{
	struct xgw_kdp_ct4_key *k4;

	if (k->family != AF_INET)
		return bpf_map_lookup_elem(&kdp_ct6, k);
	k4 = kct_key4(k);
	return k4 ? bpf_map_lookup_elem(&kdp_ct4, k4) : 0;
}

static __always_inline long kct_insert(const struct xgw_kdp_ct_key *k, const struct xgw_kdp_ct *v,
				       __u64 flags)
{
	struct xgw_kdp_ct4_key *k4;

	if (k->family != AF_INET)
		return bpf_map_update_elem(&kdp_ct6, k, v, flags);
	k4 = kct_key4(k);
	return k4 ? bpf_map_update_elem(&kdp_ct4, k4, v, flags) : -1;
}

static __always_inline long kct_delete(const struct xgw_kdp_ct_key *k)
{
	struct xgw_kdp_ct4_key *k4;

	if (k->family != AF_INET)
		return bpf_map_delete_elem(&kdp_ct6, k);
	k4 = kct_key4(k);
	return k4 ? bpf_map_delete_elem(&kdp_ct4, k4) : -1;
}

#endif
