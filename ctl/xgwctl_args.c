/* SPDX-License-Identifier: BSD-3-Clause */
/* xgwctl's command table and argv -> request JSON.  Syntax that the CLI
 * itself introduces (SVC keys, IP:PORT, numbers, option spellings) is
 * checked here so that typos fail before connecting; the objects are then
 * checked again, in full, by the server. */
#include "ctl/xgwctl.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "ctl/config.h"
#include "ctl/server.h"

#define MAX_POS	 2
/* Options of one command (service add has 12). */
#define MAX_OPTS 16

struct opt {
	const char *name; /* without the leading "--" */
	bool value;	  /* takes an argument */
};

/* One command line after the option scan. */
struct cli_args {
	const struct xgwctl_cmd *cmd;
	const char *pos[MAX_POS];
	unsigned n_pos;
	const char *val[MAX_OPTS]; /* by index in cmd->opts; "" for a set flag */
};

typedef int (*build_fn)(const struct cli_args *a, json_t *args, char *err, size_t errlen);

struct xgwctl_cmd {
	const char *noun, *verb; /* verb NULL: one-word command */
	const char *syntax;	 /* what follows the words, for usage */
	const struct opt *opts;	 /* NULL-terminated; --json is always accepted */
	unsigned min_pos, max_pos;
	const char *server_cmd;
	build_fn build; /* NULL: no args */
	void (*print)(FILE *f, json_t *r);
};

/* ---- small parsers ---------------------------------------------------- */

static const char *optval(const struct cli_args *a, const char *name)
{
	for (unsigned i = 0; a->cmd->opts && a->cmd->opts[i].name; i++)
		if (!strcmp(a->cmd->opts[i].name, name))
			return a->val[i];
	return NULL;
}

static const char *cmd_name(const struct xgwctl_cmd *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", c->noun, c->verb ? " " : "", c->verb ? c->verb : "");
	return buf;
}

