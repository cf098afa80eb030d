/* SPDX-License-Identifier: BSD-3-Clause */
#define XGW_LOG_COMP "netlink"
#include "pipeline/netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

/* Receive buffer of the event socket. */
#define EVENTS_RCVBUF (64 << 20)

static int grow(void **arr, unsigned *cap, unsigned n, size_t elem)
{
	void *p;
	unsigned nc;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 32;
	p = realloc(*arr, nc * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = nc;
	return 0;
}

static void addr_from_attr(struct xgw_addr *a, int family, const struct nlattr *at)
{
	if (family == AF_INET && mnl_attr_get_payload_len(at) >= 4) {
		uint32_t v;
		memcpy(&v, mnl_attr_get_payload(at), 4);
		xgw_addr_v4(a, v);
	} else if (family == AF_INET6 && mnl_attr_get_payload_len(at) >= 16) {
		xgw_addr_v6(a, mnl_attr_get_payload(at));
	}
}

/* RTA_VIA: a next hop of another family (an IPv4 route via IPv6). */
static void via_from_attr(struct xgw_addr *a, const struct nlattr *at)
{
	const struct rtvia *v = mnl_attr_get_payload(at);

	if (v->rtvia_family == AF_INET && mnl_attr_get_payload_len(at) >= sizeof(*v) + 4) {
		uint32_t x;
		memcpy(&x, v->rtvia_addr, 4);
		xgw_addr_v4(a, x);
	} else if (v->rtvia_family == AF_INET6 && mnl_attr_get_payload_len(at) >= sizeof(*v) + 16) {
		xgw_addr_v6(a, v->rtvia_addr);
	}
}

/* RTA_MULTIPATH: a struct rtnexthop per path, each followed by its own
 * attributes (the gateway).  Returns the number of paths read. */
static unsigned multipath(const struct nlattr *at, int family, struct xgw_path *paths)
{
	const struct rtnexthop *nh = mnl_attr_get_payload(at);
	int rem = (int)mnl_attr_get_payload_len(at);
	unsigned n = 0;

	while (rem >= (int)sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= rem) {
		if (n < XGW_FIB_MAX_PATHS) {
			struct xgw_path *p = &paths[n++];
			const struct nlattr *attr;
			const void *data = RTNH_DATA(nh);

			memset(p, 0, sizeof(*p));
			p->oif = nh->rtnh_ifindex;
			p->weight = (uint16_t)(nh->rtnh_hops + 1);
			p->port = XGW_PORT_NONE;
			mnl_attr_for_each_payload(data, nh->rtnh_len - RTNH_LENGTH(0))
			{
				if (mnl_attr_get_type(attr) == RTA_GATEWAY)
					addr_from_attr(&p->via, family, attr);
				else if (mnl_attr_get_type(attr) == RTA_VIA)
					via_from_attr(&p->via, attr);
			}
		}
		rem -= RTNH_ALIGN(nh->rtnh_len);
		nh = RTNH_NEXT(nh);
	}
	return n;
}

int xgw_nl_route_parse(const struct nlmsghdr *nlh, struct xgw_route *r, struct xgw_path *paths)
{
	const struct rtmsg *rm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *at;
	uint32_t table = rm->rtm_table;
	bool nh_object = false;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*rm)))
		return 0;
	if (rm->rtm_family != AF_INET && rm->rtm_family != AF_INET6)
		return 0;
	/* Unicast only (blackhole, unreachable, local... are the kernel's);
	 * IPv6 route-cache clones are no routes. */
	if (rm->rtm_type != RTN_UNICAST || rm->rtm_flags & RTM_F_CLONED)
		return 0;
	memset(r, 0, sizeof(*r));
	r->dst.addr.family = rm->rtm_family;
	r->dst.len = rm->rtm_dst_len;
	r->port = XGW_PORT_NONE;
	mnl_attr_for_each(at, nlh, sizeof(*rm)) {
		switch (mnl_attr_get_type(at)) {
		case RTA_TABLE:
			table = mnl_attr_get_u32(at);
			break;
		case RTA_DST:
			addr_from_attr(&r->dst.addr, rm->rtm_family, at);
			break;
		case RTA_GATEWAY:
			addr_from_attr(&r->via, rm->rtm_family, at);
			break;
		case RTA_VIA:
			via_from_attr(&r->via, at);
			break;
		case RTA_OIF:
			r->oif = (int)mnl_attr_get_u32(at);
			break;
		case RTA_PRIORITY:
			r->metric = mnl_attr_get_u32(at);
			break;
		case RTA_MULTIPATH:
			r->n_paths = (uint8_t)multipath(at, rm->rtm_family, paths);
			r->paths = paths;
			break;
		case RTA_NH_ID:
			nh_object = true;
			break;
		default:
			break;
		}
	}
	if (table != RT_TABLE_MAIN || nh_object)
		return 0; /* nexthop objects (`ip nexthop`): not followed */
	if (r->dst.len > xgw_addr_bits(&r->dst.addr))
		return 0;
	xgw_addr_mask(&r->dst.addr, r->dst.len);
	if (r->n_paths == 1) { /* one path given as a multipath list */
		r->via = paths[0].via;
		r->oif = paths[0].oif;
		r->n_paths = 0;
	}
	if (r->n_paths > 1)
		return 1;
	return r->oif ? 1 : 0;
}

