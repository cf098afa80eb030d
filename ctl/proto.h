/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals of the control protocol shared by the request dispatcher
 * (proto.c), the command table (proto_cmds.c) and the socket server
 * (server.c).  Not for use outside ctl/. */
#ifndef XGW_CTL_PROTO_H
#define XGW_CTL_PROTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ctl/config.h"
#include "ctl/server.h"

struct xgw_ctl_srv;

struct xgw_ctl {
	struct xgw_config *running; /* contents owned, replaced per write */
	struct xgw_ctl_ops ops;
	void *ctx;
	struct xgw_ctl_srv *srv; /* NULL when detached */
	char config_path[4096];	 /* the daemon's -c file: config.reload, config.save */
	/* A handler's result as JSON text, instead of *result (the large
	 * lists); taken by the dispatcher after each request.  It is the
	 * whole reply line, XGW_CTL_REPLY_HEAD to the newline
	 * (xgw_ctl_raw_begin/_end), so that it goes out without a copy: at
	 * 10,000 services x 4 a copy was 9.6 MB of fresh pages, and page
	 * faults were most of a first service.list's time. */
	char *raw;
	size_t raw_len;
	/* The last list's length: the next one's buffer is sized once, not
	 * doubled and copied a dozen times on the way to 9.6 MB. */
	size_t list_hint;
	/* A write's working copy shares the running config's backends
	 * arrays (xgw_config_copy_shared); those it let go of (a service
	 * removed, an array copied to be changed) are freed once it becomes
	 * the running config, and stay the running config's otherwise. */
	struct xgw_backend_cfg **released;
	unsigned n_released, cap_released;
	/* The services array a write let go of (the replaced running
	 * config's, or a refused copy's), reused by the next copy: at
	 * 10,000 services a fresh one was 830 page faults per write. */
	struct xgw_service_cfg *spare;
	/* spare holds the running config's services but for the last
	 * write's named changes (c->touched, from spare_n on): the next copy
	 * copies those alone. */
	bool spare_sync;
	unsigned spare_n;
	/* The running config's services are all marked backends_shared
	 * (own_running in proto.c): their arrays are freed by this server. */
	bool owned;
	/* The services a write changed, named by its handlers: the indexes
	 * of the running config's services changed in place (touched, in
	 * the order touched), the services after n_prev added.  named turns
	 * false when a handler did what it cannot name (a service removed,
	 * the whole config replaced): then the working copy carries no
	 * delta and every reader compares every service. */
	unsigned *touched;
	unsigned n_touched, cap_touched;
	bool named;
	struct xgw_svc_delta delta;
	/* The running config's services by key (open addressing, index + 1,
	 * 0 empty; at most half full), when kidx_ok; wcfg: the working copy
	 * of the write in progress. */
	uint32_t *kidx;
	uint32_t kmask, n_tomb;
	bool kidx_ok;
	/* The write's removals (the last one's index and key) and whether
	 * anything else left it unnamed. */
	unsigned n_removed, removed;
	struct xgw_service_cfg removed_key;
	bool other_unnamed;
	const struct xgw_config *wcfg;
	/* The running config's tunnel backends, when n_tun_ok. */
	unsigned long n_tun;
	bool n_tun_ok;
};

/* A write's handler changed s (a service of its working copy cfg) in
 * place: named in the write's delta. */
void xgw_ctl_touch(struct xgw_ctl *c, const struct xgw_config *cfg,
		   const struct xgw_service_cfg *s);
/* Index of the service (vip, port, proto) in cfg (the running config or
 * the working copy of the write in progress), or -1: by the running
 * config's key index where it describes cfg. */
int xgw_ctl_find_service(struct xgw_ctl *c, const struct xgw_config *cfg,
			 const struct xgw_addr *vip, uint16_t port, uint8_t proto);
/* A write's handler removes cfg's service i (before removing it): the
 * services after it move, so the write names nothing; the key index
 * follows a lone removal instead of being made again. */
void xgw_ctl_removed(struct xgw_ctl *c, const struct xgw_config *cfg, unsigned i);

/* Before changing s's backends in a working copy: its own array
 * (copy-on-write).  0 or -ENOMEM. */
