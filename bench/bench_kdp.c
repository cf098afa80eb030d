/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw-bench-kdp: the kernel datapath's per-packet cost without I/O, to set
 * next to xgw-bench-pipeline's: the XDP program run by BPF_PROG_RUN on
 * synthetic frames, in a network namespace of its own (root).
 *
 *   established-1k / established-45k: packets of established TCP flows
 *     (conntrack hit, state update, DNAT, TTL, the next hop cached in the
 *     conntrack entry, XDP_TX; no service lookup while its gen holds).
 *     BPF_PROG_RUN repeats a frame in place and the program rewrites it,
 *     so each flow's service has its VIP as its only backend: DNAT then
 *     writes the same address and port, and a TTL of 255 leaves room for
 *     XGW_REPEAT runs of the very same path.  Flows are taken in turn,
 *     XGW_REPEAT runs each, so caches are warmer than with the pipeline's
 *     interleaved flows.  The conntrack LRU holds 65536 connections (with
 *     the 20k of new-flows, 45k more fit), so 45k stands where the
 *     pipeline has 1m.
 *   new-flows: one run per new connection (repeat 1), so the kernel's
 *     timer around the run (~20-40 ns) is included.
 * Reported: ns/packet as the kernel measures it (duration / repeat), and
 * the Mpps that makes on one core.
 *
 * The program is also attached to a veth of its own that carries no
 * traffic (kp0, down; see hold_dispatcher), so that BPF_PROG_RUN finds it
 * in the kernel's XDP dispatcher already: a run with repeat > 1 otherwise
 * puts it in and takes it out again, each with synchronize_rcu, which
 * made a run of this bench ~12 minutes where the timed loop is seconds.
 * The timed path is the same either way (the dispatcher's direct call). */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "lb/conntrack.h"
#include "pipeline/kdp.h"
#include "pipeline/snapshot.h"
#include "steer.skel.h"
#include "tests/lib/pktbuild.h"

#define XGW_REPEAT 250

static int prog_fd, ifindex;
static int hold_ifindex; /* kp0 while the program is attached there */
static __u32 hold_flags; /* how (native, else generic) */

static int frame(uint8_t *buf, uint32_t src, uint16_t sport, uint8_t flags)
{
	struct xgw_pb b = {.src = xgw_pb_ip("198.18.1.2"),
			   .dst = xgw_pb_ip("198.18.100.1"),
			   .proto = IPPROTO_TCP,
			   .sport = sport,
			   .dport = 80,
			   .ttl = 255,
			   .tcp_flags = flags,
			   .pad_to = 60};

	b.src.w[0] = htonl(src);
	b.dst_mac[0] = 2;
	b.src_mac[0] = 2;
	return xgw_pb_build(&b, buf, 128);
}

/* Mean ns per run, over `repeat` runs of one frame; 0 on error. */
static double run(uint8_t *f, int len, unsigned repeat, unsigned *verdict)
{
	struct xdp_md ctx = {.data_end = (uint32_t)len, .ingress_ifindex = (uint32_t)ifindex};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (uint32_t)len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return 0;
	*verdict = o.retval;
	return o.duration;
}

/* Keep the program in the kernel's XDP dispatcher for the whole run:
 * BPF_PROG_RUN of an XDP program with repeat > 1 adds it to the dispatcher
 * before its loop and removes it after (net/bpf/test_run.c,
 * bpf_prog_change_xdp), and every change of the dispatcher's programs
 * rewrites its image under synchronize_rcu (~15 ms here, twice per call).
 * An attachment to a device, native or generic (dev_xdp_install adds every
 * program but an offloaded one), holds a reference in the dispatcher, so
 * the test run's add and remove only move its count.  The device is a
 * veth of its own, left down: no packet of the namespace reaches the
 * program there, so the counters stay the bench's alone.  Without it the
 * bench still runs, slowly, with the same figures. */
static void hold_dispatcher(void)
{
	static const __u32 modes[] = {XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE};
	int err = -1;

	if (system("ip link add kp0 type veth peer name kp1") == 0) {
		hold_ifindex = (int)if_nametoindex("kp0");
		for (unsigned i = 0; hold_ifindex && err && i < 2; i++) {
			hold_flags = XDP_FLAGS_UPDATE_IF_NOEXIST | modes[i];
			err = bpf_xdp_attach(hold_ifindex, prog_fd, hold_flags, NULL);
		}
	}
	if (!err)
		return;
	hold_ifindex = 0;
	fprintf(stderr,
		"xgw-bench-kdp: cannot attach the program to a device of its own (%d): every "
		"BPF_PROG_RUN will update the XDP dispatcher (synchronize_rcu); the figures are "
		"the same, the run takes minutes\n",
		err);
}

static void release_dispatcher(void)
{
	if (hold_ifindex)
		bpf_xdp_detach(hold_ifindex, hold_flags & ~XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	hold_ifindex = 0;
}

static int setup(struct steer_bpf **skel, struct xgw_kdp **kdp, struct xgw_config *cfg,
		 struct xgw_snapshot **snap, struct xgw_ct_table **ct)
{
	char err[256];
	int rc;

	if (unshare(CLONE_NEWNET) ||
	    system("ip link set lo up && ip link add kb0 type veth peer name kb1 && "
		   "ip link set kb0 up && ip link set kb1 up && "
		   "ip addr add 198.18.1.1/16 dev kb0 && "
		   "ip neigh add 198.18.100.1 lladdr 02:00:00:00:64:01 dev kb0 && "
		   "sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv4.conf.kb0.forwarding=1")) {
		fprintf(stderr, "xgw-bench-kdp: cannot set up a namespace (root needed)\n");
		return 77;
	}
	ifindex = (int)if_nametoindex("kb0");
	*skel = steer_bpf__open_and_load();
	if (!*skel)
		return 1;
	prog_fd = bpf_program__fd((*skel)->progs.xgw_steer);
	hold_dispatcher();
	*kdp = xgw_kdp_open((*skel)->obj, &ifindex, 1, &rc);
	xgw_config_defaults(cfg);
	cfg->services = calloc(1, sizeof(*cfg->services));
	cfg->services[0].backends = calloc(1, sizeof(struct xgw_backend_cfg));
	if (!*kdp || !cfg->services || !cfg->services[0].backends)
		return 1;
	cfg->n_services = 1;
	cfg->services[0].vip = xgw_pb_ip("198.18.100.1");
	cfg->services[0].port = 80;
	cfg->services[0].proto = IPPROTO_TCP;
	cfg->services[0].datapath = XGW_DP_KERNEL;
	cfg->services[0].n_backends = 1;
	cfg->services[0].backends[0].ip = cfg->services[0].vip; /* see the header */
	cfg->services[0].backends[0].port = 80;
	cfg->services[0].backends[0].weight = 1;
	*ct = xgw_ct_new(&cfg->conntrack);
	*snap = *ct ? xgw_snapshot_build(cfg, 1, 0x5eed, err, sizeof(err)) : NULL;
	/* Counter slots as xgwd gives them: every packet is counted per
	 * backend (kdp_be_ctr), as in production. */
	if (*snap) {
		(*snap)->svcs[0]->ctr = 1;
		(*snap)->svcs[0]->be[1].ctr = 1;
	}
	if (!*snap || xgw_kdp_sync(*kdp, cfg, *snap, *ct, err, sizeof(err))) {
		fprintf(stderr, "xgw-bench-kdp: %s\n", err);
		return 1;
	}
	return 0;
}

static void report(const char *name, double ns, unsigned long pkts, unsigned verdict)
{
	printf("%-16s %8.1f ns/packet %7.2f Mpps/core  (%lu packets, last verdict %s)\n", name, ns,
	       ns > 0 ? 1000.0 / ns : 0, pkts, verdict == XDP_TX ? "XDP_TX" : "other");
}

static int established(unsigned n_flows, const char *name)
{
	uint8_t f[128];
	unsigned verdict = 0;
	double sum = 0;
	int len;

	for (unsigned i = 0; i < n_flows; i++) { /* open them */
		len = frame(f, 0xc6120000u + 256 + i / 60000, (uint16_t)(1024 + i % 60000), 0x02);
		run(f, len, 1, &verdict);
	}
	for (unsigned i = 0; i < n_flows; i++) {
		len = frame(f, 0xc6120000u + 256 + i / 60000, (uint16_t)(1024 + i % 60000), 0x10);
		sum += run(f, len, XGW_REPEAT, &verdict);
	}
	report(name, sum / n_flows, (unsigned long)n_flows * XGW_REPEAT, verdict);
	return verdict == XDP_TX ? 0 : 1;
}

static int new_flows(unsigned n, const char *name)
{
	uint8_t f[128];
	unsigned verdict = 0;
	double sum = 0;

	for (unsigned i = 0; i < n; i++) {
		int len = frame(f, 0xc6130000u + i / 60000, (uint16_t)(1024 + i % 60000), 0x02);
		sum += run(f, len, 1, &verdict);
	}
	report(name, sum / n, n, verdict);
	return verdict == XDP_TX ? 0 : 1;
}

int main(void)
{
	struct steer_bpf *skel = NULL;
	struct xgw_kdp *kdp = NULL;
	struct xgw_config cfg;
	struct xgw_snapshot *snap = NULL;
	struct xgw_ct_table *ct = NULL;
	int rc;

	if (geteuid() != 0) {
		fprintf(stderr, "xgw-bench-kdp: needs root (BPF_PROG_RUN)\n");
		return 77;
	}
	memset(&cfg, 0, sizeof(cfg));
	rc = setup(&skel, &kdp, &cfg, &snap, &ct);
	if (!rc) {
		/* The program measured, by its size as the kernel runs it
		 * (what `bpftool prog dump xlated` lists), for before/after. */
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(prog_fd, &info, &len))
			printf("%-16s %8u BPF instructions (xlated), %u bytes jited\n", "program",
			       info.xlated_prog_len / 8, info.jited_prog_len);
	}
	if (!rc)
		/* New flows first, into an empty LRU (no evictions). */
		rc = new_flows(20000, "new-flows") | established(1000, "established-1k") |
		     established(45000, "established-45k");
	if (!rc) {
		/* What a stats read costs xgwd with the LRU this full: the walk
		 * that counts kernel services' live connections. */
		struct xgw_kdp_counts c;
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		xgw_kdp_ct_count(kdp, ct, 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		xgw_kdp_be_counts(kdp, 1, &c);
		printf(
		    "%-16s %8.1f ms (%llu live connections counted; conns %llu, %llu packets in)\n",
		    "ct-count",
		    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
		    (unsigned long long)c.active, (unsigned long long)c.conns,
		    (unsigned long long)c.pkts[0]);
	}
	release_dispatcher();
	xgw_kdp_close(kdp);
	steer_bpf__destroy(skel);
	xgw_snapshot_free(snap);
	xgw_ct_free(ct);
	xgw_config_free(&cfg);
	return rc;
}
