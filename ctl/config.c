/* SPDX-License-Identifier: BSD-3-Clause */
/* The whole config document as JSON: loading and dumping (the model's
 * defaults and copy are in common/config.c).  The per-object readers are in config_objects.c and
 * config_lb.c. */
#include "ctl/config.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/config_json.h"

#define ID_MAX INT32_MAX

bool cfg_is_prime(uint32_t n)
{
	if (n < 2)
		return false;
	for (uint32_t d = 2; (uint64_t)d * d <= n; d++)
		if (n % d == 0)
			return false;
	return true;
}

static int umem_from_json(struct xgw_config *c, const struct cj *root)
{
	static const char *const keys[] = {"frames", "frame_size", "hugepages", NULL};
	char path[CJ_PATH_MAX];
	struct cj o;
	uint64_t v;
	int rc;

	if ((rc = cj_sub(root, "umem", false, keys, &o, path, sizeof(path))))
		return rc > 0 ? 0 : rc;
	rc = cj_uint(&o, "frames", false, 0, UINT32_MAX, &v);
	if (rc < 0 || (!rc && (v < 64 || v > 1048576 || (v & (v - 1)))))
		return cj_fail(o.err, o.errlen, o.where, "frames",
			       "must be a power of two between 64 and 1048576");
	if (!rc)
		c->umem.frames = (uint32_t)v;
	/* The two sizes AF_XDP accepts in aligned mode (a page or half). */
	rc = cj_uint(&o, "frame_size", false, 0, UINT32_MAX, &v);
	if (rc < 0 || (!rc && v != 2048 && v != 4096))
		return cj_fail(o.err, o.errlen, o.where, "frame_size", "must be 2048 or 4096");
	if (!rc)
		c->umem.frame_size = (uint32_t)v;
	rc = cj_bool(&o, "hugepages", false, &c->umem.hugepages);
	return rc < 0 ? rc : 0;
}

static int dpdk_from_json(struct xgw_config *c, const struct cj *root)
{
	static const char *const keys[] = {"eal_args", "mbufs", NULL};
	char path[CJ_PATH_MAX];
	json_t *arr = NULL, *v;
	struct cj o;
	uint64_t n;
	size_t i;
	int rc;

	if ((rc = cj_sub(root, "dpdk", false, keys, &o, path, sizeof(path))))
		return rc > 0 ? 0 : rc;
	if ((rc = cj_array(&o, "eal_args", false, &arr)) < 0)
		return rc;
	if (json_array_size(arr) > XGW_DPDK_MAX_ARGS)
		return cj_fail(o.err, o.errlen, o.where, "eal_args", "at most %d arguments",
			       XGW_DPDK_MAX_ARGS);
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v) || json_string_length(v) >= XGW_DPDK_ARG_MAX ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return cj_fail(o.err, o.errlen, o.where, "eal_args",
				       "[%zu]: expected a string of at most %d characters", i,
				       XGW_DPDK_ARG_MAX - 1);
		snprintf(c->dpdk.eal_args[i], XGW_DPDK_ARG_MAX, "%s", json_string_value(v));
		c->dpdk.n_eal_args++;
	}
	/* Below 1024 the PMDs' own rings (1024 descriptors) cannot be filled. */
	rc = cj_uint(&o, "mbufs", false, 1024, 16777216, &n);
	if (rc < 0)
		return rc;
	if (!rc)
		c->dpdk.mbufs = (uint32_t)n;
	return 0;
}

