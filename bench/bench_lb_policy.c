/* SPDX-License-Identifier: BSD-3-Clause */
/* Micro-benchmark for lb/: policy lookups at 10, 1,000 and 10,000 rules,
 * Maglev build and pick, flow hash.  Not a test; run by hand:
 *
 *   bench_lb_policy                      # all figures, wall clock (median of 5)
 *   valgrind --tool=callgrind --toggle-collect=run_lookups \
 *       bench_lb_policy --rules 10000 --lookups 100000 [--mix M] [--wild W]
 *                                        # instructions: Ir / lookups
 *
 * M: sites (default), broad, v6, deep; W: per mille of rules without
 * addresses in the sites mix (default 10).
 *
 * The rule and packet generator (and the mixes) are those of the policy
 * unit test: tests/lib/policy_gen.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "lb/maglev.h"
#include "lb/policy.h"
#include "tests/lib/policy_gen.h"

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

/* Rules and packets from cfg's mix and settings, always from the same
 * seed so that figures stay comparable. */
static void bench_policy(const struct xgw_polgen *cfg, unsigned n_rules, unsigned lookups, int reps)
{
	struct xgw_polgen g = *cfg;
	struct xgw_policy_cfg *r = calloc(n_rules ? n_rules : 1, sizeof(*r));
	struct xgw_policy_key *k = malloc(sizeof(*k) * NPKT);
	uint64_t *hits;
	double t[16], b[16];
	unsigned deflt = 0;
	int err = 0;

	g.rng = XGW_POLGEN_SEED;
	xgw_polgen_rules(&g, r, n_rules);
	for (unsigned i = 0; i < NPKT; i++)
		xgw_polgen_pkt(&g, &k[i], r, n_rules);
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
	struct xgw_polgen cfg;

	xgw_polgen_init(&cfg, XGW_POLGEN_SEED);

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--rules"))
			rules = (unsigned)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--lookups"))
			lookups = (unsigned)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--wild"))
			cfg.addr_wild_permille = (unsigned)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--mix"))
			for (unsigned m = 0; m < 4; m++)
				if (!strcmp(argv[i + 1], mix_name[m]))
					cfg.mix = (enum xgw_polgen_mix)m;
	}
	if (rules) {
		/* One size, one repetition: for callgrind. */
		bench_policy(&cfg, rules, lookups, 1);
		return 0;
	}
	for (unsigned m = 0; m < 5; m++) {
		cfg.mix = m < 2 ? XGW_POLGEN_SITES : (enum xgw_polgen_mix)(m - 1);
		cfg.addr_wild_permille = m == 1 ? 0 : 10;
		if (m < 2)
			printf("-- mix sites, rules without addresses: %u per mille\n",
			       cfg.addr_wild_permille);
		else
			printf("-- mix %s\n", mix_name[cfg.mix]);
		bench_policy(&cfg, 10, lookups, 5);
		bench_policy(&cfg, 1000, lookups, 5);
		bench_policy(&cfg, 10000, lookups, 5);
	}
	bench_maglev(5);
	return 0;
}
