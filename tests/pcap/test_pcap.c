/* SPDX-License-Identifier: BSD-3-Clause */
/* Packet tests as data (katran lib/testing fixtures, cilium bpf/tests): a
 * table of cases {description, input frame spec, ingress port, expected
 * verdict, expected output frame spec}.  Input and expected output are both
 * built with tests/lib/pktbuild from the spec (backend address, TTL - 1,
 * the egress port's and next hop's MACs...), never by running xgw.
 *
 * Two runs over the same table:
 *  1. in process, one frame per burst (pipeline/offline.h): each case's
 *     verdict (drop reason or egress port) and output bytes;
 *  2. through the xgw-replay program (argv[1]): the cases are written to
 *     in.pcap and expected.pcap (case i at time i s), xgw-replay writes
 *     out.pcap with bursts of 64, and out.pcap is compared with
 *     expected.pcap byte for byte (matched by timestamp, since a burst
 *     transmits port by port) and its drop counts with the table's;
 *     then again with --dpdk, through a DPDK net_pcap port per xgw port.
 * And one burst of its own (test_same_burst): a flow's first packet and
 * later ones of the same flow, both ways, in the same burst.
 *
 * The only bytes not predicted are an SNAT source port (hash of the flow
 * with conntrack's random per-table seed) and the checksum covering it:
 * they are masked, the port's range checked and the checksum verified by a
 * full recomputation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>
#include <netinet/in.h>
#include <pcap/pcap.h>

#include "ctl/config.h"
#include "pipeline/offline.h"
#include "tests/lib/pktbuild.h"

/* The case table leaves trailing fields zero on purpose. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static const char *replay_path;

#define MAC_P0 {0x02, 0, 0, 0, 0, 0x10}  /* xgw port "client" */
#define MAC_P1 {0x02, 0, 0, 0, 0, 0x11}  /* xgw port "backend" */
#define MAC_CLI {0x02, 0, 0, 0, 1, 0x02} /* 198.18.1.2, 2001:db8:1::2 */
#define MAC_BE1 {0x02, 0, 0, 0, 2, 0x10} /* 198.18.2.10 */
#define MAC_BE2 {0x02, 0, 0, 0, 2, 0x11} /* 198.18.2.11 */
#define MAC_GW {0x02, 0, 0, 0, 2, 0x02}	 /* 198.18.2.2, 2001:db8:2::2 */

static const char *const CONFIG =
    "{\"ports\": ["
    " {\"name\": \"client\", \"iface\": \"xgw-c\", \"queues\": [{\"queue\": 0, \"core\": 0}]},"
    " {\"name\": \"backend\", \"iface\": \"xgw-b\", \"queues\": [{\"queue\": 0, \"core\": 0}]}],"
    " \"conntrack\": {\"max_entries\": 4096},"
    " \"services\": ["
    "  {\"vip\": \"198.18.100.1\", \"port\": 80, \"proto\": \"tcp\","
    "   \"backends\": [{\"ip\": \"198.18.2.10\", \"port\": 8080}]},"
    "  {\"vip\": \"198.18.100.2\", \"port\": 53, \"proto\": \"udp\","
    "   \"backends\": [{\"ip\": \"198.18.2.10\", \"port\": 5353}]},"
    "  {\"vip\": \"198.18.100.3\", \"port\": 80, \"proto\": \"tcp\", \"snat\": true,"
    "   \"backends\": [{\"ip\": \"198.18.2.11\", \"port\": 8080}]},"
    "  {\"vip\": \"198.18.100.4\", \"port\": 22, \"proto\": \"tcp\","
    "   \"backends\": [{\"ip\": \"198.18.2.10\", \"port\": 22}]}],"
    " \"routes\": ["
    "  {\"dst\": \"198.18.5.0/24\", \"via\": \"198.18.2.2\", \"port\": \"backend\"},"
    "  {\"dst\": \"2001:db8:5::/64\", \"via\": \"2001:db8:2::2\", \"port\": \"backend\"}],"
    " \"neighbours\": ["
    "  {\"ip\": \"198.18.1.2\", \"mac\": \"02:00:00:00:01:02\", \"port\": \"client\"},"
    "  {\"ip\": \"2001:db8:1::2\", \"mac\": \"02:00:00:00:01:02\", \"port\": \"client\"},"
    "  {\"ip\": \"198.18.2.10\", \"mac\": \"02:00:00:00:02:10\", \"port\": \"backend\"},"
    "  {\"ip\": \"198.18.2.11\", \"mac\": \"02:00:00:00:02:11\", \"port\": \"backend\"},"
    "  {\"ip\": \"198.18.2.2\", \"mac\": \"02:00:00:00:02:02\", \"port\": \"backend\"},"
    "  {\"ip\": \"2001:db8:2::2\", \"mac\": \"02:00:00:00:02:02\", \"port\": \"backend\"}],"
    " \"policies\": [{\"action\": \"deny\", \"src\": \"198.18.1.0/24\","
    "   \"dst\": \"198.18.100.4/32\", \"proto\": \"tcp\", \"dport\": \"22\"},"
    "  {\"action\": \"deny\", \"dst\": \"198.18.5.0/24\", \"proto\": \"udp\","
    "   \"dport\": \"9999\"}]}";

