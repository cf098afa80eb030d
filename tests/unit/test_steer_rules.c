/* SPDX-License-Identifier: BSD-3-Clause */
/* The steering rules are written by difference (pipeline/steer_rules.h):
 * over a random sequence of writes (services and backends added, removed,
 * changed, reordered, steer entries and tunnel rules now and then, keys
 * shared between services and with steer entries), the maps as the diffs
 * leave them (a model: key -> value, and the classes) must be what the
 * whole rule list gives, as xgw_steer_set_rules would write it. */
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

#include "common/config.h"
#include "pipeline/steer_rules.h"
#include "steer-bpf/steer_maps.h"

#include "cfg_gen.h"

/* The model of the two maps: keys as the rules' fields, with values. */
struct mkey {
	uint32_t w[4];
	uint8_t family, len, proto, src;
	uint16_t port;
	uint32_t val;
};

struct model {
	struct mkey *k;
	unsigned n;
	uint32_t classes;
};

static struct mkey dkey(const struct xgw_steer_rule *r)
{
	struct mkey k;

	memset(&k, 0, sizeof(k));
	memcpy(k.w, r->dst.addr.w, sizeof(k.w));
	k.family = r->dst.addr.family;
	k.len = r->dst.len;
	k.proto = r->proto;
	k.port = r->dport;
	k.val = r->id;
	return k;
}

static struct mkey skey(const struct xgw_steer_src_rule *r)
{
	struct mkey k;

	memset(&k, 0, sizeof(k));
	memcpy(k.w, r->addr.w, sizeof(k.w));
	k.family = r->addr.family;
	k.proto = r->proto;
	k.port = r->sport;
	k.src = 1;
	return k;
}

static int mfind(const struct model *m, const struct mkey *k)
{
	for (unsigned i = 0; i < m->n; i++)
		if (!memcmp(&m->k[i], k, offsetof(struct mkey, val)))
			return (int)i;
	return -1;
}

static void mput(struct model *m, struct mkey k)
{
	int i = mfind(m, &k);

	if (i >= 0) {
		m->k[i].val = k.val;
		return;
	}
	m->k = realloc(m->k, (m->n + 1) * sizeof(k));
	assert_non_null(m->k);
	m->k[m->n++] = k;
}

static void mdel(struct model *m, struct mkey k)
{
	int i = mfind(m, &k);

	assert_true(i >= 0); /* a diff deletes only what is there */
	m->k[i] = m->k[--m->n];
}

/* What xgw_steer_set_rules makes of the whole list. */
static void full_model(struct model *m, const struct xgw_config *c)
{
	struct xgw_steer_rule *r;
	struct xgw_steer_src_rule *s;
	unsigned n, n_src;

	m->n = 0;
	m->classes = 0;
	assert_int_equal(xgw_steer_rules_full(c, &r, &n, &s, &n_src), 0);
	for (unsigned i = 0; i < n; i++) {
		mput(m, dkey(&r[i])); /* in order: the last of equal keys wins */
		m->classes |= r[i].proto && r[i].dport ? XGW_STEER_CLASS_PROTO_PORT
			      : r[i].proto	       ? XGW_STEER_CLASS_PROTO
						       : XGW_STEER_CLASS_ANY;
	}
	for (unsigned i = 0; i < n_src; i++)
		mput(m, skey(&s[i]));
	if (n_src)
		m->classes |= XGW_STEER_CLASS_SRC;
	free(r);
	free(s);
}

static void same_model(const struct model *a, const struct model *b)
{
	assert_int_equal(a->n, b->n);
	for (unsigned i = 0; i < a->n; i++) {
		int j = mfind(b, &a->k[i]);
		assert_true(j >= 0);
		assert_int_equal(a->k[i].val, b->k[j].val);
	}
	assert_int_equal(a->classes, b->classes);
}

static void change_other(struct xgw_config *c)
{
	if (rnd(3) == 0 && c->n_services) {
		/* A backend into or out of a tunnel: the tunnel rules come
		 * with the first one and go with the last. */
		unsigned i = rnd(c->n_services);
		struct xgw_service_cfg *s = &c->services[i];
		gen_touch(i);
		addr4(&c->tunnel.local_ip, 0xc6120301u);
		if (s->n_backends) {
			s->backends = new_backends(s->backends, s->n_backends, s->n_backends);
			s->backends[0].tun = s->backends[0].tun ? XGW_TUN_NONE : XGW_TUN_VXLAN;
		}
	} else if (c->n_steer && rnd(2)) {
		c->n_steer--;
	} else {
		/* A steer entry: now and then on a VIP's key. */
		c->steer = realloc(c->steer, (c->n_steer + 1) * sizeof(*c->steer));
		assert_non_null(c->steer);
		struct xgw_steer_cfg *e = &c->steer[c->n_steer++];
		memset(e, 0, sizeof(*e));
		e->id = c->next_steer_id++;
		addr4(&e->dst.addr, rnd(4) ? 0x0a000000u + rnd(100) : 0xc6126400u + rnd(6));
		e->dst.len = 32;
		e->proto = rnd(2) ? IPPROTO_TCP : IPPROTO_ICMP;
		e->dport = e->proto == IPPROTO_TCP ? (uint16_t)(80 + rnd(4)) : 0;
	}
}

