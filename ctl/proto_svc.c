/* SPDX-License-Identifier: BSD-3-Clause */
/* service.list and backend.list with their counters: the configured
 * services (the control socket's view) joined with the data plane's
 * per-service counters (the svc_counters hook), written as JSON text.
 *
 * At 10,000 services x 4 backends the list is about 9.6 MB and 800,000
 * values.  Built as jansson objects (with the counters read through the
 * stats JSON and joined by key) it took 1.8 G instructions and 1-2.6 s;
 * as text from the config and the counters as numbers, a few hundred
 * instructions per backend. */
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/jtext.h"
#include "ctl/proto.h"

/* Services whose counters are read at once: bounds the scratch arrays and
 * the data plane's time online (RCU) per read. */
#define CHUNK 256

/* An address as xgw_addr_str writes it; IPv4 by hand (inet_ntop goes
 * through sprintf: 40% of a 10,000-service list). */
static void put_addr(struct xgw_jtext *t, const struct xgw_addr *a)
{
	char b[XGW_ADDR_STRLEN], *o = b;

	if (a->family != AF_INET) {
		xgw_jt_str(t, xgw_addr_str(a, b, sizeof(b)));
		return;
	}
	*o++ = '"';
	for (int i = 0; i < 4; i++) {
		unsigned v = a->b[i];

		if (v >= 100)
			*o++ = (char)('0' + v / 100);
		if (v >= 10)
			*o++ = (char)('0' + v / 10 % 10);
		*o++ = (char)('0' + v % 10);
		*o++ = i < 3 ? '.' : '"';
	}
	xgw_jt_raw(t, b, (size_t)(o - b));
}

/* Counters are JSON integers (signed 64 bits): as jansson wrote them. */
static void put_int(struct xgw_jtext *t, uint64_t v)
{
	int64_t s = (int64_t)v;

	if (s < 0) {
		xgw_jt_lit(t, "-");
		xgw_jt_u64(t, (uint64_t)0 - v);
	} else {
		xgw_jt_u64(t, v);
	}
}

static void put_ctr(struct xgw_jtext *t, const struct xgw_ctl_ctr *c)
{
	xgw_jt_lit(t, "{\"pkts_in\":");
	put_int(t, c->pkts_in);
	xgw_jt_lit(t, ",\"bytes_in\":");
	put_int(t, c->bytes_in);
	xgw_jt_lit(t, ",\"pkts_out\":");
	put_int(t, c->pkts_out);
	xgw_jt_lit(t, ",\"bytes_out\":");
	put_int(t, c->bytes_out);
	xgw_jt_lit(t, ",\"conns_new\":");
	put_int(t, c->conns_new);
	xgw_jt_lit(t, ",\"conns_active\":");
	put_int(t, c->conns_active);
}

/* A service's "stats": its totals, the datapath serving it, its drops. */
static void put_svc_stats(struct xgw_jtext *t, const struct xgw_ctl_svc_ctr *sc)
{
	bool first = true;

	put_ctr(t, &sc->tot);
	if (sc->kernel)
		xgw_jt_lit(t, ",\"datapath\":\"kernel\"");
	else
		xgw_jt_lit(t, ",\"datapath\":\"user\"");
	xgw_jt_lit(t, ",\"drops_total\":");
	put_int(t, sc->tot.drops);
	xgw_jt_lit(t, ",\"drops\":{");
	for (unsigned r = 1; r < XGW_DROP__MAX; r++) {
		if (!sc->drops[r])
			continue;
		if (!first)
			xgw_jt_lit(t, ",");
		first = false;
		xgw_jt_str(t, xgw_drop_name(r));
		xgw_jt_lit(t, ":");
		put_int(t, sc->drops[r]);
	}
	xgw_jt_lit(t, "}}");
}

/* One backend as xgw_backend_to_json has it, then its "stats" (when the
 * data plane counts it) and "health"; the object is left open. */
