/* SPDX-License-Identifier: BSD-3-Clause */
/* What an operator sees, through the offline data plane.
 * Per-service and per-backend counters (pipeline/svc_stats.h): packets and
 * bytes each way, connections opened and live (a flush ends them),
 * refusals by reason per service, drops on a tracked connection per
 * backend; counter slots kept across a reconfiguration.
 * Trace and capture (pipeline/tap.h): the stages' decisions for the
 * packets a filter selects, frames as received and as sent, counts and
 * bad arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "ctl/config.h"
#include "lb/conntrack.h"
#include "pipeline/offline.h"
#include "pipeline/snapshot.h"
#include "pipeline/svc_stats.h"
#include "pipeline/tap.h"
#include "pipeline/worker.h"
#include "tests/lib/pktbuild.h"
#include "tests/unit/load_cfg.h"

static const uint8_t MAC_P0[6] = {2, 0, 0, 0, 0, 0x10}, MAC_P1[6] = {2, 0, 0, 0, 0, 0x11};
static const uint8_t MAC_CLI[6] = {2, 0, 0, 0, 1, 2}, MAC_BE[6] = {2, 0, 0, 0, 2, 10};

/* Two services: .1 with one backend, .2 with its only backend drained
 * (weight 0: every new connection refused, no_backend). */
static const char *const CONFIG =
    "{'ports': [{'name': 'client', 'iface': 'xgw-c', 'queues': [{'queue': 0, 'core': 0}]},"
    " {'name': 'backend', 'iface': 'xgw-b', 'queues': [{'queue': 0, 'core': 0}]}],"
    " 'conntrack': {'max_entries': 4096},"
    " 'services': [{'vip': '198.18.100.1', 'port': 80, 'proto': 'tcp', 'backends':"
    "   [{'ip': '198.18.2.10', 'port': 8080}]},"
    "  {'vip': '198.18.100.2', 'port': 80, 'proto': 'tcp', 'backends':"
    "   [{'ip': '198.18.2.10', 'port': 8081, 'weight': 0}]}],"
    " 'neighbours': [{'ip': '198.18.1.2', 'mac': '02:00:00:00:01:02', 'port': 'client'},"
    "  {'ip': '198.18.2.10', 'mac': '02:00:00:00:02:0a', 'port': 'backend'}]}";

static struct xgw_offline *open_dp(void)
{
	return open_offline(CONFIG, false, 0);
}

static unsigned n_sent;

static void on_tx(void *arg, uint32_t idx, uint16_t port, const uint8_t *data, uint32_t len)
{
	n_sent++;
}

static unsigned run1(struct xgw_offline *o, const uint8_t *f, int len, uint16_t port)
{
	struct xgw_offline_frame fr = {.data = f, .len = (uint32_t)len, .port = port, .ts_ns = 1};

	assert_true(len > 0);
	n_sent = 0;
	xgw_offline_run(o, &fr, 1, 1, on_tx, NULL);
	return n_sent;
}

/* Client -> VIP (port 0), or backend -> client (port 1). */
static int pkt(uint8_t *buf, bool from_backend, const char *vip, uint16_t bport, uint16_t cport,
	       uint8_t flags, size_t payload)
{
	static uint8_t data[1000];
	struct xgw_pb b = {.proto = IPPROTO_TCP,
			   .tcp_flags = flags,
			   .seq = 1,
			   .payload = data,
			   .payload_len = payload};

	if (from_backend) {
		b.src = xgw_pb_ip("198.18.2.10");
		b.dst = xgw_pb_ip("198.18.1.2");
		b.sport = bport;
		b.dport = cport;
		memcpy(b.src_mac, MAC_BE, 6);
		memcpy(b.dst_mac, MAC_P1, 6);
	} else {
		b.src = xgw_pb_ip("198.18.1.2");
		b.dst = xgw_pb_ip(vip);
		b.sport = cport;
		b.dport = 80;
		memcpy(b.src_mac, MAC_CLI, 6);
		memcpy(b.dst_mac, MAC_P0, 6);
	}
	return xgw_pb_build(&b, buf, 2048);
}

