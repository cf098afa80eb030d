/* SPDX-License-Identifier: BSD-3-Clause */
/* Longest-prefix match for the FIB: a multibit trie with a 16-bit root
 * table and 8-bit groups below it (VPP's 16-8-8 mtrie for IPv4, the same
 * strides continued to 128 bits for IPv6), leaf-pushed so that a lookup is
 * one load per level and no comparison.  A lookup of an IPv4 /24 route is
 * two dependent loads.
 *
 * Updated in place, one prefix at a time, by a single writer while workers
 * read (DPDK rte_lpm's scheme): every entry carries the length of the
 * prefix it came from, so an insert overwrites only entries of shorter
 * prefixes and a delete puts back the covering prefix in only the entries
 * that held the deleted one.  Each entry is one aligned 32-bit store, so a
 * reader sees the old or the new value of it; a group is filled before the
 * entry that points to it is published, and a group no longer pointed to
 * is reused only after a grace period (xgw_lpm_reclaim). */
#ifndef XGW_LPM_H
#define XGW_LPM_H

#include <stddef.h>
#include <stdint.h>

/* Entry: the top byte is the prefix length (0..128) of a leaf, or
 * LPM_EXT for a pointer to a group; the low 24 bits are the next-hop
 * index of a leaf (0: no route) or the group index. */
#define XGW_LPM_EXT	  0xff000000u
#define XGW_LPM_VAL_MASK  0x00ffffffu
#define XGW_LPM_MAX_NH	  XGW_LPM_VAL_MASK
#define XGW_LPM_ROOT_BITS 16
#define XGW_LPM_GROUP	  256

struct xgw_lpm {
	uint32_t *root;	  /* 1 << XGW_LPM_ROOT_BITS entries */
	uint32_t *groups; /* reserved address space: max_groups groups */
	uint32_t max_groups;
	uint32_t hiwat;	 /* groups ever handed out (their pages are touched) */
	uint32_t in_use; /* groups reachable from the root */
	unsigned bits;	 /* 32 or 128 */
	/* Control side: groups free now, and groups unlinked since the last
	 * grace period (readers may still be in them). */
	uint32_t *free, *pending;
	uint32_t n_free, n_pending, cap_free, cap_pending;
};

/* max_groups bounds the groups (1 KiB each) the trie may use: address
 * space is reserved for them up front and backed only when used. */
int xgw_lpm_init(struct xgw_lpm *t, unsigned bits, uint32_t max_groups);
void xgw_lpm_fini(struct xgw_lpm *t);
/* Route a (network order, host bits zero) / len to next hop nh (1 ..
 * XGW_LPM_MAX_NH), replacing what that prefix had.  0 or -ENOSPC (no group
 * left: nothing changed) or -ENOMEM. */
int xgw_lpm_add(struct xgw_lpm *t, const uint8_t *a, unsigned len, uint32_t nh);
/* Remove a / len: its addresses fall back to the covering prefix
 * (cover_len, cover_nh), or to no route when cover_nh is 0. */
void xgw_lpm_del(struct xgw_lpm *t, const uint8_t *a, unsigned len, unsigned cover_len,
		 uint32_t cover_nh);
/* Whether groups were unlinked since the last reclaim. */
static inline int xgw_lpm_has_pending(const struct xgw_lpm *t)
{
	return t->n_pending != 0;
}
/* After a grace period: unlinked groups become reusable. */
void xgw_lpm_reclaim(struct xgw_lpm *t);
/* Bytes of memory the trie holds (root plus groups ever used). */
size_t xgw_lpm_bytes(const struct xgw_lpm *t);

/* Append v to a growable array (the writer's free lists); -ENOMEM. */
int xgw_push_u32(uint32_t **arr, uint32_t *n, uint32_t *cap, uint32_t v);

/* The next-hop index for address a (network order), 0 if none.  Safe
 * against a concurrent writer. */
static inline uint32_t xgw_lpm_lookup(const struct xgw_lpm *t, const uint8_t *a)
{
	uint32_t e = __atomic_load_n(&t->root[(uint32_t)a[0] << 8 | a[1]], __ATOMIC_ACQUIRE);
	const uint8_t *p = a + 2;

	/* Acquire: a group's entries were written before the pointer to it. */
	while (e >= XGW_LPM_EXT)
		e = __atomic_load_n(&t->groups[(size_t)(e & XGW_LPM_VAL_MASK) << 8 | *p++],
				    __ATOMIC_ACQUIRE);
	return e & XGW_LPM_VAL_MASK;
}

#endif
