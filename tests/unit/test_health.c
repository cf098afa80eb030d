/* SPDX-License-Identifier: BSD-3-Clause */
/* Health checks: the rise/fall state machine alone, the "check" object's
 * parsing and refusals, and the checker thread against real sockets on
 * the loopback (a TCP listener that goes away, a UDP echo). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl/config.h"
#include "health/checker.h"
#include "health/state.h"

/* ---- state machine ---------------------------------------------------- */

static void starts_up(void **st)
{
	struct xgw_hc_state s;

	xgw_hc_init(&s);
	assert_true(s.up);
	assert_int_equal(s.checks, 0);
}

/* fall failures in a row take it down, and not one fewer. */
static void falls_after_fall_failures(void **st)
{
	struct xgw_hc_state s;

	xgw_hc_init(&s);
	assert_false(xgw_hc_record(&s, XGW_HC_TIMEOUT, 2, 3, 1));
	assert_false(xgw_hc_record(&s, XGW_HC_REFUSED, 2, 3, 2));
	assert_true(s.up);
	assert_true(xgw_hc_record(&s, XGW_HC_BAD_STATUS, 2, 3, 3));
	assert_false(s.up);
	assert_int_equal(s.transitions, 1);
	assert_int_equal(s.failures, 3);
	assert_int_equal(s.changed_at_ms, 3);
	/* More failures: no new transition. */
	assert_false(xgw_hc_record(&s, XGW_HC_TIMEOUT, 2, 3, 4));
	assert_int_equal(s.transitions, 1);
}

/* A success between failures restarts the count: flapping never trips. */
static void success_resets_fail_run(void **st)
{
	struct xgw_hc_state s;

	xgw_hc_init(&s);
	for (int i = 0; i < 50; i++) {
		assert_false(xgw_hc_record(&s, XGW_HC_TIMEOUT, 2, 2, (uint64_t)i));
		assert_false(xgw_hc_record(&s, XGW_HC_OK, 2, 2, (uint64_t)i));
	}
	assert_true(s.up);
	assert_int_equal(s.checks, 100);
	assert_int_equal(s.failures, 50);
}

/* Down, rise successes in a row bring it back; a failure in between
 * restarts the count. */
static void rises_after_rise_successes(void **st)
{
	struct xgw_hc_state s;

	xgw_hc_init(&s);
	assert_true(xgw_hc_record(&s, XGW_HC_ERROR, 3, 1, 1));
	assert_false(s.up);
	assert_false(xgw_hc_record(&s, XGW_HC_OK, 3, 1, 2));
	assert_false(xgw_hc_record(&s, XGW_HC_OK, 3, 1, 3));
	assert_false(xgw_hc_record(&s, XGW_HC_BAD_REPLY, 3, 1, 4));
	assert_false(xgw_hc_record(&s, XGW_HC_OK, 3, 1, 5));
	assert_false(xgw_hc_record(&s, XGW_HC_OK, 3, 1, 6));
	assert_false(s.up);
	assert_true(xgw_hc_record(&s, XGW_HC_OK, 3, 1, 7));
	assert_true(s.up);
	assert_int_equal(s.transitions, 2);
	assert_int_equal(s.changed_at_ms, 7);
}

static void result_names(void **st)
{
	assert_string_equal(xgw_hc_result_name(XGW_HC_OK), "ok");
	assert_string_equal(xgw_hc_result_name(XGW_HC_BAD_STATUS), "bad_status");
	assert_string_equal(xgw_hc_result_name(XGW_HC__MAX), "?");
}

static void state_json(void **st)
{
	struct xgw_hc_state s;
	json_t *j;

	xgw_hc_init(&s);
	s.last_status = 503;
	xgw_hc_record(&s, XGW_HC_BAD_STATUS, 1, 1, 1000);
	j = xgw_hc_json(&s, 3000);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "down");
	assert_int_equal(json_integer_value(json_object_get(j, "failures")), 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "last"), "result")), "bad_status");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "last"), "status")),
			 503);
	assert_true(json_real_value(json_object_get(j, "changed_s")) == 2.0);
	json_decref(j);
}

