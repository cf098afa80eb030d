/* SPDX-License-Identifier: BSD-3-Clause */
#include "port/port_mem.h"

#include <jansson.h>

static uint32_t rx_burst(struct xgw_portq *q, struct xgw_pkt *pkts, uint32_t n)
{
	return 0; /* the offline driver pushes frames itself */
}

static uint32_t tx_burst(struct xgw_portq *q, struct xgw_pkt *pkts, uint32_t n)
{
	struct xgw_port_mem_q *m = (struct xgw_port_mem_q *)q;
	uint32_t sent = m->fn(m->ctx, q->port_id, pkts, n);

	m->tx_packets += sent;
	return sent;
}

static int wait_fd(const struct xgw_portq *q)
{
	return -1;
}

static bool must_poll(const struct xgw_portq *q)
{
	return false;
}

static void queue_json(const struct xgw_portq *q, json_t *o, bool stats)
{
	const struct xgw_port_mem_q *m = (const struct xgw_port_mem_q *)q;

	if (stats)
		json_object_set_new(o, "tx_packets", json_integer((json_int_t)m->tx_packets));
	else
		json_object_set_new(o, "mode", json_string("memory"));
}

static void counters(const struct xgw_portq *q, struct xgw_portq_counters *c)
{
	*c = (struct xgw_portq_counters){.tx_packets =
					     ((const struct xgw_port_mem_q *)q)->tx_packets};
}

static void close_q(struct xgw_portq *q)
{
}

static const struct xgw_port_ops mem_ops = {
    .driver = "mem",
    .rx_burst = rx_burst,
    .tx_burst = tx_burst,
    .wait_fd = wait_fd,
    .must_poll = must_poll,
    .queue_json = queue_json,
    .counters = counters,
    .close = close_q,
};

void xgw_port_mem_init(struct xgw_port_mem_q *q, uint16_t port_id, xgw_mem_tx_fn fn, void *ctx)
{
	q->q.ops = &mem_ops;
	q->q.port_id = port_id;
	q->q.queue = 0;
	q->fn = fn;
	q->ctx = ctx;
	q->tx_packets = 0;
}
