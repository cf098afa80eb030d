/* SPDX-License-Identifier: BSD-3-Clause */
/* Live trace and capture: see tap.h.  Everything here runs only while a
 * session is published; the workers' fast path is one pointer test. */
#include "pipeline/tap.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu-qsbr.h>

#include "common/config.h"
#include "common/drop.h"
#include "common/hdr.h"
#include "common/tsan.h"
#include "lb/conntrack.h"
#include "common/log.h"
#include "pipeline/kdp.h"
#include "pipeline/snapshot.h"
#include "pipeline/tap_filter.h"
#include "pipeline/tap_text.h"
#include "pipeline/worker.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- the ring --------------------------------------------------------- */

/* A record for this worker, or NULL: the session took its count, or the
 * ring is full (counted: the reader is behind).  A compare-and-swap, not
 * an add, so that no sequence number is taken and then left unwritten. */
struct xgw_tap_rec *xgw_tap_claim(struct xgw_tap *t, int worker)
{
	uint64_t c = atomic_load_explicit(&t->claimed, memory_order_relaxed);
	struct xgw_tap_rec *r;

	do {
		if (c >= t->count)
			return NULL;
		if (c - atomic_load_explicit(&t->tail, memory_order_acquire) >= XGW_TAP_RING) {
			atomic_fetch_add_explicit(&t->overrun, 1, memory_order_relaxed);
			return NULL;
		}
	} while (!atomic_compare_exchange_weak_explicit(
	    &t->claimed, &c, c + 1, memory_order_relaxed, memory_order_relaxed));
	r = &t->ring[c % XGW_TAP_RING];
	r->worker = (int16_t)worker;
	r->kernel = worker < 0;
	r->ts_ns = clock_ns(CLOCK_REALTIME);
	return r;
}

void xgw_tap_publish(struct xgw_tap_rec *r)
{
	atomic_store_explicit(&r->ready, 1, memory_order_release);
}

/* ---- capture ------------------------------------------------------------ */

static void capture_frame(struct xgw_worker *w, struct xgw_tap *t, const struct xgw_pkt *p,
			  unsigned dir, uint16_t port)
{
	struct xgw_tap_rec *r = xgw_tap_claim(t, w->id);

	if (!r)
		return;
	r->dir = (uint8_t)dir;
	r->port = port;
	r->wirelen = p->len;
	r->len = p->len < XGW_TAP_DATA ? p->len : XGW_TAP_DATA;
	memcpy(r->data, p->data, r->len);
	xgw_tap_publish(r);
}

static void capture_one(struct xgw_worker *w, struct xgw_tap *t, struct xgw_pkt *p)
{
	uint64_t sent = w->st.forwarded;

	if ((t->dirs & XGW_TAP_DIR_RX) && (t->port < 0 || p->port == t->port))
		capture_frame(w, t, p, XGW_TAP_DIR_RX, p->port);
	xgw_worker_stages(w, p, 1);
	/* Sent: the descriptor now is the frame as it left (rewritten, maybe
	 * encapsulated), still unread by the kernel's copy or not yet reused. */
	if ((t->dirs & XGW_TAP_DIR_TX) && w->st.forwarded != sent &&
	    (t->port < 0 || p->out_port == t->port))
		capture_frame(w, t, p, XGW_TAP_DIR_TX, p->out_port);
}

/* ---- trace -------------------------------------------------------------- */

/* The policy rule a key matches and whether the stages consulted the
 * classifier for it (its hit counter moved). */
struct policy_probe {
	uint32_t rule;
	uint64_t hits;
	bool valid;
};

static void policy_before(struct policy_probe *pp, const struct xgw_snapshot *snap, int worker,
			  const struct view *v)
{
	struct xgw_policy_key k;

	pp->valid = false;
	if (!snap || !snap->policy || v->rc || worker < 0 || (unsigned)worker >= snap->n_workers)
		return;
	k.src = v->src;
	k.dst = v->dst;
	k.proto = v->p.l4_proto;
	k.dport = tap_has_ports(v) ? ntohs(v->p.dport) : 0;
	pp->rule = xgw_policy_match(snap->policy, &k);
	uint32_t idx = pp->rule == XGW_POLICY_NO_RULE ? xgw_policy_n_rules(snap->policy) : pp->rule;
	pp->hits = snap->hits[worker][idx];
	pp->valid = true;
}

