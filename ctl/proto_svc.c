/* SPDX-License-Identifier: BSD-3-Clause */
/* service.list and backend.list with their counters: the configured
 * services (the control socket's view) joined with the data plane's
 * per-service counters (the "services" of the stats callback). */
#include <stdio.h>
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

/* The counters of a service or backend: everything but its key and its
 * backends, by reference (a deep copy that then dropped the backends was
 * most of a 10,000-service list). */
static json_t *counters(json_t *s)
{
	static const char *const skip[] = {"vip", "ip", "port", "proto", "backends"};
	json_t *o = json_object(), *v;
	const char *k;

	json_object_foreach(s, k, v)
	{
		bool keep = true;

		for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]) && keep; i++)
			keep = strcmp(k, skip[i]) != 0;
		if (keep)
			json_object_set(o, k, v);
	}
	return o;
}

/* The key that joins a service object with its stats entry. */
static const char *svc_key(json_t *s, char *buf, size_t len)
{
	const char *vip = json_string_value(json_object_get(s, "vip"));
	const char *proto = json_string_value(json_object_get(s, "proto"));

	snprintf(buf, len, "%s|%lld|%s", vip ? vip : "",
		 (long long)json_integer_value(json_object_get(s, "port")), proto ? proto : "");
	return buf;
}

/* stats' entries by service key, built once per list: a search of the
 * whole array per service made a list of 10,000 services quadratic
 * (24 G instructions, 5-7 s). */
static json_t *stats_index(json_t *stats)
{
	json_t *idx = json_object(), *s;
	char k[160];
	size_t i;

	json_array_foreach(stats, i, s) json_object_set(idx, svc_key(s, k, sizeof(k)), s);
	return idx;
}

/* Adds "stats" to the service sj (a service object as in the config) and
 * to each of its backends, from its entry in the stats index (both
 * datapaths' services have one). */
static void attach(json_t *sj, json_t *idx)
{
	char k[160];
	json_t *s = json_object_get(idx, svc_key(sj, k, sizeof(k))), *b, *sb;
	size_t j;

	if (!s)
		return;
	json_object_set_new(sj, "stats", counters(s));
	json_array_foreach(json_object_get(sj, "backends"), j, b)
	{
		size_t m;
		json_array_foreach(json_object_get(s, "backends"), m, sb)
		{
			if (same(sb, b, "ip") && same(sb, b, "port")) {
				json_object_set_new(b, "stats", counters(sb));
				break;
			}
		}
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
	json_t *idx = stats ? stats_index(stats) : NULL;

	/* limit: the first N services (0: all) */
	unsigned n = limit && limit < cfg->n_services ? limit : cfg->n_services;

	for (unsigned i = 0; i < n; i++) {
		json_t *sj, *b;
		size_t j;

		if (only >= 0 && (unsigned)only != i)
			continue;
		sj = xgw_service_to_json(&cfg->services[i]);
		if (idx)
			attach(sj, idx);
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
	json_decref(idx);
	json_decref(stats);
	return a;
}
