/* SPDX-License-Identifier: BSD-3-Clause */
/* The kernel datapath's packets in a trace or capture: the XDP program's
 * records (struct xgw_kdp_trace, steer-bpf/kern_trace.h) read from its
 * ringbuf when the session is read, and taken into the session's ring as
 * the workers' records are: the same filter, port, direction and count,
 * the same text.  The program emits every kernel packet while a session
 * runs; what the session does not want is dropped here. */
#include <linux/bpf.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/drop.h"
#include "lb/conntrack.h"
#include "pipeline/kdp.h"
#include "pipeline/tap.h"
#include "pipeline/tap_filter.h"
#include "pipeline/tap_text.h"
#include "pipeline/worker.h"
#include "steer-bpf/kdp_maps.h"

struct take {
	struct xgw_dataplane *dp;
	struct xgw_tap *t;
	uint64_t mono, real; /* now on both clocks: the records' times */
};

static uint64_t now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int port_of(const struct xgw_dataplane *dp, uint32_t ifindex)
{
	for (unsigned i = 0; i < dp->n_ports; i++)
		if (dp->ports[i].ifindex == (int)ifindex)
			return (int)i;
	return -1;
}

static const char *port_name(const struct xgw_dataplane *dp, int port)
{
	return port >= 0 ? dp->ports[port].name : "?";
}

/* A snapped frame parsed as if whole (the payload not held reads as
 * zeros), so that lengths check against the true length. */
static void view_snap(struct view *v, const uint8_t *data, uint32_t cap, uint32_t len)
{
	static uint8_t buf[sizeof(v->buf)];

	if (len > sizeof(buf))
		len = sizeof(buf);
	if (cap > len)
		cap = len;
	memset(buf, 0, len);
	memcpy(buf, data, cap);
	tap_view(v, buf, len);
}

static bool ev(const struct xgw_kdp_trace *r, unsigned cnt)
{
	return r->events & (1u << cnt);
}

/* Why the program handed a packet on (kern_kdp.h's list), from the frame. */
static const char *punt_reason(const struct xgw_kdp_trace *r)
{
	const uint8_t *f = r->in;
	uint16_t et;

	if (r->cap_in < 14 + 20)
		return "not handled in XDP";
	et = (uint16_t)(f[12] << 8 | f[13]);
	if (et == 0x8100 || et == 0x88a8)
		return "VLAN tag";
	if (et == 0x0800) {
		if ((f[14] & 15) != 5)
			return "IPv4 options";
		if ((f[20] << 8 | f[21]) & 0x3fff)
			return "fragment";
		if (f[22] <= 1)
			return "TTL would expire";
		if (f[23] == IPPROTO_ICMP)
			return "ICMP other than echo request or a known connection's error";
	} else if (et == 0x86dd && r->cap_in >= 14 + 40) {
		if (f[20] != IPPROTO_TCP && f[20] != IPPROTO_UDP && f[20] != IPPROTO_ICMPV6)
			return "IPv6 extension headers";
		if (f[21] <= 1)
			return "hop limit would expire";
		if (f[20] == IPPROTO_ICMPV6)
			return "ICMPv6 other than echo request or a known connection's error";
	}
	return "not handled in XDP";
}

