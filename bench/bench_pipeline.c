/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw-bench-pipeline: the worker pipeline (parse -> LB stage -> forward ->
 * tx) in memory on one pinned core, over synthetic 64-byte frames (60 bytes
 * without the FCS), with no kernel I/O.  A benchmark, not a test.
 *
 * The data plane is pipeline/offline.h's (plain-memory UMEM, static
 * routes/neighbours); the loop drives xgw_worker_process directly with
 * bursts of 64 and a tx_hook that only counts.  Each burst:
 *   restore 64 frames from their templates (memcpy of 60 bytes each: NAT
 *   rewrites frames in place) and fill the descriptors, read the coarse
 *   clock, xgw_worker_process, a QSBR quiescent state.
 * All of that is counted in the figures (as it is in the real worker loop,
 * except the template copy, which the "restore-only" scenario measures on
 * its own so that it can be subtracted).
 *
 * Scenarios (service 198.18.100.1:80/tcp, 16 Maglev backends):
 *   established-vxlan, established-geneve  established-1k with every
 *       backend behind a tunnel endpoint (the remote 198.18.2.2): encap
 *       after DNAT instead of plain routing, 110-byte frames out.
 *   established-1k, established-1m  conntrack pre-filled with 1,000 or
 *       1,000,000 ESTABLISHED flows (an ACK of each through the pipeline,
 *       picked up mid-stream; max_entries 2M for
 *       1M flows: at 1M of 1M, ~1e-4 of the inserts find all 4 probe
 *       buckets full and are refused); then ACKs of those flows, client to VIP, in a
 *       random order over the flow set (the frames are laid out in that
 *       order, so the template stream is sequential; the table is not).
 *   new-flows  every packet a SYN of a new flow: policy (none), Maglev pick,
 *       conntrack insert (two keys), DNAT.  Passes of 262,144 distinct flows
 *       into a 1M-entry table; between passes, with the clock stopped, the
 *       table is flushed and the records reclaimed (rcu_barrier), so every
 *       measured packet is an insert into a table 0-25 % full.
 *   policy-10k  as new-flows with 10,000 random rules in the policy
 *       (evaluated twice per new flow: ingress and egress; none match, the
 *       default allows).
 *   route-only  a steered UDP flow that is no service: the snapshot's
 *       address filter sends it past conntrack (before, it paid a conntrack
 *       miss, a service miss and a backend check), then plain routing via a
 *       next hop.
 *   restore-only  the template copy and descriptor fill alone.
 *   fib-10, fib-1m  route-only to 65,536 destinations spread over 10 or
 *       1,000,000 random IPv4 routes (bench/bench_fib.c): the per-worker
 *       route cache (128 entries) misses nearly always, so each packet
 *       pays the LPM lookup and the neighbour lookup.  --churn N changes N
 *       routes per second from another thread meanwhile, as xgwd applies
 *       netlink events (batches every millisecond, a grace period each).
 *
 * Figures: Mpps and ns/packet, the median of --runs runs of >= --seconds
 * each.  Instructions per packet: run one scenario under callgrind with
 * --count and divide the collected total by the packets printed (see
 * bench/README.md, "xgw-bench-pipeline"): the measured function is
 * bench_burst. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu-qsbr.h>

#include "bench/bench_fib.h"
#include "ctl/config.h"
#include "lb/conntrack.h"
#include "pipeline/offline.h"
#include "pipeline/worker.h"
#include "tests/lib/pktbuild.h"

#define FRAME_LEN 60
#define N_BACKENDS 16
#define NEW_FLOWS_PASS 262144u

static const uint8_t MAC_P0[6] = {0x02, 0, 0, 0, 0, 0x10};
static const uint8_t MAC_CLI[6] = {0x02, 0, 0, 0, 1, 0x02};

struct scenario {
	const char *name;
	unsigned flows;	   /* distinct flows in the template stream */
	bool prefill;	   /* conntrack filled before measuring */
	bool new_flows;	   /* flush between passes */
	unsigned policies; /* random rules */
	bool route_only;
	bool restore_only;
	const char *tunnel; /* backends behind "vxlan" or "geneve", NULL: native */
	unsigned routes;    /* route-only to destinations over this many routes */
};

