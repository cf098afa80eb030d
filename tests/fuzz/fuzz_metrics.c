/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target for the metrics exposition: xgw_metrics_render over any
 * stats document (the JSON the data plane hands the metrics thread; keys
 * and label values reach it from the config and the kernel, e.g. port
 * names).  The HTTP request itself is parsed by libmicrohttpd
 * (ctl/metrics_http.c), not by xgw.  Beyond "no crash", every line of the
 * output must be valid Prometheus text format 0.0.4: "# HELP name text",
 * "# TYPE name type", or name{label="value",...} value, with names of
 * [a-zA-Z_:][a-zA-Z0-9_:]*, label values escaping only \\, \" and \n, and
 * a value that is a number, NaN or +/-Inf. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static const char *name_end(const char *s)
{
	check((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == ':');
	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
	       *s == '_' || *s == ':')
		s++;
	return s;
}

static void check_value(const char *s, const char *end)
{
	char buf[64], *e;
	size_t n = (size_t)(end - s);

	check(n > 0 && n < sizeof(buf));
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (!strcmp(buf, "NaN") || !strcmp(buf, "+Inf") || !strcmp(buf, "-Inf"))
		return;
	(void)strtod(buf, &e);
	check(*e == '\0');
}

static void check_line(const char *s, const char *end)
{
	if (s == end)
		return;
	if (*s == '#') {
		check(!strncmp(s, "# HELP ", 7) || !strncmp(s, "# TYPE ", 7));
		s = name_end(s + 7);
		check(s < end && *s == ' ');
		return;
	}
	s = name_end(s);
	if (*s == '{') {
		s++;
		while (*s != '}') {
			s = name_end(s);
			check(s[0] == '=' && s[1] == '"');
			for (s += 2; *s != '"'; s++) {
				check(s < end);
				if (*s == '\\') {
					s++;
					check(*s == '\\' || *s == '"' || *s == 'n');
				}
			}
			s++;
			if (*s == ',')
				s++;
			else
				check(*s == '}');
		}
		s++;
	}
	check(*s == ' ');
	check_value(s + 1, end);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *stats = json_loadb((const char *)data, size, 0, &je);
	size_t len;
	char *out;

	if (!stats)
		return 0;
	out = xgw_metrics_render(stats, &len);
	json_decref(stats);
	if (!out)
		return 0;
	check(strlen(out) == len);
	for (const char *s = out, *nl; *s; s = nl + 1) {
		nl = strchr(s, '\n');
		check(nl != NULL); /* every line ends with a line feed */
		check_line(s, nl);
	}
	free(out);
	return 0;
}
