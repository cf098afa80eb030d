/* SPDX-License-Identifier: BSD-3-Clause */
/* The trace's text, shared by the workers' records (tap.c) and the kernel
 * datapath's (tap_kdp.c), so that both read alike: a bounded buffer
 * appended to, and a frame parsed on its own copy. */
#ifndef XGW_TAP_TEXT_H
#define XGW_TAP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/pkt.h"

struct text {
	char *b;
	size_t len, cap;
};

/* A frame copied and parsed on its own (the pipeline's descriptor is not
 * touched). */
struct view {
	uint8_t buf[4096];
	struct xgw_pkt p;
	int rc;
	struct xgw_addr src, dst;
};

__attribute__((format(printf, 2, 3))) void tap_put(struct text *t, const char *fmt, ...);
void tap_view(struct view *v, const uint8_t *data, uint32_t len);
bool tap_has_ports(const struct view *v);
void tap_put_ep(struct text *t, const struct xgw_addr *a, uint16_t port_be, bool ports);
void tap_put_flow(struct text *t, const struct view *v);
void tap_put_mac(struct text *t, const uint8_t *m);

#endif
