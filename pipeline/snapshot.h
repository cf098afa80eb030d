/* SPDX-License-Identifier: BSD-3-Clause */
/* The service configuration the workers read: services with their backends
 * and Maglev tables, and the compiled policy.  Built whole by the control
 * thread from a config, published with one pointer store (RCU, QSBR), and
 * freed only after every worker has passed a quiescent state. */
#ifndef XGW_SNAPSHOT_H
#define XGW_SNAPSHOT_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/config.h"
#include "lb/maglev.h"
#include "lb/policy.h"
#include "tunnel/tunnel.h"

struct xgw_be_rt {
	struct xgw_addr ip;
	uint16_t port; /* network order */
	uint32_t weight;
	uint32_t ctr; /* counter slot (svc_stats.h), 0: none */
};

struct xgw_svc_rt {
	struct xgw_addr vip;
	uint16_t port; /* network order */
	uint8_t proto;
	uint8_t algo; /* enum xgw_algo */
	bool snat;
	bool kernel;		 /* served by the XDP datapath (pipeline/kdp.c) */
	uint32_t id;             /* stable across snapshots: hash of the key */
	uint32_t ctr;		 /* counter slot (svc_stats.h), 0: none */
	uint32_t n_backends;
	struct xgw_be_rt *be;    /* be[1..n_backends]; id 0 = none */
	uint32_t *active;        /* ids with weight > 0, for rr and random */
	uint32_t n_active;
	struct xgw_maglev *maglev;
};

/* Open-addressing index entry: key fields inline so a miss costs one line. */
struct xgw_svc_slot {
	struct xgw_addr vip;
	uint16_t port;
	uint8_t proto;
	uint8_t used;
	uint32_t svc;
};

/* Addresses that may have a connection: one bit per hash of an address,
 * set for every VIP and every backend address of this snapshot and of
 * every snapshot before it (bits are never cleared, so that a connection
 * of a service or backend since removed is still found).  A TCP/UDP
 * packet with neither its source nor its destination bit set is no
 * service's and has no connection: it skips conntrack entirely. */
#define XGW_ADDR_FILTER_BITS 4096
#define XGW_ADDR_FILTER_SHIFT 20 /* 32 - log2(XGW_ADDR_FILTER_BITS) */

/* An address folded to 32 bits: the IPv4 address as it is on the wire, or
 * the XOR of an IPv6 address's four words (v4 leaves w[1..3] zero). */
static inline uint32_t xgw_addr_fold(const struct xgw_addr *a)
{
	return a->w[0] ^ a->w[1] ^ a->w[2] ^ a->w[3];
}

static inline uint32_t xgw_addr_filter_idx(uint32_t folded)
{
	return (folded * 0x9e3779b1u) >> XGW_ADDR_FILTER_SHIFT;
}

struct xgw_snapshot {
	uint64_t addr_filter[XGW_ADDR_FILTER_BITS / 64];
	struct xgw_svc_rt *svcs;
	unsigned n_svcs;
	struct xgw_be_rt *be_all;   /* every svcs[i].be, one after another */
	uint32_t *active_all;	    /* every svcs[i].active */
	struct xgw_svc_slot *index; /* services by (vip, port, proto) */
	uint32_t index_mask;        /* of index and of vips (as many entries) */
	struct xgw_svc_slot *vips;  /* distinct VIPs (port 0, proto 0): ICMP echo */
	struct xgw_svc_slot *bes;   /* (backend ip, port, proto) of every service */
	struct xgw_svc_slot *be_addrs; /* backend ip alone (fragments: no ports) */
	uint32_t bes_mask;
	struct xgw_policy *policy;  /* NULL: no rules, default applies */
	bool policy_default_allow;
	uint64_t **hits;            /* [worker][rule]: policy hit counters */
	unsigned n_workers;
	uint32_t hash_seed;
	struct xgw_tun_table *tun; /* NULL: no tunnel backend */
};

/* Build from cfg (every service: the kernel-datapath ones too, for the
 * packets their XDP datapath hands on to the workers, and for the Maglev
 * tables xgwd pushes into its maps).  NULL with err filled
 * naming the service and the reason. */
struct xgw_snapshot *xgw_snapshot_build(const struct xgw_config *cfg, unsigned n_workers,
					uint32_t hash_seed, char *err, size_t errlen);
/* The same, reusing the Maglev tables of services whose backends did not
 * change since `old` (the snapshot being replaced; read-only here). */
struct xgw_snapshot *xgw_snapshot_rebuild(const struct xgw_config *cfg, unsigned n_workers,
					  uint32_t hash_seed, const struct xgw_snapshot *old,
					  char *err, size_t errlen);
void xgw_snapshot_free(struct xgw_snapshot *s);

