/* SPDX-License-Identifier: BSD-3-Clause */
/* Logging with printf checking and the component in the prefix, in the
 * style of libxdp's pr_warn/pr_info/pr_debug. Never on the per-packet path. */
#ifndef XGW_LOG_H
#define XGW_LOG_H

#include <stdarg.h>

enum xgw_log_level { XGW_LOG_ERR, XGW_LOG_WARN, XGW_LOG_INFO, XGW_LOG_DEBUG };

extern enum xgw_log_level xgw_log_level;

void xgw_log(enum xgw_log_level lvl, const char *comp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void xgw_vlog(enum xgw_log_level lvl, const char *comp, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* "err", "warn", "info", "debug" -> level; -1 if unknown. */
int xgw_log_level_parse(const char *s);

#ifndef XGW_LOG_COMP
#define XGW_LOG_COMP "xgw"
#endif
#define pr_err(...)   xgw_log(XGW_LOG_ERR, XGW_LOG_COMP, __VA_ARGS__)
#define pr_warn(...)  xgw_log(XGW_LOG_WARN, XGW_LOG_COMP, __VA_ARGS__)
#define pr_info(...)  xgw_log(XGW_LOG_INFO, XGW_LOG_COMP, __VA_ARGS__)
#define pr_debug(...) xgw_log(XGW_LOG_DEBUG, XGW_LOG_COMP, __VA_ARGS__)

#endif
