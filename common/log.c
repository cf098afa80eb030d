/* SPDX-License-Identifier: BSD-3-Clause */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum xgw_log_level xgw_log_level = XGW_LOG_INFO;

static const char *const lvl_names[] = {"err", "warn", "info", "debug"};

void xgw_log(enum xgw_log_level lvl, const char *comp, const char *fmt, ...)
{
	struct timespec ts;
	char buf[1024];
	va_list ap;

	if (lvl > xgw_log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One fprintf per line so lines from threads do not interleave. */
	fprintf(stderr, "%ld.%03ld %s %s: %s\n", (long)ts.tv_sec, ts.tv_nsec / 1000000,
		lvl_names[lvl], comp, buf);
}

int xgw_log_level_parse(const char *s)
{
	for (unsigned i = 0; i < sizeof(lvl_names) / sizeof(lvl_names[0]); i++)
		if (!strcmp(s, lvl_names[i]))
			return (int)i;
	return -1;
}
