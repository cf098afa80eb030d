/* SPDX-License-Identifier: BSD-3-Clause */
/* The DPDK port backend (port/port_dpdk.c) on DPDK's net_ring vdev, whose
 * transmit ring is its receive ring: frames sent through a queue come
 * back through it, so one port checks both copies (frame -> mbuf ->
 * frame), the frame accounting of the worker's frame area, the counters
 * of the queue and the PMD's rte_eth_stats and xstats.  Skipped only in
 * a build without DPDK. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "port/port_dpdk.h"
#include "xsk/umem.h"

#define N_FRAMES 256
#define HEADROOM 256

static const uint32_t LENS[] = {60, 64, 128, 333, 1000, 1514, 1792, 61, 1400, 90};
#define N (sizeof(LENS) / sizeof(LENS[0]))

static void umem_plain(struct xgw_umem *u)
{
	assert_int_equal(xgw_umem_layout(u, N_FRAMES, 2048), 0);
	u->numa_node = -1;
	u->area = aligned_alloc(4096, u->size);
	assert_non_null(u->area);
	assert_int_equal(xgw_umem_fill_free(u), 0);
}

static int64_t jint(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	if (!json_is_integer(v))
		fail_msg("no integer \"%s\"", k);
	return json_integer_value(v);
}

static void test_ring_loopback(void **state)
{
	struct xgw_dpdk_cfg dc = {.n_eal_args = 4, .mbufs = 2048};
	struct xgw_dpdk_port *p = NULL;
	struct xgw_portq *q = NULL;
	struct xgw_pkt out[N], in[XGW_BURST_MAX];
	struct xgw_portq_counters c;
	struct xgw_umem u;
	uint8_t mac[6];
	uint32_t mtu = 0;
	int node;
	char err[256];
	json_t *j;

	if (!xgw_dpdk_available()) {
		print_message("skipped: this build has no DPDK (meson -Ddpdk=enabled)\n");
		skip();
	}
	strcpy(dc.eal_args[0], "--no-huge");
	strcpy(dc.eal_args[1], "-m");
	strcpy(dc.eal_args[2], "128");
	strcpy(dc.eal_args[3], "--no-pci");
	if (xgw_dpdk_init(&dc, err, sizeof(err)))
		fail_msg("EAL: %s", err);
	/* The EAL starts once: other arguments are refused by name. */
	dc.n_eal_args = 3;
	assert_int_not_equal(xgw_dpdk_init(&dc, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "eal_args"));
	dc.n_eal_args = 4;
	/* A device nobody provides is refused naming the port and device. */
	assert_int_not_equal(xgw_dpdk_port_open(&p, "bad", "net_nosuch0", 1, 2048, mac, &mtu, &node,
						err, sizeof(err)),
			     0);
	assert_non_null(strstr(err, "net_nosuch0"));
	if (xgw_dpdk_port_open(&p, "loop", "net_ring0", 1, 2048, mac, &mtu, &node, err,
			       sizeof(err)))
		fail_msg("net_ring0: %s", err);
	assert_true(mtu >= 1500);
	if (xgw_dpdk_port_start(p, err, sizeof(err)))
		fail_msg("start: %s", err);
	umem_plain(&u);
	assert_int_equal(xgw_dpdk_queue_open(&q, p, &u, 1, 3), -EINVAL); /* one queue pair */
	assert_int_equal(xgw_dpdk_queue_open(&q, p, &u, 0, 3), 0);
	assert_string_equal(q->ops->driver, "dpdk");

	/* Transmit N frames of the area, each filled with its own pattern:
	 * sent frames go back to the free list at once (copied out). */
	for (unsigned i = 0; i < N; i++) {
		uint64_t base = 0;

		assert_int_equal(xgw_umem_alloc_bulk(&u, &base, 1), 1);
		out[i] = (struct xgw_pkt){.addr = base + HEADROOM, .len = LENS[i]};
		out[i].data = xgw_umem_ptr(&u, out[i].addr);
		for (uint32_t b = 0; b < LENS[i]; b++)
			out[i].data[b] = (uint8_t)(i * 31 + b);
	}
	assert_int_equal(u.n_free, N_FRAMES - N);
	assert_int_equal(q->ops->tx_burst(q, out, N), N);
	assert_int_equal(u.n_free, N_FRAMES);

	/* ... and come back through the ring, copied into fresh frames. */
	assert_int_equal(q->ops->rx_burst(q, in, XGW_BURST_MAX), N);
	assert_int_equal(u.n_free, N_FRAMES - N);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(in[i].len, LENS[i]);
		assert_int_equal(in[i].headroom, HEADROOM);
		assert_int_equal(in[i].port, 3);
		assert_int_equal(in[i].queue, 0);
		assert_ptr_equal(in[i].data, xgw_umem_ptr(&u, in[i].addr));
		assert_int_equal(in[i].addr - xgw_umem_frame_base(&u, in[i].addr), HEADROOM);
		for (uint32_t b = 0; b < LENS[i]; b++)
			if (in[i].data[b] != (uint8_t)(i * 31 + b))
				fail_msg("frame %u byte %u: 0x%02x", i, b, in[i].data[b]);
	}
	assert_int_equal(q->ops->rx_burst(q, in, XGW_BURST_MAX), 0);

	q->ops->counters(q, &c);
	assert_int_equal(c.rx_packets, N);
	assert_int_equal(c.tx_packets, N);
	assert_int_equal(c.starved, 0);
	j = xgw_dpdk_port_json(p);
	assert_non_null(j);
	assert_int_equal(jint(j, "ipackets"), N);
	assert_int_equal(jint(j, "opackets"), N);
	assert_true(json_is_object(json_object_get(j, "xstats")));
	assert_int_equal(jint(json_object_get(j, "xstats"), "rx_good_packets"), N);
	json_decref(j);
	j = json_object();
	q->ops->queue_json(q, j, true);
	assert_int_equal(jint(j, "rx_bytes"), jint(j, "tx_bytes"));
	json_decref(j);

	/* No free frame: what arrives is dropped and counted, not leaked. */
	uint32_t keep = u.n_free;
	assert_int_equal(q->ops->tx_burst(q, in, N), N);
	assert_int_equal(u.n_free, keep + N);
	u.n_free = 0;
	assert_int_equal(q->ops->rx_burst(q, in, XGW_BURST_MAX), 0);
	q->ops->counters(q, &c);
	assert_int_equal(c.starved, N);
	assert_int_equal(q->ops->rx_burst(q, in, XGW_BURST_MAX), 0);

	q->ops->close(q);
	xgw_dpdk_port_close(p);
	free(u.area);
	free(u.free);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ring_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
