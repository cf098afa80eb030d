/* SPDX-License-Identifier: BSD-3-Clause */
/* Health checks through tunnels: the relay's frame work without I/O
 * (health/tun_path.h).  The device and the sockets are exercised against a
 * kernel VXLAN peer by tests/netns/tunnel.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <string.h>

#include "health/tun_path.h"

static const uint8_t SMAC[6] = {0x02, 0, 0, 0, 0, 1}, BMAC[6] = {0x02, 0, 0, 0, 0, 2};

static uint32_t a4(const char *s)
{
	uint32_t a;

	inet_pton(AF_INET, s, &a);
	return a;
}

/* An IPv4 packet src:sport -> dst:dport of proto with n bytes of payload;
 * its length. */
static size_t ip4(uint8_t *p, uint8_t proto, const char *src, uint16_t sport, const char *dst,
		  uint16_t dport, size_t n)
{
	uint32_t s = a4(src), d = a4(dst);
	size_t l4 = proto == IPPROTO_TCP ? 20 : 8, len = 20 + l4 + n;

	memset(p, 0, len);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &d, 4);
	p[20] = (uint8_t)(sport >> 8);
	p[21] = (uint8_t)sport;
	p[22] = (uint8_t)(dport >> 8);
	p[23] = (uint8_t)dport;
	return len;
}

static struct xgw_hct_ep vxlan_ep(void)
{
	struct xgw_hct_ep ep = {.remote = a4("198.18.3.2"), .vni = 42, .type = XGW_TUN_VXLAN};

	memcpy(ep.mac, BMAC, 6);
	ep.has_mac = true;
	return ep;
}

static void encap_vxlan_and_geneve(void **st)
{
	uint8_t ip[128], out[256];
	struct xgw_hct_ep ep = vxlan_ep();
	size_t n = ip4(ip, IPPROTO_TCP, "198.18.3.1", 65100, "198.18.4.10", 8080, 0), len;

	len = xgw_hct_encap(out, sizeof(out), &ep, SMAC, ip, n);
	assert_int_equal(len, 8 + 14 + n);
	assert_int_equal(out[0], 0x08); /* I flag */
	assert_int_equal(out[4] << 16 | out[5] << 8 | out[6], 42);
	assert_memory_equal(out + 8, BMAC, 6); /* the endpoint's inner MAC */
	assert_memory_equal(out + 14, SMAC, 6);
	assert_int_equal(out[20] << 8 | out[21], 0x0800);
	assert_memory_equal(out + 22, ip, n);

	/* Geneve, no endpoint MAC: version 0, no options, Ethernet inside,
	 * the gateway's MAC as the inner destination too. */
	ep.type = XGW_TUN_GENEVE;
	ep.vni = 0xabcdef;
	ep.has_mac = false;
	len = xgw_hct_encap(out, sizeof(out), &ep, SMAC, ip, n);
	assert_int_equal(len, 8 + 14 + n);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 0);
	assert_int_equal(out[2] << 8 | out[3], 0x6558);
	assert_int_equal(out[4] << 16 | out[5] << 8 | out[6], 0xabcdef);
	assert_memory_equal(out + 8, SMAC, 6);
	/* Does not fit: 0, nothing written past cap. */
	assert_int_equal(xgw_hct_encap(out, 8 + 14 + n - 1, &ep, SMAC, ip, n), 0);
}

static void source_port(void **st)
{
	uint8_t ip[128];
	size_t n = ip4(ip, IPPROTO_TCP, "198.18.3.1", 65100, "198.18.4.10", 8080, 0);

	assert_int_equal(xgw_hct_sport(ip, n), 65100);
	n = ip4(ip, IPPROTO_UDP, "198.18.3.1", 65535, "198.18.4.10", 53, 4);
	assert_int_equal(xgw_hct_sport(ip, n), 65535);
	n = ip4(ip, IPPROTO_TCP, "198.18.3.1", 40000, "198.18.4.10", 8080, 0);
	assert_int_equal(xgw_hct_sport(ip, n), 0); /* not a check's port */
	n = ip4(ip, IPPROTO_ICMP, "198.18.3.1", 65100, "198.18.4.10", 0, 0);
	assert_int_equal(xgw_hct_sport(ip, n), 0);
	n = ip4(ip, IPPROTO_TCP, "198.18.3.1", 65100, "198.18.4.10", 8080, 0);
	assert_int_equal(xgw_hct_sport(ip, 21), 0); /* truncated */
	ip[7] = 1;				    /* a later fragment */
	assert_int_equal(xgw_hct_sport(ip, n), 0);
	ip[0] = 0x65; /* not IPv4 */
	assert_int_equal(xgw_hct_sport(ip, n), 0);
}

