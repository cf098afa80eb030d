/* SPDX-License-Identifier: BSD-3-Clause */
/* A BPF hash map's content as xgwd last wrote it, mirrored in a hash table,
 * so that writing a whole rule set again costs one table probe per rule and
 * a syscall only per key that is new, changed or gone.  (A sorted array
 * and a merge did the same diff, but the sort of every rule was two thirds
 * of a service.add at 10,000 services.)
 *
 * One sync is: xgw_shadow_begin, xgw_shadow_write for every record, the
 * caller's own steps, then xgw_shadow_delete_stale.  Any failure leaves the
 * shadow invalid; the next sync then writes every key and walks the map
 * for the stale ones. */
#ifndef XGW_STEER_SHADOW_H
#define XGW_STEER_SHADOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xgw_shadow {
	uint8_t *slots; /* cap entries of esz bytes: key, u32 value, u32 mark */
	size_t cap, n, ksz, esz;
	/* The mark of the sync in progress; 0 marks an empty slot. */
	uint32_t epoch;
	bool valid;	/* the table equals the map's content */
	bool was_valid; /* ... at xgw_shadow_begin */
};

void xgw_shadow_init(struct xgw_shadow *sh, size_t ksz);
void xgw_shadow_free(struct xgw_shadow *sh);

/* Start a sync of at most n records.  -ENOMEM leaves it invalid. */
int xgw_shadow_begin(struct xgw_shadow *sh, size_t n);

/* Record key -> val for map fd: written to the map unless it holds that
 * value already.  Records are given in reverse input order: a key already
 * written in this sync is skipped, so the last of equal keys in input
 * order wins, as successive updates would make it, without the first one
 * ever reaching the map.  Returns 0 or -errno. */
int xgw_shadow_write(struct xgw_shadow *sh, int fd, const void *key, uint32_t val);

/* Delete from map fd (and the table) every key this sync did not write.
 * Returns 0 or -errno; the shadow is valid afterwards only on 0. */
int xgw_shadow_delete_stale(struct xgw_shadow *sh, int fd);

/* Outside a sync, on a valid shadow: one key written (unless the map
 * holds that value already) or deleted, the table following.  A failure
 * leaves the shadow invalid.  0 or -errno. */
int xgw_shadow_put(struct xgw_shadow *sh, int fd, const void *key, uint32_t val);
int xgw_shadow_del(struct xgw_shadow *sh, int fd, const void *key);

/* Forget the table: the next sync does the whole work. */
static inline void xgw_shadow_invalidate(struct xgw_shadow *sh)
{
	sh->valid = false;
}

#endif
