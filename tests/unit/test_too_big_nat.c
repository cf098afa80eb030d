/* SPDX-License-Identifier: BSD-3-Clause */
/* Path MTU discovery through a service (offline data plane): a packet of
 * a service flow that does not fit the egress MTU gets ICMP fragmentation
 * needed (IPv4, DF set) or packet too big (IPv6) that quotes the packet as
 * its sender sent it, byte for byte: the client's own to the VIP, before
 * DNAT and SNAT, and the backend's own reply, before the reverse NAT.
 * Time exceeded (TTL 1 to a VIP) quotes the same way.
 * Linux finds the socket of an ICMP error by the quoted addresses and
 * ports; a quote with the backend's address matches nothing on the client.
 * Expected quotes are the frames the test itself built (tests/lib/pktbuild),
 * never frames xgw produced. */
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

#include "ctl/config.h"
#include "pipeline/offline.h"
#include "tests/lib/pktbuild.h"
#include "tests/unit/load_cfg.h"

#define MTU 1400

static const uint8_t MAC_P0[6] = {2, 0, 0, 0, 0, 0x10}, MAC_P1[6] = {2, 0, 0, 0, 0, 0x11};
static const uint8_t MAC_CLI[6] = {2, 0, 0, 0, 1, 2}, MAC_BE[6] = {2, 0, 0, 0, 2, 0x10};

static const char *const CONFIG =
    "{'ports': [{'name': 'client', 'iface': 'xgw-c', 'queues': [{'queue': 0, 'core': 0}]},"
    " {'name': 'backend', 'iface': 'xgw-b', 'queues': [{'queue': 0, 'core': 0}]}],"
    " 'conntrack': {'max_entries': 4096},"
    " 'services': ["
    "  {'vip': '198.18.100.1', 'port': 80, 'proto': 'tcp',"
    "   'backends': [{'ip': '198.18.2.10', 'port': 8080}]},"
    "  {'vip': '198.18.100.2', 'port': 53, 'proto': 'udp', 'snat': true,"
    "   'backends': [{'ip': '198.18.2.10', 'port': 5353}]},"
    "  {'vip': '2001:db8:100::1', 'port': 80, 'proto': 'tcp',"
    "   'backends': [{'ip': '2001:db8:2::10', 'port': 8080}]}],"
    " 'neighbours': [{'ip': '198.18.1.2', 'mac': '02:00:00:00:01:02', 'port': 'client'},"
    "  {'ip': '198.18.2.10', 'mac': '02:00:00:00:02:10', 'port': 'backend'},"
    "  {'ip': '2001:db8:1::2', 'mac': '02:00:00:00:01:02', 'port': 'client'},"
    "  {'ip': '2001:db8:2::10', 'mac': '02:00:00:00:02:10', 'port': 'backend'}]}";

struct out {
	unsigned n;
	uint16_t port;
	uint8_t data[2048];
	uint32_t len;
};

static void on_tx(void *arg, uint32_t idx, uint16_t port, const uint8_t *data, uint32_t len)
{
	struct out *o = arg;

	(void)idx;
	o->n++;
	o->port = port;
	o->len = len < sizeof(o->data) ? len : sizeof(o->data);
	memcpy(o->data, data, o->len);
}

/* Both ports at MTU 1400: a 1500-byte packet fits neither way. */
static struct xgw_offline *open_dp(void)
{
	return open_offline(CONFIG, true, MTU);
}

static struct out run1(struct xgw_offline *o, const uint8_t *f, int len, uint16_t port)
{
	struct xgw_offline_frame fr = {.data = f, .len = (uint32_t)len, .port = port, .ts_ns = 1};
	struct out out = {0};

	assert_true(len > 0);
	xgw_offline_run(o, &fr, 1, 1, on_tx, &out);
	return out;
}

/* A frame of b with l3 bytes of IP in all, DF set (IPv4), from mac to
 * mac. */
static int build(struct xgw_pb *b, uint8_t *buf, unsigned l3, const uint8_t *src_mac,
		 const uint8_t *dst_mac)
{
	static uint8_t data[1500];
	bool v4 = b->src.family == AF_INET;
	unsigned l4 = b->proto == IPPROTO_TCP ? 20 : 8;

	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	memcpy(b->src_mac, src_mac, 6);
	memcpy(b->dst_mac, dst_mac, 6);
	b->payload = data;
	b->payload_len = l3 - (v4 ? 20 : 40) - l4;
	if (v4)
		b->frag = 0x4000;
	return xgw_pb_build(b, buf, 2048);
}

