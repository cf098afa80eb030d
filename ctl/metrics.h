/* SPDX-License-Identifier: BSD-3-Clause */
/* Prometheus metrics over HTTP: `"metrics": {"listen": "127.0.0.1:9100"}`.
 *
 * Served by libmicrohttpd, driven by one thread of ours: many clients at
 * once, each bounded in request size (XGW_METRICS_MAX_REQ: a larger head
 * gets 431) and idle time (XGW_METRICS_TIMEOUT_MS).  Only `GET /metrics`
 * (a query string is ignored; HEAD gets the headers) is served; another
 * path gets 404, another method 405, a garbled request 400.
 *
 * The body is the daemon's stats JSON (the ctl `stats` hook's shape, see
 * ctl/server.h) in the Prometheus text exposition format 0.0.4:
 *
 *   xgw_rx_packets_total{port="client",queue="0",core="1"} 42
 *   xgw_drops_total{reason="no_route"} 0
 *   xgw_worker_empty_polls_total{worker="0",core="1"} 7
 *   xgw_xdp_steered_total{port="client"} 40
 *   xgw_conntrack_entries 3
 *   xgw_policy_rule_hits_total{id="2"} 5
 *
 * Every family has HELP and TYPE lines; label values are escaped.  Keys
 * of the JSON that this file does not know are passed through as
 * `untyped` families (xgw_worker_<key>, xgw_queue_<key>, xgw_xdp_<key>,
 * xgw_conntrack_<key>). */
#ifndef XGW_CTL_METRICS_H
#define XGW_CTL_METRICS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Largest request head read (request line and headers). */
#define XGW_METRICS_MAX_REQ 8192
/* A client gets this long to send its request and to take the reply. */
#define XGW_METRICS_TIMEOUT_MS 2000

struct xgw_metrics_ops {
	/* A new reference to the stats JSON, or NULL (the scrape then gets
	 * 503).  Called from the metrics thread, concurrently with the
	 * control thread's own stats calls: it must be safe for that. */
	json_t *(*stats)(void *ctx);
	/* Optional: run first and last on the metrics thread, e.g. to
	 * register it with liburcu if stats reads RCU-protected data. */
	void (*thread_init)(void *ctx);
	void (*thread_fini)(void *ctx);
};

struct xgw_metrics;

/* Bind `addr` ("127.0.0.1:9100", "[::1]:9100"; port 0 = ephemeral, see
 * xgw_metrics_port) and start the thread.  0, or -errno (logged). */
int xgw_metrics_start(struct xgw_metrics **out, const char *addr, const struct xgw_metrics_ops *ops,
		      void *ctx);
/* The bound port (host order), useful after binding to port 0. */
uint16_t xgw_metrics_port(const struct xgw_metrics *m);
/* Stop and join the thread, close the socket, free.  NULL is a no-op.
 * After it returns the stats hook is not called any more. */
void xgw_metrics_stop(struct xgw_metrics *m);

/* The text exposition of one stats document: a malloc'd NUL-terminated
 * string (its length in *len if len is not NULL), or NULL on allocation
 * failure.  Exposed for the unit tests. */
char *xgw_metrics_render(const json_t *stats, size_t *len);

#endif
