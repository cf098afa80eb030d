/* SPDX-License-Identifier: BSD-3-Clause */
/* xgwctl's command line -> request JSON, without a socket: each line of
 * DESIGN.md's CLI section and the errors for bad ones. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctl/xgwctl.h"

#define MAX_ARGV 32

/* Split a command line on spaces (no quoting needed by the cases). */
static int split(const char *line, char *buf, size_t len, char **argv)
{
	int argc = 0;

	snprintf(buf, len, "%s", line);
	argv[argc++] = "xgwctl";
	for (char *t = strtok(buf, " "); t && argc < MAX_ARGV - 1; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	return argc;
}

struct good_case {
	const char *line;
	const char *req; /* expected request, compared as JSON */
	bool json, watch;
};

static const struct good_case good[] = {
    {"service add 198.18.100.1:80/tcp",
     "{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"tcp\"}}",
     false, false},
    {"service add 198.18.100.1:80/tcp --datapath kernel --algo rr --snat",
     "{\"cmd\":\"service.add\",\"args\":{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"tcp\","
     "\"datapath\":\"kernel\",\"algorithm\":\"rr\",\"snat\":true}}",
     false, false},
    {"service add [2001:db8::1]:53/udp --datapath=user --algo=random",
     "{\"cmd\":\"service.add\",\"args\":{\"vip\":\"2001:db8::1\",\"port\":53,\"proto\":\"udp\","
     "\"datapath\":\"user\",\"algorithm\":\"random\"}}",
     false, false},
    {"service check 198.18.100.1:80/tcp --check http:/hz --fall 2 --on-down reset",
     "{\"cmd\":\"service.check\",\"args\":{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"tcp\","
     "\"check\":{\"type\":\"http\",\"path\":\"/hz\",\"fall\":2,\"on_down\":\"reset\"}}}",
     false, false},
    {"service del 198.18.100.1:80/tcp",
     "{\"cmd\":\"service.del\",\"args\":{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"tcp\"}}",
     false, false},
    {"service list", "{\"cmd\":\"service.list\",\"args\":{}}", false, false},
    {"service list --json", "{\"cmd\":\"service.list\",\"args\":{}}", true, false},
    {"service list --limit 10", "{\"cmd\":\"service.list\",\"args\":{\"limit\":10}}", false, false},
    {"backend list", "{\"cmd\":\"backend.list\",\"args\":{}}", false, false},
    {"backend list 198.18.100.1:80/tcp --json",
     "{\"cmd\":\"backend.list\",\"args\":{\"service\":{\"vip\":\"198.18.100.1\",\"port\":80,"
     "\"proto\":\"tcp\"}}}",
     true, false},
    {"backend add 198.18.100.1:80/tcp 198.18.2.10:8080",
     "{\"cmd\":\"backend.add\",\"args\":{\"service\":{\"vip\":\"198.18.100.1\",\"port\":80,"
     "\"proto\":\"tcp\"},\"backend\":{\"ip\":\"198.18.2.10\",\"port\":8080}}}",
     false, false},
    {"backend add 198.18.100.1:80/tcp 198.18.4.10:8080 --weight 3 --vxlan 198.18.3.2 --vni 42 "
     "--inner-mac 02:00:00:00:04:0a",
     "{\"cmd\":\"backend.add\",\"args\":{\"service\":{\"vip\":\"198.18.100.1\",\"port\":80,"
     "\"proto\":\"tcp\"},\"backend\":{\"ip\":\"198.18.4.10\",\"port\":8080,\"weight\":3,"
     "\"tunnel\":{\"type\":\"vxlan\",\"remote\":\"198.18.3.2\",\"vni\":42,"
     "\"mac\":\"02:00:00:00:04:0a\"}}}}",
     false, false},
    {"backend add 198.18.100.1:80/tcp 198.18.4.10:8080 --geneve 198.18.3.2 --vni 0 --weight 0",
     "{\"cmd\":\"backend.add\",\"args\":{\"service\":{\"vip\":\"198.18.100.1\",\"port\":80,"
     "\"proto\":\"tcp\"},\"backend\":{\"ip\":\"198.18.4.10\",\"port\":8080,\"weight\":0,"
     "\"tunnel\":{\"type\":\"geneve\",\"remote\":\"198.18.3.2\",\"vni\":0}}}}",
     false, false},
    {"backend del [2001:db8::1]:80/tcp [2001:db8::a]:8080",
     "{\"cmd\":\"backend.del\",\"args\":{\"service\":{\"vip\":\"2001:db8::1\",\"port\":80,"
     "\"proto\":\"tcp\"},\"backend\":{\"ip\":\"2001:db8::a\",\"port\":8080}}}",
     false, false},
    {"policy add deny --src 198.18.0.0/24 --dst 198.18.100.1/32 --proto tcp --dport 22",
     "{\"cmd\":\"policy.add\",\"args\":{\"action\":\"deny\",\"src\":\"198.18.0.0/24\","
     "\"dst\":\"198.18.100.1/32\",\"proto\":\"tcp\",\"dport\":\"22\"}}",
     false, false},
    {"policy add allow --proto udp --dport 1000-2000",
     "{\"cmd\":\"policy.add\",\"args\":{\"action\":\"allow\",\"proto\":\"udp\","
     "\"dport\":\"1000-2000\"}}",
     false, false},
    {"policy add allow", "{\"cmd\":\"policy.add\",\"args\":{\"action\":\"allow\"}}", false, false},
    {"policy del 7", "{\"cmd\":\"policy.del\",\"args\":{\"id\":7}}", false, false},
    {"policy list --json", "{\"cmd\":\"policy.list\"}", true, false},
    {"steer add --dst 198.18.2.2 --proto udp --dport 7000",
     "{\"cmd\":\"steer.add\",\"args\":{\"dst\":\"198.18.2.2\",\"proto\":\"udp\",\"dport\":7000}}",
     false, false},
    {"steer add --dst 198.18.6.0/24",
     "{\"cmd\":\"steer.add\",\"args\":{\"dst\":\"198.18.6.0/24\"}}", false, false},
    {"steer del 3", "{\"cmd\":\"steer.del\",\"args\":{\"id\":3}}", false, false},
    {"steer list", "{\"cmd\":\"steer.list\"}", false, false},
    {"route list", "{\"cmd\":\"route.list\",\"args\":{}}", false, false},
    {"route list --limit 0", "{\"cmd\":\"route.list\",\"args\":{\"limit\":0}}", false, false},
    {"ct list", "{\"cmd\":\"ct.list\",\"args\":{}}", false, false},
    {"ct list --json --limit 50", "{\"cmd\":\"ct.list\",\"args\":{\"limit\":50}}", true, false},
    {"ct flush", "{\"cmd\":\"ct.flush\"}", false, false},
    {"stats", "{\"cmd\":\"stats\"}", false, false},
    {"stats --json", "{\"cmd\":\"stats\"}", true, false},
    {"stats --watch", "{\"cmd\":\"stats\"}", false, true},
    {"workers", "{\"cmd\":\"stats\"}", false, false},
    {"workers --interval 0.5 --json", "{\"cmd\":\"stats\"}", true, false},
    {"ports --json", "{\"cmd\":\"ports\"}", true, false},
    {"config get", "{\"cmd\":\"config.get\"}", false, false},
    {"help", "{\"cmd\":\"help\"}", false, false},
    {"call service.list", "{\"cmd\":\"service.list\"}", false, false},
    {"call ct.list {\"limit\":3}", "{\"cmd\":\"ct.list\",\"args\":{\"limit\":3}}", false, false},
    {"-s /tmp/x.sock service list", "{\"cmd\":\"service.list\",\"args\":{}}", false, false},
    {"--json ports", "{\"cmd\":\"ports\"}", true, false},
};

static void test_good(void **state)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char buf[512], err[256] = "";
		char *argv[MAX_ARGV];
		int argc = split(good[i].line, buf, sizeof(buf), argv);
		struct xgwctl_inv inv;
		json_t *want = json_loads(good[i].req, 0, NULL);

		assert_non_null(want);
		if (xgwctl_parse(argc, argv, &inv, err, sizeof(err)))
			fail_msg("'%s' refused: %s", good[i].line, err);
		if (!json_equal(inv.req, want)) {
			char *got = json_dumps(inv.req, JSON_COMPACT);

			fail_msg("'%s':\n  got      %s\n  expected %s", good[i].line, got,
				 good[i].req);
		}
		assert_false(inv.usage);
		assert_non_null(inv.cmd);
		if (inv.json != good[i].json || inv.watch != good[i].watch)
			fail_msg("'%s': json=%d watch=%d", good[i].line, inv.json, inv.watch);
		json_decref(want);
		xgwctl_inv_free(&inv);
	}
}

