/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-service counters: the control side (slot allocation, sums).  The
 * workers' side is xgw_svc_count and two adds in lb_stage.c. */
#include "pipeline/svc_stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "common/tsan.h"
#include "pipeline/kdp.h"
#include "pipeline/snapshot.h"
#include "pipeline/worker.h"

int xgw_svc_worker_init(struct xgw_svc_worker *s)
{
	/* calloc of this size maps fresh zero pages: memory is used only
	 * for the slots in use. */
	s->be = calloc(XGW_BE_SLOTS, sizeof(*s->be));
	s->svc = calloc(XGW_SVC_SLOTS, sizeof(*s->svc));
	if (s->be && s->svc)
		return 0;
	xgw_svc_worker_free(s);
	return -ENOMEM;
}

void xgw_svc_worker_free(struct xgw_svc_worker *s)
{
	free(s->be);
	free(s->svc);
	s->be = NULL;
	s->svc = NULL;
}

/* A slot's owner and the counts it started from (non-zero only for a
 * reused slot). */
struct be_meta {
	char *key;
	bool in_config;
	struct xgw_be_ctr base;
};

struct svc_meta {
	char *key;
	bool in_config;
	uint64_t base[XGW_DROP__MAX];
};

struct xgw_svc_slots {
	json_t *svc_map, *be_map;   /* key -> slot */
	/* The snapshot whose services in_config says (the published one
	 * after every assignment that succeeded), or NULL: then the next
	 * assignment recomputes it whole. */
	const struct xgw_snapshot *synced;
	uint32_t next_svc, next_be; /* never-used slots start here */
	struct svc_meta svc[XGW_SVC_SLOTS];
	struct be_meta *be; /* [XGW_BE_SLOTS] */
};

#define RD(x) XGW_STAT_READ(x)

/* Totals over the workers and the kernel datapath, from the slot's
 * baseline. */
static void be_sum(const struct xgw_dataplane *dp, uint32_t slot, struct xgw_be_ctr *o,
		   uint64_t *active)
{
	const struct be_meta *m = &dp->svc_slots->be[slot];
	uint64_t closed = dp->ct ? xgw_ct_slot_closed(dp->ct, slot) : 0, opened;
	struct xgw_kdp_counts k;

	memset(o, 0, sizeof(*o));
	for (unsigned i = 0; i < dp->n_workers; i++) {
		const struct xgw_be_ctr *b = &dp->workers[i]->svc.be[slot];
		for (int d = 0; d < 2; d++) {
			o->d[d].pkts += RD(b->d[d].pkts);
			o->d[d].bytes += RD(b->d[d].bytes);
		}
		o->conns += RD(b->conns);
		o->drops += RD(b->drops);
	}
	/* The workers' connections live: opened minus ended, both counted
	 * since the start (a slot is reused only with none live).  An end may
	 * be counted a moment before a worker's creation count is visible. */
	opened = o->conns;
	if (active)
		*active = opened > closed ? opened - closed : 0;
	/* The kernel's: its counts add to the same slot (a service moved
	 * between datapaths goes on counting); its live connections are
	 * those its conntrack holds (pipeline/kdp.h). */
	if (xgw_kdp_be_counts(dp->kdp, slot, &k)) {
		for (int d = 0; d < 2; d++) {
			o->d[d].pkts += k.pkts[d];
			o->d[d].bytes += k.bytes[d];
		}
		o->conns += k.conns;
		if (active)
			*active += k.active;
	}
	for (int d = 0; d < 2; d++) {
		o->d[d].pkts -= m->base.d[d].pkts;
		o->d[d].bytes -= m->base.d[d].bytes;
	}
	o->conns -= m->base.conns;
	o->drops -= m->base.drops;
}

static void svc_sum(const struct xgw_dataplane *dp, uint32_t slot, uint64_t *drops)
{
	const struct svc_meta *m = &dp->svc_slots->svc[slot];

	for (unsigned r = 0; r < XGW_DROP__MAX; r++) {
		drops[r] = 0;
		for (unsigned i = 0; i < dp->n_workers; i++)
			drops[r] += RD(dp->workers[i]->svc.svc[slot].drops[r]);
	}
	xgw_kdp_svc_drops_add(dp->kdp, slot, drops);
	for (unsigned r = 0; r < XGW_DROP__MAX; r++)
		drops[r] -= m->base[r];
}

