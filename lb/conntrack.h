/* SPDX-License-Identifier: BSD-3-Clause */
/* Connection tracking shared by all workers.
 *
 * Each connection is one record (struct xgw_ct_conn) reachable under two
 * keys: the original tuple (client -> VIP) and the reply tuple (backend ->
 * client, or backend -> SNAT address:port).  A backend's reply is found by
 * its own tuple whatever queue or port it arrives on.
 *
 * Design: a custom open-addressing index over a preallocated record pool,
 * not liburcu's cds_lfht.  Why:
 *  - cds_lfht is a split-ordered linked list: a lookup reads the bucket
 *    table, a dummy node and then chases one heap node per candidate, so
 *    three or more dependent cache misses at 1M flows, and the node address
 *    is not known early enough to prefetch.  Here a lookup is one 64-byte
 *    bucket (its address known from the hash) and the two lines of the
 *    record it points to: two dependent misses in the cold case, which the
 *    bulk form (xgw_ct_prefetch_conn, then xgw_ct_lookup_hint) overlaps
 *    across a burst.
 *  - cds_lfht has no resumable cursor, so an incremental GC with bounded
 *    work per call would have to stay in a read-side section across calls.
 *    The pool is an array: the GC cursor is an index.
 *  - A preallocated pool makes the capacity exact and allocation-free.
 *
 * Index: a power-of-two array of 64-byte buckets of 7 slots.  A slot is one
 * 64-bit word (32-bit hash signature | record index | direction) written
 * with single atomic stores, so readers need neither locks nor sequence
 * counters: they load a slot, then compare the full key in the record,
 * whose memory stays valid until every worker has passed a quiescent state
 * (records are recycled through call_rcu, liburcu QSBR).  A key lives in its
 * home bucket or one of the next XGW_CT_PROBE - 1.  Only inserts take a
 * lock (a spinlock word in the home bucket, so two workers creating the
 * same flow at once serialise and the loser gets the winner's record);
 * removal is a compare-and-swap of the exact slot word.
 *
 * Cost per lookup: one hash of 56 bytes (wyhash-style 128-bit multiplies:
 * two for an IPv4 key, five for IPv6), one bucket line scanned for the
 * 32-bit signature, one stored tuple compared (5 64-bit words, in line 0
 * or 1 of the record).  No atomic read-modify-write, no store on the miss
 * path.  A creation: admission and pool pop (from the worker's cache: an
 * atomic read-modify-write on a shared line once per XGW_CT_CACHE_BATCH
 * creations, else two per creation), then per key a bucket lock and one pass over the home bucket
 * that both checks the key is absent and claims a slot.  Pipeline figures
 * are in bench/README.md (xgw-bench-pipeline); older per-operation ones in
 * lb/ct_bench.c's header.
 *
 * Memory: sizeof(struct xgw_ct_conn) (192 B) per record, max_entries plus
 * a 1/16 slack for records waiting for their grace period, plus 64 B per
 * bucket, about max_entries buckets: ~270 MB for 1M entries, on 2 MB
 * pages: MAP_HUGETLB when vm.nr_hugepages has room, else anonymous
 * mappings with THP asked for (madvise), touched lazily (pages are faulted
 * in as records and buckets are first used); which one is logged.
 *
 * Threads: lookups, updates and creates run on QSBR-registered workers (and
 * must be online); GC, flush and the iterator run on the control thread,
 * which must be registered too (call_rcu requires it).
 */
#ifndef XGW_CONNTRACK_H
#define XGW_CONNTRACK_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <urcu-qsbr.h>

#include "common/addr.h"
#include "common/config.h"
#include "common/stat.h"

#define XGW_CT_PROBE 4 /* buckets a key may live in, from its home */

struct xgw_ct_table;

enum xgw_ct_dir { XGW_CT_ORIG = 0, XGW_CT_REPLY = 1 };

enum xgw_ct_state {
	XGW_CT_NONE = 0,    /* UDP, ICMP, other: no state machine */
	XGW_CT_SYN_SENT,    /* SYN seen from the client */
	XGW_CT_SYN_RECV,    /* SYN+ACK seen from the backend */
	XGW_CT_ESTABLISHED, /* client ACKed the SYN+ACK (or picked up mid-stream) */
	XGW_CT_FIN_WAIT,    /* one side sent FIN */
	XGW_CT_CLOSE_WAIT,  /* the other side ACKed that FIN, half-closed */
	XGW_CT_TIME_WAIT,   /* both sides sent FIN */
	XGW_CT_CLOSE,	    /* RST seen */
	XGW_CT_STATE__MAX
};