static const char *const PORTS[] = {
    "client,02:00:00:00:00:10,198.18.1.1/24,2001:db8:1::1/64",
    "backend,02:00:00:00:00:11,198.18.2.1/24,2001:db8:2::1/64",
};

enum { P_CLIENT = 0, P_BACKEND = 1 };

/* How a frame is spoilt after building (malformed-input cases). */
enum spoil { SP_NONE, SP_TRUNC_IP4, SP_IP4_CSUM, SP_UDP_CSUM0 };

struct pcase {
	const char *desc;
	struct xgw_pb in;
	enum spoil in_spoil;
	uint16_t in_port;
	unsigned drop; /* expected verdict: XGW_DROP_*, 0 = transmitted */
	uint16_t out_port;
	struct xgw_pb out;
	enum spoil out_spoil;
	bool snat_masked; /* mask the TCP source port and checksum */
	bool time_exceeded; /* out's payload is the quoted input */
};

#define V4(s) xgw_pb_ip(s)

static struct pcase *cases(unsigned *n)
{
	static struct pcase c[16];
	unsigned i = 0;

#define IN_CLI .src_mac = MAC_CLI, .dst_mac = MAC_P0
#define IN_BE1 .src_mac = MAC_BE1, .dst_mac = MAC_P1
	c[i++] = (struct pcase){
	    "DNAT: TCP SYN to a VIP goes to its one backend",
	    {IN_CLI, .src = V4("198.18.1.2"), .dst = V4("198.18.100.1"), .proto = IPPROTO_TCP,
	     .sport = 40000, .dport = 80, .tcp_flags = XGW_PB_SYN, .seq = 1000},
	    SP_NONE, P_CLIENT, 0, P_BACKEND,
	    {.src_mac = MAC_P1, .dst_mac = MAC_BE1, .src = V4("198.18.1.2"),
	     .dst = V4("198.18.2.10"), .proto = IPPROTO_TCP, .ttl = 63, .sport = 40000,
	     .dport = 8080, .tcp_flags = XGW_PB_SYN, .seq = 1000}};
	c[i++] = (struct pcase){
	    "reverse NAT: the backend's SYN-ACK leaves from VIP:80",
	    {IN_BE1, .src = V4("198.18.2.10"), .dst = V4("198.18.1.2"), .proto = IPPROTO_TCP,
	     .sport = 8080, .dport = 40000, .tcp_flags = XGW_PB_SYN | XGW_PB_ACK, .seq = 5000,
	     .ack = 1001},
	    SP_NONE, P_BACKEND, 0, P_CLIENT,
	    {.src_mac = MAC_P0, .dst_mac = MAC_CLI, .src = V4("198.18.100.1"),
	     .dst = V4("198.18.1.2"), .proto = IPPROTO_TCP, .ttl = 63, .sport = 80,
	     .dport = 40000, .tcp_flags = XGW_PB_SYN | XGW_PB_ACK, .seq = 5000, .ack = 1001}};
	c[i++] = (struct pcase){
	    "established: the client's ACK with data follows the connection",
	    {IN_CLI, .src = V4("198.18.1.2"), .dst = V4("198.18.100.1"), .proto = IPPROTO_TCP,
	     .sport = 40000, .dport = 80, .tcp_flags = XGW_PB_ACK, .seq = 1001, .ack = 5001,
	     .payload = "GET / HTTP/1.0\r\n\r\n", .payload_len = 18},
	    SP_NONE, P_CLIENT, 0, P_BACKEND,
	    {.src_mac = MAC_P1, .dst_mac = MAC_BE1, .src = V4("198.18.1.2"),
	     .dst = V4("198.18.2.10"), .proto = IPPROTO_TCP, .ttl = 63, .sport = 40000,
	     .dport = 8080, .tcp_flags = XGW_PB_ACK, .seq = 1001, .ack = 5001,
	     .payload = "GET / HTTP/1.0\r\n\r\n", .payload_len = 18}};
	c[i++] = (struct pcase){
	    "UDP with checksum 0 (none) is DNATed and keeps checksum 0",
	    {IN_CLI, .src = V4("198.18.1.2"), .dst = V4("198.18.100.2"), .proto = IPPROTO_UDP,
	     .sport = 41000, .dport = 53, .payload = "query", .payload_len = 5},
	    SP_UDP_CSUM0, P_CLIENT, 0, P_BACKEND,
	    {.src_mac = MAC_P1, .dst_mac = MAC_BE1, .src = V4("198.18.1.2"),
	     .dst = V4("198.18.2.10"), .proto = IPPROTO_UDP, .ttl = 63, .sport = 41000,
	     .dport = 5353, .payload = "query", .payload_len = 5},
	    SP_UDP_CSUM0};
	c[i++] = (struct pcase){
	    "SNAT service: source becomes the backend port's address",
	    {IN_CLI, .src = V4("198.18.1.2"), .dst = V4("198.18.100.3"), .proto = IPPROTO_TCP,
	     .sport = 42000, .dport = 80, .tcp_flags = XGW_PB_SYN, .seq = 7},
	    SP_NONE, P_CLIENT, 0, P_BACKEND,
	    {.src_mac = MAC_P1, .dst_mac = MAC_BE2, .src = V4("198.18.2.1"),
	     .dst = V4("198.18.2.11"), .proto = IPPROTO_TCP, .ttl = 63, .sport = 0,
	     .dport = 8080, .tcp_flags = XGW_PB_SYN, .seq = 7},
	    SP_NONE, true};
	c[i++] = (struct pcase){
	    "policy: deny rule drops SSH to a VIP",
	    {IN_CLI, .src = V4("198.18.1.2"), .dst = V4("198.18.100.4"), .proto = IPPROTO_TCP,
	     .sport = 43000, .dport = 22, .tcp_flags = XGW_PB_SYN},
	    SP_NONE, P_CLIENT, XGW_DROP_POLICY};
	c[i++] = (struct pcase){
	    "TTL 1: ICMP time exceeded back to the sender from the ingress port",
	    {IN_CLI, .src = V4("198.18.1.2"), .dst = V4("198.18.5.7"), .proto = IPPROTO_UDP,
	     .ttl = 1, .sport = 44000, .dport = 7000, .payload = "ttl", .payload_len = 3},
	    SP_NONE, P_CLIENT, 0, P_CLIENT,
	    {.src_mac = MAC_P0, .dst_mac = MAC_CLI, .src = V4("198.18.1.1"),
	     .dst = V4("198.18.1.2"), .proto = IPPROTO_ICMP, .ttl = 64, .tos = 0xc0,
	     .icmp_other = true, .icmp_type = 11, .icmp_code = 0},
	    SP_NONE, false, true};
	c[i++] = (struct pcase){
	    "steered non-service flow: plain routing via the next hop",
	    {IN_CLI, .src = V4("198.18.1.2"), .dst = V4("198.18.5.7"), .proto = IPPROTO_UDP,
	     .sport = 45000, .dport = 7000, .payload = "route me", .payload_len = 8},
	    SP_NONE, P_CLIENT, 0, P_BACKEND,
	    {.src_mac = MAC_P1, .dst_mac = MAC_GW, .src = V4("198.18.1.2"),
	     .dst = V4("198.18.5.7"), .proto = IPPROTO_UDP, .ttl = 63, .sport = 45000,
	     .dport = 7000, .payload = "route me", .payload_len = 8}};
	c[i++] = (struct pcase){"policy: deny rule drops a steered non-service flow too",
				{IN_CLI, .src = V4("198.18.1.2"), .dst = V4("198.18.5.7"),
				 .proto = IPPROTO_UDP, .sport = 45001, .dport = 9999,
				 .payload = "deny me", .payload_len = 7},
				SP_NONE,
				P_CLIENT,
				XGW_DROP_POLICY};
	c[i++] = (struct pcase){
	    "IPv6: routed via the next hop, hop limit - 1",
	    {IN_CLI, .src = V4("2001:db8:1::2"), .dst = V4("2001:db8:5::7"),
	     .proto = IPPROTO_UDP, .sport = 46000, .dport = 7000, .payload = "six",
	     .payload_len = 3},
	    SP_NONE, P_CLIENT, 0, P_BACKEND,
	    {.src_mac = MAC_P1, .dst_mac = MAC_GW, .src = V4("2001:db8:1::2"),
	     .dst = V4("2001:db8:5::7"), .proto = IPPROTO_UDP, .ttl = 63, .sport = 46000,
	     .dport = 7000, .payload = "six", .payload_len = 3}};
	c[i++] = (struct pcase){
	    "malformed: IPv4 header cut short",
	    {IN_CLI, .src = V4("198.18.1.2"), .dst = V4("198.18.5.7"), .proto = IPPROTO_UDP,
	     .sport = 1, .dport = 2},
	    SP_TRUNC_IP4, P_CLIENT, XGW_DROP_IP4_TRUNC};
	c[i++] = (struct pcase){
	    "malformed: bad IPv4 header checksum",
	    {IN_CLI, .src = V4("198.18.1.2"), .dst = V4("198.18.5.7"), .proto = IPPROTO_UDP,
	     .sport = 1, .dport = 2},
	    SP_IP4_CSUM, P_CLIENT, XGW_DROP_IP4_CSUM};
	c[i++] = (struct pcase){
	    "not IP: ARP is not the worker's",
	    {IN_CLI, .ethertype = 0x0806, .payload = "arp-ish-28-bytes-of-payload!", .payload_len = 28},
	    SP_NONE, P_CLIENT, XGW_DROP_NOT_IP};
	c[i++] = (struct pcase){
	    "a backend's packet of no connection is not forwarded untranslated",
	    {IN_BE1, .src = V4("198.18.2.10"), .dst = V4("198.18.1.2"), .proto = IPPROTO_TCP,
	     .sport = 8080, .dport = 49999, .tcp_flags = XGW_PB_ACK},
	    SP_NONE, P_BACKEND, XGW_DROP_CT_INVALID};
	*n = i;
	return c;
}

