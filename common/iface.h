/* SPDX-License-Identifier: BSD-3-Clause */
/* A kernel interface's MAC address and MTU, by name (SIOCGIFHWADDR,
 * SIOCGIFMTU): the ports' (port/port_xsk.c) and the way of the health
 * checks through tunnels (health/tun_path.c). */
#ifndef XGW_IFACE_H
#define XGW_IFACE_H

#include <stdint.h>

/* 0 or -errno. */
int xgw_iface_mac_mtu(const char *name, uint8_t mac[6], uint32_t *mtu);

#endif