static int ct_from_json(struct xgw_config *c, const struct cj *root)
{
	static const char *const keys[] = {"max_entries",
					   "tcp_timeout_s",
					   "tcp_syn_timeout_s",
					   "tcp_close_timeout_s",
					   "udp_timeout_s",
					   "other_timeout_s",
					   NULL};
	struct {
		const char *key;
		uint32_t *field;
	} f[] = {
	    {"max_entries", &c->conntrack.max_entries},
	    {"tcp_timeout_s", &c->conntrack.tcp_timeout_s},
	    {"tcp_syn_timeout_s", &c->conntrack.tcp_syn_timeout_s},
	    {"tcp_close_timeout_s", &c->conntrack.tcp_close_timeout_s},
	    {"udp_timeout_s", &c->conntrack.udp_timeout_s},
	    {"other_timeout_s", &c->conntrack.other_timeout_s},
	};
	char path[CJ_PATH_MAX];
	struct cj o;
	uint64_t v;
	int rc;

	if ((rc = cj_sub(root, "conntrack", false, keys, &o, path, sizeof(path))))
		return rc > 0 ? 0 : rc;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		/* A zero timeout would expire entries as they are made; a zero
		 * table could hold nothing. */
		if ((rc = cj_uint(&o, f[i].key, false, 1, UINT32_MAX, &v)) < 0)
			return rc;
		if (!rc)
			*f[i].field = (uint32_t)v;
	}
	return 0;
}

static int tunnel_from_json(struct xgw_config *c, const struct cj *root)
{
	static const char *const keys[] = {"local_ip", "vxlan_port", "geneve_port", NULL};
	char path[CJ_PATH_MAX];
	struct cj o;
	uint64_t v;
	int rc;

	if ((rc = cj_sub(root, "tunnel", false, keys, &o, path, sizeof(path))))
		return rc > 0 ? 0 : rc;
	if ((rc = cj_addr(&o, "local_ip", false, &c->tunnel.local_ip)) < 0)
		return rc;
	if ((rc = cj_uint(&o, "vxlan_port", false, 1, 65535, &v)) < 0)
		return rc;
	if (!rc)
		c->tunnel.vxlan_port = (uint16_t)v;
	if ((rc = cj_uint(&o, "geneve_port", false, 1, 65535, &v)) < 0)
		return rc;
	if (!rc)
		c->tunnel.geneve_port = (uint16_t)v;
	return 0;
}

/* "hash_seed": a 32-bit integer, or a string in C notation ("0x5eed"),
 * which is how DESIGN.md writes it. */
static int hash_seed_from_json(struct xgw_config *c, const struct cj *o)
{
	json_t *j = cj_get(o, "hash_seed");
	unsigned long long v;
	char *end;

	if (!j)
		return 0;
	if (json_is_integer(j) && json_integer_value(j) >= 0 &&
	    json_integer_value(j) <= (json_int_t)UINT32_MAX) {
		c->hash_seed = (uint32_t)json_integer_value(j);
		return 0;
	}
	if (json_is_string(j)) {
		const char *s = json_string_value(j);

		errno = 0;
		v = strtoull(s, &end, 0);
		if (*s && *s != '-' && !*end && !errno && v <= UINT32_MAX) {
			c->hash_seed = (uint32_t)v;
			return 0;
		}
	}
	return cj_fail(o->err, o->errlen, o->where, "hash_seed",
		       "must be a 32-bit unsigned integer or a string such as \"0x5eed\"");
}

static int lb_from_json(struct xgw_config *c, const struct cj *root)
{
	static const char *const keys[] = {"maglev_size", "hash_seed", NULL};
	char path[CJ_PATH_MAX];
	struct cj o;
	uint64_t v;
	int rc;

	if ((rc = cj_sub(root, "lb", false, keys, &o, path, sizeof(path))))
		return rc > 0 ? 0 : rc;
	/* Maglev's permutation only covers every slot when M is prime; the
	 * upper bound keeps a table per service at 64 MiB of u32s. */
	rc = cj_uint(&o, "maglev_size", false, 0, UINT32_MAX, &v);
	if (rc < 0 || (!rc && (v < 7 || v > 16777216 || !cfg_is_prime((uint32_t)v))))
		return cj_fail(o.err, o.errlen, o.where, "maglev_size",
			       "must be a prime between 7 and 16777216");
	if (!rc)
		c->maglev_size = (uint32_t)v;
	return hash_seed_from_json(c, &o);
}

/* "group": a group name, or a number for a group without one; resolved
 * now, so that a group this host does not have is refused with the rest of
 * the config rather than when the socket is made. */
