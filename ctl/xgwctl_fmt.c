/* SPDX-License-Identifier: BSD-3-Clause */
/* Human-readable tables for xgwctl.  They read the JSON the server sends
 * and never fail on a missing or unexpected field: "-" is printed instead,
 * so that a newer daemon with extra fields still prints. */
#include "common/counters.h"
#include "ctl/xgwctl.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a minimal column table ------------------------------------------- */

#define MAX_COLS 16

struct table {
	unsigned ncol, nrow, cap;
	const char *align; /* per column: 'l' or 'r' */
	char **cells;	   /* nrow * ncol, row 0 is the header */
};

static void t_init(struct table *t, const char *align)
{
	memset(t, 0, sizeof(*t));
	t->ncol = (unsigned)strlen(align);
	t->align = align;
}

/* Append one row of ncol strings (copied; NULL prints as "-"). */
static void t_row(struct table *t, ...)
{
	va_list ap;

	if (t->nrow == t->cap) {
		unsigned cap = t->cap ? t->cap * 2 : 16;
		char **p = realloc(t->cells, (size_t)cap * t->ncol * sizeof(*p));

		if (!p)
			return;
		t->cells = p;
		t->cap = cap;
	}
	va_start(ap, t);
	for (unsigned i = 0; i < t->ncol; i++) {
		const char *s = va_arg(ap, const char *);

		t->cells[t->nrow * t->ncol + i] = strdup(s ? s : "-");
	}
	va_end(ap);
	t->nrow++;
}

static void pad(FILE *f, size_t n)
{
	static const char spaces[] =
	    "                                                                ";

	for (; n > sizeof(spaces) - 1; n -= sizeof(spaces) - 1)
		fwrite(spaces, 1, sizeof(spaces) - 1, f);
	fwrite(spaces, 1, n, f);
}

static void t_print(FILE *f, struct table *t)
{
	size_t w[MAX_COLS] = {0};

	for (unsigned r = 0; r < t->nrow; r++)
		for (unsigned c = 0; c < t->ncol; c++) {
			const char *s = t->cells[r * t->ncol + c];
			size_t len = s ? strlen(s) : 0;

			if (len > w[c])
				w[c] = len;
		}
	for (unsigned r = 0; r < t->nrow; r++) {
		unsigned ncol = t->ncol;

		/* No padding after the last non-empty cell. */
		while (ncol > 1 &&
		       (!t->cells[r * t->ncol + ncol - 1] || !t->cells[r * t->ncol + ncol - 1][0]))
			ncol--;
		for (unsigned c = 0; c < ncol; c++) {
			const char *s = t->cells[r * t->ncol + c];
			bool last = c + 1 == ncol;

			size_t len;

			if (!s)
				s = "";
			len = strlen(s);
			/* Padding by hand: fprintf's %*s per cell was a third of
			 * a 50,000-row service list. */
			if (t->align[c] == 'r')
				pad(f, w[c] - len);
			fwrite(s, 1, len, f);
			if (!last)
				pad(f, (t->align[c] == 'r' ? 0 : w[c] - len) + 2);
		}
		fputc('\n', f);
	}
	for (unsigned i = 0; i < t->nrow * t->ncol; i++)
		free(t->cells[i]);
	free(t->cells);
}

/* ---- values ------------------------------------------------------------- */

/* A value as text in one of a few rotating buffers, so that several can be
 * passed to one t_row call. */
static const char *txt(json_t *v)
{
	static char bufs[16][64];
	static unsigned next;
	char *b = bufs[next++ % 16];

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		snprintf(b, 64, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(b, 64, "%.1f", json_real_value(v));
	else if (json_is_true(v))
		return "yes";
	else if (json_is_false(v))
		return "no";
	else
		return NULL;
	return b;
}

static const char *get(json_t *o, const char *key)
{
	return txt(json_object_get(o, key));
}

static const char *get_or(json_t *o, const char *key, const char *dflt)
{
	const char *s = get(o, key);

	return s ? s : dflt;
}

/* "ip:port", IPv6 in brackets. */
static const char *ep(json_t *o, const char *ipkey, const char *portkey)
{
	static char bufs[4][80];
	static unsigned next;
	char *b = bufs[next++ % 4];
	const char *ip = get(o, ipkey), *port = get(o, portkey);

	if (!ip)
		return NULL;
	if (!port)
		return ip;
	snprintf(b, 80, strchr(ip, ':') ? "[%s]:%s" : "%s:%s", ip, port);
	return b;
}

static double num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : 0;
}