static void test_socket_and_usage(void **state)
{
	char buf[256], err[256];
	char *argv[MAX_ARGV];
	struct xgwctl_inv inv;
	int argc;

	argc = split("stats", buf, sizeof(buf), argv);
	assert_int_equal(xgwctl_parse(argc, argv, &inv, err, sizeof(err)), 0);
	assert_string_equal(inv.socket, "/run/xgw/xgw.sock");
	xgwctl_inv_free(&inv);

	argc = split("-s /tmp/a.sock ports", buf, sizeof(buf), argv);
	assert_int_equal(xgwctl_parse(argc, argv, &inv, err, sizeof(err)), 0);
	assert_string_equal(inv.socket, "/tmp/a.sock");
	xgwctl_inv_free(&inv);

	/* -s is taken after the command too, as operators type it. */
	argc = split("ports -s /tmp/b.sock", buf, sizeof(buf), argv);
	assert_int_equal(xgwctl_parse(argc, argv, &inv, err, sizeof(err)), 0);
	assert_string_equal(inv.socket, "/tmp/b.sock");
	xgwctl_inv_free(&inv);

	argc = split("", buf, sizeof(buf), argv);
	assert_int_equal(xgwctl_parse(argc, argv, &inv, err, sizeof(err)), 0);
	assert_true(inv.usage);
	xgwctl_inv_free(&inv);

	argc = split("--help", buf, sizeof(buf), argv);
	assert_int_equal(xgwctl_parse(argc, argv, &inv, err, sizeof(err)), 0);
	assert_true(inv.usage);
	xgwctl_inv_free(&inv);

	argc = split("backend add -h", buf, sizeof(buf), argv);
	assert_int_equal(xgwctl_parse(argc, argv, &inv, err, sizeof(err)), 0);
	assert_true(inv.usage);
	xgwctl_inv_free(&inv);
}