/* Build a frame from its spec and spoil it as asked; returns the length. */
static int build(const struct xgw_pb *b, enum spoil sp, uint8_t *buf, size_t cap)
{
	struct xgw_pb_layout lo;
	int len = xgw_pb_build(b, buf, cap);

	assert_true(len > 0);
	if (!b->ethertype)
		assert_int_equal(xgw_pb_layout(b, &lo), 0);
	switch (sp) {
	case SP_TRUNC_IP4: return 14 + 12;
	case SP_IP4_CSUM: buf[14 + 10] ^= 0x5a; break;
	case SP_UDP_CSUM0: buf[lo.l4_off + 6] = buf[lo.l4_off + 7] = 0; break;
	default: break;
	}
	return len;
}

/* The expected output of case c: from its out spec, or for an ICMP error
 * the quote of the input (its IP header and 8 bytes, as received). */
static int expected(const struct pcase *c, const uint8_t *in, uint8_t *buf, size_t cap)
{
	struct xgw_pb b = c->out;

	if (c->time_exceeded) {
		b.payload = in + 14;
		b.payload_len = 20 + 8;
	}
	return build(&b, c->out_spoil, buf, cap);
}

static void compare(const struct pcase *c, const uint8_t *got, int got_len, const uint8_t *want,
		    int want_len)
{
	uint8_t g[2048];

	assert_int_equal(got_len, want_len);
	memcpy(g, got, (size_t)got_len);
	if (c->snat_masked) {
		unsigned l4 = 14 + 20, port = (unsigned)got[l4] << 8 | got[l4 + 1];

		assert_true(xgw_pb_csum_ok(got, (size_t)got_len));
		assert_in_range(port, 1024, 65535);
		/* the port and the checksum over it: taken from the expected */
		memcpy(g + l4, want + l4, 2);
		memcpy(g + l4 + 16, want + l4 + 16, 2);
	}
	for (int i = 0; i < got_len; i++)
		if (g[i] != want[i])
			fail_msg("%s: byte %d is 0x%02x, expected 0x%02x", c->desc, i, g[i],
				 want[i]);
}

