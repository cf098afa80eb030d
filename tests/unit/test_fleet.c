/* SPDX-License-Identifier: BSD-3-Clause */
/* One backend choice across a fleet: the flow hash seed comes from the
 * config (lb.hash_seed, fixed default) and the Maglev tables from the
 * backend set, not its order, so two gateways (or one before and after a
 * restart) with the same config send every flow to the same backend; and
 * removing one of N backends moves about 1/N of the flows, no more. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/hash.h"
#include "ctl/config.h"
#include "lb/maglev.h"
#include "pipeline/snapshot.h"

#define N_FLOWS 100000
#define N_BE	8

static void load(struct xgw_config *c, const char *text)
{
	json_t *doc = json_loads(text, 0, NULL);
	char err[256];

	assert_non_null(doc);
	if (xgw_config_load_json(c, doc, err, sizeof(err)))
		fail_msg("config: %s", err);
	json_decref(doc);
}

/* Extra keys of the service object ("" or e.g. "\"maglev_size\":65537,"). */
static const char *svc_extra = "";

/* A config with one TCP service and the backends 198.18.2.(10 + order[i]). */
static void service_config(struct xgw_config *c, const int *order, int n, const char *lb)
{
	char text[4096];
	int len = snprintf(text, sizeof(text),
			   "{\"ports\":[{\"name\":\"p\",\"iface\":\"lo\",\"queues\":[{\"queue\":0,"
			   "\"core\":0}]}],%s\"services\":[{%s\"vip\":\"198.18.100.1\",\"port\":80,"
			   "\"proto\":\"tcp\",\"backends\":[",
			   lb, svc_extra);

	for (int i = 0; i < n; i++)
		len += snprintf(text + len, sizeof(text) - (size_t)len,
				"%s{\"ip\":\"198.18.2.%d\",\"port\":8080}", i ? "," : "",
				10 + order[i]);
	snprintf(text + len, sizeof(text) - (size_t)len, "]}]}");
	load(c, text);
}

static struct xgw_snapshot *snap_of(const struct xgw_config *c)
{
	char err[256];
	struct xgw_snapshot *s = xgw_snapshot_build(c, 1, c->hash_seed, err, sizeof(err));

	if (!s)
		fail_msg("snapshot: %s", err);
	return s;
}

/* The backend address (last byte) flow i goes to, as the LB stage picks it:
 * Maglev slot of the seeded flow hash. */
static int backend_of(const struct xgw_snapshot *s, uint32_t i)
{
	struct xgw_addr vip, src;
	const struct xgw_svc_rt *svc;
	uint32_t id;

	xgw_addr_parse(&vip, "198.18.100.1");
	xgw_addr_parse(&src, "198.18.0.0");
	src.w[0] = htonl(ntohl(src.w[0]) + (i >> 10)); /* 1024 ports per client address */
	svc = xgw_snapshot_service(s, &vip, htons(80), 6);
	assert_non_null(svc);
	id = xgw_maglev_pick(svc->maglev,
			     xgw_flow_hash(&src, &vip, htons((uint16_t)(1024 + (i & 1023))),
					   htons(80), 6, s->hash_seed));
	assert_true(id >= 1 && id <= svc->n_backends);
	return svc->be[id].ip.b[3];
}

static void test_default_seed(void **state)
{
	struct xgw_config c;
	json_t *j;
	int order[1] = {0};

	service_config(&c, order, 1, "");
	assert_int_equal(c.hash_seed, XGW_DEFAULT_HASH_SEED);
	xgw_config_free(&c);
	service_config(&c, order, 1, "\"lb\":{\"hash_seed\":\"0x1234abcd\"},");
	assert_int_equal(c.hash_seed, 0x1234abcd);
	j = xgw_config_to_json(&c);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "lb"), "hash_seed")),
	    "0x1234abcd");
	json_decref(j);
	xgw_config_free(&c);
	service_config(&c, order, 1, "\"lb\":{\"hash_seed\":77},");
	assert_int_equal(c.hash_seed, 77);
	xgw_config_free(&c);
}

