/* SPDX-License-Identifier: BSD-3-Clause */
/* Prometheus text exposition of the stats JSON (the HTTP side is
 * metrics_http.c).  See metrics.h. */
#define XGW_LOG_COMP "metrics"
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/counters.h"
#include "common/drop.h"
#include "common/log.h"
#include "common/version.h"
#include "ctl/config.h"
#include "ctl/metrics.h"

/* ---- rendering ---------------------------------------------------------- */

#define MAX_LABELS 5

struct label {
	const char *name;
	const char *value;
};

/* One labelled object whose numeric keys become samples. */
struct row {
	const json_t *obj;
	struct label l[MAX_LABELS];
	unsigned nl;
	char num[MAX_LABELS][24]; /* storage for numeric label values */
};

/* A key of the stats JSON that this file knows. */
struct fam {
	const char *key;
	const char *name;
	const char *type;
	const char *help;
};

static const struct fam queue_fams[] = {
    {"rx_packets", "xgw_rx_packets_total", "counter", "Packets received on an AF_XDP queue."},
    {"rx_bytes", "xgw_rx_bytes_total", "counter", "Bytes received on an AF_XDP queue."},
    {"tx_packets", "xgw_tx_packets_total", "counter", "Packets sent on an AF_XDP queue."},
    {"tx_bytes", "xgw_tx_bytes_total", "counter", "Bytes sent on an AF_XDP queue."},
    {"tx_wakeups", "xgw_tx_wakeups_total", "counter",
     "TX wakeup syscalls (sendto kicks) on an AF_XDP queue."},
    {"tx_ring_full", "xgw_tx_ring_full_total", "counter",
     "Times the TX ring of an AF_XDP queue was found full."},
    /* The kernel's own counters of the socket (XDP_STATISTICS). */
    {"kernel_rx_dropped", "xgw_xsk_rx_dropped_total", "counter",
     "Packets the kernel dropped on an AF_XDP socket's receive side (XDP_STATISTICS)."},
    {"kernel_rx_ring_full", "xgw_xsk_rx_ring_full_total", "counter",
     "Packets the kernel dropped because an AF_XDP socket's RX ring was full."},
    {"kernel_fill_ring_empty", "xgw_xsk_fill_ring_empty_total", "counter",
     "Times the kernel found an AF_XDP socket's fill ring empty."},
    {"kernel_tx_invalid", "xgw_xsk_tx_invalid_descs_total", "counter",
     "Invalid TX descriptors the kernel rejected on an AF_XDP socket."},
    /* DPDK queues (port/port_dpdk.c). */
    {"rx_no_frame", "xgw_queue_rx_no_frame_total", "counter",
     "Packets a DPDK queue received but dropped for want of a free worker frame."},
    {"rx_too_big", "xgw_queue_rx_too_big_total", "counter",
     "Packets a DPDK queue received but dropped as longer than a worker frame."},
    {NULL, NULL, NULL, NULL},
};

/* A DPDK port's rte_eth_stats (pipeline/stats.c "dpdk"). */
static const struct fam dpdk_fams[] = {
    {"ipackets", "xgw_dpdk_ipackets_total", "counter",
     "Packets a DPDK port received (rte_eth_stats)."},
    {"opackets", "xgw_dpdk_opackets_total", "counter",
     "Packets a DPDK port transmitted (rte_eth_stats)."},
    {"ibytes", "xgw_dpdk_ibytes_total", "counter", "Bytes a DPDK port received."},
    {"obytes", "xgw_dpdk_obytes_total", "counter", "Bytes a DPDK port transmitted."},
    {"imissed", "xgw_dpdk_imissed_total", "counter",
     "Packets a DPDK port dropped because its RX queues were full."},
    {"ierrors", "xgw_dpdk_ierrors_total", "counter", "Erroneous packets a DPDK port received."},
    {"oerrors", "xgw_dpdk_oerrors_total", "counter", "Packets a DPDK port failed to transmit."},
    {"rx_nombuf", "xgw_dpdk_rx_nombuf_total", "counter",
     "Receive mbuf allocation failures of a DPDK port."},
    {NULL, NULL, NULL, NULL},
};

