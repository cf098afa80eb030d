/* SPDX-License-Identifier: BSD-3-Clause */
/* The conntrack table's layout and its read-side fast path, inline, for
 * the LB stage's burst passes (as DPDK keeps struct rte_hash in
 * rte_cuckoo_hash.h for its bulk lookups, and VPP's bihash is all
 * inline): hash, bucket touch, signature scan and the hinted record check
 * cost a call and a prologue each out of line, per packet.  What writes
 * the index is in conntrack.c (removal, expiry, GC) and, for a creation's
 * inserts, conntrack_create.h; only conntrack.c and the LB stage include
 * this header.
 * Design and costs: conntrack.h. */
#ifndef XGW_CONNTRACK_FAST_H
#define XGW_CONNTRACK_FAST_H

#include <netinet/in.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lb/conntrack.h"

#define XGW_CT_BUCKET_SLOTS 7

/* A record's lifecycle (struct xgw_ct_conn.life).  FREE: in the pool.
 * NEW: being created, in no slot yet, invisible to every walker, so a
 * creation that fails before publishing returns the record at once,
 * without a grace period (a worker losing a creation race must not pin a
 * record).  LIVE: published.  DEAD: unlinked, waiting for its grace
 * period. */
enum xgw_ct_life { XGW_CT_L_FREE = 0, XGW_CT_L_LIVE, XGW_CT_L_DEAD, XGW_CT_L_NEW };

/* One cache line: a writer lock (inserts only), the number of keys whose
 * home is this bucket but that overflowed to a later one (lookups stop at
 * the home bucket when it is 0), and 7 slots. */
struct xgw_ct_bucket {
	_Atomic uint32_t lock;
	_Atomic uint32_t overflow;
	_Atomic uint64_t slot[XGW_CT_BUCKET_SLOTS];
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct xgw_ct_bucket) == 64, "bucket is one line");

struct xgw_ct_cache;

struct xgw_ct_table {
	/* read-mostly */
	struct xgw_ct_cache *caches; /* [XGW_CT_CACHES], or NULL: no per-worker caches */
	struct xgw_ct_bucket *buckets;
	uint64_t mask;
	struct xgw_ct_conn *pool;
	uint32_t pool_size;
	uint32_t max_entries;
	uint64_t hk[5]; /* hash secrets, from a per-table seed */
	uint64_t to_tcp[XGW_CT_STATE__MAX];
	uint64_t to_udp, to_other;

	/* written on create/delete only, each on its own line */
	alignas(64) _Atomic uint64_t free_head; /* tag << 32 | (index + 1) */
	alignas(64) _Atomic uint32_t fresh;	/* records never used start here */
	alignas(64) _Atomic int64_t live;
	alignas(64) _Atomic uint32_t evict_cursor;
	alignas(64) _Atomic uint64_t n_created, n_full, n_evicted, n_evicted_embryonic,
	    n_bucket_full, n_expired, n_races_lost, n_reused;
	uint32_t gc_cursor; /* control thread only */
	_Atomic uint64_t *closed; /* [XGW_CT_SLOTS]: ended connections by slot */
};

static inline uint64_t xgw_ct_w8(const struct xgw_ct_tuple *k, int i)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)k + 8 * i, 8);
	return v;
}

/* wyhash's mixing step: the 128-bit product of two 64-bit words folded
 * to 64 bits, one multiply instruction on x86-64 and arm64. */
