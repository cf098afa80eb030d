/* SPDX-License-Identifier: BSD-3-Clause */
/* Counters are written by their worker only and summed here on read, with
 * relaxed atomic loads matching the workers' relaxed stores (common/stat.h):
 * no lock, no read-modify-write, and a count one burst stale is fine. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "common/drop.h"
#include "common/stat.h"
#include "common/tsan.h"
#include "pipeline/dataplane.h"
#include "common/cycles.h"
#include "lb/conntrack.h"
#include "lb/policy.h"
#include "pipeline/snapshot.h"
#include "pipeline/svc_stats.h"
#include "pipeline/kdp.h"
#include "pipeline/port_watch.h"
#include "port/port_dpdk.h"
#include "steer-bpf/steer.h"

#define RD(x) XGW_STAT_READ(x)

static void sum_drops(struct xgw_dataplane *dp, uint64_t *drops)
{
	memset(drops, 0, sizeof(uint64_t) * XGW_DROP__MAX);
	for (unsigned i = 0; i < dp->n_workers; i++)
		for (unsigned r = 0; r < XGW_DROP__MAX; r++)
			drops[r] += RD(dp->workers[i]->st.drops[r]);
}

static json_t *drops_json(const uint64_t *drops)
{
	json_t *o = json_object();

	for (unsigned r = 1; r < XGW_DROP__MAX; r++)
		if (drops[r])
			json_object_set_new(o, xgw_drop_name(r), json_integer((json_int_t)drops[r]));
	return o;
}

/* Per-rule hits summed over workers.  The snapshot may be replaced by the
 * control thread: read it online (the caller is a registered RCU thread).
 * Counters start from zero when the rule set changes. */
static json_t *policy_json(struct xgw_dataplane *dp)
{
	json_t *o = json_object(), *rules = json_array();
	const struct xgw_snapshot *snap;

	rcu_thread_online();
	snap = __atomic_load_n(&dp->snap, __ATOMIC_ACQUIRE); /* see worker.c */
	if (snap && snap->policy) {
		unsigned n = xgw_policy_hits_len(snap->policy);
		uint64_t *sum = calloc(n, sizeof(*sum));

		if (sum) {
			xgw_policy_hits_sum(snap->policy, snap->hits, snap->n_workers, sum);
			xgw_kdp_policy_hits_add(dp->kdp, sum, n - 1);
			for (unsigned i = 0; i + 1 < n; i++)
				json_array_append_new(
					rules, json_pack("{s:I,s:I}", "id",
							 (json_int_t)xgw_policy_rule_id(snap->policy, i),
							 "hits", (json_int_t)sum[i]));
			json_object_set_new(o, "default_hits", json_integer((json_int_t)sum[n - 1]));
			free(sum);
		}
	}
	if (snap)
		json_object_set_new(o, "default", json_string(snap->policy_default_allow ? "allow"
											  : "deny"));
	XGW_TSAN_RCU_QS();
	rcu_thread_offline();
	json_object_set_new(o, "rules", rules);
	return o;
}

