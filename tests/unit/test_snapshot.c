/* SPDX-License-Identifier: BSD-3-Clause */
/* The data plane's snapshots are made by difference (xgw_snapshot_update:
 * shared service records, the index updated in place in a spare copy):
 * over a random sequence of writes (services and backends added, removed,
 * changed, moved, the whole list reordered, a failed build in between),
 * each one must be what a full build of the same config gives. */
#include <arpa/inet.h>
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

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void addr4(struct xgw_addr *a, uint32_t host)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->w[0] = htonl(host);
}

static void random_backend(struct xgw_backend_cfg *b)
{
	memset(b, 0, sizeof(*b));
	/* A small pool: backends shared between services, as in a fleet. */
	addr4(&b->ip, 0xc6120200u + rnd(12));
	b->port = (uint16_t)(8080 + rnd(3));
	b->weight = rnd(4);
}

static bool has_backend(const struct xgw_service_cfg *s, const struct xgw_backend_cfg *b)
{
	for (unsigned i = 0; i < s->n_backends; i++)
		if (xgw_addr_eq(&s->backends[i].ip, &b->ip) && s->backends[i].port == b->port)
			return true;
	return false;
}

static int find(const struct xgw_config *c, const struct xgw_service_cfg *s)
{
	return xgw_config_find_service(c, &s->vip, s->port, s->proto);
}

static void add_service(struct xgw_config *c)
{
	struct xgw_service_cfg s;

	memset(&s, 0, sizeof(s));
	/* Few VIPs, several ports each: shared VIP entries. */
	addr4(&s.vip, 0xc6126400u + rnd(6));
	s.port = (uint16_t)(80 + rnd(4));
	s.proto = rnd(2) ? IPPROTO_TCP : IPPROTO_UDP;
	s.algo = rnd(5) ? XGW_ALGO_MAGLEV : XGW_ALGO_RR;
	s.datapath = rnd(4) ? XGW_DP_USER : XGW_DP_KERNEL;
	if (find(c, &s) >= 0)
		return;
	s.backends = calloc(5, sizeof(*s.backends));
	assert_non_null(s.backends);
	for (unsigned n = rnd(5); s.n_backends < n;) {
		struct xgw_backend_cfg b;

		random_backend(&b);
		if (has_backend(&s, &b))
			break;
		s.backends[s.n_backends++] = b;
	}
	c->services = realloc(c->services, (c->n_services + 1) * sizeof(*c->services));
	assert_non_null(c->services);
	/* Anywhere: every position after it moves. */
	unsigned at = rnd(c->n_services + 1);
	memmove(&c->services[at + 1], &c->services[at], (c->n_services - at) * sizeof(s));
	c->services[at] = s;
	c->n_services++;
}

