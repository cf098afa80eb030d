/* SPDX-License-Identifier: BSD-3-Clause */
/* The two mixers of the flow hash, written once for user space
 * (common/hash.h) and the XDP datapath (steer-bpf/kern_lb.h), so that both
 * compute the same hash word for word: 64-bit multiplies, shifts and xors
 * only. */
#ifndef XGW_COMMON_HASH_MIX_H
#define XGW_COMMON_HASH_MIX_H

#include <linux/types.h>

#ifdef __bpf__
#define XGW_HASH_INLINE static __always_inline
#else
#define XGW_HASH_INLINE static inline
#endif

/* murmur3's fmix64 avalanche. */
XGW_HASH_INLINE __u64 xgw_hash_fmix64(__u64 h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* One multiply-rotate round over a 64-bit word. */
XGW_HASH_INLINE __u64 xgw_hash_round(__u64 h, __u64 w)
{
	h ^= w;
	h *= 0x9e3779b97f4a7c15ull;
	return (h << 31) | (h >> 33);
}

#endif
