/* SPDX-License-Identifier: BSD-3-Clause */
/* The tunnel stages in the worker's burst (offline data plane): a client's
 * SYN to a VIP leaves VXLAN- or Geneve-encapsulated towards its backend's
 * endpoint, the backend's encapsulated reply comes back decapsulated and
 * reverse-NATed, too big once encapsulated gets ICMP fragmentation needed
 * (DF) or a counted drop, an unknown VNI is dropped.  Expected frames are
 * built with tests/lib/pktbuild, never by running xgw. */
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
#include "pipeline/offline.h"
#include "tests/lib/pktbuild.h"
#include "tests/unit/load_cfg.h"

static const uint8_t MAC_P0[6] = {2, 0, 0, 0, 0, 0x10}, MAC_P1[6] = {2, 0, 0, 0, 0, 0x11};
static const uint8_t MAC_CLI[6] = {2, 0, 0, 0, 1, 2}, MAC_NODE[6] = {2, 0, 0, 0, 2, 0x20};
static const uint8_t MAC_INNER[6] = {2, 0, 0, 0, 4, 0x0a};
static const uint8_t OUTER_ADDRS[8] = {198, 18, 2, 1, 198, 18, 2, 20}; /* local_ip, remote */
static const uint8_t CLI_ADDR[4] = {198, 18, 1, 2};
static const uint8_t QUOTE_ADDRS[8] = {198, 18, 1, 2, 198, 18, 100, 1}; /* client, VIP */
static const uint8_t VXLAN_HDR[8] = {0x08, 0, 0, 0, 0, 0, 42, 0};
static const uint8_t GENEVE_HDR[8] = {0, 0, 0x65, 0x58, 0, 0, 43, 0};

static const char *const CONFIG =
    "{'ports': [{'name': 'client', 'iface': 'xgw-c', 'queues': [{'queue': 0, 'core': 0}]},"
    " {'name': 'backend', 'iface': 'xgw-b', 'queues': [{'queue': 0, 'core': 0}]}],"
    " 'conntrack': {'max_entries': 4096}, 'tunnel': {'local_ip': '198.18.2.1'},"
    " 'services': [{'vip': '198.18.100.1', 'port': 80, 'proto': 'tcp', 'backends': [{'ip':"
    "  '198.18.4.10', 'port': 8080, 'tunnel': {'type': 'vxlan', 'remote': '198.18.2.20', 'vni':"
    "  42, 'mac': '02:00:00:00:04:0a'}}]}, {'vip': '198.18.100.2', 'port': 80, 'proto': 'tcp',"
    "  'backends': [{'ip': '198.18.4.11', 'port': 8080, 'tunnel': {'type': 'geneve', 'remote':"
    "  '198.18.2.20', 'vni': 43}}]}],"
    " 'neighbours': [{'ip': '198.18.1.2', 'mac': '02:00:00:00:01:02', 'port': 'client'},"
    "  {'ip': '198.18.2.20', 'mac': '02:00:00:00:02:20', 'port': 'backend'}]}";

struct out {
	unsigned n;
	uint16_t port;
	uint8_t data[2048];
	uint32_t len;
};

static void on_tx(void *arg, uint32_t idx, uint16_t port, const uint8_t *data, uint32_t len)
{
	struct out *o = arg;

	o->n++;
	o->port = port;
	o->len = len < sizeof(o->data) ? len : sizeof(o->data);
	memcpy(o->data, data, o->len);
}

static struct out run1(struct xgw_offline *o, const uint8_t *f, int len, uint16_t port)
{
	struct xgw_offline_frame fr = {.data = f, .len = (uint32_t)len, .port = port, .ts_ns = 1};
	struct out out = {0};

	assert_true(len > 0);
	xgw_offline_run(o, &fr, 1, 1, on_tx, &out);
	return out;
}

static int syn(uint8_t *buf, const char *vip, uint16_t payload, bool df)
{
	static uint8_t data[1500];
	struct xgw_pb b = {.src = xgw_pb_ip("198.18.1.2"),
			   .dst = xgw_pb_ip(vip),
			   .proto = IPPROTO_TCP,
			   .sport = 40000,
			   .dport = 80,
			   .tcp_flags = payload ? XGW_PB_ACK : XGW_PB_SYN,
			   .seq = 1000,
			   .frag = df ? 0x4000 : 0,
			   .payload = data,
			   .payload_len = payload};

	memcpy(b.src_mac, MAC_CLI, 6);
	memcpy(b.dst_mac, MAC_P0, 6);
	return xgw_pb_build(&b, buf, 2048);
}

/* Encapsulated to us from the node: tunnel header hdr (8 bytes) + inner. */
static int encapsulated(uint8_t *buf, uint16_t dport, const uint8_t *hdr, const uint8_t *inner,
			int ilen)
{
	uint8_t payload[2048];
	struct xgw_pb b = {.src = xgw_pb_ip("198.18.2.20"),
			   .dst = xgw_pb_ip("198.18.2.1"),
			   .proto = IPPROTO_UDP,
			   .sport = 55555,
			   .dport = dport,
			   .payload = payload,
			   .payload_len = (size_t)ilen + 8};

	memcpy(b.src_mac, MAC_NODE, 6);
	memcpy(b.dst_mac, MAC_P1, 6);
	memcpy(payload, hdr, 8);
	memcpy(payload + 8, inner, (size_t)ilen);
	return xgw_pb_build(&b, buf, 2048);
}

