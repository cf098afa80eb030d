/* SPDX-License-Identifier: BSD-3-Clause */
/* Request dispatch: one line of JSON in, one reply object out.  Writes run
 * as a transaction on a copy of the running config; the running config is
 * only ever replaced whole, after validate and apply both succeeded. */
#include "ctl/proto.h"

#include "common/hash.h"
#include "ctl/jtext.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *xgw_ctl_reply_ok(json_t *result)
{
	return json_pack("{s:b, s:o}", "ok", 1, "result", result ? result : json_null());
}

json_t *xgw_ctl_reply_err(const char *msg)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

const struct xgw_ctl_cmd *xgw_ctl_cmd_find(const char *name)
{
	for (unsigned i = 0; i < xgw_ctl_n_cmds; i++)
		if (!strcmp(xgw_ctl_cmds[i].name, name))
			return &xgw_ctl_cmds[i];
	return NULL;
}

static const char *type_name(enum xgw_ctl_arg_type t)
{
	switch (t) {
	case ARG_STR:
		return "expected a string";
	case ARG_INT:
		return "expected an integer";
	case ARG_BOOL:
		return "expected true or false";
	case ARG_OBJ:
		return "expected an object";
	default:
		return "bad value";
	}
}

static bool type_ok(enum xgw_ctl_arg_type t, const json_t *v)
{
	switch (t) {
	case ARG_STR:
		return json_is_string(v);
	case ARG_INT:
		return json_is_integer(v);
	case ARG_BOOL:
		return json_is_boolean(v);
	case ARG_OBJ:
		return json_is_object(v);
	default:
		return true;
	}
}

int xgw_ctl_check_obj(json_t *obj, const char *where, const struct xgw_ctl_arg *schema, char *err,
		      size_t errlen)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj)) {
		snprintf(err, errlen, "%s: expected an object", where);
		return -EINVAL;
	}
	json_object_foreach(obj, key, v)
	{
		const struct xgw_ctl_arg *a = schema;

		while (a->name && strcmp(a->name, key))
			a++;
		if (!a->name) {
			char known[256] = "";
			size_t n = 0;

			/* Listing what is accepted turns most typos into a one-look fix. */
			for (a = schema; a->name && n < sizeof(known); a++)
				n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s",
						      a == schema ? "" : ", ", a->name);
			snprintf(err, errlen, "%s.%s: unknown key (expected %s%s)", where, key,
				 schema->name ? "one of: " : "no arguments", known);
			return -EINVAL;
		}
		if (!type_ok(a->type, v)) {
			snprintf(err, errlen, "%s.%s: %s", where, key, type_name(a->type));
			return -EINVAL;
		}
	}
	for (const struct xgw_ctl_arg *a = schema; a->name; a++) {
		if (a->required && !json_object_get(obj, a->name)) {
			snprintf(err, errlen, "%s.%s: missing", where, a->name);
			return -EINVAL;
		}
	}
	return 0;
}

static int release(struct xgw_ctl *c, struct xgw_backend_cfg *arr)
{
	if (!arr)
		return 0;
	if (c->n_released == c->cap_released) {
		unsigned nc = c->cap_released ? c->cap_released * 2 : 16;
		void *p = realloc(c->released, nc * sizeof(*c->released));

		if (!p)
			return -ENOMEM;
		c->released = p;
		c->cap_released = nc;
	}
	c->released[c->n_released++] = arr;
	return 0;
}

int xgw_ctl_own_backends(struct xgw_ctl *c, struct xgw_service_cfg *s)
{
	struct xgw_backend_cfg *own;

	if (!s->backends_shared)
		return 0;
	own = malloc((s->n_backends ? s->n_backends : 1) * sizeof(*own));
	if (!own || release(c, s->backends)) {
		free(own);
		return -ENOMEM;
	}
	if (s->n_backends)
		memcpy(own, s->backends, s->n_backends * sizeof(*own));
	s->backends = own;
	s->backends_shared = false;
	return 0;
}

int xgw_ctl_drop_service(struct xgw_ctl *c, struct xgw_service_cfg *s)
{
	if (s->backends_shared && release(c, s->backends))
		return -ENOMEM;
	xgw_service_free(s);
	return 0;
}

