/* SPDX-License-Identifier: BSD-3-Clause */
/* xgw-pktgen: frames and checksums (pg_fill is the code the live-frames
 * BPF program runs), flow ranges, the token bucket on an injected clock,
 * the sequence window and the latency histogram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench/pktgen_hist.h"
#include "bench/pktgen_pkt.h"
#include "bench/pktgen_rate.h"
#include "bench/pktgen_seq.h"
#include "common/csum.h"

/* ---- frames ---- */

struct frame_case {
	const char *desc;
	const char *src, *dst;
	enum pg_proto proto;
	uint32_t size;
	uint32_t hdr_len; /* expected */
	int stamp;        /* expected */
};

static const struct frame_case frame_cases[] = {
	{"v4 udp 64", "198.18.0.1", "198.18.1.1", PG_PROTO_UDP, 64, 42, 1},
	{"v4 tcp-syn 64", "198.18.0.1", "198.18.1.1", PG_PROTO_TCP_SYN, 64, 54, 0},
	{"v4 tcp-ack 128", "198.18.0.1", "198.18.1.1", PG_PROTO_TCP_ACK, 128, 54, 1},
	{"v4 udp 1518", "198.18.0.1", "198.18.1.1", PG_PROTO_UDP, 1518, 42, 1},
	{"v4 udp odd 65", "198.18.0.1", "198.18.1.1", PG_PROTO_UDP, 65, 42, 1},
	{"v6 udp 64", "2001:db8::1", "2001:db8::2", PG_PROTO_UDP, 64, 62, 0},
	{"v6 udp 82", "2001:db8::1", "2001:db8::2", PG_PROTO_UDP, 82, 62, 1},
	{"v6 tcp-syn 94", "2001:db8::1", "2001:db8::2", PG_PROTO_TCP_SYN, 94, 74, 1},
	{"v6 tcp-ack 1518", "2001:db8::1", "2001:db8::2", PG_PROTO_TCP_ACK, 1518, 74, 1},
};

static void params(struct pg_pkt_params *p, const struct frame_case *c, uint32_t flows)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->src_mac, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(p->dst_mac, "\x02\x00\x00\x00\x00\x02", 6);
	assert_int_equal(xgw_addr_parse(&p->src, c->src), 0);
	assert_int_equal(xgw_addr_parse(&p->dst, c->dst), 0);
	p->sport = 1024;
	p->dport = 80;
	p->proto = c->proto;
	p->size = c->size;
	p->flows = flows;
}

/* Independent check of a frame: IPv4 header checksum and L4 checksum over
 * the pseudo-header, summed from scratch with common/csum.h. */
static void check_csums(const uint8_t *f, const struct frame_case *c)
{
	int v4 = f[12] == 0x08;
	const uint8_t *l3 = f + 14, *l4 = f + (v4 ? 34 : 54);
	uint32_t l4_len = c->size - (v4 ? 34 : 54);
	uint8_t proto = c->proto == PG_PROTO_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	uint64_t s;

	if (v4)
		assert_int_equal(xgw_csum(l3, 20), 0);
	s = xgw_csum_partial(v4 ? l3 + 12 : l3 + 8, v4 ? 8 : 32, 0);
	s += (uint64_t)htonl(l4_len) + htonl(proto); /* no 32-bit overflow */
	s = xgw_csum_partial(l4, l4_len, s);
	if (xgw_csum_fold(s) != 0xffff)
		fail_msg("%s: L4 checksum wrong (sum %#x)", c->desc, xgw_csum_fold(s));
	if (proto == IPPROTO_UDP)
		assert_int_not_equal(l4[6] | l4[7], 0);
}

