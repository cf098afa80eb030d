/* SPDX-License-Identifier: BSD-3-Clause */
/* The conntrack creation path, inline: admission from the worker's cache,
 * the record fill and the two key inserts (xgw_ct_create_words), for the LB
 * stage's new flow as conntrack_fast.h is its read side.  Out of line, the
 * call into conntrack.c, its prologue and epilogue and the struct
 * xgw_ct_init passed through memory cost ~50 instructions per new flow
 * (callgrind, new-flows).  The rare branches (a cache refill, eviction, a
 * lost race's rollback, the overflow path's lookup) stay calls into
 * conntrack.c.  Only conntrack.c and the LB stage include this header.
 * Design and costs: conntrack.h. */
#ifndef XGW_CONNTRACK_CREATE_H
#define XGW_CONNTRACK_CREATE_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/csum.h"
#include "common/hdr.h"
#include "lb/conntrack.h"
#include "lb/conntrack_fast.h"

#define XGW_CT_LD(p)	atomic_load_explicit(p, memory_order_relaxed)
#define XGW_CT_ST(p, v) atomic_store_explicit(p, v, memory_order_relaxed)
#define XGW_CT_INC(p)	atomic_fetch_add_explicit(p, 1, memory_order_relaxed)

/* A worker's creation cache (struct xgw_ct_init.cache): written by its
 * worker only, with relaxed atomic loads and stores (no read-modify-write),
 * read by the stats. */
#define XGW_CT_CACHE_MAX   32
#define XGW_CT_CACHE_BATCH 16 /* records and admissions taken at once */
struct xgw_ct_cache {
	_Atomic int64_t credit;	  /* admissions counted in live, not used yet */
	_Atomic uint64_t created; /* this worker's share of n_created */
	uint32_t n;		  /* free records in idx */
	uint32_t idx[XGW_CT_CACHE_MAX];
} __attribute__((aligned(64)));

/* conntrack.c's out-of-line steps of a creation. */
struct xgw_ct_conn *xgw_ct_pool_pop(struct xgw_ct_table *t);
void xgw_ct_pool_push(struct xgw_ct_table *t, struct xgw_ct_conn *c);
void xgw_ct_cache_refill(struct xgw_ct_table *t, struct xgw_ct_cache *k);
unsigned xgw_ct_evict(struct xgw_ct_table *t, uint64_t now, bool embryonic);
void xgw_ct_kill_expired(struct xgw_ct_table *t, struct xgw_ct_conn *c);
void xgw_ct_unlink_key(struct xgw_ct_table *t, struct xgw_ct_conn *c, enum xgw_ct_dir d);
/* The hash of key k, or with k NULL of the stored tuple mine: an insert
 * given no hash (out of line, as rare: the LB stage passes both of a
 * creation's). */
uint64_t xgw_ct_insert_hash(const struct xgw_ct_table *t, const struct xgw_ct_tuple *k,
			    const struct xgw_ct_ctuple *mine);
/* xgw_ct_insert_key's general path, with home's lock held. */
int xgw_ct_insert_overflow(struct xgw_ct_table *t, struct xgw_ct_conn *c, uint64_t nv,
			   enum xgw_ct_dir d, const struct xgw_ct_tuple *k, uint64_t h,
			   uint64_t now, struct xgw_ct_conn **exist);

/* A stored tuple's five words (struct xgw_ct_ctuple) in registers: a
 * creation builds both tuples' words once, derives the translation's
 * checksum differences from them and stores each word once, word 4 with
 * its nat_csum (through the record, field by field, the differences
 * reloaded what had just been stored and cost ~40 instructions per new
 * flow, callgrind new-flows). */