struct bad_case {
	const char *line;
	const char *error;
};

static const struct bad_case bad[] = {
    {"frobnicate", "unknown command 'frobnicate'"},
    {"workers --interval 0", "workers: --interval: expected seconds, 0.1 to 60"},
    {"workers --interval x", "workers: --interval: expected seconds, 0.1 to 60"},
    {"service", "service: unknown or missing subcommand"},
    {"service frob", "service: unknown or missing subcommand frob"},
    {"--bogus stats", "unknown option '--bogus'"},
    {"-s", "-s needs a PATH"},
    {"service add", "service add: missing argument; usage: xgwctl service add IP:PORT/PROTO"},
    {"service check 198.18.100.1:80/tcp --check tcp --on-down drop", "--on-down"},
    {"service add 198.18.100.1:80/tcp --on-down reset", "--on-down needs --check"},
    {"service add 198.18.100.1:80", "service add: bad service '198.18.100.1:80'"},
    {"service add 198.18.100.1/tcp", "bad service"},
    {"service add 198.18.100.1:0/tcp", "bad service"},
    {"service add 198.18.100.1:65536/tcp", "bad service"},
    {"service add 198.18.100.1:80/sctp", "bad service"},
    {"service add 2001:db8::1:80/tcp", "bad service"},
    {"service add 198.18.100.300:80/tcp", "bad service"},
    {"service add 198.18.100.1:80/tcp --datapath dpdk",
     "service add: --datapath: expected user|kernel, got 'dpdk'"},
    {"service add 198.18.100.1:80/tcp --algo", "service add: --algo needs a value"},
    {"service add 198.18.100.1:80/tcp --algo wrr", "--algo: expected maglev|rr|random"},
    {"service add 198.18.100.1:80/tcp --snat=yes", "--snat takes no value"},
    {"service add 198.18.100.1:80/tcp --snat --snat", "--snat given twice"},
    {"service add 198.18.100.1:80/tcp --weight 3", "service add: unknown option '--weight'"},
    {"service add 198.18.100.1:80/tcp 198.18.100.2:80/tcp", "unexpected argument"},
    {"service del", "service del: missing argument"},
    {"service list extra", "service list: unexpected argument 'extra'"},
    {"backend add 198.18.100.1:80/tcp", "backend add: missing argument"},
    {"backend add 198.18.100.1:80/tcp 198.18.2.10", "backend add: bad backend '198.18.2.10'"},
    {"backend add 198.18.100.1:80/tcp 198.18.2.10:0", "bad backend"},
    {"backend add 198.18.100.1:80/tcp 198.18.2.10:8080 --weight -1", "--weight: expected a number"},
    {"backend add 198.18.100.1:80/tcp 198.18.2.10:8080 --weight x1", "--weight: expected a number"},
    {"backend add 198.18.100.1:80/tcp 198.18.2.10:8080 --vni 4", "--vni needs --vxlan or --geneve"},
    {"backend add 198.18.100.1:80/tcp 198.18.2.10:8080 --vxlan 198.18.3.2",
     "--vxlan needs --vni N"},
    {"backend add 198.18.100.1:80/tcp 198.18.2.10:8080 --vxlan 198.18.3.2 --geneve 198.18.3.2 "
     "--vni 1",
     "--vxlan and --geneve exclude each other"},
    {"backend add 198.18.100.1:80/tcp 198.18.2.10:8080 --vxlan 198.18.3 --vni 1",
     "--vxlan: bad IP address '198.18.3'"},
    {"backend add 198.18.100.1:80/tcp 198.18.2.10:8080 --vxlan 198.18.3.2 --vni 16777216",
     "--vni: expected a number in 0..16777215"},
    {"backend add 198.18.100.1:80/tcp 198.18.2.10:8080 --vxlan 198.18.3.2 --vni 1 --inner-mac "
     "02:00:00:00:04",
     "--inner-mac: expected xx:xx:xx:xx:xx:xx"},
    {"backend add 198.18.100.1:80/tcp 198.18.2.10:8080 --inner-mac 02:00:00:00:04:0a",
     "--inner-mac needs --vxlan or --geneve"},
    {"backend del 198.18.100.1:80/tcp", "backend del: missing argument"},
    {"policy add", "policy add: missing argument"},
    {"policy add reject", "policy add: action: expected deny|allow, got 'reject'"},
    {"policy add deny --src 198.18.0.1/24", "--src: bad prefix '198.18.0.1/24'"},
    {"policy add deny --dst 198.18.0.0/33", "--dst: bad prefix"},
    {"policy add deny --proto sctp", "--proto: expected tcp|udp|icmp, got 'sctp'"},
    {"policy add deny --dport 0", "--dport: expected N or N-M within 1..65535"},
    {"policy add deny --dport 20-10", "--dport: expected N or N-M"},
    {"policy add deny --dport 70000", "--dport: expected N or N-M"},
    {"policy add deny --dport 1-", "--dport: expected N or N-M"},
    {"policy del x", "policy del: ID: expected a number in 1..4294967295, got 'x'"},
    {"policy del 0", "policy del: ID: expected a number"},
    {"policy del 99999999999", "policy del: ID: expected a number"},
    {"steer add", "steer add: --dst IP[/LEN] is required"},
    {"steer add --dst 198.18.2.2/40", "--dst: bad prefix"},
    {"steer add --dst 198.18.2.2 --proto icmp", "--proto: expected tcp|udp, got 'icmp'"},
    {"steer add --dst 198.18.2.2 --dport 0", "--dport: expected a number in 1..65535"},
    {"steer add 198.18.2.2", "steer add: unexpected argument '198.18.2.2'"},
    {"steer del", "steer del: missing argument"},
    {"ct list --limit -5", "ct list: --limit: expected a number"},
    {"ct list --limit many", "--limit: expected a number"},
    {"route list --limit x", "route list: --limit: expected a number"},
    {"ct flush --all", "ct flush: unknown option '--all'"},
    {"ports --watch", "ports: unknown option '--watch'"},
    {"call", "call: missing argument"},
    {"call ct.list [1]", "call: ARGS must be a JSON object"},
};

