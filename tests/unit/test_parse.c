/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw_parse: one cmocka test per table row (a frame from the builder,
 * optionally patched or cut, and what the parser must say about it), plus a
 * sweep that cuts good frames at every length and checks that the parser
 * neither accepts a short frame nor reads past p->len. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/drop.h"
#include "common/pkt.h"
#include "tests/lib/pktbuild.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define A4S                                                                                        \
	{                                                                                          \
		.family = AF_INET, .b = { 198, 18, 0, 1 }                                          \
	}
#define A4D                                                                                        \
	{                                                                                          \
		.family = AF_INET, .b = { 198, 18, 100, 1 }                                        \
	}
#define A6S                                                                                        \
	{                                                                                          \
		.family = AF_INET6, .b = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }                      \
	}
#define A6D                                                                                        \
	{                                                                                          \
		.family = AF_INET6, .b = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 }                      \
	}
#define IP4 .src = A4S, .dst = A4D
#define IP6 .src = A6S, .dst = A6D

static const uint8_t pl[10] = "0123456789";
#define PAYLOAD .payload = pl, .payload_len = sizeof(pl)

#define UDP   .proto = IPPROTO_UDP, .sport = 1234, .dport = 53
#define TCP   .proto = IPPROTO_TCP, .sport = 40000, .dport = 80, .seq = 1, .ack = 2
#define ICMP4 .proto = IPPROTO_ICMP, .sport = 0x4242, .dport = 7
#define ICMP6 .proto = IPPROTO_ICMPV6, .sport = 0x4242, .dport = 7

#define F4    XGW_PKT_IPV4
#define F6    XGW_PKT_IPV6
#define FL4   XGW_PKT_L4
#define FRAG  XGW_PKT_FRAG
#define LATER XGW_PKT_FRAG_LATER

/* Untagged offsets: IPv4 header at 14 (tot_len 16, frag 20), IPv6 at 14
 * (payload length 18), L4 at 34 (v4) or 54 (v6): UDP length at +4, TCP
 * data offset at +12. */
enum {
	V4_VER = 14,
	V4_TOT = 16,
	V4_L4 = 34,
	V6_VER = 14,
	V6_PLEN = 18,
	V6_L4 = 54,
};

struct patch {
	uint16_t at;
	uint8_t width; /* 0: none, 1 or 2 bytes (big-endian) */
	uint16_t val;
};

struct pcase {
	const char *desc;
	struct xgw_pb pb;
	struct patch patch[2];
	int len; /* 0: as built; > 0: keep this many bytes; < 0: cut -len */
	int ret; /* enum xgw_drop */
	/* Checked when ret is 0. */
	uint16_t l3_off, l4_off, payload_off, l3_len;
	uint8_t flags, l4_proto, n_vlans;
	uint16_t sport, dport; /* host order */
	uint16_t tci[XGW_MAX_VLANS];
};