static void test_template_fields(void **state)
{
	for (size_t i = 0; i < sizeof(frame_cases) / sizeof(frame_cases[0]); i++) {
		const struct frame_case *c = &frame_cases[i];
		struct pg_pkt_params p;
		struct pg_fill_cfg cfg;
		uint8_t f[PG_SIZE_MAX], g[PG_SIZE_MAX];
		char err[128];

		params(&p, c, 1);
		assert_int_equal(pg_tpl_build(&p, &cfg, f, err, sizeof(err)), 0);
		assert_int_equal(pg_hdr_len(cfg.layout), c->hdr_len);
		if (cfg.stamp != c->stamp)
			fail_msg("%s: stamp %d, want %d", c->desc, cfg.stamp, c->stamp);
		assert_memory_equal(f, p.dst_mac, 6);
		assert_memory_equal(f + 6, p.src_mac, 6);
		check_csums(f, c);
		if (p.src.family == AF_INET) {
			assert_int_equal(f[14], 0x45);
			assert_int_equal(f[14 + 2] << 8 | f[14 + 3], c->size - 14);
			assert_memory_equal(f + 26, p.src.b, 4);
			assert_memory_equal(f + 30, p.dst.b, 4);
		} else {
			assert_int_equal(f[14] >> 4, 6);
			assert_int_equal(f[14 + 4] << 8 | f[14 + 5], c->size - 54);
			assert_memory_equal(f + 22, p.src.b, 16);
			assert_memory_equal(f + 38, p.dst.b, 16);
		}
		if (c->proto != PG_PROTO_UDP) {
			const uint8_t *t = f + c->hdr_len - 20;
			assert_int_equal(t[13], c->proto == PG_PROTO_TCP_SYN ? 0x02 : 0x10);
			assert_int_equal(t[12] >> 4, 5);
		}
		/* Sequence 0, time 0, flow 0 is the template itself. */
		memcpy(g, f, c->size);
		assert_int_equal(pg_fill(g, g + c->size, &cfg, 0, 0), 0);
		if (memcmp(f, g, c->size))
			fail_msg("%s: pg_fill(0, 0) differs from the template", c->desc);
	}
}

static void test_fill_csums_and_stamp(void **state)
{
	static const uint64_t seqs[] = {0, 1, 2, 65535, 65536, 1000003, 0xffffffffull,
					0x123456789abcdefull};
	static const uint64_t tss[] = {0, 1, 0xffff, 1700000000123456789ull, UINT64_MAX - 7};

	for (size_t i = 0; i < sizeof(frame_cases) / sizeof(frame_cases[0]); i++) {
		const struct frame_case *c = &frame_cases[i];
		struct pg_pkt_params p;
		struct pg_fill_cfg cfg;
		uint8_t tpl[PG_SIZE_MAX], f[PG_SIZE_MAX];
		char err[128];

		params(&p, c, 100000);
		assert_int_equal(pg_tpl_build(&p, &cfg, tpl, err, sizeof(err)), 0);
		for (size_t s = 0; s < sizeof(seqs) / sizeof(seqs[0]); s++) {
			for (size_t t = 0; t < sizeof(tss) / sizeof(tss[0]); t++) {
				struct pg_rx_info ri;
				struct xgw_addr want;
				uint16_t sport;
				int v4 = p.src.family == AF_INET;

				/* Start from a dirty frame: a reused page. */
				memcpy(f, tpl, c->size);
				memset(f, 0xa5, c->hdr_len);
				assert_int_equal(pg_fill(f, f + c->size, &cfg, seqs[s], tss[t]), 0);
				check_csums(f, c);
				pg_flow_tuple(&p, (uint32_t)(seqs[s] % p.flows), &want, &sport);
				assert_memory_equal(f + (v4 ? 26 : 22), want.b, v4 ? 4 : 16);
				assert_int_equal(f[c->hdr_len - (c->proto == PG_PROTO_UDP ? 8 : 20)] << 8 |
							 f[c->hdr_len - (c->proto == PG_PROTO_UDP ? 8 : 20) + 1],
						 sport);
				assert_int_equal(pg_rx_parse(f, c->size, true, &ri), 0);
				assert_false(ri.csum_bad);
				assert_int_equal(ri.stamped, c->stamp);
				if (c->stamp) {
					assert_true(ri.seq == seqs[s]);
					assert_true(ri.ts == tss[t]);
				}
			}
		}
	}
}