static double sum_obj(json_t *o)
{
	const char *k;
	json_t *v;
	double s = 0;

	json_object_foreach(o, k, v)
	{
		if (json_is_number(v))
			s += json_number_value(v);
	}
	return s;
}

/* key summed over the "workers" array of a stats reply, as text in buf. */
static const char *sum_workers(json_t *r, const char *key, char *buf, size_t len)
{
	json_t *w;
	size_t i;
	double s = 0;

	json_array_foreach(json_object_get(r, "workers"), i, w)
	{
		s += num(w, key);
	}
	snprintf(buf, len, "%.0f", s);
	return buf;
}

/* ---- results ------------------------------------------------------------ */

/* The counter columns of services and backends ("-" without counters: a
 * kernel-datapath service, or an xgwctl talking to an offline server). */
#define CTR_HEAD "ACTIVE", "NEW", "PKTS_IN", "PKTS_OUT", "BYTES_IN", "BYTES_OUT", "DROPS"
#define CTR_CELLS(st, drops)                                                                       \
	get(st, "conns_active"), get(st, "conns_new"), get(st, "pkts_in"), get(st, "pkts_out"),    \
	    get(st, "bytes_in"), get(st, "bytes_out"), get(st, drops)

void xgwctl_fmt_json(FILE *f, json_t *r)
{
	json_dumpf(r, f, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', f);
}

void xgwctl_fmt_added(FILE *f, json_t *r)
{
	const char *id = get(r, "id");

	if (id)
		fprintf(f, "%s\n", id);
}

/* "up (ok 0.4 ms, 1.2 s ago)", "down (timeout, 0.3 s ago)", "unchecked". */
static const char *health_desc(json_t *b, char *buf, size_t len)
{
	json_t *h = json_object_get(b, "health"), *last = json_object_get(h, "last");
	const char *st = get_or(h, "state", "unchecked");

	if (!last) {
		snprintf(buf, len, "%s", st);
		return buf;
	}
	snprintf(buf, len, "%s (%s%s%s %.1f ms, %.1f s ago)", st, get_or(last, "result", "?"),
		 get(last, "status") ? " " : "", get_or(last, "status", ""), num(last, "ms"),
		 num(last, "age_s"));
	return buf;
}

static const char *tunnel_desc(json_t *b, char *buf, size_t len)
{
	json_t *tun = json_object_get(b, "tunnel");

	buf[0] = 0;
	if (tun)
		snprintf(buf, len, "%s %s vni %s%s%s", get_or(tun, "type", "?"),
			 get_or(tun, "remote", "?"), get_or(tun, "vni", "?"),
			 get(tun, "mac") ? " mac " : "", get_or(tun, "mac", ""));
	return buf;
}

void xgwctl_fmt_services(FILE *f, json_t *r)
{
	struct table t;
	size_t i, j;
	json_t *s, *b;

	t_init(&t, "llllllllrrrrrrr");
	t_row(&t, "SERVICE", "DATAPATH", "ALGO", "SNAT", "BACKENDS", "WEIGHT", "HEALTH", "TUNNEL",
	      CTR_HEAD);
	json_array_foreach(r, i, s)
	{
		json_t *bs = json_object_get(s, "backends"), *st = json_object_get(s, "stats");
		json_t *ck = json_object_get(s, "check");
		char key[96], nb[16], chk[64] = "";

		snprintf(key, sizeof(key), "%s/%s", ep(s, "vip", "port"), get_or(s, "proto", "?"));
		snprintf(nb, sizeof(nb), "%zu", json_array_size(bs));
		if (ck)
			snprintf(chk, sizeof(chk), "check %s every %s ms", get_or(ck, "type", "?"),
				 get_or(ck, "interval_ms", "?"));
		t_row(&t, key, get(s, "datapath"), get(s, "algorithm"), get(s, "snat"), nb, "", chk,
		      "", CTR_CELLS(st, "drops_total"));
		json_array_foreach(bs, j, b)
		{
			char be[96], tdesc[128], hdesc[96];

			snprintf(be, sizeof(be), "  -> %s", ep(b, "ip", "port"));
			st = json_object_get(b, "stats");
			t_row(&t, be, "", "", "", "", get_or(b, "weight", "1"),
			      health_desc(b, hdesc, sizeof(hdesc)),
			      tunnel_desc(b, tdesc, sizeof(tdesc)), CTR_CELLS(st, "drops"));
		}
	}
	t_print(f, &t);
}

void xgwctl_fmt_backends(FILE *f, json_t *r)
{
	struct table t;
	size_t i;
	json_t *b;

	t_init(&t, "llrlrrrrrrr");
	t_row(&t, "SERVICE", "BACKEND", "WEIGHT", "HEALTH", CTR_HEAD);
	json_array_foreach(r, i, b)
	{
		json_t *s = json_object_get(b, "service"), *st = json_object_get(b, "stats");
		char key[96], hdesc[96];

		snprintf(key, sizeof(key), "%s/%s", ep(s, "vip", "port"), get_or(s, "proto", "?"));
		t_row(&t, key, ep(b, "ip", "port"), get_or(b, "weight", "1"),
		      health_desc(b, hdesc, sizeof(hdesc)), CTR_CELLS(st, "drops"));
	}
	t_print(f, &t);
}

void xgwctl_fmt_policies(FILE *f, json_t *r)
{
	struct table t;
	size_t i;
	json_t *p;

	t_init(&t, "rlllll");
	t_row(&t, "ID", "ACTION", "SRC", "DST", "PROTO", "DPORT");
	json_array_foreach(r, i, p)
	{
		t_row(&t, get(p, "id"), get(p, "action"), get_or(p, "src", "any"),
		      get_or(p, "dst", "any"), get_or(p, "proto", "any"),
		      get_or(p, "dport", "any"));
	}
	t_print(f, &t);
}

void xgwctl_fmt_steer(FILE *f, json_t *r)
{
	struct table t;
	size_t i;
	json_t *s;

	t_init(&t, "rlll");
	t_row(&t, "ID", "DST", "PROTO", "DPORT");
	json_array_foreach(r, i, s)
	{
		t_row(&t, get(s, "id"), get(s, "dst"), get_or(s, "proto", "any"),
		      get_or(s, "dport", "any"));
	}
	t_print(f, &t);
}

void xgwctl_fmt_routes(FILE *f, json_t *r)
{
	struct table t;
	size_t i;
	json_t *s;

	t_init(&t, "lllll");
	t_row(&t, "DST", "VIA", "DEV", "PORT", "ORIGIN");
	json_array_foreach(r, i, s)
	{
		json_t *hops = json_object_get(s, "nexthops"), *h;
		size_t k;

		if (!hops) {
			t_row(&t, get(s, "dst"), get_or(s, "via", "direct"), get_or(s, "dev", "-"),
			      get_or(s, "port", "-"), get(s, "origin"));
			continue;
		}
		/* Multipath: the prefix once, then a row per path. */
		json_array_foreach(hops, k, h)
		{
			t_row(&t, k ? "" : get(s, "dst"), get_or(h, "via", "direct"),
			      get_or(h, "dev", "-"), get_or(h, "port", "-"),
			      k ? "" : get(s, "origin"));
		}
	}
	t_print(f, &t);
	fprintf(f, "%zu routes\n", json_array_size(r));
}

/* One route as `ip route` prints it: "DST [via X] dev D port P origin O"
 * with a "nexthop via X dev D weight W" line per path of a multipath
 * route. */
static void fmt_route_line(FILE *f, json_t *s)
{
	json_t *hops = json_object_get(s, "nexthops"), *h;
	size_t i;

	fprintf(f, "%s", get(s, "dst"));
	if (!hops) {
		fprintf(f, " via %s dev %s port %s", get_or(s, "via", "direct"),
			get_or(s, "dev", "-"), get_or(s, "port", "-"));
	}
	fprintf(f, " origin %s\n", get(s, "origin"));
	json_array_foreach(hops, i, h)
	{
		fprintf(f, "\tnexthop via %s dev %s port %s weight %lld\n",
			get_or(h, "via", "direct"), get_or(h, "dev", "-"), get_or(h, "port", "-"),
			(long long)json_integer_value(json_object_get(h, "weight")));
	}
}

void xgwctl_fmt_route(FILE *f, json_t *r)
{
	if (json_is_null(r)) {
		fprintf(f, "no route\n");
		return;
	}
	fmt_route_line(f, r);
}

void xgwctl_fmt_neigh(FILE *f, json_t *r)
{
	struct table t;
	size_t i;
	json_t *s;

	t_init(&t, "llll");
	t_row(&t, "IP", "MAC", "DEV", "ORIGIN");
	json_array_foreach(r, i, s)
	{
		t_row(&t, get(s, "ip"), get(s, "mac"), get(s, "dev"), get(s, "origin"));
	}
	t_print(f, &t);
	fprintf(f, "%zu neighbours\n", json_array_size(r));
}

void xgwctl_fmt_ct(FILE *f, json_t *r)
{
	struct table t;
	size_t i;
	json_t *e;

	t_init(&t, "lllllrr");
	t_row(&t, "PROTO", "SOURCE", "DESTINATION", "BACKEND", "STATE", "AGE_S", "EXPIRES_S");
	json_array_foreach(r, i, e)
	{
		t_row(&t, get(e, "proto"), ep(e, "src", "sport"), ep(e, "dst", "dport"),
		      get(e, "backend"), get(e, "state"), get(e, "age_s"), get(e, "expires_s"));
	}
	t_print(f, &t);
	fprintf(f, "%zu entries\n", json_array_size(r));
}

void xgwctl_fmt_stats(FILE *f, json_t *r)
{
	struct table t;
	char buf[32];
	size_t i, j;
	json_t *p, *q, *w;
	const char *k;

	t_init(&t, "lrrrrrr");
	t_row(&t, "PORT", "QUEUE", "CORE", "RX_PACKETS", "RX_BYTES", "TX_PACKETS", "TX_BYTES");
	json_array_foreach(json_object_get(r, "ports"), i, p)
	{
		json_array_foreach(json_object_get(p, "queues"), j, q)
		{
			t_row(&t, get(p, "name"), get(q, "queue"), get(q, "core"),
			      get(q, "rx_packets"), get(q, "rx_bytes"), get(q, "tx_packets"),
			      get(q, "tx_bytes"));
		}
	}
	t_print(f, &t);
	fputc('\n', f);

	/* DPDK ports: the PMD's own counters (rte_eth_stats); xstats are in
	 * --json and the metrics. */
	j = 0;
	json_array_foreach(json_object_get(r, "ports"), i, p) j +=
	    json_object_get(p, "dpdk") != NULL;
	if (j) {
		t_init(&t, "lrrrrrr");
		t_row(&t, "DPDK_PORT", "IPACKETS", "OPACKETS", "IMISSED", "IERRORS", "OERRORS",
		      "RX_NOMBUF");
		json_array_foreach(json_object_get(r, "ports"), i, p)
		{
			if ((q = json_object_get(p, "dpdk")))
				t_row(&t, get(p, "name"), get(q, "ipackets"), get(q, "opackets"),
				      get(q, "imissed"), get(q, "ierrors"), get(q, "oerrors"),
				      get(q, "rx_nombuf"));
		}
		t_print(f, &t);
		fputc('\n', f);
	}

	t_init(&t, "rrrrrrrr");
	t_row(&t, "WORKER", "CORE", "RX_PACKETS", "TX_PACKETS", "DROPS", "WAKEUPS", "EMPTY_POLLS",
	      "FILL_STARVED");
	json_array_foreach(json_object_get(r, "workers"), i, w)
	{
		char drops[32];

		snprintf(drops, sizeof(drops), "%.0f", sum_obj(json_object_get(w, "drops")));
		t_row(&t, get(w, "id"), get(w, "core"), get(w, "rx_packets"), get(w, "tx_packets"),
		      drops, get(w, "wakeups"), get(w, "empty_polls"), get(w, "fill_starved"));
	}
	t_print(f, &t);

	/* Every worker counter of common/counters.h, summed over the workers. */
	fputc('\n', f);
	t_init(&t, "lr");
	t_row(&t, "WORKER_COUNTER", "TOTAL");
#define _(name, scope, help) t_row(&t, #name, sum_workers(r, #name, buf, sizeof(buf)));
	XGW_FOREACH_WORKER_COUNTER(_)
#undef _
	t_print(f, &t);

	/* The kernel (XDP) datapath; its drops are in the table below too. */
	if ((w = json_object_get(r, "kernel"))) {
		fputc('\n', f);
		t_init(&t, "lr");
		t_row(&t, "KERNEL_DATAPATH", "COUNT");
		json_object_foreach(w, k, q)
		{
			if (json_is_integer(q))
				t_row(&t, k, txt(q));
		}
		t_print(f, &t);
	}

	if (json_object_size(json_object_get(r, "drops"))) {
		fputc('\n', f);
		t_init(&t, "lr");
		t_row(&t, "DROP_REASON", "COUNT");
		json_object_foreach(json_object_get(r, "drops"), k, w)
		{
			t_row(&t, k, txt(w));
		}
		t_print(f, &t);
	}
}

void xgwctl_fmt_ports(FILE *f, json_t *r)
{
	struct table t;
	size_t i, j;
	json_t *p, *q;

	t_init(&t, "lllrlrllrrlll");
	t_row(&t, "PORT", "DRIVER", "IFACE", "IFINDEX", "LINK", "MTU", "XDP", "PROGRAM", "QUEUE",
	      "CORE", "MODE", "NEED_WAKEUP", "BUSY_POLL");
	json_array_foreach(r, i, p)
	{
		json_t *h = json_object_get(p, "health");

		json_array_foreach(json_object_get(p, "queues"), j, q)
		{
			t_row(&t, get(p, "name"), get(p, "driver"), get(p, "iface"),
			      get(p, "ifindex"), get(h, "link"), get(p, "mtu"), get(p, "xdp_mode"),
			      get(h, "xdp"), get(q, "queue"), get(q, "core"), get(q, "mode"),
			      get(q, "need_wakeup"), get(q, "busy_poll"));
		}
	}
	t_print(f, &t);
}

void xgwctl_fmt_help(FILE *f, json_t *r)
{
	size_t i;
	json_t *c;

	if (json_is_object(r)) {
		fprintf(f, "%s (%s): %s\n  args: %s\n", get_or(r, "cmd", "?"),
			get_or(r, "kind", "?"), get_or(r, "help", ""), get_or(r, "args", ""));
		return;
	}
	fprintf(f, "control socket commands ({\"cmd\":NAME,\"args\":{...}} per line):\n");
	json_array_foreach(r, i, c)
	{
		const char *args = get_or(c, "args", "");

		fprintf(f, "  %-13s %-6s %s\n", get_or(c, "cmd", "?"), get_or(c, "kind", "?"),
			get_or(c, "help", ""));
		if (args[0])
			fprintf(f, "  %-13s %-6s args: %s\n", "", "", args);
	}
}

/* ---- stats --watch ------------------------------------------------------ */

static json_t *find_by(json_t *arr, const char *key, json_t *val)
{
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e)
	{
		if (json_equal(json_object_get(e, key), val))
			return e;
	}
	return NULL;
}

