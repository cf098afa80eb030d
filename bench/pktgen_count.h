/* SPDX-License-Identifier: BSD-3-Clause */
/* The counting sink's per-CPU state, shared by pktgen_count.bpf.c and
 * xgw-pktgen: what the XDP program learnt from the stamps it read. */
#ifndef XGW_PKTGEN_COUNT_H
#define XGW_PKTGEN_COUNT_H

#include <linux/types.h>

/* The latency histogram's layout (pktgen_hist.h): the BPF program fills
 * the same buckets that pg_hist_index() computes. */
#define PG_COUNT_HIST_SUB     64
#define PG_COUNT_HIST_BUCKETS (PG_COUNT_HIST_SUB * 42)

struct pg_count_cpu {
	__u64 packets, bytes;		 /* every IPv4/IPv6 UDP or TCP frame dropped here */
	__u64 stamped;			 /* of which carried a pktgen stamp */
	__u64 max_seq;			 /* highest sequence number + 1 (0: none yet) */
	__u64 reordered;		 /* arrived below this CPU's highest so far */
	__u64 first_ns, last_ns;	 /* bpf_ktime_get_ns() of the first and last frame */
	__u64 lat_sum, lat_min, lat_max; /* ns, of the stamped frames */
};

#endif