static int ctl_group_from_json(struct xgw_config *c, const struct cj *o)
{
	char buf[1024], *end;
	struct group gr, *res = NULL;
	unsigned long g;
	int rc = cj_str(o, "group", false, false, c->ctl.group, sizeof(c->ctl.group));

	if (rc)
		return rc > 0 ? 0 : rc;
	g = strtoul(c->ctl.group, &end, 10);
	if (c->ctl.group[0] >= '0' && c->ctl.group[0] <= '9' && !*end && g < 0xffffffffUL) {
		c->ctl.gid = (unsigned)g;
		return 0;
	}
	rc = getgrnam_r(c->ctl.group, &gr, buf, sizeof(buf), &res);
	if (rc || !res)
		return cj_fail(o->err, o->errlen, o->where, "group",
			       "no group \"%s\" on this host%s%s", c->ctl.group, rc ? ": " : "",
			       rc ? strerror(rc) : "");
	c->ctl.gid = (unsigned)res->gr_gid;
	return 0;
}

static int ctl_from_json(struct xgw_config *c, const struct cj *root)
{
	static const char *const keys[] = {"socket", "mode", "group", NULL};
	char path[CJ_PATH_MAX], mode[8];
	unsigned long m;
	struct cj o;
	char *end;
	int rc;

	if ((rc = cj_sub(root, "ctl", false, keys, &o, path, sizeof(path))))
		return rc > 0 ? 0 : rc;
	if ((rc = cj_str(&o, "socket", false, false, c->ctl.socket, sizeof(c->ctl.socket))) < 0)
		return rc;
	if ((rc = ctl_group_from_json(c, &o)) < 0)
		return rc;
	/* A string, because JSON has no octal and 432 would mean nothing. */
	rc = cj_str(&o, "mode", false, false, mode, sizeof(mode));
	if (rc > 0)
		return 0;
	if (rc == 0) {
		m = strtoul(mode, &end, 8);
		if (mode[0] < '0' || mode[0] > '7' || *end || m > 0777)
			rc = -EINVAL;
	}
	if (rc < 0)
		return cj_fail(o.err, o.errlen, o.where, "mode",
			       "expected an octal string like \"0660\"");
	c->ctl.mode = (unsigned)m;
	return 0;
}

static int metrics_from_json(struct xgw_config *c, const struct cj *root)
{
	static const char *const keys[] = {"listen", NULL};
	char path[CJ_PATH_MAX];
	struct xgw_addr a;
	uint16_t port;
	struct cj o;
	int rc;

	if ((rc = cj_sub(root, "metrics", false, keys, &o, path, sizeof(path))))
		return rc > 0 ? 0 : rc;
	rc = cj_str(&o, "listen", false, true, c->metrics_listen, sizeof(c->metrics_listen));
	if (rc < 0)
		return rc;
	if (c->metrics_listen[0] && xgw_endpoint_parse(c->metrics_listen, &a, &port))
		return cj_fail(o.err, o.errlen, o.where, "listen",
			       "\"%s\" is not ip:port or [ipv6]:port (\"\" turns metrics off)",
			       c->metrics_listen);
	return 0;
}

/* Only BIRD is wired and tested (examples/bird.conf, tests/netns/announce.sh):
 * another speaker is refused rather than assumed to work. */
static int announce_from_json(struct xgw_config *c, const struct cj *root)
{
	static const char *const keys[] = {"speaker", "table", "drain_timeout_s", NULL};
	static const char *const speakers[] = {"bird", NULL};
	char path[CJ_PATH_MAX];
	struct cj o;
	uint64_t v;
	int rc, sp = 0;

	if ((rc = cj_sub(root, "announce", false, keys, &o, path, sizeof(path))))
		return rc > 0 ? 0 : rc;
	if ((rc = cj_enum(&o, "speaker", true, speakers, &sp)) < 0)
		return rc;
	/* Not 0 (unspec) nor 253-255 (default, main, local): a table of its own. */
	rc = cj_uint(&o, "table", true, 1, 0xfffffffe, &v);
	if (rc < 0)
		return rc;
	if (v >= 253 && v <= 255)
		return cj_fail(o.err, o.errlen, o.where, "table",
			       "%llu is a system table (default, main or local): use a table of "
			       "xgw's own, such as 200",
			       (unsigned long long)v);
	c->announce_table = (uint32_t)v;
	if ((rc = cj_uint(&o, "drain_timeout_s", false, 0, 86400, &v)) < 0)
		return rc;
	if (!rc)
		c->drain_timeout_s = (uint32_t)v;
	return 0;
}