static const struct scenario SCENARIOS[] = {
    {"established-1k", 1000, true, false, 0, false, false, NULL, 0},
    {"established-vxlan", 1000, true, false, 0, false, false, "vxlan", 0},
    {"established-geneve", 1000, true, false, 0, false, false, "geneve", 0},
    {"established-1m", 1000000, true, false, 0, false, false, NULL, 0},
    {"new-flows", NEW_FLOWS_PASS, false, true, 0, false, false, NULL, 0},
    {"policy-10k", NEW_FLOWS_PASS, false, true, 10000, false, false, NULL, 0},
    {"route-only", 1024, false, false, 0, true, false, NULL, 0},
    {"restore-only", 1024, false, false, 0, true, true, NULL, 0},
    {"fib-10", 65536, false, false, 0, true, false, NULL, 10},
    {"fib-1m", 65536, false, false, 0, true, false, NULL, 1000000},
};

struct bench {
	struct xgw_offline *o;
	struct xgw_worker *w;
	uint8_t (*tmpl)[64]; /* frames in the order they are sent */
	uint32_t n_tmpl;
	uint32_t pos;
	uint64_t tx;
};

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static uint32_t count_tx(struct xgw_worker *w, uint16_t port, struct xgw_pkt *pkts, uint32_t n)
{
	struct bench *b = w->hook_ctx;

	b->tx += n; /* the frames stay where they are: restored next burst */
	return n;
}

/* The measured function (callgrind --toggle-collect=bench_burst). */
__attribute__((noinline)) void bench_burst(struct bench *b, bool process);
__attribute__((noinline)) void bench_burst(struct bench *b, bool process)
{
	struct xgw_worker *w = b->w;
	struct xgw_pkt pkts[XGW_BURST_MAX];

	for (unsigned i = 0; i < XGW_BURST_MAX; i++) {
		struct xgw_pkt *p = &pkts[i];
		uint64_t addr = (uint64_t)i * w->umem.frame_size + XGW_OFFLINE_HEADROOM;

		p->addr = addr;
		p->data = xgw_umem_ptr(&w->umem, addr);
		memcpy(p->data, b->tmpl[b->pos], 64);
		p->len = FRAME_LEN;
		p->headroom = XGW_OFFLINE_HEADROOM;
		p->port = 0;
		if (++b->pos == b->n_tmpl)
			b->pos = 0;
	}
	if (!process)
		return;
	w->now_ns = now_ns(CLOCK_MONOTONIC_COARSE);
	xgw_worker_process(w, pkts, XGW_BURST_MAX);
	w->umem.n_free = 0; /* drops pushed their frames: they are ours */
	rcu_quiescent_state();
}

static void build_frame(uint8_t *out, uint32_t flow, uint8_t flags, bool route)
{
	struct xgw_pb pb = {.proto = IPPROTO_TCP, .tcp_flags = flags, .pad_to = FRAME_LEN};
	uint32_t src = 0xc6128000u + (flow & 0x7fff); /* 198.18.128.0/17 */
	uint16_t sport = (uint16_t)(1024 + (flow >> 15));

	memcpy(pb.src_mac, MAC_CLI, 6);
	memcpy(pb.dst_mac, MAC_P0, 6);
	xgw_addr_v4(&pb.src, htonl(src));
	pb.sport = sport;
	pb.dst = xgw_pb_ip("198.18.100.1");
	pb.dport = 80;
	if (route) {
		pb.proto = IPPROTO_UDP;
		pb.dst = xgw_pb_ip("198.18.5.7");
		pb.dport = 7000;
	}
	if (xgw_pb_build(&pb, out, 64) != FRAME_LEN)
		abort();
}

