/* SPDX-License-Identifier: BSD-3-Clause */
#define XGW_LOG_COMP "worker"
#include "pipeline/worker.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <urcu-qsbr.h>

#include "common/log.h"
#include "common/parse_fast.h"
#include "common/stat.h"
#include "common/tsan.h"
#include "pipeline/forward.h"
#include "pipeline/forward_fast.h"
#include "pipeline/lb_fast.h"
#include "common/cycles.h"
#include "pipeline/lb_stage.h"
#include "pipeline/policy_stage.h"
#include "pipeline/snapshot.h"
#include "pipeline/tap.h"
#include "port/port_dpdk.h"
#include "tunnel/stage.h"

/* Empty poll rounds before the worker sleeps in poll(2).  A busy-polling
 * worker owns its core (DPDK style); on a shared machine an idle worker
 * must give it back, as VPP's adaptive mode does.  ~256 rounds is a few
 * tens of microseconds of spinning. */
#define IDLE_SPINS 256
#define IDLE_SLEEP_MS 10
#define IDLE_SLEEP_NOFD_MS 1

static inline uint64_t coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline void drop(struct xgw_worker *w, struct xgw_pkt *p, unsigned reason)
{
	XGW_STAT_ADD(w->st.drops[reason < XGW_DROP__MAX ? reason : 0], 1);
	xgw_umem_free(&w->umem, p->addr);
}

void xgw_worker_process(struct xgw_worker *w, struct xgw_pkt *pkts, uint32_t n)
{
	/* Trace and capture (tap.h): while none runs, this one test per
	 * burst is all they cost. */
	struct xgw_tap *tap = __atomic_load_n(&w->dp->tap, __ATOMIC_ACQUIRE);

	if (__builtin_expect(tap != NULL, 0))
		xgw_tap_burst(w, tap, pkts, n);
	else
		xgw_worker_stages(w, pkts, n);
}

/* Packet p dropped for reason r: freed and counted now, its entry's kind
 * DROP so that no later pass looks at it. */
static inline void drop_kind(struct xgw_worker *w, struct xgw_pkt *p, struct xgw_lb_flow *f,
			     int r)
{
	f->kind = XGW_LB_K_DROP;
	drop(w, p, (unsigned)r);
}

/* The burst's state for the per-packet loop, read once per burst. */
struct burst {
	const struct xgw_fwd_state *fs;
	const struct xgw_snapshot *snap;
	const struct xgw_tun_table *tun;
	struct xgw_ct_table *ct;
	uint64_t gen, now;
	bool acl, fwd_direct;
	struct xgw_route_own4 own4;
};

/* The per-packet loop: the LB stage by each packet's kind, then policy
 * and the source check for routed packets, then routing or the tunnel
 * encap.  plain: the usual burst (no policy, no tunnel, a FIB), a
 * constant at each of the two calls, so that its copy of the loop carries
 * no test of the burst's configuration.  Returns the ports with output,
 * *n_drop the packets dropped (their kind now XGW_LB_K_DROP). */
