/* SPDX-License-Identifier: BSD-3-Clause */
/* Conntrack micro-benchmark: established-flow lookups (one at a time and
 * in bursts of 32 with the bucket prefetched a burst ahead), flow creation,
 * and NAT of a TCP packet, on one thread.
 *
 *   ct_bench FLOWS [LOOKUPS] [ROUNDS]
 *
 * Prints the median ns per operation over ROUNDS rounds.  For instruction
 * counts run it under `valgrind --tool=callgrind` with few lookups and read
 * the inclusive cost of xgw_ct_lookup_hash per call (callgrind_annotate
 * --inclusive=yes).
 *
 * Built by lb/meson.build as BUILD/lb/ct_bench (not run as a test);
 * figures are in bench/README.md.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lb/conntrack.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	unsigned flows = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 1000;
	unsigned lookups = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 10000000;
	int rounds = argc > 3 ? atoi(argv[3]) : 5;
	struct xgw_ct_cfg cfg = {.max_entries = flows};
	struct xgw_ct_tuple *keys = malloc((size_t)flows * 2 * sizeof(*keys));
	unsigned *order = malloc((size_t)lookups * sizeof(*order));
	double r_one[16], r_bulk[16], r_new[16];
	volatile uintptr_t sink = 0;
	const uint64_t now = 1000000000ull;

	if (rounds > 16)
		rounds = 16;
	rcu_register_thread();
	struct xgw_ct_table *t = xgw_ct_new(&cfg);
	if (!t || !keys || !order)
		return 1;
	for (unsigned i = 0; i < flows; i++) {
		struct xgw_addr c, v, b;
		struct xgw_ct_init in = {.backend_id = 1, .tcp_flags = 0x10};
		struct xgw_ct_conn *conn;
		xgw_addr_v4(&c, (uint32_t)rnd());
		xgw_addr_v4(&v, htonl(0xc6126401u));
		xgw_addr_v4(&b, (uint32_t)rnd());
		uint16_t cp = (uint16_t)rnd();
		xgw_ct_tuple_init(&keys[2 * i], &c, cp, &v, htons(80), IPPROTO_TCP);
		xgw_ct_tuple_init(&keys[2 * i + 1], &b, htons(8080), &c, cp, IPPROTO_TCP);
		if (xgw_ct_create(t, &keys[2 * i], &keys[2 * i + 1], &in, now, &conn) != 0) {
			i--; /* random collision: draw again */
			continue;
		}
	}
	/* The keys to look up, both directions, in a random order and read
	 * sequentially, as a worker reads them from packets already in cache:
	 * only the table's own misses are measured. */
	unsigned nk = 2 * flows;
	struct xgw_ct_tuple *lk = malloc((size_t)nk * sizeof(*lk));
	for (unsigned i = 0; i < nk; i++) {
		unsigned j = (unsigned)(rnd() % (i + 1));
		lk[i] = lk[j];
		lk[j] = keys[i];
	}
	for (unsigned i = 0; i < lookups; i++)
		order[i] = i % nk;

	for (int r = 0; r < rounds; r++) {
		enum xgw_ct_dir d;
		uint64_t t0 = ns();
		for (unsigned i = 0; i < lookups; i++)
			sink += (uintptr_t)xgw_ct_lookup(t, &lk[order[i]], now, &d);
		r_one[r] = (double)(ns() - t0) / lookups;

		/* bursts: hash and prefetch burst k+1 while looking up burst k */
		enum { B = 32 };
		uint64_t h[2][B];
		t0 = ns();
		for (unsigned j = 0; j < B && j < lookups; j++) {
			h[0][j] = xgw_ct_hash(t, &lk[order[j]]);
			xgw_ct_prefetch(t, h[0][j]);
		}
		for (unsigned i = 0, k = 0; i + B <= lookups; i += B, k ^= 1) {
			for (unsigned j = 0; j < B && i + B + j < lookups; j++) {
				h[k ^ 1][j] = xgw_ct_hash(t, &lk[order[i + B + j]]);
				xgw_ct_prefetch(t, h[k ^ 1][j]);
			}
			for (unsigned j = 0; j < B; j++)
				sink += (uintptr_t)xgw_ct_lookup_hash(t, &lk[order[i + j]], h[k][j],
								      now, &d);
		}
		r_bulk[r] = (double)(ns() - t0) / (lookups / B * B);
		rcu_quiescent_state();
	}

	/* creation: flush, then create the flows again (admission, pool pop,
	 * two locked inserts) */
	for (int r = 0; r < rounds; r++) {
		xgw_ct_flush(t);
		xgw_ct_reclaim_wait();
		uint64_t t0 = ns();
		for (unsigned i = 0; i < flows; i++) {
			struct xgw_ct_init in = {.backend_id = 1, .tcp_flags = 0x02};
			struct xgw_ct_conn *conn;
			sink += (uintptr_t)xgw_ct_create(t, &keys[2 * i], &keys[2 * i + 1], &in,
							 now, &conn);
		}
		r_new[r] = (double)(ns() - t0) / flows;
	}
	struct xgw_ct_stats st;
	xgw_ct_get_stats(t, &st);
	printf("flows %u  lookups %u x %d rounds (medians):  lookup %.1f ns  "
	       "burst-prefetched lookup %.1f ns  create %.1f ns  (live %llu)\n",
	       flows, lookups, rounds, median(r_one, rounds), median(r_bulk, rounds),
	       median(r_new, rounds), (unsigned long long)st.live);
	xgw_ct_free(t);
	rcu_unregister_thread();
	free(keys);
	free(order);
	free(lk);
	(void)sink; /* clang 14: a volatile only written is "set but not used" */
	return 0;
}