static void test_rx_parse_rejects(void **state)
{
	const struct frame_case *c = &frame_cases[0];
	struct pg_pkt_params p;
	struct pg_fill_cfg cfg;
	uint8_t f[PG_SIZE_MAX];
	struct pg_rx_info ri;
	char err[128];

	params(&p, c, 1);
	assert_int_equal(pg_tpl_build(&p, &cfg, f, err, sizeof(err)), 0);
	assert_int_equal(pg_fill(f, f + 64, &cfg, 7, 9), 0);
	f[50] ^= 1; /* payload bit flip */
	assert_int_equal(pg_rx_parse(f, 64, true, &ri), 0);
	assert_true(ri.csum_bad);
	assert_int_equal(pg_rx_parse(f, 30, false, &ri), -1); /* truncated */
	f[12] = 0x08;
	f[13] = 0x06; /* ARP */
	assert_int_equal(pg_rx_parse(f, 64, false, &ri), -1);
	/* Frame shorter than the headers the fill writes. */
	assert_int_equal(pg_fill(f, f + 40, &cfg, 0, 0), -1);
}

static void test_template_errors(void **state)
{
	struct frame_case c = {"v6 tcp 64", "2001:db8::1", "2001:db8::2", PG_PROTO_TCP_SYN, 64, 74,
			       0};
	struct pg_pkt_params p;
	struct pg_fill_cfg cfg;
	uint8_t f[PG_SIZE_MAX];
	char err[128];

	params(&p, &c, 1);
	assert_int_equal(pg_tpl_build(&p, &cfg, f, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "74"));
	p.size = 74;
	assert_int_equal(pg_tpl_build(&p, &cfg, f, err, sizeof(err)), 0); /* headers only */
	assert_int_equal(cfg.stamp, 0);
	p.size = 1519;
	assert_int_equal(pg_tpl_build(&p, &cfg, f, err, sizeof(err)), -EINVAL);
	p.size = 100;
	assert_int_equal(xgw_addr_parse(&p.dst, "198.18.0.1"), 0);
	assert_int_equal(pg_tpl_build(&p, &cfg, f, err, sizeof(err)), -EINVAL);
	assert_int_equal(xgw_addr_parse(&p.dst, "2001:db8::2"), 0);
	p.flows = 0;
	assert_int_equal(pg_tpl_build(&p, &cfg, f, err, sizeof(err)), -EINVAL);
}

/* ---- flow ranges ---- */

static void test_flow_ranges(void **state)
{
	struct pg_pkt_params p;
	struct xgw_addr a;
	uint16_t sport;
	char buf[XGW_ADDR_STRLEN];

	assert_int_equal(pg_ports_per_addr(1024, 1), 1);
	assert_int_equal(pg_ports_per_addr(1024, 1000), 1000);
	assert_int_equal(pg_ports_per_addr(1024, 1000000), 64512);
	assert_int_equal(pg_ports_per_addr(0, 1u << 20), 65536);
	assert_int_equal(pg_ports_per_addr(65535, 10), 1);

	memset(&p, 0, sizeof(p));
	assert_int_equal(xgw_addr_parse(&p.src, "198.18.0.250"), 0);
	p.sport = 1024;
	p.flows = 1000000;
	pg_flow_tuple(&p, 0, &a, &sport);
	assert_string_equal(xgw_addr_str(&a, buf, sizeof(buf)), "198.18.0.250");
	assert_int_equal(sport, 1024);
	pg_flow_tuple(&p, 64511, &a, &sport);
	assert_string_equal(xgw_addr_str(&a, buf, sizeof(buf)), "198.18.0.250");
	assert_int_equal(sport, 65535);
	pg_flow_tuple(&p, 64512, &a, &sport);
	assert_string_equal(xgw_addr_str(&a, buf, sizeof(buf)), "198.18.0.251");
	assert_int_equal(sport, 1024);
	/* 1M flows need 16 addresses: the last carries into the next /24. */
	pg_flow_tuple(&p, 999999, &a, &sport);
	assert_string_equal(xgw_addr_str(&a, buf, sizeof(buf)), "198.18.1.9");
	assert_int_equal(sport, 1024 + 999999 % 64512);

	/* Few flows: ports only, one address. */
	p.flows = 8;
	pg_flow_tuple(&p, 7, &a, &sport);
	assert_string_equal(xgw_addr_str(&a, buf, sizeof(buf)), "198.18.0.250");
	assert_int_equal(sport, 1031);

	/* IPv6: the low 32 bits count. */
	assert_int_equal(xgw_addr_parse(&p.src, "2001:db8::ffff:ffff"), 0);
	p.sport = 65535;
	p.flows = 3;
	pg_flow_tuple(&p, 2, &a, &sport);
	assert_string_equal(xgw_addr_str(&a, buf, sizeof(buf)), "2001:db8::1");
	assert_int_equal(sport, 65535);
}

