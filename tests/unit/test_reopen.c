/* SPDX-License-Identifier: BSD-3-Clause */
/* A client's SYN on its closed connection's tuple (it reused its source
 * port for the same VIP) through the offline data plane: a new connection
 * whose backend is picked afresh, as nf_conntrack kills a closed
 * connection a SYN reopens and looks it up again; not the old backend,
 * which may since have been drained or gone down.  An rr service over two
 * backends makes the fresh pick visible: the old conntrack state machine
 * reopened the entry in place and kept the first backend.  The kernel
 * datapath's rule is test_kdp's test_reopen_repicks. */
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

#include "common/drop.h"
#include "ctl/config.h"
#include "lb/conntrack.h"
#include "pipeline/lb_fast.h"
#include "pipeline/offline.h"
#include "pipeline/worker.h"
#include "tests/lib/pktbuild.h"
#include "tests/unit/load_cfg.h"

static const uint8_t MAC_CLI[6] = {2, 0, 0, 0, 1, 2}, MAC_P0[6] = {2, 0, 0, 0, 0, 0x10};
static const uint8_t MAC_BE[6] = {2, 0, 0, 0, 2, 0x10}, MAC_P1[6] = {2, 0, 0, 0, 0, 0x11};

static const char *const CONFIG =
    "{'ports': [{'name': 'client', 'iface': 'xgw-c', 'queues': [{'queue': 0, 'core': 0}]},"
    " {'name': 'backend', 'iface': 'xgw-b', 'queues': [{'queue': 0, 'core': 0}]}],"
    " 'conntrack': {'max_entries': 4096, 'tcp_close_timeout_s': 120},"
    " 'services': ["
    "  {'vip': '198.18.100.1', 'port': 80, 'proto': 'tcp', 'algorithm': 'rr',"
    "   'backends': [{'ip': '198.18.2.10', 'port': 8080}, {'ip': '198.18.2.11', 'port': 8080}]}],"
    " 'neighbours': [{'ip': '198.18.1.2', 'mac': '02:00:00:00:01:02', 'port': 'client'},"
    "  {'ip': '198.18.2.10', 'mac': '02:00:00:00:02:10', 'port': 'backend'},"
    "  {'ip': '198.18.2.11', 'mac': '02:00:00:00:02:11', 'port': 'backend'}]}";

struct out {
	unsigned n;
	uint8_t data[2048];
	uint32_t len;
};

static void on_tx(void *arg, uint32_t idx, uint16_t port, const uint8_t *data, uint32_t len)
{
	struct out *o = arg;

	(void)idx;
	(void)port;
	o->n++;
	o->len = len < sizeof(o->data) ? len : sizeof(o->data);
	memcpy(o->data, data, o->len);
}

/* One segment of the client's 198.18.1.2:40000 <-> VIP:80 (be: 0, from the
 * client; 10 or 11, from 198.18.2.1x:8080) at second t.  Returns the last
 * octet of the translated destination (the backend picked) for a client's
 * segment, 1 (the VIP's, as the source) for a backend's, 0 if nothing
 * left. */
static unsigned seg(struct xgw_offline *o, unsigned be, uint8_t flags, uint64_t t)
{
	char ip[32];
	uint8_t f[256];
	struct out out = {0};

	snprintf(ip, sizeof(ip), "198.18.2.%u", be);
	struct xgw_pb b = {.src = xgw_pb_ip(be ? ip : "198.18.1.2"),
			   .dst = xgw_pb_ip(be ? "198.18.1.2" : "198.18.100.1"),
			   .proto = IPPROTO_TCP,
			   .sport = be ? 8080 : 40000,
			   .dport = be ? 40000 : 80,
			   .tcp_flags = flags};
	memcpy(b.src_mac, be ? MAC_BE : MAC_CLI, 6);
	memcpy(b.dst_mac, be ? MAC_P1 : MAC_P0, 6);
	int len = xgw_pb_build(&b, f, sizeof(f));
	assert_true(len > 0);
	struct xgw_offline_frame fr = {
	    .data = f, .len = (uint32_t)len, .port = be ? 1 : 0, .ts_ns = t * 1000000000ull};
	xgw_offline_run(o, &fr, 1, 1, on_tx, &out);
	if (!out.n)
		return 0;
	assert_int_equal(out.n, 1);
	assert_true(xgw_pb_csum_ok(out.data, out.len));
	return be ? out.data[14 + 15] : out.data[14 + 19];
}

static uint64_t created(struct xgw_offline *o)
{
	struct xgw_ct_stats st;

	xgw_ct_get_stats(xgw_offline_dataplane(o)->ct, &st);
	return st.created;
}