/* Strict decimal in [lo, hi]. */
static int parse_num(const char *s, unsigned long long lo, unsigned long long hi,
		     unsigned long long *out)
{
	unsigned long long v = 0;

	if (!*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > (hi - (unsigned)(*p - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v < lo)
		return -EINVAL;
	*out = v;
	return 0;
}

static int set_num(json_t *o, const char *key, const char *s, unsigned long long lo,
		   unsigned long long hi, const char *what, char *err, size_t errlen)
{
	unsigned long long v;

	if (parse_num(s, lo, hi, &v)) {
		snprintf(err, errlen, "%s: expected a number in %llu..%llu, got '%s'", what, lo, hi,
			 s);
		return -EINVAL;
	}
	json_object_set_new(o, key, json_integer((json_int_t)v));
	return 0;
}

static int set_choice(json_t *o, const char *key, const char *s, const char *const *choices,
		      const char *what, char *err, size_t errlen)
{
	char list[128] = "";

	for (const char *const *c = choices; *c; c++) {
		if (!strcmp(*c, s)) {
			json_object_set_new(o, key, json_string(s));
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 c == choices ? "" : "|", *c);
	}
	snprintf(err, errlen, "%s: expected %s, got '%s'", what, list, s);
	return -EINVAL;
}

static int set_addr(json_t *o, const char *key, const char *s, const char *what, char *err,
		    size_t errlen)
{
	struct xgw_addr a;

	if (xgw_addr_parse(&a, s)) {
		snprintf(err, errlen, "%s: bad IP address '%s'", what, s);
		return -EINVAL;
	}
	json_object_set_new(o, key, json_string(s));
	return 0;
}

static int set_prefix(json_t *o, const char *key, const char *s, const char *what, char *err,
		      size_t errlen)
{
	struct xgw_prefix p;

	if (xgw_prefix_parse(&p, s)) {
		snprintf(err, errlen, "%s: bad prefix '%s' (IP or IP/LEN, host bits zero)", what,
			 s);
		return -EINVAL;
	}
	json_object_set_new(o, key, json_string(s));
	return 0;
}

static json_t *addr_json(const struct xgw_addr *a)
{
	char buf[XGW_ADDR_STRLEN];

	return json_string(xgw_addr_str(a, buf, sizeof(buf)));
}

/* "198.18.100.1:80/tcp" -> {"vip","port","proto"}. */
static json_t *svc_key(const char *s, char *err, size_t errlen)
{
	struct xgw_addr vip;
	uint16_t port;
	uint8_t proto;

	if (xgw_service_key_parse(s, &vip, &port, &proto)) {
		snprintf(err, errlen,
			 "bad service '%s': expected IP:PORT/tcp|udp, e.g. 198.18.100.1:80/tcp "
			 "or [2001:db8::1]:80/tcp",
			 s);
		return NULL;
	}
	return json_pack("{s:o, s:i, s:s}", "vip", addr_json(&vip), "port", port, "proto",
			 proto == 6 ? "tcp" : "udp");
}

/* "198.18.2.10:8080" -> {"ip","port"}. */
static json_t *endpoint(const char *s, char *err, size_t errlen)
{
	struct xgw_addr ip;
	uint16_t port;

	if (xgw_endpoint_parse(s, &ip, &port)) {
		snprintf(err, errlen,
			 "bad backend '%s': expected IP:PORT, e.g. 198.18.2.10:8080 or "
			 "[2001:db8::a]:8080",
			 s);
		return NULL;
	}
	return json_pack("{s:o, s:i}", "ip", addr_json(&ip), "port", port);
}

static int parse_id(const struct cli_args *a, json_t *args, char *err, size_t errlen)
{
	return set_num(args, "id", a->pos[0], 1, UINT32_MAX, "ID", err, errlen);
}

/* ---- builders ----------------------------------------------------------- */

/* --check tcp|http[:PATH]|udp|none and its timings -> args.check; no
 * --check option at all: nothing (0).  The daemon checks the rest. */
static int check_opts(const struct cli_args *a, json_t *args, bool required, char *err,
		      size_t errlen)
{
	static const char *const types[] = {"none", "tcp", "http", "udp", NULL};
	static const char *const on_downs[] = {"keep", "reset", NULL};
	static const struct {
		const char *opt, *key;
		unsigned long long lo, hi;
	} nums[] = {{"check-interval", "interval_ms", 1, 3600000},
		    {"check-timeout", "timeout_ms", 1, 3600000},
		    {"rise", "rise", 1, 100},
		    {"fall", "fall", 1, 100},
		    {"check-port", "port", 1, 65535},
		    {"check-status", "status", 100, 599}};
	const char *type = optval(a, "check"), *v, *colon;
	char t[8];
	json_t *k;

	if (!type) {
		for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
			if (optval(a, nums[i].opt)) {
				snprintf(err, errlen, "--%s needs --check", nums[i].opt);
				return -EINVAL;
			}
		if (optval(a, "check-send") || optval(a, "check-expect")) {
			snprintf(err, errlen, "--check-send/--check-expect need --check udp");
			return -EINVAL;
		}
		if (optval(a, "on-down")) {
			snprintf(err, errlen, "--on-down needs --check");
			return -EINVAL;
		}
		if (required) {
			snprintf(err, errlen, "--check tcp|http[:PATH]|udp|none is required");
			return -EINVAL;
		}
		return 0;
	}
	k = json_object();
	json_object_set_new(args, "check", k);
	colon = strchr(type, ':');
	snprintf(t, sizeof(t), "%.*s", colon ? (int)(colon - type) : 7, type);
	if (set_choice(k, "type", t, types, "--check", err, errlen))
		return -EINVAL;
	if (colon) {
		if (strcmp(t, "http")) {
			snprintf(err, errlen, "--check: only http takes a path, got '%s'", type);
			return -EINVAL;
		}
		json_object_set_new(k, "path", json_string(colon + 1));
	}
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if ((v = optval(a, nums[i].opt)) &&
		    set_num(k, nums[i].key, v, nums[i].lo, nums[i].hi, nums[i].opt, err, errlen))
			return -EINVAL;
	if ((v = optval(a, "check-send")))
		json_object_set_new(k, "send", json_string(v));
	if ((v = optval(a, "check-expect")))
		json_object_set_new(k, "expect", json_string(v));
	if ((v = optval(a, "on-down")) &&
	    set_choice(k, "on_down", v, on_downs, "--on-down", err, errlen))
		return -EINVAL;
	return 0;
}

static int b_service_add(const struct cli_args *a, json_t *args, char *err, size_t errlen)
{
	static const char *const dps[] = {"user", "kernel", NULL};
	static const char *const algos[] = {"maglev", "rr", "random", NULL};
	json_t *k = svc_key(a->pos[0], err, errlen);
	const char *v;

	if (!k)
		return -EINVAL;
	json_object_update(args, k);
	json_decref(k);
	if ((v = optval(a, "datapath")) &&
	    set_choice(args, "datapath", v, dps, "--datapath", err, errlen))
		return -EINVAL;
	if ((v = optval(a, "algo")) &&
	    set_choice(args, "algorithm", v, algos, "--algo", err, errlen))
		return -EINVAL;
	if (optval(a, "snat"))
		json_object_set_new(args, "snat", json_true());
	return check_opts(a, args, false, err, errlen);
}

static int b_service_del(const struct cli_args *a, json_t *args, char *err, size_t errlen)
{
	json_t *k = svc_key(a->pos[0], err, errlen);

	if (!k)
		return -EINVAL;
	json_object_update(args, k);
	json_decref(k);
	return 0;
}

static int b_service_move(const struct cli_args *a, json_t *args, char *err, size_t errlen)
{
	static const char *const dps[] = {"user", "kernel", NULL};
	const char *v = optval(a, "datapath");

	if (!v) {
		snprintf(err, errlen, "service move: --datapath user|kernel is required");
		return -EINVAL;
	}
	return b_service_del(a, args, err, errlen) ||
	       set_choice(args, "datapath", v, dps, "--datapath", err, errlen);
}

static int b_service_check(const struct cli_args *a, json_t *args, char *err, size_t errlen)
{
	return b_service_del(a, args, err, errlen) || check_opts(a, args, true, err, errlen);
}

static int b_backend_del(const struct cli_args *a, json_t *args, char *err, size_t errlen)
{
	json_t *k = svc_key(a->pos[0], err, errlen);
	json_t *b;

	if (!k)
		return -EINVAL;
	json_object_set_new(args, "service", k);
	b = endpoint(a->pos[1], err, errlen);
	if (!b)
		return -EINVAL;
	json_object_set_new(args, "backend", b);
	return 0;
}

static int b_backend_list(const struct cli_args *a, json_t *args, char *err, size_t errlen)
{
	json_t *k;

	if (!a->n_pos)
		return 0;
	k = svc_key(a->pos[0], err, errlen);
	if (!k)
		return -EINVAL;
	json_object_set_new(args, "service", k);
	return 0;
}

/* trace and capture: the options both take. */
static int tap_common(const struct cli_args *a, json_t *args, unsigned long long max_count,
		      char *err, size_t errlen)
{
	const char *v;

	if ((v = optval(a, "count")) &&
	    set_num(args, "count", v, 1, max_count, "--count", err, errlen))
		return -EINVAL;
	if ((v = optval(a, "timeout")) &&
	    set_num(args, "timeout_s", v, 1, 86400, "--timeout", err, errlen))
		return -EINVAL;
	if ((v = optval(a, "filter")))
		json_object_set_new(args, "filter", json_string(v));
	return 0;
}

static int b_trace(const struct cli_args *a, json_t *args, char *err, size_t errlen)
{
	return tap_common(a, args, 1000, err, errlen);
}

static int b_capture(const struct cli_args *a, json_t *args, char *err, size_t errlen)
{
	static const char *const dirs[] = {"rx", "tx", "both", NULL};
	const char *v;

	if (!optval(a, "write") || !*optval(a, "write")) {
		snprintf(err, errlen, "-w FILE is required");
		return -EINVAL;
	}
	if ((v = optval(a, "dir")) && set_choice(args, "dir", v, dirs, "--dir", err, errlen))
		return -EINVAL;
	if ((v = optval(a, "port")))
		json_object_set_new(args, "port", json_string(v));
	return tap_common(a, args, 1000000, err, errlen);
}

static int b_backend_set(const struct cli_args *a, json_t *args, char *err, size_t errlen)
{
	const char *v = optval(a, "weight");
	int ret;

	if (!v) {
		snprintf(err, errlen, "--weight N is required");
		return -EINVAL;
	}
	ret = b_backend_del(a, args, err, errlen);
	if (!ret)
		ret = set_num(json_object_get(args, "backend"), "weight", v, 0, XGW_MAX_WEIGHT,
			      "--weight", err, errlen);
	return ret;
}

static int b_backend_add(const struct cli_args *a, json_t *args, char *err, size_t errlen)
{
	const char *vx = optval(a, "vxlan"), *gn = optval(a, "geneve");
	const char *vni = optval(a, "vni"), *mac = optval(a, "inner-mac"), *v;
	json_t *b, *t;
	int ret;

	ret = b_backend_del(a, args, err, errlen);
	if (ret)
		return ret;
	b = json_object_get(args, "backend");
	if ((v = optval(a, "weight")) &&
	    set_num(b, "weight", v, 0, XGW_MAX_WEIGHT, "--weight", err, errlen))
		return -EINVAL;
	if (vx && gn) {
		snprintf(err, errlen, "--vxlan and --geneve exclude each other");
		return -EINVAL;
	}
	if (!vx && !gn) {
		if (vni || mac) {
			snprintf(err, errlen, "%s needs --vxlan or --geneve",
				 vni ? "--vni" : "--inner-mac");
			return -EINVAL;
		}
		return 0;
	}
	if (!vni) {
		snprintf(err, errlen, "%s needs --vni N", vx ? "--vxlan" : "--geneve");
		return -EINVAL;
	}
	t = json_pack("{s:s}", "type", vx ? "vxlan" : "geneve");
	json_object_set_new(b, "tunnel", t);
	if (set_addr(t, "remote", vx ? vx : gn, vx ? "--vxlan" : "--geneve", err, errlen))
		return -EINVAL;
	/* VNIs are 24 bits in both VXLAN and Geneve headers. */
	if (set_num(t, "vni", vni, 0, (1u << 24) - 1, "--vni", err, errlen))
		return -EINVAL;
	if (mac) {
		uint8_t m[6];

		if (xgw_mac_parse(m, mac)) {
			snprintf(err, errlen, "--inner-mac: expected xx:xx:xx:xx:xx:xx, got '%s'",
				 mac);
			return -EINVAL;
		}
		json_object_set_new(t, "mac", json_string(mac));
	}
	return 0;
}

static const char *const l4_protos[] = {"tcp", "udp", NULL};

static int b_policy_add(const struct cli_args *a, json_t *args, char *err, size_t errlen)
{
	static const char *const actions[] = {"deny", "allow", NULL};
	static const char *const protos[] = {"tcp", "udp", "icmp", NULL};
	const char *v;

	if (set_choice(args, "action", a->pos[0], actions, "action", err, errlen))
		return -EINVAL;
	if ((v = optval(a, "src")) && set_prefix(args, "src", v, "--src", err, errlen))
		return -EINVAL;
	if ((v = optval(a, "dst")) && set_prefix(args, "dst", v, "--dst", err, errlen))
		return -EINVAL;
	if ((v = optval(a, "proto")) &&
	    set_choice(args, "proto", v, protos, "--proto", err, errlen))
		return -EINVAL;
	if ((v = optval(a, "dport"))) {
		unsigned long long lo, hi;
		const char *dash = strchr(v, '-');
		char first[8];

		if (dash && (size_t)(dash - v) < sizeof(first)) {
			memcpy(first, v, (size_t)(dash - v));
			first[dash - v] = '\0';
		}
		if (dash
			? ((size_t)(dash - v) >= sizeof(first) || parse_num(first, 1, 65535, &lo) ||
			   parse_num(dash + 1, 1, 65535, &hi) || lo > hi)
			: parse_num(v, 1, 65535, &lo)) {
			snprintf(err, errlen,
				 "--dport: expected N or N-M within 1..65535, got '%s'", v);
			return -EINVAL;
		}
		/* The config schema writes port ranges as strings: "22", "1000-2000". */
		json_object_set_new(args, "dport", json_string(v));
	}
	return 0;
}

static int b_steer_add(const struct cli_args *a, json_t *args, char *err, size_t errlen)
{
	const char *v = optval(a, "dst");

	if (!v) {
		snprintf(err, errlen, "--dst IP[/LEN] is required");
		return -EINVAL;
	}
	if (set_prefix(args, "dst", v, "--dst", err, errlen))
		return -EINVAL;
	if ((v = optval(a, "proto")) &&
	    set_choice(args, "proto", v, l4_protos, "--proto", err, errlen))
		return -EINVAL;
	if ((v = optval(a, "dport")) && set_num(args, "dport", v, 1, 65535, "--dport", err, errlen))
		return -EINVAL;
	return 0;
}

/* --limit N of ct, route and service list. */
static int b_list_limit(const struct cli_args *a, json_t *args, char *err, size_t errlen)
{
	const char *v = optval(a, "limit");

	if (v && set_num(args, "limit", v, 0, UINT32_MAX, "--limit", err, errlen))
		return -EINVAL;
	return 0;
}

static int b_route_get(const struct cli_args *a, json_t *args, char *err, size_t errlen)
{
	return set_addr(args, "addr", a->pos[0], "ADDR", err, errlen);
}

/* xgwd writes the file: a relative name is made absolute here, where the
 * user meant it. */
static int b_config_save(const struct cli_args *a, json_t *args, char *err, size_t errlen)
{
	char cwd[4096], path[8192];

	if (!a->n_pos)
		return 0;
	if (a->pos[0][0] != '/' && getcwd(cwd, sizeof(cwd)))
		snprintf(path, sizeof(path), "%s/%s", cwd, a->pos[0]);
	else
		snprintf(path, sizeof(path), "%s", a->pos[0]);
	if (json_object_set_new(args, "file", json_string(path)))
		return -ENOMEM;
	return 0;
}

/* ---- the table ---------------------------------------------------------- */

#define CHECK_OPTS                                                                                 \
	{"check", true}, {"check-interval", true}, {"check-timeout", true}, {"rise", true},        \
	    {"fall", true}, {"check-port", true}, {"check-status", true}, {"check-send", true},    \
	    {"check-expect", true},                                                                \
	{                                                                                          \
		"on-down", true                                                                    \
	}
static const struct opt o_service[] = {
    {"datapath", true}, {"algo", true}, {"snat", false}, CHECK_OPTS, {NULL, false}};
static const struct opt o_check[] = {CHECK_OPTS, {NULL, false}};
#define CHECK_SYNTAX                                                                               \
	"[--check tcp|http[:PATH]|udp|none] [--check-interval MS] [--check-timeout MS] "           \
	"[--rise N] [--fall N] [--check-port N] [--check-status N] [--check-send S] "              \
	"[--check-expect S] [--on-down keep|reset]"
static const struct opt o_backend[] = {{"weight", true}, {"vxlan", true},     {"geneve", true},
				       {"vni", true},	 {"inner-mac", true}, {NULL, false}};
static const struct opt o_policy[] = {
    {"src", true}, {"dst", true}, {"proto", true}, {"dport", true}, {NULL, false}};
static const struct opt o_steer[] = {
    {"dst", true}, {"proto", true}, {"dport", true}, {NULL, false}};
static const struct opt o_move[] = {{"datapath", true}, {NULL, false}};
static const struct opt o_limit[] = {{"limit", true}, {NULL, false}};
static const struct opt o_weight[] = {{"weight", true}, {NULL, false}};
static const struct opt o_watch[] = {{"watch", false}, {NULL, false}};
static const struct opt o_interval[] = {{"interval", true}, {NULL, false}};
static const struct opt o_trace[] = {
    {"count", true}, {"filter", true}, {"timeout", true}, {NULL, false}};
static const struct opt o_capture[] = {{"write", true}, {"port", true},	  {"dir", true},
				       {"count", true}, {"filter", true}, {"timeout", true},
				       {NULL, false}};

/* "call" passes a raw request through: for scripts and debugging. */
static const struct xgwctl_cmd cmds[] = {
    {"service", "add",
     "IP:PORT/PROTO [--datapath user|kernel] [--algo maglev|rr|random] [--snat] " CHECK_SYNTAX,
     o_service, 1, 1, "service.add", b_service_add, NULL},
    {"service", "check", "IP:PORT/PROTO --check tcp|http[:PATH]|udp|none [...as service add]",
     o_check, 1, 1, "service.check", b_service_check, NULL},
    {"service", "del", "IP:PORT/PROTO", NULL, 1, 1, "service.del", b_service_del, NULL},
    {"service", "move", "IP:PORT/PROTO --datapath user|kernel", o_move, 1, 1, "service.move",
     b_service_move, NULL},
    {"service", "list", "[--json] [--limit N]", o_limit, 0, 0, "service.list", b_list_limit,
     xgwctl_fmt_services},
    {"backend", "add",
     "SVC IP:PORT [--weight N] [--vxlan REMOTE --vni N | --geneve REMOTE --vni N] "
     "[--inner-mac MAC]",
     o_backend, 2, 2, "backend.add", b_backend_add, NULL},
    {"backend", "list", "[SVC] [--json]", NULL, 0, 1, "backend.list", b_backend_list,
     xgwctl_fmt_backends},
    {"backend", "del", "SVC IP:PORT", NULL, 2, 2, "backend.del", b_backend_del, NULL},
    {"backend", "set", "SVC IP:PORT --weight N", o_weight, 2, 2, "backend.set", b_backend_set,
     NULL},
    {"policy", "add", "deny|allow [--src CIDR] [--dst CIDR] [--proto tcp|udp|icmp] [--dport N[-M]]",
     o_policy, 1, 1, "policy.add", b_policy_add, xgwctl_fmt_added},
    {"policy", "del", "ID", NULL, 1, 1, "policy.del", parse_id, NULL},
    {"policy", "list", "[--json]", NULL, 0, 0, "policy.list", NULL, xgwctl_fmt_policies},
    {"steer", "add", "--dst IP[/LEN] [--proto tcp|udp] [--dport N]", o_steer, 0, 0, "steer.add",
     b_steer_add, xgwctl_fmt_added},
    {"steer", "del", "ID", NULL, 1, 1, "steer.del", parse_id, NULL},
    {"steer", "list", "[--json]", NULL, 0, 0, "steer.list", NULL, xgwctl_fmt_steer},
    {"route", "list", "[--json] [--limit N]", o_limit, 0, 0, "route.list", b_list_limit,
     xgwctl_fmt_routes},
    {"route", "get", "ADDR [--json]", NULL, 1, 1, "route.get", b_route_get, xgwctl_fmt_route},
    {"neigh", "list", "[--json]", NULL, 0, 0, "neigh.list", NULL, xgwctl_fmt_neigh},
    {"ct", "list", "[--json] [--limit N]", o_limit, 0, 0, "ct.list", b_list_limit, xgwctl_fmt_ct},
    {"ct", "flush", "", NULL, 0, 0, "ct.flush", NULL, NULL},
    {"drain", NULL, "", NULL, 0, 0, "drain", NULL, xgwctl_fmt_json},
    {"stats", NULL, "[--json] [--watch]", o_watch, 0, 0, "stats", NULL, xgwctl_fmt_stats},
    {"trace", NULL, "[--count N] [--filter EXPR] [--timeout S] [--json]", o_trace, 0, 0,
     "trace.start", b_trace, NULL},
    {"capture", NULL,
     "-w FILE [--port P] [--dir rx|tx|both] [--count N] [--filter EXPR] [--timeout S]", o_capture,
     0, 0, "capture.start", b_capture, NULL},
    {"ports", NULL, "[--json]", NULL, 0, 0, "ports", NULL, xgwctl_fmt_ports},
    {"workers", NULL, "[--json] [--interval S]", o_interval, 0, 0, "stats", NULL, NULL},
    {"config", "get", "", NULL, 0, 0, "config.get", NULL, xgwctl_fmt_json},
    {"config", "save", "[FILE]", NULL, 0, 1, "config.save", b_config_save, xgwctl_fmt_json},
    {"config", "reload", "", NULL, 0, 0, "config.reload", NULL, xgwctl_fmt_json},
    {"help", NULL, "", NULL, 0, 0, "help", NULL, xgwctl_fmt_help},
    {"call", NULL, "CMD [ARGS-JSON]", NULL, 1, 2, NULL, NULL, xgwctl_fmt_json},
};

#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

void xgwctl_usage(FILE *f)
{
	fprintf(f, "usage: xgwctl [-s PATH] COMMAND [ARGS]\n"
		   "  -s PATH   control socket (default " XGW_CTL_DEFAULT_SOCKET ")\n"
		   "  --json    print the raw JSON result\n"
		   "  --version print the version and exit\n"
		   "  -f FILE [--batch N]  run the commands in FILE (one per line, as below\n"
		   "            without \"xgwctl\"), N per atomic batch (default 1000)\n\n");
	for (size_t i = 0; i < N_CMDS; i++) {
		char name[32];

		fprintf(f, "  xgwctl %s%s%s\n", cmd_name(&cmds[i], name, sizeof(name)),
			cmds[i].syntax[0] ? " " : "", cmds[i].syntax);
	}
	fprintf(f, "\nSVC is IP:PORT/tcp|udp, IPv6 in brackets: [2001:db8::1]:80/tcp\n");
}

void xgwctl_print(FILE *f, const struct xgwctl_cmd *cmd, json_t *result)
{
	if (cmd->print)
		cmd->print(f, result);
}

/* ---- argv --------------------------------------------------------------- */

static const struct xgwctl_cmd *find_cmd(const char *noun, const char *verb, bool *verb_used)
{
	for (size_t i = 0; i < N_CMDS; i++) {
		if (strcmp(cmds[i].noun, noun))
			continue;
		if (!cmds[i].verb) {
			*verb_used = false;
			return &cmds[i];
		}
		if (verb && !strcmp(cmds[i].verb, verb)) {
			*verb_used = true;
			return &cmds[i];
		}
	}
	return NULL;
}

static bool known_noun(const char *noun)
{
	for (size_t i = 0; i < N_CMDS; i++)
		if (!strcmp(cmds[i].noun, noun))
			return true;
	return false;
}

/* The options and positionals after the command words. */
static int scan(int argc, char **argv, int i, struct xgwctl_inv *inv, struct cli_args *a, char *err,
		size_t errlen)
{
	const struct xgwctl_cmd *c = a->cmd;
	char name[32];

	cmd_name(c, name, sizeof(name));
	for (; i < argc; i++) {
		const char *arg = argv[i];
		const char *eq, *opt;
		size_t nlen;
		int k;

		if (!strcmp(arg, "-s") || !strcmp(arg, "--socket")) {
			if (++i == argc) {
				snprintf(err, errlen, "%s needs a PATH", arg);
				return -EINVAL;
			}
			inv->socket = argv[i];
			continue;
		}
		if (!strcmp(arg, "-w"))
			arg = "--write"; /* capture's -w FILE, as tcpdump's */
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			inv->usage = true;
			continue;
		}
		if (strncmp(arg, "--", 2) || !arg[2]) {
			if (arg[0] == '-' && arg[1] && strcmp(c->noun, "call")) {
				snprintf(err, errlen, "%s: unknown option '%s'", name, arg);
				return -EINVAL;
			}
			if (a->n_pos == c->max_pos) {
				snprintf(err, errlen, "%s: unexpected argument '%s'", name, arg);
				return -EINVAL;
			}
			a->pos[a->n_pos++] = arg;
			continue;
		}
		opt = arg + 2;
		eq = strchr(opt, '=');
		nlen = eq ? (size_t)(eq - opt) : strlen(opt);
		if (nlen == 4 && !strncmp(opt, "json", 4) && !eq) {
			inv->json = true;
			continue;
		}
		k = -1;
		for (int j = 0; c->opts && j < MAX_OPTS && c->opts[j].name; j++) {
			if (strlen(c->opts[j].name) == nlen &&
			    !strncmp(c->opts[j].name, opt, nlen)) {
				k = j;
				break;
			}
		}
		if (k < 0) {
			snprintf(err, errlen, "%s: unknown option '--%.*s'", name, (int)nlen, opt);
			return -EINVAL;
		}
		if (a->val[k]) {
			snprintf(err, errlen, "%s: --%s given twice", name, c->opts[k].name);
			return -EINVAL;
		}
		if (!c->opts[k].value) {
			if (eq) {
				snprintf(err, errlen, "%s: --%s takes no value", name,
					 c->opts[k].name);
				return -EINVAL;
			}
			a->val[k] = "";
		} else if (eq) {
			a->val[k] = eq + 1;
		} else if (i + 1 < argc) {
			a->val[k] = argv[++i];
		} else {
			snprintf(err, errlen, "%s: --%s needs a value", name, c->opts[k].name);
			return -EINVAL;
		}
	}
	if (a->n_pos < c->min_pos && !inv->usage) {
		snprintf(err, errlen, "%s: missing argument; usage: xgwctl %s %s", name, name,
			 c->syntax);
		return -EINVAL;
	}
	return 0;
}

static int build_call(const struct cli_args *a, struct xgwctl_inv *inv, char *err, size_t errlen)
{
	json_t *args = NULL;

	if (a->n_pos > 1) {
		json_error_t jerr;

		args = json_loads(a->pos[1], 0, &jerr);
		if (!json_is_object(args)) {
			json_decref(args);
			snprintf(err, errlen, "call: ARGS must be a JSON object: %s",
				 jerr.text[0] ? jerr.text : "not an object");
			return -EINVAL;
		}
	}
	inv->req = json_pack("{s:s}", "cmd", a->pos[0]);
	if (args)
		json_object_set_new(inv->req, "args", args);
	return 0;
}

int xgwctl_parse(int argc, char **argv, struct xgwctl_inv *inv, char *err, size_t errlen)
{
	struct cli_args a;
	bool verb_used = false;
	json_t *args;
	int i = 1, ret;

	memset(inv, 0, sizeof(*inv));
	memset(&a, 0, sizeof(a));
	inv->socket = XGW_CTL_DEFAULT_SOCKET;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-s") || !strcmp(argv[i], "--socket")) {
			if (++i == argc) {
				snprintf(err, errlen, "%s needs a PATH", argv[i - 1]);
				return -EINVAL;
			}
			inv->socket = argv[i];
		} else if (!strncmp(argv[i], "--socket=", 9)) {
			inv->socket = argv[i] + 9;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			inv->usage = true;
		} else if (!strcmp(argv[i], "--version")) {
			inv->version = true;
			return 0;
		} else if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--file")) {
			if (++i == argc) {
				snprintf(err, errlen, "%s needs a FILE", argv[i - 1]);
				return -EINVAL;
			}
			inv->file = argv[i];
		} else if (!strcmp(argv[i], "--batch")) {
			char *end;
			unsigned long n = i + 1 < argc ? strtoul(argv[i + 1], &end, 10) : 0;

			if (i + 1 == argc || *end || n < 1 || n > XGW_CTL_MAX_BATCH) {
				snprintf(err, errlen, "--batch needs a count of 1..%u",
					 XGW_CTL_MAX_BATCH);
				return -EINVAL;
			}
			inv->batch = (unsigned)n;
			i++;
		} else if (!strcmp(argv[i], "--json")) {
			inv->json = true;
		} else {
			snprintf(err, errlen, "unknown option '%s'", argv[i]);
			return -EINVAL;
		}
	}
	if (inv->file) {
		if (i != argc) {
			snprintf(err, errlen, "-f FILE takes no command: the file holds them");
			return -EINVAL;
		}
		return 0;
	}
	if (i == argc) {
		inv->usage = true;
		return 0;
	}
	a.cmd = find_cmd(argv[i], i + 1 < argc ? argv[i + 1] : NULL, &verb_used);
	if (!a.cmd) {
		if (known_noun(argv[i]))
			snprintf(err, errlen, "%s: unknown or missing subcommand%s%s", argv[i],
				 i + 1 < argc ? " " : "", i + 1 < argc ? argv[i + 1] : "");
		else
			snprintf(err, errlen, "unknown command '%s' (see xgwctl --help)", argv[i]);
		return -EINVAL;
	}
	inv->cmd = a.cmd;
	ret = scan(argc, argv, i + 1 + verb_used, inv, &a, err, errlen);
	if (ret || inv->usage)
		return ret;
	inv->watch = optval(&a, "watch") != NULL;
	inv->load = !strcmp(a.cmd->noun, "workers");
	inv->interval = 1.0;
	if (optval(&a, "interval")) {
		char *end;
		double v = strtod(optval(&a, "interval"), &end);

		if (*end || !(v >= 0.1 && v <= 60)) {
			snprintf(err, errlen, "workers: --interval: expected seconds, 0.1 to 60");
			return -EINVAL;
		}
		inv->interval = v;
	}
	inv->tap = !strcmp(a.cmd->noun, "trace") || !strcmp(a.cmd->noun, "capture");
	inv->write = optval(&a, "write");
	if (!a.cmd->server_cmd)
		return build_call(&a, inv, err, errlen);
	inv->req = json_pack("{s:s}", "cmd", a.cmd->server_cmd);
	if (!a.cmd->build)
		return inv->req ? 0 : -ENOMEM;
	args = json_object();
	ret = a.cmd->build(&a, args, err, errlen);
	if (ret) {
		char name[32];
		char tmp[512];

		/* Prefix the command so errors say where. */
		snprintf(tmp, sizeof(tmp), "%s: %s", cmd_name(a.cmd, name, sizeof(name)), err);
		snprintf(err, errlen, "%s", tmp);
		json_decref(args);
		return ret;
	}
	json_object_set_new(inv->req, "args", args);
	return 0;
}

void xgwctl_inv_free(struct xgwctl_inv *inv)
{
	json_decref(inv->req);
	inv->req = NULL;
}
