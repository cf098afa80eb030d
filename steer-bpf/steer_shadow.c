/* SPDX-License-Identifier: BSD-3-Clause */
#include "steer-bpf/steer_shadow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "common/hash_mix.h"

/* Entry layout: key (ksz bytes, a multiple of 4), value, mark. */
static inline uint8_t *slot(const struct xgw_shadow *sh, size_t i)
{
	return sh->slots + i * sh->esz;
}

static inline uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void put_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline uint32_t mark_of(const struct xgw_shadow *sh, size_t i)
{
	return get_u32(slot(sh, i) + sh->ksz + 4);
}

static size_t home(const struct xgw_shadow *sh, const uint8_t *key)
{
	uint64_t h = 0, w;
	size_t o = 0;

	for (; o + 8 <= sh->ksz; o += 8) {
		memcpy(&w, key + o, 8);
		h = xgw_hash_round(h, w);
	}
	if (o < sh->ksz)
		h = xgw_hash_round(h, get_u32(key + o));
	return (size_t)xgw_hash_fmix64(h) & (sh->cap - 1);
}

/* The slot holding key, or the empty slot where it would go; *found says
 * which.  The table is never full (begin keeps it at most 3/4 used). */
static size_t find(const struct xgw_shadow *sh, const void *key, bool *found)
{
	size_t i = home(sh, key);

	while (mark_of(sh, i)) {
		if (!memcmp(slot(sh, i), key, sh->ksz)) {
			*found = true;
			return i;
		}
		i = (i + 1) & (sh->cap - 1);
	}
	*found = false;
	return i;
}

/* Empty slot i and shift back the entries after it that probed past it
 * (linear probing without tombstones). */
static void remove_at(struct xgw_shadow *sh, size_t i)
{
	size_t mask = sh->cap - 1, j = i;

	memset(slot(sh, i), 0, sh->esz);
	for (;;) {
		j = (j + 1) & mask;
		if (!mark_of(sh, j))
			break;
		size_t k = home(sh, slot(sh, j));
		/* Entry j may stay when its home lies cyclically in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		memcpy(slot(sh, i), slot(sh, j), sh->esz);
		memset(slot(sh, j), 0, sh->esz);
		i = j;
	}
	sh->n--;
}

static int resize(struct xgw_shadow *sh, size_t cap)
{
	struct xgw_shadow nt = *sh;

	nt.cap = cap;
	nt.slots = calloc(cap, sh->esz);
	if (!nt.slots)
		return -ENOMEM;
	for (size_t i = 0; i < sh->cap; i++) {
		bool found;

		if (!mark_of(sh, i))
			continue;
		memcpy(slot(&nt, find(&nt, slot(sh, i), &found)), slot(sh, i), sh->esz);
	}
	free(sh->slots);
	*sh = nt;
	return 0;
}

void xgw_shadow_init(struct xgw_shadow *sh, size_t ksz)
{
	memset(sh, 0, sizeof(*sh));
	sh->ksz = ksz;
	sh->esz = ksz + 8;
}

void xgw_shadow_free(struct xgw_shadow *sh)
{
	free(sh->slots);
	sh->slots = NULL;
	sh->cap = sh->n = 0;
	sh->valid = false;
}

int xgw_shadow_begin(struct xgw_shadow *sh, size_t n)
{
	size_t cap = sh->cap ? sh->cap : 64;

	sh->was_valid = sh->valid;
	/* Invalid until the sync ends well: a failure on the way leaves the
	 * map somewhere between the two rule sets. */
	sh->valid = false;
	if (!sh->was_valid && sh->slots) {
		memset(sh->slots, 0, sh->cap * sh->esz);
		sh->n = 0;
	}
	if (++sh->epoch == 0)
		sh->epoch = 1;
	/* Old and new keys are in the table together until the stale ones
	 * go: room for both at a load of at most 3/4. */
	while (cap / 4 * 3 < sh->n + n + 1)
		cap *= 2;
	if (cap != sh->cap)
		return resize(sh, cap);
	return 0;
}

int xgw_shadow_write(struct xgw_shadow *sh, int fd, const void *key, uint32_t val)
{
	bool found;
	size_t i = find(sh, key, &found);
	uint8_t *e = slot(sh, i);

	if (found) {
		if (mark_of(sh, i) == sh->epoch)
			return 0; /* a later duplicate was written already */
		if (sh->was_valid && get_u32(e + sh->ksz) == val) {
			put_u32(e + sh->ksz + 4, sh->epoch);
			return 0;
		}
	}
	if (bpf_map_update_elem(fd, key, &val, BPF_ANY))
		return -errno;
	if (!found) {
		memcpy(e, key, sh->ksz);
		sh->n++;
	}
	put_u32(e + sh->ksz, val);
	put_u32(e + sh->ksz + 4, sh->epoch);
	return 0;
}

/* Keys of the map that this sync did not write, when the table does not
 * know what the map held: walk the map.  Keys are collected first, as
 * deleting while iterating restarts the walk. */
static int collect_from_map(const struct xgw_shadow *sh, int fd, uint8_t **out, size_t *n_out)
{
	uint8_t k[64], next[64], *stale = NULL;
	size_t n = 0, cap = 0;
	int r = bpf_map_get_next_key(fd, NULL, next);

	while (!r) {
		bool found;
		size_t i;

		memcpy(k, next, sh->ksz);
		i = find(sh, k, &found);
		if (!found || mark_of(sh, i) != sh->epoch) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				void *nb = realloc(stale, cap * sh->ksz);
				if (!nb) {
					free(stale);
					return -ENOMEM;
				}
				stale = nb;
			}
			memcpy(stale + n++ * sh->ksz, k, sh->ksz);
		}
		r = bpf_map_get_next_key(fd, k, next);
	}
	*out = stale;
	*n_out = n;
	return 0;
}

