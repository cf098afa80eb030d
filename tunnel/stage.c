/* SPDX-License-Identifier: BSD-3-Clause */
#include "tunnel/stage.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/drop.h"
#include "common/stat.h"
#include "common/hash.h"
#include "pipeline/forward.h"

int xgw_tun_decap_stage(struct xgw_worker *w, const struct xgw_tun_table *t, struct xgw_pkt *p)
{
	uint8_t type = xgw_tun_is_ours(t, p);
	int rc;

	if (type == XGW_TUNK_NONE)
		return 0;
	/* xgw does not reassemble: a fragmented tunnel packet is refused,
	 * not routed to our own address.  (Later fragments carry no port:
	 * they are not steered here.) */
	if (p->flags & XGW_PKT_FRAG)
		return XGW_DROP_FRAGMENT;
	rc = xgw_tun_decap(t, p, type);
	if (rc)
		return rc;
	if (type == XGW_TUNK_VXLAN)
		XGW_STAT_ADD(w->st.vxlan_decapsulated, 1);
	else
		XGW_STAT_ADD(w->st.geneve_decapsulated, 1);
	/* The inner packet from here on; one level only: a tunnel packet to
	 * us inside a tunnel packet is refused (routing it would send it to
	 * our own address); other inner tunnel traffic is routed as it is. */
	rc = xgw_parse(p);
	if (!rc)
		rc = xgw_ip4_verify(p);
	if (!rc && xgw_tun_is_ours(t, p) != XGW_TUNK_NONE)
		rc = XGW_DROP_TUNNEL_NESTED;
	return rc;
}

__attribute__((noinline)) static int ep_miss(struct xgw_worker *w, const struct xgw_fwd_state *fs,
					     const struct xgw_tun_ep *ep, struct xgw_tun_ep_nh *e)
{
	const struct xgw_port *port;
	const uint8_t *mac;
	uint64_t gen;
	uint16_t out;
	int rc;

	if (!fs || !fs->fib)
		return XGW_DROP_NO_ROUTE;
	/* Before the lookup, as in the route cache (pipeline/forward.c). */
	gen = xgw_fib_generation(fs->fib);
	rc = xgw_route_lookup(w, fs, &ep->remote, &out, &mac);
	if (rc)
		return rc;
	port = &w->dp->ports[out];
	e->gen = gen;
	e->remote = ep->remote.w[0];
	e->out = out;
	uint32_t mtu = xgw_port_mtu(port);
	e->room = (uint16_t)(mtu > XGW_TUN_OVERHEAD ? mtu - XGW_TUN_OVERHEAD : 0);
	memcpy(e->mac, mac, 6);
	memcpy(e->smac, port->mac, 6);
	return 0;
}

int xgw_tun_encap_stage(struct xgw_worker *w, const struct xgw_tun_table *t,
			const struct xgw_fwd_state *fs, struct xgw_pkt *p,
			const struct xgw_lb_flow *f)
{
	/* The packet as the client sent it, for an ICMP error's quote. */
	const struct xgw_ct_tuple *arrived = xgw_lb_flow_valid(f) ? &f->key : NULL;
	const struct xgw_tun_enc_slot *s;
	const struct xgw_tun_ep *ep;
	struct xgw_tun_ep_nh *e;
	uint64_t hash;

	/* No ports, no backend (the LB stage refused later fragments to a
	 * VIP); a first fragment is encapsulated like any packet. */
	if ((p->flags & (XGW_PKT_L4 | XGW_PKT_FRAG_LATER)) != XGW_PKT_L4)
		return xgw_forward(w, fs, p, arrived);
	s = xgw_tun_lookup_pkt(t, p);
	if (!s)
		return xgw_forward(w, fs, p, arrived);
	ep = &t->eps[s->ep];
	e = &w->tun.ep_cache[s->ep & ((1u << XGW_TUN_EP_CACHE_BITS) - 1)];
	if (!fs || !fs->fib || e->gen != xgw_fib_generation(fs->fib) ||
	    e->remote != ep->remote.w[0]) {
		int rc = ep_miss(w, fs, ep, e);
		if (rc)
			return rc;
	}
	if (p->l3_len > e->room)
		/* Too big once encapsulated: the error to the client quotes
		 * what it sent (forward.h). */
		return xgw_too_big(w, fs, p, e->room, arrived);
	if ((uint32_t)p->headroom + p->l3_off < XGW_TUN_TMPL_LEN)
		return XGW_DROP_TUNNEL_HEADROOM;
	if (xgw_lb_flow_valid(f)) {
		hash = f->hash;
	} else {
		/* Not a conntrack flow (ICMP): any stable hash of the pair. */
		hash = xgw_hash_fmix64((uint64_t)p->sport << 16 ^ p->dport);
	}
	xgw_tun_encap(p, ep, hash, e->mac, e->smac);
	p->out_port = e->out;
	if (ep->type == XGW_TUNK_VXLAN)
		XGW_STAT_ADD(w->st.vxlan_encapsulated, 1);
	else
		XGW_STAT_ADD(w->st.geneve_encapsulated, 1);
	return 0;
}
