/* SPDX-License-Identifier: BSD-3-Clause */
/* Conntrack under concurrent lookup against delete, expiry, GC, eviction,
 * flush and record reuse.
 *
 * Reader threads (the workers' side) look flows up by either key, with and
 * without the bulk hint, account packets on what they find, and check that
 * every record returned is the flow asked for: both tuples, backend,
 * service, counter slot and SNAT flag are functions of the flow's number,
 * so a record recycled for another flow while a reader still held it shows
 * as a mismatch.  Each reader checks its records again at the end of its
 * read-side section, just before its quiescent state: a grace period that
 * ended too early, or a lookup that returned an unlinked record, is caught
 * there.  A writer creates and deletes flows in a pool small enough that
 * records are reused within milliseconds (and again in a table large
 * enough for the per-worker creation caches); a control thread runs the
 * incremental GC, walks the table (checking every live record the same
 * way) and now and then flushes it.  Time is a virtual clock the writer
 * advances (four times as fast as wall time), so flows expire under the readers (who then unlink
 * them on lookup) and the GC, and a full table evicts.
 *
 * At the end the counters balance (live = created - every kind of removal),
 * every ended connection was counted once in its slot, and the pool is
 * whole again: max_entries new flows fit after a flush.
 *
 * Bounded: STRESS_MAX_OPS writer operations or STRESS_SECONDS of wall
 * time per table, whichever comes first once the control thread has
 * flushed twice (every 0.5 s), and never past STRESS_HARD_SECS (fewer
 * operations under valgrind, where threads run one at a time;
 * XGW_CT_STRESS_OPS overrides). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#include "common/tsan.h"
#include "lb/conntrack.h"

#define S  1000000000ull
#define MS 1000000ull

/* Two tables: a small one (256 entries: a pool of 256 + 16 + 64 records,
 * reused within milliseconds, full most of the time, so admissions evict)
 * under four times as many flow numbers; and one large enough for the
 * per-worker creation caches (xgw_ct_init.cache), whose records go
 * through the caches' batched pops and refills. */
#define SMALL_ENT    256
#define SMALL_FLOWS  1024
#define CACHED_ENT   32768
#define CACHED_FLOWS 40000
#define SEEN_SLOTS   (1u << 17) /* > 2 x the large pool (34,880 records) */
#define N_READERS    2
#define N_SLOTS	     4000
#define BATCH	     16 /* lookups per read-side section */

#define STRESS_MAX_OPS	 400000
#define STRESS_VG_OPS	 20000
#define STRESS_MIN_OPS	 2000 /* below this the test proves nothing */
#define STRESS_SECONDS	 1.5  /* per table */
#define STRESS_HARD_SECS 60.0 /* even a crawling sanitizer stops here */
#define FLUSH_EVERY	 0.5  /* seconds of wall time */
/* Virtual time runs this many times faster than wall time: timeouts are
 * 1-2 s, so a flow left idle expires after 0.25 s, twice between two
 * flushes, however slowly a sanitizer runs the threads. */
#define TIME_SCALE 4

static const struct xgw_ct_cfg base_cfg = {
    .tcp_timeout_s = 2,
    .tcp_syn_timeout_s = 1,
    .tcp_close_timeout_s = 1,
    .udp_timeout_s = 1,
    .other_timeout_s = 1,
};

/* Flow i: client 198.18.(i>>8).(i&255):(10000+i) -> VIP 198.19.0.1:80
 * (2001:db8::... for one flow in four), TCP for odd i, UDP for even; the
 * backend and, for one in three, the SNAT address:port are functions of i
 * too, and so are the record's ids. */
static bool flow_v6(unsigned i)
{
	return (i & 3) == 3;
}

static bool flow_snat(unsigned i)
{
	return i % 3 == 0;
}

static uint32_t flow_backend(unsigned i)
{
	return i * 2654435761u ^ 0x5bd1e995u;
}

static uint32_t flow_service(unsigned i)
{
	return 77 + i * 13;
}

static uint32_t flow_slot(unsigned i)
{
	return 1 + i % N_SLOTS;
}

static void mkaddr(struct xgw_addr *a, bool v6, uint32_t host)
{
	if (v6) {
		uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8};
		b[12] = (uint8_t)(host >> 24);
		b[13] = (uint8_t)(host >> 16);
		b[14] = (uint8_t)(host >> 8);
		b[15] = (uint8_t)host;
		xgw_addr_v6(a, b);
	} else {
		xgw_addr_v4(a, htonl(0xc6120000u | (host & 0x1ffff)));
	}
}

