/* SPDX-License-Identifier: BSD-3-Clause */
/* The control socket: newline-delimited JSON over a Unix stream socket,
 * served by one control thread.  Writes are validated in full on a copy of
 * the running config, then handed to the daemon's apply hook, which builds
 * and publishes a new snapshot; on any failure the running config stays.
 *
 * Protocol: one request per line, `{"cmd":"service.add","args":{...}}`
 * ("args" may be omitted when a command takes none); exactly one reply line
 * per request, `{"ok":true,"result":...}` or `{"ok":false,"error":"..."}`.
 * Blank lines are ignored.  A line longer than XGW_CTL_MAX_LINE gets an
 * error reply and the connection is closed.  `help` lists the commands.
 *
 * `{"cmd":"batch","args":[request, ...]}` runs up to XGW_CTL_MAX_BATCH
 * config changes in order on one copy, then validates and applies once (one
 * snapshot, one grace period): all or nothing, the failing item named as
 * "batch[i] (cmd): ...".  The result is the array of the items' results. */
#ifndef XGW_CTL_SERVER_H
#define XGW_CTL_SERVER_H

#include <jansson.h>
#include <stddef.h>

#include "common/svc_ctr.h"
#include "ctl/config.h"

#define XGW_CTL_DEFAULT_SOCKET "/run/xgw/xgw.sock"
/* Requests in one batch. */
#define XGW_CTL_MAX_BATCH 100000
/* Longest request line, newline excluded. */
#define XGW_CTL_MAX_LINE (1u << 20)
/* Clients served at once.  When the table is full, a new client evicts the
 * one quiet the longest, so that an operator always gets in, however many
 * idle, half-open or stalled connections are open. */
#define XGW_CTL_MAX_CLIENTS 256
/* Connections accepted per poll round. */
#define XGW_CTL_ACCEPT_BURST 32
/* A client that neither sends nor takes a reply for this long is closed... */
#define XGW_CTL_IDLE_TIMEOUT_MS 60000
/* ...and one that started a request line must finish it within this. */
#define XGW_CTL_LINE_TIMEOUT_MS 30000
/* Input held for all clients together (each one also stops at one line). */
#define XGW_CTL_MAX_BUFFERED (32u << 20)

/* Hooks into the daemon; ctx is passed back.  All are called from the
 * control thread only, one at a time, so they need no locking among
 * themselves.  Any hook may be NULL: the command then replies
 * "<cmd>: not available" (apply NULL = accept every valid config). */