static const struct fam worker_fams[] = {
    {"rx_packets", "xgw_worker_rx_packets_total", "counter",
     "Packets received by a worker over all its queues."},
    {"rx_bytes", "xgw_worker_rx_bytes_total", "counter",
     "Bytes received by a worker over all its queues."},
    {"tx_packets", "xgw_worker_tx_packets_total", "counter",
     "Packets sent by a worker over all its queues."},
    {"tx_bytes", "xgw_worker_tx_bytes_total", "counter",
     "Bytes sent by a worker over all its queues."},
    {"wakeups", "xgw_worker_wakeups_total", "counter",
     "Wakeup syscalls (TX kicks and fill-ring wakeups) of a worker."},
    {"fill_starved", "xgw_worker_fill_starved_total", "counter",
     "Times a worker found no free frame to refill the fill ring."},
#define _(name, scope, help) {#name, "xgw_worker_" #name "_total", "counter", help},
    XGW_FOREACH_WORKER_COUNTER(_)
#undef _
	{"umem_frames", "xgw_worker_umem_frames", "gauge", "UMEM frames owned by a worker."},
    {"frames_free", "xgw_worker_frames_free", "gauge", "Free UMEM frames of a worker."},
    {"frames_accounted", "xgw_worker_frames_accounted", "gauge",
     "UMEM frames of a worker found in rings or the free list (equal to umem_frames when "
     "idle)."},
    {NULL, NULL, NULL, NULL},
};

static const struct fam xdp_fams[] = {
    {"steered", "xgw_xdp_steered_total", "counter",
     "Packets the XDP program of a port redirected to an AF_XDP socket."},
    {"passed", "xgw_xdp_passed_total", "counter",
     "Packets the XDP program of a port passed to the kernel stack."},
    {"no_socket", "xgw_xdp_no_socket_total", "counter",
     "Packets to steer for which no AF_XDP socket was bound (passed)."},
    {"malformed", "xgw_xdp_malformed_total", "counter",
     "Packets the XDP program of a port could not parse (passed)."},
    {NULL, NULL, NULL, NULL},
};

static const struct fam port_fams[] = {
    {"link_up", "xgw_port_link_up", "gauge",
     "1 if the interface of a port is up with carrier, 0 if down or deleted."},
    {"mtu", "xgw_port_mtu", "gauge", "The MTU of a port's interface, as xgwd last read it."},
    {"xdp_attached", "xgw_port_xdp_attached", "gauge",
     "1 if the steering program is attached to the port's interface."},
    {"link_changes", "xgw_port_link_changes_total", "counter",
     "Times the link of a port went down or came up (or the interface was deleted)."},
    {"mtu_changes", "xgw_port_mtu_changes_total", "counter",
     "Times the MTU of a port's interface changed while xgwd ran."},
    {"xdp_lost", "xgw_port_xdp_lost_total", "counter",
     "Times the steering program was found removed or replaced by someone else."},
    {"xdp_reattached", "xgw_port_xdp_reattached_total", "counter",
     "Times xgwd attached a removed steering program again."},
    {NULL, NULL, NULL, NULL},
};

static const struct fam ct_fams[] = {
    {"live", "xgw_conntrack_entries", "gauge", "Conntrack entries in use."},
    {"max", "xgw_conntrack_max", "gauge", "Conntrack capacity (max_entries)."},
    {"created", "xgw_conntrack_created_total", "counter", "Conntrack entries created."},
    {"full", "xgw_conntrack_full_total", "counter",
     "Conntrack insertions refused because the table was full."},
    {"evicted", "xgw_conntrack_evicted_total", "counter",
     "Conntrack entries evicted to make room."},
    {"evicted_embryonic", "xgw_conntrack_evicted_embryonic_total", "counter",
     "Of the evicted entries, idle TCP handshakes (SYN flood)."},
    {"expired", "xgw_conntrack_expired_total", "counter", "Conntrack entries removed on timeout."},
    {"races_lost", "xgw_conntrack_races_lost_total", "counter",
     "Conntrack insertions that lost a race with another worker for the same flow."},
    {"reused", "xgw_conntrack_reused_total", "counter",
     "Closed TCP connections whose backend tuple a new SYN took over."},
    {NULL, NULL, NULL, NULL},
};