static void test_bad(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[512], err[256] = "";
		char *argv[MAX_ARGV];
		int argc = split(bad[i].line, buf, sizeof(buf), argv);
		struct xgwctl_inv inv;
		int ret = xgwctl_parse(argc, argv, &inv, err, sizeof(err));

		if (ret == 0)
			fail_msg("'%s' accepted", bad[i].line);
		if (!strstr(err, bad[i].error))
			fail_msg("'%s':\n  got      %s\n  expected %s", bad[i].line, err,
				 bad[i].error);
		xgwctl_inv_free(&inv);
	}
}

/* The table formatters survive missing fields and the rates come from
 * counter differences. */
/* xgwctl workers: the load between two stats documents 2 s apart, with
 * a 1 GHz counter: 0.5e9 busy ticks in 2 s is 25 %; 12,800 packets in 200
 * bursts, 64 per burst, 39,062.5 ticks each. */
static void test_load(void **state)
{
	json_t *prev = json_loads("{\"tsc_hz\":1000000000,\"workers\":[{\"id\":0,\"core\":1,"
				  "\"busy_cycles\":1000,\"rx_packets\":100,\"bursts\":10,"
				  "\"empty_polls\":5,\"idle_sleeps\":0}]}",
				  0, NULL);
	json_t *cur = json_loads("{\"tsc_hz\":1000000000,\"workers\":[{\"id\":0,\"core\":1,"
				 "\"busy_cycles\":500001000,\"rx_packets\":12900,\"bursts\":210,"
				 "\"empty_polls\":1805,\"idle_sleeps\":4}]}",
				 0, NULL);
	json_t *load = xgwctl_load(prev, cur, 2.0), *w;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(json_array_size(load), 1);
	w = json_array_get(load, 0);
	assert_float_equal(json_real_value(json_object_get(w, "busy_pct")), 25.0, 1e-9);
	assert_float_equal(json_real_value(json_object_get(w, "pkts_per_burst")), 64.0, 1e-9);
	assert_float_equal(json_real_value(json_object_get(w, "cycles_per_pkt")), 39062.5, 1e-9);
	assert_float_equal(json_real_value(json_object_get(w, "rx_pps")), 6400.0, 1e-9);
	assert_float_equal(json_real_value(json_object_get(w, "polls_per_s")), 1000.0, 1e-9);
	assert_float_equal(json_real_value(json_object_get(w, "sleeps_per_s")), 2.0, 1e-9);
	f = open_memstream(&out, &len);
	xgwctl_fmt_load(f, load);
	fclose(f);
	assert_non_null(strstr(out, "BUSY%"));
	assert_non_null(strstr(out, "25.0"));
	assert_non_null(strstr(out, "39062"));
	free(out);
	json_decref(load);
	/* No previous reading (or an idle worker): zeros, not a division by 0. */
	load = xgwctl_load(NULL, cur, 0);
	w = json_array_get(load, 0);
	assert_float_equal(json_real_value(json_object_get(w, "busy_pct")), 0.0, 0);
	assert_float_equal(json_real_value(json_object_get(w, "cycles_per_pkt")), 0.0, 0);
	json_decref(load);
	json_decref(prev);
	json_decref(cur);
}

