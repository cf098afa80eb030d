/* SPDX-License-Identifier: BSD-3-Clause */
/* Maglev table properties, with the measured numbers printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "lb/maglev.h"

#define M XGW_MAGLEV_DEFAULT_SIZE

struct pool {
	struct xgw_maglev_backend b[128];
	uint8_t key[128][XGW_MAGLEV_KEY_LEN];
	unsigned n;
};

/* Backend i is 198.18.2.(i) / 2001:db8::(i) port 8080 + i, id i + 1. */
static void pool_init(struct pool *p, unsigned n, bool v6)
{
	p->n = n;
	for (unsigned i = 0; i < n; i++) {
		struct xgw_addr a;

		if (v6) {
			uint8_t b16[16] = {0x20, 0x01, 0x0d, 0xb8};

			b16[15] = (uint8_t)i;
			xgw_addr_v6(&a, b16);
		} else {
			xgw_addr_v4(&a, htonl(0xc6120200u + i));
		}
		xgw_maglev_endpoint_key(p->key[i], &a, (uint16_t)(8080 + i));
		p->b[i] = (struct xgw_maglev_backend){
		    .id = i + 1, .weight = 1, .key = p->key[i], .key_len = XGW_MAGLEV_KEY_LEN};
	}
}

static struct xgw_maglev *build(uint32_t m, const struct pool *p)
{
	int err = 0;
	struct xgw_maglev *t = xgw_maglev_build(m, p->b, p->n, &err);

	assert_non_null(t);
	return t;
}

static void count_slots(const struct xgw_maglev *t, uint32_t *cnt, unsigned n_ids)
{
	memset(cnt, 0, sizeof(*cnt) * n_ids);
	for (uint32_t i = 0; i < t->size; i++) {
		assert_true(t->slot[i] < n_ids);
		cnt[t->slot[i]]++;
	}
}

static void test_weighted_shares(void **state)
{
	static const uint32_t weights[] = {1, 2, 3, 5, 8, 10, 4, 7, 6, 9};
	struct pool p;
	uint32_t cnt[129];
	uint64_t wsum = 0;
	double worst = 0;
	unsigned worst_i = 0;

	pool_init(&p, 100, false);
	for (unsigned i = 0; i < p.n; i++) {
		p.b[i].weight = weights[(i * 7) % 10];
		wsum += p.b[i].weight;
	}
	struct xgw_maglev *t = build(M, &p);

	count_slots(t, cnt, p.n + 1);
	assert_int_equal(cnt[0], 0);
	assert_int_equal(t->n_active, 100);
	for (unsigned i = 0; i < p.n; i++) {
		double want = (double)p.b[i].weight / (double)wsum;
		double got = (double)cnt[i + 1] / M;
		double rel = fabs(got - want) / want;

		if (rel > worst) {
			worst = rel;
			worst_i = i;
		}
	}
	printf("maglev shares: 100 backends, weights 1..10, M=%u: worst relative deviation "
	       "%.3f%% (backend %u, weight %u, %u slots, ideal %.1f)\n",
	       M, worst * 100, worst_i, p.b[worst_i].weight, cnt[worst_i + 1],
	       (double)p.b[worst_i].weight * M / (double)wsum);
	assert_true(worst <= 0.01);
	xgw_maglev_free(t);
}

/* Removing one of n backends must move that backend's slots and, by
 * Maglev's design, only few others: the paper's figure is "about 1/N". */
static void check_removal(unsigned n, bool v6)
{
	struct pool p;
	uint32_t cnt[129];

	pool_init(&p, n, v6);
	struct xgw_maglev *before = build(M, &p);
	count_slots(before, cnt, n + 1);
	unsigned victim = n / 2;
	uint32_t owned = cnt[victim + 1];

	p.b[victim] = p.b[n - 1];
	p.n--;
	struct xgw_maglev *after = build(M, &p);
	uint32_t *changed = malloc(sizeof(*changed) * M);
	uint32_t nch = xgw_maglev_diff(before, after, changed);

	/* Every slot the victim had moved, and the list is ascending. */
	for (uint32_t i = 0; i < M; i++)
		if (before->slot[i] == victim + 1)
			assert_int_not_equal(after->slot[i], victim + 1);
	for (uint32_t i = 1; i < nch; i++)
		assert_true(changed[i - 1] < changed[i]);
	double frac = (double)nch / M;

	printf("maglev removal (%s): 1 of %u backends removed: %u of %u slots changed = %.4f "
	       "(1/N = %.4f, victim owned %u, others disturbed %u)\n",
	       v6 ? "v6" : "v4", n, nch, M, frac, 1.0 / n, owned, nch - owned);
	assert_true(nch >= owned);
	/* Bound: the minimum 1/N plus at most as much again of collateral
	 * movement; the paper reports far less at M >> N. */
	assert_true(frac <= 2.0 / n);
	free(changed);
	xgw_maglev_free(before);
	xgw_maglev_free(after);
}

