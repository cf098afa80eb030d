/* SPDX-License-Identifier: BSD-3-Clause */
/* The command table of the control socket and its handlers.  Objects are
 * parsed by the config loaders (ctl/config.h), so the socket and the config
 * file accept exactly the same schema; handlers only look objects up, check
 * for duplicates and edit the arrays of the config copy they are given. */
#include "ctl/proto.h"

#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XGW_DEFAULT_CT_LIMIT 1000
/* route.list without a limit: a full Internet table is a million routes,
 * about 100 MB of JSON. */
#define XGW_DEFAULT_ROUTE_LIMIT 10000

/* ---- helpers ---------------------------------------------------------- */

struct svc_key {
	struct xgw_addr vip;
	uint16_t port;
	uint8_t proto;
};

static const char *key_str(const struct svc_key *k, char *buf, size_t len)
{
	return xgw_service_key_str(&k->vip, k->port, k->proto, buf, len);
}

static int get_port(json_t *v, const char *where, uint16_t *port, char *err, size_t errlen)
{
	json_int_t n = json_integer_value(v);

	if (n < 1 || n > 65535) {
		snprintf(err, errlen, "%s: expected an integer between 1 and 65535, got %lld",
			 where, (long long)n);
		return -EINVAL;
	}
	*port = (uint16_t)n;
	return 0;
}

static int get_id(json_t *v, const char *where, uint32_t *id, char *err, size_t errlen)
{
	json_int_t n = json_integer_value(v);

	if (n < 1 || n > UINT32_MAX) {
		snprintf(err, errlen, "%s: expected an integer >= 1, got %lld", where,
			 (long long)n);
		return -EINVAL;
	}
	*id = (uint32_t)n;
	return 0;
}

/* args.limit of the list commands: *limit stays at its default when absent;
 * 0 = all. */
static int get_limit(json_t *args, const char *cmd, unsigned *limit, char *err, size_t errlen)
{
	json_t *v = json_object_get(args, "limit");
	json_int_t n;

	if (!v)
		return 0;
	n = json_integer_value(v);
	if (n < 0 || n > UINT32_MAX) {
		snprintf(err, errlen,
			 "%s: args.limit: expected an integer >= 0 (0 = all), got %lld", cmd,
			 (long long)n);
		return -EINVAL;
	}
	*limit = (unsigned)n;
	return 0;
}

static int get_addr(json_t *v, const char *where, struct xgw_addr *a, char *err, size_t errlen)
{
	if (xgw_addr_parse(a, json_string_value(v))) {
		snprintf(err, errlen, "%s: \"%s\" is not an IPv4 or IPv6 address", where,
			 json_string_value(v));
		return -EINVAL;
	}
	return 0;
}

/* {vip, port, proto} naming a service. */
static int svc_key_from_json(json_t *o, const char *where, struct svc_key *k, char *err,
			     size_t errlen)
{
	static const struct xgw_ctl_arg schema[] = {
	    {"vip", ARG_STR, true},
	    {"port", ARG_INT, true},
	    {"proto", ARG_STR, true},
	    {NULL, 0, false},
	};
	char w[96];
	const char *proto;
	int ret;

	ret = xgw_ctl_check_obj(o, where, schema, err, errlen);
	if (ret)
		return ret;
	snprintf(w, sizeof(w), "%s.vip", where);
	ret = get_addr(json_object_get(o, "vip"), w, &k->vip, err, errlen);
	if (ret)
		return ret;
	snprintf(w, sizeof(w), "%s.port", where);
	ret = get_port(json_object_get(o, "port"), w, &k->port, err, errlen);
	if (ret)
		return ret;
	proto = json_string_value(json_object_get(o, "proto"));
	if (!strcmp(proto, "tcp")) {
		k->proto = IPPROTO_TCP;
	} else if (!strcmp(proto, "udp")) {
		k->proto = IPPROTO_UDP;
	} else {
		snprintf(err, errlen, "%s.proto: \"%s\" is not \"tcp\" or \"udp\"", where, proto);
		return -EINVAL;
	}
	return 0;
}

static int find_service(struct xgw_ctl *c, const struct xgw_config *cfg, const struct svc_key *k)
{
	return xgw_ctl_find_service(c, cfg, &k->vip, k->port, k->proto);
}

