/* SPDX-License-Identifier: BSD-3-Clause */
#include "ctl/jtext.h"

#include <stdlib.h>

bool xgw_jt_grow(struct xgw_jtext *t, size_t n)
{
	size_t cap;
	char *p;

	if (t->oom)
		return false;
	if (t->len + n + 1 <= t->cap)
		return true;
	cap = t->cap ? t->cap : 4096;
	while (cap < t->len + n + 1)
		cap *= 2;
	p = realloc(t->p, cap);
	if (!p) {
		t->oom = true;
		return false;
	}
	t->p = p;
	t->cap = cap;
	return true;
}

void xgw_jt_str(struct xgw_jtext *t, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(s);

	/* At most 6 bytes per input byte (\u00XX), and the quotes. */
	if (!xgw_jt_reserve(t, 6 * n + 2))
		return;
	char *o = t->p + t->len;
	*o++ = '"';
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\') {
			*o++ = '\\';
			*o++ = (char)*c;
		} else if (*c < 0x20) {
			*o++ = '\\';
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[*c >> 4];
			*o++ = hex[*c & 15];
		} else {
			*o++ = (char)*c;
		}
	}
	*o++ = '"';
	*o = '\0';
	t->len = (size_t)(o - t->p);
}

void xgw_jt_u64(struct xgw_jtext *t, uint64_t v)
{
	char b[24], *e = b + sizeof(b), *s = e;

	do {
		*--s = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	xgw_jt_raw(t, s, (size_t)(e - s));
}

static int dump_cb(const char *buf, size_t size, void *data)
{
	struct xgw_jtext *t = data;

	xgw_jt_raw(t, buf, size);
	return t->oom ? -1 : 0;
}

void xgw_jt_json(struct xgw_jtext *t, const json_t *j)
{
	if (json_dump_callback(j, dump_cb, t, JSON_COMPACT | JSON_ENCODE_ANY))
		t->oom = true;
}

char *xgw_jt_take(struct xgw_jtext *t, size_t *len)
{
	char *p = t->oom ? NULL : t->p;

	if (t->oom)
		free(t->p);
	else if (!p && xgw_jt_reserve(t, 0))
		p = t->p; /* nothing was written: an empty string */
	if (p)
		p[t->len] = '\0';
	if (len)
		*len = p ? t->len : 0;
	t->p = NULL;
	t->len = t->cap = 0;
	t->oom = false;
	return p;
}

void xgw_jt_free(struct xgw_jtext *t)
{
	free(t->p);
	t->p = NULL;
	t->len = t->cap = 0;
	t->oom = false;
}