/* clang-format off */
static const struct pcase cases[] = {
	/* ---- good IPv4 ---- */
	{"v4 udp", {IP4, UDP, PAYLOAD},
	 .l3_off = 14, .l4_off = 34, .payload_off = 42, .l3_len = 38,
	 .flags = F4 | FL4, .l4_proto = IPPROTO_UDP, .sport = 1234, .dport = 53},
	{"v4 tcp syn", {IP4, TCP, .tcp_flags = XGW_PB_SYN, PAYLOAD},
	 .l3_off = 14, .l4_off = 34, .payload_off = 54, .l3_len = 50,
	 .flags = F4 | FL4, .l4_proto = IPPROTO_TCP, .sport = 40000, .dport = 80},
	{"v4 tcp with 12 bytes of options", {IP4, TCP, .tcp_opt_len = 12, PAYLOAD},
	 .l3_off = 14, .l4_off = 34, .payload_off = 66, .l3_len = 62,
	 .flags = F4 | FL4, .l4_proto = IPPROTO_TCP, .sport = 40000, .dport = 80},
	{"v4 with 8 bytes of ip options, udp", {IP4, UDP, .ip4_opt_len = 8, PAYLOAD},
	 .l3_off = 14, .l4_off = 42, .payload_off = 50, .l3_len = 46,
	 .flags = F4 | FL4, .l4_proto = IPPROTO_UDP, .sport = 1234, .dport = 53},
	{"v4 icmp echo request: id in sport", {IP4, ICMP4, PAYLOAD},
	 .l3_off = 14, .l4_off = 34, .payload_off = 42, .l3_len = 38,
	 .flags = F4 | FL4, .l4_proto = IPPROTO_ICMP, .sport = 0x4242, .dport = 0},
	{"v4 icmp echo reply: id in sport", {IP4, ICMP4, .echo_reply = true, PAYLOAD},
	 .l3_off = 14, .l4_off = 34, .payload_off = 42, .l3_len = 38,
	 .flags = F4 | FL4, .l4_proto = IPPROTO_ICMP, .sport = 0x4242, .dport = 0},
	{"v4 icmp unreachable: no ports",
	 {IP4, ICMP4, .icmp_other = true, .icmp_type = 3, .icmp_code = 1, PAYLOAD},
	 .l3_off = 14, .l4_off = 34, .payload_off = 42, .l3_len = 38,
	 .flags = F4 | FL4, .l4_proto = IPPROTO_ICMP},
	{"v4 gre: accepted without l4 fields", {IP4, .proto = 47, PAYLOAD},
	 .l3_off = 14, .l4_off = 34, .payload_off = 34, .l3_len = 30,
	 .flags = F4, .l4_proto = 47},
	{"v4 udp in a frame padded to 60", {IP4, UDP, .pad_to = 60},
	 .l3_off = 14, .l4_off = 34, .payload_off = 42, .l3_len = 28,
	 .flags = F4 | FL4, .l4_proto = IPPROTO_UDP, .sport = 1234, .dport = 53},
	{"v4 tcp ack padded to 60", {IP4, TCP, .tcp_flags = XGW_PB_ACK, .pad_to = 60},
	 .l3_off = 14, .l4_off = 34, .payload_off = 54, .l3_len = 40,
	 .flags = F4 | FL4, .l4_proto = IPPROTO_TCP, .sport = 40000, .dport = 80},
	{"v4 udp length shorter than ip payload", {IP4, UDP, PAYLOAD},
	 .patch = {{V4_L4 + 4, 2, 12}},
	 .l3_off = 14, .l4_off = 34, .payload_off = 42, .l3_len = 38,
	 .flags = F4 | FL4, .l4_proto = IPPROTO_UDP, .sport = 1234, .dport = 53},
	{"v4 DF is not a fragment", {IP4, UDP, .frag = 0x4000, PAYLOAD},
	 .l3_off = 14, .l4_off = 34, .payload_off = 42, .l3_len = 38,
	 .flags = F4 | FL4, .l4_proto = IPPROTO_UDP, .sport = 1234, .dport = 53},
	{"v4 first fragment: l4 parsed", {IP4, UDP, .frag = 0x2000, PAYLOAD},
	 .l3_off = 14, .l4_off = 34, .payload_off = 42, .l3_len = 38,
	 .flags = F4 | FRAG | FL4, .l4_proto = IPPROTO_UDP, .sport = 1234, .dport = 53},
	{"v4 middle fragment: no l4", {IP4, UDP, .frag = 0x2000 | 185, PAYLOAD},
	 .l3_off = 14, .l4_off = 34, .payload_off = 34, .l3_len = 38,
	 .flags = F4 | FRAG | LATER, .l4_proto = IPPROTO_UDP},
	{"v4 last fragment: no l4", {IP4, TCP, .frag = 185, PAYLOAD},
	 .l3_off = 14, .l4_off = 34, .payload_off = 34, .l3_len = 50,
	 .flags = F4 | FRAG | LATER, .l4_proto = IPPROTO_TCP},
	{"v4 later fragment with a bogus 'udp header' is fine",
	 {IP4, UDP, .frag = 1, PAYLOAD}, .patch = {{V4_L4 + 4, 2, 0}},
	 .l3_off = 14, .l4_off = 34, .payload_off = 34, .l3_len = 38,
	 .flags = F4 | FRAG | LATER, .l4_proto = IPPROTO_UDP},

	/* ---- good IPv6 ---- */
	{"v6 udp", {IP6, UDP, PAYLOAD},
	 .l3_off = 14, .l4_off = 54, .payload_off = 62, .l3_len = 58,
	 .flags = F6 | FL4, .l4_proto = IPPROTO_UDP, .sport = 1234, .dport = 53},
	{"v6 tcp", {IP6, TCP, .tcp_flags = XGW_PB_SYN | XGW_PB_ACK, PAYLOAD},
	 .l3_off = 14, .l4_off = 54, .payload_off = 74, .l3_len = 70,
	 .flags = F6 | FL4, .l4_proto = IPPROTO_TCP, .sport = 40000, .dport = 80},
	{"v6 icmpv6 echo request: id in sport", {IP6, ICMP6, PAYLOAD},
	 .l3_off = 14, .l4_off = 54, .payload_off = 62, .l3_len = 58,
	 .flags = F6 | FL4, .l4_proto = IPPROTO_ICMPV6, .sport = 0x4242, .dport = 0},
	{"v6 icmpv6 echo reply: id in sport", {IP6, ICMP6, .echo_reply = true, PAYLOAD},
	 .l3_off = 14, .l4_off = 54, .payload_off = 62, .l3_len = 58,
	 .flags = F6 | FL4, .l4_proto = IPPROTO_ICMPV6, .sport = 0x4242, .dport = 0},
	{"v6 neighbour solicitation: no ports",
	 {IP6, ICMP6, .icmp_other = true, .icmp_type = 135, PAYLOAD},
	 .l3_off = 14, .l4_off = 54, .payload_off = 62, .l3_len = 58,
	 .flags = F6 | FL4, .l4_proto = IPPROTO_ICMPV6},
	{"v6 carrying protocol 1 is not icmp", {IP6, .proto = IPPROTO_ICMP, PAYLOAD},
	 .l3_off = 14, .l4_off = 54, .payload_off = 54, .l3_len = 50,
	 .flags = F6, .l4_proto = IPPROTO_ICMP},
	{"v6 no next header", {IP6, .proto = 59},
	 .l3_off = 14, .l4_off = 54, .payload_off = 54, .l3_len = 40,
	 .flags = F6, .l4_proto = 59},
	{"v6 udp padded behind the packet", {IP6, UDP, PAYLOAD, .pad_to = 128},
	 .l3_off = 14, .l4_off = 54, .payload_off = 62, .l3_len = 58,
	 .flags = F6 | FL4, .l4_proto = IPPROTO_UDP, .sport = 1234, .dport = 53},
	{"v6 hop-by-hop + first fragment, udp",
	 {IP6, UDP, .n_ext = 2, .ext = {IPPROTO_HOPOPTS, IPPROTO_FRAGMENT}, .frag = 1, PAYLOAD},
	 .l3_off = 14, .l4_off = 70, .payload_off = 78, .l3_len = 74,
	 .flags = F6 | FRAG | FL4, .l4_proto = IPPROTO_UDP, .sport = 1234, .dport = 53},
	{"v6 hbh + dstopts + routing + later fragment",
	 {IP6, UDP, .n_ext = 4,
	  .ext = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING, IPPROTO_FRAGMENT},
	  .frag = 1480 | 1, PAYLOAD},
	 .l3_off = 14, .l4_off = 86, .payload_off = 86, .l3_len = 90,
	 .flags = F6 | FRAG | LATER, .l4_proto = IPPROTO_UDP},
	{"v6 atomic fragment (offset 0, no M): l4 parsed",
	 {IP6, TCP, .n_ext = 1, .ext = {IPPROTO_FRAGMENT}, PAYLOAD},
	 .l3_off = 14, .l4_off = 62, .payload_off = 82, .l3_len = 78,
	 .flags = F6 | FRAG | FL4, .l4_proto = IPPROTO_TCP, .sport = 40000, .dport = 80},
	{"v6 eight extension headers (the cap)",
	 {IP6, UDP, .n_ext = 8,
	  .ext = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS,
		  IPPROTO_ROUTING, IPPROTO_DSTOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS},
	  PAYLOAD},
	 .l3_off = 14, .l4_off = 118, .payload_off = 126, .l3_len = 122,
	 .flags = F6 | FL4, .l4_proto = IPPROTO_UDP, .sport = 1234, .dport = 53},
	{"v6 dstopts of 16 bytes", {IP6, UDP, .n_ext = 2,
	  .ext = {IPPROTO_DSTOPTS, IPPROTO_DSTOPTS}, PAYLOAD},
	 /* the first header grows over the second and points at udp */
	 .patch = {{V6_L4, 1, IPPROTO_UDP}, {V6_L4 + 1, 1, 1}},
	 .l3_off = 14, .l4_off = 70, .payload_off = 78, .l3_len = 74,
	 .flags = F6 | FL4, .l4_proto = IPPROTO_UDP, .sport = 1234, .dport = 53},

	/* ---- VLAN ---- */
	{"v4 udp, one 802.1q tag", {IP4, UDP, .n_vlans = 1, .vlan_tci = {0xa064}, PAYLOAD},
	 .l3_off = 18, .l4_off = 38, .payload_off = 46, .l3_len = 38, .n_vlans = 1,
	 .tci = {0xa064},
	 .flags = F4 | FL4, .l4_proto = IPPROTO_UDP, .sport = 1234, .dport = 53},
	{"v6 tcp, QinQ 802.1ad + 802.1q",
	 {IP6, TCP, .n_vlans = 2, .vlan_tci = {10, 20}, PAYLOAD},
	 .l3_off = 22, .l4_off = 62, .payload_off = 82, .l3_len = 70, .n_vlans = 2,
	 .tci = {10, 20},
	 .flags = F6 | FL4, .l4_proto = IPPROTO_TCP, .sport = 40000, .dport = 80},
	{"v4 udp, two 802.1q tags",
	 {IP4, UDP, .n_vlans = 2, .vlan_tpid = {0x8100, 0x8100}, .vlan_tci = {5, 0xfff},
	  PAYLOAD},
	 .l3_off = 22, .l4_off = 42, .payload_off = 50, .l3_len = 38, .n_vlans = 2,
	 .tci = {5, 0xfff},
	 .flags = F4 | FL4, .l4_proto = IPPROTO_UDP, .sport = 1234, .dport = 53},

	/* ---- not IP ---- */
	{"arp", {.ethertype = 0x0806, PAYLOAD, .pad_to = 60}, .ret = XGW_DROP_NOT_IP},
	{"arp behind a vlan tag", {.ethertype = 0x0806, .n_vlans = 1, PAYLOAD},
	 .ret = XGW_DROP_NOT_IP},
	{"lldp", {.ethertype = 0x88cc, PAYLOAD}, .ret = XGW_DROP_NOT_IP},

	/* ---- Ethernet / VLAN ---- */
	{"13 bytes", {IP4, UDP, PAYLOAD}, .len = 13, .ret = XGW_DROP_ETH_TRUNC},
	{"tagged, tag missing", {IP4, UDP, .n_vlans = 1, PAYLOAD}, .len = 14,
	 .ret = XGW_DROP_VLAN_TRUNC},
	{"tagged, tag cut", {IP4, UDP, .n_vlans = 1, PAYLOAD}, .len = 17,
	 .ret = XGW_DROP_VLAN_TRUNC},
	{"QinQ, inner tag cut", {IP6, UDP, .n_vlans = 2, PAYLOAD}, .len = 20,
	 .ret = XGW_DROP_VLAN_TRUNC},
	{"three vlan tags", {IP4, UDP, .n_vlans = 3, PAYLOAD}, .ret = XGW_DROP_VLAN_TOO_DEEP},
	{"four 802.1q tags", {IP4, UDP, .n_vlans = 4,
	  .vlan_tpid = {0x8100, 0x8100, 0x8100, 0x8100}, PAYLOAD},
	 .ret = XGW_DROP_VLAN_TOO_DEEP},

	/* ---- IPv4 ---- */
	{"v4 header missing", {IP4, UDP, PAYLOAD}, .len = 14, .ret = XGW_DROP_IP4_TRUNC},
	{"v4 header cut", {IP4, UDP, PAYLOAD}, .len = 33, .ret = XGW_DROP_IP4_TRUNC},
	{"v4 options cut", {IP4, UDP, .ip4_opt_len = 8, PAYLOAD}, .len = 40,
	 .ret = XGW_DROP_IP4_TRUNC},
	{"v4 header cut behind a vlan tag", {IP4, UDP, .n_vlans = 1, PAYLOAD}, .len = 37,
	 .ret = XGW_DROP_IP4_TRUNC},
	{"v4 version 6 under ethertype 0x0800", {IP4, UDP, PAYLOAD},
	 .patch = {{V4_VER, 1, 0x65}}, .ret = XGW_DROP_IP4_VERSION},
	{"v4 ihl 4", {IP4, UDP, PAYLOAD}, .patch = {{V4_VER, 1, 0x44}},
	 .ret = XGW_DROP_IP4_IHL},
	{"v4 ihl 0", {IP4, UDP, PAYLOAD}, .patch = {{V4_VER, 1, 0x40}},
	 .ret = XGW_DROP_IP4_IHL},
	{"v4 ihl 15 beyond total length", {IP4, UDP, PAYLOAD, .pad_to = 100},
	 .patch = {{V4_VER, 1, 0x4f}}, .ret = XGW_DROP_IP4_LEN},
	{"v4 total length beyond frame", {IP4, UDP, PAYLOAD},
	 .patch = {{V4_TOT, 2, 39}}, .ret = XGW_DROP_IP4_LEN},
	{"v4 frame one byte short", {IP4, UDP, PAYLOAD}, .len = -1, .ret = XGW_DROP_IP4_LEN},
	{"v4 total length below ihl", {IP4, UDP, PAYLOAD},
	 .patch = {{V4_TOT, 2, 19}}, .ret = XGW_DROP_IP4_LEN},
	{"v4 total length 0 (TSO-style)", {IP4, TCP, PAYLOAD},
	 .patch = {{V4_TOT, 2, 0}}, .ret = XGW_DROP_IP4_LEN},

	/* ---- IPv6 ---- */
	{"v6 header missing", {IP6, UDP, PAYLOAD}, .len = 14, .ret = XGW_DROP_IP6_TRUNC},
	{"v6 header cut", {IP6, UDP, PAYLOAD}, .len = 53, .ret = XGW_DROP_IP6_TRUNC},
	{"v6 version 4 under ethertype 0x86dd", {IP6, UDP, PAYLOAD},
	 .patch = {{V6_VER, 1, 0x40}}, .ret = XGW_DROP_IP6_VERSION},
	{"v6 frame one byte short", {IP6, UDP, PAYLOAD}, .len = -1, .ret = XGW_DROP_IP6_LEN},
	{"v6 payload length beyond frame", {IP6, UDP, PAYLOAD},
	 .patch = {{V6_PLEN, 2, 19}}, .ret = XGW_DROP_IP6_LEN},
	{"v6 nine extension headers",
	 {IP6, UDP, .n_ext = 9,
	  .ext = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS,
		  IPPROTO_ROUTING, IPPROTO_DSTOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS,
		  IPPROTO_DSTOPTS},
	  PAYLOAD},
	 .ret = XGW_DROP_IP6_EXT},
	{"v6 twelve fragment headers",
	 {IP6, UDP, .n_ext = 12, .ext = {44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44, 44},
	  PAYLOAD},
	 .ret = XGW_DROP_IP6_EXT},
	{"v6 hop-by-hop not first", {IP6, UDP, .n_ext = 2,
	  .ext = {IPPROTO_DSTOPTS, IPPROTO_HOPOPTS}, PAYLOAD},
	 .ret = XGW_DROP_IP6_EXT},
	{"v6 ext header length past the packet", {IP6, UDP, .n_ext = 1,
	  .ext = {IPPROTO_DSTOPTS}, PAYLOAD},
	 .patch = {{V6_L4 + 1, 1, 5}}, .ret = XGW_DROP_IP6_EXT},
	{"v6 ext header cut by payload length (frame padded)",
	 {IP6, UDP, .n_ext = 1, .ext = {IPPROTO_HOPOPTS}, PAYLOAD},
	 .patch = {{V6_PLEN, 2, 4}}, .ret = XGW_DROP_IP6_EXT},
	{"v6 fragment header cut by payload length",
	 {IP6, UDP, .n_ext = 1, .ext = {IPPROTO_FRAGMENT}, PAYLOAD},
	 .patch = {{V6_PLEN, 2, 7}}, .ret = XGW_DROP_IP6_EXT},

	/* ---- TCP ---- */
	{"v4 tcp header cut by total length", {IP4, TCP, PAYLOAD},
	 .patch = {{V4_TOT, 2, 39}}, .len = 14 + 39, .ret = XGW_DROP_TCP_TRUNC},
	{"v4 tcp doff 4", {IP4, TCP, PAYLOAD}, .patch = {{V4_L4 + 12, 1, 0x40}},
	 .ret = XGW_DROP_TCP_DOFF},
	{"v4 tcp doff 0", {IP4, TCP, PAYLOAD}, .patch = {{V4_L4 + 12, 1, 0x00}},
	 .ret = XGW_DROP_TCP_DOFF},
	{"v4 tcp doff 15 past the packet", {IP4, TCP, PAYLOAD},
	 .patch = {{V4_L4 + 12, 1, 0xf0}}, .ret = XGW_DROP_TCP_DOFF},
	{"v4 tcp options into ethernet padding", {IP4, TCP, .pad_to = 60},
	 .patch = {{V4_L4 + 12, 1, 0x60}}, .ret = XGW_DROP_TCP_DOFF},
	{"v6 tcp header cut by payload length", {IP6, TCP, PAYLOAD},
	 .patch = {{V6_PLEN, 2, 19}}, .len = 54 + 19, .ret = XGW_DROP_TCP_TRUNC},
	{"v6 tcp doff 4", {IP6, TCP, PAYLOAD}, .patch = {{V6_L4 + 12, 1, 0x40}},
	 .ret = XGW_DROP_TCP_DOFF},

	/* ---- UDP ---- */
	{"v4 udp header cut by total length", {IP4, UDP, PAYLOAD},
	 .patch = {{V4_TOT, 2, 27}}, .ret = XGW_DROP_UDP_TRUNC},
	{"v4 udp length 7", {IP4, UDP, PAYLOAD}, .patch = {{V4_L4 + 4, 2, 7}},
	 .ret = XGW_DROP_UDP_LEN},
	{"v4 udp length 0", {IP4, UDP, PAYLOAD}, .patch = {{V4_L4 + 4, 2, 0}},
	 .ret = XGW_DROP_UDP_LEN},
	{"v4 udp length past ip payload", {IP4, UDP, PAYLOAD},
	 .patch = {{V4_L4 + 4, 2, 19}}, .ret = XGW_DROP_UDP_LEN},
	{"v4 udp length into ethernet padding", {IP4, UDP, .pad_to = 60},
	 .patch = {{V4_L4 + 4, 2, 16}}, .ret = XGW_DROP_UDP_LEN},
	{"v6 udp header cut by payload length", {IP6, UDP, PAYLOAD},
	 .patch = {{V6_PLEN, 2, 7}}, .ret = XGW_DROP_UDP_TRUNC},
	{"v6 udp length past payload", {IP6, UDP, PAYLOAD},
	 .patch = {{V6_L4 + 4, 2, 19}}, .ret = XGW_DROP_UDP_LEN},
	{"v6 udp after ext headers, length 7",
	 {IP6, UDP, .n_ext = 2, .ext = {IPPROTO_HOPOPTS, IPPROTO_FRAGMENT}, PAYLOAD},
	 .patch = {{V6_L4 + 16 + 4, 2, 7}}, .ret = XGW_DROP_UDP_LEN},

	/* ---- ICMP ---- */
	{"v4 icmp cut by total length", {IP4, ICMP4, PAYLOAD},
	 .patch = {{V4_TOT, 2, 27}}, .ret = XGW_DROP_ICMP_TRUNC},
	{"v6 icmpv6 cut by payload length", {IP6, ICMP6, PAYLOAD},
	 .patch = {{V6_PLEN, 2, 7}}, .ret = XGW_DROP_ICMP_TRUNC},
};
/* clang-format on */

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Builds, patches and cuts case c into a fresh exact-size heap buffer. */
static uint8_t *make_frame(const struct pcase *c, size_t *out_len)
{
	uint8_t tmp[2048];
	int n = xgw_pb_build(&c->pb, tmp, sizeof(tmp));
	size_t len;
	uint8_t *f;

	assert_true(n > 0);
	for (size_t i = 0; i < ARRAY_SIZE(c->patch); i++) {
		const struct patch *pt = &c->patch[i];

		if (pt->width == 1)
			tmp[pt->at] = (uint8_t)pt->val;
		else if (pt->width == 2)
			put_be16(tmp + pt->at, pt->val);
	}
	len = (size_t)n;
	if (c->len > 0)
		len = (size_t)c->len;
	else if (c->len < 0)
		len = (size_t)(n + c->len);
	assert_true(len <= (size_t)n);
	f = malloc(len ? len : 1);
	assert_non_null(f);
	memcpy(f, tmp, len);
	*out_len = len;
	return f;
}

