/* SPDX-License-Identifier: BSD-3-Clause */
/* Conntrack: TCP state machine (table-driven), per-state timeouts with an
 * injected clock, both-direction lookup, capacity policy, concurrent
 * creation of the same flows, incremental GC, flush, the iterator, and the
 * bulk lookup's hints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "lb/conntrack.h"
#include "lb/conntrack_fast.h"
#include "lb/nat.h"

#define S   1000000000ull
#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define ACK 0x10

static const struct xgw_ct_cfg defcfg = {
    .max_entries = 4096,
    .tcp_timeout_s = 21600,
    .tcp_syn_timeout_s = 60,
    .tcp_close_timeout_s = 10,
    .udp_timeout_s = 60,
    .other_timeout_s = 60,
};

/* Flow i: client 198.18.0.x:(10000+i) -> VIP 198.18.100.1:80, backend
 * 198.18.2.10:8080 (or the IPv6 equivalents). */
static void flow(unsigned i, bool v6, uint8_t proto, struct xgw_ct_tuple *o, struct xgw_ct_tuple *r)
{
	struct xgw_addr c, v, b;

	if (v6) {
		uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
		a[12] = (uint8_t)(i >> 24);
		a[13] = (uint8_t)(i >> 16);
		a[14] = (uint8_t)(i >> 8);
		a[15] = 1;
		xgw_addr_v6(&c, a);
		a[15] = 0xff;
		a[12] = a[13] = a[14] = 0xee;
		xgw_addr_v6(&v, a);
		a[15] = 0x10;
		xgw_addr_v6(&b, a);
	} else {
		xgw_addr_v4(&c, htonl(0xc6120000u | ((i >> 16) & 0xff) << 8 | 1));
		xgw_addr_v4(&v, htonl(0xc6126401u));
		xgw_addr_v4(&b, htonl(0xc612020au));
	}
	xgw_ct_tuple_init(o, &c, htons((uint16_t)(10000 + (i & 0xffff))), &v, htons(80), proto);
	xgw_ct_tuple_init(r, &b, htons(8080), &c, htons((uint16_t)(10000 + (i & 0xffff))), proto);
}

static struct xgw_ct_conn *mk(struct xgw_ct_table *t, unsigned i, bool v6, uint8_t proto,
			      uint8_t tf, uint64_t now)
{
	struct xgw_ct_tuple o, r;
	struct xgw_ct_init in = {.backend_id = 7, .tcp_flags = tf};
	struct xgw_ct_conn *c = NULL;

	flow(i, v6, proto, &o, &r);
	assert_int_equal(xgw_ct_create(t, &o, &r, &in, now, &c), 0);
	assert_non_null(c);
	return c;
}

/* --- state machine, as data ---------------------------------------------- */

struct tcp_case {
	enum xgw_ct_state from;
	uint8_t fin_flags; /* XGW_CT_F_FIN_* before */
	enum xgw_ct_dir dir;
	uint8_t tf;
	enum xgw_ct_state to;
};

#define O XGW_CT_ORIG
#define R XGW_CT_REPLY
static const struct tcp_case tcp_cases[] = {
    {XGW_CT_SYN_SENT, 0, O, SYN, XGW_CT_SYN_SENT}, /* SYN retransmit */
    {XGW_CT_SYN_SENT, 0, R, SYN | ACK, XGW_CT_SYN_RECV},
    {XGW_CT_SYN_SENT, 0, R, SYN, XGW_CT_SYN_RECV},    /* simultaneous open */
    {XGW_CT_SYN_SENT, 0, R, ACK, XGW_CT_SYN_SENT},    /* stray ACK */
    {XGW_CT_SYN_SENT, 0, R, RST | ACK, XGW_CT_CLOSE}, /* refused */
    {XGW_CT_SYN_RECV, 0, O, ACK, XGW_CT_ESTABLISHED},
    {XGW_CT_SYN_RECV, 0, R, SYN | ACK, XGW_CT_SYN_RECV}, /* retransmit */
    {XGW_CT_SYN_RECV, 0, O, RST, XGW_CT_CLOSE},
    {XGW_CT_ESTABLISHED, 0, O, ACK, XGW_CT_ESTABLISHED},
    {XGW_CT_ESTABLISHED, 0, R, ACK, XGW_CT_ESTABLISHED},
    {XGW_CT_ESTABLISHED, 0, O, FIN | ACK, XGW_CT_FIN_WAIT},
    {XGW_CT_ESTABLISHED, 0, R, FIN | ACK, XGW_CT_FIN_WAIT},
    {XGW_CT_ESTABLISHED, 0, R, RST, XGW_CT_CLOSE},
    {XGW_CT_FIN_WAIT, XGW_CT_F_FIN_ORIG, O, FIN | ACK, XGW_CT_FIN_WAIT}, /* FIN again */
    {XGW_CT_FIN_WAIT, XGW_CT_F_FIN_ORIG, R, ACK, XGW_CT_CLOSE_WAIT},
    {XGW_CT_FIN_WAIT, XGW_CT_F_FIN_ORIG, R, FIN | ACK, XGW_CT_TIME_WAIT},
    {XGW_CT_FIN_WAIT, XGW_CT_F_FIN_REPLY, O, FIN | ACK, XGW_CT_TIME_WAIT},
    {XGW_CT_FIN_WAIT, XGW_CT_F_FIN_REPLY, O, ACK, XGW_CT_CLOSE_WAIT},
    {XGW_CT_CLOSE_WAIT, XGW_CT_F_FIN_ORIG, R, ACK, XGW_CT_CLOSE_WAIT}, /* half-closed data */
    {XGW_CT_CLOSE_WAIT, XGW_CT_F_FIN_ORIG, O, FIN | ACK, XGW_CT_CLOSE_WAIT},
    {XGW_CT_CLOSE_WAIT, XGW_CT_F_FIN_ORIG, R, FIN | ACK, XGW_CT_TIME_WAIT},
    {XGW_CT_CLOSE_WAIT, XGW_CT_F_FIN_ORIG, R, RST, XGW_CT_CLOSE},
    {XGW_CT_TIME_WAIT, 3 << 1, O, ACK, XGW_CT_TIME_WAIT},
    {XGW_CT_TIME_WAIT, 3 << 1, O, SYN, XGW_CT_SYN_SENT}, /* port reuse */
    {XGW_CT_TIME_WAIT, 3 << 1, R, SYN, XGW_CT_TIME_WAIT},
    {XGW_CT_CLOSE, 0, O, ACK, XGW_CT_CLOSE},
    {XGW_CT_CLOSE, 0, O, SYN, XGW_CT_SYN_SENT},
    {XGW_CT_NONE, 0, O, SYN, XGW_CT_SYN_SENT},
    {XGW_CT_NONE, 0, O, ACK, XGW_CT_ESTABLISHED}, /* mid-stream pickup */
};

