/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef XGW_BPF_LOG_H
#define XGW_BPF_LOG_H

/* Route libbpf's and libxdp's messages through xgw_log (libbpf_set_print,
 * libxdp_set_print); call once, first thing in main. */
void xgw_bpf_log_init(void);

#endif