struct capture {
	int n;
	uint16_t port;
	int len;
	uint8_t data[2048];
};

static void on_tx(void *arg, uint32_t idx, uint16_t port, const uint8_t *data, uint32_t len)
{
	struct capture *cap = arg;

	cap->n++;
	cap->port = port;
	cap->len = (int)len;
	memcpy(cap->data, data, len < sizeof(cap->data) ? len : sizeof(cap->data));
}

static struct xgw_offline *open_offline(struct xgw_config *cfg)
{
	struct xgw_offline_port ports[2];
	json_error_t jerr;
	json_t *j = json_loads(CONFIG, 0, &jerr);
	char err[256];
	struct xgw_offline *o;

	assert_non_null(j);
	if (xgw_config_load_json(cfg, j, err, sizeof(err)))
		fail_msg("config: %s", err);
	json_decref(j);
	for (int i = 0; i < 2; i++)
		assert_int_equal(xgw_offline_port_parse(&ports[i], PORTS[i]), 0);
	o = xgw_offline_open(cfg, ports, 2, 256, 1, err, sizeof(err));
	if (!o)
		fail_msg("offline: %s", err);
	return o;
}

/* 1. In process, frame by frame: verdicts and bytes. */
static void test_cases_in_process(void **state)
{
	struct xgw_config cfg;
	struct xgw_offline *o = open_offline(&cfg);
	unsigned n;
	struct pcase *c = cases(&n);

	for (unsigned i = 0; i < n; i++) {
		uint8_t in[2048], want[2048];
		struct xgw_offline_counters before, after;
		struct capture cap = {0};
		struct xgw_offline_frame f = {.port = c[i].in_port,
					      .ts_ns = (uint64_t)(i + 1) * 1000000000ull};

		f.len = (uint32_t)build(&c[i].in, c[i].in_spoil, in, sizeof(in));
		f.data = in;
		xgw_offline_counters(o, &before);
		assert_int_equal(xgw_offline_run(o, &f, 1, 1, on_tx, &cap), 1);
		xgw_offline_counters(o, &after);
		print_message("case %u: %s\n", i + 1, c[i].desc);
		if (c[i].drop) {
			if (cap.n)
				fail_msg("%s: transmitted on port %u, expected drop %s", c[i].desc,
					 cap.port, xgw_drop_name(c[i].drop));
			if (after.drops[c[i].drop] != before.drops[c[i].drop] + 1)
				fail_msg("%s: drop %s not counted", c[i].desc,
					 xgw_drop_name(c[i].drop));
			continue;
		}
		for (unsigned r = 0; r < XGW_DROP__MAX; r++)
			if (after.drops[r] != before.drops[r])
				fail_msg("%s: dropped (%s)", c[i].desc, xgw_drop_name(r));
		assert_int_equal(cap.n, 1);
		assert_int_equal(cap.port, c[i].out_port);
		compare(&c[i], cap.data, cap.len, want, expected(&c[i], in, want, sizeof(want)));
	}
	xgw_offline_close(o);
	xgw_config_free(&cfg);
}

