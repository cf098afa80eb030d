/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <linux/if_xdp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "bench/pktgen_xsk_common.h"

/* A queue whose previous socket was just closed (the run before, in
 * xgw-bench) answers EBUSY until the kernel has released it, about a
 * second here: retry for up to 3 s, 50 ms apart. */
#define BUSY_RETRIES 60

static int bind_once(struct pg_xsk *x, const struct pg_opts *o, bool rx, uint16_t mode)
{
	struct xsk_socket_config sc = {
	    .rx_size = PG_XSK_RING,
	    .tx_size = PG_XSK_RING,
	    .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
	    .bind_flags = XDP_USE_NEED_WAKEUP | mode,
	};
	int err;

	for (int i = 0;; i++) {
		err = xsk_socket__create(&x->xsk, o->ifname, o->queue, x->umem, rx ? &x->rx : NULL,
					 rx ? NULL : &x->tx, &sc);
		if (err != -EBUSY || i == BUSY_RETRIES)
			return err;
		pg_wait_until(pg_now_ns() + 50 * 1000 * 1000);
	}
}

int pg_xsk_open(struct pg_xsk *x, const struct pg_opts *o, bool rx)
{
	struct xsk_umem_config uc = {
	    .fill_size = PG_XSK_RING,
	    .comp_size = PG_XSK_RING,
	    .frame_size = PG_XSK_FRAME_SIZE,
	    .frame_headroom = 0,
	};
	size_t len = (size_t)PG_XSK_FRAMES * PG_XSK_FRAME_SIZE;
	struct xdp_options xo;
	socklen_t ol = sizeof(xo);
	int err = -EINVAL;

	memset(x, 0, sizeof(*x));
	x->buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->buf == MAP_FAILED) {
		x->buf = NULL;
		return -errno;
	}
	err = xsk_umem__create(&x->umem, x->buf, len, &x->fq, &x->cq, &uc);
	if (err) {
		fprintf(stderr, "xgw-pktgen: UMEM: %s\n", strerror(-err));
		goto fail;
	}
	if (o->zerocopy != PG_ZC_OFF) {
		err = bind_once(x, o, rx, XDP_ZEROCOPY);
		if (err && o->zerocopy == PG_ZC_ON) {
			fprintf(stderr, "xgw-pktgen: %s queue %u: no zero-copy AF_XDP: %s\n",
				o->ifname, o->queue, strerror(-err));
			goto fail;
		}
	}
	if (o->zerocopy == PG_ZC_OFF || err) {
		err = bind_once(x, o, rx, XDP_COPY);
		if (err) {
			fprintf(stderr, "xgw-pktgen: AF_XDP on %s queue %u: %s\n", o->ifname,
				o->queue, strerror(-err));
			goto fail;
		}
	}
	x->fd = xsk_socket__fd(x->xsk);
	/* Ask the kernel what it gave rather than trusting the request. */
	if (getsockopt(x->fd, SOL_XDP, XDP_OPTIONS, &xo, &ol) == 0)
		x->zerocopy = xo.flags & XDP_OPTIONS_ZEROCOPY;
	return 0;
fail:
	pg_xsk_close(x);
	return err;
}

void pg_xsk_close(struct pg_xsk *x)
{
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->buf)
		munmap(x->buf, (size_t)PG_XSK_FRAMES * PG_XSK_FRAME_SIZE);
	memset(x, 0, sizeof(*x));
}

int pg_xsk_stats(struct pg_xsk *x, struct xdp_statistics *st)
{
	socklen_t len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	return getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, st, &len) ? -errno : 0;
}