json_t *xgw_dp_stats_json(struct xgw_dataplane *dp)
{
	json_t *root = json_object(), *workers = json_array(), *ports = json_array();
	uint64_t drops[XGW_DROP__MAX];

	for (unsigned i = 0; i < dp->n_workers; i++) {
		struct xgw_worker *w = dp->workers[i];
		uint64_t wd[XGW_DROP__MAX];
		struct xgw_portq_counters sum = {0};

		/* Frame accounting: free + held by the queues (fill/RX, TX),
		 * equal to umem_frames unless a frame leaked (racy while
		 * traffic flows; exact when idle).  One reading of each
		 * counter, so that the parts add up to the total shown. */
		json_int_t in_free = XGW_STAT_READ(w->umem.n_free);
		for (unsigned k = 0; k < w->n_qs; k++) {
			struct xgw_portq_counters c;

			w->qs[k]->ops->counters(w->qs[k], &c);
			sum.rx_packets += c.rx_packets;
			sum.tx_packets += c.tx_packets;
			sum.wakeups += c.wakeups;
			sum.starved += c.starved;
			sum.frames_rx += c.frames_rx;
			sum.frames_tx += c.frames_tx;
		}
		for (unsigned r = 0; r < XGW_DROP__MAX; r++)
			wd[r] = RD(w->st.drops[r]);
		json_t *wj =
		    json_pack("{s:i,s:i,s:I,s:I,s:I,s:I,s:o}", "id", w->id, "core", w->core,
			      "rx_packets", (json_int_t)sum.rx_packets, "tx_packets",
			      (json_int_t)sum.tx_packets, "wakeups", (json_int_t)sum.wakeups,
			      "fill_starved", (json_int_t)sum.starved, "drops", drops_json(wd));
#define _(name, scope, help)                                                                       \
	json_object_set_new(wj, #name, json_integer((json_int_t)RD(w->st.name)));
		XGW_FOREACH_WORKER_COUNTER(_)
#undef _
		json_int_t in_fill = (json_int_t)sum.frames_rx, in_tx = (json_int_t)sum.frames_tx;
		json_object_set_new(wj, "umem_frames", json_integer(w->umem.n_frames));
		json_object_set_new(wj, "frames_free", json_integer(in_free));
		json_object_set_new(wj, "frames_fill", json_integer(in_fill));
		json_object_set_new(wj, "frames_tx", json_integer(in_tx));
		json_object_set_new(wj, "frames_accounted", json_integer(in_free + in_fill + in_tx));
		json_array_append_new(workers, wj);
	}
	for (unsigned p = 0; p < dp->n_ports; p++) {
		const struct xgw_port *pt = &dp->ports[p];
		json_t *queues = json_array(), *pj;

		for (unsigned i = 0; i < dp->n_workers; i++) {
			struct xgw_worker *w = dp->workers[i];
			for (unsigned k = 0; k < w->n_qs; k++) {
				struct xgw_portq *q = w->qs[k];
				if (q->port_id != p)
					continue;
				json_t *qj =
				    json_pack("{s:i,s:i}", "queue", q->queue, "core", w->core);
				q->ops->queue_json(q, qj, true);
				json_array_append_new(queues, qj);
			}
		}
		pj = json_pack("{s:s,s:s,s:s,s:o}", "name", pt->name, "iface", pt->iface, "driver",
			       pt->driver ? pt->driver : "?", "queues", queues);
		if (pt->steer) {
			uint64_t sc[XGW_STEER_CNT__MAX] = {0};

			xgw_steer_counters(pt->steer, sc);
			json_object_set_new(
			    pj, "xdp",
			    json_pack("{s:I,s:I,s:I,s:I}", "steered",
				      (json_int_t)sc[XGW_STEER_CNT_STEERED], "passed",
				      (json_int_t)sc[XGW_STEER_CNT_PASSED], "no_socket",
				      (json_int_t)sc[XGW_STEER_CNT_NOSOCK], "malformed",
				      (json_int_t)sc[XGW_STEER_CNT_MALFORMED]));
		}
		if (pt->steer)
			json_object_set_new(pj, "health", xgw_port_health_json(pt));
		/* The PMD's own counters: rte_eth_stats and xstats. */
		if (pt->dpdk)
			json_object_set_new(pj, "dpdk", xgw_dpdk_port_json(pt->dpdk));
		json_array_append_new(ports, pj);
	}
	if (dp->ct) {
		struct xgw_ct_stats cs;

		xgw_ct_get_stats(dp->ct, &cs);
		json_object_set_new(
		    root, "conntrack",
		    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "live", (json_int_t)cs.live,
			      "max", (json_int_t)cs.max, "created", (json_int_t)cs.created, "full",
			      (json_int_t)cs.full, "evicted", (json_int_t)cs.evicted,
			      "evicted_embryonic", (json_int_t)cs.evicted_embryonic, "expired",
			      (json_int_t)cs.expired, "races_lost", (json_int_t)cs.races_lost,
			      "reused", (json_int_t)cs.reused));
	}
	json_object_set_new(root, "policy", policy_json(dp));
	json_object_set_new(root, "services", xgw_svc_stats_json(dp));
	sum_drops(dp, drops);
	/* The kernel datapath's counters; its drops count in "drops" too. */
	json_t *kj = xgw_kdp_stats_json(dp->kdp, drops);
	if (kj)
		json_object_set_new(root, "kernel", kj);
	json_object_set_new(root, "workers", workers);
	/* busy_cycles per second of the wall clock (xgwctl workers). */
	json_object_set_new(root, "tsc_hz", json_integer((json_int_t)xgw_cycles_hz()));
	json_object_set_new(root, "ports", ports);
	json_object_set_new(root, "drops", drops_json(drops));
	return root;
}

json_t *xgw_dp_ports_json(struct xgw_dataplane *dp)
{
	json_t *arr = json_array();

	for (unsigned p = 0; p < dp->n_ports; p++) {
		json_t *queues = json_array();
		char mac[18];
		const uint8_t *m = dp->ports[p].mac;

		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
			 m[4], m[5]);
		for (unsigned i = 0; i < dp->n_workers; i++) {
			struct xgw_worker *w = dp->workers[i];
			for (unsigned k = 0; k < w->n_qs; k++) {
				struct xgw_portq *q = w->qs[k];
				json_t *qj;

				if (q->port_id != p)
					continue;
				qj = json_pack("{s:i,s:i,s:i}", "queue", q->queue, "core", w->core,
					       "umem_frames", (int)w->umem.n_frames);
				q->ops->queue_json(q, qj, false);
				json_array_append_new(queues, qj);
			}
		}
		json_t *pj = json_pack("{s:s,s:s,s:s,s:i,s:s,s:i,s:o}", "name", dp->ports[p].name,
				       "iface", dp->ports[p].iface, "driver",
				       dp->ports[p].driver ? dp->ports[p].driver : "?", "ifindex",
				       dp->ports[p].ifindex, "mac", mac, "mtu",
				       (int)xgw_port_mtu(&dp->ports[p]), "queues", queues);
		json_object_set_new(
		    pj, "xdp_mode",
		    json_string(dp->ports[p].steer ? xgw_steer_mode(dp->ports[p].steer) : "none"));
		if (dp->ports[p].steer)
			json_object_set_new(pj, "health", xgw_port_health_json(&dp->ports[p]));
		if (dp->ports[p].dpdk)
			json_object_set_new(pj, "dpdk", xgw_dpdk_port_json(dp->ports[p].dpdk));
		json_array_append_new(arr, pj);
	}
	return arr;
}

void xgw_dp_print_stats(struct xgw_dataplane *dp, FILE *f)
{
	json_t *s = xgw_dp_stats_json(dp);

	json_dumpf(s, f, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', f);
	fflush(f);
	json_decref(s);
}
