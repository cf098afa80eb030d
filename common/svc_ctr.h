/* SPDX-License-Identifier: BSD-3-Clause */
/* The counters of a service and its backends as numbers: filled by the
 * data plane (pipeline/svc_stats.c), written out by the control socket's
 * service.list and backend.list (ctl/proto_svc.c). */
#ifndef XGW_SVC_CTR_H
#define XGW_SVC_CTR_H

#include <stdbool.h>
#include <stdint.h>

#include "common/drop.h"

/* One service's or backend's counters (service.list, backend.list), as
 * the data plane sums them (pipeline/svc_stats.h). */
struct xgw_ctl_ctr {
	uint64_t pkts_in, bytes_in, pkts_out, bytes_out, conns_new, conns_active;
	uint64_t drops; /* a backend's; a service's: drops_total */
};

/* A service's counters and its backends', zeroed by the caller, filled by
 * the svc_counters hook.  be is the caller's, one per backend of the
 * config's service, in its order; be_found[i] says whether backend i is
 * counted. */
struct xgw_ctl_svc_ctr {
	bool found;  /* the data plane counts this service */
	bool kernel; /* served by the kernel datapath now */
	struct xgw_ctl_ctr tot;
	uint64_t drops[XGW_DROP__MAX]; /* the service's own, by reason */
	struct xgw_ctl_ctr *be;
	bool *be_found;
};

#endif
