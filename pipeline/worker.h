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
#include "pipeline/svc_stats.h"
#include "tunnel/tunnel.h"
#include "port/port.h"
#include "xsk/umem.h"

#define XGW_MAX_WORKERS 64
#define XGW_MAX_QUEUES_PER_WORKER 32

struct xgw_steer;
struct xgw_dpdk_port;

/* What the control thread last saw of a port's interface
 * (pipeline/port_watch.c); read by the ctl and metrics threads. */
struct xgw_port_health {
	atomic_bool up;	     /* IFF_UP and carrier (IFF_RUNNING) */
	atomic_bool xdp_ok;  /* the steering program is attached */
	atomic_bool gone;    /* the interface was deleted (or replaced) */
	atomic_bool foreign; /* another XDP program took our place */
	_Atomic uint64_t link_changes, mtu_changes, xdp_lost, xdp_reattached;
};

/* A port as its backend opened it (port/port.h): the MAC, MTU and NUMA
 * node come from the kernel (af_xdp) or from rte_ethdev (dpdk). */
struct xgw_port {
	char name[32];
	char iface[16];	    /* "" for a DPDK port without a kernel interface */
	const char *driver; /* "af_xdp", "dpdk", "mem" */
	int ifindex;
	uint8_t mac[6];
	/* Follows the interface's MTU (port_watch.c): written by the control
	 * thread, read by workers with xgw_port_mtu. */
	uint32_t mtu;
	int numa_node;
	uint16_t n_queues;
	struct xgw_steer *steer; /* af_xdp: the steering program */
	struct xgw_dpdk_port *dpdk;
	struct xgw_port_health health; /* af_xdp: port_watch.c */
};

static inline uint32_t xgw_port_mtu(const struct xgw_port *p)
{
	return __atomic_load_n(&p->mtu, __ATOMIC_RELAXED);
}

struct xgw_worker_stats {
#define _(name, scope, help) uint64_t name;
	XGW_FOREACH_WORKER_COUNTER(_)
#undef _
	uint64_t drops[XGW_DROP__MAX];
};

struct xgw_dataplane;
struct xgw_snapshot;
struct xgw_snap_builder;
struct xgw_steer_rules;
struct xgw_ct_table;

struct xgw_worker {
	alignas(64) struct xgw_dataplane *dp;
	int id;
	int core;
	unsigned n_qs;
	struct xgw_portq *qs[XGW_MAX_QUEUES_PER_WORKER]; /* the queues it polls */
	struct xgw_portq *tx_for_port[XGW_MAX_PORTS];	 /* where it transmits */
	struct xgw_umem umem;
	struct xsk_ring_prod first_fq;
	struct xsk_ring_cons first_cq;
	struct xgw_worker_stats st;
	uint64_t now_ns; /* coarse clock, refreshed per poll round */
	/* Each stage's own per-worker state (its header says what). */
	struct xgw_lb_worker lb;
	struct xgw_fwd_worker fwd;
	struct xgw_tun_worker tun;
	struct xgw_svc_worker svc; /* per-service counters (svc_stats.h) */
	pthread_t thread;
	bool started;
	bool dpdk; /* polls a DPDK queue: registers with the EAL */
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
	struct xgw_snap_builder *snap_builder; /* makes every snap after the first */
	struct xgw_steer_rules *steer_rules;   /* the rules last written, by service */
	struct xgw_ct_table *ct;     /* shared by all workers */
	uint32_t hash_seed;          /* Maglev flow hash, per xgwd */
	struct xgw_svc_slots *svc_slots; /* counter slots (svc_stats.h), control side */
	struct xgw_tap *tap;		 /* RCU: trace or capture running (tap.h), or NULL */
	struct xgw_kdp *kdp;	     /* kernel datapath maps (pipeline/kdp.h) */
	atomic_bool stop;
};

/* Run one poll round over the worker's sockets; returns packets received.
 * Exposed so that tests and the in-memory bench drive it directly. */
uint32_t xgw_worker_poll(struct xgw_worker *w);
/* Process a burst already received on ingress socket x: parse, forward,
 * transmit; frames not sent are freed and counted. */
void xgw_worker_process(struct xgw_worker *w, struct xgw_pkt *pkts, uint32_t n);
/* The stages and transmit alone (xgw_worker_process without the tap
 * test): what a tap (tap.h) runs for the packets it takes and the rest. */
void xgw_worker_stages(struct xgw_worker *w, struct xgw_pkt *pkts, uint32_t n);
int xgw_worker_start(struct xgw_worker *w);
void xgw_worker_join(struct xgw_worker *w);

/* Pop one resolution request (control side). */
bool xgw_worker_pop_resolve(struct xgw_worker *w, struct xgw_resolve_req *out);

#endif