static json_t *services(struct xgw_offline *o)
{
	struct xgw_dataplane *dp = xgw_offline_dataplane(o);

	return xgw_svc_stats_snap_json(dp, dp->snap);
}

static json_int_t val(json_t *a, unsigned svc, int be, const char *key)
{
	json_t *s = json_array_get(a, svc);
	json_t *o = be < 0 ? s : json_array_get(json_object_get(s, "backends"), (size_t)be);
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("no integer %s in service %u backend %d", key, svc, be);
	return json_integer_value(v);
}

static void test_counts_each_way(void **state)
{
	struct xgw_offline *o = open_dp();
	uint8_t f[2048];
	int l_syn, l_synack, l_ack, l_data;
	json_t *a;

	l_syn = pkt(f, false, "198.18.100.1", 8080, 40000, XGW_PB_SYN, 0);
	assert_int_equal(run1(o, f, l_syn, 0), 1);
	l_synack = pkt(f, true, NULL, 8080, 40000, XGW_PB_SYN | XGW_PB_ACK, 0);
	assert_int_equal(run1(o, f, l_synack, 1), 1);
	l_ack = pkt(f, false, "198.18.100.1", 8080, 40000, XGW_PB_ACK, 0);
	assert_int_equal(run1(o, f, l_ack, 0), 1);
	l_data = pkt(f, false, "198.18.100.1", 8080, 40000, XGW_PB_ACK | XGW_PB_PSH, 500);
	assert_int_equal(run1(o, f, l_data, 0), 1);
	/* A second connection, from another client port. */
	assert_int_equal(run1(o, f, pkt(f, false, "198.18.100.1", 8080, 40001, XGW_PB_SYN, 0), 0),
			 1);

	a = services(o);
	assert_int_equal(json_array_size(a), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "vip")),
			    "198.18.100.1");
	for (int be = -1; be <= 0; be++) {
		assert_int_equal(val(a, 0, be, "pkts_in"), 4);
		assert_int_equal(val(a, 0, be, "bytes_in"), 2 * l_syn + l_ack + l_data);
		assert_int_equal(val(a, 0, be, "pkts_out"), 1);
		assert_int_equal(val(a, 0, be, "bytes_out"), l_synack);
		assert_int_equal(val(a, 0, be, "conns_new"), 2);
		assert_int_equal(val(a, 0, be, "conns_active"), 2);
	}
	assert_int_equal(val(a, 1, -1, "pkts_in"), 0);
	assert_int_equal(val(a, 1, -1, "conns_new"), 0);
	json_decref(a);

	/* A flush ends both: live goes to 0, what was counted stays. */
	xgw_ct_flush(xgw_offline_dataplane(o)->ct);
	xgw_ct_reclaim_wait();
	a = services(o);
	assert_int_equal(val(a, 0, 0, "conns_active"), 0);
	assert_int_equal(val(a, 0, -1, "conns_active"), 0);
	assert_int_equal(val(a, 0, 0, "conns_new"), 2);
	assert_int_equal(val(a, 0, 0, "pkts_in"), 4);
	json_decref(a);
	xgw_offline_close(o);
}

static void test_drops(void **state)
{
	struct xgw_offline *o = open_dp();
	uint8_t f[2048];
	json_t *a;

	/* Refused by the drained service: its drop, by reason. */
	assert_int_equal(run1(o, f, pkt(f, false, "198.18.100.2", 0, 40000, XGW_PB_SYN, 0), 0), 0);
	assert_int_equal(run1(o, f, pkt(f, false, "198.18.100.2", 0, 40001, XGW_PB_SYN, 0), 0), 0);
	/* A bad-flag SYN+FIN to the other: refused as tcp_bad_flags. */
	assert_int_equal(
	    run1(o, f, pkt(f, false, "198.18.100.1", 0, 40002, XGW_PB_SYN | XGW_PB_FIN, 0), 0), 0);
	/* A tracked connection's bad segment: the backend's drop. */
	assert_int_equal(run1(o, f, pkt(f, false, "198.18.100.1", 0, 40003, XGW_PB_SYN, 0), 0), 1);
	assert_int_equal(run1(o, f, pkt(f, false, "198.18.100.1", 0, 40003, 0, 0), 0), 0);

	a = services(o);
	json_t *d1 = json_object_get(json_array_get(a, 1), "drops");
	assert_int_equal(json_integer_value(json_object_get(d1, "no_backend")), 2);
	assert_int_equal(json_object_size(d1), 1);
	assert_int_equal(val(a, 1, -1, "drops_total"), 2);
	json_t *d0 = json_object_get(json_array_get(a, 0), "drops");
	assert_int_equal(json_integer_value(json_object_get(d0, "tcp_bad_flags")), 1);
	assert_int_equal(val(a, 0, 0, "drops"), 1);
	assert_int_equal(val(a, 0, -1, "drops_total"), 2);
	assert_int_equal(val(a, 0, -1, "conns_new"), 1);
	json_decref(a);
	xgw_offline_close(o);
}