struct xgw_ct_words {
	uint64_t w[5];
};

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define XGW_CT_W_LO32(w)    ((uint32_t)(w))	   /* a word's bytes 0-3 */
#define XGW_CT_W4_FAMILY_SHIFT 40		      /* word 4's family byte */
#define XGW_CT_W4_NAT_SHIFT 48			   /* word 4's nat_csum */
#else
#define XGW_CT_W_LO32(w)    ((uint32_t)((w) >> 32))
#define XGW_CT_W4_FAMILY_SHIFT 16
#define XGW_CT_W4_NAT_SHIFT 0
#endif

/* A key's words 1, 2, 4, 5 and 6 (its ports, protocol and family, the
 * padding's place zeroed for nat_csum). */
static inline struct xgw_ct_words xgw_ct_key_words(const struct xgw_ct_tuple *k)
{
	_Static_assert(offsetof(struct xgw_ct_tuple, src.b) == 8 &&
			   offsetof(struct xgw_ct_tuple, dst.b) == 32 &&
			   offsetof(struct xgw_ct_tuple, sport) == 48 &&
			   offsetof(struct xgw_ct_ctuple, sport) == 32,
		       "stored tuple words");
	return (struct xgw_ct_words){{xgw_ct_w8(k, 1), xgw_ct_w8(k, 2), xgw_ct_w8(k, 4),
				      xgw_ct_w8(k, 5), xgw_ct_w8(k, 6) & XGW_CT_W4_KEY_MASK}};
}

/* Five word stores: field by field the last word cost ~8 instructions per
 * tuple (callgrind, new-flows). */
static inline void xgw_ct_ctuple_put(struct xgw_ct_ctuple *c, const struct xgw_ct_words *w)
{
	uint8_t *d = (uint8_t *)c;

	/* each word stored on its own: an array is built on the stack first */
	memcpy(d, &w->w[0], 8);
	memcpy(d + 8, &w->w[1], 8);
	memcpy(d + 16, &w->w[2], 8);
	memcpy(d + 24, &w->w[3], 8);
	memcpy(d + 32, &w->w[4], 8);
}

/* The checksum differences of an IPv4 connection's ORIG direction
 * (struct xgw_ct_ctuple.nat_csum) into word 4 of o (the IPv4 header's)
 * and r (the TCP/UDP checksum's): the sums xgw_nat4_ports makes per
 * packet from the packet's fields (equal to orig's, which the packet's
 * key matched) and reply's, folded once here.  A fold is 0 only for a
 * zero sum, for which adding 0 is what the sum adds.  Other connections
 * keep 0 there. */
static inline void xgw_ct_nat_csum_words(struct xgw_ct_words *o, struct xgw_ct_words *r)
{
	const uint64_t fam = (uint64_t)0xff << XGW_CT_W4_FAMILY_SHIFT,
		       v4 = (uint64_t)AF_INET << XGW_CT_W4_FAMILY_SHIFT;

	/* both families AF_INET, in one test */
	if (((o->w[4] ^ v4) | (r->w[4] ^ v4)) & fam)
		return;
	uint32_t rp =
	    XGW_CT_W_LO32(r->w[4]); /* reply's ports; swapped: the new source, destination */
	/* ~a + ~b as 2 * 0xffffffff - a - b: the same sum, fewer moves */
	uint64_t da = 0x1fffffffeull - XGW_CT_W_LO32(o->w[0]) - XGW_CT_W_LO32(o->w[2]) +
		      XGW_CT_W_LO32(r->w[0]) + XGW_CT_W_LO32(r->w[2]);
	uint64_t d4 = da + (uint32_t)~XGW_CT_W_LO32(o->w[4]) + (rp >> 16 | rp << 16);

	o->w[4] |= (uint64_t)xgw_csum_fold(da) << XGW_CT_W4_NAT_SHIFT;
	r->w[4] |= (uint64_t)xgw_csum_fold(d4) << XGW_CT_W4_NAT_SHIFT;
}

/* xgw_ct_hash of the key a stored tuple is (an IPv4 one from its words,
 * as xgw_ct_hash_fast reads the key). */
