/* SPDX-License-Identifier: BSD-3-Clause */
/* The router stage, packet in / packet out: each case builds a frame, runs
 * parse + forward on it as a worker would, and checks the verdict and the
 * frame that would leave (MACs, TTL, checksums recomputed from scratch). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <netinet/in.h>

#include "common/drop.h"
#include "common/pkt.h"
#include "pipeline/forward.h"
#include "pipeline/worker.h"
#include "tests/lib/pktbuild.h"

#define HEADROOM 256

/* Headers sit at odd offsets in frames (14 bytes of Ethernet): access
 * them through unaligned types, as the data path does. */
typedef struct iphdr iphdr_u __attribute__((aligned(1)));
typedef struct ipv6hdr ipv6hdr_u __attribute__((aligned(1)));
typedef struct icmphdr icmphdr_u __attribute__((aligned(1)));
typedef struct icmp6hdr icmp6hdr_u __attribute__((aligned(1)));
#define IF_CLIENT 2
#define IF_SERVER 3
#define IF_OTHER 9

static const uint8_t MAC_P0[6] = {0x02, 0, 0, 0, 0, 0x10};
static const uint8_t MAC_P1[6] = {0x02, 0, 0, 0, 0, 0x11};
static const uint8_t MAC_SRV[6] = {0x02, 0, 0, 0, 2, 0x02};
static const uint8_t MAC_CLI[6] = {0x02, 0, 0, 0, 1, 0x02};

struct env {
	struct xgw_dataplane dp;
	struct xgw_worker w;
	struct xgw_fwd_state fs;
	uint8_t frame[2048];
	struct xgw_pkt p;
};

static struct xgw_route route(const char *pfx, const char *via, int oif, uint16_t port)
{
	struct xgw_route r = {0};

	xgw_prefix_parse(&r.dst, pfx);
	if (via)
		xgw_addr_parse(&r.via, via);
	r.oif = oif;
	r.port = port;
	return r;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct xgw_route rs[] = {
		route("198.18.1.0/24", NULL, IF_CLIENT, 0),
		route("198.18.2.0/24", NULL, IF_SERVER, 1),
		route("198.18.5.0/24", "198.18.2.2", IF_SERVER, 1),
		route("198.18.9.0/24", NULL, IF_OTHER, XGW_PORT_NONE),
		route("2001:db8:1::/64", NULL, IF_CLIENT, 0),
		route("2001:db8:2::/64", NULL, IF_SERVER, 1),
	};
	struct xgw_neigh ns[4] = {0};

	xgw_addr_parse(&ns[0].ip, "198.18.2.2");
	ns[0].ifindex = IF_SERVER;
	memcpy(ns[0].mac, MAC_SRV, 6);
	xgw_addr_parse(&ns[1].ip, "198.18.1.2");
	ns[1].ifindex = IF_CLIENT;
	memcpy(ns[1].mac, MAC_CLI, 6);
	xgw_addr_parse(&ns[2].ip, "2001:db8:2::2");
	ns[2].ifindex = IF_SERVER;
	memcpy(ns[2].mac, MAC_SRV, 6);
	xgw_addr_parse(&ns[3].ip, "2001:db8:1::2");
	ns[3].ifindex = IF_CLIENT;
	memcpy(ns[3].mac, MAC_CLI, 6);

	e->dp.n_ports = 2;
	memcpy(e->dp.ports[0].mac, MAC_P0, 6);
	memcpy(e->dp.ports[1].mac, MAC_P1, 6);
	e->dp.ports[0].mtu = 1500;
	e->dp.ports[1].mtu = 1500;
	e->dp.ports[0].ifindex = IF_CLIENT;
	e->dp.ports[1].ifindex = IF_SERVER;
	e->w.dp = &e->dp;
	e->w.umem.frame_size = 2048;
	e->w.now_ns = 5000000000ULL;
	e->fs.fib = xgw_fib_build(rs, sizeof(rs) / sizeof(rs[0]), ns, 4);
	xgw_addr_parse(&e->fs.port_addr4[0], "198.18.1.1");
	xgw_addr_parse(&e->fs.port_addr4[1], "198.18.2.1");
	xgw_addr_parse(&e->fs.port_addr6[0], "2001:db8:1::1");
	xgw_addr_parse(&e->fs.port_addr6[1], "2001:db8:2::1");
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	xgw_fib_free(e->fs.fib);
	free(e);
	return 0;
}

