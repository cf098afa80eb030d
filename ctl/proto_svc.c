/* SPDX-License-Identifier: BSD-3-Clause */
/* service.list and backend.list with their counters: the configured
 * services (the control socket's view) joined with the data plane's
 * per-service counters (the "services" of the stats callback). */
#include <string.h>

#include "ctl/proto.h"

/* The stats callback's "services" (a new reference), or NULL. */
static json_t *svc_stats(struct xgw_ctl *c)
{
	json_t *st, *svcs;

	if (!c->ops.stats || !(st = c->ops.stats(c->ctx)))
		return NULL;
	svcs = json_incref(json_object_get(st, "services"));
	json_decref(st);
	return svcs;
}

static bool same(json_t *a, json_t *b, const char *key)
{
	return json_equal(json_object_get(a, key), json_object_get(b, key));
}

/* The counters of a service or backend: everything but its key and
 * its backends. */
static json_t *counters(json_t *s)
{
	json_t *o = json_deep_copy(s);

	json_object_del(o, "vip");
	json_object_del(o, "ip");
	json_object_del(o, "port");
	json_object_del(o, "proto");
	json_object_del(o, "backends");
	return o;
}

/* Adds "stats" to the service sj (a service object as in the config) and
 * to each of its backends, from stats' entry with the same key (both
 * datapaths' services have one). */
static void attach(json_t *sj, json_t *stats)
{
	size_t i, j;
	json_t *s, *b, *sb;

	json_array_foreach(stats, i, s)
	{
		if (!same(s, sj, "vip") || !same(s, sj, "port") || !same(s, sj, "proto"))
			continue;
		json_object_set_new(sj, "stats", counters(s));
		json_array_foreach(json_object_get(sj, "backends"), j, b)
		{
			size_t k;
			json_array_foreach(json_object_get(s, "backends"), k, sb)
			{
				if (same(sb, b, "ip") && same(sb, b, "port")) {
					json_object_set_new(b, "stats", counters(sb));
					break;
				}
			}
		}
		return;
	}
}

/* Each backend's health as its checks see it (the backends of sj are the
 * config's, in order), or "unchecked". */
static void add_health(struct xgw_ctl *c, const struct xgw_service_cfg *s, json_t *sj)
{
	json_t *bs = json_object_get(sj, "backends");

	for (unsigned j = 0; j < s->n_backends && j < json_array_size(bs); j++) {
		json_t *h = c->ops.health ? c->ops.health(c->ctx, s, &s->backends[j]) : NULL;

		if (!h)
			h = json_pack("{s:s}", "state", "unchecked");
		json_object_set_new(json_array_get(bs, j), "health", h);
	}
}

json_t *xgw_ctl_svc_list(struct xgw_ctl *c, const struct xgw_config *cfg, int only, bool backends,
			 unsigned limit)
{
	json_t *a = json_array(), *stats = svc_stats(c);

	/* limit: the first N services (0: all) */
	unsigned n = limit && limit < cfg->n_services ? limit : cfg->n_services;

	for (unsigned i = 0; i < n; i++) {
		json_t *sj, *b;
		size_t j;

		if (only >= 0 && (unsigned)only != i)
			continue;
		sj = xgw_service_to_json(&cfg->services[i]);
		if (stats)
			attach(sj, stats);
		add_health(c, &cfg->services[i], sj);
		if (!backends) {
			json_array_append_new(a, sj);
			continue;
		}
		json_array_foreach(json_object_get(sj, "backends"), j, b)
		{
			json_object_set_new(b, "service",
					    json_pack("{s:O,s:O,s:O}", "vip",
						      json_object_get(sj, "vip"), "port",
						      json_object_get(sj, "port"), "proto",
						      json_object_get(sj, "proto")));
			json_array_append(a, b);
		}
		json_decref(sj);
	}
	json_decref(stats);
	return a;
}