static int collect_from_table(const struct xgw_shadow *sh, uint8_t **out, size_t *n_out)
{
	uint8_t *stale = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < sh->cap; i++) {
		uint32_t m = mark_of(sh, i);

		if (!m || m == sh->epoch)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			void *nb = realloc(stale, cap * sh->ksz);
			if (!nb) {
				free(stale);
				return -ENOMEM;
			}
			stale = nb;
		}
		memcpy(stale + n++ * sh->ksz, slot(sh, i), sh->ksz);
	}
	*out = stale;
	*n_out = n;
	return 0;
}

int xgw_shadow_delete_stale(struct xgw_shadow *sh, int fd)
{
	uint8_t *stale = NULL;
	size_t n = 0;
	int err = sh->was_valid ? collect_from_table(sh, &stale, &n)
				: collect_from_map(sh, fd, &stale, &n);

	for (size_t s = 0; s < n && !err; s++) {
		const uint8_t *k = stale + s * sh->ksz;
		bool found;
		size_t i;

		if (bpf_map_delete_elem(fd, k) && errno != ENOENT)
			err = -errno;
		i = find(sh, k, &found);
		if (found)
			remove_at(sh, i);
	}
	free(stale);
	sh->valid = !err;
	return err;
}

int xgw_shadow_put(struct xgw_shadow *sh, int fd, const void *key, uint32_t val)
{
	bool found;
	size_t i;
	uint8_t *e;
	int rc;

	if (!sh->valid || !sh->epoch)
		return -ESTALE;
	if (sh->cap / 4 * 3 < sh->n + 1 && (rc = resize(sh, sh->cap ? sh->cap * 2 : 64))) {
		sh->valid = false;
		return rc;
	}
	i = find(sh, key, &found);
	e = slot(sh, i);
	if (found && get_u32(e + sh->ksz) == val)
		return 0;
	if (bpf_map_update_elem(fd, key, &val, BPF_ANY)) {
		sh->valid = false;
		return -errno;
	}
	if (!found) {
		memcpy(e, key, sh->ksz);
		sh->n++;
	}
	put_u32(e + sh->ksz, val);
	put_u32(e + sh->ksz + 4, sh->epoch);
	return 0;
}

int xgw_shadow_del(struct xgw_shadow *sh, int fd, const void *key)
{
	bool found;
	size_t i;

	if (!sh->valid || !sh->epoch)
		return -ESTALE;
	if (bpf_map_delete_elem(fd, key) && errno != ENOENT) {
		sh->valid = false;
		return -errno;
	}
	i = find(sh, key, &found);
	if (found)
		remove_at(sh, i);
	return 0;
}