static void test_tcp_table(void **state)
{
	for (size_t i = 0; i < sizeof(tcp_cases) / sizeof(tcp_cases[0]); i++) {
		const struct tcp_case *tc = &tcp_cases[i];
		uint8_t f = tc->fin_flags;
		enum xgw_ct_state got = xgw_ct_tcp_next(tc->from, &f, tc->dir, tc->tf);
		if (got != tc->to)
			fail_msg("case %zu: %s --%s 0x%02x--> %s, expected %s", i,
				 xgw_ct_state_name(tc->from), tc->dir ? "reply" : "orig", tc->tf,
				 xgw_ct_state_name(got), xgw_ct_state_name(tc->to));
	}
}

/* A whole connection through the table: handshake, data, close. */
static void test_tcp_lifecycle(void **state)
{
	struct xgw_ct_table *t = xgw_ct_new(&defcfg);
	uint64_t now = 1000 * S;
	struct xgw_ct_conn *c = mk(t, 1, false, IPPROTO_TCP, SYN, now);
	assert_int_equal(c->state, XGW_CT_SYN_SENT);
	struct {
		enum xgw_ct_dir dir;
		uint8_t tf;
		enum xgw_ct_state to;
	} steps[] = {
	    {O, SYN, XGW_CT_SYN_SENT},	      {R, SYN | ACK, XGW_CT_SYN_RECV},
	    {O, ACK, XGW_CT_ESTABLISHED},     {O, ACK, XGW_CT_ESTABLISHED},
	    {R, ACK, XGW_CT_ESTABLISHED},     {O, FIN | ACK, XGW_CT_FIN_WAIT},
	    {R, ACK, XGW_CT_CLOSE_WAIT},      {R, ACK, XGW_CT_CLOSE_WAIT},
	    {R, FIN | ACK, XGW_CT_TIME_WAIT}, {O, ACK, XGW_CT_TIME_WAIT},
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		now += S;
		enum xgw_ct_state s = xgw_ct_update(t, c, steps[i].dir, steps[i].tf, 100, now);
		if (s != steps[i].to)
			fail_msg("step %zu: got %s expected %s", i, xgw_ct_state_name(s),
				 xgw_ct_state_name(steps[i].to));
	}
	assert_int_equal(c->pkts[O], 5);
	assert_int_equal(c->pkts[R], 5);
	assert_int_equal(c->bytes[O], 500);
	/* TIME_WAIT lives 10 s from its last packet */
	struct xgw_ct_tuple o, r;
	enum xgw_ct_dir d;
	flow(1, false, IPPROTO_TCP, &o, &r);
	assert_ptr_equal(xgw_ct_lookup(t, &o, now + 10 * S, &d), c);
	assert_null(xgw_ct_lookup(t, &o, now + 10 * S + 1, &d));
	assert_null(xgw_ct_lookup(t, &r, now, &d)); /* unlinked on expiry */
	xgw_ct_free(t);
}

