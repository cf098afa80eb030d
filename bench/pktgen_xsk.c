/* SPDX-License-Identifier: BSD-3-Clause */
/* AF_XDP transmitter: every UMEM frame holds the template; each packet
 * takes a free frame, rewrites it with pg_fill() (the same code the
 * live-frames program runs), and goes on the TX ring.  The kernel is
 * kicked only when the ring asks (need_wakeup); in copy mode it always
 * does, and one sendto() sends at most 32 frames, hence the batch. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "bench/pktgen.h"
#include "bench/pktgen_xsk_common.h"

#define XSK_BATCH_COPY 32
#define XSK_BATCH_ZC   64

struct xtx {
	struct pg_xsk x;
	struct pg_fill_cfg cfg;
	uint32_t size;
	uint64_t seq;
	uint64_t outstanding, completed, kicks;
	uint32_t nfree;
	uint64_t free_addr[PG_XSK_FRAMES]; /* LIFO: the warmest frame first */
};

static void reap(struct xtx *t)
{
	uint32_t idx, n = xsk_ring_cons__peek(&t->x.cq, PG_XSK_RING, &idx);

	for (uint32_t i = 0; i < n; i++)
		t->free_addr[t->nfree++] = *xsk_ring_cons__comp_addr(&t->x.cq, idx + i);
	xsk_ring_cons__release(&t->x.cq, n);
	t->outstanding -= n;
	t->completed += n;
}

static int kick(struct xtx *t)
{
	t->kicks++;
	if (sendto(t->x.fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0)
		return 0;
	/* Busy or out of buffers: the frames stay on the ring for later. */
	if (errno == EAGAIN || errno == EBUSY || errno == ENOBUFS || errno == EINTR)
		return 0;
	return -errno;
}

static int xtx_send(void *ctx, uint32_t n, uint32_t *sent)
{
	struct xtx *t = ctx;
	uint32_t idx, got;
	uint64_t ts;

	reap(t);
	if (n > t->nfree)
		n = t->nfree;
	got = xsk_ring_prod__reserve(&t->x.tx, n, &idx);
	ts = pg_now_ns();
	for (uint32_t i = 0; i < got; i++) {
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&t->x.tx, idx + i);
		uint64_t addr = t->free_addr[--t->nfree];
		uint8_t *f = pg_xsk_frame(&t->x, addr);

		/* One clock read per batch: its frames leave in one sendto(). */
		pg_fill(f, f + t->size, &t->cfg, t->seq++, ts);
		d->addr = addr;
		d->len = t->size;
	}
	xsk_ring_prod__submit(&t->x.tx, got);
	t->outstanding += got;
	*sent = got;
	if (xsk_ring_prod__needs_wakeup(&t->x.tx) || !got)
		return kick(t);
	return 0;
}

static void xtx_drain(void *ctx)
{
	struct xtx *t = ctx;
	uint64_t end = pg_now_ns() + 1000000000ull;

	while (t->outstanding && pg_now_ns() < end) {
		if (kick(t))
			break;
		reap(t);
	}
}

int pg_tx_xsk(const struct pg_opts *o, struct pg_tx_result *r)
{
	static struct xtx t; /* 32 KiB of free list: not on the stack */
	struct pg_txer tx = {.ctx = &t, .send = xtx_send, .drain = xtx_drain};
	uint8_t frame[PG_SIZE_MAX];
	char why[128];
	int err;

	memset(&t, 0, sizeof(t));
	err = pg_tpl_build(&o->pkt, &t.cfg, frame, why, sizeof(why));
	if (err) {
		fprintf(stderr, "xgw-pktgen: %s\n", why);
		return err;
	}
	t.size = o->pkt.size;
	err = pg_xsk_open(&t.x, o, false);
	if (err)
		return err;
	for (uint32_t i = 0; i < PG_XSK_FRAMES; i++) {
		uint64_t addr = (uint64_t)i * PG_XSK_FRAME_SIZE;

		memcpy(pg_xsk_frame(&t.x, addr), frame, t.size);
		t.free_addr[t.nfree++] = addr;
	}
	tx.batch = t.x.zerocopy ? XSK_BATCH_ZC : XSK_BATCH_COPY;
	r->mode = "xsk";
	r->xsk_bind = t.x.zerocopy ? "zerocopy" : "copy";
	err = pg_tx_run(o, &tx, r);
	/* Count what the kernel completed, not what was queued. */
	r->packets = t.completed;
	r->wakeups = t.kicks;
	if (err)
		fprintf(stderr, "xgw-pktgen: AF_XDP transmit: %s\n", strerror(-err));
	if (t.outstanding)
		fprintf(stderr, "xgw-pktgen: %llu frames still queued at exit\n",
			(unsigned long long)t.outstanding);
	pg_xsk_close(&t.x);
	return err;
}