/* A descriptor whose parser-owned fields hold garbage, to catch fields
 * the parser forgets to set, and whose other fields must survive. */
static void init_pkt(struct xgw_pkt *p, uint8_t *data, size_t len)
{
	memset(p, 0xa5, sizeof(*p));
	p->data = data;
	p->len = (uint32_t)len;
}

static void assert_untouched(const struct xgw_pkt *p)
{
	assert_int_equal(p->addr, 0xa5a5a5a5a5a5a5a5ull);
	assert_int_equal(p->headroom, 0xa5a5);
	assert_int_equal(p->port, 0xa5a5);
	assert_int_equal(p->queue, 0xa5a5);
	assert_int_equal(p->out_port, 0xa5a5);
}

static void run_case(void **state)
{
	const struct pcase *c = *state;
	struct xgw_pkt p;
	size_t len;
	uint8_t *f = make_frame(c, &len);
	int ret;

	init_pkt(&p, f, len);
	ret = xgw_parse(&p);
	if (ret != c->ret)
		fail_msg("%s: got %s, want %s", c->desc, xgw_drop_name((unsigned)ret),
			 xgw_drop_name((unsigned)c->ret));
	assert_untouched(&p);
	if (c->ret == XGW_DROP_NONE) {
		assert_int_equal(p.l3_off, c->l3_off);
		assert_int_equal(p.l4_off, c->l4_off);
		assert_int_equal(p.payload_off, c->payload_off);
		assert_int_equal(p.l3_len, c->l3_len);
		assert_int_equal(p.flags, c->flags);
		assert_int_equal(p.l4_proto, c->l4_proto);
		assert_int_equal(p.n_vlans, c->n_vlans);
		for (int i = 0; i < c->n_vlans; i++)
			assert_int_equal(p.vlan_tci[i], c->tci[i]);
		assert_int_equal(p.sport, htons(c->sport));
		assert_int_equal(p.dport, htons(c->dport));
		/* The builder's checksums are right on every untouched frame. */
		if (!c->patch[0].width && !c->len)
			assert_true(xgw_pb_csum_ok(f, len));
	}
	free(f);
}