static int find_backend(const struct xgw_service_cfg *s, const struct xgw_addr *ip, uint16_t port)
{
	for (unsigned i = 0; i < s->n_backends; i++)
		if (s->backends[i].port == port && xgw_addr_eq(&s->backends[i].ip, ip))
			return (int)i;
	return -1;
}

/* Make room for one more element at the end of *arr; the config owns its
 * arrays with malloc, so realloc keeps xgw_config_free valid. */
static int grow(void *arrp, unsigned n, size_t size)
{
	void **arr = arrp;
	void *p = realloc(*arr, (n + 1) * size);

	if (!p)
		return -ENOMEM;
	*arr = p;
	return 0;
}

/* Room for one more service, with some to spare: the array is the next
 * write's too (ctl/proto.c copies a write's changes into it). */
static int grow_services(struct xgw_config *cfg)
{
	size_t sz = sizeof(*cfg->services), n = cfg->n_services;
	void *p;

	if (cfg->services && malloc_usable_size(cfg->services) / sz > n)
		return 0;
	p = realloc(cfg->services, (n + n / 8 + 16) * sz);
	if (!p)
		return -ENOMEM;
	cfg->services = p;
	return 0;
}

static void remove_at(void *arr, unsigned *n, unsigned i, size_t size)
{
	char *a = arr;

	memmove(a + i * size, a + (i + 1) * size, (*n - i - 1) * size);
	(*n)--;
}

/* Ids the loaders accept (they refuse larger ones in a file). */
#define ID_MAX INT32_MAX

/* Explicit ids must be free; absent ones come from *next.  Ids are never
 * reused while the daemon runs, so a stale `policy del ID` cannot hit a
 * newer rule. */
static int take_id(uint32_t *id, const uint32_t *first, size_t stride, unsigned n, uint32_t *next,
		   const char *where, char *err, size_t errlen)
{
	for (unsigned i = 0; *id && i < n; i++) {
		if (*(const uint32_t *)((const char *)first + i * stride) == *id) {
			snprintf(err, errlen, "%s.id: id %u is already taken", where, *id);
			return -EEXIST;
		}
	}
	if (!*id) {
		if (*next > ID_MAX || *next == 0) {
			snprintf(err, errlen, "%s: no id left to assign", where);
			return -ENOSPC;
		}
		*id = *next;
	}
	if (*id >= *next)
		*next = *id + 1;
	return 0;
}

/* ---- services and backends -------------------------------------------- */

static int cmd_service_add(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
			   char *err, size_t errlen)
{
	struct xgw_service_cfg s;
	struct svc_key k;
	char ks[XGW_KEY_STRLEN];
	int ret;

	memset(&s, 0, sizeof(s));
	ret = xgw_service_from_json(&s, args, "service.add: args", err, errlen);
	if (ret)
		return ret;
	k = (struct svc_key){.vip = s.vip, .port = s.port, .proto = s.proto};
	if (find_service(c, cfg, &k) >= 0) {
		snprintf(err, errlen, "service.add: service %s already exists",
			 key_str(&k, ks, sizeof(ks)));
		ret = -EEXIST;
		goto fail;
	}
	ret = grow_services(cfg);
	if (ret)
		goto fail;
	cfg->services[cfg->n_services++] = s;
	*result = xgw_service_to_json(&s);
	return 0;
fail:
	xgw_service_free(&s);
	return ret;
}

static int cmd_service_del(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
			   char *err, size_t errlen)
{
	struct svc_key k;
	char ks[XGW_KEY_STRLEN];
	int i, ret;

	ret = svc_key_from_json(args, "service.del: args", &k, err, errlen);
	if (ret)
		return ret;
	i = find_service(c, cfg, &k);
	if (i < 0) {
		snprintf(err, errlen, "service.del: no service %s", key_str(&k, ks, sizeof(ks)));
		return -ENOENT;
	}
	xgw_ctl_removed(c, cfg, (unsigned)i); /* the services after it move */
	ret = xgw_ctl_drop_service(c, &cfg->services[i]);
	if (ret)
		return ret;
	remove_at(cfg->services, &cfg->n_services, (unsigned)i, sizeof(cfg->services[0]));
	return 0;
}

/* Move a running service to the other datapath in one config change: its
 * backends and Maglev table stay, so established flows are picked up
 * mid-stream on the same backend by the new datapath (README). */
