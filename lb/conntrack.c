/* SPDX-License-Identifier: BSD-3-Clause */
/* Connection table: see conntrack.h for the design and its costs. */
#define XGW_LOG_COMP "conntrack"
#include <errno.h>
#include <netinet/in.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "common/log.h"
#include "common/tsan.h"
#include "lb/conntrack.h"
#include "lb/conntrack_fast.h"
#include "lb/conntrack_create.h"
#include "common/csum.h"
#include "common/hash.h"
#include "common/hdr.h"

#define CT_EVICT_SCAN 64 /* records examined per refused admission */
/* A full table may also evict an embryonic connection (a TCP handshake not
 * completed: SYN seen, or SYN and the backend's SYN+ACK, no final ACK) idle
 * this long: a SYN flood from spoofed sources fills the table with them
 * (the backend answers, the sources never do), and a real handshake
 * completes in a round trip. */
#define CT_EMBRYONIC_MIN_NS 1000000000ull
/* last_seen is only rewritten when it moved by more than this (~1 ms), so
 * that a busy flow does not store to the record on every packet for
 * nothing; timeouts are seconds. */
#define NS		 1000000000ull
_Static_assert(XGW_CT_TCP_FIN_RST == (XGW_TCP_FIN | XGW_TCP_RST), "FIN|RST");
_Static_assert(XGW_CT_TCP_SYN_MASK == (XGW_TCP_SYN | XGW_TCP_ACK | XGW_TCP_RST) &&
		   XGW_CT_TCP_SYN == XGW_TCP_SYN,
	       "SYN alone");

static const char *const state_names[XGW_CT_STATE__MAX] = {
    [XGW_CT_NONE] = "none",	      [XGW_CT_SYN_SENT] = "syn_sent",
    [XGW_CT_SYN_RECV] = "syn_recv",   [XGW_CT_ESTABLISHED] = "established",
    [XGW_CT_FIN_WAIT] = "fin_wait",   [XGW_CT_CLOSE_WAIT] = "close_wait",
    [XGW_CT_TIME_WAIT] = "time_wait", [XGW_CT_CLOSE] = "close",
};

const char *xgw_ct_state_name(unsigned state)
{
	return state < XGW_CT_STATE__MAX ? state_names[state] : "?";
}

#define RLX	 memory_order_relaxed
#define ld(p)	 atomic_load_explicit(p, memory_order_relaxed)
#define st(p, v) atomic_store_explicit(p, v, memory_order_relaxed)
#define inc(p)	 atomic_fetch_add_explicit(p, 1, memory_order_relaxed)