const char *xgw_ct_state_name(unsigned state);

/* The lookup key.  Addresses are whole struct xgw_addr (v4 zero-padded),
 * ports in network order; every padding byte is zero so keys compare as
 * words.  Build with xgw_ct_tuple_init. */
struct xgw_ct_tuple {
	struct xgw_addr src;
	struct xgw_addr dst;
	uint16_t sport;
	uint16_t dport;
	uint8_t proto;
	uint8_t family;
	uint8_t pad[2];
};

_Static_assert(sizeof(struct xgw_ct_tuple) == 56, "tuple is 7 words");

static inline void xgw_ct_tuple_init(struct xgw_ct_tuple *t, const struct xgw_addr *src,
				     uint16_t sport, const struct xgw_addr *dst, uint16_t dport,
				     uint8_t proto)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* Seven whole words, each stored once (the key is read back as words
	 * right after: a word spanning a memset's and a field's store defeats
	 * store forwarding), the same bytes as the fields below: each
	 * address's family word is its family byte then zeros, word 6 the
	 * ports, protocol and family. */
	uint64_t w[7] = {src->family,
			 src->q[0],
			 src->q[1],
			 dst->family,
			 dst->q[0],
			 dst->q[1],
			 (uint64_t)sport | (uint64_t)dport << 16 | (uint64_t)proto << 32 |
			     (uint64_t)src->family << 40};

	_Static_assert(offsetof(struct xgw_ct_tuple, sport) == 48 &&
			   offsetof(struct xgw_ct_tuple, family) == 53 &&
			   offsetof(struct xgw_addr, q) == 8,
		       "key words");
	memcpy(t, w, sizeof(w));
#else
	/* Field by field: struct assignment need not copy padding, and keys
	 * are compared as words. */
	memset(t, 0, sizeof(*t));
	t->src.family = src->family;
	memcpy(t->src.b, src->b, 16);
	t->dst.family = dst->family;
	memcpy(t->dst.b, dst->b, 16);
	t->sport = sport;
	t->dport = dport;
	t->proto = proto;
	t->family = src->family;
#endif
}

static inline void xgw_ct_tuple_reverse(struct xgw_ct_tuple *out, const struct xgw_ct_tuple *in)
{
	struct xgw_ct_tuple r;

	memcpy(&r, in, sizeof(r));
	memcpy(&r.src, &in->dst, sizeof(r.src));
	memcpy(&r.dst, &in->src, sizeof(r.dst));
	r.sport = in->dport;
	r.dport = in->sport;
	memcpy(out, &r, sizeof(r));
}

enum xgw_ct_flags {
	XGW_CT_F_SNAT = 1 << 0,	     /* reply.dst is the gateway's SNAT address:port */
	XGW_CT_F_FIN_ORIG = 1 << 1,  /* FIN seen from the client */
	XGW_CT_F_FIN_REPLY = 1 << 2, /* FIN seen from the backend */
};

/* A tuple as a record stores it: the key's fields without the two address
 * families (the key's own family byte says it), 40 bytes instead of 56, so
 * that one record's hot fields fit two cache lines.  The words are the
 * key's words 1, 2, 4, 5 and 6 (xgw_ct_tuple's src.b, dst.b and the
 * ports/proto/family word), so a key compares against it as five words,
 * the last one without its top 16 bits (nat_csum, where the key has
 * padding). */
struct xgw_ct_ctuple {
	uint8_t src[16]; /* v4 in [0..3], the rest zero */
	uint8_t dst[16];
	uint16_t sport; /* network order */
	uint16_t dport;
	uint8_t proto;
	uint8_t family;
	/* An IPv4 connection's translation as checksum differences,
	 * computed once at its creation (xgw_ct_create), so that an
	 * established packet adds them instead of summing old and new
	 * addresses and ports (lb_fast.h, xgw_nat4_pre): orig's holds the
	 * IPv4 header's difference of the ORIG direction, reply's the
	 * TCP/UDP checksum's (addresses and ports) of the ORIG direction;
	 * the REPLY direction's are their one's-complement negations
	 * (xgw_ct_nat_neg).  Not part of the key; 0 in other records. */
	uint16_t nat_csum;
} __attribute__((aligned(8)));