static inline uint64_t xgw_ct_ctuple_hash(const struct xgw_ct_table *t,
					  const struct xgw_ct_ctuple *c)
{
	struct xgw_ct_tuple k;

	if (c->family == AF_INET)
		return xgw_ct_hash4(t, xgw_ct_cw8(c, 0), xgw_ct_cw8(c, 2),
				    xgw_ct_cw8(c, 4) & XGW_CT_W4_KEY_MASK);
	xgw_ct_ctuple_key(&k, c);
	return xgw_ct_hash_fast(t, &k);
}

/* Two stored tuples, as keys (without nat_csum). */
static inline bool xgw_ct_ctuple_eq(const struct xgw_ct_ctuple *a, const struct xgw_ct_ctuple *b)
{
	return ((xgw_ct_cw8(a, 0) ^ xgw_ct_cw8(b, 0)) | (xgw_ct_cw8(a, 1) ^ xgw_ct_cw8(b, 1)) |
		(xgw_ct_cw8(a, 2) ^ xgw_ct_cw8(b, 2)) | (xgw_ct_cw8(a, 3) ^ xgw_ct_cw8(b, 3)) |
		((xgw_ct_cw8(a, 4) ^ xgw_ct_cw8(b, 4)) & XGW_CT_W4_KEY_MASK)) == 0;
}

/* The slot word's record bits: (index + 1) << 1 (a pointer difference
 * is a shift and a multiply by the inverse of the record size: once per
 * creation, not once per key; a creation from the worker's cache takes
 * them from the index it pops instead, xgw_ct_cache_pop). */
static inline uint64_t xgw_ct_slot_rec(const struct xgw_ct_table *t, const struct xgw_ct_conn *c)
{
	return ((uint64_t)(c - t->pool) + 1) << 1;
}

static inline uint64_t xgw_ct_slot_val_rec(uint64_t rec, enum xgw_ct_dir d, uint64_t h)
{
	return (h >> 32) << 32 | rec | (uint64_t)d;
}

/* A TCP connection's first state from its first packet's flags: RST,
 * SYN and ACK decide (XGW_CT_TCP_SYN_MASK).  Picked up mid-stream (e.g.
 * after a restart): trust it, as cilium does; policy has already run on
 * this packet. */
#define XGW_CT_TCP_INITIAL(tf)                                                                     \
	(((tf)&XGW_TCP_RST)				       ? XGW_CT_CLOSE                      \
	 : ((tf) & (XGW_TCP_SYN | XGW_TCP_ACK)) == XGW_TCP_SYN ? XGW_CT_SYN_SENT                   \
							       : XGW_CT_ESTABLISHED)
#define XGW_CT_TCP_INITIAL4(i)                                                                     \
	XGW_CT_TCP_INITIAL(i), XGW_CT_TCP_INITIAL(i + 1), XGW_CT_TCP_INITIAL(i + 2),               \
	    XGW_CT_TCP_INITIAL(i + 3)

/* XGW_CT_TCP_INITIAL by the deciding flags, one load per creation (the two tests
 * cost ~10 instructions, callgrind new-flows). */
static const uint8_t xgw_ct_tcp_initial_of[XGW_CT_TCP_SYN_MASK + 1] = {
    XGW_CT_TCP_INITIAL4(0),  XGW_CT_TCP_INITIAL4(4),  XGW_CT_TCP_INITIAL4(8),
    XGW_CT_TCP_INITIAL4(12), XGW_CT_TCP_INITIAL4(16), XGW_CT_TCP_INITIAL(20),
    XGW_CT_TCP_INITIAL(21),  XGW_CT_TCP_INITIAL(22)};

static inline enum xgw_ct_state xgw_ct_tcp_initial(uint8_t tf)
{
	return (enum xgw_ct_state)xgw_ct_tcp_initial_of[tf & XGW_CT_TCP_SYN_MASK];
}

