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
		struct xgw_service_cfg *s = &c->services[rnd(c->n_services)];
		addr4(&c->tunnel.local_ip, 0xc6120301u);
		if (s->n_backends)
			s->backends[0].tun = s->backends[0].tun ? XGW_TUN_NONE : XGW_TUN_VXLAN;
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
	struct xgw_config c;
	unsigned diffs = 0, wholes = 0;

	(void)state;
	assert_non_null(r);
	xgw_config_defaults(&c);
	for (int step = 0; step < 800; step++) {
		struct xgw_steer_delta d;
		unsigned k = rnd(3) ? 1 : 1 + rnd(6);
		int rc;

		for (unsigned i = 0; i < k; i++) {
			if (rnd(25) == 0)
				change_other(&c);
			else if (c.n_services < 8 || rnd(3) == 0)
				add_service(&c);
			else
				change_service(&c);
		}
		rc = xgw_steer_rules_diff(r, &c, &d);
		if (rc == -EAGAIN) {
			/* Whole, as xgw_dp_apply_steer does. */
			full_model(&maps, &c);
			assert_int_equal(xgw_steer_rules_reset(r, &c), 0);
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
		full_model(&want, &c);
		same_model(&maps, &want);
	}
	print_message("%u by difference, %u whole\n", diffs, wholes);
	/* Most writes went by difference. */
	assert_true(diffs > 4 * wholes);
	free(maps.k);
	free(want.k);
	xgw_steer_rules_free(r);
	xgw_config_free(&c);
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
	assert_int_equal(xgw_steer_rules_diff(r, &c, &d), -EAGAIN);
	assert_int_equal(xgw_steer_rules_reset(r, &c), 0);
	struct xgw_service_cfg *s = &c.services[c.n_services++];
	addr4(&s->vip, 0xc6140001u);
	s->port = 443;
	s->proto = IPPROTO_TCP;
	assert_int_equal(xgw_steer_rules_diff(r, &c, &d), 0);
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