_Static_assert(sizeof(struct xgw_ct_ctuple) == 40, "stored tuple is 5 words");
_Static_assert(offsetof(struct xgw_ct_ctuple, nat_csum) == 38, "nat_csum is word 4's top");

/* One connection.  orig is client -> VIP:port as received; reply is
 * backend:port -> client (or -> SNAT address:port) as the backend sends
 * it.  So the NAT translation is implied: VIP:port = orig.dst/dport,
 * backend = reply.src/sport, SNAT = reply.dst/dport when XGW_CT_F_SNAT.  A
 * packet in direction d leaves as the reverse of the other direction's
 * tuple (xgw_ct_ctuple_of).
 *
 * A packet in either direction reads and writes lines 0 and 1 only (its
 * key, the other tuple for NAT, life/state/last_seen, its counters): at 1M
 * flows a lookup costs the bucket and two record lines, not three.  Line 2
 * is cold.  Hot fields written per packet (last_seen, state, counters) are
 * plain relaxed stores, not read-modify-writes: see xgw_ct_update. */
struct xgw_ct_conn {
	/* line 0 */
	_Atomic uint8_t life;  /* pool record lifecycle, internal to conntrack.c */
	_Atomic uint8_t state; /* enum xgw_ct_state */
	_Atomic uint8_t flags; /* enum xgw_ct_flags */
	uint8_t pad;
	/* The counter slot of the connection's (service, backend)
	 * (pipeline/svc_stats.h), read per packet: line 0.  0: none. */
	uint32_t slot;
	struct xgw_ct_ctuple orig;
	_Atomic uint64_t pkts[2]; /* by direction */
	/* line 1 */
	struct xgw_ct_ctuple reply;
	_Atomic uint64_t last_seen; /* ns, coarse: see xgw_ct_update */
	_Atomic uint64_t bytes[2];
	/* line 2: cold */
	struct rcu_head rcu;
	struct xgw_ct_table *owner; /* for the call_rcu callback */
	uint32_t service_id;
	uint32_t backend_id;
	bool uncounted;		    /* rolled back by its creation: its end is not counted */
	_Atomic uint32_t next_free; /* pool free-list link while unused */
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct xgw_ct_conn) == 192, "record is three lines");
_Static_assert(__builtin_offsetof(struct xgw_ct_conn, reply) == 64, "hot fields in lines 0-1");

static inline const struct xgw_ct_ctuple *xgw_ct_ctuple_of(const struct xgw_ct_conn *c,
							   enum xgw_ct_dir d)
{
	return d == XGW_CT_ORIG ? &c->orig : &c->reply;
}

/* The REPLY direction's checksum difference from the ORIG direction's d
 * (nat_csum): its one's-complement negation, kept in [1, 0xffff] as a
 * fold of a non-zero sum is, so that ~HC + difference is never zero and
 * folds to the very value the sum of the old and new fields gives
 * (RFC 1624 eqn. 3, as xgw_nat4_ports computes it).  The REPLY
 * direction's sum is the ORIG one's with old and new fields swapped:
 * its negation modulo 0xffff.  Only a REPLY sum that is exactly zero
 * (old addresses 255.255.255.255, new ones 0.0.0.0: a client that is its
 * VIP, which the LB's source check refuses) would want 0 here; even then
 * the checksum is the same number (0xffff for 0x0000, TCP only). */
static inline uint16_t xgw_ct_nat_neg(uint16_t d)
{
	uint16_t n = (uint16_t)(0xffff - d);

	return n ? n : 0xffff;
}

/* The checksum differences of c's translation for a packet of direction
 * dir whose tuple is c's own in that direction (struct
 * xgw_ct_ctuple.nat_csum): *d3 the IPv4 header's, *d4 the TCP/UDP
 * checksum's.  Meaningful for IPv4 connections only. */