static int cmd_service_move(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args,
			    json_t **result, char *err, size_t errlen)
{
	json_t *key = json_deep_copy(args), *dpj = json_object_get(args, "datapath");
	const char *dp = json_string_value(dpj);
	struct svc_key k;
	char ks[XGW_KEY_STRLEN];
	int i, ret;

	if (!dp || (strcmp(dp, "user") && strcmp(dp, "kernel"))) {
		json_decref(key);
		snprintf(err, errlen,
			 "service.move: args.datapath: expected \"user\" or \"kernel\"");
		return -EINVAL;
	}
	json_object_del(key, "datapath");
	ret = svc_key_from_json(key, "service.move: args", &k, err, errlen);
	json_decref(key);
	if (ret)
		return ret;
	i = find_service(c, cfg, &k);
	if (i < 0) {
		snprintf(err, errlen, "service.move: no service %s", key_str(&k, ks, sizeof(ks)));
		return -ENOENT;
	}
	cfg->services[i].datapath = strcmp(dp, "kernel") ? XGW_DP_USER : XGW_DP_KERNEL;
	xgw_ctl_touch(c, cfg, &cfg->services[i]);
	*result = xgw_service_to_json(&cfg->services[i]);
	return 0;
}

/* A backend's config object with its health: the checker's view, or
 * "unchecked" for a service without checks. */
static json_t *backend_view(struct xgw_ctl *c, const struct xgw_service_cfg *s,
			    const struct xgw_backend_cfg *b)
{
	json_t *o = xgw_backend_to_json(b), *h = NULL;

	if (!o)
		return NULL;
	if (c->ops.health)
		h = c->ops.health(c->ctx, s, b);
	if (!h)
		h = json_pack("{s:s}", "state", "unchecked");
	json_object_set_new(o, "health", h);
	return o;
}

static json_t *service_view(struct xgw_ctl *c, const struct xgw_service_cfg *s)
{
	json_t *o = xgw_service_to_json(s), *arr = json_array();

	for (unsigned i = 0; arr && i < s->n_backends; i++)
		json_array_append_new(arr, backend_view(c, s, &s->backends[i]));
	if (o)
		json_object_set_new(o, "backends", arr);
	else
		json_decref(arr);
	return o;
}

static int cmd_service_list(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args,
			    json_t **result, char *err, size_t errlen)
{
	unsigned limit = 0;

	if (get_limit(args, "service.list", &limit, err, errlen))
		return -EINVAL;
	return xgw_ctl_svc_list(c, cfg, -1, false, limit);
}

/* Set or replace a service's health check in place ({"type": "none"}
 * removes it); the backends keep their health state where the check is
 * unchanged. */
static int cmd_service_check(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args,
			     json_t **result, char *err, size_t errlen)
{
	json_t *key = json_deep_copy(args), *svc;
	struct xgw_service_cfg *s, tmp;
	struct svc_key k;
	char ks[XGW_KEY_STRLEN];
	int ret, i;

	json_object_del(key, "check");
	ret = svc_key_from_json(key, "service.check: args", &k, err, errlen);
	json_decref(key);
	if (ret)
		return ret;
	i = find_service(c, cfg, &k);
	if (i < 0) {
		snprintf(err, errlen, "service.check: no service %s", key_str(&k, ks, sizeof(ks)));
		return -ENOENT;
	}
	s = &cfg->services[i];
	/* The check object read by the service reader, on the service's own
	 * key: the same keys, defaults and errors as in the config file. */
	svc = json_pack("{s:O, s:i, s:s, s:O}", "vip", json_object_get(args, "vip"), "port",
			(int)s->port, "proto", xgw_proto_name(s->proto), "check",
			json_object_get(args, "check"));
	ret = svc ? xgw_service_from_json(&tmp, svc, "service.check: args", err, errlen) : -ENOMEM;
	json_decref(svc);
	if (ret)
		return ret;
	s->check = tmp.check;
	xgw_service_free(&tmp);
	xgw_ctl_touch(c, cfg, s);
	*result = service_view(c, s);
	return 0;
}

/* Finds the service named by args.service for the backend commands. */
static int backend_service(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, const char *cmd,
			   struct xgw_service_cfg **out, char *err, size_t errlen)
{
	struct svc_key k;
	char w[64], ks[96];
	int i, ret;