static void put_policy(struct text *t, const struct policy_probe *pp,
		       const struct xgw_snapshot *snap, int worker, const char *what)
{
	uint32_t idx;

	if (!pp->valid)
		return;
	idx = pp->rule == XGW_POLICY_NO_RULE ? xgw_policy_n_rules(snap->policy) : pp->rule;
	if (snap->hits[worker][idx] == pp->hits)
		return; /* not consulted */
	if (pp->rule == XGW_POLICY_NO_RULE)
		tap_put(t, "  policy     %s: no rule matches, default %s\n", what,
			snap->policy_default_allow ? "allow" : "deny");
	else
		tap_put(t, "  policy     %s: rule %u matches\n", what,
			xgw_policy_rule_id(snap->policy, pp->rule));
}

/* At the worker's own clock: a lookup unlinks what it finds expired, so it
 * must see the time the stages see. */
static struct xgw_ct_conn *ct_find(struct xgw_ct_table *ct, const struct view *v, uint64_t now,
				   enum xgw_ct_dir *dir)
{
	struct xgw_ct_tuple k;

	if (!ct || !tap_has_ports(v))
		return NULL;
	xgw_ct_tuple_init(&k, &v->src, v->p.sport, &v->dst, v->p.dport, v->p.l4_proto);
	return xgw_ct_lookup(ct, &k, now, dir);
}

/* What the counters say the stages did, as the verdict. */
static void put_verdict(struct text *t, const struct xgw_dataplane *dp,
			const struct xgw_worker_stats *a, const struct xgw_worker_stats *b,
			const struct xgw_pkt *out, const struct view *after)
{
	if (b->forwarded != a->forwarded) {
		const struct xgw_fwd_state *fs = __atomic_load_n(&dp->fwd, __ATOMIC_ACQUIRE);
		/* The route's next hop; of a multipath route the flow hash picks
		 * a path, which this does not recompute. */
		const struct xgw_nh *r =
		    fs && fs->fib && !after->rc ? xgw_fib_route(fs->fib, &after->dst) : NULL;
		char via[XGW_ADDR_STRLEN];

		tap_put(t, "  route      port %s",
			out->out_port < dp->n_ports ? dp->ports[out->out_port].name : "?");
		if (r && r->n_paths > 1)
			tap_put(t, ", multipath (%u paths)", r->n_paths);
		else if (r && r->via.family)
			tap_put(t, ", next hop %s", xgw_addr_str(&r->via, via, sizeof(via)));
		else if (r)
			tap_put(t, ", directly connected");
		tap_put(t, ", dst mac ");
		tap_put_mac(t, out->data);
		tap_put(t, "\n");
		if (b->icmp_sent != a->icmp_sent)
			tap_put(t, "  verdict    ICMP error sent\n");
		else if (b->icmp_echo_replies != a->icmp_echo_replies)
			tap_put(t, "  verdict    ICMP echo reply sent\n");
		else
			tap_put(t, "  verdict    forwarded\n");
		return;
	}
	for (unsigned r = 1; r < XGW_DROP__MAX; r++)
		if (b->drops[r] != a->drops[r]) {
			tap_put(t, "  verdict    dropped: %s\n", xgw_drop_name(r));
			return;
		}
	tap_put(t, "  verdict    not sent\n");
}