static inline void xgw_ct_nat_csum(const struct xgw_ct_conn *c, enum xgw_ct_dir dir, uint16_t *d3,
				   uint16_t *d4)
{
	*d3 = c->orig.nat_csum;
	*d4 = c->reply.nat_csum;
	if (dir) {
		*d3 = xgw_ct_nat_neg(*d3);
		*d4 = xgw_ct_nat_neg(*d4);
	}
}

/* The lookup key of a stored tuple. */
static inline void xgw_ct_ctuple_key(struct xgw_ct_tuple *k, const struct xgw_ct_ctuple *c)
{
	memset(k, 0, sizeof(*k));
	k->src.family = c->family;
	memcpy(k->src.b, c->src, 16);
	k->dst.family = c->family;
	memcpy(k->dst.b, c->dst, 16);
	k->sport = c->sport;
	k->dport = c->dport;
	k->proto = c->proto;
	k->family = c->family;
}

/* Table-wide counters (summed approximately; updated off the fast path:
 * only on create, delete and refusals). */
struct xgw_ct_stats {
	uint64_t live; /* connections in the table */
	uint64_t max;  /* max_entries */
	uint64_t created;
	uint64_t full;	      /* new flows refused: table full (XGW_DROP_CT_FULL) */
	uint64_t evicted;     /* entries reclaimed to make room: expired ones,
			       * then (when none had) embryonic ones */
	uint64_t evicted_embryonic; /* of which handshakes idle > 1 s */
	uint64_t bucket_full; /* refused: all XGW_CT_PROBE buckets full */
	uint64_t expired;     /* removed by GC or found expired on lookup */
	uint64_t races_lost;  /* create found the flow created concurrently */
	uint64_t reused;      /* closed connections whose backend tuple a new
			       * SYN took over (xgw_ct_create) */
};

/* Fails with NULL (errno set) if max_entries is 0 or memory is short. */
struct xgw_ct_table *xgw_ct_new(const struct xgw_ct_cfg *cfg);
/* Flushes, waits for pending call_rcu reclaim (rcu_barrier), frees.  No
 * worker may use the table any more. */
void xgw_ct_free(struct xgw_ct_table *t);

/* Wait until every record unlinked so far is back in its pool (a grace
 * period and the call_rcu callbacks).  Control thread only; safe whether
 * the caller is online or not. */
void xgw_ct_reclaim_wait(void);

/* CLOCK_MONOTONIC_COARSE in ns: what the workers pass as now, read once per
 * burst.  Tests pass their own clock. */
uint64_t xgw_ct_clock(void);

uint64_t xgw_ct_hash(const struct xgw_ct_table *t, const struct xgw_ct_tuple *k);
/* Prefetch the home bucket of hash h.  The pipeline does not: on its test
 * machine software prefetches of buckets were slower than the plain loads
 * of xgw_ct_touch (lb_stage.h); kept for lb/ct_bench.c's comparison. */
void xgw_ct_prefetch(const struct xgw_ct_table *t, uint64_t h);
/* A plain load from h's home bucket (its overflow count), for a bulk pass
 * of independent loads whose misses the core overlaps. */
uint32_t xgw_ct_touch(const struct xgw_ct_table *t, uint64_t h);
/* The same with intent to write: the bucket a creation will lock. */
void xgw_ct_prefetch_w(const struct xgw_ct_table *t, uint64_t h);
/* The second step of a bulk lookup, once that bucket has arrived: scan it
 * for h's signature, prefetch the record the matching slot names (lines 0
 * and 1: the key compare, NAT and xgw_ct_update need nothing else) and
 * return a hint for xgw_ct_lookup_hint: the slot word found, 0 when the
 * key is certainly in no bucket (none matched in the home bucket and none
 * of its keys overflowed), XGW_CT_HINT_NONE when a full lookup is needed.
 * Reads only. */
#define XGW_CT_HINT_NONE 1 /* never a slot word: record indexes start at 1 */
uint64_t xgw_ct_prefetch_conn(const struct xgw_ct_table *t, uint64_t h);

/* xgw_ct_lookup_hash starting from a hint of xgw_ct_prefetch_conn taken
 * earlier in the same read-side section: the hinted record is checked
 * first (key, life, expiry), and a hint of 0 answers "absent" without
 * reading the bucket again.  The answer is the table as it was when the
 * hint was taken, or later: a caller that may have inserted the key since
 * (its own creations in between) must pass XGW_CT_HINT_NONE. */