static void trace_text(struct take *k, const struct xgw_kdp_trace *r, struct text *tx)
{
	static struct view before, after;
	const struct xgw_dataplane *dp = k->dp;
	int port = port_of(dp, r->ifindex);
	bool sent = r->verdict == XDP_TX || r->verdict == XDP_REDIRECT;
	bool encap = ev(r, XGW_KDP_CNT_VXLAN_ENCAP) || ev(r, XGW_KDP_CNT_GENEVE_ENCAP);

	view_snap(&before, r->in, r->cap_in, r->len_in);
	view_snap(&after, r->out, r->cap_out, r->len_out);
	tap_put(tx, "port %s queue %u, %u bytes, datapath kernel\n", port_name(dp, port),
		r->rx_queue, r->len_in);
	if (before.rc) {
		tap_put(tx, "  parse      %s\n", xgw_drop_name((unsigned)before.rc));
	} else {
		tap_put(tx, "  parse      ");
		tap_put_flow(tx, &before);
		tap_put(tx, "\n");
	}
	if (ev(r, XGW_KDP_CNT_VXLAN_DECAP) || ev(r, XGW_KDP_CNT_GENEVE_DECAP))
		tap_put(tx, "  decap      %s\n",
			ev(r, XGW_KDP_CNT_VXLAN_DECAP) ? "vxlan" : "geneve");
	if (r->svc && !before.rc) { /* the VIP's service, in the kernel datapath */
		tap_put(tx, "  service    ");
		tap_put_ep(tx, &before.dst, before.p.dport, true);
		tap_put(tx, "/%s (kernel datapath)\n", xgw_proto_name(before.p.l4_proto));
	}
	if (r->ct == XGW_KDP_TR_CT_NEW) {
		tap_put(tx, "  conntrack  new, %s\n", xgw_ct_state_name(r->state_after));
	} else if (r->ct) {
		tap_put(tx, "  conntrack  hit (%s), %s -> %s\n",
			r->ct == XGW_KDP_TR_CT_ORIG ? "original" : "reply",
			xgw_ct_state_name(r->state_before), xgw_ct_state_name(r->state_after));
	} else if (r->parsed && r->svc) {
		tap_put(tx, "  conntrack  none (new connection refused)\n");
	}
	if (r->ct) {
		struct xgw_addr be = {.family = r->be_family};

		memcpy(&be.b, r->be_addr, r->be_family == AF_INET6 ? 16 : 4);
		tap_put(tx, "  backend    ");
		tap_put_ep(tx, &be, r->be_port, true);
		tap_put(tx, "\n");
	}
	if (sent && !encap && !before.rc && !after.rc &&
	    (!xgw_addr_eq(&before.src, &after.src) || !xgw_addr_eq(&before.dst, &after.dst) ||
	     before.p.sport != after.p.sport || before.p.dport != after.p.dport)) {
		tap_put(tx, "  nat        ");
		tap_put_flow(tx, &after);
		tap_put(tx, "\n");
	}
	if (encap && !after.rc) {
		char s[XGW_ADDR_STRLEN];
		const uint8_t *h = after.p.data + after.p.payload_off;

		tap_put(tx, "  encap      %s to %s",
			ev(r, XGW_KDP_CNT_VXLAN_ENCAP) ? "vxlan" : "geneve",
			xgw_addr_str(&after.dst, s, sizeof(s)));
		if ((uint32_t)after.p.payload_off + 8 <= r->cap_out)
			tap_put(tx, " vni %u", (unsigned)h[4] << 16 | (unsigned)h[5] << 8 | h[6]);
		tap_put(tx, "\n");
	}
	if (sent) {
		int out = r->verdict == XDP_TX ? port : port_of(dp, r->out_ifindex);

		tap_put(tx, "  route      %s port %s, dst mac ",
			r->verdict == XDP_TX ? "XDP_TX," : "redirect to", port_name(dp, out));
		tap_put_mac(tx, r->out);
		tap_put(tx, "\n");
	}
	if (r->verdict == XDP_DROP)
		tap_put(tx, "  verdict    dropped: %s\n", xgw_drop_name(r->drop));
	else if (r->verdict == XDP_PASS)
		tap_put(tx, "  verdict    passed to the kernel stack%s\n",
			ev(r, XGW_KDP_CNT_PASS_NEIGH) ? " (no neighbour yet: it resolves)" : "");
	else if (r->verdict < 0)
		tap_put(tx, "  verdict    handed on to the user-space workers: %s\n",
			punt_reason(r));
	else if (ev(r, XGW_KDP_CNT_ICMP_ECHO))
		tap_put(tx, "  verdict    ICMP echo reply sent\n");
	else if (ev(r, XGW_KDP_CNT_ICMP_ERR))
		tap_put(tx, "  verdict    ICMP error translated and forwarded\n");
	else
		tap_put(tx, "  verdict    forwarded\n");
}

static void capture(struct take *k, int port, unsigned dir, const uint8_t *data, uint32_t cap,
		    uint32_t len, uint64_t ts)
{
	struct xgw_tap *t = k->t;
	struct xgw_tap_rec *rec;

	if (!(t->dirs & dir) || (t->port >= 0 && port != t->port) || !cap)
		return;
	rec = xgw_tap_claim(t, -1);
	if (!rec)
		return;
	rec->ts_ns = ts;
	rec->dir = (uint8_t)dir;
	rec->port = port >= 0 ? (uint16_t)port : UINT16_MAX;
	rec->wirelen = len;
	rec->len = cap < XGW_TAP_DATA ? cap : XGW_TAP_DATA;
	memcpy(rec->data, data, rec->len);
	xgw_tap_publish(rec);
}

static void take_one(void *ctx, const struct xgw_kdp_trace *r)
{
	struct take *k = ctx;
	struct xgw_tap *t = k->t;
	struct xgw_tap_rec *rec;
	uint64_t ts = k->real - (k->mono > r->ts_ns ? k->mono - r->ts_ns : 0);
	uint32_t cap = r->cap_in < XGW_KDP_TRACE_SNAP ? r->cap_in : XGW_KDP_TRACE_SNAP;

	if (atomic_load_explicit(&t->claimed, memory_order_relaxed) >= t->count)
		return;
	if (t->filter && !xgw_tap_filter_match(t->filter, r->in, cap))
		return;
	if (t->mode == XGW_TAP_CAPTURE) {
		int port = port_of(k->dp, r->ifindex);
		int out = r->verdict == XDP_TX ? port : port_of(k->dp, r->out_ifindex);

		capture(k, port, XGW_TAP_DIR_RX, r->in, cap, r->len_in, ts);
		if (r->verdict == XDP_TX || r->verdict == XDP_REDIRECT)
			capture(k, out, XGW_TAP_DIR_TX, r->out,
				r->cap_out < XGW_KDP_TRACE_SNAP ? r->cap_out : XGW_KDP_TRACE_SNAP,
				r->len_out, ts);
		return;
	}
	rec = xgw_tap_claim(t, -1);
	if (!rec)
		return;
	rec->ts_ns = ts;
	struct text tx = {(char *)rec->data, 0, XGW_TAP_DATA};
	trace_text(k, r, &tx);
	rec->len = (uint32_t)tx.len;
	xgw_tap_publish(rec);
}

void xgw_tap_kdp_take(struct xgw_dataplane *dp, struct xgw_tap *t)
{
	struct take k = {dp, t, now_ns(CLOCK_MONOTONIC), now_ns(CLOCK_REALTIME)};

	if (!dp->kdp)
		return;
	xgw_kdp_trace_poll(dp->kdp, take_one, &k);
	/* Count taken: the program need not make more. */
	if (atomic_load_explicit(&t->claimed, memory_order_relaxed) >= t->count)
		xgw_kdp_trace_set(dp->kdp, false);
}