/* The CONNS/S column of a service's row in stats --watch's table. */
static int conns_per_s(const char *out, const char *svc)
{
	const char *row = strstr(out, svc);
	int v = -1;

	assert_non_null(row);
	assert_int_equal(sscanf(row, "%*s %*s %d", &v), 1);
	return v;
}

static void test_format(void **state)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	json_t *prev = json_loads(
	    "{\"ports\":[{\"name\":\"client\",\"queues\":[{\"queue\":0,\"core\":1,"
	    "\"rx_packets\":1000,\"rx_bytes\":64000,\"tx_packets\":0,\"tx_bytes\":0}]}],"
	    "\"workers\":[{\"id\":0,\"core\":1,\"rx_packets\":1000,\"drops\":{\"a\":1}}]}",
	    0, NULL);
	json_t *cur = json_loads(
	    "{\"ports\":[{\"name\":\"client\",\"queues\":[{\"queue\":0,\"core\":1,"
	    "\"rx_packets\":3000,\"rx_bytes\":192000,\"tx_packets\":0,\"tx_bytes\":0}]}],"
	    "\"workers\":[{\"id\":0,\"core\":1,\"rx_packets\":3000,\"drops\":{\"a\":5}}]}",
	    0, NULL);
	json_t *odd = json_loads("[{\"vip\":\"198.18.100.1\"},{}, 5]", 0, NULL);

	assert_non_null(f);
	xgwctl_fmt_rates(f, prev, cur, 2.0);
	xgwctl_fmt_services(f, odd);
	xgwctl_fmt_policies(f, odd);
	xgwctl_fmt_ct(f, odd);
	xgwctl_fmt_ports(f, odd);
	xgwctl_fmt_stats(f, odd);
	xgwctl_fmt_stats(f, cur);
	fclose(f);
	/* 2000 packets and 128000 bytes over 2 s: 1000 pps, 0.51 Mbit/s. */
	assert_non_null(strstr(out, "1000"));
	assert_non_null(strstr(out, "0.51"));
	/* Drops went from 1 to 5 in 2 s. */
	assert_non_null(strstr(out, "DROPS/S"));
	/* The worker counters (common/counters.h), by name. */
	assert_non_null(strstr(out, "WORKER_COUNTER"));
	assert_non_null(strstr(out, "icmp_echo_replies"));
	free(out);
	json_decref(prev);
	json_decref(cur);
	json_decref(odd);

	/* Per-service rates: 300 connections and 7000 packets in over 2 s. */
	prev = json_loads("{\"services\":[{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"tcp\","
			  "\"conns_new\":100,\"pkts_in\":1000,\"conns_active\":9}]}",
			  0, NULL);
	cur = json_loads("{\"services\":[{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"tcp\","
			 "\"conns_new\":700,\"pkts_in\":15000,\"conns_active\":42}]}",
			 0, NULL);
	f = open_memstream(&out, &len);
	xgwctl_fmt_rates(f, prev, cur, 2.0);
	fclose(f);
	assert_non_null(strstr(out, "198.18.100.1:80/tcp"));
	assert_non_null(strstr(out, " 42 "));
	assert_non_null(strstr(out, " 300 "));
	assert_non_null(strstr(out, " 7000 "));
	free(out);
	json_decref(prev);
	json_decref(cur);

	/* Each service against its own previous reading, whatever the order;
	 * a new one (no previous reading) shows 0. */
	prev = json_loads("{\"services\":[{\"vip\":\"198.18.100.2\",\"port\":443,\"proto\":\"tcp\","
			  "\"conns_new\":10},{\"vip\":\"198.18.100.2\",\"port\":443,\"proto\":"
			  "\"udp\",\"conns_new\":1000},{\"vip\":\"198.18.100.1\",\"port\":80,"
			  "\"proto\":\"tcp\",\"conns_new\":100}]}",
			  0, NULL);
	cur = json_loads("{\"services\":[{\"vip\":\"198.18.100.1\",\"port\":80,\"proto\":\"tcp\","
			 "\"conns_new\":700},{\"vip\":\"198.18.100.2\",\"port\":443,\"proto\":"
			 "\"tcp\",\"conns_new\":50},{\"vip\":\"198.18.100.3\",\"port\":80,"
			 "\"proto\":\"tcp\",\"conns_new\":999}]}",
			 0, NULL);
	f = open_memstream(&out, &len);
	xgwctl_fmt_rates(f, prev, cur, 2.0);
	fclose(f);
	assert_int_equal(conns_per_s(out, "198.18.100.1:80/tcp "), 300);
	assert_int_equal(conns_per_s(out, "198.18.100.2:443/tcp "), 20);
	assert_int_equal(conns_per_s(out, "198.18.100.3:80/tcp "), 0);
	free(out);
	json_decref(prev);
	json_decref(cur);
}