struct xgw_ct_conn *xgw_ct_lookup_hint(struct xgw_ct_table *t, const struct xgw_ct_tuple *k,
				       uint64_t h, uint64_t hint, uint64_t now,
				       enum xgw_ct_dir *dir);

/* Lock-free lookup: the connection with tuple k in either direction, and
 * which direction matched, or NULL.  A connection that has expired at `now`
 * is not returned (and is unlinked on the spot, so that a new flow on the
 * same tuple can start).  The pointer is valid until the caller's next
 * quiescent state. */
struct xgw_ct_conn *xgw_ct_lookup(struct xgw_ct_table *t, const struct xgw_ct_tuple *k,
				  uint64_t now, enum xgw_ct_dir *dir);
struct xgw_ct_conn *xgw_ct_lookup_hash(struct xgw_ct_table *t, const struct xgw_ct_tuple *k,
				       uint64_t h, uint64_t now, enum xgw_ct_dir *dir);

/* Account one packet of `bytes` in direction dir, refresh last_seen and,
 * for TCP, step the state machine with the packet's TCP flags (the byte at
 * offset 13 of the TCP header; 0 for other protocols).  Returns the new
 * state. */
/* last_seen is only rewritten when it moved by more than this (~1 ms), so
 * that a busy flow does not store to the record on every packet for
 * nothing; timeouts are seconds. */
#define XGW_CT_SEEN_GRAIN_NS (1ull << 20)
/* XGW_TCP_FIN | XGW_TCP_RST (common/hdr.h, which this header does not
 * pull in: its kernel headers clash with net/if.h in some users). */
#define XGW_CT_TCP_FIN_RST 0x05
/* XGW_TCP_SYN, XGW_TCP_RST, XGW_TCP_ACK: a SYN alone, in the flags byte. */
#define XGW_CT_TCP_SYN_MASK 0x16
#define XGW_CT_TCP_SYN	    0x02

/* xgw_ct_update's TCP state step from state s, out of line. */
enum xgw_ct_state xgw_ct_update_state(struct xgw_ct_table *t, struct xgw_ct_conn *c,
				      enum xgw_ct_dir dir, uint8_t tcp_flags, uint64_t now,
				      enum xgw_ct_state s);

/* xgw_ct_update's accounting alone (counters, last_seen): all a packet
 * of a connection without a state machine (UDP, other) changes. */
static inline void xgw_ct_account_seen(struct xgw_ct_conn *c, enum xgw_ct_dir dir, uint32_t bytes,
				       uint64_t now, uint64_t seen);

static inline void xgw_ct_account(struct xgw_ct_conn *c, enum xgw_ct_dir dir, uint32_t bytes,
				  uint64_t now)
{
	xgw_ct_account_seen(c, dir, bytes, now,
			    atomic_load_explicit(&c->last_seen, memory_order_relaxed));
}

/* xgw_ct_account's counters alone, for a caller that refreshes
 * last_seen itself (the same benign races: xgw_ct_account_seen). */
static inline void xgw_ct_count(struct xgw_ct_conn *c, enum xgw_ct_dir dir, uint32_t bytes)
{
	/* relaxed load + store, one instruction where it can be (stat.h) */
	xgw_stat_add64((uint64_t *)&c->pkts[dir], 1);
	xgw_stat_add64((uint64_t *)&c->bytes[dir], bytes);
}

/* xgw_ct_account with c->last_seen as the caller read it (relaxed) a
 * moment ago, for a caller that tested it already. */
static inline void xgw_ct_account_seen(struct xgw_ct_conn *c, enum xgw_ct_dir dir, uint32_t bytes,
				       uint64_t now, uint64_t seen)
{
	/* Benign races, on purpose: the two directions of a flow may be
	 * handled by two workers, and a direction by two workers while RSS
	 * changes.  Counters are load+store (an increment may be lost, never
	 * corrupted: 64-bit stores are single-copy atomic), last_seen is a
	 * coarse store of roughly the same value by everyone, and a TCP
	 * transition computed from a state another worker is changing at
	 * the same moment may be lost; the next packet redoes it.  A locked
	 * read-modify-write per packet would bounce the line between cores
	 * for every packet (the thing cilium flags in its own code). */
	xgw_ct_count(c, dir, bytes);
	if (now > seen && now - seen > XGW_CT_SEEN_GRAIN_NS)
		atomic_store_explicit(&c->last_seen, now, memory_order_relaxed);
}

