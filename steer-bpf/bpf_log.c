/* SPDX-License-Identifier: BSD-3-Clause */
/* libbpf's and libxdp's own messages through xgw's log, at xgw's levels,
 * instead of printed raw on stderr. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "common/log.h"
#include "steer-bpf/bpf_log.h"

/* Their lines end in a newline, ours add one. */
static void relay(enum xgw_log_level lvl, const char *comp, const char *fmt, va_list ap)
{
	char buf[1024];
	size_t n;

	if (lvl > xgw_log_level)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n)
		xgw_log(lvl, comp, "%s", buf);
}

/* Both libraries number their levels WARN, INFO, DEBUG from 0. */
_Static_assert(LIBBPF_WARN == 0 && LIBBPF_DEBUG == 2 && LIBXDP_WARN == 0 && LIBXDP_DEBUG == 2,
	       "print levels");
static const enum xgw_log_level lvl[] = {XGW_LOG_WARN, XGW_LOG_INFO, XGW_LOG_DEBUG};

static int from_libbpf(enum libbpf_print_level l, const char *fmt, va_list ap)
{
	relay(lvl[l <= LIBBPF_DEBUG ? l : LIBBPF_DEBUG], "libbpf", fmt, ap);
	return 0;
}

static int from_libxdp(enum libxdp_print_level l, const char *fmt, va_list ap)
{
	relay(lvl[l <= LIBXDP_DEBUG ? l : LIBXDP_DEBUG], "libxdp", fmt, ap);
	return 0;
}

void xgw_bpf_log_init(void)
{
	libbpf_set_print(from_libbpf);
	libxdp_set_print(from_libxdp);
}