static inline void xgw_ct_prefetch_record_w(const struct xgw_ct_conn *c)
{
	__builtin_prefetch((const char *)c, 1);
	__builtin_prefetch((const char *)c + 64, 1);
	__builtin_prefetch((const char *)c + 128, 1);
}

static inline struct xgw_ct_conn *xgw_ct_cache_pop(struct xgw_ct_table *t, struct xgw_ct_cache *k,
						   uint64_t *rec)
{
	struct xgw_ct_conn *c;
	uint32_t i;

	if (!k->n)
		xgw_ct_cache_refill(t, k);
	if (!k->n)
		return NULL;
	i = k->idx[--k->n];
	c = &t->pool[i];
	*rec = ((uint64_t)i + 1) << 1; /* xgw_ct_slot_rec, from the index */
	/* The next creation writes all three lines of the next record. */
	if (k->n)
		xgw_ct_prefetch_record_w(&t->pool[k->idx[k->n - 1]]);
	return c;
}

static inline void xgw_ct_bucket_lock(struct xgw_ct_bucket *b)
{
	while (atomic_exchange_explicit(&b->lock, 1, memory_order_acquire))
		while (XGW_CT_LD(&b->lock))
			caa_cpu_relax();
}

static inline void xgw_ct_bucket_unlock(struct xgw_ct_bucket *b)
{
	atomic_store_explicit(&b->lock, 0, memory_order_release);
}

/* The connection slot word v names if it is live, not expired at now, and
 * its tuple in v's direction is the one wanted: the key k, or with k NULL
 * the stored tuple mine (a creation's reply, which it has in that form
 * only); else NULL (an expired one is unlinked on the spot, so that a new
 * flow on the same tuple can start).  The one test behind every lookup,
 * the hinted one and an insert's uniqueness check; inlined into each (it
 * is most of one), the rare unlink is not. */
static inline __attribute__((always_inline)) struct xgw_ct_conn *
xgw_ct_slot_match_as(struct xgw_ct_table *t, uint64_t v, const struct xgw_ct_tuple *k,
		     const struct xgw_ct_ctuple *mine, uint64_t now)
{
	struct xgw_ct_conn *c = xgw_ct_slot_conn(t, v);
	const struct xgw_ct_ctuple *ct = xgw_ct_ctuple_of(c, (enum xgw_ct_dir)(v & 1));

	if (!(k ? xgw_ct_tuple_eq(ct, k) : xgw_ct_ctuple_eq(ct, mine)) ||
	    XGW_CT_LD(&c->life) != XGW_CT_L_LIVE)
		return NULL;
	if (xgw_ct_expired_fast(t, c, now)) {
		xgw_ct_kill_expired(t, c);
		return NULL;
	}
	return c;
}

/* Claim an empty slot for slot word nv of record c by CAS (other buckets'
 * inserters may race for it as an overflow slot); release publishes the
 * record.  publish: c's first key (the reply's), so c is still NEW (only
 * a LIVE record is ever killed) and becomes LIVE here; the second key's
 * record is LIVE already, or DEAD if a flush came between (a constant at
 * each call: no load of life).  The record is live before the caller
 * unlocks its home bucket: the next inserter of the key must see it (the
 * unlock's release orders it; no full barrier).  seen_free: the caller
 * read the slot as 0 a moment ago (no plain load before the CAS). */
static inline bool xgw_ct_claim_slot(_Atomic uint64_t *slot, uint64_t nv, struct xgw_ct_conn *c,
				     bool publish, bool seen_free)
{
	uint64_t cur = 0;

	if ((!seen_free && XGW_CT_LD(slot)) ||
	    !atomic_compare_exchange_strong_explicit(slot, &cur, nv, memory_order_release,
						     memory_order_relaxed))
		return false;
	if (publish)
		atomic_store_explicit(&c->life, XGW_CT_L_LIVE, memory_order_release);
	return true;
}