/* Build b into the frame after the headroom, parse and forward it. */
static int run(struct env *e, const struct xgw_pb *b)
{
	int len = xgw_pb_build(b, e->frame + HEADROOM, sizeof(e->frame) - HEADROOM);
	int r;

	assert_true(len > 0);
	memset(&e->p, 0, sizeof(e->p));
	e->p.addr = HEADROOM;
	e->p.data = e->frame + HEADROOM;
	e->p.len = (uint32_t)len;
	e->p.headroom = HEADROOM;
	e->p.port = 0;
	r = xgw_parse(&e->p);
	assert_int_equal(r, 0);
	return xgw_forward(&e->w, &e->fs, &e->p, NULL);
}

static struct xgw_pb udp4(const char *dst, uint8_t ttl)
{
	struct xgw_pb b = {.src = xgw_pb_ip("198.18.1.2"),
			   .dst = xgw_pb_ip(dst),
			   .proto = IPPROTO_UDP,
			   .ttl = ttl,
			   .sport = 40000,
			   .dport = 7000,
			   .payload = "0123456789",
			   .payload_len = 10};
	memcpy(b.src_mac, MAC_CLI, 6);
	memcpy(b.dst_mac, MAC_P0, 6);
	return b;
}

static void test_udp4_forwarded(void **state)
{
	struct env *e = *state;
	struct xgw_pb b = udp4("198.18.2.2", 64);
	const iphdr_u *ip;

	b.pad_to = 60; /* Ethernet padding must not leave with the packet */
	assert_int_equal(run(e, &b), 0);
	assert_int_equal(e->p.out_port, 1);
	assert_memory_equal(e->p.data, MAC_SRV, 6);
	assert_memory_equal(e->p.data + 6, MAC_P1, 6);
	ip = (const iphdr_u *)(e->p.data + e->p.l3_off);
	assert_int_equal(ip->ttl, 63);
	assert_int_equal(e->p.len, 14 + 20 + 8 + 10);
	assert_true(xgw_pb_csum_ok(e->p.data, e->p.len));
}

static void test_via_gateway_uses_next_hop_mac(void **state)
{
	struct env *e = *state;
	struct xgw_pb b = udp4("198.18.5.77", 10);

	assert_int_equal(run(e, &b), 0);
	assert_int_equal(e->p.out_port, 1);
	assert_memory_equal(e->p.data, MAC_SRV, 6); /* 198.18.2.2's MAC */
}

static void test_vlan_stripped(void **state)
{
	struct env *e = *state;
	struct xgw_pb b = udp4("198.18.2.2", 64);

	b.n_vlans = 2;
	b.vlan_tci[0] = 100;
	b.vlan_tci[1] = 200;
	assert_int_equal(run(e, &b), 0);
	assert_int_equal(e->p.n_vlans, 0);
	assert_int_equal(e->p.l3_off, 14);
	assert_int_equal(e->p.addr, HEADROOM + 8);
	assert_int_equal(e->p.data[12], 0x08);
	assert_int_equal(e->p.data[13], 0x00);
	assert_memory_equal(e->p.data, MAC_SRV, 6);
	assert_true(xgw_pb_csum_ok(e->p.data, e->p.len));
}

static void test_bad_ip_checksum_dropped(void **state)
{
	struct env *e = *state;
	struct xgw_pb b = udp4("198.18.2.2", 64);
	int len = xgw_pb_build(&b, e->frame + HEADROOM, 1500);

	e->frame[HEADROOM + 14 + 10] ^= 0x55; /* header checksum byte */
	memset(&e->p, 0, sizeof(e->p));
	e->p.data = e->frame + HEADROOM;
	e->p.len = (uint32_t)len;
	e->p.headroom = HEADROOM;
	assert_int_equal(xgw_parse(&e->p), 0);
	assert_int_equal(xgw_forward(&e->w, &e->fs, &e->p, NULL), XGW_DROP_IP4_CSUM);
}

