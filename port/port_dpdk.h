/* SPDX-License-Identifier: BSD-3-Clause */
/* The DPDK backend of the port layer (port.h): a port is an rte_ethdev
 * port (a NIC bound to a DPDK driver, or a vdev such as net_af_xdp,
 * net_pcap, net_ring, net_null), a queue one of its RX/TX queue pairs.
 * Built with meson -Ddpdk (port_dpdk.c); without it port_dpdk_absent.c
 * refuses every call with a message that says so.
 *
 * The EAL is initialised once per process, from the config's
 * "dpdk": {"eal_args": [...]}, by the thread that opens the first DPDK
 * port; worker threads stay xgwd's own (pinned by the config's queue
 * cores) and register with the EAL for an lcore id. */
#ifndef XGW_PORT_DPDK_H
#define XGW_PORT_DPDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "port/port.h"

struct xgw_dpdk_port;
struct xgw_umem;

/* Whether this build has the DPDK backend. */
bool xgw_dpdk_available(void);

/* Initialise the EAL from c (first call only; later calls check that the
 * arguments are the same).  0, or a negative errno with err set. */
int xgw_dpdk_init(const struct xgw_dpdk_cfg *c, char *err, size_t errlen);

/* Find or probe device (an ethdev name, or a vdev string
 * "net_pcap0,rx_pcap=in.pcap"), configure n_queues RX/TX queue pairs
 * with mbufs from the pool of the port's NUMA node, and report its MAC,
 * MTU and node.  The port is started by xgw_dpdk_port_start once every
 * worker has its queue handles. */
int xgw_dpdk_port_open(struct xgw_dpdk_port **out, const char *name, const char *device,
		       uint16_t n_queues, uint32_t mbufs, uint8_t mac[6], uint32_t *mtu,
		       int *numa_node, char *err, size_t errlen);
int xgw_dpdk_port_start(struct xgw_dpdk_port *p, char *err, size_t errlen);
/* Stop and close the port (and detach a vdev this process probed). */
void xgw_dpdk_port_close(struct xgw_dpdk_port *p);

/* A queue handle for the worker whose frame area is u. */
int xgw_dpdk_queue_open(struct xgw_portq **out, struct xgw_dpdk_port *p, struct xgw_umem *u,
			uint16_t queue, uint16_t port_id);

/* The port's rte_eth_stats and its non-zero xstats, as a JSON object. */
json_t *xgw_dpdk_port_json(struct xgw_dpdk_port *p);

/* For worker threads: an lcore id (per-lcore mempool caches).  0 or -1. */
int xgw_dpdk_thread_register(void);
void xgw_dpdk_thread_unregister(void);

#endif