/* One burst holding a flow's first packet and later ones, both ways:
 * the later packets' conntrack "absent" hints were taken before the first
 * created the flow (lb_stage.h), so they must be looked up again, not
 * become second creations (a retransmitted SYN) or drops (the backend's
 * SYN-ACK, an ACK of an SNAT flow whose reply key has no precomputed
 * hash). */
struct burst_cap {
	unsigned n;
	uint32_t idx[16];
	uint16_t port[16];
};

static void on_tx_burst(void *arg, uint32_t idx, uint16_t port, const uint8_t *data,
			uint32_t len)
{
	struct burst_cap *b = arg;

	if (b->n < 16) {
		b->idx[b->n] = idx;
		b->port[b->n] = port;
	}
	b->n++;
}

static void test_same_burst(void **state)
{
	struct xgw_config cfg;
	struct xgw_offline *o = open_offline(&cfg);
	struct xgw_offline_counters cnt;
	struct burst_cap cap = {0};
	const struct xgw_pb pb[] = {
	    /* DNAT service: SYN, the same SYN again, the backend's SYN-ACK,
	     * the client's ACK */
	    {IN_CLI, .src = V4("198.18.1.2"), .dst = V4("198.18.100.1"), .proto = IPPROTO_TCP,
	     .sport = 41000, .dport = 80, .tcp_flags = XGW_PB_SYN, .seq = 1},
	    {IN_CLI, .src = V4("198.18.1.2"), .dst = V4("198.18.100.1"), .proto = IPPROTO_TCP,
	     .sport = 41000, .dport = 80, .tcp_flags = XGW_PB_SYN, .seq = 1},
	    {IN_BE1, .src = V4("198.18.2.10"), .dst = V4("198.18.1.2"), .proto = IPPROTO_TCP,
	     .sport = 8080, .dport = 41000, .tcp_flags = XGW_PB_SYN | XGW_PB_ACK, .seq = 9, .ack = 2},
	    {IN_CLI, .src = V4("198.18.1.2"), .dst = V4("198.18.100.1"), .proto = IPPROTO_TCP,
	     .sport = 41000, .dport = 80, .tcp_flags = XGW_PB_ACK, .seq = 2, .ack = 10},
	    /* SNAT service: SYN and the client's next segment */
	    {IN_CLI, .src = V4("198.18.1.2"), .dst = V4("198.18.100.3"), .proto = IPPROTO_TCP,
	     .sport = 41001, .dport = 80, .tcp_flags = XGW_PB_SYN, .seq = 1},
	    {IN_CLI, .src = V4("198.18.1.2"), .dst = V4("198.18.100.3"), .proto = IPPROTO_TCP,
	     .sport = 41001, .dport = 80, .tcp_flags = XGW_PB_ACK, .seq = 2, .ack = 1},
	};
	enum { N = sizeof(pb) / sizeof(pb[0]) };
	const uint16_t in_port[N] = {P_CLIENT, P_CLIENT, P_BACKEND, P_CLIENT, P_CLIENT, P_CLIENT};
	const uint16_t out_port[N] = {P_BACKEND, P_BACKEND, P_CLIENT,
				      P_BACKEND, P_BACKEND, P_BACKEND};
	uint8_t in[N][256];
	struct xgw_offline_frame f[N];

	for (unsigned i = 0; i < N; i++) {
		f[i] = (struct xgw_offline_frame){.port = in_port[i], .ts_ns = 1000000000ull};
		f[i].len = (uint32_t)build(&pb[i], SP_NONE, in[i], sizeof(in[i]));
		f[i].data = in[i];
	}
	assert_int_equal(xgw_offline_run(o, f, N, XGW_BURST_MAX, on_tx_burst, &cap), N);
	xgw_offline_counters(o, &cnt);
	for (unsigned r = 1; r < XGW_DROP__MAX; r++)
		if (cnt.drops[r])
			fail_msg("dropped %llu (%s)", (unsigned long long)cnt.drops[r],
				 xgw_drop_name(r));
	assert_int_equal(cap.n, N);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(cap.port[i], out_port[cap.idx[i]]);
	assert_int_equal(cnt.ct_created, 2);
	xgw_offline_close(o);
	xgw_config_free(&cfg);
}

