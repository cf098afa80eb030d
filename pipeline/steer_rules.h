/* SPDX-License-Identifier: BSD-3-Clause */
/* The steering rules of a config (pipeline/dataplane.h's
 * xgw_dp_apply_steer), whole or by difference.
 *
 * Whole: the config's steer entries, every service's VIP rules and its
 * backends' source rules, the tunnel rules; xgw_steer_set_rules writes the
 * difference with what the maps hold.  That costs a probe per rule of
 * every service.  By difference: the rules each service gave are kept (by
 * service key), and every rule key with how many services give it, so a
 * write finds the services that changed in one pass (a hash probe and a
 * comparison each) and touches only their keys; a key goes into the maps
 * when its first service comes and out when its last one goes. */
#ifndef XGW_STEER_RULES_H
#define XGW_STEER_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "steer-bpf/steer.h"

/* The id of every service rule (not its index: a del would renumber). */
#define XGW_STEER_SVC_ID XGW_STEER_ID_SERVICE /* steer-bpf/steer_maps.h */

/* cfg's whole rule list (malloc'd arrays; 0 or -ENOMEM). */
int xgw_steer_rules_full(const struct xgw_config *cfg, struct xgw_steer_rule **rules, unsigned *n,
			 struct xgw_steer_src_rule **src, unsigned *n_src);

/* The rules last written, by service. */
struct xgw_steer_rules;
struct xgw_steer_rules *xgw_steer_rules_new(void);
void xgw_steer_rules_free(struct xgw_steer_rules *r);

/* What a write changes: keys to write (add), to delete (del), and the
 * classes the maps hold after it (XGW_STEER_CLASS_*). */
struct xgw_steer_delta {
	struct xgw_steer_rule *add, *del;
	struct xgw_steer_src_rule *src_add, *src_del;
	unsigned n_add, n_del, n_src_add, n_src_del, cap_add, cap_del, cap_src_add, cap_src_del;
	uint32_t classes;
};
void xgw_steer_delta_free(struct xgw_steer_delta *d);

/* The change from the rules r holds to cfg's, into d; r then holds cfg's.
 * -EAGAIN when it cannot be had by difference (r holds nothing yet, the
 * steer entries or the tunnel rules changed, a service key is another
 * rule's too, two services share a key): then r holds nothing, and the
 * caller writes the whole list and calls xgw_steer_rules_reset.  prev
 * (or NULL): a config alive and unchanged since it was made, maybe the
 * one r holds the rules of (r remembers the address of its services
 * array): a service with prev's backends array and key, at the same
 * place, is not compared. */
int xgw_steer_rules_diff(struct xgw_steer_rules *r, const struct xgw_config *cfg,
			 const struct xgw_config *prev, struct xgw_steer_delta *d);
/* r holds cfg's rules, as the maps do after a whole write (0, or -ENOMEM:
 * then r holds nothing). */
int xgw_steer_rules_reset(struct xgw_steer_rules *r, const struct xgw_config *cfg);
/* Forget (the maps are not known to hold r's rules any more). */
void xgw_steer_rules_invalidate(struct xgw_steer_rules *r);

#endif