struct fixture {
	struct xgw_hct h;
	struct xgw_hct_ep ep;
	uint8_t pl[512];
};

/* A backend's answer to the probe on port 65100, as the remote sends it:
 * the UDP payload (VXLAN header, inner Ethernet, IPv4/TCP) and padding. */
static size_t answer(struct fixture *f, const char *dst, uint16_t dport)
{
	struct xgw_hct_ep ep = f->ep;
	uint8_t ip[128];
	size_t n = ip4(ip, IPPROTO_TCP, "198.18.4.10", 8081, dst, dport, 0), len;

	ep.has_mac = true;
	len = xgw_hct_encap(f->pl, sizeof(f->pl), &ep, BMAC, ip, n);
	memset(f->pl + len, 0xee, 6); /* Ethernet padding after the packet */
	return len + 6;
}

static void setup(struct fixture *f)
{
	xgw_hct_init(&f->h);
	f->h.local = a4("198.18.3.1");
	f->ep = vxlan_ep();
	xgw_hct_use(&f->h, 65100, &f->ep, a4("198.18.4.10"), 8081);
}

static void decap_answers_only(void **st)
{
	struct fixture f;
	size_t off = 0, len = 0, n;

	setup(&f);
	n = answer(&f, "198.18.3.1", 65100);
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_VXLAN, f.ep.remote, f.pl, n, &off, &len),
			 XGW_HCT_RECEIVED);
	assert_int_equal(off, 8 + 14);
	assert_int_equal(len, 40); /* the IP packet, padding left out */
	assert_int_equal(f.pl[off + 9], IPPROTO_TCP);

	/* From another remote, VNI or tunnel type than the probe's */
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_VXLAN, a4("198.18.3.9"), f.pl, n, &off, &len),
			 XGW_HCT_NO_PROBE);
	f.pl[6] = 43;
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_VXLAN, f.ep.remote, f.pl, n, &off, &len),
			 XGW_HCT_NO_PROBE);
	f.pl[6] = 42;
	/* to a port no probe used, to another address, to a service port */
	n = answer(&f, "198.18.3.1", 65101);
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_VXLAN, f.ep.remote, f.pl, n, &off, &len),
			 XGW_HCT_NO_PROBE);
	n = answer(&f, "198.18.1.2", 65100);
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_VXLAN, f.ep.remote, f.pl, n, &off, &len),
			 XGW_HCT_NO_PROBE);
	n = answer(&f, "198.18.3.1", 40000);
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_VXLAN, f.ep.remote, f.pl, n, &off, &len),
			 XGW_HCT_NO_PROBE);
	/* From another host behind the same endpoint, or another port of the
	 * backend: not the probed backend's answer. */
	n = answer(&f, "198.18.3.1", 65100);
	f.pl[8 + 14 + 15] = 11; /* source 198.18.4.11 */
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_VXLAN, f.ep.remote, f.pl, n, &off, &len),
			 XGW_HCT_NO_PROBE);
	f.pl[8 + 14 + 15] = 10;
	f.pl[8 + 14 + 21] = 0x92; /* source port 8082 */
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_VXLAN, f.ep.remote, f.pl, n, &off, &len),
			 XGW_HCT_NO_PROBE);
	f.pl[8 + 14 + 21] = 0x91;
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_VXLAN, f.ep.remote, f.pl, n, &off, &len),
			 XGW_HCT_RECEIVED);
	/* Once the probe is over, nothing more is taken in on its port. */
	xgw_hct_done(&f.h, 65100);
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_VXLAN, f.ep.remote, f.pl, n, &off, &len),
			 XGW_HCT_NO_PROBE);
}

