/* SPDX-License-Identifier: BSD-3-Clause */
/* Ring and frame accounting of xsk/ without a kernel: the test plays the
 * kernel's side of the four rings over plain memory (the same layout the
 * kernel maps), forwards a million packets between two sockets sharing one
 * UMEM with random drops and a slow "NIC", then checks that every frame is
 * accounted for exactly once: free list + fill rings hold each frame once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xsk/umem.h"
#include "xsk/xsk.h"

#define FRAMES 1024
#define FSIZE 2048
#define RING 256

struct fake_ring {
	uint32_t producer, consumer, flags;
	uint64_t *addrs;        /* fill / completion */
	struct xdp_desc *descs; /* rx / tx */
};

static void init_prod(struct xsk_ring_prod *r, struct fake_ring *f, bool desc)
{
	memset(f, 0, sizeof(*f));
	if (desc)
		f->descs = calloc(RING, sizeof(*f->descs));
	else
		f->addrs = calloc(RING, sizeof(*f->addrs));
	r->cached_prod = 0;
	r->cached_cons = RING;
	r->mask = RING - 1;
	r->size = RING;
	r->producer = &f->producer;
	r->consumer = &f->consumer;
	r->ring = desc ? (void *)f->descs : (void *)f->addrs;
	r->flags = &f->flags;
}

static void init_cons(struct xsk_ring_cons *r, struct fake_ring *f, bool desc)
{
	memset(f, 0, sizeof(*f));
	if (desc)
		f->descs = calloc(RING, sizeof(*f->descs));
	else
		f->addrs = calloc(RING, sizeof(*f->addrs));
	r->cached_prod = 0;
	r->cached_cons = 0;
	r->mask = RING - 1;
	r->size = RING;
	r->producer = &f->producer;
	r->consumer = &f->consumer;
	r->ring = desc ? (void *)f->descs : (void *)f->addrs;
	r->flags = &f->flags;
}

static void free_ring(struct fake_ring *f)
{
	free(f->addrs);
	free(f->descs);
}

struct fake_sock {
	struct xgw_xsk x;
	struct fake_ring rx, tx, fq, cq;
};

static struct xgw_umem umem;
static struct fake_sock socks[2];

static void setup_sock(struct fake_sock *s, uint16_t port)
{
	memset(&s->x, 0, sizeof(s->x));
	s->x.umem = &umem;
	s->x.port_id = port;
	s->x.fd = -1; /* kicks fail harmlessly with EBADF */
	s->x.fq = &s->x.own_fq;
	s->x.cq = &s->x.own_cq;
	s->x.fill_target = FRAMES / 4;
	s->x.tx_cap = RING;
	init_cons(&s->x.rx, &s->rx, true);
	init_prod(&s->x.tx, &s->tx, true);
	init_prod(s->x.fq, &s->fq, false);
	init_cons(s->x.cq, &s->cq, false);
}

static int setup(void **state)
{
	memset(&umem, 0, sizeof(umem));
	umem.frame_size = FSIZE;
	umem.frame_shift = 11;
	umem.n_frames = FRAMES;
	umem.area = calloc(FRAMES, FSIZE);
	umem.free = calloc(FRAMES, sizeof(uint64_t));
	for (uint32_t i = 0; i < FRAMES; i++)
		umem.free[umem.n_free++] = (uint64_t)i * FSIZE;
	setup_sock(&socks[0], 0);
	setup_sock(&socks[1], 1);
	return 0;
}

static int teardown(void **state)
{
	for (int i = 0; i < 2; i++) {
		free_ring(&socks[i].rx);
		free_ring(&socks[i].tx);
		free_ring(&socks[i].fq);
		free_ring(&socks[i].cq);
	}
	free(umem.area);
	free(umem.free);
	return 0;
}

/* Kernel RX: move up to n frames from the fill ring to the RX ring. */
static uint32_t kernel_rx(struct fake_sock *s, uint32_t n, uint32_t *seq)
{
	uint32_t done = 0;

	while (done < n && s->fq.consumer != s->fq.producer &&
	       s->rx.producer - s->rx.consumer < RING) {
		uint64_t a = s->fq.addrs[s->fq.consumer++ & (RING - 1)];
		struct xdp_desc *d = &s->rx.descs[s->rx.producer & (RING - 1)];

		assert_int_equal(a % FSIZE, 0);
		d->addr = a + 256; /* XDP_PACKET_HEADROOM */
		d->len = 64 + (*seq % 1400);
		memcpy(umem.area + d->addr, seq, 4);
		(*seq)++;
		s->rx.producer++;
		done++;
	}
	return done;
}

