/* SPDX-License-Identifier: BSD-3-Clause */
/* The data plane's snapshots are made by difference (xgw_snapshot_update:
 * shared service records, the index updated in place in a spare copy):
 * over a random sequence of writes (services and backends added, removed,
 * changed, moved, the whole list reordered, a failed build in between),
 * each one must be what a full build of the same config gives. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/config.h"
#include "pipeline/snapshot.h"

#include "cfg_gen.h"

static void same_record(const struct xgw_svc_rt *a, const struct xgw_svc_rt *b)
{
	assert_true(xgw_addr_eq(&a->vip, &b->vip));
	assert_int_equal(a->port, b->port);
	assert_int_equal(a->proto, b->proto);
	assert_int_equal(a->algo, b->algo);
	assert_int_equal(a->snat, b->snat);
	assert_int_equal(a->kernel, b->kernel);
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->n_backends, b->n_backends);
	assert_int_equal(a->n_active, b->n_active);
	for (unsigned i = 1; i <= a->n_backends; i++) {
		assert_true(xgw_addr_eq(&a->be[i].ip, &b->be[i].ip));
		assert_int_equal(a->be[i].port, b->be[i].port);
		assert_int_equal(a->be[i].weight, b->be[i].weight);
	}
	for (unsigned i = 0; i < a->n_active; i++)
		assert_int_equal(a->active[i], b->active[i]);
	assert_int_equal(!a->maglev, !b->maglev);
	if (a->maglev) {
		assert_int_equal(a->maglev->size, b->maglev->size);
		assert_memory_equal(a->maglev->slot, b->maglev->slot,
				    a->maglev->size * sizeof(a->maglev->slot[0]));
	}
}

/* Every key of table ref is in t with the same count (or service), and t
 * holds as many keys as it says and as ref holds. */
static void same_table(const struct xgw_svc_slot *t, uint32_t tmask, uint32_t tn,
		       const struct xgw_svc_slot *ref, uint32_t rmask, uint32_t rn, bool index)
{
	uint32_t used = 0, n = 0;

	for (uint32_t i = 0; i <= tmask; i++)
		used += t[i].used;
	assert_int_equal(used, tn);
	for (uint32_t i = 0; i <= rmask; i++) {
		const struct xgw_svc_slot *r = &ref[i], *e;

		if (!r->used)
			continue;
		n++;
		e = xgw_snapshot_index_get(t, tmask, &r->vip, r->port, r->proto);
		assert_non_null(e);
		if (index)
			same_record(e->svc, r->svc);
		else
			assert_int_equal(e->n, r->n);
	}
	assert_int_equal(n, rn);
	assert_int_equal(tn, rn);
}

static void same_snapshot(const struct xgw_snapshot *s, const struct xgw_snapshot *ref)
{
	const struct xgw_svc_tabs *t = s->tabs, *r = ref->tabs;

	assert_int_equal(s->n_svcs, ref->n_svcs);
	/* What the pass counts for the kernel datapath and the tunnels. */
	assert_int_equal(s->n_kernel, ref->n_kernel);
	if (s->n_kernel)
		assert_memory_equal(s->kernel_idx, ref->kernel_idx,
				    s->n_kernel * sizeof(*s->kernel_idx));
	assert_int_equal(s->n_tun, ref->n_tun);
	assert_int_equal(s->n_be, ref->n_be);
	for (unsigned i = 0; i < s->n_svcs; i++) {
		same_record(s->svcs[i], ref->svcs[i]);
		/* Reached through the index, as the workers do. */
		assert_ptr_equal(
		    xgw_snapshot_service(s, &s->svcs[i]->vip, s->svcs[i]->port, s->svcs[i]->proto),
		    s->svcs[i]);
	}
	same_table(t->index, t->index_mask, t->n_index, r->index, r->index_mask, r->n_index, true);
	same_table(t->vips, t->index_mask, t->n_vips, r->vips, r->index_mask, r->n_vips, false);
	same_table(t->bes, t->bes_mask, t->n_bes, r->bes, r->bes_mask, r->n_bes, false);
	same_table(t->be_addrs, t->bes_mask, t->n_be_addrs, r->be_addrs, r->bes_mask, r->n_be_addrs,
		   false);
	/* The address filter keeps every address ever seen: a superset. */
	for (unsigned w = 0; w < XGW_ADDR_FILTER_BITS / 64; w++)
		assert_int_equal(s->addr_filter[w] & ref->addr_filter[w], ref->addr_filter[w]);
}