	snprintf(w, sizeof(w), "%s: args.service", cmd);
	ret = svc_key_from_json(json_object_get(args, "service"), w, &k, err, errlen);
	if (ret)
		return ret;
	i = find_service(c, cfg, &k);
	if (i < 0) {
		snprintf(err, errlen, "%s: no service %s", w, key_str(&k, ks, sizeof(ks)));
		return -ENOENT;
	}
	*out = &cfg->services[i];
	return 0;
}

static int cmd_backend_list(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args,
			    json_t **result, char *err, size_t errlen)
{
	struct xgw_service_cfg *s = NULL;

	if (json_object_get(args, "service")) {
		int ret = backend_service(c, cfg, args, "backend.list", &s, err, errlen);
		if (ret)
			return ret;
	}
	return xgw_ctl_svc_list(c, cfg, s ? (int)(s - cfg->services) : -1, true, 0);
}

static int cmd_backend_add(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
			   char *err, size_t errlen)
{
	struct xgw_service_cfg *s;
	struct xgw_backend_cfg b;
	int ret;

	ret = backend_service(c, cfg, args, "backend.add", &s, err, errlen);
	if (ret)
		return ret;
	memset(&b, 0, sizeof(b));
	ret = xgw_backend_from_json(&b, json_object_get(args, "backend"),
				    "backend.add: args.backend", err, errlen);
	if (ret)
		return ret;
	/* Same family as the vip, not already there. */
	ret = xgw_service_check_backend(s, &b, "backend.add: args.backend", err, errlen);
	if (ret)
		return ret;
	ret = xgw_ctl_own_backends(c, s);
	if (!ret)
		ret = grow(&s->backends, s->n_backends, sizeof(b));
	if (ret)
		return ret;
	s->backends[s->n_backends++] = b;
	xgw_ctl_touch(c, cfg, s);
	*result = xgw_backend_to_json(&b);
	return 0;
}

/* The backend args.backend names ({"ip","port"} and the keys of schema)
 * in the service args.service names: *sp and its index, or -ENOENT. */
static int backend_lookup(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, const char *cmd,
			  const struct xgw_ctl_arg *schema, struct xgw_service_cfg **sp, int *idx,
			  char *err, size_t errlen)
{
	json_t *bj = json_object_get(args, "backend");
	struct xgw_service_cfg *s;
	struct xgw_addr ip;
	uint16_t port;
	char w[64], wk[80], ep[XGW_KEY_STRLEN], ks[XGW_KEY_STRLEN];
	int i, ret;

	ret = backend_service(c, cfg, args, cmd, &s, err, errlen);
	if (ret)
		return ret;
	snprintf(w, sizeof(w), "%s: args.backend", cmd);
	ret = xgw_ctl_check_obj(bj, w, schema, err, errlen);
	if (ret)
		return ret;
	snprintf(wk, sizeof(wk), "%s.ip", w);
	ret = get_addr(json_object_get(bj, "ip"), wk, &ip, err, errlen);
	if (ret)
		return ret;
	snprintf(wk, sizeof(wk), "%s.port", w);
	ret = get_port(json_object_get(bj, "port"), wk, &port, err, errlen);
	if (ret)
		return ret;
	i = find_backend(s, &ip, port);
	if (i < 0) {
		struct svc_key k = {.vip = s->vip, .port = s->port, .proto = s->proto};

		snprintf(err, errlen, "%s: no backend %s in service %s", w,
			 xgw_endpoint_str(&ip, port, ep, sizeof(ep)), key_str(&k, ks, sizeof(ks)));
		return -ENOENT;
	}
	*sp = s;
	*idx = i;
	return 0;
}

static int cmd_backend_del(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
			   char *err, size_t errlen)
{
	static const struct xgw_ctl_arg schema[] = {
	    {"ip", ARG_STR, true},
	    {"port", ARG_INT, true},
	    {NULL, 0, false},
	};
	struct xgw_service_cfg *s;
	int i, ret;

	ret = backend_lookup(c, cfg, args, "backend.del", schema, &s, &i, err, errlen);
	if (!ret)
		ret = xgw_ctl_own_backends(c, s);
	if (ret)
		return ret;
	remove_at(s->backends, &s->n_backends, (unsigned)i, sizeof(s->backends[0]));
	xgw_ctl_touch(c, cfg, s);
	return 0;
}

/* A weight changed in place: the backend keeps its identity, so Maglev
 * moves only the slots the new weight gives or takes; 0 drains it
 * (established connections stay, new ones go elsewhere). */
