/* SPDX-License-Identifier: BSD-3-Clause */
/* The control protocol without a socket: every bad request gets a specific
 * error and leaves the running config byte-identical (and the apply hook
 * uncalled); good requests change config.get as expected. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl/config.h"
#include "ctl/server.h"

static const char base_json[] =
    "{\"ports\":[{\"name\":\"client\",\"iface\":\"xgw-c\",\"queues\":[{\"queue\":0,\"core\":0}]}],"
    " \"tunnel\":{\"local_ip\":\"198.18.3.1\"},"
    " \"services\":[{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"tcp\","
    "   \"backends\":[{\"ip\":\"198.18.2.10\",\"port\":8080}]}],"
    " \"steer\":[{\"dst\":\"198.18.2.2\",\"proto\":\"udp\",\"dport\":7000}],"
    " \"routes\":[{\"dst\":\"198.18.5.0/24\",\"via\":\"198.18.2.2\",\"port\":\"client\"}],"
    " \"policies\":[{\"action\":\"deny\",\"src\":\"198.18.0.0/24\",\"proto\":\"tcp\","
    "   \"dport\":\"22\"}]}";

struct fake {
	int applies;
	int named; /* writes that named their changes (cfg->delta) */
	int flushes;
	unsigned last_limit;
	bool fail_apply;
	struct xgw_config cfg;
	struct xgw_ctl *ctl;
};

static bool same_key(const struct xgw_service_cfg *a, const struct xgw_service_cfg *b)
{
	return a->port == b->port && a->proto == b->proto && xgw_addr_eq(&a->vip, &b->vip);
}

/* The changes a write names (cfg->delta), as the data plane trusts them:
 * every service of the running config it does not name is as it was, at
 * the same place; the ones after n_prev have new keys. */
static void check_delta(struct fake *f, const struct xgw_config *cfg)
{
	const struct xgw_svc_delta *d = cfg->delta;
	const struct xgw_config *run = &f->cfg;
	unsigned long n_tun = 0;
	unsigned k = 0;

	if (!d)
		return;
	f->named++;
	assert_ptr_equal(d->prev_services, run->services);
	assert_int_equal(d->n_prev, run->n_services);
	assert_true(cfg->n_services >= d->n_prev);
	for (unsigned i = 0; i < run->n_services; i++)
		n_tun += xgw_service_n_tun(&run->services[i]);
	assert_int_equal(d->n_tun, n_tun);
	for (unsigned i = 0; i < d->n_prev; i++) {
		const struct xgw_service_cfg *a = &cfg->services[i], *b = &run->services[i];

		assert_true(same_key(a, b));
		if (k < d->n_idx && d->idx[k] == i) {
			k++;
			continue;
		}
		assert_int_equal(a->datapath, b->datapath);
		assert_int_equal(a->algo, b->algo);
		assert_int_equal(a->snat, b->snat);
		assert_int_equal(a->maglev_size, b->maglev_size);
		assert_memory_equal(&a->check, &b->check, sizeof(a->check));
		assert_int_equal(a->n_backends, b->n_backends);
		if (a->n_backends)
			assert_memory_equal(a->backends, b->backends,
					    a->n_backends * sizeof(*a->backends));
	}
	assert_int_equal(k, d->n_idx); /* ascending, each before n_prev */
	for (unsigned i = d->n_prev; i < cfg->n_services; i++)
		for (unsigned j = 0; j < i; j++)
			assert_false(same_key(&cfg->services[i], &cfg->services[j]));
}

static int fake_apply(void *ctx, const struct xgw_config *cfg, char *err, size_t errlen)
{
	struct fake *f = ctx;

	check_delta(f, cfg);

	if (f->fail_apply) {
		snprintf(err, errlen, "boom: maps full");
		return -ENOSPC;
	}
	f->applies++;
	return 0;
}

static json_t *fake_stats(void *ctx)
{
	return json_pack("{s:[], s:[], s:{s:i}}", "workers", "ports", "drops", "no_backend", 3);
}

/* The data plane's counters: it counts 198.18.100.1:80/tcp and its
 * backend 198.18.2.10:8080 (a backend configured later is not counted
 * yet), not 198.18.100.9 (left out of the join). */
static void fake_svc_counters(void *ctx, const struct xgw_service_cfg *svcs, unsigned n,
			      struct xgw_ctl_svc_ctr *out)
{
	char a[XGW_ADDR_STRLEN];

	for (unsigned i = 0; i < n; i++) {
		const struct xgw_service_cfg *s = &svcs[i];

		if (strcmp(xgw_addr_str(&s->vip, a, sizeof(a)), "198.18.100.1") || s->port != 80)
			continue;
		out[i].found = true;
		out[i].tot.pkts_in = 12;
		out[i].tot.conns_active = 2;
		out[i].drops[XGW_DROP_NO_BACKEND] = 1;
		out[i].tot.drops = 1;
		for (unsigned j = 0; j < s->n_backends; j++) {
			if (strcmp(xgw_addr_str(&s->backends[j].ip, a, sizeof(a)), "198.18.2.10") ||
			    s->backends[j].port != 8080)
				continue;
			out[i].be_found[j] = true;
			out[i].be[j].pkts_in = 12;
			out[i].be[j].conns_active = 2;
		}
	}
}

/* Backends of a checked service are up; no other has a health state. */
static json_t *fake_health(void *ctx, const struct xgw_service_cfg *s,
			   const struct xgw_backend_cfg *b)
{
	return s->check.type != XGW_CHECK_NONE ? json_pack("{s:s}", "state", "up") : NULL;
}

static json_t *fake_ports(void *ctx)
{
	return json_pack("[{s:s}]", "name", "client");
}

static json_t *fake_ct_list(void *ctx, unsigned limit)
{
	((struct fake *)ctx)->last_limit = limit;
	return json_array();
}

static int fake_ct_flush(void *ctx)
{
	((struct fake *)ctx)->flushes++;
	return 0;
}

static const struct xgw_ctl_ops fake_ops = {
    .apply = fake_apply,
    .stats = fake_stats,
    .svc_counters = fake_svc_counters,
    .health = fake_health,
    .ports = fake_ports,
    .ct_list = fake_ct_list,
    .ct_flush = fake_ct_flush,
};

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	json_error_t jerr;
	json_t *doc = json_loads(base_json, 0, &jerr);
	char err[256];

	assert_non_null(doc);
	if (xgw_config_load_json(&f->cfg, doc, err, sizeof(err)))
		fail_msg("base config: %s", err);
	json_decref(doc);
	f->ctl = xgw_ctl_new_detached(&f->cfg, &fake_ops, f);
	assert_non_null(f->ctl);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	xgw_ctl_stop(f->ctl); /* frees f->cfg's contents */
	free(f);
	return 0;
}

static json_t *call(struct fake *f, const char *line)
{
	json_t *r = xgw_ctl_handle(f->ctl, line, strlen(line));

	assert_non_null(r);
	assert_true(json_is_boolean(json_object_get(r, "ok")));
	return r;
}

