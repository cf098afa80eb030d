/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "bench/pktgen_hist.h"

void pg_hist_init(struct pg_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

uint32_t pg_hist_index(uint64_t v)
{
	uint32_t k, shift, i;

	if (v < 2 * PG_HIST_SUB)
		return (uint32_t)v;
	k = 63 - (uint32_t)__builtin_clzll(v); /* >= 7 */
	shift = k - 6;
	i = PG_HIST_SUB * shift + (uint32_t)(v >> shift);
	return i < PG_HIST_BUCKETS ? i : PG_HIST_BUCKETS - 1;
}

uint64_t pg_hist_lower(uint32_t i)
{
	uint32_t shift;

	if (i < 2 * PG_HIST_SUB)
		return i;
	shift = i / PG_HIST_SUB - 1;
	return (uint64_t)(i - PG_HIST_SUB * shift) << shift;
}

void pg_hist_add(struct pg_hist *h, uint64_t v)
{
	h->n++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->b[pg_hist_index(v)]++;
}

uint64_t pg_hist_quantile(const struct pg_hist *h, double q)
{
	uint64_t want, cum = 0, v;

	if (h->n == 0)
		return 0;
	want = (uint64_t)(q * (double)h->n + 0.5);
	if (want < 1)
		want = 1;
	if (want > h->n)
		want = h->n;
	for (uint32_t i = 0; i < PG_HIST_BUCKETS; i++) {
		cum += h->b[i];
		if (cum < want)
			continue;
		v = (pg_hist_lower(i) + pg_hist_lower(i + 1)) / 2;
		if (i + 1 >= PG_HIST_BUCKETS || i < 2 * PG_HIST_SUB)
			v = pg_hist_lower(i);
		if (v < h->min)
			v = h->min;
		if (v > h->max)
			v = h->max;
		return v;
	}
	return h->max;
}