static void test_removal(void **state)
{
	check_removal(10, false);
	check_removal(100, false);
	check_removal(10, true);
	check_removal(100, true);
}

static void test_zero_weights(void **state)
{
	struct pool p;
	uint32_t cnt[11];

	pool_init(&p, 10, false);
	for (unsigned i = 0; i < p.n; i++)
		p.b[i].weight = 0;
	struct xgw_maglev *t = build(M, &p);
	count_slots(t, cnt, 11);
	assert_int_equal(cnt[0], M);
	assert_int_equal(t->n_active, 0);
	xgw_maglev_free(t);

	p.n = 0;
	t = build(251, &p);
	count_slots(t, cnt, 1);
	assert_int_equal(cnt[0], 251);
	assert_int_equal(xgw_maglev_pick(t, 12345), XGW_MAGLEV_NONE);
	xgw_maglev_free(t);
}

static void test_draining(void **state)
{
	struct pool p;
	uint32_t cnt[11];

	pool_init(&p, 10, false);
	p.b[3].weight = 0;
	p.b[7].weight = 0;
	struct xgw_maglev *t = build(M, &p);
	count_slots(t, cnt, 11);
	assert_int_equal(cnt[0], 0);
	assert_int_equal(cnt[4], 0);
	assert_int_equal(cnt[8], 0);
	assert_int_equal(t->n_active, 8);
	for (unsigned i = 1; i <= 10; i++)
		if (i != 4 && i != 8)
			assert_true(cnt[i] >= M / 8 - 1 && cnt[i] <= M / 8 + 1);
	xgw_maglev_free(t);
}

static void test_sizes(void **state)
{
	static const uint32_t bad[] = {
	    0, 1, 4, 9, 65535, 65536, 65539 * 3u, 1000000, XGW_MAGLEV_MAX_SIZE + 15u};
	static const uint32_t good[] = {2, 3, 5, 251, 4093, 65537, 131071, 1000003};
	struct pool p;
	int err;

	pool_init(&p, 3, false);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = 0;
		assert_int_equal(xgw_maglev_check_size(bad[i]), -EINVAL);
		assert_null(xgw_maglev_build(bad[i], p.b, p.n, &err));
		assert_int_equal(err, -EINVAL);
	}
	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint32_t cnt[4];

		assert_int_equal(xgw_maglev_check_size(good[i]), 0);
		struct xgw_maglev *t = build(good[i], &p);
		count_slots(t, cnt, 4);
		assert_int_equal(cnt[0], 0);
		xgw_maglev_free(t);
	}
}

static void test_bad_backends(void **state)
{
	struct pool p;
	int err;

	pool_init(&p, 4, false);
	p.b[2].id = 0;
	err = 0;
	assert_null(xgw_maglev_build(M, p.b, p.n, &err));
	assert_int_equal(err, -EINVAL);
	pool_init(&p, 4, false);
	p.b[2].id = p.b[1].id;
	err = 0;
	assert_null(xgw_maglev_build(M, p.b, p.n, &err));
	assert_int_equal(err, -EINVAL);
	pool_init(&p, 4, false);
	p.b[2].key = p.b[1].key;
	err = 0;
	assert_null(xgw_maglev_build(M, p.b, p.n, &err));
	assert_int_equal(err, -EINVAL);
}

/* Same backend set in any order (ids travel with their keys) gives the
 * same table; the ids are only labels. */