/* The result of a request that must succeed (new reference). */
static json_t *ok(struct fake *f, const char *line)
{
	json_t *r = call(f, line);
	json_t *res;

	if (!json_is_true(json_object_get(r, "ok")))
		fail_msg("%s -> %s", line, json_string_value(json_object_get(r, "error")));
	res = json_incref(json_object_get(r, "result"));
	json_decref(r);
	return res;
}

static char *config_dump(struct fake *f)
{
	json_t *c = ok(f, "{\"cmd\":\"config.get\"}");
	char *s = json_dumps(c, JSON_COMPACT);

	json_decref(c);
	return s;
}

/* ---- bad requests ------------------------------------------------------- */

struct bad_case {
	const char *req;
	const char *error; /* substring of the error */
};

static const struct bad_case bad[] = {
    /* framing */
    {"not json", "request: invalid JSON"},
    {"{\"cmd\":\"help\"", "request: invalid JSON"},
    {"[1,2]", "request: expected a JSON object"},
    {"\"service.list\"", "request: expected a JSON object"},
    {"{\"args\":{}}", "request.cmd: missing"},
    {"{\"cmd\":5}", "request.cmd: expected a string"},
    {"{\"cmd\":\"nope\"}", "request.cmd: unknown command 'nope'"},
    {"{\"cmd\":\"service.list\",\"args\":[]}", "request.args: expected an object"},
    {"{\"cmd\":\"service.list\",\"args\":\"x\"}", "request.args: expected an object"},
    {"{\"cmd\":\"service.list\",\"extra\":1}", "request.extra: unknown key"},
    {"{\"cmd\":\"help\",\"cmd\":\"help\"}", "duplicate"},
    {"{\"cmd\":\"policy.list\",\"args\":{\"x\":1}}",
     "policy.list: args.x: unknown key (expected no arguments)"},
    {"{\"cmd\":\"service.list\",\"args\":{\"x\":1}}",
     "service.list: args.x: unknown key (expected one of: limit)"},
    {"{\"cmd\":\"service.list\",\"args\":{\"limit\":-1}}",
     "service.list: args.limit: expected an integer >= 0"},
    {"{\"cmd\":\"route.list\",\"args\":{\"limit\":\"x\"}}",
     "route.list: args.limit: expected an integer"},
    {"{\"cmd\":\"help\",\"args\":{\"cmd\":\"nope\"}}", "help: args.cmd: unknown command 'nope'"},
    /* service.add: objects are checked by the config loader */
    {"{\"cmd\":\"service.add\"}", "service.add: args: missing"},
    {"{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.18.100.2\",\"port\":80}}",
     "service.add: args.proto: missing"},
    {"{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.18.100\",\"port\":80,\"proto\":\"tcp\"}}",
     "service.add: args.vip: \"198.18.100\" is not an IPv4 or IPv6 address"},
    {"{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.18.100.2\",\"port\":0,\"proto\":\"tcp\"}}",
     "service.add: args.port: expected an integer between 1 and 65535"},
    {"{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.18.100.2\",\"port\":65536,"
     "\"proto\":\"tcp\"}}",
     "service.add: args.port: expected an integer between 1 and 65535"},
    {"{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.18.100.2\",\"port\":\"80\","
     "\"proto\":\"tcp\"}}",
     "service.add: args.port: expected an integer"},
    {"{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.18.100.2\",\"port\":80,\"proto\":\"sctp\"}}",
     "service.add: args.proto"},
    {"{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.18.100.2\",\"port\":80,\"proto\":\"tcp\","
     "\"algo\":\"rr\"}}",
     "service.add: args.algo: unknown key"},
    {"{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"tcp\"}}",
     "service.add: service 198.18.100.1:80/tcp already exists"},
    {"{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.18.100.2\",\"port\":80,\"proto\":\"tcp\","
     "\"backends\":[{\"ip\":\"198.18.2.10\",\"port\":8080},{\"ip\":\"198.18.2.10\",\"port\":8080}]}"
     "}",
     "duplicate backend 198.18.2.10:8080"},
    {"{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.18.100.2\",\"port\":80,\"proto\":\"tcp\","
     "\"backends\":[{\"ip\":\"2001:db8::1\",\"port\":8080}]}}",
     "is IPv6 but the vip 198.18.100.2 is IPv4"},
    /* service.del */
    {"{\"cmd\":\"service.del\"}", "service.del: args.vip: missing"},
    {"{\"cmd\":\"service.del\",\"args\":{\"vip\":\"198.18.100.1\",\"port\":80}}",
     "service.del: args.proto: missing"},
    {"{\"cmd\":\"service.del\",\"args\":{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"tcp\","
     "\"x\":1}}",
     "service.del: args.x: unknown key"},
    {"{\"cmd\":\"service.del\",\"args\":{\"vip\":\"198.18.1000.1\",\"port\":80,\"proto\":\"tcp\"}}",
     "service.del: args.vip: \"198.18.1000.1\" is not an IPv4 or IPv6 address"},
    {"{\"cmd\":\"service.del\",\"args\":{\"vip\":\"198.18.100.1\",\"port\":0,\"proto\":\"tcp\"}}",
     "service.del: args.port: expected an integer between 1 and 65535, got 0"},
    {"{\"cmd\":\"service.del\",\"args\":{\"vip\":\"198.18.100.1\",\"port\":65536,"
     "\"proto\":\"tcp\"}}",
     "service.del: args.port: expected an integer between 1 and 65535, got 65536"},
    {"{\"cmd\":\"service.del\",\"args\":{\"vip\":\"198.18.100.1\",\"port\":\"80\","
     "\"proto\":\"tcp\"}}",
     "service.del: args.port: expected an integer"},
    {"{\"cmd\":\"service.del\",\"args\":{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"icmp\"}}",
     "service.del: args.proto: \"icmp\" is not \"tcp\" or \"udp\""},
    {"{\"cmd\":\"service.del\",\"args\":{\"vip\":\"198.18.100.9\",\"port\":80,\"proto\":\"tcp\"}}",
     "service.del: no service 198.18.100.9:80/tcp"},
    {"{\"cmd\":\"service.del\",\"args\":{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"udp\"}}",
     "service.del: no service 198.18.100.1:80/udp"},
    /* backend.add / backend.del */
    {"{\"cmd\":\"backend.add\",\"args\":{\"backend\":{\"ip\":\"198.18.2.11\",\"port\":8080}}}",
     "backend.add: args.service: missing"},
    {"{\"cmd\":\"backend.add\",\"args\":{\"service\":\"198.18.100.1:80/tcp\","
     "\"backend\":{\"ip\":\"198.18.2.11\",\"port\":8080}}}",
     "backend.add: args.service: expected an object"},
    {"{\"cmd\":\"backend.add\",\"args\":{\"service\":{\"vip\":\"198.18.100.7\",\"port\":80,"
     "\"proto\":\"tcp\"},\"backend\":{\"ip\":\"198.18.2.11\",\"port\":8080}}}",
     "backend.add: args.service: no service 198.18.100.7:80/tcp"},
    {"{\"cmd\":\"backend.add\",\"args\":{\"service\":{\"vip\":\"198.18.100.1\",\"port\":80,"
     "\"proto\":\"tcp\"},\"backend\":{\"ip\":\"198.18.2.10\",\"port\":8080}}}",
     "duplicate backend 198.18.2.10:8080"},
    {"{\"cmd\":\"backend.add\",\"args\":{\"service\":{\"vip\":\"198.18.100.1\",\"port\":80,"
     "\"proto\":\"tcp\"},\"backend\":{\"ip\":\"198.18.2.300\",\"port\":8080}}}",
     "backend.add: args.backend.ip: \"198.18.2.300\" is not an IPv4 or IPv6 address"},
    {"{\"cmd\":\"backend.add\",\"args\":{\"service\":{\"vip\":\"198.18.100.1\",\"port\":80,"
     "\"proto\":\"tcp\"},\"backend\":{\"ip\":\"198.18.2.11\",\"port\":0}}}",
     "backend.add: args.backend.port: expected an integer between 1 and 65535"},
    {"{\"cmd\":\"backend.add\",\"args\":{\"service\":{\"vip\":\"198.18.100.1\",\"port\":80,"
     "\"proto\":\"tcp\"},\"backend\":{\"ip\":\"198.18.2.11\",\"port\":8080,"
     "\"tunnel\":{\"type\":\"vxlan\",\"remote\":\"198.18.3.2\",\"vni\":16777216}}}}",
     "backend.add: args.backend.tunnel.vni"},
    {"{\"cmd\":\"backend.del\",\"args\":{\"service\":{\"vip\":\"198.18.100.1\",\"port\":80,"
     "\"proto\":\"tcp\"},\"backend\":{\"ip\":\"198.18.2.99\",\"port\":8080}}}",
     "backend.del: args.backend: no backend 198.18.2.99:8080 in service 198.18.100.1:80/tcp"},
    {"{\"cmd\":\"backend.del\",\"args\":{\"service\":{\"vip\":\"198.18.100.1\",\"port\":80,"
     "\"proto\":\"tcp\"},\"backend\":{\"ip\":\"198.18.2.10\",\"port\":8080,\"weight\":1}}}",
     "backend.del: args.backend.weight: unknown key"},
    /* policies */
    {"{\"cmd\":\"policy.add\",\"args\":{\"action\":\"reject\"}}", "policy.add: args.action"},
    {"{\"cmd\":\"policy.add\",\"args\":{\"action\":\"deny\",\"src\":\"198.18.0.1/24\"}}",
     "policy.add: args.src: \"198.18.0.1/24\" has host bits set"},
    {"{\"cmd\":\"policy.add\",\"args\":{\"action\":\"deny\",\"dst\":\"198.18.0.0/33\"}}",
     "policy.add: args.dst"},
    {"{\"cmd\":\"policy.add\",\"args\":{\"action\":\"deny\",\"dport\":\"30-20\"}}",
     "policy.add: args.dport"},
    {"{\"cmd\":\"policy.add\",\"args\":{\"id\":1,\"action\":\"deny\"}}",
     "policy.add: args.id: id 1 is already taken"},
    {"{\"cmd\":\"policy.add\",\"args\":{\"id\":\"7\",\"action\":\"deny\"}}", "policy.add: args.id"},
    {"{\"cmd\":\"policy.del\",\"args\":{\"id\":99}}", "policy.del: args.id: no policy with id 99"},
    {"{\"cmd\":\"policy.del\",\"args\":{\"id\":0}}",
     "policy.del: args.id: expected an integer >= 1"},
    {"{\"cmd\":\"policy.del\",\"args\":{\"id\":\"1\"}}",
     "policy.del: args.id: expected an integer"},
    {"{\"cmd\":\"policy.del\",\"args\":{}}", "policy.del: args.id: missing"},
    {"{\"cmd\":\"policy.del\",\"args\":{\"id\":1,\"x\":2}}",
     "policy.del: args.x: unknown key (expected one of: id)"},
    /* steering rules */
    {"{\"cmd\":\"steer.add\",\"args\":{\"proto\":\"udp\"}}", "steer.add: args.dst: missing"},
    {"{\"cmd\":\"steer.add\",\"args\":{\"dst\":\"198.18.2.0/33\"}}", "steer.add: args.dst"},
    {"{\"cmd\":\"steer.add\",\"args\":{\"dst\":\"198.18.2.3\",\"dport\":70000}}",
     "steer.add: args.dport"},
    {"{\"cmd\":\"steer.del\",\"args\":{\"id\":42}}",
     "steer.del: args.id: no steering rule with id 42"},
    /* views */
    {"{\"cmd\":\"ct.list\",\"args\":{\"limit\":-1}}",
     "ct.list: args.limit: expected an integer >= 0"},
    {"{\"cmd\":\"ct.list\",\"args\":{\"limit\":\"5\"}}",
     "ct.list: args.limit: expected an integer"},
    {"{\"cmd\":\"config.get\",\"args\":{\"full\":true}}", "config.get: args.full: unknown key"},
};