/* Each state's lifetime: alive at exactly the timeout, gone 1 ns later. */
static void test_timeouts(void **state)
{
	struct xgw_ct_table *t = xgw_ct_new(&defcfg);
	static const struct {
		uint8_t proto;
		uint8_t first_tf;
		enum xgw_ct_state st;
		uint64_t to;
	} cases[] = {
	    {IPPROTO_TCP, SYN, XGW_CT_SYN_SENT, 60 * S},
	    {IPPROTO_TCP, SYN, XGW_CT_SYN_RECV, 60 * S},
	    {IPPROTO_TCP, ACK, XGW_CT_ESTABLISHED, 21600 * S},
	    {IPPROTO_TCP, ACK, XGW_CT_FIN_WAIT, 10 * S},
	    {IPPROTO_TCP, ACK, XGW_CT_CLOSE_WAIT, 10 * S},
	    {IPPROTO_TCP, ACK, XGW_CT_TIME_WAIT, 10 * S},
	    {IPPROTO_TCP, RST, XGW_CT_CLOSE, 10 * S},
	    {IPPROTO_UDP, 0, XGW_CT_NONE, 60 * S},
	    {IPPROTO_SCTP, 0, XGW_CT_NONE, 60 * S},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t now = (1 + i) * 100000 * S;
		struct xgw_ct_conn *c =
		    mk(t, 100 + i, i & 1, cases[i].proto, cases[i].first_tf, now);
		atomic_store(&c->state, cases[i].st);
		assert_int_equal(xgw_ct_timeout(t, cases[i].proto, cases[i].st), cases[i].to);
		struct xgw_ct_tuple o, r;
		enum xgw_ct_dir d;
		flow(100 + i, i & 1, cases[i].proto, &o, &r);
		assert_ptr_equal(xgw_ct_lookup(t, &r, now + cases[i].to, &d), c);
		assert_int_equal(d, R);
		assert_false(xgw_ct_expired(t, c, now + cases[i].to));
		assert_true(xgw_ct_expired(t, c, now + cases[i].to + 1));
		assert_null(xgw_ct_lookup(t, &o, now + cases[i].to + 1, &d));
		/* a packet refreshes: a UDP flow with traffic never expires */
		rcu_quiescent_state();
	}
	/* refresh */
	struct xgw_ct_conn *c = mk(t, 999, false, IPPROTO_UDP, 0, 0);
	for (uint64_t now = 0; now < 600 * S; now += 30 * S)
		xgw_ct_update(t, c, O, 0, 64, now);
	assert_false(xgw_ct_expired(t, c, 600 * S));
	assert_true(xgw_ct_expired(t, c, 631 * S));
	xgw_ct_free(t);
}

static void test_both_directions(void **state)
{
	struct xgw_ct_table *t = xgw_ct_new(&defcfg);

	for (int v6 = 0; v6 < 2; v6++) {
		for (unsigned i = 0; i < 1000; i++) {
			struct xgw_ct_conn *c = mk(t, i, v6, IPPROTO_TCP, SYN, 0);
			assert_int_equal(c->backend_id, 7);
		}
		for (unsigned i = 0; i < 1000; i++) {
			struct xgw_ct_tuple o, r, x;
			enum xgw_ct_dir d1, d2;
			flow(i, v6, IPPROTO_TCP, &o, &r);
			struct xgw_ct_conn *a = xgw_ct_lookup(t, &o, S, &d1);
			struct xgw_ct_conn *b = xgw_ct_lookup(t, &r, S, &d2);
			assert_non_null(a);
			assert_ptr_equal(a, b);
			assert_int_equal(d1, O);
			assert_int_equal(d2, R);
			/* the reverse of either tuple is not a key */
			xgw_ct_tuple_reverse(&x, &o);
			assert_null(xgw_ct_lookup(t, &x, S, &d1));
			/* nor is the same tuple with another protocol */
			flow(i, v6, IPPROTO_UDP, &o, &r);
			assert_null(xgw_ct_lookup(t, &o, S, &d1));
		}
	}
	/* creating an existing flow returns it */
	struct xgw_ct_tuple o, r;
	struct xgw_ct_init in = {.backend_id = 9};
	struct xgw_ct_conn *c, *e;
	enum xgw_ct_dir d;
	flow(5, false, IPPROTO_TCP, &o, &r);
	e = xgw_ct_lookup(t, &o, S, &d);
	assert_int_equal(xgw_ct_create(t, &o, &r, &in, S, &c), 1);
	assert_ptr_equal(c, e);
	/* another service onto the same backend tuple: reply collision */
	struct xgw_ct_tuple o2 = o;
	o2.dport = htons(81);
	assert_int_equal(xgw_ct_create(t, &o2, &r, &in, S, &c), -EEXIST);
	assert_null(xgw_ct_lookup(t, &o2, S, &d));
	struct xgw_ct_stats st;
	xgw_ct_get_stats(t, &st);
	assert_int_equal(st.live, 2000);
	assert_int_equal(st.created, 2000);
	xgw_ct_free(t);
}

/* Two VIPs onto one backend, and a client that reuses its port for the
 * second (it may: the destination differs): both connections want the same
 * backend tuple.  A live holder refuses the new flow; one that has closed
 * (TIME_WAIT after both FINs, CLOSE after a RST) gives it to a new SYN, and
 * only to a SYN: its keys go, the new connection takes the tuple. */
