/* SPDX-License-Identifier: BSD-3-Clause */
#include "bench/bench_fib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <urcu-qsbr.h>

#include "pipeline/worker.h"

static struct xgw_route *routes;
static unsigned n_routes;
static uint64_t seed = 0x2545f4914f6cdd1dull;

static uint32_t rnd32(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (uint32_t)(seed >> 11);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static void route_at(unsigned i, struct xgw_dataplane *dp)
{
	static const uint8_t lens[] = {24, 24, 24, 24, 24, 24, 22, 23,
				       20, 21, 19, 16, 18, 17, 25, 28};
	struct xgw_route *r = &routes[i];
	uint8_t len = lens[rnd32() % sizeof(lens)];
	uint32_t a;

	/* Outside 198.18.0.0/15, where the bench's own routes are. */
	do
		a = rnd32() & (len ? ~0u << (32 - len) : 0);
	while ((a >> 17) == (0xc612u >> 1) || a >> 24 == 0);
	xgw_addr_v4(&r->dst.addr, htonl(a));
	r->dst.len = len;
	r->port = (uint16_t)(i & 1);
	r->oif = dp->ports[r->port].ifindex;
	xgw_addr_parse(&r->via, r->port ? "198.18.2.2" : "198.18.1.2");
}

int bench_fib_load(struct xgw_dataplane *dp, unsigned n, uint32_t *dsts, unsigned n_dst)
{
	struct xgw_fib_stats st;
	long rss0 = rss_kib();
	double t0;

	routes = calloc(n, sizeof(*routes));
	if (!routes)
		return -ENOMEM;
	n_routes = n;
	for (unsigned i = 0; i < n; i++)
		route_at(i, dp);
	t0 = now_s();
	for (unsigned i = 0; i < n; i++)
		if (xgw_fib_set(dp->fib, &routes[i]))
			return -ENOSPC;
	xgw_fib_commit(dp->fib, NULL);
	xgw_fib_stats(dp->fib, &st);
	fprintf(stderr,
		"fib: %u routes set in %.3f s (%.0f ns each); %llu prefixes, %llu next hops; "
		"trie %.1f MiB, next hops %.1f KiB, route table %.1f MiB; RSS +%.1f MiB\n",
		n, now_s() - t0, (now_s() - t0) * 1e9 / (n ? n : 1), (unsigned long long)st.routes4,
		(unsigned long long)st.nexthops, st.lpm_bytes / 1048576.0, st.nh_bytes / 1024.0,
		st.table_bytes / 1048576.0, (rss_kib() - rss0) / 1024.0);
	for (unsigned i = 0; i < n_dst; i++) {
		const struct xgw_route *r = &routes[rnd32() % n];
		uint32_t host = r->dst.len < 32 ? rnd32() & ~(~0u << (32 - r->dst.len)) : 0;
		dsts[i] = htonl(ntohl(r->dst.addr.w[0]) | host);
	}
	return 0;
}

static pthread_t churn_thread;
static atomic_bool churn_stop;
static unsigned churn_rate;
static struct xgw_dataplane *churn_dp;

static void *churn_main(void *arg)
{
	unsigned per_ms = churn_rate / 1000 ? churn_rate / 1000 : 1;
	unsigned long changes = 0;
	double t0 = now_s();

	while (!atomic_load(&churn_stop)) {
		/* Half deletes, half re-adds of the same routes. */
		for (unsigned k = 0; k + 1 < per_ms; k += 2) {
			unsigned i = rnd32() % n_routes;
			xgw_fib_del(churn_dp->fib, &routes[i]);
			xgw_fib_set(churn_dp->fib, &routes[i]);
			changes += 2;
		}
		xgw_fib_commit(churn_dp->fib, synchronize_rcu);
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "churn: %lu route changes in %.1f s (%.0f/s)\n", changes, now_s() - t0,
		changes / (now_s() - t0));
	return NULL;
}

int bench_fib_churn_start(struct xgw_dataplane *dp, unsigned rate)
{
	churn_dp = dp;
	churn_rate = rate;
	atomic_store(&churn_stop, false);
	return -pthread_create(&churn_thread, NULL, churn_main, NULL);
}

void bench_fib_churn_stop(void)
{
	atomic_store(&churn_stop, true);
	pthread_join(churn_thread, NULL);
}