/* Slots are stable: a new snapshot without the backend, then with it
 * again, gives it the same slot and its counts carry on; a new backend
 * gets a new slot and starts at zero. */
static void test_slots_stable(void **state)
{
	struct xgw_offline *o = open_dp();
	struct xgw_dataplane *dp = xgw_offline_dataplane(o);
	struct xgw_config cfg;
	char err[256];
	uint8_t f[2048];

	assert_int_equal(run1(o, f, pkt(f, false, "198.18.100.1", 0, 40000, XGW_PB_SYN, 0), 0), 1);
	uint32_t slot = dp->snap->svcs[0]->be[1].ctr;
	assert_int_not_equal(slot, 0);

	/* Service 1 now has another backend only. */
	load_cfg(&cfg, "{'ports': [{'name': 'client', 'iface': 'xgw-c', 'queues': [{'queue': 0,"
		       " 'core': 0}]}], 'services': [{'vip': '198.18.100.1', 'port': 80, 'proto':"
		       " 'tcp', 'backends': [{'ip': '198.18.2.11', 'port': 8080}]}]}");
	struct xgw_snapshot *s2 = xgw_snapshot_build(&cfg, 1, 0x5eed, err, sizeof(err));
	assert_non_null(s2);
	assert_int_equal(xgw_svc_slots_assign(dp, s2, err, sizeof(err)), 0);
	assert_int_not_equal(s2->svcs[0]->be[1].ctr, slot);
	assert_int_not_equal(s2->svcs[0]->be[1].ctr, 0);
	assert_int_equal(s2->svcs[0]->ctr, dp->snap->svcs[0]->ctr);
	json_t *a = xgw_svc_stats_snap_json(dp, s2);
	assert_int_equal(val(a, 0, 0, "pkts_in"), 0);
	/* A service's totals are its current backends' (the removed one's
	 * connection counts on in its own slot, shown again below). */
	assert_int_equal(val(a, 0, -1, "conns_new"), 0);
	json_decref(a);
	xgw_snapshot_free(s2);
	xgw_config_free(&cfg);

	/* The original config again: same slot, counts carried on. */
	load_cfg(&cfg, CONFIG);
	s2 = xgw_snapshot_build(&cfg, 1, 0x5eed, err, sizeof(err));
	assert_non_null(s2);
	assert_int_equal(xgw_svc_slots_assign(dp, s2, err, sizeof(err)), 0);
	assert_int_equal(s2->svcs[0]->be[1].ctr, slot);
	a = xgw_svc_stats_snap_json(dp, s2);
	assert_int_equal(val(a, 0, 0, "pkts_in"), 1);
	assert_int_equal(val(a, 0, 0, "conns_active"), 1);
	json_decref(a);
	xgw_snapshot_free(s2);
	xgw_config_free(&cfg);
	xgw_offline_close(o);
}

/* A write that adds a service in front (every index moves) and a backend
 * to service 2 keeps every slot that was there: the slots are carried
 * from the running snapshot by (service, backend address), not by index,
 * and the new ones are distinct and new. */