static void dump(pcap_dumper_t *d, int i, const uint8_t *data, int len)
{
	struct pcap_pkthdr h = {.ts = {.tv_sec = i + 1}, .caplen = (bpf_u_int32)len,
				.len = (bpf_u_int32)len};

	pcap_dump((u_char *)d, &h, data);
}

/* Check the frames of one output pcap against the cases that were
 * expected on it, in order (order[0..n)); returns how many were read. */
static unsigned check_out(const char *path, struct pcase *c, const uint8_t (*in)[2048],
			  const unsigned *order, unsigned n, bool by_ts)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned got = 0;
	pcap_t *rd = pcap_open_offline(path, errbuf);

	if (!rd)
		fail_msg("%s: %s", path, errbuf);
	while (pcap_next_ex(rd, &h, &data) == 1) {
		int i = by_ts ? (int)h->ts.tv_sec - 1 : got < n ? (int)order[got] : -1;
		uint8_t want[2048];

		if (i < 0)
			fail_msg("%s: more frames than the %u expected", path, n);
		assert_int_equal(c[i].drop, 0);
		compare(&c[i], data, (int)h->caplen, want,
			expected(&c[i], in[i], want, sizeof(want)));
		got++;
	}
	pcap_close(rd);
	return got;
}

/* 2. Through xgw-replay, whole table in bursts of 64: in memory, or with
 * --dpdk through one net_pcap port per xgw port. */