/* ---- token bucket ---- */

#define MS 1000000ull
#define SEC 1000000000ull

static void test_tb_basic(void **state)
{
	struct pg_tb tb;
	uint64_t t = 5 * SEC;

	pg_tb_init(&tb, 1000, 0, t);
	assert_int_equal(tb.burst, 64); /* rate/1000 < 64 */
	assert_int_equal(pg_tb_take(&tb, 100, t), 64);
	assert_int_equal(pg_tb_take(&tb, 1, t), 0);
	assert_int_equal(pg_tb_wait_ns(&tb, 1, t), MS);
	assert_int_equal(pg_tb_wait_ns(&tb, 10, t), 10 * MS);
	assert_int_equal(pg_tb_take(&tb, 5, t + MS - 1), 0);
	assert_int_equal(pg_tb_take(&tb, 5, t + MS), 1);
	/* Half a token is kept, not lost. */
	assert_int_equal(pg_tb_take(&tb, 5, t + MS + MS / 2), 0);
	assert_int_equal(pg_tb_take(&tb, 5, t + 2 * MS), 1);
	/* Idle: the bucket fills to the burst, no further. */
	assert_int_equal(pg_tb_take(&tb, 1000, t + 10 * SEC), 64);
	pg_tb_refund(&tb, 10);
	assert_int_equal(pg_tb_take(&tb, 1000, t + 10 * SEC), 10);
	/* A clock that steps back grants nothing and breaks nothing. */
	assert_int_equal(pg_tb_take(&tb, 1000, t), 0);

	pg_tb_init(&tb, 10000000, 0, 0);
	assert_int_equal(tb.burst, 100000); /* 10 ms */
	pg_tb_init(&tb, 0, 0, 0);
	assert_int_equal(pg_tb_take(&tb, 12345, 0), 12345); /* unlimited */
	assert_int_equal(pg_tb_wait_ns(&tb, 1, 0), 0);
}

/* A sender polling on an irregular clock gets rate x time within one burst. */
static void test_tb_long_run(void **state)
{
	static const uint64_t rates[] = {1000, 99991, 1000000, 7000000};

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		struct pg_tb tb;
		uint64_t t = 0, got = 0, step = 0;

		pg_tb_init(&tb, rates[i], 0, 0);
		got = pg_tb_take(&tb, UINT64_MAX, 0);
		while (t < 10 * SEC) {
			step = (step * 7 + 13) % 997; /* 0..996 us, uneven */
			t += step * 1000;
			for (uint64_t g; (g = pg_tb_take(&tb, 64, t)) > 0;)
				got += g;
			/* Never wait past what pg_tb_wait_ns says. */
			uint64_t w = pg_tb_wait_ns(&tb, 1, t);
			if (w > 0 && pg_tb_take(&tb, 1, t + w) == 1)
				got++;
			t += w;
		}
		double want = (double)rates[i] * (double)t / 1e9;
		if ((double)got > want + (double)tb.burst || (double)got < want * 0.98)
			fail_msg("rate %llu: %llu tokens in %.3f s, want %.0f",
				 (unsigned long long)rates[i], (unsigned long long)got,
				 (double)t / 1e9, want);
	}
}

/* ---- sequence window ---- */

static void test_seq_in_order_and_loss(void **state)
{
	static struct pg_seq s;

	pg_seq_init(&s);
	for (uint64_t i = 0; i < 1000; i++)
		if (i != 5 && i != 700)
			pg_seq_add(&s, i);
	assert_int_equal(s.received, 998);
	assert_int_equal(pg_seq_lost(&s), 2);
	assert_int_equal(s.reordered, 0);
	assert_int_equal(s.duplicates, 0);
	/* 5 arrives late: reordered, no longer lost. */
	pg_seq_add(&s, 5);
	assert_int_equal(pg_seq_lost(&s), 1);
	assert_int_equal(s.reordered, 1);
	/* And again: a duplicate. */
	pg_seq_add(&s, 5);
	assert_int_equal(s.duplicates, 1);
	assert_int_equal(pg_seq_lost(&s), 1);
	pg_seq_add(&s, 999);
	assert_int_equal(s.duplicates, 2);
}

