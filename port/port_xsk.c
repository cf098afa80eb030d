/* SPDX-License-Identifier: BSD-3-Clause */
#include "port/port_xsk.h"

#include <errno.h>
#include <jansson.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/iface.h"
#include "common/stat.h"

#define RD(x) XGW_STAT_READ(x)

static inline struct xgw_xsk *xq(struct xgw_portq *q)
{
	return &((struct xgw_port_xsk_q *)q)->x;
}

static inline const struct xgw_xsk *cxq(const struct xgw_portq *q)
{
	return &((const struct xgw_port_xsk_q *)q)->x;
}

/* The hot two are tail calls into xsk.c: one jump more than a direct
 * call, measured with the pipeline bench (bench/README.md). */
static uint32_t rx_burst(struct xgw_portq *q, struct xgw_pkt *pkts, uint32_t n)
{
	return xgw_rx_burst(xq(q), pkts, n);
}

static uint32_t tx_burst(struct xgw_portq *q, struct xgw_pkt *pkts, uint32_t n)
{
	return xgw_tx_burst(xq(q), pkts, n);
}

static void service(struct xgw_portq *q)
{
	struct xgw_xsk *x = xq(q);

	xgw_xsk_complete(x);
	xgw_xsk_flush(x);
	/* Frames freed by drops and completions go back to the kernel now,
	 * not only when this socket next receives. */
	if (xgw_xsk_fill_low(x))
		xgw_xsk_refill(x);
}

static int wait_fd(const struct xgw_portq *q)
{
	return cxq(q)->fd;
}

static bool must_poll(const struct xgw_portq *q)
{
	return xgw_xsk_busy_poll(cxq(q)) || xgw_xsk_tx_in_flight(cxq(q));
}

static void set_int(json_t *o, const char *k, uint64_t v)
{
	json_object_set_new(o, k, json_integer((json_int_t)v));
}

static void queue_json(const struct xgw_portq *q, json_t *o, bool stats)
{
	const struct xgw_xsk *x = cxq(q);
	struct xdp_statistics xs;
	socklen_t xl = sizeof(xs);

	if (!stats) {
		json_object_set_new(o, "mode", json_string(x->zerocopy ? "zerocopy" : "copy"));
		json_object_set_new(o, "need_wakeup", json_true());
		json_object_set_new(o, "busy_poll", json_boolean(x->busy_poll));
		return;
	}
	set_int(o, "rx_packets", RD(x->st.rx_packets));
	set_int(o, "rx_bytes", RD(x->st.rx_bytes));
	set_int(o, "tx_packets", RD(x->st.tx_packets));
	set_int(o, "tx_bytes", RD(x->st.tx_bytes));
	set_int(o, "tx_wakeups", RD(x->st.tx_wakeups));
	set_int(o, "tx_ring_full", RD(x->st.tx_ring_full));
	/* The kernel's own drops on this socket: RX ring full (the worker
	 * fell behind), fill ring empty. */
	if (!getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, &xs, &xl)) {
		set_int(o, "kernel_rx_dropped", xs.rx_dropped);
		set_int(o, "kernel_rx_ring_full", xs.rx_ring_full);
		set_int(o, "kernel_fill_ring_empty", xs.rx_fill_ring_empty_descs);
		set_int(o, "kernel_tx_invalid", xs.tx_invalid_descs);
	}
}

static void counters(const struct xgw_portq *q, struct xgw_portq_counters *c)
{
	const struct xgw_xsk *x = cxq(q);

	c->rx_packets = RD(x->st.rx_packets);
	c->tx_packets = RD(x->st.tx_packets);
	c->wakeups = RD(x->st.tx_wakeups) + RD(x->st.fill_wakeups);
	c->starved = RD(x->st.fill_starved);
	c->frames_rx = RD(x->fill_outstanding);
	c->frames_tx = RD(x->tx_outstanding);
}

static void close_q(struct xgw_portq *q)
{
	xgw_xsk_close(xq(q));
	free(q);
}

static const struct xgw_port_ops xsk_ops = {
    .driver = "af_xdp",
    .rx_burst = rx_burst,
    .tx_burst = tx_burst,
    .service = service,
    .wait_fd = wait_fd,
    .must_poll = must_poll,
    .queue_json = queue_json,
    .counters = counters,
    .close = close_q,
};

struct xgw_xsk *xgw_port_xsk(struct xgw_portq *q)
{
	return q && q->ops == &xsk_ops ? xq(q) : NULL;
}

int xgw_port_xsk_open(struct xgw_portq **out, struct xgw_umem *u, const char *ifname,
		      uint16_t queue, uint16_t port_id, const struct xgw_xsk_opts *o)
{
	struct xgw_port_xsk_q *pq;
	int rc;

	if (posix_memalign((void **)&pq, 64, sizeof(*pq)))
		return -ENOMEM;
	rc = xgw_xsk_open(&pq->x, u, ifname, queue, port_id, o);
	if (rc) {
		free(pq);
		return rc;
	}
	pq->q.ops = &xsk_ops;
	pq->q.port_id = port_id;
	pq->q.queue = queue;
	*out = &pq->q;
	return 0;
}

int xgw_port_xsk_info(const char *port, const char *iface, int *ifindex, uint8_t mac[6],
		      uint32_t *mtu, int *numa_node, char *err, size_t errlen)
{
	char path[128];
	FILE *f;
	int rc;

	*ifindex = (int)if_nametoindex(iface);
	if (!*ifindex) {
		snprintf(err, errlen, "port %s: interface %s: %s", port, iface, strerror(errno));
		return -ENODEV;
	}
	rc = xgw_iface_mac_mtu(iface, mac, mtu);
	if (rc) {
		snprintf(err, errlen, "port %s: %s: %s", port, iface, strerror(-rc));
		return rc;
	}
	*numa_node = -1;
	snprintf(path, sizeof(path), "/sys/class/net/%s/device/numa_node", iface);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%d", numa_node) != 1)
			*numa_node = -1;
		fclose(f);
	}
	return 0;
}