static bool is_num(const json_t *v)
{
	return v && (json_is_number(v) || json_is_boolean(v));
}

static void put_value(FILE *f, const json_t *v)
{
	if (json_is_integer(v)) {
		fprintf(f, "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		double d = json_real_value(v);

		if (isnan(d))
			fputs("NaN", f);
		else if (isinf(d))
			fputs(d > 0 ? "+Inf" : "-Inf", f);
		else
			fprintf(f, "%.17g", d);
	} else {
		fputc(json_is_true(v) ? '1' : '0', f);
	}
}

/* Label values: backslash, double quote and line feed are escaped. */
static void put_label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void put_sample(FILE *f, const char *name, const struct label *l, unsigned nl,
		       const json_t *v)
{
	fputs(name, f);
	if (nl) {
		fputc('{', f);
		for (unsigned i = 0; i < nl; i++) {
			fprintf(f, "%s%s=\"", i ? "," : "", l[i].name);
			put_label_value(f, l[i].value);
			fputc('"', f);
		}
		fputc('}', f);
	}
	fputc(' ', f);
	put_value(f, v);
	fputc('\n', f);
}

static void put_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A metric name from an unknown JSON key: [a-zA-Z0-9_] kept, the rest '_'. */
static void sanitize(char *dst, size_t len, const char *prefix, const char *key)
{
	size_t n = (size_t)snprintf(dst, len, "%s", prefix);

	for (; *key && n + 1 < len; key++, n++) {
		char c = *key;
		bool okc = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '_';
		dst[n] = okc ? c : '_';
	}
	dst[n < len ? n : len - 1] = '\0';
}

static const struct fam *find_fam(const struct fam *t, const char *key)
{
	for (; t->key; t++)
		if (!strcmp(t->key, key))
			return t;
	return NULL;
}

static bool skipped(const char *const *skip, const char *key)
{
	for (; skip && *skip; skip++)
		if (!strcmp(*skip, key))
			return true;
	return false;
}

static void emit_one(FILE *f, const struct row *rows, size_t n, const char *key, const char *name,
		     const char *type, const char *help)
{
	bool header = false;

	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_object_get(rows[i].obj, key);

		if (!is_num(v))
			continue;
		if (!header)
			put_family(f, name, type, help);
		header = true;
		put_sample(f, name, rows[i].l, rows[i].nl, v);
	}
}

/* The known families present in any row, in table order, then every other
 * numeric key (first-seen order) as an untyped `<prefix><key>`. */
static void emit_rows(FILE *f, const struct row *rows, size_t n, const struct fam *table,
		      const char *prefix, const char *what, const char *const *skip)
{
	json_t *extra = json_object();

	for (const struct fam *t = table; t->key; t++)
		emit_one(f, rows, n, t->key, t->name, t->type, t->help);
	for (size_t i = 0; i < n; i++) {
		const char *key;
		json_t *v;

		json_object_foreach((json_t *)rows[i].obj, key, v)
		{
			if (is_num(v) && !find_fam(table, key) && !skipped(skip, key))
				json_object_set_new(extra, key, json_true());
		}
	}
	{
		const char *key;
		json_t *v;

		json_object_foreach(extra, key, v)
		{
			char name[128], help[192];

			sanitize(name, sizeof(name), prefix, key);
			snprintf(help, sizeof(help), "Stats key %s of %s, passed through.", name,
				 what);
			emit_one(f, rows, n, key, name, "untyped", help);
		}
	}
	json_decref(extra);
}

static void row_label(struct row *r, const char *name, const char *value)
{
	if (r->nl < MAX_LABELS)
		r->l[r->nl++] = (struct label){name, value ? value : ""};
}

static void row_label_num(struct row *r, const char *name, const json_t *v)
{
	if (r->nl >= MAX_LABELS)
		return;
	if (json_is_integer(v))
		snprintf(r->num[r->nl], sizeof(r->num[0]), "%lld",
			 (long long)json_integer_value(v));
	else if (json_is_string(v))
		snprintf(r->num[r->nl], sizeof(r->num[0]), "%s", json_string_value(v));
	else
		r->num[r->nl][0] = '\0';
	row_label(r, name, r->num[r->nl]);
}

