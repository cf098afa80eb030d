/* SPDX-License-Identifier: BSD-3-Clause */
#define XGW_LOG_COMP "umem"
#include "xsk/umem.h"

#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"

static int map_area(struct xgw_umem *u, bool hugepages)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;
	void *p = MAP_FAILED;

	if (hugepages) {
		p = mmap(NULL, u->size, PROT_READ | PROT_WRITE, flags | MAP_HUGETLB, -1, 0);
		if (p == MAP_FAILED)
			pr_warn("hugepages requested but not available (%s): using normal pages; "
				"reserve some in /proc/sys/vm/nr_hugepages",
				strerror(errno));
		else
			u->hugepages = true;
	}
	if (p == MAP_FAILED)
		p = mmap(NULL, u->size, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	u->area = p;
	return 0;
}

/* Bind the pages to the NIC's node before they are touched by the kernel. */
static void bind_numa(struct xgw_umem *u, int node)
{
	u->numa_node = -1;
	if (node < 0 || numa_available() < 0)
		return;
	numa_tonode_memory(u->area, u->size, node);
	u->numa_node = node;
}

int xgw_umem_layout(struct xgw_umem *u, uint32_t n_frames, uint32_t frame_size)
{
	memset(u, 0, sizeof(*u));
	if (!n_frames || (n_frames & (n_frames - 1)) || (frame_size != 2048 && frame_size != 4096))
		return -EINVAL;
	u->frame_size = frame_size;
	u->frame_shift = (uint32_t)__builtin_ctz(frame_size);
	u->n_frames = n_frames;
	u->size = (uint64_t)n_frames * frame_size;
	return 0;
}

int xgw_umem_fill_free(struct xgw_umem *u)
{
	u->free = malloc(sizeof(*u->free) * u->n_frames);
	if (!u->free)
		return -ENOMEM;
	/* Highest addresses at the bottom of the stack: low frames go first. */
	for (uint32_t i = 0; i < u->n_frames; i++)
		u->free[i] = (uint64_t)(u->n_frames - 1 - i) << u->frame_shift;
	u->n_free = u->n_frames;
	return 0;
}

int xgw_umem_create(struct xgw_umem *u, uint32_t n_frames, uint32_t frame_size, bool hugepages,
		    int numa_node, struct xsk_ring_prod *fq, struct xsk_ring_cons *cq)
{
	struct xsk_umem_config cfg = {
		.fill_size = XGW_RING_SIZE,
		.comp_size = XGW_RING_SIZE,
		.frame_size = frame_size,
		/* No extra headroom: the kernel already puts
		 * XDP_PACKET_HEADROOM (256 bytes) in front of every received
		 * frame, which takes tunnel encap's 64-byte outer header
		 * (tunnel/tunnel.h; it checks, tunnel_no_headroom). */
		.frame_headroom = 0,
		.flags = 0,
	};
	int err;

	err = xgw_umem_layout(u, n_frames, frame_size);
	if (err)
		return err;
	err = map_area(u, hugepages);
	if (err)
		return err;
	bind_numa(u, numa_node);
	err = xgw_umem_fill_free(u);
	if (err)
		goto err_unmap;
	err = xsk_umem__create(&u->xumem, u->area, u->size, fq, cq, &cfg);
	if (err)
		goto err_free;
	u->first_fq = fq;
	u->first_cq = cq;
	return 0;
err_free:
	free(u->free);
err_unmap:
	munmap(u->area, u->size);
	memset(u, 0, sizeof(*u));
	return err;
}

int xgw_umem_destroy(struct xgw_umem *u)
{
	int err;

	if (!u->area)
		return 0;
	err = xsk_umem__delete(u->xumem);
	if (err)
		return err;
	munmap(u->area, u->size);
	free(u->free);
	memset(u, 0, sizeof(*u));
	return 0;
}