static void test_closed_tuple_reuse(void **state)
{
	struct xgw_ct_table *t = xgw_ct_new(&defcfg);
	uint64_t now = 1000 * S;
	struct xgw_ct_tuple o, r, o2;
	struct xgw_ct_init syn = {.backend_id = 8, .tcp_flags = SYN};
	struct xgw_ct_init ack = {.backend_id = 8, .tcp_flags = ACK};
	struct xgw_ct_conn *c, *n = NULL;
	struct xgw_ct_stats st;
	enum xgw_ct_dir d;

	for (int closing = 0; closing < 2; closing++) {
		unsigned i = 20 + (unsigned)closing;
		c = mk(t, i, false, IPPROTO_TCP, SYN, now);
		flow(i, false, IPPROTO_TCP, &o, &r);
		o2 = o;
		o2.dport = htons(81); /* the second VIP's service */
		xgw_ct_update(t, c, R, SYN | ACK, 60, now);
		xgw_ct_update(t, c, O, ACK, 60, now);
		assert_int_equal(c->state, XGW_CT_ESTABLISHED);
		/* live: refused, whatever the flags */
		assert_int_equal(xgw_ct_create(t, &o2, &r, &syn, now, &n), -EEXIST);
		if (closing == 0) { /* both FINs */
			xgw_ct_update(t, c, O, FIN | ACK, 60, now);
			xgw_ct_update(t, c, R, FIN | ACK, 60, now);
			assert_int_equal(c->state, XGW_CT_TIME_WAIT);
		} else {
			xgw_ct_update(t, c, R, RST, 60, now);
			assert_int_equal(c->state, XGW_CT_CLOSE);
		}
		/* closed, but a segment that is no SYN opens nothing on it */
		assert_int_equal(xgw_ct_create(t, &o2, &r, &ack, now + S, &n), -EEXIST);
		assert_ptr_equal(xgw_ct_lookup(t, &o, now + S, &d), c);
		/* a SYN takes the tuple over: the old keys go */
		assert_int_equal(xgw_ct_create(t, &o2, &r, &syn, now + S, &n), 0);
		assert_ptr_not_equal(n, c);
		assert_int_equal(n->state, XGW_CT_SYN_SENT);
		assert_null(xgw_ct_lookup(t, &o, now + S, &d));
		assert_ptr_equal(xgw_ct_lookup(t, &r, now + S, &d), n);
		assert_int_equal(d, R);
		assert_ptr_equal(xgw_ct_lookup(t, &o2, now + S, &d), n);
		/* and the old flow, back again, finds the tuple live: refused */
		assert_int_equal(xgw_ct_create(t, &o, &r, &syn, now + S, &c), -EEXIST);
	}
	xgw_ct_get_stats(t, &st);
	assert_int_equal(st.reused, 2);
	assert_int_equal(st.live, 2);
	xgw_ct_free(t);
}

/* on_down "reset": one (service, backend)'s connections go, IPv4 and
 * IPv6; the same backend under another service port or protocol, another
 * backend port of the same service, stay. */
static void test_flush_backend(void **state)
{
	struct xgw_ct_table *t = xgw_ct_new(&defcfg);
	struct xgw_ct_init in = {.backend_id = 7, .tcp_flags = SYN};
	struct xgw_ct_tuple o, r, k[4][2];
	struct xgw_ct_backend_sel sel = {.vport = 80, .port = 8080, .proto = IPPROTO_TCP};
	struct xgw_ct_conn *c;
	struct xgw_ct_stats st;
	enum xgw_ct_dir d;

	for (unsigned i = 0; i < 10; i++) {
		mk(t, i, false, IPPROTO_TCP, SYN, S);
		mk(t, 100 + i, true, IPPROTO_TCP, SYN, S);
	}
	flow(50, false, IPPROTO_TCP, &k[0][0], &k[0][1]); /* another service port */
	k[0][0].dport = htons(81);
	flow(51, false, IPPROTO_TCP, &k[1][0], &k[1][1]); /* another backend port */
	k[1][1].sport = htons(8081);
	flow(52, false, IPPROTO_UDP, &k[2][0], &k[2][1]); /* the UDP service */
	flow(53, false, IPPROTO_TCP, &k[3][0], &k[3][1]); /* the one that goes */
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(xgw_ct_create(t, &k[i][0], &k[i][1], &in, S, &c), 0);
	flow(0, false, IPPROTO_TCP, &o, &r);
	sel.vip = o.dst;
	sel.ip = r.src;
	assert_true(xgw_ct_backend_sel_match(&sel, &o, &r));
	assert_false(xgw_ct_backend_sel_match(&sel, &k[0][0], &k[0][1]));
	assert_int_equal(xgw_ct_flush_backend(t, &sel, S), 11); /* flows 0..9 and 53 */
	assert_null(xgw_ct_lookup(t, &o, S, &d));
	assert_null(xgw_ct_lookup(t, &r, S, &d));
	assert_null(xgw_ct_lookup(t, &k[3][0], S, &d));
	for (unsigned i = 0; i < 3; i++)
		assert_non_null(xgw_ct_lookup(t, &k[i][0], S, &d));
	/* The IPv6 ones: their own selector. */
	flow(100, true, IPPROTO_TCP, &o, &r);
	sel.vip = o.dst;
	sel.ip = r.src;
	assert_non_null(xgw_ct_lookup(t, &o, S, &d));
	assert_int_equal(xgw_ct_flush_backend(t, &sel, S), 10);
	assert_null(xgw_ct_lookup(t, &o, S, &d));
	assert_int_equal(xgw_ct_flush_backend(t, &sel, S), 0);
	/* One timed out, not yet collected: removed, not counted. */
	mk(t, 101, true, IPPROTO_TCP, SYN, S);
	flow(101, true, IPPROTO_TCP, &o, &r);
	assert_int_equal(xgw_ct_flush_backend(t, &sel, 200 * S), 0);
	assert_null(xgw_ct_lookup(t, &o, S, &d));
	xgw_ct_get_stats(t, &st);
	assert_int_equal(st.live, 3);
	xgw_ct_free(t);
}

