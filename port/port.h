/* SPDX-License-Identifier: BSD-3-Clause */
/* The port layer: what a worker needs from a receive/transmit queue, as a
 * table of operations that each backend fills in (DPDK's eth_dev_ops,
 * VPP's device class).  Three backends implement it:
 *
 *   af_xdp  xsk/ + port/port_xsk.c: AF_XDP sockets behind the steering
 *           XDP program (the default);
 *   dpdk    port/port_dpdk.c: an rte_ethdev port (a NIC or a vdev such as
 *           net_af_xdp, net_pcap, net_ring, net_null), built with -Ddpdk;
 *   mem     port/port_mem.c: transmit to a callback, for the offline data
 *           plane (xgw-replay, the packet tests, the in-memory bench).
 *
 * Frames: every backend hands the pipeline frames in its worker's frame
 * area (struct xgw_umem) and takes them back from it, so the stages, the
 * drop path (xgw_umem_free) and forwarding between ports of different
 * backends are the same for all.  AF_XDP receives into that area
 * directly; DPDK copies between its mbufs and it (port_dpdk.c says why).
 *
 * A queue belongs to one worker and is used by that worker's thread only. */
#ifndef XGW_PORT_H
#define XGW_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/pkt.h"

struct xgw_portq;
typedef struct json_t json_t;

/* What every backend counts per queue (read from another thread with
 * relaxed loads; see common/stat.h). */
struct xgw_portq_counters {
	uint64_t rx_packets, tx_packets;
	uint64_t wakeups;   /* syscalls made to move packets */
	uint64_t starved;   /* receives that found no free frame */
	uint64_t frames_rx; /* worker frames held for receive (fill/RX rings) */
	uint64_t frames_tx; /* worker frames on TX awaiting completion */
};

struct xgw_port_ops {
	const char *driver; /* "af_xdp", "dpdk", "mem" */
	/* Receive up to n (<= XGW_BURST_MAX) frames: addr, data, len,
	 * headroom, port, queue set; nothing parsed.  Returns the count. */
	uint32_t (*rx_burst)(struct xgw_portq *q, struct xgw_pkt *pkts, uint32_t n);
	/* Queue up to n frames for transmit; returns how many were taken
	 * (the queue owns those); the caller frees the rest. */
	uint32_t (*tx_burst)(struct xgw_portq *q, struct xgw_pkt *pkts, uint32_t n);
	/* Once per poll round after the bursts: completions, TX kicks,
	 * refills.  NULL: nothing to do. */
	void (*service)(struct xgw_portq *q);
	/* A file descriptor an idle worker may sleep on (POLLIN), or -1:
	 * the backend has none and the worker sleeps briefly instead. */
	int (*wait_fd)(const struct xgw_portq *q);
	/* Whether the worker must keep polling (busy poll asked for, or
	 * transmitted frames still await completion). */
	bool (*must_poll)(const struct xgw_portq *q);
	/* Counters and mode of the queue into a JSON object (xgwctl ports
	 * and stats, metrics). */
	void (*queue_json)(const struct xgw_portq *q, json_t *o, bool stats);
	/* The counters a worker's stats sum over its queues. */
	void (*counters)(const struct xgw_portq *q, struct xgw_portq_counters *c);
	void (*close)(struct xgw_portq *q); /* also frees q */
};

/* The first member of each backend's queue struct. */
struct xgw_portq {
	const struct xgw_port_ops *ops;
	uint16_t port_id; /* index in the data plane's ports */
	uint16_t queue;
};

#endif