static void through(const char *vip, const char *be, uint16_t dport, const uint8_t *hdr,
		    const uint8_t *inner_mac)
{
	struct xgw_offline *o = open_offline(CONFIG, false, 0);
	uint8_t in[2048], want[2048], reply[2048];
	struct xgw_pb inner = {.src = xgw_pb_ip("198.18.1.2"),
			       .dst = xgw_pb_ip(be),
			       .proto = IPPROTO_TCP,
			       .sport = 40000,
			       .dport = 8080,
			       .tcp_flags = XGW_PB_SYN,
			       .seq = 1000};
	struct out out;
	uint16_t v;
	int len, wlen;

	/* Out: outer to the node, the inner SYN DNATed (TTL unchanged). */
	len = syn(in, vip, 0, false);
	out = run1(o, in, len, 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.port, 1);
	memcpy(inner.dst_mac, inner_mac, 6);
	memcpy(inner.src_mac, MAC_P1, 6);
	wlen = xgw_pb_build(&inner, want, sizeof(want));
	assert_int_equal(out.len, (uint32_t)wlen + 50);
	assert_memory_equal(out.data, MAC_NODE, 6);
	assert_memory_equal(out.data + 6, MAC_P1, 6);
	assert_true(xgw_pb_csum_ok(out.data, out.len));
	assert_memory_equal(out.data + 14 + 12, OUTER_ADDRS, 8);
	memcpy(&v, out.data + 36, 2);
	assert_int_equal(ntohs(v), dport);
	assert_memory_equal(out.data + 42, hdr, 8);
	assert_memory_equal(out.data + 50, want, (size_t)wlen);
	assert_true(xgw_pb_csum_ok(out.data + 50, (size_t)wlen));

	/* Back: the backend's SYN-ACK, encapsulated by the node. */
	struct xgw_pb sa = {.src = xgw_pb_ip(be),
			    .dst = xgw_pb_ip("198.18.1.2"),
			    .proto = IPPROTO_TCP,
			    .sport = 8080,
			    .dport = 40000,
			    .tcp_flags = XGW_PB_SYN | XGW_PB_ACK,
			    .seq = 5000,
			    .ack = 1001};
	memcpy(sa.src_mac, inner_mac, 6);
	memcpy(sa.dst_mac, MAC_P1, 6);
	wlen = xgw_pb_build(&sa, want, sizeof(want));
	len = encapsulated(reply, dport, hdr, want, wlen);
	out = run1(o, reply, len, 1);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.port, 0);
	sa.src = xgw_pb_ip(vip);
	sa.sport = 80;
	sa.ttl = 63;
	memcpy(sa.src_mac, MAC_P0, 6);
	memcpy(sa.dst_mac, MAC_CLI, 6);
	wlen = xgw_pb_build(&sa, want, sizeof(want));
	assert_int_equal(out.len, (uint32_t)wlen);
	assert_memory_equal(out.data, want, (size_t)wlen);

	/* An unknown VNI is dropped with its reason. */
	uint8_t bad[8];
	struct xgw_offline_counters c;
	memcpy(bad, hdr, 8);
	bad[6] ^= 1;
	len = encapsulated(reply, dport, bad, want, wlen);
	out = run1(o, reply, len, 1);
	assert_int_equal(out.n, 0);
	xgw_offline_counters(o, &c);
	assert_int_equal(c.drops[XGW_DROP_TUNNEL_UNKNOWN], 1);
	xgw_offline_close(o);
}

static void test_vxlan_through_the_pipeline(void **state)
{
	through("198.18.100.1", "198.18.4.10", 4789, VXLAN_HDR, MAC_INNER);
}

static void test_geneve_through_the_pipeline(void **state)
{
	/* no inner MAC configured: xgw's own */
	through("198.18.100.2", "198.18.4.11", 6081, GENEVE_HDR, MAC_P1);
}

static void test_too_big(void **state)
{
	struct xgw_offline *o = open_offline(CONFIG, false, 0);
	struct xgw_offline_counters c;
	uint8_t in[2048];
	struct out out;
	uint16_t v;
	int len;

	/* 1500 bytes of IP with DF: ICMP fragmentation needed, MTU 1450,
	 * quoting the packet as the client sent it (to the VIP). */
	len = syn(in, "198.18.100.1", 1460, true);
	out = run1(o, in, len, 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.port, 0);
	assert_true(xgw_pb_csum_ok(out.data, out.len));
	assert_int_equal(out.data[14 + 9], IPPROTO_ICMP);
	assert_memory_equal(out.data + 14 + 16, CLI_ADDR, 4);
	assert_int_equal(out.data[34], 3); /* destination unreachable */
	assert_int_equal(out.data[35], 4); /* fragmentation needed */
	memcpy(&v, out.data + 34 + 6, 2);
	assert_int_equal(ntohs(v), 1450);
	assert_memory_equal(out.data + 42 + 12, QUOTE_ADDRS, 8);
	memcpy(&v, out.data + 42 + 20 + 2, 2);
	assert_int_equal(ntohs(v), 80);
	/* Without DF: a counted drop.  1450 bytes of IP still fit. */
	len = syn(in, "198.18.100.1", 1460, false);
	out = run1(o, in, len, 0);
	assert_int_equal(out.n, 0);
	xgw_offline_counters(o, &c);
	assert_int_equal(c.drops[XGW_DROP_MTU], 1);
	assert_int_equal(c.icmp_sent, 1);
	len = syn(in, "198.18.100.1", 1410, true);
	out = run1(o, in, len, 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.port, 1);
	assert_int_equal(out.len, 14 + 1500); /* outer IP at the MTU exactly */
	xgw_offline_close(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vxlan_through_the_pipeline),
	    cmocka_unit_test(test_geneve_through_the_pipeline),
	    cmocka_unit_test(test_too_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
