/* SPDX-License-Identifier: BSD-3-Clause */
/* FIB: longest-prefix match over v4 and v6 against a brute-force reference
 * while routes are added, replaced and deleted one by one; multipath
 * groups; metrics; memory given back; neighbour lookups; static entries
 * overriding learnt ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pipeline/fib.h"

static struct xgw_route mkroute(const char *pfx, const char *via, int oif)
{
	struct xgw_route r = {0};

	assert_int_equal(xgw_prefix_parse(&r.dst, pfx), 0);
	if (via)
		assert_int_equal(xgw_addr_parse(&r.via, via), 0);
	r.oif = oif;
	r.port = XGW_PORT_NONE;
	return r;
}

static int lookup_oif(const struct xgw_fib *f, const char *a)
{
	struct xgw_addr x;
	const struct xgw_nh *r;

	assert_int_equal(xgw_addr_parse(&x, a), 0);
	r = xgw_fib_lookup(f, &x, 0);
	return r ? r->oif : -1;
}

static void test_lpm_basic(void **state)
{
	struct xgw_route rs[] = {
		mkroute("0.0.0.0/0", "198.18.1.254", 1),
		mkroute("198.18.0.0/15", NULL, 2),
		mkroute("198.18.2.0/24", NULL, 3),
		mkroute("198.18.2.128/25", NULL, 4),
		mkroute("198.18.2.7/32", NULL, 5),
		mkroute("2001:db8::/32", NULL, 6),
		mkroute("2001:db8:2::/64", NULL, 7),
	};
	struct xgw_fib *f = xgw_fib_build(rs, 7, NULL, 0);

	assert_non_null(f);
	assert_int_equal(lookup_oif(f, "8.8.8.8"), 1);
	assert_int_equal(lookup_oif(f, "198.19.0.1"), 2);
	assert_int_equal(lookup_oif(f, "198.18.2.1"), 3);
	assert_int_equal(lookup_oif(f, "198.18.2.200"), 4);
	assert_int_equal(lookup_oif(f, "198.18.2.7"), 5);
	assert_int_equal(lookup_oif(f, "2001:db8:1::1"), 6);
	assert_int_equal(lookup_oif(f, "2001:db8:2::1"), 7);
	assert_int_equal(lookup_oif(f, "2001:db9::1"), -1); /* no v6 default */
	xgw_fib_free(f);
}

static void test_static_overrides_learnt(void **state)
{
	struct xgw_route rs[] = {
		mkroute("198.18.5.0/24", "198.18.1.9", 1),
		mkroute("198.18.5.0/24", "198.18.2.2", 2),
	};
	struct xgw_fib *f;

	rs[1].is_static = 1;
	f = xgw_fib_build(rs, 2, NULL, 0);
	assert_int_equal(lookup_oif(f, "198.18.5.5"), 2);
	xgw_fib_free(f);
}

static uint32_t rnd(void)
{
	return (uint32_t)rand() << 16 ^ (uint32_t)rand();
}

/* The reference: the longest active prefix containing a, by scanning. */
static int naive(const struct xgw_route *rs, const bool *on, int n, const struct xgw_addr *a)
{
	int best = -1, best_len = -1;

	for (int i = 0; i < n; i++)
		if (on[i] && xgw_prefix_contains(&rs[i].dst, a) && rs[i].dst.len > best_len) {
			best = i;
			best_len = rs[i].dst.len;
		}
	return best;
}

