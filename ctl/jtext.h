/* SPDX-License-Identifier: BSD-3-Clause */
/* JSON written as text into a growing buffer, for the replies too large to
 * build as a jansson tree first: a 10,000-service service.list is about
 * 800,000 values, and building, dumping and freeing them as jansson
 * objects was most of its second (ctl/proto_svc.c).  Errors (out of
 * memory) stick: check oom once at the end. */
#ifndef XGW_CTL_JTEXT_H
#define XGW_CTL_JTEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct xgw_jtext {
	char *p; /* NUL-terminated when not oom */
	size_t len, cap;
	bool oom;
};

/* Room for n more bytes (and the NUL); false when out of memory. */
bool xgw_jt_grow(struct xgw_jtext *t, size_t n);

static inline bool xgw_jt_reserve(struct xgw_jtext *t, size_t n)
{
	return t->len + n + 1 <= t->cap || xgw_jt_grow(t, n);
}

static inline void xgw_jt_raw(struct xgw_jtext *t, const char *s, size_t n)
{
	if (!xgw_jt_reserve(t, n))
		return;
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}
/* A string literal, as is (keys and punctuation the caller wrote). */
#define xgw_jt_lit(t, s) xgw_jt_raw((t), (s), sizeof(s) - 1)
/* s as a JSON string (quoted, escaped). */
void xgw_jt_str(struct xgw_jtext *t, const char *s);
void xgw_jt_u64(struct xgw_jtext *t, uint64_t v);
/* A jansson value, compact (the small, rare parts: health, a check). */
void xgw_jt_json(struct xgw_jtext *t, const json_t *j);
/* The text (the caller frees it) and its length; NULL when out of memory
 * (the buffer is freed then). */
char *xgw_jt_take(struct xgw_jtext *t, size_t *len);
void xgw_jt_free(struct xgw_jtext *t);

#endif