static void test_diff_equals_full(void **state)
{
	struct xgw_steer_rules *r = xgw_steer_rules_new();
	struct model maps = {0}, want = {0};
	struct xgw_config c, w, deep;
	unsigned diffs = 0, wholes = 0, n_named = 0;

	(void)state;
	assert_non_null(r);
	xgw_config_defaults(&c);
	for (int step = 0; step < 800; step++) {
		struct xgw_steer_delta d;
		const struct xgw_config *prev = &c;
		unsigned k = rnd(3) ? 1 : 1 + rnd(6);
		int rc;

		cfg_copy(&w, &c);
		/* Mostly with the changes named (as the control socket's
		 * handlers do), the others found by the pass. */
		gen_begin(&c, rnd(4) != 0);
		for (unsigned i = 0; i < k; i++) {
			if (rnd(25) == 0)
				change_other(&w);
			else if (w.n_services < 8 || rnd(3) == 0)
				add_service(&w);
			else
				change_service(&w);
		}
		gen_end(&w, &c);
		n_named += w.delta != NULL;
		memset(&deep, 0, sizeof(deep));
		if (rnd(8) == 0) {
			prev = NULL;
		} else if (rnd(8) == 0) {
			assert_int_equal(xgw_config_copy(&deep, &c), 0);
			prev = &deep;
		}
		rc = xgw_steer_rules_diff(r, &w, prev, &d);
		xgw_config_free(&deep);
		if (rc == -EAGAIN) {
			/* Whole, as xgw_dp_apply_steer does. */
			full_model(&maps, &w);
			assert_int_equal(xgw_steer_rules_reset(r, &w), 0);
			wholes++;
		} else {
			assert_int_equal(rc, 0);
			for (unsigned i = 0; i < d.n_add; i++)
				mput(&maps, dkey(&d.add[i]));
			for (unsigned i = 0; i < d.n_src_add; i++)
				mput(&maps, skey(&d.src_add[i]));
			for (unsigned i = 0; i < d.n_del; i++)
				mdel(&maps, dkey(&d.del[i]));
			for (unsigned i = 0; i < d.n_src_del; i++)
				mdel(&maps, skey(&d.src_del[i]));
			maps.classes = d.classes;
			xgw_steer_delta_free(&d);
			diffs++;
		}
		full_model(&want, &w);
		same_model(&maps, &want);
		cfg_release(&c);
		c = w;
		c.delta = NULL;
	}
	print_message("%u by difference, %u whole, %u named\n", diffs, wholes, n_named);
	assert_true(n_named > 250);
	/* Most writes went by difference. */
	assert_true(diffs > 4 * wholes);
	free(maps.k);
	free(want.k);
	xgw_steer_rules_free(r);
	cfg_release(&c);
	gen_free();
}

/* One service added to many: the diff holds its keys alone. */
static void test_diff_small(void **state)
{
	struct xgw_steer_rules *r = xgw_steer_rules_new();
	struct xgw_steer_delta d;
	struct xgw_config c;

	(void)state;
	xgw_config_defaults(&c);
	c.services = calloc(1000, sizeof(*c.services));
	assert_non_null(c.services);
	for (unsigned i = 0; i < 999; i++) {
		struct xgw_service_cfg *s = &c.services[c.n_services++];
		addr4(&s->vip, 0xc6120000u + i);
		s->port = 80;
		s->proto = IPPROTO_TCP;
		s->backends = calloc(1, sizeof(*s->backends));
		assert_non_null(s->backends);
		addr4(&s->backends[0].ip, 0xc6130000u + i);
		s->backends[0].port = 8080;
		s->n_backends = 1;
	}
	assert_int_equal(xgw_steer_rules_diff(r, &c, NULL, &d), -EAGAIN);
	assert_int_equal(xgw_steer_rules_reset(r, &c), 0);
	struct xgw_service_cfg *s = &c.services[c.n_services++];
	addr4(&s->vip, 0xc6140001u);
	s->port = 443;
	s->proto = IPPROTO_TCP;
	assert_int_equal(xgw_steer_rules_diff(r, &c, NULL, &d), 0);
	assert_int_equal(d.n_add, 2); /* port and ICMP */
	assert_int_equal(d.n_del + d.n_src_add + d.n_src_del, 0);
	assert_int_equal(d.classes,
			 XGW_STEER_CLASS_PROTO_PORT | XGW_STEER_CLASS_PROTO | XGW_STEER_CLASS_SRC);
	xgw_steer_delta_free(&d);
	xgw_steer_rules_free(r);
	xgw_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_diff_equals_full),
	    cmocka_unit_test(test_diff_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
