/* SPDX-License-Identifier: BSD-3-Clause */
/* Maglev consistent hashing (Eisenbud et al., NSDI'16); the flow hash that
 * indexes it is in common/hash.h.
 *
 * The control thread builds a whole table from the backend set, publishes
 * it (RCU) and, for the in-kernel datapath, pushes only the slots that
 * xgw_maglev_diff() reports.  Workers read it with xgw_maglev_pick():
 * table[hash % M], nothing else.
 *
 * Table size: M must be prime so that every skip in [1, M-1] walks a full
 * permutation of the slots (the paper's requirement).  The default 65537 is
 * the paper's and Katran's choice: with M >= 100 * N backends the per-backend
 * share is within about 1% of its weight share, and 65537 u32 slots (256 KiB)
 * still fit in L2.  Larger services may configure a larger prime.
 *
 * By default a service's M follows its backends: xgw_maglev_auto_size()
 * picks the smallest prime of a fixed list (about doubling from 101) with
 * M >= 100 * the sum of the weights, capped at lb.maglev_size.  A service
 * may set its own M ("maglev_size").  A 4-backend service then holds a
 * 401-slot table (1.6 KiB) instead of 256 KiB.
 *
 * Backend id 0 is "none": a table with no backend of weight > 0 is all 0
 * and the caller counts the drop. */
#ifndef XGW_LB_MAGLEV_H
#define XGW_LB_MAGLEV_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/hash.h"

#define XGW_MAGLEV_DEFAULT_SIZE 65537u
/* Sizes above this are refused: 64 Mi slots is already a 256 MiB table. */
#define XGW_MAGLEV_MAX_SIZE (1u << 26)
#define XGW_MAGLEV_NONE	    0u

/* One backend as the control thread describes it.  The key is the
 * backend's identity (see xgw_maglev_endpoint_key): the table depends on
 * the keys and weights only, never on the order of the array or on the ids,
 * so that every xgwd builds the same table for the same backend set. */
struct xgw_maglev_backend {
	uint32_t id;	 /* != 0; what the table slots hold */
	uint32_t weight; /* 0 = draining: no slots */
	const void *key;
	size_t key_len;
};

struct xgw_maglev {
	uint32_t size;	   /* M, prime */
	uint32_t n_active; /* backends with weight > 0 */
	uint32_t refs;	   /* snapshots sharing it (control thread only) */
	uint64_t fastmod;  /* ceil(2^64 / M), see xgw_maglev_pick */
	uint32_t slot[];   /* backend ids, XGW_MAGLEV_NONE where empty */
};

/* Family, 16 address bytes and the port in network order. */
#define XGW_MAGLEV_KEY_LEN 19
void xgw_maglev_endpoint_key(uint8_t key[XGW_MAGLEV_KEY_LEN], const struct xgw_addr *ip,
			     uint16_t port);

/* 0 if m is a usable table size (prime, 2 <= m <= XGW_MAGLEV_MAX_SIZE),
 * else -EINVAL. */
int xgw_maglev_check_size(uint32_t m);

/* The smallest size of the fixed list with M >= 100 * weight_sum (the
 * paper's bound for about 1% imbalance), at least 101, at most cap (which
 * is returned when the list has no such entry below it). */
uint32_t xgw_maglev_auto_size(uint64_t weight_sum, uint32_t cap);

/* Build a table of size m.  Returns NULL with *err set: -EINVAL for a bad
 * size, an id of 0, a duplicate id or a duplicate key; -ENOMEM.  Runs in
 * O(M log M)-ish time for equal weights; with very unequal weights the
 * population loop is bounded by M * n iterations. */
struct xgw_maglev *xgw_maglev_build(uint32_t m, const struct xgw_maglev_backend *b, unsigned n,
				    int *err);
/* One more reference (refs starts at 1); free drops one and frees the
 * table with the last. */
struct xgw_maglev *xgw_maglev_get(struct xgw_maglev *t);
void xgw_maglev_free(struct xgw_maglev *t);

/* Slots whose backend differs between two tables, written in ascending
 * order to changed[] (which must hold nw->size entries, or be NULL to only
 * count).  A NULL old table or one of another size differs everywhere.
 * Returns the number of changed slots. */
uint32_t xgw_maglev_diff(const struct xgw_maglev *old, const struct xgw_maglev *nw,
			 uint32_t *changed);

/* hash % M without a division: Lemire, Kaser & Kurz, "Faster remainder by
 * direct computation" (2019), exact for 32-bit operands.  A 32-bit div is
 * 20-40 cycles on the cores we target, this is two multiplies. */
static inline uint32_t xgw_maglev_index(const struct xgw_maglev *t, uint32_t hash)
{
	uint64_t low = t->fastmod * hash;

	return (uint32_t)(((__uint128_t)low * t->size) >> 64);
}

static inline uint32_t xgw_maglev_pick(const struct xgw_maglev *t, uint32_t hash)
{
	return t->slot[xgw_maglev_index(t, hash)];
}

#endif