/* A SYN flood fills the table with embryonic entries (SYN seen, no reply):
 * when full and nothing has expired, those idle more than a second make
 * room for new flows; younger ones (a handshake in progress) and
 * established ones never do. */
static void test_embryonic_eviction(void **state)
{
	struct xgw_ct_cfg cfg = defcfg;
	struct xgw_ct_stats st;
	struct xgw_ct_tuple o, r;
	struct xgw_ct_init in = {.tcp_flags = SYN};
	struct xgw_ct_conn *c;

	cfg.max_entries = 64;
	struct xgw_ct_table *t = xgw_ct_new(&cfg);
	for (unsigned i = 0; i < 16; i++)
		mk(t, i, false, IPPROTO_TCP, ACK, 0); /* established */
	for (unsigned i = 16; i < 64; i++)
		mk(t, i, false, IPPROTO_TCP, SYN, S); /* the flood, at 1 s */
	/* at 1.5 s the flood's entries are too young: refused */
	flow(100, false, IPPROTO_TCP, &o, &r);
	assert_int_equal(xgw_ct_create(t, &o, &r, &in, S + S / 2, &c), -ENOSPC);
	/* at 2.5 s they may go: 48 new flows take their places */
	for (unsigned i = 100; i < 148; i++) {
		flow(i, false, IPPROTO_TCP, &o, &r);
		assert_int_equal(xgw_ct_create(t, &o, &r, &in, 2 * S + S / 2, &c), 0);
	}
	xgw_ct_get_stats(t, &st);
	assert_int_equal(st.live, 64);
	assert_int_equal(st.evicted, 48);
	assert_int_equal(st.evicted_embryonic, 48);
	assert_int_equal(st.full, 1);
	/* the established ones were never candidates */
	for (unsigned i = 0; i < 16; i++) {
		enum xgw_ct_dir d;
		flow(i, false, IPPROTO_TCP, &o, &r);
		assert_non_null(xgw_ct_lookup(t, &o, 2 * S + S / 2, &d));
	}
	/* now every entry is established or a young embryonic one: refused */
	flow(200, false, IPPROTO_TCP, &o, &r);
	assert_int_equal(xgw_ct_create(t, &o, &r, &in, 2 * S + S / 2, &c), -ENOSPC);
	xgw_ct_free(t);
}

/* Full: expired entries are evicted first; with none, the flow is refused
 * and counted; never more than max_entries live. */
static void test_capacity(void **state)
{
	struct xgw_ct_cfg cfg = defcfg;
	struct xgw_ct_stats st;
	struct xgw_ct_tuple o, r;
	struct xgw_ct_init in = {0};
	struct xgw_ct_conn *c;

	cfg.max_entries = 64;
	struct xgw_ct_table *t = xgw_ct_new(&cfg);
	for (unsigned i = 0; i < 32; i++)
		mk(t, i, false, IPPROTO_UDP, 0, 0); /* expire at 60 s */
	for (unsigned i = 32; i < 64; i++)
		mk(t, i, false, IPPROTO_TCP, ACK, 0); /* established: 6 h */
	flow(64, false, IPPROTO_UDP, &o, &r);
	assert_int_equal(xgw_ct_create(t, &o, &r, &in, 59 * S, &c), -ENOSPC);
	xgw_ct_get_stats(t, &st);
	assert_int_equal(st.full, 1);
	assert_int_equal(st.live, 64);
	/* at 61 s the UDP flows are expired: new flows evict them */
	for (unsigned i = 64; i < 96; i++) {
		flow(i, false, IPPROTO_UDP, &o, &r);
		assert_int_equal(xgw_ct_create(t, &o, &r, &in, 61 * S, &c), 0);
		xgw_ct_get_stats(t, &st);
		assert_true(st.live <= 64);
	}
	xgw_ct_get_stats(t, &st);
	assert_int_equal(st.evicted, 32);
	assert_int_equal(st.live, 64);
	/* the TCP flows were not touched */
	for (unsigned i = 32; i < 64; i++) {
		enum xgw_ct_dir d;
		flow(i, false, IPPROTO_TCP, &o, &r);
		assert_non_null(xgw_ct_lookup(t, &o, 61 * S, &d));
	}
	/* nothing expired now: refused again */
	flow(200, false, IPPROTO_UDP, &o, &r);
	assert_int_equal(xgw_ct_create(t, &o, &r, &in, 62 * S, &c), -ENOSPC);
	xgw_ct_get_stats(t, &st);
	assert_int_equal(st.full, 2);
	/* records come back after a grace period: churn far past the pool */
	for (unsigned round = 0; round < 20; round++) {
		assert_int_equal(xgw_ct_flush(t), 64);
		xgw_ct_reclaim_wait();
		for (unsigned i = 0; i < 64; i++) {
			flow(1000 + round * 64 + i, false, IPPROTO_UDP, &o, &r);
			assert_int_equal(xgw_ct_create(t, &o, &r, &in, 100 * S, &c), 0);
		}
	}
	xgw_ct_free(t);
}