void xgw_ctl_touch(struct xgw_ctl *c, const struct xgw_config *cfg, const struct xgw_service_cfg *s)
{
	unsigned i = (unsigned)(s - cfg->services);

	if (!c->named || i >= c->delta.n_prev)
		return; /* added by this write: named as such */
	if (c->n_touched == c->cap_touched) {
		unsigned nc = c->cap_touched ? c->cap_touched * 2 : 16;
		void *p = realloc(c->touched, nc * sizeof(*c->touched));

		if (!p) {
			c->named = false; /* compared instead */
			c->other_unnamed = true;
			return;
		}
		c->touched = p;
		c->cap_touched = nc;
	}
	c->touched[c->n_touched++] = i;
}

void xgw_ctl_removed(struct xgw_ctl *c, const struct xgw_config *cfg, unsigned i)
{
	c->named = false;
	c->n_removed++;
	c->removed = i;
	c->removed_key.vip = cfg->services[i].vip;
	c->removed_key.port = cfg->services[i].port;
	c->removed_key.proto = cfg->services[i].proto;
}

static uint32_t key_hash(const struct xgw_addr *vip, uint16_t port, uint8_t proto)
{
	uint64_t h = xgw_hash_round((uint64_t)port << 8 | proto, vip->q[0]);

	h = xgw_hash_fmix64(xgw_hash_round(h, vip->q[1]) ^ vip->family);
	return (uint32_t)(h ^ (h >> 32));
}

static bool key_is(const struct xgw_service_cfg *s, const struct xgw_addr *vip, uint16_t port,
		   uint8_t proto)
{
	return s->port == port && s->proto == proto && xgw_addr_eq(&s->vip, vip);
}

static void kidx_put(struct xgw_ctl *c, const struct xgw_service_cfg *s, unsigned i)
{
	uint32_t h = key_hash(&s->vip, s->port, s->proto);

	while (c->kidx[h & c->kmask])
		h++;
	c->kidx[h & c->kmask] = i + 1;
}

/* The key index of the running config's services [0, n) and of those the
 * write adds after them, or off (-ENOMEM: looked up by a pass instead). */
static void kidx_sync(struct xgw_ctl *c, const struct xgw_config *cfg, unsigned from)
{
	uint32_t need = 64;

	while (need < 2 * (uint32_t)cfg->n_services + 2)
		need *= 2;
	if (!c->kidx_ok || need > c->kmask + 1) {
		free(c->kidx);
		c->kidx = calloc(need * 2, sizeof(*c->kidx));
		c->kidx_ok = c->kidx != NULL;
		if (!c->kidx_ok)
			return;
		c->kmask = need * 2 - 1;
		c->n_tomb = 0;
		from = 0;
	}
	for (unsigned i = from; i < cfg->n_services; i++)
		kidx_put(c, &cfg->services[i], i);
}

#define KIDX_TOMB UINT32_MAX

/* The running config's service i (key k) removed, those after it one
 * place down: its entry a tombstone, one pass over the table (made again
 * when tombstones take an eighth of it). */
static void kidx_remove(struct xgw_ctl *c, unsigned i, const struct xgw_service_cfg *k)
{
	for (uint32_t h = key_hash(&k->vip, k->port, k->proto);; h++) {
		uint32_t *e = &c->kidx[h & c->kmask];

		if (!*e) {
			c->kidx_ok = false; /* not there: made again */
			return;
		}
		if (*e == i + 1) {
			*e = KIDX_TOMB;
			break;
		}
	}
	if (++c->n_tomb > (c->kmask + 1) / 8) {
		c->kidx_ok = false;
		return;
	}
	for (uint32_t s = 0; s <= c->kmask; s++)
		if (c->kidx[s] != KIDX_TOMB && c->kidx[s] > i + 1)
			c->kidx[s]--;
}

