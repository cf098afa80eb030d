/* SPDX-License-Identifier: BSD-3-Clause */
/* One AF_XDP socket = one (interface, queue), its four rings, and the
 * burst API the workers use.  The ring protocol (reserve/peek -> fill ->
 * submit/release) is libxdp's xsk.h; nothing else touches ring indexes. */
#ifndef XGW_XSK_H
#define XGW_XSK_H

#include <stdbool.h>
#include <stdint.h>

#include <xdp/xsk.h>

#include "common/pkt.h"
#include "xsk/umem.h"

enum xgw_zc_want { XGW_ZC_WANT_AUTO, XGW_ZC_WANT_ON, XGW_ZC_WANT_OFF };

struct xgw_xsk_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t tx_wakeups;   /* sendto() kicks */
	uint64_t fill_wakeups; /* recvfrom() kicks for the fill ring */
	uint64_t fill_starved; /* refills that found no free frame */
	uint64_t tx_ring_full; /* packets refused by a full TX ring (or tx_cap reached) */
};

struct xgw_xsk {
	/* Hot: touched every burst. */
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xsk_ring_prod *fq; /* own rings, or the UMEM's first pair */
	struct xsk_ring_cons *cq;
	struct xgw_umem *umem;
	uint32_t fill_outstanding; /* frames the kernel holds via fill/rx */
	uint32_t tx_outstanding;   /* frames on TX awaiting completion */
	uint32_t fill_target;      /* cap on fill_outstanding: a fair share of the UMEM */
	uint32_t tx_cap;	   /* cap on tx_outstanding: what a stuck peer can hold */
	uint16_t port_id;
	uint16_t queue;
	bool zerocopy;
	bool busy_poll;
	int fd;
	struct xgw_xsk_stats st;
	/* Cold. */
	struct xsk_ring_prod own_fq;
	struct xsk_ring_cons own_cq;
	struct xsk_socket *xsk;
	char ifname[16];
};

struct xgw_xsk_opts {
	enum xgw_zc_want zerocopy;
	bool busy_poll;
	uint32_t busy_poll_budget;
	/* Frames this socket may keep in its fill and RX rings (0: the ring
	 * size).  With several sockets on one UMEM, give each a share so
	 * that one idle port cannot hoard every frame. */
	uint32_t fill_target;
	/* Frames this socket may have on TX awaiting completion (0: the ring
	 * size).  A peer that stops draining keeps them all; the cap leaves
	 * the rest of the UMEM to the worker's other sockets and fill rings. */
	uint32_t tx_cap;
};

/* Bind a socket on ifname/queue over the shared UMEM.  The first socket of
 * a UMEM sets the mode for all of them (the kernel makes later sockets
 * inherit it): AUTO tries zero-copy and falls back to copy, ON fails
 * naming the interface and reason, OFF forces copy.  The fill ring is
 * filled before return. */
int xgw_xsk_open(struct xgw_xsk *x, struct xgw_umem *u, const char *ifname, uint16_t queue,
		 uint16_t port_id, const struct xgw_xsk_opts *o);
void xgw_xsk_close(struct xgw_xsk *x);

/* Receive up to n (<= XGW_BURST_MAX) packets into pkts (addr, data, len,
 * headroom, port, queue set; nothing parsed); refills the fill ring with
 * as many frames as were taken.  Returns the count. */
uint32_t xgw_rx_burst(struct xgw_xsk *x, struct xgw_pkt *pkts, uint32_t n);
/* Queue up to n packets for transmit and kick the kernel when it asks.
 * Returns how many were queued; the caller owns (frees) the rest. */
uint32_t xgw_tx_burst(struct xgw_xsk *x, struct xgw_pkt *pkts, uint32_t n);
/* Move completed TX frames back to the free list; returns the count. */
uint32_t xgw_xsk_complete(struct xgw_xsk *x);
/* Kick TX again if the kernel still holds unsent descriptors (copy mode
 * sends at most 32 per sendto). */
void xgw_xsk_flush(struct xgw_xsk *x);
/* Top up the fill ring from the free list. */
void xgw_xsk_refill(struct xgw_xsk *x);
/* Whether the kernel holds less than half the socket's fill share. */
static inline bool xgw_xsk_fill_low(const struct xgw_xsk *x)
{
	return x->fill_outstanding < x->fill_target / 2;
}
/* Whether frames sent on this socket await completion. */
static inline bool xgw_xsk_tx_in_flight(const struct xgw_xsk *x)
{
	return x->tx_outstanding != 0;
}
static inline bool xgw_xsk_busy_poll(const struct xgw_xsk *x)
{
	return x->busy_poll;
}
static inline int xgw_xsk_fd(const struct xgw_xsk *x)
{
	return x->fd;
}

#endif