static void check_against_naive(const struct xgw_fib *f, const struct xgw_route *rs, const bool *on,
				int n, int queries)
{
	for (int q = 0; q < queries; q++) {
		struct xgw_addr a;
		const struct xgw_nh *r;
		int best;

		/* Near a route (one bit flipped, or none), so that deep
		 * prefixes and their edges get hit; some fully random. */
		if (q % 8 == 0) {
			memset(&a, 0, sizeof(a));
			a.family = q % 16 ? AF_INET : AF_INET6;
			for (int w = 0; w < (a.family == AF_INET ? 1 : 4); w++)
				a.w[w] = rnd();
		} else {
			a = rs[rnd() % n].dst.addr;
			if (q % 3)
				a.b[rnd() % (a.family == AF_INET ? 4 : 16)] ^=
				    (uint8_t)(1u << (rnd() % 8));
		}
		best = naive(rs, on, n, &a);
		r = xgw_fib_lookup(f, &a, 0);
		if (best < 0) {
			assert_null(r);
		} else {
			struct xgw_prefix p;
			bool st;

			assert_non_null(r);
			assert_int_equal(r->oif, rs[best].oif);
			assert_non_null(xgw_fib_get(f, &a, &p, &st));
			assert_int_equal(p.len, rs[best].dst.len);
		}
	}
}

/* Random prefixes of every length in both families, added, replaced and
 * deleted one at a time (the kernel's events), each state compared with
 * the reference; at the end the tries hold no group and no next hop. */
static void test_lpm_incremental_vs_reference(void **state)
{
	enum { N = 3000 };
	struct xgw_route *rs = calloc(N, sizeof(*rs));
	bool *on = calloc(N, sizeof(*on));
	struct xgw_fib *f = xgw_fib_new();
	struct xgw_fib_stats st;

	assert_non_null(f);
	srand(7);
	for (int i = 0; i < N; i++) {
		bool dup;

		do { /* one route per prefix, as in the reference */
			memset(&rs[i], 0, sizeof(rs[i]));
			rs[i].dst.addr.family = (i % 3) ? AF_INET : AF_INET6;
			/* Clustered high bits (so prefixes nest and share
			 * groups), random low bits. */
			for (int w = 0; w < (rs[i].dst.addr.family == AF_INET ? 1 : 4); w++)
				rs[i].dst.addr.w[w] =
				    rnd() & (i % 5 ? htonl(0xc612ffff) : 0xffffffffu);
			rs[i].dst.len = (uint8_t)(rnd() % (xgw_addr_bits(&rs[i].dst.addr) + 1));
			xgw_addr_mask(&rs[i].dst.addr, rs[i].dst.len);
			dup = false;
			for (int k = 0; k < i && !dup; k++)
				dup = rs[k].dst.len == rs[i].dst.len &&
				      xgw_addr_eq(&rs[k].dst.addr, &rs[i].dst.addr);
		} while (dup);
		rs[i].oif = i + 1;
		rs[i].port = XGW_PORT_NONE;
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(xgw_fib_set(f, &rs[i]), 0);
		on[i] = true;
		if (i % 500 == 499)
			check_against_naive(f, rs, on, i + 1, 2000);
	}
	xgw_fib_commit(f, NULL);
	check_against_naive(f, rs, on, N, 20000);

	/* Churn: delete, re-add with another next hop, delete again. */
	for (int round = 0; round < 4; round++) {
		for (int k = 0; k < N / 2; k++) {
			int i = (int)(rnd() % N);
			if (on[i]) {
				assert_int_equal(xgw_fib_del(f, &rs[i]), 0);
				on[i] = false;
			} else {
				rs[i].oif += N; /* a replacement next hop */
				assert_int_equal(xgw_fib_set(f, &rs[i]), 0);
				on[i] = true;
			}
		}
		xgw_fib_commit(f, NULL);
		check_against_naive(f, rs, on, N, 10000);
	}
	for (int i = 0; i < N; i++)
		if (on[i]) {
			assert_int_equal(xgw_fib_del(f, &rs[i]), 0);
			on[i] = false;
		}
	assert_int_equal(xgw_fib_del(f, &rs[0]), -ENOENT);
	xgw_fib_commit(f, NULL);
	check_against_naive(f, rs, on, N, 2000);
	/* Memory follows the routes: nothing left in use. */
	xgw_fib_stats(f, &st);
	assert_int_equal(st.routes4 + st.routes6, 0);
	assert_int_equal(st.nexthops, 0);
	assert_int_equal(f->lpm4.in_use, 0);
	assert_int_equal(f->lpm6.in_use, 0);
	xgw_fib_free(f);
	free(rs);
	free(on);
}