static const char *svc_key(const struct xgw_svc_rt *s, char *buf, size_t len)
{
	return xgw_service_key_str(&s->vip, ntohs(s->port), s->proto, buf, len);
}

static const char *be_key(const char *sk, const struct xgw_be_rt *b, char *buf, size_t len)
{
	char ip[64];

	snprintf(buf, len, "%s|%s:%u", sk, xgw_addr_str(&b->ip, ip, sizeof(ip)), ntohs(b->port));
	return buf;
}

/* A retired backend slot with no live connection, rebased; 0: none. */
static uint32_t reuse_be(struct xgw_dataplane *dp)
{
	struct xgw_svc_slots *s = dp->svc_slots;

	for (uint32_t i = 1; i < XGW_BE_SLOTS; i++) {
		struct be_meta *m = &s->be[i];
		uint64_t active;
		struct xgw_be_ctr cur;

		if (m->in_config)
			continue;
		be_sum(dp, i, &cur, &active);
		if (active)
			continue;
		json_object_del(s->be_map, m->key);
		free(m->key);
		m->key = NULL;
		for (int d = 0; d < 2; d++) {
			m->base.d[d].pkts += cur.d[d].pkts;
			m->base.d[d].bytes += cur.d[d].bytes;
		}
		m->base.conns += cur.conns;
		m->base.drops += cur.drops;
		return i;
	}
	return 0;
}

static uint32_t reuse_svc(struct xgw_dataplane *dp)
{
	struct xgw_svc_slots *s = dp->svc_slots;

	for (uint32_t i = 1; i < XGW_SVC_SLOTS; i++) {
		struct svc_meta *m = &s->svc[i];
		uint64_t cur[XGW_DROP__MAX];

		if (m->in_config)
			continue;
		svc_sum(dp, i, cur);
		json_object_del(s->svc_map, m->key);
		free(m->key);
		m->key = NULL;
		for (unsigned r = 0; r < XGW_DROP__MAX; r++)
			m->base[r] += cur[r];
		return i;
	}
	return 0;
}

/* The slot of key in map, allocated if new (0: exhausted). */
static uint32_t slot_of(struct xgw_dataplane *dp, bool be, const char *key)
{
	struct xgw_svc_slots *s = dp->svc_slots;
	json_t *map = be ? s->be_map : s->svc_map;
	json_t *v = json_object_get(map, key);
	uint32_t slot;

	if (v)
		return (uint32_t)json_integer_value(v);
	if (be)
		slot = s->next_be < XGW_BE_SLOTS ? s->next_be++ : reuse_be(dp);
	else
		slot = s->next_svc < XGW_SVC_SLOTS ? s->next_svc++ : reuse_svc(dp);
	if (!slot)
		return 0;
	char *k = strdup(key);
	if (!k || json_object_set_new(map, key, json_integer(slot))) {
		free(k);
		return 0;
	}
	if (be)
		s->be[slot].key = k;
	else
		s->svc[slot].key = k;
	return slot;
}

static int slots_init(struct xgw_dataplane *dp)
{
	struct xgw_svc_slots *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->be = calloc(XGW_BE_SLOTS, sizeof(*s->be));
	s->svc_map = json_object();
	s->be_map = json_object();
	s->next_svc = s->next_be = 1;
	dp->svc_slots = s;
	if (!s->be || !s->svc_map || !s->be_map) {
		xgw_svc_slots_free(dp);
		return -ENOMEM;
	}
	return 0;
}

/* The slots of what the running snapshot already counts: a service that
 * is there and each backend at the same position with the same address
 * keep theirs, without formatting a key.  A write then formats keys only
 * for what it added (at 10,000 services, formatting every key was 60% of
 * a service.add). */
