/* SPDX-License-Identifier: BSD-3-Clause */
/* The configuration model (common/config.h) as JSON: the config file and
 * the control socket's objects, plus the cross-object checks. */
#ifndef XGW_CONFIG_H
#define XGW_CONFIG_H

#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

/* All loaders fill err with "<json path>: <what is wrong>" on failure and
 * return -EINVAL (or -errno for I/O), leaving *c freed/zeroed.  Unknown keys
 * are errors; null counts as absent.  load_json ends with
 * xgw_config_validate(c, -1, ...), so a loaded config is always consistent;
 * steer and policy entries without "id" get max(id)+1, ... in file order. */
int xgw_config_load_file(struct xgw_config *c, const char *path, char *err, size_t errlen);
int xgw_config_load_json(struct xgw_config *c, json_t *root, char *err, size_t errlen);
/* Cross-object checks: duplicates, backends per service, unique port names,
 * route ports that exist, cores that exist on this machine (ncpus >= 0). */
int xgw_config_validate(const struct xgw_config *c, int ncpus, char *err, size_t errlen);
/* The same for c made from prev, a valid config: a service that is as in
 * prev (and whose context, lb.maglev_size and tunnel, is too) is not
 * checked again on its own; the checks across services all run.  A
 * write then costs its changed services' checks, not every service's. */
int xgw_config_validate_since(const struct xgw_config *c, const struct xgw_config *prev, int ncpus,
			      char *err, size_t errlen);
/* The same, with c's tunnel backends (xgw_service_n_tun summed) in
 * *n_tun when valid. */
int xgw_config_validate_count(const struct xgw_config *c, const struct xgw_config *prev, int ncpus,
			      unsigned long *n_tun, char *err, size_t errlen);
json_t *xgw_config_to_json(const struct xgw_config *c);

/* Single objects, as the control socket receives them (same schema as in
 * the file). `where` prefixes error messages, e.g. "services[2]" or "args".
 * On failure the object is left zeroed.  Steer and policy ids are 0 when
 * absent: the caller assigns them (next_steer_id, next_policy_id). */
int xgw_service_from_json(struct xgw_service_cfg *s, json_t *j, const char *where, char *err, size_t errlen);
int xgw_backend_from_json(struct xgw_backend_cfg *b, json_t *j, const char *where, char *err, size_t errlen);
int xgw_policy_from_json(struct xgw_policy_cfg *p, json_t *j, const char *where, char *err, size_t errlen);
int xgw_steer_from_json(struct xgw_steer_cfg *s, json_t *j, const char *where, char *err, size_t errlen);
int xgw_route_from_json(struct xgw_route_cfg *r, json_t *j, const char *where, char *err, size_t errlen);
json_t *xgw_service_to_json(const struct xgw_service_cfg *s);
/* The names the JSON uses for a service's datapath and algorithm. */
const char *xgw_datapath_name(unsigned datapath);
const char *xgw_algo_name(unsigned algo);
json_t *xgw_backend_to_json(const struct xgw_backend_cfg *b);
/* A service's "check" object: its fields' coherence (0, or -EINVAL with
 * err "<where>.<key>: ..."), and back to JSON. */
int xgw_check_validate(const struct xgw_check_cfg *k, const char *where, char *err, size_t errlen);
json_t *xgw_check_to_json(const struct xgw_check_cfg *k);
json_t *xgw_policy_to_json(const struct xgw_policy_cfg *p);
json_t *xgw_steer_to_json(const struct xgw_steer_cfg *s);
json_t *xgw_route_to_json(const struct xgw_route_cfg *r);

/* Whether b may join s: same address family as the vip, no backend with
 * the same ip:port yet.  For "backend.add"; where prefixes the error. */
int xgw_service_check_backend(const struct xgw_service_cfg *s, const struct xgw_backend_cfg *b,
			      const char *where, char *err, size_t errlen);

#endif
