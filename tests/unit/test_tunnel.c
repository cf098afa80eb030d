/* SPDX-License-Identifier: BSD-3-Clause */
/* tunnel/: encap/decap round trips for VXLAN and Geneve, and bad tunnel
 * headers each dropped with its own reason (cases as data). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/drop.h"
#include "common/pkt.h"
#include "tests/lib/pktbuild.h"
#include "tunnel/table.h"

#define HEADROOM 256
#define LOCAL	 "198.18.3.1"
#define REMOTE	 "198.18.3.2"
#define VNI	 42

static const uint8_t inner_mac[6] = {0x02, 0, 0, 0, 0x04, 0x0a};
static const uint8_t nh_mac[6] = {0x02, 0, 0, 0, 0x03, 0x02};
static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0x03, 0x01};

/* One service, a VXLAN backend (with an inner MAC) and a Geneve one
 * (without), both behind REMOTE. */
struct fixture {
	struct xgw_config cfg;
	struct xgw_service_cfg svc;
	struct xgw_backend_cfg be[2];
	struct xgw_tun_table *t;
};

static int setup(void **state)
{
	static struct fixture f;
	char err[128];

	memset(&f, 0, sizeof(f));
	f.cfg.tunnel.local_ip = xgw_pb_ip(LOCAL);
	f.cfg.tunnel.vxlan_port = 4789;
	f.cfg.tunnel.geneve_port = 6081;
	f.be[0].ip = xgw_pb_ip("198.18.4.10");
	f.be[0].port = 8080;
	f.be[0].tun = XGW_TUN_VXLAN;
	f.be[0].tun_remote = xgw_pb_ip(REMOTE);
	f.be[0].vni = VNI;
	f.be[0].has_inner_mac = true;
	memcpy(f.be[0].inner_mac, inner_mac, 6);
	f.be[1] = f.be[0];
	f.be[1].ip = xgw_pb_ip("198.18.4.11");
	f.be[1].tun = XGW_TUN_GENEVE;
	f.be[1].has_inner_mac = false;
	f.svc.vip = xgw_pb_ip("198.18.100.1");
	f.svc.port = 80;
	f.svc.proto = IPPROTO_TCP;
	f.svc.backends = f.be;
	f.svc.n_backends = 2;
	f.cfg.services = &f.svc;
	f.cfg.n_services = 1;
	f.t = xgw_tun_table_build(&f.cfg, err, sizeof(err));
	if (!f.t)
		fail_msg("table: %s", err);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	xgw_tun_table_free(f->t);
	return 0;
}

/* A parsed packet over buf + HEADROOM. */
static void pkt_at(struct xgw_pkt *p, uint8_t *buf, int len)
{
	memset(p, 0, sizeof(*p));
	p->data = buf + HEADROOM;
	p->addr = HEADROOM;
	p->headroom = HEADROOM;
	p->len = (uint32_t)len;
	assert_int_equal(xgw_parse(p), 0);
}

static int inner_frame(uint8_t *buf, const char *dst, uint16_t dport, uint16_t payload)
{
	static uint8_t data[1400];
	struct xgw_pb b = {.src = xgw_pb_ip("198.18.1.10"),
			   .dst = xgw_pb_ip(dst),
			   .proto = IPPROTO_TCP,
			   .sport = 40000,
			   .dport = dport,
			   .tcp_flags = XGW_PB_ACK,
			   .payload = data,
			   .payload_len = payload};

	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	return xgw_pb_build(&b, buf + HEADROOM, 2048 - HEADROOM);
}