static void test_drops_named(void **state)
{
	struct env *e = *state;
	struct xgw_pb b;
	struct xgw_resolve_req rq;

	b = udp4("198.19.0.1", 64);
	assert_int_equal(run(e, &b), XGW_DROP_NO_ROUTE);
	b = udp4("198.18.9.9", 64);
	assert_int_equal(run(e, &b), XGW_DROP_NO_PORT);
	/* Unknown neighbour: dropped, and one resolution request queued even
	 * for a burst of packets to it. */
	b = udp4("198.18.2.3", 64);
	assert_int_equal(run(e, &b), XGW_DROP_NO_NEIGH);
	assert_int_equal(run(e, &b), XGW_DROP_NO_NEIGH);
	assert_true(xgw_worker_pop_resolve(&e->w, &rq));
	assert_int_equal(rq.ifindex, IF_SERVER);
	assert_int_equal(rq.ip.b[3], 3);
	assert_false(xgw_worker_pop_resolve(&e->w, &rq));
	e->w.now_ns += 1000000000ULL; /* retried after the interval */
	assert_int_equal(run(e, &b), XGW_DROP_NO_NEIGH);
	assert_true(xgw_worker_pop_resolve(&e->w, &rq));
	/* MTU */
	e->dp.ports[1].mtu = 37; /* the packet is 38 bytes of IP */
	b = udp4("198.18.2.2", 64);
	assert_int_equal(run(e, &b), XGW_DROP_MTU);
}

static void test_ttl1_time_exceeded(void **state)
{
	struct env *e = *state;
	struct xgw_pb b = udp4("198.18.2.2", 1);
	uint8_t orig[64];
	const iphdr_u *ip;
	const icmphdr_u *ic;

	assert_true(xgw_pb_build(&b, orig, sizeof(orig)) > 0);
	assert_int_equal(run(e, &b), 0);
	assert_int_equal(e->p.out_port, 0); /* back to the client */
	assert_memory_equal(e->p.data, MAC_CLI, 6);
	ip = (const iphdr_u *)(e->p.data + e->p.l3_off);
	assert_int_equal(ip->protocol, IPPROTO_ICMP);
	assert_int_equal(ip->saddr, e->fs.port_addr4[0].w[0]);
	assert_int_equal(ip->daddr, xgw_pb_ip("198.18.1.2").w[0]);
	ic = (const icmphdr_u *)(ip + 1);
	assert_int_equal(ic->type, ICMP_TIME_EXCEEDED);
	assert_int_equal(ic->code, ICMP_EXC_TTL);
	/* The quote: the original IP header and 8 bytes of UDP. */
	assert_memory_equal((const uint8_t *)(ic + 1), orig + 14, 28);
	assert_int_equal(e->p.len, 14 + 20 + 8 + 28);
	assert_true(xgw_pb_csum_ok(e->p.data, e->p.len));
	assert_int_equal(e->w.st.icmp_sent, 1);
}

static void test_no_error_about_error(void **state)
{
	struct env *e = *state;
	struct xgw_pb b = udp4("198.18.2.2", 1);

	b.proto = IPPROTO_ICMP;
	b.icmp_other = true;
	b.icmp_type = ICMP_DEST_UNREACH;
	assert_int_equal(run(e, &b), XGW_DROP_TTL_EXCEEDED);
	assert_int_equal(e->w.st.icmp_sent, 0);
}

static void test_icmp_rate_limited(void **state)
{
	struct env *e = *state;
	int sent = 0;

	for (int i = 0; i < 1500; i++) {
		struct xgw_pb b = udp4("198.18.2.2", 1);
		if (run(e, &b) == 0)
			sent++;
	}
	assert_int_equal(sent, 1000);
	e->w.now_ns += 1000000000ULL;
	struct xgw_pb b = udp4("198.18.2.2", 1);
	assert_int_equal(run(e, &b), 0);
}

