/* SPDX-License-Identifier: BSD-3-Clause */
/* The in-kernel datapath's control side: xgwd keeps the XDP program's maps
 * (steer-bpf/kdp_maps.h) equal to the config's "datapath": "kernel"
 * services, their Maglev tables (the snapshot's own: the same tables and
 * seed as the workers, pushed slot by slot where they changed), policy and
 * conntrack timeouts; and reads back the counters and connections for
 * `xgwctl stats` and `xgwctl ct list`. */
#ifndef XGW_KDP_H
#define XGW_KDP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

struct bpf_object;
struct xgw_kdp;
struct xgw_snapshot;
struct xgw_ct_table;

/* What the kernel datapath cannot serve yet, refused with a clear error
 * (0 or -EINVAL with err filled): backends of another family than the VIP, more
 * than XGW_KDP_MAX_TUN tunnel backends, algorithms other than Maglev, a Maglev size above 65537,
 * more than XGW_KDP_MAX_SVCS kernel services or XGW_KDP_MAX_BE - 1
 * backends in one, more than XGW_KDP_MAX_POLICIES policies. */
int xgw_kdp_check(const struct xgw_config *cfg, char *err, size_t errlen);
/* The same for the kernel services whose indexes in cfg->services are
 * idx[0..n) (in order): a snapshot's kernel_idx. */
int xgw_kdp_check_some(const struct xgw_config *cfg, const unsigned *idx, unsigned n, char *err,
		       size_t errlen);

/* Maps of a loaded steering object (any port's: they share them); the
 * ports' ifindexes go in the devmap for two-arm redirects. */
struct xgw_kdp *xgw_kdp_open(struct bpf_object *obj, const int *ifindex, unsigned n_ports,
			     int *err);
void xgw_kdp_close(struct xgw_kdp *k);

/* Make the maps serve cfg's kernel services as snap describes them (snap
 * holds every service, kernel ones included, and lists the kernel ones:
 * snap->kernel_idx, made from cfg).  ct gives the timeouts. */
int xgw_kdp_sync(struct xgw_kdp *k, const struct xgw_config *cfg, const struct xgw_snapshot *snap,
		 const struct xgw_ct_table *ct, char *err, size_t errlen);

/* Counters: drop reasons added into drops[XGW_DROP__MAX]; the rest as
 * an object (counters and the kernel's own drops). */
json_t *xgw_kdp_stats_json(struct xgw_kdp *k, uint64_t *drops);
/* Add the kernel's policy hits to sum[0..n_rules] (rules in config order,
 * then the default), as xgw_policy_hits_sum lays them out. */
void xgw_kdp_policy_hits_add(struct xgw_kdp *k, uint64_t *sum, unsigned n_rules);
/* Append the kernel's live connections to arr (as the workers' ct list
 * rows, with "datapath": "kernel"), at most limit in all (0 = no limit). */
void xgw_kdp_ct_json(struct xgw_kdp *k, const struct xgw_ct_table *ct, json_t *arr, unsigned limit);
/* Per-service and per-backend counters of the kernel datapath, by the
 * counter slots of pipeline/svc_stats.h (the XDP program counts into
 * per-CPU arrays indexed by them).  A backend slot's totals over the
 * CPUs; active: its connections in the kernel conntrack that have not
 * timed out, as of the last xgw_kdp_ct_count.  False (o zeroed) for a
 * slot no kernel service ever had. */
struct xgw_kdp_counts {
	uint64_t pkts[2], bytes[2]; /* 0: client to backend, 1: back */
	uint64_t conns, active;
};
bool xgw_kdp_be_counts(struct xgw_kdp *k, uint32_t slot, struct xgw_kdp_counts *o);
/* Add the service slot's refusals to drops[XGW_DROP__MAX]. */
void xgw_kdp_svc_drops_add(struct xgw_kdp *k, uint32_t slot, uint64_t *drops);
/* Count the live connections by backend slot: one walk of the conntrack
 * map (the LRU evicts silently, so opened minus closed cannot be known;
 * ~45 ms for 130k entries).  Not again if the last count is younger than
 * max_age_ms: readers close together share it. */
void xgw_kdp_ct_count(struct xgw_kdp *k, const struct xgw_ct_table *ct, unsigned max_age_ms);

/* Trace and capture of the kernel datapath (pipeline/tap.h): while on,
 * the program emits a struct xgw_kdp_trace (steer-bpf/kdp_maps.h) for
 * every packet it handles, into a ringbuf read by xgw_kdp_trace_poll,
 * which calls fn for each record (NULL: discard them); how many, or
 * -errno.  Control thread only. */
struct xgw_kdp_trace;
typedef void (*xgw_kdp_trace_fn)(void *ctx, const struct xgw_kdp_trace *r);
int xgw_kdp_trace_set(struct xgw_kdp *k, bool on);
int xgw_kdp_trace_poll(struct xgw_kdp *k, xgw_kdp_trace_fn fn, void *ctx);

/* The XDP program's clock, bpf_jiffies64 (its entries' last_seen, the
 * times in kdp_cfg): the kernel's jiffies now (0 if they cannot be read)
 * and its HZ, measured once against CLOCK_MONOTONIC and snapped to a
 * CONFIG_HZ value (100, 250, 300, 1000; 0 if it could not be measured:
 * xgw_kdp_open then fails).  Any thread; the first call takes ~25 ms.
 * ns to jiffies rounded up, at that HZ. */
unsigned xgw_kdp_hz(void);
uint64_t xgw_kdp_jiffies(void);
uint64_t xgw_kdp_ns_to_jiffies(uint64_t ns);

/* Remove every kernel connection; returns how many. */
int xgw_kdp_ct_flush(struct xgw_kdp *k);

/* Remove the kernel connections of one (service, backend) (on_down
 * "reset"): both entries of each.  Returns how many had not timed out by
 * ct's timeouts, or -errno. */
struct xgw_ct_backend_sel;
int xgw_kdp_ct_flush_backend(struct xgw_kdp *k, const struct xgw_ct_table *ct,
			     const struct xgw_ct_backend_sel *s);

#endif
