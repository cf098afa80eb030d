/* SPDX-License-Identifier: BSD-3-Clause */
/* VIP announcement through an existing BGP speaker: xgw speaks no BGP.  It
 * keeps one blackhole route per served VIP in a dedicated kernel routing
 * table (config "announce": {"table": N}), marked with its own route
 * protocol number; the speaker (BIRD's kernel protocol with `learn`, see
 * examples/bird.conf) exports exactly that table.  The routes in that
 * table carry no traffic: forwarding uses the main table. */
#define XGW_LOG_COMP "announce"
#include "pipeline/announce.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

struct xgw_announce {
	struct mnl_socket *nl;
	pthread_mutex_t lock; /* the ctl thread syncs, the main thread withdraws */
	uint32_t table;
	uint32_t seq;
	bool withdrawn; /* drain or stop: never announce again */
	struct xgw_addr *cur;
	unsigned n_cur;
};

static int addr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xgw_addr));
}

/* One route message, acknowledged.  0, or -errno from the kernel. */
static int route_msg(struct xgw_announce *a, uint16_t type, uint16_t flags,
		     const struct xgw_addr *vip)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rm;
	uint32_t seq = ++a->seq, portid = mnl_socket_get_portid(a->nl);
	int ret;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = seq;
	rm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rm));
	rm->rtm_family = vip->family;
	rm->rtm_dst_len = vip->family == AF_INET ? 32 : 128;
	rm->rtm_table = RT_TABLE_UNSPEC;
	rm->rtm_protocol = XGW_ANNOUNCE_RTPROT;
	rm->rtm_scope = RT_SCOPE_UNIVERSE;
	rm->rtm_type = RTN_BLACKHOLE;
	mnl_attr_put_u32(nlh, RTA_TABLE, a->table);
	mnl_attr_put(nlh, RTA_DST, vip->family == AF_INET ? 4 : 16, vip->b);
	if (mnl_socket_sendto(a->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	ret = (int)mnl_socket_recvfrom(a->nl, buf, sizeof(buf));
	if (ret < 0)
		return -errno;
	ret = mnl_cb_run(buf, (size_t)ret, seq, portid, NULL, NULL);
	return ret < 0 ? -errno : 0;
}

struct stale {
	struct xgw_addr *v;
	unsigned n, cap;
	uint32_t table;
};

static int stale_cb(const struct nlmsghdr *nlh, void *data)
{
	struct stale *s = data;
	struct rtmsg *rm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *at;
	struct xgw_addr a = {0};
	uint32_t table = rm->rtm_table;

	if (rm->rtm_protocol != XGW_ANNOUNCE_RTPROT ||
	    (rm->rtm_family != AF_INET && rm->rtm_family != AF_INET6))
		return MNL_CB_OK;
	mnl_attr_for_each(at, nlh, sizeof(*rm))
	{
		if (mnl_attr_get_type(at) == RTA_TABLE)
			table = mnl_attr_get_u32(at);
		else if (mnl_attr_get_type(at) == RTA_DST &&
			 mnl_attr_get_payload_len(at) == (rm->rtm_family == AF_INET ? 4u : 16u)) {
			a.family = rm->rtm_family;
			memcpy(a.b, mnl_attr_get_payload(at), mnl_attr_get_payload_len(at));
		}
	}
	if (table != s->table || !a.family)
		return MNL_CB_OK;
	if (s->n == s->cap) {
		unsigned cap = s->cap ? s->cap * 2 : 16;
		struct xgw_addr *p = realloc(s->v, cap * sizeof(*p));

		if (!p)
			return MNL_CB_ERROR;
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n++] = a;
	return MNL_CB_OK;
}

/* Routes a previous xgwd left in the table (kill -9): removed, so that
 * what is announced is what this one serves. */
static void flush_stale(struct xgw_announce *a)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct stale s = {.table = a->table};
	int fams[] = {AF_INET, AF_INET6};

	for (unsigned f = 0; f < 2; f++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct rtmsg *rm;
		uint32_t seq = ++a->seq, portid = mnl_socket_get_portid(a->nl);
		int ret;

		nlh->nlmsg_type = RTM_GETROUTE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nlh->nlmsg_seq = seq;
		rm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rm));
		rm->rtm_family = (unsigned char)fams[f];
		if (mnl_socket_sendto(a->nl, nlh, nlh->nlmsg_len) < 0)
			continue;
		while ((ret = (int)mnl_socket_recvfrom(a->nl, buf, sizeof(buf))) > 0) {
			ret = mnl_cb_run(buf, (size_t)ret, seq, portid, stale_cb, &s);
			if (ret <= MNL_CB_STOP)
				break;
		}
	}
	for (unsigned i = 0; i < s.n; i++)
		route_msg(a, RTM_DELROUTE, 0, &s.v[i]);
	if (s.n)
		pr_info("table %u: removed %u stale announcement(s) of an earlier xgwd", a->table,
			s.n);
	free(s.v);
}

