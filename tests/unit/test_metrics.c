/* SPDX-License-Identifier: BSD-3-Clause */
/* Prometheus metrics: the text rendering of a fixed stats document, line by
 * line, and the HTTP listener for real on 127.0.0.1 with an ephemeral port
 * (no root): /metrics, 404, 405, 400, an oversized request, idle clients
 * that must not hold up the next scraper and are dropped after the
 * timeout, and a stop that does not wait. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/drop.h"
#include "ctl/metrics.h"

static const char stats_json[] =
    "{\"workers\":[{\"id\":0,\"core\":1,\"rx_packets\":10,\"tx_packets\":9,\"forwarded\":8,"
    "  \"bursts\":3,\"wakeups\":2,\"empty_polls\":1000,\"idle_sleeps\":40,\"fill_starved\":1,"
    "  \"icmp_sent\":0,\"drops\":{\"no_route\":1},\"ct_created\":5,\"icmp_echo_replies\":0,"
    "  \"umem_frames\":4096,\"frames_free\":100,\"frames_accounted\":4096,\"new_thing\":7},"
    " {\"id\":1,\"core\":0,\"rx_packets\":20,\"tx_packets\":20,\"forwarded\":20,"
    "  \"bursts\":4,\"wakeups\":0,\"empty_polls\":5,\"idle_sleeps\":0,\"fill_starved\":0,"
    "  \"icmp_sent\":0,\"drops\":{},\"ct_created\":0,\"icmp_echo_replies\":2,"
    "  \"umem_frames\":4096,\"frames_free\":4000,\"frames_accounted\":4096}],"
    " \"ports\":[{\"name\":\"client\",\"iface\":\"xgw-c\",\"queues\":["
    "   {\"queue\":0,\"core\":1,\"rx_packets\":10,\"rx_bytes\":640,\"tx_packets\":9,"
    "    \"tx_bytes\":576,\"tx_wakeups\":2,\"tx_ring_full\":0,\"kernel_rx_dropped\":6,"
    "    \"kernel_rx_ring_full\":5,\"kernel_fill_ring_empty\":4,\"kernel_tx_invalid\":0},"
    "   {\"queue\":1,\"core\":0,\"rx_packets\":20,\"rx_bytes\":1280,\"tx_packets\":0,"
    "    \"tx_bytes\":0,\"tx_wakeups\":0,\"tx_ring_full\":0}],"
    "  \"xdp\":{\"steered\":30,\"passed\":4,\"no_socket\":0,\"malformed\":1}},"
    "  {\"name\":\"b\\\"a\\\\d\\nname\",\"iface\":\"xgw-b\",\"queues\":["
    "   {\"queue\":0,\"core\":1,\"rx_packets\":0,\"rx_bytes\":0,\"tx_packets\":29,"
    "    \"tx_bytes\":1856,\"tx_wakeups\":0,\"tx_ring_full\":3}],"
    "  \"xdp\":{\"steered\":0,\"passed\":2,\"no_socket\":0,\"malformed\":0}}],"
    " \"conntrack\":{\"live\":3,\"max\":65536,\"created\":5,\"full\":0,\"evicted\":1,"
    "   \"expired\":2,\"races_lost\":0},"
    " \"policy\":{\"default\":\"allow\",\"default_hits\":9,"
    "   \"rules\":[{\"id\":2,\"hits\":5},{\"id\":7,\"hits\":0}]},"
    " \"services\":[{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"tcp\",\"pkts_in\":11,"
    "   \"bytes_in\":1100,\"pkts_out\":7,\"bytes_out\":700,\"conns_new\":3,\"conns_active\":2,"
    "   \"drops_total\":5,\"drops\":{\"no_backend\":4},\"backends\":["
    "   {\"ip\":\"198.18.2.10\",\"port\":8080,\"pkts_in\":11,\"bytes_in\":1100,\"pkts_out\":7,"
    "    \"bytes_out\":700,\"conns_new\":3,\"conns_active\":2,\"drops\":1},"
    "   {\"ip\":\"2001:db8::a\",\"port\":8080,\"pkts_in\":0,\"bytes_in\":0,\"pkts_out\":0,"
    "    \"bytes_out\":0,\"conns_new\":0,\"conns_active\":0,\"drops\":0}]}],"
    " \"health_tunnel\":{\"device\":\"xgwhc0\",\"mtu\":1450,\"sent\":70,\"received\":58,"
    "   \"drops\":{\"no_probe\":2,\"bad_header\":0}},"
    " \"drops\":{\"no_route\":1,\"made_up_reason\":4}}";

/* Each of these must be a whole line of the output. */
static const char *const want_lines[] = {
    "# TYPE xgw_health_tunnel_packets_total counter",
    "xgw_health_tunnel_packets_total{direction=\"sent\"} 70",
    "xgw_health_tunnel_packets_total{direction=\"received\"} 58",
    "xgw_health_tunnel_drops_total{reason=\"no_probe\"} 2",
    "xgw_health_tunnel_drops_total{reason=\"bad_header\"} 0",
    "xgw_health_tunnel_up 1",
    "# HELP xgw_rx_packets_total Packets received on an AF_XDP queue.",
    "# TYPE xgw_rx_packets_total counter",
    "xgw_rx_packets_total{port=\"client\",queue=\"0\",core=\"1\"} 10",
    "xgw_rx_packets_total{port=\"client\",queue=\"1\",core=\"0\"} 20",
    "xgw_rx_packets_total{port=\"b\\\"a\\\\d\\nname\",queue=\"0\",core=\"1\"} 0",
    "xgw_rx_bytes_total{port=\"client\",queue=\"1\",core=\"0\"} 1280",
    "xgw_tx_packets_total{port=\"b\\\"a\\\\d\\nname\",queue=\"0\",core=\"1\"} 29",
    "xgw_tx_bytes_total{port=\"client\",queue=\"0\",core=\"1\"} 576",
    "xgw_tx_ring_full_total{port=\"b\\\"a\\\\d\\nname\",queue=\"0\",core=\"1\"} 3",
    "# TYPE xgw_xsk_rx_dropped_total counter",
    "xgw_xsk_rx_dropped_total{port=\"client\",queue=\"0\",core=\"1\"} 6",
    "xgw_xsk_rx_ring_full_total{port=\"client\",queue=\"0\",core=\"1\"} 5",
    "# TYPE xgw_xsk_fill_ring_empty_total counter",
    "xgw_xsk_fill_ring_empty_total{port=\"client\",queue=\"0\",core=\"1\"} 4",
    "xgw_xsk_tx_invalid_descs_total{port=\"client\",queue=\"0\",core=\"1\"} 0",
    "# TYPE xgw_build_info gauge",
    "# TYPE xgw_xdp_steered_total counter",
    "xgw_xdp_steered_total{port=\"client\"} 30",
    "xgw_xdp_passed_total{port=\"b\\\"a\\\\d\\nname\"} 2",
    "xgw_xdp_malformed_total{port=\"client\"} 1",
    "xgw_xdp_no_socket_total{port=\"client\"} 0",
    "# TYPE xgw_worker_empty_polls_total counter",
    "xgw_worker_empty_polls_total{worker=\"0\",core=\"1\"} 1000",
    "xgw_worker_empty_polls_total{worker=\"1\",core=\"0\"} 5",
    "xgw_worker_wakeups_total{worker=\"0\",core=\"1\"} 2",
    "xgw_worker_fill_starved_total{worker=\"0\",core=\"1\"} 1",
    "xgw_worker_idle_sleeps_total{worker=\"0\",core=\"1\"} 40",
    "xgw_worker_rx_packets_total{worker=\"1\",core=\"0\"} 20",
    "xgw_worker_bursts_total{worker=\"1\",core=\"0\"} 4",
    "# TYPE xgw_worker_frames_free gauge",
    "xgw_worker_frames_free{worker=\"1\",core=\"0\"} 4000",
    "# TYPE xgw_worker_new_thing untyped",
    "xgw_worker_new_thing{worker=\"0\",core=\"1\"} 7",
    "# TYPE xgw_worker_drops_total counter",
    "xgw_worker_drops_total{worker=\"0\",core=\"1\",reason=\"no_route\"} 1",
    "# HELP xgw_drops_total Packets dropped by the workers, by reason (summed over workers).",
    "# TYPE xgw_drops_total counter",
    "xgw_drops_total{reason=\"no_route\"} 1",
    "xgw_drops_total{reason=\"policy_denied\"} 0",
    "xgw_drops_total{reason=\"made_up_reason\"} 4",
    "# TYPE xgw_conntrack_entries gauge",
    "xgw_conntrack_entries 3",
    "# TYPE xgw_conntrack_max gauge",
    "xgw_conntrack_max 65536",
    "# TYPE xgw_conntrack_created_total counter",
    "xgw_conntrack_created_total 5",
    "xgw_conntrack_full_total 0",
    "xgw_conntrack_evicted_total 1",
    "xgw_conntrack_expired_total 2",
    "# TYPE xgw_policy_rule_hits_total counter",
    "xgw_policy_rule_hits_total{id=\"2\"} 5",
    "xgw_policy_rule_hits_total{id=\"7\"} 0",
    "# TYPE xgw_policy_default_hits_total counter",
    "xgw_policy_default_hits_total{action=\"allow\"} 9",
    "# TYPE xgw_service_packets_total counter",
    "xgw_service_packets_total{vip=\"198.18.100.1\",port=\"80\",proto=\"tcp\",direction=\"in\"} 11",
    "xgw_service_packets_total{vip=\"198.18.100.1\",port=\"80\",proto=\"tcp\",direction=\"out\"} 7",
    "xgw_service_bytes_total{vip=\"198.18.100.1\",port=\"80\",proto=\"tcp\",direction=\"out\"} 700",
    "xgw_service_connections_total{vip=\"198.18.100.1\",port=\"80\",proto=\"tcp\"} 3",
    "# TYPE xgw_service_connections_active gauge",
    "xgw_service_connections_active{vip=\"198.18.100.1\",port=\"80\",proto=\"tcp\"} 2",
    "xgw_service_drops_total{vip=\"198.18.100.1\",port=\"80\",proto=\"tcp\",reason=\"no_backend\"} "
    "4",
    "xgw_backend_packets_total{vip=\"198.18.100.1\",port=\"80\",proto=\"tcp\","
    "backend=\"198.18.2.10:8080\",direction=\"in\"} 11",
    "xgw_backend_bytes_total{vip=\"198.18.100.1\",port=\"80\",proto=\"tcp\","
    "backend=\"[2001:db8::a]:8080\",direction=\"out\"} 0",
    "# TYPE xgw_backend_connections_active gauge",
    "xgw_backend_connections_active{vip=\"198.18.100.1\",port=\"80\",proto=\"tcp\","
    "backend=\"198.18.2.10:8080\"} 2",
    "xgw_backend_drops_total{vip=\"198.18.100.1\",port=\"80\",proto=\"tcp\","
    "backend=\"198.18.2.10:8080\"} 1",
};

