/* SPDX-License-Identifier: BSD-3-Clause */
#define XGW_LOG_COMP "dataplane"
#include "pipeline/dataplane.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <urcu-qsbr.h>

#include "common/log.h"
#include "common/stat.h"
#include "common/tsan.h"
#include "lb/conntrack.h"
#include "pipeline/kdp.h"
#include "pipeline/netlink.h"
#include "pipeline/snapshot.h"
#include "pipeline/steer_rules.h"
#include "pipeline/tap.h"
#include "port/port_dpdk.h"
#include "port/port_xsk.h"
#include "steer-bpf/steer.h"
#include "tunnel/table.h"

static struct xgw_worker *worker_for_core(struct xgw_dataplane *dp, int core)
{
	struct xgw_worker *w;

	for (unsigned i = 0; i < dp->n_workers; i++)
		if (dp->workers[i]->core == core)
			return dp->workers[i];
	if (dp->n_workers == XGW_MAX_WORKERS)
		return NULL;
	if (posix_memalign((void **)&w, 64, sizeof(*w)))
		return NULL;
	memset(w, 0, sizeof(*w));
	if (xgw_svc_worker_init(&w->svc)) {
		free(w);
		return NULL;
	}
	w->dp = dp;
	w->core = core;
	w->id = (int)dp->n_workers;
	dp->workers[dp->n_workers++] = w;
	return w;
}

/* One queue of a port for worker w, by the port's backend. */
static int open_queue(struct xgw_dataplane *dp, struct xgw_worker *w, const struct xgw_config *cfg,
		      unsigned port, uint16_t queue, unsigned n_on_w, char *err, size_t errlen)
{
	const struct xgw_port_cfg *pc = &cfg->ports[port];
	struct xgw_port *pt = &dp->ports[port];
	struct xgw_portq *q = NULL;
	int rc;

	if (pt->dpdk) {
		rc = xgw_dpdk_queue_open(&q, pt->dpdk, &w->umem, queue, (uint16_t)port);
		if (rc) {
			snprintf(err, errlen, "port %s queue %u: %s", pc->name, queue,
				 strerror(-rc));
			return rc;
		}
		w->dpdk = true;
	} else {
		struct xgw_xsk_opts o = {
		    .zerocopy = pc->zerocopy == XGW_ZC_ON    ? XGW_ZC_WANT_ON
				: pc->zerocopy == XGW_ZC_OFF ? XGW_ZC_WANT_OFF
							     : XGW_ZC_WANT_AUTO,
		    .busy_poll = pc->busy_poll,
		    .busy_poll_budget = pc->busy_poll_budget,
		    /* Half the UMEM may sit in fill/RX rings, shared fairly. */
		    .fill_target = cfg->umem.frames / 2 / n_on_w,
		    /* And as much again on TX: all sockets stuck on TX
		     * still leave the fill rings theirs. */
		    .tx_cap = cfg->umem.frames / 2 / n_on_w,
		};

		if (o.fill_target > XGW_RING_SIZE)
			o.fill_target = XGW_RING_SIZE;
		rc = xgw_port_xsk_open(&q, &w->umem, pc->iface, queue, (uint16_t)port, &o);
		if (rc) {
			snprintf(err, errlen, "port %s (%s) queue %u: %s%s", pc->name, pc->iface,
				 queue,
				 rc == -EOPNOTSUPP && pc->zerocopy == XGW_ZC_ON
				     ? "zero-copy not supported by the driver: "
				     : "cannot bind AF_XDP socket: ",
				 strerror(-rc));
			return rc;
		}
	}
	w->qs[w->n_qs++] = q;
	if (!w->tx_for_port[port])
		w->tx_for_port[port] = q;
	if (!pt->steer)
		return 0;
	rc = xgw_steer_bind_xsk(pt->steer, queue, xgw_port_xsk(q)->fd);
	if (rc)
		snprintf(err, errlen, "port %s queue %u: cannot insert socket in XSKMAP: %s",
			 pc->name, queue, strerror(-rc));
	return rc;
}

