/* SPDX-License-Identifier: BSD-3-Clause */
#include "ctl/config_json.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/config.h"

/* Append s to buf[*off..len), truncating as snprintf would. */
static void path_cat(char *buf, size_t len, size_t *off, const char *s, size_t n)
{
	if (*off + 1 >= len)
		return;
	if (n > len - 1 - *off)
		n = len - 1 - *off;
	memcpy(buf + *off, s, n);
	*off += n;
	buf[*off] = 0;
}

/* Called for every service and backend on every validation: no printf. */
const char *cj_path(char *buf, size_t len, const char *where, const char *key, long idx)
{
	size_t off = 0;

	if (!len)
		return buf;
	buf[0] = 0;
	path_cat(buf, len, &off, where, strlen(where));
	if (where[0] && key)
		path_cat(buf, len, &off, ".", 1);
	if (key)
		path_cat(buf, len, &off, key, strlen(key));
	if (idx >= 0) {
		char num[24];
		size_t n = sizeof(num);

		num[--n] = ']';
		do {
			num[--n] = (char)('0' + idx % 10);
			idx /= 10;
		} while (idx);
		num[--n] = '[';
		path_cat(buf, len, &off, num + n, sizeof(num) - n);
	}
	return buf;
}

int cj_fail(char *err, size_t errlen, const char *where, const char *key, const char *fmt, ...)
{
	char path[CJ_PATH_MAX];
	size_t n;
	va_list ap;

	if (!err || !errlen)
		return -EINVAL;
	cj_path(path, sizeof(path), where, key, -1);
	/* The document root has no path of its own. */
	n = (size_t)snprintf(err, errlen, "%s: ", path[0] ? path : "config");
	if (n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int fail(const struct cj *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(const struct cj *c, const char *key, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cj_fail(c->err, c->errlen, c->where, key, "%s", msg);
}

int cj_open(struct cj *c, json_t *j, const char *where, const char *const *keys, char *err,
	    size_t errlen)
{
	const char *key;
	json_t *v;

	c->obj = j;
	c->where = where;
	c->err = err;
	c->errlen = errlen;
	if (!json_is_object(j))
		return fail(c, NULL, "expected an object");
	json_object_foreach(j, key, v)
	{
		const char *const *k = keys;
		char known[256] = "";
		size_t n = 0;

		while (*k && strcmp(*k, key))
			k++;
		if (*k)
			continue;
		/* Listing the accepted keys turns most typos into a one-look fix. */
		for (k = keys; *k && n < sizeof(known); k++)
			n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s",
					      k == keys ? "" : ", ", *k);
		return fail(c, key, "unknown key (expected one of: %s)", known);
	}
	return 0;
}

json_t *cj_get(const struct cj *c, const char *key)
{
	json_t *v = json_object_get(c->obj, key);

	return json_is_null(v) ? NULL : v;
}

/* A string without embedded NULs: "tcp\u0000x" must not read as "tcp". */
static bool is_cstring(json_t *v)
{
	return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

/* Shared absent/required handling: 1 when absent and optional. */
static int absent(const struct cj *c, const char *key, bool required)
{
	if (required)
		return fail(c, key, "missing");
	return 1;
}

int cj_uint(const struct cj *c, const char *key, bool required, uint64_t lo, uint64_t hi,
	    uint64_t *out)
{
	json_t *v = cj_get(c, key);
	json_int_t i;

	if (!v)
		return absent(c, key, required);
	i = json_is_integer(v) ? json_integer_value(v) : -1;
	if (!json_is_integer(v) || i < 0 || (uint64_t)i < lo || (uint64_t)i > hi) {
		/* Upper bounds that only reflect the C type are noise to a user. */
		if (hi >= INT32_MAX)
			return fail(c, key, "expected an integer >= %" PRIu64, lo);
		return fail(c, key, "expected an integer between %" PRIu64 " and %" PRIu64, lo, hi);
	}
	*out = (uint64_t)i;
	return 0;
}

int cj_bool(const struct cj *c, const char *key, bool required, bool *out)
{
	json_t *v = cj_get(c, key);

	if (!v)
		return absent(c, key, required);
	if (!json_is_boolean(v))
		return fail(c, key, "expected true or false");
	*out = json_is_true(v);
	return 0;
}

int cj_enum(const struct cj *c, const char *key, bool required, const char *const *names, int *out)
{
	json_t *v = cj_get(c, key);
	char list[128] = "";
	size_t n = 0;
	int i;

	if (!v)
		return absent(c, key, required);
	for (i = 0; names[i]; i++) {
		if (is_cstring(v) && !strcmp(json_string_value(v), names[i])) {
			*out = i;
			return 0;
		}
	}
	for (i = 0; names[i] && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"",
				      i == 0	     ? ""
				      : names[i + 1] ? ", "
						     : " or ",
				      names[i]);
	if (is_cstring(v))
		return fail(c, key, "\"%s\" is not %s%s", json_string_value(v),
			    i > 2 ? "one of " : "", list);
	return fail(c, key, "expected %s", list);
}

int cj_str(const struct cj *c, const char *key, bool required, bool allow_empty, char *out,
	   size_t outlen)
{
	json_t *v = cj_get(c, key);
	size_t len;

	if (!v)
		return absent(c, key, required);
	if (!json_is_string(v))
		return fail(c, key, "expected a string");
	len = json_string_length(v);
	if (!len && !allow_empty)
		return fail(c, key, "must not be empty");
	if (len >= outlen)
		return fail(c, key, "longer than %zu characters", outlen - 1);
	/* An embedded NUL would silently truncate the name we act on. */
	if (strlen(json_string_value(v)) != len)
		return fail(c, key, "contains a NUL character");
	memcpy(out, json_string_value(v), len + 1);
	return 0;
}

int cj_addr(const struct cj *c, const char *key, bool required, struct xgw_addr *out)
{
	json_t *v = cj_get(c, key);

	if (!v)
		return absent(c, key, required);
	if (!is_cstring(v))
		return fail(c, key, "expected an IPv4 or IPv6 address string");
	if (xgw_addr_parse(out, json_string_value(v)))
		return fail(c, key, "\"%s\" is not an IPv4 or IPv6 address", json_string_value(v));
	return 0;
}

int cj_prefix(const struct cj *c, const char *key, bool required, struct xgw_prefix *out)
{
	json_t *v = cj_get(c, key);
	struct xgw_prefix p;
	const char *s;
	const char *slash;
	char addr[64];

	if (!v)
		return absent(c, key, required);
	if (!is_cstring(v))
		return fail(c, key, "expected an address or prefix string");
	s = json_string_value(v);
	memset(&p, 0, sizeof(p));
	if (!xgw_prefix_parse(&p, s)) {
		*out = p;
		return 0;
	}
	/* Say which part is wrong: the address, the length or the host bits. */
	slash = strchr(s, '/');
	if (slash && (size_t)(slash - s) < sizeof(addr)) {
		memcpy(addr, s, (size_t)(slash - s));
		addr[slash - s] = '\0';
		if (!xgw_addr_parse(&p.addr, addr)) {
			char *end;
			long len = strtol(slash + 1, &end, 10);

			if (slash[1] >= '0' && slash[1] <= '9' && !*end && len >= 0 &&
			    len <= xgw_addr_bits(&p.addr))
				return fail(c, key, "\"%s\" has host bits set past /%ld", s, len);
			return fail(c, key, "\"%s\": prefix length must be 0..%d", s,
				    xgw_addr_bits(&p.addr));
		}
	}
	return fail(c, key, "\"%s\" is not an IPv4 or IPv6 address or prefix", s);
}

int cj_mac(const struct cj *c, const char *key, bool required, uint8_t out[6])
{
	json_t *v = cj_get(c, key);

	if (!v)
		return absent(c, key, required);
	if (!is_cstring(v))
		return fail(c, key, "expected a MAC address string");
	if (xgw_mac_parse(out, json_string_value(v)))
		return fail(c, key, "\"%s\" is not a MAC address like 02:00:00:00:04:0a",
			    json_string_value(v));
	return 0;
}

int cj_proto(const struct cj *c, const char *key, bool required, bool allow_icmp, uint8_t *out)
{
	static const char *const l4[] = {"tcp", "udp", NULL};
	static const char *const any[] = {"tcp", "udp", "icmp", NULL};
	static const uint8_t nums[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP};
	int i, rc;

	rc = cj_enum(c, key, required, allow_icmp ? any : l4, &i);
	if (!rc)
		*out = nums[i];
	return rc;
}

int cj_array(const struct cj *c, const char *key, bool required, json_t **out)
{
	json_t *v = cj_get(c, key);

	if (!v)
		return absent(c, key, required);
	if (!json_is_array(v))
		return fail(c, key, "expected an array");
	*out = v;
	return 0;
}

int cj_sub(const struct cj *c, const char *key, bool required, const char *const *keys,
	   struct cj *sub, char *pathbuf, size_t pathlen)
{
	json_t *v = cj_get(c, key);

	if (!v)
		return absent(c, key, required);
	return cj_open(sub, v, cj_path(pathbuf, pathlen, c->where, key, -1), keys, c->err,
		       c->errlen);
}

json_t *cj_addr_json(const struct xgw_addr *a)
{
	char buf[XGW_ADDR_STRLEN];

	return json_string(xgw_addr_str(a, buf, sizeof(buf)));
}

json_t *cj_prefix_json(const struct xgw_prefix *p)
{
	char buf[XGW_ADDR_STRLEN + 8];

	return json_string(xgw_prefix_str(p, buf, sizeof(buf)));
}

json_t *cj_mac_json(const uint8_t m[6])
{
	char buf[18];

	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
	return json_string(buf);
}

int cj_set(json_t *o, const char *key, json_t *v)
{
	if (!o || !v) {
		json_decref(v);
		return -1;
	}
	return json_object_set_new(o, key, v);
}