/* Kernel TX: send up to n descriptors and complete them. */
static uint32_t kernel_tx(struct fake_sock *s, uint32_t n)
{
	uint32_t done = 0;

	while (done < n && s->tx.consumer != s->tx.producer &&
	       s->cq.producer - s->cq.consumer < RING) {
		struct xdp_desc *d = &s->tx.descs[s->tx.consumer++ & (RING - 1)];

		assert_true(d->len >= 64 && d->len < FSIZE);
		s->cq.addrs[s->cq.producer++ & (RING - 1)] = d->addr;
		done++;
	}
	return done;
}

static void test_million_packets_no_leak(void **state)
{
	struct xgw_pkt pkts[XGW_BURST_MAX];
	uint32_t seq = 0, next_seen = 0, forwarded = 0, dropped = 0;
	uint8_t *seen;

	srand(42);
	xgw_xsk_refill(&socks[0].x);
	xgw_xsk_refill(&socks[1].x);
	assert_int_equal(socks[0].x.fill_outstanding, FRAMES / 4);

	while (seq < 1000000) {
		kernel_rx(&socks[0], (uint32_t)(rand() % 80), &seq);
		uint32_t n = xgw_rx_burst(&socks[0].x, pkts, XGW_BURST_MAX);
		uint32_t keep = 0;

		for (uint32_t i = 0; i < n; i++) {
			uint32_t s;
			memcpy(&s, pkts[i].data, 4);
			assert_int_equal(s, next_seen); /* order and content */
			next_seen++;
			assert_int_equal(pkts[i].headroom, 256);
			if (rand() % 10 == 0) { /* a drop: the frame goes back */
				xgw_umem_free(&umem, pkts[i].addr);
				dropped++;
			} else {
				pkts[keep++] = pkts[i];
			}
		}
		uint32_t sent = xgw_tx_burst(&socks[1].x, pkts, keep);
		for (uint32_t i = sent; i < keep; i++)
			xgw_umem_free(&umem, pkts[i].addr);
		forwarded += sent;
		/* A slow NIC: sometimes it sends nothing this round. */
		kernel_tx(&socks[1], (uint32_t)(rand() % 100));
		xgw_xsk_complete(&socks[1].x);
		if (socks[0].x.fill_outstanding < socks[0].x.fill_target / 2)
			xgw_xsk_refill(&socks[0].x);
	}
	/* Drain: the kernel delivers what it holds, the NIC sends the rest. */
	for (int round = 0; round < 1000; round++) {
		uint32_t n = xgw_rx_burst(&socks[0].x, pkts, XGW_BURST_MAX);
		for (uint32_t i = 0; i < n; i++)
			xgw_umem_free(&umem, pkts[i].addr);
		kernel_tx(&socks[1], RING);
		xgw_xsk_complete(&socks[1].x);
	}
	assert_true(forwarded > 800000);
	assert_true(dropped > 50000);
	assert_int_equal(socks[1].x.tx_outstanding, 0);

	/* Every frame exactly once in: free list + both fill rings. */
	seen = calloc(FRAMES, 1);
	uint32_t total = 0;
	for (uint32_t i = 0; i < umem.n_free; i++, total++) {
		uint64_t idx = umem.free[i] / FSIZE;
		assert_true(idx < FRAMES);
		assert_int_equal(seen[idx], 0);
		seen[idx] = 1;
	}
	for (int k = 0; k < 2; k++) {
		struct fake_ring *f = &socks[k].fq;
		for (uint32_t c = f->consumer; c != f->producer; c++, total++) {
			uint64_t idx = f->addrs[c & (RING - 1)] / FSIZE;
			assert_int_equal(seen[idx], 0);
			seen[idx] = 1;
		}
		assert_int_equal(socks[k].x.fill_outstanding, f->producer - f->consumer);
	}
	assert_int_equal(total, FRAMES);
	assert_int_equal(umem.n_free + socks[0].x.fill_outstanding + socks[1].x.fill_outstanding +
				 socks[1].x.tx_outstanding,
			 FRAMES);
	free(seen);
	print_message("forwarded %u, dropped %u, rx %llu, tx wakeups %llu\n", forwarded, dropped,
		      (unsigned long long)socks[0].x.st.rx_packets,
		      (unsigned long long)socks[1].x.st.tx_wakeups);
}

