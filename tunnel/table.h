/* SPDX-License-Identifier: BSD-3-Clause */
/* The tunnel endpoint table of a config (tunnel.h), built with each
 * service snapshot. */
#ifndef XGW_TUNNEL_TABLE_H
#define XGW_TUNNEL_TABLE_H

#include "common/config.h"
#include "tunnel/tunnel.h"

_Static_assert((int)XGW_TUN_VXLAN == (int)XGW_TUNK_VXLAN &&
		   (int)XGW_TUN_GENEVE == (int)XGW_TUNK_GENEVE,
	       "tunnel kinds match the config's types");

/* Does cfg have a backend behind a tunnel?  Kernel-datapath services'
 * count: what the XDP program hands on (steer-bpf/kern_tun.h) reaches the
 * workers, which then need those endpoints too. */
bool xgw_cfg_has_tunnels(const struct xgw_config *cfg);

/* NULL with err[0] == 0: the config has no tunnel backend;
 * NULL with err set: failure. */
struct xgw_tun_table *xgw_tun_table_build(const struct xgw_config *cfg, char *err, size_t errlen);

#endif
