/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target for the control protocol: arbitrary request lines go
 * through xgw_ctl_handle on a detached server.  Beyond "no crash, no leak"
 * it checks the protocol's promises: every line gets a reply object with a
 * boolean "ok" and a "result" or an "error" string, and a refused request
 * leaves config.get byte-identical.
 *
 * Input: lines separated by '\n'.  A line starting with a byte >= 0x80
 * names a command from the table (byte & 0x1f) and the rest of the line is
 * its "args" text, so that the fuzzer reaches the handlers without first
 * having to guess command names. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "ctl/config.h"
#include "ctl/server.h"

#define MAX_LINES 16

static const char *const names[] = {
	"service.add", "service.del", "service.list", "backend.add", "backend.del", "policy.add",
	"policy.del",  "policy.list", "steer.add",    "steer.del",   "steer.list",  "route.list",
	"ct.list",     "ct.flush",    "stats",	      "ports",	     "config.get",  "help",
};

static const char base_json[] =
	"{\"ports\":[{\"name\":\"client\",\"iface\":\"xgw-c\",\"queues\":[{\"queue\":0,\"core\":0}]}],"
	" \"tunnel\":{\"local_ip\":\"198.18.3.1\"},"
	" \"services\":[{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"tcp\","
	"   \"backends\":[{\"ip\":\"198.18.2.10\",\"port\":8080}]}],"
	" \"steer\":[{\"dst\":\"198.18.2.2\",\"proto\":\"udp\",\"dport\":7000}],"
	" \"routes\":[{\"dst\":\"198.18.5.0/24\",\"via\":\"198.18.2.2\",\"port\":\"client\"}],"
	" \"policies\":[{\"action\":\"deny\",\"src\":\"198.18.0.0/24\"}]}";

static struct xgw_config base;
static unsigned n_calls;

/* Fails every seventh write, to exercise the roll-back path too. */
static int fuzz_apply(void *ctx, const struct xgw_config *cfg, char *err, size_t errlen)
{
	if (++n_calls % 7 == 0) {
		snprintf(err, errlen, "injected failure");
		return -5;
	}
	return 0;
}

static json_t *fuzz_stats(void *ctx)
{
	return json_object();
}

static json_t *fuzz_ct_list(void *ctx, unsigned limit)
{
	return json_array();
}

static int fuzz_ct_flush(void *ctx)
{
	return 0;
}

static const struct xgw_ctl_ops ops = {
	.apply = fuzz_apply,
	.stats = fuzz_stats,
	.ct_list = fuzz_ct_list,
	.ct_flush = fuzz_ct_flush,
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	json_t *doc = json_loads(base_json, 0, NULL);
	char err[256];

	xgw_log_level = XGW_LOG_ERR;
	if (!doc || xgw_config_load_json(&base, doc, err, sizeof(err))) {
		fprintf(stderr, "fuzz_ctl: base config: %s\n", err);
		abort();
	}
	json_decref(doc);
	return 0;
}

static char *config_dump(struct xgw_ctl *ctl)
{
	static const char get[] = "{\"cmd\":\"config.get\"}";
	json_t *r = xgw_ctl_handle(ctl, get, sizeof(get) - 1);
	char *s = json_dumps(json_object_get(r, "result"), JSON_COMPACT);

	if (!s)
		abort();
	json_decref(r);
	return s;
}

static void check_reply(json_t *r)
{
	json_t *ok = json_object_get(r, "ok");

	if (!json_is_object(r) || !json_is_boolean(ok))
		abort();
	if (json_is_true(ok) ? !json_object_get(r, "result")
			     : !json_is_string(json_object_get(r, "error")))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xgw_config running;
	struct xgw_ctl *ctl;
	const uint8_t *p = data, *end = data + size;
	char *buf = malloc(size + 64);

	if (!buf || xgw_config_copy(&running, &base))
		abort();
	ctl = xgw_ctl_new_detached(&running, &ops, NULL);
	if (!ctl)
		abort();
	for (int n = 0; n < MAX_LINES && p < end; n++) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		size_t blen;
		char *before, *after;
		json_t *r;

		if (len && p[0] >= 0x80) {
			const char *name = names[(p[0] & 0x1f) % (sizeof(names) / sizeof(names[0]))];

			blen = (size_t)snprintf(buf, size + 64, "{\"cmd\":\"%s\",\"args\":", name);
			memcpy(buf + blen, p + 1, len - 1);
			blen += len - 1;
			buf[blen++] = '}';
		} else {
			memcpy(buf, p, len);
			blen = len;
		}
		before = config_dump(ctl);
		r = xgw_ctl_handle(ctl, buf, blen);
		check_reply(r);
		after = config_dump(ctl);
		if (!json_is_true(json_object_get(r, "ok")) && strcmp(before, after)) {
			fprintf(stderr, "fuzz_ctl: refused request changed the config\n");
			abort();
		}
		free(before);
		free(after);
		json_decref(r);
		p += len + (nl ? 1 : 0);
	}
	xgw_ctl_stop(ctl); /* frees running's contents */
	free(buf);
	return 0;
}
