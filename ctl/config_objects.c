/* SPDX-License-Identifier: BSD-3-Clause */
/* Ports, steering rules, routes, neighbours and policies: JSON in and out.
 * Services and backends live in config_lb.c. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/config.h"
#include "ctl/config_json.h"

static const char *const zc_names[] = {"auto", "on", "off", NULL};
static const char *const xdp_names[] = {"auto", "native", "skb", NULL};
static const char *const driver_names[] = {"af_xdp", "dpdk", NULL};
static const char *const action_names[] = {"deny", "allow", NULL};

/* Ids of steer rules and policies: 0 means "assign one"; the upper bound
 * leaves room for max(id)+1 without wrapping. */
#define ID_MAX INT32_MAX

static const char *family_name(const struct xgw_addr *a)
{
	return a->family == AF_INET6 ? "IPv6" : "IPv4";
}

/* Port names appear in CLI output, metrics labels and routes: keep them to
 * characters that need no quoting anywhere. */
static int check_port_name(const struct cj *c, const char *key, const char *name)
{
	for (const char *p = name; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.')
			continue;
		return cj_fail(c->err, c->errlen, c->where, key,
			       "\"%s\": only letters, digits, '-', '_' and '.' are allowed", name);
	}
	return 0;
}

/* The kernel's dev_valid_name(): what it refuses could never be found. */
static int check_ifname(const struct cj *c, const char *key, const char *name)
{
	if (!strcmp(name, ".") || !strcmp(name, "..") || strpbrk(name, "/: \t\n\r\f\v"))
		return cj_fail(c->err, c->errlen, c->where, key,
			       "\"%s\" is not a valid interface name", name);
	return 0;
}

static int queue_from_json(struct xgw_queue_cfg *q, json_t *j, const char *where, char *err,
			   size_t errlen)
{
	static const char *const keys[] = {"queue", "core", NULL};
	struct cj c;
	uint64_t v;
	int rc;

	if ((rc = cj_open(&c, j, where, keys, err, errlen)) < 0)
		return rc;
	if ((rc = cj_uint(&c, "queue", true, 0, 65535, &v)) < 0)
		return rc;
	q->queue = (uint16_t)v;
	if ((rc = cj_uint(&c, "core", true, 0, INT32_MAX, &v)) < 0)
		return rc;
	q->core = (int)v;
	return 0;
}

/* "iface" is what an AF_XDP port binds to; a DPDK port binds "device"
 * and may name the kernel interface behind it (net_af_xdp's iface) so
 * that routes and neighbours learnt on it apply to the port. */
static int port_driver_from_json(const struct cj *c, struct xgw_port_cfg *p)
{
	bool dpdk = p->driver == XGW_DRV_DPDK;
	int rc;

	if (dpdk && !XGW_HAVE_DPDK)
		return cj_fail(c->err, c->errlen, c->where, "driver",
			       "\"dpdk\": this xgw was built without DPDK (meson setup "
			       "-Ddpdk=enabled, with libdpdk-dev installed)");
	if ((rc = cj_str(c, "iface", !dpdk, false, p->iface, sizeof(p->iface))) < 0 ||
	    (rc = check_ifname(c, "iface", p->iface)) < 0)
		return rc;
	if ((rc = cj_str(c, "device", dpdk, false, p->device, sizeof(p->device))) < 0)
		return rc;
	if (!dpdk && p->device[0])
		return cj_fail(c->err, c->errlen, c->where, "device",
			       "only for \"driver\": \"dpdk\" (an AF_XDP port uses \"iface\")");
	return 0;
}