static void replay_table(bool dpdk)
{
	char dir[] = "/tmp/xgw-pcap-XXXXXX", path[4][300], cmd[2048];
	const char *names[4] = {"xgw.json", "in.pcap", "expected.pcap", "out.pcap"};
	unsigned n, n_expected = 0, n_got = 0;
	struct pcase *c = cases(&n);
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 65535);
	pcap_dumper_t *din, *dexp;
	uint64_t want_drops[XGW_DROP__MAX] = {0};
	static uint8_t in[16][2048];
	/* --dpdk: per egress port, the cases in the order the worker sees
	 * them (each port's queue polled in turn: ingress port, then input
	 * order). */
	unsigned order[2][16], n_order[2] = {0, 0};
	json_error_t jerr;
	json_t *sum, *drops;
	FILE *f;

	if (!replay_path)
		skip();
	assert_non_null(mkdtemp(dir));
	for (int i = 0; i < 4; i++)
		snprintf(path[i], sizeof(path[i]), "%s/%s", dir, names[i]);
	f = fopen(path[0], "w");
	assert_non_null(f);
	/* The EAL of an offline tool needs no huge pages and no PCI scan. */
	if (dpdk)
		fprintf(f,
			"%.*s, \"dpdk\": {\"eal_args\": [\"--no-huge\", \"-m\", \"256\", "
			"\"--no-pci\"], \"mbufs\": 2048}}",
			(int)strlen(CONFIG) - 1, CONFIG);
	else
		fputs(CONFIG, f);
	fclose(f);
	din = pcap_dump_open(dead, path[1]);
	dexp = pcap_dump_open(dead, path[2]);
	assert_non_null(din);
	assert_non_null(dexp);
	for (unsigned i = 0; i < n; i++) {
		uint8_t want[2048];
		int len = build(&c[i].in, c[i].in_spoil, in[i], sizeof(in[i]));

		dump(din, (int)i, in[i], len);
		if (c[i].drop) {
			want_drops[c[i].drop]++;
			continue;
		}
		dump(dexp, (int)i, want, expected(&c[i], in[i], want, sizeof(want)));
		n_expected++;
	}
	for (uint16_t p = 0; p < 2; p++)
		for (unsigned i = 0; i < n; i++)
			if (!c[i].drop && c[i].in_port == p)
				order[c[i].out_port][n_order[c[i].out_port]++] = i;
	pcap_dump_close(din);
	pcap_dump_close(dexp);
	pcap_close(dead);

	/* Ingress port by destination MAC (--in-port auto). */
	if (dpdk) {
		unlink(path[3]);
		assert_int_equal(mkdir(path[3], 0700), 0);
	}
	snprintf(cmd, sizeof(cmd),
		 "%s -c %s --port %s --port %s -r %s -w %s --json%s > %s/sum.json", replay_path,
		 path[0], PORTS[0], PORTS[1], path[1], path[3], dpdk ? " --dpdk" : "", dir);
	assert_int_equal(system(cmd), 0);

	snprintf(cmd, sizeof(cmd), "%s/sum.json", dir);
	sum = json_load_file(cmd, 0, &jerr);
	assert_non_null(sum);
	assert_int_equal(json_integer_value(json_object_get(sum, "in")), n);
	assert_int_equal(json_integer_value(json_object_get(sum, "out")), n_expected);
	drops = json_object_get(sum, "drops");
	for (unsigned r = 1; r < XGW_DROP__MAX; r++) {
		json_t *v = json_object_get(drops, xgw_drop_name(r));
		if ((uint64_t)json_integer_value(v) != want_drops[r])
			fail_msg("replay: drop %s counted %lld, expected %llu", xgw_drop_name(r),
				 (long long)json_integer_value(v), (unsigned long long)want_drops[r]);
	}
	json_decref(sum);
	unlink(cmd);

	if (dpdk) {
		/* net_pcap stamps frames with the time it writes them: the
		 * cases are known by their place in each port's file. */
		for (unsigned p = 0; p < 2; p++) {
			char out[400];

			snprintf(out, sizeof(out), "%s/%s.pcap", path[3], p ? "backend" : "client");
			n_got += check_out(out, c, in, order[p], n_order[p], false);
			unlink(out);
		}
		rmdir(path[3]);
	} else {
		n_got = check_out(path[3], c, in, NULL, n, true);
	}
	assert_int_equal(n_got, n_expected);
	for (int i = 0; i < 4; i++)
		unlink(path[i]);
	rmdir(dir);
}

static void test_cases_replay(void **state)
{
	replay_table(false);
}

/* The same table through DPDK: net_pcap ports in, the worker's DPDK
 * queues (port/port_dpdk.c) out. */
static void test_cases_replay_dpdk(void **state)
{
	if (!XGW_HAVE_DPDK) {
		print_message("skipped: this build has no DPDK (meson -Ddpdk=enabled)\n");
		skip();
	}
	replay_table(true);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases_in_process),
	    cmocka_unit_test(test_same_burst),
	    cmocka_unit_test(test_cases_replay),
	    cmocka_unit_test(test_cases_replay_dpdk),
	};

	replay_path = argc > 1 ? argv[1] : NULL;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