/* Insert key (c, d), that is c's tuple d (k: the same as a key, or NULL;
 * h its hash, or 0), unless a live connection already has it (then
 * *exist).  Serialised per home bucket, so of two workers inserting the
 * same key one finds the other's.  0, -EEXIST or -ENOSPC.  The reply's
 * key is inserted first (xgw_ct_create) and publishes the record.  Inline
 * in xgw_ct_create's calls: out of line its prologue and epilogue cost
 * ~20 instructions per key (callgrind, new-flows). */
static inline __attribute__((always_inline)) int
xgw_ct_insert_key(struct xgw_ct_table *t, struct xgw_ct_conn *c, uint64_t rec, enum xgw_ct_dir d,
		  const struct xgw_ct_tuple *k, uint64_t h, bool hashed, uint64_t now,
		  struct xgw_ct_conn **exist)
{
	const struct xgw_ct_ctuple *mine = xgw_ct_ctuple_of(c, d);
	bool publish = d == XGW_CT_REPLY;

	if (!hashed && __builtin_expect(!h, 0))
		h = xgw_ct_insert_hash(t, k, mine);
	uint64_t nv = xgw_ct_slot_val_rec(rec, d, h);
	struct xgw_ct_bucket *home = &t->buckets[h & t->mask];
	int ret = -ENOSPC;

	xgw_ct_bucket_lock(home);
	/* The usual case, no key of this home bucket overflowed: one pass
	 * over its seven slots both checks that the key is absent and finds a
	 * free slot (a lookup and then an insert scan cost ~230 instructions
	 * per key, callgrind, new-flows). */
	if (!XGW_CT_LD(&home->overflow)) {
		uint32_t sig = (uint32_t)(h >> 32);
		int free = -1;

#pragma GCC unroll 7
		for (unsigned i = 0; i < XGW_CT_BUCKET_SLOTS; i++) {
			uint64_t v = atomic_load_explicit(&home->slot[i], memory_order_acquire);
			if (!v) {
				if (free < 0)
					free = (int)i;
				continue;
			}
			if ((uint32_t)(v >> 32) != sig)
				continue;
			struct xgw_ct_conn *o = xgw_ct_slot_match_as(t, v, k, mine, now);
			if (!o)
				continue;
			*exist = o;
			ret = -EEXIST;
			goto out;
		}
		/* Another bucket's inserter may have taken the free slot for
		 * its overflow meanwhile: then the general path below. */
		if (free >= 0 && xgw_ct_claim_slot(&home->slot[free], nv, c, publish, true)) {
			ret = 0;
			goto out;
		}
	}
	ret = xgw_ct_insert_overflow(t, c, nv, d, k, h, now, exist);
out:
	xgw_ct_bucket_unlock(home);
	return ret;
}

static inline __attribute__((always_inline)) struct xgw_ct_conn *
xgw_ct_admit(struct xgw_ct_table *t, struct xgw_ct_cache *k, uint64_t now, uint64_t *rec)
{
	struct xgw_ct_conn *c;

	if (k) {
		/* Room taken XGW_CT_CACHE_BATCH at a time while the table has it;
		 * near max_entries one at a time, as without a cache. */
		int64_t cr = XGW_CT_LD(&k->credit);
		if (cr > 0) {
			XGW_CT_ST(&k->credit, cr - 1);
		} else if (atomic_fetch_add(&t->live, XGW_CT_CACHE_BATCH) + XGW_CT_CACHE_BATCH <=
			   (int64_t)t->max_entries) {
			XGW_CT_ST(&k->credit, XGW_CT_CACHE_BATCH - 1);
		} else {
			atomic_fetch_sub(&t->live, XGW_CT_CACHE_BATCH);
			goto one;
		}
		c = xgw_ct_cache_pop(t, k, rec);
		if (c)
			return c;
		goto full_undo;
	}
one:
	if (atomic_fetch_add(&t->live, 1) >= (int64_t)t->max_entries) {
		atomic_fetch_sub(&t->live, 1);
		if (!xgw_ct_evict(t, now, false) && !xgw_ct_evict(t, now, true))
			goto full;
		if (atomic_fetch_add(&t->live, 1) >= (int64_t)t->max_entries)
			goto full_undo; /* others took the room we made */
	}
	if (k) {
		c = xgw_ct_cache_pop(t, k, rec);
	} else {
		c = xgw_ct_pool_pop(t);
		if (c)
			*rec = xgw_ct_slot_rec(t, c);
	}
	if (c)
		return c;
	/* Every spare record is waiting for its grace period. */
full_undo:
	atomic_fetch_sub(&t->live, 1);
full:
	XGW_CT_INC(&t->n_full);
	return NULL;
}