static void carry_slots(struct xgw_dataplane *dp, struct xgw_svc_rt *sv)
{
	const struct xgw_snapshot *old = dp->snap; /* this thread publishes it */
	const struct xgw_svc_rt *o =
	    old ? xgw_snapshot_service(old, &sv->vip, sv->port, sv->proto) : NULL;
	struct xgw_svc_slots *s = dp->svc_slots;

	if (!o || !o->ctr)
		return;
	sv->ctr = o->ctr;
	s->svc[sv->ctr].in_config = true;
	for (uint32_t b = 1; b <= sv->n_backends && b <= o->n_backends; b++) {
		if (!o->be[b].ctr || o->be[b].port != sv->be[b].port ||
		    !xgw_addr_eq(&o->be[b].ip, &sv->be[b].ip))
			continue;
		sv->be[b].ctr = o->be[b].ctr;
		s->be[sv->be[b].ctr].in_config = true;
	}
}

/* Slots for one service's record that has none yet (new keys). */
static int assign_new(struct xgw_dataplane *dp, struct xgw_svc_rt *sv, char *err, size_t errlen)
{
	struct xgw_svc_slots *s = dp->svc_slots;
	bool keyed = false, full = false;
	char sk[128], bk[256];

	if (!sv->ctr) {
		svc_key(sv, sk, sizeof(sk));
		keyed = true;
		sv->ctr = slot_of(dp, false, sk);
		if (sv->ctr)
			s->svc[sv->ctr].in_config = true;
	}
	for (uint32_t b = 1; b <= sv->n_backends && sv->ctr; b++) {
		if (sv->be[b].ctr)
			continue;
		if (!keyed)
			svc_key(sv, sk, sizeof(sk));
		keyed = true;
		sv->be[b].ctr = slot_of(dp, true, be_key(sk, &sv->be[b], bk, sizeof(bk)));
		if (!sv->be[b].ctr) {
			full = true;
			break;
		}
		s->be[sv->be[b].ctr].in_config = true;
	}
	if (!sv->ctr || full) {
		if (!keyed)
			svc_key(sv, sk, sizeof(sk));
		snprintf(err, errlen,
			 "service %s: no counter slot left (at most %u services and %u "
			 "backends, counting those removed whose connections live on)",
			 sk, XGW_SVC_SLOTS - 1, XGW_BE_SLOTS - 1);
		return -ENOSPC;
	}
	return 0;
}

int xgw_svc_slots_assign(struct xgw_dataplane *dp, struct xgw_snapshot *snap, char *err,
			 size_t errlen)
{
	struct xgw_svc_slots *s;
	int rc = 0;

	if (!dp->svc_slots && slots_init(dp)) {
		snprintf(err, errlen, "counter slots: out of memory");
		return -ENOMEM;
	}
	s = dp->svc_slots;
	if (snap->base && snap->base == dp->snap && s->synced == dp->snap) {
		/* Made from the running snapshot (xgw_snapshot_update): the
		 * records it shares with it keep their slots; only those that
		 * left and those that came change anything.  Left first, so
		 * that a record replaced by another of its key carries over. */
		for (unsigned i = 0; i < snap->n_gone; i++) {
			const struct xgw_svc_rt *g = snap->gone[i];

			s->svc[g->ctr].in_config = false;
			for (uint32_t b = 1; b <= g->n_backends; b++)
				s->be[g->be[b].ctr].in_config = false;
		}
		for (unsigned i = 0; i < snap->n_added; i++)
			carry_slots(dp, snap->added[i]);
		for (unsigned i = 0; i < snap->n_added && !rc; i++)
			rc = assign_new(dp, snap->added[i], err, errlen);
	} else {
		/* Whatever snap lacks is retired: reusable once its
		 * connections end. */
		for (uint32_t i = 1; i < s->next_svc; i++)
			s->svc[i].in_config = false;
		for (uint32_t i = 1; i < s->next_be; i++)
			s->be[i].in_config = false;
		/* First everything that keeps its slot, so that no slot still
		 * in the configuration is taken for reuse by a new key below. */
		for (unsigned i = 0; i < snap->n_svcs; i++)
			carry_slots(dp, snap->svcs[i]);
		for (unsigned i = 0; i < snap->n_svcs && !rc; i++)
			rc = assign_new(dp, snap->svcs[i], err, errlen);
	}
	s->svc[0].in_config = false;
	s->be[0].in_config = false;
	/* Valid only once snap is published (the caller's next step). */
	s->synced = rc ? NULL : snap;
	return rc;
}