/* Conntrack filled by the SYNs of the flows, through the pipeline. */
static int prefill(struct bench *b, unsigned flows)
{
	enum { CHUNK = 4096 };
	static uint8_t frm[CHUNK][64];
	static struct xgw_offline_frame f[CHUNK];
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);

	for (unsigned base = 0; base < flows; base += CHUNK) {
		unsigned n = flows - base < CHUNK ? flows - base : CHUNK;

		for (unsigned i = 0; i < n; i++) {
			build_frame(frm[i], base + i, XGW_PB_ACK, false);
			/* On the clock the measured bursts use, or every entry
			 * would look expired to them. */
			f[i] = (struct xgw_offline_frame){.data = frm[i],
							  .len = FRAME_LEN,
							  .ts_ns = now_ns(CLOCK_MONOTONIC_COARSE)};
		}
		xgw_offline_run(b->o, f, n, XGW_BURST_MAX, NULL, NULL);
	}
	/* ACKs: each creates its connection as picked up mid-stream, in
	 * ESTABLISHED, the state the measured packets find (a SYN would leave
	 * SYN_SENT, which no established flow is in). */
	fprintf(stderr, "prefilled %u flows in %.1f s (%llu created)\n", flows,
		(double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9,
		(unsigned long long)b->w->st.ct_created);
	for (unsigned d = 1; d < XGW_DROP__MAX; d++)
		if (b->w->st.drops[d])
			fprintf(stderr, "prefill drops %s: %llu\n", xgw_drop_name(d),
				(unsigned long long)b->w->st.drops[d]);
	return b->w->st.ct_created >= flows ? 0 : -1;
}

static void random_policies(struct xgw_config *cfg, unsigned n)
{
	struct xgw_policy_cfg *p = calloc(n, sizeof(*p));

	if (!p)
		abort();
	for (unsigned i = 0; i < n; i++) {
		uint8_t sl = (uint8_t)(8 + rnd() % 25), dl = (uint8_t)(8 + rnd() % 25);
		/* Sources in 10/8, destinations in 172.16/12 or, for a tenth, in
		 * the VIP's /15 with ports that exclude 80: never a match, but
		 * the VIP's intervals carry rules, as in a real rule set. */
		uint32_t s = 0x0a000000u | (rnd() & 0x00ffffffu);
		uint32_t d = i % 10 ? 0xac100000u | (rnd() & 0x000fffffu)
				    : 0xc6120000u | (rnd() & 0x0001ffffu);

		p[i].id = i + 1;
		p[i].allow = rnd() & 1;
		xgw_addr_v4(&p[i].src.addr, htonl(s));
		p[i].src.len = sl;
		xgw_addr_mask(&p[i].src.addr, sl);
		xgw_addr_v4(&p[i].dst.addr, htonl(d));
		p[i].dst.len = dl;
		xgw_addr_mask(&p[i].dst.addr, dl);
		p[i].proto = (uint8_t[]){0, IPPROTO_TCP, IPPROTO_UDP}[rnd() % 3];
		p[i].dport_lo = (uint16_t)(81 + rnd() % 30000);
		p[i].dport_hi = (uint16_t)(p[i].dport_lo + rnd() % 1000);
		if (i % 10 == 0 && p[i].proto == IPPROTO_TCP)
			p[i].dport_lo = 81;
	}
	free(cfg->policies);
	cfg->policies = p;
	cfg->n_policies = n;
	cfg->next_policy_id = n + 1;
}