static int cmd_backend_set(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
			   char *err, size_t errlen)
{
	static const struct xgw_ctl_arg schema[] = {
	    {"ip", ARG_STR, true},
	    {"port", ARG_INT, true},
	    {"weight", ARG_INT, true},
	    {NULL, 0, false},
	};
	json_int_t wt =
	    json_integer_value(json_object_get(json_object_get(args, "backend"), "weight"));
	struct xgw_service_cfg *s;
	int i, ret;

	ret = backend_lookup(c, cfg, args, "backend.set", schema, &s, &i, err, errlen);
	if (ret)
		return ret;
	if (wt < 0 || wt > XGW_MAX_WEIGHT) {
		snprintf(err, errlen, "backend.set: args.backend.weight: expected 0..%u",
			 XGW_MAX_WEIGHT);
		return -EINVAL;
	}
	ret = xgw_ctl_own_backends(c, s);
	if (ret)
		return ret;
	s->backends[i].weight = (uint32_t)wt;
	xgw_ctl_touch(c, cfg, s);
	*result = xgw_backend_to_json(&s->backends[i]);
	return 0;
}

/* ---- policies and steering rules -------------------------------------- */

static int cmd_policy_add(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
			  char *err, size_t errlen)
{
	struct xgw_policy_cfg p;
	int ret;

	ret = xgw_policy_from_json(&p, args, "policy.add: args", err, errlen);
	if (ret)
		return ret;
	ret = take_id(&p.id, cfg->n_policies ? &cfg->policies[0].id : NULL, sizeof(p),
		      cfg->n_policies, &cfg->next_policy_id, "policy.add: args", err, errlen);
	if (ret)
		return ret;
	ret = grow(&cfg->policies, cfg->n_policies, sizeof(p));
	if (ret)
		return ret;
	cfg->policies[cfg->n_policies++] = p;
	*result = xgw_policy_to_json(&p);
	return 0;
}

static int cmd_steer_add(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
			 char *err, size_t errlen)
{
	struct xgw_steer_cfg s;
	int ret;

	ret = xgw_steer_from_json(&s, args, "steer.add: args", err, errlen);
	if (ret)
		return ret;
	ret = take_id(&s.id, cfg->n_steer ? &cfg->steer[0].id : NULL, sizeof(s), cfg->n_steer,
		      &cfg->next_steer_id, "steer.add: args", err, errlen);
	if (ret)
		return ret;
	ret = grow(&cfg->steer, cfg->n_steer, sizeof(s));
	if (ret)
		return ret;
	cfg->steer[cfg->n_steer++] = s;
	*result = xgw_steer_to_json(&s);
	return 0;
}

static int cmd_policy_del(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
			  char *err, size_t errlen)
{
	uint32_t id;
	int ret;

	ret = get_id(json_object_get(args, "id"), "policy.del: args.id", &id, err, errlen);
	if (ret)
		return ret;
	for (unsigned i = 0; i < cfg->n_policies; i++) {
		if (cfg->policies[i].id == id) {
			remove_at(cfg->policies, &cfg->n_policies, i, sizeof(cfg->policies[0]));
			return 0;
		}
	}
	snprintf(err, errlen, "policy.del: args.id: no policy with id %u", id);
	return -ENOENT;
}

static int cmd_steer_del(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
			 char *err, size_t errlen)
{
	uint32_t id;
	int ret;

	ret = get_id(json_object_get(args, "id"), "steer.del: args.id", &id, err, errlen);
	if (ret)
		return ret;
	for (unsigned i = 0; i < cfg->n_steer; i++) {
		if (cfg->steer[i].id == id) {
			remove_at(cfg->steer, &cfg->n_steer, i, sizeof(cfg->steer[0]));
			return 0;
		}
	}
	snprintf(err, errlen, "steer.del: args.id: no steering rule with id %u", id);
	return -ENOENT;
}

static int cmd_policy_list(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
			   char *err, size_t errlen)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < cfg->n_policies; i++)
		json_array_append_new(a, xgw_policy_to_json(&cfg->policies[i]));
	*result = a;
	return 0;
}

static int cmd_steer_list(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
			  char *err, size_t errlen)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < cfg->n_steer; i++)
		json_array_append_new(a, xgw_steer_to_json(&cfg->steer[i]));
	*result = a;
	return 0;
}

static int not_available(const char *cmd, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: not available", cmd);
	return -EOPNOTSUPP;
}

