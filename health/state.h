/* SPDX-License-Identifier: BSD-3-Clause */
/* A backend's health as its checks see it: the rise/fall state machine and
 * the last result, apart from any socket so that it is unit-tested alone.
 *
 * A backend starts up (as HAProxy's servers do): a restarted gateway, or a
 * second one of a fleet, then picks the same backends as its peers from
 * its first packet, and a dead backend is out after `fall` failed checks.
 * Up, it goes down after `fall` failures in a row; down, it comes back
 * after `rise` successes in a row.  One result of the other kind restarts
 * the count. */
#ifndef XGW_HEALTH_STATE_H
#define XGW_HEALTH_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* What one check found; names in xgw_hc_result_name. */
#define XGW_FOREACH_HC_RESULT(X)                                                                   \
	X(OK, "ok")                                                                                \
	X(TIMEOUT, "timeout")                                                                      \
	X(REFUSED, "refused")                                                                      \
	X(ERROR, "error")                                                                          \
	X(BAD_STATUS, "bad_status")                                                                \
	X(BAD_REPLY, "bad_reply")

enum xgw_hc_result {
#define XGW_HC_ENUM(n, s) XGW_HC_##n,
	XGW_FOREACH_HC_RESULT(XGW_HC_ENUM)
#undef XGW_HC_ENUM
	    XGW_HC__MAX
};

const char *xgw_hc_result_name(enum xgw_hc_result r);

struct xgw_hc_state {
	bool up;
	uint32_t ok_run, fail_run; /* successes / failures in a row */
	uint64_t checks, failures, transitions;
	uint64_t resets; /* established connections removed on going down (on_down "reset") */
	/* The last check: its result, errno (ERROR), HTTP status (BAD_STATUS
	 * and OK of http checks), its duration and when it ended (monotonic
	 * ms; 0 = none yet); when the state last changed (0 = never). */
	enum xgw_hc_result last;
	int last_errno;
	int last_status;
	uint32_t last_us;
	uint64_t last_at_ms, changed_at_ms;
};

void xgw_hc_init(struct xgw_hc_state *s);
/* Count one check's result; true if the backend went up or down. */
bool xgw_hc_record(struct xgw_hc_state *s, enum xgw_hc_result r, uint32_t rise, uint32_t fall,
		   uint64_t now_ms);
/* {"state": "up"|"down", "last": {"result", "ms", "age_s", "errno"?, "status"?},
 *  "checks", "failures", "transitions", "resets", "changed_s"?} */
json_t *xgw_hc_json(const struct xgw_hc_state *s, uint64_t now_ms);

#endif
