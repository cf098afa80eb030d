/* SPDX-License-Identifier: BSD-3-Clause */
/* xgwctl -f FILE: a file of xgwctl command lines ("service add ...",
 * "backend add ..."), parsed with the same table as argv into requests,
 * for the caller to send as batches.  Blank lines and "#" comments are
 * skipped; words are split on blanks, with '...' or "..." quoting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/xgwctl.h"

#define MAX_WORDS 64

/* Split line in place into words; returns their number or -1. */
static int split(char *line, char **w)
{
	int n = 0;
	char *p = line, *o;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p || *p == '#')
			return n;
		if (n == MAX_WORDS)
			return -1;
		w[n++] = o = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
			if (*p == '\'' || *p == '"') {
				char q = *p++;

				while (*p && *p != q)
					*o++ = *p++;
				if (!*p)
					return -1;
				p++;
				continue;
			}
			*o++ = *p++;
		}
		if (*p)
			p++;
		*o = '\0';
	}
}

int xgwctl_file_requests(FILE *f, const char *name, json_t **reqs, json_t **lines, char *err,
			 size_t errlen)
{
	char *line = NULL, *argv[MAX_WORDS + 1];
	size_t cap = 0;
	long lineno = 0;
	int ret = 0;

	*reqs = json_array();
	*lines = json_array();
	while (getline(&line, &cap, f) > 0) {
		struct xgwctl_inv inv;
		char perr[512];
		int n;

		lineno++;
		argv[0] = "xgwctl";
		n = split(line, argv + 1);
		if (n == 0)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s:%ld: too many words or an unclosed quote", name,
				 lineno);
			ret = -EINVAL;
			break;
		}
		ret = xgwctl_parse(n + 1, argv, &inv, perr, sizeof(perr));
		if (!ret && (!inv.req || inv.watch || inv.version || inv.usage))
			snprintf(perr, sizeof(perr), "not a request"), ret = -EINVAL;
		if (ret) {
			snprintf(err, errlen, "%s:%ld: %s", name, lineno, perr);
			xgwctl_inv_free(&inv);
			break;
		}
		json_array_append(*reqs, inv.req);
		json_array_append_new(*lines, json_integer(lineno));
		xgwctl_inv_free(&inv);
	}
	free(line);
	if (ret) {
		json_decref(*reqs);
		json_decref(*lines);
		*reqs = *lines = NULL;
	}
	return ret;
}