static void trace_one(struct xgw_worker *w, struct xgw_tap *t, struct xgw_pkt *p)
{
	struct xgw_tap_rec *r = xgw_tap_claim(t, w->id);
	struct xgw_dataplane *dp = w->dp;
	static _Thread_local struct view before, after;
	struct xgw_worker_stats a, b;
	struct policy_probe pin;
	enum xgw_ct_dir d0 = XGW_CT_ORIG, d1 = XGW_CT_ORIG;
	struct xgw_ct_conn *c0, *c1;
	struct text tx;

	if (!r) {
		xgw_worker_stages(w, p, 1);
		return;
	}
	const struct xgw_snapshot *snap = __atomic_load_n(&dp->snap, __ATOMIC_ACQUIRE);
	tap_view(&before, p->data, p->len);
	policy_before(&pin, snap, w->id, &before);
	c0 = ct_find(dp->ct, &before, w->now_ns, &d0);
	uint8_t s0 = c0 ? atomic_load(&c0->state) : 0;
	a = w->st;
	xgw_worker_stages(w, p, 1);
	b = w->st;
	tap_view(&after, p->data, p->len);

	tx = (struct text){(char *)r->data, 0, XGW_TAP_DATA};
	tap_put(&tx, "port %s queue %u, %u bytes\n",
		p->port < dp->n_ports ? dp->ports[p->port].name : "?", p->queue, before.p.len);
	if (before.rc) {
		tap_put(&tx, "  parse      %s\n", xgw_drop_name((unsigned)before.rc));
	} else {
		tap_put(&tx, "  parse      ");
		tap_put_flow(&tx, &before);
		tap_put(&tx, "\n");
	}
	if (b.vxlan_decapsulated != a.vxlan_decapsulated ||
	    b.geneve_decapsulated != a.geneve_decapsulated)
		tap_put(&tx, "  decap      %s\n",
			b.vxlan_decapsulated != a.vxlan_decapsulated ? "vxlan" : "geneve");
	put_policy(&tx, &pin, snap, w->id, "in");
	c1 = ct_find(dp->ct, &before, w->now_ns, &d1);
	if (c1 || c0) {
		struct xgw_ct_conn *c = c1 ? c1 : c0;
		struct xgw_ct_tuple be;

		if (b.ct_created != a.ct_created)
			tap_put(&tx, "  conntrack  new, %s\n",
				xgw_ct_state_name(atomic_load(&c->state)));
		else
			tap_put(&tx, "  conntrack  hit (%s), %s -> %s\n",
				d1 == XGW_CT_ORIG ? "original" : "reply", xgw_ct_state_name(s0),
				xgw_ct_state_name(atomic_load(&c->state)));
		xgw_ct_ctuple_key(&be, &c->reply);
		tap_put(&tx, "  backend    ");
		tap_put_ep(&tx, &be.src, be.sport, true);
		tap_put(&tx, "\n");
	} else if (tap_has_ports(&before) && snap &&
		   xgw_snapshot_service(snap, &before.dst, before.p.dport, before.p.l4_proto)) {
		tap_put(&tx, "  conntrack  none (new connection refused)\n");
	} else if (tap_has_ports(&before)) {
		tap_put(&tx, "  conntrack  none (no service)\n");
	}
	if (!after.rc && b.forwarded != a.forwarded &&
	    (!xgw_addr_eq(&before.src, &after.src) || !xgw_addr_eq(&before.dst, &after.dst) ||
	     before.p.sport != after.p.sport || before.p.dport != after.p.dport) &&
	    b.vxlan_encapsulated == a.vxlan_encapsulated &&
	    b.geneve_encapsulated == a.geneve_encapsulated) {
		tap_put(&tx, "  nat        ");
		tap_put_flow(&tx, &after);
		tap_put(&tx, "\n");
	}
	if (b.vxlan_encapsulated != a.vxlan_encapsulated ||
	    b.geneve_encapsulated != a.geneve_encapsulated) {
		char s[XGW_ADDR_STRLEN];
		const uint8_t *h = after.p.data + after.p.payload_off;

		tap_put(&tx, "  encap      %s to %s",
			b.vxlan_encapsulated != a.vxlan_encapsulated ? "vxlan" : "geneve",
			xgw_addr_str(&after.dst, s, sizeof(s)));
		if (!after.rc && (uint32_t)after.p.payload_off + 8 <= after.p.len)
			tap_put(&tx, " vni %u", (unsigned)h[4] << 16 | (unsigned)h[5] << 8 | h[6]);
		tap_put(&tx, "\n");
	}
	put_verdict(&tx, dp, &a, &b, p, &after);
	r->len = (uint32_t)tx.len;
	xgw_tap_publish(r);
}

/* ---- the burst ------------------------------------------------------------ */

static bool wants(const struct xgw_tap *t, const struct xgw_pkt *p)
{
	/* Capture of rx alone on one port: other ports' packets need no
	 * look (tx is known only after the stages). */
	if (t->mode == XGW_TAP_CAPTURE && t->dirs == XGW_TAP_DIR_RX && t->port >= 0 &&
	    p->port != t->port)
		return false;
	return !t->filter || xgw_tap_filter_match(t->filter, p->data, p->len);
}

