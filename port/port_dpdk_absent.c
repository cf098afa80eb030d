/* SPDX-License-Identifier: BSD-3-Clause */
/* port_dpdk.h in a build without DPDK (meson -Ddpdk=disabled, or auto
 * where libdpdk was not found): the config refuses "driver": "dpdk"
 * before any of this is reached; these say the same if it is. */
#include "port/port_dpdk.h"

#include <errno.h>
#include <stdio.h>

#define ABSENT "this xgw was built without DPDK (meson setup -Ddpdk=enabled, with libdpdk-dev)"

bool xgw_dpdk_available(void)
{
	return false;
}

int xgw_dpdk_init(const struct xgw_dpdk_cfg *c, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", ABSENT);
	return -ENOTSUP;
}

int xgw_dpdk_port_open(struct xgw_dpdk_port **out, const char *name, const char *device,
		       uint16_t n_queues, uint32_t mbufs, uint8_t mac[6], uint32_t *mtu,
		       int *numa_node, char *err, size_t errlen)
{
	snprintf(err, errlen, "port %s: %s", name, ABSENT);
	return -ENOTSUP;
}

int xgw_dpdk_port_start(struct xgw_dpdk_port *p, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", ABSENT);
	return -ENOTSUP;
}

void xgw_dpdk_port_close(struct xgw_dpdk_port *p)
{
}

int xgw_dpdk_queue_open(struct xgw_portq **out, struct xgw_dpdk_port *p, struct xgw_umem *u,
			uint16_t queue, uint16_t port_id)
{
	return -ENOTSUP;
}

json_t *xgw_dpdk_port_json(struct xgw_dpdk_port *p)
{
	return NULL;
}

int xgw_dpdk_thread_register(void)
{
	return -1;
}

void xgw_dpdk_thread_unregister(void)
{
}
