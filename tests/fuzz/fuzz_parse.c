/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target for xgw_parse: any byte string is a frame.  The input is
 * copied into an exact-size heap buffer so that ASan sees a read one byte
 * past p->len, and every accepted frame must describe itself within len. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/drop.h"
#include "common/pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xgw_pkt p;
	uint8_t *buf;
	int ret;

	if (size > UINT16_MAX)
		return -1; /* beyond any frame; keeps offsets in 16 bits */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	memset(&p, 0, sizeof(p));
	p.data = buf;
	p.len = (uint32_t)size;

	ret = xgw_parse(&p);
	check(ret >= 0 && ret < XGW_DROP__MAX);
	if (ret == XGW_DROP_NONE) {
		uint32_t ip_end = (uint32_t)p.l3_off + p.l3_len;

		check(p.l3_off >= 14 && p.l3_off <= p.l4_off);
		check(p.l4_off <= p.payload_off);
		check(p.payload_off <= ip_end && ip_end <= size);
		check(p.n_vlans <= XGW_MAX_VLANS);
		check(!!(p.flags & XGW_PKT_IPV4) != !!(p.flags & XGW_PKT_IPV6));
		if (p.flags & XGW_PKT_FRAG_LATER)
			check(!(p.flags & XGW_PKT_L4) && p.sport == 0 && p.dport == 0);
		if (p.flags & XGW_PKT_L4)
			check(p.payload_off > p.l4_off);
	}
	free(buf);
	return 0;
}