static void put_backend(struct xgw_ctl *c, struct xgw_jtext *t, const struct xgw_service_cfg *s,
			unsigned j, const struct xgw_ctl_svc_ctr *sc)
{
	const struct xgw_backend_cfg *b = &s->backends[j];
	json_t *h = NULL;

	xgw_jt_lit(t, "{\"ip\":");
	put_addr(t, &b->ip);
	xgw_jt_lit(t, ",\"port\":");
	xgw_jt_u64(t, b->port);
	xgw_jt_lit(t, ",\"weight\":");
	xgw_jt_u64(t, b->weight);
	if (b->tun != XGW_TUN_NONE) {
		/* Rare: the config writer's own object. */
		json_t *o = xgw_backend_to_json(b);

		xgw_jt_lit(t, ",\"tunnel\":");
		if (o)
			xgw_jt_json(t, json_object_get(o, "tunnel"));
		else
			t->oom = true;
		json_decref(o);
	}
	if (sc && sc->found && sc->be_found[j]) {
		xgw_jt_lit(t, ",\"stats\":");
		put_ctr(t, &sc->be[j]);
		xgw_jt_lit(t, ",\"drops\":");
		put_int(t, sc->be[j].drops);
		xgw_jt_lit(t, "}");
	}
	/* Only a checked service's backends have a health state (the
	 * checker holds no other): no lookup for the rest. */
	if (s->check.type != XGW_CHECK_NONE && c->ops.health)
		h = c->ops.health(c->ctx, s, b);
	xgw_jt_lit(t, ",\"health\":");
	if (h)
		xgw_jt_json(t, h);
	else
		xgw_jt_lit(t, "{\"state\":\"unchecked\"}");
	json_decref(h);
}

/* The key fields of a service, without the braces. */
static void put_key(struct xgw_jtext *t, const struct xgw_service_cfg *s)
{
	xgw_jt_lit(t, "\"vip\":");
	put_addr(t, &s->vip);
	xgw_jt_lit(t, ",\"port\":");
	xgw_jt_u64(t, s->port);
	xgw_jt_lit(t, ",\"proto\":");
	xgw_jt_str(t, xgw_proto_name(s->proto));
}

/* A service as xgw_service_to_json has it, its backends with their
 * counters and health, then its own "stats". */
static void put_service(struct xgw_ctl *c, struct xgw_jtext *t, const struct xgw_service_cfg *s,
			const struct xgw_ctl_svc_ctr *sc)
{
	xgw_jt_lit(t, "{");
	put_key(t, s);
	xgw_jt_lit(t, ",\"datapath\":");
	xgw_jt_str(t, xgw_datapath_name(s->datapath));
	xgw_jt_lit(t, ",\"algorithm\":");
	xgw_jt_str(t, xgw_algo_name(s->algo));
	if (s->snat)
		xgw_jt_lit(t, ",\"snat\":true");
	else
		xgw_jt_lit(t, ",\"snat\":false");
	if (s->maglev_size) {
		xgw_jt_lit(t, ",\"maglev_size\":");
		xgw_jt_u64(t, s->maglev_size);
	}
	if (s->check.type != XGW_CHECK_NONE) {
		json_t *k = xgw_check_to_json(&s->check);

		xgw_jt_lit(t, ",\"check\":");
		if (k)
			xgw_jt_json(t, k);
		else
			t->oom = true;
		json_decref(k);
	}
	xgw_jt_lit(t, ",\"backends\":[");
	for (unsigned j = 0; j < s->n_backends; j++) {
		if (j)
			xgw_jt_lit(t, ",");
		put_backend(c, t, s, j, sc);
		xgw_jt_lit(t, "}");
	}
	xgw_jt_lit(t, "]");
	if (sc && sc->found) {
		xgw_jt_lit(t, ",\"stats\":");
		put_svc_stats(t, sc);
	}
	xgw_jt_lit(t, "}");
}