/* Two workers create the same flows at the same moment: one record per flow,
 * both workers get it. */
#define RACE_FLOWS 20000
struct race_arg {
	struct xgw_ct_table *t;
	pthread_barrier_t *bar;
	struct xgw_ct_conn **got;
	bool snat;
	uint16_t cache; /* xgw_ct_init.cache */
};

static void *race_worker(void *p)
{
	struct race_arg *a = p;
	struct xgw_addr gw;

	xgw_addr_v4(&gw, htonl(0xc6120201u));
	rcu_register_thread();
	pthread_barrier_wait(a->bar);
	for (unsigned i = 0; i < RACE_FLOWS; i++) {
		struct xgw_ct_tuple o, r;
		struct xgw_ct_init in = {.backend_id = 1, .cache = a->cache};
		enum xgw_ct_dir d;
		flow(i, i & 1, IPPROTO_TCP, &o, &r);
		struct xgw_ct_conn *c = xgw_ct_lookup(a->t, &o, S, &d);
		if (!c) {
			int ret;
			if (a->snat && !(i & 1))
				ret = xgw_nat_ct_create(a->t, &o, &r.src, r.sport, &gw, 1024, 65535,
							&in, S, &c, NULL);
			else
				ret = xgw_ct_create(a->t, &o, &r, &in, S, &c) < 0;
			if (ret)
				c = NULL;
		}
		a->got[i] = c;
		if (!(i & 63))
			rcu_quiescent_state();
	}
	rcu_unregister_thread();
	return NULL;
}

/* cached: each thread with its own creation cache, in a table large
 * enough to have them. */
static void race(bool snat, bool cached)
{
	struct xgw_ct_cfg cfg = defcfg;
	pthread_barrier_t bar;
	pthread_t th[2];
	struct race_arg a[2];
	struct xgw_ct_stats st;

	cfg.max_entries = cached ? 4 * RACE_FLOWS : RACE_FLOWS + 16;
	struct xgw_ct_table *t = xgw_ct_new(&cfg);
	pthread_barrier_init(&bar, NULL, 2);
	/* the test thread waits offline: it holds no references */
	rcu_thread_offline();
	for (int k = 0; k < 2; k++) {
		a[k] = (struct race_arg){t, &bar, calloc(RACE_FLOWS, sizeof(void *)), snat,
					 cached ? (uint16_t)(k + 1) : 0};
		pthread_create(&th[k], NULL, race_worker, &a[k]);
	}
	for (int k = 0; k < 2; k++)
		pthread_join(th[k], NULL);
	rcu_thread_online();
	xgw_ct_get_stats(t, &st);
	for (unsigned i = 0; i < RACE_FLOWS; i++) {
		if (!a[0].got[i] || a[0].got[i] != a[1].got[i])
			fail_msg(
			    "flow %u: %p vs %p (live %llu full %llu bucket_full %llu lost %llu)", i,
			    (void *)a[0].got[i], (void *)a[1].got[i], (unsigned long long)st.live,
			    (unsigned long long)st.full, (unsigned long long)st.bucket_full,
			    (unsigned long long)st.races_lost);
	}
	assert_int_equal(st.live, RACE_FLOWS);
	assert_int_equal(st.created, RACE_FLOWS);
	printf("race%s%s: %u flows, %llu creations lost the race\n", snat ? " (snat)" : "",
	       cached ? " (per-thread caches)" : "", RACE_FLOWS, (unsigned long long)st.races_lost);
	assert_int_equal(xgw_ct_flush(t), RACE_FLOWS);
	free(a[0].got);
	free(a[1].got);
	pthread_barrier_destroy(&bar);
	xgw_ct_free(t);
}

static void test_race(void **state)
{
	race(false, false);
}

static void test_race_snat(void **state)
{
	race(true, false);
}

static void test_race_cached(void **state)
{
	race(false, true);
	race(true, true);
}

static int count_cb(const struct xgw_ct_conn *c, uint64_t now, void *arg)
{
	(*(unsigned *)arg)++;
	return 0;
}

