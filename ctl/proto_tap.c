/* SPDX-License-Identifier: BSD-3-Clause */
/* trace.* and capture.*: the control socket's side of pipeline/tap.h.  The
 * daemon's tap hook does the work; the arguments' types are checked by the
 * command table, their values there. */
#include <errno.h>
#include <stdio.h>

#include "ctl/proto.h"

static int tap(struct xgw_ctl *c, const char *cmd, json_t *args, json_t **result, char *err,
	       size_t errlen)
{
	char e[256] = "";

	if (!c->ops.tap) {
		snprintf(err, errlen, "%s: not available", cmd);
		return -EOPNOTSUPP;
	}
	*result = c->ops.tap(c->ctx, cmd, args, e, sizeof(e));
	if (!*result) {
		snprintf(err, errlen, "%s: %s", cmd, e[0] ? e : "failed");
		return -EINVAL;
	}
	return 0;
}

#define TAP_CMD(fn, name)                                                                          \
	int fn(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args, json_t **result,           \
	       char *err, size_t errlen)                                                           \
	{                                                                                          \
		return tap(c, name, args, result, err, errlen);                                    \
	}

TAP_CMD(xgw_ctl_cmd_trace_start, "trace.start")
TAP_CMD(xgw_ctl_cmd_trace_read, "trace.read")
TAP_CMD(xgw_ctl_cmd_trace_stop, "trace.stop")
TAP_CMD(xgw_ctl_cmd_capture_start, "capture.start")
TAP_CMD(xgw_ctl_cmd_capture_read, "capture.read")
TAP_CMD(xgw_ctl_cmd_capture_stop, "capture.stop")