static void flow(unsigned i, struct xgw_ct_tuple *o, struct xgw_ct_tuple *r)
{
	struct xgw_addr c, v, b, g;
	bool v6 = flow_v6(i);
	uint8_t proto = i & 1 ? IPPROTO_TCP : IPPROTO_UDP;
	uint16_t cport = htons((uint16_t)(10000 + i));

	mkaddr(&c, v6, i);
	mkaddr(&v, v6, 0x10001);
	mkaddr(&b, v6, 0x1c800 | (i % 32));
	mkaddr(&g, v6, 0x1fa01);
	xgw_ct_tuple_init(o, &c, cport, &v, htons(80), proto);
	if (flow_snat(i))
		xgw_ct_tuple_init(r, &b, htons((uint16_t)(8000 + i % 7)), &g,
				  htons((uint16_t)(20000 + i)), proto);
	else
		xgw_ct_tuple_init(r, &b, htons((uint16_t)(8000 + i % 7)), &c, cport, proto);
}

static bool ctuple_is(const struct xgw_ct_ctuple *c, const struct xgw_ct_tuple *k)
{
	struct xgw_ct_tuple m;

	xgw_ct_ctuple_key(&m, c);
	return !memcmp(&m, k, sizeof(m));
}

/* 0 if c is flow i in every field a lookup's user reads; else which field
 * differs (for the failure message). */
static int check_flow(const struct xgw_ct_conn *c, unsigned i)
{
	struct xgw_ct_tuple o, r;

	flow(i, &o, &r);
	if (!ctuple_is(&c->orig, &o))
		return 1;
	if (!ctuple_is(&c->reply, &r))
		return 2;
	if (c->backend_id != flow_backend(i))
		return 3;
	if (c->service_id != flow_service(i))
		return 4;
	if (c->slot != flow_slot(i))
		return 5;
	if (!!(atomic_load_explicit(&c->flags, memory_order_relaxed) & XGW_CT_F_SNAT) !=
	    flow_snat(i))
		return 6;
	return 0;
}

/* The flow number a record claims to be, from its client port. */
static unsigned flow_of(const struct xgw_ct_conn *c)
{
	return ntohs(c->orig.sport) - 10000u;
}

struct shared {
	struct xgw_ct_table *t;
	unsigned n_flows;
	uint16_t cache;	      /* the writer's xgw_ct_init.cache */
	_Atomic uint64_t now; /* virtual clock, advanced by the writer */
	_Atomic bool stop;
	_Atomic unsigned flushes; /* by the control thread */
	_Atomic unsigned started;
	/* first mismatch seen by anyone, for the message */
	_Atomic unsigned bad;
	_Atomic int bad_field;
	_Atomic unsigned bad_flow, bad_claims;
};

static void report_bad(struct shared *sh, int field, unsigned want, const struct xgw_ct_conn *c)
{
	if (atomic_fetch_add(&sh->bad, 1) == 0) {
		atomic_store(&sh->bad_field, field);
		atomic_store(&sh->bad_flow, want);
		atomic_store(&sh->bad_claims, flow_of(c));
	}
}

static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void quiescent(void)
{
	XGW_TSAN_RCU_QS();
	rcu_quiescent_state();
}

static void wait_start(struct shared *sh)
{
	atomic_fetch_add(&sh->started, 1);
	while (atomic_load(&sh->started) < N_READERS + 2)
		sched_yield();
}

/* --- readers: the workers' lookups ----------------------------------------- */

struct reader {
	struct shared *sh;
	unsigned id;
	uint64_t lookups, found, rechecked;
};

