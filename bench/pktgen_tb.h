/* SPDX-License-Identifier: BSD-3-Clause */
/* Token-bucket arithmetic shared by user space (pktgen_rate.c) and the
 * live-frames program, which paces itself with it: one implementation,
 * tested once.  Time is passed in, never read here.  Credit is kept in
 * packet-nanoseconds (packets x 1e9) so that no fraction of a token is lost
 * between calls: over a long run the count granted is rate x time to
 * within one burst. */
#ifndef XGW_PKTGEN_TB_H
#define XGW_PKTGEN_TB_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define PG_TB_NS 1000000000ull

struct pg_tb {
	__u64 rate;   /* packets per second; 0 = unlimited */
	__u64 burst;  /* most tokens held at once */
	__u64 credit; /* packets x 1e9 */
	__u64 last_ns;
};

static __always_inline void pg_tb_refill(struct pg_tb *tb, __u64 now_ns)
{
	__u64 dt, cap = tb->burst * PG_TB_NS;

	if (now_ns <= tb->last_ns)
		return;
	dt = now_ns - tb->last_ns;
	tb->last_ns = now_ns;
	/* Past a second the bucket is full anyway; the cap also keeps
	 * dt x rate far from overflow. */
	if (dt > PG_TB_NS) {
		tb->credit = cap;
		return;
	}
	tb->credit += dt * tb->rate;
	if (tb->credit > cap)
		tb->credit = cap;
}

/* Take up to want tokens at now_ns; returns how many were granted. */
static __always_inline __u64 pg_tb_take(struct pg_tb *tb, __u64 want, __u64 now_ns)
{
	__u64 have;

	if (tb->rate == 0)
		return want;
	pg_tb_refill(tb, now_ns);
	have = tb->credit / PG_TB_NS;
	if (want > have)
		want = have;
	tb->credit -= want * PG_TB_NS;
	return want;
}

#endif
