/* SPDX-License-Identifier: BSD-3-Clause */
#include "pipeline/lpm.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define GROUP_BYTES (XGW_LPM_GROUP * sizeof(uint32_t))
/* Deepest trie: the root's 16 bits, then 8 per group. */
#define MAX_LEVELS (1 + (128 - XGW_LPM_ROOT_BITS) / 8)

static inline uint32_t leaf(unsigned len, uint32_t nh)
{
	return (uint32_t)len << 24 | nh;
}

static inline bool is_ext(uint32_t e)
{
	return e >= XGW_LPM_EXT;
}

static inline unsigned depth(uint32_t e)
{
	return e >> 24;
}

static inline uint32_t *group(const struct xgw_lpm *t, uint32_t e)
{
	return t->groups + (size_t)(e & XGW_LPM_VAL_MASK) * XGW_LPM_GROUP;
}

/* Single 32-bit stores: readers see the old or the new entry. */
static inline void put(uint32_t *slot, uint32_t v)
{
	__atomic_store_n(slot, v, __ATOMIC_RELEASE);
}

int xgw_push_u32(uint32_t **arr, uint32_t *n, uint32_t *cap, uint32_t v)
{
	if (*n == *cap) {
		uint32_t nc = *cap ? *cap * 2 : 64;
		uint32_t *p = realloc(*arr, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		*arr = p;
		*cap = nc;
	}
	(*arr)[(*n)++] = v;
	return 0;
}

int xgw_lpm_init(struct xgw_lpm *t, unsigned bits, uint32_t max_groups)
{
	void *g;

	memset(t, 0, sizeof(*t));
	t->bits = bits;
	t->root = calloc((size_t)1 << XGW_LPM_ROOT_BITS, sizeof(uint32_t));
	if (!t->root)
		return -ENOMEM;
	/* Reserved once and never moved, so that readers need no
	 * indirection and the writer no reallocation; pages are backed as
	 * groups are first used. */
	g = mmap(NULL, (size_t)max_groups * GROUP_BYTES, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g == MAP_FAILED) {
		free(t->root);
		t->root = NULL;
		return -ENOMEM;
	}
	t->groups = g;
	t->max_groups = max_groups;
	return 0;
}

void xgw_lpm_fini(struct xgw_lpm *t)
{
	if (t->groups)
		munmap(t->groups, (size_t)t->max_groups * GROUP_BYTES);
	free(t->root);
	free(t->free);
	free(t->pending);
	memset(t, 0, sizeof(*t));
}

/* A new group whose entries all say e (the entry it replaces). */
static int group_new(struct xgw_lpm *t, uint32_t e, uint32_t *idx)
{
	uint32_t g, *p;

	if (t->n_free)
		g = t->free[--t->n_free];
	else if (t->hiwat < t->max_groups)
		g = t->hiwat++;
	else
		return -ENOSPC;
	p = t->groups + (size_t)g * XGW_LPM_GROUP;
	for (unsigned i = 0; i < XGW_LPM_GROUP; i++)
		p[i] = e; /* not yet visible: plain stores */
	t->in_use++;
	*idx = g;
	return 0;
}

/* Readers may still be inside g: reusable after the next grace period. */
static void group_unlink(struct xgw_lpm *t, uint32_t g)
{
	t->in_use--;
	if (xgw_push_u32(&t->pending, &t->n_pending, &t->cap_pending, g))
		/* Cannot record it: leak the group (1 KiB) rather than reuse it
		 * under a reader. */
		return;
}

void xgw_lpm_reclaim(struct xgw_lpm *t)
{
	for (uint32_t i = 0; i < t->n_pending; i++)
		if (xgw_push_u32(&t->free, &t->n_free, &t->cap_free, t->pending[i]))
			break; /* leaked, as above */
	t->n_pending = 0;
}

size_t xgw_lpm_bytes(const struct xgw_lpm *t)
{
	return ((size_t)1 << XGW_LPM_ROOT_BITS) * sizeof(uint32_t) + (size_t)t->hiwat * GROUP_BYTES;
}

/* Entries [lo, lo + n) of tab, and everything below them: a leaf from a
 * prefix no longer than len becomes v. */
static void cover(const struct xgw_lpm *t, uint32_t *tab, uint32_t lo, uint32_t n, unsigned len,
		  uint32_t v)
{
	for (uint32_t i = lo; i < lo + n; i++) {
		uint32_t e = tab[i];
		if (is_ext(e))
			cover(t, group(t, e), 0, XGW_LPM_GROUP, len, v);
		else if (depth(e) <= len)
			put(&tab[i], v);
	}
}

/* The same for a delete: leaves of exactly len (the deleted prefix, the
 * only one of that length over these addresses) become v. */
static void uncover(const struct xgw_lpm *t, uint32_t *tab, uint32_t lo, uint32_t n, unsigned len,
		    uint32_t v)
{
	for (uint32_t i = lo; i < lo + n; i++) {
		uint32_t e = tab[i];
		if (is_ext(e))
			uncover(t, group(t, e), 0, XGW_LPM_GROUP, len, v);
		else if (depth(e) == len && e != v)
			put(&tab[i], v);
	}
}

/* Index into the table of the level starting at bit `start`. */
static inline uint32_t key_at(const uint8_t *a, unsigned start)
{
	return start ? a[start / 8] : (uint32_t)a[0] << 8 | a[1];
}

static inline unsigned stride_at(unsigned start)
{
	return start ? 8 : XGW_LPM_ROOT_BITS;
}

int xgw_lpm_add(struct xgw_lpm *t, const uint8_t *a, unsigned len, uint32_t nh)
{
	uint32_t *tab = t->root;
	unsigned start = 0;

	if (len > t->bits || !nh || nh > XGW_LPM_MAX_NH)
		return -EINVAL;
	for (;;) {
		unsigned end = start + stride_at(start);
		uint32_t k = key_at(a, start), e, g;
		int rc;

		if (len <= end) {
			unsigned span = end - len;
			cover(t, tab, k >> span << span, 1u << span, len, leaf(len, nh));
			return 0;
		}
		e = tab[k];
		if (!is_ext(e)) {
			rc = group_new(t, e, &g);
			if (rc)
				return rc;
			put(&tab[k], XGW_LPM_EXT | g); /* after its entries */
			e = XGW_LPM_EXT | g;
		}
		tab = group(t, e);
		start = end;
	}
}

static bool uniform(const uint32_t *g)
{
	for (unsigned i = 1; i < XGW_LPM_GROUP; i++)
		if (g[i] != g[0])
			return false;
	return !is_ext(g[0]);
}

void xgw_lpm_del(struct xgw_lpm *t, const uint8_t *a, unsigned len, unsigned cover_len,
		 uint32_t cover_nh)
{
	uint32_t *path[MAX_LEVELS]; /* the entry followed at each level */
	uint32_t *tab = t->root;
	unsigned start = 0, n = 0;

	if (len > t->bits)
		return;
	for (;;) {
		unsigned end = start + stride_at(start);
		uint32_t k = key_at(a, start);

		if (len <= end) {
			unsigned span = end - len;
			uncover(t, tab, k >> span << span, 1u << span, len,
				cover_nh ? leaf(cover_len, cover_nh) : 0);
			break;
		}
		if (!is_ext(tab[k]))
			return; /* nothing that long was here */
		path[n++] = &tab[k];
		tab = group(t, tab[k]);
		start = end;
	}
	/* Fold groups left with one value into their parent entry, deepest
	 * first, so that memory follows the routes present. */
	while (n--) {
		uint32_t *g = group(t, *path[n]), gi = *path[n] & XGW_LPM_VAL_MASK;
		if (!uniform(g))
			break;
		put(path[n], g[0]);
		group_unlink(t, gi);
	}
}
