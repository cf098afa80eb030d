/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-service and per-backend counters.
 *
 * Workers count into their own arrays, indexed by a counter slot ("ctr")
 * that the control thread gives each service and each (service, backend)
 * and keeps across snapshots: a connection records its backend's slot
 * when it is created (struct xgw_ct_conn.slot, line 0, read anyway), so
 * its packets are counted with one indexed add, no lookup, no atomic
 * (common/stat.h's load + store), whatever the configuration does since.
 * The control thread sums the workers' arrays on read (stats.c).
 *
 * Slot 0 is "none": counted into, never reported (offline runs with no
 * slots assigned, connections created before slots existed).  A key that
 * leaves the configuration keeps its slot (its live connections still
 * count there, and it gets the same slot if it comes back); a retired
 * slot is reused only when every slot has been handed out, and only once
 * its connections have all ended, from a baseline of its counts then. */
#ifndef XGW_SVC_STATS_H
#define XGW_SVC_STATS_H

#include <jansson.h>
#include <stdint.h>

#include "common/drop.h"
#include "common/stat.h"
#include "common/svc_ctr.h"
#include "lb/conntrack.h"

#define XGW_SVC_SLOTS 16384	   /* services, slot 0 unused (10,000+ services: issue 12) */
#define XGW_BE_SLOTS  XGW_CT_SLOTS /* (service, backend) pairs, slot 0 unused */

/* One backend's counters, a cache line.  dir 0: client to backend (the
 * conntrack's orig direction), 1: backend to client. */
struct xgw_be_ctr {
	struct {
		uint64_t pkts, bytes; /* side by side: one address for both adds */
	} d[2];
	uint64_t conns; /* connections this worker opened */
	uint64_t drops; /* packets of its connections the service stage dropped */
	uint64_t pad[2];
};

/* A service's: why new connections to it were refused. */
struct xgw_svc_ctr {
	uint64_t drops[XGW_DROP__MAX];
};

/* A worker's arrays (allocated with the worker; pages are touched only as
 * slots are used). */
struct xgw_svc_worker {
	struct xgw_be_ctr *be;	 /* [XGW_BE_SLOTS] */
	struct xgw_svc_ctr *svc; /* [XGW_SVC_SLOTS] */
};

int xgw_svc_worker_init(struct xgw_svc_worker *s);
void xgw_svc_worker_free(struct xgw_svc_worker *s);

/* One packet of a tracked connection (slot from the record). */
static inline void xgw_svc_count(struct xgw_svc_worker *s, uint32_t slot, unsigned dir,
				 uint32_t bytes)
{
	struct xgw_be_ctr *b = &s->be[slot];

	xgw_stat_add64(&b->d[dir].pkts, 1);
	xgw_stat_add64(&b->d[dir].bytes, bytes);
}

struct xgw_dataplane;
struct xgw_snapshot;

/* Gives every service and backend of snap its counter slot (svc->ctr,
 * be->ctr), allocating for new keys.  Control thread, before snap is
 * published.  Fails (-ENOSPC, err set) when the slots are exhausted and no
 * retired slot is free. */
int xgw_svc_slots_assign(struct xgw_dataplane *dp, struct xgw_snapshot *snap, char *err,
			 size_t errlen);
void xgw_svc_slots_free(struct xgw_dataplane *dp);

/* The services of the published snapshot with their counters and their
 * backends': a JSON array (stats.c's "services").  The caller is a
 * registered RCU thread, offline. */
json_t *xgw_svc_stats_json(struct xgw_dataplane *dp);
/* The same for a snapshot the caller holds (an online thread). */
json_t *xgw_svc_stats_snap_json(const struct xgw_dataplane *dp, const struct xgw_snapshot *snap);

struct xgw_service_cfg;
/* The counters of the configured services svcs[0..n) as numbers, joined
 * with the published snapshot by key (out[i] zeroed by the caller, its be
 * and be_found sized to svcs[i].n_backends): the control socket's service.list.  The
 * caller is a registered RCU thread, offline. */
void xgw_svc_counters(struct xgw_dataplane *dp, const struct xgw_service_cfg *svcs, unsigned n,
		      struct xgw_ctl_svc_ctr *out);

#endif