struct xgw_ctl_ops {
	/* Build and publish everything derived from cfg (snapshot, BPF maps).
	 * Return 0, or -errno with err filled: then nothing may have changed.
	 * cfg becomes the running config on success, but is freed right
	 * after the next successful apply, without waiting for a grace
	 * period: the snapshot must copy what it needs, not point into cfg. */
	int (*apply)(void *ctx, const struct xgw_config *cfg, char *err, size_t errlen);
	/* Read-only views, returning new references (NULL = not available).
	 *
	 * stats -> {
	 *   "workers": [ { "id": 0, "core": 1, "rx_packets": N, "rx_bytes": N,
	 *                  "tx_packets": N, "tx_bytes": N,
	 *                  "drops": { "<reason>": N, ... },
	 *                  "wakeups": N, "empty_polls": N, "fill_starved": N } ],
	 *   "ports": [ { "name": "client", "iface": "xgw-c",
	 *                "queues": [ { "queue": 0, "core": 1,
	 *                              "rx_packets": N, "rx_bytes": N,
	 *                              "tx_packets": N, "tx_bytes": N } ] } ],
	 *   "drops": { "<reason>": N, ... }          (summed over workers)
	 * }
	 * Counters are monotonic since start: `xgwctl stats --watch` derives
	 * rates from successive reads.  Extra keys are passed through.
	 *
	 * ports -> [ { "name": "client", "iface": "xgw-c", "ifindex": 7,
	 *              "xdp_mode": "native"|"skb",
	 *              "queues": [ { "queue": 0, "core": 1,
	 *                            "mode": "zerocopy"|"copy",
	 *                            "need_wakeup": true, "busy_poll": false } ] } ]
	 *
	 * ct_list -> [ { "proto": "tcp", "src": "198.18.0.2", "sport": 40000,
	 *                "dst": "198.18.100.1", "dport": 80,
	 *                "backend": "198.18.2.10:8080", "state": "established",
	 *                "age_s": 12, "expires_s": 7428 } ]
	 * with at most `limit` entries (0 = all). */
	json_t *(*stats)(void *ctx);
	json_t *(*ports)(void *ctx);
	json_t *(*ct_list)(void *ctx, unsigned limit);
	/* The FIB the workers use: routes [{dst, via?, dev, port, origin}] or
	 * neighbours [{ip, mac, dev, origin}], origin "kernel" or "static";
	 * routes: at most `limit` (0 = all). */
	json_t *(*fib)(void *ctx, bool neighbours, unsigned limit);
	/* The route the workers use for an address: as one element of the
	 * route list (a multipath route with all its paths), or JSON null
	 * when there is none. */
	json_t *(*route_get)(void *ctx, const struct xgw_addr *a);
	/* Drop every conntrack entry; 0 or -errno. */
	int (*ct_flush)(void *ctx);
	/* Withdraw the announced VIPs, keep serving established flows, exit
	 * when they are done or after the drain timeout: { "withdrawn": N,
	 * "connections": N, "timeout_s": N } (new reference), or NULL with
	 * err filled. */
	json_t *(*drain)(void *ctx, char *err, size_t errlen);
	/* Trace and capture (pipeline/tap.h): cmd is "trace.start",
	 * "trace.read", "trace.stop" or the same of "capture"; args as the
	 * protocol has them (checked for type).  The result (new reference),
	 * or NULL with err filled. */
	json_t *(*tap)(void *ctx, const char *cmd, json_t *args, char *err, size_t errlen);
	/* A backend's health as its checks see it ({"state": "up"|"down",
	 * "last": {...}, ...}, health/state.h), or NULL when it is not
	 * checked; service.list and backend.list show it. */
	json_t *(*health)(void *ctx, const struct xgw_service_cfg *s,
			  const struct xgw_backend_cfg *b);
	/* The counters of n services (svcs[0..n), each out[i] with its be
	 * and be_found arrays set by the caller): service.list and
	 * backend.list read them as numbers, not through stats' JSON (which
	 * was most of a 10,000-service list). */
	void (*svc_counters)(void *ctx, const struct xgw_service_cfg *svcs, unsigned n,
			     struct xgw_ctl_svc_ctr *out);
	/* Optional: run first and last on the control thread, e.g. to
	 * register it with liburcu (rcu_register_thread) if apply reads
	 * RCU-protected data. */
	void (*thread_init)(void *ctx);
	void (*thread_fini)(void *ctx);
};

struct xgw_ctl;

/* Create the socket (directory made if missing, mode from cfg, a stale
 * socket of a dead daemon replaced, a live one refused with -EADDRINUSE)
 * and start the control thread.  Errors are logged and returned as -errno;
 * anything else at the path (a regular file) is left alone: -EEXIST.  On
 * failure *out is untouched and the caller still owns `running`.
 *
 * `running` is the daemon's running config: the server owns its contents
 * from here and replaces them in place (*running = new) on each successful
 * write.  Read it only from the hooks (the control thread) or after
 * xgw_ctl_stop; do not free it: xgw_ctl_stop does.  ops is copied. */
int xgw_ctl_start(struct xgw_ctl **out, const struct xgw_ctl_cfg *cfg, struct xgw_config *running,
		  const struct xgw_ctl_ops *ops, void *ctx);
/* Stop the thread, close every client, unlink the socket (if it is still
 * ours), free the running config's contents and the server.  Also frees a
 * detached server.  NULL is a no-op. */
void xgw_ctl_stop(struct xgw_ctl *ctl);
/* The daemon's config file, for config.reload and config.save; set before
 * the first request. */
void xgw_ctl_set_config_path(struct xgw_ctl *ctl, const char *path);
/* Ask the control thread to run config.reload (SIGHUP); async-signal-safe
 * (one write to a pipe).  The result is logged. */
void xgw_ctl_request_reload(struct xgw_ctl *ctl);
/* Change the idle and line timeouts of a running server (tests). */
void xgw_ctl_set_timeouts(struct xgw_ctl *ctl, unsigned idle_ms, unsigned line_ms);

/* One request line -> one reply object (new reference).  Exposed for unit
 * tests and the fuzzer; the socket server calls it per line.  Not
 * thread-safe: one caller at a time (the control thread). */
json_t *xgw_ctl_handle(struct xgw_ctl *ctl, const char *line, size_t len);
/* A server with no socket, for tests and the fuzzer; release with
 * xgw_ctl_stop.  Returns NULL on allocation failure. */
struct xgw_ctl *xgw_ctl_new_detached(struct xgw_config *running, const struct xgw_ctl_ops *ops,
				     void *ctx);

#endif