static inline uint64_t xgw_ct_mum(uint64_t a, uint64_t b)
{
	__extension__ unsigned __int128 r = (unsigned __int128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* The hash of an IPv4 key from its three varying words: a = word 1 (the
 * source address, zero-extended), d = word 4 (the destination), pw =
 * word 6 (ports, protocol, family).  Either byte order puts the two
 * addresses in opposite halves. */
/* xgw_ct_hash4 with its ports word keyed already (pwk = pw ^ t->hk[1]):
 * the LB stage's burst pass keys a run of reply keys' protocol and family
 * once. */
static inline uint64_t xgw_ct_hash4_keyed(const struct xgw_ct_table *t, uint64_t a, uint64_t d,
					  uint64_t pwk)
{
	const uint64_t *s = t->hk;

	return xgw_ct_mum(xgw_ct_mum(a ^ (d << 32 | d >> 32) ^ s[0], pwk) ^ s[2], s[3]);
}

static inline uint64_t xgw_ct_hash4(const struct xgw_ct_table *t, uint64_t a, uint64_t d,
				    uint64_t pw)
{
	return xgw_ct_hash4_keyed(t, a, d, pw ^ t->hk[1]);
}

/* wyhash-style, keyed by the per-table secrets.  An IPv4 key has only
 * three words that vary (words 0 and 3 are the families, 2 and 5 zero by
 * the key's contract): the two addresses packed into one word, and the
 * ports/protocol word, two multiplies in all.  The 7-round multiply-
 * xorshift chain this replaces cost ~52 instructions per hash with the
 * call (callgrind, established-1k), this ~28 with the call, ~12 inline.
 * Only a function of the key, as a hash must be: v4 keys never equal v6
 * keys (the family byte differs). */
static inline uint64_t xgw_ct_hash_fast(const struct xgw_ct_table *t, const struct xgw_ct_tuple *k)
{
	const uint64_t *s = t->hk;
	uint64_t h;

	if (k->family == AF_INET)
		return xgw_ct_hash4(t, xgw_ct_w8(k, 1), xgw_ct_w8(k, 4), xgw_ct_w8(k, 6));
	h = xgw_ct_mum(xgw_ct_w8(k, 0) ^ s[0], xgw_ct_w8(k, 1) ^ s[1]);
	h = xgw_ct_mum(xgw_ct_w8(k, 2) ^ s[2], xgw_ct_w8(k, 3) ^ h);
	h = xgw_ct_mum(xgw_ct_w8(k, 4) ^ s[3], xgw_ct_w8(k, 5) ^ h);
	h = xgw_ct_mum(xgw_ct_w8(k, 6) ^ s[1], h ^ s[4]);
	return xgw_ct_mum(h ^ s[2], s[3]);
}

/* xgw_ct_hash_fast of the key xgw_ct_tuple_init(src, sport, dst, dport,
 * proto) builds, without building it: for an IPv4 src, the key's words 1
 * and 4 are the addresses' first words and word 6 the ports, protocol and
 * family (little-endian layout).  A new flow's reply key, hashed by the
 * burst pass before the flow exists: the memset and field stores of the
 * key cost ~25 instructions per new flow (callgrind, new-flows). */
static inline uint64_t xgw_ct_hash_of(const struct xgw_ct_table *t, const struct xgw_addr *src,
				      uint16_t sport, const struct xgw_addr *dst, uint16_t dport,
				      uint8_t proto)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (src->family == AF_INET) {
		uint64_t pw = (uint64_t)sport | (uint64_t)dport << 16 | (uint64_t)proto << 32 |
			      (uint64_t)AF_INET << 40;
		return xgw_ct_hash4(t, src->q[0], dst->q[0], pw);
	}
#endif
	struct xgw_ct_tuple k;

	xgw_ct_tuple_init(&k, src, sport, dst, dport, proto);
	return xgw_ct_hash_fast(t, &k);
}

static inline struct xgw_ct_conn *xgw_ct_slot_conn(const struct xgw_ct_table *t, uint64_t v)
{
	return &t->pool[((uint32_t)v >> 1) - 1];
}

/* xgw_ct_prefetch_w, inline. */
static inline void xgw_ct_prefetch_w_fast(const struct xgw_ct_table *t, uint64_t h)
{
	__builtin_prefetch(&t->buckets[h & t->mask], 1);
}

/* xgw_ct_touch, inline. */
static inline uint32_t xgw_ct_touch_fast(const struct xgw_ct_table *t, uint64_t h)
{
	return atomic_load_explicit(&t->buckets[h & t->mask].overflow, memory_order_relaxed);
}

/* The slot word of the bucket b whose signature is h's (the first one:
 * a second match of a 32-bit signature is a 2^-32 event, and the lookup
 * checks the key and falls back to a full scan), else 0. */
static inline uint64_t xgw_ct_sig_scan(const struct xgw_ct_bucket *b, uint64_t h)
{
	uint64_t sig = h & ~0xffffffffull;

	/* Unrolled, one compare per slot: a miss scans all seven, and the
	 * plain loop cost ~64 instructions per miss (route-only). */
#pragma GCC unroll 7
	for (unsigned i = 0; i < XGW_CT_BUCKET_SLOTS; i++) {
		/* acquire: the hint is used as a slot read (see
		 * xgw_ct_lookup_hash) */
		uint64_t v = atomic_load_explicit(&b->slot[i], memory_order_acquire);
		if ((v ^ sig) >> 32 || !v)
			continue;
		return v;
	}
	return 0;
}

/* A record's two hot lines (struct xgw_ct_conn), prefetched.  c may be
 * NULL (the worker's packet loop prefetches whatever entry is ahead): a
 * prefetch never faults, and the second line's address is integer
 * arithmetic, since an offset applied to a null pointer is undefined. */
static inline void xgw_ct_conn_prefetch(const struct xgw_ct_conn *c)
{
	__builtin_prefetch(c);
	__builtin_prefetch((const void *)((uintptr_t)c + 64));
}

/* The record slot word v names, its two hot lines prefetched. */
static inline struct xgw_ct_conn *xgw_ct_slot_prefetch(struct xgw_ct_conn *pool, uint64_t v)
{
	struct xgw_ct_conn *c = &pool[((uint32_t)v >> 1) - 1]; /* xgw_ct_slot_conn */

	xgw_ct_conn_prefetch(c);
	return c;
}

/* The hint of a bucket with no slot of h's signature: 0 when no key
 * overflowed from it (h's key is in no bucket), else XGW_CT_HINT_NONE. */
static inline uint64_t xgw_ct_miss_hint(const struct xgw_ct_bucket *b)
{
	return atomic_load_explicit(&b->overflow, memory_order_relaxed) ? XGW_CT_HINT_NONE : 0;
}

/* xgw_ct_prefetch_conn, inline: *conn gets the record a slot-word hint
 * names (NULL for hints 0 and XGW_CT_HINT_NONE). */
static inline uint64_t xgw_ct_hint_fast(const struct xgw_ct_table *t, uint64_t h,
					struct xgw_ct_conn **conn)
{
	const struct xgw_ct_bucket *b = &t->buckets[h & t->mask];
	uint64_t v = xgw_ct_sig_scan(b, h);

	if (v) {
		*conn = xgw_ct_slot_prefetch(t->pool, v);
		return v;
	}
	*conn = NULL;
	return xgw_ct_miss_hint(b);
}

/* A stored tuple against a key: the key's words 1, 2, 4, 5, 6 (its two
 * address family words are implied by the family byte in word 6). */
static inline uint64_t xgw_ct_cw8(const struct xgw_ct_ctuple *c, int i)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)c + 8 * i, 8); /* fields are bytes: no aliasing cast */
	return v;
}