static void test_reopen_repicks(void **state)
{
	struct xgw_offline *o = open_offline(CONFIG, false, 0);
	struct xgw_offline_counters c;
	uint64_t t = 1;
	const uint8_t SYN = XGW_PB_SYN, ACK = XGW_PB_ACK, FIN = XGW_PB_FIN, RST = XGW_PB_RST;

	(void)state;
	/* A whole connection to the first rr pick, closed by both FINs. */
	unsigned a = seg(o, 0, SYN, t++);
	assert_true(a == 10 || a == 11);
	assert_int_equal(seg(o, a, SYN | ACK, t++), 1);
	assert_int_equal(seg(o, 0, ACK, t++), a);
	assert_int_equal(seg(o, 0, FIN | ACK, t++), a);
	assert_int_equal(seg(o, a, FIN | ACK, t++), 1);
	assert_int_equal(seg(o, 0, ACK, t++), a); /* TIME_WAIT: still tracked */
	assert_int_equal(created(o), 1);

	/* The client reuses the port: a new connection, to the other
	 * backend (rr moved on), counted as created. */
	unsigned b = seg(o, 0, SYN, t++);
	assert_int_equal(b, a == 10 ? 11 : 10);
	assert_int_equal(created(o), 2);
	assert_int_equal(seg(o, b, SYN | ACK, t++), 1);
	/* the first backend's late segment matches nothing now */
	xgw_offline_counters(o, &c);
	uint64_t inv = c.drops[XGW_DROP_CT_INVALID];
	assert_int_equal(seg(o, a, ACK, t++), 0);
	xgw_offline_counters(o, &c);
	assert_int_equal(c.drops[XGW_DROP_CT_INVALID], inv + 1);

	/* Open, a SYN is a retransmission: same backend, nothing created. */
	assert_int_equal(seg(o, 0, SYN, t++), b);
	assert_int_equal(created(o), 2);
	/* Aborted by a RST (CLOSE), then an ECN setup SYN (SYN, ECE, CWR)
	 * reopens it: a fresh pick again. */
	assert_int_equal(seg(o, 0, RST, t++), b);
	assert_int_equal(seg(o, 0, SYN | 0xc0, t++), a);
	assert_int_equal(created(o), 3);
	xgw_offline_close(o);
}

/* A new connection's first packet is counted once, in its ORIG
 * direction (the LB stage has it counted at the creation: struct
 * xgw_ct_init.first_bytes), and the next ones on top of it, the SYN's
 * state as before. */
static void test_first_counted(void **state)
{
	struct xgw_offline *o = open_offline(CONFIG, false, 0);
	struct xgw_ct_table *ct = xgw_offline_dataplane(o)->ct;
	struct xgw_addr cli, vip;
	struct xgw_ct_tuple k;
	enum xgw_ct_dir d;

	(void)state;
	xgw_addr_v4(&cli, inet_addr("198.18.1.2"));
	xgw_addr_v4(&vip, inet_addr("198.18.100.1"));
	xgw_ct_tuple_init(&k, &cli, htons(40000), &vip, htons(80), IPPROTO_TCP);
	unsigned a = seg(o, 0, XGW_PB_SYN, 1);
	assert_true(a == 10 || a == 11);
	struct xgw_ct_conn *c = xgw_ct_lookup(ct, &k, 1000000000ull, &d);
	assert_non_null(c);
	assert_int_equal(d, XGW_CT_ORIG);
	assert_int_equal(c->state, XGW_CT_SYN_SENT);
	assert_int_equal(c->pkts[XGW_CT_ORIG], 1);
	assert_int_equal(c->pkts[XGW_CT_REPLY], 0);
	uint64_t first = c->bytes[XGW_CT_ORIG];
	assert_true(first >= 54); /* Ethernet, IPv4, TCP */
	assert_int_equal(seg(o, a, XGW_PB_SYN | XGW_PB_ACK, 2), 1);
	assert_int_equal(seg(o, 0, XGW_PB_ACK, 3), a);
	assert_int_equal(c->state, XGW_CT_ESTABLISHED);
	assert_int_equal(c->pkts[XGW_CT_ORIG], 2);
	assert_int_equal(c->bytes[XGW_CT_ORIG], 2 * first);
	assert_int_equal(c->pkts[XGW_CT_REPLY], 1);
	xgw_offline_close(o);
}

/* xgw_tcp_flags_bad's one-word table against the predicate it holds, for
 * every flags byte. */
static void test_flags_bad_table(void **state)
{
	(void)state;
	for (unsigned f = 0; f < 256; f++) {
		bool want = ((f & XGW_TCP_SYN) && (f & (XGW_TCP_FIN | XGW_TCP_RST))) ||
			    !(f & (XGW_TCP_SYN | XGW_TCP_ACK | XGW_TCP_RST));
		assert_int_equal(xgw_tcp_flags_bad((uint8_t)f), want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reopen_repicks),
	    cmocka_unit_test(test_first_counted),
	    cmocka_unit_test(test_flags_bad_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
