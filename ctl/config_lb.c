/* SPDX-License-Identifier: BSD-3-Clause */
/* Services and their backends: JSON in and out. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/config.h"
#include "ctl/config_json.h"

static const char *const datapath_names[] = {"user", "kernel", NULL};
static const char *const algo_names[] = {"maglev", "rr", "random", NULL};
/* Index + 1 is the enum xgw_tun_type (0 is "no tunnel"). */
static const char *const tun_names[] = {"vxlan", "geneve", NULL};
/* Index is the enum xgw_check_type. */
static const char *const check_names[] = {"none", "tcp", "http", "udp", NULL};
/* What a backend's connections get when its checks fail: only "keep" is
 * served (README, "Health checks"); "reset" is named to be refused clearly. */
static const char *const on_down_names[] = {"keep", "reset", NULL};

static const char *family_name(const struct xgw_addr *a)
{
	return a->family == AF_INET6 ? "IPv6" : "IPv4";
}

static int tunnel_from_json(struct xgw_backend_cfg *b, const struct cj *c)
{
	static const char *const keys[] = {"type", "remote", "vni", "mac", NULL};
	char path[CJ_PATH_MAX];
	struct cj t;
	uint64_t v;
	int rc, type;

	rc = cj_sub(c, "tunnel", false, keys, &t, path, sizeof(path));
	if (rc)
		return rc > 0 ? 0 : rc;
	if ((rc = cj_enum(&t, "type", true, tun_names, &type)) < 0)
		return rc;
	b->tun = (enum xgw_tun_type)(type + 1);
	/* The outer family is independent of the inner one (IPv4 services
	 * over an IPv6 underlay are fine). */
	if ((rc = cj_addr(&t, "remote", true, &b->tun_remote)) < 0)
		return rc;
	if ((rc = cj_uint(&t, "vni", true, 0, (1u << 24) - 1, &v)) < 0)
		return rc;
	b->vni = (uint32_t)v;
	if ((rc = cj_mac(&t, "mac", false, b->inner_mac)) < 0)
		return rc;
	b->has_inner_mac = rc == 0;
	return 0;
}

int xgw_backend_from_json(struct xgw_backend_cfg *b, json_t *j, const char *where, char *err,
			  size_t errlen)
{
	static const char *const keys[] = {"ip", "port", "weight", "tunnel", NULL};
	struct cj c;
	uint64_t v;
	int rc;

	memset(b, 0, sizeof(*b));
	b->weight = 1;
	if ((rc = cj_open(&c, j, where, keys, err, errlen)) < 0)
		goto fail;
	if ((rc = cj_addr(&c, "ip", true, &b->ip)) < 0)
		goto fail;
	if ((rc = cj_uint(&c, "port", true, 1, 65535, &v)) < 0)
		goto fail;
	b->port = (uint16_t)v;
	/* Weight 0 keeps the backend configured but out of new picks. */
	if ((rc = cj_uint(&c, "weight", false, 0, XGW_MAX_WEIGHT, &v)) < 0)
		goto fail;
	if (!rc)
		b->weight = (uint32_t)v;
	if ((rc = tunnel_from_json(b, &c)) < 0)
		goto fail;
	return 0;
fail:
	memset(b, 0, sizeof(*b));
	return rc;
}