/* The FIB in use (learnt and static) where the daemon serves it; a
 * detached server lists the config's static routes. */
static int cmd_route_list(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
			  char *err, size_t errlen)
{
	unsigned limit = XGW_DEFAULT_ROUTE_LIMIT;
	json_t *a;

	if (get_limit(args, "route.list", &limit, err, errlen))
		return -EINVAL;
	if (c->ops.fib) {
		*result = c->ops.fib(c->ctx, false, limit);
		return *result ? 0 : -ENOMEM;
	}
	a = json_array();
	for (unsigned i = 0; i < cfg->n_routes && (!limit || i < limit); i++) {
		json_t *r = xgw_route_to_json(&cfg->routes[i]);

		json_object_set_new(r, "origin", json_string("static"));
		json_array_append_new(a, r);
	}
	*result = a;
	return 0;
}

static int cmd_route_get(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
			 char *err, size_t errlen)
{
	const char *s = json_string_value(json_object_get(args, "addr"));
	struct xgw_addr a;

	if (!s || xgw_addr_parse(&a, s)) {
		snprintf(err, errlen, "route.get: args.addr: expected an IP address");
		return -EINVAL;
	}
	if (!c->ops.route_get)
		return not_available("route.get", err, errlen);
	*result = c->ops.route_get(c->ctx, &a);
	return *result ? 0 : -ENOMEM;
}

static int cmd_neigh_list(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
			  char *err, size_t errlen)
{
	if (!c->ops.fib)
		return not_available("neigh.list", err, errlen);
	*result = c->ops.fib(c->ctx, true, 0);
	return *result ? 0 : -ENOMEM;
}

/* ---- runtime views ---------------------------------------------------- */

static int cmd_ct_list(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
		       char *err, size_t errlen)
{
	unsigned limit = XGW_DEFAULT_CT_LIMIT;

	if (get_limit(args, "ct.list", &limit, err, errlen))
		return -EINVAL;
	if (!c->ops.ct_list || !(*result = c->ops.ct_list(c->ctx, limit)))
		return not_available("ct.list", err, errlen);
	return 0;
}

static int cmd_ct_flush(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
			char *err, size_t errlen)
{
	int ret;

	if (!c->ops.ct_flush)
		return not_available("ct.flush", err, errlen);
	ret = c->ops.ct_flush(c->ctx);
	if (ret)
		snprintf(err, errlen, "ct.flush: %s", strerror(-ret));
	return ret;
}

static int cmd_drain(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
		     char *err, size_t errlen)
{
	if (!c->ops.drain)
		return not_available("drain", err, errlen);
	*result = c->ops.drain(c->ctx, err, errlen);
	return *result ? 0 : -EINVAL;
}

static int cmd_stats(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
		     char *err, size_t errlen)
{
	if (!c->ops.stats || !(*result = c->ops.stats(c->ctx)))
		return not_available("stats", err, errlen);
	return 0;
}

static int cmd_ports(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
		     char *err, size_t errlen)
{
	if (!c->ops.ports || !(*result = c->ops.ports(c->ctx)))
		return not_available("ports", err, errlen);
	return 0;
}

static int cmd_config_get(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
			  char *err, size_t errlen)
{
	*result = xgw_config_to_json(cfg);
	if (!*result) {
		snprintf(err, errlen, "config.get: cannot encode the running config");
		return -ENOMEM;
	}
	return 0;
}

static json_t *cmd_help_entry(const struct xgw_ctl_cmd *cmd)
{
	static const char *const kinds[] = {"read", "write", "action"};

	return json_pack("{s:s, s:s, s:s, s:s}", "cmd", cmd->name, "kind", kinds[cmd->kind], "args",
			 cmd->usage, "help", cmd->help);
}

static int cmd_help(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
		    char *err, size_t errlen)
{
	json_t *name = json_object_get(args, "cmd");
	json_t *a;

	if (name) {
		const struct xgw_ctl_cmd *cmd = xgw_ctl_cmd_find(json_string_value(name));

		if (!cmd) {
			snprintf(err, errlen, "help: args.cmd: unknown command '%s'",
				 json_string_value(name));
			return -EINVAL;
		}
		*result = cmd_help_entry(cmd);
		return 0;
	}
	a = json_array();
	for (unsigned i = 0; i < xgw_ctl_n_cmds; i++)
		json_array_append_new(a, cmd_help_entry(&xgw_ctl_cmds[i]));
	*result = a;
	return 0;
}