/* Read root[key] as an array of objects of `size` bytes with `fn`; the
 * count is only bumped per success so that free() sees what was filled. */
typedef int (*from_json_fn)(void *obj, json_t *j, const char *where, char *err, size_t errlen);

static int array_from_json(const struct cj *root, const char *key, from_json_fn fn, size_t size,
			   void **out, unsigned *n)
{
	char path[CJ_PATH_MAX];
	json_t *arr, *v;
	size_t i;
	int rc;

	if ((rc = cj_array(root, key, false, &arr)))
		return rc > 0 ? 0 : rc;
	if (!json_array_size(arr))
		return 0;
	*out = calloc(json_array_size(arr), size);
	if (!*out)
		return -ENOMEM;
	json_array_foreach(arr, i, v)
	{
		cj_path(path, sizeof(path), root->where, key, (long)i);
		rc = fn((char *)*out + i * size, v, path, root->err, root->errlen);
		if (rc < 0)
			return rc;
		(*n)++;
	}
	return 0;
}

/* Wrappers with a void * first argument, so that one table can drive all
 * arrays without casting function pointers. */
static int port_fn(void *o, json_t *j, const char *w, char *e, size_t l)
{
	return cfg_port_from_json(o, j, w, e, l);
}
static int service_fn(void *o, json_t *j, const char *w, char *e, size_t l)
{
	return xgw_service_from_json(o, j, w, e, l);
}
static int steer_fn(void *o, json_t *j, const char *w, char *e, size_t l)
{
	return xgw_steer_from_json(o, j, w, e, l);
}
static int route_fn(void *o, json_t *j, const char *w, char *e, size_t l)
{
	return xgw_route_from_json(o, j, w, e, l);
}
static int neigh_fn(void *o, json_t *j, const char *w, char *e, size_t l)
{
	return cfg_neigh_from_json(o, j, w, e, l);
}
static int policy_fn(void *o, json_t *j, const char *w, char *e, size_t l)
{
	return xgw_policy_from_json(o, j, w, e, l);
}

/* Entries without an id get max(id)+1, max(id)+2, ... in file order, so
 * explicit ids never collide with assigned ones and a dump reloads with
 * the same ids.  *next is what the control socket hands out next. */
static int assign_ids(uint32_t *first_id, size_t stride, unsigned n, uint32_t *next,
		      const char *what, char *err, size_t errlen)
{
	uint32_t max = 0, *id;

	for (unsigned i = 0; i < n; i++) {
		id = (uint32_t *)((char *)first_id + i * stride);
		if (*id > max)
			max = *id;
	}
	for (unsigned i = 0; i < n; i++) {
		id = (uint32_t *)((char *)first_id + i * stride);
		if (*id)
			continue;
		if (max >= ID_MAX) {
			char path[CJ_PATH_MAX];

			return cj_fail(err, errlen, cj_path(path, sizeof(path), "", what, i), "id",
				       "no id left to assign (ids go up to %d)", ID_MAX);
		}
		*id = ++max;
	}
	*next = max + 1;
	return 0;
}