json_t *xgw_backend_to_json(const struct xgw_backend_cfg *b)
{
	json_t *o = json_object(), *t;
	int bad = 0;

	bad |= cj_set(o, "ip", cj_addr_json(&b->ip));
	bad |= cj_set(o, "port", json_integer(b->port));
	bad |= cj_set(o, "weight", json_integer(b->weight));
	if (b->tun != XGW_TUN_NONE) {
		t = json_object();
		bad |= cj_set(t, "type", json_string(tun_names[b->tun - 1]));
		bad |= cj_set(t, "remote", cj_addr_json(&b->tun_remote));
		bad |= cj_set(t, "vni", json_integer(b->vni));
		if (b->has_inner_mac)
			bad |= cj_set(t, "mac", cj_mac_json(b->inner_mac));
		bad |= cj_set(o, "tunnel", t);
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int check_family(const struct xgw_service_cfg *s, const struct xgw_backend_cfg *b,
			const char *where, char *err, size_t errlen)
{
	char a[XGW_ADDR_STRLEN], v[XGW_ADDR_STRLEN];

	if (b->ip.family == s->vip.family)
		return 0;
	/* No NAT64 here: a backend must be reachable in the vip's family. */
	return cj_fail(err, errlen, where, "ip", "%s is %s but the vip %s is %s",
		       xgw_addr_str(&b->ip, a, sizeof(a)), family_name(&b->ip),
		       xgw_addr_str(&s->vip, v, sizeof(v)), family_name(&s->vip));
}

static int dup_backend(const struct xgw_backend_cfg *b, const char *where, char *err, size_t errlen)
{
	char ep[XGW_KEY_STRLEN];

	return cj_fail(err, errlen, where, NULL, "duplicate backend %s",
		       xgw_endpoint_str(&b->ip, b->port, ep, sizeof(ep)));
}

int xgw_service_check_backend(const struct xgw_service_cfg *s, const struct xgw_backend_cfg *b,
			      const char *where, char *err, size_t errlen)
{
	int rc = check_family(s, b, where, err, errlen);

	if (rc)
		return rc;
	for (unsigned i = 0; i < s->n_backends; i++) {
		if (xgw_addr_eq(&s->backends[i].ip, &b->ip) && s->backends[i].port == b->port)
			return dup_backend(b, where, err, errlen);
	}
	return 0;
}

int cfg_service_check(const struct xgw_service_cfg *s, const char *where, char *err, size_t errlen)
{
	struct key {
		uint8_t family;
		uint8_t addr[16];
		uint8_t port[2];
	} small[16], *keys;
	char path[CJ_PATH_MAX];
	size_t first;
	long dup;

	for (unsigned i = 0; i < s->n_backends; i++) {
		/* The path only for the message: formatting it per backend
		 * was most of a write's validation at 10,000 services. */
		if (!check_family(s, &s->backends[i], where, err, errlen))
			continue;
		cj_path(path, sizeof(path), where, "backends", i);
		return check_family(s, &s->backends[i], path, err, errlen);
	}
	if (s->n_backends < 2)
		return 0;
	/* The usual few on the stack: a write validates every service. */
	keys = s->n_backends <= 16 ? small : calloc(s->n_backends, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	memset(keys, 0, s->n_backends * sizeof(*keys));
	for (unsigned i = 0; i < s->n_backends; i++) {
		keys[i].family = s->backends[i].ip.family;
		memcpy(keys[i].addr, s->backends[i].ip.b, 16);
		memcpy(keys[i].port, &s->backends[i].port, 2);
	}
	dup = cfg_find_dup(keys, s->n_backends, sizeof(*keys), &first);
	if (keys != small)
		free(keys);
	if (dup < 0)
		return 0;
	cj_path(path, sizeof(path), where, "backends", dup);
	return dup_backend(&s->backends[dup], path, err, errlen);
}

/* "check": {...}: absent = no checks.  Timings in ms, counts bounded so
 * that a typo (interval 0, fall 1000000) is an error, not a silent
 * never-down backend. */
static int check_from_json(struct xgw_check_cfg *k, const struct cj *c)
{
	static const char *const keys[] = {"type", "port",   "interval_ms", "timeout_ms",
					   "rise", "fall",   "status",	    "path",
					   "send", "expect", "on_down",	    NULL};
	char path[CJ_PATH_MAX];
	struct cj o;
	uint64_t v;
	int rc, e;

	xgw_check_defaults(k);
	rc = cj_sub(c, "check", false, keys, &o, path, sizeof(path));
	if (rc)
		return rc > 0 ? 0 : rc;
	if ((rc = cj_enum(&o, "type", true, check_names, &e)) < 0)
		return rc;
	k->type = (enum xgw_check_type)e;
	if ((rc = cj_uint(&o, "port", false, 1, 65535, &v)) < 0)
		return rc;
	if (!rc)
		k->port = (uint16_t)v;
	if ((rc = cj_uint(&o, "interval_ms", false, 100, 3600000, &v)) < 0)
		return rc;
	if (!rc)
		k->interval_ms = (uint32_t)v;
	if ((rc = cj_uint(&o, "timeout_ms", false, 10, 3600000, &v)) < 0)
		return rc;
	if (!rc)
		k->timeout_ms = (uint32_t)v;
	if ((rc = cj_uint(&o, "rise", false, 1, 100, &v)) < 0)
		return rc;
	if (!rc)
		k->rise = (uint32_t)v;
	if ((rc = cj_uint(&o, "fall", false, 1, 100, &v)) < 0)
		return rc;
	if (!rc)
		k->fall = (uint32_t)v;
	if ((rc = cj_uint(&o, "status", false, 100, 599, &v)) < 0)
		return rc;
	if (!rc)
		k->status = (uint16_t)v;
	if ((rc = cj_str(&o, "path", false, false, k->path, sizeof(k->path))) < 0)
		return rc;
	if ((rc = cj_str(&o, "send", false, false, k->send, sizeof(k->send))) < 0)
		return rc;
	if ((rc = cj_str(&o, "expect", false, true, k->expect, sizeof(k->expect))) < 0)
		return rc;
	e = XGW_ON_DOWN_KEEP;
	if ((rc = cj_enum(&o, "on_down", false, on_down_names, &e)) < 0)
		return rc;
	k->on_down = (enum xgw_on_down)e;
	return xgw_check_validate(k, o.where, o.err, o.errlen);
}

int xgw_check_validate(const struct xgw_check_cfg *k, const char *where, char *err, size_t errlen)
{
	if (k->type == XGW_CHECK_NONE)
		return 0;
	if (k->timeout_ms > k->interval_ms)
		return cj_fail(err, errlen, where, "timeout_ms",
			       "%u ms is longer than interval_ms (%u ms)", k->timeout_ms,
			       k->interval_ms);
	if (k->path[0] != '/' || strpbrk(k->path, " \r\n"))
		return cj_fail(err, errlen, where, "path",
			       "expected an absolute HTTP path without spaces, e.g. \"/health\"");
	if (k->type != XGW_CHECK_HTTP && (k->status != 200 || strcmp(k->path, "/")))
		return cj_fail(err, errlen, where, NULL,
			       "\"status\" and \"path\" apply to \"http\" checks only");
	if (k->type != XGW_CHECK_UDP && (k->send[0] || k->expect[0]))
		return cj_fail(err, errlen, where, NULL,
			       "\"send\" and \"expect\" apply to \"udp\" checks only");
	if (k->type == XGW_CHECK_UDP && !k->send[0])
		return cj_fail(err, errlen, where, "send",
			       "a \"udp\" check needs a payload to send");
	return 0;
}

json_t *xgw_check_to_json(const struct xgw_check_cfg *k)
{
	json_t *o = json_object();
	int bad = 0;

	bad |= cj_set(o, "type", json_string(check_names[k->type]));
	if (k->type != XGW_CHECK_NONE) {
		if (k->port)
			bad |= cj_set(o, "port", json_integer(k->port));
		bad |= cj_set(o, "interval_ms", json_integer(k->interval_ms));
		bad |= cj_set(o, "timeout_ms", json_integer(k->timeout_ms));
		bad |= cj_set(o, "rise", json_integer(k->rise));
		bad |= cj_set(o, "fall", json_integer(k->fall));
		bad |= cj_set(o, "on_down", json_string(on_down_names[k->on_down]));
	}
	if (k->type == XGW_CHECK_HTTP) {
		bad |= cj_set(o, "path", json_string(k->path));
		bad |= cj_set(o, "status", json_integer(k->status));
	}
	if (k->type == XGW_CHECK_UDP) {
		bad |= cj_set(o, "send", json_string(k->send));
		bad |= cj_set(o, "expect", json_string(k->expect));
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int xgw_service_from_json(struct xgw_service_cfg *s, json_t *j, const char *where, char *err,
			  size_t errlen)
{
	static const char *const keys[] = {"vip",	"port", "proto",    "datapath",
					   "algorithm", "snat", "backends", "maglev_size",
					   "check",	NULL};
	char path[CJ_PATH_MAX];
	json_t *arr = NULL, *v;
	struct cj c;
	uint64_t u;
	size_t i;
	int rc, e;

	memset(s, 0, sizeof(*s));
	if ((rc = cj_open(&c, j, where, keys, err, errlen)) < 0)
		goto fail;
	if ((rc = cj_addr(&c, "vip", true, &s->vip)) < 0)
		goto fail;
	if ((rc = cj_uint(&c, "port", true, 1, 65535, &u)) < 0)
		goto fail;
	s->port = (uint16_t)u;
	if ((rc = cj_proto(&c, "proto", true, false, &s->proto)) < 0)
		goto fail;
	e = XGW_DP_USER;
	if ((rc = cj_enum(&c, "datapath", false, datapath_names, &e)) < 0)
		goto fail;
	s->datapath = (enum xgw_datapath)e;
	e = XGW_ALGO_MAGLEV;
	if ((rc = cj_enum(&c, "algorithm", false, algo_names, &e)) < 0)
		goto fail;
	s->algo = (enum xgw_algo)e;
	if ((rc = cj_bool(&c, "snat", false, &s->snat)) < 0)
		goto fail;
	/* As lb.maglev_size; absent: from the weights (lb/maglev.h). */
	if ((rc = cj_uint(&c, "maglev_size", false, 0, UINT32_MAX, &u)) < 0 ||
	    (!rc && (u < 7 || u > 16777216 || !cfg_is_prime((uint32_t)u)))) {
		rc = cj_fail(err, errlen, where, "maglev_size",
			     "must be a prime between 7 and 16777216");
		goto fail;
	}
	if (!rc)
		s->maglev_size = (uint32_t)u;
	if ((rc = check_from_json(&s->check, &c)) < 0)
		goto fail;
	if ((rc = cj_array(&c, "backends", false, &arr)) < 0)
		goto fail;
	if (arr && json_array_size(arr)) {
		s->backends = calloc(json_array_size(arr), sizeof(*s->backends));
		if (!s->backends) {
			rc = -ENOMEM;
			goto fail;
		}
		json_array_foreach(arr, i, v)
		{
			cj_path(path, sizeof(path), where, "backends", (long)i);
			rc = xgw_backend_from_json(&s->backends[i], v, path, err, errlen);
			if (rc < 0)
				goto fail;
			s->n_backends++;
		}
	}
	if ((rc = cfg_service_check(s, where, err, errlen)) < 0)
		goto fail;
	return 0;
fail:
	xgw_service_free(s);
	return rc;
}

const char *xgw_datapath_name(unsigned datapath)
{
	return datapath < 2 ? datapath_names[datapath] : "?";
}

const char *xgw_algo_name(unsigned algo)
{
	return algo < 3 ? algo_names[algo] : "?";
}

json_t *xgw_service_to_json(const struct xgw_service_cfg *s)
{
	json_t *o = json_object(), *arr = json_array();
	int bad = 0;

	bad |= cj_set(o, "vip", cj_addr_json(&s->vip));
	bad |= cj_set(o, "port", json_integer(s->port));
	bad |= cj_set(o, "proto", json_string(xgw_proto_name(s->proto)));
	bad |= cj_set(o, "datapath", json_string(xgw_datapath_name(s->datapath)));
	bad |= cj_set(o, "algorithm", json_string(xgw_algo_name(s->algo)));
	bad |= cj_set(o, "snat", json_boolean(s->snat));
	if (s->maglev_size)
		bad |= cj_set(o, "maglev_size", json_integer(s->maglev_size));
	if (s->check.type != XGW_CHECK_NONE)
		bad |= cj_set(o, "check", xgw_check_to_json(&s->check));
	for (unsigned i = 0; arr && i < s->n_backends; i++)
		bad |= json_array_append_new(arr, xgw_backend_to_json(&s->backends[i]));
	bad |= cj_set(o, "backends", arr);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