static void test_seq_window(void **state)
{
	static struct pg_seq s;

	pg_seq_init(&s);
	pg_seq_add(&s, 0);
	pg_seq_add(&s, 3 * PG_SEQ_WINDOW); /* jump: the bitmap is reset */
	assert_int_equal(pg_seq_lost(&s), 3 * PG_SEQ_WINDOW - 1);
	/* Same slot as 0 and 3W, but a new number: not a duplicate. */
	pg_seq_add(&s, 3 * PG_SEQ_WINDOW - 1);
	assert_int_equal(s.duplicates, 0);
	assert_int_equal(s.reordered, 1);
	/* Older than the window: late, counted as reordered. */
	pg_seq_add(&s, 1);
	assert_int_equal(s.late, 1);
	assert_int_equal(s.reordered, 2);
	/* A short jump clears exactly the slots skipped over. */
	pg_seq_init(&s);
	for (uint64_t i = 0; i < PG_SEQ_WINDOW; i++)
		pg_seq_add(&s, i);
	pg_seq_add(&s, PG_SEQ_WINDOW + 10);
	pg_seq_add(&s, PG_SEQ_WINDOW + 3); /* slot of 3, now free */
	assert_int_equal(s.duplicates, 0);
	pg_seq_add(&s, PG_SEQ_WINDOW + 3);
	assert_int_equal(s.duplicates, 1);
	pg_seq_add(&s, 20); /* still inside the window and seen */
	assert_int_equal(s.duplicates, 2);
	assert_int_equal(pg_seq_lost(&s), 9); /* W..W+10 but W+3, W+10 */
}

/* ---- latency histogram ---- */

static void test_hist(void **state)
{
	static struct pg_hist h;
	uint64_t prev = 0;

	for (uint64_t v = 1; v < (1ull << 40); v = v * 3 / 2 + 1) {
		uint32_t i = pg_hist_index(v);
		uint64_t lo = pg_hist_lower(i), hi = pg_hist_lower(i + 1);

		if (!(lo <= v && v < hi))
			fail_msg("v %llu in bucket %u [%llu, %llu)", (unsigned long long)v, i,
				 (unsigned long long)lo, (unsigned long long)hi);
		assert_true((double)(hi - lo) <= (double)lo / 64.0 + 1);
		assert_true(i >= prev);
		prev = i;
	}
	pg_hist_init(&h);
	assert_int_equal(pg_hist_quantile(&h, 0.5), 0);
	for (uint64_t v = 1; v <= 100000; v++)
		pg_hist_add(&h, v * 10);
	assert_int_equal(h.min, 10);
	assert_int_equal(h.max, 1000000);
	uint64_t p50 = pg_hist_quantile(&h, 0.5), p99 = pg_hist_quantile(&h, 0.99),
		 p999 = pg_hist_quantile(&h, 0.999);
	assert_true(p50 > 500000 * 0.98 && p50 < 500000 * 1.02);
	assert_true(p99 > 990000 * 0.98 && p99 < 990000 * 1.02);
	assert_true(h.min <= p50 && p50 <= p99 && p99 <= p999 && p999 <= h.max);
	/* One sample: every quantile is it. */
	pg_hist_init(&h);
	pg_hist_add(&h, 123457);
	assert_int_equal(pg_hist_quantile(&h, 0.5), 123457);
	assert_int_equal(pg_hist_quantile(&h, 0.999), 123457);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_fields),
		cmocka_unit_test(test_fill_csums_and_stamp),
		cmocka_unit_test(test_rx_parse_rejects),
		cmocka_unit_test(test_template_errors),
		cmocka_unit_test(test_flow_ranges),
		cmocka_unit_test(test_tb_basic),
		cmocka_unit_test(test_tb_long_run),
		cmocka_unit_test(test_seq_in_order_and_loss),
		cmocka_unit_test(test_seq_window),
		cmocka_unit_test(test_hist),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
