/* SPDX-License-Identifier: BSD-3-Clause */
/* The service configuration the workers read: services with their backends
 * and Maglev tables, and the compiled policy.  Built by the control thread
 * from a config, published with one pointer store (RCU, QSBR), and freed
 * only after every worker has passed a quiescent state.
 *
 * A write costs what it changes: a service's runtime record (struct
 * xgw_svc_rt, with its backends and Maglev table) is immutable once
 * published and shared by every snapshot whose config has that service as
 * it is; and the service index (index, vips, bes, be_addrs) kept by the
 * data plane's builder (xgw_snapshot_update) exists twice, one copy for the
 * published snapshot and one spare that no worker reads any more (the
 * snapshot before was freed after a grace period): the next snapshot's is
 * the spare brought up to date in place, with the changes of the last
 * write and of this one. */
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
	/* Control thread only, never read by the workers: the snapshots
	 * (and a builder's pending change) holding the record, a build's
	 * mark, and its position in the last snapshot built (a hint); the
	 * Maglev size inputs it was built with (the service's maglev_size,
	 * lb.maglev_size). */
	uint32_t refs, mark, pos;
	uint32_t msize_cfg, msize_cap;
	uint32_t n_tun; /* tunnel backends (then never shared by comparison) */
};

/* Open-addressing index entry: key fields inline so a miss costs one line. */
struct xgw_svc_slot {
	struct xgw_addr vip;
	uint16_t port;
	uint8_t proto;
	uint8_t used;
	union {
		struct xgw_svc_rt *svc; /* index: the service */
		uint32_t n;		/* vips, bes, be_addrs: services with the key */
	};
};

/* The four tables, with how many keys each holds (linear probing, at most
 * half full, no tombstones). */
struct xgw_svc_tabs {
	struct xgw_svc_slot *index, *vips, *bes, *be_addrs;
	uint32_t index_mask, bes_mask;
	uint32_t n_index, n_vips, n_bes, n_be_addrs;
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

/* The compiled rules and their per-worker hit counters, with the rules
 * they were compiled from.  A snapshot whose config has the same rules as
 * the one before takes that one's set (a reference), so that the hits go
 * on counting across writes that do not touch the policy (a backend
 * added, a service drained), as a counter must; new rules start a new
 * set at 0.  id is new with each set: the kernel datapath rewrites its
 * policy maps, and zeroes its own hits, only when it changes. */
struct xgw_policy_set {
	unsigned refs; /* control thread only */
	uint64_t id;
	struct xgw_policy *policy;
	uint64_t **hits;
	unsigned n_workers;
	bool default_allow;
	struct xgw_policy_cfg *rules;
	unsigned n_rules;
};

struct xgw_snapshot {
	uint64_t addr_filter[XGW_ADDR_FILTER_BITS / 64];
	struct xgw_svc_rt **svcs; /* in config order */
	unsigned n_svcs;
	struct xgw_svc_slot *index; /* services by (vip, port, proto) */
	uint32_t index_mask;        /* of index and of vips (as many entries) */
	struct xgw_svc_slot *vips;  /* distinct VIPs (port 0, proto 0): ICMP echo */
	struct xgw_svc_slot *bes;   /* (backend ip, port, proto) of every service */
	struct xgw_svc_slot *be_addrs; /* backend ip alone (fragments: no ports) */
	uint32_t bes_mask;
	struct xgw_policy *policy;  /* NULL: no rules, default applies */
	bool policy_default_allow;
	uint64_t **hits;            /* [worker][rule]: policy hit counters */
	/* Owner of policy and hits (above, its aliases for the workers),
	 * shared by consecutive snapshots while the rules stay the same. */
	struct xgw_policy_set *pset;
	unsigned n_workers;
	uint32_t hash_seed;
	struct xgw_tun_table *tun; /* NULL: no tunnel backend */
	/* Control thread only.  The tables above (tabs: owned when own_tabs,
	 * else the builder's); and, for a snapshot made by
	 * xgw_snapshot_update, what changed since `base` (the snapshot it
	 * was made from): records of base that it no longer holds (gone) and
	 * its records that base did not hold (added), each with a reference. */
	struct xgw_svc_tabs *tabs;
	bool own_tabs;
	/* The config's kernel-datapath services (their indexes in cfg's
	 * services, in order) and its tunnel backends, counted by the pass
	 * that built it: the kernel datapath's sync and the tunnel table
	 * need no pass of their own. */
	unsigned *kernel_idx;
	unsigned n_kernel, n_tun;
	unsigned n_be; /* the config's backends, all services */
	/* The services array of the config it was made from (an address,
	 * compared with the caller's prev, never read). */
	const void *src;
	unsigned src_n;
	const struct xgw_snapshot *base;
	struct xgw_svc_rt **gone, **added;
	unsigned n_gone, n_added;
	/* A snapshot holds a reference to each of its records, except:
	 * borrowed, made with the changes named (cfg->delta): it holds none
	 * (its base holds those they share, its added list its own) until
	 * it is published, when it takes over its base's and the base is
	 * left holding those it let go alone (partial: release, the
	 * base_release list it was made with). */
	bool borrowed, partial;
	struct xgw_svc_rt **release, **base_release;
	unsigned n_release;
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

/* The data plane's builder: the two copies of the service index (see the
 * top of this file) and the change last published. */
struct xgw_snap_builder;
struct xgw_snap_builder *xgw_snap_builder_new(void);
/* After every snapshot it made is freed. */
void xgw_snap_builder_free(struct xgw_snap_builder *b);
/* As xgw_snapshot_rebuild from `old` (the published snapshot, or NULL),
 * in O(changed services) but for one pass over cfg's services that finds
 * them: unchanged services share old's records, and the index is b's
 * spare copy updated in place (rebuilt whole when it must grow or shrink,
 * or was left inconsistent by a snapshot never published).  The result is
 * the same as xgw_snapshot_build's (test_snapshot.c checks it).
 * prev, when not NULL, is a config that is alive and unchanged since it
 * was made, and may be the one old was made from (old remembers the
 * address of its services array): then a service whose backends array is
 * prev's (the same address: a copy-on-write copy of prev, ctl/proto.c) and
 * whose other fields are prev's keeps its record without a comparison
 * (neither the record's backends nor the config's are read).  Then
 * either xgw_snapshot_published(b, s) once it is published (before the
 * next update), or xgw_snapshot_free(s). */
struct xgw_snapshot *xgw_snapshot_update(struct xgw_snap_builder *b, const struct xgw_config *cfg,
					 const struct xgw_config *prev, unsigned n_workers,
					 uint32_t hash_seed, const struct xgw_snapshot *old,
					 char *err, size_t errlen);
/* How many times b built an index whole (tests). */
unsigned xgw_snap_builder_fills(const struct xgw_snap_builder *b);
/* s, made by xgw_snapshot_update(b, ...), replaced the published one;
 * the previous snapshot is to be freed after a grace period, before the
 * next xgw_snapshot_update. */
void xgw_snapshot_published(struct xgw_snap_builder *b, struct xgw_snapshot *s);

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

	return e ? e->svc : NULL;
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