static int load_json(struct xgw_config *c, json_t *root, char *err, size_t errlen)
{
	static const char *const keys[] = {"ports",   "umem",		"conntrack", "tunnel",
					   "lb",      "policy_default", "services",  "steer",
					   "routes",  "neighbours",	"policies",  "ctl",
					   "metrics", "announce",	"dpdk",	     NULL};
	static const char *const pd_names[] = {"deny", "allow", NULL};
	struct cj r;
	int rc, pd;

	xgw_config_defaults(c);
	if ((rc = cj_open(&r, root, "", keys, err, errlen)) < 0)
		return rc;
	if ((rc = array_from_json(&r, "ports", port_fn, sizeof(*c->ports), (void **)&c->ports,
				  &c->n_ports)) < 0)
		return rc;
	if ((rc = umem_from_json(c, &r)) < 0 || (rc = dpdk_from_json(c, &r)) < 0 ||
	    (rc = ct_from_json(c, &r)) < 0 || (rc = tunnel_from_json(c, &r)) < 0 ||
	    (rc = lb_from_json(c, &r)) < 0)
		return rc;
	pd = 1;
	if ((rc = cj_enum(&r, "policy_default", false, pd_names, &pd)) < 0)
		return rc;
	c->policy_default_allow = pd == 1;
	if ((rc = array_from_json(&r, "services", service_fn, sizeof(*c->services),
				  (void **)&c->services, &c->n_services)) < 0 ||
	    (rc = array_from_json(&r, "steer", steer_fn, sizeof(*c->steer), (void **)&c->steer,
				  &c->n_steer)) < 0 ||
	    (rc = array_from_json(&r, "routes", route_fn, sizeof(*c->routes), (void **)&c->routes,
				  &c->n_routes)) < 0 ||
	    (rc = array_from_json(&r, "neighbours", neigh_fn, sizeof(*c->neighbours),
				  (void **)&c->neighbours, &c->n_neighbours)) < 0 ||
	    (rc = array_from_json(&r, "policies", policy_fn, sizeof(*c->policies),
				  (void **)&c->policies, &c->n_policies)) < 0)
		return rc;
	if ((rc = ctl_from_json(c, &r)) < 0 || (rc = metrics_from_json(c, &r)) < 0 ||
	    (rc = announce_from_json(c, &r)) < 0)
		return rc;
	/* Duplicate explicit ids are reported by validate, below. */
	if (c->n_steer && (rc = assign_ids(&c->steer[0].id, sizeof(*c->steer), c->n_steer,
					   &c->next_steer_id, "steer", err, errlen)) < 0)
		return rc;
	if (c->n_policies &&
	    (rc = assign_ids(&c->policies[0].id, sizeof(*c->policies), c->n_policies,
			     &c->next_policy_id, "policies", err, errlen)) < 0)
		return rc;
	return xgw_config_validate(c, -1, err, errlen);
}

int xgw_config_load_json(struct xgw_config *c, json_t *root, char *err, size_t errlen)
{
	int rc = load_json(c, root, err, errlen);

	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc)
		xgw_config_free(c);
	return rc;
}

