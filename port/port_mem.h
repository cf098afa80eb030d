/* SPDX-License-Identifier: BSD-3-Clause */
/* The in-memory backend of the port layer (port.h): a transmit-only queue
 * whose frames go to a callback.  The offline data plane (pipeline/
 * offline.h: xgw-replay, the packet tests, the pipeline bench) gives its
 * worker one per port and pushes frames in itself, so that the worker's
 * transmit path is the same one the live backends take. */
#ifndef XGW_PORT_MEM_H
#define XGW_PORT_MEM_H

#include "port/port.h"

/* Takes ownership of the frames it accepts and returns how many. */
typedef uint32_t (*xgw_mem_tx_fn)(void *ctx, uint16_t port, struct xgw_pkt *pkts, uint32_t n);

struct xgw_port_mem_q {
	struct xgw_portq q; /* first: the worker's handle */
	xgw_mem_tx_fn fn;
	void *ctx;
	uint64_t tx_packets;
};

/* Set up q (caller-owned memory; its close op does nothing). */
void xgw_port_mem_init(struct xgw_port_mem_q *q, uint16_t port_id, xgw_mem_tx_fn fn, void *ctx);

#endif