static void test_update_equals_build(void **state)
{
	struct xgw_snap_builder *b = xgw_snap_builder_new();
	struct xgw_snapshot *cur = NULL;
	struct xgw_config c, w, deep;
	unsigned writes = 0, n_named = 0;
	char err[256];

	(void)state;
	assert_non_null(b);
	xgw_config_defaults(&c);
	c.maglev_size = 401;
	for (int step = 0; step < 600; step++) {
		struct xgw_snapshot *s, *ref;
		const struct xgw_config *prev = &c;
		unsigned k = rnd(3) ? 1 : 1 + rnd(6);

		/* One write on a copy sharing c's backends: one change, or a
		 * batch of several. */
		cfg_copy(&w, &c);
		/* Mostly with the changes named (as the control socket's
		 * handlers do), the others found by the pass. */
		gen_begin(&c, rnd(4) != 0);
		for (unsigned i = 0; i < k; i++) {
			if (w.n_services < 8 || rnd(3) == 0)
				add_service(&w);
			else
				change_service(&w);
		}
		gen_end(&w, &c);
		n_named += w.delta != NULL;
		/* The config cur was made from, mostly: else none, or an equal
		 * one with arrays of its own (nothing taken by address). */
		memset(&deep, 0, sizeof(deep));
		if (rnd(8) == 0) {
			prev = NULL;
		} else if (rnd(8) == 0) {
			assert_int_equal(xgw_config_copy(&deep, &c), 0);
			prev = &deep;
		}
		s = xgw_snapshot_update(b, &w, prev, 2, 0x5eed, cur, err, sizeof(err));
		xgw_config_free(&deep);
		assert_non_null(s);
		ref = xgw_snapshot_build(&w, 2, 0x5eed, err, sizeof(err));
		assert_non_null(ref);
		same_snapshot(s, ref);
		xgw_snapshot_free(ref);
		if (rnd(10) == 0) {
			/* Refused after the build (as a counter slot shortage
			 * is): never published, the running one stays. */
			xgw_snapshot_free(s);
			cfg_release(&w);
			continue;
		}
		writes++;
		xgw_snapshot_published(b, s);
		xgw_snapshot_free(cur);
		cur = s;
		cfg_release(&c);
		c = w;
		c.delta = NULL;
	}
	print_message("%u of 600 writes with their changes named\n", n_named);
	assert_true(n_named > 200);
	/* The point of it: most writes did not rebuild the tables (a
	 * resize, a refused write before, a duplicate do). */
	assert_true(xgw_snap_builder_fills(b) * 4 < writes);
	xgw_snapshot_free(cur);
	xgw_snap_builder_free(b);
	cfg_release(&c);
	gen_free();
}

/* A write shares every record it does not change, by address when its
 * backends array is the config's it was made from. */