static void test_tx_ring_full_returns_count(void **state)
{
	struct xgw_pkt pkts[XGW_BURST_MAX];
	uint32_t total = 0, n;

	/* Nobody consumes TX: the ring (256) fills, tx_burst says how many. */
	for (int i = 0; i < 10; i++) {
		uint64_t a[XGW_BURST_MAX];
		uint32_t got = xgw_umem_alloc_bulk(&umem, a, XGW_BURST_MAX);
		for (uint32_t k = 0; k < got; k++) {
			pkts[k].addr = a[k] + 256;
			pkts[k].len = 100;
		}
		n = xgw_tx_burst(&socks[1].x, pkts, got);
		for (uint32_t k = n; k < got; k++)
			xgw_umem_free(&umem, pkts[k].addr);
		total += n;
	}
	assert_int_equal(total, RING);
	assert_int_equal(socks[1].x.st.tx_ring_full, 10 * XGW_BURST_MAX - RING);
	assert_int_equal(umem.n_free + socks[1].x.tx_outstanding, FRAMES);
	kernel_tx(&socks[1], RING);
	assert_int_equal(xgw_xsk_complete(&socks[1].x), RING);
	assert_int_equal(umem.n_free, FRAMES);
}

static void test_fill_starvation_counted(void **state)
{
	uint64_t a[FRAMES];

	/* Take every frame: a refill finds none and says so. */
	assert_int_equal(xgw_umem_alloc_bulk(&umem, a, FRAMES), FRAMES);
	xgw_xsk_refill(&socks[0].x);
	assert_int_equal(socks[0].x.fill_outstanding, 0);
	assert_int_equal(socks[0].x.st.fill_starved, 1);
	for (uint32_t i = 0; i < FRAMES; i++)
		xgw_umem_free(&umem, a[i] + 17); /* any address inside the frame */
	xgw_xsk_refill(&socks[0].x);
	assert_int_equal(socks[0].x.fill_outstanding, FRAMES / 4);
	for (uint32_t c = socks[0].fq.consumer; c != socks[0].fq.producer; c++)
		assert_int_equal(socks[0].fq.addrs[c & (RING - 1)] % FSIZE, 0);
}

/* Every frame exactly once in: the free list, the fill rings, frames on
 * the RX rings not yet taken, frames on TX or completion rings; and the
 * sockets' own counts agree.  Returns socket 1's frames on TX or
 * completion rings (kernel-held). */
static uint32_t check_accounting(void)
{
	uint8_t *seen = calloc(FRAMES, 1);
	uint32_t total = 0, on_tx = 0;

	for (uint32_t i = 0; i < umem.n_free; i++, total++) {
		uint64_t idx = umem.free[i] / FSIZE;
		assert_int_equal(seen[idx], 0);
		seen[idx] = 1;
	}
	for (int k = 0; k < 2; k++) {
		struct fake_sock *s = &socks[k];
		uint32_t c, in_fill = 0, in_tx = 0;

		for (c = s->fq.consumer; c != s->fq.producer; c++, total++, in_fill++) {
			uint64_t idx = s->fq.addrs[c & (RING - 1)] / FSIZE;
			assert_int_equal(seen[idx], 0);
			seen[idx] = 1;
		}
		for (c = s->rx.consumer; c != s->rx.producer; c++, total++, in_fill++) {
			uint64_t idx = s->rx.descs[c & (RING - 1)].addr / FSIZE;
			assert_int_equal(seen[idx], 0);
			seen[idx] = 1;
		}
		for (c = s->tx.consumer; c != s->tx.producer; c++, total++, in_tx++) {
			uint64_t idx = s->tx.descs[c & (RING - 1)].addr / FSIZE;
			assert_int_equal(seen[idx], 0);
			seen[idx] = 1;
		}
		for (c = s->cq.consumer; c != s->cq.producer; c++, total++, in_tx++) {
			uint64_t idx = s->cq.addrs[c & (RING - 1)] / FSIZE;
			assert_int_equal(seen[idx], 0);
			seen[idx] = 1;
		}
		assert_int_equal(s->x.fill_outstanding, in_fill);
		assert_int_equal(s->x.tx_outstanding, in_tx);
		if (k == 1)
			on_tx = in_tx;
	}
	assert_int_equal(total, FRAMES);
	free(seen);
	return on_tx;
}

/* One round of a worker forwarding both ways between the two sockets:
 * receive on each, transmit on the other, free what does not fit (as the
 * worker does: counted in tx_ring_full).  Returns frames sent. */
static uint32_t forward_round(uint32_t *seq)
{
	struct xgw_pkt pkts[XGW_BURST_MAX];
	uint32_t sent_total = 0;

	for (int k = 0; k < 2; k++) {
		struct fake_sock *in = &socks[k], *out = &socks[!k];

		kernel_rx(in, XGW_BURST_MAX, seq);
		uint32_t n = xgw_rx_burst(&in->x, pkts, XGW_BURST_MAX);
		uint32_t sent = xgw_tx_burst(&out->x, pkts, n);

		for (uint32_t i = sent; i < n; i++)
			xgw_umem_free(&umem, pkts[i].addr);
		sent_total += sent;
		xgw_xsk_complete(&out->x);
		xgw_xsk_refill(&in->x);
	}
	return sent_total;
}

