/* SPDX-License-Identifier: BSD-3-Clause */
/* Counters are written by their worker only and summed here on read, with
 * relaxed atomic loads matching the workers' relaxed stores (common/stat.h):
 * no lock, no read-modify-write, and a count one burst stale is fine. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>
#include <urcu-qsbr.h>

#include "common/drop.h"
#include "common/stat.h"
#include "common/tsan.h"
#include "pipeline/dataplane.h"
#include "lb/conntrack.h"
#include "lb/policy.h"
#include "pipeline/snapshot.h"
#include "pipeline/svc_stats.h"
#include "pipeline/kdp.h"
#include "pipeline/port_watch.h"
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
		uint64_t wd[XGW_DROP__MAX], rx = 0, tx = 0, wake = 0, starved = 0;

		for (unsigned k = 0; k < w->n_xsks; k++) {
			rx += RD(w->xsks[k]->st.rx_packets);
			tx += RD(w->xsks[k]->st.tx_packets);
			wake += RD(w->xsks[k]->st.tx_wakeups) + RD(w->xsks[k]->st.fill_wakeups);
			starved += RD(w->xsks[k]->st.fill_starved);
		}
		for (unsigned r = 0; r < XGW_DROP__MAX; r++)
			wd[r] = RD(w->st.drops[r]);
		json_t *wj = json_pack("{s:i,s:i,s:I,s:I,s:I,s:I,s:o}", "id", w->id, "core",
				       w->core, "rx_packets", (json_int_t)rx, "tx_packets",
				       (json_int_t)tx, "wakeups", (json_int_t)wake, "fill_starved",
				       (json_int_t)starved, "drops", drops_json(wd));
#define _(name, scope, help)                                                                       \
	json_object_set_new(wj, #name, json_integer((json_int_t)RD(w->st.name)));
		XGW_FOREACH_WORKER_COUNTER(_)
#undef _
		/* Frame accounting: free + in fill/RX + on TX, equal to
		 * umem_frames unless a frame leaked (racy while traffic flows;
		 * exact when idle).  One reading of each counter, so that the
		 * three parts add up to the total shown. */
		json_int_t in_free = XGW_STAT_READ(w->umem.n_free), in_fill = 0, in_tx = 0;
		for (unsigned k = 0; k < w->n_xsks; k++) {
			in_fill += XGW_STAT_READ(w->xsks[k]->fill_outstanding);
			in_tx += XGW_STAT_READ(w->xsks[k]->tx_outstanding);
		}
		json_object_set_new(wj, "umem_frames", json_integer(w->umem.n_frames));
		json_object_set_new(wj, "frames_free", json_integer(in_free));
		json_object_set_new(wj, "frames_fill", json_integer(in_fill));
		json_object_set_new(wj, "frames_tx", json_integer(in_tx));
		json_object_set_new(wj, "frames_accounted", json_integer(in_free + in_fill + in_tx));
		json_array_append_new(workers, wj);
	}
	for (unsigned p = 0; p < dp->n_ports; p++) {
		json_t *queues = json_array();
		uint64_t sc[XGW_STEER_CNT__MAX] = {0};

		for (unsigned i = 0; i < dp->n_workers; i++) {
			struct xgw_worker *w = dp->workers[i];
			for (unsigned k = 0; k < w->n_xsks; k++) {
				struct xgw_xsk *x = w->xsks[k];
				if (x->port_id != p)
					continue;
				json_t *qj = json_pack("{s:i,s:i,s:I,s:I,s:I,s:I,s:I,s:I}", "queue",
						  x->queue, "core", w->core, "rx_packets",
						  (json_int_t)RD(x->st.rx_packets), "rx_bytes",
						  (json_int_t)RD(x->st.rx_bytes), "tx_packets",
						  (json_int_t)RD(x->st.tx_packets), "tx_bytes",
						  (json_int_t)RD(x->st.tx_bytes), "tx_wakeups",
						  (json_int_t)RD(x->st.tx_wakeups), "tx_ring_full",
						  (json_int_t)RD(x->st.tx_ring_full));
				struct xdp_statistics xs;
				socklen_t xl = sizeof(xs);

				/* The kernel's own drops on this socket: RX ring
				 * full (the worker fell behind), fill ring empty. */
				if (!getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, &xs, &xl)) {
					json_object_set_new(qj, "kernel_rx_dropped",
							    json_integer((json_int_t)xs.rx_dropped));
					json_object_set_new(qj, "kernel_rx_ring_full",
							    json_integer((json_int_t)xs.rx_ring_full));
					json_object_set_new(
						qj, "kernel_fill_ring_empty",
						json_integer((json_int_t)xs.rx_fill_ring_empty_descs));
					json_object_set_new(qj, "kernel_tx_invalid",
							    json_integer((json_int_t)xs.tx_invalid_descs));
				}
				json_array_append_new(queues, qj);
			}
		}
		xgw_steer_counters(dp->ports[p].steer, sc);
		json_array_append_new(
		    ports, json_pack("{s:s,s:s,s:o,s:o,s:{s:I,s:I,s:I,s:I}}", "name",
				     dp->ports[p].name, "iface", dp->ports[p].iface, "queues",
				     queues, "health", xgw_port_health_json(&dp->ports[p]), "xdp",
				     "steered", (json_int_t)sc[XGW_STEER_CNT_STEERED], "passed",
				     (json_int_t)sc[XGW_STEER_CNT_PASSED], "no_socket",
				     (json_int_t)sc[XGW_STEER_CNT_NOSOCK], "malformed",
				     (json_int_t)sc[XGW_STEER_CNT_MALFORMED]));
	}
	if (dp->ct) {
		struct xgw_ct_stats cs;

		xgw_ct_get_stats(dp->ct, &cs);
		json_object_set_new(
		    root, "conntrack",
		    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "live", (json_int_t)cs.live,
			      "max", (json_int_t)cs.max, "created", (json_int_t)cs.created, "full",
			      (json_int_t)cs.full, "evicted", (json_int_t)cs.evicted,
			      "evicted_embryonic", (json_int_t)cs.evicted_embryonic, "expired",
			      (json_int_t)cs.expired, "races_lost", (json_int_t)cs.races_lost));
	}
	json_object_set_new(root, "policy", policy_json(dp));
	json_object_set_new(root, "services", xgw_svc_stats_json(dp));
	sum_drops(dp, drops);
	/* The kernel datapath's counters; its drops count in "drops" too. */
	json_t *kj = xgw_kdp_stats_json(dp->kdp, drops);
	if (kj)
		json_object_set_new(root, "kernel", kj);
	json_object_set_new(root, "workers", workers);
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
			for (unsigned k = 0; k < w->n_xsks; k++) {
				struct xgw_xsk *x = w->xsks[k];
				if (x->port_id != p)
					continue;
				json_array_append_new(
					queues, json_pack("{s:i,s:i,s:s,s:b,s:b,s:i}", "queue",
							  x->queue, "core", w->core, "mode",
							  x->zerocopy ? "zerocopy" : "copy",
							  "need_wakeup", 1, "busy_poll",
							  x->busy_poll, "umem_frames",
							  (int)w->umem.n_frames));
			}
		}
		json_array_append_new(
		    arr, json_pack("{s:s,s:s,s:i,s:s,s:i,s:s,s:o,s:o}", "name", dp->ports[p].name,
				   "iface", dp->ports[p].iface, "ifindex", dp->ports[p].ifindex,
				   "mac", mac, "mtu", (int)xgw_port_mtu(&dp->ports[p]), "xdp_mode",
				   xgw_steer_mode(dp->ports[p].steer), "health",
				   xgw_port_health_json(&dp->ports[p]), "queues", queues));
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
