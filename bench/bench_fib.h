/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw-bench-pipeline's FIB scenarios: a table of N random IPv4 routes
 * (an Internet-like mix of lengths, most /24) loaded into the offline data
 * plane's FIB, destinations spread over it, and optionally a thread that
 * changes routes at a given rate while the worker runs. */
#ifndef XGW_BENCH_FIB_H
#define XGW_BENCH_FIB_H

#include <stdint.h>

struct xgw_dataplane;

/* Load n routes via the two neighbours of the bench config; fills dsts[]
 * (network order) with n_dst addresses, each inside a random route.
 * Prints the load time and memory on stderr.  0 or -errno. */
int bench_fib_load(struct xgw_dataplane *dp, unsigned n, uint32_t *dsts, unsigned n_dst);
/* Start / stop a thread that deletes and re-adds loaded routes, `rate`
 * changes per second in batches every millisecond, each batch committed
 * with a grace period (as xgwd does). */
int bench_fib_churn_start(struct xgw_dataplane *dp, unsigned rate);
void bench_fib_churn_stop(void);

#endif
