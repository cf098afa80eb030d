/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-worker counters: one writer (the owning worker), readers on the
 * control thread.  Relaxed atomic load + store, not a read-modify-write:
 * on x86-64 and arm64 this is the same plain `mov`/`ldr`+`str` as `+=`, but
 * the concurrent read is no longer a C11 data race (and TSan agrees). */
#ifndef XGW_STAT_H
#define XGW_STAT_H

#define XGW_STAT_ADD(field, v)                                                                     \
	__atomic_store_n(&(field), __atomic_load_n(&(field), __ATOMIC_RELAXED) + (v),               \
			 __ATOMIC_RELAXED)
#define XGW_STAT_SUB(field, v)                                                                     \
	__atomic_store_n(&(field), __atomic_load_n(&(field), __ATOMIC_RELAXED) - (v),               \
			 __ATOMIC_RELAXED)
#define XGW_STAT_READ(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

#endif
