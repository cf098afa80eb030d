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
json_t *xgw_backend_to_json(const struct xgw_backend_cfg *b);
json_t *xgw_policy_to_json(const struct xgw_policy_cfg *p);
json_t *xgw_steer_to_json(const struct xgw_steer_cfg *s);
json_t *xgw_route_to_json(const struct xgw_route_cfg *r);

/* "198.18.100.1:80/tcp" or "[2001:db8::1]:80/udp" as xgwctl writes it. */
int xgw_service_key_parse(const char *s, struct xgw_addr *vip, uint16_t *port, uint8_t *proto);
/* "198.18.2.10:8080" or "[2001:db8::a]:8080". */
int xgw_endpoint_parse(const char *s, struct xgw_addr *ip, uint16_t *port);
/* The same for a listening socket: port 0 (any free port) allowed. */
int xgw_listen_parse(const char *s, struct xgw_addr *ip, uint16_t *port);

/* The inverses of the two parsers; buf of XGW_KEY_STRLEN is enough. */
#define XGW_KEY_STRLEN 64
const char *xgw_service_key_str(const struct xgw_addr *vip, uint16_t port, uint8_t proto, char *buf,
				size_t len);
const char *xgw_endpoint_str(const struct xgw_addr *ip, uint16_t port, char *buf, size_t len);
/* "tcp", "udp", "icmp", "any" for 0, "?" otherwise.  "icmp" (IPPROTO_ICMP)
 * in a policy means ICMP for IPv4 and ICMPv6 for IPv6 traffic. */
const char *xgw_proto_name(uint8_t proto);
/* "02:00:00:00:04:0a" (case-insensitive hex, colons required); 0 or -EINVAL. */
int xgw_mac_parse(uint8_t mac[6], const char *s);

/* Whether b may join s: same address family as the vip, no backend with
 * the same ip:port yet.  For "backend.add"; where prefixes the error. */
int xgw_service_check_backend(const struct xgw_service_cfg *s, const struct xgw_backend_cfg *b,
			      const char *where, char *err, size_t errlen);

#endif
