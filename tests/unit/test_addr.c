/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "common/addr.h"

static void test_parse_v4(void **state)
{
	struct xgw_addr a;
	char buf[XGW_ADDR_STRLEN];

	assert_int_equal(xgw_addr_parse(&a, "198.18.100.1"), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(a.b[0], 198);
	assert_int_equal(a.b[3], 1);
	assert_int_equal(a.w[1] | a.w[2] | a.w[3], 0);
	assert_string_equal(xgw_addr_str(&a, buf, sizeof(buf)), "198.18.100.1");
	assert_int_not_equal(xgw_addr_parse(&a, "198.18.100"), 0);
	assert_int_not_equal(xgw_addr_parse(&a, "198.18.100.256"), 0);
	assert_int_not_equal(xgw_addr_parse(&a, ""), 0);
}

static void test_parse_v6(void **state)
{
	struct xgw_addr a;
	char buf[XGW_ADDR_STRLEN];

	assert_int_equal(xgw_addr_parse(&a, "2001:db8::1"), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_string_equal(xgw_addr_str(&a, buf, sizeof(buf)), "2001:db8::1");
}

static void test_prefix(void **state)
{
	struct xgw_prefix p;
	struct xgw_addr a;
	char buf[64];

	assert_int_equal(xgw_prefix_parse(&p, "198.18.0.0/15"), 0);
	assert_int_equal(p.len, 15);
	assert_string_equal(xgw_prefix_str(&p, buf, sizeof(buf)), "198.18.0.0/15");
	xgw_addr_parse(&a, "198.19.255.1");
	assert_true(xgw_prefix_contains(&p, &a));
	xgw_addr_parse(&a, "198.20.0.1");
	assert_false(xgw_prefix_contains(&p, &a));
	/* host bits set, bad lengths */
	assert_int_not_equal(xgw_prefix_parse(&p, "198.18.0.1/15"), 0);
	assert_int_not_equal(xgw_prefix_parse(&p, "198.18.0.0/33"), 0);
	assert_int_not_equal(xgw_prefix_parse(&p, "198.18.0.0/"), 0);
	assert_int_not_equal(xgw_prefix_parse(&p, "198.18.0.0/1x"), 0);
	assert_int_equal(xgw_prefix_parse(&p, "2001:db8::/32"), 0);
	xgw_addr_parse(&a, "2001:db8:ffff::1");
	assert_true(xgw_prefix_contains(&p, &a));
	xgw_addr_parse(&a, "2001:db9::1");
	assert_false(xgw_prefix_contains(&p, &a));
	assert_int_equal(xgw_prefix_parse(&p, "2001:db8::1"), 0);
	assert_int_equal(p.len, 128);
	assert_int_equal(xgw_prefix_parse(&p, "0.0.0.0/0"), 0);
	xgw_addr_parse(&a, "198.18.0.1");
	assert_true(xgw_prefix_contains(&p, &a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