static void test_deterministic(void **state)
{
	struct pool p;

	pool_init(&p, 50, false);
	for (unsigned i = 0; i < p.n; i++)
		p.b[i].weight = 1 + i % 3;
	struct xgw_maglev *ref = build(M, &p);

	srandom(7);
	for (int round = 0; round < 5; round++) {
		for (unsigned i = p.n - 1; i > 0; i--) {
			unsigned j = (unsigned)random() % (i + 1);
			struct xgw_maglev_backend tmp = p.b[i];

			p.b[i] = p.b[j];
			p.b[j] = tmp;
		}
		struct xgw_maglev *t = build(M, &p);
		assert_int_equal(xgw_maglev_diff(ref, t, NULL), 0);
		xgw_maglev_free(t);
	}
	/* A different size or no old table: everything is "changed". */
	assert_int_equal(xgw_maglev_diff(NULL, ref, NULL), M);
	xgw_maglev_free(ref);
}

static void test_fastmod(void **state)
{
	static const uint32_t sizes[] = {2, 3, 251, 65537, 1000003, 67108859};
	struct xgw_maglev t;

	srandom(1);
	for (unsigned s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		t.size = sizes[s];
		t.fastmod = UINT64_MAX / sizes[s] + 1;
		assert_int_equal(xgw_maglev_index(&t, 0), 0);
		assert_int_equal(xgw_maglev_index(&t, UINT32_MAX), UINT32_MAX % sizes[s]);
		for (int i = 0; i < 200000; i++) {
			uint32_t h = (uint32_t)random() ^ ((uint32_t)random() << 16);

			assert_int_equal(xgw_maglev_index(&t, h), h % sizes[s]);
		}
	}
}

/* The flow hash must spread near-identical tuples (one port apart, v4 and
 * v6) evenly: chi-square over 256 buckets of the low byte and the value
 * mod 65537 as Maglev uses it. */
static void test_flow_hash(void **state)
{
	struct xgw_addr s4, d4, s6, d6;
	uint8_t b16[16] = {0x20, 0x01, 0x0d, 0xb8};
	static uint32_t bucket[256];
	const unsigned n = 256 * 1000;

	xgw_addr_v4(&s4, htonl(0xc6120001));
	xgw_addr_v4(&d4, htonl(0xc6126401));
	xgw_addr_v6(&s6, b16);
	b16[15] = 1;
	xgw_addr_v6(&d6, b16);
	assert_int_equal(xgw_flow_hash(&s4, &d4, 1, 80, 6, 0),
			 xgw_flow_hash(&s4, &d4, 1, 80, 6, 0));
	assert_int_not_equal(xgw_flow_hash(&s4, &d4, 1, 80, 6, 0),
			     xgw_flow_hash(&s4, &d4, 1, 80, 17, 0));
	assert_int_not_equal(xgw_flow_hash(&s4, &d4, 1, 80, 6, 0),
			     xgw_flow_hash(&s4, &d4, 1, 80, 6, 1));
	for (int fam = 0; fam < 2; fam++) {
		double chi = 0, e = (double)n / 256;

		memset(bucket, 0, sizeof(bucket));
		for (unsigned i = 0; i < n; i++) {
			uint32_t h = fam ? xgw_flow_hash(&s6, &d6, htons((uint16_t)i),
							 htons((uint16_t)(80 + (i >> 16))), 6, 42)
					 : xgw_flow_hash(&s4, &d4, htons((uint16_t)i),
							 htons((uint16_t)(80 + (i >> 16))), 6, 42);
			bucket[(h % M) & 0xff]++;
		}
		for (int b = 0; b < 256; b++)
			chi += (bucket[b] - e) * (bucket[b] - e) / e;
		printf("flow hash %s: chi-square over 256 buckets = %.1f (255 dof)\n",
		       fam ? "v6" : "v4", chi);
		/* p = 0.0001 critical value for 255 dof is about 346. */
		assert_true(chi < 346);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_weighted_shares), cmocka_unit_test(test_removal),
	    cmocka_unit_test(test_zero_weights),    cmocka_unit_test(test_draining),
	    cmocka_unit_test(test_sizes),	    cmocka_unit_test(test_bad_backends),
	    cmocka_unit_test(test_deterministic),   cmocka_unit_test(test_fastmod),
	    cmocka_unit_test(test_flow_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
