/* SPDX-License-Identifier: BSD-3-Clause */
/* Hostile input, class by class (the table in README.md "Hostile input"):
 * each case is a frame built with tests/lib/pktbuild and then spoilt, the
 * port it arrives on, and what must happen: dropped with one named reason,
 * or transmitted on one port.  One frame per burst through the offline
 * pipeline; every frame is accounted for exactly once (one drop counter, or
 * one transmission), and the total over the table is checked at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>

#include "common/csum.h"
#include "ctl/config.h"
#include "pipeline/offline.h"
#include "tests/lib/pktbuild.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
/* A case starts from a template (SYN_TO) and overrides some of its fields. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Winitializer-overrides"
#else
#pragma GCC diagnostic ignored "-Woverride-init"
#pragma GCC diagnostic ignored "-Woverride-init-side-effects"
#endif

/* Ports "client" 198.18.1.1/24 and "backend" 198.18.2.1/24 (also the
 * tunnel's local_ip); services on 198.18.100.1 (TCP, two backends),
 * .2 (UDP), .5 (TCP over VXLAN VNI 42 from 198.18.2.20) and
 * 2001:db8:100::1 (TCP). */
static const char *const CONFIG =
    "{'ports': [{'name': 'client', 'iface': 'xgw-c', 'queues': [{'queue': 0, 'core': 0}]},"
    " {'name': 'backend', 'iface': 'xgw-b', 'queues': [{'queue': 0, 'core': 0}]}],"
    " 'conntrack': {'max_entries': 4096}, 'lb': {'maglev_size': 251},"
    " 'tunnel': {'local_ip': '198.18.2.1'},"
    " 'services': ["
    "  {'vip': '198.18.100.1', 'port': 80, 'proto': 'tcp', 'backends': ["
    "   {'ip': '198.18.2.10', 'port': 8080}, {'ip': '198.18.2.11', 'port': 8080}]},"
    "  {'vip': '198.18.100.2', 'port': 53, 'proto': 'udp', 'backends': ["
    "   {'ip': '198.18.2.10', 'port': 5353}]},"
    "  {'vip': '198.18.100.5', 'port': 80, 'proto': 'tcp', 'backends': ["
    "   {'ip': '198.18.4.10', 'port': 8080, 'tunnel': {'type': 'vxlan', 'remote':"
    "    '198.18.2.20', 'vni': 42, 'mac': '02:00:00:00:04:0a'}}]},"
    "  {'vip': '2001:db8:100::1', 'port': 80, 'proto': 'tcp', 'backends': ["
    "   {'ip': '2001:db8:2::10', 'port': 8080}]}],"
    " 'routes': [{'dst': '198.18.5.0/24', 'via': '198.18.2.2', 'port': 'backend'}],"
    " 'neighbours': ["
    "  {'ip': '198.18.1.2', 'mac': '02:00:00:00:01:02', 'port': 'client'},"
    "  {'ip': '198.18.2.10', 'mac': '02:00:00:00:02:10', 'port': 'backend'},"
    "  {'ip': '198.18.2.11', 'mac': '02:00:00:00:02:11', 'port': 'backend'},"
    "  {'ip': '198.18.2.2', 'mac': '02:00:00:00:02:02', 'port': 'backend'},"
    "  {'ip': '198.18.2.20', 'mac': '02:00:00:00:02:20', 'port': 'backend'},"
    "  {'ip': '2001:db8:2::10', 'mac': '02:00:00:00:02:10', 'port': 'backend'}]}";

enum { P_CLIENT = 0, P_BACKEND = 1, SENT = 0 };

