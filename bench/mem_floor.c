/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw-bench-memfloor: the memory floor under established-1m.
 *
 * The conntrack table's access pattern with no packet work at all: per
 * item, the load of one random bucket line, then one or two lines of one
 * random record, read and written, in bursts of 64 laid out as
 * xgw_lb_prepare and the worker's packet loop do (all the burst's bucket
 * loads, then the records' prefetches, then each record read and a word
 * of each line written).  The sizes are those xgw-bench-pipeline's
 * established-1m table logs (128 MB of buckets, 2M records of 192 B);
 * the same run over 1,000 flows gives the cached case.
 *
 * What it answers: however well the pipeline overlaps its work with its
 * misses, established-1m cannot take less per packet than this floor, so
 * floor(1M) / established-1k bounds the 1M/1k ratio from below on the
 * machine it runs on (bench/README.md).
 *
 *   xgw-bench-memfloor [--lines 1|2] [--items N] [--runs N] [--core C]
 *
 * Built by bench/meson.build, not installed, not a test.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define BURST	     64
#define N_BUCKETS    (2u << 20) /* x 64 B: 128 MB, as the 1M-flow table's */
#define N_RECORDS    (2u << 20) /* x 192 B: 384 MiB */
#define RECORD_WORDS 24		/* 192 B, three lines */

struct line {
	uint64_t w[8];
};

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Anonymous memory with transparent huge pages asked for, as the
 * conntrack table gets it when no hugetlb pages are reserved. */
static void *big(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		fprintf(stderr, "mmap %zu: %s\n", len, strerror(errno));
		exit(1);
	}
	(void)madvise(p, len, MADV_HUGEPAGE);
	memset(p, 1, len);
	return p;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* A flow's bucket (low bits) and record (high bits), from its number, as
 * the table's hash gives them: no per-flow array, whose own misses the
 * pipeline does not have. */
static inline uint64_t flow_hash(uint32_t f)
{
	uint64_t h = (f + 1) * 0x9e3779b97f4a7c15ull;

	return h ^ h >> 29;
}

/* Median ns per item over runs passes of items items, flows distinct
 * (bucket, record) pairs visited in a random order. */
static double floor_ns(const struct line *buckets, struct line *records, uint32_t flows,
		       unsigned lines, size_t items, unsigned runs)
{
	uint32_t *seq = malloc(sizeof(*seq) * items);
	double ns[16];
	uint64_t acc = 0;

	if (!seq) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < items; i++)
		seq[i] = (uint32_t)(rnd() % flows);
	for (unsigned r = 0; r <= runs; r++) { /* pass 0 warms up */
		uint64_t t0 = now_ns();

		for (size_t base = 0; base + BURST <= items; base += BURST) {
			struct line *c[BURST];
			uint64_t h[BURST], a = 0;

			for (unsigned j = 0; j < BURST; j++)
				h[j] = flow_hash(seq[base + j]);
			for (unsigned j = 0; j < BURST; j++)
				a += buckets[h[j] % N_BUCKETS].w[1];
			__asm__ volatile("" ::"r"(a));
			for (unsigned j = 0; j < BURST; j++) {
				c[j] = &records[(h[j] >> 32) % N_RECORDS * (RECORD_WORDS / 8)];
				__builtin_prefetch(c[j]);
				if (lines > 1)
					__builtin_prefetch(c[j] + 1);
			}
			for (unsigned j = 0; j < BURST; j++) {

				acc += c[j][0].w[1];
				c[j][0].w[2]++;
				if (lines > 1) {
					acc += c[j][1].w[1];
					c[j][1].w[2] += acc & 1;
				}
			}
		}
		if (r)
			ns[r - 1] = (double)(now_ns() - t0) / (double)(items - items % BURST);
	}
	__asm__ volatile("" ::"r"(acc));
	free(seq);
	qsort(ns, runs, sizeof(double), cmp_dbl);
	return ns[runs / 2];
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"lines", required_argument, NULL, 'l'}, {"items", required_argument, NULL, 'i'},
	    {"runs", required_argument, NULL, 'r'},  {"core", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},	     {NULL, 0, NULL, 0}};
	unsigned lines = 2, runs = 5;
	size_t items = 8u << 20;
	int core = -1, o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'l':
			lines = (unsigned)atoi(optarg);
			break;
		case 'i':
			items = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			runs = (unsigned)atoi(optarg);
			break;
		case 'c':
			core = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: xgw-bench-memfloor [--lines 1|2] [--items N] "
					"[--runs N (1-16)] [--core C]\n");
			return o == 'h' ? 0 : 2;
		}
	}
	if ((lines != 1 && lines != 2) || runs < 1 || runs > 16 || items < BURST) {
		fprintf(stderr,
			"xgw-bench-memfloor: --lines is 1 or 2, --runs 1-16, "
			"--items at least %u\n",
			BURST);
		return 2;
	}
	if (core >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(core, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "core %d: %s\n", core, strerror(errno));
			return 1;
		}
	}
	const struct line *buckets = big((size_t)N_BUCKETS * sizeof(struct line));
	struct line *records = big((size_t)N_RECORDS * RECORD_WORDS * 8);
	double small = floor_ns(buckets, records, 1000, lines, items, runs);
	double large = floor_ns(buckets, records, 1000000, lines, items, runs);

	printf("bucket + %u record line%s per item, bursts of %u, median of %u runs:\n", lines,
	       lines > 1 ? "s" : "", BURST, runs);
	printf("  1k flows %6.1f ns/item\n  1M flows %6.1f ns/item\n", small, large);
	return 0;
}
