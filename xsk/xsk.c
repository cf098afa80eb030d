/* SPDX-License-Identifier: BSD-3-Clause */
#define XGW_LOG_COMP "xsk"
#include "xsk/xsk.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/stat.h"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

static int bind_once(struct xgw_xsk *x, const char *ifname, uint16_t queue, bool zc)
{
	struct xsk_socket_config cfg = {
		.rx_size = XGW_RING_SIZE,
		.tx_size = XGW_RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_USE_NEED_WAKEUP | (zc ? XDP_ZEROCOPY : XDP_COPY),
	};

	return xsk_socket__create_shared(&x->xsk, ifname, queue, x->umem->xumem, &x->rx, &x->tx,
					 x->fq, x->cq, &cfg);
}

static int bind_socket(struct xgw_xsk *x, const char *ifname, uint16_t queue, bool zc)
{
	int err;

	/* A queue whose previous socket was just closed (a restart after a
	 * crash) reports EBUSY for about a second while the kernel releases
	 * it: retry for up to 3 s before giving up. */
	for (int i = 0; i < 30; i++) {
		err = bind_once(x, ifname, queue, zc);
		if (err != -EBUSY)
			break;
		if (i == 0)
			pr_info("%s queue %u: busy, retrying", ifname, queue);
		usleep(100000);
	}
	return err;
}

static int set_busy_poll(struct xgw_xsk *x, uint32_t budget)
{
	int one = 1, usecs = 20, b = (int)(budget ? budget : 64);

	if (setsockopt(x->fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) ||
	    setsockopt(x->fd, SOL_SOCKET, SO_BUSY_POLL, &usecs, sizeof(usecs)) ||
	    setsockopt(x->fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &b, sizeof(b)))
		return -errno;
	return 0;
}

int xgw_xsk_open(struct xgw_xsk *x, struct xgw_umem *u, const char *ifname, uint16_t queue,
		 uint16_t port_id, const struct xgw_xsk_opts *o)
{
	uint32_t fill_target = o->fill_target;
	bool first = !u->first_taken;
	int err;

	memset(x, 0, sizeof(*x));
	x->fill_target = fill_target;
	x->tx_cap = o->tx_cap && o->tx_cap < XGW_RING_SIZE ? o->tx_cap : XGW_RING_SIZE;
	x->umem = u;
	x->port_id = port_id;
	x->queue = queue;
	snprintf(x->ifname, sizeof(x->ifname), "%s", ifname);
	if (first) {
		x->fq = u->first_fq;
		x->cq = u->first_cq;
	} else {
		x->fq = &x->own_fq;
		x->cq = &x->own_cq;
	}

	if (!first) {
		/* The kernel takes the first socket's mode for sockets that
		 * share its UMEM; bind flags are not allowed here. */
		err = bind_socket(x, ifname, queue, false);
	} else if (o->zerocopy == XGW_ZC_WANT_OFF) {
		err = bind_socket(x, ifname, queue, false);
	} else {
		err = bind_socket(x, ifname, queue, true);
		x->zerocopy = !err;
		if (err && o->zerocopy == XGW_ZC_WANT_ON) {
			pr_err("%s queue %u: zero-copy requested (\"zerocopy\": \"on\") but the "
			       "driver refused it: %s%s",
			       ifname, queue, strerror(-err),
			       err == -EOPNOTSUPP ? " (no XSK zero-copy support, e.g. veth)" : "");
			return err;
		}
		if (err) {
			pr_info("%s queue %u: zero-copy not available (%s): copy mode", ifname,
				queue, strerror(-err));
			err = bind_socket(x, ifname, queue, false);
		}
	}
	if (err) {
		pr_err("%s queue %u: cannot bind AF_XDP socket: %s", ifname, queue,
		       strerror(-err));
		return err;
	}
	if (first) {
		u->first_taken = true;
	} else {
		struct xdp_options opts;
		socklen_t ol = sizeof(opts);

		/* Report what the kernel actually gave this socket. */
		x->zerocopy = false;
		if (!getsockopt(xsk_socket__fd(x->xsk), SOL_XDP, XDP_OPTIONS, &opts, &ol))
			x->zerocopy = opts.flags & XDP_OPTIONS_ZEROCOPY;
	}
	x->fd = xsk_socket__fd(x->xsk);
	if (o->busy_poll) {
		err = set_busy_poll(x, o->busy_poll_budget);
		if (err)
			pr_warn("%s queue %u: busy poll not enabled: %s", ifname, queue,
				strerror(-err));
		else
			x->busy_poll = true;
	}
	if (!x->fill_target)
		x->fill_target = XGW_RING_SIZE;
	pr_info("%s queue %u: AF_XDP socket bound, %s mode%s", ifname, queue,
		x->zerocopy ? "zero-copy" : "copy", x->busy_poll ? ", busy poll" : "");
	xgw_xsk_refill(x);
	return 0;
}

void xgw_xsk_close(struct xgw_xsk *x)
{
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	x->xsk = NULL;
}

static uint32_t fill_want(struct xgw_xsk *x)
{
	uint32_t room = xsk_prod_nb_free(x->fq, XGW_BURST_MAX);
	uint32_t share = x->fill_target > x->fill_outstanding
				 ? x->fill_target - x->fill_outstanding
				 : 0;

	if (room > share)
		room = share;
	return room > XGW_BURST_MAX ? XGW_BURST_MAX : room;
}

