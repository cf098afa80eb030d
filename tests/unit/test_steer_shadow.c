/* SPDX-License-Identifier: BSD-3-Clause */
/* The steering maps' mirror (steer-bpf/steer_shadow.c) against a real BPF
 * hash map: after every sync the map holds exactly the last value of each
 * key of the rule set, whatever the previous content; a key whose value
 * did not change is not written again; a failed sync is repaired by the
 * next one. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>

#include "steer-bpf/steer_shadow.h"

#define KSZ	 20 /* as struct xgw_steer_src_key */
#define UNIVERSE 400

struct rec {
	uint8_t k[KSZ];
	uint32_t v;
};

static void key_of(uint8_t *k, unsigned id)
{
	memset(k, 0, KSZ);
	k[0] = 2;
	memcpy(k + 4, &id, sizeof(id));
	k[KSZ - 1] = (uint8_t)(id * 7);
}

static int new_map(unsigned max)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "shadow_test", KSZ, 4, max, NULL);

	assert_true(fd >= 0);
	return fd;
}

static int do_sync(struct xgw_shadow *sh, int fd, const struct rec *r, unsigned n)
{
	int err = xgw_shadow_begin(sh, n);

	for (unsigned i = n; i-- > 0 && !err;)
		err = xgw_shadow_write(sh, fd, r[i].k, r[i].v);
	if (err) {
		xgw_shadow_invalidate(sh);
		return err;
	}
	return xgw_shadow_delete_stale(sh, fd);
}

/* The map equals the rule set with the last value of each key winning. */
static unsigned check_map(int fd, const struct rec *r, unsigned n)
{
	uint32_t want[UNIVERSE];
	uint8_t present[UNIVERSE] = {0}, k[KSZ], next[KSZ];
	unsigned n_want = 0, n_map = 0;

	for (unsigned i = 0; i < n; i++) {
		unsigned id;

		memcpy(&id, r[i].k + 4, sizeof(id));
		n_want += !present[id];
		present[id] = 1;
		want[id] = r[i].v;
	}
	int rc = bpf_map_get_next_key(fd, NULL, next);
	while (!rc) {
		unsigned id;
		uint32_t v;

		memcpy(k, next, KSZ);
		memcpy(&id, k + 4, sizeof(id));
		assert_true(id < UNIVERSE);
		assert_true(present[id]);
		assert_int_equal(bpf_map_lookup_elem(fd, k, &v), 0);
		assert_int_equal(v, want[id]);
		n_map++;
		rc = bpf_map_get_next_key(fd, k, next);
	}
	assert_int_equal(n_map, n_want);
	return n_map;
}

static unsigned random_set(struct rec *r, unsigned max)
{
	unsigned n = (unsigned)rand() % max;

	for (unsigned i = 0; i < n; i++) {
		key_of(r[i].k, (unsigned)rand() % UNIVERSE);
		r[i].v = (uint32_t)rand() % 4; /* few values: many unchanged */
	}
	return n;
}

/* Random rule sets, duplicates included, one after another. */
static void test_random_syncs(void **state)
{
	struct xgw_shadow sh;
	static struct rec r[2 * UNIVERSE];
	int fd = new_map(4096);

	(void)state;
	srand(42);
	xgw_shadow_init(&sh, KSZ);
	for (int round = 0; round < 300; round++) {
		unsigned n = random_set(r, 2 * UNIVERSE);

		assert_int_equal(do_sync(&sh, fd, r, n), 0);
		assert_true(sh.valid);
		/* The table holds exactly the map's keys. */
		assert_int_equal(sh.n, check_map(fd, r, n));
	}
	xgw_shadow_free(&sh);
	close(fd);
}

/* An unchanged key costs no write: a value changed behind the shadow's
 * back stays until the shadow is invalidated, then the full sync puts the
 * rule set's value back and removes keys it does not know. */
static void test_unchanged_not_written(void **state)
{
	struct xgw_shadow sh;
	struct rec r[3];
	uint8_t junk[KSZ];
	uint32_t v = 99, got;
	int fd = new_map(64);

	(void)state;
	xgw_shadow_init(&sh, KSZ);
	for (unsigned i = 0; i < 3; i++) {
		key_of(r[i].k, i);
		r[i].v = i + 1;
	}
	assert_int_equal(do_sync(&sh, fd, r, 3), 0);
	assert_int_equal(bpf_map_update_elem(fd, r[1].k, &v, BPF_ANY), 0);
	key_of(junk, 300);
	assert_int_equal(bpf_map_update_elem(fd, junk, &v, BPF_ANY), 0);
	assert_int_equal(do_sync(&sh, fd, r, 3), 0);
	assert_int_equal(bpf_map_lookup_elem(fd, r[1].k, &got), 0);
	assert_int_equal(got, 99); /* not rewritten */
	assert_int_equal(bpf_map_lookup_elem(fd, junk, &got), 0);

	xgw_shadow_invalidate(&sh);
	assert_int_equal(do_sync(&sh, fd, r, 3), 0);
	check_map(fd, r, 3); /* r[1] back to 2, junk gone */
	xgw_shadow_free(&sh);
	close(fd);
}

/* A sync that fails half-way (the map fills up) leaves the shadow invalid
 * and the map between two rule sets; the next sync leaves the map exactly
 * as asked, stale keys found by walking the map. */
static void test_failed_sync_repaired(void **state)
{
	struct xgw_shadow sh;
	static struct rec r[100], c[15];
	int fd = new_map(32);

	(void)state;
	xgw_shadow_init(&sh, KSZ);
	for (unsigned i = 0; i < 100; i++) {
		key_of(r[i].k, i);
		r[i].v = i;
	}
	assert_int_equal(do_sync(&sh, fd, r, 20), 0);
	check_map(fd, r, 20);
	/* 40 new keys into 12 free entries: keys 59..48 get in, 47 fails. */
	assert_int_equal(do_sync(&sh, fd, r + 20, 40), -E2BIG);
	assert_false(sh.valid);
	/* Keys already in the map (a full map takes no new one): 5-14 of the
	 * first set with new values, 50-54 of the partial write. */
	for (unsigned i = 0; i < 10; i++) {
		c[i] = r[5 + i];
		c[i].v += 1000;
	}
	for (unsigned i = 0; i < 5; i++)
		c[10 + i] = r[50 + i];
	assert_int_equal(do_sync(&sh, fd, c, 15), 0);
	assert_true(sh.valid);
	check_map(fd, c, 15);
	assert_int_equal(sh.n, 15);
	xgw_shadow_free(&sh);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_syncs),
	    cmocka_unit_test(test_unchanged_not_written),
	    cmocka_unit_test(test_failed_sync_repaired),
	};

	if (geteuid() != 0) {
		printf("SKIP: needs root (BPF maps)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
