/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw-pktgen output: the one-line progress display and the summaries. */
#ifndef XGW_PKTGEN_OUT_H
#define XGW_PKTGEN_OUT_H

#include <stdbool.h>
#include <stdint.h>

#include "bench/pktgen.h"
#include "bench/pktgen_hist.h"
#include "bench/pktgen_seq.h"

struct pg_progress {
	bool on; /* stderr is a terminal and not --quiet */
	const char *what;
	uint64_t start_ns, last_ns, last_pkts;
};

void pg_progress_init(struct pg_progress *p, const struct pg_opts *o, const char *what,
		      uint64_t now_ns);
/* Redraw at most once a second: rate over the last interval, totals. */
void pg_progress_tick(struct pg_progress *p, uint64_t now_ns, uint64_t pkts, uint32_t size);
void pg_progress_end(struct pg_progress *p);

void pg_print_tx(const struct pg_opts *o, const struct pg_tx_result *r);

struct pg_sink_result {
	const char *xdp_mode;	 /* "native" or "skb" */
	const char *xsk_bind;	 /* "zerocopy" or "copy" */
	uint64_t packets, bytes; /* every frame the socket received */
	uint64_t unstamped;	 /* IP frames without a pktgen stamp */
	uint64_t csum_errors;	 /* with --verify */
	double seconds;		 /* first to last packet */
	uint64_t rx_dropped;	 /* kernel: no room in the RX ring (XDP_STATISTICS) */
	uint64_t fill_empty;	 /* kernel: times the fill ring was empty */
	struct pg_seq *seq;
	struct pg_hist *lat;
};

void pg_print_sink(const struct pg_opts *o, const struct pg_sink_result *r);

#endif