/* out is an ICMP error of type/code about `sent` (a frame of sent_len)
 * from the port address `from` to the sender `to` out of port `port`:
 * bytes 4-7 of the ICMP header `rest` (the MTU, or 0), checksums right in
 * full, and the quote byte for byte what was sent (IPv4: its header and 8
 * bytes; IPv6: as much as fits 1280 bytes). */
static void check_icmp(const struct out *out, uint16_t port, const char *from, const char *to,
		       const uint8_t *sent, int sent_len, uint8_t type, uint8_t code, uint32_t rest)
{
	bool v4 = xgw_pb_ip(to).family == AF_INET;
	unsigned ihl = v4 ? 20 : 40;
	unsigned quote = v4 ? 28 : (unsigned)sent_len - 14 < 1232 ? (unsigned)sent_len - 14 : 1232;
	const uint8_t *ip = out->data + 14, *ic = ip + ihl;
	struct xgw_addr a = xgw_pb_ip(from), b = xgw_pb_ip(to);
	uint32_t r;

	assert_int_equal(out->n, 1);
	assert_int_equal(out->port, port);
	assert_true(xgw_pb_csum_ok(out->data, out->len));
	assert_int_equal(out->len, 14 + ihl + 8 + quote);
	assert_true(sent_len >= (int)(14 + quote));
	if (v4) {
		assert_int_equal(ip[9], IPPROTO_ICMP);
		assert_memory_equal(ip + 12, a.b, 4);
		assert_memory_equal(ip + 16, b.b, 4);
	} else {
		assert_int_equal(ip[6], IPPROTO_ICMPV6);
		assert_memory_equal(ip + 8, a.b, 16);
		assert_memory_equal(ip + 24, b.b, 16);
	}
	assert_int_equal(ic[0], type);
	assert_int_equal(ic[1], code);
	memcpy(&r, ic + 4, 4);
	assert_int_equal(ntohl(r), rest);
	/* The quoted IPv4 header's checksum is the sender's: the bytes
	 * compared include it, and the L4 checksum (UDP: in the 8 bytes;
	 * IPv6: the whole TCP header). */
	assert_memory_equal(ic + 8, sent + 14, quote);
}

/* Fragmentation needed (IPv4: type 3 code 4) or packet too big (IPv6:
 * type 2), with MTU. */
static void check_error(const struct out *out, uint16_t port, const char *from, const char *to,
			const uint8_t *sent, int sent_len)
{
	if (xgw_pb_ip(to).family == AF_INET)
		check_icmp(out, port, from, to, sent, sent_len, 3, 4, MTU);
	else
		check_icmp(out, port, from, to, sent, sent_len, 2, 0, MTU);
}

static void test_ipv4_dnat(void **state)
{
	struct xgw_offline *o = open_dp();
	struct xgw_pb cli = {.src = xgw_pb_ip("198.18.1.2"),
			     .dst = xgw_pb_ip("198.18.100.1"),
			     .proto = IPPROTO_TCP,
			     .sport = 40000,
			     .dport = 80,
			     .tcp_flags = XGW_PB_SYN,
			     .seq = 1000};
	struct xgw_pb be = {.src = xgw_pb_ip("198.18.2.10"),
			    .dst = xgw_pb_ip("198.18.1.2"),
			    .proto = IPPROTO_TCP,
			    .sport = 8080,
			    .dport = 40000,
			    .tcp_flags = XGW_PB_ACK,
			    .seq = 5000,
			    .ack = 1001};
	uint8_t in[2048];
	struct out out;
	int len;

	(void)state;
	len = build(&cli, in, 60, MAC_CLI, MAC_P0);
	out = run1(o, in, len, 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.port, 1); /* DNATed to the backend */
	/* The client's 1500 bytes: the error quotes them to the VIP. */
	cli.tcp_flags = XGW_PB_ACK;
	cli.seq = 1001;
	len = build(&cli, in, 1500, MAC_CLI, MAC_P0);
	out = run1(o, in, len, 0);
	check_error(&out, 0, "198.18.1.1", "198.18.1.2", in, len);
	/* Fits: still forwarded, DNATed. */
	len = build(&cli, in, MTU, MAC_CLI, MAC_P0);
	out = run1(o, in, len, 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.port, 1);
	/* The backend's 1500 bytes back: the error goes to the backend and
	 * quotes its own packet, not the VIP's. */
	len = build(&be, in, 1500, MAC_BE, MAC_P1);
	out = run1(o, in, len, 1);
	check_error(&out, 1, "198.18.2.1", "198.18.2.10", in, len);
	/* TTL 1 (traceroute to the VIP): time exceeded quotes the same way. */
	cli.ttl = 1;
	len = build(&cli, in, 100, MAC_CLI, MAC_P0);
	out = run1(o, in, len, 0);
	check_icmp(&out, 0, "198.18.1.1", "198.18.1.2", in, len, 11, 0, 0);
	xgw_offline_close(o);
}