/* A peer that stops draining: socket 1's "NIC" takes nothing from its TX
 * ring for 10,000 rounds while traffic arrives on both ports.  Socket 1
 * holds at most tx_cap frames; the other direction (to socket 0) keeps
 * flowing at full rate, and both fill rings keep their share; no frame is
 * lost at any point.  When the peer drains again, every held frame comes
 * back and the fill rings are full again. */
static void test_stuck_peer_no_leak(void **state)
{
	uint32_t seq = 0, cap = FRAMES / 8, to0 = 0, tx0_before;

	socks[1].x.tx_cap = cap; /* less than the ring: the cap binds */
	xgw_xsk_refill(&socks[0].x);
	xgw_xsk_refill(&socks[1].x);
	for (int r = 0; r < 100; r++) { /* both ways flowing */
		forward_round(&seq);
		kernel_tx(&socks[0], RING);
		kernel_tx(&socks[1], RING);
	}
	check_accounting();
	tx0_before = (uint32_t)socks[0].x.st.tx_packets;
	uint64_t full_before = socks[1].x.st.tx_ring_full;
	for (int r = 0; r < 10000; r++) {
		forward_round(&seq);
		kernel_tx(&socks[0], RING); /* port 0 drains, port 1 is stuck */
		if (r % 1000 == 0)
			assert_true(check_accounting() <= cap + RING);
		assert_true(socks[1].x.tx_outstanding <= cap);
	}
	to0 = (uint32_t)socks[0].x.st.tx_packets - tx0_before;
	assert_int_equal(socks[1].x.tx_outstanding, cap);
	assert_int_equal(check_accounting(), cap);
	/* Full rate toward port 0 (64 per round), nothing refused there. */
	assert_int_equal(to0, 10000 * XGW_BURST_MAX);
	assert_int_equal(socks[0].x.st.tx_ring_full, 0);
	/* Toward port 1: the cap taken, everything after it refused and
	 * counted. */
	assert_int_equal(socks[1].x.st.tx_ring_full - full_before, 10000 * XGW_BURST_MAX - cap);
	assert_int_equal(socks[0].x.fill_outstanding, socks[0].x.fill_target);
	assert_int_equal(socks[1].x.fill_outstanding, socks[1].x.fill_target);
	assert_true(socks[0].x.st.fill_starved == 0);

	/* The peer drains again: everything comes back. */
	for (int r = 0; r < 100; r++) {
		kernel_tx(&socks[1], RING);
		kernel_tx(&socks[0], RING);
		xgw_xsk_complete(&socks[0].x);
		xgw_xsk_complete(&socks[1].x);
	}
	assert_int_equal(check_accounting(), 0);
	assert_int_equal(socks[0].x.fill_outstanding, socks[0].x.fill_target);
	assert_int_equal(socks[1].x.fill_outstanding, socks[1].x.fill_target);
	assert_int_equal(umem.n_free, FRAMES - 2 * (FRAMES / 4));
	/* And port 1 transmits again. */
	uint64_t tx1 = socks[1].x.st.tx_packets;
	forward_round(&seq);
	assert_int_equal(socks[1].x.st.tx_packets - tx1, XGW_BURST_MAX);
	print_message(
	    "stuck peer: %u frames held of %u, %u forwarded the other way, %llu refused\n", cap,
	    FRAMES, to0, (unsigned long long)(socks[1].x.st.tx_ring_full - full_before));
}

/* Without the cap (tx_cap = the ring), a UMEM no larger than a TX ring
 * would be taken whole by one stuck peer: the cap is what keeps the other
 * port alive.  Here the ring (256) is a quarter of the UMEM, so the stuck
 * socket holds 256 frames and the rest still flows. */
static void test_stuck_peer_ring_bound(void **state)
{
	uint32_t seq = 0;

	xgw_xsk_refill(&socks[0].x);
	xgw_xsk_refill(&socks[1].x);
	for (int r = 0; r < 1000; r++) {
		forward_round(&seq);
		kernel_tx(&socks[0], RING);
	}
	assert_int_equal(socks[1].x.tx_outstanding, RING);
	assert_int_equal(check_accounting(), RING);
	assert_int_equal(socks[0].x.fill_outstanding, socks[0].x.fill_target);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_million_packets_no_leak, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_ring_full_returns_count, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fill_starvation_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stuck_peer_no_leak, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stuck_peer_ring_bound, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
