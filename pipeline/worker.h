/* SPDX-License-Identifier: BSD-3-Clause */
/* The data plane's runtime objects: ports, per-core workers and the
 * RCU-published state they read.  A worker owns the I/O and sequences the
 * stages (pipeline/README.md); each stage keeps its per-worker state in its
 * own struct, embedded here.  One cache-aligned context per worker
 * (DPDK's lcore_conf[]); nothing writable is shared on the fast path. */
#ifndef XGW_WORKER_H
#define XGW_WORKER_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/counters.h"
#include "common/drop.h"
#include "common/pkt.h"
#include "pipeline/fib.h"
#include "pipeline/forward.h"
#include "pipeline/lb_stage.h"
#include "tunnel/tunnel.h"
#include "xsk/umem.h"
#include "xsk/xsk.h"

#define XGW_MAX_WORKERS 64
#define XGW_MAX_XSKS_PER_WORKER 32

struct xgw_steer;

struct xgw_port {
	char name[32];
	char iface[16];
	int ifindex;
	uint8_t mac[6];
	uint32_t mtu;
	int numa_node;
	struct xgw_steer *steer;
};

struct xgw_worker_stats {
#define _(name, scope, help) uint64_t name;
	XGW_FOREACH_WORKER_COUNTER(_)
#undef _
	uint64_t drops[XGW_DROP__MAX];
};

struct xgw_dataplane;
struct xgw_snapshot;
struct xgw_ct_table;

struct xgw_worker {
	alignas(64) struct xgw_dataplane *dp;
	int id;
	int core;
	unsigned n_xsks;
	struct xgw_xsk *xsks[XGW_MAX_XSKS_PER_WORKER];
	struct xgw_xsk *tx_for_port[XGW_MAX_PORTS];
	struct xgw_umem umem;
	struct xsk_ring_prod first_fq;
	struct xsk_ring_cons first_cq;
	struct xgw_worker_stats st;
	uint64_t now_ns; /* coarse clock, refreshed per poll round */
	/* Each stage's own per-worker state (its header says what). */
	struct xgw_lb_worker lb;
	struct xgw_fwd_worker fwd;
	struct xgw_tun_worker tun;
	/* Offline runs (pcap replay, in-memory benchmark): transmit through
	 * this hook instead of AF_XDP sockets.  It takes ownership of the
	 * frames it accepts and returns how many. */
	uint32_t (*tx_hook)(struct xgw_worker *w, uint16_t port, struct xgw_pkt *pkts, uint32_t n);
	void *hook_ctx;
	pthread_t thread;
	bool started;
};

struct xgw_dataplane {
	struct xgw_port ports[XGW_MAX_PORTS];
	unsigned n_ports;
	struct xgw_worker *workers[XGW_MAX_WORKERS];
	unsigned n_workers;
	struct xgw_fwd_state *fwd;   /* RCU */
	struct xgw_fib *fib;	     /* fwd->fib: lives as long as dp, changed in place */
	struct xgw_route *statics;   /* the static routes in dp->fib (pipeline/fib_learn.c) */
	unsigned n_static;
	struct xgw_snapshot *snap;   /* RCU */
	struct xgw_ct_table *ct;     /* shared by all workers */
	uint32_t hash_seed;          /* Maglev flow hash, per xgwd */
	struct xgw_kdp *kdp;	     /* kernel datapath maps (pipeline/kdp.h) */
	atomic_bool stop;
};

/* Run one poll round over the worker's sockets; returns packets received.
 * Exposed so that tests and the in-memory bench drive it directly. */
uint32_t xgw_worker_poll(struct xgw_worker *w);
/* Process a burst already received on ingress socket x: parse, forward,
 * transmit; frames not sent are freed and counted. */
void xgw_worker_process(struct xgw_worker *w, struct xgw_pkt *pkts, uint32_t n);
int xgw_worker_start(struct xgw_worker *w);
void xgw_worker_join(struct xgw_worker *w);

/* Pop one resolution request (control side). */
bool xgw_worker_pop_resolve(struct xgw_worker *w, struct xgw_resolve_req *out);

#endif