static void round_trip(struct fixture *f, const char *be_ip, uint8_t type)
{
	uint8_t buf[2048], orig[2048];
	struct xgw_pkt p;
	const struct xgw_tun_ep *ep;
	int len = inner_frame(buf, be_ip, 8080, 1000);
	struct xgw_addr be = xgw_pb_ip(be_ip);
	uint16_t v;

	assert_true(len > 0);
	memcpy(orig, buf + HEADROOM, (size_t)len);
	pkt_at(&p, buf, len);
	ep = xgw_tun_lookup_backend(f->t, &be, htons(8080), IPPROTO_TCP);
	assert_non_null(ep);
	assert_int_equal(ep->type, type);
	assert_null(xgw_tun_lookup_backend(f->t, &be, htons(8081), IPPROTO_TCP));
	xgw_tun_encap(&p, ep, 0x123456789abcdefULL, nh_mac, our_mac);

	/* The outer packet: parses, checksums right (UDP 0), fields. */
	assert_int_equal(p.headroom, HEADROOM - 50);
	assert_int_equal(p.len, (uint32_t)len + 50);
	assert_ptr_equal(p.data, buf + HEADROOM - 50);
	assert_true(xgw_pb_csum_ok(p.data, p.len));
	assert_memory_equal(p.data, nh_mac, 6);
	assert_memory_equal(p.data + 6, our_mac, 6);
	assert_int_equal(p.data[14 + 9], IPPROTO_UDP);
	assert_int_equal(p.data[14 + 6], 0x40); /* DF */
	memcpy(&v, p.data + 34, 2);
	assert_true(ntohs(v) >= 49152);
	memcpy(&v, p.data + 36, 2);
	assert_int_equal(ntohs(v), type == XGW_TUNK_VXLAN ? 4789 : 6081);
	memcpy(&v, p.data + 38, 2);
	assert_int_equal(ntohs(v), len + 16);
	memcpy(&v, p.data + 40, 2);
	assert_int_equal(v, 0); /* no UDP checksum over IPv4 */
	assert_int_equal(p.data[42], type == XGW_TUNK_VXLAN ? 0x08 : 0);
	assert_int_equal(p.data[42 + 4] << 16 | p.data[42 + 5] << 8 | p.data[42 + 6], VNI);
	/* inner Ethernet: the backend's MAC, or ours; then the IP packet */
	assert_memory_equal(p.data + 50, type == XGW_TUNK_VXLAN ? inner_mac : our_mac, 6);
	assert_memory_equal(p.data + 56, our_mac, 6);
	assert_memory_equal(p.data + 62, orig + 12, (size_t)len - 12);
	{
		struct xgw_pkt q = p;
		assert_int_equal(xgw_parse(&q), 0);
		assert_int_equal(q.l3_len, p.l3_len);
	}

	/* Back: as the remote's reply (addresses swapped) it decapsulates to
	 * the same inner frame. */
	uint8_t *ip = p.data + 14, tmp[4];
	memcpy(tmp, ip + 12, 4);
	memcpy(ip + 12, ip + 16, 4);
	memcpy(ip + 16, tmp, 4);
	assert_int_equal(xgw_pb_csum_fill(p.data, p.len), 0);
	assert_int_equal(xgw_parse(&p), 0);
	assert_int_equal(xgw_tun_is_ours(f->t, &p), type);
	assert_int_equal(xgw_tun_decap(f->t, &p, type), 0);
	assert_int_equal(p.len, (uint32_t)len);
	assert_ptr_equal(p.data, buf + HEADROOM);
	assert_int_equal(p.headroom, HEADROOM);
	assert_memory_equal(p.data + 12, orig + 12, (size_t)len - 12);
	assert_int_equal(xgw_parse(&p), 0);
	assert_int_equal(xgw_tun_is_ours(f->t, &p), XGW_TUNK_NONE);
}

static void test_vxlan_round_trip(void **state)
{
	round_trip(*state, "198.18.4.10", XGW_TUNK_VXLAN);
}

static void test_geneve_round_trip(void **state)
{
	round_trip(*state, "198.18.4.11", XGW_TUNK_GENEVE);
}

static void test_sport_range(void **state)
{
	for (uint64_t h = 1; h; h <<= 1) {
		uint16_t s = xgw_tun_sport(h * 0x9e3779b97f4a7c15ULL);
		assert_true(s >= 49152);
	}
	assert_int_not_equal(xgw_tun_sport(1), xgw_tun_sport(2));
}