void xgw_tap_burst(struct xgw_worker *w, struct xgw_tap *t, struct xgw_pkt *pkts, uint32_t n)
{
	uint32_t start = 0;

	if (atomic_load_explicit(&t->claimed, memory_order_relaxed) >= t->count ||
	    clock_ns(CLOCK_MONOTONIC_COARSE) > t->deadline_ns) {
		xgw_worker_stages(w, pkts, n);
		return;
	}
	/* In packet order: the runs of packets not taken as bursts, each one
	 * taken alone. */
	for (uint32_t i = 0; i < n; i++) {
		if (!wants(t, &pkts[i]))
			continue;
		if (i > start)
			xgw_worker_stages(w, pkts + start, i - start);
		if (t->mode == XGW_TAP_TRACE)
			trace_one(w, t, &pkts[i]);
		else
			capture_one(w, t, &pkts[i]);
		start = i + 1;
	}
	if (n > start)
		xgw_worker_stages(w, pkts + start, n - start);
}

/* ---- control side --------------------------------------------------------- */

static void tap_free(struct xgw_tap *t)
{
	if (!t)
		return;
	xgw_tap_filter_free(t->filter);
	free(t);
}

/* Unpublish and free the session after a grace period (no worker still
 * in a burst with it). */
static struct xgw_tap *unpublish(struct xgw_dataplane *dp)
{
	struct xgw_tap *old = __atomic_exchange_n(&dp->tap, NULL, __ATOMIC_ACQ_REL);

	xgw_kdp_trace_set(dp->kdp, false);
	if (old) {
		synchronize_rcu();
		XGW_TSAN_RCU_GP_DONE();
	}
	return old;
}

