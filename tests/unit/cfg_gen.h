/* SPDX-License-Identifier: BSD-3-Clause */
/* Random writes to a service config, as the control socket makes them:
 * the working copy shares its backends arrays with the config it was
 * copied from (xgw_config_copy_shared), and a changed service gets a new
 * array, never one changed in place.  Every array made is kept in a
 * graveyard, freed by gen_free, so that configs can share them freely. */
#ifndef XGW_TEST_CFG_GEN_H
#define XGW_TEST_CFG_GEN_H

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static struct xgw_backend_cfg **graveyard;
static size_t n_graveyard;

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

/* A new array of n backends (n + 1 allocated), the first `keep` from old. */
static struct xgw_backend_cfg *new_backends(const struct xgw_backend_cfg *old, unsigned keep,
					    unsigned n)
{
	struct xgw_backend_cfg *a = calloc(n + 1, sizeof(*a));

	assert_non_null(a);
	if (keep)
		memcpy(a, old, keep * sizeof(*a));
	graveyard = realloc(graveyard, (n_graveyard + 1) * sizeof(*graveyard));
	assert_non_null(graveyard);
	graveyard[n_graveyard++] = a;
	return a;
}

static void gen_free(void)
{
	for (size_t i = 0; i < n_graveyard; i++)
		free(graveyard[i]);
	free(graveyard);
	graveyard = NULL;
	n_graveyard = 0;
}

/* A config's own arrays, not the backends (the graveyard's). */
static void cfg_release(struct xgw_config *c)
{
	xgw_config_free_keep_backends(c);
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

/* The changes of a write named as the control socket's handlers name
 * them (common/config.h's struct xgw_svc_delta): between gen_begin and
 * gen_end, a service is added at the end and one changed in place is
 * listed; a removal or a reorder leaves the write unnamed. */
static bool gen_named;
static unsigned gen_idx[64], gen_n_idx;
static struct xgw_svc_delta gen_delta;

static void gen_begin(const struct xgw_config *c, bool named)
{
	gen_named = named;
	gen_n_idx = 0;
	gen_delta = (struct xgw_svc_delta){.prev_services = c->services, .n_prev = c->n_services};
}

static void gen_touch(unsigned i)
{
	if (i >= gen_delta.n_prev)
		return;
	assert_true(gen_n_idx < sizeof(gen_idx) / sizeof(gen_idx[0]));
	gen_idx[gen_n_idx++] = i;
}

static int gen_cmp(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return (x > y) - (x < y);
}

/* w, written from c since gen_begin: its delta, when named. */
static void gen_end(struct xgw_config *w, const struct xgw_config *c)
{
	unsigned n = 0;

	w->delta = NULL;
	if (!gen_named)
		return;
	qsort(gen_idx, gen_n_idx, sizeof(gen_idx[0]), gen_cmp);
	for (unsigned k = 0; k < gen_n_idx; k++)
		if (!n || gen_idx[k] != gen_idx[n - 1])
			gen_idx[n++] = gen_idx[k];
	gen_delta.idx = gen_idx;
	gen_delta.n_idx = n;
	gen_delta.n_tun = 0;
	for (unsigned i = 0; i < c->n_services; i++)
		gen_delta.n_tun += xgw_service_n_tun(&c->services[i]);
	w->delta = &gen_delta;
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
	s.backends = new_backends(NULL, 0, 5);
	s.backends_shared = true; /* the graveyard's */
	for (unsigned n = rnd(5); s.n_backends < n;) {
		struct xgw_backend_cfg b;

		random_backend(&b);
		if (has_backend(&s, &b))
			break;
		s.backends[s.n_backends++] = b;
	}
	c->services = realloc(c->services, (c->n_services + 1) * sizeof(*c->services));
	assert_non_null(c->services);
	/* Anywhere: every position after it moves (at the end when the
	 * write names its changes, as service.add does). */
	unsigned at = gen_named ? c->n_services : rnd(c->n_services + 1);
	memmove(&c->services[at + 1], &c->services[at], (c->n_services - at) * sizeof(s));
	c->services[at] = s;
	c->n_services++;
}

static void change_service(struct xgw_config *c)
{
	struct xgw_service_cfg *s;
	struct xgw_backend_cfg b;
	unsigned i, k;

	if (!c->n_services)
		return;
	i = rnd(c->n_services);
	s = &c->services[i];
	gen_touch(i);
	switch (rnd(7)) {
	case 0: /* removed */
		memmove(s, s + 1, (c->n_services - i - 1) * sizeof(*s));
		c->n_services--;
		gen_named = false;
		break;
	case 1: /* a backend added */
		random_backend(&b);
		if (has_backend(s, &b))
			break;
		s->backends = new_backends(s->backends, s->n_backends, s->n_backends + 1);
		s->backends[s->n_backends++] = b;
		break;
	case 2: /* a backend removed */
		if (!s->n_backends)
			break;
		k = rnd(s->n_backends);
		s->backends = new_backends(s->backends, s->n_backends, s->n_backends);
		s->backends[k] = s->backends[--s->n_backends];
		break;
	case 3: /* a weight, or a port (as a reload may change it) */
		if (!s->n_backends)
			break;
		s->backends = new_backends(s->backends, s->n_backends, s->n_backends);
		if (rnd(2)) {
			s->backends[rnd(s->n_backends)].weight = rnd(4);
		} else {
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
			gen_named = false;
			for (unsigned a = 0, z = c->n_services - 1; a < z; a++, z--) {
				struct xgw_service_cfg t = c->services[a];
				c->services[a] = c->services[z];
				c->services[z] = t;
			}
		}
		break;
	}
}

/* The next write's working copy of c (sharing its backends arrays). */
static void cfg_copy(struct xgw_config *dst, const struct xgw_config *c)
{
	assert_int_equal(xgw_config_copy_shared(dst, c, NULL, 0), 0);
}

#endif