int xgw_ctl_find_service(struct xgw_ctl *c, const struct xgw_config *cfg,
			 const struct xgw_addr *vip, uint16_t port, uint8_t proto)
{
	unsigned n;

	/* The index holds the running config's services: cfg's first n
	 * when cfg is it, or a copy whose changes are named so far (no
	 * service removed: the others are where they were). */
	if (cfg == c->running)
		n = cfg->n_services;
	else if (cfg == c->wcfg && c->named && c->delta.n_prev <= cfg->n_services)
		n = c->delta.n_prev;
	else
		return xgw_config_find_service(cfg, vip, port, proto);
	if (!c->kidx_ok)
		kidx_sync(c, c->running, 0);
	if (!c->kidx_ok)
		return xgw_config_find_service(cfg, vip, port, proto);
	for (uint32_t h = key_hash(vip, port, proto);; h++) {
		uint32_t e = c->kidx[h & c->kmask];

		if (!e)
			break;
		if (e != KIDX_TOMB && e - 1 < n && key_is(&cfg->services[e - 1], vip, port, proto))
			return (int)(e - 1);
	}
	for (unsigned i = n; i < cfg->n_services; i++)
		if (key_is(&cfg->services[i], vip, port, proto))
			return (int)i;
	return -1;
}

/* The commands whose handlers name what they change in the services
 * (xgw_ctl_touch, xgw_ctl_removed; an added service is named by its
 * place).  Any other config command leaves the write unnamed. */
static bool names_changes(const char *cmd)
{
	static const char *const names[] = {
	    "service.add", "service.del", "service.move", "service.check",
	    "backend.add", "backend.del", "backend.set",  "policy.add",
	    "policy.del",  "steer.add",	  "steer.del",
	};

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(cmd, names[i]))
			return true;
	return false;
}

static int cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return (x > y) - (x < y);
}

/* The write's delta from its touched list: sorted, distinct. */
static const struct xgw_svc_delta *make_delta(struct xgw_ctl *c)
{
	unsigned n = 0;

	if (!c->named)
		return NULL;
	if (c->n_touched > 1)
		qsort(c->touched, c->n_touched, sizeof(*c->touched), cmp_uint);
	for (unsigned k = 0; k < c->n_touched; k++)
		if (!n || c->touched[k] != c->touched[n - 1])
			c->touched[n++] = c->touched[k];
	c->n_touched = n;
	c->delta.idx = c->touched;
	c->delta.n_idx = n;
	return &c->delta;
}

/* cfg's services array (its backends handed over or freed) as the
 * spare (the next copy frees it if it is too small); sync: it holds the
 * running config's services but for those the write named (c->touched
 * and from c->delta.n_prev on). */
static void keep_spare(struct xgw_ctl *c, struct xgw_config *cfg, bool sync)
{
	free(c->spare);
	c->spare = cfg->services;
	c->spare_sync = sync;
	c->spare_n = c->delta.n_prev;
	cfg->services = NULL;
	cfg->n_services = 0;
}

/* The working copy's services: the running config's, in the spare array
 * when it holds them but for the last write's changes (those alone are
 * copied: a write at 10,000 services copied 3.4 MB), else copied whole
 * (into the spare when it is large enough).  0 or -ENOMEM. */
static int copy_services(struct xgw_ctl *c, struct xgw_config *copy)
{
	const struct xgw_config *run = c->running;
	size_t sz = sizeof(*run->services);
	size_t cap = c->spare ? malloc_usable_size(c->spare) / sz : 0;
	unsigned n = run->n_services;

	if (c->spare && c->spare_sync && c->spare_n <= n && cap < n) {
		/* Grown as it is (realloc keeps what it holds). */
		void *p = realloc(c->spare, (n + n / 8 + 16) * sz);

		if (p) {
			c->spare = p;
			cap = n;
		}
	}
	if (c->spare && cap >= n && c->spare_sync && c->spare_n <= n) {
		for (unsigned k = 0; k < c->n_touched; k++)
			c->spare[c->touched[k]] = run->services[c->touched[k]];
		if (n > c->spare_n)
			memcpy(c->spare + c->spare_n, run->services + c->spare_n,
			       (n - c->spare_n) * sz);
	} else if (n) {
		if (cap < n) {
			free(c->spare);
			/* With room: services added in place. */
			c->spare = malloc((n + n / 8 + 16) * sz);
			if (!c->spare)
				return -ENOMEM;
		}
		memcpy(c->spare, run->services, n * sz);
	}
	copy->services = c->spare;
	copy->n_services = n;
	c->spare = NULL;
	c->spare_sync = false;
	return 0;
}

