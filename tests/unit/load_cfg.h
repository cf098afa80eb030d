/* SPDX-License-Identifier: BSD-3-Clause */
/* For the unit tests that run the offline pipeline: a config written in
 * C with single quotes ('vip': ...) loaded as the daemon loads its file.
 * Include after cmocka.h, jansson.h and ctl/config.h. */
#ifndef XGW_TEST_LOAD_CFG_H
#define XGW_TEST_LOAD_CFG_H

static inline void load_cfg(struct xgw_config *cfg, const char *src)
{
	static char text[4096];
	char err[256];
	json_t *j;

	snprintf(text, sizeof(text), "%s", src);
	for (char *c = text; *c; c++)
		if (*c == '\'')
			*c = '"';
	j = json_loads(text, 0, NULL);
	assert_non_null(j);
	if (xgw_config_load_json(cfg, j, err, sizeof(err)))
		fail_msg("config: %s", err);
	json_decref(j);
}

#endif
