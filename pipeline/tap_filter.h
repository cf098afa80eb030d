/* SPDX-License-Identifier: BSD-3-Clause */
/* A compiled tcpdump filter (opaque: see tap_filter.c). */
#ifndef XGW_TAP_FILTER_H
#define XGW_TAP_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* NULL with err filled: a bad expression, or no libpcap in this build. */
void *xgw_tap_filter_compile(const char *expr, char *err, size_t errlen);
/* Whether the Ethernet frame matches. */
bool xgw_tap_filter_match(const void *prog, const uint8_t *frame, uint32_t len);
void xgw_tap_filter_free(void *prog);

#endif
