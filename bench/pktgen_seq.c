/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "bench/pktgen_seq.h"

#define WMASK (PG_SEQ_WINDOW - 1)

void pg_seq_init(struct pg_seq *s)
{
	memset(s, 0, sizeof(*s));
}

static bool test_and_set(struct pg_seq *s, uint64_t seq)
{
	uint64_t i = seq & WMASK, m = 1ull << (i & 63);
	bool was = s->bits[i / 64] & m;

	s->bits[i / 64] |= m;
	return was;
}

static void clear_range(struct pg_seq *s, uint64_t from, uint64_t to)
{
	if (to - from >= PG_SEQ_WINDOW) {
		memset(s->bits, 0, sizeof(s->bits));
		return;
	}
	for (uint64_t q = from; q < to; q++) {
		uint64_t i = q & WMASK;
		s->bits[i / 64] &= ~(1ull << (i & 63));
	}
}

void pg_seq_add(struct pg_seq *s, uint64_t seq)
{
	s->received++;
	if (!s->any) {
		s->any = true;
		s->max_seq = seq;
		test_and_set(s, seq);
		return;
	}
	if (seq > s->max_seq) {
		/* Slots between the old maximum and seq now stand for newer
		 * numbers: empty them before use. */
		clear_range(s, s->max_seq + 1, seq);
		s->max_seq = seq;
		test_and_set(s, seq);
		return;
	}
	if (s->max_seq - seq >= PG_SEQ_WINDOW) {
		s->late++;
		s->reordered++;
		return;
	}
	if (test_and_set(s, seq))
		s->duplicates++;
	else
		s->reordered++;
}

uint64_t pg_seq_lost(const struct pg_seq *s)
{
	uint64_t unique;

	if (!s->any)
		return 0;
	unique = s->received - s->duplicates;
	return unique >= s->max_seq + 1 ? 0 : s->max_seq + 1 - unique;
}
