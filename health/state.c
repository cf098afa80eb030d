/* SPDX-License-Identifier: BSD-3-Clause */
#include "health/state.h"

#include <string.h>

const char *xgw_hc_result_name(enum xgw_hc_result r)
{
	static const char *const names[] = {
#define XGW_HC_NAME(n, s) s,
	    XGW_FOREACH_HC_RESULT(XGW_HC_NAME)
#undef XGW_HC_NAME
	};

	return (unsigned)r < XGW_HC__MAX ? names[r] : "?";
}

void xgw_hc_init(struct xgw_hc_state *s)
{
	memset(s, 0, sizeof(*s));
	s->up = true;
}

bool xgw_hc_record(struct xgw_hc_state *s, enum xgw_hc_result r, uint32_t rise, uint32_t fall,
		   uint64_t now_ms)
{
	bool was = s->up;

	s->checks++;
	s->last = r;
	s->last_at_ms = now_ms;
	if (r == XGW_HC_OK) {
		s->fail_run = 0;
		s->ok_run++;
		if (!s->up && s->ok_run >= rise)
			s->up = true;
	} else {
		s->failures++;
		s->ok_run = 0;
		s->fail_run++;
		if (s->up && s->fail_run >= fall)
			s->up = false;
	}
	if (s->up == was)
		return false;
	s->transitions++;
	s->changed_at_ms = now_ms;
	return true;
}

json_t *xgw_hc_json(const struct xgw_hc_state *s, uint64_t now_ms)
{
	json_t *o =
	    json_pack("{s:s, s:I, s:I, s:I, s:I}", "state", s->up ? "up" : "down", "checks",
		      (json_int_t)s->checks, "failures", (json_int_t)s->failures, "transitions",
		      (json_int_t)s->transitions, "resets", (json_int_t)s->resets);

	if (!o)
		return NULL;
	if (s->changed_at_ms)
		json_object_set_new(o, "changed_s",
				    json_real((double)(now_ms - s->changed_at_ms) / 1000.0));
	if (s->last_at_ms) {
		json_t *l = json_pack("{s:s, s:f, s:f}", "result", xgw_hc_result_name(s->last),
				      "ms", s->last_us / 1000.0, "age_s",
				      (double)(now_ms - s->last_at_ms) / 1000.0);

		if (l && s->last == XGW_HC_ERROR)
			json_object_set_new(l, "errno", json_string(strerror(s->last_errno)));
		if (l && s->last_status)
			json_object_set_new(l, "status", json_integer(s->last_status));
		json_object_set_new(o, "last", l);
	}
	return o;
}