static inline enum xgw_ct_state xgw_ct_update(struct xgw_ct_table *t, struct xgw_ct_conn *c,
					      enum xgw_ct_dir dir, uint8_t tcp_flags,
					      uint32_t bytes, uint64_t now)
{
	xgw_ct_account(c, dir, bytes, now);

	enum xgw_ct_state s =
	    (enum xgw_ct_state)atomic_load_explicit(&c->state, memory_order_relaxed);
	/* Most packets: an established connection's segment without FIN or
	 * RST, which the state machine leaves as it is. */
	if (s == XGW_CT_ESTABLISHED && !(tcp_flags & XGW_CT_TCP_FIN_RST))
		return s;
	return xgw_ct_update_state(t, c, dir, tcp_flags, now, s);
}

/* The state-machine step alone (pure; the tests drive it as a table). */
enum xgw_ct_state xgw_ct_tcp_next(enum xgw_ct_state s, uint8_t *flags, enum xgw_ct_dir dir,
				  uint8_t tcp_flags);
/* The lifetime of a connection in state s of protocol proto, in ns. */
uint64_t xgw_ct_timeout(const struct xgw_ct_table *t, uint8_t proto, enum xgw_ct_state s);
bool xgw_ct_expired(const struct xgw_ct_table *t, const struct xgw_ct_conn *c, uint64_t now);

/* What a new connection carries besides its two tuples. */
struct xgw_ct_init {
	uint32_t backend_id;
	uint32_t service_id;
	/* Counter slot (< XGW_CT_SLOTS): the record's end is counted in
	 * xgw_ct_slot_closed(slot) when it is reclaimed; 0: not counted. */
	uint32_t slot;
	/* The first packet's length, when the caller has it accounted at the
	 * creation (one ORIG packet of that many bytes: the LB stage, which
	 * then skips the accounting's loads and stores); 0: not accounted. */
	uint32_t first_bytes;
	uint8_t tcp_flags; /* first packet's flags: picks the initial state */
	bool snat;	   /* reply.dst is an SNAT address:port */
	/* xgw_ct_hash of the orig and reply tuples when the caller has them
	 * (a bulk pass hashed them already); 0: computed here. */
	uint64_t hash[2];
	/* 1 + the creating worker's id (< XGW_CT_CACHES): that worker's
	 * admission credit, record cache and creation counter (see
	 * xgw_ct_create); 0: the table-wide ones. */
	uint16_t cache;
};

/* Per-worker creation state, as DPDK's mempool caches: each worker takes
 * admissions (room under max_entries) and free records from the table in
 * batches and counts its creations on its own cache line, so that a new
 * flow does no read-modify-write on a line every worker writes.  At most
 * XGW_CT_CACHES workers; tables whose pool slack is too small for the
 * caches (small test tables) use the table-wide path. */
#define XGW_CT_CACHES 64

/* Create a connection: the reply key is inserted first (never overwriting),
 * then the original key; if the original key exists the reply key is
 * rolled back (cilium bpf/lib/nat.h order).  Returns:
 *   0        created, *out is the new connection;
 *   1        the flow already existed (created concurrently by another
 *            worker, or still alive): *out is that connection, use it;
 *   -EEXIST  the reply tuple belongs to another flow (SNAT: try another
 *            port; DNAT: two services map onto the same backend tuple);
 *   -ENOSPC  full, even after evicting expired entries (counted as
 *            `full`; drop with XGW_DROP_CT_FULL) or all probe buckets full.
 * On success the first packet is not yet accounted: call xgw_ct_update;
 * with init->first_bytes it is, and only its TCP state step is left
 * (xgw_ct_update_state, when xgw_ct_update would take it). */
int xgw_ct_create(struct xgw_ct_table *t, const struct xgw_ct_tuple *orig,
		  const struct xgw_ct_tuple *reply, const struct xgw_ct_init *init, uint64_t now,
		  struct xgw_ct_conn **out);