static void test_bad_requests(void **state)
{
	struct fake *f = *state;
	char *before = config_dump(f);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *r = call(f, bad[i].req);
		const char *e = json_string_value(json_object_get(r, "error"));
		char *after;

		if (json_is_true(json_object_get(r, "ok")))
			fail_msg("case %zu: %s: accepted", i, bad[i].req);
		if (!e || !strstr(e, bad[i].error))
			fail_msg("case %zu: %s:\n  got      %s\n  expected %s", i, bad[i].req,
				 e ? e : "(no error)", bad[i].error);
		assert_int_equal(json_object_size(r), 2);
		json_decref(r);
		after = config_dump(f);
		if (strcmp(before, after))
			fail_msg("case %zu: %s changed the config", i, bad[i].req);
		free(after);
		assert_int_equal(f->applies, 0);
	}
	free(before);
}

static void test_apply_failure_keeps_config(void **state)
{
	struct fake *f = *state;
	char *before = config_dump(f), *after;
	json_t *r;

	f->fail_apply = true;
	r = call(f, "{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.18.100.2\",\"port\":53,"
		    "\"proto\":\"udp\"}}");
	assert_false(json_is_true(json_object_get(r, "ok")));
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")),
			       "service.add: apply failed: boom: maps full"));
	json_decref(r);
	r = call(f, "{\"cmd\":\"policy.add\",\"args\":{\"action\":\"allow\"}}");
	assert_false(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	after = config_dump(f);
	assert_string_equal(before, after);
	free(after);

	/* The refused policy did not consume an id. */
	f->fail_apply = false;
	r = ok(f, "{\"cmd\":\"policy.add\",\"args\":{\"action\":\"allow\"}}");
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 2);
	json_decref(r);
	free(before);
}

/* ---- writes on a working copy that shares the backends arrays ------------ */

/* The model: up to 4 services (198.18.101.i:80/tcp) with their backends
 * (198.18.2.b:8080, weight) in order. */
struct mdl {
	bool on[4];
	unsigned n_be[4], be[4][6], w[4][6];
	unsigned order[4], n_order;
};

static unsigned rnd_u(unsigned n)
{
	static uint64_t x = 0x2545f4914f6cdd1dull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return (unsigned)(x % n);
}

/* One random change as a request item, applied to m (the model of what it
 * does when the write succeeds). */
