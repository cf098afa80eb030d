/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target for the config file loader: the input is the whole
 * file (any bytes), not a change to one fixed document (fuzz_ctl).  Beyond
 * "no crash, no leak":
 *   - a refusal names the key and leaves nothing allocated (ASan's leak
 *     check) and the config all zero;
 *   - what is accepted writes back (xgw_config_to_json) to a document that
 *     loads again to the same document (the form config.save writes and
 *     xgwd reads back), and validates the same way;
 *   - a copy (what the daemon keeps as "applied") writes the same.
 * The seed corpus (corpus/config) is the example config, the man page's
 * and the tests' configs; config.dict holds the keys. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "ctl/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static char *dump(const struct xgw_config *c)
{
	json_t *j = xgw_config_to_json(c);
	char *s;

	check(j != NULL);
	s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(j);
	check(s != NULL);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xgw_config c, again, copy;
	char err[512] = "", err2[512] = "";
	json_error_t je;
	json_t *root, *back;
	char *s1, *s2;
	int rc, v1, v2;

	xgw_log_level = XGW_LOG_ERR;
	root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return 0;
	memset(&c, 0, sizeof(c));
	rc = xgw_config_load_json(&c, root, err, sizeof(err));
	json_decref(root);
	if (rc) {
		check(rc < 0 && err[0]);
		check(all_zero(&c, sizeof(c)));
		return 0;
	}
	v1 = xgw_config_validate(&c, 4, err, sizeof(err));
	s1 = dump(&c);
	back = json_loads(s1, 0, &je);
	check(back != NULL);
	memset(&again, 0, sizeof(again));
	rc = xgw_config_load_json(&again, back, err2, sizeof(err2));
	json_decref(back);
	check(rc == 0); /* what we write, we read */
	s2 = dump(&again);
	check(strcmp(s1, s2) == 0);
	v2 = xgw_config_validate(&again, 4, err2, sizeof(err2));
	check((v1 == 0) == (v2 == 0));
	free(s2);
	check(xgw_config_copy(&copy, &c) == 0);
	s2 = dump(&copy);
	check(strcmp(s1, s2) == 0);
	free(s2);
	free(s1);
	xgw_config_free(&copy);
	xgw_config_free(&again);
	xgw_config_free(&c);
	return 0;
}