/* Counters only go up; one that went down (a restarted daemon) shows 0
 * rather than a huge negative rate. */
static double rate(json_t *cur, json_t *prev, const char *key, double dt)
{
	double d = num(cur, key) - num(prev, key);

	return prev && d > 0 && dt > 0 ? d / dt : 0;
}

/* A service's key in the previous reading's index. */
static const char *svc_key(json_t *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s|%s|%s", get_or(s, "vip", ""), get_or(s, "port", ""),
		 get_or(s, "proto", ""));
	return buf;
}

/* prev's "services" by key, built once per reading: a search of the whole
 * array per service was quadratic (10,000 services: 10^8 comparisons per
 * refresh). */
static json_t *svc_index(json_t *prev)
{
	json_t *idx = json_object(), *p;
	char k[160];
	size_t i;

	json_array_foreach(json_object_get(prev, "services"), i, p)
	    json_object_set(idx, svc_key(p, k, sizeof(k)), p);
	return idx;
}

static void rates_services(FILE *f, json_t *prev, json_t *cur, double dt)
{
	json_t *svcs = json_object_get(cur, "services"), *s, *idx;
	struct table t;
	size_t i;

	if (!json_array_size(svcs))
		return;
	idx = svc_index(prev);
	fputc('\n', f);
	t_init(&t, "lrrrrrrr");
	t_row(&t, "SERVICE", "ACTIVE", "CONNS/S", "PPS_IN", "PPS_OUT", "MBPS_IN", "MBPS_OUT",
	      "DROPS/S");
	json_array_foreach(svcs, i, s)
	{
		char key[160], v[6][32];
		json_t *ps = json_object_get(idx, svc_key(s, key, sizeof(key)));

		snprintf(key, sizeof(key), "%s/%s", ep(s, "vip", "port"), get_or(s, "proto", "?"));
		snprintf(v[0], 32, "%.0f", rate(s, ps, "conns_new", dt));
		snprintf(v[1], 32, "%.0f", rate(s, ps, "pkts_in", dt));
		snprintf(v[2], 32, "%.0f", rate(s, ps, "pkts_out", dt));
		snprintf(v[3], 32, "%.2f", rate(s, ps, "bytes_in", dt) * 8 / 1e6);
		snprintf(v[4], 32, "%.2f", rate(s, ps, "bytes_out", dt) * 8 / 1e6);
		snprintf(v[5], 32, "%.0f", rate(s, ps, "drops_total", dt));
		t_row(&t, key, get(s, "conns_active"), v[0], v[1], v[2], v[3], v[4], v[5]);
	}
	json_decref(idx);
	t_print(f, &t);
}

