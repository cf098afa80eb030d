/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw-bench-memfloor: the memory floor under established-1m.
 *
 * The conntrack table's access pattern with no packet work at all: per
 * item, the load of one random bucket line, then one or two lines of the
 * random record it names, read and written, in bursts of 64 laid out as
 * xgw_lb_prepare and the worker's packet loop do (all the burst's bucket
 * loads, then the records' prefetches, then each record read and a word
 * of each line written, the record 12 on prefetched again).  The sizes
 * are those xgw-bench-pipeline's established-1m table logs (128 MB of
 * buckets, 2M records of 192 B); the same run over 1,000 flows gives the
 * cached case.
 *
 * What it answers: however well the pipeline overlaps its work with its
 * misses, established-1m cannot take less per packet than this floor, so
 * floor(1M) / established-1k bounds the 1M/1k ratio from below on the
 * machine it runs on (bench/README.md).  --work N adds a stand-in for
 * each packet's work (N rounds of a multiply chain on what the record
 * held), to see how much of the misses a layout hides under it; --vpp D
 * lays the burst out as VPP's nodes do instead (bucket prefetched 2D
 * items ahead, read and its record prefetched D ahead, item done).
 *
 *   xgw-bench-memfloor [--lines 1|2] [--work N] [--vpp D] [--items N]
 *                      [--runs N] [--core C]
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

struct floor_opts {
	unsigned lines; /* record lines per item, 1 or 2 */
	unsigned work;	/* rounds of stand-in packet work per item */
	unsigned vpp;	/* 0: the pipeline's layout; D: VPP's, D items ahead */
	size_t items;
	unsigned runs;
};

/* The record a bucket names: its address depends on a word of the
 * bucket, as a slot's does (the words are all 0x0101...). */
static inline struct line *record_of(const struct line *buckets, struct line *records, uint64_t h)
{
	uint64_t v = buckets[h % N_BUCKETS].w[2];

	return &records[((h >> 32) + (v & 1)) % N_RECORDS * (RECORD_WORDS / 8)];
}

static inline void record_prefetch(const struct line *c, unsigned lines)
{
	__builtin_prefetch(c);
	if (lines > 1)
		__builtin_prefetch(c + 1);
}

/* A packet's work in its place: a chain of multiplies and shifts on what
 * the record held, written back into it.  --work is calibrated by the
 * 1k figure against established-1k's ns per packet. */
static inline uint64_t item(struct line *c, unsigned lines, unsigned work)
{
	uint64_t a = c[0].w[1], b = a ^ 1, x = a ^ 2, y = a ^ 3;

	if (lines > 1)
		a += c[1].w[1];
	for (unsigned i = 0; i < work; i++) {
		a = a * 0x9e37 + b;
		b ^= a >> 3;
		x = x * 0x85eb + y;
		y ^= x >> 5;
	}
	a ^= b ^ x ^ y;
	c[0].w[2] += a;
	if (lines > 1)
		c[1].w[2] += a & 1;
	return a;
}

/* One burst as the pipeline lays it out: every bucket loaded, then each
 * one's record prefetched, then the items in order, each prefetching the
 * record XGW_LB_AHEAD (12) on again. */
static uint64_t burst_pipeline(const struct line *buckets, struct line *records, const uint64_t *h,
			       const struct floor_opts *o)
{
	struct line *c[BURST];
	uint64_t a = 0, acc = 0;

	for (unsigned j = 0; j < BURST; j++)
		a += buckets[h[j] % N_BUCKETS].w[1];
	__asm__ volatile("" ::"r"(a));
	for (unsigned j = 0; j < BURST; j++) {
		c[j] = record_of(buckets, records, h[j]);
		record_prefetch(c[j], o->lines);
	}
	for (unsigned j = 0; j < BURST; j++) {
		if (j + 12 < BURST)
			record_prefetch(c[j + 12], o->lines);
		acc += item(c[j], o->lines, o->work);
	}
	return acc;
}

/* One burst as VPP's nodes lay it out: the bucket prefetched 2D items
 * ahead, read and its record prefetched D ahead, the item done. */
