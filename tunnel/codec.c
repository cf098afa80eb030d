/* SPDX-License-Identifier: BSD-3-Clause */
#include "tunnel/tunnel.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/csum.h"
#include "common/drop.h"

#define VXLAN_FLAG_I	0x08
#define GENEVE_FLAG_O	0x80
#define GENEVE_FLAG_C	0x40
#define GENEVE_OPT_CRIT 0x80 /* high bit of the option type */

void xgw_tun_ep_init(struct xgw_tun_ep *ep, uint8_t type, uint32_t local, uint32_t remote,
		     uint16_t dport, uint32_t vni, const uint8_t *inner_mac)
{
	uint8_t *h = ep->tmpl, *ip = h + 14, *udp = ip + 20, *th = udp + 8, *ieth = th + 8;
	uint16_t et = htons(0x0800), ph = htons(XGW_GENEVE_PROTO_ETH);

	memset(ep, 0, sizeof(*ep));
	ep->type = type;
	ep->vni = vni;
	xgw_addr_v4(&ep->remote, remote);
	memcpy(h + 12, &et, 2);
	ip[0] = 0x45;
	ip[6] = 0x40; /* DF: never fragment the outer packet */
	ip[8] = 64;   /* TTL */
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &local, 4);
	memcpy(ip + 16, &remote, 4);
	ep->ip_sum = xgw_csum_fold(xgw_csum_partial(ip, 20, 0));
	memcpy(udp + 2, &dport, 2);
	/* udp[6..7]: checksum 0 (RFC 7348 5, RFC 8926 3.3 over IPv4) */
	if (type == XGW_TUNK_VXLAN) {
		th[0] = VXLAN_FLAG_I;
	} else {
		th[0] = 0; /* version 0, no options */
		memcpy(th + 2, &ph, 2);
	}
	th[4] = (uint8_t)(vni >> 16);
	th[5] = (uint8_t)(vni >> 8);
	th[6] = (uint8_t)vni;
	if (inner_mac) {
		memcpy(ieth, inner_mac, 6);
		ep->has_mac = true;
	}
	memcpy(ieth + 12, &et, 2);
}

int xgw_vxlan_check(const uint8_t *h, uint32_t len, uint32_t *vni, uint32_t *hlen)
{
	if (len < XGW_TUN_HDR_LEN + 14)
		return XGW_DROP_TUNNEL_TRUNC;
	/* RFC 7348 5: the I flag must be set; the other bits are reserved,
	 * ignored on receipt. */
	if (!(h[0] & VXLAN_FLAG_I))
		return XGW_DROP_TUNNEL_FLAGS;
	*vni = (uint32_t)h[4] << 16 | (uint32_t)h[5] << 8 | h[6];
	*hlen = XGW_TUN_HDR_LEN;
	return 0;
}

int xgw_geneve_check(const uint8_t *h, uint32_t len, uint32_t *vni, uint32_t *hlen)
{
	uint32_t opt_len, off;

	if (len < XGW_TUN_HDR_LEN)
		return XGW_DROP_TUNNEL_TRUNC;
	if (h[0] >> 6)
		return XGW_DROP_GENEVE_VERSION; /* RFC 8926 3.4: only version 0 */
	if (h[2] != XGW_GENEVE_PROTO_ETH >> 8 || h[3] != (XGW_GENEVE_PROTO_ETH & 0xff))
		return XGW_DROP_TUNNEL_PROTO;
	/* OAM frames are for a control plane, which xgw does not have. */
	if (h[1] & GENEVE_FLAG_O)
		return XGW_DROP_TUNNEL_FLAGS;
	opt_len = (uint32_t)(h[0] & 0x3f) * 4;
	if (XGW_TUN_HDR_LEN + opt_len > len)
		return XGW_DROP_GENEVE_OPT_LEN;
	/* C: critical options are present.  xgw knows no option, so it cannot
	 * process any critical one (RFC 8926 3.5.1): drop. */
	if (h[1] & GENEVE_FLAG_C)
		return XGW_DROP_GENEVE_CRITICAL;
	for (off = XGW_TUN_HDR_LEN; off < XGW_TUN_HDR_LEN + opt_len;) {
		const uint8_t *o = h + off;
		uint32_t ol;

		if (off + 4 > XGW_TUN_HDR_LEN + opt_len)
			return XGW_DROP_GENEVE_OPT_LEN;
		ol = 4 + (uint32_t)(o[3] & 0x1f) * 4;
		if (off + ol > XGW_TUN_HDR_LEN + opt_len)
			return XGW_DROP_GENEVE_OPT_LEN;
		/* Even with C clear: a receiver must not skip a critical
		 * option it does not understand. */
		if (o[2] & GENEVE_OPT_CRIT)
			return XGW_DROP_GENEVE_CRITICAL;
		off += ol; /* unknown, not critical: skipped */
	}
	if (len < XGW_TUN_HDR_LEN + opt_len + 14)
		return XGW_DROP_TUNNEL_TRUNC;
	*vni = (uint32_t)h[4] << 16 | (uint32_t)h[5] << 8 | h[6];
	*hlen = XGW_TUN_HDR_LEN + opt_len;
	return 0;
}