static void random_item(struct mdl *m, char *buf, size_t len)
{
	unsigned i = rnd_u(4), op = rnd_u(5), b = rnd_u(6);
	char svc[96];

	snprintf(svc, sizeof(svc), "{\"vip\":\"198.18.101.%u\",\"port\":80,\"proto\":\"tcp\"}",
		 i + 1);
	if (!m->on[i]) {
		snprintf(buf, len, "{\"cmd\":\"service.add\",\"args\":%s}", svc);
		m->on[i] = true;
		m->n_be[i] = 0;
		m->order[m->n_order++] = i;
		return;
	}
	unsigned k = 0;
	while (k < m->n_be[i] && m->be[i][k] != b)
		k++;
	if (op == 0) {
		snprintf(buf, len, "{\"cmd\":\"service.del\",\"args\":%s}", svc);
		m->on[i] = false;
		unsigned j = 0;
		while (m->order[j] != i)
			j++;
		memmove(&m->order[j], &m->order[j + 1], (--m->n_order - j) * sizeof(m->order[0]));
	} else if (k == m->n_be[i]) {
		snprintf(buf, len,
			 "{\"cmd\":\"backend.add\",\"args\":{\"service\":%s,\"backend\":{\"ip\":"
			 "\"198.18.2.%u\",\"port\":8080}}}",
			 svc, b + 1);
		m->be[i][m->n_be[i]] = b;
		m->w[i][m->n_be[i]++] = 1;
	} else if (op < 3) {
		snprintf(buf, len,
			 "{\"cmd\":\"backend.del\",\"args\":{\"service\":%s,\"backend\":{\"ip\":"
			 "\"198.18.2.%u\",\"port\":8080}}}",
			 svc, b + 1);
		memmove(&m->be[i][k], &m->be[i][k + 1], (m->n_be[i] - k - 1) * sizeof(unsigned));
		memmove(&m->w[i][k], &m->w[i][k + 1], (m->n_be[i] - k - 1) * sizeof(unsigned));
		m->n_be[i]--;
	} else {
		unsigned w = rnd_u(5);
		snprintf(buf, len,
			 "{\"cmd\":\"backend.set\",\"args\":{\"service\":%s,\"backend\":{\"ip\":"
			 "\"198.18.2.%u\",\"port\":8080,\"weight\":%u}}}",
			 svc, b + 1, w);
		m->w[i][k] = w;
	}
}

static void same_as_model(const struct xgw_config *c, const struct mdl *m)
{
	assert_int_equal(c->n_services, 1 + m->n_order);
	for (unsigned j = 0; j < m->n_order; j++) {
		const struct xgw_service_cfg *s = &c->services[1 + j];
		unsigned i = m->order[j];

		assert_int_equal(ntohl(s->vip.w[0]), 0xc6126501u + i);
		/* Marked so: the server's own arrays (xgw_ctl_stop frees them). */
		assert_true(s->backends_shared);
		assert_int_equal(s->n_backends, m->n_be[i]);
		for (unsigned k = 0; k < m->n_be[i]; k++) {
			assert_int_equal(ntohl(s->backends[k].ip.w[0]), 0xc6120201u + m->be[i][k]);
			assert_int_equal(s->backends[k].weight, m->w[i][k]);
		}
	}
}

/* Writes, batches and refused writes (by the apply hook, or a batch's
 * invalid last item) in random order: the running config is always what
 * the successful ones made, owns every array (no double free or leak
 * under ASan), and a write shares the arrays of the services it does not
 * change with the running config until it succeeds. */
static void test_shared_backends(void **state)
{
	struct fake *f = *state;
	struct mdl m = {0};

	for (int step = 0; step < 400; step++) {
		struct mdl next = m;
		char line[8192], item[512];
		unsigned k = rnd_u(3) ? 1 : 2 + rnd_u(3);
		bool refuse = k > 1 && rnd_u(4) == 0;
		size_t n = 0;
		json_t *r;

		f->fail_apply = rnd_u(5) == 0;
		if (k > 1)
			n += (size_t)snprintf(line, sizeof(line), "{\"cmd\":\"batch\",\"args\":[");
		for (unsigned i = 0; i < k; i++) {
			random_item(&next, item, sizeof(item));
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s", i ? "," : "",
					      item);
		}
		if (refuse) /* the last item fails: nothing applied */
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      ",{\"cmd\":\"service.del\",\"args\":{\"vip\":"
					      "\"198.18.109.1\",\"port\":80,\"proto\":\"tcp\"}}");
		if (k > 1)
			snprintf(line + n, sizeof(line) - n, "]}");
		r = call(f, line);
		if (json_is_true(json_object_get(r, "ok"))) {
			assert_false(f->fail_apply || refuse);
			m = next;
		} else {
			assert_true(f->fail_apply || refuse);
		}
		json_decref(r);
		same_as_model(&f->cfg, &m);
	}
	f->fail_apply = false;
}

/* ---- good requests ------------------------------------------------------ */

static json_t *config_obj(struct fake *f)
{
	return ok(f, "{\"cmd\":\"config.get\"}");
}

static void test_service_lifecycle(void **state)
{
	struct fake *f = *state;
	char *before = config_dump(f), *after;
	json_t *r, *c, *svc;

	r = ok(f, "{\"cmd\":\"service.add\",\"args\":{\"vip\":\"2001:db8::100\",\"port\":443,"
		  "\"proto\":\"tcp\",\"datapath\":\"user\",\"algorithm\":\"rr\",\"snat\":false}}");
	assert_string_equal(json_string_value(json_object_get(r, "vip")), "2001:db8::100");
	json_decref(r);
	assert_int_equal(f->applies, 1);
	r = ok(f,
	       "{\"cmd\":\"backend.add\",\"args\":{\"service\":{\"vip\":\"2001:db8::100\","
	       "\"port\":443,\"proto\":\"tcp\"},\"backend\":{\"ip\":\"2001:db8::a\",\"port\":8443,"
	       "\"weight\":3,\"tunnel\":{\"type\":\"geneve\",\"remote\":\"198.18.3.2\",\"vni\":7,"
	       "\"mac\":\"02:00:00:00:04:0a\"}}}}");
	assert_int_equal(json_integer_value(json_object_get(r, "weight")), 3);
	json_decref(r);
	assert_int_equal(f->applies, 2);

	c = config_obj(f);
	assert_int_equal(json_array_size(json_object_get(c, "services")), 2);
	svc = json_array_get(json_object_get(c, "services"), 1);
	assert_string_equal(json_string_value(json_object_get(svc, "datapath")), "user");
	assert_string_equal(json_string_value(json_object_get(svc, "algorithm")), "rr");
	assert_true(json_is_false(json_object_get(svc, "snat")));
	assert_int_equal(json_array_size(json_object_get(svc, "backends")), 1);
	json_decref(c);

	r = ok(f, "{\"cmd\":\"service.list\"}");
	assert_int_equal(json_array_size(r), 2);
	json_decref(r);
	/* --limit: the first N in order; 0 and more than there are = all. */
	r = ok(f, "{\"cmd\":\"service.list\",\"args\":{\"limit\":1}}");
	assert_int_equal(json_array_size(r), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "vip")),
			    "198.18.100.1");
	json_decref(r);
	r = ok(f, "{\"cmd\":\"service.list\",\"args\":{\"limit\":0}}");
	assert_int_equal(json_array_size(r), 2);
	json_decref(r);
	r = ok(f, "{\"cmd\":\"service.list\",\"args\":{\"limit\":5}}");
	assert_int_equal(json_array_size(r), 2);
	json_decref(r);

	r = ok(
	    f,
	    "{\"cmd\":\"backend.del\",\"args\":{\"service\":{\"vip\":\"2001:db8::100\","
	    "\"port\":443,\"proto\":\"tcp\"},\"backend\":{\"ip\":\"2001:db8::a\",\"port\":8443}}}");
	assert_true(json_is_null(r));
	json_decref(r);
	r = ok(f, "{\"cmd\":\"service.del\",\"args\":{\"vip\":\"2001:db8::100\",\"port\":443,"
		  "\"proto\":\"tcp\"}}");
	json_decref(r);
	assert_int_equal(f->applies, 4);
	after = config_dump(f);
	assert_string_equal(before, after);
	free(after);

	/* Deleting a service takes its backends with it. */
	r = ok(f, "{\"cmd\":\"service.del\",\"args\":{\"vip\":\"198.18.100.1\",\"port\":80,"
		  "\"proto\":\"tcp\"}}");
	json_decref(r);
	r = ok(f, "{\"cmd\":\"service.list\"}");
	assert_int_equal(json_array_size(r), 0);
	json_decref(r);
	free(before);
}