int xgw_config_load_file(struct xgw_config *c, const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	FILE *f;
	int rc;

	memset(c, 0, sizeof(*c));
	/* fopen ourselves: jansson reports I/O failures without errno. */
	f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "cannot open: %s", strerror(-rc));
		return rc;
	}
	/* A key given twice is almost always an editing mistake. */
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (!root) {
		snprintf(err, errlen, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	rc = xgw_config_load_json(c, root, err, errlen);
	json_decref(root);
	return rc;
}

/* Arrays of objects to JSON with `fn`; NULL on allocation failure. */
typedef json_t *(*to_json_fn)(const void *obj);

static json_t *array_to_json(const void *arr, unsigned n, size_t size, to_json_fn fn)
{
	json_t *a = json_array();

	for (unsigned i = 0; a && i < n; i++) {
		if (json_array_append_new(a, fn((const char *)arr + i * size))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *port_json(const void *o)
{
	return cfg_port_to_json(o);
}
static json_t *service_json(const void *o)
{
	return xgw_service_to_json(o);
}
static json_t *steer_json(const void *o)
{
	return xgw_steer_to_json(o);
}
static json_t *route_json(const void *o)
{
	return xgw_route_to_json(o);
}
static json_t *neigh_json(const void *o)
{
	return cfg_neigh_to_json(o);
}
static json_t *policy_json(const void *o)
{
	return xgw_policy_to_json(o);
}

json_t *xgw_config_to_json(const struct xgw_config *c)
{
	const struct xgw_ct_cfg *ct = &c->conntrack;
	json_t *o = json_object(), *t;
	char mode[8], seed[16];
	int bad = 0;

	bad |=
	    cj_set(o, "ports", array_to_json(c->ports, c->n_ports, sizeof(*c->ports), port_json));
	bad |=
	    cj_set(o, "umem",
		   json_pack("{s:I, s:I, s:b}", "frames", (json_int_t)c->umem.frames, "frame_size",
			     (json_int_t)c->umem.frame_size, "hugepages", c->umem.hugepages));
	if (c->dpdk.n_eal_args || c->dpdk.mbufs != XGW_DPDK_DEFAULT_MBUFS) {
		json_t *args = json_array();

		for (unsigned i = 0; i < c->dpdk.n_eal_args; i++)
			bad |= json_array_append_new(args, json_string(c->dpdk.eal_args[i]));
		bad |= cj_set(
		    o, "dpdk",
		    json_pack("{s:o, s:I}", "eal_args", args, "mbufs", (json_int_t)c->dpdk.mbufs));
	}
	bad |= cj_set(o, "conntrack",
		      json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "max_entries",
				(json_int_t)ct->max_entries, "tcp_timeout_s",
				(json_int_t)ct->tcp_timeout_s, "tcp_syn_timeout_s",
				(json_int_t)ct->tcp_syn_timeout_s, "tcp_close_timeout_s",
				(json_int_t)ct->tcp_close_timeout_s, "udp_timeout_s",
				(json_int_t)ct->udp_timeout_s, "other_timeout_s",
				(json_int_t)ct->other_timeout_s));
	t = json_pack("{s:i, s:i}", "vxlan_port", (int)c->tunnel.vxlan_port, "geneve_port",
		      (int)c->tunnel.geneve_port);
	if (c->tunnel.local_ip.family)
		bad |= cj_set(t, "local_ip", cj_addr_json(&c->tunnel.local_ip));
	bad |= cj_set(o, "tunnel", t);
	snprintf(seed, sizeof(seed), "0x%x", c->hash_seed);
	bad |= cj_set(
	    o, "lb",
	    json_pack("{s:I, s:s}", "maglev_size", (json_int_t)c->maglev_size, "hash_seed", seed));
	bad |= cj_set(o, "policy_default", json_string(c->policy_default_allow ? "allow" : "deny"));
	bad |=
	    cj_set(o, "services",
		   array_to_json(c->services, c->n_services, sizeof(*c->services), service_json));
	bad |=
	    cj_set(o, "steer", array_to_json(c->steer, c->n_steer, sizeof(*c->steer), steer_json));
	bad |= cj_set(o, "routes",
		      array_to_json(c->routes, c->n_routes, sizeof(*c->routes), route_json));
	bad |= cj_set(
	    o, "neighbours",
	    array_to_json(c->neighbours, c->n_neighbours, sizeof(*c->neighbours), neigh_json));
	bad |= cj_set(o, "policies",
		      array_to_json(c->policies, c->n_policies, sizeof(*c->policies), policy_json));
	snprintf(mode, sizeof(mode), "%04o", c->ctl.mode & 0777);
	bad |= cj_set(o, "ctl", json_pack("{s:s, s:s}", "socket", c->ctl.socket, "mode", mode));
	if (c->ctl.group[0])
		bad |= json_object_set_new(json_object_get(o, "ctl"), "group",
					   json_string(c->ctl.group));
	bad |= cj_set(o, "metrics", json_pack("{s:s}", "listen", c->metrics_listen));
	if (c->announce_table)
		bad |= cj_set(o, "announce",
			      json_pack("{s:s, s:I, s:I}", "speaker", "bird", "table",
					(json_int_t)c->announce_table, "drain_timeout_s",
					(json_int_t)c->drain_timeout_s));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
