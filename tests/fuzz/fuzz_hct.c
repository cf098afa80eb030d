/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target for the relay of health checks through tunnels
 * (health/tun_path.h): the first byte picks the tunnel type (bit 0) and
 * the outer source among four (bits 1-2), the rest is the UDP payload as
 * it reaches the relay's socket.  An accepted answer must lie within the
 * payload and be an IPv4 packet of its stated length; the device side's
 * port lookup and the encap run on the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "health/tun_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static struct xgw_hct h;

/* Eight probes, on ports 65024-65031, to four remotes of both types. */
static void setup(void)
{
	xgw_hct_init(&h);
	h.local = 0x010312c6; /* 198.18.3.1 */
	for (unsigned i = 0; i < 8; i++) {
		struct xgw_hct_ep ep = {.remote = 0x000312c6 | (2 + (i & 3)) << 24,
					.vni = 42 + (i & 1),
					.type = i & 4 ? XGW_TUN_GENEVE : XGW_TUN_VXLAN};

		xgw_hct_use(&h, (uint16_t)(XGW_CHECK_PORT_MIN + i), &ep,
			    0x0a0412c6, /* 198.18.4.10 */
			    (uint16_t)(8080 + (i & 1)));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[2048];
	size_t off = 0, len = 0;
	uint8_t *pl;
	int r;

	if (!h.local)
		setup();
	if (size < 1 || size > 1 + 1500)
		return -1;
	pl = malloc(size - 1 ? size - 1 : 1); /* exact size: ASan sees a read past it */
	if (!pl)
		return 0;
	memcpy(pl, data + 1, size - 1);
	r = xgw_hct_decap(&h, data[0] & 1 ? XGW_TUN_GENEVE : XGW_TUN_VXLAN,
			  0x000312c6 | (uint32_t)(2 + (data[0] >> 1 & 3)) << 24, pl, size - 1, &off,
			  &len);
	check(r >= XGW_HCT_RECEIVED && r < XGW_HCT__MAX && r != XGW_HCT_IO_ERROR);
	if (r == XGW_HCT_RECEIVED) {
		check(off + len <= size - 1 && len >= 20);
		check(pl[off] >> 4 == 4 && (size_t)(pl[off + 2] << 8 | pl[off + 3]) == len);
	}
	if (xgw_hct_sport(pl, size - 1))
		check(size - 1 >= 24);
	len = xgw_hct_encap(out, sizeof(out), &h.probe[0].ep, (const uint8_t[6]){2, 0, 0, 0, 0, 1},
			    pl, size - 1);
	check(len == 8 + 14 + size - 1);
	free(pl);
	return 0;
}