static const char *str_or(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

static void emit_queues(FILE *f, const json_t *ports)
{
	static const char *const skip[] = {"queue", "core", NULL};
	struct row *rows = NULL;
	size_t n = 0, cap = 0, i, j;
	json_t *p, *q;

	json_array_foreach(ports, i, p)
	{
		json_array_foreach(json_object_get(p, "queues"), j, q)
		{
			if (!json_is_object(q))
				continue;
			if (n == cap) {
				struct row *nr = realloc(rows, (cap ? cap * 2 : 8) * sizeof(*rows));

				if (!nr)
					goto out;
				rows = nr;
				cap = cap ? cap * 2 : 8;
			}
			memset(&rows[n], 0, sizeof(rows[n]));
			rows[n].obj = q;
			row_label(&rows[n], "port", str_or(p, "name", ""));
			row_label_num(&rows[n], "queue", json_object_get(q, "queue"));
			row_label_num(&rows[n], "core", json_object_get(q, "core"));
			n++;
		}
	}
	emit_rows(f, rows, n, queue_fams, "xgw_queue_", "each AF_XDP queue", skip);
out:
	free(rows);
}

/* One row per port that has the object `key` (its "xdp" or "dpdk"
 * counters), labelled with the port's name; *k rows.  NULL: no memory. */
static struct row *port_rows(const json_t *ports, const char *key, size_t *k)
{
	size_t n = json_array_size(ports), i;
	struct row *rows = calloc(n ? n : 1, sizeof(*rows));
	json_t *p;

	*k = 0;
	if (!rows)
		return NULL;
	json_array_foreach(ports, i, p)
	{
		const json_t *x = json_object_get(p, key);

		if (!json_is_object(x))
			continue;
		rows[*k].obj = x;
		row_label(&rows[*k], "port", str_or(p, "name", ""));
		(*k)++;
	}
	return rows;
}

/* One row per port from its object `key` ("xdp", "health"). */
static void emit_port_obj(FILE *f, const json_t *ports, const char *key, const struct fam *fams,
			  const char *prefix, const char *what)
{
	size_t k;
	struct row *rows = port_rows(ports, key, &k);

	if (!rows)
		return;
	emit_rows(f, rows, k, fams, prefix, what, NULL);
	free(rows);
}

static void emit_workers(FILE *f, const json_t *workers)
{
	static const char *const skip[] = {"id", "core", NULL};
	size_t n = json_array_size(workers), k = 0, i;
	struct row *rows = calloc(n ? n : 1, sizeof(*rows));
	bool header = false;
	json_t *w;

	if (!rows)
		return;
	json_array_foreach(workers, i, w)
	{
		if (!json_is_object(w))
			continue;
		rows[k].obj = w;
		row_label_num(&rows[k], "worker", json_object_get(w, "id"));
		row_label_num(&rows[k], "core", json_object_get(w, "core"));
		k++;
	}
	emit_rows(f, rows, k, worker_fams, "xgw_worker_", "each worker", skip);
	/* Drops per worker, by reason: only the reasons it has counted. */
	for (i = 0; i < k; i++) {
		const char *reason;
		json_t *v;

		json_object_foreach(json_object_get(rows[i].obj, "drops"), reason, v)
		{
			struct label l[MAX_LABELS + 1];

			if (!is_num(v))
				continue;
			if (!header)
				put_family(f, "xgw_worker_drops_total", "counter",
					   "Packets dropped by a worker, by reason.");
			header = true;
			memcpy(l, rows[i].l, rows[i].nl * sizeof(l[0]));
			l[rows[i].nl] = (struct label){"reason", reason};
			put_sample(f, "xgw_worker_drops_total", l, rows[i].nl + 1, v);
		}
	}
	free(rows);
}

/* Every known reason, 0 where none was counted (so that rate() works from
 * the start), then any reason this build does not know. */
static void emit_drops(FILE *f, const json_t *drops)
{
	json_t *zero = json_integer(0);
	const char *reason;
	json_t *v;

	put_family(f, "xgw_drops_total", "counter",
		   "Packets dropped by the workers, by reason (summed over workers).");
	for (unsigned r = 1; r < XGW_DROP__MAX; r++) {
		struct label l = {"reason", xgw_drop_name(r)};
		json_t *c = json_object_get(drops, l.value);

		put_sample(f, "xgw_drops_total", &l, 1, is_num(c) ? c : zero);
	}
	json_object_foreach((json_t *)drops, reason, v)
	{
		struct label l = {"reason", reason};
		bool known = false;

		for (unsigned r = 1; r < XGW_DROP__MAX && !known; r++)
			known = !strcmp(reason, xgw_drop_name(r));
		if (!known && is_num(v))
			put_sample(f, "xgw_drops_total", &l, 1, v);
	}
	json_decref(zero);
}

/* "policy": {"default": "allow", "default_hits": N,
 *            "rules": [{"id": N, "hits": N}, ...]} */
static void emit_policy(FILE *f, const json_t *pol)
{
	const json_t *rules = json_object_get(pol, "rules"),
		     *dh = json_object_get(pol, "default_hits");
	bool header = false;
	size_t i;
	json_t *r;

	json_array_foreach(rules, i, r)
	{
		struct row row = {.obj = r};
		const json_t *hits = json_object_get(r, "hits");

		if (!is_num(hits))
			continue;
		if (!header)
			put_family(f, "xgw_policy_rule_hits_total", "counter",
				   "Packets matched by a policy rule (from zero when the rule set "
				   "changes).");
		header = true;
		row_label_num(&row, "id", json_object_get(r, "id"));
		put_sample(f, "xgw_policy_rule_hits_total", row.l, row.nl, hits);
	}
	if (is_num(dh)) {
		struct label l = {"action", str_or(pol, "default", "")};

		put_family(f, "xgw_policy_default_hits_total", "counter",
			   "Packets that matched no policy rule and took the default action.");
		put_sample(f, "xgw_policy_default_hits_total", &l, 1, dh);
	}
}

/* Per service and per backend ("services": see pipeline/svc_stats.h).
 * Labels vip, port, proto; backend ("IP:PORT") for the backend families;
 * direction "in" (client to backend) or "out" for packets and bytes. */
struct svc_fam {
	const char *name, *type, *help;
	const char *key, *dir; /* dir: the direction label's value, or NULL */
};

static const struct svc_fam svc_fams[] = {
    {"packets_total", "counter", "Packets of its connections the service stage passed.", "pkts_in",
     "in"},
    {"packets_total", NULL, NULL, "pkts_out", "out"},
    {"bytes_total", "counter", "Bytes (frame length) of its connections the service stage passed.",
     "bytes_in", "in"},
    {"bytes_total", NULL, NULL, "bytes_out", "out"},
    {"connections_total", "counter", "Connections opened.", "conns_new", NULL},
    {"connections_active", "gauge", "Connections open now.", "conns_active", NULL},
};

static void svc_labels(struct row *r, const json_t *s)
{
	row_label(r, "vip", str_or(s, "vip", ""));
	row_label_num(r, "port", json_object_get(s, "port"));
	row_label(r, "proto", str_or(s, "proto", ""));
}

/* A backend's "IP:PORT" label, IPv6 in brackets. */
static const char *be_ep(const json_t *b, char *buf, size_t len)
{
	const char *ip = str_or(b, "ip", "");

	snprintf(buf, len, strchr(ip, ':') ? "[%s]:%lld" : "%s:%lld", ip,
		 (long long)json_integer_value(json_object_get(b, "port")));
	return buf;
}

static void emit_svc_family(FILE *f, const json_t *svcs, bool backends, size_t fi)
{
	const struct svc_fam *sf = &svc_fams[fi];
	char name[64];
	size_t i, j;
	json_t *s, *b;

	snprintf(name, sizeof(name), "xgw_%s_%s", backends ? "backend" : "service", sf->name);
	if (sf->type)
		put_family(f, name, sf->type, sf->help);
	json_array_foreach(svcs, i, s)
	{
		struct row r = {.obj = s};

		svc_labels(&r, s);
		if (!backends) {
			if (sf->dir)
				row_label(&r, "direction", sf->dir);
			put_sample(f, name, r.l, r.nl, json_object_get(s, sf->key));
			continue;
		}
		json_array_foreach(json_object_get(s, "backends"), j, b)
		{
			struct row br = r; /* its labels point into r, alive here */
			char ep[80];

			row_label(&br, "backend", be_ep(b, ep, sizeof(ep)));
			if (sf->dir)
				row_label(&br, "direction", sf->dir);
			put_sample(f, name, br.l, br.nl, json_object_get(b, sf->key));
		}
	}
}

static void emit_services(FILE *f, const json_t *svcs)
{
	size_t i;
	json_t *s;

	if (!json_array_size(svcs))
		return;
	for (int be = 0; be < 2; be++)
		for (size_t fi = 0; fi < sizeof(svc_fams) / sizeof(svc_fams[0]); fi++)
			emit_svc_family(f, svcs, be, fi);
	put_family(f, "xgw_service_drops_total", "counter",
		   "New connections a service refused, by reason.");
	json_array_foreach(svcs, i, s)
	{
		const char *reason;
		json_t *v;

		json_object_foreach(json_object_get(s, "drops"), reason, v)
		{
			struct row r = {.obj = s};

			svc_labels(&r, s);
			row_label(&r, "reason", reason);
			put_sample(f, "xgw_service_drops_total", r.l, r.nl, v);
		}
	}
	put_family(f, "xgw_backend_drops_total", "counter",
		   "Packets of a backend's connections the service stage dropped.");
	json_array_foreach(svcs, i, s)
	{
		size_t j;
		json_t *b;

		json_array_foreach(json_object_get(s, "backends"), j, b)
		{
			struct row r = {.obj = b};
			char ep[80];

			svc_labels(&r, s);
			row_label(&r, "backend", be_ep(b, ep, sizeof(ep)));
			put_sample(f, "xgw_backend_drops_total", r.l, r.nl,
				   json_object_get(b, "drops"));
		}
	}
}

/* "health": [{"service", "backend", "up", "checks", "failures",
 * "transitions", "resets", "last_ok"}]: one sample per checked backend and family. */
static void emit_health(FILE *f, const json_t *health)
{
	static const struct {
		const char *key, *name, *type, *help;
	} fams[] = {
	    {"up", "xgw_backend_up", "gauge", "1 if the backend passes its health checks."},
	    {"last_ok", "xgw_backend_check_last_ok", "gauge", "1 if the last health check passed."},
	    {"checks", "xgw_backend_checks_total", "counter", "Health checks run."},
	    {"failures", "xgw_backend_check_failures_total", "counter", "Health checks failed."},
	    {"transitions", "xgw_backend_health_transitions_total", "counter",
	     "Times the backend went down or came back up."},
	    {"resets", "xgw_backend_health_resets_total", "counter",
	     "Established connections removed as the backend went down (on_down reset)."},
	};

	if (!json_array_size(health))
		return;
	for (size_t k = 0; k < sizeof(fams) / sizeof(fams[0]); k++) {
		size_t i;
		json_t *h;

		put_family(f, fams[k].name, fams[k].type, fams[k].help);
		json_array_foreach(health, i, h)
		{
			struct label l[2] = {{"service", str_or(h, "service", "")},
					     {"backend", str_or(h, "backend", "")}};
			/* booleans print as 1 and 0 */
			put_sample(f, fams[k].name, l, 2, json_object_get(h, fams[k].key));
		}
	}
}

/* "health_tunnel": the relay of checks through tunnels (health/tun_path.h):
 * packets each way, drops by reason, and whether it runs. */
static void emit_health_tunnel(FILE *f, const json_t *t)
{
	static const char *const pk = "xgw_health_tunnel_packets_total";
	static const char *const dr = "xgw_health_tunnel_drops_total";
	struct label l[1] = {{"direction", "sent"}};
	const char *reason;
	json_t *v;

	put_family(f, pk, "counter",
		   "Packets of health checks through tunnels: encapsulated (sent) and "
		   "answers handed to the checks (received).");
	put_sample(f, pk, l, 1, json_object_get(t, "sent"));
	l[0].value = "received";
	put_sample(f, pk, l, 1, json_object_get(t, "received"));
	put_family(f, dr, "counter",
		   "Packets the relay of checks through tunnels dropped, by reason.");
	json_object_foreach((json_t *)json_object_get(t, "drops"), reason, v)
	{
		l[0] = (struct label){"reason", reason};
		put_sample(f, dr, l, 1, v);
	}
	put_family(f, "xgw_health_tunnel_up", "gauge",
		   "1 while the relay of checks through tunnels runs (0: see xgwctl stats).");
	fprintf(f, "xgw_health_tunnel_up %d\n", json_object_get(t, "error") ? 0 : 1);
}

/* The kernel datapath's counters (its drops are in xgw_drops_total). */
static void emit_kernel(FILE *f, const json_t *k)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)k, key, v)
	{
		char name[96];

		if (!is_num(v))
			continue;
		snprintf(name, sizeof(name), "xgw_kernel_%s_total", key);
		put_family(f, name, "counter", "Kernel (XDP) datapath packets, by outcome.");
		put_sample(f, name, NULL, 0, v);
	}
}