/* A service's Maglev table size: its own "maglev_size", else
 * xgw_maglev_auto_size() of its weight sum capped at cap (lb.maglev_size).
 * The kernel datapath pushes the same M (pipeline/kdp.c). */
uint32_t xgw_service_maglev_size(const struct xgw_service_cfg *sc, uint32_t cap);

const struct xgw_svc_rt *xgw_snapshot_service(const struct xgw_snapshot *s,
					      const struct xgw_addr *vip, uint16_t port,
					      uint8_t proto);

/* The index hash: one 64x64->128 multiply of the address's two words
 * (with the port and protocol in the second), folded (wyhash's mixing
 * step).  Every new flow looks its service up: ~13 instructions fewer
 * than the fmix64 finaliser it replaces.  The tables hold configured keys
 * only (probes for packets' keys stop at an empty slot; at most half
 * full), so nothing a sender picks can lengthen a chain. */
static inline uint32_t xgw_snapshot_key_hash(const struct xgw_addr *a, uint16_t port, uint8_t proto)
{
	__extension__ unsigned __int128 r =
	    (unsigned __int128)(a->q[0] ^ 0x9e3779b97f4a7c15ULL) *
	    (a->q[1] ^ ((uint64_t)port << 8 | proto) ^ 0xc4ceb9fe1a85ec53ULL);

	return (uint32_t)((uint64_t)r ^ (uint64_t)(r >> 64));
}

/* Inline in each lookup: every new flow asks for its service, and the
 * call's prologue cost more than the usual one-slot probe. */
static inline __attribute__((always_inline)) const struct xgw_svc_slot *
xgw_snapshot_index_get(const struct xgw_svc_slot *tab, uint32_t mask, const struct xgw_addr *a,
		       uint16_t port, uint8_t proto)
{
	/* Every table exists (16 slots at least) and is never full. */
	for (uint32_t h = xgw_snapshot_key_hash(a, port, proto) & mask;; h = (h + 1) & mask) {
		const struct xgw_svc_slot *s = &tab[h];
		if (!s->used)
			return NULL;
		if (s->port == port && s->proto == proto && xgw_addr_eq(&s->vip, a))
			return s;
	}
}

/* xgw_snapshot_service inline, for the LB stage's burst pass (every new
 * flow's lookup; the call and its prologue cost ~15 instructions, callgrind
 * new-flows). */
static inline const struct xgw_svc_rt *xgw_snapshot_service_fast(const struct xgw_snapshot *s,
								 const struct xgw_addr *vip,
								 uint16_t port, uint8_t proto)
{
	const struct xgw_svc_slot *e =
	    xgw_snapshot_index_get(s->index, s->index_mask, vip, port, proto);

	return e ? &s->svcs[e->svc] : NULL;
}
/* Whether a packet between these (folded) addresses may be a service's or
 * have a connection; false is certain. */
static inline bool xgw_snapshot_may_track(const struct xgw_snapshot *s, uint32_t src_fold,
					  uint32_t dst_fold)
{
	uint32_t a = xgw_addr_filter_idx(src_fold), b = xgw_addr_filter_idx(dst_fold);

	return ((s->addr_filter[a >> 6] >> (a & 63)) | (s->addr_filter[b >> 6] >> (b & 63))) & 1;
}
/* Whether an address (folded) may be a VIP or a backend's (its filter
 * bit); false is certain. */
static inline bool xgw_snapshot_addr_maybe(const struct xgw_snapshot *s, uint32_t folded)
{
	uint32_t a = xgw_addr_filter_idx(folded);

	return s->addr_filter[a >> 6] >> (a & 63) & 1;
}
bool xgw_snapshot_is_vip(const struct xgw_snapshot *s, const struct xgw_addr *ip);
/* Whether ip is any service's backend, whatever the port and protocol. */
bool xgw_snapshot_is_backend_addr(const struct xgw_snapshot *s, const struct xgw_addr *ip);
bool xgw_snapshot_is_backend(const struct xgw_snapshot *s, const struct xgw_addr *ip,
			     uint16_t port, uint8_t proto);

/* The policy verdict for one packet, counted in the worker's row of hits
 * (snapshots are built with one per worker); shared by the LB stage (new
 * service flows) and the policy stage.  dport in network order, 0 for
 * packets without ports. */
static inline bool xgw_policy_allows(const struct xgw_snapshot *snap, int worker,
				     const struct xgw_addr *src, const struct xgw_addr *dst,
				     uint8_t proto, uint16_t dport_be)
{
	struct xgw_policy_key k;

	if (!snap->policy)
		return snap->policy_default_allow;
	k.src = *src;
	k.dst = *dst;
	k.proto = proto;
	k.dport = ntohs(dport_be);
	return xgw_policy_classify(snap->policy, &k, snap->hits[worker]);
}

#endif