/* The table's per-worker cache of struct xgw_ct_init.cache (NULL: none). */
static inline struct xgw_ct_cache *xgw_ct_cache_of(struct xgw_ct_table *t, uint16_t cache)
{
	uint32_t ci = cache - 1u; /* cache 0 (none) wraps */

	return ci < XGW_CT_CACHES && t->caches ? &t->caches[ci] : NULL;
}

/* xgw_ct_create with the reply tuple as its stored words rw (nat_csum
 * 0), inline in its two entry points; k is xgw_ct_cache_of(t,
 * init->cache), which the LB stage finds once per burst. */
static inline __attribute__((always_inline)) int
xgw_ct_create_words(struct xgw_ct_table *t, const struct xgw_ct_tuple *orig, struct xgw_ct_words rw,
		    const struct xgw_ct_init *init, struct xgw_ct_cache *k, bool hashed,
		    uint64_t now, struct xgw_ct_conn **out)
{
	struct xgw_ct_words ow = xgw_ct_key_words(orig);
	struct xgw_ct_conn *c, *e = NULL;
	uint64_t rec = 0;
	int r;

	c = xgw_ct_admit(t, k, now, &rec);
	if (!c)
		return -ENOSPC;
	xgw_ct_nat_csum_words(&ow, &rw);
	xgw_ct_ctuple_put(&c->orig, &ow);
	xgw_ct_ctuple_put(&c->reply, &rw);
	c->backend_id = init->backend_id;
	c->service_id = init->service_id;
	c->slot = init->slot & (XGW_CT_SLOTS - 1); /* in range (a power of two) */
	c->uncounted = false;
	c->owner = t;
	XGW_CT_ST(&c->state,
		  orig->proto == IPPROTO_TCP ? xgw_ct_tcp_initial(init->tcp_flags) : XGW_CT_NONE);
	XGW_CT_ST(&c->flags, init->snat ? XGW_CT_F_SNAT : 0);
	XGW_CT_ST(&c->pkts[XGW_CT_ORIG], init->first_bytes != 0);
	XGW_CT_ST(&c->bytes[XGW_CT_ORIG], init->first_bytes);
	XGW_CT_ST(&c->pkts[XGW_CT_REPLY], 0);
	XGW_CT_ST(&c->bytes[XGW_CT_REPLY], 0);
	XGW_CT_ST(&c->last_seen, now);
	/* Relaxed: no lookup can reach the record before the release CAS that
	 * publishes its first slot, and the pool walks (GC, eviction, flush,
	 * foreach) act on LIVE records only (a seq_cst store is a full
	 * barrier, an xchg on x86-64, on every creation). */
	atomic_store_explicit(&c->life, XGW_CT_L_NEW, memory_order_relaxed);

	/* Reply first, never overwriting: once it is in, nobody else can take
	 * this backend-side tuple (cilium's snat_v4_new_mapping order). */
	r = xgw_ct_insert_key(t, c, rec, XGW_CT_REPLY, NULL, init->hash[XGW_CT_REPLY], hashed, now,
			      &e);
	if (r == -EEXIST && !xgw_ct_tuple_eq(&e->orig, orig) &&
	    xgw_ct_syn_reopens(e, init->tcp_flags)) {
		/* Another connection's backend tuple (two VIPs onto one
		 * backend, and the client reused its port: it may, the
		 * destination differs), closed: a new SYN takes it over, as
		 * the backend's own TIME_WAIT socket accepts one.  Both of the
		 * old keys go, so none of its late packets is translated onto
		 * the new connection.  A live one refuses the new flow. */
		if (xgw_ct_delete(t, e))
			XGW_CT_INC(&t->n_reused);
		r = xgw_ct_insert_key(t, c, rec, XGW_CT_REPLY, NULL, init->hash[XGW_CT_REPLY],
				      hashed, now, &e);
	}
	if (r) {
		/* Never published: straight back to the pool. */
		atomic_store(&c->life, XGW_CT_L_FREE);
		atomic_fetch_sub(&t->live, 1);
		xgw_ct_pool_push(t, c);
		if (r == -EEXIST && xgw_ct_tuple_eq(&e->orig, orig)) {
			/* Same flow, created by another worker a moment ago. */
			XGW_CT_INC(&t->n_races_lost);
			*out = e;
			return 1;
		}
		if (r == -ENOSPC)
			XGW_CT_INC(&t->n_bucket_full);
		return r;
	}
	r = xgw_ct_insert_key(t, c, rec, XGW_CT_ORIG, orig, init->hash[XGW_CT_ORIG], hashed, now,
			      &e);
	if (r == -EEXIST) {
		/* Lost the race with another SNAT port, or the flow exists:
		 * roll back our reply key, use theirs.  Nobody counted this
		 * record as opened: its end is not counted either. */
		c->uncounted = true;
		xgw_ct_delete(t, c);
		XGW_CT_INC(&t->n_races_lost);
		*out = e;
		return 1;
	}
	if (r)
		goto fail;
	/* A flush may have killed the record between our two inserts and
	 * missed the original key: remove it ourselves (CAS, idempotent). */
	if (XGW_CT_LD(&c->life) != XGW_CT_L_LIVE)
		xgw_ct_unlink_key(t, c, XGW_CT_ORIG);
	if (k)
		XGW_CT_ST(&k->created, XGW_CT_LD(&k->created) + 1);
	else
		XGW_CT_INC(&t->n_created);
	*out = c;
	return 0;
fail:
	if (r == -ENOSPC)
		XGW_CT_INC(&t->n_bucket_full);
	c->uncounted = true; /* never created: its end is not counted */
	xgw_ct_delete(t, c);
	return r;
}