static int make_config(struct xgw_config *cfg, const struct scenario *sc)
{
	json_t *j = json_pack(
	    "{s:[{s:s,s:s,s:[{s:i,s:i}]},{s:s,s:s,s:[{s:i,s:i}]}],s:{s:i},"
	    "s:[{s:s,s:s,s:s},{s:s,s:s,s:s}],s:[{s:s,s:s,s:s},{s:s,s:s,s:s}]}",
	    "ports", "name", "client", "iface", "xgw-c", "queues", "queue", 0, "core", 0, "name",
	    "backend", "iface", "xgw-b", "queues", "queue", 0, "core", 0, "conntrack",
	    "max_entries", sc->flows > 524288 ? 2097152 : 1048576, "routes", "dst", "198.18.128.0/17", "via", "198.18.1.2",
	    "port", "client", "dst", "198.18.5.0/24", "via", "198.18.2.2", "port", "backend",
	    "neighbours", "ip", "198.18.1.2", "mac", "02:00:00:00:01:02", "port", "client", "ip",
	    "198.18.2.2", "mac", "02:00:00:00:02:02", "port", "backend");
	json_t *svc = json_pack("{s:s,s:i,s:s,s:[]}", "vip", "198.18.100.1", "port", 80, "proto",
				"tcp", "backends");
	json_t *neigh = json_object_get(j, "neighbours");
	char err[256];
	int rc;

	for (int i = 0; i < N_BACKENDS; i++) {
		char ip[32], mac[32];

		snprintf(ip, sizeof(ip), "198.18.2.%d", 10 + i);
		snprintf(mac, sizeof(mac), "02:00:00:00:02:%02x", 10 + i);
		json_t *be = json_pack("{s:s,s:i}", "ip", ip, "port", 8080);
		if (sc->tunnel)
			json_object_set_new(be, "tunnel",
					    json_pack("{s:s,s:s,s:i,s:s}", "type", sc->tunnel,
						      "remote", "198.18.2.2", "vni", 42, "mac",
						      mac));
		json_array_append_new(json_object_get(svc, "backends"), be);
		json_array_append_new(neigh,
				      json_pack("{s:s,s:s,s:s}", "ip", ip, "mac", mac, "port",
						"backend"));
	}
	json_object_set_new(j, "services", json_pack("[o]", svc));
	if (sc->tunnel)
		json_object_set_new(j, "tunnel", json_pack("{s:s}", "local_ip", "198.18.2.1"));
	rc = xgw_config_load_json(cfg, j, err, sizeof(err));
	json_decref(j);
	if (rc) {
		fprintf(stderr, "config: %s\n", err);
		return rc;
	}
	if (sc->policies)
		random_policies(cfg, sc->policies);
	return 0;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Between passes of new flows: empty the table with the clock stopped. */
static void flush(struct bench *b)
{
	xgw_ct_flush(b->w->dp->ct);
	xgw_ct_reclaim_wait();
}

/* IPv4 destination of a template (network order), header checksum redone. */
static void frame_set_dst(uint8_t *f, uint32_t dst)
{
	uint32_t sum = 0;

	memcpy(f + 14 + 16, &dst, 4);
	f[14 + 10] = f[14 + 11] = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)f[14 + i] << 8 | f[14 + i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	f[14 + 10] = (uint8_t)(sum >> 8);
	f[14 + 11] = (uint8_t)sum;
}

static unsigned churn; /* --churn: route changes per second in fib-* */

static int run(const struct scenario *sc, unsigned runs, double seconds, uint64_t count,
	       bool json)
{
	struct xgw_offline_port ports[2] = {{.name = "client", .mac = {2, 0, 0, 0, 0, 0x10}},
					    {.name = "backend", .mac = {2, 0, 0, 0, 0, 0x11}}};
	struct bench b = {0};
	struct xgw_config cfg;
	double ns_pp[16];
	char err[256];

	if (make_config(&cfg, sc))
		return 1;
	xgw_offline_ifaddr_parse(&ports[0].addr4, "198.18.1.1/24");
	xgw_offline_ifaddr_parse(&ports[1].addr4, "198.18.2.1/24");
	b.o = xgw_offline_open(&cfg, ports, 2, 256, 0x5eed, err, sizeof(err));
	if (!b.o) {
		fprintf(stderr, "%s: %s\n", sc->name, err);
		return 1;
	}
	b.w = xgw_offline_worker(b.o);
	if (sc->prefill && prefill(&b, sc->flows)) {
		fprintf(stderr, "%s: prefill created too few flows\n", sc->name);
		xgw_offline_close(b.o);
		xgw_config_free(&cfg);
		return 1;
	}
	b.w->tx_hook = count_tx;
	b.w->hook_ctx = &b;
	b.w->umem.n_free = 0; /* frames 0..63 are the bench's */
	b.n_tmpl = sc->flows;
	b.tmpl = aligned_alloc(64, (size_t)b.n_tmpl * 64);
	if (!b.tmpl)
		return 1;
	/* Templates in a random order over the flow set (Fisher-Yates). */
	{
		uint32_t *perm = malloc(sizeof(*perm) * b.n_tmpl);
		for (uint32_t i = 0; i < b.n_tmpl; i++)
			perm[i] = i;
		for (uint32_t i = b.n_tmpl - 1; i > 0; i--) {
			uint32_t k = rnd() % (i + 1), t = perm[i];
			perm[i] = perm[k];
			perm[k] = t;
		}
		for (uint32_t i = 0; i < b.n_tmpl; i++)
			build_frame(b.tmpl[i], perm[i], sc->new_flows ? XGW_PB_SYN : XGW_PB_ACK,
				    sc->route_only);
		free(perm);
	}
	if (sc->routes) {
		uint32_t *dsts = malloc(sizeof(*dsts) * b.n_tmpl);
		if (!dsts || bench_fib_load(b.w->dp, sc->routes, dsts, b.n_tmpl))
			return 1;
		for (uint32_t i = 0; i < b.n_tmpl; i++)
			frame_set_dst(b.tmpl[i], dsts[i]);
		free(dsts);
	}
	if (sc->routes && churn && bench_fib_churn_start(b.w->dp, churn))
		return 1;
	if (runs > 16)
		runs = 16;
	/* Run 0 warms up; with --count (callgrind) it is skipped, so that the
	 * collected total covers exactly runs x count packets. */
	for (unsigned r = count ? 1 : 0; r < runs + 1; r++) {
		uint64_t pkts = 0, busy = 0, t0 = 0;
		uint64_t drops0 = 0;

		for (unsigned d = 1; d < XGW_DROP__MAX; d++)
			drops0 += b.w->st.drops[d];
		b.tx = 0;
		for (;;) {
			if (sc->new_flows && b.pos == 0) {
				if (t0)
					busy += now_ns(CLOCK_MONOTONIC) - t0;
				flush(&b);
				t0 = 0;
			}
			if (!t0)
				t0 = now_ns(CLOCK_MONOTONIC);
			bench_burst(&b, !sc->restore_only);
			pkts += XGW_BURST_MAX;
			if (count ? pkts >= count
				  : (pkts & 1023) == 0 &&
					busy + now_ns(CLOCK_MONOTONIC) - t0 >= seconds * 1e9)
				break;
		}
		busy += now_ns(CLOCK_MONOTONIC) - t0;
		if (!r)
			continue;
		ns_pp[r - 1] = (double)busy / (double)pkts;
		uint64_t drops = 0;
		for (unsigned d = 1; d < XGW_DROP__MAX; d++)
			drops += b.w->st.drops[d];
		if (!sc->restore_only && b.tx + (drops - drops0) != pkts)
			fprintf(stderr, "%s: %llu packets unaccounted\n", sc->name,
				(unsigned long long)(pkts - b.tx - (drops - drops0)));
		if (!sc->restore_only && drops != drops0) {
			for (unsigned d = 1; d < XGW_DROP__MAX; d++)
				if (b.w->st.drops[d])
					fprintf(stderr, "%s: drops %s: %llu\n", sc->name,
						xgw_drop_name(d),
						(unsigned long long)b.w->st.drops[d]);
		}
		if (count)
			fprintf(stderr, "%s: %llu packets measured\n", sc->name,
				(unsigned long long)pkts);
	}
	if (sc->routes && churn)
		bench_fib_churn_stop();
	qsort(ns_pp, runs, sizeof(double), cmp_dbl);
	double med = ns_pp[runs / 2];
	if (json)
		printf("{\"scenario\":\"%s\",\"mpps\":%.2f,\"ns_per_packet\":%.1f,"
		       "\"min_ns\":%.1f,\"max_ns\":%.1f,\"runs\":%u}\n",
		       sc->name, 1e3 / med, med, ns_pp[0], ns_pp[runs - 1], runs);
	else
		printf("%-16s %8.2f Mpps %8.1f ns/pkt  (runs %u, min %.1f, max %.1f ns)\n",
		       sc->name, 1e3 / med, med, runs, ns_pp[0], ns_pp[runs - 1]);
	fflush(stdout);
	free(b.tmpl);
	xgw_offline_close(b.o);
	xgw_config_free(&cfg);
	return 0;
}

/* --workers N: new flows from N threads at once, each its own offline
 * worker (id k, pinned to core + k) with its own flows, all creating in
 * worker 0's conntrack table, as xgwd's workers do.  A run is one pass of
 * NEW_FLOWS_PASS SYNs per worker, timed per worker; the table is flushed
 * between runs. */
struct mw_ctx {
	const struct scenario *sc;
	unsigned k, n, runs;
	int core;
	pthread_barrier_t *bar;
	struct xgw_ct_table *_Atomic *shared;
	double ns_pp[17];
	int err;
};

static void mw_wait(pthread_barrier_t *bar)
{
	/* Offline while waiting: the flush's rcu_barrier needs no grace
	 * period from a thread blocked here. */
	rcu_thread_offline();
	pthread_barrier_wait(bar);
	rcu_thread_online();
}

static void *mw_main(void *arg)
{
	struct mw_ctx *m = arg;
	struct xgw_offline_port ports[2] = {{.name = "client", .mac = {2, 0, 0, 0, 0, 0x10}},
					    {.name = "backend", .mac = {2, 0, 0, 0, 0, 0x11}}};
	struct bench b = {0};
	struct xgw_config cfg;
	char err[256];

	if (m->core >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET((unsigned)m->core + m->k, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	if (make_config(&cfg, m->sc))
		abort();
	xgw_offline_ifaddr_parse(&ports[0].addr4, "198.18.1.1/24");
	xgw_offline_ifaddr_parse(&ports[1].addr4, "198.18.2.1/24");
	b.o = xgw_offline_open(&cfg, ports, 2, 256, 0x5eed, err, sizeof(err));
	if (!b.o) {
		fprintf(stderr, "worker %u: %s\n", m->k, err);
		abort();
	}
	b.w = xgw_offline_worker(b.o);
	b.w->id = (int)m->k;
	if (m->k == 0)
		atomic_store(m->shared, b.w->dp->ct);
	mw_wait(m->bar);
	if (m->k) {
		xgw_ct_free(b.w->dp->ct);
		b.w->dp->ct = atomic_load(m->shared);
	}
	b.w->tx_hook = count_tx;
	b.w->hook_ctx = &b;
	b.w->umem.n_free = 0;
	b.n_tmpl = NEW_FLOWS_PASS;
	b.tmpl = aligned_alloc(64, (size_t)b.n_tmpl * 64);
	if (!b.tmpl)
		abort();
	for (uint32_t i = 0; i < b.n_tmpl; i++) /* worker k's own flows */
		build_frame(b.tmpl[i], i * m->n + m->k, XGW_PB_SYN, false);
	for (unsigned r = 0; r < m->runs + 1; r++) {
		mw_wait(m->bar);
		uint64_t t0 = now_ns(CLOCK_MONOTONIC);
		for (uint32_t i = 0; i < NEW_FLOWS_PASS; i += XGW_BURST_MAX)
			bench_burst(&b, true);
		uint64_t dt = now_ns(CLOCK_MONOTONIC) - t0;
		if (r)
			m->ns_pp[r - 1] = (double)dt / NEW_FLOWS_PASS;
		mw_wait(m->bar);
		if (m->k == 0) {
			xgw_ct_flush(b.w->dp->ct);
			xgw_ct_reclaim_wait();
		}
	}
	for (unsigned d = 1; d < XGW_DROP__MAX; d++)
		if (b.w->st.drops[d])
			fprintf(stderr, "worker %u drops %s: %llu\n", m->k, xgw_drop_name(d),
				(unsigned long long)b.w->st.drops[d]);
	mw_wait(m->bar);
	if (m->k)
		b.w->dp->ct = NULL; /* worker 0's, closed with it */
	free(b.tmpl);
	if (m->k)
		xgw_offline_close(b.o);
	mw_wait(m->bar);
	if (!m->k)
		xgw_offline_close(b.o);
	xgw_config_free(&cfg);
	return NULL;
}

static int run_workers(const struct scenario *sc, unsigned n, unsigned runs, int core, bool json)
{
	struct xgw_ct_table *_Atomic shared = NULL;
	struct mw_ctx m[16];
	pthread_t th[16];
	pthread_barrier_t bar;
	double tot = 0, worst = 0;

	if (!sc->new_flows || sc->policies || n < 1 || n > 4) {
		fprintf(stderr, "%s: --workers is for new-flows, up to 4\n", sc->name);
		return 1;
	}
	if (runs > 16)
		runs = 16;
	pthread_barrier_init(&bar, NULL, n);
	for (unsigned k = 0; k < n; k++) {
		m[k] = (struct mw_ctx){.sc = sc, .k = k, .n = n, .runs = runs, .core = core,
				       .bar = &bar, .shared = &shared};
		pthread_create(&th[k], NULL, mw_main, &m[k]);
	}
	for (unsigned k = 0; k < n; k++)
		pthread_join(th[k], NULL);
	pthread_barrier_destroy(&bar);
	for (unsigned k = 0; k < n; k++) {
		qsort(m[k].ns_pp, runs, sizeof(double), cmp_dbl);
		double med = m[k].ns_pp[runs / 2];
		tot += 1e3 / med;
		worst = med > worst ? med : worst;
		if (!json)
			printf("%-16s worker %u %8.2f Mpps %8.1f ns/pkt  (runs %u, min %.1f, max "
			       "%.1f ns)\n",
			       sc->name, k, 1e3 / med, med, runs, m[k].ns_pp[0],
			       m[k].ns_pp[runs - 1]);
	}
	if (json)
		printf("{\"scenario\":\"%s\",\"workers\":%u,\"mpps\":%.2f,"
		       "\"worst_ns_per_packet\":%.1f,\"runs\":%u}\n",
		       sc->name, n, tot, worst, runs);
	else
		printf("%-16s %u workers %8.2f Mpps together\n", sc->name, n, tot);
	fflush(stdout);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xgw-bench-pipeline [--core N] [--scenario NAME|all] [--runs N]\n"
		   "                          [--seconds S] [--count PACKETS] [--json]\n"
		   "                          [--workers N (new-flows: N threads, one table)]\n"
		   "                          [--churn N (fib-*: N route changes/s meanwhile)]\n"
		   "scenarios:");
	for (size_t i = 0; i < sizeof(SCENARIOS) / sizeof(SCENARIOS[0]); i++)
		fprintf(f, " %s", SCENARIOS[i].name);
	fprintf(f, "\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"core", required_argument, NULL, 'c'},    {"scenario", required_argument, NULL, 's'},
	    {"runs", required_argument, NULL, 'r'},    {"seconds", required_argument, NULL, 't'},
	    {"count", required_argument, NULL, 'n'},   {"json", no_argument, NULL, 'j'},
	    {"workers", required_argument, NULL, 'w'}, {"help", no_argument, NULL, 'h'},
	    {"churn", required_argument, NULL, 'C'},   {NULL, 0, NULL, 0}};
	const char *which = "all";
	unsigned runs = 5;
	double seconds = 1.0;
	uint64_t count = 0;
	int core = -1, c, rc = 0, found = 0;
	unsigned workers = 0; /* 0: no --workers, the one-thread loop */
	bool json = false;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': core = atoi(optarg); break;
		case 's': which = optarg; break;
		case 'r': runs = (unsigned)atoi(optarg); break;
		case 't': seconds = atof(optarg); break;
		case 'n': count = strtoull(optarg, NULL, 0); break;
		case 'j': json = true; break;
		case 'w': workers = (unsigned)atoi(optarg); break;
		case 'C':
			churn = (unsigned)atoi(optarg);
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!runs)
		runs = 1;
	if (core >= 0 && !workers) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(core, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "--core %d: %s\n", core, strerror(errno));
			return 1;
		}
	}
	for (size_t i = 0; i < sizeof(SCENARIOS) / sizeof(SCENARIOS[0]); i++)
		if (!strcmp(which, "all") || !strcmp(which, SCENARIOS[i].name)) {
			found = 1;
			rc |= workers ? run_workers(&SCENARIOS[i], workers, runs, core, json)
					  : run(&SCENARIOS[i], runs, seconds, count, json);
		}
	if (!found) {
		usage(stderr);
		return 2;
	}
	return rc;
}