/* Invariants every accepted frame satisfies, whatever its length. */
static void assert_sane(const struct xgw_pkt *p, size_t n)
{
	assert_true(p->l3_off <= p->l4_off);
	assert_true(p->l4_off <= p->payload_off);
	assert_true((size_t)p->l3_off + p->l3_len <= n);
	assert_true(p->payload_off <= p->l3_off + p->l3_len);
	assert_int_equal(p->l3_off, 14 + 4 * p->n_vlans);
	assert_true(!!(p->flags & XGW_PKT_IPV4) != !!(p->flags & XGW_PKT_IPV6));
}

/* Cuts every good frame (and its Ethernet-padded variant) at every length
 * 0..len into an exact-size malloc buffer (ASan catches overreads) and into
 * the last bytes before a PROT_NONE page at an odd address (plain builds
 * catch overreads as SIGSEGV, UBSan catches misaligned loads). */
static void test_truncate_everywhere(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *map =
	    mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned checked = 0;

	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + pg, (size_t)pg, PROT_NONE), 0);

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct pcase *c = &cases[i];
		uint8_t full[2048];
		struct xgw_pkt ref;
		size_t flen, ip_end;
		uint8_t *f;

		if (c->ret != XGW_DROP_NONE)
			continue;
		f = make_frame(c, &flen);
		memcpy(full, f, flen);
		free(f);
		init_pkt(&ref, full, flen);
		assert_int_equal(xgw_parse(&ref), 0);
		ip_end = (size_t)ref.l3_off + ref.l3_len;

		for (size_t n = 0; n <= flen; n++) {
			uint8_t *heap = malloc(n ? n : 1);
			uint8_t *edge = map + pg - n;
			struct xgw_pkt a, b;
			int ra, rb;

			assert_non_null(heap);
			memcpy(heap, full, n);
			memcpy(edge, full, n);
			init_pkt(&a, heap, n);
			init_pkt(&b, edge, n);
			ra = xgw_parse(&a);
			rb = xgw_parse(&b);
			assert_int_equal(ra, rb);
			assert_true(ra >= 0 && ra < XGW_DROP__MAX);
			if (n < 14)
				assert_int_equal(ra, XGW_DROP_ETH_TRUNC);
			/* Accepted exactly when the whole IP packet is there:
			 * a cut frame must never parse as a shorter packet. */
			if (n < ip_end) {
				if (ra == XGW_DROP_NONE)
					fail_msg("%s cut to %zu of %zu accepted", c->desc, n, flen);
			} else {
				assert_int_equal(ra, XGW_DROP_NONE);
				assert_sane(&a, n);
				assert_int_equal(a.l3_off, ref.l3_off);
				assert_int_equal(a.l4_off, ref.l4_off);
				assert_int_equal(a.payload_off, ref.payload_off);
				assert_int_equal(a.l3_len, ref.l3_len);
				assert_int_equal(a.flags, ref.flags);
				assert_int_equal(a.l4_proto, ref.l4_proto);
				assert_int_equal(a.n_vlans, ref.n_vlans);
				assert_int_equal(a.sport, ref.sport);
				assert_int_equal(a.dport, ref.dport);
			}
			free(heap);
			checked++;
		}
	}
	assert_true(checked > 1000);
	munmap(map, (size_t)pg * 2);
}