#define MAC_P0	{2, 0, 0, 0, 0, 0x10}
#define MAC_P1	{2, 0, 0, 0, 0, 0x11}
#define MAC_CLI {2, 0, 0, 0, 1, 2}
#define MAC_BE	{2, 0, 0, 0, 2, 0x10}
#define CLI	.src_mac = MAC_CLI, .dst_mac = MAC_P0
#define BE	.src_mac = MAC_BE, .dst_mac = MAC_P1
#define IP(s)	xgw_pb_ip(s)
#define SYN_TO(vip)                                                                            \
	.src = IP("198.18.1.2"), .dst = IP(vip), .proto = IPPROTO_TCP, .sport = 40000,         \
	.dport = 80, .tcp_flags = XGW_PB_SYN

/* How a built frame is spoilt. */
enum spoil {
	NONE,
	CUT,	    /* frame cut to arg bytes */
	IP4_TOT,    /* IPv4 total length := arg, checksum fixed */
	IP4_IHL,    /* IHL := arg, checksum fixed */
	TCP_DOFF,   /* data offset := arg */
	UDP_LEN,    /* UDP length := arg */
	IP6_PLEN,   /* IPv6 payload length := arg */
	PAD,	    /* frame grown to arg bytes (zeros after the packet) */
	VXLAN_NEST, /* the frame wrapped in VXLAN VNI 42 from 198.18.2.20 */
};

struct hcase {
	const char *cls; /* the README row */
	const char *desc;
	struct xgw_pb pb;
	enum spoil spoil;
	unsigned arg;
	uint16_t port;
	unsigned drop;	   /* XGW_DROP_*, or SENT */
	uint16_t out_port; /* when SENT */
};

static uint8_t quote[64];

