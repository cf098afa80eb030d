/* SPDX-License-Identifier: BSD-3-Clause */
/* Latency histogram in nanoseconds, log-linear like HdrHistogram: exact
 * below 128 ns, then 64 buckets per power of two (under 1.6% error), up
 * to 2^47 ns.  Min and max are kept exactly. */
#ifndef XGW_PKTGEN_HIST_H
#define XGW_PKTGEN_HIST_H

#include <stdint.h>

#define PG_HIST_SUB	64
#define PG_HIST_BUCKETS (PG_HIST_SUB * 42)

struct pg_hist {
	uint64_t n, sum, min, max;
	uint64_t b[PG_HIST_BUCKETS];
};

void pg_hist_init(struct pg_hist *h);
void pg_hist_add(struct pg_hist *h, uint64_t v);
/* Value at quantile q (0..1): the middle of its bucket, clamped to
 * [min, max] so that min <= p50 <= p99 <= max always holds.  0 if empty. */
uint64_t pg_hist_quantile(const struct pg_hist *h, double q);
/* Bucket index of v and the lowest value of bucket i (for tests). */
uint32_t pg_hist_index(uint64_t v);
uint64_t pg_hist_lower(uint32_t i);

#endif