static void test_zero_length(void **state)
{
	struct xgw_pkt p;

	init_pkt(&p, NULL, 0);
	assert_int_equal(xgw_parse(&p), XGW_DROP_ETH_TRUNC);
	assert_int_equal(p.flags, 0);
}

/* The same frame parsed twice into one descriptor: nothing left over from
 * a previous, richer parse (descriptors are recycled per burst). */
static void test_descriptor_reuse(void **state)
{
	struct xgw_pb tagged = {IP6, TCP, .n_vlans = 2, .vlan_tci = {1, 2}, PAYLOAD};
	struct xgw_pb arp = {.ethertype = 0x0806, PAYLOAD, .pad_to = 60};
	uint8_t a[256], b[256];
	int la = xgw_pb_build(&tagged, a, sizeof(a));
	int lb = xgw_pb_build(&arp, b, sizeof(b));
	struct xgw_pkt p;

	assert_true(la > 0 && lb > 0);
	init_pkt(&p, a, (size_t)la);
	assert_int_equal(xgw_parse(&p), 0);
	assert_int_equal(p.n_vlans, 2);
	p.data = b;
	p.len = (uint32_t)lb;
	assert_int_equal(xgw_parse(&p), XGW_DROP_NOT_IP);
	assert_int_equal(p.n_vlans, 0);
	assert_int_equal(p.flags, 0);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.dport, 0);
	assert_int_equal(p.l4_proto, 0);
	assert_int_equal(p.l3_off, 14);
}

