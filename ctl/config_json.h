/* SPDX-License-Identifier: BSD-3-Clause */
/* Strict readers for the config schema, internal to ctl/config*.c.
 *
 * Every reader works on one JSON object at a time through a small context
 * that carries the object's path, so that any failure can be reported as
 * "<path>.<key>: <problem>" without building path strings on the happy path.
 * Readers return 0 when the key was read, 1 when it is absent (JSON null
 * counts as absent, the output is left untouched so callers preset
 * defaults) and -EINVAL with the error filled otherwise. */
#ifndef XGW_CTL_CONFIG_JSON_H
#define XGW_CTL_CONFIG_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

/* Longest path we report, e.g. "services[1023].backends[4095].tunnel.remote". */
#define CJ_PATH_MAX 160

struct cj {
	json_t *obj;
	const char *where; /* path of obj; "" for the document root */
	char *err;
	size_t errlen;
};

/* "where.key", "where.key[idx]" (idx >= 0) or "where[idx]" (key NULL). */
const char *cj_path(char *buf, size_t len, const char *where, const char *key, long idx);

/* Fill err with "<where>.<key>: <msg>" (key may be NULL); returns -EINVAL. */
int cj_fail(char *err, size_t errlen, const char *where, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Start reading j: it must be an object whose keys are all in the
 * NULL-terminated list `keys`, so that a typo is an error, not a default. */
int cj_open(struct cj *c, json_t *j, const char *where, const char *const *keys, char *err,
	    size_t errlen);

/* The value of key, or NULL when absent or null. */
json_t *cj_get(const struct cj *c, const char *key);

/* Integers in [lo, hi]; reals, strings and booleans are refused. */
int cj_uint(const struct cj *c, const char *key, bool required, uint64_t lo, uint64_t hi,
	    uint64_t *out);
int cj_bool(const struct cj *c, const char *key, bool required, bool *out);
/* One of the NULL-terminated names; *out is the index. */
int cj_enum(const struct cj *c, const char *key, bool required, const char *const *names, int *out);
/* A string shorter than outlen (so it fits with its NUL), empty only when
 * allow_empty. */
int cj_str(const struct cj *c, const char *key, bool required, bool allow_empty, char *out,
	   size_t outlen);
int cj_addr(const struct cj *c, const char *key, bool required, struct xgw_addr *out);
int cj_prefix(const struct cj *c, const char *key, bool required, struct xgw_prefix *out);
int cj_mac(const struct cj *c, const char *key, bool required, uint8_t out[6]);
/* "tcp", "udp" and, with allow_icmp, "icmp" as IPPROTO_* numbers. */
int cj_proto(const struct cj *c, const char *key, bool required, bool allow_icmp, uint8_t *out);
/* An array (possibly empty). */
int cj_array(const struct cj *c, const char *key, bool required, json_t **out);
/* A nested object: fills sub (path "where.key") after the key check. */
int cj_sub(const struct cj *c, const char *key, bool required, const char *const *keys,
	   struct cj *sub, char *pathbuf, size_t pathlen);

/* Writers: new references, NULL on allocation failure. */
json_t *cj_addr_json(const struct xgw_addr *a);
json_t *cj_prefix_json(const struct xgw_prefix *p);
json_t *cj_mac_json(const uint8_t mac[6]);
/* json_object_set_new that also fails on a NULL value; returns 0 or -1 so
 * that callers can OR a whole object's worth of sets together. */
int cj_set(json_t *o, const char *key, json_t *v);

/* The objects that only the config file carries (config_objects.c). */
struct xgw_port_cfg;
struct xgw_neigh_cfg;
int cfg_port_from_json(struct xgw_port_cfg *p, json_t *j, const char *where, char *err,
		       size_t errlen);
json_t *cfg_port_to_json(const struct xgw_port_cfg *p);
int cfg_neigh_from_json(struct xgw_neigh_cfg *n, json_t *j, const char *where, char *err,
			size_t errlen);
json_t *cfg_neigh_to_json(const struct xgw_neigh_cfg *n);

/* xgw_service_check_backend over a whole service at once, in O(n log n);
 * used by the loader and by xgw_config_validate.  where is its path. */
struct xgw_service_cfg;
/* n is prime (Maglev table sizes). */
bool cfg_is_prime(uint32_t n);
int cfg_service_check(const struct xgw_service_cfg *s, const char *where, char *err, size_t errlen);

/* Index of the first entry (in order) whose fixed-size key equals an
 * earlier one's, or -1; *first gets that earlier index.  Sorting makes
 * validation O(n log n), which matters because the control socket
 * validates the whole config on every write. */
long cfg_find_dup(const void *keys, size_t n, size_t keysize, size_t *first);

#endif