/* The running config's services all marked backends_shared: from the
 * first write on, a working copy's services are the running config's as
 * they are (a handler copies an array before changing it), and the
 * arrays are this server's to free (released, xgw_ctl_stop). */
static void own_running(struct xgw_ctl *c)
{
	if (c->owned)
		return;
	for (unsigned i = 0; i < c->running->n_services; i++)
		c->running->services[i].backends_shared = true;
	c->owned = true;
}

/* The requests of a batch, run in order on one copy of the config. */
static int batch_fn(struct xgw_ctl *c, struct xgw_config *cfg, json_t *items, json_t **result,
		    char *err, size_t errlen);

/* Copy, edit, validate, apply, swap: any failure leaves the running config
 * exactly as it was.  One request, or a whole batch with one snapshot and
 * one grace period. */
static int run_config_write(struct xgw_ctl *c, const char *name, xgw_ctl_fn fn, json_t *args,
			    json_t **result, char *err, size_t errlen)
{
	struct xgw_config copy;
	unsigned long n_tun;
	int ret;

	memset(&copy, 0, sizeof(copy));
	c->n_released = 0;
	own_running(c);
	/* The backends arrays shared, not copied (a tenth of a write at
	 * 10,000 services x 4 was allocating and freeing them). */
	ret = xgw_config_copy_but_services(&copy, c->running);
	if (!ret && (ret = copy_services(c, &copy)))
		xgw_config_free(&copy);
	if (ret) {
		snprintf(err, errlen, "%s: cannot copy the running config: %s", name,
			 strerror(-ret));
		return ret;
	}
	if (!c->n_tun_ok) {
		c->n_tun = 0;
		for (unsigned i = 0; i < c->running->n_services; i++)
			c->n_tun += xgw_service_n_tun(&c->running->services[i]);
		c->n_tun_ok = true;
	}
	c->delta = (struct xgw_svc_delta){.prev_services = c->running->services,
					  .n_prev = c->running->n_services,
					  .n_tun = c->n_tun};
	c->n_touched = 0;
	c->named = fn == batch_fn || names_changes(name);
	c->other_unnamed = !c->named;
	c->n_removed = 0;
	c->wcfg = &copy;
	ret = fn(c, &copy, args, result, err, errlen);
	c->wcfg = NULL;
	if (ret)
		goto fail;
	/* The changes named, to the validation and the data plane. */
	copy.delta = make_delta(c);
	ret = xgw_config_validate_count(&copy, c->running, -1, &n_tun, err, errlen);
	if (ret)
		goto fail;
	if (c->ops.apply) {
		char aerr[256] = "";

		ret = c->ops.apply(c->ctx, &copy, aerr, sizeof(aerr));
		if (ret) {
			snprintf(err, errlen, "%s: apply failed: %s", name,
				 aerr[0] ? aerr : strerror(-ret));
			goto fail;
		}
	}
	/* Counted by the validation. */
	c->n_tun = n_tun;
	c->n_tun_ok = true;
	copy.delta = NULL;
	/* The copy takes the arrays it shares; those it let go are freed. */
	for (unsigned i = 0; i < c->n_released; i++)
		free(c->released[i]);
	c->n_released = 0;
	/* Its arrays are the running config's (own_running): those it
	 * made are marked so, the named ones alone when it named them. */
	if (c->named) {
		for (unsigned k = 0; k < c->n_touched; k++)
			copy.services[c->touched[k]].backends_shared = true;
		for (unsigned i = c->delta.n_prev; i < copy.n_services; i++)
			copy.services[i].backends_shared = true;
	} else {
		for (unsigned i = 0; i < copy.n_services; i++)
			copy.services[i].backends_shared = true;
	}
	keep_spare(c, c->running, c->named);
	xgw_config_free_keep_backends(c->running);
	*c->running = copy;
	/* The key index: the added services, a lone removal, or made again
	 * when needed. */
	if (c->named && c->kidx_ok)
		kidx_sync(c, c->running, c->delta.n_prev);
	else if (c->kidx_ok && !c->other_unnamed && c->n_removed == 1 &&
		 c->running->n_services + 1 == c->delta.n_prev)
		kidx_remove(c, c->removed, &c->removed_key);
	else
		c->kidx_ok = false;
	return 0;
fail:
	copy.delta = NULL;
	json_decref(*result);
	*result = NULL;
	c->n_released = 0; /* still the running config's */
	for (unsigned i = 0; i < copy.n_services; i++)
		xgw_service_free(&copy.services[i]);
	keep_spare(c, &copy, false);
	xgw_config_free(&copy);
	return ret ? ret : -EINVAL;
}