int cfg_port_from_json(struct xgw_port_cfg *p, json_t *j, const char *where, char *err,
		       size_t errlen)
{
	static const char *const keys[] = {"name",     "iface",	   "driver",	"device",
					   "zerocopy", "xdp_mode", "busy_poll", "busy_poll_budget",
					   "queues",   NULL};
	char path[CJ_PATH_MAX];
	json_t *arr, *v;
	struct cj c;
	uint64_t u;
	size_t i;
	int rc, e;

	memset(p, 0, sizeof(*p));
	p->busy_poll_budget = 64;
	if ((rc = cj_open(&c, j, where, keys, err, errlen)) < 0)
		goto fail;
	if ((rc = cj_str(&c, "name", true, false, p->name, sizeof(p->name))) < 0 ||
	    (rc = check_port_name(&c, "name", p->name)) < 0)
		goto fail;
	e = XGW_DRV_AF_XDP;
	if ((rc = cj_enum(&c, "driver", false, driver_names, &e)) < 0)
		goto fail;
	p->driver = (enum xgw_port_driver)e;
	if ((rc = port_driver_from_json(&c, p)) < 0)
		goto fail;
	e = XGW_ZC_AUTO;
	if ((rc = cj_enum(&c, "zerocopy", false, zc_names, &e)) < 0)
		goto fail;
	p->zerocopy = (enum xgw_zerocopy)e;
	e = XGW_XDP_AUTO;
	if ((rc = cj_enum(&c, "xdp_mode", false, xdp_names, &e)) < 0)
		goto fail;
	p->xdp_mode = (enum xgw_xdp_mode)e;
	if ((rc = cj_bool(&c, "busy_poll", false, &p->busy_poll)) < 0)
		goto fail;
	/* SO_BUSY_POLL_BUDGET is a u16 in the kernel; 0 would poll nothing. */
	if ((rc = cj_uint(&c, "busy_poll_budget", false, 1, 65535, &u)) < 0)
		goto fail;
	if (!rc)
		p->busy_poll_budget = (uint32_t)u;
	/* AF_XDP socket and XDP attach settings mean nothing to a PMD:
	 * refused rather than ignored. */
	if (p->driver == XGW_DRV_DPDK &&
	    (p->zerocopy != XGW_ZC_AUTO || p->xdp_mode != XGW_XDP_AUTO || p->busy_poll)) {
		rc = cj_fail(err, errlen, where,
			     p->zerocopy != XGW_ZC_AUTO	   ? "zerocopy"
			     : p->xdp_mode != XGW_XDP_AUTO ? "xdp_mode"
							   : "busy_poll",
			     "only for \"driver\": \"af_xdp\" (a DPDK port's PMD decides)");
		goto fail;
	}
	if ((rc = cj_array(&c, "queues", true, &arr)) < 0)
		goto fail;
	if (!json_array_size(arr)) {
		rc = cj_fail(err, errlen, where, "queues", "needs at least one queue");
		goto fail;
	}
	p->queues = calloc(json_array_size(arr), sizeof(*p->queues));
	if (!p->queues) {
		rc = -ENOMEM;
		goto fail;
	}
	json_array_foreach(arr, i, v)
	{
		cj_path(path, sizeof(path), where, "queues", (long)i);
		if ((rc = queue_from_json(&p->queues[i], v, path, err, errlen)) < 0)
			goto fail;
		p->n_queues++;
	}
	return 0;
fail:
	free(p->queues);
	memset(p, 0, sizeof(*p));
	return rc;
}

json_t *cfg_port_to_json(const struct xgw_port_cfg *p)
{
	json_t *o = json_object(), *arr = json_array(), *q;
	int bad = 0;

	bad |= cj_set(o, "name", json_string(p->name));
	if (p->iface[0])
		bad |= cj_set(o, "iface", json_string(p->iface));
	if (p->driver == XGW_DRV_DPDK) {
		bad |= cj_set(o, "driver", json_string(driver_names[p->driver]));
		bad |= cj_set(o, "device", json_string(p->device));
	}
	bad |= cj_set(o, "zerocopy", json_string(zc_names[p->zerocopy]));
	bad |= cj_set(o, "xdp_mode", json_string(xdp_names[p->xdp_mode]));
	bad |= cj_set(o, "busy_poll", json_boolean(p->busy_poll));
	bad |= cj_set(o, "busy_poll_budget", json_integer(p->busy_poll_budget));
	for (unsigned i = 0; arr && i < p->n_queues; i++) {
		q = json_pack("{s:i, s:i}", "queue", (int)p->queues[i].queue, "core",
			      p->queues[i].core);
		bad |= json_array_append_new(arr, q);
	}
	bad |= cj_set(o, "queues", arr);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int xgw_steer_from_json(struct xgw_steer_cfg *s, json_t *j, const char *where, char *err,
			size_t errlen)
{
	static const char *const keys[] = {"id", "dst", "proto", "dport", NULL};
	struct cj c;
	uint64_t v;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = cj_open(&c, j, where, keys, err, errlen)) < 0)
		goto fail;
	if ((rc = cj_uint(&c, "id", false, 1, ID_MAX, &v)) < 0)
		goto fail;
	if (!rc)
		s->id = (uint32_t)v;
	if ((rc = cj_prefix(&c, "dst", true, &s->dst)) < 0)
		goto fail;
	if ((rc = cj_proto(&c, "proto", false, false, &s->proto)) < 0)
		goto fail;
	if ((rc = cj_uint(&c, "dport", false, 1, 65535, &v)) < 0)
		goto fail;
	if (!rc)
		s->dport = (uint16_t)v;
	return 0;
