/* SPDX-License-Identifier: BSD-3-Clause */
/* The transmit loop of xgw-pktgen, the same for both transmitters: bounds
 * (count, duration, signals), the token bucket and the progress line. */
#include <errno.h>

#include "bench/pktgen.h"
#include "bench/pktgen_out.h"
#include "bench/pktgen_rate.h"

/* Under a rate limit, send in chunks of ~100 us of traffic: large enough to
 * amortise a syscall, small enough that the stream is not bursty. */
static uint64_t rate_chunk(uint64_t rate, uint32_t batch)
{
	uint64_t c = rate / 10000;

	if (c < 1)
		c = 1;
	return c < batch ? c : batch;
}

int pg_tx_run(const struct pg_opts *o, struct pg_txer *t, struct pg_tx_result *r)
{
	uint64_t start = pg_now_ns(), sent = 0, chunk = t->batch, now = start;
	uint64_t end = start + (uint64_t)(o->duration * 1e9);
	struct pg_progress pr;
	struct pg_tb tb;
	int err = 0;

	if (o->rate && !t->paced)
		chunk = rate_chunk(o->rate, t->batch);
	pg_tb_init(&tb, o->rate, 0, start);
	pg_progress_init(&pr, o, r->mode, start);
	while (!pg_stop) {
		uint64_t want = chunk;
		uint32_t n = 0;

		now = pg_now_ns();
		if (now >= end || (o->count && sent >= o->count))
			break;
		if (o->count && o->count - sent < want && !t->paced)
			want = o->count - sent;
		if (o->rate && !t->paced) {
			uint64_t g = pg_tb_take(&tb, want, now);

			if (g == 0) {
				uint64_t w = pg_tb_wait_ns(&tb, want, now);

				pg_wait_until(now + w < end ? now + w : end);
				continue;
			}
			want = g;
		}
		err = t->send(t->ctx, (uint32_t)want, &n);
		sent += n;
		if (o->rate && !t->paced && n < want)
			pg_tb_refund(&tb, want - n);
		if (err < 0)
			break;
		pg_progress_tick(&pr, now, sent, o->pkt.size);
	}
	if (t->drain)
		t->drain(t->ctx);
	pg_progress_end(&pr);
	r->seconds = (double)(pg_now_ns() - start) / 1e9;
	r->packets = sent;
	/* A signal ends the run as the duration would. */
	return err == -EINTR ? 0 : err;
}