static inline __attribute__((always_inline)) uint32_t
packets(struct xgw_worker *w, const struct burst *b, struct xgw_pkt *pkts, struct xgw_lb_flow *fl,
	uint32_t n, bool plain, uint32_t *n_drop)
{
	const struct xgw_fwd_state *fs = b->fs;
	const struct xgw_snapshot *snap = b->snap;
	struct xgw_ct_table *ct = b->ct;
	uint64_t gen = b->gen, now = b->now;
	uint32_t used = 0, drops = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct xgw_pkt *p = &pkts[i];
		struct xgw_lb_flow *f = &fl[i];
		unsigned k = f->kind;
		int r;

		/* The LB stage by kind: 0 (translated), XGW_LB_ROUTE or a
		 * drop reason. */
		if (__builtin_expect(k == XGW_LB_K_TRACKED, 1)) {
			/* The record of the packet XGW_LB_AHEAD on, prefetched
			 * again (NULL unless it is tracked too: see
			 * xgw_lb_prepare).  The burst pass prefetches every
			 * record of the burst at once, two lines each: more
			 * misses than the core keeps in flight, and on the
			 * AMD EPYC VM this was measured on most of them were
			 * lost (the packet loop stalled ~110 cycles per
			 * packet at 1M flows; established-1m 94 -> 58 ns with
			 * this).  A line already in L1 costs the instruction;
			 * prefetches, not loads, so that the packet's own
			 * work goes on under the misses. */
			xgw_ct_conn_prefetch(f[XGW_LB_AHEAD].conn);
			r = xgw_lb_tracked(ct, now, f->conn, (enum xgw_ct_dir)(f->hint & 1),
					   &f->key, p, &w->svc);
			if (__builtin_expect(r == XGW_LB_SLOW, 0))
				r = xgw_lb_l4_flow(w, snap, fs, p, f);
		} else if (k == XGW_LB_K_ROUTE) {
			r = XGW_LB_ROUTE;
		} else if (k == XGW_LB_K_LOOKUP) {
			r = xgw_lb_l4_flow(w, snap, fs, p, f);
		} else if (k == XGW_LB_K_OTHER) {
			r = xgw_lb_stage_flow(w, snap, fs, p, f);
		} else {
			continue; /* dropped by parse or decap, counted */
		}
		if (r == XGW_LB_ROUTE) {
			r = !plain && b->acl ? xgw_policy_stage(snap, w->id, p) : 0;
			if (!r && (plain || fs))
				r = xgw_route_check_source(w, fs, p, &b->own4);
		}
		if (!r)
			r = plain || b->fwd_direct ? xgw_forward_fast(w, fs, gen, p, f)
			    : b->tun		   ? xgw_tun_encap_stage(w, b->tun, fs, p, f)
						   : XGW_DROP_NO_ROUTE;
		if (r) {
			drops++;
			drop_kind(w, p, f, r);
			continue;
		}
		used |= 1u << p->out_port;
	}
	*n_drop = drops;
	return used;
}

