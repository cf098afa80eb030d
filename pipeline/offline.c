/* SPDX-License-Identifier: BSD-3-Clause */
#include "pipeline/offline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu-qsbr.h>

#include "lb/conntrack.h"
#include "pipeline/dataplane.h"
#include "pipeline/snapshot.h"
#include "pipeline/worker.h"

_Static_assert(XGW_OFFLINE_MAX_PORTS == XGW_MAX_PORTS, "offline.h copy of XGW_MAX_PORTS");

struct xgw_offline {
	struct xgw_dataplane dp;
	struct xgw_worker *w; /* dp.workers[0] */
	uint32_t *tag;	      /* per UMEM frame: index of the input it carries */
	uint64_t now_ns;
	xgw_offline_tx_fn fn; /* of the run in progress */
	void *fn_arg;
};

int xgw_offline_ifaddr_parse(struct xgw_prefix *p, const char *s)
{
	memset(p, 0, sizeof(*p));
	return xgw_ifaddr_parse(p, s);
}

int xgw_offline_port_parse(struct xgw_offline_port *p, const char *s)
{
	char tmp[256];
	char *f[4] = {0};
	unsigned n = 0;

	memset(p, 0, sizeof(*p));
	if (snprintf(tmp, sizeof(tmp), "%s", s) >= (int)sizeof(tmp))
		return -EINVAL;
	/* By hand: strtok would merge empty fields, and an empty IPv4 is
	 * allowed ("name,mac,,2001:db8::1/64"). */
	for (char *c = tmp;;) {
		char *comma = strchr(c, ',');

		if (n == 4)
			return -EINVAL;
		f[n++] = c;
		if (!comma)
			break;
		*comma = '\0';
		c = comma + 1;
	}
	if (n < 3 || !f[0][0] || strlen(f[0]) >= sizeof(p->name))
		return -EINVAL;
	snprintf(p->name, sizeof(p->name), "%s", f[0]);
	if (xgw_mac_parse(p->mac, f[1]))
		return -EINVAL;
	if (f[2][0] && (xgw_offline_ifaddr_parse(&p->addr4, f[2]) || p->addr4.addr.family != AF_INET))
		return -EINVAL;
	if (n == 4 &&
	    (xgw_offline_ifaddr_parse(&p->addr6, f[3]) || p->addr6.addr.family != AF_INET6))
		return -EINVAL;
	return 0;
}

int xgw_offline_port_index(const struct xgw_offline *o, const char *name)
{
	for (unsigned i = 0; i < o->dp.n_ports; i++)
		if (!strcmp(o->dp.ports[i].name, name))
			return (int)i;
	return -1;
}

/* The worker's transmit, offline: hand each frame to the run's callback
 * and put it back on the free list at once (a NIC would complete it). */
static uint32_t tx_hook(struct xgw_worker *w, uint16_t port, struct xgw_pkt *pkts, uint32_t n)
{
	struct xgw_offline *o = w->hook_ctx;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t frame = pkts[i].addr >> w->umem.frame_shift;

		if (o->fn)
			o->fn(o->fn_arg, o->tag[frame], port, pkts[i].data, pkts[i].len);
		xgw_umem_free(&w->umem, pkts[i].addr);
	}
	return n;
}

/* xgw_umem_create's layout and free stack over plain memory. */
static int umem_init(struct xgw_umem *u, uint32_t n_frames, uint32_t frame_size)
{
	int rc = xgw_umem_layout(u, n_frames, frame_size);

	if (rc || n_frames < 2 * XGW_BURST_MAX)
		return rc ? rc : -EINVAL;
	u->numa_node = -1;
	u->area = aligned_alloc(4096, u->size);
	if (!u->area)
		return -ENOMEM;
	memset(u->area, 0, u->size);
	return xgw_umem_fill_free(u);
}

/* Routes: the connected subnet of every port address, then the config's
 * static routes (which override a connected route to the same prefix, as
 * in the daemon where static routes come last). */
