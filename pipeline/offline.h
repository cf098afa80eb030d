/* SPDX-License-Identifier: BSD-3-Clause */
/* A socket-less data plane for offline runs (pcap replay, packet tests, the
 * in-memory benchmark): one worker whose UMEM is plain memory, ports whose
 * MAC, MTU, ifindex and addresses the caller gives instead of the kernel,
 * forwarding state from the config's static routes and neighbours plus the
 * connected subnets of the port addresses, conntrack from cfg->conntrack
 * and the service snapshot from the config.  Frames are pushed through
 * xgw_worker_process exactly as the AF_XDP path does; the worker
 * transmits on in-memory port queues (port/port_mem.h).
 *
 * The handle is opaque so that users need not see the AF_XDP headers
 * (libbpf's linux/bpf.h and libpcap's pcap/bpf.h cannot be included
 * together); the benchmark takes the worker itself from xgw_offline_worker.
 *
 * Threads: the thread that calls xgw_offline_open registers with liburcu
 * QSBR there (conntrack needs it) and must do every call after it, until
 * xgw_offline_close unregisters it. */
#ifndef XGW_OFFLINE_H
#define XGW_OFFLINE_H

#include <stddef.h>
#include <stdint.h>

#include "common/counters.h"
#include "common/drop.h"
#include "common/pkt.h"
#include "common/config.h"
#include "port/port_mem.h"

/* XGW_MAX_PORTS, without pipeline/worker.h */
#define XGW_OFFLINE_MAX_PORTS 16

/* Headroom in front of each frame, as the kernel gives AF_XDP frames
 * (XDP_PACKET_HEADROOM). */
#define XGW_OFFLINE_HEADROOM 256

/* What the kernel would say about a port. */
struct xgw_offline_port {
	char name[XGW_NAME_MAX]; /* a port name of the config */
	uint8_t mac[6];
	uint32_t mtu; /* 0: 1500 */
	int ifindex;  /* 0: 100 + the port's index */
	/* The port's own address with its subnet length (host bits kept):
	 * ICMP error source, SNAT address, and a connected route to the
	 * subnet.  family 0: none. */
	struct xgw_prefix addr4;
	struct xgw_prefix addr6;
};

/* "198.18.1.1/24", "2001:db8:1::1/64" or a bare address (full length);
 * unlike xgw_prefix_parse, host bits are the point.  0 or -EINVAL. */
int xgw_offline_ifaddr_parse(struct xgw_prefix *p, const char *s);

/* "NAME,MAC,IPV4[/LEN][,IPV6[/LEN]]" (the xgw-replay --port syntax); an
 * empty IPV4 field means none.  0 or -EINVAL. */
int xgw_offline_port_parse(struct xgw_offline_port *p, const char *s);

/* Called for each transmitted frame: idx is the input it came from (ICMP
 * errors and echo replies are built in the input's frame). */
typedef void (*xgw_offline_tx_fn)(void *arg, uint32_t idx, uint16_t port, const uint8_t *data,
				  uint32_t len);

struct xgw_offline;
struct xgw_worker;

/* Build everything; every config port needs an entry in ports[] (matched
 * by name).  n_frames: UMEM frames (power of two, >= 2 * XGW_BURST_MAX).
 * hash_seed: the Maglev flow hash seed (fixed, so runs repeat).  On failure
 * err names the reason and everything built so far is freed. */
struct xgw_offline *xgw_offline_open(const struct xgw_config *cfg,
				     const struct xgw_offline_port *ports, unsigned n_ports,
				     uint32_t n_frames, uint32_t hash_seed, char *err,
				     size_t errlen);
void xgw_offline_close(struct xgw_offline *o);

/* Index of the port named name, or -1. */
int xgw_offline_port_index(const struct xgw_offline *o, const char *name);
unsigned xgw_offline_n_ports(const struct xgw_offline *o);
const char *xgw_offline_port_name(const struct xgw_offline *o, unsigned port);
const uint8_t *xgw_offline_port_mac(const struct xgw_offline *o, unsigned port);

/* The worker (pipeline/worker.h): for the benchmark, which drives
 * xgw_worker_process itself. */
struct xgw_worker *xgw_offline_worker(struct xgw_offline *o);
/* Its data plane (tests: conntrack, counter slots). */
struct xgw_dataplane *xgw_offline_dataplane(struct xgw_offline *o);

/* Send what the worker transmits to fn instead of the run's callback
 * (the benchmark counts and keeps its frames). */
void xgw_offline_set_tx(struct xgw_offline *o, xgw_mem_tx_fn fn, void *ctx);

/* Receive and transmit port `port` through a DPDK device (a vdev string
 * such as "net_pcap0,rx_pcap=IN,tx_pcap=OUT") instead of memory: one
 * RX/TX queue pair polled by xgw_offline_poll.  Starts the EAL from dc
 * on first use.  0, or a negative errno with err set (also in a build
 * without DPDK). */
int xgw_offline_attach_dpdk(struct xgw_offline *o, unsigned port, const char *device,
			    const struct xgw_dpdk_cfg *dc, char *err, size_t errlen);
/* Run the worker's poll loop over its attached queues until a poll round
 * has received nothing idle_rounds times in a row (net_pcap: the input
 * files are exhausted).  Returns the frames received. */
uint64_t xgw_offline_poll(struct xgw_offline *o, unsigned idle_rounds);
/* Frames transmitted on port so far (by whichever queue serves it). */
uint64_t xgw_offline_port_tx(const struct xgw_offline *o, unsigned port);

/* The worker's counters so far. */
struct xgw_offline_counters {
	uint64_t drops[XGW_DROP__MAX];
#define _(name, scope, help) uint64_t name;
	XGW_FOREACH_WORKER_COUNTER(_)
#undef _
};
void xgw_offline_counters(const struct xgw_offline *o, struct xgw_offline_counters *c);

/* One input frame: its bytes, the port it arrives on and when (ns on any
 * monotonic scale; conntrack timeouts run on it; 0: no later than the
 * previous frame). */
struct xgw_offline_frame {
	const uint8_t *data;
	uint32_t len;
	uint16_t port;
	uint64_t ts_ns;
};

/* Copy frames[0..n) into UMEM frames and run them through the worker in
 * bursts of up to `burst` (1..XGW_BURST_MAX; 1 gives each frame's own drop
 * reason in the counters), with a quiescent state between bursts.  Frames
 * longer than a UMEM frame allows are skipped and counted as
 * XGW_DROP_NO_FRAME.  Returns how many frames were processed. */
uint32_t xgw_offline_run(struct xgw_offline *o, const struct xgw_offline_frame *frames, uint32_t n,
			 unsigned burst, xgw_offline_tx_fn fn, void *arg);

#endif