/* xgw_ct_create of orig with the reply tuple a DNAT to backend:bport
 * implies (backend:bport -> orig's source), as xgw_ct_tuple_init builds
 * it: the LB stage's new flow without SNAT, which does not build that key
 * (~30 instructions per new flow, callgrind new-flows). */
int xgw_ct_create_dnat(struct xgw_ct_table *t, const struct xgw_ct_tuple *orig,
		       const struct xgw_addr *backend, uint16_t bport,
		       const struct xgw_ct_init *init, uint64_t now, struct xgw_ct_conn **out);

/* A SYN alone (tf) on a TCP connection that has closed (both FINs, or a
 * RST: TIME_WAIT, CLOSE) opens a new connection, and the closed one gives
 * way: on its own tuple (the client reused its port for the same VIP:
 * the LB stage deletes it and picks a backend afresh, as nf_conntrack
 * kills a closed connection a SYN reopens and looks up again), or on its
 * backend tuple (another VIP onto the same backend: xgw_ct_create takes
 * it over, as the backend's TIME_WAIT socket accepts such a SYN).  The
 * kernel datapath's kct_closed_reusable is the same rule. */
static inline bool xgw_ct_syn_reopens(const struct xgw_ct_conn *c, uint8_t tf)
{
	uint8_t st = atomic_load_explicit(&c->state, memory_order_relaxed);

	return c->orig.proto == IPPROTO_TCP && (tf & XGW_CT_TCP_SYN_MASK) == XGW_CT_TCP_SYN &&
	       (st == XGW_CT_TIME_WAIT || st == XGW_CT_CLOSE);
}

/* Unlink a connection from both keys; its record is reclaimed after a grace
 * period.  Returns false if someone else removed it first. */
bool xgw_ct_delete(struct xgw_ct_table *t, struct xgw_ct_conn *c);

/* Incremental GC: examine at most `budget` pool records from where the last
 * call stopped, unlink the expired ones.  Returns how many it removed.  A
 * full pass takes (max_entries * 17/16) / budget calls; workers are never
 * blocked (they may keep using an unlinked record until their next
 * quiescent state). */
unsigned xgw_ct_gc(struct xgw_ct_table *t, uint64_t now, unsigned budget);

/* Remove every connection.  Returns how many. */
unsigned xgw_ct_flush(struct xgw_ct_table *t);

/* The connections of one (service, backend): orig's destination is the
 * service (VIP, port, protocol), reply's source the backend (address,
 * port).  Ports in host order.  Both datapaths' tables are matched with
 * it (pipeline/kdp.c keys have the same tuples). */
struct xgw_ct_backend_sel {
	struct xgw_addr vip, ip;
	uint16_t vport, port;
	uint8_t proto;
};

bool xgw_ct_backend_sel_match(const struct xgw_ct_backend_sel *s, const struct xgw_ct_tuple *orig,
			      const struct xgw_ct_tuple *reply);

/* Remove the connections of one (service, backend) (a backend marked down
 * under on_down "reset").  Control thread, online.  Returns how many of
 * them had not expired at now. */
unsigned xgw_ct_flush_backend(struct xgw_ct_table *t, const struct xgw_ct_backend_sel *s,
			      uint64_t now);

/* Call cb for live connections (at most `limit`, 0 = no limit), in pool
 * order; stop early if cb returns non-zero.  Returns how many were passed.
 * For `xgwctl ct list`: the snapshot is not atomic. */
typedef int (*xgw_ct_iter_cb)(const struct xgw_ct_conn *c, uint64_t now, void *arg);
unsigned xgw_ct_foreach(struct xgw_ct_table *t, uint64_t now, unsigned limit, xgw_ct_iter_cb cb,
			void *arg);

void xgw_ct_get_stats(const struct xgw_ct_table *t, struct xgw_ct_stats *s);

/* Counter slots (struct xgw_ct_init.slot): connections of slot s that have
 * ended, counted once each when its record is reclaimed, on the call_rcu
 * thread (off the workers' path).  With the creations the LB stage counts
 * per worker, live connections per backend without a table walk. */
#define XGW_CT_SLOTS 65536
uint64_t xgw_ct_slot_closed(const struct xgw_ct_table *t, uint32_t slot);

#endif
