/* SPDX-License-Identifier: BSD-3-Clause */
/* A UMEM shared by every AF_XDP socket that one worker serves, so that
 * forwarding from one port to another hands a frame address from an RX
 * ring to a TX ring and never copies in user space.  Free frames are a
 * per-worker LIFO (hot in cache); address <-> index is a shift. */
#ifndef XGW_UMEM_H
#define XGW_UMEM_H

#include <stdbool.h>
#include <stdint.h>

#include <xdp/xsk.h>

struct xgw_umem {
	uint8_t *area;
	uint64_t size;
	uint32_t frame_size;
	uint32_t frame_shift;
	uint32_t n_frames;
	uint32_t n_free;
	uint64_t *free;       /* LIFO of frame base addresses */
	struct xsk_umem *xumem;
	bool hugepages;       /* the area is backed by hugepages */
	int numa_node;        /* -1: not bound */
	/* The fill/completion ring pair libxdp creates with the UMEM; it
	 * belongs to the first socket bound (xgw_xsk_open hands it over). */
	struct xsk_ring_prod *first_fq;
	struct xsk_ring_cons *first_cq;
	bool first_taken;
};

/* Ring sizes for every socket on this UMEM (powers of two). */
#define XGW_RING_SIZE 2048

/* n_frames a power of two, frame_size 2048 or 4096.  Memory is bound to
 * numa_node (>= 0) with libnuma; hugepages are tried when asked and the
 * fallback to normal pages is logged.  fq/cq: rings for the first socket. */
int xgw_umem_create(struct xgw_umem *u, uint32_t n_frames, uint32_t frame_size, bool hugepages,
		    int numa_node, struct xsk_ring_prod *fq, struct xsk_ring_cons *cq);
/* Fails with -EBUSY while sockets still use it. */
int xgw_umem_destroy(struct xgw_umem *u);
/* The two steps of xgw_umem_create that do not depend on AF_XDP, also used
 * by the offline data plane over plain memory: zero u and set its layout
 * (-EINVAL for sizes xgw_umem_create refuses), then, once the area exists,
 * the free stack with every frame (frame 0 on top). */
int xgw_umem_layout(struct xgw_umem *u, uint32_t n_frames, uint32_t frame_size);
int xgw_umem_fill_free(struct xgw_umem *u);

static inline uint64_t xgw_umem_frame_base(const struct xgw_umem *u, uint64_t addr)
{
	return addr & ~(uint64_t)(u->frame_size - 1);
}

static inline void *xgw_umem_ptr(const struct xgw_umem *u, uint64_t addr)
{
	return u->area + addr;
}

/* Take up to n frames; returns how many.  n_free is written by the owning
 * worker only; the relaxed stores let the control thread read it for
 * statistics without a data race. */
static inline uint32_t xgw_umem_alloc_bulk(struct xgw_umem *u, uint64_t *addrs, uint32_t n)
{
	uint32_t nf = u->n_free;

	if (n > nf)
		n = nf;
	nf -= n;
	for (uint32_t i = 0; i < n; i++)
		addrs[i] = u->free[nf + i];
	__atomic_store_n(&u->n_free, nf, __ATOMIC_RELAXED);
	return n;
}

static inline void xgw_umem_free(struct xgw_umem *u, uint64_t addr)
{
	/* Any address inside a frame identifies it (RX hands out base +
	 * headroom offset); store the base. */
	uint32_t nf = u->n_free;

	u->free[nf] = xgw_umem_frame_base(u, addr);
	__atomic_store_n(&u->n_free, nf + 1, __ATOMIC_RELAXED);
}

/* xgw_umem_free for the n addresses at idx.. of a completion ring, with one
 * store of the count, not one per frame (each a store the next frame's load
 * of n_free must wait for). */
static inline void xgw_umem_free_ring(struct xgw_umem *u, const struct xsk_ring_cons *cq,
				      uint32_t idx, uint32_t n)
{
	uint32_t nf = u->n_free;

	for (uint32_t i = 0; i < n; i++)
		u->free[nf + i] = xgw_umem_frame_base(u, *xsk_ring_cons__comp_addr(cq, idx + i));
	__atomic_store_n(&u->n_free, nf + n, __ATOMIC_RELAXED);
}

#endif