static void test_service_counters(void **state)
{
	struct fake *f = *state;
	json_t *r, *s, *b;

	json_decref(ok(f, "{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.18.100.9\",\"port\":80,"
			  "\"proto\":\"tcp\",\"datapath\":\"kernel\"}}"));
	r = ok(f, "{\"cmd\":\"service.list\"}");
	assert_int_equal(json_array_size(r), 2);
	s = json_array_get(r, 0);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(s, "stats"), "pkts_in")), 12);
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(json_object_get(s, "stats"), "drops"), "no_backend")),
			 1);
	/* The key and the backends stay outside "stats". */
	assert_null(json_object_get(json_object_get(s, "stats"), "backends"));
	assert_null(json_object_get(json_object_get(s, "stats"), "vip"));
	b = json_array_get(json_object_get(s, "backends"), 0);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(b, "stats"), "conns_active")), 2);
	assert_null(json_object_get(json_array_get(r, 1), "stats"));
	json_decref(r);

	r = ok(f, "{\"cmd\":\"backend.list\"}");
	assert_int_equal(json_array_size(r), 1);
	b = json_array_get(r, 0);
	assert_string_equal(json_string_value(json_object_get(b, "ip")), "198.18.2.10");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "service"), "vip")),
	    "198.18.100.1");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(b, "stats"), "pkts_in")), 12);
	json_decref(r);
	r = ok(f, "{\"cmd\":\"backend.list\",\"args\":{\"service\":{\"vip\":\"198.18.100.9\","
		  "\"port\":80,\"proto\":\"tcp\"}}}");
	assert_int_equal(json_array_size(r), 0);
	json_decref(r);
	r = call(f, "{\"cmd\":\"backend.list\",\"args\":{\"service\":{\"vip\":\"198.18.100.7\","
		    "\"port\":80,\"proto\":\"tcp\"}}}");
	assert_true(json_is_false(json_object_get(r, "ok")));
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "no service"));
	json_decref(r);
}

/* json without its "stats" and "health" members (and its backends'). */
static json_t *config_part(json_t *svc)
{
	json_t *c = json_deep_copy(svc), *b;
	size_t i;

	json_object_del(c, "stats");
	json_array_foreach(json_object_get(c, "backends"), i, b)
	{
		json_object_del(b, "stats");
		json_object_del(b, "health");
	}
	return c;
}

/* service.list is written as text from the config and the counters: its
 * services are the config's objects (every optional key), with the
 * counters' full key set and each backend's health. */
static void test_service_list_text(void **state)
{
	static const char *const svc_keys[] = {"pkts_in",   "bytes_in",	   "pkts_out",
					       "bytes_out", "conns_new",   "conns_active",
					       "datapath",  "drops_total", "drops"};
	static const char *const be_keys[] = {"pkts_in",   "bytes_in",	   "pkts_out", "bytes_out",
					      "conns_new", "conns_active", "drops"};
	struct fake *f = *state;
	json_t *r, *c, *s, *b, *st;
	size_t i, n_be = 0;

	json_decref(ok(f, "{\"cmd\":\"backend.add\",\"args\":{\"service\":{\"vip\":"
			  "\"198.18.100.1\",\"port\":80,\"proto\":\"tcp\"},\"backend\":{\"ip\":"
			  "\"198.18.2.11\",\"port\":8080,\"weight\":0}}}"));
	json_decref(ok(f,
		       "{\"cmd\":\"service.add\",\"args\":{\"vip\":\"2001:db8::7\",\"port\":53,"
		       "\"proto\":\"udp\",\"algorithm\":\"rr\","
		       "\"backends\":[{\"ip\":\"2001:db8::a\",\"port\":5353,\"weight\":3,"
		       "\"tunnel\":{\"type\":\"geneve\",\"remote\":\"198.18.3.2\",\"vni\":7,"
		       "\"mac\":\"02:00:00:00:04:0a\"}},{\"ip\":\"2001:db8::b\",\"port\":53}]}}"));
	json_decref(ok(f, "{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.18.100.3\",\"port\":80,"
			  "\"proto\":\"tcp\",\"snat\":true,\"maglev_size\":251,"
			  "\"check\":{\"type\":\"tcp\",\"port\":81},"
			  "\"backends\":[{\"ip\":\"198.18.0.7\",\"port\":80}]}}"));
	r = ok(f, "{\"cmd\":\"service.list\"}");
	json_t *doc = config_obj(f);
	c = json_object_get(doc, "services");
	assert_int_equal(json_array_size(r), 3);
	assert_int_equal(json_array_size(c), 3);
	json_array_foreach(r, i, s)
	{
		json_t *cp = config_part(s);
		size_t j;

		if (!json_equal(cp, json_array_get(c, i))) {
			char *a = json_dumps(cp, JSON_SORT_KEYS),
			     *e = json_dumps(json_array_get(c, i), JSON_SORT_KEYS);
			fail_msg("service %zu: %s, config has %s", i, a, e);
		}
		json_decref(cp);
		json_array_foreach(json_object_get(s, "backends"), j, b)
		{
			n_be++;
			assert_string_equal(json_string_value(json_object_get(
						json_object_get(b, "health"), "state")),
					    i == 2 ? "up" : "unchecked");
		}
	}
	/* The counted service: every counter key, and no other. */
	st = json_object_get(json_array_get(r, 0), "stats");
	assert_int_equal(json_object_size(st), sizeof(svc_keys) / sizeof(svc_keys[0]));
	for (i = 0; i < sizeof(svc_keys) / sizeof(svc_keys[0]); i++)
		assert_non_null(json_object_get(st, svc_keys[i]));
	assert_string_equal(json_string_value(json_object_get(st, "datapath")), "user");
	assert_int_equal(json_integer_value(json_object_get(st, "drops_total")), 1);
	b = json_array_get(json_object_get(json_array_get(r, 0), "backends"), 0);
	st = json_object_get(b, "stats");
	assert_int_equal(json_object_size(st), sizeof(be_keys) / sizeof(be_keys[0]));
	for (i = 0; i < sizeof(be_keys) / sizeof(be_keys[0]); i++)
		assert_non_null(json_object_get(st, be_keys[i]));
	assert_int_equal(json_integer_value(json_object_get(st, "pkts_in")), 12);
	/* The backend the data plane does not count has no stats. */
	b = json_array_get(json_object_get(json_array_get(r, 0), "backends"), 1);
	assert_null(json_object_get(b, "stats"));
	assert_null(json_object_get(json_array_get(r, 1), "stats"));
	json_decref(r);
	json_decref(doc);

	/* backend.list: every backend, in order, naming its service. */
	r = ok(f, "{\"cmd\":\"backend.list\"}");
	assert_int_equal(json_array_size(r), n_be);
	b = json_array_get(r, 2);
	assert_string_equal(json_string_value(json_object_get(b, "ip")), "2001:db8::a");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "tunnel"), "type")), "geneve");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "service"), "vip")),
	    "2001:db8::7");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "service"), "port")),
			 53);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "health"), "state")), "unchecked");
	b = json_array_get(r, 4);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "health"), "state")), "up");
	json_decref(r);
}