static void test_bad_seed(void **state)
{
	const char *bad[] = {"\"-1\"", "\"0x1ffffffff\"", "\"seed\"", "\"\"",
			     "-5",     "4294967296",	  "1.5",      "true"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256], err[256];
		struct xgw_config c;
		json_t *doc;

		snprintf(text, sizeof(text), "{\"lb\":{\"hash_seed\":%s}}", bad[i]);
		doc = json_loads(text, 0, NULL);
		assert_non_null(doc);
		assert_int_equal(xgw_config_load_json(&c, doc, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "lb.hash_seed"));
		json_decref(doc);
	}
}

/* Two gateways, backends added in different orders: the same backend for
 * every one of 100,000 flows. */
static void test_same_backend_any_order(void **state)
{
	const int fwd[N_BE] = {0, 1, 2, 3, 4, 5, 6, 7}, mixed[N_BE] = {5, 2, 7, 0, 3, 6, 1, 4};
	struct xgw_config a, b;
	struct xgw_snapshot *sa, *sb;
	int used[N_BE] = {0};

	service_config(&a, fwd, N_BE, "");
	service_config(&b, mixed, N_BE, "");
	sa = snap_of(&a);
	sb = snap_of(&b);
	for (uint32_t i = 0; i < N_FLOWS; i++) {
		int x = backend_of(sa, i);

		if (x != backend_of(sb, i))
			fail_msg("flow %u: backend .%d on one gateway, .%d on the other", i, x,
				 backend_of(sb, i));
		used[x - 10]++;
	}
	/* And the flows are spread: each backend near 1/8. */
	for (int k = 0; k < N_BE; k++)
		assert_true(used[k] > N_FLOWS / N_BE * 8 / 10 &&
			    used[k] < N_FLOWS / N_BE * 12 / 10);
	xgw_snapshot_free(sa);
	xgw_snapshot_free(sb);
	xgw_config_free(&a);
	xgw_config_free(&b);
}

/* One of 8 backends removed: its flows move, and almost nothing else
 * (Maglev: about 1/N moves); another seed gives another assignment.  At
 * M = 65537 (about 8000 N) under 2% of the other flows move; at the
 * default size for 8 backends (809, about 100 N) under 4%. */
static void removal_moves_one_share(uint32_t other_max_pct, uint32_t moved_max_pct)
{
	const int all[N_BE] = {0, 1, 2, 3, 4, 5, 6, 7}, less[N_BE - 1] = {0, 1, 2, 4, 5, 6, 7};
	struct xgw_config a, b, c;
	struct xgw_snapshot *sa, *sb, *sc;
	uint32_t moved = 0, moved_other = 0, differ = 0;

	service_config(&a, all, N_BE, "");
	service_config(&b, less, N_BE - 1, "");
	service_config(&c, all, N_BE, "\"lb\":{\"hash_seed\":\"0xabc\"},");
	sa = snap_of(&a);
	sb = snap_of(&b);
	sc = snap_of(&c);
	for (uint32_t i = 0; i < N_FLOWS; i++) {
		int x = backend_of(sa, i), y = backend_of(sb, i);

		assert_int_not_equal(y, 13);
		moved += x != y;
		moved_other += x != y && x != 13;
		differ += x != backend_of(sc, i);
	}
	print_message("removing 1 of %d backends moved %.2f%% of %d flows (%.2f%% not on it)\n",
		      N_BE, 100.0 * moved / N_FLOWS, N_FLOWS, 100.0 * moved_other / N_FLOWS);
	assert_true(moved > N_FLOWS / N_BE * 8 / 10);
	assert_true(moved < N_FLOWS / N_BE * moved_max_pct / 100);
	assert_true(moved_other < N_FLOWS * other_max_pct / 100);
	assert_true(differ > N_FLOWS / 2);	 /* the seed matters */
	xgw_snapshot_free(sa);
	xgw_snapshot_free(sb);
	xgw_snapshot_free(sc);
	xgw_config_free(&a);
	xgw_config_free(&b);
	xgw_config_free(&c);
}

static void test_removal_moves_one_share(void **state)
{
	(void)state;
	svc_extra = "\"maglev_size\":65537,";
	removal_moves_one_share(2, 120);
	svc_extra = "";
	removal_moves_one_share(4, 130);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_seed),
	    cmocka_unit_test(test_bad_seed),
	    cmocka_unit_test(test_same_backend_any_order),
	    cmocka_unit_test(test_removal_moves_one_share),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