/* xgw_ct_create_dnat, inline; k is xgw_ct_cache_of(t, init->cache). */
static inline __attribute__((always_inline)) int
xgw_ct_create_dnat_fast(struct xgw_ct_table *t, const struct xgw_ct_tuple *orig,
			const struct xgw_addr *backend, uint16_t bport,
			const struct xgw_ct_init *init, struct xgw_ct_cache *k, bool hashed,
			uint64_t now, struct xgw_ct_conn **out)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* The stored words of xgw_ct_tuple_init(backend, bport, &orig->src,
	 * orig->sport, orig->proto): the backend's address, the client's (the
	 * key's word 1 and 2), the ports, protocol and the backend's family. */
	struct xgw_ct_words rw = {
	    {backend->q[0], backend->q[1], xgw_ct_w8(orig, 1), xgw_ct_w8(orig, 2),
	     (uint64_t)bport | (uint64_t)orig->sport << 16 | (uint64_t)orig->proto << 32 |
		 (uint64_t)backend->family << 40}};

	return xgw_ct_create_words(t, orig, rw, init, k, hashed, now, out);
#else
	(void)k;
	(void)hashed;
	struct xgw_ct_tuple reply;

	xgw_ct_tuple_init(&reply, backend, bport, &orig->src, orig->sport, orig->proto);
	return xgw_ct_create(t, orig, &reply, init, now, out);
#endif
}

#endif