static void fix_ip4_csum(uint8_t *l3)
{
	uint16_t z = 0, ck;

	memcpy(l3 + 10, &z, 2);
	ck = xgw_csum(l3, (size_t)(l3[0] & 0xf) * 4);
	memcpy(l3 + 10, &ck, 2);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The frame of case c in buf; its length. */
static int frame(const struct hcase *c, uint8_t *buf, size_t cap)
{
	struct xgw_pb_layout lo;
	int len = xgw_pb_build(&c->pb, buf, cap);

	assert_true(len > 0);
	if (!c->pb.ethertype)
		assert_int_equal(xgw_pb_layout(&c->pb, &lo), 0);
	switch (c->spoil) {
	case NONE: break;
	case CUT: len = (int)c->arg; break;
	case IP4_TOT:
		put16(buf + lo.l3_off + 2, c->arg);
		fix_ip4_csum(buf + lo.l3_off);
		break;
	case IP4_IHL:
		buf[lo.l3_off] = (uint8_t)(0x40 | c->arg);
		fix_ip4_csum(buf + lo.l3_off);
		break;
	case TCP_DOFF: buf[lo.l4_off + 12] = (uint8_t)(c->arg << 4); break;
	case UDP_LEN: put16(buf + lo.l4_off + 4, c->arg); break;
	case IP6_PLEN: put16(buf + lo.l3_off + 4, c->arg); break;
	case PAD:
		assert_true(c->arg <= cap);
		memset(buf + len, 0, c->arg - (size_t)len);
		len = (int)c->arg;
		break;
	case VXLAN_NEST: {
		static uint8_t inner[2048];
		uint8_t vx[8] = {0x08, 0, 0, 0, 0, 0, 42, 0};
		struct xgw_pb o = {.src_mac = {2, 0, 0, 0, 2, 0x20}, .dst_mac = MAC_P1,
				   .src = IP("198.18.2.20"), .dst = IP("198.18.2.1"),
				   .proto = IPPROTO_UDP, .sport = 50000, .dport = 4789};

		memcpy(inner, vx, 8);
		memcpy(inner + 8, buf, (size_t)len);
		o.payload = inner;
		o.payload_len = (size_t)len + 8;
		len = xgw_pb_build(&o, buf, cap);
		assert_true(len > 0);
		break;
	}
	}
	return len;
}

static struct hcase *cases(unsigned *n)
{
	static struct hcase c[96];
	static const char zero[16];
	unsigned i = 0;
	/* The IP header and 8 bytes of a packet the client sent to a
	 * backend that xgw never saw (an ICMP error's quote). */
	struct xgw_pb q = {.src = IP("198.18.1.2"), .dst = IP("198.18.2.10"),
			   .proto = IPPROTO_UDP, .sport = 1234, .dport = 5353};
	uint8_t qb[128];

	assert_true(xgw_pb_build(&q, qb, sizeof(qb)) >= 14 + 28);
	memcpy(quote, qb + 14, 28);

#define C(...) c[i++] = (struct hcase){__VA_ARGS__}
	/* truncated headers at every layer */
	C("truncated", "Ethernet header cut (10 bytes)", {CLI, SYN_TO("198.18.100.1")}, CUT, 10,
	  P_CLIENT, XGW_DROP_ETH_TRUNC);
	C("truncated", "802.1Q tag cut", {CLI, .n_vlans = 1, SYN_TO("198.18.100.1")}, CUT, 16,
	  P_CLIENT, XGW_DROP_VLAN_TRUNC);
	C("truncated", "IPv4 header cut", {CLI, SYN_TO("198.18.100.1")}, CUT, 14 + 12, P_CLIENT,
	  XGW_DROP_IP4_TRUNC);
	C("truncated", "IPv6 header cut", {CLI, SYN_TO("2001:db8:100::1"), .src = IP("2001:db8:1::2")},
	  CUT, 14 + 30, P_CLIENT, XGW_DROP_IP6_TRUNC);
	C("truncated", "TCP header cut (10 of 20 bytes, lengths agree)",
	  {CLI, SYN_TO("198.18.100.1")}, IP4_TOT, 30, P_CLIENT, XGW_DROP_TCP_TRUNC);
	C("truncated", "UDP header cut (4 of 8 bytes)",
	  {CLI, .src = IP("198.18.1.2"), .dst = IP("198.18.100.2"), .proto = IPPROTO_UDP,
	   .sport = 1, .dport = 53},
	  IP4_TOT, 24, P_CLIENT, XGW_DROP_UDP_TRUNC);
	C("truncated", "ICMP header cut (4 of 8 bytes)",
	  {CLI, .src = IP("198.18.1.2"), .dst = IP("198.18.100.1"), .proto = IPPROTO_ICMP},
	  IP4_TOT, 24, P_CLIENT, XGW_DROP_ICMP_TRUNC);
	C("truncated", "IPv6 TCP header cut (payload length 10)",
	  {CLI, SYN_TO("2001:db8:100::1"), .src = IP("2001:db8:1::2")}, IP6_PLEN, 10, P_CLIENT,
	  XGW_DROP_TCP_TRUNC);
	C("truncated", "VXLAN header cut (4 bytes after UDP)",
	  {.src_mac = {2, 0, 0, 0, 2, 0x20}, .dst_mac = MAC_P1, .src = IP("198.18.2.20"),
	   .dst = IP("198.18.2.1"), .proto = IPPROTO_UDP, .sport = 5, .dport = 4789,
	   .payload = zero, .payload_len = 4},
	  NONE, 0, P_BACKEND, XGW_DROP_TUNNEL_TRUNC);
	/* IPv4 lengths */
	C("bad IHL / total length", "IHL 4", {CLI, SYN_TO("198.18.100.1")}, IP4_IHL, 4, P_CLIENT,
	  XGW_DROP_IP4_IHL);
	C("bad IHL / total length", "IHL 15 past the frame's end",
	  {CLI, .src = IP("198.18.1.2"), .dst = IP("198.18.100.1"), .proto = 253}, IP4_IHL, 15,
	  P_CLIENT, XGW_DROP_IP4_TRUNC);
	C("bad IHL / total length", "total length beyond the frame",
	  {CLI, SYN_TO("198.18.100.1")}, IP4_TOT, 1400, P_CLIENT, XGW_DROP_IP4_LEN);
	C("bad IHL / total length", "total length below the header (19)",
	  {CLI, SYN_TO("198.18.100.1")}, IP4_TOT, 19, P_CLIENT, XGW_DROP_IP4_LEN);
	C("bad IHL / total length", "IPv6 payload length beyond the frame",
	  {CLI, SYN_TO("2001:db8:100::1"), .src = IP("2001:db8:1::2")}, IP6_PLEN, 1400, P_CLIENT,
	  XGW_DROP_IP6_LEN);
	/* IPv4 options: served like any packet, options kept */
	C("IPv4 options", "SYN with 8 bytes of options to a VIP: DNAT",
	  {CLI, SYN_TO("198.18.100.1"), .sport = 40001, .ip4_opt_len = 8}, NONE, 0, P_CLIENT, SENT,
	  P_BACKEND);
	C("IPv4 options", "40 bytes of options, routed",
	  {CLI, .src = IP("198.18.1.2"), .dst = IP("198.18.5.7"), .proto = IPPROTO_UDP, .sport = 1,
	   .dport = 2, .ip4_opt_len = 40},
	  NONE, 0, P_CLIENT, SENT, P_BACKEND);
	/* IPv6 extension header chains */
	C("IPv6 extension headers", "hop-by-hop + destination options to a VIP: DNAT",
	  {CLI, SYN_TO("2001:db8:100::1"), .src = IP("2001:db8:1::2"), .sport = 40002, .n_ext = 2,
	   .ext = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS}},
	  NONE, 0, P_CLIENT, SENT, P_BACKEND);
	C("IPv6 extension headers", "a chain of 9 headers",
	  {CLI, SYN_TO("2001:db8:100::1"), .src = IP("2001:db8:1::2"), .n_ext = 9,
	   .ext = {0, 60, 60, 60, 60, 60, 60, 60, 60}},
	  NONE, 0, P_CLIENT, XGW_DROP_IP6_EXT);
	C("IPv6 extension headers", "hop-by-hop not first",
	  {CLI, SYN_TO("2001:db8:100::1"), .src = IP("2001:db8:1::2"), .n_ext = 2,
	   .ext = {IPPROTO_DSTOPTS, IPPROTO_HOPOPTS}},
	  NONE, 0, P_CLIENT, XGW_DROP_IP6_EXT);
	C("IPv6 extension headers", "extension header past the payload",
	  {CLI, SYN_TO("2001:db8:100::1"), .src = IP("2001:db8:1::2"), .n_ext = 1,
	   .ext = {IPPROTO_DSTOPTS}},
	  IP6_PLEN, 4, P_CLIENT, XGW_DROP_IP6_EXT);
	/* fragments */
	C("fragments", "first fragment (MF) toward a UDP VIP",
	  {CLI, .src = IP("198.18.1.2"), .dst = IP("198.18.100.2"), .proto = IPPROTO_UDP,
	   .sport = 1, .dport = 53, .frag = 0x2000, .payload = zero, .payload_len = 16},
	  NONE, 0, P_CLIENT, XGW_DROP_FRAGMENT);
	C("fragments", "non-first fragment toward a VIP",
	  {CLI, .src = IP("198.18.1.2"), .dst = IP("198.18.100.2"), .proto = 253, .frag = 3,
	   .payload = zero, .payload_len = 16},
	  NONE, 0, P_CLIENT, XGW_DROP_FRAGMENT);
	C("fragments", "IPv6 non-first fragment toward a VIP",
	  {CLI, .src = IP("2001:db8:1::2"), .dst = IP("2001:db8:100::1"), .proto = 253, .n_ext = 1,
	   .ext = {IPPROTO_FRAGMENT}, .frag = 64, .payload = zero, .payload_len = 16},
	  NONE, 0, P_CLIENT, XGW_DROP_FRAGMENT);
	C("fragments", "backend reply: first fragment (ports of a connection)",
	  {BE, .src = IP("198.18.2.10"), .dst = IP("198.18.1.2"), .proto = IPPROTO_UDP,
	   .sport = 5353, .dport = 1, .frag = 0x2000, .payload = zero, .payload_len = 16},
	  NONE, 0, P_BACKEND, XGW_DROP_FRAGMENT);
	C("fragments", "backend reply: non-first fragment (was routed untranslated)",
	  {BE, .src = IP("198.18.2.10"), .dst = IP("198.18.1.2"), .proto = 253, .frag = 3,
	   .payload = zero, .payload_len = 16},
	  NONE, 0, P_BACKEND, XGW_DROP_FRAGMENT);
	C("fragments", "backend reply: IPv6 non-first fragment",
	  {BE, .src = IP("2001:db8:2::10"), .dst = IP("2001:db8:1::2"), .proto = 253, .n_ext = 1,
	   .ext = {IPPROTO_FRAGMENT}, .frag = 64, .payload = zero, .payload_len = 16},
	  NONE, 0, P_BACKEND, XGW_DROP_FRAGMENT);
	C("fragments", "fragment of no service: routed",
	  {CLI, .src = IP("198.18.1.2"), .dst = IP("198.18.5.7"), .proto = 253, .frag = 3,
	   .payload = zero, .payload_len = 16},
	  NONE, 0, P_CLIENT, SENT, P_BACKEND);
	/* TCP */
	C("TCP data offset", "data offset 15 past the segment",
	  {CLI, SYN_TO("198.18.100.1")}, TCP_DOFF, 15, P_CLIENT, XGW_DROP_TCP_DOFF);
	C("TCP data offset", "data offset 4 (below the header)", {CLI, SYN_TO("198.18.100.1")},
	  TCP_DOFF, 4, P_CLIENT, XGW_DROP_TCP_DOFF);
	C("TCP flags", "SYN+FIN to a VIP",
	  {CLI, SYN_TO("198.18.100.1"), .tcp_flags = XGW_PB_SYN | XGW_PB_FIN}, NONE, 0, P_CLIENT,
	  XGW_DROP_TCP_FLAGS);
	C("TCP flags", "SYN+RST to a VIP",
	  {CLI, SYN_TO("198.18.100.1"), .tcp_flags = XGW_PB_SYN | XGW_PB_RST}, NONE, 0, P_CLIENT,
	  XGW_DROP_TCP_FLAGS);
	C("TCP flags", "no flags to a VIP", {CLI, SYN_TO("198.18.100.1"), .tcp_flags = 0}, NONE, 0,
	  P_CLIENT, XGW_DROP_TCP_FLAGS);
	C("TCP flags", "FIN+PSH+URG (Xmas) to a VIP",
	  {CLI, SYN_TO("198.18.100.1"), .tcp_flags = 0x29}, NONE, 0, P_CLIENT, XGW_DROP_TCP_FLAGS);
	C("TCP flags", "a connection's SYN (opens it)", {CLI, SYN_TO("198.18.100.1"), .sport = 40003},
	  NONE, 0, P_CLIENT, SENT, P_BACKEND);
	C("TCP flags", "SYN+FIN on that tracked connection",
	  {CLI, SYN_TO("198.18.100.1"), .sport = 40003, .tcp_flags = XGW_PB_SYN | XGW_PB_FIN}, NONE,
	  0, P_CLIENT, XGW_DROP_TCP_FLAGS);
	C("TCP flags", "SYN+FIN routed (no service): a router's business",
	  {CLI, .src = IP("198.18.1.2"), .dst = IP("198.18.5.7"), .proto = IPPROTO_TCP, .sport = 1,
	   .dport = 2, .tcp_flags = XGW_PB_SYN | XGW_PB_FIN},
	  NONE, 0, P_CLIENT, SENT, P_BACKEND);
	/* UDP lengths */
	C("UDP length", "length 0",
	  {CLI, .src = IP("198.18.1.2"), .dst = IP("198.18.100.2"), .proto = IPPROTO_UDP,
	   .sport = 1, .dport = 53, .payload = zero, .payload_len = 8},
	  UDP_LEN, 0, P_CLIENT, XGW_DROP_UDP_LEN);
	C("UDP length", "length beyond the IP payload",
	  {CLI, .src = IP("198.18.1.2"), .dst = IP("198.18.100.2"), .proto = IPPROTO_UDP,
	   .sport = 1, .dport = 53, .payload = zero, .payload_len = 8},
	  UDP_LEN, 17, P_CLIENT, XGW_DROP_UDP_LEN);
	C("UDP length", "length below the IP payload (RFC 768: legal): DNAT",
	  {CLI, .src = IP("198.18.1.2"), .dst = IP("198.18.100.2"), .proto = IPPROTO_UDP,
	   .sport = 2, .dport = 53, .payload = zero, .payload_len = 8},
	  UDP_LEN, 12, P_CLIENT, SENT, P_BACKEND);
	/* frame size */
	C("frame > UMEM frame", "1793 bytes (2048 - 256 of headroom + 1)",
	  {CLI, SYN_TO("198.18.100.1")}, PAD, 2048 - 256 + 1, P_CLIENT, XGW_DROP_NO_FRAME);
	C("frame > UMEM frame", "1792 bytes (the most a frame holds), padding ignored: DNAT",
	  {CLI, SYN_TO("198.18.100.1"), .sport = 40004}, PAD, 2048 - 256, P_CLIENT, SENT, P_BACKEND);
	/* VLAN */
	C("VLAN in VLAN", "802.1ad + 802.1Q to a VIP: tags stripped, DNAT",
	  {CLI, .n_vlans = 2, .vlan_tci = {10, 20}, SYN_TO("198.18.100.1"), .sport = 40005}, NONE, 0,
	  P_CLIENT, SENT, P_BACKEND);
	C("VLAN in VLAN", "three tags", {CLI, .n_vlans = 3, SYN_TO("198.18.100.1")}, NONE, 0,
	  P_CLIENT, XGW_DROP_VLAN_TOO_DEEP);
	/* tunnels */
	C("tunnels in tunnels", "VXLAN to us inside VXLAN to us",
	  {.src_mac = {2, 0, 0, 0, 4, 0x0a}, .dst_mac = MAC_P1, .src = IP("198.18.2.20"),
	   .dst = IP("198.18.2.1"), .proto = IPPROTO_UDP, .sport = 50000, .dport = 4789,
	   .payload = "\x08\0\0\0\0\0\x2a\0", .payload_len = 8},
	  VXLAN_NEST, 0, P_BACKEND, XGW_DROP_TUNNEL_NESTED);
	C("tunnels in tunnels", "a service SYN inside VXLAN from the remote: decapsulated, DNAT", {BE, SYN_TO("198.18.100.1")},
	  VXLAN_NEST, 0, P_BACKEND, SENT, P_BACKEND);
	/* ICMP errors */
	C("ICMP errors", "destination unreachable quoting nothing",
	  {BE, .src = IP("198.18.2.2"), .dst = IP("198.18.1.2"), .proto = IPPROTO_ICMP,
	   .icmp_other = true, .icmp_type = 3, .icmp_code = 1},
	  NONE, 0, P_BACKEND, XGW_DROP_ICMP_TRUNC);
	C("ICMP errors", "quoting 12 bytes of an IPv4 header",
	  {BE, .src = IP("198.18.2.2"), .dst = IP("198.18.1.2"), .proto = IPPROTO_ICMP,
	   .icmp_other = true, .icmp_type = 3, .icmp_code = 1, .payload = quote,
	   .payload_len = 12},
	  NONE, 0, P_BACKEND, XGW_DROP_ICMP_TRUNC);
	C("ICMP errors", "quoting a header and 4 bytes of UDP",
	  {BE, .src = IP("198.18.2.2"), .dst = IP("198.18.1.2"), .proto = IPPROTO_ICMP,
	   .icmp_other = true, .icmp_type = 3, .icmp_code = 1, .payload = quote,
	   .payload_len = 24},
	  NONE, 0, P_BACKEND, XGW_DROP_ICMP_TRUNC);
	C("ICMP errors", "quoting a flow xgw does not track: routed as it is",
	  {BE, .src = IP("198.18.2.2"), .dst = IP("198.18.1.2"), .proto = IPPROTO_ICMP,
	   .icmp_other = true, .icmp_type = 3, .icmp_code = 1, .payload = quote,
	   .payload_len = 28},
	  NONE, 0, P_BACKEND, SENT, P_CLIENT);
	/* spoofed sources */
	C("LAND", "source = destination = VIP",
	  {CLI, SYN_TO("198.18.100.1"), .src = IP("198.18.100.1")}, NONE, 0, P_CLIENT,
	  XGW_DROP_BAD_SOURCE);
	C("LAND", "source = destination, routed",
	  {CLI, .src = IP("198.18.5.7"), .dst = IP("198.18.5.7"), .proto = IPPROTO_UDP, .sport = 7,
	   .dport = 7},
	  NONE, 0, P_CLIENT, XGW_DROP_BAD_SOURCE);
	C("LAND", "IPv6: source = destination, routed",
	  {CLI, .src = IP("2001:db8:5::7"), .dst = IP("2001:db8:5::7"), .proto = IPPROTO_UDP,
	   .sport = 7, .dport = 7},
	  NONE, 0, P_CLIENT, XGW_DROP_BAD_SOURCE);
	C("from the gateway's addresses", "a port's address to a VIP",
	  {CLI, SYN_TO("198.18.100.1"), .src = IP("198.18.1.1")}, NONE, 0, P_CLIENT,
	  XGW_DROP_BAD_SOURCE);
	C("from the gateway's addresses", "another port's address, routed",
	  {CLI, .src = IP("198.18.2.1"), .dst = IP("198.18.5.7"), .proto = IPPROTO_UDP, .sport = 1,
	   .dport = 2},
	  NONE, 0, P_CLIENT, XGW_DROP_BAD_SOURCE);
	C("from the gateway's addresses", "the receiving port's own address, routed ICMP",
	  {CLI, .src = IP("198.18.1.1"), .dst = IP("198.18.5.7"), .proto = IPPROTO_ICMP}, NONE, 0,
	  P_CLIENT, XGW_DROP_BAD_SOURCE);
	C("from the gateway's addresses",
	  "a neighbour's address, routed: routed (the check is "
	  "ours only)",
	  {CLI, .src = IP("198.18.1.2"), .dst = IP("198.18.5.7"), .proto = IPPROTO_UDP, .sport = 1,
	   .dport = 2},
	  NONE, 0, P_CLIENT, SENT, P_BACKEND);
	C("from the gateway's addresses", "a VIP as source, routed: routed (no per-packet lookup)",
	  {CLI, .src = IP("198.18.100.2"), .dst = IP("198.18.5.7"), .proto = IPPROTO_UDP,
	   .sport = 53, .dport = 2},
	  NONE, 0, P_CLIENT, SENT, P_BACKEND);
	C("from the gateway's addresses", "a VIP as source of a new connection",
	  {CLI, SYN_TO("198.18.100.1"), .src = IP("198.18.100.2"), .sport = 53}, NONE, 0, P_CLIENT,
	  XGW_DROP_BAD_SOURCE);
	C("from the gateway's addresses", "IPv6: a port's address to a VIP",
	  {CLI, SYN_TO("2001:db8:100::1"), .src = IP("2001:db8:1::1")}, NONE, 0, P_CLIENT,
	  XGW_DROP_BAD_SOURCE);
	C("from the gateway's addresses", "echo request to a VIP from a VIP",
	  {CLI, .src = IP("198.18.100.2"), .dst = IP("198.18.100.1"), .proto = IPPROTO_ICMP},
	  NONE, 0, P_CLIENT, XGW_DROP_BAD_SOURCE);
#undef C
	assert_true(i <= sizeof(c) / sizeof(c[0]));
	*n = i;
	return c;
}