void xgw_svc_slots_free(struct xgw_dataplane *dp)
{
	struct xgw_svc_slots *s = dp->svc_slots;

	if (!s)
		return;
	for (uint32_t i = 0; i < XGW_SVC_SLOTS; i++)
		free(s->svc[i].key);
	for (uint32_t i = 0; s->be && i < XGW_BE_SLOTS; i++)
		free(s->be[i].key);
	free(s->be);
	json_decref(s->svc_map);
	json_decref(s->be_map);
	free(s);
	dp->svc_slots = NULL;
}

/* A backend's counters as numbers (zero without a slot). */
static void be_ctr(const struct xgw_dataplane *dp, const struct xgw_be_rt *be,
		   struct xgw_ctl_ctr *o)
{
	struct xgw_be_ctr c = {0};
	uint64_t active = 0;

	if (be->ctr)
		be_sum(dp, be->ctr, &c, &active);
	o->pkts_in = c.d[0].pkts;
	o->bytes_in = c.d[0].bytes;
	o->pkts_out = c.d[1].pkts;
	o->bytes_out = c.d[1].bytes;
	o->conns_new = c.conns;
	o->conns_active = active;
	o->drops = c.drops;
}

static void ctr_add(struct xgw_ctl_ctr *t, const struct xgw_ctl_ctr *c)
{
	t->pkts_in += c->pkts_in;
	t->bytes_in += c->bytes_in;
	t->pkts_out += c->pkts_out;
	t->bytes_out += c->bytes_out;
	t->conns_new += c->conns_new;
	t->conns_active += c->conns_active;
	t->drops += c->drops;
}

/* The service's own drops by reason, added to its total. */
static void svc_drops(const struct xgw_dataplane *dp, const struct xgw_svc_rt *sv,
		      struct xgw_ctl_svc_ctr *o)
{
	memset(o->drops, 0, sizeof(o->drops));
	if (sv->ctr)
		svc_sum(dp, sv->ctr, o->drops);
	for (unsigned r = 1; r < XGW_DROP__MAX; r++)
		o->tot.drops += o->drops[r];
}

static void put_ctr(json_t *o, const struct xgw_ctl_ctr *c)
{
	json_object_set_new(o, "pkts_in", json_integer((json_int_t)c->pkts_in));
	json_object_set_new(o, "bytes_in", json_integer((json_int_t)c->bytes_in));
	json_object_set_new(o, "pkts_out", json_integer((json_int_t)c->pkts_out));
	json_object_set_new(o, "bytes_out", json_integer((json_int_t)c->bytes_out));
	json_object_set_new(o, "conns_new", json_integer((json_int_t)c->conns_new));
	json_object_set_new(o, "conns_active", json_integer((json_int_t)c->conns_active));
}

static json_t *svc_json(const struct xgw_dataplane *dp, const struct xgw_svc_rt *sv)
{
	char ip[64];
	struct xgw_ctl_svc_ctr sc;
	json_t *bes = json_array(), *dj = json_object();

	memset(&sc, 0, sizeof(sc));
	for (uint32_t b = 1; b <= sv->n_backends; b++) {
		const struct xgw_be_rt *be = &sv->be[b];
		struct xgw_ctl_ctr c;
		json_t *bj;

		be_ctr(dp, be, &c);
		bj = json_pack("{s:s,s:i}", "ip", xgw_addr_str(&be->ip, ip, sizeof(ip)), "port",
			       ntohs(be->port));
		put_ctr(bj, &c);
		json_object_set_new(bj, "drops", json_integer((json_int_t)c.drops));
		json_array_append_new(bes, bj);
		ctr_add(&sc.tot, &c);
	}
	svc_drops(dp, sv, &sc);
	for (unsigned r = 1; r < XGW_DROP__MAX; r++)
		if (sc.drops[r])
			json_object_set_new(dj, xgw_drop_name(r),
					    json_integer((json_int_t)sc.drops[r]));
	json_t *o = json_pack("{s:s,s:i,s:s}", "vip", xgw_addr_str(&sv->vip, ip, sizeof(ip)),
			      "port", ntohs(sv->port), "proto", xgw_proto_name(sv->proto));
	put_ctr(o, &sc.tot);
	/* Which datapath serves it now (its counts are both's). */
	json_object_set_new(o, "datapath", json_string(sv->kernel ? "kernel" : "user"));
	json_object_set_new(o, "drops_total", json_integer((json_int_t)sc.tot.drops));
	json_object_set_new(o, "drops", dj);
	json_object_set_new(o, "backends", bes);
	return o;
}