static void decap_refuses_bad_frames(void **st)
{
	struct fixture f;
	size_t off, len, n;

	setup(&f);
	n = answer(&f, "198.18.3.1", 65100);
	f.pl[0] = 0; /* VXLAN without the I flag */
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_VXLAN, f.ep.remote, f.pl, n, &off, &len),
			 XGW_HCT_BAD_HEADER);
	f.pl[0] = 0x08;
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_VXLAN, f.ep.remote, f.pl, 20, &off, &len),
			 XGW_HCT_BAD_HEADER); /* shorter than the inner Ethernet header */
	f.pl[8 + 12] = 0x86;		      /* IPv6 inside */
	f.pl[8 + 13] = 0xdd;
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_VXLAN, f.ep.remote, f.pl, n, &off, &len),
			 XGW_HCT_NOT_IPV4);
	f.pl[8 + 12] = 0x08;
	f.pl[8 + 13] = 0x00;
	f.pl[22 + 3] = 200; /* IP total length past the frame */
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_VXLAN, f.ep.remote, f.pl, n, &off, &len),
			 XGW_HCT_NOT_IPV4);
}

/* Geneve with an option the relay does not know: skipped unless critical,
 * as the workers do. */
static void decap_geneve_options(void **st)
{
	struct fixture f;
	uint8_t ip[128];
	size_t off, len, n;

	setup(&f);
	f.ep.type = XGW_TUN_GENEVE;
	xgw_hct_use(&f.h, 65100, &f.ep, a4("198.18.4.10"), 8081);
	n = ip4(ip, IPPROTO_TCP, "198.18.4.10", 8081, "198.18.3.1", 65100, 0);
	memset(f.pl, 0, sizeof(f.pl));
	f.pl[0] = 2; /* 8 bytes of options */
	f.pl[2] = 0x65;
	f.pl[3] = 0x58;
	f.pl[6] = 42;
	f.pl[8 + 2] = 0x01; /* class 0, type 1, 4 bytes of data */
	f.pl[8 + 3] = 1;
	memcpy(f.pl + 16, BMAC, 6);
	f.pl[16 + 12] = 0x08;
	memcpy(f.pl + 30, ip, n);
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_GENEVE, f.ep.remote, f.pl, 30 + n, &off, &len),
			 XGW_HCT_RECEIVED);
	assert_int_equal(off, 30);
	assert_int_equal(len, n);
	f.pl[8 + 2] = 0x81; /* critical */
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_GENEVE, f.ep.remote, f.pl, 30 + n, &off, &len),
			 XGW_HCT_BAD_HEADER);
}

/* An ICMP error about the probe's packet (a UDP check to a closed port)
 * is the check's too: found by the quoted source port. */
static void decap_icmp_error(void **st)
{
	struct fixture f;
	uint8_t ip[256], q[64];
	size_t off, len, nq, n;
	struct xgw_hct_ep ep;

	setup(&f);
	xgw_hct_use(&f.h, 65100, &f.ep, a4("198.18.4.10"), 53); /* a UDP check of port 53 */
	nq = ip4(q, IPPROTO_UDP, "198.18.3.1", 65100, "198.18.4.10", 53, 4);
	n = ip4(ip, IPPROTO_ICMP, "198.18.4.10", 0, "198.18.3.1", 0, 0);
	memset(ip + 20, 0, 8);
	ip[20] = 3; /* port unreachable */
	ip[21] = 3;
	memcpy(ip + 28, q, nq);
	n = 28 + nq;
	ip[2] = (uint8_t)(n >> 8);
	ip[3] = (uint8_t)n;
	ep = f.ep;
	n = xgw_hct_encap(f.pl, sizeof(f.pl), &ep, BMAC, ip, n);
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_VXLAN, f.ep.remote, f.pl, n, &off, &len),
			 XGW_HCT_RECEIVED);
	f.pl[8 + 14 + 28 + 17] = 9; /* about a datagram to another host */
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_VXLAN, f.ep.remote, f.pl, n, &off, &len),
			 XGW_HCT_NO_PROBE);
	f.pl[8 + 14 + 28 + 17] = 10;
	f.pl[8 + 14 + 20] = 8; /* an echo request is no one's answer */
	assert_int_equal(xgw_hct_decap(&f.h, XGW_TUN_VXLAN, f.ep.remote, f.pl, n, &off, &len),
			 XGW_HCT_NO_PROBE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(encap_vxlan_and_geneve), cmocka_unit_test(source_port),
	    cmocka_unit_test(decap_answers_only),     cmocka_unit_test(decap_refuses_bad_frames),
	    cmocka_unit_test(decap_geneve_options),   cmocka_unit_test(decap_icmp_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