static void test_static_falls_back_to_kernel(void **state)
{
	struct xgw_route k = mkroute("198.18.5.0/24", "198.18.1.9", 1);
	struct xgw_route s = mkroute("198.18.5.0/24", "198.18.2.2", 2);
	struct xgw_fib *f = xgw_fib_new();

	s.is_static = 1;
	assert_int_equal(xgw_fib_set(f, &s), 0);
	assert_int_equal(xgw_fib_set(f, &k), 0); /* learnt later: static still wins */
	assert_int_equal(lookup_oif(f, "198.18.5.5"), 2);
	assert_int_equal(xgw_fib_del(f, &s), 0);
	assert_int_equal(lookup_oif(f, "198.18.5.5"), 1);
	assert_int_equal(xgw_fib_del(f, &k), 0);
	assert_int_equal(lookup_oif(f, "198.18.5.5"), -1);
	xgw_fib_free(f);
}

/* Kernel routes to one prefix with different metrics: the lowest wins,
 * deleting it exposes the next. */
static void test_metrics(void **state)
{
	struct xgw_route a = mkroute("198.18.6.0/24", NULL, 1);
	struct xgw_route b = mkroute("198.18.6.0/24", NULL, 2);
	struct xgw_route c = mkroute("198.18.6.0/24", NULL, 3);
	struct xgw_fib *f = xgw_fib_new();

	a.metric = 100;
	b.metric = 50;
	c.metric = 200;
	assert_int_equal(xgw_fib_set(f, &a), 0);
	assert_int_equal(lookup_oif(f, "198.18.6.1"), 1);
	assert_int_equal(xgw_fib_set(f, &b), 0);
	assert_int_equal(xgw_fib_set(f, &c), 0);
	assert_int_equal(lookup_oif(f, "198.18.6.1"), 2);
	assert_int_equal(xgw_fib_del(f, &b), 0);
	assert_int_equal(lookup_oif(f, "198.18.6.1"), 1);
	assert_int_equal(xgw_fib_del(f, &a), 0);
	assert_int_equal(lookup_oif(f, "198.18.6.1"), 3);
	assert_int_equal(xgw_fib_del(f, &a), -ENOENT);
	xgw_fib_free(f);
}

/* Multipath: the hash picks paths in proportion to their weights; the
 * same paths in another order are one shared group; removing a path moves
 * only the flows it carried and its neighbour's share. */