static int get_uint(json_t *args, const char *key, uint64_t lo, uint64_t hi, uint64_t dflt,
		    uint64_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(args, key);

	if (!v) {
		*out = dflt;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)lo ||
	    json_integer_value(v) > (json_int_t)hi) {
		snprintf(err, errlen, "args.%s: expected an integer in [%llu, %llu]", key,
			 (unsigned long long)lo, (unsigned long long)hi);
		return -EINVAL;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int xgw_tap_start(struct xgw_dataplane *dp, enum xgw_tap_mode mode, json_t *args, char *err,
		  size_t errlen)
{
	bool trace = mode == XGW_TAP_TRACE;
	uint64_t count, timeout;
	const char *filter = json_string_value(json_object_get(args, "filter"));
	const char *port = json_string_value(json_object_get(args, "port"));
	const char *dir = json_string_value(json_object_get(args, "dir"));
	struct xgw_tap *t;

	if (get_uint(args, "count", 1, trace ? XGW_TAP_MAX_TRACE : XGW_TAP_MAX_COUNT,
		     trace ? 10 : 1000, &count, err, errlen) ||
	    get_uint(args, "timeout_s", 1, 86400, trace ? 60 : 600, &timeout, err, errlen))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	t->mode = mode;
	t->count = count;
	t->port = -1;
	t->dirs = XGW_TAP_DIR_RX | XGW_TAP_DIR_TX;
	if (filter && *filter) {
		t->filter = xgw_tap_filter_compile(filter, err, errlen);
		if (!t->filter)
			goto fail;
		snprintf(t->filter_text, sizeof(t->filter_text), "%s", filter);
	}
	if (port) {
		for (unsigned i = 0; i < dp->n_ports; i++)
			if (!strcmp(dp->ports[i].name, port))
				t->port = (int)i;
		if (t->port < 0) {
			snprintf(err, errlen, "args.port: no port \"%s\"", port);
			goto fail;
		}
	}
	if (dir) {
		if (!strcmp(dir, "rx")) {
			t->dirs = XGW_TAP_DIR_RX;
		} else if (!strcmp(dir, "tx")) {
			t->dirs = XGW_TAP_DIR_TX;
		} else if (strcmp(dir, "both")) {
			snprintf(err, errlen, "args.dir: \"%s\" is not \"rx\", \"tx\" or \"both\"",
				 dir);
			goto fail;
		}
	}
	t->deadline_ns = clock_ns(CLOCK_MONOTONIC_COARSE) + timeout * 1000000000ull;
	tap_free(unpublish(dp));
	__atomic_store_n(&dp->tap, t, __ATOMIC_RELEASE);
	/* Kernel-datapath packets: the XDP program emits a record for each
	 * while this session runs (tap_kdp.c takes them in). */
	if (xgw_kdp_trace_set(dp->kdp, true))
		xgw_log(XGW_LOG_WARN, "tap", "%s: kernel-datapath packets will not be seen",
			trace ? "trace" : "capture");
	return 0;
fail:
	tap_free(t);
	return -EINVAL;
}

static void hex(char *dst, const uint8_t *src, uint32_t n)
{
	static const char d[] = "0123456789abcdef";

	for (uint32_t i = 0; i < n; i++) {
		dst[2 * i] = d[src[i] >> 4];
		dst[2 * i + 1] = d[src[i] & 15];
	}
	dst[2 * n] = '\0';
}

static json_t *rec_json(const struct xgw_dataplane *dp, const struct xgw_tap *t,
			const struct xgw_tap_rec *r)
{
	static char buf[2 * XGW_TAP_DATA + 1];

	const char *dpath = r->kernel ? "kernel" : "user";

	if (t->mode == XGW_TAP_TRACE)
		return json_pack("{s:i,s:s,s:s%}", "worker", r->worker, "datapath", dpath, "text",
				 (const char *)r->data, (size_t)r->len);
	hex(buf, r->data, r->len);
	return json_pack("{s:i,s:s,s:s,s:s,s:I,s:i,s:s}", "worker", r->worker, "datapath", dpath,
			 "port", r->port < dp->n_ports ? dp->ports[r->port].name : "?", "dir",
			 r->dir == XGW_TAP_DIR_RX ? "rx" : "tx", "ts_ns", (json_int_t)r->ts_ns,
			 "wirelen", (int)r->wirelen, "data", buf);
}

static json_t *drain(struct xgw_dataplane *dp, struct xgw_tap *t, unsigned max)
{
	xgw_tap_kdp_take(dp, t);
	json_t *recs = json_array();
	uint64_t tail = atomic_load_explicit(&t->tail, memory_order_relaxed);
	uint64_t claimed = atomic_load_explicit(&t->claimed, memory_order_acquire);

	while (tail < claimed && max--) {
		struct xgw_tap_rec *r = &t->ring[tail % XGW_TAP_RING];

		if (!atomic_load_explicit(&r->ready, memory_order_acquire))
			break; /* claimed, still being written */
		json_array_append_new(recs, rec_json(dp, t, r));
		atomic_store_explicit(&r->ready, 0, memory_order_relaxed);
		atomic_store_explicit(&t->tail, ++tail, memory_order_release);
	}
	bool expired = clock_ns(CLOCK_MONOTONIC_COARSE) > t->deadline_ns;
	return json_pack("{s:s,s:I,s:I,s:I,s:b,s:b,s:s,s:o}", "mode",
			 t->mode == XGW_TAP_TRACE ? "trace" : "capture", "taken",
			 (json_int_t)claimed, "count", (json_int_t)t->count, "overrun",
			 (json_int_t)atomic_load(&t->overrun), "done",
			 (claimed >= t->count && tail == claimed) || expired, "expired", expired,
			 "filter", t->filter_text, "records", recs);
}

static struct xgw_tap *session(struct xgw_dataplane *dp, enum xgw_tap_mode mode, char *err,
			       size_t errlen)
{
	struct xgw_tap *t = dp->tap; /* only this thread writes it */

	if (!t || t->mode != mode) {
		snprintf(err, errlen, "no %s running", mode == XGW_TAP_TRACE ? "trace" : "capture");
		return NULL;
	}
	return t;
}

json_t *xgw_tap_read(struct xgw_dataplane *dp, enum xgw_tap_mode mode, unsigned max, char *err,
		     size_t errlen)
{
	struct xgw_tap *t = session(dp, mode, err, errlen);

	return t ? drain(dp, t, max) : NULL;
}

json_t *xgw_tap_stop(struct xgw_dataplane *dp, enum xgw_tap_mode mode, char *err, size_t errlen)
{
	struct xgw_tap *t = session(dp, mode, err, errlen);
	json_t *j;

	if (!t)
		return NULL;
	unpublish(dp);
	j = drain(dp, t, XGW_TAP_RING);
	tap_free(t);
	return j;
}

void xgw_tap_free(struct xgw_dataplane *dp)
{
	tap_free(__atomic_exchange_n(&dp->tap, NULL, __ATOMIC_ACQ_REL));
}