void xgw_worker_stages(struct xgw_worker *w, struct xgw_pkt *pkts, uint32_t n)
{
	struct xgw_dataplane *dp = w->dp;
	struct burst b;
	/* One read of each published pointer per burst: the burst sees one
	 * consistent configuration, released at the next quiescent state.
	 * C11 acquire loads, not rcu_dereference: liburcu 0.13's is a volatile
	 * load ordered by the address dependency, which ThreadSanitizer cannot
	 * see, so it reported every read through the pointer as a race with
	 * the object's construction.  Acquire pairs with the exchange in
	 * dataplane.c; it is a plain mov on x86-64 and one ldar per burst on
	 * arm64.  The grace period is still QSBR's (rcu_quiescent_state). */
	const struct xgw_fwd_state *fs = __atomic_load_n(&dp->fwd, __ATOMIC_ACQUIRE);
	const struct xgw_snapshot *snap = __atomic_load_n(&dp->snap, __ATOMIC_ACQUIRE);
	struct xgw_pkt out[XGW_BURST_MAX];
	uint32_t used;	 /* bitmask of ports with output */
	uint32_t n_drop; /* packets dropped by the per-packet loop */
	/* The stage sequence (pipeline/README.md).  Parse and the LB stage's
	 * bulk pass run over the whole burst (VPP's vectors), so that the
	 * conntrack misses of all packets overlap; the rest per packet, in
	 * packet order. */
	struct xgw_lb_flow fl[XGW_BURST_MAX + XGW_LB_AHEAD];
	const struct xgw_tun_table *tun = snap ? snap->tun : NULL;

	b.fs = fs;
	b.snap = snap;
	b.tun = tun;
	b.acl = xgw_policy_active(snap);
	/* The forwarding state's checks, once per burst (forward_fast.h). */
	bool fwd_ok = fs && fs->fib;
	b.gen = fwd_ok ? xgw_fib_generation(fs->fib) : 0;
	b.fwd_direct = !tun && fwd_ok;

	/* A packet's verdict is kept only when it is a drop, as its kind
	 * (XGW_LB_K_DROP, the frame freed and counted at once); any other
	 * kind is the LB stage's to set (xgw_lb_prepare). */
	uint32_t n_bad = 0; /* dropped by parse or decap */
	for (uint32_t i = 0; i < n; i++) {
		bool fast;
		int r = xgw_parse_verify_fast(&pkts[i], &fast);

		/* The fast path's packet is XGW_LB_K_V4 by its contract: no
		 * test of the descriptor it has just written. */
		fl[i].kind = fast ? XGW_LB_K_V4 : XGW_LB_K_ROUTE;
		if (__builtin_expect(r != 0, 0)) {
			n_bad++;
			drop_kind(w, &pkts[i], &fl[i], r);
		}
	}
	if (tun)
		for (uint32_t i = 0; i < n; i++) {
			if (fl[i].kind == XGW_LB_K_DROP)
				continue;
			int r = xgw_tun_decap_stage(w, tun, &pkts[i]);
			if (r) {
				n_bad++;
				drop_kind(w, &pkts[i], &fl[i], r);
				continue;
			}
			/* the inner packet's, when it was a tunnel's */
			fl[i].kind = xgw_lb_kind_parsed(&pkts[i]);
		}
	xgw_route_own4(&b.own4, fs, w->dp->n_ports);
	w->lb.own4_set = false; /* gathered again by a new flow of this burst */
	xgw_lb_prepare(w, snap, pkts, n, fl);
	b.ct = w->lb.ct; /* set by xgw_lb_prepare when used */
	b.now = w->now_ns;
	if (!b.acl && b.fwd_direct)
		used = packets(w, &b, pkts, fl, n, true, &n_drop);
	else
		used = packets(w, &b, pkts, fl, n, false, &n_drop);
	w->lb.own4_set = false;
	/* any drop leaves a hole: the gather below */
	bool one_port = n_bad + n_drop == 0 && !(used & (used - 1));
	while (used) {
		unsigned port = (unsigned)__builtin_ctz(used);
		struct xgw_portq *tx = w->tx_for_port[port];
		uint32_t sent = 0, k = 0;

		used &= used - 1;
		/* The usual burst, every packet forwarded out of one port, is
		 * already in transmit order: no gather copy.  Otherwise each
		 * port's packets in burst order (not dropped). */
		struct xgw_pkt *o = pkts;
		if (one_port) {
			k = n;
		} else {
			for (uint32_t i = 0; i < n; i++)
				if (fl[i].kind != XGW_LB_K_DROP && pkts[i].out_port == port)
					out[k++] = pkts[i];
			o = out;
		}
		if (tx)
			sent = tx->ops->tx_burst(tx, o, k);
		XGW_STAT_ADD(w->st.forwarded, sent);
		for (uint32_t i = sent; i < k; i++)
			drop(w, &o[i], tx ? XGW_DROP_TX_RING_FULL : XGW_DROP_NO_PORT);
	}
}

uint32_t xgw_worker_poll(struct xgw_worker *w)
{
	struct xgw_pkt pkts[XGW_BURST_MAX];
	uint32_t total = 0;
	uint64_t t0 = xgw_cycles(); /* busy accounting: a few cycles per poll */

	w->now_ns = coarse_ns();
	for (unsigned i = 0; i < w->n_qs; i++) {
		struct xgw_portq *q = w->qs[i];
		uint32_t n = q->ops->rx_burst(q, pkts, XGW_BURST_MAX);

		if (n) {
			XGW_STAT_ADD(w->st.bursts, 1);
			xgw_worker_process(w, pkts, n);
			total += n;
		}
	}
	for (unsigned i = 0; i < w->n_qs; i++) {
		struct xgw_portq *q = w->qs[i];

		if (q->ops->service)
			q->ops->service(q);
	}
	if (!total)
		XGW_STAT_ADD(w->st.empty_polls, 1);
	else
		XGW_STAT_ADD(w->st.busy_cycles, xgw_cycles() - t0);
	return total;
}

