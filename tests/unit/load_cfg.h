/* SPDX-License-Identifier: BSD-3-Clause */
/* For the unit tests that run the offline pipeline: a config written in
 * C with single quotes ('vip': ...) loaded as the daemon loads its file.
 * Include after cmocka.h, jansson.h, ctl/config.h and pipeline/offline.h. */
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

/* The offline data plane of config text over the tests' two ports:
 * "client" 02:00:00:00:00:10 on 198.18.1.1/24 and "backend"
 * 02:00:00:00:00:11 on 198.18.2.1/24, with 2001:db8:1::1/64 and
 * 2001:db8:2::1/64 too when v6, both at MTU mtu (0: the default). */
static inline struct xgw_offline *open_offline(const char *text, bool v6, unsigned mtu)
{
	struct xgw_offline_port ports[2];
	struct xgw_offline *o;
	struct xgw_config cfg;
	char err[256];

	load_cfg(&cfg, text);
	assert_int_equal(
	    xgw_offline_port_parse(&ports[0], v6 ? "client,02:00:00:00:00:10,198.18.1."
						   "1/24,2001:db8:1::1/64"
						 : "client,02:00:00:00:00:10,198.18.1.1/24"),
	    0);
	assert_int_equal(
	    xgw_offline_port_parse(&ports[1], v6 ? "backend,02:00:00:00:00:11,198.18.2.1/"
						   "24,2001:db8:2::1/64"
						 : "backend,02:00:00:00:00:11,198.18.2.1/24"),
	    0);
	if (mtu)
		ports[0].mtu = ports[1].mtu = mtu;
	o = xgw_offline_open(&cfg, ports, 2, 256, 0x5eed, err, sizeof(err));
	if (!o)
		fail_msg("offline: %s", err);
	xgw_config_free(&cfg);
	return o;
}

#endif