/* backend.list's entries of one service: each backend naming it. */
static void put_backends(struct xgw_ctl *c, struct xgw_jtext *t, const struct xgw_service_cfg *s,
			 const struct xgw_ctl_svc_ctr *sc, bool *first)
{
	for (unsigned j = 0; j < s->n_backends; j++) {
		if (!*first)
			xgw_jt_lit(t, ",");
		*first = false;
		put_backend(c, t, s, j, sc);
		xgw_jt_lit(t, ",\"service\":{");
		put_key(t, s);
		xgw_jt_lit(t, "}}");
	}
}

/* The counters of svcs[0..n) into sc (scratch arrays from be, bf). */
static bool read_counters(struct xgw_ctl *c, const struct xgw_service_cfg *svcs, unsigned n,
			  struct xgw_ctl_svc_ctr *sc, struct xgw_ctl_ctr **be, bool **bf,
			  size_t *be_cap)
{
	size_t nb = 0, off = 0;

	for (unsigned i = 0; i < n; i++)
		nb += svcs[i].n_backends;
	if (nb > *be_cap || !*be) {
		size_t cap = nb > 64 ? nb : 64;
		struct xgw_ctl_ctr *nbe = realloc(*be, cap * sizeof(**be));

		if (nbe)
			*be = nbe;
		bool *nbf = nbe ? realloc(*bf, cap * sizeof(**bf)) : NULL;
		if (!nbe || !nbf)
			return false;
		*bf = nbf;
		*be_cap = cap;
	}
	memset(*be, 0, nb * sizeof(**be));
	memset(*bf, 0, nb * sizeof(**bf));
	for (unsigned i = 0; i < n; i++) {
		memset(&sc[i], 0, sizeof(sc[i]));
		sc[i].be = *be + off;
		sc[i].be_found = *bf + off;
		off += svcs[i].n_backends;
	}
	c->ops.svc_counters(c->ctx, svcs, n, sc);
	return true;
}

int xgw_ctl_svc_list(struct xgw_ctl *c, const struct xgw_config *cfg, int only, bool backends,
		     unsigned limit)
{
	struct xgw_jtext t = {0};
	struct xgw_ctl_svc_ctr *sc = NULL;
	struct xgw_ctl_ctr *be = NULL;
	bool *bf = NULL, first = true;
	size_t be_cap = 0;
	/* limit: the first N services (0: all); only: that one alone */
	unsigned from = 0, to = limit && limit < cfg->n_services ? limit : cfg->n_services;

	if (only >= 0) {
		from = (unsigned)only;
		to = (unsigned)only < cfg->n_services ? (unsigned)only + 1 : from;
	}
	if (c->ops.svc_counters && !(sc = calloc(CHUNK, sizeof(*sc))))
		return -ENOMEM;
	/* The estimate from the last list, a little over (the counters grow). */
	xgw_jt_reserve(&t, c->list_hint + c->list_hint / 16);
	xgw_ctl_raw_begin(&t);
	xgw_jt_lit(&t, "[");
	for (unsigned i = from; i < to && !t.oom; i += CHUNK) {
		unsigned n = to - i < CHUNK ? to - i : CHUNK;

		if (sc && !read_counters(c, &cfg->services[i], n, sc, &be, &bf, &be_cap)) {
			t.oom = true;
			break;
		}
		for (unsigned k = 0; k < n; k++) {
			const struct xgw_service_cfg *s = &cfg->services[i + k];

			if (backends) {
				put_backends(c, &t, s, sc ? &sc[k] : NULL, &first);
				continue;
			}
			if (!first)
				xgw_jt_lit(&t, ",");
			first = false;
			put_service(c, &t, s, sc ? &sc[k] : NULL);
		}
	}
	xgw_jt_lit(&t, "]");
	free(sc);
	free(be);
	free(bf);
	if (only < 0 && !limit)
		c->list_hint = t.len;
	return xgw_ctl_raw_end(c, &t);
}