int xgw_ctl_own_backends(struct xgw_ctl *c, struct xgw_service_cfg *s);
/* Instead of xgw_service_free for a service of a working copy. */
int xgw_ctl_drop_service(struct xgw_ctl *c, struct xgw_service_cfg *s);

/* Type of one argument key; ARG_ANY leaves the check to the handler. */
enum xgw_ctl_arg_type { ARG_STR, ARG_INT, ARG_BOOL, ARG_OBJ, ARG_ANY };

struct xgw_ctl_arg {
	const char *name;
	enum xgw_ctl_arg_type type;
	bool required;
};

enum xgw_ctl_kind {
	CMD_READ,   /* never changes anything */
	CMD_CONFIG, /* changes the config: runs on a copy, validated, applied */
	CMD_ACTION, /* changes runtime state outside the config (ct.flush) */
};

/* Handlers fill *result (new reference, NULL = JSON null) and return 0, or
 * fill err ("<where>: <what>") and return -errno.  For CMD_CONFIG, cfg is a
 * private copy of the running config the handler edits; otherwise it is the
 * running config, read-only. */
typedef int (*xgw_ctl_fn)(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,
			  char *err, size_t errlen);

struct xgw_ctl_cmd {
	const char *name;
	xgw_ctl_fn fn;
	enum xgw_ctl_kind kind;
	/* Keys of "args", checked before the handler runs (unknown keys,
	 * missing required ones, types).  NULL: args is a whole config object
	 * (service, policy, steer) checked by the config loader. */
	const struct xgw_ctl_arg *args;
	const char *usage; /* args as a JSON sketch, "" when none */
	const char *help;
};

/* proto_config.c */
int xgw_ctl_cmd_config_reload(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args,
			      json_t **result, char *err, size_t errlen);
int xgw_ctl_cmd_config_save(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args,
			    json_t **result, char *err, size_t errlen);

/* The head of an ok reply line; a text result starts with it. */
#define XGW_CTL_REPLY_HEAD "{\"ok\":true,\"result\":"
struct xgw_jtext;
/* A text result: begin writes the head into t, end closes the reply line
 * and hands t's text to c->raw (0, or -ENOMEM and t freed). */
void xgw_ctl_raw_begin(struct xgw_jtext *t);
int xgw_ctl_raw_end(struct xgw_ctl *c, struct xgw_jtext *t);

/* The configured services (only >= 0: that one alone) with their
 * counters under "stats" when the data plane has them (proto_svc.c);
 * backends: their backends instead, each naming its "service".  The
 * result is JSON text in c->raw; 0 or -ENOMEM. */
int xgw_ctl_svc_list(struct xgw_ctl *c, const struct xgw_config *cfg, int only, bool backends,
		     unsigned limit);

/* proto_tap.c: trace.* and capture.* through the tap hook. */
#define XGW_CTL_TAP_CMD(fn)                                                                        \
	int fn(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,           \
	       char *err, size_t errlen)
XGW_CTL_TAP_CMD(xgw_ctl_cmd_trace_start);
XGW_CTL_TAP_CMD(xgw_ctl_cmd_trace_read);
XGW_CTL_TAP_CMD(xgw_ctl_cmd_trace_stop);
XGW_CTL_TAP_CMD(xgw_ctl_cmd_capture_start);
XGW_CTL_TAP_CMD(xgw_ctl_cmd_capture_read);
XGW_CTL_TAP_CMD(xgw_ctl_cmd_capture_stop);

extern const struct xgw_ctl_cmd xgw_ctl_cmds[];
extern const unsigned xgw_ctl_n_cmds;

const struct xgw_ctl_cmd *xgw_ctl_cmd_find(const char *name);
/* Check obj's keys against a NULL-terminated schema; where prefixes errors. */
int xgw_ctl_check_obj(json_t *obj, const char *where, const struct xgw_ctl_arg *schema, char *err,
		      size_t errlen);
json_t *xgw_ctl_reply_ok(json_t *result);
/* One request line -> its reply line, newline included (*out_len bytes),
 * or NULL when out of memory: what the socket server sends.  A text
 * result (c->raw) goes out as it is, never parsed or built as objects. */
char *xgw_ctl_handle_line(struct xgw_ctl *c, const char *line, size_t len, size_t *out_len);
json_t *xgw_ctl_reply_err(const char *msg);

#endif