static int open_worker_queues(struct xgw_dataplane *dp, struct xgw_worker *w,
			      const struct xgw_config *cfg, char *err, size_t errlen)
{
	unsigned n = 0;
	int rc, node = -1;

	/* Which (port, queue)s does this core serve? */
	struct {
		unsigned port;
		uint16_t queue;
	} list[XGW_MAX_QUEUES_PER_WORKER];
	for (unsigned p = 0; p < cfg->n_ports; p++)
		for (unsigned q = 0; q < cfg->ports[p].n_queues; q++) {
			if (cfg->ports[p].queues[q].core != w->core)
				continue;
			if (n == XGW_MAX_QUEUES_PER_WORKER) {
				snprintf(err, errlen, "core %d: more than %d queues", w->core,
					 XGW_MAX_QUEUES_PER_WORKER);
				return -E2BIG;
			}
			list[n].port = p;
			list[n].queue = cfg->ports[p].queues[q].queue;
			n++;
			if (node < 0)
				node = dp->ports[p].numa_node;
		}
	/* Forwarding hands frames between queues of one frame area, so a
	 * worker must own a queue of every port it may transmit on. */
	for (unsigned p = 0; p < cfg->n_ports; p++) {
		bool found = false;
		for (unsigned i = 0; i < n; i++)
			found |= list[i].port == p;
		if (!found) {
			snprintf(err, errlen,
				 "core %d serves no queue of port \"%s\": every core named in "
				 "\"queues\" must serve a queue of each port, so that it can "
				 "transmit there without a copy",
				 w->core, cfg->ports[p].name);
			return -EINVAL;
		}
	}
	rc = xgw_umem_create(&w->umem, cfg->umem.frames, cfg->umem.frame_size,
			     cfg->umem.hugepages, node, &w->first_fq, &w->first_cq);
	if (rc) {
		snprintf(err, errlen, "core %d: cannot create UMEM of %u x %u bytes: %s", w->core,
			 cfg->umem.frames, cfg->umem.frame_size, strerror(-rc));
		return rc;
	}
	for (unsigned i = 0; i < n; i++) {
		rc = open_queue(dp, w, cfg, list[i].port, list[i].queue, n, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* The first port with a steering program: it owns the rule maps and the
 * kernel datapath's maps (DPDK ports have none). */
static struct xgw_steer *first_steer(const struct xgw_dataplane *dp)
{
	for (unsigned p = 0; p < dp->n_ports; p++)
		if (dp->ports[p].steer)
			return dp->ports[p].steer;
	return NULL;
}

static int kdp_open(struct xgw_dataplane *dp, char *err, size_t errlen)
{
	int ifindex[XGW_MAX_PORTS], rc = 0;
	struct xgw_steer *s = first_steer(dp);
	unsigned n = 0;

	if (!s)
		return 0;
	/* The XDP datapath redirects only between ports it runs on: a DPDK
	 * port's interface (if any) belongs to its PMD. */
	for (unsigned p = 0; p < dp->n_ports; p++)
		if (dp->ports[p].steer)
			ifindex[n++] = dp->ports[p].ifindex;
	dp->kdp = xgw_kdp_open(xgw_steer_obj(s), ifindex, n, &rc);
	if (!dp->kdp)
		snprintf(err, errlen, "kernel datapath maps: %s", strerror(-rc));
	return rc;
}

/* A port by its backend: the kernel's view of the interface and the
 * steering program (af_xdp), or an rte_ethdev port (dpdk). */
static int port_open(struct xgw_dataplane *dp, unsigned p, const struct xgw_config *cfg, char *err,
		     size_t errlen)
{
	struct xgw_port *port = &dp->ports[p];
	const struct xgw_port_cfg *pc = &cfg->ports[p];
	enum xgw_steer_attach mode = pc->xdp_mode == XGW_XDP_NATIVE ? XGW_ATTACH_NATIVE
				     : pc->xdp_mode == XGW_XDP_SKB  ? XGW_ATTACH_SKB
								    : XGW_ATTACH_AUTO;
	uint32_t mtu = 0;
	int rc;

	snprintf(port->name, sizeof(port->name), "%s", pc->name);
	snprintf(port->iface, sizeof(port->iface), "%s", pc->iface);
	port->n_queues = (uint16_t)pc->n_queues;
	if (pc->driver == XGW_DRV_DPDK) {
		port->driver = "dpdk";
		/* The kernel interface behind it, if named: its ifindex
		 * maps learnt routes and neighbours to this port. */
		if (pc->iface[0] && !(port->ifindex = (int)if_nametoindex(pc->iface))) {
			snprintf(err, errlen, "port %s: interface %s: %s", pc->name, pc->iface,
				 strerror(errno));
			return -ENODEV;
		}
		rc = xgw_dpdk_init(&cfg->dpdk, err, errlen);
		if (!rc)
			rc = xgw_dpdk_port_open(&port->dpdk, pc->name, pc->device,
						(uint16_t)pc->n_queues, cfg->dpdk.mbufs, port->mac,
						&mtu, &port->numa_node, err, errlen);
		port->mtu = mtu;
		return rc;
	}
	port->driver = "af_xdp";
	rc = xgw_port_xsk_info(pc->name, pc->iface, &port->ifindex, port->mac, &port->mtu,
			       &port->numa_node, err, errlen);
	if (rc)
		return rc;
	rc = xgw_steer_open(&port->steer, pc->iface, mode, first_steer(dp));
	if (rc)
		snprintf(err, errlen, "port %s: cannot attach XDP program to %s: %s", pc->name,
			 pc->iface, strerror(-rc));
	return rc;
}

/* DPDK ports start once every queue has its worker. */
static int ports_start(struct xgw_dataplane *dp, char *err, size_t errlen)
{
	for (unsigned p = 0; p < dp->n_ports; p++) {
		int rc =
		    dp->ports[p].dpdk ? xgw_dpdk_port_start(dp->ports[p].dpdk, err, errlen) : 0;
		if (rc)
			return rc;
	}
	return 0;
}

int xgw_dp_open(struct xgw_dataplane *dp, const struct xgw_config *cfg, char *err, size_t errlen)
{
	int rc;

	memset(dp, 0, sizeof(*dp));
	if (cfg->n_ports > XGW_MAX_PORTS) {
		snprintf(err, errlen, "ports: at most %d", XGW_MAX_PORTS);
		return -E2BIG;
	}
	for (unsigned p = 0; p < cfg->n_ports; p++) {
		dp->n_ports = p + 1;
		rc = port_open(dp, p, cfg, err, errlen);
		if (rc)
			goto fail;
	}
	rc = kdp_open(dp, err, errlen);
	if (rc)
		goto fail;
	for (unsigned p = 0; p < cfg->n_ports; p++)
		for (unsigned q = 0; q < cfg->ports[p].n_queues; q++)
			if (!worker_for_core(dp, cfg->ports[p].queues[q].core)) {
				rc = -ENOMEM;
				snprintf(err, errlen, "too many workers");
				goto fail;
			}
	for (unsigned i = 0; i < dp->n_workers; i++) {
		rc = open_worker_queues(dp, dp->workers[i], cfg, err, errlen);
		if (rc)
			goto fail;
	}
	rc = ports_start(dp, err, errlen);
	if (rc)
		goto fail;
	rc = xgw_dp_ct_open(dp, cfg, err, errlen);
	if (rc)
		goto fail;
	dp->hash_seed = cfg->hash_seed;
	rc = xgw_dp_apply_snapshot(dp, cfg, NULL, err, errlen);
	if (rc)
		goto fail;
	rc = xgw_dp_refresh_fwd(dp, cfg);
	if (rc) {
		snprintf(err, errlen, "cannot read routes over netlink: %s", strerror(-rc));
		goto fail;
	}
	rc = xgw_dp_apply_steer(dp, cfg, NULL);
	if (rc) {
		snprintf(err, errlen, "cannot load steering rules: %s", strerror(-rc));
		goto fail;
	}
	return 0;
fail:
	xgw_dp_close(dp);
	return rc;
}

int xgw_dp_start(struct xgw_dataplane *dp)
{
	for (unsigned i = 0; i < dp->n_workers; i++) {
		int rc = xgw_worker_start(dp->workers[i]);
		if (rc)
			return rc;
	}
	return 0;
}

void xgw_dp_close(struct xgw_dataplane *dp)
{
	atomic_store(&dp->stop, true);
	for (unsigned i = 0; i < dp->n_workers; i++)
		xgw_worker_join(dp->workers[i]);
	/* Unhook the sockets from the programs before closing either, then
	 * detach: steered traffic goes back to the kernel in that order. */
	for (unsigned i = 0; i < dp->n_workers; i++) {
		struct xgw_worker *w = dp->workers[i];
		for (unsigned k = 0; k < w->n_qs; k++) {
			struct xgw_portq *q = w->qs[k];
			struct xgw_steer *st = dp->ports[q->port_id].steer;

			if (st)
				xgw_steer_unbind_xsk(st, q->queue);
			q->ops->close(q);
		}
		xgw_umem_destroy(&w->umem);
		xgw_svc_worker_free(&w->svc);
		free(w);
	}
	dp->n_workers = 0;
	xgw_kdp_close(dp->kdp);
	dp->kdp = NULL;
	for (unsigned p = 0; p < dp->n_ports; p++) {
		/* Port 0 owns the shared rule maps: close it last. */
		unsigned idx = dp->n_ports - 1 - p;
		if (dp->ports[idx].steer)
			xgw_steer_close(dp->ports[idx].steer);
		dp->ports[idx].steer = NULL;
		xgw_dpdk_port_close(dp->ports[idx].dpdk);
		dp->ports[idx].dpdk = NULL;
	}
	dp->n_ports = 0;
	if (dp->fwd) {
		xgw_fwd_state_free(dp->fwd);
		dp->fwd = NULL;
	}
	xgw_fib_free(dp->fib);
	dp->fib = NULL;
	free(dp->statics);
	dp->statics = NULL;
	dp->n_static = 0;
	xgw_snapshot_free(dp->snap);
	dp->snap = NULL;
	xgw_snap_builder_free(dp->snap_builder);
	dp->snap_builder = NULL;
	xgw_steer_rules_free(dp->steer_rules);
	dp->steer_rules = NULL;
	xgw_svc_slots_free(dp);
	xgw_tap_free(dp);
	if (dp->ct) {
		rcu_thread_online();
		xgw_ct_free(dp->ct);
		rcu_thread_offline();
		dp->ct = NULL;
	}
}

int xgw_dp_apply_steer(struct xgw_dataplane *dp, const struct xgw_config *cfg,
		       const struct xgw_config *prev)
{
	struct xgw_steer *st = first_steer(dp);
	struct xgw_steer_rule *rules = NULL;
	struct xgw_steer_src_rule *src = NULL;
	struct xgw_steer_delta d;
	unsigned n = 0, n_src = 0;
	int rc;

	if (!dp->n_ports || !st)
		return 0;
	if (!dp->steer_rules && !(dp->steer_rules = xgw_steer_rules_new()))
		return -ENOMEM;
	/* By difference: the keys of the services that changed only. */
	rc = xgw_steer_rules_diff(dp->steer_rules, cfg, prev, &d);
	if (!rc) {
		rc = xgw_steer_update_rules(st, d.add, d.n_add, d.del, d.n_del, d.src_add,
					    d.n_src_add, d.src_del, d.n_src_del, d.classes);
		xgw_steer_delta_free(&d);
		if (rc != -ESTALE) {
			if (rc)
				xgw_steer_rules_invalidate(dp->steer_rules);
			return rc;
		}
	} else if (rc != -EAGAIN) {
		return rc;
	}
	/* Whole: every rule, written by difference with the maps' mirror. */
	rc = xgw_steer_rules_full(cfg, &rules, &n, &src, &n_src);
	if (!rc)
		rc = xgw_steer_set_rules(st, rules, n, src, n_src);
	free(rules);
	free(src);
	if (!rc)
		xgw_steer_rules_reset(dp->steer_rules, cfg);
	else
		xgw_steer_rules_invalidate(dp->steer_rules);
	return rc;
}

/* After this, no worker can still hold a pointer replaced before the call:
 * every worker passes a quiescent state between bursts (QSBR). */
void xgw_dp_wait_grace_period(void)
{
	synchronize_rcu();
	XGW_TSAN_RCU_GP_DONE();
}

/* Conntrack calls from the control thread: online around them only, so
 * that a sleeping control thread never holds up a grace period. */
static void ctl_rcu_enter(void)
{
	rcu_thread_online();
}

static void ctl_rcu_leave(void)
{
	XGW_TSAN_RCU_QS();
	rcu_thread_offline();
}

int xgw_dp_apply_snapshot(struct xgw_dataplane *dp, const struct xgw_config *cfg,
			  const struct xgw_config *prev, char *err, size_t errlen)
{
	struct xgw_snapshot *s, *old;

	/* Only this (control) thread replaces dp->snap, so reading it here
	 * without a grace period is safe. */
	if (!dp->snap_builder && !(dp->snap_builder = xgw_snap_builder_new())) {
		snprintf(err, errlen, "out of memory building the snapshot");
		return -ENOMEM;
	}
	/* What changed only: the services as the running snapshot has them
	 * are shared with it, the index is updated in place (snapshot.h). */
	s = xgw_snapshot_update(dp->snap_builder, cfg, prev, dp->n_workers, dp->hash_seed, dp->snap,
				err, errlen);
	if (!s)
		return -EINVAL;
	/* The kernel services, as the snapshot's pass found them. */
	if (xgw_kdp_check_some(cfg, s->kernel_idx, s->n_kernel, err, errlen)) {
		xgw_snapshot_free(s);
		return -EINVAL;
	}
	if (dp->n_ports && !first_steer(dp) && s->n_kernel) {
		snprintf(err, errlen,
			 "\"datapath\": \"kernel\" needs an AF_XDP port (the XDP "
			 "program); every port here is \"driver\": \"dpdk\"");
		xgw_snapshot_free(s);
		return -EINVAL;
	}
	if (xgw_svc_slots_assign(dp, s, err, errlen)) {
		xgw_snapshot_free(s);
		return -ENOSPC;
	}
	/* C11 exchange, not rcu_xchg_pointer (whose inline asm ThreadSanitizer
	 * cannot see): release publishes the snapshot to the workers'
	 * acquire loads (worker.c).  Same xchg instruction on x86-64. */
	old = __atomic_exchange_n(&dp->snap, s, __ATOMIC_ACQ_REL);
	xgw_snapshot_published(dp->snap_builder, s);
	if (old) {
		/* Build new, swap, free after a grace period. */
		xgw_dp_wait_grace_period();
		xgw_snapshot_free(old);
	}
	/* The kernel datapath's maps from the same snapshot (its Maglev
	 * tables); on failure the caller re-applies the previous config. */
	return dp->ct ? xgw_kdp_sync(dp->kdp, cfg, s, dp->ct, err, errlen) : 0;
}

void xgw_dp_ct_gc(struct xgw_dataplane *dp)
{
	struct xgw_ct_stats st;
	unsigned budget;

	if (!dp->ct)
		return;
	xgw_ct_get_stats(dp->ct, &st);
	/* A full pass about every 10 s at 10 calls per second. */
	budget = (unsigned)(st.max / 100) + 1024;
	ctl_rcu_enter();
	xgw_ct_gc(dp->ct, xgw_ct_clock(), budget);
	ctl_rcu_leave();
}

struct ct_json_arg {
	json_t *arr;
};

static int ct_json_cb(const struct xgw_ct_conn *c, uint64_t now, void *arg)
{
	struct ct_json_arg *a = arg;
	struct xgw_ct_tuple ok, rk, *o = &ok, *r = &rk;
	char s[XGW_ADDR_STRLEN], d[XGW_ADDR_STRLEN], be[XGW_KEY_STRLEN];
	uint64_t last = atomic_load_explicit(&c->last_seen, memory_order_relaxed);
	uint64_t age = now > last ? now - last : 0;
	uint64_t to = xgw_ct_timeout(c->owner, c->orig.proto, (enum xgw_ct_state)c->state);
	json_t *e;

	xgw_ct_ctuple_key(o, &c->orig);
	xgw_ct_ctuple_key(r, &c->reply);
	xgw_endpoint_str(&r->src, ntohs(r->sport), be, sizeof(be));
	e = json_pack("{s:s,s:s,s:s,s:i,s:i,s:s,s:s,s:I,s:I,s:I,s:I}", "proto",
		      xgw_proto_name(o->proto), "src", xgw_addr_str(&o->src, s, sizeof(s)), "dst",
		      xgw_addr_str(&o->dst, d, sizeof(d)), "sport", ntohs(o->sport), "dport",
		      ntohs(o->dport), "backend", be, "state", xgw_ct_state_name(c->state),
		      "age_s", (json_int_t)(age / 1000000000ULL), "expires_s",
		      (json_int_t)(to > age ? (to - age) / 1000000000ULL : 0), "packets",
		      (json_int_t)(c->pkts[0] + c->pkts[1]), "bytes",
		      (json_int_t)(c->bytes[0] + c->bytes[1]));
	if (c->flags & XGW_CT_F_SNAT) {
		char sn[XGW_KEY_STRLEN];
		json_object_set_new(e, "snat",
				    json_string(xgw_endpoint_str(&r->dst, ntohs(r->dport), sn,
								 sizeof(sn))));
	}
	json_array_append_new(a->arr, e);
	return 0;
}

json_t *xgw_dp_ct_json(struct xgw_dataplane *dp, unsigned limit)
{
	struct ct_json_arg a = {json_array()};

	if (!dp->ct)
		return a.arr;
	ctl_rcu_enter();
	xgw_ct_foreach(dp->ct, xgw_ct_clock(), limit, ct_json_cb, &a);
	ctl_rcu_leave();
	xgw_kdp_ct_json(dp->kdp, dp->ct, a.arr, limit);
	return a.arr;
}

int xgw_dp_ct_flush(struct xgw_dataplane *dp)
{
	unsigned n = 0;

	if (dp->ct) {
		ctl_rcu_enter();
		n = xgw_ct_flush(dp->ct);
		ctl_rcu_leave();
	}
	n += (unsigned)xgw_kdp_ct_flush(dp->kdp);
	return (int)n;
}

int xgw_dp_ct_flush_backend(struct xgw_dataplane *dp, const struct xgw_ct_backend_sel *s)
{
	unsigned n = 0;
	int k;

	if (dp->ct) {
		ctl_rcu_enter();
		n = xgw_ct_flush_backend(dp->ct, s, xgw_ct_clock());
		ctl_rcu_leave();
	}
	k = xgw_kdp_ct_flush_backend(dp->kdp, dp->ct, s);
	if (k < 0)
		pr_warn("kernel conntrack of a backend not flushed: %s", strerror(-k));
	return (int)n + (k > 0 ? k : 0);
}

int xgw_dp_service_resolves(struct xgw_dataplane *dp)
{
	struct xgw_resolve_req r;
	int sent = 0;

	for (unsigned i = 0; i < dp->n_workers; i++)
		while (xgw_worker_pop_resolve(dp->workers[i], &r)) {
			char a[XGW_ADDR_STRLEN];
			int rc = xgw_nl_resolve(r.ifindex, &r.ip);
			if (rc)
				pr_warn("cannot trigger resolution of %s: %s",
					xgw_addr_str(&r.ip, a, sizeof(a)), strerror(-rc));
			else
				pr_debug("resolving %s", xgw_addr_str(&r.ip, a, sizeof(a)));
			sent++;
		}
	return sent;
}

