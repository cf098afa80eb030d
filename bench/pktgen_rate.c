/* SPDX-License-Identifier: BSD-3-Clause */
#include "bench/pktgen_rate.h"

void pg_tb_init(struct pg_tb *tb, uint64_t rate, uint64_t burst, uint64_t now_ns)
{
	tb->rate = rate;
	if (burst == 0)
		burst = rate / 100 > 64 ? rate / 100 : 64;
	tb->burst = burst;
	tb->credit = burst * PG_TB_NS;
	tb->last_ns = now_ns;
}

void pg_tb_refund(struct pg_tb *tb, uint64_t n)
{
	uint64_t cap = tb->burst * PG_TB_NS;

	tb->credit += n * PG_TB_NS;
	if (tb->credit > cap)
		tb->credit = cap;
}

uint64_t pg_tb_wait_ns(const struct pg_tb *tb, uint64_t n, uint64_t now_ns)
{
	uint64_t need, credit = tb->credit;

	if (tb->rate == 0)
		return 0;
	if (now_ns > tb->last_ns)
		credit += (now_ns - tb->last_ns) * tb->rate; /* callers wait < 1 s */
	if (n > tb->burst)
		n = tb->burst;
	need = n * PG_TB_NS;
	if (credit >= need)
		return 0;
	return (need - credit + tb->rate - 1) / tb->rate;
}