/* Frames as a remote sends them: outer IPv4/UDP from src to LOCAL, the
 * tunnel header bytes hdr[0..hlen) and, when `inner`, an inner frame. */
struct bad_case {
	const char *desc;
	uint8_t type;
	const char *src;
	uint8_t hdr[40];
	uint8_t hlen;
	bool inner;
	int expect;
};

#define VX(b0, vni)                                                                                \
	{                                                                                          \
		b0, 0, 0, 0, 0, 0, vni, 0                                                          \
	}
#define GN(b0, b1, p0, p1, vni)                                                                    \
	{                                                                                          \
		b0, b1, p0, p1, 0, 0, vni, 0                                                       \
	}

static const struct bad_case cases[] = {
    {"vxlan ok", XGW_TUNK_VXLAN, REMOTE, VX(0x08, VNI), 8, true, 0},
    {"vxlan reserved bits ignored",
     XGW_TUNK_VXLAN,
     REMOTE,
     {0xff, 0xff, 0xff, 0xff, 0, 0, VNI, 0xff},
     8,
     true,
     0},
    {"vxlan short header", XGW_TUNK_VXLAN, REMOTE, VX(0x08, VNI), 6, false, XGW_DROP_TUNNEL_TRUNC},
    {"vxlan without inner frame", XGW_TUNK_VXLAN, REMOTE, VX(0x08, VNI), 8, false,
     XGW_DROP_TUNNEL_TRUNC},
    {"vxlan without I flag", XGW_TUNK_VXLAN, REMOTE, VX(0x00, VNI), 8, true, XGW_DROP_TUNNEL_FLAGS},
    {"vxlan unknown vni", XGW_TUNK_VXLAN, REMOTE, VX(0x08, 43), 8, true, XGW_DROP_TUNNEL_UNKNOWN},
    {"vxlan unknown remote", XGW_TUNK_VXLAN, "198.18.3.9", VX(0x08, VNI), 8, true,
     XGW_DROP_TUNNEL_UNKNOWN},
    {"geneve ok", XGW_TUNK_GENEVE, REMOTE, GN(0, 0, 0x65, 0x58, VNI), 8, true, 0},
    {"geneve vni of the vxlan endpoint only", XGW_TUNK_GENEVE, REMOTE, GN(0, 0, 0x65, 0x58, 7), 8,
     true, XGW_DROP_TUNNEL_UNKNOWN},
    {"geneve short", XGW_TUNK_GENEVE, REMOTE, GN(0, 0, 0x65, 0x58, VNI), 7, false,
     XGW_DROP_TUNNEL_TRUNC},
    {"geneve version 1", XGW_TUNK_GENEVE, REMOTE, GN(0x40, 0, 0x65, 0x58, VNI), 8, true,
     XGW_DROP_GENEVE_VERSION},
    {"geneve protocol IPv4", XGW_TUNK_GENEVE, REMOTE, GN(0, 0, 0x08, 0x00, VNI), 8, true,
     XGW_DROP_TUNNEL_PROTO},
    {"geneve OAM", XGW_TUNK_GENEVE, REMOTE, GN(0, 0x80, 0x65, 0x58, VNI), 8, true,
     XGW_DROP_TUNNEL_FLAGS},
    {"geneve non-critical options skipped",
     XGW_TUNK_GENEVE,
     REMOTE,
     {3, 0, 0x65, 0x58, 0, 0, VNI, 0, 0x01, 0x02, 0x11, 1, 1, 2, 3, 4, 0xff, 0xff, 0x7f, 0},
     20,
     true,
     0},
    {"geneve critical option",
     XGW_TUNK_GENEVE,
     REMOTE,
     {3, 0, 0x65, 0x58, 0, 0, VNI, 0, 0x01, 0x02, 0x11, 1, 1, 2, 3, 4, 0x01, 0x02, 0x80, 0},
     20,
     true,
     XGW_DROP_GENEVE_CRITICAL},
    {"geneve C bit",
     XGW_TUNK_GENEVE,
     REMOTE,
     {2, 0x40, 0x65, 0x58, 0, 0, VNI, 0, 0x01, 0x02, 0x80, 1, 1, 2, 3, 4},
     16,
     true,
     XGW_DROP_GENEVE_CRITICAL},
    {"geneve option length past the end of the packet", XGW_TUNK_GENEVE, REMOTE,
     GN(63, 0, 0x65, 0x58, VNI), 8, false, XGW_DROP_GENEVE_OPT_LEN},
    {"geneve option past the option area",
     XGW_TUNK_GENEVE,
     REMOTE,
     {2, 0, 0x65, 0x58, 0, 0, VNI, 0, 0x01, 0x02, 0x11, 2, 1, 2, 3, 4},
     16,
     true,
     XGW_DROP_GENEVE_OPT_LEN},
};