/* GC: bounded work per call, only expired entries, everything eventually. */
static void test_gc(void **state)
{
	struct xgw_ct_table *t = xgw_ct_new(&defcfg);
	struct xgw_ct_stats st;
	unsigned n = 0, calls = 0, removed = 0;

	for (unsigned i = 0; i < 3000; i++)
		mk(t, i, i & 1, i < 1000 ? IPPROTO_TCP : IPPROTO_UDP, ACK, 0);
	assert_int_equal(xgw_ct_gc(t, 30 * S, 100000), 0); /* nothing expired */
	/* at 61 s the 2000 UDP flows are expired, the TCP ones are not */
	do {
		unsigned r = xgw_ct_gc(t, 61 * S, 128);
		assert_true(r <= 128);
		removed += r;
		calls++;
		rcu_quiescent_state();
	} while (calls < 1000 && removed < 2000);
	assert_int_equal(removed, 2000);
	assert_true(calls >= 2000 / 128);
	xgw_ct_get_stats(t, &st);
	assert_int_equal(st.live, 1000);
	assert_int_equal(st.expired, 2000);
	assert_int_equal(xgw_ct_foreach(t, 61 * S, 0, count_cb, &n), 1000);
	assert_int_equal(n, 1000);
	n = 0;
	assert_int_equal(xgw_ct_foreach(t, 61 * S, 10, count_cb, &n), 10);
	assert_int_equal(n, 10);
	assert_int_equal(xgw_ct_flush(t), 1000);
	xgw_ct_get_stats(t, &st);
	assert_int_equal(st.live, 0);
	n = 0;
	assert_int_equal(xgw_ct_foreach(t, 61 * S, 0, count_cb, &n), 0);
	xgw_ct_free(t);
}

/* xgw_ct_hash_of (the burst pass's reply-key hash, computed without the
 * key) against the hash of the key xgw_ct_tuple_init builds, for IPv4 and
 * IPv6 addresses, both protocols and random ports. */
static void test_hash_of(void **state)
{
	struct xgw_ct_table *t = xgw_ct_new(&defcfg);
	uint32_t r = 0x2545f491;

	for (int i = 0; i < 2000; i++) {
		struct xgw_addr a, b;
		struct xgw_ct_tuple k;
		uint8_t b6[16];

		r = r * 1103515245u + 12345u;
		if (i & 1) {
			for (int j = 0; j < 16; j++)
				b6[j] = (uint8_t)((r >> (j & 15)) + (uint32_t)i * (uint32_t)j);
			xgw_addr_v6(&a, b6);
			b6[15] ^= 0x5a;
			xgw_addr_v6(&b, b6);
		} else {
			xgw_addr_v4(&a, r);
			xgw_addr_v4(&b, r * 2654435761u + (uint32_t)i);
		}
		uint16_t sp = (uint16_t)(r >> 7), dp = (uint16_t)(r >> 13);
		uint8_t proto = i & 2 ? IPPROTO_UDP : IPPROTO_TCP;
		xgw_ct_tuple_init(&k, &a, sp, &b, dp, proto);
		assert_true(xgw_ct_hash_of(t, &a, sp, &b, dp, proto) == xgw_ct_hash(t, &k));
	}
	xgw_ct_free(t);
}

/* xgw_ct_create_dnat builds the reply tuple xgw_ct_create is given by
 * the NAT (xgw_ct_tuple_init(backend, bport, client, cport)) from its
 * words: the same records (tuples, translation's checksum differences,
 * state, the first packet's counters when asked), found by the same
 * keys, with and without the hashes passed, for IPv4 and IPv6, TCP flags
 * of every initial state and UDP. */
static void test_create_dnat(void **state)
{
	struct xgw_ct_table *a = xgw_ct_new(&defcfg), *b = xgw_ct_new(&defcfg);
	static const uint8_t tfs[] = {SYN, SYN | ACK, ACK, RST, FIN | ACK, 0};
	uint64_t now = 1000 * S;

	for (unsigned i = 0; i < 600; i++) {
		struct xgw_ct_tuple o, r, x;
		struct xgw_ct_conn *ca, *cb;
		enum xgw_ct_dir d;
		bool v6 = i & 1;
		uint8_t proto = i % 3 == 2 ? IPPROTO_UDP : IPPROTO_TCP;
		struct xgw_ct_init in = {.backend_id = i, .tcp_flags = tfs[i % 6]};
		/* the first packet accounted at the creation, or not */
		in.first_bytes = i & 8 ? 60 + i : 0;

		flow(i, v6, proto, &o, &r);
		if (i & 4) {
			in.hash[XGW_CT_ORIG] = xgw_ct_hash(a, &o);
			in.hash[XGW_CT_REPLY] = xgw_ct_hash(a, &r);
		}
		assert_int_equal(xgw_ct_create(a, &o, &r, &in, now, &ca), 0);
		if (i & 4) {
			in.hash[XGW_CT_ORIG] = xgw_ct_hash(b, &o);
			in.hash[XGW_CT_REPLY] = xgw_ct_hash(b, &r);
		}
		assert_int_equal(xgw_ct_create_dnat(b, &o, &r.src, r.sport, &in, now, &cb), 0);
		assert_memory_equal(&ca->orig, &cb->orig, sizeof(ca->orig));
		assert_memory_equal(&ca->reply, &cb->reply, sizeof(ca->reply));
		assert_int_equal(ca->state, cb->state);
		assert_int_equal(ca->flags, cb->flags);
		assert_int_equal(cb->pkts[XGW_CT_ORIG], in.first_bytes ? 1 : 0);
		assert_int_equal(cb->bytes[XGW_CT_ORIG], in.first_bytes);
		assert_int_equal(cb->pkts[XGW_CT_REPLY] + cb->bytes[XGW_CT_REPLY], 0);
		assert_int_equal(ca->pkts[XGW_CT_ORIG], cb->pkts[XGW_CT_ORIG]);
		assert_int_equal(ca->bytes[XGW_CT_ORIG], cb->bytes[XGW_CT_ORIG]);
		assert_true(xgw_ct_lookup(b, &r, now, &d) == cb && d == XGW_CT_REPLY);
		assert_true(xgw_ct_lookup(b, &o, now, &d) == cb && d == XGW_CT_ORIG);
		/* the reply tuple taken: refused, as xgw_ct_create refuses it
		 * (hashes computed here: those above are o's and r's) */
		in.hash[XGW_CT_ORIG] = in.hash[XGW_CT_REPLY] = 0;
		x = o;
		x.dport = htons(81);
		assert_int_equal(xgw_ct_create_dnat(b, &x, &r.src, r.sport, &in, now, &cb),
				 -EEXIST);
		assert_int_equal(xgw_ct_create(a, &x, &r, &in, now, &ca), -EEXIST);
	}
	xgw_ct_free(a);
	xgw_ct_free(b);
}

