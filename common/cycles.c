/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw_cycles_hz: the cycle counter's rate against CLOCK_MONOTONIC. */
#include <stdatomic.h>

#include "common/cycles.h"

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t xgw_cycles_hz(void)
{
	static _Atomic uint64_t hz;
	uint64_t v = atomic_load(&hz);

	if (!v) {
		struct timespec d = {.tv_nsec = 20 * 1000 * 1000};
		double t0 = mono_s();
		uint64_t c0 = xgw_cycles();

		while (nanosleep(&d, &d))
			;
		v = (uint64_t)((double)(xgw_cycles() - c0) / (mono_s() - t0));
		atomic_store(&hz, v ? v : 1);
	}
	return v ? v : 1;
}
