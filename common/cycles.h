/* SPDX-License-Identifier: BSD-3-Clause */
/* A cheap cycle counter for the workers' busy accounting (`xgwctl
 * workers`, like VPP's clocks per vector): the TSC on x86-64, the virtual
 * counter on arm64, CLOCK_MONOTONIC nanoseconds elsewhere.  Its rate is
 * measured once (xgw_cycles_hz), so that busy cycles become a share of the
 * wall clock. */
#ifndef XGW_CYCLES_H
#define XGW_CYCLES_H

#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline uint64_t xgw_cycles(void)
{
	return __rdtsc();
}
#elif defined(__aarch64__)
static inline uint64_t xgw_cycles(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, cntvct_el0" : "=r"(v));
	return v;
}
#else
static inline uint64_t xgw_cycles(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

/* Counter ticks per second, measured over 20 ms on first use (then
 * cached).  Call it from a control thread, not a worker. */
uint64_t xgw_cycles_hz(void);

#endif