static struct xgw_fwd_state *fwd_build(const struct xgw_dataplane *dp,
				       const struct xgw_offline_port *info,
				       const struct xgw_config *cfg)
{
	struct xgw_fwd_state *fs = calloc(1, sizeof(*fs));
	struct xgw_route *routes = calloc(2 * dp->n_ports + cfg->n_routes + 1, sizeof(*routes));
	struct xgw_neigh *neigh = calloc(cfg->n_neighbours + 1, sizeof(*neigh));
	unsigned nr = 0, nn = 0;

	if (!fs || !routes || !neigh)
		goto fail;
	for (unsigned p = 0; p < dp->n_ports; p++) {
		const struct xgw_prefix *a[2] = {&info[p].addr4, &info[p].addr6};

		fs->ifmap[p].ifindex = dp->ports[p].ifindex;
		fs->ifmap[p].port = (uint16_t)p;
		fs->port_addr4[p] = info[p].addr4.addr;
		fs->port_addr6[p] = info[p].addr6.addr;
		for (int k = 0; k < 2; k++) {
			if (!a[k]->addr.family)
				continue;
			routes[nr].dst = *a[k];
			xgw_addr_mask(&routes[nr].dst.addr, a[k]->len);
			routes[nr].oif = dp->ports[p].ifindex;
			routes[nr].port = (uint16_t)p;
			nr++;
		}
	}
	fs->port_of_ifindex_n = (uint16_t)dp->n_ports;
	nr += xgw_static_routes(dp, cfg, routes + nr);
	nn += xgw_static_neighbours(dp, cfg, neigh + nn);
	fs->fib = xgw_fib_build(routes, nr, neigh, nn);
	if (!fs->fib)
		goto fail;
	free(routes);
	free(neigh);
	return fs;
fail:
	free(fs);
	free(routes);
	free(neigh);
	return NULL;
}

static int ports_init(struct xgw_dataplane *dp, const struct xgw_config *cfg,
		      const struct xgw_offline_port *ports, unsigned n_ports,
		      struct xgw_offline_port *info, char *err, size_t errlen)
{
	if (cfg->n_ports > XGW_MAX_PORTS || !cfg->n_ports) {
		snprintf(err, errlen, "ports: between 1 and %d", XGW_MAX_PORTS);
		return -EINVAL;
	}
	for (unsigned i = 0; i < n_ports; i++) {
		bool found = false;
		for (unsigned p = 0; p < cfg->n_ports; p++)
			found |= !strcmp(ports[i].name, cfg->ports[p].name);
		if (!found) {
			snprintf(err, errlen, "port info \"%s\": no such port in the config",
				 ports[i].name);
			return -EINVAL;
		}
	}
	for (unsigned p = 0; p < cfg->n_ports; p++) {
		struct xgw_port *port = &dp->ports[p];
		const struct xgw_offline_port *pi = NULL;

		for (unsigned i = 0; i < n_ports; i++)
			if (!strcmp(ports[i].name, cfg->ports[p].name))
				pi = &ports[i];
		if (!pi) {
			snprintf(err, errlen,
				 "port \"%s\": no MAC/address given (--port or --port-info)",
				 cfg->ports[p].name);
			return -EINVAL;
		}
		info[p] = *pi;
		snprintf(port->name, sizeof(port->name), "%s", cfg->ports[p].name);
		snprintf(port->iface, sizeof(port->iface), "%s", cfg->ports[p].iface);
		memcpy(port->mac, pi->mac, 6);
		port->mtu = pi->mtu ? pi->mtu : 1500;
		port->ifindex = pi->ifindex ? pi->ifindex : 100 + (int)p;
		port->numa_node = -1;
	}
	dp->n_ports = cfg->n_ports;
	return 0;
}