/* ---- the table -------------------------------------------------------- */

static const struct xgw_ctl_arg no_args[] = {{NULL, 0, false}};
static const struct xgw_ctl_arg svc_key_args[] = {
    {"vip", ARG_ANY, true},
    {"port", ARG_ANY, true},
    {"proto", ARG_ANY, true},
    {NULL, 0, false},
};
static const struct xgw_ctl_arg svc_move_args[] = {
    {"vip", ARG_ANY, true},	 {"port", ARG_ANY, true}, {"proto", ARG_ANY, true},
    {"datapath", ARG_STR, true}, {NULL, 0, false},
};
static const struct xgw_ctl_arg svc_check_args[] = {
    {"vip", ARG_ANY, true},   {"port", ARG_ANY, true}, {"proto", ARG_ANY, true},
    {"check", ARG_OBJ, true}, {NULL, 0, false},
};
static const struct xgw_ctl_arg backend_args[] = {
    {"service", ARG_OBJ, true},
    {"backend", ARG_OBJ, true},
    {NULL, 0, false},
};
static const struct xgw_ctl_arg backend_list_args[] = {{"service", ARG_OBJ, false},
						       {NULL, 0, false}};
static const struct xgw_ctl_arg trace_args[] = {{"count", ARG_INT, false},
						{"filter", ARG_STR, false},
						{"timeout_s", ARG_INT, false},
						{NULL, 0, false}};
static const struct xgw_ctl_arg capture_args[] = {
    {"count", ARG_INT, false}, {"filter", ARG_STR, false}, {"timeout_s", ARG_INT, false},
    {"port", ARG_STR, false},  {"dir", ARG_STR, false},	   {NULL, 0, false}};
static const struct xgw_ctl_arg tap_read_args[] = {{"max", ARG_INT, false}, {NULL, 0, false}};
static const struct xgw_ctl_arg id_args[] = {{"id", ARG_INT, true}, {NULL, 0, false}};
/* ct.list, service.list, route.list. */
static const struct xgw_ctl_arg ct_list_args[] = {{"limit", ARG_INT, false}, {NULL, 0, false}};
static const struct xgw_ctl_arg route_get_args[] = {{"addr", ARG_STR, true}, {NULL, 0, false}};
static const struct xgw_ctl_arg help_args[] = {{"cmd", ARG_STR, false}, {NULL, 0, false}};
static const struct xgw_ctl_arg save_args[] = {{"file", ARG_STR, false}, {NULL, 0, false}};

#define SVC_KEY "{\"vip\":IP,\"port\":N,\"proto\":\"tcp\"|\"udp\"}"