static void *reader_main(void *p)
{
	struct reader *rd = p;
	struct shared *sh = rd->sh;
	struct xgw_ct_table *t = sh->t;
	uint64_t seed = 0x9e3779b97f4a7c15ull * (rd->id + 1);
	const struct xgw_ct_conn *held[BATCH];
	unsigned held_flow[BATCH];

	rcu_register_thread();
	wait_start(sh);
	for (uint64_t round = 0; !atomic_load_explicit(&sh->stop, memory_order_relaxed); round++) {
		unsigned n = 0;
		for (unsigned b = 0; b < BATCH; b++) {
			uint64_t r = xs(&seed);
			unsigned i = (unsigned)(r % sh->n_flows);
			enum xgw_ct_dir want = (r >> 20) & 1 ? XGW_CT_REPLY : XGW_CT_ORIG, d;
			struct xgw_ct_tuple k[2];
			struct xgw_ct_conn *c;
			uint64_t now = atomic_load_explicit(&sh->now, memory_order_relaxed);

			flow(i, &k[XGW_CT_ORIG], &k[XGW_CT_REPLY]);
			if ((r >> 24) & 1) {
				/* the LB stage's bulk form: hint, then lookup */
				uint64_t h = xgw_ct_hash(t, &k[want]);
				uint64_t hint = xgw_ct_prefetch_conn(t, h);
				c = xgw_ct_lookup_hint(t, &k[want], h, hint, now, &d);
			} else {
				c = xgw_ct_lookup(t, &k[want], now, &d);
			}
			rd->lookups++;
			if (!c)
				continue;
			rd->found++;
			int f = d != want ? 7 : check_flow(c, i);
			if (f)
				report_bad(sh, f, i, c);
			/* A packet of the flow: counters, last_seen, TCP
			 * state.  Flows with bit 2 set get none and go idle,
			 * so that they expire under the readers' eyes. */
			if (!(i & 4))
				xgw_ct_update(t, c, d,
					      i & 1 ? (uint8_t)(0x10 | ((r >> 28) & 0x07)) : 0, 64,
					      now);
			held[n] = c;
			held_flow[n++] = i;
		}
		/* Still inside the read-side section: whatever happened to
		 * these records since (deleted, expired, flushed), none may
		 * have been reused yet. */
		for (unsigned j = 0; j < n; j++) {
			int f = check_flow(held[j], held_flow[j]);
			if (f)
				report_bad(sh, 10 + f, held_flow[j], held[j]);
			rd->rechecked++;
		}
		if ((round & 255) == 255) {
			/* a worker going idle: grace periods go on without it */
			XGW_TSAN_RCU_QS();
			rcu_thread_offline();
			sched_yield();
			rcu_thread_online();
		} else {
			quiescent();
		}
		/* valgrind runs one thread at a time, in long slices: without
		 * this the writer gets few turns */
		if (RUNNING_ON_VALGRIND)
			sched_yield();
	}
	XGW_TSAN_RCU_QS();
	rcu_unregister_thread();
	return NULL;
}

/* --- writer: creations and deletions -------------------------------------- */

struct writer {
	struct shared *sh;
	uint64_t max_ops, ops;
	double secs;
	uint64_t created, deleted, refused, exists, reused;
};

