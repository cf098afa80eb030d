/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-worker counters: one writer (the owning worker), readers on the
 * control thread.  Relaxed atomic load + store, not a read-modify-write:
 * on x86-64 and arm64 this is the same plain `mov`/`ldr`+`str` as `+=`, but
 * the concurrent read is no longer a C11 data race (and TSan agrees). */
#ifndef XGW_STAT_H
#define XGW_STAT_H

#include <stdint.h>

#include "common/tsan.h"

#define XGW_STAT_ADD(field, v)                                                                     \
	__atomic_store_n(&(field), __atomic_load_n(&(field), __ATOMIC_RELAXED) + (v),               \
			 __ATOMIC_RELAXED)
#define XGW_STAT_SUB(field, v)                                                                     \
	__atomic_store_n(&(field), __atomic_load_n(&(field), __ATOMIC_RELAXED) - (v),               \
			 __ATOMIC_RELAXED)
#define XGW_STAT_READ(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

/* XGW_STAT_ADD of a 64-bit counter, for the per-packet path (a tracked
 * packet adds to four): on x86-64 one add to memory, not locked, which is
 * the same load and store, each single-copy atomic for an aligned word,
 * as the relaxed pair; gcc never fuses atomic accesses, so the pair costs
 * three instructions.  Under ThreadSanitizer, which must see the accesses
 * as atomic, under AddressSanitizer, which does not check an asm's memory
 * operand, and on other targets the pair itself. */
#if defined(__SANITIZE_ADDRESS__)
#define XGW_STAT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XGW_STAT_ASAN 1
#endif
#endif
static inline void xgw_stat_add64(uint64_t *c, uint64_t v)
{
#if defined(__x86_64__) && !defined(XGW_TSAN) && !defined(XGW_STAT_ASAN)
	__asm__("addq %1, %0" : "+m"(*c) : "er"(v));
#else
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
#endif
}

#endif
