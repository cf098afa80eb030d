/* SPDX-License-Identifier: BSD-3-Clause */
/* AF_XDP sink (--mode xsk): pktgen_sink.bpf.c redirects IP frames on IFACE
 * to one AF_XDP socket; the loop counts them, reads the stamp and feeds the sequence
 * window and the latency histogram, then gives the frames straight back to
 * the fill ring. */
#include <errno.h>
#include <linux/if_link.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench/pktgen.h"
#include "bench/pktgen_out.h"
#include "bench/pktgen_sink.skel.h"
#include "bench/pktgen_xsk_common.h"

#define SINK_BURST 64

struct sink {
	struct pg_xsk x;
	struct pktgen_sink_bpf *skel;
	uint32_t xdp_flags;
	struct pg_sink_result res;
	struct pg_seq seq;
	struct pg_hist lat;
	uint64_t first_ns, last_ns;
};

/* Native XDP first (veth has it), generic otherwise.  Never replaces a
 * program someone else attached.  Sets *flags and *mode to what it got. */
int pg_xdp_attach(const struct pg_opts *o, int fd, uint32_t *flags, const char **mode)
{
	int err;

	*flags = XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_DRV_MODE;
	err = bpf_xdp_attach((int)o->ifindex, fd, *flags, NULL);
	if (err == -EBUSY || err == -EEXIST) {
		fprintf(stderr, "xgw-pktgen: %s already has an XDP program\n", o->ifname);
		return err;
	}
	if (err) {
		*flags = XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_SKB_MODE;
		err = bpf_xdp_attach((int)o->ifindex, fd, *flags, NULL);
	}
	if (err) {
		fprintf(stderr, "xgw-pktgen: attaching XDP to %s: %s\n", o->ifname, strerror(-err));
		return err;
	}
	*mode = *flags & XDP_FLAGS_DRV_MODE ? "native" : "skb";
	return 0;
}

static int fill_all(struct pg_xsk *x)
{
	uint32_t idx;

	if (xsk_ring_prod__reserve(&x->fq, PG_XSK_RING, &idx) != PG_XSK_RING)
		return -ENOSPC;
	for (uint32_t i = 0; i < PG_XSK_RING; i++)
		*xsk_ring_prod__fill_addr(&x->fq, idx + i) = (uint64_t)i * PG_XSK_FRAME_SIZE;
	xsk_ring_prod__submit(&x->fq, PG_XSK_RING);
	return 0;
}

static void account(struct sink *s, const struct pg_opts *o, const uint8_t *f, uint32_t len,
		    uint64_t now)
{
	struct pg_rx_info ri;

	s->res.packets++;
	s->res.bytes += len;
	if (pg_rx_parse(f, len, o->verify, &ri) < 0 || !ri.stamped) {
		s->res.unstamped++;
		return;
	}
	if (ri.csum_bad)
		s->res.csum_errors++;
	pg_seq_add(&s->seq, ri.seq);
	pg_hist_add(&s->lat, now > ri.ts ? now - ri.ts : 0);
}

/* One burst: returns how many frames it took. */
static uint32_t rx_burst(struct sink *s, const struct pg_opts *o)
{
	uint32_t idx_rx, idx_fq, n = xsk_ring_cons__peek(&s->x.rx, SINK_BURST, &idx_rx);
	uint64_t now;

	if (!n)
		return 0;
	/* One clock read per burst: the time the frames became visible to
	 * user space; a clock read per packet would cost more than the
	 * accounting itself. */
	now = pg_now_ns();
	if (!s->first_ns)
		s->first_ns = now;
	s->last_ns = now;
	/* The fill ring has room for every frame the RX ring returns: both
	 * hold the same PG_XSK_RING frames between them. */
	while (xsk_ring_prod__reserve(&s->x.fq, n, &idx_fq) != n)
		;
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&s->x.rx, idx_rx + i);
		uint64_t addr = xsk_umem__extract_addr(d->addr);

		account(s, o, pg_xsk_frame(&s->x, xsk_umem__add_offset_to_addr(d->addr)), d->len,
			now);
		*xsk_ring_prod__fill_addr(&s->x.fq, idx_fq + i) = addr - addr % PG_XSK_FRAME_SIZE;
	}
	xsk_ring_prod__submit(&s->x.fq, n);
	xsk_ring_cons__release(&s->x.rx, n);
	return n;
}

static int sink_xsk(const struct pg_opts *o)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct pg_progress pr;
	uint64_t start, end;
	bool attached = false;
	int err;

	if (!s)
		return -ENOMEM;
	pg_seq_init(&s->seq);
	pg_hist_init(&s->lat);
	s->res.seq = &s->seq;
	s->res.lat = &s->lat;
	s->skel = pktgen_sink_bpf__open_and_load();
	if (!s->skel) {
		err = -errno;
		fprintf(stderr, "xgw-pktgen: loading the sink program: %s\n", strerror(-err));
		goto out;
	}
	err = pg_xsk_open(&s->x, o, true);
	if (err)
		goto out;
	s->res.xsk_bind = s->x.zerocopy ? "zerocopy" : "copy";
	err = fill_all(&s->x);
	if (!err)
		err = xsk_socket__update_xskmap(s->x.xsk, bpf_map__fd(s->skel->maps.pg_xsks));
	if (err) {
		fprintf(stderr, "xgw-pktgen: sink socket set-up: %s\n", strerror(-err));
		goto out;
	}
	err = pg_xdp_attach(o, bpf_program__fd(s->skel->progs.pktgen_sink), &s->xdp_flags,
			    &s->res.xdp_mode);
	if (err)
		goto out;
	attached = true;
	fprintf(stderr, "xgw-pktgen sink: ready on %s queue %u (%s XDP, %s AF_XDP)\n", o->ifname,
		o->queue, s->res.xdp_mode, s->res.xsk_bind);

	start = pg_now_ns();
	end = start + (uint64_t)(o->duration * 1e9);
	pg_progress_init(&pr, o, "sink", start);
	while (!pg_stop) {
		uint64_t now = pg_now_ns();

		/* --count is the stream's packets: stray frames do not count. */
		if (now >= end || (o->count && s->seq.received >= o->count))
			break;
		if (rx_burst(s, o))
			continue;
		pg_progress_tick(&pr, now, s->res.packets, o->pkt.size);
		/* Idle: sleep in poll() rather than spin, 10 ms at most so the
		 * bounds are checked.  poll() also kicks the fill ring when it
		 * needs a wake-up. */
		struct pollfd pfd = {.fd = s->x.fd, .events = POLLIN};
		poll(&pfd, 1, 10);
	}
	pg_progress_end(&pr);
	struct xdp_statistics st;
	if (pg_xsk_stats(&s->x, &st) == 0) {
		s->res.rx_dropped = st.rx_dropped + st.rx_ring_full;
		s->res.fill_empty = st.rx_fill_ring_empty_descs;
	}
	s->res.seconds = s->last_ns > s->first_ns ? (double)(s->last_ns - s->first_ns) / 1e9 : 0;
	pg_print_sink(o, &s->res);
out:
	if (attached)
		bpf_xdp_detach((int)o->ifindex, s->xdp_flags & ~XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	pg_xsk_close(&s->x);
	pktgen_sink_bpf__destroy(s->skel);
	free(s);
	return err;
}

int pg_sink(const struct pg_opts *o)
{
	return o->mode == PG_MODE_COUNT ? pg_sink_count(o) : sink_xsk(o);
}