static struct xgw_pb udp6(const char *dst, uint8_t hl)
{
	struct xgw_pb b = {.src = xgw_pb_ip("2001:db8:1::2"),
			   .dst = xgw_pb_ip(dst),
			   .proto = IPPROTO_UDP,
			   .ttl = hl,
			   .sport = 40000,
			   .dport = 7000,
			   .payload = "abcdef",
			   .payload_len = 6};
	return b;
}

static void test_ipv6(void **state)
{
	struct env *e = *state;
	struct xgw_pb b = udp6("2001:db8:2::2", 64);
	const ipv6hdr_u *ip6;
	const icmp6hdr_u *ic;

	assert_int_equal(run(e, &b), 0);
	ip6 = (const ipv6hdr_u *)(e->p.data + e->p.l3_off);
	assert_int_equal(ip6->hop_limit, 63);
	assert_int_equal(e->p.out_port, 1);
	assert_true(xgw_pb_csum_ok(e->p.data, e->p.len));

	b = udp6("2001:db8:2::2", 1);
	assert_int_equal(run(e, &b), 0);
	ip6 = (const ipv6hdr_u *)(e->p.data + e->p.l3_off);
	assert_int_equal(ip6->nexthdr, IPPROTO_ICMPV6);
	assert_memory_equal(&ip6->daddr, xgw_pb_ip("2001:db8:1::2").b, 16);
	ic = (const icmp6hdr_u *)(ip6 + 1);
	assert_int_equal(ic->icmp6_type, ICMPV6_TIME_EXCEED);
	assert_true(xgw_pb_csum_ok(e->p.data, e->p.len));

	b = udp6("fe80::1", 64); /* link-local: never forwarded */
	assert_int_equal(run(e, &b), XGW_DROP_NO_ROUTE);
}

/* Too big for the egress port: with DF, ICMP fragmentation needed carrying
 * the next-hop MTU goes back to the sender; IPv6 gets packet too big. */
static void test_too_big(void **state)
{
	struct env *e = *state;
	struct xgw_pb b = udp4("198.18.2.2", 64);
	const iphdr_u *ip;
	const icmphdr_u *ic;
	const ipv6hdr_u *ip6;
	uint8_t mtu[4];

	e->dp.ports[1].mtu = 37; /* the packet is 38 bytes of IP */
	b.frag = 0x4000;         /* DF */
	assert_int_equal(run(e, &b), 0);
	assert_int_equal(e->p.out_port, 0);
	ip = (const iphdr_u *)(e->p.data + e->p.l3_off);
	ic = (const icmphdr_u *)(ip + 1);
	assert_int_equal(ip->daddr, xgw_pb_ip("198.18.1.2").w[0]);
	assert_int_equal(ic->type, ICMP_DEST_UNREACH);
	assert_int_equal(ic->code, ICMP_FRAG_NEEDED);
	memcpy(mtu, (const uint8_t *)ic + 4, 4);
	assert_int_equal(mtu[2] << 8 | mtu[3], 37);
	assert_true(xgw_pb_csum_ok(e->p.data, e->p.len));

	e->dp.ports[1].mtu = 50; /* IPv6: 40 + 8 + 6 = 54 bytes */
	b = udp6("2001:db8:2::2", 64);
	assert_int_equal(run(e, &b), 0);
	ip6 = (const ipv6hdr_u *)(e->p.data + e->p.l3_off);
	assert_memory_equal(&ip6->daddr, xgw_pb_ip("2001:db8:1::2").b, 16);
	assert_int_equal(((const uint8_t *)(ip6 + 1))[0], ICMPV6_PKT_TOOBIG);
	memcpy(mtu, (const uint8_t *)(ip6 + 1) + 4, 4);
	assert_int_equal(mtu[2] << 8 | mtu[3], 50);
	assert_true(xgw_pb_csum_ok(e->p.data, e->p.len));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_udp4_forwarded),      T(test_via_gateway_uses_next_hop_mac),
		T(test_vlan_stripped),       T(test_bad_ip_checksum_dropped),
		T(test_drops_named),         T(test_ttl1_time_exceeded),
		T(test_no_error_about_error), T(test_icmp_rate_limited),
		T(test_ipv6),                T(test_too_big),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