int xgw_announce_open(struct xgw_announce **out, uint32_t table)
{
	struct xgw_announce *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->table = table;
	a->seq = (uint32_t)time(NULL);
	pthread_mutex_init(&a->lock, NULL);
	a->nl = mnl_socket_open(NETLINK_ROUTE);
	if (!a->nl || mnl_socket_bind(a->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int ret = -errno;

		if (a->nl)
			mnl_socket_close(a->nl);
		free(a);
		return ret;
	}
	flush_stale(a);
	*out = a;
	return 0;
}

/* The VIPs a config announces: those of services with a backend that may
 * take new connections (weight > 0), sorted and distinct. */
static unsigned wanted(const struct xgw_config *cfg, struct xgw_addr *v)
{
	unsigned n = 0, k = 0;

	for (unsigned i = 0; i < cfg->n_services; i++) {
		const struct xgw_service_cfg *s = &cfg->services[i];

		for (unsigned j = 0; j < s->n_backends; j++) {
			if (s->backends[j].weight) {
				v[n++] = s->vip;
				break;
			}
		}
	}
	qsort(v, n, sizeof(*v), addr_cmp);
	for (unsigned i = 0; i < n; i++)
		if (!k || addr_cmp(&v[k - 1], &v[i]))
			v[k++] = v[i];
	return k;
}

int xgw_announce_sync(struct xgw_announce *a, const struct xgw_config *cfg)
{
	struct xgw_addr *want;
	unsigned n, i = 0, j = 0;
	int ret = 0;

	if (!a)
		return 0;
	want = calloc(cfg->n_services ? cfg->n_services : 1, sizeof(*want));
	if (!want)
		return -ENOMEM;
	pthread_mutex_lock(&a->lock);
	n = a->withdrawn ? 0 : wanted(cfg, want);
	/* Both lists sorted: one merge pass gives what to add and remove. */
	while (i < n || j < a->n_cur) {
		int c = i == n ? 1 : j == a->n_cur ? -1 : addr_cmp(&want[i], &a->cur[j]);
		char s[XGW_ADDR_STRLEN];
		int r;

		if (c == 0) {
			i++, j++;
			continue;
		}
		if (c < 0) {
			r = route_msg(a, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &want[i]);
			pr_info("announce %s (table %u)%s%s", xgw_addr_str(&want[i], s, sizeof(s)),
				a->table, r ? ": " : "", r ? strerror(-r) : "");
			i++;
		} else {
			r = route_msg(a, RTM_DELROUTE, 0, &a->cur[j]);
			if (r == -ESRCH)
				r = 0; /* someone removed it already */
			pr_info("withdraw %s (table %u)%s%s",
				xgw_addr_str(&a->cur[j], s, sizeof(s)), a->table, r ? ": " : "",
				r ? strerror(-r) : "");
			j++;
		}
		if (r && !ret)
			ret = r;
	}
	free(a->cur);
	a->cur = want;
	a->n_cur = n;
	pthread_mutex_unlock(&a->lock);
	return ret;
}

void xgw_announce_withdraw(struct xgw_announce *a)
{
	struct xgw_config none = {0};

	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->withdrawn = true;
	pthread_mutex_unlock(&a->lock);
	xgw_announce_sync(a, &none);
}

void xgw_announce_close(struct xgw_announce *a)
{
	if (!a)
		return;
	xgw_announce_withdraw(a);
	mnl_socket_close(a->nl);
	pthread_mutex_destroy(&a->lock);
	free(a->cur);
	free(a);
}