static void test_slots_carried(void **state)
{
	struct xgw_offline *o = open_dp();
	struct xgw_dataplane *dp = xgw_offline_dataplane(o);
	const struct xgw_svc_rt *a1 = dp->snap->svcs[0], *a2 = dp->snap->svcs[1];
	struct xgw_config cfg;
	char err[256];

	load_cfg(&cfg, "{'ports': [{'name': 'client', 'iface': 'xgw-c', 'queues': [{'queue': 0,"
		       " 'core': 0}]}], 'services': ["
		       " {'vip': '198.18.100.3', 'port': 80, 'proto': 'tcp', 'backends':"
		       "   [{'ip': '198.18.2.12', 'port': 80}]},"
		       " {'vip': '198.18.100.1', 'port': 80, 'proto': 'tcp', 'backends':"
		       "   [{'ip': '198.18.2.10', 'port': 8080}]},"
		       " {'vip': '198.18.100.2', 'port': 80, 'proto': 'tcp', 'backends':"
		       "   [{'ip': '198.18.2.11', 'port': 8081},"
		       "    {'ip': '198.18.2.10', 'port': 8081, 'weight': 0}]}]}");
	struct xgw_snapshot *s2 = xgw_snapshot_build(&cfg, 1, 0x5eed, err, sizeof(err));
	assert_non_null(s2);
	assert_int_equal(xgw_svc_slots_assign(dp, s2, err, sizeof(err)), 0);
	const struct xgw_svc_rt *n3 = xgw_snapshot_service(s2, &a1->vip, a1->port, a1->proto);
	const struct xgw_svc_rt *n2 = xgw_snapshot_service(s2, &a2->vip, a2->port, a2->proto);
	assert_non_null(n3);
	assert_non_null(n2);
	assert_int_equal(n3->ctr, a1->ctr);
	assert_int_equal(n3->be[1].ctr, a1->be[1].ctr);
	assert_int_equal(n2->ctr, a2->ctr);
	/* 198.18.2.10:8081 moved from position 1 to 2: found by its key. */
	uint32_t old_be = a2->be[1].ctr, new_be = 0, added = 0;
	for (uint32_t b = 1; b <= n2->n_backends; b++) {
		if (n2->be[b].weight == 0) /* 198.18.2.10:8081 */
			new_be = n2->be[b].ctr;
		else
			added = n2->be[b].ctr;
	}
	assert_int_equal(new_be, old_be);
	uint32_t used[] = {a1->ctr, a2->ctr};
	uint32_t used_be[] = {a1->be[1].ctr, old_be};
	for (int i = 0; i < 2; i++) {
		assert_int_not_equal(s2->svcs[0]->ctr, used[i]);
		assert_int_not_equal(s2->svcs[0]->be[1].ctr, used_be[i]);
		assert_int_not_equal(added, used_be[i]);
	}
	assert_int_not_equal(s2->svcs[0]->ctr, 0);
	assert_int_not_equal(added, 0);
	assert_int_not_equal(added, s2->svcs[0]->be[1].ctr);
	xgw_snapshot_free(s2);
	xgw_config_free(&cfg);
	xgw_offline_close(o);
}

/* ---- trace and capture --------------------------------------------------- */

static json_t *tap_start(struct xgw_offline *o, enum xgw_tap_mode mode, const char *args)
{
	json_t *a = json_loads(args, 0, NULL);
	char err[256] = "";

	assert_non_null(a);
	if (xgw_tap_start(xgw_offline_dataplane(o), mode, a, err, sizeof(err)))
		fail_msg("tap start %s: %s", args, err);
	json_decref(a);
	return NULL;
}

static const char *rec_text(json_t *r, size_t i)
{
	return json_string_value(
	    json_object_get(json_array_get(json_object_get(r, "records"), i), "text"));
}