static void test_policy_and_steer_ids(void **state)
{
	struct fake *f = *state;
	json_t *r, *list;

	/* The base config has policy 1 and steer rule 1. */
	r = ok(f,
	       "{\"cmd\":\"policy.add\",\"args\":{\"action\":\"allow\",\"src\":\"198.18.1.0/24\","
	       "\"proto\":\"udp\",\"dport\":\"1000-2000\"}}");
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 2);
	assert_string_equal(json_string_value(json_object_get(r, "dport")), "1000-2000");
	json_decref(r);
	r = ok(f, "{\"cmd\":\"policy.add\",\"args\":{\"id\":10,\"action\":\"deny\"}}");
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 10);
	json_decref(r);
	r = ok(f, "{\"cmd\":\"policy.add\",\"args\":{\"action\":\"deny\",\"proto\":\"icmp\"}}");
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 11);
	json_decref(r);
	json_decref(ok(f, "{\"cmd\":\"policy.del\",\"args\":{\"id\":11}}"));
	/* Ids are not reused after a delete. */
	r = ok(f, "{\"cmd\":\"policy.add\",\"args\":{\"action\":\"deny\"}}");
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 12);
	json_decref(r);
	list = ok(f, "{\"cmd\":\"policy.list\"}");
	assert_int_equal(json_array_size(list), 4);
	/* Order is kept: rules are evaluated in it. */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "id")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 3), "id")), 12);
	json_decref(list);

	r = ok(f, "{\"cmd\":\"steer.add\",\"args\":{\"dst\":\"198.18.6.0/24\",\"proto\":\"tcp\","
		  "\"dport\":9000}}");
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 2);
	json_decref(r);
	json_decref(ok(f, "{\"cmd\":\"steer.del\",\"args\":{\"id\":1}}"));
	list = ok(f, "{\"cmd\":\"steer.list\"}");
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "dst")),
			    "198.18.6.0/24");
	json_decref(list);
	list = ok(f, "{\"cmd\":\"route.list\"}");
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
}

/* config.get is a document the file loader takes back unchanged. */
static void test_config_round_trip(void **state)
{
	struct fake *f = *state;
	struct xgw_config again;
	char err[256];
	json_t *doc, *doc2;

	json_decref(ok(f,
		       "{\"cmd\":\"backend.add\",\"args\":{\"service\":{\"vip\":\"198.18.100.1\","
		       "\"port\":80,\"proto\":\"tcp\"},\"backend\":{\"ip\":\"198.18.4.10\","
		       "\"port\":8080,\"tunnel\":{\"type\":\"vxlan\",\"remote\":\"198.18.3.2\","
		       "\"vni\":42}}}}"));
	doc = config_obj(f);
	if (xgw_config_load_json(&again, doc, err, sizeof(err)))
		fail_msg("config.get not accepted back: %s", err);
	doc2 = xgw_config_to_json(&again);
	assert_true(json_equal(doc, doc2));
	json_decref(doc);
	json_decref(doc2);
	xgw_config_free(&again);
}

/* ---- config lifecycle ---------------------------------------------------- */

static json_t *reply_of(struct fake *f, const char *line, bool *okp)
{
	json_t *r = call(f, line);

	*okp = json_is_true(json_object_get(r, "ok"));
	return r;
}

/* config.save writes what config.get shows; config.reload applies a
 * changed file atomically, reports what changed, and refuses (changing
 * nothing) a file that fails validation or changes a restart-only key. */
static void test_config_save_reload(void **state)
{
	struct fake *f = *state;
	char dir[] = "/tmp/xgw-cfg-test-XXXXXX", path[96], line[256], *before, *after;
	json_t *doc, *r, *svcs;
	bool okr;
	FILE *fp;
	int applies;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/xgw.json", dir);
	snprintf(line, sizeof(line), "{\"cmd\":\"config.save\",\"args\":{\"file\":\"%s\"}}", path);
	json_decref(ok(f, line));
	doc = json_load_file(path, 0, NULL);
	assert_non_null(doc);
	r = config_obj(f);
	assert_true(json_equal(doc, r));
	json_decref(r);
	xgw_ctl_set_config_path(f->ctl, path);

	/* One more service in the file: applied with one apply. */
	svcs = json_object_get(doc, "services");
	json_array_append_new(
	    svcs, json_pack("{s:s, s:i, s:s}", "vip", "198.18.100.2", "port", 443, "proto", "tcp"));
	assert_int_equal(json_dump_file(doc, path, 0), 0);
	applies = f->applies;
	r = ok(f, "{\"cmd\":\"config.reload\"}");
	assert_int_equal(f->applies, applies + 1);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(r, "services"), "added")), 1);
	assert_string_equal(json_string_value(json_object_get(r, "changed")), "services");
	json_decref(r);
	r = config_obj(f);
	assert_int_equal(json_array_size(json_object_get(r, "services")), 2);
	json_decref(r);

	/* A restart-only key changed: refused, nothing applied. */
	before = config_dump(f);
	assert_non_null(json_object_get(json_object_get(doc, "conntrack"), "max_entries"));
	json_object_set_new(json_object_get(doc, "conntrack"), "max_entries", json_integer(4096));
	json_array_append_new(
	    svcs, json_pack("{s:s, s:i, s:s}", "vip", "198.18.100.3", "port", 80, "proto", "tcp"));
	assert_int_equal(json_dump_file(doc, path, 0), 0);
	r = reply_of(f, "{\"cmd\":\"config.reload\"}", &okr);
	assert_false(okr);
	assert_non_null(
	    strstr(json_string_value(json_object_get(r, "error")), "conntrack changed"));
	json_decref(r);

	/* A file that does not parse: refused, nothing applied. */
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("{\"services\": [ {\"vip\": \"not an address\"", fp);
	fclose(fp);
	r = reply_of(f, "{\"cmd\":\"config.reload\"}", &okr);
	assert_false(okr);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "nothing changed"));
	json_decref(r);
	after = config_dump(f);
	assert_string_equal(before, after);
	assert_int_equal(f->applies, applies + 1);
	free(before);
	free(after);
	json_decref(doc);
	unlink(path);
	rmdir(dir);
}