static void test_multipath(void **state)
{
	struct xgw_path p3[3] = {0}, p2[2];
	struct xgw_route r = mkroute("198.18.7.0/24", NULL, 0), r2;
	struct xgw_fib *f = xgw_fib_new();
	struct xgw_fib_stats st;
	struct xgw_addr a;
	unsigned count[4] = {0}, moved = 0, was_on_gone = 0;
	enum { H = 100000 };
	static uint8_t before[H];

	for (int i = 0; i < 3; i++) {
		char via[32];
		snprintf(via, sizeof(via), "198.18.1.%d", i + 1);
		assert_int_equal(xgw_addr_parse(&p3[i].via, via), 0);
		p3[i].oif = i + 1;
		p3[i].port = XGW_PORT_NONE;
		p3[i].weight = (uint16_t)(i == 2 ? 2 : 1); /* 1:1:2 */
	}
	r.n_paths = 3;
	r.paths = p3;
	assert_int_equal(xgw_fib_set(f, &r), 0);
	assert_int_equal(xgw_addr_parse(&a, "198.18.7.9"), 0);
	assert_int_equal(xgw_fib_route(f, &a)->n_paths, 3);
	for (uint32_t h = 0; h < H; h++) {
		const struct xgw_nh *nh = xgw_fib_lookup(f, &a, h * 2654435761u);
		assert_non_null(nh);
		assert_true(nh->oif >= 1 && nh->oif <= 3);
		count[nh->oif]++;
		before[h] = (uint8_t)nh->oif;
	}
	/* Shares 1/4, 1/4, 1/2 within 1%. */
	assert_true(count[1] > H / 4 - H / 100 && count[1] < H / 4 + H / 100);
	assert_true(count[2] > H / 4 - H / 100 && count[2] < H / 4 + H / 100);
	assert_true(count[3] > H / 2 - H / 100 && count[3] < H / 2 + H / 100);

	/* Another prefix, same paths reversed: the group is shared
	 * (3 paths + 1 group). */
	r2 = mkroute("198.18.8.0/24", NULL, 0);
	p2[0] = p3[2];
	p2[1] = p3[0];
	{
		struct xgw_path rev[3] = {p3[2], p3[1], p3[0]};
		r2.n_paths = 3;
		r2.paths = rev;
		assert_int_equal(xgw_fib_set(f, &r2), 0);
	}
	xgw_fib_stats(f, &st);
	assert_int_equal(st.nexthops, 4);

	/* Drop path 2 (oif 2) from the first route. */
	r.n_paths = 2;
	r.paths = p2;
	assert_int_equal(xgw_fib_set(f, &r), 0);
	for (uint32_t h = 0; h < H; h++) {
		const struct xgw_nh *nh = xgw_fib_lookup(f, &a, h * 2654435761u);
		assert_int_not_equal(nh->oif, 2);
		if (before[h] == 2)
			was_on_gone++;
		else if (nh->oif != before[h])
			moved++;
	}
	/* Hash-threshold: flows of path 1 or 3 move only where the shares
	 * shift (path 3 grows from 1/2 to 2/3, covering path 2's old range
	 * and part of none of 1's): well under all of them. */
	assert_true(was_on_gone > 0);
	assert_true(moved < H / 3);
	xgw_fib_free(f);
}

static void test_neigh(void **state)
{
	struct xgw_neigh ns[3] = {0};
	struct xgw_fib *f;
	struct xgw_addr a;
	const struct xgw_neigh *n;

	xgw_addr_parse(&ns[0].ip, "198.18.2.2");
	ns[0].ifindex = 3;
	ns[0].mac[5] = 0x22;
	ns[0].is_static = 1;
	ns[1] = ns[0]; /* learnt entry for the same address: static wins */
	ns[1].is_static = 0;
	ns[1].mac[5] = 0x99;
	xgw_addr_parse(&ns[2].ip, "2001:db8:2::2");
	ns[2].ifindex = 3;
	ns[2].mac[5] = 0x66;
	f = xgw_fib_build(NULL, 0, ns, 3);
	assert_non_null(f);
	xgw_addr_parse(&a, "198.18.2.2");
	n = xgw_fib_neigh(f, 3, &a);
	assert_non_null(n);
	assert_int_equal(n->mac[5], 0x22);
	assert_null(xgw_fib_neigh(f, 4, &a)); /* other interface */
	xgw_addr_parse(&a, "2001:db8:2::2");
	n = xgw_fib_neigh(f, 3, &a);
	assert_non_null(n);
	assert_int_equal(n->mac[5], 0x66);
	xgw_addr_parse(&a, "198.18.2.3");
	assert_null(xgw_fib_neigh(f, 3, &a));
	xgw_fib_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lpm_basic),
	    cmocka_unit_test(test_static_overrides_learnt),
	    cmocka_unit_test(test_lpm_incremental_vs_reference),
	    cmocka_unit_test(test_static_falls_back_to_kernel),
	    cmocka_unit_test(test_metrics),
	    cmocka_unit_test(test_multipath),
	    cmocka_unit_test(test_neigh),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