static double elapsed(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void *writer_main(void *p)
{
	struct writer *w = p;
	struct shared *sh = w->sh;
	struct xgw_ct_table *t = sh->t;
	uint64_t seed = 0x2545f4914f6cdd1dull;
	/* the flow each record last carried, to count reuse: a pointer hash
	 * (linear probing) with room for every record of the pool */
	const struct xgw_ct_conn **seen = calloc(SEEN_SLOTS, sizeof(*seen));
	unsigned *seen_flow = calloc(SEEN_SLOTS, sizeof(*seen_flow));
	struct timespec t0;

	rcu_register_thread();
	wait_start(sh);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (w->ops = 0;; w->ops++) {
		/* Done at max_ops or STRESS_SECONDS, once the control thread
		 * flushed twice under us. */
		if (!(w->ops & 255)) {
			double e = elapsed(&t0);
			if (((w->ops >= w->max_ops ||
			      (e >= STRESS_SECONDS && w->ops >= STRESS_MIN_OPS)) &&
			     atomic_load(&sh->flushes) >= 2) ||
			    e >= STRESS_HARD_SECS)
				break;
		}
		uint64_t now = 1000 * S + (uint64_t)(elapsed(&t0) * 1e9) * TIME_SCALE;
		atomic_store_explicit(&sh->now, now, memory_order_relaxed);
		uint64_t r = xs(&seed);
		unsigned i = (unsigned)(r % sh->n_flows);
		struct xgw_ct_tuple o, rp;
		struct xgw_ct_conn *c;
		enum xgw_ct_dir d;

		flow(i, &o, &rp);
		c = xgw_ct_lookup(t, &o, now, &d);
		if (c) {
			int f = check_flow(c, i);
			if (f)
				report_bad(sh, 20 + f, i, c);
			if ((r >> 32) % 3 == 0 && xgw_ct_delete(t, c))
				w->deleted++;
		} else {
			struct xgw_ct_init in = {
			    .backend_id = flow_backend(i),
			    .service_id = flow_service(i),
			    .slot = flow_slot(i),
			    .tcp_flags = 0x02, /* SYN */
			    .snat = flow_snat(i),
			    .cache = sh->cache,
			};
			int ret = xgw_ct_create(t, &o, &rp, &in, now, &c);
			if (ret == 0) {
				w->created++;
				/* a record that carried another flow before */
				size_t j =
				    ((uintptr_t)c / sizeof(*c) * 0x9e3779b1u) & (SEEN_SLOTS - 1);
				while (seen[j] && seen[j] != c)
					j = (j + 1) & (SEEN_SLOTS - 1);
				if (seen[j] && seen_flow[j] != i)
					w->reused++;
				seen[j] = c;
				seen_flow[j] = i;
			} else if (ret == -ENOSPC) {
				/* Full, or every spare record is still in its
				 * grace period: let the call_rcu thread run, as
				 * a worker's idle poll would. */
				w->refused++;
				XGW_TSAN_RCU_QS();
				rcu_thread_offline();
				nanosleep(&(struct timespec){.tv_nsec = 20000}, NULL);
				rcu_thread_online();
			} else {
				/* one creator: the flow cannot exist (1), and
				 * reply tuples are unique per flow (-EEXIST) */
				w->exists++;
			}
		}
		if ((w->ops & 31) == 31)
			quiescent();
	}
	w->secs = elapsed(&t0);
	atomic_store(&sh->stop, true);
	XGW_TSAN_RCU_QS();
	rcu_unregister_thread();
	free(seen);
	free(seen_flow);
	return NULL;
}

/* --- control thread: GC, walks, flushes ------------------------------------ */

struct control {
	struct shared *sh;
	uint64_t gc_calls, gc_removed, flushed, walked;
};

static int walk_cb(const struct xgw_ct_conn *c, uint64_t now, void *arg)
{
	struct shared *sh = arg;
	unsigned i = flow_of(c);
	int f = i < sh->n_flows ? check_flow(c, i) : 1;

	(void)now;
	if (f)
		report_bad(sh, 30 + f, i, c);
	return 0;
}

static void *control_main(void *p)
{
	struct control *k = p;
	struct shared *sh = k->sh;
	struct timespec t_flush;

	rcu_register_thread();
	wait_start(sh);
	clock_gettime(CLOCK_MONOTONIC, &t_flush);
	while (!atomic_load(&sh->stop)) {
		uint64_t now = atomic_load_explicit(&sh->now, memory_order_relaxed);
		k->gc_removed += xgw_ct_gc(sh->t, now, 32);
		k->gc_calls++;
		if (!(k->gc_calls & 63))
			k->walked += xgw_ct_foreach(sh->t, now, 0, walk_cb, sh);
		/* a flush every FLUSH_EVERY seconds, however few turns this
		 * thread gets (TSan, valgrind) */
		if (elapsed(&t_flush) >= FLUSH_EVERY) {
			k->flushed += xgw_ct_flush(sh->t);
			atomic_fetch_add(&sh->flushes, 1);
			clock_gettime(CLOCK_MONOTONIC, &t_flush);
		}
		quiescent();
		sched_yield();
	}
	XGW_TSAN_RCU_QS();
	rcu_unregister_thread();
	return NULL;
}

static uint64_t stress_ops(void)
{
	const char *e = getenv("XGW_CT_STRESS_OPS");

	if (e && *e)
		return strtoull(e, NULL, 10);
	return RUNNING_ON_VALGRIND ? STRESS_VG_OPS : STRESS_MAX_OPS;
}

static void stress(unsigned max_ent, unsigned n_flows, bool cached)
{
	struct xgw_ct_cfg cfg = base_cfg;
	struct shared sh = {.now = 1000 * S, .n_flows = n_flows, .cache = cached ? 1 : 0};
	struct reader rd[N_READERS];
	struct writer w = {.sh = &sh, .max_ops = stress_ops()};
	struct control k = {.sh = &sh};
	pthread_t th[N_READERS + 2];
	struct xgw_ct_stats st;
	uint64_t lookups = 0, found = 0, rechecked = 0;

	cfg.max_entries = max_ent;
	sh.t = xgw_ct_new(&cfg);
	assert_non_null(sh.t);
	/* the test thread holds no reference while the others run */
	XGW_TSAN_RCU_QS();
	rcu_thread_offline();
	for (unsigned j = 0; j < N_READERS; j++) {
		rd[j] = (struct reader){.sh = &sh, .id = j};
		assert_int_equal(pthread_create(&th[j], NULL, reader_main, &rd[j]), 0);
	}
	assert_int_equal(pthread_create(&th[N_READERS], NULL, writer_main, &w), 0);
	assert_int_equal(pthread_create(&th[N_READERS + 1], NULL, control_main, &k), 0);
	for (unsigned j = 0; j < N_READERS + 2; j++)
		pthread_join(th[j], NULL);
	rcu_thread_online();

	for (unsigned j = 0; j < N_READERS; j++) {
		lookups += rd[j].lookups;
		found += rd[j].found;
		rechecked += rd[j].rechecked;
	}
	xgw_ct_get_stats(sh.t, &st);
	printf("stress, %u entries%s: %llu writer ops in %.2f s (%llu created, %llu deleted, %llu "
	       "refused, "
	       "%llu records reused for another flow); readers: %llu lookups, %llu found, "
	       "%llu rechecked; control: %llu GC calls removed %llu, %llu flushes removed %llu, "
	       "%llu records walked; table: expired %llu evicted %llu live %llu\n",
	       max_ent, cached ? " (creation caches)" : "", (unsigned long long)w.ops, w.secs,
	       (unsigned long long)w.created, (unsigned long long)w.deleted,
	       (unsigned long long)w.refused, (unsigned long long)w.reused,
	       (unsigned long long)lookups, (unsigned long long)found,
	       (unsigned long long)rechecked, (unsigned long long)k.gc_calls,
	       (unsigned long long)k.gc_removed, (unsigned long long)atomic_load(&sh.flushes),
	       (unsigned long long)k.flushed, (unsigned long long)k.walked,
	       (unsigned long long)st.expired, (unsigned long long)st.evicted,
	       (unsigned long long)st.live);

	/* never the wrong flow's record */
	if (atomic_load(&sh.bad))
		fail_msg("%u wrong records; first: asked for flow %u, field %d differs, record "
			 "claims flow %u",
			 atomic_load(&sh.bad), atomic_load(&sh.bad_flow),
			 atomic_load(&sh.bad_field), atomic_load(&sh.bad_claims));
	assert_int_equal(w.exists, 0);
	/* the race was run: records were reused under the readers, and every
	 * kind of removal happened */
	assert_true(w.ops >= STRESS_MIN_OPS);
	assert_true(w.reused > 0);
	assert_true(found > 0);
	assert_true(w.deleted > 0);
	assert_true(st.expired + st.evicted > 0);
	assert_true(atomic_load(&sh.flushes) >= 2);
	assert_true(k.gc_calls > 0);

	/* counters balance: every creation is live or was removed once */
	assert_int_equal(st.created, w.created);
	assert_int_equal(st.live, st.created - st.expired - st.evicted - w.deleted - k.flushed);
	assert_true(st.live <= max_ent);
	assert_true(st.expired >= k.gc_removed);

	/* every ended connection counted once in its slot, after reclaim */
	uint64_t live = st.live;
	assert_int_equal(xgw_ct_flush(sh.t), live);
	xgw_ct_reclaim_wait();
	uint64_t closed = 0;
	for (unsigned s = 1; s <= N_SLOTS; s++)
		closed += xgw_ct_slot_closed(sh.t, s);
	assert_int_equal(closed, st.created);
	xgw_ct_get_stats(sh.t, &st);
	assert_int_equal(st.live, 0);

	/* the pool is whole: max_entries new flows fit, one more does not
	 * (the small table: the large one's caches hold records and room) */
	uint64_t now = atomic_load(&sh.now);
	for (unsigned i = 0; !cached && i <= max_ent; i++) {
		struct xgw_ct_tuple o, r;
		struct xgw_ct_init in = {.slot = flow_slot(i)};
		struct xgw_ct_conn *c;
		flow(i, &o, &r);
		assert_int_equal(xgw_ct_create(sh.t, &o, &r, &in, now, &c),
				 i < max_ent ? 0 : -ENOSPC);
	}
	quiescent();
	xgw_ct_free(sh.t);
}

static void test_small_table(void **state)
{
	(void)state;
	stress(SMALL_ENT, SMALL_FLOWS, false);
}

static void test_creation_caches(void **state)
{
	(void)state;
	stress(CACHED_ENT, CACHED_FLOWS, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_small_table),
	    cmocka_unit_test(test_creation_caches),
	};
	int r;

	rcu_register_thread();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return r;
}