struct route_dump {
	xgw_nl_route_fn fn;
	void *ctx;
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_dump *d = data;
	struct xgw_path paths[XGW_FIB_MAX_PATHS];
	struct xgw_route r;

	if (xgw_nl_route_parse(nlh, &r, paths))
		d->fn(d->ctx, true, &r);
	return MNL_CB_OK;
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct xgw_nl_tables *t = data;
	struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
	struct xgw_neigh n = {0};
	const struct nlattr *at;
	bool have_mac = false;

	if (nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6)
		return MNL_CB_OK;
	if (!(nd->ndm_state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
			       NUD_PERMANENT | NUD_NOARP)))
		return MNL_CB_OK;
	n.ifindex = nd->ndm_ifindex;
	mnl_attr_for_each(at, nlh, sizeof(*nd)) {
		switch (mnl_attr_get_type(at)) {
		case NDA_DST:
			addr_from_attr(&n.ip, nd->ndm_family, at);
			break;
		case NDA_LLADDR:
			if (mnl_attr_get_payload_len(at) == 6) {
				memcpy(n.mac, mnl_attr_get_payload(at), 6);
				have_mac = true;
			}
			break;
		default:
			break;
		}
	}
	if (!have_mac || !n.ip.family)
		return MNL_CB_OK;
	if (grow((void **)&t->neigh, &t->cap_neigh, t->n_neigh, sizeof(n)))
		return MNL_CB_ERROR;
	t->neigh[t->n_neigh++] = n;
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct xgw_nl_tables *t = data;
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct xgw_nl_ifaddr a = {.ifindex = (int)ifa->ifa_index};
	const struct nlattr *at;

	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	if (ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return MNL_CB_OK; /* link-local and host addresses are no source */
	mnl_attr_for_each(at, nlh, sizeof(*ifa)) {
		int type = mnl_attr_get_type(at);
		if (type == IFA_LOCAL || (type == IFA_ADDRESS && !a.addr.family))
			addr_from_attr(&a.addr, ifa->ifa_family, at);
	}
	if (!a.addr.family)
		return MNL_CB_OK;
	if (grow((void **)&t->addrs, &t->cap_addrs, t->n_addrs, sizeof(a)))
		return MNL_CB_ERROR;
	t->addrs[t->n_addrs++] = a;
	return MNL_CB_OK;
}

/* Dumps come in as many messages as fit the buffer the first read offers
 * (up to 32 KiB): a larger one means fewer system calls for a full table. */