const struct xgw_ctl_cmd xgw_ctl_cmds[] = {
    {"service.add", cmd_service_add, CMD_CONFIG, NULL,
     "service object as in the config file (backends optional)", "add a service"},
    {"service.del", cmd_service_del, CMD_CONFIG, svc_key_args, SVC_KEY,
     "delete a service and its backends"},
    {"service.move", cmd_service_move, CMD_CONFIG, svc_move_args,
     "{\"vip\":IP,\"port\":N,\"proto\":\"tcp\"|\"udp\",\"datapath\":\"user\"|\"kernel\"}",
     "move a service to the other datapath, keeping its backends and flows"},
    {"service.list", cmd_service_list, CMD_READ, ct_list_args, "{\"limit\":N} (default 0 = all)",
     "list services and backends (the first N), with their counters and each backend's health"},
    {"service.check", cmd_service_check, CMD_CONFIG, svc_check_args,
     "{\"vip\":IP,\"port\":N,\"proto\":\"tcp\"|\"udp\",\"check\":check object}",
     "set or replace a service's health check ({\"type\":\"none\"} removes it)"},
    {"backend.add", cmd_backend_add, CMD_CONFIG, backend_args,
     "{\"service\":" SVC_KEY ",\"backend\":backend object}", "add a backend to a service"},
    {"backend.list", cmd_backend_list, CMD_READ, backend_list_args,
     "{\"service\":" SVC_KEY "} (optional: every service's)", "list backends with their counters"},
    {"backend.del", cmd_backend_del, CMD_CONFIG, backend_args,
     "{\"service\":" SVC_KEY ",\"backend\":{\"ip\":IP,\"port\":N}}",
     "remove a backend from a service"},
    {"backend.set", cmd_backend_set, CMD_CONFIG, backend_args,
     "{\"service\":" SVC_KEY ",\"backend\":{\"ip\":IP,\"port\":N,\"weight\":N}}",
     "change a backend's weight in place (0 drains it)"},
    {"policy.add", cmd_policy_add, CMD_CONFIG, NULL,
     "policy object as in the config file, \"id\" optional",
     "append a policy rule; returns it "
     "with its id"},
    {"policy.del", cmd_policy_del, CMD_CONFIG, id_args, "{\"id\":N}", "delete a policy rule"},
    {"policy.list", cmd_policy_list, CMD_READ, no_args, "", "list policy rules in order"},
    {"steer.add", cmd_steer_add, CMD_CONFIG, NULL,
     "steer object as in the config file, \"id\" optional",
     "steer matching flows to the user-space workers; returns the rule with its id"},
    {"steer.del", cmd_steer_del, CMD_CONFIG, id_args, "{\"id\":N}", "delete a steering rule"},
    {"steer.list", cmd_steer_list, CMD_READ, no_args, "", "list steering rules"},
    {"route.list", cmd_route_list, CMD_READ, ct_list_args, "{\"limit\":N} (default 10000, 0 = all)",
     "the routes the workers use: learnt from the kernel and static"},
    {"route.get", cmd_route_get, CMD_READ, route_get_args, "{\"addr\":IP}",
     "the route the workers use for an address (null: none)"},
    {"neigh.list", cmd_neigh_list, CMD_READ, no_args, "",
     "the neighbours the workers use: learnt from the kernel and static"},
    {"ct.list", cmd_ct_list, CMD_READ, ct_list_args, "{\"limit\":N} (default 1000, 0 = all)",
     "dump conntrack entries"},
    {"ct.flush", cmd_ct_flush, CMD_ACTION, no_args, "", "drop all conntrack entries"},
    {"drain", cmd_drain, CMD_ACTION, no_args, "",
     "withdraw the announced VIPs, serve established flows, then exit"},
    {"trace.start", xgw_ctl_cmd_trace_start, CMD_ACTION, trace_args,
     "{\"count\":N (1-1000, default 10),\"filter\":EXPR,\"timeout_s\":N (default 60)}",
     "trace the next N packets the filter (tcpdump syntax) matches through every stage"},
    {"trace.read", xgw_ctl_cmd_trace_read, CMD_READ, tap_read_args, "{\"max\":N} (default 256)",
     "the traced packets so far, each returned once"},
    {"trace.stop", xgw_ctl_cmd_trace_stop, CMD_ACTION, no_args, "",
     "end the trace; returns what was not read"},
    {"capture.start", xgw_ctl_cmd_capture_start, CMD_ACTION, capture_args,
     "{\"count\":N (default 1000),\"port\":NAME,\"dir\":\"rx\"|\"tx\"|\"both\",\"filter\":EXPR,"
     "\"timeout_s\":N (default 600)}",
     "capture frames as received and as sent"},
    {"capture.read", xgw_ctl_cmd_capture_read, CMD_READ, tap_read_args, "{\"max\":N} (default 256)",
     "the captured frames so far (hex), each returned once"},
    {"capture.stop", xgw_ctl_cmd_capture_stop, CMD_ACTION, no_args, "",
     "end the capture; returns what was not read"},
    {"stats", cmd_stats, CMD_READ, no_args, "",
     "counters per worker, port and queue; drops by reason"},
    {"ports", cmd_ports, CMD_READ, no_args, "",
     "ports and queues: core, zerocopy or copy, XDP mode"},
    {"config.get", cmd_config_get, CMD_READ, no_args, "",
     "the running config, as a document xgwd -c accepts"},
    {"config.save", xgw_ctl_cmd_config_save, CMD_ACTION, save_args,
     "{\"file\":PATH} (default: xgwd's config file)", "write the running config to a file"},
    {"config.reload", xgw_ctl_cmd_config_reload, CMD_CONFIG, no_args, "",
     "re-read xgwd's config file and apply the difference atomically (as SIGHUP)"},
    {"help", cmd_help, CMD_READ, help_args, "{\"cmd\":NAME} (optional)", "list commands"},
};

const unsigned xgw_ctl_n_cmds = sizeof(xgw_ctl_cmds) / sizeof(xgw_ctl_cmds[0]);