static void test_trace(void **state)
{
	struct xgw_offline *o = open_dp();
	struct xgw_dataplane *dp = xgw_offline_dataplane(o);
	uint8_t f[2048];
	char err[256];
	json_t *r;

	tap_start(o, XGW_TAP_TRACE, "{\"count\": 3, \"filter\": \"tcp port 40000 or port 40001\"}");
	/* Not matched: not traced (port 40009), but processed. */
	assert_int_equal(run1(o, f, pkt(f, false, "198.18.100.1", 0, 40009, XGW_PB_SYN, 0), 0), 1);
	assert_int_equal(run1(o, f, pkt(f, false, "198.18.100.1", 0, 40000, XGW_PB_SYN, 0), 0), 1);
	assert_int_equal(run1(o, f, pkt(f, true, NULL, 8080, 40000, XGW_PB_SYN | XGW_PB_ACK, 0), 1),
			 1);
	assert_int_equal(run1(o, f, pkt(f, false, "198.18.100.2", 0, 40001, XGW_PB_SYN, 0), 0), 0);
	/* The count is reached: a fourth match is not traced. */
	assert_int_equal(run1(o, f, pkt(f, false, "198.18.100.1", 0, 40001, XGW_PB_SYN, 0), 0), 1);

	r = xgw_tap_read(dp, XGW_TAP_TRACE, 100, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(json_array_size(json_object_get(r, "records")), 3);
	assert_true(json_is_true(json_object_get(r, "done")));
	const char *t0 = rec_text(r, 0), *t1 = rec_text(r, 1), *t2 = rec_text(r, 2);
	/* The new connection: parse, conntrack new, backend, NAT, route. */
	assert_non_null(strstr(t0, "port client queue 0"));
	assert_non_null(strstr(t0, "parse      ipv4 tcp 198.18.1.2:40000 -> 198.18.100.1:80 [S]"));
	assert_non_null(strstr(t0, "conntrack  new, syn_sent"));
	assert_non_null(strstr(t0, "backend    198.18.2.10:8080"));
	assert_non_null(strstr(t0, "nat        ipv4 tcp 198.18.1.2:40000 -> 198.18.2.10:8080"));
	assert_non_null(strstr(t0, "route      port backend, directly connected, dst mac "
				   "02:00:00:00:02:0a"));
	assert_non_null(strstr(t0, "verdict    forwarded"));
	/* The reply: a hit in the reply direction, reverse NAT. */
	assert_non_null(strstr(t1, "conntrack  hit (reply), syn_sent -> syn_recv"));
	assert_non_null(strstr(t1, "nat        ipv4 tcp 198.18.100.1:80 -> 198.18.1.2:40000 [SA]"));
	assert_non_null(strstr(t1, "route      port client"));
	/* Refused by the drained service. */
	assert_non_null(strstr(t2, "conntrack  none (new connection refused)"));
	assert_non_null(strstr(t2, "verdict    dropped: no_backend"));
	assert_null(strstr(t2, "nat "));
	json_decref(r);
	r = xgw_tap_stop(dp, XGW_TAP_TRACE, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(json_array_size(json_object_get(r, "records")), 0);
	json_decref(r);
	/* Stopped: nothing runs, and reading says so. */
	assert_null(xgw_tap_read(dp, XGW_TAP_TRACE, 100, err, sizeof(err)));
	assert_non_null(strstr(err, "no trace running"));
	xgw_offline_close(o);
}

static void test_trace_policy(void **state)
{
	struct xgw_offline *o;
	char err[256];
	uint8_t f[2048];
	json_t *r;
	static char text[4096];

	/* CONFIG with a policy: deny 198.18.1.0/24 to port 80 of .1 (id 7). */
	snprintf(text, sizeof(text),
		 "%.*s, 'policies': [{'id': 7, 'action': 'deny', 'src':"
		 " '198.18.1.0/24', 'dst': '198.18.100.1/32', 'proto': 'tcp', 'dport': '80'}]}",
		 (int)strlen(CONFIG) - 1, CONFIG);
	o = open_offline(text, false, 0);
	tap_start(o, XGW_TAP_TRACE, "{\"count\": 1}");
	assert_int_equal(run1(o, f, pkt(f, false, "198.18.100.1", 0, 40000, XGW_PB_SYN, 0), 0), 0);
	r = xgw_tap_stop(xgw_offline_dataplane(o), XGW_TAP_TRACE, err, sizeof(err));
	assert_non_null(r);
	assert_non_null(strstr(rec_text(r, 0), "policy     in: rule 7 matches"));
	assert_non_null(strstr(rec_text(r, 0), "verdict    dropped: policy_denied"));
	json_decref(r);
	xgw_offline_close(o);
}

static void test_capture(void **state)
{
	struct xgw_offline *o = open_dp();
	struct xgw_dataplane *dp = xgw_offline_dataplane(o);
	uint8_t f[2048];
	char err[256];
	json_t *r, *recs;
	int l_syn;

	tap_start(o, XGW_TAP_CAPTURE, "{\"count\": 10, \"dir\": \"tx\", \"port\": \"backend\"}");
	l_syn = pkt(f, false, "198.18.100.1", 0, 40000, XGW_PB_SYN, 0);
	assert_int_equal(run1(o, f, l_syn, 0), 1);
	/* Sent by the other port: not captured. */
	assert_int_equal(run1(o, f, pkt(f, true, NULL, 8080, 40000, XGW_PB_SYN | XGW_PB_ACK, 0), 1),
			 1);
	r = xgw_tap_read(dp, XGW_TAP_CAPTURE, 100, err, sizeof(err));
	assert_non_null(r);
	recs = json_object_get(r, "records");
	assert_int_equal(json_array_size(recs), 1);
	json_t *c = json_array_get(recs, 0);
	assert_string_equal(json_string_value(json_object_get(c, "dir")), "tx");
	assert_string_equal(json_string_value(json_object_get(c, "port")), "backend");
	assert_int_equal(json_integer_value(json_object_get(c, "wirelen")), l_syn);
	/* The frame as sent: to the backend's MAC, destination rewritten
	 * (198.18.2.10 = c6 12 02 0a at IPv4 offset 16). */
	const char *hexd = json_string_value(json_object_get(c, "data"));
	assert_int_equal(strlen(hexd), 2 * (size_t)l_syn);
	assert_memory_equal(hexd, "02000000020a", 12);
	assert_memory_equal(hexd + 2 * (14 + 16), "c612020a", 8);
	json_decref(r);

	/* Both directions, any port: a packet in, and out, two records. */
	tap_start(o, XGW_TAP_CAPTURE, "{\"count\": 2}");
	assert_int_equal(run1(o, f, pkt(f, false, "198.18.100.1", 0, 40000, XGW_PB_ACK, 0), 0), 1);
	assert_int_equal(run1(o, f, pkt(f, false, "198.18.100.1", 0, 40000, XGW_PB_ACK, 0), 0), 1);
	r = xgw_tap_stop(dp, XGW_TAP_CAPTURE, err, sizeof(err));
	recs = json_object_get(r, "records");
	assert_int_equal(json_array_size(recs), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 0), "dir")),
			    "rx");
	assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 0), "port")),
			    "client");
	assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 1), "dir")),
			    "tx");
	assert_int_equal(json_integer_value(json_object_get(r, "taken")), 2);
	json_decref(r);
	xgw_offline_close(o);
}

