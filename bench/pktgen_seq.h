/* SPDX-License-Identifier: BSD-3-Clause */
/* Sequence-number accounting at the sink: loss, reordering and duplicates
 * over a bitmap window of the most recent PG_SEQ_WINDOW numbers, as in
 * IPsec anti-replay (RFC 4303 3.4.3).  xgw-pktgen numbers every stream
 * from 0, so the packets expected are max_seq + 1. */
#ifndef XGW_PKTGEN_SEQ_H
#define XGW_PKTGEN_SEQ_H

#include <stdbool.h>
#include <stdint.h>

#define PG_SEQ_WINDOW 65536 /* power of two */

struct pg_seq {
	uint64_t received;   /* stamped packets seen */
	uint64_t duplicates; /* seen twice inside the window */
	uint64_t reordered;  /* arrived after a higher number */
	uint64_t late;	     /* older than the window: counted, not checked */
	uint64_t max_seq;
	bool any;
	uint64_t bits[PG_SEQ_WINDOW / 64];
};

void pg_seq_init(struct pg_seq *s);
void pg_seq_add(struct pg_seq *s, uint64_t seq);
/* Numbers up to max_seq that never arrived (a tail lost after the last
 * packet received cannot be seen). */
uint64_t pg_seq_lost(const struct pg_seq *s);

#endif
