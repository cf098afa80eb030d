/* SPDX-License-Identifier: BSD-3-Clause */
/* General-purpose mixers and the 5-tuple flow hash, for every table and
 * pick that spreads flows (Maglev, conntrack, policy, snapshot). */
#ifndef XGW_COMMON_HASH_H
#define XGW_COMMON_HASH_H

#include <stdint.h>

#include "common/addr.h"
#include "common/hash_mix.h"

/* The 5-tuple flow hash used for Maglev picks (and for anything else that
 * spreads flows: the VXLAN/Geneve outer source port, RSS-like handoff).
 *
 * Direction-sensitive (a reply hashes differently; conntrack finds replies
 * by their own tuple) and not cryptographic: a multiply-rotate chain over
 * five 64-bit words (both addresses in full, so IPv4 and IPv6 take the same
 * path) finished with the murmur3 fmix64 avalanche.  Only 64-bit multiplies,
 * shifts and xors, so the same function can be written in BPF for the
 * in-kernel datapath (the mixers are shared: common/hash_mix.h).  The seed
 * is lb.hash_seed, from the config, so every gateway and every restart
 * agrees.  Ports in network order, as they are in the packet. */

/* xgw_flow_hash in two parts: its start from the seed, the protocol and
 * the family, which a run of flows to one service shares (the LB stage's
 * burst pass computes it once for them), then the rest from the
 * addresses and ports. */
static inline uint64_t xgw_flow_hash_start(uint8_t proto, uint8_t family, uint32_t seed)
{
	return seed ^ ((uint64_t)proto << 32 | (uint64_t)family << 40);
}

static inline uint32_t xgw_flow_hash_rest(uint64_t h, const struct xgw_addr *src,
					  const struct xgw_addr *dst, uint16_t sport,
					  uint16_t dport)
{
	h = xgw_hash_round(h, src->q[0]);
	h = xgw_hash_round(h, src->q[1]);
	h = xgw_hash_round(h, dst->q[0]);
	h = xgw_hash_round(h, dst->q[1]);
	h = xgw_hash_round(h, (uint64_t)sport << 16 | dport);
	h = xgw_hash_fmix64(h);
	return (uint32_t)(h ^ (h >> 32));
}

static inline uint32_t xgw_flow_hash(const struct xgw_addr *src, const struct xgw_addr *dst,
				     uint16_t sport, uint16_t dport, uint8_t proto, uint32_t seed)
{
	return xgw_flow_hash_rest(xgw_flow_hash_start(proto, src->family, seed), src, dst, sport,
				  dport);
}

#endif
