/* SPDX-License-Identifier: BSD-3-Clause */
/* Live-frames transmitter: BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES
 * runs pktgen_tx.bpf.c `repeat` times on the template; each run rewrites
 * the frame and returns XDP_TX, which the kernel turns into a transmit on
 * ctx.ingress_ifindex (batched, flushed every batch_size frames).  No
 * socket, no copy from user space: the technique of xdp-trafficgen. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "bench/pktgen.h"
#include "bench/pktgen_rate.h"
#include "bench/pktgen_tx.skel.h"

/* Runs per BPF_PROG_RUN at full speed: ~7 ms at 9 Mpps, so the bounds and
 * the progress line are checked often while the syscall cost vanishes. */
#define LIVE_BATCH (1u << 16)
/* Runs per call when paced: most runs then only look at the clock
 * (~20-40 ns), so a call lasts some tens of milliseconds. */
#define LIVE_PACED_RUNS (1u << 20)

struct live {
	struct pktgen_tx_bpf *skel;
	int prog_fd;
	uint8_t frame[PG_SIZE_MAX];
	uint32_t size;
	struct xdp_md md;
	uint64_t calls;
};

static int live_run(struct live *l, int prog_fd, uint32_t n)
{
	LIBBPF_OPTS(bpf_test_run_opts, ro, .data_in = l->frame, .data_size_in = l->size,
		    .ctx_in = &l->md, .ctx_size_in = sizeof(l->md), .repeat = n,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

	l->calls++;
	return bpf_prog_test_run_opts(prog_fd, &ro) ? -errno : 0;
}

static int live_send(void *ctx, uint32_t n, uint32_t *sent)
{
	struct live *l = ctx;
	uint64_t before = l->skel->bss->pg_seq;
	int err = live_run(l, l->prog_fd, n);

	/* The program counts what it handed to XDP_TX, even in a run cut
	 * short by a signal. */
	*sent = (uint32_t)(l->skel->bss->pg_seq - before);
	return err;
}

int pg_tx_live(const struct pg_opts *o, struct pg_tx_result *r)
{
	struct pg_txer t = {.send = live_send, .batch = LIVE_BATCH};
	struct pg_fill_cfg cfg;
	struct live l;
	char why[128];
	int err;

	memset(&l, 0, sizeof(l));
	err = pg_tpl_build(&o->pkt, &cfg, l.frame, why, sizeof(why));
	if (err) {
		fprintf(stderr, "xgw-pktgen: %s\n", why);
		return err;
	}
	l.size = o->pkt.size;
	l.md.data_end = l.size;
	l.md.ingress_ifindex = o->ifindex;
	l.md.rx_queue_index = o->queue;

	l.skel = pktgen_tx_bpf__open();
	if (!l.skel)
		return -errno;
	memcpy((void *)&l.skel->rodata->cfg, &cfg, sizeof(cfg));
	err = pktgen_tx_bpf__load(l.skel);
	if (err) {
		fprintf(stderr, "xgw-pktgen: loading the live-frames program: %s\n",
			strerror(-err));
		goto out;
	}
	l.prog_fd = bpf_program__fd(l.skel->progs.pktgen_tx);
	err = live_run(&l, bpf_program__fd(l.skel->progs.pktgen_probe), 1);
	/* EPERM: the kernel has live frames but refuses them to us (seen
	 * on a kernel under lockdown, as root, where other test runs work):
	 * as unavailable as a kernel without them. */
	if (err == -EINVAL || err == -EOPNOTSUPP || err == -EPERM) {
		fprintf(stderr, "xgw-pktgen: live frames not supported here (%s)\n",
			strerror(-err));
		err = -EOPNOTSUPP;
		goto out;
	}
	if (err) {
		fprintf(stderr, "xgw-pktgen: BPF_PROG_RUN on %s: %s\n", o->ifname, strerror(-err));
		goto out;
	}
	l.calls = 0;
	t.ctx = &l;
	if (o->count)
		l.skel->data->pg_limit = o->count;
	if (o->rate) {
		/* The default 10 ms burst also covers the gap between two
		 * calls (the dispatcher re-patch, see pktgen_tx.bpf.c). */
		pg_tb_init(&l.skel->bss->pg_tb, o->rate, 0, pg_now_ns());
		t.paced = true;
		t.batch = LIVE_PACED_RUNS;
	}
	r->mode = "live";
	err = pg_tx_run(o, &t, r);
	r->wakeups = l.calls;
	/* Time from the first to the last packet, as stamped by the program:
	 * a paced call that reached --count idles to its end, and that idle
	 * time is no part of the rate. */
	if (r->packets > 1 && l.skel->bss->pg_last_ns > l.skel->bss->pg_first_ns)
		r->seconds = (double)(l.skel->bss->pg_last_ns - l.skel->bss->pg_first_ns) / 1e9 *
			     (double)r->packets / (double)(r->packets - 1);
	if (err)
		fprintf(stderr, "xgw-pktgen: BPF_PROG_RUN: %s\n", strerror(-err));
out:
	pktgen_tx_bpf__destroy(l.skel);
	return err;
}