void xgw_xsk_refill(struct xgw_xsk *x)
{
	struct xgw_umem *u = x->umem;
	uint32_t want, idx, got;
	uint64_t addrs[XGW_BURST_MAX];

	/* Keep the fill ring as full as the ring allows; batched so each
	 * producer update covers many frames. */
	while ((want = fill_want(x)) != 0) {
		got = xgw_umem_alloc_bulk(u, addrs, want);
		if (!got) {
			XGW_STAT_ADD(x->st.fill_starved, 1);
			break;
		}
		if (xsk_ring_prod__reserve(x->fq, got, &idx) != got) {
			for (uint32_t i = 0; i < got; i++)
				xgw_umem_free(u, addrs[i]);
			break;
		}
		for (uint32_t i = 0; i < got; i++)
			*xsk_ring_prod__fill_addr(x->fq, idx + i) = addrs[i];
		xsk_ring_prod__submit(x->fq, got);
		XGW_STAT_ADD(x->fill_outstanding, got);
		if (got < want)
			break;
	}
	if (xsk_ring_prod__needs_wakeup(x->fq)) {
		/* Zero-copy drivers stop refilling the NIC until told. */
		XGW_STAT_ADD(x->st.fill_wakeups, 1);
		recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	}
}

uint32_t xgw_rx_burst(struct xgw_xsk *x, struct xgw_pkt *pkts, uint32_t n)
{
	struct xgw_umem *u = x->umem;
	uint32_t idx, got;
	uint64_t bytes = 0;

	if (n > XGW_BURST_MAX)
		n = XGW_BURST_MAX;
	got = xsk_ring_cons__peek(&x->rx, n, &idx);
	if (!got) {
		if (x->busy_poll || xsk_ring_prod__needs_wakeup(x->fq))
			recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		return 0;
	}
	for (uint32_t i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		struct xgw_pkt *p = &pkts[i];

		p->addr = d->addr;
		p->data = xgw_umem_ptr(u, d->addr);
		p->len = d->len;
		p->headroom = (uint16_t)(d->addr - xgw_umem_frame_base(u, d->addr));
		p->port = x->port_id;
		p->queue = x->queue;
		bytes += d->len;
	}
	xsk_ring_cons__release(&x->rx, got);
	XGW_STAT_ADD(x->st.rx_bytes, bytes);
	XGW_STAT_ADD(x->st.rx_packets, got);
	XGW_STAT_SUB(x->fill_outstanding, got);
	xgw_xsk_refill(x);
	return got;
}

uint32_t xgw_xsk_complete(struct xgw_xsk *x)
{
	uint32_t idx, n;

	if (!x->tx_outstanding)
		return 0;
	n = xsk_ring_cons__peek(x->cq, XGW_RING_SIZE, &idx);
	xgw_umem_free_ring(x->umem, x->cq, idx, n);
	if (n) {
		xsk_ring_cons__release(x->cq, n);
		XGW_STAT_SUB(x->tx_outstanding, n);
	}
	return n;
}

static void kick_tx(struct xgw_xsk *x)
{
	XGW_STAT_ADD(x->st.tx_wakeups, 1);
	/* EAGAIN/EBUSY/ENOBUFS mean "try again later": the descriptors stay
	 * on the ring and the next kick sends them. */
	sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
}

/* Descriptors still on the TX ring, not yet taken by the kernel. */
static uint32_t tx_pending(struct xgw_xsk *x)
{
	return x->tx.size - xsk_prod_nb_free(&x->tx, x->tx.size);
}

void xgw_xsk_flush(struct xgw_xsk *x)
{
	/* Copy mode transmits at most 32 frames per sendto; loop a bounded
	 * number of times so one burst leaves in this poll round. */
	for (int i = 0; i < 4 && tx_pending(x); i++) {
		if (!xsk_ring_prod__needs_wakeup(&x->tx))
			break;
		kick_tx(x);
	}
}

uint32_t xgw_tx_burst(struct xgw_xsk *x, struct xgw_pkt *pkts, uint32_t n)
{
	uint64_t bytes = 0;
	uint32_t idx, got;

	xgw_xsk_complete(x);
	/* libxdp reserves all n or nothing: ask for what fits, so that a
	 * nearly full ring sends part of the burst instead of none.  What is
	 * in flight stays within tx_cap: frames the kernel has not completed
	 * (a peer that stopped draining) are lost to every other socket of
	 * the UMEM until it does. */
	got = xsk_prod_nb_free(&x->tx, n);
	if (got > n)
		got = n;
	if (got > x->tx_cap - x->tx_outstanding)
		got = x->tx_cap - x->tx_outstanding;
	got = got ? xsk_ring_prod__reserve(&x->tx, got, &idx) : 0;
	for (uint32_t i = 0; i < got; i++) {
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&x->tx, idx + i);

		d->addr = pkts[i].addr;
		d->len = pkts[i].len;
		d->options = 0;
		bytes += pkts[i].len;
	}
	if (got) {
		xsk_ring_prod__submit(&x->tx, got);
		XGW_STAT_ADD(x->tx_outstanding, got);
		XGW_STAT_ADD(x->st.tx_packets, got);
		XGW_STAT_ADD(x->st.tx_bytes, bytes);
		xgw_xsk_flush(x);
	}
	XGW_STAT_ADD(x->st.tx_ring_full, n - got);
	return got;
}