/* The bulk lookup: a hint from the bucket pass, then xgw_ct_lookup_hint
 * (lb_stage.c's use).  A hint names the record for either key, says
 * "absent" for a key in no bucket, and a stale one (its record deleted,
 * expired, or the flow re-created since) never returns the wrong thing. */
static void test_hints(void **state)
{
	struct xgw_ct_table *t = xgw_ct_new(&defcfg);
	uint64_t now = 1000 * S, h, v;
	struct xgw_ct_tuple k[2], x, y;
	enum xgw_ct_dir d;
	struct xgw_ct_conn *c = mk(t, 1, false, IPPROTO_TCP, SYN, now);

	flow(1, false, IPPROTO_TCP, &k[O], &k[R]);
	for (int dir = O; dir <= R; dir++) {
		h = xgw_ct_hash(t, &k[dir]);
		v = xgw_ct_prefetch_conn(t, h);
		assert_true(v > XGW_CT_HINT_NONE);
		assert_ptr_equal(xgw_ct_lookup_hint(t, &k[dir], h, v, now, &d), c);
		assert_int_equal(d, dir);
		/* no hint: the full lookup, same answer */
		assert_ptr_equal(xgw_ct_lookup_hint(t, &k[dir], h, XGW_CT_HINT_NONE, now, &d), c);
		assert_int_equal(d, dir);
	}
	/* absent: a hint of 0 in a table this empty (no bucket overflowed) */
	flow(2, false, IPPROTO_TCP, &x, &y);
	h = xgw_ct_hash(t, &x);
	v = xgw_ct_prefetch_conn(t, h);
	assert_int_equal(v, 0);
	assert_null(xgw_ct_lookup_hint(t, &x, h, v, now, &d));
	/* a hint taken, then the connection deleted: not returned */
	h = xgw_ct_hash(t, &k[O]);
	v = xgw_ct_prefetch_conn(t, h);
	assert_true(xgw_ct_delete(t, c));
	assert_null(xgw_ct_lookup_hint(t, &k[O], h, v, now, &d));
	/* ... and the flow created again: the stale hint names the dead
	 * record, the fallback finds the new one */
	struct xgw_ct_conn *c2 = mk(t, 1, false, IPPROTO_TCP, SYN, now);
	assert_ptr_not_equal(c2, c);
	assert_ptr_equal(xgw_ct_lookup_hint(t, &k[O], h, v, now, &d), c2);
	/* a hint to a connection that has expired by now: not returned */
	v = xgw_ct_prefetch_conn(t, h);
	assert_true(v > XGW_CT_HINT_NONE);
	assert_null(xgw_ct_lookup_hint(t, &k[O], h, v, now + 61 * S, &d));
	rcu_quiescent_state();
	xgw_ct_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tcp_table),
	    cmocka_unit_test(test_tcp_lifecycle),
	    cmocka_unit_test(test_timeouts),
	    cmocka_unit_test(test_both_directions),
	    cmocka_unit_test(test_closed_tuple_reuse),
	    cmocka_unit_test(test_flush_backend),
	    cmocka_unit_test(test_capacity),
	    cmocka_unit_test(test_embryonic_eviction),
	    cmocka_unit_test(test_race),
	    cmocka_unit_test(test_race_snat),
	    cmocka_unit_test(test_race_cached),
	    cmocka_unit_test(test_gc),
	    cmocka_unit_test(test_hints),
	    cmocka_unit_test(test_hash_of),
	    cmocka_unit_test(test_create_dnat),
	};
	int r;

	rcu_register_thread();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return r;
}