json_t *xgwctl_load(json_t *prev, json_t *cur, double dt)
{
	double hz = num(cur, "tsc_hz");
	json_t *arr = json_array(), *w;
	size_t i;

	json_array_foreach(json_object_get(cur, "workers"), i, w)
	{
		json_t *pw =
		    find_by(json_object_get(prev, "workers"), "id", json_object_get(w, "id"));
		double busy = rate(w, pw, "busy_cycles", dt) * dt,
		       pkts = rate(w, pw, "rx_packets", dt) * dt;
		double bursts = rate(w, pw, "bursts", dt) * dt;
		double polls = bursts + rate(w, pw, "empty_polls", dt) * dt;

		json_array_append_new(
		    arr,
		    json_pack("{s:O?,s:O?,s:f,s:f,s:f,s:f,s:f,s:f}", "id", json_object_get(w, "id"),
			      "core", json_object_get(w, "core"), "busy_pct",
			      hz > 0 && dt > 0 ? 100.0 * busy / (hz * dt) : 0.0, "pkts_per_burst",
			      bursts > 0 ? pkts / bursts : 0.0, "cycles_per_pkt",
			      pkts > 0 ? busy / pkts : 0.0, "rx_pps", dt > 0 ? pkts / dt : 0.0,
			      "polls_per_s", dt > 0 ? polls / dt : 0.0, "sleeps_per_s",
			      rate(w, pw, "idle_sleeps", dt)));
	}
	return arr;
}