struct capture {
	unsigned n;
	uint16_t port;
};

static void on_tx(void *arg, uint32_t idx, uint16_t port, const uint8_t *data, uint32_t len)
{
	struct capture *cap = arg;

	(void)idx;
	(void)data;
	(void)len;
	cap->n++;
	cap->port = port;
}

static struct xgw_offline *open_dp(void)
{
	static char text[4096];
	struct xgw_offline_port ports[2];
	struct xgw_offline *o;
	struct xgw_config cfg;
	char err[256];
	json_t *j;

	snprintf(text, sizeof(text), "%s", CONFIG);
	for (char *c = text; *c; c++)
		if (*c == '\'')
			*c = '"';
	j = json_loads(text, 0, NULL);
	assert_non_null(j);
	if (xgw_config_load_json(&cfg, j, err, sizeof(err)))
		fail_msg("config: %s", err);
	json_decref(j);
	assert_int_equal(xgw_offline_port_parse(
			     &ports[0], "client,02:00:00:00:00:10,198.18.1.1/24,2001:db8:1::1/64"),
			 0);
	assert_int_equal(xgw_offline_port_parse(
			     &ports[1], "backend,02:00:00:00:00:11,198.18.2.1/24,2001:db8:2::1/64"),
			 0);
	o = xgw_offline_open(&cfg, ports, 2, 256, 0x5eed, err, sizeof(err));
	if (!o)
		fail_msg("offline: %s", err);
	xgw_config_free(&cfg);
	return o;
}