#define DUMP_BUF 32768

static int dump(struct mnl_socket *nl, int type, size_t hdrlen, mnl_cb_t cb, void *data)
{
	static __thread char buf[DUMP_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned seq = (unsigned)time(NULL), portid = mnl_socket_get_portid(nl);
	struct rtgenmsg *g;
	ssize_t n;
	int ret;

	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, hdrlen);
	g->rtgen_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (ret <= MNL_CB_STOP)
			return ret < 0 ? -errno : 0;
	}
	return n < 0 ? -errno : 0;
}

int xgw_nl_dump(struct xgw_nl_tables *t)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	int err;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	err = dump(nl, RTM_GETNEIGH, sizeof(struct ndmsg), neigh_cb, t);
	if (!err)
		err = dump(nl, RTM_GETADDR, sizeof(struct ifaddrmsg), addr_cb, t);
out:
	mnl_socket_close(nl);
	return err;
}

int xgw_nl_dump_routes(xgw_nl_route_fn fn, void *ctx)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct route_dump d = {fn, ctx};
	int err;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		err = -errno;
	else
		err = dump(nl, RTM_GETROUTE, sizeof(struct rtmsg), route_cb, &d);
	mnl_socket_close(nl);
	return err;
}

void xgw_nl_tables_free(struct xgw_nl_tables *t)
{
	free(t->neigh);
	free(t->addrs);
	memset(t, 0, sizeof(*t));
}

int xgw_nl_resolve(int ifindex, const struct xgw_addr *ip)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct nlmsghdr *nlh;
	struct ndmsg *nd;
	int err = 0;

	if (!nl)
		return -errno;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK;
	nlh->nlmsg_seq = (unsigned)time(NULL);
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = ip->family;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = NUD_NONE;
	/* NTF_USE: "use" the entry, which starts resolution (neigh_event_send)
	 * without inventing a link-layer address. */
	nd->ndm_flags = NTF_USE;
	mnl_attr_put(nlh, NDA_DST, ip->family == AF_INET ? 4 : 16, ip->b);
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		err = -errno;
	else if (mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, mnl_socket_get_portid(nl), NULL,
			    NULL) < 0)
		err = -errno;
out:
	mnl_socket_close(nl);
	return err;
}

struct mnl_socket *xgw_nl_events_open(void)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	unsigned groups = RTMGRP_NEIGH | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE |
			  RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_LINK;
	int rcvbuf = EVENTS_RCVBUF;

	if (!nl)
		return NULL;
	/* Room for a burst of route changes (a BGP session's full table
	 * arriving): an overflow costs a full resynchronisation.  FORCE
	 * passes rmem_max as root; the plain option is the fallback. */
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

int xgw_nl_events_fd(struct mnl_socket *nl)
{
	return mnl_socket_get_fd(nl);
}

int xgw_nl_events_drain(struct mnl_socket *nl, unsigned max, xgw_nl_route_fn fn, void *ctx,
			bool *other)
{
	static __thread char buf[DUMP_BUF];
	struct xgw_path paths[XGW_FIB_MAX_PATHS];
	bool lost = false;
	unsigned seen = 0;
	ssize_t n;

	while (seen < max && ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0 ||
			      (n < 0 && errno == ENOBUFS))) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0) { /* the kernel dropped messages: keep reading */
			lost = true;
			continue;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			struct xgw_route r;

			seen++;
			if (nlh->nlmsg_type == RTM_NEWROUTE || nlh->nlmsg_type == RTM_DELROUTE) {
				if (xgw_nl_route_parse(nlh, &r, paths))
					fn(ctx, nlh->nlmsg_type == RTM_NEWROUTE, &r);
			} else {
				*other = true; /* neighbours, addresses, links */
			}
		}
	}
	return lost ? -ENOBUFS : (int)seen;
}

void xgw_nl_events_close(struct mnl_socket *nl)
{
	if (nl)
		mnl_socket_close(nl);
}