/* ---- the "check" object --------------------------------------------- */

static int parse_svc(const char *check, struct xgw_service_cfg *s, char *err, size_t errlen)
{
	char doc[1024];
	json_error_t je;
	json_t *j;
	int rc;

	snprintf(doc, sizeof(doc),
		 "{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"tcp\",\"check\":%s,"
		 "\"backends\":[{\"ip\":\"198.18.2.10\",\"port\":8080}]}",
		 check);
	j = json_loads(doc, 0, &je);
	assert_non_null(j);
	rc = xgw_service_from_json(s, j, "services[0]", err, errlen);
	json_decref(j);
	return rc;
}

static void check_parse(void **st)
{
	struct xgw_service_cfg s;
	char err[256];
	json_t *j;

	assert_int_equal(parse_svc("{\"type\":\"http\",\"path\":\"/hz\",\"status\":204,"
				   "\"interval_ms\":500,\"timeout_ms\":200,\"rise\":3,\"fall\":4}",
				   &s, err, sizeof(err)),
			 0);
	assert_int_equal(s.check.type, XGW_CHECK_HTTP);
	assert_string_equal(s.check.path, "/hz");
	assert_int_equal(s.check.status, 204);
	assert_int_equal(s.check.interval_ms, 500);
	assert_int_equal(s.check.rise, 3);
	assert_int_equal(s.check.fall, 4);
	/* And back: what config.get writes, the loader reads. */
	j = xgw_service_to_json(&s);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "check"), "path")),
			    "/hz");
	json_decref(j);
	xgw_service_free(&s);

	/* on_down "reset", and back out as written. */
	assert_int_equal(
	    parse_svc("{\"type\":\"tcp\",\"on_down\":\"reset\"}", &s, err, sizeof(err)), 0);
	assert_int_equal(s.check.on_down, XGW_ON_DOWN_RESET);
	j = xgw_service_to_json(&s);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "check"), "on_down")), "reset");
	json_decref(j);
	xgw_service_free(&s);

	/* Defaults. */
	assert_int_equal(parse_svc("{\"type\":\"tcp\"}", &s, err, sizeof(err)), 0);
	assert_int_equal(s.check.on_down, XGW_ON_DOWN_KEEP);
	assert_int_equal(s.check.interval_ms, 2000);
	assert_int_equal(s.check.timeout_ms, 1000);
	assert_int_equal(s.check.rise, 2);
	assert_int_equal(s.check.fall, 3);
	xgw_service_free(&s);
}

static void check_refusals(void **st)
{
	static const struct {
		const char *check, *err;
	} bad[] = {
	    {"{\"type\":\"icmp\"}", "services[0].check.type"},
	    {"{\"type\":\"tcp\",\"on_down\":\"drop\"}", "services[0].check.on_down"},
	    {"{\"type\":\"tcp\",\"interval_ms\":500,\"timeout_ms\":600}", "timeout_ms"},
	    {"{\"type\":\"tcp\",\"interval_ms\":0}", "interval_ms"},
	    {"{\"type\":\"tcp\",\"fall\":0}", "fall"},
	    {"{\"type\":\"tcp\",\"path\":\"/x\"}", "apply to \"http\" checks only"},
	    {"{\"type\":\"http\",\"path\":\"x y\"}", "path"},
	    {"{\"type\":\"udp\"}", "needs a payload"},
	    {"{\"type\":\"tcp\",\"send\":\"x\"}", "apply to \"udp\" checks only"},
	    {"{\"type\":\"tcp\",\"retries\":2}", "retries"},
	};
	struct xgw_service_cfg s;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(parse_svc(bad[i].check, &s, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].err))
			fail_msg("%s: error '%s' lacks '%s'", bad[i].check, err, bad[i].err);
	}
}

/* ---- the checker against real sockets -------------------------------- */