static void test_update_shares(void **state)
{
	struct xgw_snap_builder *b = xgw_snap_builder_new();
	struct xgw_snapshot *s0, *s1, *s2;
	struct xgw_config c, w, w2;
	char err[256];

	(void)state;
	xgw_config_defaults(&c);
	for (int i = 0; i < 50; i++)
		add_service(&c);
	s0 = xgw_snapshot_update(b, &c, NULL, 1, 1, NULL, err, sizeof(err));
	assert_non_null(s0);
	xgw_snapshot_published(b, s0);
	cfg_copy(&w, &c);
	change_service(&w);
	s1 = xgw_snapshot_update(b, &w, &c, 1, 1, s0, err, sizeof(err));
	assert_non_null(s1);
	xgw_snapshot_published(b, s1);
	xgw_snapshot_free(s0);
	/* One backend more on the first service with backends. */
	cfg_copy(&w2, &w);
	bool done = false;
	for (unsigned i = 0; i < w2.n_services && !done; i++) {
		struct xgw_service_cfg *s = &w2.services[i];
		if (!s->n_backends)
			continue;
		s->backends = new_backends(s->backends, s->n_backends, s->n_backends + 1);
		s->backends[s->n_backends] = s->backends[0];
		s->backends[s->n_backends].port = 9999;
		s->n_backends++;
		done = true;
	}
	assert_true(done);
	s2 = xgw_snapshot_update(b, &w2, &w, 1, 1, s1, err, sizeof(err));
	assert_non_null(s2);
	assert_int_equal(s2->n_gone, 1);
	assert_int_equal(s2->n_added, 1);
	unsigned shared = 0;
	for (unsigned i = 0; i < s2->n_svcs; i++)
		shared += s2->svcs[i] == s1->svcs[i];
	assert_int_equal(shared, s2->n_svcs - 1);
	xgw_snapshot_published(b, s2);
	xgw_snapshot_free(s1);
	xgw_snapshot_free(s2);
	xgw_snap_builder_free(b);
	cfg_release(&c);
	cfg_release(&w);
	cfg_release(&w2);
	gen_free();
}

/* Policy hit counters go on counting across writes that keep the rules
 * (the snapshots share one xgw_policy_set), and start at 0 with new ones. */
static void test_policy_hits_kept(void **state)
{
	struct xgw_policy_cfg rules[2] = {
	    {.id = 1, .allow = false, .proto = IPPROTO_TCP, .dport_lo = 22, .dport_hi = 22},
	    {.id = 2, .allow = true, .proto = IPPROTO_UDP, .dport_lo = 53, .dport_hi = 53}};
	struct xgw_snapshot *s0, *s1, *s2, *s3;
	struct xgw_config c, w;
	char err[256];

	(void)state;
	xgw_config_defaults(&c);
	for (int i = 0; i < 5; i++)
		add_service(&c);
	c.policies = rules;
	c.n_policies = 2;
	s0 = xgw_snapshot_build(&c, 2, 1, err, sizeof(err));
	assert_non_null(s0);
	assert_non_null(s0->policy);
	s0->hits[0][0] = 5;
	s0->hits[1][1] = 7;
	/* A service changed, the rules not: the same set, its counts. */
	cfg_copy(&w, &c);
	change_service(&w);
	s1 = xgw_snapshot_rebuild(&w, 2, 1, s0, err, sizeof(err));
	assert_non_null(s1);
	assert_ptr_equal(s1->pset, s0->pset);
	assert_ptr_equal(s1->hits, s0->hits);
	xgw_snapshot_free(s0); /* s1 keeps the set */
	assert_int_equal(s1->hits[0][0], 5);
	assert_int_equal(s1->hits[1][1], 7);
	/* Another worker count: a set of its own. */
	s2 = xgw_snapshot_rebuild(&w, 3, 1, s1, err, sizeof(err));
	assert_non_null(s2);
	assert_ptr_not_equal(s2->pset, s1->pset);
	xgw_snapshot_free(s2);
	/* A rule changed: a new set, at 0, with a new id. */
	assert_ptr_not_equal(w.policies, rules); /* w's own copy */
	w.policies[1].dport_hi = 54;
	s3 = xgw_snapshot_rebuild(&w, 2, 1, s1, err, sizeof(err));
	assert_non_null(s3);
	assert_ptr_not_equal(s3->pset, s1->pset);
	assert_true(s3->pset->id != s1->pset->id);
	assert_int_equal(s3->hits[0][0], 0);
	assert_int_equal(s3->hits[1][1], 0);
	assert_int_equal(s1->hits[1][1], 7);
	xgw_snapshot_free(s1);
	xgw_snapshot_free(s3);
	c.policies = NULL;
	c.n_policies = 0;
	cfg_release(&c);
	cfg_release(&w);
	gen_free();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_update_equals_build),
	    cmocka_unit_test(test_update_shares),
	    cmocka_unit_test(test_policy_hits_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
