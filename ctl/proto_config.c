/* SPDX-License-Identifier: BSD-3-Clause */
/* The config lifecycle over the control socket: config.save writes the
 * running config to a file xgwd -c accepts; config.reload re-reads the
 * daemon's file and applies the difference as one atomic change (one
 * snapshot, one grace period), refusing keys that need a restart. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/proto.h"

/* What the data plane was built with and cannot change live: interfaces,
 * queues and cores, UMEM, the conntrack table (size and timeouts are set
 * when it is made), the tunnel endpoint, the control socket, the metrics
 * listener and the flow hash seed (a new one would move every flow that
 * conntrack does not pin).  Paths into the config's JSON form. */
static const char *const restart_keys[][2] = {
    {"ports", NULL},   {"umem", NULL},	    {"conntrack", NULL}, {"tunnel", NULL}, {"ctl", NULL},
    {"metrics", NULL}, {"lb", "hash_seed"}, {"announce", NULL},	 {"dpdk", NULL},
};

static json_t *at(json_t *doc, const char *const key[2])
{
	json_t *v = json_object_get(doc, key[0]);

	return key[1] ? json_object_get(v, key[1]) : v;
}

/* Names of the top-level sections whose contents differ, e.g.
 * "services, policies"; "" when none. */
static void changed_sections(json_t *a, json_t *b, char *out, size_t len)
{
	const char *key;
	json_t *v;
	size_t n = 0;

	out[0] = '\0';
	json_object_foreach(b, key, v)
	{
		if (json_equal(v, json_object_get(a, key)))
			continue;
		n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s", n ? ", " : "", key);
	}
	json_object_foreach(a, key, v)
	{
		if (json_object_get(b, key))
			continue;
		n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s", n ? ", " : "", key);
	}
}

static bool contains(json_t *arr, json_t *x)
{
	for (size_t i = 0; i < json_array_size(arr); i++)
		if (json_equal(json_array_get(arr, i), x))
			return true;
	return false;
}

/* Objects of a list (services, policies, ...) added and removed between two
 * versions; a changed object counts once in each. */
static void count_list(json_t *a, json_t *b, json_t *into, const char *name)
{
	size_t added = 0, removed = 0;

	for (size_t i = 0; i < json_array_size(b); i++)
		added += !contains(a, json_array_get(b, i));
	for (size_t i = 0; i < json_array_size(a); i++)
		removed += !contains(b, json_array_get(a, i));
	if (added || removed)
		json_object_set_new(into, name,
				    json_pack("{s:I, s:I}", "added", (json_int_t)added, "removed",
					      (json_int_t)removed));
}

int xgw_ctl_cmd_config_reload(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args,
			      json_t **result, char *err, size_t errlen)
{
	static const char *const lists[] = {"services", "policies", "steer", "routes",
					    "neighbours"};
	struct xgw_config fresh;
	json_t *cur = NULL, *nxt = NULL;
	char what[256], loaderr[512];
	int ret;

	if (!c->config_path[0]) {
		snprintf(err, errlen, "config.reload: xgwd was started without a config file");
		return -ENOENT;
	}
	ret = xgw_config_load_file(&fresh, c->config_path, loaderr, sizeof(loaderr));
	if (ret) {
		snprintf(err, errlen, "config.reload: %s: %s; nothing changed", c->config_path,
			 loaderr);
		return ret;
	}
	cur = xgw_config_to_json(cfg);
	nxt = xgw_config_to_json(&fresh);
	ret = -ENOMEM;
	if (!cur || !nxt) {
		snprintf(err, errlen, "config.reload: cannot compare the configs");
		goto out;
	}
	for (size_t i = 0; i < sizeof(restart_keys) / sizeof(restart_keys[0]); i++) {
		json_t *x = at(cur, restart_keys[i]), *y = at(nxt, restart_keys[i]);

		/* Absent from both (json_equal says no to NULLs) is no change. */
		if ((!x && !y) || json_equal(x, y))
			continue;
		snprintf(err, errlen,
			 "config.reload: %s%s%s changed in %s: it needs a restart of xgwd; "
			 "nothing changed",
			 restart_keys[i][0], restart_keys[i][1] ? "." : "",
			 restart_keys[i][1] ? restart_keys[i][1] : "", c->config_path);
		ret = -EINVAL;
		goto out;
	}
	*result = json_object();
	changed_sections(cur, nxt, what, sizeof(what));
	json_object_set_new(*result, "file", json_string(c->config_path));
	json_object_set_new(*result, "changed", json_string(what));
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		count_list(json_object_get(cur, lists[i]), json_object_get(nxt, lists[i]), *result,
			   lists[i]);
	/* The framework validates and applies cfg, then makes it the running
	 * config: hand it the file's contents. */
	for (unsigned i = 0; i < cfg->n_services; i++)
		if (xgw_ctl_drop_service(c, &cfg->services[i])) {
			/* The running config keeps every array it has: the
			 * copy frees only its own. */
			snprintf(err, errlen, "config.reload: out of memory");
			goto out;
		}
	xgw_config_free(cfg);
	*cfg = fresh;
	memset(&fresh, 0, sizeof(fresh));
	ret = 0;
out:
	json_decref(cur);
	json_decref(nxt);
	if (ret)
		xgw_config_free(&fresh);
	return ret;
}

int xgw_ctl_cmd_config_save(struct xgw_ctl *c, struct xgw_config *cfg, json_t *args,
			    json_t **result, char *err, size_t errlen)
{
	const char *path = json_string_value(json_object_get(args, "file"));
	char tmp[4200];
	json_t *doc;
	int ret = 0;

	if (!path || !path[0])
		path = c->config_path;
	if (!path[0]) {
		snprintf(err, errlen, "config.save: no file given and xgwd has no config file");
		return -ENOENT;
	}
	if (strlen(path) >= sizeof(tmp) - 16) {
		snprintf(err, errlen, "config.save: path too long");
		return -ENAMETOOLONG;
	}
	doc = xgw_config_to_json(cfg);
	if (!doc) {
		snprintf(err, errlen, "config.save: cannot encode the running config");
		return -ENOMEM;
	}
	/* Write beside it and rename: a crash leaves the old file or the new
	 * one, never half of one. */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	errno = 0;
	if (json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) || rename(tmp, path)) {
		ret = errno ? -errno : -EIO;
		snprintf(err, errlen, "config.save: cannot write %s: %s", path, strerror(-ret));
		unlink(tmp);
	} else {
		*result = json_pack("{s:s}", "file", path);
	}
	json_decref(doc);
	return ret;
}