/* The backend of sv at address (ip, port): usually the same position as
 * in the config (the snapshot keeps its order), else a search. */
static const struct xgw_be_rt *be_find(const struct xgw_svc_rt *sv, uint32_t pos,
				       const struct xgw_backend_cfg *b)
{
	uint16_t port = htons(b->port);

	if (pos <= sv->n_backends && sv->be[pos].port == port &&
	    xgw_addr_eq(&sv->be[pos].ip, &b->ip))
		return &sv->be[pos];
	for (uint32_t i = 1; i <= sv->n_backends; i++)
		if (sv->be[i].port == port && xgw_addr_eq(&sv->be[i].ip, &b->ip))
			return &sv->be[i];
	return NULL;
}

static void svc_counters(const struct xgw_dataplane *dp, const struct xgw_snapshot *snap,
			 const struct xgw_service_cfg *s, struct xgw_ctl_svc_ctr *o)
{
	const struct xgw_svc_rt *sv = xgw_snapshot_service(snap, &s->vip, htons(s->port), s->proto);

	if (!sv)
		return;
	o->found = true;
	o->kernel = sv->kernel;
	/* The totals are over the snapshot's backends (the same set as the
	 * config's once it is applied). */
	for (uint32_t b = 1; b <= sv->n_backends; b++) {
		struct xgw_ctl_ctr c;

		be_ctr(dp, &sv->be[b], &c);
		ctr_add(&o->tot, &c);
	}
	for (unsigned j = 0; j < s->n_backends; j++) {
		const struct xgw_be_rt *be = be_find(sv, j + 1, &s->backends[j]);

		o->be_found[j] = be != NULL;
		if (be)
			be_ctr(dp, be, &o->be[j]);
	}
	svc_drops(dp, sv, o);
}

void xgw_svc_counters(struct xgw_dataplane *dp, const struct xgw_service_cfg *svcs, unsigned n,
		      struct xgw_ctl_svc_ctr *out)
{
	const struct xgw_snapshot *snap;

	/* As xgw_svc_stats_json: the kernel's live connections counted once
	 * (a reader within the last second shares that walk), offline. */
	xgw_kdp_ct_count(dp->kdp, dp->ct, 1000);
	rcu_thread_online();
	snap = __atomic_load_n(&dp->snap, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; snap && dp->svc_slots && i < n; i++)
		svc_counters(dp, snap, &svcs[i], &out[i]);
	XGW_TSAN_RCU_QS();
	rcu_thread_offline();
}

json_t *xgw_svc_stats_snap_json(const struct xgw_dataplane *dp, const struct xgw_snapshot *snap)
{
	json_t *a = json_array();

	/* Every service, the kernel datapath's too. */
	for (unsigned i = 0; snap && dp->svc_slots && i < snap->n_svcs; i++)
		json_array_append_new(a, svc_json(dp, snap->svcs[i]));
	return a;
}

json_t *xgw_svc_stats_json(struct xgw_dataplane *dp)
{
	json_t *a;

	/* The kernel services' live connections, counted once for all
	 * services (a walk of its conntrack: tens of ms when full), before
	 * going online so that no grace period waits for it. */
	xgw_kdp_ct_count(dp->kdp, dp->ct, 1000);
	rcu_thread_online();
	a = xgw_svc_stats_snap_json(dp, __atomic_load_n(&dp->snap, __ATOMIC_ACQUIRE));
	XGW_TSAN_RCU_QS();
	rcu_thread_offline();
	return a;
}
