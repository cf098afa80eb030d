/* SPDX-License-Identifier: BSD-3-Clause */
/* Maglev table population.  See maglev.h for the contract. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb/maglev.h"

void xgw_maglev_endpoint_key(uint8_t key[XGW_MAGLEV_KEY_LEN], const struct xgw_addr *ip,
			     uint16_t port)
{
	key[0] = ip->family;
	memcpy(key + 1, ip->b, 16);
	key[17] = (uint8_t)(port >> 8);
	key[18] = (uint8_t)port;
}

int xgw_maglev_check_size(uint32_t m)
{
	if (m < 2 || m > XGW_MAGLEV_MAX_SIZE)
		return -EINVAL;
	if (m % 2 == 0)
		return m == 2 ? 0 : -EINVAL;
	for (uint32_t d = 3; (uint64_t)d * d <= m; d += 2)
		if (m % d == 0)
			return -EINVAL;
	return 0;
}

/* 64-bit hash of the key bytes: the same multiply-rotate chain as the flow
 * hash, over 8-byte chunks, with the length folded in so that keys that are
 * prefixes of each other differ. */
static uint64_t key_hash(const uint8_t *p, size_t len, uint64_t seed)
{
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ull);

	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		h = xgw_hash_round(h, w);
		p += 8;
		len -= 8;
	}
	if (len) {
		uint64_t w = 0;

		memcpy(&w, p, len);
		h = xgw_hash_round(h, w);
	}
	return xgw_hash_fmix64(h);
}

/* Seeds for the paper's two hashes h1 (offset) and h2 (skip); fixed so that
 * the table is a pure function of the backend set. */
#define SEED_OFFSET 0x6d61676c65763121ull
#define SEED_SKIP   0x6d61676c65763222ull

struct perm {
	const struct xgw_maglev_backend *b;
	uint32_t pos;  /* the next slot in this backend's permutation */
	uint32_t skip; /* in [1, M-1] */
	uint64_t credit;
};

static int cmp_key(const void *a, const void *b)
{
	const struct xgw_maglev_backend *x = ((const struct perm *)a)->b;
	const struct xgw_maglev_backend *y = ((const struct perm *)b)->b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);

	if (c)
		return c;
	return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int check_ids(const struct xgw_maglev_backend *b, unsigned n)
{
	uint32_t *ids = malloc(sizeof(*ids) * (n ? n : 1));
	int ret = 0;

	if (!ids)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		if (b[i].id == XGW_MAGLEV_NONE || (b[i].key_len && !b[i].key))
			ret = -EINVAL;
		ids[i] = b[i].id;
	}
	qsort(ids, n, sizeof(*ids), cmp_u32);
	for (unsigned i = 1; i < n; i++)
		if (ids[i] == ids[i - 1])
			ret = -EINVAL;
	free(ids);
	return ret;
}

/* Weighted population as in Katran's MaglevHash: in every round each
 * backend earns its weight in credit and takes one turn (its next free slot
 * in its own permutation) per max_weight of credit.  Shares then follow the
 * weights to within one slot, whatever the collisions, because every turn
 * fills exactly one slot.  The backends are sorted by key first: ties (two
 * backends wanting the same slot in one round) are decided by that order,
 * so the table does not depend on the order of the input array. */
static void populate(struct xgw_maglev *t, struct perm *p, unsigned n)
{
	uint32_t m = t->size, filled = 0;
	uint64_t max_w = 0;

	for (unsigned i = 0; i < n; i++)
		if (p[i].b->weight > max_w)
			max_w = p[i].b->weight;
	for (;;) {
		for (unsigned i = 0; i < n; i++) {
			struct perm *q = &p[i];

			q->credit += q->b->weight;
			if (q->credit < max_w)
				continue;
			q->credit -= max_w;
			while (t->slot[q->pos] != XGW_MAGLEV_NONE) {
				q->pos += q->skip;
				if (q->pos >= m)
					q->pos -= m;
			}
			t->slot[q->pos] = q->b->id;
			if (++filled == m)
				return;
		}
	}
}

struct xgw_maglev *xgw_maglev_build(uint32_t m, const struct xgw_maglev_backend *b, unsigned n,
				    int *err)
{
	struct xgw_maglev *t = NULL;
	struct perm *p = NULL;
	unsigned n_active = 0;
	int ret;

	ret = xgw_maglev_check_size(m);
	if (ret)
		goto fail;
	ret = check_ids(b, n);
	if (ret)
		goto fail;
	ret = -ENOMEM;
	t = calloc(1, sizeof(*t) + (size_t)m * sizeof(t->slot[0]));
	p = calloc(n ? n : 1, sizeof(*p));
	if (!t || !p)
		goto fail;
	t->size = m;
	t->refs = 1;
	t->fastmod = UINT64_MAX / m + 1;

	for (unsigned i = 0; i < n; i++)
		p[i].b = &b[i];
	qsort(p, n, sizeof(*p), cmp_key);
	ret = -EINVAL;
	for (unsigned i = 1; i < n; i++)
		if (cmp_key(&p[i - 1], &p[i]) == 0)
			goto fail;
	/* Draining backends take no turns; compaction keeps the key order. */
	for (unsigned i = 0; i < n; i++)
		if (p[i].b->weight)
			p[n_active++] = p[i];
	for (unsigned i = 0; i < n_active; i++) {
		const struct xgw_maglev_backend *x = p[i].b;

		p[i].pos = key_hash(x->key, x->key_len, SEED_OFFSET) % m;
		p[i].skip = key_hash(x->key, x->key_len, SEED_SKIP) % (m - 1) + 1;
	}
	t->n_active = n_active;
	if (n_active)
		populate(t, p, n_active);
	free(p);
	return t;
fail:
	free(p);
	free(t);
	if (err)
		*err = ret;
	return NULL;
}

struct xgw_maglev *xgw_maglev_get(struct xgw_maglev *t)
{
	if (t)
		t->refs++;
	return t;
}

void xgw_maglev_free(struct xgw_maglev *t)
{
	if (t && --t->refs == 0)
		free(t);
}

/* About doubling, each the next prime above 100 * 2^k, and 65537 (the
 * default cap) itself: every entry passes xgw_maglev_check_size. */
static const uint32_t auto_sizes[] = {
    101,   211,	   401,	   809,	   1601,   3203,    6421,    12809,   25601,	51203,
    65537, 102407, 204803, 409609, 819229, 1638431, 3276803, 6553621, 13107229,
};

uint32_t xgw_maglev_auto_size(uint64_t weight_sum, uint32_t cap)
{
	uint64_t want = weight_sum * 100;

	for (size_t i = 0; i < sizeof(auto_sizes) / sizeof(auto_sizes[0]); i++) {
		if (auto_sizes[i] >= cap)
			break;
		if (auto_sizes[i] >= want)
			return auto_sizes[i];
	}
	return cap;
}

uint32_t xgw_maglev_diff(const struct xgw_maglev *old, const struct xgw_maglev *nw,
			 uint32_t *changed)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < nw->size; i++) {
		if (old && old->size == nw->size && old->slot[i] == nw->slot[i])
			continue;
		if (changed)
			changed[n] = i;
		n++;
	}
	return n;
}
