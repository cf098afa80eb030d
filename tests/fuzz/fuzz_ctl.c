/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target for the control protocol: arbitrary request lines go
 * through xgw_ctl_handle on a detached server.  Beyond "no crash, no leak"
 * it checks the protocol's promises: every line gets a reply object with a
 * boolean "ok" and a "result" or an "error" string, and a refused request
 * leaves config.get byte-identical.
 *
 * Input: lines separated by '\n', each sent as it is, except that a line
 * starting with a byte >= 0x80 is built from a valid sample request of the
 * command that byte picks: the second byte picks one of the sample's args
 * keys (or a new one) and the rest of the line becomes that key's value
 * (as JSON if it parses, else as a string).  That takes the fuzzer straight
 * to the handlers' semantic checks without a dictionary.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "ctl/config.h"
#include "ctl/server.h"

#define MAX_LINES 16

/* One valid request per command: {name, args}. */
static const char *const samples[][2] = {
    {"service.add", "{\"vip\":\"198.18.100.2\",\"port\":443,\"proto\":\"tcp\","
		    "\"datapath\":\"kernel\",\"algorithm\":\"rr\",\"snat\":true,"
		    "\"backends\":[{\"ip\":\"198.18.2.11\",\"port\":80,\"weight\":2,"
		    "\"tunnel\":{\"type\":\"vxlan\",\"remote\":\"198.18.3.2\",\"vni\":42,"
		    "\"mac\":\"02:00:00:00:04:0a\"}}]}"},
    {"service.del", "{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"tcp\"}"},
    {"backend.add", "{\"service\":{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"tcp\"},"
		    "\"backend\":{\"ip\":\"198.18.2.12\",\"port\":8080}}"},
    {"backend.del", "{\"service\":{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"tcp\"},"
		    "\"backend\":{\"ip\":\"198.18.2.10\",\"port\":8080}}"},
    {"policy.add", "{\"action\":\"allow\",\"src\":\"198.18.1.0/24\",\"dst\":\"198.18.100.1\","
		   "\"proto\":\"udp\",\"dport\":\"1000-2000\"}"},
    {"policy.del", "{\"id\":1}"},
    {"steer.add", "{\"dst\":\"198.18.6.0/24\",\"proto\":\"tcp\",\"dport\":9000}"},
    {"steer.del", "{\"id\":1}"},
    {"ct.list", "{\"limit\":5}"},
    {"help", "{\"cmd\":\"service.add\"}"},
    {"service.list", "{}"},
    {"policy.list", "{}"},
    {"steer.list", "{}"},
    {"route.list", "{}"},
    {"ct.flush", "{}"},
    {"stats", "{}"},
    {"ports", "{}"},
    {"config.get", "{}"},
};

#define N_SAMPLES (sizeof(samples) / sizeof(samples[0]))

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

/* A sample request with one args key replaced; see the top comment. */
static size_t structured(const uint8_t *p, size_t len, char *buf, size_t buflen)
{
	const char *const *smp = samples[(p[0] & 0x7f) % N_SAMPLES];
	json_t *args = json_loads(smp[1], 0, NULL);
	json_t *req;
	char *s;
	size_t n;

	if (!args)
		abort();
	if (len >= 2) {
		size_t nkeys = json_object_size(args), k = p[1] % (nkeys + 1), i = 0;
		const char *key = "x";
		json_t *v, *val;
		const char *kk;

		json_object_foreach(args, kk, v)
		{
			if (i++ == k)
				key = kk;
		}
		val = json_loadb((const char *)p + 2, len - 2, JSON_DECODE_ANY, NULL);
		if (!val)
			val = json_stringn((const char *)p + 2, len - 2);
		if (!val) /* not UTF-8 */
			val = json_null();
		json_object_set_new(args, key, val);
	}
	req = json_pack("{s:s, s:o}", "cmd", smp[0], "args", args);
	s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	n = s ? strlen(s) : 0;
	if (n > buflen)
		n = buflen;
	memcpy(buf, s ? s : "", n);
	free(s);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xgw_config running;
	struct xgw_ctl *ctl;
	const uint8_t *p = data, *end = data + size;
	char *buf = malloc(6 * size + 4096);

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
			blen = structured(p, len, buf, 6 * size + 4096);
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