fail:
	memset(s, 0, sizeof(*s));
	return rc;
}

json_t *xgw_steer_to_json(const struct xgw_steer_cfg *s)
{
	json_t *o = json_object();
	int bad = 0;

	bad |= cj_set(o, "id", json_integer(s->id));
	bad |= cj_set(o, "dst", cj_prefix_json(&s->dst));
	if (s->proto)
		bad |= cj_set(o, "proto", json_string(xgw_proto_name(s->proto)));
	if (s->dport)
		bad |= cj_set(o, "dport", json_integer(s->dport));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int xgw_route_from_json(struct xgw_route_cfg *r, json_t *j, const char *where, char *err,
			size_t errlen)
{
	static const char *const keys[] = {"dst", "via", "port", NULL};
	char a[XGW_ADDR_STRLEN];
	struct cj c;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = cj_open(&c, j, where, keys, err, errlen)) < 0)
		goto fail;
	if ((rc = cj_prefix(&c, "dst", true, &r->dst)) < 0)
		goto fail;
	if ((rc = cj_addr(&c, "via", false, &r->via)) < 0)
		goto fail;
	if (r->via.family && r->via.family != r->dst.addr.family) {
		rc = cj_fail(err, errlen, where, "via", "%s is %s but dst is %s",
			     xgw_addr_str(&r->via, a, sizeof(a)), family_name(&r->via),
			     family_name(&r->dst.addr));
		goto fail;
	}
	/* Whether the port exists is a cross-object check (validate). */
	if ((rc = cj_str(&c, "port", true, false, r->port, sizeof(r->port))) < 0)
		goto fail;
	return 0;
fail:
	memset(r, 0, sizeof(*r));
	return rc;
}

