/* SPDX-License-Identifier: BSD-3-Clause */
/* The AF_XDP backend of the port layer (port.h): a queue is one AF_XDP
 * socket (xsk/xsk.h) on a kernel interface, behind the steering XDP
 * program that the data plane attaches to the port. */
#ifndef XGW_PORT_XSK_H
#define XGW_PORT_XSK_H

#include <stddef.h>
#include <stdint.h>

#include "port/port.h"
#include "xsk/xsk.h"

struct xgw_port_xsk_q {
	struct xgw_portq q; /* first: the worker's handle */
	struct xgw_xsk x;
};

/* What the kernel says about an interface: ifindex, MAC, MTU, NUMA node
 * (-1 where unknown).  0, or a negative errno with err set. */
int xgw_port_xsk_info(const char *port, const char *iface, int *ifindex, uint8_t mac[6],
		      uint32_t *mtu, int *numa_node, char *err, size_t errlen);

/* Bind a socket (xgw_xsk_open) and wrap it as a port queue; *out is
 * freed by its close op.  0 or a negative errno. */
int xgw_port_xsk_open(struct xgw_portq **out, struct xgw_umem *u, const char *ifname,
		      uint16_t queue, uint16_t port_id, const struct xgw_xsk_opts *o);

/* The socket behind q, or NULL if q is not an AF_XDP queue. */
struct xgw_xsk *xgw_port_xsk(struct xgw_portq *q);

#endif