static json_t *load_stats(void)
{
	json_error_t je;
	json_t *j = json_loads(stats_json, 0, &je);

	if (!j)
		fail_msg("fixture: %s at %d", je.text, je.position);
	return j;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static unsigned count_lines_starting(const char *text, const char *prefix)
{
	unsigned n = 0;
	size_t pl = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += !strncmp(p, prefix, pl);
	return n;
}

/* The exposition format's structure: every sample's family has exactly one
 * HELP and one TYPE line before its first sample, and the samples of a
 * family are contiguous. */
static void check_structure(const char *text)
{
	char *dup = strdup(text), *save = NULL, *line;
	char fam[128] = "", typed[128] = "";
	json_t *seen = json_object();

	assert_non_null(dup);
	for (line = strtok_r(dup, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128];

		if (!strncmp(line, "# HELP ", 7)) {
			assert_int_equal(sscanf(line + 7, "%127s", name), 1);
			if (json_object_get(seen, name))
				fail_msg("family %s appears twice", name);
			json_object_set_new(seen, name, json_true());
			snprintf(fam, sizeof(fam), "%s", name);
			typed[0] = '\0';
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			char type[32];

			assert_int_equal(sscanf(line + 7, "%127s %31s", name, type), 2);
			assert_string_equal(name, fam);
			assert_true(!strcmp(type, "counter") || !strcmp(type, "gauge") ||
				    !strcmp(type, "untyped"));
			if (!strcmp(type, "counter"))
				assert_non_null(strstr(name, "_total"));
			snprintf(typed, sizeof(typed), "%s", name);
			continue;
		}
		assert_true(line[0] != '#');
		size_t n = strcspn(line, "{ ");
		assert_true(n < sizeof(name));
		memcpy(name, line, n);
		name[n] = '\0';
		if (strcmp(name, typed))
			fail_msg("sample \"%s\" outside its family (current: %s)", line, typed);
		assert_non_null(strrchr(line, ' '));
	}
	json_decref(seen);
	free(dup);
}

static void test_render(void **state)
{
	json_t *st = load_stats();
	size_t len = 0;
	char *text = xgw_metrics_render(st, &len);

	assert_non_null(text);
	assert_int_equal(len, strlen(text));
	assert_true(len > 0 && text[len - 1] == '\n');
	for (size_t i = 0; i < sizeof(want_lines) / sizeof(want_lines[0]); i++)
		if (!has_line(text, want_lines[i]))
			fail_msg("missing line: %s\n---\n%s", want_lines[i], text);
	check_structure(text);
	/* Every known drop reason, 0 when not counted, plus the unknown one. */
	assert_int_equal(count_lines_starting(text, "xgw_drops_total{"), XGW_DROP__MAX - 1 + 1);
	assert_false(has_line(text, "xgw_drops_total{reason=\"none\"} 0"));
	assert_non_null(strstr(text, "\nxgw_build_info{version=\"" XGW_RELEASE "\",commit=\""));
	/* Per-worker drops only for reasons the worker counted. */
	assert_int_equal(count_lines_starting(text, "xgw_worker_drops_total{"), 1);
	/* Labels are not turned into metrics. */
	assert_null(strstr(text, "xgw_worker_id{"));
	assert_null(strstr(text, "xgw_queue_queue{"));
	assert_null(strstr(text, "xgw_worker_core{"));
	assert_null(strstr(text, "xgw_queue_core{"));
	/* The raw newline of the port name never reaches the output. */
	assert_null(strstr(text, "b\"a\\d\nname"));
	free(text);
	json_decref(st);
}

static void test_render_sparse(void **state)
{
	/* An empty document still renders the drop family; odd types are
	 * skipped; reals and booleans are numbers. */
	json_t *st = json_loads("{\"conntrack\":{\"live\":1.5,\"max\":true,\"created\":\"x\","
				" \"odd-key\":2},\"ports\":[{\"name\":\"p\",\"queues\":[{}]}]}",
				0, NULL);
	char *text;

	assert_non_null(st);
	text = xgw_metrics_render(st, NULL);
	assert_non_null(text);
	check_structure(text);
	assert_true(has_line(text, "xgw_conntrack_entries 1.5"));
	assert_true(has_line(text, "xgw_conntrack_max 1"));
	assert_null(strstr(text, "xgw_conntrack_created_total"));
	assert_true(has_line(text, "# TYPE xgw_conntrack_odd_key untyped"));
	assert_true(has_line(text, "xgw_conntrack_odd_key 2"));
	assert_null(strstr(text, "xgw_rx_packets_total"));
	assert_true(has_line(text, "xgw_drops_total{reason=\"no_route\"} 0"));
	free(text);
	json_decref(st);

	st = json_object();
	text = xgw_metrics_render(st, NULL);
	assert_non_null(text);
	check_structure(text);
	free(text);
	json_decref(st);
}

/* ---- the listener --------------------------------------------------------- */

static int scrapes, inits, finis;

static json_t *fixed_stats(void *ctx)
{
	__atomic_fetch_add(&scrapes, 1, __ATOMIC_RELAXED);
	return ctx ? load_stats() : NULL;
}

static void count_init(void *ctx)
{
	__atomic_fetch_add(&inits, 1, __ATOMIC_RELAXED);
}

static void count_fini(void *ctx)
{
	__atomic_fetch_add(&finis, 1, __ATOMIC_RELAXED);
}

static const struct xgw_metrics_ops ops = {
    .stats = fixed_stats, .thread_init = count_init, .thread_fini = count_fini};

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_port(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Send req (len bytes), read the whole reply until EOF (bounded). */
static char *exchange(uint16_t port, const char *req, size_t len)
{
	int fd = connect_port(port);
	size_t cap = 1 << 16, got = 0;
	char *buf = malloc(cap + 1);
	long long end = ms_now() + 5000;

	assert_non_null(buf);
	if (len)
		assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		long long left = end - ms_now();
		ssize_t r;

		if (left <= 0)
			fail_msg("no complete reply within 5 s");
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		if (got == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
		r = recv(fd, buf + got, cap - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	close(fd);
	return buf;
}

static char *get(uint16_t port, const char *req)
{
	return exchange(port, req, strlen(req));
}

/* "HTTP/1.0 NNN " or "HTTP/1.1 NNN ": the server answers in the
 * request's version. */
static bool status_is(const char *reply, unsigned code)
{
	char want[8];

	snprintf(want, sizeof(want), " %u ", code);
	return !strncmp(reply, "HTTP/1.", 7) && (reply[7] == '0' || reply[7] == '1') &&
	       !strncmp(reply + 8, want, 5);
}

static void check_ok(const char *reply)
{
	const char *body = strstr(reply, "\r\n\r\n");
	unsigned long clen = 0;
	const char *cl = strstr(reply, "Content-Length: ");

	if (!status_is(reply, 200))
		fail_msg("not 200: %.80s", reply);
	assert_non_null(strstr(reply, "\r\nContent-Type: text/plain; version=0.0.4"));
	assert_non_null(body);
	assert_non_null(cl);
	clen = strtoul(cl + 16, NULL, 10);
	body += 4;
	assert_int_equal(strlen(body), clen);
	assert_true(
	    has_line(body, "xgw_rx_packets_total{port=\"client\",queue=\"0\",core=\"1\"} 10"));
	assert_true(has_line(body, "xgw_conntrack_entries 3"));
}

static void test_http(void **state)
{
	struct xgw_metrics *m = NULL;
	uint16_t port;
	char *r, big[XGW_METRICS_MAX_REQ + 100];

	assert_int_equal(xgw_metrics_start(&m, "127.0.0.1:0", &ops, (void *)1), 0);
	port = xgw_metrics_port(m);
	assert_true(port != 0);

	/* Many scrapers, one after another. */
	for (int i = 0; i < 20; i++) {
		r = get(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
		check_ok(r);
		free(r);
	}
	r = get(port, "GET /metrics?name[]=x HTTP/1.0\n\n");
	check_ok(r);
	free(r);

	r = get(port, "HEAD /metrics HTTP/1.0\r\n\r\n");
	assert_true(status_is(r, 200));
	assert_string_equal(strstr(r, "\r\n\r\n"), "\r\n\r\n"); /* no body */
	free(r);

	r = get(port, "GET / HTTP/1.0\r\n\r\n");
	assert_true(status_is(r, 404));
	free(r);
	r = get(port, "GET /metricsx HTTP/1.0\r\n\r\n");
	assert_true(status_is(r, 404));
	free(r);
	r = get(port, "POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
	assert_true(status_is(r, 405));
	assert_non_null(strstr(r, "\r\nAllow: GET, HEAD\r\n"));
	free(r);
	/* Not HTTP at all: libmicrohttpd hangs up without an answer. */
	r = get(port, "garbage\r\n\r\n");
	assert_true(!*r || status_is(r, 400));
	free(r);
	r = get(port, "GET /metrics FOO/1.0\r\n\r\n");
	assert_true(status_is(r, 400));
	free(r);

	/* Oversized head: refused without reading the rest. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.0\r\nX: ", 26);
	r = exchange(port, big, sizeof(big));
	assert_true(status_is(r, 431));
	free(r);

	/* A client that hangs up mid-request holds nothing up. */
	{
		int fd = connect_port(port);

		assert_int_equal(send(fd, "GET /met", 8, MSG_NOSIGNAL), 8);
		close(fd);
	}
	r = get(port, "GET /metrics HTTP/1.0\r\n\r\n");
	check_ok(r);
	free(r);

	/* Silent clients delay no scraper: served while they are connected,
	 * and each is dropped after the timeout. */
	{
		int idle[8];
		long long t0;
		char c;

		for (int i = 0; i < 8; i++)
			idle[i] = connect_port(port);
		t0 = ms_now();
		r = get(port, "GET /metrics HTTP/1.0\r\n\r\n");
		check_ok(r);
		free(r);
		assert_true(ms_now() - t0 < XGW_METRICS_TIMEOUT_MS);
		for (int i = 0; i < 8; i++) {
			struct pollfd p = {.fd = idle[i], .events = POLLIN};

			/* Hung up by the server (EOF) within the timeout and slack. */
			assert_int_equal(poll(&p, 1, XGW_METRICS_TIMEOUT_MS + 3000), 1);
			assert_int_equal(recv(idle[i], &c, 1, 0), 0);
			close(idle[i]);
		}
	}

	/* Stop does not wait for an idle client's timeout. */
	{
		int idle = connect_port(port);
		long long t0;

		usleep(100 * 1000); /* let the thread accept it */
		t0 = ms_now();
		xgw_metrics_stop(m);
		assert_true(ms_now() - t0 < 1000);
		close(idle);
	}
}

static void test_http_no_stats(void **state)
{
	struct xgw_metrics *m = NULL;
	char *r;
	int before = __atomic_load_n(&scrapes, __ATOMIC_RELAXED);

	assert_int_equal(xgw_metrics_start(&m, "127.0.0.1:0", &ops, NULL), 0);
	r = get(xgw_metrics_port(m), "GET /metrics HTTP/1.0\r\n\r\n");
	assert_true(status_is(r, 503));
	free(r);
	/* 404 without calling the hook. */
	r = get(xgw_metrics_port(m), "GET /other HTTP/1.0\r\n\r\n");
	assert_true(status_is(r, 404));
	free(r);
	assert_int_equal(__atomic_load_n(&scrapes, __ATOMIC_RELAXED), before + 1);
	xgw_metrics_stop(m);
	xgw_metrics_stop(NULL);
	/* The thread hooks ran once per listener, on its thread. */
	assert_int_equal(__atomic_load_n(&inits, __ATOMIC_RELAXED), 2);
	assert_int_equal(__atomic_load_n(&finis, __ATOMIC_RELAXED), 2);
}

static void test_listen_addresses(void **state)
{
	static const char *const bad[] = {"",
					  "nonsense",
					  "127.0.0.1",
					  "127.0.0.1:",
					  "127.0.0.1:65536",
					  "127.0.0.1:12x",
					  ":9100",
					  "::1:9100",
					  "[::1]9100",
					  "[127.0.0.1]:9100",
					  "[::1:9100",
					  "300.1.1.1:9100"};
	struct xgw_metrics *m = NULL, *m2 = NULL;
	int rc;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (xgw_metrics_start(&m, bad[i], &ops, NULL) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
	assert_null(m);

	/* A port in use is refused. */
	assert_int_equal(xgw_metrics_start(&m, "127.0.0.1:0", &ops, NULL), 0);
	{
		char addr[32];

		snprintf(addr, sizeof(addr), "127.0.0.1:%u", xgw_metrics_port(m));
		assert_int_equal(xgw_metrics_start(&m2, addr, &ops, NULL), -EADDRINUSE);
		assert_null(m2);
		/* Stopping gives the port back (the listener is closed). */
		xgw_metrics_stop(m);
		assert_int_equal(xgw_metrics_start(&m, addr, &ops, NULL), 0);
	}
	xgw_metrics_stop(m);

	/* IPv6 loopback where the host has it. */
	rc = xgw_metrics_start(&m, "[::1]:0", &ops, NULL);
	if (rc == -EADDRNOTAVAIL || rc == -EAFNOSUPPORT)
		return;
	assert_int_equal(rc, 0);
	assert_true(xgw_metrics_port(m) != 0);
	xgw_metrics_stop(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render),
	    cmocka_unit_test(test_render_sparse),
	    cmocka_unit_test(test_http),
	    cmocka_unit_test(test_http_no_stats),
	    cmocka_unit_test(test_listen_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