static int listener(int type, uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, type, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static int flips;

static void on_change(void *ctx)
{
	__atomic_add_fetch((int *)ctx, 1, __ATOMIC_SEQ_CST);
}

static const char *state_of(struct xgw_checker *ck, const struct xgw_service_cfg *s, unsigned b)
{
	static char buf[16];
	json_t *j = xgw_checker_backend_json(ck, s, &s->backends[b]);

	snprintf(buf, sizeof(buf), "%s",
		 j ? json_string_value(json_object_get(j, "state")) : "none");
	json_decref(j);
	return buf;
}

/* Up to 5 s for backend b of s to be in state want; answers UDP
 * datagrams on udp_fd meanwhile (an echo server in this thread). */
static bool wait_state(struct xgw_checker *ck, const struct xgw_service_cfg *s, unsigned b,
		       const char *want, int udp_fd)
{
	for (int i = 0; i < 500; i++) {
		struct pollfd p = {.fd = udp_fd, .events = POLLIN};

		if (!strcmp(state_of(ck, s, b), want))
			return true;
		if (udp_fd >= 0 && poll(&p, 1, 10) == 1) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			char buf[64];
			ssize_t n =
			    recvfrom(udp_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

			if (n > 0)
				sendto(udp_fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
		} else if (udp_fd < 0) {
			usleep(10000);
		}
	}
	return false;
}

static uint32_t size_401(const struct xgw_service_cfg *s, uint32_t cap)
{
	return 401;
}

/* xgw_checker_resets' callback: records what it was asked to flush and
 * says it removed 3 connections. */
static struct xgw_ct_backend_sel reset_seen[4];
static unsigned n_reset_seen;

static unsigned fake_reset(void *ctx, const struct xgw_ct_backend_sel *s)
{
	if (n_reset_seen < 4)
		reset_seen[n_reset_seen] = *s;
	n_reset_seen++;
	return 3;
}

static uint64_t resets_of(struct xgw_checker *ck, const struct xgw_service_cfg *s, unsigned b)
{
	json_t *j = xgw_checker_backend_json(ck, s, &s->backends[b]);
	uint64_t n = (uint64_t)json_integer_value(json_object_get(j, "resets"));

	json_decref(j);
	return n;
}

static void checker_live(void **st)
{
	struct xgw_config cfg;
	struct xgw_service_cfg svc[2];
	struct xgw_backend_cfg be[2], ube[1];
	struct xgw_checker *ck;
	uint16_t tport, uport;
	int tfd = listener(SOCK_STREAM, &tport), ufd = listener(SOCK_DGRAM, &uport);
	unsigned down;

	xgw_config_defaults(&cfg);
	memset(svc, 0, sizeof(svc));
	memset(be, 0, sizeof(be));
	memset(ube, 0, sizeof(ube));
	/* TCP: one listening backend, one port nobody listens on. */
	xgw_addr_parse(&svc[0].vip, "198.18.100.1");
	svc[0].port = 80;
	svc[0].proto = IPPROTO_TCP;
	xgw_check_defaults(&svc[0].check);
	svc[0].check.type = XGW_CHECK_TCP;
	svc[0].check.interval_ms = 100;
	svc[0].check.timeout_ms = 50;
	svc[0].check.rise = 2;
	svc[0].check.fall = 2;
	svc[0].check.on_down = XGW_ON_DOWN_RESET;
	xgw_addr_parse(&be[0].ip, "127.0.0.1");
	be[0].port = tport;
	be[0].weight = 1;
	be[1] = be[0];
	be[1].port = (uint16_t)(tport == 65000 ? 64999 : 65000); /* nothing there */
	svc[0].backends = be;
	svc[0].n_backends = 2;
	/* UDP with an expected reply. */
	svc[1] = svc[0];
	svc[1].proto = IPPROTO_UDP;
	svc[1].check.type = XGW_CHECK_UDP;
	svc[1].check.on_down = XGW_ON_DOWN_KEEP;
	snprintf(svc[1].check.send, sizeof(svc[1].check.send), "ping");
	snprintf(svc[1].check.expect, sizeof(svc[1].check.expect), "ping");
	ube[0] = be[0];
	ube[0].port = uport;
	svc[1].backends = ube;
	svc[1].n_backends = 1;
	cfg.services = svc;
	cfg.n_services = 2;

	assert_int_equal(xgw_checker_start(&ck, on_change, &flips), 0);
	assert_int_equal(xgw_checker_sync(ck, &cfg), 0);
	/* A new backend starts up; the closed port is refused twice: down. */
	assert_string_equal(state_of(ck, &svc[0], 0), "up");
	assert_true(wait_state(ck, &svc[0], 1, "down", ufd));
	assert_true(wait_state(ck, &svc[1], 0, "up", ufd));
	assert_string_equal(state_of(ck, &svc[0], 0), "up");
	/* The change callback runs after the checker publishes the state
	 * (outside its lock): give it a moment, bounded. */
	for (int i = 0; i < 500 && __atomic_load_n(&flips, __ATOMIC_SEQ_CST) < 1; i++)
		usleep(10000);
	assert_true(__atomic_load_n(&flips, __ATOMIC_SEQ_CST) >= 1);

	/* adjust: the down one gets weight 0, the Maglev size is pinned to
	 * what both weights give (so the up one keeps its slots). */
	{
		struct xgw_config eff;

		assert_int_equal(xgw_config_copy(&eff, &cfg), 0);
		down = xgw_checker_adjust(ck, &eff, size_401);
		assert_int_equal(down, 1);
		assert_int_equal(eff.services[0].backends[0].weight, 1);
		assert_int_equal(eff.services[0].backends[1].weight, 0);
		assert_int_equal(eff.services[0].maglev_size, 401);
		assert_int_equal(cfg.services[0].backends[1].weight, 1); /* a copy changed */
		xgw_config_free(&eff);
	}

	/* on_down reset: the backend that went down is handed to the reset
	 * callback once, by (service, backend), and counts what it removed. */
	assert_int_equal(xgw_checker_resets(ck, fake_reset, NULL), 3);
	assert_int_equal(n_reset_seen, 1);
	assert_int_equal(reset_seen[0].port, be[1].port);
	assert_int_equal(reset_seen[0].vport, 80);
	assert_int_equal(reset_seen[0].proto, IPPROTO_TCP);
	assert_true(xgw_addr_eq(&reset_seen[0].vip, &svc[0].vip));
	assert_true(xgw_addr_eq(&reset_seen[0].ip, &be[1].ip));
	assert_int_equal(resets_of(ck, &svc[0], 1), 3);
	assert_int_equal(resets_of(ck, &svc[0], 0), 0);
	assert_int_equal(xgw_checker_resets(ck, fake_reset, NULL), 0); /* once */
	assert_int_equal(n_reset_seen, 1);

	/* The listener closed: the up backend goes down too. */
	close(tfd);
	assert_true(wait_state(ck, &svc[0], 0, "down", ufd));
	/* The UDP echo stops answering: timeouts take it down. */
	assert_true(wait_state(ck, &svc[1], 0, "down", -1));
	/* The TCP one (reset) is due, the UDP one (keep) is not. */
	assert_int_equal(xgw_checker_resets(ck, fake_reset, NULL), 3);
	assert_int_equal(n_reset_seen, 2);
	assert_int_equal(reset_seen[1].port, be[0].port);
	assert_int_equal(reset_seen[1].proto, IPPROTO_TCP);
	assert_int_equal(resets_of(ck, &svc[1], 0), 0);
	/* A backend no longer in the config is no longer checked. */
	cfg.n_services = 1;
	svc[0].n_backends = 1;
	assert_int_equal(xgw_checker_sync(ck, &cfg), 0);
	assert_string_equal(state_of(ck, &svc[0], 0), "down"); /* kept its state */
	assert_string_equal(state_of(ck, &svc[1], 0), "none");
	xgw_checker_stop(ck);
	close(ufd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(starts_up),
	    cmocka_unit_test(falls_after_fall_failures),
	    cmocka_unit_test(success_resets_fail_run),
	    cmocka_unit_test(rises_after_rise_successes),
	    cmocka_unit_test(result_names),
	    cmocka_unit_test(state_json),
	    cmocka_unit_test(check_parse),
	    cmocka_unit_test(check_refusals),
	    cmocka_unit_test(checker_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