struct xgw_offline *xgw_offline_open(const struct xgw_config *cfg,
				     const struct xgw_offline_port *ports, unsigned n_ports,
				     uint32_t n_frames, uint32_t hash_seed, char *err,
				     size_t errlen)
{
	struct xgw_offline_port info[XGW_MAX_PORTS];
	struct xgw_offline *o = calloc(1, sizeof(*o));
	struct xgw_dataplane *dp;
	struct xgw_worker *w;
	int rc;

	if (!o) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	dp = &o->dp;
	rcu_register_thread();
	rc = ports_init(dp, cfg, ports, n_ports, info, err, errlen);
	if (rc)
		goto fail;
	rc = -ENOMEM;
	if (posix_memalign((void **)&w, 64, sizeof(*w))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	memset(w, 0, sizeof(*w));
	dp->workers[0] = o->w = w;
	dp->n_workers = 1;
	w->dp = dp;
	xgw_lb_worker_init(&w->lb, hash_seed);
	w->tx_hook = tx_hook;
	w->hook_ctx = o;
	rc = umem_init(&w->umem, n_frames, cfg->umem.frame_size);
	o->tag = calloc(n_frames, sizeof(*o->tag));
	if (rc || !o->tag) {
		rc = rc ? rc : -ENOMEM;
		snprintf(err, errlen, "UMEM of %u x %u bytes: %s", n_frames, cfg->umem.frame_size,
			 strerror(-rc));
		goto fail;
	}
	dp->hash_seed = hash_seed;
	rc = xgw_dp_ct_open(dp, cfg, err, errlen);
	if (rc)
		goto fail;
	dp->snap = xgw_snapshot_build(cfg, 1, hash_seed, err, errlen);
	if (!dp->snap) {
		rc = -EINVAL;
		goto fail;
	}
	dp->fwd = fwd_build(dp, info, cfg);
	if (dp->fwd)
		dp->fib = dp->fwd->fib;
	if (!dp->fwd) {
		rc = -ENOMEM;
		snprintf(err, errlen, "cannot build the forwarding table");
		goto fail;
	}
	/* Any non-zero start: conntrack treats last_seen 0 as long ago. */
	o->now_ns = 1000000000ull;
	w->now_ns = o->now_ns;
	return o;
fail:
	xgw_offline_close(o);
	errno = -rc;
	return NULL;
}

void xgw_offline_close(struct xgw_offline *o)
{
	struct xgw_dataplane *dp;

	if (!o)
		return;
	dp = &o->dp;
	xgw_fwd_state_free(dp->fwd);
	xgw_fib_free(dp->fib);
	xgw_snapshot_free(dp->snap);
	if (dp->ct)
		xgw_ct_free(dp->ct); /* waits for its call_rcu callbacks */
	if (o->w) {
		free(o->w->umem.area);
		free(o->w->umem.free);
		free(o->w);
	}
	free(o->tag);
	free(o);
	rcu_unregister_thread();
}

unsigned xgw_offline_n_ports(const struct xgw_offline *o)
{
	return o->dp.n_ports;
}

const char *xgw_offline_port_name(const struct xgw_offline *o, unsigned port)
{
	return port < o->dp.n_ports ? o->dp.ports[port].name : "?";
}

const uint8_t *xgw_offline_port_mac(const struct xgw_offline *o, unsigned port)
{
	return o->dp.ports[port].mac;
}

struct xgw_worker *xgw_offline_worker(struct xgw_offline *o)
{
	return o->w;
}

void xgw_offline_counters(const struct xgw_offline *o, struct xgw_offline_counters *c)
{
	const struct xgw_worker_stats *st = &o->w->st;

	memcpy(c->drops, st->drops, sizeof(c->drops));
#define _(name, scope, help) c->name = st->name;
	XGW_FOREACH_WORKER_COUNTER(_)
#undef _
}

uint32_t xgw_offline_run(struct xgw_offline *o, const struct xgw_offline_frame *frames, uint32_t n,
			 unsigned burst, xgw_offline_tx_fn fn, void *arg)
{
	struct xgw_worker *w = o->w;
	struct xgw_umem *u = &w->umem;
	uint32_t room = u->frame_size - XGW_OFFLINE_HEADROOM, done = 0;
	struct xgw_pkt pkts[XGW_BURST_MAX];

	if (!burst || burst > XGW_BURST_MAX)
		burst = XGW_BURST_MAX;
	o->fn = fn;
	o->fn_arg = arg;
	for (uint32_t i = 0; i < n;) {
		uint32_t k = 0;

		if (frames[i].ts_ns > o->now_ns)
			o->now_ns = frames[i].ts_ns;
		w->now_ns = o->now_ns;
		for (; i < n && k < burst; i++) {
			const struct xgw_offline_frame *f = &frames[i];
			struct xgw_pkt *p = &pkts[k];
			uint64_t base;

			if (f->len > room || f->port >= o->dp.n_ports ||
			    !xgw_umem_alloc_bulk(u, &base, 1)) {
				w->st.drops[XGW_DROP_NO_FRAME]++;
				continue;
			}
			o->tag[base >> u->frame_shift] = i;
			memset(p, 0, sizeof(*p));
			p->addr = base + XGW_OFFLINE_HEADROOM;
			p->data = xgw_umem_ptr(u, p->addr);
			p->len = f->len;
			p->headroom = XGW_OFFLINE_HEADROOM;
			p->port = f->port;
			memcpy(p->data, f->data, f->len);
			k++;
			done++;
		}
		if (k) {
			w->st.bursts++;
			xgw_worker_process(w, pkts, k);
		}
		/* Between bursts, as the worker loop does: records unlinked
		 * by conntrack may be reclaimed. */
		rcu_quiescent_state();
	}
	o->fn = NULL;
	o->fn_arg = NULL;
	return done;
}