static void test_bad_header(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		uint8_t inner[2048], payload[2048], buf[4096];
		int ilen = inner_frame(inner, "198.18.1.10", 40000, 64);
		size_t plen = c->hlen;
		struct xgw_pb b = {.src = xgw_pb_ip(c->src),
				   .dst = xgw_pb_ip(LOCAL),
				   .proto = IPPROTO_UDP,
				   .sport = 50000,
				   .dport = c->type == XGW_TUNK_VXLAN ? 4789 : 6081,
				   .payload = payload};
		struct xgw_pkt p;
		int len, rc;

		memcpy(payload, c->hdr, c->hlen);
		if (c->inner) {
			memcpy(payload + plen, inner + HEADROOM, (size_t)ilen);
			plen += (size_t)ilen;
		}
		b.payload_len = plen;
		len = xgw_pb_build(&b, buf + HEADROOM, sizeof(buf) - HEADROOM);
		assert_true(len > 0);
		pkt_at(&p, buf, len);
		assert_int_equal(xgw_tun_is_ours(f->t, &p), c->type);
		rc = xgw_tun_decap(f->t, &p, c->type);
		if (rc != c->expect)
			fail_msg("%s: got %s, expected %s", c->desc, xgw_drop_name((unsigned)rc),
				 xgw_drop_name((unsigned)c->expect));
		if (!rc) {
			assert_int_equal(p.len, (uint32_t)ilen);
			assert_memory_equal(p.data, inner + HEADROOM, (size_t)ilen);
		}
	}
}

static void test_not_ours(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[2048];
	struct xgw_pb b = {.src = xgw_pb_ip(REMOTE),
			   .dst = xgw_pb_ip("198.18.3.7"),
			   .proto = IPPROTO_UDP,
			   .sport = 50000,
			   .dport = 4789};
	struct xgw_pkt p;
	int len = xgw_pb_build(&b, buf + HEADROOM, sizeof(buf) - HEADROOM);

	pkt_at(&p, buf, len);
	assert_int_equal(xgw_tun_is_ours(f->t, &p), XGW_TUNK_NONE); /* another address */
	b.dst = xgw_pb_ip(LOCAL);
	b.dport = 4790;
	len = xgw_pb_build(&b, buf + HEADROOM, sizeof(buf) - HEADROOM);
	pkt_at(&p, buf, len);
	assert_int_equal(xgw_tun_is_ours(f->t, &p), XGW_TUNK_NONE); /* another port */
}

static void test_no_tunnels_no_table(void **state)
{
	struct xgw_config c;
	char err[64] = "x";

	memset(&c, 0, sizeof(c));
	assert_null(xgw_tun_table_build(&c, err, sizeof(err)));
	assert_string_equal(err, "");
	assert_false(xgw_cfg_has_tunnels(&c));
	assert_true(xgw_cfg_has_tunnels(&((struct fixture *)*state)->cfg));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vxlan_round_trip), cmocka_unit_test(test_geneve_round_trip),
	    cmocka_unit_test(test_sport_range),	     cmocka_unit_test(test_bad_header),
	    cmocka_unit_test(test_not_ours),	     cmocka_unit_test(test_no_tunnels_no_table),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