json_t *xgw_route_to_json(const struct xgw_route_cfg *r)
{
	json_t *o = json_object();
	int bad = 0;

	bad |= cj_set(o, "dst", cj_prefix_json(&r->dst));
	if (r->via.family)
		bad |= cj_set(o, "via", cj_addr_json(&r->via));
	bad |= cj_set(o, "port", json_string(r->port));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int cfg_neigh_from_json(struct xgw_neigh_cfg *n, json_t *j, const char *where, char *err,
			size_t errlen)
{
	static const char *const keys[] = {"ip", "mac", "port", NULL};
	struct cj c;
	int rc;

	memset(n, 0, sizeof(*n));
	if ((rc = cj_open(&c, j, where, keys, err, errlen)) < 0 ||
	    (rc = cj_addr(&c, "ip", true, &n->ip)) < 0 ||
	    (rc = cj_mac(&c, "mac", true, n->mac)) < 0 ||
	    /* Absent: the entry applies on whichever port the ip is reached. */
	    (rc = cj_str(&c, "port", false, false, n->port, sizeof(n->port))) < 0) {
		memset(n, 0, sizeof(*n));
		return rc;
	}
	return 0;
}

json_t *cfg_neigh_to_json(const struct xgw_neigh_cfg *n)
{
	json_t *o = json_object();
	int bad = 0;

	bad |= cj_set(o, "ip", cj_addr_json(&n->ip));
	bad |= cj_set(o, "mac", cj_mac_json(n->mac));
	if (n->port[0])
		bad |= cj_set(o, "port", json_string(n->port));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* "22", "1000-2000" or a bare integer; 1 <= lo <= hi <= 65535. */
static int parse_dport_range(json_t *v, uint16_t *lo, uint16_t *hi)
{
	unsigned long a, b;
	const char *s;
	char *end;

	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i < 1 || i > 65535)
			return -EINVAL;
		*lo = *hi = (uint16_t)i;
		return 0;
	}
	if (!json_is_string(v))
		return -EINVAL;
	s = json_string_value(v);
	if (*s < '0' || *s > '9')
		return -EINVAL;
	a = strtoul(s, &end, 10);
	b = a;
	if (*end == '-') {
		if (end[1] < '0' || end[1] > '9')
			return -EINVAL;
		b = strtoul(end + 1, &end, 10);
	}
	if (*end || a < 1 || b > 65535 || a > b)
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

int xgw_policy_from_json(struct xgw_policy_cfg *p, json_t *j, const char *where, char *err,
			 size_t errlen)
{
	static const char *const keys[] = {"id", "action", "src", "dst", "proto", "dport", NULL};
	char a[XGW_ADDR_STRLEN + 8];
	struct cj c;
	uint64_t v;
	json_t *d;
	int rc, e;

	memset(p, 0, sizeof(*p));
	p->dport_hi = 65535;
	if ((rc = cj_open(&c, j, where, keys, err, errlen)) < 0)
		goto fail;
	if ((rc = cj_uint(&c, "id", false, 1, ID_MAX, &v)) < 0)
		goto fail;
	if (!rc)
		p->id = (uint32_t)v;
	if ((rc = cj_enum(&c, "action", true, action_names, &e)) < 0)
		goto fail;
	p->allow = e == 1;
	if ((rc = cj_prefix(&c, "src", false, &p->src)) < 0)
		goto fail;
	if ((rc = cj_prefix(&c, "dst", false, &p->dst)) < 0)
		goto fail;
	if (p->src.addr.family && p->dst.addr.family && p->src.addr.family != p->dst.addr.family) {
		rc = cj_fail(err, errlen, where, "dst", "%s is %s but src is %s",
			     xgw_prefix_str(&p->dst, a, sizeof(a)), family_name(&p->dst.addr),
			     family_name(&p->src.addr));
		goto fail;
	}
	if ((rc = cj_proto(&c, "proto", false, true, &p->proto)) < 0)
		goto fail;
	d = cj_get(&c, "dport");
	if (d && parse_dport_range(d, &p->dport_lo, &p->dport_hi)) {
		rc = cj_fail(err, errlen, where, "dport",
			     "expected \"N\" or \"N-M\" with 1 <= N <= M <= 65535");
		goto fail;
	}
	if (d && p->proto == IPPROTO_ICMP) {
		rc = cj_fail(err, errlen, where, "dport", "needs proto \"tcp\" or \"udp\"");
		goto fail;
	}
	return 0;
fail:
	memset(p, 0, sizeof(*p));
	return rc;
}

json_t *xgw_policy_to_json(const struct xgw_policy_cfg *p)
{
	json_t *o = json_object();
	char buf[16];
	int bad = 0;

	bad |= cj_set(o, "id", json_integer(p->id));
	bad |= cj_set(o, "action", json_string(action_names[p->allow]));
	if (p->src.addr.family)
		bad |= cj_set(o, "src", cj_prefix_json(&p->src));
	if (p->dst.addr.family)
		bad |= cj_set(o, "dst", cj_prefix_json(&p->dst));
	if (p->proto)
		bad |= cj_set(o, "proto", json_string(xgw_proto_name(p->proto)));
	if (p->dport_lo != 0 || p->dport_hi != 65535) {
		if (p->dport_lo == p->dport_hi)
			snprintf(buf, sizeof(buf), "%u", p->dport_lo);
		else
			snprintf(buf, sizeof(buf), "%u-%u", p->dport_lo, p->dport_hi);
		bad |= cj_set(o, "dport", json_string(buf));
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