/* xgwctl -f: a file of command lines becomes requests, comments, blank
 * lines and quotes handled; a bad line is named by file and line. */
static void test_file(void **state)
{
	static const char good_file[] =
	    "# services\n"
	    "\n"
	    "service add 198.18.100.1:80/tcp\n"
	    "  backend add 198.18.100.1:80/tcp 198.18.2.10:8080 --weight 2  # a comment\n"
	    "policy add deny --src '198.18.0.0/24'\n";
	static const char bad_file[] = "service add 198.18.100.1:80/tcp\n"
				       "\n"
				       "backend add 198.18.100.1:80/tcp nonsense\n";
	json_t *reqs, *lines;
	char err[256];
	FILE *f = fmemopen((void *)good_file, sizeof(good_file) - 1, "r");

	assert_int_equal(xgwctl_file_requests(f, "good.txt", &reqs, &lines, err, sizeof(err)), 0);
	fclose(f);
	assert_int_equal(json_array_size(reqs), 3);
	assert_int_equal(json_integer_value(json_array_get(lines, 1)), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(reqs, 1), "cmd")),
			    "backend.add");
	assert_int_equal(
	    json_integer_value(json_object_get(
		json_object_get(json_object_get(json_array_get(reqs, 1), "args"), "backend"),
		"weight")),
	    2);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(json_array_get(reqs, 2), "args"), "src")),
			    "198.18.0.0/24");
	json_decref(reqs);
	json_decref(lines);
	f = fmemopen((void *)bad_file, sizeof(bad_file) - 1, "r");
	assert_int_equal(xgwctl_file_requests(f, "bad.txt", &reqs, &lines, err, sizeof(err)),
			 -EINVAL);
	fclose(f);
	assert_null(reqs);
	assert_non_null(strstr(err, "bad.txt:3: backend add"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good), cmocka_unit_test(test_socket_and_usage),
	    cmocka_unit_test(test_bad),	 cmocka_unit_test(test_format),
	    cmocka_unit_test(test_file), cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