static bool must_poll(const struct xgw_worker *w)
{
	for (unsigned i = 0; i < w->n_qs; i++)
		if (w->qs[i]->ops->must_poll(w->qs[i]))
			return true;
	return false;
}

static void idle_wait(struct xgw_worker *w)
{
	struct pollfd pfd[XGW_MAX_QUEUES_PER_WORKER];
	int timeout = IDLE_SLEEP_MS;
	nfds_t n = 0;

	for (unsigned i = 0; i < w->n_qs; i++) {
		int fd = w->qs[i]->ops->wait_fd(w->qs[i]);

		/* A queue without a file descriptor (a DPDK poll-mode
		 * driver) cannot wake the worker: sleep less. */
		if (fd < 0) {
			timeout = IDLE_SLEEP_NOFD_MS;
			continue;
		}
		pfd[n].fd = fd;
		pfd[n].events = POLLIN;
		n++;
	}
	XGW_STAT_ADD(w->st.idle_sleeps, 1);
	/* Offline: the control thread's grace periods need not wait for a
	 * sleeping worker. */
	XGW_TSAN_RCU_QS();
	rcu_thread_offline();
	poll(pfd, n, timeout);
	rcu_thread_online();
}

static void *worker_main(void *arg)
{
	struct xgw_worker *w = arg;
	char name[16];
	unsigned idle = 0;

	snprintf(name, sizeof(name), "xgw-w%d", w->id);
	xgw_lb_worker_init(&w->lb, (uint32_t)(coarse_ns() ^ (uint64_t)(uintptr_t)w));
	pthread_setname_np(pthread_self(), name);
	rcu_register_thread();
	/* An lcore id for this thread: DPDK's per-lcore mempool caches. */
	if (w->dpdk && xgw_dpdk_thread_register())
		pr_warn("worker %d: not registered with DPDK: mbuf allocation without cache",
			w->id);
	pr_info("worker %d on core %d: %u queue(s), %u frames", w->id, w->core, w->n_qs,
		w->umem.n_frames);
	while (!atomic_load_explicit(&w->dp->stop, memory_order_relaxed)) {
		if (xgw_worker_poll(w)) {
			idle = 0;
		} else if (++idle >= IDLE_SPINS && !must_poll(w)) {
			idle_wait(w);
			idle = 0;
		}
		/* Between bursts: no snapshot pointer is held here. */
		XGW_TSAN_RCU_QS();
		rcu_quiescent_state();
	}
	XGW_TSAN_RCU_QS();
	rcu_unregister_thread();
	if (w->dpdk)
		xgw_dpdk_thread_unregister();
	return NULL;
}

int xgw_worker_start(struct xgw_worker *w)
{
	pthread_attr_t attr;
	cpu_set_t set;
	int err;

	pthread_attr_init(&attr);
	CPU_ZERO(&set);
	CPU_SET(w->core, &set);
	err = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	if (!err)
		err = pthread_create(&w->thread, &attr, worker_main, w);
	pthread_attr_destroy(&attr);
	if (err) {
		pr_err("worker %d: cannot start on core %d: %s", w->id, w->core, strerror(err));
		return -err;
	}
	w->started = true;
	return 0;
}

void xgw_worker_join(struct xgw_worker *w)
{
	if (w->started)
		pthread_join(w->thread, NULL);
	w->started = false;
}

bool xgw_worker_pop_resolve(struct xgw_worker *w, struct xgw_resolve_req *out)
{
	return xgw_fwd_pop_resolve(&w->fwd, out);
}