static void test_ipv4_snat_udp(void **state)
{
	struct xgw_offline *o = open_dp();
	struct xgw_pb cli = {.src = xgw_pb_ip("198.18.1.2"),
			     .dst = xgw_pb_ip("198.18.100.2"),
			     .proto = IPPROTO_UDP,
			     .sport = 40001,
			     .dport = 53};
	struct xgw_pb be = {.src = xgw_pb_ip("198.18.2.10"),
			    .dst = xgw_pb_ip("198.18.2.1"),
			    .proto = IPPROTO_UDP,
			    .sport = 5353};
	uint8_t in[2048];
	struct out out;
	uint16_t snat_port;
	int len;

	(void)state;
	len = build(&cli, in, 100, MAC_CLI, MAC_P0);
	out = run1(o, in, len, 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.port, 1);
	/* Source and destination both translated: from the gateway. */
	assert_memory_equal(out.data + 14 + 12, xgw_pb_ip("198.18.2.1").b, 4);
	memcpy(&snat_port, out.data + 34, 2);
	/* The quote's 8 UDP bytes include its checksum: the client's. */
	len = build(&cli, in, 1500, MAC_CLI, MAC_P0);
	out = run1(o, in, len, 0);
	check_error(&out, 0, "198.18.1.1", "198.18.1.2", in, len);
	/* The reply to the SNAT address, too big for the client's side. */
	be.dport = ntohs(snat_port);
	len = build(&be, in, 1500, MAC_BE, MAC_P1);
	out = run1(o, in, len, 1);
	check_error(&out, 1, "198.18.2.1", "198.18.2.10", in, len);
	xgw_offline_close(o);
}

static void test_ipv6_dnat(void **state)
{
	struct xgw_offline *o = open_dp();
	struct xgw_pb cli = {.src = xgw_pb_ip("2001:db8:1::2"),
			     .dst = xgw_pb_ip("2001:db8:100::1"),
			     .proto = IPPROTO_TCP,
			     .sport = 40002,
			     .dport = 80,
			     .tcp_flags = XGW_PB_SYN,
			     .seq = 1000};
	struct xgw_pb be = {.src = xgw_pb_ip("2001:db8:2::10"),
			    .dst = xgw_pb_ip("2001:db8:1::2"),
			    .proto = IPPROTO_TCP,
			    .sport = 8080,
			    .dport = 40002,
			    .tcp_flags = XGW_PB_ACK,
			    .seq = 5000,
			    .ack = 1001};
	uint8_t in[2048];
	struct out out;
	int len;

	(void)state;
	len = build(&cli, in, 80, MAC_CLI, MAC_P0);
	out = run1(o, in, len, 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.port, 1);
	/* 1232 bytes quoted: the TCP header with its checksum and payload. */
	cli.tcp_flags = XGW_PB_ACK;
	cli.seq = 1001;
	len = build(&cli, in, 1500, MAC_CLI, MAC_P0);
	out = run1(o, in, len, 0);
	check_error(&out, 0, "2001:db8:1::1", "2001:db8:1::2", in, len);
	len = build(&be, in, 1500, MAC_BE, MAC_P1);
	out = run1(o, in, len, 1);
	check_error(&out, 1, "2001:db8:2::1", "2001:db8:2::10", in, len);
	/* Hop limit 1: time exceeded, the whole 100-byte packet quoted. */
	cli.ttl = 1;
	len = build(&cli, in, 100, MAC_CLI, MAC_P0);
	out = run1(o, in, len, 0);
	check_icmp(&out, 0, "2001:db8:1::1", "2001:db8:1::2", in, len, 3, 0, 0);
	cli.ttl = 0;
	/* Routed, no service flow: the same error.  (Every full-size packet
	 * too big has a 1232-byte quote; its ICMPv6 checksum was once off by
	 * 0x100, a 32-bit overflow of the pseudo-header sum.) */
	be.sport = 1;
	be.dport = 2;
	len = build(&be, in, 1500, MAC_BE, MAC_P1);
	out = run1(o, in, len, 1);
	check_error(&out, 1, "2001:db8:2::1", "2001:db8:2::10", in, len);
	xgw_offline_close(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipv4_dnat),
	    cmocka_unit_test(test_ipv4_snat_udp),
	    cmocka_unit_test(test_ipv6_dnat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
