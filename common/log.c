/* SPDX-License-Identifier: BSD-3-Clause */
#include "common/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum xgw_log_level xgw_log_level = XGW_LOG_INFO;

static const char *const lvl_names[] = {"err", "warn", "info", "debug"};
/* syslog priorities (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG). */
static const char lvl_prio[] = {'3', '4', '6', '7'};

/* Under systemd, stderr is the journal when JOURNAL_STREAM names its
 * device and inode: lines then carry a "<N>" priority prefix, which
 * journald turns into the entry's priority, and no timestamp of our own. */
static bool to_journal(void)
{
	static int cached = -1;
	const char *js;
	unsigned long long dev, ino;
	struct stat st;

	if (cached >= 0)
		return cached;
	js = getenv("JOURNAL_STREAM");
	cached = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && !fstat(2, &st) &&
		 (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
	return cached;
}

void xgw_vlog(enum xgw_log_level lvl, const char *comp, const char *fmt, va_list ap)
{
	struct timespec ts;
	char buf[1024];

	if (lvl > xgw_log_level)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* One fprintf per line so lines from threads do not interleave. */
	if (to_journal()) {
		fprintf(stderr, "<%c>%s: %s\n", lvl_prio[lvl], comp, buf);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "%ld.%03ld %s %s: %s\n", (long)ts.tv_sec, ts.tv_nsec / 1000000,
		lvl_names[lvl], comp, buf);
}

void xgw_log(enum xgw_log_level lvl, const char *comp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xgw_vlog(lvl, comp, fmt, ap);
	va_end(ap);
}

int xgw_log_level_parse(const char *s)
{
	for (unsigned i = 0; i < sizeof(lvl_names) / sizeof(lvl_names[0]); i++)
		if (!strcmp(s, lvl_names[i]))
			return (int)i;
	return -1;
}