/* A request's command with its args checked: NULL with err filled. */
static const struct xgw_ctl_cmd *check_req(json_t *req, const char *where, json_t **argsp,
					   char *err, size_t errlen)
{
	static const struct xgw_ctl_arg req_schema[] = {
	    {"cmd", ARG_STR, true},
	    {"args", ARG_OBJ, false},
	    {NULL, 0, false},
	};
	const struct xgw_ctl_cmd *cmd;
	json_t *args;
	char at[96];

	if (!json_is_object(req)) {
		snprintf(err, errlen, "%s: expected a JSON object", where);
		return NULL;
	}
	if (xgw_ctl_check_obj(req, where, req_schema, err, errlen))
		return NULL;
	cmd = xgw_ctl_cmd_find(json_string_value(json_object_get(req, "cmd")));
	if (!cmd) {
		snprintf(err, errlen, "%s.cmd: unknown command '%s' (try \"help\")", where,
			 json_string_value(json_object_get(req, "cmd")));
		return NULL;
	}
	args = json_object_get(req, "args");
	if (cmd->args) {
		/* An absent args is an empty one: required keys still fail. */
		json_t *empty = json_object();
		int ret;

		snprintf(at, sizeof(at), "%s%s%s: args", strcmp(where, "request") ? where : "",
			 strcmp(where, "request") ? " " : "", cmd->name);
		ret = xgw_ctl_check_obj(args ? args : empty, at, cmd->args, err, errlen);
		json_decref(empty);
		if (ret)
			return NULL;
	} else if (!args) {
		snprintf(err, errlen, "%s: args: missing", cmd->name);
		return NULL;
	}
	*argsp = args;
	return cmd;
}

static int batch_fn(struct xgw_ctl *c, struct xgw_config *cfg, json_t *items, json_t **result,
		    char *err, size_t errlen)
{
	size_t i;
	json_t *item;

	*result = json_array();
	json_array_foreach(items, i, item)
	{
		const struct xgw_ctl_cmd *cmd;
		json_t *args = NULL, *r = NULL;
		char where[32], ierr[448];
		int ret;

		snprintf(where, sizeof(where), "batch[%zu]", i);
		cmd = check_req(item, where, &args, err, errlen);
		if (!cmd)
			return -EINVAL;
		if (cmd->kind != CMD_CONFIG) {
			snprintf(err, errlen,
				 "%s: %s is not a config change: a batch holds only those", where,
				 cmd->name);
			return -EINVAL;
		}
		/* A reload replaces the whole working copy: it would silently
		 * undo the items before it. */
		if (cmd->fn == xgw_ctl_cmd_config_reload) {
			snprintf(err, errlen, "%s: config.reload cannot be part of a batch", where);
			return -EINVAL;
		}
		ierr[0] = '\0';
		if (!names_changes(cmd->name))
			c->named = false, c->other_unnamed = true;
		ret = cmd->fn(c, cfg, args, &r, ierr, sizeof(ierr));
		if (ret) {
			json_decref(r);
			snprintf(err, errlen, "%s (%s): %s; nothing applied", where, cmd->name,
				 ierr[0] ? ierr : strerror(-ret));
			return ret;
		}
		json_array_append_new(*result, r ? r : json_null());
	}
	return 0;
}