static uint64_t burst_vpp(const struct line *buckets, struct line *records, const uint64_t *h,
			  const struct floor_opts *o)
{
	unsigned d = o->vpp < BURST ? o->vpp : BURST;
	struct line *c[BURST];
	uint64_t acc = 0;

	for (unsigned j = 0; j < 2 * d && j < BURST; j++)
		__builtin_prefetch(&buckets[h[j] % N_BUCKETS]);
	for (unsigned j = 0; j < d; j++) {
		c[j] = record_of(buckets, records, h[j]);
		record_prefetch(c[j], o->lines);
	}
	for (unsigned j = 0; j < BURST; j++) {
		if (j + 2 * d < BURST)
			__builtin_prefetch(&buckets[h[j + 2 * d] % N_BUCKETS]);
		if (j + d < BURST) {
			c[j + d] = record_of(buckets, records, h[j + d]);
			record_prefetch(c[j + d], o->lines);
		}
		acc += item(c[j], o->lines, o->work);
	}
	return acc;
}

/* Median ns per item over o->runs passes, flows distinct (bucket,
 * record) pairs visited in a random order. */
static double floor_ns(const struct line *buckets, struct line *records, uint32_t flows,
		       const struct floor_opts *o)
{
	uint32_t *seq = malloc(sizeof(*seq) * o->items);
	size_t n = o->items - o->items % BURST;
	double ns[16];
	uint64_t acc = 0;

	if (!seq) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < o->items; i++)
		seq[i] = (uint32_t)(rnd() % flows);
	for (unsigned r = 0; r <= o->runs; r++) { /* pass 0 warms up */
		uint64_t t0 = now_ns();

		for (size_t base = 0; base < n; base += BURST) {
			uint64_t h[BURST];

			for (unsigned j = 0; j < BURST; j++)
				h[j] = flow_hash(seq[base + j]);
			acc += o->vpp ? burst_vpp(buckets, records, h, o)
				      : burst_pipeline(buckets, records, h, o);
		}
		if (r)
			ns[r - 1] = (double)(now_ns() - t0) / (double)n;
	}
	__asm__ volatile("" ::"r"(acc));
	free(seq);
	qsort(ns, o->runs, sizeof(double), cmp_dbl);
	return ns[o->runs / 2];
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"lines", required_argument, NULL, 'l'}, {"work", required_argument, NULL, 'w'},
	    {"vpp", required_argument, NULL, 'v'},   {"items", required_argument, NULL, 'i'},
	    {"runs", required_argument, NULL, 'r'},  {"core", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},	     {NULL, 0, NULL, 0}};
	struct floor_opts fo = {.lines = 2, .items = 8u << 20, .runs = 5};
	int core = -1, o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'l':
			fo.lines = (unsigned)atoi(optarg);
			break;
		case 'w':
			fo.work = (unsigned)atoi(optarg);
			break;
		case 'v':
			fo.vpp = (unsigned)atoi(optarg);
			break;
		case 'i':
			fo.items = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			fo.runs = (unsigned)atoi(optarg);
			break;
		case 'c':
			core = atoi(optarg);
			break;
		default:
			fprintf(stderr,
				"usage: xgw-bench-memfloor [--lines 1|2] [--work N] [--vpp D] "
				"[--items N] [--runs N (1-16)] [--core C]\n");
			return o == 'h' ? 0 : 2;
		}
	}
	if ((fo.lines != 1 && fo.lines != 2) || fo.runs < 1 || fo.runs > 16 || fo.items < BURST ||
	    fo.work > 10000 || fo.vpp > BURST / 2) {
		fprintf(stderr,
			"xgw-bench-memfloor: --lines is 1 or 2, --runs 1-16, --items at least %u, "
			"--work at most 10000, --vpp at most %u\n",
			BURST, BURST / 2);
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
	double small = floor_ns(buckets, records, 1000, &fo);
	double large = floor_ns(buckets, records, 1000000, &fo);

	printf("bucket + %u record line%s per item, work %u, %s layout, bursts of %u, "
	       "median of %u runs:\n",
	       fo.lines, fo.lines > 1 ? "s" : "", fo.work, fo.vpp ? "VPP" : "pipeline", BURST,
	       fo.runs);
	printf("  1k flows %6.1f ns/item\n  1M flows %6.1f ns/item\n  1M / 1k  %6.2f\n", small,
	       large, large / small);
	return 0;
}