void xgwctl_fmt_load(FILE *f, json_t *load)
{
	struct table t;
	size_t i;
	json_t *w;

	t_init(&t, "rrrrrrrr");
	t_row(&t, "WORKER", "CORE", "BUSY%", "PKTS/BURST", "CYCLES/PKT", "RX_PPS", "POLLS/S",
	      "SLEEPS/S");
	json_array_foreach(load, i, w)
	{
		char v[6][32];

		snprintf(v[0], 32, "%.1f", num(w, "busy_pct"));
		snprintf(v[1], 32, "%.1f", num(w, "pkts_per_burst"));
		snprintf(v[2], 32, "%.0f", num(w, "cycles_per_pkt"));
		snprintf(v[3], 32, "%.0f", num(w, "rx_pps"));
		snprintf(v[4], 32, "%.0f", num(w, "polls_per_s"));
		snprintf(v[5], 32, "%.0f", num(w, "sleeps_per_s"));
		t_row(&t, get(w, "id"), get(w, "core"), v[0], v[1], v[2], v[3], v[4], v[5]);
	}
	t_print(f, &t);
}

void xgwctl_fmt_rates(FILE *f, json_t *prev, json_t *cur, double dt)
{
	struct table t;
	size_t i, j;
	json_t *p, *q, *w;

	t_init(&t, "lrrrrrr");
	t_row(&t, "PORT", "QUEUE", "CORE", "RX_PPS", "RX_MBPS", "TX_PPS", "TX_MBPS");
	json_array_foreach(json_object_get(cur, "ports"), i, p)
	{
		json_t *pp =
		    find_by(json_object_get(prev, "ports"), "name", json_object_get(p, "name"));

		json_array_foreach(json_object_get(p, "queues"), j, q)
		{
			json_t *pq = find_by(json_object_get(pp, "queues"), "queue",
					     json_object_get(q, "queue"));
			char v[4][32];

			snprintf(v[0], 32, "%.0f", rate(q, pq, "rx_packets", dt));
			snprintf(v[1], 32, "%.2f", rate(q, pq, "rx_bytes", dt) * 8 / 1e6);
			snprintf(v[2], 32, "%.0f", rate(q, pq, "tx_packets", dt));
			snprintf(v[3], 32, "%.2f", rate(q, pq, "tx_bytes", dt) * 8 / 1e6);
			t_row(&t, get(p, "name"), get(q, "queue"), get(q, "core"), v[0], v[1], v[2],
			      v[3]);
		}
	}
	t_print(f, &t);
	fputc('\n', f);

	t_init(&t, "rrrrrrrr");
	t_row(&t, "WORKER", "CORE", "RX_PPS", "TX_PPS", "DROPS/S", "WAKEUPS/S", "EMPTY_POLLS/S",
	      "FILL_STARVED/S");
	json_array_foreach(json_object_get(cur, "workers"), i, w)
	{
		json_t *pw =
		    find_by(json_object_get(prev, "workers"), "id", json_object_get(w, "id"));
		double dd =
		    sum_obj(json_object_get(w, "drops")) - sum_obj(json_object_get(pw, "drops"));
		char v[6][32];

		snprintf(v[0], 32, "%.0f", rate(w, pw, "rx_packets", dt));
		snprintf(v[1], 32, "%.0f", rate(w, pw, "tx_packets", dt));
		snprintf(v[2], 32, "%.0f", pw && dd > 0 && dt > 0 ? dd / dt : 0);
		snprintf(v[3], 32, "%.0f", rate(w, pw, "wakeups", dt));
		snprintf(v[4], 32, "%.0f", rate(w, pw, "empty_polls", dt));
		snprintf(v[5], 32, "%.0f", rate(w, pw, "fill_starved", dt));
		t_row(&t, get(w, "id"), get(w, "core"), v[0], v[1], v[2], v[3], v[4], v[5]);
	}
	t_print(f, &t);
	rates_services(f, prev, cur, dt);
}