static void change_service(struct xgw_config *c)
{
	struct xgw_service_cfg *s;
	struct xgw_backend_cfg b;
	unsigned i;

	if (!c->n_services)
		return;
	i = rnd(c->n_services);
	s = &c->services[i];
	switch (rnd(7)) {
	case 0: /* removed */
		xgw_service_free(s);
		memmove(s, s + 1, (c->n_services - i - 1) * sizeof(*s));
		c->n_services--;
		break;
	case 1: /* a backend added */
		random_backend(&b);
		if (has_backend(s, &b))
			break;
		s->backends = realloc(s->backends, (s->n_backends + 1) * sizeof(b));
		assert_non_null(s->backends);
		s->backends[s->n_backends++] = b;
		break;
	case 2: /* a backend removed */
		if (s->n_backends) {
			unsigned k = rnd(s->n_backends);
			s->backends[k] = s->backends[--s->n_backends];
		}
		break;
	case 3: /* a weight, or a port (as a reload may change it) */
		if (s->n_backends && rnd(2)) {
			s->backends[rnd(s->n_backends)].weight = rnd(4);
		} else if (s->n_backends) {
			random_backend(&b);
			b.ip = s->backends[0].ip;
			b.weight = s->backends[0].weight;
			if (!has_backend(s, &b))
				s->backends[0] = b;
		}
		break;
	case 4: /* moved */
		s->datapath = s->datapath == XGW_DP_USER ? XGW_DP_KERNEL : XGW_DP_USER;
		break;
	case 5: /* algorithm, table size */
		s->algo = s->algo == XGW_ALGO_MAGLEV ? XGW_ALGO_RANDOM : XGW_ALGO_MAGLEV;
		s->maglev_size = rnd(2) ? 0 : 211;
		break;
	default: /* snat, or the whole list reversed */
		if (rnd(2)) {
			s->snat = !s->snat;
		} else {
			for (unsigned a = 0, z = c->n_services - 1; a < z; a++, z--) {
				struct xgw_service_cfg t = c->services[a];
				c->services[a] = c->services[z];
				c->services[z] = t;
			}
		}
		break;
	}
}

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
	struct xgw_config c;
	unsigned writes = 0;
	char err[256];

	(void)state;
	assert_non_null(b);
	xgw_config_defaults(&c);
	c.maglev_size = 401;
	for (int step = 0; step < 600; step++) {
		struct xgw_snapshot *s, *ref;
		unsigned k = rnd(3) ? 1 : 1 + rnd(6);

		/* One write: one change, or a batch of several. */
		for (unsigned i = 0; i < k; i++) {
			if (c.n_services < 8 || rnd(3) == 0)
				add_service(&c);
			else
				change_service(&c);
		}
		s = xgw_snapshot_update(b, &c, 2, 0x5eed, cur, err, sizeof(err));
		assert_non_null(s);
		ref = xgw_snapshot_build(&c, 2, 0x5eed, err, sizeof(err));
		assert_non_null(ref);
		same_snapshot(s, ref);
		xgw_snapshot_free(ref);
		if (rnd(10) == 0) {
			/* Refused after the build (as a counter slot shortage
			 * is): never published, the running one stays. */
			xgw_snapshot_free(s);
			continue;
		}
		writes++;
		xgw_snapshot_published(b, s);
		xgw_snapshot_free(cur);
		cur = s;
	}
	/* The point of it: most writes did not rebuild the tables (a
	 * resize, a refused write before, a duplicate do). */
	assert_true(xgw_snap_builder_fills(b) * 4 < writes);
	xgw_snapshot_free(cur);
	xgw_snap_builder_free(b);
	xgw_config_free(&c);
}

/* A write shares every record it does not change, and its tables are the
 * spare copy: after two writes, the first snapshot's arrays again. */
static void test_update_shares(void **state)
{
	struct xgw_snap_builder *b = xgw_snap_builder_new();
	struct xgw_snapshot *s0, *s1, *s2;
	struct xgw_config c;
	char err[256];

	(void)state;
	xgw_config_defaults(&c);
	for (int i = 0; i < 50; i++)
		add_service(&c);
	s0 = xgw_snapshot_update(b, &c, 1, 1, NULL, err, sizeof(err));
	assert_non_null(s0);
	xgw_snapshot_published(b, s0);
	change_service(&c);
	s1 = xgw_snapshot_update(b, &c, 1, 1, s0, err, sizeof(err));
	assert_non_null(s1);
	xgw_snapshot_published(b, s1);
	xgw_snapshot_free(s0);
	bool done = false;
	/* One backend more on the first service with backends. */
	for (unsigned i = 0; i < c.n_services && !done; i++) {
		struct xgw_service_cfg *s = &c.services[i];
		if (!s->n_backends)
			continue;
		s->backends = realloc(s->backends, (s->n_backends + 1) * sizeof(*s->backends));
		assert_non_null(s->backends);
		s->backends[s->n_backends] = s->backends[0];
		s->backends[s->n_backends].port = 9999;
		s->n_backends++;
		done = true;
	}
	assert_true(done);
	s2 = xgw_snapshot_update(b, &c, 1, 1, s1, err, sizeof(err));
	assert_non_null(s2);
	assert_int_equal(s2->n_gone, 1);
	assert_int_equal(s2->n_added, 1);
	for (unsigned i = 0, shared = 0; i < s2->n_svcs; i++) {
		shared += s2->svcs[i] == s1->svcs[i];
		if (i == s2->n_svcs - 1)
			assert_int_equal(shared, s2->n_svcs - 1);
	}
	xgw_snapshot_published(b, s2);
	xgw_snapshot_free(s1);
	xgw_snapshot_free(s2);
	xgw_snap_builder_free(b);
	xgw_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_update_equals_build),
	    cmocka_unit_test(test_update_shares),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
