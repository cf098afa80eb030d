/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer target over the whole user-space pipeline (pipeline/offline.h):
 * parse, verify, tunnel decap, conntrack + Maglev/SNAT/NAT, policy, tunnel
 * encap, forward, ICMP errors and echo replies; frames in, verdicts and
 * frames out.  The snapshot is a realistic one: TCP and UDP services over
 * IPv4 and IPv6 (Maglev, rr, SNAT), a VXLAN and a Geneve tunnel backend,
 * policy rules, static routes and neighbours.
 *
 * Input: a sequence of records, each
 *   [flags: bit 0 ingress port, bits 1-3 seconds to advance the clock]
 *   [length: 2 bytes big-endian] [frame bytes]
 * (a short last record takes what is left).  The first byte of the input
 * chooses the burst size: even, one frame per burst; odd, all at once
 * (later packets of a flow meet the burst's "absent" hints).  The data
 * plane is opened once (opening waits for RCU grace periods: ~60 ms); per
 * input, conntrack is flushed, the clock moved on by a day (whatever the
 * flush left is long expired), the worker's counters and its rr/random
 * state reset, so that a run depends on its input alone.
 *
 * Checked besides the sanitizers: every drop reason is a named one; every
 * transmitted frame lies inside its UMEM frame, leaves from a configured
 * port and parses; frames in = frames transmitted + frames dropped. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <urcu-qsbr.h>

#include "common/drop.h"
#include "common/log.h"
#include "common/pkt.h"
#include "ctl/config.h"
#include "lb/conntrack.h"
#include "pipeline/dataplane.h"
#include "pipeline/offline.h"
#include "pipeline/worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_FRAMES 64
#define N_FRAMES   256 /* UMEM frames: >= 2 * XGW_BURST_MAX */

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

/* The ports: "client" 198.18.1.1/24, "backend" 198.18.2.1/24 (tunnel
 * underlay too).  Maglev table small so that opening per input is cheap. */
static const char *const CONFIG =
    "{'ports': [{'name': 'client', 'iface': 'xgw-c', 'queues': [{'queue': 0, 'core': 0}]},"
    " {'name': 'backend', 'iface': 'xgw-b', 'queues': [{'queue': 0, 'core': 0}]}],"
    " 'conntrack': {'max_entries': 4096}, 'lb': {'maglev_size': 251},"
    " 'tunnel': {'local_ip': '198.18.2.1'},"
    " 'services': ["
    "  {'vip': '198.18.100.1', 'port': 80, 'proto': 'tcp', 'backends': ["
    "   {'ip': '198.18.2.10', 'port': 8080}, {'ip': '198.18.2.11', 'port': 8080},"
    "   {'ip': '198.18.2.12', 'port': 8080, 'weight': 0}]},"
    "  {'vip': '198.18.100.2', 'port': 53, 'proto': 'udp', 'algorithm': 'rr', 'backends': ["
    "   {'ip': '198.18.2.10', 'port': 5353}, {'ip': '198.18.2.11', 'port': 5353}]},"
    "  {'vip': '198.18.100.3', 'port': 80, 'proto': 'tcp', 'snat': true, 'backends': ["
    "   {'ip': '198.18.2.11', 'port': 8080}]},"
    "  {'vip': '198.18.100.4', 'port': 22, 'proto': 'tcp', 'backends': ["
    "   {'ip': '198.18.2.10', 'port': 22}]},"
    "  {'vip': '198.18.100.5', 'port': 80, 'proto': 'tcp', 'backends': ["
    "   {'ip': '198.18.4.10', 'port': 8080, 'tunnel': {'type': 'vxlan', 'remote':"
    "    '198.18.2.20', 'vni': 42, 'mac': '02:00:00:00:04:0a'}}]},"
    "  {'vip': '198.18.100.6', 'port': 80, 'proto': 'tcp', 'backends': ["
    "   {'ip': '198.18.4.11', 'port': 8080, 'tunnel': {'type': 'geneve', 'remote':"
    "    '198.18.2.20', 'vni': 43}}]},"
    "  {'vip': '2001:db8:100::1', 'port': 80, 'proto': 'tcp', 'backends': ["
    "   {'ip': '2001:db8:2::10', 'port': 8080}]},"
    "  {'vip': '2001:db8:100::2', 'port': 53, 'proto': 'udp', 'snat': true, 'backends': ["
    "   {'ip': '2001:db8:2::10', 'port': 5353}]}],"
    " 'routes': ["
    "  {'dst': '198.18.5.0/24', 'via': '198.18.2.2', 'port': 'backend'},"
    "  {'dst': '2001:db8:5::/64', 'via': '2001:db8:2::2', 'port': 'backend'}],"
    " 'neighbours': ["
    "  {'ip': '198.18.1.2', 'mac': '02:00:00:00:01:02', 'port': 'client'},"
    "  {'ip': '2001:db8:1::2', 'mac': '02:00:00:00:01:02', 'port': 'client'},"
    "  {'ip': '198.18.2.10', 'mac': '02:00:00:00:02:10', 'port': 'backend'},"
    "  {'ip': '198.18.2.11', 'mac': '02:00:00:00:02:11', 'port': 'backend'},"
    "  {'ip': '198.18.2.2', 'mac': '02:00:00:00:02:02', 'port': 'backend'},"
    "  {'ip': '198.18.2.20', 'mac': '02:00:00:00:02:20', 'port': 'backend'},"
    "  {'ip': '2001:db8:2::10', 'mac': '02:00:00:00:02:10', 'port': 'backend'},"
    "  {'ip': '2001:db8:2::2', 'mac': '02:00:00:00:02:02', 'port': 'backend'}],"
    " 'policies': ["
    "  {'action': 'deny', 'src': '198.18.1.0/24', 'dst': '198.18.100.4/32', 'proto': 'tcp',"
    "   'dport': '22'},"
    "  {'action': 'deny', 'dst': '198.18.5.0/24', 'proto': 'udp', 'dport': '9999'},"
    "  {'action': 'allow', 'src': '2001:db8::/32', 'proto': 'icmp'}]}";

static const char *const PORTS[] = {
    "client,02:00:00:00:00:10,198.18.1.1/24,2001:db8:1::1/64",
    "backend,02:00:00:00:00:11,198.18.2.1/24,2001:db8:2::1/64",
};

static struct xgw_config cfg;
static struct xgw_offline_port ports[2];
static struct xgw_offline *o;
static uint64_t epoch_ns = 1000000000ull;

struct tx_check {
	uint32_t n;
	const struct xgw_offline_frame *in;
	uint32_t n_in;
};

static void on_tx(void *arg, uint32_t idx, uint16_t port, const uint8_t *data, uint32_t len)
{
	struct tx_check *t = arg;
	uint8_t *copy;
	struct xgw_pkt p;

	t->n++;
	check(idx < t->n_in);
	check(port < 2);
	/* Inside one frame of the UMEM: the outer headers of a tunnel may
	 * take headroom, never more than the frame. */
	{
		const struct xgw_umem *u = &xgw_offline_worker(o)->umem;
		const uint8_t *area = u->area;
		size_t at = (size_t)(data - area), frame = at >> u->frame_shift;

		check(data >= area && at < u->size);
		check(at + len <= (frame + 1) << u->frame_shift);
	}
	check(len >= 14);
	/* Exact-size copy: ASan sees any read past what was transmitted. */
	copy = malloc(len);
	check(copy != NULL);
	memcpy(copy, data, len);
	memset(&p, 0, sizeof(p));
	p.data = copy;
	p.len = len;
	check(xgw_parse(&p) == XGW_DROP_NONE);
	free(copy);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char text[8192];
	char err[256];
	json_t *j;

	(void)argc;
	(void)argv;
	xgw_log_level = XGW_LOG_ERR;
	snprintf(text, sizeof(text), "%s", CONFIG);
	for (char *c = text; *c; c++)
		if (*c == '\'')
			*c = '"';
	j = json_loads(text, 0, NULL);
	if (!j || xgw_config_load_json(&cfg, j, err, sizeof(err))) {
		fprintf(stderr, "fuzz_pipeline: config: %s\n", j ? err : "JSON");
		abort();
	}
	json_decref(j);
	for (int i = 0; i < 2; i++)
		if (xgw_offline_port_parse(&ports[i], PORTS[i]))
			abort();
	o = xgw_offline_open(&cfg, ports, 2, N_FRAMES, 0x5eed, err, sizeof(err));
	if (!o) {
		fprintf(stderr, "fuzz_pipeline: offline: %s\n", err);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xgw_offline_frame fr[MAX_FRAMES];
	struct xgw_offline_counters c;
	struct xgw_worker *w = xgw_offline_worker(o);
	struct tx_check t = {0};
	uint64_t now, drops = 0;
	uint32_t n = 0, done;
	unsigned burst;
	size_t off = 1;

	if (!size)
		return 0;
	burst = data[0] & 1 ? XGW_BURST_MAX : 1;
	/* A fresh start: what the previous input left is flushed (and, should
	 * a record still wait for its grace period, expired a day ago). */
	xgw_ct_flush(w->dp->ct);
	epoch_ns += 86400ull * 1000000000ull;
	now = epoch_ns;
	memset(&w->st, 0, sizeof(w->st));
	memset(&w->lb, 0, sizeof(w->lb));
	xgw_lb_worker_init(&w->lb, 1);
	while (off < size && n < MAX_FRAMES) {
		uint8_t flags = data[off];
		size_t len = 0;

		if (size - off >= 3)
			len = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (off > size)
			off = size;
		if (len > size - off)
			len = size - off;
		now += (uint64_t)(flags >> 1 & 7) * 1000000000ull;
		fr[n] = (struct xgw_offline_frame){
		    .data = data + off, .len = (uint32_t)len, .port = flags & 1, .ts_ns = now};
		off += len;
		n++;
	}
	if (!n)
		return 0;
	t.in = fr;
	t.n_in = n;
	done = xgw_offline_run(o, fr, n, burst, on_tx, &t);
	xgw_offline_counters(o, &c);
	check(c.drops[XGW_DROP_NONE] == 0);
	for (unsigned r = 1; r < XGW_DROP__MAX; r++)
		drops += c.drops[r];
	/* Frames too long for a UMEM frame are counted (no_free_frame) and
	 * not processed; every other frame is either sent or dropped once.
	 * ICMP errors and echo replies are built in the input's frame. */
	check(done <= n);
	check(t.n + drops == n);
	check(c.forwarded == t.n);
	return 0;
}