/* The stored tuple's word 4 without nat_csum (the key's padding there is
 * zero, the record's translation is not part of the key). */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define XGW_CT_W4_KEY_MASK 0x0000ffffffffffffull
#else
#define XGW_CT_W4_KEY_MASK 0xffffffffffff0000ull
#endif

static inline bool xgw_ct_tuple_eq(const struct xgw_ct_ctuple *a, const struct xgw_ct_tuple *k)
{
	return ((xgw_ct_cw8(a, 0) ^ xgw_ct_w8(k, 1)) | (xgw_ct_cw8(a, 1) ^ xgw_ct_w8(k, 2)) |
		(xgw_ct_cw8(a, 2) ^ xgw_ct_w8(k, 4)) | (xgw_ct_cw8(a, 3) ^ xgw_ct_w8(k, 5)) |
		((xgw_ct_cw8(a, 4) ^ xgw_ct_w8(k, 6)) & XGW_CT_W4_KEY_MASK)) == 0;
}

/* xgw_ct_tuple_eq for an IPv4 key: words 1 and 3 of the stored tuple
 * (the addresses' bytes 8-15) are zero in every IPv4 record (the key's
 * contract: a v4 address is zero-padded), as the key's words 2 and 5 are,
 * and word 4 holds the family byte, so the three other words decide. */
static inline bool xgw_ct_tuple_eq4(const struct xgw_ct_ctuple *a, const struct xgw_ct_tuple *k)
{
	return ((xgw_ct_cw8(a, 0) ^ xgw_ct_w8(k, 1)) | (xgw_ct_cw8(a, 2) ^ xgw_ct_w8(k, 4)) |
		((xgw_ct_cw8(a, 4) ^ xgw_ct_w8(k, 6)) & XGW_CT_W4_KEY_MASK)) == 0;
}

static inline uint64_t xgw_ct_timeout_fast(const struct xgw_ct_table *t, uint8_t proto,
					   enum xgw_ct_state s)
{
	if (proto == IPPROTO_TCP)
		return t->to_tcp[s < XGW_CT_STATE__MAX ? s : XGW_CT_CLOSE];
	return proto == IPPROTO_UDP ? t->to_udp : t->to_other;
}

static inline bool xgw_ct_expired_fast(const struct xgw_ct_table *t, const struct xgw_ct_conn *c,
				       uint64_t now)
{
	uint64_t seen = atomic_load_explicit(&c->last_seen, memory_order_relaxed);

	/* Another worker may have stored a slightly later now than ours. */
	if (now <= seen)
		return false;
	return now - seen >
	       xgw_ct_timeout_fast(t, c->orig.proto,
				   atomic_load_explicit(&c->state, memory_order_relaxed));
}

#endif
