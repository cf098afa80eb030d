/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw-pktgen live-frames transmitter: run by BPF_PROG_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES on the template frame; each run turns the
 * frame into the next packet of the stream and returns XDP_TX, so the
 * kernel sends it out of the ctx's ingress_ifindex.  Under --rate it
 * paces itself: a run with no token returns XDP_DROP and sends nothing. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "pktgen_fill.h"
#include "pktgen_tb.h"

/* Set by user space before load; frozen, so layout checks fold away. */
const volatile struct pg_fill_cfg cfg = {.flows = 1, .ports_per_addr = 1};

/* Next sequence number.  BPF_PROG_RUN runs the program on the calling CPU
 * only, so there is one writer and user space reads the total sent here
 * (it survives a run cut short by a signal). */
__u64 pg_seq = 0;
/* Send no more than this many (--count): runs past it drop. */
__u64 pg_limit = ~0ull;
/* Pacing, set by user space before the first run; rate 0 = unpaced.
 * Pacing here rather than by sizing each BPF_PROG_RUN: every call costs
 * milliseconds on some machines (the XDP dispatcher is re-patched and an
 * expedited RCU grace period waited for, twice), so calls must be long,
 * and a long call must spread its packets itself. */
struct pg_tb pg_tb = {};
/* Send times of the first and the latest packet, for the rate. */
__u64 pg_first_ns = 0, pg_last_ns = 0;

SEC("xdp")
int pktgen_tx(struct xdp_md *ctx)
{
	__u8 *data = (__u8 *)(long)ctx->data;
	__u8 *end = (__u8 *)(long)ctx->data_end;
	__u64 seq = pg_seq, now = bpf_ktime_get_ns();

	if (seq >= pg_limit)
		return XDP_DROP;
	if (pg_tb.rate && !pg_tb_take(&pg_tb, 1, now))
		return XDP_DROP;
	if (pg_fill(data, end, &cfg, seq, now) < 0)
		return XDP_ABORTED;
	if (seq == 0)
		pg_first_ns = now;
	pg_last_ns = now;
	pg_seq = seq + 1;
	return XDP_TX;
}

/* Probe for BPF_F_TEST_XDP_LIVE_FRAMES (kernel >= 5.18) that sends nothing. */
SEC("xdp")
int pktgen_probe(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