uint64_t xgw_ct_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* The bucket array and the record pool, where every lookup at scale misses:
 * on 2 MB pages.  First explicit huge pages (MAP_HUGETLB, from the
 * reserved pool: vm.nr_hugepages); without enough of them, an anonymous
 * mapping (zeroed and faulted in lazily, as calloc's was) on 2 MB
 * boundaries with transparent huge pages asked for (THP "madvise", the
 * usual default).  Which one is logged.  With 4 KB pages a lookup into a
 * 1M-flow table was two TLB misses on top of its two cache misses. */
#define BIG_ALIGN (2ul << 20)

static size_t big_len(size_t size)
{
	return (size + BIG_ALIGN - 1) & ~(BIG_ALIGN - 1);
}

static void *big_alloc(size_t size, const char *what)
{
	size_t len = big_len(size), map = len + BIG_ALIGN;
	char *p;

#ifdef MAP_HUGETLB
	if (size >= BIG_ALIGN) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (p != MAP_FAILED) {
			pr_info("%s: %zu MB on 2 MB hugetlb pages", what, len >> 20);
			return p;
		}
	}
#endif
	p = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	char *a = (char *)(((uintptr_t)p + BIG_ALIGN - 1) & ~(uintptr_t)(BIG_ALIGN - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (p + map > a + len)
		munmap(a + len, (size_t)(p + map - (a + len)));
	/* Best effort: without THP this is plain 4 KB pages. */
	if (size >= BIG_ALIGN) {
		bool thp = !madvise(a, len, MADV_HUGEPAGE);
		pr_info("%s: %zu MB: no hugetlb pages (vm.nr_hugepages), %s", what, len >> 20,
			thp ? "transparent huge pages (madvise)" : "4 KB pages (THP refused)");
	}
	return a;
}

static void big_free(void *p, size_t size)
{
	if (p)
		munmap(p, big_len(size));
}

static uint64_t pow2_at_least(uint64_t n)
{
	uint64_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

struct xgw_ct_table *xgw_ct_new(const struct xgw_ct_cfg *cfg)
{
	struct xgw_ct_table *t;
	uint64_t keys, nb;

	if (!cfg->max_entries || cfg->max_entries > (1u << 29)) {
		errno = EINVAL;
		return NULL;
	}
	t = aligned_alloc(64, sizeof(*t));
	if (!t)
		return NULL;
	memset(t, 0, sizeof(*t));
	t->max_entries = cfg->max_entries;
	/* Slack for records unlinked but still in their grace period, so that a
	 * flow admitted after an eviction has a record at once. */
	t->pool_size = cfg->max_entries + cfg->max_entries / 16 + 64;
	/* Two keys per connection, about 2 per 7-slot bucket when full (29 %
	 * load, 64 B per bucket: 64 MB of index for 1M entries).  At 4 per
	 * bucket (57 %), a window of XGW_CT_PROBE buckets overflowed often
	 * enough that a full 1M table refused ~124 flows as bucket_full and a
	 * 64-entry table failed 1 fill in 10; at 2 per bucket a window holds
	 * 8 keys on average against 28 slots.  Small tables get at least 64
	 * buckets for the same reason. */
	keys = 2ull * cfg->max_entries;
	nb = pow2_at_least((keys + 1) / 2);
	if (nb < 64)
		nb = 64;
	t->mask = nb - 1;
	/* The caches hold up to XGW_CT_CACHE_MAX records each beyond the live
	 * ones: only where the pool's slack covers all of them. */
	if (t->pool_size - t->max_entries >= XGW_CT_CACHES * XGW_CT_CACHE_MAX) {
		t->caches = aligned_alloc(64, XGW_CT_CACHES * sizeof(struct xgw_ct_cache));
		if (!t->caches) {
			free(t);
			errno = ENOMEM;
			return NULL;
		}
		memset(t->caches, 0, XGW_CT_CACHES * sizeof(struct xgw_ct_cache));
	}
	t->buckets = big_alloc(nb * sizeof(struct xgw_ct_bucket), "buckets");
	t->pool = big_alloc((size_t)t->pool_size * sizeof(struct xgw_ct_conn), "records");
	t->closed = calloc(XGW_CT_SLOTS, sizeof(*t->closed)); /* pages touched as used */
	if (!t->buckets || !t->pool || !t->closed) {
		big_free(t->buckets, nb * sizeof(struct xgw_ct_bucket));
		big_free(t->pool, (size_t)t->pool_size * sizeof(struct xgw_ct_conn));
		free(t->closed);
		free(t->caches);
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	{
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		/* Per-table seed: flow hashes are not predictable from outside. */
		uint64_t seed = (uint64_t)ts.tv_nsec << 32 ^ (uint64_t)ts.tv_sec ^ (uintptr_t)t;
		/* splitmix64-style: independent-looking secrets. */
		for (int i = 0; i < 5; i++)
			t->hk[i] = xgw_hash_fmix64(seed += 0x9e3779b97f4a7c15ull) | 1;
	}

	uint64_t est = (cfg->tcp_timeout_s ? cfg->tcp_timeout_s : 21600) * NS;
	uint64_t syn = (cfg->tcp_syn_timeout_s ? cfg->tcp_syn_timeout_s : 60) * NS;
	uint64_t cls = (cfg->tcp_close_timeout_s ? cfg->tcp_close_timeout_s : 10) * NS;
	t->to_tcp[XGW_CT_NONE] = syn;
	t->to_tcp[XGW_CT_SYN_SENT] = syn;
	t->to_tcp[XGW_CT_SYN_RECV] = syn;
	t->to_tcp[XGW_CT_ESTABLISHED] = est;
	/* Half-closed connections get the close timeout too, as in cilium:
	 * every packet refreshes last_seen, so only an idle half-close dies. */
	t->to_tcp[XGW_CT_FIN_WAIT] = cls;
	t->to_tcp[XGW_CT_CLOSE_WAIT] = cls;
	t->to_tcp[XGW_CT_TIME_WAIT] = cls;
	t->to_tcp[XGW_CT_CLOSE] = cls;
	t->to_udp = (cfg->udp_timeout_s ? cfg->udp_timeout_s : 60) * NS;
	t->to_other = (cfg->other_timeout_s ? cfg->other_timeout_s : 60) * NS;
	return t;
}

void xgw_ct_reclaim_wait(void)
{
	/* liburcu refuses rcu_barrier() from an online QSBR thread (it would
	 * wait for itself) and returns at once with only a message. */
	bool online = rcu_read_ongoing();

	if (online) {
		XGW_TSAN_RCU_QS();
		rcu_thread_offline();
	}
	rcu_barrier();
	XGW_TSAN_RCU_BARRIER_DONE(); /* every callback's accesses are done */
	if (online)
		rcu_thread_online();
}

void xgw_ct_free(struct xgw_ct_table *t)
{
	if (!t)
		return;
	xgw_ct_flush(t);
	/* The reclaim callbacks touch the pool: wait for them. */
	xgw_ct_reclaim_wait();
	big_free(t->buckets, (t->mask + 1) * sizeof(struct xgw_ct_bucket));
	big_free(t->pool, (size_t)t->pool_size * sizeof(struct xgw_ct_conn));
	free(t->closed);
	free(t->caches);
	free(t);
}

uint64_t xgw_ct_slot_closed(const struct xgw_ct_table *t, uint32_t slot)
{
	return slot < XGW_CT_SLOTS ? ld(&t->closed[slot]) : 0;
}

/* --- hashing and keys --------------------------------------------------- */

uint64_t xgw_ct_prefetch_conn(const struct xgw_ct_table *t, uint64_t h)
{
	struct xgw_ct_conn *c;

	return xgw_ct_hint_fast(t, h, &c);
}

uint64_t xgw_ct_hash(const struct xgw_ct_table *t, const struct xgw_ct_tuple *k)
{
	return xgw_ct_hash_fast(t, k);
}

void xgw_ct_prefetch(const struct xgw_ct_table *t, uint64_t h)
{
	__builtin_prefetch(&t->buckets[h & t->mask]);
}

uint32_t xgw_ct_touch(const struct xgw_ct_table *t, uint64_t h)
{
	return xgw_ct_touch_fast(t, h);
}

void xgw_ct_prefetch_w(const struct xgw_ct_table *t, uint64_t h)
{
	xgw_ct_prefetch_w_fast(t, h);
}

static inline uint64_t slot_val(const struct xgw_ct_table *t, const struct xgw_ct_conn *c,
				enum xgw_ct_dir d, uint64_t h)
{
	return xgw_ct_slot_val_rec(xgw_ct_slot_rec(t, c), d, h);
}

/* --- timeouts and the TCP state machine ---------------------------------- */

uint64_t xgw_ct_timeout(const struct xgw_ct_table *t, uint8_t proto, enum xgw_ct_state s)
{
	return xgw_ct_timeout_fast(t, proto, s);
}

bool xgw_ct_expired(const struct xgw_ct_table *t, const struct xgw_ct_conn *c, uint64_t now)
{
	return xgw_ct_expired_fast(t, c, now);
}

/* Inlined into xgw_ct_update: with the call, the update of a TCP packet
 * cost ~90 instructions, inlined ~64 (callgrind, established-1k). */
static inline enum xgw_ct_state tcp_next(enum xgw_ct_state s, uint8_t *flags, enum xgw_ct_dir dir,
					 uint8_t tf)
{
	uint8_t mine = dir == XGW_CT_ORIG ? XGW_CT_F_FIN_ORIG : XGW_CT_F_FIN_REPLY;
	uint8_t other = dir == XGW_CT_ORIG ? XGW_CT_F_FIN_REPLY : XGW_CT_F_FIN_ORIG;
	bool syn = tf & XGW_TCP_SYN, ack = tf & XGW_TCP_ACK, fin = tf & XGW_TCP_FIN;

	if (tf & XGW_TCP_RST)
		return XGW_CT_CLOSE;
	switch (s) {
	case XGW_CT_NONE:
		return xgw_ct_tcp_initial(tf);
	case XGW_CT_SYN_SENT:
		if (dir == XGW_CT_REPLY && syn) /* SYN+ACK, or simultaneous open */
			return XGW_CT_SYN_RECV;
		break;
	case XGW_CT_SYN_RECV:
		if (dir == XGW_CT_ORIG && ack && !syn && !fin)
			return XGW_CT_ESTABLISHED;
		break;
	case XGW_CT_ESTABLISHED:
		break;
	case XGW_CT_FIN_WAIT:
		if ((*flags & other) && !(*flags & mine) && ack && !fin)
			return XGW_CT_CLOSE_WAIT; /* the peer ACKed the first FIN */
		break;
	case XGW_CT_CLOSE_WAIT:
		break;
	case XGW_CT_TIME_WAIT:
	case XGW_CT_CLOSE:
		/* The client reuses its port: a new connection on the same
		 * tuple, same backend (as nf_conntrack does in TIME_WAIT). */
		if (dir == XGW_CT_ORIG && syn && !ack) {
			*flags &= (uint8_t) ~(XGW_CT_F_FIN_ORIG | XGW_CT_F_FIN_REPLY);
			return XGW_CT_SYN_SENT;
		}
		return s;
	default:
		return s;
	}
	if (fin) {
		*flags |= mine;
		if (*flags & other)
			return XGW_CT_TIME_WAIT;
		/* a first FIN, or the same side's FIN again */
		return s == XGW_CT_CLOSE_WAIT ? s : XGW_CT_FIN_WAIT;
	}
	return s;
}

enum xgw_ct_state xgw_ct_tcp_next(enum xgw_ct_state s, uint8_t *flags, enum xgw_ct_dir dir,
				  uint8_t tf)
{
	return tcp_next(s, flags, dir, tf);
}

enum xgw_ct_state xgw_ct_update_state(struct xgw_ct_table *t, struct xgw_ct_conn *c,
				      enum xgw_ct_dir dir, uint8_t tcp_flags, uint64_t now,
				      enum xgw_ct_state s)
{
	(void)t;
	if (c->orig.proto == IPPROTO_TCP) {
		uint8_t f = ld(&c->flags), nf = f;
		enum xgw_ct_state ns = tcp_next(s, &nf, dir, tcp_flags);
		if (nf != f)
			st(&c->flags, nf);
		if (ns != s) {
			st(&c->state, ns);
			/* A closing state's short timeout counts from now. */
			st(&c->last_seen, now);
		}
		s = ns;
	}
	return s;
}

/* --- record pool --------------------------------------------------------- */

struct xgw_ct_conn *xgw_ct_pool_pop(struct xgw_ct_table *t)
{
	uint64_t old = atomic_load(&t->free_head), nw;

	/* Tagged head against ABA: a record popped and pushed back between our
	 * load and CAS changes the tag.  Records are never unmapped, so
	 * reading next_free of a record someone else popped is harmless. */
	do {
		uint32_t i1 = (uint32_t)old;
		if (!i1)
			goto fresh;
		nw = ((old >> 32) + 1) << 32 | ld(&t->pool[i1 - 1].next_free);
	} while (!atomic_compare_exchange_weak(&t->free_head, &old, nw));
	/* The next creation pops the new head and reads its free-list link,
	 * then writes all three lines: start that miss now. */
	if ((uint32_t)nw)
		xgw_ct_prefetch_record_w(&t->pool[(uint32_t)nw - 1]);
	return &t->pool[(uint32_t)old - 1];
fresh:;
	uint32_t f = atomic_load(&t->fresh);
	do {
		if (f >= t->pool_size)
			return NULL;
	} while (!atomic_compare_exchange_weak(&t->fresh, &f, f + 1));
	if (f + 1 < t->pool_size)
		xgw_ct_prefetch_record_w(&t->pool[f + 1]);
	return &t->pool[f];
}

void xgw_ct_pool_push(struct xgw_ct_table *t, struct xgw_ct_conn *c)
{
	uint64_t old = atomic_load(&t->free_head), nw;
	uint32_t i1 = (uint32_t)(c - t->pool) + 1;

	do {
		st(&c->next_free, (uint32_t)old);
		nw = ((old >> 32) + 1) << 32 | i1;
	} while (!atomic_compare_exchange_weak(&t->free_head, &old, nw));
}

/* Refill an empty cache: a run of the free list in one CAS (the tagged
 * head changes with any push or pop, so the run read is still the stack's
 * top when the CAS succeeds), else a range of never-used records. */
__attribute__((noinline)) void xgw_ct_cache_refill(struct xgw_ct_table *t, struct xgw_ct_cache *k)
{
	uint64_t old = atomic_load(&t->free_head), nw;
	uint32_t got, f, take;

	do {
		uint32_t i1 = (uint32_t)old;
		got = 0;
		while (i1 && got < XGW_CT_CACHE_BATCH) {
			k->idx[XGW_CT_CACHE_BATCH - 1 - got++] = i1 - 1;
			i1 = ld(&t->pool[i1 - 1].next_free);
		}
		if (!got)
			break;
		nw = ((old >> 32) + 1) << 32 | i1;
	} while (!atomic_compare_exchange_weak(&t->free_head, &old, nw));
	if (got) {
		if (got < XGW_CT_CACHE_BATCH)
			memmove(k->idx, k->idx + XGW_CT_CACHE_BATCH - got, got * sizeof(k->idx[0]));
		k->n = got;
		return;
	}
	f = atomic_load(&t->fresh);
	do {
		if (f >= t->pool_size)
			return;
		take =
		    t->pool_size - f < XGW_CT_CACHE_BATCH ? t->pool_size - f : XGW_CT_CACHE_BATCH;
	} while (!atomic_compare_exchange_weak(&t->fresh, &f, f + take));
	for (uint32_t i = 0; i < take; i++)
		k->idx[i] = f + take - 1 - i; /* popped from the end: ascending */
	k->n = take;
}

static void ct_reclaim(struct rcu_head *h)
{
	struct xgw_ct_conn *c = caa_container_of(h, struct xgw_ct_conn, rcu);

	XGW_TSAN_ACQUIRE(c);	/* handed over by ct_kill through call_rcu */
	XGW_TSAN_RCU_GP_DONE(); /* and a grace period has passed since */
	/* Once per connection, on the call_rcu thread: an atomic add here
	 * costs the workers nothing. */
	if (c->slot && !c->uncounted)
		atomic_fetch_add_explicit(&c->owner->closed[c->slot], 1, RLX);
	atomic_store(&c->life, XGW_CT_L_FREE);
	xgw_ct_pool_push(c->owner, c);
	XGW_TSAN_RCU_CB_DONE(); /* for rcu_barrier (xgw_ct_reclaim_wait) */
}

/* --- index ------------------------------------------------------------------ */

/* Remove the exact slot word of (c, d).  Lock-free: a CAS, so two removers
 * cannot both succeed, and an insert into a freed slot is never undone. */
void xgw_ct_unlink_key(struct xgw_ct_table *t, struct xgw_ct_conn *c, enum xgw_ct_dir d)
{
	struct xgw_ct_tuple k;

	xgw_ct_ctuple_key(&k, xgw_ct_ctuple_of(c, d));
	uint64_t h = xgw_ct_hash(t, &k);
	uint64_t v = slot_val(t, c, d, h);

	for (unsigned p = 0; p < XGW_CT_PROBE; p++) {
		struct xgw_ct_bucket *b = &t->buckets[(h + p) & t->mask];
		for (unsigned i = 0; i < XGW_CT_BUCKET_SLOTS; i++) {
			uint64_t cur = v;
			if (atomic_compare_exchange_strong(&b->slot[i], &cur, 0)) {
				if (p)
					atomic_fetch_sub(&t->buckets[h & t->mask].overflow, 1);
				return;
			}
		}
	}
}

/* Unlink both keys and hand the record to call_rcu.  Whoever moves it from
 * LIVE to DEAD owns the removal. */
static bool ct_kill(struct xgw_ct_table *t, struct xgw_ct_conn *c)
{
	uint8_t live = XGW_CT_L_LIVE;

	if (!atomic_compare_exchange_strong(&c->life, &live, XGW_CT_L_DEAD))
		return false;
	xgw_ct_unlink_key(t, c, XGW_CT_REPLY);
	xgw_ct_unlink_key(t, c, XGW_CT_ORIG);
	atomic_fetch_sub(&t->live, 1);
	XGW_TSAN_RELEASE(c); /* liburcu's queue is invisible to TSan */
	call_rcu(&c->rcu, ct_reclaim);
	return true;
}

bool xgw_ct_delete(struct xgw_ct_table *t, struct xgw_ct_conn *c)
{
	return ct_kill(t, c);
}

/* An expired record a lookup found (xgw_ct_slot_match_as), out of line. */
__attribute__((noinline)) void xgw_ct_kill_expired(struct xgw_ct_table *t, struct xgw_ct_conn *c)
{
	if (ct_kill(t, c))
		inc(&t->n_expired);
}

/* xgw_ct_slot_match_as for a key: every lookup's. */
static inline __attribute__((always_inline)) struct xgw_ct_conn *
slot_match(struct xgw_ct_table *t, uint64_t v, const struct xgw_ct_tuple *k, uint64_t now)
{
	return xgw_ct_slot_match_as(t, v, k, NULL, now);
}

struct xgw_ct_conn *xgw_ct_lookup_hash(struct xgw_ct_table *t, const struct xgw_ct_tuple *k,
				       uint64_t h, uint64_t now, enum xgw_ct_dir *dir)
{
	uint32_t sig = (uint32_t)(h >> 32);
	struct xgw_ct_bucket *home = &t->buckets[h & t->mask];

	for (unsigned p = 0; p < XGW_CT_PROBE; p++) {
		struct xgw_ct_bucket *b = &t->buckets[(h + p) & t->mask];
		for (unsigned i = 0; i < XGW_CT_BUCKET_SLOTS; i++) {
			/* acquire: pairs with the release that published the
			 * slot after the record was filled in */
			uint64_t v = atomic_load_explicit(&b->slot[i], memory_order_acquire);
			if ((uint32_t)(v >> 32) != sig || !v)
				continue;
			struct xgw_ct_conn *c = slot_match(t, v, k, now);
			if (!c)
				continue;
			*dir = (enum xgw_ct_dir)(v & 1);
			return c;
		}
		if (p == 0 && !ld(&home->overflow))
			break;
	}
	return NULL;
}

struct xgw_ct_conn *xgw_ct_lookup_hint(struct xgw_ct_table *t, const struct xgw_ct_tuple *k,
				       uint64_t h, uint64_t hint, uint64_t now,
				       enum xgw_ct_dir *dir)
{
	if (!hint)
		return NULL;
	if (hint != XGW_CT_HINT_NONE) {
		/* The slot word read by xgw_ct_prefetch_conn (acquire), in this
		 * read-side section: its record cannot have been recycled since,
		 * only unlinked, which life says. */
		struct xgw_ct_conn *c = slot_match(t, hint, k, now);
		if (c) {
			*dir = (enum xgw_ct_dir)(hint & 1);
			return c;
		}
	}
	return xgw_ct_lookup_hash(t, k, h, now, dir);
}

struct xgw_ct_conn *xgw_ct_lookup(struct xgw_ct_table *t, const struct xgw_ct_tuple *k,
				  uint64_t now, enum xgw_ct_dir *dir)
{
	return xgw_ct_lookup_hash(t, k, xgw_ct_hash_fast(t, k), now, dir);
}

static inline bool embryonic_stale(const struct xgw_ct_conn *c, uint64_t now)
{
	uint64_t seen = ld(&c->last_seen);
	uint8_t st = ld(&c->state);

	return (st == XGW_CT_SYN_SENT || st == XGW_CT_SYN_RECV) && now > seen &&
	       now - seen > CT_EMBRYONIC_MIN_NS;
}

/* Reclaim expired records to make room: a bounded scan on the slow path of a
 * refused admission (the cursor is shared, so concurrent evicters scan
 * different records).  embryonic: also handshakes idle over
 * CT_EMBRYONIC_MIN_NS (the second pass, when no expired record was found). */
unsigned xgw_ct_evict(struct xgw_ct_table *t, uint64_t now, bool embryonic)
{
	uint32_t n = atomic_load(&t->fresh), got = 0;
	uint32_t start = atomic_fetch_add(&t->evict_cursor, CT_EVICT_SCAN);

	if (!n)
		return 0;
	for (uint32_t i = 0; i < CT_EVICT_SCAN; i++) {
		struct xgw_ct_conn *c = &t->pool[(start + i) % n];
		if (ld(&c->life) == XGW_CT_L_LIVE &&
		    (xgw_ct_expired(t, c, now) || (embryonic && embryonic_stale(c, now))) &&
		    ct_kill(t, c))
			got++;
	}
	if (got)
		atomic_fetch_add(&t->n_evicted, got);
	if (got && embryonic)
		atomic_fetch_add(&t->n_evicted_embryonic, got);
	return got;
}

/* xgw_ct_insert_key's general path, out of line (it is rare: home holds a
 * key that overflowed, or its free slot was taken meanwhile): a full
 * lookup, then the first free slot of the probe window.  home = h's home
 * bucket, locked by the caller. */
int xgw_ct_insert_overflow(struct xgw_ct_table *t, struct xgw_ct_conn *c, uint64_t nv,
			   enum xgw_ct_dir d, const struct xgw_ct_tuple *k, uint64_t h,
			   uint64_t now, struct xgw_ct_conn **exist)
{
	struct xgw_ct_bucket *home = &t->buckets[h & t->mask];
	struct xgw_ct_tuple mk;

	if (!k) {
		xgw_ct_ctuple_key(&mk, xgw_ct_ctuple_of(c, d));
		k = &mk;
	}
	enum xgw_ct_dir ed;
	struct xgw_ct_conn *e = xgw_ct_lookup_hash(t, k, h, now, &ed);
	if (e) {
		*exist = e;
		return -EEXIST;
	}
	for (unsigned p = 0; p < XGW_CT_PROBE; p++) {
		struct xgw_ct_bucket *b = &t->buckets[(h + p) & t->mask];
		if (p == 1)
			atomic_fetch_add(&home->overflow, 1);
		for (unsigned i = 0; i < XGW_CT_BUCKET_SLOTS; i++)
			if (xgw_ct_claim_slot(&b->slot[i], nv, c, d == XGW_CT_REPLY, false))
				return 0;
	}
	atomic_fetch_sub(&home->overflow, 1);
	return -ENOSPC;
}

uint64_t xgw_ct_insert_hash(const struct xgw_ct_table *t, const struct xgw_ct_tuple *k,
			    const struct xgw_ct_ctuple *mine)
{
	return k ? xgw_ct_hash(t, k) : xgw_ct_ctuple_hash(t, mine);
}

int xgw_ct_create(struct xgw_ct_table *t, const struct xgw_ct_tuple *orig,
		  const struct xgw_ct_tuple *reply, const struct xgw_ct_init *init, uint64_t now,
		  struct xgw_ct_conn **out)
{
	return xgw_ct_create_words(t, orig, xgw_ct_key_words(reply), init,
				   xgw_ct_cache_of(t, init->cache), false, now, out);
}

int xgw_ct_create_dnat(struct xgw_ct_table *t, const struct xgw_ct_tuple *orig,
		       const struct xgw_addr *backend, uint16_t bport,
		       const struct xgw_ct_init *init, uint64_t now, struct xgw_ct_conn **out)
{
	return xgw_ct_create_dnat_fast(t, orig, backend, bport, init,
				       xgw_ct_cache_of(t, init->cache), false, now, out);
}

/* --- control-thread walks -------------------------------------------------- */

unsigned xgw_ct_gc(struct xgw_ct_table *t, uint64_t now, unsigned budget)
{
	uint32_t n = atomic_load(&t->fresh);
	unsigned removed = 0;

	if (!n)
		return 0;
	while (budget--) {
		if (t->gc_cursor >= n)
			t->gc_cursor = 0;
		struct xgw_ct_conn *c = &t->pool[t->gc_cursor++];
		if (atomic_load_explicit(&c->life, memory_order_acquire) == XGW_CT_L_LIVE &&
		    xgw_ct_expired(t, c, now) && ct_kill(t, c))
			removed++;
	}
	if (removed)
		atomic_fetch_add(&t->n_expired, removed);
	return removed;
}

unsigned xgw_ct_flush(struct xgw_ct_table *t)
{
	uint32_t n = atomic_load(&t->fresh);
	unsigned removed = 0;

	for (uint32_t i = 0; i < n; i++)
		if (ld(&t->pool[i].life) == XGW_CT_L_LIVE && ct_kill(t, &t->pool[i]))
			removed++;
	return removed;
}

bool xgw_ct_backend_sel_match(const struct xgw_ct_backend_sel *s, const struct xgw_ct_tuple *orig,
			      const struct xgw_ct_tuple *reply)
{
	return orig->proto == s->proto && orig->dport == htons(s->vport) &&
	       reply->sport == htons(s->port) && xgw_addr_eq(&orig->dst, &s->vip) &&
	       xgw_addr_eq(&reply->src, &s->ip);
}

unsigned xgw_ct_flush_backend(struct xgw_ct_table *t, const struct xgw_ct_backend_sel *s,
			      uint64_t now)
{
	uint32_t n = atomic_load(&t->fresh);
	unsigned removed = 0;

	/* A record seen live stays this connection until the caller goes
	 * offline: its reuse waits for a grace period (ct_reclaim). */
	for (uint32_t i = 0; i < n; i++) {
		struct xgw_ct_conn *c = &t->pool[i];
		struct xgw_ct_tuple o, r;

		if (atomic_load_explicit(&c->life, memory_order_acquire) != XGW_CT_L_LIVE)
			continue;
		xgw_ct_ctuple_key(&o, &c->orig);
		xgw_ct_ctuple_key(&r, &c->reply);
		if (!xgw_ct_backend_sel_match(s, &o, &r))
			continue;
		bool expired = xgw_ct_expired(t, c, now);
		if (ct_kill(t, c) && !expired)
			removed++;
	}
	return removed;
}

unsigned xgw_ct_foreach(struct xgw_ct_table *t, uint64_t now, unsigned limit, xgw_ct_iter_cb cb,
			void *arg)
{
	uint32_t n = atomic_load(&t->fresh);
	unsigned done = 0;

	for (uint32_t i = 0; i < n && (!limit || done < limit); i++) {
		struct xgw_ct_conn *c = &t->pool[i];
		if (atomic_load_explicit(&c->life, memory_order_acquire) != XGW_CT_L_LIVE ||
		    xgw_ct_expired(t, c, now))
			continue;
		done++;
		if (cb(c, now, arg))
			break;
	}
	return done;
}

void xgw_ct_get_stats(const struct xgw_ct_table *t, struct xgw_ct_stats *s)
{
	struct xgw_ct_table *m = (struct xgw_ct_table *)t;
	int64_t live = atomic_load(&m->live);
	uint64_t created = ld(&m->n_created);

	/* live counts the admissions the workers' caches hold unused. */
	for (unsigned i = 0; m->caches && i < XGW_CT_CACHES; i++) {
		live -= ld(&m->caches[i].credit);
		created += ld(&m->caches[i].created);
	}
	s->live = live > 0 ? (uint64_t)live : 0;
	s->max = t->max_entries;
	s->created = created;
	s->full = ld(&m->n_full);
	s->evicted = ld(&m->n_evicted);
	s->evicted_embryonic = ld(&m->n_evicted_embryonic);
	s->bucket_full = ld(&m->n_bucket_full);
	s->expired = ld(&m->n_expired);
	s->races_lost = ld(&m->n_races_lost);
	s->reused = ld(&m->n_reused);
}