/* ---- batch ----------------------------------------------------------------- */

/* Several changes, one validation and one apply; a failing item refuses the
 * whole batch by name and changes nothing. */
static void test_batch(void **state)
{
	struct fake *f = *state;
	char *before, *after;
	json_t *r;
	bool okr;
	int applies = f->applies;

	r = ok(
	    f,
	    "{\"cmd\":\"batch\",\"args\":["
	    "{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.18.100.7\",\"port\":53,"
	    "\"proto\":\"udp\"}},"
	    "{\"cmd\":\"backend.add\",\"args\":{\"service\":{\"vip\":\"198.18.100.7\","
	    "\"port\":53,\"proto\":\"udp\"},\"backend\":{\"ip\":\"198.18.2.53\",\"port\":53}}},"
	    "{\"cmd\":\"policy.add\",\"args\":{\"action\":\"deny\",\"src\":\"198.18.7.0/24\"}}]}");
	assert_int_equal(json_array_size(r), 3);
	json_decref(r);
	assert_int_equal(f->applies, applies + 1);

	before = config_dump(f);
	r = reply_of(f,
		     "{\"cmd\":\"batch\",\"args\":["
		     "{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.18.100.8\",\"port\":53,"
		     "\"proto\":\"udp\"}},"
		     "{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.18.100.7\",\"port\":53,"
		     "\"proto\":\"udp\"}}]}",
		     &okr);
	assert_false(okr);
	assert_non_null(
	    strstr(json_string_value(json_object_get(r, "error")), "batch[1] (service.add)"));
	json_decref(r);
	r = reply_of(f, "{\"cmd\":\"batch\",\"args\":[{\"cmd\":\"service.list\"}]}", &okr);
	assert_false(okr);
	assert_non_null(
	    strstr(json_string_value(json_object_get(r, "error")), "not a config change"));
	json_decref(r);
	r = reply_of(f, "{\"cmd\":\"batch\",\"args\":[{\"cmd\":\"config.reload\"}]}", &okr);
	assert_false(okr);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "cannot be part"));
	json_decref(r);
	r = reply_of(f, "{\"cmd\":\"batch\",\"args\":{\"cmd\":\"service.list\"}}", &okr);
	assert_false(okr);
	json_decref(r);
	r = reply_of(f,
		     "{\"cmd\":\"batch\",\"args\":[{\"cmd\":\"service.add\",\"args\":{\"vip\":"
		     "\"198.18.100.9\",\"port\":1,\"proto\":\"tcp\"}},{\"cmd\":\"nosuch\"}]}",
		     &okr);
	assert_false(okr);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "batch[1].cmd"));
	json_decref(r);
	after = config_dump(f);
	assert_string_equal(before, after);
	assert_int_equal(f->applies, applies + 1);
	free(before);
	free(after);
}

/* One random config change among few services and backends (most of
 * them refused: no such service, a duplicate). */
static void random_request(char *buf, size_t len, unsigned r)
{
	char svc[96], be[64];
	unsigned v = r % 5, b = (r / 5) % 4;

	snprintf(svc, sizeof(svc), "{\"vip\":\"198.18.100.%u\",\"port\":80,\"proto\":\"tcp\"}",
		 20 + v);
	snprintf(be, sizeof(be), "\"ip\":\"198.18.2.%u\",\"port\":8080", 10 + b);
	switch ((r / 20) % 8) {
	case 0:
	case 1:
		snprintf(buf, len, "{\"cmd\":\"service.add\",\"args\":%s}", svc);
		break;
	case 2:
		snprintf(buf, len, "{\"cmd\":\"service.del\",\"args\":%s}", svc);
		break;
	case 3:
		snprintf(buf, len,
			 "{\"cmd\":\"service.move\",\"args\":{\"vip\":\"198.18.100.%u\","
			 "\"port\":80,\"proto\":\"tcp\",\"datapath\":\"%s\"}}",
			 20 + v, b & 1 ? "kernel" : "user");
		break;
	case 4:
		snprintf(buf, len,
			 "{\"cmd\":\"service.check\",\"args\":{\"vip\":\"198.18.100.%u\","
			 "\"port\":80,\"proto\":\"tcp\",\"check\":{\"type\":\"%s\"}}}",
			 20 + v, b & 1 ? "tcp" : "none");
		break;
	case 5:
		snprintf(buf, len,
			 "{\"cmd\":\"backend.add\",\"args\":{\"service\":%s,\"backend\":{%s}}}",
			 svc, be);
		break;
	case 6:
		snprintf(buf, len,
			 "{\"cmd\":\"backend.del\",\"args\":{\"service\":%s,\"backend\":{%s}}}",
			 svc, be);
		break;
	default:
		snprintf(buf, len,
			 "{\"cmd\":\"backend.set\",\"args\":{\"service\":%s,\"backend\":{%s,"
			 "\"weight\":%u}}}",
			 svc, be, b);
		break;
	}
}

/* Writes name the services they change (the delta their working copy
 * carries, checked by fake_apply against the running config); a refused
 * one changes nothing. */
static void test_named_changes(void **state)
{
	struct fake *f = *state;
	uint64_t rng = 0x2545f4914f6cdd1dull;
	unsigned oks = 0;

	for (int step = 0; step < 400; step++) {
		char line[8192], one[512];
		unsigned k;
		char *before = config_dump(f), *after;
		bool okr;
		json_t *r;

		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		k = (unsigned)(rng % 3);
		if (!k) {
			random_request(line, sizeof(line), (unsigned)(rng >> 8));
		} else {
			size_t n =
			    (size_t)snprintf(line, sizeof(line), "{\"cmd\":\"batch\",\"args\":[");
			for (unsigned i = 0; i < k + 1; i++) {
				random_request(one, sizeof(one), (unsigned)(rng >> (8 + 8 * i)));
				n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s",
						      i ? "," : "", one);
			}
			snprintf(line + n, sizeof(line) - n, "]}");
		}
		r = reply_of(f, line, &okr);
		json_decref(r);
		after = config_dump(f);
		if (okr)
			oks++;
		else
			assert_string_equal(before, after);
		free(before);
		free(after);
	}
	print_message("%u of 400 writes applied, %d named\n", oks, f->named);
	assert_true(f->named > 50);
}

/* Services are found by the server's key index (many services, in the
 * running config and added by the same batch, some removed between). */