/* DPDK ports: rte_eth_stats by family, then every non-zero xstat as one
 * family labelled by its driver-given name. */
static void emit_dpdk(FILE *f, const json_t *ports)
{
	static const char *const skip[] = {"ethdev", NULL};
	static const char *const xname = "xgw_dpdk_xstat_total";
	size_t k;
	struct row *rows = port_rows(ports, "dpdk", &k);
	bool header = false;

	if (!rows)
		return;
	emit_rows(f, rows, k, dpdk_fams, "xgw_dpdk_", "each DPDK port", skip);
	for (size_t r = 0; r < k; r++) {
		const char *key;
		json_t *v;

		json_object_foreach(json_object_get(rows[r].obj, "xstats"), key, v)
		{
			struct label l[2] = {rows[r].l[0], {"name", key}};

			if (!header)
				put_family(f, xname, "counter",
					   "A DPDK port's extended statistics (rte_eth_xstats), "
					   "non-zero ones, by the driver's name.");
			header = true;
			put_sample(f, xname, l, 2, v);
		}
	}
	free(rows);
}

char *xgw_metrics_render(const json_t *stats, size_t *len)
{
	const json_t *ports = json_object_get(stats, "ports");
	const json_t *workers = json_object_get(stats, "workers");
	const json_t *ct = json_object_get(stats, "conntrack");
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);

	if (!f)
		return NULL;
	/* Which build serves these numbers (as node_exporter's *_build_info). */
	put_family(f, "xgw_build_info", "gauge",
		   "xgw's release and commit; the value is always 1.");
	fprintf(f, "xgw_build_info{version=\"%s\",commit=\"%s\"} 1\n", XGW_RELEASE, XGW_COMMIT);
	if (json_is_array(ports)) {
		emit_queues(f, ports);
		emit_port_obj(f, ports, "xdp", xdp_fams, "xgw_xdp_",
			      "the XDP steering program of each port");
		emit_port_obj(f, ports, "health", port_fams, "xgw_port_",
			      "the interface of each port");
		emit_dpdk(f, ports);
	}
	if (json_is_array(workers))
		emit_workers(f, workers);
	emit_drops(f, json_object_get(stats, "drops"));
	if (json_is_object(ct)) {
		struct row r = {.obj = ct};

		emit_rows(f, &r, 1, ct_fams, "xgw_conntrack_", "conntrack", NULL);
	}
	emit_policy(f, json_object_get(stats, "policy"));
	emit_services(f, json_object_get(stats, "services"));
	if (json_is_object(json_object_get(stats, "kernel")))
		emit_kernel(f, json_object_get(stats, "kernel"));
	emit_health(f, json_object_get(stats, "health"));
	if (json_is_object(json_object_get(stats, "health_tunnel")))
		emit_health_tunnel(f, json_object_get(stats, "health_tunnel"));
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	if (len)
		*len = sz;
	return buf;
}
