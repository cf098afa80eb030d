/* SPDX-License-Identifier: BSD-3-Clause */
/* FIB: longest-prefix match over v4 and v6 against a brute-force reference,
 * neighbour lookups, static entries overriding learnt ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

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
	const struct xgw_route *r;

	assert_int_equal(xgw_addr_parse(&x, a), 0);
	r = xgw_fib_lookup(f, &x);
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

static void test_lpm_random_vs_reference(void **state)
{
	enum { N = 2000, Q = 20000 };
	struct xgw_route *rs = calloc(N, sizeof(*rs));
	struct xgw_fib *f;

	srand(7);
	for (int i = 0; i < N; i++) {
		rs[i].dst.addr.family = (i % 3) ? AF_INET : AF_INET6;
		for (int w = 0; w < (rs[i].dst.addr.family == AF_INET ? 1 : 4); w++)
			rs[i].dst.addr.w[w] = rnd() & (i % 5 ? 0x0000ffffu : 0xffffffffu);
		rs[i].dst.len = (uint8_t)(rnd() % (xgw_addr_bits(&rs[i].dst.addr) + 1));
		xgw_addr_mask(&rs[i].dst.addr, rs[i].dst.len);
		rs[i].oif = i + 1;
	}
	f = xgw_fib_build(rs, N, NULL, 0);
	assert_non_null(f);
	for (int q = 0; q < Q; q++) {
		struct xgw_addr a = {0};
		int best = -1, best_len = -1;
		const struct xgw_route *r;

		/* Pick near a route so that deep prefixes get hit too. */
		a = rs[rnd() % N].dst.addr;
		a.b[rnd() % (a.family == AF_INET ? 4 : 16)] ^= (uint8_t)(1u << (rnd() % 8));
		for (int i = 0; i < N; i++)
			/* Later duplicates win, as in the FIB. */
			if (xgw_prefix_contains(&rs[i].dst, &a) && rs[i].dst.len >= best_len) {
				best = i;
				best_len = rs[i].dst.len;
			}
		r = xgw_fib_lookup(f, &a);
		if (best < 0) {
			assert_null(r);
		} else {
			assert_non_null(r);
			assert_int_equal(r->dst.len, best_len);
			assert_int_equal(r->oif, rs[best].oif);
		}
	}
	xgw_fib_free(f);
	free(rs);
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
		cmocka_unit_test(test_lpm_random_vs_reference),
		cmocka_unit_test(test_neigh),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
