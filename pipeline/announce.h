/* SPDX-License-Identifier: BSD-3-Clause */
/* VIP announcement through a BGP speaker's kernel table (announce.c). */
#ifndef XGW_ANNOUNCE_H
#define XGW_ANNOUNCE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"

/* rtm_protocol of xgw's routes (unassigned in iproute2's rt_protos), so
 * that a restarted xgwd finds and replaces its predecessor's. */
#define XGW_ANNOUNCE_RTPROT 252

struct xgw_announce;

/* Open on routing table `table`, removing routes an earlier xgwd left. */
int xgw_announce_open(struct xgw_announce **a, uint32_t table);
/* Make the table hold exactly the VIPs cfg serves (a service with a
 * backend of weight > 0); nothing after a withdraw.  NULL a: no-op. */
int xgw_announce_sync(struct xgw_announce *a, const struct xgw_config *cfg);
/* Withdraw every VIP, for good (drain, stop). */
void xgw_announce_withdraw(struct xgw_announce *a);
void xgw_announce_close(struct xgw_announce *a);

#endif