static int dispatch(struct xgw_ctl *c, json_t *req, json_t **result, char *err, size_t errlen)
{
	const struct xgw_ctl_cmd *cmd;
	json_t *args = NULL;

	/* {"cmd":"batch","args":[request, ...]}: its args are an array. */
	if (json_is_object(req) && json_is_string(json_object_get(req, "cmd")) &&
	    !strcmp(json_string_value(json_object_get(req, "cmd")), "batch")) {
		args = json_object_get(req, "args");
		if (json_object_size(req) != 2 || !json_is_array(args)) {
			snprintf(err, errlen, "batch: args: expected an array of requests");
			return -EINVAL;
		}
		if (json_array_size(args) > XGW_CTL_MAX_BATCH) {
			snprintf(err, errlen, "batch: %zu requests, at most %u",
				 json_array_size(args), XGW_CTL_MAX_BATCH);
			return -E2BIG;
		}
		return run_config_write(c, "batch", batch_fn, args, result, err, errlen);
	}
	cmd = check_req(req, "request", &args, err, errlen);
	if (!cmd)
		return -EINVAL;
	if (cmd->kind == CMD_CONFIG)
		return run_config_write(c, cmd->name, cmd->fn, args, result, err, errlen);
	return cmd->fn(c, c->running, args, result, err, errlen);
}

void xgw_ctl_raw_begin(struct xgw_jtext *t)
{
	xgw_jt_lit(t, XGW_CTL_REPLY_HEAD);
}

int xgw_ctl_raw_end(struct xgw_ctl *c, struct xgw_jtext *t)
{
	xgw_jt_lit(t, "}\n");
	free(c->raw);
	c->raw = xgw_jt_take(t, &c->raw_len);
	return c->raw ? 0 : -ENOMEM;
}

/* One request: its reply, or NULL when the handler wrote its reply as
 * text (c->raw, from xgw_ctl_raw_begin/_end). */
static json_t *handle(struct xgw_ctl *c, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req, *result = NULL;
	char err[512];
	int ret;

	free(c->raw);
	c->raw = NULL;
	/* Duplicate keys would make "which one counts" ambiguous. */
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!req) {
		snprintf(err, sizeof(err), "request: invalid JSON at column %d: %s", jerr.column,
			 jerr.text);
		return xgw_ctl_reply_err(err);
	}
	err[0] = '\0';
	ret = dispatch(c, req, &result, err, sizeof(err));
	json_decref(req);
	if (ret) {
		json_decref(result);
		free(c->raw);
		c->raw = NULL;
		if (!err[0])
			snprintf(err, sizeof(err), "request: %s", strerror(-ret));
		return xgw_ctl_reply_err(err);
	}
	if (c->raw) {
		json_decref(result);
		return NULL;
	}
	return xgw_ctl_reply_ok(result);
}

json_t *xgw_ctl_handle(struct xgw_ctl *c, const char *line, size_t len)
{
	json_t *reply = handle(c, line, len), *result;
	json_error_t jerr;

	if (reply)
		return reply;
	/* A text result, parsed: what a client would read (the result, between
	 * the head and the closing "}\n"). */
	const size_t head = sizeof(XGW_CTL_REPLY_HEAD) - 1;

	result = c->raw_len >= head + 2
		     ? json_loadb(c->raw + head, c->raw_len - head - 2, JSON_DECODE_ANY, &jerr)
		     : NULL;
	free(c->raw);
	c->raw = NULL;
	if (!result)
		return xgw_ctl_reply_err("internal: the result is not valid JSON");
	return xgw_ctl_reply_ok(result);
}

char *xgw_ctl_handle_line(struct xgw_ctl *c, const char *line, size_t len, size_t *out_len)
{
	json_t *reply = handle(c, line, len);
	char *s;
	size_t n;

	if (!reply) {
		/* The whole line already, newline included: handed over. */
		s = c->raw;
		*out_len = c->raw_len;
		c->raw = NULL;
		return s;
	}
	s = json_dumps(reply, JSON_COMPACT);
	json_decref(reply);
	n = s ? strlen(s) : 0;
	char *p = s ? realloc(s, n + 2) : NULL;
	if (!p) {
		free(s);
		return NULL;
	}
	s = p;
	s[n] = '\n';
	s[n + 1] = '\0';
	*out_len = n + 1;
	return s;
}

struct xgw_ctl *xgw_ctl_new_detached(struct xgw_config *running, const struct xgw_ctl_ops *ops,
				     void *ctx)
{
	struct xgw_ctl *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->running = running;
	if (ops)
		c->ops = *ops;
	c->ctx = ctx;
	return c;
}