static void test_find_many(void **state)
{
	struct fake *f = *state;
	static char line[600 * 120];
	size_t n = 0;
	json_t *r;
	bool okr;

	n += (size_t)snprintf(line + n, sizeof(line) - n, "{\"cmd\":\"batch\",\"args\":[");
	for (unsigned i = 0; i < 600; i++)
		n += (size_t)snprintf(
		    line + n, sizeof(line) - n,
		    "%s{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.19.%u.%u\","
		    "\"port\":%u,\"proto\":\"udp\"}}",
		    i ? "," : "", i / 200, i % 200, 53 + i % 3);
	snprintf(line + n, sizeof(line) - n, "]}");
	json_decref(ok(f, line));
	for (unsigned step = 0; step < 900; step++) {
		unsigned i = (step * 7919u) % 600;
		char svc[96], req[512];
		int at;
		struct xgw_addr vip;

		snprintf(svc, sizeof(svc),
			 "{\"vip\":\"198.19.%u.%u\",\"port\":%u,\"proto\":\"udp\"}", i / 200,
			 i % 200, 53 + i % 3);
		snprintf(req, sizeof(req), "198.19.%u.%u", i / 200, i % 200);
		assert_int_equal(xgw_addr_parse(&vip, req), 0);
		at = xgw_config_find_service(&f->cfg, &vip, (uint16_t)(53 + i % 3), IPPROTO_UDP);
		if (step % 100 == 99 && at >= 0) {
			/* Removed (the index is made again), then added back
			 * with a backend in one batch. */
			snprintf(req, sizeof(req), "{\"cmd\":\"service.del\",\"args\":%s}", svc);
			json_decref(ok(f, req));
			snprintf(
			    req, sizeof(req),
			    "{\"cmd\":\"batch\",\"args\":[{\"cmd\":\"service.add\",\"args\":%s},"
			    "{\"cmd\":\"backend.add\",\"args\":{\"service\":%s,\"backend\":{"
			    "\"ip\":\"198.18.2.99\",\"port\":1}}}]}",
			    svc, svc);
			json_decref(ok(f, req));
			continue;
		}
		assert_true(at >= 0);
		/* A duplicate is refused; a backend lands on its service. */
		snprintf(req, sizeof(req), "{\"cmd\":\"service.add\",\"args\":%s}", svc);
		r = reply_of(f, req, &okr);
		assert_false(okr);
		json_decref(r);
		unsigned nb = f->cfg.services[at].n_backends;
		snprintf(req, sizeof(req),
			 "{\"cmd\":\"backend.add\",\"args\":{\"service\":%s,\"backend\":{"
			 "\"ip\":\"198.18.2.%u\",\"port\":%u}}}",
			 svc, 10 + step % 200, 1000 + step);
		json_decref(ok(f, req));
		assert_int_equal(f->cfg.services[at].n_backends, nb + 1);
		assert_int_equal(f->cfg.services[at].backends[nb].port, 1000 + step);
	}
}

/* backend.set: the weight changes in place; an unknown backend or a weight
 * out of range is refused and changes nothing. */
static void test_backend_set(void **state)
{
	struct fake *f = *state;
	char *before, *after;
	json_t *r;
	bool okr;

	r = ok(f,
	       "{\"cmd\":\"backend.set\",\"args\":{\"service\":{\"vip\":\"198.18.100.1\","
	       "\"port\":80,\"proto\":\"tcp\"},\"backend\":{\"ip\":\"198.18.2.10\",\"port\":8080,"
	       "\"weight\":0}}}");
	assert_int_equal(json_integer_value(json_object_get(r, "weight")), 0);
	json_decref(r);
	r = config_obj(f);
	assert_int_equal(
	    json_integer_value(json_object_get(
		json_array_get(
		    json_object_get(json_array_get(json_object_get(r, "services"), 0), "backends"),
		    0),
		"weight")),
	    0);
	json_decref(r);
	before = config_dump(f);
	r = reply_of(
	    f,
	    "{\"cmd\":\"backend.set\",\"args\":{\"service\":{\"vip\":\"198.18.100.1\","
	    "\"port\":80,\"proto\":\"tcp\"},\"backend\":{\"ip\":\"198.18.2.11\",\"port\":8080,"
	    "\"weight\":3}}}",
	    &okr);
	assert_false(okr);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "no backend"));
	json_decref(r);
	r = reply_of(
	    f,
	    "{\"cmd\":\"backend.set\",\"args\":{\"service\":{\"vip\":\"198.18.100.1\","
	    "\"port\":80,\"proto\":\"tcp\"},\"backend\":{\"ip\":\"198.18.2.10\",\"port\":8080,"
	    "\"weight\":70000}}}",
	    &okr);
	assert_false(okr);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")), "0..65535"));
	json_decref(r);
	after = config_dump(f);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void test_views_and_help(void **state)
{
	struct fake *f = *state;
	json_t *r;
	size_t i;
	json_t *e;

	r = ok(f, "{\"cmd\":\"stats\"}");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(r, "drops"), "no_backend")), 3);
	json_decref(r);
	r = ok(f, "{\"cmd\":\"ports\",\"args\":{}}");
	assert_int_equal(json_array_size(r), 1);
	json_decref(r);
	json_decref(ok(f, "{\"cmd\":\"ct.list\"}"));
	assert_int_equal(f->last_limit, 1000);
	json_decref(ok(f, "{\"cmd\":\"ct.list\",\"args\":{\"limit\":5}}"));
	assert_int_equal(f->last_limit, 5);
	json_decref(ok(f, "{\"cmd\":\"ct.flush\"}"));
	assert_int_equal(f->flushes, 1);
	assert_int_equal(f->applies, 0);

	r = ok(f, "{\"cmd\":\"help\"}");
	assert_true(json_array_size(r) >= 18);
	json_array_foreach(r, i, e)
	{
		const char *kind = json_string_value(json_object_get(e, "kind"));

		assert_non_null(json_string_value(json_object_get(e, "cmd")));
		assert_non_null(json_string_value(json_object_get(e, "help")));
		assert_true(!strcmp(kind, "read") || !strcmp(kind, "write") ||
			    !strcmp(kind, "action"));
	}
	json_decref(r);
	r = ok(f, "{\"cmd\":\"help\",\"args\":{\"cmd\":\"service.add\"}}");
	assert_string_equal(json_string_value(json_object_get(r, "kind")), "write");
	json_decref(r);
}

static void test_missing_hooks(void **state)
{
	struct fake *f = *state;
	static const struct xgw_ctl_ops none = {0};
	struct xgw_config cfg;
	struct xgw_ctl *c;
	json_t *r;
	const char *cmds[] = {"stats", "ports", "ct.list", "ct.flush"};

	assert_int_equal(xgw_config_copy(&cfg, &f->cfg), 0);
	c = xgw_ctl_new_detached(&cfg, &none, NULL);
	for (size_t i = 0; i < 4; i++) {
		char line[64], want[64];

		snprintf(line, sizeof(line), "{\"cmd\":\"%s\"}", cmds[i]);
		snprintf(want, sizeof(want), "%s: not available", cmds[i]);
		r = xgw_ctl_handle(c, line, strlen(line));
		assert_string_equal(json_string_value(json_object_get(r, "error")), want);
		json_decref(r);
	}
	/* No apply hook: valid writes are simply taken. */
	{
		const char *del = "{\"cmd\":\"policy.del\",\"args\":{\"id\":1}}";

		r = xgw_ctl_handle(c, del, strlen(del));
	}
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	assert_int_equal(cfg.n_policies, 0);
	xgw_ctl_stop(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_apply_failure_keeps_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shared_backends, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_service_lifecycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_service_counters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_service_list_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_and_steer_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_save_reload, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backend_set, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_named_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_find_many, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_views_and_help, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_hooks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