static void test_tap_bad_args(void **state)
{
	static const char *const bad[][2] = {
	    {"{\"count\": 0}", "args.count"},
	    {"{\"count\": 1001}", "args.count"},
	    {"{\"filter\": \"tcp port\"}", "filter \"tcp port\""},
	    {"{\"port\": \"nope\"}", "args.port: no port \"nope\""},
	    {"{\"dir\": \"up\"}", "args.dir"},
	    {"{\"timeout_s\": 0}", "args.timeout_s"},
	};
	struct xgw_offline *o = open_dp();
	struct xgw_dataplane *dp = xgw_offline_dataplane(o);
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *a = json_loads(bad[i][0], 0, NULL);

		err[0] = '\0';
		assert_int_not_equal(xgw_tap_start(dp, XGW_TAP_TRACE, a, err, sizeof(err)), 0);
		if (!strstr(err, bad[i][1]))
			fail_msg("%s: error \"%s\" lacks \"%s\"", bad[i][0], err, bad[i][1]);
		assert_null(dp->tap);
		json_decref(a);
	}
	xgw_offline_close(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counts_each_way), cmocka_unit_test(test_drops),
	    cmocka_unit_test(test_slots_stable),    cmocka_unit_test(test_slots_carried),
	    cmocka_unit_test(test_trace),	    cmocka_unit_test(test_trace_policy),
	    cmocka_unit_test(test_capture),	    cmocka_unit_test(test_tap_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
