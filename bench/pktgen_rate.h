/* SPDX-License-Identifier: BSD-3-Clause */
/* Token bucket for the transmit rate (the arithmetic is in pktgen_tb.h,
 * shared with the live-frames program). */
#ifndef XGW_PKTGEN_RATE_H
#define XGW_PKTGEN_RATE_H

#include <stdint.h>

#include "bench/pktgen_tb.h"

/* Start with one burst of credit at time now_ns.  burst 0 picks
 * max(64, rate / 100): 10 ms of traffic, so a sender descheduled for a
 * few milliseconds (a shared machine; measured: 1 ms lost a third of a
 * 50 kpps stream under load 8 on 2 cores) catches up instead of losing
 * the time, at the price of a burst after such a gap. */
void pg_tb_init(struct pg_tb *tb, uint64_t rate, uint64_t burst, uint64_t now_ns);
/* Give back n tokens taken but not used (the transmitter was busy). */
void pg_tb_refund(struct pg_tb *tb, uint64_t n);
/* Nanoseconds from now_ns until n tokens are available (0 if they are). */
uint64_t pg_tb_wait_ns(const struct pg_tb *tb, uint64_t n, uint64_t now_ns);

#endif