/* A first fragment of a large UDP datagram: the UDP length covers the
 * whole datagram, more than this fragment holds.  Accepted, as a fragment;
 * the same length in an unfragmented packet is malformed. */
static void test_udp_first_fragment(void **state)
{
	struct xgw_pb b = {.src = xgw_pb_ip("198.18.1.2"),
			   .dst = xgw_pb_ip("198.18.2.2"),
			   .proto = IPPROTO_UDP,
			   .frag = 0x2000, /* MF, offset 0 */
			   .sport = 5000,
			   .dport = 53,
			   .payload = "0123456789abcdef",
			   .payload_len = 16};
	uint8_t f[256];
	int len = xgw_pb_build(&b, f, sizeof(f));
	struct xgw_pkt p;
	uint16_t big = htons(3000);

	assert_true(len > 0);
	memcpy(f + 14 + 20 + 4, &big, 2); /* UDP length: the whole datagram */
	init_pkt(&p, f, (size_t)len);
	assert_int_equal(xgw_parse(&p), 0);
	assert_true(p.flags & XGW_PKT_FRAG);
	assert_false(p.flags & XGW_PKT_FRAG_LATER);
	assert_int_equal(ntohs(p.dport), 53);
	b.frag = 0;
	len = xgw_pb_build(&b, f, sizeof(f));
	memcpy(f + 14 + 20 + 4, &big, 2);
	init_pkt(&p, f, (size_t)len);
	assert_int_equal(xgw_parse(&p), XGW_DROP_UDP_LEN);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(cases) + 4];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		tests[n++] = (struct CMUnitTest){.name = cases[i].desc,
						 .test_func = run_case,
						 .initial_state = (void *)&cases[i]};
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_truncate_everywhere);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_zero_length);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_descriptor_reuse);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_udp_first_fragment);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
