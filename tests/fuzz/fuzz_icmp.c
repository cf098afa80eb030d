/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target for the translation of ICMP errors about tracked flows
 * (xgw_nat_icmp_error): the inner (quoted) header put back as its sender
 * used it, outer addresses and every checksum updated.  The table holds
 * eight connections, TCP and UDP, IPv4 and IPv6, with and without SNAT
 * (client :40000 -> VIP :80 -> backend :8080, SNAT port 2000), so that the
 * seed corpus (corpus/icmp, gen_icmp_corpus.py) starts from errors quoting
 * each of them from both sides.
 *
 * Beyond "no crash": the verdict is one of the three documented, a frame
 * is never longer or shorter after translation, a translated frame parses
 * again, and an ICMP checksum that was right before is right after. */
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "common/csum.h"
#include "common/drop.h"
#include "common/log.h"
#include "common/parse_fast.h"
#include "common/pkt.h"
#include "lb/conntrack.h"
#include "lb/nat.h"

#define HEADROOM 256
#define FRAME	 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct xgw_ct_table *ct;

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static struct xgw_addr ip(const char *s)
{
	struct xgw_addr a;

	check(xgw_addr_parse(&a, s) == 0);
	return a;
}

static void setup(void)
{
	static const struct xgw_ct_cfg cfg = {
	    .max_entries = 64,
	    .tcp_timeout_s = 21600,
	    .tcp_syn_timeout_s = 60,
	    .tcp_close_timeout_s = 10,
	    .udp_timeout_s = 60,
	    .other_timeout_s = 60,
	};
	static const char *const fam[2][4] = {
	    {"198.18.0.1", "198.18.100.1", "198.18.2.10", "198.18.2.1"},
	    {"2001:db8::1:1", "2001:db8::64:1", "2001:db8::2:10", "2001:db8::2:1"},
	};

	xgw_log_level = XGW_LOG_ERR;
	rcu_register_thread();
	ct = xgw_ct_new(&cfg);
	check(ct != NULL);
	for (int v6 = 0; v6 < 2; v6++)
		for (int snat = 0; snat < 2; snat++)
			for (int udp = 0; udp < 2; udp++) {
				struct xgw_addr cl = ip(fam[v6][0]), vip = ip(fam[v6][1]),
						be = ip(fam[v6][2]), gw = ip(fam[v6][3]);
				struct xgw_ct_tuple o;
				struct xgw_ct_init in = {.tcp_flags = 0x10};
				struct xgw_ct_conn *c;

				xgw_ct_tuple_init(&o, &cl, htons(40000), &vip, htons(80),
						  udp ? IPPROTO_UDP : IPPROTO_TCP);
				check(xgw_nat_ct_create(ct, &o, &be, htons(8080), snat ? &gw : NULL,
							2000, 2000, &in, 0, &c, NULL) == 0);
			}
}

/* The ICMP (v4: over the message) or ICMPv6 (with the pseudo-header)
 * checksum of a parsed packet is right. */
static bool icmp_csum_ok(const struct xgw_pkt *p)
{
	const uint8_t *l3 = p->data + p->l3_off, *l4 = p->data + p->l4_off;
	uint32_t len = (uint32_t)p->l3_off + p->l3_len - p->l4_off;
	uint64_t sum;

	if (p->flags & XGW_PKT_IPV4)
		return xgw_csum(l4, len) == 0;
	sum = xgw_csum_partial(l3 + 8, 32, 0);
	sum += (uint64_t)htonl(len) + htonl(IPPROTO_ICMPV6); /* no 32-bit overflow */
	sum = xgw_csum_partial(l4, len, sum);
	return xgw_csum_fold(sum) == 0xffff;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *buf;
	struct xgw_ct_conn *c = NULL;
	enum xgw_ct_dir dir;
	struct xgw_pkt p;
	bool csum_ok;
	int rc;

	if (!ct)
		setup();
	if (!buf)
		buf = malloc(FRAME);
	if (size > FRAME - HEADROOM)
		return -1;
	memcpy(buf + HEADROOM, data, size);
	memset(&p, 0, sizeof(p));
	p.data = buf + HEADROOM;
	p.addr = HEADROOM;
	p.len = (uint32_t)size;
	p.headroom = HEADROOM;
	if (xgw_parse_verify(&p) || !xgw_nat_is_icmp_error(&p))
		return 0;
	csum_ok = icmp_csum_ok(&p);
	rc = xgw_nat_icmp_error(&p, ct, 1, &c, &dir);
	check(rc == 0 || rc == XGW_DROP_CT_INVALID || rc == XGW_DROP_ICMP_TRUNC);
	check(p.len == size);
	if (rc)
		return 0;
	check(c != NULL);
	/* The translated frame is a valid packet again (IPv4 header
	 * checksum included), still an ICMP error, checksum still right. */
	struct xgw_pkt q = {.data = p.data, .len = p.len, .addr = p.addr, .headroom = p.headroom};
	check(xgw_parse_verify(&q) == 0);
	check(xgw_nat_is_icmp_error(&q));
	if (csum_ok)
		check(icmp_csum_ok(&q));
	return 0;
}
