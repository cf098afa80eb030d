/* SPDX-License-Identifier: BSD-3-Clause */
/* Micro-benchmark for lb/: policy lookups at 10, 1,000 and 10,000 rules,
 * Maglev build and pick, flow hash.  Not a test; run by hand:
 *
 *   bench_lb_policy                      # all figures, wall clock (median of 5)
 *   valgrind --tool=callgrind --toggle-collect=run_lookups \
 *       bench_lb_policy --rules 10000 --lookups 100000 [--mix M] [--wild W]
 *                                        # instructions: Ir / lookups
 *
 * M: sites (default), broad, v6, deep (see rnd_rule); W: per mille of
 * rules without addresses in the sites mix (default 10).
 *
 * The rule and packet generator is the one of tests/unit/test_policy.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "lb/maglev.h"
#include "lb/policy.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* splitmix64: reproducible across libcs. */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rndn(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* Rule mixes.  SITES: addresses from a few dozen "sites" so that prefixes
 * nest and overlap as in real policies, with some fully random ones; the
 * share of rules with neither address is addr_wild_permille.  BROAD: short
 * prefixes (/0-/16, IPv6 /0-/48) and wide overlapping port ranges: every
 * packet lies in many rules' ranges.  V6: 90% IPv6, prefix lengths spread
 * over /0-/128.  DEEP: both addresses given, /8-/32 outside the sites, so
 * few rules match a packet and most packets reach the default: the
 * slowest lookups for a bit-vector scheme. */
enum mix { MIX_SITES, MIX_BROAD, MIX_V6, MIX_DEEP };
static enum mix mix = MIX_SITES;
/* Aim packets at the edges of their rule's ranges (first/last address and
 * port, and one past them). */
static bool pkt_edges;
static bool rnd_full; /* uniform addresses, outside the sites */

static void rnd_addr(struct xgw_addr *a, int v6)
{
	if (v6) {
		uint8_t b[16];
		uint64_t hi = 0x20010db800000000ull | ((uint64_t)rndn(32) << 16), lo = rnd();

		if (rnd_full || rndn(8) == 0)
			hi = rnd();
		for (int i = 0; i < 8; i++) {
			b[i] = (uint8_t)(hi >> (56 - 8 * i));
			b[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
		}
		xgw_addr_v6(a, b);
	} else {
		uint32_t v = (0xc6120000u + (rndn(32) << 11)) ^ (uint32_t)rndn(2048);

		if (rnd_full || rndn(8) == 0)
			v = (uint32_t)rnd();
		xgw_addr_v4(a, htonl(v));
	}
}

static uint8_t rnd_len(int v6)
{
	static const uint8_t common4[] = {8, 16, 20, 24, 24, 28, 32, 32};
	static const uint8_t common6[] = {32, 40, 48, 56, 64, 64, 96, 128};

	if (mix == MIX_BROAD)
		return (uint8_t)rndn(v6 ? 49 : 17);
	if (mix == MIX_DEEP)
		return (uint8_t)(8 + rndn(v6 ? 121 : 25));
	if (rndn(4) == 0 || (mix == MIX_V6 && rndn(2)))
		return (uint8_t)rndn(v6 ? 129 : 33);
	return v6 ? common6[rndn(8)] : common4[rndn(8)];
}

static void rnd_prefix(struct xgw_prefix *p, int v6)
{
	rnd_full = mix == MIX_DEEP;
	rnd_addr(&p->addr, v6);
	rnd_full = false;
	p->len = rnd_len(v6);
	xgw_addr_mask(&p->addr, p->len);
}

/* Share of rules with neither address given (they match whole families
 * and so decide most packets): per mille. */
static unsigned addr_wild_permille = 10;

static void rnd_ports(struct xgw_policy_cfg *r)
{
	static const uint16_t ports[] = {22, 53, 80, 443, 8080, 3306, 5432, 6379};
	unsigned pk = rndn(10);

	if (pk < 4 || r->proto == IPPROTO_ICMP) {
		r->dport_lo = 0;
		r->dport_hi = 65535;
	} else if (pk < 8 && mix != MIX_BROAD) {
		r->dport_lo = r->dport_hi = rndn(2) ? ports[rndn(8)] : (uint16_t)(1 + rndn(65535));
	} else if (mix == MIX_BROAD) {
		r->dport_lo = (uint16_t)rndn(65536);
		r->dport_hi = (uint16_t)(r->dport_lo + rndn(65536u - r->dport_lo));
	} else if (rndn(20) == 0) {
		r->dport_lo = 1024;
		r->dport_hi = 65535;
	} else {
		r->dport_lo = (uint16_t)(1 + rndn(64000));
		r->dport_hi = (uint16_t)(r->dport_lo + rndn(1024));
	}
}

static void rnd_rule(struct xgw_policy_cfg *r, uint32_t id)
{
	int v6 = mix == MIX_V6 ? rndn(10) < 9 : rndn(10) < 3;

	memset(r, 0, sizeof(*r));
	r->id = id;
	r->allow = rndn(2);
	if (rndn(10) >= 3 || mix == MIX_DEEP)
		rnd_prefix(&r->src, v6);
	if (rndn(10) >= 2 || mix == MIX_DEEP ||
	    (!r->src.addr.family && rndn(1000) >= addr_wild_permille))
		rnd_prefix(&r->dst, v6);
	unsigned pr = rndn(20);
	r->proto = pr < 6 ? 0 : pr < 14 ? IPPROTO_TCP : pr < 19 ? IPPROTO_UDP : IPPROTO_ICMP;
	rnd_ports(r);
}

typedef unsigned __int128 u128;

static u128 addr_u128(const struct xgw_addr *a)
{
	u128 v = 0;

	for (int i = 0; i < (a->family == AF_INET6 ? 16 : 4); i++)
		v = v << 8 | a->b[i];
	return v;
}

static void u128_addr(struct xgw_addr *a, u128 v)
{
	for (int i = (a->family == AF_INET6 ? 16 : 4) - 1; i >= 0; i--, v >>= 8)
		a->b[i] = (uint8_t)v;
}

/* Move a packet address to its prefix's first or last address, or one
 * outside (wrapping at the ends of the family). */
static void edge_addr(struct xgw_addr *a, const struct xgw_prefix *pf)
{
	int bits = xgw_addr_bits(a);
	u128 all = bits == 128 ? ~(u128)0 : ((u128)1 << bits) - 1;
	u128 host = pf->len >= bits ? 0 : pf->len == 0 ? all : ((u128)1 << (bits - pf->len)) - 1;
	u128 v = addr_u128(&pf->addr) & ~host & all;

	switch (rndn(4)) {
	case 0:
		break;
	case 1:
		v |= host;
		break;
	case 2:
		v = (v - 1) & all;
		break;
	default:
		v = ((v | host) + 1) & all;
	}
	u128_addr(a, v);
}

/* Half the packets are aimed inside a random rule, half are random (and
 * half of those outside the sites). */
static void rnd_pkt(struct xgw_policy_key *k, const struct xgw_policy_cfg *r, unsigned n)
{
	const struct xgw_policy_cfg *t = n && rndn(2) ? &r[rndn(n)] : NULL;
	int v6 = rndn(10) < 3;

	if (mix == MIX_V6)
		v6 = rndn(10) < 9;
	rnd_full = !t && rndn(2);
	if (t && (t->src.addr.family || t->dst.addr.family))
		v6 = (t->src.addr.family ? t->src.addr.family : t->dst.addr.family) == AF_INET6;
	rnd_addr(&k->src, v6);
	rnd_addr(&k->dst, v6);
	rnd_full = false;
	k->proto = rndn(3) ? IPPROTO_TCP : IPPROTO_UDP;
	k->dport = (uint16_t)rndn(65536);
	if (rndn(4) == 0)
		k->dport = (uint16_t)(rndn(2) ? 443 : 22);
	if (!t)
		return;
	for (int side = 0; side < 2; side++) {
		const struct xgw_prefix *pf = side ? &t->dst : &t->src;
		struct xgw_addr *a = side ? &k->dst : &k->src;

		if (!pf->addr.family)
			continue;
		if (pkt_edges) {
			edge_addr(a, pf);
			continue;
		}
		for (int i = 0; i < 16; i++) {
			int bit0 = i * 8;
			uint8_t keep = pf->len >= bit0 + 8 ? 0xff
				       : pf->len <= bit0
					   ? 0
					   : (uint8_t)(0xff << (8 - (pf->len - bit0)));

			a->b[i] = (pf->addr.b[i] & keep) | (a->b[i] & ~keep);
		}
		if (a->family == AF_INET)
			a->w[1] = a->w[2] = a->w[3] = 0;
	}
	if (t->proto)
		k->proto = t->proto;
	k->dport = (uint16_t)(t->dport_lo + rndn((unsigned)(t->dport_hi - t->dport_lo) + 1));
	if (pkt_edges) {
		static const int delta[] = {0, 0, -1, 1};
		int d = delta[rndn(4)];

		k->dport = (uint16_t)((d <= 0 ? t->dport_lo : t->dport_hi) + d);
		if (rndn(2))
			k->dport = rndn(2) ? t->dport_hi : t->dport_lo;
	}
	if (k->proto == IPPROTO_ICMP)
		k->dport = 0;
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* Kept out of line so that callgrind can count exactly these. */
__attribute__((noinline)) uint64_t run_lookups(const struct xgw_policy *p,
					       const struct xgw_policy_key *k, unsigned nk,
					       unsigned n, uint64_t *hits);
__attribute__((noinline)) uint64_t run_lookups(const struct xgw_policy *p,
					       const struct xgw_policy_key *k, unsigned nk,
					       unsigned n, uint64_t *hits)
{
	uint64_t allowed = 0;

	for (unsigned i = 0; i < n; i++)
		allowed += xgw_policy_classify(p, &k[i % nk], hits);
	return allowed;
}

#define NPKT (1u << 16)

static void bench_policy(unsigned n_rules, unsigned lookups, int reps)
{
	struct xgw_policy_cfg *r = calloc(n_rules ? n_rules : 1, sizeof(*r));
	struct xgw_policy_key *k = malloc(sizeof(*k) * NPKT);
	uint64_t *hits;
	double t[16], b[16];
	unsigned deflt = 0;
	int err = 0;

	rng_state = 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; i < n_rules; i++)
		rnd_rule(&r[i], i + 1);
	for (unsigned i = 0; i < NPKT; i++)
		rnd_pkt(&k[i], r, n_rules);
	struct xgw_policy *p = NULL;
	for (int i = 0; i < reps; i++) {
		double t0 = now_ns();

		xgw_policy_free(p);
		p = xgw_policy_build(r, n_rules, false, &err);
		b[i] = (now_ns() - t0) / 1e6;
		if (!p) {
			fprintf(stderr, "build: %s\n", strerror(-err));
			exit(1);
		}
	}
	hits = calloc(xgw_policy_hits_len(p), sizeof(*hits));
	for (unsigned i = 0; i < NPKT; i++)
		deflt += xgw_policy_match(p, &k[i]) == XGW_POLICY_NO_RULE;
	for (int i = 0; i < reps; i++) {
		double t0 = now_ns();

		run_lookups(p, k, NPKT, lookups, hits);
		t[i] = (now_ns() - t0) / lookups;
	}
	printf("policy %5u rules: %7.1f ns/lookup (median of %d x %u), build %.1f ms, "
	       "%.0f KiB, %u tiers, %.1f%% default verdicts\n",
	       n_rules, median(t, reps), reps, lookups, median(b, reps), xgw_policy_mem(p) / 1024.0,
	       p->n_tiers, 100.0 * deflt / NPKT);
	xgw_policy_free(p);
	free(hits);
	free(k);
	free(r);
}

static void bench_maglev(int reps)
{
	struct xgw_maglev_backend b[100];
	uint8_t key[100][XGW_MAGLEV_KEY_LEN];
	double t[16];
	struct xgw_maglev *m = NULL;
	int err = 0;

	for (unsigned i = 0; i < 100; i++) {
		struct xgw_addr a;

		xgw_addr_v4(&a, htonl(0xc6120200u + i));
		xgw_maglev_endpoint_key(key[i], &a, 8080);
		b[i] = (struct xgw_maglev_backend){
		    .id = i + 1, .weight = 1 + i % 10, .key = key[i], .key_len = sizeof(key[i])};
	}
	for (int i = 0; i < reps; i++) {
		double t0 = now_ns();

		xgw_maglev_free(m);
		m = xgw_maglev_build(XGW_MAGLEV_DEFAULT_SIZE, b, 100, &err);
		t[i] = (now_ns() - t0) / 1e6;
	}
	printf("maglev build: 100 backends (weights 1..10), M=%u: %.2f ms (median of %d)\n",
	       XGW_MAGLEV_DEFAULT_SIZE, median(t, reps), reps);
	for (unsigned w = 0; w < 100; w++)
		b[w].weight = 1;
	for (int i = 0; i < reps; i++) {
		double t0 = now_ns();

		xgw_maglev_free(m);
		m = xgw_maglev_build(XGW_MAGLEV_DEFAULT_SIZE, b, 100, &err);
		t[i] = (now_ns() - t0) / 1e6;
	}
	printf("maglev build: 100 backends (equal weights), M=%u: %.2f ms (median of %d)\n",
	       XGW_MAGLEV_DEFAULT_SIZE, median(t, reps), reps);

	/* Flow hash + pick, as the pipeline does per new flow. */
	struct xgw_addr s, d;
	uint64_t sum = 0;
	const unsigned n = 20000000;

	xgw_addr_v4(&s, htonl(0xc6120001));
	xgw_addr_v4(&d, htonl(0xc6126401));
	for (int i = 0; i < reps; i++) {
		double t0 = now_ns();

		for (unsigned j = 0; j < n; j++) {
			s.w[0] ^= j;
			sum += xgw_maglev_pick(m, xgw_flow_hash(&s, &d, (uint16_t)j, 80, 6, 1));
		}
		t[i] = (now_ns() - t0) / n;
	}
	printf("flow hash + maglev pick (v4): %.2f ns (median of %d x %u) [%lu]\n", median(t, reps),
	       reps, n, (unsigned long)(sum & 1));
	xgw_maglev_free(m);
}

int main(int argc, char **argv)
{
	static const char *const mix_name[] = {"sites", "broad", "v6", "deep"};
	unsigned rules = 0, lookups = 2000000;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--rules"))
			rules = (unsigned)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--lookups"))
			lookups = (unsigned)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--wild"))
			addr_wild_permille = (unsigned)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--mix"))
			for (unsigned m = 0; m < 4; m++)
				if (!strcmp(argv[i + 1], mix_name[m]))
					mix = (enum mix)m;
	}
	if (rules) {
		/* One size, one repetition: for callgrind. */
		bench_policy(rules, lookups, 1);
		return 0;
	}
	for (unsigned m = 0; m < 5; m++) {
		mix = m < 2 ? MIX_SITES : (enum mix)(m - 1);
		addr_wild_permille = m == 1 ? 0 : 10;
		if (m < 2)
			printf("-- mix sites, rules without addresses: %u per mille\n",
			       addr_wild_permille);
		else
			printf("-- mix %s\n", mix_name[mix]);
		bench_policy(10, lookups, 5);
		bench_policy(1000, lookups, 5);
		bench_policy(10000, lookups, 5);
	}
	bench_maglev(5);
	return 0;
}
