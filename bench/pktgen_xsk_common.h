/* SPDX-License-Identifier: BSD-3-Clause */
/* The AF_XDP socket set-up shared by the pktgen transmitter and sink: one
 * UMEM, one socket, bound zero-copy or copy as asked.  Deliberately
 * separate from xsk/: the tool must measure a path that does not depend
 * on the gateway's own port code. */
#ifndef XGW_PKTGEN_XSK_COMMON_H
#define XGW_PKTGEN_XSK_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include <xdp/xsk.h>

#include "bench/pktgen.h"

/* Deep rings: on a shared machine the sink can be descheduled for tens of
 * milliseconds (measured: a 2048-frame ring dropped packets of a 100 kpps
 * stream under load 7 on 2 cores). */
#define PG_XSK_FRAMES	  16384
#define PG_XSK_FRAME_SIZE 2048
#define PG_XSK_RING	  8192

struct pg_xsk {
	void *buf;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
	int fd;
	bool zerocopy;
};

/* Open with an RX ring (sink) or a TX ring (transmitter).  No XDP program
 * is loaded: the sink attaches its own.  0 or negative errno, with the
 * reason printed. */
int pg_xsk_open(struct pg_xsk *x, const struct pg_opts *o, bool rx);
void pg_xsk_close(struct pg_xsk *x);
/* The kernel's drop counters for this socket (XDP_STATISTICS). */
int pg_xsk_stats(struct pg_xsk *x, struct xdp_statistics *st);

static inline uint8_t *pg_xsk_frame(struct pg_xsk *x, uint64_t addr)
{
	return xsk_umem__get_data(x->buf, addr);
}

#endif
