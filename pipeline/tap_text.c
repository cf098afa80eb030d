/* SPDX-License-Identifier: BSD-3-Clause */
/* The trace's text: see tap_text.h. */
#include "pipeline/tap_text.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/hdr.h"

void tap_put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len + 1 >= t->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->b + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len = t->len + (size_t)n < t->cap ? t->len + (size_t)n : t->cap - 1;
}

void tap_view(struct view *v, const uint8_t *data, uint32_t n)
{
	uint32_t len = n < sizeof(v->buf) ? n : (uint32_t)sizeof(v->buf);

	memcpy(v->buf, data, len);
	memset(&v->p, 0, sizeof(v->p));
	v->p.data = v->buf;
	v->p.len = len;
	v->rc = xgw_parse(&v->p);
	memset(&v->src, 0, sizeof(v->src));
	memset(&v->dst, 0, sizeof(v->dst));
	if (!v->rc)
		xgw_pkt_addrs(&v->p, &v->src, &v->dst);
}

bool tap_has_ports(const struct view *v)
{
	return !v->rc && (v->p.flags & XGW_PKT_L4) && !(v->p.flags & XGW_PKT_FRAG) &&
	       (v->p.l4_proto == IPPROTO_TCP || v->p.l4_proto == IPPROTO_UDP);
}

void tap_put_ep(struct text *t, const struct xgw_addr *a, uint16_t port_be, bool ports)
{
	char s[XGW_ADDR_STRLEN];

	xgw_addr_str(a, s, sizeof(s));
	if (!ports)
		tap_put(t, "%s", s);
	else if (a->family == AF_INET6)
		tap_put(t, "[%s]:%u", s, ntohs(port_be));
	else
		tap_put(t, "%s:%u", s, ntohs(port_be));
}

void tap_put_flow(struct text *t, const struct view *v)
{
	bool ports = tap_has_ports(v);

	tap_put(t, "%s %s ", v->p.flags & XGW_PKT_IPV4 ? "ipv4" : "ipv6",
		xgw_proto_name(v->p.l4_proto));
	tap_put_ep(t, &v->src, v->p.sport, ports);
	tap_put(t, " -> ");
	tap_put_ep(t, &v->dst, v->p.dport, ports);
	if (v->p.l4_proto == IPPROTO_TCP && (v->p.flags & XGW_PKT_L4)) {
		static const char fl[] = "FSRPAUEC";
		uint8_t f = v->p.data[v->p.l4_off + XGW_TCP_FLAGS];

		tap_put(t, " [");
		for (int i = 0; i < 8; i++)
			if (f & (1u << i))
				tap_put(t, "%c", fl[i]);
		tap_put(t, "]");
	}
	if (v->p.flags & XGW_PKT_FRAG)
		tap_put(t, " fragment");
}

void tap_put_mac(struct text *t, const uint8_t *m)
{
	tap_put(t, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}