static void test_hostile_classes(void **state)
{
	struct xgw_offline *o = open_dp();
	struct xgw_offline_counters before, after;
	uint64_t total_drops = 0;
	unsigned n, sent = 0;
	struct hcase *c = cases(&n);

	(void)state;
	for (unsigned i = 0; i < n; i++) {
		static uint8_t buf[4096];
		struct capture cap = {0};
		struct xgw_offline_frame f = {.data = buf, .port = c[i].port,
					      .ts_ns = (uint64_t)(i + 1) * 1000000ull};
		unsigned changed = 0, reason = 0;

		f.len = (uint32_t)frame(&c[i], buf, sizeof(buf));
		xgw_offline_counters(o, &before);
		xgw_offline_run(o, &f, 1, 1, on_tx, &cap);
		xgw_offline_counters(o, &after);
		for (unsigned r = 1; r < XGW_DROP__MAX; r++)
			if (after.drops[r] != before.drops[r]) {
				changed += (unsigned)(after.drops[r] - before.drops[r]);
				reason = r;
			}
		print_message("%-30s %-60s %s\n", c[i].cls, c[i].desc,
			      cap.n ? (cap.port ? "sent: backend" : "sent: client")
				    : (reason ? xgw_drop_name(reason) : "?"));
		if (changed + cap.n != 1)
			fail_msg("%s: %s: %u drops and %u transmissions (one expected)", c[i].cls,
				 c[i].desc, changed, cap.n);
		if (c[i].drop != SENT) {
			if (reason != c[i].drop)
				fail_msg("%s: %s: %s, expected drop %s", c[i].cls, c[i].desc,
					 cap.n ? "transmitted" : xgw_drop_name(reason),
					 xgw_drop_name(c[i].drop));
		} else {
			if (!cap.n)
				fail_msg("%s: %s: dropped (%s), expected out of port %u", c[i].cls,
					 c[i].desc, xgw_drop_name(reason), c[i].out_port);
			assert_int_equal(cap.port, c[i].out_port);
			sent++;
		}
	}
	for (unsigned r = 1; r < XGW_DROP__MAX; r++)
		total_drops += after.drops[r];
	assert_int_equal(total_drops + sent, n);
	assert_int_equal(after.forwarded, sent);
	xgw_offline_close(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hostile_classes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
